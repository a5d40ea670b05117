/*
 * t_dios_run: `dios run PROGRAM ARGS...` runs a branded program as a DIOS
 * task and exits with its status.  The task writes to the tool's stdout
 * (inherited), gets its argv, and uses DIOS; SIGTERM to the tool reaches the
 * task; an unbranded program exits 126 with a hint, a missing one 127, and
 * no daemon 125.
 */
#include "helpers.h"

#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

static const char *tool;
static char self[PATH_MAX];

struct run {
	int status;
	char out[4096], err[4096];
};

/* Runs `dios run ARGS...`; with term_after_ms > 0, sends it SIGTERM that long after it started. */
static void run_tool(struct run *r, const char *socket, int term_after_ms, const char *const *args)
{
	const char *argv[16];
	int n = 0;
	argv[n++] = tool;
	argv[n++] = "run";
	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	r->status = dt_run_capture(argv, socket, term_after_ms, r->out, sizeof r->out, r->err, sizeof r->err);
}

#define RUN(r, ...) run_tool((r), NULL, 0, (const char *const[]){ __VA_ARGS__, NULL })

static void expect(int ok, const char *what, const struct run *r)
{
	if (!ok) {
		fprintf(stderr, "--- dios run %s: exit %d\n--- stdout:\n%s--- stderr:\n%s---\n", what, r->status, r->out, r->err);
		dt_fail(__FILE__, __LINE__, "dios run: %s", what);
	}
}

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "child") == 0) {
		/* the task: its argv, its stdout, a DIOS call, its exit code */
		CHECK_EQ(dios_nop(0), 0);
		dios_ref_info_t info;
		CHECK_EQ(dios_ref_info(dios_self(), &info), 0);
		CHECK_EQ(info.size, (uint64_t)getpid());
		printf("hello from task %s\n", argv[2]);
		fflush(stdout);
		return atoi(argv[2]);
	}
	if (argc > 1 && strcmp(argv[1], "sleeper") == 0) {
		printf("sleeping\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	alarm(60);
	tool = dt_tool_path();
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	CHECK(n > 0);
	self[n] = '\0';

	struct run r;
	run_tool(&r, "/nonexistent/diosd.sock", 0, (const char *const[]){ self, "child", "3", NULL });
	expect(r.status == 125 && strstr(r.err, "not reachable at /nonexistent/diosd.sock"),
	       "without a daemon: 125, naming the socket tried", &r);

	dt_start_daemon();
	RUN(&r, self, "child", "5");
	expect(r.status == 5 && strcmp(r.out, "hello from task 5\n") == 0, "exit status and stdout", &r);
	RUN(&r, self, "child", "0");
	expect(r.status == 0 && strcmp(r.out, "hello from task 0\n") == 0, "exit 0", &r);
	RUN(&r, "/bin/true");
	expect(r.status == 126 && strstr(r.err, "dios brand --limbo"), "unbranded: 126 and a hint", &r);
	RUN(&r, "no-such-program-dios-test");
	expect(r.status == 127 && strstr(r.err, "not found"), "missing: 127", &r);
	run_tool(&r, NULL, 0, (const char *const[]){ NULL });
	expect(r.status == 2 && strstr(r.err, "usage"), "no program: usage", &r);
	run_tool(&r, NULL, 1500, (const char *const[]){ self, "sleeper", NULL });
	expect(r.status == 128 + SIGTERM && strcmp(r.out, "sleeping\n") == 0, "SIGTERM reaches the task: 143", &r);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
