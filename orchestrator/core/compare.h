/*
 * compare.h - the judge of a pull-request check (`perfbisect compare`):
 * is head slower than base, faster, or the same within min_effect?
 *
 * Base and head run interleaved on one machine in ABBA blocks (base,
 * head, head, base, ...): one job of the service is one block of pairs,
 * runs 2k and 2k+1 of a job form pair k.  The judge is the verification's
 * sequential test (verify.h), reused, not a new one: two of its one-sided
 * tests on the same pairs, each at alpha / 2,
 *
 *     "slower":  parent = base, culprit = head;
 *     "faster":  parent = head, culprit = base;
 *
 * so the chance of saying slower or faster when head and base are alike
 * is at most alpha.  Head is `slower` (or `faster`) when that test
 * confirms; `no_difference` when both stop on futility (each has shown
 * the change in its direction to be below min_effect); `inconclusive`
 * when the pairs run out (max_pairs), a test gives up without futility
 * (hopeless), or the run budget is spent.
 *
 * Pure: numbers in, a decision out; the same runs give the same answer,
 * so the service recomputes it from the stored runs after every record
 * (and after a restart).
 */
#ifndef PB_COMPARE_H
#define PB_COMPARE_H

#include <stddef.h>

enum pb_compare_result {
	PB_COMPARE_RUNNING = 0,
	PB_COMPARE_SLOWER,         /* head is slower than base */
	PB_COMPARE_FASTER,         /* head is faster */
	PB_COMPARE_NO_DIFFERENCE,  /* shown to differ by less than min_effect */
	PB_COMPARE_INCONCLUSIVE,   /* the budget ended undecided */
	PB_COMPARE_BAD_END,        /* a side never gives a value (exit 2) */
	PB_COMPARE_TOO_BUSY,       /* most runs disturbed by other work
				    * (exit 3) */
};

struct pb_compare_opts {
	int lower_is_better;   /* metric direction (default: higher) */
	double min_effect;     /* smallest change worth telling: 0.03 */
	double alpha;          /* both directions together: 0.01 */
	unsigned max_pairs;    /* per one-sided test: 0: verify's default
				* (40) */
	unsigned max_runs;     /* every run taken, failed and disturbed
				* ones too; 0: 4 * max_pairs + 16 */
};
#define PB_COMPARE_OPTS_INIT { 0, 0.03, 0.01, 0, 0 }

enum pb_compare_status {
	PB_COMPARE_RUN_OK = 0,
	PB_COMPARE_RUN_FAILED,     /* no value: never counted */
	PB_COMPARE_RUN_DISTURBED,  /* other work held the machine: never
				    * counted */
};

/* One stored run, in the order taken: its side (0 base, 1 head), its job
 * (any number that differs between jobs) and index in the job. */
struct pb_compare_run {
	int side;
	unsigned long long job;
	unsigned index;
	enum pb_compare_status status;
	double value;              /* finite and > 0 when ok */
};

struct pb_compare_state {
	enum pb_compare_result result;
	unsigned pairs;            /* complete pairs judged */
	unsigned runs;             /* runs taken (every one) */
	unsigned disturbed, failed[2];
	/* Head against base in the metric's better-is direction, like an
	 * alert's change: -0.3 is 30 % worse (0.7 times base's throughput,
	 * or 1.3 times its time), +0.1 10 % better.  The Hodges-Lehmann
	 * estimate of the pairs' log ratio and the exact Wilcoxon signed-rank
	 * 95 % interval (verify.h), turned into relative changes; NAN below
	 * 1 pair (the interval below 6). */
	double effect, lo, hi;
	double p;                  /* two-sided: min(1, 2 min(p_slower,
				    * p_faster)), verify.h's p; NAN: none */
	char why[256];             /* one sentence for a person */
};

/* Judges runs[0..n): PB_OK with *out; PB_EINVAL for options verify.h
 * refuses (a message says which) or a side not 0 or 1; PB_ERROR without
 * memory. */
int pb_compare_judge(struct pb_compare_state *out,
		     const struct pb_compare_opts *o,
		     const struct pb_compare_run *runs, size_t n);

/* "slower", "faster", "no_difference", "inconclusive"; NULL while
 * running and for exits 2 and 3. */
const char *pb_compare_result_name(enum pb_compare_result r);
/* DESIGN.md's exit code of a compare's result: 0 no_difference or faster,
 * 1 slower or inconclusive, 2 a bad end, 3 too busy; -1 while running. */
int pb_compare_exit_code(enum pb_compare_result r);

#endif
