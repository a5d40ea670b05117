/*
 * redteam.h - the red-team suite's victim (issue 18): another task of the
 * test's user making null calls at a steady pace while an attack runs, each
 * call timed.  A t_red_* test measures the victim once without the attack
 * (the baseline) and once during it, then calls dt_redteam_report, which
 * fails the test if the victim got an error or was not served, and prints
 * the figures (and appends them to $DIOS_REDTEAM_OUT for perf/redteam).
 * Nothing here asserts a time.
 */
#ifndef DT_REDTEAM_H
#define DT_REDTEAM_H

#include <stdint.h>
#include <sys/types.h>

struct dt_victim_report {
	uint64_t calls;         /* null calls that returned */
	uint64_t errors;        /* of them, how many did not return 0 */
	int last_error;         /* the last such result */
	int stuck;              /* 1: a call had not returned when the victim was stopped */
	uint64_t p50_ns, p99_ns, max_ns;
};

struct dt_victim;

/* A forked child of the test (a task of its own) making a null call every 200 us until stopped. */
struct dt_victim *dt_victim_start(void);
/* Stops it (a call still in the daemon gets 10 s) and fills out; the victim is gone afterwards. */
void dt_victim_stop(struct dt_victim *v, struct dt_victim_report *out);
/* The victim for ms with no attack: the baseline of dt_redteam_report. */
void dt_victim_baseline(int ms, struct dt_victim_report *out);
/*
 * This process becomes uid/gid uid with no supplementary groups, when it runs
 * as root (the attacker of a test run as root); otherwise it stays as it is
 * (the test then shows only what one user can do to itself).  Fails the test
 * if it cannot.
 */
void dt_become_user(unsigned uid);
/*
 * The usual red-team run: the victim's baseline, then attacker(wr) in a forked
 * child (it ends by dt_send(wr, 'A') and, if it counts anything, one int
 * written to wr) beside the victim, then dt_redteam_report(attack, ...).
 * Returns the attacker's count (0 if it sent none); *took_ns (if not NULL)
 * is the attack's wall time.
 */
int dt_redteam_run(const char *attack, void (*attacker)(int wr), uint64_t *took_ns);
/* Lines of the test daemon's log (dt_dir()/diosd.log) that contain s. */
int dt_log_lines(const char *s);

/*
 * Prints "redteam ATTACK: ..." with the victim's calls, errors and null-call
 * p50/p99/max during the attack beside the baseline's, appends one
 * tab-separated line to $DIOS_REDTEAM_OUT if set, and fails the test if the
 * victim got any error, was stuck in a call, or made no call during the attack.
 */
void dt_redteam_report(const char *attack, const struct dt_victim_report *base,
		       const struct dt_victim_report *during);

#endif /* DT_REDTEAM_H */
