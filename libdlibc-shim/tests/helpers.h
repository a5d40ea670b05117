/* helpers.h - shared test scaffolding: start/stop a private diosd, CHECK macros. */
#ifndef DT_HELPERS_H
#define DT_HELPERS_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <dios/dios.h>

#define T_EXIT_PASS 0
#define T_EXIT_FAIL 1
#define T_EXIT_SKIP 77

/*
 * Failure path for every check: prints where and what, then (in the process
 * that started the daemon) kills the daemon and prints the tail of its log.
 * In a forked child it only exits 1; the parent sees that and fails.
 */
void dt_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));

#define CHECK(cond) do { \
	if (!(cond)) \
		dt_fail(__FILE__, __LINE__, "CHECK(%s) failed", #cond); \
} while (0)

#define CHECK_EQ(a, b) do { \
	long long dt_a_ = (long long)(a), dt_b_ = (long long)(b); \
	if (dt_a_ != dt_b_) \
		dt_fail(__FILE__, __LINE__, "CHECK_EQ(%s, %s) failed: %s != %s", #a, #b, \
			dt_fmt(dt_a_, (char[48]){ 0 }), dt_fmt(dt_b_, (char[48]){ 0 })); \
} while (0)

#define CHECK_NE(a, b) do { \
	long long dt_a_ = (long long)(a), dt_b_ = (long long)(b); \
	if (dt_a_ == dt_b_) \
		dt_fail(__FILE__, __LINE__, "CHECK_NE(%s, %s) failed: both %lld (%#llx)", \
			#a, #b, dt_a_, (unsigned long long)dt_a_); \
} while (0)

/* "-ENOENT" for -2 and so on; "" for values that are not small negative errnos. */
const char *dt_errname(long long v);
/* v as text into buf[48]: "-2 (-ENOENT)", "4096", "123456789 (0x75bcd15)". */
const char *dt_fmt(long long v, char *buf);

/*
 * Start a private daemon: mkdtemp /tmp/dios-test-XXXXXX, run
 * $DIOSD --socket <dir>/d.sock --state-dir <dir>/state with output to
 * <dir>/diosd.log, wait (<= 30 s) until the socket accepts a connection,
 * export DIOS_SOCKET.  Returns the daemon's pid; fails the test on any error.
 * Also installs a SIGALRM handler so alarm(60) in a test fails cleanly and
 * takes the daemon down with it.
 */
pid_t dt_start_daemon(void);
/* What diosd prints once it serves tasks (after its start-up warm-up); dt_start_daemon* wait for it. */
#define DT_SERVING_LINE "diosd: serving tasks"
/*
 * This process's first call (a null call), retried while it fails with
 * -ENOTCONN for up to 60 s: the socket accepts before the daemon serves, and
 * on a loaded machine its start-up can outlast the shim's 10 s wait for a
 * welcome.  Fails the test otherwise.
 */
void dt_register(void);
/* Extra daemon flags for the next dt_start_daemon*(): a NULL-terminated array, at most 16. */
extern const char *const *dt_daemon_args;
/* Same, in an existing directory (used to restart on the same socket path). */
pid_t dt_start_daemon_in(const char *dir);
/*
 * Set: the next starts return once the socket accepts, without waiting for
 * DT_SERVING_LINE (t_crash_daemon kills daemons while they start).
 */
extern int dt_start_no_serving_wait;
/*
 * SIGTERM, wait <= 10 s (then SIGKILL and fail), check it exited cleanly and
 * that the socket file is gone; removes the temp dir.
 */
void dt_stop_daemon(void);
/* Same, but keep the temp dir (to restart a daemon on the same socket path). */
void dt_stop_daemon_keep_dir(void);
/* The waitpid status of the daemon the last dt_stop_daemon* stopped (-1: none yet). */
int dt_last_stop_status(void);
/* SIGKILL the daemon (its whole process group) and reap it.  Returns the wait status. */
int dt_kill_daemon(void);
/*
 * SIGKILL the daemon process alone and reap it: the tasks it spawned (its
 * process group) live on, as after a real crash.  Returns the wait status.
 */
int dt_kill_daemon_only(void);
/*
 * Send sig to the daemon and wait (<= timeout_ms) for it and every other
 * process of its group (what it spawned, a JVM child writing an AOT cache)
 * to end; reaps it.  Returns its wait status; fails the test on a timeout.
 */
int dt_signal_daemon_wait(int sig, int timeout_ms);
/* Remove the temp dir (after dt_kill_daemon). */
void dt_cleanup_dir(void);

const char *dt_dir(void);          /* the temp dir */
const char *dt_socket_path(void);  /* <dir>/d.sock */
pid_t dt_daemon_pid(void);
void dt_print_log_tail(void);

/*
 * Fork a peer (a new task once it calls DIOS) joined by two pipes.  In the
 * child: returns 0 with alarm(60) armed, *rd reading from the parent and *wr
 * writing to it.  In the parent: returns the child's pid, *rd reading from
 * the child and *wr writing to it.  The other ends are closed on each side.
 */
pid_t dt_fork_peer(int *rd, int *wr);

/* Monotonic clock in ns. */
static inline uint64_t dt_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Daemon stats, failing the test if the call fails. */
dios_daemon_stats_t dt_stats(void);
/* Print stats with a label (to stderr). */
void dt_print_stats(const char *label, const dios_daemon_stats_t *s);
/* Check every field of two stats is equal (prints both on mismatch). */
#define CHECK_STATS_EQ(got, want) dt_check_stats_eq(__FILE__, __LINE__, &(got), &(want))
void dt_check_stats_eq(const char *file, int line, const dios_daemon_stats_t *got,
		       const dios_daemon_stats_t *want);
/* Poll dios_daemon_stats until equal to want or timeout_ms passes; returns the last value read. */
dios_daemon_stats_t dt_wait_stats(const dios_daemon_stats_t *want, int timeout_ms);

/* Fill a buffer with a pattern derived from seed; check it (returns first bad index or -1). */
void dt_fill(void *buf, size_t len, uint32_t seed);
long dt_verify(const void *buf, size_t len, uint32_t seed);

/* A name nobody bound: 32 random bytes. */
void dt_random_name(dios_name_t *n);

/* pipe helpers for parent/child coordination: write/read one byte, fail on error/EOF. */
void dt_send(int fd, char c);
char dt_recv(int fd);

/* Wait for a child and return its status (fails the test on waitpid error). */
int dt_wait_child(pid_t pid);

/* The dios tool staged beside $DIOSD (dist/bin/dios); fails the test if it is missing. */
const char *dt_tool_path(void);

/*
 * Runs argv (execvp), with DIOS_SOCKET=socket when socket is not NULL, and
 * captures its stdout and stderr (NUL-terminated, cut to fit).  With
 * term_after_ms > 0 it gets SIGTERM that long after it started.  Returns
 * its exit code, or 256 + the signal that killed it (never mistaken for a
 * program that exited with 128 + N, as `dios run` does for its task).
 */
int dt_run_capture(const char *const *argv, const char *socket, int term_after_ms,
		   char *out, size_t out_size, char *err, size_t err_size);
/*
 * The class histogram of a JVM (`jcmd PID GC.class_histogram`, which runs a
 * full GC first), with the jcmd beside that process's own java.  Returns 0
 * with the text in out, -1 when there is no such jcmd; fails the test when
 * jcmd fails.
 */
int dt_class_histogram(pid_t pid, char *out, size_t out_size);
/* A process's resident set (VmRSS, KiB), or -1. */
long dt_rss_kib(pid_t pid);
/*
 * A checked byte stream, as the FIFO tests write it: 8-byte word k of the
 * stream is dt_stream_word(k).  dt_stream_fill writes words [pos/8, (pos+len)/8)
 * to p and returns their sum; dt_stream_check fails the test at the first
 * wrong word of p (the stream's bytes [pos, pos+len)) and returns their sum.
 */
static inline uint64_t dt_stream_word(uint64_t k)
{
	return k * 0x9E3779B97F4A7C15ull ^ (k >> 7);
}
uint64_t dt_stream_fill(uint64_t *p, uint64_t pos, uint64_t len);
#define DT_STREAM_CHECK(p, pos, len) dt_stream_check(__FILE__, __LINE__, (p), (pos), (len))
uint64_t dt_stream_check(const char *file, int line, const uint64_t *p, uint64_t pos, uint64_t len);
/* CHECK that a child exited with status 0 (prints how it ended otherwise). */
#define CHECK_CHILD_OK(pid) dt_check_child_ok(__FILE__, __LINE__, (pid))
void dt_check_child_ok(const char *file, int line, pid_t pid);

/*
 * The daemon's admin socket (<socket>.admin): send one request line, read the
 * answer into out (NUL-terminated).  0 for an "ok" answer, -1 for an error one.
 */
int dt_admin(const char *request, char *out, size_t cap);
/* The value of a row of `status` (fails the test if there is none). */
long long dt_admin_status(const char *key);
/* The numeric column of the `tasks` row of a process, or -1 if it is not listed. */
long long dt_admin_task(pid_t pid, const char *column);

#endif /* DT_HELPERS_H */
