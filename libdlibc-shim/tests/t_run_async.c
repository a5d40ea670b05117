/*
 * t_run_async: dios_run never blocks the daemon's loop.  The daemon runs with
 * a launcher that takes 2 s before it execs the real one; while a dios_run
 * of a Pure DIOS program (c_pure: always through the launcher) waits for it,
 * another task's calls and another thread of the same task are served at
 * once.
 */
#include "helpers.h"

#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

static dios_ref_t *exe, *report;
static volatile int run_rc = 1;
static volatile uint64_t run_ns;

static void *runner(void *arg)
{
	(void)arg;
	char *argv[] = { "c_pure", "checks", NULL };
	dios_task_spec_t spec = { .argc = 2, .argv = argv, .refs = &report, .ref_count = 1 };
	dios_ref_t *t = NULL;
	uint64_t t0 = dt_now_ns();
	run_rc = dios_run(0, exe, &spec, &t);
	run_ns = dt_now_ns() - t0;
	if (run_rc == 0) {
		int st = -1;
		CHECK_EQ(dios_wait(0, t, &st), 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		CHECK_EQ(dios_delete(0, t), 0);
	}
	return NULL;
}

int main(void)
{
	alarm(60);
	/* a slow launcher: sleep, then the real one (fds 3-5 pass through the shell's exec) */
	const char *diosd = getenv("DIOSD");
	CHECK(diosd != NULL);
	char d[PATH_MAX], real[PATH_MAX + 64], script[PATH_MAX + 64];
	snprintf(d, sizeof d, "%s", diosd);
	snprintf(real, sizeof real, "%s/../libexec/dios/dios-launch", dirname(d));
	CHECK(access(real, X_OK) == 0);
	char tmpl[] = "/tmp/t_run_async-XXXXXX";
	CHECK(mkdtemp(tmpl) != NULL);
	snprintf(script, sizeof script, "%s/slow-launch", tmpl);
	FILE *f = fopen(script, "w");
	CHECK(f != NULL);
	fprintf(f, "#!/bin/sh\nsleep 2\nexec '%s' \"$@\"\n", real);
	fclose(f);
	CHECK_EQ(chmod(script, 0755), 0);
	const char *args[] = { "--launcher", script, NULL };
	dt_daemon_args = args;
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	char self[PATH_MAX], path[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	CHECK(n > 0);
	self[n] = '\0';
	snprintf(path, sizeof path, "%s/c_pure", dirname(self));
	CHECK_EQ(dios_exe(path, &exe), 0);
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, NULL, NULL, &report, 0), 0);

	int from, to;
	pid_t peer = dt_fork_peer(&from, &to);
	if (peer == 0) {
		CHECK_EQ(dios_nop(0), 0);       /* registered before the spawn starts */
		dt_send(to, 'r');
		CHECK_EQ(dt_recv(from), 'g');
		uint64_t worst = 0;
		for (int i = 0; i < 200; i++) {
			uint64_t t0 = dt_now_ns();
			CHECK_EQ(dios_nop(0), 0);
			uint64_t dt = dt_now_ns() - t0;
			if (dt > worst)
				worst = dt;
			usleep(2000);
		}
		if (worst > 500000000ull)
			dt_fail(__FILE__, __LINE__, "a null call took %llu ms while a spawn was in flight",
				(unsigned long long)(worst / 1000000));
		dt_send(to, 'd');
		_exit(0);
	}
	CHECK_EQ(dt_recv(from), 'r');
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, runner, NULL), 0);
	usleep(100000);                         /* the run is parked in the daemon now */
	dt_send(to, 'g');
	/* this task's own calls go on too, while its other thread's dios_run waits */
	uint64_t t0 = dt_now_ns();
	for (int i = 0; i < 100; i++)
		CHECK_EQ(dios_nop(0), 0);
	CHECK(dt_now_ns() - t0 < 1000000000ull);
	CHECK_EQ(dt_recv(from), 'd');           /* the peer's 200 calls, ~0.5 s, all during the spawn */
	CHECK(run_ns == 0);                     /* the spawn is still waiting for the launcher */
	CHECK_CHILD_OK(peer);
	CHECK_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(run_rc, 0);
	CHECK(run_ns >= 1500000000ull);         /* it did wait for the slow launcher */
	CHECK_EQ(dios_delete(0, exe), 0);
	CHECK_EQ(dios_delete(0, report), 0);
	dt_stop_daemon();
	unlink(script);
	rmdir(tmpl);
	return T_EXIT_PASS;
}
