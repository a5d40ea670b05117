/*
 * t_groups: D_OBJ_GROUP scopes names.  A name bound in a group resolves only
 * for its members: its creator, and tasks dios_run puts in it.  A task that
 * connects by itself sees only the public group; a child spawned into a group
 * alone sees that group's names and the well-known ones (the console,
 * executables), not the public ones; a child spawned with no groups given
 * gets its parent's.
 */
#include "helpers.h"

#include <string.h>
#include <sys/wait.h>

static void name_of(const char *s, dios_name_t *n)
{
	CHECK_EQ(dios_name_from_string(s, n), 0);
}

static int visible(const char *s)
{
	dios_name_t n;
	name_of(s, &n);
	dios_ref_t *r = NULL;
	uint64_t c = 1;
	int rc = dios_lookup(0, &n, &r, &c);
	if (rc == 0)
		CHECK_EQ(dios_delete(0, r), 0);
	return rc;
}

/* child "only-g": in group G alone */
static int child_only_g(void)
{
	CHECK_EQ(visible("t_groups-secret"), 0);
	CHECK_EQ(visible("t_groups-public"), -ENOENT);
	CHECK_EQ(visible(DIOS_CONSOLE_NAME_STRING), 0);             /* well known */
	CHECK(dios_pickref(dios_self_exe()) != NULL);                /* so is its executable */
	/* its names go to G: its parent (a member) sees them */
	dios_ref_t *d[2];
	uint64_t n = 2;
	CHECK_EQ(dios_delegated(0, d, &n), 0);
	CHECK_EQ(n, 2);
	dios_name_t nm;
	name_of("t_groups-from-child", &nm);
	dios_ref_t *mine = NULL;
	uint64_t sz = 4096;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_SHMEM, &sz, &nm, &mine, 0), 0);
	/* durable names live in the public group, which this task cannot reach */
	dios_name_t bn;
	dios_ref_t *b = NULL;
	CHECK_EQ(dios_create(0, D_OBJ_BLOB, NULL, &bn, &b, 0), -EOPNOTSUPP);
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_acquire_write(0, d[1], 1, &iov), 0);
	((char *)iov->buf)[0] = 'c';
	CHECK_EQ(dios_commit_write(0, d[1], 1, iov), 0);
	CHECK_EQ(dios_release_write(0, d[1], iov), 0);
	/* wait for the parent to be done looking (end of stream on d[0]) */
	CHECK_EQ(dios_acquire_read(0, d[0], 0, &iov), -EPIPE);
	return 0;
}

/* child "inherit": its parent's groups (public and G) */
static int child_inherit(void)
{
	CHECK_EQ(visible("t_groups-secret"), 0);
	CHECK_EQ(visible("t_groups-public"), 0);
	return 0;
}

static dios_ref_t *spawn(dios_ref_t *exe, const char *mode, dios_ref_t **refs, uint64_t nrefs,
			 dios_ref_t **groups, uint64_t ngroups)
{
	char *argv[] = { "t_groups", (char *)mode, NULL };
	dios_task_spec_t spec = { .argc = 2, .argv = argv, .refs = refs, .ref_count = nrefs,
				  .groups = groups, .group_count = ngroups };
	dios_ref_t *t = NULL;
	CHECK_EQ(dios_run(0, exe, &spec, &t), 0);
	return t;
}

static void wait_ok(dios_ref_t *t)
{
	int st = -1;
	CHECK_EQ(dios_wait(0, t, &st), 0);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
	CHECK_EQ(dios_delete(0, t), 0);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "only-g") == 0)
		return child_only_g();
	if (argc > 1 && strcmp(argv[1], "inherit") == 0)
		return child_inherit();

	alarm(60);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();
	dios_ref_t *exe = dios_pickref(dios_self_exe());
	CHECK(exe != NULL);

	dios_ref_t *g = NULL;
	CHECK_EQ(dios_create(0, D_OBJ_GROUP, NULL, NULL, &g, 0), 0);
	dios_ref_info_t info;
	CHECK_EQ(dios_ref_info(g, &info), 0);
	CHECK_EQ(info.type, D_OBJ_GROUP);

	uint64_t sz = 4096;
	dios_name_t sec, pub;
	name_of("t_groups-secret", &sec);
	name_of("t_groups-public", &pub);
	dios_ref_t *rs = NULL, *rp = NULL, *x = NULL;
	CHECK_EQ(dios_create_in(D_CREATE_NAME_GIVEN, D_OBJ_SHMEM, &sz, &sec, &rs, g), 0);
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_SHMEM, &sz, &pub, &rp, 0), 0);
	/* the same name may be bound in another group */
	dios_ref_t *rs2 = NULL;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_SHMEM, &sz, &sec, &rs2, 0), 0);
	CHECK_EQ(dios_create_in(D_CREATE_NAME_GIVEN, D_OBJ_SHMEM, &sz, &sec, &x, g), -EEXIST);
	CHECK_EQ(dios_delete(0, rs2), 0);
	/* arguments */
	CHECK_EQ(dios_create_in(0, D_OBJ_SHMEM, &sz, NULL, &x, g), -EINVAL);     /* nothing to name */
	CHECK_EQ(dios_create_in(D_CREATE_NAME_GIVEN, D_OBJ_SHMEM, &sz, &sec, &x, rp), -EINVAL); /* not a group */
	CHECK_EQ(dios_create_in(D_CREATE_NAME_GIVEN, D_OBJ_SHMEM, &sz, &sec, &x, NULL), -EBADF);
	dios_name_t bn;
	CHECK_EQ(dios_create_in(0, D_OBJ_BLOB, NULL, &bn, &x, g), -EOPNOTSUPP);
	/* the creator is a member: it sees both */
	CHECK_EQ(visible("t_groups-secret"), 0);
	CHECK_EQ(visible("t_groups-public"), 0);

	/* a task that connected by itself sees the public names only */
	int from, to;
	pid_t pid = dt_fork_peer(&from, &to);
	if (pid == 0) {
		CHECK_EQ(visible("t_groups-public"), 0);
		CHECK_EQ(visible("t_groups-secret"), -ENOENT);
		dt_send(to, 'a');
		CHECK_EQ(dt_recv(from), 'b');
		CHECK_EQ(visible("t_groups-from-child"), -ENOENT);
		_exit(0);
	}
	CHECK_EQ(dt_recv(from), 'a');

	/* a child in G alone */
	dios_ref_t *cin = NULL, *cout = NULL;
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, NULL, NULL, &cin, 0), 0);
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, NULL, NULL, &cout, 0), 0);
	dios_ref_t *d[2] = { cin, cout };
	dios_ref_t *t1 = spawn(exe, "only-g", d, 2, &g, 1);
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_acquire_read(0, cout, 1, &iov), 0);
	CHECK_EQ(((char *)iov->buf)[0], 'c');
	CHECK_EQ(dios_release_read(0, cout, iov), 0);
	CHECK_EQ(visible("t_groups-from-child"), 0);  /* bound in G, where the child's names go */
	dt_send(to, 'b');
	CHECK_CHILD_OK(pid);
	CHECK_EQ(dios_delete(0, cin), 0);             /* end of stream: the child ends */
	wait_ok(t1);
	CHECK_EQ(visible("t_groups-from-child"), -ENOENT); /* died with the child's reference */
	CHECK_EQ(dios_delete(0, cout), 0);

	/* a child with its parent's groups */
	wait_ok(spawn(exe, "inherit", NULL, 0, NULL, 0));

	/* releasing the group reference: still a member, names still resolve */
	CHECK_EQ(dios_delete(0, g), 0);
	CHECK_EQ(visible("t_groups-secret"), 0);
	CHECK_EQ(dios_delete(0, rs), 0);
	CHECK_EQ(dios_delete(0, rp), 0);
	CHECK_EQ(dios_delete(0, exe), 0);
	/* the group itself lives while this task is a member: one object more than at the start */
	dios_daemon_stats_t s = dt_wait_stats(&base, 2000);
	CHECK_EQ(s.objects, base.objects + 1);
	CHECK_EQ(s.refs, base.refs);
	CHECK_EQ(s.names, base.names);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
