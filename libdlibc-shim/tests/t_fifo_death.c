/* t_fifo_death: a writer killed mid-stream (the reader still gets everything committed, then -EPIPE, also while blocked); a reader killed mid-stream (a writer blocked on a full FIFO wakes with -EPIPE); nothing leaks; a reader blocked when the daemon dies gets -ENOTCONN, not a hang. */
#include "helpers.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>

#define REC 1000

static dios_ref_t *lookup(const dios_name_t *name)
{
	dios_ref_t *r = NULL;
	uint64_t n = 1;
	CHECK_EQ(dios_lookup(0, name, &r, &n), 0);
	return r;
}

static void put(dios_ref_t *w, uint32_t seed)
{
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_acquire_write(0, w, REC, &iov), 0);
	dt_fill(iov->buf, REC, seed);
	CHECK_EQ(dios_commit_write(0, w, REC, iov), 0);
	CHECK_EQ(dios_release_write(0, w, iov), 0);
}

static void get(dios_ref_t *rd, uint32_t seed)
{
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_acquire_read(0, rd, REC, &iov), 0);
	CHECK_EQ(iov->len, REC);
	CHECK_EQ(dt_verify(iov->buf, REC, seed), -1);
	CHECK_EQ(dios_release_read(0, rd, iov), 0);
}

struct killer { pid_t pid; int delay_ms; };

static void *kill_later(void *arg)
{
	struct killer *k = arg;
	usleep((useconds_t)k->delay_ms * 1000);
	kill(k->pid, SIGKILL);
	return NULL;
}

int main(void)
{
	alarm(60);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();
	dios_name_t name;
	uint64_t cap = 64 * 1024;
	dios_ref_t *rd = NULL, *w = NULL;
	int from, to;
	pid_t pid;

	/* 1. the writer dies with data in flight: the reader drains it, then -EPIPE */
	dt_random_name(&name);
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_FIFO, &cap, &name, &rd, 0), 0);
	pid = dt_fork_peer(&from, &to);
	if (pid == 0) {
		dios_ref_t *cw = lookup(&name);
		for (uint32_t i = 0; i < 20; i++)
			put(cw, i);
		dt_send(to, 'W');
		pause();                        /* killed here, holding the writer end */
		_exit(1);
	}
	CHECK_EQ(dt_recv(from), 'W');
	for (uint32_t i = 0; i < 10; i++)
		get(rd, i);
	kill(pid, SIGKILL);
	CHECK(WIFSIGNALED(dt_wait_child(pid)));
	for (uint32_t i = 10; i < 20; i++)
		get(rd, i);                     /* committed before the death: delivered */
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_acquire_read(0, rd, 0, &iov), -EPIPE);
	CHECK_EQ(dios_delete(0, rd), 0);
	close(from);
	close(to);

	/* 2. a reader parked on an empty FIFO when the writer dies: woken with -EPIPE */
	dt_random_name(&name);
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_FIFO, &cap, &name, &rd, 0), 0);
	pid = dt_fork_peer(&from, &to);
	if (pid == 0) {
		dios_ref_t *cw = lookup(&name);
		put(cw, 99);
		dt_send(to, 'W');
		pause();
		_exit(1);
	}
	CHECK_EQ(dt_recv(from), 'W');
	get(rd, 99);
	struct killer k = { pid, 300 };
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, kill_later, &k), 0);
	uint64_t t0 = dt_now_ns();
	CHECK_EQ(dios_acquire_read(0, rd, 0, &iov), -EPIPE);   /* parked until the death */
	CHECK(dt_now_ns() - t0 > 100 * 1000000ull);            /* it really waited */
	pthread_join(th, NULL);
	CHECK(WIFSIGNALED(dt_wait_child(pid)));
	CHECK_EQ(dios_delete(0, rd), 0);
	close(from);
	close(to);

	/* 3. the reader dies mid-stream: a writer parked on the full FIFO wakes with -EPIPE */
	dt_random_name(&name);
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_FIFO, &cap, &name, &w, 0), 0);
	pid = dt_fork_peer(&from, &to);
	if (pid == 0) {
		dios_ref_t *cr = lookup(&name);
		get(cr, 0);                     /* the reader end is this task's now */
		dt_send(to, 'R');
		pause();
		_exit(1);
	}
	put(w, 0);
	CHECK_EQ(dt_recv(from), 'R');
	/* fill it: 64 KiB of 1000-byte records */
	uint32_t n = 0;
	for (;;) {
		int r = dios_acquire_write(D_NONBLOCK, w, REC, &iov);
		if (r == -EAGAIN)
			break;
		CHECK_EQ(r, 0);
		CHECK_EQ(dios_commit_write(0, w, REC, iov), 0);
		CHECK_EQ(dios_release_write(0, w, iov), 0);
		n++;
	}
	CHECK_EQ(n, cap / REC);
	k.pid = pid;
	CHECK_EQ(pthread_create(&th, NULL, kill_later, &k), 0);
	t0 = dt_now_ns();
	CHECK_EQ(dios_acquire_write(0, w, REC, &iov), -EPIPE);  /* parked until the reader dies */
	CHECK(dt_now_ns() - t0 > 100 * 1000000ull);
	pthread_join(th, NULL);
	CHECK(WIFSIGNALED(dt_wait_child(pid)));
	CHECK_EQ(dios_acquire_write(D_NONBLOCK, w, 1, &iov), -EPIPE);
	CHECK_EQ(dios_delete(0, w), 0);
	close(from);
	close(to);

	/* everything the dead tasks held is gone */
	dios_daemon_stats_t s = dt_wait_stats(&base, 5000);
	CHECK_STATS_EQ(s, base);

	/* 4. the daemon dies while a reader is blocked: -ENOTCONN within ~100 ms, never a hang */
	dt_random_name(&name);
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_FIFO, &cap, &name, &rd, 0), 0);
	w = lookup(&name);                      /* a writer end that never writes */
	put(w, 5);
	get(rd, 5);                             /* both ends attached */
	k.pid = dt_daemon_pid();
	CHECK_EQ(pthread_create(&th, NULL, kill_later, &k), 0);
	t0 = dt_now_ns();
	CHECK_EQ(dios_acquire_read(0, rd, 0, &iov), -ENOTCONN);
	uint64_t waited = dt_now_ns() - t0;
	CHECK(waited > 200 * 1000000ull && waited < 2000 * 1000000ull);
	pthread_join(th, NULL);
	CHECK_EQ(dios_nop(0), -ENOTCONN);
	dt_kill_daemon();
	dt_cleanup_dir();
	return T_EXIT_PASS;
}
