/*
 * test_human.c - numbers and text for a person (common/human.h): SI
 * prefixes, probabilities without "nan" or "7.3e-22", elapsed time, the
 * last lines of a log, and "did you mean" for metric names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "common/buf.h"
#include "common/human.h"
#include "common/util.h"

static void si_is(double v, const char *want)
{
	char out[32];

	pb_human_si(out, sizeof(out), v);
	assert_string_equal(out, want);
}

static void test_human__si_three_digits_and_prefix(void **state)
{
	(void)state;
	si_is(86.4e6, "86.4 M");
	si_is(86437215.0, "86.4 M");
	si_is(9.79503e7, "98.0 M");
	si_is(1234, "1.23 k");
	si_is(999.4, "999");
	si_is(999.6, "1.00 k");
	si_is(999.96e3, "1.00 M");
	si_is(512, "512");
	si_is(3.14159, "3.14");
	si_is(10, "10.0");
	si_is(0.0123, "12.3 m");
	si_is(-4e9, "-4.00 G");
	si_is(0, "0");
	si_is(7.3e-22, "7.3e-22"); /* beyond the prefixes: still short */
	si_is(NAN, "n/a");
	si_is(INFINITY, "n/a");
}

static void prob_is(double p, const char *want)
{
	char out[32];

	pb_human_prob(out, sizeof(out), p);
	assert_string_equal(out, want);
}

static void test_human__probability_reads_as_percent(void **state)
{
	(void)state;
	prob_is(0.471, "47.1 %");
	prob_is(7.3e-22, "< 0.1 %");
	prob_is(0.00099, "< 0.1 %");
	prob_is(0.001, "0.1 %");
	prob_is(0.999, "99.9 %");
	prob_is(0.9995, "99.95 %");
	prob_is(0.99995, "99.995 %");
	prob_is(0.999999999, "> 99.9999 %");
	prob_is(1, "100 %");
	prob_is(0, "0 %");
	prob_is(NAN, "n/a");
}

static void test_human__elapsed(void **state)
{
	char out[32];

	(void)state;
	pb_human_elapsed(out, sizeof(out), 42.4);
	assert_string_equal(out, "0:42");
	pb_human_elapsed(out, sizeof(out), 725);
	assert_string_equal(out, "12:05");
	pb_human_elapsed(out, sizeof(out), 3723);
	assert_string_equal(out, "1:02:03");
	pb_human_elapsed(out, sizeof(out), NAN);
	assert_string_equal(out, "0:00");
}

static void test_human__tail_keeps_last_lines_capped(void **state)
{
	struct pb_buf b = PB_BUF_INIT(4096);

	(void)state;
	assert_int_equal(pb_human_tail(&b, "one\ntwo\n\n  \nthree\r\nfour\n",
				       3, 80, "  | "),
			 3);
	assert_string_equal(b.ptr, "  | two\n  | three\n  | four\n");
	pb_buf_reset(&b);
	/* fewer lines than asked, no trailing newline */
	assert_int_equal(pb_human_tail(&b, "only", 5, 80, ""), 1);
	assert_string_equal(b.ptr, "only\n");
	pb_buf_reset(&b);
	/* long lines are cut, control characters shown as '?' */
	assert_int_equal(pb_human_tail(&b, "abcdefghij\x1b[31m", 1, 8, ""), 1);
	assert_string_equal(b.ptr, "abcdefgh...\n");
	pb_buf_reset(&b);
	assert_int_equal(pb_human_tail(&b, "a\x1b[1mb", 1, 80, ""), 1);
	assert_string_equal(b.ptr, "a?[1mb\n");
	pb_buf_reset(&b);
	assert_int_equal(pb_human_tail(&b, "\n \n", 3, 80, ""), 0);
	assert_int_equal(pb_human_tail(&b, NULL, 3, 80, ""), 0);
	assert_string_equal(b.ptr, "");
	pb_buf_release(&b);
}

static void test_human__closest_name(void **state)
{
	const char *const names[] = { "throughput", "latency", "checksum" };
	const char *const one[] = { "score" };
	const char *const ops[] = { "ops_per_sec", "latency_p99" };

	(void)state;
	assert_int_equal(pb_human_closest("thruput", names, 3), 0);
	assert_int_equal(pb_human_closest("Throughput", names, 3), 0);
	assert_int_equal(pb_human_closest("latncy", names, 3), 1);
	assert_int_equal(pb_human_closest("ops", ops, 2), 0);
	assert_int_equal(pb_human_closest("xyzzy", names, 3), -1);
	/* the only name printed is what was meant */
	assert_int_equal(pb_human_closest("throughput", one, 1), 0);
	assert_int_equal(pb_human_closest("x", names, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_human__si_three_digits_and_prefix),
		cmocka_unit_test(test_human__probability_reads_as_percent),
		cmocka_unit_test(test_human__elapsed),
		cmocka_unit_test(test_human__tail_keeps_last_lines_capped),
		cmocka_unit_test(test_human__closest_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
