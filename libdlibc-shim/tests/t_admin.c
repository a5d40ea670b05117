/* t_admin: the dios tool against a live daemon: status, names, tasks (with parent and argv) and objects list what this task made; the tool escapes control characters whatever the daemon sends; another uid is refused; usage errors; a client that never reads its answer stalls nothing; one uid beyond --quota-admin-connections gets EDQUOT. */
#define _GNU_SOURCE
#include "helpers.h"

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

static const char *tool;

/* Output of one run of the tool. */
struct run {
	int status;         /* exit code, or 256 + signal */
	char out[1 << 20];
	char err[8192];
};

/*
 * Runs `dios ARGS...`, optionally as uid/gid 65534 through setpriv; socket
 * overrides DIOS_SOCKET when not NULL.
 */
static void run_tool(struct run *r, int as_nobody, const char *socket, const char *const *args)
{
	const char *argv[32];
	int n = 0;
	if (as_nobody) {
		argv[n++] = "setpriv";
		argv[n++] = "--reuid=65534";
		argv[n++] = "--regid=65534";
		argv[n++] = "--clear-groups";
		argv[n++] = "--";
	}
	argv[n++] = tool;
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	r->status = dt_run_capture(argv, socket, 0, r->out, sizeof(r->out), r->err, sizeof(r->err));
}

#define TOOL(r, ...) run_tool((r), 0, NULL, (const char *const[]){ __VA_ARGS__, NULL })

static void show(const char *what, const struct run *r)
{
	fprintf(stderr, "--- dios %s: exit %d\n--- stdout:\n%s--- stderr:\n%s---\n", what, r->status, r->out, r->err);
}

#define CHECK_RUN(cond, what, r) do { if (!(cond)) { show(what, r); CHECK(cond); } } while (0)

/*
 * The line of a listing whose whitespace-separated fields start with the
 * given values (NULL: any value), or NULL.  Fields are compared whole.
 */
static const char *find_row(const char *text, const char *const *want, int nwant)
{
	for (const char *line = text; line && *line; ) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		char copy[1024];
		if (len < sizeof(copy)) {
			memcpy(copy, line, len);
			copy[len] = 0;
			char *save = NULL, *tok = strtok_r(copy, " \t", &save);
			int ok = 1;
			for (int i = 0; i < nwant && ok; i++, tok = strtok_r(NULL, " \t", &save))
				ok = tok && (!want[i] || strcmp(tok, want[i]) == 0);
			if (ok)
				return line;
		}
		line = eol ? eol + 1 : NULL;
	}
	return NULL;
}

#define ROW(text, ...) find_row((text), (const char *const[]){ __VA_ARGS__ }, \
	(int)(sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *)))

static uint64_t object_id(dios_ref_t *ref)
{
	dios_ref_info_t info;
	CHECK_EQ(dios_ref_info(ref, &info), 0);
	return info.object_id;
}

static char *num(char *buf, unsigned long long v)
{
	sprintf(buf, "%llu", v);
	return buf;
}

/*
 * A fake daemon: listens on PATH.admin, answers one request with `answer`
 * (whatever it is) and exits.  Returns its pid.
 */
static pid_t fake_admin(const char *path, const char *answer)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s" DIOS_ADMIN_SUFFIX, path);
	unlink(sa.sun_path);
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(lfd >= 0);
	CHECK_EQ(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_EQ(listen(lfd, 1), 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		alarm(20);
		int c = accept(lfd, NULL, NULL);
		if (c < 0)
			_exit(1);
		char req[256];
		if (read(c, req, sizeof(req)) <= 0)
			_exit(1);
		size_t n = strlen(answer);
		if (write(c, answer, n) != (ssize_t)n)
			_exit(1);
		close(c);
		_exit(0);
	}
	close(lfd);
	return pid;
}

static int admin_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s" DIOS_ADMIN_SUFFIX, dt_socket_path());
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK_EQ(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0) {
		/* Spawned by the test below: register (the first call), then wait to be killed. */
		alarm(60);
		CHECK(dios_self() != NULL);
		dios_ref_info_t info;
		CHECK_EQ(dios_ref_info(dios_self(), &info), 0);
		for (;;)
			pause();
	}
	alarm(120);
	tool = dt_tool_path();

	/* Usage errors need no daemon. */
	static struct run r;
	TOOL(&r, "--help");
	CHECK_RUN(r.status == 0 && strstr(r.out, "usage: dios") && strstr(r.out, "names"), "--help", &r);
	TOOL(&r, "bogus");
	CHECK_RUN(r.status == 2 && strstr(r.err, "unknown command 'bogus'") && strstr(r.err, "usage:"), "bogus", &r);
	TOOL(&r, "--limit");
	CHECK_RUN(r.status == 2, "--limit", &r);
	TOOL(&r, "names", "--limit", "0");
	CHECK_RUN(r.status == 2, "names --limit 0", &r);
	run_tool(&r, 0, NULL, (const char *const[]){ NULL });
	CHECK_RUN(r.status == 2 && strstr(r.err, "no command"), "(nothing)", &r);
	run_tool(&r, 0, "/nonexistent/dios-test/d.sock", (const char *const[]){ "status", NULL });
	CHECK_RUN(r.status == 1 && strstr(r.err, "no daemon is running at /nonexistent/dios-test/d.sock"), "status, no daemon", &r);

	/*
	 * The tool escapes what it prints by itself: a daemon (or anything on the
	 * socket) that sends raw C0 or C1 controls (ESC, BEL, the 8-bit CSI
	 * U+009B) still cannot reach the terminal.
	 */
	char fake[128];
	snprintf(fake, sizeof(fake), "/tmp/dios-t_admin-fake.%d.sock", (int)getpid());
	pid_t fk = fake_admin(fake, "ok\ncolumns\ttask\texe\nrow\t1\t/bin/\033[2J\xc2\x9b" "31m\x07x\x7f\nend\t1\t1\n");
	run_tool(&r, 0, fake, (const char *const[]){ "tasks", NULL });
	CHECK_CHILD_OK(fk);
	CHECK_RUN(r.status == 0 && strstr(r.out, "/bin/\\x1b[2J\\x9b" "31m\\x07x\\x7f\n"), "tool: raw controls in a row", &r);
	CHECK_RUN(!strchr(r.out, '\033') && !strchr(r.out, '\a') && !strstr(r.out, "\xc2\x9b"), "tool: nothing raw printed", &r);
	fk = fake_admin(fake, "error\tEINVAL\t\033]0;owned\007\n");
	run_tool(&r, 0, fake, (const char *const[]){ "names", NULL });
	CHECK_CHILD_OK(fk);
	CHECK_RUN(r.status == 1 && strstr(r.err, "\\x1b]0;owned\\x07") && !strchr(r.err, '\033'), "tool: raw controls in an error", &r);
	char fake_admin_path[PATH_MAX];
	snprintf(fake_admin_path, sizeof(fake_admin_path), "%s" DIOS_ADMIN_SUFFIX, fake);
	unlink(fake_admin_path);

	/* A daemon whose sockets anyone may connect to: the daemon itself must refuse strangers. */
	static const char *const args[] = { "--socket-mode", "0666", "--max-refs", "65536", "--quota-admin-connections", "3", NULL };
	dt_daemon_args = args;
	pid_t daemon = dt_start_daemon();
	CHECK_EQ(chmod(dt_dir(), 0711), 0);
	char admin_path[PATH_MAX];
	snprintf(admin_path, sizeof(admin_path), "%s" DIOS_ADMIN_SUFFIX, dt_socket_path());
	struct stat st;
	CHECK_EQ(stat(admin_path, &st), 0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0666);   /* --socket-mode applies to the admin socket too */

	/* What this task makes, and what the listings must show. */
	uint64_t size = 4096, small = 64;
	dios_name_t shm_name, fifo_name;
	dios_ref_t *shm, *priv, *fifo;
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, &shm_name, &shm, 0), 0);
	CHECK_EQ(dios_create(0, D_OBJ_PRIVMEM, &small, NULL, &priv, 0), 0);
	CHECK_EQ(dios_name_from_string("t_admin: a well-known fifo", &fifo_name), 0);
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_FIFO, NULL, &fifo_name, &fifo, 0), 0);
	char shm_text[DIOS_NAME_STRLEN], fifo_text[DIOS_NAME_STRLEN];
	dios_nametostr(&shm_name, shm_text);
	dios_nametostr(&fifo_name, fifo_text);
	char b1[32], b2[32], b3[32], b4[32], b5[32];

	TOOL(&r, "status");
	CHECK_RUN(r.status == 0, "status", &r);
	CHECK_RUN(ROW(r.out, "pid", num(b1, (unsigned long long)daemon)), "status: pid", &r);
	CHECK_RUN(ROW(r.out, "socket", dt_socket_path()), "status: socket", &r);
	CHECK_RUN(ROW(r.out, "tasks", "1"), "status: tasks", &r);
	CHECK_RUN(ROW(r.out, "objects.shmem", "1") && ROW(r.out, "objects.privmem", "1") && ROW(r.out, "objects.fifo", "1")
		  && ROW(r.out, "objects.task", "1") && ROW(r.out, "objects.console", "1"), "status: objects by type", &r);
	CHECK_RUN(ROW(r.out, "objects.exe", "1"), "status: objects by type (this task's executable)", &r);
	CHECK_RUN(ROW(r.out, "names", "4"), "status: names (the console's, this task's executable's, the shmem's, the fifo's)", &r);
	CHECK_RUN(ROW(r.out, "references", "4"), "status: references (self and three)", &r);
	CHECK_RUN(ROW(r.out, "version", NULL) && ROW(r.out, "uptime", NULL) && ROW(r.out, "parked_calls", "0"), "status: rest", &r);

	/*
	 * --quota-admin-connections 3: with three connections of this uid open
	 * (saying nothing), a fourth is refused with EDQUOT, not served; once one
	 * is closed the tool is served again, and status counts the refusal.
	 */
	CHECK_RUN(ROW(r.out, "quota.admin-connections", "3") && ROW(r.out, "quota.admin-connections.refusals", "0"),
		  "status: the admin quota", &r);
	int held[3];
	for (int i = 0; i < 3; i++)
		held[i] = admin_connect();
	usleep(100 * 1000);
	TOOL(&r, "status");
	CHECK_RUN(r.status == 1 && strstr(r.err, "EDQUOT") && strstr(r.err, "--quota-admin-connections"),
		  "a fourth admin connection of one uid: EDQUOT", &r);
	close(held[0]);
	for (int i = 0; i < 50; i++) {   /* the daemon sees the close at its next wake-up */
		TOOL(&r, "status");
		if (r.status == 0)
			break;
		usleep(20 * 1000);
	}
	CHECK_RUN(r.status == 0 && ROW(r.out, "quota.admin-connections.refusals", "1"), "served again once one is closed", &r);
	close(held[1]);
	close(held[2]);

	TOOL(&r, "names");
	CHECK_RUN(r.status == 0, "names", &r);
	CHECK_RUN(ROW(r.out, "name", "id", "type"), "names: header", &r);
	CHECK_RUN(ROW(r.out, shm_text, num(b1, object_id(shm)), "shmem"), "names: the shmem by its dios_nametostr text", &r);
	CHECK_RUN(ROW(r.out, fifo_text, num(b1, object_id(fifo)), "fifo"), "names: the fifo", &r);
	CHECK_RUN(!ROW(r.out, NULL, num(b1, object_id(priv))), "names: an anonymous object has no name", &r);

	TOOL(&r, "objects");
	CHECK_RUN(r.status == 0, "objects", &r);
	CHECK_RUN(ROW(r.out, num(b1, object_id(shm)), "shmem", "4096", "1", "yes", "live"), "objects: shmem", &r);
	CHECK_RUN(ROW(r.out, num(b1, object_id(priv)), "privmem", "64", "1", "no", "live"), "objects: privmem", &r);
	CHECK_RUN(ROW(r.out, num(b1, object_id(fifo)), "fifo", NULL, "1", "yes", "live"), "objects: fifo", &r);
	CHECK_RUN(ROW(r.out, num(b1, object_id(dios_self())), "task", num(b2, (unsigned long long)getpid()), "1", "no", "live"),
		  "objects: this task (its size is its pid)", &r);

	char exe[PATH_MAX];
	ssize_t el = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	CHECK(el > 0);
	exe[el] = 0;
	/* Its argv as the kernel has it (its first string: run-tests.sh gives the path, no spaces). */
	char cmdline[4096] = { 0 };
	int cfd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	CHECK(cfd >= 0);
	CHECK(read(cfd, cmdline, sizeof(cmdline) - 1) > 0);
	close(cfd);
	TOOL(&r, "tasks");
	CHECK_RUN(r.status == 0, "tasks", &r);
	CHECK_RUN(ROW(r.out, "task", "pid", "parent", "uid", "refs", "buffers", "privmem", "parked", "state", "exe", "argv"),
		  "tasks: header", &r);
	const char *mine = ROW(r.out, NULL, num(b1, (unsigned long long)getpid()), "-", num(b2, (unsigned long long)getuid()),
			       num(b3, 4), num(b4, 0), num(b5, small), "0", NULL, exe, cmdline);
	CHECK_RUN(mine, "tasks: this task (no parent), its 4 references, its private memory object's bytes, its executable "
		  "and argv", &r);
	char my_task[32];
	CHECK(sscanf(mine, "%31s", my_task) == 1);

	/*
	 * A task this one starts: its parent is this task, its argv the spec's,
	 * quoted where a shell would split it, and an escape sequence in it
	 * reaches the terminal as text.
	 */
	dios_ref_t *self_exe = dios_pickref(dios_self_exe());
	CHECK(self_exe != NULL);
	char *cargv[] = { "t_admin", "child", "two words", "\033]0;owned\007\033[2J", NULL };
	dios_task_spec_t spec = { .argc = 4, .argv = cargv };
	dios_ref_t *child = NULL;
	CHECK_EQ(dios_run(0, self_exe, &spec, &child), 0);
	dios_ref_info_t cinfo;
	CHECK_EQ(dios_ref_info(child, &cinfo), 0);   /* a task object's size is its pid */
	char want_child[256];
	snprintf(want_child, sizeof(want_child), "%llu\t%s\t", (unsigned long long)cinfo.size, my_task);
	const char *row = NULL;
	for (int i = 0; i < 200 && !row; i++) {   /* it registers at its first call: up to 10 s */
		TOOL(&r, "--raw", "tasks");
		CHECK_RUN(r.status == 0, "--raw tasks", &r);
		row = strstr(r.out, want_child);
		if (!row)
			usleep(50 * 1000);
	}
	CHECK_RUN(row != NULL, "tasks: the child, with this task as its parent", &r);
	const char *eol = strchr(row, '\n');
	CHECK(eol != NULL);
	static const char want_argv[] = "\tt_admin child 'two words' \\x1b]0;owned\\x07\\x1b[2J\n";
	CHECK_RUN((size_t)(eol + 1 - row) > strlen(want_argv)
		  && memcmp(eol + 1 - strlen(want_argv), want_argv, strlen(want_argv)) == 0,
		  "tasks: the child's argv, quoted and escaped", &r);
	CHECK_RUN(strchr(r.out, '\033') == NULL, "tasks: no escape character reaches the terminal", &r);
	CHECK_EQ(kill((pid_t)cinfo.size, SIGKILL), 0);
	dios_iovec_t *status = NULL;
	CHECK_EQ(dios_acquire_read(0, child, 0, &status), 0);   /* its exit status: it is gone */
	CHECK_EQ(dios_release_read(0, child, status), 0);
	CHECK_EQ(dios_delete(0, child), 0);
	CHECK_EQ(dios_delete(0, self_exe), 0);

	TOOL(&r, "--raw", "names");
	CHECK_RUN(r.status == 0 && strncmp(r.out, "name\tid\ttype\n", 13) == 0, "--raw names", &r);
	CHECK_RUN(strstr(r.out, shm_text) != NULL, "--raw names: the shmem", &r);
	TOOL(&r, "names", "--limit", "1");
	CHECK_RUN(r.status == 0 && strstr(r.err, "1 of 4 shown"), "names --limit 1", &r);

	/* Another uid: refused by the daemon (SO_PEERCRED), with nothing of the listing. */
	if (getuid() != 0) {
		fprintf(stderr, "skip (one case): not root, so no other uid to try the admin socket as\n");
	} else if (access("/usr/bin/setpriv", X_OK) != 0 && access("/bin/setpriv", X_OK) != 0) {
		fprintf(stderr, "skip (one case): no setpriv to run the tool as another uid\n");
	} else {
		run_tool(&r, 1, dt_socket_path(), (const char *const[]){ "names", NULL });
		CHECK_RUN(r.status == 1 && strstr(r.err, "permission denied") && strstr(r.err, "uid 65534"),
			  "names as uid 65534", &r);
		CHECK_RUN(strstr(r.out, shm_text) == NULL && r.out[0] == 0, "names as uid 65534: nothing listed", &r);
		run_tool(&r, 1, dt_socket_path(), (const char *const[]){ "status", NULL });
		CHECK_RUN(r.status == 1 && strstr(r.err, "permission denied"), "status as uid 65534", &r);
	}

	/*
	 * A client that asks for a large answer and never reads it: the daemon
	 * writes what the socket takes and goes on serving; calls and other
	 * admin clients are not held up, and the reader is dropped after its
	 * answer timeout (10 s).
	 */
	enum { MANY = 20000 };
	for (int i = 0; i < MANY; i++) {
		dios_ref_t *x;
		CHECK_EQ(dios_create(0, D_OBJ_PRIVMEM, &small, NULL, &x, 0), 0);
	}
	int slow = admin_connect();
	static const char req[] = "objects 100000\n";
	CHECK_EQ(write(slow, req, sizeof(req) - 1), (ssize_t)(sizeof(req) - 1));
	usleep(200 * 1000);
	uint64_t worst = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t t0 = dt_now_ns();
		CHECK_EQ(dios_nop(0), 0);
		uint64_t dt = dt_now_ns() - t0;
		if (dt > worst)
			worst = dt;
	}
	if (worst > 500 * 1000 * 1000ull)
		dt_fail(__FILE__, __LINE__, "a null call took %llu ms while an admin client did not read", (unsigned long long)(worst / 1000000));
	TOOL(&r, "status");
	CHECK_RUN(r.status == 0 && ROW(r.out, "objects.privmem", num(b1, MANY + 1)), "status beside a slow reader", &r);
	/* Now read: what the socket held, then the end (the daemon dropped us), never the whole answer. */
	uint64_t t0 = dt_now_ns();
	static char big[4 << 20];
	size_t got = 0;
	int cut = 0;
	sleep(12);
	for (;;) {
		ssize_t n = read(slow, big + got, sizeof(big) - 1 - got);
		if (n <= 0) {
			cut = 1;
			break;
		}
		got += (size_t)n;
		if (got + 1 >= sizeof(big))
			break;
	}
	big[got] = 0;
	close(slow);
	CHECK(cut);
	CHECK(strncmp(big, "ok\ncolumns\t", 11) == 0);
	CHECK(strstr(big, "\nend\t") == NULL);   /* cut short: no end line */
	fprintf(stderr, "slow reader: got %zu bytes, then the connection ended (%.1f s after it was asked)\n", got,
		(dt_now_ns() - t0) / 1e9 + 0.2);
	CHECK_EQ(dios_nop(0), 0);

	dt_stop_daemon_keep_dir();
	CHECK(access(admin_path, F_OK) != 0);    /* removed at shutdown */
	dt_cleanup_dir();

	/* With no daemon, a clear message and exit 1. */
	run_tool(&r, 0, dt_socket_path(), (const char *const[]){ "status", NULL });
	CHECK_RUN(r.status == 1 && strstr(r.err, "no daemon is running"), "status after the daemon stopped", &r);
	printf("t_admin: ok\n");
	return T_EXIT_PASS;
}
