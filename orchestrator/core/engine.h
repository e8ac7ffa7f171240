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
 * The decision rule behind this interface is in simple.c: a fixed number of
 * runs per commit, its median compared with the medians of the two ends.
 * It cannot state a confidence or a slow fraction, so it leaves them NAN
 * (printed as null), never made up.
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
};

#define PB_ENGINE_OPTS_INIT { 0, 0, 0.99, 0, 500 }

enum pb_act_kind { PB_ACT_RUN, PB_ACT_DONE };

struct pb_action {
	enum pb_act_kind kind;
	size_t commit;        /* for PB_ACT_RUN */
};

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
	PB_OUT_NO_REGRESSION, /* the ends do not differ (or bad is faster) */
	PB_OUT_BUDGET,        /* max_runs spent first */
	PB_OUT_BAD_END,       /* an end cannot be built or never yields the
			       * metric: the input is unusable */
};

struct pb_engine_result {
	enum pb_outcome outcome;
	enum pb_mode mode;
	size_t culprit;           /* PB_OUT_CULPRIT */
	size_t range_first;       /* PB_OUT_RANGE, inclusive */
	size_t range_last;
	size_t bad_end;           /* PB_OUT_BAD_END: 0 or n-1 */
	double confidence;        /* NAN when the rule cannot state one */
	unsigned runs;            /* all runs fed, failed ones included */
	double good_median;       /* of the ends' runs, NAN until known */
	double bad_median;
	char why[256];            /* one sentence for a person */
};

struct pb_engine_step {
	size_t commit;
	enum pb_verdict verdict;
	unsigned runs;            /* successful runs */
	unsigned failed_runs;
	double median;            /* NAN without runs */
	double slow_fraction;     /* NAN when the rule has no fast/slow classes */
};

/* Progress for a person: the commit being measured and how far it is. */
struct pb_engine_progress {
	size_t lo, hi;            /* last known good / first known bad */
	unsigned runs;
	unsigned runs_wanted;     /* at the current commit */
};

int pb_engine_new(struct pb_engine **out, const struct pb_engine_opts *opts);
void pb_engine_free(struct pb_engine *e);

/* What to do next; PB_ACT_DONE once pb_engine_result() has an outcome. */
int pb_engine_next(struct pb_engine *e, struct pb_action *out);

/* One successful run of `commit` gave `value`. */
int pb_engine_observe(struct pb_engine *e, size_t commit, double value);
/* One run of `commit` failed (crash, timeout, no metric). */
int pb_engine_run_failed(struct pb_engine *e, size_t commit);
/* `commit` cannot be built. */
int pb_engine_skip(struct pb_engine *e, size_t commit);

void pb_engine_result(const struct pb_engine *e, struct pb_engine_result *out);
void pb_engine_progress(const struct pb_engine *e,
			struct pb_engine_progress *out);

/* Tested commits in the order they were first tested (ends first). */
size_t pb_engine_nsteps(const struct pb_engine *e);
void pb_engine_step(const struct pb_engine *e, size_t i,
		    struct pb_engine_step *out);

const char *pb_verdict_name(enum pb_verdict v);
const char *pb_mode_name(enum pb_mode m);

#endif
