/*
 * t_cap_names - names are 256 random bits, and a name resolves only inside the
 * caller's groups.
 *   1. 20,000 fresh names: all distinct and non-zero, every bit position and
 *      byte value as often as chance allows (6 sigma), so a name cannot be
 *      guessed from others.
 *   2. A child spawned into group H alone is told the exact 256-bit names of
 *      objects in group G and in the public group (in its argv): each lookup
 *      is -ENOENT.  Holding a reference to G, even a writable one, does not
 *      make it a member: binding a name in G is -EACCES, and G's names still
 *      do not resolve.  What it binds stays in H: the public group cannot see it.
 * The API has no call that lists names; the admin socket's listing is for the
 * daemon's user and root only (t_cap_socket, t_admin).
 */
#include "helpers.h"

#include <string.h>
#include <sys/wait.h>

#define NNAMES 20000

static int lookup_text(const char *text)
{
	dios_name_t n;
	CHECK_EQ(dios_strtoname(text, &n), 0);
	dios_ref_t *r = NULL;
	uint64_t c = 1;
	int rc = dios_lookup(0, &n, &r, &c);
	if (rc == 0)
		CHECK_EQ(dios_delete(0, r), 0);
	return rc;
}

/* the child: argv[2] = a name in G, argv[3] = a public name, argv[4] = a name it binds in H */
static int child(char **argv)
{
	CHECK_EQ(lookup_text(argv[2]), -ENOENT);         /* G's: not a member */
	CHECK_EQ(lookup_text(argv[3]), -ENOENT);         /* the public group's: not a member either */
	dios_ref_t *d[2];
	uint64_t n = 2;
	CHECK_EQ(dios_delegated(0, d, &n), 0);
	CHECK_EQ(n, 2);                                  /* d[0]: group G (writable), d[1]: a FIFO to answer on */
	dios_ref_info_t info;
	CHECK_EQ(dios_ref_info(d[0], &info), 0);
	CHECK_EQ(info.type, D_OBJ_GROUP);
	CHECK(info.perms & D_PERM_WRITE);
	uint64_t sz = 4096;
	dios_name_t nm;
	dios_ref_t *x = NULL;
	CHECK_EQ(dios_create_in(0, D_OBJ_SHMEM, &sz, &nm, &x, d[0]), -EACCES);   /* a reference is not membership */
	CHECK_EQ(lookup_text(argv[2]), -ENOENT);
	dios_name_t mine;
	CHECK_EQ(dios_strtoname(argv[4], &mine), 0);
	CHECK_EQ(dios_create(D_CREATE_NAME_GIVEN, D_OBJ_SHMEM, &sz, &mine, &x, 0), 0);  /* bound in H */
	CHECK_EQ(lookup_text(argv[4]), 0);
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_acquire_write(0, d[1], 1, &iov), 0);
	((char *)iov->buf)[0] = 'y';
	CHECK_EQ(dios_commit_write(0, d[1], 1, iov), 0);
	CHECK_EQ(dios_release_write(0, d[1], iov), 0);
	/* stay until the parent has looked: it then deletes the FIFO's reader end */
	int rc;
	while ((rc = dios_acquire_write(0, d[1], 1, &iov)) == 0) {
		CHECK_EQ(dios_release_write(0, d[1], iov), 0);
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	CHECK_EQ(rc, -EPIPE);
	return 0;
}

static void check_names_random(void)
{
	static dios_name_t names[NNAMES];
	static uint32_t bit_ones[256];
	static uint32_t byte_count[256];
	uint64_t sz = 64;
	for (int i = 0; i < NNAMES; i++) {
		dios_ref_t *r = NULL;
		CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &sz, &names[i], &r, 0), 0);
		CHECK_EQ(dios_delete(0, r), 0);          /* unbound again: the table stays small */
		int zero = 1;
		for (int b = 0; b < 32; b++) {
			uint8_t v = names[i].raw[b];
			zero &= v == 0;
			byte_count[v]++;
			for (int k = 0; k < 8; k++)
				bit_ones[b * 8 + k] += (v >> k) & 1;
		}
		CHECK(!zero);
	}
	/* distinct: sort by the first 8 bytes (distinct there already, with overwhelming odds) */
	static uint64_t heads[NNAMES];
	for (int i = 0; i < NNAMES; i++)
		memcpy(&heads[i], names[i].raw, 8);
	for (int gap = NNAMES / 2; gap > 0; gap /= 2)
		for (int i = gap; i < NNAMES; i++)
			for (int j = i; j >= gap && heads[j - gap] > heads[j]; j -= gap) {
				uint64_t t = heads[j];
				heads[j] = heads[j - gap];
				heads[j - gap] = t;
			}
	for (int i = 1; i < NNAMES; i++)
		CHECK(heads[i] != heads[i - 1]);
	/* every bit position: NNAMES/2 ones, variance NNAMES/4; more than 6 sigma off fails */
	int64_t worst = 0;
	for (int b = 0; b < 256; b++) {
		int64_t d = 2 * (int64_t)bit_ones[b] - NNAMES;          /* 2 * (x - mu) */
		if (d * d > worst)
			worst = d * d;
		if (d * d > 36 * (int64_t)NNAMES)                       /* (x-mu)^2 > 36 * NNAMES/4 */
			dt_fail(__FILE__, __LINE__, "bit %d of the names was 1 in %u of %d: over 6 sigma off", b, bit_ones[b], NNAMES);
	}
	/* every byte value: 32 * NNAMES / 256 each, variance about that (255/256 of it) */
	int64_t expect = 32LL * NNAMES / 256, bworst = 0;
	for (int v = 0; v < 256; v++) {
		int64_t d = (int64_t)byte_count[v] - expect;
		if (d * d > bworst)
			bworst = d * d;
		if (d * d * 256 > 36 * expect * 255)
			dt_fail(__FILE__, __LINE__, "byte value %d appeared %u times in the names, %lld expected: over 6 sigma",
				v, byte_count[v], (long long)expect);
	}
	fprintf(stderr, "t_cap_names: %d names distinct and non-zero; worst bit (x-mu)^2/var %.2f, worst byte value %.2f"
		" (36 fails)\n", NNAMES, (double)worst / NNAMES, (double)bworst * 256 / (double)(expect * 255));
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "child") == 0)
		return child(argv);
	alarm(90);
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();

	check_names_random();

	/* group G (ours) and group H (the child's); a name in each of G and the public group */
	dios_ref_t *g = NULL, *h = NULL;
	CHECK_EQ(dios_create(0, D_OBJ_GROUP, NULL, NULL, &g, 0), 0);
	CHECK_EQ(dios_create(0, D_OBJ_GROUP, NULL, NULL, &h, 0), 0);
	uint64_t sz = 4096;
	dios_name_t in_g, in_pub, childs;
	dios_ref_t *og = NULL, *op = NULL;
	CHECK_EQ(dios_create_in(0, D_OBJ_SHMEM, &sz, &in_g, &og, g), 0);
	CHECK_EQ(dios_create(0, D_OBJ_SHMEM, &sz, &in_pub, &op, 0), 0);
	dt_random_name(&childs);
	char tg[DIOS_NAME_STRLEN], tp[DIOS_NAME_STRLEN], tc[DIOS_NAME_STRLEN];
	dios_nametostr(&in_g, tg);
	dios_nametostr(&in_pub, tp);
	dios_nametostr(&childs, tc);
	CHECK_EQ(lookup_text(tg), 0);                   /* we are a member of G, and of the public group */
	CHECK_EQ(lookup_text(tp), 0);

	dios_ref_t *fifo = NULL;
	CHECK_EQ(dios_create(0, D_OBJ_FIFO, NULL, NULL, &fifo, 0), 0);
	dios_ref_t *exe = dios_pickref(dios_self_exe());
	CHECK(exe != NULL);
	char *cargv[] = { "t_cap_names", "child", tg, tp, tc, NULL };
	dios_ref_t *deleg[2] = { g, fifo };
	dios_task_spec_t spec = { .argc = 5, .argv = cargv, .refs = deleg, .ref_count = 2, .groups = &h, .group_count = 1 };
	dios_ref_t *t = NULL;
	CHECK_EQ(dios_run(0, exe, &spec, &t), 0);
	dios_iovec_t *iov = NULL;
	CHECK_EQ(dios_acquire_read(0, fifo, 1, &iov), 0);
	CHECK_EQ(((char *)iov->buf)[0], 'y');
	CHECK_EQ(dios_release_read(0, fifo, iov), 0);
	/* the child's name is in H, where we are a member too (we made H), not in the public group */
	int from, to;
	pid_t p = dt_fork_peer(&from, &to);
	if (p == 0) {                                   /* a task that connects by itself: public group only */
		CHECK_EQ(lookup_text(tc), -ENOENT);
		CHECK_EQ(lookup_text(tg), -ENOENT);
		CHECK_EQ(lookup_text(tp), 0);
		_exit(0);
	}
	CHECK_CHILD_OK(p);
	CHECK_EQ(lookup_text(tc), 0);
	CHECK_EQ(dios_delete(0, fifo), 0);              /* the child's writes now fail: it ends */
	int st = -1;
	CHECK_EQ(dios_wait(0, t, &st), 0);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
	CHECK_EQ(dios_delete(0, t), 0);
	CHECK_EQ(dios_delete(0, exe), 0);
	CHECK_EQ(dios_delete(0, og), 0);
	CHECK_EQ(dios_delete(0, op), 0);
	CHECK_EQ(dios_delete(0, g), 0);
	CHECK_EQ(dios_delete(0, h), 0);
	/* G and H live on while we are a member (a member holds a count of its group); nothing else stays */
	dios_daemon_stats_t want = base;
	want.objects += 2;
	dios_daemon_stats_t got = dt_wait_stats(&want, 5000);
	CHECK_STATS_EQ(got, want);
	dt_stop_daemon();
	return T_EXIT_PASS;
}
