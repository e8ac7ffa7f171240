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
 * 10 s busy timeout; the service (perfbisectd) takes synchronous=FULL,
 * because a 2xx lets an agent forget what it posted, a 5 s busy timeout
 * and a 64 MiB journal_size_limit (docs: service-practice.md section 2). */
struct pb_db_opts {
	int synchronous_full;        /* 1: FULL, 0: NORMAL */
	int busy_timeout_ms;
	int64_t journal_size_limit;  /* bytes kept of the WAL after a
					checkpoint; < 0: no limit */
};
#define PB_DB_OPTS_CLI { 0, 10000, -1 }
#define PB_DB_OPTS_SERVICE { 1, 5000, (int64_t)64 << 20 }

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
};
int pb_db_settings(struct pb_db *db, struct pb_db_settings *out);
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

int pb_db_begin(struct pb_db *db);
int pb_db_commit(struct pb_db *db);
void pb_db_rollback(struct pb_db *db);

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
};

/* Stores a run record; a record whose run_id is already stored is counted
 * once (returns PB_OK and changes nothing). */
int pb_db_run_insert(struct pb_db *db, const struct pb_run_row *run);

/* Calls cb for each run of the bisection in order of seq; stops early when
 * cb returns non-zero (and returns that). */
typedef int (*pb_db_run_cb)(void *ctx, int64_t commit_id, int ok,
			    int disturbed, double value);
int pb_db_bisection_replay(struct pb_db *db, int64_t bisection_id,
			   pb_db_run_cb cb, void *ctx);
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

/* Replaces the bisection's summary and steps, in one transaction. */
int pb_db_bisection_save(struct pb_db *db, int64_t id,
			 const struct pb_bisection_end *end,
			 const struct pb_step_row *steps, size_t nsteps);

/* Loads a bisection with its steps and their commits' facts; free with
 * pb_bisection_view_free(). */
int pb_db_bisection_load(struct pb_db *db, int64_t id,
			 struct pb_bisection_view **out);
/* All bisection ids, newest first; *out is malloc'd. */
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
/* Stores one row (replacing the build's row of that path). */
int pb_db_image_put(struct pb_db *db, int64_t commit_id, int64_t bench_id,
		    const char *machine, const struct pb_image_row *row);
/* Forgets every row of a build (it is being built again). */
int pb_db_images_forget(struct pb_db *db, int64_t commit_id,
			int64_t bench_id, const char *machine);

/* Counts stored runs of a bisection by status (for tests and reports). */
int pb_db_run_count(struct pb_db *db, int64_t bisection_id, unsigned *ok,
		    unsigned *failed);

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

#endif
