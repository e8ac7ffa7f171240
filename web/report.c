/*
 * report.c - static HTML pages for bisections (see report.h).
 *
 * Pages are plain HTML with a small inline style sheet and no script, so
 * they open from the file system and from any web server alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/human.h"
#include "common/util.h"
#include "web/html.h"
#include "web/report.h"

#define PAGE_MAX (16u * 1024 * 1024)

static const char style[] =
	"body{font-family:system-ui,sans-serif;margin:2em;color:#222;"
	"max-width:72em}"
	"table{border-collapse:collapse;margin:1em 0}"
	"td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;"
	"vertical-align:top}"
	"th{background:#f3f3f3}"
	"tr.culprit{background:#ffe3e0;font-weight:bold}"
	"tr.skip{color:#888}"
	".good{color:#1a7f37}.bad{color:#cf222e}.skip,.undecided{color:#777}"
	"code{font-size:95%}"
	".verdict{font-size:1.3em;margin:1em 0}"
	".note{color:#555;font-size:90%}"
	"pre{margin:0;white-space:pre-wrap;font-size:90%}";

void pb_report_page_name(long long id, char *out, size_t size)
{
	snprintf(out, size, "bisection-%lld.html", id);
}

static int head(struct pb_buf *b, const char *title)
{
	int rc = pb_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
				"<meta charset=\"utf-8\"><title>");
	rc = rc ? rc : pb_html_put(b, title);
	rc = rc ? rc : pb_buf_printf(b, "</title><style>%s</style></head>\n"
				       "<body>\n", style);
	return rc;
}

static int put_num(struct pb_buf *b, double v)
{
	if (!isfinite(v))
		return pb_buf_puts(b, "<span class=\"note\">n/a</span>");
	return pb_buf_printf(b, "%.6g", v);
}

/* A counter median, or "unsupported" with the machine's reason as a
 * tooltip. */
static int put_counter(struct pb_buf *b, enum pb_value_state state, double v,
		       const char *note)
{
	int rc;

	if (state != PB_VAL_UNSUPPORTED)
		return put_num(b, v);
	rc = pb_buf_puts(b, "<span class=\"unsupported\" title=\"");
	rc = rc ? rc : pb_html_put(b, note ? note : "");
	return rc ? rc : pb_buf_puts(b, "\">unsupported</span>");
}

static int put_time(struct pb_buf *b, double t)
{
	char s[64];
	time_t tt = (time_t)t;
	struct tm tm;

	if (!isfinite(t) || !gmtime_r(&tt, &tm))
		return pb_buf_puts(b, "&mdash;");
	strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S UTC", &tm);
	return pb_buf_puts(b, s);
}

static int row(struct pb_buf *b, const char *k, const char *v)
{
	int rc = pb_buf_puts(b, "<tr><th>");

	rc = rc ? rc : pb_html_put(b, k);
	rc = rc ? rc : pb_buf_puts(b, "</th><td>");
	rc = rc ? rc : pb_html_put(b, v);
	return rc ? rc : pb_buf_puts(b, "</td></tr>\n");
}

static const struct pb_step_view *find_step(const struct pb_bisection_view *v,
					    const char *sha)
{
	for (size_t i = 0; i < v->nsteps; i++)
		if (!strcmp(v->steps[i].sha, sha))
			return &v->steps[i];
	return NULL;
}

static int verdict_line(struct pb_buf *b, const struct pb_bisection_view *v)
{
	const struct pb_step_view *c = v->culprit[0] ? find_step(v, v->culprit)
						     : NULL;
	int rc = pb_buf_puts(b, "<p class=\"verdict\">");

	if (c) {
		rc = rc ? rc : pb_buf_puts(b, "Culprit: <code>");
		rc = rc ? rc : pb_html_put(b, c->sha);
		rc = rc ? rc : pb_buf_puts(b, "</code> &ldquo;");
		rc = rc ? rc : pb_html_put(b, c->subject);
		rc = rc ? rc : pb_buf_puts(b, "&rdquo; by ");
		rc = rc ? rc : pb_html_put(b, c->author);
	} else if (v->range_first[0]) {
		rc = rc ? rc : pb_buf_puts(b, "The culprit is one of the commits "
					      "from <code>");
		rc = rc ? rc : pb_html_put(b, v->range_first);
		rc = rc ? rc : pb_buf_puts(b, "</code> to <code>");
		rc = rc ? rc : pb_html_put(b, v->range_last);
		rc = rc ? rc : pb_buf_puts(b, "</code> (skipped commits hide "
					      "which)");
	} else if (!strcmp(v->state, "running")) {
		rc = rc ? rc : pb_buf_puts(b, "Still running.");
	} else {
		rc = rc ? rc : pb_buf_puts(b, "No culprit.");
	}
	rc = rc ? rc : pb_buf_puts(b, "</p>\n");
	if (v->outcome) {
		rc = rc ? rc : pb_buf_puts(b, "<p>");
		rc = rc ? rc : pb_html_put(b, v->outcome);
		rc = rc ? rc : pb_buf_puts(b, "</p>\n");
	}
	return rc;
}

static int stat_row(struct pb_buf *b, const char *name, const char *fmt,
		    double x)
{
	char num[64];

	if (!isfinite(x))
		return row(b, name, "n/a");
	snprintf(num, sizeof(num), fmt, x);
	return row(b, name, num);
}

/* What the engine found besides the verdict: the evidence a reader needs
 * to trust it (report-ux.md: the raw counts, the interval, the model). */
static int evidence_table(struct pb_buf *b, const struct pb_bisection_view *v)
{
	const struct pb_stats_view *sv = &v->stats;
	char txt[160];
	int rc = 0;

	if (!sv->ci_first[0])
		return 0;
	rc = pb_buf_puts(b, "<h2>Evidence</h2>\n<table class=\"summary\">\n");
	snprintf(txt, sizeof(txt), "%.12s .. %.12s", sv->ci_first,
		 sv->ci_last);
	rc = rc ? rc : row(b, "95% credible interval", txt);
	if (sv->culprit_slow >= 0) {
		snprintf(txt, sizeof(txt),
			 "%d slow / %d fast at the culprit, %d / %d at its "
			 "parent", sv->culprit_slow, sv->culprit_fast,
			 sv->parent_slow, sv->parent_fast);
		rc = rc ? rc : row(b, "runs", txt);
	}
	rc = rc ? rc : stat_row(b, "fast mode", "%g", sv->fast_mode);
	rc = rc ? rc : stat_row(b, "slow mode", "%g", sv->slow_mode);
	rc = rc ? rc : stat_row(b, "separation (Ashman's D)", "%.2f",
				sv->ashman_d);
	rc = rc ? rc : stat_row(b, "slow fraction, good side", "%.3f", sv->q0);
	rc = rc ? rc : stat_row(b, "slow fraction, bad side", "%.3f", sv->q1);
	rc = rc ? rc : stat_row(b, "dip test p, bad side", "%.3g", sv->dip_p);
	if (sv->good_bimodal >= 0)
		rc = rc ? rc : row(b, "good side bimodal",
				   sv->good_bimodal ? "yes: the good end "
						      "already had slow runs"
						    : "no");
	rc = rc ? rc : stat_row(b, "Mann-Whitney p, good vs bad side", "%.3g",
				sv->mwu_p);
	rc = rc ? rc : stat_row(b, "Kolmogorov-Smirnov p", "%.3g", sv->ks_p);
	rc = rc ? rc : pb_buf_puts(b, "</table>\n");
	return rc;
}

/* Lines of a failed build's log or run's output shown per commit. */
#define FAILURE_LINES 12

/* Why builds and runs failed, per commit: the reason and the last lines
 * of the build log or of the last failed run's output (stored with them),
 * so a skipped commit or a failing benchmark can be understood here. */
static int failures_table(struct pb_buf *b, const struct pb_bisection_view *v)
{
	struct pb_buf tail = PB_BUF_INIT(64 * 1024);
	int rc = 0, any = 0;

	for (size_t i = 0; rc == 0 && i < v->nsteps; i++) {
		const struct pb_step_view *s = &v->steps[i];

		if (!s->failure_reason && !s->failure_log)
			continue;
		if (!any++)
			rc = pb_buf_puts(b, "<h2 id=\"failures\">Failures</h2>\n"
					    "<table class=\"failures\">\n<tr>"
					    "<th>commit</th><th>subject</th>"
					    "<th>what failed</th><th>last "
					    "lines</th></tr>\n");
		pb_buf_reset(&tail);
		if (rc == 0 && pb_human_tail(&tail, s->failure_log,
					     FAILURE_LINES, 200, "") < 0)
			rc = PB_ERROR;
		rc = rc ? rc : pb_buf_puts(b, "<tr><td><code>");
		rc = rc ? rc : pb_buf_put(b, s->sha, 12);
		rc = rc ? rc : pb_buf_puts(b, "</code></td><td>");
		rc = rc ? rc : pb_html_put(b, s->subject ? s->subject : "");
		rc = rc ? rc : pb_buf_printf(b, "</td><td>%s: ",
					     !strcmp(s->verdict, "skip")
						     ? "build"
						     : "last failed run");
		rc = rc ? rc : pb_html_put(b, s->failure_reason
						      ? s->failure_reason
						      : "");
		rc = rc ? rc : pb_buf_puts(b, "</td><td><pre>");
		rc = rc ? rc : pb_html_put(b, tail.ptr);
		rc = rc ? rc : pb_buf_puts(b, "</pre></td></tr>\n");
	}
	if (any)
		rc = rc ? rc : pb_buf_puts(b, "</table>\n");
	pb_buf_release(&tail);
	return rc;
}

int pb_report_bisection_html(struct pb_buf *b,
			     const struct pb_bisection_view *v)
{
	char title[128], num[64];
	int rc;

	snprintf(title, sizeof(title), "perfbisect: bisection %lld", v->id);
	rc = head(b, title);
	rc = rc ? rc : pb_buf_printf(b, "<p><a href=\"index.html\">all "
				       "bisections</a></p>\n<h1>Bisection "
				       "%lld</h1>\n", v->id);
	rc = rc ? rc : verdict_line(b, v);
	rc = rc ? rc : pb_buf_puts(b, "<table class=\"summary\">\n");
	rc = rc ? rc : row(b, "repository", v->repo);
	rc = rc ? rc : row(b, "good", v->good);
	rc = rc ? rc : row(b, "bad", v->bad);
	rc = rc ? rc : row(b, "build", v->build_cmd);
	rc = rc ? rc : row(b, "run", v->run_cmd);
	snprintf(num, sizeof(num), "%s (%s is better)", v->metric ? v->metric : "",
		 v->lower_is_better ? "lower" : "higher");
	rc = rc ? rc : row(b, "metric", num);
	rc = rc ? rc : row(b, "state", v->state);
	rc = rc ? rc : row(b, "mode", v->mode[0] ? v->mode : "not decided");
	if (isfinite(v->confidence))
		snprintf(num, sizeof(num), "%.4f (asked %.4g)", v->confidence,
			 v->confidence_asked);
	else
		snprintf(num, sizeof(num),
			 "none: the search did not start (asked %.4g)",
			 v->confidence_asked);
	rc = rc ? rc : row(b, "confidence", num);
	snprintf(num, sizeof(num), "%u runs, %u builds", v->runs, v->builds);
	rc = rc ? rc : row(b, "cost", num);
	if (v->verification.commit[0]) {
		const struct pb_verification_view *w = &v->verification;
		char ver[256];

		snprintf(ver, sizeof(ver),
			 "%.12s against its parent, alternately: %s after %u "
			 "pairs (attempt %u); %+.1f %% slower, 95 %% interval "
			 "[%+.1f %%, %+.1f %%], p %.2g",
			 w->commit, w->confirmed ? "confirmed" : "not confirmed",
			 w->pairs, w->attempts, 100 * w->effect, 100 * w->lo,
			 100 * w->hi, w->p);
		rc = rc ? rc : row(b, "verification", ver);
		for (int k = 0; k < 2; k++) {
			char said[512];

			pb_counter_move_say(k ? &w->remote : &w->ipc,
					    k ? "remote accesses" : "IPC", said,
					    sizeof(said));
			if (said[0])
				rc = rc ? rc : row(b, "with it", said);
		}
	}
	rc = rc ? rc : pb_buf_puts(b, "<tr><th>started</th><td>");
	rc = rc ? rc : put_time(b, v->created_at);
	rc = rc ? rc : pb_buf_puts(b, "</td></tr>\n<tr><th>finished</th><td>");
	rc = rc ? rc : put_time(b, v->finished_at);
	rc = rc ? rc : pb_buf_puts(b, "</td></tr>\n</table>\n");
	rc = rc ? rc : evidence_table(b, v);

	const char *ipc_note = NULL, *remote_note = NULL;

	rc = rc ? rc : pb_buf_puts(b,
		"<h2>Steps</h2>\n<table class=\"steps\">\n<tr><th>#</th>"
		"<th>commit</th><th>subject</th><th>verdict</th><th>runs</th>"
		"<th>failed</th><th>median</th><th>slow / fast</th>"
		"<th>P(bad)</th><th>IPC</th><th>remote accesses</th>"
		"<th>start nodes</th><th>disturbed</th><th>interference</th>"
		"</tr>\n");
	for (size_t i = 0; rc == 0 && i < v->nsteps; i++) {
		const struct pb_step_view *s = &v->steps[i];
		int culprit = !strcmp(s->sha, v->culprit);

		rc = pb_buf_printf(b, "<tr class=\"%s\"><td>%zu</td><td><code>",
				   culprit ? "culprit"
					   : !strcmp(s->verdict, "skip") ? "skip"
									 : "",
				   i + 1);
		rc = rc ? rc : pb_buf_put(b, s->sha, 12);
		rc = rc ? rc : pb_buf_puts(b, "</code></td><td>");
		rc = rc ? rc : pb_html_put(b, s->subject);
		rc = rc ? rc : pb_buf_puts(b, "</td><td class=\"");
		rc = rc ? rc : pb_html_put(b, s->verdict);
		rc = rc ? rc : pb_buf_puts(b, "\">");
		rc = rc ? rc : pb_html_put(b, s->verdict);
		if (s->identical_to[0]) {
			rc = rc ? rc : pb_buf_puts(b, " <span class=\"identical\" "
						      "title=\"maps the same code "
						      "as its parent ");
			rc = rc ? rc : pb_html_put(b, s->identical_to);
			rc = rc ? rc : pb_buf_puts(b, "\">(= parent)</span>");
		}
		rc = rc ? rc : pb_buf_printf(b, "</td><td>%u</td><td>%u</td><td>",
					     s->runs, s->failed_runs);
		rc = rc ? rc : put_num(b, s->median);
		rc = rc ? rc : pb_buf_puts(b, "</td><td>");
		if (s->slow >= 0 && s->fast >= 0)
			rc = rc ? rc : pb_buf_printf(b, "%d / %d", s->slow,
						     s->fast);
		else
			rc = rc ? rc : pb_buf_puts(b, "n/a");
		rc = rc ? rc : pb_buf_puts(b, "</td><td>");
		rc = rc ? rc : put_num(b, s->p_bad);
		rc = rc ? rc : pb_buf_puts(b, "</td><td>");
		rc = rc ? rc : put_counter(b, s->ipc_state, s->ipc, s->ipc_note);
		rc = rc ? rc : pb_buf_puts(b, "</td><td>");
		rc = rc ? rc : put_counter(b, s->remote_state, s->remote_access,
					   s->remote_note);
		rc = rc ? rc : pb_buf_puts(b, "</td><td>");
		rc = rc ? rc : pb_html_put(b, s->start_nodes_json
						      ? s->start_nodes_json
						      : "n/a");
		rc = rc ? rc : pb_buf_printf(b, "</td><td class=\"disturbed\">"
					     "%u</td><td>", s->disturbed);
		if (isfinite(s->interference))
			rc = rc ? rc : pb_buf_printf(b, "%.1f %%",
						     100 * s->interference);
		else
			rc = rc ? rc : pb_buf_puts(b, "n/a");
		rc = rc ? rc : pb_buf_puts(b, "</td></tr>\n");
		if (!ipc_note && s->ipc_state == PB_VAL_UNSUPPORTED)
			ipc_note = s->ipc_note;
		if (!remote_note && s->remote_state == PB_VAL_UNSUPPORTED)
			remote_note = s->remote_note;
	}
	rc = rc ? rc : pb_buf_puts(b,
		"</table>\n<p class=\"note\">slow / fast: the commit's runs "
		"classified against the two ends' modes (for a shift, by "
		"which end's distribution explains them better). P(bad): the "
		"posterior probability that the commit already has the "
		"slowdown. (= parent): every program file its runs mapped "
		"from its work tree has the loadable contents of its "
		"parent's, so it is hardly the culprit. IPC and remote accesses: medians over the commit's "
		"runs. Start nodes: how many runs started on each NUMA node. "
		"Disturbed: runs taken while other work held the machine, "
		"kept but not counted. Interference: the median share of the "
		"machine that other work used during its runs. "
		"n/a: not computed.</p>\n");
	if (ipc_note || remote_note) {
		rc = rc ? rc : pb_buf_puts(b, "<p class=\"note\" "
					      "id=\"counters-note\">Hardware "
					      "counters on this machine: ");
		if (ipc_note) {
			rc = rc ? rc : pb_buf_puts(b, "IPC unsupported (");
			rc = rc ? rc : pb_html_put(b, ipc_note);
			rc = rc ? rc : pb_buf_puts(b, ")");
		}
		if (remote_note) {
			rc = rc ? rc : pb_buf_puts(b, ipc_note ? "; " : "");
			rc = rc ? rc : pb_buf_puts(b, "remote accesses "
						      "unsupported (");
			rc = rc ? rc : pb_html_put(b, remote_note);
			rc = rc ? rc : pb_buf_puts(b, ")");
		}
		rc = rc ? rc : pb_buf_puts(b, ".</p>\n");
	}
	rc = rc ? rc : failures_table(b, v);
	rc = rc ? rc : pb_buf_puts(b, "</body></html>\n");
	return rc;
}

int pb_report_index_html(struct pb_buf *b,
			 struct pb_bisection_view *const *vs, size_t n)
{
	int rc = head(b, "perfbisect: bisections");

	rc = rc ? rc : pb_buf_puts(b, "<h1>Bisections</h1>\n<table>\n<tr>"
				      "<th>#</th><th>repository</th><th>metric"
				      "</th><th>state</th><th>culprit</th>"
				      "<th>runs</th><th>started</th></tr>\n");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct pb_bisection_view *v = vs[i];
		const struct pb_step_view *c = v->culprit[0]
						       ? find_step(v, v->culprit)
						       : NULL;
		char page[64];

		pb_report_page_name(v->id, page, sizeof(page));
		rc = pb_buf_printf(b, "<tr><td><a href=\"%s\">%lld</a></td><td>",
				   page, v->id);
		rc = rc ? rc : pb_html_put(b, v->repo);
		rc = rc ? rc : pb_buf_puts(b, "</td><td>");
		rc = rc ? rc : pb_html_put(b, v->metric);
		rc = rc ? rc : pb_buf_puts(b, "</td><td>");
		rc = rc ? rc : pb_html_put(b, v->state);
		rc = rc ? rc : pb_buf_puts(b, "</td><td>");
		if (c) {
			rc = rc ? rc : pb_buf_puts(b, "<code>");
			rc = rc ? rc : pb_buf_put(b, c->sha, 12);
			rc = rc ? rc : pb_buf_puts(b, "</code> ");
			rc = rc ? rc : pb_html_put(b, c->subject);
		} else {
			rc = rc ? rc : pb_buf_puts(b, "&mdash;");
		}
		rc = rc ? rc : pb_buf_printf(b, "</td><td>%u</td><td>", v->runs);
		rc = rc ? rc : put_time(b, v->created_at);
		rc = rc ? rc : pb_buf_puts(b, "</td></tr>\n");
	}
	return rc ? rc : pb_buf_puts(b, "</table>\n</body></html>\n");
}

static int write_atomic(const char *dir, const char *name,
			const struct pb_buf *b)
{
	char *path = pb_path_join(dir, name), *tmp = NULL;
	size_t off = 0;
	int fd = -1, rc = PB_OK;

	if (!path)
		return PB_ERROR;
	tmp = malloc(strlen(path) + 8);
	if (!tmp) {
		free(path);
		return pb_error_set("out of memory");
	}
	snprintf(tmp, strlen(path) + 8, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = pb_error_code(PB_EINFRA, "cannot write '%s': %s", tmp,
				   strerror(errno));
		goto out;
	}
	while (off < b->len) {
		ssize_t w = write(fd, b->ptr + off, b->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = pb_error_code(PB_EINFRA, "cannot write '%s': %s", tmp,
					   strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = pb_error_code(PB_EINFRA, "cannot write '%s': %s", tmp,
				   strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		rc = pb_error_code(PB_EINFRA, "cannot rename '%s': %s", tmp,
				   strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	free(path);
	return rc;
}

int pb_report_write(const char *dir, struct pb_bisection_view *const *vs,
		    size_t n)
{
	struct pb_buf b = PB_BUF_INIT(PAGE_MAX);
	char page[64];
	int rc;

	if ((rc = pb_mkdir_p(dir, 0755)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		pb_buf_reset(&b);
		pb_report_page_name(vs[i]->id, page, sizeof(page));
		if ((rc = pb_report_bisection_html(&b, vs[i])) < 0 ||
		    (rc = write_atomic(dir, page, &b)) < 0)
			goto out;
	}
	pb_buf_reset(&b);
	if ((rc = pb_report_index_html(&b, vs, n)) == 0)
		rc = write_atomic(dir, "index.html", &b);
out:
	pb_buf_release(&b);
	return rc;
}
