/*
 * bench_malloc - the seed's allocator experiments (section 4.2.1, figs.
 * 4.1-4.5): libdlibc's DIOS heap against glibc's malloc, in the same process
 * and the same run, alternating round by round.
 *
 * The process runs with DIOS_HEAP=dios (it re-executes itself with it), so
 * malloc/free are the DIOS heap; glibc's own heap is called directly as
 * __libc_malloc/__libc_free, which is exactly what a program gets that does
 * not link libdlibc.
 *
 *   small   (figs. 4.1-4.3) sizes 16 B .. 1 KiB: a sample is 100 mallocs,
 *           then the 100 frees, each batch timed and divided by 100 (the
 *           seed's "average over 100 allocations").  heap_small_<size>_<dios|
 *           glibc>_<malloc|free>.  DIOS calls and minor page faults over all
 *           measured rounds: metric heap_small_steady_<dios|glibc>_<calls|faults>.
 *   fresh   a new process each (fork + exec of this one, DIOS_HEAP=dios or not)
 *           makes the seed's 1,600 allocations (16 sizes 64 B .. 1 KiB, 100
 *           each) and frees them: the DIOS calls and minor page faults a whole
 *           small program costs (fig. 4.2/4.3).  metric heap_fresh_<...>.
 *   large   (fig. 4.4) 1 .. 32 MiB: a sample is one malloc (or free) of 20
 *           live blocks, untouched.  heap_large_<MiB>m_<dios|glibc>_<malloc|free>.
 *   sweep   (fig. 4.5) 4 KiB .. 1 MiB around the 256 KiB threshold, as large.
 *           heap_sweep_<KiB>k_<dios|glibc>_malloc.
 *
 * --quick: fewer rounds (the test suite: every line printed, no timing looked at).
 */
#define _GNU_SOURCE
#include "bench_common.h"

#include <dios/dios.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);

enum { A_DIOS, A_GLIBC, NA };
static const char *const aname[NA] = { "dios", "glibc" };

static void *xalloc(int a, size_t n)
{
	void *p = a == A_DIOS ? malloc(n) : __libc_malloc(n);
	if (!p)
		die("%s malloc(%zu) failed", aname[a], n);
	return p;
}

static void xfree(int a, void *p)
{
	if (a == A_DIOS)
		free(p);
	else
		__libc_free(p);
}

static long minflt(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static uint64_t heap_calls(void)
{
	dios_heap_stats_t s;
	must(dios_heap_stats(&s), "dios_heap_stats");
	return s.daemon_calls;
}

/*
 * Result line with four decimals: small allocations take about a hundredth
 * of a microsecond.  Samples are in units of 1/scale ns (the small series
 * keep tenths of a ns: a batch's mean); the distribution file is written in
 * microseconds like every other (bench_common.h's format).
 */
static void result_scaled(struct series *s, unsigned scale)
{
	qsort(s->ns, s->n, sizeof(uint64_t), cmp_u64);
	double k = 1000.0 * scale;
	printf("result name=%s unit=us p50=%.4f p99=%.4f max=%.4f n=%zu\n", s->name, pct(s->ns, s->n, 0.50) / k,
	       pct(s->ns, s->n, 0.99) / k, (s->n ? s->ns[s->n - 1] : 0) / k, s->n);
	const char *dir = getenv("DIOS_PERF_SAMPLES");
	if (!dir || !*dir || !s->n)
		return;
	if (scale == 1) {
		series_dump(s);
		return;
	}
	struct series c = *s;                   /* the same samples in whole ns, for the file */
	c.ns = malloc(s->n * sizeof(uint64_t));
	if (!c.ns)
		die("malloc");
	for (size_t i = 0; i < s->n; i++)
		c.ns[i] = (s->ns[i] + scale / 2) / scale;
	series_dump(&c);
	free(c.ns);
}

static void result(struct series *s)
{
	result_scaled(s, 1);
}

static char *name(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *name(const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return strdup(buf);
}

/* ---- small ------------------------------------------------------------------------- */

static const size_t small_sizes[] = { 16, 32, 64, 128, 256, 512, 1024 };
#define NSMALL (sizeof small_sizes / sizeof small_sizes[0])

static void small(int quick)
{
	enum { BATCH = 100 };
	int rounds = quick ? 200 : 20000;
	struct series s[NSMALL][NA][2];
	for (size_t i = 0; i < NSMALL; i++)
		for (int a = 0; a < NA; a++)
			for (int op = 0; op < 2; op++)
				series_init(&s[i][a][op], name("heap_small_%zu_%s_%s", small_sizes[i], aname[a], op ? "free" : "malloc"),
					    "100 mallocs of one size, then their frees, per operation", (size_t)rounds);
	void *p[BATCH];
	/* warm up both: pools, caches, the page faults of first use */
	for (int w = 0; w < 200; w++)
		for (size_t i = 0; i < NSMALL; i++)
			for (int a = 0; a < NA; a++) {
				for (int k = 0; k < BATCH; k++)
					p[k] = xalloc(a, small_sizes[i]);
				for (int k = 0; k < BATCH; k++)
					xfree(a, p[k]);
			}
	uint64_t calls[NA] = { 0 };
	long faults[NA] = { 0 };
	for (int r = 0; r < rounds; r++)
		for (size_t i = 0; i < NSMALL; i++)
			for (int j = 0; j < NA; j++) {
				int a = (r + (int)i + j) % NA;          /* alternate which goes first */
				uint64_t c0 = heap_calls();
				long f0 = minflt();
				uint64_t t0 = bench_now_ns();
				for (int k = 0; k < BATCH; k++)
					p[k] = xalloc(a, small_sizes[i]);
				uint64_t t1 = bench_now_ns();
				for (int k = 0; k < BATCH; k++)
					xfree(a, p[k]);
				uint64_t t2 = bench_now_ns();
				faults[a] += minflt() - f0;
				calls[a] += heap_calls() - c0;
				series_add(&s[i][a][0], (t1 - t0) * 10 / BATCH);      /* tenths of a ns per malloc */
				series_add(&s[i][a][1], (t2 - t1) * 10 / BATCH);
			}
	for (size_t i = 0; i < NSMALL; i++)
		for (int a = 0; a < NA; a++)
			for (int op = 0; op < 2; op++)
				result_scaled(&s[i][a][op], 10);
	for (int a = 0; a < NA; a++) {
		printf("metric name=heap_small_steady_%s_calls unit=calls value=%llu allocations=%llu\n", aname[a],
		       (unsigned long long)calls[a], (unsigned long long)rounds * NSMALL * BATCH);
		printf("metric name=heap_small_steady_%s_faults unit=faults value=%ld allocations=%llu\n", aname[a],
		       faults[a], (unsigned long long)rounds * NSMALL * BATCH);
	}
	fflush(stdout);
}

/* ---- fresh processes --------------------------------------------------------------- */

/* The child: the seed's 1,600 allocations in a new process, then its figures on stdout. */
static int fresh_child(void)
{
	must(dios_nop(0), "dios_nop");          /* connected first: registration is not the allocations' cost */
	long f0 = minflt();
	uint64_t c0 = heap_calls();
	void *p[1600];
	uint64_t t0 = bench_now_ns();
	for (int i = 0; i < 1600; i++)
		p[i] = xalloc(A_DIOS, (size_t)(64 * (1 + i / 100)));   /* malloc: whichever heap this process has */
	for (int i = 0; i < 1600; i++)
		memset(p[i], i, (size_t)(64 * (1 + i / 100)));
	for (int i = 0; i < 1600; i++)
		xfree(A_DIOS, p[i]);
	uint64_t t1 = bench_now_ns();
	printf("%ld %llu %llu\n", minflt() - f0, (unsigned long long)(heap_calls() - c0), (unsigned long long)(t1 - t0));
	return 0;
}

static void fresh(const char *self, int quick)
{
	int runs = quick ? 3 : 30;
	long faults[NA] = { 0 };
	unsigned long long calls[NA] = { 0 }, ns[NA] = { 0 };
	for (int r = 0; r < runs; r++)
		for (int a = 0; a < NA; a++) {
			int fd[2];
			if (pipe(fd) != 0)
				die("pipe: %s", strerror(errno));
			pid_t pid = fork();
			if (pid < 0)
				die("fork: %s", strerror(errno));
			if (pid == 0) {
				dup2(fd[1], 1);
				close(fd[0]);
				close(fd[1]);
				setenv(DIOS_ENV_HEAP, a == A_DIOS ? "dios" : "libc", 1);
				execl(self, self, "fresh-child", (char *)NULL);
				_exit(127);
			}
			close(fd[1]);
			char buf[128] = { 0 };
			ssize_t n = read(fd[0], buf, sizeof buf - 1);
			close(fd[0]);
			int st;
			waitpid(pid, &st, 0);
			long f;
			unsigned long long c, t;
			if (n <= 0 || !WIFEXITED(st) || WEXITSTATUS(st) || sscanf(buf, "%ld %llu %llu", &f, &c, &t) != 3)
				die("fresh %s child failed (status %#x, output '%s')", aname[a], st, buf);
			faults[a] += f;
			calls[a] += c;
			ns[a] += t;
		}
	for (int a = 0; a < NA; a++) {
		printf("metric name=heap_fresh_%s_calls unit=calls value=%.1f allocations=1600 runs=%d\n", aname[a],
		       (double)calls[a] / runs, runs);
		printf("metric name=heap_fresh_%s_faults unit=faults value=%.1f allocations=1600 runs=%d\n", aname[a],
		       (double)faults[a] / runs, runs);
		printf("metric name=heap_fresh_%s_time unit=us value=%.1f allocations=1600 runs=%d\n", aname[a],
		       (double)ns[a] / runs / 1000.0, runs);
	}
	fflush(stdout);
}

/* ---- large blocks and the sweep -------------------------------------------------------- */

/* rounds x (20 live blocks of each size, malloc'd one by one, then freed), sizes and allocators alternating */
static void blocks(const char *kind, const size_t *sizes, size_t nsizes, int with_free, int rounds)
{
	enum { LIVE = 20 };
	struct series (*s)[NA][2] = calloc(nsizes, sizeof *s);
	if (!s)
		die("calloc");
	for (size_t i = 0; i < nsizes; i++)
		for (int a = 0; a < NA; a++)
			for (int op = 0; op < 1 + with_free; op++) {
				size_t z = sizes[i];
				char *n = z >= (1u << 20) && z % (1u << 20) == 0
					? name("heap_%s_%zum_%s_%s", kind, z >> 20, aname[a], op ? "free" : "malloc")
					: name("heap_%s_%zuk_%s_%s", kind, z >> 10, aname[a], op ? "free" : "malloc");
				series_init(&s[i][a][op], n, "one malloc (or free) of 20 live blocks of the size", (size_t)rounds * LIVE);
			}
	void *p[LIVE];
	for (int r = -1; r < rounds; r++)                       /* round -1: warm-up, not recorded */
		for (size_t i = 0; i < nsizes; i++)
			for (int j = 0; j < NA; j++) {
				int a = (r + (int)i + j + 2) % NA;
				for (int k = 0; k < LIVE; k++) {
					uint64_t t0 = bench_now_ns();
					p[k] = xalloc(a, sizes[i]);
					uint64_t t1 = bench_now_ns();
					if (r >= 0)
						series_add(&s[i][a][0], t1 - t0);
				}
				for (int k = 0; k < LIVE; k++) {
					uint64_t t0 = bench_now_ns();
					xfree(a, p[k]);
					uint64_t t1 = bench_now_ns();
					if (r >= 0 && with_free)
						series_add(&s[i][a][1], t1 - t0);
				}
			}
	for (size_t i = 0; i < nsizes; i++)
		for (int a = 0; a < NA; a++)
			for (int op = 0; op < 1 + with_free; op++)
				result(&s[i][a][op]);
	fflush(stdout);
	free(s);
}

static const size_t large_sizes[] = { 1u << 20, 2u << 20, 4u << 20, 8u << 20, 16u << 20, 32u << 20 };
static const size_t sweep_sizes[] = { 4u << 10, 16u << 10, 64u << 10, 128u << 10, 192u << 10, 240u << 10,
				      256u << 10, 272u << 10, 320u << 10, 512u << 10, 768u << 10, 1024u << 10 };

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "fresh-child") == 0)
		return fresh_child();
	int quick = bench_parse_quick(argc, argv);
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		die("readlink /proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	dios_heap_stats_t hs;
	must(dios_heap_stats(&hs), "dios_heap_stats");
	if (hs.mode != DIOS_HEAP_MODE_DIOS) {
		/* the heap is chosen before main: run again with the DIOS heap */
		if (getenv("BENCH_MALLOC_REEXEC"))
			die("DIOS_HEAP=dios did not give the DIOS heap");
		setenv(DIOS_ENV_HEAP, "dios", 1);
		setenv("BENCH_MALLOC_REEXEC", "1", 1);
		execv(self, argv);
		die("exec %s: %s", self, strerror(errno));
	}
	printf("info bench_malloc: DIOS heap (libdlibc malloc) vs glibc (__libc_malloc), alternating; "
	       "chunk %u KiB, own object above %u KiB\n", DIOS_HEAP_CHUNK_BYTES >> 10, DIOS_HEAP_MMAP_THRESHOLD >> 10);
	small(quick);
	fresh(self, quick);
	blocks("large", large_sizes, sizeof large_sizes / sizeof large_sizes[0], 1, quick ? 1 : 10);
	blocks("sweep", sweep_sizes, sizeof sweep_sizes / sizeof sweep_sizes[0], 0, quick ? 1 : 10);
	must(dios_heap_stats(&hs), "dios_heap_stats");
	printf("info bench_malloc: DIOS heap at the end: %llu objects, %llu bytes held, %llu DIOS calls, %llu refused\n",
	       (unsigned long long)hs.objects, (unsigned long long)hs.bytes_held, (unsigned long long)hs.daemon_calls,
	       (unsigned long long)hs.failures);
	return hs.failures ? 1 : 0;
}
