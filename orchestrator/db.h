/*
 * db.h - all of perfbisect's storage; db.c is the only file that speaks SQL.
 *
 * One sqlite file in WAL mode with a busy timeout.  The schema is the list
 * of schema/NNNN-name.sql files compiled into the program and applied in
 * order inside one transaction each, recorded in PRAGMA user_version (the
 * number of the last one applied; numbers increase and may skip), so an
 * older database is upgraded in place and a newer one is refused.  Every
 * statement is prepared with bound parameters.
 *
 * Errors: PB_EINFRA when the file cannot be opened, read or written (the
 * CLI's exit 3), PB_ENOTFOUND for a missing row, PB_ERROR otherwise.
 */
#ifndef PB_DB_H
#define PB_DB_H

#include <stddef.h>
#include <stdint.h>

#include "common/embed.h"
#include "common/git.h"
#include "common/model.h"
#include "common/proto.h"
#include "orchestrator/principal.h"

struct pb_db;

/* The compiled-in schema (generated from schema/). */
extern const struct pb_embedded pb_schema[];
extern const size_t pb_schema_count;

/* Opens (creating if needed) and migrates to the compiled-in schema, with
 * the command line's settings (PB_DB_OPTS_CLI). */
int pb_db_open(struct pb_db **out, const char *path);

/* How a read-write connection is set up.  Every connection is in WAL mode
 * with foreign keys on.  The command line keeps synchronous=NORMAL and a
 * 10 s busy timeout.  The service (perfbisectd) needs every commit on disk
 * before it answers, because a 2xx lets an agent forget what it posted
 * (docs: service-practice.md section 2): it takes group sync (below), a 5 s
 * busy timeout and a 64 MiB journal_size_limit.
 *
 * Group sync: the connection runs with synchronous=NORMAL (sqlite syncs the
 * WAL only around checkpoints, which keeps the database consistent) and the
 * caller makes its commits durable with pb_db_sync() after it has let go
 * of the connection, before it answers: one fdatasync() of the WAL covers
 * every commit marked while the previous one ran, instead of one fsync per
 * commit with the connection held (synchronous=FULL). */
struct pb_db_opts {
	int synchronous_full;        /* 1: FULL, 0: NORMAL (no group sync) */
	int busy_timeout_ms;
	int64_t journal_size_limit;  /* bytes kept of the WAL after a
					checkpoint; < 0: no limit */
	int group_sync;              /* 1: group sync, as above */
};
#define PB_DB_OPTS_CLI { 0, 10000, -1, 0 }
#define PB_DB_OPTS_SERVICE { 1, 5000, (int64_t)64 << 20, 1 }

/* Opens (creating if needed) and migrates to the compiled-in schema with
 * the given settings. */
int pb_db_open_opts(struct pb_db **out, const char *path,
		    const struct pb_db_opts *o);

/* The connection's settings as sqlite reports them (for tests and the
 * daemon's start-up line). */
struct pb_db_settings {
	char journal_mode[16];       /* "wal" */
	int synchronous;             /* 1 NORMAL, 2 FULL */
	int foreign_keys;
	int busy_timeout_ms;
	int64_t journal_size_limit;  /* -1: none */
	int group_sync;              /* pb_db_sync() makes commits durable */
};
int pb_db_settings(struct pb_db *db, struct pb_db_settings *out);

/* Group sync (pb_db_opts.group_sync).  pb_db_sync_mark(), called with the
 * connection still held after the caller's last write, names everything
 * written so far; pb_db_sync(), called after letting go of the connection
 * (any thread, concurrently with others' use of it), returns once all of
 * that is on disk - at once when a sync that began later already did it.
 * PB_EINFRA when an fdatasync() fails: then every later sync fails too
 * (what the kernel dropped is not known), until a restart; when the WAL
 * cannot be opened, this sync only.  The WAL's directory is synced with
 * the file each time the file is (re)opened.  Without
 * group sync the mark is 0 and pb_db_sync() returns PB_OK: each commit
 * was synced by sqlite.  pb_db_close() syncs what the connection wrote. */
uint64_t pb_db_sync_mark(struct pb_db *db);
int pb_db_sync(struct pb_db *db, uint64_t mark);
/* sqlite's PRAGMA data_version: it changes when another connection
 * committed (the report's regeneration polls it). */
int pb_db_data_version(struct pb_db *db, int64_t *out);
/* A short text that changes when anything the report draws changed -
 * runs, builds, bisections, alerts, merges on the line, culprits' files,
 * agents' facts - but not when an agent was merely seen (its polls write
 * last_seen, which moves data_version every few seconds). */
int pb_db_site_fingerprint(struct pb_db *db, char *out, size_t size);
/* The work this connection's statements have done: sqlite's virtual
 * machine steps, summed over every statement given back so far.  It grows
 * with the rows a statement visits, so a query whose plan scans a whole
 * table where an index should answer shows at once, in a test or a
 * profile, with no clock involved. */
uint64_t pb_db_work(const struct pb_db *db);
/* Opens an existing database read-only, as the report generator does. */
int pb_db_open_readonly(struct pb_db **out, const char *path);
/* Opens and migrates with the given migrations, named "NNNN-name.sql" and
 * given in order (tests use their own lists). */
int pb_db_open_with(struct pb_db **out, const char *path,
		    const struct pb_embedded *migrations, size_t n);
void pb_db_close(struct pb_db *db);

int pb_db_user_version(struct pb_db *db, int *out);
/* The compiled-in schema's version: the number of its last migration
 * (numbers increase, and may skip). */
int pb_db_schema_version(void);

/* Write transactions (BEGIN IMMEDIATE).  They nest: a begin inside a
 * begun transaction joins it, and only the outermost commit commits; a
 * rollback anywhere rolls the whole transaction back. */
int pb_db_begin(struct pb_db *db);
int pb_db_commit(struct pb_db *db);
void pb_db_rollback(struct pb_db *db);

/* A positive answer: the row was stored already, nothing changed. */
#define PB_DB_REPEAT 1

int pb_db_repo_ensure(struct pb_db *db, const char *name, const char *url,
		      int64_t *out);
int pb_db_commit_ensure(struct pb_db *db, int64_t repo_id,
			const struct pb_commit_info *ci, int64_t *out);

struct pb_benchmark_def {
	const char *name;
	const char *build_cmd;
	const char *run_cmd;
	const char *metric;
	int lower_is_better;
	double timeout_s;
	double build_timeout_s;
};

/* Finds the benchmark by (repo, name) or adds it; a known name gets the
 * given commands and limits. */
int pb_db_benchmark_ensure(struct pb_db *db, int64_t repo_id,
			   const struct pb_benchmark_def *def, int64_t *out);
int pb_db_config_ensure(struct pb_db *db, const char *name,
			const char *settings_json, int64_t *out);

struct pb_build_row {
	int ok;
	char reason[256];
	double created_at;  /* when it was built, epoch seconds */
};

int pb_db_build_get(struct pb_db *db, int64_t commit_id, int64_t bench_id,
		    const char *machine, struct pb_build_row *out);
int pb_db_build_put(struct pb_db *db, int64_t commit_id, int64_t bench_id,
		    const char *machine, int ok, const char *reason,
		    const char *log, double wall_s);

struct pb_bisection_def {
	int64_t repo_id, bench_id, config_id; /* config_id 0: none */
	const char *good_sha, *bad_sha;
	double confidence;
	uint64_t seed;
	unsigned max_runs;
	double min_effect;            /* part of what makes it the same */
};

/* What pb_db_bisection_find() found of a stored bisection. */
struct pb_bisection_found {
	int64_t id;
	char state[12];               /* running, done, failed */
	int exit_code;                /* -1: none yet */
	unsigned max_runs, runs;
	int has_culprit, has_range;   /* culprit_sha, culprit_range stored */
	char mode[12];                /* "" : none */
	double created_at;
	char verdict[16];             /* "": none stored (see schema 0004) */
};

/* The newest bisection of the same repository, benchmark, configuration,
 * ends, asked confidence and seed - whatever its state and budget (the
 * --local driver resumes it, prints its verdict or starts anew) - or
 * PB_ENOTFOUND. */
int pb_db_bisection_find(struct pb_db *db, const struct pb_bisection_def *def,
			 struct pb_bisection_found *out);
/* Makes a finished bisection 'running' again with the budget max_runs
 * (more runs after its budget was spent; its runs are kept). */
int pb_db_bisection_reopen(struct pb_db *db, int64_t id, unsigned max_runs);
int pb_db_bisection_create(struct pb_db *db, const struct pb_bisection_def *def,
			   int64_t *out);

struct pb_run_row {
	const char *run_id;
	int64_t bisection_id; /* 0: none */
	int64_t seq;
	int64_t commit_id, bench_id, config_id;
	const char *machine;
	int ok;
	const char *failure_reason;
	int exited, exit_code, signal, timed_out;
	double wall_s;
	double value;          /* when ok */
	const char *metrics_json;
	const char *notes;
	const char *counters_json, *numa_json, *machine_json; /* may be NULL */
	const char *settings_json;                             /* may be NULL */
	int start_cpu, start_node;  /* -1: unknown */
	double ipc, remote_access;  /* NAN: not counted ... */
	const char *ipc_note, *remote_note; /* ... and why (NULL: not measured) */
	const char *run_as;
	const char *output;    /* may be NULL */
	double started_at, finished_at;
	double cpu_s, busy_share;   /* NAN: not measured */
	int disturbed;              /* other work held the machine: stored,
				       shown, never evidence */
	const char *interference_json; /* may be NULL */
	/* taken for a job (schema 0010): its lease and index, else NULL */
	const char *lease_id;
	int run_index;
	int orphan;                 /* on a lease that was no longer the
				       agent's: stored, never counted */
	const char *body_hash;      /* of the posted record, may be NULL */
};

/* Stores a run record: PB_OK; a record whose run_id is already stored is
 * counted once: PB_DB_REPEAT, and nothing changes. */
int pb_db_run_insert(struct pb_db *db, const struct pb_run_row *run);

/* Calls cb for each counted run of the bisection (orphans left out) in
 * order of seq; stops early when cb returns non-zero (and returns that). */
typedef int (*pb_db_run_cb)(void *ctx, int64_t seq, int64_t commit_id,
			    const char *machine, int ok, int disturbed,
			    double value);
int pb_db_bisection_replay(struct pb_db *db, int64_t bisection_id,
			   pb_db_run_cb cb, void *ctx);
/* The runs of the bisection's last verification: pair j is the runs of
 * sequence numbers seqs[2j] and seqs[2j + 1] (runs.verify_pair, schema
 * 0016); every other run of the bisection is marked as none. */
int pb_db_verify_pairs_set(struct pb_db *db, int64_t bisection_id,
			   const int64_t *seqs, size_t npairs);

/* The counters of run `seq` of the bisection: IPC and remote accesses,
 * NAN with the machine's reason in the note (or "" when it gave none).
 * PB_ENOTFOUND when there is no such run. */
struct pb_run_counts {
	double ipc, remote_access;
	char ipc_note[256], remote_note[256];
};
int pb_db_run_counts(struct pb_db *db, int64_t bisection_id, int64_t seq,
		     struct pb_run_counts *out);
/* 1 + the highest seq of its runs (1 for none). */
int pb_db_bisection_next_seq(struct pb_db *db, int64_t bisection_id,
			     int64_t *out);

/* Distinct start nodes counted per tested commit. */
#define PB_MAX_START_NODES 64

struct pb_step_row {
	int64_t commit_id;
	const char *verdict;
	unsigned runs, failed_runs;
	double median, slow_fraction; /* NAN: NULL */
	int slow, fast;               /* -1: NULL */
	double p_bad;                 /* NAN: NULL */
	unsigned disturbed;           /* runs not counted */
	int64_t identical_to;         /* the parent whose code it shares
					 (schema 0006); 0: NULL */
	/* What pb_db_bisection_save() may leave as stored (a step is
	 * updated, not rewritten): */
	int unchanged;                /* the row is as last saved */
	int same_runs;                /* no run of its commit came since
					 the last save: its run measurements
					 (IPC, nodes, interference) stand */
};

struct pb_bisection_end {
	const char *state;            /* running, done, failed */
	const char *mode;             /* NULL: unknown */
	const char *culprit_sha, *range_first_sha, *range_last_sha; /* or NULL */
	double confidence;            /* NAN: NULL */
	unsigned runs, builds;
	const char *outcome;
	const char *verdict;          /* DESIGN.md's word, NULL: none */
	int exit_code;                /* < 0: NULL (still running) */
	int finished;
	const struct pb_stats_view *stats; /* NULL: all NULL */
	const struct pb_verification_view *verification; /* NULL: none */
};

/* Updates the bisection's summary and steps (step k is row k + 1; rows
 * marked unchanged are left as stored), in one transaction, or in the
 * caller's (pb_db_begin() nests). */
int pb_db_bisection_save(struct pb_db *db, int64_t id,
			 const struct pb_bisection_end *end,
			 const struct pb_step_row *steps, size_t nsteps);

/* Loads a bisection with its steps and their commits' facts; free with
 * pb_bisection_view_free(). */
int pb_db_bisection_load(struct pb_db *db, int64_t id,
			 struct pb_bisection_view **out);
/* All bisection ids, newest first, compares left out (the report's
 * pages are bisections'); *out is malloc'd. */
int pb_db_bisection_ids(struct pb_db *db, int64_t **out, size_t *n);

/* What one build's runs mapped from its work tree (schema 0006). */
enum pb_image_kind {
	PB_IMAGE_ELF = 0,     /* digest holds its loadable contents' digest */
	PB_IMAGE_OTHER,       /* not ELF: outside the claim */
	PB_IMAGE_ERROR,       /* unreadable or malformed: no claim; note says
				 why */
};

struct pb_image_row {
	char *path;               /* relative to the work tree; "/" for the
				     set itself (too many files) */
	enum pb_image_kind kind;
	char *digest;             /* PB_IMAGE_ELF only, else NULL */
	char *note;               /* why, for the others; may be NULL */
};

/* The rows of a build, sorted by path (byte order, as strcmp); *out is
 * malloc'd (NULL when there are none): free with pb_image_rows_free(). */
int pb_db_images_load(struct pb_db *db, int64_t commit_id, int64_t bench_id,
		      const char *machine, struct pb_image_row **out,
		      size_t *n);
void pb_image_rows_free(struct pb_image_row *rows, size_t n);
/* The machines that stored rows for benchmark bench_id: fn per name. */
int pb_db_images_machines(struct pb_db *db, int64_t bench_id,
			  int (*fn)(void *ctx, const char *machine),
			  void *ctx);
/* Stores one row (replacing the build's row of that path). */
int pb_db_image_put(struct pb_db *db, int64_t commit_id, int64_t bench_id,
		    const char *machine, const struct pb_image_row *row);
/* Forgets every row of a build (it is being built again). */
int pb_db_images_forget(struct pb_db *db, int64_t commit_id,
			int64_t bench_id, const char *machine);

/* Counts stored runs of a bisection by status (for tests and reports). */
int pb_db_run_count(struct pb_db *db, int64_t bisection_id, unsigned *ok,
		    unsigned *failed);

/* ---- the service: repositories and benchmarks by name, jobs, leases
 * (schema 0010; docs/agent-protocol.md) ---- */

struct pb_repo_ref {
	int64_t id;
	char name[256];
	char url[1024];
	char branch[256];       /* "" : none */
};
int pb_db_repo_by_name(struct pb_db *db, const char *name,
		       struct pb_repo_ref *out);
int pb_db_repo_by_id(struct pb_db *db, int64_t id, struct pb_repo_ref *out);

struct pb_bench_row {
	int64_t id, repo_id;
	char name[256];
	char *build_cmd, *run_cmd, *metric;  /* malloc'd: pb_bench_row_release */
	int lower_is_better;
	double timeout_s, build_timeout_s;
};
int pb_db_bench_by_name(struct pb_db *db, int64_t repo_id, const char *name,
			struct pb_bench_row *out);
int pb_db_bench_by_id(struct pb_db *db, int64_t id, struct pb_bench_row *out);
void pb_bench_row_release(struct pb_bench_row *b);

/* A bisection's commits, oldest first (bisection_commits). */
int pb_db_bisection_commits_put(struct pb_db *db, int64_t bisection_id,
				const int64_t *commit_ids, size_t n);
/* *ids malloc'd; PB_ENOTFOUND when none are stored. */
int pb_db_bisection_commits_get(struct pb_db *db, int64_t bisection_id,
				int64_t **ids, size_t *n);
/* The commits' shas, subjects and authors, in the order of ids (the list
 * is the caller's to free with pb_commit_list_free()). */
int pb_db_commit_infos(struct pb_db *db, const int64_t *ids, size_t n,
		       struct pb_commit_info **out);

/* What a started bisection needs to run again. */
struct pb_bisection_row {
	int64_t id, repo_id, bench_id;
	char state[12];
	double confidence;
	uint64_t seed;
	unsigned max_runs;
	double min_effect;
	int cancelled;
	char kind[8];                 /* "bisect" or "compare" (schema 0013) */
	char machine[128];            /* a compare's agent, "" none yet */
	int64_t machine_from;         /* a compare counts runs above this seq */
	unsigned takeovers;           /* a compare's agent lost it so often */
};
int pb_db_bisection_row(struct pb_db *db, int64_t id,
			struct pb_bisection_row *out);
/* Ids of bisections in state 'running', oldest first (*out malloc'd). */
int pb_db_bisections_running(struct pb_db *db, int64_t **out, size_t *n);
int pb_db_bisection_started_by(struct pb_db *db, int64_t id, const char *who);
/* Asks it to stop: cancelled_at set, its queued and leased jobs and their
 * leases cancelled.  PB_ENOTFOUND for no such bisection. */
int pb_db_bisection_cancel(struct pb_db *db, int64_t id);
/* Ends it as failed for the infrastructure (state 'failed', exit 3),
 * with the reason; its open jobs cancelled. */
int pb_db_bisection_infra_fail(struct pb_db *db, int64_t id,
			       const char *why);
/* Its open jobs (queued, leased) and their leases cancelled. */
int pb_db_bisection_jobs_end(struct pb_db *db, int64_t id);

/* A job: kind "runs" or "pair", its runs' commits in order. */
int pb_db_job_create(struct pb_db *db, int64_t bisection_id, const char *kind,
		     const int64_t *commit_ids, size_t n, int64_t *out);
struct pb_job_row {
	int64_t id, bisection_id;   /* a bisection's job, or */
	int64_t merge_id;           /* a merge's (the other is 0) */
	char kind[8];
	char state[16];
	unsigned expiries;
	size_t nruns;
	int64_t *commit_ids;    /* malloc'd, nruns of them */
	unsigned char *posted;  /* per run: a counted record is stored */
};
int pb_db_job_get(struct pb_db *db, int64_t id, struct pb_job_row *out);
void pb_job_row_release(struct pb_job_row *j);
/* Claims a queued job of a bisection or compare that `agent` never lost
 * (one lost by another agent), oldest first, in one UPDATE ... RETURNING.
 * PB_ENOTFOUND when there is none. */
int pb_db_job_claim(struct pb_db *db, const char *agent, int64_t *job_id);
/* Where a merge job may go (schema 0017): its series' home is living
 * while seen asking for work at or after seen_since, or holding a lease
 * that runs out after now; a job created at or before waited_before may
 * go to any agent. */
struct pb_home_rule {
	double now, seen_since, waited_before;
};
/* Claims the newest queued merge job `agent` never lost whose series has
 * no other living home (or whose home lost the job, or that waited past
 * r->waited_before), and makes the agent the series' home when it had
 * none or its home is gone.  PB_ENOTFOUND when there is none. */
int pb_db_merge_job_claim(struct pb_db *db, const char *agent,
			  const struct pb_home_rule *r, int64_t *job_id);
int pb_db_job_set_state(struct pb_db *db, int64_t id, const char *state);

/* Runs still owed to a bisection by its queued and leased jobs: cb(ctx,
 * commit_id, machine or NULL when not leased) for each. */
int pb_db_pending_runs(struct pb_db *db, int64_t bisection_id,
		       void (*cb)(void *ctx, int64_t commit_id,
				  const char *agent),
		       void *ctx);

struct pb_lease_row {
	char id[72];
	int64_t job_id;
	char agent[128];
	char state[12];
	double expires_at;
};
int pb_db_lease_create(struct pb_db *db, const char *id, int64_t job_id,
		       const char *agent, const char *request_id,
		       double expires_at);
int pb_db_lease_get(struct pb_db *db, const char *id,
		    struct pb_lease_row *out);
/* The lease an earlier try of the same request got. */
int pb_db_lease_by_request(struct pb_db *db, const char *agent,
			   const char *request_id, struct pb_lease_row *out);
int pb_db_lease_extend(struct pb_db *db, const char *id, double expires_at);
int pb_db_lease_set_state(struct pb_db *db, const char *id, const char *state);
/* Active leases whose time ran out before `now` (*out malloc'd). */
int pb_db_leases_expired(struct pb_db *db, double now,
			 struct pb_lease_row **out, size_t *n);
/* A job whose lease expired: back to the queue, never to `agent`, or
 * infra_failed after max_expiries; *failed says which. */
int pb_db_job_lost(struct pb_db *db, int64_t job_id, const char *agent,
		   unsigned max_expiries, int *failed);

/* The body hash of a stored run, "" when it has none; PB_ENOTFOUND. */
int pb_db_run_body_hash(struct pb_db *db, const char *run_id, char out[72]);
int pb_db_run_conflict(struct pb_db *db, const char *run_id,
		       const char *agent, const char *body);

/* Agent `name` asked for work at `now` (the scheduler's clock: the series
 * homes' liveness is judged on it), with its facts (NULL: keep them). */
int pb_db_agent_seen(struct pb_db *db, const char *name,
		     const char *facts_json, double now);

/*
 * The service (schema 0009): principals and their tokens, repositories and
 * benchmarks registered through the API.  Each of these functions that
 * writes runs in a transaction of its own: call it outside one.
 */

#define PB_TOKEN_HASH_LEN 32       /* SHA-256 */

struct pb_principal_row {
	int64_t id;
	char name[PB_PRINCIPAL_NAME_MAX + 1];
	enum pb_principal_kind kind;
	int admin;                 /* clients only */
	unsigned char token_hash[PB_TOKEN_HASH_LEN];
	double created_at;
	int revoked;               /* revoked_at is set */
	double revoked_at;         /* NAN when not revoked */
};

/* Adds a principal with the digest of its new token.  A name that is
 * taken by a principal with a live token is PB_EEXIST, and so is one
 * revoked of the other kind; a revoked one of the same kind gets the new
 * token (and admin flag) and is live again.  *out: its id. */
int pb_db_principal_add(struct pb_db *db, const char *name,
			enum pb_principal_kind kind, int admin,
			const unsigned char hash[PB_TOKEN_HASH_LEN],
			int64_t *out);

/* The principal whose token has this digest, revoked or not (the caller
 * compares the digests in constant time and looks at `revoked`), or
 * PB_ENOTFOUND. */
int pb_db_principal_by_hash(struct pb_db *db,
			    const unsigned char hash[PB_TOKEN_HASH_LEN],
			    struct pb_principal_row *out);

/* Revokes the principal's token.  PB_ENOTFOUND when no principal has that
 * name; *was_revoked (may be NULL) is set to 1 when it was revoked
 * already (then nothing changes). */
int pb_db_principal_revoke(struct pb_db *db, const char *name,
			   int *was_revoked);

/* Calls cb for every principal, by name; stops early when cb returns
 * non-zero (and returns that). */
typedef int (*pb_db_principal_cb)(void *ctx,
				  const struct pb_principal_row *row);
int pb_db_principals_each(struct pb_db *db, pb_db_principal_cb cb,
			  void *ctx);

/* A repository as POST /api/v1/repos registers it. */
struct pb_repo_def {
	const char *name;
	const char *url;
	const char *branch;
	const char *webhook_secret;  /* NULL: none */
	const char *notify_url;      /* NULL: none */
};

/* Registers a repository, or replaces the definition of the one of that
 * name (optional fields not given become NULL).  *out its id; *created
 * (may be NULL) 1 when it is new. */
int pb_db_repo_register(struct pb_db *db, const struct pb_repo_def *def,
			int64_t *out, int *created);

/* A stored repository; strings are malloc'd (NULL where the column is
 * NULL): free them with pb_repo_row_release(). */
struct pb_repo_row {
	int64_t id;
	char *name, *url, *branch, *webhook_secret, *notify_url;
	double created_at;
};

/* The repository of that name, or PB_ENOTFOUND. */
int pb_db_repo_get(struct pb_db *db, const char *name,
		   struct pb_repo_row *out);
void pb_repo_row_release(struct pb_repo_row *row);

/* A benchmark as POST /api/v1/benchmarks registers it. */
struct pb_benchmark_reg {
	struct pb_benchmark_def def;
	unsigned repeats;            /* runs per commit of the merge matrix */
	double alert_threshold;      /* the smallest slowdown that raises an
					alert, a fraction in (0, 1) */
};

/* Registers a benchmark of the repository, or replaces the definition of
 * the one of that name there.  *out its id; *created (may be NULL) 1 when
 * it is new. */
int pb_db_benchmark_register(struct pb_db *db, int64_t repo_id,
			     const struct pb_benchmark_reg *reg, int64_t *out,
			     int *created);

/* The id of the repository's benchmark of that name, or PB_ENOTFOUND. */
int pb_db_benchmark_find(struct pb_db *db, int64_t repo_id, const char *name,
			 int64_t *out);

/* ---- notifications: the outbox (schema 0014; orchestrator/notify.h,
 * docs/notifications.md) ---- */

/* The repository of that id with its secret and notify_url, as
 * pb_db_repo_get() reads it by name; PB_ENOTFOUND. */
int pb_db_repo_get_by_id(struct pb_db *db, int64_t id,
			 struct pb_repo_row *out);

/* A message to add: every string is copied. */
struct pb_outbox_new {
	const char *delivery;        /* unique id, in the body too */
	int64_t repo_id;
	const char *url;
	const char *event;
	const char *body;            /* the exact bytes to send */
	size_t body_len;
	double created_at, next_attempt_at;
};
/* Adds a pending message (in the caller's transaction, if any); *out (may
 * be NULL) its id. */
int pb_db_outbox_add(struct pb_db *db, const struct pb_outbox_new *m,
		     int64_t *out);

/* A stored message; strings and body malloc'd: pb_outbox_row_release(). */
struct pb_outbox_row {
	int64_t id, repo_id;
	char *delivery, *url, *event, *state, *last_error;
	char *body;                  /* NUL-terminated after body_len bytes */
	size_t body_len;
	unsigned attempts;
	int last_status;             /* -1: none */
	double next_attempt_at;      /* NAN: none (not pending) */
	double created_at;
};
void pb_outbox_row_release(struct pb_outbox_row *m);

/* The pending message due first whose time is at most `now` (ties by id),
 * or PB_ENOTFOUND. */
int pb_db_outbox_due(struct pb_db *db, double now, struct pb_outbox_row *out);
/* The message of that id, whatever its state; PB_ENOTFOUND. */
int pb_db_outbox_get(struct pb_db *db, int64_t id, struct pb_outbox_row *out);

/* What one attempt to deliver message `id` gave: attempts + 1, its status
 * (< 0: no answer) and error (NULL: none) kept; then delivered (at
 * `now`), given up (failed, at `now`), or pending again until
 * next_attempt_at. */
enum pb_outbox_outcome {
	PB_OUTBOX_DELIVERED,
	PB_OUTBOX_RETRY,
	PB_OUTBOX_GAVE_UP,
};
int pb_db_outbox_attempted(struct pb_db *db, int64_t id,
			   enum pb_outbox_outcome outcome, int status,
			   const char *error, double now,
			   double next_attempt_at);

/* The newest bisections first, at most `max` (*out malloc'd): what GET
 * /api/v1/bisections lists. */
int pb_db_bisection_list(struct pb_db *db, size_t max,
			 struct pb_bisection_item **out, size_t *n);

/* ---- merges, history and alerts (schema 0012; docs/merges.md) ---- */

/* A benchmark of the merge matrix: its id and runs per merge (0: not
 * given, the caller's default). */
struct pb_merge_bench {
	int64_t id;
	unsigned repeats;
};
/* The repository's benchmarks (*out malloc'd). */
int pb_db_merge_benches(struct pb_db *db, int64_t repo_id,
			struct pb_merge_bench **out, size_t *n);

/* A merge of (repository, commit, benchmark, default configuration) and
 * its job of nruns runs of the commit, queued, in one transaction.  When
 * that merge is stored already nothing changes and *merge_id = *job_id =
 * 0. */
int pb_db_merge_add(struct pb_db *db, int64_t repo_id, int64_t commit_id,
		    int64_t bench_id, const char *source, unsigned nruns,
		    int64_t *merge_id, int64_t *job_id);
/* Of the series' merges whose jobs still wait, all but the `keep` newest
 * (by arrival) are skipped and their jobs cancelled; *n how many. */
int pb_db_merges_supersede(struct pb_db *db, int64_t repo_id,
			   int64_t bench_id, unsigned keep, unsigned *n);

struct pb_merge_row {
	int64_t id, repo_id, commit_id, bench_id, config_id;
	char state[16];
	char sha[41];
};
int pb_db_merge_get(struct pb_db *db, int64_t id, struct pb_merge_row *out);
/* 'measured' also stamps measured_at. */
int pb_db_merge_set_state(struct pb_db *db, int64_t id, const char *state);

/* Merge id's runs: *want those of its first job, *clean how many of its
 * runs were taken with the machine to themselves (not disturbed, not
 * orphans: failed runs count, they are the benchmark's), *rounds how many
 * times it was queued again for the others. */
int pb_db_merge_tally(struct pb_db *db, int64_t id, unsigned *want,
		      unsigned *clean, unsigned *rounds);
/* Merge id owes nruns runs again: a job of them, claimable from
 * not_before, and one more busy round, in the caller's transaction. */
int pb_db_merge_again(struct pb_db *db, int64_t id, unsigned nruns,
		      double not_before, int64_t *job_id);
/* Merge id failed, note saying why (its build, the machine too busy). */
int pb_db_merge_fail(struct pb_db *db, int64_t id, const char *note);

/* A series: (repository, benchmark, configuration). */
struct pb_series_key {
	int64_t repo_id, bench_id, config_id;
};
/* The series' merges of commits shas[0..n) are at line positions pos[]
 * on the tracked branch (merges.line_pos, for the report); every other
 * merge of the series is off the line (NULL). */
int pb_db_series_positions(struct pb_db *db, const struct pb_series_key *k,
			   const char (*shas)[41], const size_t *pos,
			   size_t n);
/* The series with merges measured (or failed) since it was last judged
 * the longest, but those of skip[0..nskip): PB_OK, or PB_ENOTFOUND when
 * there is none. */
int pb_db_series_unjudged(struct pb_db *db, const struct pb_series_key *skip,
			  size_t nskip, struct pb_series_key *out);
/* Its merges measured (or failed) by now are judged: call it under the
 * lock that reads the series' runs. */
int pb_db_series_judged(struct pb_db *db, const struct pb_series_key *k);
/* Its newest measured merge is not judged: the series is judged again. */
int pb_db_series_rejudge_key(struct pb_db *db, const struct pb_series_key *k);
/* The counted, undisturbed, successful runs of the series' merges:
 * cb(ctx, commit sha, machine, value) each, stopping at a cb's non-zero
 * return (returned). */
int pb_db_series_runs(struct pb_db *db, const struct pb_series_key *k,
		      int (*cb)(void *ctx, const char *sha,
				const char *machine, double value),
		      void *ctx);

/* An alert (GET /api/v1/alerts). */
struct pb_alert_row {
	int64_t id, repo_id, bench_id, config_id;
	int64_t bisection_id;      /* 0: none */
	int64_t good_id, bad_id;
	char repo[256], bench[256], machine[256];
	char good[41], bad[41];
	char mode[16];             /* "shift" or "bimodal" */
	char state[16];            /* "open", "acknowledged", "fixed" */
	double change, p_value, before, after, created_at;
	char note[256];            /* why no bisection started, or "" */
	char culprit[41];          /* its bisection's culprit, once done,
				    * else "" */
	char verdict[24];          /* its bisection's verdict word, once
				    * done (DESIGN.md's outcome table),
				    * else "" */
};
/* The series' alerts oldest first, or (k NULL) the newest 1,000 of all,
 * newest first; *out malloc'd. */
int pb_db_alerts(struct pb_db *db, const struct pb_series_key *k,
		 struct pb_alert_row **out, size_t *n);
int pb_db_alert_get(struct pb_db *db, int64_t id, struct pb_alert_row *out);
/* Stores a new alert from a's ids, machine, change, p_value, mode, before
 * and after; *id its id. */
int pb_db_alert_add(struct pb_db *db, const struct pb_alert_row *a,
		    int64_t *id);
/* PB_ENOTFOUND for no such alert. */
int pb_db_alert_set_state(struct pb_db *db, int64_t id, const char *state);
/* The bisection the alert started (0: none, note says why), and the
 * bisection's alert, in one transaction; when the alert has
 * a bisection already (at most one per alert): PB_EEXIST. */
int pb_db_alert_set_bisection(struct pb_db *db, int64_t id,
			      int64_t bisection_id, const char *note);
/* Bisections alerts of the repository started that still run. */
int pb_db_auto_bisections_running(struct pb_db *db, int64_t repo_id,
				  unsigned *n);
/* A webhook delivery: *created 1 the first time, 0 when seen before. */
int pb_db_delivery_add(struct pb_db *db, const char *source,
		       const char *delivery, int64_t repo_id, int *created);

/* A verified webhook push to the tracked branch, waiting to be scheduled
 * (schema 0015): stored with its delivery (when given) in one transaction;
 * *id 0 when the delivery was seen before (nothing stored). */
int pb_db_push_add(struct pb_db *db, int64_t repo_id, const char *source,
		   const char *delivery, const char *head, int forced,
		   double now, int64_t *id);
struct pb_push_row {
	int64_t id, repo_id;
	char repo[256];
	char source[8];
	char head[41];
	int forced;
	char state[12];         /* queued, scheduled, ignored, failed */
	unsigned attempts;      /* fetches that failed */
	int jobs;               /* -1 until scheduled */
	char note[512];
	double created_at, done_at; /* done_at NAN while queued */
};
/* The oldest push queued and due at `now`; PB_ENOTFOUND for none. */
int pb_db_push_due(struct pb_db *db, double now, struct pb_push_row *out);
/* PB_ENOTFOUND for no such push. */
int pb_db_push_get(struct pb_db *db, int64_t id, struct pb_push_row *out);
/* The push's outcome: state scheduled (jobs), ignored or failed (note), or
 * queued again at next_at after a failed fetch (note; attempts counted). */
int pb_db_push_set(struct pb_db *db, int64_t id, const char *state,
		   int jobs, const char *note, double next_at);

/* The id of the repository's commit `sha`, or PB_ENOTFOUND. */
int pb_db_commit_id(struct pb_db *db, int64_t repo_id, const char *sha,
		    int64_t *out);
/* The benchmark's alert_threshold (0.05 when it was registered without
 * one). */
int pb_db_bench_alert_threshold(struct pb_db *db, int64_t id, double *out);

/* Narrows an alert no bisection has started on to a's good_id, bad_id,
 * change, p_value, before, after and machine. */
int pb_db_alert_narrow(struct pb_db *db, const struct pb_alert_row *a);
/* The commits of the merges of the alert's series that may still narrow
 * it: waiting to be measured, or measured and not judged yet (*shas
 * malloc'd). */
int pb_db_alert_waiting(struct pb_db *db, int64_t alert_id,
			char (**shas)[41], size_t *n);

/* The series of the alert that started bisection `id`, if one did, is
 * judged again (its bisection ended: the alert now stands for its
 * culprit only, history.h). */
int pb_db_series_rejudge(struct pb_db *db, int64_t bisection_id);
/* The alert that started bisection `id` (0: none). */
int pb_db_bisection_alert(struct pb_db *db, int64_t id, int64_t *alert);
/*
 * Compares (schema 0013): rows of bisections of kind "compare", created
 * with pb_db_bisection_create() (good base, bad head), then
 * pb_db_compare_mark(), and its two commits with
 * pb_db_bisection_commits_put() (base, head).
 */

/* The bisection is a compare. */
int pb_db_compare_mark(struct pb_db *db, int64_t id);

/* "bisect" or "compare"; PB_ENOTFOUND for no such row. */
int pb_db_bisection_kind(struct pb_db *db, int64_t id, char out[8]);
/* The compare runs on `machine` from now on (it had none). */
int pb_db_compare_bind(struct pb_db *db, int64_t id, const char *machine);
/* Its machine lost it: none now, only runs stored from now on count, and
 * takeovers + 1 (*takeovers, may be NULL). */
int pb_db_compare_unbind(struct pb_db *db, int64_t id, unsigned *takeovers);
/* cb for each counted run of the compare (orphans left out) with seq
 * above from_seq, in order of seq: its commit, job (leases.job_id; 0 for
 * none), index in the job, and status; stops early when cb returns
 * non-zero (and returns that). */
typedef int (*pb_db_compare_run_cb)(void *ctx, int64_t seq,
				    int64_t commit_id, int64_t job,
				    int index, int ok, int disturbed,
				    double value);
int pb_db_compare_runs(struct pb_db *db, int64_t id, int64_t from_seq,
		       pb_db_compare_run_cb cb, void *ctx);
/* What a compare found, stored (in the caller's transaction, if any). */
struct pb_compare_end {
	const char *state;            /* running, done, failed */
	const char *verdict;          /* the result word; NULL: none */
	const char *outcome;          /* one sentence */
	double effect, lo, hi, p;     /* NAN: NULL */
	unsigned pairs, runs;
	int exit_code;                /* < 0: NULL (still running) */
};
int pb_db_compare_save(struct pb_db *db, int64_t id,
		       const struct pb_compare_end *end);
/* Loads one (PB_ENOTFOUND, also for a bisection of the other kind); free
 * with pb_compare_view_free(). */
int pb_db_compare_load(struct pb_db *db, int64_t id,
		       struct pb_compare_view **out);

/* ---- the report (web/site.h) ---- */

struct pb_site;
/* Loads the whole report's data from one snapshot of the database into
 * *s (zeroed by the caller; pb_site_free() releases it, also after a
 * failure): repositories, benchmarks, commits, machines, the runs of
 * bisections and merges, bisections, alerts, and the series' points in
 * line order.  What is computed from them (runs per bisection and
 * series, change points, machine stability) is orchestrator/site.c's. */
int pb_db_site_load(struct pb_db *db, struct pb_site *s);

/* The files a culprit changed (commits.files, schema 0016): text, one
 * path a line ("" when they could not be listed). */
int pb_db_commit_files_set(struct pb_db *db, int64_t repo_id, const char *sha,
			   const char *files);
/* A culprit of a finished bisection whose files were never listed:
 * PB_ENOTFOUND when there is none. */
int pb_db_culprit_unlisted(struct pb_db *db, int64_t *repo_id,
			   char sha[41]);

#endif
