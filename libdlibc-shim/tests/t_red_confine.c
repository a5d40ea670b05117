/*
 * t_red_confine: confinement composes (issue 18, findings 5 and 6).
 *
 *  a. A task that closed fds 0-2 spawns a child (once as uid 65534 against a
 *     daemon with --socket-mode 0666, through dios-launch; once as the
 *     daemon's own user, through the direct posix_spawn).  Before its first
 *     DIOS call the child finds fds 0, 1 and 2 open on /dev/null (the device
 *     /dev/null is, and not the daemon's log: st_dev/st_ino compared with
 *     <dir>/diosd.log), fd 3 its control socket, and no other fd.  A forged
 *     "<2>diosd: ..." line with terminal escapes written to its fd 2, and
 *     ftruncate(2, 0), leave the daemon's log as it was.
 *  b. A Pure DIOS task (a copy of this program branded --pure) spawns this
 *     Limbo-branded program, and a Legacy Limbo copy: the child runs under
 *     the Pure filter (Seccomp: 2, NoNewPrivs: 1, DIOS_PURE=1) and socket(),
 *     open(O_CREAT) and fork() fail with ENOSYS.  When the Pure parent runs
 *     with D_RUN_SECCOMP_KILL, its child dies of SIGSYS at socket(), though
 *     the parent's own dios_run asked for no kill.  As the daemon's user
 *     (where a Limbo child would otherwise be posix_spawned directly) and as
 *     uid 65534.
 *  c. The same child spawned by a Limbo parent (this test) runs unconfined,
 *     as before: no filter more than the test's own, and the three calls work.
 * Needs root for the other user; without root, the uid 65534 rounds are
 * skipped and the rest runs.
 */
#define _GNU_SOURCE
#include "helpers.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define OTHER 65534u
/* what a child writes to its fd 2: a forged daemon line, a screen clear and a title change */
#define FORGED "<2>diosd: FORGED-BY-A-TASK shutting down\n\033[2J\033]0;owned\007"

/* ---- the programs this test runs as tasks (argv[1] says which) ------------------ */

static dios_ref_t *out;                 /* the FIFO a child reports on */

static void report(const char *msg)
{
	dios_iovec_t *iov = NULL;
	size_t n = strlen(msg);
	if (dios_acquire_write(0, out, n, &iov) != 0)
		_exit(3);
	memcpy(iov->buf, msg, n);
	if (dios_commit_write(0, out, n, iov) != 0 || dios_release_write(0, out, iov) != 0)
		_exit(4);
}

static int take_refs(dios_ref_t **refs, uint64_t want)
{
	uint64_t n = want;
	return dios_delegated(0, refs, &n) == 0 && n == want ? 0 : -1;
}

/* The value of a "Key:\tN" line of /proc/self/status, or -1.  Read-only opens only (Pure). */
static long status_field(const char *key)
{
	static char buf[8192];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	size_t kl = strlen(key);
	for (char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, kl) == 0 && p[kl] == ':')
			return strtol(p + kl + 1, NULL, 10);
	return -1;
}

/*
 * child "fds LOG_DEV LOG_INO": what fds it was given, looked at before its first
 * DIOS call (libdlibc has only adopted fd 3).  Exit 0 if fds 0-2 are /dev/null, fd 3
 * a socket and nothing else is open; 20+ otherwise.  Then it writes FORGED to fd 2,
 * truncates it, and reports what it saw on the FIFO its parent delegated.
 */
static int child_fds(dev_t log_dev, ino_t log_ino)
{
	char seen[1024] = "";
	size_t at = 0;
	int bad = 0;
	struct stat null;
	if (stat("/dev/null", &null) != 0)
		return 20;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return 21;
	int dfd = dirfd(d);
	struct dirent *e;
	int count = 0;
	while ((e = readdir(d)) != NULL && count < 64) {
		if (e->d_name[0] == '.')
			continue;
		int fd = atoi(e->d_name);
		if (fd == dfd)
			continue;
		count++;
		char link[64], target[256];
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof target - 1);
		target[n > 0 ? n : 0] = 0;
		struct stat st;
		int ok = fstat(fd, &st) == 0;
		if (!ok || (st.st_dev == log_dev && st.st_ino == log_ino))
			bad = bad ? bad : 22;   /* the daemon's log, in any fd */
		else if (fd <= 2 && !(S_ISCHR(st.st_mode) && st.st_rdev == null.st_rdev && strcmp(target, "/dev/null") == 0))
			bad = bad ? bad : 23;
		else if (fd == 3 && !S_ISSOCK(st.st_mode))
			bad = bad ? bad : 24;
		else if (fd > 3)
			bad = bad ? bad : 25;   /* an fd nobody gave it */
		if (at < sizeof seen)
			at += (size_t)snprintf(seen + at, sizeof seen - at, "%d=%s ", fd, target);
	}
	closedir(d);
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			bad = bad ? bad : 26;   /* closed: its first open would take it */
	/* the attack itself: both harmless on /dev/null */
	(void)!write(2, FORGED, sizeof FORGED - 1);
	(void)ftruncate(2, 0);
	dios_ref_t *refs[1];
	if (take_refs(refs, 1) != 0)
		return 27;
	out = refs[0];
	report(seen);
	return bad;
}

/*
 * child "probe DIR": the filter it runs under and whether socket(), open(O_CREAT)
 * of DIR/created and fork() work, reported in two messages on the delegated FIFO:
 *   "seccomp=S filters=F nnp=N pure=P\n"   then   "socket=R creat=R fork=R\n"
 * (R: 0, or -errno).  Under a killing filter it dies at socket(), after the first.
 */
static int child_probe(const char *dir)
{
	dios_ref_t *refs[1];
	if (take_refs(refs, 1) != 0)
		return 2;
	out = refs[0];
	char line[256];
	const char *pure = getenv("DIOS_PURE");
	snprintf(line, sizeof line, "seccomp=%ld filters=%ld nnp=%ld pure=%s\n", status_field("Seccomp"),
		 status_field("Seccomp_filters"), status_field("NoNewPrivs"), pure ? pure : "");
	report(line);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rs = s >= 0 ? 0 : -errno;
	if (s >= 0)
		close(s);
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/created", dir);
	int f = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int rc = f >= 0 ? 0 : -errno;
	if (f >= 0)
		close(f);
	pid_t p = fork();
	int rf = p >= 0 ? 0 : -errno;
	if (p == 0)
		_exit(0);
	if (p > 0 && waitpid(p, NULL, 0) != p)
		rf = -ECHILD;
	snprintf(line, sizeof line, "socket=%d creat=%d fork=%d\n", rs, rc, rf);
	report(line);
	return 0;
}

/*
 * "pure-parent DIR" (run from a --pure copy): dios_runs the delegated executable as
 * "probe DIR" with the delegated FIFO, asking for no kill mode, and exits with the
 * child's exit code, or 100 + the signal that killed it; 90+ if a call failed.
 */
static int pure_parent(const char *dir)
{
	dios_ref_t *refs[2];
	if (take_refs(refs, 2) != 0)
		return 90;
	char *argv[] = { "t_red_confine", "probe", (char *)dir, NULL };
	dios_task_spec_t spec = { .argc = 3, .argv = argv, .refs = &refs[0], .ref_count = 1 };
	dios_ref_t *t = NULL;
	int rc = dios_run(0, refs[1], &spec, &t);
	if (rc != 0)
		return rc == -ENOEXEC ? 91 : 92;
	int st = -1;
	if (dios_wait(0, t, &st) != 0)
		return 93;
	return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 100 + WTERMSIG(st) : 94;
}

/* ---- the test ------------------------------------------------------------------- */

static char self_path[PATH_MAX];

static void become(uid_t uid)
{
	if (setgroups(0, NULL) != 0 || setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0)
		_exit(80);
}

/* Everything a FIFO holds, once its writer is gone (the tasks have exited). */
static void read_all(dios_ref_t *r, char *buf, size_t cap)
{
	size_t n = 0;
	for (int rounds = 0; rounds < 64; rounds++) {
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
	buf[n] = 0;
}

static off_t log_size(void)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/diosd.log", dt_dir());
	struct stat st;
	CHECK_EQ(stat(path, &st), 0);
	return st.st_size;
}

static int log_contains(const char *needle)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/diosd.log", dt_dir());
	static char log[1 << 20];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	ssize_t r = read(fd, log, sizeof log - 1);
	close(fd);
	log[r > 0 ? r : 0] = 0;
	return strstr(log, needle) != NULL;
}

/*
 * a. In a fork, as uid (or as we are, when uid is 0): close fds 0-2, then dios_run
 * this program as "fds"; the report comes back on a pipe, the child's exit code as ours.
 */
static void closed_stdio_round(uid_t uid, const struct stat *logst)
{
	int p[2];
	CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
	off_t before = log_size();
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		if (uid)
			become(uid);
		setsid();                       /* no terminal: the daemon gives none */
		close(p[0]);
		if (dup3(p[1], 20, O_CLOEXEC) != 20)
			_exit(81);
		close(p[1]);
		close(0);
		close(1);
		close(2);
		/* the first DIOS call connects now: its socket takes fd 0 */
		dios_ref_t *fifo = NULL, *exe = NULL, *t = NULL;
		if (dios_create(0, D_OBJ_FIFO, NULL, NULL, &fifo, 0) != 0 || dios_exe(self_path, &exe) != 0)
			_exit(82);
		char dev[32], ino[32];
		snprintf(dev, sizeof dev, "%llu", (unsigned long long)logst->st_dev);
		snprintf(ino, sizeof ino, "%llu", (unsigned long long)logst->st_ino);
		char *argv[] = { "t_red_confine", "fds", dev, ino, NULL };
		dios_task_spec_t spec = { .argc = 4, .argv = argv, .refs = &fifo, .ref_count = 1 };
		if (dios_run(0, exe, &spec, &t) != 0)
			_exit(83);
		int st = -1;
		if (dios_wait(0, t, &st) != 0)
			_exit(84);
		char seen[1024];
		size_t n = 0;
		for (int rounds = 0; rounds < 64; rounds++) {
			dios_iovec_t *iov = NULL;
			if (dios_acquire_read(0, fifo, 0, &iov) != 0)
				break;          /* -EPIPE: the child is gone */
			size_t k = iov->len < sizeof seen - 1 - n ? iov->len : sizeof seen - 1 - n;
			memcpy(seen + n, iov->buf, k);
			n += k;
			dios_release_read(0, fifo, iov);
		}
		(void)!write(20, seen, n);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 85);
	}
	close(p[1]);
	char seen[1024];
	size_t n = 0;
	ssize_t r;
	while (n + 1 < sizeof seen && (r = read(p[0], seen + n, sizeof seen - 1 - n)) > 0)
		n += (size_t)r;         /* to EOF: the attacker is gone */
	seen[n] = 0;
	close(p[0]);
	int st = dt_wait_child(pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		dt_fail(__FILE__, __LINE__, "uid %u: the child of a task that closed fds 0-2 (status 0x%x, 20+: a bad fd) "
			"had the fds: %s", (unsigned)(uid ? uid : getuid()), st, seen);
	/* exactly 0-3, and each as expected (the exit code said so; the listing shows it) */
	static const char want[] = "0=/dev/null 1=/dev/null 2=/dev/null 3=socket:[";
	if (strncmp(seen, want, sizeof want - 1) != 0)
		dt_fail(__FILE__, __LINE__, "uid %u: the child's fds are: %s", (unsigned)(uid ? uid : getuid()), seen);
	CHECK(log_size() >= before);                    /* not truncated */
	if (log_contains("FORGED-BY-A-TASK") || log_contains("\033]0;owned"))
		dt_fail(__FILE__, __LINE__, "the child's forged line reached the daemon's log");
}

/*
 * b. As uid (or as we are): the Pure copy runs child_exe as "probe dir" (its own
 * dios_run asks for no kill), itself run with flags.  Returns the Pure parent's exit
 * code (see pure_parent) with the child's report in rep.
 */
static int pure_round(const char *pure_exe, const char *child_exe, const char *dir, dios_flags_t flags,
		      char *rep, size_t cap)
{
	dios_ref_t *pp = NULL, *ch = NULL, *fifo = NULL, *t = NULL;
	CHECK_EQ(dios_exe(pure_exe, &pp), 0);
	CHECK_EQ(dios_exe(child_exe, &ch), 0);
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, NULL, NULL, &fifo, 0), 0);
	dios_ref_t *refs[2] = { fifo, ch };
	char *argv[] = { "t_red_confine", "pure-parent", (char *)dir, NULL };
	dios_task_spec_t spec = { .argc = 3, .argv = argv, .refs = refs, .ref_count = 2 };
	CHECK_EQ(dios_run(flags, pp, &spec, &t), 0);
	int st = -1;
	CHECK_EQ(dios_wait(0, t, &st), 0);
	read_all(fifo, rep, cap);
	CHECK_EQ(dios_delete(0, t), 0);
	CHECK_EQ(dios_delete(0, fifo), 0);
	CHECK_EQ(dios_delete(0, ch), 0);
	CHECK_EQ(dios_delete(0, pp), 0);
	if (!WIFEXITED(st))
		dt_fail(__FILE__, __LINE__, "the Pure parent itself ended with status 0x%x; its child reported: %s", st, rep);
	return WEXITSTATUS(st);
}

static void check_pure_child(const char *what, int code, const char *rep, int kill, const char *dir)
{
	char want[256];
	snprintf(want, sizeof want, "seccomp=2 filters=%ld nnp=1 pure=%s\n%s", status_field("Seccomp_filters") + 2,
		 kill ? "kill" : "1", kill ? "" : "socket=-38 creat=-38 fork=-38\n");
	if (strcmp(rep, want) != 0 || code != (kill ? 100 + SIGSYS : 0))
		dt_fail(__FILE__, __LINE__, "%s%s: exit code %d (want %d), report\n%s\nwanted\n%s", what,
			kill ? " (Pure parent with D_RUN_SECCOMP_KILL)" : "", code, kill ? 100 + SIGSYS : 0, rep, want);
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/created", dir);
	if (access(path, F_OK) == 0)
		dt_fail(__FILE__, __LINE__, "%s: the child of a Pure task created %s", what, path);
}

/* A copy of this program in the test's directory, branded with brand_opt (0755: other users run it). */
static void branded_copy(const char *dst, const char *brand_opt)
{
	int in = open(self_path, O_RDONLY | O_CLOEXEC), o = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	CHECK(in >= 0 && o >= 0);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		CHECK_EQ(write(o, buf, (size_t)n), n);
	CHECK_EQ(n, 0);
	close(in);
	CHECK_EQ(close(o), 0);
	CHECK_EQ(chmod(dst, 0755), 0);
	const char *argv[] = { dt_tool_path(), "brand", brand_opt, dst, NULL };
	char so[256], se[256];
	if (dt_run_capture(argv, NULL, 0, so, sizeof so, se, sizeof se) != 0)
		dt_fail(__FILE__, __LINE__, "dios brand %s %s: %s%s", brand_opt, dst, so, se);
}

int main(int argc, char **argv)
{
	/* a task's part: first, before anything a Pure filter would refuse (alarm is one) */
	if (argc == 4 && strcmp(argv[1], "fds") == 0)
		return child_fds((dev_t)strtoull(argv[2], NULL, 10), (ino_t)strtoull(argv[3], NULL, 10));
	if (argc == 3 && strcmp(argv[1], "probe") == 0)
		return child_probe(argv[2]);
	if (argc == 3 && strcmp(argv[1], "pure-parent") == 0)
		return pure_parent(argv[2]);

	alarm(100);
	int root = geteuid() == 0;
	ssize_t sl = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
	CHECK(sl > 0);
	self_path[sl] = 0;
	static const char *const args[] = { "--socket-mode", "0666", NULL };
	dt_daemon_args = args;
	dt_start_daemon();
	CHECK_EQ(chmod(dt_dir(), 0711), 0);     /* uid 65534 reaches the socket and the copies */
	char logp[PATH_MAX];
	snprintf(logp, sizeof logp, "%s/diosd.log", dt_dir());
	struct stat logst;
	CHECK_EQ(stat(logp, &logst), 0);

	/* a. finding 5: fds 0-2 closed in the parent; the attacker forks before we connect */
	if (root)
		closed_stdio_round(OTHER, &logst);
	else
		fprintf(stderr, "t_red_confine: not root: the uid %u rounds are skipped\n", OTHER);
	closed_stdio_round(0, &logst);
	fprintf(stderr, "t_red_confine: a task that closed fds 0-2 gives its child /dev/null, never the daemon's fds\n");

	/* b. finding 6: a Pure DIOS parent's Limbo and Legacy Limbo children run Pure */
	char pure_exe[PATH_MAX], legacy_exe[PATH_MAX], dir[PATH_MAX];
	snprintf(pure_exe, sizeof pure_exe, "%s/t_red_confine.pure", dt_dir());
	snprintf(legacy_exe, sizeof legacy_exe, "%s/t_red_confine.legacy", dt_dir());
	snprintf(dir, sizeof dir, "%s/w", dt_dir());
	branded_copy(pure_exe, "--pure");
	branded_copy(legacy_exe, "--legacy-limbo");
	CHECK_EQ(mkdir(dir, 0777), 0);
	CHECK_EQ(chmod(dir, 0777), 0);         /* uid 65534's children may create there, unconfined */
	const char *children[2] = { self_path, legacy_exe };
	static char rep[1024];
	if (root) {
		fflush(NULL);
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			become(OTHER);
			for (int c = 0; c < 2; c++)
				for (int kill = 0; kill <= 1; kill++) {
					int code = pure_round(pure_exe, children[c], dir, kill ? D_RUN_SECCOMP_KILL : 0, rep, sizeof rep);
					check_pure_child(c ? "uid 65534, a Legacy Limbo child" : "uid 65534, a Limbo child", code, rep, kill, dir);
				}
			_exit(0);
		}
		CHECK_CHILD_OK(pid);
	}
	dt_register();
	for (int c = 0; c < 2; c++)
		for (int kill = 0; kill <= 1; kill++) {
			int code = pure_round(pure_exe, children[c], dir, kill ? D_RUN_SECCOMP_KILL : 0, rep, sizeof rep);
			check_pure_child(c ? "a Legacy Limbo child" : "a Limbo child", code, rep, kill, dir);
		}
	fprintf(stderr, "t_red_confine: a Pure DIOS task's Limbo and Legacy Limbo children run Pure, "
		"in its kill mode\n");

	/* c. the same child of a Limbo parent (this test): unconfined, as before */
	dios_ref_t *ch = NULL, *fifo = NULL, *t = NULL;
	CHECK_EQ(dios_exe(self_path, &ch), 0);
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, NULL, NULL, &fifo, 0), 0);
	char *cargv[] = { "t_red_confine", "probe", dir, NULL };
	dios_task_spec_t spec = { .argc = 3, .argv = cargv, .refs = &fifo, .ref_count = 1 };
	CHECK_EQ(dios_run(0, ch, &spec, &t), 0);
	int st = -1;
	CHECK_EQ(dios_wait(0, t, &st), 0);
	read_all(fifo, rep, sizeof rep);
	char want[256];
	snprintf(want, sizeof want, "seccomp=%ld filters=%ld nnp=%ld pure=\nsocket=0 creat=0 fork=0\n",
		 status_field("Seccomp"), status_field("Seccomp_filters"), status_field("NoNewPrivs"));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || strcmp(rep, want) != 0)
		dt_fail(__FILE__, __LINE__, "a Limbo parent's Limbo child: status 0x%x, report\n%s\nwanted\n%s", st, rep, want);
	char created[PATH_MAX + 16];
	snprintf(created, sizeof created, "%s/created", dir);
	CHECK_EQ(unlink(created), 0);
	CHECK_EQ(dios_delete(0, t), 0);
	CHECK_EQ(dios_delete(0, fifo), 0);
	CHECK_EQ(dios_delete(0, ch), 0);
	fprintf(stderr, "t_red_confine: a Limbo parent's Limbo child runs unconfined, as before\n");

	dt_stop_daemon();
	return T_EXIT_PASS;
}
