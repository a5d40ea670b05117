/*
 * dios_buf.c - the slab of buffer records behind every dios_iovec_t * the
 * shim hands out.
 *
 * Records live in chunks of the shim's own memory (dios_meta.c; never malloc,
 * which is the DIOS heap and needs these records) and are never freed; released records go on
 * a FIFO free list, so a stale iov pointer is reused as late as possible and
 * keeps failing with -EFAULT meanwhile.  A pointer is only treated as a record
 * after checking that it lies inside one of our chunks at a record boundary,
 * so a garbage pointer gives -EFAULT, not a crash.
 *
 * Calls from many threads use it at once: alloc and free take
 * dios__book_lock (also taken around fork); lookup reads the chunk table,
 * which only grows, and a record's magic.
 */
#include "dios_internal.h"
#include "dios_heap.h"

#include <string.h>

#define DIOS_BUF_MAGIC      0x5246554253494f44ull   /* "DIOSBUFR" */
#define CHUNK_FIRST_RECS    1024u                   /* 64 KiB */
#define CHUNK_MAX_SHIFT     8                       /* chunks grow to 256x the first (16 MiB) */
#define MAX_CHUNKS          64

_Static_assert(sizeof(struct dios_bufrec) == 64, "a buffer record is one cache line");
_Static_assert(offsetof(struct dios_bufrec, iov) == 0, "iov is the first member");

struct chunk {
	struct dios_bufrec *base;
	size_t nrec;
};

static struct chunk chunks[MAX_CHUNKS];
static unsigned nchunks;
static struct dios_bufrec *free_head, *free_tail;

static void free_push(struct dios_bufrec *r)
{
	r->next_free = NULL;
	if (free_tail)
		free_tail->next_free = r;
	else
		free_head = r;
	free_tail = r;
}

/*
 * Records of the newest chunk below fresh_next have been handed out at least
 * once; the rest have never been touched.  A new chunk is not threaded onto
 * the free list (that would write every record, 16 pages of page faults for
 * the first buffer of a short-lived task): alloc takes never-used records
 * first, then released ones, so a stale pointer still waits as long as it can.
 */
static size_t fresh_next;

/* Under dios__book_lock. */
static int grow(void)
{
	if (nchunks == MAX_CHUNKS)
		return -ENOMEM;
	unsigned shift = nchunks < CHUNK_MAX_SHIFT ? nchunks : CHUNK_MAX_SHIFT;
	size_t nrec = (size_t)CHUNK_FIRST_RECS << shift;
	void *p = dios__meta_alloc(nrec * sizeof(struct dios_bufrec));
	if (!p)
		return -ENOMEM;
	chunks[nchunks].base = p;    /* zeroed: magic 0 = free */
	chunks[nchunks].nrec = nrec;
	fresh_next = 0;
	/* release: a lookup that sees the new count sees the chunk */
	__atomic_store_n(&nchunks, nchunks + 1, __ATOMIC_RELEASE);
	return 0;
}

/* Under dios__book_lock: a never-used record of the newest chunk, or NULL. */
static struct dios_bufrec *take_fresh(void)
{
	if (nchunks == 0 || fresh_next == chunks[nchunks - 1].nrec)
		return NULL;
	return &chunks[nchunks - 1].base[fresh_next++];
}

struct dios_bufrec *dios__buf_alloc(void)
{
	struct dios_bufrec *r = NULL;
	pthread_mutex_lock(&dios__book_lock);
	if (!(r = take_fresh()) && free_head) {
		r = free_head;
		free_head = r->next_free;
		if (!free_head)
			free_tail = NULL;
	}
	if (!r && grow() == 0)
		r = take_fresh();
	if (r) {
		memset(r, 0, sizeof *r);
		r->magic = DIOS_BUF_MAGIC;
	}
	pthread_mutex_unlock(&dios__book_lock);
	return r;
}

struct dios_bufrec *dios__buf_lookup(const dios_iovec_t *p)
{
	uintptr_t a = (uintptr_t)p;
	unsigned n = __atomic_load_n(&nchunks, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < n; i++) {
		uintptr_t lo = (uintptr_t)chunks[i].base;
		uintptr_t hi = lo + chunks[i].nrec * sizeof(struct dios_bufrec);
		if (a < lo || a >= hi)
			continue;
		if ((a - lo) % sizeof(struct dios_bufrec) != 0)
			return NULL;                  /* inside a record, not at its start */
		struct dios_bufrec *r = (struct dios_bufrec *)a;
		return r->magic == DIOS_BUF_MAGIC ? r : NULL;
	}
	return NULL;
}

void dios__buf_free(struct dios_bufrec *r)
{
	pthread_mutex_lock(&dios__book_lock);
	if (r->magic == DIOS_BUF_MAGIC) {
		r->magic = 0;
		r->iov.buf = NULL;
		r->iov.len = 0;
		free_push(r);
	}
	pthread_mutex_unlock(&dios__book_lock);
}

/* fork child (dios__book_lock is held by the prepare handler): all records free. */
void dios__buf_forget(void)
{
	free_head = free_tail = NULL;
	for (unsigned c = 0; c < nchunks; c++)
		for (size_t i = 0; i < (c + 1 == nchunks ? fresh_next : chunks[c].nrec); i++) {
			chunks[c].base[i].magic = 0;
			free_push(&chunks[c].base[i]);
		}
}
