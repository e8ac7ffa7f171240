/*
 * stats.h - descriptive statistics for the engine (pure; no I/O).
 */
#ifndef PB_STATS_H
#define PB_STATS_H

#include <stddef.h>

/* Median of x[0..n) (n > 0); x is not modified.  NAN for n == 0. */
double pb_median(const double *x, size_t n);

/* Median absolute deviation from the median, unscaled. NAN for n == 0. */
double pb_mad(const double *x, size_t n);

#endif
