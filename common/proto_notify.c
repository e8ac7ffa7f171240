/*
 * proto_notify.c - the JSON of notifications (see proto_notify.h).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto.h"
#include "proto_notify.h"

/* Like proto.c's answers: compact, ASCII only (any byte of a commit
 * subject is safe in a header-less body), 15 significant digits. */
static char *dump_notify(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII |
					    JSON_REAL_PRECISION(15))
		    : NULL;

	json_decref(o);
	return s;
}

/* A string, or null when there is none or it is not UTF-8 (names are
 * checked when registered: never expected). */
static json_t *str_or_null(const char *s)
{
	json_t *j = s ? json_string(s) : NULL;

	return j ? j : json_null();
}

char *pb_proto_notify_body(const char *delivery, const char *event,
			   double created_at, int64_t repo_id,
			   const char *repo_name, const char *data_json)
{
	json_error_t e;
	json_t *data, *o;
	char when[32];
	time_t t = (time_t)created_at;
	struct tm tm;

	if (!delivery || !event || !repo_name || !data_json ||
	    !gmtime_r(&t, &tm))
		return NULL;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	data = json_loads(data_json, JSON_REJECT_DUPLICATES, &e);
	if (!data || !json_is_object(data)) {
		json_decref(data);
		return NULL;
	}
	o = json_pack("{s:s, s:s, s:s, s:{s:I, s:o}, s:o}", "delivery",
		      delivery, "event", event, "created_at", when,
		      "repository", "id", (json_int_t)repo_id, "name",
		      str_or_null(repo_name), "data", data);
	return dump_notify(o);
}

char *pb_proto_notify_bisection_data(const struct pb_bisection_view *v,
				     const char *benchmark,
				     const char *report_path, int64_t alert)
{
	char *text = pb_proto_bisection_json(v, report_path), api[64];
	json_error_t e;
	json_t *o;

	if (!text)
		return NULL;
	o = json_loads(text, 0, &e);
	free(text);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	/* a receiver that wants the steps asks for them (GET "api") */
	json_object_del(o, "steps");
	snprintf(api, sizeof(api), "/api/v1/bisections/%lld", (long long)v->id);
	if (json_object_set_new(o, "benchmark", str_or_null(benchmark)) < 0 ||
	    json_object_set_new(o, "repo", str_or_null(v->repo)) < 0 ||
	    json_object_set_new(o, "api", json_string(api)) < 0 ||
	    json_object_set_new(o, "alert",
				alert > 0 ? json_integer((json_int_t)alert)
					  : json_null()) < 0) {
		json_decref(o);
		return NULL;
	}
	return dump_notify(o);
}
