/* t_zombify: dios_delete(D_DELETE_ZOMBIFY) kills an object for every holder (-EIDRM), needs D_PERM_DELETE, and the zombie is freed when its last reference goes. */
#include "helpers.h"

#include <sys/wait.h>

int main(void)
{
	alarm(60);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();

	uint64_t size = 4096;
	dios_name_t name;
	dios_ref_t *c = NULL, *l = NULL, *ro = NULL;
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, &name, &c, 0), 0);
	uint64_t count = 1;
	CHECK_EQ(dios_lookup(0, &name, &l, &count), 0);
	count = 1;
	CHECK_EQ(dios_lookup(D_LOOKUP_READONLY, &name, &ro, &count), 0);
	CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, ro), -EACCES);   /* no D_PERM_DELETE */
	dios_iovec_t *rd = NULL, *x = NULL;
	CHECK_EQ(dios_acquire_read(0, l, 0, &rd), 0);

	/* another task holds a reference too */
	int from, to;
	pid_t pid = dt_fork_peer(&from, &to);
	if (pid == 0) {
		dios_ref_t *r = NULL;
		uint64_t k = 1;
		CHECK_EQ(dios_lookup(0, &name, &r, &k), 0);
		dt_send(to, 'l');
		CHECK_EQ(dt_recv(from), 'z');
		dios_iovec_t *y = NULL;
		CHECK_EQ(dios_acquire_read(0, r, 0, &y), -EIDRM);
		CHECK_EQ(dios_acquire_write(0, r, 0, &y), -EIDRM);
		CHECK_EQ(dios_delete(0, r), 0);
		_exit(0);
	}
	CHECK_EQ(dt_recv(from), 'l');

	/* zombify through the creator's reference: that reference is released as well */
	CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, c), 0);
	CHECK_EQ(dios_delete(0, c), -EBADF);
	dt_send(to, 'z');

	CHECK_EQ(dios_acquire_read(0, l, 0, &x), -EIDRM);
	CHECK_EQ(dios_acquire_write(0, l, 0, &x), -EIDRM);
	CHECK_EQ(dios_acquire_read(0, ro, 0, &x), -EIDRM);
	CHECK_EQ(dios_commit_read(0, l, rd), -EIDRM);
	{
		/* ref_info either reports the zombie state or refuses with -EIDRM (the header allows both readings) */
		dios_ref_info_t info;
		int r = dios_ref_info(l, &info);
		if (r == 0)
			CHECK(info.state & D_REF_STATE_ZOMBIE);
		else
			CHECK_EQ(r, -EIDRM);
	}
	{
		/* the zombie is not handed out again */
		dios_ref_t *y = NULL;
		uint64_t k = 1;
		int r = dios_lookup(0, &name, &y, &k);
		if (r != -ENOENT)
			CHECK_EQ(r, -EIDRM);
	}
	CHECK_CHILD_OK(pid);
	close(from);
	close(to);

	/* releasing the remaining references (and the buffer) frees the zombie */
	(void)dios_release_read(0, l, rd);
	CHECK_EQ(dios_delete(0, l), 0);
	CHECK_EQ(dios_delete(0, ro), 0);
	dios_daemon_stats_t s = dt_wait_stats(&base, 5000);
	CHECK_STATS_EQ(s, base);

	dt_stop_daemon();
	return T_EXIT_PASS;
}
