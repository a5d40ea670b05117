/* t_fifo_parked: blocked calls never block the daemon or the task: while a reader is blocked on an empty FIFO, an unrelated task and another thread of the reader's own task keep making calls; the blocked read completes when the writer acts, with the writer's bytes; a writer blocked on a full FIFO completes when the reader releases. */
#include "helpers.h"

#include <pthread.h>
#include <string.h>

static dios_ref_t *lookup(const dios_name_t *name)
{
	dios_ref_t *r = NULL;
	uint64_t n = 1;
	CHECK_EQ(dios_lookup(0, name, &r, &n), 0);
	return r;
}

struct reader { dios_ref_t *rd; volatile int done; int res; uint64_t len; uint8_t first; };

static void *parked_read(void *arg)
{
	struct reader *r = arg;
	dios_iovec_t *iov = NULL;
	r->res = dios_acquire_read(0, r->rd, 0, &iov);
	if (r->res == 0) {
		r->len = iov->len;
		r->first = ((uint8_t *)iov->buf)[0];
		CHECK_EQ(dios_release_read(0, r->rd, iov), 0);
	}
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

int main(void)
{
	alarm(60);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();
	dios_name_t name;
	dt_random_name(&name);
	uint64_t cap = 4096;
	dios_ref_t *rd = NULL;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_FIFO, &cap, &name, &rd, 0), 0);

	/* a thread of this task parks in acquire_read */
	struct reader r = { .rd = rd };
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, parked_read, &r), 0);
	usleep(200 * 1000);                     /* well past the spin: it is parked in the daemon */
	CHECK(!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE));

	/* this task's other calls go on meanwhile (another thread, same ring) */
	for (int i = 0; i < 20000; i++)
		CHECK_EQ(dios_nop(0), 0);
	uint64_t size = 4096;
	dios_ref_t *m = NULL;
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &m, 0), 0);
	CHECK_EQ(dios_delete(0, m), 0);

	/* an unrelated task is served meanwhile too */
	int from, to;
	pid_t other = dt_fork_peer(&from, &to);
	if (other == 0) {
		for (int i = 0; i < 20000; i++)
			CHECK_EQ(dios_nop(0), 0);
		dios_ref_t *o = NULL;
		CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &o, 0), 0);
		CHECK_EQ(dios_delete(0, o), 0);
		dt_send(to, 'N');
		_exit(0);
	}
	CHECK_EQ(dt_recv(from), 'N');
	CHECK_CHILD_OK(other);
	CHECK(!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE));   /* still waiting: nothing was written */

	/* a writer task acts: the parked read completes with its bytes */
	pid_t writer = dt_fork_peer(&from, &to);
	if (writer == 0) {
		dios_ref_t *w = lookup(&name);
		dios_iovec_t *iov = NULL;
		CHECK_EQ(dios_acquire_write(0, w, 300, &iov), 0);
		memset(iov->buf, 0xAB, 300);
		CHECK_EQ(dios_commit_write(0, w, 300, iov), 0);
		CHECK_EQ(dios_release_write(0, w, iov), 0);
		CHECK_EQ(dt_recv(from), 'G');     /* the parent's thread has read those 300 */
		/* fill the FIFO; the next write parks until the parent's reader releases */
		CHECK_EQ(dios_acquire_write(0, w, 4096 - 300, &iov), 0);
		memset(iov->buf, 0xCD, 4096 - 300);
		CHECK_EQ(dios_commit_write(0, w, 4096 - 300, iov), 0);
		CHECK_EQ(dios_release_write(0, w, iov), 0);
		dt_send(to, 'F');
		uint64_t t0 = dt_now_ns();
		CHECK_EQ(dios_acquire_write(0, w, 1000, &iov), 0);   /* parked: full */
		CHECK(dt_now_ns() - t0 > 100 * 1000000ull);
		memset(iov->buf, 0xEF, 1000);
		CHECK_EQ(dios_commit_write(0, w, 1000, iov), 0);
		CHECK_EQ(dios_release_write(0, w, iov), 0);
		_exit(0);
	}
	CHECK_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(r.res, 0);
	CHECK_EQ(r.len, 300);
	CHECK_EQ(r.first, 0xAB);
	dt_send(to, 'G');
	CHECK_EQ(dt_recv(from), 'F');
	usleep(300 * 1000);                     /* let the writer park on the full FIFO */
	dios_iovec_t *iov = NULL;
	uint64_t left = 4096 - r.len;           /* what the thread did not read yet */
	while (left > 0) {
		CHECK_EQ(dios_acquire_read(0, rd, left, &iov), 0);
		left -= iov->len;
		CHECK_EQ(dios_release_read(0, rd, iov), 0);   /* frees space: the parked writer goes on */
	}
	CHECK_EQ(dios_acquire_read(0, rd, 0, &iov), 0);
	CHECK_EQ(iov->len, 1000);
	CHECK_EQ(((uint8_t *)iov->buf)[999], 0xEF);
	CHECK_EQ(dios_release_read(0, rd, iov), 0);
	CHECK_CHILD_OK(writer);
	CHECK_EQ(dios_acquire_read(0, rd, 0, &iov), -EPIPE);  /* the writer exited */
	CHECK_EQ(dios_delete(0, rd), 0);
	dios_daemon_stats_t s = dt_wait_stats(&base, 5000);
	CHECK_STATS_EQ(s, base);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
