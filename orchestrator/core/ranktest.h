/*
 * ranktest.h - two-sample rank tests for unimodal shifts, computed as
 * Chromium Pinpoint computes them (catapult-project/catapult:
 * dashboard/dashboard/pinpoint/models/compare/, BSD; statistics.md
 * section 2): the Mann-Whitney U test by normal approximation and the
 * two-sample Kolmogorov-Smirnov test by its asymptotic series.  Pinpoint
 * calls two samples different when min(p_MWU, p_KS) is small: MWU misses
 * changes of spread, KS misses changes on tied (discrete) values.
 *
 * Pure: no I/O, no randomness.  Both functions copy and sort the samples,
 * so they allocate; neither modifies its input.
 */
#ifndef PB_RANKTEST_H
#define PB_RANKTEST_H

#include <stddef.h>

struct pb_mwu {
	double u;           /* U of x: pairs (x_i, y_j) with x_i > y_j, ties
			     * counting 1/2; U of y is nx*ny - u */
	double z;           /* (max(U_x, U_y) - nx*ny/2 - 0.5) / sd, sd with
			     * the tie correction; 0 when every value ties */
	double p;           /* two-sided p: 2 * P(Z > |z|) */
	double p_one_sided; /* P(Z > |z|): the one-sided p in the direction
			     * the samples differ.  Pinpoint's compare.py
			     * comment table lists this half (its MWU column
			     * dates from the one-sided scipy of that time);
			     * its code and unit tests use the two-sided p */
};

/*
 * Mann-Whitney U test of x[0..nx) against y[0..ny) (nx, ny >= 1, finite
 * values).  Ranks are mid-ranks; the variance carries the tie correction
 * 1 - sum(t^3 - t) / (N^3 - N); the continuity correction subtracts 0.5
 * from max(U_x, U_y) - nx*ny/2.  When all N values are equal, z = 0 and
 * p = 1.  As in Pinpoint (and the scipy it was taken from), when
 * |U - nx*ny/2| < 0.5 the corrected z turns negative and |z| is used, so
 * p is then slightly below 1.  The approximation is meant for samples of
 * about 20 and more per side.
 * Returns 0, PB_EINVAL for an empty sample or a non-finite value, or
 * PB_ERROR when memory runs out.
 */
int pb_mwu_test(struct pb_mwu *out, const double *x, size_t nx,
		const double *y, size_t ny);

struct pb_ks {
	double d;           /* sup |F_x - F_y| of the empirical CDFs */
	double p;           /* asymptotic two-sided p-value */
};

/*
 * Two-sample Kolmogorov-Smirnov test of x[0..nx) against y[0..ny)
 * (nx, ny >= 1, finite values): p = Q_KS((sqrt(ne) + 0.12 + 0.11 /
 * sqrt(ne)) * D) with ne = nx*ny / (nx + ny), Q_KS the Kolmogorov
 * survival function below.
 * Returns 0, PB_EINVAL for an empty sample or a non-finite value, or
 * PB_ERROR when memory runs out.
 */
int pb_ks_test(struct pb_ks *out, const double *x, size_t nx,
	       const double *y, size_t ny);

/*
 * Q_KS(y) = 2 * sum_{k>=1} (-1)^(k-1) exp(-2 k^2 y^2), summed until a term
 * underflows or falls below 1.1e-16 of the sum; 1 for y < 1.1e-16, and
 * never above 1 (the truncated series can overshoot for small y).
 */
double pb_kolmogorov_sf(double y);

#endif
