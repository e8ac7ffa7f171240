/*
 * edivisive.h - change points of a series by E-divisive means, the variant
 * of Hunter (Fleming et al., ICPE 2023, arXiv 2301.03034) as Apache Otava
 * implements it (apache/otava: docs/MATH.md, otava/analysis.py,
 * otava/change_point_divisive/; Apache-2.0; statistics.md section 4).
 *
 * 1. Split.  Windows of `window` points slide over the series, each
 *    starting half a window after the last (or at the last change point
 *    the previous window found, if that is further on).  In each window,
 *    E-divisive bisects recursively: over every segment between the change
 *    points found so far it takes the split tau (and the end kappa of the
 *    right part) that maximise the energy statistic
 *        Q = 2/(k-s) sum|X-Y| - 2(k-t)/((k-s)(t-s-1)) sum_{X pairs}|Xi-Xj|
 *                             - 2(t-s)/((k-s)(k-t-1)) sum_{Y pairs}|Yi-Yj|
 *    (X = x[s..t), Y = x[t..k)), and keeps it while a two-sided Student
 *    t-test of the two sides of the segment gives p <= a relaxed bound:
 *    10 x max_pvalue (2 x from 0.05, 1 x from 0.5).  The union of what all
 *    windows keep is the set of "weak" change points.
 * 2. Merge.  Each weak point is tested against its neighbours (the
 *    segments from the previous to the next point).  Repeatedly the one
 *    with the largest p is dropped while that p >= max_pvalue; once all
 *    are below, the one with the smallest relative change is dropped while
 *    that change <= min_magnitude.  After a drop, the statistics of the two
 *    points to its right are refreshed, as Otava does (whose results are
 *    the reference); the points returned carry the statistics of their
 *    final neighbouring segments.
 *
 * The t-test pools the two sides' variances from their population standard
 * deviations (as Otava passes numpy's std to scipy); two sides of zero
 * variance and different means give p = 0, of equal means p = 1; with
 * fewer than 3 points in all, p = 1.  Pure: no I/O, no randomness; the
 * same series always gives the same points.
 */
#ifndef PB_EDIVISIVE_H
#define PB_EDIVISIVE_H

#include <stddef.h>

struct pb_ediv_opts {
	size_t window;         /* sliding window length, >= 2 (Otava: 50) */
	double max_pvalue;     /* final significance, in (0, 1] */
	double min_magnitude;  /* smallest relative change kept, >= 0 */
};

#define PB_EDIV_OPTS_INIT { 30, 0.001, 0.0 }

struct pb_change_point {
	size_t index;          /* first point after the change, 1 .. n-1 */
	double p_value;        /* t-test of the two neighbouring segments */
	double t;              /* its t statistic (mean_before - mean_after) */
	double mean_before;    /* of x[prev .. index), prev the previous point
				* or 0 */
	double mean_after;     /* of x[index .. next), next the next point
				* or n */
	double sd_before;      /* population standard deviations */
	double sd_after;
	double forward_change; /* mean_after / mean_before - 1 (0 when
				* mean_before is 0) */
	double backward_change;/* mean_before / mean_after - 1 (0 when
				* mean_after is 0) */
	double magnitude;      /* max(|forward_change|, |backward_change|) */
};

/*
 * Finds the change points of x[0..n) (finite values).  On success *out is
 * a malloc'd array of *nout points in increasing index order (NULL when
 * there are none); the caller frees it with free().
 * Returns 0, PB_EINVAL for bad options or a non-finite value, PB_ERROR
 * when memory runs out (*out NULL, *nout 0 on failure).
 */
int pb_edivisive(struct pb_change_point **out, size_t *nout, const double *x,
		 size_t n, const struct pb_ediv_opts *opts);

#endif
