/*
 * dios_malloc.c - which heap a task uses, and the Pure DIOS heap lock.
 *
 * The mode is chosen once, in libdlibc's constructor (before main and
 * before the program's own constructors), from the environment:
 *   DIOS_PURE set      (dios-launch sets it for Pure DIOS tasks; "kill" with
 *                      --seccomp-kill): the DIOS heap, and the lock below.
 *   DIOS_HEAP=dios     the DIOS heap, without the lock (an opt-in for DIOS
 *                      Limbo and legacy programs, and for tests).
 *   otherwise          glibc's heap: libdlibc's malloc passes every call on.
 *
 * The lock.  dios-launch installs the Pure DIOS seccomp filter before it
 * execs the task, so the loader and glibc's start-up run under it, and they
 * need anonymous memory (the loader's own allocations, zero-filled .bss,
 * TLS) and brk (a static program's TLS).  That filter therefore allows them.
 * Once they are done, in this constructor, libdlibc adds a second filter,
 * which only narrows the first (seccomp filters stack, and the strictest
 * verdict wins):
 *   brk              denied (ENOSYS, or the task dies with --seccomp-kill);
 *   mremap           denied (it could grow anonymous memory);
 *   mmap             with MAP_ANONYMOUS denied, unless MAP_STACK is set:
 *                    glibc maps thread stacks so (pthread_create);
 *                    file mappings (the loader, segments) are not affected.
 * From then on a heap byte can come only from a PRIVMEM object, which the
 * daemon counts.  docs/PURE_DIOS.md says what this does and does not stop.
 *
 * glibc's own brk and mmap wrappers would meet the lock as ENOSYS; for
 * programs that call them, libdlibc serves them instead when the lock is on:
 *   mmap/mmap64      anonymous, not MAP_FIXED: memory from the DIOS heap,
 *                    page-aligned and zeroed (Rust std maps its signal
 *                    stacks so); anything else goes to the kernel as before;
 *   munmap           of exactly such a mapping: back to the heap; EINVAL for
 *                    any other range that starts or ends in the heap's pages;
 *   sbrk, brk        fail with ENOMEM (glibc's would take the kernel's
 *                    ENOSYS for a new break and hand out unmapped memory).
 * mmap, mmap64 and munmap are the heap's, beside malloc (dios_heap.c); sbrk
 * and brk are below.
 */
#include "dios_internal.h"
#include "dios_heap.h"

#include <dlfcn.h>
#include <malloc.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

extern size_t (*dios__libc_usable)(void *);

#define EXPORT __attribute__((visibility("default")))
#define PAGE 4096u

static void say(const char *msg)
{
	ssize_t w = write(STDERR_FILENO, msg, strlen(msg));
	(void)w;
}

#if defined(__x86_64__)
#define LOCK_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define LOCK_ARCH AUDIT_ARCH_AARCH64
#endif

/*
 * The second filter.  0, or -errno (not x86_64/aarch64: -ENOSYS).
 * A call from another architecture is left to the launcher's filter, which
 * kills it.
 */
static int install_lock(int kill)
{
#ifdef LOCK_ARCH
	const uint32_t deny = kill ? SECCOMP_RET_KILL_PROCESS : (SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
	struct sock_filter f[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, LOCK_ARCH, 1, 0),
		/* 2 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* 3 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef SYS_brk
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_brk, 5, 0),             /* -> deny */
#else
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 5, 0),
#endif
		/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mremap, 4, 0),          /* -> deny */
		/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 4),            /* else -> allow */
		/* 7 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[3])),   /* flags, low word */
		/* 8 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, MAP_ANONYMOUS, 0, 2),      /* a file mapping -> allow */
		/* 9 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, MAP_STACK, 1, 0),          /* a thread stack -> allow */
		/* 10 */ BPF_STMT(BPF_RET | BPF_K, deny),
		/* 11 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = (unsigned short)(sizeof f / sizeof f[0]), .filter = f };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0)
		return 0;
	/*
	 * EACCES: no NO_NEW_PRIVS, so not started by dios-launch (which sets it,
	 * and whose filter denies this prctl, killing with --seccomp-kill): set
	 * by hand, DIOS_PURE asks for the lock all the same.
	 */
	if (errno != EACCES || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
		return -errno;
	return 0;
#else
	(void)kill;
	return -ENOSYS;
#endif
}

void dios__heap_start(void)
{
	const char *pure = getenv(DIOS_ENV_PURE);
	const char *heap = getenv(DIOS_ENV_HEAP);
	int is_pure = pure && pure[0];
	int want = is_pure || (heap && strcmp(heap, "dios") == 0);
	/* glibc's malloc_usable_size, for its own blocks; found while the mode is still glibc's */
	dios__libc_usable = (size_t (*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
	if (!want) {
		__atomic_store_n(&dios__heap_mode, DIOS_HEAP_MODE_LIBC, __ATOMIC_RELEASE);
		return;
	}
	if (dios__heap_init() != 0) {
		say("libdlibc: cannot set up the DIOS heap (no address space for its bookkeeping)\n");
		if (is_pure)
			_exit(127);             /* a Pure DIOS task must not run on an unaccounted heap */
		__atomic_store_n(&dios__heap_mode, DIOS_HEAP_MODE_LIBC, __ATOMIC_RELEASE);
		return;
	}
	if (is_pure) {
		/*
		 * glibc's heap keeps what was allocated before this constructor;
		 * frees into it must never try to shrink it through brk (its
		 * brk wrapper would take the lock's ENOSYS for a new break).
		 */
		mallopt(M_TRIM_THRESHOLD, INT32_MAX);
		mallopt(M_MMAP_MAX, 0);
		int rc = install_lock(strcmp(pure, "kill") == 0);
		if (rc != 0) {
			char buf[128];
			snprintf(buf, sizeof buf, "libdlibc: cannot lock the Pure DIOS heap: %s\n", strerror(-rc));
			say(buf);
			_exit(127);
		}
		__atomic_store_n(&dios__heap_locked, 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&dios__heap_mode, DIOS_HEAP_MODE_DIOS, __ATOMIC_RELEASE);
}

/* ---- brk, which glibc would send to the locked kernel ----------------------------------- */

EXPORT void *sbrk(intptr_t inc)
{
	if (__atomic_load_n(&dios__heap_locked, __ATOMIC_RELAXED)) {
		errno = ENOMEM;
		return (void *)-1;
	}
	static void *(*real)(intptr_t);
	if (!real)
		real = (void *(*)(intptr_t))dlsym(RTLD_NEXT, "sbrk");
	if (!real) {
		errno = ENOMEM;
		return (void *)-1;
	}
	return real(inc);
}

EXPORT int brk(void *addr)
{
	if (__atomic_load_n(&dios__heap_locked, __ATOMIC_RELAXED)) {
		errno = ENOMEM;
		return -1;
	}
	static int (*real)(void *);
	if (!real)
		real = (int (*)(void *))dlsym(RTLD_NEXT, "brk");
	if (!real) {
		errno = ENOMEM;
		return -1;
	}
	return real(addr);
}
