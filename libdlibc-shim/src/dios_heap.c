/*
 * dios_heap.c - malloc and friends on DIOS private memory (seed section 3.2).
 *
 * Where the memory comes from:
 *   pool chunks   PRIVMEM objects of DIOS_HEAP_CHUNK_BYTES (4 MiB), created
 *                 with dios_create and mapped with dios_acquire_write.  A
 *                 chunk is cut into 4 KiB pages: runs of pages become slabs
 *                 of one size class (requests up to 32 KiB) or medium spans
 *                 (32 KiB to DIOS_HEAP_MMAP_THRESHOLD, 256 KiB, page-granular).
 *   large objects a request above the threshold gets a PRIVMEM object of its
 *                 own (dlmalloc's mmap threshold, seed fig. 4.5).  Up to four
 *                 freed ones (64 MiB in all) are kept for reuse.
 *   the bootstrap a static arena for allocations made from inside the heap's
 *                 own DIOS calls (the shim never allocates, but the C library
 *                 might while the heap connects), so they never recurse.
 *
 * Finding what an address belongs to (free, realloc, malloc_usable_size) is
 * a page map: a three-level radix tree over the 47-bit address space, keyed
 * by page number, O(1).  Its entries name a slab (every page of it), a
 * medium span's chunk (its first page), a large object (the page of the
 * pointer handed out) or a free chunk page.  The seed used a sorted list,
 * O(n), and named a balanced tree as the fix; a radix tree is O(1) and its
 * lookups need no lock: an entry changes only while no live object uses its
 * page, and interior nodes are never freed.
 *
 * Threads: each thread has a cache of freed small objects per size class
 * (no lock, no daemon call); it fills and empties in batches from the arena,
 * which one mutex protects.  New chunks are made under a second mutex
 * (grow), with the arena unlocked, so the DIOS calls never hold up
 * allocations that pool memory can serve.  Lock order: grow, arena, then
 * the shim's locks (a DIOS call), then meta.  No DIOS call is made with the
 * arena locked.
 *
 * Every size in this file is checked for overflow before it is rounded.
 */
#include "dios_internal.h"
#include "dios_heap.h"

#include <fcntl.h>
#include <signal.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE            4096u
#define PAGE_SHIFT      12
#define CHUNK_BYTES     DIOS_HEAP_CHUNK_BYTES
#define CHUNK_PAGES     (CHUNK_BYTES / PAGE)
#define SMALL_MAX       (32u << 10)
#define MEDIUM_MAX      DIOS_HEAP_MMAP_THRESHOLD
#define NCLASS          40
#define LARGE_CACHE_N   4
#define LARGE_CACHE_MAX (64ull << 20)

_Static_assert(CHUNK_PAGES % 64 == 0, "chunk pages fill whole bitmap words");
_Static_assert(MEDIUM_MAX % PAGE == 0 && MEDIUM_MAX / PAGE <= CHUNK_PAGES, "a medium span fits a chunk");

/* ---- page map ----------------------------------------------------------------- */

#define PM_L1_BITS 12
#define PM_L2_BITS 12
#define PM_L3_BITS 11
#define PM_BITS    (PM_L1_BITS + PM_L2_BITS + PM_L3_BITS)   /* 35 bits of page number: 47-bit addresses */

enum { PM_FREE = 1, PM_SLAB = 2, PM_SPAN = 3, PM_LARGE = 4, PM_TAG = 7 };

typedef uintptr_t pm_entry;
static pm_entry **pm_root[1u << PM_L1_BITS];

static inline pm_entry pm_get(const void *p)
{
	uintptr_t pg = (uintptr_t)p >> PAGE_SHIFT;
	if (pg >> PM_BITS)
		return 0;
	/* acquire: a node's contents are published before the pointer to it */
	pm_entry **l2 = __atomic_load_n(&pm_root[pg >> (PM_L2_BITS + PM_L3_BITS)], __ATOMIC_ACQUIRE);
	if (!l2)
		return 0;
	pm_entry *leaf = __atomic_load_n(&l2[(pg >> PM_L3_BITS) & ((1u << PM_L2_BITS) - 1)], __ATOMIC_ACQUIRE);
	if (!leaf)
		return 0;
	return __atomic_load_n(&leaf[pg & ((1u << PM_L3_BITS) - 1)], __ATOMIC_RELAXED);
}

/* Under the arena lock.  0, or -ENOMEM (no memory for a node, or beyond 47 bits). */
static int pm_set(const void *p, pm_entry e)
{
	uintptr_t pg = (uintptr_t)p >> PAGE_SHIFT;
	if (pg >> PM_BITS)
		return -ENOMEM;
	pm_entry ***r = &pm_root[pg >> (PM_L2_BITS + PM_L3_BITS)];
	if (!*r) {
		pm_entry **n = dios__meta_alloc(sizeof(pm_entry *) << PM_L2_BITS);
		if (!n)
			return -ENOMEM;
		/* release: the zeroed node before the pointer to it */
		__atomic_store_n(r, n, __ATOMIC_RELEASE);
	}
	pm_entry **l = &(*r)[(pg >> PM_L3_BITS) & ((1u << PM_L2_BITS) - 1)];
	if (!*l) {
		pm_entry *n = dios__meta_alloc(sizeof(pm_entry) << PM_L3_BITS);
		if (!n)
			return -ENOMEM;
		/* release: as above */
		__atomic_store_n(l, n, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&(*l)[pg & ((1u << PM_L3_BITS) - 1)], e, __ATOMIC_RELAXED);
	return 0;
}

/* ---- descriptors (in the shim's own memory, dios_meta.c) ---------------------- */

struct chunk;

struct slab {
	char *base;
	struct chunk *chunk;
	void *free;                     /* freed objects, linked through their first word */
	uint64_t div;                   /* ceil(2^40 / size): object index without a division */
	uint32_t size;                  /* object size (the class's) */
	uint32_t nobj;
	uint32_t nfree;                 /* objects on the free list plus those never handed out */
	uint32_t bump;                  /* objects [bump, nobj) were never handed out */
	uint16_t cls, pages;
	uint32_t listed;                /* on its class's list of slabs with free objects */
	struct slab *prev, *next;
};

enum { CHUNK_PRIVATE = 1 };             /* a fork child's copy: ordinary private memory, no DIOS object */
#define SPAN_MAPPED 0x8000u             /* chunk->span[]: the span serves an anonymous mmap */

struct chunk {
	char *base;
	dios_ref_t *ref;
	dios_iovec_t *iov;
	uint64_t used[CHUNK_PAGES / 64];
	uint32_t free_pages;
	uint32_t flags;
	struct chunk *prev, *next;
	uint16_t span[CHUNK_PAGES];     /* at a medium span's first page: its page count (| SPAN_MAPPED) */
};

enum { LARGE_PRIVATE = 1, LARGE_MAPPED = 2 };

struct large {
	char *user;                     /* the pointer handed out */
	char *base;                     /* the object's mapping */
	uint64_t size;                  /* the object's size */
	dios_ref_t *ref;
	dios_iovec_t *iov;
	uint64_t maplen;                /* LARGE_MAPPED: the length mmap asked for (a kept object may be larger) */
	uint32_t flags;
	uint32_t pad;
	struct large *next;             /* in the cache of freed objects */
};

/* ---- size classes ------------------------------------------------------------ */

static uint32_t cls_size[NCLASS];
static uint16_t cls_pages[NCLASS];      /* pages per slab */
static uint16_t cls_tmax[NCLASS];       /* thread cache: most objects kept */
static uint8_t small_cls[(1024 >> 4) + 1];   /* (n + 15) >> 4 -> class, n <= 1 KiB */

/* Class of a request of 1..SMALL_MAX bytes: 16-byte steps to 128, then four per power of two. */
static inline unsigned size_class(size_t n)
{
	if (n <= 1024)
		return small_cls[(n + 15) >> 4];
	unsigned lg = 63u - (unsigned)__builtin_clzll((unsigned long long)(n - 1));   /* 2^lg < n <= 2^(lg+1) */
	return 8 + (lg - 7) * 4 + (unsigned)(((n - 1) >> (lg - 2)) & 3);
}

static void classes_init(void)
{
	unsigned c = 0;
	for (uint32_t s = 16; s <= 128; s += 16)
		cls_size[c++] = s;
	for (uint32_t base = 128; c < NCLASS; base *= 2)
		for (uint32_t k = 1; k <= 4 && c < NCLASS; k++)
			cls_size[c++] = base + k * (base / 4);
	for (c = 0; c < NCLASS; c++) {
		uint32_t s = cls_size[c];
		/* the slab of 16..64 pages that wastes the smallest share, at least 4 objects */
		uint32_t best = 0;
		double best_waste = 2;
		for (uint32_t p = 16; p <= 64; p++) {
			uint32_t bytes = p * PAGE;
			if (bytes / s < 4)
				continue;
			double w = (double)(bytes % s) / bytes;
			if (w < best_waste - 1e-9) {
				best_waste = w;
				best = p;
			}
		}
		cls_pages[c] = (uint16_t)best;
		uint32_t m = (64u << 10) / s;
		cls_tmax[c] = (uint16_t)(m > 64 ? 64 : m < 8 ? 8 : m);
	}
	for (unsigned i = 0; i <= (1024 >> 4); i++) {
		size_t n = i ? (size_t)i << 4 : 1;
		unsigned k = 0;
		while (cls_size[k] < n)
			k++;
		small_cls[i] = (uint8_t)k;
	}
}

/* ---- state --------------------------------------------------------------------- */

struct tbin {
	void *head;
	uint32_t count;
	uint32_t pad;
};

struct tcache {
	struct tbin bin[NCLASS];
	struct tcache *prev, *next;     /* every thread's cache (fork flushes the others') */
};

static struct {
	pthread_mutex_t lock;           /* everything below */
	pthread_mutex_t grow;           /* one thread at a time makes a chunk */
	struct slab *avail[NCLASS];     /* slabs with free objects */
	struct slab *empty[NCLASS];     /* one wholly free slab kept per class (also on avail) */
	struct chunk *chunks;
	uint32_t free_chunks;           /* wholly free chunks (one is kept) */
	struct large *cache;            /* freed large objects kept for reuse, newest first */
	uint32_t ncache;
	uint64_t cache_bytes;
	struct tcache *tcaches;
	dios_heap_stats_t st;           /* objects, bytes_held, chunks, large, cached, daemon_calls, failures */
} H = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.grow = PTHREAD_MUTEX_INITIALIZER,
};

int dios__heap_mode;                    /* DIOS_HEAP_MODE_*: chosen once by dios__heap_start */
int dios__heap_locked;                  /* the Pure DIOS lock is installed (dios_malloc.c) */

static pthread_key_t tc_key;
static uint64_t tc_secret;              /* marks objects in a thread cache (double-free check) */

#define TLS __attribute__((tls_model("initial-exec")))
static __thread struct tcache *tc_self TLS;
static __thread uint8_t tc_state TLS;  /* TC_NONE, TC_MAKING, TC_LIVE, TC_DEAD (thread exiting) */
static __thread uint8_t in_call TLS;   /* this thread is inside the heap's own DIOS call */
enum { TC_NONE = 0, TC_MAKING = 1, TC_LIVE = 2, TC_DEAD = 3 };

static inline int likely_(int x) { return __builtin_expect(x, 1); }
static inline int unlikely_(int x) { return __builtin_expect(x, 0); }

static void lock(void)   { pthread_mutex_lock(&H.lock); }
static void unlock(void) { pthread_mutex_unlock(&H.lock); }

/* Bad pointer given to free/realloc: like glibc, say so and abort. */
__attribute__((noreturn, cold)) static void corrupt(const char *what, const void *p)
{
	char buf[160];
	int n = snprintf(buf, sizeof buf, "libdlibc heap: %s (%p)\n", what, p);
	if (n > 0) {
		ssize_t w = write(STDERR_FILENO, buf, (size_t)(n < (int)sizeof buf ? n : (int)sizeof buf - 1));
		(void)w;
	}
	abort();
}

/* ---- the bootstrap arena --------------------------------------------------------- */

#define BOOT_BYTES (256u << 10)
static char boot[BOOT_BYTES] __attribute__((aligned(64)));
static size_t boot_top;                 /* atomic */

struct boot_hdr { uint64_t size; uint64_t magic; };
#define BOOT_MAGIC 0x544f4f4250414548ull   /* "HEAPBOOT" */

static inline int in_boot(const void *p)
{
	return (const char *)p >= boot && (const char *)p < boot + BOOT_BYTES;
}

static void *boot_alloc(size_t n, size_t align)
{
	if (align < 16)
		align = 16;
	if (n > BOOT_BYTES || align > 4096)
		return NULL;
	size_t top = __atomic_load_n(&boot_top, __ATOMIC_RELAXED);
	for (;;) {
		size_t at = (top + sizeof(struct boot_hdr) + align - 1) & ~(align - 1);
		size_t end = at + ((n + 15) & ~(size_t)15);
		if (end > BOOT_BYTES)
			return NULL;
		if (__atomic_compare_exchange_n(&boot_top, &top, end, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
			struct boot_hdr *h = (struct boot_hdr *)(boot + at) - 1;
			h->size = n;
			h->magic = BOOT_MAGIC;
			return boot + at;
		}
	}
}

static size_t boot_size(const void *p)
{
	const struct boot_hdr *h = (const struct boot_hdr *)p - 1;
	if ((uintptr_t)p % 16 || (const char *)h < boot || h->magic != BOOT_MAGIC)
		corrupt("free(): not a block of the bootstrap arena", p);
	return h->size;
}

/* ---- DIOS objects ------------------------------------------------------------------ */

static void count_calls(uint64_t n)
{
	__atomic_fetch_add(&H.st.daemon_calls, n, __ATOMIC_RELAXED);
}

static int obj_get_once(uint64_t size, dios_ref_t **ref, dios_iovec_t **iov);
static int drop_kept(void);

/*
 * A PRIVMEM object of size bytes, mapped writable.  No lock held.  0 or
 * -errno.  When the daemon refuses (the task's memory, reference or buffer
 * limit), the freed large objects the heap keeps are given back and the
 * request tried once more.
 */
static int obj_get(uint64_t size, dios_ref_t **ref, dios_iovec_t **iov)
{
	int rc = obj_get_once(size, ref, iov);
	if (rc == -ENOMEM && drop_kept())
		rc = obj_get_once(size, ref, iov);
	return rc;
}

static int obj_get_once(uint64_t size, dios_ref_t **ref, dios_iovec_t **iov)
{
	in_call++;
	int rc = dios_create(0, D_OBJ_PRIVMEM, &size, NULL, ref, 0);
	count_calls(1);
	if (rc == 0) {
		rc = dios_acquire_write(0, *ref, 0, iov);
		count_calls(1);
		if (rc == 0 && ((uintptr_t)(*iov)->buf % PAGE || (*iov)->len != size))
			rc = -EPROTO;
		if (rc != 0) {
			dios_delete(0, *ref);
			count_calls(1);
		}
	}
	in_call--;
	if (rc != 0)
		__atomic_fetch_add(&H.st.failures, 1, __ATOMIC_RELAXED);
	return rc;
}

/* Give an object back: release its buffer and delete it, one round trip. */
static void obj_put(dios_ref_t *ref, dios_iovec_t *iov)
{
	dios_call_t c[2];
	memset(c, 0, sizeof c);
	c[0].opcode = D_OP_RELEASE_WRITE;
	c[0].ref = ref;
	c[0].iov = iov;
	c[1].opcode = D_OP_DELETE;
	c[1].ref = ref;
	in_call++;
	dios_batch(c, 2);
	in_call--;
	count_calls(2);
}

/* ---- chunks and pages (under the arena lock) ---------------------------------------- */

static inline int page_used(const struct chunk *c, unsigned i)
{
	return (c->used[i / 64] >> (i % 64)) & 1;
}

static void pages_mark(struct chunk *c, unsigned first, unsigned n, int used)
{
	for (unsigned i = first; i < first + n; i++) {
		if (used)
			c->used[i / 64] |= 1ull << (i % 64);
		else
			c->used[i / 64] &= ~(1ull << (i % 64));
	}
	if (used) {
		if (c->free_pages == CHUNK_PAGES)
			H.free_chunks--;
		c->free_pages -= n;
	} else {
		c->free_pages += n;
		if (c->free_pages == CHUNK_PAGES)
			H.free_chunks++;
	}
}

/* The first page at or after i that is free (want_used 0) or used (1); CHUNK_PAGES if none. */
static unsigned page_scan(const struct chunk *c, unsigned i, int want_used)
{
	while (i < CHUNK_PAGES) {
		uint64_t w = c->used[i / 64];
		if (!want_used)
			w = ~w;
		w &= ~0ull << (i % 64);         /* the pages before i in this word do not count */
		if (w)
			return (i & ~63u) + (unsigned)__builtin_ctzll(w);
		i = (i & ~63u) + 64;
	}
	return CHUNK_PAGES;
}

/* First run of n free pages in c whose address is a multiple of align_pages pages; -1 if none. */
static int pages_find(const struct chunk *c, unsigned n, unsigned align_pages)
{
	if (c->free_pages < n)
		return -1;
	uintptr_t pg0 = (uintptr_t)c->base >> PAGE_SHIFT;
	unsigned i = 0;
	for (;;) {
		i = page_scan(c, i, 0);                 /* a free page */
		if (align_pages > 1)
			i += (unsigned)((align_pages - (pg0 + i) % align_pages) % align_pages);
		if (i + n > CHUNK_PAGES)
			return -1;
		unsigned u = page_scan(c, i, 1);        /* where the free run ends */
		if (u >= i + n)
			return (int)i;
		i = u + 1;
	}
}

/* Set the page map for pages [first, first+n) of c to "free page of c". */
static void pm_free_pages(struct chunk *c, unsigned first, unsigned n)
{
	for (unsigned i = first; i < first + n; i++)
		pm_set(c->base + (size_t)i * PAGE, (pm_entry)c | PM_FREE);   /* nodes exist: cannot fail */
}

/* Make a chunk; grow lock held, arena lock not held.  NULL on failure. */
static struct chunk *chunk_make(void)
{
	struct chunk *c = dios__meta_alloc(sizeof *c);
	if (!c)
		return NULL;
	dios_ref_t *ref;
	dios_iovec_t *iov;
	if (obj_get(CHUNK_BYTES, &ref, &iov) != 0) {
		dios__meta_free(c, sizeof *c);
		return NULL;
	}
	c->base = iov->buf;
	c->ref = ref;
	c->iov = iov;
	c->free_pages = CHUNK_PAGES;
	lock();
	int ok = 1;
	for (unsigned i = 0; i < CHUNK_PAGES && ok; i++)
		ok = pm_set(c->base + (size_t)i * PAGE, (pm_entry)c | PM_FREE) == 0;
	if (!ok) {
		for (unsigned i = 0; i < CHUNK_PAGES; i++)
			pm_set(c->base + (size_t)i * PAGE, 0);
		unlock();
		obj_put(ref, iov);
		dios__meta_free(c, sizeof *c);
		return NULL;
	}
	c->next = H.chunks;
	if (H.chunks)
		H.chunks->prev = c;
	H.chunks = c;
	H.free_chunks++;
	H.st.chunks++;
	H.st.objects++;
	H.st.bytes_held += CHUNK_BYTES;
	unlock();
	return c;
}

/* Unlink a wholly free chunk (arena locked); the caller gives it back (chunk_put) once unlocked. */
static struct chunk *chunk_unlink(struct chunk *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		H.chunks = c->next;
	if (c->next)
		c->next->prev = c->prev;
	H.free_chunks--;
	for (unsigned i = 0; i < CHUNK_PAGES; i++)
		pm_set(c->base + (size_t)i * PAGE, 0);
	H.st.chunks--;
	if (!(c->flags & CHUNK_PRIVATE)) {
		H.st.objects--;
		H.st.bytes_held -= CHUNK_BYTES;
	}
	return c;
}

/*
 * A chunk went wholly free.  A few such chunks are kept (two, or an eighth
 * of all), so a program that frees everything and allocates again does not
 * pay two DIOS calls a chunk each time; beyond that it is unlinked and
 * returned, for the caller to give back.  drop_kept gives back the kept ones
 * when the daemon refuses memory.
 */
static struct chunk *chunk_maybe_unlink(struct chunk *c)
{
	uint64_t keep = H.st.chunks / 8 > 2 ? H.st.chunks / 8 : 2;
	if (c->free_pages != CHUNK_PAGES || H.free_chunks <= keep)
		return NULL;
	return chunk_unlink(c);
}

/* No lock held. */
static void chunk_put(struct chunk *c)
{
	if (!c)
		return;
	if (c->flags & CHUNK_PRIVATE)
		munmap(c->base, CHUNK_BYTES);
	else
		obj_put(c->ref, c->iov);
	dios__meta_free(c, sizeof *c);
}

/*
 * n pages aligned to align_pages pages, marked used: returns the chunk and
 * sets *first.  Called and returns with the arena locked, but may unlock it
 * meanwhile to make a chunk.  NULL when no chunk could be made.
 */
static struct chunk *pages_get(unsigned n, unsigned align_pages, unsigned *first)
{
	for (int made = 0;; made = 1) {
		for (struct chunk *c = H.chunks; c; c = c->next) {
			int i = pages_find(c, n, align_pages);
			if (i >= 0) {
				pages_mark(c, (unsigned)i, n, 1);
				*first = (unsigned)i;
				return c;
			}
		}
		if (made)
			return NULL;            /* a fresh chunk did not fit it: cannot happen for n <= CHUNK_PAGES */
		unlock();
		pthread_mutex_lock(&H.grow);
		/* another thread may have made one meanwhile */
		lock();
		for (struct chunk *c = H.chunks; c; c = c->next) {
			int i = pages_find(c, n, align_pages);
			if (i >= 0) {
				pages_mark(c, (unsigned)i, n, 1);
				pthread_mutex_unlock(&H.grow);
				*first = (unsigned)i;
				return c;
			}
		}
		unlock();
		struct chunk *c = chunk_make();
		pthread_mutex_unlock(&H.grow);
		lock();
		if (!c)
			return NULL;
	}
}

/* ---- slabs (under the arena lock) -------------------------------------------------- */

static void avail_push(struct slab *s)
{
	s->prev = NULL;
	s->next = H.avail[s->cls];
	if (s->next)
		s->next->prev = s;
	H.avail[s->cls] = s;
	s->listed = 1;
}

static void avail_remove(struct slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		H.avail[s->cls] = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
	s->listed = 0;
}

static struct slab *slab_make(unsigned cls)
{
	struct slab *s = dios__meta_alloc(sizeof *s);
	if (!s)
		return NULL;
	unsigned first;
	struct chunk *c = pages_get(cls_pages[cls], 1, &first);
	if (!c) {
		dios__meta_free(s, sizeof *s);
		return NULL;
	}
	s->base = c->base + (size_t)first * PAGE;
	s->chunk = c;
	s->size = cls_size[cls];
	s->div = ((1ull << 40) + s->size - 1) / s->size;
	s->pages = cls_pages[cls];
	s->nobj = (uint32_t)((size_t)s->pages * PAGE / s->size);
	s->nfree = s->nobj;
	s->cls = (uint16_t)cls;
	for (unsigned i = 0; i < s->pages; i++)
		pm_set(s->base + (size_t)i * PAGE, (pm_entry)s | PM_SLAB);
	avail_push(s);
	return s;
}

/*
 * The slab went wholly free: keep it as its class's spare (one per class),
 * unless its pages are all that keep its chunk in use; else give them back.
 */
static struct chunk *slab_emptied(struct slab *s)
{
	if (!H.empty[s->cls] && s->chunk->free_pages + s->pages < CHUNK_PAGES) {
		H.empty[s->cls] = s;
		return NULL;
	}
	avail_remove(s);
	struct chunk *c = s->chunk;
	unsigned first = (unsigned)((s->base - c->base) / PAGE);
	pm_free_pages(c, first, s->pages);
	pages_mark(c, first, s->pages, 0);
	dios__meta_free(s, sizeof *s);
	return chunk_maybe_unlink(c);
}

static inline uint32_t slab_index(const struct slab *s, const void *p, int *exact)
{
	uint64_t off = (uint64_t)((const char *)p - s->base);
	uint32_t i = (uint32_t)((off * s->div) >> 40);
	*exact = (uint64_t)i * s->size == off && i < s->nobj;
	return i;
}

/* One object from s (which has one). */
static inline void *slab_take(struct slab *s)
{
	void *p;
	if (s->free) {
		p = s->free;
		s->free = *(void **)p;
	} else {
		p = s->base + (size_t)s->bump * s->size;
		s->bump++;
	}
	if (s->nfree-- == s->nobj && H.empty[s->cls] == s)
		H.empty[s->cls] = NULL;
	if (s->nfree == 0)
		avail_remove(s);
	return p;
}

/* Return p to its slab; a chunk to give back is returned (see chunk_maybe_unlink). */
static struct chunk *slab_put(struct slab *s, void *p)
{
	*(void **)p = s->free;
	s->free = p;
	if (s->nfree++ == 0)
		avail_push(s);
	if (s->nfree == s->nobj)
		return slab_emptied(s);
	return NULL;
}

/* Up to want objects of class cls into out[].  Arena locked.  Returns how many (0: no memory). */
static unsigned arena_take(unsigned cls, void **out, unsigned want)
{
	unsigned got = 0;
	while (got < want) {
		struct slab *s = H.avail[cls];
		if (!s) {
			if (got)
				break;
			if (!slab_make(cls))
				break;
			continue;
		}
		while (got < want && s->nfree)
			out[got++] = slab_take(s);
	}
	return got;
}

/* ---- thread caches ------------------------------------------------------------------- */

static void tc_flush_bin(struct tcache *t, unsigned cls, uint32_t keep);

static void tc_destroy(void *arg)
{
	struct tcache *t = arg;
	if (!t)
		return;
	tc_state = TC_DEAD;
	tc_self = NULL;
	for (unsigned c = 0; c < NCLASS; c++)
		tc_flush_bin(t, c, 0);
	lock();
	if (t->prev)
		t->prev->next = t->next;
	else
		H.tcaches = t->next;
	if (t->next)
		t->next->prev = t->prev;
	unlock();
	dios__meta_free(t, sizeof *t);
}

/* The calling thread's cache, made on its first allocation; NULL while it cannot have one. */
static struct tcache *tc_get(void)
{
	if (tc_state != TC_NONE)
		return tc_state == TC_LIVE ? tc_self : NULL;
	tc_state = TC_MAKING;                   /* pthread_setspecific may allocate: that goes to the arena */
	struct tcache *t = dios__meta_alloc(sizeof *t);
	if (!t) {
		tc_state = TC_NONE;
		return NULL;
	}
	if (pthread_setspecific(tc_key, t) != 0) {
		dios__meta_free(t, sizeof *t);
		tc_state = TC_NONE;
		return NULL;
	}
	lock();
	t->next = H.tcaches;
	if (t->next)
		t->next->prev = t;
	H.tcaches = t;
	unlock();
	tc_self = t;
	tc_state = TC_LIVE;
	return t;
}

/* Give back all but keep objects of bin cls to the slabs. */
static void tc_flush_bin(struct tcache *t, unsigned cls, uint32_t keep)
{
	struct tbin *b = &t->bin[cls];
	if (b->count <= keep)
		return;
	struct chunk *give[8];
	unsigned ng = 0;
	lock();
	while (b->count > keep) {
		void *p = b->head;
		b->head = *(void **)p;
		b->count--;
		pm_entry e = pm_get(p);
		struct chunk *c = slab_put((struct slab *)(e & ~(pm_entry)PM_TAG), p);
		if (c) {
			if (ng == 8) {
				unlock();
				for (unsigned i = 0; i < ng; i++)
					chunk_put(give[i]);
				ng = 0;
				lock();
			}
			give[ng++] = c;
		}
	}
	unlock();
	for (unsigned i = 0; i < ng; i++)
		chunk_put(give[i]);
}

/* ---- small, medium and large allocation ------------------------------------------------ */

static void *small_alloc_slow(unsigned cls)
{
	struct tcache *t = tc_get();
	void *batch[64];
	unsigned want = t ? cls_tmax[cls] / 2u : 1u;
	lock();
	unsigned got = arena_take(cls, batch, want);
	unlock();
	if (got == 0)
		return NULL;
	if (t) {
		struct tbin *b = &t->bin[cls];
		for (unsigned i = 1; i < got; i++) {
			*(void **)batch[i] = b->head;
			((uint64_t *)batch[i])[1] = tc_secret;
			b->head = batch[i];
			b->count++;
		}
	}
	return batch[0];
}

static inline void *small_alloc(size_t n)
{
	unsigned cls = size_class(n);
	struct tcache *t = tc_self;
	if (likely_(t != NULL)) {
		struct tbin *b = &t->bin[cls];
		void *p = b->head;
		if (likely_(p != NULL)) {
			b->head = *(void **)p;
			b->count--;
			((uint64_t *)p)[1] = 0;     /* no longer in a cache */
			return p;
		}
	}
	return small_alloc_slow(cls);
}

/* A medium span of n bytes (<= MEDIUM_MAX), aligned to align (a power of two, >= PAGE). */
static void *medium_alloc(size_t n, size_t align, int mapped)
{
	unsigned pages = (unsigned)((n + PAGE - 1) / PAGE);
	unsigned first;
	lock();
	struct chunk *c = pages_get(pages, (unsigned)(align / PAGE), &first);
	void *p = NULL;
	if (c) {
		c->span[first] = (uint16_t)(pages | (mapped ? SPAN_MAPPED : 0));
		p = c->base + (size_t)first * PAGE;
		pm_set(p, (pm_entry)c | PM_SPAN);
	}
	unlock();
	return p;
}

/* Under the arena lock: free the span starting at page first of c; a chunk to give back is returned. */
static struct chunk *span_free(struct chunk *c, unsigned first)
{
	unsigned pages = c->span[first] & ~SPAN_MAPPED;
	c->span[first] = 0;
	pm_free_pages(c, first, 1);
	pages_mark(c, first, pages, 0);
	return chunk_maybe_unlink(c);
}

/* Try to grow or shrink the span at p in place to n bytes.  1 if done. */
static int span_resize(struct chunk *c, unsigned first, size_t n)
{
	unsigned want = (unsigned)((n + PAGE - 1) / PAGE);
	int ok = 0;
	lock();
	unsigned have = c->span[first] & ~SPAN_MAPPED;
	if (want <= have) {
		pages_mark(c, first + want, have - want, 0);
		c->span[first] = (uint16_t)(want | (c->span[first] & SPAN_MAPPED));
		ok = 1;
	} else if (first + want <= CHUNK_PAGES) {
		unsigned i = first + have;
		while (i < first + want && !page_used(c, i))
			i++;
		if (i == first + want) {
			pages_mark(c, first + have, want - have, 1);
			c->span[first] = (uint16_t)(want | (c->span[first] & SPAN_MAPPED));
			ok = 1;
		}
	}
	unlock();
	return ok;
}

/* A large object's descriptor for n bytes at alignment align (power of two); NULL with errno set. */
static void *large_alloc(size_t n, size_t align, int mapped, int *zeroed)
{
	size_t extra = align > PAGE ? align - PAGE : 0;
	if (extra >= DIOS_MAX_OBJECT_SIZE / 2 || n > DIOS_MAX_OBJECT_SIZE - extra - PAGE)
		return NULL;
	uint64_t size = ((uint64_t)n + extra + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	struct large *l = NULL;
	lock();
	/* reuse a kept object of at least the size and at most half as big again */
	for (struct large **pp = &H.cache; *pp; pp = &(*pp)->next) {
		struct large *k = *pp;
		if (k->size >= size && k->size - size <= size / 2) {
			*pp = k->next;
			H.ncache--;
			H.cache_bytes -= k->size;
			H.st.cached_bytes = H.cache_bytes;
			l = k;
			break;
		}
	}
	unlock();
	*zeroed = 0;
	if (!l) {
		l = dios__meta_alloc(sizeof *l);
		if (!l)
			return NULL;
		if (obj_get(size, &l->ref, &l->iov) != 0) {
			dios__meta_free(l, sizeof *l);
			return NULL;
		}
		l->base = l->iov->buf;
		l->size = size;
		*zeroed = 1;                    /* a new memfd reads as zeros */
		lock();
		H.st.objects++;
		H.st.large++;
		H.st.bytes_held += size;
		unlock();
	} else {
		lock();
		H.st.large++;
		unlock();
	}
	l->user = (char *)(((uintptr_t)l->base + align - 1) & ~(uintptr_t)(align - 1));
	l->flags = (l->flags & LARGE_PRIVATE) | (mapped ? LARGE_MAPPED : 0);
	l->maplen = (n + PAGE - 1) & ~(size_t)(PAGE - 1);
	lock();
	int rc = pm_set(l->user, (pm_entry)l | PM_LARGE);
	unlock();
	if (rc) {
		lock();
		H.st.objects--;
		H.st.large--;
		H.st.bytes_held -= l->size;
		unlock();
		obj_put(l->ref, l->iov);
		dios__meta_free(l, sizeof *l);
		return NULL;
	}
	return l->user;
}

static void large_give_back(struct large *l)
{
	if (l->flags & LARGE_PRIVATE)
		munmap(l->base, l->size);
	else
		obj_put(l->ref, l->iov);
	dios__meta_free(l, sizeof *l);
}

/* Give back every kept large object and wholly free chunk.  Returns how many.  No lock held. */
static int drop_kept(void)
{
	struct chunk *free_list = NULL;
	lock();
	for (struct chunk *c = H.chunks, *next; c; c = next) {
		next = c->next;
		if (c->free_pages == CHUNK_PAGES) {
			chunk_unlink(c);
			c->next = free_list;
			free_list = c;
		}
	}
	struct large *l = H.cache;
	H.cache = NULL;
	for (struct large *k = l; k; k = k->next) {
		H.st.objects--;
		H.st.bytes_held -= k->size;
	}
	H.ncache = 0;
	H.cache_bytes = 0;
	H.st.cached_bytes = 0;
	unlock();
	int n = 0;
	for (struct large *k = l, *next; k; k = next, n++) {
		next = k->next;
		large_give_back(k);
	}
	for (struct chunk *c = free_list, *next; c; c = next, n++) {
		next = c->next;
		chunk_put(c);
	}
	return n;
}

static void large_free(struct large *l)
{
	struct large *drop[LARGE_CACHE_N + 1];
	unsigned nd = 0;
	lock();
	pm_set(l->user, 0);
	H.st.large--;
	if (l->size <= LARGE_CACHE_MAX && !(l->flags & LARGE_PRIVATE)) {
		l->next = H.cache;
		H.cache = l;
		H.ncache++;
		H.cache_bytes += l->size;
		/* drop the oldest beyond the limits */
		while (H.ncache > LARGE_CACHE_N || H.cache_bytes > LARGE_CACHE_MAX) {
			struct large **pp = &H.cache;
			while ((*pp)->next)
				pp = &(*pp)->next;
			struct large *old = *pp;
			*pp = NULL;
			H.ncache--;
			H.cache_bytes -= old->size;
			H.st.objects--;
			H.st.bytes_held -= old->size;
			drop[nd++] = old;
		}
		H.st.cached_bytes = H.cache_bytes;
	} else {
		if (!(l->flags & LARGE_PRIVATE)) {
			H.st.objects--;
			H.st.bytes_held -= l->size;
		}
		drop[nd++] = l;
	}
	unlock();
	for (unsigned i = 0; i < nd; i++)
		large_give_back(drop[i]);
}

/* ---- the entry points the exported functions use ---------------------------------------- */

void *dios__heap_alloc(size_t n, size_t align, int flags)
{
	if (unlikely_(in_call))
		return boot_alloc(n, align);
	int zeroed = 0;
	void *p;
	if (align <= 16) {
		if (n <= SMALL_MAX)
			p = small_alloc(n ? n : 1);
		else if (n <= MEDIUM_MAX)
			p = medium_alloc(n, PAGE, flags & DIOS__HEAP_MAPPED);
		else
			p = large_alloc(n, PAGE, flags & DIOS__HEAP_MAPPED, &zeroed);
	} else {
		p = NULL;
		if (n <= SMALL_MAX && align <= PAGE && !(flags & DIOS__HEAP_MAPPED)) {
			/* the smallest class whose size is a multiple of align: slabs start on a page */
			for (unsigned c = size_class(n ? n : 1); c < NCLASS; c++)
				if (cls_size[c] % align == 0) {
					p = small_alloc(cls_size[c]);
					goto done;
				}
		}
		size_t a = align < PAGE ? PAGE : align;
		if (n <= MEDIUM_MAX && a <= MEDIUM_MAX)
			p = medium_alloc(n ? n : 1, a, flags & DIOS__HEAP_MAPPED);
		else
			p = large_alloc(n, a, flags & DIOS__HEAP_MAPPED, &zeroed);
	}
done:
	if (p && (flags & DIOS__HEAP_ZERO) && !zeroed)
		memset(p, 0, n);
	return p;
}

/* What p is: one of PM_SLAB, PM_SPAN, PM_LARGE with *desc; 0 for memory that is not the pool's. */
static inline unsigned classify(const void *p, void **desc)
{
	pm_entry e = pm_get(p);
	*desc = (void *)(e & ~(pm_entry)PM_TAG);
	return (unsigned)(e & PM_TAG);
}

size_t dios__heap_usable(const void *p, int *ours)
{
	void *d;
	*ours = 1;
	switch (classify(p, &d)) {
	case PM_SLAB: {
		struct slab *s = d;
		int exact;
		slab_index(s, p, &exact);
		if (!exact)
			corrupt("malloc_usable_size(): not a heap block", p);
		return s->size;
	}
	case PM_SPAN: {
		struct chunk *c = d;
		unsigned first = (unsigned)(((const char *)p - c->base) / PAGE);
		if ((uintptr_t)p % PAGE || !(c->span[first] & ~SPAN_MAPPED))
			corrupt("malloc_usable_size(): not a heap block", p);
		return (size_t)(c->span[first] & ~SPAN_MAPPED) * PAGE;
	}
	case PM_LARGE: {
		struct large *l = d;
		if (l->user != p)
			corrupt("malloc_usable_size(): not a heap block", p);
		return (size_t)(l->base + l->size - l->user);
	}
	case PM_FREE:
		corrupt("malloc_usable_size(): a free heap page", p);
	default:
		if (in_boot(p))
			return boot_size(p);
		*ours = 0;
		return 0;
	}
}

/* Free p.  Returns 0 if p is not the heap's (the caller hands it to the C library). */
int dios__heap_free(void *p)
{
	void *d;
	switch (classify(p, &d)) {
	case PM_SLAB: {
		struct slab *s = d;
		int exact;
		uint32_t i = slab_index(s, p, &exact);
		(void)i;
		if (unlikely_(!exact))
			corrupt("free(): not the start of a heap block", p);
		struct tcache *t = tc_self;
		if (likely_(t != NULL) && likely_(!in_call)) {
			struct tbin *b = &t->bin[s->cls];
			if (unlikely_(((uint64_t *)p)[1] == tc_secret)) {
				/* maybe a double free: is it in this thread's cache already? */
				for (void *q = b->head; q; q = *(void **)q)
					if (q == p)
						corrupt("free(): double free", p);
			}
			*(void **)p = b->head;
			((uint64_t *)p)[1] = tc_secret;
			b->head = p;
			if (unlikely_(++b->count > cls_tmax[s->cls]))
				tc_flush_bin(t, s->cls, cls_tmax[s->cls] / 2u);
			return 1;
		}
		lock();
		struct chunk *c = slab_put(s, p);
		unlock();
		chunk_put(c);
		return 1;
	}
	case PM_SPAN: {
		struct chunk *c = d;
		unsigned first = (unsigned)(((char *)p - c->base) / PAGE);
		lock();
		if ((uintptr_t)p % PAGE || !(c->span[first] & ~SPAN_MAPPED)) {
			unlock();
			corrupt("free(): not the start of a heap block", p);
		}
		struct chunk *g = span_free(c, first);
		unlock();
		chunk_put(g);
		return 1;
	}
	case PM_LARGE: {
		struct large *l = d;
		if (l->user != p)
			corrupt("free(): not the start of a heap block", p);
		large_free(l);
		return 1;
	}
	case PM_FREE:
		corrupt("free(): a free heap page (double free?)", p);
	default:
		if (in_boot(p)) {
			boot_size(p);           /* checks it; bootstrap blocks are not reused */
			return 1;
		}
		return 0;
	}
}

/*
 * realloc of a heap block: in place when it can be, else a new block and a
 * copy.  *ours = 0 if p is not the heap's (the caller moves it).
 */
void *dios__heap_realloc(void *p, size_t n, int *ours)
{
	size_t have = dios__heap_usable(p, ours);
	if (!*ours)
		return NULL;
	if (!in_boot(p)) {
		void *d;
		switch (classify(p, &d)) {
		case PM_SLAB: {
			struct slab *s = d;
			/* the same class, or a smaller request that would not move to a smaller one worth it */
			if (n <= s->size && n > s->size / 2)
				return p;
			break;
		}
		case PM_SPAN: {
			struct chunk *c = d;
			if (n > SMALL_MAX && n <= MEDIUM_MAX &&
			    !(c->span[(size_t)((char *)p - c->base) / PAGE] & SPAN_MAPPED) &&
			    span_resize(c, (unsigned)(((char *)p - c->base) / PAGE), n))
				return p;
			break;
		}
		case PM_LARGE: {
			/* shrink in place while it stays large and at least half the object is used */
			if (n <= have && n > MEDIUM_MAX && n >= have / 2)
				return p;
			break;
		}
		}
	}
	void *q = dios__heap_alloc(n, 16, 0);
	if (!q)
		return NULL;
	memcpy(q, p, n < have ? n : have);
	dios__heap_free(p);
	return q;
}

/* Is p the start of a mapping dios__heap_alloc(..., DIOS__HEAP_MAPPED) served?  Its length then. */
size_t dios__heap_mapped_len(const void *p)
{
	void *d;
	switch (classify(p, &d)) {
	case PM_SPAN: {
		struct chunk *c = d;
		unsigned first = (unsigned)(((const char *)p - c->base) / PAGE);
		uint16_t sp = __atomic_load_n(&c->span[first], __ATOMIC_RELAXED);
		if ((uintptr_t)p % PAGE == 0 && (sp & SPAN_MAPPED))
			return (size_t)(sp & ~SPAN_MAPPED) * PAGE;
		return 0;
	}
	case PM_LARGE: {
		struct large *l = d;
		if (l->user == p && (l->flags & LARGE_MAPPED))
			return l->maplen;
		return 0;
	}
	default:
		return 0;
	}
}

/* Is p in a page of the heap's (a chunk's or a large object's first page)? */
int dios__heap_owns(const void *p)
{
	return pm_get(p) != 0;
}

/* ---- statistics ------------------------------------------------------------------------ */

int dios_heap_stats(dios_heap_stats_t *out)
{
	if (!out)
		return -EINVAL;
	lock();
	*out = H.st;
	unlock();
	out->mode = (uint32_t)__atomic_load_n(&dios__heap_mode, __ATOMIC_RELAXED);
	out->locked = (uint32_t)__atomic_load_n(&dios__heap_locked, __ATOMIC_RELAXED);
	out->daemon_calls = __atomic_load_n(&H.st.daemon_calls, __ATOMIC_RELAXED);
	out->failures = __atomic_load_n(&H.st.failures, __ATOMIC_RELAXED);
	out->meta_bytes = dios__meta_used();
	out->bootstrap_bytes = __atomic_load_n(&boot_top, __ATOMIC_RELAXED);
	return 0;
}

/* ---- start-up and fork ------------------------------------------------------------------- */

int dios__heap_init(void)
{
	classes_init();
	if (pthread_key_create(&tc_key, tc_destroy) != 0)
		return -EAGAIN;
	uint64_t s = 0;
	if (syscall(SYS_getrandom, &s, sizeof s, 0) != (long)sizeof s)
		s = (uint64_t)(uintptr_t)&s ^ dios__now_ns();
	tc_secret = s | 1;
	return dios__meta_reserve();
}

/*
 * fork (only possible outside Pure DIOS, where the seccomp filter denies it).
 * The heap's pages are MAP_SHARED mappings of the parent's PRIVMEM objects:
 * left as they are, parent and child would write each other's heap.  So the
 * child copies every chunk and large object into private memory at the same
 * address (mremap over the shared mapping), and the parent waits in its
 * handler until the child has done so: the copy is what the heap held at the
 * fork.  (Other threads of the parent keep running; what they write to the
 * heap while the child copies may reach the child.  Fork in a multi-threaded
 * program has the same rule as always: the child calls only async-signal-safe
 * functions until it execs.)  The child is a new DIOS task: the copies are
 * ordinary private memory, given back with munmap, and new chunks come from
 * its own connection.  The cost is the parent's touched heap, copied once.
 */
static int fork_pipe[2] = { -1, -1 };

void dios__heap_atfork_prepare(void)
{
	if (dios__heap_mode != DIOS_HEAP_MODE_DIOS)
		return;
	pthread_mutex_lock(&H.grow);
	lock();
	if (pipe2(fork_pipe, O_CLOEXEC) != 0)
		fork_pipe[0] = fork_pipe[1] = -1;
}

void dios__heap_atfork_parent(void)
{
	if (dios__heap_mode != DIOS_HEAP_MODE_DIOS)
		return;
	if (fork_pipe[1] >= 0) {
		close(fork_pipe[1]);
		char c;
		ssize_t r;
		do
			r = read(fork_pipe[0], &c, 1);  /* one byte when the child has copied, EOF if it died */
		while (r < 0 && errno == EINTR);
		close(fork_pipe[0]);
	}
	fork_pipe[0] = fork_pipe[1] = -1;
	unlock();
	pthread_mutex_unlock(&H.grow);
}

/* Copy [base, base+len) into private memory at the same address.  0 or -errno. */
static int privatize(char *base, size_t len)
{
	void *tmp = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (tmp == MAP_FAILED)
		return -errno;
	size_t pages = len / PAGE;
	unsigned char vec[256];
	for (size_t i = 0; i < pages; i += sizeof vec) {
		size_t k = pages - i < sizeof vec ? pages - i : sizeof vec;
		int have = mincore(base + i * PAGE, k * PAGE, vec) == 0;
		for (size_t j = 0; j < k; j++)
			if (!have || (vec[j] & 1))      /* never touched: zero, nothing to copy */
				memcpy((char *)tmp + (i + j) * PAGE, base + (i + j) * PAGE, PAGE);
	}
	if (mremap(tmp, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, base) == MAP_FAILED) {
		int e = errno;
		munmap(tmp, len);
		return -e;
	}
	return 0;
}

void dios__heap_atfork_child(void)
{
	if (dios__heap_mode != DIOS_HEAP_MODE_DIOS)
		return;
	int ok = 1;
	uint64_t live_large = 0;
	for (struct chunk *c = H.chunks; c; c = c->next) {
		if (!(c->flags & CHUNK_PRIVATE) && privatize(c->base, CHUNK_BYTES) != 0)
			ok = 0;
		c->flags |= CHUNK_PRIVATE;
		c->ref = NULL;
		c->iov = NULL;
	}
	/* live large objects: found through the page map would cost a walk; they are on no list, so
	 * walk the map's leaves (only the parts that exist) */
	for (unsigned i = 0; i < (1u << PM_L1_BITS); i++) {
		pm_entry **l2 = pm_root[i];
		if (!l2)
			continue;
		for (unsigned j = 0; j < (1u << PM_L2_BITS); j++) {
			pm_entry *leaf = l2[j];
			if (!leaf)
				continue;
			for (unsigned k = 0; k < (1u << PM_L3_BITS); k++) {
				if ((leaf[k] & PM_TAG) != PM_LARGE)
					continue;
				struct large *l = (struct large *)(leaf[k] & ~(pm_entry)PM_TAG);
				if (!(l->flags & LARGE_PRIVATE) && privatize(l->base, l->size) != 0)
					ok = 0;
				l->flags |= LARGE_PRIVATE;
				l->ref = NULL;
				l->iov = NULL;
				live_large++;
			}
		}
	}
	/* the kept large objects are the parent's: forget them (their mappings are the parent's pages) */
	for (struct large *l = H.cache, *n; l; l = n) {
		n = l->next;
		munmap(l->base, l->size);
		dios__meta_free(l, sizeof *l);
	}
	H.cache = NULL;
	H.ncache = 0;
	H.cache_bytes = 0;
	if (fork_pipe[1] >= 0) {
		char c = 1;
		ssize_t w = write(fork_pipe[1], &c, 1);
		(void)w;
		close(fork_pipe[1]);
	}
	if (fork_pipe[0] >= 0)
		close(fork_pipe[0]);
	fork_pipe[0] = fork_pipe[1] = -1;
	if (!ok) {
		static const char msg[] = "libdlibc heap: fork: cannot copy the heap into the child\n";
		ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
		(void)w;
		_exit(127);
	}
	/* the child holds no DIOS objects; the caches of threads that do not exist here go back to the slabs */
	memset(&H.st, 0, sizeof H.st);
	for (struct chunk *c = H.chunks; c; c = c->next)
		H.st.chunks++;
	H.st.large = live_large;
	pthread_mutex_init(&H.lock, NULL);
	pthread_mutex_init(&H.grow, NULL);
	for (struct tcache *t = H.tcaches, *n; t; t = n) {
		n = t->next;
		if (t == tc_self)
			continue;
		for (unsigned c = 0; c < NCLASS; c++)
			tc_flush_bin(t, c, 0);
	}
}

/* ---- the C library's allocation functions -------------------------------------------------- */
/*
 * Exported from libdlibc without a symbol version, so they take the place of
 * glibc's for the whole program and for glibc itself (strdup, fopen, the
 * loader after start-up): a program linking libdlibc finds them first.  In
 * DIOS_HEAP_MODE_LIBC (the default outside Pure DIOS) and before libdlibc's
 * constructor has chosen the mode, they pass every call to glibc's own
 * __libc_* functions.  In DIOS mode a pointer the heap does not know (one
 * glibc handed out before the constructor ran) still goes to glibc's free,
 * and realloc moves it into the DIOS heap.
 */
extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);
size_t (*dios__libc_usable)(void *);    /* glibc's malloc_usable_size, found at start-up */

#define EXPORT __attribute__((visibility("default")))
#define DIOS_MODE() likely_(__atomic_load_n(&dios__heap_mode, __ATOMIC_RELAXED) == DIOS_HEAP_MODE_DIOS)

static void *nomem(void)
{
	errno = ENOMEM;
	return NULL;
}

EXPORT void *malloc(size_t n)
{
	if (DIOS_MODE()) {
		if (likely_(n <= SMALL_MAX) && likely_(!in_call)) {
			void *p = small_alloc(n ? n : 1);
			return p ? p : nomem();
		}
		void *p = dios__heap_alloc(n, 16, 0);
		return p ? p : nomem();
	}
	return __libc_malloc(n);
}

EXPORT void free(void *p)
{
	if (!p)
		return;
	if (DIOS_MODE()) {
		/* the fast path: a small block into this thread's cache, no lock */
		pm_entry e = pm_get(p);
		if (likely_((e & PM_TAG) == PM_SLAB)) {
			struct slab *s = (struct slab *)(e & ~(pm_entry)PM_TAG);
			struct tcache *t = tc_self;
			int exact;
			slab_index(s, p, &exact);
			if (likely_(exact) && likely_(t != NULL) && likely_(!in_call)) {
				struct tbin *b = &t->bin[s->cls];
				if (likely_(b->count < cls_tmax[s->cls]) && likely_(((uint64_t *)p)[1] != tc_secret)) {
					*(void **)p = b->head;
					((uint64_t *)p)[1] = tc_secret;
					b->head = p;
					b->count++;
					return;
				}
			}
		}
		if (dios__heap_free(p))
			return;
	}
	__libc_free(p);
}

EXPORT void *calloc(size_t n, size_t m)
{
	if (DIOS_MODE()) {
		size_t b;
		if (__builtin_mul_overflow(n, m, &b))
			return nomem();
		void *p = dios__heap_alloc(b, 16, DIOS__HEAP_ZERO);
		return p ? p : nomem();
	}
	return __libc_calloc(n, m);
}

EXPORT void *realloc(void *p, size_t n)
{
	if (!DIOS_MODE())
		return __libc_realloc(p, n);
	if (!p)
		return malloc(n);
	if (n == 0) {                           /* glibc frees and returns NULL */
		free(p);
		return NULL;
	}
	int ours;
	void *q = dios__heap_realloc(p, n, &ours);
	if (ours)
		return q ? q : nomem();
	/* glibc's block (made before the constructor chose the mode): move it */
	size_t have = dios__libc_usable ? dios__libc_usable(p) : 0;
	q = dios__heap_alloc(n, 16, 0);
	if (!q)
		return nomem();
	memcpy(q, p, n < have ? n : have);
	__libc_free(p);
	return q;
}

EXPORT void *reallocarray(void *p, size_t n, size_t m)
{
	size_t b;
	if (__builtin_mul_overflow(n, m, &b))
		return nomem();
	return realloc(p, b);
}

/* memalign's rules (glibc's): an alignment that is not a power of two is rounded up to one. */
static void *aligned(size_t align, size_t n)
{
	if (align > SIZE_MAX / 2 + 1) {
		errno = EINVAL;
		return NULL;
	}
	if (align & (align - 1))
		align = (size_t)1 << (64 - __builtin_clzll((unsigned long long)align));
	void *p = dios__heap_alloc(n, align < 16 ? 16 : align, 0);
	return p ? p : nomem();
}

EXPORT void *memalign(size_t align, size_t n)
{
	return DIOS_MODE() ? aligned(align, n) : __libc_memalign(align, n);
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
	return DIOS_MODE() ? aligned(align, n) : __libc_memalign(align, n);
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	int e = errno;
	void *p = DIOS_MODE() ? aligned(align, n) : __libc_memalign(align, n);
	if (!p) {
		errno = e;
		return ENOMEM;
	}
	*out = p;
	return 0;
}

EXPORT void *valloc(size_t n)
{
	return DIOS_MODE() ? aligned(PAGE, n) : __libc_valloc(n);
}

EXPORT void *pvalloc(size_t n)
{
	if (!DIOS_MODE())
		return __libc_pvalloc(n);
	if (n > SIZE_MAX - PAGE)
		return nomem();
	return aligned(PAGE, n ? (n + PAGE - 1) & ~(size_t)(PAGE - 1) : PAGE);
}

EXPORT size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	if (DIOS_MODE()) {
		int ours;
		size_t n = dios__heap_usable(p, &ours);
		if (ours)
			return n;
	}
	return dios__libc_usable ? dios__libc_usable(p) : 0;
}

/* ---- mmap and munmap, which glibc would send to the locked kernel --------------------------- */
/*
 * In a locked Pure DIOS task (dios_malloc.c) anonymous memory is the heap's:
 * mmap serves it from here and munmap gives it back.  Everything else goes
 * to the kernel as before.
 */

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (!__atomic_load_n(&dios__heap_locked, __ATOMIC_RELAXED) || !(flags & MAP_ANONYMOUS) ||
	    (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)))
		return dios__sys_mmap(addr, len, prot, flags, fd, off);
	/* anonymous memory in a locked Pure DIOS task: a zeroed, page-aligned block of the heap */
	if (len == 0 || len > SIZE_MAX - PAGE) {
		errno = len ? ENOMEM : EINVAL;
		return MAP_FAILED;
	}
	size_t n = (len + PAGE - 1) & ~(size_t)(PAGE - 1);
	void *p = dios__heap_alloc(n, PAGE, DIOS__HEAP_MAPPED | DIOS__HEAP_ZERO);
	if (!p) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	if (prot != (PROT_READ | PROT_WRITE) && mprotect(p, n, prot) != 0) {
		int e = errno;
		dios__heap_free(p);
		errno = e;
		return MAP_FAILED;
	}
	return p;
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

EXPORT int munmap(void *addr, size_t len)
{
	if (__atomic_load_n(&dios__heap_locked, __ATOMIC_RELAXED)) {
		size_t have = dios__heap_mapped_len(addr);
		if (have) {
			if (((len + PAGE - 1) & ~(size_t)(PAGE - 1)) != have) {
				errno = EINVAL;         /* part of a heap-served mapping: not supported */
				return -1;
			}
			if (mprotect(addr, have, PROT_READ | PROT_WRITE) != 0)
				return -1;
			dios__heap_free(addr);
			return 0;
		}
		/* never unmap the heap's pages under it */
		if (len && (dios__heap_owns(addr) || dios__heap_owns((char *)addr + len - 1))) {
			errno = EINVAL;
			return -1;
		}
	}
	return dios__sys_munmap(addr, len);
}
