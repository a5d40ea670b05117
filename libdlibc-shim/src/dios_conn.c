/*
 * dios_conn.c - registration with diosd, the submission/completion rings, and
 * what a fork child drops (PROTOCOL.md sections 1-3 and 9).
 */
#include "dios_internal.h"

#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>

#define SPIN_NS_DEFAULT     20000ull
#define SPIN_STEP_NS        1000ull            /* adaptive spin: growth step */
#define SPIN_FLOOR_NS       500ull             /* adaptive spin: never below (keeps learning) */
#define FUTEX_TIMEOUT_NS    100000000L     /* 100 ms: the bound on noticing a dead daemon */
#define WELCOME_TIMEOUT_MS  10000          /* registration answer */

struct dios_conn g_dios = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.reap_lock = PTHREAD_MUTEX_INITIALIZER,
	.state = DIOS_ST_IDLE,
	.sock = -1,
	.doorbell = -1,
};
pthread_mutex_t dios__book_lock = PTHREAD_MUTEX_INITIALIZER;
#define now_ns dios__now_ns

static dios_name_t self_exe_copy;   /* process-static copy of hdr->self_exe */
/* A task diosd spawned: the connected socket it inherited (DIOS_FD), until the first call uses it. */
static int inherited_fd = -1;

/* One line to stderr without stdio (no malloc inside the shim). */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof buf)
		n = sizeof buf - 1;
	ssize_t w = write(STDERR_FILENO, buf, (size_t)n);
	(void)w;
}

static void release_resources(void)
{
	if (g_dios.hdr)
		dios__sys_munmap(g_dios.hdr, DIOS_REGION_SIZE);
	if (g_dios.sock >= 0)
		close(g_dios.sock);
	if (g_dios.doorbell >= 0)
		close(g_dios.doorbell);
	g_dios.hdr = NULL;
	g_dios.sq = NULL;
	g_dios.cq = NULL;
	g_dios.sock = -1;
	g_dios.doorbell = -1;
	g_dios.held = 0;
}

void dios__mark_dead(void)
{
	/* the fds and the region stay until no call is in flight: see ensure_conn_locked */
	__atomic_store_n(&g_dios.state, DIOS_ST_DEAD, __ATOMIC_RELEASE);
}

/*
 * Submission runs under g_dios.lock, and a call may wait for its completion
 * for long.  Cancellation is held off for the whole call: poll, recvmsg,
 * nanosleep and futex waits are cancellation points, and a thread cancelled
 * there would leave a lock held or a call slot in flight forever.
 */
static int call_lock(void)
{
	int old;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	pthread_mutex_lock(&g_dios.lock);
	return old;
}

static void call_unlock(int old)
{
	pthread_mutex_unlock(&g_dios.lock);
	pthread_setcancelstate(old, NULL);
}

/* ---- registration (section 1) -------------------------------------------- */

/*
 * /tmp/dios-<uid> is in a directory everyone may write: another user could
 * have made it first, with a listener of their own, and would then receive
 * our connection, stdio and terminal.  Use it only if it is ours (or root's)
 * and nobody else may write to it.  0 if safe (or absent), 1 if not.
 */
static int tmp_dir_unsafe(const char *path)
{
	char dir[sizeof ((struct sockaddr_un *)0)->sun_path];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	struct stat st;
	if (lstat(dir, &st) != 0)
		return 0;                       /* absent: nothing listens there either */
	if (S_ISDIR(st.st_mode) && (st.st_uid == getuid() || st.st_uid == 0) && !(st.st_mode & 022))
		return 0;
	static int said;
	if (!said++)
		say("libdlibc: not using %s: %s belongs to uid %u (mode %04o), not to this user, or others may write"
		    " to it; someone else may have made it\n", path, dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
	return 1;
}

/*
 * Candidate i of the daemon's path: $DIOS_SOCKET alone when set; else the
 * per-user default, then the system service's socket.  -1 when there is no
 * candidate i, 1 when candidate i must not be used (see tmp_dir_unsafe).
 */
static int socket_path(struct sockaddr_un *sa, int i)
{
	const char *env = getenv(DIOS_ENV_SOCKET);
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (i > 1 || (i == 1 && env && env[0]))
		return -1;
	if (i == 1)
		n = snprintf(sa->sun_path, sizeof sa->sun_path, "%s", DIOS_SYSTEM_SOCKET);
	else if (env && env[0])
		n = snprintf(sa->sun_path, sizeof sa->sun_path, "%s", env);
	else if (xdg && xdg[0])
		n = snprintf(sa->sun_path, sizeof sa->sun_path, "%s/" DIOS_RUNTIME_SUBDIR "/" DIOS_SOCKET_NAME, xdg);
	else {
		n = snprintf(sa->sun_path, sizeof sa->sun_path, DIOS_TMP_DIR_PREFIX "%u/" DIOS_SOCKET_NAME,
			     (unsigned)getuid());
		if (n > 0 && (size_t)n < sizeof sa->sun_path && tmp_dir_unsafe(sa->sun_path))
			return 1;
	}
	return (n > 0 && (size_t)n < sizeof sa->sun_path) ? 0 : -1;
}

static uint64_t spin_ns_from_env(void)
{
	const char *s = getenv(DIOS_ENV_SPIN_NS);
	if (!s || !s[0])
		return SPIN_NS_DEFAULT;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || s[0] == '-')
		return SPIN_NS_DEFAULT;
	return v;
}

static void version_mismatch(uint32_t theirs)
{
	say("libdlibc: diosd speaks DIOS ABI version %" PRIu32 ", this libdlibc version %u: not connecting\n",
	    theirs, DIOS_ABI_VERSION);
}

/*
 * Connect and register.  Returns 0 (state UP), or -ENOTCONN with state IDLE
 * (daemon not reachable: retried on the next call) or DEAD (the daemon
 * answered but refused or broke the protocol: not retried).
 */
static int do_connect(void)
{
	struct sockaddr_un sa;
	int fds[2] = { -1, -1 };
	int nfd = 0;
	int permanent = 0;
	int refused = 0;                        /* the welcome's status, when the daemon said no */
	void *region = MAP_FAILED;

	int s = -1, r = -1;
	if (inherited_fd >= 0) {                /* spawned by diosd: connected already */
		s = inherited_fd;
		inherited_fd = -1;
		r = 0;
	}
	for (int cand = 0, sp; r < 0 && (sp = socket_path(&sa, cand)) >= 0; cand++) {
		if (sp > 0)
			continue;               /* not this one: see tmp_dir_unsafe */
		if (s >= 0)
			close(s);
		s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (s < 0)
			return -ENOTCONN;
		do
			r = connect(s, (struct sockaddr *)&sa, sizeof sa);
		while (r < 0 && errno == EINTR);
		if (r < 0 && errno != ENOENT && errno != ECONNREFUSED)
			break;                  /* e.g. EACCES: the daemon is there, we may not use it */
	}
	if (s < 0)
		return -ENOTCONN;
	if (r < 0)
		goto fail;

	/*
	 * Started from a terminal: hand the daemon our own description of it
	 * (/dev/tty, not fd 0 or 1, so its non-blocking mode never touches ours):
	 * the console object reads and writes there.
	 */
	int tty = -1;
	if (isatty(STDIN_FILENO) || isatty(STDOUT_FILENO) || isatty(STDERR_FILENO))
		tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	/* our stdin, stdout and stderr too: tasks we spawn inherit them */
	int stdio_ok = fcntl(STDIN_FILENO, F_GETFD) >= 0 && fcntl(STDOUT_FILENO, F_GETFD) >= 0 &&
		       fcntl(STDERR_FILENO, F_GETFD) >= 0;
	int hfds[4], nh = 0;
	if (tty >= 0)
		hfds[nh++] = tty;
	if (stdio_ok) {
		hfds[nh++] = STDIN_FILENO;
		hfds[nh++] = STDOUT_FILENO;
		hfds[nh++] = STDERR_FILENO;
	}
	struct dios_msg_hello hello = { .magic = DIOS_MSG_HELLO, .abi_version = DIOS_ABI_VERSION,
					.flags = (tty >= 0 ? D_HELLO_F_TTY : 0) | (stdio_ok ? D_HELLO_F_STDIO : 0) };
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} hctl;
	struct iovec hio = { .iov_base = &hello, .iov_len = sizeof hello };
	struct msghdr hmh = { .msg_iov = &hio, .msg_iovlen = 1 };
	if (nh > 0) {
		memset(&hctl, 0, sizeof hctl);
		hmh.msg_control = hctl.buf;
		hmh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nh);
		struct cmsghdr *c = CMSG_FIRSTHDR(&hmh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nh);
		memcpy(CMSG_DATA(c), hfds, sizeof(int) * (size_t)nh);
	}
	ssize_t n;
	do
		n = sendmsg(s, &hmh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (tty >= 0)
		close(tty);
	if (n != (ssize_t)sizeof hello)
		goto fail;

	/* the answer: never wait forever for it */
	struct pollfd pfd = { .fd = s, .events = POLLIN };
	do
		r = poll(&pfd, 1, WELCOME_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		goto fail;

	struct dios_msg_welcome w;
	union {
		char buf[CMSG_SPACE(sizeof(int) * 2)];
		struct cmsghdr align;
	} ctl;
	struct iovec io = { .iov_base = &w, .iov_len = sizeof w };
	struct msghdr mh = {
		.msg_iov = &io, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf,
	};
	do
		n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		goto fail;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k; i++) {
				int fd;
				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
				if (nfd < 2)
					fds[nfd++] = fd;
				else
					close(fd);
			}
		}
	permanent = 1;          /* from here on the daemon answered: a failure is final */
	if ((size_t)n != sizeof w || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || w.magic != DIOS_MSG_WELCOME)
		goto fail;
	if (w.abi_version != DIOS_ABI_VERSION) {
		version_mismatch(w.abi_version);
		goto fail;
	}
	if (w.status < 0)
		refused = w.status;
	if (w.status < 0 || nfd != 2 || w.region_size != DIOS_REGION_SIZE)
		goto fail;

	struct stat st;
	if (fstat(fds[0], &st) != 0 || st.st_size < (off_t)DIOS_REGION_SIZE)
		goto fail;      /* mapping past the end would SIGBUS on access */
	region = dios__sys_mmap(NULL, DIOS_REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	if (region == MAP_FAILED)
		goto fail;
	close(fds[0]);
	fds[0] = -1;

	struct dios_region_header *h = region;
	if (h->magic != DIOS_REGION_MAGIC)
		goto fail;
	/* acquire: pairs with the daemon's release store of abi_version, published last */
	uint32_t ver = dios__load_acquire(&h->abi_version);
	if (ver != DIOS_ABI_VERSION) {
		version_mismatch(ver);
		goto fail;
	}
	if (h->region_size != DIOS_REGION_SIZE ||
	    h->sq_offset != DIOS_REGION_SQ_OFFSET || h->sq_entries != DIOS_SQ_ENTRIES ||
	    h->sqe_size != sizeof(struct dios_sqe) ||
	    h->cq_offset != DIOS_REGION_CQ_OFFSET || h->cq_entries != DIOS_CQ_ENTRIES ||
	    h->cqe_size != sizeof(struct dios_cqe))
		goto fail;

	g_dios.sock = s;
	g_dios.doorbell = fds[1];
	g_dios.hdr = h;
	g_dios.sq = (struct dios_sqe *)((char *)region + DIOS_REGION_SQ_OFFSET);
	g_dios.cq = (struct dios_cqe *)((char *)region + DIOS_REGION_CQ_OFFSET);
	g_dios.sq_tail = dios__load_relaxed(&h->sq_tail);
	g_dios.cq_head = dios__load_relaxed(&h->cq_head);
	g_dios.sq_head_cache = dios__load_relaxed(&h->sq_head);
	g_dios.held = 1;
	g_dios.args_bits = 0;
	g_dios.spin_ns = spin_ns_from_env();
	g_dios.spin_budget = g_dios.spin_ns;
	g_dios.task_id = h->task_id;
	g_dios.self_ref = h->self_ref;
	memcpy(self_exe_copy.raw, h->self_exe, sizeof self_exe_copy.raw);
	__atomic_store_n(&g_dios.state, DIOS_ST_UP, __ATOMIC_RELEASE);
	return 0;

fail:
	if (region != MAP_FAILED)
		dios__sys_munmap(region, DIOS_REGION_SIZE);
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	close(s);
	/* A task limit (diosd --max-tasks, --max-tasks-per-user) is -EAGAIN, and not for
	 * good: the next call tries again, once other tasks may have gone. */
	if (refused == -EAGAIN)
		return -EAGAIN;
	if (permanent)
		g_dios.state = DIOS_ST_DEAD;
	return -ENOTCONN;
}

/* Under g_dios.lock.  0 when the ring is usable, else -ENOTCONN. */
static int ensure_conn(void)
{
	if (g_dios.state == DIOS_ST_IDLE && do_connect() == -EAGAIN)
		return -EAGAIN;                 /* refused for now: too many tasks */
	if (g_dios.state != DIOS_ST_UP)
		return -ENOTCONN;
	/* a clean shutdown is announced in the region: fail at once */
	if (dios__load_acquire(&g_dios.hdr->daemon_state) & D_DSTATE_SHUTDOWN) {
		dios__mark_dead();
		return -ENOTCONN;
	}
	return 0;
}

/* Is the daemon gone?  Shutdown flag in the region, or the socket hung up. */
static int daemon_gone(void)
{
	/* acquire: the daemon's shutdown announcement */
	if (dios__load_acquire(&g_dios.hdr->daemon_state) & D_DSTATE_SHUTDOWN)
		return 1;
	/* POLLIN alone is normal (queued SEGMENT messages) */
	struct pollfd p = { .fd = g_dios.sock, .events = POLLIN | POLLRDHUP };
	int r = poll(&p, 1, 0);
	if (r > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL)))
		return 1;
	return 0;
}

/*
 * For waits outside the ring (a FIFO end sleeping on its peer's futex): is the
 * daemon gone?  While the caller counts itself in flight (dios__wait_begin),
 * the region and socket cannot be released under it.
 */
int dios__daemon_gone(void)
{
	if (__atomic_load_n(&g_dios.state, __ATOMIC_ACQUIRE) != DIOS_ST_UP)
		return 1;
	if (daemon_gone()) {
		dios__mark_dead();
		return 1;
	}
	return 0;
}

void dios__wait_begin(void)
{
	__atomic_fetch_add(&g_dios.inflight, 1, __ATOMIC_ACQ_REL);
}

void dios__wait_end(void)
{
	__atomic_fetch_sub(&g_dios.inflight, 1, __ATOMIC_ACQ_REL);
}

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
		if (daemon_gone()) {
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
		if (daemon_gone()) {
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
		if (daemon_gone()) {
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
	/* slots: at most DIOS_CQ_ENTRIES calls in flight; wait for others to finish */
	unsigned got = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!q[i].submitted || q[i].fifo == DIOS__FIFO_NOTIFY)
			continue;               /* a notify gets no completion: no slot */
		int sl;
		while ((sl = slot_alloc()) < 0) {
			pthread_mutex_unlock(&g_dios.lock);
			struct timespec ts = { 0, 50000 };
			nanosleep(&ts, NULL);
			pthread_mutex_lock(&g_dios.lock);
			if (g_dios.state != DIOS_ST_UP)
				break;
		}
		if (sl < 0 || g_dios.state != DIOS_ST_UP) {
			if (sl >= 0)
				slot_free((uint32_t)sl);
			for (unsigned j = 0; j < i; j++)
				if (q[j].submitted && q[j].fifo != DIOS__FIFO_NOTIFY)
					slot_free(q[j].slot);
			return -ENOTCONN;
		}
		q[i].slot = (uint32_t)sl;
		got++;
	}
	int rc = sq_reserve(k);
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

/* Under lock: connect if needed; release what a dead connection left once nothing is in flight. */
static int ensure_conn_locked(void)
{
	if (g_dios.state == DIOS_ST_DEAD && g_dios.held &&
	    __atomic_load_n(&g_dios.inflight, __ATOMIC_RELAXED) == 0 &&
	    pthread_mutex_trylock(&g_dios.reap_lock) == 0) {
		release_resources();
		pthread_mutex_unlock(&g_dios.reap_lock);
	}
	return ensure_conn();
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
		int cs = call_lock();
		int rc = ensure_conn_locked();
		if (rc == 0)
			rc = submit(u, k);
		call_unlock(cs);
		if (rc)
			return;
		collect(u, k, c);
	}
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
	if (nsub == 0)
		return 0;
	int cs = call_lock();
	rc = ensure_conn_locked();
	if (rc == 0)
		rc = submit(q, n);
	call_unlock(cs);
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

int dios__exec(struct dios_req *q, unsigned n)
{
	int rc, again;
	for (unsigned i = 0; i < n; i++) {
		q[i].res = DIOS__PENDING;
		q[i].wait_t0 = 0;
	}
	do
		rc = exec_round(q, n, &again);
	while (again);
	for (unsigned i = 0; i < n; i++)
		if (q[i].res == DIOS__PENDING)
			q[i].res = -ENOTCONN;
	return rc;
}

/* ---- task identity -------------------------------------------------------- */

dios_ref_t *dios_self(void)
{
	dios_ref_t *r = NULL;
	int cs = call_lock();
	if (ensure_conn_locked() == 0)
		r = dios__ref(g_dios.self_ref);
	call_unlock(cs);
	return r;
}

const dios_name_t *dios_self_exe(void)
{
	const dios_name_t *n = NULL;
	int cs = call_lock();
	if (ensure_conn_locked() == 0)
		n = &self_exe_copy;
	call_unlock(cs);
	return n;
}

/* ---- fork (section 9) and start-up: called from dios_fork.c ------------- */

/*
 * The child is a new task: drop the parent's connection and the ring's
 * bookkeeping (the locks are made new by dios_fork.c).
 */
void dios__conn_atfork_child(void)
{
	release_resources();
	g_dios.state = DIOS_ST_IDLE;
	g_dios.sq_tail = g_dios.cq_head = g_dios.sq_head_cache = 0;
	g_dios.self_ref = 0;
	g_dios.inflight = 0;
	if (inherited_fd >= 0) {                /* the parent's connection-to-be, not ours */
		close(inherited_fd);
		inherited_fd = -1;
	}
	g_dios.args_bits = 0;
	memset(g_dios.slot_bits, 0, sizeof g_dios.slot_bits);
	memset(&self_exe_copy, 0, sizeof self_exe_copy);
}

/*
 * A task diosd spawned finds its connection in DIOS_FD (always fd
 * DIOS_SPAWN_SOCKET_FD).  Taken before main runs, while the process has one
 * thread: made close-on-exec (a program it execs is not this task) and the
 * variable removed (a child it forks or execs connects by itself, through
 * DIOS_SOCKET, which diosd also set).
 */
void dios__conn_adopt_inherited_fd(void)
{
	const char *e = getenv(DIOS_ENV_FD);
	if (!e)
		return;
	char *end = NULL;
	long fd = strtol(e, &end, 10);
	struct stat st;
	if (end != e && *end == '\0' && fd >= 0 && fd < 1024 && fstat((int)fd, &st) == 0 && S_ISSOCK(st.st_mode)) {
		fcntl((int)fd, F_SETFD, FD_CLOEXEC);
		inherited_fd = (int)fd;
	}
	unsetenv(DIOS_ENV_FD);
}
