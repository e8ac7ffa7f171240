/*
 * mixture.h - a two-component 1-D Gaussian mixture fitted by EM, and
 * Ashman's D, the separation of its two components.
 *
 * Used to find the fast and the slow mode of a benchmark from the runs of
 * the two ends of a bisection, and to classify every later run against
 * them (statistics.md sections 2 and 3).  Pure: no I/O, no randomness; the
 * start is the best 2-means split of the sorted sample, so the same sample
 * always gives the same fit.
 */
#ifndef PB_MIXTURE_H
#define PB_MIXTURE_H

#include <stddef.h>

/* Component 0 has the lower mean, component 1 the higher. */
struct pb_mix {
	double w[2];        /* weights, summing to 1 */
	double mu[2];       /* means */
	double sd[2];       /* standard deviations, never below the floor */
	double loglik;      /* log-likelihood of the sample at the fit */
	double ashman_d;    /* sqrt(2)|mu1-mu0| / sqrt(sd0^2 + sd1^2) */
	double sd_floor;    /* the variance floor used, as a standard deviation */
	unsigned iters;     /* EM iterations taken */
	size_t n;           /* sample size */
};

/*
 * Fit two components to x[0..n-1] (n >= 2; the sample is not modified).
 * Each standard deviation is kept at or above
 *     floor_rel * median(|x|)   (and above 1e-12),
 * so that a component of identical values cannot make the likelihood
 * diverge; statistics.md suggests floor_rel = 0.005.
 * Returns 0, or PB_EINVAL for n < 2 or a non-finite value.
 */
int pb_mix_fit(struct pb_mix *out, const double *x, size_t n,
	       double floor_rel);

/* Posterior probability that x came from component 1 (the higher mean). */
double pb_mix_resp(const struct pb_mix *m, double x);

/*
 * The point between the two means where both components are equally
 * likely a posteriori (weights included); the midpoint of the means when
 * the equation has no root between them.
 */
double pb_mix_threshold(const struct pb_mix *m);

/* Ashman's D of two normal components. */
double pb_ashman_d(double mu0, double sd0, double mu1, double sd1);

#endif
