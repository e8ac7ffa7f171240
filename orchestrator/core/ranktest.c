/*
 * ranktest.c - Mann-Whitney U and two-sample Kolmogorov-Smirnov, after
 * Chromium Pinpoint's compare/ (see ranktest.h for the contracts).
 *
 * Both tests start from the two samples sorted.  MWU walks the pooled,
 * sorted sample once, giving each run of equal values its mid-rank and
 * adding t^3 - t of the run to the tie sum.  KS walks both sorted samples
 * together: at every distinct value v it compares the fractions of each
 * sample <= v (the ECDFs just right of v, as Python's bisect.bisect gives
 * them), so ties across the samples are stepped over together.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "ranktest.h"
#include "common/banned.h"

struct tagged {
	double v;
	int from_x;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmp_tagged(const void *a, const void *b)
{
	return cmp_double(&((const struct tagged *)a)->v,
			  &((const struct tagged *)b)->v);
}

static int check_sample(const double *x, size_t n)
{
	if (n == 0)
		return PB_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return PB_EINVAL;
	return PB_OK;
}

/* P(Z > z) of the standard normal. */
static double norm_sf(double z)
{
	return 0.5 * erfc(z / sqrt(2.0));
}

int pb_mwu_test(struct pb_mwu *out, const double *x, size_t nx,
		const double *y, size_t ny)
{
	struct tagged *all = NULL;
	size_t n = nx + ny, i, j;
	double rank_x = 0, ties = 0, n1 = (double)nx, n2 = (double)ny;
	double u_big, tie_factor, sd;
	int rc = PB_EINVAL;

	if (check_sample(x, nx) < 0 || check_sample(y, ny) < 0)
		goto out;
	rc = PB_ERROR;
	all = malloc(n * sizeof(*all));
	if (!all)
		goto out;
	for (i = 0; i < nx; i++)
		all[i] = (struct tagged){ x[i], 1 };
	for (i = 0; i < ny; i++)
		all[nx + i] = (struct tagged){ y[i], 0 };
	qsort(all, n, sizeof(*all), cmp_tagged);
	for (i = 0; i < n; i = j) {
		double t, mid;

		for (j = i + 1; j < n && all[j].v == all[i].v; j++)
			;
		t = (double)(j - i);
		mid = ((double)i + 1 + (double)j) / 2; /* ranks i+1 .. j */
		for (size_t k = i; k < j; k++)
			if (all[k].from_x)
				rank_x += mid;
		ties += t * t * t - t;
	}
	out->u = rank_x - n1 * (n1 + 1) / 2;
	u_big = fmax(out->u, n1 * n2 - out->u);
	tie_factor = n > 1 ? 1 - ties / ((double)n * n * n - (double)n) : 1;
	if (tie_factor <= 0) {
		out->z = 0;
		out->p = out->p_one_sided = 1;
	} else {
		sd = sqrt(tie_factor * n1 * n2 * (n1 + n2 + 1) / 12);
		out->z = (u_big - (n1 * n2 / 2 + 0.5)) / sd;
		out->p_one_sided = norm_sf(fabs(out->z));
		out->p = 2 * out->p_one_sided;
	}
	rc = PB_OK;
out:
	free(all);
	return rc;
}

double pb_kolmogorov_sf(double y)
{
	double x = -2 * y * y, sign = 1, p = 0, r = 1, t;

	if (!(y >= 1.1e-16))
		return 1;
	for (;;) {
		t = exp(x * r * r);
		p += sign * t;
		if (t == 0 || t / p <= 1.1e-16)
			break;
		r += 1;
		sign = -sign;
	}
	return fmin(1.0, p + p);
}

int pb_ks_test(struct pb_ks *out, const double *x, size_t nx,
	       const double *y, size_t ny)
{
	double *sx = NULL, *sy = NULL, d = 0, en;
	size_t i = 0, j = 0;
	int rc = PB_EINVAL;

	if (check_sample(x, nx) < 0 || check_sample(y, ny) < 0)
		goto out;
	rc = PB_ERROR;
	sx = malloc(nx * sizeof(*sx));
	sy = malloc(ny * sizeof(*sy));
	if (!sx || !sy)
		goto out;
	memcpy(sx, x, nx * sizeof(*sx));
	memcpy(sy, y, ny * sizeof(*sy));
	qsort(sx, nx, sizeof(*sx), cmp_double);
	qsort(sy, ny, sizeof(*sy), cmp_double);
	while (i < nx || j < ny) {
		double v = i == nx   ? sy[j]
			   : j == ny ? sx[i]
				     : fmin(sx[i], sy[j]);

		while (i < nx && sx[i] == v)
			i++;
		while (j < ny && sy[j] == v)
			j++;
		d = fmax(d, fabs((double)i / (double)nx -
				 (double)j / (double)ny));
	}
	en = sqrt((double)nx * (double)ny / ((double)nx + (double)ny));
	out->d = d;
	out->p = pb_kolmogorov_sf((en + 0.12 + 0.11 / en) * d);
	rc = PB_OK;
out:
	free(sx);
	free(sy);
	return rc;
}
