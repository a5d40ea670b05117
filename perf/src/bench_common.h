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

/* machine-readable line, then the human table row */
static inline void report(struct series *all, int count)
{
	struct summary sum[32];
	for (int i = 0; i < count && i < 32; i++) {
		sum[i] = series_summary(&all[i]);
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
