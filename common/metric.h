/*
 * metric.h - the benchmark output contract (DESIGN.md section 3).
 *
 * A run prints lines `NAME: VALUE` or `NAME=VALUE`: optional leading blanks,
 * NAME of letters, digits, `_ . -`, optional blanks around the separator,
 * VALUE a decimal number with optional sign, fraction and exponent; whatever
 * follows the number (a unit) is ignored.  A value that is not finite or
 * overflows a double makes the line ignored, and that is noted.  The value
 * of the asked metric is taken from the last such line; every other name is
 * kept as an extra metric (its last value).
 *
 * The parser is streaming: pb_metrics_feed() takes output in any chunks, so
 * it sees all of a run's output even where the stored copy is capped.  Lines
 * longer than PB_METRIC_LINE_MAX and names beyond PB_METRIC_MAX_NAMES are
 * dropped (noted), so a benchmark that prints garbage cannot exhaust memory.
 */
#ifndef PB_METRIC_H
#define PB_METRIC_H

#include <stddef.h>

#include "buf.h"

#define PB_METRIC_NAME_MAX 128
#define PB_METRIC_LINE_MAX 4096
#define PB_METRIC_MAX_NAMES 256

enum pb_line_kind {
	PB_LINE_NONE = 0,    /* not a NAME: VALUE line */
	PB_LINE_METRIC = 1,  /* *name and *value are set */
	PB_LINE_IGNORED = 2, /* shaped like one, but the value is nan, inf or
			      * overflows a double; *name is set */
};

/* Classifies one line (without its newline; a trailing '\r' is allowed).
 * `name` receives the NAME (truncated names make the line PB_LINE_NONE). */
enum pb_line_kind pb_metric_parse_line(const char *line, size_t len,
				       char name[PB_METRIC_NAME_MAX],
				       double *value);

struct pb_metric_kv {
	char name[PB_METRIC_NAME_MAX];
	double value;
};

struct pb_metrics {
	struct pb_metric_kv *kv; /* in order of first appearance */
	size_t n, alloc;
	struct pb_buf line;      /* the unfinished line */
	int line_overflow;       /* the current line passed PB_METRIC_LINE_MAX */
	unsigned lineno;
	unsigned ignored;        /* lines ignored for nan/inf/overflow */
	struct pb_buf notes;     /* why lines were ignored, capped */
};

void pb_metrics_init(struct pb_metrics *m);
void pb_metrics_feed(struct pb_metrics *m, const char *data, size_t len);
/* Ends the last line if the output did not end with a newline. */
void pb_metrics_finish(struct pb_metrics *m);
/* 0 and *out set when `name` was printed, PB_ENOTFOUND otherwise. */
int pb_metrics_get(const struct pb_metrics *m, const char *name, double *out);
void pb_metrics_release(struct pb_metrics *m);

#endif
