/* t_fifo_basic: one task, two references to a named FIFO: in-order bytes in place, wrap-around without splitting, capacity, -EAGAIN/-EBUSY/-EINVAL/-EFAULT, end of stream both ways (a gone end is never bound again: -EPIPE), zombies, and no leak. */
#include "helpers.h"

#include <string.h>

static dios_ref_t *make_fifo(uint64_t cap, dios_name_t *name)
{
	dios_ref_t *r = NULL;
	dt_random_name(name);
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_FIFO, &cap, name, &r, 0), 0);
	return r;
}

static dios_ref_t *lookup(const dios_name_t *name)
{
	dios_ref_t *r = NULL;
	uint64_t n = 1;
	CHECK_EQ(dios_lookup(0, name, &r, &n), 0);
	CHECK_EQ(n, 1);
	return r;
}

static void put(dios_ref_t *w, uint64_t len, uint32_t seed)
{
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_acquire_write(D_NONBLOCK, w, len, &iov), 0);
	CHECK_EQ(iov->len, len);
	dt_fill(iov->buf, len, seed);
	CHECK_EQ(dios_commit_write(0, w, len, iov), 0);
	CHECK_EQ(dios_release_write(0, w, iov), 0);
}

static void get(dios_ref_t *rd, uint64_t len, uint32_t seed)
{
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, rd, len, &iov), 0);
	CHECK_EQ(iov->len, len);
	CHECK_EQ(dt_verify(iov->buf, len, seed), -1);
	CHECK_EQ(dios_commit_read(0, rd, iov), 0);
	CHECK_EQ(dios_release_read(0, rd, iov), 0);
}

int main(void)
{
	alarm(60);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();
	dios_name_t name;
	dios_iovec_t *iov = NULL, *iov2 = NULL;
	dios_ref_info_t info;

	/* capacity is rounded up to DIOS_FIFO_ALIGN; NULL gives the default */
	dios_ref_t *w = make_fifo(5000, &name);
	CHECK_EQ(dios_ref_info(w, &info), 0);
	CHECK_EQ(info.type, D_OBJ_FIFO);
	CHECK_EQ(info.size, 8192);
	CHECK_EQ(dios_delete(0, w), 0);
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, NULL, NULL, &w, 0), 0);
	CHECK_EQ(dios_ref_info(w, &info), 0);
	CHECK_EQ(info.size, DIOS_FIFO_DEFAULT_CAPACITY);
	CHECK_EQ(dios_delete(0, w), 0);

	w = make_fifo(4096, &name);
	dios_ref_t *rd = lookup(&name);

	/* empty: a non-blocking read would block; the reader end is now rd */
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, rd, 0, &iov), -EAGAIN);
	CHECK_EQ(dios_ref_info(rd, &info), 0);
	CHECK(!(info.state & D_REF_STATE_READABLE));
	/* in order, in place */
	put(w, 100, 1);
	put(w, 200, 2);
	CHECK_EQ(dios_ref_info(rd, &info), 0);
	CHECK(info.state & D_REF_STATE_READABLE);
	get(rd, 100, 1);
	get(rd, 200, 2);
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, rd, 0, &iov), -EAGAIN);

	/* one end per reference: the writer cannot read, the reader cannot write */
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, w, 0, &iov), -EBUSY);
	CHECK_EQ(dios_acquire_write(D_NONBLOCK, rd, 1, &iov), -EBUSY);
	dios_ref_t *third = lookup(&name);
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, third, 0, &iov), -EBUSY);
	CHECK_EQ(dios_acquire_write(D_NONBLOCK, third, 1, &iov), -EBUSY);
	CHECK_EQ(dios_delete(0, third), 0);

	/* wrap-around: 300 bytes in, a 4000-byte record crosses the end and reads whole */
	put(w, 4000, 3);
	dios_iovec_t *whole = NULL;
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, rd, 0, &whole), 0);
	CHECK_EQ(whole->len, 4000);
	CHECK_EQ(dt_verify(whole->buf, 4000, 3), -1);
	/* one buffer per end at a time */
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, rd, 0, &iov), -EBUSY);
	/* full: 4000 of 4096 used */
	CHECK_EQ(dios_acquire_write(D_NONBLOCK, w, 200, &iov), -EAGAIN);
	CHECK_EQ(dios_acquire_write(D_NONBLOCK, w, 4097, &iov), -EINVAL);   /* could never fit */
	CHECK_EQ(dios_release_read(0, rd, whole), 0);
	/* a released buffer is gone */
	CHECK_EQ(dios_release_read(0, rd, whole), -EFAULT);

	/* partial reads: ask for less than is there */
	put(w, 1000, 4);
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, rd, 10, &iov), 0);
	CHECK_EQ(iov->len, 10);
	CHECK_EQ(dios_release_read(0, rd, iov), 0);
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, rd, 0, &iov), 0);
	CHECK_EQ(iov->len, 990);
	CHECK_EQ(dios_release_read(0, rd, iov), 0);

	/* the writer's buffer rules: commit at most what was acquired, once; a write of 0 = all free space */
	CHECK_EQ(dios_acquire_write(D_NONBLOCK, w, 64, &iov), 0);
	CHECK_EQ(dios_acquire_write(D_NONBLOCK, w, 64, &iov2), -EBUSY);
	CHECK_EQ(dios_commit_write(0, w, 65, iov), -EINVAL);
	CHECK_EQ(dios_commit_write(0, rd, 10, iov), -EBUSY);     /* not the writer end */
	CHECK_EQ(dios_commit_write(0, w, 0, iov), 0);
	CHECK_EQ(dios_commit_write(0, w, 10, iov), -EINVAL);     /* committed already */
	CHECK_EQ(dios_release_write(0, w, iov), 0);
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, rd, 0, &iov), -EAGAIN);   /* 0 bytes committed */
	CHECK_EQ(dios_acquire_write(D_NONBLOCK, w, 0, &iov), 0);
	CHECK_EQ(iov->len, 4096);
	CHECK_EQ(dios_release_write(0, w, iov), 0);                      /* nothing published */
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, rd, 0, &iov), -EAGAIN);
	CHECK_EQ(dios_acquire_write(D_NONBLOCK | (1ULL << 40), w, 1, &iov), -EINVAL);  /* unknown flag */

	/* end of stream: the writer end goes, the reader drains what is left, then -EPIPE */
	put(w, 500, 5);
	CHECK_EQ(dios_delete(0, w), 0);
	/* a new reference cannot take the gone writer end: -EPIPE (no one holds it: not -EBUSY),
	 * and the stream is unchanged for the reader */
	dios_ref_t *late = lookup(&name);
	CHECK_EQ(dios_acquire_write(D_NONBLOCK, late, 1, &iov), -EPIPE);
	CHECK_EQ(dios_acquire_write(0, late, 1, &iov), -EPIPE);
	CHECK_EQ(dios_delete(0, late), 0);
	get(rd, 500, 5);
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, rd, 0, &iov), -EPIPE);
	CHECK_EQ(dios_acquire_read(0, rd, 0, &iov), -EPIPE);            /* blocking: no hang either */
	CHECK_EQ(dios_delete(0, rd), 0);

	/* the reader goes: the writer gets -EPIPE */
	w = make_fifo(4096, &name);
	rd = lookup(&name);
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, rd, 0, &iov), -EAGAIN);  /* binds the reader end */
	put(w, 10, 6);
	CHECK_EQ(dios_delete(0, rd), 0);
	CHECK_EQ(dios_acquire_write(D_NONBLOCK, w, 10, &iov), -EPIPE);
	CHECK_EQ(dios_acquire_write(0, w, 10, &iov), -EPIPE);
	late = lookup(&name);                                       /* nor the gone reader end */
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, late, 0, &iov), -EPIPE);
	CHECK_EQ(dios_delete(0, late), 0);
	CHECK_EQ(dios_delete(0, w), 0);

	/* the reader goes while the writer holds a buffer: its commit fails, nothing is published */
	w = make_fifo(4096, &name);
	rd = lookup(&name);
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, rd, 0, &iov), -EAGAIN);
	CHECK_EQ(dios_acquire_write(0, w, 10, &iov), 0);
	dios_ref_t *sel = w, *ready = NULL;
	CHECK_EQ(dios_select(D_NONBLOCK, &sel, 1, &ready), 0);   /* the writer end has space */
	CHECK_EQ(dios_delete(0, rd), 0);
	CHECK_EQ(dios_commit_write(0, w, 10, iov), -EPIPE);
	CHECK_EQ(dios_release_write(0, w, iov), 0);
	CHECK_EQ(dios_select(D_NONBLOCK, &sel, 1, &ready), 0);   /* and a gone reader: ready (-EPIPE) */
	CHECK_EQ(dios_delete(0, w), 0);

	/* an anonymous FIFO nobody else holds: nobody could ever write to it, or read it */
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, NULL, NULL, &rd, 0), 0);
	CHECK_EQ(dios_acquire_read(0, rd, 0, &iov), -EPIPE);
	CHECK_EQ(dios_delete(0, rd), 0);
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, NULL, NULL, &w, 0), 0);
	CHECK_EQ(dios_acquire_write(0, w, 1, &iov), -EPIPE);
	CHECK_EQ(dios_delete(0, w), 0);

	/* a full FIFO: a blocking select on the writer end waits; D_NONBLOCK says -EAGAIN */
	w = make_fifo(4096, &name);
	rd = lookup(&name);
	put(w, 4096, 8);
	sel = w;
	CHECK_EQ(dios_select(D_NONBLOCK, &sel, 1, &ready), -EAGAIN);
	CHECK_EQ(dios_acquire_write(D_NONBLOCK, w, 1, &iov), -EAGAIN);
	get(rd, 4096, 8);
	CHECK_EQ(dios_select(D_NONBLOCK, &sel, 1, &ready), 0);
	CHECK_EQ(dios_delete(0, rd), 0);
	CHECK_EQ(dios_delete(0, w), 0);

	/* zombify: -EIDRM for both ends, also for a buffer that is out */
	w = make_fifo(4096, &name);
	rd = lookup(&name);
	put(w, 10, 7);
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, rd, 0, &iov), 0);
	CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, w), 0);
	CHECK_EQ(dios_commit_read(0, rd, iov), -EIDRM);
	CHECK_EQ(dios_release_read(0, rd, iov), 0);
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, rd, 0, &iov), -EIDRM);
	CHECK_EQ(dios_acquire_read(0, rd, 0, &iov), -EIDRM);
	uint64_t n = 1;
	dios_ref_t *x = NULL;
	CHECK_EQ(dios_lookup(0, &name, &x, &n), -ENOENT);
	CHECK_EQ(dios_delete(0, rd), 0);

	/* notify is for ends only */
	dios_daemon_stats_t s = dt_stats();
	CHECK_STATS_EQ(s, base);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
