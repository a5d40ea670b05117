/* t_red_blobcreate: issue 18.4: a loop of named (durable) blob creates and zombifies (each one a file creation, fdatasync, directory fsync and journal append; each zombify a journal append), from an attacker running as uid 65534 when run as root, while a victim task makes null calls: every call answers as before (the name taken while made, gone once zombified), also inside a dios_batch, and every victim call succeeds; the disk work runs off the daemon's conductor thread. */
#define _GNU_SOURCE
#include "helpers.h"
#include "redteam.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LOOPS 300
#define SIZE 4096ull

/* One create + zombify of a fresh named blob, with the answers a user relies on. */
static void create_zombify(void)
{
	dios_name_t name;
	dt_random_name(&name);
	uint64_t size = SIZE;
	dios_ref_t *b = NULL, *dup = NULL, *found[1];
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_BLOB, &size, &name, &b, 0), 0);
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_BLOB, &size, &name, &dup, 0), -EEXIST);
	uint64_t n = 1;
	CHECK_EQ(dios_lookup(D_LOOKUP_READONLY, &name, found, &n), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(dios_delete(0, found[0]), 0);
	CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, b), 0);
	n = 1;
	CHECK_EQ(dios_lookup(0, &name, found, &n), -ENOENT);
}

/*
 * The same through dios_batch: two CREATEs of one name in one batch (the
 * first parks while its file is made; the second finds the name taken),
 * then the zombify of the first in a second batch.
 */
static void create_zombify_batched(void)
{
	dios_name_t name, name2;
	dt_random_name(&name);
	name2 = name;
	uint64_t size = SIZE;
	dios_call_t c[3];
	memset(c, 0, sizeof c);
	c[0].opcode = D_OP_CREATE;
	c[0].flags = D_CREATE_NAME_GIVEN;
	c[0].type = D_OBJ_BLOB;
	c[0].arg = &size;
	c[0].name = &name;
	c[1] = c[0];
	c[1].name = &name2;
	c[2].opcode = D_OP_NOP;
	CHECK_EQ(dios_batch(c, 3), 0);
	CHECK_EQ(c[0].res, 0);
	CHECK(c[0].ref != NULL);
	CHECK_EQ(c[1].res, -EEXIST);
	CHECK_EQ(c[2].res, 0);
	dios_ref_info_t info;
	memset(&info, 0, sizeof info);
	dios_call_t z[2];
	memset(z, 0, sizeof z);
	z[0].opcode = D_OP_REF_INFO;
	z[0].ref = c[0].ref;
	z[0].info = &info;
	z[1].opcode = D_OP_DELETE;
	z[1].flags = D_DELETE_ZOMBIFY;
	z[1].ref = c[0].ref;
	CHECK_EQ(dios_batch(z, 2), 0);
	CHECK_EQ(z[0].res, 0);
	CHECK_EQ(info.size, SIZE);
	CHECK_EQ(z[1].res, 0);
	dios_ref_t *found[1];
	uint64_t n = 1;
	CHECK_EQ(dios_lookup(0, &name, found, &n), -ENOENT);
}

/* The attacker: LOOPS create/zombify pairs of named blobs (bounded: 60 s), every 10th batched; reports how many. */
static void attacker(int wr)
{
	dt_become_user(65534);
	uint64_t end = dt_now_ns() + 60ull * 1000000000ull;
	int n = 0;
	for (; n < LOOPS && dt_now_ns() < end; n++) {
		if (n % 10 == 9)
			create_zombify_batched();
		else
			create_zombify();
	}
	CHECK(n >= 10);
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
	int loops = dt_redteam_run("blobcreate: another user's loop of named blob creates and zombifies (file, syncs, journal)", attacker, &took);
	printf("attacker: %d create+zombify pairs of named blobs in %llu ms\n", loops,
	       (unsigned long long)(took / 1000000));
	CHECK_EQ(dt_admin_status("parked_calls"), 0);
	dt_stop_daemon();
	return 0;
}
