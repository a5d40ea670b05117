/* t_fifo_stream: two processes stream 1 GiB through a FIFO in records of varying size, blocking both ways; every byte is checked in place and the checksums match; end of stream arrives after the last byte. */
#include "helpers.h"

#include <string.h>

#define TOTAL   (1ull << 30)            /* bytes streamed */
#define CAP     (1u << 20)              /* FIFO capacity */
#define MAXREC  (64u * 1024)

static uint64_t next_len(uint64_t *rng)
{
	*rng ^= *rng << 13; *rng ^= *rng >> 7; *rng ^= *rng << 17;
	return 8 * (1 + *rng % (MAXREC / 8));      /* 8 .. 64 KiB, whole words */
}

static int writer(const dios_name_t *name, int to_parent)
{
	alarm(120);
	dios_ref_t *w = NULL;
	uint64_t n = 1;
	CHECK_EQ(dios_lookup(0, name, &w, &n), 0);
	uint64_t pos = 0, sum = 0, rng = 88172645463325252ull;
	while (pos < TOTAL) {
		uint64_t len = next_len(&rng);
		if (len > TOTAL - pos)
			len = TOTAL - pos;
		dios_iovec_t *iov = NULL;
		CHECK_EQ(dios_acquire_write(0, w, len, &iov), 0);   /* blocks while the FIFO is full */
		CHECK_EQ(iov->len, len);
		sum += dt_stream_fill(iov->buf, pos, len);
		CHECK_EQ(dios_commit_write(0, w, len, iov), 0);
		CHECK_EQ(dios_release_write(0, w, iov), 0);
		pos += len;
	}
	CHECK_EQ(write(to_parent, &sum, sizeof sum), (ssize_t)sizeof sum);
	CHECK_EQ(dios_delete(0, w), 0);                     /* the writer end goes: end of stream */
	return 0;
}

int main(void)
{
	alarm(120);
	dt_start_daemon();
	dios_daemon_stats_t base = dt_stats();
	dios_name_t name;
	dt_random_name(&name);
	uint64_t cap = CAP;
	dios_ref_t *rd = NULL;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_FIFO, &cap, &name, &rd, 0), 0);

	int from, to;
	pid_t pid = dt_fork_peer(&from, &to);
	if (pid == 0)
		_exit(writer(&name, to));

	uint64_t t0 = dt_now_ns();
	uint64_t pos = 0, sum = 0, reads = 0;
	for (;;) {
		dios_iovec_t *iov = NULL;
		int r = dios_acquire_read(0, rd, 0, &iov);         /* parks while empty */
		if (r == -EPIPE)
			break;
		CHECK_EQ(r, 0);
		CHECK(iov->len > 0 && iov->len <= CAP && iov->len % 8 == 0);
		sum += DT_STREAM_CHECK(iov->buf, pos, iov->len);
		pos += iov->len;
		reads++;
		CHECK_EQ(dios_release_read(0, rd, iov), 0);
	}
	double secs = (double)(dt_now_ns() - t0) / 1e9;
	CHECK_EQ(pos, TOTAL);
	uint64_t wsum = 0;
	CHECK_EQ(read(from, &wsum, sizeof wsum), (ssize_t)sizeof wsum);
	CHECK_EQ(sum, wsum);
	CHECK_CHILD_OK(pid);
	fprintf(stderr, "t_fifo_stream: %llu bytes in %llu reads, %.2f s (%.2f GB/s, both sides checking every byte)\n",
		(unsigned long long)pos, (unsigned long long)reads, secs, (double)pos / secs / 1e9);
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, rd, 0, &(dios_iovec_t *){ NULL }), -EPIPE);
	CHECK_EQ(dios_delete(0, rd), 0);
	dios_daemon_stats_t s = dt_wait_stats(&base, 5000);
	CHECK_STATS_EQ(s, base);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
