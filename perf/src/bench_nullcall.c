/*
 * bench_nullcall - null-call round trip: DIOS ring (daemon awake / daemon
 * idle) against a pipe ping-pong between two processes and a Unix-socket RPC
 * to the same daemon.  Variants run alternately in rounds so drift affects all.
 * Also the hardware floor: a cache-line spin ping-pong between two threads
 * (what the ring costs at best on this machine's pair of CPUs), and the
 * kernel's own ring: an io_uring NOP submitted and reaped through liburing
 * (one thread, io_uring_submit_and_wait), built only when liburing-dev was
 * found (perf/Makefile defines HAVE_LIBURING).  Without it, or when the
 * kernel refuses io_uring, an "info skipped name=nullcall_io_uring_nop" line
 * says why instead of its result line.
 *
 * Needs DIOS_SOCKET (perf/run sets it).  --quick: a short run for the tests.
 * Timing: clock_gettime(CLOCK_MONOTONIC) around each call (see bench_common.h).
 */
#define _GNU_SOURCE
#include "bench_common.h"

#include <dios/dios.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

static int rpc_fd = -1;
static int ping_w = -1, pong_r = -1;   /* parent's ends of the two pipes */
static pid_t echo_pid;

static void start_echo(void)
{
	int a[2], b[2];
	if (pipe(a) || pipe(b)) {
		perror("pipe");
		exit(2);
	}
	echo_pid = fork();
	if (echo_pid < 0) {
		perror("fork");
		exit(2);
	}
	if (echo_pid == 0) {
		close(a[1]);
		close(b[0]);
		char c;
		while (read(a[0], &c, 1) == 1)
			if (write(b[1], &c, 1) != 1)
				break;
		_exit(0);
	}
	close(a[0]);
	close(b[1]);
	ping_w = a[1];
	pong_r = b[0];
}

static inline void pipe_roundtrip(void)
{
	char c = 'x';
	if (write(ping_w, &c, 1) != 1 || read(pong_r, &c, 1) != 1) {
		perror("pipe ping-pong");
		exit(1);
	}
}

static void rpc_connect(void)
{
	const char *sock = getenv("DIOS_SOCKET");
	if (!sock || !*sock) {
		fprintf(stderr, "bench_nullcall: DIOS_SOCKET is not set\n");
		exit(2);
	}
	struct sockaddr_un a;
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	if (snprintf(a.sun_path, sizeof(a.sun_path), "%s%s", sock, DIOS_RPC_SUFFIX) >= (int)sizeof(a.sun_path)) {
		fprintf(stderr, "bench_nullcall: socket path too long\n");
		exit(2);
	}
	rpc_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (rpc_fd < 0 || connect(rpc_fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		fprintf(stderr, "bench_nullcall: connect %s: %s\n", a.sun_path, strerror(errno));
		exit(1);
	}
}

static uint64_t rpc_seq;

static inline void rpc_roundtrip(void)
{
	struct dios_sqe sqe;
	struct dios_cqe cqe;
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = D_OP_NOP;
	sqe.user_data = ++rpc_seq;
	if (send(rpc_fd, &sqe, sizeof(sqe), 0) != (ssize_t)sizeof(sqe)) {
		perror("rpc send");
		exit(1);
	}
	ssize_t n = recv(rpc_fd, &cqe, sizeof(cqe), 0);
	if (n != (ssize_t)sizeof(cqe)) {
		fprintf(stderr, "rpc recv: got %zd bytes (%s)\n", n, n < 0 ? strerror(errno) : "short");
		exit(1);
	}
	if (cqe.res != 0 || cqe.user_data != rpc_seq) {
		fprintf(stderr, "rpc nop: res %d user_data %llu (want 0, %llu)\n", cqe.res,
			(unsigned long long)cqe.user_data, (unsigned long long)rpc_seq);
		exit(1);
	}
}

static inline void ring_nop(void)
{
	int rc = dios_nop(0);
	if (rc != 0)
		die_rc("dios_nop", rc);
}

/* ---- io_uring NOP: the kernel's submission/completion ring, same thread ---- */

static int uring_ok;                /* the ring is set up and the variant runs */
static char uring_skip[200] = "liburing-dev not installed when perf/ was built (Debian: apt-get install liburing-dev, then make -C perf)";

#ifdef HAVE_LIBURING
static struct io_uring uring;
static uint64_t uring_seq;

static void uring_setup(void)
{
	int rc = io_uring_queue_init(8, &uring, 0);
	if (rc < 0) {
		/* e.g. kernel.io_uring_disabled, or a seccomp filter in a container */
		snprintf(uring_skip, sizeof uring_skip, "io_uring_queue_init failed: %s (kernel or sandbox refuses io_uring)",
			 strerror(-rc));
		return;
	}
	uring_ok = 1;
}

static inline void uring_nop(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&uring);
	if (!sqe)
		die("io_uring_get_sqe: submission ring full");
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, ++uring_seq);
	int rc = io_uring_submit_and_wait(&uring, 1);
	if (rc != 1)
		die_rc("io_uring_submit_and_wait", rc < 0 ? rc : -EIO);
	struct io_uring_cqe *cqe;
	rc = io_uring_peek_cqe(&uring, &cqe);
	if (rc != 0)
		die_rc("io_uring_peek_cqe", rc);
	if (cqe->res != 0 || cqe->user_data != uring_seq)
		die("io_uring nop: res %d user_data %llu (want 0, %llu)", cqe->res, (unsigned long long)cqe->user_data,
		    (unsigned long long)uring_seq);
	io_uring_cqe_seen(&uring, cqe);
}
#else
static void uring_setup(void) { }
static inline void uring_nop(void) { die("io_uring_nop without liburing"); }
#endif

/* spin ping-pong: ping and pong each alone in 128 bytes */
static _Alignas(128) atomic_uint spin_ping;
static _Alignas(128) atomic_uint spin_pong;

static void *spin_peer(void *arg)
{
	unsigned n = (unsigned)(uintptr_t)arg;
	for (unsigned i = 0; i < n; i++) {
		unsigned v;
		/* answer every ping: pong catches up with ping */
		while ((v = atomic_load_explicit(&spin_ping, memory_order_acquire)) ==
		       atomic_load_explicit(&spin_pong, memory_order_relaxed))
			;
		atomic_store_explicit(&spin_pong, v, memory_order_release);
	}
	return NULL;
}

static inline void spin_roundtrip(void)
{
	unsigned v = atomic_load_explicit(&spin_ping, memory_order_relaxed) + 1;
	atomic_store_explicit(&spin_ping, v, memory_order_release);
	while (atomic_load_explicit(&spin_pong, memory_order_acquire) != v)
		;
}

/* V_URING last: without io_uring the first NV - 1 series are reported */
enum { V_AWAKE, V_IDLE, V_PIPE, V_RPC, V_SPIN, V_PIPE_IDLE, V_RPC_IDLE, V_URING, NV };

int main(int argc, char **argv)
{
	int quick = bench_parse_quick(argc, argv);
	alarm(quick ? 120 : 600);   /* never hang a build: SIGALRM ends the run */
	const int rounds = quick ? 4 : 20;
	const int per_round[NV] = {
		[V_AWAKE] = quick ? 1000 : 20000,
		[V_IDLE]  = quick ? 10 : 25,
		[V_PIPE]  = quick ? 500 : 5000,
		[V_RPC]   = quick ? 500 : 5000,
		[V_SPIN]  = quick ? 1000 : 20000,
		[V_PIPE_IDLE] = quick ? 10 : 25,
		[V_RPC_IDLE]  = quick ? 10 : 25,
		[V_URING] = quick ? 1000 : 20000,
	};
	const long warm_ring = quick ? 20000 : 300000;
	const long warm_rpc = quick ? 20000 : 200000;
	const int idle_gap_us = 20000;

	start_echo();   /* before the first DIOS call: the echo process is not a task */
	rpc_connect();
	uring_setup();

	struct series s[NV];
	series_init(&s[V_AWAKE], "nullcall_ring_awake", "dios_nop, daemon awake, back-to-back", (size_t)rounds * per_round[V_AWAKE]);
	series_init(&s[V_IDLE], "nullcall_ring_idle", "dios_nop after 20 ms idle (daemon parked)", (size_t)rounds * per_round[V_IDLE]);
	series_init(&s[V_PIPE], "nullcall_pipe_pingpong", "pipe ping-pong, 2 processes, 1 byte each way", (size_t)rounds * per_round[V_PIPE]);
	series_init(&s[V_RPC], "nullcall_socket_rpc", "Unix SOCK_SEQPACKET RPC nop to the same daemon", (size_t)rounds * per_round[V_RPC]);
	series_init(&s[V_SPIN], "spin_pingpong_floor", "cache-line spin ping-pong, 2 threads (hardware floor)", (size_t)rounds * per_round[V_SPIN]);
	series_init(&s[V_PIPE_IDLE], "nullcall_pipe_idle", "pipe ping-pong after 20 ms idle", (size_t)rounds * per_round[V_PIPE_IDLE]);
	series_init(&s[V_RPC_IDLE], "nullcall_socket_rpc_idle", "Unix-socket RPC nop after 20 ms idle", (size_t)rounds * per_round[V_RPC_IDLE]);
	series_init(&s[V_URING], "nullcall_io_uring_nop", "io_uring NOP via liburing, submit_and_wait, 1 thread", (size_t)rounds * per_round[V_URING]);

	/* warm-up: the daemon's JIT needs 100-200k calls on each path */
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < warm_ring; i++)
		ring_nop();
	uint64_t t1 = bench_now_ns();
	for (long i = 0; i < warm_rpc; i++)
		rpc_roundtrip();
	for (int i = 0; i < 10000; i++)
		pipe_roundtrip();
	for (int i = 0; uring_ok && i < 10000; i++)
		uring_nop();
	uint64_t t2 = bench_now_ns();
	fprintf(stderr, "warm-up: %ld ring nops in %.2f s, %ld rpc nops + 10000 pipe round trips%s in %.2f s\n",
		warm_ring, (t1 - t0) / 1e9, warm_rpc, uring_ok ? " + 10000 io_uring nops" : "", (t2 - t1) / 1e9);

	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < NV; k++) {
			int v = (k + r) % NV;   /* rotate the order each round */
			switch (v) {
			case V_AWAKE:
				for (int i = 0; i < 10000; i++)   /* wake the daemon, fill caches */
					ring_nop();
				for (int i = 0; i < per_round[v]; i++) {
					uint64_t a = bench_now_ns();
					ring_nop();
					series_add(&s[v], bench_now_ns() - a);
				}
				break;
			case V_IDLE:
				for (int i = 0; i < per_round[v]; i++) {
					usleep(idle_gap_us);
					uint64_t a = bench_now_ns();
					ring_nop();
					series_add(&s[v], bench_now_ns() - a);
				}
				break;
			case V_PIPE_IDLE:
			case V_RPC_IDLE:
				/* the idle figure's fair baselines: the same 20 ms gap, so the peer sleeps too */
				for (int i = 0; i < per_round[v]; i++) {
					usleep(idle_gap_us);
					uint64_t a = bench_now_ns();
					if (v == V_PIPE_IDLE)
						pipe_roundtrip();
					else
						rpc_roundtrip();
					series_add(&s[v], bench_now_ns() - a);
				}
				break;
			case V_PIPE:
				for (int i = 0; i < 100; i++)
					pipe_roundtrip();
				for (int i = 0; i < per_round[v]; i++) {
					uint64_t a = bench_now_ns();
					pipe_roundtrip();
					series_add(&s[v], bench_now_ns() - a);
				}
				break;
			case V_RPC:
				for (int i = 0; i < 100; i++)
					rpc_roundtrip();
				for (int i = 0; i < per_round[v]; i++) {
					uint64_t a = bench_now_ns();
					rpc_roundtrip();
					series_add(&s[v], bench_now_ns() - a);
				}
				break;
			case V_SPIN: {
				/* the peer spins only during this chunk: it would steal the daemon's CPU otherwise */
				pthread_t th;
				unsigned n = 1000 + (unsigned)per_round[v];
				if (pthread_create(&th, NULL, spin_peer, (void *)(uintptr_t)n) != 0) {
					perror("pthread_create");
					return 1;
				}
				for (int i = 0; i < 1000; i++)
					spin_roundtrip();
				for (int i = 0; i < per_round[v]; i++) {
					uint64_t a = bench_now_ns();
					spin_roundtrip();
					series_add(&s[v], bench_now_ns() - a);
				}
				pthread_join(th, NULL);
				break;
			}
			case V_URING:
				if (!uring_ok)
					break;
				for (int i = 0; i < 1000; i++)
					uring_nop();
				for (int i = 0; i < per_round[v]; i++) {
					uint64_t a = bench_now_ns();
					uring_nop();
					series_add(&s[v], bench_now_ns() - a);
				}
				break;
			}
		}
	}

	printf("info timer=clock_gettime(CLOCK_MONOTONIC) timer_overhead_ns=%.0f rounds=%d warmup_ring=%ld warmup_rpc=%ld\n",
	       timer_overhead_ns(), rounds, warm_ring, warm_rpc);
	if (!uring_ok)
		printf("info skipped name=nullcall_io_uring_nop reason: %s\n", uring_skip);
	report(s, uring_ok ? NV : NV - 1);

	close(ping_w);
	close(pong_r);
	close(rpc_fd);
#ifdef HAVE_LIBURING
	if (uring_ok)
		io_uring_queue_exit(&uring);
#endif
	int st;
	waitpid(echo_pid, &st, 0);
	return 0;
}
