/*
 * t_red_quota_heap - finding 18.3: a flood of named SHMEM objects that never
 * get memory no longer brings down a daemon with a small heap.  The daemon
 * runs with -Xmx128m (DIOSD_JAVA_OPTS), many descriptors (so the heap, not
 * the descriptors, sizes --quota-objects, where the test may raise
 * RLIMIT_NOFILE) and no --quota-* flag: its
 * default.  Uid 65534 creates named SHMEM objects in one task until
 * -EDQUOT: it stops at exactly the quota dios status shows, which is at
 * most a quarter of the heap at 1 KiB an object, and the daemon stays up
 * and serves root.  Then four users at once each reach 32768 objects (the
 * heap-sized quota of a host with enough descriptors): the daemon holds
 * 131072 named objects in its 128 MiB heap and still serves.  Needs root, to be another user and raise RLIMIT_NOFILE.
 */
#define _GNU_SOURCE
#include "helpers.h"
#include "redteam.h"

#include <grp.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define ATTACKER 65534u
#define MAX_TRIES 200000

static const char *const daemon_args[] = {
	"--warmup-cycles", "0", "--socket-mode", "0666", "--max-refs", "262144", NULL };

#define USERS 4
#define HEAP_QUOTA 32768

static const char *const daemon_args_heap[] = {
	"--warmup-cycles", "0", "--socket-mode", "0666", "--max-refs", "262144",
	"--quota-objects", "32768", "--quota-names", "32768", NULL };

/*
 * users tasks, of uids 65534, 65533, ..., each create named SHMEM objects
 * until -EDQUOT, which must come after exactly quota; they hold them until
 * all have reported, so the daemon holds users x quota objects at once.
 */
static void flood(int users, long long quota)
{
	int rep[2], hold[2];
	CHECK_EQ(pipe(rep), 0);
	CHECK_EQ(pipe(hold), 0);
	pid_t kids[USERS];
	for (int u = 0; u < users; u++) {
		fflush(NULL);
		kids[u] = fork();
		CHECK(kids[u] >= 0);
		if (kids[u] == 0) {
			alarm(100);
			close(rep[0]);
			close(hold[1]);
			uid_t uid = ATTACKER - (uid_t)u;
			if (setgroups(0, NULL) != 0 || setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0)
				_exit(90);
			uint64_t t0 = dt_now_ns(), size = 4096;
			long made = 0;
			int rc = 0;
			for (; made < MAX_TRIES && dt_now_ns() - t0 < 80000000000ull; made++) {
				dios_name_t n;
				dios_ref_t *r;
				rc = dios_create(D_CREATE_NAMED, D_OBJ_SHMEM, &size, &n, &r, 0);
				if (rc != 0)
					break;
			}
			CHECK_EQ(rc, -EDQUOT);
			CHECK_EQ(dios_nop(0), 0);
			CHECK_EQ(write(rep[1], &made, sizeof made), (ssize_t)sizeof made);
			char c;
			CHECK_EQ(read(hold[0], &c, 1), 0);   /* until the parent lets go: all hold theirs at once */
			_exit(0);   /* its objects go with it */
		}
	}
	close(rep[1]);
	close(hold[0]);
	for (int u = 0; u < users; u++) {
		long made = -1;
		ssize_t n = read(rep[0], &made, sizeof made);
		if (n != (ssize_t)sizeof made) {
			close(hold[1]);
			for (int k = 0; k < users; k++)
				dt_check_child_ok(__FILE__, __LINE__, kids[k]);   /* reports the one that failed */
			dt_fail(__FILE__, __LINE__, "a flooding task reported nothing");
		}
		CHECK_EQ(made, quota);
	}
	fprintf(stderr, "%d user(s) hold %lld named objects each\n", users, quota);
	CHECK_EQ(dt_admin_status("objects") >= users * quota, 1);
	close(hold[1]);
	for (int u = 0; u < users; u++)
		dt_check_child_ok(__FILE__, __LINE__, kids[u]);
	close(rep[0]);
}

/* Root creates and calls, in a task of its own. */
static void root_calls(void)
{
	fflush(NULL);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		alarm(30);
		dios_ref_t *r;
		uint64_t size = 4096;
		dios_name_t nm;
		CHECK_EQ(dios_create(D_CREATE_NAMED, D_OBJ_SHMEM, &size, &nm, &r, 0), 0);
		CHECK_EQ(dios_delete(0, r), 0);
		CHECK_EQ(dios_nop(0), 0);
		_exit(0);
	}
	dt_check_child_ok(__FILE__, __LINE__, c);
}

/* True if the daemon's log holds s. */
static int log_has(const char *s)
{
	char path[PATH_MAX], cmd[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/diosd.log", dt_dir());
	snprintf(cmd, sizeof cmd, "grep -q '%s' '%s'", s, path);
	return system(cmd) == 0;
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "skip: needs root, to act as another user\n");
		return T_EXIT_SKIP;
	}
	alarm(115);
	/* Many descriptors if we may (a container may not): then the heap alone sizes the quota. */
	struct rlimit nofile = { 1 << 20, 1 << 20 };
	if (setrlimit(RLIMIT_NOFILE, &nofile) != 0)
		CHECK_EQ(getrlimit(RLIMIT_NOFILE, &nofile), 0);
	long long fd_bound = (long long)nofile.rlim_max / 8;   /* a quarter of the fds, 2 a mapped object */
	setenv("DIOSD_JAVA_OPTS", "-Xmx128m", 1);
	dt_daemon_args = daemon_args;
	dt_start_daemon();
	CHECK_EQ(chmod(dt_dir(), 0755), 0);
	long long quota = dt_admin_status("quota.objects");
	/* A quarter of at most 128 MiB at 1 KiB an object, or an eighth of the descriptors if fewer. */
	long long lo = fd_bound < 16384 ? fd_bound : 16384;
	if (quota > 32768 || quota < lo)
		dt_fail(__FILE__, __LINE__, "quota.objects is %lld with a 128 MiB heap and %lld fds, expected %lld..32768",
			quota, (long long)nofile.rlim_max, lo);
	fprintf(stderr, "quota.objects %lld (RLIMIT_NOFILE %lld)\n", quota, (long long)nofile.rlim_max);

	/* 1. One user floods with the default quota. */
	flood(1, quota);
	CHECK_EQ(kill(dt_daemon_pid(), 0), 0);   /* still up */
	root_calls();
	CHECK(!log_has("OutOfMemoryError"));
	dt_stop_daemon();

	/*
	 * 2. Four users at once, each at the quota a host with many descriptors
	 * gets from a 128 MiB heap (at most 32768): together the heap budget the
	 * quotas allow; the daemon must serve on.
	 */
	dt_daemon_args = daemon_args_heap;
	dt_start_daemon();
	CHECK_EQ(chmod(dt_dir(), 0755), 0);
	struct dt_victim_report base, during;
	dt_victim_baseline(1000, &base);
	struct dt_victim *victim = dt_victim_start();
	flood(USERS, HEAP_QUOTA);
	dt_victim_stop(victim, &during);
	dt_redteam_report("heap: four users flood named SHMEM objects to their quotas (128 MiB heap)", &base, &during);
	CHECK_EQ(kill(dt_daemon_pid(), 0), 0);
	root_calls();
	CHECK(!log_has("OutOfMemoryError"));
	dt_stop_daemon();
	return T_EXIT_PASS;
}
