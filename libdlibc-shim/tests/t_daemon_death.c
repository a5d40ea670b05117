/* t_daemon_death: kill -9 of the daemon makes every caller (threads and another process, mid-call) return -ENOTCONN within 1 s, later calls at once; no daemon at all is -ENOTCONN too. */
#define _GNU_SOURCE
#include "helpers.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#define NS_PER_MS 1000000ull

struct worker {
	int kind;                 /* 0 nop loop, 1 create+delete loop, 2 nop with 5 ms gaps */
	atomic_long calls;        /* successful calls */
	atomic_int done;
	int rc;                   /* first non-zero result */
	uint64_t t_end;           /* when it came back */
};

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t size = 4096;
	for (;;) {
		int rc;
		if (w->kind == 1) {
			dios_ref_t *r = NULL;
			rc = dios_create(0, D_OBJ_SHMEM, &size, NULL, &r, 0);
			if (rc == 0)
				rc = dios_delete(0, r);
		} else {
			rc = dios_nop(0);
			if (w->kind == 2 && rc == 0)
				usleep(5000);
		}
		if (rc != 0) {
			w->t_end = dt_now_ns();
			w->rc = rc;
			atomic_store(&w->done, 1);
			return NULL;
		}
		atomic_fetch_add(&w->calls, 1);
	}
}

/* A fresh task (forked before any call) pointed at a path with no daemon. */
static void no_daemon(const char *path, const char *what)
{
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		alarm(30);
		if (path)
			CHECK_EQ(setenv("DIOS_SOCKET", path, 1), 0);
		uint64_t t0 = dt_now_ns();
		CHECK_EQ(dios_nop(0), -ENOTCONN);
		uint64_t first = dt_now_ns() - t0;
		if (first >= 1000 * NS_PER_MS)
			dt_fail(__FILE__, __LINE__, "%s: first call took %.1f ms", what, first / 1e6);
		uint64_t size = 4096;
		dios_ref_t *r = NULL;
		dios_daemon_stats_t s;
		dios_name_t n;
		dt_random_name(&n);
		for (int i = 0; i < 3; i++) {
			t0 = dt_now_ns();
			CHECK_EQ(dios_nop(0), -ENOTCONN);
			CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &r, 0), -ENOTCONN);
			CHECK_EQ(dios_daemon_stats(&s), -ENOTCONN);
			CHECK(dios_pickref(&n) == NULL);
			uint64_t dt = dt_now_ns() - t0;
			if (dt >= 10 * NS_PER_MS)
				dt_fail(__FILE__, __LINE__, "%s: later calls took %.1f ms", what, dt / 1e6);
		}
		CHECK(dios_self() == NULL);
		fprintf(stderr, "  %s: first call -ENOTCONN after %.3f ms\n", what, first / 1e6);
		_exit(0);
	}
	CHECK_CHILD_OK(pid);
}

int main(void)
{
	alarm(60);

	/* no daemon at all: a path that does not exist */
	no_daemon("/tmp/dios-test-no-such-dir/d.sock", "no socket file");

	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	/* state held across the death: an object with an outstanding buffer */
	uint64_t size = 4096;
	dios_ref_t *held = NULL;
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &held, 0), 0);
	CHECK_EQ(dios_acquire_write(0, held, 0, &iov), 0);

	/* another process in a call loop */
	int p[2];
	CHECK_EQ(pipe(p), 0);
	fflush(NULL);
	pid_t child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		alarm(60);
		close(p[0]);
		long n = 0;
		int rc;
		while ((rc = dios_nop(0)) == 0)
			if (++n == 1000)
				dt_send(p[1], 'g');
		uint64_t t = dt_now_ns();
		if (n < 1000)
			_exit(2);
		if (write(p[1], &rc, sizeof(rc)) != sizeof(rc) || write(p[1], &t, sizeof(t)) != sizeof(t))
			_exit(3);
		_exit(0);
	}
	close(p[1]);

	/* threads in call loops */
	enum { NW = 4 };
	static struct worker w[NW];
	pthread_t th[NW];
	for (int i = 0; i < NW; i++) {
		w[i].kind = i == 0 ? 0 : i == 1 ? 0 : i == 2 ? 1 : 2;
		CHECK_EQ(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	CHECK_EQ(dt_recv(p[0]), 'g');
	uint64_t t0 = dt_now_ns();
	for (int i = 0; i < NW; i++) {
		while (atomic_load(&w[i].calls) < 20) {
			if (atomic_load(&w[i].done))
				dt_fail(__FILE__, __LINE__, "worker %d stopped early with %d %s", i, w[i].rc, dt_errname(w[i].rc));
			if (dt_now_ns() - t0 > 10000 * NS_PER_MS)
				dt_fail(__FILE__, __LINE__, "worker %d made only %ld calls in 10 s", i, (long)atomic_load(&w[i].calls));
			usleep(1000);
		}
	}

	/* kill -9 */
	pid_t dpid = dt_daemon_pid();
	uint64_t t_kill = dt_now_ns();
	int st = dt_kill_daemon();
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	for (int i = 0; i < NW; i++) {
		CHECK_EQ(pthread_join(th[i], NULL), 0);
		CHECK_EQ(w[i].rc, -ENOTCONN);
		uint64_t lat = w[i].t_end > t_kill ? w[i].t_end - t_kill : 0;
		fprintf(stderr, "  thread %d (kind %d, %ld calls): -ENOTCONN %.3f ms after the kill\n",
			i, w[i].kind, (long)atomic_load(&w[i].calls), lat / 1e6);
		if (lat >= 1000 * NS_PER_MS)
			dt_fail(__FILE__, __LINE__, "thread %d returned %.1f ms after the daemon's death (limit 1000 ms)", i, lat / 1e6);
	}
	{
		int rc = 0;
		uint64_t t = 0;
		CHECK_EQ(read(p[0], &rc, sizeof(rc)), (ssize_t)sizeof(rc));
		CHECK_EQ(read(p[0], &t, sizeof(t)), (ssize_t)sizeof(t));
		CHECK_CHILD_OK(child);
		CHECK_EQ(rc, -ENOTCONN);
		uint64_t lat = t > t_kill ? t - t_kill : 0;
		fprintf(stderr, "  child process: -ENOTCONN %.3f ms after the kill\n", lat / 1e6);
		if (lat >= 1000 * NS_PER_MS)
			dt_fail(__FILE__, __LINE__, "child process returned %.1f ms after the daemon's death", lat / 1e6);
		close(p[0]);
	}

	/* every later call fails at once */
	dios_name_t n;
	dt_random_name(&n);
	dios_ref_t *r = NULL;
	dios_iovec_t *x = NULL;
	dios_daemon_stats_t s;
	dios_ref_info_t info;
	uint64_t count = 1;
	dios_call_t batch[2];
	memset(batch, 0, sizeof(batch));
	for (int i = 0; i < 5; i++) {
		uint64_t a = dt_now_ns();
		CHECK_EQ(dios_nop(0), -ENOTCONN);
		uint64_t b = dt_now_ns();
		if (b - a >= 10 * NS_PER_MS)
			dt_fail(__FILE__, __LINE__, "dios_nop after the death took %.3f ms", (b - a) / 1e6);
		CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &r, 0), -ENOTCONN);
		CHECK_EQ(dios_lookup(0, &n, &r, &count), -ENOTCONN);
		CHECK_EQ(dios_daemon_stats(&s), -ENOTCONN);
		CHECK_EQ(dios_ref_info(held, &info), -ENOTCONN);
		CHECK_EQ(dios_acquire_read(0, held, 0, &x), -ENOTCONN);
		CHECK_EQ(dios_commit_write(0, held, 8, iov), -ENOTCONN);
		CHECK_EQ(dios_batch(batch, 2), -ENOTCONN);
		uint64_t c = dt_now_ns();
		if (c - b >= 10 * NS_PER_MS)
			dt_fail(__FILE__, __LINE__, "7 calls after the death took %.3f ms", (c - b) / 1e6);
	}
	CHECK_EQ(dios_release_write(0, held, iov), -ENOTCONN);
	CHECK_EQ(dios_delete(0, held), -ENOTCONN);
	CHECK(dios_pickref(&n) == NULL);

	/* a new task (fork) finds the stale socket file with no one listening */
	no_daemon(NULL, "stale socket file");

	/* the daemon really is gone */
	errno = 0;
	CHECK_EQ(kill(dpid, 0), -1);
	CHECK_EQ(errno, ESRCH);
	dt_cleanup_dir();
	return T_EXIT_PASS;
}
