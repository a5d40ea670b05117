/* t_red_zombify: issue 18.12: a zombify does not revoke a mapping another task already holds (as unlink and shm_unlink do not): the holder keeps reading and storing through its buffer without a fault, but every call on the object fails with -EIDRM, so no write of it commits and no read of it validates; releasing works; the name is gone; a durable blob's file is removed at once. */
#include "helpers.h"

#include <dirent.h>
#include <string.h>

static int blob_files(void)
{
	char d[PATH_MAX];
	snprintf(d, sizeof d, "%s/state/blobs", dt_dir());
	DIR *dir = opendir(d);
	CHECK(dir != NULL);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL)
		n += strstr(e->d_name, ".blob") != NULL;
	closedir(dir);
	return n;
}

/* The holder (another task): maps the object through a lookup, waits for the zombify, then uses its buffers. */
static void holder(int rd, int wr, const dios_name_t *name, uint64_t size)
{
	dios_ref_t *r = NULL;
	uint64_t n = 1;
	CHECK_EQ(dios_lookup(0, name, &r, &n), 0);
	dios_iovec_t *in = NULL, *out = NULL, *x = NULL;
	CHECK_EQ(dios_acquire_read(0, r, size, &in), 0);
	CHECK_EQ(dios_acquire_write(0, r, size, &out), 0);
	CHECK_EQ(((volatile char *)in->buf)[0], 'a');
	dt_send(wr, 'M');
	CHECK_EQ(dt_recv(rd), 'Z');                     /* the owner zombified it */

	/* the mapping still works: no fault, the bytes are there, stores land in it */
	CHECK_EQ(((volatile char *)in->buf)[0], 'a');
	((volatile char *)out->buf)[1] = 'b';
	CHECK_EQ(((volatile char *)in->buf)[1], 'b');
	/* but nothing of it counts: no commit, no validated read, no new buffer */
	CHECK_EQ(dios_commit_write(0, r, size, out), -EIDRM);
	CHECK_EQ(dios_commit_read(0, r, in), -EIDRM);
	CHECK_EQ(dios_acquire_read(0, r, 0, &x), -EIDRM);
	CHECK_EQ(dios_acquire_write(0, r, 0, &x), -EIDRM);
	CHECK(x == NULL);
	dios_ref_info_t i;
	CHECK_EQ(dios_ref_info(r, &i), 0);
	CHECK(i.state & D_REF_STATE_ZOMBIE);
	CHECK_EQ(dios_release_read(0, r, in), 0);
	CHECK_EQ(dios_release_write(0, r, out), 0);
	n = 1;
	dios_ref_t *again = NULL;
	CHECK_EQ(dios_lookup(0, name, &again, &n), -ENOENT);
	CHECK_EQ(dios_delete(0, r), 0);
	dt_send(wr, 'D');
}

static void one(int type, int flags)
{
	dios_name_t name;
	dt_random_name(&name);
	uint64_t size = 4096;
	dios_ref_t *own = NULL;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN | flags, type, &size, &name, &own, 0), 0);
	dios_iovec_t *w = NULL;
	CHECK_EQ(dios_acquire_write(0, own, size, &w), 0);
	memset(w->buf, 'a', size);
	CHECK_EQ(dios_commit_write(0, own, size, w), 0);
	CHECK_EQ(dios_release_write(0, own, w), 0);
	int files = blob_files();

	int rd, wr;
	pid_t p = dt_fork_peer(&rd, &wr);
	if (p == 0) {
		holder(rd, wr, &name, size);
		_exit(0);
	}
	CHECK_EQ(dt_recv(rd), 'M');
	CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, own), 0);
	if (type == D_OBJ_BLOB)
		CHECK_EQ(blob_files(), files - 1);      /* the durable data is gone at once, mapped or not */
	dt_send(wr, 'Z');
	CHECK_EQ(dt_recv(rd), 'D');
	CHECK_CHILD_OK(p);
	close(rd);
	close(wr);
}

int main(void)
{
	alarm(60);
	dt_start_daemon();
	one(D_OBJ_SHMEM, 0);
	one(D_OBJ_BLOB, 0);
	dios_daemon_stats_t s = dt_stats();
	CHECK_EQ(s.buffers, 0);
	dt_stop_daemon();
	return 0;
}
