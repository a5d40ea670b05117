/*
 * pure_report.h - how the Pure DIOS test programs (c_pure, c_heap_pure) tell
 * their test what they found: one message per FIFO write on the reference
 * `out` (a FIFO the test delegated).  No stdio: a Pure task has no console
 * unless it is given one.  Exit 3 or 4 when the FIFO cannot be written.
 */
#ifndef PURE_REPORT_H
#define PURE_REPORT_H

#include <string.h>
#include <unistd.h>

#include <dios/dios.h>

static dios_ref_t *out;

static void report(const char *msg)
{
	dios_iovec_t *iov = NULL;
	size_t n = strlen(msg);
	if (dios_acquire_write(0, out, n, &iov) != 0)
		_exit(3);
	memcpy(iov->buf, msg, n);
	if (dios_commit_write(0, out, n, iov) != 0 || dios_release_write(0, out, iov) != 0)
		_exit(4);
}

#endif
