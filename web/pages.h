/*
 * pages.h - the report's pages, each drawn from the site (site.h) into a
 * struct pb_page (page.h): the index, one per series, bisection, machine,
 * and run with a page of its own (failed, disturbed, verification runs).
 */
#ifndef PB_WEB_PAGES_H
#define PB_WEB_PAGES_H

#include <stddef.h>

#include "web/page.h"
#include "web/site.h"

void pb_page_index(struct pb_page *p);
void pb_page_bisection(struct pb_page *p, size_t b);
void pb_page_series(struct pb_page *p, size_t k);
void pb_page_machine(struct pb_page *p, size_t m);
void pb_page_run(struct pb_page *p, size_t r);

/* Whether run r has a page of its own. */
int pb_run_has_page(const struct pb_site_run *r);

/* The fast/slow boundary of bisection b and the distance between its two
 * modes' centres (NAN, NAN when its runs have no two modes to tell). */
void pb_bisection_modes(const struct pb_site *s, size_t b, double *boundary,
			double *half_gap);
/* Run r's mode against a boundary (lower_is_better: slow above it), and
 * its distance from the boundary in half-gaps (1: at a mode's centre). */
enum pg_mode pb_run_mode(const struct pb_site_run *r, double boundary,
			 double half_gap, int lower_is_better,
			 double *distance);

/* The status word of a bisection (CONFIRMED, NO REGRESSION,
 * INCONCLUSIVE, RUNNING, FAILED) and its sentence. */
const char *pb_bisection_status(const struct pb_bisection_view *v);

#endif
