/*
 * page_bisection.c - a bisection's page: the verdict, the ladder (every
 * commit of the range in history order, tested ones with their runs as
 * dots, untested ones as ticks) with the posterior under it, the
 * verification panel, the runs in time order, the statistics, the
 * mechanism (an LKP-style table of every metric and counter, start nodes,
 * interference, where memory lived), how to reproduce it, and the raw runs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/human.h"
#include "common/proto.h"
#include "common/util.h"
#include "web/page.h"
#include "web/pages.h"

#define LADDER_H 220.0   /* the dots' band */
#define POST_H 70.0      /* the posterior's band */
#define POST_TOP (TOP + LADDER_H + 72)
#define TOP 14.0
#define LEFT 64.0

const char *pb_bisection_status(const struct pb_bisection_view *v)
{
	if (!strcmp(v->state, "running") || !strcmp(v->state, "queued"))
		return "RUNNING";
	if (!strcmp(v->state, "failed"))
		return "FAILED";
	if (!strcmp(v->verdict, "culprit"))
		return "CONFIRMED";
	if (!strcmp(v->verdict, "no_regression"))
		return "NO REGRESSION";
	return "INCONCLUSIVE";
}

static const struct pb_step_view *step_of(const struct pb_bisection_view *v,
					  const char *sha)
{
	for (size_t i = 0; i < v->nsteps; i++)
		if (!strcmp(v->steps[i].sha, sha))
			return &v->steps[i];
	return NULL;
}

void pb_bisection_modes(const struct pb_site *s, size_t b, double *boundary,
			double *half_gap)
{
	const struct pb_bisection_view *v = s->bisections[b].v;
	double f = v->stats.fast_mode, w = v->stats.slow_mode;

	*boundary = *half_gap = NAN;
	if (!strcmp(v->mode, "shift")) {
		/* a shift: which end's level a run is nearer */
		const struct pb_step_view *g = step_of(v, v->good);
		const struct pb_step_view *x = step_of(v, v->bad);

		f = g ? g->median : NAN;
		w = x ? x->median : NAN;
	}
	if (isfinite(f) && isfinite(w) && f != w) {
		*boundary = (f + w) / 2;
		*half_gap = fabs(f - w) / 2;
	}
}

enum pg_mode pb_run_mode(const struct pb_site_run *r, double boundary,
			 double half_gap, int lower_is_better,
			 double *distance)
{
	*distance = NAN;
	if (!r->ok)
		return PG_FAILED;
	if (r->disturbed)
		return PG_DISTURBED;
	if (!isfinite(boundary) || !isfinite(r->value))
		return PG_UNKNOWN;
	*distance = fabs(r->value - boundary) / half_gap;
	if (lower_is_better)
		return r->value > boundary ? PG_SLOW : PG_FAST;
	return r->value < boundary ? PG_SLOW : PG_FAST;
}

int pb_run_has_page(const struct pb_site_run *r)
{
	return !r->ok || r->disturbed || r->pair >= 0;
}

/* The y range of the counted runs' values, padded. */
static void value_range(const struct pb_site *s, const size_t *runs,
			size_t n, double *lo, double *hi)
{
	*lo = INFINITY;
	*hi = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		double v = s->runs[runs[i]].value;

		if (!isfinite(v))
			continue;
		if (v < *lo)
			*lo = v;
		if (v > *hi)
			*hi = v;
	}
	if (!isfinite(*lo)) {
		*lo = 0;
		*hi = 1;
	}
	if (*hi - *lo < 1e-12 * fabs(*hi) + 1e-300) {
		*lo -= fabs(*lo) * 0.05 + 1;
		*hi += fabs(*hi) * 0.05 + 1;
	}
	{
		double pad = (*hi - *lo) * 0.06;

		*lo -= pad;
		*hi += pad;
	}
}

static double ymap(double v, double lo, double hi, double top, double h)
{
	return top + h - (v - lo) / (hi - lo) * h;
}

/* The value axis: three labelled ticks and "higher is better". */
static void y_axis(struct pb_page *p, double lo, double hi, double top,
		   double h, double right, const char *dir)
{
	for (int k = 0; k <= 2; k++) {
		double v = lo + (hi - lo) * (0.06 + 0.44 * k) / 1.0;
		double y = ymap(v, lo, hi, top, h);
		char t[48];

		pg_si(t, sizeof(t), v, NULL);
		pg_fmt(p, "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" "
			  "y1=\"%.1f\" y2=\"%.1f\"/><text x=\"%.1f\" y=\"%.1f\" "
			  "text-anchor=\"end\">",
		       LEFT - 4, right, y, y, LEFT - 6, y + 4);
		pg_text(p, t);
		pg_raw(p, "</text>");
	}
	pg_fmt(p, "<text x=\"4\" y=\"%.1f\" transform=\"rotate(-90 8 %.1f)\">",
	       top + h, top + h);
	pg_text(p, dir);
	pg_raw(p, "</text>");
}

/* Places the dots of one column without overlap (a beeswarm): sorted by
 * value, each takes the nearest horizontal offset free of the dots
 * placed before it within a dot's height. */
struct dot {
	size_t run;
	double y, x;
};

static int dot_cmp(const void *a, const void *b)
{
	double x = ((const struct dot *)a)->y, y = ((const struct dot *)b)->y;

	return (x > y) - (x < y);
}

static void swarm(struct dot *d, size_t n, double cx, double half_w)
{
	const double D = 6.6;

	qsort(d, n, sizeof(*d), dot_cmp);
	for (size_t i = 0; i < n; i++) {
		double best = cx;

		for (int k = 0; k < 64; k++) {
			double off = (k + 1) / 2 * D * (k % 2 ? 1 : -1);
			int free_ = 1;

			if (fabs(off) > half_w)
				break;
			for (size_t j = i; j-- > 0 && d[i].y - d[j].y < D;)
				if (fabs(d[j].x - (cx + off)) < D)
					free_ = 0;
			if (free_) {
				best = cx + off;
				break;
			}
			best = cx; /* no room: on the column's line */
		}
		d[i].x = best;
	}
}

static void run_tip(char *out, size_t size, const struct pb_site *s,
		    const struct pb_site_run *r, enum pg_mode m)
{
	char v[48], sha[13];

	pg_si(v, sizeof(v), r->value, NULL);
	pg_short(sha, s->commits[r->commit].sha);
	snprintf(out, size, "run %lld of %s: %s (%s%s)", (long long)r->id, sha,
		 r->ok ? v : "failed", pg_mode_name(m),
		 r->disturbed ? ", not counted" : "");
}

static void run_data(char *out, size_t size, const struct pb_site_run *r,
		     enum pg_mode m)
{
	if (isfinite(r->value))
		snprintf(out, size, " data-run=\"%lld\" data-value=\"%.17g\" "
			 "data-mode=\"%s\"", (long long)r->id, r->value,
			 pg_mode_name(m));
	else
		snprintf(out, size, " data-run=\"%lld\" data-value=\"null\" "
			 "data-mode=\"%s\"", (long long)r->id,
			 pg_mode_name(m));
}

/* The ladder and, under it on the same x, the posterior. */
static void ladder(struct pb_page *p, size_t bi, const char *dir)
{
	const struct pb_site *s = p->site;
	const struct pb_site_bisection *B = &s->bisections[bi];
	const struct pb_bisection_view *v = B->v;
	const struct pb_site_bench *bench = &s->benches[B->bench];
	size_t ntested = 0, n = B->nrange;
	double *x0 = calloc(n + 1, sizeof(*x0)), *w = calloc(n + 1, sizeof(*w));
	struct dot *d = calloc(B->nruns + 1, sizeof(*d));
	double lo, hi, tw, uw, width, boundary, half, prev_p = 0;
	const char **tested = calloc(n + 1, sizeof(*tested));

	if (!x0 || !w || !d || !tested) {
		p->rc = -1;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (step_of(v, s->commits[B->range[i]].sha))
			ntested++;
	tw = ntested ? 900.0 / (double)ntested : 40;
	tw = tw > 64 ? 64 : tw < 18 ? 18 : tw;
	uw = n > ntested ? 360.0 / (double)(n - ntested) : 4;
	uw = uw > 6 ? 6 : uw < 0.4 ? 0.4 : uw;
	width = LEFT;
	for (size_t i = 0; i < n; i++) {
		int t = step_of(v, s->commits[B->range[i]].sha) != NULL;

		x0[i] = width;
		w[i] = t ? tw : uw;
		width += w[i];
	}
	width += 16;
	value_range(s, B->runs, B->nruns, &lo, &hi);
	pb_bisection_modes(s, bi, &boundary, &half);
	pg_fmt(p, "<svg id=\"ladder\" data-chart=\"ladder\" role=\"img\" "
		  "viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" "
		  "aria-labelledby=\"ladder-t ladder-d\"><title "
		  "id=\"ladder-t\">The range, commit by commit</title><desc "
		  "id=\"ladder-d\">",
	       width, POST_TOP + POST_H + 24, width);
	pg_fmt(p, "%zu commits from good to bad in history order; %zu tested, "
		  "their runs drawn as dots; the bars under them are the "
		  "posterior probability that the culprit lies in the commits "
		  "up to each tested one. The table under the chart holds "
		  "the same numbers.</desc>",
	       n, ntested);
	y_axis(p, lo, hi, TOP, LADDER_H, width - 8, dir);
	if (isfinite(boundary))
		pg_fmt(p, "<line class=\"axis\" stroke-dasharray=\"2 3\" "
			  "x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
		       LEFT, width - 8, ymap(boundary, lo, hi, TOP, LADDER_H),
		       ymap(boundary, lo, hi, TOP, LADDER_H));
	for (size_t i = 0; i < n; i++) {
		const struct pb_site_commit *c = &s->commits[B->range[i]];
		const struct pb_step_view *st = step_of(v, c->sha);
		double cx = x0[i] + w[i] / 2;
		size_t nd = 0;
		char sha[13], lab[64];
		int culprit = !strcmp(c->sha, v->culprit);

		pg_short(sha, c->sha);
		pg_raw(p, "<g");
		pg_attr(p, "data-sha", c->sha);
		pg_attr_int(p, "data-index", (long long)i);
		if (!st) {
			pg_raw(p, " data-tested=\"0\"><line class=\"tick\" ");
			pg_fmt(p, "x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
				  "y2=\"%.1f\"><title>",
			       cx, cx, TOP + LADDER_H + 2, TOP + LADDER_H + 8);
			pg_text(p, sha);
			pg_raw(p, " not tested: ");
			pg_text(p, c->subject);
			pg_raw(p, "</title></line></g>");
			continue;
		}
		pg_raw(p, " data-tested=\"1\"");
		pg_attr(p, "data-verdict", st->verdict);
		pg_attr_int(p, "data-runs", st->runs);
		pg_attr_int(p, "data-slow", st->slow);
		pg_attr_int(p, "data-fast", st->fast);
		pg_attr_num(p, "data-p-bad", st->p_bad);
		if (st->identical_to[0])
			pg_attr(p, "data-identical-to", st->identical_to);
		pg_raw(p, ">");
		if (culprit)
			pg_fmt(p, "<rect class=\"culprit\" x=\"%.1f\" y=\"%.1f\" "
				  "width=\"%.1f\" height=\"%.1f\"/>",
			       x0[i], TOP, w[i], LADDER_H);
		for (size_t k = 0; k < B->nruns; k++) {
			const struct pb_site_run *r = &s->runs[B->runs[k]];

			if (r->commit != B->range[i] || !isfinite(r->value) ||
			    r->pair >= 0)
				continue;
			d[nd].run = B->runs[k];
			d[nd++].y = ymap(r->value, lo, hi, TOP, LADDER_H);
		}
		swarm(d, nd, cx, w[i] / 2 - 3);
		for (size_t k = 0; k < nd; k++) {
			const struct pb_site_run *r = &s->runs[d[k].run];
			double dist;
			enum pg_mode m = pb_run_mode(r, boundary, half,
						     bench->lower_is_better,
						     &dist);
			char tip[160], data[160];

			run_tip(tip, sizeof(tip), s, r, m);
			run_data(data, sizeof(data), r, m);
			pg_mark(p, m, d[k].x, d[k].y, tip, data);
		}
		/* its call, and its fast/slow counts */
		if (st->slow >= 0)
			snprintf(lab, sizeof(lab), "%d/%d", st->slow,
				 st->slow + st->fast);
		else
			snprintf(lab, sizeof(lab), "%u", st->runs);
		pg_fmt(p, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
		       cx, TOP + LADDER_H + 16);
		pg_text(p, st->verdict);
		pg_fmt(p, "%s</text><text x=\"%.1f\" y=\"%.1f\" "
			  "text-anchor=\"middle\">%s</text>",
		       st->identical_to[0] ? "=" : "", cx, TOP + LADDER_H + 30,
		       lab);
		if (tw >= 40 || culprit)
			pg_fmt(p, "<text x=\"%.1f\" y=\"%.1f\" "
				  "text-anchor=\"middle\">%.7s</text>",
			       cx, TOP + LADDER_H + 44, c->sha);
		/* the posterior mass of the commits since the last tested
		 * one, up to this one */
		if (isfinite(st->p_bad)) {
			double mass = st->p_bad - prev_p;
			double bh = (mass > 0 ? mass : 0) * POST_H;
			double by = POST_TOP + POST_H - bh;

			pg_fmt(p, "<rect class=\"post\" x=\"%.1f\" y=\"%.1f\" "
				  "width=\"%.1f\" height=\"%.1f\" "
				  "data-posterior=\"%.17g\"><title>",
			       x0[i] + 2, by, w[i] - 4, bh, mass);
			pg_prob(lab, sizeof(lab), mass > 0 ? mass : 0);
			pg_raw(p, "P(culprit up to ");
			pg_text(p, sha);
			pg_raw(p, " since the last tested commit) = ");
			pg_text(p, lab);
			pg_raw(p, "</title></rect>");
			if (mass >= 0.05)
				pg_fmt(p, "<text x=\"%.1f\" y=\"%.1f\" "
					  "text-anchor=\"middle\">%s</text>",
				       x0[i] + w[i] / 2, by - 3, lab);
			prev_p = st->p_bad > prev_p ? st->p_bad : prev_p;
		}
		pg_raw(p, "</g>");
	}
	pg_fmt(p, "<text x=\"%.1f\" y=\"%.1f\">posterior: P(the culprit is "
		  "here)</text>",
	       LEFT, POST_TOP + POST_H + 14);
	pg_raw(p, "</svg>\n");
out:
	free(x0);
	free(w);
	free(d);
	free(tested);
}

/* The ladder's numbers as a table. */
static void steps_table(struct pb_page *p, size_t bi)
{
	const struct pb_site *s = p->site;
	const struct pb_site_bisection *B = &s->bisections[bi];
	const struct pb_bisection_view *v = B->v;
	const struct pb_site_bench *bench = &s->benches[B->bench];
	char t[64], sha[13];

	pg_raw(p, "<details><summary>The tested commits as a table</summary>"
		  "<table class=\"sortable\" id=\"steps\"><thead><tr><th>#"
		  "</th><th>commit</th><th>subject</th><th>verdict</th><th "
		  "class=\"n\">runs</th><th class=\"n\">slow / classified"
		  "</th><th class=\"n\">median</th><th class=\"n\">P(bad)"
		  "</th><th class=\"n\">disturbed</th><th "
		  "class=\"n\">failed</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < B->nrange; i++) {
		const struct pb_site_commit *c = &s->commits[B->range[i]];
		const struct pb_step_view *st = step_of(v, c->sha);

		if (!st)
			continue;
		pg_short(sha, c->sha);
		pg_fmt(p, "<tr%s><td class=\"n\" data-v=\"%zu\">%zu</td><td>"
			  "<a href=\"#c-%s\"><code>%s</code></a></td><td>",
		       !strcmp(c->sha, v->culprit) ? " class=\"culprit\"" : "",
		       i, i, c->sha, sha);
		pg_text(p, c->subject);
		pg_raw(p, "</td><td>");
		pg_text(p, st->verdict);
		if (st->identical_to[0])
			pg_raw(p, " (= parent)");
		pg_fmt(p, "</td><td class=\"n\">%u</td><td class=\"n\">",
		       st->runs);
		if (st->slow >= 0)
			pg_fmt(p, "%d / %d", st->slow, st->slow + st->fast);
		else
			pg_raw(p, "n/a");
		pg_si(t, sizeof(t), st->median, NULL);
		pg_raw(p, "</td><td class=\"n\">");
		pg_text(p, t);
		pg_prob(t, sizeof(t), st->p_bad);
		pg_raw(p, "</td><td class=\"n\">");
		pg_text(p, t);
		pg_fmt(p, "</td><td class=\"n\">%u</td><td class=\"n\">%u</td>"
			  "</tr>\n",
		       st->disturbed, st->failed_runs);
	}
	pg_raw(p, "</tbody></table></details>\n");
	(void)bench;
}

/* Verification: the parent's and the culprit's runs in the order they
 * ran, pair by pair, in two lanes. */
static void verification(struct pb_page *p, size_t bi, const char *dir)
{
	const struct pb_site *s = p->site;
	const struct pb_site_bisection *B = &s->bisections[bi];
	const struct pb_verification_view *w = &B->v->verification;
	const struct pb_site_bench *bench = &s->benches[B->bench];
	size_t *vr = calloc(B->nruns + 1, sizeof(*vr)), nv = 0;
	double lo, hi, boundary, half, width;
	char e[48], l[48], h[48], sha[13];

	pg_raw(p, "<h2 id=\"verification\">Verification</h2>\n");
	if (!vr) {
		p->rc = -1;
		return;
	}
	if (!w->commit[0]) {
		pg_raw(p, "<p>No verification ran: a culprit is named only "
			  "after it and its parent ran alternately and the "
			  "slowdown held.</p>\n");
		free(vr);
		return;
	}
	for (size_t k = 0; k < B->nruns; k++)
		if (s->runs[B->runs[k]].pair >= 0)
			vr[nv++] = B->runs[k];
	pg_pct(e, sizeof(e), w->effect);
	pg_pct(l, sizeof(l), w->lo);
	pg_pct(h, sizeof(h), w->hi);
	pg_short(sha, w->commit);
	pg_raw(p, "<section data-verification");
	pg_attr(p, "data-commit", w->commit);
	pg_attr_num(p, "data-effect", w->effect);
	pg_attr_num(p, "data-lo", w->lo);
	pg_attr_num(p, "data-hi", w->hi);
	pg_attr_num(p, "data-p", w->p);
	pg_attr_int(p, "data-pairs", w->pairs);
	pg_attr_int(p, "data-confirmed", w->confirmed);
	pg_fmt(p, "><p><code>%s</code> against its parent, run alternately "
		  "(ABBA) on one machine: <b>%s</b> after %u pairs (attempt "
		  "%u). The culprit is %s slower (95 %% interval %s to %s), "
		  "p = %.2g.</p>\n",
	       sha, w->confirmed ? "confirmed" : "not confirmed", w->pairs,
	       w->attempts, e, l, h, w->p);
	for (int k = 0; k < 2; k++) {
		char said[512];

		pb_counter_move_say(k ? &w->remote : &w->ipc,
				    k ? "remote accesses" : "IPC", said,
				    sizeof(said));
		if (said[0]) {
			pg_raw(p, "<p>");
			pg_text(p, said);
			pg_raw(p, "</p>\n");
		}
	}
	if (!nv) {
		pg_raw(p, "<p class=\"note\">Its runs are not marked in this "
			  "database (stored before the report drew them).</p>"
			  "</section>\n");
		free(vr);
		return;
	}
	value_range(s, vr, nv, &lo, &hi);
	pb_bisection_modes(s, bi, &boundary, &half);
	width = LEFT + 14.0 * (double)nv + 40;
	if (width < 400)
		width = 400;
	pg_fmt(p, "<svg data-chart=\"verification\" role=\"img\" viewBox=\"0 "
		  "0 %.0f 200\" width=\"%.0f\"><title>The verification's runs "
		  "in the order they ran</title><desc>%zu runs: the parent's "
		  "in the upper lane, the culprit's in the lower, left to "
		  "right as they ran; a drift of the machine shows as a slope "
		  "in both lanes.</desc>",
	       width, width, nv);
	for (int lane = 0; lane < 2; lane++) {
		double top = 10 + lane * 95;

		y_axis(p, lo, hi, top, 80, width - 8, "");
		pg_fmt(p, "<text x=\"%.1f\" y=\"%.1f\">%s</text>", LEFT + 4,
		       top + 9, lane ? "culprit" : "parent");
	}
	for (size_t k = 0; k < nv; k++) {
		const struct pb_site_run *r = &s->runs[vr[k]];
		int lane = r->role == PB_ROLE_VERIFY_CULPRIT;
		double dist;
		enum pg_mode m = pb_run_mode(r, boundary, half,
					     bench->lower_is_better, &dist);
		char tip[160], data[200];
		size_t n0;

		run_tip(tip, sizeof(tip), s, r, m);
		run_data(data, sizeof(data), r, m);
		n0 = strlen(data);
		snprintf(data + n0, sizeof(data) - n0,
			 " data-pair=\"%d\" data-side=\"%s\"", r->pair,
			 lane ? "culprit" : "parent");
		if (isfinite(r->value))
			pg_mark(p, m, LEFT + 10 + 14.0 * (double)k,
				ymap(r->value, lo, hi, 10 + lane * 95, 80), tip,
				data);
	}
	pg_raw(p, "</svg>\n<details><summary>The pairs as a table</summary>"
		  "<table><thead><tr><th>order</th><th>pair</th><th>side"
		  "</th><th>run</th><th class=\"n\">value</th><th>mode</th>"
		  "</tr></thead><tbody>\n");
	for (size_t k = 0; k < nv; k++) {
		const struct pb_site_run *r = &s->runs[vr[k]];
		double dist;
		enum pg_mode m = pb_run_mode(r, boundary, half,
					     bench->lower_is_better, &dist);
		char val[48], page[64];

		pg_si(val, sizeof(val), r->value, NULL);
		pg_run_page(page, sizeof(page), (long long)r->id);
		pg_fmt(p, "<tr><td>%zu</td><td>%d</td><td>%s</td><td><a "
			  "href=\"%s\">%lld</a></td><td class=\"n\">",
		       k + 1, r->pair,
		       r->role == PB_ROLE_VERIFY_CULPRIT ? "culprit" : "parent",
		       page, (long long)r->id);
		pg_text(p, val);
		pg_fmt(p, "</td><td>%s</td></tr>\n", pg_mode_name(m));
	}
	pg_raw(p, "</tbody></table></details></section>\n");
	free(vr);
	(void)dir;
}

/* Every run in the order it was taken: drift and load show here. */
static void time_strip(struct pb_page *p, size_t bi, const char *dir)
{
	const struct pb_site *s = p->site;
	const struct pb_site_bisection *B = &s->bisections[bi];
	const struct pb_site_bench *bench = &s->benches[B->bench];
	double lo, hi, boundary, half, step, width;

	pg_raw(p, "<h2 id=\"time\">Runs in time order</h2>\n");
	if (!B->nruns) {
		pg_raw(p, "<p>No runs yet.</p>\n");
		return;
	}
	value_range(s, B->runs, B->nruns, &lo, &hi);
	pb_bisection_modes(s, bi, &boundary, &half);
	step = 900.0 / (double)B->nruns;
	step = step > 12 ? 12 : step < 1 ? 1 : step;
	width = LEFT + step * (double)B->nruns + 24;
	pg_fmt(p, "<svg data-chart=\"time\" role=\"img\" viewBox=\"0 0 %.0f "
		  "150\" width=\"%.0f\"><title>Every run in the order it was "
		  "taken</title><desc>%zu runs left to right as they ran, "
		  "every commit together; disturbed runs (other work held the "
		  "machine) are crosses and were not counted, failed runs "
		  "crosses on the floor.</desc>",
	       width, width, B->nruns);
	y_axis(p, lo, hi, 8, 120, width - 8, dir);
	for (size_t k = 0; k < B->nruns; k++) {
		const struct pb_site_run *r = &s->runs[B->runs[k]];
		double dist, y;
		enum pg_mode m = pb_run_mode(r, boundary, half,
					     bench->lower_is_better, &dist);
		char tip[160], data[160];

		run_tip(tip, sizeof(tip), s, r, m);
		run_data(data, sizeof(data), r, m);
		y = isfinite(r->value) ? ymap(r->value, lo, hi, 8, 120) : 134;
		pg_mark(p, m, LEFT + 8 + step * (double)k, y, tip, data);
	}
	pg_raw(p, "</svg>\n<details><summary>The runs in time order as a "
		  "table</summary><table class=\"sortable\"><thead><tr><th "
		  "class=\"n\">seq</th><th>commit</th><th class=\"n\">value"
		  "</th><th>mode</th><th>machine</th></tr></thead><tbody>\n");
	for (size_t k = 0; k < B->nruns; k++) {
		const struct pb_site_run *r = &s->runs[B->runs[k]];
		double dist;
		enum pg_mode m = pb_run_mode(r, boundary, half,
					     bench->lower_is_better, &dist);
		char sha[13], val[48];

		pg_short(sha, s->commits[r->commit].sha);
		pg_si(val, sizeof(val), r->value, NULL);
		pg_fmt(p, "<tr><td class=\"n\">%d</td><td><code>%s</code>"
			  "</td><td class=\"n\"", r->seq, sha);
		pg_attr_num(p, "data-v", r->value);
		pg_raw(p, ">");
		pg_text(p, r->ok ? val : "failed");
		pg_fmt(p, "</td><td>%s</td><td>", pg_mode_name(m));
		if (r->machine < s->nmachines)
			pg_text(p, s->machines[r->machine].name);
		pg_raw(p, "</td></tr>\n");
	}
	pg_raw(p, "</tbody></table></details>\n");
	pg_legend(p);
}

/* mean and relative standard deviation of xs */
static void mean_rsd(const double *x, size_t n, double *mean, double *rsd)
{
	double m = 0, ss = 0;

	*mean = *rsd = NAN;
	if (!n)
		return;
	for (size_t i = 0; i < n; i++)
		m += x[i];
	m /= (double)n;
	for (size_t i = 0; i < n; i++)
		ss += (x[i] - m) * (x[i] - m);
	*mean = m;
	if (n > 1 && m != 0)
		*rsd = sqrt(ss / (double)(n - 1)) / fabs(m);
}

/* One row of the LKP table: the good side's mean +- %stddev, the change,
 * the bad side's. */
static void lkp_row(struct pb_page *p, const char *name, const double *g,
		    size_t ng, const double *b, size_t nb)
{
	double gm, gr, bm, br;
	char t[64];

	mean_rsd(g, ng, &gm, &gr);
	mean_rsd(b, nb, &bm, &br);
	if (!ng && !nb)
		return;
	pg_raw(p, "<tr");
	pg_attr(p, "data-metric", name);
	pg_attr_num(p, "data-good", gm);
	pg_attr_num(p, "data-bad", bm);
	pg_raw(p, "><td class=\"n\">");
	pg_si(t, sizeof(t), gm, NULL);
	pg_text(p, t);
	if (isfinite(gr))
		pg_fmt(p, " &plusmn; %.1f%%", 100 * gr);
	pg_raw(p, "</td><td class=\"n\">");
	pg_pct(t, sizeof(t), gm ? bm / gm - 1 : NAN);
	pg_text(p, t);
	pg_raw(p, "</td><td class=\"n\">");
	pg_si(t, sizeof(t), bm, NULL);
	pg_text(p, t);
	if (isfinite(br))
		pg_fmt(p, " &plusmn; %.1f%%", 100 * br);
	pg_fmt(p, "</td><td>");
	pg_text(p, name);
	pg_fmt(p, "</td><td class=\"n\">%zu | %zu</td></tr>\n", ng, nb);
}

/* Which side a counted run is on: 0 good (verdict good), 1 bad, -1 none. */
static int side_of(const struct pb_bisection_view *v, const char *sha)
{
	const struct pb_step_view *st = step_of(v, sha);

	if (!st)
		return -1;
	return !strcmp(st->verdict, "good") ? 0
	       : !strcmp(st->verdict, "bad") ? 1
					      : -1;
}

/* Metrics besides the benchmark's own shown in the LKP table. */
#define MAX_EXTRA 32

static void lkp_table(struct pb_page *p, size_t bi)
{
	const struct pb_site *s = p->site;
	const struct pb_site_bisection *B = &s->bisections[bi];
	const struct pb_site_bench *bench = &s->benches[B->bench];
	size_t n = B->nruns, ng, nb;
	double *g = calloc(n + 1, sizeof(*g)), *b = calloc(n + 1, sizeof(*b));
	struct {
		char *name;
		double *v[2];      /* good side, bad side */
		size_t n[2];
	} extra[MAX_EXTRA];
	size_t nx = 0;

	if (!g || !b) {
		p->rc = -1;
		goto out;
	}
	pg_raw(p, "<table class=\"lkp\" id=\"lkp\"><thead><tr><th "
		  "class=\"n\">good side</th><th class=\"n\">%change</th><th "
		  "class=\"n\">bad side</th><th>metric</th><th "
		  "class=\"n\">runs</th></tr></thead><tbody>\n");
	for (int k = 0; k < 5; k++) {
		static const char *const what[] = { NULL, "ipc",
						    "remote_access", "wall_s",
						    "cpu_s" };

		ng = nb = 0;
		for (size_t i = 0; i < n; i++) {
			const struct pb_site_run *r = &s->runs[B->runs[i]];
			int side;
			double x;

			if (!r->ok || r->disturbed || r->pair >= 0)
				continue;
			side = side_of(B->v, s->commits[r->commit].sha);
			x = k == 0   ? r->value
			    : k == 1 ? r->ipc
			    : k == 2 ? r->remote_access
			    : k == 3 ? r->wall_s
				     : r->cpu_s;
			if (side < 0 || !isfinite(x))
				continue;
			if (side)
				b[nb++] = x;
			else
				g[ng++] = x;
		}
		lkp_row(p, k ? what[k] : bench->metric, g, ng, b, nb);
	}
	/* every other metric the counted runs printed: each run's metrics
	 * read once, the values gathered per name (the first MAX_EXTRA) */
	for (size_t i = 0; i < n; i++) {
		const struct pb_site_run *r = &s->runs[B->runs[i]];
		struct pb_flat *f = NULL;
		size_t nf = 0;
		int side;

		if (!r->ok || r->disturbed || r->pair >= 0 || !r->metrics)
			continue;
		side = side_of(B->v, s->commits[r->commit].sha);
		if (side < 0 || pb_proto_flatten(r->metrics, &f, &nf) < 0)
			continue;
		for (size_t j = 0; j < nf; j++) {
			size_t q = 0;

			if (!isfinite(f[j].value) ||
			    !strcmp(f[j].path, bench->metric))
				continue;
			while (q < nx && strcmp(extra[q].name, f[j].path))
				q++;
			if (q == nx) {
				if (nx == MAX_EXTRA)
					continue;
				extra[nx].n[0] = extra[nx].n[1] = 0;
				extra[nx].name = pb_strdup(f[j].path);
				extra[nx].v[0] = calloc(n + 1, sizeof(double));
				extra[nx].v[1] = calloc(n + 1, sizeof(double));
				if (!extra[nx].name || !extra[nx].v[0] || !extra[nx].v[1]) {
					free(extra[nx].name);
					free(extra[nx].v[0]);
					free(extra[nx].v[1]);
					continue;
				}
				nx++;
			}
			extra[q].v[side][extra[q].n[side]++] = f[j].value;
		}
		pb_flat_free(f, nf);
	}
	for (size_t q = 0; q < nx; q++)
		lkp_row(p, extra[q].name, extra[q].v[0], extra[q].n[0], extra[q].v[1],
			extra[q].n[1]);
	pg_raw(p, "</tbody></table>\n<p class=\"note\">good side: the counted "
		  "runs of the commits judged good; bad side: of those judged "
		  "bad; mean &plusmn; relative standard deviation. %change: "
		  "bad against good.</p>\n");
out:
	for (size_t q = 0; q < nx; q++) {
		free(extra[q].name);
		free(extra[q].v[0]);
		free(extra[q].v[1]);
	}
	free(g);
	free(b);
}

/* Where the verification runs' memory lived: for each program (by its
 * file name: parent and culprit are built in different trees), region and
 * NUMA node, the pages the last sample of a run found there (its only one,
 * when it was too short for two), averaged over the parent's runs and over
 * the culprit's. */
struct place {
	char key[160];
	double sum[2];
};

static void placement(struct pb_page *p, size_t bi)
{
	const struct pb_site *s = p->site;
	const struct pb_site_bisection *B = &s->bisections[bi];
	struct place *v = NULL;
	size_t nv = 0, av = 0, runs[2] = { 0, 0 };

	for (size_t i = 0; i < B->nruns; i++) {
		const struct pb_site_run *r = &s->runs[B->runs[i]];
		int side = r->role == PB_ROLE_VERIFY_CULPRIT;
		struct pb_flat *f = NULL;
		size_t nf = 0;

		const char *sample = "first";
		char prefix[32];

		if (r->pair < 0 || !r->numa ||
		    pb_proto_flatten(r->numa, &f, &nf) < 0)
			continue;
		runs[side]++;
		/* its last sample; a run too short for two has only "first" */
		for (size_t k = 0; k < nf && !strcmp(sample, "first"); k++)
			if (!strncmp(f[k].path, "placement/last/", 15))
				sample = "last";
		snprintf(prefix, sizeof(prefix), "placement/%s/", sample);
		for (size_t k = 0; k < nf; k++) {
			const char *path = f[k].path, *node, *region, *prog;
			size_t pl = strlen(prefix);
			char key[160];
			size_t q;

			if (strncmp(path, prefix, pl) ||
			    !isfinite(f[k].value) ||
			    !(node = strrchr(path, '/')) || node <= path + pl)
				continue;
			for (region = node - 1; region > path + pl &&
						region[-1] != '/';
			     region--)
				;
			if (region <= path + pl)
				continue;
			for (prog = region - 1; prog > path + pl &&
						prog[-1] != '/';
			     prog--)
				;
			snprintf(key, sizeof(key), "%.*s / %.*s / node %s",
				 (int)(region - 1 - prog), prog,
				 (int)(node - region), region, node + 1);
			for (q = 0; q < nv && strcmp(v[q].key, key); q++)
				;
			if (q == nv) {
				if (nv == av) {
					size_t na = av ? 2 * av : 16;
					struct place *nv2 = realloc(
						v, na * sizeof(*nv2));

					if (!nv2)
						continue;
					v = nv2;
					av = na;
				}
				memset(&v[nv], 0, sizeof(v[nv]));
				pb_strlcpy(v[nv++].key, key, sizeof(v[0].key));
			}
			v[q].sum[side] += f[k].value;
		}
		pb_flat_free(f, nf);
	}
	if (!nv) {
		pg_raw(p, "<p>Memory placement: not sampled for the "
			  "verification's runs (runs too short, or no "
			  "verification).</p>\n");
		free(v);
		return;
	}
	pg_fmt(p, "<table id=\"placement\"><thead><tr><th>program / region "
		  "/ node</th><th class=\"n\">parent's pages</th><th "
		  "class=\"n\">culprit's pages</th></tr></thead><tbody>\n");
	for (size_t q = 0; q < nv; q++) {
		pg_raw(p, "<tr><td>");
		pg_text(p, v[q].key);
		pg_fmt(p, "</td><td class=\"n\">%.1f</td><td class=\"n\">%.1f"
			  "</td></tr>\n",
		       runs[0] ? v[q].sum[0] / (double)runs[0] : 0.0,
		       runs[1] ? v[q].sum[1] / (double)runs[1] : 0.0);
	}
	pg_fmt(p, "</tbody></table>\n<p class=\"note\">Pages each region "
		  "held on each NUMA node at a run's last sample, the mean over "
		  "the parent's %zu and the culprit's %zu verification runs; "
		  "each run's own samples are on its page.</p>\n",
	       runs[0], runs[1]);
	free(v);
}

static void mechanism(struct pb_page *p, size_t bi)
{
	const struct pb_site *s = p->site;
	const struct pb_site_bisection *B = &s->bisections[bi];
	const struct pb_bisection_view *v = B->v;
	const char *ipc_note = NULL, *remote_note = NULL;
	unsigned disturbed = 0;
	size_t nodes[8] = { 0 }, other_node = 0;
	double busy = 0;
	size_t nbusy = 0;

	pg_raw(p, "<h2 id=\"mechanism\">Mechanism</h2>\n");
	lkp_table(p, bi);
	for (size_t i = 0; i < v->nsteps; i++) {
		if (!ipc_note && v->steps[i].ipc_state == PB_VAL_UNSUPPORTED)
			ipc_note = v->steps[i].ipc_note;
		if (!remote_note &&
		    v->steps[i].remote_state == PB_VAL_UNSUPPORTED)
			remote_note = v->steps[i].remote_note;
		disturbed += v->steps[i].disturbed;
	}
	for (size_t i = 0; i < B->nruns; i++) {
		const struct pb_site_run *r = &s->runs[B->runs[i]];

		if (r->start_node >= 0 && r->start_node < 8)
			nodes[r->start_node]++;
		else
			other_node++;
		if (isfinite(r->busy_share)) {
			busy += r->busy_share;
			nbusy++;
		}
	}
	pg_raw(p, "<p id=\"counters-note\">Hardware counters: ");
	if (ipc_note || remote_note) {
		pg_raw(p, "IPC ");
		pg_text(p, ipc_note ? ipc_note : "counted");
		pg_raw(p, "; remote accesses ");
		pg_text(p, remote_note ? remote_note : "counted");
	} else {
		pg_raw(p, "counted on every run (medians per commit in the "
			  "raw data below)");
	}
	pg_raw(p, ".</p>\n<p>Start nodes (runs started on each NUMA node): ");
	for (int k = 0; k < 8; k++)
		if (nodes[k])
			pg_fmt(p, "node %d: %zu; ", k, nodes[k]);
	pg_fmt(p, "unknown: %zu.</p>\n<p data-disturbed=\"%u\">Interference: "
		  "%u runs were taken while other work held the machine and "
		  "were not counted; ",
	       other_node, disturbed, disturbed);
	if (nbusy)
		pg_fmt(p, "other processes used %.1f %% of the machine during "
			  "a run on average.</p>\n",
		       100 * busy / (double)nbusy);
	else
		pg_raw(p, "no measure of other work was stored.</p>\n");
	placement(p, bi);
}

/* A shell word: single-quoted unless it needs nothing. */
static void shell_word(struct pb_buf *b, const char *w)
{
	int plain = w && *w;

	for (const char *c = w; plain && *c; c++)
		plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"
			       "UVWXYZ0123456789@%+=:,./-_", *c) != NULL;
	if (plain) {
		(void)pb_buf_puts(b, w);
		return;
	}
	(void)pb_buf_puts(b, "'");
	for (const char *c = w ? w : ""; *c; c++)
		(void)(*c == '\'' ? pb_buf_puts(b, "'\\''")
				  : pb_buf_put(b, c, 1));
	(void)pb_buf_puts(b, "'");
}

static void reproduce(struct pb_page *p, size_t bi)
{
	const struct pb_site *s = p->site;
	const struct pb_site_bisection *B = &s->bisections[bi];
	const struct pb_bisection_view *v = B->v;
	const struct pb_site_bench *bench = &s->benches[B->bench];
	struct pb_buf cmd = PB_BUF_INIT(64 * 1024);
	char conf[32];

	(void)pb_buf_puts(&cmd, "perfbisect bisect --local --repo ");
	shell_word(&cmd, s->repos[bench->repo].url);
	(void)pb_buf_puts(&cmd, " --good ");
	shell_word(&cmd, v->good);
	(void)pb_buf_puts(&cmd, " --bad ");
	shell_word(&cmd, v->bad);
	(void)pb_buf_puts(&cmd, " --build ");
	shell_word(&cmd, v->build_cmd);
	(void)pb_buf_puts(&cmd, " --run ");
	shell_word(&cmd, v->run_cmd);
	(void)pb_buf_puts(&cmd, " --metric ");
	shell_word(&cmd, v->metric);
	if (v->lower_is_better)
		(void)pb_buf_puts(&cmd, " --lower-is-better");
	snprintf(conf, sizeof(conf), " --confidence %.4g", v->confidence_asked);
	(void)pb_buf_puts(&cmd, conf);
	pg_raw(p, "<h2 id=\"reproduce\">Reproduce</h2>\n<pre id=\"cmd\">");
	pg_text(p, cmd.ptr);
	pg_raw(p, "</pre>\n");
	pb_buf_release(&cmd);
}

static void statistics(struct pb_page *p, size_t bi)
{
	const struct pb_bisection_view *v = p->site->bisections[bi].v;
	const struct pb_stats_view *sv = &v->stats;
	char t[256];

	pg_raw(p, "<h2 id=\"statistics\">Statistics</h2>\n<table "
		  "id=\"stats\"><tbody>\n");
#define ROW(name, ...)                                                       \
	do {                                                                 \
		snprintf(t, sizeof(t), __VA_ARGS__);                         \
		pg_raw(p, "<tr><th>" name "</th><td>");                      \
		pg_text(p, t);                                               \
		pg_raw(p, "</td></tr>\n");                                   \
	} while (0)
	ROW("test", "Bayesian bisection over the range (%s model), each "
		    "culprit verified by an alternating sequential test",
	    v->mode[0] ? v->mode : "no");
	ROW("confidence asked", "%.4g", v->confidence_asked);
	ROW("confidence reached", "%.4g", v->confidence);
	ROW("runs, builds", "%u runs, %u builds", v->runs, v->builds);
	if (sv->ci_first[0])
		ROW("95 % credible interval", "%.12s .. %.12s", sv->ci_first,
		    sv->ci_last);
	if (isfinite(sv->fast_mode)) {
		char f[48], w[48];

		pg_si(f, sizeof(f), sv->fast_mode, NULL);
		pg_si(w, sizeof(w), sv->slow_mode, NULL);
		ROW("modes", "fast %s, slow %s; separation (Ashman's D) %.2f",
		    f, w, sv->ashman_d);
	}
	if (isfinite(sv->q0))
		ROW("slow share", "good side %.3f, bad side %.3f", sv->q0,
		    sv->q1);
	if (isfinite(sv->dip_p))
		ROW("dip test p (bad side)", "%.3g", sv->dip_p);
	if (isfinite(sv->mwu_p))
		ROW("Mann-Whitney p, good vs bad", "%.3g", sv->mwu_p);
	if (isfinite(sv->ks_p))
		ROW("Kolmogorov-Smirnov p", "%.3g", sv->ks_p);
#undef ROW
	pg_raw(p, "</tbody></table>\n");
}

/* Every run, as a row of its commit's table; failed, disturbed and
 * verification runs link to their pages. */
static void raw_runs(struct pb_page *p, size_t bi)
{
	const struct pb_site *s = p->site;
	const struct pb_site_bisection *B = &s->bisections[bi];
	const struct pb_site_bench *bench = &s->benches[B->bench];
	double boundary, half;

	pb_bisection_modes(s, bi, &boundary, &half);
	pg_raw(p, "<h2 id=\"raw\">Raw data</h2>\n");
	for (size_t i = 0; i < B->nrange; i++) {
		const struct pb_site_commit *c = &s->commits[B->range[i]];
		size_t nr = 0;
		char sha[13];

		for (size_t k = 0; k < B->nruns; k++)
			nr += s->runs[B->runs[k]].commit == B->range[i];
		if (!nr && !step_of(B->v, c->sha))
			continue;
		pg_short(sha, c->sha);
		pg_fmt(p, "<details id=\"c-%s\"><summary><code>%s</code> ",
		       c->sha, sha);
		pg_text(p, c->subject);
		pg_fmt(p, " (%zu runs)</summary>", nr);
		{
			const struct pb_step_view *st = step_of(B->v, c->sha);

			if (st && (st->failure_reason || st->failure_log))
				pg_fmt(p, "<p><a href=\"#fail-%s\">%s</a></p>",
				       c->sha,
				       !strcmp(st->verdict, "skip")
					       ? "its build failed: the log"
					       : "a run failed: its output");
		}
		pg_fmt(p, "<table class=\"sortable\">"
			  "<thead><tr><th>run</th><th class=\"n\">seq</th>"
			  "<th class=\"n\">value</th><th>mode</th><th "
			  "class=\"n\">from boundary</th><th>machine</th><th "
			  "class=\"n\">start node</th><th class=\"n\">others' "
			  "CPU</th><th class=\"n\">IPC</th><th "
			  "class=\"n\">remote</th><th class=\"n\">wall s</th>"
			  "</tr></thead><tbody>\n");
		for (size_t k = 0; k < B->nruns; k++) {
			const struct pb_site_run *r = &s->runs[B->runs[k]];
			double dist;
			enum pg_mode m;
			char t[48];

			if (r->commit != B->range[i])
				continue;
			m = pb_run_mode(r, boundary, half,
					bench->lower_is_better, &dist);
			if (pb_run_has_page(r)) {
				char page[64];

				pg_run_page(page, sizeof(page),
					    (long long)r->id);
				pg_fmt(p, "<tr><td><a href=\"%s\">%lld</a>",
				       page, (long long)r->id);
			} else {
				pg_fmt(p, "<tr><td>%lld", (long long)r->id);
			}
			pg_fmt(p, "</td><td class=\"n\">%d</td>", r->seq);
			pg_si(t, sizeof(t), r->value, NULL);
			pg_raw(p, "<td class=\"n\"");
			pg_attr_num(p, "data-v", r->value);
			pg_raw(p, ">");
			pg_text(p, r->ok ? t : "failed");
			pg_fmt(p, "</td><td>%s%s</td><td class=\"n\">",
			       pg_mode_name(m),
			       r->role == PB_ROLE_VERIFY_CULPRIT ||
					       r->role == PB_ROLE_VERIFY_PARENT
				       ? " (verification)"
				       : "");
			if (isfinite(dist))
				pg_fmt(p, "%.2f", dist);
			pg_raw(p, "</td><td>");
			if (r->machine < s->nmachines)
				pg_text(p, s->machines[r->machine].name);
			pg_raw(p, "</td><td class=\"n\">");
			if (r->start_node >= 0)
				pg_fmt(p, "%d", r->start_node);
			pg_raw(p, "</td><td class=\"n\">");
			if (isfinite(r->busy_share))
				pg_fmt(p, "%.1f %%", 100 * r->busy_share);
			pg_raw(p, "</td><td class=\"n\">");
			pg_si(t, sizeof(t), r->ipc, NULL);
			pg_text(p, isfinite(r->ipc) ? t
					: r->ipc_note ? "unsupported" : "");
			pg_raw(p, "</td><td class=\"n\">");
			pg_si(t, sizeof(t), r->remote_access, NULL);
			pg_text(p, isfinite(r->remote_access) ? t
					: r->remote_note ? "unsupported" : "");
			pg_raw(p, "</td><td class=\"n\">");
			if (isfinite(r->wall_s))
				pg_fmt(p, "%.3f", r->wall_s);
			pg_raw(p, "</td></tr>\n");
		}
		pg_raw(p, "</tbody></table></details>\n");
	}
}

/* Lines of a failed build's log or run's output shown per commit. */
#define FAILURE_LINES 12

static void failures(struct pb_page *p, size_t bi)
{
	const struct pb_bisection_view *v = p->site->bisections[bi].v;
	struct pb_buf tail = PB_BUF_INIT(64 * 1024);
	int any = 0;

	for (size_t i = 0; i < v->nsteps; i++) {
		const struct pb_step_view *st = &v->steps[i];
		char sha[13];

		if (!st->failure_reason && !st->failure_log)
			continue;
		if (!any++)
			pg_raw(p, "<h2 id=\"failures\">Failures</h2>\n");
		pg_short(sha, st->sha);
		pb_buf_reset(&tail);
		(void)pb_human_tail(&tail, st->failure_log, FAILURE_LINES, 240,
				    "");
		pg_fmt(p, "<h3 id=\"fail-%s\"><code>%s</code> ", st->sha, sha);
		pg_text(p, st->subject);
		pg_fmt(p, "</h3><p>%s: ", !strcmp(st->verdict, "skip")
						  ? "build"
						  : "last failed run");
		pg_text(p, st->failure_reason);
		pg_raw(p, "</p><pre>");
		pg_text(p, tail.len ? tail.ptr : "(no output)");
		pg_raw(p, "</pre>\n");
	}
	pb_buf_release(&tail);
}

/* The verdict block's sentence and numbers. */
static void verdict(struct pb_page *p, size_t bi, const char *dir)
{
	const struct pb_site *s = p->site;
	const struct pb_bisection_view *v = s->bisections[bi].v;
	const struct pb_step_view *c = v->culprit[0] ? step_of(v, v->culprit)
						     : NULL;
	const char *status = pb_bisection_status(v);
	char sentence[1024], sha[13], n1[48], n2[48], n3[48];
	struct pg_number nums[3];
	/* the verified slowdown as the metric's own change, as the ends'
	 * medians are said: a throughput 1.908 times slower is 47.6 %
	 * lower, not "90.8 % worse" (data-effect keeps the slowdown, as
	 * --json's "effect" does) */
	double change = pb_metric_change(
		v->verification.effect,
		s->benches[s->bisections[bi].bench].lower_is_better);

	pg_short(sha, v->culprit[0] ? v->culprit : v->range_first);
	if (c && !strcmp(v->mode, "bimodal") && v->stats.culprit_slow >= 0)
		snprintf(sentence, sizeof(sentence),
			 "commit %s \"%s\" raised the share of slow runs from "
			 "%d/%d at its parent to %d/%d; verified by %u "
			 "alternating pairs.",
			 sha, c->subject ? c->subject : "",
			 v->stats.parent_slow,
			 v->stats.parent_slow + v->stats.parent_fast,
			 v->stats.culprit_slow,
			 v->stats.culprit_slow + v->stats.culprit_fast,
			 v->verification.pairs);
	else if (c && isnan(change)) /* stored without its effect */
		snprintf(sentence, sizeof(sentence),
			 "commit %s \"%s\" made %s worse; verified by %u "
			 "alternating pairs.",
			 sha, c->subject ? c->subject : "",
			 v->metric ? v->metric : "the metric",
			 v->verification.pairs);
	else if (c)
		snprintf(sentence, sizeof(sentence),
			 "commit %s \"%s\" made %s %.1f %% %s; verified by %u "
			 "alternating pairs.",
			 sha, c->subject ? c->subject : "",
			 v->metric ? v->metric : "the metric", 100 * fabs(change),
			 change < 0 ? "lower" : "higher", v->verification.pairs);
	else
		snprintf(sentence, sizeof(sentence), "%s",
			 v->outcome ? v->outcome
			 : !strcmp(status, "RUNNING")
				 ? "still measuring; the page is redrawn as "
				   "runs arrive."
				 : "no culprit.");
	pg_pct(n1, sizeof(n1), change);
	pg_prob(n2, sizeof(n2), v->confidence);
	snprintf(n3, sizeof(n3), "%u", v->runs);
	nums[0] = (struct pg_number){ "change at the culprit (verified)", n1,
				      "effect", v->verification.effect };
	nums[1] = (struct pg_number){ "confidence", n2, "confidence",
				      v->confidence };
	nums[2] = (struct pg_number){ "runs taken", n3, "runs",
				      (double)v->runs };
	pg_verdict(p, status, sentence, nums, dir);
}

/* The paths the culprit changed, as stored when it was named. */
static void culprit_files(struct pb_page *p, const char *sha)
{
	const struct pb_site *s = p->site;
	const char *files = NULL;

	for (size_t c = 0; c < s->ncommits && !files; c++)
		if (!strcmp(s->commits[c].sha, sha))
			files = s->commits[c].files;
	if (!files)
		return;
	if (!files[0]) {
		pg_raw(p, "<p class=\"note\">No changed file listed (an empty "
			  "commit, or its repository could not be read when it "
			  "was named).</p>\n");
		return;
	}
	pg_raw(p, "<details open id=\"files\"><summary>The files it "
		  "changed</summary><ul>\n");
	for (const char *l = files; *l;) {
		size_t n = strcspn(l, "\n");
		char path[4096];

		snprintf(path, sizeof(path), "%.*s", (int)n, l);
		pg_raw(p, "<li><code>");
		pg_text(p, path);
		pg_raw(p, "</code></li>\n");
		l += n + (l[n] == '\n');
	}
	pg_raw(p, "</ul></details>\n");
}

void pb_page_bisection(struct pb_page *p, size_t bi)
{
	const struct pb_site *s = p->site;
	const struct pb_site_bisection *B = &s->bisections[bi];
	const struct pb_bisection_view *v = B->v;
	const struct pb_site_bench *bench = &s->benches[B->bench];
	const struct pb_step_view *c = v->culprit[0] ? step_of(v, v->culprit)
						     : NULL;
	struct pb_buf attrs = PB_BUF_INIT(4096);
	struct pb_page a = { &attrs, 0, s };
	char title[160], dir[300];

	snprintf(title, sizeof(title), "perfbisect: bisection %lld", v->id);
	pg_direction(dir, sizeof(dir), bench->metric, bench->lower_is_better);
	pg_attr_int(&a, "data-bisection", v->id);
	pg_attr(&a, "data-status", pb_bisection_status(v));
	pg_attr(&a, "data-verdict", v->verdict);
	pg_attr(&a, "data-culprit", v->culprit);
	pg_attr_num(&a, "data-confidence", v->confidence);
	pg_attr_int(&a, "data-runs", v->runs);
	pg_attr(&a, "data-mode", v->mode);
	pg_head(p, title, "bisection", a.rc ? NULL : attrs.ptr);
	pb_buf_release(&attrs);
	pg_fmt(p, "<h1>Bisection %lld: ", v->id);
	pg_text(p, s->repos[bench->repo].name);
	pg_raw(p, " / ");
	pg_text(p, bench->name);
	pg_raw(p, "</h1>\n");
	verdict(p, bi, dir);
	if (c) {
		char t[64];

		pg_time(t, sizeof(t), (double)c->time);
		pg_raw(p, "<p id=\"culprit\">Culprit <code>");
		pg_text(p, c->sha);
		pg_raw(p, "</code> &ldquo;");
		pg_text(p, c->subject);
		pg_raw(p, "&rdquo; by ");
		pg_text(p, c->author);
		pg_raw(p, ", ");
		pg_text(p, t);
		pg_raw(p, ".</p>\n");
		culprit_files(p, v->culprit);
	}
	if (B->alert < s->nalerts)
		pg_fmt(p, "<p>Started by <a href=\"index.html#alert-%lld\">"
			  "alert %lld</a>.</p>\n",
		       (long long)s->alerts[B->alert].id,
		       (long long)s->alerts[B->alert].id);
	pg_raw(p, "<h2 id=\"ladder-h\">The range</h2>\n");
	ladder(p, bi, dir);
	pg_legend(p);
	steps_table(p, bi);
	verification(p, bi, dir);
	time_strip(p, bi, dir);
	statistics(p, bi);
	mechanism(p, bi);
	reproduce(p, bi);
	failures(p, bi);
	raw_runs(p, bi);
	pg_foot(p, B->updated_at);
}
