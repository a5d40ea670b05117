/* t_limits - per-task reference and buffer limits and the task limit each give their exact error, and free up again */
#include "helpers.h"

#include <signal.h>
#include <sys/wait.h>

static const char *const args[] = { "--max-refs", "16", "--max-buffers", "4", "--max-tasks", "2", NULL };

/* A forked child: register by making a call; report the result through the exit code. */
static pid_t child_nop(int hold_fd, int hold_wr)
{
	pid_t p = fork();
	CHECK(p >= 0);
	if (p == 0) {
		alarm(30);              /* alarms are not inherited: never outlive a failed test */
		if (hold_wr >= 0)
			close(hold_wr);     /* else our own write end would keep the pipe open */
		int rc = dios_nop(0);
		if (hold_fd >= 0) {     /* stay registered until the parent closes the pipe */
			char c;
			ssize_t n = read(hold_fd, &c, 1);
			(void)n;
		}
		_exit(rc == 0 ? 0 : rc == -ENOTCONN ? 3 : 1);
	}
	return p;
}

int main(void)
{
	alarm(60);
	dt_daemon_args = args;
	dt_start_daemon();

	/* references: 16 per task, this task's own reference included */
	dios_ref_t *refs[32];
	uint64_t size = 4096;
	int n = 0, rc;
	while ((rc = dios_create(0, D_OBJ_SHMEM, &size, NULL, &refs[n], 0)) == 0) {
		n++;
		CHECK(n <= 16);
	}
	CHECK_EQ(rc, -ENOMEM);
	CHECK_EQ(n, 15);
	/* a lookup needs a slot too */
	CHECK_EQ(dios_delete(0, refs[--n]), 0);
	dios_name_t name;
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, &name, &refs[n], 0), 0);
	n++;
	dios_ref_t *extra = NULL;
	uint64_t count = 1;
	CHECK_EQ(dios_lookup(0, &name, &extra, &count), -ENOMEM);
	CHECK_EQ(dios_delete(0, refs[--n]), 0);
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &refs[n], 0), 0);   /* the slot is free again */
	n++;

	/* buffers: 4 outstanding per task */
	dios_iovec_t *iov[8];
	int b = 0;
	while ((rc = dios_acquire_read(0, refs[0], 0, &iov[b])) == 0) {
		b++;
		CHECK(b <= 4);
	}
	CHECK_EQ(rc, -ENOMEM);
	CHECK_EQ(b, 4);
	CHECK_EQ(dios_release_read(0, refs[0], iov[--b]), 0);
	CHECK_EQ(dios_acquire_write(0, refs[1], 0, &iov[b]), 0);              /* room again */
	CHECK_EQ(dios_release_write(0, refs[1], iov[b]), 0);
	while (b > 0)
		CHECK_EQ(dios_release_read(0, refs[0], iov[--b]), 0);
	while (n > 0)
		CHECK_EQ(dios_delete(0, refs[--n]), 0);

	/* tasks: 2 at most; this process is one */
	int hold[2];
	CHECK_EQ(pipe(hold), 0);
	pid_t a = child_nop(hold[0], hold[1]);
	dios_daemon_stats_t want = dt_stats();
	want.tasks = 2;
	want.objects++;
	want.refs++;
	dios_daemon_stats_t got = dt_wait_stats(&want, 5000);   /* child a is registered */
	CHECK_STATS_EQ(got, want);
	int st;
	pid_t b2 = child_nop(-1, -1);
	CHECK_EQ(waitpid(b2, &st, 0), b2);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 3);               /* refused: -ENOTCONN, and it did not hang */
	close(hold[1]);
	CHECK_EQ(waitpid(a, &st, 0), a);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	want.tasks = 1;
	want.objects--;
	want.refs--;
	got = dt_wait_stats(&want, 5000);           /* a is gone: there is room again */
	CHECK_STATS_EQ(got, want);
	pid_t c = child_nop(-1, -1);
	CHECK_EQ(waitpid(c, &st, 0), c);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	dt_stop_daemon();
	return T_EXIT_PASS;
}
