/*
 * bench_common.h - sample collection and reporting shared by the perf/ benchmarks.
 *
 * Timing: clock_gettime(CLOCK_MONOTONIC) around each sample (vDSO, no
 * syscall).  Its own cost (reported as timer_overhead) is included in every
 * sample and not subtracted.  Benchmarks never assert times; they exit
 * non-zero only when a call fails.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct series {
	const char *name;      /* result name */
	const char *what;      /* human description */
	uint64_t *ns;          /* samples */
	size_t n, cap;
};

static inline void series_init(struct series *s, const char *name, const char *what, size_t cap)
{
	s->name = name;
	s->what = what;
	s->n = 0;
	s->cap = cap;
	s->ns = malloc(cap * sizeof(uint64_t));
	if (!s->ns) {
		perror("malloc");
		exit(2);
	}
}

static inline void series_add(struct series *s, uint64_t ns)
{
	if (s->n < s->cap)
		s->ns[s->n++] = ns;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* nearest-rank percentile of sorted samples */
static inline uint64_t pct(const uint64_t *sorted, size_t n, double p)
{
	if (!n)
		return 0;
	size_t k = (size_t)(p * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return sorted[k - 1];
}

struct summary { double p50, p99, max; size_t n; };

static inline struct summary series_summary(struct series *s)
{
	qsort(s->ns, s->n, sizeof(uint64_t), cmp_u64);
	struct summary r = {
		pct(s->ns, s->n, 0.50) / 1000.0,
		pct(s->ns, s->n, 0.99) / 1000.0,
		(s->n ? s->ns[s->n - 1] : 0) / 1000.0,
		s->n,
	};
	return r;
}

/*
 * The distribution behind a result line, for plots (perf/plot): when
 * $DIOS_PERF_SAMPLES names a directory, writes <dir>/<name>.pct with the
 * nearest-rank sample at each percentile of a grid, from the minimum (0) to
 * the maximum (100): every 0.5 up to 99, then ten steps per decade of
 * 100 - p (99.21, 99.37 ... 99.9 ... 99.99 ...) while a sample lies beyond.  The samples must be
 * sorted (series_summary does it).  A directory that cannot be written is a
 * failure: whoever set the variable wants the files.
 */
static inline void series_dump(const struct series *s)
{
	const char *dir = getenv("DIOS_PERF_SAMPLES");
	if (!dir || !*dir || !s->n)
		return;
	char path[4096];
	if (snprintf(path, sizeof path, "%s/%s.pct", dir, s->name) >= (int)sizeof path) {
		fprintf(stderr, "benchmark failed: samples path too long\n");
		exit(1);
	}
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "benchmark failed: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	fprintf(f, "# %s: %s\n# n=%zu unit=us: percentile, nearest-rank sample (microseconds)\n", s->name, s->what, s->n);
	for (int i = 0; i <= 198; i++)
		fprintf(f, "%.4f %.3f\n", i * 0.5, pct(s->ns, s->n, i / 200.0) / 1000.0);
	/* the tail: 100 - p = 1, 10^-0.1, 10^-0.2 ... while at least one sample lies beyond */
	for (int k = 1;; k++) {
		double miss = pow(10.0, -k / 10.0) / 100.0;   /* fraction of samples above p */
		if (miss * (double)s->n < 1.0)
			break;
		fprintf(f, "%.4f %.3f\n", 100.0 * (1.0 - miss), pct(s->ns, s->n, 1.0 - miss) / 1000.0);
	}
	fprintf(f, "%.4f %.3f\n", 100.0, s->ns[s->n - 1] / 1000.0);
	if (fclose(f) != 0) {
		fprintf(stderr, "benchmark failed: %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

/* machine-readable line, then the human table row; the distribution to $DIOS_PERF_SAMPLES */
static inline void report(struct series *all, int count)
{
	struct summary sum[32];
	for (int i = 0; i < count && i < 32; i++) {
		sum[i] = series_summary(&all[i]);
		series_dump(&all[i]);
		printf("result name=%s unit=us p50=%.3f p99=%.3f max=%.3f n=%zu\n",
		       all[i].name, sum[i].p50, sum[i].p99, sum[i].max, sum[i].n);
	}
	printf("\n%-28s %10s %10s %10s %9s  %s\n", "figure", "p50 us", "p99 us", "max us", "n", "what");
	for (int i = 0; i < count && i < 32; i++)
		printf("%-28s %10.3f %10.3f %10.3f %9zu  %s\n", all[i].name, sum[i].p50, sum[i].p99,
		       sum[i].max, sum[i].n, all[i].what);
	fflush(stdout);
}

/* cost of the timer pair itself, p50 in ns */
static inline double timer_overhead_ns(void)
{
	enum { N = 100000 };
	static uint64_t v[N];
	for (int i = 0; i < N; i++) {
		uint64_t a = bench_now_ns();
		uint64_t b = bench_now_ns();
		v[i] = b - a;
	}
	qsort(v, N, sizeof(uint64_t), cmp_u64);
	return (double)v[N / 2];
}

static inline void die_rc(const char *what, int rc)
{
	fprintf(stderr, "benchmark failed: %s returned %d (%s)\n", what, rc, strerror(rc < 0 ? -rc : rc));
	exit(1);
}

static inline void must(int rc, const char *what)
{
	if (rc != 0)
		die_rc(what, rc);
}

static inline void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static inline void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("benchmark failed: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* The benchmarks' one flag: --quick (a short run for the test suite).  Exits 2 on anything else. */
static inline int bench_parse_quick(int argc, char **argv)
{
	int quick = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else {
			fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
			exit(2);
		}
	}
	return quick;
}

#endif /* BENCH_COMMON_H */
