/* t_create: dios_create of PRIVMEM/SHMEM (anonymous, random-named, given-named), its error codes and dios_ref_info. */
#include "helpers.h"

static int all_zero(const dios_name_t *n)
{
	for (int i = 0; i < 32; i++)
		if (n->raw[i])
			return 0;
	return 1;
}

static void check_info(dios_ref_t *r, dios_object_type_t type, uint64_t size, int named, int line)
{
	dios_ref_info_t info;
	memset(&info, 0xa5, sizeof(info));
	int rc = dios_ref_info(r, &info);
	if (rc != 0)
		dt_fail(__FILE__, line, "dios_ref_info returned %d %s", rc, dt_errname(rc));
	if (info.type != type)
		dt_fail(__FILE__, line, "ref_info.type %u, want %u", info.type, type);
	if (info.perms != (D_PERM_READ | D_PERM_WRITE | D_PERM_DELETE))
		dt_fail(__FILE__, line, "ref_info.perms %#x, want READ|WRITE|DELETE for the creator", info.perms);
	if (info.size != size)
		dt_fail(__FILE__, line, "ref_info.size %llu, want %llu",
			(unsigned long long)info.size, (unsigned long long)size);
	if (!!(info.state & D_REF_STATE_NAMED) != named)
		dt_fail(__FILE__, line, "ref_info.state %#x: NAMED bit should be %d", info.state, named);
	if (info.state & D_REF_STATE_ZOMBIE)
		dt_fail(__FILE__, line, "ref_info.state %#x: fresh object marked ZOMBIE", info.state);
	if (info.proximity != 0 || info.consistency != 0)
		dt_fail(__FILE__, line, "local object: proximity %u consistency %u, want 0 0",
			info.proximity, info.consistency);
}

int main(void)
{
	alarm(60);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();

	uint64_t size = 4096, odd = 12345;
	dios_ref_t *pa = NULL, *sa = NULL, *so = NULL;

	/* anonymous */
	CHECK_EQ(dios_create(0, D_OBJ_PRIVMEM, &size, NULL, &pa, 0), 0);
	CHECK(pa != NULL);
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &sa, 0), 0);
	CHECK(sa != NULL);
	CHECK(sa != pa);
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &odd, NULL, &so, 0), 0);
	check_info(pa, D_OBJ_PRIVMEM, 4096, 0, __LINE__);
	check_info(sa, D_OBJ_SHMEM, 4096, 0, __LINE__);
	check_info(so, D_OBJ_SHMEM, 12345, 0, __LINE__);
	{
		dios_ref_info_t i1, i2;
		CHECK_EQ(dios_ref_info(pa, &i1), 0);
		CHECK_EQ(dios_ref_info(sa, &i2), 0);
		CHECK_NE(i1.object_id, i2.object_id);
	}
	/* anonymous objects never touch the name table */
	dios_daemon_stats_t s = dt_stats();
	CHECK_EQ(s.names, base.names);
	CHECK_EQ(s.objects, base.objects + 3);
	CHECK_EQ(s.refs, base.refs + 3);

	/* random-named: two creates, two different non-zero names */
	dios_name_t n1, n2;
	memset(&n1, 0, sizeof(n1));
	memset(&n2, 0, sizeof(n2));
	dios_ref_t *r1 = NULL, *r2 = NULL, *rp = NULL;
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, &n1, &r1, 0), 0);
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, &n2, &r2, 0), 0);
	CHECK(!all_zero(&n1));
	CHECK(!all_zero(&n2));
	CHECK(memcmp(n1.raw, n2.raw, 32) != 0);
	check_info(r1, D_OBJ_SHMEM, 4096, 1, __LINE__);
	check_info(r2, D_OBJ_SHMEM, 4096, 1, __LINE__);
	dios_name_t n3;
	memset(&n3, 0, sizeof(n3));
	CHECK_EQ(dios_create(0, D_OBJ_PRIVMEM, &size, &n3, &rp, 0), 0);
	CHECK(!all_zero(&n3));
	check_info(rp, D_OBJ_PRIVMEM, 4096, 1, __LINE__);
	s = dt_stats();
	CHECK_EQ(s.names, base.names + 3);

	/* given name */
	char str[64];
	snprintf(str, sizeof(str), "t_create-given-%d", (int)getpid());
	dios_name_t g, gcopy;
	CHECK_EQ(dios_name_from_string(str, &g), 0);
	gcopy = g;
	dios_ref_t *rg = NULL, *rg2 = NULL;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_SHMEM, &size, &g, &rg, 0), 0);
	CHECK(rg != NULL);
	CHECK_EQ(memcmp(g.raw, gcopy.raw, 32), 0);            /* the given name is not overwritten */
	check_info(rg, D_OBJ_SHMEM, 4096, 1, __LINE__);
	/* the same name again: -EEXIST, and nothing is created */
	dios_daemon_stats_t before = dt_stats();
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_SHMEM, &size, &g, &rg2, 0), -EEXIST);
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_PRIVMEM, &size, &g, &rg2, 0), -EEXIST);
	/* D_NAME_DETERMINISTIC_STRING is the same flag */
	CHECK_EQ(dios_create(D_NAME_DETERMINISTIC_STRING, D_OBJ_SHMEM, &size, &g, &rg2, 0), -EEXIST);
	/* the name is found by lookup: the object the first create made */
	{
		dios_ref_t *lr = NULL;
		uint64_t cnt = 1;
		dios_ref_info_t a, b;
		CHECK_EQ(dios_lookup(0, &g, &lr, &cnt), 0);
		CHECK_EQ(cnt, 1);
		CHECK_EQ(dios_ref_info(rg, &a), 0);
		CHECK_EQ(dios_ref_info(lr, &b), 0);
		CHECK_EQ(a.object_id, b.object_id);
		CHECK_EQ(dios_delete(0, lr), 0);
	}
	s = dt_stats();
	CHECK_STATS_EQ(s, before);

	/* argument errors: each -EINVAL, and none of them creates anything */
	dios_ref_t *x = NULL;
	uint64_t zero = 0, huge = DIOS_MAX_OBJECT_SIZE + 1;
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, NULL, NULL, &x, 0), -EINVAL);
	CHECK_EQ(dios_create(0, D_OBJ_PRIVMEM, NULL, NULL, &x, 0), -EINVAL);
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &zero, NULL, &x, 0), -EINVAL);
	CHECK_EQ(dios_create(0, D_OBJ_PRIVMEM, &zero, NULL, &x, 0), -EINVAL);
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &huge, NULL, &x, 0), -EINVAL);
	uint64_t all_ones = ~0ULL;
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &all_ones, NULL, &x, 0), -EINVAL);
	CHECK_EQ(dios_create(0, (dios_object_type_t)99, &size, NULL, &x, 0), -EINVAL);
	CHECK_EQ(dios_create(0, D_OBJ_NONE, &size, NULL, &x, 0), -EINVAL);
	CHECK_EQ(dios_create(0, D_OBJ_LAST, &size, NULL, &x, 0), -EINVAL);
	CHECK_EQ(dios_create(1ULL << 40, D_OBJ_SHMEM, &size, NULL, &x, 0), -EINVAL);
	CHECK_EQ(dios_create(D_LOOKUP_READONLY, D_OBJ_SHMEM, &size, NULL, &x, 0), -EINVAL);
	CHECK_EQ(dios_create(D_DELETE_ZOMBIFY, D_OBJ_SHMEM, &size, NULL, &x, 0), -EINVAL);
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, NULL, 0), -EINVAL);
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, &n1, NULL, 0), -EINVAL);
	/* a given name needs a name */
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_SHMEM, &size, NULL, &x, 0), -EINVAL);
	/* another host: not reachable on a single host */
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &x, 1), -EHOSTDOWN);
	CHECK(x == NULL);   /* no failed call wrote a reference */

	/* FIFO capacities out of range; the console exists once, under its well-known name */
	uint64_t cap0 = 0, capbig = DIOS_FIFO_MAX_CAPACITY + 1;
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, &cap0, NULL, &x, 0), -EINVAL);
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, &capbig, NULL, &x, 0), -EINVAL);
	CHECK_EQ(dios_create(0, D_OBJ_CONSOLE, NULL, NULL, &x, 0), -EEXIST);
	/* a group takes no argument (t_groups has the rest); blobs: t_blob */
	uint64_t one = 1;
	CHECK_EQ(dios_create(0, D_OBJ_GROUP, &one, NULL, &x, 0), -EINVAL);
	{
		/* tasks come from dios_run, not dios_create: either code is a refusal */
		int r = dios_create(0, D_OBJ_TASK, NULL, NULL, &x, 0);
		if (r != -EOPNOTSUPP && r != -EINVAL)
			CHECK_EQ(r, -EOPNOTSUPP);
	}
	CHECK(x == NULL);
	s = dt_stats();
	CHECK_STATS_EQ(s, before);

	/* everything goes away again */
	dios_ref_t *all[] = { pa, sa, so, r1, r2, rp, rg };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		CHECK_EQ(dios_delete(0, all[i]), 0);
	s = dt_stats();
	CHECK_STATS_EQ(s, base);
	/* and the given name is free for a new object */
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_SHMEM, &size, &g, &rg, 0), 0);
	CHECK_EQ(dios_delete(0, rg), 0);
	s = dt_stats();
	CHECK_STATS_EQ(s, base);

	dt_stop_daemon();
	return T_EXIT_PASS;
}
