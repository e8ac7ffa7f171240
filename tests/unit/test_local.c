/*
 * test_local.c - the --local driver's choices that need no machine: where
 * its state lives when --state-dir is not given (DESIGN.md section 3).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "orchestrator/local.h"
#include "common/util.h"

static void dir_is(uid_t euid, const char *xdg, const char *home,
		   const char *want)
{
	char *dir = NULL;

	assert_int_equal(pb_local_default_state_dir(&dir, euid, xdg, home), 0);
	assert_string_equal(dir, want);
	free(dir);
}

static void test_local__default_state_dir(void **state)
{
	char *dir = NULL;

	(void)state;
	/* as root, the system's place, whatever the environment says */
	dir_is(0, "/root/.xdg", "/root", "/var/lib/perfbisect");
	dir_is(0, NULL, NULL, "/var/lib/perfbisect");
	/* a user: $XDG_STATE_HOME/perfbisect, else ~/.local/state */
	dir_is(1000, "/home/u/.state", "/home/u", "/home/u/.state/perfbisect");
	dir_is(1000, NULL, "/home/u", "/home/u/.local/state/perfbisect");
	dir_is(1000, "", "/home/u", "/home/u/.local/state/perfbisect");
	/* a relative XDG_STATE_HOME is invalid (the XDG spec): ignored */
	dir_is(1000, "state", "/home/u", "/home/u/.local/state/perfbisect");
	/* never the current directory: without a home, an input error */
	assert_int_equal(pb_local_default_state_dir(&dir, 1000, NULL, NULL),
			 PB_EINVAL);
	assert_null(dir);
	assert_int_equal(pb_local_default_state_dir(&dir, 1000, NULL, ""),
			 PB_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local__default_state_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
