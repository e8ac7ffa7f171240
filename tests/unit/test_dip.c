/*
 * test_dip.c - unit tests for orchestrator/core/dip.h: Hartigan's dip,
 * its p-value, and the committed null table dip_table.c.
 *
 * The dip is checked against the values R's diptest prints for its test
 * vectors and data sets (numbers only: the data are Hartigan's statistics
 * faculty ages, R's faithful$eruptions and precip), and for invariances a
 * dip must have.  The table is checked against the published critical
 * values (R diptest's qDiptab, 1,000,001 simulations per n) within
 * Monte-Carlo error, and against a small fresh simulation, so a change to
 * pb_dip() that is not followed by `make dip-table` fails here.
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
#include "orchestrator/core/dip.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Hartigan & Hartigan (1985), table 1: ages of 63 statistics faculty. */
static const double statfaculty[] = {
	30, 33, 35, 36, 37, 37, 39, 39, 39, 39, 39, 40, 40, 40, 40, 41, 42,
	43, 43, 43, 44, 44, 45, 45, 46, 46, 47, 47, 48, 48, 48, 49, 50, 50,
	51, 52, 52, 53, 53, 53, 53, 53, 54, 54, 57, 57, 59, 60, 60, 60, 61,
	61, 61, 61, 62, 62, 62, 62, 63, 66, 70, 72, 72,
};

/* Old Faithful eruption lengths in minutes (R's faithful$eruptions). */
static const double eruptions[] = {
	3.6, 1.8, 3.333, 2.283, 4.533, 2.883, 4.7, 3.6, 1.95, 4.35, 1.833,
	3.917, 4.2, 1.75, 4.7, 2.167, 1.75, 4.8, 1.6, 4.25, 1.8, 1.75, 3.45,
	3.067, 4.533, 3.6, 1.967, 4.083, 3.85, 4.433, 4.3, 4.467, 3.367,
	4.033, 3.833, 2.017, 1.867, 4.833, 1.833, 4.783, 4.35, 1.883, 4.567,
	1.75, 4.533, 3.317, 3.833, 2.1, 4.633, 2, 4.8, 4.716, 1.833, 4.833,
	1.733, 4.883, 3.717, 1.667, 4.567, 4.317, 2.233, 4.5, 1.75, 4.8,
	1.817, 4.4, 4.167, 4.7, 2.067, 4.7, 4.033, 1.967, 4.5, 4, 1.983,
	5.067, 2.017, 4.567, 3.883, 3.6, 4.133, 4.333, 4.1, 2.633, 4.067,
	4.933, 3.95, 4.517, 2.167, 4, 2.2, 4.333, 1.867, 4.817, 1.833, 4.3,
	4.667, 3.75, 1.867, 4.9, 2.483, 4.367, 2.1, 4.5, 4.05, 1.867, 4.7,
	1.783, 4.85, 3.683, 4.733, 2.3, 4.9, 4.417, 1.7, 4.633, 2.317, 4.6,
	1.817, 4.417, 2.617, 4.067, 4.25, 1.967, 4.6, 3.767, 1.917, 4.5,
	2.267, 4.65, 1.867, 4.167, 2.8, 4.333, 1.833, 4.383, 1.883, 4.933,
	2.033, 3.733, 4.233, 2.233, 4.533, 4.817, 4.333, 1.983, 4.633, 2.017,
	5.1, 1.8, 5.033, 4, 2.4, 4.6, 3.567, 4, 4.5, 4.083, 1.8, 3.967, 2.2,
	4.15, 2, 3.833, 3.5, 4.583, 2.367, 5, 1.933, 4.617, 1.917, 2.083,
	4.583, 3.333, 4.167, 4.333, 4.5, 2.417, 4, 4.167, 1.883, 4.583, 4.25,
	3.767, 2.033, 4.433, 4.083, 1.833, 4.417, 2.183, 4.8, 1.833, 4.8, 4.1,
	3.966, 4.233, 3.5, 4.366, 2.25, 4.667, 2.1, 4.35, 4.133, 1.867, 4.6,
	1.783, 4.367, 3.85, 1.933, 4.5, 2.383, 4.7, 1.867, 3.833, 3.417,
	4.233, 2.4, 4.8, 2, 4.15, 1.867, 4.267, 1.75, 4.483, 4, 4.117, 4.083,
	4.267, 3.917, 4.55, 4.083, 2.417, 4.183, 2.217, 4.45, 1.883, 1.85,
	4.283, 3.95, 2.333, 4.15, 2.35, 4.933, 2.9, 4.583, 3.833, 2.083,
	4.367, 2.133, 4.35, 2.2, 4.45, 3.567, 4.5, 4.15, 3.817, 3.917, 4.45,
	2, 4.283, 4.767, 4.533, 1.85, 4.25, 1.983, 2.25, 4.75, 4.117, 2.15,
	4.417, 1.817, 4.467,
};

/* Annual precipitation of 70 US cities, inches (R's precip). */
static const double precip[] = {
	67, 54.7, 7, 48.5, 14, 17.2, 20.7, 13, 43.4, 40.2, 38.9, 54.5, 59.8,
	48.3, 22.9, 11.5, 34.4, 35.1, 38.7, 30.8, 30.6, 43.1, 56.8, 40.8,
	41.8, 42.5, 31, 31.7, 30.2, 25.9, 49.2, 37, 35.9, 15, 30.2, 7.2,
	36.2, 45.5, 7.8, 33.4, 36.1, 40.2, 42.7, 42.5, 16.2, 39, 35, 37,
	31.4, 37.6, 39.9, 36.2, 42.8, 46.4, 24.7, 49.1, 46, 35.9, 7.8, 48.2,
	15.2, 32.5, 44.7, 42.6, 38.8, 17.4, 40.8, 29.1, 14.6, 59.2,
};

/* cmocka 1.1.5 has no assert_double_equal. */
#define assert_near(a, b, tol) \
	near_((a), (b), (tol), #a, __FILE__, __LINE__)

static void near_(double a, double b, double tol, const char *what,
		  const char *file, int line)
{
	if (!(fabs(a - b) <= tol)) {
		print_error("%s = %.17g, want %.17g within %g\n", what, a, b,
			    tol);
		_fail(file, line);
	}
}

/* splitmix64: a seeded stream for the tests' own samples. */
static uint64_t next_u64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double next_unif(uint64_t *s)
{
	return (double)(next_u64(s) >> 11) * 0x1.0p-53;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Index of the table row for sample size n; fails the test if absent. */
static size_t table_row(unsigned n)
{
	for (size_t i = 0; i < pb_dip_table.nn; i++)
		if (pb_dip_table.n[i] == n)
			return i;
	fail_msg("n = %u is not in the table", n);
	return 0;
}

/* Index of the table column for probability p. */
static size_t table_col(double p)
{
	for (size_t j = 0; j < pb_dip_table.np; j++)
		if (fabs(pb_dip_table.p[j] - p) < 1e-12)
			return j;
	fail_msg("p = %g is not in the table", p);
	return 0;
}

static double table_q(unsigned n, double p)
{
	return pb_dip_table.q[table_row(n) * pb_dip_table.np + table_col(p)];
}

/*
 * Standard error of the table's quantile at (n, p), from M samples:
 * sqrt(p(1-p)/M) / f(q), with the density f(q) estimated from the table by
 * the central difference over the neighbouring columns.
 */
static double table_se(unsigned n, double p, unsigned long m)
{
	size_t i = table_row(n), j = table_col(p), np = pb_dip_table.np;
	const double *q = pb_dip_table.q + i * np, *pp = pb_dip_table.p;
	double f;

	assert_true(j > 0 && j + 1 < np);
	f = (pp[j + 1] - pp[j - 1]) / (q[j + 1] - q[j - 1]);
	return sqrt(p * (1 - p) / (double)m) / f;
}

static void test_dip__published_vectors(void **state)
{
	const double a[] = { 1, 1, 2, 2 };
	const double b[] = { 0, 1, 3, 6 };
	const double c[] = { 0, 2, 3, 5, 6 };
	const double d[] = { 1, 2, 2, 2, 2, 2, 2, 2, 2, 2 };
	double c6[N_OF(c)], d3[N_OF(d)];

	(void)state;
	assert_near(pb_dip(a, N_OF(a)), 0.25, 1e-15);
	assert_near(pb_dip(b, N_OF(b)), 0.125, 1e-15);
	assert_near(pb_dip(c, N_OF(c)), 2.0 / 15, 1e-15);
	assert_near(pb_dip(d, N_OF(d)), 0.05, 1e-15);
	/* R checks both on the mirrored samples too */
	for (size_t i = 0; i < N_OF(c); i++)
		c6[i] = 6 - c[i];
	for (size_t i = 0; i < N_OF(d); i++)
		d3[i] = 3 - d[i];
	assert_near(pb_dip(c6, N_OF(c6)), 2.0 / 15, 1e-15);
	assert_near(pb_dip(d3, N_OF(d3)), 0.05, 1e-15);

	assert_int_equal(N_OF(statfaculty), 63);
	assert_near(pb_dip(statfaculty, N_OF(statfaculty)),
			    7.5 / 126, 1e-13);
	/* R: 2n D = 50.2553 (printed to 6 digits), dip 0.09238 */
	assert_int_equal(N_OF(eruptions), 272);
	assert_near(pb_dip(eruptions, N_OF(eruptions)),
			    50.2553 / 544, 2e-7);
	assert_int_equal(N_OF(precip), 70);
	assert_near(pb_dip(precip, N_OF(precip)), 5.0 / 140, 1e-13);
}

static void test_dip__small_and_degenerate(void **state)
{
	const double one[] = { 3 }, two[] = { 1, 5 }, three[] = { 1, 1, 9 };
	const double same[] = { 7, 7, 7, 7, 7, 7 };
	double bad[] = { 1, 2, 3, 4, 5 }, dip, p;

	(void)state;
	assert_near(pb_dip(one, 1), 0.5, 0);
	assert_near(pb_dip(two, 2), 0.25, 0);
	assert_near(pb_dip(three, 3), 1.0 / 6, 1e-15);
	assert_near(pb_dip(same, N_OF(same)), 1.0 / 12, 1e-15);
	assert_true(isnan(pb_dip(one, 0)));
	assert_true(isnan(pb_dip(NULL, 0)));

	bad[2] = NAN;
	assert_true(isnan(pb_dip(bad, N_OF(bad))));
	assert_int_equal(pb_dip_test(&dip, &p, bad, N_OF(bad)), PB_EINVAL);
	assert_true(isnan(dip) && isnan(p));
	bad[2] = INFINITY;
	assert_true(isnan(pb_dip(bad, N_OF(bad))));
	bad[2] = -INFINITY;
	assert_int_equal(pb_dip_test(&dip, &p, bad, N_OF(bad)), PB_EINVAL);
	assert_int_equal(pb_dip_test(&dip, &p, one, 0), PB_EINVAL);

	/* n <= 3 carries no information */
	assert_int_equal(pb_dip_test(&dip, &p, two, 2), 0);
	assert_near(dip, 0.25, 0);
	assert_near(p, 1, 0);
}

/* Sorting, reversing, mirroring and increasing affine maps leave the dip
 * alone; it stays within [1/(2n), 1/4]. */
static void test_dip__invariance(void **state)
{
	uint64_t s = 42;
	double x[120], y[120], z[120];

	(void)state;
	for (int it = 0; it < 400; it++) {
		size_t n = 4 + next_u64(&s) % (N_OF(x) - 4);
		int kind = it % 4;
		double d0;

		for (size_t i = 0; i < n; i++) {
			double u = next_unif(&s);

			if (kind == 1)
				u = floor(u * 7);           /* many ties */
			else if (kind == 2)
				u = next_u64(&s) & 1 ? u : u + 2;
			else if (kind == 3)
				u = u * u * u;
			x[i] = u;
		}
		d0 = pb_dip(x, n);
		assert_true(d0 >= 0.5 / (double)n - 1e-15);
		assert_true(d0 <= 0.25 + 1e-15);

		memcpy(y, x, n * sizeof(*x));
		qsort(y, n, sizeof(*y), cmp_double);
		assert_near(pb_dip(y, n), d0, 1e-14);
		for (size_t i = 0; i < n; i++)
			z[i] = y[n - 1 - i];
		assert_near(pb_dip(z, n), d0, 1e-14);
		/* a shuffle */
		for (size_t i = n - 1; i > 0; i--) {
			size_t j = next_u64(&s) % (i + 1);
			double t = y[i];

			y[i] = y[j];
			y[j] = t;
		}
		assert_near(pb_dip(y, n), d0, 1e-14);
		for (size_t i = 0; i < n; i++)
			z[i] = -x[i];
		assert_near(pb_dip(z, n), d0, 1e-12);
		for (size_t i = 0; i < n; i++)
			z[i] = 100 + 4 * x[i];
		assert_near(pb_dip(z, n), d0, 1e-12);
	}
}

static void test_dip__table_shape(void **state)
{
	const struct pb_dip_table *t = &pb_dip_table;

	(void)state;
	assert_true(t->nn >= 10);
	assert_true(t->np >= 5);
	assert_int_equal(t->n[0], 4);
	assert_true(t->n[t->nn - 1] >= 200);
	assert_true(t->m >= 100000);
	assert_near(t->p[0], 0, 0);
	assert_near(t->p[t->np - 1], 1, 0);
	for (size_t j = 1; j < t->np; j++)
		assert_true(t->p[j] > t->p[j - 1]);
	for (unsigned n = 4; n <= 20; n++)
		(void)table_row(n);
	for (size_t i = 0; i < t->nn; i++) {
		const double *q = t->q + i * t->np;

		if (i > 0)
			assert_true(t->n[i] > t->n[i - 1]);
		/* the floor 1/(2n) is reached at small n and never crossed */
		assert_true(q[0] >= 0.5 / t->n[i] - 1e-15);
		assert_true(q[t->np - 1] <= 0.25 + 1e-15);
		for (size_t j = 1; j < t->np; j++)
			assert_true(q[j] >= q[j - 1]);
	}
	/* half the samples of 4 uniforms sit on the floor (R: 60 %) */
	assert_near(table_q(4, 0.5), 0.125, 1e-15);
}

/*
 * The published critical values (R diptest qDiptab, M = 1,000,001) against
 * ours.  Both are Monte-Carlo estimates, so the difference has standard
 * error about sqrt(SE_ours^2 + SE_R^2); with M >= 10^5 here and 10^6 there
 * that is at most sqrt(1.1) x SE_ours (about 1e-4 at n = 10, p = 0.95).
 * Five such standard errors, plus the published values' rounding to 5
 * decimals, is the tolerance: a wrong dip (e.g. the 1/(2n) floor, or a tie
 * rule, off) moves these by far more.
 */
static void test_dip__table_matches_published(void **state)
{
	static const struct {
		unsigned n;
		double q90, q95, q99;
	} pub[] = {
		{ 10, 0.13046, 0.13961, 0.15968 },
		{ 15, 0.11009, 0.11876, 0.13598 },
		{ 20, 0.09723, 0.10513, 0.12062 },
		{ 30, 0.08148, 0.08817, 0.10148 },
		{ 50, 0.06491, 0.07027, 0.08120 },
		{ 100, 0.04715, 0.05113, 0.05902 },
	};
	const double ps[3] = { 0.90, 0.95, 0.99 };
	unsigned long m = pb_dip_table.m;

	(void)state;
	for (size_t k = 0; k < N_OF(pub); k++) {
		const double want[3] = { pub[k].q90, pub[k].q95, pub[k].q99 };

		for (int c = 0; c < 3; c++) {
			double got = table_q(pub[k].n, ps[c]);
			double se_ours = table_se(pub[k].n, ps[c], m);
			double se_diff = se_ours * sqrt(1 + (double)m / 1000001.0);
			double tol = 5 * se_diff + 5e-6;

			if (fabs(got - want[c]) > tol)
				fail_msg("n = %u p = %g: table %.5f, published "
					 "%.5f, tolerance %.5f", pub[k].n, ps[c],
					 got, want[c], tol);
		}
	}
}

/*
 * A fresh simulation, small and independent of the generator's stream,
 * against the committed table: catches a table left stale by a change to
 * pb_dip().  M = 20000 per n; the tolerance is 5 standard errors of the
 * difference.
 */
static void test_dip__table_is_current(void **state)
{
	enum { M = 20000 };
	static const unsigned ns[] = { 10, 50 };
	const double ps[3] = { 0.5, 0.9, 0.95 };
	double *d = malloc(M * sizeof(*d)), x[50];
	uint64_t s = 20240611;

	(void)state;
	assert_non_null(d);
	for (size_t k = 0; k < N_OF(ns); k++) {
		unsigned n = ns[k];

		for (int r = 0; r < M; r++) {
			for (unsigned i = 0; i < n; i++)
				x[i] = next_unif(&s);
			d[r] = pb_dip(x, n);
		}
		qsort(d, M, sizeof(*d), cmp_double);
		for (int c = 0; c < 3; c++) {
			double h = ps[c] * (M - 1), want = table_q(n, ps[c]);
			size_t lo = (size_t)h;
			double got = d[lo] + (h - (double)lo) * (d[lo + 1] - d[lo]);
			double se = table_se(n, ps[c], M) *
				    sqrt(1 + (double)M / pb_dip_table.m);

			if (fabs(got - want) > 5 * se)
				fail_msg("n = %u p = %g: simulated %.5f, table "
					 "%.5f, 5 se %.5f: regenerate the table "
					 "(make dip-table)", n, ps[c], got, want,
					 5 * se);
		}
	}
	free(d);
}

static void test_dip__pvalue_at_critical_values(void **state)
{
	(void)state;
	/* interpolation error is far below the Monte-Carlo error of p,
	 * sqrt(0.05 0.95 / M) < 7e-4 for M >= 10^5 */
	assert_near(pb_dip_pvalue(0.13961, 10), 0.05, 0.003);
	assert_near(pb_dip_pvalue(0.10513, 20), 0.05, 0.003);
	assert_near(pb_dip_pvalue(0.07027, 50), 0.05, 0.003);
	assert_near(pb_dip_pvalue(0.05113, 100), 0.05, 0.003);
	assert_near(pb_dip_pvalue(0.15968, 10), 0.01, 0.001);
	assert_near(pb_dip_pvalue(0.13046, 10), 0.10, 0.004);
	/* tabled sizes: the p-value of a tabled quantile is its tail */
	for (size_t i = 0; i < pb_dip_table.nn; i++) {
		unsigned n = pb_dip_table.n[i];
		double q = table_q(n, 0.95);

		if (q > table_q(n, 0.9))
			assert_near(pb_dip_pvalue(q, n), 0.05, 1e-9);
	}
	/* n = 25 sits between 24 and 26 (R's n = 30 published 0.08817 and
	 * n = 20 0.10513 bracket its 0.95 quantile) */
	assert_true(pb_dip_pvalue(0.10513, 25) < 0.05);
	assert_true(pb_dip_pvalue(0.08817, 25) > 0.05);
}

static void test_dip__pvalue_contract(void **state)
{
	const struct pb_dip_table *t = &pb_dip_table;
	const double floor_p = 1 - t->p[t->np - 2];
	static const size_t ns[] = { 4, 5, 9, 10, 17, 21, 33, 64, 100, 150,
				     199, 200, 201, 350, 500, 800, 5000 };

	(void)state;
	assert_true(isnan(pb_dip_pvalue(NAN, 10)));
	assert_true(isnan(pb_dip_pvalue(0.1, 0)));
	assert_near(pb_dip_pvalue(0.25, 3), 1, 0);
	assert_near(pb_dip_pvalue(1.0 / 6, 3), 1, 0);
	/* the floor of the dip is certain, the largest dip is clamped */
	assert_near(pb_dip_pvalue(0.125, 4), 1, 0);
	assert_near(pb_dip_pvalue(0.05, 10), 1, 0);
	assert_near(pb_dip_pvalue(0.25, 10), floor_p, 0);
	assert_near(pb_dip_pvalue(0.25, 500), floor_p, 0);
	assert_near(pb_dip_pvalue(INFINITY, 50), floor_p, 0);
	assert_near(pb_dip_pvalue(0, 50), 1, 0);
	/* beyond the 0.9999 quantile but below the largest dip seen */
	assert_near(pb_dip_pvalue((table_q(10, t->p[t->np - 2]) +
				   table_q(10, 1)) / 2, 10), floor_p, 0);

	/* between two tabled sizes, sqrt(n) D is interpolated linearly in n */
	{
		double q24 = table_q(24, 0.95), q26 = table_q(26, 0.95);
		double mid = (sqrt(24) * q24 + sqrt(26) * q26) / 2 / 5;

		assert_near(pb_dip_pvalue(mid, 25), 0.05, 1e-9);
	}

	for (size_t k = 0; k < N_OF(ns); k++) {
		double prev = 1;

		for (double d = 0; d <= 0.3; d += 0.0005) {
			double p = pb_dip_pvalue(d, ns[k]);

			assert_true(p <= prev);
			assert_true(p >= floor_p && p <= 1);
			prev = p;
		}
		assert_near(prev, floor_p, 0);
	}
	/* past the last tabled size, sqrt(n) D is what is looked up */
	{
		size_t last = t->n[t->nn - 1];

		for (double d = 0.01; d < 0.05; d += 0.001)
			assert_near(
				pb_dip_pvalue(d, 4 * last),
				pb_dip_pvalue(2 * d, last), 1e-12);
	}
}

/* Two tight groups of 20 are bimodal; an even grid and normal scores are
 * not. */
static void test_dip__decides(void **state)
{
	double x[50], dip, p;

	(void)state;
	for (int i = 0; i < 20; i++) {
		double jit = 0.002 * ((i * 7) % 11 - 5);

		x[i] = 1.0 + jit;
		x[20 + i] = 0.6 - jit;
	}
	assert_int_equal(pb_dip_test(&dip, &p, x, 40), 0);
	assert_true(dip > 0.2);
	assert_true(p < 0.01);

	for (int i = 0; i < 40; i++)
		x[i] = (i + 0.5) / 40;
	assert_int_equal(pb_dip_test(&dip, &p, x, 40), 0);
	assert_near(dip, 1.0 / 80, 1e-15);
	assert_true(p > 0.5);

	/* normal scores: the standard normal's quantiles at (i+0.5)/50 by
	 * inverting erf with Newton steps */
	for (int i = 0; i < 50; i++) {
		double u = (i + 0.5) / 50, z = 0;

		for (int k = 0; k < 60; k++) {
			double cdf = 0.5 * erfc(-z / sqrt(2));

			z -= (cdf - u) / (exp(-z * z / 2) / sqrt(2 * M_PI));
		}
		x[i] = z;
	}
	assert_int_equal(pb_dip_test(&dip, &p, x, 50), 0);
	assert_true(p > 0.5);

	/* 15 runs fast, 5 slow: the minor mode is large enough at n = 20 */
	for (int i = 0; i < 20; i++)
		x[i] = (i < 15 ? 100 : 130) + 0.1 * ((i * 5) % 7);
	assert_int_equal(pb_dip_test(&dip, &p, x, 20), 0);
	assert_true(p < 0.05);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dip__published_vectors),
		cmocka_unit_test(test_dip__small_and_degenerate),
		cmocka_unit_test(test_dip__invariance),
		cmocka_unit_test(test_dip__table_shape),
		cmocka_unit_test(test_dip__table_matches_published),
		cmocka_unit_test(test_dip__table_is_current),
		cmocka_unit_test(test_dip__pvalue_at_critical_values),
		cmocka_unit_test(test_dip__pvalue_contract),
		cmocka_unit_test(test_dip__decides),
	};

	return cmocka_run_group_tests_name("dip", tests, NULL, NULL);
}
