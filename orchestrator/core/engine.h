/*
 * engine.h - the bisection engine's one small interface.
 *
 * The engine is a pure state machine: numbers in, decisions out.  It knows
 * nothing of git, sqlite, processes or time; the caller (the --local driver
 * today, the service's scheduler later, the simulator in bench/) maps its
 * commits to indices and feeds results back:
 *
 *     commits 0 .. n-1, oldest first: 0 is the known-good end, n-1 the
 *     known-bad end; the culprit is the first bad commit, in 1 .. n-1.
 *
 *     pb_engine_new(&e, &opts);
 *     while (pb_engine_next(e, &act) == 0 && act.kind == PB_ACT_RUN) {
 *         build act.commit if not built yet: on failure pb_engine_skip()
 *         else run it once: pb_engine_observe(e, commit, value)
 *                        or pb_engine_run_failed(e, commit)
 *     }
 *     pb_engine_result(e, &res); pb_engine_step(e, i, &step) ...
 *
 * Results may be fed in any order and again after a restart (the driver
 * replays stored runs), so a killed bisection resumes where it stopped;
 * with the same observations in the same order the engine makes the same
 * choices, and all its randomness comes from opts.seed.
 *
 * Several machines (the service's agents) are told apart by a small id,
 * 0 .. PB_ENGINE_MACHINES - 1, that the driver maps its agents to: every
 * run is fed with the machine it ran on (pb_engine_feed()), and idle
 * machines ask for work with the runs still out on the others
 * (pb_engine_next_for()).  Each run is judged against references measured
 * on its own machine, never pooled with another machine's as if one had
 * made them; bayes.c's top comment gives the rule.  The calls without a
 * machine (pb_engine_observe(), pb_engine_next(), ...) are one machine,
 * id 0, as a local bisection is.
 *
 * The rule behind this interface is in bayes.c: characterise the ends,
 * keep a posterior over the culprit, test where a run is expected to teach
 * the most about it, stop when one commit holds opts.confidence.  A field
 * that cannot be computed honestly is NAN (printed as null).
 */
#ifndef PB_ENGINE_H
#define PB_ENGINE_H

#include <stddef.h>
#include <stdint.h>

struct pb_engine;

struct pb_engine_opts {
	size_t n;             /* commits, ends included (>= 2) */
	int lower_is_better;  /* metric direction */
	double confidence;    /* asked confidence, in (0, 1) */
	uint64_t seed;        /* every random choice derives from it */
	unsigned max_runs;    /* budget, ends and failed runs included */
	double min_effect;    /* the smallest slowdown worth finding, a
			       * fraction: "no regression" only when the
			       * ends are shown to differ by less */
};

#define PB_ENGINE_OPTS_INIT { 0, 0, 0.99, 0, 500, 0.03 }

/* PB_ACT_WAIT: most recent runs were disturbed by other work on the
 * machine (pb_engine_disturbed()); wait before the next run.  `wait_round`
 * counts such waits in a row (1, 2, ...): the driver waits longer each
 * round, and asks again.  The engine has no clock: how long is the
 * driver's. */
enum pb_act_kind { PB_ACT_RUN, PB_ACT_DONE, PB_ACT_WAIT };

struct pb_action {
	enum pb_act_kind kind;
	size_t commit;        /* for PB_ACT_RUN */
	unsigned wait_round;  /* for PB_ACT_WAIT */
};

/* Runs looked back at to judge that the machine is busy ("most" = more
 * than half of them disturbed, the latest included), and waits in a row
 * after which the bisection ends PB_OUT_TOO_BUSY. */
#define PB_BUSY_WINDOW 5
#define PB_BUSY_WAITS 10

enum pb_verdict {
	PB_V_UNTESTED = 0,
	PB_V_UNDECIDED,       /* tested, no verdict (yet) */
	PB_V_GOOD,
	PB_V_BAD,
	PB_V_SKIP,            /* cannot be built or measured */
};

enum pb_mode { PB_MODE_UNKNOWN = 0, PB_MODE_NONE, PB_MODE_SHIFT,
	       PB_MODE_BIMODAL };

enum pb_outcome {
	PB_OUT_RUNNING = 0,
	PB_OUT_CULPRIT,       /* culprit found (at the asked confidence) */
	PB_OUT_RANGE,         /* skipped commits hide it: range_first..last */
	PB_OUT_NO_REGRESSION, /* the ends differ by less than min_effect (the
			       * upper confidence bound of the slowdown of
			       * their mean), or bad is faster */
	PB_OUT_BUDGET,        /* max_runs spent first */
	PB_OUT_BAD_END,       /* an end cannot be built or never yields the
			       * metric: the input is unusable */
	PB_OUT_STUCK,         /* inconclusive: no commit left that a run
			       * could narrow it with (every candidate
			       * skipped, or failing in most runs), the
			       * culprit not confirmed by its verification,
			       * or the ends too noisy to rule out a
			       * slowdown of min_effect within their share
			       * of the budget; culprit = the most probable */
	PB_OUT_TOO_BUSY,      /* other work disturbed most runs through
			       * PB_BUSY_WAITS waits: nothing can be measured
			       * (an infrastructure error, exit 3) */
};

struct pb_engine_result {
	enum pb_outcome outcome;
	enum pb_mode mode;
	size_t culprit;           /* PB_OUT_CULPRIT */
	size_t range_first;       /* PB_OUT_RANGE, inclusive */
	size_t range_last;
	size_t bad_end;           /* PB_OUT_BAD_END: 0 or n-1 */
	double confidence;        /* NAN when the rule cannot state one */
	unsigned runs;            /* all runs fed, failed ones included,
				   * disturbed ones not */
	unsigned disturbed;       /* runs taken while other work held the
				   * machine: not evidence */
	double good_median;       /* of the ends' runs, NAN until known */
	double bad_median;
	/* The culprit's 95 % credible interval (commits), and the raw
	 * evidence at the culprit and its parent (classified runs). */
	size_t ci_first, ci_last;
	unsigned culprit_slow, culprit_fast, parent_slow, parent_fast;
	/* The model the runs were judged with, in metric units. */
	double fast_mode, slow_mode;  /* mode centres, NAN when unknown */
	double ashman_d;          /* separation of the ends' modes */
	double q0, q1;            /* slow fraction at good / bad commits */
	double dip, dip_p;        /* Hartigan's dip of the bad side's runs */
	int good_bimodal;         /* the good end is itself bimodal */
	double good_dip_p;
	double mwu_p, ks_p;       /* good side vs bad side runs (shift) */
	char why[512];            /* what was found, for a person */
	/* The verification of the culprit (verify.h): its parent and it run
	 * alternately (ABBA) under a sequential test before it is named.
	 * The last verification, or none (done 0). */
	struct pb_engine_verification {
		int done;             /* one finished (confirmed or not) */
		int confirmed;
		size_t commit;        /* the commit it verified */
		unsigned attempts;    /* verifications begun so far */
		unsigned ended;       /* ... and finished (this is the
				       * ended-th) */
		unsigned pairs;
		double effect;        /* +0.3: 30 % slower than its parent */
		double lo, hi;        /* 95 % interval, NAN when too few */
		double p;             /* its sequential p-value */
		char stop[24];        /* "evidence", "futility", "hopeless",
					 * "max pairs" */
	} verification;
};

struct pb_engine_step {
	size_t commit;
	enum pb_verdict verdict;
	unsigned runs;            /* successful runs judged (those of a
				   * machine without its reference yet wait,
				   * pb_engine_feed()) */
	unsigned failed_runs;
	double median;            /* NAN without runs */
	double slow_fraction;     /* NAN when the rule has no fast/slow classes */
	unsigned slow, fast;      /* classified runs */
	unsigned disturbed;       /* runs not counted: other work held the
				   * machine */
	double p_bad;             /* posterior P(this commit is bad), NAN
				   * before the search starts */
};

/* Progress for a person: the commit being measured and how far it is. */
struct pb_engine_progress {
	size_t lo, hi;            /* 95 % credible interval of the culprit,
				   * 0 and n-1 while the ends are measured */
	unsigned runs;
	unsigned disturbed;       /* runs taken beside them, not counted */
	int ends;                 /* still characterising the ends */
	size_t best;              /* most probable culprit */
	double confidence;        /* its posterior, NAN during the ends */
	size_t last;              /* the commit of the latest run ... */
	unsigned slow, fast;      /* ... and its classified runs so far */
	int verifying;            /* a verification is under way: */
	size_t ver_commit, ver_parent; /* of this commit against this one */
};

int pb_engine_new(struct pb_engine **out, const struct pb_engine_opts *opts);
void pb_engine_free(struct pb_engine *e);

/* What to do next; PB_ACT_DONE once pb_engine_result() has an outcome. */
int pb_engine_next(struct pb_engine *e, struct pb_action *out);

/* pb_engine_next()'s first half, without choosing a run: PB_ACT_WAIT
 * (with wait_round) while the machines are too busy to measure, as
 * pb_engine_next() says it, PB_ACT_DONE once there is an outcome (a
 * machine too busy for too long ends it here), else PB_ACT_RUN: ask
 * pb_engine_next_for() which.  The service's scheduler asks this before
 * pb_engine_next_for(), as bench/bisect-sim's machines do without the
 * wait, so that no choice is made and thrown away. */
int pb_engine_wait(struct pb_engine *e, struct pb_action *out);

/*
 * The next k runs for k idle agents, chosen jointly: the same commit may
 * appear more than once (near the end, several agents on the culprit and
 * its parent).  Writes up to k commit indices to out and returns how many;
 * 0 once the bisection is done.  Runs handed out and not yet observed are
 * not remembered: call it when all k results are in.  The agents are one
 * machine (id 0) to the engine; its verification pairs the runs by their
 * place in the batch.  A driver that knows its machines, or hands out
 * runs while others are still out, calls pb_engine_next_for() instead.
 */
size_t pb_engine_next_batch(struct pb_engine *e, size_t k, size_t *out);

/* Machine ids are 0 .. PB_ENGINE_MACHINES - 1. */
#define PB_ENGINE_MACHINES 64

/* No run for this machine now (pb_engine_next_for()). */
#define PB_ENGINE_NO_RUN ((size_t)-1)

/* A run handed out and not fed yet: its commit, and the machine that has
 * it. */
struct pb_engine_lease {
	size_t commit;
	unsigned machine;
};

/*
 * The next run for each of k idle machines, idle[0..k-1] (distinct ids),
 * while the runs busy[0..nbusy-1] are out on other machines: out[t] is
 * the commit machine idle[t] runs next, or PB_ENGINE_NO_RUN when it has
 * nothing useful to do now (ask again when a result comes in).  Returns
 * how many machines got a run; -1, writing nothing, for a machine id out
 * of range, given twice in idle or both idle and busy, or a busy run's
 * commit out of range.
 *
 * The runs out count as probes whose outcome is not known yet: the choice
 * for the idle machines is the joint choice with them, so K machines
 * asking one at a time get K probes that complement each other, and the
 * budget counts them (0 while the runs out would spend what is left).
 * Per machine, in this order: a machine whose runs are not judged yet
 * runs the good end, its reference (bayes.c); a machine due for a
 * reference runs it; while a verification is under way, a machine that
 * is one of its lanes (at most VERIFY_LANES machines, bayes.c) runs the
 * side its lane runs next, so the verification's pairs are formed per
 * machine; the others share the search's joint choice.  A function of the
 * runs fed and the arguments: the same calls give the same answers, so an
 * orchestrator that replays its stored runs after a restart resumes.
 * Returns 0 once the bisection is done (pb_engine_result()'s outcome is
 * no longer PB_OUT_RUNNING).  No machine is told to wait: a spell of
 * disturbed runs (PB_ACT_WAIT) is pb_engine_next()'s, for one machine.
 */
int pb_engine_next_for(struct pb_engine *e, const unsigned *idle, size_t k,
		       const struct pb_engine_lease *busy, size_t nbusy,
		       size_t *out);

/* Metric values beyond +-PB_ENGINE_VALUE_MAX are no measurement (their
 * squares would overflow the statistics): the engine refuses them, and
 * the driver records such a run as failed. */
#define PB_ENGINE_VALUE_MAX 1e100

/* One successful run of `commit` gave `value`; -1 (nothing recorded) for
 * a commit out of range or a value that is not finite or beyond
 * +-PB_ENGINE_VALUE_MAX. */
int pb_engine_observe(struct pb_engine *e, size_t commit, double value);
/* One run of `commit` failed (crash, timeout, no metric). */
int pb_engine_run_failed(struct pb_engine *e, size_t commit);
/* One run of `commit` was taken while other work held the machine: it is
 * not evidence and does not count against max_runs, but most runs
 * disturbed make the engine wait (PB_ACT_WAIT), and too many waits end it
 * (PB_OUT_TOO_BUSY). */
int pb_engine_disturbed(struct pb_engine *e, size_t commit);
/* `commit` cannot be built. */
int pb_engine_skip(struct pb_engine *e, size_t commit);

/* What became of one run. */
enum pb_run_status {
	PB_RUN_OK = 0,        /* it gave `value` */
	PB_RUN_FAILED,        /* crash, timeout, no metric */
	PB_RUN_DISTURBED,     /* other work held its machine: no evidence */
};

struct pb_engine_run {
	size_t commit;
	unsigned machine;     /* 0 .. PB_ENGINE_MACHINES - 1 */
	enum pb_run_status status;
	double value;         /* PB_RUN_OK only */
};

/*
 * One run of r->commit on r->machine, as the three calls above say for
 * each status (pb_engine_observe(e, c, v) is a run of machine 0).  The
 * value is judged against the good end measured on the same machine: a
 * run of a machine that has no such reference yet waits until it has, and
 * is evidence from then on (bayes.c).  -1, nothing recorded, for a commit
 * or machine out of range, a status that is none of the three, or a
 * value pb_engine_observe() refuses.
 */
int pb_engine_feed(struct pb_engine *e, const struct pb_engine_run *r);

/*
 * The driver found that `commit` maps the same code as commit - 1 (its
 * build's executable and libraries have the same loadable contents:
 * orchestrator/identical.h): identical = 1.  Such a commit is hardly the
 * culprit, so its prior weight becomes IDENTICAL_PRIOR (bayes.c) of the
 * others'; not zero, as a commit can change what the build does not show
 * (data the benchmark reads, a script the run command interprets).
 * identical = 0 withdraws the claim.  -1 for the good end or a commit out
 * of range.  Claims may come at any time and again after a restart: the
 * engine's choices depend on the claims in force and the results, not on
 * when a claim came, so a driver that replays stored runs after giving the
 * stored claims resumes where it stopped.
 */
int pb_engine_identical(struct pb_engine *e, size_t commit, int identical);

void pb_engine_result(const struct pb_engine *e, struct pb_engine_result *out);

/*
 * The pairs of runs the last finished verification (result.verification)
 * compared, in the order they completed: pairs[k][0] is the parent's run,
 * pairs[k][1] the culprit's, each named by how many runs were fed before
 * it (pb_engine_feed, _observe, _run_failed and _disturbed calls, from
 * 0), so a driver that numbers its runs as it feeds them finds their
 * records, e.g. to say whether IPC moved with the metric (verify.h's
 * pb_verify_describe).  Writes at most cap pairs and returns how many
 * there are (0 before a verification finished; fewer than
 * verification.pairs only when memory ran out while it ran).
 */
size_t pb_engine_verification_pairs(const struct pb_engine *e,
				    unsigned (*pairs)[2], size_t cap);
/* Both runs of a pair come from one machine when the runs were fed with
 * their machines (pb_engine_feed()); through the calls without one, from
 * the same place in the batches pb_engine_next_batch() handed out. */
/* Brings the posterior up to date with every run fed so far (which changes
 * nothing the engine will decide) and describes it. */
void pb_engine_progress(struct pb_engine *e, struct pb_engine_progress *out);

/* Tested commits in the order they were first tested (ends first). */
size_t pb_engine_nsteps(const struct pb_engine *e);
/* The posterior behind p_bad and the verdicts is brought up to date with
 * every run fed so far, as pb_engine_progress() does. */
void pb_engine_step(struct pb_engine *e, size_t i,
		    struct pb_engine_step *out);

const char *pb_verdict_name(enum pb_verdict v);
const char *pb_mode_name(enum pb_mode m);

#endif
