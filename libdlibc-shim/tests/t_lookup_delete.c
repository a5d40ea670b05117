/* t_lookup_delete: lookup gives independent references to one object; it lives until the last delete; stale and guessed references are -EBADF. */
#include "helpers.h"

static void write_pattern(dios_ref_t *r, uint64_t len, uint32_t seed)
{
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_acquire_write(0, r, len, &iov), 0);
	CHECK(iov != NULL && iov->buf != NULL);
	CHECK_EQ(iov->len, len);
	dt_fill(iov->buf, len, seed);
	CHECK_EQ(dios_commit_write(0, r, len, iov), 0);
	CHECK_EQ(dios_release_write(0, r, iov), 0);
}

static void read_pattern(dios_ref_t *r, uint64_t len, uint32_t seed)
{
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_acquire_read(0, r, len, &iov), 0);
	CHECK(iov != NULL && iov->buf != NULL);
	CHECK_EQ(iov->len, len);
	CHECK_EQ(dt_verify(iov->buf, len, seed), -1);
	CHECK_EQ(dios_commit_read(0, r, iov), 0);
	CHECK_EQ(dios_release_read(0, r, iov), 0);
}

int main(void)
{
	alarm(60);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();

	/* a name nobody bound */
	dios_name_t unbound;
	dt_random_name(&unbound);
	dios_ref_t *refs[4] = { 0 };
	uint64_t count = 1;
	CHECK_EQ(dios_lookup(0, &unbound, refs, &count), -ENOENT);
	CHECK(dios_pickref(&unbound) == NULL);

	/* named object, looked up: a second, working reference */
	uint64_t size = 8192;
	dios_name_t name;
	dios_ref_t *creator = NULL;
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, &name, &creator, 0), 0);
	count = 4;   /* capacity above what exists: count says how many were returned */
	CHECK_EQ(dios_lookup(0, &name, refs, &count), 0);
	CHECK_EQ(count, 1);
	dios_ref_t *looked = refs[0];
	CHECK(looked != NULL);
	CHECK(looked != creator);
	dios_ref_info_t ic, il;
	CHECK_EQ(dios_ref_info(creator, &ic), 0);
	CHECK_EQ(dios_ref_info(looked, &il), 0);
	CHECK_EQ(il.object_id, ic.object_id);
	CHECK_EQ(il.type, D_OBJ_SHMEM);
	CHECK_EQ(il.size, 8192);
	CHECK_EQ(il.perms & (D_PERM_READ | D_PERM_WRITE), D_PERM_READ | D_PERM_WRITE);
	CHECK(il.state & D_REF_STATE_NAMED);

	dios_daemon_stats_t s = dt_stats();
	CHECK_EQ(s.objects, base.objects + 1);
	CHECK_EQ(s.names, base.names + 1);
	CHECK_EQ(s.refs, base.refs + 2);

	/* write through one, read through the other */
	write_pattern(creator, 8192, 1);
	read_pattern(looked, 8192, 1);
	write_pattern(looked, 4096, 2);
	read_pattern(creator, 4096, 2);

	/* the creator's delete leaves the object alive for the other holder */
	CHECK_EQ(dios_delete(0, creator), 0);
	s = dt_stats();
	CHECK_EQ(s.objects, base.objects + 1);
	CHECK_EQ(s.refs, base.refs + 1);
	CHECK_EQ(s.names, base.names + 1);
	read_pattern(looked, 4096, 2);
	write_pattern(looked, 8192, 3);
	read_pattern(looked, 8192, 3);

	/* the creator's reference is dead: every use is -EBADF, a second delete too */
	dios_ref_info_t info;
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_delete(0, creator), -EBADF);
	CHECK_EQ(dios_ref_info(creator, &info), -EBADF);
	CHECK_EQ(dios_acquire_read(0, creator, 0, &iov), -EBADF);
	CHECK_EQ(dios_acquire_write(0, creator, 0, &iov), -EBADF);

	/* the name still resolves while the object lives; pickref gives a working reference */
	dios_ref_t *picked = dios_pickref(&name);
	CHECK(picked != NULL);
	CHECK(picked != looked);
	CHECK_EQ(dios_ref_info(picked, &info), 0);
	CHECK_EQ(info.object_id, ic.object_id);
	read_pattern(picked, 8192, 3);
	CHECK_EQ(dios_delete(0, picked), 0);
	CHECK_EQ(dios_delete(0, picked), -EBADF);

	/* two lookups: two distinct references, each released on its own */
	dios_ref_t *a = NULL, *b = NULL;
	count = 1;
	CHECK_EQ(dios_lookup(0, &name, &a, &count), 0);
	count = 1;
	CHECK_EQ(dios_lookup(0, &name, &b, &count), 0);
	CHECK(a != b);
	s = dt_stats();
	CHECK_EQ(s.refs, base.refs + 3);
	CHECK_EQ(dios_delete(0, a), 0);
	CHECK_EQ(dios_ref_info(b, &info), 0);   /* b is not affected by a's delete */
	CHECK_EQ(dios_delete(0, b), 0);

	/* the last reference goes: object, name and segment are gone */
	CHECK_EQ(dios_delete(0, looked), 0);
	CHECK_EQ(dios_delete(0, looked), -EBADF);
	count = 1;
	CHECK_EQ(dios_lookup(0, &name, refs, &count), -ENOENT);
	CHECK(dios_pickref(&name) == NULL);
	s = dt_stats();
	CHECK_STATS_EQ(s, base);

	/* guessed and NULL references */
	dios_ref_t *guess = (dios_ref_t *)0x12345;
	CHECK_EQ(dios_delete(0, guess), -EBADF);
	CHECK_EQ(dios_ref_info(guess, &info), -EBADF);
	CHECK_EQ(dios_acquire_read(0, guess, 0, &iov), -EBADF);
	CHECK_EQ(dios_acquire_write(0, guess, 0, &iov), -EBADF);
	CHECK_EQ(dios_delete(0, NULL), -EBADF);
	CHECK_EQ(dios_ref_info(NULL, &info), -EBADF);
	CHECK_EQ(dios_acquire_read(0, NULL, 0, &iov), -EBADF);
	CHECK_EQ(dios_acquire_write(0, NULL, 0, &iov), -EBADF);
	/* ref_info needs somewhere to write */
	{
		dios_ref_t *r = NULL;
		CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &r, 0), 0);
		CHECK_EQ(dios_ref_info(r, NULL), -EINVAL);
		CHECK_EQ(dios_delete(0, r), 0);
	}

	/* lookup argument errors */
	dios_name_t some;
	dt_random_name(&some);
	count = 0;
	CHECK_EQ(dios_lookup(0, &some, refs, &count), -EINVAL);
	count = 1;
	CHECK_EQ(dios_lookup(0, NULL, refs, &count), -EINVAL);
	CHECK_EQ(dios_lookup(0, &some, NULL, &count), -EINVAL);
	CHECK_EQ(dios_lookup(0, &some, refs, NULL), -EINVAL);
	CHECK(dios_pickref(NULL) == NULL);

	s = dt_stats();
	CHECK_STATS_EQ(s, base);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
