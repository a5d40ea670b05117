/*
 * t_hostile_fuzz - at least 1,000,000 hostile ring entries while honest tasks' work completes, checked with checksums.
 *
 * Processes, all against one daemon:
 *   hostile   registers by hand (no shim) and writes random and adversarial
 *             entries into its own ring: out-of-range op codes, lengths,
 *             indices, buffer and segment ids, garbage in the args area.
 *             A second thread tears entries while the daemon reads them, a
 *             third rings the doorbell in storms.  Every so often it moves
 *             sq_tail backwards or past the end, or cq_head anywhere, and
 *             must then be disconnected (it registers again and goes on).
 *   wrong     makes well-formed calls through the shim with wrong types,
 *             foreign and guessed references, double releases, commits
 *             without acquires; each gets its exact error.
 *   fifo w/r  stream through a FIFO; the reader checks every byte, both
 *             sides keep a checksum.
 *   mem       shared memory and blobs written, read back and checked.
 *   nop       a null call every few ms: the daemon answers within a bound.
 * Afterwards: the daemon answers, every count is back at its baseline, each
 * disconnect of the hostile task has a logged reason, and the log holds no
 * internal error.  DIOS_LONG=1 (make check-reliability-long) runs 20,000,000 entries and streams
 * more; DIOS_HOSTILE_ENTRIES=N sets the count.
 */
#define _GNU_SOURCE
#include "helpers.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#define NOP_BOUND_NS (2000ull * 1000 * 1000)   /* a null call answered within 2 s, however loaded */

static int long_mode(void)
{
	const char *e = getenv("DIOS_LONG");
	return e && e[0] && strcmp(e, "0") != 0;
}

static uint64_t target_entries(void)
{
	const char *e = getenv("DIOS_HOSTILE_ENTRIES");
	if (e && e[0])
		return strtoull(e, NULL, 10);
	return long_mode() ? 20000000ull : 1000000ull;
}

/* xorshift64*, one per thread */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

/* ------------------------------------------------------------------------ */
/* The hostile task                                                          */
/* ------------------------------------------------------------------------ */

struct conn {
	int sock, doorbell;
	struct dios_region_header *h;
	uint8_t *sq, *args;
	struct dios_cqe *cq;
	uint64_t self_ref;
};

struct hreport {
	uint64_t published, consumed, completions, registrations, corruptions, disconnects, unexpected, doorbells, torn;
	uint64_t by_res[128];   /* completions by -res (0 = success) */
};

static _Atomic(struct conn *) cur;          /* what the helper threads work on */
static atomic_uint epoch, ack_torn, ack_storm;
static atomic_int stop_helpers;
static atomic_ullong torn_writes, doorbell_writes;

static int raw_register(struct conn *c)
{
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s", dt_socket_path());
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0)
		return -1;
	struct dios_msg_hello hl = { .magic = DIOS_MSG_HELLO, .abi_version = DIOS_ABI_VERSION };
	if (send(s, &hl, sizeof hl, MSG_NOSIGNAL) != (ssize_t)sizeof hl) {
		close(s);
		return -1;
	}
	struct pollfd p = { .fd = s, .events = POLLIN };
	if (poll(&p, 1, 10000) != 1) {
		close(s);
		return -1;
	}
	struct dios_msg_welcome w;
	union { char buf[CMSG_SPACE(2 * sizeof(int))]; struct cmsghdr al; } ctl;
	struct iovec io = { &w, sizeof w };
	struct msghdr mh = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
	if (recvmsg(s, &mh, MSG_CMSG_CLOEXEC) != (ssize_t)sizeof w || w.status != 0) {
		close(s);
		return -1;
	}
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS) {
		close(s);
		return -1;
	}
	int fds[2];
	memcpy(fds, CMSG_DATA(cm), sizeof fds);
	void *r = mmap(NULL, DIOS_REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	close(fds[0]);
	if (r == MAP_FAILED) {
		close(fds[1]);
		close(s);
		return -1;
	}
	c->sock = s;
	c->doorbell = fds[1];
	c->h = r;
	c->sq = (uint8_t *)r + DIOS_REGION_SQ_OFFSET;
	c->cq = (struct dios_cqe *)((uint8_t *)r + DIOS_REGION_CQ_OFFSET);
	c->args = (uint8_t *)r + DIOS_REGION_ARGS_OFFSET;
	c->self_ref = c->h->self_ref;
	return 0;
}

static int hung_up(int s, int ms)
{
	struct pollfd p = { .fd = s, .events = POLLRDHUP };
	return poll(&p, 1, ms) == 1 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR));
}

/* SEGMENT messages: take them and close their fds, as the shim maps and closes them. */
static void drain_socket(int s)
{
	for (int k = 0; k < 4096; k++) {
		char buf[64];
		union { char b[CMSG_SPACE(8 * sizeof(int))]; struct cmsghdr al; } ctl;
		struct iovec io = { buf, sizeof buf };
		struct msghdr mh = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b };
		ssize_t n = recvmsg(s, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n <= 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
				for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
					int fd;
					memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
					close(fd);
				}
	}
}

/* Tears entries and the args area while the daemon reads them. */
static void *torn_main(void *arg)
{
	uint64_t s = (uintptr_t)arg | 1;
	while (!atomic_load(&stop_helpers)) {
		struct conn *c = atomic_load(&cur);
		atomic_store(&ack_torn, atomic_load(&epoch));
		for (int i = 0; i < 256; i++) {
			uint64_t r = rnd(&s);
			if (r & 1)
				c->sq[(r >> 8) % (DIOS_SQ_ENTRIES * sizeof(struct dios_sqe))] = (uint8_t)(r >> 40);
			else
				c->args[(r >> 8) % DIOS_ARGS_BYTES] = (uint8_t)(r >> 40);
		}
		atomic_fetch_add(&torn_writes, 256);
		struct timespec ts = { 0, 20000 };
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* Doorbell storms: 256 rings back to back, then a breath. */
static void *storm_main(void *arg)
{
	(void)arg;
	uint64_t one = 1;
	while (!atomic_load(&stop_helpers)) {
		struct conn *c = atomic_load(&cur);
		atomic_store(&ack_storm, atomic_load(&epoch));
		for (int i = 0; i < 256; i++) {
			ssize_t n = write(c->doorbell, &one, sizeof one);
			(void)n;
		}
		atomic_fetch_add(&doorbell_writes, 256);
		struct timespec ts = { 0, 500000 };
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* Switch the helpers to n, then close and unmap what they used before (never while they use it). */
static void switch_conn(struct conn *old, struct conn *n)
{
	atomic_store(&cur, n);
	unsigned e = atomic_fetch_add(&epoch, 1) + 1;
	uint64_t t0 = dt_now_ns();
	while (atomic_load(&ack_torn) != e || atomic_load(&ack_storm) != e) {
		if (dt_now_ns() - t0 > 10000000000ull)
			_exit(30);
		struct timespec ts = { 0, 100000 };
		nanosleep(&ts, NULL);
	}
	close(old->sock);
	close(old->doorbell);
	munmap(old->h, DIOS_REGION_SIZE);
}

static const uint64_t lens[] = { 0, 1, 7, 8, 64, 4095, 4096, 4097, 65536, 1ull << 20, DIOS_MAX_OBJECT_SIZE,
				 DIOS_MAX_OBJECT_SIZE + 1, DIOS_FIFO_MAX_CAPACITY + 1, DIOS_CONSOLE_BUF_BYTES + 1,
				 DIOS_MAX_SELECT_REFS + 1, DIOS_ARGS_BYTES, ~0ull, 1ull << 63, 0xffffffffull };
static const uint64_t flagset[] = { 0, D_NONBLOCK, D_CREATE_NAMED, D_LOOKUP_READONLY, D_DELETE_ZOMBIFY,
				    D_NONBLOCK | D_DELETE_ZOMBIFY, D_COPY_READONLY, 1ull << 40, ~0ull };

struct pool { uint64_t v[256]; unsigned n; };

static uint64_t pick_ref(struct pool *p, struct conn *c, uint64_t r)
{
	switch (r % 8) {
	case 0: return 0;
	case 1: case 2: return p->n ? p->v[(r >> 8) % p->n] : c->self_ref;
	case 3: return p->n ? p->v[(r >> 8) % p->n] ^ (1ull << ((r >> 16) % 64)) : r;
	case 4: return c->self_ref;
	case 5: return (r >> 8) & 0xffff;                          /* small guessed values */
	case 6: return (c->self_ref & ~0xfffffull) | ((r >> 8) % 4096);  /* our tag, guessed index */
	default: return r * 0x9E3779B97F4A7C15ull;
	}
}

/* One hostile entry at e. */
static void gen_entry(struct dios_sqe *e, struct pool *p, struct conn *c, uint64_t *s)
{
	uint64_t r = rnd(s);
	if (r % 8 == 0) {                                   /* pure noise */
		uint64_t *w = (uint64_t *)e;
		for (int i = 0; i < 16; i++)
			w[i] = rnd(s);
	} else {
		memset(e, 0, sizeof *e);
		uint64_t o = rnd(s);
		e->opcode = o % 10 < 7 ? (uint8_t)(o % D_OP_LAST) : o % 10 < 9 ? (uint8_t)(D_OP_LAST + (o >> 8) % 200) : (uint8_t)(o >> 16);
		e->sqe_flags = (o >> 24) % 8 == 0 ? (uint8_t)(o >> 32) : (o >> 24) % 8 == 1 ? D_SQE_ARG : 0;
		e->obj_type = (o >> 40) % 8 == 0 ? (uint32_t)(o >> 44) : (uint32_t)((o >> 44) % (D_OBJ_LAST + 1));
		e->flags = flagset[rnd(s) % (sizeof flagset / sizeof flagset[0])];
		e->ref = pick_ref(p, c, rnd(s));
		uint64_t l = rnd(s);
		e->len = l % 4 == 0 ? l : lens[(l >> 8) % (sizeof lens / sizeof lens[0])];
		uint64_t b = rnd(s);
		e->buf = b % 3 == 0 ? 8 * ((b >> 8) % (DIOS_ARGS_BYTES / 8 + 64)) : b % 3 == 1 ? pick_ref(p, c, b >> 2) : b;
		if (rnd(s) % 4 == 0)
			e->ref2 = pick_ref(p, c, rnd(s));
		uint64_t n = rnd(s);
		if (n % 4 == 0)
			for (int i = 0; i < 4; i++)
				memcpy(e->name + 8 * i, &(uint64_t){ rnd(s) }, 8);
		if (n % 16 == 1)
			e->rsvd0 = (uint16_t)(n >> 8);
		if (n % 16 == 2)
			e->rsvd3[(n >> 8) % 4] = n;
	}
	/* Durable objects would outlive the run: no named blobs.  No exec of anything either. */
	if (e->opcode == D_OP_CREATE && e->obj_type == D_OBJ_BLOB)
		e->flags &= ~(uint64_t)(D_CREATE_NAMED | D_CREATE_NAME_GIVEN);
}

static void keep(struct pool *p, uint64_t v, uint64_t *s)
{
	if (v == 0)
		return;
	if (p->n < 256)
		p->v[p->n++] = v;
	else
		p->v[rnd(s) % 256] = v;
}

/* The daemon's threads (it runs --dumpable here), for a stall's post-mortem. */
static void dump_daemon(void)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "jcmd %d Thread.print 2>&1 | grep -A25 diosd-conductor >&2", (int)dt_daemon_pid());
	int r = system(cmd);
	(void)r;
}

/* Waits until the daemon consumed everything published (or dropped us).  1: consumed, 0: hung up. */
static int wait_consumed(struct conn *c, uint32_t tail, struct hreport *rep)
{
	uint64_t t0 = dt_now_ns();
	uint32_t last = __atomic_load_n(&c->h->sq_head, __ATOMIC_ACQUIRE);
	for (unsigned spin = 0;; spin++) {
		uint32_t head = __atomic_load_n(&c->h->sq_head, __ATOMIC_ACQUIRE);
		if (head == tail)
			return 1;
		if (head != last) {
			last = head;
			t0 = dt_now_ns();
		}
		if (spin % 64 == 63) {
			if (hung_up(c->sock, 0))
				return 0;
			uint64_t one = 1;
			ssize_t n = write(c->doorbell, &one, sizeof one);
			(void)n;
			drain_socket(c->sock);
			struct timespec ts = { 0, 20000 };
			nanosleep(&ts, NULL);
		}
		if (dt_now_ns() - t0 > 20000000000ull) {
			fprintf(stderr, "hostile: the daemon consumed nothing for 20 s (sq_head %u, tail %u, sq_flags %#x, cq_tail %u,"
				" cq_head %u): stalled; its threads:\n", head, tail, c->h->sq_flags, c->h->cq_tail, c->h->cq_head);
			(void)rep;
			dump_daemon();
			_exit(20);
		}
	}
}

/* Takes the completions published so far; checks each result is 0 or -errno. */
static void reap(struct conn *c, uint32_t *cqh, struct pool *p, struct hreport *rep, uint64_t *s)
{
	uint32_t t = __atomic_load_n(&c->h->cq_tail, __ATOMIC_ACQUIRE);
	if (t - *cqh > DIOS_CQ_ENTRIES) {
		fprintf(stderr, "hostile: the daemon overflowed our CQ: cq_tail %u, cq_head %u\n", t, *cqh);
		_exit(21);
	}
	for (uint32_t i = *cqh; i != t; i++) {
		struct dios_cqe q = c->cq[i & (DIOS_CQ_ENTRIES - 1)];
		if (q.res > 0 || q.res < -4095) {
			fprintf(stderr, "hostile: completion result %d is not 0 or -errno\n", q.res);
			_exit(22);
		}
		rep->by_res[-q.res < 128 ? -q.res : 127]++;
		rep->completions++;
		if (q.res == 0)
			for (int k = 0; k < 6; k++)
				if (rnd(s) % 2)
					keep(p, q.val[k], s);
	}
	*cqh = t;
	__atomic_store_n(&c->h->cq_head, t, __ATOMIC_RELEASE);
}

/* Moves an index and checks that the daemon drops us.  Returns the kind done. */
static void corrupt(struct conn *c, uint32_t *tail, uint32_t *cqh, unsigned kind, struct hreport *rep, uint64_t *s)
{
	switch (kind % 4) {
	case 0: *tail -= 1 + rnd(s) % 8; break;                        /* backwards */
	case 1: *tail += DIOS_SQ_ENTRIES + 1 + rnd(s) % 4096; break;   /* past the end */
	case 2: *tail = (uint32_t)rnd(s); if (*tail - __atomic_load_n(&c->h->sq_head, __ATOMIC_ACQUIRE) <= DIOS_SQ_ENTRIES) *tail += 1000; break;
	default: break;
	}
	if (kind % 4 == 3) {
		/* cq_head claims completions we never had; the daemon notices when it next needs CQ room */
		__atomic_store_n(&c->h->cq_head, *cqh + DIOS_CQ_ENTRIES + 1 + (uint32_t)(rnd(s) % 100000), __ATOMIC_RELEASE);
		for (int round = 0; round < 64 && !hung_up(c->sock, 0); round++) {
			struct dios_sqe *sq = (struct dios_sqe *)c->sq;
			uint32_t head = __atomic_load_n(&c->h->sq_head, __ATOMIC_ACQUIRE);
			while (*tail - head < DIOS_SQ_ENTRIES) {
				memset(&sq[*tail & (DIOS_SQ_ENTRIES - 1)], 0, sizeof *sq);   /* nops */
				(*tail)++;
				rep->published++;
			}
			__atomic_store_n(&c->h->sq_tail, *tail, __ATOMIC_RELEASE);
			uint64_t one = 1;
			ssize_t n = write(c->doorbell, &one, sizeof one);
			(void)n;
			struct timespec ts = { 0, 2000000 };
			nanosleep(&ts, NULL);
		}
	} else {
		__atomic_store_n(&c->h->sq_tail, *tail, __ATOMIC_RELEASE);
		uint64_t one = 1;
		ssize_t n = write(c->doorbell, &one, sizeof one);
		(void)n;
	}
	rep->corruptions++;
	if (!hung_up(c->sock, 10000)) {
		fprintf(stderr, "hostile: still connected 10 s after corrupting its ring (kind %u)\n", kind % 4);
		_exit(23);
	}
	rep->disconnects++;
}

static int hostile_main(int report_fd)
{
	alarm(long_mode() ? 3000 : 110);
	struct hreport rep;
	memset(&rep, 0, sizeof rep);
	uint64_t s = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	uint64_t target = target_entries();
	/* an index corruption every 1/10 of the run: 10 disconnects, each checked in the log */
	uint64_t corrupt_every = target / 10 > 1000 ? target / 10 : 1000;
	static struct conn conns[2];
	int which = 0;
	if (raw_register(&conns[0]) != 0)
		return 10;
	rep.registrations++;
	atomic_store(&cur, &conns[0]);
	pthread_t torn, storm;
	if (pthread_create(&torn, NULL, torn_main, (void *)(uintptr_t)rnd(&s)) != 0 ||
	    pthread_create(&storm, NULL, storm_main, NULL) != 0)
		return 11;
	struct pool pool = { .n = 0 };
	struct conn *c = &conns[0];
	uint32_t tail = c->h->sq_tail, cqh = c->h->cq_head;
	uint64_t next_corrupt = corrupt_every;
	unsigned kind = 0;
	while (rep.consumed < target) {
		int reconnect = 0;
		if (rep.consumed >= next_corrupt) {
			next_corrupt += corrupt_every;
			corrupt(c, &tail, &cqh, kind++, &rep, &s);
			reconnect = 1;
		} else {
			/* garbage in the args area, or reference values where a select or copy looks */
			uint64_t r = rnd(&s);
			if (r % 4 == 0) {
				uint32_t off = (uint32_t)((r >> 8) % DIOS_ARGS_BYTES), n = (uint32_t)((r >> 32) % 512);
				for (uint32_t i = 0; i < n && off + i < DIOS_ARGS_BYTES; i++)
					c->args[off + i] = (uint8_t)rnd(&s);
			} else if (r % 4 == 1) {
				uint32_t off = 8 * (uint32_t)((r >> 8) % (DIOS_ARGS_BYTES / 8 - 64));
				for (int i = 0; i < 64; i++)
					memcpy(c->args + off + 8 * i, &(uint64_t){ pick_ref(&pool, c, rnd(&s)) }, 8);
			}
			uint32_t head = __atomic_load_n(&c->h->sq_head, __ATOMIC_ACQUIRE);
			uint32_t room = DIOS_SQ_ENTRIES - (tail - head);
			uint32_t n = 1 + (uint32_t)(rnd(&s) % DIOS_SQ_ENTRIES);
			if (n > room)
				n = room;
			struct dios_sqe *sq = (struct dios_sqe *)c->sq;
			for (uint32_t i = 0; i < n; i++)
				gen_entry(&sq[(tail + i) & (DIOS_SQ_ENTRIES - 1)], &pool, c, &s);
			tail += n;
			rep.published += n;
			__atomic_store_n(&c->h->sq_tail, tail, __ATOMIC_RELEASE);
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			if (__atomic_load_n(&c->h->sq_flags, __ATOMIC_RELAXED) & D_SQ_NEED_WAKEUP) {
				uint64_t one = 1;
				ssize_t w = write(c->doorbell, &one, sizeof one);
				(void)w;
			}
			if (wait_consumed(c, tail, &rep)) {
				rep.consumed += n;
			} else {
				rep.unexpected++;       /* dropped for something else: the log says why */
				rep.disconnects++;
				reconnect = 1;
			}
			reap(c, &cqh, &pool, &rep, &s);
			drain_socket(c->sock);
		}
		if (reconnect) {
			struct conn *n = &conns[which ^ 1];
			if (raw_register(n) != 0)
				return 12;
			rep.registrations++;
			switch_conn(c, n);
			which ^= 1;
			c = n;
			tail = c->h->sq_tail;
			cqh = c->h->cq_head;
			pool.n = 0;             /* the old values mean nothing now */
		}
	}
	atomic_store(&stop_helpers, 1);
	pthread_join(torn, NULL);
	pthread_join(storm, NULL);
	rep.torn = atomic_load(&torn_writes);
	rep.doorbells = atomic_load(&doorbell_writes);
	if (write(report_fd, &rep, sizeof rep) != (ssize_t)sizeof rep)
		return 13;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The task that makes well-formed calls with wrong values                   */
/* ------------------------------------------------------------------------ */

struct foreign { uint64_t shm, fifo, group, task; };

static int stop_requested(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) == 1;
}

/* Which of our own references a value is (its id exactly), or -1. */
static int held(dios_ref_t *const *mine, int n, uint64_t v)
{
	for (int i = 0; i < n; i++)
		if ((uint64_t)(uintptr_t)mine[i] == v)
			return i;
	return -1;
}

static int wrong_main(const struct foreign *f, int stop_fd, int report_fd)
{
	alarm(long_mode() ? 3000 : 110);
	uint64_t s = 0x51ed270b27f2c8a9ull ^ (uint64_t)getpid();
	uint64_t size = 4096;
	dios_ref_t *mine[4];
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &mine[0], 0), 0);
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, NULL, NULL, &mine[1], 0), 0);
	CHECK_EQ(dios_create(0, D_OBJ_GROUP, NULL, NULL, &mine[2], 0), 0);
	mine[3] = dios_self();
	uint64_t tag = (uint64_t)(uintptr_t)mine[0] >> 48;
	const uint64_t foreign[] = { f->shm, f->fifo, f->group, f->task };
	static dios_ref_t *many[DIOS_MAX_SELECT_REFS + 1];
	for (unsigned i = 0; i <= DIOS_MAX_SELECT_REFS; i++)
		many[i] = mine[0];
	uint64_t calls = 0;
	for (uint64_t i = 0; !stop_requested(stop_fd) || i < 2000; i++) {
		uint64_t r = rnd(&s);
		dios_iovec_t *iov = NULL, fake = { .buf = &fake, .len = 8 };
		dios_ref_info_t info;
		switch (r % 12) {
		case 0: {       /* a reference value of another task: never ours */
			uint64_t v = foreign[(r >> 8) % 4];
			if (v >> 48 == tag)
				break;          /* the 1-in-65536 tag collision: the value may name one of ours */
			dios_ref_t *x = (dios_ref_t *)(uintptr_t)v;
			CHECK_EQ(dios_ref_info(x, &info), -EBADF);
			CHECK_EQ(dios_acquire_read(D_NONBLOCK, x, 0, &iov), -EBADF);
			CHECK_EQ(dios_acquire_write(D_NONBLOCK, x, 8, &iov), -EBADF);
			CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, x), -EBADF);
			CHECK_EQ(dios_select(D_NONBLOCK, &x, 1, &(dios_ref_t *){ NULL }), -EBADF);
			CHECK_EQ(dios_copy(0, &mine[0], 1, x), -EBADF);
			calls += 6;
			break;
		}
		case 1: {       /* a guessed value: it works only if it is exactly one we hold */
			uint64_t v = r % 2 ? rnd(&s) : (tag << 48) | (rnd(&s) & 0xffffffffffffull);
			if (v == 0)
				break;
			int rc = dios_ref_info((dios_ref_t *)(uintptr_t)v, &info);
			if (held(mine, 4, v) >= 0)
				CHECK_EQ(rc, 0);
			else
				CHECK_EQ(rc, -EBADF);
			calls++;
			break;
		}
		case 2:         /* wrong types */
			CHECK_EQ(dios_acquire_write(D_NONBLOCK, dios_self(), 8, &iov), -EACCES);   /* our task: read only */
			CHECK_EQ(dios_run(0, mine[0], &(dios_task_spec_t){ .argc = 1, .argv = (char *[]){ "x", NULL } },
					  &(dios_ref_t *){ NULL }), -ENOEXEC);
			CHECK_EQ(dios_copy(0, &mine[0], 1, mine[0]), -EINVAL);                       /* not a task */
			CHECK_EQ(dios_create_in(0, D_OBJ_SHMEM, &size, &(dios_name_t){ { 0 } },
						&(dios_ref_t *){ NULL }, mine[0]), -EINVAL);       /* not a group */
			CHECK_EQ(dios_acquire_read(D_NONBLOCK, mine[2], 0, &iov), -EOPNOTSUPP);    /* a group holds no bytes */
			calls += 5;
			break;
		case 3:         /* double release: the second is refused by the shim */
			CHECK_EQ(dios_acquire_read(0, mine[0], 0, &iov), 0);
			CHECK_EQ(dios_release_read(0, mine[0], iov), 0);
			CHECK_EQ(dios_release_read(0, mine[0], iov), -EFAULT);
			calls += 3;
			break;
		case 4:         /* commits without an acquire */
			CHECK_EQ(dios_commit_write(0, mine[0], 8, &fake), -EFAULT);
			CHECK_EQ(dios_commit_read(0, mine[0], &fake), -EFAULT);
			CHECK_EQ(dios_release_write(0, mine[0], &fake), -EFAULT);
			calls += 3;
			break;
		case 5:         /* a buffer released through another reference, committed past its end */
			CHECK_EQ(dios_acquire_write(0, mine[0], 64, &iov), 0);
			CHECK_EQ(dios_commit_write(0, mine[0], 65, iov), -EINVAL);
			CHECK_EQ(dios_release_write(0, mine[2], iov), -EINVAL);
			CHECK_EQ(dios_release_write(0, mine[0], iov), 0);
			calls += 4;
			break;
		case 6: {       /* a released reference: stale */
			dios_ref_t *t = NULL;
			CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &t, 0), 0);
			CHECK_EQ(dios_delete(0, t), 0);
			CHECK_EQ(dios_delete(0, t), -EBADF);
			CHECK_EQ(dios_ref_info(t, &info), -EBADF);
			calls += 4;
			break;
		}
		case 7: {       /* names nobody gave us */
			dios_name_t n;
			for (int k = 0; k < 4; k++)
				memcpy(n.raw + 8 * k, &(uint64_t){ rnd(&s) }, 8);
			dios_ref_t *x = NULL;
			uint64_t cnt = 1;
			CHECK_EQ(dios_lookup(0, &n, &x, &cnt), -ENOENT);
			calls++;
			break;
		}
		case 8:         /* zombify what we may not; out-of-range arguments */
			CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, dios_self()), -EACCES);
			CHECK_EQ(dios_acquire_read(0, mine[0], 4097, &iov), -EINVAL);
			CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &(uint64_t){ DIOS_MAX_OBJECT_SIZE + 1 }, NULL, &(dios_ref_t *){ NULL }, 0),
				 -EINVAL);
			CHECK_EQ(dios_select(0, many, DIOS_MAX_SELECT_REFS + 1, &(dios_ref_t *){ NULL }), -E2BIG);
			calls += 4;
			break;
		case 9:         /* a select that would park, without waiting */
			CHECK_EQ(dios_select(D_NONBLOCK, &mine[3], 1, &(dios_ref_t *){ NULL }), -EAGAIN);
			calls++;
			break;
		default:
			CHECK_EQ(dios_nop(0), 0);
			calls++;
			break;
		}
	}
	for (int i = 0; i < 3; i++)
		CHECK_EQ(dios_delete(0, mine[i]), 0);
	CHECK_EQ(write(report_fd, &calls, sizeof calls), (ssize_t)sizeof calls);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Honest work                                                               */
/* ------------------------------------------------------------------------ */

struct sums { uint64_t bytes, sum; };

static int fifo_writer(const dios_name_t *name, int stop_fd, int report_fd)
{
	alarm(long_mode() ? 3000 : 110);
	dios_ref_t *w = NULL;
	uint64_t n = 1;
	CHECK_EQ(dios_lookup(0, name, &w, &n), 0);
	uint64_t pos = 0, sum = 0, rng = 88172645463325252ull;
	uint64_t min_bytes = long_mode() ? (1ull << 30) : (32ull << 20);
	while (pos < min_bytes || !stop_requested(stop_fd)) {
		rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
		uint64_t len = 8 * (1 + rng % (16384 / 8));
		dios_iovec_t *iov = NULL;
		CHECK_EQ(dios_acquire_write(0, w, len, &iov), 0);
		sum += dt_stream_fill(iov->buf, pos, len);
		CHECK_EQ(dios_commit_write(0, w, len, iov), 0);
		CHECK_EQ(dios_release_write(0, w, iov), 0);
		pos += len;
	}
	struct sums out = { pos, sum };
	CHECK_EQ(write(report_fd, &out, sizeof out), (ssize_t)sizeof out);
	CHECK_EQ(dios_delete(0, w), 0);          /* end of stream */
	return 0;
}

static int fifo_reader(const dios_name_t *name, int report_fd)
{
	alarm(long_mode() ? 3000 : 110);
	dios_ref_t *rd = NULL;
	uint64_t n = 1;
	CHECK_EQ(dios_lookup(0, name, &rd, &n), 0);
	uint64_t pos = 0, sum = 0;
	for (;;) {
		dios_iovec_t *iov = NULL;
		int r = dios_acquire_read(0, rd, 0, &iov);
		if (r == -EPIPE)
			break;
		CHECK_EQ(r, 0);
		sum += DT_STREAM_CHECK(iov->buf, pos, iov->len);
		pos += iov->len;
		CHECK_EQ(dios_release_read(0, rd, iov), 0);
	}
	struct sums out = { pos, sum };
	CHECK_EQ(write(report_fd, &out, sizeof out), (ssize_t)sizeof out);
	CHECK_EQ(dios_delete(0, rd), 0);
	return 0;
}

static int mem_worker(int stop_fd, int report_fd)
{
	alarm(long_mode() ? 3000 : 110);
	uint64_t verified = 0, rng = 0x1234567887654321ull;
	for (uint32_t seed = 1; seed < 200 || !stop_requested(stop_fd); seed++) {
		rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
		uint64_t size = 4096 * (1 + rng % 64);
		dios_object_type_t type = seed % 3 == 0 ? D_OBJ_BLOB : D_OBJ_SHMEM;
		dios_name_t name;
		dios_ref_t *ref = NULL;
		/* every 16th blob is durable (named): journaled and fsynced before the call returns */
		int durable = type == D_OBJ_BLOB && seed % 16 == 0;
		CHECK_EQ(dios_create(0, type, &size, durable ? &name : NULL, &ref, 0), 0);
		dios_iovec_t *w = NULL, *r = NULL;
		CHECK_EQ(dios_acquire_write(0, ref, size, &w), 0);
		CHECK_EQ(w->len, size);
		dt_fill(w->buf, size, seed);
		CHECK_EQ(dios_commit_write(0, ref, size, w), 0);
		CHECK_EQ(dios_release_write(0, ref, w), 0);
		dios_ref_t *rd = ref;
		if (durable) {          /* read it back through its name */
			uint64_t n = 1;
			CHECK_EQ(dios_lookup(D_LOOKUP_READONLY, &name, &rd, &n), 0);
		}
		CHECK_EQ(dios_acquire_read(0, rd, 0, &r), 0);
		CHECK_EQ(r->len, size);
		CHECK_EQ(dt_verify(r->buf, size, seed), -1);
		CHECK_EQ(dios_commit_read(0, rd, r), 0);
		CHECK_EQ(dios_release_read(0, rd, r), 0);
		verified += size;
		if (durable) {
			CHECK_EQ(dios_delete(0, rd), 0);
			CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, ref), 0);
		} else {
			CHECK_EQ(dios_delete(0, ref), 0);
		}
	}
	CHECK_EQ(write(report_fd, &verified, sizeof verified), (ssize_t)sizeof verified);
	return 0;
}

struct nops { uint64_t calls, max_ns, over; };

static int nop_prober(int stop_fd, int report_fd)
{
	alarm(long_mode() ? 3000 : 110);
	struct nops out = { 0, 0, 0 };
	while (!stop_requested(stop_fd)) {
		uint64_t t0 = dt_now_ns();
		CHECK_EQ(dios_nop(0), 0);
		uint64_t d = dt_now_ns() - t0;
		out.calls++;
		if (d > out.max_ns)
			out.max_ns = d;
		if (d > NOP_BOUND_NS) {
			out.over++;
			fprintf(stderr, "nop: a null call took %.1f s\n", (double)d / 1e9);
			if (out.over == 1)
				dump_daemon();
		}
		struct timespec ts = { 0, 5000000 };
		nanosleep(&ts, NULL);
	}
	CHECK_EQ(write(report_fd, &out, sizeof out), (ssize_t)sizeof out);
	return 0;
}

/* ------------------------------------------------------------------------ */

static int stop_rd = -1, stop_wr = -1;
static const dios_name_t *g_fifo_name;
static struct foreign g_foreign;

static int run_hostile(int fd) { return hostile_main(fd); }
static int run_wrong(int fd) { return wrong_main(&g_foreign, stop_rd, fd); }
static int run_fifo_w(int fd) { return fifo_writer(g_fifo_name, stop_rd, fd); }
static int run_fifo_r(int fd) { return fifo_reader(g_fifo_name, fd); }
static int run_mem(int fd) { return mem_worker(stop_rd, fd); }
static int run_nop(int fd) { return nop_prober(stop_rd, fd); }

/* Forks a task running fn(report fd); *report_rd reads its report. */
static pid_t spawn(int (*fn)(int), int *report_rd)
{
	int p[2];
	CHECK_EQ(pipe(p), 0);
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		close(stop_wr);         /* else the stop pipe never closes: the parent's close is the signal */
		_exit(fn(p[1]));
	}
	close(p[1]);
	*report_rd = p[0];
	return pid;
}

static void read_report(int fd, void *buf, size_t n, const char *who)
{
	ssize_t k = read(fd, buf, n);
	if (k != (ssize_t)n)
		dt_fail(__FILE__, __LINE__, "%s sent no report (%zd bytes)", who, k);
	close(fd);
}

static int count_lines(const char *pattern)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "grep -c -- '%s' %s/diosd.log", pattern, dt_dir());
	FILE *f = popen(cmd, "r");
	int n = -1;
	if (!f || fscanf(f, "%d", &n) != 1)
		n = -1;
	if (f)
		pclose(f);
	return n;
}

int main(void)
{
	if (getenv("DIOS_FD"))
		return 0;               /* started by a hostile dios_run: do nothing */
	alarm(long_mode() ? 3300 : 115);
	static const char *const args[] = { "--dumpable", NULL };   /* jcmd may look at it if it stalls */
	dt_daemon_args = args;
	dt_start_daemon();
	dt_register();
	dios_daemon_stats_t base = dt_stats();
	uint64_t t0 = dt_now_ns();

	/* references of this task, which the wrong-call task holds as foreign values */
	uint64_t size = 4096;
	dios_ref_t *fshm = NULL, *ffifo = NULL, *fgroup = NULL;
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &fshm, 0), 0);
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, NULL, NULL, &ffifo, 0), 0);
	CHECK_EQ(dios_create(0, D_OBJ_GROUP, NULL, NULL, &fgroup, 0), 0);
	g_foreign = (struct foreign){ (uintptr_t)fshm, (uintptr_t)ffifo, (uintptr_t)fgroup, (uintptr_t)dios_self() };

	dios_name_t fname;
	dt_random_name(&fname);
	uint64_t cap = 256 * 1024;
	dios_ref_t *fifo = NULL;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_FIFO, &cap, &fname, &fifo, 0), 0);
	g_fifo_name = &fname;

	int stop[2];
	CHECK_EQ(pipe(stop), 0);
	stop_rd = stop[0];
	stop_wr = stop[1];
	int rh, rw, rfw, rfr, rm, rn;
	pid_t ph = spawn(run_hostile, &rh);
	pid_t pw = spawn(run_wrong, &rw);
	pid_t pfw = spawn(run_fifo_w, &rfw);
	pid_t pfr = spawn(run_fifo_r, &rfr);
	pid_t pm = spawn(run_mem, &rm);
	pid_t pn = spawn(run_nop, &rn);
	close(stop[0]);

	struct hreport hr;
	read_report(rh, &hr, sizeof hr, "the hostile task");
	CHECK_CHILD_OK(ph);
	uint64_t hostile_ns = dt_now_ns() - t0;
	close(stop[1]);                 /* the others stop now */
	uint64_t wrong_calls = 0, mem_bytes = 0;
	struct sums fw, fr;
	struct nops np;
	read_report(rw, &wrong_calls, sizeof wrong_calls, "the wrong-call task");
	read_report(rfw, &fw, sizeof fw, "the FIFO writer");
	read_report(rfr, &fr, sizeof fr, "the FIFO reader");
	read_report(rm, &mem_bytes, sizeof mem_bytes, "the memory worker");
	read_report(rn, &np, sizeof np, "the nop prober");
	CHECK_CHILD_OK(pw);
	CHECK_CHILD_OK(pfw);
	CHECK_CHILD_OK(pfr);
	CHECK_CHILD_OK(pm);
	CHECK_CHILD_OK(pn);

	/* the honest work came through intact */
	CHECK_EQ(fr.bytes, fw.bytes);
	CHECK_EQ(fr.sum, fw.sum);
	CHECK(np.calls > 0);
	CHECK_EQ(np.over, 0);
	/* and the daemon still answers at once */
	for (int i = 0; i < 100; i++) {
		uint64_t a = dt_now_ns();
		CHECK_EQ(dios_nop(0), 0);
		CHECK(dt_now_ns() - a < NOP_BOUND_NS);
	}

	fprintf(stderr, "t_hostile_fuzz: hostile: %llu entries published, %llu consumed, %llu completions "
		"(%llu ok, %llu -EINVAL, %llu -EBADF, %llu -ENOSYS, %llu other), %llu torn writes, %llu doorbell writes, "
		"%llu registrations, %llu index corruptions, %llu disconnects (%llu for other reasons) in %.1f s\n",
		(unsigned long long)hr.published, (unsigned long long)hr.consumed, (unsigned long long)hr.completions,
		(unsigned long long)hr.by_res[0], (unsigned long long)hr.by_res[EINVAL], (unsigned long long)hr.by_res[EBADF],
		(unsigned long long)hr.by_res[ENOSYS],
		(unsigned long long)(hr.completions - hr.by_res[0] - hr.by_res[EINVAL] - hr.by_res[EBADF] - hr.by_res[ENOSYS]),
		(unsigned long long)hr.torn, (unsigned long long)hr.doorbells, (unsigned long long)hr.registrations,
		(unsigned long long)hr.corruptions, (unsigned long long)hr.disconnects, (unsigned long long)hr.unexpected,
		(double)hostile_ns / 1e9);
	fprintf(stderr, "t_hostile_fuzz: meanwhile: %llu wrong calls answered with their exact errors, %llu FIFO bytes "
		"streamed and checked, %llu memory/blob bytes written and checked, %llu null calls (slowest %.1f ms)\n",
		(unsigned long long)wrong_calls, (unsigned long long)fr.bytes, (unsigned long long)mem_bytes,
		(unsigned long long)np.calls, (double)np.max_ns / 1e6);
	fprintf(stderr, "t_hostile_fuzz: hostile completions by result:");
	for (int e = 0; e < 128; e++)
		if (hr.by_res[e] && e == 0)
			fprintf(stderr, " 0=%llu", (unsigned long long)hr.by_res[e]);
		else if (hr.by_res[e] && dt_errname(-e)[0])
			fprintf(stderr, " %s=%llu", dt_errname(-e), (unsigned long long)hr.by_res[e]);
		else if (hr.by_res[e])
			fprintf(stderr, " -%d=%llu", e, (unsigned long long)hr.by_res[e]);
	fprintf(stderr, "\n");
	CHECK(hr.consumed >= target_entries());
	CHECK(hr.corruptions >= 4);
	CHECK(wrong_calls > 1000);

	/* every hostile disconnect has its reason in the log: one line per connection it lost */
	char pat[64];
	snprintf(pat, sizeof pat, "(pid %d) corrupt ring: ", (int)ph);
	int corrupt_lines = count_lines(pat);
	CHECK_EQ(corrupt_lines, (long long)hr.corruptions);
	snprintf(pat, sizeof pat, "(pid %d) .*released", (int)ph);
	int gone_lines = count_lines(pat);
	CHECK_EQ(gone_lines, (long long)hr.registrations);   /* the disconnects, and its exit */
	CHECK_EQ(count_lines("internal error"), 0);

	/*
	 * A durable blob outlives its creator by design.  The hostile task never asks for a
	 * named blob, but a torn entry can turn into one: find them through the admin
	 * listing (we are the daemon's user) and delete them as anyone holding the name may.
	 */
	int durable = 0;
	{
		const char *argv[] = { dt_tool_path(), "--raw", "names", NULL };
		static char out[1 << 16];
		char err[1024];
		CHECK_EQ(dt_run_capture(argv, dt_socket_path(), 0, out, sizeof out, err, sizeof err), 0);
		for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
			char text[64], type[32];
			unsigned long long id;
			if (sscanf(line, "%63s %llu %31s", text, &id, type) != 3 || strcmp(type, "blob") != 0)
				continue;
			dios_name_t n;
			CHECK_EQ(dios_strtoname(text, &n), 0);
			dios_ref_t *b = NULL;
			uint64_t cnt = 1;
			CHECK_EQ(dios_lookup(0, &n, &b, &cnt), 0);
			CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, b), 0);  /* kills it and releases our reference */
			durable++;
		}
	}
	fprintf(stderr, "t_hostile_fuzz: %d durable blob(s) the hostile task's torn entries made, deleted\n", durable);

	/* nothing left behind (our FIFO reference kept the name bound for the children's lookups) */
	CHECK_EQ(dios_delete(0, fifo), 0);
	CHECK_EQ(dios_delete(0, fshm), 0);
	CHECK_EQ(dios_delete(0, ffifo), 0);
	CHECK_EQ(dios_delete(0, fgroup), 0);
	dios_daemon_stats_t want = base;
	want.objects++;                 /* fgroup: its creator stays a member while it lives */
	dios_daemon_stats_t got = dt_wait_stats(&want, 10000);
	CHECK_STATS_EQ(got, want);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
