/*
 * t_copy_storm: object counts stay right under concurrent create, copy and
 * delete from several tasks.  The parent spawns WORKERS children and gives
 * each the others' task references (dios_copy of write-capable task
 * references).  Every child then, ROUNDS times: creates an object (a named
 * one every fourth round), copies it to a sibling chosen at random, takes
 * and releases what siblings copied to it, and releases its own reference,
 * at times zombifying instead.  When all have exited, the daemon's counts
 * (objects, names, references, buffers, segments) are back at the baseline.
 */
#include "helpers.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define WORKERS 4
#define ROUNDS 1500

static int worker(int me)
{
	dios_ref_t *sib[WORKERS];
	uint64_t n = 0, want = WORKERS - 1;
	/*
	 * The siblings' task references arrive by dios_copy after we started,
	 * mixed with objects siblings that started earlier already copy to us.
	 */
	for (int i = 0; i < 20000 && n < want; i++) {
		dios_ref_t *in = NULL;
		uint64_t k = 1;
		CHECK_EQ(dios_delegated(0, &in, &k), 0);
		if (k == 0) {
			usleep(500);
			continue;
		}
		dios_ref_info_t info;
		CHECK_EQ(dios_ref_info(in, &info), 0);
		if (info.type == D_OBJ_TASK)
			sib[n++] = in;
		else
			CHECK_EQ(dios_delete(0, in), 0);
	}
	CHECK_EQ(n, want);
	unsigned seed = (unsigned)me * 7919u + 1;
	uint64_t taken = 0, copied = 0;
	for (int r = 0; r < ROUNDS; r++) {
		dios_ref_t *o = NULL;
		uint64_t sz = 4096;
		if (r % 4 == 0) {
			dios_name_t nm;
			CHECK_EQ(dios_create(0, r % 8 == 0 ? D_OBJ_FIFO : D_OBJ_SHMEM, r % 8 == 0 ? NULL : &sz, &nm, &o, 0), 0);
		} else {
			CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &sz, NULL, &o, 0), 0);
		}
		dios_ref_t *to = sib[rand_r(&seed) % want];
		int rc = dios_copy(0, &o, 1, to);
		if (rc != -ESRCH)                  /* a sibling that finished has exited */
			CHECK_EQ(rc, 0);
		copied += rc == 0;
		CHECK_EQ(dios_delete(r % 16 == 5 ? D_DELETE_ZOMBIFY : 0, o), 0);
		dios_ref_t *in[8];
		uint64_t k = 8;
		CHECK_EQ(dios_delegated(0, in, &k), 0);
		for (uint64_t i = 0; i < k; i++)
			CHECK_EQ(dios_delete(0, in[i]), 0);
		taken += k;
	}
	for (uint64_t i = 0; i < want; i++)
		CHECK_EQ(dios_delete(0, sib[i]), 0);
	fprintf(stderr, "t_copy_storm: worker %d copied %llu, took %llu\n", me,
		(unsigned long long)copied, (unsigned long long)taken);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "worker") == 0)
		return worker(atoi(argv[2]));
	alarm(120);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();
	dios_ref_t *exe = dios_pickref(dios_self_exe());
	CHECK(exe != NULL);
	dios_ref_t *t[WORKERS];
	for (int i = 0; i < WORKERS; i++) {
		char num[16];
		snprintf(num, sizeof num, "%d", i);
		char *cargv[] = { "t_copy_storm", "worker", num, NULL };
		dios_task_spec_t spec = { .argc = 3, .argv = cargv };
		CHECK_EQ(dios_run(0, exe, &spec, &t[i]), 0);
	}
	for (int i = 0; i < WORKERS; i++)
		for (int j = 0; j < WORKERS; j++)
			if (i != j)
				CHECK_EQ(dios_copy(0, &t[j], 1, t[i]), 0);
	for (int i = 0; i < WORKERS; i++) {
		int st = -1;
		CHECK_EQ(dios_wait(0, t[i], &st), 0);
		CHECK(WIFEXITED(st));
		CHECK_EQ(WEXITSTATUS(st), 0);
		CHECK_EQ(dios_delete(0, t[i]), 0);
	}
	CHECK_EQ(dios_delete(0, exe), 0);
	dios_daemon_stats_t s = dt_wait_stats(&base, 5000);
	CHECK_STATS_EQ(s, base);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
