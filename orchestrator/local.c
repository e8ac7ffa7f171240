/*
 * local.c - the in-process `--local` driver (see local.h).
 *
 * It owns the I/O around the pure engine: git (common/git.h), the runner
 * (agent/runner.h), storage (db.h), the report (web/report.h) and the JSON
 * output (common/proto.h).  The loop is:
 *
 *   ask the engine what to run -> build that commit once (a failed build
 *   skips it) -> run it once -> store the run record -> feed the engine
 *   -> store the steps -> print progress
 *
 * Every run is stored before the engine sees it, so a killed bisection
 * loses at most the run in flight.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/measure.h"
#include "agent/runner.h"
#include "common/err.h"
#include "common/git.h"
#include "common/log.h"
#include "common/proto.h"
#include "common/util.h"
#include "orchestrator/core/engine.h"
#include "orchestrator/db.h"
#include "orchestrator/identical.h"
#include "orchestrator/local.h"
#include "web/report.h"

#define MACHINE "local"

enum build_state { BUILD_UNKNOWN = 0, BUILD_OK, BUILD_FAILED };

struct local {
	const struct pb_local_opts *o;
	struct pb_git *git;
	struct pb_db *db;
	struct pb_identity id;
	struct pb_commit_info *commits;
	size_t n;
	int64_t *commit_ids;
	enum build_state *built;
	int64_t repo_id, bench_id, bisection_id, seq;
	struct pb_engine *engine;
	char *worktrees;
	char *extra_env[4];
	char threads_env[64];
	struct pb_measure *measure;
	unsigned *run_count;      /* runs so far per commit: the start CPU */
	int described;            /* what the machine can count was said */
	char end_reason[2][256]; /* last failure at the good / bad end */
	double started;
	struct pb_identical *ident; /* NULL with --no-identical */
	unsigned char *told;        /* per commit: the engine was told it is
				       identical to its parent */
};

/* What --config, --events, --sysroot, --nic and --snoop ask of this
 * machine (agent/measure.h); threads=N is exported to the benchmark as
 * PERFBISECT_THREADS. */
static int setup_measure(struct local *L)
{
	const struct pb_local_opts *o = L->o;
	struct pb_measure_opts mo = { o->sysroot, o->events, o->config, o->nic,
				      o->snoop, !o->no_rotate,
				      o->busy_threshold, !o->no_identical };
	int rc = pb_measure_new(&L->measure, &mo);

	if (rc < 0)
		return rc;
	if (pb_measure_threads(L->measure)) {
		snprintf(L->threads_env, sizeof(L->threads_env),
			 "PERFBISECT_THREADS=%u", pb_measure_threads(L->measure));
		L->extra_env[0] = L->threads_env;
	}
	return PB_OK;
}

/* The benchmark's name in the database: its commands and metric, hashed,
 * so a changed build or run command is a different benchmark. */
static void benchmark_name(const struct pb_local_opts *o, char out[64])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	const char *parts[3] = { o->build, o->run, o->metric };

	if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1) {
		for (int i = 0; i < 3; i++)
			EVP_DigestUpdate(c, parts[i], strlen(parts[i]) + 1);
		EVP_DigestUpdate(c, o->lower_is_better ? "L" : "H", 1);
		EVP_DigestFinal_ex(c, md, &len);
	}
	EVP_MD_CTX_free(c);
	snprintf(out, 64, "local-");
	for (unsigned i = 0; i < 6 && i < len; i++)
		snprintf(out + 6 + 2 * i, 3, "%02x", md[i]);
}

static int find_index(const struct local *L, int64_t commit_id, size_t *out)
{
	for (size_t i = 0; i < L->n; i++)
		if (L->commit_ids[i] == commit_id) {
			*out = i;
			return PB_OK;
		}
	return PB_ENOTFOUND;
}

static int replay_one(void *ctx, int64_t commit_id, int ok, int disturbed,
		      double value)
{
	struct local *L = ctx;
	size_t i;

	if (find_index(L, commit_id, &i) < 0)
		return 0; /* not on this range: ignore */
	L->run_count[i]++;
	if (ok && disturbed) {
		pb_engine_disturbed(L->engine, i);
		return 0;
	}
	/* a value the engine refuses (stored by an older version) counts as
	 * the failed run it is */
	if (!ok || pb_engine_observe(L->engine, i, value) < 0)
		pb_engine_run_failed(L->engine, i);
	return 0;
}

/* STATE/worktrees/<benchmark id>-<sha>: a commit's work tree and its
 * parent's differ in the sha alone, and their paths have one length.  A
 * build that records its own absolute path (assert()'s __FILE__ under
 * absolute source paths, an rpath) therefore differs from its parent's in
 * the bytes of the two shas only, which the digest of identical.h masks
 * (agent/image.c); under any other naming such builds would never be
 * found identical. */
static char *worktree_path(const struct local *L, size_t i)
{
	char name[128];

	snprintf(name, sizeof(name), "%lld-%s", (long long)L->bench_id,
		 L->commits[i].sha);
	return pb_path_join(L->worktrees, name);
}

/* Tells the engine every change of which commits map the same code as
 * their parents (identical.h), and the person watching when a run made
 * one (live). */
static void tell_identical(struct local *L, int live)
{
	for (size_t i = 1; L->ident && i < L->n; i++) {
		int is = pb_identical_is(L->ident, i);

		if (is == L->told[i])
			continue;
		pb_engine_identical(L->engine, i, is);
		L->told[i] = (unsigned char)is;
		if (!live || L->o->quiet)
			continue;
		if (is)
			pb_log_info("%.12s maps the same code as its parent "
				    "%.12s: hardly the culprit",
				    L->commits[i].sha, L->commits[i - 1].sha);
		else
			pb_log_info("%.12s and its parent %.12s no longer map "
				    "the same code", L->commits[i].sha,
				    L->commits[i - 1].sha);
	}
}

/* What run of commit i mapped from its work tree: digested once per build
 * and file, stored, compared with the neighbours. */
static int note_mapped(struct local *L, size_t i,
		       const struct pb_image_files *files)
{
	char *dir;
	int rc;

	if (!L->ident)
		return PB_OK;
	dir = worktree_path(L, i);
	if (!dir)
		return PB_ERROR;
	rc = pb_identical_add(L->ident, i, dir, files);
	free(dir);
	if (rc == PB_OK)
		tell_identical(L, 1);
	return rc;
}

/* Builds commit i once: reuses an earlier successful build whose work tree
 * is still there, else checks it out afresh and runs --build. */
static int ensure_built(struct local *L, size_t i)
{
	struct pb_build_row row;
	struct pb_build_result br;
	struct pb_runner r;
	struct stat st;
	char *dir;
	int rc;

	if (L->built[i] != BUILD_UNKNOWN)
		return PB_OK;
	dir = worktree_path(L, i);
	if (!dir)
		return PB_ERROR;
	rc = pb_db_build_get(L->db, L->commit_ids[i], L->bench_id, MACHINE, &row);
	if (rc < 0 && rc != PB_ENOTFOUND)
		goto out;
	if (rc == PB_OK && (!row.ok || stat(dir, &st) == 0)) {
		L->built[i] = row.ok ? BUILD_OK : BUILD_FAILED;
		rc = PB_OK;
		goto out;
	}
	if (!L->o->quiet)
		pb_log_info("building %.12s %s", L->commits[i].sha,
			    L->commits[i].subject);
	/* what an earlier build mapped says nothing about this one */
	if (L->ident) {
		if ((rc = pb_identical_forget(L->ident, i)) < 0)
			goto out;
		tell_identical(L, 0);
	}
	if ((rc = pb_rm_rf(dir)) < 0 ||
	    (rc = pb_git_checkout(L->git, L->commits[i].sha, dir)) < 0 ||
	    (rc = pb_identity_own_tree(&L->id, dir)) < 0)
		goto out;
	r = (struct pb_runner){ dir, L->commits[i].sha, &L->id, L->extra_env, NULL,
				0 };
	if ((rc = pb_runner_build(&br, &r, L->o->build, L->o->build_timeout_s)) <
	    0)
		goto out;
	L->built[i] = br.ok ? BUILD_OK : BUILD_FAILED;
	if (!br.ok && (i == 0 || i == L->n - 1))
		pb_strlcpy(L->end_reason[i ? 1 : 0], br.reason,
			   sizeof(L->end_reason[0]));
	if (!br.ok && !L->o->quiet)
		pb_log_info("build of %.12s failed (%s): skipped",
			    L->commits[i].sha, br.reason);
	rc = pb_db_build_put(L->db, L->commit_ids[i], L->bench_id, MACHINE, br.ok,
			     br.reason, br.log, br.wall_s);
	pb_build_result_release(&br);
out:
	free(dir);
	return rc;
}

static int run_once(struct local *L, size_t i)
{
	struct pb_run_result res;
	struct pb_run_row row;
	struct pb_runner r;
	char run_id[96], *dir = worktree_path(L, i), *metrics = NULL;
	char *counters = NULL, *numa = NULL, *settings = NULL, *facts = NULL;
	char *busy = NULL;
	const struct pb_run_measurements *m = &res.measured;
	int rc;

	if (!dir)
		return PB_ERROR;
	r = (struct pb_runner){ dir, L->commits[i].sha, &L->id, L->extra_env,
				L->measure, L->run_count[i]++ };
	rc = pb_runner_run(&res, &r, L->o->run, L->o->metric, L->o->timeout_s);
	free(dir);
	if (rc < 0) {
		pb_run_result_release(&res);
		return rc;
	}
	if (res.ok && !(fabs(res.value) <= PB_ENGINE_VALUE_MAX)) {
		/* printed, but no measurement: a failed run, with its reason */
		res.ok = 0;
		snprintf(res.reason, sizeof(res.reason),
			 "metric '%s' is %g, beyond +-%g: no measurement",
			 L->o->metric, res.value, PB_ENGINE_VALUE_MAX);
	}
	metrics = pb_proto_metrics_json(&res.metrics);
	counters = pb_proto_counters_json(m);
	numa = pb_proto_numa_json(m);
	settings = pb_proto_settings_json(m);
	facts = pb_proto_facts_json(m);
	busy = pb_proto_interference_json(m, res.wall_s);
	if (!metrics || !counters || !numa || !settings || !facts || !busy) {
		rc = pb_error_set("out of memory");
		goto out;
	}
	snprintf(run_id, sizeof(run_id), "local-%lld-%lld",
		 (long long)L->bisection_id, (long long)L->seq);
	memset(&row, 0, sizeof(row));
	row.run_id = run_id;
	row.bisection_id = L->bisection_id;
	row.seq = L->seq;
	row.commit_id = L->commit_ids[i];
	row.bench_id = L->bench_id;
	row.machine = MACHINE;
	row.ok = res.ok;
	row.failure_reason = res.reason;
	row.exited = res.exited;
	row.exit_code = res.exit_code;
	row.signal = res.signal;
	row.timed_out = res.timed_out;
	row.wall_s = res.wall_s;
	row.value = res.value;
	row.metrics_json = metrics;
	row.notes = res.metrics.notes.ptr;
	row.run_as = L->id.user;
	row.output = res.ok ? NULL : res.output;
	row.started_at = res.started_at;
	row.finished_at = res.started_at + res.wall_s;
	row.counters_json = counters;
	row.numa_json = numa;
	row.settings_json = settings;
	row.machine_json = facts;
	row.start_cpu = m->start_cpu;
	row.start_node = m->start_node;
	row.ipc = m->ipc;
	row.ipc_note = m->ipc_note;
	row.remote_access = m->remote_access;
	row.remote_note = m->remote_note;
	row.cpu_s = m->cpu_s;
	row.busy_share = m->interference;
	row.disturbed = res.ok && m->disturbed;
	row.interference_json = busy;
	rc = pb_db_run_insert(L->db, &row);
	if (!res.ok && (i == 0 || i == L->n - 1))
		pb_strlcpy(L->end_reason[i ? 1 : 0], res.reason,
			   sizeof(L->end_reason[0]));
	if (rc == PB_OK) {
		L->seq++;
		/* (a value out of the engine's range was made a failed
		 * run above: a refusal here is memory) */
		if (!res.ok)
			pb_engine_run_failed(L->engine, i);
		else if (row.disturbed)
			pb_engine_disturbed(L->engine, i);
		else if (pb_engine_observe(L->engine, i, res.value) < 0)
			rc = pb_error_code(PB_EINFRA, "out of memory");
	}
	if (rc == PB_OK)
		rc = note_mapped(L, i, &res.tree_files);
	if (!L->o->quiet && !L->described) {
		char what[1024];

		pb_measure_describe(L->measure, what, sizeof(what));
		pb_log_info("measuring: %s", what);
		L->described = 1;
	}
	if (!L->o->quiet) {
		struct pb_engine_progress p;
		pb_engine_progress(L->engine, &p);
		if (row.disturbed)
			fprintf(stderr,
				"  [%3u runs] %.12s  %s = %g   disturbed, not "
				"counted: %s\n",
				p.runs, L->commits[i].sha, L->o->metric,
				res.value, m->disturbed_why);
		else if (res.ok && p.ends)
			fprintf(stderr,
				"  [%3u runs] %.12s  %s = %g   (measuring the "
				"%s end)\n",
				p.runs, L->commits[i].sha, L->o->metric,
				res.value, i ? "bad" : "good");
		else if (res.ok)
			fprintf(stderr,
				"  [%3u runs] %.12s  %s = %g   (%u slow / %u "
				"fast here; best %.12s at %.3f, 95%% within "
				"%zu commits)\n",
				p.runs, L->commits[i].sha, L->o->metric,
				res.value, p.slow, p.fast,
				L->commits[p.best].sha, p.confidence,
				p.hi - p.lo + 1);
		else
			fprintf(stderr, "  [%3u runs] %.12s  run failed: %s\n",
				p.runs, L->commits[i].sha, res.reason);
	}
out:
	free(metrics);
	free(counters);
	free(numa);
	free(settings);
	free(facts);
	free(busy);
	pb_run_result_release(&res);
	return rc;
}

/* The engine's model and evidence, once the search has a posterior. */
static void stats_of(const struct local *L, const struct pb_engine_result *r,
		     struct pb_stats_view *sv)
{
	int searched = r->mode == PB_MODE_BIMODAL || r->mode == PB_MODE_SHIFT;
	int ended = r->outcome == PB_OUT_CULPRIT || r->outcome == PB_OUT_RANGE ||
		    r->outcome == PB_OUT_BUDGET || r->outcome == PB_OUT_STUCK;

	pb_stats_view_init(sv);
	if (!searched && !ended)
		return;
	pb_strlcpy(sv->ci_first, L->commits[r->ci_first].sha,
		   sizeof(sv->ci_first));
	pb_strlcpy(sv->ci_last, L->commits[r->ci_last].sha,
		   sizeof(sv->ci_last));
	if (!ended)
		return;
	sv->culprit_slow = (int)r->culprit_slow;
	sv->culprit_fast = (int)r->culprit_fast;
	sv->parent_slow = (int)r->parent_slow;
	sv->parent_fast = (int)r->parent_fast;
	sv->fast_mode = r->fast_mode;
	sv->slow_mode = r->slow_mode;
	sv->ashman_d = r->ashman_d;
	sv->q0 = r->q0;
	sv->q1 = r->q1;
	sv->dip_p = r->dip_p;
	sv->good_bimodal = r->good_bimodal;
	sv->good_dip_p = r->good_dip_p;
	sv->mwu_p = r->mwu_p;
	sv->ks_p = r->ks_p;
}

/* DESIGN.md's verdict for an outcome; NULL while running and for the
 * failures of exits 2 and 3. */
static const char *verdict_word(enum pb_outcome o)
{
	switch (o) {
	case PB_OUT_CULPRIT: return "culprit";
	case PB_OUT_RANGE: return "range";
	case PB_OUT_NO_REGRESSION: return "no_regression";
	case PB_OUT_BUDGET: return "budget";
	case PB_OUT_STUCK: return "inconclusive";
	default: return NULL;
	}
}

/* Stores the engine's view of the bisection (after every run, so the report
 * and a resumed run see it). */
static int save(struct local *L, const struct pb_engine_result *res,
		const char *state, int exit_code)
{
	size_t ns = pb_engine_nsteps(L->engine);
	struct pb_step_row *rows = calloc(ns ? ns : 1, sizeof(*rows));
	struct pb_bisection_end end;
	struct pb_stats_view stats;
	int rc;

	if (!rows)
		return pb_error_set("out of memory");
	for (size_t k = 0; k < ns; k++) {
		struct pb_engine_step s;
		pb_engine_step(L->engine, k, &s);
		rows[k].commit_id = L->commit_ids[s.commit];
		rows[k].verdict = pb_verdict_name(s.verdict);
		rows[k].runs = s.runs;
		rows[k].failed_runs = s.failed_runs;
		rows[k].median = s.median;
		rows[k].slow_fraction = s.slow_fraction;
		rows[k].slow = isnan(s.slow_fraction) ? -1 : (int)s.slow;
		rows[k].fast = isnan(s.slow_fraction) ? -1 : (int)s.fast;
		rows[k].p_bad = s.p_bad;
		rows[k].disturbed = s.disturbed;
		rows[k].identical_to = s.commit > 0 && L->told[s.commit]
					       ? L->commit_ids[s.commit - 1]
					       : 0;
	}
	stats_of(L, res, &stats);
	memset(&end, 0, sizeof(end));
	end.stats = &stats;
	end.state = state;
	end.mode = pb_mode_name(res->mode);
	end.culprit_sha = res->outcome == PB_OUT_CULPRIT
				  ? L->commits[res->culprit].sha
				  : NULL;
	end.range_first_sha = res->outcome == PB_OUT_RANGE
				      ? L->commits[res->range_first].sha
				      : NULL;
	end.range_last_sha = res->outcome == PB_OUT_RANGE
				     ? L->commits[res->range_last].sha
				     : NULL;
	end.confidence = res->confidence;
	end.runs = res->runs + res->disturbed; /* every run taken */
	end.builds = (unsigned)ns;
	end.outcome = res->outcome == PB_OUT_RUNNING ? NULL : res->why;
	end.verdict = verdict_word(res->outcome);
	end.exit_code = exit_code;
	end.finished = exit_code >= 0;
	rc = pb_db_bisection_save(L->db, L->bisection_id, &end, rows, ns);
	free(rows);
	return rc;
}

/* The machine is busy: wait, longer each round in a row, and say so. */
static void busy_wait(struct local *L, unsigned round)
{
	double s = L->o->busy_backoff_s *
		   (double)(1u << (round < 6 ? round - 1 : 5));

	if (!L->o->quiet)
		pb_log_info("the machine is busy: most of the latest runs were "
			    "disturbed by other work; waiting %.3g s before "
			    "the next (wait %u of %d)",
			    s, round, PB_BUSY_WAITS);
	pb_sleep(s);
}

static int exit_for(int rc)
{
	if (rc == PB_EINFRA)
		return 3;
	if (rc == PB_ENOTFOUND || rc == PB_EINVAL || rc == PB_ERANGE)
		return 2;
	return 3;
}

static int open_state(struct local *L)
{
	const struct pb_local_opts *o = L->o;
	char *dbpath;
	int rc;

	if ((rc = pb_mkdir_p(o->state_dir, 0755)) < 0)
		return rc;
	/* Builds run as another user: the tree they work in must be theirs,
	 * and reachable. */
	chmod(o->state_dir, 0755);
	L->worktrees = pb_path_join(o->state_dir, "worktrees");
	if (!L->worktrees || (rc = pb_mkdir_p(L->worktrees, 0755)) < 0)
		return rc < 0 ? rc : PB_ERROR;
	dbpath = pb_path_join(o->state_dir, "perfbisect.db");
	if (!dbpath)
		return PB_ERROR;
	rc = pb_db_open(&L->db, dbpath);
	free(dbpath);
	return rc;
}

static int record_range(struct local *L)
{
	char name[64], repo_abs[PATH_MAX];
	struct pb_benchmark_def def;
	int rc;

	if (!realpath(L->o->repo, repo_abs))
		pb_strlcpy(repo_abs, L->o->repo, sizeof(repo_abs));
	benchmark_name(L->o, name);
	def = (struct pb_benchmark_def){ name, L->o->build, L->o->run,
					 L->o->metric, L->o->lower_is_better,
					 L->o->timeout_s, L->o->build_timeout_s };
	if ((rc = pb_db_begin(L->db)) < 0)
		return rc;
	if ((rc = pb_db_repo_ensure(L->db, repo_abs, repo_abs, &L->repo_id)) < 0 ||
	    (rc = pb_db_benchmark_ensure(L->db, L->repo_id, &def, &L->bench_id)) <
		    0)
		goto fail;
	for (size_t i = 0; i < L->n; i++)
		if ((rc = pb_db_commit_ensure(L->db, L->repo_id, &L->commits[i],
					      &L->commit_ids[i])) < 0)
			goto fail;
	return pb_db_commit(L->db);
fail:
	pb_db_rollback(L->db);
	return rc;
}

static int start_bisection(struct local *L)
{
	struct pb_engine_opts eo = PB_ENGINE_OPTS_INIT;
	struct pb_bisection_def d = { L->repo_id, L->bench_id, 0,
				      L->commits[0].sha, L->commits[L->n - 1].sha,
				      L->o->confidence, L->o->seed,
				      L->o->max_runs };
	int rc;

	eo.n = L->n;
	eo.lower_is_better = L->o->lower_is_better;
	eo.confidence = L->o->confidence;
	eo.seed = L->o->seed;
	eo.max_runs = L->o->max_runs;
	if (pb_engine_new(&L->engine, &eo) < 0)
		return pb_error_set("cannot start the engine");
	/* The claims the stored digests make, before any run is replayed:
	 * the engine's state is a function of the claims and the runs. */
	if (!L->o->no_identical) {
		struct pb_identical_opts io = { L->db, L->bench_id, MACHINE,
						L->n, L->commit_ids,
						L->commits };
		size_t claims = 0;

		if ((rc = pb_identical_new(&L->ident, &io)) < 0)
			return rc;
		tell_identical(L, 0);
		for (size_t i = 1; i < L->n; i++)
			claims += L->told[i];
		if (claims && !L->o->quiet)
			pb_log_info("%zu commit%s map%s the same code as %s "
				    "parent%s (digests stored by earlier runs)",
				    claims, claims == 1 ? "" : "s",
				    claims == 1 ? "s" : "",
				    claims == 1 ? "its" : "their",
				    claims == 1 ? "" : "s");
	}
	rc = pb_db_bisection_find_running(L->db, &d, &L->bisection_id);
	if (rc == PB_OK) {
		if ((rc = pb_db_bisection_replay(L->db, L->bisection_id,
						 replay_one, L)) < 0 ||
		    (rc = pb_db_bisection_next_seq(L->db, L->bisection_id,
						   &L->seq)) < 0)
			return rc;
		if (!L->o->quiet)
			pb_log_info("resuming bisection %lld after %lld stored "
				    "runs",
				    (long long)L->bisection_id,
				    (long long)L->seq - 1);
		return PB_OK;
	}
	if (rc != PB_ENOTFOUND)
		return rc;
	L->seq = 1;
	return pb_db_bisection_create(L->db, &d, &L->bisection_id);
}

static void finish_message(const struct local *L,
			   const struct pb_engine_result *res)
{
	switch (res->outcome) {
	case PB_OUT_CULPRIT:
		fprintf(stderr,
			"\nculprit: %s %s\n  by %s\n  %s median %g at the good "
			"end, %g at the bad end; %u runs, %zu builds\n"
			"  %s\n",
			L->commits[res->culprit].sha,
			L->commits[res->culprit].subject,
			L->commits[res->culprit].author, L->o->metric,
			res->good_median, res->bad_median, res->runs,
			pb_engine_nsteps(L->engine), res->why);
		break;
	case PB_OUT_RANGE:
		fprintf(stderr,
			"\nno single culprit: %s\n  the first bad commit is one "
			"of %.12s .. %.12s\n",
			res->why, L->commits[res->range_first].sha,
			L->commits[res->range_last].sha);
		break;
	case PB_OUT_BUDGET:
	case PB_OUT_STUCK:
		fprintf(stderr,
			"\nno culprit at the asked confidence: %s\n  most "
			"probable: %.12s; 95%% credible interval %.12s .. "
			"%.12s\n",
			res->why, L->commits[res->culprit].sha,
			L->commits[res->ci_first].sha,
			L->commits[res->ci_last].sha);
		break;
	default:
		fprintf(stderr, "\nno culprit: %s\n", res->why);
		break;
	}
}

/* Writes the bisection's page; with --json prints the result object when
 * print_json (exits 2 and 3 print the error object instead, in cli.c). */
static int write_report(struct local *L, struct pb_local_result *out,
			int print_json)
{
	struct pb_bisection_view *v = NULL;
	char page[64], *path = NULL, *json = NULL;
	int rc;

	if ((rc = pb_db_bisection_load(L->db, L->bisection_id, &v)) < 0)
		return rc;
	pb_report_page_name(v->id, page, sizeof(page));
	path = pb_path_join(L->o->report_dir, page);
	if (!path) {
		rc = PB_ERROR;
		goto out;
	}
	{
		char abs[PATH_MAX];
		if ((rc = pb_report_write(L->o->report_dir, &v, 1)) < 0)
			goto out;
		if (realpath(path, abs))
			pb_strlcpy(out->report, abs, sizeof(out->report));
		else
			pb_strlcpy(out->report, path, sizeof(out->report));
	}
	if (L->o->json && print_json) {
		json = pb_proto_bisection_json(v, out->report);
		if (!json) {
			rc = pb_error_set("cannot encode the result as JSON");
			goto out;
		}
		printf("%s\n", json);
		fflush(stdout);
	}
out:
	free(json);
	free(path);
	pb_bisection_view_free(v);
	return rc;
}

/* Writes the report of every stored bisection (the index lists them all). */
static int write_all_reports(struct pb_db *db, const char *dir)
{
	struct pb_bisection_view **vs = NULL;
	int64_t *ids = NULL;
	size_t n = 0, k = 0;
	int rc;

	if ((rc = pb_db_bisection_ids(db, &ids, &n)) < 0)
		return rc;
	vs = calloc(n ? n : 1, sizeof(*vs));
	if (!vs) {
		free(ids);
		return pb_error_set("out of memory");
	}
	for (k = 0; k < n; k++)
		if ((rc = pb_db_bisection_load(db, ids[k], &vs[k])) < 0)
			break;
	if (rc == PB_OK)
		rc = pb_report_write(dir, vs, n);
	for (size_t i = 0; i < k; i++)
		pb_bisection_view_free(vs[i]);
	free(vs);
	free(ids);
	return rc;
}

int pb_local_report(const char *db_path, const char *out_dir)
{
	struct pb_db *db = NULL;
	int rc;

	if ((rc = pb_db_open_readonly(&db, db_path)) < 0)
		return rc;
	rc = write_all_reports(db, out_dir);
	pb_db_close(db);
	return rc;
}

int pb_local_bisect(const struct pb_local_opts *o, struct pb_local_result *out)
{
	struct local L;
	struct pb_engine_result res;
	struct pb_engine_progress prog;
	struct pb_action act;
	char good[41], bad[41];
	int rc, code = 3;

	memset(&L, 0, sizeof(L));
	memset(out, 0, sizeof(*out));
	L.o = o;
	L.started = pb_now_mono();
	if ((rc = setup_measure(&L)) < 0 ||
	    (rc = pb_identity_resolve(&L.id, o->run_as)) < 0 ||
	    (rc = pb_git_open(&L.git, o->repo)) < 0 ||
	    (rc = pb_git_resolve(L.git, o->good, good)) < 0 ||
	    (rc = pb_git_resolve(L.git, o->bad, bad)) < 0 ||
	    (rc = pb_git_first_parent_range(L.git, good, bad, &L.commits, &L.n)) <
		    0) {
		code = exit_for(rc == PB_ERROR ? PB_EINVAL : rc);
		goto out;
	}
	if (!o->quiet) {
		char warn[1024], *line, *save = NULL;

		pb_log_info("%zu commits after good %.12s up to bad %.12s; builds "
			    "and runs as user '%s'",
			    L.n - 1, good, bad, L.id.user);
		if (pb_measure_noise_warnings(L.measure, warn, sizeof(warn)) ==
		    PB_OK)
			for (line = strtok_r(warn, "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save))
				pb_log_info("warning: %s", line);
	}
	L.commit_ids = calloc(L.n, sizeof(*L.commit_ids));
	L.built = calloc(L.n, sizeof(*L.built));
	L.run_count = calloc(L.n, sizeof(*L.run_count));
	L.told = calloc(L.n, sizeof(*L.told));
	if (!L.commit_ids || !L.built || !L.run_count || !L.told) {
		rc = pb_error_set("out of memory");
		goto out;
	}
	if ((rc = open_state(&L)) < 0 || (rc = record_range(&L)) < 0 ||
	    (rc = start_bisection(&L)) < 0) {
		code = 3;
		goto out;
	}
	out->bisection_id = L.bisection_id;

	for (;;) {
		pb_engine_next(L.engine, &act);
		if (act.kind == PB_ACT_DONE)
			break;
		if (act.kind == PB_ACT_WAIT) {
			busy_wait(&L, act.wait_round);
			continue;
		}
		if ((rc = ensure_built(&L, act.commit)) < 0)
			goto out;
		if (L.built[act.commit] == BUILD_FAILED)
			pb_engine_skip(L.engine, act.commit);
		else if ((rc = run_once(&L, act.commit)) < 0)
			goto out;
		/* the stored result, like its steps, with this run in it */
		pb_engine_progress(L.engine, &prog);
		pb_engine_result(L.engine, &res);
		if ((rc = save(&L, &res, "running", -1)) < 0)
			goto out;
	}
	pb_engine_result(L.engine, &res);
	switch (res.outcome) {
	case PB_OUT_CULPRIT:
		code = 0;
		pb_strlcpy(out->culprit, L.commits[res.culprit].sha,
			   sizeof(out->culprit));
		break;
	case PB_OUT_BAD_END:
		code = 2;
		break;
	case PB_OUT_TOO_BUSY:
		code = 3;
		break;
	default:
		code = 1;
		break;
	}
	if ((rc = save(&L, &res, code >= 2 ? "failed" : "done", code)) < 0 ||
	    (rc = write_report(&L, out, code < 2)) < 0 ||
	    (rc = write_all_reports(L.db, o->report_dir)) < 0) {
		code = 3;
		goto out;
	}
	if (code == 3) {
		pb_error_code(PB_EINFRA, "%s; details in %s", res.why,
			      out->report);
	} else if (code == 2) {
		const char *last = L.end_reason[res.bad_end ? 1 : 0];
		pb_error_code(PB_EINVAL, "%s (%.12s)%s%s; details in %s", res.why,
			      L.commits[res.bad_end].sha, last[0] ? ": " : "",
			      last, out->report);
	} else if (!o->quiet) {
		finish_message(&L, &res);
		fprintf(stderr, "  report: %s\n", out->report);
	}
	rc = PB_OK;
out:
	out->exit_code = code;
	pb_identical_free(L.ident);
	pb_engine_free(L.engine);
	pb_db_close(L.db);
	pb_git_free(L.git);
	pb_commit_list_free(L.commits, L.n);
	free(L.commit_ids);
	free(L.built);
	free(L.run_count);
	free(L.told);
	pb_measure_free(L.measure);
	free(L.worktrees);
	return code;
}
