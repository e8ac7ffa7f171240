/*
 * notify.c - messages into the outbox (see notify.h).
 *
 * The body is made once, here, and stored as bytes: every attempt sends
 * the same bytes with the same delivery id, so a receiver that got a
 * message whose answer was lost recognises the copy.  The signature is
 * computed at sending time (notify_send.c), with the secret the repository
 * has then.
 */
#include <math.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/proto.h"
#include "common/util.h"
#include "orchestrator/notify.h"

static int event_ok(const char *e)
{
	size_t n = e ? strlen(e) : 0;

	if (n == 0 || n > 64)
		return 0;
	for (; *e; e++)
		if (!((*e >= 'a' && *e <= 'z') || (*e >= '0' && *e <= '9') ||
		      *e == '.' || *e == '_' || *e == '-'))
			return 0;
	return 1;
}

/* A random UUID (version 4) as 36 characters. */
static int new_delivery_id(char out[37])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return pb_error_code(PB_EINFRA, "no random bytes for a "
				     "delivery id");
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
	return PB_OK;
}

int pb_notify_enqueue(struct pb_db *db, int64_t repo_id, const char *event,
		      const char *data_json)
{
	struct pb_repo_row repo;
	struct pb_outbox_new m;
	char delivery[37], *body = NULL;
	double now = pb_now_real();
	int rc;

	if (!event_ok(event))
		return pb_error_code(PB_EINVAL, "notification event '%s': "
				     "want 1 to 64 of a-z 0-9 . _ -",
				     event ? event : "(null)");
	if ((rc = pb_db_repo_get_by_id(db, repo_id, &repo)) < 0)
		return rc == PB_ENOTFOUND
			       ? pb_error_code(PB_ENOTFOUND,
					       "notification: no repository "
					       "%lld", (long long)repo_id)
			       : rc;
	if (!repo.notify_url || !*repo.notify_url) {
		pb_repo_row_release(&repo);
		return PB_OK;
	}
	if ((rc = new_delivery_id(delivery)) < 0)
		goto out;
	body = pb_proto_notify_body(delivery, event, now, repo.id, repo.name,
				    data_json);
	if (!body) {
		rc = pb_error_code(PB_EINVAL, "notification '%s': its data "
				   "is not a JSON object (or memory ran out)",
				   event);
		goto out;
	}
	m = (struct pb_outbox_new){ delivery, repo.id, repo.notify_url,
				    event, body, strlen(body), now, now };
	if ((rc = pb_db_begin(db)) < 0)
		goto out;
	if ((rc = pb_db_outbox_add(db, &m, NULL)) < 0) {
		pb_db_rollback(db);
		goto out;
	}
	rc = pb_db_commit(db);
out:
	free(body);
	pb_repo_row_release(&repo);
	return rc;
}

int pb_notify_bisection_ended(struct pb_db *db, int64_t id)
{
	struct pb_bisection_row row;
	struct pb_bench_row bench;
	struct pb_bisection_view *v = NULL;
	char report[64], *data = NULL;
	int64_t alert = 0;
	int rc;

	memset(&bench, 0, sizeof(bench));
	if ((rc = pb_db_bisection_row(db, id, &row)) < 0)
		return rc;
	if ((rc = pb_db_bench_by_id(db, row.bench_id, &bench)) < 0 ||
	    (rc = pb_db_bisection_load(db, id, &v)) < 0)
		goto out;
	/* the page the scheduler writes when a bisection ends, served by
	 * perfbisectd under /report/ (api_service.c says the same) */
	snprintf(report, sizeof(report), "/report/bisection-%lld.html",
		 (long long)id);
	if ((rc = pb_db_bisection_alert(db, id, &alert)) < 0)
		goto out;
	data = pb_proto_notify_bisection_data(v, bench.name, report, alert);
	if (!data) {
		rc = pb_error_code(PB_EINFRA, "out of memory");
		goto out;
	}
	rc = pb_notify_enqueue(db, row.repo_id, PB_NOTIFY_BISECTION_ENDED,
			       data);
out:
	free(data);
	pb_bisection_view_free(v);
	pb_bench_row_release(&bench);
	return rc;
}

void pb_notify_alert_wire(struct pb_alert_wire *w,
			  const struct pb_alert_row *a)
{
	*w = (struct pb_alert_wire){
		.id = a->id, .bisection = a->bisection_id, .repo = a->repo,
		.benchmark = a->bench, .good = a->good, .bad = a->bad,
		.mode = a->mode, .state = a->state, .machine = a->machine,
		.note = a->note, .culprit = a->culprit, .verdict = a->verdict,
		.change = a->change, .p_value = a->p_value, .before = a->before,
		.after = a->after, .created_at = a->created_at,
	};
}

int pb_notify_alert_raised(struct pb_db *db, int64_t alert_id)
{
	struct pb_alert_row a;
	struct pb_alert_wire w;
	char *data;
	int rc;

	if ((rc = pb_db_alert_get(db, alert_id, &a)) < 0)
		return rc;
	pb_notify_alert_wire(&w, &a);
	if (!(data = pb_proto_alert_json(&w)))
		return pb_error_code(PB_EINFRA, "out of memory");
	rc = pb_notify_enqueue(db, a.repo_id, PB_NOTIFY_ALERT_RAISED, data);
	free(data);
	return rc;
}

int pb_notify_sign(char out[PB_NOTIFY_SIGNATURE_LEN + 1], const char *secret,
		   const void *body, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	out[0] = '\0';
	if (!HMAC(EVP_sha256(), secret, (int)strlen(secret),
		  (const unsigned char *)(len ? body : ""), len, md, &n) ||
	    n != 32)
		return pb_error_code(PB_ERROR, "HMAC-SHA256 failed");
	memcpy(out, "sha256=", 7);
	for (unsigned i = 0; i < n; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[7 + 2 * i + 1] = hex[md[i] & 15];
	}
	out[PB_NOTIFY_SIGNATURE_LEN] = '\0';
	OPENSSL_cleanse(md, sizeof(md));
	return PB_OK;
}

double pb_notify_backoff(double first_s, double max_s, unsigned attempts,
			 double u)
{
	double d = first_s;

	for (unsigned i = 1; i < attempts && d < max_s; i++)
		d *= 2;
	if (d > max_s)
		d = max_s;
	if (!(u >= 0) || u >= 1)
		u = 0;
	return d / 2 + d / 2 * u;
}
