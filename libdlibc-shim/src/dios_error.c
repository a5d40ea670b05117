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
