/*
 * c_pure: the child t_pure spawns, branded Pure DIOS.  Its legacy calls are
 * denied by the launcher's seccomp filter, its DIOS calls work.  It reports
 * each check through the FIFO its parent delegated ("ok" or the failed
 * check's name), so the parent sees exactly what failed.
 *   c_pure checks   run the checks
 *   c_pure socket   call socket() (the parent ran it with D_RUN_SECCOMP_KILL)
 */
#define _GNU_SOURCE
#include <dios/dios.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static dios_ref_t *out;

static void report(const char *msg)
{
	dios_iovec_t *iov = NULL;
	size_t n = strlen(msg);
	if (dios_acquire_write(0, out, n, &iov) != 0)
		_exit(3);
	memcpy(iov->buf, msg, n);
	if (dios_commit_write(0, out, n, iov) != 0 || dios_release_write(0, out, iov) != 0)
		_exit(4);
}

#define EXPECT_ENOSYS(what, call) do { \
	errno = 0; \
	long r_ = (long)(call); \
	if (r_ != -1 || errno != ENOSYS) { \
		char m_[128]; \
		snprintf(m_, sizeof m_, "%s: returned %ld errno %d, not ENOSYS", what, r_, errno); \
		report(m_); \
		return 1; \
	} \
} while (0)

static void *thread_main(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	dios_ref_t *refs[1];
	uint64_t n = 1;
	if (dios_delegated(0, refs, &n) != 0 || n != 1)
		return 2;
	out = refs[0];
	if (argc > 1 && strcmp(argv[1], "socket") == 0) {
		report("about to call socket");
		(void)socket(AF_INET, SOCK_STREAM, 0);  /* killed here with SIGSYS */
		report("socket returned");
		return 1;
	}
	EXPECT_ENOSYS("open O_WRONLY", open("/etc/passwd", O_WRONLY));
	EXPECT_ENOSYS("open O_RDWR|O_CREAT", open("/tmp/c_pure-must-not-exist", O_RDWR | O_CREAT, 0600));
	EXPECT_ENOSYS("socket", socket(AF_UNIX, SOCK_STREAM, 0));
	EXPECT_ENOSYS("fork", fork());
	EXPECT_ENOSYS("execve", execve("/bin/true", (char *[]){ "true", NULL }, (char *[]){ NULL }));
	EXPECT_ENOSYS("kill", kill(getppid(), 0));
	EXPECT_ENOSYS("ptrace", syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0));
	/* what the C runtime and the shim need still works */
	int fd = open("/etc/passwd", O_RDONLY);
	if (fd < 0) {
		report("open O_RDONLY failed");
		return 1;
	}
	close(fd);
	pthread_t th;
	if (pthread_create(&th, NULL, thread_main, NULL) != 0 || pthread_join(th, NULL) != 0) {
		report("pthread_create failed");
		return 1;
	}
	char *p = malloc(1 << 20);
	if (!p) {
		report("malloc failed");
		return 1;
	}
	memset(p, 1, 1 << 20);
	free(p);
	dios_ref_t *mem = NULL;
	uint64_t sz = 4096;
	if (dios_create(0, D_OBJ_SHMEM, &sz, NULL, &mem, 0) != 0 || dios_delete(0, mem) != 0) {
		report("DIOS create/delete failed");
		return 1;
	}
	report("ok");
	return 0;
}
