/* t_self: dios_self is this task's D_OBJ_TASK reference, dios_self_exe the SHA-256 name of its executable's path; a forked child is another task. */
#define _GNU_SOURCE
#include "helpers.h"

#include <limits.h>

int main(void)
{
	alarm(60);
	dt_start_daemon();

	dios_ref_t *self = dios_self();
	CHECK(self != NULL);
	CHECK(dios_self() == self);
	dios_ref_info_t info;
	CHECK_EQ(dios_ref_info(self, &info), 0);
	CHECK_EQ(info.type, D_OBJ_TASK);
	uint64_t my_task_object = info.object_id;

	const dios_name_t *exe = dios_self_exe();
	CHECK(exe != NULL);
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	CHECK(n > 0);
	path[n] = 0;
	dios_name_t want;
	CHECK_EQ(dios_name_from_string(path, &want), 0);
	if (memcmp(exe->raw, want.raw, 32) != 0) {
		char a[DIOS_NAME_STRLEN], b[DIOS_NAME_STRLEN];
		dt_fail(__FILE__, __LINE__, "dios_self_exe() = %s, want SHA-256(\"%s\") = %s",
			dios_nametostr(exe, a), path, dios_nametostr(&want, b));
	}

	int p[2];
	CHECK_EQ(pipe(p), 0);
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		alarm(30);
		dios_ref_t *cs = dios_self();
		CHECK(cs != NULL);
		dios_ref_info_t ci;
		CHECK_EQ(dios_ref_info(cs, &ci), 0);
		CHECK_EQ(ci.type, D_OBJ_TASK);
		CHECK_NE(ci.object_id, my_task_object);   /* a new task, not the parent's */
		const dios_name_t *ce = dios_self_exe();
		CHECK(ce != NULL);
		CHECK_EQ(memcmp(ce->raw, want.raw, 32), 0);   /* same executable */
		dios_daemon_stats_t s = dt_stats();
		CHECK_EQ(s.tasks, 2);
		_exit(0);
	}
	CHECK_CHILD_OK(pid);
	CHECK(dios_self() == self);
	CHECK_EQ(dios_ref_info(self, &info), 0);
	CHECK_EQ(info.object_id, my_task_object);

	dt_stop_daemon();
	return T_EXIT_PASS;
}
