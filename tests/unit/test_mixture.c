/*
 * test_mixture.c - unit tests for orchestrator/core/mixture.h: the
 * two-component normal mixture fitted by EM, its threshold and
 * responsibilities, and Ashman's D.
 *
 * Samples are fixed lists or drawn from a seeded splitmix64 generator, so
 * every run sees the same numbers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "common/err.h"
#include "orchestrator/core/mixture.h"

#define FLOOR_REL 0.005   /* what statistics.md and the engine use */

static void expect_near(double got, double want, double tol, const char *what)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("%s: got %.17g, want %.17g (+- %g)", what, got, want,
			 tol);
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in (0, 1), never 0. */
static double unif(uint64_t *s)
{
	return ((double)(splitmix64(s) >> 11) + 0.5) * 0x1.0p-53;
}

/* Standard normal by Box-Muller (one value per call: simple, not fast). */
static double normal(uint64_t *s)
{
	double u = unif(s), v = unif(s);

	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* Checks what every fit must satisfy. */
static void check_fit_invariants(const struct pb_mix *m, size_t n)
{
	assert_int_equal(m->n, n);
	assert_true(m->mu[0] <= m->mu[1]);
	expect_near(m->w[0] + m->w[1], 1, 1e-12, "weights sum");
	assert_true(m->w[0] >= 0 && m->w[1] >= 0);
	for (int c = 0; c < 2; c++) {
		assert_true(isfinite(m->mu[c]));
		assert_true(m->sd[c] >= m->sd_floor);
		assert_true(isfinite(m->sd[c]));
	}
	assert_true(m->sd_floor >= 1e-12);
	assert_true(isfinite(m->loglik));
	assert_true(m->iters <= 500);
	expect_near(m->ashman_d,
		    pb_ashman_d(m->mu[0], m->sd[0], m->mu[1], m->sd[1]), 1e-12,
		    "stored ashman_d");
}

static void test_mixture__two_groups(void **state)
{
	double x[30], copy[30];
	struct pb_mix m;
	double tau;

	(void)state;
	/* 20 runs near 10 and 10 runs near 20, interleaved, +-1 % spread */
	for (int i = 0; i < 30; i++) {
		double jitter = 0.01 * (double)((i * 7) % 11 - 5) / 5;

		x[i] = (i % 3 == 2 ? 20.0 : 10.0) * (1 + jitter);
	}
	memcpy(copy, x, sizeof(x));
	assert_int_equal(pb_mix_fit(&m, x, 30, FLOOR_REL), 0);
	assert_memory_equal(copy, x, sizeof(x));    /* not modified */
	check_fit_invariants(&m, 30);
	expect_near(m.mu[0], 10, 0.05, "low mean");
	expect_near(m.mu[1], 20, 0.1, "high mean");
	expect_near(m.w[0], 20.0 / 30, 1e-6, "low weight");
	expect_near(m.w[1], 10.0 / 30, 1e-6, "high weight");
	/* the spreads are about 0.06 and 0.13: far from each other */
	assert_true(m.sd[0] < 0.5 && m.sd[1] < 0.5);
	assert_true(m.ashman_d > 2);
	assert_true(m.ashman_d > 20);
	/* the floor is 0.5 % of the median of |x| (10.x here) */
	assert_true(m.sd_floor > 0.049 && m.sd_floor < 0.052);

	tau = pb_mix_threshold(&m);
	assert_true(tau > 10.2 && tau < 19.6);
	expect_near(pb_mix_resp(&m, tau), 0.5, 1e-6, "resp at threshold");
	expect_near(pb_mix_resp(&m, 10), 0, 1e-9, "resp(10)");
	expect_near(pb_mix_resp(&m, 20), 1, 1e-9, "resp(20)");
	for (int i = 0; i < 30; i++) {
		double r = pb_mix_resp(&m, x[i]);

		if (x[i] < 15)
			assert_true(r < 1e-6 && x[i] < tau);
		else
			assert_true(r > 1 - 1e-6 && x[i] > tau);
	}
	/* the responsibility rises from one mean to the other */
	for (double v = 10, prev = -1; v <= 20; v += 0.25) {
		double r = pb_mix_resp(&m, v);

		assert_true(r >= prev - 1e-15);
		prev = r;
	}
}

/* A regression test: an earlier start put the lone slow runs and the
 * fast ones in one component.  Two runs near 0.6 and five near 1.0 must
 * give two components at about 0.60 and 1.00. */
static void test_mixture__seven_values(void **state)
{
	const double x[] = { 1.01, 0.99, 1.02, 0.98, 0.61, 1.0, 0.59 };
	struct pb_mix m;

	(void)state;
	assert_int_equal(pb_mix_fit(&m, x, 7, FLOOR_REL), 0);
	check_fit_invariants(&m, 7);
	expect_near(m.mu[0], 0.60, 0.005, "slow mean");
	expect_near(m.mu[1], 1.00, 0.005, "fast mean");
	expect_near(m.w[0], 2.0 / 7, 1e-3, "slow weight");
	expect_near(m.w[1], 5.0 / 7, 1e-3, "fast weight");
	assert_true(m.ashman_d > 3);
	assert_true(pb_mix_threshold(&m) > 0.62 &&
		    pb_mix_threshold(&m) < 0.97);
	/* the sample's order does not matter */
	{
		const double y[] = { 0.59, 1.0, 0.61, 0.98, 1.02, 0.99, 1.01 };
		struct pb_mix m2;

		assert_int_equal(pb_mix_fit(&m2, y, 7, FLOOR_REL), 0);
		for (int c = 0; c < 2; c++) {
			expect_near(m2.mu[c], m.mu[c], 1e-12, "order: mu");
			expect_near(m2.sd[c], m.sd[c], 1e-12, "order: sd");
			expect_near(m2.w[c], m.w[c], 1e-12, "order: w");
		}
	}
}

static void test_mixture__unimodal_no_collapse(void **state)
{
	enum { N = 200 };
	double x[N];
	uint64_t seed = 20240611;
	struct pb_mix m, again;
	double mean = 0, sd = 0;

	(void)state;
	for (int i = 0; i < N; i++) {
		x[i] = 100 * (1 + 0.02 * normal(&seed));
		mean += x[i] / N;
	}
	for (int i = 0; i < N; i++)
		sd += (x[i] - mean) * (x[i] - mean) / N;
	sd = sqrt(sd);
	assert_int_equal(pb_mix_fit(&m, x, N, FLOOR_REL), 0);
	check_fit_invariants(&m, N);
	/* neither component shrinks onto a few points: both keep a spread
	 * of the order of the sample's (2), well above the floor (0.5) */
	for (int c = 0; c < 2; c++) {
		assert_true(m.sd[c] > 2 * m.sd_floor);
		assert_true(m.sd[c] > 0.3 * sd);
		assert_true(m.sd[c] < 1.5 * sd);
		assert_true(m.mu[c] > mean - 3 * sd && m.mu[c] < mean + 3 * sd);
	}
	/* one normal sample is not two modes */
	assert_true(m.ashman_d < 3);
	/* the mixture's mean is the sample's */
	expect_near(m.w[0] * m.mu[0] + m.w[1] * m.mu[1], mean, 0.05 * sd,
		    "mixture mean");

	/* deterministic: the same sample gives the same fit, bit for bit */
	assert_int_equal(pb_mix_fit(&again, x, N, FLOOR_REL), 0);
	assert_memory_equal(&m, &again, sizeof(m));
}

static void test_mixture__floor(void **state)
{
	const double same[] = { 5, 5, 5, 5, 5 };
	const double two[] = { 1, 1, 1, 2, 2, 2 };
	const double zeros[] = { 0, 0, 0 };
	struct pb_mix m;

	(void)state;
	/* all equal: both components at the floor, nothing infinite */
	assert_int_equal(pb_mix_fit(&m, same, 5, FLOOR_REL), 0);
	check_fit_invariants(&m, 5);
	expect_near(m.sd_floor, 0.025, 1e-15, "floor of 5s");
	expect_near(m.sd[0], 0.025, 1e-12, "sd0 of 5s");
	expect_near(m.sd[1], 0.025, 1e-12, "sd1 of 5s");
	expect_near(m.mu[0], 5, 1e-12, "mu of 5s");
	expect_near(pb_mix_threshold(&m), 5, 1e-12, "threshold of 5s");

	/* two exact values: separated, each component at the floor of
	 * 0.5 % * median 1.5 */
	assert_int_equal(pb_mix_fit(&m, two, 6, FLOOR_REL), 0);
	check_fit_invariants(&m, 6);
	expect_near(m.mu[0], 1, 1e-9, "mu0 of 1s and 2s");
	expect_near(m.mu[1], 2, 1e-9, "mu1 of 1s and 2s");
	expect_near(m.sd[0], 0.0075, 1e-9, "sd0 of 1s and 2s");
	expect_near(m.sd[1], 0.0075, 1e-9, "sd1 of 1s and 2s");
	expect_near(pb_mix_threshold(&m), 1.5, 1e-9, "threshold 1s 2s");

	/* a zero median: the absolute floor 1e-12 */
	assert_int_equal(pb_mix_fit(&m, zeros, 3, FLOOR_REL), 0);
	check_fit_invariants(&m, 3);
	expect_near(m.sd_floor, 1e-12, 1e-24, "floor of zeros");
}

static void test_mixture__rejects_bad_input(void **state)
{
	const double ok[] = { 1, 2, 3 };
	const double nan[] = { 1, NAN, 3 };
	const double inf[] = { 1, 2, INFINITY };
	const double ninf[] = { -INFINITY, 2, 3 };
	struct pb_mix m;

	(void)state;
	assert_int_equal(pb_mix_fit(&m, ok, 0, FLOOR_REL), PB_EINVAL);
	assert_int_equal(pb_mix_fit(&m, ok, 1, FLOOR_REL), PB_EINVAL);
	assert_int_equal(pb_mix_fit(&m, nan, 3, FLOOR_REL), PB_EINVAL);
	assert_int_equal(pb_mix_fit(&m, inf, 3, FLOOR_REL), PB_EINVAL);
	assert_int_equal(pb_mix_fit(&m, ninf, 3, FLOOR_REL), PB_EINVAL);
	assert_int_equal(pb_mix_fit(&m, ok, 2, FLOOR_REL), 0);
	check_fit_invariants(&m, 2);
}

static void test_mixture__ashman_d(void **state)
{
	(void)state;
	/* sqrt(2) |mu1 - mu0| / sqrt(sd0^2 + sd1^2) */
	expect_near(pb_ashman_d(0, 1, 3, 1), 3, 1e-12, "D(0,1,3,1)");
	expect_near(pb_ashman_d(3, 1, 0, 1), 3, 1e-12, "symmetric");
	expect_near(pb_ashman_d(0, 3, 10, 4), sqrt(2.0) * 10 / 5, 1e-12,
		    "D(0,3,10,4)");
	/* the engine's bimodal benchmark: 1.0 and 0.6 with 3 % noise */
	expect_near(pb_ashman_d(0.6, 0.018, 1.0, 0.03),
		    sqrt(2.0) * 0.4 / sqrt(0.018 * 0.018 + 0.03 * 0.03), 1e-12,
		    "D bench");
	assert_true(pb_ashman_d(1, 0, 1, 0) == 0);
	assert_true(isinf(pb_ashman_d(1, 0, 2, 0)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mixture__two_groups),
		cmocka_unit_test(test_mixture__seven_values),
		cmocka_unit_test(test_mixture__unimodal_no_collapse),
		cmocka_unit_test(test_mixture__floor),
		cmocka_unit_test(test_mixture__rejects_bad_input),
		cmocka_unit_test(test_mixture__ashman_d),
	};

	return cmocka_run_group_tests_name("mixture", tests, NULL, NULL);
}
