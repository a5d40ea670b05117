/*
 * c_pure: the child t_pure spawns, branded Pure DIOS.  Its legacy calls are
 * denied by the launcher's seccomp filter, its DIOS calls work.  It reports
 * each check through the FIFO its parent delegated ("ok" or the failed
 * check's name), so the parent sees exactly what failed.
 *   c_pure checks   run the checks
 *   c_pure socket   call socket() (the parent ran it with D_RUN_SECCOMP_KILL)
 *   c_pure raw      call io_uring_setup as a raw system call (likewise)
 *   c_pure env      check the environment t_run_env gave it (exit status)
 */
#define _GNU_SOURCE
#include <dios/dios.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "pure_report.h"

static int denied;

#define EXPECT_ENOSYS(what, call) do { \
	denied++; \
	errno = 0; \
	long r_ = (long)(call); \
	if (r_ != -1 || errno != ENOSYS) { \
		char m_[128]; \
		snprintf(m_, sizeof m_, "%s: returned %ld errno %d, not ENOSYS", what, r_, errno); \
		report(m_); \
		return 1; \
	} \
} while (0)

static void *thread_main(void *arg)
{
	return arg;
}

/*
 * c_pure env: the environment its parent gave with dios_run_env (t_run_env):
 * exits 0 if it is exactly that plus the daemon's DIOS_SOCKET and the
 * launcher's DIOS_PURE=1 (DIOS_FD is gone: the shim took it), else the
 * number of the first check that failed.
 */
static int env_check(void)
{
	extern char **environ;
	const char *v = getenv("DIOS_T_ENV");
	if (!v || strcmp(v, "given to a Pure task") != 0)
		return 10;
	v = getenv("DIOS_PURE");
	if (!v || strcmp(v, "1") != 0)
		return 11;
	if (getenv("PATH") || getenv("DIOS_FD"))
		return 12;
	v = getenv("DIOS_SOCKET");
	if (!v || strcmp(v, "/nowhere/given.sock") == 0)
		return 13;
	int n = 0;
	for (char **e = environ; *e; e++)
		n++;
	if (n != 3)                             /* DIOS_T_ENV, DIOS_SOCKET, DIOS_PURE */
		return 14;
	return dios_nop(0) == 0 ? 0 : 15;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "env") == 0)
		return env_check();
	dios_ref_t *refs[1];
	uint64_t n = 1;
	if (dios_delegated(0, refs, &n) != 0 || n != 1)
		return 2;
	out = refs[0];
	if (argc > 1 && strcmp(argv[1], "socket") == 0) {
		report("about to call socket");
		(void)socket(AF_INET, SOCK_STREAM, 0);  /* killed here with SIGSYS */
		report("socket returned");
		return 1;
	}
	/* Every call docs/PURE_DIOS.md denies, through libc and as raw system calls (the
	 * filter sees numbers, not wrappers).  Signals are 0 and targets harmless, in case
	 * one got through. */
	int sv[2];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char pb[8];
	struct iovec lio = { pb, sizeof pb }, rio = { (void *)0x10000, sizeof pb };
	char *targv[] = { "true", NULL }, *tenv[] = { NULL };
	/* files: nothing opened for writing, created or changed */
	if (argc > 1 && strcmp(argv[1], "raw") == 0) {
		report("about to call io_uring_setup");
		(void)syscall(SYS_io_uring_setup, 1, NULL);     /* killed here with SIGSYS */
		report("io_uring_setup returned");
		return 1;
	}
	EXPECT_ENOSYS("open O_WRONLY", open("/etc/passwd", O_WRONLY));
	EXPECT_ENOSYS("open O_RDWR|O_CREAT", open("/tmp/c_pure-must-not-exist", O_RDWR | O_CREAT, 0600));
	EXPECT_ENOSYS("open O_RDONLY|O_TRUNC", open("/tmp/c_pure-must-not-exist", O_RDONLY | O_TRUNC));
	EXPECT_ENOSYS("open O_APPEND", open("/etc/passwd", O_RDONLY | O_APPEND));
	EXPECT_ENOSYS("openat O_WRONLY", openat(AT_FDCWD, "/etc/passwd", O_WRONLY));
	EXPECT_ENOSYS("syscall(SYS_open, O_WRONLY)", syscall(SYS_open, "/etc/passwd", O_WRONLY, 0));
	EXPECT_ENOSYS("syscall(SYS_openat, O_RDWR)", syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDWR, 0));
	EXPECT_ENOSYS("syscall(SYS_openat2)", syscall(SYS_openat2, AT_FDCWD, "/etc/passwd", NULL, 0));
	EXPECT_ENOSYS("creat", creat("/tmp/c_pure-must-not-exist", 0600));
	EXPECT_ENOSYS("syscall(SYS_creat)", syscall(SYS_creat, "/tmp/c_pure-must-not-exist", 0600));
	EXPECT_ENOSYS("unlink", unlink("/tmp/c_pure-must-not-exist"));
	EXPECT_ENOSYS("syscall(SYS_unlinkat)", syscall(SYS_unlinkat, AT_FDCWD, "/tmp/c_pure-must-not-exist", 0));
	EXPECT_ENOSYS("rename", rename("/tmp/c_pure-a", "/tmp/c_pure-b"));
	EXPECT_ENOSYS("mkdir", mkdir("/tmp/c_pure-must-not-exist", 0700));
	EXPECT_ENOSYS("chmod", chmod("/tmp", 0777));
	EXPECT_ENOSYS("truncate", truncate("/etc/passwd", 0));
	EXPECT_ENOSYS("link", link("/etc/passwd", "/tmp/c_pure-must-not-exist"));
	EXPECT_ENOSYS("symlink", symlink("/etc/passwd", "/tmp/c_pure-must-not-exist"));
	EXPECT_ENOSYS("mknod", mknod("/tmp/c_pure-must-not-exist", S_IFIFO | 0600, 0));
	EXPECT_ENOSYS("memfd_create", syscall(SYS_memfd_create, "x", 0));
	/* sockets: none but the inherited connection to the daemon */
	EXPECT_ENOSYS("socket AF_UNIX", socket(AF_UNIX, SOCK_STREAM, 0));
	EXPECT_ENOSYS("socket AF_INET", socket(AF_INET, SOCK_STREAM, 0));
	EXPECT_ENOSYS("syscall(SYS_socket)", syscall(SYS_socket, AF_UNIX, SOCK_SEQPACKET, 0));
	EXPECT_ENOSYS("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	EXPECT_ENOSYS("connect (fd 3 elsewhere)", connect(3, (struct sockaddr *)&sa, sizeof sa));
	EXPECT_ENOSYS("bind", bind(3, (struct sockaddr *)&sa, sizeof sa));
	EXPECT_ENOSYS("listen", listen(3, 1));
	EXPECT_ENOSYS("accept4", accept4(3, NULL, NULL, 0));
	/* processes: no fork, no exec, no other process touched */
	/* a child that got through would be the failure: it leaves at once, the parent reports */
	EXPECT_ENOSYS("fork", ({ pid_t f_ = fork(); if (f_ == 0) _exit(99); f_; }));
	EXPECT_ENOSYS("syscall(SYS_fork)", ({ long f_ = syscall(SYS_fork); if (f_ == 0) _exit(99); f_; }));
	EXPECT_ENOSYS("syscall(SYS_vfork)", ({ long f_ = syscall(SYS_vfork); if (f_ == 0) _exit(99); f_; }));
	EXPECT_ENOSYS("syscall(SYS_clone) without CLONE_THREAD",
		      ({ long f_ = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0); if (f_ == 0) _exit(99); f_; }));
	EXPECT_ENOSYS("syscall(SYS_clone3)", syscall(SYS_clone3, NULL, 0));
	EXPECT_ENOSYS("execve", execve("/bin/true", targv, tenv));
	EXPECT_ENOSYS("syscall(SYS_execve)", syscall(SYS_execve, "/bin/true", targv, tenv));
	EXPECT_ENOSYS("syscall(SYS_execveat)", syscall(SYS_execveat, AT_FDCWD, "/bin/true", targv, tenv, 0));
	EXPECT_ENOSYS("kill", kill(getppid(), 0));
	EXPECT_ENOSYS("syscall(SYS_kill)", syscall(SYS_kill, 1, 0));
	EXPECT_ENOSYS("syscall(SYS_tkill)", syscall(SYS_tkill, getppid(), 0));
	EXPECT_ENOSYS("syscall(SYS_tgkill) to another process", syscall(SYS_tgkill, getppid(), getppid(), 0));
	EXPECT_ENOSYS("ptrace(TRACEME)", syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0));
	EXPECT_ENOSYS("ptrace(ATTACH, parent)", syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, getppid(), 0, 0));
	EXPECT_ENOSYS("process_vm_readv", syscall(SYS_process_vm_readv, getppid(), &lio, 1, &rio, 1, 0));
	EXPECT_ENOSYS("process_vm_writev", syscall(SYS_process_vm_writev, getppid(), &lio, 1, &rio, 1, 0));
	EXPECT_ENOSYS("pidfd_open", syscall(SYS_pidfd_open, getppid(), 0));
	EXPECT_ENOSYS("pidfd_getfd", syscall(SYS_pidfd_getfd, 3, 0, 0));
	EXPECT_ENOSYS("pidfd_send_signal", syscall(SYS_pidfd_send_signal, 3, 0, NULL, 0));
	/* io_uring's operations would bypass the filter; the kernel's other back doors */
	EXPECT_ENOSYS("io_uring_setup", syscall(SYS_io_uring_setup, 1, NULL));
	EXPECT_ENOSYS("io_uring_enter", syscall(SYS_io_uring_enter, 0, 0, 0, 0, NULL, 0));
	EXPECT_ENOSYS("io_uring_register", syscall(SYS_io_uring_register, 0, 0, NULL, 0));
	EXPECT_ENOSYS("bpf", syscall(SYS_bpf, 0, NULL, 0));
	EXPECT_ENOSYS("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
	EXPECT_ENOSYS("userfaultfd", syscall(SYS_userfaultfd, 0));
	EXPECT_ENOSYS("unshare", syscall(SYS_unshare, 0));
	EXPECT_ENOSYS("setns", syscall(SYS_setns, 0, 0));
	EXPECT_ENOSYS("mount", syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL));
	EXPECT_ENOSYS("keyctl", syscall(SYS_keyctl, 0, 0, 0, 0, 0));
	EXPECT_ENOSYS("setuid", syscall(SYS_setuid, 0));
	EXPECT_ENOSYS("setrlimit", syscall(SYS_setrlimit, RLIMIT_NOFILE, &(struct rlimit){ 64, 64 }));
	EXPECT_ENOSYS("prlimit64 on another process", syscall(SYS_prlimit64, getppid(), RLIMIT_NOFILE, NULL, NULL));
	EXPECT_ENOSYS("ioctl(TIOCSTI)", ioctl(0, TIOCSTI, "x"));
	EXPECT_ENOSYS("fcntl(F_SETOWN)", fcntl(3, F_SETOWN, getppid()));
	/* what the C runtime and the shim need still works */
	int fd = open("/etc/passwd", O_RDONLY);
	if (fd < 0) {
		report("open O_RDONLY failed");
		return 1;
	}
	close(fd);
	pthread_t th;
	if (pthread_create(&th, NULL, thread_main, NULL) != 0 || pthread_join(th, NULL) != 0) {
		report("pthread_create failed");
		return 1;
	}
	char *p = malloc(1 << 20);
	if (!p) {
		report("malloc failed");
		return 1;
	}
	memset(p, 1, 1 << 20);
	free(p);
	dios_ref_t *mem = NULL;
	uint64_t sz = 4096;
	if (dios_create(0, D_OBJ_SHMEM, &sz, NULL, &mem, 0) != 0 || dios_delete(0, mem) != 0) {
		report("DIOS create/delete failed");
		return 1;
	}
	char ok[32];
	snprintf(ok, sizeof ok, "ok %d", denied);
	report(ok);
	return 0;
}
