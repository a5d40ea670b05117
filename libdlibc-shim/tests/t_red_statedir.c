/*
 * t_red_statedir - finding 18.10: a root daemon refuses a state directory it
 * could be tricked through, with exit status 2 and a message saying why:
 * one owned by another user (65534), a symbolic link (to a root-only
 * directory), one writable by its group, and a journal subdirectory that
 * is a symbolic link.  Nothing is made where the links point.  A private
 * directory of its own still works.  Needs root, to make another user's
 * directory.
 */
#define _GNU_SOURCE
#include "helpers.h"

#include <limits.h>
#include <sys/stat.h>

#define OTHER 65534u

static char out[4096], err[8192];

/* Starts diosd on state (a socket in tmp); expects exit status 2 and want in its stderr. */
static void refused(const char *tmp, const char *state, const char *want)
{
	char sock[PATH_MAX];
	snprintf(sock, sizeof sock, "%s/d.sock", tmp);
	const char *argv[] = { getenv("DIOSD"), "--socket", sock, "--state-dir", state, "--warmup-cycles", "0", NULL };
	int rc = dt_run_capture(argv, NULL, 20000, out, sizeof out, err, sizeof err);
	if (rc != 2 || !strstr(err, want))
		dt_fail(__FILE__, __LINE__, "state dir %s: exit %d (expected 2), stderr without '%s':\n%s", state, rc, want, err);
	struct stat st;
	CHECK(lstat(sock, &st) != 0);   /* it stopped before it listened */
}

/* True if dir holds nothing. */
static int empty_dir(const char *dir)
{
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", dir);
	return system(cmd) == 0;
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "skip: needs root, to make another user's directory\n");
		return T_EXIT_SKIP;
	}
	alarm(110);
	if (!getenv("DIOSD"))
		dt_fail(__FILE__, __LINE__, "DIOSD is not set (run-tests.sh sets it to dist/bin/diosd)");
	char tmp[] = "/tmp/t_red_statedir.XXXXXX";
	CHECK(mkdtemp(tmp) != NULL);
	char p[PATH_MAX], target[PATH_MAX];

	/* 1. another user's directory */
	snprintf(p, sizeof p, "%s/foreign", tmp);
	CHECK_EQ(mkdir(p, 0700), 0);
	CHECK_EQ(chown(p, OTHER, OTHER), 0);
	refused(tmp, p, "belongs to uid 65534, not to the daemon's uid 0");
	CHECK(empty_dir(p));

	/* 2. a symbolic link to a root-only directory */
	snprintf(target, sizeof target, "%s/rootonly", tmp);
	CHECK_EQ(mkdir(target, 0700), 0);
	snprintf(p, sizeof p, "%s/link", tmp);
	CHECK_EQ(symlink(target, p), 0);
	refused(tmp, p, "is a symbolic link; refused");
	CHECK(empty_dir(target));

	/* 3. writable by its group */
	snprintf(p, sizeof p, "%s/groupw", tmp);
	CHECK_EQ(mkdir(p, 0700), 0);
	CHECK_EQ(chmod(p, 0770), 0);
	refused(tmp, p, "is writable by its group or others (mode 0770)");

	/* 4. our own directory, but its journal is a link to the root-only one */
	snprintf(p, sizeof p, "%s/own", tmp);
	CHECK_EQ(mkdir(p, 0700), 0);
	char j[PATH_MAX + 16];
	snprintf(j, sizeof j, "%s/journal", p);
	CHECK_EQ(symlink(target, j), 0);
	refused(tmp, p, "state directory's journal");
	CHECK(strstr(err, "is a symbolic link") != NULL);
	CHECK(empty_dir(target));

	/* 5. the link gone, the same directory is accepted (it starts: stopped by SIGTERM, 143 if still starting) */
	CHECK_EQ(unlink(j), 0);
	char sock[PATH_MAX];
	snprintf(sock, sizeof sock, "%s/d.sock", tmp);
	const char *argv[] = { getenv("DIOSD"), "--socket", sock, "--state-dir", p, "--warmup-cycles", "0", NULL };
	int rc = dt_run_capture(argv, NULL, 6000, out, sizeof out, err, sizeof err);
	if ((rc != 0 && rc != 143) || !strstr(out, "per-user quotas: objects"))
		dt_fail(__FILE__, __LINE__, "a private state directory: exit %d\nstdout:\n%s\nstderr:\n%s", rc, out, err);

	char rm[PATH_MAX + 16];
	snprintf(rm, sizeof rm, "rm -rf '%s'", tmp);
	CHECK_EQ(system(rm), 0);
	return T_EXIT_PASS;
}
