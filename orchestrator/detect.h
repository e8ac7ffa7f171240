/*
 * detect.h - `perfbisect detect`: change points in a performance history
 * read from a file (DESIGN.md section 3).
 *
 * The file holds one value per line, oldest first, or `commit,value` rows
 * (several rows of one commit are its runs, commits in order of first
 * appearance).  Blank lines and lines starting with '#' are skipped, and a
 * first row `commit,value` is taken as a header.  What is found in them is
 * orchestrator/core/changes.h's.
 */
#ifndef PB_DETECT_H
#define PB_DETECT_H

#include <stddef.h>

#include "orchestrator/core/changes.h"

struct pb_detect_result {
	struct pb_changes ch;  /* the change points, by position */
	char **commits;        /* [ncommits] commit names; NULL in a file of
				* plain values */
	size_t ncommits;
};

/*
 * Reads `path` and finds its change points into *out (release it with
 * pb_detect_result_release(), also after a failure).  Returns 0; PB_EINVAL
 * for bad input or options, with the message naming "path:line:" where a
 * line is at fault; PB_ENOTFOUND when the file cannot be opened or read;
 * PB_ERROR when memory runs out.
 */
int pb_detect_file(struct pb_detect_result *out, const char *path,
		   const struct pb_changes_opts *opts);

void pb_detect_result_release(struct pb_detect_result *r);

#endif
