/*
 * dios - the operator's tool: asks a running diosd about itself over its
 * admin socket (<socket>.admin; docs/PROTOCOL.md, section 12) and prints the
 * answer as a table; `dios brand` stamps ELF brands (dios_brand.c) and
 * `dios run` runs a program as a task, through libdlibc (dios_run.c).
 *
 * A C program rather than a Java one: it starts in about a millisecond
 * (the JVM takes 40-50 ms for an empty main here), so it suits `watch dios status`
 * and scripts, and it needs no JDK on the operator's PATH.  The protocol is
 * one line out and text lines back, so it needs no FFM helpers either.
 *
 * Exit status: 0 done; 1 the daemon could not be asked or answered with an
 * error (not running, permission denied, ...); 2 bad command line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <dios/dios_abi.h>

#include "dios_tool.h"

#ifndef DIOS_VERSION
#define DIOS_VERSION "dev"
#endif

/* The daemon drops a client that has not read its answer within 10 s; wait a little longer. */
#define ANSWER_TIMEOUT_S 15
/* The daemon's answers are at most 16 MiB. */
#define MAX_ANSWER (16u << 20)
/* Where the system service (systemd/diosd.service.in) puts its socket. */
#define SYSTEM_SOCKET "/run/dios/" DIOS_SOCKET_NAME


static const char usage_text[] =
	"usage: dios [options] COMMAND\n"
	"commands:\n"
	"  status    the daemon: version, pid, socket, uptime, counts of tasks, objects (by type),\n"
	"            names, references, buffers, segments and parked calls\n"
	"  tasks     registered tasks: task id, pid, parent task (the one whose dios_run started it; - none),\n"
	"            uid, references and buffers held, private memory (bytes: the task's heap), parked calls,\n"
	"            executable, argv (quoted as a shell would need, cut at 512 characters)\n"
	"  objects   live objects: id, type, size, reference count, named or not, zombie or live, creator task\n"
	"            (while it is registered; - once it has gone; 0 the daemon)\n"
	"  names     bound names in text form (as dios_nametostr prints them), with their objects' ids and types\n"
	"  brand     --pure|--limbo|--legacy-limbo FILE... stamps the DIOS ELF brand; --show FILE... reads it\n"
	"  run       [--seccomp-kill] PROGRAM [ARGS...]: runs a branded program as a DIOS task, with this\n"
	"            terminal as its console, and exits with its status\n"
	"  trace     every call, live, one line each, until Ctrl-C (dios trace --help)\n"
	"options:\n"
	"  --socket PATH  the daemon's socket (default: $DIOS_SOCKET, else $XDG_RUNTIME_DIR/dios/diosd.sock\n"
	"                 or /tmp/dios-<uid>/diosd.sock; if that does not exist, the system service's\n"
	"                 " SYSTEM_SOCKET ")\n"
	"  --limit N      list at most N entries (default 10000, at most 100000)\n"
	"  --raw          tab-separated output for scripts: a header line, then one line per entry\n"
	"  --help, -h     this text\n"
	"  --version      the tool's version\n"
	"Only the daemon's user and root may ask: names are capabilities.\n"
	"Exit status: 0 done, 1 error (no daemon, permission denied, ...), 2 bad command line.\n";

static void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "dios: ");
	fprintf(stderr, fmt, printable(arg));
	fprintf(stderr, "\n%s", usage_text);
	exit(2);
}

/* A default per-user path: the daemon answering there must run as this uid (or root); -1: any uid. */
static long expect_uid = -1;

/*
 * A path the user did not name is used only in a directory nobody else may
 * have made or may write to, by the rules libdlibc applies (dios_conn.c,
 * tmp_dir_unsafe): /tmp is everyone's, so another user could make
 * /tmp/dios-<uid> first and answer for the daemon (send our terminal what
 * they like, name the trace directory we read).  The directory must be a real
 * directory (not a symlink), owned by this user or root when `own` (the
 * per-user defaults), and not writable by group or others.  Absent: fine.
 * Exits 1 with a message otherwise.
 */
static void check_default_dir(const char *path, int own)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = 0;
	struct stat st;
	if (lstat(dir, &st) != 0)
		return;                         /* absent: nothing listens there either */
	int owner_ok = !own || st.st_uid == getuid() || st.st_uid == 0;
	if (S_ISDIR(st.st_mode) && owner_ok && !(st.st_mode & 022))
		return;
	fprintf(stderr, "dios: not using the default socket %s: %s is %s owned by uid %u, mode %04o;\n"
		"  it must be a directory of %s that nobody else may write to, or someone else may have made it.\n"
		"  Remove it if it is not yours, or name the daemon's socket with --socket PATH or DIOS_SOCKET\n",
		printable(path), printable(dir), S_ISLNK(st.st_mode) ? "a symlink" : S_ISDIR(st.st_mode) ? "a directory" : "not a directory",
		(unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), own ? "yours (or root's)" : "the service");
	exit(1);
}

/*
 * The socket the shim would use, then the system service's if that one does
 * not exist.  A default (not $DIOS_SOCKET) is checked as check_default_dir says.
 */
const char *default_socket(char *buf, size_t size)
{
	const char *env = getenv(DIOS_ENV_SOCKET);
	if (env && *env)
		return env;
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (xdg && *xdg)
		snprintf(buf, size, "%s/" DIOS_RUNTIME_SUBDIR "/" DIOS_SOCKET_NAME, xdg);
	else
		snprintf(buf, size, DIOS_TMP_DIR_PREFIX "%u/" DIOS_SOCKET_NAME, (unsigned)getuid());
	check_default_dir(buf, 1);
	struct stat st;
	if (lstat(buf, &st) != 0 && lstat(SYSTEM_SOCKET, &st) == 0) {
		check_default_dir(SYSTEM_SOCKET, 0);
		return SYSTEM_SOCKET;
	}
	expect_uid = (long)getuid();
	return buf;
}

/* Connects to the admin socket beside `sock`; exits 1 with a message on failure. */
int connect_admin(const char *sock)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s" DIOS_ADMIN_SUFFIX, sock);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		fprintf(stderr, "dios: socket path too long: %s" DIOS_ADMIN_SUFFIX "\n", printable(sock));
		exit(1);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "dios: socket: %s\n", strerror(errno));
		exit(1);
	}
	struct timeval tv = { .tv_sec = ANSWER_TIMEOUT_S };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		if (e == EACCES || e == EPERM) {
			fprintf(stderr, "dios: permission denied: cannot connect to %s (%s);\n"
				"  only the daemon's user and root may use dios\n", printable(sa.sun_path), strerror(e));
		} else if (e == ENOENT || e == ECONNREFUSED) {
			fprintf(stderr, "dios: no daemon is running at %s (%s: %s);\n"
				"  start one with diosd, or name its socket with --socket or DIOS_SOCKET\n",
				printable(sock), printable(sa.sun_path), strerror(e));
		} else {
			fprintf(stderr, "dios: cannot connect to %s: %s\n", printable(sa.sun_path), strerror(e));
		}
		exit(1);
	}
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	if (expect_uid >= 0 && (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0
				|| ((long)cred.uid != expect_uid && cred.uid != 0))) {
		fprintf(stderr, "dios: not asking the daemon at %s: it runs as uid %u, not as you (uid %ld) or root;\n"
			"  name the daemon's socket with --socket PATH or DIOS_SOCKET if you mean it\n",
			printable(sock), (unsigned)cred.uid, expect_uid);
		exit(1);
	}
	return fd;
}

/* The whole answer, NUL-terminated; exits 1 on a timeout or an error. */
static char *read_answer(int fd, size_t *len_out)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap + 1);
	if (!buf) {
		fprintf(stderr, "dios: out of memory\n");
		exit(1);
	}
	for (;;) {
		if (len == cap) {
			if (cap >= MAX_ANSWER + 4096) {
				fprintf(stderr, "dios: the answer is longer than %u bytes; ask for fewer entries\n", MAX_ANSWER);
				exit(1);
			}
			cap *= 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				fprintf(stderr, "dios: out of memory\n");
				exit(1);
			}
			buf = nb;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECONNRESET && len > 0)
				break;  /* a refusal: the daemon answered and closed before reading our request */
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				fprintf(stderr, "dios: the daemon did not answer within %d s\n", ANSWER_TIMEOUT_S);
			else
				fprintf(stderr, "dios: reading the answer: %s\n", strerror(errno));
			exit(1);
		}
		len += (size_t)n;
	}
	buf[len] = 0;
	*len_out = len;
	return buf;
}

/* Splits a line in place at tabs; returns the number of fields (at most max). */
static int split(char *line, char **fields, int max)
{
	int n = 0;
	char *p = line;
	while (n < max) {
		fields[n++] = p;
		char *t = strchr(p, '\t');
		if (!t)
			break;
		*t = 0;
		p = t + 1;
	}
	return n;
}

/* Display width of a field: UTF-8 code points (the daemon escapes every control character). */
static size_t width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/*
 * A field made safe to print: the daemon escapes control characters already
 * (docs/PROTOCOL.md, section 12), and this makes sure of it, so that nothing a
 * task named (an executable, an argv) can move the cursor or retitle the
 * terminal even if a daemon failed to: C0 bytes, DEL and the C1 controls
 * (U+0080..U+009F, UTF-8 C2 80..C2 9F, such as the 8-bit CSI) print as \xHH.
 * Returns s itself when it is clean, else a new string.
 */
char *clean_field(char *s)
{
	size_t bad = 0, n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++)
		if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			bad++;
	if (!bad)
		return s;
	char *out = malloc(n + 4 * bad + 1), *w = out;
	if (!out) {
		fprintf(stderr, "dios: out of memory\n");
		exit(1);
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			w += sprintf(w, "\\x%02x", *p);
		} else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			w += sprintf(w, "\\x%02x", p[1]);
			p++;
		} else {
			*w++ = (char)*p;
		}
	}
	*w = 0;
	return out;
}

/* A copy of s made safe to print (clean_field): paths and arguments go to the terminal too. */
const char *printable(const char *s)
{
	char *copy = strdup(s ? s : "");
	if (!copy) {
		fprintf(stderr, "dios: out of memory\n");
		exit(1);
	}
	return clean_field(copy);
}

#define MAX_COLUMNS 16

struct table {
	int ncols;
	char *cols[MAX_COLUMNS];
	char ***rows;
	size_t nrows, caprows;
	long long shown, total;
	int ended;
};

/*
 * Parses "ok", "columns", "row"... and "end" lines.  Exits 1 with the
 * daemon's message on "error", and on an answer that is cut short or not
 * in the protocol.
 */
static void parse(char *answer, size_t len, struct table *t)
{
	memset(t, 0, sizeof(*t));
	if (len == 0) {
		fprintf(stderr, "dios: the daemon closed the connection without answering\n");
		exit(1);
	}
	char *save = NULL;
	char *line = strtok_r(answer, "\n", &save);
	char *f[MAX_COLUMNS + 1];
	if (line && strncmp(line, "error\t", 6) == 0) {
		int n = split(line, f, 3);
		const char *err = n > 1 ? clean_field(f[1]) : "?", *msg = n > 2 ? clean_field(f[2]) : "";
		if (strcmp(err, "EACCES") == 0)
			fprintf(stderr, "dios: %s\n", msg);
		else
			fprintf(stderr, "dios: the daemon says: %s (%s)\n", msg, err);
		exit(1);
	}
	if (!line || strcmp(line, "ok") != 0) {
		fprintf(stderr, "dios: not an answer of the admin protocol: %.80s\n", line ? clean_field(line) : "");
		exit(1);
	}
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		int n = split(line, f, MAX_COLUMNS + 1);
		if (strcmp(f[0], "columns") == 0) {
			t->ncols = n - 1 > MAX_COLUMNS ? MAX_COLUMNS : n - 1;
			for (int i = 0; i < t->ncols; i++)
				t->cols[i] = clean_field(f[i + 1]);
		} else if (strcmp(f[0], "row") == 0) {
			if (t->nrows == t->caprows) {
				t->caprows = t->caprows ? 2 * t->caprows : 256;
				t->rows = realloc(t->rows, t->caprows * sizeof(*t->rows));
				if (!t->rows) {
					fprintf(stderr, "dios: out of memory\n");
					exit(1);
				}
			}
			char **r = calloc((size_t)t->ncols + 1, sizeof(char *));
			if (!r) {
				fprintf(stderr, "dios: out of memory\n");
				exit(1);
			}
			for (int i = 0; i < t->ncols; i++)
				r[i] = i + 1 < n ? clean_field(f[i + 1]) : "";
			t->rows[t->nrows++] = r;
		} else if (strcmp(f[0], "end") == 0 && n >= 3) {
			t->shown = atoll(f[1]);
			t->total = atoll(f[2]);
			t->ended = 1;
		}
	}
	if (!t->ended || t->ncols == 0 || (long long)t->nrows != t->shown) {
		fprintf(stderr, "dios: the daemon's answer was cut short\n");
		exit(1);
	}
}

static void print_table(const struct table *t, int header, int raw)
{
	size_t w[MAX_COLUMNS] = { 0 };
	if (!raw) {
		for (int c = 0; c < t->ncols; c++) {
			if (header)
				w[c] = width(t->cols[c]);
			for (size_t r = 0; r < t->nrows; r++)
				if (width(t->rows[r][c]) > w[c])
					w[c] = width(t->rows[r][c]);
		}
	}
	for (size_t r = 0; r < t->nrows + (header ? 1 : 0); r++) {
		char **row = header && r == 0 ? (char **)t->cols : t->rows[header ? r - 1 : r];
		for (int c = 0; c < t->ncols; c++) {
			const char *v = row[c];
			if (raw) {
				printf("%s%s", c ? "\t" : "", v);
			} else if (c == t->ncols - 1) {
				printf("%s", v);          /* the last column is not padded */
			} else {
				printf("%s", v);
				for (size_t k = width(v); k < w[c] + 2; k++)
					putchar(' ');
			}
		}
		putchar('\n');
	}
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *cmd = NULL;
	long limit = 0;
	int raw = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("dios %s (DIOS ABI %d)\n", DIOS_VERSION, (int)DIOS_ABI_VERSION);
			return 0;
		} else if (strcmp(a, "--socket") == 0) {
			if (++i >= argc)
				usage_error("%s needs a value", a);
			sock = argv[i];
		} else if (strcmp(a, "--limit") == 0) {
			if (++i >= argc)
				usage_error("%s needs a value", a);
			char *end;
			errno = 0;
			limit = strtol(argv[i], &end, 10);
			if (errno || *end || end == argv[i] || limit < 1 || limit > 100000)
				usage_error("--limit: expected 1..100000, got '%s'", argv[i]);
		} else if (strcmp(a, "--raw") == 0) {
			raw = 1;
		} else if (a[0] == '-') {
			usage_error("unknown option '%s'", a);
		} else if (!cmd && strcmp(a, "brand") == 0) {
			return dios_brand_main(argc - i, argv + i);
		} else if (!cmd && strcmp(a, "run") == 0) {
			if (sock)
				setenv(DIOS_ENV_SOCKET, sock, 1); /* libdlibc finds the daemon there */
			return dios_run_main(argc - i, argv + i);
		} else if (strcmp(a, "trace") == 0 && !cmd) {
			return dios_trace_main(sock, raw, argc - i - 1, argv + i + 1);
		} else if (cmd) {
			usage_error("one command at a time ('%s' is one too many)", a);
		} else if (strcmp(a, "status") == 0 || strcmp(a, "tasks") == 0 || strcmp(a, "objects") == 0
			   || strcmp(a, "names") == 0) {
			cmd = a;
		} else {
			usage_error("unknown command '%s'", a);
		}
	}
	if (!cmd)
		usage_error("%s", "no command given");
	if (limit && strcmp(cmd, "status") == 0)
		usage_error("%s", "status takes no --limit");

	char defbuf[PATH_MAX];
	if (!sock)
		sock = default_socket(defbuf, sizeof(defbuf));
	int fd = connect_admin(sock);

	char req[64];
	int n = limit ? snprintf(req, sizeof(req), "%s %ld\n", cmd, limit) : snprintf(req, sizeof(req), "%s\n", cmd);
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		/* a refused peer may already have been answered and closed: read what it said */
		if (errno != EPIPE && errno != ECONNRESET) {
			fprintf(stderr, "dios: sending the request: %s\n", strerror(errno));
			return 1;
		}
	}
	size_t len;
	char *answer = read_answer(fd, &len);
	close(fd);

	struct table t;
	parse(answer, len, &t);
	int is_status = strcmp(cmd, "status") == 0;
	print_table(&t, raw || !is_status, raw);
	if (t.shown < t.total)
		fprintf(stderr, "dios: %lld of %lld shown; --limit N shows more\n", t.shown, t.total);
	return 0;
}
