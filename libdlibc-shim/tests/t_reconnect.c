/*
 * t_reconnect: after SIGKILL of the daemon every call fails with -ENOTCONN at once, FIFO calls done in shared memory on attached ends included (learnt without any call of ours reaching the daemon), and the detail names the socket; after a restart on the same socket and state directory dios_reconnect registers a new task that finds a durable blob's bytes by name, while every old reference keeps failing with -ENOTCONN (in a forked child too).
 */
#include "helpers.h"

#include <signal.h>
#include <sys/wait.h>

#define BLOB_LEN   3000
#define REC        100
#define PROMPT_NS  50000000ull          /* a call on a dead connection: well under the 100 ms futex bound */
#define NOTICE_NS  1000000000ull        /* the watcher sees the hang-up: bounded, normally microseconds */

static uint64_t t_call;

/* Each call after the death: -ENOTCONN, promptly. */
#define DEAD(call) do { \
	t_call = dt_now_ns(); \
	CHECK_EQ((call), -ENOTCONN); \
	if (dt_now_ns() - t_call > PROMPT_NS) \
		dt_fail(__FILE__, __LINE__, "%s took %llu ms to fail", #call, \
			(unsigned long long)((dt_now_ns() - t_call) / 1000000)); \
} while (0)

static void detail_has(const char *what)
{
	if (!strstr(dios_last_error_detail(), what))
		dt_fail(__FILE__, __LINE__, "detail \"%s\" lacks \"%s\"", dios_last_error_detail(), what);
}

static dios_ref_t *lookup1(const dios_name_t *n)
{
	dios_ref_t *r = NULL;
	uint64_t c = 1;
	CHECK_EQ(dios_lookup(0, n, &r, &c), 0);
	CHECK_EQ(c, 1);
	return r;
}

int main(void)
{
	alarm(100);
	dt_start_daemon();
	dt_register();

	/* -ENOTCONN before any daemon: the detail names the socket tried */
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char none[256];
		snprintf(none, sizeof none, "%s/nobody.sock", dt_dir());
		setenv("DIOS_SOCKET", none, 1);
		CHECK_EQ(dios_nop(0), -ENOTCONN);
		detail_has(none);
		detail_has("not reachable");
		_exit(0);
	}
	CHECK_EQ(dt_wait_child(pid), 0);

	/* a durable blob */
	dios_name_t bname;
	CHECK_EQ(dios_name_from_string("t_reconnect durable blob", &bname), 0);
	dios_ref_t *blob = NULL;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_BLOB, NULL, &bname, &blob, 0), 0);
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_acquire_write(0, blob, BLOB_LEN, &iov), 0);
	dt_fill(iov->buf, BLOB_LEN, 17);
	CHECK_EQ(dios_commit_write(0, blob, BLOB_LEN, iov), 0);
	CHECK_EQ(dios_release_write(0, blob, iov), 0);

	/* a FIFO, both ends attached here: a reader with data waiting and a buffer out, a writer with a buffer out */
	dios_name_t fname;
	uint64_t cap = 64 * 1024;
	dios_ref_t *rd = NULL;
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, &cap, &fname, &rd, 0), 0);
	dios_ref_t *wr = lookup1(&fname);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(dios_acquire_write(0, wr, REC, &iov), 0);
		dt_fill(iov->buf, REC, (uint32_t)i);
		CHECK_EQ(dios_commit_write(0, wr, REC, iov), 0);
		CHECK_EQ(dios_release_write(0, wr, iov), 0);
	}
	dios_iovec_t *riov = NULL, *wiov = NULL;
	CHECK_EQ(dios_acquire_read(0, rd, REC, &riov), 0);
	CHECK_EQ(dt_verify(riov->buf, REC, 0), -1);
	CHECK_EQ(dios_acquire_write(0, wr, REC, &wiov), 0);
	dios_ref_t *shm = NULL;
	uint64_t size = 4096;
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &shm, 0), 0);
	dios_ref_t *self = dios_self();
	CHECK(self != NULL);

	/* the daemon dies */
	uint64_t t_kill = dt_now_ns();
	dt_kill_daemon();

	/*
	 * The writer end has its one buffer out: alive, a second acquire is
	 * -EBUSY, in shared memory.  Nothing of ours reaches the daemon here,
	 * so only the shim's watcher can tell the FIFO path of the death.
	 */
	int rc;
	while ((rc = dios_acquire_write(D_NONBLOCK, wr, 1, &iov)) == -EBUSY) {
		if (dt_now_ns() - t_kill > NOTICE_NS)
			dt_fail(__FILE__, __LINE__, "FIFO calls still succeed %llu ms after the daemon's death",
				(unsigned long long)((dt_now_ns() - t_kill) / 1000000));
		usleep(1000);
	}
	CHECK_EQ(rc, -ENOTCONN);
	fprintf(stderr, "t_reconnect: the FIFO path knew of the death %llu us after the daemon was reaped\n",
		(unsigned long long)((dt_now_ns() - t_kill) / 1000));
	detail_has(dt_socket_path());
	detail_has("went away");
	detail_has("dios_reconnect");

	/* FIFO acquire/commit/release on attached ends: data is waiting, yet -ENOTCONN */
	DEAD(dios_acquire_read(0, rd, REC, &iov));
	DEAD(dios_acquire_read(D_NONBLOCK, rd, REC, &iov));
	DEAD(dios_commit_read(0, rd, riov));
	DEAD(dios_release_read(0, rd, riov));
	DEAD(dios_acquire_write(0, wr, REC, &iov));
	DEAD(dios_commit_write(0, wr, REC, wiov));
	DEAD(dios_release_write(0, wr, wiov));
	detail_has(dt_socket_path());

	/* the twelve calls */
	dios_ref_t *nref = NULL, *ready = NULL, *task = NULL;
	dios_name_t nn;
	uint64_t one = 1;
	char *argv[] = { "true", NULL };
	dios_task_spec_t spec = { .argc = 1, .argv = argv };
	DEAD(dios_create(0, D_OBJ_SHMEM, &size, NULL, &nref, 0));
	DEAD(dios_create(0, D_OBJ_BLOB, NULL, &nn, &nref, 0));
	DEAD(dios_lookup(0, &bname, &nref, &one));
	DEAD(dios_copy(0, &shm, 1, self));
	DEAD(dios_delete(0, shm));
	DEAD(dios_run(0, blob, &spec, &task));
	DEAD(dios_select(0, &rd, 1, &ready));
	DEAD(dios_acquire_read(0, blob, 0, &iov));
	DEAD(dios_commit_read(0, blob, riov));
	DEAD(dios_release_read(0, blob, riov));
	DEAD(dios_acquire_write(0, shm, 0, &iov));
	DEAD(dios_commit_write(0, shm, 1, wiov));
	DEAD(dios_release_write(0, shm, wiov));
	DEAD(dios_nop(0));
	DEAD(dios_ref_info(shm, &(dios_ref_info_t){ 0 }));
	detail_has(dt_socket_path());
	CHECK(dios_self() == NULL);
	CHECK(dios_pickref(&bname) == NULL);

	/* a Pure DIOS task (dios-launch sets DIOS_PURE) may not open a socket: a clear refusal */
	setenv("DIOS_PURE", "1", 1);
	CHECK_EQ(dios_reconnect(), -EPERM);
	detail_has("Pure DIOS");
	unsetenv("DIOS_PURE");

	/* a new daemon on the same socket and state directory */
	dt_start_daemon_in(dt_dir());
	DEAD(dios_nop(0));                              /* no automatic reconnect: the task died */
	DEAD(dios_acquire_read(0, rd, REC, &iov));

	/* a child forked now is a new task; the dead registration's references are dead there too */
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		CHECK_EQ(dios_nop(0), 0);
		CHECK_EQ(dios_acquire_read(0, blob, 0, &iov), -ENOTCONN);
		CHECK_EQ(dios_delete(0, shm), -ENOTCONN);
		dios_ref_t *b = lookup1(&bname);
		CHECK_EQ(dios_acquire_read(0, b, 0, &iov), 0);
		CHECK_EQ(dt_verify(iov->buf, BLOB_LEN, 17), -1);
		CHECK_EQ(dios_release_read(0, b, iov), 0);
		_exit(0);
	}
	CHECK_EQ(dt_wait_child(pid), 0);
	DEAD(dios_nop(0));                              /* the parent still has not started over */

	/* no daemon where the process looks: dios_reconnect says so, and names the socket */
	char none[256];
	snprintf(none, sizeof none, "%s/nobody.sock", dt_dir());
	setenv("DIOS_SOCKET", none, 1);
	DEAD(dios_reconnect());
	detail_has(none);
	detail_has("not reachable");
	setenv("DIOS_SOCKET", dt_socket_path(), 1);
	DEAD(dios_acquire_read(0, rd, REC, &iov));      /* still an old reference */
	uint64_t t0 = dt_now_ns();
	while ((rc = dios_reconnect()) == -ENOTCONN) {
		CHECK(dt_now_ns() - t0 < 60000000000ull);
		usleep(100000);
	}
	CHECK_EQ(rc, 0);
	CHECK_EQ(dios_reconnect(), 0);                  /* up: nothing to do */
	CHECK_EQ(dios_nop(0), 0);
	dios_ref_t *self2 = dios_self();
	CHECK(self2 != NULL);
	CHECK(self2 != self);

	/* the durable blob: found by name, its bytes there */
	dios_ref_t *blob2 = lookup1(&bname);
	CHECK_EQ(dios_acquire_read(0, blob2, 0, &iov), 0);
	CHECK_EQ(iov->len, BLOB_LEN);
	CHECK_EQ(dt_verify(iov->buf, BLOB_LEN, 17), -1);
	CHECK_EQ(dios_commit_read(0, blob2, iov), 0);
	CHECK_EQ(dios_release_read(0, blob2, iov), 0);

	/* every old reference keeps failing */
	DEAD(dios_acquire_read(0, blob, 0, &iov));
	detail_has("dios_reconnect");
	DEAD(dios_acquire_read(0, rd, REC, &iov));
	DEAD(dios_commit_read(0, rd, riov));
	DEAD(dios_acquire_write(0, wr, REC, &iov));
	DEAD(dios_commit_write(0, wr, REC, wiov));
	DEAD(dios_release_write(0, wr, wiov));
	DEAD(dios_ref_info(shm, &(dios_ref_info_t){ 0 }));
	DEAD(dios_delete(0, shm));
	DEAD(dios_copy(0, &blob2, 1, self));            /* an old target task */
	DEAD(dios_copy(0, &shm, 1, self2));             /* an old reference in the array */
	DEAD(dios_select(0, &rd, 1, &ready));
	DEAD(dios_wait(0, self, &(int){ 0 }));
	dios_ref_t *mix[2] = { blob2, rd };
	DEAD(dios_select(D_NONBLOCK, mix, 2, &ready));

	/* new objects work, FIFOs too */
	dios_ref_t *rd2 = NULL;
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, &cap, &fname, &rd2, 0), 0);
	dios_ref_t *wr2 = lookup1(&fname);
	CHECK_EQ(dios_acquire_write(0, wr2, REC, &iov), 0);
	dt_fill(iov->buf, REC, 5);
	CHECK_EQ(dios_commit_write(0, wr2, REC, iov), 0);
	CHECK_EQ(dios_release_write(0, wr2, iov), 0);
	CHECK_EQ(dios_acquire_read(0, rd2, REC, &iov), 0);
	CHECK_EQ(iov->len, REC);
	CHECK_EQ(dt_verify(iov->buf, REC, 5), -1);
	CHECK_EQ(dios_release_read(0, rd2, iov), 0);

	/* a forked child: a new task of its own, and the dead registration's references are dead there too */
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		CHECK_EQ(dios_nop(0), 0);
		CHECK_EQ(dios_acquire_read(0, blob, 0, &iov), -ENOTCONN);
		dios_ref_t *b = lookup1(&bname);
		CHECK_EQ(dios_acquire_read(0, b, 0, &iov), 0);
		CHECK_EQ(dt_verify(iov->buf, BLOB_LEN, 17), -1);
		CHECK_EQ(dios_release_read(0, b, iov), 0);
		_exit(0);
	}
	CHECK_EQ(dt_wait_child(pid), 0);

	CHECK_EQ(dios_delete(0, wr2), 0);
	CHECK_EQ(dios_delete(0, rd2), 0);
	CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, blob2), 0);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
