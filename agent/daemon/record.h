/*
 * record.h - one run as the agent posts it: a pb_run_result (runner.h)
 * turned into the wire record of common/proto.h, with the files the run
 * mapped from its work tree digested (image.h) - the same fields, filled
 * the same way, as orchestrator/local.c stores for a run of `perfbisect
 * bisect --local`.
 */
#ifndef PB_AGENT_RECORD_H
#define PB_AGENT_RECORD_H

#include "agent/runner.h"
#include "common/proto.h"

/* The digests of one build's files, computed once per build and path: a
 * build tree is read-only once built, so a file's digest cannot change. */
struct pb_digest_memo {
	struct pb_wire_image *rows;  /* owned */
	size_t n, alloc;
};

void pb_digest_memo_init(struct pb_digest_memo *m);
void pb_digest_memo_release(struct pb_digest_memo *m);

/*
 * Fills *out (initialised here; release it with pb_run_row_wire_release()
 * whatever the return) from run result res of commit `sha` built in
 * `workdir`, run as user `run_as`: ok, reason, exit status, times, value
 * (null unless ok), metrics, notes, output (failed runs only), the
 * measurements' JSON and numbers, disturbed (only a run that counted can
 * be disturbed), and one image per file in res->tree_files - "elf" with its
 * loadable digest (masked with sha, as image.h says), "other", or "error"
 * with the reason - plus a "/" error row when the set was truncated or a
 * program from outside the tree mapped files from it.  memo may be NULL.
 * PB_ERROR when memory runs out.
 */
int pb_agent_record_fill(struct pb_run_row_wire *out,
			 const struct pb_run_result *res, const char *run_as,
			 const char *workdir, const char *sha,
			 struct pb_digest_memo *memo);

#endif
