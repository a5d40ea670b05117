/*
 * dios_meta.c - the shim's own memory: its bookkeeping (buffer records, the
 * segment cache, FIFO ends) and the heap's (page map, chunk, slab and large
 * descriptors, thread caches).
 *
 * It cannot come from the DIOS heap: getting heap memory is a DIOS call,
 * and a call needs bookkeeping (a buffer record, a segment cache slot), so
 * the two would recurse into each other, under the shim's locks.  Nor can it
 * come from anonymous mmap once a Pure DIOS task's heap is locked
 * (dios_malloc.c): the lock denies that.  So the shim reserves one range of
 * address space, PROT_NONE, before the lock, and makes its pages usable with
 * mprotect as it needs them, which the lock allows.  This is the DIOS kernel's
 * own memory in the original system: a few KiB per reference, buffer and
 * heap chunk, never the program's data.
 *
 * Blocks are powers of two from 64 bytes, aligned to their size up to a
 * page; freed blocks go on a list per size and are reused, never returned.
 * Every block comes zeroed.  One mutex, taken last: no caller holds it while
 * taking another lock, and nothing here calls the daemon or malloc.
 */
#include "dios_internal.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define META_RESERVE   (4ull << 30)     /* address space only: PROT_NONE, MAP_NORESERVE */
#define META_COMMIT    (256u << 10)     /* pages made usable at a time */
#define META_MIN_SHIFT 6                /* 64-byte blocks */
#define META_CLASSES   40

static pthread_mutex_t meta_lock = PTHREAD_MUTEX_INITIALIZER;
static char *meta_base;                 /* the reservation, or NULL before the first use */
static char *meta_bump;                 /* next unused byte */
static char *meta_committed;            /* end of the usable (PROT_READ|PROT_WRITE) part */
static void *meta_free[META_CLASSES];   /* freed blocks of 64 << i bytes; the link is the first word */
static uint64_t meta_used;              /* bytes handed out and not freed, for dios_heap_stats */

/* Under meta_lock: reserve the range.  0 or -ENOMEM. */
static int reserve(void)
{
	if (meta_base)
		return 0;
	void *p = dios__sys_mmap(NULL, META_RESERVE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	meta_base = meta_bump = meta_committed = p;
	return 0;
}

int dios__meta_reserve(void)
{
	pthread_mutex_lock(&meta_lock);
	int rc = reserve();
	pthread_mutex_unlock(&meta_lock);
	return rc;
}

static unsigned size_class(size_t size)
{
	unsigned shift = META_MIN_SHIFT;
	while (((size_t)1 << shift) < size)
		shift++;
	return shift - META_MIN_SHIFT;
}

void *dios__meta_alloc(size_t size)
{
	if (size == 0 || size > (META_RESERVE >> 2))
		return NULL;
	unsigned c = size_class(size);
	size_t bytes = (size_t)1 << (c + META_MIN_SHIFT);
	void *p = NULL;
	pthread_mutex_lock(&meta_lock);
	if (meta_free[c]) {
		p = meta_free[c];
		meta_free[c] = *(void **)p;
		memset(p, 0, bytes);            /* fresh pages are zero; reused blocks are cleared */
	} else if (reserve() == 0) {
		size_t align = bytes < 4096 ? bytes : 4096;
		char *a = (char *)(((uintptr_t)meta_bump + align - 1) & ~(uintptr_t)(align - 1));
		if (a + bytes <= meta_base + META_RESERVE) {
			if (a + bytes > meta_committed) {
				size_t need = (size_t)(a + bytes - meta_committed);
				need = (need + META_COMMIT - 1) / META_COMMIT * META_COMMIT;
				if (meta_committed + need > meta_base + META_RESERVE)
					need = (size_t)(meta_base + META_RESERVE - meta_committed);
				if (mprotect(meta_committed, need, PROT_READ | PROT_WRITE) == 0)
					meta_committed += need;
			}
			if (a + bytes <= meta_committed) {
				p = a;
				meta_bump = a + bytes;
			}
		}
	}
	if (p)
		meta_used += bytes;
	pthread_mutex_unlock(&meta_lock);
	return p;
}

void dios__meta_free(void *p, size_t size)
{
	if (!p)
		return;
	unsigned c = size_class(size);
	pthread_mutex_lock(&meta_lock);
	*(void **)p = meta_free[c];
	meta_free[c] = p;
	meta_used -= (size_t)1 << (c + META_MIN_SHIFT);
	pthread_mutex_unlock(&meta_lock);
}

uint64_t dios__meta_used(void)
{
	pthread_mutex_lock(&meta_lock);
	uint64_t u = meta_used;
	pthread_mutex_unlock(&meta_lock);
	return u;
}

/* fork: the child's copy of the range is private memory like the rest of its bookkeeping. */
void dios__meta_atfork_prepare(void)
{
	pthread_mutex_lock(&meta_lock);
}

void dios__meta_atfork_parent(void)
{
	pthread_mutex_unlock(&meta_lock);
}

void dios__meta_atfork_child(void)
{
	pthread_mutex_init(&meta_lock, NULL);
}
