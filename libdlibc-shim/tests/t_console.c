/* t_console: a task started from a terminal (a pseudo-terminal here) writes to the console and reads typed lines from it, with select and a parked read; a task without a terminal writes into the daemon's log, tagged by task, and reads end of input. */
#define _GNU_SOURCE
#include "helpers.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <string.h>
#include <sys/stat.h>

static dios_ref_t *console_ref(void)
{
	dios_name_t n;
	CHECK_EQ(dios_name_from_string(DIOS_CONSOLE_NAME_STRING, &n), 0);
	dios_ref_t *c = dios_pickref(&n);
	CHECK(c != NULL);
	dios_ref_info_t info;
	CHECK_EQ(dios_ref_info(c, &info), 0);
	CHECK_EQ(info.type, D_OBJ_CONSOLE);
	return c;
}

static void say(dios_ref_t *c, const char *s)
{
	dios_iovec_t *iov = NULL;
	size_t len = strlen(s);
	CHECK_EQ(dios_acquire_write(0, c, len, &iov), 0);
	memcpy(iov->buf, s, len);
	CHECK_EQ(dios_commit_write(0, c, len, iov), 0);
	CHECK_EQ(dios_release_write(0, c, iov), 0);
}

/* One line of console input (up to the newline). */
static void hear(dios_ref_t *c, char *out, size_t cap)
{
	size_t n = 0;
	for (;;) {
		dios_iovec_t *iov = NULL;
		CHECK_EQ(dios_acquire_read(0, c, 0, &iov), 0);
		CHECK(iov->len > 0);
		for (size_t i = 0; i < iov->len && n + 1 < cap; i++)
			out[n++] = ((char *)iov->buf)[i];
		CHECK_EQ(dios_release_read(0, c, iov), 0);
		if (n && out[n - 1] == '\n')
			break;
	}
	out[n - 1] = 0;
}

/* the task on the terminal */
static int on_terminal(void)
{
	alarm(30);
	dios_ref_t *c = console_ref();
	say(c, "hello from dios\n");
	/* select waits for input */
	dios_ref_t *ready = NULL;
	CHECK_EQ(dios_select(0, &c, 1, &ready), 0);
	CHECK(ready == c);
	char line[256], msg[300];
	hear(c, line, sizeof line);
	snprintf(msg, sizeof msg, "got: %s\n", line);
	say(c, msg);
	/* a read with no input yet parks in the daemon until the next line */
	hear(c, line, sizeof line);
	snprintf(msg, sizeof msg, "then: %s\n", line);
	say(c, msg);
	/* the terminal closes: end of input */
	return 0;
}

/* Read the master until want appears (or 10 s pass). */
static void expect(int master, const char *want, char *acc, size_t cap, size_t *n)
{
	uint64_t t0 = dt_now_ns();
	while (!memmem(acc, *n, want, strlen(want))) {
		if (dt_now_ns() - t0 > 10ull * 1000000000ull)
			dt_fail(__FILE__, __LINE__, "terminal never showed \"%s\"; it shows: %.*s", want, (int)*n, acc);
		struct pollfd p = { .fd = master, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t r = read(master, acc + *n, cap - *n - 1);
		if (r > 0)
			*n += (size_t)r;
		else if (r < 0 && errno != EINTR && errno != EAGAIN)
			dt_fail(__FILE__, __LINE__, "read from the terminal: %s (it showed: %.*s)", strerror(errno),
				(int)*n, acc);
	}
}

int main(void)
{
	alarm(60);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);

	/* 1. on a terminal */
	int master = -1;
	pid_t pid = forkpty(&master, NULL, NULL, NULL);
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(on_terminal());
	static char acc[65536];
	size_t n = 0;
	expect(master, "hello from dios", acc, sizeof acc, &n);
	usleep(200 * 1000);                     /* the task waits in select now */
	CHECK_EQ(write(master, "ping\n", 5), 5);
	expect(master, "got: ping", acc, sizeof acc, &n);
	usleep(200 * 1000);                     /* and parks in acquire_read */
	CHECK_EQ(write(master, "second\n", 7), 7);
	expect(master, "then: second", acc, sizeof acc, &n);
	CHECK_CHILD_OK(pid);
	close(master);

	/* 2. no terminal: output goes to the daemon's log, tagged by task; input is at its end */
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		alarm(30);
		setsid();                       /* no controlling terminal */
		int dn = open("/dev/null", O_RDWR);
		dup2(dn, 0);
		dup2(dn, 1);
		/* stderr stays: CHECK messages go to the test log */
		dios_ref_t *c = console_ref();
		say(c, "written to the log\nsecond line\n");
		dios_iovec_t *iov = NULL;
		CHECK_EQ(dios_acquire_read(0, c, 0, &iov), -EPIPE);
		CHECK_EQ(dios_acquire_write(0, c, DIOS_CONSOLE_BUF_BYTES + 1, &iov), -EINVAL);
		CHECK_EQ(dios_acquire_write(0, c, 10, &iov), 0);
		dios_iovec_t *iov2 = NULL;
		CHECK_EQ(dios_acquire_write(0, c, 10, &iov2), -EBUSY);   /* one output buffer per task */
		CHECK_EQ(dios_release_write(0, c, iov), 0);
		_exit(0);
	}
	CHECK_CHILD_OK(pid);
	char path[512];
	snprintf(path, sizeof path, "%s/diosd.log", dt_dir());
	char want1[128], want2[128];
	snprintf(want1, sizeof want1, "(pid %d) console: written to the log", (int)pid);
	snprintf(want2, sizeof want2, "(pid %d) console: second line", (int)pid);
	int found = 0;
	for (int tries = 0; tries < 50 && found < 2; tries++) {
		static char log[1 << 20];
		int fd = open(path, O_RDONLY);
		CHECK(fd >= 0);
		ssize_t r = read(fd, log, sizeof log - 1);
		close(fd);
		log[r > 0 ? r : 0] = 0;
		found = (strstr(log, want1) != NULL) + (strstr(log, want2) != NULL);
		if (found < 2)
			usleep(100 * 1000);
	}
	if (found < 2) {
		dt_print_log_tail();
		dt_fail(__FILE__, __LINE__, "the daemon log lacks \"%s\" / \"%s\"", want1, want2);
	}
	dt_stop_daemon();
	return T_EXIT_PASS;
}
