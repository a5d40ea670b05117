/*
 * dios_heap.h - private interface between the heap (dios_heap.c), its
 * exported C-library entry points and the Pure DIOS lock (dios_malloc.c), and
 * the shim's own memory (dios_meta.c).
 */
#ifndef DIOS_HEAP_H
#define DIOS_HEAP_H

#include <stddef.h>
#include <stdint.h>

/* dios_meta.c: the shim's bookkeeping memory (zeroed blocks, never from the heap). */
void *dios__meta_alloc(size_t size);
void dios__meta_free(void *p, size_t size);
int dios__meta_reserve(void);
uint64_t dios__meta_used(void);
void dios__meta_atfork_prepare(void);
void dios__meta_atfork_parent(void);
void dios__meta_atfork_child(void);

/* dios_heap.c */
extern int dios__heap_mode;             /* DIOS_HEAP_MODE_*: 0 until libdlibc's constructor chose */
extern int dios__heap_locked;           /* the Pure DIOS heap lock is installed */

enum {
	DIOS__HEAP_ZERO   = 1,          /* the block must read as zeros (calloc) */
	DIOS__HEAP_MAPPED = 2,          /* serves an anonymous mmap: page-aligned, munmap frees it */
};
/* A block of n bytes aligned to align (a power of two); NULL when no memory could be had. */
void *dios__heap_alloc(size_t n, size_t align, int flags);
/* Free p; 0 if p is not the heap's. */
int dios__heap_free(void *p);
/* Usable bytes of p; *ours = 0 (and 0 returned) if p is not the heap's. */
size_t dios__heap_usable(const void *p, int *ours);
/* realloc of a heap block (n > 0); *ours = 0 if p is not the heap's. */
void *dios__heap_realloc(void *p, size_t n, int *ours);
/* Is p in a page the heap uses (a chunk's, or a large block's first)? */
int dios__heap_owns(const void *p);
/* The length of the mapping p starts, if the heap served it to mmap; else 0. */
size_t dios__heap_mapped_len(const void *p);
int dios__heap_init(void);
void dios__heap_atfork_prepare(void);
void dios__heap_atfork_parent(void);
void dios__heap_atfork_child(void);

/* dios_malloc.c: choose the mode (and lock a Pure DIOS task's heap); from the shim's constructor. */
void dios__heap_start(void);

#endif /* DIOS_HEAP_H */
