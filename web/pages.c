/*
 * pages.c - the index, series, machine and run pages (pages.h); the
 * bisection page is page_bisection.c's.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/human.h"
#include "common/proto.h"
#include "common/util.h"
#include "web/page.h"
#include "web/pages.h"

#define LEFT 64.0
#define HEAT_POINTS 200   /* past this many commits: a heat map */
#define SPARK_POINTS 30

static const struct pb_site_bench *bench_of(const struct pb_site *s,
					    size_t b)
{
	return &s->benches[b];
}

/* The series of benchmark b (configuration 0), or PB_SITE_NONE. */
static size_t series_of(const struct pb_site *s, size_t b, int64_t config)
{
	for (size_t k = 0; k < s->nseries; k++)
		if (s->series[k].bench == b && s->series[k].config_id == config)
			return k;
	return PB_SITE_NONE;
}

/* The x of point k of a sparkline of points first..n-1. */
static double spark_x(size_t k, size_t first, size_t n)
{
	return 2 + 120.0 * (double)(k - first) /
			   (double)(n - first > 1 ? n - first - 1 : 1);
}

/* A sparkline of the last SPARK_POINTS medians of a series on machine m
 * (nothing when m measured none of it), the commit `mark` ticked. */
static void sparkline(struct pb_page *p, const struct pb_site_series *S,
		      size_t m, size_t mark)
{
	const double *v = NULL;
	double lo = INFINITY, hi = -INFINITY;
	size_t first = S->npoints > SPARK_POINTS ? S->npoints - SPARK_POINTS
						 : 0;
	int pen = 0;

	for (size_t t = 0; t < S->nstrands; t++)
		if (S->strands[t].machine == m)
			v = S->strands[t].medians;
	if (!v)
		return;
	for (size_t k = first; k < S->npoints; k++)
		if (isfinite(v[k])) {
			lo = v[k] < lo ? v[k] : lo;
			hi = v[k] > hi ? v[k] : hi;
		}
	pg_raw(p, "<svg class=\"spark\" role=\"img\" width=\"124\" "
		  "height=\"26\" viewBox=\"0 0 124 26\"><title>The last "
		  "commits' medians</title><desc>medians, oldest first:");
	for (size_t k = first; k < S->npoints; k++) {
		char t[48];

		pg_si(t, sizeof(t), v[k], NULL);
		pg_raw(p, " ");
		pg_text(p, t);
	}
	pg_raw(p, "</desc><path class=\"share\" style=\"stroke:var(--fast)\" "
		  "d=\"");
	for (size_t k = first; k < S->npoints; k++) {
		double x = spark_x(k, first, S->npoints);
		double y = hi > lo ? 22 - 18 * (v[k] - lo) / (hi - lo) : 12;

		/* a commit this machine did not measure: the line goes
		 * from the one before to the one after */
		if (!isfinite(v[k]))
			continue;
		pg_fmt(p, "%s%.1f %.1f", pen ? "L" : "M", x, y);
		pen = 1;
	}
	pg_raw(p, "\"/>");
	for (size_t k = first; k < S->npoints; k++) {
		double x = spark_x(k, first, S->npoints);
		double y = hi > lo ? 22 - 18 * (v[k] - lo) / (hi - lo) : 12;

		if (isfinite(v[k]))
			pg_fmt(p, "<circle class=\"fast\" cx=\"%.1f\" "
				  "cy=\"%.1f\" r=\"1.4\"/>",
			       x, y);
	}
	for (size_t k = first; k < S->npoints; k++)
		if (S->points[k] == mark) {
			double x = spark_x(k, first, S->npoints);

			pg_fmt(p, "<line class=\"change\" x1=\"%.1f\" "
				  "x2=\"%.1f\" y1=\"0\" y2=\"26\"/>",
			       x, x);
		}
	pg_raw(p, "</svg>");
}

/* ---- index ---- */

static double alert_score(const struct pb_site_alert *a)
{
	double conf = isfinite(a->p_value) ? 1 - a->p_value : 0.5;

	return fabs(a->change) * conf;
}

static _Thread_local const struct pb_site *score_site;

/* Largest score first, a score that is not a number last, then by id:
 * a total order, so the same database gives the same page. */
static int by_score(const void *x, const void *y)
{
	const struct pb_site_alert *p = &score_site->alerts[*(const size_t *)x];
	const struct pb_site_alert *q = &score_site->alerts[*(const size_t *)y];
	double a = alert_score(p), b = alert_score(q);

	if (isnan(a) != isnan(b))
		return isnan(a) ? 1 : -1;
	if (!isnan(a) && a != b)
		return a > b ? -1 : 1;
	return (p->id > q->id) - (p->id < q->id);
}

static void alerts_table(struct pb_page *p)
{
	const struct pb_site *s = p->site;
	size_t *order = calloc(s->nalerts + 1, sizeof(*order)), n = 0;

	pg_raw(p, "<h2 id=\"alerts\">Alerts</h2>\n");
	if (!order) {
		p->rc = -1;
		return;
	}
	for (size_t i = 0; i < s->nalerts; i++)
		if (strcmp(s->alerts[i].state, "fixed"))
			order[n++] = i;
	score_site = s;
	qsort(order, n, sizeof(*order), by_score);
	if (!n) {
		pg_raw(p, "<p>No open alert.</p>\n");
		free(order);
		return;
	}
	pg_raw(p, "<table class=\"sortable\" id=\"alerts-table\"><thead><tr>"
		  "<th>alert</th><th>what</th><th>state</th><th "
		  "class=\"n\">change</th><th class=\"n\">p</th><th>machine"
		  "</th><th>recent commits</th><th>bisection</th></tr>"
		  "</thead><tbody>\n");
	for (size_t k = 0; k < n; k++) {
		const struct pb_site_alert *a = &s->alerts[order[k]];
		const struct pb_site_bench *b = bench_of(s, a->bench);
		size_t si = series_of(s, a->bench, a->config_id);
		char g[13], x[13], t[48], page[64];

		pg_short(g, s->commits[a->good].sha);
		pg_short(x, s->commits[a->bad].sha);
		pg_fmt(p, "<tr id=\"alert-%lld\" data-alert=\"%lld\"",
		       (long long)a->id, (long long)a->id);
		pg_attr_num(p, "data-change", a->change);
		pg_attr(p, "data-good", s->commits[a->good].sha);
		pg_attr(p, "data-bad", s->commits[a->bad].sha);
		pg_fmt(p, "><td>%lld</td><td>", (long long)a->id);
		pg_text(p, s->repos[b->repo].name);
		pg_raw(p, " / ");
		pg_text(p, b->name);
		pg_raw(p, ": ");
		pg_text(p, a->mode);
		pg_fmt(p, " between <code>%s</code> and <code>%s</code></td><td>",
		       g, x);
		pg_text(p, a->state);
		pg_pct(t, sizeof(t), a->change);
		pg_fmt(p, "</td><td class=\"n\" data-v=\"%.17g\">", a->change);
		pg_text(p, t);
		pg_fmt(p, "</td><td class=\"n\">%.2g</td><td>", a->p_value);
		if (a->machine < s->nmachines) {
			pg_machine_page(page, sizeof(page),
					s->machines[a->machine].name);
			pg_fmt(p, "<a href=\"%s\">", page);
			pg_text(p, s->machines[a->machine].name);
			pg_raw(p, "</a>");
		}
		pg_raw(p, "</td><td>");
		if (si != PB_SITE_NONE) {
			pg_series_page(page, sizeof(page), (long long)b->id,
				       (long long)a->config_id);
			pg_fmt(p, "<a href=\"%s\">", page);
			sparkline(p, &s->series[si], a->machine, a->bad);
			pg_raw(p, "</a>");
		}
		pg_raw(p, "</td><td>");
		if (a->bisection < s->nbisections) {
			const struct pb_bisection_view *v =
				s->bisections[a->bisection].v;

			pg_bisection_page(page, sizeof(page), v->id);
			pg_fmt(p, "<a href=\"%s\">%lld</a> ", page, v->id);
			pg_text(p, pb_bisection_status(v));
			if (v->culprit[0]) {
				pg_short(g, v->culprit);
				pg_fmt(p, ": <code>%s</code>", g);
			} else if (!strcmp(pb_bisection_status(v),
					   "NO REGRESSION")) {
				pg_raw(p, ": the change was not reproduced");
			}
		} else if (a->note) {
			pg_text(p, a->note);
		}
		pg_raw(p, "</td></tr>\n");
	}
	pg_raw(p, "</tbody></table>\n<p class=\"note\">Open and acknowledged "
		  "alerts, the largest and surest change first (|change| "
		  "&times; (1 &minus; p)).</p>\n");
	free(order);
}

static void bisections_table(struct pb_page *p)
{
	const struct pb_site *s = p->site;

	pg_raw(p, "<h2 id=\"bisections\">Bisections</h2>\n");
	if (!s->nbisections) {
		pg_raw(p, "<p>None yet.</p>\n");
		return;
	}
	/* running ones, then the finished ones folded, newest first */
	for (int running = 1; running >= 0; running--) {
		size_t n = 0;

		for (size_t i = 0; i < s->nbisections; i++)
			n += (strcmp(pb_bisection_status(s->bisections[i].v),
				     "RUNNING") == 0) == running;
		if (!running)
			pg_fmt(p, "<details id=\"finished\"%s><summary>%zu "
				  "finished bisection%s</summary>\n",
			       n <= 20 ? " open" : "", n, n == 1 ? "" : "s");
		else if (!n)
			continue;
		pg_fmt(p, "<table class=\"sortable\" id=\"bisections-%s\">"
			  "<thead><tr><th class=\"n\">#</th><th>what</th>"
			  "<th>status</th><th>culprit</th><th "
			  "class=\"n\">confidence</th><th class=\"n\">runs"
			  "</th><th>started</th></tr></thead><tbody>\n",
		       running ? "running" : "finished");
		for (size_t i = s->nbisections; i-- > 0;) {
			const struct pb_site_bisection *B = &s->bisections[i];
			const struct pb_bisection_view *v = B->v;
			const char *st = pb_bisection_status(v);
			char page[64], t[64], sha[13];

			if ((strcmp(st, "RUNNING") == 0) != running)
				continue;
			pg_bisection_page(page, sizeof(page), v->id);
			pg_fmt(p, "<tr data-bisection=\"%lld\"><td "
				  "class=\"n\"><a href=\"%s\">%lld</a></td><td>",
			       v->id, page, v->id);
			pg_text(p, v->repo);
			if (B->bench < s->nbenches) {
				pg_raw(p, " / ");
				pg_text(p, s->benches[B->bench].name);
			}
			pg_raw(p, "</td><td>");
			pg_text(p, st);
			pg_raw(p, "</td><td>");
			if (v->culprit[0]) {
				const struct pb_step_view *c = NULL;

				for (size_t k = 0; k < v->nsteps; k++)
					if (!strcmp(v->steps[k].sha,
						    v->culprit))
						c = &v->steps[k];
				pg_short(sha, v->culprit);
				pg_fmt(p, "<code>%s</code> ", sha);
				if (c)
					pg_text(p, c->subject);
			}
			pg_prob(t, sizeof(t), v->confidence);
			pg_raw(p, "</td><td class=\"n\">");
			pg_text(p, t);
			pg_fmt(p, "</td><td class=\"n\">%u</td><td>", v->runs);
			pg_time(t, sizeof(t), v->created_at);
			pg_text(p, t);
			pg_raw(p, "</td></tr>\n");
		}
		pg_raw(p, running ? "</tbody></table>\n"
				  : "</tbody></table></details>\n");
	}
}

static void series_list(struct pb_page *p)
{
	const struct pb_site *s = p->site;

	pg_raw(p, "<h2 id=\"series\">Series</h2>\n");
	if (!s->nseries) {
		pg_raw(p, "<p>No merge measured yet.</p>\n");
		return;
	}
	pg_raw(p, "<table class=\"sortable\"><thead><tr><th>series</th><th "
		  "class=\"n\">commits</th><th class=\"n\">runs</th><th>"
		  "machines</th></tr></thead><tbody>\n");
	for (size_t k = 0; k < s->nseries; k++) {
		const struct pb_site_series *S = &s->series[k];
		const struct pb_site_bench *b = bench_of(s, S->bench);
		char page[64];

		pg_series_page(page, sizeof(page), (long long)b->id,
			       (long long)S->config_id);
		pg_fmt(p, "<tr><td><a href=\"%s\">", page);
		pg_text(p, s->repos[b->repo].name);
		pg_raw(p, " / ");
		pg_text(p, b->name);
		if (S->config_id)
			pg_fmt(p, " / configuration %lld</a>",
			       (long long)S->config_id);
		else
			pg_raw(p, " / default</a>");
		pg_fmt(p, "</td><td class=\"n\">%zu</td><td "
			  "class=\"n\">%zu</td><td class=\"n\">%zu</td></tr>\n",
		       S->npoints, S->nruns, S->nstrands);
	}
	pg_raw(p, "</tbody></table>\n");
}

static void machines_table(struct pb_page *p)
{
	const struct pb_site *s = p->site;

	pg_raw(p, "<h2 id=\"machines\">Machines</h2>\n");
	if (!s->nmachines) {
		pg_raw(p, "<p>None yet.</p>\n");
		return;
	}
	pg_raw(p, "<table class=\"sortable\"><thead><tr><th>machine</th><th "
		  "class=\"n\">runs</th><th class=\"n\">disturbed</th><th "
		  "class=\"n\">failed</th><th class=\"n\">typical spread"
		  "</th><th>last seen</th></tr></thead><tbody>\n");
	for (size_t m = 0; m < s->nmachines; m++) {
		const struct pb_site_machine *M = &s->machines[m];
		char page[64], t[64];

		pg_machine_page(page, sizeof(page), M->name);
		pg_fmt(p, "<tr><td><a href=\"%s\">", page);
		pg_text(p, M->name);
		pg_fmt(p, "</a></td><td class=\"n\">%zu</td><td "
			  "class=\"n\">%zu</td><td class=\"n\">%zu</td><td "
			  "class=\"n\">",
		       M->runs, M->disturbed, M->failed);
		if (isfinite(M->spread))
			pg_fmt(p, "%.2f %%", 100 * M->spread);
		else
			pg_raw(p, "n/a");
		pg_time(t, sizeof(t), M->last_seen);
		pg_raw(p, "</td><td>");
		pg_text(p, isfinite(M->last_seen) ? t : "never as an agent");
		pg_raw(p, "</td></tr>\n");
	}
	pg_raw(p, "</tbody></table>\n");
}

void pb_page_index(struct pb_page *p)
{
	const struct pb_site *s = p->site;
	size_t open = 0, running = 0, tested = 0, confirmed = 0;
	char sentence[512], n1[32], n2[32], n3[32];
	struct pg_number nums[3];
	const char *status;

	for (size_t i = 0; i < s->nalerts; i++)
		open += !strcmp(s->alerts[i].state, "open");
	for (size_t i = 0; i < s->nbisections; i++) {
		const char *st = pb_bisection_status(s->bisections[i].v);

		running += !strcmp(st, "RUNNING");
		confirmed += !strcmp(st, "CONFIRMED");
		tested += s->bisections[i].v->nsteps;
	}
	status = running ? "RUNNING"
		 : open	 ? (confirmed ? "CONFIRMED" : "INCONCLUSIVE")
			 : "NO REGRESSION";
	snprintf(sentence, sizeof(sentence),
		 "%zu open alert%s, %zu bisection%s running, %zu culprit%s "
		 "confirmed.",
		 open, open == 1 ? "" : "s", running,
		 running == 1 ? "" : "s", confirmed,
		 confirmed == 1 ? "" : "s");
	snprintf(n1, sizeof(n1), "%zu", open);
	snprintf(n2, sizeof(n2), "%zu", s->nbisections);
	snprintf(n3, sizeof(n3), "%zu", s->nruns);
	nums[0] = (struct pg_number){ "open alerts", n1, "open-alerts",
				      (double)open };
	nums[1] = (struct pg_number){ "bisections", n2, "bisections",
				      (double)s->nbisections };
	nums[2] = (struct pg_number){ "runs", n3, "runs", (double)s->nruns };
	pg_head(p, "perfbisect: report", "index", NULL);
	pg_raw(p, "<h1>perfbisect</h1>\n");
	pg_verdict(p, status, sentence, nums,
		   "each benchmark's own metric and direction on its pages");
	pg_fmt(p, "<p data-counts data-series=\"%zu\" data-commits-tested="
		  "\"%zu\" data-machines=\"%zu\">%zu series, %zu commits "
		  "tested by bisections, %zu runs, %zu machines.</p>\n",
	       s->nseries, tested, s->nmachines, s->nseries, tested, s->nruns,
	       s->nmachines);
	alerts_table(p);
	bisections_table(p);
	series_list(p);
	machines_table(p);
	pg_raw(p, "<p class=\"note\" id=\"generated\">Generated ");
	{
		char t[64];

		pg_time(t, sizeof(t), s->generated_at);
		pg_text(p, t);
	}
	pg_raw(p, ".</p>\n");
	pg_foot(p, s->generated_at);
}

/* ---- series ---- */

/* Wilson's 95 % interval of k successes in n. */
static void wilson(size_t k, size_t n, double *lo, double *hi)
{
	const double z = 1.959964;
	double ph, c, h;

	if (!n) {
		*lo = *hi = NAN;
		return;
	}
	ph = (double)k / (double)n;
	c = (ph + z * z / (2.0 * (double)n)) / (1 + z * z / (double)n);
	h = z * sqrt(ph * (1 - ph) / (double)n +
		     z * z / (4.0 * (double)n * (double)n)) /
	    (1 + z * z / (double)n);
	*lo = c - h < 0 ? 0 : c - h;
	*hi = c + h > 1 ? 1 : c + h;
}

static void strand_chart(struct pb_page *p, const struct pb_site_series *S,
			 const struct pb_site_strand *st, size_t sk)
{
	const struct pb_site *s = p->site;
	const struct pb_site_bench *b = bench_of(s, S->bench);
	const char *mname = s->machines[st->machine].name;
	double lo = INFINITY, hi = -INFINITY, colw, width, top = 12, h = 200;
	int heat = S->npoints > HEAT_POINTS;
	char dir[300];

	pg_direction(dir, sizeof(dir), b->metric, b->lower_is_better);
	for (size_t i = 0; i < S->nruns; i++) {
		const struct pb_site_run *r = &s->runs[S->runs[i]];

		if (r->machine != st->machine || !isfinite(r->value))
			continue;
		lo = r->value < lo ? r->value : lo;
		hi = r->value > hi ? r->value : hi;
	}
	if (!isfinite(lo)) {
		pg_raw(p, "<p>No counted run on this machine.</p>\n");
		return;
	}
	if (hi - lo < 1e-12 * fabs(hi) + 1e-300) {
		lo -= fabs(lo) * 0.05 + 1;
		hi += fabs(hi) * 0.05 + 1;
	}
	{
		double pad = (hi - lo) * 0.06;

		lo -= pad;
		hi += pad;
	}
	colw = 960.0 / (double)S->npoints;
	colw = colw > 40 ? 40 : colw < 1 ? 1 : colw;
	width = LEFT + colw * (double)S->npoints + 20;
	pg_fmt(p, "<svg data-chart=\"series\" data-machine-index=\"%zu\" "
		  "role=\"img\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\">"
		  "<title>",
	       sk, width, top + h + 36 + (st->bimodal ? 100 : 0), width);
	pg_text(p, b->name);
	pg_raw(p, " on ");
	pg_text(p, mname);
	pg_fmt(p, "</title><desc>%zu commits of the branch in first-parent "
		  "order, oldest left; %s; change points found as dashed "
		  "rules%s. The table below holds the numbers.</desc>",
	       S->npoints,
	       heat ? "a heat map: each column a commit, each cell the count "
		      "of runs in a band of values, darker is more"
		    : "each run a dot",
	       st->bimodal ? "; under it the share of slow runs per commit "
			     "with its 95 % interval"
			   : "");
	/* value ticks */
	for (int k = 0; k <= 2; k++) {
		double v = lo + (hi - lo) * (0.06 + 0.44 * k);
		double y = top + h - (v - lo) / (hi - lo) * h;
		char t[48];

		pg_si(t, sizeof(t), v, NULL);
		pg_fmt(p, "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" "
			  "y1=\"%.1f\" y2=\"%.1f\"/><text x=\"%.1f\" "
			  "y=\"%.1f\" text-anchor=\"end\">",
		       LEFT - 4, width - 8, y, y, LEFT - 6, y + 4);
		pg_text(p, t);
		pg_raw(p, "</text>");
	}
	if (heat) {
		enum { BANDS = 40 };
		unsigned cnt[BANDS];
		size_t i = 0;

		while (i < S->nruns) {
			size_t pt = S->run_point[i];
			unsigned mx = 0;

			memset(cnt, 0, sizeof(cnt));
			for (; i < S->nruns && S->run_point[i] == pt; i++) {
				const struct pb_site_run *r =
					&s->runs[S->runs[i]];
				int band;

				if (r->machine != st->machine ||
				    !isfinite(r->value) || r->disturbed)
					continue;
				band = (int)((r->value - lo) / (hi - lo) *
					     BANDS);
				band = band < 0 ? 0 : band >= BANDS ? BANDS - 1
								    : band;
				cnt[band]++;
			}
			for (int k = 0; k < BANDS; k++)
				mx = cnt[k] > mx ? cnt[k] : mx;
			for (int k = 0; k < BANDS && mx; k++)
				if (cnt[k])
					pg_fmt(p, "<rect class=\"fast\" "
						  "x=\"%.2f\" y=\"%.2f\" "
						  "width=\"%.2f\" "
						  "height=\"%.2f\" "
						  "opacity=\"%.2f\" "
						  "data-count=\"%u\"/>",
					       LEFT + colw * (double)pt,
					       top + h - (k + 1) * h / BANDS,
					       colw, h / BANDS,
					       0.15 + 0.85 * cnt[k] / mx,
					       cnt[k]);
		}
	} else {
		size_t i = 0;

		while (i < S->nruns) {
			size_t pt = S->run_point[i], n = 0;
			double cx = LEFT + colw * ((double)pt + 0.5);

			for (; i < S->nruns && S->run_point[i] == pt; i++) {
				const struct pb_site_run *r =
					&s->runs[S->runs[i]];
				double y;
				enum pg_mode m;
				char tip[160], data[160], sha[13];

				if (r->machine != st->machine ||
				    !isfinite(r->value))
					continue;
				m = r->disturbed ? PG_DISTURBED
				    : !isfinite(st->threshold) ? PG_UNKNOWN
				    : (b->lower_is_better
					       ? r->value > st->threshold
					       : r->value < st->threshold)
					? PG_SLOW
					: PG_FAST;
				y = top + h - (r->value - lo) / (hi - lo) * h;
				pg_short(sha, s->commits[r->commit].sha);
				snprintf(tip, sizeof(tip), "run %lld of %s",
					 (long long)r->id, sha);
				snprintf(data, sizeof(data),
					 " data-run=\"%lld\" data-value="
					 "\"%.17g\" data-mode=\"%s\"",
					 (long long)r->id, r->value,
					 pg_mode_name(m));
				/* stacked without overlap: alternate sides */
				pg_mark(p, m,
					cx + (double)((n + 1) / 2) *
						     (n % 2 ? 3.5 : -3.5) *
						     (colw < 10 ? 0.2 : 1),
					y, tip, data);
				n++;
			}
		}
	}
	/* commits on the x axis, 56 px apart at least */
	{
		size_t every = (size_t)ceil(56.0 / colw);

		for (size_t k = 0; k < S->npoints; k += every ? every : 1)
			pg_fmt(p, "<text x=\"%.1f\" y=\"%.1f\" "
				  "text-anchor=\"middle\">%.7s</text>",
			       LEFT + colw * ((double)k + 0.5), top + h + 28,
			       s->commits[S->points[k]].sha);
	}
	/* change points, and the alerts of this machine */
	for (size_t c = 0; c < st->nchanges; c++) {
		double x = LEFT + colw * (double)st->changes[c].at;
		char t[48];

		pg_pct(t, sizeof(t),
		       st->changes[c].before
			       ? st->changes[c].after / st->changes[c].before -
					 1
			       : NAN);
		pg_fmt(p, "<line class=\"change\" x1=\"%.1f\" x2=\"%.1f\" "
			  "y1=\"%.1f\" y2=\"%.1f\" data-change-at=\"%zu\"/>"
			  "<text x=\"%.1f\" y=\"%.1f\">",
		       x, x, top, top + h, st->changes[c].at, x + 3, top + 10);
		pg_text(p, st->changes[c].series);
		pg_raw(p, " ");
		pg_text(p, t);
		pg_raw(p, "</text>");
	}
	for (size_t a = 0; a < s->nalerts; a++) {
		const struct pb_site_alert *A = &s->alerts[a];

		if (A->bench != S->bench || A->config_id != S->config_id ||
		    A->machine != st->machine)
			continue;
		for (size_t k = 0; k < S->npoints; k++)
			if (S->points[k] == A->bad) {
				double x = LEFT + colw * (double)k;

				pg_fmt(p, "<line class=\"change\" x1=\"%.1f\" "
					  "x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
					  "data-alert=\"%lld\"/><text "
					  "x=\"%.1f\" y=\"%.1f\">alert %lld"
					  "</text>",
				       x, x, top, top + h + 6,
				       (long long)A->id, x + 3, top + h + 16,
				       (long long)A->id);
			}
	}
	/* the slow share per commit, with its interval */
	if (st->bimodal) {
		double base = top + h + 128;
		size_t i = 0;

		pg_fmt(p, "<text x=\"4\" y=\"%.1f\">slow share</text>",
		       base - 64);
		while (i < S->nruns) {
			size_t pt = S->run_point[i], n = 0, k = 0;
			double wl, wh, x = LEFT + colw * ((double)pt + 0.5);

			for (; i < S->nruns && S->run_point[i] == pt; i++) {
				const struct pb_site_run *r =
					&s->runs[S->runs[i]];

				if (r->machine != st->machine ||
				    !isfinite(r->value) || r->disturbed)
					continue;
				n++;
				k += b->lower_is_better
					     ? r->value > st->threshold
					     : r->value < st->threshold;
			}
			if (!n)
				continue;
			wilson(k, n, &wl, &wh);
			pg_fmt(p, "<rect class=\"band\" x=\"%.1f\" y=\"%.1f\" "
				  "width=\"%.1f\" height=\"%.1f\"/><line "
				  "class=\"share\" x1=\"%.1f\" x2=\"%.1f\" "
				  "y1=\"%.1f\" y2=\"%.1f\" data-share=\"%.17g\" "
				  "data-n=\"%zu\"/>",
			       x - colw / 2, base - 60 * wh, colw,
			       60 * (wh - wl), x - colw / 2, x + colw / 2,
			       base - 60 * (double)k / (double)n,
			       base - 60 * (double)k / (double)n,
			       (double)k / (double)n, n);
		}
	}
	pg_raw(p, "</svg>\n");
}

/* The series' merges that have no point, and why: a reader who sees a
 * commit missing from the chart is told what became of it. */
static void series_gaps(struct pb_page *p, const struct pb_site_series *S)
{
	const struct pb_site *s = p->site;

	if (!S->ngaps)
		return;
	pg_fmt(p, "<h2 id=\"gaps\">Merges without a point (%zu)</h2>\n"
		  "<table id=\"gaps-table\"><thead><tr><th>commit</th><th>"
		  "subject</th><th>state</th><th>why</th></tr></thead><tbody>"
		  "\n",
	       S->ngaps);
	for (size_t g = 0; g < S->ngaps; g++) {
		const struct pb_site_gap *G = &S->gaps[g];
		const struct pb_site_commit *c = &s->commits[G->commit];
		char sha[13], why[160];

		pg_short(sha, c->sha);
		if (G->note)
			snprintf(why, sizeof(why), "%s", G->note);
		else if (!strcmp(G->state, "skipped"))
			snprintf(why, sizeof(why),
				 "newer merges of the series were waiting "
				 "(merge_backlog); a bisection measures it "
				 "when it needs it");
		else if (!strcmp(G->state, "queued"))
			snprintf(why, sizeof(why),
				 "being measured again: other work disturbed "
				 "its runs (%u round%s so far)",
				 G->busy_rounds, G->busy_rounds == 1 ? "" : "s");
		else
			snprintf(why, sizeof(why),
				 "its build failed, or its job failed as "
				 "infrastructure");
		pg_raw(p, "<tr");
		pg_attr(p, "data-sha", c->sha);
		pg_attr(p, "data-state", G->state);
		pg_fmt(p, "><td><code>%s</code></td><td>", sha);
		pg_text(p, c->subject);
		pg_raw(p, "</td><td>");
		pg_text(p, G->state);
		pg_raw(p, "</td><td>");
		pg_text(p, why);
		pg_raw(p, "</td></tr>\n");
	}
	pg_raw(p, "</tbody></table>\n");
}

void pb_page_series(struct pb_page *p, size_t sk)
{
	const struct pb_site *s = p->site;
	const struct pb_site_series *S = &s->series[sk];
	const struct pb_site_bench *b = bench_of(s, S->bench);
	size_t nalerts = 0, newest = PB_SITE_NONE;
	char title[400], dir[300], sentence[512], n1[32], n2[32], n3[48];
	struct pg_number nums[3];
	const double *med = S->medians;

	for (size_t a = 0; a < s->nalerts; a++)
		if (s->alerts[a].bench == S->bench &&
		    s->alerts[a].config_id == S->config_id &&
		    strcmp(s->alerts[a].state, "fixed")) {
			nalerts++;
			newest = a;
		}
	snprintf(title, sizeof(title), "perfbisect: %s / %s",
		 s->repos[b->repo].name, b->name);
	pg_direction(dir, sizeof(dir), b->metric, b->lower_is_better);
	pg_head(p, title, "series", NULL);
	pg_raw(p, "<h1>");
	pg_text(p, s->repos[b->repo].name);
	pg_raw(p, " / ");
	pg_text(p, b->name);
	if (S->config_id)
		pg_fmt(p, " / configuration %lld</h1>\n",
		       (long long)S->config_id);
	else
		pg_raw(p, " / default configuration</h1>\n");
	snprintf(sentence, sizeof(sentence),
		 "%zu merged commits measured on %zu machine%s; %zu open "
		 "alert%s.",
		 S->npoints, S->nstrands, S->nstrands == 1 ? "" : "s",
		 nalerts, nalerts == 1 ? "" : "s");
	snprintf(n1, sizeof(n1), "%zu", S->npoints);
	snprintf(n2, sizeof(n2), "%zu", S->nruns);
	if (newest != PB_SITE_NONE)
		pg_pct(n3, sizeof(n3), s->alerts[newest].change);
	else
		snprintf(n3, sizeof(n3), "none");
	nums[0] = (struct pg_number){ "commits", n1, "points",
				      (double)S->npoints };
	nums[1] = (struct pg_number){ "runs", n2, "runs", (double)S->nruns };
	nums[2] = (struct pg_number){ "newest open alert", n3, "alert-change",
				      newest != PB_SITE_NONE
					      ? s->alerts[newest].change
					      : NAN };
	pg_verdict(p,
		   newest == PB_SITE_NONE ? "NO REGRESSION"
		   : s->alerts[newest].bisection < s->nbisections
			   ? pb_bisection_status(
				     s->bisections[s->alerts[newest].bisection]
					     .v)
			   : "INCONCLUSIVE",
		   sentence, nums, dir);
	for (size_t t = 0; t < S->nstrands; t++) {
		const struct pb_site_strand *st = &S->strands[t];
		char page[64];

		pg_machine_page(page, sizeof(page),
				s->machines[st->machine].name);
		pg_fmt(p, "<h2>On <a href=\"%s\">", page);
		pg_text(p, s->machines[st->machine].name);
		pg_fmt(p, "</a></h2>\n<p class=\"note\">%s; %zu change "
			  "point%s (E-divisive, window 30, p &le; 0.001).</p>\n",
		       st->bimodal ? "bimodal runs: judged on the slow share "
				     "and the fast runs' median"
				   : "judged on per-commit medians",
		       st->nchanges, st->nchanges == 1 ? "" : "s");
		strand_chart(p, S, st, t);
	}
	pg_legend(p);
	series_gaps(p, S);
	pg_raw(p, "<details><summary>Every commit as a table</summary><table "
		  "class=\"sortable\" id=\"points\"><thead><tr><th "
		  "class=\"n\">#</th><th>commit</th><th>subject</th><th "
		  "class=\"n\">runs</th><th class=\"n\">median (all "
		  "machines)</th></tr></thead><tbody>\n");
	for (size_t k = 0, i = 0; k < S->npoints; k++) {
		const struct pb_site_commit *c = &s->commits[S->points[k]];
		size_t n = 0;
		char sha[13], t[48];

		while (i < S->nruns && S->run_point[i] < k)
			i++;
		for (size_t j = i; j < S->nruns && S->run_point[j] == k; j++)
			n++;
		pg_short(sha, c->sha);
		pg_fmt(p, "<tr data-point=\"%zu\"", k);
		pg_attr(p, "data-sha", c->sha);
		pg_fmt(p, " data-runs=\"%zu\"><td class=\"n\">%zu</td><td>"
			  "<code>%s</code></td><td>",
		       n, k, sha);
		pg_text(p, c->subject);
		pg_si(t, sizeof(t), med[k], NULL);
		pg_fmt(p, "</td><td class=\"n\">%zu</td><td class=\"n\">", n);
		pg_text(p, t);
		pg_raw(p, "</td></tr>\n");
	}
	pg_raw(p, "</tbody></table></details>\n");
	pg_foot(p, S->updated_at);
}

/* ---- machine ---- */

static void flat_table(struct pb_page *p, const char *json, const char *id)
{
	struct pb_flat *f = NULL;
	size_t n = 0;

	if (!json || pb_proto_flatten(json, &f, &n) < 0 || !n) {
		pg_raw(p, "<p>None stored.</p>\n");
		pb_flat_free(f, n);
		return;
	}
	pg_fmt(p, "<table id=\"%s\"><tbody>\n", id);
	for (size_t i = 0; i < n; i++) {
		pg_raw(p, "<tr><th>");
		pg_text(p, f[i].path);
		pg_raw(p, "</th><td>");
		if (f[i].text) {
			pg_text(p, f[i].text);
		} else {
			char t[64];

			snprintf(t, sizeof(t), "%.10g", f[i].value);
			pg_text(p, t);
		}
		pg_raw(p, "</td></tr>\n");
	}
	pg_raw(p, "</tbody></table>\n");
	pb_flat_free(f, n);
}

void pb_page_machine(struct pb_page *p, size_t mi)
{
	const struct pb_site *s = p->site;
	const struct pb_site_machine *M = &s->machines[mi];
	char title[320], sentence[512], n1[32], n2[32], n3[32];
	struct pg_number nums[3];
	double last = NAN;
	const char *status = !isfinite(M->spread) ? "INCONCLUSIVE"
			     : M->spread > 0.02  ? "INCONCLUSIVE"
						 : "CONFIRMED";

	for (size_t i = 0; i < s->nruns; i++)
		if (s->runs[i].machine == mi &&
		    (!isfinite(last) || s->runs[i].started_at > last))
			last = s->runs[i].started_at;
	snprintf(title, sizeof(title), "perfbisect: machine %s", M->name);
	pg_head(p, title, "machine", NULL);
	pg_raw(p, "<h1>Machine ");
	pg_text(p, M->name);
	pg_raw(p, "</h1>\n");
	if (isfinite(M->spread))
		snprintf(sentence, sizeof(sentence),
			 "repeated runs of one commit on this machine spread "
			 "by %.2f %% (median over %zu groups of its last runs"
			 ")%s; %zu of %zu runs were disturbed.",
			 100 * M->spread, M->spread_groups,
			 M->spread > 0.02 ? ": noisy, small changes are hard "
					    "to see here"
					  : ": stable",
			 M->disturbed, M->runs);
	else
		snprintf(sentence, sizeof(sentence),
			 "too few repeated runs to say how stable it is; %zu "
			 "of %zu runs were disturbed.",
			 M->disturbed, M->runs);
	pg_pct(n1, sizeof(n1), M->spread);
	if (isfinite(M->spread))
		snprintf(n1, sizeof(n1), "%.2f %%", 100 * M->spread);
	snprintf(n2, sizeof(n2), "%zu", M->runs);
	snprintf(n3, sizeof(n3), "%zu", M->disturbed);
	nums[0] = (struct pg_number){ "typical spread", n1, "spread",
				      M->spread };
	nums[1] = (struct pg_number){ "runs", n2, "runs", (double)M->runs };
	nums[2] = (struct pg_number){ "disturbed", n3, "disturbed",
				      (double)M->disturbed };
	pg_verdict(p, status, sentence, nums,
		   "spread: lower is better (CONFIRMED: stable enough to "
		   "measure 2 % changes)");
	pg_raw(p, "<h2 id=\"facts\">Facts</h2>\n<p class=\"note\">As the "
		  "machine last reported them: CPU, NUMA nodes and their "
		  "distances, frequency governor, boost, SMT, isolated CPUs, "
		  "kernel.</p>\n");
	flat_table(p, M->facts, "facts-table");
	pg_raw(p, "<h2 id=\"settings\">Settings</h2>\n");
	flat_table(p, M->settings, "settings-table");
	pg_raw(p, "<h2 id=\"homes\">Merges it measures</h2>\n");
	if (M->homes) {
		const char *l = M->homes;

		pg_raw(p, "<p class=\"note\">A series' merges are measured on "
			  "one machine, its home (docs/merges.md); this one is "
			  "the home of:</p>\n<ul id=\"homes-list\">\n");
		while (*l) {
			const char *e = strchr(l, '\n');
			size_t n = e ? (size_t)(e - l) : strlen(l);
			char one[600];

			snprintf(one, sizeof(one), "%.*s", (int)n, l);
			pg_raw(p, "<li");
			pg_attr(p, "data-series", one);
			pg_raw(p, ">");
			pg_text(p, one);
			pg_raw(p, "</li>\n");
			l += n + (e != NULL);
		}
		pg_raw(p, "</ul>\n");
	} else {
		pg_raw(p, "<p>None: no series' merges are measured here.</p>\n");
	}
	pg_fmt(p, "<h2 id=\"stability\">Recent stability</h2>\n<p>%zu runs, "
		  "%zu disturbed (not counted), %zu failed.</p>\n",
	       M->runs, M->disturbed, M->failed);
	pg_foot(p, last);
}

/* ---- run ---- */

static void json_section(struct pb_page *p, const char *name,
			 const char *json)
{
	if (!json || !json[0])
		return;
	pg_raw(p, "<details><summary>");
	pg_text(p, name);
	pg_raw(p, "</summary>");
	flat_table(p, json, name);
	pg_raw(p, "</details>\n");
}

/* Pages per NUMA node of each memory region, from the run's placement. */
/* Pages per NUMA node of each memory region, from the run's placement:
 * every sample of it. */
static void run_placement(struct pb_page *p, const struct pb_site_run *r)
{
	struct pb_flat *f = NULL;
	size_t n = 0;
	int any = 0;

	pg_raw(p, "<h2 id=\"placement\">Where its memory lived</h2>\n");
	if (r->numa && pb_proto_flatten(r->numa, &f, &n) == PB_OK)
		for (size_t i = 0; i < n; i++) {
			if (strncmp(f[i].path, "placement/", 10) ||
			    !isfinite(f[i].value))
				continue;
			if (!any++)
				pg_raw(p, "<table id=\"placement-table\"><thead>"
					  "<tr><th>sample / program / region "
					  "/ node</th><th class=\"n\">pages"
					  "</th></tr></thead><tbody>\n");
			pg_raw(p, "<tr><td>");
			pg_text(p, f[i].path + 10);
			pg_fmt(p, "</td><td class=\"n\">%.0f</td></tr>\n",
			       f[i].value);
		}
	pb_flat_free(f, n);
	pg_raw(p, any ? "</tbody></table>\n"
		      : "<p>Not sampled (the run was too short, or the "
			"machine has one node).</p>\n");
}

void pb_page_run(struct pb_page *p, size_t ri)
{
	const struct pb_site *s = p->site;
	const struct pb_site_run *r = &s->runs[ri];
	const struct pb_site_bench *b = bench_of(s, r->bench);
	const struct pb_site_commit *c = &s->commits[r->commit];
	char title[128], sentence[600], dir[300], sha[13], n1[48], n2[48],
		n3[48], page[64];
	struct pg_number nums[3];
	double boundary = NAN, half = NAN, dist;
	enum pg_mode m;
	const char *status;
	struct pb_buf tail = PB_BUF_INIT(64 * 1024);

	if (r->bisection < s->nbisections)
		pb_bisection_modes(s, r->bisection, &boundary, &half);
	m = pb_run_mode(r, boundary, half, b->lower_is_better, &dist);
	pg_short(sha, c->sha);
	pg_direction(dir, sizeof(dir), b->metric, b->lower_is_better);
	snprintf(title, sizeof(title), "perfbisect: run %lld",
		 (long long)r->id);
	status = !r->ok		  ? "FAILED"
		 : r->disturbed	  ? "INCONCLUSIVE"
		 : r->bisection < s->nbisections
			 ? pb_bisection_status(s->bisections[r->bisection].v)
			 : "NO REGRESSION";
	pg_head(p, title, "run", NULL);
	pg_fmt(p, "<h1>Run %lld of <code>%s</code></h1>\n", (long long)r->id,
	       sha);
	if (!r->ok)
		snprintf(sentence, sizeof(sentence),
			 "the run failed: %s.",
			 r->failure_reason ? r->failure_reason
					   : "no reason stored");
	else if (r->disturbed)
		snprintf(sentence, sizeof(sentence),
			 "taken while other work held the machine (others "
			 "used %.0f %% of it): stored, not counted.",
			 100 * (isfinite(r->busy_share) ? r->busy_share : 0));
	else if (isfinite(dist))
		snprintf(sentence, sizeof(sentence),
			 "a %s run, %.2f half-gaps from the boundary between "
			 "the modes%s.",
			 pg_mode_name(m), dist,
			 r->pair >= 0 ? " (a verification run)" : "");
	else
		snprintf(sentence, sizeof(sentence), "a counted run%s.",
			 r->pair >= 0 ? " of the verification" : "");
	pg_si(n1, sizeof(n1), r->value, NULL);
	if (isfinite(r->wall_s))
		snprintf(n2, sizeof(n2), "%.3f s", r->wall_s);
	else
		snprintf(n2, sizeof(n2), "n/a");
	if (isfinite(r->busy_share))
		snprintf(n3, sizeof(n3), "%.1f %%", 100 * r->busy_share);
	else
		snprintf(n3, sizeof(n3), "n/a");
	nums[0] = (struct pg_number){ "value", r->ok ? n1 : "failed",
				      "value", r->value };
	nums[1] = (struct pg_number){ "wall time", n2, "wall", r->wall_s };
	nums[2] = (struct pg_number){ "others' CPU during it", n3, "busy",
				      r->busy_share };
	pg_verdict(p, status, sentence, nums, dir);
	pg_raw(p, "<table id=\"run\"><tbody>\n<tr><th>commit</th><td><code>");
	pg_text(p, c->sha);
	pg_raw(p, "</code> ");
	pg_text(p, c->subject);
	pg_raw(p, "</td></tr>\n<tr><th>of</th><td>");
	if (r->bisection < s->nbisections) {
		pg_bisection_page(page, sizeof(page),
				  s->bisections[r->bisection].v->id);
		pg_fmt(p, "<a href=\"%s\">bisection %lld</a>, run %d", page,
		       s->bisections[r->bisection].v->id, r->seq);
		if (r->pair >= 0)
			pg_fmt(p, ", verification pair %d (%s)", r->pair,
			       r->role == PB_ROLE_VERIFY_CULPRIT ? "culprit"
								 : "parent");
	} else {
		pg_series_page(page, sizeof(page), (long long)b->id,
			       (long long)r->config_id);
		pg_fmt(p, "<a href=\"%s\">a merge's runs</a>", page);
	}
	pg_raw(p, "</td></tr>\n<tr><th>machine</th><td>");
	if (r->machine < s->nmachines) {
		pg_machine_page(page, sizeof(page),
				s->machines[r->machine].name);
		pg_fmt(p, "<a href=\"%s\">", page);
		pg_text(p, s->machines[r->machine].name);
		pg_raw(p, "</a>");
	}
	pg_fmt(p, "</td></tr>\n<tr><th>mode</th><td>%s</td></tr>\n",
	       pg_mode_name(m));
	pg_fmt(p, "<tr><th>start</th><td>CPU %d, node %d</td></tr>\n",
	       r->start_cpu, r->start_node);
	if (isfinite(r->cpu_s))
		pg_fmt(p, "<tr><th>its own CPU time</th><td>%.3f s</td>"
			  "</tr>\n", r->cpu_s);
	if (!r->ok)
		pg_fmt(p, "<tr><th>exit</th><td>status %d, signal %d%s</td>"
			  "</tr>\n", r->exit_code, r->signal,
		       r->timed_out ? ", timed out" : "");
	pg_raw(p, "<tr><th>run as</th><td>");
	pg_text(p, r->run_as);
	pg_raw(p, "</td></tr>\n</tbody></table>\n");
	run_placement(p, r);
	if (r->output) {
		(void)pb_human_tail(&tail, r->output, 30, 240, "");
		pg_raw(p, "<h2 id=\"output\">The end of its output</h2>\n<pre>");
		pg_text(p, tail.len ? tail.ptr : "(none)");
		pg_raw(p, "</pre>\n");
	}
	pb_buf_release(&tail);
	pg_raw(p, "<h2 id=\"record\">Its whole record</h2>\n");
	json_section(p, "interference", r->interference);
	json_section(p, "counters", r->counters);
	json_section(p, "metrics", r->metrics);
	json_section(p, "numa", r->numa);
	json_section(p, "settings", r->settings);
	if (r->notes) {
		pg_raw(p, "<details><summary>notes</summary><pre>");
		pg_text(p, r->notes);
		pg_raw(p, "</pre></details>\n");
	}
	pg_foot(p, r->started_at);
}
