/*
 * proto_notify.h - the JSON of perfbisectd's notifications
 * (docs/notifications.md).  Part of the wire format proto.h keeps in one
 * place; a file of its own only so that it can grow apart from the API's
 * bodies.  Callers hand plain values in and get malloc'd text out (free
 * with free()), NULL when memory runs out or the input is not what is
 * described.
 */
#ifndef PB_PROTO_NOTIFY_H
#define PB_PROTO_NOTIFY_H

#include <stdint.h>

#include "model.h"

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

#endif
