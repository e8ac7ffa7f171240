/*
 * proto.c - JSON encoding with jansson (see proto.h).  A NAN double is
 * encoded as null: a value that cannot be computed honestly is never
 * invented.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "proto.h"
#include "util.h"

/* A JSON string of s; bytes that are not valid UTF-8 (a hostile commit
 * subject, say) become '?', so the key is never silently dropped. */
static json_t *str(const char *s)
{
	json_t *j;
	char *c;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	c = pb_strdup(s);
	if (!c)
		return json_null();
	for (char *p = c; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(c);
	free(c);
	return j ? j : json_null();
}

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *sha_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *counter_value(enum pb_value_state st, double v)
{
	switch (st) {
	case PB_VAL_NUMBER: return num_or_null(v);
	case PB_VAL_UNSUPPORTED: return json_string("unsupported");
	case PB_VAL_NULL: break;
	}
	return json_null();
}

static char *dump(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

	json_decref(o);
	return s;
}

char *pb_proto_metrics_json(const struct pb_metrics *m)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < m->n; i++)
		json_object_set_new(o, m->kv[i].name, num_or_null(m->kv[i].value));
	return dump(o);
}

static json_t *step_json(const struct pb_step_view *s)
{
	json_t *o = json_object(), *nodes = NULL;

	if (!o)
		return NULL;
	json_object_set_new(o, "commit", json_string(s->sha));
	json_object_set_new(o, "subject",
			    str(s->subject ? s->subject : ""));
	json_object_set_new(o, "verdict", json_string(s->verdict));
	json_object_set_new(o, "runs", json_integer(s->runs));
	json_object_set_new(o, "failed_runs", json_integer(s->failed_runs));
	json_object_set_new(o, "slow_fraction", num_or_null(s->slow_fraction));
	json_object_set_new(o, "median", num_or_null(s->median));
	json_object_set_new(o, "ipc", counter_value(s->ipc_state, s->ipc));
	json_object_set_new(o, "remote_access",
			    counter_value(s->remote_state, s->remote_access));
	if (s->start_nodes_json)
		nodes = json_loads(s->start_nodes_json, 0, NULL);
	json_object_set_new(o, "start_nodes", nodes ? nodes : json_null());
	return o;
}

char *pb_proto_bisection_json(const struct pb_bisection_view *v,
			      const char *report_path)
{
	json_t *o = json_object(), *steps = json_array();

	if (!o || !steps) {
		json_decref(o);
		json_decref(steps);
		return NULL;
	}
	json_object_set_new(o, "id", json_integer(v->id));
	json_object_set_new(o, "state", json_string(v->state));
	json_object_set_new(o, "culprit", sha_or_null(v->culprit));
	if (v->range_first[0])
		json_object_set_new(o, "culprit_range",
				    json_pack("[ss]", v->range_first,
					      v->range_last));
	json_object_set_new(o, "confidence", num_or_null(v->confidence));
	json_object_set_new(o, "runs", json_integer(v->runs));
	json_object_set_new(o, "builds", json_integer(v->builds));
	json_object_set_new(o, "mode",
			    v->mode[0] ? json_string(v->mode) : json_null());
	json_object_set_new(o, "outcome",
			    str(v->outcome));
	json_object_set_new(o, "good", json_string(v->good));
	json_object_set_new(o, "bad", json_string(v->bad));
	json_object_set_new(o, "metric", str(v->metric ? v->metric : ""));
	json_object_set_new(o, "lower_is_better",
			    json_boolean(v->lower_is_better));
	if (report_path)
		json_object_set_new(o, "report", str(report_path));
	for (size_t i = 0; i < v->nsteps; i++)
		json_array_append_new(steps, step_json(&v->steps[i]));
	json_object_set_new(o, "steps", steps);
	return dump(o);
}
