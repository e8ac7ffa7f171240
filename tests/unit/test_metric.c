/*
 * test_metric.c - unit tests for common/metric.h (the benchmark output
 * contract: one line at a time, and the streaming pb_metrics_* API).
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
#include "common/metric.h"

/* Parses a NUL-terminated line; name and value are left as they were when
 * the line is not a metric. */
static enum pb_line_kind parse(const char *line, char name[PB_METRIC_NAME_MAX],
			       double *value)
{
	return pb_metric_parse_line(line, strlen(line), name, value);
}

/* Asserts that `line` is a metric `want_name` with a value near `want`. */
static void expect_metric(const char *line, const char *want_name,
			  double want)
{
	char name[PB_METRIC_NAME_MAX];
	double v = -12345.0;
	enum pb_line_kind k;

	memset(name, 'X', sizeof(name));
	name[sizeof(name) - 1] = '\0';
	k = parse(line, name, &v);
	if (k != PB_LINE_METRIC)
		fail_msg("line \"%s\": kind %d, want PB_LINE_METRIC", line,
			 (int)k);
	assert_string_equal(name, want_name);
	if (!(fabs(v - want) <= 1e-9 * fmax(1.0, fabs(want))))
		fail_msg("line \"%s\": value %.17g, want %.17g", line, v,
			 want);
}

static void expect_kind(const char *line, enum pb_line_kind want)
{
	char name[PB_METRIC_NAME_MAX];
	double v = -12345.0;
	enum pb_line_kind k = parse(line, name, &v);

	if (k != want)
		fail_msg("line \"%s\": kind %d, want %d", line, (int)k,
			 (int)want);
	if (want != PB_LINE_METRIC)
		assert_true(v == -12345.0); /* value untouched */
}

static void feed_str(struct pb_metrics *m, const char *s)
{
	pb_metrics_feed(m, s, strlen(s));
}

static double get(const struct pb_metrics *m, const char *name)
{
	double v = NAN;

	if (pb_metrics_get(m, name, &v) != PB_OK)
		fail_msg("metric '%s' not found", name);
	return v;
}

/* ---- pb_metric_parse_line ---- */

static void test_metric__good_lines(void **state)
{
	(void)state;
	expect_metric("ops: 12.5", "ops", 12.5);
	expect_metric("ops=12.5", "ops", 12.5);
	expect_metric("  ops : 12.5", "ops", 12.5);
	expect_metric("ops = 12.5", "ops", 12.5);
	expect_metric("ops:12.5", "ops", 12.5);
	expect_metric("\tops\t:\t12.5", "ops", 12.5);
	expect_metric("ops:\t12.5", "ops", 12.5);
	expect_metric("ops: 12", "ops", 12.0);
	expect_metric("ops: 12.", "ops", 12.0);
	expect_metric("ops: .5", "ops", 0.5);
	expect_metric("ops: 0", "ops", 0.0);
	expect_metric("ops: 007", "ops", 7.0);
	expect_metric("ops: 12.5   ", "ops", 12.5);
}

static void test_metric__signs(void **state)
{
	(void)state;
	expect_metric("x: +3", "x", 3.0);
	expect_metric("x: -2.5", "x", -2.5);
	expect_metric("x=-0.25", "x", -0.25);
	expect_metric("x: +.5", "x", 0.5);
	expect_kind("x: -", PB_LINE_NONE);
	expect_kind("x: +", PB_LINE_NONE);
	expect_kind("x: +-3", PB_LINE_NONE);
}

static void test_metric__exponents(void **state)
{
	(void)state;
	expect_metric("x: 1.5e3", "x", 1500.0);
	expect_metric("x: 2E-2", "x", 0.02);
	expect_metric("x: 1e+2", "x", 100.0);
	expect_metric("x: -1.25e1", "x", -12.5);
	expect_metric("x: 1e308", "x", 1e308);
	/* an exponent without digits is not part of the number */
	expect_metric("x: 3e", "x", 3.0);
	expect_metric("x: 3e+", "x", 3.0);
	expect_metric("x: 3E-ms", "x", 3.0);
	/* underflow to (almost) zero is kept */
	expect_metric("x: 1e-400", "x", 0.0);
}

static void test_metric__units_after_number(void **state)
{
	(void)state;
	expect_metric("latency: 12.5ms", "latency", 12.5);
	expect_metric("rate: 12 ops/s", "rate", 12.0);
	expect_metric("time=3.5 s (wall)", "time", 3.5);
	expect_metric("x: 1.5e3ns", "x", 1500.0);
	expect_metric("x: 7%", "x", 7.0);
	/* hex is not part of the grammar: "0x10" is 0 followed by a unit */
	expect_metric("x: 0x10", "x", 0.0);
}

static void test_metric__garbage_lines(void **state)
{
	(void)state;
	expect_kind("", PB_LINE_NONE);
	expect_kind("   ", PB_LINE_NONE);
	expect_kind("hello", PB_LINE_NONE);
	expect_kind(": 5", PB_LINE_NONE);
	expect_kind("=5", PB_LINE_NONE);
	expect_kind("ops:", PB_LINE_NONE);
	expect_kind("ops:   ", PB_LINE_NONE);
	expect_kind("ops: abc", PB_LINE_NONE);
	expect_kind("ops: .", PB_LINE_NONE);
	expect_kind("ops: e5", PB_LINE_NONE);
	expect_kind("ops 5", PB_LINE_NONE);
	expect_kind("ops/s: 5", PB_LINE_NONE);
	expect_kind("my ops: 5", PB_LINE_NONE);
	expect_kind("ops:: 5", PB_LINE_NONE);
	expect_kind("ops: na", PB_LINE_NONE);
	expect_kind("ops: in", PB_LINE_NONE);
	expect_kind("[info] ops: 5", PB_LINE_NONE);
}

static void test_metric__overflow_ignored(void **state)
{
	char name[PB_METRIC_NAME_MAX];
	double v = 1.0;

	(void)state;
	expect_kind("x: 1e999", PB_LINE_IGNORED);
	expect_kind("x: -1e999", PB_LINE_IGNORED);
	expect_kind("x=1E+400", PB_LINE_IGNORED);
	expect_kind("x: 2e308", PB_LINE_IGNORED);
	/* the name is still reported */
	name[0] = '\0';
	assert_int_equal(parse("big: 1e999", name, &v), PB_LINE_IGNORED);
	assert_string_equal(name, "big");
	assert_true(v == 1.0);
}

static void test_metric__nonfinite_ignored(void **state)
{
	char name[PB_METRIC_NAME_MAX];
	double v = 1.0;

	(void)state;
	expect_kind("x: nan", PB_LINE_IGNORED);
	expect_kind("x: NaN", PB_LINE_IGNORED);
	expect_kind("x: NAN", PB_LINE_IGNORED);
	expect_kind("x: -nan", PB_LINE_IGNORED);
	expect_kind("x: inf", PB_LINE_IGNORED);
	expect_kind("x: -inf", PB_LINE_IGNORED);
	expect_kind("x: +Inf", PB_LINE_IGNORED);
	expect_kind("x: infinity", PB_LINE_IGNORED);
	expect_kind("x=INFINITY", PB_LINE_IGNORED);
	expect_kind("x: nan(0x1)", PB_LINE_IGNORED);
	name[0] = '\0';
	assert_int_equal(parse("speed: inf", name, &v), PB_LINE_IGNORED);
	assert_string_equal(name, "speed");
	assert_true(v == 1.0);
}

static void test_metric__name_chars(void **state)
{
	(void)state;
	expect_metric("a.b-c_1: 3", "a.b-c_1", 3.0);
	expect_metric("A9: 1", "A9", 1.0);
	expect_metric("9: 2", "9", 2.0);
	expect_metric("_: 4", "_", 4.0);
	expect_metric("bench.read-4k_p99=0.75", "bench.read-4k_p99", 0.75);
	expect_metric("Ops: 1", "Ops", 1.0);
}

static void test_metric__long_names(void **state)
{
	char line[PB_METRIC_NAME_MAX + 64];
	char want[PB_METRIC_NAME_MAX];

	(void)state;
	/* 127 characters: the longest name that fits */
	memset(want, 'n', PB_METRIC_NAME_MAX - 1);
	want[PB_METRIC_NAME_MAX - 1] = '\0';
	snprintf(line, sizeof(line), "%s: 5", want);
	expect_metric(line, want, 5.0);

	/* 128 characters: too long */
	memset(line, 'n', PB_METRIC_NAME_MAX);
	snprintf(line + PB_METRIC_NAME_MAX, sizeof(line) - PB_METRIC_NAME_MAX,
		 ": 5");
	expect_kind(line, PB_LINE_NONE);

	/* 150 characters: too long */
	{
		char big[200];
		memset(big, 'q', 150);
		snprintf(big + 150, sizeof(big) - 150, "=1");
		expect_kind(big, PB_LINE_NONE);
	}
}

static void test_metric__trailing_cr(void **state)
{
	char name[PB_METRIC_NAME_MAX];
	double v = 0;

	(void)state;
	expect_metric("ops: 12.5\r", "ops", 12.5);
	expect_metric("ops=3\r", "ops", 3.0);
	expect_metric("ops: 4ms\r", "ops", 4.0);
	expect_kind("ops:\r", PB_LINE_NONE);
	expect_kind("\r", PB_LINE_NONE);
	expect_kind("ops: inf\r", PB_LINE_IGNORED);
	expect_kind("ops: 1e999\r", PB_LINE_IGNORED);
	/* the length argument is honoured, not the terminator */
	assert_int_equal(pb_metric_parse_line("ops: 12.5", 7, name, &v),
			 PB_LINE_METRIC);
	assert_string_equal(name, "ops");
	assert_true(v == 12.0);
	assert_int_equal(pb_metric_parse_line("ops: 12.5", 4, name, &v),
			 PB_LINE_NONE);
}

static void test_metric__length_not_nul(void **state)
{
	/* a line that is not NUL-terminated (a window into a bigger block) */
	const char block[] = { 'a', ':', ' ', '1', '2', '3', '4' };
	char name[PB_METRIC_NAME_MAX];
	double v = 0;

	(void)state;
	assert_int_equal(pb_metric_parse_line(block, 5, name, &v),
			 PB_LINE_METRIC);
	assert_string_equal(name, "a");
	assert_true(v == 12.0);
	assert_int_equal(pb_metric_parse_line(block, sizeof(block), name, &v),
			 PB_LINE_METRIC);
	assert_true(v == 1234.0);
}

static void test_metric__very_long_number(void **state)
{
	/* 600 digits: not a measurement, but must not crash or overflow */
	char line[700];

	(void)state;
	memcpy(line, "x: ", 3);
	memset(line + 3, '1', 600);
	line[603] = '\0';
	expect_kind(line, PB_LINE_IGNORED);

	/* 300 digits is a finite double */
	line[303] = '\0';
	expect_metric(line, "x", strtod(line + 3, NULL));
}

/* ---- streaming ---- */

static void test_metric__not_found(void **state)
{
	struct pb_metrics m;
	double v = 42.0;

	(void)state;
	pb_metrics_init(&m);
	feed_str(&m, "hello\nworld\nops 5\n");
	pb_metrics_finish(&m);
	assert_int_equal(pb_metrics_get(&m, "ops", &v), PB_ENOTFOUND);
	assert_true(v == 42.0);
	assert_int_equal(m.n, 0);
	assert_int_equal(m.ignored, 0);
	pb_metrics_release(&m);

	/* nothing fed at all */
	pb_metrics_init(&m);
	pb_metrics_finish(&m);
	assert_int_equal(pb_metrics_get(&m, "ops", &v), PB_ENOTFOUND);
	pb_metrics_release(&m);
}

static void test_metric__last_line_wins(void **state)
{
	struct pb_metrics m;

	(void)state;
	pb_metrics_init(&m);
	feed_str(&m, "ops: 1\nnoise\nops: 2\nops=3.5\n");
	pb_metrics_finish(&m);
	assert_true(get(&m, "ops") == 3.5);
	assert_int_equal(m.n, 1);
	pb_metrics_release(&m);
}

static void test_metric__extra_metrics_kept(void **state)
{
	struct pb_metrics m;
	double v;

	(void)state;
	pb_metrics_init(&m);
	feed_str(&m, "warmup done\n"
		     "ops: 10\n"
		     "latency_p50: 1.5ms\n"
		     "rss=2048\n"
		     "ops: 11\n"
		     "latency_p50: 1.25ms\n");
	pb_metrics_finish(&m);
	assert_int_equal(m.n, 3);
	/* in order of first appearance, each with its last value */
	assert_string_equal(m.kv[0].name, "ops");
	assert_true(m.kv[0].value == 11.0);
	assert_string_equal(m.kv[1].name, "latency_p50");
	assert_true(m.kv[1].value == 1.25);
	assert_string_equal(m.kv[2].name, "rss");
	assert_true(m.kv[2].value == 2048.0);
	assert_true(get(&m, "ops") == 11.0);
	assert_true(get(&m, "latency_p50") == 1.25);
	assert_true(get(&m, "rss") == 2048.0);
	/* names are matched exactly */
	assert_int_equal(pb_metrics_get(&m, "Ops", &v), PB_ENOTFOUND);
	assert_int_equal(pb_metrics_get(&m, "op", &v), PB_ENOTFOUND);
	assert_int_equal(pb_metrics_get(&m, "latency", &v), PB_ENOTFOUND);
	pb_metrics_release(&m);
}

static void test_metric__split_across_feeds(void **state)
{
	static const char out[] = "start\r\n"
				  "  ops : 12.5 ms\r\n"
				  "a.b-c_1=3\n"
				  "ops: 99e-1\n"
				  "\n"
				  "tail: 7";
	struct pb_metrics m;

	(void)state;
	/* byte by byte */
	pb_metrics_init(&m);
	for (size_t i = 0; i < sizeof(out) - 1; i++)
		pb_metrics_feed(&m, out + i, 1);
	pb_metrics_finish(&m);
	assert_int_equal(m.n, 3);
	assert_true(get(&m, "ops") == 9.9);
	assert_true(get(&m, "a.b-c_1") == 3.0);
	assert_true(get(&m, "tail") == 7.0);
	pb_metrics_release(&m);

	/* every split into two and into three chunks gives the same */
	for (size_t a = 0; a < sizeof(out) - 1; a += 3) {
		for (size_t b = a; b < sizeof(out) - 1; b += 5) {
			pb_metrics_init(&m);
			pb_metrics_feed(&m, out, a);
			pb_metrics_feed(&m, out + a, b - a);
			pb_metrics_feed(&m, out + b, sizeof(out) - 1 - b);
			pb_metrics_finish(&m);
			assert_int_equal(m.n, 3);
			assert_true(get(&m, "ops") == 9.9);
			assert_true(get(&m, "a.b-c_1") == 3.0);
			assert_true(get(&m, "tail") == 7.0);
			pb_metrics_release(&m);
		}
	}
}

static void test_metric__zero_length_feed(void **state)
{
	struct pb_metrics m;

	(void)state;
	pb_metrics_init(&m);
	pb_metrics_feed(&m, "", 0);
	feed_str(&m, "ops: ");
	pb_metrics_feed(&m, "", 0);
	feed_str(&m, "5\n");
	pb_metrics_finish(&m);
	assert_true(get(&m, "ops") == 5.0);
	pb_metrics_release(&m);
}

static void test_metric__last_line_needs_finish(void **state)
{
	struct pb_metrics m;
	double v = 0;

	(void)state;
	pb_metrics_init(&m);
	feed_str(&m, "ops: 1\nops: 2");
	/* not yet: the last line could still go on */
	assert_true(get(&m, "ops") == 1.0);
	feed_str(&m, "5");
	assert_true(get(&m, "ops") == 1.0);
	pb_metrics_finish(&m);
	assert_true(get(&m, "ops") == 25.0);
	/* finishing again changes nothing */
	pb_metrics_finish(&m);
	assert_true(get(&m, "ops") == 25.0);
	assert_int_equal(m.n, 1);
	pb_metrics_release(&m);

	/* a single line without newline */
	pb_metrics_init(&m);
	feed_str(&m, "solo=4");
	assert_int_equal(pb_metrics_get(&m, "solo", &v), PB_ENOTFOUND);
	pb_metrics_finish(&m);
	assert_true(get(&m, "solo") == 4.0);
	pb_metrics_release(&m);
}

static void test_metric__ignored_line_keeps_good_value(void **state)
{
	struct pb_metrics m;

	(void)state;
	pb_metrics_init(&m);
	feed_str(&m, "ops: 12.5\nops: 1e999\n");
	pb_metrics_finish(&m);
	assert_true(get(&m, "ops") == 12.5);
	assert_int_equal(m.ignored, 1);
	assert_non_null(m.notes.ptr);
	assert_true(m.notes.len > 0);
	assert_int_equal(strlen(m.notes.ptr), m.notes.len);
	assert_non_null(strstr(m.notes.ptr, "ops"));
	assert_int_equal(m.n, 1);

	/* more ignored lines are counted and noted too */
	feed_str(&m, "ops: nan\nlat: -inf\nops: 13\n");
	pb_metrics_finish(&m);
	assert_true(get(&m, "ops") == 13.0);
	assert_int_equal(m.ignored, 3);
	assert_non_null(strstr(m.notes.ptr, "lat"));
	/* an ignored name is not made into a metric */
	{
		double v;
		assert_int_equal(pb_metrics_get(&m, "lat", &v), PB_ENOTFOUND);
	}
	pb_metrics_release(&m);
}

static void test_metric__garbage_not_noted(void **state)
{
	struct pb_metrics m;

	(void)state;
	pb_metrics_init(&m);
	feed_str(&m, "hello\nops: abc\n: 5\nops: 3\n");
	pb_metrics_finish(&m);
	assert_true(get(&m, "ops") == 3.0);
	assert_int_equal(m.ignored, 0);
	assert_int_equal(m.notes.len, 0);
	assert_string_equal(m.notes.ptr, "");
	pb_metrics_release(&m);
}

static void test_metric__long_line_dropped(void **state)
{
	struct pb_metrics m;
	char *big;
	size_t blen = PB_METRIC_LINE_MAX + 100;

	(void)state;
	big = malloc(blen);
	assert_non_null(big);
	/* a metric line padded past the limit: dropped whole */
	memcpy(big, "ops: 1 ", 7);
	memset(big + 7, 'x', blen - 7);

	pb_metrics_init(&m);
	feed_str(&m, "ops: 5\n");
	pb_metrics_feed(&m, big, blen);
	feed_str(&m, "\nnext: 7\n");
	pb_metrics_finish(&m);
	assert_true(get(&m, "ops") == 5.0);
	assert_true(get(&m, "next") == 7.0);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.ignored, 1);
	assert_non_null(strstr(m.notes.ptr, "longer than 4096 bytes"));
	pb_metrics_release(&m);

	/* the same, byte by byte */
	pb_metrics_init(&m);
	for (size_t i = 0; i < blen; i++)
		pb_metrics_feed(&m, big + i, 1);
	feed_str(&m, "\nnext: 8\n");
	pb_metrics_finish(&m);
	{
		double v;
		assert_int_equal(pb_metrics_get(&m, "ops", &v), PB_ENOTFOUND);
	}
	assert_true(get(&m, "next") == 8.0);
	assert_int_equal(m.n, 1);
	/* the line buffer is bounded */
	assert_true(m.line.alloc <= PB_METRIC_LINE_MAX + 1);
	pb_metrics_release(&m);

	/* an overlong last line without newline is dropped at finish, and
	 * a following output starts clean */
	pb_metrics_init(&m);
	pb_metrics_feed(&m, big, blen);
	pb_metrics_finish(&m);
	assert_int_equal(m.n, 0);
	feed_str(&m, "after: 9\n");
	pb_metrics_finish(&m);
	assert_true(get(&m, "after") == 9.0);
	pb_metrics_release(&m);

	free(big);
}

static void test_metric__line_at_limit_kept(void **state)
{
	struct pb_metrics m;
	char *line;

	(void)state;
	/* exactly PB_METRIC_LINE_MAX bytes before the newline: kept */
	line = malloc(PB_METRIC_LINE_MAX + 1);
	assert_non_null(line);
	memcpy(line, "ops: 6 ", 7);
	memset(line + 7, 'y', PB_METRIC_LINE_MAX - 7);
	line[PB_METRIC_LINE_MAX] = '\n';
	pb_metrics_init(&m);
	pb_metrics_feed(&m, line, PB_METRIC_LINE_MAX + 1);
	pb_metrics_finish(&m);
	assert_true(get(&m, "ops") == 6.0);
	pb_metrics_release(&m);
	free(line);
}

static void test_metric__max_names_capped(void **state)
{
	struct pb_metrics m;
	char line[64];
	double v;

	(void)state;
	pb_metrics_init(&m);
	for (int i = 0; i < PB_METRIC_MAX_NAMES + 50; i++) {
		int k = snprintf(line, sizeof(line), "m%d: %d\n", i, i);
		pb_metrics_feed(&m, line, (size_t)k);
	}
	pb_metrics_finish(&m);
	assert_int_equal(m.n, PB_METRIC_MAX_NAMES);
	assert_true(get(&m, "m0") == 0.0);
	assert_true(get(&m, "m255") == 255.0);
	assert_int_equal(pb_metrics_get(&m, "m256", &v), PB_ENOTFOUND);
	assert_int_equal(pb_metrics_get(&m, "m300", &v), PB_ENOTFOUND);
	/* dropping names is noted */
	assert_true(m.notes.len > 0);
	assert_true(m.notes.len <= m.notes.max);
	/* names already kept are still updated */
	feed_str(&m, "m7: 700\n");
	pb_metrics_finish(&m);
	assert_true(get(&m, "m7") == 700.0);
	assert_int_equal(m.n, PB_METRIC_MAX_NAMES);
	pb_metrics_release(&m);
}

static void test_metric__notes_capped(void **state)
{
	struct pb_metrics m;

	(void)state;
	pb_metrics_init(&m);
	for (int i = 0; i < 2000; i++)
		feed_str(&m, "some_metric_with_a_long_name: 1e999\n");
	pb_metrics_finish(&m);
	assert_int_equal(m.ignored, 2000);
	assert_true(m.notes.len <= m.notes.max);
	assert_int_equal(strlen(m.notes.ptr), m.notes.len);
	pb_metrics_release(&m);
}

static void test_metric__release_twice(void **state)
{
	struct pb_metrics m;

	(void)state;
	pb_metrics_init(&m);
	feed_str(&m, "a: 1\nb: inf\npartial");
	pb_metrics_release(&m);
	assert_null(m.kv);
	assert_int_equal(m.n, 0);
	pb_metrics_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metric__good_lines),
		cmocka_unit_test(test_metric__signs),
		cmocka_unit_test(test_metric__exponents),
		cmocka_unit_test(test_metric__units_after_number),
		cmocka_unit_test(test_metric__garbage_lines),
		cmocka_unit_test(test_metric__overflow_ignored),
		cmocka_unit_test(test_metric__nonfinite_ignored),
		cmocka_unit_test(test_metric__name_chars),
		cmocka_unit_test(test_metric__long_names),
		cmocka_unit_test(test_metric__trailing_cr),
		cmocka_unit_test(test_metric__length_not_nul),
		cmocka_unit_test(test_metric__very_long_number),
		cmocka_unit_test(test_metric__not_found),
		cmocka_unit_test(test_metric__last_line_wins),
		cmocka_unit_test(test_metric__extra_metrics_kept),
		cmocka_unit_test(test_metric__split_across_feeds),
		cmocka_unit_test(test_metric__zero_length_feed),
		cmocka_unit_test(test_metric__last_line_needs_finish),
		cmocka_unit_test(test_metric__ignored_line_keeps_good_value),
		cmocka_unit_test(test_metric__garbage_not_noted),
		cmocka_unit_test(test_metric__long_line_dropped),
		cmocka_unit_test(test_metric__line_at_limit_kept),
		cmocka_unit_test(test_metric__max_names_capped),
		cmocka_unit_test(test_metric__notes_capped),
		cmocka_unit_test(test_metric__release_twice),
	};

	return cmocka_run_group_tests_name("metric", tests, NULL, NULL);
}
