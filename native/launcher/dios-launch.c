/*
 * dios-launch - the last step between diosd and a DIOS task.
 *
 *   dios-launch --policy pure|limbo|legacy [--brand pure|limbo|legacy] [--seccomp-kill]
 *               [--uid U --gid G] [--env N S1..SN] -- ARGV0 [ARGS...]
 *
 * diosd posix_spawns this with:
 *   fd 0, 1, 2  the task's stdio
 *   fd 3        the task's connected control socket (DIOS_FD=3 is in the environment);
 *               kept open across the exec
 *   fd 4        the executable: the file the task's own dios_exe opened (O_RDONLY, with
 *               its user's credentials), or the daemon's open of /proc/PID/exe for a
 *               task running a copy of itself; never a path the daemon opened
 *   fd 5        the write end of a status pipe
 * and the task's environment as our own, or given with --env (diosd's way:
 * then nothing of the task's environment acts on this process, which may run
 * as root until the uid switch).  We close every other fd, reset
 * signal actions and the signal mask, switch to the task's uid/gid if asked,
 * check the executable's DIOS brand against --brand (default: the policy's
 * own), install the Pure DIOS seccomp filter for --policy pure (see
 * docs/PURE_DIOS.md), and execveat(fd 4).  --brand names a brand that asks
 * for less than --policy gives: diosd runs a Pure DIOS parent's child under
 * --policy pure whatever its brand.  A policy looser than the brand
 * (--policy limbo --brand pure) is refused with EINVAL.
 * A Pure DIOS task also gets DIOS_PURE=1 (DIOS_PURE=kill with --seccomp-kill)
 * in its environment: libdlibc then puts its heap on DIOS private memory and
 * adds the filter that denies brk and anonymous mmap (the heap lock).
 *
 * The status pipe: on success fds 4 and 5 close with the exec (FD_CLOEXEC) and
 * the daemon reads EOF.  On any failure before the exec we write the positive
 * errno as a 4-byte int to fd 5, one line "dios-launch: <what>: <strerror>" to
 * stderr, and _exit(127).  ENOEXEC: unbranded, not ELF, or a brand that is not
 * --brand's; EPERM: the uid/gid switch was refused; EINVAL: bad command line.
 * We print nothing on success.
 *
 * --seccomp-kill applies to --policy pure only (it turns the filter's ENOSYS
 * into SECCOMP_RET_KILL_PROCESS); the other policies ignore it.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <dios/dios_abi.h>
#include <dios/dios_brand.h>

#define FD_CONTROL 3    /* the task's control socket: must survive the exec */
#define FD_EXE     4    /* the executable */
#define FD_STATUS  5    /* the status pipe's write end */

extern char **environ;

/* ---- failure: errno to the status pipe, a line to stderr, exit 127 ---------- */

static _Noreturn void fail(int err, const char *what)
{
	if (err <= 0)
		err = EINVAL;
	dprintf(STDERR_FILENO, "dios-launch: %s: %s\n", what, strerror(err));
	int v = err;
	ssize_t w;
	do
		w = write(FD_STATUS, &v, sizeof v);   /* atomic: a pipe write under PIPE_BUF */
	while (w < 0 && errno == EINTR);
	_exit(127);
}

static _Noreturn void usage(const char *why, const char *arg)
{
	char what[256];
	snprintf(what, sizeof what, "%s%s%s (usage: dios-launch --policy pure|limbo|legacy "
		 "[--brand pure|limbo|legacy] [--seccomp-kill] [--uid U --gid G] [--env N S1..SN] -- ARGV0 [ARGS...])", why, arg ? " " : "", arg ? arg : "");
	fail(EINVAL, what);
}

/* ---- fds ------------------------------------------------------------------- */

static void close_extra_fds(void)
{
	if (syscall(SYS_close_range, 6u, ~0u, 0u) == 0)
		return;
	/* kernels before 5.9 */
	long max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > (1L << 20))
		max = 1L << 20;
	for (long fd = 6; fd < max; fd++)
		close((int)fd);
}

static void set_cloexec(int fd, const char *what)
{
	int fl = fcntl(fd, F_GETFD);
	if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		fail(errno, what);
}

/*
 * A task starts like any process: default signal actions and no signal
 * blocked.  Ignored signals and the mask survive exec, and the daemon's
 * spawning thread may block or ignore some (a JVM does).
 */
static void reset_signals(void)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigemptyset(&dfl.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);     /* glibc's own signals refuse: fine */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* ---- the task's ids --------------------------------------------------------- */

static unsigned long parse_id(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	/* (uid_t)-1 means "unchanged" to setresuid: not an id */
	if (errno || end == s || *end || s[0] == '-' || v >= 0xffffffffUL)
		usage(opt, s);
	return v;
}

static void switch_ids(int have_uid, uid_t uid, int have_gid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0)
		fail(errno, "getresuid/getresgid");
	int need = (have_uid && (ru != uid || eu != uid || su != uid)) ||
		   (have_gid && (rg != gid || eg != gid || sg != gid));
	if (!need)
		return;
	char what[96];
	/* drop the daemon's supplementary groups first: they are not the task's */
	if (setgroups(0, NULL) != 0)
		fail(errno, "setgroups (switching to the task's user needs root)");
	if (have_gid && setresgid(gid, gid, gid) != 0) {
		snprintf(what, sizeof what, "setresgid(%u)", (unsigned)gid);
		fail(errno, what);
	}
	if (have_uid && setresuid(uid, uid, uid) != 0) {
		snprintf(what, sizeof what, "setresuid(%u)", (unsigned)uid);
		fail(errno, what);
	}
}

/* ---- the brand ------------------------------------------------------------- */

static void check_brand(int want, const char *brand)
{
	unsigned char ident[EI_NIDENT];
	size_t got = 0;
	while (got < sizeof ident) {
		ssize_t n = pread(FD_EXE, ident + got, sizeof ident - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail(errno, "reading the executable (fd 4)");
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof ident || memcmp(ident, ELFMAG, SELFMAG) != 0)
		fail(ENOEXEC, "the executable (fd 4) is not an ELF file");
	int b = dios_elf_brand_of(ident);
	char what[160];
	if (b < 0) {
		snprintf(what, sizeof what, "the executable carries no DIOS brand (OSABI 0x%02x ABIVERSION 0x%02x)",
			 ident[EI_OSABI], ident[EI_ABIVERSION]);
		fail(ENOEXEC, what);
	}
	if (b != want) {
		snprintf(what, sizeof what, "the executable is branded %s, not %s (--brand, else --policy)",
			 dios_brand_name(b), brand);
		fail(ENOEXEC, what);
	}
}

/* ---- Pure DIOS: the execveat the filter lets through exactly once -------------- */

/*
 * The filter must let our own execveat through and no later one.  It cannot
 * read memory, only the syscall's register arguments, so it allows execveat
 * only when pathname, argv and envp are three addresses chosen here at random:
 * three separate mappings at page numbers drawn from getrandom(), holding the
 * "" path and copies of the argv and envp pointer arrays.  The exec replaces
 * the address space, so the task starts with none of them mapped and no copy
 * of the numbers anywhere it can read (a filter cannot be read back without
 * CAP_SYS_ADMIN).
 *
 * Residual risk: a task that guesses all three addresses (and uses fd 4 with
 * AT_EMPTY_PATH, which the filter also requires) can exec once more, under the
 * same filter.  Each address is one of about 2^35 pages (4 GiB .. 128 TiB -
 * 16 GiB of the 47-bit address space), so a guess succeeds with about 2^-105,
 * and every wrong guess costs it a syscall (or its life with --seccomp-kill).
 * Even a successful guess escapes nothing: the filter stays on the new image
 * and NO_NEW_PRIVS forbids setuid gains.
 */
#define MAGIC_LO   (1ULL << 32)                        /* above the first 4 GiB */
#define MAGIC_HI   ((1ULL << 47) - (1ULL << 34))       /* below the top of the 47-bit user space */

static void *map_at_random(size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	len = (len + page - 1) / page * page;
	uint64_t span = (MAGIC_HI - MAGIC_LO - len) / page;
	for (int tries = 0; tries < 64; tries++) {
		uint64_t r;
		if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) {
			if (errno == EINTR)
				continue;
			fail(errno, "getrandom");
		}
		uintptr_t want = (uintptr_t)(MAGIC_LO + (r % span) * page);
		void *p = mmap((void *)want, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == (void *)want)
			return p;
		if (p != MAP_FAILED)
			munmap(p, len);         /* a kernel before 4.17 took the address as a hint */
		else if (errno != EEXIST && errno != ENOMEM && errno != EPERM)
			fail(errno, "mmap of the exec arguments");
	}
	fail(EAGAIN, "no free random address for the exec arguments");
}

static char **copy_vector(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	char **c = map_at_random((n + 1) * sizeof *c);
	for (size_t i = 0; i < n; i++)
		c[i] = v[i];
	c[n] = NULL;
	return c;
}

/* A copy of the environment without any DIOS_PURE, with add appended. */
static char **copy_env(char *const *v, char *add)
{
	size_t n = 0, k = 0, plen = strlen(DIOS_ENV_PURE);
	while (v && v[n])
		n++;
	char **c = map_at_random((n + 2) * sizeof *c);
	for (size_t i = 0; i < n; i++)
		if (!(strncmp(v[i], DIOS_ENV_PURE, plen) == 0 && v[i][plen] == '='))
			c[k++] = v[i];
	c[k++] = add;
	c[k] = NULL;
	return c;
}

/*
 * --env N S1 .. SN: the task's environment, given as arguments so that none
 * of it is ours (LD_PRELOAD and the like must not act on the launcher, which
 * may run as root until switch_ids), without any DIOS_PURE (a Limbo task is
 * not one, whatever it was given; a Pure one gets it from copy_env).
 */
static char **env_from_args(char **v, size_t n)
{
	size_t k = 0, plen = strlen(DIOS_ENV_PURE);
	char **c = calloc(n + 1, sizeof *c);
	if (!c)
		fail(ENOMEM, "the task's environment");
	for (size_t i = 0; i < n; i++)
		if (!(strncmp(v[i], DIOS_ENV_PURE, plen) == 0 && v[i][plen] == '='))
			c[k++] = v[i];
	c[k] = NULL;
	return c;
}

struct exec_args {
	const char *path;       /* "" (AT_EMPTY_PATH: fd 4 itself) */
	char **argv;
	char **envp;
};

/* ---- the Pure DIOS seccomp filter (x86_64) --------------------------------- */

#if defined(__x86_64__)

#define MAX_INSNS 1024

struct bpf {
	struct sock_filter f[MAX_INSNS];
	unsigned n;
	uint32_t deny;          /* SECCOMP_RET_ERRNO|ENOSYS, or SECCOMP_RET_KILL_PROCESS */
};

static void op(struct bpf *b, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
	if (b->n >= MAX_INSNS)
		fail(E2BIG, "seccomp filter too long");
	b->f[b->n++] = (struct sock_filter){ .code = code, .jt = jt, .jf = jf, .k = k };
}

#define ARG_LO(i) ((uint32_t)offsetof(struct seccomp_data, args[i]))      /* little-endian */
#define ARG_HI(i) ((uint32_t)offsetof(struct seccomp_data, args[i]) + 4)
#define RET_ALLOW SECCOMP_RET_ALLOW
#define RET_ENOSYS (SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA))

static void ld(struct bpf *b, uint32_t off) { op(b, BPF_LD | BPF_W | BPF_ABS, off, 0, 0); }
static void ret(struct bpf *b, uint32_t k) { op(b, BPF_RET | BPF_K, k, 0, 0); }

/*
 * A block runs when the syscall number is nr.  It may clobber the accumulator
 * and must end in a return: a syscall that does not match skips it with the
 * number still loaded.
 */
static unsigned block_begin(struct bpf *b, int nr)
{
	unsigned at = b->n;
	op(b, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 0);
	return at;
}

static void block_end(struct bpf *b, unsigned at)
{
	unsigned skip = b->n - at - 1;
	if (skip > 255)
		fail(E2BIG, "seccomp filter block too long");
	b->f[at].jf = (uint8_t)skip;
}

/* nr: always allowed. */
static void allow(struct bpf *b, int nr)
{
	unsigned at = block_begin(b, nr);
	ret(b, RET_ALLOW);
	block_end(b, at);
}

/* nr: always the action k (clone3's ENOSYS). */
static void always(struct bpf *b, int nr, uint32_t k)
{
	unsigned at = block_begin(b, nr);
	ret(b, k);
	block_end(b, at);
}

/* nr: allowed when none of mask's bits is set in the low 32 bits of argument arg. */
static void allow_if_none(struct bpf *b, int nr, int arg, uint32_t mask)
{
	unsigned at = block_begin(b, nr);
	ld(b, ARG_LO(arg));
	op(b, BPF_JMP | BPF_JSET | BPF_K, mask, 0, 1);
	ret(b, b->deny);
	ret(b, RET_ALLOW);
	block_end(b, at);
}

/* nr: allowed when the low 32 bits of argument arg are one of vals. */
static void allow_if_one_of(struct bpf *b, int nr, int arg, const uint32_t *vals, unsigned nvals)
{
	unsigned at = block_begin(b, nr);
	ld(b, ARG_LO(arg));
	for (unsigned i = 0; i < nvals; i++)
		op(b, BPF_JMP | BPF_JEQ | BPF_K, vals[i], (uint8_t)(nvals - i), 0);  /* -> RET_ALLOW */
	ret(b, b->deny);
	ret(b, RET_ALLOW);
	block_end(b, at);
}

struct word_eq {
	uint32_t off;           /* into struct seccomp_data */
	uint32_t val;
};

/* nr: allowed when every word equals its value. */
static void allow_if_all(struct bpf *b, int nr, const struct word_eq *w, unsigned nw)
{
	unsigned at = block_begin(b, nr);
	for (unsigned i = 0; i < nw; i++) {
		ld(b, w[i].off);
		/* on a mismatch jump to the deny: past the remaining 2*(nw-i-1) checks and the allow */
		op(b, BPF_JMP | BPF_JEQ | BPF_K, w[i].val, 0, (uint8_t)(2 * (nw - i - 1) + 1));
	}
	ret(b, RET_ALLOW);
	ret(b, b->deny);
	block_end(b, at);
}

/* The namespace flags: no new namespaces, even for a thread. */
#define CLONE_NS_FLAGS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
			CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

/*
 * The allowlist.  docs/PURE_DIOS.md gives the reason for every entry; keep the
 * two in step.  The most frequent calls come first, though for the calls
 * allowed whatever their arguments the kernel (5.11+) caches the verdict and
 * skips the filter altogether.
 */
static void build_filter(struct bpf *b, const struct exec_args *ex, int kill_mode)
{
	b->n = 0;
	b->deny = kill_mode ? SECCOMP_RET_KILL_PROCESS : RET_ENOSYS;

	/* x86_64 only: an i386 call (int 0x80) kills; x32 calls are denied */
	ld(b, (uint32_t)offsetof(struct seccomp_data, arch));
	op(b, BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	ret(b, SECCOMP_RET_KILL_PROCESS);
	ld(b, (uint32_t)offsetof(struct seccomp_data, nr));
	op(b, BPF_JMP | BPF_JSET | BPF_K, __X32_SYSCALL_BIT, 0, 1);
	ret(b, b->deny);

	/* the shim's hot path: rings, futexes, doorbell, control socket, segments */
	static const int hot[] = {
		SYS_futex, SYS_read, SYS_write, SYS_sendmsg, SYS_recvmsg, SYS_poll, SYS_ppoll,
		SYS_mmap, SYS_munmap, SYS_sched_yield, SYS_nanosleep, SYS_clock_nanosleep,
		SYS_clock_gettime, SYS_getpid, SYS_gettid, SYS_madvise, SYS_mprotect,
	};
	for (size_t i = 0; i < sizeof hot / sizeof hot[0]; i++)
		allow(b, hot[i]);

	/* read-only opens only: the loader opens libraries, the runtimes read /proc */
	const uint32_t write_flags = O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND;
	allow_if_none(b, SYS_openat, 2, write_flags);
	allow_if_none(b, SYS_open, 1, write_flags);

	/* threads: clone with CLONE_THREAD and no new namespace; no fork, no vfork */
	{
		unsigned at = block_begin(b, SYS_clone);
		ld(b, ARG_LO(0));
		op(b, BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 2);     /* no thread: deny */
		op(b, BPF_JMP | BPF_JSET | BPF_K, CLONE_NS_FLAGS, 1, 0);   /* namespace: deny */
		ret(b, RET_ALLOW);
		ret(b, b->deny);
		block_end(b, at);
	}
	/* clone3's flags are in memory, out of the filter's reach: ENOSYS, also with
	 * --seccomp-kill, so glibc falls back to clone */
	always(b, SYS_clone3, RET_ENOSYS);

	/* signals to this process only (raise, abort, pthread_kill) */
	{
		struct word_eq self[] = { { ARG_LO(0), (uint32_t)getpid() } };
		allow_if_all(b, SYS_tgkill, self, 1);
	}

	/* the launcher's own execveat, and no other exec */
	{
		uintptr_t p = (uintptr_t)ex->path, a = (uintptr_t)ex->argv, e = (uintptr_t)ex->envp;
		struct word_eq w[] = {
			{ ARG_LO(0), FD_EXE },
			{ ARG_LO(1), (uint32_t)p }, { ARG_HI(1), (uint32_t)((uint64_t)p >> 32) },
			{ ARG_LO(2), (uint32_t)a }, { ARG_HI(2), (uint32_t)((uint64_t)a >> 32) },
			{ ARG_LO(3), (uint32_t)e }, { ARG_HI(3), (uint32_t)((uint64_t)e >> 32) },
			{ ARG_LO(4), AT_EMPTY_PATH },
		};
		allow_if_all(b, SYS_execveat, w, sizeof w / sizeof w[0]);
	}

	/*
	 * adding a filter, which can only narrow this one: libdlibc's heap lock
	 * (SECCOMP_SET_MODE_FILTER, no flags: no TSYNC, no listener, no log)
	 */
	{
		struct word_eq w[] = {
			{ ARG_LO(0), SECCOMP_SET_MODE_FILTER }, { ARG_HI(0), 0 },
			{ ARG_LO(1), 0 }, { ARG_HI(1), 0 },
		};
		allow_if_all(b, SYS_seccomp, w, sizeof w / sizeof w[0]);
	}

	/* resource limits: read our own, set none (prlimit64(0, res, NULL, old)) */
	{
		struct word_eq w[] = { { ARG_LO(0), 0 }, { ARG_LO(2), 0 }, { ARG_HI(2), 0 } };
		allow_if_all(b, SYS_prlimit64, w, sizeof w / sizeof w[0]);
	}

	/* terminal queries only (isatty, window size), not TIOCSTI and friends */
	{
		static const uint32_t v[] = { TCGETS, TIOCGWINSZ, FIONREAD, FIONBIO };
		allow_if_one_of(b, SYS_ioctl, 1, v, sizeof v / sizeof v[0]);
	}
	/* fd flags and duplication; not F_SETOWN (signals to others), locks or leases */
	{
		static const uint32_t v[] = { F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL,
					      F_DUPFD_CLOEXEC, F_GET_SEALS };
		allow_if_one_of(b, SYS_fcntl, 1, v, sizeof v / sizeof v[0]);
	}
	/* thread names (Rust std names its threads) */
	{
		static const uint32_t v[] = { PR_SET_NAME, PR_GET_NAME, PR_SET_VMA };
		allow_if_one_of(b, SYS_prctl, 0, v, sizeof v / sizeof v[0]);
	}

	static const int rest[] = {
		/* memory */
		SYS_brk, SYS_mremap,
		/* I/O on fds the task holds */
		SYS_readv, SYS_writev, SYS_pread64, SYS_pwrite64, SYS_preadv, SYS_pwritev,
		SYS_preadv2, SYS_pwritev2, SYS_lseek, SYS_close, SYS_close_range,
		SYS_dup, SYS_dup2, SYS_dup3,
		SYS_sendto, SYS_recvfrom, SYS_shutdown, SYS_getsockopt, SYS_getsockname, SYS_getpeername,
		SYS_select, SYS_pselect6,
		/* file metadata and directory reads (read-only, like the opens) */
		SYS_fstat, SYS_stat, SYS_lstat, SYS_newfstatat, SYS_statx, SYS_fstatfs,
		SYS_access, SYS_faccessat, SYS_faccessat2, SYS_readlink, SYS_readlinkat,
		SYS_getdents64, SYS_getcwd,
		/* threads and their runtime */
		SYS_set_robust_list, SYS_set_tid_address, SYS_rseq, SYS_arch_prctl,
		SYS_sched_getaffinity, SYS_exit, SYS_exit_group,
		/* signals, in this process */
		SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_sigaltstack,
		SYS_restart_syscall,
		/* time, randomness, identity */
		SYS_clock_getres, SYS_gettimeofday, SYS_time, SYS_getrandom,
		SYS_getppid, SYS_getuid, SYS_geteuid, SYS_getgid, SYS_getegid,
		SYS_getresuid, SYS_getresgid, SYS_getgroups, SYS_getrlimit, SYS_getrusage,
		SYS_uname, SYS_sysinfo, SYS_getcpu,
	};
	for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++)
		allow(b, rest[i]);

	/* everything else: ENOSYS, or the process dies with --seccomp-kill */
	ret(b, b->deny);
}

static void install_pure_filter(const struct exec_args *ex, int kill_mode)
{
	static struct bpf b;
	build_filter(&b, ex, kill_mode);
	/* unprivileged seccomp needs it; it also forbids setuid gains for the task */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		fail(errno, "prctl(PR_SET_NO_NEW_PRIVS)");
	struct sock_fprog prog = { .len = (unsigned short)b.n, .filter = b.f };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
		fail(errno, "seccomp(SECCOMP_SET_MODE_FILTER)");
}

#else

static void install_pure_filter(const struct exec_args *ex, int kill_mode)
{
	(void)ex;
	(void)kill_mode;
	fail(ENOSYS, "no Pure DIOS seccomp filter for this architecture");
}

#endif

/* A --policy or --brand word as its brand: DIOS_BRAND_*, or usage(). */
static int brand_of_word(const char *opt, const char *w)
{
	if (strcmp(w, "pure") == 0)
		return DIOS_BRAND_PURE;
	if (strcmp(w, "limbo") == 0)
		return DIOS_BRAND_LIMBO;
	if (strcmp(w, "legacy") == 0)
		return DIOS_BRAND_LEGACY_LIMBO;
	usage(opt, w);
}

/* ---- main ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	/* first, so no fd of the daemon's reaches the task, whatever fails next */
	close_extra_fds();
	reset_signals();

	const char *policy = NULL, *brand = NULL;
	int kill_mode = 0, have_uid = 0, have_gid = 0, i;
	uid_t uid = 0;
	gid_t gid = 0;
	char **task_env = NULL;                 /* --env: the task's; else our own */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strcmp(a, "--policy") == 0 && i + 1 < argc) {
			policy = argv[++i];
		} else if (strcmp(a, "--brand") == 0 && i + 1 < argc) {
			brand = argv[++i];
		} else if (strcmp(a, "--seccomp-kill") == 0) {
			kill_mode = 1;
		} else if (strcmp(a, "--uid") == 0 && i + 1 < argc) {
			uid = (uid_t)parse_id(a, argv[++i]);
			have_uid = 1;
		} else if (strcmp(a, "--gid") == 0 && i + 1 < argc) {
			gid = (gid_t)parse_id(a, argv[++i]);
			have_gid = 1;
		} else if (strcmp(a, "--env") == 0 && i + 1 < argc) {
			long n = parse_id(a, argv[++i]);
			if (n > argc - i - 1)
				usage("--env: fewer strings than its count", argv[i]);
			task_env = env_from_args(argv + i + 1, (size_t)n);
			i += (int)n;
		} else {
			usage("bad argument", a);
		}
	}
	if (i >= argc)
		usage("no task command line after --", NULL);
	if (!policy)
		usage("no --policy", NULL);
	int want = brand_of_word("unknown --policy", policy);
	/* the brand the program must carry: --policy's own, or one that asks for less than
	 * --policy gives (a Pure DIOS parent's child); never more, which would loosen it */
	if (!brand)
		brand = policy;
	int want_brand = brand_of_word("unknown --brand", brand);
	if (want_brand == DIOS_BRAND_PURE && want != DIOS_BRAND_PURE)
		usage("--brand pure needs --policy pure, not", policy);
	char **task_argv = argv + i;

	/* fds 4 and 5 go with the exec (fd 4 still executes under AT_EMPTY_PATH);
	 * fd 3 must not */
	set_cloexec(FD_STATUS, "the status pipe (fd 5)");
	set_cloexec(FD_EXE, "the executable (fd 4)");
	int fl = fcntl(FD_CONTROL, F_GETFD);
	if (fl >= 0 && (fl & FD_CLOEXEC))
		fcntl(FD_CONTROL, F_SETFD, fl & ~FD_CLOEXEC);

	if (have_uid || have_gid)
		switch_ids(have_uid, uid, have_gid, gid);

	check_brand(want_brand, brand);

	struct exec_args ex = { "", task_argv, task_env ? task_env : environ };
	if (want != DIOS_BRAND_PURE && !task_env)
		unsetenv(DIOS_ENV_PURE);        /* a Limbo task is not one, whatever it was given */
	if (want == DIOS_BRAND_PURE) {
		char *path = map_at_random(1);
		path[0] = '\0';
		ex.path = path;
		ex.argv = copy_vector(task_argv);
		ex.envp = copy_env(ex.envp, kill_mode ? DIOS_ENV_PURE "=kill" : DIOS_ENV_PURE "=1");
		install_pure_filter(&ex, kill_mode);
	}
	syscall(SYS_execveat, FD_EXE, ex.path, ex.argv, ex.envp, AT_EMPTY_PATH);
	char what[300];
	snprintf(what, sizeof what, "execveat of %s (fd 4)", task_argv[0]);
	fail(errno, what);
}
