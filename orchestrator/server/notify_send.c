/*
 * notify_send.c - the delivery thread of notifications (see notify_send.h,
 * orchestrator/notify.h, docs/notifications.md).
 *
 * Every second, and straight after each attempt, the thread takes the
 * pending message due first from the outbox (under the server's database
 * lock, held for the read only), posts it, and stores what came of it
 * (under the lock again): never network I/O with the database held.  One
 * message at a time, so a receiver that hangs holds the others back for
 * notify_timeout_s at most.
 *
 * An attempt: the URL is checked again against the rules of registration
 * (urlrule.h: allow_private_notify may have been turned off since), the
 * body signed with the repository's current webhook_secret, and posted
 * with Content-Type: application/json, X-Perfbisect-Event,
 * X-Perfbisect-Delivery and X-Perfbisect-Signature-256.  A 2xx answer
 * delivers it.  Anything else - no connection, a timeout, a redirect
 * (never followed), any other status - is retried after
 * pb_notify_backoff() (notify_retry_s doubling up to notify_retry_max_s,
 * with jitter), until notify_max_attempts attempts or notify_give_up_s
 * of age, when it is given up: kept as 'failed' with its last error, and
 * logged.  A URL refused by the rules, or a repository without a secret,
 * gives it up at once.
 *
 * Security: only http and https; no proxy from the environment; the
 * address curl is about to connect to is checked with pb_addr_is_private()
 * (a host name may resolve to a private address) unless
 * allow_private_notify; connect and total timeouts; at most
 * ANSWER_MAX bytes of an answer are read (the rest is cut off: the status
 * decides).  Log lines name a URL by scheme, host and port only: the
 * path of a hook URL is often its secret.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <curl/curl.h>
#include <math.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "orchestrator/notify.h"
#include "orchestrator/server/notify_send.h"
#include "orchestrator/server/urlrule.h"

/* What is read of a receiver's answer at most. */
#define ANSWER_MAX (64 * 1024)
/* What of it is kept as the last error. */
#define ERROR_KEEP 300

struct sender {
	struct pb_srv *srv;
	pthread_t th;
	int started, curl_ready;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_int stopping;
};

/* One per process (main.c registers it once). */
static struct sender the;

/* ---- one attempt ---- */

struct answer {
	char body[ANSWER_MAX + 1];
	size_t len;
	int cut;                     /* more came than ANSWER_MAX */
};

struct attempt {
	int allow_private;
	int refused;                 /* the address was private */
	char refused_addr[64];
	struct answer *ans;
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct answer *a = ctx;
	size_t len = size * n;

	if (len > ANSWER_MAX - a->len) {
		a->cut = 1;
		return 0; /* aborts the transfer: the status is known */
	}
	memcpy(a->body + a->len, p, len);
	a->len += len;
	a->body[a->len] = '\0';
	return len;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn,
		       curl_off_t ut, curl_off_t un)
{
	(void)ctx;
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return atomic_load(&the.stopping) ? 1 : 0;
}

static void addr_string(char *out, size_t size, const struct sockaddr *sa)
{
	const void *a = sa->sa_family == AF_INET6
				? (const void *)&((const struct sockaddr_in6 *)
							  sa)->sin6_addr
				: (const void *)&((const struct sockaddr_in *)
							  sa)->sin_addr;

	if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    !inet_ntop(sa->sa_family, a, out, (socklen_t)size))
		snprintf(out, size, "an address of family %d", sa->sa_family);
}

/* The socket curl connects with, when the address may be reached. */
static curl_socket_t open_socket(void *ctx, curlsocktype purpose,
				 struct curl_sockaddr *a)
{
	struct attempt *at = ctx;

	(void)purpose;
	if (!at->allow_private && pb_addr_is_private(&a->addr)) {
		at->refused = 1;
		addr_string(at->refused_addr, sizeof(at->refused_addr),
			    &a->addr);
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* "scheme://host[:port]" of url, for the log. */
static void url_origin(char *out, size_t size, const char *url)
{
	const char *p = strstr(url, "://");
	size_t n = p ? (size_t)(p + 3 - url) + strcspn(p + 3, "/?#")
		     : strlen(url);

	snprintf(out, size, "%.*s", (int)n, url);
	/* no user info in the log either */
	if (p) {
		char *at = strchr(out, '@');

		if (at) {
			size_t head = (size_t)(p + 3 - url);

			memmove(out + head, at + 1, strlen(at + 1) + 1);
		}
	}
}

/* Printable text of the answer's start, for last_error. */
static void answer_excerpt(char *out, size_t size, const struct answer *a)
{
	size_t k = 0;

	for (size_t i = 0; i < a->len && k + 1 < size; i++) {
		unsigned char c = (unsigned char)a->body[i];

		out[k++] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
	}
	out[k] = '\0';
}

/* Posts message m signed with secret: 0 delivered, else -1 with the
 * reason in err; *status the HTTP status (-1: none); *stopped when the
 * server is stopping (the attempt does not count). */
static int post(const struct pb_outbox_row *m, const char *secret,
		int allow_private, long timeout_s, int *status, int *stopped,
		char *err, size_t errsize)
{
	char sig[PB_NOTIFY_SIGNATURE_LEN + 1], curl_err[CURL_ERROR_SIZE];
	struct pb_buf h = PB_BUF_INIT(4096);
	struct curl_slist *hdr = NULL, *t;
	struct attempt at;
	struct answer *ans = NULL;
	CURL *c = NULL;
	CURLcode cc;
	long code = 0;
	int rc = -1;
	static const char *const fixed[] = {
		"Content-Type: application/json",
		"Expect:", /* no 100-continue round trip */
	};

	*status = -1;
	*stopped = 0;
	memset(&at, 0, sizeof(at));
	at.allow_private = allow_private;
	if (pb_notify_sign(sig, secret, m->body, m->body_len) < 0) {
		snprintf(err, errsize, "%s", pb_error_last());
		return -1;
	}
	ans = calloc(1, sizeof(*ans));
	if (!ans || !(c = curl_easy_init())) {
		snprintf(err, errsize, "out of memory");
		goto out;
	}
	at.ans = ans;
	if (pb_buf_printf(&h, "X-Perfbisect-Event: %s", m->event) < 0 ||
	    !(hdr = curl_slist_append(NULL, h.ptr))) {
		snprintf(err, errsize, "out of memory");
		goto out;
	}
	pb_buf_reset(&h);
	if (pb_buf_printf(&h, "X-Perfbisect-Delivery: %s", m->delivery) < 0 ||
	    !(t = curl_slist_append(hdr, h.ptr))) {
		snprintf(err, errsize, "out of memory");
		goto out;
	}
	hdr = t;
	pb_buf_reset(&h);
	if (pb_buf_printf(&h, "X-Perfbisect-Signature-256: %s", sig) < 0 ||
	    !(t = curl_slist_append(hdr, h.ptr))) {
		snprintf(err, errsize, "out of memory");
		goto out;
	}
	hdr = t;
	for (size_t i = 0; i < PB_ARRAY_SIZE(fixed); i++) {
		if (!(t = curl_slist_append(hdr, fixed[i]))) {
			snprintf(err, errsize, "out of memory");
			goto out;
		}
		hdr = t;
	}
	curl_err[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, m->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "perfbisectd");
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, m->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)m->body_len);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout_s < 5 ? timeout_s
								 : 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, ans);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &at);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code > 0)
		*status = (int)code;
	if (cc == CURLE_ABORTED_BY_CALLBACK && atomic_load(&the.stopping)) {
		*stopped = 1;
		snprintf(err, errsize, "perfbisectd stopped during the attempt");
	} else if (at.refused) {
		snprintf(err, errsize,
			 "refused to connect to %s: a loopback or private "
			 "address (allow_private_notify is off)",
			 at.refused_addr);
	} else if ((cc == CURLE_OK || (cc == CURLE_WRITE_ERROR && ans->cut)) &&
		   code >= 200 && code < 300) {
		rc = 0;
	} else if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && ans->cut)) {
		snprintf(err, errsize, "%s",
			 curl_err[0] ? curl_err : curl_easy_strerror(cc));
	} else {
		char ex[ERROR_KEEP];

		answer_excerpt(ex, sizeof(ex), ans);
		snprintf(err, errsize, "HTTP %ld%s%s%s", code,
			 code >= 300 && code < 400
				 ? " (redirects are not followed)"
				 : "",
			 ex[0] ? ": " : "", ex);
	}
out:
	if (c)
		curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	pb_buf_release(&h);
	free(ans);
	return rc;
}

/* ---- the loop ---- */

static double jitter(void)
{
	uint32_t r;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		return 0.5;
	return (double)r / 4294967296.0;
}

/* Sends the message due first, if any: 1 when one was tried (look for
 * another), 0 when none is due, < 0 on a database error. */
static int deliver_one(struct sender *sd)
{
	const struct pb_config *cfg = sd->srv->cfg;
	struct pb_outbox_row m;
	struct pb_repo_row repo;
	struct pb_db *db;
	enum pb_outbox_outcome outcome;
	char err[512], origin[256];
	double now = pb_now_real(), next = NAN;
	int rc, status = -1, stopped = 0, permanent = 0;
	unsigned attempts;

	memset(&repo, 0, sizeof(repo));
	db = pb_srv_db_lock(sd->srv);
	rc = pb_db_outbox_due(db, now, &m);
	if (rc == PB_OK &&
	    (rc = pb_db_repo_get_by_id(db, m.repo_id, &repo)) < 0)
		pb_outbox_row_release(&m);
	pb_srv_db_unlock(sd->srv);
	if (rc == PB_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;

	url_origin(origin, sizeof(origin), m.url);
	err[0] = '\0';
	if (pb_url_check_notify(m.url, cfg->allow_private_notify) < 0) {
		snprintf(err, sizeof(err), "%s", pb_error_last());
		permanent = 1;
	} else if (!repo.webhook_secret || !*repo.webhook_secret) {
		snprintf(err, sizeof(err),
			 "repository '%s' has no webhook_secret: "
			 "notifications are signed with it",
			 repo.name);
		permanent = 1;
	} else if (post(&m, repo.webhook_secret, cfg->allow_private_notify,
			(long)cfg->notify_timeout_s, &status, &stopped, err,
			sizeof(err)) == 0) {
		err[0] = '\0';
	}
	if (stopped) {
		pb_outbox_row_release(&m);
		pb_repo_row_release(&repo);
		return 0;
	}
	now = pb_now_real();
	attempts = m.attempts + 1;
	if (!err[0])
		outcome = PB_OUTBOX_DELIVERED;
	else if (permanent || attempts >= (unsigned)cfg->notify_max_attempts ||
		 now - m.created_at >= (double)cfg->notify_give_up_s)
		outcome = PB_OUTBOX_GAVE_UP;
	else {
		outcome = PB_OUTBOX_RETRY;
		next = now + pb_notify_backoff((double)cfg->notify_retry_s,
					       (double)cfg->notify_retry_max_s,
					       attempts, jitter());
	}
	db = pb_srv_db_lock(sd->srv);
	rc = pb_db_outbox_attempted(db, m.id, outcome, status,
				    err[0] ? err : NULL, now, next);
	{
		int src = pb_srv_db_unlock_synced(sd->srv);

		rc = rc < 0 ? rc : src;
	}
	switch (outcome) {
	case PB_OUTBOX_DELIVERED:
		pb_log_info("notification %lld (%s, delivery %s) delivered to "
			    "%s: HTTP %d after %u attempt%s",
			    (long long)m.id, m.event, m.delivery, origin,
			    status, attempts, attempts == 1 ? "" : "s");
		break;
	case PB_OUTBOX_RETRY:
		pb_log_info("notification %lld (%s) to %s: attempt %u "
			    "failed: %s; next in %.1f s",
			    (long long)m.id, m.event, origin, attempts, err,
			    next - now);
		break;
	case PB_OUTBOX_GAVE_UP:
		pb_log_warnx("notification %lld (%s, delivery %s) to %s given "
			     "up after %u attempt%s: %s",
			     (long long)m.id, m.event, m.delivery, origin,
			     attempts, attempts == 1 ? "" : "s", err);
		break;
	}
	pb_outbox_row_release(&m);
	pb_repo_row_release(&repo);
	return rc < 0 ? rc : 1;
}

static void *sender_main(void *arg)
{
	struct sender *sd = arg;

	pthread_mutex_lock(&sd->mu);
	while (!atomic_load(&sd->stopping)) {
		struct timespec ts;
		int rc = 0;

		pthread_mutex_unlock(&sd->mu);
		while (!atomic_load(&sd->stopping) &&
		       (rc = deliver_one(sd)) > 0)
			;
		if (!atomic_load(&sd->stopping) && rc < 0)
			pb_log_warnx("notifications: %s", pb_error_last());
		pthread_mutex_lock(&sd->mu);
		if (atomic_load(&sd->stopping))
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&sd->cv, &sd->mu, &ts);
	}
	pthread_mutex_unlock(&sd->mu);
	return NULL;
}

static void sender_stop(void *arg)
{
	struct sender *sd = arg;

	if (sd->started) {
		pthread_mutex_lock(&sd->mu);
		atomic_store(&sd->stopping, 1);
		pthread_cond_signal(&sd->cv);
		pthread_mutex_unlock(&sd->mu);
		pthread_join(sd->th, NULL);
		sd->started = 0;
	}
	if (sd->curl_ready)
		curl_global_cleanup();
	sd->curl_ready = 0;
	pthread_cond_destroy(&sd->cv);
	pthread_mutex_destroy(&sd->mu);
}

int pb_notify_register(struct pb_http_server *http, struct pb_srv *srv)
{
	int rc;

	(void)http;
	memset(&the, 0, sizeof(the));
	the.srv = srv;
	atomic_init(&the.stopping, 0);
	pthread_mutex_init(&the.mu, NULL);
	pthread_cond_init(&the.cv, NULL);
	if ((rc = pb_srv_at_stop(srv, sender_stop, &the)) < 0) {
		pthread_cond_destroy(&the.cv);
		pthread_mutex_destroy(&the.mu);
		return rc;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return pb_error_code(PB_EINFRA, "cannot initialise libcurl");
	the.curl_ready = 1;
	if (pthread_create(&the.th, NULL, sender_main, &the) != 0)
		return pb_error_code(PB_EINFRA,
				     "cannot start the notification thread");
	the.started = 1;
	return PB_OK;
}
