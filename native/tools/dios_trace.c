/*
 * dios trace - every call the daemon serves, live, one line each, like strace
 * (docs/PROTOCOL.md, section 13).
 *
 * The daemon records calls only while some admin client asks it to: this
 * tool sends `trace` on the admin socket and keeps the connection open, and
 * the daemon stops tracing by itself when the last such connection ends,
 * however it ends (Ctrl-C, kill -9, a crash).  The calls go to a Chronicle
 * Queue in the daemon's state directory.  Chronicle's format has no C
 * reader, so the reading is done by `diosd --trace-tail`, run here as a child
 * that writes straight to our stdout; this process only watches the
 * connection and signals.
 *
 * Exit status: 0 stopped by SIGINT/SIGTERM/SIGHUP, or the output was closed;
 * 1 no daemon, the daemon went away, or the reader failed; 2 bad command line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dios_tool.h"

static const char trace_usage[] =
	"usage: dios [--socket PATH] trace [--task ID] [--raw]\n"
	"  Prints every call the daemon serves, as it serves it, until Ctrl-C, one line each:\n"
	"    12:34:56.789013 task 3 (pid 1234) create type=shmem flags=D_CREATE_NAMED len=4096\n"
	"      name=uX1wV9s4... ref=0x10002 obj=17 -> 0 1.2us (from 12:34:56.789012)\n"
	"  in completion order: the end time first, the start in parentheses; flags by name,\n"
	"  the call's length, the name it carried or its object has (dios_nametostr's form)\n"
	"  --task ID   only the calls of task ID\n"
	"  --raw       tab-separated: a header line, then one line per call\n"
	"  The daemon traces only while some `dios trace` runs; it needs diosd beside dios\n"
	"  (or $DIOSD) to read the trace.  Only the daemon's user and root may trace.\n";

static void trace_usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "dios trace: ");
	fprintf(stderr, fmt, printable(arg));
	fprintf(stderr, "\n%s", trace_usage);
	exit(2);
}

/* The diosd launcher that runs the reader: $DIOSD, else diosd in the directory of this executable. */
static int find_diosd(char *buf, size_t size)
{
	const char *env = getenv("DIOSD");
	if (env && *env) {
		snprintf(buf, size, "%s", env);
	} else {
		char self[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n < 0) {
			fprintf(stderr, "dios trace: readlink /proc/self/exe: %s\n", strerror(errno));
			return -1;
		}
		self[n] = 0;
		char *slash = strrchr(self, '/');
		if (slash)
			*slash = 0;
		if ((size_t)snprintf(buf, size, "%s/diosd", self) >= size) {
			fprintf(stderr, "dios trace: path too long: %s/diosd\n", printable(self));
			return -1;
		}
	}
	if (access(buf, X_OK) != 0) {
		fprintf(stderr, "dios trace: cannot run %s (%s), which reads the trace;\n"
			"  install dios beside diosd (as dist/bin holds them), or set DIOSD to the diosd launcher\n",
			printable(buf), strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Reads the answer to `trace` up to its "end" line (the connection stays
 * open after it).  Sets the queue directory and the index to start from.
 * Exits 1 with the daemon's message on an error answer.
 */
static void read_trace_answer(int fd, char *queue, size_t qsize, char *from, size_t fsize)
{
	char buf[8192];
	size_t len = 0;
	queue[0] = from[0] = 0;
	for (;;) {
		if (len == sizeof(buf) - 1) {
			fprintf(stderr, "dios trace: the daemon's answer is too long\n");
			exit(1);
		}
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ECONNRESET && len > 0)
			n = 0;  /* refused: answered and closed before reading our request */
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				fprintf(stderr, "dios trace: the daemon did not answer within 15 s\n");
			else
				fprintf(stderr, "dios trace: reading the answer: %s\n", strerror(errno));
			exit(1);
		}
		len += (size_t)n;
		buf[len] = 0;
		if (strncmp(buf, "error\t", 6) == 0 && (n == 0 || strchr(buf, '\n'))) {
			char *nl = strchr(buf, '\n');
			if (nl)
				*nl = 0;
			char *err = buf + 6, *msg = strchr(err, '\t');
			if (msg)
				*msg++ = 0;
			err = clean_field(err);
			msg = msg ? clean_field(msg) : "";
			if (strcmp(err, "EACCES") == 0)
				fprintf(stderr, "dios trace: %s\n", msg);
			else
				fprintf(stderr, "dios trace: the daemon says: %s (%s)\n", msg, err);
			exit(1);
		}
		if (strstr(buf, "\nend\t") && buf[len - 1] == '\n')
			break;
		if (n == 0) {
			fprintf(stderr, len ? "dios trace: the daemon's answer was cut short\n"
				: "dios trace: the daemon closed the connection without answering\n");
			exit(1);
		}
	}
	if (strncmp(buf, "ok\n", 3) != 0) {
		fprintf(stderr, "dios trace: not an answer of the admin protocol: %.80s\n", clean_field(buf));
		exit(1);
	}
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "row\tqueue\t", 10) == 0)
			snprintf(queue, qsize, "%s", line + 10);
		else if (strncmp(line, "row\tfrom\t", 9) == 0)
			snprintf(from, fsize, "%s", line + 9);
	}
	if (!queue[0] || !from[0]) {
		fprintf(stderr, "dios trace: the daemon's answer names no queue\n");
		exit(1);
	}
	/* The daemon escapes a backslash in a path as two; nothing else can occur in a path it made. */
	char *w = queue;
	for (const char *r = queue; *r; r++, w++) {
		if (r[0] == '\\' && r[1] == '\\')
			r++;
		*w = *r;
	}
	*w = 0;
}

/*
 * The reader runs as this user on the directory the daemon named, so a peer
 * that is not the daemon we meant (one that squatted a default path, say)
 * must not choose it.  Accepted: an absolute path whose last component is a
 * real directory (lstat: not a symlink) owned by the daemon's uid (SO_PEERCRED
 * of the admin connection) that nobody else may write to, and whose every
 * ancestor, symlinks resolved, is a directory owned by that uid or root and
 * either not writable by group and others or sticky (as /tmp): then nobody
 * but the daemon's user and root can swap any part of it.  Writes the
 * resolved path to out; returns 0, or -1 after saying why.
 */
static int check_trace_dir(const char *queue, uid_t owner, char *out, size_t size)
{
	struct stat st;
	const char *why = NULL;
	char *real = NULL;
	if (queue[0] != '/')
		why = "not an absolute path";
	else if (lstat(queue, &st) != 0)
		why = strerror(errno);
	else if (S_ISLNK(st.st_mode))
		why = "a symlink";
	else if (!S_ISDIR(st.st_mode))
		why = "not a directory";
	else if (!(real = realpath(queue, NULL)) || strlen(real) >= size)
		why = real ? "a path too long" : strerror(errno);
	/* Every prefix of the resolved path: "/", "/a", "/a/b", ..., the whole (the queue itself). */
	size_t n = real ? strlen(real) : 0;
	char prefix[PATH_MAX];
	for (size_t i = 0; !why && real && i <= n; i++) {
		if (i < n && real[i] != '/')
			continue;
		snprintf(prefix, sizeof(prefix), "%.*s", i == 0 ? 1 : (int)i, real);
		int last = i == n;
		if (lstat(prefix, &st) != 0)
			why = strerror(errno);
		else if (!S_ISDIR(st.st_mode))
			why = "a path through something that is not a directory";
		else if (last && st.st_uid != owner)
			why = "a directory the daemon's user does not own";
		else if (st.st_uid != owner && st.st_uid != 0)
			why = "in a directory of another user";
		else if (last && (st.st_mode & 022))
			why = "a directory others may write to";
		else if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))
			why = "in a directory others may write to";
	}
	if (why) {
		fprintf(stderr, "dios trace: not reading the trace in %s, which the daemon named: %s (the daemon runs as"
			" uid %u);\n  a daemon that is not the one you meant may be answering: name its socket with"
			" --socket PATH or DIOS_SOCKET\n", printable(queue), why, (unsigned)owner);
		free(real);
		return -1;
	}
	snprintf(out, size, "%s", real);
	free(real);
	return 0;
}

/* The index the reader starts from, as the daemon gave it: a decimal number, maybe negative. */
static int valid_index(const char *from)
{
	const char *d = from[0] == '-' ? from + 1 : from;
	return *d && strlen(d) <= 19 && strspn(d, "0123456789") == strlen(d);
}

static pid_t reader = -1;
static int reader_status;

/* Waits up to ms for the reader to exit; returns 1 once it has been reaped. */
static int reap_reader(int ms)
{
	for (int waited = 0;; waited += 10) {
		pid_t p = waitpid(reader, &reader_status, WNOHANG);
		if (p == reader || (p < 0 && errno == ECHILD)) {
			reader = -1;
			return 1;
		}
		if (waited >= ms)
			return 0;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

/* Stops the reader: SIGTERM, then SIGKILL after 5 s. */
static void stop_reader(void)
{
	if (reader < 0)
		return;
	kill(reader, SIGTERM);
	if (!reap_reader(5000)) {
		kill(reader, SIGKILL);
		reap_reader(5000);
	}
}

/* True if the daemon has closed the connection (or it failed); waits up to ms for it. */
static int connection_ended(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
	if (poll(&p, 1, ms) <= 0)
		return 0;
	if (p.revents & (POLLHUP | POLLERR | POLLRDHUP))
		return 1;
	char junk[256];
	ssize_t n = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

int dios_trace_main(const char *sock, int raw, int argc, char **argv)
{
	const char *task = NULL;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(trace_usage, stdout);
			return 0;
		} else if (strcmp(a, "--raw") == 0) {
			raw = 1;
		} else if (strcmp(a, "--socket") == 0) {
			if (++i >= argc)
				trace_usage_error("%s needs a value", a);
			sock = argv[i];
		} else if (strcmp(a, "--task") == 0) {
			if (++i >= argc)
				trace_usage_error("%s needs a value", a);
			task = argv[i];
			if (!*task || strspn(task, "0123456789") != strlen(task) || strlen(task) > 19)
				trace_usage_error("--task: expected a task id (a number), got '%s'", task);
		} else {
			trace_usage_error("unknown argument '%s'", a);
		}
	}
	char defbuf[PATH_MAX];
	if (!sock)
		sock = default_socket(defbuf, sizeof(defbuf));

	int fd = connect_admin(sock);
	if (send(fd, "trace\n", 6, MSG_NOSIGNAL) != 6 && errno != EPIPE && errno != ECONNRESET) {
		fprintf(stderr, "dios trace: sending the request: %s\n", strerror(errno));
		return 1;
	}
	char named[PATH_MAX], queue[PATH_MAX], from[32];
	read_trace_answer(fd, named, sizeof(named), from, sizeof(from));
	/* Tracing is on from here on, for as long as fd stays open. */
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0) {
		fprintf(stderr, "dios trace: SO_PEERCRED: %s\n", strerror(errno));
		return 1;
	}
	if (check_trace_dir(named, cred.uid, queue, sizeof(queue)) != 0)
		return 1;
	if (!valid_index(from)) {
		fprintf(stderr, "dios trace: the daemon's answer names no index to start from: '%s'\n", printable(from));
		return 1;
	}

	char diosd[PATH_MAX];
	if (find_diosd(diosd, sizeof(diosd)) != 0)
		return 1;

	/* Signals arrive through a signalfd, so one poll() watches them and the connection. */
	sigset_t mask, old;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &old);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, "dios trace: signalfd: %s\n", strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	pid_t parent = getpid();
	reader = fork();
	if (reader < 0) {
		fprintf(stderr, "dios trace: fork: %s\n", strerror(errno));
		return 1;
	}
	if (reader == 0) {
		/* The reader must not outlive us: killed with SIGTERM if we die, even by SIGKILL. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		sigprocmask(SIG_SETMASK, &old, NULL);
		signal(SIGPIPE, SIG_DFL);
		const char *args[10];
		int n = 0;
		args[n++] = diosd;
		args[n++] = "--trace-tail";
		args[n++] = queue;
		args[n++] = "--from";
		args[n++] = from;
		if (task) {
			args[n++] = "--task";
			args[n++] = task;
		}
		if (raw)
			args[n++] = "--raw";
		args[n] = NULL;
		execv(diosd, (char *const *)args);
		fprintf(stderr, "dios trace: cannot run %s: %s\n", printable(diosd), strerror(errno));
		_exit(127);
	}
	fprintf(stderr, "dios trace: tracing the calls of the daemon at %s (Ctrl-C stops)\n", printable(sock));

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = fd, .events = POLLIN | POLLRDHUP },
			{ .fd = sfd, .events = POLLIN },
		};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "dios trace: poll: %s\n", strerror(errno));
			stop_reader();
			return 1;
		}
		if (p[0].revents && connection_ended(fd, 0)) {
			stop_reader();
			fprintf(stderr, "dios trace: the daemon at %s closed the trace connection (it stopped, or the trace"
				" failed: see its log)\n", printable(sock));
			return 1;
		}
		if (!(p[1].revents & POLLIN))
			continue;
		struct signalfd_siginfo si;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo != SIGCHLD) {
			stop_reader();
			return 0;  /* closing fd (at exit) ends the trace */
		}
		if (!reap_reader(0))
			continue;
		/* The reader stopped by itself: its output was closed, or the trace went away with the daemon. */
		if (connection_ended(fd, 500)) {
			fprintf(stderr, "dios trace: the daemon at %s closed the trace connection (it stopped, or the trace"
				" failed: see its log)\n", printable(sock));
			return 1;
		}
		if (WIFEXITED(reader_status) && WEXITSTATUS(reader_status) == 0)
			return 0;
		if (WIFSIGNALED(reader_status) && WTERMSIG(reader_status) == SIGPIPE)
			return 0;
		if (WIFEXITED(reader_status))
			fprintf(stderr, "dios trace: the trace reader (%s --trace-tail) failed with exit status %d\n", printable(diosd),
				WEXITSTATUS(reader_status));
		else
			fprintf(stderr, "dios trace: the trace reader (%s --trace-tail) was killed by signal %d\n", printable(diosd),
				WTERMSIG(reader_status));
		return 1;
	}
}
