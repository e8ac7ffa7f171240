/*
 * site.h - the report's data, loaded and computed (orchestrator/site.c):
 * what `perfbisect report`, perfbisectd and `bisect --local` hand to web/.
 */
#ifndef PB_ORCH_SITE_H
#define PB_ORCH_SITE_H

#include "common/git.h"
#include "orchestrator/db.h"
#include "web/site.h"

/* Loads *out from one snapshot of db (release it with pb_site_free());
 * generated_at is the time the pages say they were generated. */
int pb_site_load(struct pb_db *db, double generated_at, struct pb_site *out);

/* The paths culprit sha changed, as stored for its page (commits.files):
 * the first 200, one a line, then "... and N more" (*out malloc'd). */
int pb_culprit_files(struct pb_git *g, const char *sha, char **out,
		     size_t *total);

#endif
