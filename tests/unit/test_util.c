/*
 * test_util.c - common/util.h helpers that touch the file system: whether
 * a path lies inside a directory, resolved as far as it exists (the state
 * directory must never be inside the bisected work tree), and a verified
 * slowdown said as the metric's change.
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
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

/* A slowdown said as the metric's own change: the same for a time, the
 * fall of a throughput for a higher-is-better metric. */
static void test_util__metric_change(void **state)
{
	(void)state;
	assert_true(pb_metric_change(0.3, 1) == 0.3);
	assert_true(fabs(pb_metric_change(0.908, 0) - (1 / 1.908 - 1)) < 1e-12);
	assert_true(fabs(pb_metric_change(-0.2, 0) - 0.25) < 1e-12);
	assert_true(pb_metric_change(0, 0) == 0);
	assert_true(isnan(pb_metric_change(NAN, 0)));
	assert_true(isnan(pb_metric_change(NAN, 1)));
}

static void test_util__path_within(void **state)
{
	char tmpl[] = "/tmp/pb-test-util-XXXXXX", p[512], q[512];
	char *dir = mkdtemp(tmpl);

	(void)state;
	assert_non_null(dir);
	snprintf(p, sizeof(p), "%s/repo/src", dir);
	assert_int_equal(pb_mkdir_p(p, 0755), 0);
	snprintf(q, sizeof(q), "%s/repo", dir);
	/* itself, inside, inside and not there yet, with a trailing slash */
	assert_int_equal(pb_path_within(q, q), 1);
	assert_int_equal(pb_path_within(p, q), 1);
	snprintf(p, sizeof(p), "%s/repo/.pb/state", dir);
	assert_int_equal(pb_path_within(p, q), 1);
	snprintf(q, sizeof(q), "%s/repo/", dir);
	assert_int_equal(pb_path_within(p, q), 1);
	/* a sibling whose name starts the same is outside */
	snprintf(p, sizeof(p), "%s/repo2/state", dir);
	assert_int_equal(pb_path_within(p, q), 0);
	snprintf(p, sizeof(p), "%s/state", dir);
	assert_int_equal(pb_path_within(p, q), 0);
	/* through "..", and through a symbolic link into the repository */
	snprintf(p, sizeof(p), "%s/repo/src/../new", dir);
	assert_int_equal(pb_path_within(p, q), 1);
	snprintf(p, sizeof(p), "%s/link", dir);
	snprintf(q, sizeof(q), "%s/repo/src", dir);
	assert_int_equal(symlink(q, p), 0);
	snprintf(p, sizeof(p), "%s/link/state", dir);
	snprintf(q, sizeof(q), "%s/repo", dir);
	assert_int_equal(pb_path_within(p, q), 1);
	/* relative to the working directory */
	assert_int_equal(chdir(q), 0);
	assert_int_equal(pb_path_within("sub/state", q), 1);
	assert_int_equal(pb_path_within("../elsewhere", q), 0);
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(pb_rm_rf(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util__path_within),
		cmocka_unit_test(test_util__metric_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
