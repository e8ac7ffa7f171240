/*
 * site.c - the report's data: loaded from the database (db.c's
 * pb_db_site_load), then what the pages draw is computed from it here -
 * each bisection's runs in the order they ran with their roles, each
 * series' runs per point and the change points of each machine's runs
 * (the same pure detector the service judges with: core/changes.h), and
 * each machine's recent stability.  web/ only draws the result.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/util.h"
#include "orchestrator/core/changes.h"
#include "orchestrator/core/stats.h"
#include "orchestrator/db.h"
#include "orchestrator/site.h"

#define OOM() pb_error_code(PB_EINFRA, "out of memory")

/* Runs per machine looked at for its stability. */
#define STABILITY_RUNS 200
#define STABILITY_MIN_GROUP 3

static _Thread_local const struct pb_site *sort_site; /* for the comparators below */

static int run_by_seq(const void *a, const void *b)
{
	const struct pb_site_run *x = &sort_site->runs[*(const size_t *)a];
	const struct pb_site_run *y = &sort_site->runs[*(const size_t *)b];

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

static int by_time(const void *a, const void *b)
{
	const struct pb_site_commit *x = &sort_site->commits[*(const size_t *)a];
	const struct pb_site_commit *y = &sort_site->commits[*(const size_t *)b];

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

static int bisection_runs(struct pb_site *s)
{
	size_t *count = calloc(s->nbisections + 1, sizeof(*count));

	if (!count)
		return OOM();
	for (size_t i = 0; i < s->nruns; i++)
		if (s->runs[i].bisection < s->nbisections)
			count[s->runs[i].bisection]++;
	for (size_t b = 0; b < s->nbisections; b++) {
		struct pb_site_bisection *B = &s->bisections[b];

		if (!(B->runs = calloc(count[b] + 1, sizeof(*B->runs)))) {
			free(count);
			return OOM();
		}
		B->updated_at = B->v->created_at;
		if (isfinite(B->v->finished_at) &&
		    B->v->finished_at > B->updated_at)
			B->updated_at = B->v->finished_at;
	}
	free(count);
	for (size_t i = 0; i < s->nruns; i++) {
		struct pb_site_run *r = &s->runs[i];
		struct pb_site_bisection *B;

		if (r->bisection >= s->nbisections)
			continue;
		B = &s->bisections[r->bisection];
		B->runs[B->nruns++] = i;
		if (r->pair >= 0 && r->commit < s->ncommits)
			r->role = !strcmp(s->commits[r->commit].sha,
					  B->v->verification.commit)
					  ? PB_ROLE_VERIFY_CULPRIT
					  : PB_ROLE_VERIFY_PARENT;
		if (isfinite(r->started_at) && r->started_at > B->updated_at)
			B->updated_at = r->started_at;
	}
	sort_site = s;
	for (size_t b = 0; b < s->nbisections; b++)
		qsort(s->bisections[b].runs, s->bisections[b].nruns,
		      sizeof(size_t), run_by_seq);
	/* a bisection stored before its range was (an older database): its
	 * tested commits by commit time stand for it */
	for (size_t b = 0; b < s->nbisections; b++) {
		struct pb_site_bisection *B = &s->bisections[b];

		if (B->nrange || !B->v->nsteps)
			continue;
		if (!(B->range = calloc(B->v->nsteps, sizeof(*B->range))))
			return OOM();
		for (size_t k = 0; k < B->v->nsteps; k++)
			for (size_t c = 0; c < s->ncommits; c++)
				if (!strcmp(s->commits[c].sha,
					    B->v->steps[k].sha)) {
					B->range[B->nrange++] = c;
					break;
				}
		qsort(B->range, B->nrange, sizeof(*B->range), by_time);
	}
	return PB_OK;
}

/* (merge id, series, point), sorted by merge id. */
struct merge_at {
	int64_t merge;
	size_t series, point;
};

static int merge_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct merge_at *)a)->merge;
	int64_t y = ((const struct merge_at *)b)->merge;

	return (x > y) - (x < y);
}

static int run_by_point(const void *a, const void *b)
{
	const size_t *x = a, *y = b;

	if (x[1] != y[1])
		return x[1] < y[1] ? -1 : 1;
	return (x[0] > y[0]) - (x[0] < y[0]);
}

/* Each series' runs, by point then id (pairs of run index and point
 * sorted, then split). */
static int series_runs(struct pb_site *s)
{
	struct merge_at *m = NULL;
	size_t nm = 0, *pairs = NULL, *count = NULL;
	int rc = PB_OK;

	for (size_t k = 0; k < s->nseries; k++)
		nm += s->series[k].npoints;
	m = calloc(nm + 1, sizeof(*m));
	pairs = calloc(2 * (s->nruns + 1), sizeof(*pairs));
	count = calloc(s->nseries + 1, sizeof(*count));
	if (!m || !pairs || !count) {
		rc = OOM();
		goto out;
	}
	nm = 0;
	for (size_t k = 0; k < s->nseries; k++)
		for (size_t p = 0; p < s->series[k].npoints; p++)
			m[nm++] = (struct merge_at){ s->series[k].merges[p], k,
						     p };
	qsort(m, nm, sizeof(*m), merge_cmp);
	/* pairs: (run, series), counted per series */
	for (size_t i = 0; i < s->nruns; i++) {
		struct merge_at key = { s->runs[i].merge, 0, 0 }, *hit;

		if (!s->runs[i].merge)
			continue;
		hit = bsearch(&key, m, nm, sizeof(*m), merge_cmp);
		if (!hit)
			continue; /* off the line */
		count[hit->series]++;
	}
	for (size_t k = 0; k < s->nseries; k++) {
		struct pb_site_series *S = &s->series[k];

		S->runs = calloc(count[k] + 1, sizeof(*S->runs));
		S->run_point = calloc(count[k] + 1, sizeof(*S->run_point));
		if (!S->runs || !S->run_point) {
			rc = OOM();
			goto out;
		}
	}
	for (size_t i = 0; i < s->nruns; i++) {
		struct merge_at key = { s->runs[i].merge, 0, 0 }, *hit;
		struct pb_site_series *S;

		if (!s->runs[i].merge ||
		    !(hit = bsearch(&key, m, nm, sizeof(*m), merge_cmp)))
			continue;
		S = &s->series[hit->series];
		S->runs[S->nruns] = i;
		S->run_point[S->nruns++] = hit->point;
		if (isfinite(s->runs[i].started_at) &&
		    s->runs[i].started_at > S->updated_at)
			S->updated_at = s->runs[i].started_at;
	}
	/* by point, then id: sort (run, point) pairs */
	for (size_t k = 0; k < s->nseries; k++) {
		struct pb_site_series *S = &s->series[k];

		for (size_t i = 0; i < S->nruns; i++) {
			pairs[2 * i] = S->runs[i];
			pairs[2 * i + 1] = S->run_point[i];
		}
		qsort(pairs, S->nruns, 2 * sizeof(*pairs), run_by_point);
		for (size_t i = 0; i < S->nruns; i++) {
			S->runs[i] = pairs[2 * i];
			S->run_point[i] = pairs[2 * i + 1];
		}
	}
out:
	free(m);
	free(pairs);
	free(count);
	return rc;
}

/* The change points of one machine's counted runs of series S. */
static int strand_changes(const struct pb_site *s, struct pb_site_series *S,
			  struct pb_site_strand *st)
{
	const struct pb_site_bench *b = &s->benches[S->bench];
	struct pb_changes_opts o = PB_CHANGES_OPTS_INIT;
	struct pb_changes c;
	double *v = calloc(S->nruns + 1, sizeof(*v));
	size_t *off = calloc(S->npoints + 2, sizeof(*off));
	size_t *pos = calloc(S->npoints + 1, sizeof(*pos));
	size_t nv = 0, np = 0;
	int rc = PB_OK;

	memset(&c, 0, sizeof(c));
	st->threshold = NAN;
	if (!v || !off || !pos) {
		rc = OOM();
		goto out;
	}
	for (size_t i = 0; i < S->nruns; i++) {
		const struct pb_site_run *r = &s->runs[S->runs[i]];

		if (r->machine != st->machine || !r->ok || r->disturbed ||
		    !isfinite(r->value))
			continue;
		if (!np || pos[np - 1] != S->run_point[i]) {
			off[np] = nv;
			pos[np++] = S->run_point[i];
		}
		v[nv++] = r->value;
	}
	off[np] = nv;
	if (np < 2)
		goto out;
	o.lower_is_better = b->lower_is_better;
	if (o.window > np)
		o.window = np < 2 ? 2 : np;
	if ((rc = pb_changes_find(&c, v, off, np, &o)) < 0)
		goto out;
	st->bimodal = c.kind == PB_CHANGES_BIMODAL;
	st->threshold = c.threshold;
	if (c.npoints &&
	    !(st->changes = calloc(c.npoints, sizeof(*st->changes)))) {
		rc = OOM();
		goto out;
	}
	for (size_t k = 0; k < c.npoints; k++) {
		struct pb_site_change *ch = &st->changes[st->nchanges++];

		ch->at = pos[c.points[k].index];
		pb_strlcpy(ch->series, c.points[k].series, sizeof(ch->series));
		ch->before = c.points[k].before;
		ch->after = c.points[k].after;
		ch->p_value = c.points[k].p_value;
	}
out:
	pb_changes_release(&c);
	free(v);
	free(off);
	free(pos);
	return rc;
}

/* The median of the counted runs of machine m (PB_SITE_NONE: every
 * machine) at each point of series S, NAN where none (*out malloc'd, one
 * a point). */
static int point_medians(const struct pb_site *s,
			 const struct pb_site_series *S, size_t m, double **out)
{
	double *tmp = calloc(S->nruns + 1, sizeof(*tmp));
	double *v = calloc(S->npoints + 1, sizeof(*v));
	size_t i = 0;

	*out = NULL;
	if (!tmp || !v) {
		free(tmp);
		free(v);
		return OOM();
	}
	for (size_t k = 0; k < S->npoints; k++)
		v[k] = NAN;
	while (i < S->nruns) {
		size_t pt = S->run_point[i], n = 0;

		for (; i < S->nruns && S->run_point[i] == pt; i++) {
			const struct pb_site_run *r = &s->runs[S->runs[i]];

			if ((m == PB_SITE_NONE || r->machine == m) && r->ok &&
			    !r->disturbed && isfinite(r->value))
				tmp[n++] = r->value;
		}
		if (n)
			v[pt] = pb_median(tmp, n);
	}
	free(tmp);
	*out = v;
	return PB_OK;
}

static int series_strands(struct pb_site *s)
{
	unsigned char *seen = calloc(s->nmachines + 1, 1);
	int rc = PB_OK;

	if (!seen)
		return OOM();
	for (size_t k = 0; k < s->nseries && rc == PB_OK; k++) {
		struct pb_site_series *S = &s->series[k];

		memset(seen, 0, s->nmachines + 1);
		for (size_t i = 0; i < S->nruns; i++) {
			size_t mi = s->runs[S->runs[i]].machine;

			if (mi < s->nmachines && !seen[mi]) {
				seen[mi] = 1;
				S->nstrands++;
			}
		}
		if (!(S->strands = calloc(S->nstrands + 1,
					  sizeof(*S->strands)))) {
			rc = OOM();
			break;
		}
		S->nstrands = 0;
		for (size_t mi = 0; mi < s->nmachines; mi++)
			if (seen[mi])
				S->strands[S->nstrands++].machine = mi;
		for (size_t t = 0; t < S->nstrands && rc == PB_OK; t++)
			if ((rc = strand_changes(s, S, &S->strands[t])) == PB_OK)
				rc = point_medians(s, S, S->strands[t].machine,
						   &S->strands[t].medians);
		if (rc == PB_OK)
			rc = point_medians(s, S, PB_SITE_NONE, &S->medians);
	}
	free(seen);
	return rc;
}

static int group_cmp(const void *a, const void *b)
{
	const struct pb_site_run *x = &sort_site->runs[*(const size_t *)a];
	const struct pb_site_run *y = &sort_site->runs[*(const size_t *)b];

	if (x->commit != y->commit)
		return x->commit < y->commit ? -1 : 1;
	if (x->bench != y->bench)
		return x->bench < y->bench ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* Each machine's counts, and its recent stability: among its last
 * STABILITY_RUNS counted runs, the median relative spread (MAD / median)
 * of the groups of runs of one commit and benchmark. */
static int machine_stability(struct pb_site *s)
{
	size_t *idx = calloc(STABILITY_RUNS, sizeof(*idx));
	double *v = calloc(STABILITY_RUNS, sizeof(*v));
	double *spreads = calloc(STABILITY_RUNS, sizeof(*spreads));
	int rc = PB_OK;

	if (!idx || !v || !spreads) {
		rc = OOM();
		goto out;
	}
	for (size_t i = 0; i < s->nruns; i++) {
		const struct pb_site_run *r = &s->runs[i];

		if (r->machine >= s->nmachines)
			continue;
		s->machines[r->machine].runs++;
		s->machines[r->machine].disturbed += r->disturbed != 0;
		s->machines[r->machine].failed += !r->ok;
	}
	sort_site = s;
	for (size_t mi = 0; mi < s->nmachines; mi++) {
		size_t n = 0, ns = 0;

		/* its last counted runs, newest first */
		for (size_t i = s->nruns; i-- > 0 && n < STABILITY_RUNS;) {
			const struct pb_site_run *r = &s->runs[i];

			if (r->machine == mi && r->ok && !r->disturbed &&
			    isfinite(r->value))
				idx[n++] = i;
		}
		qsort(idx, n, sizeof(*idx), group_cmp);
		for (size_t a = 0; a < n;) {
			size_t e = a, k = 0;
			double med;

			while (e < n &&
			       s->runs[idx[e]].commit == s->runs[idx[a]].commit &&
			       s->runs[idx[e]].bench == s->runs[idx[a]].bench)
				v[k++] = s->runs[idx[e++]].value;
			med = pb_median(v, k);
			if (k >= STABILITY_MIN_GROUP && med != 0 &&
			    isfinite(med))
				spreads[ns++] = pb_mad(v, k) / fabs(med);
			a = e;
		}
		s->machines[mi].spread_groups = ns;
		s->machines[mi].spread = ns ? pb_median(spreads, ns) : NAN;
	}
out:
	free(idx);
	free(v);
	free(spreads);
	return rc;
}

int pb_site_load(struct pb_db *db, double generated_at, struct pb_site *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->generated_at = generated_at;
	if ((rc = pb_db_site_load(db, out)) < 0 ||
	    (rc = bisection_runs(out)) < 0 || (rc = series_runs(out)) < 0 ||
	    (rc = series_strands(out)) < 0 ||
	    (rc = machine_stability(out)) < 0) {
		pb_site_free(out);
		return rc;
	}
	return PB_OK;
}

#define FILES_SHOWN 200

int pb_culprit_files(struct pb_git *g, const char *sha, char **out,
		     size_t *total)
{
	char *list = NULL;
	int rc;

	*out = NULL;
	if ((rc = pb_git_changed_files(g, sha, FILES_SHOWN, &list, total)) < 0)
		return rc;
	if (*total > FILES_SHOWN) {
		size_t n = strlen(list) + 64;
		char *t = malloc(n);

		if (!t) {
			free(list);
			return OOM();
		}
		snprintf(t, n, "%s... and %zu more\n", list,
			 *total - FILES_SHOWN);
		free(list);
		list = t;
	}
	*out = list;
	return PB_OK;
}
