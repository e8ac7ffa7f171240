/*
 * changes.c - change points of a history of runs (see changes.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "changes.h"
#include "dip.h"
#include "edivisive.h"
#include "mixture.h"
#include "stats.h"

#define BIMODAL_MIN_RUNS 10      /* statistics.md section 3 */
#define BIMODAL_MIN_ASHMAN 2.0
#define BIMODAL_DIP_ALPHA 0.05
#define MIX_FLOOR_REL 0.005

/* The runs by position: position c's runs are
 * values[off[c] .. off[c + 1]). */
struct hist {
	size_t ncommits;
	const size_t *off;
	const double *values;
};

/* ---- the series ------------------------------------------------------- */

static int series_rank(const char *s)
{
	return !strcmp(s, "fast_median");
}

static int cmp_point(const void *a, const void *b)
{
	const struct pb_change_at *x = a, *y = b;

	if (x->index != y->index)
		return (x->index > y->index) - (x->index < y->index);
	return series_rank(x->series) - series_rank(y->series);
}

/*
 * E-divisive on y[0..n); pos[i] (NULL: i) is the position of y[i] among
 * the values or commits.  Appends the change points to out->points.
 */
static int run_series(struct pb_changes *out, const char *name,
		      const double *y, const size_t *pos, size_t n,
		      const struct pb_changes_opts *o)
{
	struct pb_ediv_opts eo = PB_EDIV_OPTS_INIT;
	struct pb_change_point *cps = NULL;
	struct pb_change_at *g;
	size_t ncp = 0;
	int rc;

	eo.window = o->window;
	eo.max_pvalue = o->max_pvalue;
	eo.min_magnitude = o->min_magnitude;
	rc = pb_edivisive(&cps, &ncp, y, n, &eo);
	if (rc < 0) {
		rc = pb_error_code(rc, "change point detection failed on the "
				   "%s series", name);
		goto out;
	}
	if (ncp == 0)
		goto out;
	g = realloc(out->points, (out->npoints + ncp) * sizeof(*g));
	if (!g) {
		rc = pb_error_set("out of memory");
		goto out;
	}
	out->points = g;
	for (size_t i = 0; i < ncp; i++) {
		struct pb_change_at *p = &out->points[out->npoints++];

		p->index = pos ? pos[cps[i].index] : cps[i].index;
		p->series = name;
		p->before = cps[i].mean_before;
		p->after = cps[i].mean_after;
		p->p_value = cps[i].p_value;
	}
	rc = PB_OK;
out:
	free(cps);
	return rc;
}

/*
 * Classifies the pooled runs; decides bimodality (detect.h) and records
 * the evidence in out.  Returns 1 bimodal, 0 not, or a negative error.
 */
static int check_bimodal(struct pb_changes *out, const struct hist *r,
			 size_t nvalues, int lower_is_better)
{
	struct pb_mix mix;
	double tau;
	int rc;

	if (nvalues < BIMODAL_MIN_RUNS)
		return 0;
	rc = pb_mix_fit(&mix, r->values, nvalues, MIX_FLOOR_REL);
	if (rc < 0)
		return pb_error_code(rc, "cannot fit the mixture of %zu runs",
				     nvalues);
	rc = pb_dip_test(&out->dip, &out->dip_p, r->values, nvalues);
	if (rc < 0)
		return pb_error_code(rc, "cannot compute the dip of %zu runs",
				     nvalues);
	out->ashman_d = mix.ashman_d;
	tau = pb_mix_threshold(&mix);
	for (size_t c = 0; c < r->ncommits; c++) {
		size_t slow = 0, nr = r->off[c + 1] - r->off[c];

		for (size_t i = r->off[c]; i < r->off[c + 1]; i++)
			slow += lower_is_better ? r->values[i] > tau
						: r->values[i] < tau;
		if (slow > 0 && slow < nr)
			out->mixed++;
		out->slow_runs += slow;
	}
	out->two_modes = mix.ashman_d >= BIMODAL_MIN_ASHMAN &&
			 out->dip_p < BIMODAL_DIP_ALPHA;
	if (!out->two_modes || out->mixed == 0) {
		out->slow_runs = 0;
		return 0;
	}
	out->threshold = tau;
	return 1;
}

/* Bimodal runs are judged on three series: the share of each commit's
 * runs that are slow, the median of its fast runs and the median of its
 * slow runs (commits without such runs left out of the last two).  The
 * third sees the slow mode move as a whole: without it, a history whose
 * runs all fell below the boundary (one stray slow run early on made it
 * "bimodal"), then dropped twice more, showed the drops in no series. */
static int run_bimodal(struct pb_changes *out, const struct hist *r,
		       const struct pb_changes_opts *o)
{
	size_t nc = r->ncommits, nfast = 0, nslow = 0, *pos = NULL,
	       *spos = NULL;
	double *frac = NULL, *fast_med = NULL, *slow_med = NULL, *buf = NULL,
	       *sbuf = NULL;
	int rc = PB_ERROR;

	frac = malloc(nc * sizeof(*frac));
	fast_med = malloc(nc * sizeof(*fast_med));
	slow_med = malloc(nc * sizeof(*slow_med));
	pos = malloc(nc * sizeof(*pos));
	spos = malloc(nc * sizeof(*spos));
	buf = malloc(out->max_runs * sizeof(*buf));
	sbuf = malloc(out->max_runs * sizeof(*sbuf));
	if (!frac || !fast_med || !slow_med || !pos || !spos || !buf ||
	    !sbuf) {
		pb_error_set("out of memory");
		goto out;
	}
	for (size_t c = 0; c < nc; c++) {
		size_t nr = r->off[c + 1] - r->off[c], nb = 0, ns = 0;

		for (size_t i = r->off[c]; i < r->off[c + 1]; i++) {
			double v = r->values[i];

			if (o->lower_is_better ? v > out->threshold
					       : v < out->threshold)
				sbuf[ns++] = v;
			else
				buf[nb++] = v;
		}
		frac[c] = (double)(nr - nb) / (double)nr;
		if (ns > 0) {
			spos[nslow] = c;
			slow_med[nslow++] = pb_median(sbuf, ns);
		}
		if (nb == 0) {
			out->no_fast++;
			continue;
		}
		pos[nfast] = c;
		fast_med[nfast++] = pb_median(buf, nb);
	}
	rc = run_series(out, "slow_fraction", frac, NULL, nc, o);
	if (rc == PB_OK)
		rc = run_series(out, "fast_median", fast_med, pos, nfast, o);
	if (rc == PB_OK)
		rc = run_series(out, "slow_median", slow_med, spos, nslow, o);
out:
	free(frac);
	free(fast_med);
	free(slow_med);
	free(pos);
	free(spos);
	free(buf);
	free(sbuf);
	return rc;
}

static int run_medians(struct pb_changes *out, const struct hist *r,
		       const struct pb_changes_opts *o)
{
	double *med = malloc(r->ncommits * sizeof(*med));
	int rc;

	if (!med)
		return pb_error_set("out of memory");
	for (size_t c = 0; c < r->ncommits; c++)
		med[c] = pb_median(r->values + r->off[c],
				   r->off[c + 1] - r->off[c]);
	rc = run_series(out, "median", med, NULL, r->ncommits, o);
	free(med);
	return rc;
}

int pb_changes_check_opts(const struct pb_changes_opts *o)
{
	if (o->window < 2 || o->window > PB_CHANGES_MAX_WINDOW)
		return pb_error_code(PB_EINVAL, "window %zu is out of range "
				     "[2, %d]", o->window,
				     PB_CHANGES_MAX_WINDOW);
	if (!(o->max_pvalue > 0 && o->max_pvalue <= 1))
		return pb_error_code(PB_EINVAL, "max p-value %g is not in "
				     "(0, 1]", o->max_pvalue);
	if (!(o->min_magnitude >= 0) || isinf(o->min_magnitude))
		return pb_error_code(PB_EINVAL, "min magnitude %g is not a "
				     "finite number >= 0", o->min_magnitude);
	return PB_OK;
}

int pb_changes_find(struct pb_changes *out, const double *values,
		    const size_t *off, size_t n,
		    const struct pb_changes_opts *o)
{
	struct hist r = { n, off, values };
	size_t *own = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->ashman_d = out->dip = out->dip_p = out->threshold = NAN;
	if ((rc = pb_changes_check_opts(o)) < 0)
		return rc;
	if (n == 0)
		return pb_error_code(PB_EINVAL, "no values");
	if (!off) {
		own = malloc((n + 1) * sizeof(*own));
		if (!own)
			return pb_error_set("out of memory");
		for (size_t i = 0; i <= n; i++)
			own[i] = i;
		r.off = own;
	}
	for (size_t c = 0; c < n; c++) {
		size_t nr = r.off[c + 1] - r.off[c];

		if (r.off[c + 1] <= r.off[c]) {
			rc = pb_error_code(PB_EINVAL, "position %zu has no "
					   "runs", c);
			goto out;
		}
		if (nr > out->max_runs)
			out->max_runs = nr;
	}
	out->nvalues = r.off[n];
	out->npositions = n;
	for (size_t i = 0; i < out->nvalues; i++)
		if (!isfinite(values[i])) {
			rc = pb_error_code(PB_EINVAL, "value %zu is not "
					   "finite", i);
			goto out;
		}
	if (out->max_runs == 1) {
		out->kind = PB_CHANGES_VALUES;
		rc = run_series(out, "value", values, NULL, n, o);
		goto out;
	}
	rc = check_bimodal(out, &r, out->nvalues, o->lower_is_better);
	if (rc < 0)
		goto out;
	out->kind = rc ? PB_CHANGES_BIMODAL : PB_CHANGES_MEDIANS;
	rc = rc ? run_bimodal(out, &r, o) : run_medians(out, &r, o);
out:
	if (rc >= 0 && out->npoints > 1)
		qsort(out->points, out->npoints, sizeof(*out->points),
		      cmp_point);
	free(own);
	return rc < 0 ? rc : PB_OK;
}

void pb_changes_release(struct pb_changes *c)
{
	if (!c)
		return;
	free(c->points);
	c->points = NULL;
	c->npoints = 0;
}

const char *pb_changes_kind_name(enum pb_changes_kind k)
{
	switch (k) {
	case PB_CHANGES_VALUES: return "value";
	case PB_CHANGES_MEDIANS: return "median";
	case PB_CHANGES_BIMODAL: return "bimodal";
	}
	return "?";
}
