/*
 * t_task_limit: diosd --max-tasks-per-user 3.  This task and two children it
 * spawned are three: a third dios_run fails with -EAGAIN and the daemon logs
 * why; a task of the same user connecting by itself is refused (-EAGAIN);
 * once a child has exited, dios_run works again.
 */
#include "helpers.h"

#include <string.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "wait") == 0) {
		/* block until the FIFO delegated to us ends */
		dios_ref_t *r = NULL;
		uint64_t n = 1;
		CHECK_EQ(dios_delegated(0, &r, &n), 0);
		CHECK_EQ(n, 1);
		dios_iovec_t *iov = NULL;
		CHECK_EQ(dios_acquire_read(0, r, 0, &iov), -EPIPE);
		return 0;
	}
	alarm(60);
	static const char *const args[] = { "--max-tasks-per-user", "3", NULL };
	dt_daemon_args = args;
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_ref_t *exe = dios_pickref(dios_self_exe());
	CHECK(exe != NULL);
	/* each child reads its own FIFO (one reader end per FIFO) */
	dios_ref_t *f[3] = { NULL, NULL, NULL };
	for (int i = 0; i < 3; i++)
		CHECK_EQ(dios_create(0, D_OBJ_FIFO, NULL, NULL, &f[i], 0), 0);
	char *cargv[] = { "t_task_limit", "wait", NULL };
	dios_task_spec_t spec[3];
	for (int i = 0; i < 3; i++)
		spec[i] = (dios_task_spec_t){ .argc = 2, .argv = cargv, .refs = &f[i], .ref_count = 1 };
	dios_ref_t *t[3] = { NULL, NULL, NULL };
	CHECK_EQ(dios_run(0, exe, &spec[0], &t[0]), 0);
	CHECK_EQ(dios_run(0, exe, &spec[1], &t[1]), 0);
	CHECK_EQ(dios_run(0, exe, &spec[2], &t[2]), -EAGAIN);

	int from, to;
	pid_t pid = dt_fork_peer(&from, &to);
	if (pid == 0) {
		CHECK_EQ(dios_nop(0), -EAGAIN);     /* refused at registration: the user's task limit */
		CHECK_EQ(dios_nop(0), -EAGAIN);     /* asked again, still full: not a dead connection */
		_exit(0);
	}
	CHECK_CHILD_OK(pid);

	CHECK_EQ(dios_delete(0, f[0]), 0);       /* end of stream: both children end */
	CHECK_EQ(dios_delete(0, f[1]), 0);
	for (int i = 0; i < 2; i++) {
		int st = -1;
		CHECK_EQ(dios_wait(0, t[i], &st), 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		CHECK_EQ(dios_delete(0, t[i]), 0);
	}
	/* room again */
	CHECK_EQ(dios_run(0, exe, &spec[2], &t[2]), 0);
	CHECK_EQ(dios_delete(0, f[2]), 0);
	int st = -1;
	CHECK_EQ(dios_wait(0, t[2], &st), 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
