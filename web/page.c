/*
 * page.c - the frame, the verdict block, numbers and marks of every report
 * page (page.h).
 *
 * Colours are Okabe-Ito, through CSS custom properties so that a dark
 * scheme and print work: fast runs are blue filled circles, slow runs
 * vermillion hollow triangles (the two differ in shape, not only hue), runs
 * of no known mode grey squares, disturbed runs grey crosses.  Never red
 * and green for good and bad: words carry that.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/human.h"
#include "common/util.h"
#include "web/html.h"
#include "web/page.h"

static const char style[] =
	":root{--fg:#1b1b1b;--bg:#fff;--muted:#5e5e5e;--rule:#cfcfcf;"
	"--panel:#f5f5f5;--fast:#0072B2;--slow:#D55E00;--other:#777;"
	"--post:#009E73;--alert:#CC79A7}"
	"@media (prefers-color-scheme:dark){:root{--fg:#e6e6e6;--bg:#151515;"
	"--muted:#a8a8a8;--rule:#444;--panel:#222;--fast:#56B4E9;"
	"--slow:#E69F00;--other:#aaa}}"
	"body{font:15px/1.45 system-ui,-apple-system,sans-serif;margin:0;"
	"color:var(--fg);background:var(--bg);"
	"font-variant-numeric:tabular-nums}"
	"nav{padding:.5em 1.5em;border-bottom:1px solid var(--rule)}"
	"nav a{margin-right:1.2em}"
	"main{padding:0 1.5em 2em;max-width:80em}"
	"footer{padding:1em 1.5em;color:var(--muted);font-size:85%;"
	"border-top:1px solid var(--rule)}"
	"a{color:var(--fast)}"
	"h1{font-size:1.45em;margin:.8em 0 .4em}"
	"h2{font-size:1.15em;margin:1.6em 0 .4em;border-bottom:1px solid "
	"var(--rule)}"
	".verdict{border-left:6px solid var(--muted);background:var(--panel);"
	"padding:.7em 1em;margin:1em 0}"
	".verdict[data-status=CONFIRMED]{border-color:var(--slow)}"
	".verdict[data-status=RUNNING]{border-color:var(--fast)}"
	".status{font-weight:700;letter-spacing:.06em;margin-right:.6em}"
	".sentence{font-size:1.1em}"
	".nums{display:flex;gap:2.5em;margin:.5em 0 .2em;flex-wrap:wrap}"
	".num b{display:block;font-size:1.35em}"
	".num span{color:var(--muted);font-size:85%}"
	".dir{color:var(--muted);font-size:85%}"
	"table{border-collapse:collapse;margin:.6em 0}"
	"td,th{border-bottom:1px solid var(--rule);padding:.25em .6em;"
	"text-align:left;vertical-align:top}"
	"th{font-weight:600}"
	"td.n,th.n{text-align:right}"
	"tr.culprit td{font-weight:700}"
	"code,pre{font:13px/1.35 ui-monospace,monospace}"
	"pre{white-space:pre-wrap;background:var(--panel);padding:.5em;"
	"margin:.3em 0;max-height:30em;overflow:auto}"
	".note{color:var(--muted);font-size:88%}"
	"svg{display:block;max-width:100%;height:auto;margin:.4em 0}"
	"svg text{font:11px system-ui,sans-serif;fill:var(--fg)}"
	"svg .axis{stroke:var(--rule)}"
	"svg .fast{fill:var(--fast);stroke:var(--fast)}"
	"svg .slow{fill:none;stroke:var(--slow);stroke-width:1.6}"
	"svg .unknown{fill:var(--other);stroke:none}"
	"svg .disturbed,svg .failed{stroke:var(--other);stroke-width:1.4;"
	"fill:none}"
	"svg .tick{stroke:var(--other)}"
	"svg .post{fill:var(--post)}"
	"svg .change{stroke:var(--alert);stroke-width:2;stroke-dasharray:5 3}"
	"svg .share{fill:none;stroke:var(--slow);stroke-width:1.6}"
	"svg .band{fill:var(--slow);opacity:.18}"
	"svg .culprit{fill:var(--slow);opacity:.12}"
	"details{margin:.6em 0}summary{cursor:pointer}"
	".legend span{margin-right:1.4em;white-space:nowrap}"
	"th.sortable{cursor:pointer}"
	"@media print{nav,footer{display:none}main{max-width:none}"
	"details{display:block}}";

/* Sorting a table by a column header's click, and filtering its rows: an
 * enhancement only (without it every row is there). */
static const char script[] =
	"document.querySelectorAll('table.sortable').forEach(function(t){"
	"t.querySelectorAll('th').forEach(function(h,i){"
	"h.classList.add('sortable');h.title='sort';"
	"h.addEventListener('click',function(){"
	"var b=t.tBodies[0];if(!b)return;"
	"var rows=Array.prototype.slice.call(b.rows);"
	"var up=h.dataset.up!=='1';h.dataset.up=up?'1':'0';"
	"rows.sort(function(x,y){"
	"var a=x.cells[i],c=y.cells[i];if(!a||!c)return 0;"
	"var p=a.dataset.v,q=c.dataset.v;"
	"if(p!==undefined&&q!==undefined){p=+p;q=+q;}"
	"else{p=a.textContent;q=c.textContent;}"
	"return (p<q?-1:p>q?1:0)*(up?1:-1);});"
	"rows.forEach(function(r){b.appendChild(r);});});});"
	/* and a filter over its rows' text */
	"if(t.tBodies[0]&&t.tBodies[0].rows.length>8){"
	"var f=document.createElement('input');f.type='search';"
	"f.placeholder='filter rows';f.setAttribute('aria-label','filter rows');"
	"f.addEventListener('input',function(){var q=f.value.toLowerCase();"
	"Array.prototype.forEach.call(t.tBodies[0].rows,function(r){"
	"r.hidden=q&&r.textContent.toLowerCase().indexOf(q)<0;});});"
	"t.parentNode.insertBefore(f,t);}});";

void pg_raw(struct pb_page *p, const char *html)
{
	if (!p->rc)
		p->rc = pb_buf_puts(p->b, html);
}

void pg_fmt(struct pb_page *p, const char *fmt, ...)
{
	va_list ap;

	if (p->rc)
		return;
	va_start(ap, fmt);
	p->rc = pb_buf_vprintf(p->b, fmt, ap);
	va_end(ap);
}

void pg_text(struct pb_page *p, const char *s)
{
	if (!p->rc && s)
		p->rc = pb_html_put(p->b, s);
}

void pg_attr(struct pb_page *p, const char *name, const char *value)
{
	pg_fmt(p, " %s=\"", name);
	pg_text(p, value ? value : "");
	pg_raw(p, "\"");
}

void pg_attr_num(struct pb_page *p, const char *name, double v)
{
	if (isfinite(v))
		pg_fmt(p, " %s=\"%.17g\"", name, v);
	else
		pg_fmt(p, " %s=\"null\"", name);
}

void pg_attr_int(struct pb_page *p, const char *name, long long v)
{
	pg_fmt(p, " %s=\"%lld\"", name, v);
}

void pg_head(struct pb_page *p, const char *title, const char *kind,
	     const char *extra)
{
	pg_raw(p, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
		  "charset=\"utf-8\"><meta name=\"viewport\" "
		  "content=\"width=device-width,initial-scale=1\"><title>");
	pg_text(p, title);
	pg_fmt(p, "</title><style>%s</style></head>\n<body>\n<nav><a "
		  "href=\"index.html\">perfbisect</a><a "
		  "href=\"index.html#alerts\">alerts</a><a "
		  "href=\"index.html#bisections\">bisections</a><a "
		  "href=\"index.html#series\">series</a><a "
		  "href=\"index.html#machines\">machines</a></nav>\n"
		  "<main data-page=\"%s\"",
	       style, kind);
	if (extra)
		pg_raw(p, extra);
	pg_raw(p, ">\n");
}

void pg_foot(struct pb_page *p, double asof)
{
	char t[64];

	pg_raw(p, "</main>\n<footer>");
	if (isfinite(asof)) {
		pg_time(t, sizeof(t), asof);
		pg_fmt(p, "<span data-asof=\"%.17g\">Data as of %s.</span> ",
		       asof, t);
	}
	pg_fmt(p, "perfbisect report. Pages are static files: they work from "
		  "disk, without a server or a network.</footer>\n"
		  "<script>%s</script>\n</body></html>\n",
	       script);
}

void pg_verdict(struct pb_page *p, const char *status,
		const char *sentence, const struct pg_number nums[3],
		const char *direction)
{
	pg_raw(p, "<section class=\"verdict\" id=\"verdict\"");
	pg_attr(p, "data-status", status);
	pg_raw(p, "><p class=\"sentence\"><span class=\"status\">");
	pg_text(p, status);
	pg_raw(p, "</span>");
	pg_text(p, sentence);
	pg_raw(p, "</p><div class=\"nums\">");
	for (int i = 0; i < 3; i++) {
		char key[64];

		if (!nums[i].label)
			continue;
		snprintf(key, sizeof(key), "data-%s", nums[i].key);
		pg_raw(p, "<div class=\"num\"");
		pg_attr_num(p, key, nums[i].value);
		pg_raw(p, "><b>");
		pg_text(p, nums[i].text);
		pg_raw(p, "</b><span>");
		pg_text(p, nums[i].label);
		pg_raw(p, "</span></div>");
	}
	pg_raw(p, "</div><p class=\"dir\">");
	pg_text(p, direction);
	pg_raw(p, "</p></section>\n");
}

void pg_si(char *out, size_t size, double v, const char *unit)
{
	char n[48];

	pb_human_si(n, sizeof(n), v);
	if (!isfinite(v) || !unit || !unit[0])
		snprintf(out, size, "%s", n);
	else
		snprintf(out, size, "%s %s", n, unit);
}

void pg_pct(char *out, size_t size, double frac)
{
	if (!isfinite(frac))
		snprintf(out, size, "n/a");
	else
		snprintf(out, size, "%+.1f %%", 100 * frac);
}

void pg_prob(char *out, size_t size, double pr)
{
	pb_human_prob(out, size, pr);
}

void pg_time(char *out, size_t size, double t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!isfinite(t) || !gmtime_r(&tt, &tm)) {
		snprintf(out, size, "n/a");
		return;
	}
	strftime(out, size, "%Y-%m-%d %H:%M UTC", &tm);
}

void pg_short(char *out, const char *sha)
{
	snprintf(out, 13, "%.12s", sha ? sha : "");
}

void pg_bisection_page(char *out, size_t size, long long id)
{
	snprintf(out, size, "bisection-%lld.html", id);
}

void pg_run_page(char *out, size_t size, long long id)
{
	snprintf(out, size, "run-%lld.html", id);
}

/* A machine's page: its name with every byte but [A-Za-z0-9.-] as '_',
 * cut to 60, and a hash of the whole name, so two names never share one
 * file and no name reaches the file system as it is. */
void pg_machine_page(char *out, size_t size, const char *machine)
{
	char safe[64];
	uint32_t h = 2166136261u;
	size_t k = 0;

	for (const char *c = machine ? machine : ""; *c; c++) {
		h = (h ^ (unsigned char)*c) * 16777619u;
		if (k < 60)
			safe[k++] = ((*c >= 'a' && *c <= 'z') ||
				     (*c >= 'A' && *c <= 'Z') ||
				     (*c >= '0' && *c <= '9') || *c == '.' ||
				     *c == '-')
					    ? *c
					    : '_';
	}
	safe[k] = 0;
	if (k && safe[0] == '.')
		safe[0] = '_';
	snprintf(out, size, "machine-%s-%08x.html", safe, h);
}

void pg_series_page(char *out, size_t size, long long bench_id,
		    long long config_id)
{
	snprintf(out, size, "series-%lld-%lld.html", bench_id, config_id);
}

void pg_direction(char *out, size_t size, const char *metric,
		  int lower_is_better)
{
	snprintf(out, size, "%s, %s is better", metric ? metric : "metric",
		 lower_is_better ? "lower" : "higher");
}

const char *pg_mode_name(enum pg_mode m)
{
	static const char *const names[] = { "fast", "slow", "unknown",
					     "disturbed", "failed" };

	return names[m];
}

void pg_mark(struct pb_page *p, enum pg_mode m, double x, double y,
	     const char *tip, const char *data)
{
	const char *cls = pg_mode_name(m);

	switch (m) {
	case PG_FAST:
		pg_fmt(p, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" "
			  "r=\"3.2\"", cls, x, y);
		break;
	case PG_SLOW:
		pg_fmt(p, "<path class=\"%s\" d=\"M%.1f %.1fl3.6 6.2h-7.2z\"",
		       cls, x, y - 4.1);
		break;
	case PG_UNKNOWN:
		pg_fmt(p, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" "
			  "width=\"5.6\" height=\"5.6\"", cls, x - 2.8,
		       y - 2.8);
		break;
	default:
		pg_fmt(p, "<path class=\"%s\" d=\"M%.1f %.1fl6 6m0 -6l-6 6\"",
		       cls, x - 3, y - 3);
		break;
	}
	if (data)
		pg_raw(p, data);
	pg_raw(p, "><title>");
	pg_text(p, tip);
	pg_raw(p, "</title></");
	pg_raw(p, m == PG_FAST ? "circle>" : m == PG_UNKNOWN ? "rect>"
								: "path>");
}

void pg_legend(struct pb_page *p)
{
	static const struct {
		enum pg_mode m;
		const char *what;
	} items[] = {
		{ PG_FAST, "fast run (blue circle)" },
		{ PG_SLOW, "slow run (vermillion triangle)" },
		{ PG_UNKNOWN, "run of no known mode (grey square)" },
		{ PG_DISTURBED, "disturbed run, not counted (grey cross)" },
	};

	pg_raw(p, "<p class=\"legend note\">");
	for (size_t i = 0; i < PB_ARRAY_SIZE(items); i++) {
		pg_raw(p, "<span><svg width=\"12\" height=\"12\" "
			  "viewBox=\"0 0 12 12\" role=\"img\" "
			  "style=\"display:inline;margin:0 .3em 0 0\"><title>");
		pg_text(p, items[i].what);
		pg_raw(p, "</title><desc>the mark the charts draw for a ");
		pg_text(p, items[i].what);
		pg_raw(p, "</desc>");
		pg_mark(p, items[i].m, 6, 6, items[i].what, NULL);
		pg_raw(p, "</svg>");
		pg_text(p, items[i].what);
		pg_raw(p, "</span>");
	}
	pg_raw(p, "</p>\n");
}
