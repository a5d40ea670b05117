/*
 * dios_ring.c - the engine every call goes through: the submission ring, the
 * args area, call slots, and waiting for completions (PROTOCOL.md sections
 * 2 and 3).  Encoding and decoding are the codec's (dios_codec.c); the
 * connection under it (dios_conn.c) registers and maps the region.
 */
#include "dios_internal.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>

#define SPIN_STEP_NS        1000ull            /* adaptive spin: growth step */
#define SPIN_FLOOR_NS       500ull             /* adaptive spin: never below (keeps learning) */
#define FUTEX_TIMEOUT_NS    100000000L     /* 100 ms: the bound on noticing a dead daemon */
#define now_ns dios__now_ns

/* ---- submission (section 2) ---------------------------------------------- */

/*
 * Wait until k more SQEs fit (under g_dios.lock).  The daemon consumes
 * entries as fast as it can, even those of calls it parks, so this rarely
 * waits.  sq_head is only read when the cached value says the ring may be
 * full: the daemon writes it on every call, so reading it costs a cache miss.
 */
static int sq_reserve(uint32_t k)
{
	if (g_dios.sq_tail - g_dios.sq_head_cache + k <= DIOS_SQ_ENTRIES)
		return 0;
	for (;;) {
		/* acquire: the daemon has finished reading the slots before sq_head */
		g_dios.sq_head_cache = dios__load_acquire(&g_dios.hdr->sq_head);
		uint32_t used = g_dios.sq_tail - g_dios.sq_head_cache;
		if (used > DIOS_SQ_ENTRIES) {
			dios__mark_dead();                      /* sq_head ran past our tail */
			return -ENOTCONN;
		}
		if (used + k <= DIOS_SQ_ENTRIES)
			return 0;
		if (dios__conn_gone()) {
			dios__mark_dead();
			return -ENOTCONN;
		}
		struct timespec ts = { 0, 50000 };
		nanosleep(&ts, NULL);
	}
}

static void ring_doorbell_if_asleep(void)
{
	/* Dekker pair with the daemon's store of D_SQ_NEED_WAKEUP + fence + re-read of sq_tail */
	dios__fence_seq_cst();
	if (dios__load_relaxed(&g_dios.hdr->sq_flags) & D_SQ_NEED_WAKEUP) {
		uint64_t one = 1;
		ssize_t n;
		do
			n = write(g_dios.doorbell, &one, sizeof one);
		while (n < 0 && errno == EINTR);
	}
}

/*
 * The args area (section 2.2): k contiguous DIOS_ARGS_CHUNK chunks for an
 * array a call passes by offset, under g_dios.lock.  A chunk is free again
 * once the daemon's sq_head has passed the entry that used it (the daemon
 * copies the array while it consumes the entry).  Returns the chunk index, or
 * -ENOTCONN.
 */
static int args_alloc(unsigned k)
{
	for (;;) {
		for (int pass = 0; pass < 2; pass++) {
			for (unsigned i = 0; i + k <= DIOS_ARGS_CHUNKS; i++) {
				uint64_t want = (k == 64 ? ~0ull : ((1ull << k) - 1)) << i;
				if (!(g_dios.args_bits & want)) {
					g_dios.args_bits |= want;
					return (int)i;
				}
			}
			/* reclaim the chunks of entries the daemon has consumed */
			/* acquire: the daemon has finished reading them */
			uint32_t head = dios__load_acquire(&g_dios.hdr->sq_head);
			for (unsigned i = 0; i < DIOS_ARGS_CHUNKS; i++)
				if ((g_dios.args_bits >> i & 1) && (int32_t)(head - g_dios.args_sqidx[i]) > 0)
					g_dios.args_bits &= ~(1ull << i);
		}
		if (dios__conn_gone()) {
			dios__mark_dead();
			return -ENOTCONN;
		}
		struct timespec ts = { 0, 50000 };
		nanosleep(&ts, NULL);
	}
}

/* ---- call slots ---------------------------------------------------------- */

struct dios_slot dios__slots[DIOS_SLOTS];

static uint64_t slot_ud(uint32_t i)
{
	return (uint64_t)dios__slots[i].gen << 8 | i;
}

/* A free slot (state WAITING, new generation), or -1 if all are in flight. */
static int slot_alloc(void)
{
	for (unsigned w = 0; w < DIOS_SLOTS / 64; w++) {
		uint64_t bits = __atomic_load_n(&g_dios.slot_bits[w], __ATOMIC_RELAXED);
		while (~bits) {
			unsigned b = (unsigned)__builtin_ctzll(~bits);
			if (__atomic_compare_exchange_n(&g_dios.slot_bits[w], &bits, bits | (1ull << b), 0,
							__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
				uint32_t i = w * 64 + b;
				dios__slots[i].gen++;
				__atomic_store_n(&dios__slots[i].state, DIOS_SLOT_WAITING, __ATOMIC_RELAXED);
				__atomic_fetch_add(&g_dios.inflight, 1, __ATOMIC_RELAXED);
				return (int)i;
			}
		}
	}
	return -1;
}

static void slot_free(uint32_t i)
{
	__atomic_fetch_sub(&g_dios.inflight, 1, __ATOMIC_RELAXED);
	__atomic_fetch_and(&g_dios.slot_bits[i / 64], ~(1ull << (i % 64)), __ATOMIC_RELEASE);
}

static unsigned slots_used(void)
{
	unsigned used = 0;
	for (unsigned w = 0; w < DIOS_SLOTS / 64; w++)
		used += (unsigned)__builtin_popcountll(__atomic_load_n(&g_dios.slot_bits[w], __ATOMIC_ACQUIRE));
	return used;
}

/*
 * Under g_dios.lock: wait until `need` slots are free, holding none while
 * waiting.  A batch takes all its slots at once: batches that each held part
 * of the slots and waited for the rest could wait for each other forever.
 * Slots are only taken under the lock and only freed while waiting here, so
 * what is seen free stays free until taken.  The first caller that has to wait
 * claims its count; later callers leave that many free, so a large batch is
 * not starved by a stream of small calls.  0, or -ENOTCONN once the
 * connection is down.
 */
static int slots_wait(unsigned need)
{
	int claimant = 0;
	for (;;) {
		unsigned reserve = claimant ? 0 : g_dios.slot_claim;
		if (slots_used() + need + reserve <= DIOS_SLOTS)
			break;
		if (!g_dios.slot_claim) {
			g_dios.slot_claim = need;
			claimant = 1;
		}
		pthread_mutex_unlock(&g_dios.lock);
		struct timespec ts = { 0, 50000 };
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&g_dios.lock);
		if (g_dios.state != DIOS_ST_UP) {
			if (claimant)
				g_dios.slot_claim = 0;
			return -ENOTCONN;
		}
	}
	if (claimant)
		g_dios.slot_claim = 0;
	return 0;
}

static int slot_in_use(uint32_t i)
{
	return (__atomic_load_n(&g_dios.slot_bits[i / 64], __ATOMIC_ACQUIRE) >> (i % 64)) & 1;
}

static long futex_private(uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, addr, op | FUTEX_PRIVATE_FLAG, val, ts, NULL, 0);
}

/* Hand a completion to its slot and wake the slot's thread. */
static void slot_complete(uint32_t i, const struct dios_cqe *c, int wake)
{
	dios__slots[i].cqe = *c;
	/* release: the CQE copy before the state the waiter reads with acquire */
	__atomic_store_n(&dios__slots[i].state, DIOS_SLOT_DONE, __ATOMIC_RELEASE);
	if (wake)
		futex_private(&dios__slots[i].state, FUTEX_WAKE, INT32_MAX, NULL);
}

/* The connection is dead: every call in flight completes with -ENOTCONN. */
static void fail_inflight(int self)
{
	for (uint32_t i = 0; i < DIOS_SLOTS; i++) {
		if (!slot_in_use(i) || __atomic_load_n(&dios__slots[i].state, __ATOMIC_ACQUIRE) == DIOS_SLOT_DONE)
			continue;
		struct dios_cqe c = { .user_data = slot_ud(i), .res = -ENOTCONN };
		slot_complete(i, &c, (int)i != self);
	}
}

/* ---- completion (section 3) ---------------------------------------------- */

static long futex_wait(uint32_t *addr, uint32_t expected)
{
	struct timespec ts = { 0, FUTEX_TIMEOUT_NS };
	/* FUTEX_WAIT (0), not the private variant: the word is shared with the daemon */
	return syscall(SYS_futex, addr, FUTEX_WAIT, expected, &ts, NULL, 0);
}

static int conn_state(void)
{
	return __atomic_load_n(&g_dios.state, __ATOMIC_ACQUIRE);
}

static void spin_adapt(uint64_t waited_ns);
static int cq_sleep(struct dios_region_header *h, uint32_t head);

/* Wait until the CQE at cq_head is published (reaper).  0, or -ENOTCONN (connection marked dead). */
static int cq_wait(void)
{
	struct dios_region_header *h = g_dios.hdr;
	uint32_t head = g_dios.cq_head;

	/* acquire: the CQE contents before the daemon's release store of cq_tail */
	if (dios__load_acquire(&h->cq_tail) != head)
		return 0;
	/*
	 * Adaptive spin: the budget grows while completions arrive within the
	 * spin window and shrinks when they do not.  Back-to-back calls to an
	 * awake daemon keep the full DIOS_SPIN_NS; many tasks sharing few cores,
	 * calls to a parked daemon, or reads that wait for a FIFO's writer stop
	 * spinning and no longer steal the CPU others need.
	 */
	uint64_t t0 = now_ns();
	if (g_dios.spin_budget) {
		for (unsigned i = 1;; i++) {
			dios__cpu_relax();
			/* acquire: as above */
			if (dios__load_acquire(&h->cq_tail) != head) {
				spin_adapt(now_ns() - t0);
				return 0;
			}
			if ((i & 15) == 0) {
				/* acquire: the daemon's shutdown announcement */
				if (dios__load_acquire(&h->daemon_state) & D_DSTATE_SHUTDOWN) {
					dios__mark_dead();
					return -ENOTCONN;
				}
				if (conn_state() != DIOS_ST_UP)
					return -ENOTCONN;
				if (now_ns() - t0 >= g_dios.spin_budget)
					break;
			}
		}
	}
	int rc = cq_sleep(h, head);
	if (rc == 0)
		spin_adapt(now_ns() - t0);
	return rc;
}

/* Learn from how long a completion took: could a spin of spin_ns have caught it? */
static void spin_adapt(uint64_t waited_ns)
{
	if (waited_ns < g_dios.spin_ns) {
		uint64_t b = g_dios.spin_budget * 2 + SPIN_STEP_NS;
		g_dios.spin_budget = b < g_dios.spin_ns ? b : g_dios.spin_ns;
	} else {
		g_dios.spin_budget /= 2;
		if (g_dios.spin_budget < SPIN_FLOOR_NS && g_dios.spin_ns)
			g_dios.spin_budget = SPIN_FLOOR_NS < g_dios.spin_ns ? SPIN_FLOOR_NS : g_dios.spin_ns;
	}
}

/* Sleep on the futex until the CQE at head is published.  0, or -ENOTCONN. */
static int cq_sleep(struct dios_region_header *h, uint32_t head)
{
	for (;;) {
		/* a futex waiter is not woken when the daemon dies: check before every sleep */
		if (conn_state() != DIOS_ST_UP)
			return -ENOTCONN;
		if (dios__conn_gone()) {
			dios__mark_dead();
			return -ENOTCONN;
		}
		/* seq_cst: our waiter count is visible before we re-check cq_tail (daemon: store tail, fence, read waiters) */
		dios__fetch_add_seq_cst(&h->cq_waiters, 1);
		/* acquire: as above */
		if (dios__load_acquire(&h->cq_tail) == head)
			futex_wait(&h->cq_tail, head);      /* 0, EAGAIN, EINTR, ETIMEDOUT: all re-check */
		/* seq_cst: we are no longer sleeping */
		dios__fetch_sub_seq_cst(&h->cq_waiters, 1);
		/* acquire: as above */
		if (dios__load_acquire(&h->cq_tail) != head)
			return 0;
	}
}

/*
 * Reap every published CQE and hand each to its slot (reaper only).  Returns
 * how many, or -ENOTCONN if a completion names no call in flight (the
 * connection is then dead).
 */
static int cq_drain(int self)
{
	struct dios_region_header *h = g_dios.hdr;
	uint32_t head = g_dios.cq_head;
	/* acquire: the CQE contents before the daemon's release store of cq_tail */
	uint32_t tail = dios__load_acquire(&h->cq_tail);
	if (tail - head > DIOS_CQ_ENTRIES) {
		dios__mark_dead();                              /* corrupt cq_tail */
		return -ENOTCONN;
	}
	int n = 0;
	for (; head != tail; head++, n++) {
		struct dios_cqe c = g_dios.cq[head & (DIOS_CQ_ENTRIES - 1)];
		uint32_t i = (uint32_t)(c.user_data & 0xff);
		if (i >= DIOS_SLOTS || !slot_in_use(i) || c.user_data != slot_ud(i) ||
		    __atomic_load_n(&dios__slots[i].state, __ATOMIC_ACQUIRE) == DIOS_SLOT_DONE) {
			g_dios.cq_head = head + 1;
			dios__store_release(&h->cq_head, head + 1);
			dios__mark_dead();                      /* a completion for no call of ours */
			return -ENOTCONN;
		}
		slot_complete(i, &c, (int)i != self);
	}
	g_dios.cq_head = head;
	/* release: we have finished reading the slots; the daemon may reuse them */
	dios__store_release(&h->cq_head, head);
	return n;
}

/* Reaper: reap until slot self is done.  Returns with it done (maybe with -ENOTCONN). */
static void reap_until(uint32_t self)
{
	while (__atomic_load_n(&dios__slots[self].state, __ATOMIC_ACQUIRE) != DIOS_SLOT_DONE) {
		int rc = conn_state() == DIOS_ST_UP ? cq_drain((int)self) : -ENOTCONN;
		if (rc > 0)
			continue;
		if (rc == 0)
			rc = cq_wait();
		if (rc < 0) {
			fail_inflight((int)self);
			return;
		}
	}
}

/*
 * After reaping: if other calls are still waiting, ask one of their threads
 * to reap.  The reaper's own slot is still allocated here, so a lone call
 * (the common case) sees inflight == 1 and skips the scan.
 */
static void hand_off(uint32_t self)
{
	if (__atomic_load_n(&g_dios.inflight, __ATOMIC_RELAXED) <= 1)
		return;
	for (uint32_t i = 0; i < DIOS_SLOTS; i++) {
		if (i == self || !slot_in_use(i))
			continue;
		uint32_t expect = DIOS_SLOT_WAITING;
		if (__atomic_compare_exchange_n(&dios__slots[i].state, &expect, DIOS_SLOT_TAKEOVER, 0,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			futex_private(&dios__slots[i].state, FUTEX_WAKE, INT32_MAX, NULL);
			return;
		}
	}
}

/*
 * Wait for slot i's completion.  Whoever holds reap_lock reaps for everyone;
 * the others sleep on their own slot until their completion is handed to
 * them or they are asked to take over.  A sleeper also wakes every 100 ms
 * and tries to reap, so no handover can be lost for long.
 */
static void wait_slot(uint32_t i)
{
	uint32_t *st = &dios__slots[i].state;
	for (;;) {
		uint32_t s = __atomic_load_n(st, __ATOMIC_ACQUIRE);
		if (s == DIOS_SLOT_DONE)
			return;
		if (s == DIOS_SLOT_TAKEOVER) {
			uint32_t expect = DIOS_SLOT_TAKEOVER;
			__atomic_compare_exchange_n(st, &expect, DIOS_SLOT_WAITING, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
		}
		if (pthread_mutex_trylock(&g_dios.reap_lock) == 0) {
			reap_until(i);
			hand_off(i);
			pthread_mutex_unlock(&g_dios.reap_lock);
			return;
		}
		struct timespec ts = { 0, FUTEX_TIMEOUT_NS };
		futex_private(st, FUTEX_WAIT, DIOS_SLOT_WAITING, &ts);
	}
}

/* ---- the engine shared by single calls and dios_batch -------------------- */

/* Write an entry's arguments (arrays, a path, a task spec) into the args area (under lock).  0 or -ENOTCONN. */
static int place_args(struct dios_req *q, uint32_t sq_index)
{
	unsigned k = (unsigned)((q->args_len + DIOS_ARGS_CHUNK - 1) / DIOS_ARGS_CHUNK);
	int c = args_alloc(k);
	if (c < 0)
		return c;
	dios__write_args(q, (char *)g_dios.hdr + DIOS_REGION_ARGS_OFFSET + (size_t)c * DIOS_ARGS_CHUNK);
	for (unsigned j = 0; j < k; j++)
		g_dios.args_sqidx[c + j] = sq_index;
	q->sqe.buf = (uint64_t)c * DIOS_ARGS_CHUNK;
	return 0;
}

/*
 * CREATE D_OBJ_EXE: the program file goes to the daemon on the control socket
 * (SCM_RIGHTS, struct dios_msg_exe_fd) before its entry is published, under
 * the call lock, so the daemon finds the messages in the order of the
 * entries; the entry's user_data in it lets the daemon drop a message whose
 * entry was never published (a submission that failed after sending it).
 */
static int send_exe_fd(int fd, uint64_t user_data)
{
	struct dios_msg_exe_fd m = { .magic = DIOS_MSG_EXE_FD, .user_data = user_data };
	struct iovec io = { .iov_base = &m, .iov_len = sizeof m };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr mh = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	ssize_t w;
	do
		w = sendmsg(g_dios.sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w == (ssize_t)sizeof m)
		return 0;
	return w < 0 && (errno == EAGAIN || errno == ENOBUFS) ? -EAGAIN : -ENOTCONN;
}

/*
 * Submit the entries marked submitted with one sq_tail store (under lock):
 * each gets a call slot first.  0 or -ENOTCONN (entries then unsent, no slot).
 */
static int submit(struct dios_req *q, unsigned n)
{
	uint32_t k = 0;
	for (unsigned i = 0; i < n; i++)
		k += q[i].submitted ? 1 : 0;
	if (k == 0)
		return 0;
	/* slots: at most DIOS_SLOTS calls in flight; wait for others to finish */
	unsigned need = 0;
	for (unsigned i = 0; i < n; i++)
		need += q[i].submitted && q[i].fifo != DIOS__FIFO_NOTIFY;   /* a notify gets no completion: no slot */
	int rc = slots_wait(need);
	if (rc)
		return rc;
	for (unsigned i = 0; i < n; i++) {
		if (!q[i].submitted || q[i].fifo == DIOS__FIFO_NOTIFY)
			continue;
		int sl = slot_alloc();          /* cannot fail: slots_wait saw enough free under lock */
		q[i].slot = (uint32_t)sl;
	}
	rc = sq_reserve(k);
	uint32_t tail = g_dios.sq_tail;
	for (unsigned i = 0; rc == 0 && i < n; i++) {
		if (!q[i].submitted)
			continue;
		if (q[i].args_len)
			rc = place_args(&q[i], tail);
		if (q[i].fifo == DIOS__FIFO_NOTIFY)
			q[i].sqe.sqe_flags = D_SQE_NO_CQE;
		else
			q[i].sqe.user_data = slot_ud(q[i].slot);
		if (rc == 0 && q[i].exe_fd_set)
			rc = send_exe_fd(q[i].exe_fd, q[i].sqe.user_data);
		g_dios.sq[tail & (DIOS_SQ_ENTRIES - 1)] = q[i].sqe;
		tail++;
	}
	if (rc) {
		for (unsigned i = 0; i < n; i++)
			if (q[i].submitted && q[i].fifo != DIOS__FIFO_NOTIFY)
				slot_free(q[i].slot);
		return rc;
	}
	g_dios.sq_tail = tail;
	/* release: the daemon sees the new SQEs only after they are complete; one store for all */
	dios__store_release(&g_dios.hdr->sq_tail, tail);
	ring_doorbell_if_asleep();
	return 0;
}

/* Wait for every submitted entry and take its completion (slots freed). */
static void collect(struct dios_req *q, unsigned n, struct dios_cqe *out)
{
	for (unsigned i = 0; i < n; i++) {
		if (!q[i].submitted || q[i].fifo == DIOS__FIFO_NOTIFY)
			continue;
		wait_slot(q[i].slot);
		out[i] = dios__slots[q[i].slot].cqe;
		slot_free(q[i].slot);
	}
}

/*
 * Acquires whose completion could not be turned into a usable buffer (segment
 * missing, mapping failed, slab exhausted) hold a buffer in the daemon that
 * nobody could release: give those back, ignoring the results.
 */
static void undo(struct dios_req *q, unsigned n)
{
	struct dios_req u[8];                   /* rare path: small batches keep the stack small */
	struct dios_cqe c[8];
	unsigned i = 0;
	while (i < n) {
		unsigned k = 0;
		for (; i < n && k < 8; i++) {
			if (!q[i].undo)
				continue;
			memset(&u[k], 0, sizeof u[k]);
			u[k].sqe.opcode = q[i].op == D_OP_ACQUIRE_READ ? D_OP_RELEASE_READ : D_OP_RELEASE_WRITE;
			u[k].sqe.ref = dios__ref_id(q[i].ref);
			u[k].sqe.buf = q[i].undo_buf;
			u[k].op = D_OP_NOP;
			u[k].submitted = 1;
			k++;
		}
		if (k == 0)
			return;
		int cs = dios__call_lock();
		int rc = dios__conn_ensure_locked();
		if (rc == 0)
			rc = submit(u, k);
		dios__call_unlock(cs);
		if (rc)
			return;
		collect(u, k, c);
	}
}

/* A reference of a dead registration (after dios_reconnect)? */
static int stale(const dios_ref_t *r)
{
	return r && dios__ref_stale(dios__ref_id(r));
}

/* Does q name a reference of a dead registration?  Arrays as far as the codec would read them. */
static int req_stale(const struct dios_req *q)
{
	if (stale(q->ref) || stale(q->ref2))
		return 1;
	if ((q->op == D_OP_COPY || q->op == D_OP_SELECT) && q->refs && q->count) {
		uint64_t n = *q->count < DIOS_MAX_SELECT_REFS ? *q->count : DIOS_MAX_SELECT_REFS;
		for (uint64_t j = 0; j < n; j++)
			if (stale(q->refs[j]))
				return 1;
	}
	if (q->op == D_OP_RUN && q->spec) {
		const dios_task_spec_t *t = q->spec;
		for (uint64_t j = 0; t->refs && j < t->ref_count && j < DIOS_RUN_MAX_REFS; j++)
			if (stale(t->refs[j]))
				return 1;
		for (uint64_t j = 0; t->groups && j < t->group_count && j < DIOS_RUN_MAX_GROUPS; j++)
			if (stale(t->groups[j]))
				return 1;
	}
	return 0;
}

/*
 * One round: encode (or complete in place through the FIFO layer), submit
 * what needs the daemon, wait, decode.  Sets *again for entries that must
 * run another round (a FIFO end was attached or became ready).
 */
static int exec_round(struct dios_req *q, unsigned n, int *again)
{
	struct dios_cqe cqe[DIOS_SQ_ENTRIES];
	unsigned nsub = 0;
	int rc = 0;
	*again = 0;
	for (unsigned i = 0; i < n; i++) {
		q[i].submitted = 0;
		if (q[i].res != DIOS__PENDING)
			continue;
		q[i].fifo = DIOS__FIFO_NONE;
		/* the daemon is known dead: every call fails alike, whatever its arguments (one load) */
		if (__builtin_expect(__atomic_load_n(&g_dios.state, __ATOMIC_RELAXED) == DIOS_ST_DEAD, 0)) {
			q[i].res = -ENOTCONN;
			continue;
		}
		/* one load on the common path: no registration of this process has died */
		if (__builtin_expect(__atomic_load_n(&dios__dead_tags, __ATOMIC_RELAXED) != 0, 0) && req_stale(&q[i])) {
			q[i].res = -ENOTCONN;
			q[i].stale = 1;
			continue;
		}
		if (dios__inline_begin(&q[i]))
			continue;                       /* a task's status buffer: done in place */
		if (dios__fifo_begin(&q[i]))
			continue;                       /* done in place */
		if (q[i].fifo == DIOS__FIFO_NONE) {
			q[i].res = dios__encode(&q[i]);
			if (q[i].res != 0)
				continue;
		}
		q[i].submitted = 1;
		nsub++;
	}
	if (nsub == 0)                                  /* all done in place, or failed before the ring */
		return conn_state() == DIOS_ST_DEAD ? -ENOTCONN : 0;
	int cs = dios__call_lock();
	rc = dios__conn_ensure_locked();
	if (rc == 0)
		rc = submit(q, n);
	dios__call_unlock(cs);
	for (unsigned i = 0; i < n; i++)
		if (q[i].exe_fd_set) {          /* the daemon has its own copy now (or the call failed) */
			close(q[i].exe_fd);
			q[i].exe_fd_set = 0;
		}
	if (rc) {
		for (unsigned i = 0; i < n; i++)
			if (q[i].submitted)
				q[i].res = q[i].fifo == DIOS__FIFO_NOTIFY ? q[i].res : rc == -EAGAIN ? -EAGAIN : -ENOTCONN;
		return rc;
	}
	collect(q, n, cqe);
	for (unsigned i = 0; i < n; i++) {
		if (!q[i].submitted)
			continue;
		if (q[i].fifo == DIOS__FIFO_NOTIFY)
			continue;                       /* done in place; the wake-up's result does not matter */
		if (cqe[i].res < 0 && (cqe[i].flags & D_CQE_F_DETAIL)) {
			q[i].detail_code = cqe[i].val[0];
			q[i].detail_val = cqe[i].val[1];
		}
		if (cqe[i].res == 0 && (cqe[i].flags & D_CQE_F_FIFO)) {
			int r = dios__fifo_end(&q[i], &cqe[i]);
			if (r == 1) {
				q[i].res = DIOS__PENDING;
				*again = 1;
			} else {
				q[i].res = r;
			}
			continue;
		}
		q[i].res = dios__decode(&q[i], &cqe[i]);
	}
	undo(q, n);
	return conn_state() == DIOS_ST_UP ? 0 : -ENOTCONN;
}

/* dios_last_error_detail for a failed entry. */
static void explain(const struct dios_req *q)
{
	if (q->stale)
		dios__detail_set("a reference of this process's registration with a daemon that has died (before"
				 " dios_reconnect): it means nothing to the new daemon; look the object up again");
	else if (q->res == -ENOTCONN)
		dios__conn_explain();
	else if (q->detail_code)
		dios__detail_limit(q->res, q->detail_code, q->detail_val);
	else
		dios__detail_const(dios_strerror(q->res));
}

int dios__exec(struct dios_req *q, unsigned n)
{
	int rc, again;
	uint64_t now = 0;
	for (unsigned i = 0; i < n; i++) {
		q[i].res = DIOS__PENDING;
		q[i].wait_t0 = 0;
		q[i].detail_code = 0;
		q[i].stale = 0;
		if (q[i].flags & D_TIMEOUT) {
			/* one deadline for the whole call, however many rounds it takes; saturating: no wrap */
			if (!now)
				now = dios__now_ns();
			q[i].deadline = q[i].timeout_ns > DIOS__NEVER - 1 - now ? DIOS__NEVER : now + q[i].timeout_ns;
		}
	}
	do
		rc = exec_round(q, n, &again);
	while (again);
	for (unsigned i = 0; i < n; i++)
		if (q[i].res == DIOS__PENDING)
			q[i].res = -ENOTCONN;
	for (unsigned i = 0; i < n; i++)
		if (q[i].res < 0) {
			explain(&q[i]);         /* the first failed entry's */
			break;
		}
	return rc;
}
