/* t_blob_disk_full: a task that fills the disk through a blob faults itself (SIGBUS), never the daemon; durable changes then fail with -ENOSPC, a deletion still goes through and frees the space, and a restart replays it all.  Needs a private mount namespace for a 4 MiB tmpfs (root); skips otherwise. */
#define _GNU_SOURCE
#include "helpers.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define FILL (8u << 20)   /* twice the file system */

static char dir[] = "/tmp/dios-test-full-XXXXXX";
static char state[PATH_MAX];

static void cleanup(void)
{
	umount2(state, MNT_DETACH);
	dt_cleanup_dir();
}

int main(void)
{
	alarm(110);
	if (geteuid() != 0 || unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
		printf("skip: needs root for a private mount namespace (%s)\n", strerror(errno));
		return T_EXIT_SKIP;
	}
	CHECK(mkdtemp(dir) != NULL);
	snprintf(state, sizeof state, "%s/state", dir);
	CHECK_EQ(mkdir(state, 0700), 0);
	if (mount("tmpfs", state, "tmpfs", 0, "size=4m,mode=0700") != 0) {
		printf("skip: cannot mount a tmpfs (%s)\n", strerror(errno));
		rmdir(state);
		rmdir(dir);
		return T_EXIT_SKIP;
	}
	dt_start_daemon_in(dir);

	dios_name_t a, b, c;
	CHECK_EQ(dios_name_from_string("t_blob_disk_full/a", &a), 0);
	CHECK_EQ(dios_name_from_string("t_blob_disk_full/b", &b), 0);
	CHECK_EQ(dios_name_from_string("t_blob_disk_full/c", &c), 0);
	dios_ref_t *ra = NULL, *rb = NULL, *rc = NULL;
	dios_iovec_t *wa = NULL, *wb = NULL;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_BLOB, NULL, &a, &ra, 0), 0);
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_BLOB, NULL, &b, &rb, 0), 0);
	CHECK_EQ(dios_acquire_write(0, ra, 65536, &wa), 0);
	memset(wa->buf, 0, 65536);        /* a's pages exist before the disk fills */
	CHECK_EQ(dios_acquire_write(0, rb, FILL, &wb), 0);

	/* a child writes b past the end of the file system: it dies of SIGBUS */
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no_core);
		signal(SIGBUS, SIG_DFL);
		memset(wb->buf, 1, FILL);
		_exit(0);
	}
	int st = dt_wait_child(pid);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGBUS)
		dt_fail(__FILE__, __LINE__, "filling the disk through a blob did not end in SIGBUS (status %#x)", st);
	CHECK_EQ(dios_nop(0), 0);         /* the daemon is unharmed */
	CHECK_EQ(dios_commit_write(0, rb, FILL, wb), 0);

	/* growing a: each commit journals a size until the journal's blocks run out */
	CHECK_EQ(dios_commit_write(0, ra, 1, wa), 0);
	int rc_grow = 0;
	uint64_t len;
	for (len = 2; len <= 65536; len++) {
		rc_grow = dios_commit_write(0, ra, len, wa);
		if (rc_grow != 0)
			break;
	}
	CHECK_EQ(rc_grow, -ENOSPC);
	dios_ref_info_t info;
	CHECK_EQ(dios_ref_info(ra, &info), 0);
	CHECK_EQ(info.size, len - 1);     /* the refused commit changed nothing */
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_BLOB, NULL, &c, &rc, 0), -ENOSPC);
	CHECK_EQ(dios_nop(0), 0);

	/* deletions keep a reserve: zombifying b goes through and frees the space */
	CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, rb), 0);
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_BLOB, NULL, &c, &rc, 0), 0);
	CHECK_EQ(dios_commit_write(0, ra, len, wa), 0);

	/* and a restart replays all of it */
	st = dt_kill_daemon();
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	dt_start_daemon_in(dir);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		alarm(60);
		dios_ref_t *r = NULL;
		uint64_t count = 1;
		CHECK_EQ(dios_lookup(0, &a, &r, &count), 0);
		dios_ref_info_t i;
		CHECK_EQ(dios_ref_info(r, &i), 0);
		CHECK_EQ(i.size, len);
		count = 1;
		CHECK_EQ(dios_lookup(0, &b, &r, &count), -ENOENT);
		count = 1;
		CHECK_EQ(dios_lookup(0, &c, &r, &count), 0);
		_exit(0);
	}
	CHECK_CHILD_OK(pid);
	dt_stop_daemon_keep_dir();
	cleanup();
	return T_EXIT_PASS;
}
