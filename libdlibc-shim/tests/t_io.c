/* t_io: acquire/commit/release on SHMEM: bytes round-trip, zero-copy mapping, -ESTALE, buffer reuse and every buffer error code. */
#include "helpers.h"

#define SIZE 8192

int main(void)
{
	alarm(60);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();

	uint64_t size = SIZE;
	dios_ref_t *r = NULL, *other = NULL;
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &r, 0), 0);
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &other, 0), 0);

	/* a fresh object reads as zeros */
	dios_iovec_t *w = NULL, *rd = NULL, *rd2 = NULL;
	CHECK_EQ(dios_acquire_read(0, r, 0, &rd), 0);
	CHECK(rd != NULL && rd->buf != NULL);
	CHECK_EQ(rd->len, SIZE);
	for (int i = 0; i < SIZE; i++)
		if (((uint8_t *)rd->buf)[i] != 0)
			dt_fail(__FILE__, __LINE__, "new object not zero at %d", i);
	CHECK_EQ(dios_release_read(0, r, rd), 0);

	/* len 0 = the whole object */
	CHECK_EQ(dios_acquire_write(0, r, 0, &w), 0);
	CHECK(w != NULL && w->buf != NULL);
	CHECK_EQ(w->len, SIZE);
	dt_fill(w->buf, SIZE, 11);
	CHECK_EQ(dios_commit_write(0, r, SIZE, w), 0);
	CHECK_EQ(dios_release_write(0, r, w), 0);

	CHECK_EQ(dios_acquire_read(0, r, 0, &rd), 0);
	CHECK_EQ(rd->len, SIZE);
	CHECK_EQ(dt_verify(rd->buf, SIZE, 11), -1);
	/* nothing was written since the acquire */
	CHECK_EQ(dios_commit_read(0, r, rd), 0);
	CHECK_EQ(dios_commit_read(0, r, rd), 0);

	/* zero-copy: a second acquire through the same reference sees the same mapping */
	CHECK_EQ(dios_acquire_read(0, r, 0, &rd2), 0);
	CHECK(rd2 != rd);
	CHECK(rd2->buf == rd->buf);
	dios_daemon_stats_t s = dt_stats();
	CHECK_EQ(s.buffers, base.buffers + 2);
	CHECK_EQ(dios_release_read(0, r, rd2), 0);
	s = dt_stats();
	CHECK_EQ(s.buffers, base.buffers + 1);

	/* a shorter write buffer: offset 0, len bytes */
	CHECK_EQ(dios_acquire_write(0, r, 100, &w), 0);
	CHECK_EQ(w->len, 100);
	/* zero-copy: a store into the write buffer is visible through the read buffer at once */
	((volatile uint8_t *)w->buf)[5] = (uint8_t)~((uint8_t *)rd->buf)[5];
	CHECK_EQ(((volatile uint8_t *)rd->buf)[5], ((uint8_t *)w->buf)[5]);
	dt_fill(w->buf, 100, 22);
	/* commit_write with more than the buffer holds */
	CHECK_EQ(dios_commit_write(0, r, 101, w), -EINVAL);
	CHECK_EQ(dios_commit_write(0, r, 100, w), 0);
	/* the read buffer's data was overwritten by a committed write: -ESTALE, then re-armed */
	CHECK_EQ(dios_commit_read(0, r, rd), -ESTALE);
	/* w is still out, so a write is still in progress: no read validates until its release */
	CHECK_EQ(dios_commit_read(0, r, rd), -ESTALE);
	CHECK_EQ(dt_verify(rd->buf, 100, 22), -1);
	{
		/* the rest is still the first pattern */
		uint8_t ref[SIZE];
		dt_fill(ref, SIZE, 11);
		CHECK_EQ(memcmp((uint8_t *)rd->buf + 100, ref + 100, SIZE - 100), 0);
	}

	/* the write buffer is reused for many commits before it is released */
	for (uint32_t i = 1; i <= 1000; i++) {
		memcpy(w->buf, &i, sizeof(i));
		CHECK_EQ(dios_commit_write(0, r, sizeof(i), w), 0);
		CHECK_EQ(dios_commit_read(0, r, rd), -ESTALE);
		uint32_t seen;
		memcpy(&seen, rd->buf, sizeof(seen));
		CHECK_EQ(seen, i);
	}
	CHECK_EQ(dios_commit_read(0, r, rd), -ESTALE);
	/* released: the next commit_read still fails (it was armed while w was out), the one after validates */
	CHECK_EQ(dios_release_write(0, r, w), 0);
	CHECK_EQ(dios_commit_read(0, r, rd), -ESTALE);
	CHECK_EQ(dios_commit_read(0, r, rd), 0);
	CHECK_EQ(dios_commit_read(0, r, rd), 0);
	/* a write to another object does not make this one stale */
	{
		dios_iovec_t *ow = NULL;
		CHECK_EQ(dios_acquire_write(0, other, 0, &ow), 0);
		CHECK_EQ(dios_commit_write(0, other, SIZE, ow), 0);
		CHECK_EQ(dios_commit_read(0, r, rd), 0);
		CHECK_EQ(dios_acquire_write(0, r, 100, &w), 0);
		/* a buffer of another reference: -EINVAL, and both buffers stay usable */
		CHECK_EQ(dios_commit_write(0, r, 4, ow), -EINVAL);
		CHECK_EQ(dios_commit_write(0, other, 4, w), -EINVAL);
		CHECK_EQ(dios_release_write(0, r, ow), -EINVAL);
		CHECK_EQ(dios_commit_read(0, other, rd), -EINVAL);
		CHECK_EQ(dios_release_write(0, other, ow), 0);
	}

	/* read buffer to a write call and vice versa: -EINVAL, buffers unaffected */
	CHECK_EQ(dios_commit_write(0, r, 4, (dios_iovec_t *)rd), -EINVAL);
	CHECK_EQ(dios_release_write(0, r, rd), -EINVAL);
	CHECK_EQ(dios_commit_read(0, r, w), -EINVAL);
	CHECK_EQ(dios_release_read(0, r, w), -EINVAL);
	CHECK_EQ(dios_commit_write(0, r, 4, w), 0);

	/* len beyond the object */
	dios_iovec_t *x = NULL;
	CHECK_EQ(dios_acquire_read(0, r, SIZE + 1, &x), -EINVAL);
	CHECK_EQ(dios_acquire_write(0, r, SIZE + 1, &x), -EINVAL);
	CHECK_EQ(dios_acquire_write(0, r, ~0ULL, &x), -EINVAL);
	CHECK_EQ(dios_acquire_read(0, r, 0, NULL), -EINVAL);
	CHECK_EQ(dios_acquire_write(0, r, 0, NULL), -EINVAL);
	CHECK(x == NULL);
	s = dt_stats();
	CHECK_EQ(s.buffers, base.buffers + 2);   /* rd and w: failed acquires leave nothing */

	/* garbage iov pointer (lives on our stack, zeros around it) */
	struct { char pre[256]; dios_iovec_t iov; char post[256]; } fake;
	memset(&fake, 0, sizeof(fake));
	fake.iov.buf = rd->buf;
	fake.iov.len = SIZE;
	CHECK_EQ(dios_commit_read(0, r, &fake.iov), -EFAULT);
	CHECK_EQ(dios_release_read(0, r, &fake.iov), -EFAULT);
	CHECK_EQ(dios_commit_write(0, r, 4, &fake.iov), -EFAULT);
	CHECK_EQ(dios_release_write(0, r, &fake.iov), -EFAULT);
	/* a copy of a real iovec is not the shim's record either */
	fake.iov = *w;
	CHECK_EQ(dios_commit_write(0, r, 4, &fake.iov), -EFAULT);

	/* released buffers: commit and release again are -EFAULT (checked before any new acquire) */
	CHECK_EQ(dios_release_write(0, r, w), 0);
	CHECK_EQ(dios_commit_write(0, r, 4, w), -EFAULT);
	CHECK_EQ(dios_release_write(0, r, w), -EFAULT);
	CHECK_EQ(dios_release_read(0, r, rd), 0);
	CHECK_EQ(dios_commit_read(0, r, rd), -EFAULT);
	CHECK_EQ(dios_release_read(0, r, rd), -EFAULT);
	s = dt_stats();
	CHECK_EQ(s.buffers, base.buffers);

	/* what was committed last is what a new reader sees */
	CHECK_EQ(dios_acquire_read(0, r, 4, &rd), 0);
	uint32_t last;
	memcpy(&last, rd->buf, 4);
	CHECK_EQ(last, 1000);
	CHECK_EQ(dios_release_read(0, r, rd), 0);

	/* a PRIVMEM object does I/O the same way */
	{
		dios_ref_t *p = NULL;
		uint64_t psz = 3 * 4096 + 7;
		CHECK_EQ(dios_create(0, D_OBJ_PRIVMEM, &psz, NULL, &p, 0), 0);
		CHECK_EQ(dios_acquire_write(0, p, 0, &w), 0);
		CHECK_EQ(w->len, psz);
		dt_fill(w->buf, psz, 33);
		CHECK_EQ(dios_commit_write(0, p, psz, w), 0);
		CHECK_EQ(dios_release_write(0, p, w), 0);
		CHECK_EQ(dios_acquire_read(0, p, 0, &rd), 0);
		CHECK_EQ(rd->len, psz);
		CHECK_EQ(dt_verify(rd->buf, psz, 33), -1);
		CHECK_EQ(dios_commit_read(0, p, rd), 0);
		CHECK_EQ(dios_release_read(0, p, rd), 0);
		CHECK_EQ(dios_delete(0, p), 0);
	}

	/* deleting a reference with a buffer outstanding releases the buffer too */
	CHECK_EQ(dios_acquire_write(0, other, 0, &w), 0);
	CHECK_EQ(dios_delete(0, other), 0);
	CHECK_EQ(dios_delete(0, r), 0);
	s = dt_stats();
	CHECK_STATS_EQ(s, base);

	dt_stop_daemon();
	return T_EXIT_PASS;
}
