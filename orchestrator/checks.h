/*
 * checks.h - one pull-request check (`perfbisect compare`, POST
 * /api/v1/compare) between the pure judge (core/compare.h) and the
 * database: what session.h is to a bisection.
 *
 * A compare is a row of bisections of kind "compare" (schema 0013): base
 * and head are its two commits, its runs are stored like a bisection's.
 * Its state is a function of its stored runs: the judge sees them all
 * again after every record (a compare has at most a few hundred), so a
 * restarted orchestrator resumes it with nothing more than a load.
 */
#ifndef PB_CHECKS_H
#define PB_CHECKS_H

#include <stdint.h>

#include "orchestrator/core/compare.h"
#include "orchestrator/db.h"

struct pb_check {
	int64_t id, bench_id;
	int64_t ids[2];            /* commit rows: base, head */
	char sha[2][41];
	char machine[128];         /* its agent, "" none yet */
	int64_t from_seq;          /* runs above this seq count */
	unsigned takeovers;
	struct pb_compare_opts o;
	struct pb_compare_state st; /* as last judged */
};

/* Loads compare `id` and judges its runs: PB_OK; PB_ENOTFOUND when there
 * is no compare of that id. */
int pb_check_load(struct pb_check *c, struct pb_db *db, int64_t id);

/* The side (0 base, 1 head) of a commit row, or PB_ENOTFOUND. */
int pb_check_side(const struct pb_check *c, int64_t commit_id, int *side);

/* Judges the stored runs again (after a takeover, a bind). */
int pb_check_judge(struct pb_check *c, struct pb_db *db);

/* One run record of `side` (row's bisection_id, seq, commit_id, bench_id
 * set here): stored, judged, the answer so far stored, in one transaction
 * (or the caller's).  PB_OK, PB_DB_REPEAT when its run_id was stored
 * already (nothing changed), or the error (nothing stored). */
int pb_check_add_run(struct pb_check *c, struct pb_db *db, int side,
		     struct pb_run_row *row);

/* Stores the answer as it is: "running", or finished with its exit code
 * ("done", or "failed" for exits 2 and 3). */
int pb_check_save(struct pb_check *c, struct pb_db *db);

/* Ends it as failed with exit `code` (2 input, 3 infrastructure) and the
 * reason, whatever the runs say. */
int pb_check_fail(struct pb_check *c, struct pb_db *db, int code,
		  const char *why);

#endif
