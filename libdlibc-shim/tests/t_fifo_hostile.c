/* t_fifo_hostile: a writer that scribbles on the FIFO's control page (tail, state, waiters) confuses only its own reader (-EPROTO, not a crash or a hang); the daemon keeps serving, a select over the FIFO returns, and everything is released. */
#define _GNU_SOURCE
#include "helpers.h"

#include <string.h>

/* Find this process's mapping of the control page of FIFO object id (by its memfd label). */
static struct dios_fifo_ctl *find_ctl(uint64_t object_id)
{
	char want[64], line[512];
	snprintf(want, sizeof want, "/memfd:dios-fifo-ctl-%llu ", (unsigned long long)object_id);
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f != NULL);
	void *addr = NULL;
	while (fgets(line, sizeof line, f)) {
		if (strstr(line, want)) {
			unsigned long lo;
			CHECK_EQ(sscanf(line, "%lx-", &lo), 1);
			addr = (void *)lo;
			break;
		}
	}
	fclose(f);
	if (!addr)
		dt_fail(__FILE__, __LINE__, "no mapping of the control page of FIFO %llu", (unsigned long long)object_id);
	return addr;
}

int main(void)
{
	alarm(60);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();
	dios_name_t name;
	dt_random_name(&name);
	uint64_t cap = 4096;
	dios_ref_t *rd = NULL;
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_FIFO, &cap, &name, &rd, 0), 0);
	dios_ref_info_t info;
	CHECK_EQ(dios_ref_info(rd, &info), 0);
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, rd, 0, &iov), -EAGAIN);    /* the reader end: ours */

	int from, to;
	pid_t pid = dt_fork_peer(&from, &to);
	if (pid == 0) {
		dios_ref_t *w = NULL;
		uint64_t n = 1;
		CHECK_EQ(dios_lookup(0, &name, &w, &n), 0);
		CHECK_EQ(dios_acquire_write(0, w, 100, &iov), 0);
		CHECK_EQ(dios_commit_write(0, w, 100, iov), 0);
		CHECK_EQ(dios_release_write(0, w, iov), 0);
		struct dios_fifo_ctl *c = find_ctl(info.object_id);
		CHECK_EQ(dt_recv(from), '1');
		/* tail far beyond the capacity */
		__atomic_store_n(&c->tail, c->tail + 1000000, __ATOMIC_RELEASE);
		c->waiters = 0xffffffffu;       /* every bit: the daemon and the reader must cope */
		dt_send(to, 'A');
		CHECK_EQ(dt_recv(from), '2');
		/* a tail that went backwards */
		__atomic_store_n(&c->tail, 1, __ATOMIC_RELEASE);
		dt_send(to, 'B');
		CHECK_EQ(dt_recv(from), '3');
		c->state = 0xffffffffu;         /* every state bit, including zombie */
		dt_send(to, 'C');
		CHECK_EQ(dt_recv(from), 'Q');
		_exit(0);
	}
	/* the 100 honest bytes arrive first */
	CHECK_EQ(dios_acquire_read(0, rd, 0, &iov), 0);
	CHECK_EQ(iov->len, 100);
	CHECK_EQ(dios_release_read(0, rd, iov), 0);

	dt_send(to, '1');
	CHECK_EQ(dt_recv(from), 'A');
	CHECK_EQ(dios_acquire_read(0, rd, 0, &iov), -EPROTO);
	dios_ref_t *ready = NULL;
	CHECK_EQ(dios_select(0, &rd, 1, &ready), 0);            /* "ready": the reader finds out */
	CHECK(ready == rd);
	CHECK_EQ(dios_nop(0), 0);                               /* the daemon is fine */

	dt_send(to, '2');
	CHECK_EQ(dt_recv(from), 'B');
	CHECK_EQ(dios_acquire_read(D_NONBLOCK, rd, 0, &iov), -EPROTO);

	dt_send(to, '3');
	CHECK_EQ(dt_recv(from), 'C');
	CHECK_EQ(dios_acquire_read(0, rd, 0, &iov), -EIDRM);   /* it claims a zombie: believed, harmlessly */

	/* an unrelated task is served all along */
	int f2, t2;
	pid_t other = dt_fork_peer(&f2, &t2);
	if (other == 0) {
		uint64_t size = 4096;
		dios_ref_t *m = NULL;
		CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &m, 0), 0);
		CHECK_EQ(dios_delete(0, m), 0);
		_exit(0);
	}
	CHECK_CHILD_OK(other);
	dt_send(to, 'Q');
	CHECK_CHILD_OK(pid);
	CHECK_EQ(dios_delete(0, rd), 0);
	dios_daemon_stats_t s = dt_wait_stats(&base, 5000);
	CHECK_STATS_EQ(s, base);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
