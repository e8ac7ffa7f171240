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

/* POST /api/v1/compare: {repo, benchmark, base, head, min_effect?},
 * checked as POST /api/v1/bisections' fields are. */
struct pb_compare_req {
	char *repo, *benchmark, *base, *head;
	double min_effect;       /* 0.03 */
};
int pb_proto_parse_compare_req(struct pb_compare_req *out, const char *body,
			       size_t len);
void pb_compare_req_release(struct pb_compare_req *r);
/* 201: {"id", "kind": "compare", "state": "running", "base", "head"}. */
char *pb_proto_compare_started_json(int64_t id, const char *base,
				    const char *head);
/* GET /api/v1/bisections/ID of a compare, and `compare --json`: {"id",
 * "kind": "compare", "state", "result" (and "verdict", the same word),
 * "effect", "interval": [lo, hi] | null, "interval_level", "p",
 * "min_effect", "pairs", "runs_per_side", "runs", "base", "head",
 * "machine", "takeovers", "repo", "benchmark", "metric",
 * "lower_is_better", "outcome"}. */
char *pb_proto_compare_json(const struct pb_compare_view *v);
/* The body of POST /api/v1/compare (what `perfbisect compare` sends). */
char *pb_proto_compare_req_json(const char *repo, const char *benchmark,
				const char *base, const char *head,
				double min_effect);

/* GET /api/v1/bisections: {"bisections": [{id, kind, state, repo,
 * benchmark, verdict, culprit, started}]} (a compare's verdict is its
 * result word, its culprit null). */
struct pb_bisection_item {
	int64_t id;
	char kind[8];            /* "bisect" or "compare" */
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
/* {"accepted": true, "repeat", "continue", "job_done"} */
char *pb_proto_run_answer_json(int repeat, int cont, int job_done);
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

/* --- the agent protocol (docs/agent-protocol.md) -------------------------
 *
 * Both sides of the wire: the agent writes requests and run records and
 * reads the orchestrator's answers; the orchestrator reads run records with
 * pb_proto_run_record_parse().  Every parser takes a length (bodies are not
 * NUL-terminated), refuses duplicate keys, checks every field it uses for
 * type, range and length, ignores keys it does not know (a newer peer may
 * add some), and on failure writes a message naming the field to err
 * ("record: 'wall_s' must be a finite number >= 0") and returns PB_EINVAL.
 */

#include <stdint.h>

/* Caps of what a peer may send. */
#define PB_WIRE_BODY_MAX (4 * 1024 * 1024)  /* any one JSON body */
#define PB_WIRE_STR_MAX 4096                 /* a string inside a record's
						objects (counters, numa...) */
#define PB_WIRE_OUTPUT_MAX (256 * 1024)      /* "output" of a failed run */
#define PB_WIRE_NOTES_MAX 8192               /* "notes" */
#define PB_WIRE_IMAGES_MAX 257               /* PB_IMAGE_MAX_FILES and "/" */
#define PB_WIRE_DEPTH_MAX 8                  /* nesting inside a record */
#define PB_WIRE_LEASE_MAX 128                /* a lease id */
#define PB_WIRE_CPU_MAX 8191                 /* start_cpu, as facts.h's
						PB_IDSET_MAX */
#define PB_WIRE_NODE_MAX 8191                /* start_node */
/* The digest prefix of agent/image.h (PB_IMAGE_DIGEST_PREFIX), which
 * common/ cannot include; test_proto_record checks they agree. */
#define PB_IMAGE_DIGEST_PREFIX_WIRE "elf1:"

enum pb_wire_image_kind {
	PB_WIRE_IMAGE_ELF = 1,   /* "elf": digest is set */
	PB_WIRE_IMAGE_OTHER,     /* "other": not an ELF file */
	PB_WIRE_IMAGE_ERROR,     /* "error": unreadable or malformed; for path
				    "/" the run's whole set (too many files,
				    or mapped by a program from outside the
				    tree); note says why */
};

/* One file a run mapped from its work tree (agent/image.h). */
struct pb_wire_image {
	char *path;              /* relative to the work tree, or "/" */
	enum pb_wire_image_kind kind;
	char *digest;            /* "elf1:" + 64 hex for ELF, else NULL */
	char *note;              /* why, for the others; may be NULL */
};

/*
 * A run record as it crosses the wire: the fields `perfbisect bisect
 * --local` stores for each run (orchestrator/db.h's struct pb_run_row),
 * as plain data the orchestrator maps onto its row.  Every string and
 * array is malloc'd and owned by the struct (pb_run_row_wire_release()).
 * The JSON objects of the record (metrics, counters, numa, settings,
 * machine, interference) are kept as compact JSON text, in the form
 * pb_proto_metrics_json(), pb_proto_counters_json() & co. write them, which
 * is what the database stores.
 */
struct pb_run_row_wire {
	int ok;                  /* the metric was printed and it exited 0 */
	char *reason;            /* why it failed, "" when ok (<= 255 bytes) */
	int exited, exit_code, signal, timed_out;
	double wall_s;
	double value;            /* the metric; NAN (null) unless ok */
	char *metrics_json;      /* {"NAME": number|null} */
	char *notes;             /* the metric parser's notes, "" none */
	char *output;            /* failed runs: capped output; else NULL */
	double started_at;       /* epoch seconds */
	char *run_as;            /* the user it ran as (<= 63 bytes) */
	char *counters_json;     /* pb_proto_counters_json() */
	char *numa_json;         /* pb_proto_numa_json() */
	char *settings_json;     /* pb_proto_settings_json() */
	char *machine_json;      /* pb_proto_facts_json() */
	char *interference_json; /* pb_proto_interference_json() */
	int start_cpu, start_node;        /* -1: unknown (null) */
	double ipc, remote_access;        /* NAN (null): not counted... */
	char *ipc_note, *remote_note;     /* ...and why ("" none, <= 319) */
	double cpu_s, busy_share;         /* NAN (null): not measured */
	int disturbed;           /* other work held the machine: not evidence */
	struct pb_wire_image *images;     /* sorted by path as the agent
					     sends them; NULL when none */
	size_t nimages;
};

/* Empties w: every pointer NULL, numbers unknown (-1 / NAN), flags 0. */
void pb_run_row_wire_init(struct pb_run_row_wire *w);

/* Frees everything w owns and empties it.  Accepts NULL. */
void pb_run_row_wire_release(struct pb_run_row_wire *w);

/*
 * The run record as JSON (what an agent posts as "record"):
 *   {"ok": bool, "reason": s, "exited": bool, "exit_code": i, "signal": i,
 *    "timed_out": bool, "wall_s": x, "value": x|null, "metrics": {...},
 *    "notes": s, "output": s|null, "started_at": x, "run_as": s,
 *    "counters": {...}, "numa": {...}, "settings": [...], "machine": {...},
 *    "start_cpu": i|null, "start_node": i|null, "ipc": x|null,
 *    "ipc_note": s, "remote_access": x|null, "remote_note": s,
 *    "cpu_s": x|null, "busy_share": x|null, "disturbed": bool,
 *    "interference": {...},
 *    "images": [{"path": s, "kind": "elf"|"other"|"error",
 *                "digest": s|null, "note": s|null}]}
 * The *_json texts of w are embedded as objects; NULL ones as null - which
 * the parser refuses, so the agent always fills them.  NULL when memory runs
 * out or a *_json text is not JSON (a message is set).  Free with free().
 */
char *pb_proto_run_record_json(const struct pb_run_row_wire *w);

/* Parses and checks a record written by pb_proto_run_record_json() (json
 * is len bytes, not necessarily NUL-terminated) into *out (initialised
 * here; release it whatever the return).  PB_EINVAL with err naming the
 * field for anything malformed: a missing or mistyped field, a number that
 * is not finite or out of range, a string past its cap, a value without
 * ok, output on a run that did not fail, more than PB_WIRE_IMAGES_MAX
 * images, an ELF image without a well-formed digest, nesting deeper than
 * PB_WIRE_DEPTH_MAX, a body over PB_WIRE_BODY_MAX; PB_ERROR when memory
 * runs out. */
int pb_proto_run_record_parse(const char *json, size_t len,
			      struct pb_run_row_wire *out, char *err,
			      size_t errlen);

/* POST /api/v1/runs: {"lease": s, "index": i, "commit": s, "record": {...}}.
 * NULL on no memory or a bad *_json (message set). */
char *pb_proto_run_post_json(const char *lease, unsigned index,
			     const char *commit,
			     const struct pb_run_row_wire *rec);

/* What the agent tells about its machine when it asks for work; NULL or ""
 * strings and negative numbers are sent as null. */
struct pb_agent_facts {
	const char *kernel, *cpu_model;
	int nodes;               /* NUMA nodes online */
	int cpus;                /* CPUs online */
	const char *numa_online; /* "0-1" */
	const char *snoop;       /* as configured (--snoop) */
	const char *thp, *thp_defrag;
	int zone_reclaim_mode;
	const char *nic;         /* --nic */
};

/* POST /api/v1/agents/lease: {"request_id": s, "wait_s": i, "facts":
 * {"kernel", "cpu_model", "nodes", "cpus", "numa_online", "snoop", "thp",
 * "thp_defrag", "zone_reclaim_mode", "nic"}}. */
char *pb_proto_lease_request_json(const char *request_id, unsigned wait_s,
				  const struct pb_agent_facts *f);

/* One run a job asks for. */
struct pb_job_run {
	unsigned index;
	char commit[41];
};

/* A job, as the 200 answer to a lease request gives it.  Owned strings
 * are freed by pb_job_release(). */
struct pb_job {
	char lease[PB_WIRE_LEASE_MAX + 1]; /* [A-Za-z0-9._-], safe in a URL */
	double expires_in_s;     /* 120 when not given */
	double heartbeat_s;      /* 30 when not given */
	int64_t id, bisection;
	char kind[8];            /* "runs", "pair" or "merge" (a merged
				  * commit measured for history) */
	char *repo_name;         /* "" when not given */
	char *repo_url;
	char *bench_name;        /* "" when not given */
	char *build, *run;       /* shell commands */
	char metric[PB_METRIC_NAME_MAX];
	int lower_is_better;
	double timeout_s;        /* a run's; > 0 */
	double build_timeout_s;  /* 3600 when not given */
	int ccache;              /* benchmark "ccache": 1 unless false */
	char *config;            /* "config" as "K=V,..." (knobs.h), "" none */
	struct pb_job_run *runs; /* in order; nruns >= 1 */
	size_t nruns;
};

/* Parses the 200 answer of a lease request.  "config" is an object of
 * DESIGN.md section 5's keys, each a string or an integer ({"thp":
 * "never", "threads": 4}); it becomes the knobs string "thp=never,
 * threads=4" (keys sorted) for pb_knobs_parse().  PB_EINVAL with err
 * naming the field ("job: 'runs[2].commit' is not a 40-hex sha").  *out is
 * initialised here; release it whatever the return. */
int pb_proto_lease_parse(const char *json, size_t len, struct pb_job *out,
			 char *err, size_t errlen);
void pb_job_release(struct pb_job *j);

/* POST .../heartbeat: {"run_s": x}, or {} when run_s <= 0. */
char *pb_proto_heartbeat_json(double run_s);

/* POST .../build-failed: {"commit", "reason", "log_tail"}. */
char *pb_proto_build_failed_json(const char *commit, const char *reason,
				 const char *log_tail);

/* POST .../done: {}. */
char *pb_proto_done_json(void);

/* What the orchestrator answered, leniently read: absent keys keep their
 * defaults.  An empty or non-JSON body gives the defaults and PB_EINVAL. */
struct pb_proto_reply {
	int cont;                /* "continue"; 1 when absent */
	int accepted, repeat;    /* -1 when absent */
	int job_done;            /* "job_done"; 0 when absent */
	double expires_in_s;     /* NAN when absent */
	char error[256];         /* "error", "" when absent */
	char lease_state[16];    /* "lease_state", "" when absent */
};
int pb_proto_reply_parse(const char *json, size_t len,
			 struct pb_proto_reply *out);

/* What the command line reads of perfbisectd's answers about a bisection
 * (GET /api/v1/bisections/ID, the 201 of a start, an error): absent keys
 * stay "" / 0 / NAN. */
struct pb_remote_state {
	int64_t id;
	char state[16], verdict[16], culprit[41], mode[12];
	char good[41], bad[41];
	char outcome[1024], error[512];
	double confidence;
	long long runs;
	/* a compare's (GET of a compare): "" / NAN / 0 when absent */
	char kind[8], result[16], base[41], head[41], machine[128];
	double effect, lo, hi;
	long long pairs;
};
int pb_proto_parse_state(struct pb_remote_state *out, const char *body,
			 size_t len);

/* The body of POST /api/v1/bisections (what `perfbisect bisect --server`
 * sends); optional fields left out when NULL or 0. */
char *pb_proto_bisect_req_json(const char *repo, const char *benchmark,
			       const char *good, const char *bad,
			       const char *config, double confidence,
			       unsigned max_runs, unsigned long long seed,
			       double min_effect);

/* ---- merges, webhooks and alerts (docs/merges.md) ---- */

/* POST /api/v1/merges {repo, commit}. */
struct pb_merge_req {
	char *repo, *commit;
};
int pb_proto_parse_merge_req(struct pb_merge_req *out, const char *body,
			     size_t len);
void pb_merge_req_release(struct pb_merge_req *r);
/* The body `perfbisect merge` posts. */
char *pb_proto_merge_req_json(const char *repo, const char *commit);

/* Its answer (202): {"jobs", "benchmarks", "skipped", "commit"}.  A push
 * webhook's answer (202) instead: {"queued", "duplicate", "push"?,
 * "commit"?, "jobs"?, "ignored"?}: queued with the stored push's id, or
 * nothing to do (jobs 0) and why (ignored, or duplicate: a delivery seen
 * before). */
struct pb_merge_answer {
	unsigned jobs, benchmarks, skipped;
	const char *commit;   /* NULL: left out */
	int hook;             /* the webhook's answer */
	int64_t push;         /* the hook's stored push; 0: none */
	int duplicate;        /* the hook's delivery was seen before */
	const char *ignored;  /* NULL: left out */
};
char *pb_proto_merge_answer_json(const struct pb_merge_answer *a);

/* What perfbisectd takes of a GitHub or GitLab push event: the ref, the
 * new head (GitLab's checkout_sha when given, else "after") unless the
 * push deleted the ref, and whether it was forced (GitHub says so). */
struct pb_push {
	char ref[256];
	char after[41];       /* "" when deleted */
	int deleted, forced;
};
int pb_proto_parse_push(struct pb_push *out, const char *body, size_t len,
			int gitlab);

/* GET /api/v1/pushes/ID: what became of a webhook's push. */
struct pb_push_wire {
	int64_t id;
	const char *repo, *source, *commit, *state;
	int forced;
	unsigned attempts;
	int jobs;                /* < 0: left out */
	const char *note;        /* NULL or "": left out */
	double created_at, done_at; /* done_at NAN: null */
};
char *pb_proto_push_json(const struct pb_push_wire *p);

/* POST /api/v1/alerts/ID {state}: "open", "acknowledged" or "fixed". */
int pb_proto_parse_alert_state(char out[16], const char *body, size_t len);

/* An alert on the wire (DESIGN.md: GET /api/v1/alerts). */
struct pb_alert_wire {
	int64_t id, bisection;   /* bisection 0: null */
	const char *repo, *benchmark, *good, *bad, *mode, *state, *machine;
	const char *note;        /* NULL or "": left out */
	const char *culprit;     /* its bisection's, once done; NULL or "":
				  * null */
	const char *verdict;     /* its bisection's verdict word, once
				  * done; NULL or "": null */
	double change, p_value, before, after, created_at;
};
char *pb_proto_alerts_json(const struct pb_alert_wire *v, size_t n);
char *pb_proto_alert_json(const struct pb_alert_wire *a);

/* `perfbisect status` without an id, from the bodies of GET
 * /api/v1/bisections and GET /api/v1/alerts: {"alerts": [the alerts not
 * fixed], "bisections": [...]} with json, else lines for a person.  NULL
 * when a body is not what the API answers. */
char *pb_proto_status_summary(const char *bisections, size_t blen,
			      const char *alerts, size_t alen, int json);

/* ---- notifications (docs/notifications.md) ---- */

/* The body of one message, exactly as it is sent (and signed):
 *   {"delivery": ID, "event": EVENT, "created_at": "YYYY-MM-DDTHH:MM:SSZ",
 *    "repository": {"id": N, "name": NAME}, "data": DATA}
 * data_json must be the text of a JSON object (NULL otherwise). */
char *pb_proto_notify_body(const char *delivery, const char *event,
			   double created_at, int64_t repo_id,
			   const char *repo_name, const char *data_json);

/* The data of "bisection.ended": the keys of GET /api/v1/bisections/ID
 * (id, state, verdict, culprit, culprit_range, confidence, verification,
 * runs, builds, mode, outcome, good, bad, metric, report ...) without its
 * steps, with "benchmark", "api" (the path of its state) and "alert" (the
 * id of the alert that started it, alert > 0, or null) added. */
char *pb_proto_notify_bisection_data(const struct pb_bisection_view *v,
				     const char *benchmark,
				     const char *report_path, int64_t alert);

/* A stored JSON text (a run's metrics, counters, placement, facts) as
 * its leaves, in document order: path "a/b/0" and the number (NAN when
 * the leaf is not one; text then holds a string, "true", "false" or
 * "null").  Nesting past 8 levels is left out.  NULL or "" is no leaves;
 * PB_EINVAL for text that is not JSON. */
struct pb_flat {
	char *path;
	double value;
	char *text;
};
int pb_proto_flatten(const char *text, struct pb_flat **out, size_t *n);
void pb_flat_free(struct pb_flat *v, size_t n);

#endif
