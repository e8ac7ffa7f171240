/*
 * verify.h - the sequential test that verifies a culprit before it is
 * named (DESIGN.md section 6): the culprit and its parent run in ABBA
 * order on one machine (parent, culprit, culprit, parent, parent, ...),
 * each culprit run paired with the parent run next to it, until the pairs
 * confirm that the culprit is slower or show that confirming is hopeless.
 * verify.c's top comment gives the statistics and its numbers.
 *
 * Pure: no I/O, no clock, no randomness; the same runs in the same order
 * give the same answers.  Usage:
 *
 *     struct pb_verify_opts o = PB_VERIFY_OPTS_INIT;
 *     o.kind = PB_VERIFY_SHIFT;  o.lower_is_better = ...;
 *     pb_verify_new(&v, &o);
 *     while (pb_verify_status(v) == PB_VERIFY_RUNNING) {
 *             int side = pb_verify_next(v, 0);
 *             ... run the parent (side 0) or the culprit (side 1) ...
 *             pb_verify_add(v, 0, side, value, slow);  (or, when the run
 *             failed or was disturbed, nothing: next() asks for it again)
 *     }
 *     pb_verify_state(v, &st);  pb_verify_free(v);
 *
 * Several machines ("lanes") may verify at once: each runs its own ABBA
 * sequence and forms its own pairs (a pair never spans two machines); the
 * test takes the pairs in the order they complete.
 */
#ifndef PB_VERIFY_H
#define PB_VERIFY_H

#include <stddef.h>

struct pb_verify;

enum pb_verify_kind {
	PB_VERIFY_SHIFT = 1,   /* the culprit's runs are slower: paired
				* differences of log values */
	PB_VERIFY_BIMODAL,     /* the culprit's runs are slow more often:
				* the caller classifies every run */
};

enum pb_verify_side {
	PB_VERIFY_NONE = -1,   /* nothing to run (decided, or every pair
				* left is already being run) */
	PB_VERIFY_PARENT = 0,
	PB_VERIFY_CULPRIT = 1,
};

enum pb_verify_status {
	PB_VERIFY_RUNNING = 0,
	PB_VERIFY_CONFIRMED,   /* the culprit is slower: name it */
	PB_VERIFY_REFUTED,     /* not confirmed: see pb_verify_stop */
};

enum pb_verify_stop {
	PB_VERIFY_STOP_NONE = 0,     /* still running */
	PB_VERIFY_STOP_EVIDENCE,     /* confirmed: evidence >= 1 / alpha */
	PB_VERIFY_STOP_FUTILITY,     /* the culprit is shown to be slower by
				      * less than min_effect (futility
				      * evidence >= 1 / beta) */
	PB_VERIFY_STOP_HOPELESS,     /* even the largest possible gains of
				      * the pairs left cannot confirm */
	PB_VERIFY_STOP_MAX_PAIRS,    /* max_pairs without confirmation */
};

struct pb_verify_opts {
	enum pb_verify_kind kind;
	int lower_is_better;    /* metric direction (default: higher) */
	double min_effect;      /* smallest slowdown worth confirming, as a
				 * fraction (0.03: 3 % slower); 0: 0.03 */
	double alpha;           /* P(confirm | the culprit is not slower
				 * than its parent), per attempt; 0: 0.01 */
	double beta;            /* P(the futility stop | the culprit is
				 * min_effect slower, or for BIMODAL its
				 * slow fraction min_slow_effect higher);
				 * 0: 0.05 */
	unsigned max_pairs;     /* 0: 40 (SHIFT) or 60 (BIMODAL); at most
				 * PB_VERIFY_MAX_PAIRS */
	unsigned lanes;         /* machines verifying at once; 0: 1 */
	/* What the search already knows; only the speed of the test
	 * depends on it, never its error rates. */
	double noise;           /* SHIFT: sd of one run's log value (about
				 * the relative run-to-run noise); 0:
				 * unknown */
	double q0, q1;          /* BIMODAL: slow fractions the search
				 * estimated at good and bad commits;
				 * negative: unknown */
	double min_slow_effect; /* BIMODAL: smallest rise of the slow
				 * fraction worth confirming (the futility
				 * bound's alternative); 0: (q1 - q0) / 2
				 * when both are known (at least 0.05),
				 * else 0.1 */
};

#define PB_VERIFY_OPTS_INIT { PB_VERIFY_SHIFT, 0, 0, 0, 0, 0, 0, 0, -1, -1, 0 }
#define PB_VERIFY_MAX_PAIRS 1000
#define PB_VERIFY_MAX_LANES 64

struct pb_verify_state {
	enum pb_verify_status status;
	enum pb_verify_stop stop;
	unsigned pairs;         /* complete pairs counted */
	unsigned runs;          /* runs accepted, halves of pairs included */
	/* The culprit's relative slowdown against its parent, in the
	 * better-is direction (+0.3: 30 % slower, i.e. 1.3 times the time or
	 * 1/1.3 of the throughput), and its 95 % interval.  SHIFT: the
	 * Hodges-Lehmann estimate of the pairs' log ratio and the exact
	 * Wilcoxon signed-rank interval (NAN below 6 pairs); BIMODAL: the
	 * mean log ratio and Student's t interval (NAN below 2 pairs).
	 * Fixed-sample intervals: see verify.c on what stopping does to
	 * them. */
	double effect, lo, hi;
	double p;               /* min(1, 1 / the largest evidence so far):
				 * a p-value valid whenever the test stops;
				 * confirmed exactly when p <= alpha */
	double evidence;        /* the confirming e-value now */
	double futility;        /* the futility e-value now */
	/* BIMODAL: slow runs of each side in complete pairs, and the
	 * discordant pairs: culprit slow and parent fast (up), or the
	 * reverse (down). */
	unsigned slow[2];
	unsigned up, down;
};

/* Defaults filled in and checked; PB_EINVAL (with a message) for a kind
 * that is neither, min_effect outside (0, 1], alpha or beta outside
 * (0, 0.5], max_pairs or lanes above their limits, noise negative or not
 * finite, q0 or q1 above 1, q1 <= q0 when both are known,
 * min_slow_effect outside [0, 1), or max_pairs too few to ever confirm
 * at this alpha (8 at 0.01, see verify.c).  PB_ERROR when memory runs
 * out. */
int pb_verify_new(struct pb_verify **out, const struct pb_verify_opts *opts);
void pb_verify_free(struct pb_verify *v);

/*
 * The side `lane` (0 .. lanes-1) runs next, in ABBA order per lane: parent,
 * culprit, culprit, parent, parent, culprit, ...  A lane that starts a
 * pair holds one of the max_pairs until the pair completes or is
 * discarded, so lanes never overrun max_pairs.  Asking again without
 * adding gives the same side.  PB_VERIFY_NONE once decided, when every
 * pair left is held by other lanes, or for a lane out of range.
 */
enum pb_verify_side pb_verify_next(struct pb_verify *v, unsigned lane);

/*
 * One run of `side` on `lane`: its metric value (finite and > 0: the test
 * works on log ratios) and, for BIMODAL, its class (1 slow, 0 fast; SHIFT
 * ignores it).  The side must be the one pb_verify_next() names for the
 * lane.  Returns 0; PB_EINVAL for a lane out of range, a side out of
 * order, a bad value or class, or a pair beyond max_pairs.  Runs that
 * arrive after the decision (other lanes' runs in flight) are accepted and
 * not counted.
 */
int pb_verify_add(struct pb_verify *v, unsigned lane,
		  enum pb_verify_side side, double value, int slow);

/* Forgets the half pair `lane` holds (its machine went away, or its next
 * run cannot be taken soon after): the lane starts that pair again. */
void pb_verify_discard(struct pb_verify *v, unsigned lane);

enum pb_verify_status pb_verify_status(const struct pb_verify *v);

/* Everything above; sorts the pairs, so it costs O(n^2 log n) for the
 * SHIFT interval: call it when needed, pb_verify_status() in loops. */
void pb_verify_state(const struct pb_verify *v, struct pb_verify_state *out);

/*
 * The effect of one more metric measured in the same pairs, e.g. IPC or
 * remote accesses, to say whether it moved with the metric: parent[i] and
 * culprit[i] form pair i (n pairs, finite values > 0).  As the SHIFT
 * effect: Hodges-Lehmann estimate of log(culprit / parent) (its sign
 * flipped unless lower_is_better) and the exact Wilcoxon 95 % interval
 * (NAN below 6 pairs); a metric moved when the interval excludes 0.
 * Returns 0, PB_EINVAL for n == 0 or a bad value, PB_ERROR without memory.
 */
struct pb_verify_effect {
	double effect, lo, hi;
	size_t n;
};
int pb_verify_describe(struct pb_verify_effect *out, const double *parent,
		       const double *culprit, size_t n, int lower_is_better);

/*
 * The alpha of the attempt-th verification (1, 2, ...) of one bisection
 * when all its attempts together may spend alpha_total: 0.9 alpha_total
 * for the first, then a tenth of the one before (0.09, 0.009, ...), which
 * sums to alpha_total.  Most bisections verify once; at 0.9 of 0.01 a
 * clean 10 % shift takes 8.8 pairs instead of 8.6 (verify.c).  0 for
 * attempt 0.
 */
double pb_verify_attempt_alpha(double alpha_total, unsigned attempt);

#endif
