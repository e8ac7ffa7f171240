/*
 * history.c - the changes of a series that deserve an alert (history.h).
 *
 * Each machine's runs are laid out by line position (positions with no
 * run of that machine are simply absent), handed to core/changes.c, and
 * each change point is weighed on the runs themselves: the mean metric of
 * the segment after it against the segment before, the segments running
 * to the neighbouring change points (as E-divisive's merge step judges
 * them).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "orchestrator/history.h"

struct keyed {
	const char *sha;
	size_t pos;
};

static int cmp_keyed(const void *a, const void *b)
{
	return strcmp(((const struct keyed *)a)->sha,
		      ((const struct keyed *)b)->sha);
}

/* A run of one machine at a line position; idx keeps the runs' order. */
struct placed {
	size_t pos, idx;
	double value;
};

static int cmp_placed(const void *a, const void *b)
{
	const struct placed *x = a, *y = b;

	if (x->pos != y->pos)
		return (x->pos > y->pos) - (x->pos < y->pos);
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* A range (good, bad] of line positions (SIZE_MAX: off the line). */
struct pb_history_range {
	size_t good, bad;
};

/* Measured positions of the machine strictly after `lo` and up to `hi`. */
static size_t measured_between(const size_t *P, size_t np, size_t lo,
			       size_t hi)
{
	size_t c = 0;

	for (size_t k = 0; k < np; k++)
		c += P[k] > lo && P[k] <= hi;
	return c;
}

/* Whether (g, b] is the change of an alert's range r, seen from the
 * machine whose measured positions are P. */
static int same_change(size_t g, size_t b, struct pb_history_range r,
		       const size_t *P, size_t np)
{
	if (r.good == SIZE_MAX || r.bad == SIZE_MAX)
		return 0;
	if (g < r.bad && r.good < b)
		return 1; /* the ranges overlap */
	if (b <= r.good)
		return measured_between(P, np, b, r.good) <=
		       PB_HISTORY_SAME_CHANGE;
	return measured_between(P, np, r.bad, g) <= PB_HISTORY_SAME_CHANGE;
}

static double seg_mean(const struct placed *v, const size_t *off, size_t a,
		       size_t b)
{
	double s = 0;
	size_t n = 0;

	for (size_t i = off[a]; i < off[b]; i++, n++)
		s += v[i].value;
	return n ? s / (double)n : NAN;
}

/* A change point of one machine, before it is weighed against the
 * alerts: m indexes its machine's measured positions. */
struct raw {
	struct pb_history_change c;
	size_t m;
};

struct acc {
	struct raw *raw;                 /* every machine's, then sorted */
	size_t nraw, araw;
	size_t **P, *np;                 /* per machine: measured positions */
	struct pb_history_change *v;     /* the new changes */
	size_t n;
	struct pb_history_range *known;  /* the alerts, then the new ones */
	size_t nknown, nalerts;
	const struct pb_history_alert *alerts;
	unsigned char *refined;          /* per alert: narrowed already */
};

/* The change points of machine m's runs v[0..nv) (sorted by position)
 * that are slowdowns past the threshold, into acc->raw; its measured
 * positions into acc->P[m]. */
static int judge_machine(const struct pb_history_in *in, const char *machine,
			 size_t m, const struct placed *v, size_t nv,
			 struct acc *acc)
{
	size_t *P = NULL, *off = NULL, np = 0;
	double *vals = NULL;
	struct pb_changes ch;
	int rc = PB_ERROR;

	memset(&ch, 0, sizeof(ch));
	P = malloc((nv + 1) * sizeof(*P));
	off = malloc((nv + 1) * sizeof(*off));
	vals = malloc((nv + 1) * sizeof(*vals));
	if (!P || !off || !vals) {
		rc = pb_error_set("out of memory");
		goto out;
	}
	for (size_t i = 0; i < nv; i++) {
		if (i == 0 || v[i].pos != v[i - 1].pos) {
			off[np] = i;
			P[np++] = v[i].pos;
		}
		vals[i] = v[i].value;
	}
	off[np] = nv;
	acc->P[m] = P;
	acc->np[m] = np;
	P = NULL;
	rc = PB_OK;
	if (np < 4) /* too short a series to split */
		goto out;
	if ((rc = pb_changes_find(&ch, vals, off, np, &in->opts)) < 0)
		goto out;
	for (size_t k = 0; k < ch.npoints; k++) {
		size_t i = ch.points[k].index, prev = 0, next = np;
		struct pb_history_change c;

		if (k > 0 && ch.points[k - 1].index == i)
			continue; /* slow_fraction and fast_median agree */
		if (i < PB_HISTORY_MIN_SIDE || np - i < PB_HISTORY_MIN_SIDE)
			continue; /* one odd commit at an end is no change
				   * (yet): the next merges will tell */
		for (size_t q = 0; q < ch.npoints; q++) {
			size_t j = ch.points[q].index;

			if (j < i && j > prev)
				prev = j;
			if (j > i && j < next)
				next = j;
		}
		memset(&c, 0, sizeof(c));
		c.before = seg_mean(v, off, prev, i);
		c.after = seg_mean(v, off, i, next);
		if (!(c.before != 0) || !isfinite(c.before) ||
		    !isfinite(c.after))
			continue;
		c.change = (c.after / c.before - 1) *
			   (in->lower_is_better ? -1 : 1);
		if (!(c.change <= -in->alert_threshold))
			continue;
		c.good = acc->P[m][i - 1];
		c.bad = acc->P[m][i];
		c.machine = machine;
		c.p_value = ch.points[k].p_value;
		c.bimodal = !strcmp(ch.points[k].series, "slow_fraction") ||
			    !strcmp(ch.points[k].series, "fast_median");
		c.refines = SIZE_MAX;
		if (acc->nraw == acc->araw) {
			size_t na = acc->araw ? 2 * acc->araw : 8;
			struct raw *nr = realloc(acc->raw, na * sizeof(*nr));

			if (!nr) {
				rc = pb_error_set("out of memory");
				goto out;
			}
			acc->raw = nr;
			acc->araw = na;
		}
		acc->raw[acc->nraw++] = (struct raw){ c, m };
	}
out:
	pb_changes_release(&ch);
	free(P);
	free(off);
	free(vals);
	return rc;
}

static int cmp_raw(const void *a, const void *b)
{
	const struct raw *x = a, *y = b;

	if (x->c.bad != y->c.bad)
		return (x->c.bad > y->c.bad) - (x->c.bad < y->c.bad);
	return (x->c.good > y->c.good) - (x->c.good < y->c.good);
}

/* Every machine's change points in line order, against the alerts and
 * each other: the same change as a known one (an alert's, other than an
 * open one whose wider range holds it, or a new one's) is not new; else
 * one inside an open alert's wider range narrows it (the first in line
 * order); else it is new. */
static void weigh(struct acc *acc)
{
	if (acc->nraw > 1)
		qsort(acc->raw, acc->nraw, sizeof(*acc->raw), cmp_raw);
	for (size_t k = 0; k < acc->nraw; k++) {
		struct pb_history_change c = acc->raw[k].c;
		const size_t *P = acc->P[acc->raw[k].m];
		size_t np = acc->np[acc->raw[k].m], a, wide = SIZE_MAX;
		int dup = 0;

		for (a = 0; a < acc->nalerts && wide == SIZE_MAX; a++) {
			struct pb_history_range r = acc->known[a];

			if (acc->alerts[a].open && !acc->refined[a] &&
			    r.good != SIZE_MAX && r.bad != SIZE_MAX &&
			    r.good <= c.good && c.bad <= r.bad &&
			    (r.good < c.good || c.bad < r.bad))
				wide = a;
		}
		for (a = 0; a < acc->nknown && !dup; a++)
			dup = a != wide &&
			      same_change(c.good, c.bad, acc->known[a], P, np);
		if (dup)
			continue;
		if (wide != SIZE_MAX) {
			c.refines = wide;
			acc->refined[wide] = 1;
			acc->known[wide] = (struct pb_history_range){ c.good,
								      c.bad };
		} else {
			acc->known[acc->nknown++] =
				(struct pb_history_range){ c.good, c.bad };
		}
		acc->v[acc->n++] = c;
	}
}

int pb_history_changes(const struct pb_history_in *in,
		       struct pb_history_change **out, size_t *n)
{
	struct keyed *line = NULL;
	struct placed *v = NULL;
	const char **machines = NULL;
	size_t nm = 0;
	struct acc acc;
	int rc = PB_ERROR;

	memset(&acc, 0, sizeof(acc));
	acc.nalerts = in->nalerts;
	acc.alerts = in->alerts;
	*out = NULL;
	*n = 0;
	if (!(in->alert_threshold > 0 && in->alert_threshold < 1))
		return pb_error_code(PB_EINVAL, "alert threshold %g is not in "
				     "(0, 1)", in->alert_threshold);
	if ((rc = pb_changes_check_opts(&in->opts)) < 0)
		return rc;
	line = malloc((in->nline + 1) * sizeof(*line));
	v = malloc((in->nruns + 1) * sizeof(*v));
	machines = malloc((in->nruns + 1) * sizeof(*machines));
	/* every run could be a change of its own: room for all */
	acc.known = malloc((in->nalerts + in->nruns + 1) * sizeof(*acc.known));
	acc.refined = calloc(in->nalerts + 1, 1);
	acc.P = calloc(in->nruns + 1, sizeof(*acc.P));
	acc.np = calloc(in->nruns + 1, sizeof(*acc.np));
	if (!line || !v || !machines || !acc.known || !acc.refined ||
	    !acc.P || !acc.np) {
		rc = pb_error_set("out of memory");
		goto out;
	}
	for (size_t i = 0; i < in->nline; i++)
		line[i] = (struct keyed){ in->line[i], i };
	qsort(line, in->nline, sizeof(*line), cmp_keyed);
	for (size_t a = 0; a < in->nalerts; a++) {
		struct keyed kg = { in->alerts[a].good, 0 };
		struct keyed kb = { in->alerts[a].bad, 0 };
		struct keyed *g = bsearch(&kg, line, in->nline, sizeof(*line),
					  cmp_keyed);
		struct keyed *b = bsearch(&kb, line, in->nline, sizeof(*line),
					  cmp_keyed);

		acc.known[acc.nknown++] = (struct pb_history_range){
			g ? g->pos : SIZE_MAX, b ? b->pos : SIZE_MAX
		};
	}
	for (size_t r = 0; r < in->nruns; r++) {
		size_t m;

		for (m = 0; m < nm; m++)
			if (!strcmp(machines[m], in->runs[r].machine))
				break;
		if (m == nm)
			machines[nm++] = in->runs[r].machine;
	}
	for (size_t m = 0; m < nm; m++) {
		size_t nv = 0;

		for (size_t r = 0; r < in->nruns; r++) {
			struct keyed key = { in->runs[r].sha, 0 }, *hit;

			if (strcmp(in->runs[r].machine, machines[m]) ||
			    !isfinite(in->runs[r].value))
				continue;
			hit = bsearch(&key, line, in->nline, sizeof(*line),
				      cmp_keyed);
			if (hit) /* else off the line: dropped */
				v[nv++] = (struct placed){ hit->pos, r,
							   in->runs[r].value };
		}
		qsort(v, nv, sizeof(*v), cmp_placed);
		if ((rc = judge_machine(in, machines[m], m, v, nv, &acc)) < 0)
			goto out;
	}
	if (!(acc.v = malloc((acc.nraw + 1) * sizeof(*acc.v)))) {
		rc = pb_error_set("out of memory");
		goto out;
	}
	weigh(&acc);
	*out = acc.v;
	*n = acc.n;
	acc.v = NULL;
	rc = PB_OK;
out:
	free(acc.v);
	free(acc.raw);
	for (size_t m = 0; acc.P && m < nm; m++)
		free(acc.P[m]);
	free(acc.P);
	free(acc.np);
	free(acc.known);
	free(acc.refined);
	free(line);
	free(v);
	free(machines);
	return rc;
}
