/* t_limits - per-task reference, buffer and parked-call limits and the task limit each give their exact error (and dios_last_error_detail names the limit, its value and its flag), and free up again; calls beyond the 128 call slots wait and complete */
#include "helpers.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

static const char *const args[] = { "--max-refs", "16", "--max-buffers", "4", "--max-tasks", "2",
				    "--max-parked-calls", "2", NULL };

static dios_ref_t *g_fifo;

/* A select on the FIFO's empty reader end: parks in the daemon until data comes. */
static void *select_thread(void *arg)
{
	dios_ref_t *ready = NULL;
	intptr_t rc = dios_select(0, &g_fifo, 1, &ready);
	if (rc == 0 && ready != g_fifo)
		rc = -1000;
	(void)arg;
	return (void *)rc;
}

/* Null calls from one of many threads at once. */
static void *nop_thread(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200; i++)
		if (dios_nop(0) != 0)
			return (void *)1;
	return NULL;
}

/* The last failed call's detail names the limit: its flag and its value, "(N)". */
#define CHECK_DETAIL(flag, value) do { \
	const char *dt_d_ = dios_last_error_detail(); \
	if (!strstr(dt_d_, flag) || !strstr(dt_d_, "(" value ")")) \
		dt_fail(__FILE__, __LINE__, "detail \"%s\" does not name %s (%s)", dt_d_, flag, value); \
} while (0)

/* The daemon's count of parked calls, from `dios status`. */
static int parked_calls(void)
{
	const char *argv[] = { dt_tool_path(), "status", NULL };
	char out[8192], err[1024];
	CHECK_EQ(dt_run_capture(argv, dt_socket_path(), 0, out, sizeof out, err, sizeof err), 0);
	const char *p = strstr(out, "\nparked_calls ");
	CHECK(p != NULL);
	return atoi(p + strlen("\nparked_calls "));
}

/* A forked child: register by making a call; report the result through the exit code. */
static pid_t child_nop(int hold_fd, int hold_wr)
{
	pid_t p = fork();
	CHECK(p >= 0);
	if (p == 0) {
		alarm(30);              /* alarms are not inherited: never outlive a failed test */
		if (hold_wr >= 0)
			close(hold_wr);     /* else our own write end would keep the pipe open */
		int rc = dios_nop(0);
		if (hold_fd >= 0) {     /* stay registered until the parent closes the pipe */
			char c;
			ssize_t n = read(hold_fd, &c, 1);
			(void)n;
		}
		_exit(rc == 0 ? 0 : rc == -EAGAIN ? 3 : 1);
	}
	return p;
}

/* A forked child refused at its first call (-EAGAIN) that tries again when told to, and gets in. */
static pid_t child_retry(int go_fd, int go_wr, int said_fd, int hold_wr)
{
	pid_t p = fork();
	CHECK(p >= 0);
	if (p == 0) {
		alarm(30);
		close(go_wr);
		close(hold_wr);         /* else the held child never sees its pipe close */
		int first = dios_nop(0);
		dt_send(said_fd, first == -EAGAIN ? 'r' : 'x');
		char c;
		ssize_t n = read(go_fd, &c, 1);
		(void)n;
		int again = dios_nop(0);
		_exit(first == -EAGAIN && again == 0 ? 0 : first != -EAGAIN ? 4 : 5);
	}
	return p;
}

int main(void)
{
	alarm(60);
	dt_daemon_args = args;
	dt_start_daemon();
	dt_register();

	/* references: 16 per task, this task's own reference included */
	dios_ref_t *refs[32];
	uint64_t size = 4096;
	int n = 0, rc;
	while ((rc = dios_create(0, D_OBJ_SHMEM, &size, NULL, &refs[n], 0)) == 0) {
		n++;
		CHECK(n <= 16);
	}
	CHECK_EQ(rc, -ENOMEM);
	CHECK_DETAIL("--max-refs", "16");
	CHECK_EQ(n, 15);
	/* a lookup needs a slot too */
	CHECK_EQ(dios_delete(0, refs[--n]), 0);
	dios_name_t name;
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, &name, &refs[n], 0), 0);
	n++;
	dios_ref_t *extra = NULL;
	uint64_t count = 1;
	CHECK_EQ(dios_lookup(0, &name, &extra, &count), -ENOMEM);
	CHECK_DETAIL("--max-refs", "16");
	CHECK_EQ(dios_delete(0, refs[--n]), 0);
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &refs[n], 0), 0);   /* the slot is free again */
	n++;

	/* buffers: 4 outstanding per task */
	dios_iovec_t *iov[8];
	int b = 0;
	while ((rc = dios_acquire_read(0, refs[0], 0, &iov[b])) == 0) {
		b++;
		CHECK(b <= 4);
	}
	CHECK_EQ(rc, -ENOMEM);
	CHECK_DETAIL("--max-buffers", "4");
	CHECK_EQ(b, 4);
	CHECK_EQ(dios_release_read(0, refs[0], iov[--b]), 0);
	CHECK_EQ(dios_acquire_write(0, refs[1], 0, &iov[b]), 0);              /* room again */
	CHECK_EQ(dios_release_write(0, refs[1], iov[b]), 0);
	while (b > 0)
		CHECK_EQ(dios_release_read(0, refs[0], iov[--b]), 0);
	while (n > 0)
		CHECK_EQ(dios_delete(0, refs[--n]), 0);

	/* parked calls: 2 at most; the third call that must wait is refused, a call that need not wait is not */
	dios_name_t fname;
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, NULL, &fname, &g_fifo, 0), 0);
	dios_ref_t *fw = NULL;
	uint64_t one = 1;
	CHECK_EQ(dios_lookup(0, &fname, &fw, &one), 0);                        /* its writer end, later */
	dios_iovec_t *fi = NULL;
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, g_fifo, 0, &fi), -EAGAIN);     /* g_fifo is the reader end */
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, select_thread, NULL), 0);
	uint64_t t0 = dt_now_ns();
	while (parked_calls() != 2) {
		CHECK(dt_now_ns() - t0 < 10000000000ull);
		usleep(10000);
	}
	CHECK_EQ(dios_select(0, &g_fifo, 1, &(dios_ref_t *){ NULL }), -ENOMEM);
	CHECK_DETAIL("--max-parked-calls", "2");
	CHECK_EQ(dios_wait(0, dios_self(), &(int){ 0 }), -ENOMEM);          /* reading a task waits too */
	CHECK_DETAIL("--max-parked-calls", "2");
	CHECK_EQ(dios_nop(0), 0);
	CHECK_DETAIL("--max-parked-calls", "2");                               /* a success leaves it, like errno */
	CHECK_EQ(dios_select(D_NONBLOCK, &g_fifo, 1, &(dios_ref_t *){ NULL }), -EAGAIN);
	CHECK_EQ(dios_nop(0), 0);                                               /* a call that need not wait */
	/* data: both parked selects complete, and there is room again */
	dios_iovec_t *wi = NULL;
	CHECK_EQ(dios_acquire_write(0, fw, 1, &wi), 0);
	((char *)wi->buf)[0] = 'x';
	CHECK_EQ(dios_commit_write(0, fw, 1, wi), 0);
	CHECK_EQ(dios_release_write(0, fw, wi), 0);
	for (int i = 0; i < 2; i++) {
		void *rc = NULL;
		CHECK_EQ(pthread_join(th[i], &rc), 0);
		CHECK_EQ((intptr_t)rc, 0);
	}
	CHECK_EQ(parked_calls(), 0);
	CHECK_EQ(dios_select(0, &g_fifo, 1, &(dios_ref_t *){ NULL }), 0);      /* ready now: no wait */
	CHECK_EQ(dios_delete(0, fw), 0);
	CHECK_EQ(dios_delete(0, g_fifo), 0);
	char pat[256];
	snprintf(pat, sizeof pat, "grep -c 'refused with -ENOMEM: 2 calls wait already (--max-parked-calls 2)' %s/diosd.log",
		 dt_dir());
	FILE *g = popen(pat, "r");
	int lines = 0;
	CHECK(g && fscanf(g, "%d", &lines) == 1);
	pclose(g);
	CHECK_EQ(lines, 1);                                                     /* said once per task */

	/* calls in flight: 160 threads, more than the 128 call slots; those beyond wait for a slot, all complete */
	{
		pthread_t many[160];
		for (int i = 0; i < 160; i++)
			CHECK_EQ(pthread_create(&many[i], NULL, nop_thread, NULL), 0);
		for (int i = 0; i < 160; i++) {
			void *rc = (void *)-1;
			CHECK_EQ(pthread_join(many[i], &rc), 0);
			CHECK(rc == NULL);
		}
	}

	/* tasks: 2 at most; this process is one */
	int hold[2];
	CHECK_EQ(pipe(hold), 0);
	dios_daemon_stats_t want = dt_stats();       /* before the child: it may register before we ask */
	pid_t a = child_nop(hold[0], hold[1]);
	want.tasks = 2;
	want.objects++;
	want.refs++;
	dios_daemon_stats_t got = dt_wait_stats(&want, 5000);   /* child a is registered */
	CHECK_STATS_EQ(got, want);
	int st;
	pid_t b2 = child_nop(-1, -1);
	CHECK_EQ(waitpid(b2, &st, 0), b2);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 3);               /* refused: -EAGAIN, and it did not hang */
	int go[2], said[2];
	CHECK_EQ(pipe(go), 0);
	CHECK_EQ(pipe(said), 0);
	pid_t r = child_retry(go[0], go[1], said[1], hold[1]);
	close(go[0]);
	close(said[1]);
	CHECK_EQ(dt_recv(said[0]), 'r');            /* refused for now */
	close(hold[1]);
	CHECK_EQ(waitpid(a, &st, 0), a);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	want.tasks = 1;
	want.objects--;
	want.refs--;
	got = dt_wait_stats(&want, 5000);           /* a is gone: there is room again */
	CHECK_STATS_EQ(got, want);
	close(go[1]);                               /* the refused child tries again, and gets in */
	CHECK_CHILD_OK(r);
	pid_t c = child_nop(-1, -1);
	CHECK_EQ(waitpid(c, &st, 0), c);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	dt_stop_daemon();
	return T_EXIT_PASS;
}
