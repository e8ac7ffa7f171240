/*
 * sched.c - the service's scheduler (see sched.h).
 *
 * Work is planned when an agent asks for it.  The queue holds jobs that
 * lost their lease (they go to other agents first); when it is empty, the
 * running bisections are asked in turn, the one with the fewest runs out
 * first, for one more job: one run, the engine's joint choice for the
 * asking agent's machine given every run out (pb_engine_next_for()) - so
 * K agents get K different useful probes while results arrive one at a
 * time, in any order.  While the engine verifies a culprit, that choice
 * is the side of the verification the agent's machine owes (its pairs
 * never span machines), one run a job.  A compare's jobs are pair jobs:
 * base and head in ABBA order on the one agent it is bound to.
 *
 * A posted record goes through the bisection's session: stored and fed to
 * the engine with its steps, in one transaction.  When the engine has an
 * outcome the bisection is stored as finished and its open jobs end.
 *
 * Every call that stores something returns only once it is on disk: after
 * letting go of the lock it waits for the database's group sync (db.h),
 * so other calls use the connection while the disk syncs, and one sync
 * serves all of them.
 */
#define _GNU_SOURCE
#include <math.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/git.h"
#include "common/log.h"
#include "common/util.h"
#include "orchestrator/checks.h"
#include "orchestrator/core/engine.h"
#include "orchestrator/history.h"
#include "orchestrator/notify.h"
#include "orchestrator/sched.h"
#include "orchestrator/site.h"
#include "orchestrator/session.h"

struct bis {
	int64_t id;
	struct pb_session *ses;       /* a bisection's; NULL for a compare */
	struct pb_check *chk;         /* a compare's (checks.h); else NULL */
	double idle_since;            /* a compare's agent holds no job of it
				       * since (0: it does, or not seen) */
	struct pb_commit_info *commits;
	int64_t *ids;
	size_t n;
	struct pb_bench_row bench;
	unsigned out;                 /* runs out on agents or queued */
	double wait_until;            /* most runs disturbed: no new work
				       * before this (epoch seconds) */
	struct bis *next;
};

#define GIT_LOCKS 16
#define JUDGE_HELD 32
#define JUDGE_RETRY_S 30.0

struct pb_sched {
	struct pb_sched_opts o;
	pthread_mutex_t own;          /* the lock, unless the caller's */
	pthread_mutex_t *lk;          /* the lock every call takes */
	struct bis *list;             /* running bisections, loaded */
	int loaded;                   /* list read from the database */
	double started;               /* for the restart grace */
	/* one fetch or opening of a repository's mirror at a time:
	 * mirror ID takes git[ID % GIT_LOCKS] (a slow fetch of one
	 * repository holds up another only when they share a stripe) */
	pthread_mutex_t git[GIT_LOCKS];
	/* series whose judging failed for the machine's sake (their mirror,
	 * the disk): left alone until `until`, so they hold up no other */
	struct pb_series_key held[JUDGE_HELD];
	double held_until[JUDGE_HELD];
};

static double now_of(const struct pb_sched *s)
{
	return s->o.now ? s->o.now() : pb_now_real();
}

static void wake(struct pb_sched *s)
{
	if (s->o.on_work)
		s->o.on_work(s->o.ctx);
}

/* Lets go of the lock, then waits until what this call stored, and all
 * stored before it, is on disk (group sync, db.h): the caller's answer
 * may promise it.  A failed sync is the answer then. */
static int unlock_synced(struct pb_sched *s, int rc)
{
	uint64_t mark = pb_db_sync_mark(s->o.db);
	int src;

	pthread_mutex_unlock(s->lk);
	src = pb_db_sync(s->o.db, mark);
	return src < 0 ? src : rc;
}

int pb_sched_new(struct pb_sched **out, const struct pb_sched_opts *o)
{
	struct pb_sched *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return pb_error_code(PB_EINFRA, "out of memory");
	s->o = *o;
	if (s->o.lease_s <= 0)
		s->o.lease_s = 120;
	if (s->o.restart_grace_s < 0)
		s->o.restart_grace_s = 0;
	else if (s->o.restart_grace_s == 0)
		s->o.restart_grace_s = s->o.lease_s;
	if (!s->o.max_expiries)
		s->o.max_expiries = 3;
	if (s->o.pair_runs < 2)
		s->o.pair_runs = 4;
	if (!(s->o.busy_backoff_s > 0))
		s->o.busy_backoff_s = 1;
	if (!s->o.merge_repeats)
		s->o.merge_repeats = 5;
	if (!s->o.merge_backlog)
		s->o.merge_backlog = 20;
	if (s->o.merge_home_wait_s <= 0)
		s->o.merge_home_wait_s = 1800;
	if (s->o.home_alive_s <= 0)
		s->o.home_alive_s = 2 * s->o.lease_s;
	if (!s->o.history_commits)
		s->o.history_commits = 5000;
	s->o.pair_runs &= ~1u; /* whole pairs */
	pthread_mutex_init(&s->own, NULL);
	for (size_t i = 0; i < GIT_LOCKS; i++)
		pthread_mutex_init(&s->git[i], NULL);
	s->lk = o->lock ? o->lock : &s->own;
	s->started = now_of(s);
	*out = s;
	return PB_OK;
}

static void bis_free(struct bis *b)
{
	if (!b)
		return;
	pb_session_free(b->ses);
	free(b->chk);
	pb_commit_list_free(b->commits, b->n);
	free(b->ids);
	pb_bench_row_release(&b->bench);
	free(b);
}

void pb_sched_free(struct pb_sched *s)
{
	if (!s)
		return;
	while (s->list) {
		struct bis *b = s->list;

		s->list = b->next;
		bis_free(b);
	}
	pthread_mutex_destroy(&s->own);
	for (size_t i = 0; i < GIT_LOCKS; i++)
		pthread_mutex_destroy(&s->git[i]);
	free(s);
}

void pb_sched_job_release(struct pb_sched_job *j)
{
	pb_bench_row_release(&j->bench);
	free(j->runs);
	j->runs = NULL;
	j->nruns = 0;
}

/* ---- bisections in memory ---- */

static void count_out(void *ctx, int64_t commit_id, const char *agent)
{
	struct bis *b = ctx;

	(void)commit_id;
	(void)agent;
	b->out++;
}

/* Loads bisection `id` with its session (its runs replayed). */
static int bis_load(struct pb_sched *s, int64_t id, struct bis **out)
{
	struct pb_bisection_row r;
	struct pb_session_opts so;
	struct bis *b = calloc(1, sizeof(*b));
	int rc;

	*out = NULL;
	if (!b)
		return pb_error_code(PB_EINFRA, "out of memory");
	b->id = id;
	if ((rc = pb_db_bisection_row(s->o.db, id, &r)) < 0 ||
	    (rc = pb_db_bench_by_id(s->o.db, r.bench_id, &b->bench)) < 0 ||
	    (rc = pb_db_bisection_commits_get(s->o.db, id, &b->ids, &b->n)) <
		    0 ||
	    (rc = pb_db_commit_infos(s->o.db, b->ids, b->n, &b->commits)) < 0)
		goto fail;
	if (!strcmp(r.kind, "compare")) {
		/* a pull-request check: its judge, not the engine */
		if (!(b->chk = malloc(sizeof(*b->chk)))) {
			rc = pb_error_code(PB_EINFRA, "out of memory");
			goto fail;
		}
		if ((rc = pb_check_load(b->chk, s->o.db, id)) < 0 ||
		    (rc = pb_db_pending_runs(s->o.db, id, count_out, b)) < 0)
			goto fail;
		*out = b;
		return PB_OK;
	}
	memset(&so, 0, sizeof(so));
	so.db = s->o.db;
	so.bisection_id = id;
	so.bench_id = r.bench_id;
	so.n = b->n;
	so.commits = b->commits;
	so.commit_ids = b->ids;
	so.engine = (struct pb_engine_opts)PB_ENGINE_OPTS_INIT;
	so.engine.lower_is_better = b->bench.lower_is_better;
	so.engine.confidence = r.confidence;
	so.engine.seed = r.seed;
	so.engine.max_runs = r.max_runs;
	so.engine.min_effect = r.min_effect;
	/* claims from the digests agents send with their records, kept
	 * per agent: a build can differ by machine (-march=native, what
	 * configure finds), so no agent's builds may differ (session.c) */
	so.identical = 1;
	so.machine = NULL;
	if ((rc = pb_session_open(&b->ses, &so)) < 0 ||
	    (rc = pb_db_pending_runs(s->o.db, id, count_out, b)) < 0)
		goto fail;
	*out = b;
	return PB_OK;
fail:
	bis_free(b);
	return rc;
}

/* The running bisections, loaded once (after a restart: from sqlite). */
static int load_all(struct pb_sched *s)
{
	int64_t *ids = NULL;
	size_t n = 0;
	int rc;

	if (s->loaded)
		return PB_OK;
	if ((rc = pb_db_bisections_running(s->o.db, &ids, &n)) < 0)
		return rc;
	for (size_t k = n; k-- > 0;) {
		struct pb_bisection_row r;
		struct bis *b;

		/* a cancel stays asked across a restart (its state stays
		 * 'running': the API says 'cancelled' from cancelled_at) */
		if (pb_db_bisection_row(s->o.db, ids[k], &r) == PB_OK &&
		    r.cancelled)
			continue;
		if ((rc = bis_load(s, ids[k], &b)) < 0) {
			pb_log_warnx("bisection %lld cannot be resumed: %s",
				     (long long)ids[k], pb_error_last());
			continue;
		}
		b->next = s->list;
		s->list = b;
	}
	free(ids);
	s->loaded = 1;
	return PB_OK;
}

static struct bis *find_bis(struct pb_sched *s, int64_t id)
{
	for (struct bis *b = s->list; b; b = b->next)
		if (b->id == id)
			return b;
	return NULL;
}

static void drop_bis(struct pb_sched *s, struct bis *gone)
{
	for (struct bis **p = &s->list; *p; p = &(*p)->next)
		if (*p == gone) {
			*p = gone->next;
			bis_free(gone);
			return;
		}
}

/* The engine has an outcome: the bisection is stored as finished and its
 * open jobs end; its repository's notification is queued with it (one
 * transaction: notify.h). */
static int finish(struct pb_sched *s, struct bis *b)
{
	struct pb_engine_result res;
	int code, rc;

	if (b->chk) {
		if ((rc = pb_db_begin(s->o.db)) < 0)
			return rc;
		if ((rc = pb_check_save(b->chk, s->o.db)) < 0 ||
		    (rc = pb_db_bisection_jobs_end(s->o.db, b->id)) < 0 ||
		    (rc = pb_db_commit(s->o.db)) < 0) {
			pb_db_rollback(s->o.db);
			return rc;
		}
		pb_log_info("compare %lld finished: %s", (long long)b->id,
			    b->chk->st.why);
		drop_bis(s, b);
		return PB_OK;
	}
	pb_engine_result(pb_session_engine(b->ses), &res);
	code = pb_session_exit_code(res.outcome);
	if ((rc = pb_db_begin(s->o.db)) < 0)
		return rc;
	if ((rc = pb_session_save(b->ses, code >= 2 ? "failed" : "done",
				  code)) < 0 ||
	    (rc = pb_db_bisection_jobs_end(s->o.db, b->id)) < 0 ||
	    (rc = pb_notify_bisection_ended(s->o.db, b->id)) < 0 ||
	    (rc = pb_db_series_rejudge(s->o.db, b->id)) < 0 ||
	    (rc = pb_db_commit(s->o.db)) < 0) {
		pb_db_rollback(s->o.db);
		return rc;
	}
	pb_log_info("bisection %lld finished: %s", (long long)b->id, res.why);
	drop_bis(s, b);
	return PB_OK;
}

static int ended(struct bis *b)
{
	struct pb_engine_result res;

	if (b->chk)
		return pb_compare_exit_code(b->chk->st.result) >= 0;
	pb_engine_result(pb_session_engine(b->ses), &res);
	return res.outcome != PB_OUT_RUNNING;
}

/* The index of a commit row in b's commits (a compare's: 0 base, 1
 * head), or PB_ENOTFOUND. */
static int bis_index(const struct bis *b, int64_t commit_id, size_t *i)
{
	int side, rc;

	if (!b->chk)
		return pb_session_index(b->ses, commit_id, i);
	if ((rc = pb_check_side(b->chk, commit_id, &side)) == PB_OK)
		*i = (size_t)side;
	return rc;
}

/* ---- starting ---- */

/* The orchestrator's bare copy of the repository (work_dir/mirrors/ID),
 * fetched now when `fetch` (always when it is not there yet). */
static int mirror(struct pb_sched *s, const struct pb_repo_ref *repo,
		  int fetch, struct pb_git **g)
{
	char sub[64], msg[512], *dir, *parent;
	int rc;

	*g = NULL;
	snprintf(sub, sizeof(sub), "mirrors/%lld", (long long)repo->id);
	dir = pb_path_join(s->o.work_dir, sub);
	parent = pb_path_join(s->o.work_dir, "mirrors");
	rc = dir && parent ? pb_mkdir_p(parent, 0700)
			   : pb_error_code(PB_EINFRA, "out of memory");
	if (rc < 0)
		goto out;
	/* without a fetch: the copy as it is, if there is one; two fetches
	 * into one copy never at once */
	pthread_mutex_lock(&s->git[(uint64_t)repo->id % GIT_LOCKS]);
	if ((fetch || pb_git_open(g, dir) < 0) &&
	    (rc = pb_git_mirror(g, repo->url, dir)) < 0) {
		pb_strlcpy(msg, pb_error_last(), sizeof(msg));
		rc = pb_error_code(PB_EINFRA, "repository '%s' (%s): %s",
				   repo->name, repo->url, msg);
	}
	pthread_mutex_unlock(&s->git[(uint64_t)repo->id % GIT_LOCKS]);
out:
	free(dir);
	free(parent);
	return rc;
}

/* What starting a bisection and a compare share: the repository and its
 * benchmark by name (PB_ENOTFOUND saying which is unknown), its mirror
 * fetched, both revisions resolved to full shas (PB_EINVAL saying why
 * not).  *g and bench are the caller's to free, also on failure. */
static int open_ends(struct pb_sched *s, const char *repo_name,
		     const char *bench_name, const char *rev_a,
		     const char *rev_b, struct pb_repo_ref *repo,
		     struct pb_bench_row *bench, struct pb_git **g,
		     char a[41], char b[41])
{
	char msg[512];
	int rc;

	memset(bench, 0, sizeof(*bench));
	memset(repo, 0, sizeof(*repo));
	*g = NULL;
	/* names first, under the lock; the fetch outside it */
	pthread_mutex_lock(s->lk);
	rc = pb_db_repo_by_name(s->o.db, repo_name, repo);
	if (rc == PB_OK)
		rc = pb_db_bench_by_name(s->o.db, repo->id, bench_name, bench);
	pthread_mutex_unlock(s->lk);
	if (rc == PB_ENOTFOUND)
		return pb_error_code(PB_ENOTFOUND,
				     repo->id ? "repository '%s' has no "
						"benchmark '%s'"
					      : "unknown repository '%s'",
				     repo_name, bench_name);
	if (rc < 0)
		return rc;
	if ((rc = mirror(s, repo, 1, g)) < 0)
		return rc;
	if ((rc = pb_git_resolve(*g, rev_a, a)) < 0 ||
	    (rc = pb_git_resolve(*g, rev_b, b)) < 0) {
		pb_strlcpy(msg, pb_error_last(), sizeof(msg));
		return pb_error_code(PB_EINVAL, "repository '%s': %s",
				     repo->name, msg);
	}
	return PB_OK;
}

int pb_sched_start(struct pb_sched *s, const struct pb_sched_start *q,
		   int64_t *id, char good[41], char bad[41])
{
	struct pb_repo_ref repo;
	struct pb_bench_row bench;
	struct pb_bisection_def d;
	struct pb_git *g = NULL;
	struct pb_commit_info *commits = NULL;
	int64_t *ids = NULL;
	size_t n = 0;
	struct bis *b;
	int rc;

	if ((rc = open_ends(s, q->repo, q->benchmark, q->good, q->bad, &repo,
			    &bench, &g, good, bad)) < 0)
		goto out;
	if ((rc = pb_git_first_parent_range(g, good, bad, &commits, &n)) < 0) {
		rc = rc == PB_ERANGE ? PB_EINVAL : rc;
		goto out;
	}
	if (!(ids = calloc(n, sizeof(*ids)))) {
		rc = pb_error_code(PB_EINFRA, "out of memory");
		goto out;
	}
	pthread_mutex_lock(s->lk);
	if ((rc = load_all(s)) < 0 || (rc = pb_db_begin(s->o.db)) < 0) {
		pthread_mutex_unlock(s->lk);
		goto out;
	}
	for (size_t i = 0; i < n && rc == PB_OK; i++)
		rc = pb_db_commit_ensure(s->o.db, repo.id, &commits[i], &ids[i]);
	d = (struct pb_bisection_def){ repo.id, bench.id, 0, good, bad,
				       q->confidence > 0 ? q->confidence : 0.99,
				       q->seed ? q->seed : 1,
				       q->max_runs ? q->max_runs : 500,
				       q->min_effect > 0 ? q->min_effect
							 : 0.03 };
	if (rc == PB_OK)
		rc = pb_db_bisection_create(s->o.db, &d, id);
	if (rc == PB_OK)
		rc = pb_db_bisection_commits_put(s->o.db, *id, ids, n);
	if (rc == PB_OK && q->by)
		rc = pb_db_bisection_started_by(s->o.db, *id, q->by);
	if (rc == PB_OK && q->alert_id)
		rc = pb_db_alert_set_bisection(s->o.db, q->alert_id, *id, NULL);
	if (rc == PB_OK)
		rc = pb_db_commit(s->o.db);
	else
		pb_db_rollback(s->o.db);
	if (rc == PB_OK && (rc = bis_load(s, *id, &b)) == PB_OK) {
		b->next = s->list;
		s->list = b;
		pb_session_save(b->ses, "running", -1);
	}
	rc = unlock_synced(s, rc);
	if (rc == PB_OK) {
		pb_log_info("bisection %lld: %s %s, %zu commits %.12s..%.12s",
			    (long long)*id, repo.name, bench.name, n - 1, good,
			    bad);
		wake(s);
	}
out:
	pb_bench_row_release(&bench);
	pb_commit_list_free(commits, n);
	free(ids);
	pb_git_free(g);
	return rc;
}

int pb_sched_compare(struct pb_sched *s, const struct pb_sched_compare_req *q,
		     int64_t *id, char base[41], char head[41])
{
	struct pb_repo_ref repo;
	struct pb_bench_row bench;
	struct pb_bisection_def d;
	struct pb_git *g = NULL;
	struct pb_commit_info ci[2];
	int64_t ids[2];
	struct bis *b = NULL;
	int rc;

	memset(ci, 0, sizeof(ci));
	if ((rc = open_ends(s, q->repo, q->benchmark, q->base, q->head, &repo,
			    &bench, &g, base, head)) < 0)
		goto out;
	if (!strcmp(base, head)) {
		rc = pb_error_code(PB_EINVAL, "repository '%s': base and head "
				   "are the same commit %s", repo.name, base);
		goto out;
	}
	if ((rc = pb_git_commit_info(g, base, &ci[0])) < 0 ||
	    (rc = pb_git_commit_info(g, head, &ci[1])) < 0) {
		rc = rc == PB_ENOTFOUND ? PB_EINVAL : rc;
		goto out;
	}
	pthread_mutex_lock(s->lk);
	if ((rc = load_all(s)) < 0 || (rc = pb_db_begin(s->o.db)) < 0) {
		pthread_mutex_unlock(s->lk);
		goto out;
	}
	for (size_t i = 0; i < 2 && rc == PB_OK; i++)
		rc = pb_db_commit_ensure(s->o.db, repo.id, &ci[i], &ids[i]);
	/* the verification's alpha (confidence 0.99), no seed, its budget */
	d = (struct pb_bisection_def){ repo.id, bench.id, 0, base, head, 0.99,
				       1, 0, q->min_effect > 0 ? q->min_effect
							     : 0.03 };
	if (rc == PB_OK)
		rc = pb_db_bisection_create(s->o.db, &d, id);
	if (rc == PB_OK)
		rc = pb_db_compare_mark(s->o.db, *id);
	if (rc == PB_OK)
		rc = pb_db_bisection_commits_put(s->o.db, *id, ids, 2);
	if (rc == PB_OK && q->by)
		rc = pb_db_bisection_started_by(s->o.db, *id, q->by);
	if (rc == PB_OK && (rc = bis_load(s, *id, &b)) == PB_OK) {
		b->next = s->list;
		s->list = b;
		rc = pb_check_save(b->chk, s->o.db);
	}
	if (rc == PB_OK)
		rc = pb_db_commit(s->o.db);
	else
		pb_db_rollback(s->o.db);
	if (rc < 0 && b && s->list == b)
		drop_bis(s, b); /* rolled back: not stored */
	rc = unlock_synced(s, rc);
	if (rc == PB_OK) {
		pb_log_info("compare %lld: %s %s, base %.12s, head %.12s",
			    (long long)*id, repo.name, bench.name, base, head);
		wake(s);
	}
out:
	pb_bench_row_release(&bench);
	pb_commit_info_release(&ci[0]);
	pb_commit_info_release(&ci[1]);
	pb_git_free(g);
	return rc;
}

/* Cancels bisection id and, when that ends it (it was neither finished
 * nor cancelled before), queues its notification, in one transaction. */
static int cancel_one(struct pb_sched *s, int64_t id)
{
	struct pb_bisection_row r;
	int rc;

	if ((rc = pb_db_begin(s->o.db)) < 0)
		return rc;
	if ((rc = pb_db_bisection_row(s->o.db, id, &r)) < 0 ||
	    (rc = pb_db_bisection_cancel(s->o.db, id)) < 0 ||
	    (!r.cancelled && strcmp(r.state, "done") &&
	     strcmp(r.state, "failed") &&
	     (rc = pb_notify_bisection_ended(s->o.db, id)) < 0) ||
	    (rc = pb_db_commit(s->o.db)) < 0)
		pb_db_rollback(s->o.db);
	return rc;
}

int pb_sched_cancel(struct pb_sched *s, int64_t id)
{
	struct bis *b;
	int rc;

	pthread_mutex_lock(s->lk);
	if ((rc = load_all(s)) == PB_OK &&
	    (rc = cancel_one(s, id)) == PB_OK &&
	    (b = find_bis(s, id)))
		drop_bis(s, b);
	rc = unlock_synced(s, rc);
	if (rc == PB_ENOTFOUND)
		return pb_error_code(PB_ENOTFOUND, "no bisection %lld",
				     (long long)id);
	return rc;
}

/* ---- planning ---- */

/* The runs out of a bisection, for the engine: their commits and the
 * machines that have them (a queued job's on no machine yet: a machine
 * of its own, "", that never runs anything). */
struct pending {
	struct bis *b;
	struct pb_engine_lease *v;
	size_t n, a;
	int rc;
};

static void collect(void *ctx, int64_t commit_id, const char *agent)
{
	struct pending *p = ctx;
	size_t i;
	unsigned m;

	if (p->rc < 0 || pb_session_index(p->b->ses, commit_id, &i) < 0)
		return;
	if (pb_session_machine(p->b->ses, agent ? agent : "", &m) < 0) {
		p->rc = PB_ERANGE;
		return;
	}
	if (p->n == p->a) {
		size_t na = p->a ? 2 * p->a : 16;
		struct pb_engine_lease *nv = realloc(p->v, na * sizeof(*nv));

		if (!nv) {
			p->rc = pb_error_code(PB_EINFRA, "out of memory");
			return;
		}
		p->v = nv;
		p->a = na;
	}
	p->v[p->n++] = (struct pb_engine_lease){ i, m };
}

/* Runs of one compare job: ABBA blocks, base first (pairs 0-1, 2-3...). */
#define CHECK_JOB_RUNS 8

/* One more job for compare b, for `agent`: a pair job of CHECK_JOB_RUNS
 * runs (base, head, head, base, ...), only on the compare's agent - the
 * first that asks becomes it - and one job at a time, so every pair is
 * two neighbouring runs of one machine.  1 when created, 0 when not. */
static int plan_check(struct pb_sched *s, struct bis *b, const char *agent)
{
	static const int abba[4] = { 0, 1, 1, 0 };
	int64_t ids[CHECK_JOB_RUNS], job;
	int rc;

	if (b->out) {
		b->idle_since = 0;
		return 0;
	}
	if (b->chk->machine[0] && strcmp(b->chk->machine, agent)) {
		/* its agent asks for no more of it (gone between two jobs,
		 * with no lease to expire): after a lease's time, another
		 * agent takes it over, from scratch */
		if (!b->idle_since)
			b->idle_since = now_of(s);
		if (now_of(s) - b->idle_since < s->o.lease_s)
			return 0;
		pb_log_info("compare %lld: agent '%s' has asked for none of "
			    "it for %.0f s: '%s' starts it again",
			    (long long)b->id, b->chk->machine,
			    now_of(s) - b->idle_since, agent);
		if ((rc = pb_db_compare_unbind(s->o.db, b->id, NULL)) < 0 ||
		    (rc = pb_check_load(b->chk, s->o.db, b->id)) < 0)
			return rc;
	}
	b->idle_since = 0;
	if (!b->chk->machine[0]) {
		if ((rc = pb_db_compare_bind(s->o.db, b->id, agent)) < 0)
			return rc;
		pb_strlcpy(b->chk->machine, agent, sizeof(b->chk->machine));
		pb_log_info("compare %lld runs on agent '%s'", (long long)b->id,
			    agent);
	}
	for (size_t k = 0; k < CHECK_JOB_RUNS; k++)
		ids[k] = b->chk->ids[abba[k % 4]];
	if ((rc = pb_db_job_create(s->o.db, b->id, "pair", ids,
				   CHECK_JOB_RUNS, &job)) < 0)
		return rc;
	b->out += CHECK_JOB_RUNS;
	return 1;
}

/* One more job for bisection b, for `agent`: 1 when created, 0 when the
 * bisection wants nothing of it now. */
static int plan_one(struct pb_sched *s, struct bis *b, const char *agent)
{
	struct pb_engine *e;
	struct pending p = { b, NULL, 0, 0, 0 };
	size_t pick = PB_ENGINE_NO_RUN;
	unsigned m;
	int64_t job, id;
	int rc;

	if (b->chk)
		return plan_check(s, b, agent);
	e = pb_session_engine(b->ses);
	{
		/* a machine too busy to measure: most of the latest runs
		 * were disturbed - wait, longer each round, as --local
		 * does; after PB_BUSY_WAITS the engine ends the bisection
		 * ("too busy", exit 3) */
		struct pb_action act;

		if (now_of(s) < b->wait_until)
			return 0;
		pb_engine_wait(e, &act);
		if (act.kind == PB_ACT_DONE)
			return 0;
		if (act.kind == PB_ACT_WAIT) {
			double w = s->o.busy_backoff_s *
				   (double)(1u << (act.wait_round < 6
							   ? act.wait_round - 1
							   : 5));

			b->wait_until = now_of(s) + w;
			pb_log_info("bisection %lld: the machines are busy: "
				    "most of the latest runs were disturbed "
				    "by other work; no new runs for %.3g s "
				    "(wait %u of %d)",
				    (long long)b->id, w, act.wait_round,
				    PB_BUSY_WAITS);
			return 0;
		}
	}
	/* the runs out, from the database: the truth after restarts */
	if ((rc = pb_db_pending_runs(s->o.db, b->id, collect, &p)) < 0 ||
	    (rc = p.rc) < 0 || (rc = pb_session_machine(b->ses, agent, &m)) < 0)
		goto out;
	b->out = (unsigned)p.n;
	/* the agent's run, jointly with the runs out: its machine's
	 * reference first, the side of the verification its machine runs
	 * (pairs never span machines), or the search's joint choice */
	if (pb_engine_next_for(e, &m, 1, p.v, p.n, &pick) < 0) {
		rc = pb_error_code(PB_EINFRA, "the engine refused the runs out "
				   "of bisection %lld", (long long)b->id);
		goto out;
	}
	rc = 0;
	if (pick == PB_ENGINE_NO_RUN || pick >= b->n)
		goto out;
	id = b->ids[pick];
	if ((rc = pb_db_job_create(s->o.db, b->id, "runs", &id, 1, &job)) < 0)
		goto out;
	b->out++;
	rc = 1;
out:
	free(p.v);
	return rc;
}

/* Plans jobs until one the agent may take is queued: 1, or 0 when no
 * bisection wants more now. */
static int plan(struct pb_sched *s, const char *agent)
{
	for (;;) {
		struct bis *best = NULL;
		int rc;

		for (struct bis *b = s->list, *nx; b; b = nx) {
			nx = b->next;
			if (ended(b)) {
				if ((rc = finish(s, b)) < 0)
					return rc;
				continue;
			}
			if (!best || b->out < best->out)
				best = b;
		}
		if (!best)
			return 0;
		if ((rc = plan_one(s, best, agent)) != 0)
			return rc;
		/* this one wants nothing more now: try the others */
		{
			int any = 0;

			for (struct bis *b = s->list; b; b = b->next) {
				if (b == best)
					continue;
				if ((rc = plan_one(s, b, agent)) < 0)
					return rc;
				if (rc) {
					any = 1;
					break;
				}
			}
			return any;
		}
	}
}

/* ---- leases ---- */

static int new_lease_id(char out[72])
{
	unsigned char r[24];

	if (RAND_bytes(r, sizeof(r)) != 1)
		return pb_error_code(PB_EINFRA, "no randomness for a lease");
	memcpy(out, "pbl_", 4);
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(out + 4 + 2 * i, 3, "%02x", r[i]);
	return PB_OK;
}

/* A merge's job for the agent: its runs still owed, all of its commit. */
static int describe_merge(struct pb_sched *s, const struct pb_lease_row *l,
			  const struct pb_job_row *j, struct pb_sched_job *out)
{
	struct pb_merge_row m;
	int rc;

	if ((rc = pb_db_merge_get(s->o.db, j->merge_id, &m)) < 0)
		return rc;
	pb_strlcpy(out->lease, l->id, sizeof(out->lease));
	out->expires_in_s = l->expires_at - now_of(s);
	out->job_id = j->id;
	out->bisection_id = 0;
	pb_strlcpy(out->kind, "merge", sizeof(out->kind));
	if ((rc = pb_db_bench_by_id(s->o.db, m.bench_id, &out->bench)) < 0 ||
	    (rc = pb_db_repo_by_id(s->o.db, m.repo_id, &out->repo)) < 0)
		goto out;
	out->runs = calloc(j->nruns ? j->nruns : 1, sizeof(*out->runs));
	if (!out->runs) {
		rc = pb_error_code(PB_EINFRA, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < j->nruns; k++) {
		if (j->posted[k])
			continue;
		out->runs[out->nruns].index = (unsigned)k;
		pb_strlcpy(out->runs[out->nruns].commit, m.sha,
			   sizeof(out->runs[0].commit));
		out->nruns++;
	}
	rc = PB_OK;
out:
	if (rc < 0)
		pb_sched_job_release(out);
	return rc;
}

/* The job's description for the agent: the runs still owed. */
static int describe_job(struct pb_sched *s, const struct pb_lease_row *l,
			struct pb_sched_job *out)
{
	struct pb_job_row j;
	struct bis *b;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = pb_db_job_get(s->o.db, l->job_id, &j)) < 0)
		return rc;
	if (j.merge_id) {
		rc = describe_merge(s, l, &j, out);
		pb_job_row_release(&j);
		return rc;
	}
	b = find_bis(s, j.bisection_id);
	if (!b) {
		pb_job_row_release(&j);
		return pb_error_code(PB_ENOTFOUND, "bisection %lld is over",
				     (long long)j.bisection_id);
	}
	pb_strlcpy(out->lease, l->id, sizeof(out->lease));
	out->expires_in_s = l->expires_at - now_of(s);
	out->job_id = j.id;
	out->bisection_id = j.bisection_id;
	pb_strlcpy(out->kind, j.kind, sizeof(out->kind));
	if ((rc = pb_db_bench_by_id(s->o.db, b->bench.id, &out->bench)) < 0)
		goto out;
	{
		struct pb_bisection_row r;

		if ((rc = pb_db_bisection_row(s->o.db, j.bisection_id, &r)) <
			    0 ||
		    (rc = pb_db_repo_by_id(s->o.db, r.repo_id, &out->repo)) < 0)
			goto out;
	}
	out->runs = calloc(j.nruns ? j.nruns : 1, sizeof(*out->runs));
	if (!out->runs) {
		rc = pb_error_code(PB_EINFRA, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < j.nruns; k++) {
		size_t i;

		if (j.posted[k] || bis_index(b, j.commit_ids[k], &i) < 0)
			continue;
		out->runs[out->nruns].index = (unsigned)k;
		pb_strlcpy(out->runs[out->nruns].commit, b->commits[i].sha,
			   sizeof(out->runs[0].commit));
		out->nruns++;
	}
	rc = PB_OK;
out:
	pb_job_row_release(&j);
	if (rc < 0)
		pb_sched_job_release(out);
	return rc;
}

int pb_sched_lease(struct pb_sched *s, const char *agent,
		   const char *request_id, const char *facts_json,
		   struct pb_sched_job *out)
{
	struct pb_lease_row l;
	int64_t job;
	int rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(s->lk);
	/* one transaction: the agent seen, and the job it gets */
	if ((rc = load_all(s)) < 0 || (rc = pb_db_begin(s->o.db)) < 0)
		goto out;
	if ((rc = pb_db_agent_seen(s->o.db, agent, facts_json, now_of(s))) <
	    0) {
		pb_db_rollback(s->o.db);
		goto out;
	}
	/* a retried request: the same lease, while it holds */
	rc = pb_db_lease_by_request(s->o.db, agent, request_id, &l);
	if (rc == PB_OK) {
		if ((rc = pb_db_commit(s->o.db)) < 0)
			goto out;
		rc = !strcmp(l.state, "active") && l.expires_at > now_of(s)
			     ? describe_job(s, &l, out)
			     : PB_ENOTFOUND;
		goto out;
	}
	if (rc != PB_ENOTFOUND) {
		pb_db_rollback(s->o.db);
		goto out;
	}
	/* the bisections' and compares' work first (a lost job, else what
	 * they plan for this agent), then the merges' */
	rc = pb_db_job_claim(s->o.db, agent, &job);
	if (rc == PB_ENOTFOUND) {
		rc = plan(s, agent);
		if (rc == 1) {
			rc = pb_db_job_claim(s->o.db, agent, &job);
		} else if (rc == 0) {
			/* a series' merges stay on its home machine while it
			 * lives (docs/merges.md) */
			struct pb_home_rule hr = {
				.now = now_of(s),
				.seen_since = now_of(s) - s->o.home_alive_s,
				.waited_before = now_of(s) - s->o.merge_home_wait_s,
			};

			rc = pb_db_merge_job_claim(s->o.db, agent, &hr, &job);
		}
	}
	if (rc == PB_OK) {
		memset(&l, 0, sizeof(l));
		l.job_id = job;
		pb_strlcpy(l.agent, agent, sizeof(l.agent));
		pb_strlcpy(l.state, "active", sizeof(l.state));
		l.expires_at = now_of(s) + s->o.lease_s;
		if ((rc = new_lease_id(l.id)) == PB_OK)
			rc = pb_db_lease_create(s->o.db, l.id, job, agent,
						request_id, l.expires_at);
	}
	if (rc == PB_OK || rc == PB_ENOTFOUND) {
		/* no job is no failure: what planning stored stands (a
		 * bisection it found finished, say) */
		int crc = pb_db_commit(s->o.db);

		rc = crc < 0 ? crc : rc;
	} else {
		pb_db_rollback(s->o.db);
	}
	if (rc == PB_OK)
		rc = describe_job(s, &l, out);
out:
	rc = unlock_synced(s, rc);
	return rc;
}

/* Ends bisection id as failed for the infrastructure and, when it had not
 * ended before, queues its notification, in one transaction. */
static int infra_fail(struct pb_sched *s, int64_t id, const char *why)
{
	struct pb_bisection_row r;
	int rc;

	if ((rc = pb_db_begin(s->o.db)) < 0)
		return rc;
	if ((rc = pb_db_bisection_row(s->o.db, id, &r)) < 0 ||
	    (rc = pb_db_bisection_infra_fail(s->o.db, id, why)) < 0 ||
	    (!r.cancelled && strcmp(r.state, "done") &&
	     strcmp(r.state, "failed") &&
	     (rc = pb_notify_bisection_ended(s->o.db, id)) < 0) ||
	    (rc = pb_db_commit(s->o.db)) < 0)
		pb_db_rollback(s->o.db);
	return rc;
}

/* Lease `id` of compare b's agent ran out: its job ends (it is never
 * queued again - no other machine may finish its pairs), and the compare
 * starts from scratch on the next agent that asks (its earlier runs are
 * kept, never counted: a compare's pairs are all of one machine); after
 * max_expiries such losses it fails as an infrastructure failure. */
static int check_lost(struct pb_sched *s, struct bis *b, const char *id,
		      int64_t job_id, const char *agent)
{
	unsigned lost = 0;
	char why[256];
	int rc;

	if ((rc = pb_db_begin(s->o.db)) < 0)
		return rc;
	if ((rc = pb_db_lease_set_state(s->o.db, id, "expired")) < 0 ||
	    (rc = pb_db_job_set_state(s->o.db, job_id, "done")) < 0 ||
	    (rc = pb_db_compare_unbind(s->o.db, b->id, &lost)) < 0 ||
	    (rc = pb_db_commit(s->o.db)) < 0) {
		pb_db_rollback(s->o.db);
		return rc;
	}
	if (lost >= s->o.max_expiries) {
		snprintf(why, sizeof(why),
			 "infrastructure: compare %lld lost its agent %u times "
			 "(the last was '%s')", (long long)b->id, lost, agent);
		pb_log_info("%s", why);
		if ((rc = infra_fail(s, b->id, why)) < 0)
			return rc;
		drop_bis(s, b);
		return PB_OK;
	}
	pb_log_info("lease %.12s of agent '%s' expired: compare %lld starts "
		    "again on the next agent that asks", id, agent,
		    (long long)b->id);
	b->out = 0;
	if ((rc = pb_check_load(b->chk, s->o.db, b->id)) < 0 ||
	    (rc = pb_db_pending_runs(s->o.db, b->id, count_out, b)) < 0)
		return rc;
	return PB_OK;
}

static int merge_settle(struct pb_sched *s, int64_t id, char *log, size_t n);

/* Lease `id` of `agent` on job `job_id` ran out (the reaper saw it, or a
 * call on it came late): the job goes back to the queue, never to that
 * agent; it is over when its every run was posted (the agent died before
 * its done: nothing is owed); after max_expiries it fails its bisection
 * as an infrastructure failure. */
static int expire(struct pb_sched *s, const char *id, int64_t job_id,
		  const char *agent)
{
	struct pb_job_row j;
	int64_t merge = 0;
	int rc, failed = 0, owes = 1;
	char log[256] = "";

	if (pb_db_job_get(s->o.db, job_id, &j) == PB_OK) {
		struct bis *b = find_bis(s, j.bisection_id);

		owes = 0;
		for (size_t r = 0; r < j.nruns; r++)
			owes |= !j.posted[r];
		merge = j.merge_id;
		pb_job_row_release(&j);
		if (b && b->chk)
			return check_lost(s, b, id, job_id, agent);
	}
	if ((rc = pb_db_begin(s->o.db)) < 0)
		return rc;
	if ((rc = pb_db_lease_set_state(s->o.db, id, "expired")) < 0 ||
	    (rc = owes ? pb_db_job_lost(s->o.db, job_id, agent,
					s->o.max_expiries, &failed)
		       : pb_db_job_set_state(s->o.db, job_id, "done")) < 0 ||
	    (merge && !owes &&
	     (rc = merge_settle(s, merge, log, sizeof(log))) < 0) ||
	    (merge && owes &&
	     (rc = pb_db_merge_set_state(s->o.db, merge,
					 failed ? "failed" : "queued")) < 0) ||
	    (rc = pb_db_commit(s->o.db)) < 0) {
		pb_db_rollback(s->o.db);
		return rc;
	}
	if (*log)
		pb_log_info("%s", log);
	pb_log_info("lease %.12s of agent '%s' expired: job %lld %s", id,
		    agent, (long long)job_id,
		    !owes ? "had posted all its runs: done"
		    : failed ? "failed" : "queued again");
	if (!failed || pb_db_job_get(s->o.db, job_id, &j) < 0)
		return PB_OK;
	if (j.merge_id) {
		/* the merge goes without a point (stored above): a
		 * bisection measures its commit if one needs it */
		pb_log_warnx("merge %lld: its job lost its lease %u times "
			     "(its agents stopped reporting; the last was "
			     "'%s'): not measured", (long long)j.merge_id,
			     s->o.max_expiries, agent);
		pb_job_row_release(&j);
		return PB_OK;
	}
	{
		char msg[256];
		struct bis *b = find_bis(s, j.bisection_id);

		snprintf(msg, sizeof(msg),
			 "infrastructure: job %lld lost its lease %u times "
			 "(its agents stopped reporting; the last was '%s')",
			 (long long)j.id, s->o.max_expiries, agent);
		rc = infra_fail(s, j.bisection_id, msg);
		if (b)
			drop_bis(s, b);
		pb_job_row_release(&j);
		if (rc < 0)
			return rc;
	}
	return PB_OK;
}

/* The lease if it is the agent's and active; else PB_ECONFLICT and why. */
static int own_lease(struct pb_sched *s, const char *agent, const char *id,
		     struct pb_lease_row *l, struct pb_sched_refusal *why)
{
	int rc = pb_db_lease_get(s->o.db, id, l);

	memset(why, 0, sizeof(*why));
	if (rc == PB_ENOTFOUND || (rc == PB_OK && strcmp(l->agent, agent))) {
		pb_strlcpy(why->state, "unknown", sizeof(why->state));
		snprintf(why->why, sizeof(why->why),
			 "no lease %.40s of agent '%s'", id, agent);
		return PB_ECONFLICT;
	}
	if (rc < 0)
		return rc;
	if (!strcmp(l->state, "active") && l->expires_at < now_of(s) &&
	    now_of(s) >= s->started + s->o.restart_grace_s) {
		/* ran out before the reaper saw it: the same as expired */
		if ((rc = expire(s, l->id, l->job_id, agent)) < 0)
			return rc;
		pb_strlcpy(l->state, "expired", sizeof(l->state));
	}
	if (strcmp(l->state, "active")) {
		pb_strlcpy(why->state, l->state, sizeof(why->state));
		snprintf(why->why, sizeof(why->why), "lease %.40s is %s", id,
			 l->state);
		return PB_ECONFLICT;
	}
	return PB_OK;
}

/* Whether the lease's bisection still wants its job. */
static int wanted(struct pb_sched *s, const struct pb_lease_row *l)
{
	struct pb_job_row j;
	int yes;

	if (pb_db_job_get(s->o.db, l->job_id, &j) < 0)
		return 0;
	yes = (j.merge_id || find_bis(s, j.bisection_id) != NULL) &&
	      !strcmp(j.state, "leased");
	pb_job_row_release(&j);
	return yes;
}

int pb_sched_heartbeat(struct pb_sched *s, const char *agent,
		       const char *lease, double run_s, double *expires_in_s,
		       int *cont, struct pb_sched_refusal *why)
{
	struct pb_lease_row l;
	double until;
	int rc;

	*cont = 0;
	*expires_in_s = 0;
	pthread_mutex_lock(s->lk);
	if ((rc = load_all(s)) < 0 ||
	    (rc = own_lease(s, agent, lease, &l, why)) < 0)
		goto out;
	until = now_of(s) + s->o.lease_s + (run_s > 0 ? run_s : 0);
	if ((rc = pb_db_lease_extend(s->o.db, l.id, until)) < 0)
		goto out;
	*expires_in_s = until - now_of(s);
	*cont = wanted(s, &l);
out:
	rc = unlock_synced(s, rc);
	return rc;
}

static int sha256_hex(const char *body, size_t len, char out[72])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_Digest(body, len, md, &n, EVP_sha256(), NULL) != 1)
		return pb_error_code(PB_EINFRA, "cannot hash a record");
	for (unsigned i = 0; i < n && 2 * i + 2 < 72; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return PB_OK;
}

/* The lease ends as `state` and its job as done, in the caller's
 * transaction: `done`'s work, and that of a job's last run record (so the
 * agent need not call `done`). */
static int job_over(struct pb_sched *s, const struct pb_lease_row *l,
		    const char *state)
{
	int rc = pb_db_lease_set_state(s->o.db, l->id, state);

	return rc < 0 ? rc : pb_db_job_set_state(s->o.db, l->job_id, "done");
}

/* job_over() in a transaction of its own. */
static int end_lease(struct pb_sched *s, const struct pb_lease_row *l,
		     const char *state)
{
	int rc;

	if ((rc = pb_db_begin(s->o.db)) < 0)
		return rc;
	if ((rc = job_over(s, l, state)) < 0) {
		pb_db_rollback(s->o.db);
		return rc;
	}
	return pb_db_commit(s->o.db);
}

/* Merge id's last job is over, in the caller's transaction: measured when
 * as many of its runs as its first job had were taken with the machine to
 * themselves; else the disturbed ones are owed again after a back-off
 * (busy_backoff_s, doubling up to 32 times); when the runs owed after
 * PB_BUSY_WAITS such rounds are disturbed again the merge fails "machine
 * too busy to measure" (docs/merges.md).
 * *log gets what to say once the transaction stands ("" nothing). */
static int merge_settle(struct pb_sched *s, int64_t id, char *log, size_t n)
{
	unsigned want, clean, rounds;
	int64_t job;
	int rc;

	*log = '\0';
	if ((rc = pb_db_merge_tally(s->o.db, id, &want, &clean, &rounds)) < 0)
		return rc;
	if (clean >= want)
		return pb_db_merge_set_state(s->o.db, id, "measured");
	if (rounds >= PB_BUSY_WAITS) {
		char note[160];

		snprintf(note, sizeof(note),
			 "machine too busy to measure: %u of %u runs taken "
			 "without other work after %u rounds",
			 clean, want, rounds);
		snprintf(log, n, "merge %lld failed: %s", (long long)id, note);
		return pb_db_merge_fail(s->o.db, id, note);
	}
	{
		double w = s->o.busy_backoff_s *
			   (double)(1u << (rounds < 5 ? rounds : 5));

		if ((rc = pb_db_merge_again(s->o.db, id, want - clean,
					    now_of(s) + w, &job)) < 0)
			return rc;
		snprintf(log, n,
			 "merge %lld: %u of its runs were disturbed by other "
			 "work; they run again in %.3g s (round %u of %d)",
			 (long long)id, want - clean, w, rounds + 1,
			 PB_BUSY_WAITS);
	}
	return PB_OK;
}

/* A run record of a merge's job: stored with the lease's extension in one
 * transaction; the merge is measured once its every run is in. */
static int post_merge_run(struct pb_sched *s, const struct pb_lease_row *l,
			  const struct pb_job_row *j, unsigned index,
			  const char *commit, struct pb_run_row *row,
			  const char *run_id, const char *hash, int *cont,
			  int *job_done)
{
	struct pb_merge_row m;
	int rc, all = 1;
	char log[256] = "";

	if (index >= j->nruns)
		return pb_error_code(PB_EINVAL, "the job has no run %u", index);
	if ((rc = pb_db_merge_get(s->o.db, j->merge_id, &m)) < 0)
		return rc;
	if (strcmp(m.sha, commit))
		return pb_error_code(PB_EINVAL, "run %u of the job is of commit "
				     "%s, not %.40s", index, m.sha, commit);
	row->run_id = run_id;
	row->bisection_id = 0;
	row->seq = 0;
	row->commit_id = m.commit_id;
	row->bench_id = m.bench_id;
	row->config_id = 0;
	row->machine = l->agent;
	row->lease_id = l->id;
	row->run_index = (int)index;
	row->orphan = 0;
	row->body_hash = hash;
	if (row->ok && !(fabs(row->value) <= PB_ENGINE_VALUE_MAX))
		row->ok = 0; /* printed, but no measurement */
	for (size_t k = 0; k < j->nruns; k++)
		all &= j->posted[k] || k == index;
	if ((rc = pb_db_begin(s->o.db)) < 0)
		return rc;
	rc = pb_db_run_insert(s->o.db, row);
	if (rc == PB_DB_REPEAT) { /* a race with itself: already counted */
		pb_db_rollback(s->o.db);
		return PB_OK;
	}
	if (rc == PB_OK)
		(void)pb_db_lease_extend(s->o.db, l->id,
					 now_of(s) + s->o.lease_s);
	if (rc == PB_OK && all) /* its last run: the job is over (done) */
		rc = job_over(s, l, "done");
	if (rc == PB_OK && all)
		rc = merge_settle(s, m.id, log, sizeof(log));
	if (rc == PB_OK)
		rc = pb_db_commit(s->o.db);
	if (rc < 0) {
		pb_db_rollback(s->o.db);
		return rc;
	}
	if (*log)
		pb_log_info("%s", log);
	*job_done = all;
	*cont = !all && !strcmp(j->state, "leased");
	return PB_OK;
}

int pb_sched_post_run(struct pb_sched *s, const char *agent,
		      const char *lease, unsigned index, const char *commit,
		      struct pb_run_row *row, const struct pb_image_row *images,
		      size_t nimages, const char *body, size_t len,
		      int *repeat, int *cont, int *job_done,
		      struct pb_sched_refusal *why)
{
	struct pb_lease_row l;
	struct pb_job_row j;
	char run_id[96], hash[72], stored[72];
	struct bis *b;
	size_t i;
	int rc, all = 1;

	*repeat = *cont = *job_done = 0;
	memset(&j, 0, sizeof(j));
	memset(why, 0, sizeof(why[0]));
	if ((rc = sha256_hex(body, len, hash)) < 0)
		return rc;
	snprintf(run_id, sizeof(run_id), "%.71s:%u", lease, index);
	pthread_mutex_lock(s->lk);
	if ((rc = load_all(s)) < 0)
		goto out;
	/* a record stored already: the same, or a conflict */
	rc = pb_db_run_body_hash(s->o.db, run_id, stored);
	if (rc == PB_OK) {
		if (!strcmp(stored, hash)) {
			rc = pb_db_lease_get(s->o.db, lease, &l);
			if (rc == PB_OK && strcmp(l.agent, agent)) {
				/* another agent's record: a call on a lease
				 * that is not the caller's, whatever it
				 * carries */
				pb_strlcpy(why->state, "unknown",
					   sizeof(why->state));
				snprintf(why->why, sizeof(why->why),
					 "no lease %.40s of agent '%s'", lease,
					 agent);
				rc = PB_ECONFLICT;
				goto out;
			}
			*repeat = 1;
			*cont = rc == PB_OK && !strcmp(l.state, "active") &&
				wanted(s, &l);
			/* the answer the first post got, lost on its way */
			*job_done = rc == PB_OK && !strcmp(l.state, "done");
			rc = PB_OK;
			goto out;
		}
		(void)pb_db_run_conflict(s->o.db, run_id, agent, body);
		pb_strlcpy(why->state, "conflict", sizeof(why->state));
		snprintf(why->why, sizeof(why->why),
			 "run %s was posted before with other contents: "
			 "kept for audit, not counted", run_id);
		rc = PB_ECONFLICT;
		goto out;
	}
	if (rc != PB_ENOTFOUND)
		goto out;
	rc = own_lease(s, agent, lease, &l, why);
	if (rc == PB_ECONFLICT && strcmp(why->state, "unknown")) {
		/* the agent's lease, no longer valid: kept as an orphan */
		if (pb_db_job_get(s->o.db, l.job_id, &j) == PB_OK &&
		    index < j.nruns) {
			row->run_id = run_id;
			row->bisection_id = j.bisection_id;
			row->commit_id = j.commit_ids[index];
			row->machine = agent;
			row->lease_id = lease;
			row->run_index = (int)index;
			row->orphan = 1;
			row->body_hash = hash;
			if (j.merge_id) {
				struct pb_merge_row m;

				if (pb_db_merge_get(s->o.db, j.merge_id, &m) ==
				    PB_OK) {
					row->bisection_id = 0;
					row->bench_id = m.bench_id;
					(void)pb_db_run_insert(s->o.db, row);
				}
			} else {
				struct pb_bisection_row br;

				if (pb_db_bisection_row(s->o.db, j.bisection_id,
							&br) == PB_OK) {
					row->bench_id = br.bench_id;
					(void)pb_db_run_insert(s->o.db, row);
				}
			}
		}
		snprintf(why->why, sizeof(why->why),
			 "lease %.40s is %s: the record is kept as an orphan "
			 "and not counted", lease, l.state);
		rc = PB_ECONFLICT;
		goto out;
	}
	if (rc < 0)
		goto out;
	if ((rc = pb_db_job_get(s->o.db, l.job_id, &j)) < 0)
		goto out;
	if (j.merge_id) {
		rc = post_merge_run(s, &l, &j, index, commit, row, run_id,
				    hash, cont, job_done);
		goto out;
	}
	b = find_bis(s, j.bisection_id);
	if (index >= j.nruns) {
		rc = pb_error_code(PB_EINVAL, "the job has no run %u", index);
		goto out;
	}
	if (!b || bis_index(b, j.commit_ids[index], &i) < 0) {
		pb_strlcpy(why->state, "cancelled", sizeof(why->state));
		snprintf(why->why, sizeof(why->why),
			 "bisection %lld is over", (long long)j.bisection_id);
		rc = PB_ECONFLICT;
		goto out;
	}
	if (strcmp(b->commits[i].sha, commit)) {
		rc = pb_error_code(PB_EINVAL,
				   "run %u of the job is of commit %s, not %.40s",
				   index, b->commits[i].sha, commit);
		goto out;
	}
	row->run_id = run_id;
	row->seq = 0;
	row->machine = agent;
	row->lease_id = lease;
	row->run_index = (int)index;
	row->orphan = 0;
	row->body_hash = hash;
	for (size_t k = 0; k < j.nruns; k++)
		all &= j.posted[k] || k == index;
	/* the record, its steps and the lease's extension - or, with the
	 * job's last run, the job's end: one transaction
	 * (pb_session_add_run()'s is part of it) */
	if ((rc = pb_db_begin(s->o.db)) < 0)
		goto out;
	/* the job's end first: the run feeds the engine's memory, which a
	 * failure after it would leave ahead of the database */
	rc = all ? job_over(s, &l, "done") : PB_OK;
	if (rc == PB_OK)
		rc = b->chk ? pb_check_add_run(b->chk, s->o.db, (int)i, row)
			    : pb_session_add_run_rows(b->ses, i, row, images,
						      nimages);
	if (rc == PB_OK) {
		/* as before: an extension that fails keeps the record */
		if (!all)
			(void)pb_db_lease_extend(s->o.db, l.id,
						 now_of(s) + s->o.lease_s);
		if ((rc = pb_db_commit(s->o.db)) < 0)
			pb_db_rollback(s->o.db);
	} else {
		pb_db_rollback(s->o.db); /* a repeat, or a failure */
	}
	if (rc == PB_DB_REPEAT) { /* a race with itself: already counted */
		rc = PB_OK;
		all = 0; /* the other post said whether it ended the job */
	}
	if (rc < 0)
		goto out;
	if (b->out)
		b->out--;
	*job_done = all;
	if (ended(b)) {
		if ((rc = finish(s, b)) < 0)
			goto out;
		*cont = 0;
	} else {
		*cont = !all && wanted(s, &l);
	}
out:
	pb_job_row_release(&j);
	rc = unlock_synced(s, rc);
	if (rc == PB_OK && !*repeat)
		wake(s);
	return rc;
}

/* A compare's end cannot be built (on its one machine): an input error,
 * exit 2, as --local says of an end that cannot be built. */
static int check_build_failed(struct pb_sched *s, struct bis *b,
			      const struct pb_lease_row *l,
			      const struct pb_job_row *j, const char *agent,
			      const char *commit, const char *reason,
			      const char *log)
{
	char why[512];
	int side = -1, rc;

	for (int k = 0; k < 2; k++)
		if (!strcmp(b->chk->sha[k], commit))
			side = k;
	if (side < 0)
		return pb_error_code(PB_EINVAL, "commit %.40s is not of the job",
				     commit);
	(void)j;
	snprintf(why, sizeof(why), "the %s %.12s cannot be built on '%s': %s",
		 side ? "head" : "base", commit, agent, reason);
	if ((rc = pb_db_begin(s->o.db)) < 0)
		return rc;
	if ((rc = pb_db_build_put(s->o.db, b->chk->ids[side], b->chk->bench_id,
				  agent, 0, reason, log, 0)) < 0 ||
	    (rc = pb_db_lease_set_state(s->o.db, l->id, "done")) < 0 ||
	    (rc = pb_check_fail(b->chk, s->o.db, 2, why)) < 0 ||
	    (rc = pb_db_bisection_jobs_end(s->o.db, b->id)) < 0 ||
	    (rc = pb_db_commit(s->o.db)) < 0) {
		pb_db_rollback(s->o.db);
		return rc;
	}
	pb_log_info("compare %lld failed: %s", (long long)b->id, why);
	drop_bis(s, b);
	return PB_OK;
}

int pb_sched_build_failed(struct pb_sched *s, const char *agent,
			  const char *lease, const char *commit,
			  const char *reason, const char *log,
			  struct pb_sched_refusal *why)
{
	struct pb_lease_row l;
	struct pb_job_row j;
	struct bis *b;
	int rc;

	memset(&j, 0, sizeof(j));
	pthread_mutex_lock(s->lk);
	if ((rc = load_all(s)) < 0 ||
	    (rc = own_lease(s, agent, lease, &l, why)) < 0 ||
	    (rc = pb_db_job_get(s->o.db, l.job_id, &j)) < 0)
		goto out;
	if (j.merge_id) {
		struct pb_merge_row m;

		if ((rc = pb_db_merge_get(s->o.db, j.merge_id, &m)) < 0)
			goto out;
		if (strcmp(m.sha, commit)) {
			rc = pb_error_code(PB_EINVAL, "commit %.40s is not of "
					   "the job", commit);
			goto out;
		}
		char note[256];

		/* the report's gap says why (the log is the build's) */
		snprintf(note, sizeof(note), "its build failed on '%s': %.160s",
			 agent, reason && *reason ? reason : "no reason given");
		if ((rc = pb_db_begin(s->o.db)) < 0)
			goto out;
		if ((rc = pb_db_build_put(s->o.db, m.commit_id, m.bench_id,
					  agent, 0, reason, log, 0)) < 0 ||
		    (rc = pb_db_merge_fail(s->o.db, m.id, note)) < 0 ||
		    (rc = end_lease(s, &l, "done")) < 0 ||
		    (rc = pb_db_commit(s->o.db)) < 0) {
			pb_db_rollback(s->o.db);
			goto out;
		}
		pb_log_info("merge %lld: the build of %.12s failed on '%s': no "
			    "point in its series", (long long)m.id, m.sha,
			    agent);
		goto out;
	}
	b = find_bis(s, j.bisection_id);
	if (b && b->chk) {
		rc = check_build_failed(s, b, &l, &j, agent, commit, reason, log);
		goto out;
	}
	rc = PB_EINVAL;
	for (size_t k = 0; b && k < j.nruns; k++) {
		size_t i;

		if (pb_session_index(b->ses, j.commit_ids[k], &i) < 0 ||
		    strcmp(b->commits[i].sha, commit))
			continue;
		if ((rc = pb_db_build_put(s->o.db, j.commit_ids[k],
					  b->bench.id, agent, 0, reason, log,
					  0)) < 0 ||
		    (rc = pb_session_skip(b->ses, i)) < 0)
			goto out;
		break;
	}
	if (rc == PB_EINVAL) {
		rc = pb_error_code(PB_EINVAL, "commit %.40s is not of the job",
				   commit);
		goto out;
	}
	if ((rc = end_lease(s, &l, "done")) < 0)
		goto out;
	if (b && ended(b))
		rc = finish(s, b);
out:
	pb_job_row_release(&j);
	rc = unlock_synced(s, rc);
	if (rc == PB_OK)
		wake(s);
	return rc;
}

/* `done` on a merge's lease, in one transaction: every run posted, the
 * merge is measured; else the agent gave up on it (a fetch that failed, a
 * stop): the job goes back to the queue for another agent, as a lost
 * lease does, and fails the merge after max_expiries. */
static int merge_done(struct pb_sched *s, const struct pb_lease_row *l,
		      const struct pb_job_row *j, const char *agent)
{
	int rc, owes = 0, failed = 0;
	char log[256] = "";

	for (size_t k = 0; k < j->nruns; k++)
		owes |= !j->posted[k];
	if ((rc = pb_db_begin(s->o.db)) < 0)
		return rc;
	if ((rc = pb_db_lease_set_state(s->o.db, l->id, "done")) < 0 ||
	    (rc = owes ? pb_db_job_lost(s->o.db, j->id, agent,
					s->o.max_expiries, &failed)
		       : pb_db_job_set_state(s->o.db, j->id, "done")) < 0 ||
	    (rc = !owes ? merge_settle(s, j->merge_id, log, sizeof(log))
		  : failed ? pb_db_merge_set_state(s->o.db, j->merge_id,
						    "failed")
			   : PB_OK) < 0 ||
	    (rc = pb_db_commit(s->o.db)) < 0) {
		pb_db_rollback(s->o.db);
		return rc;
	}
	if (*log)
		pb_log_info("%s", log);
	if (owes)
		pb_log_info("merge %lld: agent '%s' ended its job with runs "
			    "owed: %s", (long long)j->merge_id, agent,
			    failed ? "not measured (it was given up too often)"
				   : "queued again for another agent");
	return PB_OK;
}

int pb_sched_done(struct pb_sched *s, const char *agent, const char *lease,
		  struct pb_sched_refusal *why)
{
	struct pb_lease_row l;
	struct pb_job_row j;
	int rc;

	memset(&j, 0, sizeof(j));
	pthread_mutex_lock(s->lk);
	if ((rc = load_all(s)) == PB_OK &&
	    (rc = own_lease(s, agent, lease, &l, why)) == PB_ECONFLICT &&
	    !strcmp(why->state, "done")) {
		/* ended already, by its last run's record or an earlier
		 * `done` whose answer was lost: nothing more to do */
		memset(why, 0, sizeof(*why));
		rc = PB_OK;
	} else if (rc == PB_OK &&
		   (rc = pb_db_job_get(s->o.db, l.job_id, &j)) == PB_OK) {
		if (j.merge_id) {
			rc = merge_done(s, &l, &j, agent);
		} else if ((rc = end_lease(s, &l, "done")) == PB_OK) {
			/* runs it did not post are the engine's to ask
			 * again: the runs out of its bisection (no other's
			 * changed) */
			struct bis *b = find_bis(s, j.bisection_id);

			if (b) {
				b->out = 0;
				rc = pb_db_pending_runs(s->o.db, b->id,
							count_out, b);
			}
		}
	}
	pb_job_row_release(&j);
	rc = unlock_synced(s, rc);
	if (rc == PB_OK)
		wake(s);
	return rc;
}

int pb_sched_reap(struct pb_sched *s)
{
	struct pb_lease_row *v = NULL;
	size_t n = 0;
	int rc, any = 0;

	pthread_mutex_lock(s->lk);
	if (now_of(s) < s->started + s->o.restart_grace_s) {
		pthread_mutex_unlock(s->lk);
		return PB_OK;
	}
	if ((rc = load_all(s)) < 0 ||
	    (rc = pb_db_leases_expired(s->o.db, now_of(s), &v, &n)) < 0)
		goto out;
	for (size_t k = 0; k < n; k++) {
		if ((rc = expire(s, v[k].id, v[k].job_id, v[k].agent)) < 0)
			goto out;
		any = 1;
	}
out:
	free(v);
	rc = unlock_synced(s, rc);
	if (any)
		wake(s);
	return rc;
}

int pb_sched_with_db(struct pb_sched *s, int (*fn)(struct pb_db *, void *),
		     void *ctx)
{
	int rc;

	pthread_mutex_lock(s->lk);
	rc = fn(s->o.db, ctx);
	pthread_mutex_unlock(s->lk);
	return rc;
}

/* ---- merges and history ---- */

/* The tracked branch's first-parent line of repository `repo` in g, up to
 * history_commits commits, oldest first. */
static int branch_line(struct pb_sched *s, struct pb_git *g,
		       const struct pb_repo_ref *repo, char (**line)[41],
		       size_t *n, char head[41])
{
	char ref[300];
	int rc;

	if (repo->branch[0])
		snprintf(ref, sizeof(ref), "refs/heads/%s", repo->branch);
	else
		pb_strlcpy(ref, "HEAD", sizeof(ref));
	if ((rc = pb_git_resolve(g, ref, head)) < 0)
		return pb_error_code(PB_EINVAL, "repository '%s' has no branch "
				     "'%s'", repo->name,
				     repo->branch[0] ? repo->branch : "HEAD");
	return pb_git_first_parent_line(g, head, s->o.history_commits, line,
					n);
}

int pb_sched_merge(struct pb_sched *s, const struct pb_sched_merge_req *q,
		   struct pb_sched_merge_res *out)
{
	struct pb_repo_ref repo;
	struct pb_git *g = NULL;
	struct pb_commit_info ci;
	struct pb_merge_bench *benches = NULL;
	char (*line)[41] = NULL, head[41], msg[512];
	size_t nline = 0, nb = 0, k;
	int64_t commit_id;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&ci, 0, sizeof(ci));
	pthread_mutex_lock(s->lk);
	rc = pb_db_repo_by_name(s->o.db, q->repo, &repo);
	pthread_mutex_unlock(s->lk);
	if (rc == PB_ENOTFOUND)
		return pb_error_code(PB_ENOTFOUND, "unknown repository '%s'",
				     q->repo);
	if (rc < 0)
		return rc;
	if ((rc = mirror(s, &repo, 1, &g)) < 0)
		goto out;
	if ((rc = pb_git_resolve(g, q->rev, out->commit)) < 0) {
		pb_strlcpy(msg, pb_error_last(), sizeof(msg));
		rc = pb_error_code(PB_EINVAL, "repository '%s': %s", repo.name,
				   msg);
		goto out;
	}
	if ((rc = branch_line(s, g, &repo, &line, &nline, head)) < 0)
		goto out;
	for (k = 0; k < nline && strcmp(line[k], out->commit); k++)
		;
	if (k == nline) {
		rc = pb_error_code(PB_EINVAL, "commit %s is not on the "
				   "first-parent line of branch '%s' of "
				   "repository '%s' (merges are measured on "
				   "the tracked branch)", out->commit,
				   repo.branch[0] ? repo.branch : "HEAD",
				   repo.name);
		goto out;
	}
	if ((rc = pb_git_commit_info(g, out->commit, &ci)) < 0)
		goto out;
	pthread_mutex_lock(s->lk);
	if ((rc = pb_db_begin(s->o.db)) < 0)
		goto unlock;
	rc = pb_db_commit_ensure(s->o.db, repo.id, &ci, &commit_id);
	if (rc == PB_OK)
		rc = pb_db_merge_benches(s->o.db, repo.id, &benches, &nb);
	out->benchmarks = (unsigned)nb;
	for (size_t b = 0; b < nb && rc == PB_OK; b++) {
		int64_t merge, job;
		unsigned skipped = 0;

		rc = pb_db_merge_add(s->o.db, repo.id, commit_id, benches[b].id,
				     q->source,
				     benches[b].repeats ? benches[b].repeats
							: s->o.merge_repeats,
				     &merge, &job);
		if (rc == PB_OK && job) {
			out->jobs++;
			rc = pb_db_merges_supersede(s->o.db, repo.id,
						    benches[b].id,
						    s->o.merge_backlog,
						    &skipped);
			out->skipped += skipped;
		}
	}
	if (rc == PB_OK)
		rc = pb_db_commit(s->o.db);
	else
		pb_db_rollback(s->o.db);
unlock:
	rc = unlock_synced(s, rc);
	if (rc == PB_OK && out->jobs) {
		pb_log_info("merge %.12s of '%s' (%s): %u job%s queued%s",
			    out->commit, repo.name, q->source, out->jobs,
			    out->jobs == 1 ? "" : "s",
			    out->skipped ? ", older waiting merges skipped"
					 : "");
		wake(s);
	}
out:
	free(ci.subject);
	free(ci.author);
	free(benches);
	free(line);
	pb_git_free(g);
	return rc;
}

int pb_sched_push(struct pb_sched *s, int64_t repo_id, const char *source,
		  const char *delivery, const char *head, int forced,
		  int64_t *id)
{
	int rc;

	pthread_mutex_lock(s->lk);
	rc = pb_db_push_add(s->o.db, repo_id, source, delivery, head, forced,
			    now_of(s), id);
	return unlock_synced(s, rc);
}

int pb_sched_pushes(struct pb_sched *s)
{
	struct pb_push_row p;
	struct pb_sched_merge_req q;
	struct pb_sched_merge_res r;
	char note[512];
	const char *state;
	double next_at = 0;
	int rc, jobs = -1;

	pthread_mutex_lock(s->lk);
	rc = pb_db_push_due(s->o.db, now_of(s), &p);
	pthread_mutex_unlock(s->lk);
	if (rc == PB_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	q = (struct pb_sched_merge_req){ p.repo, p.head, p.source };
	rc = pb_sched_merge(s, &q, &r);
	note[0] = 0;
	if (rc == PB_OK) {
		state = "scheduled";
		jobs = (int)r.jobs;
		if (p.forced && r.jobs)
			pb_log_info("%s: a forced push: commits that left the "
				    "branch drop out of its series", p.repo);
	} else if (rc == PB_EINVAL || rc == PB_ENOTFOUND) {
		/* a head off the tracked line (a late delivery after a
		 * forced push), or a commit the fetch does not bring */
		state = "ignored";
		pb_strlcpy(note, pb_error_last(), sizeof(note));
	} else {
		pb_strlcpy(note, pb_error_last(), sizeof(note));
		if (p.attempts + 1 >= PB_SCHED_PUSH_ATTEMPTS) {
			state = "failed";
		} else {
			state = "queued";
			/* 5 s, 10 s, 20 s...: a remote that is down for
			 * minutes */
			next_at = now_of(s) + 5.0 * (double)(1u << p.attempts);
		}
	}
	if (note[0])
		pb_log_warnx("%s push %lld of %.12s to '%s' %s: %s", p.source,
			     (long long)p.id, p.head, p.repo,
			     !strcmp(state, "queued") ? "tried again later"
						      : state,
			     note);
	pthread_mutex_lock(s->lk);
	rc = pb_db_push_set(s->o.db, p.id, state, jobs, note[0] ? note : NULL,
			    next_at);
	rc = unlock_synced(s, rc);
	return rc < 0 ? rc : 1;
}

/* The runs of a series, copied out of the database's callbacks. */
struct series_runs {
	struct pb_history_run *v;
	size_t n, a;
	char (*sha)[41];
	char (*machine)[256];
};

static int keep_run(void *ctx, const char *sha, const char *machine,
		    double value)
{
	struct series_runs *r = ctx;

	if (r->n == r->a) {
		size_t na = r->a ? 2 * r->a : 64;
		struct pb_history_run *nv = realloc(r->v, na * sizeof(*nv));
		char (*ns)[41];
		char (*nm)[256];

		if (!nv)
			return pb_error_code(PB_EINFRA, "out of memory");
		r->v = nv;
		if (!(ns = realloc(r->sha, na * sizeof(*ns))))
			return pb_error_code(PB_EINFRA, "out of memory");
		r->sha = ns;
		if (!(nm = realloc(r->machine, na * sizeof(*nm))))
			return pb_error_code(PB_EINFRA, "out of memory");
		r->machine = nm;
		r->a = na;
	}
	pb_strlcpy(r->sha[r->n], sha ? sha : "", sizeof(r->sha[0]));
	pb_strlcpy(r->machine[r->n], machine ? machine : "",
		   sizeof(r->machine[0]));
	r->v[r->n++].value = value;
	return PB_OK;
}

static void series_runs_free(struct series_runs *r)
{
	free(r->v);
	free(r->sha);
	free(r->machine);
}

int pb_sched_culprit_files(struct pb_sched *s)
{
	struct pb_repo_ref repo;
	struct pb_git *g = NULL;
	char sha[41], *files = NULL;
	size_t total = 0;
	int64_t repo_id = 0;
	int rc;

	pthread_mutex_lock(s->lk);
	rc = pb_db_culprit_unlisted(s->o.db, &repo_id, sha);
	if (rc == PB_OK)
		rc = pb_db_repo_by_id(s->o.db, repo_id, &repo);
	pthread_mutex_unlock(s->lk);
	if (rc == PB_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	/* the mirror as the bisection left it: no fetch */
	if (mirror(s, &repo, 0, &g) < 0 ||
	    pb_culprit_files(g, sha, &files, &total) < 0)
		pb_log_warnx("the files %.12s changed: %s (not listed)", sha,
			     pb_error_last());
	pb_git_free(g);
	pthread_mutex_lock(s->lk);
	rc = pb_db_commit_files_set(s->o.db, repo_id, sha, files);
	rc = unlock_synced(s, rc);
	free(files);
	return rc < 0 ? rc : 1;
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The distinct commits of the series' runs that are on the line, with
 * their positions (for the report's order: merges.line_pos). */
static int line_positions(const struct series_runs *r, char (*line)[41],
			  size_t nline, char (**shas)[41], size_t **pos,
			  size_t *n)
{
	const char **sorted = calloc(nline ? nline : 1, sizeof(*sorted));
	unsigned char *taken = calloc(nline ? nline : 1, 1);
	int rc = PB_OK;

	*shas = calloc(r->n ? r->n : 1, sizeof(**shas));
	*pos = calloc(r->n ? r->n : 1, sizeof(**pos));
	*n = 0;
	if (!sorted || !taken || !*shas || !*pos) {
		rc = pb_error_code(PB_EINFRA, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < nline; k++)
		sorted[k] = line[k];
	qsort(sorted, nline, sizeof(*sorted), line_cmp);
	for (size_t i = 0; i < r->n; i++) {
		const char *key = r->sha[i], **hit;
		size_t at;

		hit = bsearch(&key, sorted, nline, sizeof(*sorted), line_cmp);
		if (!hit)
			continue;
		at = (size_t)(*hit - line[0]) / sizeof(line[0]);
		if (taken[at])
			continue;
		taken[at] = 1;
		pb_strlcpy((*shas)[*n], key, 41);
		(*pos)[(*n)++] = at;
	}
out:
	free(taken);
	free(sorted);
	return rc;
}

int pb_sched_judge(struct pb_sched *s)
{
	struct pb_series_key key;
	struct pb_repo_ref repo;
	struct pb_bench_row bench;
	struct pb_git *g = NULL;
	struct series_runs runs = { 0 };
	struct pb_alert_row *alerts = NULL;
	struct pb_history_alert *known = NULL;
	struct pb_history_change *ch = NULL;
	struct pb_history_in in;
	char (*line)[41] = NULL, head[41], (*pos_sha)[41] = NULL;
	size_t nline = 0, nalerts = 0, nch = 0, *pos = NULL, npos = 0;
	double threshold = 0.05;
	int rc, marked = 0;

	memset(&bench, 0, sizeof(bench));
	pthread_mutex_lock(s->lk);
	{
		struct pb_series_key skip[JUDGE_HELD];
		size_t nskip = 0;

		for (size_t i = 0; i < JUDGE_HELD; i++)
			if (s->held_until[i] > now_of(s))
				skip[nskip++] = s->held[i];
		rc = pb_db_series_unjudged(s->o.db, skip, nskip, &key);
	}
	if (rc == PB_OK)
		rc = pb_db_repo_by_id(s->o.db, key.repo_id, &repo);
	if (rc == PB_OK)
		rc = pb_db_bench_by_id(s->o.db, key.bench_id, &bench);
	if (rc == PB_OK)
		rc = pb_db_bench_alert_threshold(s->o.db, key.bench_id,
						 &threshold);
	pthread_mutex_unlock(s->lk);
	if (rc == PB_ENOTFOUND && !key.repo_id)
		return 0;
	if (rc < 0)
		goto out;
	/* the branch as the last merge or push fetched it */
	if ((rc = mirror(s, &repo, 0, &g)) < 0 ||
	    (rc = branch_line(s, g, &repo, &line, &nline, head)) < 0)
		goto out;
	/* the runs, and the merges they are of marked judged, under one
	 * lock: a merge measured after this is judged next round */
	pthread_mutex_lock(s->lk);
	rc = pb_db_series_runs(s->o.db, &key, keep_run, &runs);
	if (rc == PB_OK)
		rc = pb_db_alerts(s->o.db, &key, &alerts, &nalerts);
	if (rc == PB_OK)
		rc = pb_db_series_judged(s->o.db, &key);
	rc = unlock_synced(s, rc);
	if (rc < 0)
		goto out;
	marked = 1;
	for (size_t i = 0; i < runs.n; i++) {
		runs.v[i].sha = runs.sha[i];
		runs.v[i].machine = runs.machine[i];
	}
	if (!(known = calloc(nalerts + 1, sizeof(*known)))) {
		rc = pb_error_code(PB_EINFRA, "out of memory");
		goto out;
	}
	for (size_t a = 0; a < nalerts; a++) {
		size_t k = 0;

		known[a] = (struct pb_history_alert){
			alerts[a].good, alerts[a].bad,
			!alerts[a].bisection_id && !alerts[a].note[0] &&
				!strcmp(alerts[a].state, "open")
		};
		/* once its bisection named a culprit, an alert stands for
		 * that commit only: another change its first range hid (it
		 * was raised before later merges showed two) is a change of
		 * its own */
		while (alerts[a].culprit[0] && k < nline &&
		       strcmp(line[k], alerts[a].culprit))
			k++;
		if (alerts[a].culprit[0] && k > 0 && k < nline)
			known[a] = (struct pb_history_alert){ line[k - 1],
							      line[k], 0 };
	}
	in = (struct pb_history_in){
		(const char (*)[41])line, nline, runs.v, runs.n, known,
		nalerts, bench.lower_is_better, threshold,
		PB_CHANGES_OPTS_INIT
	};
	in.opts.lower_is_better = bench.lower_is_better;
	if ((rc = pb_history_changes(&in, &ch, &nch)) < 0)
		goto out;
	if ((rc = line_positions(&runs, line, nline, &pos_sha, &pos,
				 &npos)) < 0)
		goto out;
	pthread_mutex_lock(s->lk);
	if ((rc = pb_db_begin(s->o.db)) < 0)
		goto unlock;
	rc = pb_db_series_positions(s->o.db, &key,
				    (const char (*)[41])pos_sha, pos, npos);
	for (size_t c = 0; c < nch && rc == PB_OK; c++) {
		struct pb_alert_row a;
		int64_t id;

		memset(&a, 0, sizeof(a));
		a.repo_id = key.repo_id;
		a.bench_id = key.bench_id;
		a.config_id = key.config_id;
		pb_strlcpy(a.machine, ch[c].machine, sizeof(a.machine));
		pb_strlcpy(a.mode, ch[c].bimodal ? "bimodal" : "shift",
			   sizeof(a.mode));
		a.change = ch[c].change;
		a.p_value = ch[c].p_value;
		a.before = ch[c].before;
		a.after = ch[c].after;
		rc = pb_db_commit_id(s->o.db, key.repo_id, line[ch[c].good],
				     &a.good_id);
		if (rc == PB_OK)
			rc = pb_db_commit_id(s->o.db, key.repo_id,
					     line[ch[c].bad], &a.bad_id);
		if (rc == PB_OK && ch[c].refines != SIZE_MAX) {
			a.id = id = alerts[ch[c].refines].id;
			rc = pb_db_alert_narrow(s->o.db, &a);
			if (rc == PB_OK)
				pb_log_info("alert %lld narrowed: %.12s..%.12s "
					    "(%+.1f%%)", (long long)id,
					    line[ch[c].good], line[ch[c].bad],
					    100 * a.change);
			continue;
		}
		if (rc == PB_OK)
			rc = pb_db_alert_add(s->o.db, &a, &id);
		if (rc == PB_OK) /* told in the transaction that stores it */
			rc = pb_notify_alert_raised(s->o.db, id);
		if (rc == PB_OK)
			pb_log_info("alert %lld: %s %s %+.1f%% between %.12s "
				    "and %.12s on '%s' (%s, p %.2g)",
				    (long long)id, repo.name, bench.name,
				    100 * a.change, line[ch[c].good],
				    line[ch[c].bad], a.machine, a.mode,
				    a.p_value);
	}
	if (rc == PB_OK)
		rc = pb_db_commit(s->o.db);
	else
		pb_db_rollback(s->o.db);
unlock:
	rc = unlock_synced(s, rc);
out:
	if (rc < 0 && key.repo_id) {
		/* judged as far as it can be, not again and again; an
		 * infrastructure error is tried again at the next round */
		char why[512];

		pb_strlcpy(why, pb_error_last(), sizeof(why));
		pthread_mutex_lock(s->lk);
		if (rc != PB_EINFRA && !marked)
			(void)pb_db_series_judged(s->o.db, &key);
		else if (rc == PB_EINFRA && marked)
			(void)pb_db_series_rejudge_key(s->o.db, &key);
		if (rc == PB_EINFRA) {
			/* in the place of the one held the longest ago */
			size_t h = 0;

			for (size_t i = 1; i < JUDGE_HELD; i++)
				if (s->held_until[i] < s->held_until[h])
					h = i;
			s->held[h] = key;
			s->held_until[h] = now_of(s) + JUDGE_RETRY_S;
		}
		(void)unlock_synced(s, PB_OK);
		pb_log_warnx("judging the series of benchmark %lld: %s",
			     (long long)key.bench_id, why);
		rc = pb_error_code(rc, "%s", why);
	}
	pb_bench_row_release(&bench);
	series_runs_free(&runs);
	free(alerts);
	free(known);
	free(ch);
	free(line);
	free(pos_sha);
	free(pos);
	pb_git_free(g);
	return rc < 0 ? rc : 1;
}

/* Whether a merge of alert a's series that may still narrow it (not yet
 * measured, or not yet judged) has its commit inside the alert's range
 * (good, bad] on the tracked branch's line. */
static int alert_waits(struct pb_sched *s, const struct pb_alert_row *a,
		       int *waits)
{
	struct pb_repo_ref repo;
	struct pb_git *g = NULL;
	char (*shas)[41] = NULL, (*line)[41] = NULL, head[41];
	size_t n = 0, nline = 0, pg = SIZE_MAX, pb = SIZE_MAX;
	int rc;

	*waits = 0;
	pthread_mutex_lock(s->lk);
	rc = pb_db_alert_waiting(s->o.db, a->id, &shas, &n);
	if (rc == PB_OK && n)
		rc = pb_db_repo_by_id(s->o.db, a->repo_id, &repo);
	pthread_mutex_unlock(s->lk);
	if (rc < 0 || n == 0)
		goto out;
	if ((rc = mirror(s, &repo, 0, &g)) < 0 ||
	    (rc = branch_line(s, g, &repo, &line, &nline, head)) < 0)
		goto out;
	for (size_t k = 0; k < nline; k++) {
		if (!strcmp(line[k], a->good))
			pg = k;
		if (!strcmp(line[k], a->bad))
			pb = k;
	}
	for (size_t i = 0; i < n && !*waits && pg < nline && pb < nline; i++)
		for (size_t k = pg + 1; k <= pb && !*waits; k++)
			*waits = !strcmp(line[k], shas[i]);
out:
	free(shas);
	free(line);
	pb_git_free(g);
	return rc;
}

int pb_sched_auto(struct pb_sched *s)
{
	struct pb_alert_row *v = NULL;
	size_t n = 0;
	int rc;

	if (!s->o.auto_bisections)
		return PB_OK;
	pthread_mutex_lock(s->lk);
	rc = pb_db_alerts(s->o.db, NULL, &v, &n);
	pthread_mutex_unlock(s->lk);
	/* oldest first: the list is newest first */
	for (size_t k = n; rc == PB_OK && k-- > 0;) {
		struct pb_alert_row *a = &v[k];
		struct pb_sched_start q;
		char by[64], good[41], bad[41], note[300] = "";
		unsigned running = 0;
		int64_t id = 0;
		int src, waiting = 0;

		if (strcmp(a->state, "open") || a->bisection_id || a->note[0])
			continue;
		pthread_mutex_lock(s->lk);
		rc = pb_db_auto_bisections_running(s->o.db, a->repo_id,
						   &running);
		pthread_mutex_unlock(s->lk);
		if (rc < 0 || running >= s->o.auto_bisections)
			continue; /* waits for one to end */
		if ((rc = alert_waits(s, a, &waiting)) < 0 || waiting)
			continue; /* for merges that may narrow it */
		snprintf(by, sizeof(by), "alert %lld", (long long)a->id);
		memset(&q, 0, sizeof(q));
		q.repo = a->repo;
		q.benchmark = a->bench;
		q.good = a->good;
		q.bad = a->bad;
		q.by = by;
		q.alert_id = a->id;
		src = pb_sched_start(s, &q, &id, good, bad);
		if (src == PB_OK) {
			pb_log_info("alert %lld: bisection %lld started",
				    (long long)a->id, (long long)id);
			continue;
		}
		snprintf(note, sizeof(note), "no bisection: %s",
			 pb_error_last());
		pb_log_warnx("alert %lld: %s", (long long)a->id, note);
		if (src != PB_EINVAL && src != PB_ENOTFOUND)
			continue; /* the machine's fault (a fetch, the
				   * disk): tried again next round */
		/* the range is gone (a forced push), or its benchmark */
		pthread_mutex_lock(s->lk);
		rc = pb_db_alert_set_bisection(s->o.db, a->id, 0, note);
		rc = unlock_synced(s, rc);
	}
	free(v);
	return rc;
}
