/*
 * bench_tasks - the seed's task workloads and the cost of a spawn: DIOS tasks
 * (dios_run, FIFOs, dios_select, dios_wait) against Linux processes
 * (fork+exec or posix_spawn, pipes, poll, waitpid), side by side in one run.
 * Every process is this same program (a DIOS task runs a copy of itself:
 * dios_pickref(dios_self_exe()); a Linux child execs /proc/self/exe), so both
 * sides load the same binary.  The build brands it DIOS Limbo (`dios brand
 * --limbo`, perf/Makefile) so that dios_run may start it; Linux ignores the
 * brand.
 *
 *   seed_fib10_c_dios / seed_fib10_c_linux
 *        Fibonacci with tasks (seed listing 4.4; Linux: appendix A.1).  The
 *        benchmark spawns a root task and sends it n = 10 over a channel; a
 *        task given n < 2 answers n, any other spawns a task and sends it n-2,
 *        spawns another and sends it n-1, reads both answers, answers their
 *        sum, then waits for both children's exit statuses and exits.  One
 *        task per call of the recursion: 177 for fib(10), up to all of them
 *        alive at once (the two children of a task run concurrently).
 *        Channel: two FIFOs per child (down: n; up: the answer and the number
 *        of tasks under it, 16 bytes), or two pipes, the child's stdin and
 *        stdout, as in A.1.  Timed: from the root's channel and spawn to its
 *        exit status (every task has exited and been waited for by then).
 *        Checked: the answer is 55 and 177 tasks ran, every exit status is 0.
 *   seed_primes1k_c_{dios,linux} / seed_primes1m_c_{dios,linux}
 *        Sum of the primes below 1,000 and below 1,000,000 (seed section
 *        4.2.5, appendix A.2): this benchmark is the coordinator.  It spawns
 *        12 mappers and 8 reducers, then sends each mapper a range of numbers
 *        (mapper m: [m N / 12, (m+1) N / 12)) over its own channel.  A mapper
 *        tests each number by trial division and sends every prime p, one
 *        8-byte message per prime as in the seed, straight to reducer
 *        (p / 2) mod 8: 12 x 8 channels, FIFOs of 64 KiB (a pipe's default
 *        size) or pipes.  (The seed routed primes through the coordinator, fig.
 *        4.9; here mappers and reducers are wired directly.)  A reducer waits
 *        on its 12 inputs with dios_select (or poll), takes all the bytes
 *        ready on the input it got, and at the end of all 12 streams sends its
 *        sum to the coordinator, which adds the 8 sums and waits for all 20
 *        exit statuses.  Timed: from the first channel made to the last exit
 *        status.  Checked: 76127 and 37550402023, every exit status 0.
 *        Linux processes are started with fork+exec, like the seed's.
 *   spawn_dios_run / spawn_dios_msg / spawn_dios_exit
 *   spawn_posix_spawn / spawn_posix_msg / spawn_posix_exit
 *        One child that writes 1 byte to its parent and exits: time from the
 *        start of dios_run (posix_spawn) to the call's return, to the byte
 *        read by the parent (a delegated FIFO; a pipe on the child's stdout),
 *        and to its exit status (dios_wait; waitpid).  The channel is made
 *        before the clock starts.
 *
 * Workloads and spawns alternate between the two sides (A B B A ...), after
 * unmeasured runs of each (10 for fib and primes below 1k, 1 for primes below
 * 1M): the daemon's spawn path is not JIT-compiled by its start-up warm-up.  Prints "result" lines (µs; the workloads' wall time per
 * run) and one "info check" line per workload with the answer it verified.
 * Any failure, or a wrong answer, exits non-zero.
 *
 *   bench_tasks [--quick] [--only fib|primes|spawn]
 * --quick: one run of each workload and 20 spawns of each kind, for the tests.
 * --only: that part alone (a steady load for perf/profile).
 * The processes it starts run it as: bench_tasks --child ROLE.
 */
#define _GNU_SOURCE
#include "bench_common.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dios/dios.h>

extern char **environ;

#define FIB_N      10
#define FIB_VALUE  55u
#define FIB_TASKS  177u          /* 1 + T(10), T(n) = 2 + T(n-1) + T(n-2), T(0) = T(1) = 0 */
#define NMAP       12
#define NRED       8
#define SMALL_CAP  4096u         /* FIFOs carrying a few words */
#define MR_CAP     65536u        /* mapper -> reducer FIFOs: a pipe's default size */
#define CHILD_ALARM 300          /* seconds: a hung child dies rather than hang the run */

static int quick;

/* ---- failures ----------------------------------------------------------------- */

static void dmust(int rc, const char *what)
{
	if (rc != 0)
		die("%s: %s (%d)", what, dios_strerror(rc), rc);
}

static void check_status(int st, const char *who)
{
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("%s ended badly (status %#x%s%s)", who, st, WIFSIGNALED(st) ? ", signal " : "",
		    WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "");
}

/* ---- DIOS channels -------------------------------------------------------------- */

static dios_ref_t *fifo_new(uint64_t cap)
{
	dios_ref_t *r = NULL;
	dmust(dios_create(0, D_OBJ_FIFO, &cap, NULL, &r, 0), "dios_create(FIFO)");
	return r;
}

static void fifo_put(dios_ref_t *w, const void *p, uint64_t len)
{
	dios_iovec_t *iov;
	dmust(dios_acquire_write(0, w, len, &iov), "dios_acquire_write");
	memcpy(iov->buf, p, len);
	dmust(dios_commit_write(0, w, len, iov), "dios_commit_write");
	dmust(dios_release_write(0, w, iov), "dios_release_write");
}

/* Exactly len bytes, or die (a writer that went early). */
static void fifo_get(dios_ref_t *r, void *p, uint64_t len)
{
	uint64_t got = 0;
	while (got < len) {
		dios_iovec_t *iov;
		int rc = dios_acquire_read(0, r, len - got, &iov);
		if (rc == -EPIPE)
			die("FIFO ended after %llu of %llu bytes (the task at the other end failed)",
			    (unsigned long long)got, (unsigned long long)len);
		dmust(rc, "dios_acquire_read");
		memcpy((char *)p + got, iov->buf, iov->len);
		got += iov->len;
		dmust(dios_release_read(0, r, iov), "dios_release_read");
	}
}

static void take_delegated(dios_ref_t **refs, uint64_t want)
{
	uint64_t n = want;
	dmust(dios_delegated(0, refs, &n), "dios_delegated");
	if (n != want)
		die("%llu references delegated, expected %llu", (unsigned long long)n, (unsigned long long)want);
}

static dios_ref_t *self_exe_ref(void)
{
	static dios_ref_t *exe;
	if (!exe) {
		const dios_name_t *n = dios_self_exe();
		if (!n || !(exe = dios_pickref(n)))
			die("cannot look up this program's executable object (dios_self_exe)");
	}
	return exe;
}

static dios_ref_t *run_child(const char *role, dios_ref_t **refs, uint64_t nrefs)
{
	char *argv[] = { "bench_tasks", "--child", (char *)role, NULL };
	dios_task_spec_t spec = { .argc = 3, .argv = argv, .refs = refs, .ref_count = nrefs };
	dios_ref_t *task = NULL;
	dmust(dios_run(0, self_exe_ref(), &spec, &task), "dios_run");
	return task;
}

static void dios_reap(dios_ref_t *task, const char *who)
{
	int st = 0;
	dmust(dios_wait(0, task, &st), "dios_wait");
	check_status(st, who);
}

/* ---- Linux channels ------------------------------------------------------------- */

static const char *self_path(void)
{
	static char path[PATH_MAX];
	if (!path[0]) {
		ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
		if (n <= 0)
			die("readlink /proc/self/exe: %s", strerror(errno));
		path[n] = 0;
	}
	return path;
}

static void write_full(int fd, const void *p, size_t len)
{
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, (const char *)p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("pipe write: %s", w < 0 ? strerror(errno) : "no progress");
		off += (size_t)w;
	}
}

static void read_full(int fd, void *p, size_t len)
{
	size_t off = 0;
	while (off < len) {
		ssize_t r = read(fd, (char *)p + off, len - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("pipe read: %s", strerror(errno));
		if (r == 0)
			die("pipe ended after %zu of %zu bytes (the process at the other end failed)", off, len);
		off += (size_t)r;
	}
}

static void pipe_cloexec(int p[2])
{
	if (pipe2(p, O_CLOEXEC))
		die("pipe2: %s", strerror(errno));
}

/*
 * fork, then in the child: each fds[i].src becomes fd fds[i].dst (every other
 * descriptor is close-on-exec), and exec this program as --child role.
 * Targets are below 16, so they go through temporaries from 16 up: no dup2
 * overwrites a source still to be moved.
 */
struct fdmap { int src, dst; };

static pid_t fork_exec_child(const char *role, const struct fdmap *fds, int n)
{
	const char *path = self_path();
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid > 0)
		return pid;
	int tmp[16];
	for (int i = 0; i < n; i++)
		if ((tmp[i] = fcntl(fds[i].src, F_DUPFD_CLOEXEC, 16)) < 0)
			_exit(126);
	for (int i = 0; i < n; i++)
		if (dup2(tmp[i], fds[i].dst) < 0)
			_exit(126);
	char *argv[] = { "bench_tasks", "--child", (char *)role, NULL };
	execv(path, argv);
	_exit(127);
}

static void linux_reap(pid_t pid, const char *who)
{
	int st;
	pid_t r;
	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	if (r != pid)
		die("waitpid %d: %s", (int)pid, strerror(errno));
	check_status(st, who);
}

/* ---- fib with tasks --------------------------------------------------------------- */

struct fib_answer { uint64_t value, tasks; };

struct dios_kid { dios_ref_t *task, *down, *up; };

static struct dios_kid fib_dios_spawn(uint64_t n)
{
	struct dios_kid k = { NULL, fifo_new(SMALL_CAP), fifo_new(SMALL_CAP) };
	dios_ref_t *refs[2] = { k.down, k.up };
	k.task = run_child("fib-dios", refs, 2);
	fifo_put(k.down, &n, 8);
	return k;
}

static void fib_dios_release(struct dios_kid *k)
{
	dmust(dios_delete(0, k->task), "dios_delete(task)");
	dmust(dios_delete(0, k->down), "dios_delete(FIFO)");
	dmust(dios_delete(0, k->up), "dios_delete(FIFO)");
}

/* A task of the recursion: n in from the parent, the answer out. */
static int child_fib_dios(void)
{
	dios_ref_t *refs[2];
	take_delegated(refs, 2);
	uint64_t n;
	fifo_get(refs[0], &n, 8);
	struct fib_answer a = { n, 1 };
	if (n >= 2) {
		struct dios_kid k1 = fib_dios_spawn(n - 2);
		struct dios_kid k2 = fib_dios_spawn(n - 1);
		struct fib_answer a1, a2;
		fifo_get(k1.up, &a1, sizeof a1);
		fifo_get(k2.up, &a2, sizeof a2);
		a.value = a1.value + a2.value;
		a.tasks = 1 + a1.tasks + a2.tasks;
		fifo_put(refs[1], &a, sizeof a);
		dios_reap(k1.task, "a fib task");
		dios_reap(k2.task, "a fib task");
		return 0;
	}
	fifo_put(refs[1], &a, sizeof a);
	return 0;
}

static struct fib_answer fib_dios_run(uint64_t n)
{
	struct dios_kid k = fib_dios_spawn(n);
	struct fib_answer a;
	fifo_get(k.up, &a, sizeof a);
	dios_reap(k.task, "the root fib task");
	fib_dios_release(&k);
	return a;
}

struct linux_kid { pid_t pid; int down, up; };

/* A.1: the child's stdin carries n, its stdout the answer. */
static struct linux_kid fib_linux_spawn(uint64_t n)
{
	int down[2], up[2];
	pipe_cloexec(down);
	pipe_cloexec(up);
	struct fdmap m[2] = { { down[0], 0 }, { up[1], 1 } };
	struct linux_kid k = { fork_exec_child("fib-linux", m, 2), down[1], up[0] };
	close(down[0]);
	close(up[1]);
	write_full(k.down, &n, 8);
	close(k.down);
	return k;
}

static int child_fib_linux(void)
{
	uint64_t n;
	read_full(0, &n, 8);
	struct fib_answer a = { n, 1 };
	if (n >= 2) {
		struct linux_kid k1 = fib_linux_spawn(n - 2);
		struct linux_kid k2 = fib_linux_spawn(n - 1);
		struct fib_answer a1, a2;
		read_full(k1.up, &a1, sizeof a1);
		read_full(k2.up, &a2, sizeof a2);
		a.value = a1.value + a2.value;
		a.tasks = 1 + a1.tasks + a2.tasks;
		write_full(1, &a, sizeof a);
		close(k1.up);
		close(k2.up);
		linux_reap(k1.pid, "a fib process");
		linux_reap(k2.pid, "a fib process");
		return 0;
	}
	write_full(1, &a, sizeof a);
	return 0;
}

static struct fib_answer fib_linux_run(uint64_t n)
{
	struct linux_kid k = fib_linux_spawn(n);
	struct fib_answer a;
	read_full(k.up, &a, sizeof a);
	close(k.up);
	linux_reap(k.pid, "the root fib process");
	return a;
}

static void fib_check(const char *side, struct fib_answer a)
{
	if (a.value != FIB_VALUE || a.tasks != FIB_TASKS)
		die("fib(%d) with %s: got %llu from %llu tasks, expected %u from %u", FIB_N, side,
		    (unsigned long long)a.value, (unsigned long long)a.tasks, FIB_VALUE, FIB_TASKS);
}

/* ---- sum of primes ---------------------------------------------------------------- */

static int is_prime(uint32_t v)
{
	if (v < 2)
		return 0;
	if (v < 4)
		return 1;
	if (v % 2 == 0)
		return 0;
	for (uint32_t d = 3; d <= v / d; d += 2)
		if (v % d == 0)
			return 0;
	return 1;
}

static unsigned reducer_of(uint64_t p)
{
	return (unsigned)((p / 2) % NRED);
}

/* mapper: [in, out to reducer 0 .. 7] */
static int child_map_dios(void)
{
	dios_ref_t *refs[1 + NRED];
	take_delegated(refs, 1 + NRED);
	uint64_t range[2];
	fifo_get(refs[0], range, sizeof range);
	for (uint64_t v = range[0]; v < range[1]; v++)
		if (is_prime((uint32_t)v))
			fifo_put(refs[1 + reducer_of(v)], &v, 8);
	return 0;   /* the writer ends go with the task: the reducers see the end of stream */
}

/*
 * All the bytes ready on input *live[i] (flags: 0 waits for some, D_NONBLOCK
 * does not) added to *sum; at its end of stream the input leaves live[].
 */
static void red_take(dios_ref_t **live, uint64_t *nlive, uint64_t i, dios_flags_t flags, uint64_t *sum)
{
	dios_iovec_t *iov;
	int rc = dios_acquire_read(flags, live[i], 0, &iov);
	if (rc == -EAGAIN && (flags & D_NONBLOCK))
		return;
	if (rc == -EPIPE) {
		dmust(dios_delete(0, live[i]), "dios_delete(FIFO)");
		live[i] = live[--*nlive];
		return;
	}
	dmust(rc, "dios_acquire_read");
	if (iov->len % 8)
		die("reducer: a %llu-byte read (every message is 8 bytes)", (unsigned long long)iov->len);
	const uint64_t *w = iov->buf;
	for (uint64_t k = 0; k < iov->len / 8; k++)
		*sum += w[k];
	dmust(dios_release_read(0, live[i], iov), "dios_release_read");
}

/* reducer: [in from mapper 0 .. 11, out] */
static int child_red_dios(void)
{
	dios_ref_t *refs[NMAP + 1];
	take_delegated(refs, NMAP + 1);
	dios_ref_t *live[NMAP];
	uint64_t nlive = NMAP, sum = 0;
	memcpy(live, refs, sizeof live);
	/*
	 * Bind the reader end of every input first (a first acquire does, even
	 * with nothing to read).  Until then this task's reference could still
	 * take the writer end, so a mapper that exits without ever writing to it
	 * would not end the stream.
	 */
	for (uint64_t i = NMAP; i-- > 0;)
		red_take(live, &nlive, i, D_NONBLOCK, &sum);
	while (nlive > 0) {
		dios_ref_t *ready = NULL;
		dmust(dios_select(0, live, nlive, &ready), "dios_select");
		uint64_t i = 0;
		while (live[i] != ready)
			i++;
		red_take(live, &nlive, i, 0, &sum);
	}
	fifo_put(refs[NMAP], &sum, 8);
	return 0;
}

static uint64_t primes_dios_run(uint64_t limit)
{
	dios_ref_t *cm[NMAP], *mr[NMAP][NRED], *rc[NRED], *mt[NMAP], *rt[NRED];
	for (int m = 0; m < NMAP; m++) {
		cm[m] = fifo_new(SMALL_CAP);
		for (int r = 0; r < NRED; r++)
			mr[m][r] = fifo_new(MR_CAP);
	}
	for (int r = 0; r < NRED; r++)
		rc[r] = fifo_new(SMALL_CAP);
	for (int m = 0; m < NMAP; m++) {
		dios_ref_t *refs[1 + NRED] = { cm[m] };
		memcpy(refs + 1, mr[m], sizeof mr[m]);
		mt[m] = run_child("map-dios", refs, 1 + NRED);
	}
	for (int r = 0; r < NRED; r++) {
		dios_ref_t *refs[NMAP + 1];
		for (int m = 0; m < NMAP; m++)
			refs[m] = mr[m][r];
		refs[NMAP] = rc[r];
		rt[r] = run_child("red-dios", refs, NMAP + 1);
	}
	/* Only the mappers and reducers may hold these: an end is gone (end of stream) once its task is. */
	for (int m = 0; m < NMAP; m++)
		for (int r = 0; r < NRED; r++)
			dmust(dios_delete(0, mr[m][r]), "dios_delete(FIFO)");
	for (int m = 0; m < NMAP; m++) {
		uint64_t range[2] = { limit * (uint64_t)m / NMAP, limit * (uint64_t)(m + 1) / NMAP };
		fifo_put(cm[m], range, sizeof range);
	}
	uint64_t total = 0;
	for (int r = 0; r < NRED; r++) {
		uint64_t s;
		fifo_get(rc[r], &s, 8);
		total += s;
	}
	for (int m = 0; m < NMAP; m++) {
		dios_reap(mt[m], "a mapper task");
		dmust(dios_delete(0, mt[m]), "dios_delete(task)");
		dmust(dios_delete(0, cm[m]), "dios_delete(FIFO)");
	}
	for (int r = 0; r < NRED; r++) {
		dios_reap(rt[r], "a reducer task");
		dmust(dios_delete(0, rt[r]), "dios_delete(task)");
		dmust(dios_delete(0, rc[r]), "dios_delete(FIFO)");
	}
	return total;
}

/* mapper: stdin = its range, fds 3 .. 3+NRED-1 = to the reducers */
static int child_map_linux(void)
{
	uint64_t range[2];
	read_full(0, range, sizeof range);
	for (uint64_t v = range[0]; v < range[1]; v++)
		if (is_prime((uint32_t)v))
			write_full(3 + (int)reducer_of(v), &v, 8);
	return 0;
}

/* reducer: fds 3 .. 3+NMAP-1 = from the mappers, stdout = its sum */
static int child_red_linux(void)
{
	struct pollfd pf[NMAP];
	unsigned char carry[NMAP][8];
	size_t ncarry[NMAP] = { 0 };
	int nlive = NMAP;
	for (int i = 0; i < NMAP; i++)
		pf[i] = (struct pollfd){ .fd = 3 + i, .events = POLLIN };
	static uint64_t buf[8192];
	uint64_t sum = 0;
	while (nlive > 0) {
		if (poll(pf, NMAP, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		for (int i = 0; i < NMAP; i++) {
			if (pf[i].fd < 0 || !pf[i].revents)
				continue;
			unsigned char *b = (unsigned char *)buf;
			memcpy(b, carry[i], ncarry[i]);
			ssize_t n = read(pf[i].fd, b + ncarry[i], sizeof buf - 8);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				die("pipe read: %s", strerror(errno));
			if (n == 0) {
				if (ncarry[i])
					die("reducer: a mapper's stream ended inside a message");
				close(pf[i].fd);
				pf[i].fd = -1;   /* poll ignores it */
				nlive--;
				continue;
			}
			size_t have = ncarry[i] + (size_t)n, words = have / 8;
			for (size_t k = 0; k < words; k++)
				sum += buf[k];
			ncarry[i] = have % 8;
			memcpy(carry[i], b + words * 8, ncarry[i]);
		}
	}
	write_full(1, &sum, 8);
	return 0;
}

static uint64_t primes_linux_run(uint64_t limit)
{
	int cm[NMAP][2], mr[NMAP][NRED][2], rc[NRED][2];
	pid_t mp[NMAP], rp[NRED];
	for (int m = 0; m < NMAP; m++) {
		pipe_cloexec(cm[m]);
		for (int r = 0; r < NRED; r++)
			pipe_cloexec(mr[m][r]);
	}
	for (int r = 0; r < NRED; r++)
		pipe_cloexec(rc[r]);
	for (int m = 0; m < NMAP; m++) {
		struct fdmap f[1 + NRED] = { { cm[m][0], 0 } };
		for (int r = 0; r < NRED; r++)
			f[1 + r] = (struct fdmap){ mr[m][r][1], 3 + r };
		mp[m] = fork_exec_child("map-linux", f, 1 + NRED);
	}
	for (int r = 0; r < NRED; r++) {
		struct fdmap f[NMAP + 1];
		for (int m = 0; m < NMAP; m++)
			f[m] = (struct fdmap){ mr[m][r][0], 3 + m };
		f[NMAP] = (struct fdmap){ rc[r][1], 1 };
		rp[r] = fork_exec_child("red-linux", f, NMAP + 1);
	}
	for (int m = 0; m < NMAP; m++) {
		close(cm[m][0]);
		for (int r = 0; r < NRED; r++) {
			close(mr[m][r][0]);
			close(mr[m][r][1]);
		}
	}
	for (int r = 0; r < NRED; r++)
		close(rc[r][1]);
	for (int m = 0; m < NMAP; m++) {
		uint64_t range[2] = { limit * (uint64_t)m / NMAP, limit * (uint64_t)(m + 1) / NMAP };
		write_full(cm[m][1], range, sizeof range);
		close(cm[m][1]);
	}
	uint64_t total = 0;
	for (int r = 0; r < NRED; r++) {
		uint64_t s;
		read_full(rc[r][0], &s, 8);
		close(rc[r][0]);
		total += s;
	}
	for (int m = 0; m < NMAP; m++)
		linux_reap(mp[m], "a mapper process");
	for (int r = 0; r < NRED; r++)
		linux_reap(rp[r], "a reducer process");
	return total;
}

/* ---- spawn latency ---------------------------------------------------------------- */

static int child_spawn_dios(void)
{
	dios_ref_t *out;
	take_delegated(&out, 1);
	fifo_put(out, "!", 1);
	return 0;
}

static int child_spawn_posix(void)
{
	write_full(1, "!", 1);
	return 0;
}

/* s: run/spawn returned, first byte read, exit status; NULL: unmeasured */
static void spawn_dios_once(struct series *s)
{
	dios_ref_t *ch = fifo_new(SMALL_CAP);
	char *argv[] = { "bench_tasks", "--child", "spawn-dios", NULL };
	dios_task_spec_t spec = { .argc = 3, .argv = argv, .refs = &ch, .ref_count = 1 };
	dios_ref_t *exe = self_exe_ref(), *task = NULL;
	char c = 0;
	int st = 0;
	uint64_t t0 = bench_now_ns();
	int rc = dios_run(0, exe, &spec, &task);
	uint64_t t1 = bench_now_ns();
	dmust(rc, "dios_run");
	fifo_get(ch, &c, 1);
	uint64_t t2 = bench_now_ns();
	rc = dios_wait(0, task, &st);
	uint64_t t3 = bench_now_ns();
	dmust(rc, "dios_wait");
	check_status(st, "the spawned task");
	if (c != '!')
		die("the spawned task sent %#x", (unsigned)(unsigned char)c);
	dmust(dios_delete(0, task), "dios_delete(task)");
	dmust(dios_delete(0, ch), "dios_delete(FIFO)");
	if (s) {
		series_add(&s[0], t1 - t0);
		series_add(&s[1], t2 - t0);
		series_add(&s[2], t3 - t0);
	}
}

static void spawn_posix_once(struct series *s)
{
	int p[2];
	pipe_cloexec(p);
	posix_spawn_file_actions_t fa;
	if (posix_spawn_file_actions_init(&fa) || posix_spawn_file_actions_adddup2(&fa, p[1], 1))
		die("posix_spawn_file_actions");
	char *argv[] = { "bench_tasks", "--child", "spawn-posix", NULL };
	const char *path = self_path();
	pid_t pid;
	char c = 0;
	int st = 0;
	uint64_t t0 = bench_now_ns();
	int rc = posix_spawn(&pid, path, &fa, NULL, argv, environ);
	uint64_t t1 = bench_now_ns();
	if (rc)
		die("posix_spawn %s: %s", path, strerror(rc));
	close(p[1]);
	read_full(p[0], &c, 1);
	uint64_t t2 = bench_now_ns();
	pid_t r;
	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	uint64_t t3 = bench_now_ns();
	if (r != pid)
		die("waitpid: %s", strerror(errno));
	check_status(st, "the spawned process");
	if (c != '!')
		die("the spawned process sent %#x", (unsigned)(unsigned char)c);
	close(p[0]);
	posix_spawn_file_actions_destroy(&fa);
	if (s) {
		series_add(&s[0], t1 - t0);
		series_add(&s[1], t2 - t0);
		series_add(&s[2], t3 - t0);
	}
}

/* ---- the benchmark ---------------------------------------------------------------- */

/*
 * One workload, both sides: WL[w].warm unmeasured runs each (not in --quick),
 * then runs in A B B A order.  The daemon's start-up warm-up does not cover the
 * spawn, registration and FIFO paths; a cold daemon spends seconds of CPU
 * JIT-compiling them during the first runs (perf/notes.md), which a
 * long-running daemon has long done.
 */
enum { W_FIB, W_PRIMES_1K, W_PRIMES_1M, NW };
static const struct {
	const char *tag, *what;
	uint64_t limit;          /* primes below this; 0 for fib */
	uint64_t want;
	int runs;                /* per side, full run */
	int warm;                /* unmeasured runs per side first (full run) */
} WL[NW] = {
	{ "fib10", "fib(10) with tasks, one task per call (177)", 0, FIB_VALUE, 15, 10 },
	{ "primes1k", "sum of primes below 1,000: 12 mappers, 8 reducers", 1000, 76127, 15, 10 },
	{ "primes1m", "sum of primes below 1,000,000: 12 mappers, 8 reducers", 1000000, 37550402023ull, 9, 1 },
};

static uint64_t workload_once(int w, int dios_side, struct series *s)
{
	uint64_t t0 = bench_now_ns(), got;
	if (w == W_FIB) {
		struct fib_answer a = dios_side ? fib_dios_run(FIB_N) : fib_linux_run(FIB_N);
		fib_check(dios_side ? "DIOS tasks" : "Linux processes", a);
		got = a.value;
	} else {
		got = dios_side ? primes_dios_run(WL[w].limit) : primes_linux_run(WL[w].limit);
	}
	uint64_t t1 = bench_now_ns();
	if (got != WL[w].want)
		die("%s with %s: got %llu, expected %llu", WL[w].tag, dios_side ? "DIOS tasks" : "Linux processes",
		    (unsigned long long)got, (unsigned long long)WL[w].want);
	if (s)
		series_add(s, t1 - t0);
	return got;
}

static void workload(int w, struct series *sd, struct series *sl)
{
	int runs = quick ? 1 : WL[w].runs;
	for (int i = 0; !quick && i < WL[w].warm; i++) {
		workload_once(w, 1, NULL);
		workload_once(w, 0, NULL);
	}
	uint64_t gd = 0, gl = 0;
	for (int i = 0; i < runs; i++) {
		int dios_first = (i % 2) == 0;   /* D L, L D, D L ... */
		if (dios_first) {
			gd = workload_once(w, 1, sd);
			gl = workload_once(w, 0, sl);
		} else {
			gl = workload_once(w, 0, sl);
			gd = workload_once(w, 1, sd);
		}
		fprintf(stderr, "%s run %d: DIOS %.1f ms, Linux %.1f ms\n", WL[w].tag, i,
			sd->ns[sd->n - 1] / 1e6, sl->ns[sl->n - 1] / 1e6);
	}
	unsigned tasks = w == W_FIB ? FIB_TASKS : NMAP + NRED;
	printf("info check name=%s got=%llu want=%llu runs=%d tasks=%u\n", sd->name, (unsigned long long)gd,
	       (unsigned long long)WL[w].want, runs, tasks);
	printf("info check name=%s got=%llu want=%llu runs=%d tasks=%u\n", sl->name, (unsigned long long)gl,
	       (unsigned long long)WL[w].want, runs, tasks);
	fflush(stdout);
}

static int child_main(const char *role)
{
	alarm(CHILD_ALARM);
	static const struct { const char *role; int (*fn)(void); } R[] = {
		{ "fib-dios", child_fib_dios }, { "fib-linux", child_fib_linux },
		{ "map-dios", child_map_dios }, { "red-dios", child_red_dios },
		{ "map-linux", child_map_linux }, { "red-linux", child_red_linux },
		{ "spawn-dios", child_spawn_dios }, { "spawn-posix", child_spawn_posix },
	};
	for (size_t i = 0; i < sizeof R / sizeof R[0]; i++)
		if (!strcmp(role, R[i].role))
			return R[i].fn();
	fprintf(stderr, "bench_tasks: no child role '%s'\n", role);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--child"))
		return child_main(argv[2]);
	const char *only = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--only") && i + 1 < argc &&
			 (!strcmp(argv[i + 1], "fib") || !strcmp(argv[i + 1], "primes") || !strcmp(argv[i + 1], "spawn")))
			only = argv[++i];
		else {
			fprintf(stderr, "usage: %s [--quick] [--only fib|primes|spawn]\n", argv[0]);
			return 2;
		}
	}
	alarm(quick ? 240 : 1800);   /* never hang a build */
	signal(SIGPIPE, SIG_IGN);
	dmust(dios_nop(0), "dios_nop (is diosd running? DIOS_SOCKET)");
	self_exe_ref();
	self_path();

	struct series all[12];
	int ns = 0;
	if (!only || !strcmp(only, "spawn")) {
		int n = quick ? 20 : 200, warm = quick ? 2 : 10;
		struct series *d = &all[ns], *p = &all[ns + 3];
		series_init(&d[0], "spawn_dios_run", "dios_run call, until it returns (the process has exec'd)", (size_t)n);
		series_init(&d[1], "spawn_dios_msg", "dios_run until the child's first 1-byte FIFO message", (size_t)n);
		series_init(&d[2], "spawn_dios_exit", "dios_run until dios_wait has the child's exit status", (size_t)n);
		series_init(&p[0], "spawn_posix_spawn", "posix_spawn call, until it returns", (size_t)n);
		series_init(&p[1], "spawn_posix_msg", "posix_spawn until the child's first 1-byte pipe write", (size_t)n);
		series_init(&p[2], "spawn_posix_exit", "posix_spawn until waitpid has the child's exit status", (size_t)n);
		ns += 6;
		for (int i = 0; i < warm; i++) {
			spawn_dios_once(NULL);
			spawn_posix_once(NULL);
		}
		for (int i = 0; i < n; i++) {
			if (i % 2 == 0) {
				spawn_dios_once(d);
				spawn_posix_once(p);
			} else {
				spawn_posix_once(p);
				spawn_dios_once(d);
			}
		}
	}
	for (int w = 0; w < NW; w++) {
		if (only && strcmp(only, w == W_FIB ? "fib" : "primes"))
			continue;
		int runs = quick ? 1 : WL[w].runs;
		static char names[NW][2][48], whats[NW][2][160];
		snprintf(names[w][0], sizeof names[w][0], "seed_%s_c_dios", WL[w].tag);
		snprintf(names[w][1], sizeof names[w][1], "seed_%s_c_linux", WL[w].tag);
		snprintf(whats[w][0], sizeof whats[w][0], "%s; DIOS tasks, FIFOs (wall time per run)", WL[w].what);
		snprintf(whats[w][1], sizeof whats[w][1], "%s; Linux fork+exec, pipes (wall time per run)", WL[w].what);
		series_init(&all[ns], names[w][0], whats[w][0], (size_t)runs);
		series_init(&all[ns + 1], names[w][1], whats[w][1], (size_t)runs);
		workload(w, &all[ns], &all[ns + 1]);
		ns += 2;
	}
	report(all, ns);
	return 0;
}
