/* t_batch: dios_batch runs mixed calls in order with a result per entry, rejects bad arrays, and 64 creates/deletes in one batch each leave no trace. */
#include "helpers.h"

static int all_zero(const dios_name_t *n)
{
	for (int i = 0; i < 32; i++)
		if (n->raw[i])
			return 0;
	return 1;
}

int main(void)
{
	alarm(60);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();

	uint64_t size = 4096;
	dios_ref_t *target = NULL;
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &target, 0), 0);
	dios_ref_info_t tinfo;
	CHECK_EQ(dios_ref_info(target, &tinfo), 0);

	/* 32 entries: NOP, CREATE anonymous / random-named / given-named, ACQUIRE_WRITE, REF_INFO */
	enum { N = 32 };
	dios_call_t c[N];
	dios_name_t names[N];
	dios_ref_info_t infos[N];
	memset(c, 0, sizeof(c));
	memset(names, 0, sizeof(names));
	memset(infos, 0xa5, sizeof(infos));
	for (int i = 0; i < N; i++) {
		c[i].res = 12345;   /* must be overwritten */
		switch (i % 6) {
		case 0:
			c[i].opcode = D_OP_NOP;
			break;
		case 1:
			c[i].opcode = D_OP_CREATE;
			c[i].type = D_OBJ_SHMEM;
			c[i].arg = &size;
			break;
		case 2:
			c[i].opcode = D_OP_CREATE;
			c[i].type = D_OBJ_SHMEM;
			c[i].arg = &size;
			c[i].name = &names[i];
			break;
		case 3: {
			char s[64];
			snprintf(s, sizeof(s), "t_batch-%d-%d", (int)getpid(), i);
			CHECK_EQ(dios_name_from_string(s, &names[i]), 0);
			c[i].opcode = D_OP_CREATE;
			c[i].flags = D_CREATE_NAME_GIVEN;
			c[i].type = D_OBJ_PRIVMEM;
			c[i].arg = &size;
			c[i].name = &names[i];
			break;
		}
		case 4:
			c[i].opcode = D_OP_ACQUIRE_WRITE;
			c[i].ref = target;
			c[i].len = 64;
			break;
		case 5:
			c[i].opcode = D_OP_REF_INFO;
			c[i].ref = target;
			c[i].info = &infos[i];
			break;
		}
	}
	CHECK_EQ(dios_batch(c, N), 0);
	int creates = 0, named = 0, acquires = 0;
	for (int i = 0; i < N; i++) {
		if (c[i].res != 0)
			dt_fail(__FILE__, __LINE__, "entry %d (op %u): res %d %s", i, c[i].opcode, c[i].res,
				dt_errname(c[i].res));
		switch (i % 6) {
		case 1: case 2: case 3: {
			creates++;
			CHECK(c[i].ref != NULL);
			for (int j = 0; j < i; j++)
				if (c[j].opcode == D_OP_CREATE)
					CHECK(c[j].ref != c[i].ref);
			dios_ref_info_t info;
			CHECK_EQ(dios_ref_info(c[i].ref, &info), 0);
			CHECK_EQ(info.type, i % 6 == 3 ? D_OBJ_PRIVMEM : D_OBJ_SHMEM);
			CHECK_EQ(info.size, 4096);
			CHECK_EQ(!!(info.state & D_REF_STATE_NAMED), i % 6 != 1);
			if (i % 6 == 2) {
				named++;
				CHECK(!all_zero(&names[i]));
				for (int j = 2; j < i; j += 6)
					CHECK(memcmp(names[j].raw, names[i].raw, 32) != 0);
			}
			if (i % 6 != 1) {
				if (i % 6 == 3)
					named++;
				dios_ref_t *l = NULL;
				uint64_t count = 1;
				CHECK_EQ(dios_lookup(0, &names[i], &l, &count), 0);
				dios_ref_info_t li;
				CHECK_EQ(dios_ref_info(l, &li), 0);
				CHECK_EQ(li.object_id, info.object_id);
				CHECK_EQ(dios_delete(0, l), 0);
			}
			break;
		}
		case 4:
			acquires++;
			CHECK(c[i].iov != NULL);
			CHECK_EQ(c[i].iov->len, 64);
			CHECK(c[i].iov->buf != NULL);
			break;
		case 5:
			CHECK_EQ(infos[i].type, D_OBJ_SHMEM);
			CHECK_EQ(infos[i].size, 4096);
			CHECK_EQ(infos[i].perms, D_PERM_READ | D_PERM_WRITE | D_PERM_DELETE);
			CHECK_EQ(infos[i].object_id, tinfo.object_id);
			break;
		}
	}
	CHECK_EQ(creates, 16);
	CHECK_EQ(named, 10);
	CHECK_EQ(acquires, 5);
	dios_daemon_stats_t s = dt_stats();
	CHECK_EQ(s.objects, base.objects + 1 + 16);
	CHECK_EQ(s.names, base.names + 10);
	CHECK_EQ(s.refs, base.refs + 1 + 16);
	CHECK_EQ(s.buffers, base.buffers + 5);

	/* the batch's buffers are ordinary buffers: write and commit through one */
	dt_fill(c[4].iov->buf, 64, 4);
	CHECK_EQ(dios_commit_write(0, target, 64, c[4].iov), 0);

	/* clean up in one batch: commit + release each buffer, delete each created reference */
	dios_call_t d[64];
	memset(d, 0, sizeof(d));
	int n = 0;
	for (int i = 0; i < N; i++) {
		if (i % 6 == 4) {
			d[n].opcode = D_OP_COMMIT_WRITE; d[n].ref = target; d[n].len = 64; d[n].iov = c[i].iov; n++;
			d[n].opcode = D_OP_RELEASE_WRITE; d[n].ref = target; d[n].iov = c[i].iov; n++;
		} else if (i % 6 >= 1 && i % 6 <= 3) {
			d[n].opcode = D_OP_DELETE; d[n].ref = c[i].ref; n++;
		}
	}
	CHECK_EQ(n, 26);
	for (int i = 0; i < n; i++)
		d[i].res = 12345;
	CHECK_EQ(dios_batch(d, (uint64_t)n), 0);
	for (int i = 0; i < n; i++)
		if (d[i].res != 0)
			dt_fail(__FILE__, __LINE__, "cleanup entry %d (op %u): res %d %s", i, d[i].opcode, d[i].res,
				dt_errname(d[i].res));
	/* the released buffers are gone for the shim too */
	CHECK_EQ(dios_commit_write(0, target, 64, c[4].iov), -EFAULT);
	{
		dios_iovec_t *rd = NULL;
		CHECK_EQ(dios_acquire_read(0, target, 64, &rd), 0);
		CHECK_EQ(dt_verify(rd->buf, 64, 4), -1);
		CHECK_EQ(dios_release_read(0, target, rd), 0);
	}
	CHECK_EQ(dios_delete(0, target), 0);
	s = dt_stats();
	CHECK_STATS_EQ(s, base);

	/* entries run in order: a duplicate given name fails, a lookup after the create finds it */
	{
		dios_name_t g;
		char str[64];
		snprintf(str, sizeof(str), "t_batch-dup-%d", (int)getpid());
		CHECK_EQ(dios_name_from_string(str, &g), 0);
		dios_call_t e[4];
		memset(e, 0, sizeof(e));
		e[0].opcode = D_OP_LOOKUP; e[0].name = &g;
		e[1].opcode = D_OP_CREATE; e[1].flags = D_CREATE_NAME_GIVEN; e[1].type = D_OBJ_SHMEM; e[1].arg = &size; e[1].name = &g;
		e[2].opcode = D_OP_CREATE; e[2].flags = D_CREATE_NAME_GIVEN; e[2].type = D_OBJ_SHMEM; e[2].arg = &size; e[2].name = &g;
		e[3].opcode = D_OP_LOOKUP; e[3].name = &g;
		CHECK_EQ(dios_batch(e, 4), 0);
		CHECK_EQ(e[0].res, -ENOENT);
		CHECK_EQ(e[1].res, 0);
		CHECK_EQ(e[2].res, -EEXIST);
		CHECK_EQ(e[3].res, 0);
		dios_ref_info_t a, b;
		CHECK_EQ(dios_ref_info(e[1].ref, &a), 0);
		CHECK_EQ(dios_ref_info(e[3].ref, &b), 0);
		CHECK_EQ(a.object_id, b.object_id);
		CHECK_EQ(dios_delete(0, e[3].ref), 0);
		CHECK_EQ(dios_delete(0, e[1].ref), 0);
		s = dt_stats();
		CHECK_STATS_EQ(s, base);
	}

	/* bad entries fail alone; the others succeed */
	{
		CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &target, 0), 0);
		uint64_t zero = 0;
		dios_ref_info_t ri;
		dios_call_t e[8];
		memset(e, 0, sizeof(e));
		e[0].opcode = D_OP_NOP;
		e[1].opcode = D_OP_REF_INFO; e[1].ref = (dios_ref_t *)0x12345; e[1].info = &ri;
		e[2].opcode = D_OP_NOP;
		e[3].opcode = D_OP_REF_INFO; e[3].ref = target; e[3].info = &ri;
		e[4].opcode = D_OP_DELETE; e[4].ref = (dios_ref_t *)0x12345;
		e[5].opcode = D_OP_ACQUIRE_READ; e[5].ref = NULL;
		e[6].opcode = D_OP_CREATE; e[6].type = D_OBJ_SHMEM; e[6].arg = &zero;
		e[7].opcode = D_OP_NOP;
		for (int i = 0; i < 8; i++)
			e[i].res = 12345;
		CHECK_EQ(dios_batch(e, 8), 0);
		CHECK_EQ(e[0].res, 0);
		CHECK_EQ(e[1].res, -EBADF);
		CHECK_EQ(e[2].res, 0);
		CHECK_EQ(e[3].res, 0);
		dios_ref_info_t direct;
		CHECK_EQ(dios_ref_info(target, &direct), 0);
		CHECK_EQ(ri.object_id, direct.object_id);
		CHECK_EQ(e[4].res, -EBADF);
		CHECK_EQ(e[5].res, -EBADF);
		CHECK_EQ(e[6].res, -EINVAL);
		CHECK_EQ(e[7].res, 0);
		CHECK_EQ(dios_delete(0, target), 0);
		s = dt_stats();
		CHECK_STATS_EQ(s, base);
	}

	/* bad arrays */
	{
		dios_call_t e[DIOS_SQ_ENTRIES + 1];
		memset(e, 0, sizeof(e));   /* all NOPs */
		CHECK_EQ(dios_batch(NULL, 1), -EINVAL);
		CHECK_EQ(dios_batch(e, 0), -EINVAL);
		CHECK_EQ(dios_batch(e, DIOS_SQ_ENTRIES + 1), -EINVAL);
		CHECK_EQ(dios_batch(e, DIOS_SQ_ENTRIES), 0);   /* exactly a full ring is fine */
		for (unsigned i = 0; i < DIOS_SQ_ENTRIES; i++)
			CHECK_EQ(e[i].res, 0);
		/* an unknown opcode rejects the whole array: the create before it does not run */
		memset(e, 0, sizeof(e));
		e[0].opcode = D_OP_CREATE; e[0].type = D_OBJ_SHMEM; e[0].arg = &size;
		e[1].opcode = 99;
		CHECK_EQ(dios_batch(e, 2), -EINVAL);
		e[1].opcode = D_OP_LAST;
		CHECK_EQ(dios_batch(e, 2), -EINVAL);
		s = dt_stats();
		CHECK_STATS_EQ(s, base);
	}

	/* 64 creates in one batch, 64 deletes in another */
	{
		dios_call_t e[64];
		memset(e, 0, sizeof(e));
		for (int i = 0; i < 64; i++) {
			e[i].opcode = D_OP_CREATE;
			e[i].type = i & 1 ? D_OBJ_PRIVMEM : D_OBJ_SHMEM;
			e[i].arg = &size;
			e[i].res = 12345;
		}
		CHECK_EQ(dios_batch(e, 64), 0);
		for (int i = 0; i < 64; i++) {
			CHECK_EQ(e[i].res, 0);
			CHECK(e[i].ref != NULL);
			for (int j = 0; j < i; j++)
				CHECK(e[j].ref != e[i].ref);
		}
		s = dt_stats();
		CHECK_EQ(s.objects, base.objects + 64);
		CHECK_EQ(s.refs, base.refs + 64);
		CHECK_EQ(s.names, base.names);
		for (int i = 0; i < 64; i++) {
			dios_ref_t *r = e[i].ref;
			memset(&e[i], 0, sizeof(e[i]));
			e[i].opcode = D_OP_DELETE;
			e[i].ref = r;
			e[i].res = 12345;
		}
		CHECK_EQ(dios_batch(e, 64), 0);
		for (int i = 0; i < 64; i++)
			CHECK_EQ(e[i].res, 0);
		s = dt_stats();
		CHECK_STATS_EQ(s, base);
		/* a second delete batch: every entry -EBADF */
		CHECK_EQ(dios_batch(e, 64), 0);
		for (int i = 0; i < 64; i++)
			CHECK_EQ(e[i].res, -EBADF);
	}

	dt_stop_daemon();
	return T_EXIT_PASS;
}
