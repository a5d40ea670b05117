/*
 * t_heap_limit: diosd --max-task-memory 32M.  A PRIVMEM create beyond a
 * task's limit is -ENOMEM; the DIOS heap (DIOS_HEAP=dios) then fails malloc
 * with ENOMEM at the limit and not before, frees make room again, and the
 * freed large objects it keeps are given back when the daemon refuses more;
 * the daemon's count for the task is what the heap holds, and nothing once
 * the task has exited.
 */
#define _GNU_SOURCE
#include "helpers.h"

#include <limits.h>
#include <sys/wait.h>

#define MIB (1ull << 20)
#define LIMIT (32 * MIB)

static dios_heap_stats_t stats(void)
{
	dios_heap_stats_t s;
	CHECK_EQ(dios_heap_stats(&s), 0);
	return s;
}

static int worker(void)
{
	alarm(60);
	CHECK_EQ(stats().mode, DIOS_HEAP_MODE_DIOS);
	/* the daemon's answer, straight */
	dios_ref_t *r = NULL;
	uint64_t size = LIMIT + 1;
	CHECK_EQ(dios_create(0, D_OBJ_PRIVMEM, &size, NULL, &r, 0), -ENOMEM);
	/* which limit, its value in bytes, and its flag */
	char want[64];
	snprintf(want, sizeof want, "(%llu)", (unsigned long long)LIMIT);
	CHECK(strstr(dios_last_error_detail(), "--max-task-memory") != NULL);
	CHECK(strstr(dios_last_error_detail(), want) != NULL);
	size = LIMIT;
	CHECK_EQ(dios_create(0, D_OBJ_PRIVMEM, &size, NULL, &r, 0), 0);
	CHECK_EQ(dt_admin_task(getpid(), "privmem"), (long long)LIMIT);
	size = 4096;
	dios_ref_t *r2 = NULL;
	CHECK_EQ(dios_create(0, D_OBJ_PRIVMEM, &size, NULL, &r2, 0), -ENOMEM);
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &r2, 0), 0);   /* shared memory is not counted */
	CHECK_EQ(dios_delete(0, r2), 0);
	CHECK_EQ(dios_delete(0, r), 0);
	CHECK_EQ(dt_admin_task(getpid(), "privmem"), 0);

	/* the heap: 1 MiB blocks until malloc says no */
	enum { MAXB = 128 };
	char *b[MAXB];
	int n = 0;
	for (; n < MAXB; n++) {
		errno = 0;
		b[n] = malloc(MIB);
		if (!b[n])
			break;
		for (size_t k = 0; k < MIB; k += 4096)
			b[n][k] = (char)n;
	}
	CHECK(n < MAXB);
	CHECK_EQ(errno, ENOMEM);
	dios_heap_stats_t s = stats();
	CHECK(s.failures >= 1);
	CHECK(s.bytes_held <= LIMIT);
	/* a 1 MiB object is 1 MiB + nothing: only the pool chunk and the last MiB may be missing */
	CHECK((uint64_t)n * MIB >= LIMIT - DIOS_HEAP_CHUNK_BYTES - MIB);
	CHECK_EQ(dt_admin_task(getpid(), "privmem"), (long long)s.bytes_held);
	fprintf(stderr, "t_heap_limit: %d blocks of 1 MiB, then ENOMEM; the heap holds %llu bytes\n", n,
		(unsigned long long)s.bytes_held);
	for (int i = 0; i < n; i++) {
		for (size_t k = 0; k < MIB; k += 4096)
			CHECK_EQ(b[i][k], (char)i);
		free(b[i]);
	}
	/* room again; the large objects kept for reuse count, and go when the daemon refuses */
	char *q[4];
	for (int i = 0; i < 4; i++) {
		q[i] = malloc(6 * MIB);
		CHECK(q[i] != NULL);
		q[i][0] = q[i][6 * MIB - 1] = 1;
	}
	for (int i = 0; i < 4; i++)
		free(q[i]);
	s = stats();
	CHECK(s.cached_bytes >= 18 * MIB);
	uint64_t failures = s.failures;
	char *big = malloc(15 * MIB);          /* fits only once the kept ones are given back */
	CHECK(big != NULL);
	big[0] = big[15 * MIB - 1] = 2;
	s = stats();
	CHECK_EQ(s.failures, failures + 1);     /* refused once, then granted */
	CHECK(s.cached_bytes < 18 * MIB);
	CHECK_EQ(dt_admin_task(getpid(), "privmem"), (long long)s.bytes_held);
	free(big);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "worker") == 0)
		return worker();
	alarm(90);
	static const char *const args[] = { "--max-task-memory", "32M", "--warmup-cycles", "0", NULL };
	dt_daemon_args = args;
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();
	/* any task, not only the heap */
	dios_ref_t *r = NULL;
	uint64_t size = LIMIT + 4096;
	CHECK_EQ(dios_create(0, D_OBJ_PRIVMEM, &size, NULL, &r, 0), -ENOMEM);

	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
	CHECK(len > 0);
	self[len] = '\0';
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		setenv(DIOS_ENV_HEAP, "dios", 1);
		execl(self, self, "worker", (char *)NULL);
		_exit(127);
	}
	CHECK_CHILD_OK(pid);
	dios_daemon_stats_t s = dt_wait_stats(&base, 5000);
	CHECK_STATS_EQ(s, base);
	CHECK_EQ(dt_admin_status("privmem_bytes"), 0);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
