/* t_red_blobsync: issue 18.4: a stream of durable blob commits (each one an fdatasync, from an attacker running as uid 65534 when run as root) while a victim task makes null calls: every commit succeeds and its bytes are there, every victim call succeeds; the syncs run off the daemon's conductor thread. */
#define _GNU_SOURCE
#include "helpers.h"
#include "redteam.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define COMMITS 300
#define BYTES (64 * 1024)

/* The attacker: COMMITS durable commits of a growing blob (bounded: 60 s); reports how many. */
static void attacker(int wr)
{
	dt_become_user(65534);
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

int main(void)
{
	alarm(150);
	static const char *const args[] = { "--socket-mode", "0666", NULL };
	dt_daemon_args = args;
	dt_start_daemon();
	CHECK_EQ(chmod(dt_dir(), 0711), 0);

	uint64_t took = 0;
	int commits = dt_redteam_run("blobsync: another user's stream of durable blob commits (an fdatasync each)", attacker, &took);
	printf("attacker: %d durable commits in %llu ms\n", commits, (unsigned long long)(took / 1000000));
	CHECK_EQ(dt_admin_status("parked_calls"), 0);
	dt_stop_daemon();
	return 0;
}
