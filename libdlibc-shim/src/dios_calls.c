/*
 * dios_calls.c - the public single calls: each builds its request and runs
 * it through the ring (dios_ring.c), which encodes and decodes it with the
 * codec (dios_codec.c, which also says which argument errors cost no round
 * trip).
 */
#include "dios_internal.h"

#include <limits.h>
#include <stdlib.h>

/* ---- the single calls ---------------------------------------------------- */

static int run1(struct dios_req *q)
{
	dios__exec(q, 1);
	return q->res;
}

int dios_create(dios_flags_t f, dios_object_type_t type, const void *arg,
		dios_name_t *name, dios_ref_t **ref_out, uint64_t host_id)
{
	struct dios_req q = { .op = D_OP_CREATE, .flags = f, .type = type, .arg = arg,
			      .name = name, .ref_out = ref_out, .host_id = host_id };
	return run1(&q);
}

int dios_lookup(dios_flags_t f, const dios_name_t *name, dios_ref_t **refs, uint64_t *count)
{
	struct dios_req q = { .op = D_OP_LOOKUP, .flags = f, .name = (dios_name_t *)name,
			      .ref_out = refs, .count = count };
	return run1(&q);
}

int dios_copy(dios_flags_t f, dios_ref_t **refs, uint64_t count, dios_ref_t *target_task)
{
	struct dios_req q = { .op = D_OP_COPY, .flags = f, .refs = refs, .count_store = count,
			      .ref2 = target_task };
	q.count = &q.count_store;
	return run1(&q);
}

int dios_delete(dios_flags_t f, dios_ref_t *ref)
{
	struct dios_req q = { .op = D_OP_DELETE, .flags = f, .ref = ref };
	return run1(&q);
}

int dios_run(dios_flags_t f, dios_ref_t *exe, const dios_task_spec_t *spec, dios_ref_t **task_out)
{
	return dios_run_env(f, exe, spec, NULL, task_out);
}

int dios_run_env(dios_flags_t f, dios_ref_t *exe, const dios_task_spec_t *spec, char *const envp[],
		 dios_ref_t **task_out)
{
	struct dios_req q = { .op = D_OP_RUN, .flags = f | D_RUN_ENV, .ref = exe, .spec = spec, .envp = envp,
			      .ref_out = task_out };
	return run1(&q);
}

int dios_create_in(dios_flags_t f, dios_object_type_t type, const void *arg,
		   dios_name_t *name, dios_ref_t **ref_out, dios_ref_t *group)
{
	if (!group)
		return -EBADF;
	struct dios_req q = { .op = D_OP_CREATE, .flags = f, .type = type, .arg = arg,
			      .name = name, .ref_out = ref_out, .ref2 = group };
	return run1(&q);
}

int dios_exe(const char *path, dios_ref_t **ref_out)
{
	if (!path || !ref_out)
		return -EINVAL;
	char abs[PATH_MAX];
	if (!realpath(path, abs))
		return errno == ENAMETOOLONG ? -ENAMETOOLONG : errno == EACCES ? -EACCES : -ENOENT;
	return dios_create(0, D_OBJ_EXE, abs, NULL, ref_out, 0);
}

int dios_delegated(dios_flags_t f, dios_ref_t **refs, uint64_t *count)
{
	if (!refs || !count || *count == 0)
		return -EINVAL;
	uint64_t want = *count, got = 0;
	for (;;) {
		uint64_t n = want - got;
		struct dios_req q = { .op = D_OP_DELEGATED, .flags = f, .ref_out = refs + got, .count = &n };
		int rc = run1(&q);
		if (rc < 0)
			return rc;
		got += n;
		if (n < DIOS_DELEGATED_BATCH || got == want)
			break;
	}
	*count = got;
	return 0;
}

/* dios_wait and dios_wait_timeout: read the task reference (an inline exit status). */
static int wait_task(dios_flags_t f, dios_ref_t *task, int *status_out, uint64_t timeout_ns)
{
	dios_iovec_t *iov = NULL;
	struct dios_req q = { .op = D_OP_ACQUIRE_READ, .flags = f, .ref = task, .iov_out = &iov,
			      .timeout_ns = timeout_ns };
	int rc = run1(&q);
	if (rc < 0)
		return rc;
	struct dios_bufrec *r = dios__buf_lookup(iov);
	if (!r || r->fifo != DIOS_BUF_INLINE) {
		dios_release_read(0, task, iov);
		return -EINVAL;                 /* not a task reference */
	}
	if (status_out)
		*status_out = ((const struct dios_task_exit *)iov->buf)->status;
	return dios_release_read(0, task, iov);
}

int dios_wait(dios_flags_t f, dios_ref_t *task, int *status_out)
{
	return wait_task(f, task, status_out, 0);
}

int dios_wait_timeout(dios_flags_t f, dios_ref_t *task, int *status_out, uint64_t timeout_ns)
{
	return wait_task(f | D_TIMEOUT, task, status_out, timeout_ns);
}

int dios_select(dios_flags_t f, dios_ref_t **refs, uint64_t count, dios_ref_t **ready_out)
{
	struct dios_req q = { .op = D_OP_SELECT, .flags = f, .refs = refs, .count_store = count,
			      .ref_out = ready_out };
	q.count = &q.count_store;
	return run1(&q);
}

int dios_select_timeout(dios_flags_t f, dios_ref_t **refs, uint64_t count, dios_ref_t **ready_out,
			uint64_t timeout_ns)
{
	struct dios_req q = { .op = D_OP_SELECT, .flags = f | D_TIMEOUT, .refs = refs, .count_store = count,
			      .ref_out = ready_out, .timeout_ns = timeout_ns };
	q.count = &q.count_store;
	return run1(&q);
}

int dios_acquire_read(dios_flags_t f, dios_ref_t *r, uint64_t len, dios_iovec_t **iov_out)
{
	struct dios_req q = { .op = D_OP_ACQUIRE_READ, .flags = f, .ref = r, .len = len, .iov_out = iov_out };
	return run1(&q);
}

int dios_acquire_read_timeout(dios_flags_t f, dios_ref_t *r, uint64_t len, dios_iovec_t **iov_out,
			      uint64_t timeout_ns)
{
	struct dios_req q = { .op = D_OP_ACQUIRE_READ, .flags = f | D_TIMEOUT, .ref = r, .len = len,
			      .iov_out = iov_out, .timeout_ns = timeout_ns };
	return run1(&q);
}

int dios_commit_read(dios_flags_t f, dios_ref_t *r, dios_iovec_t *iov)
{
	struct dios_req q = { .op = D_OP_COMMIT_READ, .flags = f, .ref = r, .iov = iov };
	return run1(&q);
}

int dios_release_read(dios_flags_t f, dios_ref_t *r, dios_iovec_t *iov)
{
	struct dios_req q = { .op = D_OP_RELEASE_READ, .flags = f, .ref = r, .iov = iov };
	return run1(&q);
}

int dios_acquire_write(dios_flags_t f, dios_ref_t *r, uint64_t len, dios_iovec_t **iov_out)
{
	struct dios_req q = { .op = D_OP_ACQUIRE_WRITE, .flags = f, .ref = r, .len = len, .iov_out = iov_out };
	return run1(&q);
}

int dios_acquire_write_timeout(dios_flags_t f, dios_ref_t *r, uint64_t len, dios_iovec_t **iov_out,
			       uint64_t timeout_ns)
{
	struct dios_req q = { .op = D_OP_ACQUIRE_WRITE, .flags = f | D_TIMEOUT, .ref = r, .len = len,
			      .iov_out = iov_out, .timeout_ns = timeout_ns };
	return run1(&q);
}

int dios_commit_write(dios_flags_t f, dios_ref_t *r, uint64_t len, dios_iovec_t *iov)
{
	struct dios_req q = { .op = D_OP_COMMIT_WRITE, .flags = f, .ref = r, .len = len, .iov = iov };
	return run1(&q);
}

int dios_release_write(dios_flags_t f, dios_ref_t *r, dios_iovec_t *iov)
{
	struct dios_req q = { .op = D_OP_RELEASE_WRITE, .flags = f, .ref = r, .iov = iov };
	return run1(&q);
}

int dios_ref_info(dios_ref_t *ref, dios_ref_info_t *out)
{
	struct dios_req q = { .op = D_OP_REF_INFO, .ref = ref, .info = out };
	return run1(&q);
}

int dios_nop(dios_flags_t f)
{
	struct dios_req q = { .op = D_OP_NOP, .flags = f };
	return run1(&q);
}

int dios_daemon_stats(dios_daemon_stats_t *out)
{
	struct dios_req q = { .op = D_OP_STATS, .stats = out };
	return run1(&q);
}

dios_ref_t *dios_pickref(const dios_name_t *name)
{
	dios_ref_t *r = NULL;
	uint64_t count = 1;
	if (dios_lookup(0, name, &r, &count) != 0 || count == 0)
		return NULL;
	return r;
}

/* ---- starting over after the daemon died --------------------------------- */

int dios_reconnect(void)
{
	int cs = dios__call_lock();
	int rc = dios__conn_drop_locked();
	if (rc == 0) {
		/*
		 * The dead connection's segments, buffers and FIFO ends mean
		 * nothing to the new daemon (its ids start over): forget them.
		 * Mappings stay mapped, as after fork: a buffer the program
		 * still points into is never pulled from under it.
		 */
		dios__fifo_drop_all();
		pthread_mutex_lock(&dios__seg_lock);
		pthread_mutex_lock(&dios__book_lock);
		dios__seg_forget();
		dios__buf_forget();
		pthread_mutex_unlock(&dios__book_lock);
		pthread_mutex_unlock(&dios__seg_lock);
		rc = dios__conn_connect_locked();
	} else if (rc == 1) {
		rc = 0;                         /* up: nothing to do */
	}
	dios__call_unlock(cs);
	return rc;
}
