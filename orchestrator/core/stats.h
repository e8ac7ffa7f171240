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

/* Mean of x[0..n); NAN for n == 0. */
double pb_mean(const double *x, size_t n);

/* Binary entropy in bits; 0 at p <= 0 or p >= 1. */
double pb_h2(double p);

/* Regularised incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1. */
double pb_betainc(double a, double b, double x);

/* Two-sided p-value of Student's t with df degrees of freedom (df > 0). */
double pb_t_pvalue(double t, double df);

/* The quantile of Student's t with df degrees of freedom: t with
 * P(T <= t) = p, for p in (0, 1) (by bisection on pb_t_pvalue, to 1e-9). */
double pb_t_quantile(double p, double df);

/*
 * Two-sided p-value of Student's t-test of two samples given by their
 * means, standard deviations and sizes, the variance pooled as
 * ((n1-1) sd1^2 + (n2-1) sd2^2) / (n1 + n2 - 2): sample standard deviations
 * give the textbook test (the engine), population ones Apache Otava's
 * variant (edivisive.c).  The t statistic goes to *t_out when not
 * NULL.  1 when n1 + n2 < 3; 0 for zero variance and different means; 1
 * for zero variance and equal means.
 */
double pb_ttest_pooled(double *t_out, double mean1, double sd1, size_t n1,
		       double mean2, double sd2, size_t n2);

/*
 * P(p1 > p0) when p1 ~ Beta(a1, b1) and p0 ~ Beta(a0, b0), independent;
 * by the midpoint rule on 4000 points after the substitution x = sin^2 t,
 * which keeps the integrand bounded for a1, b1 >= 1/2: error below 1e-5
 * there.  (The engine compares it with 0.99.)
 */
double pb_beta_greater(double a1, double b1, double a0, double b0);

#endif
