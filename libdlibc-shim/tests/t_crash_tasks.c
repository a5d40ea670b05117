/*
 * t_crash_tasks: SIGKILL tasks at random moments in every call type, 1,000
 * times (DIOS_LONG=1: 10,000).  Afterwards the daemon's objects, names,
 * references, buffers and segments (dios_daemon_stats), its open fds
 * (/proc/PID/fd, by kind) and its memfd mappings (/proc/PID/maps) are back at
 * their baseline, and the peers of the killed tasks saw end of stream (-EPIPE)
 * and the exit status (SIGKILL), never a hang: every peer wait is bounded by a
 * watchdog that fails the test.
 *
 * Shape: NPEERS peer tasks run in parallel.  Each cycle a peer makes two FIFOs
 * (victim -> peer, peer -> victim) and a marker page, starts a victim (with
 * dios_run, or by fork for a task that connects by itself), streams with it,
 * and a killer thread SIGKILLs it after a random delay.  Each victim spends
 * its life in one kind of call (create, lookup, copy, delete, run, select,
 * acquire/commit/release on memory, blob and FIFO objects, delegated, wait,
 * batch, or a random mix), and writes the call it is in to the marker page
 * before each call (0 after), so the test reports which call each kill hit.
 */
#define _GNU_SOURCE
#include "helpers.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define NPEERS      4
#define REC         16                      /* a FIFO record: seq, check */
#define FIFO_CAP    (64 * 1024)
#define SHM_SIZE    (64 * 1024)
#define NBLOBS      4
#define WATCHDOG_S  20                      /* a peer's wait longer than this is a hang */
#define MAPS_SLACK  32                      /* JVM mappings (code cache, metaspace) may grow this much */

enum kind {
	K_CREATE, K_LOOKUP, K_COPY, K_DELETE, K_RUN, K_SELECT, K_SHM_IO, K_BLOB_IO,
	K_FIFO_IO, K_DELEGATED, K_WAIT, K_BATCH, K_CONSOLE, K_MIX, NKINDS
};
static const char *kind_name[NKINDS] = {
	"create", "lookup", "copy", "delete", "run", "select", "shmem-io", "blob-io",
	"fifo-io", "delegated", "wait", "batch", "console", "mix"
};

/* The marker: the op a victim is in, + 1 (0: between calls); the batch is its own code. */
#define M_BATCH     (D_OP_LAST + 1)
#define M_SETUP     (D_OP_LAST + 2)
#define M_WAIT      (D_OP_LAST + 3)         /* dios_wait (an acquire_read of a task reference) */
#define M_CODES     (D_OP_LAST + 4)
static const char *op_name(int m)
{
	static const char *names[] = {
		"nop", "create", "lookup", "copy", "delete", "run", "select", "acquire_read",
		"commit_read", "release_read", "acquire_write", "commit_write", "release_write",
		"ref_info", "stats", "notify", "delegated",
	};
	if (m == 0)
		return "(between calls)";
	if (m == M_BATCH)
		return "batch";
	if (m == M_SETUP)
		return "(setting up)";
	if (m == M_WAIT)
		return "wait";
	if (m - 1 < (int)(sizeof names / sizeof names[0]))
		return names[m - 1];
	return "?";
}

/* What each peer reports to the parent (shared memory). */
struct peer_res {
	uint64_t kills, early, spawned, forked;
	uint64_t in_kind[NKINDS];
	uint64_t in_op[M_CODES + 1];
	uint64_t kind_op[NKINDS][M_CODES + 1];
	uint64_t records;                       /* FIFO records checked */
	uint64_t max_epipe_read_ns, max_epipe_write_ns, max_status_ns;
	int done;
};
static struct peer_res *g_res;

static int g_long;
static pid_t g_parent;

/* ---- small utilities ----------------------------------------------------------------- */

static uint64_t rnd_state;
static uint64_t rnd(void)
{
	uint64_t x = rnd_state;
	x ^= x << 13; x ^= x >> 7; x ^= x << 17;
	return rnd_state = x;
}
static void rnd_seed(uint64_t s)
{
	rnd_state = s * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
	if (!rnd_state)
		rnd_state = 1;
	for (int i = 0; i < 4; i++)
		rnd();
}

static uint64_t rec_check(uint64_t seq, uint64_t salt) { return seq * 0x9e3779b97f4a7c15ull ^ salt; }

static void shared_name(const char *what, int i, dios_name_t *out)
{
	char s[96];
	snprintf(s, sizeof s, "t_crash_tasks/%d/%s/%d", (int)g_parent, what, i);
	CHECK_EQ(dios_name_from_string(s, out), 0);
}

/* ---- the watchdog: any peer wait longer than WATCHDOG_S fails the test ---------------- */

static const char *volatile wd_what = "";
static void wd_fire(int sig)
{
	(void)sig;
	char buf[200];
	int n = snprintf(buf, sizeof buf, "HANG: [pid %d] a peer waited more than %d s in: %s\n",
			 (int)getpid(), WATCHDOG_S, wd_what);
	if (write(2, buf, (size_t)n) < 0) {
		/* dying anyway */
	}
	_exit(T_EXIT_FAIL);
}
static void wd_arm(const char *what)
{
	wd_what = what;
	alarm(WATCHDOG_S);
}
static void wd_disarm(void) { alarm(0); }

/* ---- the victim ---------------------------------------------------------------------- */

struct vctx {
	dios_ref_t *v2p, *p2v;                  /* victim writes v2p, reads p2v */
	volatile uint32_t *marker;
	uint64_t salt;
	int kind;
	int spawned;
	int tty;                                /* its stdin/stdout are a pseudo-terminal */
};

#define IN(op) (*c->marker = (uint32_t)(op) + 1)
#define OUT()  (*c->marker = 0)

/* A victim's call failed where it must not: say so and exit 3 (the peer expects SIGKILL). */
#define VCHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "victim (%s, pid %d) %s:%d: CHECK(%s) failed\n", kind_name[c->kind], \
		(int)getpid(), __FILE__, __LINE__, #cond); _exit(3); } } while (0)
#define VCHECK_EQ(a, b) do { long long va_ = (long long)(a), vb_ = (long long)(b); if (va_ != vb_) { \
	fprintf(stderr, "victim (%s, pid %d) %s:%d: %s = %lld %s, want %lld\n", kind_name[c->kind], \
		(int)getpid(), __FILE__, __LINE__, #a, va_, dt_errname(va_), vb_); _exit(3); } } while (0)

static uint64_t v_wseq, v_rseq;

static void v_put_records(struct vctx *c, int n, uint64_t flags)
{
	dios_iovec_t *iov = NULL;
	IN(D_OP_ACQUIRE_WRITE);
	int rc = dios_acquire_write(flags, c->v2p, (uint64_t)n * REC, &iov);
	OUT();
	if (rc == -EAGAIN && (flags & D_NONBLOCK))
		return;
	VCHECK_EQ(rc, 0);
	uint64_t *p = iov->buf;
	for (int i = 0; i < n; i++) {
		p[2 * i] = v_wseq + (uint64_t)i;
		p[2 * i + 1] = rec_check(v_wseq + (uint64_t)i, c->salt);
	}
	IN(D_OP_COMMIT_WRITE);
	rc = dios_commit_write(0, c->v2p, (uint64_t)n * REC, iov);
	OUT();
	VCHECK_EQ(rc, 0);
	v_wseq += (uint64_t)n;
	IN(D_OP_RELEASE_WRITE);
	rc = dios_release_write(0, c->v2p, iov);
	OUT();
	VCHECK_EQ(rc, 0);
}

/* Reads what the peer sent (blocking or not); checks every record. */
static void v_get_records(struct vctx *c, uint64_t flags)
{
	dios_iovec_t *iov = NULL;
	IN(D_OP_ACQUIRE_READ);
	int rc = dios_acquire_read(flags, c->p2v, 0, &iov);
	OUT();
	if (rc == -EAGAIN && (flags & D_NONBLOCK))
		return;
	VCHECK_EQ(rc, 0);
	VCHECK_EQ(iov->len % REC, 0);
	const uint64_t *p = iov->buf;
	for (uint64_t i = 0; i < iov->len / REC; i++) {
		VCHECK_EQ(p[2 * i], v_rseq);
		VCHECK_EQ(p[2 * i + 1], rec_check(v_rseq, ~c->salt));
		v_rseq++;
	}
	IN(D_OP_COMMIT_READ);
	rc = dios_commit_read(0, c->p2v, iov);
	OUT();
	VCHECK_EQ(rc, 0);
	IN(D_OP_RELEASE_READ);
	rc = dios_release_read(0, c->p2v, iov);
	OUT();
	VCHECK_EQ(rc, 0);
}

static dios_ref_t *v_lookup(struct vctx *c, const dios_name_t *n, uint64_t flags)
{
	dios_ref_t *r = NULL;
	uint64_t cnt = 1;
	IN(D_OP_LOOKUP);
	int rc = dios_lookup(flags, n, &r, &cnt);
	OUT();
	VCHECK_EQ(rc, 0);
	VCHECK_EQ(cnt, 1);
	return r;
}

static void v_delete(struct vctx *c, dios_ref_t *r)
{
	IN(D_OP_DELETE);
	int rc = dios_delete(0, r);
	OUT();
	VCHECK_EQ(rc, 0);
}

static void v_create_delete(struct vctx *c)
{
	static const dios_object_type_t types[] = { D_OBJ_PRIVMEM, D_OBJ_SHMEM, D_OBJ_FIFO, D_OBJ_BLOB, D_OBJ_GROUP };
	/* a group's creator stays a member after deleting its reference: at most 64 groups per task */
	static int groups;
	dios_object_type_t t = types[rnd() % (groups < 32 ? 5 : 4)];
	groups += t == D_OBJ_GROUP;
	uint64_t size = 4096 << (rnd() % 5);
	dios_name_t name;
	int named = (int)(rnd() % 3 == 0) && t != D_OBJ_BLOB;    /* a named blob is durable: never leaves */
	dios_ref_t *r = NULL;
	IN(D_OP_CREATE);
	int rc = dios_create(0, t, t == D_OBJ_GROUP ? NULL : &size, named ? &name : NULL, &r, 0);
	OUT();
	VCHECK_EQ(rc, 0);
	if (t == D_OBJ_SHMEM || t == D_OBJ_PRIVMEM || t == D_OBJ_BLOB) {
		/* the backing exists once acquired: kills then leave a segment to release */
		dios_iovec_t *iov = NULL;
		IN(D_OP_ACQUIRE_WRITE);
		rc = dios_acquire_write(0, r, 0, &iov);
		OUT();
		VCHECK_EQ(rc, 0);
	}
	v_delete(c, r);
}

static void v_mem_io(struct vctx *c, dios_ref_t *r, uint64_t len, int verify)
{
	dios_iovec_t *w = NULL, *rd = NULL;
	IN(D_OP_ACQUIRE_WRITE);
	int rc = dios_acquire_write(0, r, len, &w);
	OUT();
	VCHECK_EQ(rc, 0);
	uint32_t seed = (uint32_t)rnd();
	dt_fill(w->buf, len, seed);
	IN(D_OP_COMMIT_WRITE);
	rc = dios_commit_write(0, r, len, w);
	OUT();
	VCHECK_EQ(rc, 0);
	IN(D_OP_ACQUIRE_READ);
	rc = dios_acquire_read(0, r, len, &rd);
	OUT();
	VCHECK_EQ(rc, 0);
	if (verify)
		VCHECK_EQ(dt_verify(rd->buf, len, seed), -1);
	IN(D_OP_COMMIT_READ);
	rc = dios_commit_read(0, r, rd);
	OUT();
	VCHECK(rc == 0 || rc == -ESTALE);       /* another victim may share the object */
	IN(D_OP_RELEASE_READ);
	rc = dios_release_read(0, r, rd);
	OUT();
	VCHECK_EQ(rc, 0);
	IN(D_OP_RELEASE_WRITE);
	rc = dios_release_write(0, r, w);
	OUT();
	VCHECK_EQ(rc, 0);
}

static dios_ref_t *v_spawn(struct vctx *c, dios_ref_t *exe, const char *mode, dios_ref_t **refs, uint64_t n)
{
	char *argv[] = { "t_crash_tasks", (char *)mode, NULL };
	dios_task_spec_t spec = { .argc = 2, .argv = argv, .refs = refs, .ref_count = n };
	dios_ref_t *t = NULL;
	IN(D_OP_RUN);
	int rc = dios_run(0, exe, &spec, &t);
	OUT();
	VCHECK_EQ(rc, 0);
	return t;
}

/* A sleeper child: lives until the FIFO its parent (the victim) writes ends. */
static dios_ref_t *v_sleeper(struct vctx *c, dios_ref_t *exe, dios_ref_t **fifo_out)
{
	dios_ref_t *f = NULL;
	uint64_t cap = 4096;
	IN(D_OP_CREATE);
	int rc = dios_create(0, D_OBJ_FIFO, &cap, NULL, &f, 0);
	OUT();
	VCHECK_EQ(rc, 0);
	*fifo_out = f;
	dios_ref_t *t = v_spawn(c, exe, "sleeper", &f, 1);
	/*
	 * Bind the writer end now (the sleeper's copy could take it otherwise, and
	 * its input would never end); not before the spawn: while we alone held the
	 * FIFO, binding one end would leave no reader.
	 */
	dios_iovec_t *iov = NULL;
	IN(D_OP_ACQUIRE_WRITE);
	rc = dios_acquire_write(0, f, 1, &iov);
	OUT();
	VCHECK_EQ(rc, 0);
	IN(D_OP_RELEASE_WRITE);
	rc = dios_release_write(0, f, iov);
	OUT();
	VCHECK_EQ(rc, 0);
	return t;
}

static void victim_loop(struct vctx *c)
{
	dios_name_t shm_name;
	shared_name("shm", 0, &shm_name);
	*c->marker = M_SETUP;
	dios_ref_t *exe = NULL;
	if (c->kind == K_RUN || c->kind == K_COPY || c->kind == K_WAIT || c->kind == K_MIX) {
		exe = dios_pickref(dios_self_exe());
		VCHECK(exe != NULL);
	}
	/* the peer wrote one record: reading it binds our reader end of p2v */
	v_get_records(c, 0);
	*c->marker = M_SETUP;

	/* kind-specific state, made before we say we are ready */
	dios_ref_t *own = NULL, *shared = NULL, *blob = NULL, *anonblob = NULL, *sleeper = NULL, *sfifo = NULL;
	dios_ref_t *never = NULL;
	uint64_t size = SHM_SIZE;
	if (c->kind == K_SHM_IO || c->kind == K_BATCH || c->kind == K_MIX || c->kind == K_COPY) {
		VCHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &own, 0), 0);
		shared = v_lookup(c, &shm_name, 0);
	}
	if (c->kind == K_BLOB_IO || c->kind == K_MIX) {
		dios_name_t bn;
		shared_name("blob", (int)(rnd() % NBLOBS), &bn);
		blob = v_lookup(c, &bn, 0);
		VCHECK_EQ(dios_create(0, D_OBJ_BLOB, NULL, NULL, &anonblob, 0), 0);
	}
	if (c->kind == K_COPY || c->kind == K_WAIT || c->kind == K_MIX)
		sleeper = v_sleeper(c, exe, &sfifo);
	dios_ref_t *con = NULL;
	if (c->kind == K_CONSOLE || c->kind == K_MIX) {
		dios_name_t cn;
		VCHECK_EQ(dios_name_from_string(DIOS_CONSOLE_NAME_STRING, &cn), 0);
		con = v_lookup(c, &cn, 0);
	}
	if (c->kind == K_SELECT || c->kind == K_MIX) {
		/* a FIFO only we hold (both permissions, no end bound): never ready for reading */
		uint64_t cap = 4096;
		VCHECK_EQ(dios_create(0, D_OBJ_FIFO, &cap, NULL, &never, 0), 0);
	}
	/* ready: the first record (seq 0) */
	v_put_records(c, 1, 0);
	*c->marker = 0;

	uint64_t anon_len = 4096;
	int mix = c->kind == K_MIX;             /* a mix never parks for good */
	for (uint64_t iter = 0;; iter++) {
		int k = c->kind == K_MIX ? (int)(rnd() % K_MIX) : c->kind;
		switch (k) {
		case K_CREATE:
			v_create_delete(c);
			break;
		case K_LOOKUP: {
			dios_ref_t *r = v_lookup(c, &shm_name, rnd() & 1 ? D_LOOKUP_READONLY : 0);
			v_delete(c, r);
			break;
		}
		case K_DELETE: {
			dios_ref_t *r[8];
			for (int i = 0; i < 8; i++)
				r[i] = v_lookup(c, &shm_name, 0);
			for (int i = 0; i < 8; i++)
				v_delete(c, r[i]);
			break;
		}
		case K_COPY: {
			if (!sleeper)
				break;
			dios_ref_t *r[2] = { own ? own : c->v2p, shared ? shared : c->p2v };
			IN(D_OP_COPY);
			int rc = dios_copy(rnd() & 1 ? D_COPY_READONLY : 0, r, 2, sleeper);
			OUT();
			VCHECK(rc == 0 || rc == -ENOMEM);   /* the sleeper drains its inbox, slower than we copy */
			if (rc == -ENOMEM)
				usleep(200);
			break;
		}
		case K_RUN: {
			if (!exe)
				break;
			dios_ref_t *t = v_spawn(c, exe, rnd() & 1 ? "exit0" : "nop0", NULL, 0);
			int st = 0;
			*c->marker = M_WAIT;
			int rc = dios_wait(0, t, &st);
			OUT();
			VCHECK_EQ(rc, 0);
			VCHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
			v_delete(c, t);
			break;
		}
		case K_WAIT: {
			if (!sleeper)
				break;
			int st = 0;
			*c->marker = M_WAIT;
			int rc = dios_wait(!mix && rnd() % 4 ? 0 : D_NONBLOCK, sleeper, &st);   /* blocks until we die */
			OUT();
			VCHECK_EQ(rc, -EAGAIN);
			usleep(100);
			break;
		}
		case K_SELECT: {
			if (!never)
				break;
			dios_ref_t *set[2] = { never, c->p2v }, *ready = NULL;
			/* mostly parked for good; sometimes a non-blocking look at both */
			int nb = mix || rnd() % 4 == 0;
			IN(D_OP_SELECT);
			int rc = dios_select(nb ? D_NONBLOCK : 0, set, nb ? 2 : 1, &ready);
			OUT();
			if (nb)
				VCHECK(rc == 0 || rc == -EAGAIN);
			else
				VCHECK_EQ(rc, 0 - 999);     /* a blocking select on `never` cannot return */
			break;
		}
		case K_SHM_IO:
			if (own)
				v_mem_io(c, own, 4096 << (rnd() % 5), 1);
			if (shared)
				v_mem_io(c, shared, 4096, 0);
			break;
		case K_BLOB_IO:
			if (blob)
				v_mem_io(c, blob, 4096, 0);     /* durable: each commit is an fdatasync */
			if (anonblob) {
				anon_len = anon_len >= 1024 * 1024 ? 4096 : anon_len * 2;
				v_mem_io(c, anonblob, anon_len, 1);   /* grows: new mapping generations */
			}
			break;
		case K_FIFO_IO:
			v_put_records(c, 1 + (int)(rnd() % 64), iter & 1 ? D_NONBLOCK : 0);
			v_get_records(c, D_NONBLOCK);
			break;
		case K_DELEGATED: {
			dios_ref_t *r[8];
			uint64_t n = 8;
			IN(D_OP_DELEGATED);
			int rc = dios_delegated(0, r, &n);
			OUT();
			VCHECK_EQ(rc, 0);
			for (uint64_t i = 0; i < n; i++)
				v_delete(c, r[i]);
			break;
		}
		case K_BATCH: {
			if (!own || !shared)
				break;
			dios_call_t b[5];
			dios_iovec_t *iov = NULL;
			dios_ref_info_t info;
			memset(b, 0, sizeof b);
			b[0].opcode = D_OP_CREATE; b[0].type = D_OBJ_SHMEM; b[0].arg = &size;
			b[1].opcode = D_OP_LOOKUP; b[1].name = &shm_name;
			b[2].opcode = D_OP_ACQUIRE_READ; b[2].ref = own;
			b[3].opcode = D_OP_REF_INFO; b[3].ref = shared; b[3].info = &info;
			b[4].opcode = D_OP_NOP;
			*c->marker = M_BATCH;
			int rc = dios_batch(b, 5);
			OUT();
			VCHECK_EQ(rc, 0);
			for (int i = 0; i < 5; i++)
				VCHECK_EQ(b[i].res, 0);
			iov = b[2].iov;
			dios_call_t d[4];
			memset(d, 0, sizeof d);
			d[0].opcode = D_OP_COMMIT_READ; d[0].ref = own; d[0].iov = iov;
			d[1].opcode = D_OP_RELEASE_READ; d[1].ref = own; d[1].iov = iov;
			d[2].opcode = D_OP_DELETE; d[2].ref = b[0].ref;
			d[3].opcode = D_OP_DELETE; d[3].ref = b[1].ref;
			*c->marker = M_BATCH;
			rc = dios_batch(d, 4);
			OUT();
			VCHECK_EQ(rc, 0);
			for (int i = 0; i < 4; i++)
				VCHECK_EQ(d[i].res, 0);
			break;
		}
		case K_CONSOLE: {
			if (!con)
				break;
			/*
			 * On a terminal (forked victims get a pseudo-terminal nobody reads or
			 * types into) writes park once it is full, and reads park at once.
			 * Without one, a commit goes to the daemon's log: rarely.
			 */
			dios_iovec_t *iov = NULL;
			IN(D_OP_ACQUIRE_WRITE);
			int rc = dios_acquire_write(0, con, 64, &iov);
			OUT();
			VCHECK_EQ(rc, 0);
			memset(iov->buf, 'k', 63);
			((char *)iov->buf)[63] = '\n';
			if (c->tty || rnd() % 64 == 0) {
				IN(D_OP_COMMIT_WRITE);
				rc = dios_commit_write(0, con, 64, iov);
				OUT();
				VCHECK_EQ(rc, 0);
			}
			IN(D_OP_RELEASE_WRITE);
			rc = dios_release_write(0, con, iov);
			OUT();
			VCHECK_EQ(rc, 0);
			if (!mix && rnd() % 8 == 0) {
				IN(D_OP_ACQUIRE_READ);
				rc = dios_acquire_read(0, con, 0, &iov);
				OUT();
				VCHECK_EQ(rc, c->tty ? 0 - 999 : -EPIPE);   /* on a terminal: nothing is ever typed */
			}
			break;
		}
		default:
			break;
		}
	}
}

/* dios_run'd victim: argv = victim KIND SALT PARENT */
static int victim_spawned(int argc, char **argv)
{
	if (argc < 5)
		return 2;
	struct vctx cx = { .kind = atoi(argv[2]), .salt = strtoull(argv[3], NULL, 10), .spawned = 1 };
	struct vctx *c = &cx;
	g_parent = (pid_t)atoi(argv[4]);
	rnd_seed(cx.salt ^ (uint64_t)getpid());
	static uint32_t early_marker = M_SETUP;
	c->marker = &early_marker;
	dios_ref_t *r[3];
	uint64_t n = 3;
	VCHECK_EQ(dios_delegated(0, r, &n), 0);
	VCHECK_EQ(n, 3);
	cx.v2p = r[0];
	cx.p2v = r[1];
	dios_iovec_t *m = NULL;
	VCHECK_EQ(dios_acquire_write(0, r[2], 0, &m), 0);
	cx.marker = m->buf;
	*cx.marker = M_SETUP;
	victim_loop(c);
	return 4;
}

/* A child of a victim (K_COPY, K_WAIT): take what is copied in, end with the FIFO. */
static int sleeper_main(void)
{
	alarm(300);
	dios_ref_t *f = NULL;
	uint64_t n = 1;
	if (dios_delegated(0, &f, &n) != 0 || n != 1)
		return 2;
	for (;;) {
		dios_ref_t *r[16];
		uint64_t k = 16;
		if (dios_delegated(0, r, &k) != 0)
			return 3;
		for (uint64_t i = 0; i < k; i++)
			if (dios_delete(0, r[i]) != 0)
				return 4;
		dios_iovec_t *iov = NULL;
		int rc = dios_acquire_read(D_NONBLOCK, f, 0, &iov);
		if (rc == -EPIPE)
			return 0;
		if (rc == 0) {
			dios_release_read(0, f, iov);
			continue;
		}
		if (rc != -EAGAIN)
			return 5;
		if (k == 0)
			usleep(1000);
	}
}

/* ---- the peer ------------------------------------------------------------------------ */

struct killer {
	pid_t pid;
	uint64_t delay_ns;
	uint64_t t_kill;
};

static void *killer_main(void *arg)
{
	struct killer *k = arg;
	struct timespec ts = { (time_t)(k->delay_ns / 1000000000ull), (long)(k->delay_ns % 1000000000ull) };
	nanosleep(&ts, NULL);
	k->t_kill = dt_now_ns();
	kill(k->pid, SIGKILL);
	return NULL;
}

static dios_ref_t *mk_fifo(dios_name_t *name)
{
	dios_ref_t *r = NULL;
	uint64_t cap = FIFO_CAP;
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, &cap, name, &r, 0), 0);
	return r;
}

static uint64_t p_wseq;

/* Peer writes n records to p2v; returns 0, -EAGAIN (full, non-blocking) or -EPIPE. */
static int p_put(dios_ref_t *p2v, int n, uint64_t salt, uint64_t flags)
{
	dios_iovec_t *iov = NULL;
	int rc = dios_acquire_write(flags, p2v, (uint64_t)n * REC, &iov);
	if (rc == -EAGAIN || rc == -EPIPE)
		return rc;
	CHECK_EQ(rc, 0);
	uint64_t *p = iov->buf;
	for (int i = 0; i < n; i++) {
		p[2 * i] = p_wseq + (uint64_t)i;
		p[2 * i + 1] = rec_check(p_wseq + (uint64_t)i, ~salt);
	}
	rc = dios_commit_write(0, p2v, (uint64_t)n * REC, iov);
	CHECK(rc == 0 || rc == -EPIPE);         /* the reader may go between acquire and commit */
	CHECK_EQ(dios_release_write(0, p2v, iov), 0);
	if (rc == 0)
		p_wseq += (uint64_t)n;
	return rc;
}

/* Reads v2p (blocking); checks the records.  0 or -EPIPE. */
static int p_get(dios_ref_t *v2p, uint64_t *seq, uint64_t salt, struct peer_res *res)
{
	dios_iovec_t *iov = NULL;
	int rc = dios_acquire_read(0, v2p, 0, &iov);
	if (rc == -EPIPE)
		return rc;
	CHECK_EQ(rc, 0);
	CHECK_EQ(iov->len % REC, 0);
	const uint64_t *p = iov->buf;
	for (uint64_t i = 0; i < iov->len / REC; i++) {
		CHECK_EQ(p[2 * i], *seq);
		CHECK_EQ(p[2 * i + 1], rec_check(*seq, salt));
		(*seq)++;
	}
	res->records += iov->len / REC;
	CHECK_EQ(dios_release_read(0, v2p, iov), 0);
	return 0;
}

static void peer_cycle(int peer, uint64_t cycle, int kind, int spawned, dios_ref_t *exe, struct peer_res *res)
{
	uint64_t salt = rnd();
	dios_name_t n_v2p, n_p2v;
	dios_ref_t *v2p = mk_fifo(spawned ? NULL : &n_v2p);
	dios_ref_t *p2v = mk_fifo(spawned ? NULL : &n_p2v);
	p_wseq = 0;

	volatile uint32_t *marker = NULL;
	dios_ref_t *mref = NULL, *task = NULL;
	dios_iovec_t *miov = NULL;
	static volatile uint32_t *fork_marker;
	int ptm = -1;
	pid_t vpid;
	int early = spawned && rnd() % 10 == 0;
	if (spawned) {
		uint64_t msize = 4096;
		CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &msize, NULL, &mref, 0), 0);
		CHECK_EQ(dios_acquire_write(0, mref, 0, &miov), 0);
		marker = miov->buf;
		*marker = M_SETUP;
		char ks[16], ss[32], ps[16];
		snprintf(ks, sizeof ks, "%d", kind);
		snprintf(ss, sizeof ss, "%llu", (unsigned long long)salt);
		snprintf(ps, sizeof ps, "%d", (int)g_parent);
		char *argv[] = { "t_crash_tasks", "victim", ks, ss, ps, NULL };
		dios_ref_t *refs[3] = { v2p, p2v, mref };
		dios_task_spec_t spec = { .argc = 5, .argv = argv, .refs = refs, .ref_count = 3 };
		wd_arm("dios_run of a victim");
		CHECK_EQ(dios_run(0, exe, &spec, &task), 0);
		wd_disarm();
		dios_ref_info_t info;
		CHECK_EQ(dios_ref_info(task, &info), 0);
		vpid = (pid_t)info.size;
		CHECK(vpid > 0);
		res->spawned++;
	} else {
		if (!fork_marker) {
			fork_marker = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
			CHECK(fork_marker != MAP_FAILED);
		}
		marker = fork_marker;
		*marker = M_SETUP;
		char pts[64] = "";
		if (kind == K_CONSOLE || kind == K_MIX) {
			/* a terminal of its own: the daemon holds it, parks console reads and full writes on it */
			ptm = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
			CHECK(ptm >= 0);
			CHECK_EQ(grantpt(ptm), 0);
			CHECK_EQ(unlockpt(ptm), 0);
			CHECK_EQ(ptsname_r(ptm, pts, sizeof pts), 0);
		}
		fflush(NULL);
		vpid = fork();
		CHECK(vpid >= 0);
		if (vpid == 0) {
			struct vctx cx = { .kind = kind, .salt = salt, .marker = fork_marker };
			struct vctx *c = &cx;
			signal(SIGALRM, SIG_DFL);
			alarm(0);
			if (pts[0]) {
				setsid();                       /* the terminal becomes its controlling one */
				int t = open(pts, O_RDWR);
				CHECK(t >= 0);
				dup2(t, 0);
				dup2(t, 1);
				if (t > 2)
					close(t);
				cx.tty = 1;
			}
			rnd_seed(salt ^ (uint64_t)getpid());
			cx.v2p = v_lookup(c, &n_v2p, 0);
			cx.p2v = v_lookup(c, &n_p2v, 0);
			victim_loop(c);
			_exit(4);
		}
		res->forked++;
	}

	/*
	 * The victim's first read binds its end of p2v.  Written only now: while we
	 * alone held the anonymous FIFO, binding our end would leave no reader.
	 */
	int rc0 = p_put(p2v, 1, salt, 0);
	if (rc0 != 0 && !(early && rc0 == -EPIPE))
		CHECK_EQ(rc0, 0);

	uint64_t seq = 0;
	struct killer k = { .pid = vpid };
	if (early) {
		k.delay_ns = rnd() % 3000000ull;        /* registering, taking its references, setting up */
		res->early++;
	} else {
		wd_arm("the victim's first record");
		int rc = p_get(v2p, &seq, salt, res);
		wd_disarm();
		if (rc != 0 || seq == 0)
			dt_fail(__FILE__, __LINE__, "peer %d: victim (%s) ended before it was ready", peer, kind_name[kind]);
		/* slow kinds get longer lives, so kills land inside their calls too */
		uint64_t span = (kind == K_RUN || kind == K_BLOB_IO || kind == K_COPY || kind == K_MIX) ? 40 : 15;
		k.delay_ns = rnd() % (span * 1000000ull);
	}
	pthread_t kt;
	CHECK_EQ(pthread_create(&kt, NULL, killer_main, &k), 0);

	/* stream until the victim's end goes: reads block, so most kills find us waiting */
	wd_arm("reading the victim's FIFO (must end with -EPIPE)");
	for (;;) {
		int rc = p_get(v2p, &seq, salt, res);
		if (rc == -EPIPE)
			break;
		rc = p_put(p2v, 1 + (int)(rnd() % 16), salt, D_NONBLOCK);
		CHECK(rc == 0 || rc == -EAGAIN || rc == -EPIPE);
	}
	uint64_t t_epipe_r = dt_now_ns();
	wd_disarm();
	CHECK_EQ(pthread_join(kt, NULL), 0);
	/* our end of p2v: a write that needs the whole FIFO (blocks unless the reader is gone) */
	wd_arm("writing to the victim's FIFO (must end with -EPIPE)");
	int rc;
	do
		rc = p_put(p2v, FIFO_CAP / REC, salt, 0);
	while (rc == 0);
	CHECK_EQ(rc, -EPIPE);
	uint64_t t_epipe_w = dt_now_ns();
	wd_disarm();

	/* the exit status */
	wd_arm("the victim's exit status");
	if (spawned) {
		int st = 0;
		CHECK_EQ(dios_wait(0, task, &st), 0);
		if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL))
			dt_fail(__FILE__, __LINE__, "peer %d: victim (%s) ended with status %#x, not SIGKILL", peer,
				kind_name[kind], st);
	} else {
		int st = dt_wait_child(vpid);
		if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL))
			dt_fail(__FILE__, __LINE__, "peer %d: forked victim (%s) ended with status %#x, not SIGKILL",
				peer, kind_name[kind], st);
	}
	uint64_t t_status = dt_now_ns();
	wd_disarm();

	if (ptm >= 0)
		close(ptm);
	uint32_t m = *marker;
	res->kills++;
	res->in_kind[kind]++;
	res->in_op[m <= M_CODES ? m : M_CODES]++;
	res->kind_op[kind][m <= M_CODES ? m : M_CODES]++;
	uint64_t d;
	if (t_epipe_r > k.t_kill && (d = t_epipe_r - k.t_kill) > res->max_epipe_read_ns)
		res->max_epipe_read_ns = d;
	if (t_epipe_w > k.t_kill && (d = t_epipe_w - k.t_kill) > res->max_epipe_write_ns)
		res->max_epipe_write_ns = d;
	if (t_status > k.t_kill && (d = t_status - k.t_kill) > res->max_status_ns)
		res->max_status_ns = d;

	if (task)
		CHECK_EQ(dios_delete(0, task), 0);
	if (mref) {
		CHECK_EQ(dios_release_write(0, mref, miov), 0);
		CHECK_EQ(dios_delete(0, mref), 0);
	}
	CHECK_EQ(dios_delete(0, v2p), 0);
	CHECK_EQ(dios_delete(0, p2v), 0);
	(void)cycle;
}

static void peer_main(int peer, int cycles, int warmup)
{
	signal(SIGALRM, wd_fire);
	rnd_seed((uint64_t)getpid() * 1000003u ^ dt_now_ns());
	struct peer_res *res = &g_res[peer];
	dios_ref_t *exe = dios_pickref(dios_self_exe());
	CHECK(exe != NULL);
	for (int i = 0; i < cycles; i++) {
		/* every kind, both ways of starting, in every peer */
		int kind = (peer + i) % NKINDS;
		int spawned = warmup ? (i / NKINDS) % 2 == 0 : (i % 3) != 2;
		peer_cycle(peer, (uint64_t)i, kind, spawned, exe, res);
	}
	CHECK_EQ(dios_delete(0, exe), 0);
	res->done = 1;
	_exit(0);
}

static void run_peers(int cycles_each, int warmup)
{
	pid_t pids[NPEERS];
	for (int p = 0; p < NPEERS; p++) {
		fflush(NULL);
		pids[p] = fork();
		CHECK(pids[p] >= 0);
		if (pids[p] == 0)
			peer_main(p, cycles_each, warmup);
	}
	for (int p = 0; p < NPEERS; p++)
		CHECK_CHILD_OK(pids[p]);
	for (int p = 0; p < NPEERS; p++)
		CHECK(g_res[p].done);
}

/* ---- the daemon's process: fds and mappings by kind ------------------------------------- */

#define MAXKEYS 64
struct census { int n; char key[MAXKEYS][64]; int count[MAXKEYS]; int total; };

/* "socket:[1234]" -> "socket", "/memfd:dios-fifo-12 (deleted)" -> "/memfd:dios-fifo-", a path -> its directory */
static void census_add(struct census *c, const char *target)
{
	char k[64];
	size_t j = 0;
	if (target[0] == '/' && strncmp(target, "/memfd:", 7) != 0) {
		const char *slash = strrchr(target, '/');
		size_t len = (size_t)(slash - target);
		if (len > sizeof k - 1)
			len = sizeof k - 1;
		memcpy(k, target, len);
		j = len;
	} else {
		for (size_t i = 0; target[i] && j < sizeof k - 1; i++) {
			char ch = target[i];
			if (ch == '[' || ch == ' ' || (ch >= '0' && ch <= '9'))
				break;
			k[j++] = ch;
		}
	}
	k[j] = 0;
	c->total++;
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->key[i], k) == 0) {
			c->count[i]++;
			return;
		}
	if (c->n < MAXKEYS) {
		snprintf(c->key[c->n], sizeof c->key[0], "%s", k);
		c->count[c->n++] = 1;
	}
}

static struct census fd_census(pid_t pid)
{
	struct census c = { 0 };
	char dir[64];
	snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(dir);
	if (!d)
		dt_fail(__FILE__, __LINE__, "opendir %s: %s", dir, strerror(errno));
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p[384], t[512];
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		ssize_t n = readlink(p, t, sizeof t - 1);
		if (n < 0)
			continue;               /* closed meanwhile */
		t[n] = 0;
		census_add(&c, t);
	}
	closedir(d);
	return c;
}

/* memfd mappings by kind (the daemon's share of task state); total counts every mapping */
static struct census map_census(pid_t pid)
{
	struct census c = { 0 };
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		dt_fail(__FILE__, __LINE__, "fopen %s: %s", path, strerror(errno));
	char line[1024];
	int total = 0;
	while (fgets(line, sizeof line, f)) {
		total++;
		char *m = strstr(line, "/memfd:");
		if (m)
			census_add(&c, m);
	}
	fclose(f);
	c.total = total;
	return c;
}

static int census_count(const struct census *c, const char *key)
{
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->key[i], key) == 0)
			return c->count[i];
	return 0;
}

/* Same counts for every key of either?  Prints the differences when print is set. */
static int census_same(const struct census *a, const struct census *b, int print, const char *what)
{
	int same = 1;
	for (int pass = 0; pass < 2; pass++) {
		const struct census *x = pass ? b : a, *y = pass ? a : b;
		for (int i = 0; i < x->n; i++) {
			int cx = x->count[i], cy = census_count(y, x->key[i]);
			if (cx != cy) {
				same = 0;
				if (print && (pass == 0 || census_count(a, x->key[i]) == 0))
					fprintf(stderr, "  %s '%s': baseline %d, now %d\n", what, x->key[i],
						pass ? cy : cx, pass ? cx : cy);
			}
		}
	}
	return same;
}

static void print_census(const char *label, const struct census *c)
{
	fprintf(stderr, "%s (%d):", label, c->total);
	for (int i = 0; i < c->n; i++)
		fprintf(stderr, " %s=%d", c->key[i], c->count[i]);
	fputc('\n', stderr);
}


/*
 * Live objects of the daemon's own classes, by `jcmd PID GC.class_histogram`
 * (a full GC first, so only what is reachable counts): a task's death that
 * leaves a Reference, a ParkedCall or a TaskObject behind shows here even when
 * no count in dios_daemon_stats covers it.  jcmd is found beside the
 * daemon's java; without it (a JRE) the check is skipped, and says so.
 * Returns the number of classes, or -1 without jcmd.
 */
#define MAXCLS 256
struct histo { int n; char cls[MAXCLS][256]; long count[MAXCLS]; long total_bytes; };

static int class_histogram(pid_t pid, struct histo *h)
{
	static char out[4 << 20];
	memset(h, 0, sizeof *h);
	if (dt_class_histogram(pid, out, sizeof out) != 0)
		return -1;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		long inst, bytes;
		char cls[256];
		if (sscanf(line, " %*d: %ld %ld %255s", &inst, &bytes, cls) == 3) {
			if (strstr(cls, "org.dios.") && !strstr(cls, "$$Lambda") && h->n < MAXCLS) {
				snprintf(h->cls[h->n], sizeof h->cls[0], "%s", cls);
				h->count[h->n++] = inst;
			}
		} else if (sscanf(line, "Total %ld %ld", &inst, &bytes) == 2) {
			h->total_bytes = bytes;
		}
	}
	return h->n;
}

static long histo_count(const struct histo *h, const char *cls)
{
	for (int i = 0; i < h->n; i++)
		if (strcmp(h->cls[i], cls) == 0)
			return h->count[i];
	return 0;
}

/* Classes whose live count differs; prints them. */
static int histo_diff(const struct histo *a, const struct histo *b)
{
	int bad = 0;
	for (int pass = 0; pass < 2; pass++) {
		const struct histo *x = pass ? b : a, *y = pass ? a : b;
		for (int i = 0; i < x->n; i++) {
			long cy = histo_count(y, x->cls[i]);
			if (cy != x->count[i] && (pass == 0 || histo_count(a, x->cls[i]) == 0)) {
				fprintf(stderr, "  live %s: baseline %ld, now %ld\n", x->cls[i],
					pass ? cy : x->count[i], pass ? x->count[i] : cy);
				bad++;
			}
		}
	}
	return bad;
}

static void check_daemon_log_clean(void)
{
	char path[600], line[2048];
	snprintf(path, sizeof path, "%s/diosd.log", dt_dir());
	FILE *f = fopen(path, "re");
	CHECK(f != NULL);
	int bad = 0;
	while (fgets(line, sizeof line, f))
		if (strstr(line, "internal error") || strstr(line, "Exception") || strstr(line, " error ") ||
		    strstr(line, "protocol violation") || strstr(line, "corrupt")) {
			if (bad++ < 10)
				fprintf(stderr, "daemon log: %s", line);
		}
	fclose(f);
	if (bad)
		dt_fail(__FILE__, __LINE__, "the daemon logged %d error line(s) while tasks were killed", bad);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "victim") == 0)
		return victim_spawned(argc, argv);
	if (argc > 1 && strcmp(argv[1], "sleeper") == 0)
		return sleeper_main();
	if (argc > 1 && strcmp(argv[1], "exit0") == 0)
		return 0;                       /* never calls DIOS: its exit is watched all the same */
	if (argc > 1 && strcmp(argv[1], "nop0") == 0)
		return dios_nop(0) == 0 ? 0 : 1;

	const char *l = getenv("DIOS_LONG");
	g_long = l && *l && strcmp(l, "0") != 0;
	int kills = g_long ? 10000 : 1000;
	const char *ks = getenv("CRASH_KILLS");
	if (ks && atoi(ks) > 0)
		kills = atoi(ks);
	int per_peer = (kills + NPEERS - 1) / NPEERS;
	alarm(g_long ? 3600 : 110);
	g_parent = getpid();
	g_res = mmap(NULL, sizeof(struct peer_res) * NPEERS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(g_res != MAP_FAILED);

	static const char *const dargs[] = { "--dumpable", NULL };   /* /proc/PID/fd of a non-root run */
	dt_daemon_args = dargs;
	pid_t dpid = dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);

	/* what victims share: a named SHMEM object and durable named blobs */
	uint64_t size = SHM_SIZE;
	dios_name_t n;
	dios_ref_t *shm = NULL, *blobs[NBLOBS];
	shared_name("shm", 0, &n);
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_SHMEM, &size, &n, &shm, 0), 0);
	for (int i = 0; i < NBLOBS; i++) {
		uint64_t bs = 4096;
		shared_name("blob", i, &n);
		CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_BLOB, &bs, &n, &blobs[i], 0), 0);
	}

	/* warm-up: every kind once per peer, both ways, so lazily made daemon state exists */
	uint64_t t0 = dt_now_ns();
	run_peers(2 * NKINDS, 1);
	memset(g_res, 0, sizeof(struct peer_res) * NPEERS);
	dios_daemon_stats_t base = dt_stats();
	/* a killed victim's children (sleepers) end a little after it: wait for the counts to settle */
	uint64_t settle0 = dt_now_ns();
	for (;;) {
		usleep(200000);
		dios_daemon_stats_t s = dt_stats();
		if (memcmp(&s, &base, sizeof s) == 0 && dt_now_ns() - settle0 > 500000000ull)
			break;
		base = s;
		if (dt_now_ns() - settle0 > 20000000000ull)
			dt_fail(__FILE__, __LINE__, "daemon counts did not settle after the warm-up");
	}
	/* jcmd first: the attach listener it starts keeps a socket open */
	static struct histo h0, h1;
	int have_jcmd = class_histogram(dpid, &h0) >= 0;
	struct census fd0 = fd_census(dpid), map0 = map_census(dpid);
	long rss0 = dt_rss_kib(dpid);
	dt_print_stats("baseline", &base);
	print_census("baseline fds", &fd0);
	print_census("baseline memfd maps", &map0);
	fprintf(stderr, "warm-up: %d victims in %.1f s\n", NPEERS * 2 * NKINDS, (dt_now_ns() - t0) / 1e9);

	t0 = dt_now_ns();
	run_peers(per_peer, 0);
	double secs = (dt_now_ns() - t0) / 1e9;

	/* the daemon's counts, fds and memfd mappings return to the baseline */
	dios_daemon_stats_t after = dt_wait_stats(&base, 30000);
	if (have_jcmd)
		class_histogram(dpid, &h1);
	struct census fd1, map1;
	uint64_t w0 = dt_now_ns();
	for (;;) {
		fd1 = fd_census(dpid);
		map1 = map_census(dpid);
		if ((census_same(&fd0, &fd1, 0, "") && census_same(&map0, &map1, 0, "")) ||
		    dt_now_ns() - w0 > 10000000000ull)
			break;
		usleep(100000);
	}
	long rss1 = dt_rss_kib(dpid);

	struct peer_res tot = { 0 };
	for (int p = 0; p < NPEERS; p++) {
		struct peer_res *r = &g_res[p];
		tot.kills += r->kills; tot.early += r->early; tot.spawned += r->spawned; tot.forked += r->forked;
		tot.records += r->records;
		for (int k = 0; k < NKINDS; k++)
			tot.in_kind[k] += r->in_kind[k];
		for (int m = 0; m <= M_CODES; m++) {
			tot.in_op[m] += r->in_op[m];
			for (int k = 0; k < NKINDS; k++)
				tot.kind_op[k][m] += r->kind_op[k][m];
		}
		if (r->max_epipe_read_ns > tot.max_epipe_read_ns) tot.max_epipe_read_ns = r->max_epipe_read_ns;
		if (r->max_epipe_write_ns > tot.max_epipe_write_ns) tot.max_epipe_write_ns = r->max_epipe_write_ns;
		if (r->max_status_ns > tot.max_status_ns) tot.max_status_ns = r->max_status_ns;
	}
	fprintf(stderr, "killed %llu tasks in %.1f s (%llu spawned, %llu forked, %llu while starting up); "
		"%llu FIFO records checked\n", (unsigned long long)tot.kills, secs, (unsigned long long)tot.spawned,
		(unsigned long long)tot.forked, (unsigned long long)tot.early, (unsigned long long)tot.records);
	fprintf(stderr, "victims by kind:");
	for (int k = 0; k < NKINDS; k++)
		fprintf(stderr, " %s=%llu", kind_name[k], (unsigned long long)tot.in_kind[k]);
	fprintf(stderr, "\nkilled inside:");
	for (int m = 0; m <= M_CODES; m++)
		if (tot.in_op[m])
			fprintf(stderr, " %s=%llu", op_name(m), (unsigned long long)tot.in_op[m]);
	for (int k = 0; k < NKINDS; k++) {
		fprintf(stderr, "\n  %s victims:", kind_name[k]);
		for (int m = 0; m <= M_CODES; m++)
			if (tot.kind_op[k][m])
				fprintf(stderr, " %s=%llu", op_name(m), (unsigned long long)tot.kind_op[k][m]);
	}
	fprintf(stderr, "\npeers: -EPIPE on read at most %.1f ms after the kill, on write %.1f ms, exit status %.1f ms\n",
		tot.max_epipe_read_ns / 1e6, tot.max_epipe_write_ns / 1e6, tot.max_status_ns / 1e6);
	dt_print_stats("after", &after);
	print_census("after fds", &fd1);
	print_census("after memfd maps", &map1);
	fprintf(stderr, "daemon RSS %ld KiB at the baseline, %ld KiB after\n", rss0, rss1);
	if (have_jcmd)
		fprintf(stderr, "daemon heap after a full GC: %ld KiB live at the baseline, %ld KiB after; "
			"%d classes of org.dios compared\n", h0.total_bytes / 1024, h1.total_bytes / 1024, h0.n);
	else
		fprintf(stderr, "no jcmd beside the daemon's java: live objects not compared\n");

	CHECK_EQ(tot.kills, (uint64_t)per_peer * NPEERS);
	CHECK_STATS_EQ(after, base);
	if (!census_same(&fd0, &fd1, 1, "fds of kind"))
		dt_fail(__FILE__, __LINE__, "the daemon's open fds are not back at the baseline");
	if (!census_same(&map0, &map1, 1, "memfd mappings of kind"))
		dt_fail(__FILE__, __LINE__, "the daemon's memfd mappings are not back at the baseline");
	/* the other mappings are the JVM's (code cache, metaspace, GC): a little growth is its own */
	if (map1.total > map0.total + MAPS_SLACK)
		dt_fail(__FILE__, __LINE__, "the daemon has %d mappings, %d at the baseline (slack %d)", map1.total,
			map0.total, MAPS_SLACK);
	if (have_jcmd && histo_diff(&h0, &h1))
		dt_fail(__FILE__, __LINE__, "the daemon holds more or fewer live objects of its own classes than at the baseline");
	/* every call type was hit while in progress */
	static const int must[] = { D_OP_CREATE, D_OP_LOOKUP, D_OP_COPY, D_OP_DELETE, D_OP_RUN, D_OP_SELECT,
		D_OP_ACQUIRE_READ, D_OP_COMMIT_READ, D_OP_RELEASE_READ, D_OP_ACQUIRE_WRITE, D_OP_COMMIT_WRITE,
		D_OP_RELEASE_WRITE, D_OP_DELEGATED };
	if (tot.kills >= 1000) {
		for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
			if (tot.in_op[must[i] + 1] == 0)
				dt_fail(__FILE__, __LINE__, "no kill landed inside %s", op_name(must[i] + 1));
		if (tot.in_op[M_BATCH] == 0)
			dt_fail(__FILE__, __LINE__, "no kill landed inside a batch");
	}
	check_daemon_log_clean();

	for (int i = 0; i < NBLOBS; i++)
		CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, blobs[i]), 0);
	CHECK_EQ(dios_delete(0, shm), 0);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
