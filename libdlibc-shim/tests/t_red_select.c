/* t_red_select: issue 18.4: four parked selects over 4,096 copies of one FIFO reference (the attacker, uid 65534 when run as root) while a victim task makes null calls: every victim call succeeds, and the daemon's wake-up work (admin status waiter_checks) stays one check per parked select, not one per array entry. */
#define _GNU_SOURCE
#include "helpers.h"
#include "redteam.h"

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

/* The attacker: CYCLES rounds of THREADS parked selects woken by one byte written to the FIFO. */
static void attacker(int wr)
{
	dt_become_user(65534);
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

int main(void)
{
	alarm(120);
	static const char *const args[] = { "--socket-mode", "0666", NULL };
	dt_daemon_args = args;
	dt_start_daemon();
	CHECK_EQ(chmod(dt_dir(), 0711), 0);
	long long checks0 = dt_admin_status("waiter_checks");

	dt_redteam_run("select: four parked selects over 4,096 copies of one FIFO reference, woken over and over", attacker, NULL);
	long long checks = dt_admin_status("waiter_checks") - checks0;
	printf("waiter checks for %d rounds of %d parked selects over %d copies: %lld (was %d per round)\n",
	       CYCLES, THREADS, COPIES, checks, THREADS * COPIES);
	CHECK(checks > 0);                              /* the selects did park and were re-checked */
	CHECK(checks <= (long long)CYCLES * THREADS * 4); /* a handful per select, not 4,096 */
	CHECK_EQ(dt_admin_status("parked_calls"), 0);
	dt_stop_daemon();
	return 0;
}
