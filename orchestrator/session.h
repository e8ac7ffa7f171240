/*
 * session.h - one bisection between the engine and the database: the layer
 * every driver goes through (`perfbisect bisect --local` in local.c, the
 * service's scheduler in perfbisectd), so that they cannot drift apart.
 *
 * A session holds the pure engine (core/engine.h) of one stored bisection
 * and keeps the database in step with it:
 *
 *     pb_session_open()       the engine, the stored claims of commits that
 *                             map their parent's code, every stored run
 *                             replayed in order: a restarted driver
 *                             resumes where it stopped;
 *     pb_session_add_run()    one run record: stored and, the first time
 *                             its run_id is seen, fed to the engine, and
 *                             the bisection's steps and summary updated -
 *                             one transaction;
 *     pb_session_skip()       a commit that cannot be built;
 *     pb_session_finish()     the verdict stored, with its exit code.
 *
 * Which runs to take next is the engine's (pb_session_engine()); how they
 * are taken (a local runner, agents over HTTP) is the driver's.
 */
#ifndef PB_SESSION_H
#define PB_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "agent/image.h"
#include "common/git.h"
#include "common/model.h"
#include "orchestrator/core/engine.h"
#include "orchestrator/db.h"

struct pb_session;

struct pb_session_opts {
	struct pb_db *db;                     /* borrowed */
	int64_t bisection_id, bench_id;
	size_t n;                             /* commits, oldest first */
	const struct pb_commit_info *commits; /* borrowed, n of them */
	const int64_t *commit_ids;            /* their rows, borrowed */
	struct pb_engine_opts engine;         /* .n is set from n */
	int identical;           /* claims of commits that map their
				  * parent's code (identical.h) */
	const char *machine;     /* where builds are digested (identical.h):
				  * "local" for --local; NULL: per agent,
				  * each run's row->machine */
	/* Called when a run changed whether commit i maps its parent's
	 * code (not for the claims stored before the session opened). */
	void (*on_claim)(void *ctx, size_t i, int identical);
	void *ctx;
};

/* Opens the bisection: PB_OK, or the error (PB_EINVAL for options the
 * engine refuses, the database's errors).  Replays every stored run. */
int pb_session_open(struct pb_session **out, const struct pb_session_opts *o);
void pb_session_free(struct pb_session *s);

struct pb_engine *pb_session_engine(struct pb_session *s);
/* The index of a commit row of the range, or PB_ENOTFOUND. */
int pb_session_index(const struct pb_session *s, int64_t commit_id,
		     size_t *out);
/* Runs stored for the bisection so far (its next run's seq - 1). */
int64_t pb_session_seq(const struct pb_session *s);

/*
 * One run of commit i: the row (its bisection_id, seq, commit_id and
 * bench_id are set here; seq only when row->seq is 0) is stored and, new,
 * fed to the engine - a failed run as failed, a disturbed one as
 * disturbed, a value out of the engine's range as failed with its reason
 * - and the steps and summary are updated, in one transaction.  `files`
 * (may be NULL) are what the run mapped from `workdir` (identical.h).
 * Returns PB_OK, PB_DB_REPEAT when the run_id was stored already (nothing
 * changed), or an error (nothing stored).
 */
int pb_session_add_run(struct pb_session *s, size_t i, struct pb_run_row *row,
		       const char *workdir, const struct pb_image_files *files);
/* The same with the files already digested where the run was taken (an
 * agent's record: identical.h, pb_identical_add_rows()); rows may be
 * NULL. */
int pb_session_add_run_rows(struct pb_session *s, size_t i,
			    struct pb_run_row *row,
			    const struct pb_image_row *rows, size_t nrows);

/* Commit i is built anew: what its earlier build mapped says nothing of
 * this one (identical.h), and the claims it made are withdrawn. */
int pb_session_rebuilt(struct pb_session *s, size_t i);

/* Commit i cannot be built: the engine skips it; steps updated. */
int pb_session_skip(struct pb_session *s, size_t i);

/* The engine's result now, with the bisection stored as `state`
 * ("running", "done", "failed") and exit code (-1 while running). */
int pb_session_save(struct pb_session *s, const char *state, int exit_code);

/* DESIGN.md's exit code of a finished outcome: 0 culprit; 1 range, no
 * regression, inconclusive, budget; 2 unusable input; 3 infrastructure
 * (too busy to measure). */
int pb_session_exit_code(enum pb_outcome o);
/* DESIGN.md's verdict word; NULL while running and for exits 2 and 3. */
const char *pb_session_verdict(enum pb_outcome o);

/* Whether IPC ([0]) and remote accesses ([1]) moved with the metric in
 * the last verification (state PB_VAL_NULL before one ended). */
const struct pb_counter_move *pb_session_moved(const struct pb_session *s);

/* The engine's id of the machine (an agent's name, "local"): each gets
 * the next id the first time a run of it is fed, so a replay in the
 * stored order gives the same ids.  PB_ERANGE past PB_ENGINE_MACHINES. */
#define PB_SESSION_MACHINE_NAME 128
int pb_session_machine(struct pb_session *s, const char *name,
		       unsigned *id);

/* The engine was told commit i maps its parent's code. */
int pb_session_identical(const struct pb_session *s, size_t i);

#endif
