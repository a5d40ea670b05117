/* t_timeout: every blocking call has a deadline: select, FIFO reads (no writer bound, a silent writer), a FIFO write on a full FIFO, dios_wait and a console read return -ETIMEDOUT no sooner than asked, leave no parked call, and the next call gets the later event; D_TIMEOUT where nothing waits is -EINVAL; huge timeouts never fire. */
#define _GNU_SOURCE
#include "helpers.h"

#include <poll.h>
#include <pty.h>
#include <string.h>
#include <sys/wait.h>

#define MS 1000000ull
#define SLACK (5000 * MS)       /* a generous upper bound: the machine is shared */

/* Fails unless a call that timed out after took ns had asked for timeout ns (and was not absurdly late). */
static void check_took(int line, const char *call, uint64_t took, uint64_t timeout)
{
	if (took < timeout || took >= timeout + SLACK)
		dt_fail(__FILE__, line, "%s took %llu ns for a timeout of %llu ns", call,
			(unsigned long long)took, (unsigned long long)timeout);
}

/* Checks that a call returned -ETIMEDOUT after at least timeout_ns (and not absurdly later). */
#define CHECK_TIMED_OUT(call, timeout_ns) do { \
	uint64_t t0_ = dt_now_ns(); \
	CHECK_EQ((call), -ETIMEDOUT); \
	check_took(__LINE__, #call, dt_now_ns() - t0_, (timeout_ns)); \
} while (0)

/* No call of any task waits in the daemon (the admin socket's count). */
static void no_parked_calls(int line)
{
	long long n = dt_admin_status("parked_calls");
	if (n != 0)
		dt_fail(__FILE__, line, "parked_calls is %lld, want 0", n);
}
#define NO_PARKED() no_parked_calls(__LINE__)

static dios_ref_t *named_fifo(const char *s, uint64_t cap, int create)
{
	dios_name_t n;
	CHECK_EQ(dios_name_from_string(s, &n), 0);
	dios_ref_t *r = NULL;
	if (create) {
		CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_FIFO, &cap, &n, &r, 0), 0);
	} else {
		uint64_t c = 1;
		CHECK_EQ(dios_lookup(0, &n, &r, &c), 0);
	}
	return r;
}

static void put(dios_ref_t *w, const char *bytes)
{
	dios_iovec_t *iov = NULL;
	size_t n = strlen(bytes);
	CHECK_EQ(dios_acquire_write(0, w, n, &iov), 0);
	memcpy(iov->buf, bytes, n);
	CHECK_EQ(dios_commit_write(0, w, n, iov), 0);
	CHECK_EQ(dios_release_write(0, w, iov), 0);
}

/* Reads exactly what bytes says (waiting for it, no timeout). */
static void get(dios_ref_t *r, const char *bytes)
{
	dios_iovec_t *iov = NULL;
	size_t n = strlen(bytes);
	CHECK_EQ(dios_acquire_read(0, r, n, &iov), 0);
	CHECK_EQ(iov->len, n);
	CHECK(memcmp(iov->buf, bytes, n) == 0);
	CHECK_EQ(dios_release_read(0, r, iov), 0);
}

/* ---- select ------------------------------------------------------------- */

static void select_timeouts(void)
{
	dios_ref_t *f[3];
	f[0] = named_fifo("t_timeout-sel-0", 4096, 1);
	f[1] = named_fifo("t_timeout-sel-1", 4096, 1);
	f[2] = named_fifo("t_timeout-sel-2", 4096, 1);
	dios_ref_t *ready = NULL;

	/* nothing ready: gives up after the timeout, *ready_out untouched, nothing left parked */
	CHECK_TIMED_OUT(dios_select_timeout(0, f, 3, &ready, 200 * MS), 200 * MS);
	CHECK(ready == NULL);
	NO_PARKED();
	CHECK_TIMED_OUT(dios_select_timeout(0, f, 3, &ready, 0), 0);      /* 0: at once */
	CHECK_EQ(dios_select_timeout(D_NONBLOCK, f, 3, &ready, 200 * MS), -EAGAIN);
	NO_PARKED();
	/* the plain call without D_TIMEOUT takes no timeout field: -EAGAIN as ever */
	CHECK_EQ(dios_select(D_NONBLOCK, f, 3, &ready), -EAGAIN);
	/* D_TIMEOUT given to a call without a timeout argument: a timeout of 0 (dios.h, Timeouts) */
	CHECK_TIMED_OUT(dios_select(D_TIMEOUT, f, 3, &ready), 0);
	NO_PARKED();

	/*
	 * A select that timed out waited on all three: the writes that come
	 * later go to the next select, never to the dead one (a completion for
	 * no call in flight would make the shim drop its connection).
	 */
	CHECK_TIMED_OUT(dios_select_timeout(0, f, 3, &ready, 100 * MS), 100 * MS);
	int from, to;
	pid_t pid = dt_fork_peer(&from, &to);
	if (pid == 0) {
		for (int i = 0; i < 3; i++) {
			CHECK_EQ(dt_recv(from), 'W');
			char s[32];
			snprintf(s, sizeof s, "t_timeout-sel-%d", i);
			put(named_fifo(s, 0, 0), i == 0 ? "a" : i == 1 ? "b" : "c");
		}
		CHECK_EQ(dt_recv(from), 'Q');
		_exit(0);
	}
	dt_send(to, 'W');                       /* FIFO 0 gets a byte while no select waits */
	ready = NULL;
	CHECK_EQ(dios_select(0, f, 3, &ready), 0);
	CHECK(ready == f[0]);
	get(f[0], "a");
	/* a timed select that is woken in time returns the reference, not -ETIMEDOUT */
	CHECK_TIMED_OUT(dios_select_timeout(0, f, 3, &ready, 50 * MS), 50 * MS);
	dt_send(to, 'W');
	ready = NULL;
	CHECK_EQ(dios_select_timeout(0, f, 3, &ready, 60000 * MS), 0);
	CHECK(ready == f[1]);
	get(f[1], "b");
	/* huge timeouts: no overflow, they simply do not fire before the event */
	dt_send(to, 'W');
	ready = NULL;
	CHECK_EQ(dios_select_timeout(0, f, 3, &ready, UINT64_MAX), 0);
	CHECK(ready == f[2]);
	get(f[2], "c");
	dt_send(to, 'Q');
	CHECK_CHILD_OK(pid);
	NO_PARKED();
	for (int i = 0; i < 3; i++)
		CHECK_EQ(dios_delete(0, f[i]), 0);
	CHECK_EQ(dios_nop(0), 0);               /* the connection is fine */
}

/* ---- FIFOs: the waits happen in the shim --------------------------------- */

static void fifo_read_timeouts(void)
{
	dios_ref_t *r = named_fifo("t_timeout-rd", 4096, 1);
	dios_iovec_t *iov = NULL;

	/* no writer has bound its end (a named FIFO's writer is never gone) */
	CHECK_TIMED_OUT(dios_acquire_read_timeout(0, r, 0, &iov, 200 * MS), 200 * MS);
	CHECK(iov == NULL);
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, r, 0, &iov), -EAGAIN);  /* not -EBUSY: no buffer is out */
	CHECK_TIMED_OUT(dios_acquire_read_timeout(0, r, 0, &iov, 0), 0);
	CHECK_TIMED_OUT(dios_acquire_read(D_TIMEOUT, r, 0, &iov), 0);
	NO_PARKED();

	int from, to;
	pid_t pid = dt_fork_peer(&from, &to);
	if (pid == 0) {
		dios_ref_t *w = named_fifo("t_timeout-rd", 0, 0);
		dios_iovec_t *wi = NULL;
		CHECK_EQ(dios_acquire_write(0, w, 1, &wi), 0);   /* binds the writer end ... */
		CHECK_EQ(dios_release_write(0, w, wi), 0);       /* ... and sends nothing */
		dt_send(to, 'B');
		CHECK_EQ(dt_recv(from), 'S');
		put(w, "late");
		CHECK_EQ(dt_recv(from), 'S');
		put(w, "later");
		CHECK_EQ(dt_recv(from), 'Q');
		_exit(0);
	}
	CHECK_EQ(dt_recv(from), 'B');
	/* a writer that is bound and silent */
	CHECK_TIMED_OUT(dios_acquire_read_timeout(0, r, 0, &iov, 300 * MS), 300 * MS);
	CHECK(iov == NULL);
	/* what it sends later goes to the next read (here one without a timeout) */
	dt_send(to, 'S');
	get(r, "late");
	/* and to a timed read woken in time */
	dt_send(to, 'S');
	iov = NULL;
	CHECK_EQ(dios_acquire_read_timeout(0, r, 5, &iov, 60000 * MS), 0);
	CHECK_EQ(iov->len, 5);
	CHECK(memcmp(iov->buf, "later", 5) == 0);
	CHECK_EQ(dios_release_read(0, r, iov), 0);
	/* huge timeouts, with no data: still nothing wrapped round to "expired" */
	dt_send(to, 'Q');
	CHECK_CHILD_OK(pid);                    /* the writer is gone: end of stream, at once */
	CHECK_EQ(dios_acquire_read_timeout(0, r, 0, &iov, UINT64_MAX), -EPIPE);
	CHECK_EQ(dios_acquire_read_timeout(0, r, 0, &iov, UINT64_MAX - 1), -EPIPE);
	CHECK_EQ(dios_delete(0, r), 0);
	NO_PARKED();
}

static void fifo_write_timeouts(void)
{
	dios_ref_t *w = named_fifo("t_timeout-wr", 4096, 1);
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_acquire_write(0, w, 4096, &iov), 0);
	memset(iov->buf, 'x', 4096);
	CHECK_EQ(dios_commit_write(0, w, 4096, iov), 0);
	CHECK_EQ(dios_release_write(0, w, iov), 0);

	/* full, and nobody reads yet */
	iov = NULL;
	CHECK_TIMED_OUT(dios_acquire_write_timeout(0, w, 1, &iov, 200 * MS), 200 * MS);
	CHECK(iov == NULL);
	CHECK_TIMED_OUT(dios_acquire_write_timeout(0, w, 0, &iov, 0), 0);
	CHECK_EQ(dios_acquire_write(D_NONBLOCK, w, 1, &iov), -EAGAIN);  /* not -EBUSY */
	NO_PARKED();

	int from, to;
	pid_t pid = dt_fork_peer(&from, &to);
	if (pid == 0) {
		dios_ref_t *r = named_fifo("t_timeout-wr", 0, 0);
		CHECK_EQ(dt_recv(from), 'R');
		dios_iovec_t *ri = NULL;
		CHECK_EQ(dios_acquire_read(0, r, 100, &ri), 0);
		CHECK_EQ(ri->len, 100);
		CHECK_EQ(dios_release_read(0, r, ri), 0);
		CHECK_EQ(dt_recv(from), 'Q');
		_exit(0);
	}
	/* a bound reader that does not read */
	CHECK_TIMED_OUT(dios_acquire_write_timeout(0, w, 50, &iov, 100 * MS), 100 * MS);
	dt_send(to, 'R');
	/* the space it frees goes to the next write */
	iov = NULL;
	CHECK_EQ(dios_acquire_write_timeout(0, w, 100, &iov, 60000 * MS), 0);
	CHECK_EQ(iov->len, 100);
	CHECK_EQ(dios_release_write(0, w, iov), 0);
	dt_send(to, 'Q');
	CHECK_CHILD_OK(pid);
	CHECK_EQ(dios_delete(0, w), 0);
	NO_PARKED();
}

/* ---- dios_wait on a running task ------------------------------------------ */

/* The spawned copy of this program: waits for a byte on the named FIFO, then exits 7. */
static int child_wait_for_go(void)
{
	dios_ref_t *r = named_fifo("t_timeout-go", 0, 0);
	get(r, "g");
	return 7;
}

static void wait_timeouts(void)
{
	dios_ref_t *go = named_fifo("t_timeout-go", 4096, 1);
	dios_ref_t *exe = dios_pickref(dios_self_exe());
	CHECK(exe != NULL);
	char *argv[] = { "t_timeout", "child", NULL };
	dios_task_spec_t spec = { .argc = 2, .argv = argv };
	dios_ref_t *t = NULL;
	CHECK_EQ(dios_run(0, exe, &spec, &t), 0);
	int status = -2;
	CHECK_TIMED_OUT(dios_wait_timeout(0, t, &status, 200 * MS), 200 * MS);
	CHECK_EQ(status, -2);
	NO_PARKED();
	CHECK_EQ(dios_wait(D_NONBLOCK, t, &status), -EAGAIN);
	CHECK_TIMED_OUT(dios_wait_timeout(0, t, &status, 0), 0);
	/* the same through acquire_read of the task reference */
	dios_iovec_t *iov = NULL;
	CHECK_TIMED_OUT(dios_acquire_read_timeout(0, t, 0, &iov, 100 * MS), 100 * MS);
	CHECK(iov == NULL);
	NO_PARKED();
	/* its exit goes to the next wait */
	put(go, "g");
	CHECK_EQ(dios_wait(0, t, &status), 0);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 7);
	status = -2;
	CHECK_EQ(dios_wait_timeout(0, t, &status, 0), 0);   /* ended: no wait, no timeout */
	CHECK_EQ(WEXITSTATUS(status), 7);
	CHECK_EQ(dios_delete(0, t), 0);
	CHECK_EQ(dios_delete(0, exe), 0);
	CHECK_EQ(dios_delete(0, go), 0);
	NO_PARKED();
}

/* ---- the console, on a terminal ----------------------------------------- */

static dios_ref_t *console_ref(void)
{
	dios_name_t n;
	CHECK_EQ(dios_name_from_string(DIOS_CONSOLE_NAME_STRING, &n), 0);
	dios_ref_t *c = dios_pickref(&n);
	CHECK(c != NULL);
	return c;
}

static int on_terminal(void)
{
	alarm(30);
	dios_ref_t *c = console_ref();
	dios_iovec_t *iov = NULL;
	CHECK_TIMED_OUT(dios_acquire_read_timeout(0, c, 0, &iov, 200 * MS), 200 * MS);
	CHECK(iov == NULL);
	NO_PARKED();
	/* at once again: the dead read is no longer the task's console read (else -EBUSY) */
	CHECK_TIMED_OUT(dios_acquire_read_timeout(0, c, 0, &iov, 100 * MS), 100 * MS);
	dios_ref_t *ready = NULL;
	CHECK_TIMED_OUT(dios_select_timeout(0, &c, 1, &ready, 100 * MS), 100 * MS);
	NO_PARKED();
	/* tell the other side to type; the input goes to this read (not -EBUSY from the dead one) */
	const char *msg = "ready to read\n";
	CHECK_EQ(dios_acquire_write(0, c, strlen(msg), &iov), 0);
	memcpy(iov->buf, msg, strlen(msg));
	CHECK_EQ(dios_commit_write(0, c, strlen(msg), iov), 0);
	CHECK_EQ(dios_release_write(0, c, iov), 0);
	iov = NULL;
	CHECK_EQ(dios_acquire_read(0, c, 0, &iov), 0);
	CHECK(iov->len >= 4 && memcmp(iov->buf, "ping", 4) == 0);
	CHECK_EQ(dios_release_read(0, c, iov), 0);
	return 0;
}

static void console_timeouts(void)
{
	int master = -1;
	pid_t pid = forkpty(&master, NULL, NULL, NULL);
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(on_terminal());
	/* wait until the child says it reads (or fails), then type */
	char acc[4096];
	size_t n = 0;
	uint64_t t0 = dt_now_ns();
	while (!memmem(acc, n, "ready to read", 13)) {
		if (dt_now_ns() - t0 > 20000 * MS)
			dt_fail(__FILE__, __LINE__, "the terminal task never got ready: %.*s", (int)n, acc);
		struct pollfd p = { .fd = master, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t r = read(master, acc + n, sizeof acc - n - 1);
		if (r <= 0)
			break;                  /* the child ended (EIO): its status says why */
		n += (size_t)r;
	}
	usleep(100 * 1000);                     /* it parks in acquire_read now */
	CHECK_EQ(write(master, "ping\n", 5), 5);
	CHECK_CHILD_OK(pid);
	close(master);
	NO_PARKED();
}

/* ---- D_TIMEOUT where nothing waits ------------------------------------------ */

static void flag_checks(void)
{
	CHECK_EQ(dios_nop(D_TIMEOUT), -EINVAL);
	uint64_t size = 4096;
	dios_ref_t *m = NULL;
	CHECK_EQ(dios_create(D_TIMEOUT, D_OBJ_SHMEM, &size, NULL, &m, 0), -EINVAL);
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &m, 0), 0);
	dios_ref_info_t info;
	CHECK_EQ(dios_ref_info(m, &info), 0);
	/* memory never waits: the timed acquire answers at once */
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_acquire_write_timeout(0, m, 0, &iov, 0), 0);
	CHECK_EQ(dios_commit_write(D_TIMEOUT, m, 1, iov), -EINVAL);
	CHECK_EQ(dios_release_write(D_TIMEOUT, m, iov), -EINVAL);
	CHECK_EQ(dios_release_write(0, m, iov), 0);
	CHECK_EQ(dios_delete(D_TIMEOUT, m), -EINVAL);
	/* a FIFO end's commit and release run in the shim: the same answer (named: the reader is not gone) */
	dios_ref_t *f = named_fifo("t_timeout-flags", 4096, 1);
	CHECK_EQ(dios_acquire_write_timeout(0, f, 8, &iov, 1000 * MS), 0);
	CHECK_EQ(dios_commit_write(D_TIMEOUT, f, 8, iov), -EINVAL);
	CHECK_EQ(dios_release_write(D_TIMEOUT, f, iov), -EINVAL);
	CHECK_EQ(dios_release_write(0, f, iov), 0);
	CHECK_EQ(dios_delete(0, f), 0);
	CHECK_EQ(dios_delete(0, m), 0);
	CHECK(strcmp(dios_strerror(-ETIMEDOUT), "timed out (the call's deadline passed)") == 0);
	CHECK_EQ(DIOS_ETIMEDOUT, ETIMEDOUT);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0)
		return child_wait_for_go();
	alarm(100);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();
	flag_checks();
	select_timeouts();
	fifo_read_timeouts();
	fifo_write_timeouts();
	wait_timeouts();
	console_timeouts();
	NO_PARKED();
	dios_daemon_stats_t end = dt_wait_stats(&base, 5000);
	CHECK_STATS_EQ(end, base);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
