/*
 * demo_tasks - the seed's fib-with-tasks (listing 4.4) in C: every recursive
 * call spawns a copy of this program as a DIOS task (dios_run of
 * dios_self_exe()), hands it a FIFO for the answer, and adds the two answers.
 *
 *   dios brand --limbo demo_tasks     (once: dios_run starts branded programs only)
 *   dios run ./demo_tasks 7           (prints fib(7) = 13, computed by 41 tasks)
 *
 * A child finds its n in argv[1] and its answer FIFO among the references
 * its parent delegated (dios_delegated).  The answer carries the result and
 * the number of tasks below it.
 */
#include <dios/dios.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

struct answer { uint64_t fib, tasks; };

static void die(const char *what, int rc)
{
	fprintf(stderr, "demo_tasks: %s: %s\n", what, dios_strerror(rc));
	exit(1);
}

/* Spawn fib(n) as a task; returns the FIFO its answer comes on and the task reference. */
static dios_ref_t *spawn(dios_ref_t *exe, long n, dios_ref_t **task)
{
	dios_ref_t *fifo = NULL;
	int rc = dios_create(0, D_OBJ_FIFO, NULL, NULL, &fifo, 0);
	if (rc)
		die("create FIFO", rc);
	char arg[32];
	snprintf(arg, sizeof arg, "%ld", n);
	char *argv[] = { "demo_tasks", arg, "child", NULL };
	dios_task_spec_t spec = { .argc = 3, .argv = argv, .refs = &fifo, .ref_count = 1 };
	if ((rc = dios_run(0, exe, &spec, task)))
		die("dios_run", rc);
	return fifo;
}

static struct answer receive(dios_ref_t *fifo, dios_ref_t *task)
{
	struct answer a;
	dios_iovec_t *iov = NULL;
	int rc = dios_acquire_read(0, fifo, sizeof a, &iov);
	if (rc || iov->len != sizeof a)
		die("read answer", rc ? rc : -EPROTO);
	memcpy(&a, iov->buf, sizeof a);
	dios_release_read(0, fifo, iov);
	int status = 0;
	if ((rc = dios_wait(0, task, &status)))
		die("dios_wait", rc);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "demo_tasks: a child task failed (status 0x%x)\n", status);
		exit(1);
	}
	dios_delete(0, task);
	dios_delete(0, fifo);
	return a;
}

static struct answer fib(long n)
{
	if (n < 2)
		return (struct answer){ (uint64_t)n, 1 };
	dios_ref_t *exe = dios_pickref(dios_self_exe());
	if (!exe)
		die("look up this program's executable", -ENOENT);
	dios_ref_t *t1, *t2;
	dios_ref_t *f1 = spawn(exe, n - 1, &t1);
	dios_ref_t *f2 = spawn(exe, n - 2, &t2);
	struct answer a = receive(f1, t1), b = receive(f2, t2);
	dios_delete(0, exe);
	return (struct answer){ a.fib + b.fib, a.tasks + b.tasks + 1 };
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 7;
	if (n < 0 || n > 15) {
		fprintf(stderr, "usage: demo_tasks [N]   (0 <= N <= 15: fib(N) spawns fib(N+1)*2-1 tasks)\n");
		return 2;
	}
	struct answer a = fib(n);
	if (argc > 2 && strcmp(argv[2], "child") == 0) {
		dios_ref_t *out = NULL;
		uint64_t k = 1;
		int rc = dios_delegated(0, &out, &k);
		if (rc || k != 1)
			die("take the answer FIFO", rc ? rc : -ENOENT);
		dios_iovec_t *iov = NULL;
		if ((rc = dios_acquire_write(0, out, sizeof a, &iov)))
			die("write answer", rc);
		memcpy(iov->buf, &a, sizeof a);
		dios_commit_write(0, out, sizeof a, iov);
		dios_release_write(0, out, iov);
		return 0;
	}
	printf("fib(%ld) = %llu, computed by %llu tasks\n", n, (unsigned long long)a.fib, (unsigned long long)a.tasks);
	return 0;
}
