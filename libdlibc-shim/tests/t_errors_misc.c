/* t_errors_misc: unknown flags are -EINVAL on every call, errno values match the ABI, dios_strerror texts are distinct. */
#include "helpers.h"

#define BAD (1ULL << 40)

int main(void)
{
	alarm(60);

	/* the ABI spells out Linux's numbers */
	CHECK_EQ(DIOS_EPERM, EPERM);
	CHECK_EQ(DIOS_ESRCH, ESRCH);
	CHECK_EQ(DIOS_E2BIG, E2BIG);
	CHECK_EQ(DIOS_ENOEXEC, ENOEXEC);
	CHECK_EQ(DIOS_EBUSY, EBUSY);
	CHECK_EQ(DIOS_ENOENT, ENOENT);
	CHECK_EQ(DIOS_EIO, EIO);
	CHECK_EQ(DIOS_EBADF, EBADF);
	CHECK_EQ(DIOS_EAGAIN, EAGAIN);
	CHECK_EQ(DIOS_ENOMEM, ENOMEM);
	CHECK_EQ(DIOS_EACCES, EACCES);
	CHECK_EQ(DIOS_EFAULT, EFAULT);
	CHECK_EQ(DIOS_EEXIST, EEXIST);
	CHECK_EQ(DIOS_EINVAL, EINVAL);
	CHECK_EQ(DIOS_ENOSPC, ENOSPC);
	CHECK_EQ(DIOS_EPIPE, EPIPE);
	CHECK_EQ(DIOS_ENOSYS, ENOSYS);
	CHECK_EQ(DIOS_EIDRM, EIDRM);
	CHECK_EQ(DIOS_EPROTO, EPROTO);
	CHECK_EQ(DIOS_EOPNOTSUPP, EOPNOTSUPP);
	CHECK_EQ(DIOS_ENOTCONN, ENOTCONN);
	CHECK_EQ(DIOS_EHOSTDOWN, EHOSTDOWN);
	CHECK_EQ(DIOS_ESTALE, ESTALE);

	/* dios_strerror: a distinct, non-empty text for each code the API returns */
	static const int codes[] = { 0, -EPERM, -ESRCH, -E2BIG, -ENOEXEC, -ENOENT, -EIO, -EBADF, -EAGAIN, -ENOMEM,
				     -EACCES, -EFAULT, -EBUSY, -EEXIST, -EINVAL, -ENOSPC, -EPIPE, -ENOSYS, -EIDRM,
				     -EPROTO, -EOPNOTSUPP, -ENOTCONN, -EHOSTDOWN, -ESTALE };
	enum { NC = sizeof(codes) / sizeof(codes[0]) };
	const char *txt[NC];
	for (int i = 0; i < NC; i++) {
		txt[i] = dios_strerror(codes[i]);
		if (!txt[i] || !txt[i][0])
			dt_fail(__FILE__, __LINE__, "dios_strerror(%d) is empty", codes[i]);
		for (int j = 0; j < i; j++)
			if (strcmp(txt[i], txt[j]) == 0)
				dt_fail(__FILE__, __LINE__, "dios_strerror(%d) == dios_strerror(%d) == \"%s\"",
					codes[i], codes[j], txt[i]);
	}
	/* every code of the ABI has its own text: none is the text of an unknown code */
	for (int i = 1; i < NC; i++)
		if (strcmp(txt[i], dios_strerror(-9999)) == 0)
			dt_fail(__FILE__, __LINE__, "dios_strerror(%d) is the unknown-code text", codes[i]);
	{
		const char *u = dios_strerror(-9999);
		CHECK(u != NULL);
		u = dios_strerror(12345);
		CHECK(u != NULL);
	}

	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();

	/* an unknown flag, and a flag of another call, on each call: -EINVAL and no effect */
	uint64_t size = 4096;
	dios_ref_t *r = NULL, *x = NULL;
	dios_name_t name;
	CHECK_EQ(dios_nop(BAD), -EINVAL);
	CHECK_EQ(dios_nop(D_CREATE_NAME_GIVEN), -EINVAL);
	CHECK_EQ(dios_create(BAD, D_OBJ_SHMEM, &size, NULL, &x, 0), -EINVAL);
	CHECK_EQ(dios_create(1ULL << 63, D_OBJ_SHMEM, &size, NULL, &x, 0), -EINVAL);
	CHECK_EQ(dios_create(D_LOOKUP_READONLY, D_OBJ_SHMEM, &size, NULL, &x, 0), -EINVAL);
	dios_daemon_stats_t s = dt_stats();
	CHECK_STATS_EQ(s, base);

	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, &name, &r, 0), 0);
	uint64_t count = 1;
	CHECK_EQ(dios_lookup(BAD, &name, &x, &count), -EINVAL);
	count = 1;
	CHECK_EQ(dios_lookup(D_DELETE_ZOMBIFY, &name, &x, &count), -EINVAL);
	count = 1;
	CHECK_EQ(dios_lookup(D_CREATE_NAME_GIVEN, &name, &x, &count), -EINVAL);
	CHECK_EQ(dios_delete(BAD, r), -EINVAL);
	CHECK_EQ(dios_delete(D_LOOKUP_READONLY, r), -EINVAL);
	dios_ref_info_t info;
	CHECK_EQ(dios_ref_info(r, &info), 0);   /* the refused deletes released nothing */

	dios_iovec_t *w = NULL, *rd = NULL;
	CHECK_EQ(dios_acquire_read(BAD, r, 0, &rd), -EINVAL);
	CHECK_EQ(dios_acquire_write(BAD, r, 0, &w), -EINVAL);
	CHECK_EQ(dios_acquire_read(D_LOOKUP_READONLY, r, 0, &rd), -EINVAL);
	CHECK_EQ(dios_acquire_write(D_DELETE_ZOMBIFY, r, 0, &w), -EINVAL);
	s = dt_stats();
	CHECK_EQ(s.buffers, base.buffers);
	CHECK_EQ(dios_acquire_read(0, r, 0, &rd), 0);
	CHECK_EQ(dios_acquire_write(0, r, 0, &w), 0);
	CHECK_EQ(dios_commit_read(BAD, r, rd), -EINVAL);
	CHECK_EQ(dios_release_read(BAD, r, rd), -EINVAL);
	CHECK_EQ(dios_commit_write(BAD, r, 8, w), -EINVAL);
	CHECK_EQ(dios_release_write(BAD, r, w), -EINVAL);
	/* refused calls left the buffers usable */
	CHECK_EQ(dios_commit_write(0, r, 8, w), 0);
	CHECK_EQ(dios_commit_read(0, r, rd), -ESTALE);
	CHECK_EQ(dios_release_read(0, r, rd), 0);
	CHECK_EQ(dios_release_write(0, r, w), 0);
	/* D_NONBLOCK is accepted by every I/O call */
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, r, 0, &rd), 0);
	CHECK_EQ(dios_commit_read(D_NONBLOCK, r, rd), 0);
	CHECK_EQ(dios_release_read(D_NONBLOCK, r, rd), 0);
	CHECK_EQ(dios_acquire_write(D_NONBLOCK, r, 0, &w), 0);
	CHECK_EQ(dios_commit_write(D_NONBLOCK, r, 8, w), 0);
	CHECK_EQ(dios_release_write(D_NONBLOCK, r, w), 0);

	/* copy to one's own task reference: read-only (write needed); run of a non-executable */
	dios_ref_t *self = dios_self();
	CHECK_EQ(dios_copy(0, &r, 1, self), -EACCES);
	char *argv[] = { "true", NULL };
	dios_task_spec_t spec = { .argc = 1, .argv = argv };
	dios_ref_t *task = NULL, *ready = NULL;
	CHECK_EQ(dios_run(0, r, &spec, &task), -ENOEXEC);
	/* memory never blocks: a select over it is ready at once */
	CHECK_EQ(dios_select(0, &r, 1, &ready), 0);
	CHECK(ready == r);

	CHECK_EQ(dios_delete(0, r), 0);
	s = dt_stats();
	CHECK_STATS_EQ(s, base);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
