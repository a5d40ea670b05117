/*
 * t_load: 64 tasks make mixed calls while 64 FIFOs stream between them, for
 * 10 s (each task stops early at 100,000 calls to the daemon); DIOS_LONG=1:
 * until every task has made 100,000 calls to the daemon (FIFO data moved in
 * place, without the daemon, is counted apart) and 60 s have passed.
 *
 * Checked:
 *  - nothing lost or duplicated: task i streams numbered, checksummed records
 *    to task i+1 through its own FIFO all along; at the end each writer closes
 *    its end and each reader drains to -EPIPE; every record arrives once, in
 *    order, intact, and the counts and sums match the writer's.  Each task also
 *    writes its own SHMEM object and blob and reads back what it wrote.
 *  - every call succeeds (or gives the one error its op allows).
 *  - the daemon's memory stays flat after the warm-up: VmRSS is sampled every
 *    250 ms; the largest sample of the last third of the run may exceed the
 *    largest of the first third by at most 10 % (see RSS_GROWTH below), and
 *    the live heap after a full GC (jcmd GC.class_histogram, when the JDK has
 *    jcmd) may grow by at most 4 MiB from the end of the warm-up to the end.
 *  - the daemon's counts are back at the baseline once the tasks are gone.
 * Reported: calls/s, latency percentiles per kind of call and overall (each
 * call timed by the caller), the memory samples.
 */
#define _GNU_SOURCE
#include "helpers.h"

#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define NTASKS       64
#define CALLS        100000ull
#define FIFO_CAP     (16 * 1024)
#define REC          32                      /* seq, writer, check, pad */
#define SHM_SIZE     16384
#define RSS_GROWTH   0.10                    /* last-third max over first-third max */
#define HEAP_GROWTH  (4 << 20)               /* live bytes after a full GC */

enum op {
	O_NOP, O_CREATE, O_DELETE, O_LOOKUP, O_REF_INFO, O_ACQ_W, O_COMMIT_W, O_REL_W, O_ACQ_R, O_COMMIT_R,
	O_REL_R, O_BATCH, O_SELECT, O_DELEGATED, O_STATS, O_BLOB_IO, O_FIFO_W, O_FIFO_R, NOPS
};
static const char *op_names[NOPS] = {
	"nop", "create", "delete", "lookup", "ref_info", "acquire_write", "commit_write", "release_write",
	"acquire_read", "commit_read", "release_read", "batch(8)", "select", "delegated", "stats",
	"blob acq/commit/rel", "fifo write (in place)", "fifo read (in place)"
};

/* Latency histogram: 8 sub-buckets per power of two of nanoseconds. */
#define HB 512
static int bucket(uint64_t ns)
{
	if (ns < 8)
		return (int)ns;
	int lg = 63 - __builtin_clzll(ns);
	int b = lg * 8 + (int)((ns >> (lg - 3)) & 7);
	return b < HB ? b : HB - 1;
}
static uint64_t bucket_upper(int b)
{
	if (b < 8)
		return (uint64_t)b;
	int lg = b / 8, sub = b % 8;
	return ((8ull + (uint64_t)sub + 1) << (lg - 3)) - 1;
}

struct task_res {
	uint64_t hist[NOPS][HB];
	uint64_t calls;                         /* round trips to the daemon */
	uint64_t fifo_calls;                    /* FIFO acquire/commit/release done in place */
	uint64_t written, wsum, read, rsum;
	uint64_t max_ns[NOPS];
	int done;
};
struct shared {
	atomic_int stop;                        /* 1: stop the mixed calls, close and drain */
	atomic_int ready;
	struct task_res t[NTASKS];
};
static struct shared *S;
static int g_long;

static uint64_t rs;
static uint64_t rnd(void)
{
	rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
	return rs;
}

static void fifo_name(int i, dios_name_t *n)
{
	char s[64];
	snprintf(s, sizeof s, "t_load/%d/fifo/%d", (int)getppid(), i);
	CHECK_EQ(dios_name_from_string(s, n), 0);
}

static uint64_t rec_check(uint64_t seq, uint64_t w) { return (seq + 1) * 0x9e3779b97f4a7c15ull ^ (w << 32) ^ 0x5bd1e995; }

struct tctx {
	int id;
	struct task_res *r;
	dios_ref_t *out, *in, *shm, *blob, *named, *never;
	dios_name_t named_name;
	uint64_t wseq, rseq;
	int in_done;
};

/* Times a call; counts it as a daemon call, or (FIFO data, in place in the shim) apart. */
#define TIMED(o, expr) ({ uint64_t t0_ = dt_now_ns(); int rc_ = (expr); uint64_t d_ = dt_now_ns() - t0_; \
	c->r->hist[o][bucket(d_)]++; if (d_ > c->r->max_ns[o]) c->r->max_ns[o] = d_; \
	if ((o) == O_FIFO_W || (o) == O_FIFO_R) c->r->fifo_calls++; else c->r->calls++; rc_; })

/* One write of up to 16 records (non-blocking); returns records written. */
static int fifo_write(struct tctx *c)
{
	dios_iovec_t *iov = NULL;
	int n = 1 + (int)(rnd() % 16);
	int rc = TIMED(O_FIFO_W, dios_acquire_write(D_NONBLOCK, c->out, (uint64_t)n * REC, &iov));
	if (rc == -EAGAIN)
		return 0;
	CHECK_EQ(rc, 0);
	uint64_t *p = iov->buf;
	for (int i = 0; i < n; i++) {
		uint64_t s = c->wseq + (uint64_t)i;
		p[4 * i] = s;
		p[4 * i + 1] = (uint64_t)c->id;
		p[4 * i + 2] = rec_check(s, (uint64_t)c->id);
		p[4 * i + 3] = ~s;
		c->r->wsum += p[4 * i + 2];
	}
	CHECK_EQ(TIMED(O_FIFO_W, dios_commit_write(0, c->out, (uint64_t)n * REC, iov)), 0);
	CHECK_EQ(TIMED(O_FIFO_W, dios_release_write(0, c->out, iov)), 0);
	c->wseq += (uint64_t)n;
	c->r->written += (uint64_t)n;
	return n;
}

/* One read (blocking or not): checks every record.  0, -EAGAIN or -EPIPE. */
static int fifo_read(struct tctx *c, uint64_t flags)
{
	dios_iovec_t *iov = NULL;
	int rc = TIMED(O_FIFO_R, dios_acquire_read(flags, c->in, 0, &iov));
	if (rc == -EAGAIN || rc == -EPIPE)
		return rc;
	CHECK_EQ(rc, 0);
	CHECK_EQ(iov->len % REC, 0);
	uint64_t from = (uint64_t)((c->id + NTASKS - 1) % NTASKS);
	const uint64_t *p = iov->buf;
	for (uint64_t i = 0; i < iov->len / REC; i++) {
		if (p[4 * i] != c->rseq || p[4 * i + 1] != from || p[4 * i + 2] != rec_check(c->rseq, from) ||
		    p[4 * i + 3] != ~c->rseq)
			dt_fail(__FILE__, __LINE__, "task %d: record %llu from task %llu is wrong: seq %llu writer %llu check %#llx",
				c->id, (unsigned long long)c->rseq, (unsigned long long)from, (unsigned long long)p[4 * i],
				(unsigned long long)p[4 * i + 1], (unsigned long long)p[4 * i + 2]);
		c->r->rsum += p[4 * i + 2];
		c->rseq++;
	}
	c->r->read += iov->len / REC;
	CHECK_EQ(TIMED(O_FIFO_R, dios_release_read(0, c->in, iov)), 0);
	return 0;
}

static void mem_io(struct tctx *c, dios_ref_t *r, uint64_t len)
{
	dios_iovec_t *w = NULL, *rd = NULL;
	CHECK_EQ(TIMED(O_ACQ_W, dios_acquire_write(0, r, len, &w)), 0);
	uint32_t seed = (uint32_t)rnd();
	dt_fill(w->buf, 64, seed);
	CHECK_EQ(TIMED(O_COMMIT_W, dios_commit_write(0, r, len, w)), 0);
	/* released first: while a write buffer is out, no read validates */
	CHECK_EQ(TIMED(O_REL_W, dios_release_write(0, r, w)), 0);
	CHECK_EQ(TIMED(O_ACQ_R, dios_acquire_read(0, r, len, &rd)), 0);
	CHECK_EQ(dt_verify(rd->buf, 64, seed), -1);
	CHECK_EQ(TIMED(O_COMMIT_R, dios_commit_read(0, r, rd)), 0);
	CHECK_EQ(TIMED(O_REL_R, dios_release_read(0, r, rd)), 0);
}

static dios_ref_t *lookup1(const dios_name_t *n)
{
	dios_ref_t *r = NULL;
	uint64_t cnt = 1;
	CHECK_EQ(dios_lookup(0, n, &r, &cnt), 0);
	return r;
}

static void task_main(int id)
{
	struct tctx cx = { .id = id, .r = &S->t[id] };
	struct tctx *c = &cx;
	rs = dt_now_ns() ^ (uint64_t)getpid() << 16;
	if (!rs)
		rs = 1;
	dios_name_t n;
	fifo_name(id, &n);
	c->out = lookup1(&n);
	fifo_name((id + NTASKS - 1) % NTASKS, &n);
	c->in = lookup1(&n);
	uint64_t size = SHM_SIZE;
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &c->shm, 0), 0);
	CHECK_EQ(dios_create(0, D_OBJ_BLOB, NULL, NULL, &c->blob, 0), 0);
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, &c->named_name, &c->named, 0), 0);
	uint64_t cap = 4096;
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, &cap, NULL, &c->never, 0), 0);
	/* bind both ends of our streams */
	while (fifo_write(c) == 0)
		;
	(void)fifo_read(c, D_NONBLOCK);
	atomic_fetch_add(&S->ready, 1);
	while (atomic_load(&S->ready) < NTASKS)
		usleep(1000);

	uint64_t limit = g_long ? UINT64_MAX : CALLS;
	while (!atomic_load_explicit(&S->stop, memory_order_relaxed) && c->r->calls < limit) {
		/* the streams go on all the time */
		fifo_write(c);
		(void)fifo_read(c, D_NONBLOCK);
		unsigned k = (unsigned)(rnd() % 100);
		if (k < 20) {
			CHECK_EQ(TIMED(O_NOP, dios_nop(0)), 0);
		} else if (k < 30) {
			dios_ref_t *r = NULL;
			CHECK_EQ(TIMED(O_CREATE, dios_create(0, rnd() & 1 ? D_OBJ_SHMEM : D_OBJ_PRIVMEM, &size, NULL, &r, 0)), 0);
			CHECK_EQ(TIMED(O_DELETE, dios_delete(0, r)), 0);
		} else if (k < 40) {
			dios_ref_t *r = NULL;
			uint64_t cnt = 1;
			CHECK_EQ(TIMED(O_LOOKUP, dios_lookup(D_LOOKUP_READONLY, &c->named_name, &r, &cnt)), 0);
			CHECK_EQ(TIMED(O_DELETE, dios_delete(0, r)), 0);
		} else if (k < 50) {
			dios_ref_info_t info;
			CHECK_EQ(TIMED(O_REF_INFO, dios_ref_info(c->shm, &info)), 0);
			CHECK_EQ(info.size, SHM_SIZE);
		} else if (k < 70) {
			mem_io(c, c->shm, 4096);
		} else if (k < 78) {
			dios_call_t b[8];
			dios_ref_info_t info[8];
			memset(b, 0, sizeof b);
			for (int i = 0; i < 8; i++) {
				b[i].opcode = i & 1 ? D_OP_REF_INFO : D_OP_NOP;
				b[i].ref = c->named;
				b[i].info = &info[i];
			}
			CHECK_EQ(TIMED(O_BATCH, dios_batch(b, 8)), 0);
			for (int i = 0; i < 8; i++)
				CHECK_EQ(b[i].res, 0);
		} else if (k < 84) {
			dios_ref_t *set[2] = { c->never, c->shm }, *ready = NULL;
			CHECK_EQ(TIMED(O_SELECT, dios_select(D_NONBLOCK, set, 2, &ready)), 0);
			CHECK(ready == c->shm);         /* memory objects are always ready */
		} else if (k < 90) {
			dios_ref_t *r[4];
			uint64_t cnt = 4;
			CHECK_EQ(TIMED(O_DELEGATED, dios_delegated(0, r, &cnt)), 0);
			CHECK_EQ(cnt, 0);
		} else if (k < 92) {
			dios_daemon_stats_t st;
			CHECK_EQ(TIMED(O_STATS, dios_daemon_stats(&st)), 0);
		} else {
			uint64_t t0 = dt_now_ns();
			mem_io(c, c->blob, 4096 << (rnd() % 4));
			uint64_t d = dt_now_ns() - t0;
			c->r->hist[O_BLOB_IO][bucket(d)]++;
		}
	}
	/* close our stream, then drain the one coming in to its end */
	CHECK_EQ(dios_delete(0, c->out), 0);
	alarm(60);
	int rc;
	while ((rc = fifo_read(c, 0)) == 0)
		;
	CHECK_EQ(rc, -EPIPE);
	CHECK_EQ(dios_delete(0, c->in), 0);
	CHECK_EQ(dios_delete(0, c->shm), 0);
	CHECK_EQ(dios_delete(0, c->blob), 0);
	CHECK_EQ(dios_delete(0, c->named), 0);
	CHECK_EQ(dios_delete(0, c->never), 0);
	c->r->done = 1;
	_exit(0);
}

/* Live heap bytes after a full GC (jcmd beside the daemon's java), or -1 without jcmd. */
static long live_heap(pid_t pid)
{
	static char out[4 << 20];
	if (dt_class_histogram(pid, out, sizeof out) != 0)
		return -1;
	char *t = strstr(out, "Total ");
	long inst, bytes;
	if (!t || sscanf(t, "Total %ld %ld", &inst, &bytes) != 2)
		dt_fail(__FILE__, __LINE__, "no Total line in the class histogram");
	return bytes;
}

static uint64_t pct(const uint64_t *h, uint64_t total, double q)
{
	uint64_t want = (uint64_t)(q * (double)total), acc = 0;
	if (want >= total)
		want = total - 1;
	for (int b = 0; b < HB; b++) {
		acc += h[b];
		if (acc > want)
			return bucket_upper(b);
	}
	return bucket_upper(HB - 1);
}

static void fmt_ns(uint64_t ns, char *buf, size_t sz)
{
	if (ns < 10000)
		snprintf(buf, sz, "%.2f us", ns / 1e3);
	else if (ns < 10000000)
		snprintf(buf, sz, "%.1f us", ns / 1e3);
	else
		snprintf(buf, sz, "%.1f ms", ns / 1e6);
}

int main(void)
{
	const char *l = getenv("DIOS_LONG");
	g_long = l && *l && strcmp(l, "0") != 0;
	double run_s = g_long ? 60.0 : 10.0, warm_s = g_long ? 10.0 : 2.0;
	const char *ds = getenv("LOAD_SECONDS");
	if (ds && atof(ds) > 0)
		run_s = atof(ds);
	alarm(g_long ? 1800 : 110);
	S = mmap(NULL, sizeof *S, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(S != MAP_FAILED);
	static const char *const dargs[] = { "--dumpable", NULL };    /* jcmd, for the live heap */
	dt_daemon_args = dargs;
	pid_t dpid = dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_ref_t *fifos[NTASKS];
	for (int i = 0; i < NTASKS; i++) {
		dios_name_t n;
		char s[64];
		uint64_t cap = FIFO_CAP;
		snprintf(s, sizeof s, "t_load/%d/fifo/%d", (int)getpid(), i);
		CHECK_EQ(dios_name_from_string(s, &n), 0);
		CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_FIFO, &cap, &n, &fifos[i], 0), 0);
	}
	dios_daemon_stats_t base = dt_stats();

	pid_t pids[NTASKS];
	for (int i = 0; i < NTASKS; i++) {
		fflush(NULL);
		pids[i] = fork();
		CHECK(pids[i] >= 0);
		if (pids[i] == 0) {
			signal(SIGALRM, SIG_DFL);
			alarm(0);
			task_main(i);
		}
	}
	while (atomic_load(&S->ready) < NTASKS)
		usleep(1000);
	/* the named FIFOs are bound at both ends now: our references can go */
	for (int i = 0; i < NTASKS; i++)
		CHECK_EQ(dios_delete(0, fifos[i]), 0);

	uint64_t t0 = dt_now_ns();
	enum { MAXS = 4096 };
	static long rss[MAXS];
	static double rss_t[MAXS];
	int ns = 0;
	long heap0 = -2, heap1 = -2;
	uint64_t calls_at_warm = 0;
	for (;;) {
		usleep(250000);
		double t = (dt_now_ns() - t0) / 1e9;
		uint64_t calls = 0, min_calls = UINT64_MAX;
		for (int i = 0; i < NTASKS; i++) {
			calls += S->t[i].calls;
			if (S->t[i].calls < min_calls)
				min_calls = S->t[i].calls;
		}
		if (heap0 == -2 && t >= warm_s) {
			heap0 = live_heap(dpid);
			calls_at_warm = calls;
			t = (dt_now_ns() - t0) / 1e9;
		}
		if (t >= warm_s && ns < MAXS) {
			rss_t[ns] = t;
			rss[ns++] = dt_rss_kib(dpid);
		}
		int enough = g_long ? (t >= run_s && min_calls >= CALLS) : (t >= run_s || min_calls >= CALLS);
		if (enough)
			break;
	}
	if (heap0 == -2)
		heap0 = live_heap(dpid);
	heap1 = live_heap(dpid);                /* still under load, as at the warm-up's end */
	uint64_t t_stop = dt_now_ns();
	atomic_store(&S->stop, 1);
	for (int i = 0; i < NTASKS; i++)
		CHECK_CHILD_OK(pids[i]);
	double secs = (t_stop - t0) / 1e9;

	/* nothing lost or duplicated */
	uint64_t calls = 0, fcalls = 0, recs = 0, min_calls = UINT64_MAX;
	for (int i = 0; i < NTASKS; i++) {
		struct task_res *w = &S->t[i], *r = &S->t[(i + 1) % NTASKS];
		CHECK(w->done);
		if (w->written != r->read || w->wsum != r->rsum)
			dt_fail(__FILE__, __LINE__, "stream %d -> %d: %llu records written (sum %#llx), %llu read (sum %#llx)",
				i, (i + 1) % NTASKS, (unsigned long long)w->written, (unsigned long long)w->wsum,
				(unsigned long long)r->read, (unsigned long long)r->rsum);
		calls += w->calls;
		fcalls += w->fifo_calls;
		recs += w->written;
		if (w->calls < min_calls)
			min_calls = w->calls;
	}
	/* back at the baseline, less our FIFOs (their references deleted since) */
	base.refs -= NTASKS;
	base.objects -= NTASKS;
	base.names -= NTASKS;
	dios_daemon_stats_t after = dt_wait_stats(&base, 10000);
	CHECK_STATS_EQ(after, base);

	/* report */
	uint64_t all[HB] = { 0 }, dm[HB] = { 0 };
	uint64_t total_all = 0, max_all = 0, total_dm = 0, max_dm = 0;
	fprintf(stderr, "%d tasks, %.1f s (%s): %llu calls to the daemon (%.0f calls/s; per task %llu on average, "
		"%llu at least), and %llu FIFO calls in place (%.0f/s); %llu FIFO records streamed and checked\n",
		NTASKS, secs, g_long ? "long mode" : "CI mode", (unsigned long long)calls, calls / secs,
		(unsigned long long)(calls / NTASKS), (unsigned long long)min_calls, (unsigned long long)fcalls,
		fcalls / secs, (unsigned long long)recs);
	fprintf(stderr, "  %-22s %10s %10s %10s %10s %10s\n", "call", "count", "p50", "p99", "p99.9", "max");
	for (int o = 0; o < NOPS; o++) {
		uint64_t h[HB] = { 0 }, tot = 0, mx = 0;
		for (int i = 0; i < NTASKS; i++) {
			for (int b = 0; b < HB; b++)
				h[b] += S->t[i].hist[o][b];
			if (S->t[i].max_ns[o] > mx)
				mx = S->t[i].max_ns[o];
		}
		for (int b = 0; b < HB; b++)
			tot += h[b];
		if (!tot)
			continue;
		if (o != O_BLOB_IO) {
			for (int b = 0; b < HB; b++)
				all[b] += h[b];
			total_all += tot;
			if (mx > max_all)
				max_all = mx;
		}
		if (o < O_BLOB_IO) {            /* a round trip to the daemon each */
			for (int b = 0; b < HB; b++)
				dm[b] += h[b];
			total_dm += tot;
			if (mx > max_dm)
				max_dm = mx;
		}
		char a[32], b2[32], c2[32], d[32];
		fmt_ns(pct(h, tot, 0.5), a, sizeof a);
		fmt_ns(pct(h, tot, 0.99), b2, sizeof b2);
		fmt_ns(pct(h, tot, 0.999), c2, sizeof c2);
		fmt_ns(mx, d, sizeof d);
		fprintf(stderr, "  %-22s %10llu %10s %10s %10s %10s\n", op_names[o], (unsigned long long)tot, a, b2, c2,
			o == O_BLOB_IO ? "-" : d);
	}
	for (int k = 0; k < 2; k++) {
		const uint64_t *h = k ? all : dm;
		uint64_t tot = k ? total_all : total_dm, mx = k ? max_all : max_dm;
		char a[32], b2[32], c2[32], d[32];
		fmt_ns(pct(h, tot, 0.5), a, sizeof a);
		fmt_ns(pct(h, tot, 0.99), b2, sizeof b2);
		fmt_ns(pct(h, tot, 0.999), c2, sizeof c2);
		fmt_ns(mx, d, sizeof d);
		fprintf(stderr, "  %-22s %10llu %10s %10s %10s %10s\n", k ? "all (FIFO in place too)" : "daemon calls",
			(unsigned long long)tot, a, b2, c2, d);
	}

	/* memory: flat after the warm-up */
	CHECK(ns >= 6);
	int third = ns / 3;
	long max1 = 0, max3 = 0;
	for (int i = 0; i < third; i++)
		if (rss[i] > max1)
			max1 = rss[i];
	for (int i = ns - third; i < ns; i++)
		if (rss[i] > max3)
			max3 = rss[i];
	fprintf(stderr, "daemon RSS after the %.0f s warm-up (KiB, every 250 ms):", warm_s);
	for (int i = 0; i < ns; i++)
		fprintf(stderr, "%s%ld", i % 12 == 0 ? "\n  " : " ", rss[i]);
	fprintf(stderr, "\n  first-third max %ld KiB, last-third max %ld KiB (%+.1f %%; limit %+.0f %%)\n", max1, max3,
		100.0 * (double)(max3 - max1) / (double)max1, RSS_GROWTH * 100);
	if (heap0 >= 0)
		fprintf(stderr, "daemon live heap after a full GC: %ld KiB at the warm-up's end (%llu calls made), %ld KiB at the end "
			"(%+ld KiB; limit %d KiB)\n", heap0 / 1024, (unsigned long long)calls_at_warm, heap1 / 1024,
			(heap1 - heap0) / 1024, HEAP_GROWTH / 1024);
	else
		fprintf(stderr, "no jcmd beside the daemon's java: live heap not measured\n");
	if ((double)max3 > (double)max1 * (1.0 + RSS_GROWTH))
		dt_fail(__FILE__, __LINE__, "the daemon's RSS grew: last-third max %ld KiB > first-third max %ld KiB + %.0f %%",
			max3, max1, RSS_GROWTH * 100);
	if (heap0 >= 0 && heap1 - heap0 > HEAP_GROWTH)
		dt_fail(__FILE__, __LINE__, "the daemon's live heap grew by %ld KiB under load", (heap1 - heap0) / 1024);
	(void)rss_t;
	dt_stop_daemon();
	return T_EXIT_PASS;
}
