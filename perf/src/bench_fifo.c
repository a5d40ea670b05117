/*
 * bench_fifo - DIOS FIFOs against Linux pipes, side by side in one run.
 *
 *   fifo_64k / pipe_64k   throughput of 64 KiB messages between two processes;
 *                         the writer fills every byte of each message, the
 *                         reader sums every byte.  FIFO capacity and pipe size
 *                         are both 1 MiB (F_SETPIPE_SZ).  Rounds alternate.
 *   fifo_rtt_8 / pipe_rtt_8
 *                         8-byte ping-pong round trip between two processes
 *                         (two FIFOs / two pipes).
 *   select_rtt_1 / select_rtt_1000
 *                         ping-pong where the parent waits with dios_select
 *                         over 1 or 1,000 FIFOs (the child writes to the last).
 *
 * Prints "metric" lines (throughput) and "result" lines (latency, µs).
 */
#define _GNU_SOURCE
#include "bench_common.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dios/dios.h>

#define MSG      (64u * 1024)
#define CAP      (1u << 20)
#define SEL_MAX  1000

static int quick;

static dios_ref_t *fifo_named(const char *label, int i, uint64_t cap, int create)
{
	char s[96];
	snprintf(s, sizeof s, "bench_fifo-%d-%s-%d", (int)getpgrp(), label, i);
	dios_name_t n;
	must(dios_name_from_string(s, &n), "dios_name_from_string");
	dios_ref_t *r = NULL;
	if (create) {
		must(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_FIFO, &cap, &n, &r, 0), "dios_create(FIFO)");
	} else {
		uint64_t c = 1;
		must(dios_lookup(0, &n, &r, &c), "dios_lookup(FIFO)");
	}
	return r;
}

static uint64_t sum_bytes(const void *p, size_t len)
{
	const uint64_t *w = p;
	uint64_t s = 0;
	for (size_t i = 0; i < len / 8; i++)
		s += w[i];
	return s;
}

static void reap(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("child %d failed (status %#x)", (int)pid, st);
}

/* ---- throughput ------------------------------------------------------------ */

static double fifo_throughput(int round, uint64_t msgs)
{
	char label[32];
	snprintf(label, sizeof label, "tp%d", round);
	dios_ref_t *rd = fifo_named(label, 0, CAP, 1);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		dios_ref_t *w = fifo_named(label, 0, CAP, 0);
		for (uint64_t m = 0; m < msgs; m++) {
			dios_iovec_t *iov;
			must(dios_acquire_write(0, w, MSG, &iov), "acquire_write");
			memset(iov->buf, (int)(m & 0xff), MSG);
			must(dios_commit_write(0, w, MSG, iov), "commit_write");
			must(dios_release_write(0, w, iov), "release_write");
		}
		must(dios_delete(0, w), "delete");
		_exit(0);
	}
	uint64_t t0 = bench_now_ns(), got = 0, sink = 0;
	for (;;) {
		dios_iovec_t *iov;
		int r = dios_acquire_read(0, rd, MSG, &iov);
		if (r == -EPIPE)
			break;
		must(r, "acquire_read");
		sink += sum_bytes(iov->buf, iov->len);
		got += iov->len;
		must(dios_release_read(0, rd, iov), "release_read");
	}
	double secs = (double)(bench_now_ns() - t0) / 1e9;
	reap(pid);
	must(dios_delete(0, rd), "delete");
	if (got != msgs * MSG)
		die("FIFO moved %llu bytes, expected %llu", (unsigned long long)got, (unsigned long long)(msgs * MSG));
	if (sink == 1)
		printf("#");            /* keep the sum alive */
	return (double)got / secs / 1e6;
}

static size_t read_full(int fd, void *buf, size_t len)
{
	size_t n = 0;
	while (n < len) {
		ssize_t r = read(fd, (char *)buf + n, len - n);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("pipe read: %s", strerror(errno));
		}
		n += (size_t)r;
	}
	return n;
}

static double pipe_throughput(uint64_t msgs)
{
	int p[2];
	if (pipe(p))
		die("pipe");
	if (fcntl(p[1], F_SETPIPE_SZ, CAP) < 0)
		die("F_SETPIPE_SZ %u: %s", CAP, strerror(errno));
	static char rbuf[MSG] __attribute__((aligned(64)));
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(p[0]);
		static char wbuf[MSG] __attribute__((aligned(64)));
		for (uint64_t m = 0; m < msgs; m++) {
			memset(wbuf, (int)(m & 0xff), MSG);
			size_t off = 0;
			while (off < MSG) {
				ssize_t r = write(p[1], wbuf + off, MSG - off);
				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0)
					_exit(1);
				off += (size_t)r;
			}
		}
		_exit(0);
	}
	close(p[1]);
	uint64_t t0 = bench_now_ns(), got = 0, sink = 0;
	for (;;) {
		size_t n = read_full(p[0], rbuf, MSG);
		if (n == 0)
			break;
		sink += sum_bytes(rbuf, n);
		got += n;
	}
	double secs = (double)(bench_now_ns() - t0) / 1e9;
	close(p[0]);
	reap(pid);
	if (got != msgs * MSG)
		die("pipe moved %llu bytes", (unsigned long long)got);
	if (sink == 1)
		printf("#");
	return (double)got / secs / 1e6;
}

/* ---- latency --------------------------------------------------------------- */

static void fifo_put8(dios_ref_t *w, uint64_t v)
{
	dios_iovec_t *iov;
	must(dios_acquire_write(0, w, 8, &iov), "acquire_write");
	memcpy(iov->buf, &v, 8);
	must(dios_commit_write(0, w, 8, iov), "commit_write");
	must(dios_release_write(0, w, iov), "release_write");
}

static uint64_t fifo_get8(dios_ref_t *rd)
{
	dios_iovec_t *iov;
	must(dios_acquire_read(0, rd, 8, &iov), "acquire_read");
	if (iov->len != 8)
		die("short FIFO read: %llu", (unsigned long long)iov->len);
	uint64_t v;
	memcpy(&v, iov->buf, 8);
	must(dios_release_read(0, rd, iov), "release_read");
	return v;
}

static void fifo_rtt(struct series *s, int warm, int n)
{
	dios_ref_t *ab = fifo_named("ab", 0, 4096, 1), *ba = fifo_named("ba", 0, 4096, 1);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		dios_ref_t *in = fifo_named("ab", 0, 0, 0), *out = fifo_named("ba", 0, 0, 0);
		for (int i = 0; i < warm + n; i++)
			fifo_put8(out, fifo_get8(in) + 1);
		_exit(0);
	}
	for (int i = 0; i < warm + n; i++) {
		uint64_t t0 = bench_now_ns();
		fifo_put8(ab, (uint64_t)i);
		uint64_t v = fifo_get8(ba);
		uint64_t t1 = bench_now_ns();
		if (v != (uint64_t)i + 1)
			die("FIFO ping-pong: got %llu, want %d", (unsigned long long)v, i + 1);
		if (i >= warm)
			series_add(s, t1 - t0);
	}
	reap(pid);
	must(dios_delete(0, ab), "delete");
	must(dios_delete(0, ba), "delete");
}

static void pipe_rtt(struct series *s, int warm, int n)
{
	int ab[2], ba[2];
	if (pipe(ab) || pipe(ba))
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(ab[1]);
		close(ba[0]);
		for (int i = 0; i < warm + n; i++) {
			uint64_t v;
			if (read_full(ab[0], &v, 8) != 8)
				_exit(1);
			v++;
			if (write(ba[1], &v, 8) != 8)
				_exit(1);
		}
		_exit(0);
	}
	close(ab[0]);
	close(ba[1]);
	for (int i = 0; i < warm + n; i++) {
		uint64_t t0 = bench_now_ns(), v = (uint64_t)i;
		if (write(ab[1], &v, 8) != 8 || read_full(ba[0], &v, 8) != 8)
			die("pipe ping-pong");
		uint64_t t1 = bench_now_ns();
		if (v != (uint64_t)i + 1)
			die("pipe ping-pong value");
		if (i >= warm)
			series_add(s, t1 - t0);
	}
	close(ab[1]);
	close(ba[0]);
	reap(pid);
}

/* The parent waits in dios_select over k FIFOs; the child writes to the last one. */
static void select_rtt(struct series *s, int k, int warm, int n)
{
	static dios_ref_t *ins[SEL_MAX];
	char label[32];
	snprintf(label, sizeof label, "sel%d", k);
	for (int i = 0; i < k; i++)
		ins[i] = fifo_named(label, i, 4096, 1);
	dios_ref_t *go = fifo_named(label, -1, 4096, 1);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		dios_ref_t *w = fifo_named(label, k - 1, 0, 0), *g = fifo_named(label, -1, 0, 0);
		for (int i = 0; i < warm + n; i++)
			fifo_put8(w, fifo_get8(g) + 1);
		_exit(0);
	}
	for (int i = 0; i < warm + n; i++) {
		uint64_t t0 = bench_now_ns();
		fifo_put8(go, (uint64_t)i);
		dios_ref_t *ready = NULL;
		must(dios_select(0, ins, (uint64_t)k, &ready), "dios_select");
		if (ready != ins[k - 1])
			die("select returned the wrong FIFO");
		uint64_t v = fifo_get8(ready);
		uint64_t t1 = bench_now_ns();
		if (v != (uint64_t)i + 1)
			die("select ping-pong value");
		if (i >= warm)
			series_add(s, t1 - t0);
	}
	reap(pid);
	for (int i = 0; i < k; i++)
		must(dios_delete(0, ins[i]), "delete");
	must(dios_delete(0, go), "delete");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	quick = bench_parse_quick(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	must(dios_nop(0), "dios_nop (is diosd running? DIOS_SOCKET)");
	printf("info timer_overhead_ns=%.0f\n", timer_overhead_ns());

	/* throughput: alternate FIFO and pipe rounds; report the median of each */
	int rounds = quick ? 1 : 5;
	uint64_t msgs = quick ? 256 : 16384;    /* 16 MiB / 1 GiB per round */
	double f[8], p[8];
	fifo_throughput(99, quick ? 64 : 2048);  /* warm-up: daemon JIT, page faults */
	for (int r = 0; r < rounds; r++) {
		f[r] = fifo_throughput(r, msgs);
		p[r] = pipe_throughput(msgs);
		fprintf(stderr, "round %d: FIFO %.0f MB/s, pipe %.0f MB/s\n", r, f[r], p[r]);
	}
	qsort(f, (size_t)rounds, sizeof f[0], cmp_double);
	qsort(p, (size_t)rounds, sizeof p[0], cmp_double);
	printf("metric name=fifo_64k_throughput unit=MB/s value=%.0f rounds=%d bytes=%llu\n", f[rounds / 2], rounds,
	       (unsigned long long)(msgs * MSG));
	printf("metric name=pipe_64k_throughput unit=MB/s value=%.0f rounds=%d bytes=%llu\n", p[rounds / 2], rounds,
	       (unsigned long long)(msgs * MSG));

	/* latency: alternate in rounds too */
	int n = quick ? 2000 : 20000, warm = quick ? 500 : 5000, lr = quick ? 1 : 3;
	struct series all[4];
	series_init(&all[0], "fifo_rtt_8", "8-byte FIFO ping-pong, 2 processes", (size_t)n * lr);
	series_init(&all[1], "pipe_rtt_8", "8-byte pipe ping-pong, 2 processes", (size_t)n * lr);
	series_init(&all[2], "select_rtt_1", "ping-pong, parent waits in dios_select over 1 FIFO", (size_t)n * lr);
	series_init(&all[3], "select_rtt_1000", "ping-pong, parent waits in dios_select over 1,000 FIFOs",
		    (size_t)n * lr);
	for (int r = 0; r < lr; r++) {
		fifo_rtt(&all[0], warm, n);
		pipe_rtt(&all[1], warm, n);
		select_rtt(&all[2], 1, warm, n);
		select_rtt(&all[3], SEL_MAX, warm / 5, n / 5);
	}
	report(all, 4);
	return 0;
}
