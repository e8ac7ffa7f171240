/*
 * model.h - plain data handed between the parts: what a bisection looked
 * like, as the report (web/) and the JSON output (proto.c) show it.  The
 * orchestrator fills these from sqlite; nobody downstream opens the
 * database.  A double that is NAN means "null: cannot be computed
 * honestly".
 */
#ifndef PB_MODEL_H
#define PB_MODEL_H

#include <stddef.h>
#include <stdint.h>

enum pb_value_state {
	PB_VAL_NULL = 0,       /* not measured by this build: null */
	PB_VAL_NUMBER,         /* value holds a number */
	PB_VAL_UNSUPPORTED,    /* the machine cannot count it: "unsupported" */
};

struct pb_step_view {
	char sha[41];
	char *subject;          /* malloc'd */
	char *author;           /* malloc'd */
	int64_t time;
	char verdict[12];       /* good, bad, skip, undecided */
	unsigned runs;          /* successful runs */
	unsigned failed_runs;
	double median;          /* NAN: null */
	double slow_fraction;   /* NAN: null */
	int slow, fast;         /* classified runs; -1: null */
	double p_bad;           /* posterior P(bad); NAN: null */
	enum pb_value_state ipc_state;
	double ipc;
	char *ipc_note;         /* why unsupported, malloc'd or NULL */
	enum pb_value_state remote_state;
	double remote_access;
	char *remote_note;
	char *start_nodes_json; /* JSON object text, or NULL: null */
	unsigned disturbed;     /* runs not counted: other work held the
				   machine */
	double interference;    /* median share of the machine others used
				   during its runs; NAN: null */
	char identical_to[41];  /* the parent whose mapped code it shares
				 * (a commit that cannot matter), "" none */
	/* Why its build failed (a skipped commit) or, else, why its last
	 * failed run did, with the end of that build's log or run's output
	 * (capped); both malloc'd, NULL when nothing failed. */
	char *failure_reason;
	char *failure_log;
};

/* What the statistical engine found, beside the verdict (all optional). */
struct pb_stats_view {
	char ci_first[41], ci_last[41];  /* 95 % credible interval; "" null */
	int culprit_slow, culprit_fast;  /* -1: null */
	int parent_slow, parent_fast;
	double fast_mode, slow_mode;     /* metric units; NAN: null */
	double ashman_d;
	double q0, q1;                   /* slow fraction, good / bad side */
	double dip_p;                    /* Hartigan's dip, bad side */
	int good_bimodal;                /* -1: null */
	double good_dip_p;
	double mwu_p, ks_p;              /* good side vs bad side */
};

/* Sets every field of s to null. */
void pb_stats_view_init(struct pb_stats_view *s);

/* Whether a counter moved with the metric in a verification's pairs. */
struct pb_counter_move {
	enum pb_value_state state;  /* NULL: not described; UNSUPPORTED:
				       note says why */
	double change, lo, hi;  /* culprit against parent, +0.1: 10 % more;
				   lo, hi NAN below 6 pairs */
	unsigned pairs;
	char note[256];
};

/* The counter moved: its interval excludes no change; -1 unknown (no
 * interval). */
int pb_counter_moved(const struct pb_counter_move *m);

/* One phrase for a person: "IPC moved with it: -12.0 % (95 % interval
 * -15.0 % to -9.0 %, 16 pairs)", "... did not move ...", "... too few
 * pairs to say ...", "IPC not counted (<the machine's reason>)"; "" when
 * not described.  `name` is what to call the counter. */
void pb_counter_move_say(const struct pb_counter_move *m, const char *name,
			 char *buf, size_t size);

/* The last verification of a culprit against its parent, if any. */
struct pb_verification_view {
	char commit[41];        /* "": none ran */
	unsigned attempts, pairs;
	double effect, lo, hi;  /* +0.3: 30 % slower; NAN: null */
	double p;
	int confirmed;
	struct pb_counter_move ipc, remote;
};

struct pb_bisection_view {
	long long id;
	char *repo;             /* malloc'd */
	char *metric;
	char *build_cmd;
	char *run_cmd;
	int lower_is_better;
	char good[41], bad[41];
	char state[12];
	char mode[12];          /* "" : null */
	char culprit[41];       /* "" : null */
	char range_first[41];   /* "" : no range */
	char range_last[41];
	double confidence;      /* NAN: null */
	double confidence_asked;
	unsigned runs, builds;
	char *outcome;          /* one sentence, may be NULL */
	char verdict[16];       /* culprit, range, no_regression,
				   inconclusive, budget; "" null */
	struct pb_stats_view stats;
	struct pb_verification_view verification;
	int exit_code;          /* -1 while running */
	int cancelled;          /* a cancel was asked (the service) */
	double created_at, finished_at;
	struct pb_step_view *steps;
	size_t nsteps;
};

void pb_bisection_view_free(struct pb_bisection_view *v);

/* A pull-request check (`perfbisect compare`): head against base on one
 * machine. */
struct pb_compare_view {
	long long id;
	char *repo, *benchmark, *metric; /* malloc'd */
	int lower_is_better;
	char base[41], head[41];
	char state[12];          /* queued running done failed cancelled */
	char result[16];         /* slower faster no_difference inconclusive;
				    "": null */
	double effect, lo, hi;   /* head against base, better-is direction:
				    -0.3 30 % worse; NAN: null */
	double p;                /* NAN: null */
	double min_effect;
	unsigned pairs, runs;
	char machine[128];       /* "": none yet */
	unsigned takeovers;      /* its agent lost it, it started anew */
	char *outcome;           /* one sentence, may be NULL */
	int exit_code;           /* -1 while running */
	double created_at, finished_at; /* NAN: null */
};

void pb_compare_view_free(struct pb_compare_view *v);

#endif
