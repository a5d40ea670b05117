/*
 * t_red_tool - issue 18, finding 8: the dios tool trusts no squatted default
 * path and runs the trace reader on no directory a stranger chose.
 *   1. uid 65531 makes /tmp/dios-65532 first (mode 0777, or a symlink), with a
 *      fake admin socket that answers with escape sequences (a FORGED
 *      terminal title and colours): `dios status` and `dios trace` of uid
 *      65532 refuse it, naming --socket and DIOS_SOCKET, never connect, and
 *      print nothing raw.
 *   2. A listener of another uid inside uid 65532's own 0700 directory (only
 *      root could put it there): refused, as not the user's daemon.
 *   3. `dios --socket PATH trace` against a fake daemon of uid 65531 that names
 *      the trace directory: a relative path, a symlink, a directory others may
 *      write to, one of another user (root), /tmp, a path with escape bytes,
 *      and a bad start index are refused before the reader runs (DIOSD is a
 *      script that leaves a mark); the daemon's own 0700 directory is read,
 *      by its resolved path.
 * Needs root, to be the other users.
 */
#define _GNU_SOURCE
#include "helpers.h"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#define SQUATTER 65531u
#define VICTIM 65532u

static char tool[PATH_MAX];

static void become(uid_t uid)
{
	if (setgroups(0, NULL) != 0 || setgid(uid) != 0 || setuid(uid) != 0)
		_exit(90);
}

/*
 * A fake admin socket at path, listening as uid: answers one request with
 * answer, then closes (as the daemon does) or, for a trace answer, keeps the
 * connection until the tool hangs up.
 */
struct fake {
	pid_t pid;
	int came;       /* read end: 'C' once someone connected */
};

static void fake_start(struct fake *f, const char *path, uid_t uid, const char *answer)
{
	unlink(path);
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(lfd >= 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	CHECK(strlen(path) < sizeof(sa.sun_path));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	CHECK_EQ(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_EQ(chmod(path, 0666), 0);
	int p[2];
	CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	f->pid = fork();
	CHECK(f->pid >= 0);
	if (f->pid == 0) {
		alarm(30);
		close(p[0]);
		become(uid);
		if (listen(lfd, 4) != 0 || write(p[1], "L", 1) != 1)    /* SO_PEERCRED is the listener's: uid */
			_exit(1);
		struct pollfd pf = { .fd = lfd, .events = POLLIN };
		if (poll(&pf, 1, 20000) <= 0)
			_exit(0);
		int c = accept(lfd, NULL, NULL);
		if (c < 0 || write(p[1], "C", 1) != 1)
			_exit(1);
		char req[256];
		if (read(c, req, sizeof(req)) <= 0)
			_exit(0);
		size_t n = strlen(answer);
		if (write(c, answer, n) != (ssize_t)n)
			_exit(0);
		while (strstr(answer, "row\tqueue\t") && read(c, req, sizeof(req)) > 0)
			;                           /* until the tool hangs up (bounded by the alarm) */
		_exit(0);
	}
	close(p[1]);
	close(lfd);
	char l = 0;
	CHECK_EQ(read(p[0], &l, 1), 1);
	CHECK_EQ(l, 'L');
	CHECK_EQ(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	f->came = p[0];
}

/* Stops the fake; 1 if anyone connected to it. */
static int fake_stop(struct fake *f)
{
	kill(f->pid, SIGTERM);
	waitpid(f->pid, NULL, 0);
	char c = 0;
	int came = read(f->came, &c, 1) == 1 && c == 'C';
	close(f->came);
	return came;
}

struct run {
	int status;
	char out[16384];
	char err[16384];
};

/* `dios ARGS...` as uid (0: as root), with the environment of this process. */
static void run_tool(struct run *r, uid_t uid, const char *const *args)
{
	const char *argv[32];
	int n = 0;
	char ru[32], rg[32];
	if (uid) {
		snprintf(ru, sizeof(ru), "--reuid=%u", (unsigned)uid);
		snprintf(rg, sizeof(rg), "--regid=%u", (unsigned)uid);
		argv[n++] = "setpriv";
		argv[n++] = ru;
		argv[n++] = rg;
		argv[n++] = "--clear-groups";
		argv[n++] = "--";
	}
	argv[n++] = tool;
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	r->status = dt_run_capture(argv, NULL, 0, r->out, sizeof(r->out), r->err, sizeof(r->err));
}

static void show(const char *what, const struct run *r)
{
	fprintf(stderr, "--- %s: exit %d\n--- stdout:\n%s--- stderr:\n%s---\n", what, r->status, r->out, r->err);
}

#define CHECK_RUN(cond, what, r) do { if (!(cond)) { show(what, r); CHECK(cond); } } while (0)

/* No escape (ESC, BEL, CSI) reached either stream. */
static int nothing_raw(const struct run *r)
{
	for (const char *s = r->out; *s; s++)
		if (*s == 0x1b || *s == 0x07 || (unsigned char)*s == 0x9b)
			return 0;
	for (const char *s = r->err; *s; s++)
		if (*s == 0x1b || *s == 0x07 || (unsigned char)*s == 0x9b)
			return 0;
	return 1;
}

static const char forged[] =
	"ok\ncolumns\tkey\tvalue\nrow\tversion\t\x1b]0;FORGED\x07\x1b[41m\nrow\tpid\t1\nend\t2\t2\n";

static void rm_rf(const char *path)
{
	const char *rm[] = { "rm", "-rf", path, NULL };
	char o[64], e[256];
	CHECK_EQ(dt_run_capture(rm, NULL, 0, o, sizeof(o), e, sizeof(e)), 0);
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "skip: needs root, to act as other users\n");
		return T_EXIT_SKIP;
	}
	if (access("/usr/bin/setpriv", X_OK) != 0 && access("/bin/setpriv", X_OK) != 0) {
		fprintf(stderr, "skip: no setpriv to run the tool as another uid\n");
		return T_EXIT_SKIP;
	}
	alarm(120);
	snprintf(tool, sizeof(tool), "%s", dt_tool_path());
	unsetenv(DIOS_ENV_SOCKET);
	unsetenv("XDG_RUNTIME_DIR");
	struct run r;
	struct fake f;

	/* 1. the squatted default directory */
	char sq[64], sqadmin[128];
	snprintf(sq, sizeof(sq), DIOS_TMP_DIR_PREFIX "%u", VICTIM);
	snprintf(sqadmin, sizeof(sqadmin), "%s/" DIOS_SOCKET_NAME DIOS_ADMIN_SUFFIX, sq);
	struct stat st;
	if (lstat(sq, &st) == 0 && (st.st_uid == SQUATTER || S_ISLNK(st.st_mode)))
		rm_rf(sq);                              /* our own squat, left by a failed run */
	if (lstat(sq, &st) == 0) {
		fprintf(stderr, "skip (cases 1, 2): %s exists already\n", sq);
	} else {
		CHECK_EQ(mkdir(sq, 0777), 0);
		CHECK_EQ(chmod(sq, 0777), 0);
		CHECK_EQ(chown(sq, SQUATTER, SQUATTER), 0);
		static const char *const cmds[][2] = { { "status", NULL }, { "trace", NULL } };
		for (int i = 0; i < 2; i++) {
			fake_start(&f, sqadmin, SQUATTER, forged);
			run_tool(&r, VICTIM, cmds[i]);
			int came = fake_stop(&f);
			CHECK_RUN(r.status == 1 && r.out[0] == 0, cmds[i][0], &r);
			CHECK_RUN(strstr(r.err, "not using the default socket " DIOS_TMP_DIR_PREFIX "65532/" DIOS_SOCKET_NAME)
				  && strstr(r.err, "owned by uid 65531, mode 0777") && strstr(r.err, "--socket PATH or DIOS_SOCKET"),
				  cmds[i][0], &r);
			CHECK_RUN(nothing_raw(&r), cmds[i][0], &r);
			CHECK(!came);                       /* the squatter heard nothing */
		}

		/* the same directory through a symlink to the squatter's */
		char target[96];
		snprintf(target, sizeof(target), "%s-target", sq);
		rm_rf(target);
		CHECK_EQ(rename(sq, target), 0);
		CHECK_EQ(symlink(target, sq), 0);
		CHECK_EQ(lchown(sq, SQUATTER, SQUATTER), 0);
		fake_start(&f, sqadmin, SQUATTER, forged);
		run_tool(&r, VICTIM, (const char *const[]){ "status", NULL });
		CHECK(!fake_stop(&f));
		CHECK_RUN(r.status == 1 && r.out[0] == 0 && strstr(r.err, "is a symlink") && nothing_raw(&r), "symlink", &r);
		CHECK_EQ(unlink(sq), 0);
		rm_rf(target);

		/* 2. the victim's own 0700 directory, with a listener of another uid (root put it there) */
		CHECK_EQ(mkdir(sq, 0700), 0);
		CHECK_EQ(chown(sq, VICTIM, VICTIM), 0);
		fake_start(&f, sqadmin, SQUATTER, forged);
		run_tool(&r, VICTIM, (const char *const[]){ "status", NULL });
		fake_stop(&f);
		CHECK_RUN(r.status == 1 && r.out[0] == 0 && strstr(r.err, "it runs as uid 65531, not as you (uid 65532)")
			  && nothing_raw(&r), "listener of another uid", &r);
		rm_rf(sq);
	}

	/* 3. the trace directory a fake daemon of uid SQUATTER names */
	char base[] = "/tmp/t_red_tool-XXXXXX";
	CHECK(mkdtemp(base) != NULL);
	CHECK_EQ(chmod(base, 0755), 0);
	char sock[256], admin[320], script[256], mark[256], good[256], p[256];
	snprintf(sock, sizeof(sock), "%s/d.sock", base);
	snprintf(admin, sizeof(admin), "%s" DIOS_ADMIN_SUFFIX, sock);
	snprintf(script, sizeof(script), "%s/reader.sh", base);
	snprintf(mark, sizeof(mark), "%s/reader-ran", base);
	snprintf(good, sizeof(good), "%s/good", base);
	FILE *sf = fopen(script, "w");
	CHECK(sf != NULL);
	fprintf(sf, "#!/bin/sh\necho \"$@\" > '%s'\n", mark);
	CHECK_EQ(fclose(sf), 0);
	CHECK_EQ(chmod(script, 0755), 0);
	setenv("DIOSD", script, 1);
	CHECK_EQ(mkdir(good, 0700), 0);
	CHECK_EQ(chown(good, SQUATTER, SQUATTER), 0);
	snprintf(p, sizeof(p), "%s/loose", base);
	CHECK_EQ(mkdir(p, 0777), 0);
	CHECK_EQ(chmod(p, 0777), 0);
	CHECK_EQ(chown(p, SQUATTER, SQUATTER), 0);
	snprintf(p, sizeof(p), "%s/roots", base);
	CHECK_EQ(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/link", base);
	CHECK_EQ(symlink(good, p), 0);
	CHECK_EQ(lchown(p, SQUATTER, SQUATTER), 0);

	struct { const char *queue, *from, *why; } bad[] = {
		{ "relative/trace", "5", "not an absolute path" },
		{ "link", "5", "a symlink" },
		{ "loose", "5", "a directory others may write to" },
		{ "roots", "5", "a directory the daemon's user does not own" },
		{ "/tmp", "5", "a directory the daemon's user does not own" },
		{ "\x1b]0;FORGED\x07", "5", "not an absolute path" },
		{ "good", "5;\x1b[2J", "no index to start from" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char q[PATH_MAX], answer[2 * PATH_MAX];
		if (strcmp(bad[i].queue, "link") == 0 || strcmp(bad[i].queue, "loose") == 0
		    || strcmp(bad[i].queue, "roots") == 0 || strcmp(bad[i].queue, "good") == 0)
			snprintf(q, sizeof(q), "%s/%s", base, bad[i].queue);
		else
			snprintf(q, sizeof(q), "%s", bad[i].queue);
		snprintf(answer, sizeof(answer), "ok\nrow\tqueue\t%s\nrow\tfrom\t%s\nend\t2\t2\n", q, bad[i].from);
		unlink(mark);
		fake_start(&f, admin, SQUATTER, answer);
		run_tool(&r, 0, (const char *const[]){ "--socket", sock, "trace", NULL });
		CHECK(fake_stop(&f));
		CHECK_RUN(r.status == 1 && r.out[0] == 0 && strstr(r.err, bad[i].why) && nothing_raw(&r), bad[i].why, &r);
		CHECK_RUN(access(mark, F_OK) != 0, "the reader ran", &r);
	}

	/* the daemon's own directory (its uid, 0700), named through a path with "..": read by its resolved path */
	char answer[2 * PATH_MAX];
	snprintf(answer, sizeof(answer), "ok\nrow\tqueue\t%s/roots/../good\nrow\tfrom\t-1\nend\t2\t2\n", base);
	unlink(mark);
	fake_start(&f, admin, SQUATTER, answer);
	run_tool(&r, 0, (const char *const[]){ "--socket", sock, "trace", NULL });
	CHECK(fake_stop(&f));
	CHECK_RUN(r.status == 0 && nothing_raw(&r), "a good trace directory", &r);
	char ran[PATH_MAX + 64] = { 0 }, want[PATH_MAX + 64];
	FILE *mf = fopen(mark, "r");
	CHECK(mf != NULL);
	CHECK(fgets(ran, sizeof(ran), mf) != NULL);
	fclose(mf);
	snprintf(want, sizeof(want), "--trace-tail %s --from -1\n", good);
	if (strcmp(ran, want) != 0)
		dt_fail(__FILE__, __LINE__, "the reader ran with '%s', expected '%s'", ran, want);

	rm_rf(base);
	return T_EXIT_PASS;
}
