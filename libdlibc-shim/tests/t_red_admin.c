/* t_red_admin: issue 18.11: another user (uid 65534 when run as root) connects to the admin socket 2,000 times: each connection is refused with an EACCES line, the daemon logs at most two lines about it (once per 10 s, then a count), and a victim task's null calls all succeed meanwhile. */
#define _GNU_SOURCE
#include "helpers.h"
#include "redteam.h"

#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

enum { CONNECTIONS = 2000, OTHER = 65534 };

/* One connection to the admin socket: 1 if it was answered with an EACCES refusal, 0 otherwise. */
static int refused_once(const char *path)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 0;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof a.sun_path) {
		close(s);
		return 0;
	}
	memcpy(a.sun_path, path, strlen(path) + 1);
	struct timeval tv = { 5, 0 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	int ok = 0;
	if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) {
		char buf[512];
		ssize_t n = read(s, buf, sizeof buf - 1);
		if (n > 0) {
			buf[n] = 0;
			ok = strstr(buf, "EACCES") != NULL;
		}
	}
	close(s);
	return ok;
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "skip: needs root, to act as another user\n");
		return T_EXIT_SKIP;
	}
	alarm(110);
	static const char *const args[] = { "--socket-mode", "0666", NULL };
	dt_daemon_args = args;
	dt_start_daemon();
	CHECK_EQ(chmod(dt_dir(), 0755), 0);
	CHECK_EQ(dios_nop(0), 0);
	char admin[PATH_MAX];
	snprintf(admin, sizeof admin, "%s.admin", dt_socket_path());

	struct dt_victim_report base, during;
	dt_victim_baseline(1000, &base);
	struct dt_victim *victim = dt_victim_start();
	fflush(NULL);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		alarm(100);
		dt_become_user(OTHER);
		int refused = 0;
		for (int i = 0; i < CONNECTIONS; i++)
			refused += refused_once(admin);
		_exit(refused == CONNECTIONS ? 0 : 1);
	}
	int st = dt_wait_child(c);
	dt_victim_stop(victim, &during);
	dt_redteam_report("admin: another user's 2,000 connections to the admin socket", &base, &during);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		dt_fail(__FILE__, __LINE__, "uid %d: not every admin connection was refused with EACCES (status 0x%x)", OTHER, st);
	int lines = dt_log_lines("admin: refused");
	CHECK(lines >= 1);
	CHECK(lines <= 2);                              /* not one per connection */
	CHECK_EQ(dios_nop(0), 0);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
