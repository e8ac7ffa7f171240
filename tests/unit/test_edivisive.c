/*
 * test_edivisive.c - unit tests for orchestrator/core/edivisive.h.
 *
 * The reference results are Apache Otava's own tests: step series (after
 * MongoDB's tests/test_e_divisive.py) and the Tigerbeetle history of
 * tests/fixtures/tigerbeetle-otava.txt with the change points
 * otava/tests/tigerbeetle_test.py expects for each setting.  The t-test
 * values come from scipy.stats.ttest_ind_from_stats.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "orchestrator/core/edivisive.h"
#include "orchestrator/core/stats.h"

#define TB_N 365

static void expect_near(double got, double want, double tol, const char *what)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("%s: got %.17g, want %.17g (+- %g)", what, got, want,
			 tol);
}

/* Runs the detector and compares the indexes with want[0..nwant). */
static void expect_points(const double *x, size_t n, size_t window, double p,
			  double mag, const size_t *want, size_t nwant,
			  const char *what)
{
	struct pb_ediv_opts o = PB_EDIV_OPTS_INIT;
	struct pb_change_point *cps = NULL;
	size_t ncp = 0, i;
	char got[4096];
	int len = 0;

	o.window = window;
	o.max_pvalue = p;
	o.min_magnitude = mag;
	assert_int_equal(pb_edivisive(&cps, &ncp, x, n, &o), 0);
	for (i = 0; i < ncp && len < (int)sizeof(got) - 16; i++)
		len += snprintf(got + len, sizeof(got) - (size_t)len, " %zu",
				cps[i].index);
	got[len] = '\0';
	if (ncp != nwant) {
		free(cps);
		fail_msg("%s: %zu points (%s), want %zu", what, ncp, got,
			 nwant);
	}
	for (i = 0; i < ncp; i++)
		if (cps[i].index != want[i]) {
			free(cps);
			fail_msg("%s: points%s; want %zu at position %zu", what,
				 got, want[i], i);
		}
	free(cps);
}

/* [10]*k + [20]*k: one change at k, for every k (the acceptance). */
static void test_edivisive__step_10_20(void **state)
{
	double x[100];

	(void)state;
	for (size_t k = 4; k <= 50; k++) {
		struct pb_ediv_opts o = { 30, 0.01, 0.05 };
		struct pb_change_point *cps;
		size_t ncp;
		char what[32];

		for (size_t i = 0; i < 2 * k; i++)
			x[i] = i < k ? 10 : 20;
		snprintf(what, sizeof(what), "k=%zu", k);
		expect_points(x, 2 * k, 30, 0.01, 0.05, &k, 1, what);

		assert_int_equal(pb_edivisive(&cps, &ncp, x, 2 * k, &o), 0);
		assert_int_equal(ncp, 1);
		expect_near(cps[0].mean_before, 10, 0, "mean before");
		expect_near(cps[0].mean_after, 20, 0, "mean after");
		expect_near(cps[0].sd_before, 0, 0, "sd before");
		expect_near(cps[0].p_value, 0, 0, "p of two constant sides");
		expect_near(cps[0].forward_change, 1, 1e-15, "forward change");
		expect_near(cps[0].backward_change, -0.5, 1e-15, "backward");
		expect_near(cps[0].magnitude, 1, 1e-15, "magnitude");
		free(cps);
	}
}

/* MongoDB's [0]*k + [1]*k, k = 4..99 (a zero mean: forward change 0). */
static void test_edivisive__step_0_1(void **state)
{
	double x[200];

	(void)state;
	for (size_t k = 4; k <= 99; k++) {
		char what[32];

		for (size_t i = 0; i < 2 * k; i++)
			x[i] = i < k ? 0 : 1;
		snprintf(what, sizeof(what), "k=%zu", k);
		expect_points(x, 2 * k, 30, 0.05, 0, &k, 1, what);
	}
}

static size_t load_tigerbeetle(double *x)
{
	const char *dir = getenv("PB_FIXTURES");
	char path[4096], line[256];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tigerbeetle-otava.txt",
		 dir ? dir : "tests/fixtures");
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s (run from the top directory or set "
			 "PB_FIXTURES)", path);
	while (fgets(line, sizeof(line), f)) {
		char *end;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (n == TB_N)
			fail_msg("%s: more than %d values", path, TB_N);
		x[n++] = strtod(line, &end);
	}
	fclose(f);
	assert_int_equal(n, TB_N);
	return n;
}

#define TB(p, mag, ...)                                                      \
	do {                                                                 \
		const size_t want[] = { __VA_ARGS__ };                       \
		expect_points(x, n, 30, p, mag, want,                        \
			      sizeof(want) / sizeof(want[0]),                \
			      "tigerbeetle p " #p " magnitude " #mag);       \
	} while (0)

/* The two settings the issue requires, and the two statistics.md lists. */
static void test_edivisive__tigerbeetle(void **state)
{
	double x[TB_N];
	size_t n = load_tigerbeetle(x);

	(void)state;
	TB(0.01, 0.05, 15, 71);
	TB(0.05, 0.05, 15, 71);
	TB(0.1, 0.05, 10, 11, 15, 71, 363);
	TB(0.001, 0.0, 15, 61, 71, 95, 117, 131, 142, 148, 192, 212, 260);
}

/* The rest of otava/tests/tigerbeetle_test.py. */
static void test_edivisive__tigerbeetle_otava_suite(void **state)
{
	double x[TB_N];
	size_t n = load_tigerbeetle(x);

	(void)state;
	TB(0.2, 0.05, 10, 11, 15, 71);
	TB(0.1, 0.01, 10, 11, 15, 28, 29, 35, 37, 48, 49, 61, 71, 95, 117,
	   131, 142, 148, 165, 169, 192, 206, 212, 260, 265, 268, 278, 282,
	   363);
	TB(0.2, 0.0, 3, 6, 7, 10, 11, 13, 15, 16, 28, 29, 35, 37, 39, 41, 44,
	   48, 49, 56, 58, 61, 65, 66, 69, 71, 74, 76, 82, 95, 108, 117, 125,
	   126, 129, 131, 136, 137, 142, 148, 165, 169, 187, 190, 192, 197,
	   200, 212, 220, 241, 243, 246, 247, 249, 250, 260, 265, 266, 268,
	   278, 282, 288, 305, 306, 325, 330, 337, 338, 340, 347, 349, 363);
	TB(0.1, 0.0, 3, 6, 10, 11, 15, 16, 28, 29, 35, 37, 39, 41, 44, 48, 49,
	   61, 71, 95, 117, 131, 142, 148, 165, 169, 192, 206, 212, 260, 265,
	   268, 278, 282, 288, 305, 363);
	TB(0.01, 0.0, 15, 26, 61, 71, 95, 117, 131, 142, 148, 165, 169, 192,
	   212, 260);
	TB(0.0001, 0.0, 71, 95, 117, 131, 142, 148, 192, 212);
	TB(0.00001, 0.0, 71, 95, 131, 192, 212);
}

/* The statistics reported are those of the final neighbouring segments. */
static void test_edivisive__tigerbeetle_stats(void **state)
{
	struct pb_ediv_opts o = { 30, 0.01, 0.05 };
	struct pb_change_point *cps;
	double x[TB_N], s = 0;
	size_t n = load_tigerbeetle(x), ncp;

	(void)state;
	assert_int_equal(pb_edivisive(&cps, &ncp, x, n, &o), 0);
	assert_int_equal(ncp, 2);
	for (size_t i = 15; i < 71; i++)
		s += x[i];
	expect_near(cps[0].mean_after, s / 56, 1e-9, "mean of x[15..71)");
	expect_near(cps[1].mean_before, s / 56, 1e-9, "mean of x[15..71)");
	assert_true(cps[0].mean_before > cps[0].mean_after);  /* a drop */
	assert_true(cps[1].mean_after > cps[1].mean_before);  /* a rise */
	assert_true(cps[0].p_value < 0.01 && cps[1].p_value < 0.01);
	assert_true(cps[0].magnitude > 0.05 && cps[1].magnitude > 0.05);
	expect_near(cps[0].forward_change,
		    cps[0].mean_after / cps[0].mean_before - 1, 1e-15, "fwd");
	free(cps);
}

static void test_edivisive__nothing_to_find(void **state)
{
	struct pb_ediv_opts o = PB_EDIV_OPTS_INIT;
	struct pb_change_point *cps = (void *)1;
	double x[200];
	size_t ncp = 99;

	(void)state;
	for (size_t i = 0; i < 200; i++)
		x[i] = 5;
	assert_int_equal(pb_edivisive(&cps, &ncp, x, 200, &o), 0);
	assert_null(cps);
	assert_int_equal(ncp, 0);
	/* too short to split */
	for (size_t n = 0; n <= 2; n++) {
		x[0] = 1;
		x[1] = 100;
		assert_int_equal(pb_edivisive(&cps, &ncp, x, n, &o), 0);
		assert_int_equal(ncp, 0);
	}
	/* a deterministic zig-zag with no level change */
	for (size_t i = 0; i < 200; i++)
		x[i] = 100 + (double)((i * 7919) % 13) - 6;
	o.max_pvalue = 0.001;
	assert_int_equal(pb_edivisive(&cps, &ncp, x, 200, &o), 0);
	assert_int_equal(ncp, 0);
	free(cps);
}

/* A window longer than the series, and the smallest window. */
static void test_edivisive__windows(void **state)
{
	double x[60];
	size_t want = 25;

	(void)state;
	for (size_t i = 0; i < 60; i++)
		x[i] = (i < 25 ? 100 : 130) + (double)(i % 3);
	expect_points(x, 60, 1000, 0.001, 0, &want, 1, "window 1000");
	expect_points(x, 60, 60, 0.001, 0, &want, 1, "window = n");
	expect_points(x, 60, 10, 0.001, 0.05, &want, 1, "window 10");
}

static void test_edivisive__bad_options(void **state)
{
	struct pb_ediv_opts o = PB_EDIV_OPTS_INIT;
	struct pb_change_point *cps;
	double x[] = { 1, 2, 3, NAN, 5 };
	size_t ncp;

	(void)state;
	assert_int_equal(pb_edivisive(&cps, &ncp, x, 5, &o), PB_EINVAL);
	assert_int_equal(pb_edivisive(&cps, &ncp, x, 3, NULL), PB_EINVAL);
	o.window = 1;
	assert_int_equal(pb_edivisive(&cps, &ncp, x, 3, &o), PB_EINVAL);
	o.window = 30;
	o.max_pvalue = 0;
	assert_int_equal(pb_edivisive(&cps, &ncp, x, 3, &o), PB_EINVAL);
	o.max_pvalue = 1.5;
	assert_int_equal(pb_edivisive(&cps, &ncp, x, 3, &o), PB_EINVAL);
	o.max_pvalue = 0.01;
	o.min_magnitude = -1;
	assert_int_equal(pb_edivisive(&cps, &ncp, x, 3, &o), PB_EINVAL);
	assert_null(cps);
	assert_int_equal(ncp, 0);
}

/* Against scipy.stats. */
static void test_edivisive__ttest(void **state)
{
	double t;

	(void)state;
	expect_near(pb_ttest_pooled(&t, 1, 1, 10, 2, 1, 10),
		    0.038249614516113854, 1e-13, "p");
	expect_near(t, -2.23606797749979, 1e-13, "t");
	expect_near(pb_ttest_pooled(&t, 23412, 50, 56, 24363, 300, 10),
		    2.157671984249587e-32, 1e-43, "tiny p");
	/* degenerate cases */
	assert_true(pb_ttest_pooled(&t, 1, 0, 5, 2, 0, 5) == 0);
	assert_true(isinf(t) && t < 0);
	assert_true(pb_ttest_pooled(&t, 1, 0, 5, 1, 0, 5) == 1);
	assert_true(pb_ttest_pooled(NULL, 1, 0, 1, 2, 0, 1) == 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edivisive__step_10_20),
		cmocka_unit_test(test_edivisive__step_0_1),
		cmocka_unit_test(test_edivisive__tigerbeetle),
		cmocka_unit_test(test_edivisive__tigerbeetle_otava_suite),
		cmocka_unit_test(test_edivisive__tigerbeetle_stats),
		cmocka_unit_test(test_edivisive__nothing_to_find),
		cmocka_unit_test(test_edivisive__windows),
		cmocka_unit_test(test_edivisive__bad_options),
		cmocka_unit_test(test_edivisive__ttest),
	};

	return cmocka_run_group_tests_name("edivisive", tests, NULL, NULL);
}
