/*
 * history.h - the changes of a series (repository, benchmark,
 * configuration) that deserve an alert, from its merges' runs
 * (docs/merges.md).  Numbers and shas in, changes out: the scheduler
 * reads the runs and the branch, and stores the alerts.
 *
 * The series is ordered by the tracked branch's first-parent line, not by
 * when merges arrived; commits off that line (a forced push dropped them)
 * are left out.  Machines are strata: each machine's runs form a series
 * of their own (one machine 15 % faster than another must not look like a
 * change where the merges moved from one to the other), judged by
 * core/changes.h.  A change point becomes a candidate when the mean
 * metric of the segment after it is worse than the segment before by at
 * least alert_threshold (improvements raise nothing).  One alert per
 * change: a candidate is new only when its range (good, bad] neither
 * overlaps an alert's range nor touches it (at most
 * PB_HISTORY_SAME_CHANGE measured commits of that machine between them) -
 * a change point found again one measured commit away, as more merges
 * arrive, is the same change; two changes a few commits apart are two.  Merges
 * arrive in any order, so an early alert may span a wide range: a change
 * found strictly inside the range of an open alert narrows it (the first
 * such change, in line order), and a second change inside that old range
 * is a change of its own.  An alert whose bisection has started is no
 * longer narrowed; once the bisection names a culprit, the scheduler
 * gives the alert's range as (culprit's parent, culprit], so a second
 * change its wide range hid raises its own alert then.
 */
#ifndef PB_HISTORY_H
#define PB_HISTORY_H

#include <stddef.h>

#include "orchestrator/core/changes.h"

#define PB_HISTORY_SAME_CHANGE 0
/* Measured commits of a machine needed on each side of a change point
 * for it to raise an alert: a newest merge that is slow waits for the
 * next one to confirm it. */
#define PB_HISTORY_MIN_SIDE 2

/* One run of the series. */
struct pb_history_run {
	const char *sha;
	const char *machine;
	double value;
};

/* A known alert: its good and bad commits (an alert whose commits left
 * the line is no longer compared with); open when its range may still be
 * narrowed (no bisection has started on it). */
struct pb_history_alert {
	const char *good, *bad;
	int open;
};

/* A new change. */
struct pb_history_change {
	size_t good, bad;          /* line positions: the measured commits
				    * around it on its machine */
	const char *machine;       /* one of the runs' machine strings */
	double change;             /* relative change of the mean metric,
				    * better-is direction (< 0: worse) */
	double before, after;      /* the two segments' mean metric */
	double p_value;
	int bimodal;               /* found on the slow share of the runs */
	size_t refines;            /* SIZE_MAX: a new alert; else the index
				    * of the open alert whose wider range
				    * it narrows (merges measured since it
				    * was raised show where in it the
				    * change is) */
};

struct pb_history_in {
	const char (*line)[41];    /* the first-parent line, oldest first */
	size_t nline;
	const struct pb_history_run *runs;
	size_t nruns;
	const struct pb_history_alert *alerts; /* the series' alerts */
	size_t nalerts;
	int lower_is_better;
	double alert_threshold;    /* in (0, 1) */
	struct pb_changes_opts opts;
};

/*
 * The new changes (*out malloc'd, *n of them, in line order).  Returns 0,
 * PB_EINVAL for bad options, PB_ERROR when memory runs out.
 */
int pb_history_changes(const struct pb_history_in *in,
		       struct pb_history_change **out, size_t *n);

#endif
