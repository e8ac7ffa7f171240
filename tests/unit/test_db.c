/*
 * test_db.c - migrations (a fresh database, and one made at an older
 * version upgraded in place, with the test's own migration list), WAL
 * mode, idempotent run records and bisection round trips, on real sqlite
 * files.
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
#include <unistd.h>

#include "common/err.h"
#include "orchestrator/db.h"
#include "common/util.h"

static const struct pb_embedded v1[] = {
	{ "0001-first.sql", "CREATE TABLE a (x INTEGER);"
			    "INSERT INTO a VALUES (41);" },
};
static const struct pb_embedded v2[] = {
	{ "0001-first.sql", "CREATE TABLE a (x INTEGER);"
			    "INSERT INTO a VALUES (41);" },
	{ "0002-second.sql", "ALTER TABLE a ADD COLUMN y TEXT DEFAULT 'new';"
			     "UPDATE a SET x = x + 1;" },
};
static const struct pb_embedded broken[] = {
	{ "0001-first.sql", "CREATE TABLE a (x INTEGER);"
			    "INSERT INTO a VALUES (41);" },
	{ "0002-second.sql", "ALTER TABLE a ADD COLUMN y TEXT;" },
	{ "0003-bad.sql", "CREATE TABLE b (z); THIS IS NOT SQL;" },
};

static char *tmp_db(void)
{
	char tmpl[] = "/tmp/pb-test-db-XXXXXX";
	char *dir = mkdtemp(tmpl);

	assert_non_null(dir);
	return pb_path_join(dir, "t.db");
}

static void cleanup(char *path)
{
	char *dir = pb_strdup(path);

	*strrchr(dir, '/') = '\0';
	pb_rm_rf(dir);
	free(dir);
	free(path);
}

/* Reads "SELECT ..." as text with the sqlite API directly (not db.c). */
static char *query(const char *path, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	char *out = NULL;

	assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		out = pb_strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(h);
	return out;
}

static void test_db__fresh_database_gets_every_migration(void **state)
{
	char *path = tmp_db(), *mode, *tables;
	struct pb_db *db;
	int v;

	(void)state;
	assert_int_equal(pb_db_open(&db, path), 0);
	assert_int_equal(pb_db_user_version(db, &v), 0);
	assert_int_equal(v, pb_db_schema_version());
	assert_true(v >= (int)pb_schema_count);
	pb_db_close(db);
	mode = query(path, "PRAGMA journal_mode");
	assert_string_equal(mode, "wal");
	tables = query(path, "SELECT group_concat(name, ',') FROM (SELECT name "
			     "FROM sqlite_master WHERE type = 'table' ORDER BY "
			     "name)");
	assert_string_equal(tables, "agents,alerts,benchmarks,"
				    "bisection_commits,bisection_steps,"
				    "bisections,build_images,builds,commits,"
				    "configurations,deliveries,job_losers,"
				    "job_runs,jobs,leases,merges,outbox,"
				    "principals,pushes,"
				    "repositories,run_conflicts,runs,"
				    "series_homes");
	free(mode);
	free(tables);
	/* opening again changes nothing */
	assert_int_equal(pb_db_open(&db, path), 0);
	pb_db_close(db);
	cleanup(path);
}

static void test_db__older_database_is_upgraded_in_place(void **state)
{
	char *path = tmp_db(), *row;
	struct pb_db *db;
	int v;

	(void)state;
	assert_int_equal(pb_db_open_with(&db, path, v1, 1), 0);
	pb_db_close(db);
	row = query(path, "SELECT x FROM a");
	assert_string_equal(row, "41");
	free(row);

	assert_int_equal(pb_db_open_with(&db, path, v2, 2), 0);
	assert_int_equal(pb_db_user_version(db, &v), 0);
	assert_int_equal(v, 2);
	pb_db_close(db);
	row = query(path, "SELECT x || ',' || y FROM a");
	assert_string_equal(row, "42,new"); /* data kept, migrated once */
	free(row);
	/* a second open does not run 0002 again */
	assert_int_equal(pb_db_open_with(&db, path, v2, 2), 0);
	pb_db_close(db);
	row = query(path, "SELECT x FROM a");
	assert_string_equal(row, "42");
	free(row);
	cleanup(path);
}

static void test_db__failed_migration_rolls_back_whole(void **state)
{
	char *path = tmp_db(), *row;
	struct pb_db *db = NULL;

	(void)state;
	assert_int_equal(pb_db_open_with(&db, path, v1, 1), 0);
	pb_db_close(db);
	assert_true(pb_db_open_with(&db, path, broken, 3) < 0);
	assert_null(db);
	row = query(path, "PRAGMA user_version");
	assert_string_equal(row, "2"); /* 0002 landed, 0003 did not */
	free(row);
	row = query(path, "SELECT count(*) FROM sqlite_master WHERE name = 'b'");
	assert_string_equal(row, "0");
	free(row);
	cleanup(path);
}

static void test_db__newer_database_is_refused(void **state)
{
	char *path = tmp_db();
	struct pb_db *db = NULL;

	(void)state;
	assert_int_equal(pb_db_open_with(&db, path, v2, 2), 0);
	pb_db_close(db);
	db = NULL;
	assert_int_equal(pb_db_open_with(&db, path, v1, 1), PB_EINFRA);
	assert_null(db);
	assert_non_null(strstr(pb_error_last(), "newer"));
	cleanup(path);
}

/* Numbers may skip (a branch's migration takes the number it will have
 * once merged) but never go back. */
static void test_db__migration_numbers_may_skip(void **state)
{
	static const struct pb_embedded gap[] = {
		{ "0001-first.sql", "CREATE TABLE a (x INTEGER);" },
		{ "0003-third.sql", "CREATE TABLE c (z INTEGER);" },
	};
	static const struct pb_embedded back[] = {
		{ "0002-second.sql", "CREATE TABLE b (y INTEGER);" },
		{ "0001-first.sql", "CREATE TABLE a (x INTEGER);" },
	};
	char *path = tmp_db(), *row;
	struct pb_db *db = NULL;
	int v;

	(void)state;
	assert_int_equal(pb_db_open_with(&db, path, gap, 1), 0);
	pb_db_close(db);
	assert_int_equal(pb_db_open_with(&db, path, gap, 2), 0);
	assert_int_equal(pb_db_user_version(db, &v), 0);
	assert_int_equal(v, 3);
	pb_db_close(db);
	row = query(path, "SELECT count(*) FROM sqlite_master WHERE name IN "
			  "('a', 'c')");
	assert_string_equal(row, "2");
	free(row);
	db = NULL;
	assert_true(pb_db_open_with(&db, path, back, 2) < 0);
	assert_null(db);
	assert_non_null(strstr(pb_error_last(), "out of order"));
	cleanup(path);
}

/* What a build's runs mapped: stored, loaded in path order, replaced,
 * forgotten; and a step's identical_to as its parent's sha. */
static void test_db__build_images(void **state)
{
	char *path = tmp_db();
	struct pb_db *db;
	struct pb_commit_info ci = { "3333333333333333333333333333333333333333",
				     "c", "C <c@x>", 3 };
	struct pb_benchmark_def bd = { "bench", "make", "./run", "ops", 0, 60,
				       600 };
	struct pb_image_row rows[3] = {
		{ "lib/libz.so.1", PB_IMAGE_ELF, "elf1:ab", NULL },
		{ "bench", PB_IMAGE_ELF, "elf1:cd", NULL },
		{ "data.bin", PB_IMAGE_OTHER, NULL, "not an ELF file" },
	};
	struct pb_image_row bad = { "x", PB_IMAGE_ELF, NULL, NULL };
	struct pb_image_row *got = NULL;
	int64_t repo, bench, c;
	size_t n;

	(void)state;
	assert_int_equal(pb_db_open(&db, path), 0);
	assert_int_equal(pb_db_repo_ensure(db, "/r", "/r", &repo), 0);
	assert_int_equal(pb_db_benchmark_ensure(db, repo, &bd, &bench), 0);
	assert_int_equal(pb_db_commit_ensure(db, repo, &ci, &c), 0);
	assert_int_equal(pb_db_images_load(db, c, bench, "local", &got, &n), 0);
	assert_int_equal(n, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pb_db_image_put(db, c, bench, "local",
						 &rows[i]), 0);
	assert_true(pb_db_image_put(db, c, bench, "local", &bad) < 0);
	/* another machine's build is another build */
	assert_int_equal(pb_db_image_put(db, c, bench, "elsewhere", &rows[0]),
			 0);
	assert_int_equal(pb_db_images_load(db, c, bench, "local", &got, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(got[0].path, "bench");
	assert_int_equal(got[0].kind, PB_IMAGE_ELF);
	assert_string_equal(got[0].digest, "elf1:cd");
	assert_null(got[0].note);
	assert_string_equal(got[1].path, "data.bin");
	assert_int_equal(got[1].kind, PB_IMAGE_OTHER);
	assert_null(got[1].digest);
	assert_string_equal(got[1].note, "not an ELF file");
	assert_string_equal(got[2].path, "lib/libz.so.1");
	pb_image_rows_free(got, n);
	/* a row put again replaces the old one */
	rows[1].kind = PB_IMAGE_ERROR;
	rows[1].digest = NULL;
	rows[1].note = "truncated";
	assert_int_equal(pb_db_image_put(db, c, bench, "local", &rows[1]), 0);
	assert_int_equal(pb_db_images_load(db, c, bench, "local", &got, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(got[0].kind, PB_IMAGE_ERROR);
	assert_null(got[0].digest);
	assert_string_equal(got[0].note, "truncated");
	pb_image_rows_free(got, n);
	assert_int_equal(pb_db_images_forget(db, c, bench, "local"), 0);
	assert_int_equal(pb_db_images_load(db, c, bench, "local", &got, &n), 0);
	assert_int_equal(n, 0);
	assert_null(got);
	assert_int_equal(pb_db_images_load(db, c, bench, "elsewhere", &got,
					   &n), 0);
	assert_int_equal(n, 1);
	pb_image_rows_free(got, n);
	pb_image_rows_free(NULL, 0);
	pb_db_close(db);
	cleanup(path);
}

static void test_db__unopenable_file_is_infrastructure(void **state)
{
	struct pb_db *db = NULL;

	(void)state;
	assert_int_equal(pb_db_open(&db, "/nonexistent-dir/x/state.db"),
			 PB_EINFRA);
	assert_null(db);
}

/* A job's claim visits the queued jobs, not every job a bisection ever
 * had: with 3,000 finished jobs beside one queued, it does the work of a
 * few rows (a plan that walked every bisection job - sqlite chose
 * jobs_by_merge for "merge_id IS NULL" once schema 0012 added it - did
 * some 60,000 steps, and the service's leases slowed as jobs piled up). */
static void test_db__job_claim_visits_only_queued_jobs(void **state)
{
	char *path = tmp_db();
	struct pb_db *db;
	struct pb_commit_info ci[2] = {
		{ "1111111111111111111111111111111111111111", "a", "A <a@x>", 1 },
		{ "2222222222222222222222222222222222222222", "b", "B <b@x>", 2 },
	};
	struct pb_benchmark_def bd = { "bench", "make", "./run", "ops", 0, 60,
				       600 };
	struct pb_bisection_def d;
	int64_t repo, bench, c0, c1, bis, job, queued, got;
	uint64_t before, steps;
	struct pb_home_rule hr = { pb_now_real(), 0, 0 };

	(void)state;
	assert_int_equal(pb_db_open(&db, path), 0);
	assert_int_equal(pb_db_repo_ensure(db, "/r", "/r", &repo), 0);
	assert_int_equal(pb_db_benchmark_ensure(db, repo, &bd, &bench), 0);
	assert_int_equal(pb_db_commit_ensure(db, repo, &ci[0], &c0), 0);
	assert_int_equal(pb_db_commit_ensure(db, repo, &ci[1], &c1), 0);
	d = (struct pb_bisection_def){ repo, bench, 0, ci[0].sha, ci[1].sha,
				       0.99, 7, 100, 0.03 };
	assert_int_equal(pb_db_bisection_create(db, &d, &bis), 0);
	assert_int_equal(pb_db_begin(db), 0);
	for (int i = 0; i < 3000; i++) {
		assert_int_equal(pb_db_job_create(db, bis, "runs",
						  i % 2 ? &c0 : &c1, 1, &job),
				 0);
		assert_int_equal(pb_db_job_set_state(db, job, "done"), 0);
	}
	assert_int_equal(pb_db_job_create(db, bis, "runs", &c1, 1, &queued), 0);
	assert_int_equal(pb_db_commit(db), 0);

	before = pb_db_work(db);
	assert_int_equal(pb_db_job_claim(db, "m1", &got), 0);
	steps = pb_db_work(db) - before;
	assert_int_equal(got, queued);
	print_message("a claim beside 3,000 finished jobs: %llu steps\n",
		      (unsigned long long)steps);
	assert_true(steps < 1000);
	/* nothing queued now: the same */
	before = pb_db_work(db);
	assert_int_equal(pb_db_job_claim(db, "m1", &got), PB_ENOTFOUND);
	assert_int_equal(pb_db_merge_job_claim(db, "m1", &hr, &got),
			 PB_ENOTFOUND);
	steps = pb_db_work(db) - before;
	assert_true(steps < 1000);
	pb_db_close(db);
	cleanup(path);
}

/* The home machine of benchmark `bench`'s series, as stored (NULL: none). */
static void expect_home(const char *path, const char *bench,
			const char *want)
{
	char sql[256], *got;

	snprintf(sql, sizeof(sql),
		 "SELECT h.machine FROM series_homes h JOIN benchmarks b ON "
		 "b.id = h.benchmark_id WHERE b.name = '%s'", bench);
	got = query(path, sql);
	if (want ? !got || strcmp(got, want) : got != NULL)
		fail_msg("home of %s: %s, want %s", bench, got ? got : "none",
			 want ? want : "none");
	free(got);
}

/* A series' merge jobs stay on its home machine, the first that took one,
 * while it lives; another agent takes them when the home lost the job,
 * when the job waited past the rule's bound, or when the home is gone (and
 * becomes the home). */
static void test_db__merge_jobs_stay_on_the_series_home(void **state)
{
	char *path = tmp_db();
	struct pb_db *db;
	struct pb_commit_info ci[4] = {
		{ "1111111111111111111111111111111111111111", "a", "A <a@x>", 1 },
		{ "2222222222222222222222222222222222222222", "b", "B <b@x>", 2 },
		{ "3333333333333333333333333333333333333333", "c", "C <c@x>", 3 },
		{ "4444444444444444444444444444444444444444", "d", "D <d@x>", 4 },
	};
	struct pb_benchmark_def b1 = { "one", "make", "./run", "ops", 0, 60,
				       600 };
	struct pb_benchmark_def b2 = { "two", "make", "./run", "ops", 0, 60,
				       600 };
	int64_t repo, one, two, c[4], m, job[5], got;
	int failed;
	double now = pb_now_real();
	struct pb_home_rule live = { now, now - 60, now - 3600 };

	(void)state;
	assert_int_equal(pb_db_open(&db, path), 0);
	assert_int_equal(pb_db_repo_ensure(db, "/r", "/r", &repo), 0);
	assert_int_equal(pb_db_benchmark_ensure(db, repo, &b1, &one), 0);
	assert_int_equal(pb_db_benchmark_ensure(db, repo, &b2, &two), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pb_db_commit_ensure(db, repo, &ci[i], &c[i]),
				 0);
	assert_int_equal(pb_db_agent_seen(db, "m1", NULL, now), 0);
	assert_int_equal(pb_db_agent_seen(db, "m2", NULL, now), 0);
	expect_home(path, "one", NULL);
	/* series "one" at commits 0..2, series "two" at commit 0 */
	for (int i = 0; i < 3; i++)
		assert_int_equal(pb_db_merge_add(db, repo, c[i], one, "api", 3,
						 &m, &job[i]),
				 0);
	assert_int_equal(pb_db_merge_add(db, repo, c[0], two, "api", 3, &m,
					 &job[3]),
			 0);
	/* m1 takes the newest, "two"'s, and is that series' home */
	assert_int_equal(pb_db_merge_job_claim(db, "m1", &live, &got), 0);
	assert_int_equal(got, job[3]);
	expect_home(path, "two", "m1");
	/* m2 gets "one"'s newest, and is that series' home */
	assert_int_equal(pb_db_merge_job_claim(db, "m2", &live, &got), 0);
	assert_int_equal(got, job[2]);
	expect_home(path, "one", "m2");
	/* m1 has no claim on "one"'s two other jobs; m2 takes them */
	assert_int_equal(pb_db_merge_job_claim(db, "m1", &live, &got),
			 PB_ENOTFOUND);
	assert_int_equal(pb_db_merge_job_claim(db, "m2", &live, &got), 0);
	assert_int_equal(got, job[1]);
	pb_db_close(db);
	cleanup(path);

	/* the rule's bounds, on a fresh database: one series, m1 its home */
	path = tmp_db();
	assert_int_equal(pb_db_open(&db, path), 0);
	assert_int_equal(pb_db_repo_ensure(db, "/r", "/r", &repo), 0);
	assert_int_equal(pb_db_benchmark_ensure(db, repo, &b1, &one), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pb_db_commit_ensure(db, repo, &ci[i], &c[i]),
				 0);
		assert_int_equal(pb_db_merge_add(db, repo, c[i], one, "api", 3,
						 &m, &job[i]),
				 0);
	}
	assert_int_equal(pb_db_agent_seen(db, "m1", NULL, now), 0);
	assert_int_equal(pb_db_agent_seen(db, "m2", NULL, now), 0);
	assert_int_equal(pb_db_merge_job_claim(db, "m1", &live, &got), 0);
	assert_int_equal(got, job[3]);
	assert_int_equal(pb_db_merge_job_claim(db, "m2", &live, &got),
			 PB_ENOTFOUND);
	/* the home lost a job: that one may go elsewhere */
	assert_int_equal(pb_db_job_lost(db, job[3], "m1", 3, &failed), 0);
	assert_int_equal(failed, 0);
	assert_int_equal(pb_db_merge_job_claim(db, "m2", &live, &got), 0);
	assert_int_equal(got, job[3]);
	expect_home(path, "one", "m1");
	/* jobs that waited past the bound go to anyone; m1 stays home */
	live.waited_before = now + 1;
	assert_int_equal(pb_db_merge_job_claim(db, "m2", &live, &got), 0);
	assert_int_equal(got, job[2]);
	expect_home(path, "one", "m1");
	/* a home not seen since the bound, holding no lease, is gone: m2
	 * takes the series' job and is its home */
	live.waited_before = now - 3600;
	live.seen_since = now + 1;
	assert_int_equal(pb_db_merge_job_claim(db, "m2", &live, &got), 0);
	assert_int_equal(got, job[1]);
	expect_home(path, "one", "m2");
	/* and m1, back, leaves the last one to m2 */
	live.seen_since = now - 60;
	assert_int_equal(pb_db_agent_seen(db, "m2", NULL, now), 0);
	assert_int_equal(pb_db_merge_job_claim(db, "m1", &live, &got),
			 PB_ENOTFOUND);
	pb_db_close(db);
	cleanup(path);
}

static void test_db__runs_are_idempotent_and_bisections_round_trip(void **state)
{
	char *path = tmp_db();
	struct pb_db *db;
	struct pb_commit_info ci[2] = {
		{ "1111111111111111111111111111111111111111", "first <b>bold</b>",
		  "A <a@x>", 1, },
		{ "2222222222222222222222222222222222222222", "second", "B <b@x>",
		  2, },
	};
	struct pb_benchmark_def bd = { "bench", "make", "./run", "ops", 0, 60,
				       600 };
	struct pb_bisection_def d;
	struct pb_run_row run;
	struct pb_step_row steps[2];
	struct pb_bisection_end end;
	struct pb_stats_view stats;
	struct pb_bisection_view *v;
	int64_t repo, bench, c0, c1, bis, again, seq;
	struct pb_bisection_found found;
	unsigned ok, failed;

	(void)state;
	assert_int_equal(pb_db_open(&db, path), 0);
	assert_int_equal(pb_db_repo_ensure(db, "/r", "/r", &repo), 0);
	assert_int_equal(pb_db_repo_ensure(db, "/r", "/r", &again), 0);
	assert_int_equal(repo, again);
	assert_int_equal(pb_db_benchmark_ensure(db, repo, &bd, &bench), 0);
	assert_int_equal(pb_db_commit_ensure(db, repo, &ci[0], &c0), 0);
	assert_int_equal(pb_db_commit_ensure(db, repo, &ci[1], &c1), 0);
	d = (struct pb_bisection_def){ repo, bench, 0, ci[0].sha, ci[1].sha,
				       0.99, 7, 100, 0.03 };
	assert_int_equal(pb_db_bisection_find(db, &d, &found), PB_ENOTFOUND);
	assert_int_equal(pb_db_bisection_create(db, &d, &bis), 0);
	/* another --min-effect is another bisection */
	d.min_effect = 0.1;
	assert_int_equal(pb_db_bisection_find(db, &d, &found), PB_ENOTFOUND);
	d.min_effect = 0.03;
	assert_int_equal(pb_db_bisection_find(db, &d, &found), 0);
	assert_int_equal(found.id, bis);
	assert_string_equal(found.state, "running");
	assert_int_equal(found.exit_code, -1);
	assert_int_equal(found.max_runs, 100);
	/* another seed is another bisection; another budget is not */
	d.seed = 8;
	assert_int_equal(pb_db_bisection_find(db, &d, &found), PB_ENOTFOUND);
	d.seed = 7;
	d.max_runs = 50;
	assert_int_equal(pb_db_bisection_find(db, &d, &found), 0);
	assert_int_equal(found.id, bis);
	d.max_runs = 100;

	memset(&run, 0, sizeof(run));
	run.run_id = "r-1";
	run.bisection_id = bis;
	run.seq = 1;
	run.commit_id = c0;
	run.bench_id = bench;
	run.machine = "local";
	run.ok = 1;
	run.value = 12.5;
	run.metrics_json = "{\"ops\":12.5}";
	run.start_cpu = 3;
	run.start_node = 1;
	run.ipc = 1.5;
	run.remote_access = NAN;
	run.remote_note = "unsupported: no remote-access event for this CPU";
	assert_int_equal(pb_db_run_insert(db, &run), 0);
	assert_int_equal(pb_db_run_insert(db, &run), PB_DB_REPEAT); /* posted twice */
	run.run_id = "r-2";
	run.seq = 2;
	run.ok = 0;
	run.failure_reason = "benchmark exit status 3";
	run.ipc = 9; /* a failed run counts for nothing */
	assert_int_equal(pb_db_run_insert(db, &run), 0);
	/* Two more successful runs at c0: IPC median of 1.5, 0.5, 3.5 is
	 * 1.5; one of them started on node 0. */
	run.ok = 1;
	run.run_id = "r-3";
	run.seq = 3;
	run.ipc = 0.5;
	run.start_node = 0;
	assert_int_equal(pb_db_run_insert(db, &run), 0);
	run.run_id = "r-4";
	run.seq = 4;
	run.ipc = 3.5;
	run.start_node = 1;
	assert_int_equal(pb_db_run_insert(db, &run), 0);
	assert_int_equal(pb_db_run_count(db, bis, &ok, &failed), 0);
	assert_int_equal(ok, 3);
	assert_int_equal(failed, 1);
	assert_int_equal(pb_db_bisection_next_seq(db, bis, &seq), 0);
	assert_int_equal(seq, 5);

	steps[0] = (struct pb_step_row){ c0, "good", 1, 1, 12.5, 0.0, 0, 1,
					 0.001, 0, 0, 0, 0 };
	steps[1] = (struct pb_step_row){ c1, "bad", 0, 0, NAN, NAN, -1, -1,
					 NAN, 2, c0, 0, 0 };
	pb_stats_view_init(&stats);
	pb_strlcpy(stats.ci_first, ci[1].sha, sizeof(stats.ci_first));
	pb_strlcpy(stats.ci_last, ci[1].sha, sizeof(stats.ci_last));
	stats.culprit_slow = 3;
	stats.culprit_fast = 2;
	stats.parent_slow = 0;
	stats.parent_fast = 9;
	stats.q1 = 0.6;
	stats.dip_p = 0.01;
	stats.good_bimodal = 0;
	memset(&end, 0, sizeof(end));
	end.stats = &stats;
	end.state = "done";
	end.mode = "shift";
	end.culprit_sha = ci[1].sha;
	end.confidence = NAN;
	end.runs = 4;
	end.builds = 2;
	end.outcome = "found";
	end.exit_code = 0;
	end.finished = 1;
	assert_int_equal(pb_db_bisection_save(db, bis, &end, steps, 2), 0);
	/* finished: found with its verdict's facts, and reopened with a
	 * larger budget */
	assert_int_equal(pb_db_bisection_find(db, &d, &found), 0);
	assert_string_equal(found.state, "done");
	assert_int_equal(found.exit_code, 0);
	assert_int_equal(found.runs, 4);
	assert_int_equal(found.has_culprit, 1);
	assert_int_equal(found.has_range, 0);
	assert_string_equal(found.mode, "shift");
	assert_int_equal(pb_db_bisection_reopen(db, bis, 300), 0);
	assert_int_equal(pb_db_bisection_find(db, &d, &found), 0);
	assert_string_equal(found.state, "running");
	assert_int_equal(found.max_runs, 300);
	assert_int_equal(found.exit_code, -1);
	assert_int_equal(pb_db_bisection_save(db, bis, &end, steps, 2), 0);
	assert_int_equal(pb_db_bisection_load(db, bis, &v), 0);
	assert_string_equal(v->culprit, ci[1].sha);
	assert_string_equal(v->mode, "shift");
	assert_true(isnan(v->confidence));
	assert_int_equal(v->nsteps, 2);
	assert_string_equal(v->steps[0].subject, "first <b>bold</b>");
	assert_string_equal(v->steps[0].verdict, "good");
	assert_true(v->steps[0].median == 12.5);
	assert_true(isnan(v->steps[1].median));
	/* what the agent measured, summarised per commit */
	assert_int_equal(v->steps[0].ipc_state, PB_VAL_NUMBER);
	assert_true(v->steps[0].ipc == 1.5);
	assert_int_equal(v->steps[0].remote_state, PB_VAL_UNSUPPORTED);
	assert_string_equal(v->steps[0].remote_note,
			    "unsupported: no remote-access event for this CPU");
	assert_string_equal(v->steps[0].start_nodes_json, "{\"0\":1,\"1\":2}");
	assert_int_equal(v->steps[1].ipc_state, PB_VAL_NULL);
	assert_null(v->steps[1].start_nodes_json);
	/* the engine's statistics round-trip, NULL as NULL */
	assert_int_equal(v->steps[0].slow, 0);
	assert_int_equal(v->steps[0].fast, 1);
	assert_true(v->steps[0].p_bad == 0.001);
	assert_int_equal(v->steps[1].slow, -1);
	assert_true(isnan(v->steps[1].p_bad));
	/* identical_to: the parent's sha, or "" */
	assert_string_equal(v->steps[0].identical_to, "");
	assert_string_equal(v->steps[1].identical_to, ci[0].sha);
	assert_string_equal(v->stats.ci_first, ci[1].sha);
	assert_int_equal(v->stats.culprit_slow, 3);
	assert_int_equal(v->stats.parent_fast, 9);
	assert_true(v->stats.q1 == 0.6);
	assert_true(isnan(v->stats.q0));
	assert_true(v->stats.dip_p == 0.01);
	assert_int_equal(v->stats.good_bimodal, 0);
	assert_true(isnan(v->stats.mwu_p));
	assert_int_equal(v->exit_code, 0);
	assert_string_equal(v->verification.commit, "");
	assert_int_equal(v->verification.ipc.state, PB_VAL_NULL);
	pb_bisection_view_free(v);

	/* a run's counters by seq, the machine's reason with a NAN */
	{
		struct pb_run_counts rc;

		assert_int_equal(pb_db_run_counts(db, bis, 3, &rc), 0);
		assert_true(rc.ipc == 0.5);
		assert_true(isnan(rc.remote_access));
		assert_string_equal(rc.remote_note, "unsupported: no "
				    "remote-access event for this CPU");
		assert_int_equal(pb_db_run_counts(db, bis, 99, &rc),
				 PB_ENOTFOUND);
	}
	/* the verification with what moved with it: a number with its
	 * interval, and a counter the machine could not count */
	{
		struct pb_verification_view w;
		char said[512];

		memset(&w, 0, sizeof(w));
		pb_strlcpy(w.commit, ci[1].sha, sizeof(w.commit));
		w.attempts = 2;
		w.pairs = 9;
		w.effect = 0.4;
		w.lo = 0.3;
		w.hi = 0.5;
		w.p = 0.004;
		w.confirmed = 1;
		w.ipc = (struct pb_counter_move){ PB_VAL_NUMBER, -0.2, -0.25,
						  -0.1, 9, "" };
		w.remote = (struct pb_counter_move){ PB_VAL_UNSUPPORTED, NAN,
						     NAN, NAN, 9,
						     "no remote-access event" };
		end.verification = &w;
		assert_int_equal(pb_db_bisection_save(db, bis, &end, steps, 2),
				 0);
		assert_int_equal(pb_db_bisection_load(db, bis, &v), 0);
		assert_string_equal(v->verification.commit, ci[1].sha);
		assert_int_equal(v->verification.pairs, 9);
		assert_int_equal(v->verification.ipc.state, PB_VAL_NUMBER);
		assert_true(v->verification.ipc.change == -0.2);
		assert_true(v->verification.ipc.lo == -0.25);
		assert_true(v->verification.ipc.hi == -0.1);
		assert_int_equal(v->verification.ipc.pairs, 9);
		assert_int_equal(pb_counter_moved(&v->verification.ipc), 1);
		pb_counter_move_say(&v->verification.ipc, "IPC", said,
				    sizeof(said));
		assert_string_equal(said, "IPC moved with it: -20.0 % (95 % "
				    "interval -25.0 % to -10.0 %, 9 pairs)");
		assert_int_equal(v->verification.remote.state,
				 PB_VAL_UNSUPPORTED);
		assert_string_equal(v->verification.remote.note,
				    "no remote-access event");
		assert_int_equal(pb_counter_moved(&v->verification.remote),
				 -1);
		pb_counter_move_say(&v->verification.remote, "remote accesses",
				    said, sizeof(said));
		assert_string_equal(said, "remote accesses not counted (no "
				    "remote-access event)");
		pb_bisection_view_free(v);
		/* no interval: too few pairs; an interval over 0: no move */
		w.ipc.lo = w.ipc.hi = NAN;
		pb_counter_move_say(&w.ipc, "IPC", said, sizeof(said));
		assert_string_equal(said, "IPC -20.0 % over 9 pairs: too few "
				    "pairs to say whether it moved");
		w.ipc.lo = -0.3;
		w.ipc.hi = 0.01;
		assert_int_equal(pb_counter_moved(&w.ipc), 0);
		pb_counter_move_say(&w.ipc, "IPC", said, sizeof(said));
		assert_string_equal(said, "IPC did not move: -20.0 % (95 % "
				    "interval -30.0 % to +1.0 %, 9 pairs)");
	}
	assert_int_equal(pb_db_bisection_load(db, bis + 100, &v), PB_ENOTFOUND);
	pb_db_close(db);
	cleanup(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_db__fresh_database_gets_every_migration),
		cmocka_unit_test(test_db__older_database_is_upgraded_in_place),
		cmocka_unit_test(test_db__failed_migration_rolls_back_whole),
		cmocka_unit_test(test_db__newer_database_is_refused),
		cmocka_unit_test(test_db__migration_numbers_may_skip),
		cmocka_unit_test(test_db__build_images),
		cmocka_unit_test(test_db__unopenable_file_is_infrastructure),
		cmocka_unit_test(test_db__job_claim_visits_only_queued_jobs),
		cmocka_unit_test(test_db__merge_jobs_stay_on_the_series_home),
		cmocka_unit_test(
			test_db__runs_are_idempotent_and_bisections_round_trip),
	};

	return cmocka_run_group_tests_name("db", tests, NULL, NULL);
}
