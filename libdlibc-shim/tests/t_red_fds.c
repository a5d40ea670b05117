/* t_red_fds: a daemon out of file descriptors neither spins nor floods its log, keeps serving registered tasks, times out silent connections and accepts new tasks once descriptors are free (issue 18.2). */
#define _GNU_SOURCE
#include "helpers.h"
#include "redteam.h"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

enum { DAEMON_FDS = 320, FLOOD = 360 };

static int count_fds(pid_t pid)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(p);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static int connect_silent(void)
{
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return -errno;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s", dt_socket_path());
	if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
		int e = errno;
		close(s);
		return -e;
	}
	return s;
}

/* A new process registers and makes a call: 0, or its error. */
static int fresh_task_nop(void)
{
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		alarm(20);
		_exit(dios_nop(0) == 0 ? 0 : 1);
	}
	return dt_wait_child(c);
}

int main(void)
{
	alarm(120);
	struct rlimit mine = { FLOOD + 64, FLOOD + 64 };
	CHECK_EQ(setrlimit(RLIMIT_NOFILE, &mine), 0);
	pid_t d = dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);                       /* the test registers before the flood */
	struct dt_victim_report base, during;
	dt_victim_baseline(1000, &base);
	struct dt_victim *victim = dt_victim_start();   /* another task, registered before the flood */

	/* the daemon gets few descriptors: the flood below exhausts them */
	struct rlimit few = { DAEMON_FDS, DAEMON_FDS };
	CHECK_EQ(prlimit(d, RLIMIT_NOFILE, &few, NULL), 0);
	int before = count_fds(d);
	CHECK(before > 0 && before < DAEMON_FDS - 20);

	int fds[FLOOD], nf = 0;
	for (int i = 0; i < FLOOD; i++) {
		int s = connect_silent();
		if (s == -EAGAIN)
			break;                                  /* the backlog is full too */
		if (s < 0)
			dt_fail(__FILE__, __LINE__, "connection %d of the flood: %s", i, strerror(-s));
		fds[nf++] = s;
	}
	CHECK(nf > DAEMON_FDS - before);                 /* more than the daemon can take */

	/* out of descriptors: the daemon stays at its limit, keeps serving the victim, and logs little */
	uint64_t until = dt_now_ns() + 2000000000ull;
	int calls = 0, peak = 0;
	while (dt_now_ns() < until) {
		CHECK_EQ(dios_nop(0), 0);
		calls++;
		int n = count_fds(d);
		if (n > peak)
			peak = n;
		usleep(1000);
	}
	CHECK(calls > 0);
	CHECK(peak >= DAEMON_FDS - 2);                   /* it did run out (before silent ones time out) */
	dt_victim_stop(victim, &during);
	dt_redteam_report("fds: connections that never say hello until the daemon is out of fds", &base, &during);
	int accept_lines = dt_log_lines("accept: ");
	CHECK(accept_lines >= 1);
	CHECK(accept_lines <= 2);                        /* one per 10 s, not one per wake-up */

	/* silent connections time out after 5 s: descriptors come back while the flood still holds its ends */
	uint64_t deadline = dt_now_ns() + 15000000000ull;
	while (count_fds(d) > before + 8 && dt_now_ns() < deadline)
		usleep(50000);
	CHECK(count_fds(d) <= before + 8);
	CHECK(dt_log_lines("sent no hello in time") <= 2);

	/* and a new task is served once there are descriptors again */
	for (int i = 0; i < nf; i++)
		close(fds[i]);
	CHECK_EQ(fresh_task_nop(), 0);
	CHECK_EQ(dios_nop(0), 0);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
