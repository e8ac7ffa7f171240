/*
 * test_session.c - the session layer every driver goes through, on a real
 * sqlite file: a run is stored and fed once however often it is posted;
 * a reopened session replays the stored runs into the same engine state;
 * steps are updated in place; transactions nest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/util.h"
#include "orchestrator/db.h"
#include "orchestrator/session.h"

#define N 12
#define CULPRIT 7

struct fixture {
	char *dir, *path;
	struct pb_db *db;
	struct pb_commit_info ci[N];
	char sha[N][41];
	int64_t ids[N];
	int64_t bench, bis;
};

static void fixture_init(struct fixture *f)
{
	char tmpl[] = "/tmp/pb-test-session-XXXXXX";
	struct pb_benchmark_def bd = { "bench", "make", "./run", "ops", 0, 60,
				       600 };
	struct pb_bisection_def d;
	int64_t repo;

	memset(f, 0, sizeof(*f));
	assert_non_null(mkdtemp(tmpl));
	f->dir = pb_strdup(tmpl);
	f->path = pb_path_join(f->dir, "t.db");
	assert_int_equal(pb_db_open(&f->db, f->path), 0);
	assert_int_equal(pb_db_repo_ensure(f->db, "/r", "/r", &repo), 0);
	assert_int_equal(pb_db_benchmark_ensure(f->db, repo, &bd, &f->bench), 0);
	for (int i = 0; i < N; i++) {
		snprintf(f->sha[i], sizeof(f->sha[i]), "%040x", i + 1);
		memcpy(f->ci[i].sha, f->sha[i], sizeof(f->ci[i].sha));
		f->ci[i].subject = (char *)"subject";
		f->ci[i].author = (char *)"A <a@x>";
		f->ci[i].time = i;
		assert_int_equal(pb_db_commit_ensure(f->db, repo, &f->ci[i],
						     &f->ids[i]), 0);
	}
	d = (struct pb_bisection_def){ repo, f->bench, 0, f->sha[0],
				       f->sha[N - 1], 0.99, 1, 500, 0.03 };
	assert_int_equal(pb_db_bisection_create(f->db, &d, &f->bis), 0);
}

static void fixture_free(struct fixture *f)
{
	pb_db_close(f->db);
	pb_rm_rf(f->dir);
	free(f->dir);
	free(f->path);
}

static struct pb_session *open_session(struct fixture *f)
{
	struct pb_session_opts o;
	struct pb_session *s = NULL;

	memset(&o, 0, sizeof(o));
	o.db = f->db;
	o.bisection_id = f->bis;
	o.bench_id = f->bench;
	o.n = N;
	o.commits = f->ci;
	o.commit_ids = f->ids;
	o.engine = (struct pb_engine_opts)PB_ENGINE_OPTS_INIT;
	o.engine.seed = 5;
	o.machine = "local";
	assert_int_equal(pb_session_open(&s, &o), 0);
	return s;
}

/* A deterministic shift: 100 before the culprit, 70 from it, +-0.5. */
static double value_of(size_t i, unsigned k)
{
	return (i >= CULPRIT ? 70.0 : 100.0) + (k % 2 ? 0.5 : -0.5);
}

static int add(struct pb_session *s, size_t i, unsigned k, const char *id)
{
	struct pb_run_row r;

	memset(&r, 0, sizeof(r));
	r.run_id = id;
	r.machine = "local";
	r.ok = 1;
	r.value = value_of(i, k);
	r.ipc = r.remote_access = r.cpu_s = r.busy_share = NAN;
	r.start_cpu = r.start_node = -1;
	r.started_at = 1000 + k;
	r.finished_at = 1001 + k;
	return pb_session_add_run(s, i, &r, NULL, NULL);
}

static char *query(const char *path, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	char *out = NULL;

	assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		out = pb_strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(h);
	return out;
}

static void test_session__runs_once_replayed_same(void **state)
{
	struct fixture f;
	struct pb_session *s, *again;
	struct pb_engine_result res;
	struct pb_action a, b;
	unsigned k = 0;
	char id[32], *got;

	(void)state;
	fixture_init(&f);
	s = open_session(&f);
	/* drive it part way, as a driver would */
	for (int step = 0; step < 14; step++) {
		pb_engine_next(pb_session_engine(s), &a);
		assert_int_equal(a.kind, PB_ACT_RUN);
		snprintf(id, sizeof(id), "run-%u", k);
		assert_int_equal(add(s, a.commit, k, id), PB_OK);
		k++;
	}
	assert_int_equal(pb_session_seq(s), 14);
	/* posted again: stored once, fed once */
	pb_engine_result(pb_session_engine(s), &res);
	assert_int_equal(res.runs, 14);
	assert_int_equal(add(s, 0, 99, "run-3"), PB_DB_REPEAT);
	pb_engine_result(pb_session_engine(s), &res);
	assert_int_equal(res.runs, 14);
	got = query(f.path, "SELECT count(*) FROM runs");
	assert_string_equal(got, "14");
	free(got);
	/* the steps are stored with the runs, one row per tested commit */
	got = query(f.path, "SELECT sum(runs) FROM bisection_steps");
	assert_string_equal(got, "14");
	free(got);
	/* a restarted driver replays into the same state: same next run */
	again = open_session(&f);
	assert_int_equal(pb_session_seq(again), 14);
	pb_engine_next(pb_session_engine(s), &a);
	pb_engine_next(pb_session_engine(again), &b);
	assert_int_equal(a.kind, b.kind);
	assert_int_equal(a.commit, b.commit);
	pb_session_free(again);
	/* to the end: the culprit, stored with its verdict */
	for (;;) {
		pb_engine_next(pb_session_engine(s), &a);
		if (a.kind == PB_ACT_DONE)
			break;
		assert_int_equal(a.kind, PB_ACT_RUN);
		snprintf(id, sizeof(id), "run-%u", k);
		assert_int_equal(add(s, a.commit, k, id), PB_OK);
		k++;
		assert_true(k < 500);
	}
	pb_engine_result(pb_session_engine(s), &res);
	assert_int_equal(res.outcome, PB_OUT_CULPRIT);
	assert_int_equal(res.culprit, CULPRIT);
	assert_int_equal(pb_session_exit_code(res.outcome), 0);
	assert_string_equal(pb_session_verdict(res.outcome), "culprit");
	assert_int_equal(pb_session_save(s, "done", 0), 0);
	got = query(f.path, "SELECT culprit_sha || ' ' || verdict || ' ' || "
			    "state FROM bisections");
	{
		char want[64];

		snprintf(want, sizeof(want), "%s culprit done", f.sha[CULPRIT]);
		assert_string_equal(got, want);
	}
	free(got);
	/* whether IPC moved: unsupported here, with the reason stored */
	assert_int_equal(pb_session_moved(s)[0].state, PB_VAL_UNSUPPORTED);
	got = query(f.path, "SELECT verify_ipc_note FROM bisections");
	assert_string_equal(got, "not counted");
	free(got);
	pb_session_free(s);
	fixture_free(&f);
}

static void test_session__transactions_nest(void **state)
{
	struct fixture f;
	char *got;

	(void)state;
	fixture_init(&f);
	assert_int_equal(pb_db_begin(f.db), 0);
	assert_int_equal(pb_db_begin(f.db), 0);
	assert_int_equal(pb_db_bisection_reopen(f.db, f.bis, 77), 0);
	assert_int_equal(pb_db_commit(f.db), 0); /* inner: not yet */
	got = query(f.path, "SELECT max_runs FROM bisections");
	assert_string_equal(got, "500");
	free(got);
	assert_int_equal(pb_db_commit(f.db), 0);
	got = query(f.path, "SELECT max_runs FROM bisections");
	assert_string_equal(got, "77");
	free(got);
	/* a rollback inside rolls the whole transaction back */
	assert_int_equal(pb_db_begin(f.db), 0);
	assert_int_equal(pb_db_bisection_reopen(f.db, f.bis, 88), 0);
	assert_int_equal(pb_db_begin(f.db), 0);
	pb_db_rollback(f.db);
	pb_db_rollback(f.db);
	got = query(f.path, "SELECT max_runs FROM bisections");
	assert_string_equal(got, "77");
	free(got);
	fixture_free(&f);
}

static void test_session__bad_commit_refused(void **state)
{
	struct fixture f;
	struct pb_session *s;

	(void)state;
	fixture_init(&f);
	s = open_session(&f);
	assert_int_equal(add(s, N, 0, "x"), PB_EINVAL);
	{
		size_t i;

		assert_int_equal(pb_session_index(s, f.ids[5], &i), 0);
		assert_int_equal(i, 5);
		assert_int_equal(pb_session_index(s, -4, &i), PB_ENOTFOUND);
	}
	pb_session_free(s);
	fixture_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session__runs_once_replayed_same),
		cmocka_unit_test(test_session__transactions_nest),
		cmocka_unit_test(test_session__bad_commit_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
