/*
 * test_backoff.c - agent/daemon/backoff.h: waits grow from the minimum,
 * doubling, to the maximum, each within [d/2, d]; a success starts over;
 * Retry-After is honoured (seconds or an HTTP date), capped, and garbage
 * in it is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "agent/daemon/backoff.h"
#include "common/err.h"

static void test_backoff__doubling_with_jitter(void **state)
{
	struct pb_backoff b;
	double want[] = { 1, 2, 4, 8, 16, 32, 60, 60, 60 };
	double lo = 1e9, hi = 0;

	(void)state;
	pb_backoff_init(&b, 1, 60, 12345);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		double w = pb_backoff_next(&b, -1);

		assert_true(w >= want[i] / 2 && w <= want[i]);
	}
	/* the jitter spreads the waits over the whole half-interval */
	for (int i = 0; i < 1000; i++) {
		double w = pb_backoff_next(&b, -1);

		lo = w < lo ? w : lo;
		hi = w > hi ? w : hi;
	}
	assert_true(lo < 32 && hi > 57);
	pb_backoff_reset(&b);
	assert_true(pb_backoff_next(&b, -1) <= 1);
	/* a short maximum, as tests use */
	pb_backoff_init(&b, 1, 0.2, 1);
	for (int i = 0; i < 5; i++)
		assert_true(pb_backoff_next(&b, -1) <= 0.2);
}

static void test_backoff__retry_after(void **state)
{
	struct pb_backoff b;
	double s = -1, now = 1445412480; /* Wed, 21 Oct 2015 07:28:00 GMT */

	(void)state;
	pb_backoff_init(&b, 1, 60, 7);
	/* honoured as said, and it still counts as a failure */
	assert_true(pb_backoff_next(&b, 5) == 5);
	assert_true(pb_backoff_next(&b, 0) == 0);
	assert_true(pb_backoff_next(&b, 1e9) == PB_RETRY_AFTER_MAX);
	assert_true(pb_backoff_next(&b, -1) >= 4);

	assert_int_equal(pb_retry_after_parse("120", now, &s), PB_OK);
	assert_true(s == 120);
	assert_int_equal(pb_retry_after_parse("  7 \r\n", now, &s), PB_OK);
	assert_true(s == 7);
	assert_int_equal(pb_retry_after_parse("Wed, 21 Oct 2015 07:28:30 GMT",
					      now, &s),
			 PB_OK);
	assert_true(s == 30);
	assert_int_equal(pb_retry_after_parse("Wed, 21 Oct 2015 07:00:00 GMT",
					      now, &s),
			 PB_OK);
	assert_true(s == 0); /* in the past */
	assert_int_equal(pb_retry_after_parse("", now, &s), PB_EINVAL);
	assert_int_equal(pb_retry_after_parse("-3", now, &s), PB_EINVAL);
	assert_int_equal(pb_retry_after_parse("1.5", now, &s), PB_EINVAL);
	assert_int_equal(pb_retry_after_parse("12abc", now, &s), PB_EINVAL);
	assert_int_equal(pb_retry_after_parse("soon", now, &s), PB_EINVAL);
	assert_int_equal(pb_retry_after_parse("99999999999999999999", now, &s),
			 PB_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff__doubling_with_jitter),
		cmocka_unit_test(test_backoff__retry_after),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
