/*
 * measure.h - everything the agent measures and sets around one benchmark
 * run besides the metric (DESIGN.md sections 4 and 5), in one place that
 * the runner calls: `perfbisect bisect --local` now, perfbisect-agent later.
 *
 *   pb_measure_new()        once: plans the counters (pmu.c), parses and
 *                           checks the settings (knobs.c), reads the NUMA
 *                           topology (numa.c); a bad --events, --config,
 *                           --snoop or --nic is PB_EINVAL here (exit 2)
 *   per run:
 *     pb_measure_run_begin() applies the settings (journal first), reads
 *                           the kernel's NUMA counters, picks the start CPU,
 *                           collects the machine facts, and fills the
 *                           pb_proc_hooks that set up the child (NUMA
 *                           policy, start CPU), open its counters before it
 *                           execs and sample its numa_maps while it runs
 *     pb_measure_run_watch() (opts.mapped_files) samples also note the
 *                           files the run maps from its work tree
 *     pb_proc_run() with those hooks
 *     pb_measure_run_end()  reads the counters, puts every setting back,
 *                           judges the interference (interfere.h: what
 *                           other work held while the run ran) and fills
 *                           a pb_run_measurements (record.h)
 *     pb_measure_run_files() takes those files
 *     pb_measure_run_free()
 *
 * The start node rotates over the NUMA nodes from run to run of a commit
 * (the caller passes the run's number at that commit): the benchmark is
 * held to that node's CPUs - all of them, never one, so the threads it
 * creates meanwhile are not serialised - until it has had PB_MEASURE_HOLD_S
 * to start up, so its .data/.bss and first allocations land on that node as
 * they would if the scheduler had started it there; then every task of it
 * still held gets back the CPUs perfbisect itself may use.  A slowdown that
 * depends on the start node thus shows both modes within a few runs.  On a
 * machine with one NUMA node nothing is held, and the run record says so.
 */
#ifndef PB_MEASURE_H
#define PB_MEASURE_H

#include <stddef.h>

#include "agent/image.h"
#include "common/proc.h"
#include "common/record.h"

/* Seconds the benchmark is held to its start node. */
#define PB_MEASURE_HOLD_S 0.1

struct pb_measure_opts {
	const char *sysroot;  /* --sysroot DIR; NULL: the real machine */
	const char *events;   /* --events LIST; NULL: the default counters */
	const char *config;   /* --config K=V,...; NULL: change nothing */
	const char *nic;      /* --nic IFACE; NULL: none */
	const char *snoop;    /* --snoop MODE; NULL: unknown */
	int rotate_start;     /* 1: rotate the start node (bisections do) */
	double busy_threshold; /* CPUs of other work, on average over a run,
				  that make it disturbed (interfere.h); <= 0:
				  measured, never disturbed */
	int mapped_files;     /* 1: keep the files runs map from their work
				 tree (pb_measure_run_watch()) */
};

struct pb_measure;
struct pb_measure_run;

/* Plans everything once.  The option strings are borrowed and must outlive
 * the result.  PB_EINVAL with a message for a bad option; *out is NULL on
 * any error. */
int pb_measure_new(struct pb_measure **out, const struct pb_measure_opts *o);

void pb_measure_free(struct pb_measure *m);

/* The number of threads --config asks for (threads=N), 0 when unset. */
unsigned pb_measure_threads(const struct pb_measure *m);

/* One sentence about what this machine can measure, e.g. "hardware
 * counters unsupported on this machine (...); counting task-clock,
 * page-faults, context-switches; 1 NUMA node", for the person watching.
 * Valid after the first run (counters are only known once opened). */
void pb_measure_describe(const struct pb_measure *m, char *buf, size_t size);

/* What about the machine invites noise into every run (facts.h's
 * pb_facts_noise_warnings(): governor, boost), one sentence a line, for the
 * person starting a bisection; "" when nothing.  PB_ERROR when memory runs
 * out. */
int pb_measure_noise_warnings(struct pb_measure *m, char *buf, size_t size);

/* Prepares run number `run_index` of a commit (0, 1, 2, ...) and fills
 * *hooks for pb_proc_run().  PB_EINFRA when the settings cannot be applied
 * safely (the journal cannot be written, another perfbisect holds the
 * settings lock): the run must not take place.  *out is NULL on error. */
int pb_measure_run_begin(struct pb_measure_run **out, struct pb_measure *m,
			 unsigned run_index, struct pb_proc_hooks *hooks);

/* After the child was reaped (or could not start): reads the counters,
 * restores every setting and fills *rec (initialised here; release it with
 * pb_run_measurements_release()).  PB_OK, or PB_ERROR when a setting could
 * not be put back (the record says which). */
int pb_measure_run_end(struct pb_measure_run *r, struct pb_run_measurements *rec);

/* Restores the settings if pb_measure_run_end() was not called; frees.
 * Accepts NULL. */
void pb_measure_run_free(struct pb_measure_run *r);

/* With opts.mapped_files: every sample of the run also notes the files its
 * processes map from under workdir, the commit's work tree (image.h).  A
 * no-op otherwise, or when workdir cannot be resolved (nothing is noted:
 * the commit makes no claim).  Call it after pb_measure_run_begin(). */
void pb_measure_run_watch(struct pb_measure_run *r, const char *workdir);

/* Moves the files noted so far (relative to the work tree) into *out,
 * which is released first; empty when nothing was watched. */
void pb_measure_run_files(struct pb_measure_run *r,
			  struct pb_image_files *out);

#endif
