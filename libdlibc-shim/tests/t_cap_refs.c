/*
 * t_cap_refs - a task cannot use a reference value it did not receive: values
 * taken from another task, enumerated or random guesses, and its own released
 * ones all fail with -EBADF in every call that takes a reference; the only
 * guesses that work are exactly the references it holds.  The owner's objects
 * are untouched.
 */
#include "helpers.h"

#include <limits.h>
#include <string.h>
#include <sys/wait.h>

#define NOWN 5

/*
 * Every call that takes a reference, with v as that reference: each must fail
 * with -EBADF.  mine: a reference we hold; a_task: a writable task reference
 * we hold (a target for dios_copy).
 */
static void all_calls_refuse(uint64_t v, dios_ref_t *mine, dios_ref_t *a_task)
{
	dios_ref_t *x = (dios_ref_t *)(uintptr_t)v, *out = NULL;
	dios_ref_info_t info;
	dios_iovec_t *iov = NULL;
	uint64_t sz = 4096;
	CHECK_EQ(dios_ref_info(x, &info), -EBADF);
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, x, 0, &iov), -EBADF);
	CHECK_EQ(dios_acquire_write(D_NONBLOCK, x, 1, &iov), -EBADF);
	CHECK_EQ(dios_delete(0, x), -EBADF);
	CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, x), -EBADF);
	CHECK_EQ(dios_select(D_NONBLOCK, &x, 1, &out), -EBADF);
	dios_ref_t *pair[2] = { mine, x };
	CHECK_EQ(dios_select(D_NONBLOCK, pair, 2, &out), -EBADF);         /* one bad reference spoils the call */
	CHECK_EQ(dios_copy(0, &x, 1, a_task), -EBADF);                     /* as what is delegated */
	CHECK_EQ(dios_copy(0, &mine, 1, x), -EBADF);                       /* as the target task */
	char *argv[] = { "x", NULL };
	dios_task_spec_t spec = { .argc = 1, .argv = argv };
	CHECK_EQ(dios_run(0, x, &spec, &out), -EBADF);                     /* as the executable */
	spec.refs = &x;
	spec.ref_count = 1;
	CHECK_EQ(dios_run(0, x, &spec, &out), -EBADF);
	dios_name_t n;
	CHECK_EQ(dios_create_in(0, D_OBJ_SHMEM, &sz, &n, &out, x), -EBADF); /* as the group */
	int st;
	CHECK_EQ(dios_wait(D_NONBLOCK, x, &st), -EBADF);
}

/* A task that idles until the FIFO delegated to it ends: the target of the copies. */
static int idle_child(void)
{
	dios_ref_t *r = NULL;
	uint64_t n = 1;
	CHECK_EQ(dios_delegated(0, &r, &n), 0);
	CHECK_EQ(n, 1);
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_acquire_read(0, r, 0, &iov), -EPIPE);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "idle") == 0)
		return idle_child();
	alarm(90);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();

	/* the owner's objects, with data */
	uint64_t size = 8192;
	dios_ref_t *shm = NULL, *fifo = NULL, *blob = NULL, *group = NULL, *exe = NULL;
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &shm, 0), 0);
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, NULL, NULL, &fifo, 0), 0);
	CHECK_EQ(dios_create(0, D_OBJ_BLOB, &size, NULL, &blob, 0), 0);
	CHECK_EQ(dios_create(0, D_OBJ_GROUP, NULL, NULL, &group, 0), 0);
	exe = dios_pickref(dios_self_exe());
	CHECK(exe != NULL);
	dios_iovec_t *w = NULL;
	CHECK_EQ(dios_acquire_write(0, shm, 0, &w), 0);
	dt_fill(w->buf, size, 42);
	CHECK_EQ(dios_commit_write(0, shm, size, w), 0);
	CHECK_EQ(dios_release_write(0, shm, w), 0);
	const uint64_t theirs[] = { (uintptr_t)shm, (uintptr_t)fifo, (uintptr_t)blob, (uintptr_t)group, (uintptr_t)exe,
				    (uintptr_t)dios_self() };
	const int ntheirs = (int)(sizeof theirs / sizeof theirs[0]);

	int from, to;
	pid_t pid = dt_fork_peer(&from, &to);
	if (pid == 0) {
		/* a new task: it holds its own references only; the parent's values are in its memory */
		dios_ref_t *own[NOWN];
		uint64_t sz = 4096;
		own[0] = dios_self();
		CHECK(own[0] != NULL);
		CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &sz, NULL, &own[1], 0), 0);
		CHECK_EQ(dios_create(0, D_OBJ_FIFO, NULL, NULL, &own[2], 0), 0);
		CHECK_EQ(dios_create(0, D_OBJ_GROUP, NULL, NULL, &own[3], 0), 0);
		CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &sz, NULL, &own[4], 0), 0);
		/* a task of our own to copy to (a writable task reference) */
		dios_ref_t *idle_fifo = NULL, *task = NULL;
		CHECK_EQ(dios_create(0, D_OBJ_FIFO, NULL, NULL, &idle_fifo, 0), 0);
		dios_ref_t *myexe = dios_pickref(dios_self_exe());
		CHECK(myexe != NULL);
		char *cargv[] = { "t_cap_refs", "idle", NULL };
		dios_task_spec_t spec = { .argc = 2, .argv = cargv, .refs = &idle_fifo, .ref_count = 1 };
		CHECK_EQ(dios_run(0, myexe, &spec, &task), 0);
		CHECK_EQ(dios_copy(0, &own[1], 1, task), 0);            /* a held reference may be delegated */
		/* everything this task holds, for "only exactly ours work" */
		uint64_t held_ids[NOWN + 3];
		int nheld = 0;
		for (int k = 0; k < NOWN; k++)
			held_ids[nheld++] = (uint64_t)(uintptr_t)own[k];
		held_ids[nheld++] = (uint64_t)(uintptr_t)idle_fifo;
		held_ids[nheld++] = (uint64_t)(uintptr_t)task;
		held_ids[nheld++] = (uint64_t)(uintptr_t)myexe;
		uint64_t tag = (uint64_t)(uintptr_t)own[1] >> 48;
		uint64_t their_tag = theirs[0] >> 48;

		/* 1. values taken from the other task */
		int foreign_checked = 0;
		for (int i = 0; i < ntheirs; i++) {
			int mine_too = 0;
			for (int k = 0; k < nheld; k++)
				mine_too |= held_ids[k] == theirs[i];
			if (mine_too)
				continue;       /* a 1-in-65536 tag collision made it one of ours: nothing gained */
			all_calls_refuse(theirs[i], own[1], task);
			foreign_checked++;
		}
		CHECK(foreign_checked >= ntheirs - 1);

		/* 2. enumerated: every index and low generation under both tags; only exactly ours work */
		int found = 0, tried = 0;
		for (int t = 0; t < 2; t++) {
			uint64_t tg = t == 0 ? tag : their_tag;
			for (uint64_t gen = 0; gen < 4; gen++)
				for (uint64_t idx = 0; idx < 1024; idx++) {
					uint64_t v = tg << 48 | gen << 20 | idx;
					dios_ref_info_t info;
					int rc = dios_ref_info((dios_ref_t *)(uintptr_t)v, &info);
					int held = 0;
					for (int k = 0; k < nheld; k++)
						held |= held_ids[k] == v;
					if (held) {
						CHECK_EQ(rc, 0);
						found++;
					} else {
						CHECK_EQ(rc, -EBADF);
					}
					tried++;
				}
		}
		int ours_in_range = 0;
		for (int k = 0; k < nheld; k++) {
			uint64_t v = held_ids[k];
			ours_in_range += (v & 0xfffff) < 1024 && ((v >> 20) & 0xfffffff) < 4;
		}
		CHECK_EQ(found, ours_in_range);

		/* 3. random guesses */
		uint64_t s = 0x2545F4914F6CDD1Dull ^ (uint64_t)getpid();
		int random_tried = 0;
		for (int i = 0; i < 100000; i++) {
			s ^= s << 13; s ^= s >> 7; s ^= s << 17;
			uint64_t v = i % 2 ? s : (tag << 48) | (s & 0xffffffffffffull);   /* half with our own tag */
			if (v == 0)
				continue;
			int held = 0;
			for (int k = 0; k < nheld; k++)
				held |= held_ids[k] == v;
			dios_ref_info_t info;
			CHECK_EQ(dios_ref_info((dios_ref_t *)(uintptr_t)v, &info), held ? 0 : -EBADF);
			random_tried++;
		}

		/* 4. our own released reference, and after its slot is reused */
		dios_ref_t *gone = own[4];
		CHECK_EQ(dios_delete(0, gone), 0);
		all_calls_refuse((uintptr_t)gone, own[1], task);
		dios_ref_t *again = NULL;
		CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &sz, NULL, &again, 0), 0);
		CHECK((uint64_t)(uintptr_t)again != (uint64_t)(uintptr_t)gone);   /* a new generation */
		dios_ref_info_t info;
		CHECK_EQ(dios_ref_info(gone, &info), -EBADF);
		CHECK_EQ(dios_ref_info(again, &info), 0);

		CHECK_EQ(dios_delete(0, idle_fifo), 0);                  /* the idle task ends */
		int st = -1;
		CHECK_EQ(dios_wait(0, task, &st), 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		fprintf(stderr, "t_cap_refs: %d foreign values x 14 calls, %d enumerated, %d random guesses: -EBADF unless held\n",
			foreign_checked, tried, random_tried);
		dt_send(to, 'k');
		_exit(0);
	}
	CHECK_EQ(dt_recv(from), 'k');
	CHECK_CHILD_OK(pid);

	/* the owner's references still work, and its data is as it wrote it */
	dios_ref_info_t info;
	for (int i = 0; i < ntheirs; i++)
		CHECK_EQ(dios_ref_info((dios_ref_t *)(uintptr_t)theirs[i], &info), 0);
	dios_iovec_t *r = NULL;
	CHECK_EQ(dios_acquire_read(0, shm, 0, &r), 0);
	CHECK_EQ(dt_verify(r->buf, size, 42), -1);
	CHECK_EQ(dios_release_read(0, shm, r), 0);

	CHECK_EQ(dios_delete(0, shm), 0);
	CHECK_EQ(dios_delete(0, fifo), 0);
	CHECK_EQ(dios_delete(0, blob), 0);
	CHECK_EQ(dios_delete(0, group), 0);
	CHECK_EQ(dios_delete(0, exe), 0);
	dios_daemon_stats_t want = base;
	want.objects++;                                 /* the group: its creator stays a member while it lives */
	dios_daemon_stats_t got = dt_wait_stats(&want, 5000);
	CHECK_STATS_EQ(got, want);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
