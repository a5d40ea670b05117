/*
 * t_run: dios_run spawns copies of this program (dios_self_exe) as tasks.
 * Children read the FIFOs their parent delegated and answer on others; the
 * parent checks the answers, the exit statuses through the task references,
 * dios_select firing at exit, a child killed with SIGKILL (its references
 * released: the daemon's counts return to their baseline), dios_copy into a
 * running child (read-only stays read-only), a zombified FIFO waking a
 * blocked child with -EIDRM, an unbranded program refused,
 * and every argument error.
 */
#include "helpers.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#define NCHILD 3
#define WORDS 20000

static int take(dios_ref_t **refs, uint64_t n)
{
	uint64_t got = n;
	int rc = dios_delegated(0, refs, &got);
	if (rc)
		return rc;
	return (int)got;
}

static void put_u64(dios_ref_t *w, uint64_t v)
{
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_acquire_write(0, w, 8, &iov), 0);
	memcpy(iov->buf, &v, 8);
	CHECK_EQ(dios_commit_write(0, w, 8, iov), 0);
	CHECK_EQ(dios_release_write(0, w, iov), 0);
}

static uint64_t get_u64(dios_ref_t *r)
{
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_acquire_read(0, r, 8, &iov), 0);
	CHECK_EQ(iov->len, 8);
	uint64_t v;
	memcpy(&v, iov->buf, 8);
	CHECK_EQ(dios_release_read(0, r, iov), 0);
	return v;
}

/* child "sum": sums the words of its input FIFO until end of stream, writes the sum, exits 7 */
static int child_sum(void)
{
	dios_ref_t *refs[2];
	CHECK_EQ(take(refs, 2), 2);
	uint64_t sum = 0, n = 0;
	for (;;) {
		dios_iovec_t *iov = NULL;
		int rc = dios_acquire_read(0, refs[0], 0, &iov);
		if (rc == -EPIPE)
			break;
		CHECK_EQ(rc, 0);
		const uint64_t *p = iov->buf;
		for (uint64_t i = 0; i < iov->len / 8; i++)
			sum += p[i], n++;
		CHECK_EQ(dios_release_read(0, refs[0], iov), 0);
	}
	CHECK_EQ(n, WORDS);
	put_u64(refs[1], sum);
	return 7;
}

/* child "pid": writes its pid, then blocks reading a FIFO nobody writes (until killed) */
static int child_block(void)
{
	dios_ref_t *refs[2];
	CHECK_EQ(take(refs, 2), 2);
	put_u64(refs[1], (uint64_t)getpid());
	dios_iovec_t *iov = NULL;
	int rc = dios_acquire_read(0, refs[0], 0, &iov);
	return rc == -EIDRM ? 43 : 1;           /* t_zombie uses the same child */
}

/* child "copy": waits for a reference delegated with dios_copy after it started */
static int child_copy(void)
{
	dios_ref_t *r[2];
	int k = take(r, 2);                     /* its answer FIFO first (the spec's), then maybe the copy */
	CHECK(k == 1 || k == 2);
	dios_ref_t *got = k == 2 ? r[1] : NULL;
	uint64_t n = (uint64_t)k - 1;
	for (int i = 0; i < 5000 && n == 0; i++) {
		n = 1;
		CHECK_EQ(dios_delegated(0, &got, &n), 0);
		if (n == 0)
			usleep(1000);
	}
	CHECK_EQ(n, 1);
	dios_ref_info_t info;
	CHECK_EQ(dios_ref_info(got, &info), 0);
	CHECK_EQ(info.type, D_OBJ_SHMEM);
	CHECK_EQ(info.perms, D_PERM_READ);      /* D_COPY_READONLY */
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_acquire_write(0, got, 0, &iov), -EACCES);
	CHECK_EQ(dios_acquire_read(0, got, 0, &iov), 0);
	uint64_t v;
	memcpy(&v, iov->buf, 8);
	CHECK_EQ(dios_release_read(0, got, iov), 0);
	put_u64(r[0], v + 1);
	return 0;
}

static dios_ref_t *fifo(void)
{
	dios_ref_t *r = NULL;
	uint64_t cap = 64 * 1024;
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, &cap, NULL, &r, 0), 0);
	return r;
}

static dios_ref_t *spawn(dios_ref_t *exe, const char *mode, dios_ref_t **refs, uint64_t nrefs)
{
	char *argv[] = { "t_run", (char *)mode, NULL };
	dios_task_spec_t spec = { .argc = 2, .argv = argv, .refs = refs, .ref_count = nrefs };
	dios_ref_t *task = NULL;
	CHECK_EQ(dios_run(0, exe, &spec, &task), 0);
	CHECK(task != NULL);
	return task;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "sum") == 0)
		return child_sum();
	if (argc > 1 && strcmp(argv[1], "block") == 0)
		return child_block();
	if (argc > 1 && strcmp(argv[1], "copy") == 0)
		return child_copy();

	alarm(90);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();

	dios_ref_t *exe = dios_pickref(dios_self_exe());
	CHECK(exe != NULL);
	dios_ref_info_t info;
	CHECK_EQ(dios_ref_info(exe, &info), 0);
	CHECK_EQ(info.type, D_OBJ_EXE);
	CHECK_EQ(info.perms, D_PERM_READ);
	/* the same object by path */
	dios_ref_t *exe2 = NULL;
	CHECK_EQ(dios_exe("/proc/self/exe", &exe2), 0);
	dios_ref_info_t info2;
	CHECK_EQ(dios_ref_info(exe2, &info2), 0);
	CHECK_EQ(info2.object_id, info.object_id);
	CHECK_EQ(dios_delete(0, exe2), 0);

	/* 1. children summing what the parent streams through delegated FIFOs */
	dios_ref_t *in[NCHILD], *out[NCHILD], *task[NCHILD];
	for (int c = 0; c < NCHILD; c++) {
		in[c] = fifo();
		out[c] = fifo();
		dios_ref_t *d[2] = { in[c], out[c] };
		task[c] = spawn(exe, "sum", d, 2);
	}
	uint64_t want[NCHILD] = { 0 };
	for (uint64_t i = 0; i < WORDS; i++)
		for (int c = 0; c < NCHILD; c++) {
			uint64_t v = i * 2654435761u + (uint64_t)c;
			put_u64(in[c], v);
			want[c] += v;
		}
	for (int c = 0; c < NCHILD; c++)
		CHECK_EQ(dios_delete(0, in[c]), 0);     /* end of stream */
	for (int c = 0; c < NCHILD; c++)
		CHECK_EQ(get_u64(out[c]), want[c]);
	/* select on the task references fires at exit; then the status */
	for (int m = NCHILD; m > 0; m--) {
		dios_ref_t *ready = NULL;
		CHECK_EQ(dios_select(0, task, (uint64_t)m, &ready), 0);
		int status = 0;
		CHECK_EQ(dios_wait(D_NONBLOCK, ready, &status), 0);
		CHECK(WIFEXITED(status));
		CHECK_EQ(WEXITSTATUS(status), 7);
		int k = 0;
		while (task[k] != ready)
			k++;
		CHECK_EQ(dios_delete(0, task[k]), 0);
		CHECK_EQ(dios_delete(0, out[k]), 0);
		task[k] = task[m - 1];          /* the live ones stay at the front */
		out[k] = out[m - 1];
	}

	/* 2. kill -9: the child's references go, the status says SIGKILL */
	dios_ref_t *bin = fifo(), *bout = fifo();
	dios_ref_t *bd[2] = { bin, bout };
	dios_ref_t *bt = spawn(exe, "block", bd, 2);
	pid_t bpid = (pid_t)get_u64(bout);
	CHECK(bpid > 0);
	int status = 0;
	CHECK_EQ(dios_wait(D_NONBLOCK, bt, &status), -EAGAIN);
	CHECK_EQ(kill(bpid, SIGKILL), 0);
	CHECK_EQ(dios_wait(0, bt, &status), 0);
	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGKILL);
	/* reading it again gives the same answer */
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_acquire_read(0, bt, 0, &iov), 0);
	CHECK_EQ(iov->len, sizeof(struct dios_task_exit));
	CHECK_EQ(((struct dios_task_exit *)iov->buf)->status, status);
	CHECK_EQ(((struct dios_task_exit *)iov->buf)->pid, (uint32_t)bpid);
	CHECK_EQ(dios_commit_read(0, bt, iov), 0);
	CHECK_EQ(dios_release_read(0, bt, iov), 0);
	CHECK_EQ(dios_release_read(0, bt, iov), -EFAULT);
	CHECK_EQ(dios_delete(0, bt), 0);
	CHECK_EQ(dios_delete(0, bin), 0);
	CHECK_EQ(dios_delete(0, bout), 0);

	/* 3. zombify an object a child is blocked on: it gets -EIDRM at once */
	dios_ref_t *zin = fifo(), *zout = fifo();
	dios_ref_t *zd[2] = { zin, zout };
	dios_ref_t *zt = spawn(exe, "block", zd, 2);
	CHECK(get_u64(zout) > 0);
	usleep(20000);                          /* it is asleep in acquire_read by now (either way it must see -EIDRM) */
	CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, zin), 0);
	CHECK_EQ(dios_wait(0, zt, &status), 0);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 43);
	CHECK_EQ(dios_delete(0, zt), 0);
	CHECK_EQ(dios_delete(0, zout), 0);

	/* 4. dios_copy into a running child, read-only */
	dios_ref_t *ans = fifo();
	dios_ref_t *ct = spawn(exe, "copy", &ans, 1);
	dios_ref_t *mem = NULL;
	uint64_t sz = 4096;
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &sz, NULL, &mem, 0), 0);
	CHECK_EQ(dios_acquire_write(0, mem, 0, &iov), 0);
	uint64_t secret = 0x5eed;
	memcpy(iov->buf, &secret, 8);
	CHECK_EQ(dios_commit_write(0, mem, 8, iov), 0);
	CHECK_EQ(dios_release_write(0, mem, iov), 0);
	CHECK_EQ(dios_copy(D_COPY_READONLY, &mem, 1, ct), 0);
	CHECK_EQ(get_u64(ans), secret + 1);
	CHECK_EQ(dios_wait(0, ct, &status), 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ(dios_copy(0, &mem, 1, ct), -ESRCH);    /* it has exited */
	CHECK_EQ(dios_copy(0, &mem, 1, mem), -EINVAL);  /* not a task */
	CHECK_EQ(dios_copy(0, &mem, 1, dios_self()), -EACCES); /* own task reference: read-only */
	CHECK_EQ(dios_copy(0, &mem, 0, ct), -EINVAL);
	CHECK_EQ(dios_copy(0, &mem, DIOS_MAX_COPY_REFS + 1, ct), -E2BIG);
	CHECK_EQ(dios_delete(0, ct), 0);
	CHECK_EQ(dios_delete(0, ans), 0);

	/* 5. refused: unbranded programs, bad specs */
	dios_ref_t *tru = NULL, *t = NULL;
	CHECK_EQ(dios_exe("/bin/true", &tru), 0);
	char *targv[] = { "true", NULL };
	dios_task_spec_t tspec = { .argc = 1, .argv = targv };
	CHECK_EQ(dios_run(0, tru, &tspec, &t), -ENOEXEC);
	CHECK_EQ(dios_run(0, mem, &tspec, &t), -ENOEXEC);          /* not an executable object */
	CHECK_EQ(dios_exe("/nonexistent/prog", &t), -ENOENT);
	CHECK_EQ(dios_create(0, D_OBJ_EXE, "relative/path", NULL, &t, 0), -EINVAL);
	dios_task_spec_t bad = { .argc = 0, .argv = targv };
	CHECK_EQ(dios_run(0, exe, &bad, &t), -EINVAL);
	CHECK_EQ(dios_run(0, exe, NULL, &t), -EINVAL);
	CHECK_EQ(dios_run(0, exe, &tspec, NULL), -EINVAL);
	CHECK_EQ(dios_run(0, NULL, &tspec, &t), -EBADF);
	CHECK_EQ(dios_run(1ULL << 40, exe, &tspec, &t), -EINVAL);
	dios_ref_t *badref = (dios_ref_t *)(uintptr_t)0x123456;
	dios_task_spec_t bref = { .argc = 1, .argv = targv, .refs = &badref, .ref_count = 1 };
	CHECK_EQ(dios_run(0, exe, &bref, &t), -EBADF);
	dios_ref_t *priv = NULL;
	CHECK_EQ(dios_create(0, D_OBJ_PRIVMEM, &sz, NULL, &priv, 0), 0);
	dios_task_spec_t bpriv = { .argc = 1, .argv = targv, .refs = &priv, .ref_count = 1 };
	CHECK_EQ(dios_run(0, exe, &bpriv, &t), -EACCES);
	dios_task_spec_t bgroup = { .argc = 1, .argv = targv, .groups = &mem, .group_count = 1 };
	CHECK_EQ(dios_run(0, exe, &bgroup, &t), -EINVAL);
	CHECK_EQ(dios_delete(0, priv), 0);
	CHECK_EQ(dios_delete(0, tru), 0);
	CHECK_EQ(dios_delete(0, mem), 0);
	CHECK_EQ(dios_delete(0, exe), 0);

	dios_daemon_stats_t s = dt_wait_stats(&base, 5000);
	CHECK_STATS_EQ(s, base);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
