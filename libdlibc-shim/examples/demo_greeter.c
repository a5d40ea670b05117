/*
 * demo_greeter - the C side of the README's main job.
 *
 * Creates a shared-memory object under the well-known name "demo/greeting",
 * writes a greeting into it in place, then waits for each peer named on the
 * command line (e.g. "java", "rust") to answer under "demo/answer/<peer>",
 * and checks that every answer quotes the greeting byte for byte.  Each peer
 * then streams DEMO_STREAM_BYTES through the FIFO "demo/stream/<peer>" (made
 * here) and closes it; every byte is checked in place, and the stream must
 * end with -EPIPE exactly after the last one.
 * Exit 0 when every peer answered and streamed correctly, 1 otherwise.
 *
 * Build as a user would:  cc demo_greeter.c $(pkg-config --cflags --libs dlibc)
 */
#include <dios/dios.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEMO_STREAM_BYTES (16u << 20)

/* byte p of a peer's stream (the peers compute the same) */
static inline uint8_t stream_byte(uint64_t p)
{
	return (uint8_t)(p ^ (p >> 8) ^ (p >> 16));
}

static void die(const char *call, int rc)
{
	fprintf(stderr, "c: %s failed: %s (%d)\n", call, dios_strerror(rc), rc);
	exit(1);
}

int main(int argc, char **argv)
{
	dios_name_t name;
	dios_ref_t *ref;
	dios_iovec_t *iov;
	char text[DIOS_NAME_STRLEN];
	char greeting[128];
	uint64_t size = 4096;
	int rc;

	/* the peers' streams exist before the greeting does (they look for it first) */
	dios_ref_t *streams[16] = { 0 };
	for (int i = 1; i < argc && i < 16; i++) {
		char sname[64];
		dios_name_t sn;
		uint64_t cap = 1u << 20;
		snprintf(sname, sizeof sname, "demo/stream/%s", argv[i]);
		dios_name_from_string(sname, &sn);
		if ((rc = dios_create(D_CREATE_NAME_GIVEN, D_OBJ_FIFO, &cap, &sn, &streams[i], 0)))
			die("dios_create(FIFO)", rc);
	}
	snprintf(greeting, sizeof greeting, "hello from C, pid %d", (int)getpid());
	dios_name_from_string("demo/greeting", &name);
	if ((rc = dios_create(D_CREATE_NAME_GIVEN, D_OBJ_SHMEM, &size, &name, &ref, 0)))
		die("dios_create", rc);
	if ((rc = dios_acquire_write(0, ref, 0, &iov)))
		die("dios_acquire_write", rc);
	memset(iov->buf, 0, iov->len);
	memcpy(iov->buf, greeting, strlen(greeting));   /* in place: this is the object's memory */
	if ((rc = dios_commit_write(0, ref, strlen(greeting) + 1, iov)))
		die("dios_commit_write", rc);
	if ((rc = dios_release_write(0, ref, iov)))
		die("dios_release_write", rc);
	printf("c: wrote \"%s\" into demo/greeting (%s)\n", greeting, dios_nametostr(&name, text));
	fflush(stdout);

	int failures = 0;
	for (int i = 1; i < argc; i++) {
		char answer_name[64], expect[256];
		dios_name_t an;
		dios_ref_t *ar = NULL;
		snprintf(answer_name, sizeof answer_name, "demo/answer/%s", argv[i]);
		snprintf(expect, sizeof expect, "%s saw: %s", argv[i], greeting);
		dios_name_from_string(answer_name, &an);
		struct timespec nap = { 0, 50 * 1000 * 1000 };
		for (int tries = 0; tries < 1200 && !(ar = dios_pickref(&an)); tries++)
			nanosleep(&nap, NULL);     /* the peer may still be starting its runtime */
		if (!ar) {
			fprintf(stderr, "c: no answer from %s within 60 s\n", argv[i]);
			failures++;
			continue;
		}
		/* read, then validate: -ESTALE while the peer still holds its write buffer (a write is in
		 * progress until it is released) or wrote meanwhile; then read it again */
		int ok = 0;
		for (int tries = 0;; tries++) {
			if ((rc = dios_acquire_read(0, ar, 0, &iov)))
				die("dios_acquire_read", rc);
			ok = strncmp(iov->buf, expect, iov->len) == 0;
			rc = dios_commit_read(0, ar, iov);
			if (rc == 0)
				break;
			dios_release_read(0, ar, iov);
			if (rc != -ESTALE || tries >= 1000)
				die("dios_commit_read", rc);
			nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
		}
		printf("c: %s answered \"%.*s\" -> %s\n", argv[i], (int)strnlen(iov->buf, iov->len),
		       (char *)iov->buf, ok ? "ok" : "WRONG");
		failures += !ok;
		dios_release_read(0, ar, iov);
		dios_delete(0, ar);

		/* the peer's stream: every byte checked where it lies in the FIFO */
		if (i >= 16)
			continue;
		uint64_t got = 0;
		long bad = -1;
		/* a peer that died before it bound its end would leave us waiting: 60 s at most per read */
		while ((rc = dios_acquire_read_timeout(0, streams[i], 0, &iov, 60ull * 1000000000ull)) == 0) {
			const uint8_t *b = iov->buf;
			for (uint64_t k = 0; k < iov->len && bad < 0; k++)
				if (b[k] != stream_byte(got + k))
					bad = (long)(got + k);
			got += iov->len;
			dios_release_read(0, streams[i], iov);
		}
		ok = rc == -EPIPE && got == DEMO_STREAM_BYTES && bad < 0;
		printf("c: %s streamed %llu bytes through demo/stream/%s, every byte checked, then %s -> %s\n",
		       argv[i], (unsigned long long)got, argv[i], dios_strerror(rc), ok ? "ok" : "WRONG");
		if (bad >= 0)
			printf("c: byte %ld of %s's stream is wrong\n", bad, argv[i]);
		failures += !ok;
		dios_delete(0, streams[i]);
	}

	dios_daemon_stats_t st;
	if ((rc = dios_daemon_stats(&st)) == 0)
		printf("c: daemon holds %llu tasks, %llu objects, %llu names, %llu references\n",
		       (unsigned long long)st.tasks, (unsigned long long)st.objects,
		       (unsigned long long)st.names, (unsigned long long)st.refs);
	dios_delete(0, ref);
	return failures ? 1 : 0;
}
