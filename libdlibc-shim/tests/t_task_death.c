/* t_task_death: a task that dies (SIGKILL, normal exit, SIGSEGV) holding objects, names, lookups and buffers leaves the daemon's counts exactly at baseline. */
#define _GNU_SOURCE
#include "helpers.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

enum how { BY_SIGKILL, BY_EXIT, BY_SIGSEGV };
static const char *how_name[] = { "SIGKILL", "exit(0)", "SIGSEGV" };

static void child(enum how how, const dios_name_t *name, int to_parent, int from_parent)
{
	alarm(60);
	uint64_t size = 65536, small = 4096;
	dios_ref_t *shm = NULL, *priv = NULL, *anon = NULL, *look[3] = { 0 };
	dios_name_t rnd;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_SHMEM, &size, (dios_name_t *)name, &shm, 0), 0);
	CHECK_EQ(dios_create(0, D_OBJ_PRIVMEM, &small, NULL, &priv, 0), 0);
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &small, &rnd, &anon, 0), 0);   /* random-named */
	for (int i = 0; i < 3; i++) {
		uint64_t count = 1;
		CHECK_EQ(dios_lookup(i == 2 ? D_LOOKUP_READONLY : 0, name, &look[i], &count), 0);
	}
	dios_iovec_t *w = NULL, *r1 = NULL, *r2 = NULL, *pw = NULL;
	CHECK_EQ(dios_acquire_write(0, shm, 0, &w), 0);
	dt_fill(w->buf, size, 5);
	CHECK_EQ(dios_commit_write(0, shm, size, w), 0);
	CHECK_EQ(dios_acquire_read(0, look[0], 0, &r1), 0);
	CHECK_EQ(dios_acquire_read(0, look[2], 0, &r2), 0);   /* read-only mapping too */
	CHECK_EQ(dios_acquire_write(0, priv, 0, &pw), 0);
	dt_send(to_parent, 'r');

	switch (how) {
	case BY_SIGKILL:
		for (;;)
			pause();
	case BY_EXIT:
		(void)dt_recv(from_parent);
		exit(0);   /* normal exit: atexit handlers and all, but no dios_delete */
	case BY_SIGSEGV: {
		(void)dt_recv(from_parent);
		struct rlimit no_core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no_core);
		signal(SIGSEGV, SIG_DFL);
		volatile int *volatile nowhere = NULL;
		*nowhere = 1;
		_exit(3);
	}
	}
	_exit(4);
}

static void run(enum how how, const dios_daemon_stats_t *base)
{
	char str[64];
	snprintf(str, sizeof(str), "t_task_death-%d-%d", (int)getpid(), (int)how);
	dios_name_t name;
	CHECK_EQ(dios_name_from_string(str, &name), 0);

	int rd, wr;
	pid_t pid = dt_fork_peer(&rd, &wr);
	if (pid == 0) {
		child(how, &name, wr, rd);
	}
	CHECK_EQ(dt_recv(rd), 'r');

	/* the child's state is really there: the return to baseline below means something */
	dios_daemon_stats_t s = dt_stats();
	CHECK_EQ(s.tasks, base->tasks + 1);
	CHECK(s.objects >= base->objects + 3);      /* + the child's task object, if counted */
	CHECK_EQ(s.names, base->names + 2);
	CHECK(s.refs >= base->refs + 6);
	CHECK_EQ(s.buffers, base->buffers + 4);
	CHECK(s.segments >= base->segments + 2);
	{
		dios_ref_t *r = NULL;
		uint64_t count = 1;
		CHECK_EQ(dios_lookup(0, &name, &r, &count), 0);   /* visible to us while it lives */
		CHECK_EQ(dios_delete(0, r), 0);
	}

	int st;
	if (how == BY_SIGKILL) {
		CHECK_EQ(kill(pid, SIGKILL), 0);
		st = dt_wait_child(pid);
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	} else {
		dt_send(wr, 'g');
		st = dt_wait_child(pid);
		if (how == BY_EXIT) {
			if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
				dt_fail(__FILE__, __LINE__, "child did not exit(0): status %#x", st);
		} else {
			if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV))
				dt_fail(__FILE__, __LINE__, "child did not die of SIGSEGV: status %#x", st);
		}
	}
	close(rd);
	close(wr);

	uint64_t t0 = dt_now_ns();
	s = dt_wait_stats(base, 5000);
	if (memcmp(&s, base, sizeof(s)) != 0)
		fprintf(stderr, "child died by %s: counts not back to baseline after 5 s\n", how_name[how]);
	CHECK_STATS_EQ(s, *base);
	fprintf(stderr, "  %s: back to baseline after %.1f ms\n", how_name[how], (dt_now_ns() - t0) / 1e6);

	dios_ref_t *r = NULL;
	uint64_t count = 1;
	CHECK_EQ(dios_lookup(0, &name, &r, &count), -ENOENT);
	CHECK(dios_pickref(&name) == NULL);
}

int main(void)
{
	alarm(60);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();

	run(BY_SIGKILL, &base);
	run(BY_EXIT, &base);
	run(BY_SIGSEGV, &base);

	/* the daemon is still healthy for us */
	CHECK_EQ(dios_nop(0), 0);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
