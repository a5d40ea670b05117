/*
 * t_heap_pure: a Pure DIOS task (c_heap_pure, started with dios_run) runs the
 * seed's string workload (section 4.1.4) on the locked DIOS heap and gets
 * the same answer as this program on glibc's heap, while raw brk, mremap and
 * anonymous mmap fail with ENOSYS; the daemon counts exactly the heap's
 * bytes for it while it runs and nothing once it has exited; under
 * D_RUN_SECCOMP_KILL its anonymous mmap kills it with SIGSYS.  With rustc
 * installed, a Rust std program (r_heap_pure) runs on the locked heap too.
 */
#include "helpers.h"
#include "heap_strings.h"

#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

static void read_msg(dios_ref_t *r, char *buf, size_t cap)
{
	size_t n = 0;
	dios_iovec_t *iov = NULL;
	int rc = dios_acquire_read(0, r, 0, &iov);
	if (rc == 0) {
		n = iov->len < cap - 1 ? iov->len : cap - 1;
		memcpy(buf, iov->buf, n);
		CHECK_EQ(dios_release_read(0, r, iov), 0);
	} else {
		CHECK_EQ(rc, -EPIPE);          /* the child went without a word */
	}
	buf[n] = '\0';
}

int main(void)
{
	alarm(90);
	uint64_t want = hs_run(4000);          /* glibc's heap: this process is not Pure DIOS */
	CHECK(want != 0);
	dios_heap_stats_t own;
	CHECK_EQ(dios_heap_stats(&own), 0);
	CHECK_EQ(own.mode, DIOS_HEAP_MODE_LIBC);
	/* no JIT warm-up: nothing here is timed, and a loaded CI machine would spend seconds on it */
	static const char *const args[] = { "--warmup-cycles", "0", NULL };
	dt_daemon_args = args;
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();

	char self[PATH_MAX], path[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	CHECK(n > 0);
	self[n] = '\0';
	char *dir = dirname(self);
	snprintf(path, sizeof path, "%s/c_heap_pure", dir);
	dios_ref_t *exe = NULL;
	CHECK_EQ(dios_exe(path, &exe), 0);

	/* the workload, and the daemon's figures for the task while it runs */
	dios_ref_t *fifo[2] = { NULL, NULL };
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, NULL, NULL, &fifo[0], 0), 0);
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, NULL, NULL, &fifo[1], 0), 0);
	char *argv[] = { "c_heap_pure", "checks", NULL };
	dios_task_spec_t spec = { .argc = 2, .argv = argv, .refs = fifo, .ref_count = 2 };
	dios_ref_t *t = NULL;
	CHECK_EQ(dios_run(0, exe, &spec, &t), 0);
	dios_ref_info_t ti;
	CHECK_EQ(dios_ref_info(t, &ti), 0);
	pid_t pid = (pid_t)ti.size;                /* a task reference's size is its pid */
	char report[256];
	read_msg(fifo[0], report, sizeof report);
	unsigned long long hash = 0, held = 0, calls = 0;
	if (sscanf(report, "ok %llx %llu %llu", &hash, &held, &calls) != 3)
		dt_fail(__FILE__, __LINE__, "the Pure DIOS child reported: %s", report);
	fprintf(stderr, "t_heap_pure: child %d: hash %016llx (want %016" PRIx64 "), %llu heap bytes, %llu DIOS calls\n",
		(int)pid, hash, want, held, calls);
	CHECK_EQ(hash, want);                       /* the same answer as on glibc's heap */
	CHECK(held >= DIOS_HEAP_CHUNK_BYTES);
	CHECK_EQ(dt_admin_task(pid, "privmem"), (long long)held);
	CHECK(dt_admin_status("privmem_bytes") >= (long long)held);
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_acquire_write(0, fifo[1], 1, &iov), 0);
	((char *)iov->buf)[0] = 'g';
	CHECK_EQ(dios_commit_write(0, fifo[1], 1, iov), 0);
	CHECK_EQ(dios_release_write(0, fifo[1], iov), 0);
	int st = -1;
	CHECK_EQ(dios_wait(0, t, &st), 0);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
	CHECK_EQ(dios_delete(0, t), 0);
	CHECK_EQ(dios_delete(0, fifo[0]), 0);
	CHECK_EQ(dios_delete(0, fifo[1]), 0);
	CHECK_EQ(dt_admin_status("privmem_bytes"), 0);  /* everything it held went with it */

	/* a Rust std program (named threads, their signal stacks, a 5 MiB Vec) on the locked heap */
	char rpath[PATH_MAX + 16];
	snprintf(rpath, sizeof rpath, "%s/r_heap_pure", dir);
	if (access(rpath, X_OK) == 0) {
		dios_ref_t *rexe = NULL;
		CHECK_EQ(dios_exe(rpath, &rexe), 0);
		char *rargv[] = { "r_heap_pure", NULL };
		dios_task_spec_t rspec = { .argc = 1, .argv = rargv };
		CHECK_EQ(dios_run(D_RUN_SECCOMP_KILL, rexe, &rspec, &t), 0);
		CHECK_EQ(dios_wait(0, t, &st), 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			dt_fail(__FILE__, __LINE__, "r_heap_pure (Rust, Pure DIOS, --seccomp-kill) ended with status %#x", st);
		CHECK_EQ(dios_delete(0, t), 0);
		CHECK_EQ(dios_delete(0, rexe), 0);
		CHECK_EQ(dt_admin_status("privmem_bytes"), 0);
	} else {
		fprintf(stderr, "t_heap_pure: no r_heap_pure (rustc not installed): the Rust part is skipped\n");
	}

	/* --seccomp-kill: the first anonymous mmap is the task's last call */
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, NULL, NULL, &fifo[0], 0), 0);
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, NULL, NULL, &fifo[1], 0), 0);
	char *kargv[] = { "c_heap_pure", "mmap", NULL };
	spec.argv = kargv;
	CHECK_EQ(dios_run(D_RUN_SECCOMP_KILL, exe, &spec, &t), 0);
	CHECK_EQ(dios_wait(0, t, &st), 0);
	read_msg(fifo[0], report, sizeof report);
	CHECK(WIFSIGNALED(st));
	CHECK_EQ(WTERMSIG(st), SIGSYS);
	CHECK_EQ(strcmp(report, "about to mmap"), 0);
	CHECK_EQ(dios_delete(0, t), 0);
	CHECK_EQ(dios_delete(0, fifo[0]), 0);
	CHECK_EQ(dios_delete(0, fifo[1]), 0);

	CHECK_EQ(dios_delete(0, exe), 0);
	dios_daemon_stats_t s = dt_wait_stats(&base, 5000);
	CHECK_STATS_EQ(s, base);
	CHECK_EQ(dt_admin_status("privmem_bytes"), 0);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
