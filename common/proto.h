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

/* ---- the service's bisections and the agent protocol, server side
 * (docs/agent-protocol.md): request parsers as above (PB_EINVAL naming the
 * field), answers as malloc'd text ---- */

/* POST /api/v1/bisections: {repo, benchmark, good, bad, config?,
 * confidence?, max_runs?, seed?, min_effect?}. */
struct pb_bisect_req {
	char *repo, *benchmark, *good, *bad, *config;
	double confidence;       /* 0.99 */
	unsigned max_runs;       /* 500 */
	uint64_t seed;           /* 1 */
	double min_effect;       /* 0.03 */
};
int pb_proto_parse_bisect_req(struct pb_bisect_req *out, const char *body,
			      size_t len);
void pb_bisect_req_release(struct pb_bisect_req *r);
/* 201: {"id", "state": "running", "good", "bad"} (full shas). */
char *pb_proto_started_json(int64_t id, const char *good, const char *bad);

/* GET /api/v1/bisections: {"bisections": [{id, state, repo, benchmark,
 * verdict, culprit, started}]}. */
struct pb_bisection_item {
	int64_t id;
	char state[12];          /* queued running done failed cancelled */
	char repo[256], benchmark[256];
	char verdict[16];        /* "" : null */
	char culprit[41];        /* "" : null */
	double started;          /* epoch seconds */
};
char *pb_proto_bisection_list_json(const struct pb_bisection_item *v,
				   size_t n);

/* POST /api/v1/agents/lease: {request_id, wait_s?, facts?}; facts kept as
 * compact JSON text (NULL when absent). */
struct pb_lease_req {
	char *request_id;
	unsigned wait_s;
	char *facts_json;
};
int pb_proto_parse_lease_req(struct pb_lease_req *out, const char *body,
			     size_t len);
void pb_lease_req_release(struct pb_lease_req *r);

/* POST .../heartbeat: {run_s?} (an empty body is {}). */
int pb_proto_parse_heartbeat_req(double *run_s, const char *body, size_t len);

/* POST /api/v1/runs: {lease, index, commit, record}; the record kept as
 * compact JSON text for pb_proto_run_record_parse(). */
struct pb_run_post {
	char *lease;
	unsigned index;
	char *commit;
	char *record_json;
};
int pb_proto_parse_run_post(struct pb_run_post *out, const char *body,
			    size_t len);
void pb_run_post_release(struct pb_run_post *r);

/* POST .../build-failed: {commit, reason, log_tail?}. */
struct pb_build_failed_req {
	char *commit, *reason, *log_tail;
};
int pb_proto_parse_build_failed(struct pb_build_failed_req *out,
				const char *body, size_t len);
void pb_build_failed_release(struct pb_build_failed_req *r);

/* 409 on a lease that is not the agent's: {"error", "lease_state"}. */
char *pb_proto_lease_refusal_json(const char *state, const char *why);
/* {"expires_in_s", "continue"} */
char *pb_proto_heartbeat_answer_json(double expires_in_s, int cont);
/* {"accepted": true, "repeat", "continue"} */
char *pb_proto_run_answer_json(int repeat, int cont);
/* {"continue"} */
char *pb_proto_continue_json(int cont);

/* 200 to a lease request (docs/agent-protocol.md): {"lease",
 * "expires_in_s", "heartbeat_s", "job": {"id", "bisection", "kind",
 * "repo": {"name", "url"}, "benchmark": {"name", "build", "run",
 * "metric", "lower_is_better", "timeout_s", "build_timeout_s", "ccache"},
 * "config": {}, "runs": [{"index", "commit"}]}}. */
struct pb_job_answer {
	const char *lease;
	double expires_in_s, heartbeat_s;
	int64_t id, bisection;
	const char *kind;
	const char *repo_name, *repo_url;
	const char *bench_name, *build, *run, *metric;
	int lower_is_better, ccache;
	double timeout_s, build_timeout_s;
	size_t nruns;
	const unsigned *index;
	const char *const *commit;
};
char *pb_proto_job_answer_json(const struct pb_job_answer *j);

#endif
