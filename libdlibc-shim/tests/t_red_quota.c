/*
 * t_red_quota - one user cannot take the daemon's objects, names, memory,
 * FIFOs, blobs or connection slots from the others (issue 18.2, findings 2,
 * 3 and 7): a daemon of root with --socket-mode 0666 and small --quota-*
 * flags; uid 65534 (the attacker) floods each kind and stops at exactly its
 * quota with -EDQUOT, while root (the daemon's uid) and uid 65533 (another
 * user) still create and call.  What it freed it may make again.  Its
 * durable blobs stay charged to it across a restart (the creator is
 * journaled), and connections that never say hello stop at
 * --quota-pending-connections.  Needs root, to be the other users.
 */
#define _GNU_SOURCE
#include "helpers.h"
#include "redteam.h"

#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#define ATTACKER 65534u
#define OTHER    65533u
#define Q_OBJECTS 40
#define Q_NAMES   20
#define Q_FIFOS   5
#define Q_BLOBS   6
#define Q_PENDING 4
#define Q_MEMORY  (1u << 20)
#define PAGE      4096u

static const char *const daemon_args[] = {
	"--socket-mode", "0666",   /* (dt_daemon_args holds 16: no room for --warmup-cycles 0) */
	"--quota-objects", "40", "--quota-names", "20", "--quota-memory", "1M", "--quota-fifos", "5",
	"--quota-blobs", "6", "--quota-blob-bytes", "1M", "--quota-pending-connections", "4", NULL };

static void become(uid_t uid)
{
	if (setgroups(0, NULL) != 0 || setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0)
		_exit(90);
}

/* Runs f as uid in a child (a task of its own) and checks it exited 0. */
static void as_user(uid_t uid, void (*f)(void))
{
	fflush(NULL);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		alarm(60);
		become(uid);
		f();
		_exit(0);
	}
	dt_check_child_ok(__FILE__, __LINE__, c);
}

/* The admin status row quota.uid.<uid>, or "" when that user holds nothing. */
static const char *quota_row(uid_t uid, char *buf, size_t cap)
{
	static char st[1 << 16];
	CHECK_EQ(dt_admin("status", st, sizeof st), 0);
	char key[64];
	snprintf(key, sizeof key, "\nrow\tquota.uid.%u\t", uid);
	const char *p = strstr(st, key);
	buf[0] = 0;
	if (p) {
		p += strlen(key);
		size_t n = strcspn(p, "\n");
		snprintf(buf, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
	}
	return buf;
}

/* Waits (<= 10 s) until uid's row contains want ("": until it has no row: it holds nothing); fails otherwise. */
static void wait_row(uid_t uid, const char *want)
{
	char row[512];
	for (int i = 0; i < 200; i++) {
		quota_row(uid, row, sizeof row);
		if (*want ? strstr(row, want) != NULL : row[0] == 0)
			return;
		usleep(50000);
	}
	dt_fail(__FILE__, __LINE__, "uid %u holds '%s', expected %s%s%s", uid, row, *want ? "'" : "nothing",
		want, *want ? "'" : "");
}

static void shmem(dios_flags_t f, uint64_t size, dios_ref_t **r, int want)
{
	dios_name_t n;
	CHECK_EQ(dios_create(f, D_OBJ_SHMEM, &size, (f & D_CREATE_NAMED) ? &n : NULL, r, 0), want);
}

/* The victims: root (the daemon's own uid) and another user go on as before. */
static void victim_calls(void)
{
	dios_ref_t *r;
	CHECK_EQ(dios_nop(0), 0);
	shmem(D_CREATE_NAMED, PAGE, &r, 0);
	CHECK_EQ(dios_delete(0, r), 0);
	uint64_t cap = 4096;
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, &cap, NULL, &r, 0), 0);
	CHECK_EQ(dios_delete(0, r), 0);
}

static void attack_objects_and_names(void)
{
	static dios_ref_t *refs[Q_OBJECTS + 1];
	int n = 0;
	/* Names first: exactly Q_NAMES named objects, then -EDQUOT. */
	for (int i = 0; i < Q_NAMES; i++)
		shmem(D_CREATE_NAMED, PAGE, &refs[n++], 0);
	dios_ref_t *x = NULL;
	shmem(D_CREATE_NAMED, PAGE, &x, -EDQUOT);
	CHECK(strstr(dios_last_error_detail(), "--quota-names") != NULL);    /* the detail names the quota's flag */
	/* Unnamed objects go on to the object quota. */
	while (n < Q_OBJECTS)
		shmem(0, PAGE, &refs[n++], 0);
	shmem(0, PAGE, &x, -EDQUOT);
	CHECK(strstr(dios_last_error_detail(), "--quota-objects") != NULL);
	uint64_t cap = 4096, size = PAGE;
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, &cap, NULL, &x, 0), -EDQUOT);
	CHECK_EQ(dios_create(0, D_OBJ_PRIVMEM, &size, NULL, &x, 0), -EDQUOT);
	CHECK_EQ(dios_create(0, D_OBJ_BLOB, NULL, NULL, &x, 0), -EDQUOT);
	CHECK_EQ(dios_nop(0), 0);   /* at its quota, it is still served */
	char ok = 1;
	CHECK_EQ(write(3, &ok, 1), 1);   /* the parent checks the victims now */
	CHECK_EQ(read(4, &ok, 1), 1);
	for (int i = 0; i < n; i++)
		CHECK_EQ(dios_delete(0, refs[i]), 0);
	/* Given back: the same again. */
	shmem(D_CREATE_NAMED, PAGE, &refs[0], 0);
	CHECK_EQ(dios_delete(0, refs[0]), 0);
}

static void attack_memory(void)
{
	dios_ref_t *a, *b, *x;
	shmem(0, Q_MEMORY + PAGE, &x, -EDQUOT);           /* one object over the quota */
	shmem(0, Q_MEMORY - PAGE, &a, 0);
	uint64_t size = PAGE;
	CHECK_EQ(dios_create(0, D_OBJ_PRIVMEM, &size, NULL, &b, 0), 0);   /* PRIVMEM counts too */
	shmem(0, 1, &x, -EDQUOT);
	CHECK_EQ(dios_delete(0, b), 0);
	shmem(0, PAGE, &b, 0);
	CHECK_EQ(dios_delete(0, a), 0);
	CHECK_EQ(dios_delete(0, b), 0);
}

static void attack_fifos(void)
{
	dios_ref_t *f[Q_FIFOS], *x;
	uint64_t cap = 4096;
	for (int i = 0; i < Q_FIFOS; i++)
		CHECK_EQ(dios_create(0, D_OBJ_FIFO, &cap, NULL, &f[i], 0), 0);
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, &cap, NULL, &x, 0), -EDQUOT);
	CHECK(strstr(dios_last_error_detail(), "FIFOs this user may have") != NULL);
	shmem(0, PAGE, &x, 0);                             /* other kinds are not FIFOs */
	CHECK_EQ(dios_delete(0, x), 0);
	for (int i = 0; i < Q_FIFOS; i++)
		CHECK_EQ(dios_delete(0, f[i]), 0);
}

/* Q_BLOBS durable blobs, left in the store (their references go with this task). */
static void attack_blobs(void)
{
	dios_ref_t *b, *x;
	dios_name_t n;
	dios_iovec_t *iov;
	CHECK_EQ(dios_create(D_CREATE_NAMED, D_OBJ_BLOB, NULL, &n, &b, 0), 0);
	CHECK_EQ(dios_acquire_write(0, b, 2u << 20, &iov), -EDQUOT);   /* its file would be 2 MiB: over 1 MiB */
	CHECK(strstr(dios_last_error_detail(), "--quota-blob-bytes") != NULL);
	CHECK_EQ(dios_acquire_write(0, b, 4096, &iov), 0);
	memset(iov->buf, 'q', 4096);
	CHECK_EQ(dios_commit_write(0, b, 4096, iov), 0);
	CHECK_EQ(dios_release_write(0, b, iov), 0);
	uint64_t big = Q_MEMORY;
	CHECK_EQ(dios_create(0, D_OBJ_BLOB, &big, NULL, &x, 0), -EDQUOT);  /* 64 KiB + 1 MiB */
	for (int i = 1; i < Q_BLOBS; i++)
		CHECK_EQ(dios_create(D_CREATE_NAMED, D_OBJ_BLOB, NULL, &n, &x, 0), 0);
	CHECK_EQ(dios_create(D_CREATE_NAMED, D_OBJ_BLOB, NULL, &n, &x, 0), -EDQUOT);
	CHECK_EQ(dios_create(0, D_OBJ_BLOB, NULL, NULL, &x, 0), -EDQUOT);
}

/* After the restart: the blobs it left are still its own. */
static void blobs_still_charged(void)
{
	dios_ref_t *x;
	dios_name_t n;
	CHECK_EQ(dios_create(D_CREATE_NAMED, D_OBJ_BLOB, NULL, &n, &x, 0), -EDQUOT);
	shmem(0, PAGE, &x, 0);   /* the rest of its quotas is free */
	CHECK_EQ(dios_delete(0, x), 0);
}

static int connect_raw(const char *path)
{
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	CHECK(s >= 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	CHECK_EQ(connect(s, (struct sockaddr *)&a, sizeof a), 0);
	return s;
}

/* 1 if the daemon closed s within ms, 0 if it is still open. */
static int closed_within(int s, int ms)
{
	struct pollfd p = { .fd = s, .events = POLLIN };
	int rc = poll(&p, 1, ms);
	CHECK(rc >= 0);
	if (rc == 0)
		return 0;
	char c;
	return recv(s, &c, 1, MSG_DONTWAIT) == 0 || (p.revents & POLLHUP);
}

static void other_user_registers(void)
{
	CHECK_EQ(dios_nop(0), 0);
}

static void attack_pending(void)
{
	const char *path = getenv(DIOS_ENV_SOCKET);
	int s[Q_PENDING];
	uint64_t t0 = dt_now_ns();
	for (int i = 0; i < Q_PENDING; i++)
		s[i] = connect_raw(path);
	int extra = connect_raw(path);
	CHECK_EQ(closed_within(extra, 3000), 1);            /* over the quota: closed at once */
	close(extra);
	if (dt_now_ns() - t0 < 4000000000ull) {             /* well inside the 5 s handshake timeout */
		for (int i = 0; i < Q_PENDING; i++)
			CHECK_EQ(closed_within(s[i], 0), 0);
	}
	char ok = 1;
	CHECK_EQ(write(3, &ok, 1), 1);   /* another user registers meanwhile */
	CHECK_EQ(read(4, &ok, 1), 1);
	for (int i = 0; i < Q_PENDING; i++)
		close(s[i]);
	/* Given back once closed: a new one waits for its hello again (bounded: 2 s). */
	int again = -1;
	for (int tries = 0; tries < 20; tries++) {
		again = connect_raw(path);
		if (!closed_within(again, 100))
			break;
		close(again);
		again = -1;
	}
	CHECK(again >= 0);
	close(again);
}

/* Like as_user, but f may hand over to the parent once (fd 3: to the parent, fd 4: from it). */
static pid_t as_user_async(uid_t uid, void (*f)(void), int *from_child, int *to_child)
{
	int c2p[2], p2c[2];
	CHECK_EQ(pipe(c2p), 0);
	CHECK_EQ(pipe(p2c), 0);
	fflush(NULL);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		alarm(60);
		dup2(c2p[1], 3);
		dup2(p2c[0], 4);
		become(uid);
		f();
		_exit(0);
	}
	close(c2p[1]);
	close(p2c[0]);
	*from_child = c2p[0];
	*to_child = p2c[1];
	return c;
}

static void wait_handover(int from, int to, pid_t c, void (*meanwhile)(void))
{
	char ok;
	if (read(from, &ok, 1) != 1)
		dt_check_child_ok(__FILE__, __LINE__, c);   /* it failed before the hand-over: report it */
	meanwhile();
	CHECK_EQ(write(to, &ok, 1), 1);
	dt_check_child_ok(__FILE__, __LINE__, c);
	close(from);
	close(to);
}

/* Root (the daemon's uid) and another user, each in a task of its own (this process's connection ends with a daemon). */
static void victims(void)
{
	as_user(0, victim_calls);
	as_user(OTHER, victim_calls);
}

static void other_registers(void)
{
	as_user(OTHER, other_user_registers);
	as_user(0, other_user_registers);
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "skip: needs root, to act as other users\n");
		return T_EXIT_SKIP;
	}
	alarm(110);
	dt_daemon_args = daemon_args;
	dt_start_daemon();
	CHECK_EQ(chmod(dt_dir(), 0755), 0);   /* the other users reach the socket (mode 0666) */
	dt_register();
	struct dt_victim_report base, during;
	dt_victim_baseline(1000, &base);
	struct dt_victim *victim = dt_victim_start();

	int from, to;
	pid_t c = as_user_async(ATTACKER, attack_objects_and_names, &from, &to);
	wait_handover(from, to, c, victims);
	CHECK_EQ(dt_admin_status("quota.objects"), Q_OBJECTS);
	CHECK(dt_admin_status("quota.refusals") >= 5);
	wait_row(ATTACKER, "");   /* all given back with its task */

	as_user(ATTACKER, attack_memory);
	as_user(ATTACKER, attack_fifos);
	victims();
	as_user(ATTACKER, attack_blobs);
	dt_victim_stop(victim, &during);
	dt_redteam_report("quota: another user fills its object, name, memory, FIFO and blob quotas", &base, &during);
	wait_row(ATTACKER, "objects 6/40, names 6/20, memory 0/1048576, fifos 0/5, blobs 6/6, blob-bytes 65536/1048576");

	/* A restart charges the durable blobs to their creator again. */
	dt_stop_daemon_keep_dir();
	dt_start_daemon_in(dt_dir());
	/* The first blob's file is cut back to its committed 4096 bytes at the restart. */
	wait_row(ATTACKER, "objects 6/40, names 6/20, memory 0/1048576, fifos 0/5, blobs 6/6, blob-bytes 4096/1048576");
	as_user(ATTACKER, blobs_still_charged);
	victims();

	c = as_user_async(ATTACKER, attack_pending, &from, &to);
	wait_handover(from, to, c, other_registers);
	victims();
	dt_stop_daemon();
	return T_EXIT_PASS;
}
