/*
 * sched.h - the service's scheduler: bisections started over HTTP, their
 * runs handed to agents as jobs under leases, the records they post fed
 * back (docs/agent-protocol.md).  perfbisectd's handlers call it; it
 * holds one session (session.h) per running bisection and keeps all of
 * its state in sqlite, so a restarted orchestrator resumes every
 * bisection where it stopped.
 *
 * Thread-safe: every call takes the scheduler's lock (the handlers run on
 * libmicrohttpd's thread pool); the database connection is used under it
 * only.  Calls are short (no network I/O under the lock) except
 * pb_sched_start(), which fetches the repository before taking it.
 */
#ifndef PB_SCHED_H
#define PB_SCHED_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "orchestrator/db.h"

struct pb_sched;

struct pb_sched_opts {
	struct pb_db *db;           /* borrowed */
	const char *work_dir;       /* repository mirrors under mirrors/ */
	double lease_s;             /* a lease's life without a call: 120 */
	double restart_grace_s;     /* no lease expires before start + this
				     * (agents may still report): lease_s */
	unsigned max_expiries;      /* a job lost so often is an
				     * infrastructure failure: 3 */
	unsigned pair_runs;         /* runs of a verification job (ABBA):
				     * 4 */
	double busy_backoff_s;      /* most runs disturbed: the first wait
				     * before new runs, doubling to 32
				     * times it: 1 */
	unsigned merge_repeats;     /* runs per merge when the benchmark
				     * gives none: 5 */
	unsigned merge_backlog;     /* merges of a series waiting: 20 */
	double merge_home_wait_s;   /* a merge job waits this long for its
				     * series' home machine, then goes to
				     * any agent: 1800 */
	double home_alive_s;        /* a home not seen asking for work for
				     * this long, holding no lease, is gone:
				     * 2 * lease_s (the server adds its
				     * long poll's time) */
	unsigned auto_bisections;   /* per repository at once: 2 */
	unsigned history_commits;   /* the branch's line judged: 5000 */
	double (*now)(void);        /* epoch seconds; NULL: the real clock */
	/* The lock of the database connection when others use it too (the
	 * server's); NULL: the scheduler's own. */
	pthread_mutex_t *lock;
	/* New work may be ready: wake the agents' long polls. */
	void (*on_work)(void *ctx);
	void *ctx;
};

int pb_sched_new(struct pb_sched **out, const struct pb_sched_opts *o);
void pb_sched_free(struct pb_sched *s);

/* POST /api/v1/bisections */
struct pb_sched_start {
	const char *repo, *benchmark;  /* registered names */
	const char *good, *bad;        /* any revision of the repository */
	const char *by;                /* the client that asks */
	double confidence;             /* 0: 0.99 */
	unsigned max_runs;             /* 0: 500 */
	uint64_t seed;                 /* 0: 1 */
	double min_effect;             /* 0: 0.03 */
	int64_t alert_id;              /* the alert that starts it (0: none):
					* tied to it in the transaction that
					* stores it */
};
/* Starts one: PB_OK with its id and both ends' full shas; PB_ENOTFOUND
 * for an unknown repository or benchmark (message says which), PB_EINVAL
 * for a revision the repository does not have or a bad range (message
 * says why), PB_EINFRA when the repository cannot be fetched. */
int pb_sched_start(struct pb_sched *s, const struct pb_sched_start *req,
		   int64_t *id, char good[41], char bad[41]);

/* POST /api/v1/compare: a pull-request check, head against base on one
 * agent (checks.h, core/compare.h). */
struct pb_sched_compare_req {
	const char *repo, *benchmark;  /* registered names */
	const char *base, *head;       /* any revision of the repository */
	const char *by;                /* the client that asks */
	double min_effect;             /* 0: 0.03 */
};
/* Starts one, a row of bisections of kind "compare": PB_OK with its id
 * and both ends' full shas; errors as pb_sched_start()'s (the same names
 * and revisions checked the same way), PB_EINVAL also when base and head
 * are one commit. */
int pb_sched_compare(struct pb_sched *s, const struct pb_sched_compare_req *q,
		     int64_t *id, char base[41], char head[41]);

/* POST /api/v1/bisections/ID/cancel (a bisection or a compare): its open
 * jobs end at their agents' next call.  PB_ENOTFOUND. */
int pb_sched_cancel(struct pb_sched *s, int64_t id);

/* A job handed out. */
struct pb_sched_job {
	char lease[72];
	double expires_in_s;
	int64_t job_id, bisection_id;
	char kind[8];                  /* "runs" or "pair" */
	struct pb_repo_ref repo;
	struct pb_bench_row bench;     /* release with pb_sched_job_release */
	size_t nruns;
	struct pb_sched_job_run {
		unsigned index;
		char commit[41];
	} *runs;                       /* malloc'd: the runs still owed */
};
void pb_sched_job_release(struct pb_sched_job *j);

/* POST /api/v1/agents/lease: PB_OK with a job (a retried request_id gets
 * its lease again), PB_ENOTFOUND when there is no work now. */
int pb_sched_lease(struct pb_sched *s, const char *agent,
		   const char *request_id, const char *facts_json,
		   struct pb_sched_job *out);

/* The lease is no longer the agent's: PB_ECONFLICT (409) and why. */
#define PB_ECONFLICT (-20)
struct pb_sched_refusal {
	char state[16];                /* expired, cancelled, done, unknown */
	char why[256];
};

/* POST /api/v1/leases/L/heartbeat: extended by lease_s, or to cover a run
 * of run_s (> 0) starting now.  *cont 0 when the job should stop. */
int pb_sched_heartbeat(struct pb_sched *s, const char *agent,
		       const char *lease, double run_s, double *expires_in_s,
		       int *cont, struct pb_sched_refusal *why);

/* POST /api/v1/runs: one record (row filled from the body, run_id,
 * machine, lease and index set here; body is the raw request, hashed to
 * tell an identical repeat from a conflicting one).  PB_OK (*repeat set
 * for an identical repeat; *job_done when the record was the last the job
 * owed: the lease and job ended with it, as `done` ends them, in its
 * transaction), PB_ECONFLICT for a conflicting repeat (kept for audit) or
 * a lease that is no longer the agent's (the record kept as an orphan
 * when the lease was the agent's), PB_EINVAL for an index or commit not
 * of the job. */
int pb_sched_post_run(struct pb_sched *s, const char *agent,
		      const char *lease, unsigned index, const char *commit,
		      struct pb_run_row *row, const struct pb_image_row *images,
		      size_t nimages, const char *body, size_t len,
		      int *repeat, int *cont, int *job_done,
		      struct pb_sched_refusal *why);

/* POST /api/v1/leases/L/build-failed: the commit is skipped by its
 * bisection; the job ends. */
int pb_sched_build_failed(struct pb_sched *s, const char *agent,
			  const char *lease, const char *commit,
			  const char *reason, const char *log,
			  struct pb_sched_refusal *why);

/* POST /api/v1/leases/L/done.  PB_OK too on a lease that ended already
 * as done (by its job's last record, or a done whose answer was lost). */
int pb_sched_done(struct pb_sched *s, const char *agent, const char *lease,
		  struct pb_sched_refusal *why);

/* Expires leases past their time (not before the restart grace): their
 * jobs go back to the queue, or fail their bisection after max_expiries.
 * Call it every second or so. */
int pb_sched_reap(struct pb_sched *s);

/* Runs `fn` with the database under the scheduler's lock (reads for the
 * client API: GET /api/v1/bisections...). */
int pb_sched_with_db(struct pb_sched *s, int (*fn)(struct pb_db *, void *),
		     void *ctx);

/* ---- merges and history (docs/merges.md) ---- */

/* POST /api/v1/merges, and the push webhooks' pushes once taken. */
struct pb_sched_merge_req {
	const char *repo;              /* registered name */
	const char *rev;               /* any revision; the merged commit */
	const char *source;            /* "api", "github" or "gitlab" */
};
struct pb_sched_merge_res {
	char commit[41];               /* rev, resolved */
	unsigned benchmarks;           /* of the repository */
	unsigned jobs;                 /* merges new to the queue */
	unsigned skipped;              /* older waiting merges skipped */
};
/* Fetches the repository, checks that the commit is on its tracked
 * branch's first-parent line and queues one merge job per benchmark
 * (idempotent on repository, commit, benchmark, configuration).
 * PB_ENOTFOUND unknown repository; PB_EINVAL unknown revision or a commit
 * off the branch (message says which); PB_EINFRA fetch failed. */
int pb_sched_merge(struct pb_sched *s, const struct pb_sched_merge_req *q,
		   struct pb_sched_merge_res *out);

/* A verified push to the tracked branch of repository repo_id, stored to
 * be scheduled by pb_sched_pushes() (a hook answers at once, never
 * waiting on a fetch); *id 0 when its delivery was seen before. */
int pb_sched_push(struct pb_sched *s, int64_t repo_id, const char *source,
		  const char *delivery, const char *head, int forced,
		  int64_t *id);

/* Schedules one stored push that is due, as pb_sched_merge() does: 1 when
 * one was taken, 0 when none is due, or an error.  A head off the line is
 * stored as ignored; a failed fetch is tried again after a back-off, and
 * after PB_SCHED_PUSH_ATTEMPTS the push is failed (its note says why). */
#define PB_SCHED_PUSH_ATTEMPTS 6
int pb_sched_pushes(struct pb_sched *s);

/* Lists the files one culprit of a finished bisection changed, for the
 * report (from the repository's mirror, never fetched for it): 1 when one
 * was listed, 0 when none waits, or an error. */
int pb_sched_culprit_files(struct pb_sched *s);

/* Judges one series with merges measured since it was last judged,
 * storing the alerts it raises: 1 when one was judged, 0 when none waits,
 * or an error. */
int pb_sched_judge(struct pb_sched *s);

/* Starts the bisections of open alerts that have none, while the
 * repository's automatic bisections running stay under the limit. */
int pb_sched_auto(struct pb_sched *s);

#endif
