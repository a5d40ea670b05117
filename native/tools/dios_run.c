/*
 * dios run - run a program as a DIOS task from a shell, like the seed's
 * DiziBox: `dios run [--seccomp-kill] PROGRAM [ARGS...]`.
 *
 * The tool registers with diosd as a task itself (through libdlibc), makes
 * the executable object of PROGRAM (found on $PATH when it has no slash),
 * and dios_runs it with ARGS.  The task inherits the tool's stdin, stdout and
 * stderr, and its console is the tool's terminal.  The tool waits for the
 * task's exit status through its task reference and exits with it (128 +
 * the signal number if it was killed, as a shell reports).  SIGINT, SIGTERM,
 * SIGHUP and SIGQUIT the tool receives are passed on to the task, which
 * diosd started outside the shell's process group.
 *
 * Exit status: the task's; 127 PROGRAM not found; 126 it cannot be run (not
 * DIOS-branded, not executable); 125 diosd unreachable or another error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dios/dios.h>

#include "dios_tool.h"

static volatile sig_atomic_t task_pid;

static void forward(int sig)
{
	if (task_pid > 0)
		kill(task_pid, sig);
}

/* PROGRAM as execvp would find it: as given with a slash, else the first executable on $PATH. */
static int find_program(const char *prog, char *out, size_t cap)
{
	if (strchr(prog, '/')) {
		if ((size_t)snprintf(out, cap, "%s", prog) >= cap)
			return -ENAMETOOLONG;
		return access(out, F_OK) == 0 ? 0 : -ENOENT;
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *end = strchr(path, ':');
		size_t n = end ? (size_t)(end - path) : strlen(path);
		if ((size_t)snprintf(out, cap, "%.*s/%s", (int)n, n ? path : ".", prog) < cap) {
			struct stat st;
			if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
				return 0;
		}
		path += n;
		if (*path == ':')
			path++;
	}
	return -ENOENT;
}

int dios_run_main(int argc, char **argv)
{
	int i = 1;
	dios_flags_t flags = 0;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--seccomp-kill") == 0) {
			flags |= D_RUN_SECCOMP_KILL;
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else {
			fprintf(stderr, "dios run: unknown option '%s'\nusage: dios run [--seccomp-kill] PROGRAM [ARGS...]\n", printable(argv[i]));
			return 2;
		}
	}
	if (i >= argc) {
		fputs("usage: dios run [--seccomp-kill] PROGRAM [ARGS...]\n", stderr);
		return 2;
	}
	const char *prog = argv[i];
	char path[PATH_MAX];
	int rc = find_program(prog, path, sizeof path);
	if (rc < 0) {
		fprintf(stderr, "dios run: %s: %s\n", printable(prog), rc == -ENOENT ? "not found" : strerror(-rc));
		return 127;
	}
	dios_ref_t *exe = NULL;
	rc = dios_exe(path, &exe);
	if (rc == -ENOTCONN) {
		const char *why = dios_last_error_detail();   /* names the socket tried and what to do */
		if (why && *why)
			fprintf(stderr, "dios run: %s\n", why);
		else
			fprintf(stderr, "dios run: diosd is not reachable (is it running? $DIOS_SOCKET, --socket)\n");
		return 125;
	}
	if (rc < 0) {
		fprintf(stderr, "dios run: %s: %s\n", printable(path), dios_strerror(rc));
		return rc == -ENOENT ? 127 : 126;
	}
	dios_task_spec_t spec = { .argc = argc - i, .argv = argv + i };
	dios_ref_t *task = NULL;
	rc = dios_run(flags, exe, &spec, &task);
	if (rc < 0) {
		if (rc == -ENOEXEC)
			fprintf(stderr, "dios run: %s: not a DIOS program (no DIOS ELF brand); "
					"brand it with: dios brand --limbo %s\n", printable(path), printable(path));
		else
			fprintf(stderr, "dios run: %s: %s\n", printable(path), dios_strerror(rc));
		return rc == -ENOEXEC || rc == -EACCES || rc == -EPERM ? 126 : rc == -ENOENT ? 127 : 125;
	}
	dios_ref_info_t info;
	if (dios_ref_info(task, &info) == 0)
		task_pid = (sig_atomic_t)info.size;     /* a task's size is its pid */
	struct sigaction sa = { .sa_handler = forward };
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	int status = 0;
	rc = dios_wait(0, task, &status);
	if (rc < 0) {
		fprintf(stderr, "dios run: waiting for %s: %s\n", printable(path), dios_strerror(rc));
		return 125;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 125;
}
