/*
 * dios_error.c - dios_strerror: text for the DIOS_E* codes the calls return.
 */
#include "dios_internal.h"

#include <limits.h>

const char *dios_strerror(int err)
{
	if (err == INT_MIN)
		return "unknown error";
	if (err > 0)
		err = -err;                 /* be lenient: accept errno as well as -errno */
	switch (-err) {
	case 0:                 return "success";
	case DIOS_EPERM:        return "the daemon may not start the task as its owner";
	case DIOS_ESRCH:        return "the target task has exited";
	case DIOS_E2BIG:        return "count or size above its maximum";
	case DIOS_ENOEXEC:      return "not an executable with a DIOS brand";
	case DIOS_ENOENT:       return "name not found";
	case DIOS_EIO:          return "durable storage failed";
	case DIOS_EBADF:        return "not a reference this task holds";
	case DIOS_EAGAIN:       return "would block (D_NONBLOCK)";
	case DIOS_ENOMEM:       return "out of memory or per-task limit reached";
	case DIOS_EACCES:       return "reference lacks the permission";
	case DIOS_EFAULT:       return "buffer not issued by this shim or already released";
	case DIOS_EBUSY:        return "FIFO end bound to another reference, or a buffer is out";
	case DIOS_EEXIST:       return "name already bound";
	case DIOS_EINVAL:       return "invalid argument";
	case DIOS_ENOSPC:       return "out of space";
	case DIOS_EPIPE:        return "other end of the stream is gone";
	case DIOS_ENOSYS:       return "call not implemented";
	case DIOS_EIDRM:        return "object was deleted (zombie)";
	case DIOS_EPROTO:       return "protocol error between task and daemon";
	case DIOS_EOPNOTSUPP:   return "operation not supported on this object type";
	case DIOS_ENOTCONN:     return "daemon not reachable";
	case DIOS_ETIMEDOUT:    return "timed out (the call's deadline passed)";
	case DIOS_EDQUOT:       return "a per-user quota of the daemon is reached";
	case DIOS_EHOSTDOWN:    return "owning host is down";
	case DIOS_ESTALE:       return "data read was overwritten meanwhile";
	default:                return "unknown error";
	}
}

/* ---- the last error's detail, per thread ------------------------------------ */

#include <stdarg.h>
#include <stdio.h>

/*
 * Written only when a call fails (never on the fast path of one that
 * succeeds), so it is not cleared by a success: read it right after the
 * failing call, like errno.
 */
static __thread char detail[320];
static __thread const char *detail_text;   /* detail, or a constant text (no formatting for plain errors) */

const char *dios_last_error_detail(void)
{
	return detail_text ? detail_text : "";
}

void dios__detail_set(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	detail_text = detail;
}

void dios__detail_const(const char *text)
{
	detail_text = text;
}

/* What a D_DETAIL_* code of the daemon says, and what to do about it. */
void dios__detail_limit(int err, uint64_t code, uint64_t value)
{
	const char *what, *how;
	switch (code) {
	case D_DETAIL_MAX_REFS:
		what = "references this task may hold";
		how = "delete references it no longer needs, or raise diosd --max-refs";
		break;
	case D_DETAIL_MAX_BUFFERS:
		what = "buffers this task may have acquired and not released";
		how = "release buffers before acquiring more, or raise diosd --max-buffers";
		break;
	case D_DETAIL_MAX_PARKED:
		what = "calls this task may have waiting in the daemon";
		how = "wait for fewer things at once, or raise diosd --max-parked-calls";
		break;
	case D_DETAIL_MAX_TASK_MEMORY:
		what = "bytes of private memory (D_OBJ_PRIVMEM) this task may hold";
		how = "free private memory, or raise diosd --max-task-memory";
		break;
	case D_DETAIL_MAX_SELECT:
		what = "references this task's waiting dios_select calls may watch in all";
		how = "select over fewer references at once";
		break;
	case D_DETAIL_MAX_GROUPS:
		what = "groups this task may be in (DIOS_RUN_MAX_GROUPS)";
		how = "leave a group first";
		break;
	case D_DETAIL_QUOTA_OBJECTS:
		what = "objects this user may have in the daemon (a per-user quota)";
		how = "delete objects this user no longer needs, or raise diosd --quota-objects";
		break;
	case D_DETAIL_QUOTA_NAMES:
		what = "names this user's objects may hold (a per-user quota)";
		how = "delete named objects this user no longer needs, or raise diosd --quota-names";
		break;
	case D_DETAIL_QUOTA_MEMORY:
		what = "bytes of PRIVMEM and SHMEM objects this user may have (a per-user quota)";
		how = "delete memory objects this user no longer needs, or raise diosd --quota-memory";
		break;
	case D_DETAIL_QUOTA_FIFOS:
		what = "FIFOs this user may have (a per-user quota)";
		how = "delete FIFOs this user no longer needs, or raise diosd --quota-fifos";
		break;
	case D_DETAIL_QUOTA_BLOBS:
		what = "durable blobs this user may have created (a per-user quota)";
		how = "zombify blobs this user no longer needs (dios_delete with D_DELETE_ZOMBIFY), or raise diosd --quota-blobs";
		break;
	case D_DETAIL_QUOTA_BLOB_BYTES:
		what = "bytes of the durable blobs this user created (a per-user quota)";
		how = "zombify or shrink blobs this user no longer needs, or raise diosd --quota-blob-bytes";
		break;
	default:
		dios__detail_set("%s (the daemon gave detail code %llu, which this libdlibc does not know)",
				 dios_strerror(err), (unsigned long long)code);
		return;
	}
	dios__detail_set("%s: limit of %s reached (%llu): %s",
			 dios_strerror(err), what, (unsigned long long)value, how);
}
