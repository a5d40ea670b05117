/* t_daemon_startup - diosd refuses to start, with a clear message and exit code, on a busy socket or state dir, a missing socket dir, an unusable state dir or a bad flag */
#include "helpers.h"

#include <sys/stat.h>
#include <sys/wait.h>

/* Run $DIOSD with args; returns the exit status (or 128+signal) and its stderr+stdout in out. */
static int run_diosd(char *out, size_t outlen, const char *a1, const char *a2, const char *a3, const char *a4)
{
	int p[2];
	CHECK_EQ(pipe(p), 0);
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		alarm(30);
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		const char *d = getenv("DIOSD");
		execl(d, d, a1, a2, a3, a4, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	size_t n = 0;
	ssize_t r;
	while (n + 1 < outlen && (r = read(p[0], out + n, outlen - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = 0;
	close(p[0]);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(void)
{
	alarm(120);
	dt_start_daemon();
	char out[4096], state[512], file[512];
	snprintf(state, sizeof state, "%s/state2", dt_dir());

	/* a second daemon on the same socket: refused, and the first keeps its socket */
	int rc = run_diosd(out, sizeof out, "--socket", dt_socket_path(), "--state-dir", state);
	CHECK_EQ(rc, 1);
	CHECK(strstr(out, "in use") != NULL);
	CHECK_EQ(dios_nop(0), 0);

	/* a state directory that cannot be made (its parent is a file) */
	snprintf(file, sizeof file, "%s/plainfile", dt_dir());
	FILE *f = fopen(file, "w");
	CHECK(f != NULL);
	fclose(f);
	char bad_state[600], sock2[600];
	snprintf(bad_state, sizeof bad_state, "%s/sub", file);
	snprintf(sock2, sizeof sock2, "%s/other.sock", dt_dir());
	rc = run_diosd(out, sizeof out, "--socket", sock2, "--state-dir", bad_state);
	CHECK_EQ(rc, 1);
	CHECK(strstr(out, "state directory") != NULL);
	CHECK(access(sock2, F_OK) != 0);                 /* nothing left behind */

	/* a --socket in a directory that does not exist: refused, and nothing is made there
	 * (it used to create the directory and a state directory in it) */
	char missing[600], sock3[700];
	snprintf(missing, sizeof missing, "%s/no-such-dir", dt_dir());
	snprintf(sock3, sizeof sock3, "%s/x.sock", missing);
	rc = run_diosd(out, sizeof out, "--socket", sock3, NULL, NULL);
	CHECK_EQ(rc, 1);
	CHECK(strstr(out, "does not exist") != NULL);
	CHECK(access(missing, F_OK) != 0);

	/* a second daemon on the first one's state directory (its own socket): refused by the
	 * state lock before it makes a socket or warms up */
	char state1[600], sock4[600];
	snprintf(state1, sizeof state1, "%s/state", dt_dir());
	snprintf(sock4, sizeof sock4, "%s/second.sock", dt_dir());
	struct stat sb;
	CHECK_EQ(stat(state1, &sb), 0); /* the helper's daemon keeps its state there */
	rc = run_diosd(out, sizeof out, "--socket", sock4, "--state-dir", state1);
	CHECK_EQ(rc, 1);
	CHECK(strstr(out, "in use by another diosd") != NULL);
	if (strstr(out, "warmed up") != NULL)
		dt_fail(__FILE__, __LINE__, "a refused daemon reports a warm-up:\n%s", out);
	CHECK(access(sock4, F_OK) != 0);
	CHECK_EQ(dios_nop(0), 0);

	/* a bad flag and a bad number: usage errors */
	rc = run_diosd(out, sizeof out, "--no-such-flag", NULL, NULL, NULL);
	CHECK_EQ(rc, 2);
	CHECK(strstr(out, "unknown option") != NULL);
	rc = run_diosd(out, sizeof out, "--max-refs", "lots", NULL, NULL);
	CHECK_EQ(rc, 2);
	CHECK(strstr(out, "not a number") != NULL);

	/* --version answers without starting */
	rc = run_diosd(out, sizeof out, "--version", NULL, NULL, NULL);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "DIOS ABI") != NULL);

	dt_stop_daemon();
	return T_EXIT_PASS;
}
