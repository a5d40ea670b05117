/* t_readonly: a D_LOOKUP_READONLY reference reads but cannot write: -EACCES, a PROT_READ mapping that cannot be made writable, SIGSEGV on a forced store. */
#define _GNU_SOURCE
#include "helpers.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define SIZE 16384

int main(void)
{
	alarm(60);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();

	uint64_t size = SIZE;
	dios_name_t name;
	dios_ref_t *rw = NULL;
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, &name, &rw, 0), 0);
	dios_iovec_t *w = NULL;
	CHECK_EQ(dios_acquire_write(0, rw, 0, &w), 0);
	dt_fill(w->buf, SIZE, 7);
	CHECK_EQ(dios_commit_write(0, rw, SIZE, w), 0);
	CHECK_EQ(dios_release_write(0, rw, w), 0);

	dios_ref_t *ro = NULL;
	uint64_t count = 1;
	CHECK_EQ(dios_lookup(D_LOOKUP_READONLY, &name, &ro, &count), 0);
	CHECK_EQ(count, 1);
	dios_ref_info_t info;
	CHECK_EQ(dios_ref_info(ro, &info), 0);
	CHECK_EQ(info.perms, D_PERM_READ);
	CHECK_EQ(info.type, D_OBJ_SHMEM);
	CHECK_EQ(info.size, SIZE);

	/* no write buffer for a read-only reference, and no zombify without D_PERM_DELETE */
	dios_iovec_t *x = NULL;
	CHECK_EQ(dios_acquire_write(0, ro, 0, &x), -EACCES);
	CHECK_EQ(dios_acquire_write(0, ro, 16, &x), -EACCES);
	CHECK(x == NULL);
	CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, ro), -EACCES);
	CHECK_EQ(dios_ref_info(ro, &info), 0);       /* the refused delete released nothing */
	CHECK_EQ(info.state & D_REF_STATE_ZOMBIE, 0);

	/* reading works and sees the data */
	dios_iovec_t *rd = NULL;
	CHECK_EQ(dios_acquire_read(0, ro, 0, &rd), 0);
	CHECK_EQ(rd->len, SIZE);
	CHECK_EQ(dt_verify(rd->buf, SIZE, 7), -1);
	CHECK_EQ(dios_commit_read(0, ro, rd), 0);

	/* the mapping is read-only, although this task also holds a writable reference */
	long pg = sysconf(_SC_PAGESIZE);
	void *page = (void *)((uintptr_t)rd->buf & ~(uintptr_t)(pg - 1));
	errno = 0;
	int mp = mprotect(page, (size_t)pg, PROT_READ | PROT_WRITE);
	if (mp == 0)
		dt_fail(__FILE__, __LINE__, "mprotect(PROT_READ|PROT_WRITE) on a read-only reference's buffer succeeded");
	CHECK_EQ(errno, EACCES);

	/* a forced store from a child (which only uses what it inherited) dies with SIGSEGV */
	int pfd[2];
	CHECK_EQ(pipe(pfd), 0);
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no_core);
		signal(SIGSEGV, SIG_DFL);
		close(pfd[0]);
		/* the mapping is there and readable: say so, then store */
		volatile uint8_t *p = rd->buf;
		char ok = dt_verify(rd->buf, SIZE, 7) == -1 ? 'R' : 'X';
		dt_send(pfd[1], ok);
		p[SIZE / 2] = (uint8_t)~p[SIZE / 2];
		dt_send(pfd[1], 'W');   /* must not get here */
		_exit(0);
	}
	close(pfd[1]);
	CHECK_EQ(dt_recv(pfd[0]), 'R');
	int st = dt_wait_child(pid);
	{
		char c;
		ssize_t n = read(pfd[0], &c, 1);
		CHECK_EQ(n, 0);   /* the child never reported a successful store */
	}
	close(pfd[0]);
	if (!WIFSIGNALED(st))
		dt_fail(__FILE__, __LINE__, "child storing into a read-only buffer exited with %d instead of dying",
			WEXITSTATUS(st));
	CHECK_EQ(WTERMSIG(st), SIGSEGV);

	/* the parent is unaffected and the data is intact */
	CHECK_EQ(dios_nop(0), 0);
	CHECK_EQ(dt_verify(rd->buf, SIZE, 7), -1);
	CHECK_EQ(dios_commit_read(0, ro, rd), 0);
	CHECK_EQ(dios_release_read(0, ro, rd), 0);

	/* the writable reference still writes, and the read-only one sees it */
	CHECK_EQ(dios_acquire_read(0, ro, 0, &rd), 0);
	CHECK_EQ(dios_acquire_write(0, rw, 0, &w), 0);
	CHECK(w->buf != rd->buf);   /* different protections: different mappings */
	dt_fill(w->buf, SIZE, 8);
	CHECK_EQ(dios_commit_write(0, rw, SIZE, w), 0);
	CHECK_EQ(dios_commit_read(0, ro, rd), -ESTALE);
	CHECK_EQ(dt_verify(rd->buf, SIZE, 8), -1);
	CHECK_EQ(dios_release_write(0, rw, w), 0);
	CHECK_EQ(dios_release_read(0, ro, rd), 0);

	/* a read-only reference may still be released; the object lives on through rw */
	CHECK_EQ(dios_delete(0, ro), 0);
	CHECK_EQ(dios_delete(0, rw), 0);
	dios_daemon_stats_t s = dt_stats();
	CHECK_STATS_EQ(s, base);

	/* read-only reference outliving the writer: the mapping is still read-only */
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, &name, &rw, 0), 0);
	count = 1;
	CHECK_EQ(dios_lookup(D_LOOKUP_READONLY, &name, &ro, &count), 0);
	CHECK_EQ(dios_delete(0, rw), 0);
	CHECK_EQ(dios_acquire_read(0, ro, 0, &rd), 0);
	page = (void *)((uintptr_t)rd->buf & ~(uintptr_t)(pg - 1));
	errno = 0;
	CHECK_EQ(mprotect(page, (size_t)pg, PROT_READ | PROT_WRITE), -1);
	CHECK_EQ(errno, EACCES);
	CHECK_EQ(dios_acquire_write(0, ro, 0, &x), -EACCES);
	CHECK_EQ(dios_release_read(0, ro, rd), 0);
	CHECK_EQ(dios_delete(0, ro), 0);
	s = dt_stats();
	CHECK_STATS_EQ(s, base);

	dt_stop_daemon();
	return T_EXIT_PASS;
}
