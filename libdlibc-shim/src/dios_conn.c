/*
 * dios_conn.c - registration with diosd, the mapped region and the daemon's
 * liveness, the connection's locks, and what a fork child drops (PROTOCOL.md
 * sections 1 and 9).  The rings themselves are dios_ring.c's.
 */
#include "dios_internal.h"

#include <fcntl.h>
#include <signal.h>
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
#define WELCOME_TIMEOUT_MS  10000          /* registration answer */

struct dios_conn g_dios = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.reap_lock = PTHREAD_MUTEX_INITIALIZER,
	.state = DIOS_ST_IDLE,
	.sock = -1,
	.doorbell = -1,
};
pthread_mutex_t dios__book_lock = PTHREAD_MUTEX_INITIALIZER;

static dios_name_t self_exe_copy;   /* process-static copy of hdr->self_exe */
/*
 * What dios_last_error_detail says for -ENOTCONN: the socket(s) the last
 * registration tried or used, why the last attempt failed (errno of connect;
 * 0: it connected), whether the daemon refused us or broke the protocol, and
 * whether it announced a shutdown.  Written under g_dios.lock.
 */
static char sock_tried[2 * sizeof ((struct sockaddr_un *)0)->sun_path + 8];
static int connect_errno;
static int refused_proto;
static int shutdown_seen;

/*
 * The watcher (one per connection, started when its first FIFO end is
 * attached): a thread blocked in poll on the control socket until it hangs
 * up, which then marks the connection dead at once.  FIFO calls done in
 * shared memory never ask the daemon anything; they learn of its death by
 * one load of g_dios.state (docs/ARCHITECTURE.md, "Daemon death").  Calls
 * through the ring need no watcher: their waits look at the socket.
 *
 * Its stack is static (no mmap: a locked Pure DIOS heap denies anonymous
 * mappings), so one watcher at a time: release_resources joins it before
 * the next connection starts another.  pthread_create allocates (the
 * thread's TLS vector), and on the DIOS heap that is a DIOS call: it runs
 * with no lock of the shim held, and watch_state tells the others.
 */
enum { WATCH_NONE = 0, WATCH_STARTING = 1, WATCH_ON = 2, WATCH_FAILED = 3 };
static pthread_t watcher;
static uint32_t watch_state;
static char watcher_stack[256 << 10] __attribute__((aligned(4096)));

/*
 * Tags (DIOS_REF_TAG_SHIFT) of the registrations of this process whose
 * daemon died, the last DEAD_TAGS of them: their references fail with
 * -ENOTCONN after dios_reconnect.  dios__dead_tags counts them (the ring
 * checks references only when it is not 0).
 */
#define DEAD_TAGS 64
static uint16_t dead_tags[DEAD_TAGS];
uint32_t dios__dead_tags;
static int tag_dead(uint64_t self_ref);
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

/* Under g_dios.lock.  0, or -EBUSY while a thread is still starting the watcher (try later). */
static int stop_watcher(void)
{
	uint32_t w = __atomic_load_n(&watch_state, __ATOMIC_ACQUIRE);
	if (w == WATCH_STARTING)
		return -EBUSY;          /* it may wait for g_dios.lock (a DIOS heap call): do not wait for it */
	if (w == WATCH_ON) {
		/* a watcher still polling (the daemon broke the protocol, or announced
		 * a shutdown it has not finished) sees its own side hang up */
		shutdown(g_dios.sock, SHUT_RDWR);
		pthread_join(watcher, NULL);
	}
	__atomic_store_n(&watch_state, WATCH_NONE, __ATOMIC_RELEASE);
	return 0;
}

/* 0, or -EBUSY (nothing released: see stop_watcher). */
static int release_resources(void)
{
	if (stop_watcher())
		return -EBUSY;
	if (g_dios.hdr && (dios__load_acquire(&g_dios.hdr->daemon_state) & D_DSTATE_SHUTDOWN))
		shutdown_seen = 1;
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
	return 0;
}

void dios__mark_dead(void)
{
	/* the fds and the region stay until no call is in flight: see dios__conn_ensure_locked */
	__atomic_store_n(&g_dios.state, DIOS_ST_DEAD, __ATOMIC_RELEASE);
}

static void *watch(void *arg)
{
	struct pollfd p = { .fd = (int)(intptr_t)arg, .events = POLLRDHUP };
	for (;;) {
		int r = poll(&p, 1, -1);
		if (r > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL)))
			break;
		if (r < 0 && errno != EINTR)
			break;
	}
	dios__mark_dead();
	/* the ring's sleepers look now, not at their next 100 ms check (shared futex: the daemon's word) */
	syscall(SYS_futex, &g_dios.hdr->cq_tail, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
	return NULL;
}

void dios__conn_watch(void)
{
	uint32_t none = WATCH_NONE;
	if (__atomic_load_n(&watch_state, __ATOMIC_RELAXED) != WATCH_NONE ||
	    !__atomic_compare_exchange_n(&watch_state, &none, WATCH_STARTING, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return;
	/* STARTING: the connection's socket and region stay (release_resources waits) */
	int ok = 0;
	if (__atomic_load_n(&g_dios.state, __ATOMIC_ACQUIRE) == DIOS_ST_UP) {
		pthread_attr_t a;
		sigset_t all, old;
		if (pthread_attr_init(&a) == 0) {
			sigfillset(&all);
			pthread_sigmask(SIG_SETMASK, &all, &old);     /* the program's signals are not its business */
			ok = pthread_attr_setstack(&a, watcher_stack, sizeof watcher_stack) == 0 &&
			     pthread_create(&watcher, &a, watch, (void *)(intptr_t)g_dios.sock) == 0;
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			pthread_attr_destroy(&a);
		}
	}
	/* without a thread (creation refused), FIFO calls learn of a death from the next call that reaches the ring */
	__atomic_store_n(&watch_state, ok ? WATCH_ON : WATCH_FAILED, __ATOMIC_RELEASE);
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
	sock_tried[0] = '\0';
	connect_errno = 0;
	refused_proto = 0;
	shutdown_seen = 0;
	if (inherited_fd >= 0) {                /* spawned by diosd: connected already */
		const char *env = getenv(DIOS_ENV_SOCKET);
		snprintf(sock_tried, sizeof sock_tried, "%s", env && env[0] ? env : "the socket diosd handed this task");
		s = inherited_fd;
		inherited_fd = -1;
		r = 0;
	}
	for (int cand = 0, sp; r < 0 && (sp = socket_path(&sa, cand)) >= 0; cand++) {
		if (sp > 0)
			continue;               /* not this one: see tmp_dir_unsafe */
		size_t used = strlen(sock_tried);
		snprintf(sock_tried + used, sizeof sock_tried - used, "%s%s", used ? " or " : "", sa.sun_path);
		if (s >= 0)
			close(s);
		s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (s < 0) {
			connect_errno = errno;
			return -ENOTCONN;
		}
		do
			r = connect(s, (struct sockaddr *)&sa, sizeof sa);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			connect_errno = errno;
		if (r < 0 && errno != ENOENT && errno != ECONNREFUSED)
			break;                  /* e.g. EACCES: the daemon is there, we may not use it */
	}
	if (s < 0)
		return -ENOTCONN;
	if (r < 0)
		goto fail;
	connect_errno = 0;

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
	if (permanent) {
		refused_proto = 1;
		g_dios.state = DIOS_ST_DEAD;
	} else if (!connect_errno) {
		connect_errno = ECONNRESET;     /* connected, then no welcome */
	}
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

/*
 * Is the daemon gone?  Shutdown flag in the region, or the socket hung up.
 * For the ring's waits (under g_dios.lock or as the reaper, connection UP
 * when they began); the caller marks the connection dead.
 */
int dios__conn_gone(void)
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
	if (dios__conn_gone()) {
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

/* Under lock: connect if needed; release what a dead connection left once nothing is in flight. */
int dios__conn_ensure_locked(void)
{
	if (g_dios.state == DIOS_ST_DEAD && g_dios.held &&
	    __atomic_load_n(&g_dios.inflight, __ATOMIC_RELAXED) == 0 &&
	    pthread_mutex_trylock(&g_dios.reap_lock) == 0) {
		release_resources();
		pthread_mutex_unlock(&g_dios.reap_lock);
	}
	return ensure_conn();
}

/* ---- task identity -------------------------------------------------------- */

dios_ref_t *dios_self(void)
{
	dios_ref_t *r = NULL;
	int cs = dios__call_lock();
	if (dios__conn_ensure_locked() == 0)
		r = dios__ref(g_dios.self_ref);
	dios__call_unlock(cs);
	return r;
}

const dios_name_t *dios_self_exe(void)
{
	const dios_name_t *n = NULL;
	int cs = dios__call_lock();
	if (dios__conn_ensure_locked() == 0)
		n = &self_exe_copy;
	dios__call_unlock(cs);
	return n;
}

/* ---- fork (section 9) and start-up: called from dios_fork.c ------------- */

/*
 * The child is a new task: drop the parent's connection and the ring's
 * bookkeeping (the locks are made new by dios_fork.c).
 */
void dios__conn_atfork_child(void)
{
	watch_state = WATCH_NONE;               /* the parent's: not in this process (and not ours to shut down) */
	if (g_dios.state == DIOS_ST_DEAD && g_dios.self_ref && !tag_dead(g_dios.self_ref)) {
		/* the parent's registration is dead: its references fail with -ENOTCONN here too, as after dios_reconnect */
		dead_tags[dios__dead_tags % DEAD_TAGS] = (uint16_t)(g_dios.self_ref >> DIOS_REF_TAG_SHIFT);
		dios__dead_tags++;
	}
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

/* ---- what -ENOTCONN means, and starting over (dios_reconnect) ------------ */

void dios__conn_explain(void)
{
	const char *where = sock_tried[0] ? sock_tried : "(no socket path: DIOS_SOCKET too long?)";
	int st = __atomic_load_n(&g_dios.state, __ATOMIC_ACQUIRE);
	if (st == DIOS_ST_IDLE)
		dios__detail_set("daemon not reachable at %s (%s): start diosd there, or set DIOS_SOCKET to its socket;"
				 " the next call tries again", where,
				 connect_errno ? strerror(connect_errno) : "no answer");
	else if (st == DIOS_ST_DEAD && refused_proto)
		dios__detail_set("the daemon at %s refused this process or broke the protocol (see its log and"
				 " this process's stderr); dios_reconnect() tries again", where);
	else if (st == DIOS_ST_DEAD && (shutdown_seen || (g_dios.held && g_dios.hdr &&
			(dios__load_acquire(&g_dios.hdr->daemon_state) & D_DSTATE_SHUTDOWN))))
		dios__detail_set("the daemon at %s shut down; once it is back, dios_reconnect() registers this process"
				 " as a new task (old references stay dead)", where);
	else
		dios__detail_set("the daemon at %s went away (connection lost); once it is back, dios_reconnect()"
				 " registers this process as a new task (old references stay dead)", where);
}

/* Was t the tag of a dead registration of this process? */
static int tag_buried(uint16_t t)
{
	uint32_t n = dios__dead_tags < DEAD_TAGS ? dios__dead_tags : DEAD_TAGS;
	for (uint32_t i = 0; i < n; i++)
		if (dead_tags[i] == t)
			return 1;
	return 0;
}

int dios__ref_stale(uint64_t id)
{
	uint16_t t = (uint16_t)(id >> DIOS_REF_TAG_SHIFT);
	if (!t || (g_dios.self_ref && t == (uint16_t)(g_dios.self_ref >> DIOS_REF_TAG_SHIFT)))
		return 0;
	return tag_buried(t);
}

static int tag_dead(uint64_t self_ref)
{
	return self_ref && tag_buried((uint16_t)(self_ref >> DIOS_REF_TAG_SHIFT));
}

/* 0, or -EBUSY (a thread is starting the watcher: nothing done). */
static int bury(void)
{
	if (g_dios.self_ref) {
		uint16_t t = (uint16_t)(g_dios.self_ref >> DIOS_REF_TAG_SHIFT);
		if (!tag_dead(g_dios.self_ref)) {
			dead_tags[dios__dead_tags % DEAD_TAGS] = t;
			__atomic_store_n(&dios__dead_tags, dios__dead_tags + 1, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_lock(&g_dios.reap_lock);
	int rc = release_resources();
	pthread_mutex_unlock(&g_dios.reap_lock);
	if (rc)
		return rc;
	g_dios.sq_tail = g_dios.cq_head = g_dios.sq_head_cache = 0;
	g_dios.self_ref = 0;
	g_dios.args_bits = 0;
	memset(&self_exe_copy, 0, sizeof self_exe_copy);
	__atomic_store_n(&g_dios.state, DIOS_ST_IDLE, __ATOMIC_RELEASE);
	return 0;
}

int dios__conn_drop_locked(void)
{
	if (g_dios.state == DIOS_ST_UP && !dios__conn_gone())
		return 1;                       /* up: nothing to do */
	if (g_dios.state == DIOS_ST_IDLE && !g_dios.held)
		return 0;                       /* never connected (or dropped already) */
	const char *pure = getenv(DIOS_ENV_PURE);
	if (pure && pure[0]) {
		dios__detail_set("a Pure DIOS task cannot reconnect: its seccomp filter denies opening a socket;"
				 " its parent may start it again");
		return -EPERM;
	}
	if (g_dios.state == DIOS_ST_UP)
		dios__mark_dead();
	/* calls of the dead connection finish within about 100 ms (FIFO sleepers, slot waiters) */
	for (int i = 0; __atomic_load_n(&g_dios.inflight, __ATOMIC_ACQUIRE) != 0; i++) {
		if (i == 100) {
			dios__detail_set("dios_reconnect: another thread's call on the dead connection has not returned");
			return -EBUSY;
		}
		struct timespec ts = { 0, 10000000L };
		nanosleep(&ts, NULL);
	}
	if (bury()) {
		dios__detail_set("dios_reconnect: another thread is still busy with the dead connection; try again");
		return -EBUSY;
	}
	return 0;
}

int dios__conn_connect_locked(void)
{
	for (int tries = 0; tries < 8; tries++) {
		int rc = ensure_conn();
		if (rc != 0) {
			dios__conn_explain();
			return rc;
		}
		if (!tag_dead(g_dios.self_ref))
			return 0;
		/* the new daemon drew a dead registration's tag: old references would pass for new ones */
		dios__mark_dead();
		if (bury())
			return -EBUSY;
	}
	dios__detail_set("dios_reconnect: the daemon gave 8 registrations in a row the tag of a dead one");
	return -ENOTCONN;
}
