/*
 * mixture.c - two normal components fitted by EM, started from the best
 * 2-means split.
 *
 * The start: sort the sample and take the split point that minimises the
 * within-group sum of squares (found in one pass with prefix sums), so
 * well separated modes are found at once and EM only polishes them.  EM
 * then alternates responsibilities and weighted moments until the
 * log-likelihood stops rising (relative change below 1e-10) or 500
 * iterations.  A component must not collapse onto one value (the
 * likelihood then grows without bound), so each variance gets a weak
 * prior: one pseudo-observation at the pooled within-group variance of the
 * starting split (a MAP estimate), and a hard floor relative to the
 * sample's scale.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "mixture.h"

#define MIX_MAX_ITERS 500
#define MIX_TOL 1e-10

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double normal_logpdf(double x, double mu, double sd)
{
	double z = (x - mu) / sd;

	return -0.5 * z * z - log(sd) - 0.91893853320467274178;
}

double pb_ashman_d(double mu0, double sd0, double mu1, double sd1)
{
	double v = sd0 * sd0 + sd1 * sd1;

	if (v <= 0)
		return mu0 == mu1 ? 0 : INFINITY;
	return sqrt(2.0) * fabs(mu1 - mu0) / sqrt(v);
}

/* log(w0 f0(x) + w1 f1(x)) and the responsibility of component 1. */
static double mix_point(const struct pb_mix *m, double x, double *r1)
{
	double a = log(m->w[0]) + normal_logpdf(x, m->mu[0], m->sd[0]);
	double b = log(m->w[1]) + normal_logpdf(x, m->mu[1], m->sd[1]);
	double hi = a > b ? a : b;
	double l = hi + log(exp(a - hi) + exp(b - hi));

	if (r1)
		*r1 = exp(b - l);
	return l;
}

double pb_mix_resp(const struct pb_mix *m, double x)
{
	double r;

	mix_point(m, x, &r);
	return r;
}

double pb_mix_threshold(const struct pb_mix *m)
{
	double lo = m->mu[0], hi = m->mu[1];

	if (!(hi > lo))
		return (lo + hi) / 2;
	/* The responsibility of component 1 rises from lo to hi when both
	 * components are at least roughly alike; bisect for 1/2. */
	if (pb_mix_resp(m, lo) >= 0.5 || pb_mix_resp(m, hi) <= 0.5)
		return (lo + hi) / 2;
	for (int i = 0; i < 200 && hi - lo > 1e-12 * (fabs(lo) + fabs(hi));
	     i++) {
		double mid = (lo + hi) / 2;

		if (pb_mix_resp(m, mid) < 0.5)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

static void moments(const double *x, size_t n, double *mean, double *sd)
{
	double s = 0, ss = 0;

	for (size_t i = 0; i < n; i++)
		s += x[i];
	*mean = s / (double)n;
	for (size_t i = 0; i < n; i++)
		ss += (x[i] - *mean) * (x[i] - *mean);
	*sd = sqrt(ss / (double)n);
}

int pb_mix_fit(struct pb_mix *out, const double *x, size_t n,
	       double floor_rel)
{
	double *s = NULL, *r = NULL, *pre = NULL, *pre2 = NULL;
	double best = INFINITY, prev = -INFINITY, med, s0sq;
	size_t split = 1;
	int ret = PB_EINVAL;

	memset(out, 0, sizeof(*out));
	if (n < 2)
		return PB_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return PB_EINVAL;
	s = malloc(n * sizeof(*s));
	r = malloc(n * sizeof(*r));
	pre = malloc((n + 1) * sizeof(*pre));
	pre2 = malloc((n + 1) * sizeof(*pre2));
	if (!s || !r || !pre || !pre2) {
		ret = PB_ERROR;
		goto out;
	}
	memcpy(s, x, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	med = fabs(n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2);
	out->sd_floor = floor_rel * med;
	if (!(out->sd_floor > 1e-12))
		out->sd_floor = 1e-12;

	/* Best 2-means split of the sorted sample, from prefix sums (values
	 * are centred first, so the sums keep their precision). */
	pre[0] = pre2[0] = 0;
	for (size_t i = 0; i < n; i++) {
		double v = s[i] - s[n / 2];

		pre[i + 1] = pre[i] + v;
		pre2[i + 1] = pre2[i] + v * v;
	}
	for (size_t k = 1; k < n; k++) {
		double a = pre[k], b = pre[n] - pre[k];
		double sse = pre2[n] - a * a / (double)k -
			     b * b / (double)(n - k);

		if (k == 1 || sse < best - 1e-15 * (fabs(best) + 1)) {
			best = sse;
			split = k;
		}
	}
	out->n = n;
	out->w[0] = (double)split / (double)n;
	out->w[1] = 1 - out->w[0];
	moments(s, split, &out->mu[0], &out->sd[0]);
	moments(s + split, n - split, &out->mu[1], &out->sd[1]);
	s0sq = best / (double)n;
	if (s0sq < out->sd_floor * out->sd_floor)
		s0sq = out->sd_floor * out->sd_floor;
	for (int c = 0; c < 2; c++)
		out->sd[c] = sqrt((out->sd[c] * out->sd[c] *
				   (double)(c ? n - split : split) + s0sq) /
				  ((double)(c ? n - split : split) + 1));

	for (out->iters = 0; out->iters < MIX_MAX_ITERS; out->iters++) {
		double ll = 0, sw[2] = { 0, 0 }, sx[2] = { 0, 0 };
		double sxx[2] = { 0, 0 };

		for (size_t i = 0; i < n; i++)
			ll += mix_point(out, s[i], &r[i]);
		out->loglik = ll;
		if (ll - prev <= MIX_TOL * fabs(ll) && out->iters > 0)
			break;
		prev = ll;
		for (size_t i = 0; i < n; i++) {
			sw[1] += r[i];
			sw[0] += 1 - r[i];
			sx[1] += r[i] * s[i];
			sx[0] += (1 - r[i]) * s[i];
		}
		/* A component that lost every point keeps its last shape. */
		if (sw[0] < 1e-9 || sw[1] < 1e-9)
			break;
		for (int c = 0; c < 2; c++)
			out->mu[c] = sx[c] / sw[c];
		for (size_t i = 0; i < n; i++) {
			double d0 = s[i] - out->mu[0], d1 = s[i] - out->mu[1];

			sxx[0] += (1 - r[i]) * d0 * d0;
			sxx[1] += r[i] * d1 * d1;
		}
		for (int c = 0; c < 2; c++) {
			out->w[c] = sw[c] / (double)n;
			out->sd[c] = sqrt((sxx[c] + s0sq) / (sw[c] + 1));
			if (!(out->sd[c] >= out->sd_floor))
				out->sd[c] = out->sd_floor;
		}
	}
	if (out->mu[0] > out->mu[1]) {
		double t;

		t = out->mu[0]; out->mu[0] = out->mu[1]; out->mu[1] = t;
		t = out->sd[0]; out->sd[0] = out->sd[1]; out->sd[1] = t;
		t = out->w[0]; out->w[0] = out->w[1]; out->w[1] = t;
	}
	out->ashman_d = pb_ashman_d(out->mu[0], out->sd[0], out->mu[1],
				    out->sd[1]);
	ret = 0;
out:
	free(s);
	free(r);
	free(pre);
	free(pre2);
	return ret;
}
