/* redteam.c - the red-team suite's victim; see redteam.h. */
#define _GNU_SOURCE
#include "redteam.h"
#include "helpers.h"

#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

enum { MAX_SAMPLES = 1 << 21, PACE_NS = 200000 };

/* Shared with the victim process: its samples and counters. */
struct shared {
	volatile int stop;
	volatile int in_call;           /* 1 while a call is in the daemon */
	uint64_t calls, errors;
	int last_error;
	uint64_t n;                     /* samples kept (<= MAX_SAMPLES) */
	uint64_t ns[MAX_SAMPLES];
};

struct dt_victim {
	pid_t pid;
	struct shared *sh;
};

static void victim_loop(struct shared *sh)
{
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&sh->in_call, 1, __ATOMIC_RELEASE);
		uint64_t t0 = dt_now_ns();
		int rc = dios_nop(0);
		uint64_t dt = dt_now_ns() - t0;
		__atomic_store_n(&sh->in_call, 0, __ATOMIC_RELEASE);
		sh->calls++;
		if (rc != 0) {
			sh->errors++;
			sh->last_error = rc;
		}
		if (sh->n < MAX_SAMPLES)
			sh->ns[sh->n++] = dt;
		next.tv_nsec += PACE_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
}

struct dt_victim *dt_victim_start(void)
{
	struct dt_victim *v = calloc(1, sizeof *v);
	CHECK(v != NULL);
	v->sh = mmap(NULL, sizeof *v->sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(v->sh != MAP_FAILED);
	fflush(NULL);
	v->pid = fork();
	CHECK(v->pid >= 0);
	if (v->pid == 0) {
		alarm(600);                     /* bounded even if the test's parent is gone */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dios_nop(0) != 0)           /* registers: a task of its own */
			_exit(3);
		victim_loop(v->sh);
		_exit(0);
	}
	/* served once before the attack starts (its registration done) */
	uint64_t until = dt_now_ns() + 30000000000ull;
	while (__atomic_load_n(&v->sh->calls, __ATOMIC_ACQUIRE) == 0 && dt_now_ns() < until)
		usleep(1000);
	CHECK(v->sh->calls > 0);
	return v;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

void dt_victim_stop(struct dt_victim *v, struct dt_victim_report *out)
{
	__atomic_store_n(&v->sh->stop, 1, __ATOMIC_RELEASE);
	int status = 0, stuck = 0;
	uint64_t until = dt_now_ns() + 10000000000ull;
	while (waitpid(v->pid, &status, WNOHANG) == 0) {
		if (dt_now_ns() > until) {
			stuck = __atomic_load_n(&v->sh->in_call, __ATOMIC_ACQUIRE);
			kill(v->pid, SIGKILL);
			waitpid(v->pid, &status, 0);
			break;
		}
		usleep(1000);
	}
	struct shared *sh = v->sh;
	memset(out, 0, sizeof *out);
	out->calls = sh->calls;
	out->errors = sh->errors;
	out->last_error = sh->last_error;
	out->stuck = stuck || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
	if (sh->n > 0) {
		qsort(sh->ns, sh->n, sizeof sh->ns[0], cmp_u64);
		out->p50_ns = sh->ns[sh->n / 2];
		out->p99_ns = sh->ns[(sh->n * 99) / 100];
		out->max_ns = sh->ns[sh->n - 1];
	}
	munmap(sh, sizeof *sh);
	free(v);
}

void dt_victim_baseline(int ms, struct dt_victim_report *out)
{
	struct dt_victim *v = dt_victim_start();
	usleep((useconds_t)ms * 1000);
	dt_victim_stop(v, out);
}

void dt_become_user(unsigned uid)
{
	if (geteuid() != 0)
		return;
	if (setgroups(0, NULL) != 0 || setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0)
		dt_fail(__FILE__, __LINE__, "cannot become uid %u: %s", uid, strerror(errno));
}

int dt_redteam_run(const char *attack, void (*attacker)(int wr), uint64_t *took_ns)
{
	struct dt_victim_report base, during;
	dt_victim_baseline(1000, &base);
	struct dt_victim *victim = dt_victim_start();
	int rd, wr;
	pid_t a = dt_fork_peer(&rd, &wr);
	if (a == 0) {
		attacker(wr);
		_exit(0);
	}
	uint64_t t0 = dt_now_ns();
	CHECK_EQ(dt_recv(rd), 'A');
	int count = 0;
	ssize_t n = read(rd, &count, sizeof count);  /* 0: the attacker counted nothing and exited */
	CHECK(n == 0 || n == (ssize_t)sizeof count);
	if (took_ns)
		*took_ns = dt_now_ns() - t0;
	close(rd);
	close(wr);
	CHECK_CHILD_OK(a);
	dt_victim_stop(victim, &during);
	dt_redteam_report(attack, &base, &during);
	return count;
}

int dt_log_lines(const char *s)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/diosd.log", dt_dir());
	FILE *f = fopen(p, "r");
	if (!f)
		dt_fail(__FILE__, __LINE__, "%s: %s", p, strerror(errno));
	char line[1024];
	int n = 0;
	while (fgets(line, sizeof line, f))
		n += strstr(line, s) != NULL;
	fclose(f);
	return n;
}

void dt_redteam_report(const char *attack, const struct dt_victim_report *base,
		       const struct dt_victim_report *during)
{
	double ratio = base->p99_ns ? (double)during->p99_ns / (double)base->p99_ns : 0;
	printf("redteam %s: victim %llu calls, %llu errors%s; null call p50 %.1f us, p99 %.1f us, max %.1f us "
	       "during the attack; without it p50 %.1f us, p99 %.1f us (p99 x%.2f)\n",
	       attack, (unsigned long long)during->calls, (unsigned long long)during->errors,
	       during->stuck ? ", STUCK in a call" : "",
	       during->p50_ns / 1e3, during->p99_ns / 1e3, during->max_ns / 1e3,
	       base->p50_ns / 1e3, base->p99_ns / 1e3, ratio);
	fflush(stdout);
	const char *path = getenv("DIOS_REDTEAM_OUT");
	if (path && *path) {
		FILE *f = fopen(path, "a");
		if (f) {
			fprintf(f, "%s\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\n", attack,
				(unsigned long long)during->calls, (unsigned long long)during->errors,
				(unsigned long long)during->p50_ns, (unsigned long long)during->p99_ns,
				(unsigned long long)during->max_ns, (unsigned long long)base->p50_ns,
				(unsigned long long)base->p99_ns);
			fclose(f);
		}
	}
	if (during->errors != 0)
		dt_fail(__FILE__, __LINE__, "redteam %s: the victim got %llu errors (last %s)", attack,
			(unsigned long long)during->errors, dt_errname(during->last_error));
	if (during->stuck)
		dt_fail(__FILE__, __LINE__, "redteam %s: the victim was stuck in a call", attack);
	if (during->calls == 0 || base->calls == 0)
		dt_fail(__FILE__, __LINE__, "redteam %s: the victim was not served (%llu calls, %llu without the attack)",
			attack, (unsigned long long)during->calls, (unsigned long long)base->calls);
}
