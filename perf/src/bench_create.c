/*
 * bench_create - object creation cost: anonymous SHMEM (4 KiB) create and
 * delete (timed separately), named create with a random and a given name, and
 * lookup of an existing name.  Variants alternate in rounds.
 *
 * Needs DIOS_SOCKET (perf/run sets it).  --quick: a short run for the tests.
 * Timing: clock_gettime(CLOCK_MONOTONIC) around each call (see bench_common.h).
 */
#define _GNU_SOURCE
#include "bench_common.h"

#include <dios/dios.h>
#include <unistd.h>

enum { V_ANON, V_DEL, V_RANDOM, V_GIVEN, V_LOOKUP, V_BACKED, NV };

static uint64_t size = 4096;
static dios_name_t looked_name;
static unsigned long given_seq;


/* one sample of each kind; timed != NULL records the sample(s) */
static void one_anon(struct series *create, struct series *del)
{
	dios_ref_t *r = NULL;
	uint64_t a = bench_now_ns();
	int rc = dios_create(0, D_OBJ_SHMEM, &size, NULL, &r, 0);
	uint64_t b = bench_now_ns();
	must(rc, "dios_create(anonymous)");
	rc = dios_delete(0, r);
	uint64_t c = bench_now_ns();
	must(rc, "dios_delete");
	if (create)
		series_add(create, b - a);
	if (del)
		series_add(del, c - b);
}

static void one_random(struct series *s)
{
	dios_ref_t *r = NULL;
	dios_name_t n;
	uint64_t a = bench_now_ns();
	int rc = dios_create(0, D_OBJ_SHMEM, &size, &n, &r, 0);
	uint64_t b = bench_now_ns();
	must(rc, "dios_create(random name)");
	must(dios_delete(0, r), "dios_delete");
	if (s)
		series_add(s, b - a);
}

static void one_given(struct series *s)
{
	char str[64];
	dios_name_t n;
	snprintf(str, sizeof(str), "bench_create-%d-%lu", (int)getpid(), given_seq++);
	must(dios_name_from_string(str, &n), "dios_name_from_string");
	dios_ref_t *r = NULL;
	uint64_t a = bench_now_ns();
	int rc = dios_create(D_CREATE_NAME_GIVEN, D_OBJ_SHMEM, &size, &n, &r, 0);
	uint64_t b = bench_now_ns();
	must(rc, "dios_create(given name)");
	must(dios_delete(0, r), "dios_delete");
	if (s)
		series_add(s, b - a);
}

/* Memory is allocated at the first acquire, not at create: time both together
 * (memfd create, truncate, seal, fd passed by SCM_RIGHTS, mmap in the shim). */
static void one_backed(struct series *s)
{
	dios_ref_t *r = NULL;
	dios_iovec_t *iov = NULL;
	uint64_t a = bench_now_ns();
	int rc = dios_create(0, D_OBJ_SHMEM, &size, NULL, &r, 0);
	if (rc == 0)
		rc = dios_acquire_write(0, r, 0, &iov);
	uint64_t b = bench_now_ns();
	must(rc, "dios_create + dios_acquire_write");
	must(dios_release_write(0, r, iov), "dios_release_write");
	must(dios_delete(0, r), "dios_delete");
	if (s)
		series_add(s, b - a);
}

static void one_lookup(struct series *s)
{
	dios_ref_t *r = NULL;
	uint64_t count = 1;
	uint64_t a = bench_now_ns();
	int rc = dios_lookup(0, &looked_name, &r, &count);
	uint64_t b = bench_now_ns();
	must(rc, "dios_lookup");
	must(dios_delete(0, r), "dios_delete");
	if (s)
		series_add(s, b - a);
}

int main(int argc, char **argv)
{
	int quick = bench_parse_quick(argc, argv);
	alarm(quick ? 120 : 600);   /* never hang a build: SIGALRM ends the run */
	const int rounds = quick ? 4 : 10;
	const int per_round = quick ? 500 : 10000;
	const long warm = quick ? 5000 : 100000;

	dios_daemon_stats_t st0, st1;
	must(dios_daemon_stats(&st0), "dios_daemon_stats");

	dios_ref_t *keep = NULL;
	must(dios_create(0, D_OBJ_SHMEM, &size, &looked_name, &keep, 0), "dios_create(lookup target)");

	struct series s[NV];
	size_t cap = (size_t)rounds * per_round;
	series_init(&s[V_ANON], "create_anon", "dios_create SHMEM 4 KiB, anonymous", cap);
	series_init(&s[V_DEL], "delete_anon", "dios_delete of that (last reference)", cap);
	series_init(&s[V_RANDOM], "create_named_random", "dios_create SHMEM 4 KiB, random name", cap);
	series_init(&s[V_GIVEN], "create_named_given", "dios_create SHMEM 4 KiB, given name", cap);
	series_init(&s[V_LOOKUP], "lookup", "dios_lookup of an existing name (1 ref)", cap);
	series_init(&s[V_BACKED], "create_first_acquire", "dios_create + first dios_acquire_write (memory made)", cap);

	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < warm; i++) {
		one_anon(NULL, NULL);
		one_random(NULL);
		one_given(NULL);
		one_lookup(NULL);
		if (i % 10 == 0)
			one_backed(NULL);
	}
	fprintf(stderr, "warm-up: %ld x 4 kinds in %.2f s\n", warm, (bench_now_ns() - t0) / 1e9);

	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < 5; k++) {
			int v = (k + r) % 5;
			for (int i = 0; i < 200; i++)    /* keep the daemon awake between kinds */
				dios_nop(0);
			for (int i = 0; i < per_round; i++) {
				switch (v) {
				case 0: one_anon(&s[V_ANON], &s[V_DEL]); break;
				case 1: one_random(&s[V_RANDOM]); break;
				case 2: one_given(&s[V_GIVEN]); break;
				case 3: one_lookup(&s[V_LOOKUP]); break;
				case 4: one_backed(&s[V_BACKED]); break;
				}
			}
		}
	}

	must(dios_delete(0, keep), "dios_delete(lookup target)");
	must(dios_daemon_stats(&st1), "dios_daemon_stats");
	printf("info timer=clock_gettime(CLOCK_MONOTONIC) timer_overhead_ns=%.0f rounds=%d warmup=%ld "
	       "leak_check objects=%+lld names=%+lld refs=%+lld\n",
	       timer_overhead_ns(), rounds, warm,
	       (long long)(st1.objects - st0.objects), (long long)(st1.names - st0.names),
	       (long long)(st1.refs - st0.refs));
	report(s, NV);
	return 0;
}
