/* t_shmem_two_procs: two processes share a named SHMEM: bytes committed by one are read by the other, both ways, with -ESTALE across tasks. */
#include "helpers.h"

#include <sys/wait.h>

#define SIZE (64 * 1024)

static void write_pattern(dios_ref_t *r, uint32_t seed)
{
	dios_iovec_t *w = NULL;
	CHECK_EQ(dios_acquire_write(0, r, 0, &w), 0);
	CHECK_EQ(w->len, SIZE);
	dt_fill(w->buf, SIZE, seed);
	CHECK_EQ(dios_commit_write(0, r, SIZE, w), 0);
	CHECK_EQ(dios_release_write(0, r, w), 0);
}

/* child: a new task (fork), finds the object by name */
static int child(const dios_name_t *name, dios_ref_t *parents_ref, int to_parent, int from_parent)
{
	alarm(60);
	/* the parent's reference value means nothing here */
	dios_ref_info_t info;
	CHECK_EQ(dios_ref_info(parents_ref, &info), -EBADF);

	dios_ref_t *r = NULL;
	uint64_t count = 1;
	CHECK_EQ(dios_lookup(0, name, &r, &count), 0);
	CHECK_EQ(count, 1);
	CHECK_EQ(dios_ref_info(r, &info), 0);
	CHECK_EQ(info.type, D_OBJ_SHMEM);
	CHECK_EQ(info.size, SIZE);

	/* child -> parent */
	write_pattern(r, 1001);
	dt_send(to_parent, 'W');

	/* parent -> child: hold a read buffer across the parent's write */
	dios_iovec_t *rd = NULL;
	CHECK_EQ(dios_acquire_read(0, r, 0, &rd), 0);
	CHECK_EQ(dt_verify(rd->buf, SIZE, 1001), -1);
	CHECK_EQ(dios_commit_read(0, r, rd), 0);
	dt_send(to_parent, 'A');
	CHECK_EQ(dt_recv(from_parent), 'P');
	CHECK_EQ(dt_verify(rd->buf, SIZE, 2002), -1);   /* same memory: no copy */
	CHECK_EQ(dios_commit_read(0, r, rd), -ESTALE);  /* the parent's commit came in between */
	CHECK_EQ(dios_commit_read(0, r, rd), 0);
	CHECK_EQ(dios_release_read(0, r, rd), 0);

	/* a fresh acquire sees it too */
	CHECK_EQ(dios_acquire_read(0, r, 0, &rd), 0);
	CHECK_EQ(dt_verify(rd->buf, SIZE, 2002), -1);
	CHECK_EQ(dios_release_read(0, r, rd), 0);
	CHECK_EQ(dios_delete(0, r), 0);
	dt_send(to_parent, 'D');
	return 0;
}

int main(void)
{
	alarm(60);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();

	char str[64];
	snprintf(str, sizeof(str), "t_shmem_two_procs-%d", (int)getpid());
	dios_name_t name;
	CHECK_EQ(dios_name_from_string(str, &name), 0);
	uint64_t size = SIZE;
	dios_ref_t *r = NULL;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_SHMEM, &size, &name, &r, 0), 0);

	/* the parent holds a read buffer from before the child's write */
	dios_iovec_t *rd = NULL;
	CHECK_EQ(dios_acquire_read(0, r, 0, &rd), 0);

	int from, to;
	pid_t pid = dt_fork_peer(&from, &to);
	if (pid == 0) {
		_exit(child(&name, r, to, from));
	}

	/* child -> parent */
	CHECK_EQ(dt_recv(from), 'W');
	dios_daemon_stats_t s = dt_stats();
	CHECK_EQ(s.tasks, base.tasks + 1);
	CHECK_EQ(dt_verify(rd->buf, SIZE, 1001), -1);    /* visible in the buffer we already held */
	CHECK_EQ(dios_commit_read(0, r, rd), -ESTALE);   /* another task committed in between */
	CHECK_EQ(dios_commit_read(0, r, rd), 0);
	CHECK_EQ(dios_release_read(0, r, rd), 0);
	CHECK_EQ(dios_acquire_read(0, r, 0, &rd), 0);
	CHECK_EQ(dt_verify(rd->buf, SIZE, 1001), -1);
	CHECK_EQ(dios_release_read(0, r, rd), 0);

	/* parent -> child */
	CHECK_EQ(dt_recv(from), 'A');
	write_pattern(r, 2002);
	dt_send(to, 'P');
	CHECK_EQ(dt_recv(from), 'D');
	CHECK_CHILD_OK(pid);

	/* the child's reference is gone, the object lives on through ours */
	s = dt_wait_stats(&(dios_daemon_stats_t){ base.tasks, base.objects + 1, base.names + 1,
						  base.refs + 1, base.buffers, base.segments + 1 }, 5000);
	CHECK_EQ(s.tasks, base.tasks);
	CHECK_EQ(s.objects, base.objects + 1);
	CHECK_EQ(s.refs, base.refs + 1);
	CHECK_EQ(s.buffers, base.buffers);
	CHECK_EQ(dios_delete(0, r), 0);
	s = dt_stats();
	CHECK_STATS_EQ(s, base);

	dt_stop_daemon();
	return T_EXIT_PASS;
}
