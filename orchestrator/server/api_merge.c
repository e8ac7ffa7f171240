/*
 * api_merge.c - every merge (docs/merges.md): POST /api/v1/merges, the
 * GitHub and GitLab push webhooks, GET /api/v1/alerts, POST
 * /api/v1/alerts/ID, and the thread that judges series and starts the
 * bisections of alerts.
 *
 * A webhook is verified before its body is parsed: GitHub's
 * X-Hub-Signature-256 is "sha256=" and the HMAC-SHA256 of the raw body
 * with the repository's webhook_secret, GitLab's X-Gitlab-Token the secret
 * itself; both compared in constant time (CRYPTO_memcmp of equal-length
 * digests, so not even the length of the secret leaks).  A push to the
 * tracked branch schedules its head commit as POST /api/v1/merges does;
 * tag pushes, deletions and other branches are acknowledged (202) and
 * ignored, the answer saying so.  A GitHub delivery id seen before
 * schedules nothing (and merges are idempotent anyway).
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "common/proto.h"
#include "common/util.h"
#include "orchestrator/notify.h"
#include "orchestrator/sched.h"
#include "orchestrator/server/api.h"

struct judge {
	struct pb_srv *srv;
	pthread_t th;
	int started, stopping;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static struct judge the_judge;

static void *judge_main(void *arg)
{
	struct judge *j = arg;

	pthread_mutex_lock(&j->mu);
	while (!j->stopping) {
		struct timespec ts;
		int rc;

		pthread_mutex_unlock(&j->mu);
		/* every series with new measurements, then the alerts'
		 * bisections */
		while ((rc = pb_sched_judge(j->srv->sched)) == 1 &&
		       !j->stopping)
			;
		if (rc < 0)
			pb_log_warnx("judging series: %s", pb_error_last());
		if (pb_sched_auto(j->srv->sched) < 0)
			pb_log_warnx("starting alerts' bisections: %s",
				     pb_error_last());
		pthread_mutex_lock(&j->mu);
		if (j->stopping)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&j->cv, &j->mu, &ts);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

static void judge_stop(void *arg)
{
	struct judge *j = arg;

	if (j->started) {
		pthread_mutex_lock(&j->mu);
		j->stopping = 1;
		pthread_cond_signal(&j->cv);
		pthread_mutex_unlock(&j->mu);
		pthread_join(j->th, NULL);
		j->started = 0;
	}
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
}


static int answer_merge(struct pb_http_resp *resp,
			const struct pb_sched_merge_res *r,
			const char *ignored)
{
	struct pb_merge_answer a = { r->jobs, r->benchmarks, r->skipped,
				     r->duplicate,
				     r->commit[0] ? r->commit : NULL,
				     ignored };

	return pb_http_resp_json(resp, 202, pb_proto_merge_answer_json(&a));
}

static int merges_post(struct pb_http_req *req, struct pb_http_resp *resp)
{
	struct pb_srv *srv = pb_srv_of(req);
	struct pb_merge_req m;
	struct pb_sched_merge_req q;
	struct pb_sched_merge_res r;
	int rc;

	if (pb_proto_parse_merge_req(&m, req->body, req->body_len) < 0)
		return pb_http_resp_error(resp, 400, "%s", pb_error_last());
	q = (struct pb_sched_merge_req){ m.repo, m.commit, "api", NULL };
	rc = pb_sched_merge(srv->sched, &q, &r);
	pb_merge_req_release(&m);
	if (rc < 0)
		return pb_srv_answer_error(resp, rc);
	return answer_merge(resp, &r, NULL);
}

/* ---- webhooks ---- */

/* The repository a hook names (?repo=NAME), with its secret; an answer
 * already given when it returns non-zero. */
static int hook_repo(struct pb_http_req *req, struct pb_http_resp *resp,
		     struct pb_repo_row *out, int *answered)
{
	struct pb_srv *srv = pb_srv_of(req);
	const char *name = pb_http_query(req, "repo");
	int rc;

	*answered = 1;
	memset(out, 0, sizeof(*out));
	if (!name || !name[0])
		return pb_http_resp_error(resp, 400, "the hook's URL must "
					  "name a registered repository: "
					  "?repo=NAME");
	pb_srv_db_lock(srv);
	rc = pb_db_repo_get(srv->db, name, out);
	pb_srv_db_unlock(srv);
	if (rc == PB_ENOTFOUND)
		return pb_http_resp_error(resp, 404, "unknown repository '%s'",
					  name);
	if (rc < 0)
		return pb_srv_answer_error(resp, rc);
	if (!out->webhook_secret || !out->webhook_secret[0]) {
		pb_repo_row_release(out);
		return pb_http_resp_error(resp, 401, "repository '%s' has no "
					  "webhook_secret: its hooks cannot "
					  "be verified", name);
	}
	*answered = 0;
	return PB_HTTP_DONE;
}

static int sha256(const void *p, size_t n, unsigned char out[32])
{
	unsigned int len = 0;

	return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 &&
			       len == 32
		       ? PB_OK
		       : pb_error_code(PB_EINFRA, "cannot hash");
}

/* 1 when header X-Hub-Signature-256 is "sha256=" and the HMAC-SHA256 of
 * the body with secret, in hex (lowercase, as GitHub sends it): the
 * whole header compared in constant time. */
static int github_signed(const struct pb_http_req *req, const char *secret)
{
	const char *h = pb_http_header(req, "X-Hub-Signature-256");
	char want[PB_NOTIFY_SIGNATURE_LEN + 1];

	if (!h || strlen(h) != PB_NOTIFY_SIGNATURE_LEN ||
	    pb_notify_sign(want, secret, req->body, req->body_len) < 0)
		return 0;
	return CRYPTO_memcmp(want, h, PB_NOTIFY_SIGNATURE_LEN) == 0;
}

/* 1 when header X-Gitlab-Token is the secret: their digests compared. */
static int gitlab_signed(const struct pb_http_req *req, const char *secret)
{
	const char *h = pb_http_header(req, "X-Gitlab-Token");
	unsigned char a[32], b[32];

	if (!h || sha256(h, strlen(h), a) < 0 ||
	    sha256(secret, strlen(secret), b) < 0)
		return 0;
	return CRYPTO_memcmp(a, b, 32) == 0;
}

static int push(struct pb_http_req *req, struct pb_http_resp *resp,
		int gitlab)
{
	struct pb_srv *srv = pb_srv_of(req);
	const char *src = gitlab ? "gitlab" : "github";
	struct pb_repo_row repo;
	struct pb_push p;
	struct pb_sched_merge_req q;
	struct pb_sched_merge_res r;
	const char *event, *delivery;
	char why[400], ref[300];
	int rc, answered;

	memset(&r, 0, sizeof(r));
	rc = hook_repo(req, resp, &repo, &answered);
	if (answered)
		return rc;
	if (!(gitlab ? gitlab_signed(req, repo.webhook_secret)
		     : github_signed(req, repo.webhook_secret))) {
		pb_log_warnx("%s hook for '%s': %s", src, repo.name,
			     gitlab ? "wrong X-Gitlab-Token"
				    : "wrong X-Hub-Signature-256");
		rc = pb_http_resp_error(resp, 401, gitlab
				? "X-Gitlab-Token is missing or wrong"
				: "X-Hub-Signature-256 is missing or does "
				  "not match the body");
		goto out;
	}
	/* verified: now the body may be read */
	event = pb_http_header(req, gitlab ? "X-Gitlab-Event"
					   : "X-GitHub-Event");
	delivery = pb_http_header(req, gitlab ? "X-Gitlab-Event-UUID"
					      : "X-GitHub-Delivery");
	if (!gitlab && event && !strcmp(event, "ping")) {
		rc = answer_merge(resp, &r, "a ping: nothing to measure");
		goto out;
	}
	if (event && strcmp(event, gitlab ? "Push Hook" : "push")) {
		snprintf(why, sizeof(why), "event '%.100s' is not a push",
			 event);
		rc = answer_merge(resp, &r, why);
		goto out;
	}
	if (pb_proto_parse_push(&p, req->body, req->body_len, gitlab) < 0) {
		rc = pb_http_resp_error(resp, 400, "%s", pb_error_last());
		goto out;
	}
	snprintf(ref, sizeof(ref), "refs/heads/%s",
		 repo.branch ? repo.branch : "");
	if (!strncmp(p.ref, "refs/tags/", 10)) {
		rc = answer_merge(resp, &r, "a tag push: only pushes to the "
				  "tracked branch are measured");
		goto out;
	}
	if (repo.branch && strcmp(p.ref, ref)) {
		snprintf(why, sizeof(why), "a push to '%.100s': the tracked "
			 "branch is '%.100s'", p.ref, repo.branch);
		rc = answer_merge(resp, &r, why);
		goto out;
	}
	if (p.deleted) {
		rc = answer_merge(resp, &r, "the push deleted the branch");
		goto out;
	}
	q = (struct pb_sched_merge_req){ repo.name, p.after, src, delivery };
	rc = pb_sched_merge(srv->sched, &q, &r);
	if (rc == PB_EINVAL) {
		/* a head off the tracked line (a late delivery after a
		 * forced push; with no branch named, a push to another
		 * branch): acknowledged, nothing to measure */
		snprintf(why, sizeof(why), "%s", pb_error_last());
		memset(&r, 0, sizeof(r));
		rc = answer_merge(resp, &r, why);
		goto out;
	}
	if (rc < 0) {
		rc = pb_srv_answer_error(resp, rc);
		goto out;
	}
	if (p.forced && r.jobs)
		pb_log_info("%s: a forced push to %s: commits that left the "
			    "branch drop out of its series", repo.name,
			    p.ref);
	rc = answer_merge(resp, &r, r.duplicate ? "a delivery seen before"
						: NULL);
out:
	pb_repo_row_release(&repo);
	return rc;
}

static int hook_github(struct pb_http_req *req, struct pb_http_resp *resp)
{
	return push(req, resp, 0);
}

static int hook_gitlab(struct pb_http_req *req, struct pb_http_resp *resp)
{
	return push(req, resp, 1);
}

/* ---- alerts ---- */

static void wire_of(struct pb_alert_wire *w, const struct pb_alert_row *a)
{
	*w = (struct pb_alert_wire){
		a->id, a->bisection_id, a->repo, a->bench, a->good, a->bad,
		a->mode, a->state, a->machine, a->note, a->culprit, a->change,
		a->p_value, a->before, a->after, a->created_at
	};
}

static int alerts_get(struct pb_http_req *req, struct pb_http_resp *resp)
{
	struct pb_srv *srv = pb_srv_of(req);
	struct pb_alert_row *v = NULL;
	struct pb_alert_wire *w = NULL;
	size_t n = 0;
	int rc;

	pb_srv_db_lock(srv);
	rc = pb_db_alerts(srv->db, NULL, &v, &n);
	pb_srv_db_unlock(srv);
	if (rc < 0)
		return pb_srv_answer_error(resp, rc);
	if (!(w = calloc(n ? n : 1, sizeof(*w)))) {
		free(v);
		return pb_srv_answer_error(resp, pb_error_code(PB_EINFRA,
							"out of memory"));
	}
	for (size_t i = 0; i < n; i++)
		wire_of(&w[i], &v[i]);
	rc = pb_http_resp_json(resp, 200, pb_proto_alerts_json(w, n));
	free(w);
	free(v);
	return rc;
}

static int alert_post(struct pb_http_req *req, struct pb_http_resp *resp)
{
	struct pb_srv *srv = pb_srv_of(req);
	struct pb_alert_row a;
	struct pb_alert_wire w;
	char state[16];
	int64_t id;
	int rc;

	if (pb_http_param_id(req, "id", &id) < 0 ||
	    pb_proto_parse_alert_state(state, req->body, req->body_len) < 0)
		return pb_http_resp_error(resp, 400, "%s", pb_error_last());
	pb_srv_db_lock(srv);
	rc = pb_db_alert_set_state(srv->db, id, state);
	if (rc == PB_OK)
		rc = pb_db_alert_get(srv->db, id, &a);
	if (rc == PB_OK)
		rc = pb_srv_db_unlock_synced(srv);
	else
		pb_srv_db_unlock(srv);
	if (rc == PB_ENOTFOUND)
		return pb_http_resp_error(resp, 404, "no alert %lld",
					  (long long)id);
	if (rc < 0)
		return pb_srv_answer_error(resp, rc);
	pb_log_info("alert %lld: %s by '%s'", (long long)id, state,
		    req->who->name);
	wire_of(&w, &a);
	return pb_http_resp_json(resp, 200, pb_proto_alert_json(&w));
}

int pb_api_merge_register(struct pb_http_server *http, struct pb_srv *srv)
{
	static const struct pb_http_route routes[] = {
		{ "POST", "/api/v1/merges", merges_post, PB_HTTP_CLIENT, 4096,
		  NULL },
		{ "GET", "/api/v1/alerts", alerts_get, PB_HTTP_CLIENT, 0,
		  NULL },
		{ "POST", "/api/v1/alerts/{id}", alert_post, PB_HTTP_CLIENT,
		  4096, NULL },
		/* open routes, read before they are verified: the server's
		 * max_body (1 MiB by default; GitHub's push payloads list
		 * 20 commits at most) */
		{ "POST", "/hooks/github", hook_github, PB_HTTP_OPEN, 0,
		  NULL },
		{ "POST", "/hooks/gitlab", hook_gitlab, PB_HTTP_OPEN, 0,
		  NULL },
	};
	int rc;

	if (!srv->sched)
		return pb_error_code(PB_ERROR, "the merge routes need the "
				     "scheduler");
	memset(&the_judge, 0, sizeof(the_judge));
	the_judge.srv = srv;
	pthread_mutex_init(&the_judge.mu, NULL);
	pthread_cond_init(&the_judge.cv, NULL);
	if ((rc = pb_http_route_add(http, routes,
				    sizeof(routes) / sizeof(routes[0]))) < 0 ||
	    (rc = pb_srv_at_stop(srv, judge_stop, &the_judge)) < 0)
		return rc;
	if (pthread_create(&the_judge.th, NULL, judge_main, &the_judge) != 0)
		return pb_error_code(PB_EINFRA, "cannot start the judge");
	the_judge.started = 1;
	return PB_OK;
}
