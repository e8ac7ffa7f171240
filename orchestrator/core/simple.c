/*
 * simple.c - the foundation's decision rule behind engine.h.
 *
 * 1. Characterise the ends: END_RUNS successful runs at the good end and at
 *    the bad end, alternating, so slow drift of the machine hits both.
 * 2. Decide the mode from the ends' medians: a regression ("shift") when
 *    the bad end is worse by more than both 4 robust standard deviations
 *    (1.4826 x MAD) and 5 %; otherwise "none" and the bisection stops.
 * 3. Binary search on the first-parent line: the probe is the untested,
 *    buildable commit nearest the middle of (last good, first bad); it gets
 *    PROBE_RUNS successful runs and is called good or bad by whichever end's
 *    median its own median lies closer to.  Unbuildable commits, and commits
 *    whose first MAX_FAILS runs all fail, are skipped; when only skipped
 *    commits separate good from bad, the answer is a range.
 *
 * A fixed number of runs per commit and a median cannot say how sure they
 * are, so confidence and slow fraction stay NAN (null in the output).  The
 * statistical engine replaces this file behind the same interface.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "stats.h"

enum { END_RUNS = 7, PROBE_RUNS = 5, MAX_FAILS = 3 };

struct commit_state {
	double *v;
	unsigned nv, av;
	unsigned failed;
	int skipped;
	int listed;             /* already in the step order */
	enum pb_verdict verdict;
};

struct pb_engine {
	struct pb_engine_opts o;
	struct commit_state *c;
	size_t *order;
	size_t norder;
	unsigned runs;
	struct pb_engine_result res;
	size_t lo, hi, current;
};

int pb_engine_new(struct pb_engine **out, const struct pb_engine_opts *o)
{
	struct pb_engine *e;

	*out = NULL;
	if (o->n < 2 || !(o->confidence > 0 && o->confidence < 1) ||
	    o->max_runs == 0)
		return -1;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -1;
	e->o = *o;
	e->c = calloc(o->n, sizeof(*e->c));
	e->order = calloc(o->n, sizeof(*e->order));
	if (!e->c || !e->order) {
		pb_engine_free(e);
		return -1;
	}
	e->res.confidence = NAN;
	e->res.good_median = NAN;
	e->res.bad_median = NAN;
	e->lo = 0;
	e->hi = o->n - 1;
	e->current = o->n;
	*out = e;
	return 0;
}

void pb_engine_free(struct pb_engine *e)
{
	if (!e)
		return;
	if (e->c)
		for (size_t i = 0; i < e->o.n; i++)
			free(e->c[i].v);
	free(e->c);
	free(e->order);
	free(e);
}

static void list_commit(struct pb_engine *e, size_t i)
{
	if (!e->c[i].listed) {
		e->c[i].listed = 1;
		e->order[e->norder++] = i;
		if (e->c[i].verdict == PB_V_UNTESTED)
			e->c[i].verdict = PB_V_UNDECIDED;
	}
}

int pb_engine_observe(struct pb_engine *e, size_t i, double value)
{
	struct commit_state *c;

	if (i >= e->o.n || !isfinite(value))
		return -1;
	c = &e->c[i];
	if (c->nv == c->av) {
		unsigned na = c->av ? c->av * 2 : 8;
		double *nv = realloc(c->v, na * sizeof(*nv));
		if (!nv)
			return -1;
		c->v = nv;
		c->av = na;
	}
	c->v[c->nv++] = value;
	e->runs++;
	list_commit(e, i);
	return 0;
}

int pb_engine_run_failed(struct pb_engine *e, size_t i)
{
	if (i >= e->o.n)
		return -1;
	e->c[i].failed++;
	e->runs++;
	list_commit(e, i);
	return 0;
}

int pb_engine_skip(struct pb_engine *e, size_t i)
{
	if (i >= e->o.n)
		return -1;
	e->c[i].skipped = 1;
	list_commit(e, i);
	e->c[i].verdict = PB_V_SKIP;
	return 0;
}

static int unusable(const struct commit_state *c)
{
	return c->skipped || (c->nv == 0 && c->failed >= MAX_FAILS);
}

static double score(const struct pb_engine *e, double v)
{
	return e->o.lower_is_better ? -v : v;
}

static void finish(struct pb_engine *e, enum pb_outcome out, const char *why)
{
	e->res.outcome = out;
	snprintf(e->res.why, sizeof(e->res.why), "%s", why);
}

/* Step 2: decides the mode from the ends; returns 0 when the search goes
 * on. */
static int decide_mode(struct pb_engine *e)
{
	struct commit_state *g = &e->c[0], *b = &e->c[e->o.n - 1];
	double gm = pb_median(g->v, g->nv), bm = pb_median(b->v, b->nv);
	double sd = 1.4826 * fmax(pb_mad(g->v, g->nv), pb_mad(b->v, b->nv));
	double diff = score(e, gm) - score(e, bm);
	double thr = fmax(4 * sd, 0.05 * fabs(gm));
	double pct = gm != 0 ? 100.0 * (bm - gm) / fabs(gm) : 0;
	char why[256];

	e->res.good_median = gm;
	e->res.bad_median = bm;
	if (diff > thr) {
		e->res.mode = PB_MODE_SHIFT;
		g->verdict = PB_V_GOOD;
		b->verdict = PB_V_BAD;
		return 0;
	}
	e->res.mode = PB_MODE_NONE;
	if (-diff > thr)
		snprintf(why, sizeof(why),
			 "the bad end is better than the good end (median %g vs "
			 "%g, %+.1f %%): an improvement, not a regression%s",
			 bm, gm, pct,
			 e->o.lower_is_better ? "" : " (is the metric "
						     "lower-is-better?)");
	else
		snprintf(why, sizeof(why),
			 "no regression: the ends do not differ beyond the "
			 "noise (median %g at good, %g at bad, %+.1f %%)",
			 gm, bm, pct);
	finish(e, PB_OUT_NO_REGRESSION, why);
	return -1;
}

static void bounds(struct pb_engine *e)
{
	size_t hi = e->o.n - 1, lo = 0;

	for (size_t i = 1; i < e->o.n; i++)
		if (e->c[i].verdict == PB_V_BAD) {
			hi = i;
			break;
		}
	for (size_t i = 0; i < hi; i++)
		if (e->c[i].verdict == PB_V_GOOD)
			lo = i;
	e->lo = lo;
	e->hi = hi;
}

/* Advances the state as far as the data allows; sets e->current to the
 * commit that needs a run, or finishes. */
static void advance(struct pb_engine *e)
{
	size_t n = e->o.n, ends[2] = { 0, n - 1 }, mid, pick = n;
	char why[256];

	e->current = n;
	if (e->res.outcome != PB_OUT_RUNNING)
		return;
	for (int k = 0; k < 2; k++)
		if (unusable(&e->c[ends[k]])) {
			e->res.bad_end = ends[k];
			snprintf(why, sizeof(why),
				 "the %s end %s", k ? "bad" : "good",
				 e->c[ends[k]].skipped
					 ? "cannot be built"
					 : "never gave the metric");
			finish(e, PB_OUT_BAD_END, why);
			return;
		}
	if (e->c[0].nv < END_RUNS || e->c[n - 1].nv < END_RUNS) {
		e->current = e->c[0].nv + e->c[0].failed <=
					     e->c[n - 1].nv + e->c[n - 1].failed
				     ? 0
				     : n - 1;
		if (e->c[e->current].nv >= END_RUNS)
			e->current = e->current ? 0 : n - 1;
		return;
	}
	if (e->res.mode == PB_MODE_UNKNOWN && decide_mode(e) < 0)
		return;

	/* A verdict depends only on the commit's own runs and the ends, so
	 * every commit with enough runs is decided here, wherever it lies:
	 * replaying stored runs then rebuilds exactly the state a live
	 * bisection had. */
	for (size_t i = 1; i + 1 < n; i++) {
		struct commit_state *c = &e->c[i];
		if (c->verdict != PB_V_UNDECIDED)
			continue;
		if (unusable(c)) {
			c->verdict = PB_V_SKIP;
		} else if (c->nv >= PROBE_RUNS) {
			double m = pb_median(c->v, c->nv);
			c->verdict = fabs(m - e->res.good_median) <=
						     fabs(m - e->res.bad_median)
					     ? PB_V_GOOD
					     : PB_V_BAD;
		}
	}
	bounds(e);

	/* A probe in progress inside the interval goes first, else the
	 * usable commit nearest the middle. */
	for (size_t i = e->lo + 1; i < e->hi && pick == n; i++)
		if (e->c[i].verdict == PB_V_UNDECIDED)
			pick = i;
	mid = e->lo + (e->hi - e->lo) / 2;
	for (size_t d = 0; pick == n && d <= mid - e->lo; d++) {
		if (mid - d > e->lo && !unusable(&e->c[mid - d]))
			pick = mid - d;
		else if (mid + d > e->lo && mid + d < e->hi &&
			 !unusable(&e->c[mid + d]))
			pick = mid + d;
	}
	if (pick < n) {
		e->current = pick;
		return;
	}
	if (e->hi == e->lo + 1) {
		e->res.culprit = e->hi;
		finish(e, PB_OUT_CULPRIT, "the first bad commit was found");
	} else {
		e->res.range_first = e->lo + 1;
		e->res.range_last = e->hi;
		snprintf(why, sizeof(why),
			 "%zu skipped commit(s) stand between the last good and "
			 "the first bad commit",
			 e->hi - e->lo - 1);
		finish(e, PB_OUT_RANGE, why);
	}
}

int pb_engine_next(struct pb_engine *e, struct pb_action *out)
{
	advance(e);
	if (e->res.outcome == PB_OUT_RUNNING && e->runs >= e->o.max_runs) {
		char why[128];
		snprintf(why, sizeof(why),
			 "the run budget (%u runs) was spent before a culprit "
			 "was found", e->o.max_runs);
		finish(e, PB_OUT_BUDGET, why);
	}
	if (e->res.outcome != PB_OUT_RUNNING) {
		out->kind = PB_ACT_DONE;
		out->commit = 0;
		return 0;
	}
	out->kind = PB_ACT_RUN;
	out->commit = e->current;
	return 0;
}

void pb_engine_result(const struct pb_engine *e, struct pb_engine_result *out)
{
	*out = e->res;
	out->runs = e->runs;
}

void pb_engine_progress(const struct pb_engine *e,
			struct pb_engine_progress *out)
{
	out->lo = e->lo;
	out->hi = e->hi;
	out->runs = e->runs;
	out->runs_wanted = e->current == 0 || e->current == e->o.n - 1
				   ? END_RUNS
				   : PROBE_RUNS;
}

size_t pb_engine_nsteps(const struct pb_engine *e)
{
	return e->norder;
}

void pb_engine_step(const struct pb_engine *e, size_t i,
		    struct pb_engine_step *out)
{
	const struct commit_state *c = &e->c[e->order[i]];

	out->commit = e->order[i];
	out->verdict = c->verdict;
	out->runs = c->nv;
	out->failed_runs = c->failed;
	out->median = pb_median(c->v, c->nv);
	out->slow_fraction = NAN;
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
