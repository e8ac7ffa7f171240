/*
 * test_hostlock.c - agent/hostlock.h between real processes: a second
 * process sees the lock busy and is told who holds it, TRY fails at once,
 * WAIT waits until the holder lets go, a dead holder frees it, and the lock
 * lives beside the settings journal under the sysroot.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/hostlock.h"
#include "common/err.h"
#include "common/util.h"

struct fixture {
	char root[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/pb-test-hostlock-XXXXXX";

	if (!f || !mkdtemp(tmpl))
		return -1;
	snprintf(f->root, sizeof(f->root), "%s", tmpl);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pb_rm_rf(f->root);
	free(f);
	return 0;
}

static int parent_fd = -1;

/* A forked child shares its parent's lock descriptor, and with it the
 * lock (flock(2) belongs to the open file): a child that stands for
 * another program closes that copy first. */
static void close_inherited(void)
{
	if (parent_fd >= 0)
		close(parent_fd);
}

/* In a child: exit 0 when `what` holds of the lock under root. */
static int child_sees(const char *root, int what)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct pb_hostlock l;
		char holder[128];
		int ok = 0;

		memset(&l, 0, sizeof(l));
		close_inherited();
		if (what == 0) /* busy, held by our parent, TRY refused */
			ok = pb_hostlock_busy(root, holder, sizeof(holder)) == 1 &&
			     strstr(holder, "(test)") &&
			     pb_hostlock_take(&l, root, "child",
					      PB_HOSTLOCK_TRY) == PB_EINFRA &&
			     strstr(pb_error_last(), "is busy") && !l.held;
		else /* free: taken at once */
			ok = pb_hostlock_busy(root, holder, sizeof(holder)) == 0 &&
			     pb_hostlock_take(&l, root, "child",
					      PB_HOSTLOCK_TRY) == PB_OK &&
			     l.held;
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}

static void test_hostlock__busy_try_wait(void **state)
{
	struct fixture *f = *state;
	struct pb_hostlock l;
	char path[4200];
	pid_t pid;
	int status;
	double t0;

	memset(&l, 0, sizeof(l));
	assert_int_equal(pb_hostlock_path(path, sizeof(path), f->root), PB_OK);
	assert_true(strstr(path, "/var/lib/perfbisect/host.lock") != NULL);
	assert_int_equal(child_sees(f->root, 1), 0); /* not there yet */
	assert_int_equal(pb_hostlock_take(&l, f->root, "test", PB_HOSTLOCK_TRY),
			 PB_OK);
	assert_true(l.held);
	parent_fd = l.fd;
	/* taking it again is a no-op */
	assert_int_equal(pb_hostlock_take(&l, f->root, "test", PB_HOSTLOCK_TRY),
			 PB_OK);
	assert_int_equal(child_sees(f->root, 0), 0);
	/* WAIT: the child gets it once we let go, half a second later */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct pb_hostlock w;

		memset(&w, 0, sizeof(w));
		close_inherited();
		t0 = pb_now_mono();
		_exit(pb_hostlock_take(&w, f->root, "waiter",
				       PB_HOSTLOCK_WAIT) == PB_OK &&
				      pb_now_mono() - t0 > 0.3
			      ? 0
			      : 1);
	}
	pb_sleep(0.5);
	pb_hostlock_release(&l);
	parent_fd = -1;
	assert_false(l.held);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the waiter died holding it: free again */
	assert_int_equal(child_sees(f->root, 1), 0);
	pb_hostlock_release(&l); /* twice: harmless */
}

static void test_hostlock__zeroed_is_not_held(void **state)
{
	struct pb_hostlock l;

	(void)state;
	memset(&l, 0, sizeof(l));
	pb_hostlock_release(&l); /* must not close fd 0 */
	assert_true(fcntl(0, F_GETFD) >= 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hostlock__busy_try_wait,
						setup, teardown),
		cmocka_unit_test(test_hostlock__zeroed_is_not_held),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
