/* t_select: dios_select over 1,000 FIFOs returns the one another task wrote to, round after round; -EAGAIN with D_NONBLOCK; a mix with the console; bad arguments get their exact codes. */
#include "helpers.h"

#include <string.h>

#define N 1000

static void fifo_name(int i, dios_name_t *n)
{
	char s[64];
	snprintf(s, sizeof s, "t_select-%d", i);   /* each test run has its own daemon */
	CHECK_EQ(dios_name_from_string(s, n), 0);
}

static const int rounds[] = { 999, 0, 500, 777, 1 };
#define ROUNDS (int)(sizeof rounds / sizeof rounds[0])

int main(void)
{
	alarm(60);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();

	static dios_ref_t *refs[N];
	uint64_t cap = 4096;
	for (int i = 0; i < N; i++) {
		dios_name_t n;
		fifo_name(i, &n);
		CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_FIFO, &cap, &n, &refs[i], 0), 0);
	}
	dios_ref_t *ready = NULL;
	/* nothing written yet */
	CHECK_EQ(dios_select(D_NONBLOCK, refs, N, &ready), -EAGAIN);
	CHECK(ready == NULL);

	int from, to;
	pid_t pid = dt_fork_peer(&from, &to);
	if (pid == 0) {
		for (int k = 0; k < ROUNDS; k++) {
			CHECK_EQ(dt_recv(from), 'G');
			usleep(50 * 1000);      /* the parent is parked in dios_select by now */
			dios_name_t n;
			fifo_name(rounds[k], &n);
			dios_ref_t *w = NULL;
			uint64_t c = 1;
			CHECK_EQ(dios_lookup(0, &n, &w, &c), 0);
			dios_iovec_t *iov = NULL;
			CHECK_EQ(dios_acquire_write(0, w, 1, &iov), 0);
			((char *)iov->buf)[0] = (char)('a' + k);
			CHECK_EQ(dios_commit_write(0, w, 1, iov), 0);
			CHECK_EQ(dios_release_write(0, w, iov), 0);
			/* keep the writer end: the reader must not see end of stream */
		}
		CHECK_EQ(dt_recv(from), 'Q');
		_exit(0);
	}
	for (int k = 0; k < ROUNDS; k++) {
		dt_send(to, 'G');
		ready = NULL;
		CHECK_EQ(dios_select(0, refs, N, &ready), 0);
		CHECK(ready == refs[rounds[k]]);
		dios_iovec_t *iov = NULL;
		CHECK_EQ(dios_acquire_read(D_NONBLOCK, ready, 0, &iov), 0);
		CHECK_EQ(iov->len, 1);
		CHECK_EQ(((char *)iov->buf)[0], 'a' + k);
		CHECK_EQ(dios_release_read(0, ready, iov), 0);
		/* drained: not ready any more */
		CHECK_EQ(dios_select(D_NONBLOCK, refs, N, &ready), -EAGAIN);
	}
	dt_send(to, 'Q');
	CHECK_CHILD_OK(pid);

	/* the writers are gone now: end of stream makes the FIFOs they wrote ready. The daemon
	 * learns of the exit asynchronously (after our waitpid may already have returned), so
	 * this select waits for it rather than polling once; alarm() bounds it. */
	CHECK_EQ(dios_select(0, &refs[rounds[2]], 1, &ready), 0);
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, ready, 0, &(dios_iovec_t *){ NULL }), -EPIPE);

	/* a mix: an empty FIFO and the console (no terminal here: input is at its end, so ready) */
	dios_name_t cn;
	CHECK_EQ(dios_name_from_string(DIOS_CONSOLE_NAME_STRING, &cn), 0);
	dios_ref_t *console = dios_pickref(&cn);
	CHECK(console != NULL);
	dios_ref_t *mix[2] = { refs[3], console };
	CHECK_EQ(dios_select(0, mix, 2, &ready), 0);
	CHECK(ready == console);

	/* arguments */
	CHECK_EQ(dios_select(0, refs, 0, &ready), -EINVAL);
	CHECK_EQ(dios_select(0, NULL, 1, &ready), -EINVAL);
	CHECK_EQ(dios_select(0, refs, 1, NULL), -EINVAL);
	CHECK_EQ(dios_select(0, refs, DIOS_MAX_SELECT_REFS + 1, &ready), -E2BIG);
	CHECK_EQ(dios_select(1ULL << 40, refs, 1, &ready), -EINVAL);
	dios_ref_t *bad[2] = { refs[0], (dios_ref_t *)(uintptr_t)0x1234 };
	CHECK_EQ(dios_select(0, bad, 2, &ready), -EBADF);

	CHECK_EQ(dios_delete(0, console), 0);
	for (int i = 0; i < N; i++)
		CHECK_EQ(dios_delete(0, refs[i]), 0);
	dios_daemon_stats_t s = dt_wait_stats(&base, 5000);
	CHECK_STATS_EQ(s, base);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
