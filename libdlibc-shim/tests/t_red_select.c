/* t_red_select: issue 18.4: four parked selects over 4,096 copies of one FIFO reference (the attacker, uid 65534 when run as root) while a victim task makes null calls: every victim call succeeds, and the daemon's wake-up work (admin status waiter_checks) stays one check per parked select, not one per array entry. */
#define _GNU_SOURCE
#include "helpers.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>

#define THREADS 4
#define COPIES 4096
#define CYCLES 20

static dios_ref_t *g_rd, *g_wr;
static dios_ref_t *g_copies[COPIES];
static pthread_barrier_t g_start, g_end;

static dios_ref_t *lookup(const dios_name_t *name)
{
	dios_ref_t *r = NULL;
	uint64_t n = 1;
	CHECK_EQ(dios_lookup(0, name, &r, &n), 0);
	return r;
}

static void *selector(void *arg)
{
	(void)arg;
	for (int k = 0; k < CYCLES; k++) {
		pthread_barrier_wait(&g_start);
		dios_ref_t *ready = NULL;
		CHECK_EQ(dios_select(0, g_copies, COPIES, &ready), 0);
		CHECK(ready == g_rd);
		pthread_barrier_wait(&g_end);
	}
	return NULL;
}

static void drop_privileges(void)
{
	if (geteuid() != 0)
		return;
	CHECK_EQ(setresgid(65534, 65534, 65534), 0);
	CHECK_EQ(setresuid(65534, 65534, 65534), 0);
}

/* The attacker: CYCLES rounds of THREADS parked selects woken by one byte written to the FIFO. */
static void attacker(int wr)
{
	drop_privileges();
	dios_name_t name;
	dt_random_name(&name);
	uint64_t cap = 4096;
	dios_ref_t *own = NULL;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_FIFO, &cap, &name, &own, 0), 0);
	g_rd = lookup(&name);
	g_wr = lookup(&name);
	for (int i = 0; i < COPIES; i++)
		g_copies[i] = g_rd;
	CHECK_EQ(pthread_barrier_init(&g_start, NULL, THREADS + 1), 0);
	CHECK_EQ(pthread_barrier_init(&g_end, NULL, THREADS + 1), 0);
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, selector, NULL), 0);
	for (int k = 0; k < CYCLES; k++) {
		pthread_barrier_wait(&g_start);
		usleep(20 * 1000);              /* the selects park in the daemon */
		dios_iovec_t *iov = NULL;
		CHECK_EQ(dios_acquire_write(0, g_wr, 1, &iov), 0);
		((char *)iov->buf)[0] = (char)k;
		CHECK_EQ(dios_commit_write(0, g_wr, 1, iov), 0);   /* wakes the selects: one notify */
		CHECK_EQ(dios_release_write(0, g_wr, iov), 0);
		pthread_barrier_wait(&g_end);
		CHECK_EQ(dios_acquire_read(D_NONBLOCK, g_rd, 1, &iov), 0);   /* empty again */
		CHECK_EQ(((char *)iov->buf)[0], (char)k);
		CHECK_EQ(dios_release_read(0, g_rd, iov), 0);
	}
	for (int i = 0; i < THREADS; i++)
		CHECK_EQ(pthread_join(th[i], NULL), 0);
	CHECK_EQ(dios_delete(0, own), 0);
	CHECK_EQ(dios_delete(0, g_rd), 0);
	CHECK_EQ(dios_delete(0, g_wr), 0);
	dt_send(wr, 'A');
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

#define VICTIM_MAX 400000

/* The victim: null calls until told to stop (bounded: VICTIM_MAX calls, 60 s); reports count, p50, p99, max, calls over 1 and 10 ms. */
static void victim(int rd, int wr)
{
	static uint64_t lat[VICTIM_MAX];
	CHECK_EQ(dios_nop(0), 0);
	dt_send(wr, 'R');
	int fl = fcntl(rd, F_GETFL);
	CHECK_EQ(fcntl(rd, F_SETFL, fl | O_NONBLOCK), 0);
	uint64_t end = dt_now_ns() + 60ull * 1000000000ull;
	int n = 0;
	char c;
	while (n < VICTIM_MAX && dt_now_ns() < end && read(rd, &c, 1) != 1) {
		uint64_t t0 = dt_now_ns();
		CHECK_EQ(dios_nop(0), 0);
		lat[n++] = dt_now_ns() - t0;
		if (n % 64 == 0)
			usleep(100);    /* a task doing other work between calls, not a spinning benchmark */
	}
	qsort(lat, n, sizeof lat[0], cmp_u64);
	uint64_t over1 = 0, over10 = 0;
	for (int i = 0; i < n; i++) {
		over1 += lat[i] > 1000000;
		over10 += lat[i] > 10000000;
	}
	uint64_t out[6] = { (uint64_t)n, n ? lat[n / 2] : 0, n ? lat[n * 99 / 100] : 0, n ? lat[n - 1] : 0, over1, over10 };
	CHECK_EQ(write(wr, out, sizeof out), (ssize_t)sizeof out);
}

int main(void)
{
	alarm(120);
	static const char *const args[] = { "--socket-mode", "0666", NULL };
	dt_daemon_args = args;
	dt_start_daemon();
	CHECK_EQ(chmod(dt_dir(), 0711), 0);
	long long checks0 = dt_admin_status("waiter_checks");

	int vrd, vwr;
	pid_t v = dt_fork_peer(&vrd, &vwr);
	if (v == 0) {
		victim(vrd, vwr);
		_exit(0);
	}
	CHECK_EQ(dt_recv(vrd), 'R');
	int ard, awr;
	pid_t a = dt_fork_peer(&ard, &awr);
	if (a == 0) {
		attacker(awr);
		_exit(0);
	}
	CHECK_EQ(dt_recv(ard), 'A');
	CHECK_CHILD_OK(a);
	dt_send(vwr, 'S');
	uint64_t res[6];
	CHECK_EQ(read(vrd, res, sizeof res), (ssize_t)sizeof res);
	CHECK_CHILD_OK(v);
	long long checks = dt_admin_status("waiter_checks") - checks0;
	printf("victim: %llu null calls during the attack, all 0; p50 %llu ns, p99 %llu ns, max %llu ns;"
	       " %llu over 1 ms, %llu over 10 ms\n",
	       (unsigned long long)res[0], (unsigned long long)res[1], (unsigned long long)res[2],
	       (unsigned long long)res[3], (unsigned long long)res[4], (unsigned long long)res[5]);
	printf("waiter checks for %d rounds of %d parked selects over %d copies: %lld (was %d per round)\n",
	       CYCLES, THREADS, COPIES, checks, THREADS * COPIES);
	CHECK(res[0] > 0);
	CHECK(checks > 0);                              /* the selects did park and were re-checked */
	CHECK(checks <= (long long)CYCLES * THREADS * 4); /* a handful per select, not 4,096 */
	CHECK_EQ(dt_admin_status("parked_calls"), 0);
	dt_stop_daemon();
	return 0;
}
