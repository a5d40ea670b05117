/*
 * scenarios - the cross-language scenario suite, C runner (docs/SCENARIOS.md).
 * The Rust (`cargo run --example scenarios`) and Java
 * (org.dios.client.scenarios.Scenarios) runners do the same things and print
 * the same lines; system-tests/scenarios.sh runs all three against one daemon.
 *
 *   scenarios                 run every scenario, one line each:
 *                             "scenario c <id> ok <detail>" or "... FAIL <why>"
 *   scenarios --child-exit N  connect to the daemon, then exit with status N
 *                             (the child of the spawn scenario, also Java's)
 *
 * Exit status 0 when every scenario passed.  Built like any user's program:
 *   cc -O2 scenarios.c $(pkg-config --cflags --libs dlibc) && dios brand --limbo a.out
 */
#include <dios/dios.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define OBJ_BYTES   4096u
#define STREAM_BYTES (100ull << 20)
#define FNV_OFFSET  0xcbf29ce484222325ull
#define FNV_PRIME   0x100000001b3ull

static uint8_t pattern(uint64_t k) { return (uint8_t)((k * 31 + 7) & 0xff); }

static char why[256];

/* Record the first failure's reason; returns -1 for `return fail(...)`. */
static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return -1;
}

#define TRY(call) do { \
	int rc_ = (call); \
	if (rc_ != 0) \
		return fail("%s: %s", #call, dios_strerror(rc_)); \
} while (0)

static int write_all(dios_ref_t *r, const uint8_t *src, uint64_t n)
{
	dios_iovec_t *iov;
	TRY(dios_acquire_write(0, r, n, &iov));
	if (iov->len < n)
		return fail("acquire_write gave %" PRIu64 " bytes, asked %" PRIu64, iov->len, n);
	memcpy(iov->buf, src, n);
	TRY(dios_commit_write(0, r, n, iov));
	TRY(dios_release_write(0, r, iov));
	return 0;
}

/* Every byte readable through r equals want[0..n). */
static int read_equals(dios_ref_t *r, const uint8_t *want, uint64_t n, const char *which)
{
	dios_iovec_t *iov;
	TRY(dios_acquire_read(0, r, n, &iov));
	int bad = iov->len != n || memcmp(iov->buf, want, n) != 0;
	TRY(dios_release_read(0, r, iov));
	return bad ? fail("bytes read through the %s reference differ from those written", which) : 0;
}

/* 1. name an object, share it, write, read back */
static int share(char *detail)
{
	uint8_t data[OBJ_BYTES];
	for (uint32_t i = 0; i < OBJ_BYTES; i++)
		data[i] = pattern(i);
	uint64_t size = OBJ_BYTES;
	dios_name_t name;
	dios_ref_t *w, *r = NULL, *ro = NULL;
	uint64_t one = 1;
	TRY(dios_create(0, D_OBJ_SHMEM, &size, &name, &w, 0));
	TRY(dios_lookup(0, &name, &r, &one));
	one = 1;
	TRY(dios_lookup(D_LOOKUP_READONLY, &name, &ro, &one));
	if (write_all(w, data, OBJ_BYTES) || read_equals(r, data, OBJ_BYTES, "looked-up") ||
	    read_equals(ro, data, OBJ_BYTES, "read-only"))
		return -1;
	TRY(dios_delete(0, ro));
	TRY(dios_delete(0, r));
	TRY(dios_delete(0, w));
	dios_nametostr(&name, detail);
	return 0;
}

/* 2. stream 100 MiB through a FIFO, writer thread to reader, with FNV-1a 64 */
struct writer { dios_ref_t *fifo; int rc; };

static void *stream_writer(void *p)
{
	struct writer *w = p;
	uint64_t k = 0;
	while (k < STREAM_BYTES) {
		dios_iovec_t *iov;
		int rc = dios_acquire_write(0, w->fifo, 0, &iov);
		if (rc) { w->rc = rc; return NULL; }
		uint64_t n = iov->len < STREAM_BYTES - k ? iov->len : STREAM_BYTES - k;
		uint8_t *b = iov->buf;
		for (uint64_t i = 0; i < n; i++)
			b[i] = pattern(k + i);
		if ((rc = dios_commit_write(0, w->fifo, n, iov)) || (rc = dios_release_write(0, w->fifo, iov))) {
			w->rc = rc;
			return NULL;
		}
		k += n;
	}
	w->rc = dios_delete(0, w->fifo); /* our end goes: the reader sees end of stream */
	return NULL;
}

static int fifo100(char *detail)
{
	uint64_t want = FNV_OFFSET;
	for (uint64_t k = 0; k < STREAM_BYTES; k++)
		want = (want ^ pattern(k)) * FNV_PRIME;

	dios_ref_t *rd, *wr;
	dios_name_t name;
	uint64_t one = 1;
	TRY(dios_create(0, D_OBJ_FIFO, NULL, &name, &rd, 0));
	TRY(dios_lookup(0, &name, &wr, &one)); /* a second reference: the writer's end */
	struct writer w = { wr, 0 };
	pthread_t th;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (pthread_create(&th, NULL, stream_writer, &w))
		return fail("pthread_create failed");
	uint64_t got = 0, sum = FNV_OFFSET;
	int rc;
	for (;;) {
		dios_iovec_t *iov;
		if ((rc = dios_acquire_read(0, rd, 0, &iov)))
			break;
		const uint8_t *b = iov->buf;
		for (uint64_t i = 0; i < iov->len; i++)
			sum = (sum ^ b[i]) * FNV_PRIME;
		got += iov->len;
		if ((rc = dios_release_read(0, rd, iov)))
			break;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(th, NULL);
	dios_delete(0, rd);
	if (w.rc)
		return fail("writer: %s", dios_strerror(w.rc));
	if (rc != -EPIPE)
		return fail("reader ended with %s, not end of stream (-EPIPE)", dios_strerror(rc));
	if (got != STREAM_BYTES || sum != want)
		return fail("read %" PRIu64 " bytes with FNV-1a %016" PRIx64 ", wrote %llu with %016" PRIx64,
			    got, sum, STREAM_BYTES, want);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	sprintf(detail, "fnv1a=%016" PRIx64 " %.0f MiB/s", sum, (double)(STREAM_BYTES >> 20) / secs);
	return 0;
}

/* 3. spawn a copy of ourselves that exits with 7, collect the status */
static int spawn(char *detail)
{
	dios_ref_t *exe = dios_pickref(dios_self_exe());
	if (!exe)
		return fail("this program's executable does not resolve");
	char *argv[] = { "scenarios", "--child-exit", "7", NULL };
	dios_task_spec_t spec = { .argc = 3, .argv = argv };
	dios_ref_t *task;
	TRY(dios_run(0, exe, &spec, &task));
	dios_ref_info_t info;
	TRY(dios_ref_info(task, &info));
	int status = 0;
	TRY(dios_wait(0, task, &status));
	TRY(dios_delete(0, task));
	TRY(dios_delete(0, exe));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 7)
		return fail("child status 0x%x, expected exit 7", status);
	sprintf(detail, "pid %" PRIu64 " exited 7", info.size);
	return 0;
}

/* 4. every common error, with its exact code */
#define EXPECT(code, call) do { \
	int rc_ = (call); \
	if (rc_ != -(code)) \
		return fail("%s gave %s, expected -%s", #call, dios_strerror(rc_), #code); \
	strcat(detail, detail[0] ? " " #code : #code); \
} while (0)

static int errors(char *detail)
{
	uint64_t size = OBJ_BYTES, zero = 0, one = 1;
	dios_ref_t *r, *r2, *ro;
	dios_iovec_t *iov;
	dios_name_t name, unbound;
	dios_ref_info_t info;
	detail[0] = 0;

	TRY(dios_create(0, D_OBJ_SHMEM, &size, NULL, &r, 0));
	TRY(dios_delete(0, r));
	EXPECT(EBADF, dios_ref_info(r, &info));

	TRY(dios_create(0, D_OBJ_SHMEM, &size, &unbound, &r, 0));
	TRY(dios_delete(D_DELETE_ZOMBIFY, r)); /* a fresh random name, now unbound */
	EXPECT(ENOENT, dios_lookup(0, &unbound, &r2, &one));

	TRY(dios_create(0, D_OBJ_SHMEM, &size, &name, &r, 0));
	EXPECT(EEXIST, dios_create(D_CREATE_NAME_GIVEN, D_OBJ_SHMEM, &size, &name, &r2, 0));

	EXPECT(EINVAL, dios_create(0, D_OBJ_SHMEM, &zero, NULL, &r2, 0));

	one = 1;
	TRY(dios_lookup(D_LOOKUP_READONLY, &name, &ro, &one));
	EXPECT(EACCES, dios_acquire_write(0, ro, 0, &iov));

	dios_ref_t *rd, *wr;
	dios_name_t fname;
	one = 1;
	TRY(dios_create(0, D_OBJ_FIFO, NULL, &fname, &rd, 0));
	TRY(dios_lookup(0, &fname, &wr, &one));
	TRY(dios_acquire_write(0, wr, 1, &iov)); /* binds the writer end */
	TRY(dios_release_write(0, wr, iov));
	EXPECT(EAGAIN, dios_acquire_read(D_NONBLOCK, rd, 0, &iov));
	TRY(dios_delete(0, wr));
	EXPECT(EPIPE, dios_acquire_read(0, rd, 0, &iov));
	TRY(dios_delete(0, rd));

	TRY(dios_delete(D_DELETE_ZOMBIFY, r)); /* the creator kills it; ro still holds it */
	EXPECT(EIDRM, dios_acquire_read(0, ro, 0, &iov));
	TRY(dios_delete(0, ro));

	dios_ref_t *exe, *task;
	char *argv[] = { "true", NULL };
	dios_task_spec_t spec = { .argc = 1, .argv = argv };
	TRY(dios_exe("/bin/true", &exe));
	EXPECT(ENOEXEC, dios_run(0, exe, &spec, &task));
	TRY(dios_delete(0, exe));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--child-exit") == 0) {
		if (!dios_self()) {
			fprintf(stderr, "scenarios: --child-exit: the daemon is unreachable\n");
			return 100;
		}
		return atoi(argv[2]);
	}
	if (argc != 1) {
		fprintf(stderr, "usage: scenarios [--child-exit N]\n");
		return 2;
	}
	static const struct { const char *id; int (*run)(char *); } all[] = {
		{ "share", share }, { "fifo100", fifo100 }, { "spawn", spawn }, { "errors", errors },
	};
	int failed = 0;
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		char detail[256] = "";
		why[0] = 0;
		if (all[i].run(detail) == 0) {
			printf("scenario c %s ok %s\n", all[i].id, detail);
		} else {
			printf("scenario c %s FAIL %s\n", all[i].id, why);
			failed++;
		}
		fflush(stdout);
	}
	return failed != 0;
}
