/* t_txn: transactions that hold, on SHMEM and BLOB, between two processes: exclusive read-modify-write counts exactly, read-validate never accepts a torn snapshot, CAS on the mapping counts exactly; -EAGAIN with D_NONBLOCK while an exclusive buffer is out; release, the holder's death and zombification end a wait. */
#include "helpers.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

/* Increments per process.  A durable blob syncs every commit (1-5 ms on this disk), so it counts
 * less in the suite; DIOS_LONG=1 (the long reliability runs) counts 2 x 20,000 on the blob too. */
#define SHMEM_RMW_ITERS   20000
#define BLOB_RMW_ITERS    (long_run() ? 20000 : 2000)
#define CAS_ITERS         200000
#define SNAP_BYTES        8192
#define READER_MS         1500
#define WRITER_MS         (READER_MS + 1500)
#define WAIT_MS           200

static int long_run(void)
{
	const char *l = getenv("DIOS_LONG");
	return l && *l && strcmp(l, "0") != 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *type_name(int type)
{
	return type == D_OBJ_BLOB ? "blob" : "shmem";
}

/* A named object of size bytes (a blob: durable) that a forked task can look up. */
static dios_ref_t *make(int type, const char *tag, uint64_t size, dios_name_t *name)
{
	char s[96];
	snprintf(s, sizeof s, "t_txn-%s-%s-%d", type_name(type), tag, (int)getpid());
	CHECK_EQ(dios_name_from_string(s, name), 0);
	dios_ref_t *r = NULL;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, (dios_object_type_t)type, &size, name, &r, 0), 0);
	/* the object starts zeroed; a blob's bytes must also be committed to be read */
	dios_iovec_t *w = NULL;
	CHECK_EQ(dios_acquire_write(0, r, size, &w), 0);
	memset(w->buf, 0, size);
	CHECK_EQ(dios_commit_write(0, r, size, w), 0);
	CHECK_EQ(dios_release_write(0, r, w), 0);
	return r;
}

static dios_ref_t *find(const dios_name_t *name)
{
	dios_ref_t *r = NULL;
	uint64_t count = 1;
	CHECK_EQ(dios_lookup(0, name, &r, &count), 0);
	CHECK_EQ(count, 1);
	return r;
}

/* The counter's value, read and validated (no writer may be out). */
static uint64_t counter(dios_ref_t *r)
{
	dios_iovec_t *rd = NULL;
	CHECK_EQ(dios_acquire_read(0, r, 8, &rd), 0);
	uint64_t v = *(volatile uint64_t *)rd->buf;
	CHECK_EQ(dios_commit_read(0, r, rd), 0);
	CHECK_EQ(dios_release_read(0, r, rd), 0);
	return v;
}

/* ---- exclusive read-modify-write ---------------------------------------------- */

static void rmw_loop(dios_ref_t *r, int iters)
{
	for (int i = 0; i < iters; i++) {
		dios_iovec_t *w = NULL;
		CHECK_EQ(dios_acquire_write(D_ACQUIRE_EXCLUSIVE, r, 8, &w), 0);
		volatile uint64_t *p = w->buf;
		uint64_t v = *p;
		if ((i & 15) == 0)
			sched_yield();          /* widen the window a lost update would need */
		*p = v + 1;
		CHECK_EQ(dios_commit_write(0, r, 8, w), 0);
		CHECK_EQ(dios_release_write(0, r, w), 0);
	}
}

static void test_rmw(int type, int iters)
{
	dios_name_t name;
	dios_ref_t *r = make(type, "rmw", 8, &name);
	int from, to;
	pid_t pid = dt_fork_peer(&from, &to);
	if (pid == 0) {
		alarm(long_run() ? 1500 : 100);
		dios_ref_t *c = find(&name);
		dt_send(to, 'R');
		CHECK_EQ(dt_recv(from), 'G');
		rmw_loop(c, iters);
		CHECK_EQ(dios_delete(0, c), 0);
		_exit(0);
	}
	CHECK_EQ(dt_recv(from), 'R');
	uint64_t t0 = now_ms();
	dt_send(to, 'G');
	rmw_loop(r, iters);
	CHECK_CHILD_OK(pid);
	close(from);
	close(to);
	uint64_t v = counter(r);
	printf("%s: exclusive read-modify-write, 2 processes x %d: %llu (%llu ms)\n", type_name(type), iters,
	       (unsigned long long)v, (unsigned long long)(now_ms() - t0));
	CHECK_EQ(v, 2ull * (uint64_t)iters);
	CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, r), 0);
}

/* ---- read-validate ------------------------------------------------------------- */

/* Every word of a snapshot holds the same generation: a torn one mixes two. */
static int torn(const uint64_t *s)
{
	for (size_t i = 1; i < SNAP_BYTES / 8; i++)
		if (s[i] != s[0])
			return 1;
	return 0;
}

static void writer_loop(dios_ref_t *r)
{
	uint64_t end = now_ms() + WRITER_MS;
	uint32_t x = (uint32_t)getpid();
	for (uint64_t k = 1; now_ms() < end && k < 10000000; k++) {
		dios_iovec_t *w = NULL;
		CHECK_EQ(dios_acquire_write(0, r, SNAP_BYTES, &w), 0);
		volatile uint64_t *p = w->buf;
		/* first half, a pause, second half: a reader copying meanwhile sees two generations */
		for (size_t i = 0; i < SNAP_BYTES / 16; i++)
			p[i] = k;
		sched_yield();
		for (size_t i = SNAP_BYTES / 16; i < SNAP_BYTES / 8; i++)
			p[i] = k;
		CHECK_EQ(dios_commit_write(0, r, SNAP_BYTES, w), 0);
		CHECK_EQ(dios_release_write(0, r, w), 0);
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		usleep(x % 400);                /* quiet spells, so that some reads validate */
	}
}

static void test_read_validate(int type)
{
	dios_name_t name;
	dios_ref_t *r = make(type, "snap", SNAP_BYTES, &name);
	int from, to;
	pid_t pid = dt_fork_peer(&from, &to);
	if (pid == 0) {
		alarm(100);
		dios_ref_t *c = find(&name);
		dt_send(to, 'R');
		CHECK_EQ(dt_recv(from), 'G');
		writer_loop(c);
		CHECK_EQ(dios_delete(0, c), 0);
		_exit(0);
	}
	CHECK_EQ(dt_recv(from), 'R');
	dt_send(to, 'G');
	static uint64_t snap[SNAP_BYTES / 8];
	dios_iovec_t *rd = NULL;
	CHECK_EQ(dios_acquire_read(0, r, SNAP_BYTES, &rd), 0);
	uint64_t validated = 0, stale = 0, torn_validated = 0, torn_stale = 0, rounds = 0;
	uint64_t end = now_ms() + READER_MS;
	while (now_ms() < end && rounds < 5000000) {
		rounds++;
		memcpy(snap, rd->buf, sizeof snap);
		int rc = dios_commit_read(0, r, rd);   /* validates this copy and re-arms for the next */
		int t = torn(snap);
		if (rc == 0) {
			validated++;
			torn_validated += (uint64_t)t;
		} else {
			CHECK_EQ(rc, -ESTALE);
			stale++;
			torn_stale += (uint64_t)t;
		}
	}
	CHECK_EQ(dios_release_read(0, r, rd), 0);
	CHECK_CHILD_OK(pid);
	close(from);
	close(to);
	printf("%s: read-validate for %d ms: %llu validated (%llu torn), %llu -ESTALE (%llu of them torn)\n",
	       type_name(type), READER_MS, (unsigned long long)validated, (unsigned long long)torn_validated,
	       (unsigned long long)stale, (unsigned long long)torn_stale);
	CHECK_EQ(torn_validated, 0);
	CHECK(validated > 0);
	CHECK(stale > 0);                       /* the writer did contend */
	CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, r), 0);
}

/* ---- compare-and-swap on the mapping -------------------------------------------- */

static void cas_loop(dios_ref_t *r, int iters)
{
	dios_iovec_t *w = NULL;
	CHECK_EQ(dios_acquire_write(0, r, 8, &w), 0);
	uint64_t *p = w->buf;
	for (int i = 0; i < iters; i++) {
		uint64_t v = __atomic_load_n(p, __ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(p, &v, v + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			;                       /* v now holds the value that won */
	}
	CHECK_EQ(dios_commit_write(0, r, 8, w), 0);   /* publishes (a blob: durable) */
	CHECK_EQ(dios_release_write(0, r, w), 0);
}

static void test_cas(int type)
{
	dios_name_t name;
	dios_ref_t *r = make(type, "cas", 8, &name);
	int from, to;
	pid_t pid = dt_fork_peer(&from, &to);
	if (pid == 0) {
		alarm(100);
		dios_ref_t *c = find(&name);
		dt_send(to, 'R');
		CHECK_EQ(dt_recv(from), 'G');
		cas_loop(c, CAS_ITERS);
		CHECK_EQ(dios_delete(0, c), 0);
		_exit(0);
	}
	CHECK_EQ(dt_recv(from), 'R');
	dt_send(to, 'G');
	cas_loop(r, CAS_ITERS);
	CHECK_CHILD_OK(pid);
	close(from);
	close(to);
	uint64_t v = counter(r);
	printf("%s: compare-and-swap, 2 processes x %d: %llu\n", type_name(type), CAS_ITERS, (unsigned long long)v);
	CHECK_EQ(v, 2ull * CAS_ITERS);
	CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, r), 0);
}

/* ---- waiting: -EAGAIN, release, death, zombify ------------------------------------ */

struct waiter {
	dios_ref_t *r;
	dios_flags_t flags;
	int rc;
	uint64_t ms;
	dios_iovec_t *w;
	volatile int done;
};

static void *wait_for_write(void *arg)
{
	struct waiter *wt = arg;
	uint64_t t0 = now_ms();
	wt->rc = dios_acquire_write(wt->flags, wt->r, 8, &wt->w);
	wt->ms = now_ms() - t0;
	__atomic_store_n(&wt->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_nonblock(int type)
{
	dios_name_t name;
	dios_ref_t *r = make(type, "nb", 8, &name);
	dios_iovec_t *w = NULL, *x = NULL, *rd = NULL;
	/* the flag is for writes of mapped objects */
	CHECK_EQ(dios_acquire_read(D_ACQUIRE_EXCLUSIVE, r, 8, &x), -EINVAL);
	CHECK_EQ(dios_acquire_read(0, r, 8, &rd), 0);
	CHECK_EQ(dios_acquire_write(D_ACQUIRE_EXCLUSIVE, r, 8, &w), 0);
	dios_ref_info_t info;
	CHECK_EQ(dios_ref_info(r, &info), 0);
	CHECK_EQ(info.state & (D_REF_STATE_READABLE | D_REF_STATE_WRITABLE), D_REF_STATE_READABLE);
	/* this task: every other write waits, readers go on but cannot validate */
	CHECK_EQ(dios_acquire_write(D_NONBLOCK, r, 8, &x), -EAGAIN);
	CHECK_EQ(dios_acquire_write(D_NONBLOCK | D_ACQUIRE_EXCLUSIVE, r, 8, &x), -EAGAIN);
	CHECK(x == NULL);
	CHECK_EQ(dios_commit_read(0, r, rd), -ESTALE);
	CHECK_EQ(dios_commit_read(0, r, rd), -ESTALE);   /* still in progress: never validates */
	int from, to;
	pid_t pid = dt_fork_peer(&from, &to);
	if (pid == 0) {
		alarm(100);
		dios_ref_t *c = find(&name);
		dios_iovec_t *cw = NULL, *cr = NULL;
		/* another task: the same */
		CHECK_EQ(dios_acquire_write(D_NONBLOCK, c, 8, &cw), -EAGAIN);
		CHECK_EQ(dios_acquire_write(D_NONBLOCK | D_ACQUIRE_EXCLUSIVE, c, 0, &cw), -EAGAIN);
		CHECK_EQ(dios_acquire_read(0, c, 8, &cr), 0);
		CHECK_EQ(dios_commit_read(0, c, cr), -ESTALE);
		dt_send(to, 'K');
		CHECK_EQ(dt_recv(from), 'F');
		/* released: the exclusive buffer is ours now, and the parent's plain write waits */
		CHECK_EQ(dios_commit_read(0, c, cr), -ESTALE);   /* armed while the write was out */
		CHECK_EQ(dios_commit_read(0, c, cr), 0);
		CHECK_EQ(dios_acquire_write(D_NONBLOCK | D_ACQUIRE_EXCLUSIVE, c, 8, &cw), 0);
		dt_send(to, 'H');
		CHECK_EQ(dt_recv(from), 'D');
		CHECK_EQ(dios_release_write(0, c, cw), 0);
		CHECK_EQ(dios_release_read(0, c, cr), 0);
		CHECK_EQ(dios_delete(0, c), 0);
		_exit(0);
	}
	CHECK_EQ(dt_recv(from), 'K');
	CHECK_EQ(dios_release_write(0, r, w), 0);
	dt_send(to, 'F');
	CHECK_EQ(dt_recv(from), 'H');
	CHECK_EQ(dios_acquire_write(D_NONBLOCK, r, 8, &x), -EAGAIN);
	dt_send(to, 'D');
	CHECK_CHILD_OK(pid);
	close(from);
	close(to);
	/* a plain write buffer out: an exclusive one must wait for it, a plain one need not */
	CHECK_EQ(dios_acquire_write(D_NONBLOCK, r, 8, &w), 0);
	CHECK_EQ(dios_acquire_write(D_NONBLOCK | D_ACQUIRE_EXCLUSIVE, r, 8, &x), -EAGAIN);
	CHECK_EQ(dios_acquire_write(D_NONBLOCK, r, 8, &x), 0);
	CHECK_EQ(dios_release_write(0, r, x), 0);
	CHECK_EQ(dios_release_write(0, r, w), 0);
	/* nothing out: validates again (after a re-arm) */
	CHECK_EQ(dios_commit_read(0, r, rd), -ESTALE);
	CHECK_EQ(dios_commit_read(0, r, rd), 0);
	CHECK_EQ(dios_release_read(0, r, rd), 0);
	CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, r), 0);
	printf("%s: D_NONBLOCK gives -EAGAIN while an exclusive (or, for an exclusive writer, any) buffer is out\n",
	       type_name(type));
}

struct timed { dios_ref_t *r; int rc; dios_iovec_t *w; };

static void *timed_exclusive(void *arg)
{
	struct timed *t = arg;
	t->rc = dios_acquire_write_timeout(D_ACQUIRE_EXCLUSIVE, t->r, 8, &t->w, (uint64_t)3 * WAIT_MS * 1000000ull);
	return NULL;
}

/* The exclusive writer at the head of the line times out: the plain writer queued behind it goes at once, while our plain buffer is still out. */
static void test_head_times_out(int type)
{
	dios_name_t name;
	dios_ref_t *r = make(type, "head", 8, &name);
	dios_iovec_t *w = NULL;
	CHECK_EQ(dios_acquire_write(0, r, 8, &w), 0);           /* a plain buffer out: the exclusive one waits */
	struct timed ex = { .r = r };
	pthread_t te, tp;
	CHECK_EQ(pthread_create(&te, NULL, timed_exclusive, &ex), 0);
	usleep(WAIT_MS * 1000);
	struct waiter plain = { .r = r, .flags = 0 };
	CHECK_EQ(pthread_create(&tp, NULL, wait_for_write, &plain), 0);
	usleep(WAIT_MS * 1000 / 2);
	CHECK_EQ(__atomic_load_n(&plain.done, __ATOMIC_ACQUIRE), 0);   /* in line behind the exclusive one */
	CHECK_EQ(pthread_join(te, NULL), 0);
	CHECK_EQ(ex.rc, -ETIMEDOUT);
	CHECK(ex.w == NULL);
	uint64_t until = now_ms() + 5000;
	while (!__atomic_load_n(&plain.done, __ATOMIC_ACQUIRE) && now_ms() < until)
		usleep(10000);
	int went = __atomic_load_n(&plain.done, __ATOMIC_ACQUIRE);
	CHECK_EQ(dios_release_write(0, r, w), 0);               /* lets it go in any case, so the check below fails cleanly */
	CHECK_EQ(pthread_join(tp, NULL), 0);
	CHECK_EQ(went, 1);                                      /* it went while our buffer was still out */
	CHECK_EQ(plain.rc, 0);
	CHECK_EQ(dios_release_write(0, r, plain.w), 0);
	CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, r), 0);
	printf("%s: an exclusive writer that times out at the head of the line lets the writers behind it go\n",
	       type_name(type));
}

/* A thread parks an exclusive acquire_write behind ours; end() ends our hold; the thread's result is returned. */
static struct waiter park_behind(dios_ref_t *r, void (*end)(void *), void *arg)
{
	struct waiter wt = { .r = r, .flags = D_ACQUIRE_EXCLUSIVE };
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, wait_for_write, &wt), 0);
	usleep(WAIT_MS * 1000);
	CHECK_EQ(__atomic_load_n(&wt.done, __ATOMIC_ACQUIRE), 0);   /* still waiting */
	end(arg);
	CHECK_EQ(pthread_join(th, NULL), 0);
	return wt;
}

struct hold { dios_ref_t *r; dios_iovec_t *w; pid_t pid; };

static void end_release(void *a)
{
	struct hold *h = a;
	CHECK_EQ(dios_release_write(0, h->r, h->w), 0);
}

static void end_zombify(void *a)
{
	struct hold *h = a;
	CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, h->r), 0);
}

static void end_delete(void *a)
{
	struct hold *h = a;
	CHECK_EQ(dios_delete(0, h->r), 0);
}

static void end_kill(void *a)
{
	struct hold *h = a;
	CHECK_EQ(kill(h->pid, SIGKILL), 0);
}

static void test_wakeups(int type)
{
	dios_name_t name;
	dios_ref_t *r = make(type, "wake", 8, &name);
	dios_ref_t *r2 = find(&name);

	/* the holder releases: the waiter gets the buffer */
	struct hold h = { .r = r };
	CHECK_EQ(dios_acquire_write(D_ACQUIRE_EXCLUSIVE, r, 8, &h.w), 0);
	struct waiter wt = park_behind(r2, end_release, &h);
	CHECK_EQ(wt.rc, 0);
	CHECK(wt.ms >= WAIT_MS / 2);
	CHECK_EQ(dios_acquire_write(D_NONBLOCK, r, 8, &h.w), -EAGAIN);   /* the waiter holds it now */
	CHECK_EQ(dios_release_write(0, r2, wt.w), 0);

	/* the holder's task dies: its buffer goes with it, and the waiter gets it */
	int from, to;
	pid_t pid = dt_fork_peer(&from, &to);
	if (pid == 0) {
		dios_ref_t *c = find(&name);
		dios_iovec_t *cw = NULL;
		CHECK_EQ(dios_acquire_write(D_ACQUIRE_EXCLUSIVE, c, 8, &cw), 0);
		dt_send(to, 'H');
		for (;;)
			pause();                /* killed by the parent */
	}
	CHECK_EQ(dt_recv(from), 'H');
	CHECK_EQ(dios_acquire_write(D_NONBLOCK, r, 8, &h.w), -EAGAIN);
	h.pid = pid;
	wt = park_behind(r2, end_kill, &h);
	CHECK_EQ(wt.rc, 0);
	CHECK(wt.ms >= WAIT_MS / 2);
	int st = dt_wait_child(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	close(from);
	close(to);
	CHECK_EQ(dios_release_write(0, r2, wt.w), 0);

	/* the waiter's reference is deleted (by another thread): it gets -EBADF, the holder keeps the buffer */
	dios_ref_t *r3 = find(&name);
	CHECK_EQ(dios_acquire_write(D_ACQUIRE_EXCLUSIVE, r, 8, &h.w), 0);
	struct hold gone = { .r = r3 };
	wt = park_behind(r3, end_delete, &gone);
	CHECK_EQ(wt.rc, -EBADF);
	CHECK_EQ(dios_acquire_write(D_NONBLOCK, r2, 8, &wt.w), -EAGAIN);

	/* a waiter's task dies while it waits: it does not hold up the line */
	pid = dt_fork_peer(&from, &to);
	if (pid == 0) {
		dios_ref_t *c = find(&name);
		dios_iovec_t *cw = NULL;
		dt_send(to, 'W');
		dios_acquire_write(D_ACQUIRE_EXCLUSIVE, c, 8, &cw);   /* parks until killed */
		_exit(1);
	}
	CHECK_EQ(dt_recv(from), 'W');
	usleep(WAIT_MS * 1000);                 /* let it park */
	CHECK_EQ(kill(pid, SIGKILL), 0);
	st = dt_wait_child(pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	close(from);
	close(to);
	CHECK_EQ(dios_release_write(0, r, h.w), 0);
	/* its death is seen within a second or so (pidfd); then the object is free */
	uint64_t until = now_ms() + 10000;
	int rc;
	while ((rc = dios_acquire_write(D_NONBLOCK | D_ACQUIRE_EXCLUSIVE, r2, 8, &wt.w)) == -EAGAIN && now_ms() < until)
		usleep(10000);
	CHECK_EQ(rc, 0);
	CHECK_EQ(dios_release_write(0, r2, wt.w), 0);

	/* the object is zombified: the waiter gets -EIDRM */
	CHECK_EQ(dios_acquire_write(D_ACQUIRE_EXCLUSIVE, r, 8, &h.w), 0);
	wt = park_behind(r2, end_zombify, &h);
	CHECK_EQ(wt.rc, -EIDRM);
	CHECK(wt.w == NULL);
	CHECK_EQ(dios_delete(0, r2), 0);
	printf("%s: a parked exclusive writer is woken by the release (0), the holder's death (0), its reference's deletion (-EBADF), a zombify (-EIDRM); a dead waiter holds up nobody\n",
	       type_name(type));
}

int main(void)
{
	alarm(long_run() ? 1600 : 110);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();

	int types[] = { D_OBJ_SHMEM, D_OBJ_BLOB };
	for (int i = 0; i < 2; i++) {
		int t = types[i];
		test_nonblock(t);
		test_head_times_out(t);
		test_wakeups(t);
		test_cas(t);
		test_read_validate(t);
		test_rmw(t, t == D_OBJ_BLOB ? BLOB_RMW_ITERS : SHMEM_RMW_ITERS);
		fflush(stdout);
	}

	dios_daemon_stats_t s = dt_wait_stats(&base, 5000);
	CHECK_STATS_EQ(s, base);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
