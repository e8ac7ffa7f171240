/*
 * runner.h - builds a commit and runs its benchmark, exactly as an agent
 * does; `perfbisect bisect --local` and (later) perfbisect-agent share it.
 *
 * Commands go through `/bin/sh -c CMD` in the commit's work tree with
 * PERFBISECT_COMMIT set.  When perfbisect runs as root, builds and runs
 * happen as an unprivileged user (default `nobody`), never as root: the
 * work tree is handed to that user and the child drops every group and
 * sets no_new_privs before exec (proc.h).  When perfbisect is not root,
 * they run as the invoking user.  A run fails - recorded with its reason,
 * never counted - when it exits non-zero, is killed, passes its timeout or
 * never prints the metric.
 */
#ifndef PB_RUNNER_H
#define PB_RUNNER_H

#include <sys/types.h>

#include "agent/hostlock.h"    /* callers hold it around builds and runs */
#include "agent/image.h"
#include "common/metric.h"
#include "common/record.h"

struct pb_measure;

struct pb_identity {
	int drop;          /* 1: switch to uid/gid below before exec */
	uid_t uid;
	gid_t gid;
	char user[64];
	char home[256];
};

/* Chooses who builds and runs: `run_as` (may be NULL).  As root, NULL means
 * "nobody"; a user that resolves to uid 0 is refused.  Not as root, run_as
 * must be NULL or the invoking user.  PB_EINVAL with a message otherwise. */
int pb_identity_resolve(struct pb_identity *out, const char *run_as);

/* Gives the directory tree to the identity's user (no-op when not
 * dropping), so its builds can write there. */
int pb_identity_own_tree(const struct pb_identity *id, const char *dir);

struct pb_runner {
	const char *workdir;          /* the commit's work tree */
	const char *commit_sha;       /* exported as PERFBISECT_COMMIT */
	const struct pb_identity *id;
	char *const *extra_env;       /* NAME=VALUE strings added, replacing
					 ours of the same NAME; may be NULL */
	struct pb_measure *measure;   /* runs only: measure.h; NULL: measure
					 nothing */
	unsigned run_index;           /* the how-many-th run of this commit */
};

#define PB_RUN_OUTPUT_MAX (64 * 1024)

struct pb_build_result {
	int ok;
	char reason[256];   /* why it failed, "" when ok */
	double wall_s;
	char *log;          /* capped stdout+stderr, malloc'd */
};

int pb_runner_build(struct pb_build_result *out, const struct pb_runner *r,
		    const char *cmd, double timeout_s);
void pb_build_result_release(struct pb_build_result *b);

struct pb_run_result {
	int ok;             /* the metric was printed and the run exited 0 */
	char reason[256];   /* why it failed, "" when ok */
	int exited, exit_code, signal, timed_out;
	double wall_s;
	double value;       /* the metric, valid when ok */
	struct pb_metrics metrics; /* every NAME: VALUE line, and notes */
	char *output;       /* capped stdout then stderr, malloc'd */
	double started_at;  /* wall-clock time of the start (epoch seconds) */
	struct pb_run_measurements measured; /* when r->measure was set */
	/* files the run mapped from its work tree, relative to it (measure.h,
	 * pb_measure_run_watch()); empty unless r->measure keeps them */
	struct pb_image_files tree_files;
};

/* Runs the benchmark once, measured and under the settings of r->measure
 * when given.  Returns PB_OK whenever the run took place (check out->ok),
 * an error only when it could not be started at all - PB_EINFRA also when
 * the settings could not be applied safely or put back afterwards. */
int pb_runner_run(struct pb_run_result *out, const struct pb_runner *r,
		  const char *cmd, const char *metric, double timeout_s);
void pb_run_result_release(struct pb_run_result *res);

#endif
