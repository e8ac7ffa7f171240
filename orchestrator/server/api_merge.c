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
 * tracked branch is stored (schema 0015) and answered 202 at once; the
 * judging thread fetches and schedules its head commit as POST
 * /api/v1/merges does, and GET /api/v1/pushes/ID says what became of it.
 * Tag pushes, deletions and other branches are acknowledged (202) and
 * ignored, the answer saying so.  A delivery id seen before stores
 * nothing (and merges are idempotent anyway).
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
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
	int started;
	atomic_int stopping;   /* read by the loops without the mutex */
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
		/* the pushes hooks stored, then every series with new
		 * measurements, then the alerts' bisections */
		while ((rc = pb_sched_pushes(j->srv->sched)) == 1 &&
		       !j->stopping)
			;
		if (rc < 0)
			pb_log_warnx("scheduling pushes: %s", pb_error_last());
		while ((rc = pb_sched_judge(j->srv->sched)) == 1 &&
		       !j->stopping)
			;
		if (rc < 0)
			pb_log_warnx("judging series: %s", pb_error_last());
		if (pb_sched_auto(j->srv->sched) < 0)
			pb_log_warnx("starting alerts' bisections: %s",
				     pb_error_last());
		while ((rc = pb_sched_culprit_files(j->srv->sched)) == 1 &&
		       !j->stopping)
			;
		if (rc < 0)
			pb_log_warnx("listing culprits' files: %s",
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

/* A push was stored: the judge takes it now, not at its next round. */
static void judge_wake(struct judge *j)
{
	pthread_mutex_lock(&j->mu);
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
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


static int merges_post(struct pb_http_req *req, struct pb_http_resp *resp)
{
	struct pb_srv *srv = pb_srv_of(req);
	struct pb_merge_req m;
	struct pb_sched_merge_req q;
	struct pb_sched_merge_res r;
	struct pb_merge_answer a;
	int rc;

	if (pb_proto_parse_merge_req(&m, req->body, req->body_len) < 0)
		return pb_http_resp_error(resp, 400, "%s", pb_error_last());
	q = (struct pb_sched_merge_req){ m.repo, m.commit, "api" };
	rc = pb_sched_merge(srv->sched, &q, &r);
	pb_merge_req_release(&m);
	if (rc < 0)
		return pb_srv_answer_error(resp, rc);
	a = (struct pb_merge_answer){ .jobs = r.jobs,
				      .benchmarks = r.benchmarks,
				      .skipped = r.skipped,
				      .commit = r.commit };
	return pb_http_resp_json(resp, 202, pb_proto_merge_answer_json(&a));
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

/* A hook's answer (202): the push stored (push > 0), or nothing to do and
 * why. */
static int answer_hook(struct pb_http_resp *resp, const char *commit,
		       int64_t push, int duplicate, const char *ignored)
{
	struct pb_merge_answer a = { .hook = 1, .push = push,
				     .duplicate = duplicate,
				     .commit = commit, .ignored = ignored };

	return pb_http_resp_json(resp, 202, pb_proto_merge_answer_json(&a));
}

/* A verified push to the tracked branch is stored and answered at once:
 * the judging thread fetches and schedules it (pb_sched_pushes), so no
 * hook waits on a fetch (GitHub gives a hook 10 s). */
static int push(struct pb_http_req *req, struct pb_http_resp *resp,
		int gitlab)
{
	struct pb_srv *srv = pb_srv_of(req);
	const char *src = gitlab ? "gitlab" : "github";
	struct pb_repo_row repo;
	struct pb_push p;
	const char *event, *delivery;
	char why[400], ref[300];
	int64_t id;
	int rc, answered;

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
	if (delivery && (!delivery[0] || strlen(delivery) > 200)) {
		rc = pb_http_resp_error(resp, 400, "the delivery id must be 1 "
					"to 200 characters");
		goto out;
	}
	if (!gitlab && event && !strcmp(event, "ping")) {
		rc = answer_hook(resp, NULL, 0, 0, "a ping: nothing to measure");
		goto out;
	}
	if (event && strcmp(event, gitlab ? "Push Hook" : "push")) {
		snprintf(why, sizeof(why), "event '%.100s' is not a push",
			 event);
		rc = answer_hook(resp, NULL, 0, 0, why);
		goto out;
	}
	if (pb_proto_parse_push(&p, req->body, req->body_len, gitlab) < 0) {
		rc = pb_http_resp_error(resp, 400, "%s", pb_error_last());
		goto out;
	}
	snprintf(ref, sizeof(ref), "refs/heads/%s",
		 repo.branch ? repo.branch : "");
	if (!strncmp(p.ref, "refs/tags/", 10)) {
		rc = answer_hook(resp, NULL, 0, 0, "a tag push: only pushes to "
				 "the tracked branch are measured");
		goto out;
	}
	if (repo.branch && strcmp(p.ref, ref)) {
		snprintf(why, sizeof(why), "a push to '%.100s': the tracked "
			 "branch is '%.100s'", p.ref, repo.branch);
		rc = answer_hook(resp, NULL, 0, 0, why);
		goto out;
	}
	if (p.deleted) {
		rc = answer_hook(resp, NULL, 0, 0,
				 "the push deleted the branch");
		goto out;
	}
	rc = pb_sched_push(srv->sched, repo.id, src, delivery, p.after,
			   p.forced, &id);
	if (rc < 0) {
		rc = pb_srv_answer_error(resp, rc);
		goto out;
	}
	if (id)
		judge_wake(&the_judge);
	rc = answer_hook(resp, p.after, id, !id,
			 id ? NULL : "a delivery seen before");
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

static int pushes_get(struct pb_http_req *req, struct pb_http_resp *resp)
{
	struct pb_srv *srv = pb_srv_of(req);
	struct pb_push_row p;
	struct pb_push_wire w;
	int64_t id;
	int rc;

	if (pb_http_param_id(req, "id", &id) < 0)
		return pb_http_resp_error(resp, 400, "%s", pb_error_last());
	pb_srv_db_lock(srv);
	rc = pb_db_push_get(srv->db, id, &p);
	pb_srv_db_unlock(srv);
	if (rc == PB_ENOTFOUND)
		return pb_http_resp_error(resp, 404, "no push %lld",
					  (long long)id);
	if (rc < 0)
		return pb_srv_answer_error(resp, rc);
	w = (struct pb_push_wire){ p.id, p.repo, p.source, p.head, p.state,
				   p.forced, p.attempts, p.jobs, p.note,
				   p.created_at, p.done_at };
	return pb_http_resp_json(resp, 200, pb_proto_push_json(&w));
}

/* ---- alerts ---- */

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
		pb_notify_alert_wire(&w[i], &v[i]);
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
	pb_notify_alert_wire(&w, &a);
	return pb_http_resp_json(resp, 200, pb_proto_alert_json(&w));
}

int pb_api_merge_register(struct pb_http_server *http, struct pb_srv *srv)
{
	static const struct pb_http_route routes[] = {
		{ "POST", "/api/v1/merges", merges_post, PB_HTTP_CLIENT, 4096,
		  NULL },
		{ "GET", "/api/v1/pushes/{id}", pushes_get, PB_HTTP_CLIENT,
		  0, NULL },
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
