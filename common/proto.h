/*
 * proto.h - the one file that knows JSON (jansson): the `--json` output of
 * the command line, the JSON columns of a run record, and perfbisectd's
 * request and answer bodies.  Callers hand plain structs in and get
 * malloc'd text out (free with free()), or hand a body in and get a
 * plain struct out.
 */
#ifndef PB_PROTO_H
#define PB_PROTO_H

#include <stddef.h>
#include <stdint.h>

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

/*
 * perfbisectd's wire: the bodies of its requests and answers.  A parser
 * fills a plain struct from a request body or returns PB_EINVAL with a
 * message for the client that names the bad field ("field 'timeout_s':
 * must be a number"); it checks the JSON shape and the values' form, not
 * policy (which URLs a server accepts: orchestrator/server/urlrule.h).
 * Unknown fields are refused, so a misspelt optional field is not
 * silently dropped.
 */

/* {"error": message}: the body of every error answer of perfbisectd. */
char *pb_proto_error_body(const char *message);

/* {"ok": true}: GET /healthz. */
char *pb_proto_health_json(void);

/* {key: n}: {"id": 3} of a 201, {"jobs": 4} of a 202. */
char *pb_proto_number_json(const char *key, int64_t n);

/* POST /api/v1/repos: {name, url, branch, webhook_secret?, notify_url?}.
 * Strings are malloc'd; NULL where an optional field is absent. */
struct pb_repo_req {
	char *name, *url, *branch, *webhook_secret, *notify_url;
};
int pb_proto_parse_repo_req(struct pb_repo_req *out, const char *body,
			    size_t len);
void pb_repo_req_release(struct pb_repo_req *r);
/* The answer: {"id", "name", "url", "branch", "notify_url",
 * "webhook_secret": true|false} (never the secret itself). */
char *pb_proto_repo_json(int64_t id, const struct pb_repo_req *r);

/* POST /api/v1/benchmarks: {name, repo, build, run, metric,
 * lower_is_better?, timeout_s?, repeats?, alert_threshold?,
 * build_timeout_s?}; defaults: false, 600, 5, 0.05, 3600. */
#define PB_BENCH_DEFAULT_TIMEOUT_S 600.0
#define PB_BENCH_DEFAULT_BUILD_TIMEOUT_S 3600.0
#define PB_BENCH_DEFAULT_REPEATS 5
#define PB_BENCH_DEFAULT_ALERT 0.05
struct pb_benchmark_req {
	char *name, *repo, *build, *run, *metric;
	int lower_is_better;
	double timeout_s, build_timeout_s;
	unsigned repeats;
	double alert_threshold;
};
int pb_proto_parse_benchmark_req(struct pb_benchmark_req *out,
				 const char *body, size_t len);
void pb_benchmark_req_release(struct pb_benchmark_req *r);
/* The answer: {"id", "name", "repo", "metric", "lower_is_better",
 * "timeout_s", "build_timeout_s", "repeats", "alert_threshold"}. */
char *pb_proto_benchmark_json(int64_t id, const struct pb_benchmark_req *r);

/* 1 when `name` may name a repository: 1 to 128 letters, digits and
 * '.', '_', '-', '/', starting with a letter or digit, without "..",
 * "//" or a '/' at the end ("org/app"). */
int pb_proto_repo_name_ok(const char *name);

#endif
