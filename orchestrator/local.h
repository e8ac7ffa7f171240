/*
 * local.h - `perfbisect bisect --local`: the orchestrator's engine run
 * in-process against this machine, with every benchmark run exactly as an
 * agent runs it (agent/runner.h) and all state in sqlite under the state
 * directory.  A bisection killed half-way resumes when started again with
 * the same arguments: its stored runs are replayed into the engine.  Once
 * it has finished, the same command prints its stored verdict (a larger
 * --max-runs resumes one whose budget was spent; `again` starts anew), and
 * its work trees are gone unless kept.
 */
#ifndef PB_LOCAL_H
#define PB_LOCAL_H

#include <stdint.h>
#include <sys/types.h>

struct pb_local_opts {
	const char *repo, *good, *bad;
	const char *build, *run, *metric;
	int lower_is_better;
	double confidence;
	uint64_t seed;
	unsigned max_runs;
	double timeout_s, build_timeout_s;
	const char *run_as;
	const char *events, *config, *sysroot, *nic, *snoop;
	const char *state_dir;  /* NULL: pb_local_default_state_dir() */
	const char *report_dir; /* NULL: report/ in the state directory */
	int json;    /* print the result object on stdout */
	int quiet;   /* no progress on stderr */
	int no_rotate; /* leave the start to the scheduler */
	double busy_threshold; /* CPUs of other work that disturb a run; <= 0:
				  none does */
	double busy_backoff_s; /* first wait while the machine is busy */
	int no_identical; /* no claims that a commit maps its parent's code */
	int again;   /* a new bisection even where one of the same command
		      * finished (or is unfinished) */
	int keep_worktrees; /* leave the work trees when it finishes */
	double min_effect;  /* the smallest slowdown worth finding */
	int no_ccache;      /* builds without ccache (agent/ccache.h) */
};

#define PB_LOCAL_OPTS_INIT                                                   \
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0, 0.99, 0, 500, 600, 3600,     \
	  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0.25, 1.0, \
	  0, 0, 0, 0.03, 0 }

/* The state directory when none is given (DESIGN.md section 3): as root
 * (euid 0) /var/lib/perfbisect; else $XDG_STATE_HOME/perfbisect when
 * xdg_state_home is an absolute path, else HOME/.local/state/perfbisect.
 * *out is malloc'd.  PB_EINVAL when neither gives a place. */
int pb_local_default_state_dir(char **out, uid_t euid,
			       const char *xdg_state_home, const char *home);

struct pb_local_result {
	int exit_code;          /* the contract's: 0, 1, 2 or 3 */
	long long bisection_id; /* 0 when none was created */
	char culprit[41];       /* "" when none */
	char report[4096];      /* path of the bisection's page, "" if none */
};

/* Runs the bisection; returns the exit code (also in out->exit_code).  On
 * exit codes 2 and 3 the reason is in pb_error_last(). */
int pb_local_bisect(const struct pb_local_opts *o, struct pb_local_result *out);

/* Regenerates the report from the database at db_path (opened
 * read-only) into out_dir; *stats (may be NULL) counts the pages. */
struct pb_site_stats;
int pb_local_report(const char *db_path, const char *out_dir,
		    struct pb_site_stats *stats);

/* Writes the whole report into dir (web/site.h), from the database: what
 * `perfbisect report`, `bisect --local` and the service call.  Pages
 * whose bytes did not change are not written again. */
struct pb_db;
int pb_reports_write_all(struct pb_db *db, const char *dir,
			 struct pb_site_stats *stats);

/* The time the pages say they were generated: SOURCE_DATE_EPOCH when set,
 * else now. */
double pb_report_time(void);

#endif
