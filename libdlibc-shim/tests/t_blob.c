/* t_blob: D_OBJ_BLOB: empty and sized creation, growth on write across mapping generations, read-only mappings, a task truncating the file, and durability: committed bytes and names survive kill -9 of the daemon, deleted and anonymous blobs and SHMEM names do not. */
#define _GNU_SOURCE
#include "helpers.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define DURABLE_SIZE  300000u   /* committed size of the durable blob */
#define GROWN_SIZE    600000u   /* its uncommitted growth at the kill */

static char blob_dir[PATH_MAX];

/* Regular files in the state's blob directory. */
static int blob_files(void)
{
	DIR *d = opendir(blob_dir);
	if (!d)
		dt_fail(__FILE__, __LINE__, "opendir %s: %s", blob_dir, strerror(errno));
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Occurrences of needle in the daemon's log (every run of this test's daemons appends to it). */
static int log_count(const char *needle)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/diosd.log", dt_dir());
	FILE *f = fopen(path, "r");
	if (!f)
		dt_fail(__FILE__, __LINE__, "fopen %s: %s", path, strerror(errno));
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	int c = 0;
	for (char *p = buf; (p = strstr(p, needle)); p++)
		c++;
	return c;
}

/* The path of the blob file mapped at addr, from /proc/self/maps. */
static void mapped_path(const void *addr, char *out, size_t cap)
{
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f != NULL);
	char line[PATH_MAX + 128];
	out[0] = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2 || (uintptr_t)addr < lo || (uintptr_t)addr >= hi)
			continue;
		char *p = strchr(line, '/');
		CHECK(p != NULL);
		p[strcspn(p, "\n")] = 0;
		snprintf(out, cap, "%s", p);
		break;
	}
	fclose(f);
	if (!out[0])
		dt_fail(__FILE__, __LINE__, "no mapping of %p in /proc/self/maps", addr);
	if (!strstr(out, "/state/blobs/"))
		dt_fail(__FILE__, __LINE__, "blob buffer maps %s, not a file in the state's blob directory", out);
}

static dios_ref_info_t info_of(dios_ref_t *r)
{
	dios_ref_info_t i;
	memset(&i, 0xa5, sizeof i);
	CHECK_EQ(dios_ref_info(r, &i), 0);
	return i;
}

static void arguments(void)
{
	dios_ref_t *x = NULL;
	uint64_t big = DIOS_MAX_OBJECT_SIZE + 1, neg = (uint64_t)-1;
	CHECK_EQ(dios_create(0, D_OBJ_BLOB, &big, NULL, &x, 0), -EINVAL);
	CHECK_EQ(dios_create(0, D_OBJ_BLOB, &neg, NULL, &x, 0), -EINVAL);
	CHECK(x == NULL);
}

/* An anonymous blob created empty grows on write; older mappings stay valid. */
static void growth(void)
{
	dios_daemon_stats_t base = dt_stats();
	int files = blob_files();
	dios_ref_t *a = NULL;
	CHECK_EQ(dios_create(0, D_OBJ_BLOB, NULL, NULL, &a, 0), 0);
	CHECK_EQ(blob_files(), files + 1);
	dios_ref_info_t i = info_of(a);
	CHECK_EQ(i.type, D_OBJ_BLOB);
	CHECK_EQ(i.size, 0);
	CHECK_EQ(i.perms, D_PERM_READ | D_PERM_WRITE | D_PERM_DELETE);
	CHECK_EQ(i.state, D_REF_STATE_READABLE | D_REF_STATE_WRITABLE);

	/* reads stay within the committed size */
	dios_iovec_t *r = NULL, *w = NULL, *w2 = NULL, *x = NULL;
	CHECK_EQ(dios_acquire_read(0, a, 1, &x), -EINVAL);
	CHECK_EQ(dios_acquire_read(0, a, 0, &r), 0);
	CHECK_EQ(r->len, 0);
	CHECK_EQ(dios_release_read(0, a, r), 0);
	CHECK_EQ(dios_acquire_write(0, a, DIOS_MAX_OBJECT_SIZE + 1, &x), -EINVAL);
	CHECK_EQ(dios_acquire_write(0, a, (uint64_t)-1, &x), -EINVAL);
	CHECK(x == NULL);

	/* a write past the end: the size changes only at the commit */
	CHECK_EQ(dios_acquire_write(0, a, 5000, &w), 0);
	CHECK_EQ(w->len, 5000);
	dt_fill(w->buf, 5000, 1);
	CHECK_EQ(info_of(a).size, 0);
	CHECK_EQ(dios_acquire_read(0, a, 1, &x), -EINVAL);
	CHECK_EQ(dios_commit_write(0, a, 5001, w), -EINVAL);
	CHECK_EQ(dios_commit_write(0, a, 5000, w), 0);
	CHECK_EQ(info_of(a).size, 5000);
	CHECK_EQ(dios_acquire_read(0, a, 0, &r), 0);
	CHECK_EQ(r->len, 5000);
	CHECK_EQ(dt_verify(r->buf, 5000, 1), -1);
	/* w is still out: a write is in progress, so the read cannot validate */
	CHECK_EQ(dios_commit_read(0, a, r), -ESTALE);
	/* a smaller commit publishes bytes but never shrinks the blob */
	CHECK_EQ(dios_commit_write(0, a, 10, w), 0);
	CHECK_EQ(info_of(a).size, 5000);
	CHECK_EQ(dios_commit_read(0, a, r), -ESTALE);

	/* past the first mapping (64 KiB): a new generation; the old buffers stay usable */
	CHECK_EQ(dios_acquire_write(0, a, 200000, &w2), 0);
	CHECK_EQ(w2->len, 200000);
	CHECK(w2->buf != w->buf);
	dt_fill(w->buf, 5000, 2);                    /* through the old mapping ... */
	CHECK_EQ(dt_verify(w2->buf, 5000, 2), -1);  /* ... the same file pages */
	dt_fill(w2->buf, 200000, 3);
	CHECK_EQ(dt_verify(r->buf, 5000, 3), -1);
	CHECK_EQ(dios_commit_write(0, a, 200000, w2), 0);
	CHECK_EQ(info_of(a).size, 200000);
	CHECK_EQ(dios_commit_read(0, a, r), -ESTALE);
	dios_iovec_t *r2 = NULL;
	CHECK_EQ(dios_acquire_read(0, a, 0, &r2), 0);
	CHECK_EQ(r2->len, 200000);
	CHECK_EQ(dt_verify(r2->buf, 200000, 3), -1);

	/* a task truncating the file under everyone (it holds the read-write fd through its
	 * mapping): the daemon never maps blob files, survives, and grows the file back */
	char path[PATH_MAX];
	mapped_path(w2->buf, path, sizeof path);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_EQ(ftruncate(fd, 0), 0);
	close(fd);
	CHECK_EQ(dios_commit_write(0, a, 100, w2), 0);   /* the daemon restores the length first */
	CHECK_EQ(dios_nop(0), 0);
	struct stat st;
	CHECK_EQ(stat(path, &st), 0);
	CHECK(st.st_size >= 200000);
	for (size_t k = 0; k < 200000; k += 4096)         /* no SIGBUS: the bytes read as zeros */
		CHECK_EQ(((volatile uint8_t *)r2->buf)[k], 0);
	CHECK(log_count("shrank to 0 bytes behind the daemon's back") >= 1);

	CHECK_EQ(dios_release_read(0, a, r), 0);
	CHECK_EQ(dios_release_read(0, a, r2), 0);
	CHECK_EQ(dios_release_write(0, a, w), 0);
	CHECK_EQ(dios_release_write(0, a, w2), 0);
	/* an anonymous blob dies with its last reference, file and all */
	CHECK_EQ(dios_delete(0, a), 0);
	CHECK_EQ(blob_files(), files);
	dios_daemon_stats_t s = dt_stats();
	CHECK_STATS_EQ(s, base);
}

/* Read-only references get read-only mappings, here of a durable blob. */
static void read_only(const dios_name_t *name)
{
	dios_ref_t *ro = NULL, *rw = NULL;
	uint64_t count = 1;
	CHECK_EQ(dios_lookup(D_LOOKUP_READONLY, name, &ro, &count), 0);
	CHECK_EQ(info_of(ro).perms, D_PERM_READ);
	count = 1;
	CHECK_EQ(dios_lookup(0, name, &rw, &count), 0);
	/* a durable blob outlives every reference: a writable lookup may delete it */
	CHECK_EQ(info_of(rw).perms, D_PERM_READ | D_PERM_WRITE | D_PERM_DELETE);
	dios_iovec_t *x = NULL, *rd = NULL;
	CHECK_EQ(dios_acquire_write(0, ro, 0, &x), -EACCES);
	CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, ro), -EACCES);
	CHECK_EQ(dios_acquire_read(0, ro, 0, &rd), 0);
	CHECK_EQ(rd->len, DURABLE_SIZE);
	CHECK_EQ(dt_verify(rd->buf, DURABLE_SIZE, 7), -1);
	long pg = sysconf(_SC_PAGESIZE);
	void *page = (void *)((uintptr_t)rd->buf & ~(uintptr_t)(pg - 1));
	errno = 0;
	if (mprotect(page, (size_t)pg, PROT_READ | PROT_WRITE) == 0)
		dt_fail(__FILE__, __LINE__, "mprotect(PROT_WRITE) on a read-only blob buffer succeeded");
	CHECK_EQ(errno, EACCES);

	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no_core);
		signal(SIGSEGV, SIG_DFL);
		((volatile uint8_t *)rd->buf)[100] ^= 1;
		_exit(0);
	}
	int st = dt_wait_child(pid);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSEGV)
		dt_fail(__FILE__, __LINE__, "a store into a read-only blob buffer did not die with SIGSEGV (status %#x)", st);
	CHECK_EQ(dt_verify(rd->buf, DURABLE_SIZE, 7), -1);
	CHECK_EQ(dios_release_read(0, ro, rd), 0);
	CHECK_EQ(dios_delete(0, ro), 0);
	CHECK_EQ(dios_delete(0, rw), 0);
}

/* After the restart, in a new task: what survived and what did not. */
static void check_after_restart(const dios_name_t *durable, const dios_name_t *random, const char *random_text,
				const dios_name_t *shmem, const dios_name_t *zombie, const char *durable_file)
{
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		alarm(60);
		/* the first call is served only once the state directory is replayed ... */
		CHECK_EQ(dios_nop(0), 0);
		/* ... which cut the file to the committed size (the uncommitted growth is gone) */
		struct stat st;
		CHECK_EQ(stat(durable_file, &st), 0);
		CHECK_EQ(st.st_size, DURABLE_SIZE);
		dios_ref_t *r = NULL;
		uint64_t count = 1;
		CHECK_EQ(dios_lookup(0, durable, &r, &count), 0);
		dios_ref_info_t i = info_of(r);
		CHECK_EQ(i.type, D_OBJ_BLOB);
		CHECK_EQ(i.size, DURABLE_SIZE);   /* the uncommitted growth is gone */
		CHECK_EQ(i.state & D_REF_STATE_NAMED, D_REF_STATE_NAMED);
		dios_iovec_t *rd = NULL, *x = NULL;
		CHECK_EQ(dios_acquire_read(0, r, 0, &rd), 0);
		CHECK_EQ(rd->len, DURABLE_SIZE);
		CHECK_EQ(dt_verify(rd->buf, DURABLE_SIZE, 7), -1);
		CHECK_EQ(dios_acquire_read(0, r, DURABLE_SIZE + 1, &x), -EINVAL);
		CHECK_EQ(dios_release_read(0, r, rd), 0);
		CHECK_EQ(dios_delete(0, r), 0);

		count = 1;
		CHECK_EQ(dios_lookup(0, random, &r, &count), 0);
		CHECK_EQ(info_of(r).size, strlen(random_text));
		CHECK_EQ(dios_acquire_read(0, r, 0, &rd), 0);
		CHECK(memcmp(rd->buf, random_text, strlen(random_text)) == 0);
		CHECK_EQ(dios_delete(0, r), 0);

		/* memory objects die with the daemon; a zombified blob stays deleted */
		count = 1;
		CHECK_EQ(dios_lookup(0, shmem, &r, &count), -ENOENT);
		CHECK_EQ(dios_lookup(0, zombie, &r, &count), -ENOENT);
		_exit(0);
	}
	CHECK_CHILD_OK(pid);
}

int main(void)
{
	alarm(110);
	dt_start_daemon();
	snprintf(blob_dir, sizeof blob_dir, "%s/state/blobs", dt_dir());
	CHECK_EQ(dios_nop(0), 0);
	CHECK_EQ(blob_files(), 0);

	arguments();
	growth();

	/* a durable blob under a given name, created with a size, then grown and committed */
	dios_name_t durable, random, shmem, zombie;
	CHECK_EQ(dios_name_from_string("t_blob/durable", &durable), 0);
	CHECK_EQ(dios_name_from_string("t_blob/shmem", &shmem), 0);
	CHECK_EQ(dios_name_from_string("t_blob/zombie", &zombie), 0);
	dios_daemon_stats_t base = dt_stats();
	uint64_t size = 100;
	dios_ref_t *d = NULL, *x = NULL;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_BLOB, &size, &durable, &d, 0), 0);
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_BLOB, &size, &durable, &x, 0), -EEXIST);
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_SHMEM, &size, &durable, &x, 0), -EEXIST);
	dios_ref_info_t i = info_of(d);
	CHECK_EQ(i.size, 100);
	CHECK_EQ(i.state & D_REF_STATE_NAMED, D_REF_STATE_NAMED);
	dios_iovec_t *w = NULL, *r = NULL;
	CHECK_EQ(dios_acquire_read(0, d, 0, &r), 0);
	CHECK_EQ(r->len, 100);
	for (int k = 0; k < 100; k++)
		CHECK_EQ(((uint8_t *)r->buf)[k], 0);
	CHECK_EQ(dios_release_read(0, d, r), 0);
	CHECK_EQ(dios_acquire_write(0, d, DURABLE_SIZE, &w), 0);
	dt_fill(w->buf, DURABLE_SIZE, 7);
	CHECK_EQ(dios_commit_write(0, d, DURABLE_SIZE, w), 0);
	CHECK_EQ(dios_release_write(0, d, w), 0);
	CHECK_EQ(info_of(d).size, DURABLE_SIZE);
	char durable_file[PATH_MAX];
	CHECK_EQ(dios_acquire_read(0, d, 0, &r), 0);
	mapped_path(r->buf, durable_file, sizeof durable_file);
	CHECK_EQ(dios_release_read(0, d, r), 0);

	/* the name holds the blob without any reference */
	CHECK_EQ(dios_delete(0, d), 0);
	dios_daemon_stats_t s = dt_stats();
	CHECK_EQ(s.objects, base.objects + 1);
	CHECK_EQ(s.names, base.names + 1);
	CHECK_EQ(s.refs, base.refs);
	read_only(&durable);

	/* a blob under a fresh random name */
	const char *random_text = "written under a random name";
	CHECK_EQ(dios_create(0, D_OBJ_BLOB, NULL, &random, &x, 0), 0);
	CHECK_EQ(dios_acquire_write(0, x, strlen(random_text), &w), 0);
	memcpy(w->buf, random_text, strlen(random_text));
	CHECK_EQ(dios_commit_write(0, x, strlen(random_text), w), 0);
	CHECK_EQ(dios_delete(0, x), 0);      /* releases the buffer with the reference */

	/* a durable blob zombified: gone for good */
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_BLOB, &size, &zombie, &x, 0), 0);
	CHECK_EQ(blob_files(), 3);
	CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, x), 0);
	uint64_t count = 1;
	CHECK_EQ(dios_lookup(0, &zombie, &x, &count), -ENOENT);
	CHECK_EQ(blob_files(), 2);

	/* alive at the kill: a named SHMEM object, an anonymous blob with data, and uncommitted
	 * growth of the durable blob (written past its committed end only) */
	dios_ref_t *sh = NULL, *anon = NULL;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_SHMEM, &size, &shmem, &sh, 0), 0);
	CHECK_EQ(dios_create(0, D_OBJ_BLOB, &size, NULL, &anon, 0), 0);
	CHECK_EQ(dios_acquire_write(0, anon, 0, &w), 0);
	dt_fill(w->buf, 100, 5);
	CHECK_EQ(dios_commit_write(0, anon, 100, w), 0);
	CHECK_EQ(blob_files(), 3);
	count = 1;
	CHECK_EQ(dios_lookup(0, &durable, &d, &count), 0);
	CHECK_EQ(dios_acquire_write(0, d, GROWN_SIZE, &w), 0);
	dt_fill((uint8_t *)w->buf + DURABLE_SIZE, GROWN_SIZE - DURABLE_SIZE, 9);

	/* kill -9, and a new daemon on the same state directory */
	int st = dt_kill_daemon();
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	CHECK_EQ(dios_nop(0), -ENOTCONN);
	dt_start_daemon_in(dt_dir());
	check_after_restart(&durable, &random, random_text, &shmem, &zombie, durable_file);
	CHECK_EQ(blob_files(), 2);   /* the anonymous blob's file was removed at start-up */
	CHECK_EQ(log_count("removed 1 blob file(s) no journal entry refers to"), 1);
	CHECK_EQ(log_count("journal: recovered"), 0);

	/* zombify the durable blob from a new task, then a clean restart: it stays deleted */
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		alarm(60);
		dios_ref_t *z = NULL;
		uint64_t n = 1;
		CHECK_EQ(dios_lookup(0, &durable, &z, &n), 0);
		CHECK_EQ(dios_delete(D_DELETE_ZOMBIFY, z), 0);
		n = 1;
		CHECK_EQ(dios_lookup(0, &durable, &z, &n), -ENOENT);
		_exit(0);
	}
	CHECK_CHILD_OK(pid);
	CHECK_EQ(blob_files(), 1);
	dt_stop_daemon_keep_dir();
	dt_start_daemon_in(dt_dir());
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		alarm(60);
		dios_ref_t *z = NULL;
		uint64_t n = 1;
		CHECK_EQ(dios_lookup(0, &durable, &z, &n), -ENOENT);
		n = 1;
		CHECK_EQ(dios_lookup(0, &random, &z, &n), 0);
		_exit(0);
	}
	CHECK_CHILD_OK(pid);
	CHECK_EQ(blob_files(), 1);
	CHECK_EQ(log_count("journal: recovered"), 0);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
