/* t_red_blobsync: issue 18.4: a stream of durable blob commits (each one an fdatasync, from an attacker running as uid 65534 when run as root) while a victim task makes null calls: every commit succeeds and its bytes are there, every victim call succeeds; the syncs run off the daemon's conductor thread. */
#define _GNU_SOURCE
#include "helpers.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define COMMITS 300
#define BYTES (64 * 1024)

static void drop_privileges(void)
{
	if (geteuid() != 0)
		return;
	CHECK_EQ(setresgid(65534, 65534, 65534), 0);
	CHECK_EQ(setresuid(65534, 65534, 65534), 0);
}

/* The attacker: COMMITS durable commits of a growing blob (bounded: 60 s); reports how many. */
static void attacker(int wr)
{
	drop_privileges();
	dios_name_t name;
	dt_random_name(&name);
	dios_ref_t *b = NULL;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_BLOB, NULL, &name, &b, 0), 0);
	uint64_t end = dt_now_ns() + 60ull * 1000000000ull;
	int n = 0;
	for (; n < COMMITS && dt_now_ns() < end; n++) {
		dios_iovec_t *w = NULL;
		uint64_t len = BYTES + (uint64_t)n;     /* grows: each commit also journals a size */
		CHECK_EQ(dios_acquire_write(D_ACQUIRE_EXCLUSIVE, b, len, &w), 0);
		dt_fill(w->buf, len, (uint32_t)n);
		CHECK_EQ(dios_commit_write(0, b, len, w), 0);
		CHECK_EQ(dios_release_write(0, b, w), 0);
	}
	CHECK(n > 0);
	/* the last commit's bytes and size are what a reader sees */
	dios_iovec_t *r = NULL;
	CHECK_EQ(dios_acquire_read(0, b, 0, &r), 0);
	CHECK_EQ(r->len, BYTES + (uint64_t)(n - 1));
	CHECK_EQ(dt_verify(r->buf, r->len, (uint32_t)(n - 1)), -1);
	CHECK_EQ(dios_commit_read(0, b, r), 0);
	CHECK_EQ(dios_release_read(0, b, r), 0);
	CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, b), 0);
	dt_send(wr, 'A');
	CHECK_EQ(write(wr, &n, sizeof n), (ssize_t)sizeof n);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

#define VICTIM_MAX 400000

/* The victim: null calls until told to stop (bounded: VICTIM_MAX calls, 60 s); reports count, p50, p99, max, calls over 1 and 10 ms. */
static void victim(int rd, int wr)
{
	static uint64_t lat[VICTIM_MAX];
	CHECK_EQ(dios_nop(0), 0);
	dt_send(wr, 'R');
	int fl = fcntl(rd, F_GETFL);
	CHECK_EQ(fcntl(rd, F_SETFL, fl | O_NONBLOCK), 0);
	uint64_t end = dt_now_ns() + 60ull * 1000000000ull;
	int n = 0;
	char c;
	while (n < VICTIM_MAX && dt_now_ns() < end && read(rd, &c, 1) != 1) {
		uint64_t t0 = dt_now_ns();
		CHECK_EQ(dios_nop(0), 0);
		lat[n++] = dt_now_ns() - t0;
		if (n % 64 == 0)
			usleep(100);    /* a task doing other work between calls, not a spinning benchmark */
	}
	qsort(lat, n, sizeof lat[0], cmp_u64);
	uint64_t over1 = 0, over10 = 0;
	for (int i = 0; i < n; i++) {
		over1 += lat[i] > 1000000;
		over10 += lat[i] > 10000000;
	}
	uint64_t out[6] = { (uint64_t)n, n ? lat[n / 2] : 0, n ? lat[n * 99 / 100] : 0, n ? lat[n - 1] : 0, over1, over10 };
	CHECK_EQ(write(wr, out, sizeof out), (ssize_t)sizeof out);
}

int main(void)
{
	alarm(150);
	static const char *const args[] = { "--socket-mode", "0666", NULL };
	dt_daemon_args = args;
	dt_start_daemon();
	CHECK_EQ(chmod(dt_dir(), 0711), 0);

	int vrd, vwr;
	pid_t v = dt_fork_peer(&vrd, &vwr);
	if (v == 0) {
		victim(vrd, vwr);
		_exit(0);
	}
	CHECK_EQ(dt_recv(vrd), 'R');
	int ard, awr;
	pid_t a = dt_fork_peer(&ard, &awr);
	if (a == 0) {
		attacker(awr);
		_exit(0);
	}
	uint64_t t0 = dt_now_ns();
	CHECK_EQ(dt_recv(ard), 'A');
	int commits = 0;
	CHECK_EQ(read(ard, &commits, sizeof commits), (ssize_t)sizeof commits);
	uint64_t took = dt_now_ns() - t0;
	CHECK_CHILD_OK(a);
	dt_send(vwr, 'S');
	uint64_t res[6];
	CHECK_EQ(read(vrd, res, sizeof res), (ssize_t)sizeof res);
	CHECK_CHILD_OK(v);
	printf("attacker: %d durable commits in %llu ms\n", commits, (unsigned long long)(took / 1000000));
	printf("victim: %llu null calls meanwhile, all 0; p50 %llu ns, p99 %llu ns, max %llu ns;"
	       " %llu over 1 ms, %llu over 10 ms\n",
	       (unsigned long long)res[0], (unsigned long long)res[1], (unsigned long long)res[2],
	       (unsigned long long)res[3], (unsigned long long)res[4], (unsigned long long)res[5]);
	CHECK(res[0] > 0);
	CHECK_EQ(dt_admin_status("parked_calls"), 0);
	dt_stop_daemon();
	return 0;
}
