/*
 * bayes.c - the statistical engine behind engine.h: Bayesian bisection over
 * the culprit, aware of bimodal slowdowns.
 *
 * 1. The ends.  Runs alternate between the good and the bad end (at least
 *    MIN_END_RUNS each).  After every run the pooled end runs are fitted
 *    with two normal components (mixture.c):
 *    - well separated modes (Ashman's D >= SEP_D) that the bad end visits
 *      more often than the good end, the bad end showing both, its
 *      fast runs no lower than the good end's (MOVED_P; else the
 *      mixture split one end's noise and the ends show a shift): the
 *      "class" model.  Every run is classified fast or slow at the
 *      mixture's threshold and a commit's evidence is its slow and fast
 *      counts (a bimodal regression, or a good end that is itself
 *      bimodal);
 *    - a bad end that lies wholly elsewhere (a separated mode it always
 *      takes, or a location change found by Student's t-test when the modes
 *      overlap; not while either end visits both of two far modes, whose
 *      means say nothing; a run alone on its side of the modes' threshold,
 *      the first of a mode or a wild one, makes no end bimodal: the t-test,
 *      at a tenth of its level then, and the shift's fit leave it out): the
 *      "density" model, a shift.  Each run scores its
 *      log-likelihood ratio under the two ends' predictive (Student t)
 *      distributions, mixed with SHIFT_EPS of the other end and clipped
 *      to +-SHIFT_CLIP, so that one wild run cannot decide anything;
 *    - neither after NONE_BAD_RUNS runs at the bad end: no regression.
 *      NONE_BAD_RUNS is the number of runs that shows a slow mode of
 *      fraction 0.25 with probability 0.99: (1 - 0.25)^16 < 0.01.  When
 *      the ends hint at a difference, END_CAP_RUNS instead, and
 *      CLOSE_CAP_RUNS when the bad end is slow more often with P(more
 *      often) at least CLOSE_P (a good end slow now and then).
 *
 * 2. The search.  The posterior over the culprit c in 1..n-1 (uniform
 *    prior, but for commits identical to their parents: IDENTICAL_PRIOR)
 *    is, for the class model,
 *        P(c = j | D)  ~  B(a1 + S_hi, b1 + F_hi) / B(a1, b1) m0(S_lo, F_lo)
 *        m0(s, f)  =  w B(a0 + s, b0 + f) / B(a0, b0) + (1 - w) B(1 + s, 1 + f)
 *    with S/F the slow/fast counts of commits >= j (hi) and < j (lo): the
 *    unknown slow fractions q1 (bad) and q0 (good) are integrated out
 *    under their priors, in closed form, with prefix sums: O(n) per
 *    update.  q0's prior is a mixture: small (a misread fast run) with
 *    weight w, or anything at all (the good side is bimodal itself).
 *    For the density model it is the sum of the runs' clipped
 *    log-likelihood ratios over the commits >= j.  The ends' runs are data
 *    like any other.
 *
 *    Both models also keep "no change at all" (prior NONE_PRIOR): for the
 *    class model one slow fraction, flat prior, for every run; for the
 *    density model one distribution fitted to every run (its runs scored
 *    against the good side's like the others, clipped, and credited the
 *    BIC's 0.5 log N for the location it does not fit).  The ends decide
 *    on a few runs, so their difference may be chance (two ends that are
 *    both bimodal at the same rate, or noise); without this hypothesis
 *    the posterior would still have to put all its mass on some commit,
 *    and named a culprit for 2 % of bimodal such histories.  Every
 *    confidence in a commit is multiplied by 1 - P(no change);
 *    P(no change) >= NONE_P ends the search with no regression.
 *
 *    RECHECK_RUNS runs into the search, the class model's two modes are
 *    judged again on every run so far (recheck_modes()): when they no
 *    longer part (Ashman's D) and the fast runs reach the threshold, the
 *    ends' "slow mode" was no mode of its own (the lower tail of one
 *    mode's noise, or a shifted bad side), and the runs are judged with
 *    the density model from then on.
 *
 *    The next commit is the one whose next run has the largest expected
 *    information gain about c: I(Y; c) = H(Y) - E_c H(Y | c), Y being the
 *    run's class with the rates integrated out (or, for the density model,
 *    its value), again O(n) for all commits at once; "no change" counts as
 *    one more value of c.  Not the posterior median: in the one-sided
 *    case (q0 = 0) the median stalls next to the culprit, while the
 *    information-optimal commit has P(bad) near 0.4.
 *    With k idle agents, k probes are chosen greedily by their joint
 *    mutual information, then improved by single exchanges, duplicates
 *    allowed (batch_pick()); near the end, the allocation around the
 *    best commit most likely to finish this round (endgame_pick()).  Runs
 *    handed out and not fed yet (pb_engine_next_for()'s busy runs) are
 *    probes of that joint choice whose outcome is not known: the idle
 *    agents' probes are chosen with them, not beside them.
 *
 *    Skipped commits (no build, or only failed runs) cannot be told from
 *    the commit after them, so each forms one block with the next commit
 *    that can (one that gave runs keeps them, even if skipped later).
 *    A commit whose runs mostly fail is not run again.  The search stops
 *    when a block holds opts.confidence: a single commit is the culprit,
 *    a block with skipped commits is a range; or when the run budget is
 *    spent, or nothing left to run can narrow it (PB_OUT_STUCK).
 *
 * 3. Trusting it on a real machine.
 *    - A run the driver found disturbed by other work
 *      (pb_engine_disturbed()) is no evidence and costs no budget; most
 *      of the latest runs disturbed make the driver wait, PB_BUSY_WAITS
 *      waits in a row end it PB_OUT_TOO_BUSY.
 *    - The good end runs again every REF_EVERY search runs as a reference
 *      of the machine's level; a move (DRIFT_SIGMAS) re-judges every run
 *      against the level of its time (drift_check()).
 *    - Several machines (pb_engine_feed()'s machine ids) are strata, never
 *      one pool: a run is judged divided by its machine's speed, one
 *      multiplicative factor per machine measured on the good end (all
 *      of the above is per machine: references, levels, drift).  The
 *      reference machine is the first to run the good end (before any
 *      has, the first to give a run); its speed is 1, so its runs count
 *      at once, as a single machine's always did.  Any other machine's
 *      speed is the ratio of its good end to the reference machine's
 *      (machine_level(): medians of the logs, under the class model of
 *      the fast mode's runs), so its runs are evidence only once it ran
 *      the good end MIN_END_RUNS times - as the ends need that many runs
 *      before any decision, so that one misread slow run cannot set a
 *      machine's speed; until then its runs wait, and then they all
 *      count, judged by that ratio, which every later good-end run of
 *      either machine refines (machines_sync(): a new ratio re-judges
 *      every run).  A machine that never gets there (it gave one run and
 *      went away) never counts, and changes nothing.  Only the good end
 *      sets speeds: its runs are the same commit everywhere and mostly
 *      of the fast mode, while a bimodal bad end's median may lie in
 *      either mode.  pb_engine_next_for() hands a machine whose runs do
 *      not count yet the good end first, and each machine its references.
 *      The verification pairs runs per machine: a machine is a lane
 *      (VERIFY_LANES of them at once).
 *    - The commit that holds opts.confidence is verified against its
 *      parent, ABBA, under verify.c's sequential test before it is named
 *      (verify_begin(); VERIFY_ATTEMPTS, REVERIFY_RUNS).
 *    - "No regression" needs the ends shown to differ by less than
 *      opts.min_effect (none_shown()); otherwise the ends run on within
 *      their share of the budget (ENDS_SHARE_DIV), then "inconclusive".
 *    Each has its own comment below.
 *
 * The engine is deterministic: the same observations in the same order
 * give the same choices, which is how a resumed bisection replays its
 * stored runs.  opts.seed only breaks exact ties between equally
 * informative commits.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/human.h"
#include "common/util.h"
#include "engine.h"
#include "dip.h"
#include "engine_oracle.h"
#include "mixture.h"
#include "ranktest.h"
#include "rng.h"
#include "stats.h"
#include "verify.h"

enum {
	MIN_END_RUNS = 3,      /* per end, before any decision */
	MIN_SHIFT_RUNS = 4,    /* per end, to call a clean shift */
	TAIL_RUNS = 3,         /* fast good-end runs to judge a slow mode
				* far from them (Student t, 2 df) */
	NONE_BAD_RUNS = 16,    /* (1 - 0.25)^16 < 0.01 */
	NONE_GOOD_RUNS = 8,    /* before an improvement is called */
	END_CAP_RUNS = 48,     /* bad end runs when it is a close call */
	CLOSE_CAP_RUNS = 96,   /* ... and when its slow mode nearly shows */
	MAX_FAILS = 3,         /* failed runs, and more of them than good
				* ones: no more runs there */
	STALL_RUNS = 100,      /* search runs before the stall check */
	RECHECK_RUNS = 20,     /* search runs before the two modes are
				* judged again on every run */
	BATCH_MAX = 8,         /* probes chosen jointly; more are copies */
	ENDGAME_CAND = 4,      /* commits around the best in the endgame */
	ENDGAME_RUNS = 6,      /* larger batches: the joint choice only */
	EIG_GRID = 201,        /* P(bad) grid of the density model's gain */
	EXCHANGE_PASSES = 4,   /* after the greedy joint choice */
	VERIFY_ATTEMPTS = 3,   /* verifications a bisection may begin */
	REVERIFY_RUNS = 10,    /* runs after a verification did not confirm
				* a commit before it is verified again */
	VERIFY_LANES = 8,      /* agents verifying at once, at most */
	REF_EVERY = 12,        /* search runs between two of the good end's,
				* the reference the machine is judged by */
	DRIFT_SEGS = 16,       /* the machine's levels kept, at most */
	DRIFT_MIN_RUNS = 5,    /* the good end's runs on a level before a
				* reference is judged against it */
	ENDS_SHARE_DIV = 4,    /* the ends' share of the budget: a quarter,
				* to show "no regression" before it says
				* "inconclusive" */
};

#define SEP_D 3.0            /* Ashman's D of two separate modes */
#define VAR_FLOOR_REL 0.005  /* sd floor: 0.5 % of the median */
#define REGRESSION_P 0.99    /* P(q1 > q0) to call a bimodal regression */
#define SHIFT_P 0.005        /* t-test p to call an overlapping shift
				* (the search's "no change" catches the
				* ends that differed by chance) */
#define CLOSE_P 0.8          /* P(bad end slow more often) that earns
				* CLOSE_CAP_RUNS (slow at 20 % and 60 %,
				* 17 of 300 ended at 48 runs, P 0.84 to
				* 0.989) */
#define TAIL_P 0.01          /* good end's chance of a run that slow */
#define MOVED_P 0.01         /* the bad end's fast runs lie lower: no
				* class model yet (a wrong refusal costs one
				* more end run; calling the ends a shift
				* despite two modes takes SHIFT_P) */
#define IMPROVEMENT_P 0.999  /* P(q0 > q1), flat priors, to stop early */
#define SHIFT_EPS 0.01
#define SHIFT_CLIP 4.0
#define CI_MASS 0.95
#define NONE_PRIOR 0.1       /* P(no change point) a priori */
#define NONE_P 0.999         /* P(no change point) that ends the search */
#define STALL_P 0.001        /* sides that do not differ: no change */
#define STALL_UP 0.9
#define STALL_NONE 0.5       /* P(no change) that makes a stall */
#define REFIT_P 0.001        /* a commit's side is known for refitting */
#define ENDGAME_MASS 0.5     /* the best commit's mass: the endgame */
#define ENDGAME_P 0.05       /* P(finishing this round) worth aiming at */
/* Prior weight of a commit that maps the same code as its parent
 * (pb_engine_identical()), against 1 for the others.  Not 0: the build
 * does not show data files the benchmark reads, nor a script its run
 * command interprets, and a commit that changes one of those with the
 * code untouched is a culprit all the same.  1e-3 is ten bits, 6.9 nats,
 * of evidence beyond what a commit of changed code needs: two decisive
 * runs more in the shift model (each worth at most SHIFT_CLIP) or about
 * two slow runs more at a bimodal slowdown (each ~4 nats at q1 = 0.5
 * against the small q0) - so two slow runs taken under load next to
 * fast ones at the parent no longer name such a commit (zlib-ng's
 * 9d66cec2 was named so at 0.998), while a real change seen in every
 * run still is (test_engine.c, test_engine__identical_*). */
#define IDENTICAL_PRIOR 1e-3
#define DRIFT_SIGMAS 4.0     /* a reference this many of the good end's sds
			      * from its level, twice in a row and alike:
			      * the machine moved */
#define GAIN_MIN 1e-6        /* bits: when only the ends can run, a gain
			      * below this is nothing left to learn */

/* Priors of the slow fractions: q1 at bad commits, q0 at good ones.
 * q1 is anything but seldom near 0 or 1 (a slow mode that almost never
 * shows cannot be bisected, and one that nearly always shows is close to
 * a shift): Beta(2, 2), weakly.  q0 is small, a misread fast run, but not
 * zero: Beta(0.5, 60) (mean 0.008, 99th percentile 0.054), with weight
 * Q0_SMALL; or the good side is bimodal itself and q0 anything:
 * Beta(1, 1), with weight 0.1.  The runs weigh the two: ten fast good
 * runs leave the flat prior 1 % of its weight, one slow run among four
 * gives it 42 %, two among ten 60 %, and a good side slow in a quarter of
 * 40 runs 99.7 %.
 * (A prior switched to flat by a slow run among the good end's first few
 * cost the search dearly when that run was a misread fast one: 1 in 15
 * searches at q0 = 0.02, with 124 runs on average instead of 67.  The
 * mixture's first form, 0.97 Beta(0.5, 20) + 0.03 flat, let the small
 * component's tail, which reaches q0 = 0.15, explain a good side slow in
 * a quarter of its runs: a slow run at a good commit then still looked
 * like proof of a bad one.  With q1 = 0.3 the tighter form takes about
 * 10 runs fewer, at q1 = 0.5 about 3, and q0 = 0.02 as many.) */
#define PRIOR_A1 2.0
#define PRIOR_B1 2.0
#define PRIOR_A0 0.5
#define PRIOR_B0 60.0
#define Q0_SMALL 0.9

enum phase { PH_ENDS, PH_SEARCH, PH_DONE };
enum { PF_P, PF_R0, PF_R1, PF_H0, PF_H1, PF };  /* see prefix_rates() */
enum model { M_NONE, M_CLASS, M_DENSITY };

struct cobs {
	double *v;              /* successful runs' values, oriented and
				 * judged against their machine's speed */
	double *raw;            /* the same, as measured */
	unsigned *at;           /* the engine's clock at each of them */
	unsigned char *mach;    /* the machine of each */
	unsigned nv, av;
	unsigned failed;
	unsigned slow, fast;    /* class model */
	double llr;             /* density model: sum over the runs */
	double lnone;           /* and of "no change" : good, clipped */
	unsigned char skipped, listed;
	unsigned disturbed;     /* runs not counted (pb_engine_disturbed) */
};

/* One machine (section 3 of the top comment): its good-end runs, in the
 * order fed, the levels they show over time, and its speed against the
 * reference machine. */
struct mach {
	unsigned char seen;     /* gave a successful run */
	unsigned clock;         /* runs fed on it, of every kind */
	unsigned last_ref;      /* its clock at its latest good-end run */
	double *graw;           /* its good-end runs' values, as measured */
	unsigned *gat;          /* the engine's clock at each of them */
	unsigned ng, ag;
	unsigned npos;          /* of them > 0: the ones a level can use */
	/* its levels over time (log of the good end's value) from clock
	 * seg_from[j] on; its runs are judged divided by
	 * exp(level - level 0) times its ratio */
	unsigned nseg;
	unsigned seg_from[DRIFT_SEGS];
	double seg_level[DRIFT_SEGS];
	unsigned seg_first[DRIFT_SEGS]; /* its first good-end run's index */
	unsigned pending;       /* references off the level in a row */
	int ref_now;            /* a reference before the next decision */
	double drift_sd;        /* its good end's noise, log scale */
	double ratio;           /* log of its speed against the reference
				 * machine's, 0 for that one */
	unsigned char gathered; /* its runs are in the evidence now */
};

/* Every successful run fed, in order: the runs of a machine become
 * evidence when it has its reference, all of them at once. */
struct runrec {
	size_t commit;
	double raw;
	unsigned at;
	unsigned char mach;
};

/* lgamma(base + k) for k = 0, 1, ..., grown on demand. */
struct lgtab {
	double base;
	double *v;
	size_t n;
};

struct pb_engine {
	struct pb_engine_opts o;
	size_t n;
	struct cobs *c;
	size_t *order, norder;
	unsigned runs;
	size_t last;            /* the commit of the latest run */
	unsigned search_start;  /* runs when the search began */
	enum phase phase;
	enum model model;
	struct pb_engine_result res;

	int ends_two_modes;     /* the bad end showed both modes */
	size_t lone_end;        /* a lone far run at an end, set aside from */
	unsigned lone_at;       /* the shift's fit: end, clock; lone_end = n */
	int rechecked;          /* recheck_modes() has judged the modes */
	unsigned remodelled;    /* runs when the class model was dropped */
	int stale;              /* runs fed since the posterior was made */

	/* class model */
	double tau;             /* oriented: slow below */
	struct pb_mix mix;
	int told0, told1;       /* engine_oracle.h: a rate is given */
	double oq0, oq1;
	struct lgtab lg_a1, lg_b1, lg_ab1, lg_a0, lg_b0, lg_ab0, lg_1, lg_2;
	double lb1, lb0;        /* log B() of the two Beta priors */

	/* density model */
	double mu_f, mu_s, s_f, s_s, df;
	double mu_n, s_n, df_n; /* one distribution for every run */
	double gain[EIG_GRID];  /* I(Y; bad) at P(bad) = k / (EIG_GRID-1), */
	unsigned char gain_ok[EIG_GRID]; /* ... once gain_at() computed it */
	double *gf1, *gf0;      /* the refit's densities on GAIN_NX points,
				 * weighted (gain_at()); NULL: none */
	double dq0, dq1, dqn;   /* P(run scores slow | good), (| bad),
				 * (| no change) */

	/* search state, valid in PH_SEARCH and after */
	double *post;           /* P(c = j), j = 1..n-1; post[0] = 0 */
	double *cdf;            /* P(c <= i) = P(commit i is bad) */
	double *eig;
	double *r1, *r0, *tmp;  /* per-hypothesis predictive rates */
	double *pf;             /* prefix sums for batch_pick() */
	double p_none;          /* P(no change point | D) */
	double r_none;          /* its predictive slow fraction */
	size_t best;
	double best_mass;       /* P(c = best | D), p_none included */
	size_t block_first;     /* of the best block */

	/* a busy machine: the latest runs, 1 = disturbed, newest last */
	unsigned char recent[PB_BUSY_WINDOW];
	unsigned nrecent;
	unsigned disturbed;     /* all disturbed runs */
	unsigned busy_waits;    /* waits in a row without a clean run */
	int waited;             /* a wait was asked: the next call runs */

	/* verification of the best commit against its parent (verify.h) */
	struct pb_verify *ver;  /* under way, or NULL */
	size_t ver_c, ver_p;    /* the commit verified and its parent */
	enum model ver_model;   /* the model it classified runs with */
	size_t confirmed;       /* the commit a verification confirmed, 0 */
	unsigned *refuted_at;   /* per commit: runs when a verification did
				 * not confirm it, 0 never */
	unsigned vq_lane[VERIFY_LANES]; /* the sides next_batch() handed out */
	int vq_side[VERIFY_LANES];      /* this round, in order: which lane a */
	unsigned vq_n;                  /* run fed without a machine takes */
	uint64_t ver_lanes;     /* machines that are lanes of the one under
				 * way (pb_engine_next_for()) */
	int ver_gave_up;        /* the best commit could not be confirmed */
	/* the runs paired by the verification under way (cur) and by the
	 * last finished one (last): clock stamps, [k][0] parent, [k][1]
	 * culprit; per lane the first half of its open pair */
	unsigned (*vp_cur)[2], (*vp_last)[2];
	size_t vp_ncur, vp_nlast, vp_acur;
	unsigned vp_open[PB_VERIFY_MAX_LANES];
	unsigned char vp_has[PB_VERIFY_MAX_LANES];
	int improvement;        /* say_none() is told the bad end is faster */
	int too_noisy;          /* "no regression" could not be shown */
	int ends_more;          /* the search found no change: the ends run
				 * on to show it (finish_none()) */

	/* the machines' speeds over time, from the good end's runs on each
	 * (the references) */
	unsigned clock;         /* every run fed, disturbed ones included */
	struct mach mach[PB_ENGINE_MACHINES];
	int ref_mach;           /* the reference machine, -1 before any run */
	int ref_final;          /* ... chosen by the first good-end run */
	unsigned nseen;         /* machines that gave successful runs */
	int pooled;             /* pb_engine_pool_machines(): all are one */
	double lref;            /* the reference machine's level */
	int sync_now;           /* a good-end run: judge every run again */
	unsigned ref_ask;       /* finish_none() asked for references at
				 * clock ref_ask - 1; 0 not asking */
	struct runrec *rlog;    /* every successful run, in order */
	size_t nrlog, arlog;
	char drift_note[224];   /* what moved and when, for the why */
	/* the prior over c: log weight of each j (0, or log IDENTICAL_PRIOR
	 * for a commit identical to its parent) and the weights' sum */
	double *lprior;
	double prior_sum;
};

/* ---- small helpers ---- */

static double lgt(struct lgtab *t, size_t k)
{
	if (k >= t->n) {
		size_t nn = t->n ? t->n : 64;
		double *nv;

		while (nn <= k)
			nn *= 2;
		nv = realloc(t->v, nn * sizeof(*nv));
		if (!nv)
			return lgamma(t->base + (double)k);
		for (size_t i = t->n; i < nn; i++)
			nv[i] = lgamma(t->base + (double)i);
		t->v = nv;
		t->n = nn;
	}
	return t->v[k];
}

static double lbeta(double a, double b)
{
	return lgamma(a) + lgamma(b) - lgamma(a + b);
}

static double clamp(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

/* pb_h2(p), remembering the last p asked in *lp and its entropy in *lh:
 * the rates are the same over the untested stretches of a long range. */
static double h2_memo(double p, double *lp, double *lh)
{
	if (p != *lp) {
		*lp = p;
		*lh = pb_h2(p);
	}
	return *lh;
}

/* A commit worth another run: not skipped, and its runs do not mostly
 * fail (MAX_FAILS failures or more, and more failures than successes):
 * runs there would spend the budget and teach little. */
static int runnable(const struct cobs *c)
{
	return !c->skipped && !(c->failed >= MAX_FAILS && c->failed > c->nv);
}

/* A candidate of its own: its runs tell it from its neighbours, or more
 * runs could.  A commit without a successful run that cannot be run
 * (skipped, or failing) cannot be told from the commit after it and
 * joins that commit's block; one skipped or failing after it gave runs
 * keeps them, and stays a candidate of its own. */
static int distinct(const struct cobs *c)
{
	return c->nv > 0 || runnable(c);
}

static double orient(const struct pb_engine *e, double v)
{
	return e->o.lower_is_better ? -v : v;
}

static double unorient(const struct pb_engine *e, double v)
{
	return e->o.lower_is_better ? 0.0 - v : v; /* 0, not -0, for 0 */
}

static void finish(struct pb_engine *e, enum pb_outcome out)
{
	e->res.outcome = out;
	e->phase = PH_DONE;
}

/* The class model's log marginal likelihoods of s slow and f fast runs:
 * at bad commits, q1 ~ Beta(PRIOR_A1, PRIOR_B1) ... */
static double lm1(struct pb_engine *e, unsigned long s, unsigned long f)
{
	return lgt(&e->lg_a1, s) + lgt(&e->lg_b1, f) -
	       lgt(&e->lg_ab1, s + f) - e->lb1;
}

/* ... and at good commits, q0 from its mixture prior; *small (if not
 * NULL) is the posterior weight of the mixture's small component. */
static double lm0(struct pb_engine *e, unsigned long s, unsigned long f,
		  double *small)
{
	double xs = log(Q0_SMALL) + lgt(&e->lg_a0, s) + lgt(&e->lg_b0, f) -
		    lgt(&e->lg_ab0, s + f) - e->lb0;
	double xf = log1p(-Q0_SMALL) + lgt(&e->lg_1, s) + lgt(&e->lg_1, f) -
		    lgt(&e->lg_2, s + f);
	double top = xs > xf ? xs : xf;
	double ws = exp(xs - top), wf = exp(xf - top);

	if (small)
		*small = ws / (ws + wf);
	return top + log(ws + wf);
}

/* The same, with a rate the oracle switch gave (engine_oracle.h) fixed:
 * the likelihood of the runs instead of the marginal. */
static double lik1(struct pb_engine *e, unsigned long s, unsigned long f)
{
	if (e->told1)
		return (double)s * log(e->oq1) + (double)f * log1p(-e->oq1);
	return lm1(e, s, f);
}

static double lik0(struct pb_engine *e, unsigned long s, unsigned long f,
		   double *small)
{
	if (e->told0) {
		if (small)
			*small = 1;
		return (double)s * log(e->oq0) + (double)f * log1p(-e->oq0);
	}
	return lm0(e, s, f, small);
}

/* ---- life cycle and input ---- */

int pb_engine_new(struct pb_engine **out, const struct pb_engine_opts *o)
{
	struct pb_engine *e;
	size_t n = o->n;

	*out = NULL;
	if (n < 2 || !(o->confidence > 0 && o->confidence < 1) ||
	    o->max_runs == 0)
		return -1;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -1;
	e->o = *o;
	e->n = n;
	e->lone_end = n; /* none */
	e->ref_mach = -1;
	e->c = calloc(n, sizeof(*e->c));
	e->order = calloc(n, sizeof(*e->order));
	e->post = calloc(n, sizeof(double));
	e->cdf = calloc(n, sizeof(double));
	e->eig = calloc(n, sizeof(double));
	e->r1 = calloc(n, sizeof(double));
	e->r0 = calloc(n, sizeof(double));
	e->tmp = calloc(n + 1, sizeof(double));
	e->pf = calloc(n * PF, sizeof(double));
	e->lprior = calloc(n, sizeof(double));
	e->refuted_at = calloc(n, sizeof(unsigned));
	e->prior_sum = (double)(n - 1);
	if (!e->c || !e->order || !e->post || !e->cdf || !e->eig || !e->r1 ||
	    !e->r0 || !e->tmp || !e->pf || !e->lprior || !e->refuted_at) {
		pb_engine_free(e);
		return -1;
	}
	e->lg_a1.base = PRIOR_A1;
	e->lg_b1.base = PRIOR_B1;
	e->lg_ab1.base = PRIOR_A1 + PRIOR_B1;
	e->lg_a0.base = PRIOR_A0;
	e->lg_b0.base = PRIOR_B0;
	e->lg_ab0.base = PRIOR_A0 + PRIOR_B0;
	e->lg_1.base = 1.0;
	e->lg_2.base = 2.0;
	e->lb1 = lbeta(PRIOR_A1, PRIOR_B1);
	e->lb0 = lbeta(PRIOR_A0, PRIOR_B0);
	e->res.confidence = NAN;
	e->res.good_median = NAN;
	e->res.bad_median = NAN;
	e->res.fast_mode = e->res.slow_mode = NAN;
	e->res.ashman_d = NAN;
	e->res.q0 = e->res.q1 = NAN;
	e->res.dip = e->res.dip_p = e->res.good_dip_p = NAN;
	e->res.mwu_p = e->res.ks_p = NAN;
	e->res.ci_first = 1;
	e->res.ci_last = n - 1;
	e->res.verification.effect = e->res.verification.lo = NAN;
	e->res.verification.hi = e->res.verification.p = NAN;
	*out = e;
	return 0;
}

void pb_engine_free(struct pb_engine *e)
{
	if (!e)
		return;
	if (e->c)
		for (size_t i = 0; i < e->n; i++) {
			free(e->c[i].v);
			free(e->c[i].raw);
			free(e->c[i].at);
			free(e->c[i].mach);
		}
	for (size_t m = 0; m < PB_ENGINE_MACHINES; m++) {
		free(e->mach[m].graw);
		free(e->mach[m].gat);
	}
	free(e->rlog);
	free(e->gf1);
	free(e->gf0);
	free(e->c);
	free(e->order);
	free(e->post);
	free(e->cdf);
	free(e->eig);
	free(e->r1);
	free(e->r0);
	free(e->tmp);
	free(e->pf);
	free(e->lprior);
	free(e->refuted_at);
	free(e->vp_cur);
	free(e->vp_last);
	pb_verify_free(e->ver);
	free(e->lg_a1.v);
	free(e->lg_b1.v);
	free(e->lg_ab1.v);
	free(e->lg_a0.v);
	free(e->lg_b0.v);
	free(e->lg_ab0.v);
	free(e->lg_1.v);
	free(e->lg_2.v);
	free(e);
}

void pb_engine_pool_machines(struct pb_engine *e)
{
	e->pooled = 1;
}

void pb_engine_oracle_rates(struct pb_engine *e, double q0, double q1)
{
	e->told0 = !isnan(q0);
	e->told1 = !isnan(q1);
	e->oq0 = e->told0 ? clamp(q0, 1e-9, 1 - 1e-9) : 0;
	e->oq1 = e->told1 ? clamp(q1, 1e-9, 1 - 1e-9) : 0;
}

static void list_commit(struct pb_engine *e, size_t i)
{
	if (!e->c[i].listed) {
		e->c[i].listed = 1;
		e->order[e->norder++] = i;
	}
}

/* Student t log density, location mu, scale s, df nu. */
static double t_logpdf(double x, double mu, double s, double nu)
{
	double z = (x - mu) / s;

	return lgamma((nu + 1) / 2) - lgamma(nu / 2) -
	       0.5 * log(nu * M_PI) - log(s) -
	       (nu + 1) / 2 * log1p(z * z / nu);
}

/* Density model: clipped log-likelihood ratio bad : good of one run. */
static double run_llr(const struct pb_engine *e, double x)
{
	double ls = t_logpdf(x, e->mu_s, e->s_s, e->df);
	double lf = t_logpdf(x, e->mu_f, e->s_f, e->df);
	double hi = ls > lf ? ls : lf;
	double ps = exp(ls - hi), pf = exp(lf - hi);
	double num = (1 - SHIFT_EPS) * ps + SHIFT_EPS * pf;
	double den = SHIFT_EPS * ps + (1 - SHIFT_EPS) * pf;

	return clamp(log(num) - log(den), -SHIFT_CLIP, SHIFT_CLIP);
}

/* Density model: clipped log-likelihood ratio "no change" : good of one
 * run, "no change" being one distribution fitted to every run. */
static double run_lnone(const struct pb_engine *e, double x)
{
	double ls = t_logpdf(x, e->mu_s, e->s_s, e->df);
	double lf = t_logpdf(x, e->mu_f, e->s_f, e->df);
	double ln = t_logpdf(x, e->mu_n, e->s_n, e->df_n);
	double hi = ls > lf ? ls : lf;
	double den = SHIFT_EPS * exp(ls - hi) + (1 - SHIFT_EPS) * exp(lf - hi);

	return clamp(ln - hi - log(den), -SHIFT_CLIP, SHIFT_CLIP);
}

static void score_run(struct pb_engine *e, struct cobs *c, double x)
{
	if (e->model == M_CLASS) {
		if (x < e->tau)
			c->slow++;
		else
			c->fast++;
	} else if (e->model == M_DENSITY) {
		double l = run_llr(e, x);

		c->llr += l;
		c->lnone += run_lnone(e, x);
		if (l > 0)
			c->slow++;
		else
			c->fast++;
	}
}

static void rescore_all(struct pb_engine *e)
{
	for (size_t i = 0; i < e->n; i++) {
		struct cobs *c = &e->c[i];

		c->slow = c->fast = 0;
		c->llr = c->lnone = 0;
		for (unsigned k = 0; k < c->nv; k++)
			score_run(e, c, c->v[k]);
	}
}

static void judge_ends(struct pb_engine *e);
static void recheck_modes(struct pb_engine *e);
static void update(struct pb_engine *e);
static void fit_density(struct pb_engine *e, int refit);

/* Remembers whether the latest run was disturbed; a clean one ends a
 * busy spell. */
static void note_recent(struct pb_engine *e, int disturbed)
{
	if (e->nrecent == PB_BUSY_WINDOW)
		memmove(e->recent, e->recent + 1, PB_BUSY_WINDOW - 1);
	else
		e->nrecent++;
	e->recent[e->nrecent - 1] = (unsigned char)disturbed;
	e->waited = 0;
	if (!disturbed)
		e->busy_waits = 0;
}

/* Most of the latest runs disturbed, the latest among them. */
static int machine_busy(const struct pb_engine *e)
{
	unsigned d = 0;

	for (unsigned k = 0; k < e->nrecent; k++)
		d += e->recent[k];
	return e->nrecent && e->recent[e->nrecent - 1] &&
	       2 * d > PB_BUSY_WINDOW;
}


/* ---- the machine changing under the runs ----
 *
 * A real machine changes while it is measured: another tenant arrives,
 * the clock is throttled, a page cache fills.  Judged against the ends'
 * first runs, a machine 30 % slower from some run on makes every later
 * fast run look slow, and the search blames whatever commit it was
 * running.  So the good end is run again every REF_EVERY runs of the
 * search as a reference, and its runs, in time order, give the machine's
 * level: a reference DRIFT_SIGMAS of the good end's sds off the current
 * level, twice in a row and alike, starts a new level (from halfway
 * between the last reference on the old level and the first on the new
 * one).  Every run is judged divided by its level's ratio to the first,
 * and a new level re-judges every run after it; the why says what moved
 * and when.  A ramp slower than the noise is left alone: its runs move
 * less than the modes are apart, and the verification, whose pairs are
 * next to each other in time, cancels it.
 *
 * Several machines are several such levels, one history each, and one
 * more factor: a machine's speed against the reference machine's, the
 * ratio of their good ends (machine_level()).  All of it is kept per
 * machine (struct mach): the references, their schedule (REF_EVERY of the
 * machine's own runs), the levels and the drift test. */

/* The speed that machine m's run at clock t is judged by: its ratio to
 * the reference machine, times its level then against its first. */
static double speed_at(const struct pb_engine *e, unsigned m, unsigned t)
{
	const struct mach *M = &e->mach[m];
	unsigned j = M->nseg;
	double s;

	while (j > 1 && M->seg_from[j - 1] > t)
		j--;
	s = j > 1 ? exp(M->seg_level[j - 1] - M->seg_level[0]) : 1.0;
	return M->ratio != 0 ? s * exp(M->ratio) : s;
}

/* The level of machine m's segment j: the median of its good-end runs'
 * logs. */
static double seg_level_of(const struct pb_engine *e, unsigned m, unsigned j,
			   unsigned to)
{
	const struct mach *M = &e->mach[m];
	double buf[64];
	unsigned n = 0, from = M->seg_first[j];

	if (to - from > 64)
		from = to - 64;
	for (unsigned k = from; k < to; k++)
		if (M->graw[k] > 0)
			buf[n++] = log(M->graw[k]);
	return n ? pb_median(buf, n) : M->seg_level[j];
}

static double run_speed(const struct pb_engine *e, size_t i, unsigned m,
			unsigned at);

/* Every run judged again with the levels as they are now. */
static void rejudge(struct pb_engine *e)
{
	for (size_t i = 0; i < e->n; i++) {
		struct cobs *c = &e->c[i];

		for (unsigned k = 0; k < c->nv; k++)
			c->v[k] = orient(e, c->raw[k] /
					    run_speed(e, i, c->mach[k],
						      c->at[k]));
	}
	if (e->model == M_DENSITY)
		fit_density(e, 0);
	rescore_all(e);
	e->stale = 1;
}

/* After a run of the good end on machine m: has the machine moved? */
static void drift_check(struct pb_engine *e, unsigned m)
{
	struct mach *M = &e->mach[m];
	unsigned k = M->ng - 1, j = M->nseg - 1;
	double x, dev;

	M->last_ref = M->clock - 1;
	M->ref_now = 0;
	if (!(M->graw[k] > 0))
		return;
	x = log(M->graw[k]);
	if (M->nseg == 0) {
		M->nseg = 1;
		M->seg_from[0] = 0;
		M->seg_first[0] = 0;
		M->seg_level[0] = x;
		return;
	}
	/* The good end's noise, from its runs on the current level around
	 * that level (the MAD's sd); no judgement on fewer than
	 * DRIFT_MIN_RUNS of them, nor below 1 %. */
	{
		double d[64];
		unsigned n = 0, from = M->seg_first[j];

		if (k - from > 64)
			from = k - 64;
		for (unsigned t = from; t < k; t++)
			if (M->graw[t] > 0)
				d[n++] = fabs(log(M->graw[t]) - M->seg_level[j]);
		if (n < DRIFT_MIN_RUNS) {
			M->seg_level[j] = seg_level_of(e, m, j, k + 1);
			return;
		}
		M->drift_sd = fmax(0.01, 1.4826 * pb_median(d, n));
	}
	dev = x - M->seg_level[j];
	/* A good end that is bimodal itself visits its slow mode now and
	 * then: a run there is no move of the machine (nor a reason to
	 * forget one seen) - the class model knows where that mode lies. */
	if (e->model == M_CLASS && e->mix.mu[0] != 0 &&
	    unorient(e, e->mix.mu[0]) > 0 &&
	    fabs(x - log(speed_at(e, m, M->gat[k])) -
		 log(unorient(e, e->mix.mu[0]))) <= 2.5 * M->drift_sd)
		return;
	if (fabs(dev) <= DRIFT_SIGMAS * M->drift_sd) {
		M->pending = 0;
		M->seg_level[j] = seg_level_of(e, m, j, k + 1);
		return;
	}
	if (M->pending && k >= 1 && M->graw[k - 1] > 0 &&
	    (log(M->graw[k - 1]) - M->seg_level[j]) * dev > 0 &&
	    fabs(log(M->graw[k - 1]) - x) <= 3 * M_SQRT2 * M->drift_sd &&
	    M->nseg < DRIFT_SEGS) {
		/* two references off the level, alike: a new level, from
		 * halfway between the last one on the old level and the first
		 * on the new */
		unsigned before = k >= 2 ? M->gat[k - 2] : 0;
		double old = exp(M->seg_level[j]), now;
		char which[32] = "the machine", from[16], to[16];

		M->seg_first[M->nseg] = k - 1;
		M->seg_from[M->nseg] = (before + M->gat[k - 1] + 1) / 2;
		M->seg_level[M->nseg] = (log(M->graw[k - 1]) + x) / 2;
		M->nseg++;
		M->pending = 0;
		now = exp(M->seg_level[M->nseg - 1]);
		if (e->nseen > 1)
			snprintf(which, sizeof(which), "machine %u", m);
		/* as a person reads them: "112 to 81.5", "8.90 G to 6.20 G" */
		pb_human_si(from, sizeof(from), old);
		pb_human_si(to, sizeof(to), now);
		snprintf(e->drift_note, sizeof(e->drift_note),
			 "%s changed under the bisection: the good "
			 "end went from %s to %s (%+.0f %%) at about run "
			 "%u, and the runs were judged against it", which,
			 from, to, 100 * (now / old - 1),
			 M->seg_from[M->nseg - 1]);
		rejudge(e);
		return;
	}
	M->pending++;
}

/* Whether machine m's runs are evidence: the reference machine's always
 * (its speed is 1 by definition), another's once it ran the good end
 * MIN_END_RUNS times and the reference machine once (section 3 of the top
 * comment). */
static int counted(const struct pb_engine *e, unsigned m)
{
	if (e->pooled || (int)m == e->ref_mach)
		return 1;
	return e->ref_final && e->mach[m].npos >= MIN_END_RUNS &&
	       e->mach[e->ref_mach].npos >= 1;
}

/*
 * Machine m's reference level: the median of the logs of its good-end
 * runs on its first level (the latest 64), but the one at clock `skip`
 * (UINT_MAX: none).  With the class model, the runs of the slow mode are
 * left out: those more than half the modes' distance below the machine's
 * fastest good-end run, when the rest are at least half of them (a good
 * end slow now and then must not set a machine's speed to its slow
 * mode's).  NAN without such runs.
 */
static double machine_level(const struct pb_engine *e, unsigned m,
			    unsigned skip)
{
	const struct mach *M = &e->mach[m];
	double buf[64], top = -INFINITY, gap = INFINITY;
	unsigned n = 0, to = M->nseg > 1 ? M->seg_first[1] : M->ng, from = 0;

	if (to > 64)
		from = to - 64;
	for (unsigned k = from; k < to; k++)
		if (M->graw[k] > 0 && M->gat[k] != skip) {
			buf[n] = log(M->graw[k]);
			if (e->o.lower_is_better)
				buf[n] = -buf[n];
			if (buf[n] > top)
				top = buf[n];
			n++;
		}
	if (n == 0)
		return NAN;
	if (e->model == M_CLASS && unorient(e, e->mix.mu[0]) > 0 &&
	    unorient(e, e->mix.mu[1]) > 0)
		gap = fabs(log(unorient(e, e->mix.mu[1]) /
			       unorient(e, e->mix.mu[0])));
	if (isfinite(gap)) {
		unsigned f = 0;
		double fast[64];

		for (unsigned k = 0; k < n; k++)
			if (buf[k] >= top - gap / 2)
				fast[f++] = buf[k];
		if (2 * f >= n)
			return (e->o.lower_is_better ? -1 : 1) *
			       pb_median(fast, f);
	}
	return (e->o.lower_is_better ? -1 : 1) * pb_median(buf, n);
}

/*
 * The speed machine m's run of commit i at clock `at` is judged by:
 * speed_at(), but a good-end run of a machine other than the reference is
 * judged by the ratio of that machine's other good-end runs (leave one
 * out).  Judged by a ratio estimated from itself, each machine's good-end
 * runs would lie around their own median, tighter than a machine's runs
 * are: the good end would look less noisy than it is, and a bad end's
 * fast run slower than the good end's (the ends then call a shift).
 */
static double run_speed(const struct pb_engine *e, size_t i, unsigned m,
			unsigned at)
{
	double s = speed_at(e, m, at), l;

	if (i != 0 || (int)m == e->ref_mach || e->nseen <= 1 || e->pooled)
		return s;
	l = machine_level(e, m, at);
	if (!isfinite(l) || !isfinite(e->lref))
		return s;
	return s * exp(l - e->lref - e->mach[m].ratio);
}

static int cobs_push(struct cobs *c, double raw, unsigned at,
		     unsigned char mach);
static void judge_ends(struct pb_engine *e);

/*
 * The machines brought up to date after a run: which machines' runs are
 * evidence (when that changed, the evidence is gathered again from every
 * run so far, in order), and each machine's ratio to the reference
 * machine (when one moved, every run is judged again).  Nothing to do
 * while one machine gave all the runs.  -1 when memory runs out.
 */
static int machines_sync(struct pb_engine *e)
{
	double lref;
	int moved = 0, regather = 0;

	if (e->nseen <= 1 || e->pooled)
		return 0;
	for (unsigned m = 0; m < PB_ENGINE_MACHINES; m++)
		if (e->mach[m].seen)
			regather |= counted(e, m) != e->mach[m].gathered;
	lref = machine_level(e, (unsigned)e->ref_mach, UINT_MAX);
	e->lref = lref;
	for (unsigned m = 0; m < PB_ENGINE_MACHINES; m++) {
		struct mach *M = &e->mach[m];
		double r = 0;

		if (!M->seen || !counted(e, m))
			continue;
		if ((int)m != e->ref_mach)
			r = machine_level(e, m, UINT_MAX) - lref;
		if (!isfinite(r))
			r = 0;
		if (fabs(r - M->ratio) > 1e-12) {
			M->ratio = r;
			moved = 1;
		}
	}
	if (regather) {
		for (size_t i = 0; i < e->n; i++)
			e->c[i].nv = 0;
		for (size_t k = 0; k < e->nrlog; k++) {
			const struct runrec *r = &e->rlog[k];

			if (counted(e, r->mach) &&
			    cobs_push(&e->c[r->commit], r->raw, r->at,
				      r->mach) < 0)
				return -1;
		}
		for (unsigned m = 0; m < PB_ENGINE_MACHINES; m++)
			e->mach[m].gathered = (unsigned char)counted(e, m);
	}
	if (regather || moved || e->sync_now)
		rejudge(e);
	e->sync_now = 0;
	return 0;
}

/* Whether the search should run the good end on machine m now, as its
 * reference. */
static int want_reference(const struct pb_engine *e, unsigned m)
{
	const struct mach *M = &e->mach[m];

	return e->phase == PH_SEARCH && !e->ver && runnable(&e->c[0]) &&
	       (M->pending || M->ref_now ||
		M->clock >= M->last_ref + REF_EVERY);
}

/* ---- verification (verify.h) ----
 *
 * Once one commit c holds opts.confidence of the posterior - where the
 * search would have named it - c and its parent p (the nearest commit
 * before it that still runs) run in ABBA order on each agent under
 * verify.c's sequential test: shift models test the runs' values, class
 * models their classes.  The runs are evidence for the search as well.
 * c is named the culprit only when the verification confirmed it and it
 * still holds opts.confidence.  (Begun earlier, at half the posterior,
 * verifications were spent on the wrong commits: in a bimodal search the
 * best commit at 0.5 is often a neighbour of the culprit, and every
 * attempt spends error rate.)  A
 * verification that does not confirm c leaves its runs as evidence; c is
 * verified again only REVERIFY_RUNS runs later (new evidence pointing at
 * it), at most VERIFY_ATTEMPTS verifications in all, their error rates
 * spent as pb_verify_attempt_alpha() says, 1 - confidence in all.  The
 * verifier sees fresh runs only - those taken while it runs - never the
 * ones that made the search pick c. */

/* Forgets the verification under way. */
static void verify_drop(struct pb_engine *e)
{
	pb_verify_free(e->ver);
	e->ver = NULL;
	e->vq_n = 0;
	e->ver_lanes = 0;
}

static void verify_end(struct pb_engine *e)
{
	static const char *const stops[] = { "", "evidence", "futility",
					     "hopeless", "max pairs" };
	struct pb_engine_verification *r = &e->res.verification;
	struct pb_verify_state st;

	pb_verify_state(e->ver, &st);
	r->done = 1;
	r->ended++;
	r->confirmed = st.status == PB_VERIFY_CONFIRMED;
	r->commit = e->ver_c;
	r->pairs = st.pairs;
	r->effect = st.effect;
	r->lo = st.lo;
	r->hi = st.hi;
	r->p = st.p;
	snprintf(r->stop, sizeof(r->stop), "%s",
		 st.stop <= PB_VERIFY_STOP_MAX_PAIRS ? stops[st.stop] : "");
	if (r->confirmed)
		e->confirmed = e->ver_c;
	else
		e->refuted_at[e->ver_c] = e->runs ? e->runs : 1;
	free(e->vp_last); /* its pairs become the last finished ones */
	e->vp_last = e->vp_cur;
	e->vp_nlast = e->vp_ncur;
	e->vp_cur = NULL;
	e->vp_ncur = e->vp_acur = 0;
	verify_drop(e);
}

/* Notes a run the verification took (clock stamp `at`, of `side`, on
 * `lane`): every second run of a lane completes its pair.  0, or -1 when
 * memory runs out (the pairs are then incomplete, which only the
 * description of what moved with the metric uses). */
static int verify_note_pair(struct pb_engine *e, unsigned lane, int side,
			    unsigned at)
{
	if (!e->vp_has[lane]) {
		e->vp_open[lane] = at;
		e->vp_has[lane] = 1;
		return 0;
	}
	e->vp_has[lane] = 0;
	if (e->vp_ncur == e->vp_acur) {
		size_t na = e->vp_acur ? 2 * e->vp_acur : 16;
		unsigned (*nv)[2] = realloc(e->vp_cur, na * sizeof(*nv));

		if (!nv)
			return -1;
		e->vp_cur = nv;
		e->vp_acur = na;
	}
	e->vp_cur[e->vp_ncur][side == PB_VERIFY_CULPRIT] = at;
	e->vp_cur[e->vp_ncur][side != PB_VERIFY_CULPRIT] = e->vp_open[lane];
	e->vp_ncur++;
	return 0;
}

/* A clean run of commit i (raw value, oriented x) on `lane`: the
 * verification takes it when it is the side the lane runs next.  A run fed
 * with its machine is on that machine's lane (so a pair never spans two
 * machines); one fed without (lane -1) takes the lane of the first side
 * of its kind that pb_engine_next_batch() handed out this round. */
static void verify_feed(struct pb_engine *e, size_t i, double raw, double x,
			int by_machine)
{
	enum pb_verify_side side;
	unsigned lane = 0, k;

	if (!e->ver || (i != e->ver_c && i != e->ver_p))
		return;
	if (e->model != e->ver_model) {
		/* the runs are judged with another model now: its classes
		 * no longer mean what they meant; begin again, this one
		 * unspent (it confirmed nothing) */
		verify_drop(e);
		e->res.verification.attempts--;
		return;
	}
	side = i == e->ver_c ? PB_VERIFY_CULPRIT : PB_VERIFY_PARENT;
	for (k = 0; k < e->vq_n && e->vq_side[k] != (int)side; k++)
		;
	if (by_machine >= 0) {
		lane = (unsigned)by_machine;
	} else if (k < e->vq_n) {
		lane = e->vq_lane[k];
		memmove(e->vq_lane + k, e->vq_lane + k + 1,
			(e->vq_n - k - 1) * sizeof(e->vq_lane[0]));
		memmove(e->vq_side + k, e->vq_side + k + 1,
			(e->vq_n - k - 1) * sizeof(e->vq_side[0]));
		e->vq_n--;
	}
	if (pb_verify_next(e->ver, lane) != side)
		return;
	if (pb_verify_add(e->ver, lane, side, raw,
			  e->ver_model == M_CLASS && x < e->tau) < 0) {
		/* a value the test cannot take (not > 0: it works on log
		 * ratios): this verification cannot go on */
		e->refuted_at[e->ver_c] = e->runs ? e->runs : 1;
		e->res.verification.attempts = VERIFY_ATTEMPTS;
		verify_drop(e);
		return;
	}
	(void)verify_note_pair(e, lane, side, e->clock - 1);
	if (pb_verify_status(e->ver) != PB_VERIFY_RUNNING)
		verify_end(e);
}

/* The parent c is verified against: the nearest commit before it that
 * still runs (c - 1 unless that one fails in most of its runs), or c when
 * there is none. */
static size_t verify_parent(const struct pb_engine *e, size_t c)
{
	for (size_t p = c; p-- > 0;)
		if (runnable(&e->c[p]))
			return p;
	return c;
}

/* Whether commit c can (still) be verified against its parent. */
static int verify_possible(const struct pb_engine *e, size_t c)
{
	return (e->ver && e->ver_c == c) ||
	       (c >= 1 && e->res.verification.attempts < VERIFY_ATTEMPTS &&
		runnable(&e->c[c]) && verify_parent(e, c) < c);
}

/* Begins the verification of the best commit when it is time; 1 when one
 * is under way afterwards. */
static int verify_begin(struct pb_engine *e)
{
	struct pb_verify_opts vo = PB_VERIFY_OPTS_INIT;
	size_t c = e->best;
	unsigned attempt = e->res.verification.attempts + 1;

	if (e->ver)
		return 1;
	if (e->best_mass < e->o.confidence || c == 0 || e->block_first != c ||
	    e->confirmed == c || !verify_possible(e, c) ||
	    (e->refuted_at[c] && e->runs < e->refuted_at[c] + REVERIFY_RUNS))
		return 0;
	vo.kind = e->model == M_CLASS ? PB_VERIFY_BIMODAL : PB_VERIFY_SHIFT;
	vo.lower_is_better = e->o.lower_is_better;
	vo.alpha = pb_verify_attempt_alpha(1 - e->o.confidence, attempt);
	vo.lanes = PB_VERIFY_MAX_LANES; /* a lane per machine (or place in
					 * a batch), VERIFY_LANES at once */
	if (vo.kind == PB_VERIFY_SHIFT) {
		double noise = e->s_f / fabs(e->mu_f);

		if (isfinite(noise) && noise > 0 && noise < 1)
			vo.noise = noise;
	} else {
		const struct cobs *g = &e->c[0], *b = &e->c[e->n - 1];
		double q0 = g->slow + g->fast
				    ? (double)g->slow / (g->slow + g->fast)
				    : -1;
		double q1 = b->slow + b->fast
				    ? (double)b->slow / (b->slow + b->fast)
				    : -1;

		if (q0 >= 0 && q1 > q0 && q1 <= 1) {
			vo.q0 = q0;
			vo.q1 = q1;
		}
	}
	/* more pairs where a small alpha needs them */
	while (pb_verify_new(&e->ver, &vo) < 0) {
		unsigned mp = vo.max_pairs ? vo.max_pairs
			      : vo.kind == PB_VERIFY_SHIFT ? 40 : 60;

		if (mp >= PB_VERIFY_MAX_PAIRS / 2)
			return 0;
		vo.max_pairs = 2 * mp;
	}
	e->ver_c = c;
	e->ver_p = verify_parent(e, c);
	e->ver_model = e->model;
	e->vq_n = 0;
	e->vp_ncur = 0;
	memset(e->vp_has, 0, sizeof(e->vp_has));
	e->res.verification.attempts = attempt;
	return 1;
}

/* The sides the verification wants next, one per agent (lane). */
static size_t verify_pick(struct pb_engine *e, size_t k, size_t *out)
{
	size_t m = 0;

	e->vq_n = 0;
	for (unsigned lane = 0; lane < k && lane < VERIFY_LANES; lane++) {
		enum pb_verify_side side = pb_verify_next(e->ver, lane);

		if (side == PB_VERIFY_NONE)
			continue;
		out[m++] = side == PB_VERIFY_CULPRIT ? e->ver_c : e->ver_p;
		e->vq_lane[e->vq_n] = lane;
		e->vq_side[e->vq_n++] = side;
	}
	return m;
}

/* After every run fed (or commit skipped): a verification begins as soon
 * as the runs so far call for it, whether or not the driver asks what to
 * run next in between, so a replay of the same runs begins it at the same
 * run. */
static void after_feed(struct pb_engine *e)
{
	if (e->ver && (!runnable(&e->c[e->ver_c]) ||
		       !runnable(&e->c[e->ver_p])))
		verify_end(e); /* one side no longer runs: not confirmed */
	if (e->phase != PH_SEARCH || e->ver)
		return;
	update(e);
	verify_begin(e);
}

/* Room for one more run at c. */
static int cobs_reserve(struct cobs *c)
{
	unsigned na;
	double *nv, *nr;
	unsigned *nat;
	unsigned char *nm;

	if (c->nv < c->av)
		return 0;
	na = c->av ? c->av * 2 : 8;
	nv = realloc(c->v, na * sizeof(*nv));
	if (!nv)
		return -1;
	c->v = nv;
	nr = realloc(c->raw, na * sizeof(*nr));
	if (!nr)
		return -1;
	c->raw = nr;
	nat = realloc(c->at, na * sizeof(*nat));
	if (!nat)
		return -1;
	c->at = nat;
	nm = realloc(c->mach, na * sizeof(*nm));
	if (!nm)
		return -1;
	c->mach = nm;
	c->av = na;
	return 0;
}

/* One more run at c as evidence; its value is judged by rejudge() or the
 * caller. */
static int cobs_push(struct cobs *c, double raw, unsigned at,
		     unsigned char mach)
{
	if (cobs_reserve(c) < 0)
		return -1;
	c->at[c->nv] = at;
	c->raw[c->nv] = raw;
	c->mach[c->nv] = mach;
	c->v[c->nv++] = 0;
	return 0;
}

/* Room for one more good-end run of machine M, and one more record. */
static int rlog_reserve(struct pb_engine *e, struct mach *M, size_t i)
{
	if (e->nrlog == e->arlog) {
		size_t na = e->arlog ? 2 * e->arlog : 64;
		struct runrec *nr = realloc(e->rlog, na * sizeof(*nr));

		if (!nr)
			return -1;
		e->rlog = nr;
		e->arlog = na;
	}
	if (i == 0 && M->ng == M->ag) {
		unsigned na = M->ag ? 2 * M->ag : 16;
		double *ng = realloc(M->graw, na * sizeof(*ng));
		unsigned *nt;

		if (!ng)
			return -1;
		M->graw = ng;
		nt = realloc(M->gat, na * sizeof(*nt));
		if (!nt)
			return -1;
		M->gat = nt;
		M->ag = na;
	}
	return 0;
}

/*
 * One run fed.  by_machine: the driver named the run's machine
 * (pb_engine_feed()), whose lane it is in the verification; 0 for the
 * calls without one (machine 0, lanes by place in the batch).
 */
static int feed(struct pb_engine *e, const struct pb_engine_run *r,
		int by_machine)
{
	size_t i = r->commit;
	double value = r->value;
	unsigned m, at;
	struct mach *M;
	struct cobs *c;
	int push;

	if (i >= e->n || r->machine >= PB_ENGINE_MACHINES)
		return -1;
	m = e->pooled ? 0 : r->machine;
	M = &e->mach[m];
	c = &e->c[i];
	switch (r->status) {
	case PB_RUN_DISTURBED:
		c->disturbed++;
		e->disturbed++;
		e->clock++;
		M->clock++;
		e->last = i;
		list_commit(e, i);
		note_recent(e, 1);
		return 0;
	case PB_RUN_FAILED:
		c->failed++;
		e->runs++;
		e->clock++;
		M->clock++;
		note_recent(e, 0);
		e->stale = 1;
		e->last = i;
		list_commit(e, i);
		judge_ends(e);
		after_feed(e);
		return 0;
	case PB_RUN_OK:
		break;
	default:
		return -1;
	}
	if (!(fabs(value) <= PB_ENGINE_VALUE_MAX) || rlog_reserve(e, M, i) < 0)
		return -1;
	/* The reference machine: the first to run the good end, and until
	 * one has, the first to give a run (section 3). */
	if (e->ref_mach < 0) {
		e->ref_mach = (int)m;
		M->gathered = 1;
	}
	if (i == 0 && value > 0 && !e->ref_final) {
		e->ref_final = 1;
		e->ref_mach = (int)m; /* machines_sync() gathers again */
	}
	push = counted(e, m) && M->gathered;
	if (push && cobs_reserve(c) < 0)
		return -1;
	if (!M->seen) {
		M->seen = 1;
		e->nseen++;
	}
	at = e->clock++;
	M->clock++;
	e->rlog[e->nrlog].commit = i;
	e->rlog[e->nrlog].raw = value;
	e->rlog[e->nrlog].at = at;
	e->rlog[e->nrlog++].mach = (unsigned char)m;
	if (push) {
		cobs_push(c, value, at, (unsigned char)m);
		c->v[c->nv - 1] = orient(e, value / run_speed(e, i, m, at));
	}
	e->runs++;
	note_recent(e, 0);
	e->stale = 1;
	e->last = i;
	list_commit(e, i);
	if (push)
		score_run(e, c, c->v[c->nv - 1]);
	if (i == 0) {
		M->graw[M->ng] = value;
		M->gat[M->ng++] = at;
		M->npos += value > 0;
		e->sync_now = 1; /* the others' leave-one-out ratios moved */
		drift_check(e, m);
	}
	if (machines_sync(e) < 0)
		return -1;
	judge_ends(e);
	recheck_modes(e);
	if (counted(e, m) && c->nv > 0 && c->at[c->nv - 1] == at)
		verify_feed(e, i, value, c->v[c->nv - 1],
			    by_machine ? (int)r->machine : -1);
	after_feed(e);
	return 0;
}

int pb_engine_feed(struct pb_engine *e, const struct pb_engine_run *r)
{
	return feed(e, r, 1);
}

int pb_engine_observe(struct pb_engine *e, size_t i, double value)
{
	struct pb_engine_run r = { i, 0, PB_RUN_OK, value };

	return feed(e, &r, 0);
}

int pb_engine_run_failed(struct pb_engine *e, size_t i)
{
	struct pb_engine_run r = { i, 0, PB_RUN_FAILED, 0 };

	return feed(e, &r, 0);
}

int pb_engine_disturbed(struct pb_engine *e, size_t i)
{
	struct pb_engine_run r = { i, 0, PB_RUN_DISTURBED, 0 };

	return feed(e, &r, 0);
}

int pb_engine_skip(struct pb_engine *e, size_t i)
{
	if (i >= e->n)
		return -1;
	e->c[i].skipped = 1;
	e->stale = 1;
	list_commit(e, i);
	judge_ends(e);
	after_feed(e);
	return 0;
}

int pb_engine_identical(struct pb_engine *e, size_t i, int identical)
{
	double lw = identical ? log(IDENTICAL_PRIOR) : 0;

	if (i == 0 || i >= e->n)
		return -1;
	if (e->lprior[i] != lw) {
		/* summed afresh, in order: the same claims give the same
		 * bits however they came */
		e->lprior[i] = lw;
		e->prior_sum = 0;
		for (size_t j = 1; j < e->n; j++)
			e->prior_sum += exp(e->lprior[j]);
		e->stale = 1;
		after_feed(e);
	}
	return 0;
}

/* ---- 1. the ends ---- */

static size_t pooled_ends(const struct pb_engine *e, double *buf)
{
	const struct cobs *g = &e->c[0], *b = &e->c[e->n - 1];

	memcpy(buf, g->v, g->nv * sizeof(*buf));
	memcpy(buf + g->nv, b->v, b->nv * sizeof(*buf));
	return g->nv + b->nv;
}

/* Is commit i's side known well enough to help fit the density model?
 * -1 good, 1 bad, 0 not (or not used: the first fit takes the ends only). */
static int known_side(const struct pb_engine *e, size_t i, int refit)
{
	if (i == 0)
		return -1;
	if (i == e->n - 1)
		return 1;
	if (!refit || e->c[i].nv == 0)
		return 0;
	if (e->cdf[i] <= REFIT_P)
		return -1;
	if (e->cdf[i] >= 1 - REFIT_P)
		return 1;
	return 0;
}

/* The ends' lone far run that the shift's fit leaves out (decide_ends()). */
static int lone(const struct pb_engine *e, size_t i, unsigned k)
{
	return i == e->lone_end && e->c[i].at[k] == e->lone_at;
}

/* "No change" for the density model: one normal for every run (its
 * Student t predictive, the sd floored like the two sides'). */
static void fit_none(struct pb_engine *e, double floor_sd)
{
	double sum = 0, ss = 0, s;
	unsigned long cnt = 0;

	for (size_t i = 0; i < e->n; i++)
		for (unsigned k = 0; k < e->c[i].nv; k++) {
			if (lone(e, i, k))
				continue;
			sum += e->c[i].v[k];
			cnt++;
		}
	e->mu_n = sum / (double)cnt;
	for (size_t i = 0; i < e->n; i++)
		for (unsigned k = 0; k < e->c[i].nv; k++)
			if (!lone(e, i, k))
				ss += (e->c[i].v[k] - e->mu_n) *
				      (e->c[i].v[k] - e->mu_n);
	e->df_n = (double)cnt - 1;
	s = sqrt(ss / e->df_n);
	if (!(s >= floor_sd))
		s = floor_sd > 1e-12 ? floor_sd : 1e-12;
	e->s_n = s * sqrt(1 + 1.0 / (double)cnt);
}

/* Points of the quadrature over a run's value in the density model's
 * gain. */
#define GAIN_NX 801

/*
 * Fits the density model: the good and the bad side's means and a pooled
 * standard deviation, first from the ends, then (refit) also from every
 * commit whose side the posterior knows to within REFIT_P, so the model
 * sharpens as the search goes on; only the refit, which the search uses,
 * tabulates the expected gains.  Each refit starts again from the ends'
 * posterior (see update()), so the fit is a function of the runs alone,
 * not of when it was computed: a replayed bisection gets the same model.
 */
static void fit_density(struct pb_engine *e, int refit)
{
	double ss = 0, s, floor_sd, sum[2] = { 0, 0 };
	double lo, hi, step;
	unsigned cnt[2] = { 0, 0 };
	const int nx = GAIN_NX;

	for (size_t i = 0; i < e->n; i++) {
		int side = known_side(e, i, refit);

		if (side == 0)
			continue;
		for (unsigned k = 0; k < e->c[i].nv; k++)
			if (!lone(e, i, k)) {
				sum[side > 0] += e->c[i].v[k];
				cnt[side > 0]++;
			}
	}
	e->mu_f = sum[0] / cnt[0];
	e->mu_s = sum[1] / cnt[1];
	for (size_t i = 0; i < e->n; i++) {
		int side = known_side(e, i, refit);
		double mu = side > 0 ? e->mu_s : e->mu_f;

		if (side == 0)
			continue;
		for (unsigned k = 0; k < e->c[i].nv; k++)
			if (!lone(e, i, k))
				ss += (e->c[i].v[k] - mu) * (e->c[i].v[k] - mu);
	}
	e->df = (double)(cnt[0] + cnt[1]) - 2;
	s = sqrt(ss / e->df);
	floor_sd = VAR_FLOOR_REL * fabs(e->mu_f);
	if (!(s >= floor_sd))
		s = floor_sd > 1e-12 ? floor_sd : 1e-12;
	/* predictive scale of a new run, each mean estimated from its side */
	e->s_f = s * sqrt(1 + 1.0 / cnt[0]);
	e->s_s = s * sqrt(1 + 1.0 / cnt[1]);
	fit_none(e, floor_sd);
	e->model = M_DENSITY;
	rescore_all(e);
	if (!refit)
		return;     /* the search's refit computes the gains */

	/* I(Y; bad) at every P(bad) = p, by quadrature over the value, with
	 * the model's own (mixed, unclipped) densities; and the chances that
	 * a run scores slow, for the batch rule's binary view. */
	lo = fmin(e->mu_f, e->mu_s) - 12 * fmax(e->s_f, e->s_s);
	hi = fmax(e->mu_f, e->mu_s) + 12 * fmax(e->s_f, e->s_s);
	step = (hi - lo) / (nx - 1);
	if (!e->gf1)
		e->gf1 = malloc(nx * sizeof(double));
	if (!e->gf0)
		e->gf0 = malloc(nx * sizeof(double));
	if (!e->gf1 || !e->gf0) {
		free(e->gf1);
		free(e->gf0);
		e->gf1 = e->gf0 = NULL;
		for (int k = 0; k < EIG_GRID; k++) {
			e->gain[k] = pb_h2((double)k / (EIG_GRID - 1));
			e->gain_ok[k] = 1;
		}
		e->dq0 = SHIFT_EPS;
		e->dq1 = 1 - SHIFT_EPS;
		e->dqn = 0.5;
		return;
	}
	double *f1 = e->gf1, *f0 = e->gf0;

	e->dq0 = e->dq1 = e->dqn = 0;
	for (int t = 0; t < nx; t++) {
		double x = lo + step * t;
		double ps = exp(t_logpdf(x, e->mu_s, e->s_s, e->df));
		double pf = exp(t_logpdf(x, e->mu_f, e->s_f, e->df));

		f1[t] = ((1 - SHIFT_EPS) * ps + SHIFT_EPS * pf) * step;
		f0[t] = (SHIFT_EPS * ps + (1 - SHIFT_EPS) * pf) * step;
		if (run_llr(e, x) > 0) {
			e->dq1 += f1[t];
			e->dq0 += f0[t];
		}
	}
	/* "no change" spreads over both sides and more: a grid of its own */
	for (int t = 0; t < nx; t++) {
		double w = 24 * e->s_n / (nx - 1);
		double x = e->mu_n - 12 * e->s_n + w * t;

		if (run_llr(e, x) > 0)
			e->dqn += exp(t_logpdf(x, e->mu_n, e->s_n, e->df_n)) *
				  w;
	}
	/* the gain at each P(bad) of the grid: computed when first asked
	 * for (gain_at()), 1,600 logarithms each; the search asks for the
	 * few its commits' P(bad) fall between */
	memset(e->gain_ok, 0, sizeof(e->gain_ok));
	e->dq0 = clamp(e->dq0, 1e-6, 1 - 1e-6);
	e->dq1 = clamp(e->dq1, 1e-6, 1 - 1e-6);
	e->dqn = clamp(e->dqn, 1e-6, 1 - 1e-6);
}

/* I(Y; bad) of one run at P(bad) = k / (EIG_GRID - 1), by quadrature over
 * the value with the refit's densities (fit_density()). */
static double gain_at(struct pb_engine *e, int k)
{
	const double *f1 = e->gf1, *f0 = e->gf0;
	double p = (double)k / (EIG_GRID - 1), mi = 0;

	if (e->gain_ok[k] || !f1)
		return e->gain[k]; /* no refit yet: as it was (0) */
	for (int t = 0; t < GAIN_NX; t++) {
		double m = p * f1[t] + (1 - p) * f0[t];

		if (p > 0 && f1[t] > 0)
			mi += p * f1[t] * log2(f1[t] / m);
		if (p < 1 && f0[t] > 0)
			mi += (1 - p) * f0[t] * log2(f0[t] / m);
	}
	e->gain[k] = mi > 0 ? mi : 0;
	e->gain_ok[k] = 1;
	return e->gain[k];
}

static void fit_class(struct pb_engine *e, const struct pb_mix *m)
{
	e->mix = *m;
	e->tau = pb_mix_threshold(m);
	e->model = M_CLASS;
	rescore_all(e);
}

/*
 * "No regression" is said only when the ends are shown to differ by less
 * than opts.min_effect: the upper confidence bound (one-sided, at the
 * asked confidence; Welch's t on all the ends' runs) of the slowdown of
 * their mean metric is below it (DESIGN.md's outcome table).  Not shown,
 * the ends run on up to their share of the budget (ENDS_SHARE_DIV); then
 * the bisection is inconclusive, with the noise in numbers.  A bad end
 * that is faster needs no bound.  Returns 1 when shown; *bound gets the
 * interval in words either way.
 */
static int none_shown(const struct pb_engine *e, char *bound, size_t size,
		      double *need)
{
	const struct cobs *g = &e->c[0], *b = &e->c[e->n - 1];
	double mg = pb_mean(g->v, g->nv), mb = pb_mean(b->v, b->nv);
	double vg = 0, vb = 0, se, df, t, d, ub, sd;
	double min = e->o.min_effect > 0 ? e->o.min_effect : 0.03;

	*need = INFINITY;
	if (g->nv < 2 || b->nv < 2 || !(fabs(mg) > 0)) {
		snprintf(bound, size, "too few runs at the ends to bound "
			 "their difference");
		return 0;
	}
	for (unsigned k = 0; k < g->nv; k++)
		vg += (g->v[k] - mg) * (g->v[k] - mg);
	for (unsigned k = 0; k < b->nv; k++)
		vb += (b->v[k] - mb) * (b->v[k] - mb);
	vg /= g->nv - 1;
	vb /= b->nv - 1;
	se = sqrt(vg / g->nv + vb / b->nv);
	df = se > 0 ? pow(se, 4) / (pow(vg / g->nv, 2) / (g->nv - 1) +
				    pow(vb / b->nv, 2) / (b->nv - 1))
		    : 1;
	if (!(df >= 1))
		df = 1;
	t = pb_t_quantile(e->o.confidence, df);
	/* the slowdown, in the better-is direction: + is slower */
	d = (mg - mb) / fabs(mg);
	ub = d + t * se / fabs(mg);
	sd = sqrt((vg + vb) / 2) / fabs(mg);
	/* runs per end the bound would need were there no difference (what
	 * "no regression" claims) and the noise what it seems */
	*need = 2 * pow(t * sd / min, 2);
	snprintf(bound, size,
		 "the bad end's mean is %+.1f %% slower than the good end's, "
		 "at most %+.1f %% (%.4g upper bound) over %u and %u runs, "
		 "run-to-run noise %.1f %%; %.1f %% is the smallest slowdown "
		 "asked for (--min-effect)",
		 100 * d, 100 * ub, e->o.confidence, g->nv, b->nv, 100 * sd,
		 100 * min);
	return ub < min;
}

/* The ends' runs so far, and their share of the budget. */
static int ends_share_spent(const struct pb_engine *e)
{
	const struct cobs *g = &e->c[0], *b = &e->c[e->n - 1];

	return (g->nv + g->failed + b->nv + b->failed) * ENDS_SHARE_DIV >=
	       e->o.max_runs;
}

/* Could not show "no regression": ends inconclusive, with why. */
static void say_too_noisy(struct pb_engine *e, const char *what,
			  const char *bound)
{
	e->res.mode = PB_MODE_NONE;
	e->too_noisy = 1;
	snprintf(e->res.why, sizeof(e->res.why),
		 "inconclusive: %.200s, but no regression cannot be shown: %.240s",
		 what, bound);
	e->res.confidence = NAN;
	finish(e, PB_OUT_STUCK);
}

static void say_none(struct pb_engine *e, const char *what)
{
	const struct cobs *g = &e->c[0], *b = &e->c[e->n - 1];
	double gm = pb_median(g->raw, g->nv), bm = pb_median(b->raw, b->nv);
	char bound[320] = "";
	double need;

	e->res.good_median = gm;
	e->res.bad_median = bm;
	if (!e->improvement && !none_shown(e, bound, sizeof(bound), &need)) {
		/* the ends run on while their share of the budget may still
		 * show it; not when even all of it would not */
		if (e->phase == PH_ENDS && !ends_share_spent(e) &&
		    e->runs < e->o.max_runs &&
		    2 * need * ENDS_SHARE_DIV <= e->o.max_runs)
			return;
		say_too_noisy(e, what, bound);
		return;
	}
	e->res.mode = PB_MODE_NONE;
	e->res.good_median = gm;
	e->res.bad_median = bm;
	snprintf(e->res.why, sizeof(e->res.why),
		 "%s (median %g at the good end over %u runs, %g at the bad "
		 "end over %u runs, %+.1f %%%s%s)",
		 what, gm, g->nv, bm, b->nv,
		 gm != 0 ? 100.0 * (bm - gm) / fabs(gm) : 0.0,
		 bound[0] ? "; " : "", bound);
	finish(e, PB_OUT_NO_REGRESSION);
}

/* The search found no change (P(no change), or a stall): "no regression"
 * when the ends show it (none_shown()); else the ends run on while their
 * share of the budget may still show it; else inconclusive.  Returns 1
 * when the search is over. */
static int finish_none(struct pb_engine *e)
{
	char bound[320], what[512];
	double need;
	size_t len;

	/* A machine may have moved since its last reference, which would
	 * make every run after it look alike: look again first, on every
	 * machine whose runs count and that ran since (with several
	 * machines, for at most REF_EVERY runs: some machine has always run
	 * since its reference, and one that never asks again is not waited
	 * for). */
	if (e->phase == PH_SEARCH && runnable(&e->c[0]) &&
	    e->runs < e->o.max_runs) {
		int stale = 0;

		for (unsigned m = 0; m < PB_ENGINE_MACHINES; m++) {
			struct mach *M = &e->mach[m];

			if (M->seen && counted(e, m) &&
			    (M->pending || M->clock > M->last_ref + 1)) {
				M->ref_now = 1;
				stale = 1;
			}
		}
		if (stale && !e->ref_ask)
			e->ref_ask = e->clock + 1;
		if (stale && (e->nseen <= 1 ||
			      e->clock < e->ref_ask - 1 + REF_EVERY)) {
			e->res.why[0] = '\0';
			e->res.mode = e->model == M_CLASS ? PB_MODE_BIMODAL
							   : PB_MODE_SHIFT;
			return 0;
		}
	}
	e->ref_ask = 0;
	if (!none_shown(e, bound, sizeof(bound), &need)) {
		if (!ends_share_spent(e) && e->runs < e->o.max_runs &&
		    2 * need * ENDS_SHARE_DIV <= e->o.max_runs &&
		    runnable(&e->c[0]) && runnable(&e->c[e->n - 1])) {
			/* the ends run on (next_batch()): their runs so far
			 * are too few to show it */
			e->ends_more = 1;
			e->res.why[0] = '\0';
			e->res.mode = e->model == M_CLASS ? PB_MODE_BIMODAL
							   : PB_MODE_SHIFT;
			return 0;
		}
		snprintf(what, sizeof(what), "after %u runs no commit stands "
			 "out from the others", e->runs);
		say_too_noisy(e, what, bound);
		return 1;
	}
	len = strlen(e->res.why);
	if (len < sizeof(e->res.why))
		snprintf(e->res.why + len, sizeof(e->res.why) - len, "; %s",
			 bound);
	finish(e, PB_OUT_NO_REGRESSION);
	return 1;
}

/*
 * P(a fast run falls below tau), from the runs above tau of commits
 * first..last: the Student t predictive of a normal sample with unknown
 * mean and variance (sd floored); 1 with fewer than TAIL_RUNS of them.  A
 * slow mode that the fast runs would almost never reach is a mode of its
 * own, not the tail of their noise.
 */
static double fast_tail(const struct pb_engine *e, double tau, size_t first,
			size_t last)
{
	double mu = 0, ss = 0, s, t;
	unsigned long n = 0;

	for (size_t i = first; i <= last; i++)
		for (unsigned k = 0; k < e->c[i].nv; k++)
			if (e->c[i].v[k] >= tau) {
				mu += e->c[i].v[k];
				n++;
			}
	if (n < TAIL_RUNS)
		return 1;
	mu /= (double)n;
	for (size_t i = first; i <= last; i++)
		for (unsigned k = 0; k < e->c[i].nv; k++)
			if (e->c[i].v[k] >= tau)
				ss += (e->c[i].v[k] - mu) * (e->c[i].v[k] - mu);
	s = sqrt(ss / (double)(n - 1));
	if (!(s >= VAR_FLOOR_REL * fabs(mu)))
		s = VAR_FLOOR_REL * fabs(mu);
	if (!(s > 0))
		return tau < mu ? 0 : 1;
	t = (tau - mu) / (s * sqrt(1 + 1.0 / (double)n));
	if (t >= 0)
		return 1;
	return pb_t_pvalue(t, (double)(n - 1)) / 2;
}

static double good_tail(const struct pb_engine *e, double tau)
{
	return fast_tail(e, tau, 0, 0);
}

/*
 * One-sided p of "the bad end's fast runs lie lower than the good end's"
 * (runs at or above tau at each end; Student's t, variances pooled and
 * floored); 1 with fewer than two such runs at the good end or none at
 * the bad end.  The class model assumes that a bad commit's fast runs are
 * the good commits' fast runs: when they are not, the mixture split one
 * end's noise, and what the ends show is a shift.
 */
static double fast_moved_p(const struct pb_engine *e, double tau)
{
	const struct cobs *ends[2] = { &e->c[0], &e->c[e->n - 1] };
	double sum[2] = { 0, 0 }, mu[2], ss = 0, s, df, t;
	unsigned cnt[2] = { 0, 0 };

	for (int k = 0; k < 2; k++) {
		for (unsigned r = 0; r < ends[k]->nv; r++)
			if (ends[k]->v[r] >= tau) {
				sum[k] += ends[k]->v[r];
				cnt[k]++;
			}
		if (cnt[k] == 0)
			return 1;
		mu[k] = sum[k] / cnt[k];
	}
	if (cnt[0] < 2)
		return 1;
	for (int k = 0; k < 2; k++)
		for (unsigned r = 0; r < ends[k]->nv; r++)
			if (ends[k]->v[r] >= tau)
				ss += (ends[k]->v[r] - mu[k]) *
				      (ends[k]->v[r] - mu[k]);
	df = (double)(cnt[0] + cnt[1]) - 2;
	s = sqrt(ss / df);
	if (!(s >= VAR_FLOOR_REL * fabs(mu[0])))
		s = VAR_FLOOR_REL * fabs(mu[0]);
	if (!(s > 0))
		return mu[1] < mu[0] ? 0 : 1;
	t = (mu[0] - mu[1]) / (s * sqrt(1.0 / cnt[0] + 1.0 / cnt[1]));
	return t > 0 ? pb_t_pvalue(t, df) / 2 : 1;
}

/* Student's t-test of two samples, variances pooled (sample sds). */
static double ttest(const double *x, unsigned nx, const double *y,
		    unsigned ny, double *t)
{
	double mx = pb_mean(x, nx), my = pb_mean(y, ny), sx = 0, sy = 0;

	for (unsigned k = 0; k < nx; k++)
		sx += (x[k] - mx) * (x[k] - mx);
	for (unsigned k = 0; k < ny; k++)
		sy += (y[k] - my) * (y[k] - my);
	return pb_ttest_pooled(t, mx, sqrt(sx / (nx - 1)), nx, my,
			       sqrt(sy / (ny - 1)), ny);
}

/*
 * Decides what the ends show.  Returns 1 when the search can start, 0 when
 * the ends need more runs, -1 when the bisection is over.
 */
static int decide_ends(struct pb_engine *e)
{
	struct cobs *g = &e->c[0], *b = &e->c[e->n - 1];
	size_t ends[2] = { 0, e->n - 1 };
	unsigned ng = g->nv, nb = b->nv;
	struct pb_mix m;
	double *buf, up = NAN;
	unsigned gs = 0, bs = 0, lone_k = 0;
	int ret = 0, hint = 0, two_modes = 0, good_two = 0, slow_hint = 0;
	size_t lone_end = e->n;

	for (int k = 0; k < 2; k++) {
		const struct cobs *c = &e->c[ends[k]];

		if (runnable(c))
			continue;
		e->res.bad_end = ends[k];
		if (c->skipped)
			snprintf(e->res.why, sizeof(e->res.why),
				 "the %s end cannot be built",
				 k ? "bad" : "good");
		else if (c->nv == 0)
			snprintf(e->res.why, sizeof(e->res.why),
				 "the %s end never gave the metric",
				 k ? "bad" : "good");
		else
			snprintf(e->res.why, sizeof(e->res.why),
				 "the %s end gave the metric in only %u of "
				 "its %u runs", k ? "bad" : "good", c->nv,
				 c->nv + c->failed);
		finish(e, PB_OUT_BAD_END);
		return -1;
	}
	if (ng < MIN_END_RUNS || nb < MIN_END_RUNS)
		return 0;
	buf = malloc((ng + nb) * sizeof(*buf));
	if (!buf)
		return 0;
	pooled_ends(e, buf);
	if (pb_mix_fit(&m, buf, ng + nb, VAR_FLOOR_REL) == 0 &&
	    m.ashman_d >= SEP_D) {
		double tau = pb_mix_threshold(&m), down, tail, moved, ws;
		unsigned gf, bf;

		for (unsigned k = 0; k < ng; k++)
			gs += g->v[k] < tau;
		for (unsigned k = 0; k < nb; k++)
			bs += b->v[k] < tau;
		gf = ng - gs;
		bf = nb - bs;
		tail = good_tail(e, tau);
		moved = fast_moved_p(e, tau);
		/* more slow runs at the bad end, with our priors (q0's two
		 * components weighed by the good end's runs) ... */
		lm0(e, gs, gf, &ws);
		up = ws * pb_beta_greater(PRIOR_A1 + bs, PRIOR_B1 + bf,
					  PRIOR_A0 + gs, PRIOR_B0 + gf) +
		     (1 - ws) * pb_beta_greater(PRIOR_A1 + bs, PRIOR_B1 + bf,
						1.0 + gs, 1.0 + gf);
		/* ... or at the good end, with flat ones: a slow good end is
		 * no belief of ours */
		down = pb_beta_greater(1 + gs, 1 + gf, 1 + bs, 1 + bf);
		if (bs >= 2 && tail <= TAIL_P && up >= REGRESSION_P &&
		    moved > MOVED_P) {
			fit_class(e, &m);
			ret = 1;
		} else if (gs >= 2 && nb >= NONE_GOOD_RUNS &&
			   down >= IMPROVEMENT_P) {
			e->improvement = 1;
			say_none(e, "no regression: the bad end is faster "
				    "than the good end, it is slow less often");
			ret = -1;
		}
		slow_hint = bs >= 1 && (double)bs * ng > (double)gs * nb;
		hint = slow_hint;
		/* an end that visits a far slow mode and the fast one is
		 * bimodal: its mean says nothing (a bimodal good end and a
		 * bad end slow so far in every run differ in their rates,
		 * which the t-test would call a shift) */
		two_modes = bs >= 1 && bf >= 1 && tail <= TAIL_P &&
			    moved > SHIFT_P;
		good_two = gs >= 1 && gf >= 1 && tail <= TAIL_P &&
			   moved > SHIFT_P;
		/* One run alone on its side of the modes' threshold, at
		 * either end: the first of a mode, or a wild run (a
		 * benchmark that printed 0 once).  One run cannot tell;
		 * it must not make the ends "two modes" for good, which
		 * would keep the t-test from seeing a shift in all the
		 * others for ever (it stays "lone" until a second run
		 * joins it, and meanwhile the t-test leaves it out). */
		if (gs + bs == 1 || gf + bf == 1) {
			int want_slow = gs + bs == 1;

			for (unsigned k = 0; k < ng + nb; k++) {
				int slow = buf[k] < tau;

				if (slow == want_slow) {
					lone_end = k < ng ? 0 : e->n - 1;
					lone_k = k < ng ? k : k - ng;
				}
			}
		}
	}
	e->ends_two_modes = two_modes;
	if (ret == 0 && (lone_end < e->n || (!two_modes && !good_two)) &&
	    ng - (lone_end == 0) >= MIN_SHIFT_RUNS &&
	    nb - (lone_end == e->n - 1) >= MIN_SHIFT_RUNS) {
		double t, p;
		unsigned mg = 0, mb = 0;

		/* buf is the pooled runs, good end first: split it again,
		 * without the lone run */
		for (unsigned k = 0; k < ng + nb; k++) {
			if (k < ng ? lone_end == 0 && k == lone_k
				   : lone_end == e->n - 1 && k - ng == lone_k)
				continue;
			if (k < ng)
				buf[mg++] = buf[k];
			else
				buf[ng + mb++] = buf[k];
		}
		p = ttest(buf, mg, buf + ng, mb, &t);
		/* with a run set aside, a tenth of the level: the ends'
		 * t-test is repeated after every run, and in a bimodal
		 * history the first slow run is lone until the second
		 * (A3: 3 more wrong of 2,000 at SHIFT_P) */
		if (p <= (lone_end < e->n ? SHIFT_P / 10 : SHIFT_P) && t > 0) {
			e->lone_end = lone_end;
			e->lone_at = lone_end < e->n
					     ? e->c[lone_end].at[lone_k] : 0;
			fit_density(e, 0);
			ret = 1;
		} else if (p <= SHIFT_P && t < 0 && nb >= NONE_GOOD_RUNS) {
			e->improvement = 1;
			say_none(e, "no regression: the bad end is faster "
				    "than the good end (an improvement)");
			ret = -1;
		}
		hint = hint || (p <= 0.05 && t > 0);
	}
	free(buf);
	if (ret == 0 && nb >= (!hint ? NONE_BAD_RUNS
			       : slow_hint && up >= CLOSE_P ? CLOSE_CAP_RUNS
			       : END_CAP_RUNS)) {
		char what[256];

		/* Two modes and a bad end slow more often: say so in those
		 * terms (the medians alone would make a slow mode that both
		 * ends visit look like a large difference). */
		if (slow_hint && up < REGRESSION_P)
			snprintf(what, sizeof(what),
				 "no regression found: the bad end is slow "
				 "more often (in %u of %u runs, the good end "
				 "in %u of %u; P(more often) %.3f, %.2f "
				 "needed), but not clearly enough to bisect",
				 bs, nb, gs, ng, up, REGRESSION_P);
		else if (slow_hint)
			snprintf(what, sizeof(what),
				 "no regression found: the bad end is slow "
				 "more often (in %u of %u runs, the good end "
				 "in %u of %u), but its slow runs are not "
				 "clearly a mode apart from the fast runs' "
				 "noise", bs, nb, gs, ng);
		else
			snprintf(what, sizeof(what), "%s", hint
				 ? "no regression found: the ends differ a "
				   "little, but not clearly enough to bisect"
				 : "no regression: the ends do not differ "
				   "beyond the noise");
		say_none(e, what);
		ret = -1;
	}
	if (ret == 1) {
		e->res.good_median = pb_median(g->raw, ng);
		e->res.bad_median = pb_median(b->raw, nb);
		e->phase = PH_SEARCH;
		e->search_start = e->runs;
	}
	return ret;
}

/* Judges the ends as each result arrives (not when the next run is asked
 * for), so the engine's state is a function of the sequence of results
 * alone: a bisection replayed from its stored runs is the one it was. */
static void judge_ends(struct pb_engine *e)
{
	if (e->phase == PH_ENDS)
		decide_ends(e);
}

/*
 * The ends' two modes judged again, once, RECHECK_RUNS runs into the
 * search, on every run so far.  The ends decide on a dozen runs, and now
 * and then the mixture splits the lower tail of one noisy mode off as a
 * "slow mode" whose runs the good end's few fast ones happened not to
 * reach (about 2 % of noise-only histories): the class model then sees
 * slow runs everywhere, and the search wanders, some histories until the
 * budget is spent.  With three times the runs both tests are sharper: the
 * mixture fitted to them no longer parts into modes (Ashman's D below
 * SEP_D) AND the fast runs, all of them now, reach below the threshold
 * more often than TAIL_P.  Then the runs are judged as two sides of one
 * distribution each, the density model (its "no change" hypothesis and
 * stall check end such a search), from the same runs.  Both tests must
 * agree, as EM on a few far slow runs can settle on a poor split of the
 * fast ones, while a real slow mode lies many of its noise's sds away.
 * Once, at a run count: a function of the sequence of results alone.
 */
static void recheck_modes(struct pb_engine *e)
{
	struct pb_mix m;
	size_t cnt = 0, k = 0;
	double *buf;

	if (e->phase != PH_SEARCH || e->model != M_CLASS || e->rechecked ||
	    e->runs < e->search_start + RECHECK_RUNS)
		return;
	e->rechecked = 1;
	for (size_t i = 0; i < e->n; i++)
		cnt += e->c[i].nv;
	buf = malloc(cnt * sizeof(*buf));
	if (!buf)
		return;
	for (size_t i = 0; i < e->n; i++)
		for (unsigned r = 0; r < e->c[i].nv; r++)
			buf[k++] = e->c[i].v[r];
	if (pb_mix_fit(&m, buf, cnt, VAR_FLOOR_REL) == 0 &&
	    m.ashman_d < SEP_D && fast_tail(e, e->tau, 0, e->n - 1) > TAIL_P) {
		e->remodelled = e->runs;
		fit_density(e, 0);
	}
	free(buf);
}

/* Which end runs next: alternating up to MIN_END_RUNS each, then two bad
 * runs for one good one (the slow mode shows at the bad end). */
static size_t ends_pick(const struct pb_engine *e, unsigned *ng, unsigned *nb)
{
	size_t pick;

	if (!e->ends_two_modes || *ng < TAIL_RUNS)
		pick = *ng <= *nb ? 0 : e->n - 1;
	else
		pick = 2 * *ng <= *nb ? 0 : e->n - 1;
	if (!runnable(&e->c[pick]))
		pick = pick ? 0 : e->n - 1;
	if (pick)
		(*nb)++;
	else
		(*ng)++;
	return pick;
}

/* ---- 2. the posterior ---- */

static void posterior(struct pb_engine *e)
{
	size_t n = e->n;
	double *lp = e->tmp, mx = -INFINITY, sum = 0, lp_none = -INFINITY;

	if (e->model == M_CLASS) {
		unsigned long S = 0, F = 0, s0 = 0, f0 = 0;

		for (size_t i = 0; i < n; i++) {
			S += e->c[i].slow;
			F += e->c[i].fast;
		}
		/* No change at all: one slow fraction, flat prior, for every
		 * run.  The change hypotheses below are normalised the same
		 * way: each is the marginal likelihood of its runs. */
		e->r_none = (1.0 + S) / (2.0 + S + F);
		if (!(e->told0 && e->told1))
			lp_none = lbeta(1.0 + S, 1.0 + F) +
				  log(NONE_PRIOR / (1 - NONE_PRIOR) *
				      e->prior_sum);
		for (size_t j = 1; j < n; j++) {
			unsigned long s1, f1;
			double w;

			if (j > 1 && !e->c[j - 1].slow && !e->c[j - 1].fast) {
				/* no runs at j - 1: the same counts, the same
				 * likelihood and rates as j - 1's (most of a
				 * long range, computed once per stretch) */
				lp[j] = lp[j - 1];
				e->r1[j] = e->r1[j - 1];
				e->r0[j] = e->r0[j - 1];
				continue;
			}
			s0 += e->c[j - 1].slow;
			f0 += e->c[j - 1].fast;
			s1 = S - s0;
			f1 = F - f0;
			lp[j] = lik1(e, s1, f1) + lik0(e, s0, f0, &w);
			/* the rates' posterior means, for the gains */
			if (e->told1)
				e->r1[j] = e->oq1;
			else
				e->r1[j] = (PRIOR_A1 + s1) /
					   (PRIOR_A1 + PRIOR_B1 + s1 + f1);
			if (e->told0)
				e->r0[j] = e->oq0;
			else
				e->r0[j] = w * (PRIOR_A0 + s0) /
					   (PRIOR_A0 + PRIOR_B0 + s0 + f0) +
					   (1 - w) * (1.0 + s0) /
					   (2.0 + s0 + f0);
		}
	} else {
		double suf = 0, none = 0;
		unsigned long runs = 0;

		for (size_t j = n - 1; j >= 1; j--) {
			suf += e->c[j].llr;
			lp[j] = suf;
		}
		/* No change: one distribution for every run.  Its fit has
		 * one location less than a change's, the BIC's 0.5 log N
		 * for a parameter the two sides fit to the runs. */
		for (size_t i = 0; i < n; i++) {
			none += e->c[i].lnone;
			runs += e->c[i].nv;
		}
		e->r_none = e->dqn;
		lp_none = none + 0.5 * log((double)runs) +
			  log(NONE_PRIOR / (1 - NONE_PRIOR) * e->prior_sum);
	}
	/* the prior: P(c = j | a change) = w_j / prior_sum, and "no change"
	 * NONE_PRIOR against all of them together, as above.  Claims move
	 * suspicion between commits and leave P(no change) alone: a range
	 * of identical commits only is searched as if none were (its
	 * slowdown came with data, or is noise, which the ends and the
	 * "no change" hypothesis judge as before). */
	for (size_t j = 1; j < n; j++)
		lp[j] += e->lprior[j];
	for (size_t j = 1; j < n; j++)
		if (lp[j] > mx)
			mx = lp[j];
	e->post[0] = 0;
	for (size_t j = 1; j < n; j++) {
		e->post[j] = exp(lp[j] - mx);
		sum += e->post[j];
	}
	/* post[] stays the posterior given a change (what the choice of the
	 * next run works with); p_none scales every statement about c */
	e->p_none = lp_none > -INFINITY ? 1 / (1 + sum * exp(mx - lp_none))
					 : 0;
	e->cdf[0] = 0;
	for (size_t j = 1; j < n; j++) {
		e->post[j] /= sum;
		e->cdf[j] = e->cdf[j - 1] + e->post[j];
		if (e->cdf[j] > 1)
			e->cdf[j] = 1;
	}
	e->cdf[n - 1] = 1;
}

/* The block of candidate j: j and the commits right before it that are
 * not candidates of their own (distinct()). */
static size_t block_start(const struct pb_engine *e, size_t j)
{
	while (j > 1 && !distinct(&e->c[j - 1]))
		j--;
	return j;
}

static void best_block(struct pb_engine *e)
{
	double mass = 0;

	e->best_mass = -1;
	for (size_t j = 1; j < e->n; j++) {
		mass += e->post[j];
		if (!distinct(&e->c[j]))
			continue;
		if (mass * (1 - e->p_none) > e->best_mass) {
			e->best_mass = mass * (1 - e->p_none);
			e->best = j;
			e->block_first = block_start(e, j);
		}
		mass = 0;
	}
}

static void credible_interval(struct pb_engine *e)
{
	size_t lo = e->best, hi = e->best;
	double mass = e->post[e->best];

	while (mass < CI_MASS && (lo > 1 || hi < e->n - 1)) {
		double l = lo > 1 ? e->post[lo - 1] : -1;
		double h = hi < e->n - 1 ? e->post[hi + 1] : -1;

		if (h > l)
			mass += e->post[++hi];
		else
			mass += e->post[--lo];
	}
	/* whole blocks: a skipped commit cannot be told from the next one */
	while (hi < e->n - 1 && !distinct(&e->c[hi]))
		hi++;
	e->res.ci_first = block_start(e, lo);
	e->res.ci_last = hi;
}

/* ---- choosing the next run ---- */

/* Expected information gain about c of one run at each commit. */
static void gains(struct pb_engine *e)
{
	size_t n = e->n;

	if (e->model == M_DENSITY) {
		for (size_t i = 0; i < n; i++) {
			double x = clamp(e->cdf[i], 0, 1) * (EIG_GRID - 1);
			int k = (int)x;
			double fr = x - k;

			e->eig[i] = k >= EIG_GRID - 1
					    ? gain_at(e, EIG_GRID - 1)
					    : gain_at(e, k) * (1 - fr) +
						      gain_at(e, k + 1) * fr;
		}
		return;
	}
	/* Class model: with A(i) = sum_{j<=i} P_j r1_j and
	 * B(i) = sum_{j>i} P_j r0_j, P(slow at i | a change) = A(i) + B(i);
	 * the conditional entropies sum the same way.  "No change" is one
	 * more hypothesis, with its own rate everywhere: while it is
	 * plausible, runs that tell it from a change count too. */
	double tot_r0 = 0, tot_h0 = 0, a = 0, ha = 0;
	double pn = e->p_none, rn = e->r_none, hn = pb_h2(rn);
	double m0 = -1, h0 = 0, m1 = -1, h1 = 0;

	for (size_t j = 1; j < n; j++) {
		tot_r0 += e->post[j] * e->r0[j];
		tot_h0 += e->post[j] * h2_memo(e->r0[j], &m0, &h0);
	}
	for (size_t i = 0; i < n; i++) {
		if (i >= 1) {
			a += e->post[i] * e->r1[i];
			ha += e->post[i] * h2_memo(e->r1[i], &m1, &h1);
			tot_r0 -= e->post[i] * e->r0[i];
			tot_h0 -= e->post[i] * h2_memo(e->r0[i], &m0, &h0);
		}
		e->eig[i] = pb_h2(clamp((1 - pn) * (a + tot_r0) + pn * rn, 0,
					1)) -
			    (1 - pn) * (ha + tot_h0) - pn * hn;
	}
}

static size_t argmax_gain(struct pb_engine *e)
{
	/* ties are broken by the seed and the number of runs so far, so the
	 * choice is a function of the data, however often it is asked */
	uint64_t rng = e->o.seed ^ ((uint64_t)e->runs * 0x9e3779b97f4a7c15ULL);
	size_t best = e->n, ties = 0;
	double bv = -INFINITY;

	for (size_t i = 0; i < e->n; i++) {
		if (!runnable(&e->c[i]))
			continue;
		if (e->eig[i] > bv + 1e-12) {
			bv = e->eig[i];
			best = i;
			ties = 1;
		} else if (e->eig[i] >= bv - 1e-12) {
			/* an exact tie: the seed decides, reservoir-style */
			ties++;
			if (pb_splitmix64(&rng) % ties == 0)
				best = i;
		}
	}
	return best;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

/*
 * Prefix sums over the culprit of the posterior mass, of the mass times
 * each hypothesis' predictive rates, and of the mass times their binary
 * entropies (in pf[i * PF + k], over j <= i), for the joint choice: the
 * probes' classes are independent given c, with c's own rates.
 */
static void prefix_rates(struct pb_engine *e)
{
	double *pf = e->pf, q0 = e->dq0, q1 = e->dq1;
	double m0 = -1, h0 = 0, m1 = -1, h1 = 0;

	memset(pf, 0, PF * sizeof(*pf));
	for (size_t j = 1; j < e->n; j++) {
		double w = e->post[j], *c = pf + j * PF, *p = c - PF;

		if (e->model != M_DENSITY) {
			q0 = e->r0[j];
			q1 = e->r1[j];
		}
		c[PF_P] = p[PF_P] + w;
		c[PF_R0] = p[PF_R0] + w * q0;
		c[PF_R1] = p[PF_R1] + w * q1;
		c[PF_H0] = p[PF_H0] + w * h2_memo(q0, &m0, &h0);
		c[PF_H1] = p[PF_H1] + w * h2_memo(q1, &m1, &h1);
	}
}

/*
 * Joint mutual information between c and the classes of runs at the
 * sorted probes p[0..m-1].  Given c, the bad probes are a suffix of the
 * sorted list: the last b are bad for c in the interval
 * (p[m-b-1], p[m-b]].  Within an interval the hypotheses' rates are
 * replaced by their mass-weighted means for the patterns' probabilities
 * (their conditional entropies are exact), and "no change" is one more
 * component with its own rate at every probe:
 *     I = H(Y) - sum_b sum_{c in b} P(c) ((m-b) H2(r0_c) + b H2(r1_c))
 *              - P(none) m H2(r_none).
 */
static double joint_mi(const struct pb_engine *e, const size_t *p, size_t m)
{
	double w[BATCH_MAX + 2], r0[BATCH_MAX + 2], r1[BATCH_MAX + 2];
	double hy = 0, hc = 0, pn = e->p_none;
	const double *pf = e->pf, *top = pf + (e->n - 1) * PF;

	for (size_t b = 0; b <= m; b++) {
		/* c <= p[m-b] (all when b == 0), c > p[m-b-1] (when b < m) */
		const double *hi = b == 0 ? top : pf + p[m - b] * PF;
		const double *lo = b == m ? pf : pf + p[m - b - 1] * PF;
		double mass = hi[PF_P] - lo[PF_P];

		if (mass <= 1e-300) {
			w[b] = 0;
			r0[b] = r1[b] = 0.5;
			continue;
		}
		w[b] = (1 - pn) * mass;
		r0[b] = clamp((hi[PF_R0] - lo[PF_R0]) / mass, 0, 1);
		r1[b] = clamp((hi[PF_R1] - lo[PF_R1]) / mass, 0, 1);
		hc += (1 - pn) * ((double)(m - b) * (hi[PF_H0] - lo[PF_H0]) +
				  (double)b * (hi[PF_H1] - lo[PF_H1]));
	}
	/* "no change": m + 1 in the tables, all probes at r_none */
	w[m + 1] = pn;
	r0[m + 1] = r1[m + 1] = e->r_none;
	hc += pn * (double)m * pb_h2(e->r_none);
	/* P(Y = y) = sum_b w_b prod_k (y_k ? q_bk : 1 - q_bk): the products
	 * are built probe by probe, k = 0 first, each prefix of outcomes
	 * once for all of its extensions (2^(m+1) products per component
	 * instead of m 2^m); the factors, their order and the sums' order are
	 * those of the plain loop, so the value is the same to the bit */
	{
		_Static_assert(BATCH_MAX <= 8, "the outcome tables are 2^8");
		size_t act[BATCH_MAX + 2], na = 0;
		double lv[2][1u << BATCH_MAX][BATCH_MAX + 2];
		int cur = 0;

		for (size_t b = 0; b <= m + 1; b++)
			if (!(w[b] <= 0)) { /* as the plain loop skips */
				act[na] = b;
				lv[0][0][na++] = w[b];
			}
		for (size_t k = 0; k < m; k++) {
			unsigned long half = 1ul << k;

			for (unsigned long y = 0; y < half; y++) {
				const double *pr = lv[cur][y];
				double *z = lv[!cur][y], *o = lv[!cur][y | half];

				for (size_t a = 0; a < na; a++) {
					size_t b = act[a];
					double q = k + b >= m && b <= m ? r1[b]
									: r0[b];

					z[a] = pr[a] * (1 - q);
					o[a] = pr[a] * q;
				}
			}
			cur = !cur;
		}
		for (unsigned long y = 0; y < (1ul << m); y++) {
			double py = 0;

			for (size_t a = 0; a < na; a++)
				py += lv[cur][y][a];
			if (py > 0)
				hy -= py * log2(py);
		}
	}
	return hy - hc;
}

/*
 * The endgame of a batch (class model, the best commit holding at least
 * ENDGAME_MASS): the K probes that most probably end the search this
 * round.  Joint information is the wrong aim there: it spends a round on
 * the parent and the next on the culprit, where one round with both
 * would often have finished.  Every allocation of the k runs over the
 * best commit's neighbours (best-2 .. best+1) is scored by
 * P(the best commit holds opts.confidence after it), summing over the
 * slow counts the round can show; an outcome's probability and the
 * posterior after it come from the same marginal likelihoods as the
 * posterior itself, so this is exact.  When no allocation reaches
 * ENDGAME_P, or a skipped commit makes blocks (not modelled here), the
 * joint choice decides.  k = 4 has 35 allocations with 330 outcomes in
 * all, k = ENDGAME_RUNS 84 with 1716; each outcome costs one likelihood
 * per stretch of culprits that share their counts (struct eg_seg: one per
 * tested commit and candidate), not one per commit, so a range of 100,000
 * commits costs what one of a few hundred does.
 */
struct endgame {
	const size_t *cc;       /* the candidate commits, ascending */
	size_t nc;
	struct eg_seg *seg;     /* the culprits j = 1 .. n-1 in stretches */
	size_t nseg;
	double lpn;             /* log P(no change) */
	unsigned long S, F;     /* slow and fast runs so far, all commits */
};

/* A stretch of culprits j that share the counts on either side of j and
 * which candidates lie at or after j: their outcomes' likelihoods are the
 * same, so a round's outcome is weighed once per stretch, not per commit
 * (a range of 100,000 commits has a few hundred stretches). */
struct eg_seg {
	unsigned long s0, f0;   /* runs before j: slow, fast */
	size_t first;           /* candidates before j (cc[first..] >= j) */
	double lbase;           /* log P(no change)^c less the runs' marginal
				 * now, which the outcome's replaces */
	double mass, top;       /* sum and largest P(c = j | a change) */
	double lw;              /* scratch: the outcome's log weight per
				 * unit of P(c = j) */
};

static double p_finish(struct pb_engine *e, const struct endgame *g,
		       const unsigned *alloc)
{
	unsigned sl[ENDGAME_CAND] = { 0 };
	size_t nc = g->nc;
	unsigned long S = g->S, F = g->F;
	double pfin = 0;

	for (;;) {
		/* the outcome: sl[t] of the alloc[t] runs at cc[t] slow */
		unsigned long as = 0, af = 0;
		unsigned long sufs[ENDGAME_CAND + 1], suff[ENDGAME_CAND + 1];
		double lcoef = 0, mx, tot, top = 0, l0;
		size_t t;

		for (t = 0; t < nc; t++) {
			lcoef += lgamma(alloc[t] + 1.0) - lgamma(sl[t] + 1.0) -
				 lgamma(alloc[t] - sl[t] + 1.0);
			as += sl[t];
			af += alloc[t] - sl[t];
		}
		/* runs of the outcome at candidates first.. (bad for j) */
		sufs[nc] = suff[nc] = 0;
		for (t = nc; t-- > 0;) {
			sufs[t] = sufs[t + 1] + sl[t];
			suff[t] = suff[t + 1] + alloc[t] - sl[t];
		}
		l0 = g->lpn + lbeta(1.0 + S + as, 1.0 + F + af) -
		     lbeta(1.0 + S, 1.0 + F);
		mx = l0;
		/* culprit j: the runs at probes >= j are bad ones */
		for (size_t k = 0; k < g->nseg; k++) {
			struct eg_seg *sg = &g->seg[k];
			unsigned long bs = sufs[sg->first], bf = suff[sg->first];
			unsigned long s0 = sg->s0, f0 = sg->f0;

			sg->lw = sg->lbase + lik1(e, S - s0 + bs, F - f0 + bf) +
				 lik0(e, s0 + as - bs, f0 + af - bf, NULL);
			if (sg->top > 0 && sg->lw + log(sg->top) > mx)
				mx = sg->lw + log(sg->top);
		}
		tot = exp(l0 - mx);
		for (size_t k = 0; k < g->nseg; k++) {
			const struct eg_seg *sg = &g->seg[k];
			double f;

			if (!(sg->mass > 0))
				continue;
			f = exp(sg->lw - mx);
			tot += sg->mass * f;
			if (sg->top * f > top)
				top = sg->top * f;
		}
		if (top / tot >= e->o.confidence)
			pfin += exp(lcoef + mx) * tot;
		/* the next outcome, odometer-wise */
		for (t = 0; t < nc && sl[t] == alloc[t]; t++)
			sl[t] = 0;
		if (t == nc)
			return pfin;
		sl[t]++;
	}
}

/* The endgame's k runs, the runs out (fixed[0..nfixed-1]) counted among
 * the round's where they are at the candidates (elsewhere they are left
 * out of P(finishing)). */
static int endgame_pick(struct pb_engine *e, const size_t *fixed,
			size_t nfixed, size_t k, size_t *out)
{
	size_t cc[ENDGAME_CAND], nc = 0, m = 0, nfx = 0;
	unsigned alloc[ENDGAME_CAND] = { 0 }, best[ENDGAME_CAND] = { 0 };
	unsigned fx[ENDGAME_CAND] = { 0 }, all[ENDGAME_CAND];
	unsigned long s0 = 0, f0 = 0;
	double bestp = -1;
	struct endgame g;

	if (e->model != M_CLASS || e->best_mass < ENDGAME_MASS ||
	    k > ENDGAME_RUNS)
		return 0;
	for (size_t i = 0; i < e->n; i++)
		if (!runnable(&e->c[i]))
			return 0;
	for (size_t i = e->best >= 2 ? e->best - 2 : 0;
	     i <= e->best + 1 && i < e->n && nc < ENDGAME_CAND; i++)
		cc[nc++] = i;
	for (size_t f = 0; f < nfixed; f++)
		for (size_t t = 0; t < nc; t++)
			if (fixed[f] == cc[t]) {
				fx[t]++;
				nfx++;
			}
	if (k + nfx > ENDGAME_RUNS)
		return 0;
	g.cc = cc;
	g.nc = nc;
	g.S = g.F = 0;
	g.nseg = 0;
	g.lpn = log(e->p_none);
	for (size_t i = 0; i < e->n; i++) {
		g.S += e->c[i].slow;
		g.F += e->c[i].fast;
	}
	/* at most one stretch per commit with runs, per candidate, and one */
	g.seg = malloc((e->norder + nc + 2) * sizeof(*g.seg));
	if (!g.seg)
		return 0;
	/* what every outcome shares, once per stretch: the prior mass of
	 * its culprits and the marginals of the runs so far, which the
	 * outcome's replace */
	for (size_t j = 1, t = 0; j < e->n; j++) {
		struct eg_seg *sg;
		int fresh = g.nseg == 0;

		if (e->c[j - 1].slow || e->c[j - 1].fast) {
			s0 += e->c[j - 1].slow;
			f0 += e->c[j - 1].fast;
			fresh = 1;
		}
		if (t < nc && cc[t] < j) {
			while (t < nc && cc[t] < j)
				t++;
			fresh = 1;
		}
		sg = &g.seg[fresh ? g.nseg++ : g.nseg - 1];
		if (fresh) {
			sg->s0 = s0;
			sg->f0 = f0;
			sg->first = t;
			sg->lbase = log1p(-e->p_none) -
				    lik1(e, g.S - s0, g.F - f0) -
				    lik0(e, s0, f0, NULL);
			sg->mass = sg->top = 0;
		}
		sg->mass += e->post[j];
		if (e->post[j] > sg->top)
			sg->top = e->post[j];
	}
	/* every composition of k into nc parts, from (k, 0, ..., 0) */
	alloc[0] = (unsigned)k;
	for (;;) {
		double p;
		size_t t = 0;
		unsigned v;

		for (t = 0; t < nc; t++)
			all[t] = alloc[t] + fx[t];
		p = p_finish(e, &g, all);
		t = 0;

		if (p > bestp + 1e-12) {
			bestp = p;
			memcpy(best, alloc, sizeof(best));
		}
		while (t < nc - 1 && alloc[t] == 0)
			t++;
		if (t >= nc - 1)
			break;
		v = alloc[t];
		alloc[t] = 0;
		alloc[t + 1]++;
		alloc[0] = v - 1;
	}
	free(g.seg);
	if (bestp < ENDGAME_P)
		return 0;
	for (size_t t = 0; t < nc; t++)
		for (unsigned r = 0; r < best[t]; r++)
			out[m++] = cc[t];
	return 1;
}

/* joint_mi() of the probes p[0..m-1] in any order. */
static double joint_mi_of(const struct pb_engine *e, const size_t *p,
			  size_t m)
{
	size_t sorted[BATCH_MAX];

	memcpy(sorted, p, m * sizeof(*sorted));
	qsort(sorted, m, sizeof(*sorted), cmp_size);
	return joint_mi(e, sorted, m);
}

/*
 * Improves a greedy batch by exchanges: each probe in turn is replaced by
 * the candidate that, the others kept, gives the most joint information,
 * until a pass changes nothing (at most EXCHANGE_PASSES passes).  Greedy
 * choice fixes its first probe before it knows the others; with K = 4
 * the exchanges cut A5 by about a quarter of a round, at the same
 * accuracy (bench/README.md).  Probes chosen[0..from-1] are runs out:
 * fixed.
 */
static void batch_exchange(const struct pb_engine *e, const size_t *cand,
			   size_t nc, size_t *chosen, size_t from, size_t m)
{
	double cur = joint_mi_of(e, chosen, m);

	for (int pass = 0; pass < EXCHANGE_PASSES; pass++) {
		int improved = 0;

		for (size_t s = from; s < m; s++) {
			size_t keep = chosen[s], bi = keep;
			double bv = cur;

			for (size_t t = 0; t < nc; t++) {
				double v;

				if (cand[t] == keep)
					continue;
				chosen[s] = cand[t];
				v = joint_mi_of(e, chosen, m);
				if (v > bv + 1e-9) {
					bv = v;
					bi = cand[t];
				}
			}
			chosen[s] = bi;
			if (bi != keep) {
				cur = bv;
				improved = 1;
			}
		}
		if (!improved)
			break;
	}
}

/*
 * Greedy joint choice of k probes (duplicates allowed), then exchanges,
 * given the probes fixed[0..nfixed-1] whose runs are out: the new ones
 * are chosen jointly with them (at most BATCH_MAX in all, the runs out
 * first in the order given; beyond it, copies).
 */
static size_t batch_pick(struct pb_engine *e, const size_t *fixed,
			 size_t nfixed, size_t k, size_t *out)
{
	size_t cand[256], nc = 0, chosen[BATCH_MAX], trial[BATCH_MAX];
	size_t m, nf = nfixed, knew = k < BATCH_MAX ? k : BATCH_MAX;

	prefix_rates(e);
	/* Candidates: the commits where P(bad) crosses 1/256, 2/256, ...,
	 * and the runnable commits next to the best one (the endgame). */
	for (size_t i = 0, next = 1; i < e->n && nc < 250; i++) {
		if (!runnable(&e->c[i]))
			continue;
		if (e->cdf[i] * 250 >= next || i == e->n - 1) {
			cand[nc++] = i;
			while (next <= e->cdf[i] * 250)
				next++;
		}
	}
	for (size_t i = e->best > 2 ? e->best - 2 : 0;
	     i < e->n && i <= e->best + 1 && nc < 256; i++)
		if (runnable(&e->c[i]))
			cand[nc++] = i;
	if (nc == 0) {
		/* the runnable commits are all far from the posterior's mass
		 * (an end skipped after its runs): one agent's choice */
		gains(e);
		cand[0] = argmax_gain(e);
		if (cand[0] >= e->n)
			return 0; /* nothing runnable: search_done() says so */
		nc = 1;
	}
	if (nf > BATCH_MAX - knew)
		nf = BATCH_MAX - knew;
	if (nf)
		memcpy(chosen, fixed, nf * sizeof(*chosen));
	for (m = nf; m < nf + knew; m++) {
		double bv = -1;
		size_t bi = cand[0];

		for (size_t t = 0; t < nc; t++) {
			double v;

			memcpy(trial, chosen, m * sizeof(*trial));
			trial[m] = cand[t];
			qsort(trial, m + 1, sizeof(*trial), cmp_size);
			v = joint_mi(e, trial, m + 1);
			if (v > bv + 1e-12) {
				bv = v;
				bi = cand[t];
			}
		}
		chosen[m] = bi;
	}
	if (m - nf > 1)
		batch_exchange(e, cand, nc, chosen, nf, m);
	for (size_t t = 0; t < k; t++)
		out[t] = chosen[nf + t % (m - nf)];
	return k;
}

/* ---- the result ---- */

/*
 * The two sides of the most probable culprit: the good side is every
 * commit before its block, the bad side the culprit and after.  Their
 * class counts, and (when memory allows; NULL otherwise) their runs,
 * oriented.  Release with sides_release().
 */
struct sides {
	unsigned long gs, gf, bs, bf;
	double *good, *bad;
	size_t ng, nb;
};

static void sides_collect(const struct pb_engine *e, struct sides *sd)
{
	size_t total = 0;

	memset(sd, 0, sizeof(*sd));
	for (size_t i = 0; i < e->n; i++) {
		total += e->c[i].nv;
		if (i < e->block_first) {
			sd->gs += e->c[i].slow;
			sd->gf += e->c[i].fast;
		} else if (i >= e->best) {
			sd->bs += e->c[i].slow;
			sd->bf += e->c[i].fast;
		}
	}
	sd->good = malloc((total + 1) * sizeof(double));
	sd->bad = malloc((total + 1) * sizeof(double));
	if (!sd->good || !sd->bad) {
		free(sd->good);
		free(sd->bad);
		sd->good = sd->bad = NULL;
		return;
	}
	for (size_t i = 0; i < e->n; i++)
		for (unsigned r = 0; r < e->c[i].nv; r++) {
			if (i < e->block_first)
				sd->good[sd->ng++] = e->c[i].v[r];
			else if (i >= e->best)
				sd->bad[sd->nb++] = e->c[i].v[r];
		}
}

static void sides_release(struct sides *sd)
{
	free(sd->good);
	free(sd->bad);
}

/*
 * The raw evidence behind the result: counts at the culprit and its
 * parent, the slow fractions on either side, and diagnostics on the pooled
 * runs of the good side (commits before the culprit's block) and of the
 * bad side (the culprit and after): Hartigan's dip of each, and the rank
 * tests between them.  The mode is called "bimodal" only when the bad
 * side's runs fall in both classes and the dip test rejects unimodality
 * at 0.05; otherwise one distribution moved: "shift".
 */
static void evidence(struct pb_engine *e)
{
	struct pb_engine_result *r = &e->res;
	size_t c = e->best, p = c - 1;
	struct sides sd;

	r->culprit_slow = e->c[c].slow;
	r->culprit_fast = e->c[c].fast;
	while (p > 0 && !distinct(&e->c[p]))
		p--;
	r->parent_slow = e->c[p].slow;
	r->parent_fast = e->c[p].fast;
	sides_collect(e, &sd);
	r->q0 = sd.gs + sd.gf ? (double)sd.gs / (double)(sd.gs + sd.gf) : NAN;
	r->q1 = sd.bs + sd.bf ? (double)sd.bs / (double)(sd.bs + sd.bf) : NAN;
	if (e->model == M_CLASS) {
		r->fast_mode = unorient(e, e->mix.mu[1]);
		r->slow_mode = unorient(e, e->mix.mu[0]);
		r->ashman_d = e->mix.ashman_d;
	} else {
		r->fast_mode = unorient(e, e->mu_f);
		r->slow_mode = unorient(e, e->mu_s);
		r->ashman_d = pb_ashman_d(e->mu_f, e->s_f, e->mu_s, e->s_s);
	}
	if (sd.good) {
		struct pb_mwu mwu;
		struct pb_ks ks;
		double d;

		if (sd.nb >= 4)
			pb_dip_test(&r->dip, &r->dip_p, sd.bad, sd.nb);
		if (sd.ng >= 4)
			pb_dip_test(&d, &r->good_dip_p, sd.good, sd.ng);
		if (pb_mwu_test(&mwu, sd.good, sd.ng, sd.bad, sd.nb) == 0)
			r->mwu_p = mwu.p;
		if (pb_ks_test(&ks, sd.good, sd.ng, sd.bad, sd.nb) == 0)
			r->ks_p = ks.p;
	}
	r->good_bimodal = e->model == M_CLASS && sd.gs >= 2 && sd.gf >= 2 &&
			  r->good_dip_p < 0.05;
	r->mode = e->model == M_CLASS && sd.bs >= 1 && sd.bf >= 1 &&
			  r->dip_p < 0.05
		  ? PB_MODE_BIMODAL
		  : PB_MODE_SHIFT;
	sides_release(&sd);
}

/* The posterior from all runs so far: a function of the runs alone. */
static void update(struct pb_engine *e)
{
	if (e->model == M_DENSITY) {
		fit_density(e, 0);
		posterior(e);
		fit_density(e, 1);
	}
	posterior(e);
	best_block(e);
	credible_interval(e);
	e->res.confidence = e->best_mass;
	e->stale = 0;
}

/*
 * The stall check: STALL_RUNS runs into the search and no commit holds
 * even half the posterior.  If the runs before and after the most probable
 * culprit do not differ either (class model: P(slower after) below
 * STALL_UP with flat priors, or P(no change) at least STALL_NONE, since
 * the most probable split is the one that makes them differ most; density
 * model: Mann-Whitney p above STALL_P), the ends' difference was noise (a
 * machine whose load spikes or drifts can fool a test on a few runs): stop
 * and say there is no regression, rather than wander until the budget is
 * gone.  When only the sides fail to differ and "no change" does not
 * explain the runs better, the why says so instead of calling it noise: a
 * good side slow now and then hides a rare bad-side slow mode this way.
 * Returns 1 when it stopped the search.
 */
static int stalled(struct pb_engine *e)
{
	struct sides sd;
	struct pb_mwu mwu;
	double p = 0;
	char what[96];
	int differ;

	if (e->runs < e->search_start + STALL_RUNS || e->best_mass >= 0.5)
		return 0;
	sides_collect(e, &sd);
	if (e->model == M_CLASS) {
		differ = pb_beta_greater(1.0 + sd.bs, 1.0 + sd.bf,
					 1.0 + sd.gs, 1.0 + sd.gf) >= STALL_UP &&
			 e->p_none < STALL_NONE;
		snprintf(what, sizeof(what),
			 "slow in %lu of %lu runs before it and %lu of %lu "
			 "after; P(no change) %.2f", sd.gs, sd.gs + sd.gf,
			 sd.bs, sd.bs + sd.bf, e->p_none);
	} else {
		if (sd.good && pb_mwu_test(&mwu, sd.good, sd.ng, sd.bad,
					   sd.nb) == 0)
			p = mwu.p;
		differ = !(p > STALL_P);
		snprintf(what, sizeof(what), "Mann-Whitney p = %.3g", p);
		if (!differ)
			e->res.mwu_p = p;
	}
	sides_release(&sd);
	if (differ)
		return 0;
	e->res.mode = PB_MODE_NONE;
	if (e->model == M_CLASS && e->p_none < STALL_NONE)
		/* The sides did not differ, but "no change" is not the
		 * better explanation either: do not call it noise. */
		snprintf(e->res.why, sizeof(e->res.why),
			 "no regression found: after %u runs no commit "
			 "stands out (the most probable holds %.2f) and the "
			 "runs before and after it do not differ clearly "
			 "(%s): the ends differed by chance, or the bad "
			 "side's slow mode is too rare beside the good "
			 "side's to place in these runs", e->runs,
			 e->best_mass, what);
	else
		snprintf(e->res.why, sizeof(e->res.why),
			 "no regression: after %u runs no commit stands out "
			 "(the most probable holds %.2f) and the runs before "
			 "and after it do not differ, or no change explains "
			 "them as well (%s): the ends' difference was noise",
			 e->runs, e->best_mass, what);
	e->res.confidence = NAN;
	return finish_none(e);
}

/* Checks the stopping rule; returns 1 when the search is over. */
static int search_done(struct pb_engine *e)
{
	update(e);
	if (stalled(e))
		return 1;
	if (e->p_none >= NONE_P) {
		unsigned long slow = 0, all = 0;

		for (size_t i = 0; i < e->n; i++) {
			slow += e->c[i].slow;
			all += e->c[i].slow + e->c[i].fast;
		}
		e->res.mode = PB_MODE_NONE;
		if (e->model == M_CLASS)
			snprintf(e->res.why, sizeof(e->res.why),
				 "no regression: after %u runs one slow "
				 "fraction for every commit (slow in %lu of "
				 "%lu runs) explains them better than any "
				 "change (P = %.4f)",
				 e->runs, slow, all, e->p_none);
		else
			snprintf(e->res.why, sizeof(e->res.why),
				 "no regression: after %u runs one "
				 "distribution for every commit (mean %g, sd "
				 "%g) explains them better than any change "
				 "(P = %.4f)", e->runs,
				 unorient(e, e->mu_n), e->s_n, e->p_none);
		e->res.confidence = NAN; /* no culprit to be confident in */
		if (finish_none(e))
			return 1;
		goto search_on;
	}
	if (e->best_mass >= e->o.confidence) {
		evidence(e);
		if (e->block_first == e->best) {
			if (e->confirmed != e->best &&
			    verify_possible(e, e->best))
				goto search_on; /* verified first */
			e->res.culprit = e->best;
			if (e->confirmed == e->best) {
				finish(e, PB_OUT_CULPRIT);
			} else {
				e->ver_gave_up = 1;
				finish(e, PB_OUT_STUCK);
			}
		} else {
			e->res.range_first = e->block_first;
			e->res.range_last = e->best;
			finish(e, PB_OUT_RANGE);
		}
		return 1;
	}
search_on:
	if (e->runs >= e->o.max_runs) {
		evidence(e);
		e->res.culprit = e->best;
		finish(e, PB_OUT_BUDGET);
		return 1;
	}
	if (e->ver)
		return 0;
	/* Something left worth a run?  Not when only the ends can still
	 * run and their runs teach (next to) nothing about the culprit: they
	 * are good and bad under every hypothesis (the shift model gives
	 * them no gain at all; the class model's rates may still learn). */
	for (size_t i = 1; i + 1 < e->n; i++)
		if (runnable(&e->c[i]))
			return 0;
	gains(e);
	if ((runnable(&e->c[0]) && e->eig[0] >= GAIN_MIN) ||
	    (runnable(&e->c[e->n - 1]) && e->eig[e->n - 1] >= GAIN_MIN))
		return 0;
	evidence(e);
	e->res.culprit = e->best;
	finish(e, PB_OUT_STUCK);
	return 1;
}

static void write_why(struct pb_engine *e)
{
	struct pb_engine_result *r = &e->res;
	char what[320], rates[96], fm[24], sm[24];

	if (r->outcome == PB_OUT_NO_REGRESSION ||
	    r->outcome == PB_OUT_BAD_END || r->why[0])
		return;
	/* the modes as a person reads them: "96.3 M", not "9.63286e+07" */
	pb_human_si(fm, sizeof(fm), r->fast_mode);
	pb_human_si(sm, sizeof(sm), r->slow_mode);
	/* the class model's slow fractions, said with every label */
	snprintf(rates, sizeof(rates),
		 "slow in %.0f %% of runs at bad commits, %.0f %% at good ones",
		 100 * r->q1, 100 * r->q0);
	if (r->mode == PB_MODE_BIMODAL)
		snprintf(what, sizeof(what),
			 "bimodal: runs are fast (~%s) or slow (~%s); %s%s; "
			 "dip p %.3g", fm, sm, rates,
			 r->good_bimodal ? " (the good side is bimodal too)"
					 : "", r->dip_p);
	else if (e->model == M_CLASS && r->q1 > 0 && r->q1 < 1) {
		/* Runs of both classes after the culprit, but too few slow
		 * ones (or too few runs) for the dip test: the label is not
		 * "bimodal", and the modes are no shift either. */
		char dip[48];

		if (isnan(r->dip_p))
			snprintf(dip, sizeof(dip), "too few runs for it");
		else
			snprintf(dip, sizeof(dip), "p %.3g", r->dip_p);
		snprintf(what, sizeof(what),
			 "runs are fast (~%s) or slow (~%s); %s; the dip test "
			 "does not call the bad side bimodal (%s)",
			 fm, sm, rates, dip);
	} else if (e->model == M_CLASS)
		snprintf(what, sizeof(what), "shift: from ~%s to ~%s; %s",
			 fm, sm, rates);
	else
		snprintf(what, sizeof(what),
			 "shift: from ~%s to ~%s", fm, sm);
	switch (r->outcome) {
	case PB_OUT_CULPRIT:
		/* the verified slowdown as the metric's own change, as the
		 * ends' medians are said: +90.8 % of time, but -47.6 % of
		 * throughput (1 / 1.908) */
		snprintf(r->why, sizeof(r->why),
			 "culprit at posterior %.4f, verified against its "
			 "parent in %u alternating pairs (%+.1f %%, p %.2g) "
			 "(%s; the culprit had %u slow / %u fast runs, its "
			 "parent %u / %u)",
			 r->confidence, r->verification.pairs,
			 100 * pb_metric_change(r->verification.effect,
						  e->o.lower_is_better),
			 r->verification.p, what, r->culprit_slow,
			 r->culprit_fast, r->parent_slow, r->parent_fast);
		break;
	case PB_OUT_RANGE:
		snprintf(r->why, sizeof(r->why),
			 "the culprit is one of %zu commits, %zu of them "
			 "skipped, at posterior %.4f (%s)",
			 r->range_last - r->range_first + 1,
			 r->range_last - r->range_first, r->confidence, what);
		break;
	case PB_OUT_BUDGET:
		snprintf(r->why, sizeof(r->why),
			 "the run budget (%u runs) was spent: the most "
			 "probable culprit holds only %.4f (%s)",
			 e->o.max_runs, r->confidence, what);
		break;
	case PB_OUT_STUCK:
		if (e->ver_gave_up) {
			snprintf(r->why, sizeof(r->why),
				 "inconclusive: the most probable culprit holds "
				 "%.4f, but %u verification%s against its "
				 "parent did not confirm it (the last: %u "
				 "pairs, %+.1f %%, p %.2g, stopped by %s) (%s)",
				 r->confidence, r->verification.attempts,
				 r->verification.attempts == 1 ? "" : "s",
				 r->verification.pairs,
				 100 * r->verification.effect,
				 r->verification.p,
				 r->verification.stop[0] ? r->verification.stop
							 : "its parent's runs",
				 what);
			break;
		}
		snprintf(r->why, sizeof(r->why),
			 "no commit is left that a run could narrow it down "
			 "with (each is skipped, or fails in most of its "
			 "runs): the most probable culprit holds only %.4f "
			 "(%s)", r->confidence, what);
		break;
	default:
		break;
	}
}

/* A search that dropped the class model says so after its why. */
static void note_remodel(struct pb_engine *e)
{
	size_t len = strlen(e->res.why);

	if (e->drift_note[0] && len + 1 < sizeof(e->res.why)) {
		snprintf(e->res.why + len, sizeof(e->res.why) - len, "; %s",
			 e->drift_note);
		len = strlen(e->res.why);
	}
	if (!e->remodelled || len + 1 >= sizeof(e->res.why))
		return;
	snprintf(e->res.why + len, sizeof(e->res.why) - len,
		 "; the ends' two modes did not hold up over the first %u "
		 "runs (the fast runs reach the slow ones): judged as a "
		 "shift from then on", e->remodelled);
}

/*
 * k runs while the ends are still being characterised.  Until both ends
 * have MIN_SHIFT_RUNS runs every slot goes to them; after that the ends
 * wait for the slow mode to show (or for a t-test), one run at a time
 * being as good as four, so only half the slots go to them and the rest
 * to the first probes of the search: the joint choice under the prior
 * and the prior's mean rates.  Their runs are scored once the
 * model is known; if the ends show no regression they were spent for
 * nothing, which costs less than idle agents in every other case.
 */
static size_t ends_batch(struct pb_engine *e, size_t k, unsigned ng,
			 unsigned nb, const size_t *fixed, size_t nfixed,
			 size_t *out)
{
	size_t nends = k, n = e->n;

	if (k > 1 && ng >= MIN_SHIFT_RUNS && nb >= MIN_SHIFT_RUNS &&
	    runnable(&e->c[0]) && runnable(&e->c[n - 1]))
		nends = (k + 1) / 2;
	for (size_t t = 0; t < nends; t++)
		out[t] = ends_pick(e, &ng, &nb);
	if (nends == k)
		return k;
	e->post[0] = e->cdf[0] = 0;
	for (size_t j = 1; j < n; j++) {
		e->post[j] = exp(e->lprior[j]) / e->prior_sum;
		e->cdf[j] = e->cdf[j - 1] + e->post[j];
		e->r1[j] = PRIOR_A1 / (PRIOR_A1 + PRIOR_B1);
		e->r0[j] = PRIOR_A0 / (PRIOR_A0 + PRIOR_B0);
	}
	e->best = 1;
	return nends + batch_pick(e, fixed, nfixed, k - nends, out + nends);
}

/* ---- the driver-facing calls ---- */

/* The budget spent on the ends: said and ended. */
static void ends_out_of_budget(struct pb_engine *e)
{
	snprintf(e->res.why, sizeof(e->res.why),
		 "the run budget (%u runs) was spent on the ends before they "
		 "could be told apart", e->o.max_runs);
	e->res.mode = PB_MODE_UNKNOWN;
	finish(e, PB_OUT_BUDGET);
}

size_t pb_engine_next_batch(struct pb_engine *e, size_t k, size_t *out)
{
	if (e->phase == PH_DONE)
		return 0;
	if (e->runs < e->o.max_runs && k > e->o.max_runs - e->runs)
		k = e->o.max_runs - e->runs;
	if (k == 0 && e->runs < e->o.max_runs)
		return 0;
	if (e->phase == PH_ENDS) {
		unsigned ng = e->c[0].nv + e->c[0].failed;
		unsigned nb = e->c[e->n - 1].nv + e->c[e->n - 1].failed;

		if (e->runs >= e->o.max_runs) {
			ends_out_of_budget(e);
			return 0;
		}
		return ends_batch(e, k, ng, nb, NULL, 0, out);
	}
	if (search_done(e)) {
		write_why(e);
		note_remodel(e);
		return 0;
	}
	if (want_reference(e, 0)) {
		out[0] = 0;
		if (k == 1)
			return 1;
		return 1 + (e->ver ? verify_pick(e, k - 1, out + 1)
				   : batch_pick(e, NULL, 0, k - 1, out + 1));
	}
	if (e->ends_more) {
		const struct cobs *g = &e->c[0], *b = &e->c[e->n - 1];
		unsigned ng = g->nv + g->failed, nb = b->nv + b->failed;

		e->ends_more = 0; /* the next search_done() says again */
		for (size_t t = 0; t < k; t++)
			out[t] = ng <= nb ? (ng++, 0) : (nb++, e->n - 1);
		return k;
	}
	if (e->ver) {
		size_t m = verify_pick(e, k, out);

		if (m == k)
			return k;
		if (m > 0 && k > 1)
			return m + batch_pick(e, NULL, 0, k - m, out + m);
	}
	if (k == 1) {
		gains(e);
		out[0] = argmax_gain(e);
		return out[0] < e->n ? 1 : 0;
	}
	if (endgame_pick(e, NULL, 0, k, out))
		return k;
	return batch_pick(e, NULL, 0, k, out);
}


/* The search's share of pb_engine_next_for(): nw runs for the machines
 * left, jointly with the probes fixed[0..nfix-1] (the runs out, and those
 * handed out in this call), ngx and nbx of the runs out being the ends'
 * on machines whose runs count; 0 when there is nothing to run. */
static size_t search_share(struct pb_engine *e, size_t nw, const size_t *fixed,
			   size_t nfix, unsigned ngx, unsigned nbx, size_t *w)
{
	if (e->phase == PH_ENDS) {
		unsigned ng = e->c[0].nv + e->c[0].failed + ngx;
		unsigned nb = e->c[e->n - 1].nv + e->c[e->n - 1].failed + nbx;

		return ends_batch(e, nw, ng, nb, fixed, nfix, w);
	}
	if (e->ends_more) {
		const struct cobs *g = &e->c[0], *b = &e->c[e->n - 1];
		unsigned ng = g->nv + g->failed + ngx, nb = b->nv + b->failed + nbx;

		e->ends_more = 0; /* the next search_done() says again */
		for (size_t t = 0; t < nw; t++)
			w[t] = ng <= nb ? (ng++, 0) : (nb++, e->n - 1);
		return nw;
	}
	if (nw == 1 && nfix == 0) {
		gains(e);
		w[0] = argmax_gain(e);
		return w[0] < e->n ? 1 : 0;
	}
	if (endgame_pick(e, fixed, nfix, nw, w))
		return nw;
	return batch_pick(e, fixed, nfix, nw, w);
}

int pb_engine_next_for(struct pb_engine *e, const unsigned *idle, size_t k,
		       const struct pb_engine_lease *busy, size_t nbusy,
		       size_t *out)
{
	size_t fixed[2 * PB_ENGINE_MACHINES], nfix = 0, avail, given = 0;
	size_t who[PB_ENGINE_MACHINES], nw = 0, w[PB_ENGINE_MACHINES];
	uint64_t seen = 0, busym = 0, refs = 0;
	unsigned ngx = 0, nbx = 0;

	if (k > PB_ENGINE_MACHINES)
		return -1;
	for (size_t b = 0; b < nbusy; b++) {
		if (busy[b].commit >= e->n ||
		    busy[b].machine >= PB_ENGINE_MACHINES)
			return -1;
		busym |= UINT64_C(1) << busy[b].machine;
	}
	for (size_t t = 0; t < k; t++) {
		uint64_t bit;

		if (idle[t] >= PB_ENGINE_MACHINES)
			return -1;
		bit = UINT64_C(1) << idle[t];
		if ((seen | busym) & bit)
			return -1;
		seen |= bit;
	}
	for (size_t t = 0; t < k; t++)
		out[t] = PB_ENGINE_NO_RUN;
	if (e->phase == PH_DONE || k == 0)
		return 0;
	/* the budget: the runs out are spent already */
	avail = k;
	if (e->runs < e->o.max_runs) {
		if (nbusy >= e->o.max_runs - e->runs)
			return 0;
		if (avail > e->o.max_runs - e->runs - nbusy)
			avail = e->o.max_runs - e->runs - nbusy;
	}
	if (e->phase == PH_ENDS && e->runs >= e->o.max_runs) {
		ends_out_of_budget(e);
		return 0;
	}
	if (e->phase == PH_SEARCH && search_done(e)) {
		write_why(e);
		note_remodel(e);
		return 0;
	}
	/* Each machine in turn: its reference, or the verification's lane
	 * it is, or the search's. */
	for (size_t t = 0; t < k && given + nw < avail; t++) {
		unsigned m = idle[t], sm = e->pooled ? 0 : m;
		int is_ref = e->ref_mach < 0 ? t == 0 : counted(e, sm);
		size_t c = PB_ENGINE_NO_RUN;

		if (!is_ref || (want_reference(e, sm) &&
				!((refs >> sm) & 1))) {
			/* not judged yet, or due: its reference */
			if (!runnable(&e->c[0]))
				continue;
			refs |= UINT64_C(1) << sm;
			c = 0;
		} else if (e->ver && !e->ends_more && e->phase == PH_SEARCH &&
			   (((e->ver_lanes >> m) & 1) ||
			    __builtin_popcountll(e->ver_lanes) <
				    VERIFY_LANES)) {
			enum pb_verify_side side = pb_verify_next(e->ver, m);

			if (side != PB_VERIFY_NONE) {
				e->ver_lanes |= UINT64_C(1) << m;
				c = side == PB_VERIFY_CULPRIT ? e->ver_c
							      : e->ver_p;
			}
		}
		if (c == PB_ENGINE_NO_RUN) {
			who[nw++] = t;
			continue;
		}
		out[t] = c;
		fixed[nfix++] = c;
		given++;
	}
	for (size_t b = 0; b < nbusy; b++) {
		unsigned sm = e->pooled ? 0 : busy[b].machine;

		/* a good-end run out on a machine whose runs do not count
		 * yet is its reference, not one of the ends' runs */
		ngx += busy[b].commit == 0 && counted(e, sm);
		nbx += busy[b].commit == e->n - 1;
		if (nfix < 2 * PB_ENGINE_MACHINES)
			fixed[nfix++] = busy[b].commit;
	}
	if (nw > 0) {
		size_t got = search_share(e, nw, fixed, nfix, ngx, nbx, w);

		for (size_t t = 0; t < got && t < nw; t++) {
			out[who[t]] = w[t];
			given++;
		}
	}
	return (int)given;
}

int pb_engine_wait(struct pb_engine *e, struct pb_action *out)
{
	out->wait_round = 0;
	out->commit = 0;
	if (e->phase != PH_DONE && !e->waited && machine_busy(e)) {
		if (e->busy_waits >= PB_BUSY_WAITS) {
			unsigned d = 0;

			for (unsigned k = 0; k < e->nrecent; k++)
				d += e->recent[k];
			snprintf(e->res.why, sizeof(e->res.why),
				 "machine too busy to measure: other work held "
				 "it during %u of the last %u runs, through %u "
				 "waits (%u of %u runs disturbed in all)",
				 d, e->nrecent, e->busy_waits, e->disturbed,
				 e->disturbed + e->runs);
			finish(e, PB_OUT_TOO_BUSY);
		} else {
			e->waited = 1;
			out->kind = PB_ACT_WAIT;
			out->wait_round = ++e->busy_waits;
			return 0;
		}
	}
	out->kind = e->phase == PH_DONE ? PB_ACT_DONE : PB_ACT_RUN;
	return 0;
}

int pb_engine_next(struct pb_engine *e, struct pb_action *out)
{
	size_t c;

	pb_engine_wait(e, out);
	if (out->kind != PB_ACT_RUN)
		return 0;
	if (pb_engine_next_batch(e, 1, &c) == 1) {
		out->kind = PB_ACT_RUN;
		out->commit = c;
	} else {
		out->kind = PB_ACT_DONE;
		out->commit = 0;
	}
	return 0;
}

size_t pb_engine_verification_pairs(const struct pb_engine *e,
				    unsigned (*pairs)[2], size_t cap)
{
	for (size_t k = 0; k < e->vp_nlast && k < cap; k++) {
		pairs[k][0] = e->vp_last[k][0];
		pairs[k][1] = e->vp_last[k][1];
	}
	return e->vp_nlast;
}

void pb_engine_result(const struct pb_engine *e, struct pb_engine_result *out)
{
	*out = e->res;
	out->runs = e->runs;
	out->disturbed = e->disturbed;
}

void pb_engine_progress(struct pb_engine *e, struct pb_engine_progress *out)
{
	out->runs = e->runs;
	out->disturbed = e->disturbed;
	out->ends = e->phase == PH_ENDS;
	out->verifying = e->ver != NULL;
	out->ver_commit = e->ver_c;
	out->ver_parent = e->ver_p;
	out->last = e->last;
	out->slow = e->c[e->last].slow;
	out->fast = e->c[e->last].fast;
	if (e->phase == PH_ENDS || e->model == M_NONE) {
		out->lo = 0;
		out->hi = e->n - 1;
		out->best = 0;
		out->confidence = NAN;
		return;
	}
	if (e->phase == PH_SEARCH)
		update(e);
	out->lo = e->res.ci_first;
	out->hi = e->res.ci_last;
	out->best = e->best;
	out->confidence = e->best_mass;
}

size_t pb_engine_nsteps(const struct pb_engine *e)
{
	return e->norder;
}

void pb_engine_step(struct pb_engine *e, size_t i,
		    struct pb_engine_step *out)
{
	size_t k = e->order[i];
	const struct cobs *c = &e->c[k];
	int searched = e->model != M_NONE && e->res.mode != PB_MODE_NONE;
	double conf = e->o.confidence;

	/* runs fed since the last choice: their posterior, like progress */
	if (e->phase == PH_SEARCH && e->stale)
		update(e);
	memset(out, 0, sizeof(*out));
	out->commit = k;
	out->runs = c->nv;
	out->failed_runs = c->failed;
	out->median = pb_median(c->raw, c->nv);
	out->slow = c->slow;
	out->fast = c->fast;
	out->disturbed = c->disturbed;
	out->slow_fraction = searched && c->slow + c->fast
				     ? (double)c->slow / (c->slow + c->fast)
				     : NAN;
	out->p_bad = searched ? e->cdf[k] : NAN;
	if (!distinct(c))
		out->verdict = PB_V_SKIP;
	else if (!searched)
		out->verdict = PB_V_UNDECIDED;
	else if (k == 0)
		out->verdict = PB_V_GOOD;
	else if (k == e->n - 1 || e->cdf[k] >= conf)
		out->verdict = PB_V_BAD;
	else if (e->cdf[k] <= 1 - conf)
		out->verdict = PB_V_GOOD;
	else
		out->verdict = PB_V_UNDECIDED;
}

const char *pb_verdict_name(enum pb_verdict v)
{
	switch (v) {
	case PB_V_GOOD: return "good";
	case PB_V_BAD: return "bad";
	case PB_V_SKIP: return "skip";
	case PB_V_UNTESTED:
	case PB_V_UNDECIDED: break;
	}
	return "undecided";
}

const char *pb_mode_name(enum pb_mode m)
{
	switch (m) {
	case PB_MODE_NONE: return "none";
	case PB_MODE_SHIFT: return "shift";
	case PB_MODE_BIMODAL: return "bimodal";
	case PB_MODE_UNKNOWN: break;
	}
	return NULL;
}
