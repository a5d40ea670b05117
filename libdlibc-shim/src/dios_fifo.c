/*
 * dios_fifo.c - FIFO ends: data moves in place, the daemon is called only to
 * wait or to wake a waiter (PROTOCOL.md section 5).
 *
 * The first acquire on a FIFO reference goes to the daemon, which binds the
 * reference as the reader or the writer end and sends two segments: the
 * control page (struct dios_fifo_ctl, read-write) and the data (mapped twice
 * back to back, read-only for the reader).  From then on:
 *   acquire_write  a buffer at tail % capacity, if capacity - (tail - head)
 *                  bytes are free; commit_write stores tail += len (release);
 *   acquire_read   the committed bytes at head % capacity, in place;
 *                  release_read stores head += len (release).
 * When there is no data (no space), the end spins for an adaptive while,
 * then sleeps on the futex of the other end's word (tail for a reader, head
 * for a writer) after setting its bit in ctl->waiters; the other end, after
 * its store, clears the bit and wakes it (a Dekker pair: store, full fence,
 * load; one wake-up, as with a pipe).  The daemon is the watchdog: when an end
 * goes or the FIFO is zombified it sets ctl->state and wakes both words, and
 * a sleeper also wakes every 100 ms to check that the daemon is alive.  A
 * dios_select parked in the daemon sets D_FIFO_NOTIFY_*: then the end also
 * sends D_OP_NOTIFY.  The daemon reads tail and head only as hints.
 *
 * One buffer per end is out at a time (-EBUSY otherwise): the reader releases
 * what it acquired before the next acquire, the writer commits (or not) and
 * releases.  A FIFO buffer record keeps its acquired length in seg_id.
 *
 * The table of ends maps a reference id to its end; open addressing, in the
 * shim's own memory (dios_meta.c), under dios__fifo_lock.  Spinning happens with the lock released.
 */
#include "dios_internal.h"
#include "dios_heap.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>

#define FIFO_TABLE_MIN  64u
#define FIFO_SPIN_FLOOR 1000ull         /* ns: an end whose waits are long still spins this long */
#define FIFO_SPIN_WORTH 10000ull        /* ns: waits longer than this are cheaper slept than spun */

struct fifo_end {
	uint64_t ref_id;                /* 0: empty slot */
	struct dios_fifo_ctl *ctl;
	char *data;                     /* the data, mapped twice back to back */
	uint64_t cap;
	uint32_t role;                  /* D_FIFO_END_READER or D_FIFO_END_WRITER */
	uint32_t pad;
	uint64_t pos;                   /* reader: head; writer: tail (ours; ctl has the published copy) */
	struct dios_bufrec *rec;        /* the buffer that is out, or NULL */
	uint64_t spin_ns;               /* adaptive spin before sleeping */
	uint64_t wait_avg_ns;           /* moving average of how long waits took */
};

pthread_mutex_t dios__fifo_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fifo_end *table;
static size_t cap;
static size_t count;
static uint64_t next_buf_id = 1;

static size_t fifo_hash(uint64_t id)
{
	uint64_t x = id;                /* splitmix64 finaliser */
	x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27; x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return (size_t)x;
}

static struct fifo_end *find(uint64_t id)
{
	if (!cap || !id)
		return NULL;
	for (size_t i = fifo_hash(id) & (cap - 1);; i = (i + 1) & (cap - 1)) {
		if (!table[i].ref_id)
			return NULL;
		if (table[i].ref_id == id)
			return &table[i];
	}
}

static void place(struct fifo_end *t, size_t c, const struct fifo_end *e)
{
	size_t i = fifo_hash(e->ref_id) & (c - 1);
	while (t[i].ref_id)
		i = (i + 1) & (c - 1);
	t[i] = *e;
}

static int insert(const struct fifo_end *e)
{
	if ((count + 1) * 2 > cap) {
		size_t ncap = cap ? cap * 2 : FIFO_TABLE_MIN;
		void *p = dios__meta_alloc(ncap * sizeof *table);
		if (!p)
			return -ENOMEM;
		for (size_t i = 0; i < cap; i++)
			if (table[i].ref_id)
				place(p, ncap, &table[i]);
		if (table)
			dios__meta_free(table, cap * sizeof *table);
		table = p;
		cap = ncap;
	}
	place(table, cap, e);
	count++;
	return 0;
}

/* Backward-shift deletion, as in the segment cache. */
static void remove_end(struct fifo_end *e)
{
	size_t i = (size_t)(e - table), j = i;
	for (;;) {
		j = (j + 1) & (cap - 1);
		if (!table[j].ref_id)
			break;
		size_t home = fifo_hash(table[j].ref_id) & (cap - 1);
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			table[i] = table[j];
			i = j;
		}
	}
	memset(&table[i], 0, sizeof table[i]);
	count--;
}

void dios__fifo_forget(uint64_t ref_id)
{
	pthread_mutex_lock(&dios__fifo_lock);
	struct fifo_end *e = find(ref_id);
	if (e) {
		if (e->rec)
			dios__buf_free(e->rec);
		remove_end(e);
	}
	pthread_mutex_unlock(&dios__fifo_lock);
}

void dios__fifo_drop_all(void)
{
	pthread_mutex_lock(&dios__fifo_lock);
	if (table)
		memset(table, 0, cap * sizeof *table);
	__atomic_store_n(&count, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&dios__fifo_lock);
}

void dios__fifo_reset(void)
{
	pthread_mutex_init(&dios__fifo_lock, NULL);
	if (table)
		memset(table, 0, cap * sizeof *table);
	count = 0;
}

/* ---- the fast paths (under dios__fifo_lock) --------------------------------- */

enum { WOULD_WAIT = 1 };

/* The end's one buffer: n bytes at its position, handed to the caller.  0 or -ENOMEM. */
static int hand_out(struct fifo_end *e, struct dios_req *q, uint64_t n, uint32_t kind)
{
	struct dios_bufrec *r = dios__buf_alloc();
	if (!r)
		return -ENOMEM;
	r->iov.buf = e->data + e->pos % e->cap;
	r->iov.len = n;
	r->buf_id = next_buf_id++;
	r->ref_id = e->ref_id;
	r->seg_id = n;                  /* a FIFO record keeps its acquired length here */
	r->kind = kind;
	r->fifo = DIOS_BUF_FIFO_OUT;
	e->rec = r;
	*q->iov_out = &r->iov;
	return 0;
}

/* 0 (q->iov_out set), -errno, or WOULD_WAIT. */
static int read_try(struct fifo_end *e, struct dios_req *q)
{
	if (e->rec)
		return -EBUSY;
	/* acquire: the daemon's state before anything it implies */
	uint32_t st = __atomic_load_n(&e->ctl->state, __ATOMIC_ACQUIRE);
	if (st & D_FIFO_ST_ZOMBIE)
		return -EIDRM;
	/* acquire: the writer's bytes before its tail */
	uint64_t avail = dios__load_acquire64(&e->ctl->tail) - e->pos;
	if (avail > e->cap)
		return -EPROTO;                 /* the writer corrupted the control page */
	if (avail == 0) {
		if (st & D_FIFO_ST_WRITER_GONE)
			return -EPIPE;          /* the writer's last tail was stored before it went */
		return (q->flags & D_NONBLOCK) ? -EAGAIN : WOULD_WAIT;
	}
	uint64_t n = (q->len && q->len < avail) ? q->len : avail;
	return hand_out(e, q, n, DIOS_BUF_READ);
}

static int write_try(struct fifo_end *e, struct dios_req *q)
{
	if (e->rec)
		return -EBUSY;
	if (q->len > e->cap)
		return -EINVAL;                 /* could never fit */
	uint32_t st = __atomic_load_n(&e->ctl->state, __ATOMIC_ACQUIRE);
	if (st & D_FIFO_ST_ZOMBIE)
		return -EIDRM;
	if (st & D_FIFO_ST_READER_GONE)
		return -EPIPE;
	/* acquire: the reader is done with the bytes before its head */
	uint64_t used = e->pos - dios__load_acquire64(&e->ctl->head);
	if (used > e->cap)
		return -EPROTO;
	uint64_t space = e->cap - used;
	uint64_t need = q->len ? q->len : 1;
	if (space < need) {
		q->wait_len = need;
		return (q->flags & D_NONBLOCK) ? -EAGAIN : WOULD_WAIT;
	}
	uint64_t n = q->len ? q->len : space;
	return hand_out(e, q, n, DIOS_BUF_WRITE);
}

/* The buffer record behind q->iov, if it is this end's.  NULL: *err set. */
static struct dios_bufrec *own_rec(struct fifo_end *e, struct dios_req *q, uint32_t kind, int *err)
{
	if (!q->iov) {
		*err = -EINVAL;
		return NULL;
	}
	struct dios_bufrec *r = dios__buf_lookup(q->iov);
	if (!r) {
		*err = -EFAULT;
		return NULL;
	}
	if (r != e->rec || r->kind != kind || r->ref_id != e->ref_id) {
		*err = -EINVAL;
		return NULL;
	}
	return r;
}

/* The low 32 bits of tail or head: the futex word an end sleeps on (little-endian). */
static uint32_t *futex_word(uint64_t *p)
{
	return (uint32_t *)p;
}

/*
 * After our store to *word: wake the other end if it sleeps on it, and say
 * whether the daemon asked for a notify (a parked select).  Dekker pair with
 * the sleeper's "set bit; full fence; re-check" and the daemon's the same.
 */
static int wake_other(struct fifo_end *e, uint64_t *word, uint32_t wait_bit, uint32_t notify_bit)
{
	dios__fence_seq_cst();
	uint32_t w = __atomic_load_n(&e->ctl->waiters, __ATOMIC_RELAXED);
	if ((w & wait_bit) && (__atomic_fetch_and(&e->ctl->waiters, ~wait_bit, __ATOMIC_SEQ_CST) & wait_bit))
		syscall(SYS_futex, futex_word(word), FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);  /* shared: not _PRIVATE */
	return (w & notify_bit) != 0;
}

/* commit/release: 0 or -errno; *notify set when the other end must be woken. */
static int buffer_op(struct fifo_end *e, struct dios_req *q, int *notify)
{
	int err = 0;
	struct dios_bufrec *r;
	uint32_t st;
	switch (q->op) {
	case D_OP_COMMIT_WRITE:
		if (!(r = own_rec(e, q, DIOS_BUF_WRITE, &err)))
			return err;
		if (r->fifo != DIOS_BUF_FIFO_OUT || q->len > r->seg_id)
			return -EINVAL;         /* committed already, or longer than acquired */
		st = __atomic_load_n(&e->ctl->state, __ATOMIC_ACQUIRE);
		if (st & D_FIFO_ST_ZOMBIE)
			return -EIDRM;
		if (st & D_FIFO_ST_READER_GONE)
			return -EPIPE;
		e->pos += q->len;
		/* release: the bytes before the tail that publishes them */
		dios__store_release64(&e->ctl->tail, e->pos);
		r->fifo = DIOS_BUF_FIFO_COMMITTED;
		*notify = q->len && wake_other(e, &e->ctl->tail, D_FIFO_WAIT_READER, D_FIFO_NOTIFY_READ);
		return 0;
	case D_OP_RELEASE_WRITE:
		if (!(r = own_rec(e, q, DIOS_BUF_WRITE, &err)))
			return err;
		dios__buf_free(r);
		e->rec = NULL;
		return 0;
	case D_OP_COMMIT_READ:
		if (!(r = own_rec(e, q, DIOS_BUF_READ, &err)))
			return err;
		/* the writer never overwrites bytes before the reader releases them */
		st = __atomic_load_n(&e->ctl->state, __ATOMIC_ACQUIRE);
		return (st & D_FIFO_ST_ZOMBIE) ? -EIDRM : 0;
	case D_OP_RELEASE_READ:
		if (!(r = own_rec(e, q, DIOS_BUF_READ, &err)))
			return err;
		e->pos += r->seg_id;
		/* release: we are done reading before the writer may reuse the space */
		dios__store_release64(&e->ctl->head, e->pos);
		dios__buf_free(r);
		e->rec = NULL;
		*notify = wake_other(e, &e->ctl->head, D_FIFO_WAIT_WRITER, D_FIFO_NOTIFY_WRITE);
		return 0;
	}
	return -EINVAL;
}

/* Has the condition an acquire waits for come about?  (Read without the lock while spinning.) */
static int ready(const struct dios_fifo_ctl *c, uint32_t role, uint64_t pos, uint64_t cap_, uint64_t need)
{
	if (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) & (D_FIFO_ST_ZOMBIE | D_FIFO_ST_WRITER_GONE | D_FIFO_ST_READER_GONE))
		return 1;
	if (role == D_FIFO_END_READER)
		return dios__load_acquire64(&c->tail) != pos;
	return cap_ - (pos - dios__load_acquire64(&c->head)) >= need;
}

/*
 * Sleep until the condition may hold (lock released).  0, -ETIMEDOUT once
 * deadline (CLOCK_MONOTONIC ns, DIOS__NEVER: none) has passed with the
 * condition still false, or -ENOTCONN if the daemon is gone (then nobody
 * would publish end of stream).  Wakes on the other end's store, on the
 * daemon's state change, at the deadline, and every 100 ms.  A timed-out
 * sleeper leaves its D_FIFO_WAIT_* bit set: the other end's next store
 * clears it with one spare wake-up, as after any other early return.
 */
static int fifo_sleep(struct dios_fifo_ctl *c, uint32_t role, uint64_t pos, uint64_t cap_, uint64_t need,
		      uint64_t deadline)
{
	uint64_t *word = role == D_FIFO_END_READER ? &c->tail : &c->head;
	uint32_t bit = role == D_FIFO_END_READER ? D_FIFO_WAIT_READER : D_FIFO_WAIT_WRITER;
	int rc = 0;
	dios__wait_begin();
	for (;;) {
		uint32_t seen = __atomic_load_n(futex_word(word), __ATOMIC_ACQUIRE);
		/* seq_cst RMW: our bit is visible before we re-check (the Dekker pair above) */
		__atomic_fetch_or(&c->waiters, bit, __ATOMIC_SEQ_CST);
		if (ready(c, role, pos, cap_, need))
			break;
		uint64_t ns = 100000000ull;     /* the watchdog's period */
		if (deadline != DIOS__NEVER) {
			uint64_t now = dios__now_ns();
			if (now >= deadline) {
				rc = -ETIMEDOUT;
				break;
			}
			if (deadline - now < ns)
				ns = deadline - now;
		}
		struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };
		syscall(SYS_futex, futex_word(word), FUTEX_WAIT, seen, &ts, NULL, 0);
		if (ready(c, role, pos, cap_, need))
			break;
		if (dios__daemon_gone()) {
			rc = -ENOTCONN;
			break;
		}
	}
	dios__wait_end();
	return rc;
}

int dios__fifo_begin(struct dios_req *q)
{
	switch (q->op) {
	case D_OP_ACQUIRE_READ: case D_OP_ACQUIRE_WRITE:
	case D_OP_COMMIT_READ: case D_OP_RELEASE_READ:
	case D_OP_COMMIT_WRITE: case D_OP_RELEASE_WRITE:
		break;
	default:
		return 0;
	}
	if (!q->ref || !__atomic_load_n(&count, __ATOMIC_RELAXED))
		return 0;
	uint64_t id = dios__ref_id(q->ref);
	int spun = 0;
	pthread_mutex_lock(&dios__fifo_lock);
	for (;;) {
		struct fifo_end *e = find(id);
		if (!e) {
			pthread_mutex_unlock(&dios__fifo_lock);
			return 0;               /* not an attached FIFO end: the ordinary path */
		}
		/*
		 * The daemon's death, as the watcher thread (dios_conn.c) or a call
		 * that reached the ring saw it: one relaxed load, no syscall.  An
		 * end is only in the table while its connection is, so not UP here
		 * means that connection is dead.
		 */
		if (__builtin_expect(__atomic_load_n(&g_dios.state, __ATOMIC_RELAXED) != DIOS_ST_UP, 0)) {
			pthread_mutex_unlock(&dios__fifo_lock);
			q->res = -ENOTCONN;
			return 1;
		}
		int rc, notify = 0;
		int is_acquire = q->op == D_OP_ACQUIRE_READ || q->op == D_OP_ACQUIRE_WRITE;
		uint32_t want = (q->op == D_OP_ACQUIRE_READ || q->op == D_OP_COMMIT_READ || q->op == D_OP_RELEASE_READ)
			? D_FIFO_END_READER : D_FIFO_END_WRITER;
		if (q->flags & ~(uint64_t)(is_acquire ? D_FLAGS_WAIT_MASK : D_FLAGS_IO_MASK))
			rc = -EINVAL;           /* the daemon's masks: D_TIMEOUT only where a call waits */
		else if (is_acquire && !q->iov_out)
			rc = -EINVAL;
		else if (e->role != want)
			rc = -EBUSY;            /* the other end of this FIFO is bound to another reference */
		else if (q->op == D_OP_ACQUIRE_READ)
			rc = read_try(e, q);
		else if (q->op == D_OP_ACQUIRE_WRITE)
			rc = write_try(e, q);
		else
			rc = buffer_op(e, q, &notify);
		if (rc == 0 && is_acquire && q->wait_t0) {
			/* adaptive spin, as for the ring: could a spin of DIOS_SPIN_NS have caught it? */
			/*
			 * Spin about as long as waits usually take, when they are
			 * short; when they are long (the other end is descheduled, or
			 * slow), a futex sleep costs less than the spin and leaves the
			 * CPU to the other end.
			 */
			uint64_t w = dios__now_ns() - q->wait_t0;
			e->wait_avg_ns = e->wait_avg_ns ? (e->wait_avg_ns * 3 + w) / 4 : w;
			uint64_t b = e->wait_avg_ns <= FIFO_SPIN_WORTH ? 2 * e->wait_avg_ns + FIFO_SPIN_FLOOR
								      : FIFO_SPIN_FLOOR;
			e->spin_ns = b < g_dios.spin_ns ? b : g_dios.spin_ns;
		}
		if (rc != WOULD_WAIT) {
			pthread_mutex_unlock(&dios__fifo_lock);
			q->res = rc;
			if (notify) {
				q->fifo = DIOS__FIFO_NOTIFY;
				memset(&q->sqe, 0, sizeof q->sqe);
				q->sqe.opcode = D_OP_NOTIFY;
				q->sqe.ref = id;
				return 0;
			}
			return 1;
		}
		if (!q->wait_t0)
			q->wait_t0 = dios__now_ns();
		if ((q->flags & D_TIMEOUT) && dios__now_ns() >= q->deadline) {
			pthread_mutex_unlock(&dios__fifo_lock);
			q->res = -ETIMEDOUT;    /* nothing to undo: no buffer was handed out */
			return 1;
		}
		if (!spun) {
			/* spin with the lock released: the other end usually acts within microseconds */
			const struct dios_fifo_ctl *c = e->ctl;
			uint32_t role = e->role;
			uint64_t pos = e->pos, fcap = e->cap, need = q->op == D_OP_ACQUIRE_WRITE ? q->wait_len : 0;
			uint64_t budget = e->spin_ns ? e->spin_ns : FIFO_SPIN_FLOOR;
			pthread_mutex_unlock(&dios__fifo_lock);
			uint64_t t0 = dios__now_ns();
			int got = 0;
			for (unsigned i = 1; !got; i++) {
				dios__cpu_relax();
				got = ready(c, role, pos, fcap, need);
				if ((i & 15) == 0 && dios__now_ns() - t0 >= budget)
					break;
			}
			spun = 1;
			pthread_mutex_lock(&dios__fifo_lock);
			continue;               /* one more look (data came, or not), then park */
		}
		/* sleep on the other end's futex until data (space) may be there, then retry */
		struct dios_fifo_ctl *c = e->ctl;
		uint32_t role = e->role;
		uint64_t pos = e->pos, fcap = e->cap, need = q->op == D_OP_ACQUIRE_WRITE ? q->wait_len : 0;
		pthread_mutex_unlock(&dios__fifo_lock);
		int w = fifo_sleep(c, role, pos, fcap, need, (q->flags & D_TIMEOUT) ? q->deadline : DIOS__NEVER);
		if (w) {
			q->res = w;
			return 1;
		}
		spun = 0;
		pthread_mutex_lock(&dios__fifo_lock);
	}
}

int dios__fifo_end(struct dios_req *q, const struct dios_cqe *c)
{
	if (q->op != D_OP_ACQUIRE_READ && q->op != D_OP_ACQUIRE_WRITE)
		return -EPROTO;
	uint32_t role = (uint32_t)c->val[2];
	uint32_t want = q->op == D_OP_ACQUIRE_READ ? D_FIFO_END_READER : D_FIFO_END_WRITER;
	uint64_t id = dios__ref_id(q->ref);
	if (role != want)
		return -EPROTO;
	pthread_mutex_lock(&dios__fifo_lock);
	int rc = 1;
	if (!find(id)) {
		void *ctl = NULL, *data = NULL;
		uint64_t size = 0;
		int w = (c->val[5] & D_SEG_WRITE) != 0;
		rc = (role == D_FIFO_END_WRITER && !w) || !(c->val[5] & D_SEG_RING) ? -EPROTO
			: dios__seg_get_fifo(c->val[0], c->val[1], w, &ctl, &data, &size);
		struct dios_fifo_ctl *k = ctl;
		if (rc == 0 && (size != c->val[3] || k->magic != DIOS_FIFO_MAGIC || k->capacity != size))
			rc = -EPROTO;
		if (rc == 0) {
			struct fifo_end e = {
				.ref_id = id, .ctl = k, .data = data, .cap = size, .role = role,
				.pos = role == D_FIFO_END_READER ? dios__load_acquire64(&k->head)
								 : dios__load_acquire64(&k->tail),
				.spin_ns = g_dios.spin_ns,
			};
			rc = insert(&e);
			if (rc == 0)
				rc = 1;
		}
	}
	pthread_mutex_unlock(&dios__fifo_lock);
	if (rc == 1)
		dios__conn_watch();     /* FIFO calls will not reach the daemon: someone must watch it (no lock held) */
	return rc;
}
