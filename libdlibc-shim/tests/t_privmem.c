/* t_privmem: a named PRIVMEM resolves and works in its creator but lookup from another task is -EACCES. */
#include "helpers.h"

#include <sys/wait.h>

int main(void)
{
	alarm(60);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();

	uint64_t size = 4096;
	char str[64];
	snprintf(str, sizeof(str), "t_privmem-%d", (int)getpid());
	dios_name_t given, rnd, shname;
	CHECK_EQ(dios_name_from_string(str, &given), 0);
	dios_ref_t *pg = NULL, *pr = NULL, *sh = NULL;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_PRIVMEM, &size, &given, &pg, 0), 0);
	CHECK_EQ(dios_create(0, D_OBJ_PRIVMEM, &size, &rnd, &pr, 0), 0);
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, &shname, &sh, 0), 0);   /* control: shareable */

	/* the creator may look its private memory up and use it */
	dios_ref_t *again = NULL;
	uint64_t count = 1;
	CHECK_EQ(dios_lookup(0, &given, &again, &count), 0);
	CHECK_EQ(count, 1);
	dios_ref_info_t info;
	CHECK_EQ(dios_ref_info(again, &info), 0);
	CHECK_EQ(info.type, D_OBJ_PRIVMEM);
	dios_iovec_t *w = NULL, *r = NULL;
	CHECK_EQ(dios_acquire_write(0, pg, 0, &w), 0);
	dt_fill(w->buf, size, 99);
	CHECK_EQ(dios_commit_write(0, pg, size, w), 0);
	CHECK_EQ(dios_release_write(0, pg, w), 0);
	CHECK_EQ(dios_acquire_read(0, again, 0, &r), 0);
	CHECK_EQ(dt_verify(r->buf, size, 99), -1);
	CHECK_EQ(dios_release_read(0, again, r), 0);
	CHECK_EQ(dios_delete(0, again), 0);
	count = 1;
	CHECK_EQ(dios_lookup(0, &rnd, &again, &count), 0);
	CHECK_EQ(dios_delete(0, again), 0);

	/* another task: -EACCES for both private names, read-only too; the shared one resolves */
	int rd, wr;
	pid_t pid = dt_fork_peer(&rd, &wr);
	if (pid == 0) {
		dios_ref_t *x = NULL;
		uint64_t c = 1;
		CHECK_EQ(dios_lookup(0, &given, &x, &c), -EACCES);
		c = 1;
		CHECK_EQ(dios_lookup(D_LOOKUP_READONLY, &given, &x, &c), -EACCES);
		c = 1;
		CHECK_EQ(dios_lookup(0, &rnd, &x, &c), -EACCES);
		CHECK(dios_pickref(&given) == NULL);
		c = 1;
		CHECK_EQ(dios_lookup(0, &shname, &x, &c), 0);
		CHECK_EQ(dios_delete(0, x), 0);
		/* its own private memory works for it ... */
		dios_name_t mine;
		dios_ref_t *m = NULL;
		CHECK_EQ(dios_create(0, D_OBJ_PRIVMEM, &size, &mine, &m, 0), 0);
		c = 1;
		CHECK_EQ(dios_lookup(0, &mine, &x, &c), 0);
		CHECK_EQ(dios_delete(0, x), 0);
		/* ... and is as private from the parent */
		if (write(wr, &mine, sizeof(mine)) != (ssize_t)sizeof(mine))
			_exit(1);
		CHECK_EQ(dt_recv(rd), 'g');
		CHECK_EQ(dios_delete(0, m), 0);
		_exit(0);
	}
	dios_name_t childs;
	CHECK_EQ(read(rd, &childs, sizeof(childs)), (ssize_t)sizeof(childs));
	{
		dios_ref_t *x = NULL;
		uint64_t c = 1;
		CHECK_EQ(dios_lookup(0, &childs, &x, &c), -EACCES);
	}
	dt_send(wr, 'g');
	CHECK_CHILD_OK(pid);
	close(rd);
	close(wr);

	/* failed lookups created nothing; the child is gone */
	dios_daemon_stats_t want = base;
	want.objects += 3;
	want.names += 3;
	want.refs += 3;
	want.segments += 1;   /* segments are opened at the first acquire: only pg's */
	dios_daemon_stats_t s = dt_wait_stats(&want, 5000);
	CHECK_EQ(s.tasks, base.tasks);
	CHECK_EQ(s.objects, base.objects + 3);
	CHECK_EQ(s.names, base.names + 3);
	CHECK_EQ(s.refs, base.refs + 3);
	CHECK_EQ(s.buffers, base.buffers);
	CHECK_STATS_EQ(s, want);

	CHECK_EQ(dios_delete(0, pg), 0);
	CHECK_EQ(dios_delete(0, pr), 0);
	CHECK_EQ(dios_delete(0, sh), 0);
	s = dt_stats();
	CHECK_STATS_EQ(s, base);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
