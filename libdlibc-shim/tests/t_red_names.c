/*
 * t_red_names - issue 18, finding 14: a deterministic name is its user's own.
 * Root binds dios_name_from_string names (shared memory, a durable blob);
 * uid 65534, on the same daemon (socket mode 0666), guesses them:
 *   - plain, read-only and public lookups of them answer -ENOENT, as for an
 *     absent name, and binding the same string gives uid 65534 its own object
 *     (no -EEXIST that would tell it the name is taken), while root still
 *     finds its own bytes;
 *   - a name root put in the public group (D_CREATE_PUBLIC) is found with
 *     D_LOOKUP_PUBLIC only: read and write, or read only with
 *     D_LOOKUP_READONLY; binding it again there is -EEXIST;
 *   - the console and an executable object resolve for both users;
 *   - after a daemon restart the durable blob is still root's alone.
 * Needs root, to be the other user.
 */
#define _GNU_SOURCE
#include "helpers.h"

#include <grp.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define OTHER 65534u

static void become(uid_t uid)
{
	if (setgroups(0, NULL) != 0 || setgid(uid) != 0 || setuid(uid) != 0)
		_exit(90);
}

static void put_text(dios_ref_t *ref, const char *text)
{
	dios_iovec_t *iov;
	CHECK_EQ(dios_acquire_write(0, ref, 64, &iov), 0);
	memset(iov->buf, 0, 64);
	memcpy(iov->buf, text, strlen(text) + 1);
	CHECK_EQ(dios_commit_write(0, ref, 64, iov), 0);
	CHECK_EQ(dios_release_write(0, ref, iov), 0);
}

/* The NUL-terminated text at the start of the object's bytes equals want. */
static int has_text(dios_ref_t *ref, const char *want)
{
	dios_iovec_t *iov;
	CHECK_EQ(dios_acquire_read(0, ref, 64, &iov), 0);
	int same = iov->len >= strlen(want) + 1 && memcmp(iov->buf, want, strlen(want) + 1) == 0;
	CHECK_EQ(dios_release_read(0, ref, iov), 0);
	return same;
}

static int look(dios_flags_t f, const dios_name_t *n, dios_ref_t **out)
{
	uint64_t one = 1;
	return dios_lookup(f, n, out, &one);
}

static uint32_t perms(dios_ref_t *ref)
{
	dios_ref_info_t info;
	CHECK_EQ(dios_ref_info(ref, &info), 0);
	return info.perms;
}

/* Runs fn as uid in a fork (a new task of its own); fails the test unless it exits 0. */
static void as_user(uid_t uid, void (*fn)(void))
{
	fflush(NULL);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		alarm(60);
		if (uid != 0)
			become(uid);
		fn();
		_exit(0);
	}
	CHECK_CHILD_OK(c);
}

static dios_name_t secret, pub, blob, exe_name, console;
static char exe_path[PATH_MAX];

static void other_guesses(void)
{
	dios_ref_t *r;
	CHECK_EQ(look(0, &secret, &r), -ENOENT);
	CHECK_EQ(look(D_LOOKUP_READONLY, &secret, &r), -ENOENT);
	CHECK_EQ(look(D_LOOKUP_PUBLIC, &secret, &r), -ENOENT);
	CHECK_EQ(look(D_LOOKUP_PUBLIC | D_LOOKUP_READONLY, &secret, &r), -ENOENT);
	CHECK_EQ(look(0, &blob, &r), -ENOENT);
	CHECK_EQ(look(D_LOOKUP_READONLY, &blob, &r), -ENOENT);
	CHECK_EQ(look(D_LOOKUP_PUBLIC, &blob, &r), -ENOENT);

	/* the same string, bound for itself: no hint that root has one */
	uint64_t size = 4096;
	dios_name_t n = secret;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_SHMEM, &size, &n, &r, 0), 0);
	put_text(r, "uid 65534 was here");

	/* the public name: with D_LOOKUP_PUBLIC only */
	CHECK_EQ(look(0, &pub, &r), -ENOENT);
	CHECK_EQ(look(D_LOOKUP_PUBLIC | D_LOOKUP_READONLY, &pub, &r), 0);
	CHECK_EQ(perms(r), D_PERM_READ);
	CHECK(has_text(r, "for everyone"));
	CHECK_EQ(look(D_LOOKUP_PUBLIC, &pub, &r), 0);
	CHECK_EQ(perms(r), D_PERM_READ | D_PERM_WRITE);
	n = pub;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN | D_CREATE_PUBLIC, D_OBJ_SHMEM, &size, &n, &r, 0), -EEXIST);

	/* names the daemon makes resolve for every user */
	CHECK_EQ(look(0, &console, &r), 0);
	CHECK_EQ(dios_exe(exe_path, &r), 0);
	CHECK_EQ(look(D_LOOKUP_READONLY, &exe_name, &r), 0);
}

static void owner_after_restart(void)
{
	dios_ref_t *r;
	CHECK_EQ(look(D_LOOKUP_READONLY, &blob, &r), 0);
	CHECK(has_text(r, "durable secret"));
	CHECK_EQ(look(0, &secret, &r), -ENOENT);        /* shared memory died with the daemon */
}

static void other_after_restart(void)
{
	dios_ref_t *r;
	CHECK_EQ(look(0, &blob, &r), -ENOENT);
	CHECK_EQ(look(D_LOOKUP_READONLY, &blob, &r), -ENOENT);
	CHECK_EQ(look(D_LOOKUP_PUBLIC, &blob, &r), -ENOENT);
}

static void owner_deletes_blob(void)
{
	dios_ref_t *r;
	CHECK_EQ(look(0, &blob, &r), 0);
	CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, r), 0);
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "skip: needs root, to act as another user\n");
		return T_EXIT_SKIP;
	}
	alarm(150);
	static const char *const args[] = { "--socket-mode", "0666", "--warmup-cycles", "0", NULL };
	dt_daemon_args = args;
	dt_start_daemon();
	CHECK_EQ(chmod(dt_dir(), 0755), 0);              /* uid 65534 may reach the socket */
	dt_register();

	CHECK_EQ(dios_name_from_string("t_red_names/secret", &secret), 0);
	CHECK_EQ(dios_name_from_string("t_red_names/public", &pub), 0);
	CHECK_EQ(dios_name_from_string("t_red_names/blob", &blob), 0);
	CHECK_EQ(dios_name_from_string(DIOS_CONSOLE_NAME_STRING, &console), 0);
	CHECK(realpath("/bin/true", exe_path) != NULL);
	CHECK_EQ(dios_name_from_string(exe_path, &exe_name), 0);

	uint64_t size = 4096;
	dios_ref_t *mine, *shared, *durable, *r;
	dios_name_t n = secret;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_SHMEM, &size, &n, &mine, 0), 0);
	put_text(mine, "root's secret");
	n = pub;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN | D_CREATE_PUBLIC, D_OBJ_SHMEM, &size, &n, &shared, 0), 0);
	put_text(shared, "for everyone");
	n = blob;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_BLOB, &size, &n, &durable, 0), 0);
	put_text(durable, "durable secret");
	CHECK_EQ(dios_exe(exe_path, &r), 0);

	as_user(OTHER, other_guesses);

	/* root still finds its own bytes under its name, not uid 65534's */
	CHECK_EQ(look(D_LOOKUP_READONLY, &secret, &r), 0);
	CHECK(has_text(r, "root's secret"));
	CHECK_EQ(look(0, &pub, &r), -ENOENT);            /* public names only when asked for */
	CHECK_EQ(look(D_LOOKUP_PUBLIC, &pub, &r), 0);
	CHECK(has_text(r, "for everyone"));
	CHECK_EQ(look(0, &console, &r), 0);
	CHECK_EQ(look(D_LOOKUP_READONLY, &exe_name, &r), 0);

	/* a restart: the journal gives the durable name back to root alone */
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", dt_dir());
	dt_stop_daemon_keep_dir();
	dt_start_daemon_in(dir);
	CHECK_EQ(chmod(dir, 0755), 0);
	as_user(0, owner_after_restart);
	as_user(OTHER, other_after_restart);
	as_user(0, owner_deletes_blob);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
