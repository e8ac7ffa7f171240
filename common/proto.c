/*
 * proto.c - JSON with jansson (see proto.h): the encoding of results and
 * run records, and perfbisectd's request bodies and answers.  A NAN
 * double is encoded as null: a value that cannot be computed honestly is
 * never invented.
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "proto.h"
#include "record.h"
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

static json_t *count_or_null(int v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

static json_t *counts_json(int slow, int fast)
{
	if (slow < 0 || fast < 0)
		return json_null();
	return json_pack("{s:i, s:i}", "slow", slow, "fast", fast);
}

/* The engine's model and diagnostics: "model" in the JSON output. */
/* Whether a counter moved with the metric in the verification's pairs:
 * key {"change", "interval", "moved", "pairs"}, or "unsupported" with
 * key_note the machine's reason, or null when not described. */
static void move_set(json_t *o, const char *key,
		     const struct pb_counter_move *m)
{
	char note[64];
	int moved = pb_counter_moved(m);

	if (m->state == PB_VAL_UNSUPPORTED) {
		json_object_set_new(o, key, json_string("unsupported"));
		snprintf(note, sizeof(note), "%s_note", key);
		json_object_set_new(o, note, json_string(m->note));
		return;
	}
	if (m->state != PB_VAL_NUMBER) {
		json_object_set_new(o, key, json_null());
		return;
	}
	json_object_set_new(
		o, key,
		json_pack("{s:o, s:o, s:o, s:i}", "change",
			  num_or_null(m->change), "interval",
			  isnan(m->lo) || isnan(m->hi)
				  ? json_null()
				  : json_pack("[ff]", m->lo, m->hi),
			  "moved", moved < 0 ? json_null() : json_boolean(moved),
			  "pairs", (int)m->pairs));
}

static json_t *stats_json(const struct pb_stats_view *sv)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "fast_mode", num_or_null(sv->fast_mode));
	json_object_set_new(o, "slow_mode", num_or_null(sv->slow_mode));
	json_object_set_new(o, "ashman_d", num_or_null(sv->ashman_d));
	json_object_set_new(o, "slow_fraction_good", num_or_null(sv->q0));
	json_object_set_new(o, "slow_fraction_bad", num_or_null(sv->q1));
	json_object_set_new(o, "dip_p", num_or_null(sv->dip_p));
	json_object_set_new(o, "good_end_bimodal",
			    sv->good_bimodal < 0
				    ? json_null()
				    : json_boolean(sv->good_bimodal));
	json_object_set_new(o, "good_dip_p", num_or_null(sv->good_dip_p));
	json_object_set_new(o, "mwu_p", num_or_null(sv->mwu_p));
	json_object_set_new(o, "ks_p", num_or_null(sv->ks_p));
	return o;
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
	json_object_set_new(o, "slow", count_or_null(s->slow));
	json_object_set_new(o, "fast", count_or_null(s->fast));
	json_object_set_new(o, "p_bad", num_or_null(s->p_bad));
	json_object_set_new(o, "median", num_or_null(s->median));
	json_object_set_new(o, "ipc", counter_value(s->ipc_state, s->ipc));
	json_object_set_new(o, "remote_access",
			    counter_value(s->remote_state, s->remote_access));
	/* Why a counter is "unsupported": the machine's own words. */
	if (s->ipc_state == PB_VAL_UNSUPPORTED && s->ipc_note)
		json_object_set_new(o, "ipc_note", str(s->ipc_note));
	if (s->remote_state == PB_VAL_UNSUPPORTED && s->remote_note)
		json_object_set_new(o, "remote_access_note",
				    str(s->remote_note));
	if (s->start_nodes_json)
		nodes = json_loads(s->start_nodes_json, 0, NULL);
	json_object_set_new(o, "start_nodes", nodes ? nodes : json_null());
	json_object_set_new(o, "disturbed", json_integer(s->disturbed));
	json_object_set_new(o, "interference", num_or_null(s->interference));
	/* only where the commit maps its parent's code (DESIGN.md) */
	if (s->identical_to[0])
		json_object_set_new(o, "identical_to",
				    json_string(s->identical_to));
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
	json_object_set_new(o, "state", json_string(v->cancelled
							    ? "cancelled"
							    : v->state));
	json_object_set_new(o, "verdict", v->verdict[0] ? json_string(v->verdict)
							: json_null());
	json_object_set_new(o, "culprit", sha_or_null(v->culprit));
	if (v->range_first[0])
		json_object_set_new(o, "culprit_range",
				    json_pack("[ss]", v->range_first,
					      v->range_last));
	json_object_set_new(o, "confidence", num_or_null(v->confidence));
	json_object_set_new(o, "confidence_asked",
			    num_or_null(v->confidence_asked));
	json_object_set_new(o, "credible_interval",
			    v->stats.ci_first[0]
				    ? json_pack("[ss]", v->stats.ci_first,
						v->stats.ci_last)
				    : json_null());
	json_object_set_new(o, "evidence",
			    v->stats.culprit_slow < 0
				    ? json_null()
				    : json_pack("{s:o, s:o}", "culprit",
						counts_json(v->stats.culprit_slow,
							    v->stats.culprit_fast),
						"parent",
						counts_json(v->stats.parent_slow,
							    v->stats.parent_fast)));
	json_object_set_new(o, "model", stats_json(&v->stats));
	if (v->verification.commit[0]) {
		const struct pb_verification_view *w = &v->verification;
		json_t *vo = json_pack(
			"{s:s, s:i, s:i, s:o, s:o, s:o, s:b}", "commit",
			w->commit, "attempts", (int)w->attempts, "pairs",
			(int)w->pairs, "effect", num_or_null(w->effect),
			"interval",
			isnan(w->lo) || isnan(w->hi)
				? json_null()
				: json_pack("[ff]", w->lo, w->hi),
			"p", num_or_null(w->p), "confirmed", w->confirmed);

		if (vo) {
			move_set(vo, "ipc", &w->ipc);
			move_set(vo, "remote_access", &w->remote);
		}
		json_object_set_new(o, "verification", vo);
	} else {
		json_object_set_new(o, "verification", json_null());
	}
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

char *pb_proto_detect_json(const struct pb_detect_point *points, size_t n)
{
	json_t *o = json_object(), *cps = json_array();

	if (!o || !cps) {
		json_decref(o);
		json_decref(cps);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const struct pb_detect_point *p = &points[i];
		json_t *c = json_object();

		if (!c) {
			json_decref(o);
			json_decref(cps);
			return NULL;
		}
		json_object_set_new(c, "index",
				    json_integer((json_int_t)p->index));
		json_object_set_new(c, "commit", str(p->commit));
		json_object_set_new(c, "series", json_string(p->series));
		json_object_set_new(c, "before", num_or_null(p->before));
		json_object_set_new(c, "after", num_or_null(p->after));
		json_object_set_new(c, "p_value", num_or_null(p->p_value));
		json_array_append_new(cps, c);
	}
	json_object_set_new(o, "change_points", cps);
	return dump(o);
}

char *pb_proto_node_counts_json(const int *nodes, const unsigned *counts,
				size_t n)
{
	json_t *o = json_object();
	char *text;

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char key[16];

		snprintf(key, sizeof(key), "%d", nodes[i]);
		json_object_set_new(o, key, json_integer(counts[i]));
	}
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return text;
}

/* A counted number, or the string saying why there is none. */
static json_t *counted(double v, const char *why)
{
	return isfinite(v) ? json_real(v) : json_string(why);
}

char *pb_proto_counters_json(const struct pb_run_measurements *m)
{
	json_t *o = json_object(), *ev = json_object(), *why = json_object(),
	       *enc = json_object(), *run = json_object();

	if (!o || !ev || !why || !enc || !run) {
		json_decref(ev);
		json_decref(why);
		json_decref(enc);
		json_decref(run);
		json_decref(o);
		return NULL;
	}
	for (size_t i = 0; i < m->ncounters; i++) {
		const struct pb_rec_counter *c = &m->counters[i];

		json_object_set_new(ev, c->name, counted(c->value, c->state));
		if (c->reason[0])
			json_object_set_new(why, c->name, str(c->reason));
		if (c->event[0])
			json_object_set_new(enc, c->name, str(c->event));
		if (isfinite(c->running))
			json_object_set_new(run, c->name, json_real(c->running));
	}
	json_object_set_new(o, "events", ev);
	json_object_set_new(o, "reasons", why);
	json_object_set_new(o, "libpfm4", enc);
	json_object_set_new(o, "running_fraction", run);
	json_object_set_new(o, "ipc", counted(m->ipc, "unsupported"));
	if (m->ipc_note[0])
		json_object_set_new(o, "ipc_note", str(m->ipc_note));
	json_object_set_new(o, "remote_access",
			    counted(m->remote_access, "unsupported"));
	if (m->remote_note[0])
		json_object_set_new(o, "remote_access_note",
				    str(m->remote_note));
	return dump(o);
}

static json_t *int_or_null(long long v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

/* {"first": {exe: {kind: {node: pages}}}, "last": ...} */
static json_t *placement_json(const struct pb_run_measurements *m)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < m->nplace; i++) {
		const struct pb_rec_place *p = &m->place[i];
		json_t *smp, *exe, *kind;
		char node[16];

		smp = json_object_get(o, p->sample);
		if (!smp) {
			smp = json_object();
			json_object_set_new(o, p->sample, smp);
		}
		exe = json_object_get(smp, p->exe);
		if (!exe) {
			exe = json_object();
			json_object_set_new(smp, p->exe, exe);
		}
		kind = json_object_get(exe, p->kind);
		if (!kind) {
			kind = json_object();
			json_object_set_new(exe, p->kind, kind);
		}
		snprintf(node, sizeof(node), "%d", p->node);
		json_object_set_new(kind, node, json_integer((json_int_t)p->pages));
	}
	return o;
}

/* {"vmstat": {name: delta}, "node0": {...}}; a counter that could not be
 * differenced is named with its state ("backwards", ...) instead. */
static json_t *kernel_counters_json(const struct pb_run_measurements *m)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < m->nstats; i++) {
		const struct pb_rec_stat *st = &m->stats[i];
		char src[24];
		json_t *g;

		if (st->node < 0)
			snprintf(src, sizeof(src), "vmstat");
		else
			snprintf(src, sizeof(src), "node%d", st->node);
		g = json_object_get(o, src);
		if (!g) {
			g = json_object();
			json_object_set_new(o, src, g);
		}
		json_object_set_new(g, st->name,
				    strcmp(st->state, "ok")
					    ? json_string(st->state)
					    : json_integer(st->delta));
	}
	return o;
}

char *pb_proto_interference_json(const struct pb_run_measurements *m,
				 double wall_s)
{
	static const char *const psi_names[3] = { "cpu", "memory", "io" };
	json_t *o = json_object(), *psi;

	if (!o)
		return NULL;
	json_object_set_new(o, "cpu_s", num_or_null(m->cpu_s));
	json_object_set_new(o, "wall_s", num_or_null(wall_s));
	json_object_set_new(o, "others_cpu_s", num_or_null(m->others_cpu_s));
	json_object_set_new(o, "others_cpus", num_or_null(m->others_cpus));
	json_object_set_new(o, "share", num_or_null(m->interference));
	json_object_set_new(o, "steal_s", num_or_null(m->steal_s));
	if (isnan(m->psi_some[0]) && isnan(m->psi_some[1]) &&
	    isnan(m->psi_some[2])) {
		json_object_set_new(o, "psi", json_string("unsupported"));
	} else {
		psi = json_object();
		for (int i = 0; i < 3; i++)
			json_object_set_new(psi, psi_names[i],
					    num_or_null(m->psi_some[i]));
		json_object_set_new(o, "psi", psi);
	}
	if (m->psi_note[0])
		json_object_set_new(o, "psi_note", str(m->psi_note));
	json_object_set_new(o, "disturbed", json_boolean(m->disturbed));
	if (m->disturbed_why[0])
		json_object_set_new(o, "why", str(m->disturbed_why));
	return dump(o);
}

char *pb_proto_numa_json(const struct pb_run_measurements *m)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "start_cpu", int_or_null(m->start_cpu));
	json_object_set_new(o, "start_node", int_or_null(m->start_node));
	json_object_set_new(o, "start_node_held",
			    int_or_null(m->start_node_asked));
	if (m->start_cpus[0])
		json_object_set_new(o, "start_cpus_held", str(m->start_cpus));
	if (m->start_note[0])
		json_object_set_new(o, "start_note", str(m->start_note));
	json_object_set_new(o, "samples", json_integer(m->samples));
	json_object_set_new(o, "first_sample_s", num_or_null(m->first_s));
	json_object_set_new(o, "last_sample_s", num_or_null(m->last_s));
	json_object_set_new(o, "placement", placement_json(m));
	json_object_set_new(o, "kernel_counters", kernel_counters_json(m));
	if (m->stats_note[0])
		json_object_set_new(o, "kernel_counters_note",
				    str(m->stats_note));
	return dump(o);
}

char *pb_proto_settings_json(const struct pb_run_measurements *m)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < m->nsettings; i++) {
		const struct pb_rec_setting *st = &m->settings[i];
		json_t *o = json_object();

		if (!o)
			break;
		json_object_set_new(o, "setting", str(st->setting));
		json_object_set_new(o, "target", str(st->target));
		json_object_set_new(o, "old", str(st->old_value));
		json_object_set_new(o, "new", str(st->new_value));
		json_object_set_new(o, "status", str(st->status));
		if (st->reason[0])
			json_object_set_new(o, "reason", str(st->reason));
		if (st->restore_error[0])
			json_object_set_new(o, "restore_error",
					    str(st->restore_error));
		json_array_append_new(a, o);
	}
	return dump(a);
}

char *pb_proto_facts_json(const struct pb_run_measurements *m)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < m->nfacts; i++)
		json_object_set_new(o, m->facts[i].key, str(m->facts[i].value));
	return dump(o);
}

char *pb_proto_error_json(const char *message)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "error", str(message ? message : ""));
	json_object_set_new(o, "verdict", json_null());
	return dump(o);
}

/*
 * perfbisectd's requests and answers.
 */

/* An answer of perfbisectd: numbers with 15 significant digits, so a
 * value a client sent (0.05) comes back as it was written. */
static char *dump_api(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII |
					    JSON_REAL_PRECISION(15))
		    : NULL;

	json_decref(o);
	return s;
}

char *pb_proto_error_body(const char *message)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "error", str(message ? message : ""));
	return dump_api(o);
}

char *pb_proto_health_json(void)
{
	return dump_api(json_pack("{s:b}", "ok", 1));
}

char *pb_proto_number_json(const char *key, int64_t n)
{
	return dump_api(json_pack("{s:I}", key, (json_int_t)n));
}

/* Field checks: each returns PB_EINVAL with the field named. */

static int field_string(json_t *o, const char *key, int required,
			size_t max, char **out)
{
	json_t *v = json_object_get(o, key);
	const char *s;
	size_t n;

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return pb_error_code(PB_EINVAL, "missing field '%s'",
					     key);
		return PB_OK;
	}
	if (!json_is_string(v))
		return pb_error_code(PB_EINVAL, "field '%s': must be a string",
				     key);
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0)
		return pb_error_code(PB_EINVAL, "field '%s': must not be empty",
				     key);
	if (n > max)
		return pb_error_code(PB_EINVAL, "field '%s': longer than %zu "
				     "bytes", key, max);
	if (strlen(s) != n)
		return pb_error_code(PB_EINVAL, "field '%s': has a NUL "
				     "character", key);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return pb_error_code(PB_EINVAL, "field '%s': has a "
					     "control character", key);
	*out = pb_strdup(s);
	return *out ? PB_OK : pb_error_set("out of memory");
}

static int field_number(json_t *o, const char *key, double lo, double hi,
			int lo_open, double def, double *out)
{
	json_t *v = json_object_get(o, key);
	double d;

	*out = def;
	if (!v || json_is_null(v))
		return PB_OK;
	if (!json_is_number(v))
		return pb_error_code(PB_EINVAL, "field '%s': must be a number",
				     key);
	d = json_number_value(v);
	if (!isfinite(d) || d < lo || d > hi || (lo_open && d == lo))
		return pb_error_code(PB_EINVAL, "field '%s': %g is out of "
				     "range (%s%g to %g)", key, d,
				     lo_open ? "above " : "", lo, hi);
	*out = d;
	return PB_OK;
}

static int field_count(json_t *o, const char *key, json_int_t lo,
		       json_int_t hi, unsigned def, unsigned *out)
{
	json_t *v = json_object_get(o, key);
	json_int_t i;

	*out = def;
	if (!v || json_is_null(v))
		return PB_OK;
	if (!json_is_integer(v))
		return pb_error_code(PB_EINVAL, "field '%s': must be a whole "
				     "number", key);
	i = json_integer_value(v);
	if (i < lo || i > hi)
		return pb_error_code(PB_EINVAL, "field '%s': %lld is out of "
				     "range (%lld to %lld)", key, (long long)i,
				     (long long)lo, (long long)hi);
	*out = (unsigned)i;
	return PB_OK;
}

static int field_bool(json_t *o, const char *key, int def, int *out)
{
	json_t *v = json_object_get(o, key);

	*out = def;
	if (!v || json_is_null(v))
		return PB_OK;
	if (!json_is_boolean(v))
		return pb_error_code(PB_EINVAL, "field '%s': must be true or "
				     "false", key);
	*out = json_is_true(v);
	return PB_OK;
}

/* Parses a request body that must be a JSON object with only the known
 * keys; *out is a new reference. */
static int parse_object(json_t **out, const char *body, size_t len,
			const char *const *keys)
{
	json_error_t e;
	json_t *o;
	const char *k;
	json_t *v;

	*out = NULL;
	if (len == 0)
		return pb_error_code(PB_EINVAL, "the body is empty: send a "
				     "JSON object");
	o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
	if (!o)
		return pb_error_code(PB_EINVAL, "the body is not JSON: %s "
				     "(line %d, column %d)", e.text, e.line,
				     e.column);
	if (!json_is_object(o)) {
		json_decref(o);
		return pb_error_code(PB_EINVAL, "the body must be a JSON "
				     "object");
	}
	json_object_foreach(o, k, v) {
		size_t i;

		(void)v;
		for (i = 0; keys[i] && strcmp(keys[i], k); i++)
			;
		if (!keys[i]) {
			int rc = pb_error_code(PB_EINVAL, "unknown field '%s'",
					       k);

			json_decref(o);
			return rc;
		}
	}
	*out = o;
	return PB_OK;
}

int pb_proto_repo_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 128 || !isalnum((unsigned char)name[0]) ||
	    name[n - 1] == '/' || strstr(name, "..") || strstr(name, "//"))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("._-/", name[i]))
			return 0;
	return 1;
}

/* A branch as git check-ref-format would take it, roughly: no blanks,
 * no "..", "@{", "//", none of ~^:?*[\, not starting with '-' or '/', not
 * ending with '/', '.' or ".lock". */
static int branch_ok(const char *b)
{
	size_t n = strlen(b);

	if (b[0] == '-' || b[0] == '/' || b[n - 1] == '/' || b[n - 1] == '.' ||
	    strstr(b, "..") || strstr(b, "@{") || strstr(b, "//") ||
	    (n >= 5 && !strcmp(b + n - 5, ".lock")))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (b[i] == ' ' || strchr("~^:?*[\\", b[i]))
			return 0;
	return 1;
}

/* A metric name of the benchmark output contract: letters, digits and
 * '_', '.', '-'. */
static int metric_ok(const char *m)
{
	for (const char *p = m; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return 0;
	return 1;
}

void pb_repo_req_release(struct pb_repo_req *r)
{
	free(r->name);
	free(r->url);
	free(r->branch);
	free(r->webhook_secret);
	free(r->notify_url);
	memset(r, 0, sizeof(*r));
}

int pb_proto_parse_repo_req(struct pb_repo_req *out, const char *body,
			    size_t len)
{
	static const char *const keys[] = { "name", "url", "branch",
					    "webhook_secret", "notify_url",
					    NULL };
	json_t *o;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = parse_object(&o, body, len, keys)) < 0)
		return rc;
	if ((rc = field_string(o, "name", 1, 128, &out->name)) < 0 ||
	    (rc = field_string(o, "url", 1, 2048, &out->url)) < 0 ||
	    (rc = field_string(o, "branch", 1, 255, &out->branch)) < 0 ||
	    (rc = field_string(o, "webhook_secret", 0, 256,
			       &out->webhook_secret)) < 0 ||
	    (rc = field_string(o, "notify_url", 0, 2048, &out->notify_url)) <
		    0)
		goto out;
	if (!pb_proto_repo_name_ok(out->name))
		rc = pb_error_code(PB_EINVAL,
				   "field 'name': '%s' is not a repository "
				   "name (letters, digits, '.', '_', '-', "
				   "'/'; starting with a letter or digit)",
				   out->name);
	else if (!branch_ok(out->branch))
		rc = pb_error_code(PB_EINVAL, "field 'branch': '%s' is not a "
				   "branch name", out->branch);
out:
	json_decref(o);
	if (rc < 0)
		pb_repo_req_release(out);
	return rc;
}

char *pb_proto_repo_json(int64_t id, const struct pb_repo_req *r)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_integer(id));
	json_object_set_new(o, "name", str(r->name));
	json_object_set_new(o, "url", str(r->url));
	json_object_set_new(o, "branch", str(r->branch));
	json_object_set_new(o, "notify_url", str(r->notify_url));
	json_object_set_new(o, "webhook_secret",
			    json_boolean(r->webhook_secret != NULL));
	return dump_api(o);
}

void pb_benchmark_req_release(struct pb_benchmark_req *r)
{
	free(r->name);
	free(r->repo);
	free(r->build);
	free(r->run);
	free(r->metric);
	memset(r, 0, sizeof(*r));
}

int pb_proto_parse_benchmark_req(struct pb_benchmark_req *out,
				 const char *body, size_t len)
{
	static const char *const keys[] = {
		"name", "repo", "build", "run", "metric", "lower_is_better",
		"timeout_s", "build_timeout_s", "repeats", "alert_threshold",
		NULL,
	};
	json_t *o;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = parse_object(&o, body, len, keys)) < 0)
		return rc;
	if ((rc = field_string(o, "name", 1, 128, &out->name)) < 0 ||
	    (rc = field_string(o, "repo", 1, 128, &out->repo)) < 0 ||
	    (rc = field_string(o, "build", 1, 16384, &out->build)) < 0 ||
	    (rc = field_string(o, "run", 1, 16384, &out->run)) < 0 ||
	    (rc = field_string(o, "metric", 1, 128, &out->metric)) < 0 ||
	    (rc = field_bool(o, "lower_is_better", 0,
			     &out->lower_is_better)) < 0 ||
	    (rc = field_number(o, "timeout_s", 0, 7 * 86400.0, 1,
			       PB_BENCH_DEFAULT_TIMEOUT_S, &out->timeout_s)) <
		    0 ||
	    (rc = field_number(o, "build_timeout_s", 0, 7 * 86400.0, 1,
			       PB_BENCH_DEFAULT_BUILD_TIMEOUT_S,
			       &out->build_timeout_s)) < 0 ||
	    (rc = field_count(o, "repeats", 1, 1000, PB_BENCH_DEFAULT_REPEATS,
			      &out->repeats)) < 0 ||
	    (rc = field_number(o, "alert_threshold", 0, 1, 1,
			       PB_BENCH_DEFAULT_ALERT,
			       &out->alert_threshold)) < 0)
		goto out;
	if (out->alert_threshold >= 1)
		rc = pb_error_code(PB_EINVAL, "field 'alert_threshold': must "
				   "be a fraction below 1 (0.05 for 5 %%)");
	else if (!pb_proto_repo_name_ok(out->name))
		rc = pb_error_code(PB_EINVAL,
				   "field 'name': '%s' is not a benchmark "
				   "name (letters, digits, '.', '_', '-', "
				   "'/'; starting with a letter or digit)",
				   out->name);
	else if (!metric_ok(out->metric))
		rc = pb_error_code(PB_EINVAL,
				   "field 'metric': '%s' is not a metric name "
				   "(letters, digits, '_', '.', '-')",
				   out->metric);
out:
	json_decref(o);
	if (rc < 0)
		pb_benchmark_req_release(out);
	return rc;
}

char *pb_proto_benchmark_json(int64_t id, const struct pb_benchmark_req *r)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_integer(id));
	json_object_set_new(o, "name", str(r->name));
	json_object_set_new(o, "repo", str(r->repo));
	json_object_set_new(o, "metric", str(r->metric));
	json_object_set_new(o, "lower_is_better",
			    json_boolean(r->lower_is_better));
	json_object_set_new(o, "timeout_s", json_real(r->timeout_s));
	json_object_set_new(o, "build_timeout_s",
			    json_real(r->build_timeout_s));
	json_object_set_new(o, "repeats", json_integer(r->repeats));
	json_object_set_new(o, "alert_threshold",
			    json_real(r->alert_threshold));
	return dump_api(o);
}

/* ---- the service's bisections and the agent protocol, server side
 * (docs/agent-protocol.md) ---- */

int pb_proto_parse_bisect_req(struct pb_bisect_req *out, const char *body,
			      size_t len)
{
	static const char *const keys[] = { "repo", "benchmark", "good", "bad",
					    "config", "confidence", "max_runs",
					    "seed", "min_effect", NULL };
	json_t *o;
	double seed;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = parse_object(&o, body, len, keys)) < 0)
		return rc;
	if ((rc = field_string(o, "repo", 1, 128, &out->repo)) < 0 ||
	    (rc = field_string(o, "benchmark", 1, 128, &out->benchmark)) < 0 ||
	    (rc = field_string(o, "good", 1, 256, &out->good)) < 0 ||
	    (rc = field_string(o, "bad", 1, 256, &out->bad)) < 0 ||
	    (rc = field_string(o, "config", 0, 128, &out->config)) < 0 ||
	    (rc = field_number(o, "confidence", 0.5, 0.999999, 0, 0.99,
			       &out->confidence)) < 0 ||
	    (rc = field_count(o, "max_runs", 4, 100000, 500,
			      &out->max_runs)) < 0 ||
	    (rc = field_number(o, "seed", 1, 4294967295.0, 0, 1, &seed)) < 0 ||
	    (rc = field_number(o, "min_effect", 0, 1, 1, 0.03,
			       &out->min_effect)) < 0)
		goto out;
	out->seed = (uint64_t)seed;
	if (out->good[0] == '-' || out->bad[0] == '-')
		rc = pb_error_code(PB_EINVAL, "field '%s': a revision does not "
				   "start with '-'",
				   out->good[0] == '-' ? "good" : "bad");
out:
	json_decref(o);
	if (rc < 0)
		pb_bisect_req_release(out);
	return rc;
}

void pb_bisect_req_release(struct pb_bisect_req *r)
{
	free(r->repo);
	free(r->benchmark);
	free(r->good);
	free(r->bad);
	free(r->config);
	memset(r, 0, sizeof(*r));
}

char *pb_proto_started_json(int64_t id, const char *good, const char *bad)
{
	return dump_api(json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id,
				  "state", "running", "good", good, "bad",
				  bad));
}

char *pb_proto_bisection_list_json(const struct pb_bisection_item *v,
				   size_t n)
{
	json_t *a = json_array();

	if (!a)
		return NULL;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(
			a, json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o}", "id",
				     (json_int_t)v[i].id, "state", v[i].state,
				     "repo", v[i].repo, "benchmark",
				     v[i].benchmark, "verdict",
				     str(v[i].verdict[0] ? v[i].verdict
							 : NULL),
				     "culprit", sha_or_null(v[i].culprit),
				     "started", num_or_null(v[i].started)));
	return dump_api(json_pack("{s:o}", "bisections", a));
}

int pb_proto_parse_lease_req(struct pb_lease_req *out, const char *body,
			     size_t len)
{
	static const char *const keys[] = { "request_id", "wait_s", "facts",
					    NULL };
	json_t *o, *facts;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = parse_object(&o, body, len, keys)) < 0)
		return rc;
	if ((rc = field_string(o, "request_id", 1, 128, &out->request_id)) <
		    0 ||
	    (rc = field_count(o, "wait_s", 0, 3600, 0, &out->wait_s)) < 0)
		goto out;
	facts = json_object_get(o, "facts");
	if (facts && !json_is_null(facts)) {
		if (!json_is_object(facts)) {
			rc = pb_error_code(PB_EINVAL, "field 'facts': must be "
					   "an object");
			goto out;
		}
		out->facts_json = json_dumps(facts, JSON_COMPACT |
							    JSON_SORT_KEYS);
		if (!out->facts_json)
			rc = pb_error_set("out of memory");
	}
out:
	json_decref(o);
	if (rc < 0)
		pb_lease_req_release(out);
	return rc;
}

void pb_lease_req_release(struct pb_lease_req *r)
{
	free(r->request_id);
	free(r->facts_json);
	memset(r, 0, sizeof(*r));
}

int pb_proto_parse_heartbeat_req(double *run_s, const char *body, size_t len)
{
	static const char *const keys[] = { "run_s", NULL };
	json_t *o;
	int rc;

	*run_s = 0;
	if (len == 0)
		return PB_OK; /* {} may be sent as nothing */
	if ((rc = parse_object(&o, body, len, keys)) < 0)
		return rc;
	rc = field_number(o, "run_s", 0, 7 * 86400.0, 0, 0, run_s);
	json_decref(o);
	return rc;
}

int pb_proto_parse_run_post(struct pb_run_post *out, const char *body,
			    size_t len)
{
	static const char *const keys[] = { "lease", "index", "commit",
					    "record", NULL };
	json_t *o, *rec;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = parse_object(&o, body, len, keys)) < 0)
		return rc;
	if ((rc = field_string(o, "lease", 1, 128, &out->lease)) < 0 ||
	    (rc = field_count(o, "index", 0, 100000, 0, &out->index)) < 0 ||
	    (rc = field_string(o, "commit", 1, 40, &out->commit)) < 0)
		goto out;
	if (!json_object_get(o, "index")) {
		rc = pb_error_code(PB_EINVAL, "missing field 'index'");
		goto out;
	}
	if (!pb_is_sha(out->commit)) {
		rc = pb_error_code(PB_EINVAL, "field 'commit': '%s' is not a "
				   "40-hex sha", out->commit);
		goto out;
	}
	rec = json_object_get(o, "record");
	if (!rec || !json_is_object(rec)) {
		rc = pb_error_code(PB_EINVAL, "field 'record': must be an "
				   "object");
		goto out;
	}
	out->record_json = json_dumps(rec, JSON_COMPACT);
	if (!out->record_json)
		rc = pb_error_set("out of memory");
out:
	json_decref(o);
	if (rc < 0)
		pb_run_post_release(out);
	return rc;
}

void pb_run_post_release(struct pb_run_post *r)
{
	free(r->lease);
	free(r->commit);
	free(r->record_json);
	memset(r, 0, sizeof(*r));
}

int pb_proto_parse_build_failed(struct pb_build_failed_req *out,
				const char *body, size_t len)
{
	static const char *const keys[] = { "commit", "reason", "log_tail",
					    NULL };
	json_t *o, *log;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = parse_object(&o, body, len, keys)) < 0)
		return rc;
	if ((rc = field_string(o, "commit", 1, 40, &out->commit)) < 0 ||
	    (rc = field_string(o, "reason", 1, 255, &out->reason)) < 0)
		goto out;
	if (!pb_is_sha(out->commit)) {
		rc = pb_error_code(PB_EINVAL, "field 'commit': '%s' is not a "
				   "40-hex sha", out->commit);
		goto out;
	}
	/* the log's last lines: any text (newlines, tabs), capped */
	log = json_object_get(o, "log_tail");
	if (log && !json_is_null(log)) {
		if (!json_is_string(log) || json_string_length(log) > 65536) {
			rc = pb_error_code(PB_EINVAL, "field 'log_tail': must "
					   "be a string of at most 65536 "
					   "bytes");
			goto out;
		}
		out->log_tail = pb_strdup(json_string_value(log));
		if (!out->log_tail)
			rc = pb_error_set("out of memory");
	}
out:
	json_decref(o);
	if (rc < 0)
		pb_build_failed_release(out);
	return rc;
}

void pb_build_failed_release(struct pb_build_failed_req *r)
{
	free(r->commit);
	free(r->reason);
	free(r->log_tail);
	memset(r, 0, sizeof(*r));
}

char *pb_proto_lease_refusal_json(const char *state, const char *why)
{
	return dump_api(json_pack("{s:s, s:s}", "error", why ? why : "",
				  "lease_state", state ? state : "unknown"));
}

char *pb_proto_heartbeat_answer_json(double expires_in_s, int cont)
{
	return dump_api(json_pack("{s:f, s:b}", "expires_in_s", expires_in_s,
				  "continue", cont));
}

char *pb_proto_run_answer_json(int repeat, int cont)
{
	return dump_api(json_pack("{s:b, s:b, s:b}", "accepted", 1, "repeat",
				  repeat, "continue", cont));
}

char *pb_proto_continue_json(int cont)
{
	return dump_api(json_pack("{s:b}", "continue", cont));
}

char *pb_proto_job_answer_json(const struct pb_job_answer *j)
{
	json_t *runs = json_array(), *o;

	if (!runs)
		return NULL;
	for (size_t k = 0; k < j->nruns; k++)
		json_array_append_new(runs,
				      json_pack("{s:i, s:s}", "index",
						(int)j->index[k], "commit",
						j->commit[k]));
	o = json_pack(
		"{s:s, s:f, s:f, s:{s:I, s:I, s:s, s:{s:s, s:s}, "
		"s:{s:s, s:s, s:s, s:s, s:b, s:f, s:f, s:b}, s:{}, s:o}}",
		"lease", j->lease, "expires_in_s", j->expires_in_s,
		"heartbeat_s", j->heartbeat_s, "job", "id", (json_int_t)j->id,
		"bisection", (json_int_t)j->bisection, "kind", j->kind, "repo",
		"name", j->repo_name, "url", j->repo_url, "benchmark", "name",
		j->bench_name, "build", j->build, "run", j->run, "metric",
		j->metric, "lower_is_better", j->lower_is_better, "timeout_s",
		j->timeout_s, "build_timeout_s", j->build_timeout_s, "ccache",
		j->ccache, "config", "runs", runs);
	return dump_api(o);
}
