/*
 * edivisive.c - E-divisive means with Student t-test significance, sliding
 * windows, weak change points and a merge pass (see edivisive.h; Apache
 * Otava's variant of Hunter, reimplemented from its description).
 *
 * The energy statistic of a split.  For a segment w[s..e) every pair
 * (tau, kappa), s < tau < kappa <= e, splits w[s..kappa) into
 * X = w[s..tau) and Y = w[tau..kappa).  With P(a, b) the sum of |wi - wj|
 * over the pairs a <= i < j < b, the three sums of Q are
 *     sum_{X pairs} = P(s, tau)    sum_{Y pairs} = P(tau, kappa)
 *     sum|X - Y|    = P(s, kappa) - P(s, tau) - P(tau, kappa)
 * best_split() walks kappa upwards keeping, for every row a, the sum of
 * |wa - wj| over a < j < kappa; suffix sums of those rows give
 * P(., kappa) in O(m), so one segment costs O(m^2) time and O(m) memory.
 * For integer-valued series every sum is exact, so Q comes out bit for bit
 * as Otava's numpy matrices give it, and so do its ties: Otava takes the
 * first maximum of the (tau, kappa) matrix in row-major order, cells with
 * tau >= kappa holding 0; best_split() orders cells the same way.
 *
 * The t-test is pb_ttest_pooled() (stats.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "edivisive.h"
#include "stats.h"
#include "common/banned.h"

/* ---- statistics of a split ------------------------------------------- */

static void seg_stats(const double *x, size_t n, double *mean, double *sd)
{
	double s = 0, ss = 0;

	for (size_t i = 0; i < n; i++)
		s += x[i];
	*mean = s / (double)n;
	if (n < 2) {
		*sd = 0;
		return;
	}
	for (size_t i = 0; i < n; i++)
		ss += (x[i] - *mean) * (x[i] - *mean);
	*sd = sqrt(ss / (double)n);
}

static double rel_change(double to, double from)
{
	return from == 0 ? 0 : to / from - 1;
}

/* Fills cp for the split of x[lo..hi) at cp->index (lo < index < hi). */
static void split_stats(struct pb_change_point *cp, const double *x,
			size_t lo, size_t hi)
{
	size_t i = cp->index;

	seg_stats(x + lo, i - lo, &cp->mean_before, &cp->sd_before);
	seg_stats(x + i, hi - i, &cp->mean_after, &cp->sd_after);
	cp->p_value = pb_ttest_pooled(&cp->t, cp->mean_before, cp->sd_before,
				      i - lo, cp->mean_after, cp->sd_after,
				      hi - i);
	cp->forward_change = rel_change(cp->mean_after, cp->mean_before);
	cp->backward_change = rel_change(cp->mean_before, cp->mean_after);
	cp->magnitude = fmax(fabs(cp->forward_change),
			     fabs(cp->backward_change));
}

/* ---- the energy statistic -------------------------------------------- */

/* Scratch for best_split(): three arrays of window + 1 doubles. */
struct scratch {
	double *px;   /* px[t - s] = P(s, t) */
	double *row;  /* row[a - s] = sum_{a < j < kappa} |w_a - w_j| */
	double *pk;   /* pk[a - s] = P(a, kappa) */
};

/* num / den, both integers, rounded once. */
static double coef(size_t num, size_t den)
{
	return (double)num / (double)den;
}

/* Does cell (q, i, j) come before the best so far (bq, bi, bj)? */
static int better(double q, size_t i, size_t j, int have, double bq,
		  size_t bi, size_t bj)
{
	if (isnan(q))
		return 0;
	if (!have || q > bq)
		return 1;
	return q == bq && (i < bi || (i == bi && j < bj));
}

/*
 * The split tau of w[s..e) (e - s >= 2) maximising Q over kappa; returns 0
 * and sets *tau, *q, or -1 when no cell is a number.
 */
static int best_split(size_t *tau_out, double *q_out, const double *w,
		      size_t s, size_t e, struct scratch *sc)
{
	size_t m = e - s, bi = 0, bj = 0;
	double bq = 0;
	int have = 0;

	/* px[k] = P(s, s + k) */
	sc->px[0] = sc->px[1] = 0;
	for (size_t k = 1; k < m; k++) {
		double v = 0;

		for (size_t i = s; i < s + k; i++)
			v += fabs(w[i] - w[s + k]);
		sc->px[k + 1] = sc->px[k] + v;
	}
	memset(sc->row, 0, m * sizeof(*sc->row));
	for (size_t kappa = s + 2; kappa <= e; kappa++) {
		size_t j = kappa - s - 2;
		double tot;

		/* rows now run to kappa - 1 */
		for (size_t a = s; a < kappa - 1; a++)
			sc->row[a - s] += fabs(w[a] - w[kappa - 1]);
		sc->pk[kappa - 1 - s] = 0;
		for (size_t a = kappa - 1; a-- > s;)
			sc->pk[a - s] = sc->pk[a + 1 - s] + sc->row[a - s];
		tot = sc->pk[0];
		for (size_t tau = s + 1; tau < kappa; tau++) {
			size_t i = tau - s - 1;
			double sxx = sc->px[tau - s], syy = sc->pk[tau - s];
			double sxy = tot - sxx - syy, a, b = 0, c = 0, q;

			/* Otava's order of operations: coefficient, then
			 * times the sum */
			a = (2.0 / (double)(kappa - s)) * sxy;
			if (tau - s - 1 > 0)
				b = coef(2 * (kappa - tau),
					 (kappa - s) * (tau - s - 1)) * sxx;
			if (kappa - tau - 1 > 0)
				c = coef(2 * (tau - s),
					 (kappa - s) * (kappa - tau - 1)) * syy;
			q = a - b - c;
			if (better(q, i, j, have, bq, bi, bj)) {
				have = 1;
				bq = q;
				bi = i;
				bj = j;
			}
		}
	}
	/* the first cell with tau >= kappa, (i, j) = (1, 0), holds 0 */
	if (m - 1 >= 2 && better(0, 1, 0, have, bq, bi, bj)) {
		have = 1;
		bq = 0;
		bi = 1;
	}
	if (!have)
		return -1;
	*tau_out = s + 1 + bi;
	*q_out = bq;
	return 0;
}

/* ---- split: one window ------------------------------------------------ */

/* Inserts v into the ascending a[0..n) (room for n + 1). */
static void insert_sorted(size_t *a, size_t n, size_t v)
{
	while (n > 0 && a[n - 1] > v) {
		a[n] = a[n - 1];
		n--;
	}
	a[n] = v;
}

/*
 * Recursive E-divisive on w[0..m): appends to found[] (sorted, local
 * indices) every split with p <= pmax, stopping at the first candidate
 * that is not significant.  found has room for m entries.
 */
static size_t detect_window(size_t *found, const double *w, size_t m,
			    double pmax, struct scratch *sc)
{
	size_t nfound = 0;

	for (;;) {
		size_t best_tau = 0, lo = 0, hi = 0;
		double best_q = 0;
		int have = 0;
		struct pb_change_point cp;

		for (size_t k = 0; k <= nfound; k++) {
			size_t s = k ? found[k - 1] : 0;
			size_t e = k < nfound ? found[k] : m;
			size_t tau;
			double q;

			if (e - s < 2 || best_split(&tau, &q, w, s, e, sc) < 0)
				continue;
			if (!have || q > best_q) {
				have = 1;
				best_q = q;
				best_tau = tau;
				lo = s;
				hi = e;
			}
		}
		if (!have)
			break;
		memset(&cp, 0, sizeof(cp));
		cp.index = best_tau;
		split_stats(&cp, w, lo, hi);
		if (!(cp.p_value <= pmax))
			break;
		insert_sorted(found, nfound++, best_tau);
	}
	return nfound;
}

/* ---- the whole algorithm --------------------------------------------- */

static int cmp_cp(const void *a, const void *b)
{
	size_t x = ((const struct pb_change_point *)a)->index;
	size_t y = ((const struct pb_change_point *)b)->index;

	return (x > y) - (x < y);
}

/* Stats of cps[k] against its neighbours in x[0..n). */
static void neighbour_stats(struct pb_change_point *cps, size_t ncp,
			    size_t k, const double *x, size_t n)
{
	size_t lo = k ? cps[k - 1].index : 0;
	size_t hi = k + 1 < ncp ? cps[k + 1].index : n;

	split_stats(&cps[k], x, lo, hi);
}

static size_t merge(struct pb_change_point *cps, size_t ncp, const double *x,
		    size_t n, const struct pb_ediv_opts *o)
{
	while (ncp > 0) {
		size_t w = 0;

		for (size_t k = 1; k < ncp; k++)
			if (cps[k].p_value > cps[w].p_value)
				w = k;
		if (cps[w].p_value < o->max_pvalue) {
			w = 0;
			for (size_t k = 1; k < ncp; k++)
				if (cps[k].magnitude < cps[w].magnitude)
					w = k;
			if (cps[w].magnitude > o->min_magnitude)
				break;
		}
		memmove(&cps[w], &cps[w + 1], (ncp - w - 1) * sizeof(*cps));
		ncp--;
		/*
		 * Refresh the points now at w and w + 1, as Otava's merge()
		 * does.  The segments that changed are those of w - 1 and w:
		 * the stats of w - 1 stay stale until its other neighbour
		 * goes.  Refreshing w - 1 and w instead changes 7 of Otava's
		 * 11 Tigerbeetle reference results (test_edivisive.c), so
		 * perfbisect keeps Otava's order: its output is the
		 * reference users compare with.
		 */
		if (w < ncp)
			neighbour_stats(cps, ncp, w, x, n);
		if (w + 1 < ncp)
			neighbour_stats(cps, ncp, w + 1, x, n);
	}
	return ncp;
}

/* Appends a weak change point at idx unless one is there already (later
 * windows overlap earlier ones).  Returns 0, or -1 without memory. */
static int add_weak(struct pb_change_point **cps, size_t *ncp, size_t *cap,
		    size_t idx)
{
	for (size_t c = 0; c < *ncp; c++)
		if ((*cps)[c].index == idx)
			return 0;
	if (*ncp == *cap) {
		size_t ncap = *cap ? 2 * *cap : 16;
		struct pb_change_point *g = realloc(*cps, ncap * sizeof(*g));

		if (!g)
			return -1;
		*cps = g;
		*cap = ncap;
	}
	memset(&(*cps)[*ncp], 0, sizeof(**cps));
	(*cps)[(*ncp)++].index = idx;
	return 0;
}

int pb_edivisive(struct pb_change_point **out, size_t *nout, const double *x,
		 size_t n, const struct pb_ediv_opts *opts)
{
	struct pb_change_point *cps = NULL;
	struct scratch sc = { NULL, NULL, NULL };
	size_t *found = NULL, ncp = 0, cap = 0, start = 0, step, win;
	double first_p, p = opts ? opts->max_pvalue : NAN;
	int rc = PB_EINVAL;

	*out = NULL;
	*nout = 0;
	if (!opts || opts->window < 2 || !(p > 0 && p <= 1) ||
	    !(opts->min_magnitude >= 0) || isinf(opts->min_magnitude))
		goto out;
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
			goto out;
	rc = PB_ERROR;
	win = opts->window < n ? opts->window : n;
	step = opts->window / 2;
	first_p = p < 0.05 ? p * 10 : p < 0.5 ? p * 2 : p;
	if (n < 2) {
		rc = PB_OK;
		goto out;
	}
	sc.px = malloc((win + 1) * sizeof(double));
	sc.row = malloc((win + 1) * sizeof(double));
	sc.pk = malloc((win + 1) * sizeof(double));
	found = malloc(win * sizeof(*found));
	if (!sc.px || !sc.row || !sc.pk || !found)
		goto out;

	/* split: the weak change points of every window */
	while (start < n) {
		size_t m = n - start > opts->window ? opts->window
						     : n - start;
		size_t nf = detect_window(found, x + start, m, first_p, &sc);
		size_t last = nf ? start + found[nf - 1] : 0;

		for (size_t k = 0; k < nf; k++)
			if (add_weak(&cps, &ncp, &cap, start + found[k]) < 0)
				goto out;
		start = last > start + step ? last : start + step;
	}
	if (ncp > 1)
		qsort(cps, ncp, sizeof(*cps), cmp_cp);
	for (size_t k = 0; k < ncp; k++)
		neighbour_stats(cps, ncp, k, x, n);

	ncp = merge(cps, ncp, x, n, opts);
	/* report every survivor against its final neighbours (merge() may
	 * leave a left neighbour's stats stale) */
	for (size_t k = 0; k < ncp; k++)
		neighbour_stats(cps, ncp, k, x, n);
	if (ncp > 0) {
		*out = cps;
		*nout = ncp;
		cps = NULL;
	}
	rc = PB_OK;
out:
	free(cps);
	free(found);
	free(sc.px);
	free(sc.row);
	free(sc.pk);
	return rc;
}
