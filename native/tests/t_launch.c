/*
 * t_launch - dios-launch without a daemon: fds, brands, policies, the Pure
 * DIOS filter (ENOSYS and --seccomp-kill), uid switching, the status pipe.
 *
 *   t_launch LAUNCHER PROBE [RUST_PROBE]
 *
 * Sets up what diosd does (posix_spawn with file actions: fd 3 one end of a
 * socketpair, fd 4 the branded executable, fd 5 a status pipe's write end,
 * plus fd 7 left without CLOEXEC, which the launcher must close), runs copies
 * of PROBE (native/tests/launch_probe.c) branded each way from a temp dir,
 * and checks exit status, signal, status pipe, stdout and stderr.  RUST_PROBE
 * (optional) is native/tests/probe_rust.rs built by rustc; it is branded
 * --pure and run too.  One "PASS name" or "FAIL name: why" line per check;
 * exit 0 all passed, 1 any failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dios/dios_brand.h>

static int failures, checks;
static char tmpdir[] = "/tmp/dios-t-launch.XXXXXX";
static const char *launcher;

static void check(const char *name, int ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void check(const char *name, int ok, const char *fmt, ...)
{
	checks++;
	if (ok) {
		printf("PASS %s\n", name);
		return;
	}
	failures++;
	printf("FAIL %s: ", name);
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static _Noreturn void die(const char *what)
{
	printf("FAIL setup: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* ---- files ------------------------------------------------------------------- */

static char *tmp_path(const char *name)
{
	static char bufs[16][4096];
	static int k;
	char *b = bufs[k++ % 16];
	snprintf(b, 4096, "%s/%s", tmpdir, name);
	return b;
}

static void copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		die(from);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (out < 0)
		die(to);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n)
			die(to);
	if (n < 0 || close(out) != 0)
		die(to);
	close(in);
	chmod(to, 0755);
}

/* brand < 0: leave unbranded. */
static const char *branded_copy(const char *from, const char *name, int brand)
{
	const char *to = strdup(tmp_path(name));
	if (!to)
		die("strdup");
	copy_file(from, to);
	if (brand >= 0) {
		unsigned char b[2] = { DIOS_ELF_OSABI, (unsigned char)brand };
		int fd = open(to, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || pwrite(fd, b, 2, DIOS_ELF_EI_OSABI) != 2 || close(fd) != 0)
			die(to);
	}
	return to;
}

static size_t slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = 0;
	return (size_t)n;
}

/* ---- one run -------------------------------------------------------------------- */

struct run {
	/* in */
	const char *const *opts;        /* launcher options before "--", NULL-terminated */
	const char *exe;                /* opened as fd 4 */
	const char *const *argv;        /* the task's argv, NULL-terminated */
	int as_nobody;                  /* spawn the launcher as uid/gid 65534 (we are root) */
	int talk;                       /* queue "ping" + memfd + eventfd on fd 3 (mode pure) */
	/* out */
	int code;                       /* exit code, or -1 */
	int sig;                        /* terminating signal, or 0 */
	int pipe_n;                     /* bytes on the status pipe */
	int pipe_errno;                 /* their value when pipe_n == 4 */
	char out[65536], err[8192];
	char msg[256];                  /* what the task sent on fd 3 */
	ssize_t msg_n;
	char page[16];                  /* the memfd's first bytes after the run */
	uint64_t events;                /* the eventfd's count after the run */
};

/* fd at >= 20, close-on-exec: never one of the targets 0..7 */
static int high(int fd)
{
	if (fd < 0)
		die("open");
	int h = fcntl(fd, F_DUPFD_CLOEXEC, 20);
	if (h < 0)
		die("F_DUPFD_CLOEXEC");
	close(fd);
	return h;
}

static void run(struct run *r)
{
	r->code = -1;
	r->sig = 0;
	r->pipe_n = 0;
	r->pipe_errno = 0;
	r->msg_n = -1;
	r->events = 0;
	memset(r->page, 0, sizeof r->page);

	int sv[2], sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		die("socketpair");
	if (pipe2(sp, O_CLOEXEC) != 0)
		die("pipe2");
	int ctl = high(sv[0]), task_sock = high(sv[1]), st_r = high(sp[0]), st_w = high(sp[1]);
	int exe = high(open(r->exe, O_RDONLY | O_CLOEXEC));
	int in = high(open("/dev/null", O_RDONLY | O_CLOEXEC));
	int out = high(open(tmp_path("stdout"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
	int err = high(open(tmp_path("stderr"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
	int leak = high(open("/dev/null", O_RDONLY | O_CLOEXEC));

	int memfd = -1, evfd = -1;
	if (r->talk) {
		memfd = high(memfd_create("t_launch", MFD_CLOEXEC));
		if (ftruncate(memfd, 4096) != 0)
			die("ftruncate");
		evfd = high(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
		int fds[2] = { memfd, evfd };
		union {
			char b[CMSG_SPACE(sizeof fds)];
			struct cmsghdr align;
		} cb;
		memset(&cb, 0, sizeof cb);
		struct iovec io = { "ping", 4 };
		struct msghdr mh = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = cb.b, .msg_controllen = sizeof cb.b };
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof fds);
		memcpy(CMSG_DATA(c), fds, sizeof fds);
		if (sendmsg(ctl, &mh, 0) != 4)
			die("sendmsg ping");
	}

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, err, 2);
	posix_spawn_file_actions_adddup2(&fa, task_sock, 3);
	posix_spawn_file_actions_adddup2(&fa, exe, 4);
	posix_spawn_file_actions_adddup2(&fa, st_w, 5);
	posix_spawn_file_actions_adddup2(&fa, leak, 7);   /* a daemon fd that slipped through */

	const char *av[64];
	int n = 0;
	av[n++] = launcher;
	for (int i = 0; r->opts[i]; i++)
		av[n++] = r->opts[i];
	av[n++] = "--";
	for (int i = 0; r->argv[i] && n < 63; i++)
		av[n++] = r->argv[i];
	av[n] = NULL;
	/* DIOS_PURE=stale: the launcher sets it for pure tasks only, whatever it was given */
	char *env[] = { "DIOS_FD=3", "DIOS_TEST_MARK=m4rk", "PATH=/usr/bin:/bin", "LC_ALL=C", "DIOS_PURE=stale", NULL };

	/* a careless daemon: SIGUSR1 and SIGTERM blocked in the spawning thread
	 * (SIGINT is ignored in main); the launcher must undo both */
	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGTERM);
	posix_spawnattr_setsigmask(&at, &mask);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);

	pid_t pid;
	if (r->as_nobody) {
		/* a non-root daemon: the launcher must be refused a switch to another user */
		pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
			    setresuid(65534, 65534, 65534) != 0)
				_exit(200);
			pid_t c;
			if (posix_spawn(&c, launcher, &fa, &at, (char **)av, env) != 0)
				_exit(201);
			int s;
			if (waitpid(c, &s, 0) != c)
				_exit(202);
			_exit(WIFEXITED(s) ? WEXITSTATUS(s) : 203);
		}
	} else if ((errno = posix_spawn(&pid, launcher, &fa, &at, (char **)av, env)) != 0) {
		die("posix_spawn");
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(task_sock);
	close(st_w);
	close(exe);
	close(in);
	close(out);
	close(err);
	close(leak);

	int s;
	if (waitpid(pid, &s, 0) != pid)
		die("waitpid");
	if (WIFEXITED(s))
		r->code = WEXITSTATUS(s);
	else if (WIFSIGNALED(s))
		r->sig = WTERMSIG(s);

	/* the child is gone, so the pipe holds all it will ever hold */
	unsigned char pb[16];
	ssize_t k, got = 0;
	while ((k = read(st_r, pb + got, sizeof pb - (size_t)got)) > 0)
		got += k;
	r->pipe_n = (int)got;
	if (got == 4)
		memcpy(&r->pipe_errno, pb, 4);
	close(st_r);

	r->msg_n = recv(ctl, r->msg, sizeof r->msg - 1, MSG_DONTWAIT);
	r->msg[r->msg_n > 0 ? r->msg_n : 0] = 0;
	close(ctl);
	if (memfd >= 0) {
		if (pread(memfd, r->page, sizeof r->page - 1, 0) < 0)
			die("pread memfd");
		if (read(evfd, &r->events, sizeof r->events) != sizeof r->events)
			r->events = 0;
		close(memfd);
		close(evfd);
	}
	slurp(tmp_path("stdout"), r->out, sizeof r->out);
	slurp(tmp_path("stderr"), r->err, sizeof r->err);
}

/* ---- what the runs must show ------------------------------------------------- */

static void print_indented(const char *label, const char *text)
{
	if (!*text)
		return;
	printf("    %s:\n", label);
	for (const char *p = text; *p;) {
		const char *e = strchr(p, '\n');
		int len = e ? (int)(e - p) : (int)strlen(p);
		printf("      %.*s\n", len, p);
		p += len + (e ? 1 : 0);
	}
}

/* The run succeeded as a task: exit 0, EOF on the pipe, nothing from the launcher on stderr. */
static int ran_ok(const char *name, struct run *r)
{
	int ok = r->code == 0 && r->sig == 0 && r->pipe_n == 0;
	check(name, ok, "exit %d, signal %d, %d bytes on the status pipe (errno %d)",
	      r->code, r->sig, r->pipe_n, r->pipe_errno);
	if (!ok) {
		print_indented("stdout", r->out);
		print_indented("stderr", r->err);
	}
	return ok;
}

/* The launcher refused: exit 127, the errno on the pipe, one "dios-launch: ..." line. */
static void refused(const char *name, struct run *r, int want)
{
	int one_line = strncmp(r->err, "dios-launch: ", 13) == 0 && strchr(r->err, '\n') == r->err + strlen(r->err) - 1;
	check(name, r->code == 127 && r->pipe_n == 4 && r->pipe_errno == want && one_line,
	      "exit %d, signal %d, %d bytes on the pipe, errno %d (want 127, 4, %d), stderr '%s'",
	      r->code, r->sig, r->pipe_n, r->pipe_errno, want, r->err);
}

static void died_of(const char *name, struct run *r, int sig, const char *reached)
{
	check(name, r->sig == sig && r->pipe_n == 0 && strstr(r->out, reached) != NULL,
	      "exit %d, signal %d (want %d: %s), pipe %d bytes, stdout '%s'",
	      r->code, r->sig, sig, strsignal(sig), r->pipe_n, r->out);
}

/* Every "PASS name" / "FAIL name: why" line the task printed becomes one of ours. */
static void relay(const char *prefix, struct run *r)
{
	char line[sizeof r->out], name[600];
	memcpy(line, r->out, sizeof line);
	for (char *p = line; *p;) {
		char *e = strchr(p, '\n');
		if (e)
			*e = 0;
		int pass = strncmp(p, "PASS ", 5) == 0;
		if (pass || strncmp(p, "FAIL ", 5) == 0) {
			snprintf(name, sizeof name, "%s %.500s", prefix, p + 5);
			check(name, pass, "reported by the task");
		}
		if (!e)
			break;
		p = e + 1;
	}
}

#define OPTS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define ARGV(...) ((const char *const[]){ __VA_ARGS__, NULL })

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: t_launch LAUNCHER PROBE [RUST_PROBE]\n");
		return 2;
	}
	launcher = argv[1];
	const char *probe = argv[2], *rust = argc > 3 ? argv[3] : NULL;
	alarm(100);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* abort() and SIGSYS would dump core: not here */
	struct rlimit nocore = { 0, 0 };
	setrlimit(RLIMIT_CORE, &nocore);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_IGN);        /* inherited by the launcher, which must reset it */
	if (!mkdtemp(tmpdir))
		die("mkdtemp");
	chmod(tmpdir, 0755);            /* the uid-switched runs read from it */

	const char *pure = branded_copy(probe, "probe-pure", DIOS_BRAND_PURE);
	const char *limbo = branded_copy(probe, "probe-limbo", DIOS_BRAND_LIMBO);
	const char *legacy = branded_copy(probe, "probe-legacy", DIOS_BRAND_LEGACY_LIMBO);
	const char *plain = branded_copy(probe, "probe-unbranded", -1);
	const char *odd = branded_copy(probe, "probe-odd-brand", 0x07);   /* OSABI 0xD1, unknown brand */
	const char *script = strdup(tmp_path("script"));
	{
		FILE *f = fopen(script, "w");
		if (!f || fputs("#!/bin/sh\necho script\n", f) < 0 || fclose(f) != 0)
			die(script);
		chmod(script, 0755);
	}
	static struct run r;

	/* Pure DIOS: every check of the probe, and the fd 3 conversation */
	r = (struct run){ .opts = OPTS("--policy", "pure"), .exe = pure, .argv = ARGV("probe-argv0", "pure"), .talk = 1 };
	run(&r);
	relay("pure:", &r);
	ran_ok("pure: the probe exits 0 with no launcher output", &r);
	check("pure: the probe ran to its end", strstr(r.out, "ALL-PASSED 0") != NULL, "stdout has no ALL-PASSED 0");
	check("pure: t_launch got sendmsg's message on fd 3", r.msg_n == 11 && strcmp(r.msg, "probe:hello") == 0,
	      "got %zd bytes '%s'", r.msg_n, r.msg);
	check("pure: the write through the task's MAP_FIXED mapping reached the memfd",
	      strcmp(r.page, "pure-ok") == 0, "memfd holds '%s'", r.page);
	check("pure: the task's eventfd write arrived", r.events == 1, "eventfd count %llu", (unsigned long long)r.events);

	r = (struct run){ .opts = OPTS("--policy", "pure"), .exe = pure, .argv = ARGV("probe", "abort") };
	run(&r);
	died_of("pure: abort() kills with SIGABRT", &r, SIGABRT, "calling abort");

	r = (struct run){ .opts = OPTS("--policy", "pure", "--seccomp-kill"), .exe = pure, .argv = ARGV("probe", "kill") };
	run(&r);
	died_of("pure --seccomp-kill: socket() kills with SIGSYS", &r, SIGSYS, "calling socket");
	check("pure --seccomp-kill: threads, malloc and clone3's ENOSYS survive it", strstr(r.out, "runtime ok") != NULL,
	      "stdout '%s'", r.out);

	r = (struct run){ .opts = OPTS("--seccomp-kill", "--policy", "pure"), .exe = pure, .argv = ARGV("probe", "abort") };
	run(&r);
	died_of("pure --seccomp-kill: abort() still dies of SIGABRT (tgkill to itself)", &r, SIGABRT, "calling abort");

	r = (struct run){ .opts = OPTS("--policy", "pure", "--seccomp-kill"), .exe = pure, .argv = ARGV("probe", "x32") };
	run(&r);
	died_of("pure --seccomp-kill: an x32 syscall kills with SIGSYS", &r, SIGSYS, "calling an x32");

	/* --brand: a program whose brand asks for less than --policy (diosd's way for a Pure DIOS
	 * parent's child) runs under the policy: the same filter, the same DIOS_PURE */
	r = (struct run){ .opts = OPTS("--policy", "pure", "--brand", "limbo"), .exe = limbo,
			  .argv = ARGV("probe-argv0", "pure"), .talk = 1 };
	run(&r);
	relay("limbo-branded under --policy pure:", &r);
	ran_ok("limbo-branded under --policy pure --brand limbo: every Pure check passes", &r);
	check("limbo-branded under --policy pure: the probe ran to its end", strstr(r.out, "ALL-PASSED 0") != NULL,
	      "stdout has no ALL-PASSED 0");
	r = (struct run){ .opts = OPTS("--brand", "legacy", "--policy", "pure", "--seccomp-kill"), .exe = legacy,
			  .argv = ARGV("probe", "kill") };
	run(&r);
	died_of("legacy-branded under --policy pure --seccomp-kill: socket() kills with SIGSYS", &r, SIGSYS,
		"calling socket");
	r = (struct run){ .opts = OPTS("--env", "1", "ONLY=1", "--policy", "pure", "--brand", "limbo"), .exe = limbo,
			  .argv = ARGV("probe", "env") };
	run(&r);
	check("limbo-branded under --policy pure: DIOS_PURE=1 as for a Pure program", r.code == 0 &&
	      strcmp(r.out, "ONLY=1\nDIOS_PURE=1\n") == 0, "exit %d, stdout '%s'", r.code, r.out);

	/* int $0x80: first without a filter, so a kernel without IA32 emulation is a skip */
	r = (struct run){ .opts = OPTS("--policy", "limbo"), .exe = limbo, .argv = ARGV("probe", "int80") };
	run(&r);
	if (r.code == 3) {
		r = (struct run){ .opts = OPTS("--policy", "pure"), .exe = pure, .argv = ARGV("probe", "int80") };
		run(&r);
		died_of("pure: an i386 syscall (int $0x80) kills with SIGSYS, even without --seccomp-kill", &r, SIGSYS,
			"calling int");
	} else {
		printf("SKIP pure: i386 syscalls (int $0x80 without a filter: exit %d, signal %d)\n", r.code, r.sig);
	}

	/* Limbo and Legacy Limbo: no filter */
	r = (struct run){ .opts = OPTS("--policy", "limbo"), .exe = limbo, .argv = ARGV("probe", "limbo", tmpdir) };
	run(&r);
	relay("limbo:", &r);
	ran_ok("limbo: fork, open for writing and socket work", &r);
	struct stat st;
	check("limbo: the file it wrote exists", stat(tmp_path("limbo-wrote"), &st) == 0 && st.st_size == 1,
	      "no %s", tmp_path("limbo-wrote"));
	r = (struct run){ .opts = OPTS("--policy", "legacy"), .exe = legacy, .argv = ARGV("probe", "hello") };
	run(&r);
	ran_ok("legacy: a Legacy Limbo program runs", &r);
	check("legacy: its output", strcmp(r.out, "hello\n") == 0, "stdout '%s'", r.out);
	check("legacy: the launcher prints nothing on success", r.err[0] == 0, "stderr '%s'", r.err);

	/* --env: the task's environment is exactly the strings given (none of the launcher's
	 * own), without DIOS_PURE for a Limbo task, with DIOS_PURE=1 added for a Pure one */
	r = (struct run){ .opts = OPTS("--policy", "limbo", "--env", "3", "A=1", "B=two words", "DIOS_PURE=x"),
			  .exe = limbo, .argv = ARGV("probe", "env") };
	run(&r);
	ran_ok("limbo --env: runs", &r);
	check("limbo --env: exactly the given environment", strcmp(r.out, "A=1\nB=two words\n") == 0, "stdout '%s'", r.out);
	r = (struct run){ .opts = OPTS("--env", "1", "ONLY=1", "--policy", "pure"), .exe = pure, .argv = ARGV("probe", "env") };
	run(&r);
	ran_ok("pure --env: runs", &r);
	check("pure --env: the given environment and DIOS_PURE=1", strcmp(r.out, "ONLY=1\nDIOS_PURE=1\n") == 0,
	      "stdout '%s'", r.out);
	r = (struct run){ .opts = OPTS("--policy", "limbo", "--env", "0"), .exe = limbo, .argv = ARGV("probe", "env") };
	run(&r);
	ran_ok("limbo --env 0: runs", &r);
	check("limbo --env 0: an empty environment", r.out[0] == 0, "stdout '%s'", r.out);
	r = (struct run){ .opts = OPTS("--policy", "limbo", "--env", "9", "A=1"), .exe = limbo, .argv = ARGV("probe", "env") };
	run(&r);
	refused("--env with fewer strings than its count: EINVAL", &r, EINVAL);
	r = (struct run){ .opts = OPTS("--policy", "limbo", "--seccomp-kill"), .exe = limbo, .argv = ARGV("probe", "limbo", tmpdir) };
	run(&r);
	ran_ok("limbo: --seccomp-kill is ignored outside pure", &r);

	/* brands that do not match: ENOEXEC through the status pipe */
	const struct {
		const char *name, *policy, *exe;
	} bad[] = {
		{ "unbranded, --policy pure: ENOEXEC", "pure", plain },
		{ "unbranded, --policy limbo: ENOEXEC", "limbo", plain },
		{ "unbranded, --policy legacy: ENOEXEC", "legacy", plain },
		{ "OSABI 0xD1 with an unknown brand 0x07: ENOEXEC", "pure", odd },
		{ "pure-branded, --policy limbo: ENOEXEC", "limbo", pure },
		{ "pure-branded, --policy legacy: ENOEXEC", "legacy", pure },
		{ "limbo-branded, --policy pure: ENOEXEC", "pure", limbo },
		{ "legacy-branded, --policy limbo: ENOEXEC", "limbo", legacy },
		{ "legacy-branded, --policy pure: ENOEXEC", "pure", legacy },
		{ "a shell script: ENOEXEC", "legacy", script },
		{ "an empty file (/dev/null): ENOEXEC", "pure", "/dev/null" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = (struct run){ .opts = OPTS("--policy", bad[i].policy), .exe = bad[i].exe, .argv = ARGV("probe", "hello") };
		run(&r);
		refused(bad[i].name, &r, ENOEXEC);
		if (strstr(r.out, "hello"))
			check(bad[i].name, 0, "the program ran anyway");
	}

	/* --brand is checked as --policy is without it: the brand the daemon read, exactly */
	const struct {
		const char *name, *policy, *brand, *exe;
	} bad_brand[] = {
		{ "pure-branded, --policy pure --brand limbo: ENOEXEC", "pure", "limbo", pure },
		{ "legacy-branded, --policy pure --brand limbo: ENOEXEC", "pure", "limbo", legacy },
		{ "limbo-branded, --policy limbo --brand legacy: ENOEXEC", "limbo", "legacy", limbo },
		{ "unbranded, --policy pure --brand limbo: ENOEXEC", "pure", "limbo", plain },
	};
	for (size_t i = 0; i < sizeof bad_brand / sizeof bad_brand[0]; i++) {
		r = (struct run){ .opts = OPTS("--policy", bad_brand[i].policy, "--brand", bad_brand[i].brand),
				  .exe = bad_brand[i].exe, .argv = ARGV("probe", "hello") };
		run(&r);
		refused(bad_brand[i].name, &r, ENOEXEC);
		if (strstr(r.out, "hello"))
			check(bad_brand[i].name, 0, "the program ran anyway");
	}

	/* bad command lines: EINVAL */
	r = (struct run){ .opts = OPTS("--policy", "bogus"), .exe = pure, .argv = ARGV("probe", "hello") };
	run(&r);
	refused("--policy bogus: EINVAL", &r, EINVAL);
	r = (struct run){ .opts = OPTS("--policy", "pure", "--brand", "bogus"), .exe = pure, .argv = ARGV("probe", "hello") };
	run(&r);
	refused("--brand bogus: EINVAL", &r, EINVAL);
	/* a policy looser than the brand: never (a Pure program is never run unconfined) */
	r = (struct run){ .opts = OPTS("--policy", "limbo", "--brand", "pure"), .exe = pure, .argv = ARGV("probe", "hello") };
	run(&r);
	refused("--policy limbo --brand pure: EINVAL", &r, EINVAL);
	check("--policy limbo --brand pure: the program did not run", strstr(r.out, "hello") == NULL, "stdout '%s'", r.out);
	r = (struct run){ .opts = OPTS("--policy", "legacy", "--brand", "pure"), .exe = pure, .argv = ARGV("probe", "hello") };
	run(&r);
	refused("--policy legacy --brand pure: EINVAL", &r, EINVAL);
	r = (struct run){ .opts = OPTS("--seccomp-kill"), .exe = pure, .argv = ARGV("probe", "hello") };
	run(&r);
	refused("no --policy: EINVAL", &r, EINVAL);
	r = (struct run){ .opts = OPTS("--policy", "pure", "--uid", "12x"), .exe = pure, .argv = ARGV("probe", "hello") };
	run(&r);
	refused("--uid 12x: EINVAL", &r, EINVAL);
	r = (struct run){ .opts = OPTS("--policy", "pure"), .exe = pure, .argv = (const char *const[]){ NULL } };
	run(&r);
	refused("no ARGV0 after --: EINVAL", &r, EINVAL);

	/* users */
	char me_u[16], me_g[16];
	snprintf(me_u, sizeof me_u, "%u", (unsigned)getuid());
	snprintf(me_g, sizeof me_g, "%u", (unsigned)getgid());
	r = (struct run){ .opts = OPTS("--policy", "pure", "--uid", me_u, "--gid", me_g), .exe = pure,
			  .argv = ARGV("probe", "ids") };
	run(&r);
	ran_ok("--uid/--gid equal to ours: no switch needed", &r);
	if (getuid() == 0) {
		/* a supplementary group of the "daemon" that the task must not keep */
		gid_t extra = 4242;
		if (setgroups(1, &extra) != 0)
			die("setgroups");
		r = (struct run){ .opts = OPTS("--policy", "pure", "--uid", "65534", "--gid", "65534"), .exe = pure,
				  .argv = ARGV("probe", "ids") };
		run(&r);
		ran_ok("root: --uid 65534 --gid 65534 runs the task", &r);
		check("root: the task runs as 65534:65534 with no supplementary groups",
		      strcmp(r.out, "ids uid=65534 gid=65534 groups=0\n") == 0, "stdout '%s'", r.out);
		/* the launcher itself must be executable by nobody: a copy in the 0755 temp dir */
		const char *saved = launcher;
		launcher = branded_copy(saved, "dios-launch", -1);
		r = (struct run){ .opts = OPTS("--policy", "pure", "--uid", "12345", "--gid", "12345"), .exe = pure,
				  .argv = ARGV("probe", "ids"), .as_nobody = 1 };
		run(&r);
		launcher = saved;
		refused("not root: --uid 12345 gives EPERM", &r, EPERM);
	} else {
		char other[16];
		snprintf(other, sizeof other, "%u", (unsigned)getuid() + 1);
		r = (struct run){ .opts = OPTS("--policy", "pure", "--uid", other, "--gid", me_g), .exe = pure,
				  .argv = ARGV("probe", "ids") };
		run(&r);
		refused("not root: --uid of another user gives EPERM", &r, EPERM);
	}

	/* Rust std under the filter */
	if (rust) {
		const char *rp = branded_copy(rust, "probe-rust", DIOS_BRAND_PURE);
		r = (struct run){ .opts = OPTS("--policy", "pure"), .exe = rp, .argv = ARGV("probe-rust", "deny") };
		run(&r);
		relay("rust pure:", &r);
		ran_ok("rust pure: thread, println!, and denials as io::Error", &r);
		check("rust pure: the probe ran to its end", strstr(r.out, "ALL-PASSED 0") != NULL, "stdout '%s'", r.out);
		r = (struct run){ .opts = OPTS("--policy", "pure", "--seccomp-kill"), .exe = rp,
				  .argv = ARGV("probe-rust", "basic") };
		run(&r);
		relay("rust pure --seccomp-kill:", &r);
		ran_ok("rust pure --seccomp-kill: the std runtime makes no call outside the allowlist", &r);
		check("rust pure --seccomp-kill: the probe ran to its end", strstr(r.out, "ALL-PASSED 0") != NULL,
		      "stdout '%s'", r.out);
	} else {
		printf("SKIP rust: no Rust probe given (rustc not found)\n");
	}

	/* clean up the temp dir */
	static const char *const names[] = { "probe-pure", "probe-limbo", "probe-legacy", "probe-unbranded",
					      "probe-odd-brand", "script", "stdout", "stderr", "limbo-wrote",
					      "dios-launch", "probe-rust" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		unlink(tmp_path(names[i]));
	if (rmdir(tmpdir) != 0)
		printf("note: could not remove %s: %s\n", tmpdir, strerror(errno));

	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
