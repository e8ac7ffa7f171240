/*
 * test_stats.c - unit tests for orchestrator/core/stats.h.
 *
 * Reference values: exact ones where a closed form exists (I_x(a, 1) = x^a,
 * integer-parameter betas as binomial tails, P(Beta(10,1) > Beta(1,10)) =
 * 1 - 10 B(10, 11)); the others from mpmath 1.3 at 30 digits
 * (betainc(a, b, 0, x, regularized=True), and mpmath.quad for
 * P(p1 > p0) = integral of f1(x) I_x(a0, b0) dx), cross-checked for
 * pb_beta_greater by a Monte-Carlo run (Python's random.betavariate,
 * seed 12345, 2e6 draws) whose values are quoted beside them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/core/stats.h"

static void expect_near(double got, double want, double tol, const char *what)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("%s: got %.17g, want %.17g (+- %g)", what, got, want,
			 tol);
}

/* ---- location and scale ---- */

static void test_stats__median(void **state)
{
	const double odd[] = { 5, 1, 4, 2, 3 };
	const double even[] = { 10, -2, 7, 3 };
	const double one[] = { 42.5 };
	const double ties[] = { 1, 1, 1, 9, 9 };
	double copy[5];

	(void)state;
	memcpy(copy, odd, sizeof(odd));
	assert_true(pb_median(odd, 5) == 3);
	/* the input is not modified */
	assert_memory_equal(copy, odd, sizeof(odd));
	assert_true(pb_median(even, 4) == 5);   /* (3 + 7) / 2 */
	assert_true(pb_median(one, 1) == 42.5);
	assert_true(pb_median(ties, 5) == 1);
	assert_true(isnan(pb_median(odd, 0)));
}

static void test_stats__mad(void **state)
{
	/* median 3; |x - 3| = 2 0 1 0 1 0 6, sorted 0 0 0 1 1 2 6: 1 */
	const double x[] = { 1, 3, 4, 3, 2, 3, 9 };
	const double same[] = { 7, 7, 7, 7 };
	const double two[] = { 0, 10 };

	(void)state;
	assert_true(pb_mad(x, 7) == 1);
	assert_true(pb_mad(same, 4) == 0);
	assert_true(pb_mad(two, 2) == 5);      /* median 5, |d| = 5 5 */
	assert_true(isnan(pb_mad(x, 0)));
}

static void test_stats__mean(void **state)
{
	const double x[] = { 1, 2, 3, 4, 10 };
	const double big[] = { 1e15 + 1, 1e15 + 3 };

	(void)state;
	assert_true(pb_mean(x, 5) == 4);
	assert_true(pb_mean(x, 1) == 1);
	assert_true(pb_mean(big, 2) == 1e15 + 2);
	assert_true(isnan(pb_mean(x, 0)));
}

/* ---- entropy ---- */

static void test_stats__h2(void **state)
{
	(void)state;
	expect_near(pb_h2(0.5), 1, 1e-15, "H2(0.5)");
	assert_true(pb_h2(0) == 0);
	assert_true(pb_h2(1) == 0);
	assert_true(pb_h2(-0.5) == 0);
	assert_true(pb_h2(1.5) == 0);
	assert_true(pb_h2(NAN) == 0);
	/* H2(0.11) = 0.499915958164528: the classic "half a bit" point */
	expect_near(pb_h2(0.11), 0.499915958164528, 1e-12, "H2(0.11)");
	/* symmetric, and 0.25 by hand: 2 - 0.75 log2 3 */
	expect_near(pb_h2(0.25), 2 - 0.75 * log2(3), 1e-15, "H2(0.25)");
	expect_near(pb_h2(0.3), pb_h2(0.7), 1e-15, "H2 symmetric");
	/* near the edges it goes to 0 continuously */
	assert_true(pb_h2(1e-12) > 0 && pb_h2(1e-12) < 1e-9);
}

/* ---- incomplete beta ---- */

static void test_stats__betainc(void **state)
{
	static const double xs[] = { 0.01, 0.1, 0.3, 0.5, 0.77, 0.99 };
	static const double as[] = { 0.5, 1, 2.5, 7, 30 };

	(void)state;
	/* exact values */
	expect_near(pb_betainc(2, 3, 0.5), 0.6875, 1e-12, "I_0.5(2,3)");
	expect_near(pb_betainc(1, 1, 0.3), 0.3, 1e-12, "I_0.3(1,1)");
	for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++)
		for (size_t j = 0; j < sizeof(as) / sizeof(as[0]); j++) {
			double x = xs[i], a = as[j];

			expect_near(pb_betainc(a, 1, x), pow(x, a), 1e-12,
				    "I_x(a,1) = x^a");
			expect_near(pb_betainc(1, a, x), 1 - pow(1 - x, a),
				    1e-12, "I_x(1,b) = 1-(1-x)^b");
			/* I_x(a,b) = 1 - I_{1-x}(b,a) */
			expect_near(pb_betainc(a, 3.5, x),
				    1 - pb_betainc(3.5, a, 1 - x), 1e-12,
				    "reflection");
		}
	/* mpmath, 30 digits */
	expect_near(pb_betainc(10, 15, 0.4), 0.51091980685104690, 1e-12,
		    "I_0.4(10,15)");
	expect_near(pb_betainc(0.5, 0.5, 0.9), 0.79516723530086655, 1e-12,
		    "I_0.9(0.5,0.5)");
	expect_near(pb_betainc(0.25, 50, 0.01), 0.84613670401171463, 1e-12,
		    "I_0.01(0.25,50)");
	expect_near(pb_betainc(200, 100, 0.7), 0.89115693435509016, 1e-10,
		    "I_0.7(200,100)");
	expect_near(pb_betainc(2.5, 7.5, 0.3), 0.67894348586618166, 1e-12,
		    "I_0.3(2.5,7.5)");
	/* the ends */
	assert_true(pb_betainc(2, 3, 0) == 0);
	assert_true(pb_betainc(2, 3, 1) == 1);
	assert_true(pb_betainc(2, 3, -1) == 0);
	assert_true(pb_betainc(2, 3, 2) == 1);
	/* monotone in x */
	for (double x = 0, prev = 0; x <= 1; x += 1.0 / 64) {
		double v = pb_betainc(3.3, 1.7, x);

		assert_true(v >= prev);
		prev = v;
	}
}

/* ---- Student's t ---- */

static void test_stats__t_pvalue(void **state)
{
	(void)state;
	/* 2.228 is the two-sided 5 % critical value at 10 df */
	expect_near(pb_t_pvalue(2.228, 10), 0.050011771817111383, 1e-10,
		    "t=2.228 df=10");
	expect_near(pb_t_pvalue(-2.228, 10), 0.050011771817111383, 1e-10,
		    "t=-2.228 df=10");
	expect_near(pb_t_pvalue(0, 10), 1, 1e-15, "t=0");
	/* Cauchy: P(|T| > 1) = 1/2 */
	expect_near(pb_t_pvalue(1, 1), 0.5, 1e-12, "t=1 df=1");
	expect_near(pb_t_pvalue(3, 3.5), 0.047375239484746435, 1e-10,
		    "t=3 df=3.5");
	/* large df: the normal, 2 (1 - Phi(1.96)) */
	expect_near(pb_t_pvalue(1.96, 1e6), 0.049996067585269787, 1e-9,
		    "t=1.96 df=1e6");
	assert_true(pb_t_pvalue(INFINITY, 5) == 0);
	assert_true(pb_t_pvalue(-INFINITY, 5) == 0);
	assert_true(isnan(pb_t_pvalue(NAN, 5)));
	assert_true(isnan(pb_t_pvalue(1, 0)));
	assert_true(isnan(pb_t_pvalue(1, -3)));
}

/* ---- P(p1 > p0) for two betas ---- */

static void test_stats__beta_greater(void **state)
{
	(void)state;
	/* symmetric: one half */
	expect_near(pb_beta_greater(1, 1, 1, 1), 0.5, 1e-6, "B(1,1) v B(1,1)");
	expect_near(pb_beta_greater(2, 2, 2, 2), 0.5, 1e-6, "B(2,2) v B(2,2)");
	expect_near(pb_beta_greater(7.5, 3, 7.5, 3), 0.5, 1e-6,
		    "B(7.5,3) v itself");
	/* exact: 1 - 10 B(10, 11) = 1 - 10 * 9! 10! / 20! */
	expect_near(pb_beta_greater(10, 1, 1, 10), 0.99999458745588777, 1e-6,
		    "B(10,1) v B(1,10)");
	expect_near(pb_beta_greater(1, 10, 10, 1), 1 - 0.99999458745588777,
		    1e-6, "B(1,10) v B(10,1)");
	/* against a uniform p0, P(p0 < p1) = E p1 = a1 / (a1 + b1) */
	expect_near(pb_beta_greater(3, 5, 1, 1), 3.0 / 8, 1e-6, "E B(3,5)");
	/* mpmath quadrature (Monte Carlo, 2e6 draws, in brackets):
	 * (3,5 | 2,2)    0.33333333333333333  (0.332962 +- 0.00033)
	 * (40,60 | 30,70) 0.93221852417209311 (0.932218 +- 0.00018)
	 * (5,20 | .25,50) 0.99972592821746368 (0.9997245 +- 0.000012)
	 * the last is the engine's own use: its q0 prior is Beta(0.25, 50) */
	expect_near(pb_beta_greater(3, 5, 2, 2), 1.0 / 3, 1e-6, "(3,5|2,2)");
	expect_near(pb_beta_greater(40, 60, 30, 70), 0.93221852417209311,
		    1e-6, "(40,60|30,70)");
	expect_near(pb_beta_greater(5, 20, 0.25, 50), 0.99972592821746368,
		    1e-6, "(5,20|0.25,50)");
	expect_near(pb_beta_greater(4, 2, 0.25, 54), 0.99999888535501948,
		    1e-6, "(4,2|0.25,54)");
	/* large parameters ("up to a few thousand", says stats.h) */
	expect_near(pb_beta_greater(2000, 2000, 2000, 2010),
		    0.54443250179679695, 1e-6, "(2000,2000|2000,2010)");
	expect_near(pb_beta_greater(3000, 10, 3000, 12),
		    0.66790845720057769, 1e-6, "(3000,10|3000,12)");
	/* P(p1 > p0) + P(p0 > p1) = 1 for continuous laws */
	expect_near(pb_beta_greater(3, 5, 2, 9) + pb_beta_greater(2, 9, 3, 5),
		    1, 1e-6, "complement");
}

/*
 * Parameters below 1 make the density unbounded at 0 or 1; the
 * substitution in pb_beta_greater must still get P(Beta(0.5,0.5) >
 * U(0,1)) = 1/2 (a plain midpoint rule gave 0.49696).
 */
static void test_stats__beta_greater_singular(void **state)
{
	(void)state;
	expect_near(pb_beta_greater(1, 1, 0.25, 50), 1 - 0.25 / 50.25, 1e-5,
		    "(1,1|0.25,50)");
	expect_near(pb_beta_greater(0.5, 0.5, 1, 1), 0.5, 1e-5,
		    "(0.5,0.5|1,1)");
	expect_near(pb_beta_greater(0.25, 50, 1, 1), 0.25 / 50.25, 1e-5,
		    "(0.25,50|1,1)");
}

/* Student's t quantiles against tables (R's qt, 10 digits). */
static void test_stats__t_quantile(void **state)
{
	(void)state;
	expect_near(pb_t_quantile(0.975, 10), 2.228138852, 1e-6, "qt(.975,10)");
	expect_near(pb_t_quantile(0.99, 30), 2.457261531, 1e-6, "qt(.99,30)");
	expect_near(pb_t_quantile(0.95, 1), 6.313751515, 1e-5, "qt(.95,1)");
	expect_near(pb_t_quantile(0.025, 10), -2.228138852, 1e-6,
		    "qt(.025,10)");
	expect_near(pb_t_quantile(0.5, 3), 0, 1e-12, "qt(.5,3)");
	expect_near(pb_t_quantile(0.99, 1e6), 2.326348, 1e-4, "qt(.99,inf)");
	assert_true(isnan(pb_t_quantile(0, 5)));
	assert_true(isnan(pb_t_quantile(1, 5)));
	assert_true(isnan(pb_t_quantile(0.9, 0)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats__t_quantile),
		cmocka_unit_test(test_stats__median),
		cmocka_unit_test(test_stats__mad),
		cmocka_unit_test(test_stats__mean),
		cmocka_unit_test(test_stats__h2),
		cmocka_unit_test(test_stats__betainc),
		cmocka_unit_test(test_stats__t_pvalue),
		cmocka_unit_test(test_stats__beta_greater),
		cmocka_unit_test(test_stats__beta_greater_singular),
	};

	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
