/*
 * dios_fork.c - libdlibc's start-up and its fork handlers (PROTOCOL.md
 * section 9): the one place that knows the order of every layer's part.
 *
 * The shim's files call one another downward only (tools/layers.sh): the
 * heap, the public calls, the ring, the codec, FIFO ends, segments and
 * buffers, the connection, the shim's own memory.  Start-up and fork need
 * all of them, in orders of their own, so this file sits above the heap and
 * calls each layer; none calls back.
 *
 * A static program takes from libdlibc.a only the objects it refers to, and
 * nothing refers to this one: the Makefile links it into one member with
 * dios_conn.o, which every DIOS call reaches, so the constructor comes with
 * the connection.
 */
#include "dios_internal.h"
#include "dios_heap.h"

/*
 * Lock order at fork: the heap's locks first (a thread making a heap chunk
 * holds them while its DIOS call takes dios__book_lock), then
 * dios__book_lock, then the shim's own memory (taken under both).
 */
static void atfork_prepare(void)
{
	dios__heap_atfork_prepare();
	/* Not g_dios.lock: a call may wait (a parked read) and fork must not wait for it. */
	pthread_mutex_lock(&dios__book_lock);
	dios__meta_atfork_prepare();
}

static void atfork_parent(void)
{
	dios__meta_atfork_parent();
	pthread_mutex_unlock(&dios__book_lock);
	dios__heap_atfork_parent();
}

/* The child is a new task: drop the parent's connection, buffers and mappings' bookkeeping. */
static void atfork_child(void)
{
	dios__meta_atfork_child();
	dios__conn_atfork_child();              /* the connection and the ring's bookkeeping */
	dios__fifo_reset();                     /* the child holds none of the parent's FIFO ends */
	dios__seg_forget();                     /* mappings stay mapped; just forget them */
	dios__buf_forget();                     /* the child holds none of the parent's buffers */
	pthread_mutex_init(&g_dios.lock, NULL); /* may have been held by a parent thread mid-call */
	pthread_mutex_init(&g_dios.reap_lock, NULL);
	pthread_mutex_init(&dios__seg_lock, NULL);
	pthread_mutex_init(&dios__book_lock, NULL); /* was taken by atfork_prepare */
	dios__heap_atfork_child();              /* its heap becomes a private copy */
}

__attribute__((constructor)) static void dios_init(void)
{
	dios__conn_adopt_inherited_fd();
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	dios__heap_start();                     /* glibc's heap or the DIOS heap (dios_malloc.c) */
}
