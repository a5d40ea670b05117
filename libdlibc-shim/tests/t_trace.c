/* t_trace: `dios trace` from dist/bin (its reader found beside it) shows this task's calls with lengths, names and flags by name, a failed lookup's -ENOENT and a select that parks and completes, in completion order with both times; after kill -9 of the tool the daemon stops tracing and removes the queue. */
#define _GNU_SOURCE
#include "helpers.h"

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const char *tool;
static char out[1 << 20];
static size_t out_len;

/* Reads what the tool printed so far (fd non-blocking) into out; waits up to ms for more. */
static void pump(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, ms) <= 0)
		return;
	ssize_t n;
	while (out_len + 1 < sizeof(out) && (n = read(fd, out + out_len, sizeof(out) - 1 - out_len)) > 0)
		out_len += (size_t)n;
	out[out_len] = 0;
}

/* A line of the trace holding every one of the given pieces, or NULL. */
static const char *find_line(const char *const *want, int nwant)
{
	for (const char *line = out; *line; ) {
		const char *eol = strchr(line, '\n');
		if (!eol)
			return NULL;  /* not whole yet */
		int ok = 1;
		for (int i = 0; i < nwant && ok; i++) {
			const char *hit = memmem(line, (size_t)(eol - line), want[i], strlen(want[i]));
			ok = hit != NULL;
		}
		if (ok)
			return line;
		line = eol + 1;
	}
	return NULL;
}

#define LINE(...) find_line((const char *const[]){ __VA_ARGS__ }, \
	(int)(sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *)))

/* Runs `dios status --raw` and returns its trace value ("off", "on (1 client)"). */
static void trace_state(char *buf, size_t size)
{
	char cmd[PATH_MAX * 2 + 64];
	snprintf(cmd, sizeof(cmd), "'%s' --socket '%s' status --raw", tool, dt_socket_path());
	FILE *f = popen(cmd, "r");
	CHECK(f != NULL);
	char line[512];
	buf[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "trace\t", 6) == 0) {
			line[strcspn(line, "\n")] = 0;
			size_t n = strlen(line + 6);
			if (n >= size)
				n = size - 1;
			memcpy(buf, line + 6, n);
			buf[n] = 0;
		}
	}
	CHECK_EQ(pclose(f), 0);
}

int main(void)
{
	alarm(120);
	tool = dt_tool_path();
	dt_start_daemon();
	char state[128];
	trace_state(state, sizeof(state));
	CHECK(strcmp(state, "off") == 0);

	int po[2], pe[2];
	CHECK(pipe2(po, O_CLOEXEC) == 0 && pipe2(pe, O_CLOEXEC) == 0);
	pid_t tracer = fork();
	CHECK(tracer >= 0);
	if (tracer == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		unsetenv("DIOSD");  /* the staged layout: the reader is the diosd beside dios */
		execl(tool, tool, "--socket", dt_socket_path(), "trace", (char *)NULL);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	CHECK(fcntl(po[0], F_SETFL, O_NONBLOCK) == 0);
	char err[4096] = "";
	size_t el = 0;
	while (!strstr(err, "tracing the calls")) {
		ssize_t n = read(pe[0], err + el, sizeof(err) - 1 - el);
		if (n <= 0)
			dt_fail(__FILE__, __LINE__, "dios trace did not start: %s", err);
		el += (size_t)n;
		err[el] = 0;
	}
	trace_state(state, sizeof(state));
	CHECK(strcmp(state, "on (1 client)") == 0);

	/* The calls to see: a NOP, a failed lookup, and a select that parks until a peer writes. */
	CHECK_EQ(dios_nop(0), 0);
	dios_name_t nobody;
	dt_random_name(&nobody);
	dios_ref_t *found = NULL;
	uint64_t count = 1;
	CHECK_EQ(dios_lookup(0, &nobody, &found, &count), -ENOENT);
	dios_name_t fifo_name;
	dios_ref_t *fifo = NULL;
	uint64_t cap = 4096;
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, &cap, &fifo_name, &fifo, 0), 0);
	int from, to;
	pid_t peer = dt_fork_peer(&from, &to);
	if (peer == 0) {
		CHECK_EQ(dt_recv(from), 'G');
		usleep(200 * 1000);  /* the parent is parked in dios_select by now */
		dios_ref_t *w = NULL;
		uint64_t c = 1;
		CHECK_EQ(dios_lookup(0, &fifo_name, &w, &c), 0);
		dios_iovec_t *iov = NULL;
		CHECK_EQ(dios_acquire_write(0, w, 1, &iov), 0);
		((char *)iov->buf)[0] = 'x';
		CHECK_EQ(dios_commit_write(0, w, 1, iov), 0);
		CHECK_EQ(dios_release_write(0, w, iov), 0);
		CHECK_EQ(dt_recv(from), 'Q');
		_exit(0);
	}
	dt_send(to, 'G');
	dios_ref_t *ready = NULL;
	CHECK_EQ(dios_select(0, &fifo, 1, &ready), 0);
	CHECK(ready == fifo);
	dt_send(to, 'Q');
	CHECK_CHILD_OK(peer);

	char me[32];
	snprintf(me, sizeof(me), "(pid %d) ", (int)getpid());
	uint64_t deadline = dt_now_ns() + 60ull * 1000 * 1000 * 1000;  /* the reader is a JVM: give it time */
	while (!LINE(me, " select type=fifo ", ", was parked)") && dt_now_ns() < deadline)
		pump(po[0], 100);
	/* Lengths, names in text form and flags by name; every line ends with its start time. */
	char nobody_eq[64], fifo_eq[64], peer_me[32];
	strcpy(nobody_eq, " name=");
	dios_nametostr(&nobody, nobody_eq + 6);
	strcpy(fifo_eq, " name=");
	dios_nametostr(&fifo_name, fifo_eq + 6);
	snprintf(peer_me, sizeof(peer_me), "(pid %d) ", (int)peer);
	if (!LINE(me, " nop type=none flags=0 len=0 ref=0x0 obj=0 -> 0 ", " (from ")
	    || !LINE(me, " lookup type=none flags=0 len=1", nobody_eq, "obj=0 -> -ENOENT ")
	    || !LINE(me, " create type=fifo flags=D_CREATE_NAMED len=4096", fifo_eq, " -> 0 ")
	    || !LINE(me, " select type=none flags=0 len=1 ", " -> parked ")
	    || !LINE(me, " select type=fifo flags=0 len=1", fifo_eq, " -> 0 ", ", was parked)")
	    || !LINE(peer_me, " lookup type=fifo ", fifo_eq, " -> 0 ")
	    || !LINE(peer_me, " acquire_write type=fifo flags=0 len=1", fifo_eq, " -> 0 "))
		dt_fail(__FILE__, __LINE__, "the trace lacks this task's calls; it printed:\n%s\nstderr: %s", out, err);
	/*
	 * Completion order: the parked select completes after the peer's write,
	 * so its line comes after the peer's acquire; each line starts with its
	 * end time, which never goes back, and ends with its start, "(from T".
	 */
	const char *parked = LINE(me, " select ", " -> parked "), *resumed = LINE(me, " select type=fifo ", ", was parked)");
	const char *peer_acquire = LINE(peer_me, " acquire_write type=fifo ");
	if (!(parked < peer_acquire && peer_acquire < resumed))
		dt_fail(__FILE__, __LINE__, "not in completion order (parked, the peer's write, the select's end):\n%s", out);
	char prev[16] = "", start[16];
	for (const char *line = out; *line; ) {
		const char *eol = strchr(line, '\n');
		if (!eol)
			break;
		const char *from = memmem(line, (size_t)(eol - line), "(from ", 6);
		if (from) {   /* HH:MM:SS.uuuuuu: the same width, so they compare as text */
			memcpy(start, from + 6, 15);
			start[15] = 0;
			int midnight = strncmp(line, "00:", 3) == 0 && (strncmp(prev, "23:", 3) == 0 || strncmp(start, "23:", 3) == 0);
			if (!midnight && (strncmp(line, prev, 15) < 0 || strncmp(start, line, 15) > 0))
				dt_fail(__FILE__, __LINE__, "times out of order at:\n%.*s\n(the line before ends at %s)", (int)(eol - line),
					line, prev);
			memcpy(prev, line, 15);
			prev[15] = 0;
		}
		line = eol + 1;
	}

	/* kill -9: the daemon sees the connection go and stops tracing by itself. */
	CHECK_EQ(kill(tracer, SIGKILL), 0);
	int st = dt_wait_child(tracer);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	char queue[PATH_MAX];
	snprintf(queue, sizeof(queue), "%s/state/trace", dt_dir());
	struct stat sb;
	deadline = dt_now_ns() + 10ull * 1000 * 1000 * 1000;
	for (;;) {
		trace_state(state, sizeof(state));
		if (strcmp(state, "off") == 0 && stat(queue, &sb) != 0)
			break;
		if (dt_now_ns() > deadline)
			dt_fail(__FILE__, __LINE__, "after kill -9 of dios trace: trace '%s', queue %s", state,
				stat(queue, &sb) == 0 ? "still there" : "gone");
		usleep(20 * 1000);
	}
	/* The reader went with the tool (PR_SET_PDEATHSIG): the pipe's last writer closed it. */
	struct pollfd p = { .fd = po[0], .events = POLLIN };
	deadline = dt_now_ns() + 30ull * 1000 * 1000 * 1000;
	for (;;) {
		CHECK(poll(&p, 1, 1000) >= 0);
		if (p.revents & POLLHUP)
			break;
		if (p.revents & POLLIN) {
			char junk[4096];
			if (read(po[0], junk, sizeof(junk)) == 0)
				break;
		}
		if (dt_now_ns() > deadline)
			dt_fail(__FILE__, __LINE__, "the trace reader outlived dios trace by 30 s");
	}
	CHECK_EQ(dios_nop(0), 0);  /* untraced now */
	CHECK(stat(queue, &sb) != 0);
	dt_stop_daemon();
	return 0;
}
