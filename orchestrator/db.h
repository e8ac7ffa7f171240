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

struct pb_db;

/* The compiled-in schema (generated from schema/). */
extern const struct pb_embedded pb_schema[];
extern const size_t pb_schema_count;

/* Opens (creating if needed) and migrates to the compiled-in schema. */
int pb_db_open(struct pb_db **out, const char *path);
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
typedef int (*pb_db_run_cb)(void *ctx, int64_t seq, int64_t commit_id,
			    int ok, int disturbed, double value);
int pb_db_bisection_replay(struct pb_db *db, int64_t bisection_id,
			   pb_db_run_cb cb, void *ctx);
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

#endif
