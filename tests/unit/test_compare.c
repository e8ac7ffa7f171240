/*
 * test_compare.c - unit tests for orchestrator/core/compare.h, the judge
 * of a pull-request check: its answers on runs whose answer is known
 * (slower, faster, no difference, inconclusive), the effect's sign in
 * both metric directions, how runs pair (whole pairs of one job only),
 * and the bad-end, too-busy and budget rules.
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
#include "orchestrator/core/compare.h"

#define MAXR 400

/* ABBA jobs of 8 runs: base value b, head value h, each run times
 * (1 + noise * u), u uniform in [-1, 1) from a fixed sequence; n runs. */
static size_t abba(struct pb_compare_run *v, size_t n, double b, double h,
		   double noise)
{
	static const int side[4] = { 0, 1, 1, 0 };
	uint64_t x = 88172645463325252ULL;

	for (size_t k = 0; k < n; k++) {
		double w;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		w = 1 + noise * ((double)(x >> 11) / 4503599627370496.0 - 1);

		v[k] = (struct pb_compare_run){ side[k % 4], k / 8,
						(unsigned)(k % 8),
						PB_COMPARE_RUN_OK,
						(side[k % 4] ? h : b) * w };
	}
	return n;
}

static void judge(struct pb_compare_state *st, int lower, double min_effect,
		  const struct pb_compare_run *v, size_t n)
{
	struct pb_compare_opts o = PB_COMPARE_OPTS_INIT;

	o.lower_is_better = lower;
	o.min_effect = min_effect;
	assert_int_equal(pb_compare_judge(st, &o, v, n), 0);
}

static void test_compare__slower_and_faster(void **state)
{
	struct pb_compare_run v[MAXR];
	struct pb_compare_state st;

	(void)state;
	/* throughput 30 % lower: slower, effect -0.3, interval below 0 */
	judge(&st, 0, 0.03, v, abba(v, 80, 100, 70, 0.01));
	assert_int_equal(st.result, PB_COMPARE_SLOWER);
	assert_string_equal(pb_compare_result_name(st.result), "slower");
	assert_int_equal(pb_compare_exit_code(st.result), 1);
	assert_true(st.pairs >= 9 && st.pairs < 40);
	assert_true(fabs(st.effect + 0.3) < 0.01);
	assert_true(st.lo <= st.effect && st.effect <= st.hi && st.hi < 0);
	assert_true(st.p <= 0.01);
	/* said in words, never "slower ... -30.0 %": "head is slower than
	 * base: 30.1 % worse; 95 % interval 29.6 to 30.6 % worse, 10 pairs" */
	assert_non_null(strstr(st.why, "head is slower than base: "));
	assert_non_null(strstr(st.why, " % worse; 95 % interval "));
	assert_non_null(strstr(st.why, " % worse, "));
	assert_null(strchr(st.why, '-'));
	/* the same runs as times (lower is better): faster, +0.3 */
	judge(&st, 1, 0.03, v, 80);
	assert_int_equal(st.result, PB_COMPARE_FASTER);
	assert_int_equal(pb_compare_exit_code(st.result), 0);
	assert_true(fabs(st.effect - 0.3) < 0.01 && st.lo > 0);
	assert_non_null(strstr(st.why, "head is faster than base: "));
	assert_non_null(strstr(st.why, " % better; 95 % interval "));
	/* times 1.3 times base's: slower, -0.3 in the better-is direction */
	judge(&st, 1, 0.03, v, abba(v, 80, 100, 130, 0.01));
	assert_int_equal(st.result, PB_COMPARE_SLOWER);
	assert_true(fabs(st.effect + 0.3) < 0.01);
	/* the answer comes at the pair that decides: later runs change
	 * nothing */
	{
		struct pb_compare_state more;

		judge(&more, 1, 0.03, v, abba(v, 160, 100, 130, 0.01));
		assert_int_equal(more.pairs, st.pairs);
		assert_true(more.effect == st.effect);
	}
}

static void test_compare__no_difference_and_inconclusive(void **state)
{
	struct pb_compare_run v[MAXR];
	struct pb_compare_state st;

	(void)state;
	/* alike, noise well below min_effect: both tests stop on futility */
	judge(&st, 0, 0.03, v, abba(v, 160, 100, 100, 0.002));
	assert_int_equal(st.result, PB_COMPARE_NO_DIFFERENCE);
	assert_string_equal(pb_compare_result_name(st.result), "no_difference");
	assert_int_equal(pb_compare_exit_code(st.result), 0);
	assert_true(fabs(st.effect) < 0.01);
	/* too few runs yet: running */
	judge(&st, 0, 0.03, v, 6);
	assert_int_equal(st.result, PB_COMPARE_RUNNING);
	assert_int_equal(pb_compare_exit_code(st.result), -1);
	assert_null(pb_compare_result_name(st.result));
	/* a 3 % change in 10 % noise: undecided after 40 pairs */
	judge(&st, 0, 0.03, v, abba(v, 200, 100, 97, 0.1));
	assert_int_equal(st.result, PB_COMPARE_INCONCLUSIVE);
	assert_int_equal(pb_compare_exit_code(st.result), 1);
	assert_true(st.pairs <= 40);
}

static void test_compare__pairs(void **state)
{
	struct pb_compare_run v[MAXR];
	struct pb_compare_state a, b;
	size_t n = abba(v, 80, 100, 70, 0.01);

	(void)state;
	judge(&a, 0, 0.03, v, n);
	/* a disturbed or failed half drops its pair, and only it */
	for (size_t k = 0; k < n; k += 8) {
		v[k].status = PB_COMPARE_RUN_DISTURBED;
		v[k + 3].status = PB_COMPARE_RUN_FAILED;
	}
	judge(&b, 0, 0.03, v, n);
	assert_int_equal(a.result, PB_COMPARE_SLOWER);
	assert_int_equal(b.result, PB_COMPARE_SLOWER);
	assert_true(b.pairs >= 9);
	assert_int_equal(b.disturbed, 10);
	assert_int_equal(b.failed[0], 10);
	/* halves of different jobs never pair */
	n = abba(v, 40, 100, 70, 0.01);
	for (size_t k = 0; k < n; k++)
		v[k].job = k;
	judge(&b, 0, 0.03, v, n);
	assert_int_equal(b.result, PB_COMPARE_RUNNING);
	assert_int_equal(b.pairs, 0);
	assert_true(isnan(b.effect));
	/* a side out of range */
	v[0].side = 2;
	{
		struct pb_compare_opts o = PB_COMPARE_OPTS_INIT;

		assert_int_equal(pb_compare_judge(&b, &o, v, n), PB_EINVAL);
	}
}

static void test_compare__bad_end_busy_budget(void **state)
{
	struct pb_compare_run v[MAXR];
	struct pb_compare_state st;
	size_t n = abba(v, 8, 100, 70, 0.01);

	(void)state;
	/* the head never prints the metric */
	for (size_t k = 0; k < n; k++)
		if (v[k].side)
			v[k].status = PB_COMPARE_RUN_FAILED;
	judge(&st, 0, 0.03, v, n);
	assert_int_equal(st.result, PB_COMPARE_BAD_END);
	assert_int_equal(pb_compare_exit_code(st.result), 2);
	assert_non_null(strstr(st.why, "head"));
	/* most runs disturbed */
	n = abba(v, 16, 100, 70, 0.01);
	for (size_t k = 0; k < n; k++)
		v[k].status = PB_COMPARE_RUN_DISTURBED;
	judge(&st, 0, 0.03, v, n);
	assert_int_equal(st.result, PB_COMPARE_TOO_BUSY);
	assert_int_equal(pb_compare_exit_code(st.result), 3);
	/* failed runs every other pair, never a whole pair: the run budget */
	n = abba(v, 200, 100, 70, 0.01);
	for (size_t k = 0; k < n; k += 2)
		v[k].status = PB_COMPARE_RUN_FAILED;
	judge(&st, 0, 0.03, v, n);
	assert_int_equal(st.result, PB_COMPARE_INCONCLUSIVE);
	assert_int_equal(st.pairs, 0);
	assert_null(pb_compare_result_name(PB_COMPARE_BAD_END));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compare__slower_and_faster),
		cmocka_unit_test(test_compare__no_difference_and_inconclusive),
		cmocka_unit_test(test_compare__pairs),
		cmocka_unit_test(test_compare__bad_end_busy_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
