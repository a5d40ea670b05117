/* t_daemon_shutdown: SIGTERM stops the daemon cleanly (socket removed, callers get -ENOTCONN at once) and a new daemon can take the same path. */
#define _GNU_SOURCE
#include "helpers.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>

static atomic_long calls;
static int loop_rc;
static uint64_t loop_end;

static void *loop(void *arg)
{
	(void)arg;
	int rc;
	while ((rc = dios_nop(0)) == 0)
		atomic_fetch_add(&calls, 1);
	loop_end = dt_now_ns();
	loop_rc = rc;
	return NULL;
}

int main(void)
{
	alarm(60);
	dt_start_daemon();
	char dir[4096], sock[4096];
	snprintf(dir, sizeof(dir), "%s", dt_dir());
	snprintf(sock, sizeof(sock), "%s", dt_socket_path());

	CHECK_EQ(dios_nop(0), 0);
	uint64_t size = 4096;
	dios_ref_t *held = NULL;
	dios_iovec_t *iov = NULL;
	dios_name_t name;
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, &name, &held, 0), 0);
	CHECK_EQ(dios_acquire_write(0, held, 0, &iov), 0);
	dt_fill(iov->buf, 4096, 3);
	CHECK_EQ(dios_commit_write(0, held, 4096, iov), 0);

	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, loop, NULL), 0);
	while (atomic_load(&calls) < 1000)
		usleep(1000);

	/* SIGTERM: exits within 10 s, cleanly, with its socket file removed (checked by the helper) */
	uint64_t t_term = dt_now_ns();
	dt_stop_daemon_keep_dir();
	uint64_t t_gone = dt_now_ns();
	fprintf(stderr, "  daemon exited %.1f ms after SIGTERM\n", (t_gone - t_term) / 1e6);
	/* a clean stop on SIGTERM exits 0 (diosd(8)), not the JVM's 128+15 */
	int st = dt_last_stop_status();
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
	struct stat sb;
	CHECK_EQ(lstat(sock, &sb), -1);
	CHECK_EQ(errno, ENOENT);

	CHECK_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(loop_rc, -ENOTCONN);
	/* the looping caller was told before (or very soon after) the process was gone */
	CHECK(loop_end < t_gone + 1000000000ull);

	for (int i = 0; i < 5; i++) {
		uint64_t a = dt_now_ns();
		CHECK_EQ(dios_nop(0), -ENOTCONN);
		CHECK_EQ(dios_acquire_read(0, held, 0, &iov), -ENOTCONN);
		CHECK_EQ(dios_delete(0, held), -ENOTCONN);
		uint64_t b = dt_now_ns();
		if (b - a >= 10000000ull)
			dt_fail(__FILE__, __LINE__, "calls after shutdown took %.3f ms", (b - a) / 1e6);
	}

	/* a new daemon on the same path; this task stays disconnected, a new task (fork) is served */
	dt_start_daemon_in(dir);
	CHECK_EQ(dios_nop(0), -ENOTCONN);
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		alarm(30);
		CHECK_EQ(dios_nop(0), 0);
		dios_daemon_stats_t s = dt_stats();
		CHECK_EQ(s.tasks, 1);
		CHECK_EQ(s.buffers, 0);
		/* memory objects do not survive the daemon */
		dios_ref_t *r = NULL;
		uint64_t count = 1;
		CHECK_EQ(dios_lookup(0, &name, &r, &count), -ENOENT);
		_exit(0);
	}
	CHECK_CHILD_OK(pid);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
