/*
 * stats.c - medians by sorting a copy (n is a few dozen runs per commit).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double pb_median(const double *x, size_t n)
{
	double *c, m;

	if (n == 0)
		return NAN;
	c = malloc(n * sizeof(*c));
	if (!c)
		return NAN;
	memcpy(c, x, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp_double);
	m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
	free(c);
	return m;
}

double pb_mad(const double *x, size_t n)
{
	double med = pb_median(x, n), *d, m;

	if (n == 0)
		return NAN;
	d = malloc(n * sizeof(*d));
	if (!d)
		return NAN;
	for (size_t i = 0; i < n; i++)
		d[i] = fabs(x[i] - med);
	m = pb_median(d, n);
	free(d);
	return m;
}

double pb_mean(const double *x, size_t n)
{
	double s = 0;

	if (n == 0)
		return NAN;
	for (size_t i = 0; i < n; i++)
		s += x[i];
	return s / (double)n;
}

double pb_h2(double p)
{
	if (!(p > 0 && p < 1))
		return 0;
	return -(p * log2(p) + (1 - p) * log2(1 - p));
}

/* Continued fraction of the incomplete beta function (modified Lentz),
 * valid for x < (a + 1) / (a + b + 2). */
static double betacf(double a, double b, double x)
{
	const double tiny = 1e-300;
	double c = 1, d = 1 - (a + b) * x / (a + 1), h;

	if (fabs(d) < tiny)
		d = tiny;
	d = 1 / d;
	h = d;
	for (int m = 1; m <= 300; m++) {
		double m2 = 2.0 * m, aa, del;

		aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
		d = 1 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		h *= d * c;
		aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
		d = 1 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1) < 1e-15)
			break;
	}
	return h;
}

double pb_betainc(double a, double b, double x)
{
	double lbt;

	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) +
	      b * log1p(-x);
	if (x < (a + 1) / (a + b + 2))
		return exp(lbt) * betacf(a, b, x) / a;
	return 1 - exp(lbt) * betacf(b, a, 1 - x) / b;
}

double pb_t_pvalue(double t, double df)
{
	if (isnan(t) || !(df > 0))
		return NAN;
	if (isinf(t))
		return 0;
	return pb_betainc(df / 2, 0.5, df / (df + t * t));
}

double pb_ttest_pooled(double *t_out, double mean1, double sd1, size_t n1,
		       double mean2, double sd2, size_t n2)
{
	double df, svar, denom, diff = mean1 - mean2, t, p;

	if (t_out)
		*t_out = 0;
	if (n1 == 0 || n2 == 0 || n1 + n2 < 3)
		return 1;
	df = (double)(n1 + n2 - 2);
	svar = (((double)n1 - 1) * sd1 * sd1 + ((double)n2 - 1) * sd2 * sd2) /
	       df;
	denom = sqrt(svar * (1.0 / (double)n1 + 1.0 / (double)n2));
	if (denom == 0) {
		/* two constant sides: different means are certain */
		if (diff == 0)
			return 1;
		t = diff > 0 ? INFINITY : -INFINITY;
		p = 0;
	} else {
		t = diff / denom;
		p = pb_t_pvalue(t, df);
	}
	if (t_out)
		*t_out = t;
	return isnan(p) ? 1 : fmin(p, 1.0);
}

double pb_beta_greater(double a1, double b1, double a0, double b0)
{
	/* P(p1 > p0) = integral of f1(x) F0(x) dx.  With x = sin^2(t) the
	 * density of p1 becomes 2 sin^(2 a1 - 1)(t) cos^(2 b1 - 1)(t) / B,
	 * bounded whenever a1, b1 >= 1/2, so the midpoint rule in t copes
	 * with the singularities at 0 and 1 that a parameter below 1 gives. */
	const int steps = 4000;
	const double h = M_PI / 2 / steps;
	double s = 0, lb1 = lgamma(a1) + lgamma(b1) - lgamma(a1 + b1);

	for (int i = 0; i < steps; i++) {
		double t = (i + 0.5) * h, st = sin(t), ct = cos(t);
		double f = 2 * exp((2 * a1 - 1) * log(st) +
				   (2 * b1 - 1) * log(ct) - lb1);

		s += f * pb_betainc(a0, b0, st * st);
	}
	return s * h;
}

double pb_t_quantile(double p, double df)
{
	double lo = 0, hi = 1e6, want;

	if (!(p > 0 && p < 1) || !(df > 0))
		return NAN;
	if (p == 0.5)
		return 0;
	/* P(T > t) = pvalue(t) / 2 for t >= 0 */
	want = 2 * (p > 0.5 ? 1 - p : p);
	for (int k = 0; k < 200 && hi - lo > 1e-9 * (1 + lo); k++) {
		double mid = (lo + hi) / 2;

		if (pb_t_pvalue(mid, df) > want)
			lo = mid;
		else
			hi = mid;
	}
	return p > 0.5 ? (lo + hi) / 2 : -(lo + hi) / 2;
}
