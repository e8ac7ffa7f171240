/*
 * test_ranktest.c - unit tests for orchestrator/core/ranktest.h: the
 * Mann-Whitney U and Kolmogorov-Smirnov tests against the values Chromium
 * Pinpoint's own tests and its compare.py comment table give
 * (catapult-project/catapult: dashboard/dashboard/pinpoint/models/compare/).
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
#include "orchestrator/core/ranktest.h"

#define MAXN 64

static void expect_near(double got, double want, double tol, const char *what)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("%s: got %.17g, want %.17g (+- %g)", what, got, want,
			 tol);
}

/* x = lo, lo+1, ..., hi-1 */
static size_t range(double *x, int lo, int hi)
{
	size_t n = 0;

	for (int v = lo; v < hi; v++)
		x[n++] = v;
	return n;
}

static size_t fill(double *x, double v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x[i] = v;
	return n;
}

static double mwu_p(const double *x, size_t nx, const double *y, size_t ny)
{
	struct pb_mwu r;

	assert_int_equal(pb_mwu_test(&r, x, nx, y, ny), 0);
	return r.p;
}

static double ks_p(const double *x, size_t nx, const double *y, size_t ny)
{
	struct pb_ks r;

	assert_int_equal(pb_ks_test(&r, x, nx, y, ny), 0);
	return r.p;
}

/*
 * compare.py's table: "[0]*20 vs [0]*15+[1]*5: MWU 0.0097, KS 0.4973;
 * range(10, 30) vs range(10)+range(30, 40): MWU 0.4946, KS 0.0082".  The
 * MWU column is the one-sided half of the two-sided p Pinpoint's code
 * returns today (its unit tests below are two-sided).
 */
static void test_ranktest__compare_table(void **state)
{
	double a[MAXN], b[MAXN];
	size_t na, nb;
	struct pb_mwu m;
	struct pb_ks k;

	(void)state;
	na = fill(a, 0, 20);
	nb = fill(b, 0, 15);
	nb += fill(b + nb, 1, 5);
	assert_int_equal(pb_mwu_test(&m, a, na, b, nb), 0);
	expect_near(m.p_one_sided, 0.0097, 0.5e-4, "MWU zeros, one-sided");
	expect_near(m.p, 2 * m.p_one_sided, 1e-15, "MWU zeros, two-sided");
	expect_near(m.p, 0.0195, 0.5e-4, "MWU zeros, two-sided");
	assert_int_equal(pb_ks_test(&k, a, na, b, nb), 0);
	expect_near(k.d, 0.25, 1e-15, "KS zeros, D");
	expect_near(k.p, 0.4973, 0.5e-4, "KS zeros");

	na = range(a, 10, 30);
	nb = range(b, 0, 10);
	nb += range(b + nb, 30, 40);
	assert_int_equal(pb_mwu_test(&m, a, na, b, nb), 0);
	expect_near(m.p_one_sided, 0.4946, 0.5e-4, "MWU ranges, one-sided");
	expect_near(m.p, 0.9892, 0.5e-4, "MWU ranges, two-sided");
	assert_int_equal(pb_ks_test(&k, a, na, b, nb), 0);
	expect_near(k.d, 0.5, 1e-15, "KS ranges, D");
	expect_near(k.p, 0.0082, 0.5e-4, "KS ranges");
}

/* mann_whitney_u_test.py */
static void test_ranktest__mwu_pinpoint_vectors(void **state)
{
	double a[MAXN], b[MAXN];

	(void)state;
	expect_near(mwu_p(a, range(a, 0, 10), b, range(b, 20, 30)),
		    0.00018267179110955002, 1e-12, "range(10) vs 20..29");
	expect_near(mwu_p(a, range(a, 0, 5), b, range(b, 0, 10)),
		    0.13986357686781267, 1e-12, "range(5) vs range(10)");
	expect_near(mwu_p(a, fill(a, 0, 5), b, fill(b, 1, 5)),
		    0.0039767517097886512, 1e-12, "[0]*5 vs [1]*5");
	expect_near(mwu_p(a, fill(a, 0, 1), b, fill(b, 1, 1)), 1.0, 1e-15,
		    "[0] vs [1]");
	expect_near(mwu_p(a, fill(a, 0, 5), b, fill(b, 0, 5)), 1.0, 0,
		    "all identical");
}

/* kolmogorov_smirnov_test.py */
static void test_ranktest__ks_pinpoint_vectors(void **state)
{
	double a[MAXN], b[MAXN];

	(void)state;
	expect_near(ks_p(a, range(a, 0, 10), b, range(b, 20, 30)),
		    1.8879793657162556e-05, 1e-15, "range(10) vs 20..29");
	expect_near(ks_p(a, range(a, 0, 5), b, range(b, 0, 10)),
		    0.26680230985258474, 1e-12, "range(5) vs range(10)");
	expect_near(ks_p(a, fill(a, 0, 5), b, fill(b, 1, 5)),
		    0.0037813540593701006, 1e-12, "[0]*5 vs [1]*5");
	expect_near(ks_p(a, fill(a, 0, 1), b, fill(b, 1, 1)),
		    0.2890414283708268, 1e-12, "[0] vs [1]");
	expect_near(ks_p(a, fill(a, 0, 5), b, fill(b, 0, 5)), 1.0, 0,
		    "all identical");
}

/* Swapping the samples changes U to nx*ny - U and nothing else. */
static void test_ranktest__symmetric(void **state)
{
	double a[] = { 3.1, 2.0, 5.5, 2.0, 9.0, 4.4, 7.0 };
	double b[] = { 1.0, 2.0, 2.0, 0.5, 3.1, 6.0 };
	struct pb_mwu m1, m2;
	struct pb_ks k1, k2;

	(void)state;
	assert_int_equal(pb_mwu_test(&m1, a, 7, b, 6), 0);
	assert_int_equal(pb_mwu_test(&m2, b, 6, a, 7), 0);
	expect_near(m1.u + m2.u, 42, 1e-12, "U_x + U_y");
	expect_near(m1.p, m2.p, 1e-15, "MWU p");
	assert_int_equal(pb_ks_test(&k1, a, 7, b, 6), 0);
	assert_int_equal(pb_ks_test(&k2, b, 6, a, 7), 0);
	expect_near(k1.d, k2.d, 0, "KS D");
	expect_near(k1.p, k2.p, 0, "KS p");
	/* the input is not reordered */
	assert_true(a[0] == 3.1 && a[6] == 7.0 && b[0] == 1.0 && b[5] == 6.0);
}

/* U counts the pairs x > y, ties halved. */
static void test_ranktest__u_counts_pairs(void **state)
{
	double a[] = { 1, 2, 3 }, b[] = { 2, 4 };
	struct pb_mwu m;

	(void)state;
	/* pairs x > y: (3, 2); ties: (2, 2) -> 1.5 */
	assert_int_equal(pb_mwu_test(&m, a, 3, b, 2), 0);
	expect_near(m.u, 1.5, 1e-15, "U");
}

static void test_ranktest__kolmogorov_sf(void **state)
{
	double prev = 1;

	(void)state;
	assert_true(pb_kolmogorov_sf(0) == 1);
	assert_true(pb_kolmogorov_sf(-1) == 1);
	/* Q(1) = 2 (e^-2 - e^-8 + e^-18 - ...) */
	expect_near(pb_kolmogorov_sf(1), 2 * (exp(-2) - exp(-8) + exp(-18) -
					      exp(-32)),
		    1e-15, "Q(1)");
	for (double y = 0.01; y < 5; y += 0.01) {
		double q = pb_kolmogorov_sf(y);

		if (!(q >= 0 && q <= 1 && q <= prev + 1e-12))
			fail_msg("Q(%g) = %.17g after %.17g", y, q, prev);
		prev = q;
	}
	assert_true(pb_kolmogorov_sf(40) == 0);
}

static void test_ranktest__bad_input(void **state)
{
	double a[] = { 1, 2, 3 }, b[] = { 1, NAN }, c[] = { 1, INFINITY };
	struct pb_mwu m;
	struct pb_ks k;

	(void)state;
	assert_int_equal(pb_mwu_test(&m, a, 0, a, 3), PB_EINVAL);
	assert_int_equal(pb_mwu_test(&m, a, 3, a, 0), PB_EINVAL);
	assert_int_equal(pb_mwu_test(&m, a, 3, b, 2), PB_EINVAL);
	assert_int_equal(pb_ks_test(&k, a, 0, a, 3), PB_EINVAL);
	assert_int_equal(pb_ks_test(&k, c, 2, a, 3), PB_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranktest__compare_table),
		cmocka_unit_test(test_ranktest__mwu_pinpoint_vectors),
		cmocka_unit_test(test_ranktest__ks_pinpoint_vectors),
		cmocka_unit_test(test_ranktest__symmetric),
		cmocka_unit_test(test_ranktest__u_counts_pairs),
		cmocka_unit_test(test_ranktest__kolmogorov_sf),
		cmocka_unit_test(test_ranktest__bad_input),
	};

	return cmocka_run_group_tests_name("ranktest", tests, NULL, NULL);
}
