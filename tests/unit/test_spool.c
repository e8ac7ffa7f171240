/*
 * test_spool.c - agent/daemon/spool.h on a real directory: a record is on
 * disk under its name before it is posted; an agent that dies before it
 * could post (a forked child that writes and _exit()s, never deleting)
 * leaves it for the next start, which finds it exactly once; a crash in
 * the middle of a write leaves a .tmp- file that the next start removes
 * and never posts; removal and rejection are for good.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/daemon/spool.h"
#include "common/err.h"
#include "common/util.h"

struct fixture {
	char dir[64];
	char spool[96];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/pb-test-spool-XXXXXX";

	if (!f || !mkdtemp(tmpl))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s", tmpl);
	snprintf(f->spool, sizeof(f->spool), "%s/spool", tmpl);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pb_rm_rf(f->dir);
	free(f);
	return 0;
}

static size_t count(const char *dir)
{
	char **names;
	size_t n;

	assert_int_equal(pb_spool_list(dir, &names, &n), PB_OK);
	pb_spool_list_free(names, n);
	return n;
}

static void test_spool__names(void **state)
{
	char name[256];

	(void)state;
	assert_int_equal(pb_spool_name(name, sizeof(name), "pbl_5c1d", 3),
			 PB_OK);
	assert_string_equal(name, "run-pbl_5c1d-0000000003.json");
	assert_int_equal(pb_spool_name(name, sizeof(name), "../x", 3),
			 PB_EINVAL);
	assert_int_equal(pb_spool_name(name, sizeof(name), "", 3), PB_EINVAL);
	assert_int_equal(pb_spool_name(name, 8, "pbl", 3), PB_ETOOBIG);
}

/* The agent writes the record, then "crashes" before the post answered:
 * the next start replays it, once, with the same bytes. */
static void test_spool__crash_then_replay(void **state)
{
	struct fixture *f = *state;
	const char *body = "{\"lease\":\"pbl_a\",\"index\":0,\"record\":{}}";
	char name[256], **names, *got, path[512];
	struct stat st;
	size_t n, len;
	pid_t pid;
	int status;

	assert_int_equal(pb_spool_init(f->spool), PB_OK);
	assert_int_equal(stat(f->spool, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(pb_spool_name(name, sizeof(name), "pbl_a", 0), PB_OK);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* the agent: spool, then die before posting or deleting */
		if (pb_spool_put(f->spool, name, body, strlen(body)) < 0)
			_exit(1);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* a second record torn mid-write: only its temporary file exists */
	snprintf(path, sizeof(path), "%s/.tmp-run-pbl_a-0000000001.json-%d",
		 f->spool, 4242);
	assert_int_equal(close(open(path, O_WRONLY | O_CREAT, 0600)), 0);
	/* the next start */
	assert_int_equal(pb_spool_init(f->spool), PB_OK);
	assert_int_equal(access(path, F_OK), -1); /* the torn one is gone */
	assert_int_equal(pb_spool_list(f->spool, &names, &n), PB_OK);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], name);
	assert_int_equal(pb_spool_read(f->spool, names[0], &got, &len), PB_OK);
	assert_int_equal(len, strlen(body));
	assert_string_equal(got, body);
	free(got);
	/* posted (2xx or 409): removed, and a second start finds nothing */
	assert_int_equal(pb_spool_remove(f->spool, names[0]), PB_OK);
	pb_spool_list_free(names, n);
	assert_int_equal(pb_spool_init(f->spool), PB_OK);
	assert_int_equal(count(f->spool), 0);
	/* removing twice is fine; reading a removed one says so */
	assert_int_equal(pb_spool_remove(f->spool, name), PB_OK);
	assert_int_equal(pb_spool_read(f->spool, name, &got, &len),
			 PB_ENOTFOUND);
}

/* Records are listed in order (lease, then index); a record put again
 * under its name replaces the old one; rejected ones leave the list. */
static void test_spool__order_replace_reject(void **state)
{
	struct fixture *f = *state;
	char a[256], b[256], c[256], **names, *got, path[512];
	size_t n, len;

	assert_int_equal(pb_spool_init(f->spool), PB_OK);
	assert_int_equal(pb_spool_name(a, sizeof(a), "pbl_a", 10), PB_OK);
	assert_int_equal(pb_spool_name(b, sizeof(b), "pbl_a", 9), PB_OK);
	assert_int_equal(pb_spool_name(c, sizeof(c), "pbl_b", 0), PB_OK);
	assert_int_equal(pb_spool_put(f->spool, a, "A", 1), PB_OK);
	assert_int_equal(pb_spool_put(f->spool, c, "C", 1), PB_OK);
	assert_int_equal(pb_spool_put(f->spool, b, "B", 1), PB_OK);
	assert_int_equal(pb_spool_put(f->spool, a, "AA", 2), PB_OK);
	assert_int_equal(pb_spool_list(f->spool, &names, &n), PB_OK);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], b);
	assert_string_equal(names[1], a);
	assert_string_equal(names[2], c);
	pb_spool_list_free(names, n);
	assert_int_equal(pb_spool_read(f->spool, a, &got, &len), PB_OK);
	assert_string_equal(got, "AA");
	free(got);
	assert_int_equal(pb_spool_reject(f->spool, c), PB_OK);
	assert_int_equal(count(f->spool), 2);
	snprintf(path, sizeof(path), "%s/rejected/%s", f->spool, c);
	assert_int_equal(access(path, F_OK), 0);
	/* names that are not the spool's are refused, never paths */
	assert_int_equal(pb_spool_put(f->spool, "../x.json", "x", 1),
			 PB_EINVAL);
	assert_int_equal(pb_spool_remove(f->spool, "../run-x.json"), PB_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spool__names),
		cmocka_unit_test_setup_teardown(test_spool__crash_then_replay,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_spool__order_replace_reject, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
