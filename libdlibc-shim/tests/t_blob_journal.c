/* t_blob_journal: a journal whose last entry was cut short (the daemon killed, the file truncated) is recovered at start-up with log lines: earlier blobs resolve with their bytes, the lost blob's file goes to lost+found, the next start is clean; a second daemon on the same state directory is refused. */
#define _GNU_SOURCE
#include "helpers.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define A_SIZE 70000u

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

static int files_in(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* The journal's one cycle file (Chronicle's *.cq4). */
static void cycle_file(char *out, size_t cap)
{
	char dir[PATH_MAX - 256];
	snprintf(dir, sizeof dir, "%s/state/journal", dt_dir());
	DIR *d = opendir(dir);
	if (!d)
		dt_fail(__FILE__, __LINE__, "opendir %s: %s", dir, strerror(errno));
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l > 4 && strcmp(e->d_name + l - 4, ".cq4") == 0) {
			if ((size_t)snprintf(out, cap, "%s/%s", dir, e->d_name) >= cap)
				dt_fail(__FILE__, __LINE__, "path too long: %s/%s", dir, e->d_name);
			n++;
		}
	}
	closedir(d);
	CHECK_EQ(n, 1);
}

/* Offset of the last journal record (its "DJR1" magic) in the cycle file. */
static off_t last_record(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	struct stat st;
	CHECK_EQ(fstat(fd, &st), 0);
	/* the records sit near the start; the file is preallocated (sparse) beyond */
	size_t len = st.st_size < (off_t)(4 << 20) ? (size_t)st.st_size : (size_t)(4 << 20);
	uint8_t *buf = malloc(len);
	CHECK(buf != NULL);
	CHECK_EQ(pread(fd, buf, len, 0), (ssize_t)len);
	close(fd);
	off_t at = -1;
	for (size_t i = 0; i + 4 <= len; i++)
		if (memcmp(buf + i, "DJR1", 4) == 0)
			at = (off_t)i;
	free(buf);
	return at;
}

/* Start a second daemon on the same state directory (another socket): it must refuse. */
static void second_daemon_refused(void)
{
	char sock[PATH_MAX], state[PATH_MAX], out[PATH_MAX];
	snprintf(sock, sizeof sock, "%s/other.sock", dt_dir());
	snprintf(state, sizeof state, "%s/state", dt_dir());
	snprintf(out, sizeof out, "%s/other.log", dt_dir());
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(getenv("DIOSD"), "diosd", "--socket", sock, "--state-dir", state, "--warmup-cycles", "0", (char *)NULL);
		_exit(127);
	}
	int st = dt_wait_child(pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 1);
	char text[4096] = { 0 };
	int fd = open(out, O_RDONLY);
	CHECK(fd >= 0);
	CHECK(read(fd, text, sizeof text - 1) > 0);
	close(fd);
	if (!strstr(text, "is in use by another diosd"))
		dt_fail(__FILE__, __LINE__, "second daemon's refusal does not say why: %s", text);
	struct stat sb;
	CHECK(lstat(sock, &sb) != 0);   /* and it left no socket behind */
}

int main(void)
{
	alarm(110);
	dt_start_daemon();
	dios_name_t a, b;
	CHECK_EQ(dios_name_from_string("t_blob_journal/a", &a), 0);
	CHECK_EQ(dios_name_from_string("t_blob_journal/b", &b), 0);

	/* A: created empty, grown by a commit; B: created last, so its CREATE is the last entry */
	dios_ref_t *ra = NULL, *rb = NULL;
	dios_iovec_t *w = NULL;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_BLOB, NULL, &a, &ra, 0), 0);
	CHECK_EQ(dios_acquire_write(0, ra, A_SIZE, &w), 0);
	dt_fill(w->buf, A_SIZE, 11);
	CHECK_EQ(dios_commit_write(0, ra, A_SIZE, w), 0);
	uint64_t size = 4096;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_BLOB, &size, &b, &rb, 0), 0);
	second_daemon_refused();

	int st = dt_kill_daemon();
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	/* cut B's entry in the middle, as a write interrupted by a crash would */
	char cq4[PATH_MAX];
	cycle_file(cq4, sizeof cq4);
	off_t at = last_record(cq4);
	CHECK(at > 0);
	CHECK_EQ(truncate(cq4, at + 20), 0);

	dt_start_daemon_in(dt_dir());
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		alarm(60);
		dios_ref_t *r = NULL;
		uint64_t count = 1;
		CHECK_EQ(dios_lookup(0, &a, &r, &count), 0);
		dios_ref_info_t info;
		CHECK_EQ(dios_ref_info(r, &info), 0);
		CHECK_EQ(info.size, A_SIZE);
		dios_iovec_t *rd = NULL;
		CHECK_EQ(dios_acquire_read(0, r, 0, &rd), 0);
		CHECK_EQ(dt_verify(rd->buf, A_SIZE, 11), -1);
		count = 1;
		CHECK_EQ(dios_lookup(0, &b, &r, &count), -ENOENT);
		/* the journal works again: a new durable blob */
		dios_name_t c;
		CHECK_EQ(dios_name_from_string("t_blob_journal/c", &c), 0);
		CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_BLOB, NULL, &c, &r, 0), 0);
		_exit(0);
	}
	CHECK_CHILD_OK(pid);
	/* every recovery step is in the log: the damaged entry, the truncated file, the outcome */
	CHECK_EQ(log_count("warn diosd: journal: entry 3"), 1);
	CHECK(log_count("is damaged (") >= 1);
	CHECK_EQ(log_count("was truncated"), 1);
	CHECK_EQ(log_count("journal: recovered: 1 durable blob(s) kept"), 1);
	/* B's file had no journal entry left: kept for inspection, not deleted */
	char lost[PATH_MAX], blobs[PATH_MAX];
	snprintf(lost, sizeof lost, "%s/state/lost+found", dt_dir());
	snprintf(blobs, sizeof blobs, "%s/state/blobs", dt_dir());
	CHECK_EQ(files_in(lost), 1);
	CHECK_EQ(files_in(blobs), 2);   /* A and C */

	/* the next start is clean: the recovered journal was rewritten */
	dt_stop_daemon_keep_dir();
	dt_start_daemon_in(dt_dir());
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		alarm(60);
		dios_name_t c;
		CHECK_EQ(dios_name_from_string("t_blob_journal/c", &c), 0);
		dios_ref_t *r = NULL;
		uint64_t count = 1;
		CHECK_EQ(dios_lookup(0, &a, &r, &count), 0);
		count = 1;
		CHECK_EQ(dios_lookup(0, &c, &r, &count), 0);
		_exit(0);
	}
	CHECK_CHILD_OK(pid);
	CHECK_EQ(log_count("journal: recovered"), 1);
	CHECK_EQ(log_count("is damaged ("), 1);
	CHECK_EQ(log_count("journal: 2 durable blob(s)"), 1);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
