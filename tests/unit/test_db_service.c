/*
 * test_db_service.c - the service's storage (schema 0009): the pragmas a
 * perfbisectd connection gets and the command line keeps, principals and
 * their tokens' digests, repositories and benchmarks registered through
 * the API, and group sync (pb_db_sync()) from several threads; on real
 * sqlite files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "orchestrator/db.h"
#include "common/util.h"

struct fx {
	char dir[64];
	char *path;
	struct pb_db *db;
};

static int setup(void **state)
{
	static const struct pb_db_opts service = PB_DB_OPTS_SERVICE;
	struct fx *f = calloc(1, sizeof(*f));

	pb_strlcpy(f->dir, "/tmp/pb-test-dbs-XXXXXX", sizeof(f->dir));
	assert_non_null(mkdtemp(f->dir));
	f->path = pb_path_join(f->dir, "t.db");
	assert_int_equal(pb_db_open_opts(&f->db, f->path, &service), 0);
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

static void hash_of(unsigned char h[PB_TOKEN_HASH_LEN], int seed)
{
	for (int i = 0; i < PB_TOKEN_HASH_LEN; i++)
		h[i] = (unsigned char)(seed * 31 + i);
}

static void test_db_service__pragmas(void **state)
{
	struct fx *f = *state;
	struct pb_db_settings s;
	struct pb_db *cli;

	/* the service: NORMAL with group sync (each answer waits for an
	 * fdatasync of the WAL), 5 s, 64 MiB of WAL kept at most */
	assert_int_equal(pb_db_settings(f->db, &s), 0);
	assert_string_equal(s.journal_mode, "wal");
	assert_int_equal(s.synchronous, 1);
	assert_int_equal(s.group_sync, 1);
	assert_int_equal(s.foreign_keys, 1);
	assert_int_equal(s.busy_timeout_ms, 5000);
	assert_int_equal(s.journal_size_limit, 64 << 20);
	/* the command line keeps what it had */
	assert_int_equal(pb_db_open(&cli, f->path), 0);
	assert_int_equal(pb_db_settings(cli, &s), 0);
	assert_string_equal(s.journal_mode, "wal");
	assert_int_equal(s.synchronous, 1);
	assert_int_equal(s.foreign_keys, 1);
	assert_int_equal(s.busy_timeout_ms, 10000);
	assert_int_equal(s.journal_size_limit, -1);
	assert_int_equal(s.group_sync, 0);
	/* no group sync: nothing to wait for */
	assert_true(pb_db_sync_mark(cli) == 0);
	assert_int_equal(pb_db_sync(cli, 0), 0);
	pb_db_close(cli);
}

/* Writers as perfbisectd's handlers are: write under the lock, mark, let
 * go, sync. */
struct writer {
	struct fx *f;
	pthread_mutex_t *mu;
	int no, failed;
};

#define WRITERS 4
#define WRITES 40

static void *writer_main(void *arg)
{
	struct writer *w = arg;

	for (int k = 0; k < WRITES; k++) {
		unsigned char h[PB_TOKEN_HASH_LEN];
		char name[32];
		int64_t id;
		uint64_t mark;

		snprintf(name, sizeof(name), "w%d-%d", w->no, k);
		hash_of(h, 100 + w->no * WRITES + k);
		pthread_mutex_lock(w->mu);
		if (pb_db_principal_add(w->f->db, name, PB_PRINCIPAL_AGENT, 0, h,
					&id) < 0)
			w->failed++;
		mark = pb_db_sync_mark(w->f->db);
		pthread_mutex_unlock(w->mu);
		if (mark == 0 || pb_db_sync(w->f->db, mark) < 0)
			w->failed++;
	}
	return NULL;
}

static void test_db_service__group_sync(void **state)
{
	struct fx *f = *state;
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	struct writer w[WRITERS];
	pthread_t th[WRITERS];
	struct pb_principal_row row;
	struct pb_db *other;
	uint64_t m1, m2;

	/* marks grow with what is written; a mark already synced, or 0,
	 * returns at once */
	m1 = pb_db_sync_mark(f->db);
	assert_int_equal(pb_db_sync(f->db, m1), 0);
	assert_int_equal(pb_db_sync(f->db, 0), 0);
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){ f, &mu, i, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, writer_main,
						&w[i]), 0);
	}
	for (int i = 0; i < WRITERS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failed, 0);
	}
	m2 = pb_db_sync_mark(f->db);
	assert_true(m2 >= m1 + WRITERS * WRITES);
	assert_int_equal(pb_db_sync(f->db, m2), 0);
	/* every write is there for another connection */
	assert_int_equal(pb_db_open(&other, f->path), 0);
	for (int i = 0; i < WRITERS; i++) {
		unsigned char h[PB_TOKEN_HASH_LEN];

		hash_of(h, 100 + i * WRITES + WRITES - 1);
		assert_int_equal(pb_db_principal_by_hash(other, h, &row), 0);
	}
	pb_db_close(other);
	pthread_mutex_destroy(&mu);
}

static void test_db_service__principals(void **state)
{
	struct fx *f = *state;
	unsigned char h1[PB_TOKEN_HASH_LEN], h2[PB_TOKEN_HASH_LEN],
		h3[PB_TOKEN_HASH_LEN];
	struct pb_principal_row row;
	int64_t id, id2;
	int was = -1;

	hash_of(h1, 1);
	hash_of(h2, 2);
	hash_of(h3, 3);
	assert_int_equal(pb_db_principal_add(f->db, "m1", PB_PRINCIPAL_AGENT, 0,
					     h1, &id), 0);
	assert_int_equal(pb_db_principal_add(f->db, "ci", PB_PRINCIPAL_CLIENT,
					     1, h2, &id2), 0);
	assert_true(id != id2);
	/* lookup by digest */
	assert_int_equal(pb_db_principal_by_hash(f->db, h1, &row), 0);
	assert_string_equal(row.name, "m1");
	assert_int_equal(row.kind, PB_PRINCIPAL_AGENT);
	assert_int_equal(row.admin, 0);
	assert_int_equal(row.revoked, 0);
	assert_true(isnan(row.revoked_at));
	assert_memory_equal(row.token_hash, h1, PB_TOKEN_HASH_LEN);
	assert_int_equal(pb_db_principal_by_hash(f->db, h2, &row), 0);
	assert_int_equal(row.kind, PB_PRINCIPAL_CLIENT);
	assert_int_equal(row.admin, 1);
	assert_int_equal(pb_db_principal_by_hash(f->db, h3, &row),
			 PB_ENOTFOUND);
	/* a live name is taken */
	assert_int_equal(pb_db_principal_add(f->db, "m1", PB_PRINCIPAL_AGENT, 0,
					     h3, &id2), PB_EEXIST);
	assert_non_null(strstr(pb_error_last(), "'m1' exists already"));
	/* revoked: kept, marked; twice is said */
	assert_int_equal(pb_db_principal_revoke(f->db, "m1", &was), 0);
	assert_int_equal(was, 0);
	assert_int_equal(pb_db_principal_revoke(f->db, "m1", &was), 0);
	assert_int_equal(was, 1);
	assert_int_equal(pb_db_principal_by_hash(f->db, h1, &row), 0);
	assert_int_equal(row.revoked, 1);
	assert_false(isnan(row.revoked_at));
	assert_int_equal(pb_db_principal_revoke(f->db, "nobody", NULL),
			 PB_ENOTFOUND);
	assert_non_null(strstr(pb_error_last(), "'nobody'"));
	/* a revoked name of another kind stays taken */
	assert_int_equal(pb_db_principal_add(f->db, "m1", PB_PRINCIPAL_CLIENT,
					     0, h3, &id2), PB_EEXIST);
	assert_non_null(strstr(pb_error_last(), "was an agent"));
	/* the same kind gets a new token: the old one is gone */
	assert_int_equal(pb_db_principal_add(f->db, "m1", PB_PRINCIPAL_AGENT, 0,
					     h3, &id2), 0);
	assert_int_equal(id2, id);
	assert_int_equal(pb_db_principal_by_hash(f->db, h1, &row),
			 PB_ENOTFOUND);
	assert_int_equal(pb_db_principal_by_hash(f->db, h3, &row), 0);
	assert_int_equal(row.revoked, 0);
	/* an agent is never admin */
	assert_int_equal(pb_db_principal_add(f->db, "m2", PB_PRINCIPAL_AGENT, 1,
					     h1, &id2), 0);
	assert_int_equal(pb_db_principal_by_hash(f->db, h1, &row), 0);
	assert_int_equal(row.admin, 0);
	/* a digest is one principal's */
	assert_true(pb_db_principal_add(f->db, "m3", PB_PRINCIPAL_AGENT, 0, h1,
					&id2) < 0);
}

static int count_cb(void *ctx, const struct pb_principal_row *row)
{
	int *n = ctx;

	(void)row;
	(*n)++;
	return 0;
}

static void test_db_service__list(void **state)
{
	struct fx *f = *state;
	unsigned char h[PB_TOKEN_HASH_LEN];
	int64_t id;
	int n = 0;

	for (int i = 0; i < 3; i++) {
		char name[8];

		snprintf(name, sizeof(name), "p%d", i);
		hash_of(h, 10 + i);
		assert_int_equal(pb_db_principal_add(f->db, name,
						     PB_PRINCIPAL_CLIENT, 0, h,
						     &id), 0);
	}
	assert_int_equal(pb_db_principals_each(f->db, count_cb, &n), 0);
	assert_int_equal(n, 3);
}

static void test_db_service__repos_and_benchmarks(void **state)
{
	struct fx *f = *state;
	struct pb_repo_def d = { "app", "https://h/app.git", "main", "s3cret",
				 "https://hooks.example/x" };
	struct pb_benchmark_reg b = {
		{ "b1", "make", "./b", "score", 1, 60, 600 }, 7, 0.1
	};
	struct pb_repo_row r;
	int64_t id, id2, bid, bid2;
	int created = -1;

	assert_int_equal(pb_db_repo_register(f->db, &d, &id, &created), 0);
	assert_int_equal(created, 1);
	assert_int_equal(pb_db_repo_get(f->db, "app", &r), 0);
	assert_int_equal(r.id, id);
	assert_string_equal(r.url, "https://h/app.git");
	assert_string_equal(r.branch, "main");
	assert_string_equal(r.webhook_secret, "s3cret");
	assert_string_equal(r.notify_url, "https://hooks.example/x");
	pb_repo_row_release(&r);
	/* again: the same id, the definition replaced */
	d.url = "ssh://h/app.git";
	d.webhook_secret = NULL;
	assert_int_equal(pb_db_repo_register(f->db, &d, &id2, &created), 0);
	assert_int_equal(created, 0);
	assert_int_equal(id2, id);
	assert_int_equal(pb_db_repo_get(f->db, "app", &r), 0);
	assert_string_equal(r.url, "ssh://h/app.git");
	assert_null(r.webhook_secret);
	pb_repo_row_release(&r);
	assert_int_equal(pb_db_repo_get(f->db, "nope", &r), PB_ENOTFOUND);
	/* the local CLI's ensure still finds it by name */
	assert_int_equal(pb_db_repo_ensure(f->db, "app", "ssh://h/app.git",
					   &id2), 0);
	assert_int_equal(id2, id);

	assert_int_equal(pb_db_benchmark_find(f->db, id, "b1", &bid),
			 PB_ENOTFOUND);
	assert_int_equal(pb_db_benchmark_register(f->db, id, &b, &bid,
						  &created), 0);
	assert_int_equal(created, 1);
	assert_int_equal(pb_db_benchmark_find(f->db, id, "b1", &bid2), 0);
	assert_int_equal(bid2, bid);
	b.def.run_cmd = "./b --fast";
	assert_int_equal(pb_db_benchmark_register(f->db, id, &b, &bid2,
						  &created), 0);
	assert_int_equal(created, 0);
	assert_int_equal(bid2, bid);
	/* a name is unique per repository, not across them */
	d.name = "other";
	assert_int_equal(pb_db_repo_register(f->db, &d, &id2, NULL), 0);
	assert_int_equal(pb_db_benchmark_register(f->db, id2, &b, &bid2, NULL),
			 0);
	assert_true(bid2 != bid);
	/* an alert threshold out of (0, 1) is refused by the schema */
	b.alert_threshold = 1.5;
	assert_true(pb_db_benchmark_register(f->db, id, &b, &bid2, NULL) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_db_service__pragmas, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_db_service__group_sync,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_service__principals,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_service__list, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_db_service__repos_and_benchmarks, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
