/*
 * launch_probe - a task for t_launch: plain C, no libdlibc.  t_launch brands
 * copies of it and runs them through dios-launch.  argv[1] is the mode:
 *
 *   pure      every Pure DIOS check (what must fail with ENOSYS, what must
 *             work); one "PASS name" or "FAIL name: why" line each; exit 0
 *             when all pass.  Talks to t_launch over fd 3 (see below).
 *   kill      under --seccomp-kill: the runtime still works (threads, malloc,
 *             stdio; clone3 still gives ENOSYS), then socket() must kill us
 *   x32       an x32 system call (must kill under --seccomp-kill)
 *   int80     an i386 system call through int $0x80 (must kill: wrong arch)
 *   abort     abort(): must die of SIGABRT
 *   limbo     fork, open for writing (in argv[2]) and socket all work
 *   ids       prints "ids uid=U gid=G groups=N"
 *   hello     prints "hello"
 *
 * The fd 3 conversation of mode pure: t_launch has queued one message "ping"
 * carrying a memfd of one page and an eventfd (SCM_RIGHTS).  We map the memfd
 * twice back to back (MAP_FIXED over a reservation, as libdlibc maps a FIFO),
 * write "pure-ok" through the second mapping, add 1 to the eventfd and send
 * "probe:hello" back; t_launch checks all three.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

extern char **environ;

static int failures;

static void pass(const char *name)
{
	printf("PASS %s\n", name);
}

static void failf(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failf(const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("FAIL %s: ", name);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	failures++;
}

/* r is a syscall-style result: must be -1 with errno ENOSYS. */
static void expect_enosys(const char *name, long r, int e)
{
	if (r == -1 && e == ENOSYS)
		pass(name);
	else
		failf(name, "expected -1/ENOSYS, got %ld/%s", r, strerror(e));
}

#define ENOSYS_CHECK(name, call) do { errno = 0; long r_ = (long)(call); expect_enosys(name, r_, errno); } while (0)

static void expect_ok(const char *name, int ok, const char *what)
{
	if (ok)
		pass(name);
	else
		failf(name, "%s (errno %s)", what, strerror(errno));
}

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static void *thread_main(void *arg)
{
	int *v = arg;
	*v = 42;
	return v;
}

static int run_thread(void)
{
	pthread_t t;
	int v = 0;
	void *res = NULL;
	if (pthread_create(&t, NULL, thread_main, &v) != 0)
		return 0;
	if (pthread_join(t, &res) != 0)
		return 0;
	return v == 42 && res == &v;
}

static int run_malloc(void)
{
	char *big = malloc(8 << 20);            /* mmap'd by malloc */
	if (!big)
		return 0;
	memset(big, 1, 8 << 20);
	void *small[200];
	for (int i = 0; i < 200; i++) {
		small[i] = malloc((size_t)(i * 37 + 1));
		if (!small[i])
			return 0;
	}
	for (int i = 0; i < 200; i++)
		free(small[i]);
	char *r = realloc(big, 32 << 20);       /* mremap */
	if (!r)
		return 0;
	int ok = r[(8 << 20) - 1] == 1;
	free(r);
	return ok;
}

/* The fd 3 conversation: see the header comment. */
static void control_socket(void)
{
	char buf[64];
	union {
		char b[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec io = { buf, sizeof buf };
	struct msghdr mh = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b };
	struct pollfd p = { .fd = 3, .events = POLLIN };
	expect_ok("poll on fd 3", poll(&p, 1, 5000) == 1 && (p.revents & POLLIN), "poll");
	ssize_t n = recvmsg(3, &mh, MSG_CMSG_CLOEXEC);
	int fds[2] = { -1, -1 };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(2 * sizeof(int)))
		memcpy(fds, CMSG_DATA(c), sizeof fds);
	expect_ok("recvmsg with SCM_RIGHTS on fd 3", n == 4 && memcmp(buf, "ping", 4) == 0 && fds[0] >= 0 && fds[1] >= 0,
		  "no ping with two fds");
	if (fds[0] < 0)
		return;

	struct stat st;
	expect_ok("fstat of a received memfd", fstat(fds[0], &st) == 0 && st.st_size == 4096, "fstat");
	/* the double mapping of libdlibc's FIFOs: a reservation, then two MAP_FIXED views */
	char *a = mmap(NULL, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	int ok = a != MAP_FAILED &&
		 mmap(a, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fds[0], 0) == a &&
		 mmap(a + 4096, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fds[0], 0) == a + 4096;
	if (ok) {
		memcpy(a + 4096, "pure-ok", 8);
		/* the compiler takes a and a + 4096 for different memory: make it read again */
		__asm__ volatile("" ::: "memory");
		ok = memcmp(a, "pure-ok", 8) == 0;      /* the same page, seen through the first view */
	}
	expect_ok("mmap MAP_SHARED|MAP_FIXED double mapping of a memfd", ok, "mmap");
	expect_ok("munmap", a != MAP_FAILED && munmap(a, 8192) == 0, "munmap");

	uint64_t one = 1;
	expect_ok("write to an eventfd", write(fds[1], &one, sizeof one) == sizeof one, "write");

	static const char hello[] = "probe:hello";
	struct iovec so = { (void *)hello, sizeof hello - 1 };
	struct msghdr sm = { .msg_iov = &so, .msg_iovlen = 1 };
	expect_ok("sendmsg on fd 3", sendmsg(3, &sm, MSG_NOSIGNAL) == (ssize_t)(sizeof hello - 1), "sendmsg");
	close(fds[0]);
	close(fds[1]);
}

static int mode_pure(int argc, char **argv)
{
	(void)argc;
	/* what the launcher left us */
	expect_ok("argv[0] is the task's ARGV0", strcmp(argv[0], "probe-argv0") == 0, argv[0]);
	const char *mark = getenv("DIOS_TEST_MARK");
	expect_ok("environment passed", mark && strcmp(mark, "m4rk") == 0 && getenv("DIOS_FD"), "DIOS_TEST_MARK/DIOS_FD missing");
	int fl = fcntl(3, F_GETFD);
	expect_ok("fd 3 open and not close-on-exec", fl >= 0 && !(fl & FD_CLOEXEC), "fcntl(3)");
	sigset_t blocked;
	sigprocmask(SIG_SETMASK, NULL, &blocked);
	expect_ok("no signal blocked (SIGUSR1, SIGTERM were blocked in the spawner)",
		  !sigismember(&blocked, SIGUSR1) && !sigismember(&blocked, SIGTERM), "blocked");
	struct sigaction old;
	expect_ok("SIGINT back to SIG_DFL (ignored in the spawner)",
		  sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler == SIG_DFL, "SIGINT ignored");
	const char *pure = getenv("DIOS_PURE");
	expect_ok("DIOS_PURE=1 in the environment (libdlibc's heap lock)", pure && strcmp(pure, "1") == 0,
		  pure ? pure : "unset");
	errno = 0;
	expect_ok("fd 4 (the executable) closed", fcntl(4, F_GETFD) < 0 && errno == EBADF, "fd 4 open");
	errno = 0;
	expect_ok("fd 5 (the status pipe) closed", fcntl(5, F_GETFD) < 0 && errno == EBADF, "fd 5 open");
	errno = 0;
	expect_ok("fd 7 (a daemon fd leaked without CLOEXEC) closed", fcntl(7, F_GETFD) < 0 && errno == EBADF, "fd 7 open");

	/* files: read-only opens work, anything that could write does not */
	int fd = open("/etc/passwd", O_RDONLY);
	char b[16];
	expect_ok("open(/etc/passwd, O_RDONLY) and read", fd >= 0 && read(fd, b, sizeof b) > 0, "open/read");
	if (fd >= 0)
		close(fd);
	fd = (int)syscall(SYS_open, "/etc/passwd", O_RDONLY | O_CLOEXEC, 0);
	expect_ok("open syscall (not openat), O_RDONLY", fd >= 0, "SYS_open");
	if (fd >= 0)
		close(fd);
	ENOSYS_CHECK("open(/etc/passwd, O_WRONLY)", open("/etc/passwd", O_WRONLY));
	ENOSYS_CHECK("open(/etc/passwd, O_RDWR)", open("/etc/passwd", O_RDWR));
	ENOSYS_CHECK("open(O_RDONLY|O_APPEND)", open("/etc/passwd", O_RDONLY | O_APPEND));
	ENOSYS_CHECK("open(O_RDONLY|O_TRUNC)", open("/tmp/dios-launch-probe-no-such-file", O_RDONLY | O_TRUNC));
	ENOSYS_CHECK("open(O_RDONLY|O_CREAT)", open("/tmp/dios-launch-probe-no-such-file", O_RDONLY | O_CREAT, 0600));
	ENOSYS_CHECK("open syscall, O_WRONLY", syscall(SYS_open, "/etc/passwd", O_WRONLY, 0));
	ENOSYS_CHECK("creat", creat("/tmp/dios-launch-probe-no-such-file", 0600));
	ENOSYS_CHECK("openat2", syscall(SYS_openat2, AT_FDCWD, "/etc/passwd", NULL, 0));
	ENOSYS_CHECK("unlink", unlink("/tmp/dios-launch-probe-no-such-file"));
	ENOSYS_CHECK("mkdir", mkdir("/tmp/dios-launch-probe-no-such-dir", 0700));
	ENOSYS_CHECK("memfd_create", syscall(SYS_memfd_create, "x", 0));

	/* sockets: only the inherited fd 3 */
	ENOSYS_CHECK("socket", socket(AF_UNIX, SOCK_STREAM, 0));
	int sv[2];
	ENOSYS_CHECK("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	struct sockaddr sa = { .sa_family = AF_UNIX };
	ENOSYS_CHECK("connect", connect(3, &sa, sizeof sa));
	ENOSYS_CHECK("bind", bind(3, &sa, sizeof sa));
	ENOSYS_CHECK("listen", listen(3, 1));
	ENOSYS_CHECK("accept", accept(3, NULL, NULL));
	ENOSYS_CHECK("accept4", accept4(3, NULL, NULL, 0));

	/* processes */
	errno = 0;
	pid_t pid = fork();
	if (pid == 0)
		_exit(99);              /* a child would be the failure: the parent reports it */
	if (pid > 0)
		waitpid(pid, NULL, 0);
	expect_enosys("fork", pid, errno);
	pid_t sp;
	char *targv[] = { "true", NULL };
	int e = posix_spawn(&sp, "/bin/true", NULL, NULL, targv, environ);
	if (e == 0)
		waitpid(sp, NULL, 0);
	expect_ok("posix_spawn fails", e != 0, "posix_spawn ran /bin/true");
	ENOSYS_CHECK("clone3", syscall(SYS_clone3, NULL, 0));
	ENOSYS_CHECK("execve", execve("/bin/true", targv, environ));
	ENOSYS_CHECK("execveat(AT_FDCWD, /bin/true)", syscall(SYS_execveat, AT_FDCWD, "/bin/true", targv, environ, 0));
	int tfd = open("/bin/true", O_RDONLY | O_CLOEXEC);
	ENOSYS_CHECK("execveat(fd 4, \"\", AT_EMPTY_PATH) with other addresses",
		     (tfd >= 0 && dup2(tfd, 4) == 4) ? syscall(SYS_execveat, 4, "", targv, environ, AT_EMPTY_PATH) : -2);
	if (tfd >= 0) {
		close(tfd);
		close(4);
	}
	ENOSYS_CHECK("kill(getppid(), 0)", kill(getppid(), 0));
	ENOSYS_CHECK("kill(getpid(), 0)", kill(getpid(), 0));
	ENOSYS_CHECK("tkill", syscall(SYS_tkill, (pid_t)syscall(SYS_gettid), 0));
	ENOSYS_CHECK("tgkill to the parent", syscall(SYS_tgkill, getppid(), getppid(), 0));
	ENOSYS_CHECK("ptrace(PTRACE_PEEKDATA, parent)", ptrace(PTRACE_PEEKDATA, getppid(), NULL, NULL));
	char pbuf[8];
	struct iovec lio = { pbuf, sizeof pbuf }, rio = { (void *)0x10000, sizeof pbuf };
	ENOSYS_CHECK("process_vm_readv", process_vm_readv(getppid(), &lio, 1, &rio, 1, 0));
	ENOSYS_CHECK("process_vm_writev", process_vm_writev(getppid(), &lio, 1, &rio, 1, 0));
	ENOSYS_CHECK("pidfd_open", syscall(SYS_pidfd_open, getppid(), 0));
	ENOSYS_CHECK("io_uring_setup", syscall(SYS_io_uring_setup, 1, NULL));
	ENOSYS_CHECK("ioctl(TIOCSTI)", ioctl(0, TIOCSTI, "x"));
	ENOSYS_CHECK("fcntl(F_SETOWN)", fcntl(3, F_SETOWN, getppid()));
	struct rlimit rl = { 1024, 1024 };
	ENOSYS_CHECK("setrlimit", setrlimit(RLIMIT_NOFILE, &rl));
	ENOSYS_CHECK("prctl(PR_SET_DUMPABLE)", prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
	/* seccomp: adding a plain filter (libdlibc's heap lock), nothing else */
	struct sock_filter allow_all = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = 1, .filter = &allow_all };
	expect_ok("seccomp(SECCOMP_SET_MODE_FILTER, 0): adding a filter", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0,
		  strerror(errno));
	ENOSYS_CHECK("seccomp(SECCOMP_SET_MODE_FILTER, TSYNC)",
		     syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog));
	ENOSYS_CHECK("seccomp(SECCOMP_SET_MODE_FILTER, NEW_LISTENER)",
		     syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog));
	ENOSYS_CHECK("seccomp(SECCOMP_SET_MODE_STRICT)", syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL));
	uint32_t avail = SECCOMP_RET_ALLOW;
	ENOSYS_CHECK("seccomp(SECCOMP_GET_ACTION_AVAIL)", syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &avail));

	/* what the C runtime and libdlibc need */
	expect_ok("getrlimit", getrlimit(RLIMIT_STACK, &rl) == 0, "getrlimit");
	expect_ok("pthread_create and join", run_thread(), "thread");
	expect_ok("malloc, free, realloc", run_malloc(), "malloc");
	struct sigaction act = { .sa_handler = on_usr1 };
	sigemptyset(&act.sa_mask);
	expect_ok("raise(SIGUSR1) with a handler", sigaction(SIGUSR1, &act, NULL) == 0 && raise(SIGUSR1) == 0 && got_usr1,
		  "raise");
	uint32_t word = 0;
	expect_ok("futex wake", syscall(SYS_futex, &word, FUTEX_WAKE, 1, NULL, NULL, 0) == 0, "futex");
	struct timespec ts = { 0, 1000 };
	expect_ok("clock_gettime, nanosleep, sched_yield", clock_gettime(CLOCK_MONOTONIC, &ts) == 0 &&
		  nanosleep(&(struct timespec){ 0, 1000 }, NULL) == 0 && sched_yield() == 0, "time");
	expect_ok("getpid, gettid", getpid() > 0 && syscall(SYS_gettid) == getpid(), "ids");
	control_socket();

	int w = printf("stdout works\n");
	expect_ok("write to stdout", w == 13 && fflush(stdout) == 0, "printf");
	printf("%s %d\n", failures ? "FAILURES" : "ALL-PASSED", failures);
	fflush(stdout);
	return failures ? 1 : 0;
}

static int mode_kill(void)
{
	/* all of this must survive --seccomp-kill */
	int ok = run_thread() && run_malloc();
	errno = 0;
	long r = syscall(SYS_clone3, NULL, 0);
	ok = ok && r == -1 && errno == ENOSYS;
	printf("runtime %s\n", ok ? "ok" : "broken");
	printf("calling socket\n");
	fflush(stdout);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	printf("FAIL socket returned %d (%s)\n", s, strerror(errno));
	return 1;
}

static int mode_x32(void)
{
	printf("calling an x32 syscall\n");
	fflush(stdout);
	errno = 0;
	long r = syscall(__X32_SYSCALL_BIT | SYS_getpid);
	printf("x32 returned %ld (%s)\n", r, strerror(errno));
	return 1;
}

static int mode_int80(void)
{
	printf("calling int $0x80\n");
	fflush(stdout);
	long r;
	/* i386 getpid is 20 */
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory", "rcx", "r11");
	printf("int80 returned %ld\n", r);
	return r == getpid() ? 3 : 1;
}

static int mode_limbo(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	pid_t pid = fork();
	if (pid == 0)
		_exit(7);
	int st = 0;
	expect_ok("fork", pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 7, "fork");
	char path[4096];
	snprintf(path, sizeof path, "%s/limbo-wrote", argv[2]);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	expect_ok("open for writing", fd >= 0 && write(fd, "x", 1) == 1 && close(fd) == 0, path);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	expect_ok("socket", s >= 0, "socket");
	expect_ok("no DIOS_PURE in a Limbo task's environment", getenv("DIOS_PURE") == NULL, getenv("DIOS_PURE"));
	if (s >= 0)
		close(s);
	printf("%s %d\n", failures ? "FAILURES" : "ALL-PASSED", failures);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	if (strcmp(m, "pure") == 0)
		return mode_pure(argc, argv);
	if (strcmp(m, "kill") == 0)
		return mode_kill();
	if (strcmp(m, "x32") == 0)
		return mode_x32();
	if (strcmp(m, "int80") == 0)
		return mode_int80();
	if (strcmp(m, "env") == 0) {       /* its environment, one string a line */
		for (char **e = environ; *e; e++)
			puts(*e);
		return 0;
	}
	if (strcmp(m, "abort") == 0) {
		printf("calling abort\n");
		fflush(stdout);
		abort();
	}
	if (strcmp(m, "limbo") == 0)
		return mode_limbo(argc, argv);
	if (strcmp(m, "ids") == 0) {
		printf("ids uid=%u gid=%u groups=%d\n", (unsigned)getuid(), (unsigned)getgid(), getgroups(0, NULL));
		return 0;
	}
	if (strcmp(m, "hello") == 0) {
		printf("hello\n");
		return 0;
	}
	fprintf(stderr, "launch_probe: unknown mode '%s'\n", m);
	return 2;
}
