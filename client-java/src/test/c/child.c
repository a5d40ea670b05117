/*
 * child.c - a DIOS task for the Java client's tests, spawned by dios_run (branded
 * --limbo by the test).
 *   child --child-exit N   connect, exit with status N (as the C scenario runner)
 *   child --echo           the first two delegated references are a FIFO to read
 *                          (parent -> child) and one to write (child -> parent);
 *                          answer every 8-byte Channel frame with value + 1 until
 *                          end of stream, then exit 0.  Frames as the Java
 *                          Channel: 4-byte little-endian length, then the payload.
 */
#include <dios/dios.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int get(dios_ref_t *in, uint8_t *dst, uint64_t len)
{
	uint64_t have = 0;
	while (have < len) {
		dios_iovec_t *iov;
		int rc = dios_acquire_read(0, in, len - have, &iov);
		if (rc == -EPIPE && have == 0)
			return 0;
		if (rc < 0)
			return rc;
		memcpy(dst + have, iov->buf, iov->len);
		have += iov->len;
		if ((rc = dios_release_read(0, in, iov)) < 0)
			return rc;
	}
	return 1;
}

static int put(dios_ref_t *out, const uint8_t *src, uint64_t len)
{
	dios_iovec_t *iov;
	int rc = dios_acquire_write(0, out, len, &iov);
	if (rc < 0)
		return rc;
	memcpy(iov->buf, src, len);
	if ((rc = dios_commit_write(0, out, len, iov)) < 0)
		return rc;
	return dios_release_write(0, out, iov);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--child-exit")) {
		if (dios_nop(0) != 0)
			return 100;
		return atoi(argv[2]);
	}
	if (argc == 2 && !strcmp(argv[1], "--echo")) {
		dios_ref_t *refs[2];
		uint64_t n = 2;
		if (dios_delegated(0, refs, &n) != 0 || n != 2)
			return 101;
		for (;;) {
			uint8_t f[12];
			int rc = get(refs[0], f, 12);
			if (rc == 0)
				return 0;                       /* end of stream */
			if (rc < 0)
				return 102;
			if (f[0] != 8 || f[1] || f[2] || f[3])
				return 103;                     /* not an 8-byte frame */
			uint64_t v = 0;
			for (int i = 0; i < 8; i++)
				v |= (uint64_t)f[4 + i] << (8 * i);
			v++;
			for (int i = 0; i < 8; i++)
				f[4 + i] = (uint8_t)(v >> (8 * i));
			if (put(refs[1], f, 12) < 0)
				return 104;
		}
	}
	fprintf(stderr, "usage: %s --child-exit N | --echo\n", argv[0]);
	return 2;
}
