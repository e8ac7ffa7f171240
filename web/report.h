/*
 * report.h - the static HTML report.  It renders the plain views of
 * common/model.h it is handed and never opens the database: the
 * orchestrator loads the rows and calls it.  Every outside string goes
 * through the escaper in html.h.
 *
 * This stage writes one page per bisection (its steps, verdicts and the
 * culprit) and an index; the full report (trends, runs, machines) builds on
 * the same functions.
 */
#ifndef PB_REPORT_H
#define PB_REPORT_H

#include <stddef.h>

#include "common/buf.h"
#include "common/model.h"

int pb_report_bisection_html(struct pb_buf *out,
			     const struct pb_bisection_view *v);
int pb_report_index_html(struct pb_buf *out,
			 struct pb_bisection_view *const *views, size_t n);

/* Writes DIR/bisection-ID.html for each view and DIR/index.html listing
 * them, each file atomically (temporary file, then rename). */
int pb_report_write(const char *dir, struct pb_bisection_view *const *views,
		    size_t n);

/* The file name of a bisection's page, e.g. "bisection-3.html". */
void pb_report_page_name(long long id, char *out, size_t size);

#endif
