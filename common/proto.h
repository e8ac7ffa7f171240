/*
 * proto.h - the one file that knows JSON (jansson): the `--json` output of
 * the command line, and the JSON columns of a run record.  Callers hand
 * plain structs in and get malloc'd text out (free with free()).
 */
#ifndef PB_PROTO_H
#define PB_PROTO_H

#include "metric.h"
#include "model.h"

/* {"NAME": value, ...} for every metric line of a run; NULL on no memory. */
char *pb_proto_metrics_json(const struct pb_metrics *m);

/* The result object of `perfbisect bisect --json` (DESIGN.md section 3);
 * report_path, when not NULL, is added as "report". */
char *pb_proto_bisection_json(const struct pb_bisection_view *v,
			      const char *report_path);

/* One change point found by `perfbisect detect`. */
struct pb_detect_point {
	size_t index;          /* 0-based position (commit) of the first point
				* after the change */
	const char *commit;    /* its commit, NULL: null */
	const char *series;    /* "value", "median", "slow_fraction" or
				* "fast_median" */
	double before, after;  /* means of the two sides; NAN: null */
	double p_value;        /* NAN: null */
};

/* The result object of `perfbisect detect --json` (DESIGN.md section 3):
 * {"change_points": [{"index", "commit", "series", "before", "after",
 * "p_value"}, ...]} for points[0..n). */
char *pb_proto_detect_json(const struct pb_detect_point *points, size_t n);

/* {"0": 3, "1": 2}: how many runs started on each NUMA node; malloc'd,
 * NULL when memory runs out. */
char *pb_proto_node_counts_json(const int *nodes, const unsigned *counts,
				size_t n);

struct pb_run_measurements;

/* The JSON columns of a run record (record.h), each malloc'd, NULL when
 * memory runs out:
 *   counters  {"events": {name: number|"unsupported"|"not counted"},
 *              "reasons": {name: why}, "libpfm4": {name: event},
 *              "running_fraction": {name: x}, "ipc": x|"unsupported",
 *              "ipc_note": why, "remote_access": x|"unsupported", ...}
 *   numa      {"start_cpu", "start_node", "start_node_held" (the node the run
 *              was held to while it started, or null), "start_cpus_held",
 *              "start_note" (why not held), "samples",
 *              "first_sample_s", "last_sample_s",
 *              "placement": {"first"|"last": {exe: {kind: {node: pages}}}}
 *              ("last": each executable as last seen while it ran),
 *              "kernel_counters": {"vmstat"|"nodeN": {name: delta}}}
 *   settings  [{"setting", "target", "old", "new", "status", "reason"}]
 *   facts     {key: value} */
char *pb_proto_counters_json(const struct pb_run_measurements *m);
char *pb_proto_numa_json(const struct pb_run_measurements *m);
/* {"cpu_s", "wall_s", "others_cpu_s", "others_cpus", "share", "steal_s",
 *  "psi": {"cpu"|"memory"|"io": share of the run} | "unsupported",
 *  "psi_note", "disturbed": bool, "why"} */
char *pb_proto_interference_json(const struct pb_run_measurements *m,
				 double wall_s);
char *pb_proto_settings_json(const struct pb_run_measurements *m);
char *pb_proto_facts_json(const struct pb_run_measurements *m);

/* {"error": message, "verdict": null}: what --json prints on exits 2 and
 * 3 (DESIGN.md). */
char *pb_proto_error_json(const char *message);

#endif
