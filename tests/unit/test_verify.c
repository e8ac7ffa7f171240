/*
 * test_verify.c - unit tests for orchestrator/core/verify.h: the ABBA
 * order and its pairs, the decisions on sequences whose answer is known,
 * max_pairs, refused arguments, the effect and its Wilcoxon interval,
 * and a small simulation with a fixed seed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "orchestrator/core/rng.h"
#include "orchestrator/core/verify.h"

#define P PB_VERIFY_PARENT
#define C PB_VERIFY_CULPRIT

static void expect_near(double got, double want, double tol, const char *what)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("%s: got %.17g, want %.17g (+- %g)", what, got, want,
			 tol);
}

static struct pb_verify *make(enum pb_verify_kind kind, unsigned max_pairs,
			      double alpha)
{
	struct pb_verify_opts o = PB_VERIFY_OPTS_INIT;
	struct pb_verify *v;

	o.kind = kind;
	o.max_pairs = max_pairs;
	o.alpha = alpha;
	if (kind == PB_VERIFY_BIMODAL) {
		o.q0 = 0;
		o.q1 = 0.5;
	}
	assert_int_equal(pb_verify_new(&v, &o), 0);
	assert_non_null(v);
	return v;
}

/* Runs lane 0 until decided (or `limit` runs): each run's value comes
 * from parent_value / culprit_value by the pair index. */
typedef double (*value_fn)(unsigned pair, int culprit);

static unsigned drive(struct pb_verify *v, value_fn f, unsigned limit)
{
	unsigned runs = 0;

	while (pb_verify_status(v) == PB_VERIFY_RUNNING && runs < limit) {
		enum pb_verify_side side = pb_verify_next(v, 0);

		assert_int_not_equal(side, PB_VERIFY_NONE);
		assert_int_equal(pb_verify_add(v, 0, side,
					       f(runs / 2, side == C), 0), 0);
		runs++;
	}
	return runs;
}

static void test_verify__abba_order(void **state)
{
	static const enum pb_verify_side want[12] = {
		P, C, C, P, P, C, C, P, P, C, C, P
	};
	struct pb_verify *v = make(PB_VERIFY_SHIFT, 0, 0);
	struct pb_verify_state st;

	(void)state;
	for (int i = 0; i < 12; i++) {
		assert_int_equal(pb_verify_next(v, 0), want[i]);
		/* asking again without adding gives the same side */
		assert_int_equal(pb_verify_next(v, 0), want[i]);
		/* the other side is refused */
		assert_int_equal(pb_verify_add(v, 0, want[i] == P ? C : P, 1.0,
					       0), PB_EINVAL);
		assert_int_equal(pb_verify_add(v, 0, want[i],
					       100.0 + (i % 3), 0), 0);
	}
	pb_verify_state(v, &st);
	assert_int_equal(st.runs, 12);
	assert_int_equal(st.pairs, 6);
	pb_verify_free(v);
}

/* The pairs are neighbours: with a metric that only drifts (each run
 * slower than the one before), the differences alternate in sign and the
 * effect of six pairs is 0. */
static void test_verify__pairs_cancel_drift(void **state)
{
	struct pb_verify_opts o = PB_VERIFY_OPTS_INIT;
	struct pb_verify *v;
	struct pb_verify_state st;
	unsigned run = 0;

	(void)state;
	o.beta = 1e-12;  /* no futility stop before six pairs */
	assert_int_equal(pb_verify_new(&v, &o), 0);
	for (; run < 12; run++) {
		enum pb_verify_side side = pb_verify_next(v, 0);

		assert_int_equal(pb_verify_add(v, 0, side,
					       100.0 * pow(0.99, run), 0), 0);
	}
	pb_verify_state(v, &st);
	assert_int_equal(st.pairs, 6);
	expect_near(st.effect, 0, 1e-12, "drift's effect");
	assert_true(st.lo < 0 && st.hi > 0);
	pb_verify_free(v);
}

static double clear_slowdown(unsigned pair, int culprit)
{
	(void)pair;
	return culprit ? 80.0 : 100.0;   /* throughput: 25 % slower */
}

static void test_verify__confirms_clear_slowdown(void **state)
{
	struct pb_verify *v = make(PB_VERIFY_SHIFT, 0, 0);
	struct pb_verify_state st;

	(void)state;
	drive(v, clear_slowdown, 1000);
	pb_verify_state(v, &st);
	assert_int_equal(st.status, PB_VERIFY_CONFIRMED);
	assert_int_equal(st.stop, PB_VERIFY_STOP_EVIDENCE);
	/* 1.85^8 = 137 > 1/0.01; the first pair stakes less (no scale yet) */
	assert_in_range(st.pairs, 8, 9);
	assert_true(st.p <= 0.01);
	assert_true(st.evidence >= 100);
	expect_near(st.p, 1 / st.evidence, 1e-12, "p = 1 / evidence");
	expect_near(st.effect, 0.25, 1e-9, "effect");
	expect_near(st.lo, 0.25, 1e-9, "lo");
	expect_near(st.hi, 0.25, 1e-9, "hi");
	/* decided: nothing more to run, late runs ignored */
	assert_int_equal(pb_verify_next(v, 0), PB_VERIFY_NONE);
	assert_int_equal(pb_verify_add(v, 0, P, 1.0, 0), 0);
	pb_verify_state(v, &st);
	assert_int_equal(st.runs, 2 * st.pairs);
	pb_verify_free(v);
}

static double clear_slowdown_time(unsigned pair, int culprit)
{
	(void)pair;
	return culprit ? 1.25 : 1.0;     /* seconds: 25 % slower */
}

static void test_verify__lower_is_better(void **state)
{
	struct pb_verify_opts o = PB_VERIFY_OPTS_INIT;
	struct pb_verify *v;
	struct pb_verify_state st;

	(void)state;
	o.lower_is_better = 1;
	assert_int_equal(pb_verify_new(&v, &o), 0);
	drive(v, clear_slowdown_time, 1000);
	pb_verify_state(v, &st);
	assert_int_equal(st.status, PB_VERIFY_CONFIRMED);
	expect_near(st.effect, 0.25, 1e-9, "effect");
	pb_verify_free(v);

	/* the same runs read as higher-is-better: the culprit is faster */
	o.lower_is_better = 0;
	assert_int_equal(pb_verify_new(&v, &o), 0);
	drive(v, clear_slowdown_time, 1000);
	pb_verify_state(v, &st);
	assert_int_equal(st.status, PB_VERIFY_REFUTED);
	assert_int_equal(st.stop, PB_VERIFY_STOP_FUTILITY);
	expect_near(st.effect, 1 / 1.25 - 1, 1e-9, "effect");
	pb_verify_free(v);
}

static double same_commit(unsigned pair, int culprit)
{
	/* a little deterministic noise, the same for both sides */
	(void)culprit;
	return 100.0 * (1 + 0.002 * ((pair * 7) % 5));
}

static double tiny_jitter(unsigned pair, int culprit)
{
	return 100.0 * (culprit ? 1 + 0.001 * (pair % 2 ? 1 : -1) : 1);
}

static void test_verify__refutes_no_slowdown(void **state)
{
	struct pb_verify *v = make(PB_VERIFY_SHIFT, 0, 0);
	struct pb_verify_state st;

	(void)state;
	drive(v, same_commit, 1000);
	pb_verify_state(v, &st);
	assert_int_equal(st.status, PB_VERIFY_REFUTED);
	assert_int_equal(st.stop, PB_VERIFY_STOP_FUTILITY);
	assert_true(st.pairs <= 10);
	assert_true(st.futility >= 20);
	assert_true(st.p > 0.01);
	pb_verify_free(v);

	v = make(PB_VERIFY_SHIFT, 0, 0);
	drive(v, tiny_jitter, 1000);
	pb_verify_state(v, &st);
	assert_int_equal(st.status, PB_VERIFY_REFUTED);
	assert_int_equal(st.stop, PB_VERIFY_STOP_FUTILITY);
	assert_true(st.pairs <= 10);
	pb_verify_free(v);
}

/* A slowdown of 2 %, below min_effect 3 %, in no noise: not confirmed
 * quickly, and the futility bound does not fire either (the culprit is
 * slower); with 30 pairs at most it ends one way or the other. */
static double small_slowdown(unsigned pair, int culprit)
{
	return (culprit ? 100.0 / 1.02 : 100.0) * (1 + 0.03 * ((pair % 3) - 1));
}

/* One clear pair, then equal ones. */
static double one_then_equal(unsigned pair, int culprit)
{
	return pair == 0 && culprit ? 80.0 : 100.0;
}

/* The culprit faster in the first pair, then clearly slower. */
static double faster_first(unsigned pair, int culprit)
{
	if (!culprit)
		return 100.0;
	return pair == 0 ? 120.0 : 80.0;
}

static void test_verify__max_pairs_honoured(void **state)
{
	struct pb_verify_opts o = PB_VERIFY_OPTS_INIT;
	struct pb_verify *v;
	struct pb_verify_state st;

	(void)state;
	/* two pairs at alpha 0.5: the first gains (E 1.37), the second
	 * nothing: stopped by max_pairs */
	o.max_pairs = 2;
	o.alpha = 0.5;
	assert_int_equal(pb_verify_new(&v, &o), 0);
	drive(v, one_then_equal, 1000);
	pb_verify_state(v, &st);
	assert_int_equal(st.status, PB_VERIFY_REFUTED);
	assert_int_equal(st.stop, PB_VERIFY_STOP_MAX_PAIRS);
	assert_int_equal(st.pairs, 2);
	assert_int_equal(pb_verify_next(v, 0), PB_VERIFY_NONE);
	pb_verify_free(v);

	/* never more than max_pairs, whatever the runs */
	for (unsigned mp = 7; mp <= 40; mp += 3) {
		v = make(PB_VERIFY_SHIFT, mp, 0.05);
		drive(v, small_slowdown, 1000);
		pb_verify_state(v, &st);
		assert_true(st.pairs <= mp);
		assert_int_not_equal(st.status, PB_VERIFY_RUNNING);
		assert_int_equal(pb_verify_next(v, 0), PB_VERIFY_NONE);
		pb_verify_free(v);
	}

	/* 9 pairs at alpha 0.01: a first pair against the culprit leaves
	 * too few to confirm with (0.63 * 1.85^8 < 100) */
	v = make(PB_VERIFY_SHIFT, 9, 0.01);
	drive(v, faster_first, 1000);
	pb_verify_state(v, &st);
	assert_int_equal(st.status, PB_VERIFY_REFUTED);
	assert_int_equal(st.stop, PB_VERIFY_STOP_HOPELESS);
	assert_int_equal(st.pairs, 1);
	pb_verify_free(v);
	/* ... and with 8 the second pair confirms nothing either; the
	 * clear slowdown alone reaches 1/alpha in 8 pairs */
	v = make(PB_VERIFY_SHIFT, 8, 0.01);
	drive(v, clear_slowdown, 1000);
	assert_int_equal(pb_verify_status(v), PB_VERIFY_CONFIRMED);
	pb_verify_free(v);

	/* too few pairs to ever confirm: refused */
	o = (struct pb_verify_opts)PB_VERIFY_OPTS_INIT;
	o.max_pairs = 7;
	assert_int_equal(pb_verify_new(&v, &o), PB_EINVAL);
	o.alpha = 0.05;
	o.max_pairs = 4;
	assert_int_equal(pb_verify_new(&v, &o), PB_EINVAL);
	o.max_pairs = 5;
	assert_int_equal(pb_verify_new(&v, &o), 0);
	pb_verify_free(v);
}

static void test_verify__lanes(void **state)
{
	struct pb_verify_opts o = PB_VERIFY_OPTS_INIT;
	struct pb_verify *v;
	struct pb_verify_state st;

	(void)state;
	o.lanes = 3;
	o.max_pairs = 4;
	o.alpha = 0.2;
	assert_int_equal(pb_verify_new(&v, &o), 0);
	/* a lane holds a pair as soon as it is told what to run */
	assert_int_equal(pb_verify_next(v, 0), P);
	assert_int_equal(pb_verify_next(v, 1), P);
	assert_int_equal(pb_verify_next(v, 3), PB_VERIFY_NONE);
	assert_int_equal(pb_verify_add(v, 3, P, 1.0, 0), PB_EINVAL);
	/* the lanes interleave; each pairs its own runs (two machines
	 * with different speeds, the culprit 25 % slower on both) */
	assert_int_equal(pb_verify_add(v, 0, P, 100.0, 0), 0);
	assert_int_equal(pb_verify_add(v, 1, P, 50.0, 0), 0);
	assert_int_equal(pb_verify_next(v, 1), C);
	assert_int_equal(pb_verify_add(v, 1, C, 40.0, 0), 0);
	assert_int_equal(pb_verify_next(v, 1), C);   /* lane 1's 2nd pair */
	assert_int_equal(pb_verify_next(v, 0), C);
	assert_int_equal(pb_verify_add(v, 0, C, 80.0, 0), 0);
	pb_verify_state(v, &st);
	assert_int_equal(st.pairs, 2);
	assert_int_equal(st.runs, 4);
	expect_near(st.effect, 0.25, 1e-9, "pairs within lanes");
	assert_int_equal(st.status, PB_VERIFY_RUNNING);
	/* two pairs done, lanes 0 and 1 hold the other two */
	assert_int_equal(pb_verify_next(v, 0), C);
	assert_int_equal(pb_verify_next(v, 2), PB_VERIFY_NONE);
	/* lane 1 starts its pair, then gives it up: forgotten */
	assert_int_equal(pb_verify_add(v, 1, C, 40.0, 0), 0);
	pb_verify_discard(v, 1);
	pb_verify_state(v, &st);
	assert_int_equal(st.runs, 4);
	/* the freed pair goes to lane 2; lane 1 has none left */
	assert_int_equal(pb_verify_next(v, 2), P);
	assert_int_equal(pb_verify_next(v, 1), PB_VERIFY_NONE);
	assert_int_equal(pb_verify_add(v, 1, C, 40.0, 0), PB_EINVAL);
	assert_int_equal(pb_verify_add(v, 2, P, 200.0, 0), 0);
	assert_int_equal(pb_verify_add(v, 2, C, 160.0, 0), 0);
	assert_int_equal(pb_verify_status(v), PB_VERIFY_RUNNING);
	assert_int_equal(pb_verify_add(v, 0, C, 80.0, 0), 0);
	assert_int_equal(pb_verify_add(v, 0, P, 100.0, 0), 0);
	pb_verify_state(v, &st);
	assert_int_equal(st.pairs, 4);
	assert_int_equal(st.status, PB_VERIFY_CONFIRMED);
	assert_true(st.p <= 0.2);
	pb_verify_discard(v, 7);  /* out of range: nothing */
	pb_verify_free(v);
}

static void test_verify__bad_options(void **state)
{
	struct pb_verify *v = (struct pb_verify *)1;
	struct {
		const char *what;
		struct pb_verify_opts o;
	} bad[16];
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < 16; i++) {
		struct pb_verify_opts o = PB_VERIFY_OPTS_INIT;

		bad[i].o = o;
	}
	bad[n].what = "kind 0"; bad[n++].o.kind = 0;
	bad[n].what = "kind 9"; bad[n++].o.kind = 9;
	bad[n].what = "min_effect 2"; bad[n++].o.min_effect = 2;
	bad[n].what = "min_effect < 0"; bad[n++].o.min_effect = -0.1;
	bad[n].what = "min_effect nan"; bad[n++].o.min_effect = NAN;
	bad[n].what = "alpha 0.6"; bad[n++].o.alpha = 0.6;
	bad[n].what = "alpha < 0"; bad[n++].o.alpha = -0.01;
	bad[n].what = "beta nan"; bad[n++].o.beta = NAN;
	bad[n].what = "max_pairs"; bad[n++].o.max_pairs =
		PB_VERIFY_MAX_PAIRS + 1;
	bad[n].what = "lanes"; bad[n++].o.lanes = PB_VERIFY_MAX_LANES + 1;
	bad[n].what = "noise inf"; bad[n++].o.noise = INFINITY;
	bad[n].what = "noise < 0"; bad[n++].o.noise = -0.03;
	bad[n].what = "q0 nan"; bad[n++].o.q0 = NAN;
	bad[n].what = "q1 > 1"; bad[n++].o.q1 = 1.5;
	bad[n].what = "q1 <= q0"; bad[n].o.q0 = 0.3; bad[n++].o.q1 = 0.3;
	bad[n].what = "min_slow_effect 1"; bad[n++].o.min_slow_effect = 1;
	for (size_t i = 0; i < n; i++) {
		if (pb_verify_new(&v, &bad[i].o) != PB_EINVAL)
			fail_msg("%s: accepted", bad[i].what);
		assert_null(v);
		v = (struct pb_verify *)1;
	}
}

static void test_verify__bad_runs(void **state)
{
	struct pb_verify *v = make(PB_VERIFY_SHIFT, 0, 0);
	struct pb_verify *b = make(PB_VERIFY_BIMODAL, 0, 0);
	struct pb_verify_state st;
	const double bad[] = { NAN, INFINITY, -INFINITY, 0.0, -1.0 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(pb_verify_add(v, 0, P, bad[i], 0), PB_EINVAL);
		assert_int_equal(pb_verify_add(b, 0, P, bad[i], 0), PB_EINVAL);
	}
	assert_int_equal(pb_verify_add(v, 1, P, 1.0, 0), PB_EINVAL);
	assert_int_equal(pb_verify_add(v, 0, C, 1.0, 0), PB_EINVAL);
	/* a class is 0 or 1 (SHIFT ignores it) */
	assert_int_equal(pb_verify_add(b, 0, P, 1.0, 2), PB_EINVAL);
	assert_int_equal(pb_verify_add(b, 0, P, 1.0, -1), PB_EINVAL);
	assert_int_equal(pb_verify_add(v, 0, P, 1.0, 7), 0);
	assert_int_equal(pb_verify_next(v, 99), PB_VERIFY_NONE);
	pb_verify_state(b, &st);
	assert_int_equal(st.runs, 0);
	assert_int_equal(st.pairs, 0);
	assert_true(isnan(st.effect) && isnan(st.lo) && isnan(st.hi));
	expect_near(st.p, 1, 0, "p before any pair");
	pb_verify_state(v, &st);
	assert_int_equal(st.runs, 1);
	assert_int_equal(st.pairs, 0);
	pb_verify_free(v);
	pb_verify_free(b);
	pb_verify_free(NULL);
}

/* BIMODAL: the parent never slow, the culprit always: every pair is
 * discordant upwards and, with q0 = 0 and q1 = 0.5, staked at the cap. */
static void test_verify__bimodal_confirms(void **state)
{
	struct pb_verify *v = make(PB_VERIFY_BIMODAL, 0, 0);
	struct pb_verify_state st;

	(void)state;
	while (pb_verify_status(v) == PB_VERIFY_RUNNING) {
		enum pb_verify_side side = pb_verify_next(v, 0);

		assert_int_equal(pb_verify_add(v, 0, side,
					       side == C ? 0.6 : 1.0,
					       side == C), 0);
	}
	pb_verify_state(v, &st);
	assert_int_equal(st.status, PB_VERIFY_CONFIRMED);
	assert_int_equal(st.pairs, 8);             /* 1.85^7 < 100 < 1.85^8 */
	assert_int_equal(st.up, 8);
	assert_int_equal(st.down, 0);
	assert_int_equal(st.slow[0], 0);
	assert_int_equal(st.slow[1], 8);
	expect_near(st.effect, 1 / 0.6 - 1, 1e-9, "bimodal effect");
	pb_verify_free(v);
}

/* BIMODAL: neither ever slow.  No pair is discordant; the futility bound
 * (slow more often by m = 0.25) stops it. */
static void test_verify__bimodal_refutes(void **state)
{
	struct pb_verify *v = make(PB_VERIFY_BIMODAL, 0, 0);
	struct pb_verify_state st;
	unsigned k = 0;

	(void)state;
	while (pb_verify_status(v) == PB_VERIFY_RUNNING) {
		enum pb_verify_side side = pb_verify_next(v, 0);

		assert_int_equal(pb_verify_add(v, 0, side,
					       1.0 + 0.01 * (k++ % 3), 0), 0);
	}
	pb_verify_state(v, &st);
	assert_int_equal(st.status, PB_VERIFY_REFUTED);
	assert_int_equal(st.stop, PB_VERIFY_STOP_FUTILITY);
	assert_true(st.pairs <= 15);
	assert_int_equal(st.up + st.down, 0);
	assert_true(!isnan(st.lo) && st.lo <= st.effect && st.effect <= st.hi);
	pb_verify_free(v);

	/* both slow half the time, in step: never discordant either */
	v = make(PB_VERIFY_BIMODAL, 0, 0);
	k = 0;
	while (pb_verify_status(v) == PB_VERIFY_RUNNING) {
		enum pb_verify_side side = pb_verify_next(v, 0);
		int slow = (k++ / 2) % 2;

		assert_int_equal(pb_verify_add(v, 0, side, slow ? 0.6 : 1.0,
					       slow), 0);
	}
	pb_verify_state(v, &st);
	assert_int_equal(st.status, PB_VERIFY_REFUTED);
	assert_int_equal(st.up + st.down, 0);
	pb_verify_free(v);
}

/* Walsh averages sorted, for the interval's reference values. */
static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void test_verify__describe(void **state)
{
	/* ten pair differences, d = log(culprit / parent), lower is better */
	static const double d[10] = {
		0.11, -0.02, 0.07, 0.31, 0.05, 0.09, -0.08, 0.15, 0.02, 0.12
	};
	double par[10], cul[10], w[55];
	struct pb_verify_effect e;
	size_t m = 0;

	(void)state;
	for (int i = 0; i < 10; i++) {
		par[i] = 2.0;
		cul[i] = 2.0 * exp(d[i]);
		for (int j = i; j < 10; j++)
			w[m++] = 0.5 * (d[i] + d[j]);
	}
	qsort(w, m, sizeof(*w), cmp_double);
	assert_int_equal(pb_verify_describe(&e, par, cul, 10, 1), 0);
	assert_int_equal(e.n, 10);
	/* Hodges-Lehmann: the median of 55 Walsh averages, the 28th */
	expect_near(e.effect, expm1(w[27]), 1e-12, "HL");
	/* exact Wilcoxon, n = 10: P(T+ <= 8) = 25/1024 <= 0.025 <
	 * P(T+ <= 9) = 33/1024, so the interval is [W(9), W(47)] */
	expect_near(e.lo, expm1(w[8]), 1e-12, "lo");
	expect_near(e.hi, expm1(w[46]), 1e-12, "hi");
	/* higher is better: the same runs are a speed-up */
	assert_int_equal(pb_verify_describe(&e, par, cul, 10, 0), 0);
	expect_near(e.effect, expm1(-w[27]), 1e-12, "HL, higher is better");
	expect_near(e.lo, expm1(-w[46]), 1e-12, "lo, higher is better");
	/* six pairs: [min, max] (coverage 1 - 2/64); five: none */
	assert_int_equal(pb_verify_describe(&e, par, cul, 6, 1), 0);
	expect_near(e.lo, expm1(-0.02), 1e-12, "lo, 6 pairs");
	expect_near(e.hi, expm1(0.31), 1e-12, "hi, 6 pairs");
	assert_int_equal(pb_verify_describe(&e, par, cul, 5, 1), 0);
	assert_true(isnan(e.lo) && isnan(e.hi) && !isnan(e.effect));
	/* refused */
	assert_int_equal(pb_verify_describe(&e, par, cul, 0, 1), PB_EINVAL);
	cul[3] = NAN;
	assert_int_equal(pb_verify_describe(&e, par, cul, 10, 1), PB_EINVAL);
	cul[3] = 1.0;
	par[0] = 0;
	assert_int_equal(pb_verify_describe(&e, par, cul, 10, 1), PB_EINVAL);
	par[0] = INFINITY;
	assert_int_equal(pb_verify_describe(&e, par, cul, 10, 1), PB_EINVAL);
}

/* 100 pairs: the normal approximation of the interval. */
static void test_verify__describe_large(void **state)
{
	double par[100], cul[100];
	struct pb_verify_effect e;

	(void)state;
	for (int i = 0; i < 100; i++) {
		par[i] = 1.0;
		cul[i] = exp(0.05 + 0.001 * (i - 49.5));
	}
	assert_int_equal(pb_verify_describe(&e, par, cul, 100, 1), 0);
	expect_near(e.effect, expm1(0.05), 1e-12, "HL, symmetric");
	assert_true(e.lo < e.effect && e.effect < e.hi);
	expect_near(log1p(e.hi) - 0.05, 0.05 - log1p(e.lo), 1e-12,
		    "symmetric interval");
	/* the middle 95 % of a uniform spread of width 0.1: roughly a
	 * tenth of it either side (sd of the mean 0.1/sqrt(12 * 100)) */
	assert_true(log1p(e.hi) - 0.05 > 0.003 && log1p(e.hi) - 0.05 < 0.01);
}

static void test_verify__attempt_alpha(void **state)
{
	double sum = 0;

	(void)state;
	expect_near(pb_verify_attempt_alpha(0.01, 0), 0, 0, "attempt 0");
	expect_near(pb_verify_attempt_alpha(0.01, 1), 0.009, 1e-15, "first");
	expect_near(pb_verify_attempt_alpha(0.01, 2), 0.0009, 1e-15, "second");
	for (unsigned k = 1; k < 60; k++)
		sum += pb_verify_attempt_alpha(0.01, k);
	expect_near(sum, 0.01, 1e-15, "sum");
}

/* A quick simulation with a fixed seed: 400 verifications of a commit
 * that is no slower, in heavy-tailed noise and random bursts, confirm
 * rarely (alpha 0.01: expected at most 4); 200 of a 10 % shift in 3 %
 * noise all confirm, in 8 to 12 pairs on average. */
static double normal(uint64_t s[4])
{
	double u1 = pb_xoshiro_unif(s), u2 = pb_xoshiro_unif(s);

	return sqrt(-2 * log(1 - u1)) * cos(2 * M_PI * u2);
}

static void test_verify__simulated(void **state)
{
	uint64_t s[4];
	unsigned confirmed = 0, pairs = 0;

	(void)state;
	pb_xoshiro_seed(s, 20);
	for (int t = 0; t < 400; t++) {
		struct pb_verify *v = make(PB_VERIFY_SHIFT, 0, 0.01);

		while (pb_verify_status(v) == PB_VERIFY_RUNNING) {
			enum pb_verify_side side = pb_verify_next(v, 0);
			double g1 = normal(s), g2 = normal(s);
			/* Student t, 2 degrees of freedom */
			double x = exp(0.03 * normal(s) /
				       sqrt(0.5 * (g1 * g1 + g2 * g2)));

			if (pb_xoshiro_unif(s) < 0.2)
				x /= 1.1 + 0.4 * pb_xoshiro_unif(s);
			assert_int_equal(pb_verify_add(v, 0, side, x, 0), 0);
		}
		confirmed += pb_verify_status(v) == PB_VERIFY_CONFIRMED;
		pb_verify_free(v);
	}
	print_message("no slowdown: %u of 400 confirmed\n", confirmed);
	assert_true(confirmed <= 10);
	confirmed = 0;
	for (int t = 0; t < 200; t++) {
		struct pb_verify *v = make(PB_VERIFY_SHIFT, 0, 0.01);
		struct pb_verify_state st;

		while (pb_verify_status(v) == PB_VERIFY_RUNNING) {
			enum pb_verify_side side = pb_verify_next(v, 0);
			double x = exp(0.03 * normal(s));

			if (side == C)
				x /= 1.1;
			assert_int_equal(pb_verify_add(v, 0, side, x, 0), 0);
		}
		pb_verify_state(v, &st);
		confirmed += st.status == PB_VERIFY_CONFIRMED;
		pairs += st.pairs;
		pb_verify_free(v);
	}
	print_message("10 %% shift: %u of 200 confirmed, %.1f pairs\n",
		      confirmed, pairs / 200.0);
	assert_int_equal(confirmed, 200);
	assert_in_range(pairs, 8 * 200, 12 * 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify__abba_order),
		cmocka_unit_test(test_verify__pairs_cancel_drift),
		cmocka_unit_test(test_verify__confirms_clear_slowdown),
		cmocka_unit_test(test_verify__lower_is_better),
		cmocka_unit_test(test_verify__refutes_no_slowdown),
		cmocka_unit_test(test_verify__max_pairs_honoured),
		cmocka_unit_test(test_verify__lanes),
		cmocka_unit_test(test_verify__bad_options),
		cmocka_unit_test(test_verify__bad_runs),
		cmocka_unit_test(test_verify__bimodal_confirms),
		cmocka_unit_test(test_verify__bimodal_refutes),
		cmocka_unit_test(test_verify__describe),
		cmocka_unit_test(test_verify__describe_large),
		cmocka_unit_test(test_verify__attempt_alpha),
		cmocka_unit_test(test_verify__simulated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
