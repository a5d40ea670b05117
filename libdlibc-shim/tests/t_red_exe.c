/*
 * t_red_exe: executables are opened once, by the task, with its own credentials (issue 18.1, 18.4, 18.9): a FIFO renamed over a program after dios_exe stops nobody's dios_run, a symlink swapped in does not change what runs, another user cannot reach a file through the daemon (root daemon, uid 65534), and a 4,000-byte d/../d/.. path costs the daemon nothing.
 *
 * The programs are copies of this test (branded like every test) in
 * directories the test makes; run with argv[1] "child" a copy exits 7, and
 * with "mark" it first creates "<its path>.ran".  As root the daemon runs with
 * --socket-mode 0666 and the other user is uid 65534 (a fork that calls
 * setresgid/setresuid); otherwise the other user is another process of ours
 * and case (b) is skipped.
 */
#define _GNU_SOURCE
#include "helpers.h"
#include "redteam.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define OTHER 65534u

static int as_root;
static char dir[64];            /* the attacker's directory (ours) */
static char vdir[64];           /* the victim's directory: 0755, its files 0755 */
static char rdir[64];           /* root's private directory: 0700 */

static void copy_self(const char *to)
{
	int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	CHECK(in >= 0 && out >= 0);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		CHECK_EQ(write(out, buf, (size_t)n), n);
	CHECK_EQ(n, 0);
	CHECK_EQ(fchmod(out, 0755), 0);
	close(in);
	close(out);
}

static void become_other(void)
{
	if (!as_root)
		return;
	if (setgroups(0, NULL) != 0 || setresgid(OTHER, OTHER, OTHER) != 0 || setresuid(OTHER, OTHER, OTHER) != 0)
		_exit(90);
}

/* dios_run of exe with argv {name, how}: its result; with 0, waits and checks the exit status 7. */
static int run_prog(dios_ref_t *exe, const char *how)
{
	char *argv[] = { "prog", (char *)how, NULL };
	dios_task_spec_t spec = { .argc = 2, .argv = argv };
	dios_ref_t *t = NULL;
	int rc = dios_run(0, exe, &spec, &t);
	if (rc == 0) {
		int st = -1;
		CHECK_EQ(dios_wait(0, t, &st), 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 7)
			dt_fail(__FILE__, __LINE__, "the program ended with status %#x, want exit 7", st);
		CHECK_EQ(dios_delete(0, t), 0);
	}
	return rc;
}

/* In a forked process (uid 65534 as root): body(), exit 0 when it returns. */
static void as_other(void (*body)(void))
{
	fflush(NULL);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		alarm(60);
		become_other();
		body();
		_exit(0);
	}
	int st = dt_wait_child(c);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		dt_fail(__FILE__, __LINE__, "the other user's process ended with status %#x", st);
}

/* The victim of (a): its own program runs, more times than the daemon has spawner threads. */
static void victim_runs(void)
{
	char p[128];
	snprintf(p, sizeof p, "%s/prog", vdir);
	dios_ref_t *exe = NULL;
	CHECK_EQ(dios_exe(p, &exe), 0);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(run_prog(exe, "child"), 0);
	CHECK_EQ(dios_delete(0, exe), 0);
}

/* (b) as uid 65534: nothing of root's 0700 directory, whether by path or by name. */
static void other_reaches_root(void)
{
	char p[128];
	snprintf(p, sizeof p, "%s/prog", rdir);
	CHECK_EQ(access(p, R_OK), -1);          /* the user's own open would fail ... */
	CHECK_EQ(errno, EACCES);
	dios_ref_t *exe = NULL;
	CHECK_EQ(dios_exe(p, &exe), -EACCES);   /* ... and so does dios_exe */
	CHECK_EQ(dios_create(0, D_OBJ_EXE, p, NULL, &exe, 0), -EACCES);
	if (access("/root/.bashrc", F_OK) != 0 || errno == EACCES)
		CHECK_EQ(dios_exe("/root/.bashrc", &exe), -EACCES);
	/* root made the object: its name is public, but not root's file behind it */
	dios_name_t n;
	dios_name_from_string(p, &n);
	dios_ref_t *got[1] = { NULL };
	uint64_t cnt = 1;
	CHECK_EQ(dios_lookup(0, &n, got, &cnt), 0);
	CHECK_EQ(cnt, 1);
	CHECK_EQ(run_prog(got[0], "child"), -EACCES);
	CHECK_EQ(dios_delete(0, got[0]), 0);
}

/* The daemon's open descriptors (it is the JVM: dist/bin/diosd execs it). */
static int daemon_fds(void)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/fd", (int)dt_daemon_pid());
	DIR *d = opendir(p);
	CHECK(d != NULL);
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* (c)'s victim: null calls until told to stop; every one succeeds. */
static void nulls_until_stopped(int from, int to)
{
	CHECK_EQ(dios_nop(0), 0);
	dt_send(to, 'r');
	long calls = 0;
	uint64_t end = dt_now_ns() + 30ull * 1000000000ull;
	for (;;) {
		struct timespec z = { 0, 0 };
		fd_set fs;
		FD_ZERO(&fs);
		FD_SET(from, &fs);
		if (pselect(from + 1, &fs, NULL, NULL, &z, NULL) > 0 || dt_now_ns() > end)
			break;
		CHECK_EQ(dios_nop(0), 0);
		calls++;
	}
	CHECK(calls > 0);
	dt_send(to, 'd');
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0)
		return 7;
	if (argc > 1 && strcmp(argv[1], "mark") == 0) {
		char self[PATH_MAX], mark[PATH_MAX + 8];
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		if (n <= 0)
			return 1;
		self[n] = 0;
		snprintf(mark, sizeof mark, "%s.ran", self);
		int fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		return fd >= 0 ? 7 : 1;
	}
	alarm(110);
	as_root = geteuid() == 0;
	static const char *const root_args[] = { "--socket-mode", "0666", NULL };
	if (as_root)
		dt_daemon_args = root_args;
	dt_start_daemon();
	dt_register();
	if (as_root)
		CHECK_EQ(chmod(dt_dir(), 0755), 0);     /* only the socket's mode decides who reaches it */

	snprintf(dir, sizeof dir, "/tmp/t_red_exe-a-XXXXXX");
	snprintf(vdir, sizeof vdir, "/tmp/t_red_exe-v-XXXXXX");
	snprintf(rdir, sizeof rdir, "/tmp/t_red_exe-r-XXXXXX");
	CHECK(mkdtemp(dir) && mkdtemp(vdir) && mkdtemp(rdir));
	CHECK_EQ(chmod(vdir, 0755), 0);
	char prog[128], fifo[128], prog3[128], evil[128], evil_mark[136], link[128], vprog[128], rprog[128];
	snprintf(prog, sizeof prog, "%s/prog", dir);
	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	snprintf(prog3, sizeof prog3, "%s/prog3", dir);
	snprintf(evil, sizeof evil, "%s/evil", dir);
	snprintf(evil_mark, sizeof evil_mark, "%s.ran", evil);
	snprintf(link, sizeof link, "%s/link", dir);
	snprintf(vprog, sizeof vprog, "%s/prog", vdir);
	snprintf(rprog, sizeof rprog, "%s/prog", rdir);
	copy_self(prog);
	copy_self(prog3);
	copy_self(evil);
	copy_self(vprog);
	copy_self(rprog);

	/* (a) a FIFO renamed over the program after dios_exe: the runs fail at once, nothing blocks */
	dios_ref_t *exe = NULL;
	CHECK_EQ(dios_exe(prog, &exe), 0);
	CHECK_EQ(run_prog(exe, "child"), 0);                    /* it runs while it is the file */
	CHECK_EQ(mkfifo(fifo, 0666), 0);
	CHECK_EQ(rename(fifo, prog), 0);
	for (int i = 0; i < 2; i++) {
		uint64_t t0 = dt_now_ns();
		CHECK_EQ(run_prog(exe, "child"), -ENOENT);      /* its file is no longer at its path */
		if (dt_now_ns() - t0 > 20ull * 1000000000ull)
			dt_fail(__FILE__, __LINE__, "dios_run took %.1f s", (dt_now_ns() - t0) / 1e9);
	}
	dios_ref_t *f = NULL;
	CHECK_EQ(dios_exe(prog, &f), -EACCES);                  /* the FIFO itself: not a regular file, no wait */
	CHECK_EQ(dios_create(0, D_OBJ_EXE, prog, NULL, &f, 0), -EACCES);
	as_other(victim_runs);                                  /* another user's dios_run still works */
	CHECK_EQ(dios_delete(0, exe), 0);

	/* a symlink swapped in for the program after dios_exe does not change what runs: nothing does */
	CHECK_EQ(dios_exe(prog3, &exe), 0);
	CHECK_EQ(unlink(prog3), 0);
	CHECK_EQ(symlink(evil, prog3), 0);
	CHECK_EQ(run_prog(exe, "mark"), -ENOENT);
	CHECK_EQ(access(evil_mark, F_OK), -1);                  /* evil never ran */
	CHECK_EQ(dios_exe(prog3, &f), 0);                       /* asked again: the link's target, by its own name */
	dios_ref_info_t ia, ib;
	CHECK_EQ(dios_ref_info(f, &ia), 0);
	dios_ref_t *e2 = NULL;
	CHECK_EQ(dios_exe(evil, &e2), 0);
	CHECK_EQ(dios_ref_info(e2, &ib), 0);
	CHECK_EQ(ia.object_id, ib.object_id);
	CHECK_EQ(dios_create(0, D_OBJ_EXE, prog3, NULL, &f, 0), -EINVAL);   /* not canonical: a symlink */
	CHECK_EQ(dios_delete(0, exe), 0);
	CHECK_EQ(dios_delete(0, e2), 0);
	CHECK_EQ(dios_delete(0, f), 0);

	/* (b) uid 65534 against a root daemon: root's 0700 directory stays root's */
	if (as_root) {
		CHECK_EQ(dios_exe(rprog, &exe), 0);             /* root's own object of it */
		CHECK_EQ(run_prog(exe, "child"), 0);
		as_other(other_reaches_root);
		CHECK_EQ(dios_delete(0, exe), 0);
	} else {
		fprintf(stderr, "skip (b): needs root, to act as uid %u\n", OTHER);
	}

	/* (c) a 4,000-byte d/../d/.. path, over and over, while another task makes null calls */
	char sub[128], longp[4200];
	snprintf(sub, sizeof sub, "%s/d", dir);
	CHECK_EQ(mkdir(sub, 0755), 0);
	size_t k = (size_t)snprintf(longp, sizeof longp, "%s/", dir);
	while (k + 5 + 5 < 4000)
		k += (size_t)snprintf(longp + k, sizeof longp - k, "d/../");
	snprintf(longp + k, sizeof longp - k, "evil");
	CHECK(strlen(longp) >= 3990 && strlen(longp) < DIOS_EXE_PATH_MAX);
	int from, to;
	pid_t peer = dt_fork_peer(&from, &to);
	if (peer == 0) {
		become_other();
		nulls_until_stopped(from, to);
		_exit(0);
	}
	CHECK_EQ(dt_recv(from), 'r');
	dios_name_t want;
	dios_name_from_string(evil, &want);
	struct dt_victim_report base, during;
	dt_victim_baseline(1000, &base);
	struct dt_victim *victim = dt_victim_start();
	int fds0 = daemon_fds(), rounds = 0;
	uint64_t end = dt_now_ns() + 3ull * 1000000000ull;
	for (int i = 0; i < 500 && dt_now_ns() < end; i++, rounds++) {
		CHECK_EQ(dios_exe(longp, &exe), 0);             /* resolved here, in the caller */
		dios_ref_t *got[1] = { NULL };
		uint64_t cnt = 1;
		CHECK_EQ(dios_lookup(0, &want, got, &cnt), 0);  /* named by the canonical path */
		CHECK_EQ(dios_ref_info(got[0], &ia), 0);
		CHECK_EQ(dios_ref_info(exe, &ib), 0);
		CHECK_EQ(ia.object_id, ib.object_id);
		CHECK_EQ(dios_delete(0, got[0]), 0);
		CHECK_EQ(dios_delete(0, exe), 0);
		/* the same path given raw to dios_create: not canonical, refused in the caller */
		CHECK_EQ(dios_create(0, D_OBJ_EXE, longp, NULL, &exe, 0), -EINVAL);
	}
	dt_victim_stop(victim, &during);
	dt_redteam_report("exe: dios_exe of a 4,000-byte d/../d/.. path, over and over", &base, &during);
	dt_send(to, 's');
	CHECK_EQ(dt_recv(from), 'd');
	int st = dt_wait_child(peer);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* each round's file went with its object: the daemon holds no more descriptors than before */
	int fds1 = daemon_fds();
	if (rounds < 20 || fds1 > fds0 + 16)
		dt_fail(__FILE__, __LINE__, "%d rounds; the daemon had %d fds before, %d after", rounds, fds0, fds1);
	memset(longp, 'x', sizeof longp);
	longp[0] = '/';
	longp[sizeof longp - 1] = 0;
	CHECK_EQ(dios_create(0, D_OBJ_EXE, longp, NULL, &exe, 0), -ENAMETOOLONG);

	/* clean up */
	const char *files[] = { prog, prog3, evil, evil_mark, link, vprog, rprog };
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		unlink(files[i]);
	CHECK_EQ(rmdir(sub), 0);
	CHECK_EQ(rmdir(dir), 0);
	CHECK_EQ(rmdir(vdir), 0);
	CHECK_EQ(rmdir(rdir), 0);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
