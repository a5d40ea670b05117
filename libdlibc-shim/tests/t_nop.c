/* t_nop: the null call round-trips 10000 times (also from 4 threads at once) and dios_daemon_stats reports this task. */
#include "helpers.h"

#include <pthread.h>

#define THREADS 4
#define PER_THREAD 2500

static void *nop_thread(void *arg)
{
	long bad = 0;
	for (int i = 0; i < PER_THREAD; i++)
		if (dios_nop(0) != 0)
			bad++;
	*(long *)arg = bad;
	return NULL;
}

int main(void)
{
	alarm(60);
	dt_start_daemon();

	/* the first call registers the task */
	CHECK_EQ(dios_nop(0), 0);

	dios_daemon_stats_t s0 = dt_stats();
	CHECK_EQ(s0.tasks, 1);          /* only this process talks to our private daemon */
	CHECK(s0.objects >= 1);         /* at least this task's own task object */
	CHECK_EQ(s0.buffers, 0);

	for (int i = 0; i < 10000; i++) {
		int r = dios_nop(0);
		if (r != 0)
			CHECK_EQ(r, 0);
	}
	for (int i = 0; i < 100; i++)
		CHECK_EQ(dios_nop(D_NONBLOCK), 0);   /* a nop never blocks */

	/* several threads share one connection: every call still completes with 0 */
	pthread_t th[THREADS];
	long bad[THREADS];
	for (int i = 0; i < THREADS; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, nop_thread, &bad[i]), 0);
	for (int i = 0; i < THREADS; i++) {
		CHECK_EQ(pthread_join(th[i], NULL), 0);
		CHECK_EQ(bad[i], 0);
	}

	/* nops create nothing: the counts are exactly as before */
	dios_daemon_stats_t s1 = dt_stats();
	CHECK_STATS_EQ(s1, s0);

	CHECK_EQ(dios_daemon_stats(NULL), -EINVAL);

	dt_stop_daemon();
	return T_EXIT_PASS;
}
