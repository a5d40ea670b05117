/*
 * t_pure: a Pure DIOS task (c_pure, branded --pure) started with dios_run
 * runs under the launcher's seccomp filter: every call docs/PURE_DIOS.md
 * denies (opens for writing and file system changes, sockets, fork, vfork,
 * clone, exec, kill, ptrace, process_vm_*, pidfd_*, io_uring_*, bpf, mount,
 * setuid, ...), through libc and as raw syscall()s, fails with ENOSYS while
 * its DIOS calls, threads and malloc work; with D_RUN_SECCOMP_KILL a denied
 * call (socket(), a raw io_uring_setup) kills it with SIGSYS.
 */
#include "helpers.h"

#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

static char *read_all(dios_ref_t *r, char *buf, size_t cap)
{
	size_t n = 0;
	for (;;) {
		dios_iovec_t *iov = NULL;
		int rc = dios_acquire_read(0, r, 0, &iov);
		if (rc == -EPIPE)
			break;
		CHECK_EQ(rc, 0);
		size_t k = iov->len < cap - 1 - n ? iov->len : cap - 1 - n;
		memcpy(buf + n, iov->buf, k);
		n += k;
		CHECK_EQ(dios_release_read(0, r, iov), 0);
	}
	buf[n] = '\0';
	return buf;
}

static int run_child(dios_ref_t *exe, const char *mode, dios_flags_t f, char *report, size_t cap)
{
	dios_ref_t *fifo = NULL;
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, NULL, NULL, &fifo, 0), 0);
	char *argv[] = { "c_pure", (char *)mode, NULL };
	dios_task_spec_t spec = { .argc = 2, .argv = argv, .refs = &fifo, .ref_count = 1 };
	dios_ref_t *t = NULL;
	CHECK_EQ(dios_run(f, exe, &spec, &t), 0);
	int st = -1;
	CHECK_EQ(dios_wait(0, t, &st), 0);
	CHECK_EQ(dios_delete(0, t), 0);
	read_all(fifo, report, cap);         /* the child is gone: its end too */
	CHECK_EQ(dios_delete(0, fifo), 0);
	return st;
}

int main(void)
{
	alarm(60);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();

	char self[PATH_MAX], path[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	CHECK(n > 0);
	self[n] = '\0';
	snprintf(path, sizeof path, "%s/c_pure", dirname(self));
	dios_ref_t *exe = NULL;
	CHECK_EQ(dios_exe(path, &exe), 0);

	char report[512];
	int st = run_child(exe, "checks", 0, report, sizeof report);
	if (strncmp(report, "ok ", 3) != 0)
		dt_fail(__FILE__, __LINE__, "the Pure DIOS child reported: %s (status 0x%x)", report, st);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
	CHECK(atoi(report + 3) >= 60);
	fprintf(stderr, "t_pure: %d denied calls gave -ENOSYS under the filter, DIOS calls worked\n", atoi(report + 3));

	st = run_child(exe, "socket", D_RUN_SECCOMP_KILL, report, sizeof report);
	CHECK(WIFSIGNALED(st));
	CHECK_EQ(WTERMSIG(st), SIGSYS);
	CHECK_EQ(strcmp(report, "about to call socket"), 0);

	st = run_child(exe, "raw", D_RUN_SECCOMP_KILL, report, sizeof report);
	CHECK(WIFSIGNALED(st));
	CHECK_EQ(WTERMSIG(st), SIGSYS);
	CHECK_EQ(strcmp(report, "about to call io_uring_setup"), 0);

	CHECK_EQ(dios_delete(0, exe), 0);
	dios_daemon_stats_t s = dt_wait_stats(&base, 5000);
	CHECK_STATS_EQ(s, base);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
