/*
 * t_cap_socket - another user cannot reach this user's daemon.
 *   1. The daemon's three sockets (tasks, .admin, .rpc) are owner-only
 *      (0600) in an owner-only directory: uid 65534 gets EACCES from
 *      connect() on each, even with the directory opened up, and its shim's
 *      first call gets -ENOTCONN.
 *   2. A /tmp/dios-UID made in advance by someone else (here uid 65533, mode
 *      0777, with a listener of its own inside): a daemon of uid UID refuses
 *      to start there, and UID's shim will not connect to that listener.
 *   3. Absent, the default directory is made 0700 and its socket 0600.
 * (The admin listing for another uid on a socket every user may open is
 * t_admin's case: refused with EACCES.)  Needs root, to be the other users.
 */
#define _GNU_SOURCE
#include "helpers.h"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#define OTHER 65534u
#define SQUATTER 65533u

static void become(uid_t uid)
{
	if (setgroups(0, NULL) != 0 || setgid(uid) != 0 || setuid(uid) != 0)
		_exit(90);
}

static int connect_errno(const char *path, int type)
{
	int s = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1000;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	int rc = connect(s, (struct sockaddr *)&a, sizeof a);
	int e = errno;
	close(s);
	return rc == 0 ? 0 : e;
}

/* Child as uid OTHER: every socket of the daemon refuses it. */
static int other_user_probe(const char *sock)
{
	char p[PATH_MAX];
	int bad = 0;
	bad |= connect_errno(sock, SOCK_SEQPACKET) != EACCES;
	snprintf(p, sizeof p, "%s%s", sock, DIOS_ADMIN_SUFFIX);
	bad |= (connect_errno(p, SOCK_STREAM) != EACCES) << 1;
	snprintf(p, sizeof p, "%s%s", sock, DIOS_RPC_SUFFIX);
	bad |= (connect_errno(p, SOCK_SEQPACKET) != EACCES) << 2;
	setenv(DIOS_ENV_SOCKET, sock, 1);
	bad |= (dios_nop(0) != -ENOTCONN) << 3;
	return bad;
}

static void check_mode(const char *path, mode_t type, mode_t mode, uid_t owner)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		dt_fail(__FILE__, __LINE__, "stat %s: %s", path, strerror(errno));
	if ((st.st_mode & S_IFMT) != type || (st.st_mode & 07777) != mode || st.st_uid != owner)
		dt_fail(__FILE__, __LINE__, "%s: mode 0%o uid %u, expected 0%o uid %u", path, (unsigned)(st.st_mode & 07777),
			(unsigned)st.st_uid, (unsigned)mode, (unsigned)owner);
}

/* Runs the daemon as uid with the default socket path; its stderr into err. Returns the pid (running), or waits and returns -status. */
static pid_t start_daemon_as(uid_t uid, int errfd, int wait_exit, int *status)
{
	const char *diosd = getenv("DIOSD");
	CHECK(diosd != NULL);
	fflush(NULL);
	pid_t p = fork();
	CHECK(p >= 0);
	if (p == 0) {
		setpgid(0, 0);
		dup2(errfd, 1);
		dup2(errfd, 2);
		become(uid);
		unsetenv(DIOS_ENV_SOCKET);
		unsetenv("XDG_RUNTIME_DIR");
		setenv("HOME", "/tmp", 1);
		execl(diosd, diosd, "--warmup-cycles", "0", (char *)NULL);
		_exit(91);
	}
	if (wait_exit) {
		CHECK_EQ(waitpid(p, status, 0), p);
		return 0;
	}
	return p;
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "skip: needs root, to act as other users\n");
		return T_EXIT_SKIP;
	}
	alarm(110);
	static const char *const args[] = { "--warmup-cycles", "0", NULL };
	dt_daemon_args = args;
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	const char *sock = dt_socket_path();
	char p[PATH_MAX];

	/* 1. owner-only sockets in an owner-only directory */
	check_mode(dt_dir(), S_IFDIR, 0700, 0);
	check_mode(sock, S_IFSOCK, 0600, 0);
	snprintf(p, sizeof p, "%s%s", sock, DIOS_ADMIN_SUFFIX);
	check_mode(p, S_IFSOCK, 0600, 0);
	snprintf(p, sizeof p, "%s%s", sock, DIOS_RPC_SUFFIX);
	check_mode(p, S_IFSOCK, 0600, 0);
	for (int open_dir = 0; open_dir < 2; open_dir++) {
		CHECK_EQ(chmod(dt_dir(), open_dir ? 0755 : 0700), 0);   /* opened up: only the sockets' modes stop it */
		fflush(NULL);
		pid_t c = fork();
		CHECK(c >= 0);
		if (c == 0) {
			become(OTHER);
			_exit(other_user_probe(sock));
		}
		int st = dt_wait_child(c);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			dt_fail(__FILE__, __LINE__, "uid %u reached the daemon (directory %s): status 0x%x (bits: 1 socket, 2 admin,"
				" 4 rpc, 8 the shim's call)", OTHER, open_dir ? "0755" : "0700", st);
	}
	CHECK_EQ(chmod(dt_dir(), 0700), 0);
	CHECK_EQ(dios_nop(0), 0);                        /* and its owner is served as before */

	/* 2. /tmp/dios-OTHER made first by a squatter, with a listener inside */
	char sq[48], sqsock[96];
	snprintf(sq, sizeof sq, DIOS_TMP_DIR_PREFIX "%u", OTHER);
	snprintf(sqsock, sizeof sqsock, "%s/" DIOS_SOCKET_NAME, sq);
	struct stat st0;
	if (lstat(sq, &st0) == 0 && st0.st_uid == SQUATTER) {   /* our own squat, left by a failed run */
		const char *rm[] = { "rm", "-rf", sq, NULL };
		char o[64], e[64];
		CHECK_EQ(dt_run_capture(rm, NULL, 0, o, sizeof o, e, sizeof e), 0);
	}
	if (lstat(sq, &st0) == 0) {
		fprintf(stderr, "skip (cases 2, 3): %s exists already\n", sq);
		dt_stop_daemon();
		return T_EXIT_PASS;
	}
	CHECK_EQ(mkdir(sq, 0777), 0);
	CHECK_EQ(chmod(sq, 0777), 0);
	CHECK_EQ(chown(sq, SQUATTER, SQUATTER), 0);
	int lst = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s", sqsock);
	CHECK(lst >= 0);
	CHECK_EQ(bind(lst, (struct sockaddr *)&a, sizeof a), 0);
	CHECK_EQ(chmod(sqsock, 0666), 0);
	CHECK_EQ(listen(lst, 8), 0);

	char errpath[PATH_MAX];
	snprintf(errpath, sizeof errpath, "%s/other.err", dt_dir());
	int errfd = open(errpath, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);   /* appends: after a truncate, at 0 */
	CHECK(errfd >= 0);
	int status = 0;
	start_daemon_as(OTHER, errfd, 1, &status);
	char buf[4096] = { 0 };
	CHECK(pread(errfd, buf, sizeof buf - 1, 0) >= 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 || !strstr(buf, "belongs to uid 65533"))
		dt_fail(__FILE__, __LINE__, "a daemon of uid %u in %s (made by uid %u): status 0x%x, said: %s", OTHER, sq,
			SQUATTER, status, buf);
	CHECK(access(sqsock, F_OK) == 0);               /* the squatter's socket is still the one there */

	/* the shim of uid OTHER, with the default path: not to the squatter */
	CHECK_EQ(ftruncate(errfd, 0), 0);
	fflush(NULL);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		dup2(errfd, 2);
		become(OTHER);
		unsetenv(DIOS_ENV_SOCKET);
		unsetenv("XDG_RUNTIME_DIR");
		int rc = dios_nop(0);
		_exit(rc == -ENOTCONN ? 0 : 1);
	}
	int cst = dt_wait_child(c);
	memset(buf, 0, sizeof buf);
	CHECK(pread(errfd, buf, sizeof buf - 1, 0) >= 0);
	if (!WIFEXITED(cst) || WEXITSTATUS(cst) != 0)
		dt_fail(__FILE__, __LINE__, "the shim's call did not fail with -ENOTCONN (status 0x%x): %s", cst, buf);
	CHECK(strstr(buf, "libdlibc: not using " DIOS_TMP_DIR_PREFIX "65534/" DIOS_SOCKET_NAME) != NULL);
	int got = accept4(lst, NULL, NULL, SOCK_CLOEXEC);
	CHECK_EQ(got, -1);                               /* nobody came: the squatter learned nothing */
	CHECK_EQ(errno, EAGAIN);
	close(lst);
	CHECK_EQ(unlink(sqsock), 0);
	CHECK_EQ(rmdir(sq), 0);

	/* 3. absent: the daemon makes it 0700, its socket 0600 */
	CHECK_EQ(ftruncate(errfd, 0), 0);
	pid_t d = start_daemon_as(OTHER, errfd, 0, NULL);
	uint64_t t0 = dt_now_ns();
	for (;;) {                                       /* up: it says so once it would stop cleanly */
		memset(buf, 0, sizeof buf);
		if (pread(errfd, buf, sizeof buf - 1, 0) > 0 && strstr(buf, "listening on"))
			break;
		if (dt_now_ns() - t0 > 30000000000ull) {
			kill(-d, SIGKILL);
			dt_fail(__FILE__, __LINE__, "the daemon of uid %u did not start in 30 s: %s", OTHER, buf);
		}
		usleep(20000);
	}
	check_mode(sq, S_IFDIR, 0700, OTHER);
	check_mode(sqsock, S_IFSOCK, 0600, OTHER);
	CHECK_EQ(connect_errno(sqsock, SOCK_SEQPACKET), 0);   /* root may */
	kill(d, SIGTERM);
	int dst;
	CHECK_EQ(waitpid(d, &dst, 0), d);
	CHECK((WIFEXITED(dst) && (WEXITSTATUS(dst) == 0 || WEXITSTATUS(dst) == 128 + SIGTERM)) ||
	      (WIFSIGNALED(dst) && WTERMSIG(dst) == SIGTERM));   /* as dt_stop_daemon accepts */
	CHECK(strstr(buf, "listening on " DIOS_TMP_DIR_PREFIX "65534/" DIOS_SOCKET_NAME) != NULL);
	close(errfd);
	const char *rm[] = { "rm", "-rf", sq, NULL };
	char o[64], e[64];
	CHECK_EQ(dt_run_capture(rm, NULL, 0, o, sizeof o, e, sizeof e), 0);

	dt_stop_daemon();
	return T_EXIT_PASS;
}
