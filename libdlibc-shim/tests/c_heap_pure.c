/*
 * c_heap_pure: the child t_heap_pure spawns, branded Pure DIOS.  Its heap is
 * the DIOS heap, locked: it runs the seed's string workload (heap_strings.h)
 * on it, and checks that brk and anonymous mmap are denied by the kernel
 * while libc's mmap of anonymous memory, threads and file mappings work.
 * It reports on the first FIFO its parent delegated:
 *   "ok HASH BYTES_HELD CALLS"  (then waits for a byte on the second FIFO
 *                                 before it exits, so the parent can look at
 *                                 the daemon's figures for it), or the name
 *   of the failed check.
 *   c_heap_pure checks     the above
 *   c_heap_pure mmap       report, then a raw anonymous mmap (the parent ran
 *                          it with D_RUN_SECCOMP_KILL: it dies of SIGSYS)
 */
#define _GNU_SOURCE
#include <dios/dios.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "heap_strings.h"
#include "pure_report.h"

static dios_ref_t *in;

static int fail(const char *what)
{
	char m[200];
	snprintf(m, sizeof m, "%s (errno %d)", what, errno);
	report(m);
	return 1;
}

#define EXPECT(cond, what) do { if (!(cond)) return fail(what); } while (0)
#define EXPECT_ERRNO(call, e, what) do { \
	errno = 0; \
	long r_ = (long)(call); \
	if (r_ != -1 || errno != (e)) return fail(what); \
} while (0)

static void *thread_main(void *arg)
{
	(void)arg;
	uint64_t h = hs_run(300);               /* threads share the locked heap */
	return (void *)(uintptr_t)h;
}

static int checks(void)
{
	dios_heap_stats_t st;
	EXPECT(dios_heap_stats(&st) == 0, "dios_heap_stats");
	EXPECT(st.mode == DIOS_HEAP_MODE_DIOS, "the heap is not the DIOS heap");
	EXPECT(st.locked == 1, "the heap is not locked");
	size_t glibc_before = mallinfo2().uordblks;

	uint64_t h = hs_run(4000);
	EXPECT(h != 0, "string workload: a string went wrong");

	/* the kernel's routes to unaccounted memory are closed */
	EXPECT_ERRNO(syscall(SYS_mmap, NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
		     ENOSYS, "raw mmap(MAP_PRIVATE|MAP_ANONYMOUS) is not ENOSYS");
	EXPECT_ERRNO(syscall(SYS_mmap, NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0),
		     ENOSYS, "raw mmap(MAP_SHARED|MAP_ANONYMOUS) is not ENOSYS");
	EXPECT_ERRNO(syscall(SYS_mmap, (void *)(64ul << 30), 4096, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0),
		     ENOSYS, "raw mmap(MAP_FIXED_NOREPLACE|MAP_ANONYMOUS) is not ENOSYS");
	EXPECT_ERRNO(syscall(SYS_brk, 0), ENOSYS, "raw brk(0) is not ENOSYS");
	EXPECT_ERRNO(syscall(SYS_brk, (void *)(1ul << 40)), ENOSYS, "raw brk(addr) is not ENOSYS");
	EXPECT_ERRNO(syscall(SYS_mremap, NULL, 4096, 8192, MREMAP_MAYMOVE), ENOSYS, "raw mremap is not ENOSYS");
	errno = 0;
	EXPECT(sbrk(4096) == (void *)-1 && errno == ENOMEM, "sbrk(4096) did not fail with ENOMEM");

	/* libc's mmap of anonymous memory is served by the DIOS heap, and counted */
	dios_heap_stats_t a, b;
	EXPECT(dios_heap_stats(&a) == 0, "dios_heap_stats");
	unsigned char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT(m != MAP_FAILED, "libc mmap(MAP_ANONYMOUS, 1 MiB) failed");
	EXPECT((uintptr_t)m % 4096 == 0, "libc mmap: not page-aligned");
	for (size_t i = 0; i < (1u << 20); i += 4096)
		EXPECT(m[i] == 0, "libc mmap: not zeroed");
	memset(m, 0x5a, 1 << 20);
	EXPECT(dios_heap_stats(&b) == 0 && b.large == a.large + 1, "libc mmap: no DIOS object behind it");
	EXPECT_ERRNO(munmap(m, 4096), EINVAL, "munmap of part of a heap mapping is not EINVAL");
	EXPECT(munmap(m, 1 << 20) == 0, "munmap of the heap mapping failed");
	/* likely the same object again (kept for reuse, larger than asked): zeroed, and unmapped by its own length */
	unsigned char *m2 = mmap(NULL, 900 << 10, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT(m2 != MAP_FAILED, "libc mmap(MAP_ANONYMOUS, 900 KiB) failed");
	for (size_t i = 0; i < (900u << 10); i += 512)
		EXPECT(m2[i] == 0, "libc mmap of a reused block: not zeroed");
	EXPECT(munmap(m2, 900 << 10) == 0, "munmap of a reused heap mapping by its length failed");
	unsigned char *g = mmap(NULL, 64 << 10, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT(g != MAP_FAILED, "libc mmap(PROT_NONE, 64 KiB) failed");
	EXPECT(mprotect(g + 4096, 60 << 10, PROT_READ | PROT_WRITE) == 0, "mprotect of a heap mapping failed");
	memset(g + 4096, 1, 60 << 10);
	EXPECT(munmap(g, 64 << 10) == 0, "munmap of the guarded mapping failed");
	unsigned char *r = malloc(64 << 10);    /* the same pages, usable again (not left PROT_NONE) */
	EXPECT(r != NULL, "malloc after munmap");
	memset(r, 2, 64 << 10);
	free(r);

	/* file mappings are the loader's and the shim's: untouched by the lock */
	int fd = open("/proc/self/exe", O_RDONLY);
	EXPECT(fd >= 0, "open /proc/self/exe");
	void *f = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	EXPECT(f != MAP_FAILED && memcmp(f, "\177ELF", 4) == 0, "file mmap failed");
	munmap(f, 4096);
	close(fd);

	/* threads: their stacks are glibc's MAP_STACK mappings, the one anonymous kind allowed */
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		EXPECT(pthread_create(&t[i], NULL, thread_main, NULL) == 0, "pthread_create");
	for (int i = 0; i < 3; i++) {
		void *res = NULL;
		EXPECT(pthread_join(t[i], &res) == 0, "pthread_join");
		EXPECT((uint64_t)(uintptr_t)res == hs_run(300), "string workload in a thread");
	}

	/* a big block: an object of its own */
	char *big = malloc(8 << 20);
	EXPECT(big != NULL, "malloc(8 MiB)");
	memset(big, 3, 8 << 20);
	free(big);

	EXPECT(mallinfo2().uordblks == glibc_before, "something allocated from glibc's heap after the lock");
	EXPECT(dios_heap_stats(&st) == 0 && st.failures == 0, "the daemon refused memory");
	char msg[160];
	snprintf(msg, sizeof msg, "ok %016llx %llu %llu", (unsigned long long)h, (unsigned long long)st.bytes_held,
		 (unsigned long long)st.daemon_calls);
	report(msg);
	/* wait for the parent's go: it compares the daemon's figure for this task with bytes_held */
	dios_iovec_t *iov = NULL;
	if (dios_acquire_read(0, in, 1, &iov) == 0)
		dios_release_read(0, in, iov);
	return 0;
}

int main(int argc, char **argv)
{
	dios_ref_t *refs[2];
	uint64_t n = 2;
	if (dios_delegated(0, refs, &n) != 0 || n != 2)
		return 2;
	out = refs[0];
	in = refs[1];
	if (argc > 1 && strcmp(argv[1], "mmap") == 0) {
		report("about to mmap");
		syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  /* SIGSYS */
		report("mmap returned");
		return 1;
	}
	return checks();
}
