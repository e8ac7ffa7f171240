/*
 * stats.h - small statistics for the engine (pure; no I/O).
 */
#ifndef PB_STATS_H
#define PB_STATS_H

#include <stddef.h>

/* Median of x[0..n) (n > 0); x is not modified.  NAN for n == 0. */
double pb_median(const double *x, size_t n);

/* Median absolute deviation from the median, unscaled. NAN for n == 0. */
double pb_mad(const double *x, size_t n);

/* Mean and (population, divisor n) standard deviation; NAN for n == 0. */
double pb_mean(const double *x, size_t n);

/* Binary entropy in bits; 0 at p <= 0 or p >= 1. */
double pb_h2(double p);

/* Regularised incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1. */
double pb_betainc(double a, double b, double x);

/* Two-sided p-value of Student's t with df degrees of freedom (df > 0). */
double pb_t_pvalue(double t, double df);

/*
 * Welch's two-sample t-test: two-sided p-value that x and y have the same
 * mean; *t_out (may be NULL) gets the statistic, positive when mean(x) >
 * mean(y).  Needs nx, ny >= 2; a zero variance on both sides gives p = 0
 * when the means differ and 1 when they do not.
 */
double pb_welch_p(const double *x, size_t nx, const double *y, size_t ny,
		  double *t_out);

/*
 * P(p1 > p0) when p1 ~ Beta(a1, b1) and p0 ~ Beta(a0, b0), independent;
 * by the midpoint rule on 4000 points after the substitution x = sin^2 t,
 * which keeps the integrand bounded for a1, b1 >= 1/2: error below 1e-5
 * there.  (The engine compares it with 0.99.)
 */
double pb_beta_greater(double a1, double b1, double a0, double b0);

#endif
