/*
 * test_engine.c - unit tests for orchestrator/core/engine.h, with the
 * decision rule of orchestrator/core/simple.c behind it.
 *
 * A small driver plays the caller: it loops pb_engine_next() and answers
 * each PB_ACT_RUN from a synthetic benchmark in which commit i measures
 * `good` (plus a tiny deterministic jitter) when i < culprit and `bad`
 * otherwise.  Some commits can be made unbuildable (pb_engine_skip) or to
 * fail their runs (pb_engine_run_failed).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/core/engine.h"

enum { END_RUNS = 7, PROBE_RUNS = 5, MAX_FAILS = 3 };

enum ev_kind { EV_OBSERVE, EV_FAILED, EV_SKIP };

struct ev {
	enum ev_kind kind;
	size_t commit;
	double value;
};

struct sim {
	/* the benchmark */
	size_t n, culprit;
	double good, bad;            /* values before / from the culprit */
	int lower_is_better;
	unsigned max_runs;
	size_t skip_first, skip_last;  /* unbuildable range, if skip_n */
	int skip_n;
	size_t fail_first, fail_last;  /* runs always fail, if fail_n */
	int fail_n;
	unsigned fail_times;         /* 0: always; else the first k runs */

	/* what happened */
	struct ev *log;
	struct pb_action *acts;      /* acts[k]: next() after k events */
	size_t nlog, alog;
	unsigned *asked;             /* per commit: times it was asked */
	unsigned *fails_done;        /* per commit: failed runs given */
	unsigned *runs_done;         /* per commit: values given */
	int asked_skipped_again;     /* asked for an unbuildable commit twice */
};

static void sim_init(struct sim *s, size_t n, size_t culprit)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
	s->culprit = culprit;
	s->good = 100.0;
	s->bad = 60.0;
	s->max_runs = 500;
}

static void sim_free(struct sim *s)
{
	free(s->log);
	free(s->acts);
	free(s->asked);
	free(s->fails_done);
	free(s->runs_done);
	s->log = NULL;
	s->acts = NULL;
	s->asked = s->fails_done = s->runs_done = NULL;
}

/* Deterministic jitter in [-0.05, +0.05]. */
static double sim_value(const struct sim *s, size_t i, unsigned k)
{
	double base = i < s->culprit ? s->good : s->bad;
	unsigned h = (unsigned)(i * 2654435761u) ^ (k * 40503u);

	return base + 0.01 * (double)(h % 11) - 0.05;
}

static int in_range(size_t i, int on, size_t first, size_t last)
{
	return on && i >= first && i <= last;
}

static void sim_log(struct sim *s, enum ev_kind kind, size_t commit,
		    double value)
{
	if (s->nlog == s->alog) {
		size_t na = s->alog ? s->alog * 2 : 64;
		struct ev *nl = realloc(s->log, na * sizeof(*nl));
		struct pb_action *naa;

		assert_non_null(nl);
		s->log = nl;
		naa = realloc(s->acts, (na + 1) * sizeof(*naa));
		assert_non_null(naa);
		s->acts = naa;
		s->alog = na;
	}
	s->log[s->nlog].kind = kind;
	s->log[s->nlog].commit = commit;
	s->log[s->nlog].value = value;
	s->nlog++;
}

static void opts_for(const struct sim *s, struct pb_engine_opts *o)
{
	struct pb_engine_opts init = PB_ENGINE_OPTS_INIT;

	*o = init;
	o->n = s->n;
	o->lower_is_better = s->lower_is_better;
	o->max_runs = s->max_runs;
	o->seed = 42;
}

/* Drives `e` to PB_ACT_DONE; fails the test if it does not get there. */
static void drive(struct pb_engine *e, struct sim *s)
{
	struct pb_action act;
	size_t iter;

	s->asked = calloc(s->n, sizeof(*s->asked));
	s->fails_done = calloc(s->n, sizeof(*s->fails_done));
	s->runs_done = calloc(s->n, sizeof(*s->runs_done));
	assert_non_null(s->asked);
	assert_non_null(s->fails_done);
	assert_non_null(s->runs_done);
	if (!s->acts) {
		s->acts = malloc(sizeof(*s->acts));
		assert_non_null(s->acts);
	}

	for (iter = 0; iter < 100000; iter++) {
		size_t c;

		assert_int_equal(pb_engine_next(e, &act), 0);
		s->acts[s->nlog] = act;
		if (act.kind == PB_ACT_DONE)
			return;
		assert_int_equal(act.kind, PB_ACT_RUN);
		c = act.commit;
		assert_true(c < s->n);
		s->asked[c]++;
		if (in_range(c, s->skip_n, s->skip_first, s->skip_last)) {
			if (s->asked[c] > 1)
				s->asked_skipped_again = 1;
			assert_int_equal(pb_engine_skip(e, c), 0);
			sim_log(s, EV_SKIP, c, 0);
		} else if (in_range(c, s->fail_n, s->fail_first,
				    s->fail_last) &&
			   (s->fail_times == 0 ||
			    s->fails_done[c] < s->fail_times)) {
			s->fails_done[c]++;
			assert_int_equal(pb_engine_run_failed(e, c), 0);
			sim_log(s, EV_FAILED, c, 0);
		} else {
			double v = sim_value(s, c, s->runs_done[c]++);
			assert_int_equal(pb_engine_observe(e, c, v), 0);
			sim_log(s, EV_OBSERVE, c, v);
		}
	}
	fail_msg("the engine did not finish in %zu steps", iter);
}

/* Runs a whole bisection of `s`; the caller frees the engine. */
static struct pb_engine *run_sim(struct sim *s, struct pb_engine_result *res)
{
	struct pb_engine_opts o;
	struct pb_engine *e = NULL;

	opts_for(s, &o);
	assert_int_equal(pb_engine_new(&e, &o), 0);
	assert_non_null(e);
	drive(e, s);
	pb_engine_result(e, res);
	return e;
}

static void replay_into(struct pb_engine *e, const struct sim *s, size_t k)
{
	for (size_t i = 0; i < k; i++) {
		const struct ev *v = &s->log[i];
		switch (v->kind) {
		case EV_OBSERVE:
			assert_int_equal(pb_engine_observe(e, v->commit,
							   v->value), 0);
			break;
		case EV_FAILED:
			assert_int_equal(pb_engine_run_failed(e, v->commit),
					 0);
			break;
		case EV_SKIP:
			assert_int_equal(pb_engine_skip(e, v->commit), 0);
			break;
		}
	}
}

static int find_step(const struct pb_engine *e, size_t commit,
		     struct pb_engine_step *out)
{
	size_t ns = pb_engine_nsteps(e);

	for (size_t i = 0; i < ns; i++) {
		pb_engine_step(e, i, out);
		if (out->commit == commit)
			return 1;
	}
	return 0;
}

/* Checks a finished bisection of a clean (no skips, no failures) sim. */
static void check_clean_culprit(const struct sim *s,
				const struct pb_engine *e,
				const struct pb_engine_result *res)
{
	size_t ns = pb_engine_nsteps(e), probes = 0, maxprobes = 0;
	unsigned sum = 0;
	struct pb_engine_step st;

	if (res->outcome != PB_OUT_CULPRIT || res->culprit != s->culprit)
		fail_msg("n=%zu culprit=%zu: outcome %d culprit %zu (%s)",
			 s->n, s->culprit, (int)res->outcome, res->culprit,
			 res->why);
	assert_int_equal(res->mode, PB_MODE_SHIFT);
	assert_true(isnan(res->confidence));
	assert_true(fabs(res->good_median - s->good) < 0.1);
	assert_true(fabs(res->bad_median - s->bad) < 0.1);
	assert_true(res->why[0] != '\0');

	/* the ends first, then the probes */
	assert_true(ns >= 2);
	pb_engine_step(e, 0, &st);
	assert_int_equal(st.commit, 0);
	pb_engine_step(e, 1, &st);
	assert_int_equal(st.commit, s->n - 1);
	for (size_t i = 0; i < ns; i++) {
		pb_engine_step(e, i, &st);
		sum += st.runs + st.failed_runs;
		assert_int_equal(st.failed_runs, 0);
		assert_true(isnan(st.slow_fraction));
		assert_false(isnan(st.median));
		if (st.commit == 0 || st.commit == s->n - 1) {
			assert_int_equal(st.runs, END_RUNS);
		} else {
			assert_int_equal(st.runs, PROBE_RUNS);
			probes++;
		}
		if (st.commit < s->culprit)
			assert_int_equal(st.verdict, PB_V_GOOD);
		else
			assert_int_equal(st.verdict, PB_V_BAD);
	}
	assert_int_equal(sum, res->runs);
	assert_int_equal(res->runs, 2 * END_RUNS + PROBE_RUNS * probes);
	/* a binary search: about log2(n) probes */
	for (size_t k = s->n - 1; k > 1; k = (k + 1) / 2)
		maxprobes++;
	if (probes > maxprobes)
		fail_msg("n=%zu culprit=%zu: %zu probes, more than %zu",
			 s->n, s->culprit, probes, maxprobes);
}

/* ---- pb_engine_new ---- */

static void test_engine__new_rejects_bad_opts(void **state)
{
	struct pb_engine_opts o = PB_ENGINE_OPTS_INIT;
	struct pb_engine *e;
	const double bad_conf[] = { 0.0, 1.0, -0.5, 1.5, NAN, INFINITY };

	(void)state;
	for (size_t n = 0; n < 2; n++) {
		o.n = n;
		e = (struct pb_engine *)&o; /* must be reset to NULL */
		assert_int_not_equal(pb_engine_new(&e, &o), 0);
		assert_null(e);
	}
	o.n = 10;
	for (size_t i = 0; i < sizeof(bad_conf) / sizeof(bad_conf[0]); i++) {
		o.confidence = bad_conf[i];
		e = (struct pb_engine *)&o;
		assert_int_not_equal(pb_engine_new(&e, &o), 0);
		assert_null(e);
	}

	/* the smallest valid input */
	o.n = 2;
	o.confidence = 0.5;
	e = NULL;
	assert_int_equal(pb_engine_new(&e, &o), 0);
	assert_non_null(e);
	pb_engine_free(e);
	pb_engine_free(NULL);
}

static void test_engine__initial_state(void **state)
{
	struct pb_engine_opts o = PB_ENGINE_OPTS_INIT;
	struct pb_engine *e = NULL;
	struct pb_engine_result res;
	struct pb_engine_progress pr;
	struct pb_action act;

	(void)state;
	o.n = 10;
	assert_int_equal(pb_engine_new(&e, &o), 0);
	pb_engine_result(e, &res);
	assert_int_equal(res.outcome, PB_OUT_RUNNING);
	assert_int_equal(res.mode, PB_MODE_UNKNOWN);
	assert_int_equal(res.runs, 0);
	assert_true(isnan(res.confidence));
	assert_true(isnan(res.good_median));
	assert_true(isnan(res.bad_median));
	assert_int_equal(pb_engine_nsteps(e), 0);
	assert_int_equal(pb_engine_next(e, &act), 0);
	assert_int_equal(act.kind, PB_ACT_RUN);
	assert_int_equal(act.commit, 0);
	pb_engine_progress(e, &pr);
	assert_int_equal(pr.lo, 0);
	assert_int_equal(pr.hi, 9);
	assert_int_equal(pr.runs, 0);
	assert_int_equal(pr.runs_wanted, END_RUNS);
	/* asking again without feeding anything gives the same answer */
	assert_int_equal(pb_engine_next(e, &act), 0);
	assert_int_equal(act.kind, PB_ACT_RUN);
	assert_int_equal(act.commit, 0);
	pb_engine_free(e);
}

static void test_engine__rejects_bad_input(void **state)
{
	struct pb_engine_opts o = PB_ENGINE_OPTS_INIT;
	struct pb_engine *e = NULL;
	struct pb_engine_result res;

	(void)state;
	o.n = 5;
	assert_int_equal(pb_engine_new(&e, &o), 0);
	assert_int_not_equal(pb_engine_observe(e, 5, 1.0), 0);
	assert_int_not_equal(pb_engine_observe(e, (size_t)-1, 1.0), 0);
	assert_int_not_equal(pb_engine_run_failed(e, 5), 0);
	assert_int_not_equal(pb_engine_skip(e, 5), 0);
	assert_int_not_equal(pb_engine_observe(e, 0, NAN), 0);
	assert_int_not_equal(pb_engine_observe(e, 0, INFINITY), 0);
	assert_int_not_equal(pb_engine_observe(e, 0, -INFINITY), 0);
	pb_engine_result(e, &res);
	assert_int_equal(res.runs, 0);
	assert_int_equal(pb_engine_nsteps(e), 0);
	pb_engine_free(e);
}

/* ---- finding the culprit ---- */

static void test_engine__ends_alternate(void **state)
{
	struct sim s;
	struct pb_engine_result res;
	struct pb_engine *e;

	(void)state;
	sim_init(&s, 60, 30);
	e = run_sim(&s, &res);
	assert_true(s.nlog >= 2 * END_RUNS);
	for (size_t k = 0; k < 2 * END_RUNS; k++)
		assert_int_equal(s.log[k].commit, k % 2 ? s.n - 1 : 0);
	/* the first probe is the middle */
	assert_int_equal(s.log[2 * END_RUNS].commit, 29);
	pb_engine_free(e);
	sim_free(&s);
}

static void test_engine__finds_culprit(void **state)
{
	static const size_t cases[][2] = {
		{ 2, 1 },     { 3, 1 },     { 3, 2 },     { 4, 1 },
		{ 4, 2 },     { 4, 3 },     { 60, 1 },    { 60, 59 },
		{ 60, 30 },   { 60, 17 },   { 60, 42 },   { 1000, 1 },
		{ 1000, 999 }, { 1000, 500 }, { 1000, 499 }, { 1000, 737 },
		{ 1000, 2 },  { 1000, 998 }, { 101, 50 },  { 101, 51 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sim s;
		struct pb_engine_result res;
		struct pb_engine *e;

		sim_init(&s, cases[i][0], cases[i][1]);
		e = run_sim(&s, &res);
		check_clean_culprit(&s, e, &res);
		pb_engine_free(e);
		sim_free(&s);
	}
}

static void test_engine__finds_culprit_exhaustive_small(void **state)
{
	(void)state;
	for (size_t n = 2; n <= 24; n++)
		for (size_t c = 1; c < n; c++) {
			struct sim s;
			struct pb_engine_result res;
			struct pb_engine *e;

			sim_init(&s, n, c);
			e = run_sim(&s, &res);
			check_clean_culprit(&s, e, &res);
			pb_engine_free(e);
			sim_free(&s);
		}
}

static void test_engine__lower_is_better(void **state)
{
	static const size_t cases[][2] = {
		{ 2, 1 }, { 3, 2 }, { 60, 1 }, { 60, 59 }, { 60, 23 },
		{ 1000, 321 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sim s;
		struct pb_engine_result res;
		struct pb_engine *e;

		sim_init(&s, cases[i][0], cases[i][1]);
		s.lower_is_better = 1;
		s.good = 60.0; /* e.g. milliseconds: the regression is up */
		s.bad = 100.0;
		e = run_sim(&s, &res);
		check_clean_culprit(&s, e, &res);
		pb_engine_free(e);
		sim_free(&s);
	}
}

static void test_engine__no_regression(void **state)
{
	struct sim s;
	struct pb_engine_result res;
	struct pb_engine *e;
	struct pb_engine_step st;

	(void)state;
	sim_init(&s, 60, 30);
	s.bad = 100.0; /* all 100 */
	e = run_sim(&s, &res);
	assert_int_equal(res.outcome, PB_OUT_NO_REGRESSION);
	assert_int_equal(res.mode, PB_MODE_NONE);
	assert_int_equal(res.runs, 2 * END_RUNS);
	assert_int_equal(pb_engine_nsteps(e), 2);
	assert_true(fabs(res.good_median - 100.0) < 0.1);
	assert_true(fabs(res.bad_median - 100.0) < 0.1);
	assert_true(isnan(res.confidence));
	assert_true(res.why[0] != '\0');
	for (size_t i = 0; i < 2; i++) {
		pb_engine_step(e, i, &st);
		assert_int_equal(st.runs, END_RUNS);
		assert_int_not_equal(st.verdict, PB_V_GOOD);
		assert_int_not_equal(st.verdict, PB_V_BAD);
	}
	pb_engine_free(e);
	sim_free(&s);

	/* a 2 % change is within the 5 % floor: no regression either */
	sim_init(&s, 60, 30);
	s.bad = 98.0;
	e = run_sim(&s, &res);
	assert_int_equal(res.outcome, PB_OUT_NO_REGRESSION);
	assert_int_equal(res.mode, PB_MODE_NONE);
	pb_engine_free(e);
	sim_free(&s);

	/* the same with lower-is-better */
	sim_init(&s, 60, 30);
	s.lower_is_better = 1;
	s.bad = 100.0;
	e = run_sim(&s, &res);
	assert_int_equal(res.outcome, PB_OUT_NO_REGRESSION);
	assert_int_equal(res.mode, PB_MODE_NONE);
	pb_engine_free(e);
	sim_free(&s);
}

static void test_engine__bad_end_faster(void **state)
{
	struct sim s;
	struct pb_engine_result res;
	struct pb_engine *e;

	(void)state;
	/* higher is better and the bad end is higher: an improvement */
	sim_init(&s, 60, 30);
	s.bad = 150.0;
	e = run_sim(&s, &res);
	assert_int_equal(res.outcome, PB_OUT_NO_REGRESSION);
	assert_int_equal(res.mode, PB_MODE_NONE);
	assert_int_equal(res.runs, 2 * END_RUNS);
	assert_non_null(strstr(res.why, "improvement"));
	pb_engine_free(e);
	sim_free(&s);

	/* lower is better and the bad end is lower */
	sim_init(&s, 60, 30);
	s.lower_is_better = 1;
	s.good = 100.0;
	s.bad = 60.0;
	e = run_sim(&s, &res);
	assert_int_equal(res.outcome, PB_OUT_NO_REGRESSION);
	assert_int_equal(res.mode, PB_MODE_NONE);
	assert_non_null(strstr(res.why, "improvement"));
	pb_engine_free(e);
	sim_free(&s);
}

/* ---- skipped and failing commits ---- */

static void test_engine__skipped_commits(void **state)
{
	struct sim s;
	struct pb_engine_result res;
	struct pb_engine *e;
	struct pb_engine_step st;
	size_t ns, nskipped = 0;

	(void)state;
	/* the middle (24) cannot be built, nor its neighbours */
	sim_init(&s, 50, 40);
	s.skip_n = 1;
	s.skip_first = 20;
	s.skip_last = 25;
	e = run_sim(&s, &res);
	assert_int_equal(res.outcome, PB_OUT_CULPRIT);
	assert_int_equal(res.culprit, 40);
	assert_int_equal(s.asked_skipped_again, 0);
	ns = pb_engine_nsteps(e);
	for (size_t i = 0; i < ns; i++) {
		pb_engine_step(e, i, &st);
		assert_true(isnan(st.slow_fraction));
		if (st.commit >= 20 && st.commit <= 25) {
			assert_int_equal(st.verdict, PB_V_SKIP);
			assert_int_equal(st.runs, 0);
			assert_true(isnan(st.median));
			nskipped++;
		} else if (st.commit < 40) {
			assert_int_equal(st.verdict, PB_V_GOOD);
		} else {
			assert_int_equal(st.verdict, PB_V_BAD);
		}
	}
	/* it was asked for 24 first and had to look around it */
	assert_true(nskipped >= 1);
	assert_int_equal(s.log[2 * END_RUNS].commit, 24);
	assert_int_equal(s.log[2 * END_RUNS].kind, EV_SKIP);
	/* skips are not runs */
	assert_int_equal(s.asked[24], 1);
	pb_engine_free(e);
	sim_free(&s);
}

static void test_engine__skipped_range(void **state)
{
	/* every culprit from 20 to 26 hides behind 20..25: 19 is the last
	 * good commit, 26 the first bad one, so the answer is 20..26 */
	for (size_t culprit = 20; culprit <= 26; culprit++) {
		struct sim s;
		struct pb_engine_result res;
		struct pb_engine *e;
		struct pb_engine_step st;

		(void)state;
		sim_init(&s, 50, culprit);
		s.skip_n = 1;
		s.skip_first = 20;
		s.skip_last = 25;
		e = run_sim(&s, &res);
		if (res.outcome != PB_OUT_RANGE)
			fail_msg("culprit %zu: outcome %d (%s)", culprit,
				 (int)res.outcome, res.why);
		assert_int_equal(res.range_first, 20);
		assert_int_equal(res.range_last, 26);
		assert_int_equal(res.mode, PB_MODE_SHIFT);
		assert_true(res.why[0] != '\0');
		assert_int_equal(s.asked_skipped_again, 0);
		for (size_t c = 20; c <= 25; c++) {
			assert_true(find_step(e, c, &st));
			assert_int_equal(st.verdict, PB_V_SKIP);
		}
		assert_true(find_step(e, 19, &st));
		assert_int_equal(st.verdict, PB_V_GOOD);
		assert_true(find_step(e, 26, &st));
		assert_int_equal(st.verdict, PB_V_BAD);
		pb_engine_free(e);
		sim_free(&s);
	}

	/* just outside the hidden range the culprit is found */
	for (size_t culprit = 19; culprit <= 27; culprit += 8) {
		struct sim s;
		struct pb_engine_result res;
		struct pb_engine *e;

		sim_init(&s, 50, culprit);
		s.skip_n = 1;
		s.skip_first = 20;
		s.skip_last = 25;
		e = run_sim(&s, &res);
		assert_int_equal(res.outcome, PB_OUT_CULPRIT);
		assert_int_equal(res.culprit, culprit);
		pb_engine_free(e);
		sim_free(&s);
	}
}

static void test_engine__all_inner_skipped(void **state)
{
	struct sim s;
	struct pb_engine_result res;
	struct pb_engine *e;

	(void)state;
	sim_init(&s, 6, 3);
	s.skip_n = 1;
	s.skip_first = 1;
	s.skip_last = 4;
	e = run_sim(&s, &res);
	assert_int_equal(res.outcome, PB_OUT_RANGE);
	assert_int_equal(res.range_first, 1);
	assert_int_equal(res.range_last, 5);
	assert_int_equal(res.runs, 2 * END_RUNS);
	assert_int_equal(pb_engine_nsteps(e), 6);
	pb_engine_free(e);
	sim_free(&s);
}

static void test_engine__failed_only_commit_marked_skip(void **state)
{
	struct pb_engine_opts o = PB_ENGINE_OPTS_INIT;
	struct pb_engine *e = NULL;
	struct pb_action act;
	struct pb_engine_step st;
	struct pb_engine_result res;

	(void)state;
	o.n = 50;
	assert_int_equal(pb_engine_new(&e, &o), 0);
	for (unsigned k = 0; k < END_RUNS; k++) {
		assert_int_equal(pb_engine_observe(e, 0, 100.0 + k * 0.01), 0);
		assert_int_equal(pb_engine_observe(e, 49, 60.0 + k * 0.01), 0);
	}
	assert_int_equal(pb_engine_next(e, &act), 0);
	assert_int_equal(act.kind, PB_ACT_RUN);
	assert_int_equal(act.commit, 24);
	for (unsigned k = 0; k < MAX_FAILS; k++) {
		assert_int_equal(pb_engine_next(e, &act), 0);
		assert_int_equal(act.kind, PB_ACT_RUN);
		assert_int_equal(act.commit, 24);
		assert_int_equal(pb_engine_run_failed(e, 24), 0);
	}
	assert_int_equal(pb_engine_next(e, &act), 0);
	assert_true(find_step(e, 24, &st));
	assert_int_equal(st.verdict, PB_V_SKIP);
	assert_int_equal(st.failed_runs, MAX_FAILS);
	assert_int_equal(st.runs, 0);
	assert_true(isnan(st.median));
	pb_engine_result(e, &res);
	assert_int_equal(res.runs, 2 * END_RUNS + MAX_FAILS);
	/* the search moves on to a neighbour of the unusable commit */
	assert_int_equal(act.kind, PB_ACT_RUN);
	assert_int_not_equal(act.commit, 24);
	pb_engine_free(e);
}

static void test_engine__some_failed_runs(void **state)
{
	struct sim s;
	struct pb_engine_result res;
	struct pb_engine *e;
	struct pb_engine_step st;

	(void)state;
	/* the first two runs of every inner commit fail, then they work */
	sim_init(&s, 60, 17);
	s.fail_n = 1;
	s.fail_first = 1;
	s.fail_last = 58;
	s.fail_times = MAX_FAILS - 1;
	e = run_sim(&s, &res);
	assert_int_equal(res.outcome, PB_OUT_CULPRIT);
	assert_int_equal(res.culprit, 17);
	for (size_t i = 2; i < pb_engine_nsteps(e); i++) {
		pb_engine_step(e, i, &st);
		assert_int_equal(st.failed_runs, MAX_FAILS - 1);
		assert_int_equal(st.runs, PROBE_RUNS);
		assert_int_equal(st.verdict,
				 st.commit < 17 ? PB_V_GOOD : PB_V_BAD);
	}
	/* failed runs count towards the runs */
	assert_int_equal(res.runs, 2 * END_RUNS + (pb_engine_nsteps(e) - 2) *
				   (PROBE_RUNS + MAX_FAILS - 1));
	pb_engine_free(e);
	sim_free(&s);
}

/* ---- unusable ends ---- */

static void test_engine__end_runs_fail(void **state)
{
	for (int which = 0; which < 2; which++) {
		struct sim s;
		struct pb_engine_result res;
		struct pb_engine *e;
		struct pb_engine_step st;
		size_t end;

		(void)state;
		sim_init(&s, 60, 30);
		end = which ? s.n - 1 : 0;
		s.fail_n = 1;
		s.fail_first = s.fail_last = end;
		e = run_sim(&s, &res);
		assert_int_equal(res.outcome, PB_OUT_BAD_END);
		assert_int_equal(res.bad_end, end);
		assert_non_null(strstr(res.why, which ? "bad" : "good"));
		assert_true(find_step(e, end, &st));
		assert_int_equal(st.failed_runs, MAX_FAILS);
		assert_int_equal(st.runs, 0);
		assert_int_equal(s.fails_done[end], MAX_FAILS);
		/* nothing inside was run */
		for (size_t i = 1; i + 1 < s.n; i++)
			assert_int_equal(s.asked[i], 0);
		pb_engine_free(e);
		sim_free(&s);
	}
}

static void test_engine__end_skipped(void **state)
{
	for (int which = 0; which < 2; which++) {
		struct sim s;
		struct pb_engine_result res;
		struct pb_engine *e;
		struct pb_engine_step st;
		size_t end;

		(void)state;
		sim_init(&s, 60, 30);
		end = which ? s.n - 1 : 0;
		s.skip_n = 1;
		s.skip_first = s.skip_last = end;
		e = run_sim(&s, &res);
		assert_int_equal(res.outcome, PB_OUT_BAD_END);
		assert_int_equal(res.bad_end, end);
		assert_non_null(strstr(res.why, "built"));
		assert_true(find_step(e, end, &st));
		assert_int_equal(st.verdict, PB_V_SKIP);
		assert_int_equal(s.asked[end], 1);
		pb_engine_free(e);
		sim_free(&s);
	}

	/* a skip fed before anything else ends it at once */
	{
		struct pb_engine_opts o = PB_ENGINE_OPTS_INIT;
		struct pb_engine *e = NULL;
		struct pb_action act;
		struct pb_engine_result res;

		o.n = 2;
		assert_int_equal(pb_engine_new(&e, &o), 0);
		assert_int_equal(pb_engine_skip(e, 1), 0);
		assert_int_equal(pb_engine_next(e, &act), 0);
		assert_int_equal(act.kind, PB_ACT_DONE);
		pb_engine_result(e, &res);
		assert_int_equal(res.outcome, PB_OUT_BAD_END);
		assert_int_equal(res.bad_end, 1);
		assert_int_equal(res.runs, 0);
		pb_engine_free(e);
	}
}

/* ---- budget ---- */

static void test_engine__budget(void **state)
{
	struct sim s;
	struct pb_engine_result res;
	struct pb_engine *e;
	unsigned need;

	(void)state;
	sim_init(&s, 60, 30);
	s.max_runs = 10;
	e = run_sim(&s, &res);
	assert_int_equal(res.outcome, PB_OUT_BUDGET);
	assert_int_equal(res.runs, 10);
	assert_int_equal(s.nlog, 10);
	assert_true(res.why[0] != '\0');
	pb_engine_free(e);
	sim_free(&s);

	/* exactly the runs a bisection needs is enough, one fewer is not */
	sim_init(&s, 1000, 737);
	e = run_sim(&s, &res);
	assert_int_equal(res.outcome, PB_OUT_CULPRIT);
	need = res.runs;
	pb_engine_free(e);
	sim_free(&s);

	sim_init(&s, 1000, 737);
	s.max_runs = need;
	e = run_sim(&s, &res);
	assert_int_equal(res.outcome, PB_OUT_CULPRIT);
	assert_int_equal(res.culprit, 737);
	assert_int_equal(res.runs, need);
	pb_engine_free(e);
	sim_free(&s);

	sim_init(&s, 1000, 737);
	s.max_runs = need - 1;
	e = run_sim(&s, &res);
	assert_int_equal(res.outcome, PB_OUT_BUDGET);
	assert_int_equal(res.runs, need - 1);
	pb_engine_free(e);
	sim_free(&s);

	/* failed runs are spent from the budget too */
	sim_init(&s, 60, 30);
	s.max_runs = 5;
	s.fail_n = 1;
	s.fail_first = 0;
	s.fail_last = 59;
	s.fail_times = 1;
	e = run_sim(&s, &res);
	assert_int_equal(res.outcome, PB_OUT_BUDGET);
	assert_int_equal(res.runs, 5);
	pb_engine_free(e);
	sim_free(&s);
}

/* ---- no made-up numbers ---- */

static void test_engine__confidence_is_nan(void **state)
{
	struct sim s;
	struct pb_engine_result res;
	struct pb_engine *e;
	struct pb_engine_step st;

	(void)state;
	sim_init(&s, 60, 42);
	e = run_sim(&s, &res);
	assert_int_equal(res.outcome, PB_OUT_CULPRIT);
	assert_true(isnan(res.confidence));
	assert_true(pb_engine_nsteps(e) > 2);
	for (size_t i = 0; i < pb_engine_nsteps(e); i++) {
		pb_engine_step(e, i, &st);
		assert_true(isnan(st.slow_fraction));
	}
	pb_engine_free(e);
	sim_free(&s);
}

/* ---- replay and determinism ---- */

static void check_replay(struct sim *s)
{
	struct pb_engine_opts o;
	struct pb_engine_result res, res2;
	struct pb_engine *e;

	e = run_sim(s, &res);
	opts_for(s, &o);
	/* for every prefix of the observations, a fresh engine fed that
	 * prefix asks for the same thing the live one did */
	for (size_t k = 0; k <= s->nlog; k++) {
		struct pb_engine *f = NULL;
		struct pb_action act;

		assert_int_equal(pb_engine_new(&f, &o), 0);
		replay_into(f, s, k);
		assert_int_equal(pb_engine_next(f, &act), 0);
		if (act.kind != s->acts[k].kind ||
		    (act.kind == PB_ACT_RUN &&
		     act.commit != s->acts[k].commit))
			fail_msg("after %zu events: replay says %d/%zu, live "
				 "said %d/%zu",
				 k, (int)act.kind, act.commit,
				 (int)s->acts[k].kind, s->acts[k].commit);
		if (k == s->nlog) {
			pb_engine_result(f, &res2);
			assert_int_equal(res2.outcome, res.outcome);
			assert_int_equal(res2.mode, res.mode);
			assert_int_equal(res2.culprit, res.culprit);
			assert_int_equal(res2.range_first, res.range_first);
			assert_int_equal(res2.range_last, res.range_last);
			assert_int_equal(res2.runs, res.runs);
			assert_true(res2.good_median == res.good_median);
			assert_true(res2.bad_median == res.bad_median);
			assert_int_equal(pb_engine_nsteps(f),
					 pb_engine_nsteps(e));
			for (size_t i = 0; i < pb_engine_nsteps(e); i++) {
				struct pb_engine_step a, b;
				pb_engine_step(e, i, &a);
				pb_engine_step(f, i, &b);
				assert_int_equal(a.commit, b.commit);
				assert_int_equal(a.runs, b.runs);
				assert_int_equal(a.failed_runs, b.failed_runs);
				assert_int_equal(a.verdict, b.verdict);
			}
		}
		pb_engine_free(f);
	}

	/* replaying while asking next() after every event, as the live
	 * driver did, gives exactly the same steps, verdicts included */
	{
		struct pb_engine *f = NULL;
		struct pb_action act;

		assert_int_equal(pb_engine_new(&f, &o), 0);
		for (size_t k = 0; k < s->nlog; k++) {
			assert_int_equal(pb_engine_next(f, &act), 0);
			switch (s->log[k].kind) {
			case EV_OBSERVE:
				pb_engine_observe(f, s->log[k].commit,
						  s->log[k].value);
				break;
			case EV_FAILED:
				pb_engine_run_failed(f, s->log[k].commit);
				break;
			case EV_SKIP:
				pb_engine_skip(f, s->log[k].commit);
				break;
			}
		}
		assert_int_equal(pb_engine_next(f, &act), 0);
		assert_int_equal(act.kind, PB_ACT_DONE);
		for (size_t i = 0; i < pb_engine_nsteps(e); i++) {
			struct pb_engine_step a, b;
			pb_engine_step(e, i, &a);
			pb_engine_step(f, i, &b);
			assert_int_equal(a.commit, b.commit);
			assert_int_equal(a.verdict, b.verdict);
		}
		pb_engine_free(f);
	}
	pb_engine_free(e);
}

static void test_engine__replay(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s, 60, 17);
	check_replay(&s);
	sim_free(&s);

	sim_init(&s, 60, 45);
	s.lower_is_better = 1;
	s.good = 60.0;
	s.bad = 100.0;
	check_replay(&s);
	sim_free(&s);

	/* with unbuildable commits and failed runs in the log */
	sim_init(&s, 50, 23);
	s.skip_n = 1;
	s.skip_first = 20;
	s.skip_last = 25;
	s.fail_n = 1;
	s.fail_first = 1;
	s.fail_last = 48;
	s.fail_times = 1;
	check_replay(&s);
	sim_free(&s);

	/* a bisection cut short by the budget */
	sim_init(&s, 1000, 400);
	s.max_runs = 30;
	check_replay(&s);
	sim_free(&s);
}

static void test_engine__deterministic(void **state)
{
	struct sim a, b;
	struct pb_engine_result ra, rb;
	struct pb_engine *ea, *eb;

	(void)state;
	sim_init(&a, 1000, 613);
	sim_init(&b, 1000, 613);
	ea = run_sim(&a, &ra);
	eb = run_sim(&b, &rb);
	assert_int_equal(a.nlog, b.nlog);
	for (size_t k = 0; k < a.nlog; k++) {
		assert_int_equal(a.log[k].commit, b.log[k].commit);
		assert_int_equal(a.log[k].kind, b.log[k].kind);
	}
	assert_int_equal(ra.culprit, rb.culprit);
	assert_string_equal(ra.why, rb.why);
	pb_engine_free(ea);
	pb_engine_free(eb);
	sim_free(&a);
	sim_free(&b);
}

static void test_engine__done_is_final(void **state)
{
	struct sim s;
	struct pb_engine_result res, res2;
	struct pb_engine *e;
	struct pb_action act;

	(void)state;
	sim_init(&s, 60, 30);
	e = run_sim(&s, &res);
	assert_int_equal(res.outcome, PB_OUT_CULPRIT);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pb_engine_next(e, &act), 0);
		assert_int_equal(act.kind, PB_ACT_DONE);
	}
	pb_engine_result(e, &res2);
	assert_int_equal(res2.outcome, PB_OUT_CULPRIT);
	assert_int_equal(res2.culprit, 30);
	pb_engine_free(e);
	sim_free(&s);
}

static void test_engine__progress(void **state)
{
	struct pb_engine_opts o = PB_ENGINE_OPTS_INIT;
	struct pb_engine *e = NULL;
	struct pb_action act;
	struct pb_engine_progress pr;

	(void)state;
	o.n = 60;
	assert_int_equal(pb_engine_new(&e, &o), 0);
	for (unsigned k = 0; k < END_RUNS; k++) {
		assert_int_equal(pb_engine_observe(e, 0, 100.0), 0);
		assert_int_equal(pb_engine_observe(e, 59, 60.0), 0);
	}
	assert_int_equal(pb_engine_next(e, &act), 0);
	assert_int_equal(act.commit, 29);
	pb_engine_progress(e, &pr);
	assert_int_equal(pr.lo, 0);
	assert_int_equal(pr.hi, 59);
	assert_int_equal(pr.runs, 2 * END_RUNS);
	assert_int_equal(pr.runs_wanted, PROBE_RUNS);
	for (unsigned k = 0; k < PROBE_RUNS; k++)
		assert_int_equal(pb_engine_observe(e, 29, 100.0), 0);
	assert_int_equal(pb_engine_next(e, &act), 0);
	assert_int_equal(act.kind, PB_ACT_RUN);
	assert_int_equal(act.commit, 44);
	pb_engine_progress(e, &pr);
	assert_int_equal(pr.lo, 29);
	assert_int_equal(pr.hi, 59);
	pb_engine_free(e);
}

static void test_engine__names(void **state)
{
	(void)state;
	assert_string_equal(pb_verdict_name(PB_V_GOOD), "good");
	assert_string_equal(pb_verdict_name(PB_V_BAD), "bad");
	assert_string_equal(pb_verdict_name(PB_V_SKIP), "skip");
	assert_string_equal(pb_verdict_name(PB_V_UNDECIDED), "undecided");
	assert_string_equal(pb_verdict_name(PB_V_UNTESTED), "undecided");
	assert_string_equal(pb_mode_name(PB_MODE_NONE), "none");
	assert_string_equal(pb_mode_name(PB_MODE_SHIFT), "shift");
	assert_string_equal(pb_mode_name(PB_MODE_BIMODAL), "bimodal");
	assert_null(pb_mode_name(PB_MODE_UNKNOWN));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine__new_rejects_bad_opts),
		cmocka_unit_test(test_engine__initial_state),
		cmocka_unit_test(test_engine__rejects_bad_input),
		cmocka_unit_test(test_engine__ends_alternate),
		cmocka_unit_test(test_engine__finds_culprit),
		cmocka_unit_test(test_engine__finds_culprit_exhaustive_small),
		cmocka_unit_test(test_engine__lower_is_better),
		cmocka_unit_test(test_engine__no_regression),
		cmocka_unit_test(test_engine__bad_end_faster),
		cmocka_unit_test(test_engine__skipped_commits),
		cmocka_unit_test(test_engine__skipped_range),
		cmocka_unit_test(test_engine__all_inner_skipped),
		cmocka_unit_test(test_engine__failed_only_commit_marked_skip),
		cmocka_unit_test(test_engine__some_failed_runs),
		cmocka_unit_test(test_engine__end_runs_fail),
		cmocka_unit_test(test_engine__end_skipped),
		cmocka_unit_test(test_engine__budget),
		cmocka_unit_test(test_engine__confidence_is_nan),
		cmocka_unit_test(test_engine__replay),
		cmocka_unit_test(test_engine__deterministic),
		cmocka_unit_test(test_engine__done_is_final),
		cmocka_unit_test(test_engine__progress),
		cmocka_unit_test(test_engine__names),
	};

	return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
