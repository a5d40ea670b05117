/* t_seg_first_acquire_threads: threads racing to the first acquires of a fresh object all get its memory (one SEGMENT message serves every thread), and the buffers come back. */
#include "helpers.h"

#include <pthread.h>
#include <string.h>

#define THREADS 4
#define ROUNDS 200
#define SIZE 65536

static dios_ref_t *shared;
static pthread_barrier_t go;

struct result { int rc; const char *call; };

static void *worker(void *arg)
{
	struct result *res = arg;
	pthread_barrier_wait(&go);
	for (int i = 0; i < 20 && !res->rc; i++) {
		dios_iovec_t *iov = NULL;
		int w = i & 1;
		int rc = w ? dios_acquire_write(0, shared, 0, &iov) : dios_acquire_read(0, shared, 0, &iov);
		if (rc) {
			res->rc = rc;
			res->call = w ? "dios_acquire_write" : "dios_acquire_read";
			break;
		}
		if (iov->len != SIZE) {
			res->rc = -1;
			res->call = "buffer length";
			break;
		}
		/* every byte of the mapping is there */
		volatile const uint8_t *p = iov->buf;
		(void)p[0];
		(void)p[SIZE - 1];
		rc = w ? dios_release_write(0, shared, iov) : dios_release_read(0, shared, iov);
		if (rc) {
			res->rc = rc;
			res->call = "release";
		}
	}
	return NULL;
}

int main(void)
{
	alarm(120);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();
	for (int round = 0; round < ROUNDS; round++) {
		uint64_t size = SIZE;
		CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &shared, 0), 0);
		pthread_t th[THREADS];
		struct result res[THREADS];
		memset(res, 0, sizeof res);
		CHECK_EQ(pthread_barrier_init(&go, NULL, THREADS), 0);
		for (int i = 0; i < THREADS; i++)
			CHECK_EQ(pthread_create(&th[i], NULL, worker, &res[i]), 0);
		for (int i = 0; i < THREADS; i++)
			CHECK_EQ(pthread_join(th[i], NULL), 0);
		pthread_barrier_destroy(&go);
		for (int i = 0; i < THREADS; i++)
			if (res[i].rc)
				dt_fail(__FILE__, __LINE__, "round %d thread %d: %s: %d", round, i, res[i].call, res[i].rc);
		CHECK_EQ(dios_delete(0, shared), 0);
	}
	dios_daemon_stats_t end = dt_stats();
	CHECK_STATS_EQ(end, base);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
