/*
 * local.c - the in-process `--local` driver (see local.h).
 *
 * It owns the I/O around the pure engine: git (common/git.h), the runner
 * (agent/runner.h), storage (db.h), the report (web/, through site.h) and the JSON
 * output (common/proto.h).  The loop is:
 *
 *   ask the engine what to run -> build that commit once (a failed build
 *   skips it) -> run it once -> store the run record -> feed the engine
 *   -> store the steps -> print progress
 *
 * Every run is stored before the engine sees it, so a killed bisection
 * loses at most the run in flight.  A bisection is found again by its
 * command (repository, ends, build, run, metric, configuration, asked
 * confidence, seed): unfinished, it resumes; finished, its stored verdict
 * is printed again, unless its budget was spent and a larger one is given
 * (it resumes) or `again` asks for a new one.  Its work trees live under
 * worktrees/ID in the state directory and go when it finishes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/ccache.h"
#include "agent/measure.h"
#include "agent/runner.h"
#include "common/err.h"
#include "common/git.h"
#include "common/human.h"
#include "common/log.h"
#include "common/proto.h"
#include "common/util.h"
#include "orchestrator/core/engine.h"
#include "orchestrator/core/verify.h"
#include "orchestrator/db.h"
#include "orchestrator/identical.h"
#include "orchestrator/local.h"
#include "orchestrator/session.h"
#include "orchestrator/site.h"
#include "web/page.h"

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
	int64_t repo_id, bench_id, bisection_id;
	struct pb_session *ses;   /* the bisection: engine and storage */
	struct pb_engine *engine; /* its engine */
	char *worktrees;
	char *extra_env[4];       /* what builds and runs get besides ours */
	char *build_env[4 + PB_CCACHE_ENV_MAX]; /* builds: also ccache's */
	char *build_env_plain[5];  /* a build ccache may not serve */
	int ccache_skip_said;
	struct pb_ccache ccache;  /* .prog NULL: builds go without */
	char threads_env[64];
	struct pb_measure *measure;
	unsigned *run_count;      /* runs so far per commit: the start CPU */
	struct pb_hostlock host;  /* no agent builds or measures meanwhile */
	int described;            /* what the machine can count was said */
	struct end_failure {      /* the last failure at the good / bad end */
		char reason[256];
		char *tail;       /* last lines of its log or output */
		char *names;      /* the metric names the run printed, or
				   * NULL when it did print the metric */
		char meant[PB_METRIC_NAME_MAX]; /* the closest, or "" */
	} end[2];
	double started;           /* pb_now_mono() at the start */
	double since;             /* epoch seconds the bisection began */
	int stored;               /* finished: print its stored verdict
				   * (2: its budget was spent) */
	unsigned stored_budget;   /* ... and the budget it had */
	int state_given;          /* --state-dir was given */
};

/* Lines and width of a failed build's or run's output shown to a person. */
#define TAIL_LINES 4
#define TAIL_WIDTH 120

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

/* The benchmark's name in the database: its commands and metric (and the
 * --config it runs under, when there is one), hashed, so a changed build
 * or run command or configuration is a different benchmark - and the same
 * command finds its bisection again. */
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
		if (o->config && *o->config)
			EVP_DigestUpdate(c, o->config, strlen(o->config) + 1);
		EVP_DigestFinal_ex(c, md, &len);
	}
	EVP_MD_CTX_free(c);
	snprintf(out, 64, "local-");
	for (unsigned i = 0; i < 6 && i < len; i++)
		snprintf(out + 6 + 2 * i, 3, "%02x", md[i]);
}

/* worktrees/ID: the work trees of this bisection, removed together. */
static char *trees_dir(const struct local *L)
{
	char name[32];

	snprintf(name, sizeof(name), "%lld", (long long)L->bisection_id);
	return pb_path_join(L->worktrees, name);
}

/* worktrees/ID/<sha>: a commit's work tree and its parent's differ in the
 * sha alone, and their paths have one length.  A build that records its
 * own absolute path (assert()'s __FILE__ under absolute source paths, an
 * rpath) therefore differs from its parent's in the bytes of the two shas
 * only, which the digest of identical.h masks (agent/image.c); under any
 * other naming such builds would never be found identical. */
static char *worktree_path(const struct local *L, size_t i)
{
	char *dir = trees_dir(L), *path;

	if (!dir)
		return NULL;
	path = pb_path_join(dir, L->commits[i].sha);
	free(dir);
	return path;
}

/* Keeps what failed at an end for the error message: the reason, the last
 * lines of the log or output and, when a run that exited 0 (its metrics m)
 * never printed the metric, the names it did print and the one most
 * likely meant. */
static void note_end_failure(struct local *L, size_t i, const char *reason,
			     const char *log, const struct pb_metrics *m)
{
	struct end_failure *f = &L->end[i ? 1 : 0];
	struct pb_buf b = PB_BUF_INIT(64 * 1024);
	double v;

	pb_strlcpy(f->reason, reason, sizeof(f->reason));
	free(f->tail);
	free(f->names);
	f->tail = f->names = NULL;
	f->meant[0] = '\0';
	if (pb_human_tail(&b, log, TAIL_LINES, TAIL_WIDTH, "    | ") > 0)
		f->tail = pb_buf_detach(&b);
	pb_buf_release(&b);
	if (!m || pb_metrics_get(m, L->o->metric, &v) == 0)
		return;
	{
		const char *names[PB_METRIC_MAX_NAMES];
		int k;

		for (size_t j = 0; j < m->n; j++) {
			names[j] = m->kv[j].name;
			if ((j && pb_buf_puts(&b, ", ") < 0) ||
			    pb_buf_puts(&b, names[j]) < 0)
				break;
		}
		f->names = pb_buf_detach(&b);
		k = pb_human_closest(L->o->metric, names, m->n);
		if (k >= 0)
			pb_strlcpy(f->meant, names[k], sizeof(f->meant));
	}
	pb_buf_release(&b);
}

/* A run made (or withdrew) the claim that commit i maps the same code
 * as its parent (identical.h): the person watching hears of it. */
static void on_claim(void *ctx, size_t i, int is)
{
	struct local *L = ctx;

	if (L->o->quiet)
		return;
	if (is)
		pb_log_info("%.12s maps the same code as its parent %.12s: "
			    "hardly the culprit",
			    L->commits[i].sha, L->commits[i - 1].sha);
	else
		pb_log_info("%.12s and its parent %.12s no longer map the same "
			    "code", L->commits[i].sha, L->commits[i - 1].sha);
}

/* Builds commit i once: reuses an earlier successful build whose work tree
 * is still there, and a failed build of this bisection, else checks it out
 * afresh and runs --build (a build that failed before this bisection began
 * is tried again: the compiler may have been installed since). */
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
	if (rc == PB_OK && (row.ok ? stat(dir, &st) == 0
				   : row.created_at >= L->since)) {
		L->built[i] = row.ok ? BUILD_OK : BUILD_FAILED;
		rc = PB_OK;
		goto out;
	}
	if (!L->o->quiet)
		pb_log_info("building %.12s %s", L->commits[i].sha,
			    L->commits[i].subject);
	/* what an earlier build mapped says nothing about this one */
	if ((rc = pb_session_rebuilt(L->ses, i)) < 0)
		goto out;
	if ((rc = pb_rm_rf(dir)) < 0 ||
	    (rc = pb_git_checkout(L->git, L->commits[i].sha, dir)) < 0 ||
	    (rc = pb_identity_own_tree(&L->id, dir)) < 0)
		goto out;
	r = (struct pb_runner){ dir, L->commits[i].sha, &L->id, L->build_env,
				NULL, 0 };
	/* the compiler cache is open to the build user while it builds
	 * only: no run can plant an entry a later build takes */
	if ((rc = pb_ccache_open(&L->ccache)) < 0)
		goto out;
	if (rc == 0 && L->ccache.prog) {
		r.extra_env = L->build_env_plain;
		if (!L->ccache_skip_said++)
			pb_log_warnx("%s", pb_error_last());
	}
	rc = pb_runner_build(&br, &r, L->o->build, L->o->build_timeout_s);
	{
		int crc = pb_ccache_close(&L->ccache);

		if (rc >= 0 && crc < 0) {
			pb_build_result_release(&br);
			rc = crc;
		}
	}
	if (rc < 0)
		goto out;
	L->built[i] = br.ok ? BUILD_OK : BUILD_FAILED;
	if (!br.ok && (i == 0 || i == L->n - 1))
		note_end_failure(L, i, br.reason, br.log, NULL);
	if (!br.ok && !L->o->quiet) {
		struct pb_buf last = PB_BUF_INIT(4096);

		pb_human_tail(&last, br.log, 1, TAIL_WIDTH, "");
		if (last.len)
			last.ptr[last.len - 1] = '\0'; /* its newline */
		pb_log_info("build of %.12s failed (%s): skipped%s%s%s",
			    L->commits[i].sha, br.reason,
			    last.len ? "; its last line: '" : "", last.ptr,
			    last.len ? "'" : "");
		pb_buf_release(&last);
	}
	rc = pb_db_build_put(L->db, L->commit_ids[i], L->bench_id, MACHINE, br.ok,
			     br.reason, br.log, br.wall_s);
	pb_build_result_release(&br);
out:
	free(dir);
	return rc;
}

/* One line per run for a person: the runs against the budget, the time
 * so far, the commit and its value, and where the search stands - in
 * numbers a person reads, counted as the final summary counts them. */
static void progress(struct local *L, size_t i, const struct pb_run_result *res)
{
	struct pb_engine_progress p;
	char head[64], el[16], val[32], prob[24];
	int w = snprintf(NULL, 0, "%u", L->o->max_runs);

	pb_engine_progress(L->engine, &p);
	pb_human_elapsed(el, sizeof(el), pb_now_mono() - L->started);
	/* every run taken: the disturbed ones too (they do not count
	 * against the budget, and the summary says how many they were) */
	snprintf(head, sizeof(head), "[%*u/%u runs %5s]", w,
		 p.runs + p.disturbed, L->o->max_runs, el);
	pb_human_si(val, sizeof(val), res->value);
	if (res->ok && res->measured.disturbed) {
		fprintf(stderr, "  %s %.12s  %s = %s   disturbed, not counted: "
			"%s\n", head, L->commits[i].sha, L->o->metric, val,
			res->measured.disturbed_why);
	} else if (!res->ok) {
		struct pb_buf last = PB_BUF_INIT(4096);

		pb_human_tail(&last, res->output, 1, TAIL_WIDTH, "");
		if (last.len)
			last.ptr[last.len - 1] = '\0';
		fprintf(stderr, "  %s %.12s  run failed: %s%s%s%s\n", head,
			L->commits[i].sha, res->reason,
			last.len ? " (last line: '" : "", last.ptr,
			last.len ? "')" : "");
		pb_buf_release(&last);
	} else if (p.ends) {
		fprintf(stderr, "  %s %.12s  %s = %s   (the %s end)\n", head,
			L->commits[i].sha, L->o->metric, val,
			i ? "bad" : "good");
	} else if (isnan(p.confidence)) {
		/* no posterior to show (yet): never "nan" */
		fprintf(stderr, "  %s %.12s  %s = %s\n", head,
			L->commits[i].sha, L->o->metric, val);
	} else {
		size_t k = p.hi - p.lo + 1;

		pb_human_prob(prob, sizeof(prob), p.confidence);
		if (p.verifying)
			fprintf(stderr, "  %s %.12s  %s = %s   (%u slow / %u "
				"fast here; verifying %.12s at %s against its "
				"parent %.12s, alternately)\n", head,
				L->commits[i].sha, L->o->metric, val, p.slow,
				p.fast, L->commits[p.ver_commit].sha, prob,
				L->commits[p.ver_parent].sha);
		else
			fprintf(stderr, "  %s %.12s  %s = %s   (%u slow / %u "
				"fast here; most probable culprit %.12s at %s, "
				"95 %% within %zu commit%s)\n", head,
				L->commits[i].sha, L->o->metric, val, p.slow,
				p.fast, L->commits[p.best].sha, prob, k,
				k == 1 ? "" : "s");
	}
}

static int run_once(struct local *L, size_t i)
{
	struct pb_run_result res;
	struct pb_run_row row;
	struct pb_runner r;
	char run_id[96], *dir = worktree_path(L, i), *metrics = NULL;
	long long seq = (long long)pb_session_seq(L->ses) + 1;
	char *counters = NULL, *numa = NULL, *settings = NULL, *facts = NULL;
	char *busy = NULL;
	const struct pb_run_measurements *m = &res.measured;
	int rc;

	if (!dir)
		return PB_ERROR;
	/* a gate left open (a build cut short, another process's) is shut
	 * before anything runs */
	if ((rc = pb_ccache_close(&L->ccache)) < 0) {
		free(dir);
		return rc;
	}
	r = (struct pb_runner){ dir, L->commits[i].sha, &L->id, L->extra_env,
				L->measure, L->run_count[i]++ };
	rc = pb_runner_run(&res, &r, L->o->run, L->o->metric, L->o->timeout_s);
	if (rc < 0) {
		free(dir);
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
		 (long long)L->bisection_id, seq);
	memset(&row, 0, sizeof(row));
	row.run_id = run_id;
	row.seq = seq;
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
	/* stored, fed to the engine, steps updated: one transaction */
	rc = pb_session_add_run(L->ses, i, &row, dir, &res.tree_files);
	if (rc == PB_DB_REPEAT)
		rc = pb_error_code(PB_EINFRA, "run %s was stored already",
				   run_id);
	if (!res.ok && (i == 0 || i == L->n - 1))
		note_end_failure(L, i, res.reason, res.output,
				 res.exited && !res.exit_code ? &res.metrics
							      : NULL);
	if (!L->o->quiet && !L->described) {
		char what[1024];

		pb_measure_describe(L->measure, what, sizeof(what));
		pb_log_info("measuring: %s", what);
		L->described = 1;
	}
	if (!L->o->quiet)
		progress(L, i, &res);
out:
	free(dir);
	free(metrics);
	free(counters);
	free(numa);
	free(settings);
	free(facts);
	free(busy);
	pb_run_result_release(&res);
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

/* Builds and runs happen as the run user, in work trees under the state
 * directory: every directory on the way must let that user through
 * (search permission as owner, group or other; supplementary groups are
 * dropped before exec).  PB_EINVAL, naming the first one that does not. */
static int check_enterable(const struct local *L, const char *dir)
{
	char real[PATH_MAX], *p;
	struct stat st;

	if (!L->id.drop)
		return PB_OK;
	if (!realpath(dir, real))
		return pb_error_code(PB_EINFRA, "cannot resolve '%s': %s", dir,
				     strerror(errno));
	for (p = real;; p++) {
		char c = *p;
		mode_t need;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (stat(p == real ? "/" : real, &st) < 0)
			return pb_error_code(PB_EINFRA, "cannot stat '%s': %s",
					     p == real ? "/" : real,
					     strerror(errno));
		need = st.st_uid == L->id.uid	? S_IXUSR
		       : st.st_gid == L->id.gid ? S_IXGRP
						: S_IXOTH;
		if (!(st.st_mode & need))
			return pb_error_code(
				PB_EINVAL,
				"the run user '%s' cannot enter '%s' (mode "
				"%04o) on the way to the work trees in '%s': "
				"choose a --state-dir it can reach (as root "
				"the default is /var/lib/perfbisect)",
				L->id.user, p == real ? "/" : real,
				(unsigned)(st.st_mode & 07777), dir);
		*p = c;
		if (!c)
			return PB_OK;
	}
}

static int open_state(struct local *L)
{
	const struct pb_local_opts *o = L->o;
	char *dbpath;
	int rc;

	if ((rc = pb_mkdir_p(o->state_dir, 0755)) < 0)
		return rc;
	L->worktrees = pb_path_join(o->state_dir, "worktrees");
	if (!L->worktrees || (rc = pb_mkdir_p(L->worktrees, 0755)) < 0)
		return rc < 0 ? rc : PB_ERROR;
	/* Builds run as another user: the trees they work in are given to
	 * it, and must be reachable whatever the umask. */
	if (L->id.drop) {
		chmod(o->state_dir, 0755);
		chmod(L->worktrees, 0755);
	}
	if ((rc = check_enterable(L, L->worktrees)) < 0)
		return rc;
	dbpath = pb_path_join(o->state_dir, "perfbisect.db");
	if (!dbpath)
		return PB_ERROR;
	rc = pb_db_open(&L->db, dbpath);
	free(dbpath);
	return rc;
}

/* The compiler cache of the builds (agent/ccache.h): STATE_DIR/ccache,
 * the run user's, at most PB_CCACHE_MAX_SIZE, shared by every bisection
 * of the state directory; CCACHE_BASEDIR is worktrees/, which holds every
 * work tree.  Builds get its variables; runs never do (extra_env alone).
 * A machine without ccache is said once, and builds without it. */
static int setup_ccache(struct local *L)
{
	struct pb_ccache_opts co = { NULL, NULL, NULL, NULL, &L->id,
				     L->o->no_ccache };
	char state[PATH_MAX], base[PATH_MAX], *dir = NULL, *bin = NULL;
	size_t k = 0;
	int rc = PB_ERROR;

	/* ccache takes its directories from the environment of a build in
	 * another directory: absolute paths, links resolved (base_dir is
	 * compared with the build's real directory) */
	if (!realpath(L->o->state_dir, state) ||
	    !realpath(L->worktrees, base))
		return pb_error_code(PB_EINFRA, "cannot resolve '%s': %s",
				     L->o->state_dir, strerror(errno));
	if ((dir = pb_path_join(state, "ccache")) &&
	    (bin = pb_path_join(state, "ccache-bin"))) {
		co.dir = dir;
		co.bin_dir = bin;
		co.base_dir = base;
		rc = pb_ccache_setup(&L->ccache, &co);
	}
	free(dir);
	free(bin);
	if (rc < 0)
		return rc;
	while (L->extra_env[k]) {
		L->build_env[k] = L->extra_env[k];
		k++;
	}
	k = pb_ccache_env(&L->ccache, 1, L->build_env, k);
	L->build_env[k] = NULL;
	for (k = 0; L->extra_env[k]; k++)
		L->build_env_plain[k] = L->extra_env[k];
	k = pb_ccache_env(NULL, 0, L->build_env_plain, k);
	L->build_env_plain[k] = NULL;
	if (L->o->quiet || L->o->no_ccache)
		return PB_OK;
	if (L->ccache.prog)
		pb_log_info("builds go through ccache, its files in %s (at most "
			    "%s)", L->ccache.dir, PB_CCACHE_MAX_SIZE);
	else
		pb_log_info("ccache is not installed: builds go without a "
			    "compiler cache");
	return PB_OK;
}

/* Makes worktrees/ID, where this bisection's work trees go. */
static int make_trees_dir(struct local *L)
{
	char *dir = trees_dir(L);
	int rc;

	if (!dir)
		return PB_ERROR;
	rc = pb_mkdir_p(dir, 0755);
	if (rc == PB_OK && L->id.drop)
		chmod(dir, 0755);
	free(dir);
	return rc;
}

/* Removes this bisection's work trees once it has finished (the database
 * and the report keep everything a person needs); a failure is said, and
 * changes nothing of the verdict. */
static void remove_trees(struct local *L)
{
	char *dir = trees_dir(L);

	if (!dir)
		return;
	if (L->o->keep_worktrees) {
		if (!L->o->quiet)
			fprintf(stderr, "  work trees kept in %s\n", dir);
	} else if (pb_rm_rf(dir) < 0) {
		pb_log_warnx("the work trees stay: %s", pb_error_last());
	}
	free(dir);
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

/* A finished bisection whose budget was spent: its verdict says so (a
 * database from before schema 0004 has none: done with exit 1, neither a
 * culprit nor a range, not "no regression" (mode none), its budget all
 * used - the engine ended so only for the budget). */
static int budget_spent(const struct pb_bisection_found *f)
{
	if (f->verdict[0])
		return !strcmp(f->verdict, "budget");
	return !strcmp(f->state, "done") && f->exit_code == 1 &&
	       !f->has_culprit && !f->has_range && strcmp(f->mode, "none") &&
	       f->runs >= f->max_runs;
}

/* Finds the bisection of this command or starts one.  Unfinished, it
 * resumes (with this budget); finished, L->stored is set - unless its
 * budget was spent and this one is larger: then it resumes too.  A failed
 * one (an end that could not be built or measured) has no verdict to
 * print: it starts anew, as --again does. */
static int start_bisection(struct local *L)
{
	struct pb_bisection_def d = { L->repo_id, L->bench_id, 0,
				      L->commits[0].sha, L->commits[L->n - 1].sha,
				      L->o->confidence, L->o->seed,
				      L->o->max_runs, L->o->min_effect };
	struct pb_session_opts so;
	struct pb_bisection_found f;
	int rc, more = 0, resumed = 0;
	size_t claims = 0;

	rc = L->o->again ? PB_ENOTFOUND : pb_db_bisection_find(L->db, &d, &f);
	if (rc != PB_OK && rc != PB_ENOTFOUND)
		return rc;
	if (rc == PB_OK && !strcmp(f.state, "done")) {
		L->bisection_id = f.id;
		if (!budget_spent(&f) || L->o->max_runs <= f.max_runs) {
			L->stored = budget_spent(&f) ? 2 : 1;
			L->stored_budget = f.max_runs;
			return PB_OK;
		}
		more = 1;
	}
	if (rc == PB_OK && (more || !strcmp(f.state, "running"))) {
		L->bisection_id = f.id;
		L->since = f.created_at;
		resumed = 1;
		if (f.max_runs != L->o->max_runs &&
		    (rc = pb_db_bisection_reopen(L->db, f.id,
						 L->o->max_runs)) < 0)
			return rc;
	} else {
		L->since = pb_now_real();
		/* with its range, in history order: the report's ladder */
		if ((rc = pb_db_begin(L->db)) < 0)
			return rc;
		if ((rc = pb_db_bisection_create(L->db, &d,
						 &L->bisection_id)) < 0 ||
		    (rc = pb_db_bisection_commits_put(L->db, L->bisection_id,
						      L->commit_ids,
						      L->n)) < 0) {
			pb_db_rollback(L->db);
			return rc;
		}
		if ((rc = pb_db_commit(L->db)) < 0)
			return rc;
	}
	/* the engine, the stored claims, the stored runs replayed */
	memset(&so, 0, sizeof(so));
	so.db = L->db;
	so.bisection_id = L->bisection_id;
	so.bench_id = L->bench_id;
	so.n = L->n;
	so.commits = L->commits;
	so.commit_ids = L->commit_ids;
	so.engine = (struct pb_engine_opts)PB_ENGINE_OPTS_INIT;
	so.engine.lower_is_better = L->o->lower_is_better;
	so.engine.confidence = L->o->confidence;
	so.engine.seed = L->o->seed;
	so.engine.max_runs = L->o->max_runs;
	so.engine.min_effect = L->o->min_effect;
	so.identical = !L->o->no_identical;
	so.machine = MACHINE;
	so.on_claim = on_claim;
	so.ctx = L;
	if ((rc = pb_session_open(&L->ses, &so)) < 0)
		return rc;
	L->engine = pb_session_engine(L->ses);
	for (size_t i = 1; i < L->n; i++)
		claims += (size_t)pb_session_identical(L->ses, i);
	if (claims && !L->o->quiet)
		pb_log_info("%zu commit%s map%s the same code as %s parent%s "
			    "(digests stored by earlier runs)",
			    claims, claims == 1 ? "" : "s",
			    claims == 1 ? "s" : "", claims == 1 ? "its" : "their",
			    claims == 1 ? "" : "s");
	if (!resumed || L->o->quiet)
		return PB_OK;
	if (more)
		pb_log_info("resuming bisection %lld after %lld stored runs: its "
			    "budget of %u runs was spent, this one is %u",
			    (long long)L->bisection_id,
			    (long long)pb_session_seq(L->ses), f.max_runs,
			    L->o->max_runs);
	else
		pb_log_info("resuming bisection %lld after %lld stored runs",
			    (long long)L->bisection_id,
			    (long long)pb_session_seq(L->ses));
	return PB_OK;
}

/* Appends s for a POSIX shell: as is when it is plain, else in single
 * quotes (a quote inside becoming '\''). */
static int shell_word(struct pb_buf *b, const char *s)
{
	int plain = *s != '\0';
	int rc = 0;

	for (const char *p = s; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_./:=@%+,-", *p))
			plain = 0;
	if (plain)
		return pb_buf_puts(b, s);
	rc = pb_buf_puts(b, "'");
	for (const char *p = s; rc == 0 && *p; p++)
		rc = *p == '\'' ? pb_buf_puts(b, "'\\''") : pb_buf_put(b, p, 1);
	return rc ? rc : pb_buf_puts(b, "'");
}

/* A culprit that is a merge commit: says so, and gives the command that
 * bisects inside the branch it merged.  Not from the first parent: the
 * branch never had the first parent's later changes, so its tip may differ
 * from the first parent for reasons of the main line alone.  From where the
 * branch forked (the merge base of the two parents) to the branch's tip: if
 * the slowdown lives in the branch, that finds the commit; if it finds no
 * regression, the slowdown needs changes of both sides together. */
static void merge_hint(const struct local *L, const char *sha)
{
	struct pb_merge_side sides[8];
	struct pb_buf cmd = PB_BUF_INIT(64 * 1024);
	size_t n = 0;

	if (pb_git_merge_sides(L->git, sha, sides, PB_ARRAY_SIZE(sides), &n) <
		    0 ||
	    n == 0)
		return;
	fprintf(stderr,
		"  %.12s is a merge commit: the slowdown came in with what it "
		"merged, or needs both sides together\n", sha);
	for (size_t k = 0; k < n; k++) {
		const struct pb_merge_side *m = &sides[k];
		int rc;

		if (!m->base[0]) {
			fprintf(stderr, "  its parent %zu (%.12s) shares no "
				"history with the first parent: nothing to "
				"bisect inside it\n", k + 2, m->parent);
			continue;
		}
		if (!strcmp(m->base, m->parent)) {
			fprintf(stderr, "  its parent %zu (%.12s) adds nothing "
				"the first parent lacks: the merge's own "
				"changes are the culprit\n", k + 2, m->parent);
			continue;
		}
		pb_buf_reset(&cmd);
		rc = pb_buf_puts(&cmd, "perfbisect bisect --local --repo ");
		rc = rc ? rc : shell_word(&cmd, L->o->repo);
		rc = rc ? rc : pb_buf_printf(&cmd, " --good %s --bad %s "
					     "--build ", m->base, m->parent);
		rc = rc ? rc : shell_word(&cmd, L->o->build);
		rc = rc ? rc : pb_buf_puts(&cmd, " --run ");
		rc = rc ? rc : shell_word(&cmd, L->o->run);
		rc = rc ? rc : pb_buf_puts(&cmd, " --metric ");
		rc = rc ? rc : shell_word(&cmd, L->o->metric);
		if (L->o->lower_is_better)
			rc = rc ? rc : pb_buf_puts(&cmd, " --lower-is-better");
		if (L->o->config) {
			rc = rc ? rc : pb_buf_puts(&cmd, " --config ");
			rc = rc ? rc : shell_word(&cmd, L->o->config);
		}
		if (L->state_given) {
			rc = rc ? rc : pb_buf_puts(&cmd, " --state-dir ");
			rc = rc ? rc : shell_word(&cmd, L->o->state_dir);
		}
		if (rc)
			break;
		fprintf(stderr,
			"  to find the commit inside the branch of parent %zu "
			"(%.12s), bisect it from where it forked from the first "
			"parent (their merge base %.12s) - not from the first "
			"parent, whose later changes the branch never had:\n"
			"    %s\n"
			"  if that finds no regression, the slowdown needs "
			"changes of both sides together\n",
			k + 2, m->parent, m->base, cmd.ptr);
	}
	pb_buf_release(&cmd);
}

/* "16 runs (budget 500), 5 builds in 0:12": the counts of the progress,
 * every run taken; the disturbed ones, which the budget does not count,
 * said apart. */
static void cost_line(const struct local *L, const struct pb_engine_result *res)
{
	char el[16];

	pb_human_elapsed(el, sizeof(el), pb_now_mono() - L->started);
	fprintf(stderr, "  %u run%s (budget %u), %zu builds in %s",
		res->runs + res->disturbed,
		res->runs + res->disturbed == 1 ? "" : "s", L->o->max_runs,
		pb_engine_nsteps(L->engine), el);
	if (res->disturbed)
		fprintf(stderr, "; %u of them disturbed by other work, not "
			"counted against the budget", res->disturbed);
	fputc('\n', stderr);
}

static void finish_message(const struct local *L,
			   const struct pb_engine_result *res)
{
	char gm[32], bm[32], change[32] = "";

	pb_human_si(gm, sizeof(gm), res->good_median);
	pb_human_si(bm, sizeof(bm), res->bad_median);
	if (isfinite(res->good_median) && isfinite(res->bad_median) &&
	    res->good_median != 0)
		snprintf(change, sizeof(change), " (%+.1f %%)",
			 100 * (res->bad_median - res->good_median) /
				 fabs(res->good_median));
	switch (res->outcome) {
	case PB_OUT_CULPRIT:
		fprintf(stderr,
			"\nculprit: %s %s\n  by %s\n  %s median %s at the good "
			"end, %s at the bad end%s\n  %s\n",
			L->commits[res->culprit].sha,
			L->commits[res->culprit].subject,
			L->commits[res->culprit].author, L->o->metric, gm, bm,
			change, res->why);
		for (int k = 0; k < 2; k++) {
			char said[512];

			pb_counter_move_say(&pb_session_moved(L->ses)[k],
					    k ? "remote accesses" : "IPC", said,
					    sizeof(said));
			if (said[0])
				fprintf(stderr, "  %s\n", said);
		}
		cost_line(L, res);
		merge_hint(L, L->commits[res->culprit].sha);
		break;
	case PB_OUT_RANGE:
		fprintf(stderr,
			"\nno single culprit: %s\n  the first bad commit is one "
			"of %.12s .. %.12s\n",
			res->why, L->commits[res->range_first].sha,
			L->commits[res->range_last].sha);
		cost_line(L, res);
		break;
	case PB_OUT_STUCK:
		if (res->mode == PB_MODE_NONE) { /* the ends too noisy */
			fprintf(stderr, "\nno culprit: %s\n", res->why);
			cost_line(L, res);
			break;
		}
		/* fall through */
	case PB_OUT_BUDGET:
		fprintf(stderr,
			"\nno culprit at the asked confidence: %s\n  most "
			"probable: %.12s; 95 %% credible interval %.12s .. "
			"%.12s\n",
			res->why, L->commits[res->culprit].sha,
			L->commits[res->ci_first].sha,
			L->commits[res->ci_last].sha);
		cost_line(L, res);
		if (res->outcome == PB_OUT_BUDGET)
			fprintf(stderr, "  the same command with a larger "
				"--max-runs goes on from here\n");
		break;
	default:
		fprintf(stderr, "\nno culprit: %s\n", res->why);
		cost_line(L, res);
		break;
	}
}

/* The files a culprit changed, for its page (a failure is the page's
 * loss only: said, not fatal). */
static void list_files(struct local *L, const char *sha)
{
	char *files = NULL;
	size_t total = 0;

	if (pb_culprit_files(L->git, sha, &files, &total) < 0 ||
	    pb_db_commit_files_set(L->db, L->repo_id, sha, files) < 0)
		pb_log_warnx("the files %.12s changed: %s", sha,
			     pb_error_last());
	free(files);
}

/* Writes the report (every page, the bisection's among them); with --json
 * prints the result object when print_json (exits 2 and 3 print the error
 * object instead, in cli.c). */
static int write_report(struct local *L, struct pb_local_result *out,
			int print_json)
{
	struct pb_bisection_view *v = NULL;
	char page[64], *path = NULL, *json = NULL;
	int rc;

	if ((rc = pb_db_bisection_load(L->db, L->bisection_id, &v)) < 0)
		return rc;
	if (v->culprit[0])
		list_files(L, v->culprit);
	if ((rc = pb_reports_write_all(L->db, L->o->report_dir, NULL)) < 0)
		goto out;
	pg_bisection_page(page, sizeof(page), v->id);
	path = pb_path_join(L->o->report_dir, page);
	if (!path) {
		rc = PB_ERROR;
		goto out;
	}
	{
		char abs[PATH_MAX];

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

/* The time the pages say they were generated: SOURCE_DATE_EPOCH when set
 * (reproducible output), else now. */
double pb_report_time(void)
{
	const char *e = getenv("SOURCE_DATE_EPOCH");
	char *end;
	double t;

	if (e && *e) {
		t = strtod(e, &end);
		if (!*end && t >= 0 && t < 1e11)
			return t;
	}
	return pb_now_real();
}

int pb_reports_write_all(struct pb_db *db, const char *dir,
			 struct pb_site_stats *stats)
{
	struct pb_site site;
	struct pb_site_stats st;
	int rc;

	if ((rc = pb_site_load(db, pb_report_time(), &site)) < 0)
		return rc;
	rc = pb_site_write(dir, &site, stats ? stats : &st);
	pb_site_free(&site);
	return rc;
}

int pb_local_report(const char *db_path, const char *out_dir,
		    struct pb_site_stats *stats)
{
	struct pb_db *db = NULL;
	int rc;

	if ((rc = pb_db_open_readonly(&db, db_path)) < 0)
		return rc;
	rc = pb_reports_write_all(db, out_dir, stats);
	pb_db_close(db);
	return rc;
}

int pb_local_default_state_dir(char **out, uid_t euid,
			       const char *xdg_state_home, const char *home)
{
	*out = NULL;
	if (euid == 0)
		*out = pb_strdup("/var/lib/perfbisect");
	else if (xdg_state_home && xdg_state_home[0] == '/')
		*out = pb_path_join(xdg_state_home, "perfbisect");
	else if (home && home[0] == '/')
		*out = pb_path_join(home, ".local/state/perfbisect");
	else
		return pb_error_code(PB_EINVAL,
				     "no state directory: HOME is not set; give "
				     "--state-dir");
	return *out ? PB_OK : PB_ERROR;
}

/* The state and report directories: as given, else the defaults. */
static int resolve_dirs(struct pb_local_opts *o, char **state, char **report)
{
	int rc;

	*state = *report = NULL;
	if (o->state_dir) {
		*state = pb_strdup(o->state_dir);
	} else {
		const char *home = getenv("HOME");
		struct passwd pw, *res = NULL;
		char buf[4096];

		if (!home && getpwuid_r(geteuid(), &pw, buf, sizeof(buf),
					&res) == 0 && res)
			home = res->pw_dir;
		if ((rc = pb_local_default_state_dir(state, geteuid(),
						     getenv("XDG_STATE_HOME"),
						     home)) < 0)
			return rc;
	}
	if (!*state)
		return PB_ERROR;
	*report = o->report_dir ? pb_strdup(o->report_dir)
				: pb_path_join(*state, "report");
	if (!*report)
		return PB_ERROR;
	o->state_dir = *state;
	o->report_dir = *report;
	return PB_OK;
}

/* Never inside the bisected work tree: perfbisect would litter it, and a
 * `git clean` or checkout there would take its state with it. */
static int check_state_dir(const struct local *L)
{
	const char *wt = pb_git_workdir(L->git);

	if (wt && pb_path_within(L->o->state_dir, wt))
		return pb_error_code(PB_EINVAL,
				     "the state directory '%s' is inside the "
				     "work tree of the repository '%s', which "
				     "perfbisect never writes to: give a "
				     "--state-dir outside it (the default is "
				     "~/.local/state/perfbisect, or "
				     "/var/lib/perfbisect as root)",
				     L->o->state_dir, wt);
	return PB_OK;
}

/* The exit-2 message of an end that cannot be built or measured: what the
 * engine found, the end's last failure, the metric names its runs printed
 * when they never printed the asked one, and the last lines of its log. */
static void bad_end_error(const struct local *L,
			  const struct pb_engine_result *res, const char *report)
{
	const struct end_failure *f = &L->end[res->bad_end ? 1 : 0];
	char what[1024];

	if (f->names && f->names[0])
		snprintf(what, sizeof(what),
			 ": metric '%s' never printed; the runs printed: "
			 "%s%s%s%s (%s)", L->o->metric, f->names,
			 f->meant[0] ? "; did you mean `" : "", f->meant,
			 f->meant[0] ? "`?" : "", f->reason);
	else if (f->names)
		snprintf(what, sizeof(what),
			 ": %s; the runs printed no 'NAME: VALUE' line at all",
			 f->reason);
	else
		snprintf(what, sizeof(what), "%s%s", f->reason[0] ? ": " : "",
			 f->reason);
	pb_error_code(PB_EINVAL, "%s (%.12s)%s\n%s%s  details: %s", res->why,
		      L->commits[res->bad_end].sha, what,
		      f->tail ? "  its last lines:\n" : "",
		      f->tail ? f->tail : "", report);
}

/* The verdict of the finished bisection of this same command, printed
 * again as it was (the same JSON, the same exit code) instead of running
 * it again.  Returns the exit code, 3 when it cannot be read. */
static int print_stored(struct local *L, struct pb_local_result *out)
{
	struct pb_bisection_view *v = NULL;
	const struct pb_step_view *c = NULL;
	char when[64] = "";
	time_t t;
	struct tm tm;
	int code;

	if (write_report(L, out, 1) < 0 ||
	    pb_db_bisection_load(L->db, L->bisection_id, &v) < 0)
		return 3;
	code = v->exit_code >= 0 ? v->exit_code : 1;
	pb_strlcpy(out->culprit, v->culprit, sizeof(out->culprit));
	for (size_t i = 0; i < v->nsteps && v->culprit[0]; i++)
		if (!strcmp(v->steps[i].sha, v->culprit))
			c = &v->steps[i];
	t = (time_t)v->finished_at;
	if (isfinite(v->finished_at) && localtime_r(&t, &tm))
		strftime(when, sizeof(when), " on %Y-%m-%d at %H:%M", &tm);
	if (L->o->quiet)
		goto out;
	pb_log_info("bisection %lld of this same command finished%s; its "
		    "stored verdict follows (--again starts a new bisection)",
		    v->id, when);
	if (c)
		fprintf(stderr, "\nculprit: %s %s\n  by %s\n", c->sha,
			c->subject, c->author);
	else if (v->range_first[0])
		fprintf(stderr, "\nno single culprit: the first bad commit is "
			"one of %.12s .. %.12s\n", v->range_first,
			v->range_last);
	else
		fprintf(stderr, "\nno culprit:\n");
	fprintf(stderr, "  %s\n  %u runs (budget %u), %u builds\n",
		v->outcome ? v->outcome : "", v->runs, L->stored_budget,
		v->builds);
	if (c)
		merge_hint(L, c->sha);
	if (L->stored == 2)
		fprintf(stderr, "  the same command with a --max-runs above %u "
			"goes on from here\n", L->stored_budget);
	fprintf(stderr, "  report: %s\n", out->report);
out:
	pb_bisection_view_free(v);
	return code;
}

int pb_local_bisect(const struct pb_local_opts *given,
		    struct pb_local_result *out)
{
	struct pb_local_opts opts = *given, *o = &opts;
	struct local L;
	struct pb_engine_result res;
	struct pb_action act;
	char good[41], bad[41], *state = NULL, *report = NULL;
	int rc, code = 3;

	memset(&L, 0, sizeof(L));
	memset(out, 0, sizeof(*out));
	L.o = o;
	L.state_given = given->state_dir != NULL;
	L.started = pb_now_mono();
	if ((rc = resolve_dirs(o, &state, &report)) < 0 ||
	    (rc = setup_measure(&L)) < 0 ||
	    (rc = pb_identity_resolve(&L.id, o->run_as)) < 0 ||
	    (rc = pb_git_open(&L.git, o->repo)) < 0 ||
	    (rc = check_state_dir(&L)) < 0 ||
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
			    "and runs as user '%s'; state in %s",
			    L.n - 1, good, bad, L.id.user, o->state_dir);
		if (pb_measure_noise_warnings(L.measure, warn, sizeof(warn)) ==
		    PB_OK)
			for (line = strtok_r(warn, "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save))
				pb_log_info("warning: %s", line);
	}
	L.commit_ids = calloc(L.n, sizeof(*L.commit_ids));
	L.built = calloc(L.n, sizeof(*L.built));
	L.run_count = calloc(L.n, sizeof(*L.run_count));
	if (!L.commit_ids || !L.built || !L.run_count) {
		rc = pb_error_set("out of memory");
		goto out;
	}
	if ((rc = open_state(&L)) < 0 || (rc = record_range(&L)) < 0 ||
	    (rc = start_bisection(&L)) < 0) {
		code = rc == PB_EINVAL ? 2 : 3;
		goto out;
	}
	out->bisection_id = L.bisection_id;
	if (L.stored) {
		code = print_stored(&L, out);
		goto out;
	}
	if ((rc = make_trees_dir(&L)) < 0 || (rc = setup_ccache(&L)) < 0 ||
	    (rc = pb_hostlock_take(&L.host,
	    o->sysroot, "perfbisect bisect --local", PB_HOSTLOCK_WAIT)) < 0)
		goto out;

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
			rc = pb_session_skip(L.ses, act.commit);
		else
			rc = run_once(&L, act.commit);
		if (rc < 0)
			goto out;
	}
	pb_engine_result(L.engine, &res);
	code = pb_session_exit_code(res.outcome);
	if (res.outcome == PB_OUT_CULPRIT)
		pb_strlcpy(out->culprit, L.commits[res.culprit].sha,
			   sizeof(out->culprit));
	if ((rc = pb_session_save(L.ses, code >= 2 ? "failed" : "done",
				  code)) < 0 ||
	    (rc = write_report(&L, out, code < 2)) < 0) {
		code = 3;
		goto out;
	}
	if (code == 3) {
		remove_trees(&L);
		pb_error_code(PB_EINFRA, "%s; details in %s", res.why,
			      out->report);
	} else if (code == 2) {
		remove_trees(&L);
		bad_end_error(&L, &res, out->report);
	} else {
		if (!o->quiet) {
			finish_message(&L, &res);
			fprintf(stderr, "  report: %s\n", out->report);
		}
		remove_trees(&L);
	}
	rc = PB_OK;
out:
	out->exit_code = code;
	pb_session_free(L.ses);
	pb_db_close(L.db);
	pb_git_free(L.git);
	pb_commit_list_free(L.commits, L.n);
	free(L.commit_ids);
	free(L.built);
	free(L.run_count);
	pb_measure_free(L.measure);
	free(L.worktrees);
	pb_ccache_release(&L.ccache);
	pb_hostlock_release(&L.host);
	for (int k = 0; k < 2; k++) {
		free(L.end[k].tail);
		free(L.end[k].names);
	}
	free(state);
	free(report);
	return code;
}
