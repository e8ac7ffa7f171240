/*
 * test_sched.c - the service's scheduler on a real sqlite file and a real
 * git repository made by the test, driven as agents drive it over HTTP
 * (the HTTP layer is tested end to end in tests/t/): leases, records
 * counted once, lost leases requeued to other agents, orphans, conflicts,
 * infrastructure failures, cancelling, and a restart that resumes.  The
 * clock is the test's, so that leases expire when the test says.
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
#include "common/git.h"
#include "common/util.h"
#include "orchestrator/core/engine.h"
#include "orchestrator/db.h"
#include "orchestrator/sched.h"

#define N 10          /* commits after good */
#define CULPRIT 6     /* the planted one: 0 good .. N bad */

static double clock_now = 1e9;

static double fake_now(void)
{
	return clock_now;
}

struct fixture {
	char *dir, *repo, *dbpath;
	char sha[N + 1][41];
	struct pb_db *db;
	struct pb_sched *s;
	unsigned woken;
};

static void on_work(void *ctx)
{
	((struct fixture *)ctx)->woken++;
}

static void make_repo(struct fixture *f)
{
	struct pb_git *g;

	assert_int_equal(pb_git_init_repo(&g, f->repo), 0);
	for (int i = 0; i <= N; i++) {
		char body[64], msg[32];
		struct pb_git_file file = { "bench.txt", body, 0 };
		const char *parents[1] = { i ? f->sha[i - 1] : NULL };

		snprintf(body, sizeof(body), "%d\n", i >= CULPRIT ? 70 : 100);
		snprintf(msg, sizeof(msg), "change %d", i);
		assert_int_equal(pb_git_commit_tree(g, "refs/heads/main", &file,
						    1, parents, i ? 1 : 0, msg,
						    "T", "t@x", 1000 + i,
						    f->sha[i]),
				 0);
	}
	pb_git_free(g);
}

static void open_sched(struct fixture *f)
{
	struct pb_sched_opts o;

	memset(&o, 0, sizeof(o));
	o.db = f->db;
	o.work_dir = f->dir;
	o.lease_s = 60;
	o.restart_grace_s = -1; /* none: the test's clock decides */
	o.max_expiries = 3;
	o.now = fake_now;
	o.on_work = on_work;
	o.ctx = f;
	assert_int_equal(pb_sched_new(&f->s, &o), 0);
}

static void fixture_init(struct fixture *f)
{
	char tmpl[] = "/tmp/pb-test-sched-XXXXXX";
	int64_t repo, bench;
	struct pb_benchmark_def bd = { "b", "true", "cat bench.txt", "v", 0,
				       60, 600 };

	memset(f, 0, sizeof(*f));
	assert_non_null(mkdtemp(tmpl));
	f->dir = pb_strdup(tmpl);
	f->repo = pb_path_join(f->dir, "repo");
	f->dbpath = pb_path_join(f->dir, "db");
	make_repo(f);
	assert_int_equal(pb_db_open(&f->db, f->dbpath), 0);
	assert_int_equal(pb_db_repo_ensure(f->db, "r", f->repo, &repo), 0);
	assert_int_equal(pb_db_benchmark_ensure(f->db, repo, &bd, &bench), 0);
	open_sched(f);
}

static void fixture_free(struct fixture *f)
{
	pb_sched_free(f->s);
	pb_db_close(f->db);
	pb_rm_rf(f->dir);
	free(f->dir);
	free(f->repo);
	free(f->dbpath);
}

static int64_t start(struct fixture *f)
{
	struct pb_sched_start q = { "r", "b", "main~10", "main", "tester",
				    0, 0, 3, 0, 0 };
	char good[41], bad[41];
	int64_t id;

	assert_int_equal(pb_sched_start(f->s, &q, &id, good, bad), 0);
	assert_string_equal(good, f->sha[0]);
	assert_string_equal(bad, f->sha[N]);
	return id;
}

/* The benchmark's value at the commit (deterministic, +-0.5). */
static double value_at(const struct fixture *f, const char *sha, unsigned k)
{
	for (int i = 0; i <= N; i++)
		if (!strcmp(f->sha[i], sha))
			return (i >= CULPRIT ? 70.0 : 100.0) +
			       (k % 2 ? 0.5 : -0.5);
	fail_msg("commit %s is not of the repository", sha);
	return NAN;
}

/* post()'s last answer: whether the record ended its job */
static int last_job_done;

/* post()'s next record is disturbed (then it is not again) */
static int next_disturbed;

static int post(struct fixture *f, const char *agent,
		const struct pb_sched_job *j, size_t r, double value,
		int *repeat, int *cont, struct pb_sched_refusal *why)
{
	struct pb_run_row row;
	char body[128];

	memset(&row, 0, sizeof(row));
	row.disturbed = next_disturbed;
	next_disturbed = 0;
	row.ok = 1;
	row.value = value;
	row.ipc = row.remote_access = row.cpu_s = row.busy_share = NAN;
	row.start_cpu = row.start_node = -1;
	row.started_at = clock_now;
	row.finished_at = clock_now + 1;
	snprintf(body, sizeof(body), "{\"value\": %.17g, \"disturbed\": %d}",
		 value, row.disturbed);
	return pb_sched_post_run(f->s, agent, j->lease, j->runs[r].index,
				 j->runs[r].commit, &row, NULL, 0, body,
				 strlen(body), repeat, cont, &last_job_done, why);
}

static char *query(const struct fixture *f, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	char *out = NULL;

	assert_int_equal(sqlite3_open_v2(f->dbpath, &h, SQLITE_OPEN_READONLY,
					 NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		out = pb_strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(h);
	return out;
}

static void expect(const struct fixture *f, const char *sql, const char *want)
{
	char *got = query(f, sql);

	if (!got || strcmp(got, want))
		fail_msg("%s: got %s, want %s", sql, got ? got : "NULL", want);
	free(got);
}

/* Two agents work the bisection to its end, results out of order: the
 * planted culprit, verified; every run counted once. */
static void test_sched__two_agents_find_the_culprit(void **state)
{
	struct fixture f;
	const char *agents[2] = { "a1", "a2" };
	struct pb_sched_job held[2];
	int have[2] = { 0, 0 };
	unsigned k = 0, req = 0, rounds = 0;
	char want[64];

	(void)state;
	fixture_init(&f);
	start(&f);
	memset(held, 0, sizeof(held));
	for (;;) {
		int got_any = 0;

		/* both agents hold a job, then the second reports first */
		for (int a = 0; a < 2; a++) {
			char rid[32];
			int rc;

			if (have[a])
				continue;
			snprintf(rid, sizeof(rid), "req-%u", req++);
			rc = pb_sched_lease(f.s, agents[a], rid, "{}", &held[a]);
			if (rc == PB_ENOTFOUND)
				continue;
			assert_int_equal(rc, 0);
			have[a] = 1;
		}
		for (int a = 1; a >= 0; a--) {
			struct pb_sched_refusal why;
			int repeat, cont = 1;

			if (!have[a])
				continue;
			got_any = 1;
			for (size_t r = 0; r < held[a].nruns && cont; r++) {
				int rc = post(&f, agents[a], &held[a], r,
					      value_at(&f, held[a].runs[r].commit,
						       k++),
					      &repeat, &cont, &why);

				if (rc == PB_ECONFLICT)
					break; /* the bisection ended */
				assert_int_equal(rc, 0);
				assert_false(repeat);
			}
			(void)pb_sched_done(f.s, agents[a], held[a].lease, &why);
			pb_sched_job_release(&held[a]);
			have[a] = 0;
		}
		if (!got_any)
			break;
		assert_true(++rounds < 400);
	}
	snprintf(want, sizeof(want), "%s culprit done", f.sha[CULPRIT]);
	expect(&f, "SELECT culprit_sha || ' ' || verdict || ' ' || state FROM "
		   "bisections", want);
	expect(&f, "SELECT verify_confirmed FROM bisections", "1");
	/* more than one agent took runs, none counted twice */
	expect(&f, "SELECT count(DISTINCT machine) FROM runs", "2");
	expect(&f, "SELECT count(*) = count(DISTINCT run_id) FROM runs", "1");
	expect(&f, "SELECT runs = (SELECT count(*) FROM runs WHERE orphan = 0) "
		   "FROM bisections", "1");
	expect(&f, "SELECT count(*) FROM jobs WHERE state IN ('queued', "
		   "'leased')", "0");
	fixture_free(&f);
}

/* An agent whose every run is disturbed by other work: the bisection
 * gives no job for a while (the wait, doubling), asks again after it, and
 * past PB_BUSY_WAITS rounds ends "machine too busy to measure", exit 3 -
 * never a culprit (the service as --local: DESIGN.md's outcome table). */
static void test_sched__busy_machine_waits_then_ends_too_busy(void **state)
{
	struct fixture f;
	unsigned waits = 0, leases = 0;
	char *st = NULL;

	(void)state;
	fixture_init(&f);
	start(&f);
	for (int round = 0; round < 4000; round++) {
		struct pb_sched_job j;
		struct pb_sched_refusal why;
		char rid[32];
		int rc, repeat, cont = 1;

		snprintf(rid, sizeof(rid), "busy-%d", round);
		rc = pb_sched_lease(f.s, "a1", rid, "{}", &j);
		if (rc == PB_ENOTFOUND) {
			free(st);
			st = query(&f, "SELECT state FROM bisections");
			if (strcmp(st, "running"))
				break;
			/* waiting: past the longest back-off */
			waits++;
			clock_now += 100;
			continue;
		}
		assert_int_equal(rc, 0);
		leases++;
		for (size_t r = 0; r < j.nruns && cont; r++) {
			next_disturbed = 1;
			rc = post(&f, "a1", &j, r,
				  value_at(&f, j.runs[r].commit, r), &repeat,
				  &cont, &why);
			if (rc == PB_ECONFLICT)
				break;
			assert_int_equal(rc, 0);
		}
		pb_sched_job_release(&j);
		clock_now += 1;
	}
	free(st);
	assert_true(waits >= 2);
	assert_true(leases > 0);
	expect(&f, "SELECT state || ' ' || exit_code || ' ' || "
		   "coalesce(culprit_sha, 'none') FROM bisections",
		   "failed 3 none");
	expect(&f, "SELECT outcome LIKE 'machine too busy to measure%' FROM "
		   "bisections", "1");
	expect(&f, "SELECT count(*) FROM runs WHERE disturbed = 0", "0");
	expect(&f, "SELECT count(*) FROM jobs WHERE state IN ('queued', "
		   "'leased')", "0");
	fixture_free(&f);
}

static void test_sched__leases_fence_and_requeue(void **state)
{
	struct fixture f;
	struct pb_sched_job j, again, other;
	struct pb_sched_refusal why;
	double left;
	int repeat, cont;

	(void)state;
	fixture_init(&f);
	start(&f);
	assert_int_equal(pb_sched_lease(f.s, "a1", "r1", "{}", &j), 0);
	assert_true(j.nruns >= 1);
	/* a retried request gets the same lease */
	assert_int_equal(pb_sched_lease(f.s, "a1", "r1", "{}", &again), 0);
	assert_string_equal(again.lease, j.lease);
	pb_sched_job_release(&again);
	/* another agent's call on it: 409, unknown */
	assert_int_equal(pb_sched_heartbeat(f.s, "a2", j.lease, 0, &left, &cont,
					    &why),
			 PB_ECONFLICT);
	assert_string_equal(why.state, "unknown");
	/* a heartbeat before a long run extends it past the run */
	assert_int_equal(pb_sched_heartbeat(f.s, "a1", j.lease, 300, &left,
					    &cont, &why),
			 0);
	assert_true(left >= 300);
	assert_true(cont);
	/* time passes beyond it: the reaper requeues the job */
	clock_now += 400;
	assert_int_equal(pb_sched_reap(f.s), 0);
	expect(&f, "SELECT state FROM leases", "expired");
	expect(&f, "SELECT state || ' ' || expiries FROM jobs", "queued 1");
	/* never back to the agent that lost it... */
	assert_int_equal(pb_sched_lease(f.s, "a1", "r2", "{}", &again), 0);
	assert_true(again.job_id != j.job_id);
	/* ...but to another */
	assert_int_equal(pb_sched_lease(f.s, "a2", "r3", "{}", &other), 0);
	assert_int_equal(other.job_id, j.job_id);
	/* the late record on the expired lease: 409, kept as an orphan */
	assert_int_equal(post(&f, "a1", &j, 0, 100, &repeat, &cont, &why),
			 PB_ECONFLICT);
	assert_string_equal(why.state, "expired");
	expect(&f, "SELECT count(*) FROM runs WHERE orphan = 1", "1");
	expect(&f, "SELECT runs FROM bisections", "0");
	/* an index the job does not have */
	{
		struct pb_sched_job bad = other;
		struct pb_sched_job_run r = other.runs[0];

		r.index = 99;
		bad.runs = &r;
		assert_int_equal(post(&f, "a2", &bad, 0, 100, &repeat, &cont,
				      &why),
				 PB_EINVAL);
	}
	/* a record on the valid lease counts; an identical repeat does not;
	 * a different one is a conflict, kept for audit */
	assert_int_equal(other.nruns, 1);
	assert_int_equal(post(&f, "a2", &other, 0, 100, &repeat, &cont, &why),
			 0);
	assert_false(repeat);
	/* its one run: the record ended the job, as `done` would have */
	assert_true(last_job_done);
	assert_false(cont);
	{
		char sql[256];

		snprintf(sql, sizeof(sql), "SELECT j.state || ' ' || l.state "
			 "FROM jobs j JOIN leases l ON l.job_id = j.id WHERE "
			 "l.id = '%s'", other.lease);
		expect(&f, sql, "done done");
	}
	assert_int_equal(post(&f, "a2", &other, 0, 100, &repeat, &cont, &why),
			 0);
	assert_true(repeat);
	assert_true(last_job_done); /* the first answer's, if it was lost */
	/* the same record from another agent is no repeat of its own: 409,
	 * nothing said of a2's job */
	repeat = 0;
	assert_int_equal(post(&f, "a1", &other, 0, 100, &repeat, &cont, &why),
			 PB_ECONFLICT);
	assert_string_equal(why.state, "unknown");
	assert_false(repeat);
	assert_false(last_job_done);
	/* a `done` all the same (an older agent, or a retry): 200 */
	assert_int_equal(pb_sched_done(f.s, "a2", other.lease, &why), 0);
	assert_int_equal(post(&f, "a2", &other, 0, 55, &repeat, &cont, &why),
			 PB_ECONFLICT);
	expect(&f, "SELECT count(*) FROM run_conflicts", "1");
	expect(&f, "SELECT runs FROM bisections", "1");
	/* a2 dies after posting the job's every run, before its done: when
	 * the lease expires the job is over, not queued again with nothing
	 * owed */
	clock_now += 400;
	assert_int_equal(pb_sched_reap(f.s), 0);
	{
		char sql[128];
		struct pb_sched_job next;

		snprintf(sql, sizeof(sql),
			 "SELECT state FROM jobs WHERE id = %lld",
			 (long long)other.job_id);
		expect(&f, sql, "done");
		assert_int_equal(pb_sched_lease(f.s, "a3", "r4", "{}", &next),
				 0);
		assert_true(next.job_id != other.job_id);
		pb_sched_job_release(&next);
	}
	pb_sched_job_release(&j);
	pb_sched_job_release(&again);
	pb_sched_job_release(&other);
	fixture_free(&f);
}

static void test_sched__three_expiries_fail_the_bisection(void **state)
{
	struct fixture f;
	const char *agents[3] = { "a1", "a2", "a3" };
	int64_t job = 0;

	(void)state;
	fixture_init(&f);
	start(&f);
	for (int t = 0; t < 3; t++) {
		struct pb_sched_job j;
		char rid[16];

		snprintf(rid, sizeof(rid), "r%d", t);
		assert_int_equal(pb_sched_lease(f.s, agents[t], rid, "{}", &j),
				 0);
		if (t == 0)
			job = j.job_id;
		assert_int_equal(j.job_id, job);
		pb_sched_job_release(&j);
		clock_now += 120;
		assert_int_equal(pb_sched_reap(f.s), 0);
	}
	expect(&f, "SELECT state FROM jobs", "infra_failed");
	expect(&f, "SELECT state || ' ' || exit_code FROM bisections",
	       "failed 3");
	{
		char *why = query(&f, "SELECT outcome FROM bisections");

		assert_non_null(strstr(why, "lost its lease 3 times"));
		free(why);
	}
	fixture_free(&f);
}

static void test_sched__cancel_and_restart(void **state)
{
	struct fixture f;
	struct pb_sched_job j;
	struct pb_sched_refusal why;
	double left;
	int cont, repeat;
	int64_t id;

	(void)state;
	fixture_init(&f);
	id = start(&f);
	assert_int_equal(pb_sched_lease(f.s, "a1", "r1", "{}", &j), 0);
	assert_int_equal(post(&f, "a1", &j, 0,
			      value_at(&f, j.runs[0].commit, 0), &repeat,
			      &cont, &why),
			 0);
	pb_sched_job_release(&j);
	assert_int_equal(pb_sched_lease(f.s, "a1", "r2", "{}", &j), 0);
	/* the orchestrator restarts: a new scheduler on the same file
	 * resumes the bisection, and the agent's lease still holds */
	pb_sched_free(f.s);
	open_sched(&f);
	assert_int_equal(pb_sched_heartbeat(f.s, "a1", j.lease, 0, &left, &cont,
					    &why),
			 0);
	assert_true(cont);
	assert_int_equal(post(&f, "a1", &j, 0,
			      value_at(&f, j.runs[0].commit, 1), &repeat,
			      &cont, &why),
			 0);
	expect(&f, "SELECT runs FROM bisections", "2");
	/* that record ended its one-run job; the agent takes another */
	assert_true(last_job_done);
	pb_sched_job_release(&j);
	assert_int_equal(pb_sched_lease(f.s, "a1", "r2b", "{}", &j), 0);
	/* cancelled: the agent's next call is refused, nothing more runs */
	assert_int_equal(pb_sched_cancel(f.s, id), 0);
	assert_int_equal(pb_sched_heartbeat(f.s, "a1", j.lease, 0, &left, &cont,
					    &why),
			 PB_ECONFLICT);
	assert_string_equal(why.state, "cancelled");
	pb_sched_job_release(&j);
	assert_int_equal(pb_sched_lease(f.s, "a1", "r3", "{}", &j),
			 PB_ENOTFOUND);
	assert_int_equal(pb_sched_cancel(f.s, id + 50), PB_ENOTFOUND);
	fixture_free(&f);
}

static void test_sched__bad_start(void **state)
{
	struct fixture f;
	struct pb_sched_start q = { "r", "b", "main~10", "nosuchrev", "t",
				    0, 0, 0, 0, 0 };
	char good[41], bad[41];
	int64_t id;

	(void)state;
	fixture_init(&f);
	assert_int_equal(pb_sched_start(f.s, &q, &id, good, bad), PB_EINVAL);
	assert_non_null(strstr(pb_error_last(), "nosuchrev"));
	q.bad = "main";
	q.repo = "nope";
	assert_int_equal(pb_sched_start(f.s, &q, &id, good, bad), PB_ENOTFOUND);
	q.repo = "r";
	q.benchmark = "nope";
	assert_int_equal(pb_sched_start(f.s, &q, &id, good, bad), PB_ENOTFOUND);
	q.benchmark = "b";
	q.good = "main";
	q.bad = "main~3"; /* good after bad */
	assert_int_equal(pb_sched_start(f.s, &q, &id, good, bad), PB_EINVAL);
	expect(&f, "SELECT count(*) FROM bisections", "0");
	fixture_free(&f);
}


/* A compare (pull-request check): pair jobs in ABBA order, only on the
 * agent that took it first; when that agent's lease expires the compare
 * starts from scratch on the next agent (its earlier runs kept, never
 * counted) and ends "slower" there; bad input is refused as a start's. */
static void test_sched__compare_one_agent(void **state)
{
	struct pb_sched_compare_req q = { "r", "b", "main~10", "main", "t", 0 };
	struct fixture f;
	struct pb_sched_job j, none;
	struct pb_sched_refusal why;
	char base[41], head[41];
	int64_t id;
	int repeat, cont = 1, jobs = 0;
	unsigned k = 0;

	(void)state;
	fixture_init(&f);
	assert_int_equal(pb_sched_compare(f.s, &q, &id, base, head), 0);
	assert_string_equal(base, f.sha[0]);
	assert_string_equal(head, f.sha[N]);
	expect(&f, "SELECT kind || ' ' || state FROM bisections", "compare running");
	assert_int_equal(pb_sched_lease(f.s, "a1", "r1", "{}", &j), 0);
	assert_string_equal(j.kind, "pair");
	assert_int_equal(j.nruns, 8);
	for (size_t r = 0; r < 8; r++)
		assert_string_equal(j.runs[r].commit,
				    (r % 4 == 0 || r % 4 == 3) ? base : head);
	/* the compare is a1's: nothing for a2 */
	assert_int_equal(pb_sched_lease(f.s, "a2", "r2", "{}", &none),
			 PB_ENOTFOUND);
	for (size_t r = 0; r < 3; r++)
		assert_int_equal(post(&f, "a1", &j, r,
				      value_at(&f, j.runs[r].commit, k++),
				      &repeat, &cont, &why),
				 0);
	/* a1 stops reporting: the compare starts again on a2 */
	clock_now += 400;
	assert_int_equal(pb_sched_reap(f.s), 0);
	expect(&f, "SELECT coalesce(machine, '-') || ' ' || takeovers || ' ' || "
		   "machine_from FROM bisections", "- 1 3");
	assert_int_equal(post(&f, "a1", &j, 3, 100, &repeat, &cont, &why),
			 PB_ECONFLICT);
	pb_sched_job_release(&j);
	for (; jobs < 10; jobs++) {
		char rid[16];

		snprintf(rid, sizeof(rid), "q%d", jobs);
		/* until the compare wants no more */
		if (pb_sched_lease(f.s, "a2", rid, "{}", &j) == PB_ENOTFOUND)
			break;
		assert_string_equal(j.kind, "pair");
		cont = 1;
		for (size_t r = 0; r < j.nruns && cont; r++)
			assert_int_equal(post(&f, "a2", &j, r,
					      value_at(&f, j.runs[r].commit,
						       k++),
					      &repeat, &cont, &why),
					 0);
		if (cont)
			assert_int_equal(pb_sched_done(f.s, "a2", j.lease,
						       &why),
					 0);
		pb_sched_job_release(&j);
	}
	expect(&f, "SELECT state || ' ' || verdict || ' ' || machine || ' ' || "
		   "exit_code FROM bisections", "done slower a2 1");
	/* its answer counts a2's runs only: whole pairs, head 30 % worse */
	expect(&f, "SELECT runs = (SELECT count(*) FROM runs WHERE machine = "
		   "'a2' AND orphan = 0) AND runs = 2 * pairs AND pairs >= 9 "
		   "AND effect BETWEEN -0.31 AND -0.29 AND effect_hi < 0 FROM "
		   "bisections", "1");
	expect(&f, "SELECT count(*) FROM jobs WHERE state IN ('queued', "
		   "'leased')", "0");
	/* bad input: what a bisection's start refuses, and one commit */
	q.benchmark = "nope";
	assert_int_equal(pb_sched_compare(f.s, &q, &id, base, head),
			 PB_ENOTFOUND);
	q.benchmark = "b";
	q.head = "nosuchrev";
	assert_int_equal(pb_sched_compare(f.s, &q, &id, base, head), PB_EINVAL);
	q.head = "main~10";
	assert_int_equal(pb_sched_compare(f.s, &q, &id, base, head), PB_EINVAL);
	expect(&f, "SELECT count(*) FROM bisections", "1");
	/* an agent that asks for no more after a whole job: another takes
	 * the compare over after a lease's time, from scratch */
	q.head = "main";
	assert_int_equal(pb_sched_compare(f.s, &q, &id, base, head), 0);
	assert_int_equal(pb_sched_lease(f.s, "a1", "y1", "{}", &j), 0);
	for (size_t r = 0; r < j.nruns; r++)
		assert_int_equal(post(&f, "a1", &j, r,
				      value_at(&f, j.runs[r].commit, k++),
				      &repeat, &cont, &why),
				 0);
	assert_int_equal(pb_sched_done(f.s, "a1", j.lease, &why), 0);
	pb_sched_job_release(&j);
	assert_int_equal(pb_sched_lease(f.s, "a2", "y2", "{}", &none),
			 PB_ENOTFOUND);
	clock_now += 61;
	assert_int_equal(pb_sched_lease(f.s, "a2", "y3", "{}", &j), 0);
	pb_sched_job_release(&j);
	expect(&f, "SELECT machine || ' ' || takeovers || ' ' || machine_from "
		   "FROM bisections WHERE id = 2", "a2 1 8");
	assert_int_equal(pb_sched_cancel(f.s, id), 0);
	/* a cancelled compare stays cancelled across a restart */
	assert_int_equal(pb_sched_compare(f.s, &q, &id, base, head), 0);
	assert_int_equal(pb_sched_cancel(f.s, id), 0);
	pb_sched_free(f.s);
	open_sched(&f);
	assert_int_equal(pb_sched_lease(f.s, "a2", "z1", "{}", &none),
			 PB_ENOTFOUND);
	expect(&f, "SELECT count(*) FROM jobs WHERE bisection_id = 3", "0");
	fixture_free(&f);
}

/* A merge's runs that other work disturbed are owed again: the merge waits
 * (queued, no point of its series) for a job of the missing runs after a
 * back-off, on its series' home, and is measured once it has as many
 * undisturbed runs as its first job had; one disturbed round after round
 * fails "machine too busy to measure" when its runs are disturbed again
 * after PB_BUSY_WAITS rounds. */
static void test_sched__disturbed_merge_runs_again(void **state)
{
	struct pb_sched_merge_req q = { "r", "main", "api" };
	struct pb_sched_merge_res res;
	struct pb_sched_job j, none;
	struct pb_sched_refusal why;
	struct fixture f;
	int repeat, cont;
	char rid[16];

	struct pb_repo_def rd = { "r", NULL, "main", NULL, NULL };
	int64_t repo;

	(void)state;
	fixture_init(&f);
	rd.url = f.repo;
	assert_int_equal(pb_db_repo_register(f.db, &rd, &repo, NULL), 0);
	if (pb_sched_merge(f.s, &q, &res) < 0)
		fail_msg("merge: %s", pb_error_last());
	assert_int_equal(res.jobs, 1);
	assert_int_equal(pb_sched_lease(f.s, "a1", "m1", "{}", &j), 0);
	assert_string_equal(j.kind, "merge");
	assert_int_equal(j.nruns, 5);
	for (size_t r = 0; r < 5; r++) {
		next_disturbed = r < 3;
		assert_int_equal(post(&f, "a1", &j, r, 70, &repeat, &cont,
				      &why),
				 0);
	}
	assert_int_equal(last_job_done, 1);
	pb_sched_job_release(&j);
	expect(&f, "SELECT state || ' ' || busy_rounds FROM merges",
	       "queued 1");
	expect(&f, "SELECT count(*) || ' ' || sum(state = 'queued') FROM jobs",
	       "2 1");
	/* not before its back-off; then on a1, the series' home, not a2 */
	assert_int_equal(pb_sched_lease(f.s, "a1", "m2", "{}", &none),
			 PB_ENOTFOUND);
	clock_now += 1.5;
	assert_int_equal(pb_sched_lease(f.s, "a2", "m3", "{}", &none),
			 PB_ENOTFOUND);
	assert_int_equal(pb_sched_lease(f.s, "a1", "m4", "{}", &j), 0);
	assert_int_equal(j.nruns, 3);
	for (size_t r = 0; r < 3; r++)
		assert_int_equal(post(&f, "a1", &j, r, 70, &repeat, &cont,
				      &why),
				 0);
	pb_sched_job_release(&j);
	expect(&f, "SELECT state || ' ' || busy_rounds FROM merges",
	       "measured 1");

	/* main~1, disturbed every round */
	q.rev = "main~1";
	assert_int_equal(pb_sched_merge(f.s, &q, &res), 0);
	for (int round = 0; round <= PB_BUSY_WAITS; round++) {
		clock_now += 64;
		snprintf(rid, sizeof(rid), "b%d", round);
		assert_int_equal(pb_sched_lease(f.s, "a1", rid, "{}", &j), 0);
		for (size_t r = 0; r < j.nruns; r++) {
			next_disturbed = 1;
			assert_int_equal(post(&f, "a1", &j, r, 70, &repeat,
					      &cont, &why),
					 0);
		}
		pb_sched_job_release(&j);
	}
	expect(&f, "SELECT state || ' ' || busy_rounds || ' ' || note FROM "
		   "merges WHERE id = 2",
	       "failed 10 machine too busy to measure: 0 of 5 runs taken "
	       "without other work after 10 rounds");
	clock_now += 64;
	assert_int_equal(pb_sched_lease(f.s, "a1", "b-end", "{}", &none),
			 PB_ENOTFOUND);
	/* a1, the home, not seen for long and holding no lease, is gone:
	 * a2 takes main~2's job and is the series' home from now on */
	q.rev = "main~2";
	assert_int_equal(pb_sched_merge(f.s, &q, &res), 0);
	expect(&f, "SELECT machine FROM series_homes", "a1");
	clock_now += 1000;
	assert_int_equal(pb_sched_lease(f.s, "a2", "c1", "{}", &j), 0);
	assert_string_equal(j.kind, "merge");
	pb_sched_job_release(&j);
	expect(&f, "SELECT machine FROM series_homes", "a2");
	fixture_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sched__two_agents_find_the_culprit),
		cmocka_unit_test(test_sched__leases_fence_and_requeue),
		cmocka_unit_test(
			test_sched__busy_machine_waits_then_ends_too_busy),
		cmocka_unit_test(test_sched__three_expiries_fail_the_bisection),
		cmocka_unit_test(test_sched__cancel_and_restart),
		cmocka_unit_test(test_sched__bad_start),
		cmocka_unit_test(test_sched__disturbed_merge_runs_again),
		cmocka_unit_test(test_sched__compare_one_agent),
	};

	int failed;

	pb_git_global_init();
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	pb_git_global_shutdown();
	return failed;
}
