/*
 * t_heap: the DIOS heap (DIOS_HEAP=dios) against a reference model: random
 * malloc/calloc/realloc/aligned allocations and frees keep every block's
 * contents (also across realloc), alignment and usable size, and no two live
 * blocks overlap; glibc's own allocations (strdup, stdio, qsort...) go to it
 * too; small allocations make no DIOS call once the pool is there; a
 * multi-threaded stress with cross-thread frees; a fork child's heap is a
 * private copy of the parent's; errno and the edge cases
 * (malloc(0), realloc(p, 0), overflow, bad alignments).  The worker is this
 * program re-run with DIOS_HEAP=dios (the mode is chosen before main), once
 * natively and, with valgrind installed, once under memcheck with fewer
 * operations.  Afterwards the daemon holds none of its private memory.
 */
#define _GNU_SOURCE
#include "helpers.h"

#include <dirent.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/wait.h>

/* ---- the reference model ------------------------------------------------------- */

struct blk {
	unsigned char *p;
	size_t n;
	size_t align;           /* 0: malloc's own (16) */
	uint32_t seed;
	int zero;               /* calloc'd, not written yet */
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static inline unsigned char pat(uint32_t seed, size_t i)
{
	uint32_t x = seed ^ (uint32_t)(i * 2654435761u);
	x ^= x >> 15;
	return (unsigned char)(x * 2246822519u >> 24);
}

/* Offsets written and checked: the first and last 512 bytes, and every 509th in between. */
#define EACH_OFFSET(n, i, body) do { \
	size_t n_ = (n); \
	for (size_t i = 0; i < n_ && i < 512; i++) body; \
	for (size_t i = 512; i + 512 < n_; i += 509) body; \
	for (size_t i = n_ > 1024 ? n_ - 512 : 512; i < n_; i++) body; \
} while (0)

static void fill(struct blk *b)
{
	unsigned char *p = b->p;
	uint32_t s = b->seed;
	EACH_OFFSET(b->n, i, p[i] = pat(s, i));
	b->zero = 0;
}

static void verify(const struct blk *b, size_t upto, const char *when)
{
	const unsigned char *p = b->p;
	uint32_t s = b->seed;
	size_t n = upto < b->n ? upto : b->n;
	if (b->zero) {
		for (size_t i = 0; i < n; i++)
			if (p[i])
				dt_fail(__FILE__, __LINE__, "%s: calloc'd block %p (%zu bytes) has %#x at %zu",
					when, (void *)p, b->n, p[i], i);
		return;
	}
	EACH_OFFSET(b->n, i, {
		if (i < n && p[i] != pat(s, i))
			dt_fail(__FILE__, __LINE__, "%s: block %p (%zu bytes, seed %u) has %#x at %zu, not %#x",
				when, (void *)p, b->n, s, p[i], i, pat(s, i));
	});
}

/* Mostly small, some medium, a few around and above the threshold (each of those costs DIOS calls). */
static size_t random_size(void)
{
	uint64_t r = rnd() % 1000;
	if (r < 650)
		return rnd() % 1025;                            /* 0 .. 1 KiB */
	if (r < 900)
		return 1025 + rnd() % (32 * 1024);              /* to 33 KiB: the largest classes */
	if (r < 985)
		return 32 * 1024 + rnd() % (240 * 1024);        /* medium spans, to just above the threshold */
	if (r < 998)
		return 250 * 1024 + rnd() % (800 * 1024);       /* around and above the threshold */
	return (1 << 20) + rnd() % (3 << 20);                   /* a few large ones */
}

static void check_aligned(const void *p, size_t align, size_t n)
{
	if (align && (uintptr_t)p % align)
		dt_fail(__FILE__, __LINE__, "%p is not aligned to %zu", p, align);
	if ((uintptr_t)p % 16)
		dt_fail(__FILE__, __LINE__, "%p is not aligned to 16 (malloc's promise)", p);
	if (malloc_usable_size((void *)p) < n)
		dt_fail(__FILE__, __LINE__, "malloc_usable_size(%p) = %zu < %zu", p, malloc_usable_size((void *)p), n);
}

static int cmp_blk(const void *a, const void *b)
{
	const struct blk *x = a, *y = b;
	return x->p < y->p ? -1 : x->p > y->p;
}

/* Every live block intact, and none overlapping the next by address. */
static void check_all(struct blk *b, int nslot, const char *when)
{
	static struct blk sorted[4096];
	int k = 0;
	for (int i = 0; i < nslot; i++)
		if (b[i].p) {
			verify(&b[i], SIZE_MAX, when);
			sorted[k++] = b[i];
		}
	qsort(sorted, (size_t)k, sizeof sorted[0], cmp_blk);
	for (int i = 1; i < k; i++)
		if (sorted[i - 1].p + (sorted[i - 1].n ? sorted[i - 1].n : 1) > sorted[i].p)
			dt_fail(__FILE__, __LINE__, "%s: blocks %p (%zu bytes) and %p overlap", when,
				(void *)sorted[i - 1].p, sorted[i - 1].n, (void *)sorted[i].p);
}

static void random_ops(long ops)
{
	enum { NSLOT = 2048 };
	static struct blk b[NSLOT];
	size_t live = 0, live_max = 192u << 20;
	uint32_t seed = 1;
	for (long op = 0; op < ops; op++) {
		struct blk *x = &b[rnd() % NSLOT];
		unsigned what = (unsigned)(rnd() % 100);
		if (x->p && (what < 40 || live > live_max)) {
			verify(x, SIZE_MAX, "before free");
			free(x->p);
			live -= x->n;
			x->p = NULL;
		} else if (x->p && what < 75) {
			size_t n = random_size();
			if (live - x->n + n > live_max)
				continue;
			unsigned char *q = realloc(x->p, n ? n : 1);
			if (!q)
				dt_fail(__FILE__, __LINE__, "realloc(%p, %zu): %s", (void *)x->p, n, strerror(errno));
			x->p = q;
			verify(x, n ? n : 1, "after realloc");     /* the old contents, up to the new size */
			check_aligned(q, 0, n);
			live = live - x->n + n;
			x->n = n;
			x->align = 0;
			x->seed = seed++;
			fill(x);
		} else if (!x->p) {
			size_t n = random_size();
			if (live + n > live_max)
				continue;
			unsigned kind = (unsigned)(rnd() % 10);
			x->align = 0;
			x->zero = 0;
			if (kind < 6) {
				x->p = malloc(n);
			} else if (kind < 8) {
				size_t m = 1 + rnd() % 8;
				x->p = calloc(n / m + 1, m);
				n = (n / m + 1) * m;
				x->zero = 1;
			} else {
				size_t align = (size_t)1 << (4 + rnd() % 13);      /* 16 .. 64 KiB */
				void *p = NULL;
				switch (kind) {
				case 8:
					CHECK_EQ(posix_memalign(&p, align, n), 0);
					break;
				default:
					p = rnd() & 1 ? aligned_alloc(align, n) : memalign(align, n);
					break;
				}
				x->p = p;
				x->align = align;
			}
			if (!x->p)
				dt_fail(__FILE__, __LINE__, "allocation of %zu bytes: %s", n, strerror(errno));
			x->n = n;
			check_aligned(x->p, x->align, n);
			if (x->zero)
				verify(x, SIZE_MAX, "new block");  /* calloc'd: zeros */
			x->seed = seed++;
			if (!x->zero || rnd() % 2)
				fill(x);
			live += n;
		}
		if (op % 20000 == 19999)
			check_all(b, NSLOT, "periodic check");
	}
	check_all(b, NSLOT, "final check");
	for (int i = 0; i < NSLOT; i++) {
		free(b[i].p);
		b[i].p = NULL;
	}
}

/* ---- glibc's own allocations go to the DIOS heap too ------------------------------ */

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void libc_uses_it(int rounds)
{
	size_t before = mallinfo2().uordblks;      /* glibc's arena: what it held before main */
	dios_heap_stats_t s0, s1;
	CHECK_EQ(dios_heap_stats(&s0), 0);
	for (int round = 0; round < rounds; round++) {
		char *d = strdup("the DIOS heap");
		char *a = NULL;
		CHECK(asprintf(&a, "%s %d %s", d, round, "and asprintf") > 0);
		char *ms = NULL;
		size_t msz = 0;
		FILE *m = open_memstream(&ms, &msz);
		CHECK(m != NULL);
		for (int i = 0; i < 2000; i++)
			fprintf(m, "line %d of a memstream\n", i);
		CHECK(fclose(m) == 0);
		CHECK(msz > 40000);     /* grown by realloc, a few KiB at a time */
		FILE *f = fopen("/proc/self/status", "r");
		CHECK(f != NULL);
		char *line = NULL;
		size_t cap = 0;
		int lines = 0;
		while (getline(&line, &cap, f) > 0)
			lines++;
		CHECK(lines > 5);
		fclose(f);
		DIR *dir = opendir("/proc/self/fd");
		CHECK(dir != NULL);
		while (readdir(dir))
			;
		closedir(dir);
		int *v = reallocarray(NULL, 20000, sizeof(int));
		CHECK(v != NULL);
		for (int i = 0; i < 20000; i++)
			v[i] = (int)(rnd() % 1000000);
		qsort(v, 20000, sizeof(int), cmp_int);
		for (int i = 1; i < 20000; i++)
			CHECK(v[i - 1] <= v[i]);
		free(v);
		free(line);
		free(ms);
		free(a);
		free(d);
	}
	CHECK_EQ(dios_heap_stats(&s1), 0);
	CHECK_EQ(mallinfo2().uordblks, before);    /* nothing went to glibc's heap */
	CHECK(s1.bytes_held > 0);
}

/* ---- edge cases ------------------------------------------------------------------ */

static volatile size_t huge = SIZE_MAX;        /* volatile: gcc would refuse the calls below at compile time */

static void edges(void)
{
	void *z1 = malloc(0), *z2 = malloc(0);
	CHECK(z1 && z2 && z1 != z2);
	free(z1);
	free(z2);
	free(NULL);
	void *p = realloc(NULL, 100);
	CHECK(p != NULL);
	errno = 0;
	CHECK(realloc(p, 0) == NULL);              /* glibc: frees, returns NULL */
	errno = 0;
	CHECK(malloc(huge) == NULL);
	CHECK_EQ(errno, ENOMEM);
	errno = 0;
	CHECK(malloc((size_t)1 << 40) == NULL);    /* above the largest DIOS object */
	CHECK_EQ(errno, ENOMEM);
	errno = 0;
	CHECK(calloc(huge / 2, 3) == NULL);
	CHECK_EQ(errno, ENOMEM);
	errno = 0;
	CHECK(reallocarray(NULL, huge / 2, 3) == NULL);
	CHECK_EQ(errno, ENOMEM);
	void *q = (void *)1;
	CHECK_EQ(posix_memalign(&q, 3, 16), EINVAL);
	CHECK_EQ(posix_memalign(&q, 0, 16), EINVAL);
	CHECK_EQ(posix_memalign(&q, 4, 16), EINVAL);   /* below sizeof(void *) */
	CHECK(q == (void *)1);                          /* untouched on error */
	p = aligned_alloc(48, 100);                     /* glibc: rounded up to 64 */
	CHECK(p && (uintptr_t)p % 64 == 0);
	free(p);
	p = memalign(1 << 20, 5000);                    /* 1 MiB alignment: a large object */
	CHECK(p && (uintptr_t)p % (1 << 20) == 0);
	memset(p, 7, 5000);
	free(p);
	p = valloc(10);
	CHECK(p && (uintptr_t)p % 4096 == 0 && malloc_usable_size(p) >= 10);
	free(p);
	p = pvalloc(4097);
	CHECK(p && (uintptr_t)p % 4096 == 0 && malloc_usable_size(p) >= 8192);
	free(p);
	CHECK_EQ(malloc_usable_size(NULL), 0);
	/* calloc of recycled memory is zero */
	for (int i = 0; i < 100; i++) {
		unsigned char *c = malloc(300);
		memset(c, 0xab, 300);
		free(c);
		c = calloc(1, 300);
		for (int k = 0; k < 300; k++)
			CHECK_EQ(c[k], 0);
		free(c);
	}
	/* a large block grown and shrunk keeps its bytes */
	unsigned char *l = malloc(600 << 10);
	for (size_t i = 0; i < (600u << 10); i++)
		l[i] = (unsigned char)(i * 7);
	l = realloc(l, 3 << 20);
	for (size_t i = 0; i < (600u << 10); i++)
		CHECK_EQ(l[i], (unsigned char)(i * 7));
	l = realloc(l, 100);
	for (size_t i = 0; i < 100; i++)
		CHECK_EQ(l[i], (unsigned char)(i * 7));
	free(l);
}

/* ---- no DIOS call on the fast path ---------------------------------------------------- */

static void no_calls_when_pooled(void)
{
	void *w[512];
	for (int i = 0; i < 512; i++)               /* warm up: chunks and slabs exist */
		w[i] = malloc(1 + (size_t)i * 2);
	for (int i = 0; i < 512; i++)
		free(w[i]);
	dios_heap_stats_t a, b;
	CHECK_EQ(dios_heap_stats(&a), 0);
	long long daemon_calls = dt_admin_status("calls");
	for (int r = 0; r < 500; r++) {
		for (int i = 0; i < 512; i++)
			w[i] = malloc(1 + (size_t)((i * 7 + r) % 1024));
		for (int i = 0; i < 512; i++)
			free(w[(i * 13) % 512]);
	}
	CHECK_EQ(dios_heap_stats(&b), 0);
	CHECK_EQ(b.daemon_calls, a.daemon_calls);       /* the heap's own count */
	CHECK_EQ(dt_admin_status("calls"), daemon_calls);   /* the daemon's: nobody else calls it here */
}

/* ---- threads ---------------------------------------------------------------------- */

#define NTHREADS 4
#define XSLOTS 256
static struct blk xchg[XSLOTS];                 /* blocks one thread allocates and another frees */
static pthread_mutex_t xlock = PTHREAD_MUTEX_INITIALIZER;
static long thread_ops;

static void *worker_thread(void *arg)
{
	uint64_t r = 0x1234567ull + (uintptr_t)arg * 0x9e3779b97f4a7c15ull;
	enum { N = 512 };
	struct blk *mine = calloc(N, sizeof *mine);
	CHECK(mine != NULL);
	for (long op = 0; op < thread_ops; op++) {
		r ^= r << 13; r ^= r >> 7; r ^= r << 17;
		struct blk *x = &mine[r % N];
		if (x->p) {
			verify(x, SIZE_MAX, "thread: before free");
			if (r & 0x100) {
				/* hand it to the exchange, freeing what another thread left there */
				pthread_mutex_lock(&xlock);
				struct blk *e = &xchg[(r >> 9) % XSLOTS];
				struct blk old = *e;
				*e = *x;
				pthread_mutex_unlock(&xlock);
				if (old.p) {
					verify(&old, SIZE_MAX, "thread: from the exchange");
					free(old.p);
				}
			} else {
				free(x->p);
			}
			x->p = NULL;
		} else {
			size_t n = (r >> 20) % 100 < 97 ? (r >> 32) % 2048 : (r >> 32) % (400 << 10);
			x->p = (r >> 40) & 1 ? malloc(n) : realloc(NULL, n);
			CHECK(x->p != NULL);
			x->n = n;
			x->zero = 0;
			x->seed = (uint32_t)(r >> 16);
			fill(x);
		}
	}
	for (int i = 0; i < N; i++)
		if (mine[i].p) {
			verify(&mine[i], SIZE_MAX, "thread: at the end");
			free(mine[i].p);
		}
	free(mine);
	return NULL;
}

static void threads(long ops)
{
	thread_ops = ops;
	pthread_t t[NTHREADS];
	for (long i = 0; i < NTHREADS; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, worker_thread, (void *)i), 0);
	for (int i = 0; i < NTHREADS; i++)
		CHECK_EQ(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < XSLOTS; i++)
		if (xchg[i].p) {
			verify(&xchg[i], SIZE_MAX, "exchange at the end");
			free(xchg[i].p);
			xchg[i].p = NULL;
		}
}

/* ---- fork: the child's heap is a private copy ------------------------------------------- */

static void fork_copies(void)
{
	char *small = malloc(100);
	strcpy(small, "before the fork");
	size_t bn = 1 << 20;
	unsigned char *big = malloc(bn);            /* an object of its own */
	memset(big, 'p', bn);
	int go[2], done[2];
	CHECK(pipe(go) == 0 && pipe(done) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* a new task: the copy is what the heap held at the fork, whatever the parent does now */
		char c;
		CHECK(read(go[0], &c, 1) == 1);     /* the parent has written over both */
		CHECK(strcmp(small, "before the fork") == 0);
		for (size_t i = 0; i < bn; i += 4096)
			CHECK_EQ(big[i], 'p');
		strcpy(small, "the child's");
		memset(big, 'c', bn);
		dios_heap_stats_t s;
		CHECK_EQ(dios_heap_stats(&s), 0);
		CHECK_EQ(s.objects, 0);                     /* it holds no DIOS objects yet */
		void *fresh = malloc(3 << 20);              /* its own: through its own connection */
		CHECK(fresh != NULL);
		memset(fresh, 1, 3 << 20);
		CHECK_EQ(dios_heap_stats(&s), 0);
		CHECK(s.objects >= 1);
		free(fresh);
		free(big);                                  /* a private copy: munmap'd, no DIOS call */
		free(small);
		CHECK(write(done[1], "d", 1) == 1);
		_exit(0);
	}
	strcpy(small, "the parent's");
	memset(big, 'q', bn);
	CHECK(write(go[1], "g", 1) == 1);
	char c;
	CHECK(read(done[0], &c, 1) == 1);
	CHECK_CHILD_OK(pid);
	CHECK(strcmp(small, "the parent's") == 0);      /* the child's writes stayed in the child */
	for (size_t i = 0; i < bn; i += 4096)
		CHECK_EQ(big[i], 'q');
	free(small);
	free(big);
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
}

/* ---- the worker: this program run with DIOS_HEAP=dios ------------------------------------ */

static int worker(long ops, int quick)
{
	alarm(100);
	dios_heap_stats_t s;
	CHECK_EQ(dios_heap_stats(&s), 0);
	CHECK_EQ(s.mode, DIOS_HEAP_MODE_DIOS);
	CHECK_EQ(s.locked, 0);                       /* only Pure DIOS tasks are locked */
	char *seed = getenv("T_HEAP_SEED");
	if (seed)
		rng = strtoull(seed, NULL, 0);
	fprintf(stderr, "t_heap worker: seed %#llx, %ld operations\n", (unsigned long long)rng, ops);
	uint64_t t0 = dt_now_ns();
	edges();
	uint64_t t1 = dt_now_ns();
	random_ops(ops);
	uint64_t t2 = dt_now_ns();
	libc_uses_it(quick ? 2 : 20);
	uint64_t t3 = dt_now_ns();
	if (!quick)
		no_calls_when_pooled();
	uint64_t t4 = dt_now_ns();
	threads(quick ? ops / 20 : ops / 4);
	uint64_t t5 = dt_now_ns();
	if (!quick)
		fork_copies();
	fprintf(stderr, "t_heap worker: edges %.0f ms, random %.0f ms, libc %.0f ms, pooled %.0f ms, threads %.0f ms\n",
		(t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6, (t4 - t3) / 1e6, (t5 - t4) / 1e6);
	CHECK_EQ(dios_heap_stats(&s), 0);
	CHECK_EQ(s.large, 0);                        /* every large block was freed */
	CHECK(s.chunks >= 1 && s.objects >= s.chunks);
	CHECK(s.bytes_held >= s.chunks * DIOS_HEAP_CHUNK_BYTES);
	CHECK_EQ(s.failures, 0);
	/* what the daemon counts for this task is what the heap holds */
	CHECK_EQ(dt_admin_task(getpid(), "privmem"), (long long)s.bytes_held);
	fprintf(stderr, "t_heap worker: %llu objects (%llu chunks), %llu bytes, %llu DIOS calls, %llu meta bytes\n",
		(unsigned long long)s.objects, (unsigned long long)s.chunks, (unsigned long long)s.bytes_held,
		(unsigned long long)s.daemon_calls, (unsigned long long)s.meta_bytes);
	return 0;
}

/* Run this program as the worker, with DIOS_HEAP=dios; under valgrind when vg is set. */
static int run_worker(const char *self, const char *ops, const char *vg)
{
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		setenv(DIOS_ENV_HEAP, "dios", 1);
		if (vg)
			/* nouserintercepts: memcheck keeps its own malloc out of libdlibc's way */
			execl(vg, vg, "-q", "--error-exitcode=99", "--soname-synonyms=somalloc=nouserintercepts",
			      self, "worker", ops, "quick", (char *)NULL);
		else
			execl(self, self, "worker", ops, (char *)NULL);
		_exit(127);
	}
	return dt_wait_child(pid);
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "worker") == 0)
		return worker(strtol(argv[2], NULL, 10), argc >= 4);
	alarm(110);
	dios_heap_stats_t hs;
	CHECK_EQ(dios_heap_stats(&hs), 0);
	CHECK_EQ(hs.mode, DIOS_HEAP_MODE_LIBC);      /* no DIOS_HEAP: glibc's heap, passed through */
	/* no JIT warm-up: nothing here is timed, and a loaded CI machine would spend seconds on it */
	static const char *const args[] = { "--warmup-cycles", "0", NULL };
	dt_daemon_args = args;
	dt_start_daemon();
	CHECK_EQ(dios_nop(0), 0);
	dios_daemon_stats_t base = dt_stats();
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	CHECK(n > 0);
	self[n] = '\0';

	int st = run_worker(self, "60000", NULL);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 0);
	dios_daemon_stats_t s = dt_wait_stats(&base, 5000);
	CHECK_STATS_EQ(s, base);
	CHECK_EQ(dt_admin_status("privmem_bytes"), 0);   /* its heap went with it */

	if (access("/usr/bin/valgrind", X_OK) == 0 && !getenv("T_HEAP_NO_VALGRIND")) {
		st = run_worker(self, "4000", "/usr/bin/valgrind");
		CHECK(WIFEXITED(st));
		if (WEXITSTATUS(st) == 99)
			dt_fail(__FILE__, __LINE__, "valgrind found errors in the worker (above)");
		CHECK_EQ(WEXITSTATUS(st), 0);
		s = dt_wait_stats(&base, 5000);
		CHECK_STATS_EQ(s, base);
		CHECK_EQ(dt_admin_status("privmem_bytes"), 0);
	} else {
		fprintf(stderr, "t_heap: no /usr/bin/valgrind (or T_HEAP_NO_VALGRIND): the memcheck run is skipped\n");
	}
	dt_stop_daemon();
	return T_EXIT_PASS;
}
