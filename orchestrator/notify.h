/*
 * notify.h - notifications: messages to a repository's notify_url, kept in
 * an outbox table until they are delivered (schema 0014;
 * docs/notifications.md).
 *
 * An event is announced by writing its message in the same transaction
 * that stores the event: pb_notify_enqueue() inside the caller's
 * pb_db_begin() ... pb_db_commit() (it joins it: begin nests), so a
 * rollback takes the message back with the event, and a committed event
 * always has its message.  perfbisectd's delivery thread
 * (orchestrator/server/notify_send.c) posts pending messages, signed with
 * the repository's webhook_secret, and retries with back-off until a 2xx
 * answer or the settings' limits; the rows survive a restart.
 *
 * Events: "bisection.ended" (pb_notify_bisection_ended(), called by the
 * scheduler where a bisection ends: finished, cancelled or failed) and
 * "alert.raised" (called by whoever raises an alert).
 *
 * Errors as db.h: PB_EINFRA (the database), PB_EINVAL (a bad argument: a
 * data text that is not a JSON object, an event name outside
 * [a-z0-9._-]{1,64}), PB_ENOTFOUND (no such repository or bisection).
 */
#ifndef PB_NOTIFY_H
#define PB_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"
#include "orchestrator/db.h"

/* The event names perfbisectd sends. */
#define PB_NOTIFY_BISECTION_ENDED "bisection.ended"
#define PB_NOTIFY_ALERT_RAISED "alert.raised"

/* Queues one message for repository repo_id when it has a notify_url;
 * when it has none, does nothing and returns PB_OK.  `data_json` is the
 * text of a JSON object, the event's own data: the message sent is
 *   {"delivery": ID, "event": EVENT, "created_at": ISO-8601,
 *    "repository": {"id", "name"}, "data": DATA}
 * with a fresh random delivery id; it is stored as the exact bytes every
 * attempt sends.  Call it inside the transaction that stores the event
 * (with the connection's lock held, as for any db.h call); nothing is
 * sent before that transaction commits.  Borrowed arguments only: the
 * caller keeps and frees data_json. */
int pb_notify_enqueue(struct pb_db *db, int64_t repo_id, const char *event,
		      const char *data_json);

/* Queues "bisection.ended" for bisection `id`, read back as stored (call
 * it after the end is written, in the same transaction): its state
 * (done, failed, cancelled), verdict, culprit, confidence, ends,
 * benchmark, verification and the report page's path; see
 * pb_proto_notify_bisection_data(). */
int pb_notify_bisection_ended(struct pb_db *db, int64_t id);

/* Queues "alert.raised" for alert `alert_id`, read back as stored (call
 * it in the transaction that stores the alert): the alert as GET
 * /api/v1/alerts lists it. */
int pb_notify_alert_raised(struct pb_db *db, int64_t alert_id);
/* The alert as the API and the notifications send it (its strings are
 * a's). */
void pb_notify_alert_wire(struct pb_alert_wire *w,
			  const struct pb_alert_row *a);

/* "sha256=" and the lowercase hex HMAC-SHA256 of body with the secret, as
 * GitHub's X-Hub-Signature-256 (OpenSSL's HMAC()); out holds 72 bytes.
 * PB_ERROR when OpenSSL fails. */
#define PB_NOTIFY_SIGNATURE_LEN (7 + 64)
int pb_notify_sign(char out[PB_NOTIFY_SIGNATURE_LEN + 1], const char *secret,
		   const void *body, size_t len);

/* The wait before the attempt after `attempts` failed ones (1 or more):
 * first_s doubled per further failure, at most max_s, then scaled by
 * "equal jitter" into [d/2, d): u is a uniform number in [0, 1). */
double pb_notify_backoff(double first_s, double max_s, unsigned attempts,
			 double u);

#endif
