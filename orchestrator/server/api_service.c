/*
 * api_service.c - bisections over agents (DESIGN.md section 3; the agent
 * protocol in docs/agent-protocol.md).
 *
 * Client calls: POST /api/v1/bisections, POST /api/v1/compare (a
 * pull-request check: a row of bisections of kind "compare"), GET
 * /api/v1/bisections (both kinds), GET /api/v1/bisections/ID (either
 * kind's object), POST /api/v1/bisections/ID/cancel.  Agent calls:
 * POST /api/v1/agents/lease (a long poll), POST /api/v1/runs, POST
 * /api/v1/leases/L/heartbeat, .../build-failed, .../done.
 *
 * The handlers parse (common/proto.c), call the scheduler (sched.h) and
 * answer; the scheduler keeps every state in sqlite under the server's
 * database lock.  A lease request with no work holds under the key "work"
 * until the scheduler says work may be ready (a bisection started, a run
 * came in, a lease expired) or its wait is over (204).  A thread reaps
 * expired leases every second.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/proto.h"
#include "common/util.h"
#include "orchestrator/sched.h"
#include "orchestrator/server/api.h"

struct service {
	struct pb_srv *srv;
	struct pb_sched *sched;
	pthread_t reaper;
	int reaper_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stopping;
};

/* One service per process (main.c registers the route set once). */
static struct service the;

static void on_work(void *ctx)
{
	struct service *sv = ctx;

	pb_http_wake(sv->srv->http, "work");
}

static void *reaper_main(void *arg)
{
	struct service *sv = arg;

	pthread_mutex_lock(&sv->mu);
	while (!sv->stopping) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&sv->cv, &sv->mu, &ts);
		if (sv->stopping)
			break;
		pthread_mutex_unlock(&sv->mu);
		if (pb_sched_reap(sv->sched) < 0)
			pb_log_warnx("reaping leases: %s", pb_error_last());
		pthread_mutex_lock(&sv->mu);
	}
	pthread_mutex_unlock(&sv->mu);
	return NULL;
}

static void service_stop(void *arg)
{
	struct service *sv = arg;

	if (sv->reaper_started) {
		pthread_mutex_lock(&sv->mu);
		sv->stopping = 1;
		pthread_cond_signal(&sv->cv);
		pthread_mutex_unlock(&sv->mu);
		pthread_join(sv->reaper, NULL);
		sv->reaper_started = 0;
	}
	pb_sched_free(sv->sched);
	sv->sched = NULL;
	pthread_cond_destroy(&sv->cv);
	pthread_mutex_destroy(&sv->mu);
}

static int refused(struct pb_http_resp *resp, const struct pb_sched_refusal *w)
{
	return pb_http_resp_json(resp, 409,
				 pb_proto_lease_refusal_json(w->state, w->why));
}

/* ---- clients ---- */

static int bisections_post(struct pb_http_req *req, struct pb_http_resp *resp)
{
	struct pb_bisect_req b;
	struct pb_sched_start q;
	char good[41], bad[41];
	int64_t id;
	int rc;

	if (pb_proto_parse_bisect_req(&b, req->body, req->body_len) < 0)
		return pb_http_resp_error(resp, 400, "%s", pb_error_last());
	if (b.config && strcmp(b.config, "default")) {
		rc = pb_http_resp_error(resp, 400,
					"field 'config': only the default "
					"configuration (the machine as it is) "
					"is served yet");
		pb_bisect_req_release(&b);
		return rc;
	}
	q = (struct pb_sched_start){ b.repo, b.benchmark, b.good, b.bad,
				     req->who->name, b.confidence, b.max_runs,
				     b.seed, b.min_effect, 0 };
	rc = pb_sched_start(the.sched, &q, &id, good, bad);
	pb_bisect_req_release(&b);
	if (rc < 0)
		return pb_srv_answer_error(resp, rc);
	return pb_http_resp_json(resp, 201, pb_proto_started_json(id, good, bad));
}

/* POST /api/v1/compare: as POST /api/v1/bisections, the same checks of
 * names and revisions (pb_sched_compare() shares them), the same errors. */
static int compare_post(struct pb_http_req *req, struct pb_http_resp *resp)
{
	struct pb_compare_req c;
	struct pb_sched_compare_req q;
	char base[41], head[41];
	int64_t id;
	int rc;

	if (pb_proto_parse_compare_req(&c, req->body, req->body_len) < 0)
		return pb_http_resp_error(resp, 400, "%s", pb_error_last());
	q = (struct pb_sched_compare_req){ c.repo, c.benchmark, c.base, c.head,
					   req->who->name, c.min_effect };
	rc = pb_sched_compare(the.sched, &q, &id, base, head);
	pb_compare_req_release(&c);
	if (rc < 0)
		return pb_srv_answer_error(resp, rc);
	return pb_http_resp_json(resp, 201,
				 pb_proto_compare_started_json(id, base, head));
}

struct list_ctx {
	struct pb_bisection_item *v;
	size_t n;
};

static int list_in_db(struct pb_db *db, void *ctx)
{
	struct list_ctx *l = ctx;

	return pb_db_bisection_list(db, 1000, &l->v, &l->n);
}

static int bisections_get(struct pb_http_req *req, struct pb_http_resp *resp)
{
	struct list_ctx l = { NULL, 0 };
	int rc;

	(void)req;
	if ((rc = pb_sched_with_db(the.sched, list_in_db, &l)) < 0)
		return pb_srv_answer_error(resp, rc);
	rc = pb_http_resp_json(resp, 200,
			       pb_proto_bisection_list_json(l.v, l.n));
	free(l.v);
	return rc;
}

struct one_ctx {
	int64_t id;
	struct pb_bisection_view *v;
	struct pb_compare_view *cv;   /* when it is a compare */
};

static int load_in_db(struct pb_db *db, void *ctx)
{
	struct one_ctx *c = ctx;
	char kind[8];
	int rc;

	if ((rc = pb_db_bisection_kind(db, c->id, kind)) < 0)
		return rc;
	if (!strcmp(kind, "compare"))
		return pb_db_compare_load(db, c->id, &c->cv);
	return pb_db_bisection_load(db, c->id, &c->v);
}

static int bisection_get(struct pb_http_req *req, struct pb_http_resp *resp)
{
	struct one_ctx c = { 0, NULL, NULL };
	int rc;

	if (pb_http_param_id(req, "id", &c.id) < 0)
		return pb_http_resp_error(resp, 400, "%s", pb_error_last());
	rc = pb_sched_with_db(the.sched, load_in_db, &c);
	if (rc == PB_ENOTFOUND)
		return pb_http_resp_error(resp, 404, "no bisection %lld",
					  (long long)c.id);
	if (rc < 0)
		return pb_srv_answer_error(resp, rc);
	if (c.cv) {
		rc = pb_http_resp_json(resp, 200, pb_proto_compare_json(c.cv));
		pb_compare_view_free(c.cv);
		return rc;
	}
	{
		/* its page, as --local's "report" names its file: written
		 * when the bisection ends, served under /report/ */
		char page[64];
		int ended = strcmp(c.v->state, "queued") &&
			    strcmp(c.v->state, "running");

		snprintf(page, sizeof(page), "/report/bisection-%lld.html",
			 (long long)c.id);
		rc = pb_http_resp_json(resp, 200,
				       pb_proto_bisection_json(
					       c.v, ended ? page : NULL));
	}
	pb_bisection_view_free(c.v);
	return rc;
}

static int bisection_cancel(struct pb_http_req *req, struct pb_http_resp *resp)
{
	int64_t id;
	int rc;

	if (pb_http_param_id(req, "id", &id) < 0)
		return pb_http_resp_error(resp, 400, "%s", pb_error_last());
	if ((rc = pb_sched_cancel(the.sched, id)) < 0)
		return pb_srv_answer_error(resp, rc);
	pb_log_info("bisection %lld cancelled by '%s'", (long long)id,
		    req->who->name);
	return pb_http_resp_json(resp, 200,
				 pb_proto_number_json("cancelled", id));
}

/* ---- agents ---- */

static int lease(struct pb_http_req *req, struct pb_http_resp *resp)
{
	const struct pb_config *cfg = the.srv->cfg;
	struct pb_lease_req q;
	struct pb_sched_job j;
	struct pb_job_answer a;
	const char **commits = NULL;
	unsigned *idx = NULL;
	double hold;
	int rc;

	if (pb_proto_parse_lease_req(&q, req->body, req->body_len) < 0)
		return pb_http_resp_error(resp, 400, "%s", pb_error_last());
	rc = pb_sched_lease(the.sched, req->who->name, q.request_id,
			    q.facts_json, &j);
	hold = q.wait_s < (unsigned)cfg->long_poll_s ? q.wait_s
						      : (double)cfg->long_poll_s;
	pb_lease_req_release(&q);
	if (rc == PB_ENOTFOUND)
		/* nothing now: held until work may be ready, or the wait
		 * is over (204) */
		return hold > 0 ? pb_http_suspend(req, resp, "work", hold, 0)
				: pb_http_resp_empty(resp, 204);
	if (rc < 0)
		return pb_srv_answer_error(resp, rc);
	commits = calloc(j.nruns ? j.nruns : 1, sizeof(*commits));
	idx = calloc(j.nruns ? j.nruns : 1, sizeof(*idx));
	if (!commits || !idx) {
		rc = pb_error_code(PB_EINFRA, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < j.nruns; k++) {
		commits[k] = j.runs[k].commit;
		idx[k] = j.runs[k].index;
	}
	a = (struct pb_job_answer){ j.lease, j.expires_in_s,
				    (double)cfg->heartbeat_s, j.job_id,
				    j.bisection_id, j.kind, j.repo.name,
				    j.repo.url, j.bench.name, j.bench.build_cmd,
				    j.bench.run_cmd, j.bench.metric,
				    j.bench.lower_is_better, 1,
				    j.bench.timeout_s, j.bench.build_timeout_s,
				    j.nruns, idx, commits };
	rc = pb_http_resp_json(resp, 200, pb_proto_job_answer_json(&a));
out:
	free(commits);
	free(idx);
	pb_sched_job_release(&j);
	return rc;
}

static int heartbeat(struct pb_http_req *req, struct pb_http_resp *resp)
{
	struct pb_sched_refusal why;
	double run_s, left;
	int cont, rc;

	if (pb_proto_parse_heartbeat_req(&run_s, req->body, req->body_len) < 0)
		return pb_http_resp_error(resp, 400, "%s", pb_error_last());
	rc = pb_sched_heartbeat(the.sched, req->who->name,
				pb_http_param(req, "lease"), run_s, &left,
				&cont, &why);
	if (rc == PB_ECONFLICT)
		return refused(resp, &why);
	if (rc < 0)
		return pb_srv_answer_error(resp, rc);
	return pb_http_resp_json(resp, 200,
				 pb_proto_heartbeat_answer_json(left, cont));
}

/* The wire record onto the database's row (strings borrowed from w). */
static void row_of(struct pb_run_row *row, const struct pb_run_row_wire *w)
{
	memset(row, 0, sizeof(*row));
	row->ok = w->ok;
	row->failure_reason = w->reason;
	row->exited = w->exited;
	row->exit_code = w->exit_code;
	row->signal = w->signal;
	row->timed_out = w->timed_out;
	row->wall_s = w->wall_s;
	row->value = w->value;
	row->metrics_json = w->metrics_json;
	row->notes = w->notes;
	row->output = w->output;
	row->started_at = w->started_at;
	row->finished_at = w->started_at + w->wall_s;
	row->run_as = w->run_as;
	row->counters_json = w->counters_json;
	row->numa_json = w->numa_json;
	row->settings_json = w->settings_json;
	row->machine_json = w->machine_json;
	row->interference_json = w->interference_json;
	row->start_cpu = w->start_cpu;
	row->start_node = w->start_node;
	row->ipc = w->ipc;
	row->ipc_note = w->ipc_note;
	row->remote_access = w->remote_access;
	row->remote_note = w->remote_note;
	row->cpu_s = w->cpu_s;
	row->busy_share = w->busy_share;
	row->disturbed = w->ok && w->disturbed;
}

static enum pb_image_kind image_kind(enum pb_wire_image_kind k)
{
	return k == PB_WIRE_IMAGE_ELF     ? PB_IMAGE_ELF
	       : k == PB_WIRE_IMAGE_OTHER ? PB_IMAGE_OTHER
					  : PB_IMAGE_ERROR;
}

static int runs_post(struct pb_http_req *req, struct pb_http_resp *resp)
{
	struct pb_image_row *images = NULL;
	struct pb_run_post p;
	struct pb_run_row_wire w;
	struct pb_run_row row;
	struct pb_sched_refusal why;
	char err[256];
	int rc, repeat, cont, job_done;

	if (pb_proto_parse_run_post(&p, req->body, req->body_len) < 0)
		return pb_http_resp_error(resp, 400, "%s", pb_error_last());
	if (pb_proto_run_record_parse(p.record_json, strlen(p.record_json), &w,
				      err, sizeof(err)) < 0) {
		pb_run_row_wire_release(&w);
		pb_run_post_release(&p);
		return pb_http_resp_error(resp, 400, "%s", err);
	}
	row_of(&row, &w);
	if (w.nimages && !(images = calloc(w.nimages, sizeof(*images)))) {
		pb_run_row_wire_release(&w);
		pb_run_post_release(&p);
		return pb_srv_answer_error(resp, pb_error_code(PB_EINFRA,
							"out of memory"));
	}
	for (size_t k = 0; k < w.nimages; k++) /* borrowed from w */
		images[k] = (struct pb_image_row){
			w.images[k].path, image_kind(w.images[k].kind),
			w.images[k].digest, w.images[k].note
		};
	rc = pb_sched_post_run(the.sched, req->who->name, p.lease, p.index,
			       p.commit, &row, images, w.nimages, req->body,
			       req->body_len, &repeat, &cont, &job_done, &why);
	free(images);
	pb_run_row_wire_release(&w);
	pb_run_post_release(&p);
	if (rc == PB_ECONFLICT)
		return refused(resp, &why);
	if (rc < 0)
		return pb_srv_answer_error(resp, rc);
	return pb_http_resp_json(resp, 200,
				 pb_proto_run_answer_json(repeat, cont,
							  job_done));
}

static int build_failed(struct pb_http_req *req, struct pb_http_resp *resp)
{
	struct pb_build_failed_req b;
	struct pb_sched_refusal why;
	int rc;

	if (pb_proto_parse_build_failed(&b, req->body, req->body_len) < 0)
		return pb_http_resp_error(resp, 400, "%s", pb_error_last());
	rc = pb_sched_build_failed(the.sched, req->who->name,
				   pb_http_param(req, "lease"), b.commit,
				   b.reason, b.log_tail, &why);
	pb_build_failed_release(&b);
	if (rc == PB_ECONFLICT)
		return refused(resp, &why);
	if (rc < 0)
		return pb_srv_answer_error(resp, rc);
	return pb_http_resp_json(resp, 200, pb_proto_continue_json(0));
}

static int done(struct pb_http_req *req, struct pb_http_resp *resp)
{
	struct pb_sched_refusal why;
	int rc;

	rc = pb_sched_done(the.sched, req->who->name,
			   pb_http_param(req, "lease"), &why);
	if (rc == PB_ECONFLICT)
		return refused(resp, &why);
	if (rc < 0)
		return pb_srv_answer_error(resp, rc);
	return pb_http_resp_json(resp, 200, pb_proto_continue_json(0));
}

int pb_api_service_register(struct pb_http_server *http, struct pb_srv *srv)
{
	static const struct pb_http_route routes[] = {
		{ "POST", "/api/v1/bisections", bisections_post,
		  PB_HTTP_CLIENT, 64 * 1024, NULL },
		{ "POST", "/api/v1/compare", compare_post, PB_HTTP_CLIENT,
		  64 * 1024, NULL },
		{ "GET", "/api/v1/bisections", bisections_get, PB_HTTP_CLIENT,
		  0, NULL },
		{ "GET", "/api/v1/bisections/{id}", bisection_get,
		  PB_HTTP_CLIENT, 0, NULL },
		{ "POST", "/api/v1/bisections/{id}/cancel", bisection_cancel,
		  PB_HTTP_CLIENT, 4096, NULL },
		{ "POST", "/api/v1/agents/lease", lease, PB_HTTP_AGENT,
		  64 * 1024, NULL },
		{ "POST", "/api/v1/runs", runs_post, PB_HTTP_AGENT, 0, NULL },
		{ "POST", "/api/v1/leases/{lease}/heartbeat", heartbeat,
		  PB_HTTP_AGENT, 4096, NULL },
		{ "POST", "/api/v1/leases/{lease}/build-failed", build_failed,
		  PB_HTTP_AGENT, 128 * 1024, NULL },
		{ "POST", "/api/v1/leases/{lease}/done", done, PB_HTTP_AGENT,
		  4096, NULL },
	};
	const struct pb_config *cfg = srv->cfg;
	struct pb_sched_opts so;
	int rc;

	memset(&the, 0, sizeof(the));
	the.srv = srv;
	pthread_mutex_init(&the.mu, NULL);
	pthread_cond_init(&the.cv, NULL);
	memset(&so, 0, sizeof(so));
	so.db = srv->db;
	so.work_dir = cfg->work_dir;
	so.lease_s = (double)cfg->lease_s;
	so.restart_grace_s = cfg->restart_grace_s > 0
				     ? (double)cfg->restart_grace_s
				     : -1;
	so.max_expiries = (unsigned)cfg->max_lease_expiries;
	so.busy_backoff_s = (double)cfg->busy_backoff_s;
	so.merge_repeats = (unsigned)cfg->merge_repeats;
	so.merge_backlog = (unsigned)cfg->merge_backlog;
	so.merge_home_wait_s = (double)cfg->merge_home_wait_s;
	/* an idle agent asks again at the end of each long poll */
	so.home_alive_s = (double)cfg->long_poll_s + 2 * (double)cfg->lease_s;
	so.auto_bisections = (unsigned)cfg->auto_bisections;
	so.history_commits = (unsigned)cfg->history_commits;
	so.lock = &srv->db_mu;
	so.on_work = on_work;
	so.ctx = &the;
	if ((rc = pb_mkdir_p(cfg->work_dir, 0700)) < 0 ||
	    (rc = pb_sched_new(&the.sched, &so)) < 0 ||
	    (rc = pb_http_route_add(http, routes,
				    sizeof(routes) / sizeof(routes[0]))) < 0 ||
	    (rc = pb_srv_at_stop(srv, service_stop, &the)) < 0)
		return rc;
	srv->sched = the.sched;
	if (pthread_create(&the.reaper, NULL, reaper_main, &the) != 0)
		return pb_error_code(PB_EINFRA, "cannot start the lease reaper");
	the.reaper_started = 1;
	return PB_OK;
}
