/* helpers.c - shared test scaffolding: private diosd per test, checks, small utilities. */
#define _GNU_SOURCE
#include "helpers.h"

#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

static char g_dir[PATH_MAX - 64];
static char g_sock[PATH_MAX];
static char g_log[PATH_MAX];
static volatile pid_t g_daemon = 0;   /* 0: none running */
static volatile pid_t g_owner = 0;    /* the process that started it */

const char *dt_dir(void) { return g_dir; }
const char *dt_socket_path(void) { return g_sock; }
pid_t dt_daemon_pid(void) { return g_daemon; }

const char *dt_errname(long long v)
{
	switch (v) {
	case -EPERM: return "-EPERM";
	case -ENOENT: return "-ENOENT";
	case -ESRCH: return "-ESRCH";
	case -EINTR: return "-EINTR";
	case -EIO: return "-EIO";
	case -E2BIG: return "-E2BIG";
	case -ENOEXEC: return "-ENOEXEC";
	case -EBADF: return "-EBADF";
	case -EAGAIN: return "-EAGAIN";
	case -ENOMEM: return "-ENOMEM";
	case -EACCES: return "-EACCES";
	case -EFAULT: return "-EFAULT";
	case -EBUSY: return "-EBUSY";
	case -EEXIST: return "-EEXIST";
	case -EINVAL: return "-EINVAL";
	case -ENOSPC: return "-ENOSPC";
	case -EPIPE: return "-EPIPE";
	case -ERANGE: return "-ERANGE";
	case -ENOSYS: return "-ENOSYS";
	case -EIDRM: return "-EIDRM";
	case -EPROTO: return "-EPROTO";
	case -EOPNOTSUPP: return "-EOPNOTSUPP";
	case -ECONNREFUSED: return "-ECONNREFUSED";
	case -ENOTCONN: return "-ENOTCONN";
	case -ETIMEDOUT: return "-ETIMEDOUT";
	case -EDQUOT: return "-EDQUOT";
	case -EHOSTDOWN: return "-EHOSTDOWN";
	case -ESTALE: return "-ESTALE";
	default: return "";
	}
}

const char *dt_fmt(long long v, char *buf)
{
	const char *e = dt_errname(v);
	if (e[0])
		snprintf(buf, 48, "%lld (%s)", v, e);
	else if (v >= -4096 && v <= 65536)
		snprintf(buf, 48, "%lld", v);
	else
		snprintf(buf, 48, "%lld (%#llx)", v, (unsigned long long)v);
	return buf;
}

void dt_print_log_tail(void)
{
	if (!g_log[0])
		return;
	int fd = open(g_log, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "(no daemon log at %s: %s)\n", g_log, strerror(errno));
		return;
	}
	static char buf[8192];
	off_t size = lseek(fd, 0, SEEK_END);
	off_t from = size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, from);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = 0;
	/* last 50 lines */
	int lines = 0;
	char *p = buf + n;
	while (p > buf) {
		if (p[-1] == '\n' && ++lines > 50)
			break;
		p--;
	}
	fprintf(stderr, "----- tail of %s -----\n%s%s----- end of daemon log -----\n",
		g_log, p, (n > 0 && buf[n - 1] != '\n') ? "\n" : "");
}

/* Async-signal-safe: take the daemon's whole process group down. */
static void kill_daemon_group(void)
{
	pid_t d = g_daemon;
	if (d > 0) {
		kill(-d, SIGKILL);
		kill(d, SIGKILL);
	}
}

static void reap_daemon(void)
{
	pid_t d = g_daemon;
	if (d > 0) {
		int st;
		while (waitpid(d, &st, 0) < 0 && errno == EINTR)
			;
		g_daemon = 0;
	}
}

void dt_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "%s:%d: [pid %d] ", file, line, (int)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (g_owner == getpid()) {
		alarm(0);
		if (g_daemon > 0) {
			dt_print_log_tail();
			kill_daemon_group();
			reap_daemon();
		}
		if (g_dir[0])
			fprintf(stderr, "(temp dir kept for inspection: %s)\n", g_dir);
	}
	fflush(stderr);
	_exit(T_EXIT_FAIL);
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "TIMEOUT: test did not finish within its alarm() budget\n";
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing more we can do */
	}
	if (g_owner == getpid()) {
		kill_daemon_group();
		/* the log tail is not async-signal-safe to print, but we are dying anyway */
		dt_print_log_tail();
	}
	_exit(T_EXIT_FAIL);
}

static void install_alarm_handler(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
}

static int probe_connect(const char *path)
{
	struct sockaddr_un a;
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	int r = connect(s, (struct sockaddr *)&a, sizeof(a));
	int e = errno;
	close(s);
	return r == 0 ? 0 : -e;
}

const char *const *dt_daemon_args;
int dt_start_no_serving_wait;

pid_t dt_start_daemon_in(const char *dir)
{
	install_alarm_handler();
	const char *diosd = getenv("DIOSD");
	if (!diosd || !*diosd)
		dt_fail(__FILE__, __LINE__,
			"DIOSD is not set: export DIOSD=<path of the diosd launcher, e.g. <repo>/dist/bin/diosd>");
	if (access(diosd, X_OK) != 0)
		dt_fail(__FILE__, __LINE__, "DIOSD=%s is not executable: %s", diosd, strerror(errno));
	if (g_daemon > 0)
		dt_fail(__FILE__, __LINE__, "dt_start_daemon: a daemon is already running (pid %d)", (int)g_daemon);

	if (strlen(dir) >= sizeof(g_dir))
		dt_fail(__FILE__, __LINE__, "directory name too long: %s", dir);
	if (dir != g_dir)
		snprintf(g_dir, sizeof(g_dir), "%s", dir);
	snprintf(g_sock, sizeof(g_sock), "%s/d.sock", g_dir);
	snprintf(g_log, sizeof(g_log), "%s/diosd.log", g_dir);
	char state[PATH_MAX];
	snprintf(state, sizeof(state), "%s/state", g_dir);

	g_owner = getpid();
	pid_t parent = getpid();
	struct stat logst;
	off_t log_from = stat(g_log, &logst) == 0 ? logst.st_size : 0; /* a restart appends */
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		dt_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
	if (pid == 0) {
		setpgid(0, 0);
		/* the daemon must not outlive a crashed or timed-out test */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		int lfd = open(g_log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		int nfd = open("/dev/null", O_RDONLY);
		if (lfd < 0 || nfd < 0)
			_exit(127);
		dup2(nfd, 0);
		dup2(lfd, 1);
		dup2(lfd, 2);
		close(lfd);
		close(nfd);
		signal(SIGALRM, SIG_DFL);
		alarm(0);
		const char *argv[24] = { diosd, "--socket", g_sock, "--state-dir", state };
		int argc = 5;
		for (int i = 0; dt_daemon_args && dt_daemon_args[i] && argc < 22; i++)
			argv[argc++] = dt_daemon_args[i];
		argv[argc] = NULL;
		execv(diosd, (char *const *)argv);
		dprintf(2, "dt_start_daemon: exec %s: %s\n", diosd, strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	g_daemon = pid;

	uint64_t t0 = dt_now_ns();
	int last = 0;
	for (;;) {
		last = probe_connect(g_sock);
		if (last == 0)
			break;
		int st;
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid) {
			g_daemon = 0;
			dt_print_log_tail();
			dt_fail(__FILE__, __LINE__, "daemon %s exited during start-up (%s %d) before accepting on %s",
				diosd, WIFEXITED(st) ? "exit status" : "signal",
				WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), g_sock);
		}
		if (dt_now_ns() - t0 > 30ull * 1000000000ull)
			dt_fail(__FILE__, __LINE__, "daemon did not accept on %s within 30 s (last connect: %s)",
				g_sock, strerror(-last));
		usleep(20000);
	}
	/*
	 * The socket accepts (into the listen backlog) before the daemon serves:
	 * it first runs its JIT warm-up.  Wait for "serving tasks" in this start's
	 * part of the log, so a test's first call never races a slow start-up on a
	 * loaded machine (the shim gives a registration 10 s, then -ENOTCONN).
	 */
	for (; !dt_start_no_serving_wait;) {
		static char buf[65536];
		int fd = open(g_log, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? pread(fd, buf, sizeof buf - 1, log_from) : -1;
		if (fd >= 0)
			close(fd);
		if (n > 0) {
			buf[n] = 0;
			if (strstr(buf, DT_SERVING_LINE))
				break;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			g_daemon = 0;
			dt_print_log_tail();
			dt_fail(__FILE__, __LINE__, "daemon %s exited during start-up, before serving tasks", diosd);
		}
		if (dt_now_ns() - t0 > 90ull * 1000000000ull)
			dt_fail(__FILE__, __LINE__, "daemon did not log \"%s\" within 90 s of its start", DT_SERVING_LINE);
		usleep(20000);
	}
	if (setenv("DIOS_SOCKET", g_sock, 1) != 0)
		dt_fail(__FILE__, __LINE__, "setenv: %s", strerror(errno));
	return pid;
}

void dt_register(void)
{
	uint64_t t0 = dt_now_ns();
	int rc;
	while ((rc = dios_nop(0)) == -ENOTCONN && dt_now_ns() - t0 < 60ull * 1000000000ull)
		;                       /* the shim waited 10 s for a welcome: the daemon is still starting */
	if (rc != 0)
		dt_fail(__FILE__, __LINE__, "dt_register: dios_nop: %s", dt_errname(rc));
}

pid_t dt_start_daemon(void)
{
	char tmpl[] = "/tmp/dios-test-XXXXXX";
	if (!mkdtemp(tmpl))
		dt_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
	snprintf(g_dir, sizeof(g_dir), "%s", tmpl);
	return dt_start_daemon_in(g_dir);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

void dt_cleanup_dir(void)
{
	if (g_dir[0]) {
		nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		g_dir[0] = 0;
	}
}

/* SIGKILL the daemon (with its process group too when group is set) and reap it. */
static int kill_daemon(const char *who, int group)
{
	pid_t d = g_daemon;
	if (d <= 0)
		dt_fail(__FILE__, __LINE__, "%s: no daemon running", who);
	if (group)
		kill(-d, SIGKILL);
	kill(d, SIGKILL);
	int st = 0;
	while (waitpid(d, &st, 0) < 0) {
		if (errno != EINTR)
			dt_fail(__FILE__, __LINE__, "waitpid(daemon): %s", strerror(errno));
	}
	g_daemon = 0;
	return st;
}

int dt_kill_daemon(void)
{
	return kill_daemon("dt_kill_daemon", 1);
}

int dt_kill_daemon_only(void)
{
	return kill_daemon("dt_kill_daemon_only", 0);
}

int dt_signal_daemon_wait(int sig, int timeout_ms)
{
	pid_t d = g_daemon;
	if (d <= 0)
		dt_fail(__FILE__, __LINE__, "dt_signal_daemon_wait: no daemon running");
	kill(d, sig);
	uint64_t t0 = dt_now_ns(), limit = (uint64_t)timeout_ms * 1000000ull;
	int st = 0;
	for (;;) {
		pid_t w = waitpid(d, &st, WNOHANG);
		if (w == d)
			break;
		if (w < 0 && errno != EINTR)
			dt_fail(__FILE__, __LINE__, "waitpid(daemon): %s", strerror(errno));
		if (dt_now_ns() - t0 > limit)
			dt_fail(__FILE__, __LINE__, "daemon (pid %d) did not exit within %d ms of signal %d", (int)d, timeout_ms, sig);
		usleep(10000);
	}
	g_daemon = 0;
	while (kill(-d, 0) == 0) {
		if (dt_now_ns() - t0 > limit) {
			kill(-d, SIGKILL);
			dt_fail(__FILE__, __LINE__, "processes of the daemon's group %d still alive %d ms after signal %d",
				(int)d, timeout_ms, sig);
		}
		usleep(10000);
	}
	return st;
}

static int g_stop_status = -1;

int dt_last_stop_status(void)
{
	return g_stop_status;
}

static void stop_impl(int keep_dir)
{
	pid_t d = g_daemon;
	if (d <= 0)
		dt_fail(__FILE__, __LINE__, "dt_stop_daemon: no daemon running");
	if (kill(d, SIGTERM) != 0)
		dt_fail(__FILE__, __LINE__, "kill(%d, SIGTERM): %s", (int)d, strerror(errno));
	uint64_t t0 = dt_now_ns();
	int st = 0;
	for (;;) {
		pid_t w = waitpid(d, &st, WNOHANG);
		if (w == d)
			break;
		if (w < 0 && errno != EINTR)
			dt_fail(__FILE__, __LINE__, "waitpid(daemon): %s", strerror(errno));
		if (dt_now_ns() - t0 > 10ull * 1000000000ull)
			dt_fail(__FILE__, __LINE__, "daemon (pid %d) did not exit within 10 s of SIGTERM", (int)d);
		usleep(10000);
	}
	g_daemon = 0;
	g_stop_status = st;
	int clean = (WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 128 + SIGTERM)) ||
		    (WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	if (!clean) {
		dt_print_log_tail();
		dt_fail(__FILE__, __LINE__, "daemon did not exit cleanly on SIGTERM: %s %d",
			WIFEXITED(st) ? "exit status" : "killed by signal",
			WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	}
	/* nothing of the daemon may remain in its process group (e.g. a JVM left by a launcher) */
	while (kill(-d, 0) == 0) {
		if (dt_now_ns() - t0 > 10ull * 1000000000ull) {
			kill(-d, SIGKILL);
			dt_print_log_tail();
			dt_fail(__FILE__, __LINE__, "processes of the daemon's group %d still alive after its exit", (int)d);
		}
		usleep(10000);
	}
	struct stat sb;
	if (lstat(g_sock, &sb) == 0 || errno != ENOENT) {
		dt_print_log_tail();
		dt_fail(__FILE__, __LINE__, "socket file %s still exists after the daemon's clean shutdown", g_sock);
	}
	if (!keep_dir)
		dt_cleanup_dir();
}

void dt_stop_daemon(void) { stop_impl(0); }
void dt_stop_daemon_keep_dir(void) { stop_impl(1); }

dios_daemon_stats_t dt_stats(void)
{
	dios_daemon_stats_t s;
	memset(&s, 0xa5, sizeof(s));
	int r = dios_daemon_stats(&s);
	if (r != 0)
		dt_fail(__FILE__, __LINE__, "dios_daemon_stats failed: %d %s", r, dt_errname(r));
	return s;
}

void dt_print_stats(const char *label, const dios_daemon_stats_t *s)
{
	fprintf(stderr, "%s: tasks=%llu objects=%llu names=%llu refs=%llu buffers=%llu segments=%llu\n",
		label, (unsigned long long)s->tasks, (unsigned long long)s->objects,
		(unsigned long long)s->names, (unsigned long long)s->refs,
		(unsigned long long)s->buffers, (unsigned long long)s->segments);
}

static int stats_eq(const dios_daemon_stats_t *a, const dios_daemon_stats_t *b)
{
	return a->tasks == b->tasks && a->objects == b->objects && a->names == b->names &&
	       a->refs == b->refs && a->buffers == b->buffers && a->segments == b->segments;
}

void dt_check_stats_eq(const char *file, int line, const dios_daemon_stats_t *got,
		       const dios_daemon_stats_t *want)
{
	if (!stats_eq(got, want)) {
		dt_print_stats("got ", got);
		dt_print_stats("want", want);
		dt_fail(file, line, "daemon stats differ from the expected values");
	}
}

dios_daemon_stats_t dt_wait_stats(const dios_daemon_stats_t *want, int timeout_ms)
{
	uint64_t t0 = dt_now_ns();
	dios_daemon_stats_t s;
	for (;;) {
		s = dt_stats();
		if (stats_eq(&s, want))
			return s;
		if (dt_now_ns() - t0 > (uint64_t)timeout_ms * 1000000ull)
			return s;
		usleep(10000);
	}
}

static inline uint32_t xs32(uint32_t *x)
{
	uint32_t v = *x;
	v ^= v << 13; v ^= v >> 17; v ^= v << 5;
	return *x = v;
}

void dt_fill(void *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 0x9e3779b9u;
	if (!x)
		x = 1;
	uint8_t *p = buf;
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(xs32(&x) >> 11);
}

long dt_verify(const void *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 0x9e3779b9u;
	if (!x)
		x = 1;
	const uint8_t *p = buf;
	for (size_t i = 0; i < len; i++)
		if (p[i] != (uint8_t)(xs32(&x) >> 11))
			return (long)i;
	return -1;
}

void dt_random_name(dios_name_t *n)
{
	size_t got = 0;
	while (got < sizeof(n->raw)) {
		ssize_t r = getrandom(n->raw + got, sizeof(n->raw) - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			dt_fail(__FILE__, __LINE__, "getrandom: %s", strerror(errno));
		}
		got += (size_t)r;
	}
}

void dt_send(int fd, char c)
{
	for (;;) {
		ssize_t r = write(fd, &c, 1);
		if (r == 1)
			return;
		if (r < 0 && errno == EINTR)
			continue;
		dt_fail(__FILE__, __LINE__, "pipe write: %s", r < 0 ? strerror(errno) : "short");
	}
}

char dt_recv(int fd)
{
	char c;
	for (;;) {
		ssize_t r = read(fd, &c, 1);
		if (r == 1)
			return c;
		if (r < 0 && errno == EINTR)
			continue;
		dt_fail(__FILE__, __LINE__, "pipe read: %s", r < 0 ? strerror(errno) : "EOF (peer gone)");
	}
}

int dt_wait_child(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			dt_fail(__FILE__, __LINE__, "waitpid(%d): %s", (int)pid, strerror(errno));
	}
	return st;
}

void dt_check_child_ok(const char *file, int line, pid_t pid)
{
	int st = dt_wait_child(pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return;
	if (WIFEXITED(st))
		dt_fail(file, line, "child %d exited with status %d", (int)pid, WEXITSTATUS(st));
	dt_fail(file, line, "child %d killed by signal %d (%s)", (int)pid, WTERMSIG(st), strsignal(WTERMSIG(st)));
}

pid_t dt_fork_peer(int *rd, int *wr)
{
	int c2p[2], p2c[2];
	if (pipe(c2p) != 0 || pipe(p2c) != 0)
		dt_fail(__FILE__, __LINE__, "pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		dt_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
	if (pid == 0) {
		alarm(60);                      /* alarms are not inherited */
		close(c2p[0]);
		close(p2c[1]);
		*rd = p2c[0];
		*wr = c2p[1];
		return 0;
	}
	close(c2p[1]);
	close(p2c[0]);
	*rd = c2p[0];
	*wr = p2c[1];
	return pid;
}

const char *dt_tool_path(void)
{
	static char tool[PATH_MAX];
	if (tool[0])
		return tool;
	const char *diosd = getenv("DIOSD");
	if (!diosd)
		dt_fail(__FILE__, __LINE__, "DIOSD is not set (run-tests.sh sets it to dist/bin/diosd)");
	char d[PATH_MAX];
	snprintf(d, sizeof d, "%s", diosd);
	snprintf(tool, sizeof tool, "%s/dios", dirname(d));
	if (access(tool, X_OK) != 0)
		dt_fail(__FILE__, __LINE__, "%s is missing: the dios tool is staged beside diosd (make dist)", tool);
	return tool;
}

uint64_t dt_stream_fill(uint64_t *p, uint64_t pos, uint64_t len)
{
	uint64_t sum = 0, k0 = pos / 8;
	for (uint64_t i = 0; i < len / 8; i++) {
		p[i] = dt_stream_word(k0 + i);
		sum += p[i];
	}
	return sum;
}

uint64_t dt_stream_check(const char *file, int line, const uint64_t *p, uint64_t pos, uint64_t len)
{
	uint64_t sum = 0, k0 = pos / 8;
	for (uint64_t i = 0; i < len / 8; i++) {
		if (p[i] != dt_stream_word(k0 + i))
			dt_fail(file, line, "byte %llu of the stream is wrong", (unsigned long long)(pos + 8 * i));
		sum += p[i];
	}
	return sum;
}

long dt_rss_kib(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	long v = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

int dt_class_histogram(pid_t pid, char *out, size_t out_size)
{
	char exe[PATH_MAX], jcmd[PATH_MAX + 8], p[32];
	snprintf(p, sizeof p, "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(p, exe, sizeof exe - 1);
	if (n <= 0)
		return -1;
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = 0;
	snprintf(jcmd, sizeof jcmd, "%s/jcmd", exe);
	if (access(jcmd, X_OK) != 0)
		return -1;
	snprintf(p, sizeof p, "%d", (int)pid);
	static char err[4096];
	const char *argv[] = { jcmd, p, "GC.class_histogram", NULL };
	int rc = dt_run_capture(argv, NULL, 0, out, out_size, err, sizeof err);
	if (rc != 0)
		dt_fail(__FILE__, __LINE__, "%s %s GC.class_histogram: exit %d: %s", jcmd, p, rc, err);
	return 0;
}

int dt_run_capture(const char *const *argv, const char *socket, int term_after_ms,
		   char *out, size_t out_size, char *err, size_t err_size)
{
	int po[2], pe[2];
	CHECK(pipe2(po, O_CLOEXEC) == 0 && pipe2(pe, O_CLOEXEC) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		if (socket)
			setenv("DIOS_SOCKET", socket, 1);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	/* both pipes at once: a child blocked writing to one never waits for us */
	struct pollfd p[2] = { { .fd = po[0], .events = POLLIN }, { .fd = pe[0], .events = POLLIN } };
	char *buf[2] = { out, err };
	size_t size[2] = { out_size, err_size }, len[2] = { 0, 0 };
	uint64_t term_at = term_after_ms > 0 ? dt_now_ns() + (uint64_t)term_after_ms * 1000000ull : 0;
	int open_ends = 2;
	while (open_ends > 0) {
		int timeout = -1;
		if (term_at) {
			uint64_t now = dt_now_ns();
			if (now >= term_at) {
				kill(pid, SIGTERM);
				term_at = 0;
			} else {
				timeout = (int)((term_at - now) / 1000000ull) + 1;
			}
		}
		if (poll(p, 2, timeout) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char scratch[4096];
			char *dst = len[i] + 1 < size[i] ? buf[i] + len[i] : scratch;
			size_t room = len[i] + 1 < size[i] ? size[i] - 1 - len[i] : sizeof scratch;
			ssize_t n = read(p[i].fd, dst, room);
			if (n <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open_ends--;
			} else if (dst != scratch) {
				len[i] += (size_t)n;
			}
		}
	}
	for (int i = 0; i < 2; i++) {
		if (p[i].fd >= 0)
			close(p[i].fd);
		buf[i][len[i]] = '\0';
	}
	int st = dt_wait_child(pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 256 + WTERMSIG(st);
}

/* ---- the admin socket: figures the daemon keeps (docs/PROTOCOL.md, section 12) ---- */

int dt_admin(const char *request, char *out, size_t cap)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	/* a program the test started inherits the daemon's socket in the environment */
	const char *sock = dt_socket_path()[0] ? dt_socket_path() : getenv(DIOS_ENV_SOCKET);
	CHECK(sock != NULL);
	int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s" DIOS_ADMIN_SUFFIX, sock);
	CHECK(n > 0 && (size_t)n < sizeof sa.sun_path);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(s >= 0);
	if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0)
		dt_fail(__FILE__, __LINE__, "connect %s: %s", sa.sun_path, strerror(errno));
	char line[256];
	n = snprintf(line, sizeof line, "%s\n", request);
	CHECK(n > 0 && (size_t)n < sizeof line);
	CHECK(write(s, line, (size_t)n) == n);
	size_t len = 0;
	for (;;) {
		CHECK(len + 1 < cap);
		ssize_t r = read(s, out + len, cap - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		CHECK(r >= 0);
		if (r == 0)
			break;
		len += (size_t)r;
		out[len] = '\0';
		if (strstr(out, "\nend\t") || strncmp(out, "error\t", 6) == 0)
			break;
	}
	out[len] = '\0';
	close(s);
	return strncmp(out, "ok\n", 3) == 0 ? 0 : -1;
}

long long dt_admin_status(const char *key)
{
	static char buf[1 << 16];
	CHECK_EQ(dt_admin("status", buf, sizeof buf), 0);
	char want[128];
	snprintf(want, sizeof want, "\nrow\t%s\t", key);
	const char *p = strstr(buf, want);
	if (!p)
		dt_fail(__FILE__, __LINE__, "admin status has no row %s:\n%s", key, buf);
	return strtoll(p + strlen(want), NULL, 10);
}

long long dt_admin_task(pid_t pid, const char *column)
{
	static char buf[1 << 20];
	CHECK_EQ(dt_admin("tasks", buf, sizeof buf), 0);
	/* the column's index in the "columns" line, then the row whose pid matches */
	const char *cols = strstr(buf, "columns\t");
	CHECK(cols != NULL);
	int want = -1, pidcol = -1, i = 0;
	const char *f = cols + 8;
	while (*f && *f != '\n') {
		size_t n = strcspn(f, "\t\n");
		if (n == strlen(column) && strncmp(f, column, n) == 0)
			want = i;
		if (n == 3 && strncmp(f, "pid", 3) == 0)
			pidcol = i;
		i++;
		f += n;
		if (*f == '\t')
			f++;
	}
	if (want < 0 || pidcol < 0)
		dt_fail(__FILE__, __LINE__, "admin tasks has no column %s (or pid):\n%s", column, buf);
	for (const char *row = strstr(buf, "\nrow\t"); row; row = strstr(row + 1, "\nrow\t")) {
		long long v[32];
		int k = 0;
		const char *q = row + 5;
		while (k < 32 && *q && *q != '\n') {
			v[k++] = strtoll(q, NULL, 10);
			q += strcspn(q, "\t\n");
			if (*q == '\t')
				q++;
		}
		if (k > want && k > pidcol && v[pidcol] == pid)
			return v[want];
	}
	return -1;
}
