/*
 * metrics_workload - a DIOS task that does a known amount of work, for
 * MetricsEndpointTest (diosd/src/test): its counts are what the committed
 * metrics.expected says a scrape shows.  Change one and regenerate the other
 * (see that file's header).
 *
 *   10 NOPs; 3 SHMEM creates (1 named, 2 anonymous) of 4096 bytes;
 *   acquire_write (4096 bytes), commit_write of 1000, release_write;
 *   1 delete (an anonymous one); 1 lookup of an unbound name (-ENOENT);
 *   a named FIFO: 1 create, 100 bytes written in place (one acquire_write
 *   goes to the daemon, to attach the writer end).
 *
 * Then it prints "ready" and waits for a line (or end of input) on stdin
 * while the test scrapes, and exits 0.  Any unexpected result: a message on
 * stderr and exit 1.  DIOS_SOCKET names the daemon.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dios/dios.h>

#define MUST(call, want) do { \
	int r_ = (call); \
	if (r_ != (want)) { \
		fprintf(stderr, "metrics_workload: %s = %d (%s), expected %d\n", #call, r_, \
			dios_strerror(r_), (want)); \
		exit(1); \
	} \
} while (0)

int main(void)
{
	for (int i = 0; i < 10; i++)
		MUST(dios_nop(0), 0);

	uint64_t size = 4096;
	dios_name_t named;
	dios_ref_t *shm[3];
	MUST(dios_create(0, D_OBJ_SHMEM, &size, &named, &shm[0], 0), 0);
	MUST(dios_create(0, D_OBJ_SHMEM, &size, NULL, &shm[1], 0), 0);
	MUST(dios_create(0, D_OBJ_SHMEM, &size, NULL, &shm[2], 0), 0);

	dios_iovec_t *iov;
	MUST(dios_acquire_write(0, shm[0], 0, &iov), 0);
	if (iov->len != size) {
		fprintf(stderr, "metrics_workload: acquired %llu bytes, expected %llu\n",
			(unsigned long long)iov->len, (unsigned long long)size);
		return 1;
	}
	memset(iov->buf, 'm', 1000);
	MUST(dios_commit_write(0, shm[0], 1000, iov), 0);
	MUST(dios_release_write(0, shm[0], iov), 0);

	MUST(dios_delete(0, shm[2]), 0);

	dios_name_t nobody;
	dios_ref_t *found[1];
	uint64_t count = 1;
	MUST(dios_name_from_string("metrics_workload: a name nobody binds", &nobody), 0);
	MUST(dios_lookup(0, &nobody, found, &count), -ENOENT);

	dios_name_t fifo_name;
	dios_ref_t *fifo;
	MUST(dios_create(0, D_OBJ_FIFO, NULL, &fifo_name, &fifo, 0), 0);
	MUST(dios_acquire_write(0, fifo, 100, &iov), 0);
	memset(iov->buf, 'f', 100);
	MUST(dios_commit_write(0, fifo, 100, iov), 0);
	MUST(dios_release_write(0, fifo, iov), 0);

	printf("ready\n");
	fflush(stdout);
	char line[16];
	if (fgets(line, sizeof(line), stdin) == NULL) {
		/* end of input: the test is done with us too */
	}
	return 0;
}
