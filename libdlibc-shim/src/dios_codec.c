/*
 * dios_codec.c - every call's encoding (argument checks, SQE fields) and
 * decoding (CQE -> the caller's outputs), written once; the ring
 * (dios_ring.c) runs them for the single calls (dios_calls.c) and for
 * dios_batch (dios_batch.c) alike.
 *
 * Argument errors detected here cost no round trip:
 *   -EINVAL  a NULL output or input pointer (ref_out, name, refs, count,
 *            iov_out, iov, info, out, spec), a lookup capacity of 0, or a
 *            name flag without a name;
 *   -EBADF   a NULL reference handle: reference ids are never 0, so NULL is
 *            not a reference this task holds (same answer the daemon gives
 *            for any other value it did not issue);
 *   -EFAULT  an iov the shim did not issue or that was released;
 *   -EINVAL  an iov of the other kind (read vs write) or of another reference;
 *   -EHOSTDOWN  dios_create with host_id != 0 (no cluster yet).
 * Flags are checked by the daemon.
 */
#include "dios_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;                  /* dios_run: a child inherits it by default */

/* ---- encode -------------------------------------------------------------- */

/*
 * CREATE D_OBJ_EXE: the program file, opened here with this process's own
 * credentials, so the daemon never opens a path for a task (issue 18.1, 18.9).
 * O_NOFOLLOW: the last component is no symlink; O_NONBLOCK: a FIFO renamed
 * over the path cannot block the open; then a regular file only.  The path
 * must be canonical (dios_exe makes it so): the kernel's own path of the
 * opened file must be it, so the name (SHA-256 of the path) and the file
 * agree.  Without /proc the comparison is skipped; the daemon makes the same
 * one before every spawn.  Returns the fd or -errno.
 */
static int exe_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		switch (errno) {
		case ENOENT: case ENOTDIR:      return -ENOENT;
		case ENAMETOOLONG:              return -ENAMETOOLONG;
		case ELOOP:                     return -EINVAL;   /* a symlink: not a canonical path */
		case EMFILE: case ENFILE:       return -EMFILE;
		default:                        return -EACCES;   /* no permission, or a socket, ... */
		}
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EACCES;                 /* not a regular file (a FIFO, a device, a directory) */
	}
	char link[40], real[DIOS_EXE_PATH_MAX];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t k = readlink(link, real, sizeof real);
	if (k >= 0 && ((size_t)k != strlen(path) || memcmp(real, path, (size_t)k) != 0)) {
		close(fd);
		return -EINVAL;                 /* not the canonical path, or it moved meanwhile */
	}
	return fd;
}

static int enc_create(struct dios_req *q, struct dios_sqe *s)
{
	if (!q->ref_out)
		return -EINVAL;
	if (q->host_id != 0)
		return -EHOSTDOWN;
	if (!q->name && (q->flags & (D_CREATE_NAMED | D_CREATE_NAME_GIVEN)))
		return -EINVAL;                 /* nowhere to read or return the name */
	if (q->name) {
		q->flags |= D_CREATE_NAMED;
		if (q->flags & D_CREATE_NAME_GIVEN)
			memcpy(s->name, q->name->raw, sizeof s->name);
	}
	s->obj_type = (uint32_t)q->type;
	if (q->ref2)
		s->ref2 = dios__ref_id(q->ref2); /* the group to bind the name in */
	if (q->type == D_OBJ_EXE) {
		/* arg: an absolute path, carried in the args area */
		const char *path = q->arg;
		if (!path || path[0] != '/' || (q->flags & D_CREATE_NAME_GIVEN))
			return -EINVAL;
		size_t n = strnlen(path, DIOS_EXE_PATH_MAX);
		if (n >= DIOS_EXE_PATH_MAX)
			return -ENAMETOOLONG;
		int fd = exe_open(path);
		if (fd < 0)
			return fd;
		q->exe_fd = fd;
		q->exe_fd_set = 1;
		s->sqe_flags = D_SQE_ARGS | D_SQE_FD;
		s->len = n;
		q->args_len = (uint32_t)n;
		return 0;
	}
	if (q->arg) {
		s->len = *(const uint64_t *)q->arg;
		s->sqe_flags = D_SQE_ARG;
	}
	return 0;
}

static int enc_lookup(struct dios_req *q, struct dios_sqe *s)
{
	if (!q->name || !q->ref_out || !q->count || *q->count == 0)
		return -EINVAL;
	s->len = *q->count;
	memcpy(s->name, q->name->raw, sizeof s->name);
	return 0;
}

static int enc_ref(struct dios_req *q, struct dios_sqe *s)
{
	if (!q->ref)
		return -EBADF;
	s->ref = dios__ref_id(q->ref);
	return 0;
}

static int enc_acquire(struct dios_req *q, struct dios_sqe *s)
{
	if (!q->iov_out)
		return -EINVAL;
	if (!q->ref)
		return -EBADF;
	s->ref = dios__ref_id(q->ref);
	s->len = q->len;
	return 0;
}

/* COMMIT_* / RELEASE_*: find and check the buffer record behind iov. */
static int enc_buffer(struct dios_req *q, struct dios_sqe *s, uint32_t kind)
{
	if (!q->ref)
		return -EBADF;
	if (!q->iov)
		return -EINVAL;
	struct dios_bufrec *r = dios__buf_lookup(q->iov);
	if (!r)
		return -EFAULT;                 /* not issued by us, or released */
	if (r->kind != kind || r->ref_id != dios__ref_id(q->ref))
		return -EINVAL;                 /* read buffer to a write call (or vice versa), or another ref */
	q->rec = r;
	q->buf_id = r->buf_id;
	s->ref = r->ref_id;
	s->buf = r->buf_id;
	if (q->op == D_OP_COMMIT_WRITE)
		s->len = q->len;
	return 0;
}

static int enc_ref_info(struct dios_req *q, struct dios_sqe *s)
{
	if (!q->info)
		return -EINVAL;
	return enc_ref(q, s);
}

/* COPY: ref2 = the target task, len = count; the reference array goes to the args area. */
static int enc_copy(struct dios_req *q, struct dios_sqe *s)
{
	if (!q->refs || !q->count || *q->count == 0)
		return -EINVAL;
	if (*q->count > DIOS_MAX_COPY_REFS)
		return -E2BIG;
	if (!q->ref2)
		return -EBADF;
	for (uint64_t i = 0; i < *q->count; i++)
		if (!q->refs[i])
			return -EBADF;
	s->len = *q->count;
	s->ref2 = dios__ref_id(q->ref2);
	q->args_len = (uint32_t)(*q->count * sizeof(uint64_t));
	return 0;
}

/* RUN: ref = the executable; the task spec (struct dios_run_args and what follows) goes to the args area. */
static int enc_run(struct dios_req *q, struct dios_sqe *s)
{
	const dios_task_spec_t *t = q->spec;
	if (!q->ref)                            /* as every call answers a NULL reference */
		return -EBADF;
	if (!t || !q->ref_out || t->argc < 1 || !t->argv)
		return -EINVAL;
	if ((t->ref_count && !t->refs) || (t->group_count && !t->groups))
		return -EINVAL;
	if (t->ref_count > DIOS_RUN_MAX_REFS || t->group_count > DIOS_RUN_MAX_GROUPS)
		return -E2BIG;
	uint64_t bytes = 0;
	for (int i = 0; i < t->argc; i++) {
		if (!t->argv[i])
			return -EINVAL;
		bytes += strnlen(t->argv[i], DIOS_RUN_MAX_ARGV_BYTES) + 1;
		if (bytes > DIOS_RUN_MAX_ARGV_BYTES)
			return -E2BIG;
	}
	for (uint64_t i = 0; i < t->ref_count; i++)
		if (!t->refs[i])
			return -EBADF;
	for (uint64_t i = 0; i < t->group_count; i++)
		if (!t->groups[i])
			return -EBADF;
	/* the child's environment: the caller's envp, or ours (inherited, as a Unix child's) */
	char *const *env = q->envp ? q->envp : environ;
	uint64_t ebytes = 0;
	uint32_t ecount = 0;
	for (; env && env[ecount]; ecount++) {
		ebytes += strnlen(env[ecount], DIOS_RUN_MAX_ENV_BYTES) + 1;
		if (ebytes > DIOS_RUN_MAX_ENV_BYTES)
			return -E2BIG;
	}
	q->env_count = ecount;
	q->env_bytes = (uint32_t)ebytes;
	s->ref = dios__ref_id(q->ref);
	s->ref2 = ebytes;
	s->len = sizeof(struct dios_run_args) + 8 * (t->ref_count + t->group_count) + bytes + ebytes;
	q->args_len = (uint32_t)s->len;
	return 0;
}

/*
 * Copies n strings into exactly cap bytes, each NUL-terminated.  The sizes
 * were counted at encode; a string that changed since (another thread's
 * setenv, which POSIX leaves undefined anyway) is cut, never overruns, and
 * leftover bytes are NULs (extra empty strings: the daemon refuses the block).
 */
static char *put_strings(char *p, size_t cap, char *const *v, uint64_t n)
{
	char *end = p + cap;
	for (uint64_t j = 0; j < n && p < end; j++) {
		size_t room = (size_t)(end - p) - 1;
		size_t len = v[j] ? strnlen(v[j], room) : 0;
		memcpy(p, v[j], len);
		p[len] = '\0';
		p += len + 1;
	}
	if (p < end)
		memset(p, 0, (size_t)(end - p));
	return end;
}

/* SELECT: len = count; the reference array goes to the args area at submission (buf = its offset). */
static int enc_select(struct dios_req *q, struct dios_sqe *s)
{
	if (!q->refs || !q->count || *q->count == 0 || !q->ref_out)
		return -EINVAL;
	if (*q->count > DIOS_MAX_SELECT_REFS)
		return -E2BIG;
	s->len = *q->count;
	q->args_len = (uint32_t)(*q->count * sizeof(uint64_t));
	return 0;
}

/* DELEGATED: len = how many references the caller can take now (at most DIOS_DELEGATED_BATCH). */
static int enc_delegated(struct dios_req *q, struct dios_sqe *s)
{
	if (!q->ref_out || !q->count || *q->count == 0)
		return -EINVAL;
	s->len = *q->count < DIOS_DELEGATED_BATCH ? *q->count : DIOS_DELEGATED_BATCH;
	return 0;
}

void dios__write_args(struct dios_req *q, void *dst)
{
	switch (q->op) {
	case D_OP_SELECT:
	case D_OP_COPY: {
		uint64_t *ids = dst;
		for (uint64_t j = 0; j < *q->count; j++)
			ids[j] = dios__ref_id(q->refs[j]);
		break;
	}
	case D_OP_CREATE:                       /* D_OBJ_EXE: the path, without its NUL */
		memcpy(dst, q->arg, q->args_len);
		break;
	case D_OP_RUN: {
		const dios_task_spec_t *t = q->spec;
		struct dios_run_args *a = dst;
		uint64_t *ids = (uint64_t *)(a + 1);
		uint32_t argv_bytes = q->args_len - q->env_bytes - (uint32_t)(sizeof *a + 8 * (t->ref_count + t->group_count));
		a->argc = (uint32_t)t->argc;
		a->ref_count = (uint32_t)t->ref_count;
		a->group_count = (uint32_t)t->group_count;
		a->argv_bytes = argv_bytes;
		for (uint64_t j = 0; j < t->ref_count; j++)
			*ids++ = dios__ref_id(t->refs[j]);
		for (uint64_t j = 0; j < t->group_count; j++)
			*ids++ = dios__ref_id(t->groups[j]);
		char *p = (char *)ids;
		p = put_strings(p, argv_bytes, t->argv, (uint64_t)t->argc);
		put_strings(p, q->env_bytes, q->envp ? q->envp : environ, q->env_count);
		break;
	}
	default:
		break;
	}
}

static int enc_stats(struct dios_req *q, struct dios_sqe *s)
{
	(void)s;
	return q->stats ? 0 : -EINVAL;
}

int dios__encode(struct dios_req *q)
{
	struct dios_sqe *s = &q->sqe;
	memset(s, 0, sizeof *s);
	q->args_len = 0;
	int rc;
	switch (q->op) {
	case D_OP_NOP:           rc = 0; break;
	case D_OP_CREATE:        rc = enc_create(q, s); break;
	case D_OP_LOOKUP:        rc = enc_lookup(q, s); break;
	case D_OP_COPY:          rc = enc_copy(q, s); break;
	case D_OP_DELETE:        rc = enc_ref(q, s); break;
	case D_OP_RUN:           rc = enc_run(q, s); break;
	case D_OP_SELECT:        rc = enc_select(q, s); break;
	case D_OP_ACQUIRE_READ:
	case D_OP_ACQUIRE_WRITE: rc = enc_acquire(q, s); break;
	case D_OP_COMMIT_READ:
	case D_OP_RELEASE_READ:  rc = enc_buffer(q, s, DIOS_BUF_READ); break;
	case D_OP_COMMIT_WRITE:
	case D_OP_RELEASE_WRITE: rc = enc_buffer(q, s, DIOS_BUF_WRITE); break;
	case D_OP_REF_INFO:      rc = enc_ref_info(q, s); break;
	case D_OP_STATS:         rc = enc_stats(q, s); break;
	case D_OP_DELEGATED:     rc = enc_delegated(q, s); break;
	default:                 rc = -EINVAL; break;
	}
	s->opcode = (uint8_t)q->op;
	s->flags = q->flags;
	if (q->flags & D_TIMEOUT)               /* what is left of it: the daemon counts from its read */
		s->timeout_ns = dios__time_left(q, dios__now_ns());
	return rc;
}

/* ---- decode -------------------------------------------------------------- */

static int dec_create(struct dios_req *q, const struct dios_cqe *c)
{
	if (c->res < 0)
		return c->res;
	if (c->val[0] == 0)
		return -EPROTO;                 /* reference ids are never 0 */
	*q->ref_out = dios__ref(c->val[0]);
	if ((q->flags & D_CREATE_NAMED) && !(q->flags & D_CREATE_NAME_GIVEN))
		memcpy(q->name->raw, &c->val[1], sizeof q->name->raw);   /* val[1..4]: the 32 name bytes */
	return 0;
}

static int dec_lookup(struct dios_req *q, const struct dios_cqe *c)
{
	if (c->res < 0)
		return c->res;
	/* one CQE carries one reference id: report at most 1 */
	uint64_t found = c->val[1] > 1 ? 1 : c->val[1];
	if (found) {
		if (c->val[0] == 0)
			return -EPROTO;
		q->ref_out[0] = dios__ref(c->val[0]);
	}
	*q->count = found;
	return 0;
}

static int dec_delete(struct dios_req *q, const struct dios_cqe *c)
{
	if (c->res == 0)
		dios__fifo_forget(dios__ref_id(q->ref));  /* before its segments go */
	if (c->flags & D_CQE_F_UNMAP)           /* no reference left to these segments: val[0..5], 0 = none */
		for (int i = 0; i < 6 && c->val[i]; i++)
			dios__seg_unmap(c->val[i]);   /* a blob may have had several mapping generations */
	return c->res;
}

static int dec_acquire(struct dios_req *q, const struct dios_cqe *c)
{
	if (c->res < 0)
		return c->res;
	int write = q->op == D_OP_ACQUIRE_WRITE;
	if (c->flags & D_CQE_F_INLINE) {        /* a task's exit status: no segment, no daemon buffer */
		struct dios_bufrec *ir = write ? NULL : dios__buf_alloc();
		if (!ir)
			return write ? -EPROTO : -ENOMEM;
		ir->fifo = DIOS_BUF_INLINE;
		ir->exit.status = (int32_t)c->val[0];
		ir->exit.pid = (uint32_t)c->val[1];
		ir->exit.task_id = c->val[2];
		ir->iov.buf = &ir->exit;
		ir->iov.len = sizeof ir->exit;
		ir->ref_id = dios__ref_id(q->ref);
		ir->kind = DIOS_BUF_READ;
		*q->iov_out = &ir->iov;
		return 0;
	}
	uint64_t buf_id = c->val[0], seg_id = c->val[1], off = c->val[2], len = c->val[3];
	int writable = (c->val[5] & D_SEG_WRITE) != 0;  /* the mapping's protection, set by the daemon */
	void *base = NULL;
	uint64_t size = 0;
	struct dios_bufrec *r = NULL;
	int rc = (write && !writable) ? -EPROTO          /* a write buffer must be writable */
		: dios__seg_get(seg_id, writable, &base, &size);
	if (rc == 0 && (off > size || len > size - off))
		rc = -EPROTO;                   /* buffer outside its segment */
	if (rc == 0 && !(r = dios__buf_alloc()))
		rc = -ENOMEM;
	if (rc) {
		if (rc != -ENOTCONN) {          /* the daemon granted a buffer we cannot use */
			q->undo = 1;
			q->undo_buf = buf_id;
		}
		return rc;
	}
	r->iov.buf = (char *)base + off;
	r->iov.len = len;
	r->buf_id = buf_id;
	r->ref_id = dios__ref_id(q->ref);
	r->seg_id = seg_id;
	r->kind = write ? DIOS_BUF_WRITE : DIOS_BUF_READ;
	*q->iov_out = &r->iov;
	return 0;
}

static int dec_release(struct dios_req *q, const struct dios_cqe *c)
{
	/*
	 * Released, or the daemon no longer knows the buffer: -EINVAL (a buffer
	 * id this task and reference do not own; the shim already checked the
	 * reference, and the flags are valid) or -EBADF (its reference is gone).
	 * The record is recycled unless it was already (an earlier entry of the
	 * same batch released it, and maybe it was handed out again).
	 */
	if (c->res == 0 || c->res == -EBADF ||
	    (c->res == -EINVAL && !(q->flags & ~(uint64_t)D_FLAGS_IO_MASK)))
		if (q->rec->buf_id == q->buf_id)
			dios__buf_free(q->rec);
	return c->res;
}

static int dec_ref_info(struct dios_req *q, const struct dios_cqe *c)
{
	if (c->res < 0)
		return c->res;
	dios_ref_info_t *o = q->info;
	memset(o, 0, sizeof *o);
	o->type = (dios_object_type_t)c->val[0];
	o->perms = (uint32_t)c->val[1];
	o->size = c->val[2];
	o->state = (uint32_t)c->val[3];
	o->object_id = c->val[4];
	o->proximity = 0;               /* single host */
	o->consistency = 0;
	return 0;
}

static int dec_stats(struct dios_req *q, const struct dios_cqe *c)
{
	if (c->res < 0)
		return c->res;
	dios_daemon_stats_t *o = q->stats;
	o->tasks = c->val[0];
	o->objects = c->val[1];
	o->names = c->val[2];
	o->refs = c->val[3];
	o->buffers = c->val[4];
	o->segments = c->val[5];
	return 0;
}

/* DELEGATED: val[0..5] the references taken (0 ends the list). */
static int dec_delegated(struct dios_req *q, const struct dios_cqe *c)
{
	if (c->res < 0)
		return c->res;
	uint64_t n = 0;
	while (n < DIOS_DELEGATED_BATCH && n < *q->count && c->val[n])
		q->ref_out[n] = dios__ref(c->val[n]), n++;
	*q->count = n;
	return 0;
}

int dios__inline_begin(struct dios_req *q)
{
	if (q->op != D_OP_COMMIT_READ && q->op != D_OP_RELEASE_READ)
		return 0;
	if (!q->ref || !q->iov)
		return 0;                       /* encode gives the error */
	struct dios_bufrec *r = dios__buf_lookup(q->iov);
	if (!r || r->fifo != DIOS_BUF_INLINE)
		return 0;
	if (r->kind != DIOS_BUF_READ || r->ref_id != dios__ref_id(q->ref)) {
		q->res = -EINVAL;
		return 1;
	}
	if (q->op == D_OP_RELEASE_READ)
		dios__buf_free(r);
	q->res = 0;                             /* an exit status never goes stale */
	return 1;
}

/* RUN, SELECT: val[0] is the task / the ready reference. */
static int dec_ref_out(struct dios_req *q, const struct dios_cqe *c)
{
	if (c->res < 0)
		return c->res;
	*q->ref_out = dios__ref(c->val[0]);
	return 0;
}

int dios__decode(struct dios_req *q, const struct dios_cqe *c)
{
	switch (q->op) {
	case D_OP_CREATE:        return dec_create(q, c);
	case D_OP_LOOKUP:        return dec_lookup(q, c);
	case D_OP_DELETE:        return dec_delete(q, c);
	case D_OP_ACQUIRE_READ:
	case D_OP_ACQUIRE_WRITE: return dec_acquire(q, c);
	case D_OP_RELEASE_READ:
	case D_OP_RELEASE_WRITE: return dec_release(q, c);
	case D_OP_REF_INFO:      return dec_ref_info(q, c);
	case D_OP_STATS:         return dec_stats(q, c);
	case D_OP_DELEGATED:     return dec_delegated(q, c);
	case D_OP_RUN:
	case D_OP_SELECT:        return dec_ref_out(q, c);
	default:                 return c->res;   /* NOP, COPY, COMMIT_* */
	}
}
