/*
 * t_run_env: a task's environment.  dios_run gives the child this task's
 * environ (a variable set at run time included, DIOS_FD and DIOS_SOCKET the
 * daemon's, not ours); dios_run_env gives exactly the strings passed (an
 * empty array: none but the daemon's), to Limbo and Pure DIOS children alike;
 * an environment over DIOS_RUN_MAX_ENV_BYTES is -E2BIG, environ's too.  The
 * children (copies of this program) check what they got and exit 0, or the
 * number of the check that failed.
 */
#include "helpers.h"

#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

static int count_env(void)
{
	int n = 0;
	for (char **e = environ; *e; e++)
		n++;
	return n;
}

static int eq(const char *name, const char *want)
{
	const char *v = getenv(name);
	return v && strcmp(v, want) == 0;
}

/* child "inherit": the parent's environ, with the daemon's connection */
static int child_inherit(const char *sock)
{
	if (!eq("DIOS_T_ENV", "set at run time"))
		return 10;
	if (!eq("DIOS_T_KEEP", "a=b=c"))        /* the first '=' splits: the rest is the value */
		return 11;
	if (getenv("DIOS_FD"))                  /* the shim took it */
		return 12;
	if (!eq("DIOS_SOCKET", sock))           /* the daemon's socket */
		return 13;
	if (getenv("DIOS_PURE"))
		return 14;
	return dios_nop(0) == 0 ? 0 : 15;
}

/* child "given": exactly ONLY=1 and an empty value, plus DIOS_SOCKET */
static int child_given(const char *sock)
{
	if (!eq("ONLY", "1"))
		return 20;
	if (!eq("EMPTY", ""))
		return 21;
	if (getenv("DIOS_T_ENV") || getenv("PATH") || getenv("DIOS_PURE"))
		return 22;
	if (!eq("DIOS_SOCKET", sock))
		return 23;
	if (count_env() != 3)
		return 24;
	return dios_nop(0) == 0 ? 0 : 25;
}

/* child "empty": nothing but DIOS_SOCKET */
static int child_empty(const char *sock)
{
	if (count_env() != 1 || !eq("DIOS_SOCKET", sock))
		return 30;
	return dios_nop(0) == 0 ? 0 : 31;
}

static int run_and_wait(dios_ref_t *exe, const char *mode, char *const *envp, int use_env_call)
{
	char *argv[] = { "t_run_env", (char *)mode, (char *)dt_socket_path(), NULL };
	dios_task_spec_t spec = { .argc = 3, .argv = argv };
	dios_ref_t *task = NULL;
	int rc = use_env_call ? dios_run_env(0, exe, &spec, envp, &task) : dios_run(0, exe, &spec, &task);
	if (rc != 0)
		return rc;
	int st = -1;
	CHECK_EQ(dios_wait(0, task, &st), 0);
	CHECK_EQ(dios_delete(0, task), 0);
	CHECK(WIFEXITED(st));
	return WEXITSTATUS(st);
}

int main(int argc, char **argv)
{
	if (argc == 3) {
		if (strcmp(argv[1], "inherit") == 0)
			return child_inherit(argv[2]);
		if (strcmp(argv[1], "given") == 0)
			return child_given(argv[2]);
		if (strcmp(argv[1], "empty") == 0)
			return child_empty(argv[2]);
		return 2;
	}
	alarm(60);
	dt_start_daemon();
	dt_register();
	dios_daemon_stats_t base = dt_stats();
	dios_ref_t *self = dios_pickref(dios_self_exe());
	CHECK(self != NULL);

	/* 1. dios_run: the parent's environ as it is at the call */
	CHECK_EQ(setenv("DIOS_T_ENV", "set at run time", 1), 0);
	CHECK_EQ(setenv("DIOS_T_KEEP", "a=b=c", 1), 0);
	CHECK_EQ(setenv("DIOS_PURE", "1", 1), 0);       /* ours to have: never passed on to a Limbo child */
	CHECK_EQ(run_and_wait(self, "inherit", NULL, 0), 0);
	CHECK_EQ(run_and_wait(self, "inherit", NULL, 1), 0);    /* dios_run_env with NULL: the same */
	CHECK_EQ(unsetenv("DIOS_PURE"), 0);

	/* 2. dios_run_env: exactly the strings given; the daemon's DIOS_SOCKET wins */
	char *given[] = { "ONLY=1", "EMPTY=", "DIOS_SOCKET=/nowhere/given.sock", "DIOS_FD=99", NULL };
	CHECK_EQ(run_and_wait(self, "given", given, 1), 0);
	char *none[] = { NULL };
	CHECK_EQ(run_and_wait(self, "empty", none, 1), 0);

	/* 3. a Pure DIOS child gets its environment too (and DIOS_PURE=1 from the launcher) */
	char me[PATH_MAX], path[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", me, sizeof me - 1);
	CHECK(n > 0);
	me[n] = '\0';
	snprintf(path, sizeof path, "%s/c_pure", dirname(me));
	dios_ref_t *pure = NULL;
	CHECK_EQ(dios_exe(path, &pure), 0);
	char *penv[] = { "DIOS_T_ENV=given to a Pure task", "DIOS_SOCKET=/nowhere/given.sock", NULL };
	char *pargv[] = { "c_pure", "env", NULL };
	dios_task_spec_t pspec = { .argc = 2, .argv = pargv };
	dios_ref_t *task = NULL;
	CHECK_EQ(dios_run_env(0, pure, &pspec, penv, &task), 0);
	int st = -1;
	CHECK_EQ(dios_wait(0, task, &st), 0);
	CHECK_EQ(dios_delete(0, task), 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		dt_fail(__FILE__, __LINE__, "the Pure DIOS child's environment check failed: status 0x%x", st);
	CHECK_EQ(dios_delete(0, pure), 0);

	/* 4. the bound: DIOS_RUN_MAX_ENV_BYTES, NULs included, for envp and for environ */
	static char big[DIOS_RUN_MAX_ENV_BYTES + 16];
	memset(big, 'x', sizeof big - 1);
	memcpy(big, "BIG=", 4);
	big[DIOS_RUN_MAX_ENV_BYTES - 1] = '\0';         /* exactly the limit with its NUL */
	char *at_limit[] = { big, NULL };
	char *argv1[] = { "t_run_env", "empty", (char *)dt_socket_path(), NULL };
	dios_task_spec_t spec1 = { .argc = 3, .argv = argv1 };
	CHECK_EQ(dios_run_env(0, self, &spec1, at_limit, &task), 0);
	CHECK_EQ(dios_wait(0, task, &st), 0);           /* it finds BIG: "empty" fails with 30 */
	CHECK_EQ(dios_delete(0, task), 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 30);
	big[DIOS_RUN_MAX_ENV_BYTES - 1] = 'x';           /* one byte over */
	big[DIOS_RUN_MAX_ENV_BYTES] = '\0';
	CHECK_EQ(dios_run_env(0, self, &spec1, at_limit, &task), -E2BIG);
	CHECK_EQ(setenv("DIOS_T_BIG", big + 4, 1), 0);
	CHECK_EQ(dios_run(0, self, &spec1, &task), -E2BIG);
	CHECK_EQ(unsetenv("DIOS_T_BIG"), 0);

	/* 5. argument errors: an empty string in envp (the daemon's check); a NULL executable is
	 * -EBADF, as a NULL reference is for every call */
	char *with_empty[] = { "A=1", "", NULL };
	CHECK_EQ(dios_run_env(0, self, &spec1, with_empty, &task), -EINVAL);
	CHECK_EQ(dios_run_env(0, NULL, &spec1, none, &task), -EBADF);
	CHECK_EQ(dios_run_env(0, NULL, NULL, NULL, NULL), -EBADF);
	CHECK_EQ(dios_run(0, NULL, NULL, NULL), -EBADF);

	CHECK_EQ(dios_delete(0, self), 0);
	dios_daemon_stats_t s = dt_wait_stats(&base, 5000);
	CHECK_STATS_EQ(s, base);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
