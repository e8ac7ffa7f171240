/*
 * test_notify.c - notifications into the outbox (orchestrator/notify.h,
 * schema 0014): the signature against GitHub's published test vector, the
 * back-off's bounds, a message queued only for a repository with a
 * notify_url, inside the caller's transaction (a rollback takes it back),
 * its body's envelope, and the outbox's attempt bookkeeping; on a real
 * sqlite file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/util.h"
#include "orchestrator/db.h"
#include "orchestrator/notify.h"

struct fx {
	char dir[64];
	char *path;
	struct pb_db *db;
	int64_t quiet, loud;         /* repositories without and with a URL */
};

static int setup(void **state)
{
	static const struct pb_db_opts service = PB_DB_OPTS_SERVICE;
	struct fx *f = calloc(1, sizeof(*f));
	struct pb_repo_def q = { "quiet", "https://h/q", "main", NULL, NULL };
	struct pb_repo_def l = { "loud", "https://h/l", "main", "k",
				 "https://hooks.example/x" };

	pb_strlcpy(f->dir, "/tmp/pb-test-notify-XXXXXX", sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	f->path = pb_path_join(f->dir, "t.db");
	assert_int_equal(pb_db_open_opts(&f->db, f->path, &service), 0);
	assert_int_equal(pb_db_repo_register(f->db, &q, &f->quiet, NULL), 0);
	assert_int_equal(pb_db_repo_register(f->db, &l, &f->loud, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	pb_db_close(f->db);
	pb_rm_rf(f->dir);
	free(f->path);
	free(f);
	return 0;
}

static void test_notify__sign(void **state)
{
	char sig[PB_NOTIFY_SIGNATURE_LEN + 1];

	(void)state;
	/* docs.github.com, "Validating webhook deliveries" */
	assert_int_equal(pb_notify_sign(sig, "It's a Secret to Everybody",
					"Hello, World!", 13),
			 0);
	assert_string_equal(sig, "sha256=757107ea0eb2509fc211221cce984b8a37"
				 "570b6d7586c22c46f4379c8b043e17");
	assert_int_equal(pb_notify_sign(sig, "k", "", 0), 0);
	assert_int_equal(strlen(sig), PB_NOTIFY_SIGNATURE_LEN);
}

static void test_notify__backoff(void **state)
{
	(void)state;
	/* 10 s doubling to 3600, jitter within [d/2, d) */
	assert_true(pb_notify_backoff(10, 3600, 1, 0) == 5);
	assert_true(pb_notify_backoff(10, 3600, 1, 0.999) < 10);
	assert_true(pb_notify_backoff(10, 3600, 2, 0) == 10);
	assert_true(pb_notify_backoff(10, 3600, 4, 0) == 40);
	assert_true(pb_notify_backoff(10, 3600, 30, 0) == 1800);
	assert_true(pb_notify_backoff(10, 3600, 4000000000u, 0.5) <= 3600);
	assert_true(pb_notify_backoff(10, 3600, 3, NAN) == 20);
}

static int count(struct fx *f)
{
	struct pb_outbox_row m;
	int n = 0;

	while (pb_db_outbox_get(f->db, n + 1, &m) == PB_OK) {
		pb_outbox_row_release(&m);
		n++;
	}
	return n;
}

static void test_notify__enqueue(void **state)
{
	struct fx *f = *state;
	struct pb_outbox_row m;
	json_error_t e;
	json_t *j;

	/* no notify_url: nothing, and no error */
	assert_int_equal(pb_notify_enqueue(f->db, f->quiet, "alert.raised",
					   "{\"id\": 1}"),
			 0);
	assert_int_equal(count(f), 0);
	/* refused: a bad event name (it goes into a header), data that is
	 * not an object, an unknown repository */
	assert_int_equal(pb_notify_enqueue(f->db, f->loud, "a\r\nX: y", "{}"),
			 PB_EINVAL);
	assert_int_equal(pb_notify_enqueue(f->db, f->loud, "alert.raised",
					   "[1]"),
			 PB_EINVAL);
	assert_int_equal(pb_notify_enqueue(f->db, 99, "alert.raised", "{}"),
			 PB_ENOTFOUND);
	assert_int_equal(count(f), 0);

	/* the caller's transaction: a rollback takes the message back */
	assert_int_equal(pb_db_begin(f->db), 0);
	assert_int_equal(pb_notify_enqueue(f->db, f->loud, "alert.raised",
					   "{\"id\": 7}"),
			 0);
	pb_db_rollback(f->db);
	assert_int_equal(count(f), 0);

	assert_int_equal(pb_db_begin(f->db), 0);
	assert_int_equal(pb_notify_enqueue(f->db, f->loud, "alert.raised",
					   "{\"id\": 7, \"x\": \"\\u00e9\"}"),
			 0);
	assert_int_equal(pb_db_commit(f->db), 0);
	assert_int_equal(count(f), 1);

	assert_int_equal(pb_db_outbox_due(f->db, pb_now_real() + 1, &m), 0);
	assert_string_equal(m.state, "pending");
	assert_string_equal(m.url, "https://hooks.example/x");
	assert_string_equal(m.event, "alert.raised");
	assert_int_equal(m.attempts, 0);
	assert_int_equal(strlen(m.delivery), 36);
	assert_int_equal(m.body_len, strlen(m.body));
	j = json_loads(m.body, 0, &e);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "delivery")),
			    m.delivery);
	assert_string_equal(json_string_value(json_object_get(j, "event")),
			    "alert.raised");
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(j, "repository"), "name")),
		"loud");
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(j, "data"), "id")),
			 7);
	json_decref(j);

	/* attempts: a retry keeps it pending until its time, a delivery
	 * ends it, and a delivered message takes no more attempts */
	assert_int_equal(pb_db_outbox_attempted(f->db, m.id, PB_OUTBOX_RETRY,
						500, "HTTP 500", 100, 1e12),
			 0);
	assert_int_equal(pb_db_outbox_due(f->db, pb_now_real() + 1,
					  &(struct pb_outbox_row){ 0 }),
			 PB_ENOTFOUND);
	pb_outbox_row_release(&m);
	assert_int_equal(pb_db_outbox_get(f->db, 1, &m), 0);
	assert_int_equal(m.attempts, 1);
	assert_int_equal(m.last_status, 500);
	assert_string_equal(m.last_error, "HTTP 500");
	assert_true(m.next_attempt_at == 1e12);
	assert_int_equal(pb_db_outbox_attempted(f->db, m.id,
						PB_OUTBOX_DELIVERED, 204, NULL,
						200, 0),
			 0);
	pb_outbox_row_release(&m);
	assert_int_equal(pb_db_outbox_get(f->db, 1, &m), 0);
	assert_string_equal(m.state, "delivered");
	assert_int_equal(m.attempts, 2);
	assert_null(m.last_error);
	assert_true(isnan(m.next_attempt_at));
	assert_int_equal(pb_db_outbox_attempted(f->db, m.id,
						PB_OUTBOX_GAVE_UP, -1, "late",
						300, 0),
			 PB_ENOTFOUND);
	pb_outbox_row_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify__sign),
		cmocka_unit_test(test_notify__backoff),
		cmocka_unit_test_setup_teardown(test_notify__enqueue, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
