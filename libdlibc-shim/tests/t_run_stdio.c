/*
 * t_run_stdio: what a spawned task writes reaches the stderr it inherited.
 * A parent with no terminal whose stderr is a pipe (then a full pipe, a
 * socket, a regular file) spawns a child that writes to the DIOS console: the
 * bytes come out of the parent's stderr exactly, and nothing of them is in the
 * daemon's log.  A
 * parent that closed fds 0-2 gives its child /dev/null for each, never the
 * daemon's own fds.
 */
#include "helpers.h"

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

static dios_ref_t *console_ref(void)
{
	dios_name_t n;
	CHECK_EQ(dios_name_from_string(DIOS_CONSOLE_NAME_STRING, &n), 0);
	dios_ref_t *c = dios_pickref(&n);
	CHECK(c != NULL);
	return c;
}

/* child "say TEXT": writes TEXT to the console, exits 0 */
static int child_say(const char *text)
{
	dios_ref_t *c = console_ref();
	dios_iovec_t *iov = NULL;
	size_t len = strlen(text);
	if (dios_acquire_write(0, c, len, &iov) != 0)
		return 10;
	memcpy(iov->buf, text, len);
	if (dios_commit_write(0, c, len, iov) != 0)
		return 11;
	return dios_release_write(0, c, iov) == 0 ? 0 : 12;
}

/* child "big": BIG_BYTES of a pattern through the console, 60000 bytes a commit: more than a
 * pipe holds, so the daemon's writes meet EAGAIN and the commits park until the reader drains */
#define BIG_BYTES (300u * 1000u)
#define BIG_CHUNK 60000u
static char big_byte(size_t i)
{
	return (char)('a' + (i * 7 + i / 251) % 26);
}

static int child_big(void)
{
	dios_ref_t *c = console_ref();
	for (size_t off = 0; off < BIG_BYTES; off += BIG_CHUNK) {
		dios_iovec_t *iov = NULL;
		if (dios_acquire_write(0, c, BIG_CHUNK, &iov) != 0)
			return 13;
		for (size_t i = 0; i < BIG_CHUNK; i++)
			((char *)iov->buf)[i] = big_byte(off + i);
		if (dios_commit_write(0, c, BIG_CHUNK, iov) != 0)
			return 14;
		if (dios_release_write(0, c, iov) != 0)
			return 15;
	}
	return 0;
}

/* child "devnull": fds 0, 1 and 2 are /dev/null (its parent had closed them) */
static int child_devnull(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		char link[64], target[256];
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof target - 1);
		if (n < 0)
			return 20 + fd;
		target[n] = '\0';
		if (strcmp(target, "/dev/null") != 0)
			return 30 + fd;
	}
	return 0;
}

/* In a forked process with no terminal and the given stdio: spawn self "MODE ARG", return its status. */
static void parent(const char *mode, const char *arg)
{
	dios_ref_t *self = dios_pickref(dios_self_exe());
	if (!self)
		_exit(3);
	char *argv[] = { "t_run_stdio", (char *)mode, (char *)arg, NULL };
	dios_task_spec_t spec = { .argc = arg ? 3 : 2, .argv = argv };
	dios_ref_t *task = NULL;
	if (dios_run(0, self, &spec, &task) != 0)
		_exit(4);
	int st = -1;
	if (dios_wait(0, task, &st) != 0)
		_exit(5);
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 6);
}

static int log_contains(const char *needle)
{
	char path[512];
	snprintf(path, sizeof path, "%s/diosd.log", dt_dir());
	static char log[1 << 20];
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	ssize_t r = read(fd, log, sizeof log - 1);
	close(fd);
	log[r > 0 ? r : 0] = 0;
	return strstr(log, needle) != NULL;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "say") == 0 && argc == 3)
		return child_say(argv[2]);
	if (argc == 2 && strcmp(argv[1], "devnull") == 0)
		return child_devnull();
	if (argc == 2 && strcmp(argv[1], "big") == 0)
		return child_big();
	alarm(60);
	dt_start_daemon();
	const char *text = "a child's console line\nand its second\n";

	/* 1. the parent's stderr is a pipe: the child's console output comes out of it, exactly */
	int p[2];
	CHECK_EQ(pipe(p), 0);
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		setsid();                       /* no controlling terminal */
		int dn = open("/dev/null", O_RDWR);
		dup2(dn, 0);
		dup2(dn, 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		parent("say", text);
	}
	close(p[1]);
	char got[256];
	size_t n = 0;
	ssize_t r;
	while (n + 1 < sizeof got && (r = read(p[0], got + n, sizeof got - 1 - n)) > 0)
		n += (size_t)r;                 /* to EOF: the parent and the child are gone */
	got[n] = 0;
	close(p[0]);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
	if (strcmp(got, text) != 0)
		dt_fail(__FILE__, __LINE__, "the parent's stderr has \"%s\", not the child's console output", got);
	if (log_contains("console: a child's console line"))
		dt_fail(__FILE__, __LINE__, "the child's console output is in the daemon's log too");

	/* 1b. more than the pipe holds, read only after a while: the daemon never blocks on the
	 * pipe (the commits park and resume when it drains), and every byte arrives in order */
	CHECK_EQ(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		setsid();
		int dn = open("/dev/null", O_RDWR);
		dup2(dn, 0);
		dup2(dn, 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		parent("big", NULL);
	}
	close(p[1]);
	usleep(500 * 1000);                     /* the pipe fills; the child's commit waits */
	CHECK_EQ(dios_nop(0), 0);               /* and the daemon serves others meanwhile */
	static char bigbuf[BIG_BYTES + 1];
	n = 0;
	while (n < sizeof bigbuf && (r = read(p[0], bigbuf + n, sizeof bigbuf - n)) > 0)
		n += (size_t)r;
	close(p[0]);
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
	CHECK_EQ(n, BIG_BYTES);
	for (size_t i = 0; i < BIG_BYTES; i++)
		if (bigbuf[i] != big_byte(i))
			dt_fail(__FILE__, __LINE__, "byte %zu of the child's console output is wrong", i);

	/* 1c. a socket: sent to with MSG_DONTWAIT, exactly */
	int sv[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		setsid();
		int dn = open("/dev/null", O_RDWR);
		dup2(dn, 0);
		dup2(dn, 1);
		dup2(sv[1], 2);
		close(sv[0]);
		close(sv[1]);
		parent("say", "through a socket\n");
	}
	close(sv[1]);
	n = 0;
	while (n + 1 < sizeof got && (r = read(sv[0], got + n, sizeof got - 1 - n)) > 0)
		n += (size_t)r;
	got[n] = 0;
	close(sv[0]);
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
	if (strcmp(got, "through a socket\n") != 0)
		dt_fail(__FILE__, __LINE__, "the socket has \"%s\"", got);

	/* 2. a regular file: written through the shared description, after what is there */
	char file[512];
	snprintf(file, sizeof file, "%s/stderr.txt", dt_dir());
	int f = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(f >= 0);
	CHECK_EQ(write(f, "before\n", 7), 7);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		setsid();
		int dn = open("/dev/null", O_RDWR);
		dup2(dn, 0);
		dup2(dn, 1);
		dup2(f, 2);
		close(f);
		parent("say", "to the file\n");
	}
	close(f);
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
	f = open(file, O_RDONLY);
	CHECK(f >= 0);
	r = read(f, got, sizeof got - 1);
	close(f);
	CHECK(r >= 0);
	got[r] = 0;
	if (strcmp(got, "before\nto the file\n") != 0)
		dt_fail(__FILE__, __LINE__, "the file has \"%s\"", got);

	/* 3. a parent that closed fds 0-2: its child gets /dev/null, not the daemon's fds */
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		setsid();
		close(0);
		close(1);
		close(2);
		parent("devnull", NULL);
	}
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);

	dt_stop_daemon();
	return T_EXIT_PASS;
}
