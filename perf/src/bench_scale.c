/*
 * bench_scale - the core at scale (BRIEF section 6):
 *   names   lookup p50 with 1,000,000 live names, against the same lookup with
 *           1,000 names measured in this run; daemon memory per name
 *   idle    daemon CPU over 10 s with 1,000 registered idle tasks (target
 *           < 1% of a core); daemon memory per task
 *   callers throughput of 1, 2, 4, 8 and 64 concurrent tasks making null
 *           calls, against the same callers over the Unix-socket RPC
 * The daemon's pid comes from SO_PEERCRED on its socket; CPU and memory from
 * /proc/<pid>.  Needs a daemon started with --max-refs >= names + 16.
 * --quick: 20,000 names, 100 idle tasks for 2 s, 0.3 s per caller count.
 */
#define _GNU_SOURCE
#include "bench_common.h"

#include <dirent.h>

#include <dios/dios.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

static int quick;

static pid_t daemon_pid(void)
{
	const char *path = getenv(DIOS_ENV_SOCKET);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (!path)
		die("DIOS_SOCKET is not set");
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct ucred cr;
	socklen_t len = sizeof cr;
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0 ||
	    getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
		die("cannot find the daemon's pid through %s", path);
	close(s);
	return cr.pid;
}

static long proc_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		die("open %s", path);
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* utime + stime of the whole daemon process, in clock ticks */
static unsigned long long proc_cpu_ticks(pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof buf, f))
		die("read %s", path);
	fclose(f);
	char *p = strrchr(buf, ')');
	unsigned long long ut = 0, st = 0;
	/* fields after the command: state(3) ... utime(14) stime(15) */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		die("parse %s", path);
	return ut + st;
}

/*
 * CPU time of every thread of pid in ns: the first field of each
 * /proc/PID/task/TID/schedstat (time on a CPU, ns).  Clock ticks (10 ms)
 * cannot tell an idle daemon's 0.01% from nothing over 10 s.  0 when
 * schedstat is unavailable (then the ticks are used).
 */
static unsigned long long proc_cpu_ns(pid_t pid)
{
	char path[320];
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	unsigned long long sum = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%s/schedstat", (int)pid, e->d_name);
		FILE *f = fopen(path, "r");
		unsigned long long ns = 0;
		if (f) {
			if (fscanf(f, "%llu", &ns) != 1)
				ns = 0;
			fclose(f);
		}
		sum += ns;
	}
	closedir(d);
	return sum;
}

static uint64_t xs64(uint64_t *x)
{
	*x ^= *x << 13; *x ^= *x >> 7; *x ^= *x << 17;
	return *x;
}

/* p50 of n lookups of random names among names[0..count) */
static void lookup_series(struct series *s, dios_name_t *names, size_t count, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++) {
		dios_ref_t *r = NULL;
		uint64_t c = 1;
		const dios_name_t *nm = &names[xs64(&seed) % count];
		uint64_t a = bench_now_ns();
		int rc = dios_lookup(0, nm, &r, &c);
		uint64_t b = bench_now_ns();
		must(rc, "dios_lookup");
		must(dios_delete(0, r), "dios_delete");
		series_add(s, b - a);
	}
}

/* create names[from..to) as random-named SHMEM objects, 64 per batch; refs kept in refs[] */
static void create_names(dios_name_t *names, dios_ref_t **refs, size_t from, size_t to)
{
	static const uint64_t size = 4096;
	dios_call_t calls[DIOS_SQ_ENTRIES];
	for (size_t i = from; i < to;) {
		size_t k = to - i < DIOS_SQ_ENTRIES ? to - i : DIOS_SQ_ENTRIES;
		memset(calls, 0, sizeof calls);
		for (size_t j = 0; j < k; j++) {
			calls[j].opcode = D_OP_CREATE;
			calls[j].type = D_OBJ_SHMEM;
			calls[j].arg = &size;
			calls[j].name = &names[i + j];
		}
		must(dios_batch(calls, k), "dios_batch(create)");
		for (size_t j = 0; j < k; j++) {
			must(calls[j].res, "batched dios_create");
			refs[i + j] = calls[j].ref;
		}
		i += k;
	}
}

static void delete_all(dios_ref_t **refs, size_t n)
{
	dios_call_t calls[DIOS_SQ_ENTRIES];
	for (size_t i = 0; i < n;) {
		size_t k = n - i < DIOS_SQ_ENTRIES ? n - i : DIOS_SQ_ENTRIES;
		memset(calls, 0, sizeof calls);
		for (size_t j = 0; j < k; j++) {
			calls[j].opcode = D_OP_DELETE;
			calls[j].ref = refs[i + j];
		}
		must(dios_batch(calls, k), "dios_batch(delete)");
		for (size_t j = 0; j < k; j++)
			must(calls[j].res, "batched dios_delete");
		i += k;
	}
}

static void bench_names(pid_t dpid)
{
	const size_t small = 1000, big = quick ? 20000 : 1000000;
	const size_t samples = quick ? 2000 : 200000;
	dios_name_t *names = calloc(big, sizeof *names);
	dios_ref_t **refs = calloc(big, sizeof *refs);
	if (!names || !refs)
		die("out of memory");
	struct series s_small, s_big;
	series_init(&s_small, "lookup_1k_names", "dios_lookup, 1,000 live names", samples);
	series_init(&s_big, "lookup_1m_names", quick ? "dios_lookup, 20,000 live names (--quick)"
						    : "dios_lookup, 1,000,000 live names", samples);
	create_names(names, refs, 0, small);
	lookup_series(&s_small, names, small, samples / 4, 1);   /* warm-up */
	s_small.n = 0;
	lookup_series(&s_small, names, small, samples, 2);
	long rss0 = proc_rss_kb(dpid);
	uint64_t t0 = bench_now_ns();
	create_names(names, refs, small, big);
	double secs = (bench_now_ns() - t0) / 1e9;
	long rss1 = proc_rss_kb(dpid);
	lookup_series(&s_big, names, big, samples, 3);
	printf("metric name=memory_per_name unit=bytes value=%.0f n=%zu\n",
	       (rss1 - rss0) * 1024.0 / (double)(big - small), big - small);
	printf("metric name=create_names_rate unit=ops/s value=%.0f n=%zu\n", (double)(big - small) / secs, big - small);
	struct series both[2] = { s_small, s_big };
	report(both, 2);
	dios_daemon_stats_t st;
	must(dios_daemon_stats(&st), "dios_daemon_stats");
	if (st.names < big)
		die("only %llu names live, expected %zu", (unsigned long long)st.names, big);
	delete_all(refs, big);
	free(names);
	free(refs);
}

static void bench_idle_tasks(pid_t dpid)
{
	const int ntasks = quick ? 100 : 1000;
	const int secs = quick ? 2 : 10;
	int ready[2], release[2];
	if (pipe(ready) || pipe(release))
		die("pipe");
	dios_daemon_stats_t st0;
	must(dios_daemon_stats(&st0), "dios_daemon_stats");
	long rss0 = proc_rss_kb(dpid);
	pid_t *kids = calloc((size_t)ntasks, sizeof *kids);
	fflush(NULL);
	for (int i = 0; i < ntasks; i++) {
		pid_t p = fork();
		if (p < 0)
			die("fork: %s", strerror(errno));
		if (p == 0) {
			alarm(300);
			close(ready[0]);
			close(release[1]);
			char c = dios_nop(0) == 0 ? 'y' : 'n';   /* registers: a new task */
			if (write(ready[1], &c, 1) != 1)
				_exit(1);
			while (read(release[0], &c, 1) > 0)     /* idle until the parent lets go */
				;
			_exit(0);
		}
		kids[i] = p;
	}
	close(ready[1]);
	close(release[0]);
	int ok = 0;
	for (int i = 0; i < ntasks; i++) {
		char c;
		if (read(ready[0], &c, 1) != 1)
			die("an idle task died before registering");
		ok += c == 'y';
	}
	if (ok != ntasks)
		die("%d of %d idle tasks could not register", ntasks - ok, ntasks);
	long rss1 = proc_rss_kb(dpid);
	sleep(2);       /* let every task go dormant and the daemon park */
	unsigned long long c0 = proc_cpu_ticks(dpid), n0 = proc_cpu_ns(dpid);
	uint64_t t0 = bench_now_ns();
	sleep((unsigned)secs);
	unsigned long long c1 = proc_cpu_ticks(dpid), n1 = proc_cpu_ns(dpid);
	double wall = (bench_now_ns() - t0) / 1e9;
	double pct = n0 && n1 >= n0 ? 100.0 * (double)(n1 - n0) / 1e9 / wall
				    : 100.0 * (double)(c1 - c0) / (double)sysconf(_SC_CLK_TCK) / wall;
	printf("metric name=idle_cpu_tasks unit=percent value=%.4f tasks=%d seconds=%.1f source=%s\n", pct, ntasks, wall,
	       n0 && n1 >= n0 ? "schedstat" : "ticks");
	printf("metric name=memory_per_task unit=bytes value=%.0f n=%d\n", (rss1 - rss0) * 1024.0 / ntasks, ntasks);
	close(release[1]);
	for (int i = 0; i < ntasks; i++)
		waitpid(kids[i], NULL, 0);
	free(kids);
	/* every idle task's references are gone again */
	dios_daemon_stats_t st1;
	for (int tries = 0; tries < 500; tries++) {
		must(dios_daemon_stats(&st1), "dios_daemon_stats");
		if (st1.tasks == st0.tasks && st1.refs == st0.refs && st1.objects == st0.objects)
			break;
		usleep(10000);
	}
	if (st1.tasks != st0.tasks || st1.refs != st0.refs || st1.objects != st0.objects)
		die("after the idle tasks exited: %llu tasks, %llu refs (expected %llu, %llu)",
		    (unsigned long long)st1.tasks, (unsigned long long)st1.refs,
		    (unsigned long long)st0.tasks, (unsigned long long)st0.refs);
}

static int rpc_connect(void)
{
	const char *path = getenv(DIOS_ENV_SOCKET);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s" DIOS_RPC_SUFFIX, path);
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0)
		die("connect %s: %s", a.sun_path, strerror(errno));
	return s;
}

/* k processes make null calls until the deadline; returns total calls per second */
static double callers(int k, int rpc, double secs)
{
	int p[2];
	if (pipe(p))
		die("pipe");
	fflush(NULL);
	uint64_t start = bench_now_ns() + 200000000ull;   /* everyone starts together */
	uint64_t end = start + (uint64_t)(secs * 1e9);
	for (int i = 0; i < k; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			alarm(120);
			close(p[0]);
			int fd = rpc ? rpc_connect() : -1;
			if (!rpc)
				must(dios_nop(0), "dios_nop");      /* register before the clock starts */
			while (bench_now_ns() < start)
				;
			uint64_t n = 0;
			struct dios_sqe q = { .opcode = D_OP_NOP };
			struct dios_cqe c;
			while (bench_now_ns() < end) {
				if (rpc) {
					q.user_data = n;
					if (write(fd, &q, sizeof q) != sizeof q || read(fd, &c, sizeof c) != sizeof c || c.res)
						_exit(1);
				} else if (dios_nop(0) != 0) {
					_exit(1);
				}
				n++;
			}
			if (write(p[1], &n, sizeof n) != sizeof n)
				_exit(1);
			_exit(0);
		}
	}
	close(p[1]);
	uint64_t total = 0, n;
	int got = 0;
	while (read(p[0], &n, sizeof n) == sizeof n) {
		total += n;
		got++;
	}
	close(p[0]);
	int st, bad = 0;
	while (wait(&st) > 0)
		bad += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	if (got != k || bad)
		die("%d of %d callers failed", k - got + bad, k);
	return (double)total / secs;
}

static void bench_callers(void)
{
	static const int ks[] = { 1, 2, 4, 8, 64 };
	const double secs = quick ? 0.3 : 2.0;
	const int rounds = quick ? 1 : 3;
	double ring[5] = { 0 }, rpc[5] = { 0 };
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < 5; i++) {
			/* A/B, order alternating by round */
			if (r % 2 == 0) {
				ring[i] += callers(ks[i], 0, secs);
				rpc[i] += callers(ks[i], 1, secs);
			} else {
				rpc[i] += callers(ks[i], 1, secs);
				ring[i] += callers(ks[i], 0, secs);
			}
		}
	for (int i = 0; i < 5; i++) {
		printf("metric name=throughput_ring_%d unit=ops/s value=%.0f tasks=%d\n", ks[i], ring[i] / rounds, ks[i]);
		printf("metric name=throughput_rpc_%d unit=ops/s value=%.0f tasks=%d\n", ks[i], rpc[i] / rounds, ks[i]);
	}
}

int main(int argc, char **argv)
{
	quick = bench_parse_quick(argc, argv);
	alarm(quick ? 180 : 900);   /* never hang a build */
	signal(SIGPIPE, SIG_IGN);
	pid_t dpid = daemon_pid();
	must(dios_nop(0), "dios_nop");
	bench_names(dpid);
	bench_idle_tasks(dpid);
	bench_callers();
	return 0;
}
