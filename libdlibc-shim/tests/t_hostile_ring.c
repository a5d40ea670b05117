/* t_hostile_ring - a task that fills its ring with garbage gets error completions; one that moves its indices is disconnected; the daemon and other tasks carry on */
#define _GNU_SOURCE
#include "helpers.h"

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

/* Register by hand (no shim): the raw protocol of PROTOCOL.md section 1. */
static struct dios_region_header *raw_register(int *sock_out, int *doorbell_out)
{
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s", dt_socket_path());
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0)
		_exit(10);
	struct dios_msg_hello h = { .magic = DIOS_MSG_HELLO, .abi_version = DIOS_ABI_VERSION };
	if (send(s, &h, sizeof h, 0) != (ssize_t)sizeof h)
		_exit(11);
	struct dios_msg_welcome w;
	union { char buf[CMSG_SPACE(2 * sizeof(int))]; struct cmsghdr al; } ctl;
	struct iovec io = { &w, sizeof w };
	struct msghdr mh = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
	if (recvmsg(s, &mh, 0) != (ssize_t)sizeof w || w.status != 0)
		_exit(12);
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		_exit(13);
	int fds[2];
	memcpy(fds, CMSG_DATA(c), sizeof fds);
	void *r = mmap(NULL, DIOS_REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	if (r == MAP_FAILED)
		_exit(14);
	*sock_out = s;
	*doorbell_out = fds[1];
	return r;
}

static void ring(int doorbell)
{
	uint64_t one = 1;
	ssize_t n = write(doorbell, &one, sizeof one);
	(void)n;
}

static int hung_up(int s, int ms)
{
	struct pollfd p = { .fd = s, .events = POLLRDHUP };
	return poll(&p, 1, ms) == 1 && (p.revents & (POLLHUP | POLLRDHUP));
}

/* mode 0: garbage entries with a valid tail; 1: tail past the end; 2: tail backwards */
static void hostile(int mode)
{
	int s, doorbell;
	struct dios_region_header *h = raw_register(&s, &doorbell);
	uint8_t *sq = (uint8_t *)h + DIOS_REGION_SQ_OFFSET;
	struct dios_cqe *cq = (struct dios_cqe *)((uint8_t *)h + DIOS_REGION_CQ_OFFSET);
	uint32_t x = 12345 + (uint32_t)mode;
	uint32_t tail = h->sq_tail;
	if (mode == 0) {
		for (int round = 0; round < 50; round++) {
			for (int i = 0; i < (int)DIOS_SQ_ENTRIES; i++)
				for (int k = 0; k < 128; k++) {
					x ^= x << 13; x ^= x >> 17; x ^= x << 5;
					sq[((tail + i) & (DIOS_SQ_ENTRIES - 1)) * 128 + k] = (uint8_t)x;
				}
			tail += DIOS_SQ_ENTRIES;
			__atomic_store_n(&h->sq_tail, tail, __ATOMIC_RELEASE);
			ring(doorbell);
			uint64_t t0 = dt_now_ns();
			while (__atomic_load_n(&h->cq_tail, __ATOMIC_ACQUIRE) != tail)
				if (dt_now_ns() - t0 > 5000000000ull || hung_up(s, 0))
					_exit(20);     /* no completions: the daemon stalled or dropped us */
			for (uint32_t i = tail - DIOS_SQ_ENTRIES; i != tail; i++)
				if (cq[i & (DIOS_CQ_ENTRIES - 1)].res > 0)
					_exit(21);     /* results are 0 or -errno, never positive */
			__atomic_store_n(&h->cq_head, tail, __ATOMIC_RELEASE);
		}
		_exit(0);
	}
	tail = mode == 1 ? tail + 1000 : tail - 5;
	__atomic_store_n(&h->sq_tail, tail, __ATOMIC_RELEASE);
	ring(doorbell);
	_exit(hung_up(s, 5000) ? 0 : 22);   /* disconnected, not served and not ignored */
}

int main(void)
{
	alarm(60);
	dt_start_daemon();
	dios_daemon_stats_t base = dt_stats();

	uint64_t size = 1 << 16;
	dios_ref_t *ref;
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &size, NULL, &ref, 0), 0);
	for (int mode = 0; mode < 3; mode++) {
		pid_t p = fork();
		CHECK(p >= 0);
		if (p == 0)
			hostile(mode);
		/* meanwhile an honest task's work completes, checked byte for byte */
		for (uint32_t seed = 1; seed <= 200; seed++) {
			dios_iovec_t *w, *r;
			CHECK_EQ(dios_acquire_write(0, ref, 0, &w), 0);
			dt_fill(w->buf, w->len, seed);
			CHECK_EQ(dios_commit_write(0, ref, w->len, w), 0);
			CHECK_EQ(dios_release_write(0, ref, w), 0);
			CHECK_EQ(dios_acquire_read(0, ref, 0, &r), 0);
			CHECK_EQ(dt_verify(r->buf, r->len, seed), -1);
			CHECK_EQ(dios_release_read(0, ref, r), 0);
		}
		int st;
		CHECK_EQ(waitpid(p, &st, 0), p);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "hostile mode %d: child status %#x\n", mode, st);
			CHECK(0);
		}
	}
	CHECK_EQ(dios_delete(0, ref), 0);
	dios_daemon_stats_t got = dt_wait_stats(&base, 5000);
	CHECK_STATS_EQ(got, base);      /* the hostile tasks left nothing behind */
	CHECK_EQ(dios_nop(0), 0);

	/* the daemon said why it dropped them */
	char cmd[512];
	snprintf(cmd, sizeof cmd, "grep -c 'corrupt ring' %s/diosd.log", dt_dir());
	FILE *f = popen(cmd, "r");
	int lines = 0;
	CHECK(f && fscanf(f, "%d", &lines) == 1);
	pclose(f);
	CHECK_EQ(lines, 2);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
