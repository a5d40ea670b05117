/*
 * bench_fifo - DIOS FIFOs against Linux pipes, side by side in one run.
 *
 *   fifo_<size>_throughput / pipe_<size>_throughput
 *                         throughput of messages of 4 KiB, 16 KiB, 64 KiB,
 *                         256 KiB, 1 MiB and 4 MiB between two processes; the
 *                         writer fills every byte of each message, the reader
 *                         sums every byte.  FIFO capacity: max(1 MiB, 4 x the
 *                         message).  Pipe size (F_SETPIPE_SZ): the same, at
 *                         most /proc/sys/fs/pipe-max-size; each metric line
 *                         says what it got.  Rounds alternate FIFO and pipe and
 *                         go through every size; the median round is reported.
 *   work_<size>_floor     the same work with no transfer at all: one thread
 *                         fills each message and sums it, in a ring of the
 *                         FIFO's capacity.  What the work itself costs, to
 *                         read both throughputs against.
 *   shm_<size>_floor      the same work between two processes through a plain
 *                         shared-memory ring (two counters, spinning, no DIOS):
 *                         what moving the bytes between two cores allows.
 *   fifo_rtt_8 / pipe_rtt_8
 *                         8-byte ping-pong round trip between two processes
 *                         (two FIFOs / two pipes).
 *   select_rtt_1 / select_rtt_1000
 *                         ping-pong where the parent waits with dios_select
 *                         over 1 or 1,000 FIFOs (the child writes to the last).
 *
 * Prints "metric" lines (throughput) and "result" lines (latency, µs).
 *
 *   bench_fifo [--quick] [--size 4k|16k|64k|256k|1m|4m [--only fifo|pipe|work|shm]
 *              [--capacity BYTES]]
 * --size runs the throughput of that message size only, and no latency part;
 * --only then runs one of the four: a steady load to profile
 * (perf/profile --tool perf bench_fifo --size 64k --only fifo).
 * --capacity sets the FIFO's capacity, the pipe's size (up to pipe-max-size)
 * and the rings' size, in place of max(1 MiB, 4 x message): to study capacity.
 */
#define _GNU_SOURCE
#include "bench_common.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dios/dios.h>

#define KiB      1024ull
#define MiB      (1024ull * 1024)
#define CAP_MIN  MiB            /* FIFO capacity / pipe size at least this */
#define SEL_MAX  1000

static const struct { uint64_t msg; const char *tag; } SIZES[] = {
	{ 4 * KiB, "4k" }, { 16 * KiB, "16k" }, { 64 * KiB, "64k" }, { 256 * KiB, "256k" }, { MiB, "1m" }, { 4 * MiB, "4m" },
};
#define NSIZES   (sizeof SIZES / sizeof SIZES[0])

static int quick;
static uint64_t cap_override;   /* --capacity: FIFO capacity (and pipe size) for every size */

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

/* What the reader's sum must come to: message m is filled with the byte m & 0xff. */
static uint64_t expected_sum(uint64_t msg, uint64_t msgs)
{
	uint64_t bytes = 0;
	for (uint64_t m = 0; m < msgs; m++)
		bytes += m & 0xff;
	return bytes * (msg / 8) * 0x0101010101010101ull;
}

static void reap(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("child %d failed (status %#x)", (int)pid, st);
}

/* ---- throughput ------------------------------------------------------------ */

/* Room for four messages, and never less than 1 MiB (what a 64 KiB test always had). */
static uint64_t fifo_capacity(uint64_t msg)
{
	if (cap_override)
		return cap_override;
	uint64_t c = 4 * msg < CAP_MIN ? CAP_MIN : 4 * msg;
	return c > DIOS_FIFO_MAX_CAPACITY ? DIOS_FIFO_MAX_CAPACITY : c;
}

static long pipe_max_size(void)
{
	long v = -1;
	FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static void *alloc_msg(uint64_t len)
{
	void *p = aligned_alloc(4096, len);
	if (!p)
		die("out of memory for a %llu-byte message", (unsigned long long)len);
	return p;
}

static double fifo_throughput(const char *label, uint64_t msg, uint64_t cap, uint64_t msgs)
{
	dios_ref_t *rd = fifo_named(label, 0, cap, 1);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		dios_ref_t *w = fifo_named(label, 0, cap, 0);
		for (uint64_t m = 0; m < msgs; m++) {
			dios_iovec_t *iov;
			must(dios_acquire_write(0, w, msg, &iov), "acquire_write");
			memset(iov->buf, (int)(m & 0xff), msg);
			must(dios_commit_write(0, w, msg, iov), "commit_write");
			must(dios_release_write(0, w, iov), "release_write");
		}
		must(dios_delete(0, w), "delete");
		_exit(0);
	}
	uint64_t t0 = bench_now_ns(), got = 0, sink = 0;
	for (;;) {
		dios_iovec_t *iov;
		int r = dios_acquire_read(0, rd, msg, &iov);
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
	if (got != msgs * msg)
		die("FIFO moved %llu bytes, expected %llu", (unsigned long long)got, (unsigned long long)(msgs * msg));
	if (sink != expected_sum(msg, msgs))
		die("FIFO data: the reader's sum is wrong (%llu-byte messages)", (unsigned long long)msg);
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

/* *size: wanted pipe size in, the size F_SETPIPE_SZ gave out */
static double pipe_throughput(uint64_t msg, long *size, uint64_t msgs)
{
	int p[2];
	if (pipe(p))
		die("pipe");
	int got_size = fcntl(p[1], F_SETPIPE_SZ, (int)*size);
	if (got_size < 0)
		die("F_SETPIPE_SZ %ld: %s", *size, strerror(errno));
	*size = got_size;
	char *rbuf = alloc_msg(msg);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(p[0]);
		char *wbuf = alloc_msg(msg);
		for (uint64_t m = 0; m < msgs; m++) {
			memset(wbuf, (int)(m & 0xff), msg);
			size_t off = 0;
			while (off < msg) {
				ssize_t r = write(p[1], wbuf + off, msg - off);
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
		size_t n = read_full(p[0], rbuf, msg);
		if (n == 0)
			break;
		sink += sum_bytes(rbuf, n);
		got += n;
	}
	double secs = (double)(bench_now_ns() - t0) / 1e9;
	close(p[0]);
	free(rbuf);
	reap(pid);
	if (got != msgs * msg)
		die("pipe moved %llu bytes, expected %llu", (unsigned long long)got, (unsigned long long)(msgs * msg));
	if (sink != expected_sum(msg, msgs))
		die("pipe data: the reader's sum is wrong (%llu-byte messages)", (unsigned long long)msg);
	return (double)got / secs / 1e6;
}

/* The work alone: fill each message and sum it in one thread, in a ring of cap bytes. */
static double work_floor(uint64_t msg, uint64_t cap, uint64_t msgs)
{
	char *ring = alloc_msg(cap);
	memset(ring, 0, cap);   /* fault it in, as a FIFO's pages are after its first lap */
	uint64_t t0 = bench_now_ns(), sink = 0, off = 0;
	for (uint64_t m = 0; m < msgs; m++) {
		memset(ring + off, (int)(m & 0xff), msg);
		__asm__ volatile("" ::: "memory");   /* the fill happens: the sum reads memory */
		sink += sum_bytes(ring + off, msg);
		off = off + 2 * msg > cap ? 0 : off + msg;
	}
	double secs = (double)(bench_now_ns() - t0) / 1e9;
	free(ring);
	if (sink != expected_sum(msg, msgs))
		die("work floor: wrong sum (%llu-byte messages)", (unsigned long long)msg);
	return (double)(msgs * msg) / secs / 1e6;
}

/*
 * The hardware's floor for the same work between two processes: a plain ring
 * in shared memory (MAP_SHARED|MAP_ANONYMOUS, made before the fork), a head
 * and a tail on their own cache lines, each side spinning on the other's
 * counter.  No DIOS, no system call, no checks: what moving the bytes from
 * the writer's core to the reader's allows, to read the FIFO against.
 */
struct shm_ring {
	_Alignas(128) uint64_t tail;    /* bytes written */
	_Alignas(128) uint64_t head;    /* bytes read */
	_Alignas(128) char data[];
};

static pid_t ring_reader;       /* the reading process (the writer's parent) */

/* The writer's wait for room: spin, yield now and then, and never outlive the reader. */
static void writer_wait(uint64_t *spins)
{
	if ((++*spins & 1023) != 0) {
		__builtin_ia32_pause();
		return;
	}
	sched_yield();          /* a busy machine: let the other end run */
	if (getppid() != ring_reader)
		_exit(1);       /* the reader is gone: never spin on */
}

static double shm_floor(uint64_t msg, uint64_t cap, uint64_t msgs)
{
	if (cap % msg)
		die("the shared ring needs a capacity that is a multiple of the message (%llu, %llu)",
		    (unsigned long long)cap, (unsigned long long)msg);
	size_t len = sizeof(struct shm_ring) + cap;
	struct shm_ring *r = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		die("mmap of a %llu-byte ring: %s", (unsigned long long)cap, strerror(errno));
	memset(r->data, 0, cap);   /* fault it in, as a FIFO's pages are after its first lap */
	ring_reader = getpid();
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		uint64_t spins = 0;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (uint64_t m = 0, t = 0; m < msgs; m++, t += msg) {
			while (t + msg - __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) > cap)
				writer_wait(&spins);
			memset(r->data + t % cap, (int)(m & 0xff), msg);
			__atomic_store_n(&r->tail, t + msg, __ATOMIC_RELEASE);
		}
		_exit(0);
	}
	uint64_t t0 = bench_now_ns(), sink = 0, spins = 0;
	int writer_gone = 0, wst = 0;
	for (uint64_t m = 0, h = 0; m < msgs; m++, h += msg) {
		while (__atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) - h < msg) {
			if (writer_gone)   /* it ended, and what it wrote is all there is */
				die("the shared ring's writer ended before it wrote everything (status %#x)", wst);
			if ((++spins & 1023) != 0) {
				__builtin_ia32_pause();
				continue;
			}
			sched_yield();
			writer_gone = waitpid(pid, &wst, WNOHANG) == pid;   /* then one more look at the tail */
		}
		sink += sum_bytes(r->data + h % cap, msg);
		__atomic_store_n(&r->head, h + msg, __ATOMIC_RELEASE);
	}
	double secs = (double)(bench_now_ns() - t0) / 1e9;
	if (!writer_gone)
		reap(pid);
	else if (!WIFEXITED(wst) || WEXITSTATUS(wst) != 0)
		die("the shared ring's writer failed (status %#x)", wst);
	munmap(r, len);
	if (sink != expected_sum(msg, msgs))
		die("shared ring: the reader's sum is wrong (%llu-byte messages)", (unsigned long long)msg);
	return (double)(msgs * msg) / secs / 1e6;
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
	const char *only = NULL;   /* --size: that throughput only */
	const char *side = NULL;   /* --only: fifo, pipe or work */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--size") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			side = argv[++i];
		else if (!strcmp(argv[i], "--capacity") && i + 1 < argc) {
			char *end;
			cap_override = strtoull(argv[++i], &end, 0);
			if (*end || cap_override < 4096 || cap_override % 4096 || cap_override > DIOS_FIFO_MAX_CAPACITY) {
				fprintf(stderr, "bench_fifo: --capacity takes a multiple of 4096 up to %llu\n",
					(unsigned long long)DIOS_FIFO_MAX_CAPACITY);
				return 2;
			}
		} else {
			fprintf(stderr, "usage: %s [--quick] [--size 4k|16k|64k|256k|1m|4m [--only fifo|pipe|work|shm] [--capacity BYTES]]\n", argv[0]);
			return 2;
		}
	}
	if (side && (!only || (strcmp(side, "fifo") && strcmp(side, "pipe") && strcmp(side, "work") && strcmp(side, "shm")))) {
		fprintf(stderr, "bench_fifo: --only takes fifo, pipe, work or shm, and needs --size\n");
		return 2;
	}
	if (cap_override && !only) {
		fprintf(stderr, "bench_fifo: --capacity needs --size (the report's figures use the default capacities)\n");
		return 2;
	}
	const int run_fifo = !side || !strcmp(side, "fifo"), run_pipe = !side || !strcmp(side, "pipe"),
		  run_work = !side || !strcmp(side, "work"), run_shm = !side || !strcmp(side, "shm");
	if (only) {
		size_t i = 0;
		while (i < NSIZES && strcmp(SIZES[i].tag, only))
			i++;
		if (i == NSIZES) {
			fprintf(stderr, "bench_fifo: no message size '%s' (4k, 16k, 64k, 256k, 1m, 4m)\n", only);
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	must(dios_nop(0), "dios_nop (is diosd running? DIOS_SOCKET)");
	printf("info timer_overhead_ns=%.0f\n", timer_overhead_ns());

	/*
	 * Throughput against message size.  Each round goes through every size
	 * (starting one further each round), and within a size alternates which
	 * of FIFO and pipe goes first; the median round of each is reported.
	 */
	enum { MAX_ROUNDS = 9 };
	int rounds = quick ? 1 : 5;
	uint64_t bytes = quick ? 16 * MiB : 1024 * MiB;   /* per size, per round, per side */
	long pmax = pipe_max_size();
	double f[NSIZES][MAX_ROUNDS], p[NSIZES][MAX_ROUNDS], w[NSIZES][MAX_ROUNDS], h[NSIZES][MAX_ROUNDS];
	long psize[NSIZES];
	if (run_fifo)   /* daemon JIT, page faults */
		fifo_throughput("tpwarm", 64 * KiB, fifo_capacity(64 * KiB), quick ? 64 : 2048);
	for (int r = 0; r < rounds; r++) {
		for (size_t k = 0; k < NSIZES; k++) {
			size_t i = (k + (size_t)r) % NSIZES;
			if (only && strcmp(SIZES[i].tag, only))
				continue;
			uint64_t msg = SIZES[i].msg, cap = fifo_capacity(msg), msgs = bytes / msg;
			char label[32];
			snprintf(label, sizeof label, "tp%d-%s", r, SIZES[i].tag);
			psize[i] = pmax > 0 && (uint64_t)pmax < cap ? pmax : (long)cap;
			f[i][r] = p[i][r] = w[i][r] = h[i][r] = 0;
			if ((r + (int)k) % 2 == 0) {
				if (run_fifo)
					f[i][r] = fifo_throughput(label, msg, cap, msgs);
				if (run_pipe)
					p[i][r] = pipe_throughput(msg, &psize[i], msgs);
			} else {
				if (run_pipe)
					p[i][r] = pipe_throughput(msg, &psize[i], msgs);
				if (run_fifo)
					f[i][r] = fifo_throughput(label, msg, cap, msgs);
			}
			if (run_work)
				w[i][r] = work_floor(msg, cap, msgs);
			if (run_shm)
				h[i][r] = shm_floor(msg, cap, msgs);
			fprintf(stderr, "round %d, %s messages: FIFO %.0f MB/s, pipe %.0f MB/s, work alone %.0f MB/s, "
				"shared ring %.0f MB/s\n", r, SIZES[i].tag, f[i][r], p[i][r], w[i][r], h[i][r]);
		}
	}
	for (size_t i = 0; i < NSIZES; i++) {
		if (only && strcmp(SIZES[i].tag, only))
			continue;
		qsort(f[i], (size_t)rounds, sizeof f[i][0], cmp_double);
		qsort(p[i], (size_t)rounds, sizeof p[i][0], cmp_double);
		qsort(w[i], (size_t)rounds, sizeof w[i][0], cmp_double);
		qsort(h[i], (size_t)rounds, sizeof h[i][0], cmp_double);
		if (run_fifo)
			printf("metric name=fifo_%s_throughput unit=MB/s value=%.0f rounds=%d bytes=%llu msg=%llu capacity=%llu\n",
			       SIZES[i].tag, f[i][rounds / 2], rounds, (unsigned long long)bytes,
			       (unsigned long long)SIZES[i].msg, (unsigned long long)fifo_capacity(SIZES[i].msg));
		if (run_pipe)
			printf("metric name=pipe_%s_throughput unit=MB/s value=%.0f rounds=%d bytes=%llu msg=%llu pipe_size=%ld pipe_max_size=%ld\n",
			       SIZES[i].tag, p[i][rounds / 2], rounds, (unsigned long long)bytes,
			       (unsigned long long)SIZES[i].msg, psize[i], pmax);
		if (run_work)
			printf("metric name=work_%s_floor unit=MB/s value=%.0f rounds=%d bytes=%llu msg=%llu capacity=%llu\n",
			       SIZES[i].tag, w[i][rounds / 2], rounds, (unsigned long long)bytes,
			       (unsigned long long)SIZES[i].msg, (unsigned long long)fifo_capacity(SIZES[i].msg));
		if (run_shm)
			printf("metric name=shm_%s_floor unit=MB/s value=%.0f rounds=%d bytes=%llu msg=%llu capacity=%llu\n",
			       SIZES[i].tag, h[i][rounds / 2], rounds, (unsigned long long)bytes,
			       (unsigned long long)SIZES[i].msg, (unsigned long long)fifo_capacity(SIZES[i].msg));
	}

	if (only)
		return 0;

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
