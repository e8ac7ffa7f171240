/*
 * site.h - the whole report as plain data: what orchestrator/site.c loads
 * from the database and web/ draws (web never opens the database).
 *
 * Every string is owned by the site (malloc'd) and freed by
 * pb_site_free(); every cross reference is an index into one of the
 * site's arrays, so the renderer needs no lookups by name.  A double that
 * is NAN is "null: not measured or cannot be computed honestly".
 *
 * Output is a function of this struct alone: the generation time is an
 * input (generated_at), so the same database gives the same bytes.
 */
#ifndef PB_SITE_H
#define PB_SITE_H

#include <stddef.h>
#include <stdint.h>

#include "common/model.h"

#define PB_SITE_NONE ((size_t)-1)

struct pb_site_repo {
	int64_t id;
	char *name, *url, *branch;          /* branch NULL: HEAD */
};

struct pb_site_bench {
	int64_t id;
	size_t repo;
	char *name, *metric, *build_cmd, *run_cmd;
	int lower_is_better;
	double alert_threshold;
};

struct pb_site_commit {
	int64_t id;
	size_t repo;
	char sha[41];
	char *subject, *author;
	int64_t time;                       /* commit time, Unix seconds */
	char *files;                        /* a culprit's changed paths, one
					     * a line; NULL: not listed */
};

struct pb_site_machine {
	char *name;
	char *facts;                        /* JSON object text, or NULL */
	char *settings;                     /* the last run's settings JSON */
	double last_seen;                   /* NAN: never seen as an agent */
	size_t runs, disturbed, failed;     /* of the runs in the site */
	/* recent stability: the median over (commit, benchmark) groups of
	 * at least 3 undisturbed runs, among its last 200 runs, of their
	 * relative spread (MAD / median); NAN: no such group */
	double spread;
	size_t spread_groups;
	char *homes;                        /* the series whose merges it
					     * measures (docs/merges.md), one
					     * "REPO / BENCH" a line, sorted;
					     * NULL: none */
};

/* The role of a run in its bisection. */
enum pb_site_role {
	PB_ROLE_RUN = 0,                    /* a bisection step's run */
	PB_ROLE_VERIFY_PARENT,              /* verification: the parent */
	PB_ROLE_VERIFY_CULPRIT,             /* verification: the culprit */
	PB_ROLE_MERGE,                      /* a merge's run (history) */
};

struct pb_site_run {
	int64_t id;
	size_t bisection;                   /* index; PB_SITE_NONE: merge */
	size_t bench, commit, machine;      /* indices */
	int seq;                            /* in its bisection; -1 */
	int64_t merge;                      /* its merge's id; 0: none */
	int64_t config_id;                  /* 0: the default */
	enum pb_site_role role;
	int pair;                           /* verification pair, -1 */
	int ok, disturbed, timed_out, exit_code, signal;
	double value;                       /* NAN for a failed run */
	double wall_s, cpu_s, busy_share;   /* busy_share: others' share */
	double started_at;
	double ipc, remote_access;
	int start_node, start_cpu;          /* -1: unknown */
	/* only for runs with a page (failed, disturbed, verification):
	 * the whole record; NULL otherwise */
	char *failure_reason, *output, *numa, *interference, *counters;
	char *metrics, *settings, *notes, *run_as, *ipc_note, *remote_note;
};

/* A bisection: the stored view plus what the report draws. */
struct pb_site_bisection {
	struct pb_bisection_view *v;
	size_t bench;                       /* index */
	size_t *range;                      /* commits of good..bad in
					     * history order (good first) */
	size_t nrange;
	size_t *runs;                       /* its runs by seq */
	size_t nruns;
	size_t alert;                       /* the alert that started it */
	double updated_at;                  /* its last run or its end */
};

struct pb_site_alert {
	int64_t id;
	size_t bench, good, bad;            /* indices */
	int64_t config_id;                  /* its series' configuration */
	size_t bisection;                   /* PB_SITE_NONE: none */
	size_t machine;
	double change, p_value, before, after;
	char mode[8], state[16];
	char *note;
	double created_at;
};

/* A change point the detector finds in one machine's runs of a series. */
struct pb_site_change {
	size_t at;                          /* index into the series' points:
					     * the first commit after it */
	char series[16];                    /* median, slow_fraction... */
	double before, after, p_value;
};

/* One machine's runs of a series (machines are strata, as in history.h). */
struct pb_site_strand {
	size_t machine;
	int bimodal;                        /* judged on slow shares */
	double threshold;                   /* slow/fast boundary; NAN: not
					     * bimodal */
	struct pb_site_change *changes;
	size_t nchanges;
	double *medians;                    /* per point of the series, its
					     * counted runs' median; NAN:
					     * none */
};

/* A series (repository, benchmark, configuration): merges' runs by the
 * branch's first-parent line. */
/* A merge of a series that has no point in it: its build or job failed,
 * it was skipped for newer merges, or it is being measured again after
 * other work disturbed its runs. */
struct pb_site_gap {
	size_t commit;                      /* index into the commits */
	char state[12];                     /* "failed", "skipped", "queued" */
	unsigned busy_rounds;               /* times its disturbed runs were
					     * queued again */
	char *note;                         /* why, when stored; NULL */
};

struct pb_site_series {
	size_t bench;
	int64_t config_id;
	size_t *points;                     /* commits in line order */
	int64_t *merges;                    /* the merge of each point */
	size_t npoints;
	size_t *runs;                       /* its runs, by point then id */
	size_t *run_point;                  /* runs[i] is at points[...] */
	size_t nruns;
	struct pb_site_strand *strands;
	size_t nstrands;
	double *medians;                    /* per point, every machine's
					     * counted runs' median; NAN: none */
	double updated_at;                  /* its last run */
	struct pb_site_gap *gaps;           /* merges without a point, in
					     * the order they were posted */
	size_t ngaps;
};

struct pb_site {
	double generated_at;                /* an input: SOURCE_DATE_EPOCH */
	struct pb_site_repo *repos;
	size_t nrepos;
	struct pb_site_bench *benches;
	size_t nbenches;
	struct pb_site_commit *commits;
	size_t ncommits;
	struct pb_site_machine *machines;
	size_t nmachines;
	struct pb_site_run *runs;
	size_t nruns;
	struct pb_site_bisection *bisections;
	size_t nbisections;
	struct pb_site_alert *alerts;
	size_t nalerts;
	struct pb_site_series *series;
	size_t nseries;
};

void pb_site_free(struct pb_site *s);

/* Pages drawn, and of them written (their bytes changed) and left as
 * they were. */
struct pb_site_stats {
	size_t pages, written, unchanged;
};

/* Writes every page of the site into dir (made when missing): index.html,
 * bisection-ID.html, series-BENCH-CONFIG.html, machine-NAME-HASH.html,
 * run-ID.html (failed, disturbed and verification runs).  A page whose
 * file already holds its bytes is not written again. */
int pb_site_write(const char *dir, const struct pb_site *s,
		  struct pb_site_stats *st);

#endif
