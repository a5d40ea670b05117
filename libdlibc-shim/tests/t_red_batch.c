/* t_red_batch: four threads submitting 63-entry batches at once all finish (issue 18.13: call slots were taken one at a time, so batches holding part of the slots each waited forever for the rest). */
#define _GNU_SOURCE
#include "helpers.h"
#include "redteam.h"

#include <pthread.h>

enum { THREADS = 4, ENTRIES = 63, ROUNDS = 320 };   /* 4 x 320 x 63 = 80,640 calls */

static uint64_t done[THREADS];
static int bad_res[THREADS];

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg;
	dios_call_t c[ENTRIES];
	for (int r = 0; r < ROUNDS; r++) {
		memset(c, 0, sizeof c);
		for (int i = 0; i < ENTRIES; i++) {
			c[i].opcode = D_OP_NOP;
			c[i].res = 12345;
		}
		int rc = dios_batch(c, ENTRIES);
		if (rc != 0) {
			bad_res[t] = rc;
			return NULL;
		}
		for (int i = 0; i < ENTRIES; i++)
			if (c[i].res != 0) {
				bad_res[t] = c[i].res;
				return NULL;
			}
		__atomic_fetch_add(&done[t], ENTRIES, __ATOMIC_RELAXED);
	}
	return NULL;
}

int main(void)
{
	alarm(150);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	struct dt_victim_report base, during;
	dt_victim_baseline(1000, &base);
	struct dt_victim *victim = dt_victim_start();

	pthread_t th[THREADS];
	for (int t = 0; t < THREADS; t++)
		CHECK_EQ(pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t), 0);
	/* a deadlock shows as no progress: give up after 60 s, and say how far each thread got */
	uint64_t deadline = dt_now_ns() + 60ull * 1000000000ull;
	for (int t = 0; t < THREADS; t++) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t left = deadline > dt_now_ns() ? deadline - dt_now_ns() : 0;
		ts.tv_sec += (time_t)(left / 1000000000ull);
		ts.tv_nsec += (long)(left % 1000000000ull);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		int jr = pthread_timedjoin_np(th[t], NULL, &ts);
		if (jr != 0) {
			uint64_t total = 0;
			for (int u = 0; u < THREADS; u++)
				total += __atomic_load_n(&done[u], __ATOMIC_RELAXED);
			dt_fail(__FILE__, __LINE__, "thread %d still running after 60 s: %llu of %d calls done (stuck batches)",
			     t, (unsigned long long)total, THREADS * ROUNDS * ENTRIES);
		}
	}
	dt_victim_stop(victim, &during);
	dt_redteam_report("batch: four threads of 63-entry dios_batch calls at once", &base, &during);
	for (int t = 0; t < THREADS; t++) {
		CHECK_EQ(bad_res[t], 0);
		CHECK_EQ(done[t], (uint64_t)ROUNDS * ENTRIES);
	}
	dt_stop_daemon();
	return T_EXIT_PASS;
}
