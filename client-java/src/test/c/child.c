/*
 * child.c - a DIOS task for the Java client's tests, spawned by dios_run (branded
 * --limbo by the test).
 *   child --child-exit N   connect, exit with status N (as the C scenario runner)
 *   child --echo           the first two delegated references are a FIFO to read
 *                          (parent -> child) and one to write (child -> parent),
 *                          as the Rust crate's spawn_task delegates them; answer
 *                          every long (8 bytes little-endian, the Channel's and
 *                          Rust's i64) with value + 1 and every byte array (a u64
 *                          little-endian count, then the bytes) with the same
 *                          array reversed, until end of stream; then exit 0.
 *                          A kind byte comes first: 'L' a long, 'B' an array.
 *   child --env-is NAME V  connect, exit 0 if the variable NAME is V, 1 if it is
 *                          unset, 2 if it is something else
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
	if (argc == 4 && !strcmp(argv[1], "--env-is")) {
		if (dios_nop(0) != 0)
			return 100;
		const char *v = getenv(argv[2]);
		return !v ? 1 : strcmp(v, argv[3]) ? 2 : 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--echo")) {
		dios_ref_t *refs[2];
		uint64_t n = 2;
		if (dios_delegated(0, refs, &n) != 0 || n != 2)
			return 101;
		for (;;) {
			uint8_t kind, w[8];
			int rc = get(refs[0], &kind, 1);
			if (rc == 0)
				return 0;                       /* end of stream */
			if (rc < 0 || get(refs[0], w, 8) != 1)
				return 102;
			uint64_t v = 0;
			for (int i = 0; i < 8; i++)
				v |= (uint64_t)w[i] << (8 * i);
			if (kind == 'L') {
				v++;
				for (int i = 0; i < 8; i++)
					w[i] = (uint8_t)(v >> (8 * i));
				if (put(refs[1], w, 8) < 0)
					return 104;
			} else if (kind == 'B') {
				if (v > 1 << 20)
					return 105;
				uint8_t *b = malloc(v + 8);
				if (!b || (v && get(refs[0], b + 8, v) != 1))
					return 106;
				memcpy(b, w, 8);                /* the same count */
				for (uint64_t i = 0; i < v / 2; i++) {
					uint8_t t = b[8 + i];
					b[8 + i] = b[8 + v - 1 - i];
					b[8 + v - 1 - i] = t;
				}
				/* in pieces no larger than the FIFO: put() takes one buffer */
				for (uint64_t off = 0; off < v + 8; off += 4096)
					if (put(refs[1], b + off, v + 8 - off < 4096 ? v + 8 - off : 4096) < 0)
						return 107;
				free(b);
			} else {
				return 103;
			}
		}
	}
	fprintf(stderr, "usage: %s --child-exit N | --echo\n", argv[0]);
	return 2;
}
