/*
 * api_core.c - what an admin registers, and the health check: GET
 * /healthz, POST /api/v1/repos, POST /api/v1/benchmarks (DESIGN.md
 * section 3).
 *
 * A registration is idempotent: the same name again replaces its
 * definition and answers 200; a new one answers 201.  Both answer the
 * stored object with its id.
 */
#include <stdlib.h>

#include "common/err.h"
#include "common/proto.h"
#include "orchestrator/server/api.h"
#include "orchestrator/server/urlrule.h"
#include "common/util.h"

static int healthz(struct pb_http_req *req, struct pb_http_resp *resp)
{
	(void)req;
	return pb_http_resp_json(resp, 200, pb_proto_health_json());
}

static int repos_post(struct pb_http_req *req, struct pb_http_resp *resp)
{
	struct pb_srv *srv = pb_srv_of(req);
	struct pb_repo_req r;
	struct pb_repo_def def;
	int64_t id;
	int rc, created = 0;

	if (pb_proto_parse_repo_req(&r, req->body, req->body_len) < 0)
		return pb_http_resp_error(resp, 400, "%s", pb_error_last());
	if (pb_url_check_repo(r.url, srv->cfg->allow_local_repos) < 0 ||
	    (r.notify_url &&
	     pb_url_check_notify(r.notify_url,
				 srv->cfg->allow_private_notify) < 0)) {
		pb_repo_req_release(&r);
		return pb_http_resp_error(resp, 400, "%s", pb_error_last());
	}
	/* notifications are signed with the secret (docs/notifications.md):
	 * a receiver must be able to tell them from anyone's posts */
	if (r.notify_url && (!r.webhook_secret || !*r.webhook_secret)) {
		pb_repo_req_release(&r);
		return pb_http_resp_error(resp, 400,
					  "notify_url needs a webhook_secret: "
					  "notifications are signed with it "
					  "(X-Perfbisect-Signature-256)");
	}
	def = (struct pb_repo_def){ r.name, r.url, r.branch, r.webhook_secret,
				    r.notify_url };
	rc = pb_db_repo_register(pb_srv_db_lock(srv), &def, &id, &created);
	{
		int src = pb_srv_db_unlock_synced(srv);

		rc = rc == PB_OK ? src : rc;
	}
	if (rc == PB_OK)
		rc = pb_http_resp_json(resp, created ? 201 : 200,
				       pb_proto_repo_json(id, &r));
	pb_repo_req_release(&r);
	return rc;
}

static int benchmarks_post(struct pb_http_req *req, struct pb_http_resp *resp)
{
	struct pb_srv *srv = pb_srv_of(req);
	struct pb_benchmark_req b;
	struct pb_benchmark_reg reg;
	struct pb_repo_row repo;
	struct pb_db *db;
	int64_t id;
	int rc, created = 0;

	if (pb_proto_parse_benchmark_req(&b, req->body, req->body_len) < 0)
		return pb_http_resp_error(resp, 400, "%s", pb_error_last());
	db = pb_srv_db_lock(srv);
	rc = pb_db_repo_get(db, b.repo, &repo);
	if (rc == PB_OK) {
		reg = (struct pb_benchmark_reg){
			{ b.name, b.build, b.run, b.metric, b.lower_is_better,
			  b.timeout_s, b.build_timeout_s },
			b.repeats, b.alert_threshold
		};
		rc = pb_db_benchmark_register(db, repo.id, &reg, &id, &created);
		pb_repo_row_release(&repo);
	}
	{
		int src = pb_srv_db_unlock_synced(srv);

		rc = rc == PB_OK ? src : rc;
	}
	if (rc == PB_ENOTFOUND)
		rc = pb_http_resp_error(resp, 404,
					"no repository named '%s': register it "
					"first (POST /api/v1/repos)",
					b.repo);
	else if (rc == PB_OK)
		rc = pb_http_resp_json(resp, created ? 201 : 200,
				       pb_proto_benchmark_json(id, &b));
	pb_benchmark_req_release(&b);
	return rc;
}

static const struct pb_http_route routes[] = {
	{ "GET", "/healthz", healthz, PB_HTTP_OPEN, 0, NULL },
	{ "POST", "/api/v1/repos", repos_post, PB_HTTP_ADMIN, 0, NULL },
	{ "POST", "/api/v1/benchmarks", benchmarks_post, PB_HTTP_ADMIN, 0,
	  NULL },
};

int pb_api_core_register(struct pb_http_server *http, struct pb_srv *srv)
{
	(void)srv;
	return pb_http_route_add(http, routes, PB_ARRAY_SIZE(routes));
}

/*
 * Test-only long polls (debug_routes): the HTTP layer's holding, driven
 * from outside.
 */

static int debug_hold(struct pb_http_req *req, struct pb_http_resp *resp)
{
	const char *key = pb_http_query(req, "key");
	const char *hold = pb_http_query(req, "hold");
	const char *replace = pb_http_query(req, "replace");
	double s = pb_srv_of(req)->cfg->long_poll_s;

	if (req->woken)
		return pb_http_resp_json(resp, 200,
					 pb_proto_number_json("woken", 1));
	if (!key || !*key)
		return pb_http_resp_error(resp, 400, "missing ?key=");
	if (hold && pb_parse_double(&s, hold, 0.001, 3600, "hold") < 0)
		return pb_http_resp_error(resp, 400, "%s", pb_error_last());
	return pb_http_suspend(req, resp, key, s,
			       replace ? PB_HTTP_HOLD_REPLACE : 0);
}

static int debug_wake(struct pb_http_req *req, struct pb_http_resp *resp)
{
	const char *key = pb_http_query(req, "key");
	size_t n = pb_http_wake(pb_http_req_server(req), key);

	return pb_http_resp_json(resp, 200,
				 pb_proto_number_json("woken", (int64_t)n));
}

static int debug_held(struct pb_http_req *req, struct pb_http_resp *resp)
{
	size_t n = pb_http_held(pb_http_req_server(req));

	return pb_http_resp_json(resp, 200,
				 pb_proto_number_json("held", (int64_t)n));
}

static const struct pb_http_route debug_routes[] = {
	{ "POST", "/api/v1/debug/hold", debug_hold, PB_HTTP_ADMIN, 0, NULL },
	{ "POST", "/api/v1/debug/wake", debug_wake, PB_HTTP_ADMIN, 0, NULL },
	{ "GET", "/api/v1/debug/held", debug_held, PB_HTTP_ADMIN, 0, NULL },
};

int pb_api_debug_register(struct pb_http_server *http, struct pb_srv *srv)
{
	if (!srv->cfg->debug_routes)
		return PB_OK;
	return pb_http_route_add(http, debug_routes,
				 PB_ARRAY_SIZE(debug_routes));
}
