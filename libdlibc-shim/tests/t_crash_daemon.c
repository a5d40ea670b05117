/*
 * t_crash_daemon: SIGKILL the daemon at random moments under load, 100 times
 * (DIOS_LONG=1: 300), on one state directory.
 *
 * Each round starts diosd on the same socket and state directory, then:
 *  - writers append checksummed records to durable named blobs.  After each
 *    commit_write that returned 0 a writer appends (blob, length, CRC-32 of
 *    the blob's bytes 0..length) to a side file of its own and fdatasyncs it.
 *    At the start of every round each writer looks up every blob of its side
 *    file and checks it against the file: the committed size is at least the
 *    acknowledged length, the CRC matches, and every record up to the
 *    committed size parses (a commit the daemon made durable but did not
 *    acknowledge before dying may follow; nothing torn or foreign may).
 *    Writers also create and zombify blobs: an acknowledged create must
 *    resolve after the restart, an acknowledged zombify must not.
 *  - a blocker task has threads parked in every kind of wait: a FIFO read
 *    and a FIFO write sleeping on the peer's futex, a select and a dios_wait
 *    parked in the daemon, and threads looping on nop, create/acquire/
 *    commit/delete, lookup, batch and durable blob commits; a task it
 *    spawned sleeps in a FIFO read.
 * After a random 50-400 ms the daemon is killed (its process alone: the
 * tasks it spawned live on, as after a real crash).  Every caller must
 * return -ENOTCONN within one second of the daemon's death (reaped: its
 * sockets closed; the maximum from the kill is reported too),
 * every worker and every spawned task must end, and the next start must log
 * its journal replay with the number of durable blobs the side files
 * account for.  One round in ten kills the daemon while it starts (journal
 * replay and compaction, JIT warm-up) with a task waiting to register.
 *
 * Restart time: each round is a JVM start, the bulk of the test's time.
 * Nine rounds in ten start it fast (an AOT cache made by a training run, C1
 * only, no warm-up; see main), the tenth with the daemon's defaults, and so
 * does the last start, which verifies everything; DIOS_CRASH_FAST=0: all.
 */
#define _GNU_SOURCE
#include "helpers.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define NWRITERS     3
#define ROTATE_BYTES (128 * 1024)
#define KEEP_BLOBS   4                       /* a writer zombifies its oldest blob beyond this */
#define MAX_BLOBS    4096
#define BOUND_NS     1000000000ull           /* -ENOTCONN within 1 s of the kill */
#define HANG_NS      5000000000ull           /* a caller silent this long after the kill hangs */

/* ---- CRC-32 (IEEE, reflected), incremental ------------------------------------------ */
static uint32_t crc_table[256];
static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}
static uint32_t crc32_update(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	crc = ~crc;
	for (size_t i = 0; i < len; i++)
		crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ---- reports to the parent (one pipe, atomic writes) ---------------------------------- */
enum { R_READY = 1, R_RESULT, R_WRITER };
struct rep {
	int32_t who, kind;
	int64_t rc;
	uint64_t t;
	uint64_t v[4];
};
static int g_rep_fd = -1;
static void report(int who, int kind, int64_t rc, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	struct rep r = { .who = who, .kind = kind, .rc = rc, .t = dt_now_ns(), .v = { a, b, c, d } };
	if (write(g_rep_fd, &r, sizeof r) != (ssize_t)sizeof r)
		_exit(90);
}

static char g_dir[PATH_MAX - 64];

/*
 * When the current call began: a call that starts after the kill is owed
 * -ENOTCONN within the bound from its start, not from the kill (a writer may
 * be in its own fdatasync when the daemon dies).
 */
static __thread uint64_t t_call;
#define T(call) (t_call = dt_now_ns(), (call))
static int g_round;

/* ---- writers ------------------------------------------------------------------------- */

/* The side file: one entry per acknowledged change, fdatasync'd before the next call. */
#define LOG_MAGIC   0x4c4f4731u               /* "LOG1" */
#define LEN_DELETED UINT64_MAX
#define LEN_ZOMBIFYING (UINT64_MAX - 1)           /* logged before the call: its outcome may be either */
struct logent {
	uint32_t magic, blob;
	uint64_t len;                           /* committed length acknowledged; LEN_DELETED: zombified */
	uint32_t crc, round;
	uint64_t seq_next;                      /* records in the blob */
};

/* A record in a blob: header + deterministic payload. */
#define REC_MAGIC   0x52454331u               /* "REC1" */
struct rechdr { uint32_t magic, writer, blob, len; uint64_t seq; };

static void blob_name(int w, uint32_t b, dios_name_t *n)
{
	char s[64];
	snprintf(s, sizeof s, "t_crash_daemon/w%d/b%u", w, b);
	CHECK_EQ(dios_name_from_string(s, n), 0);
}
static uint32_t payload_seed(int w, uint32_t b, uint64_t seq) { return (uint32_t)(w * 1000003u + b * 7919u + seq * 2654435761u); }

struct wstate {
	struct logent last[MAX_BLOBS];          /* latest entry per blob; magic 0: none */
	uint32_t nblobs;                        /* blob indexes used: 0..nblobs-1 */
	int logfd;
	uint64_t bytes_verified, records_verified, unacked_tail_records;
};

static void log_append(struct wstate *ws, const struct logent *e)
{
	if (write(ws->logfd, e, sizeof *e) != (ssize_t)sizeof *e)
		dt_fail(__FILE__, __LINE__, "side file write: %s", strerror(errno));
	if (fdatasync(ws->logfd) != 0)
		dt_fail(__FILE__, __LINE__, "side file fdatasync: %s", strerror(errno));
	ws->last[e->blob] = *e;
	if (e->blob + 1 > ws->nblobs)
		ws->nblobs = e->blob + 1;
}

static void log_load(struct wstate *ws, int w)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/writer-%d.log", g_dir, w);
	ws->logfd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	CHECK(ws->logfd >= 0);
	struct logent e;
	ssize_t n;
	while ((n = read(ws->logfd, &e, sizeof e)) == (ssize_t)sizeof e) {
		CHECK_EQ(e.magic, LOG_MAGIC);
		CHECK(e.blob < MAX_BLOBS);
		ws->last[e.blob] = e;
		if (e.blob + 1 > ws->nblobs)
			ws->nblobs = e.blob + 1;
	}
	CHECK_EQ(n, 0);                         /* a writer fsyncs whole entries; never a torn one */
}

/*
 * Check blob b against the side file; returns its reference (or NULL for a
 * zombified one) and leaves in *e the state to append from (size, CRC, next
 * record) as the daemon has it now.
 */
static dios_ref_t *verify_blob(struct wstate *ws, int w, uint32_t b, struct logent *e)
{
	dios_name_t n;
	blob_name(w, b, &n);
	dios_ref_t *r = NULL;
	uint64_t cnt = 1;
	int rc = dios_lookup(0, &n, &r, &cnt);
	if (ws->last[b].len == LEN_ZOMBIFYING) {
		/* the daemon died during the zombify: done or not, finish it now */
		if (rc == 0) {
			CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, r), 0);   /* releases r too */
		} else {
			CHECK_EQ(rc, -ENOENT);
		}
		struct logent d = { .magic = LOG_MAGIC, .blob = b, .len = LEN_DELETED, .round = (uint32_t)g_round };
		log_append(ws, &d);
		return NULL;
	}
	if (ws->last[b].len == LEN_DELETED) {
		/* zombified and acknowledged: its name must be gone for good */
		if (rc != -ENOENT)
			dt_fail(__FILE__, __LINE__, "writer %d: blob %u was zombified (acknowledged) but lookup gives %d %s",
				w, b, rc, dt_errname(rc));
		return NULL;
	}
	if (rc != 0)
		dt_fail(__FILE__, __LINE__, "writer %d: blob %u (acknowledged %llu bytes) does not resolve after the restart: %d %s",
			w, b, (unsigned long long)ws->last[b].len, rc, dt_errname(rc));
	dios_ref_info_t info;
	CHECK_EQ(dios_ref_info(r, &info), 0);
	uint64_t size = info.size, acked = ws->last[b].len;
	if (size < acked)
		dt_fail(__FILE__, __LINE__, "writer %d: blob %u has %llu bytes after the restart; %llu were acknowledged",
			w, b, (unsigned long long)size, (unsigned long long)acked);
	uint32_t crc = 0;
	uint64_t seq = 0, off = 0;
	if (size > 0) {
		dios_iovec_t *iov = NULL;
		CHECK_EQ(dios_acquire_read(0, r, 0, &iov), 0);
		CHECK_EQ(iov->len, size);
		const uint8_t *p = iov->buf;
		uint32_t acked_crc = crc32_update(0, p, acked);
		if (acked_crc != ws->last[b].crc)
			dt_fail(__FILE__, __LINE__, "writer %d: blob %u: CRC of the %llu acknowledged bytes is %08x, the side file says %08x",
				w, b, (unsigned long long)acked, acked_crc, ws->last[b].crc);
		while (off < size) {
			struct rechdr h;
			if (size - off < sizeof h)
				dt_fail(__FILE__, __LINE__, "writer %d: blob %u: %llu stray bytes at %llu (committed size %llu)",
					w, b, (unsigned long long)(size - off), (unsigned long long)off, (unsigned long long)size);
			memcpy(&h, p + off, sizeof h);
			if (h.magic != REC_MAGIC || h.writer != (uint32_t)w || h.blob != b || h.seq != seq ||
			    h.len > size - off - sizeof h)
				dt_fail(__FILE__, __LINE__, "writer %d: blob %u: bad record header at %llu (seq %llu; committed %llu, acknowledged %llu)",
					w, b, (unsigned long long)off, (unsigned long long)seq, (unsigned long long)size,
					(unsigned long long)acked);
			long bad = dt_verify(p + off + sizeof h, h.len, payload_seed(w, b, seq));
			if (bad >= 0)
				dt_fail(__FILE__, __LINE__, "writer %d: blob %u: record %llu differs at payload byte %ld",
					w, b, (unsigned long long)seq, bad);
			off += sizeof h + h.len;
			seq++;
			if (off > acked)
				ws->unacked_tail_records++;
			else
				ws->records_verified++;
		}
		if (off != size)
			dt_fail(__FILE__, __LINE__, "writer %d: blob %u: records end at %llu, committed size %llu",
				w, b, (unsigned long long)off, (unsigned long long)size);
		if (off < acked)
			dt_fail(__FILE__, __LINE__, "writer %d: blob %u: records end before the acknowledged length", w, b);
		crc = crc32_update(0, p, size);
		ws->bytes_verified += acked;
		CHECK_EQ(dios_release_read(0, r, iov), 0);
	}
	if (seq < ws->last[b].seq_next)
		dt_fail(__FILE__, __LINE__, "writer %d: blob %u holds %llu records, %llu were acknowledged", w, b,
			(unsigned long long)seq, (unsigned long long)ws->last[b].seq_next);
	*e = (struct logent){ .magic = LOG_MAGIC, .blob = b, .len = size, .crc = crc, .round = (uint32_t)g_round,
			      .seq_next = seq };
	return r;
}

/*
 * A worker's first call registers it.  The daemon is alive (the parent starts
 * workers only once its socket accepts), but on a loaded machine its start
 * (JVM, journal replay) can outlast the shim's 10 s wait for the welcome, and
 * the call fails with -ENOTCONN; the shim then connects afresh on the next.
 */
static void first_call(void)
{
	int rc = -ENOTCONN;
	for (int i = 0; i < 12 && rc == -ENOTCONN; i++)
		rc = dios_nop(0);
	CHECK_EQ(rc, 0);
}

/* Writer w: verify everything its side file holds, then append until the daemon dies. */
static void writer_main(int w, int verify_only)
{
	static struct wstate ws;
	memset(&ws, 0, sizeof ws);
	log_load(&ws, w);
	first_call();
	uint64_t seed = dt_now_ns() ^ (uint64_t)getpid() << 20;
	dios_ref_t *cur = NULL;
	struct logent ce = { 0 };
	uint32_t live_blobs = 0, oldest = UINT32_MAX;
	int rc;
	for (uint32_t b = 0; b < ws.nblobs; b++) {
		if (ws.last[b].magic == 0)
			continue;
		struct logent e;
		dios_ref_t *r = verify_blob(&ws, w, b, &e);
		if (!r)
			continue;
		live_blobs++;
		if (oldest == UINT32_MAX)
			oldest = b;
		if (cur)
			CHECK_EQ(dios_delete(0, cur), 0);
		cur = r;
		ce = e;
	}
	/* a create made durable but not acknowledged before the kill: the next name exists */
	dios_name_t nn;
	blob_name(w, ws.nblobs, &nn);
	dios_ref_t *stray = NULL;
	uint64_t cnt = 1;
	rc = dios_lookup(0, &nn, &stray, &cnt);
	uint64_t stray_creates = 0;
	if (rc == 0) {
		dios_ref_info_t info;
		CHECK_EQ(dios_ref_info(stray, &info), 0);
		CHECK_EQ(info.size, 0);         /* nothing is written before the create is logged */
		struct logent e = { .magic = LOG_MAGIC, .blob = ws.nblobs, .len = 0, .crc = 0, .round = (uint32_t)g_round };
		log_append(&ws, &e);
		if (cur)
			CHECK_EQ(dios_delete(0, cur), 0);
		cur = stray;
		ce = e;
		live_blobs++;
		stray_creates++;
	} else {
		CHECK_EQ(rc, -ENOENT);
	}
	if (verify_only) {
		report(w, R_WRITER, 0, ws.bytes_verified, ws.records_verified, ws.unacked_tail_records, live_blobs);
		_exit(0);
	}

	uint64_t commits = 0, ready_sent = 0;
	for (;;) {
		if (!cur || ce.len >= ROTATE_BYTES) {
			/* a new blob: durable once dios_create returns 0 */
			uint32_t b = ws.nblobs;
			CHECK(b < MAX_BLOBS);
			dios_name_t n;
			blob_name(w, b, &n);
			dios_ref_t *r = NULL;
			rc = T(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_BLOB, NULL, &n, &r, 0));
			if (rc != 0)
				break;
			struct logent e = { .magic = LOG_MAGIC, .blob = b, .len = 0, .crc = 0, .round = (uint32_t)g_round };
			log_append(&ws, &e);
			dios_ref_t *prev = cur;
			cur = r;
			ce = e;
			if (prev && (rc = T(dios_delete(0, prev))) != 0)
				break;
			if (oldest == UINT32_MAX)
				oldest = b;
			if (++live_blobs > KEEP_BLOBS) {
				/* zombify the oldest: durable once it returns 0 */
				dios_name_t on;
				blob_name(w, oldest, &on);
				dios_ref_t *o = NULL;
				cnt = 1;
				rc = T(dios_lookup(0, &on, &o, &cnt));
				if (rc != 0)
					break;
				struct logent z = { .magic = LOG_MAGIC, .blob = oldest, .len = LEN_ZOMBIFYING, .round = (uint32_t)g_round };
				log_append(&ws, &z);
				rc = T(dios_delete(D_DELETE_ZOMBIFY, o));
				if (rc != 0)
					break;
				struct logent d = { .magic = LOG_MAGIC, .blob = oldest, .len = LEN_DELETED, .round = (uint32_t)g_round };
				log_append(&ws, &d);            /* (the zombify released o as well) */
				live_blobs--;
				while (++oldest < ws.nblobs && (ws.last[oldest].magic == 0 || ws.last[oldest].len == LEN_DELETED))
					;
			}
		}
		/* append one record at the committed end */
		seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
		uint32_t plen = 64 + (uint32_t)(seed % 4000);
		uint64_t newlen = ce.len + sizeof(struct rechdr) + plen;
		dios_iovec_t *iov = NULL;
		rc = T(dios_acquire_write(0, cur, newlen, &iov));
		if (rc != 0)
			break;
		CHECK_EQ(iov->len, newlen);
		uint8_t *p = (uint8_t *)iov->buf + ce.len;
		struct rechdr h = { .magic = REC_MAGIC, .writer = (uint32_t)w, .blob = ce.blob, .len = plen, .seq = ce.seq_next };
		memcpy(p, &h, sizeof h);
		dt_fill(p + sizeof h, plen, payload_seed(w, ce.blob, ce.seq_next));
		rc = T(dios_commit_write(0, cur, newlen, iov));
		if (rc != 0)
			break;
		/* acknowledged: durable.  Into the side file before anything else. */
		struct logent e = ce;
		e.len = newlen;
		e.crc = crc32_update(ce.crc, p, newlen - ce.len);
		e.seq_next = ce.seq_next + 1;
		e.round = (uint32_t)g_round;
		log_append(&ws, &e);
		ce = e;
		commits++;
		rc = T(dios_release_write(0, cur, iov));
		if (rc != 0)
			break;
		if (!ready_sent && commits >= 2) {
			report(w, R_READY, 0, 0, 0, 0, 0);
			ready_sent = 1;
		}
	}
	report(w, R_RESULT, rc, t_call, 0, 0, 0);
	/* and every later call fails at once */
	uint64_t t0 = dt_now_ns();
	CHECK_EQ(dios_nop(0), -ENOTCONN);
	CHECK(dt_now_ns() - t0 < 100000000ull);
	report(w, R_WRITER, 0, ws.bytes_verified, ws.records_verified, ws.unacked_tail_records, commits * 1000000 + stray_creates);
	_exit(0);
}

/* ---- the blocker: threads in every kind of wait, and a spawned task ------------------ */

enum {
	B_FIFO_READ, B_FIFO_WRITE, B_SELECT, B_WAIT, B_NOP, B_CREATE, B_LOOKUP, B_BATCH, B_BLOB, B_RUN, NB
};
static const char *b_name[NB] = {
	"FIFO read (futex)", "FIFO write (futex)", "select (parked)", "dios_wait (parked)", "nop loop",
	"create/acquire/commit/delete loop", "lookup/delete loop", "batch loop", "durable blob commit loop",
	"dios_run/wait loop"
};
#define WHO_BLOCKER  100
#define WHO_SPAWNED  200
#define WHO_CONNECT  300

struct bctx {
	dios_ref_t *f1r, *f2w, *f3, *task, *shm_named_ref, *blob, *exe;
	dios_name_t shm_name;
	atomic_int started;
};
static struct bctx B;

static void *blocker_thread(void *arg)
{
	int k = (int)(intptr_t)arg;
	int rc = 0;
	uint64_t size = 4096;
	dios_iovec_t *iov = NULL;
	atomic_fetch_add(&B.started, 1);
	switch (k) {
	case B_FIFO_READ:
		rc = T(dios_acquire_read(0, B.f1r, 0, &iov));
		break;
	case B_FIFO_WRITE:
		rc = T(dios_acquire_write(0, B.f2w, 1, &iov));
		break;
	case B_SELECT: {
		dios_ref_t *ready = NULL;
		rc = T(dios_select(0, &B.f3, 1, &ready));
		break;
	}
	case B_WAIT: {
		int st = 0;
		rc = T(dios_wait(0, B.task, &st));
		break;
	}
	case B_NOP:
		while ((rc = T(dios_nop(0))) == 0)
			;
		break;
	case B_CREATE:
		for (;;) {
			dios_ref_t *r = NULL;
			if ((rc = T(dios_create(0, D_OBJ_SHMEM, &size, NULL, &r, 0))) != 0)
				break;
			if ((rc = T(dios_acquire_write(0, r, 0, &iov))) != 0)
				break;
			memset(iov->buf, 0x5a, 64);
			if ((rc = T(dios_commit_write(0, r, 64, iov))) != 0)
				break;
			if ((rc = T(dios_delete(0, r))) != 0)
				break;
		}
		break;
	case B_LOOKUP:
		for (;;) {
			dios_ref_t *r = NULL;
			uint64_t cnt = 1;
			if ((rc = T(dios_lookup(D_LOOKUP_READONLY, &B.shm_name, &r, &cnt))) != 0)
				break;
			if ((rc = T(dios_delete(0, r))) != 0)
				break;
		}
		break;
	case B_BATCH:
		for (;;) {
			dios_call_t c[4];
			dios_ref_info_t info;
			memset(c, 0, sizeof c);
			c[0].opcode = D_OP_NOP;
			c[1].opcode = D_OP_REF_INFO; c[1].ref = B.shm_named_ref; c[1].info = &info;
			c[2].opcode = D_OP_LOOKUP; c[2].name = &B.shm_name;
			c[3].opcode = D_OP_NOP;
			if ((rc = T(dios_batch(c, 4))) != 0)
				break;
			if ((rc = c[2].res) != 0 || (rc = T(dios_delete(0, c[2].ref))) != 0)
				break;
		}
		break;
	case B_BLOB:
		for (;;) {
			if ((rc = T(dios_acquire_write(0, B.blob, 4096, &iov))) != 0)
				break;
			memset(iov->buf, k, 4096);
			if ((rc = T(dios_commit_write(0, B.blob, 4096, iov))) != 0)
				break;
			if ((rc = T(dios_release_write(0, B.blob, iov))) != 0)
				break;
		}
		break;
	case B_RUN:
		for (;;) {
			char *argv[] = { "t_crash_daemon", "exit0", NULL };
			dios_task_spec_t spec = { .argc = 2, .argv = argv };
			dios_ref_t *t = NULL;
			int st = 0;
			if ((rc = T(dios_run(0, B.exe, &spec, &t))) != 0)
				break;
			if ((rc = T(dios_wait(0, t, &st))) != 0)
				break;
			CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
			if ((rc = T(dios_delete(0, t))) != 0)
				break;
		}
		break;
	}
	report(WHO_BLOCKER + k, R_RESULT, rc, t_call, 0, 0, 0);
	return NULL;
}

static dios_ref_t *lookup1(const dios_name_t *n)
{
	dios_ref_t *r = NULL;
	uint64_t cnt = 1;
	CHECK_EQ(dios_lookup(0, n, &r, &cnt), 0);
	return r;
}

static void blocker_main(void)
{
	dios_iovec_t *iov = NULL;
	uint64_t cap = 4096, size = 4096;
	dios_name_t n1, n2;
	first_call();
	/* F1: we bind its writer end and never write: a reader sleeps on the futex */
	dios_ref_t *f1w = NULL;
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, &cap, &n1, &f1w, 0), 0);
	B.f1r = lookup1(&n1);
	CHECK_EQ(dios_acquire_write(0, f1w, 1, &iov), 0);
	CHECK_EQ(dios_release_write(0, f1w, iov), 0);
	/* F2: full, its reader holds what it read: a writer sleeps on the futex */
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, &cap, &n2, &B.f2w, 0), 0);
	dios_ref_t *f2r = lookup1(&n2);
	CHECK_EQ(dios_acquire_write(0, B.f2w, cap, &iov), 0);
	CHECK_EQ(dios_commit_write(0, B.f2w, cap, iov), 0);
	CHECK_EQ(dios_release_write(0, B.f2w, iov), 0);
	dios_iovec_t *held = NULL;
	CHECK_EQ(dios_acquire_read(0, f2r, 0, &held), 0);
	/* F3: no end bound, both permissions on one reference: never ready */
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, &cap, NULL, &B.f3, 0), 0);
	/* a spawned task reading F4, which we write to never */
	dios_ref_t *f4 = NULL, *exe = dios_pickref(dios_self_exe());
	CHECK(exe != NULL);
	B.exe = exe;
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, &cap, NULL, &f4, 0), 0);
	char rs[16], res_path[PATH_MAX + 32];
	snprintf(rs, sizeof rs, "%d", g_round);
	snprintf(res_path, sizeof res_path, "%s/spawned-%d.res", g_dir, g_round);
	char *argv[] = { "t_crash_daemon", "spawned", res_path, NULL };
	dios_task_spec_t spec = { .argc = 3, .argv = argv, .refs = &f4, .ref_count = 1 };
	CHECK_EQ(dios_run(0, exe, &spec, &B.task), 0);
	CHECK_EQ(dios_acquire_write(0, f4, 1, &iov), 0);     /* our end is the writer's */
	CHECK_EQ(dios_release_write(0, f4, iov), 0);
	/* a named SHMEM object to look up */
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, &B.shm_name, &B.shm_named_ref, 0), 0);
	/* our own durable blob (not checked: the writers' are) */
	dios_name_t bn;
	CHECK_EQ(dios_name_from_string("t_crash_daemon/blocker", &bn), 0);
	int rc = dios_create(D_CREATE_NAME_GIVEN, D_OBJ_BLOB, NULL, &bn, &B.blob, 0);
	if (rc == -EEXIST)
		B.blob = lookup1(&bn);
	else
		CHECK_EQ(rc, 0);
	char mark[PATH_MAX + 32];
	snprintf(mark, sizeof mark, "%s/blocker-blob", g_dir);
	int mfd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	CHECK(mfd >= 0);
	close(mfd);

	pthread_t th[NB];
	for (int k = 0; k < NB; k++)
		CHECK_EQ(pthread_create(&th[k], NULL, blocker_thread, (void *)(intptr_t)k), 0);
	while (atomic_load(&B.started) < NB)
		usleep(1000);
	usleep(20000);                          /* the blocking ones are asleep by now */
	report(WHO_BLOCKER, R_READY, 0, 0, 0, 0, 0);
	for (int k = 0; k < NB; k++)
		CHECK_EQ(pthread_join(th[k], NULL), 0);
	(void)held;
	_exit(0);
}

/* The task the blocker spawned: blocked in a FIFO read until the daemon dies. */
static int spawned_main(const char *res_path)
{
	alarm(60);
	dios_ref_t *f = NULL;
	uint64_t n = 1;
	if (dios_delegated(0, &f, &n) != 0 || n != 1)
		return 2;
	dios_iovec_t *iov = NULL;
	int rc = dios_acquire_read(0, f, 0, &iov);
	uint64_t t = dt_now_ns();
	char buf[64];
	int len = snprintf(buf, sizeof buf, "%d %llu\n", rc, (unsigned long long)t);
	int fd = open(res_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, buf, (size_t)len) != len)
		return 3;
	close(fd);
	return 0;
}

/* Waits to register (the daemon is starting), then calls until the daemon dies. */
static void connector_main(void)
{
	int rc;
	while ((rc = T(dios_nop(0))) == 0)
		usleep(1000);
	report(WHO_CONNECT, R_RESULT, rc, t_call, 0, 0, 0);
	_exit(0);
}

/* ---- the parent ---------------------------------------------------------------------- */

static pid_t fork_worker(void (*fn)(int, int), int arg, int arg2, int rep_w)
{
	fflush(NULL);
	pid_t p = fork();
	CHECK(p >= 0);
	if (p == 0) {
		signal(SIGALRM, SIG_DFL);
		alarm(120);
		g_rep_fd = rep_w;
		fn(arg, arg2);
		_exit(0);
	}
	return p;
}
static void run_writer(int w, int verify_only) { writer_main(w, verify_only); }
static void run_blocker(int a, int b) { (void)a; (void)b; blocker_main(); }
static void run_connector(int a, int b) { (void)a; (void)b; connector_main(); }

/* Reads reports until want of them arrived or the deadline passed; returns how many. */
static int collect(int fd, struct rep *out, int want, uint64_t deadline)
{
	int got = 0;
	while (got < want) {
		uint64_t now = dt_now_ns();
		if (now >= deadline)
			break;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, (int)((deadline - now) / 1000000 + 1));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		ssize_t n = read(fd, &out[got], sizeof out[got]);
		if (n == (ssize_t)sizeof out[got])
			got++;
		else if (n == 0)
			break;
		else if (n > 0)
			dt_fail(__FILE__, __LINE__, "short report (%zd bytes)", n);
	}
	return got;
}

/* The journal lines the daemon logged so far: how many, and the last blob count. */
static int journal_lines(long *last_blobs, long *last_entries)
{
	char path[PATH_MAX + 16], line[1024];
	snprintf(path, sizeof path, "%s/diosd.log", g_dir);
	FILE *f = fopen(path, "re");
	CHECK(f != NULL);
	int n = 0;
	while (fgets(line, sizeof line, f)) {
		char *j = strstr(line, "journal: ");
		long blobs, entries;
		if (j && sscanf(j, "journal: %ld durable blob(s) from %ld entries", &blobs, &entries) == 2) {
			n++;
			*last_blobs = blobs;
			*last_entries = entries;
		}
	}
	fclose(f);
	return n;
}

static int file_size_ok(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && st.st_size > 0;
}

/* Durable blobs the side files account for: acknowledged creates minus acknowledged zombifies. */
static long acked_live_blobs(long *zombifying)
{
	*zombifying = 0;
	long live = 0;
	for (int w = 0; w < NWRITERS; w++) {
		char path[PATH_MAX + 32];
		snprintf(path, sizeof path, "%s/writer-%d.log", g_dir, w);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		static uint8_t state[MAX_BLOBS];            /* 0 none, 1 live, 2 deleted */
		memset(state, 0, sizeof state);
		struct logent e;
		while (read(fd, &e, sizeof e) == (ssize_t)sizeof e)
			state[e.blob] = e.len == LEN_DELETED ? 2 : e.len == LEN_ZOMBIFYING ? 3 : 1;
		close(fd);
		for (int b = 0; b < MAX_BLOBS; b++) {
			live += state[b] == 1;
			*zombifying += state[b] == 3;   /* logged, not acknowledged: either outcome */
		}
	}
	char mark[PATH_MAX + 32];
	snprintf(mark, sizeof mark, "%s/blocker-blob", g_dir);
	return live + (access(mark, F_OK) == 0);   /* the blocker's blob, once made */
}

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "spawned") == 0)
		return spawned_main(argv[2]);
	if (argc > 1 && strcmp(argv[1], "exit0") == 0)
		return 0;

	const char *l = getenv("DIOS_LONG");
	int lng = l && *l && strcmp(l, "0") != 0;
	int rounds = lng ? 300 : 100;
	const char *rs = getenv("CRASH_RESTARTS");
	if (rs && atoi(rs) > 0)
		rounds = atoi(rs);
	alarm(lng ? 7200 : 1500);           /* a bound on a hang: about 3 min on an idle 2-core machine */
	crc_init();
	uint64_t seed = dt_now_ns() ^ (uint64_t)getpid();
	srandom((unsigned)seed);

	char tmpl[] = "/tmp/dios-crash-XXXXXX";
	CHECK(mkdtemp(tmpl) != NULL);
	snprintf(g_dir, sizeof g_dir, "%s", tmpl);

	/*
	 * Two ways to start the daemon.  "Production": its defaults (the JIT
	 * warm-up, C2).  "Fast": an AOT cache of the loaded and linked classes
	 * (JDK 25 -XX:AOTCacheOutput, from a training run below), C1 only
	 * (-XX:TieredStopAtLevel=1) and no warm-up: a third of the CPU time of a
	 * production start (1.2 s against 4.0 s, measured by wait4 on a loaded
	 * VM), and the same daemon, journal and state directory: the JIT only
	 * decides how fast the code runs.  Every tenth round (and every round with
	 * DIOS_CRASH_FAST=0) starts the production way.
	 */
	const char *fe = getenv("DIOS_CRASH_FAST");
	int fast = !(fe && strcmp(fe, "0") == 0);
	const char *old_opts = getenv("DIOSD_JAVA_OPTS");
	static char prod_opts[2048], fast_opts[2048 + PATH_MAX + 128];
	snprintf(prod_opts, sizeof prod_opts, "%s", old_opts ? old_opts : "");
	static const char *const prod_args[] = { NULL };
	static const char *const fast_args[] = { "--warmup-cycles", "0", NULL };
	int rep[2];
	CHECK_EQ(pipe2(rep, O_CLOEXEC), 0);
	double aot_secs = 0;
	if (fast) {
		/* the training run, under the writers' load, stopped cleanly: the cache is written at exit */
		uint64_t t0 = dt_now_ns();
		snprintf(fast_opts, sizeof fast_opts, "%s -XX:TieredStopAtLevel=1 -XX:AOTCacheOutput=%s/diosd.aot", prod_opts, g_dir);
		setenv("DIOSD_JAVA_OPTS", fast_opts, 1);
		dt_daemon_args = fast_args;
		dt_start_daemon_in(g_dir);
		pid_t w = fork_worker(run_writer, 0, 0, rep[1]);
		struct rep r;
		CHECK_EQ(collect(rep[0], &r, 1, dt_now_ns() + 60000000000ull), 1);
		CHECK_EQ(r.kind, R_READY);
		usleep(300000);
		/* the JVM assembles the cache at exit, in a child JVM: give it time */
		dt_signal_daemon_wait(SIGTERM, 120000);
		struct rep rr[2];
		CHECK_EQ(collect(rep[0], rr, 2, dt_now_ns() + 10000000000ull), 2);
		CHECK_CHILD_OK(w);
		char cache[PATH_MAX + 16];
		snprintf(cache, sizeof cache, "%s/diosd.aot", g_dir);
		if (file_size_ok(cache)) {
			snprintf(fast_opts, sizeof fast_opts, "%s -XX:TieredStopAtLevel=1 -XX:AOTCache=%s/diosd.aot", prod_opts, g_dir);
			aot_secs = (dt_now_ns() - t0) / 1e9;
		} else {
			snprintf(fast_opts, sizeof fast_opts, "%s -XX:TieredStopAtLevel=1", prod_opts);
			fprintf(stderr, "no AOT cache was written (a JVM before 25?): fast starts without one\n");
		}
	}

	uint64_t max_lat = 0, max_lat_k = 0, max_exit = 0, sum_lat = 0, n_lat = 0, max_start = 0, sum_start = 0, n_start = 0;
	uint64_t bytes_verified = 0, records_verified = 0, unacked = 0, commits = 0, strays = 0;
	int early_kills = 0, load_kills = 0, prod_starts = 0, starts = fast ? 1 : 0;
	char worst[128] = "";
	uint64_t t_all = dt_now_ns();
	for (g_round = 0; g_round < rounds; g_round++) {
		int early = g_round % 10 == 9;
		int prod = !fast || g_round % 10 == 4;
		setenv("DIOSD_JAVA_OPTS", prod ? prod_opts : fast_opts, 1);
		dt_daemon_args = prod ? prod_args : fast_args;
		prod_starts += prod;
		long zomb = 0, acked_before = acked_live_blobs(&zomb);
		long jb = -1, je = -1;
		int jl_before = journal_lines(&jb, &je);
		uint64_t t_start = dt_now_ns();
		dt_start_no_serving_wait = early;       /* an early kill lands while it starts */
		pid_t dpid = dt_start_daemon_in(g_dir);
		dt_start_no_serving_wait = 0;
		starts++;
		pid_t pids[NWRITERS + 2];
		int np = 0, want = 0;
		struct rep reps[64];
		if (early) {
			/* a task waits to register while the daemon replays its journal and warms up */
			pids[np++] = fork_worker(run_connector, 0, 0, rep[1]);
			want = 1;
			usleep((useconds_t)(random() % 800000));
		} else {
			for (int w = 0; w < NWRITERS; w++)
				pids[np++] = fork_worker(run_writer, w, 0, rep[1]);
			pids[np++] = fork_worker(run_blocker, 0, 0, rep[1]);
			int ready = collect(rep[0], reps, NWRITERS + 1, dt_now_ns() + 60000000000ull);
			if (ready != NWRITERS + 1)
				dt_fail(__FILE__, __LINE__, "round %d: %d of %d workers ready within 60 s", g_round, ready, NWRITERS + 1);
			for (int i = 0; i < ready; i++)
				if (reps[i].kind != R_READY)
					dt_fail(__FILE__, __LINE__, "round %d: worker %d reported %d (rc %lld) before it was ready",
						g_round, reps[i].who, reps[i].kind, (long long)reps[i].rc);
			uint64_t serving = reps[0].t - t_start;    /* the first writer's first commits */
			if (serving > max_start)
				max_start = serving;
			sum_start += serving;
			n_start++;
			/* the start-up replayed the journal: its line, with every acknowledged blob */
			int jl = journal_lines(&jb, &je);
			if (jl != jl_before + 1)
				dt_fail(__FILE__, __LINE__, "round %d: the start logged %d journal replay lines, not 1", g_round, jl - jl_before);
			if (jb < acked_before - zomb || jb > acked_before + NWRITERS + 1)
				dt_fail(__FILE__, __LINE__, "round %d: the journal replayed %ld durable blobs; the side files acknowledge %ld"
					" (%ld of them being zombified; + at most %d unacknowledged creates)", g_round, jb, acked_before,
					zomb, NWRITERS + 1);
			want = NWRITERS + NB + 1;       /* each writer, each blocker thread, the spawned task */
			usleep((useconds_t)(50000 + random() % 350000));
		}

		uint64_t t_kill = dt_now_ns();
		int st = dt_kill_daemon_only();
		/*
		 * Dead: reaped, so the kernel has closed its sockets (exit_files comes
		 * after exit_mm, and unmapping a JVM can take a second of a loaded CPU).
		 */
		uint64_t t_dead = dt_now_ns();
		if (t_dead - t_kill > max_exit)
			max_exit = t_dead - t_kill;
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		if (early)
			early_kills++;
		else
			load_kills++;

		/* each caller's result; each writer's statistics after its result */
		int expect_pipe = early ? 1 : 2 * NWRITERS + NB;
		int got = collect(rep[0], reps, expect_pipe, t_kill + HANG_NS);
		struct rep all[64], ws[NWRITERS];
		int nall = 0, nws = 0;
		for (int i = 0; i < got; i++) {
			if (reps[i].kind == R_WRITER && nws < NWRITERS)
				ws[nws++] = reps[i];
			else
				all[nall++] = reps[i];
		}
		if (got != expect_pipe) {
			for (int i = 0; i < np; i++) {
				int s2;
				if (waitpid(pids[i], &s2, WNOHANG) == pids[i] && !(WIFEXITED(s2) && WEXITSTATUS(s2) == 0))
					dt_fail(__FILE__, __LINE__, "round %d: worker %d failed (status %#x; its message is above)",
						g_round, i, s2);
			}
			dt_fail(__FILE__, __LINE__, "round %d: only %d of %d callers returned within %.0f s of the kill (a hang)",
				g_round, nall, early ? 1 : NWRITERS + NB, HANG_NS / 1e9);
		}
		if (!early) {
			/* the spawned task's answer, in its file */
			char res[PATH_MAX + 32];
			snprintf(res, sizeof res, "%s/spawned-%d.res", g_dir, g_round);
			while (!file_size_ok(res) && dt_now_ns() < t_kill + HANG_NS)
				usleep(5000);
			FILE *f = fopen(res, "re");
			if (!f)
				dt_fail(__FILE__, __LINE__, "round %d: the spawned task did not answer within %.0f s of the kill",
					g_round, HANG_NS / 1e9);
			int rc = 0;
			unsigned long long t = 0;
			CHECK_EQ(fscanf(f, "%d %llu", &rc, &t), 2);
			fclose(f);
			all[nall++] = (struct rep){ .who = WHO_SPAWNED, .kind = R_RESULT, .rc = rc, .t = t };
		}
		CHECK_EQ(nall, want);
		for (int i = 0; i < nall; i++) {
			struct rep *r = &all[i];
			const char *who = r->who >= WHO_CONNECT ? "a task registering" : r->who >= WHO_SPAWNED ? "the spawned task" :
					  r->who >= WHO_BLOCKER ? b_name[r->who - WHO_BLOCKER] : "a writer";
			if (r->kind != R_RESULT)
				dt_fail(__FILE__, __LINE__, "round %d: %s sent report kind %d", g_round, who, r->kind);
			if (r->rc != -ENOTCONN)
				dt_fail(__FILE__, __LINE__, "round %d: %s returned %lld %s, not -ENOTCONN", g_round, who,
					(long long)r->rc, dt_errname(r->rc));
			/* from the death (or the call's start if later): the bound; from the kill: reported */
			uint64_t from = r->v[0] > t_dead ? r->v[0] : t_dead;
			uint64_t lat = r->t > from ? r->t - from : 0;
			uint64_t from_k = r->v[0] > t_kill ? r->v[0] : t_kill;
			uint64_t lat_k = r->t > from_k ? r->t - from_k : 0;
			if (lat >= BOUND_NS)
				dt_fail(__FILE__, __LINE__, "round %d: %s returned -ENOTCONN %.1f ms after the daemon's death "
					"(%.1f ms after the kill; bound 1000 ms)", g_round, who, lat / 1e6, lat_k / 1e6);
			if (lat > max_lat) {
				max_lat = lat;
				snprintf(worst, sizeof worst, "%s, round %d", who, g_round);
			}
			if (lat_k > max_lat_k)
				max_lat_k = lat_k;
			sum_lat += lat;
			n_lat++;
		}
		if (!early) {
			/* the writers' statistics, once they have seen the death */
			CHECK_EQ(nws, NWRITERS);
			for (int i = 0; i < NWRITERS; i++) {
				CHECK_EQ(ws[i].kind, R_WRITER);
				bytes_verified += ws[i].v[0];
				records_verified += ws[i].v[1];
				unacked += ws[i].v[2];
				commits += ws[i].v[3] / 1000000;
				strays += ws[i].v[3] % 1000000;
			}
		}
		/* every worker ends, and so does every task the dead daemon had spawned */
		for (int i = 0; i < np; i++) {
			uint64_t t0 = dt_now_ns();
			int s;
			pid_t wr;
			while ((wr = waitpid(pids[i], &s, WNOHANG)) == 0) {
				if (dt_now_ns() - t0 > HANG_NS)
					dt_fail(__FILE__, __LINE__, "round %d: worker %d did not exit after the daemon died", g_round, i);
				usleep(2000);
			}
			CHECK_EQ(wr, pids[i]);
			if (!(WIFEXITED(s) && WEXITSTATUS(s) == 0))
				dt_fail(__FILE__, __LINE__, "round %d: worker %d ended with status %#x", g_round, i, s);
		}
		uint64_t t0 = dt_now_ns();
		while (kill(-dpid, 0) == 0) {
			if (dt_now_ns() - t0 > HANG_NS) {
				kill(-dpid, SIGKILL);
				dt_fail(__FILE__, __LINE__, "round %d: a task the daemon spawned outlived it by %.0f s", g_round,
					HANG_NS / 1e9);
			}
			usleep(2000);
		}
		if (g_round % 10 == 0 || g_round == rounds - 1)
			fprintf(stderr, "round %d: %.1f s so far; -ENOTCONN at most %.1f ms after a death (%.1f after a kill); "
				"%llu acknowledged bytes verified\n", g_round, (dt_now_ns() - t_all) / 1e9, max_lat / 1e6,
				max_lat_k / 1e6, (unsigned long long)bytes_verified);
		(void)t_start;
	}

	/* a last start: the journal replays, every writer verifies everything, a clean stop */
	long zomb = 0, acked = acked_live_blobs(&zomb);
	long jb = -1, je = -1;
	int jl_before = journal_lines(&jb, &je);
	setenv("DIOSD_JAVA_OPTS", prod_opts, 1);
	dt_daemon_args = prod_args;
	dt_start_daemon_in(g_dir);
	starts++;
	pid_t pids[NWRITERS];
	for (int w = 0; w < NWRITERS; w++)
		pids[w] = fork_worker(run_writer, w, 1, rep[1]);
	struct rep fin[NWRITERS];
	CHECK_EQ(collect(rep[0], fin, NWRITERS, dt_now_ns() + 60000000000ull), NWRITERS);
	uint64_t final_bytes = 0, final_blobs = 0;
	for (int w = 0; w < NWRITERS; w++) {
		CHECK_CHILD_OK(pids[w]);
		CHECK_EQ(fin[w].kind, R_WRITER);
		final_bytes += fin[w].v[0];
		bytes_verified += fin[w].v[0];
		records_verified += fin[w].v[1];
		final_blobs += fin[w].v[3];
	}
	CHECK_EQ(journal_lines(&jb, &je), jl_before + 1);
	CHECK(jb >= acked - zomb && jb <= acked + NWRITERS + 1);
	dt_stop_daemon_keep_dir();
	double secs = (dt_now_ns() - t_all) / 1e9;

	fprintf(stderr, "%d daemon kills survived in %.1f s (%d under load, %d while starting); %d starts\n",
		early_kills + load_kills, secs, load_kills, early_kills, starts);
	fprintf(stderr, "callers: %llu returned -ENOTCONN, mean %.1f ms, max %.1f ms after the daemon's death (%s; bound 1000 ms); "
		"max %.1f ms after the kill; the kernel took at most %.1f ms to end the daemon\n",
		(unsigned long long)n_lat, n_lat ? sum_lat / 1e6 / (double)n_lat : 0.0, max_lat / 1e6, worst,
		max_lat_k / 1e6, max_exit / 1e6);
	fprintf(stderr, "restart to the first commits: mean %.2f s, max %.2f s; %d production starts, the others fast "
		"(AOT cache made in %.1f s)\n", n_start ? sum_start / 1e9 / (double)n_start : 0.0, max_start / 1e9,
		prod_starts, aot_secs);
	fprintf(stderr, "acknowledged commits %llu; verified %llu acknowledged bytes in %llu records across all restarts "
		"(%llu at the end in %llu live blobs); %llu records durable but unacknowledged at a kill; %llu creates likewise\n",
		(unsigned long long)commits, (unsigned long long)bytes_verified, (unsigned long long)records_verified,
		(unsigned long long)final_bytes, (unsigned long long)final_blobs, (unsigned long long)unacked,
		(unsigned long long)strays);
	fprintf(stderr, "journal: %ld durable blobs from %ld entries at the last start\n", jb, je);
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	fprintf(stderr, "CPU time of the daemons and tasks: %.1f s (%.2f s a round)\n",
		ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
		(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6) / rounds);
	CHECK(commits > 0 && final_bytes > 0);
	dt_cleanup_dir();
	return T_EXIT_PASS;
}
