/*
 * page.h - what every report page is made of: the frame (inline style
 * sheet, navigation, footer), the verdict block every page opens with,
 * numbers as a person writes them, and data-* attributes carrying the
 * values drawn (tests read those, not pixels).
 *
 * A page is written into a buffer through a struct pb_page whose error is
 * sticky: the first failure (the buffer's cap, memory) is kept and every
 * later call does nothing, so page code reads top to bottom.  Every string
 * from outside goes through pg_text() or pg_attr() (html.h's escaper).
 */
#ifndef PB_WEB_PAGE_H
#define PB_WEB_PAGE_H

#include <stddef.h>

#include "common/buf.h"
#include "web/site.h"

struct pb_page {
	struct pb_buf *b;
	int rc;
	const struct pb_site *site;
};

/* Raw markup (never outside text). */
void pg_raw(struct pb_page *p, const char *html);
/* printf into the page: numbers and markup only, never outside text. */
void pg_fmt(struct pb_page *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Outside text, escaped (NULL: nothing). */
void pg_text(struct pb_page *p, const char *s);
/* ` name="value"` with the value escaped. */
void pg_attr(struct pb_page *p, const char *name, const char *value);
/* ` name="v"` with v in full precision ("%.17g"; NAN: "null"). */
void pg_attr_num(struct pb_page *p, const char *name, double v);
void pg_attr_int(struct pb_page *p, const char *name, long long v);

/* The page's start: doctype, title, the style sheet, the navigation, and
 * `<main data-page="kind" ...>` (extra: more attributes, raw, or NULL). */
void pg_head(struct pb_page *p, const char *title, const char *kind,
	     const char *extra);
/* `</main>`, the footer (what the page is as of: `asof`, a Unix time; NAN
 * leaves it out), the enhancing script (sorting tables), `</html>`. */
void pg_foot(struct pb_page *p, double asof);

/* The verdict block. */
struct pg_number {
	const char *label;     /* "slowdown" */
	const char *text;      /* "33.1 %" (outside text allowed) */
	const char *key;       /* data-* name: "effect" */
	double value;          /* its data-* value */
};
void pg_verdict(struct pb_page *p, const char *status,
		const char *sentence, const struct pg_number nums[3],
		const char *direction);

/* Numbers as a person writes them. */
void pg_si(char *out, size_t size, double v, const char *unit);
void pg_pct(char *out, size_t size, double frac);       /* "+33.1 %" */
void pg_prob(char *out, size_t size, double p);         /* "99.2 %" */
void pg_time(char *out, size_t size, double t);         /* UTC */
void pg_short(char *out, const char *sha);              /* 12 hex */

/* File names of pages (no outside text but sanitised machine names). */
void pg_bisection_page(char *out, size_t size, long long id);
void pg_run_page(char *out, size_t size, long long id);
void pg_machine_page(char *out, size_t size, const char *machine);
void pg_series_page(char *out, size_t size, long long bench_id,
		    long long config_id);

/* `metric, higher is better` for a benchmark. */
void pg_direction(char *out, size_t size, const char *metric,
		  int lower_is_better);

/* The Okabe-Ito marks: a run's mode as shape and colour. */
enum pg_mode { PG_FAST, PG_SLOW, PG_UNKNOWN, PG_DISTURBED, PG_FAILED };
/* An SVG mark for mode m centred at (x, y), with a <title> `tip`
 * (outside text allowed) and the run's data-* attributes (raw). */
void pg_mark(struct pb_page *p, enum pg_mode m, double x, double y,
	     const char *tip, const char *data);
const char *pg_mode_name(enum pg_mode m);
/* The legend of the marks. */
void pg_legend(struct pb_page *p);

#endif
