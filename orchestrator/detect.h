/*
 * detect.h - `perfbisect detect`: change points in a performance history
 * read from a file (DESIGN.md section 3).
 *
 * The file holds one value per line, oldest first, or `commit,value` rows
 * (several rows of one commit are its runs, commits in order of first
 * appearance).  Blank lines and lines starting with '#' are skipped, and a
 * first row `commit,value` is taken as a header.  The series given to
 * E-divisive (orchestrator/core/edivisive.h) are:
 *   - plain values, or one run per commit: the values ("value");
 *   - several runs per commit, bimodal: the per-commit fraction of slow
 *     runs ("slow_fraction") and the median of each commit's fast runs
 *     ("fast_median"; a commit without a fast run has no fast median and
 *     is left out of that series);
 *   - several runs per commit otherwise: per-commit medians ("median").
 * The runs are bimodal when the pooled runs (at least 10) fit two normal
 * components with Ashman's D >= 2 (orchestrator/core/mixture.h), Hartigan's
 * dip test rejects unimodality at 0.05 (orchestrator/core/dip.h), and at
 * least one commit has runs on both sides of the mixture's threshold: a
 * plain shift, where every commit is all fast or all slow, is better
 * followed through its medians.  Runs beyond the threshold on the worse
 * side (below it; above it with lower_is_better) are slow.
 */
#ifndef PB_DETECT_H
#define PB_DETECT_H

#include <stddef.h>

#include "common/proto.h"

struct pb_detect_opts {
	size_t window;         /* E-divisive window, 2 to
				* PB_DETECT_MAX_WINDOW */
	double max_pvalue;     /* in (0, 1] */
	double min_magnitude;  /* relative change, >= 0 */
	int lower_is_better;   /* which mode is slow */
};

#define PB_DETECT_OPTS_INIT { 30, 0.001, 0.0, 0 }
#define PB_DETECT_MAX_WINDOW 10000

enum pb_detect_kind {
	PB_DETECT_VALUES,      /* one value per line, or per commit */
	PB_DETECT_MEDIANS,     /* several runs per commit, unimodal */
	PB_DETECT_BIMODAL,     /* several runs per commit, bimodal */
};

struct pb_detect_result {
	enum pb_detect_kind kind;
	size_t nvalues;        /* values read */
	size_t npositions;     /* values (no commits) or commits */
	char **commits;        /* [npositions] commit names; NULL without */
	size_t max_runs;       /* most runs of one commit (1 without commits) */
	/* the bimodality check of the pooled runs, NAN when not made */
	double ashman_d, dip, dip_p;
	int two_modes;         /* the pooled runs pass D and dip (they may
				* still be a shift: no mixed commit) */
	double threshold;      /* slow/fast boundary (PB_DETECT_BIMODAL) */
	size_t slow_runs;      /* PB_DETECT_BIMODAL: runs classed slow */
	size_t mixed_commits;  /* commits with both fast and slow runs */
	size_t no_fast_commits;/* commits left out of fast_median */
	struct pb_detect_point *points; /* change points, by index, then
					 * slow_fraction before fast_median */
	size_t npoints;
};

/*
 * Reads `path` and finds its change points into *out (release it with
 * pb_detect_result_release(), also after a failure).  Returns 0; PB_EINVAL
 * for bad input or options, with the message naming "path:line:" where a
 * line is at fault; PB_ENOTFOUND when the file cannot be opened or read;
 * PB_ERROR when memory runs out.
 */
int pb_detect_file(struct pb_detect_result *out, const char *path,
		   const struct pb_detect_opts *opts);

void pb_detect_result_release(struct pb_detect_result *r);

/* "value", "median" or "bimodal". */
const char *pb_detect_kind_name(enum pb_detect_kind k);

#endif
