/*
 * changes.h - the change points of a performance history, as numbers in
 * and change points out (DESIGN.md `detect`; statistics.md section 4).
 * `perfbisect detect` reads a file into these arrays (orchestrator/
 * detect.c); the service judges each series after a merge's runs arrive
 * (orchestrator/history.c).  Pure: no I/O, no randomness.
 *
 * A history is n positions (commits, oldest first), position c holding
 * the runs values[off[c] .. off[c + 1]); with off NULL every position is
 * one value.  The series given to E-divisive (edivisive.h) are:
 *   - one run per position: the values ("value");
 *   - several runs per position, bimodal: the per-position fraction of slow
 *     runs ("slow_fraction") and the median of each position's fast runs
 *     ("fast_median"; a position without a fast run is left out of it);
 *   - several runs per position otherwise: per-position medians ("median").
 * The runs are bimodal when the pooled runs (at least 10) fit two normal
 * components with Ashman's D >= 2 (mixture.h), Hartigan's dip test rejects
 * unimodality at 0.05 (dip.h), and at least one position has runs on both
 * sides of the mixture's threshold: a plain shift, where every position is
 * all fast or all slow, is better followed through its medians.  Runs
 * beyond the threshold on the worse side (below it; above it with
 * lower_is_better) are slow.
 */
#ifndef PB_CHANGES_H
#define PB_CHANGES_H

#include <stddef.h>

struct pb_changes_opts {
	size_t window;         /* E-divisive window, 2 to
				* PB_CHANGES_MAX_WINDOW */
	double max_pvalue;     /* in (0, 1] */
	double min_magnitude;  /* relative change, >= 0 */
	int lower_is_better;   /* which mode is slow */
};

#define PB_CHANGES_OPTS_INIT { 30, 0.001, 0.0, 0 }
#define PB_CHANGES_MAX_WINDOW 10000

enum pb_changes_kind {
	PB_CHANGES_VALUES,     /* one value per position */
	PB_CHANGES_MEDIANS,    /* several runs per position, unimodal */
	PB_CHANGES_BIMODAL,    /* several runs per position, bimodal */
};

/* One change point. */
struct pb_change_at {
	size_t index;          /* the first position after the change */
	const char *series;    /* "value", "median", "slow_fraction",
				* "fast_median" or "slow_median" (static
				* strings) */
	double before, after;  /* means of the two neighbouring segments */
	double p_value;
};

struct pb_changes {
	enum pb_changes_kind kind;
	size_t nvalues;        /* runs */
	size_t npositions;
	size_t max_runs;       /* most runs of one position */
	/* the bimodality check of the pooled runs, NAN when not made */
	double ashman_d, dip, dip_p;
	int two_modes;         /* the pooled runs pass D and dip (they may
				* still be a shift: no mixed position) */
	double threshold;      /* slow/fast boundary (PB_CHANGES_BIMODAL),
				* else NAN */
	size_t slow_runs;      /* PB_CHANGES_BIMODAL: runs classed slow */
	size_t mixed;          /* positions with both fast and slow runs */
	size_t no_fast;        /* positions left out of fast_median */
	struct pb_change_at *points; /* by index, then slow_fraction before
				      * fast_median */
	size_t npoints;
};

/* Checks the options: 0, or PB_EINVAL naming the bad one. */
int pb_changes_check_opts(const struct pb_changes_opts *o);

/*
 * Finds the change points of the history of n positions (above) into
 * *out (release it with pb_changes_release(), also after a failure).
 * Every position has at least one run; values are finite.  Returns 0,
 * PB_EINVAL for bad options, an empty position or a value that is not
 * finite, PB_ERROR when memory runs out.
 */
int pb_changes_find(struct pb_changes *out, const double *values,
		    const size_t *off, size_t n,
		    const struct pb_changes_opts *o);

void pb_changes_release(struct pb_changes *c);

/* "value", "median" or "bimodal". */
const char *pb_changes_kind_name(enum pb_changes_kind k);

#endif
