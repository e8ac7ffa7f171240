/*
 * proto.c - JSON with jansson (see proto.h): the encoding of results and
 * run records, and perfbisectd's request bodies and answers.  A NAN
 * double is encoded as null: a value that cannot be computed honestly is
 * never invented.
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
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

int pb_proto_parse_compare_req(struct pb_compare_req *out, const char *body,
			       size_t len)
{
	static const char *const keys[] = { "repo", "benchmark", "base", "head",
					    "min_effect", NULL };
	json_t *o;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = parse_object(&o, body, len, keys)) < 0)
		return rc;
	if ((rc = field_string(o, "repo", 1, 128, &out->repo)) < 0 ||
	    (rc = field_string(o, "benchmark", 1, 128, &out->benchmark)) < 0 ||
	    (rc = field_string(o, "base", 1, 256, &out->base)) < 0 ||
	    (rc = field_string(o, "head", 1, 256, &out->head)) < 0 ||
	    (rc = field_number(o, "min_effect", 0, 1, 1, 0.03,
			       &out->min_effect)) < 0)
		goto out;
	if (out->base[0] == '-' || out->head[0] == '-')
		rc = pb_error_code(PB_EINVAL, "field '%s': a revision does not "
				   "start with '-'",
				   out->base[0] == '-' ? "base" : "head");
out:
	json_decref(o);
	if (rc < 0)
		pb_compare_req_release(out);
	return rc;
}

void pb_compare_req_release(struct pb_compare_req *r)
{
	free(r->repo);
	free(r->benchmark);
	free(r->base);
	free(r->head);
	memset(r, 0, sizeof(*r));
}

char *pb_proto_compare_started_json(int64_t id, const char *base,
				    const char *head)
{
	return dump_api(json_pack("{s:I, s:s, s:s, s:s, s:s}", "id",
				  (json_int_t)id, "kind", "compare", "state",
				  "running", "base", base, "head", head));
}

char *pb_proto_compare_json(const struct pb_compare_view *v)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "id", json_integer(v->id));
	json_object_set_new(o, "kind", json_string("compare"));
	json_object_set_new(o, "state", json_string(v->state));
	json_object_set_new(o, "result", v->result[0] ? json_string(v->result)
						      : json_null());
	/* the word under the key bisections use, for whoever reads both */
	json_object_set_new(o, "verdict", v->result[0] ? json_string(v->result)
						       : json_null());
	json_object_set_new(o, "effect", num_or_null(v->effect));
	json_object_set_new(o, "interval",
			    isnan(v->lo) || isnan(v->hi)
				    ? json_null()
				    : json_pack("[ff]", v->lo, v->hi));
	json_object_set_new(o, "interval_level", json_real(0.95));
	json_object_set_new(o, "p", num_or_null(v->p));
	json_object_set_new(o, "min_effect", num_or_null(v->min_effect));
	json_object_set_new(o, "pairs", json_integer(v->pairs));
	json_object_set_new(o, "runs_per_side", json_integer(v->pairs));
	json_object_set_new(o, "runs", json_integer(v->runs));
	json_object_set_new(o, "base", json_string(v->base));
	json_object_set_new(o, "head", json_string(v->head));
	json_object_set_new(o, "machine", v->machine[0] ? json_string(v->machine)
							: json_null());
	json_object_set_new(o, "takeovers", json_integer(v->takeovers));
	json_object_set_new(o, "repo", str(v->repo));
	json_object_set_new(o, "benchmark", str(v->benchmark));
	json_object_set_new(o, "metric", str(v->metric));
	json_object_set_new(o, "lower_is_better",
			    json_boolean(v->lower_is_better));
	json_object_set_new(o, "outcome", str(v->outcome));
	return dump(o);
}

char *pb_proto_compare_req_json(const char *repo, const char *benchmark,
				const char *base, const char *head,
				double min_effect)
{
	json_t *o = json_pack("{s:o, s:o, s:o, s:o}", "repo", str(repo),
			      "benchmark", str(benchmark), "base", str(base),
			      "head", str(head));

	if (!o)
		return NULL;
	if (min_effect > 0)
		json_object_set_new(o, "min_effect", json_real(min_effect));
	return dump_api(o);
}

char *pb_proto_bisection_list_json(const struct pb_bisection_item *v,
				   size_t n)
{
	json_t *a = json_array();

	if (!a)
		return NULL;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(
			a, json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:o, s:o}",
				     "id", (json_int_t)v[i].id, "kind",
				     v[i].kind[0] ? v[i].kind : "bisect",
				     "state", v[i].state,
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

char *pb_proto_run_answer_json(int repeat, int cont, int job_done)
{
	return dump_api(json_pack("{s:b, s:b, s:b, s:b}", "accepted", 1,
				  "repeat", repeat, "continue", cont,
				  "job_done", job_done));
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

/* --- the agent protocol -------------------------------------------------- */

/* The context of one parse: where its message goes and what it reads
 * ("record", "job"). */
struct chk {
	char *err;
	size_t errlen;
	const char *what;
};

__attribute__((format(printf, 3, 4)))
static int bad(struct chk *c, const char *field, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->errlen) {
		if (field)
			snprintf(c->err, c->errlen, "%s: '%s' %s", c->what,
				 field, msg);
		else
			snprintf(c->err, c->errlen, "%s: %s", c->what, msg);
	}
	return PB_EINVAL;
}

static json_t *load(struct chk *c, const char *json, size_t len)
{
	json_error_t je;
	json_t *o;

	if (!json || len > PB_WIRE_BODY_MAX) {
		bad(c, NULL, "body missing or over %d bytes", PB_WIRE_BODY_MAX);
		return NULL;
	}
	o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		bad(c, NULL, "not JSON: %s (line %d, column %d)", je.text,
		    je.line, je.column);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		bad(c, NULL, "not a JSON object");
		return NULL;
	}
	return o;
}

/* A required boolean. */
static int get_bool(struct chk *c, json_t *o, const char *key, int *out)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return bad(c, key, "is missing");
	if (!json_is_boolean(v))
		return bad(c, key, "must be true or false");
	*out = json_is_true(v);
	return PB_OK;
}

/* A required integer in [min, max]; null gives `null_as` when nullable. */
static int get_int(struct chk *c, json_t *o, const char *key, long long min,
		   long long max, int nullable, int null_as, int *out)
{
	json_t *v = json_object_get(o, key);
	long long x;

	if (!v)
		return bad(c, key, "is missing");
	if (json_is_null(v) && nullable) {
		*out = null_as;
		return PB_OK;
	}
	if (!json_is_integer(v))
		return bad(c, key, "must be an integer%s",
			   nullable ? " or null" : "");
	x = json_integer_value(v);
	if (x < min || x > max)
		return bad(c, key, "must lie in [%lld, %lld], not %lld", min,
			   max, x);
	*out = (int)x;
	return PB_OK;
}

/* A required number in [min, max] (integers too); null gives NAN when
 * nullable. */
static int get_num(struct chk *c, json_t *o, const char *key, double min,
		   double max, int nullable, double *out)
{
	json_t *v = json_object_get(o, key);
	double x;

	if (!v)
		return bad(c, key, "is missing");
	if (json_is_null(v) && nullable) {
		*out = NAN;
		return PB_OK;
	}
	if (!json_is_number(v))
		return bad(c, key, "must be a number%s",
			   nullable ? " or null" : "");
	x = json_number_value(v);
	if (!isfinite(x) || x < min || x > max)
		return bad(c, key, "must be a finite number in [%g, %g]", min,
			   max);
	*out = x;
	return PB_OK;
}

/* A string of at most max bytes, copied; absent or null give NULL when
 * optional. */
static int get_str(struct chk *c, json_t *o, const char *key, size_t max,
		   int optional, char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (optional)
			return PB_OK;
		return bad(c, key, "is missing");
	}
	if (!json_is_string(v))
		return bad(c, key, "must be a string");
	if (json_string_length(v) > max)
		return bad(c, key, "is longer than %zu bytes", max);
	*out = pb_strdup(json_string_value(v));
	return *out ? PB_OK : PB_ERROR;
}

/* A string into a fixed array (at most size-1 bytes). */
static int get_fixed(struct chk *c, json_t *o, const char *key, char *out,
		     size_t size, int optional)
{
	json_t *v = json_object_get(o, key);

	out[0] = '\0';
	if (!v || json_is_null(v))
		return optional ? PB_OK : bad(c, key, "is missing");
	if (!json_is_string(v))
		return bad(c, key, "must be a string");
	if (json_string_length(v) >= size)
		return bad(c, key, "is longer than %zu bytes", size - 1);
	pb_strlcpy(out, json_string_value(v), size);
	return PB_OK;
}

/* Checks a record's nested value: depth, string lengths, member counts,
 * finite numbers.  `path` names it in messages. */
static int check_tree(struct chk *c, json_t *v, char *path, size_t size,
		      int depth)
{
	size_t at = strlen(path);
	int rc = PB_OK;

	if (depth > PB_WIRE_DEPTH_MAX)
		return bad(c, path, "is nested deeper than %d levels",
			   PB_WIRE_DEPTH_MAX);
	if (json_is_string(v)) {
		if (json_string_length(v) > PB_WIRE_STR_MAX)
			return bad(c, path, "is longer than %d bytes",
				   PB_WIRE_STR_MAX);
	} else if (json_is_real(v)) {
		if (!isfinite(json_real_value(v)))
			return bad(c, path, "is not a finite number");
	} else if (json_is_object(v)) {
		const char *key;
		json_t *m;

		if (json_object_size(v) > 4096)
			return bad(c, path, "has more than 4096 members");
		json_object_foreach(v, key, m) {
			if (strlen(key) > 512)
				return bad(c, path, "has a key longer than "
					   "512 bytes");
			snprintf(path + at, size - at, ".%s", key);
			rc = check_tree(c, m, path, size, depth + 1);
			path[at] = '\0';
			if (rc)
				return rc;
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *m;

		if (json_array_size(v) > 4096)
			return bad(c, path, "has more than 4096 elements");
		json_array_foreach(v, i, m) {
			snprintf(path + at, size - at, "[%zu]", i);
			rc = check_tree(c, m, path, size, depth + 1);
			path[at] = '\0';
			if (rc)
				return rc;
		}
	}
	return PB_OK;
}

enum shape { OBJECT, ARRAY };

/* A nested object or array, checked and kept as compact JSON text. */
static int get_json(struct chk *c, json_t *o, const char *key,
		    enum shape shape, char **out)
{
	json_t *v = json_object_get(o, key);
	char path[1024];
	int rc;

	*out = NULL;
	if (!v)
		return bad(c, key, "is missing");
	if (shape == OBJECT ? !json_is_object(v) : !json_is_array(v))
		return bad(c, key, "must be %s",
			   shape == OBJECT ? "an object" : "an array");
	pb_strlcpy(path, key, sizeof(path));
	if ((rc = check_tree(c, v, path, sizeof(path), 1)) < 0)
		return rc;
	*out = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
	return *out ? PB_OK : pb_error_set("out of memory");
}

/* "metrics": {NAME: number|null}, names as the output contract has them. */
static int check_metrics(struct chk *c, json_t *o)
{
	json_t *v = json_object_get(o, "metrics"), *m;
	const char *key;
	char field[PB_METRIC_NAME_MAX + 16];

	if (!json_is_object(v))
		return PB_OK; /* get_json() says so */
	if (json_object_size(v) > PB_METRIC_MAX_NAMES)
		return bad(c, "metrics", "has more than %d names",
			   PB_METRIC_MAX_NAMES);
	json_object_foreach(v, key, m) {
		if (!key[0] || strlen(key) >= PB_METRIC_NAME_MAX)
			return bad(c, "metrics", "has a name that is empty or "
				   "longer than %d bytes",
				   PB_METRIC_NAME_MAX - 1);
		snprintf(field, sizeof(field), "metrics.%s", key);
		if (!json_is_number(m) && !json_is_null(m))
			return bad(c, field, "must be a number or null");
	}
	return PB_OK;
}

/* "machine": {key: string}. */
static int check_machine(struct chk *c, json_t *o)
{
	json_t *v = json_object_get(o, "machine"), *m;
	const char *key;
	char field[600];

	if (!json_is_object(v))
		return PB_OK;
	json_object_foreach(v, key, m) {
		snprintf(field, sizeof(field), "machine.%s", key);
		if (!json_is_string(m))
			return bad(c, field, "must be a string");
	}
	return PB_OK;
}

/* "settings": [{"setting", "target", "old", "new", "status", ...}]. */
static int check_settings(struct chk *c, json_t *o)
{
	static const char *const keys[] = { "setting", "target", "old", "new",
					    "status" };
	json_t *v = json_object_get(o, "settings"), *m;
	char field[64];
	size_t i;

	if (!json_is_array(v))
		return PB_OK;
	json_array_foreach(v, i, m) {
		snprintf(field, sizeof(field), "settings[%zu]", i);
		if (!json_is_object(m))
			return bad(c, field, "must be an object");
		for (size_t k = 0; k < PB_ARRAY_SIZE(keys); k++) {
			json_t *s = json_object_get(m, keys[k]);

			snprintf(field, sizeof(field), "settings[%zu].%s", i,
				 keys[k]);
			if (!json_is_string(s))
				return bad(c, field, "must be a string");
		}
	}
	return PB_OK;
}

static const char *const image_kinds[] = { NULL, "elf", "other", "error" };

static int is_digest(const char *s)
{
	size_t p = strlen(PB_IMAGE_DIGEST_PREFIX_WIRE);

	if (strncmp(s, PB_IMAGE_DIGEST_PREFIX_WIRE, p) || strlen(s) != p + 64)
		return 0;
	for (s += p; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

/* "images": [{"path", "kind", "digest", "note"}]. */
static int get_images(struct chk *c, json_t *o, struct pb_run_row_wire *w)
{
	json_t *v = json_object_get(o, "images"), *m;
	char field[64];
	size_t i;
	int rc;

	if (!v)
		return bad(c, "images", "is missing");
	if (!json_is_array(v))
		return bad(c, "images", "must be an array");
	if (json_array_size(v) > PB_WIRE_IMAGES_MAX)
		return bad(c, "images", "has more than %d files",
			   PB_WIRE_IMAGES_MAX);
	if (!json_array_size(v))
		return PB_OK;
	w->images = calloc(json_array_size(v), sizeof(*w->images));
	if (!w->images)
		return pb_error_set("out of memory");
	json_array_foreach(v, i, m) {
		struct pb_wire_image *im = &w->images[i];
		struct chk sub = *c;
		char kind[8];
		int k;

		snprintf(field, sizeof(field), "record: 'images[%zu]'", i);
		sub.what = field;
		w->nimages = i + 1;
		if (!json_is_object(m))
			return bad(c, "images", "must hold objects");
		if ((rc = get_str(&sub, m, "path", 4096, 0, &im->path)) < 0 ||
		    (rc = get_fixed(&sub, m, "kind", kind, sizeof(kind), 0)) <
			    0 ||
		    (rc = get_str(&sub, m, "digest", PB_WIRE_STR_MAX, 1,
				  &im->digest)) < 0 ||
		    (rc = get_str(&sub, m, "note", PB_WIRE_STR_MAX, 1,
				  &im->note)) < 0)
			return rc;
		if (!im->path[0] || (im->path[0] == '/' && im->path[1]))
			return bad(&sub, "path", "must be relative to the work "
				   "tree (or \"/\" for the set)");
		for (k = 1; k < (int)PB_ARRAY_SIZE(image_kinds); k++)
			if (!strcmp(kind, image_kinds[k]))
				break;
		if (k == (int)PB_ARRAY_SIZE(image_kinds))
			return bad(&sub, "kind", "must be \"elf\", \"other\" "
				   "or \"error\"");
		im->kind = (enum pb_wire_image_kind)k;
		if (im->kind == PB_WIRE_IMAGE_ELF &&
		    (!im->digest || !is_digest(im->digest)))
			return bad(&sub, "digest", "must be \"%s\" and 64 hex "
				   "digits for an ELF file",
				   PB_IMAGE_DIGEST_PREFIX_WIRE);
		if (im->kind != PB_WIRE_IMAGE_ELF && im->digest)
			return bad(&sub, "digest", "is for ELF files only");
	}
	return PB_OK;
}

void pb_run_row_wire_init(struct pb_run_row_wire *w)
{
	memset(w, 0, sizeof(*w));
	w->exit_code = 0;
	w->wall_s = w->value = w->started_at = NAN;
	w->start_cpu = w->start_node = -1;
	w->ipc = w->remote_access = w->cpu_s = w->busy_share = NAN;
}

void pb_run_row_wire_release(struct pb_run_row_wire *w)
{
	if (!w)
		return;
	free(w->reason);
	free(w->metrics_json);
	free(w->notes);
	free(w->output);
	free(w->run_as);
	free(w->counters_json);
	free(w->numa_json);
	free(w->settings_json);
	free(w->machine_json);
	free(w->interference_json);
	free(w->ipc_note);
	free(w->remote_note);
	for (size_t i = 0; i < w->nimages; i++) {
		free(w->images[i].path);
		free(w->images[i].digest);
		free(w->images[i].note);
	}
	free(w->images);
	pb_run_row_wire_init(w);
}

int pb_proto_run_record_parse(const char *json, size_t len,
			      struct pb_run_row_wire *out, char *err,
			      size_t errlen)
{
	struct chk c = { err, errlen, "record" };
	json_t *o;
	int rc;

	pb_run_row_wire_init(out);
	if (errlen)
		err[0] = '\0';
	if (!(o = load(&c, json, len)))
		return PB_EINVAL;
	if ((rc = get_bool(&c, o, "ok", &out->ok)) < 0 ||
	    (rc = get_str(&c, o, "reason", 255, 0, &out->reason)) < 0 ||
	    (rc = get_bool(&c, o, "exited", &out->exited)) < 0 ||
	    (rc = get_int(&c, o, "exit_code", -1, 255, 0, 0,
			  &out->exit_code)) < 0 ||
	    (rc = get_int(&c, o, "signal", 0, 128, 0, 0, &out->signal)) < 0 ||
	    (rc = get_bool(&c, o, "timed_out", &out->timed_out)) < 0 ||
	    (rc = get_num(&c, o, "wall_s", 0, 1e9, 0, &out->wall_s)) < 0 ||
	    (rc = get_num(&c, o, "value", -HUGE_VAL, HUGE_VAL, 1,
			  &out->value)) < 0 ||
	    (rc = get_json(&c, o, "metrics", OBJECT, &out->metrics_json)) <
		    0 ||
	    (rc = check_metrics(&c, o)) < 0 ||
	    (rc = get_str(&c, o, "notes", PB_WIRE_NOTES_MAX, 0,
			  &out->notes)) < 0 ||
	    (rc = get_str(&c, o, "output", PB_WIRE_OUTPUT_MAX, 1,
			  &out->output)) < 0 ||
	    (rc = get_num(&c, o, "started_at", 0, 1e11, 0,
			  &out->started_at)) < 0 ||
	    (rc = get_str(&c, o, "run_as", 63, 0, &out->run_as)) < 0 ||
	    (rc = get_json(&c, o, "counters", OBJECT, &out->counters_json)) <
		    0 ||
	    (rc = get_json(&c, o, "numa", OBJECT, &out->numa_json)) < 0 ||
	    (rc = get_json(&c, o, "settings", ARRAY, &out->settings_json)) <
		    0 ||
	    (rc = check_settings(&c, o)) < 0 ||
	    (rc = get_json(&c, o, "machine", OBJECT, &out->machine_json)) <
		    0 ||
	    (rc = check_machine(&c, o)) < 0 ||
	    (rc = get_int(&c, o, "start_cpu", 0, PB_WIRE_CPU_MAX, 1, -1,
			  &out->start_cpu)) < 0 ||
	    (rc = get_int(&c, o, "start_node", 0, PB_WIRE_NODE_MAX, 1, -1,
			  &out->start_node)) < 0 ||
	    (rc = get_num(&c, o, "ipc", 0, HUGE_VAL, 1, &out->ipc)) < 0 ||
	    (rc = get_str(&c, o, "ipc_note", 319, 0, &out->ipc_note)) < 0 ||
	    (rc = get_num(&c, o, "remote_access", 0, HUGE_VAL, 1,
			  &out->remote_access)) < 0 ||
	    (rc = get_str(&c, o, "remote_note", 319, 0, &out->remote_note)) <
		    0 ||
	    (rc = get_num(&c, o, "cpu_s", 0, 1e12, 1, &out->cpu_s)) < 0 ||
	    (rc = get_num(&c, o, "busy_share", -HUGE_VAL, HUGE_VAL, 1,
			  &out->busy_share)) < 0 ||
	    (rc = get_bool(&c, o, "disturbed", &out->disturbed)) < 0 ||
	    (rc = get_json(&c, o, "interference", OBJECT,
			   &out->interference_json)) < 0 ||
	    (rc = get_images(&c, o, out)) < 0)
		goto out;
	if (out->ok && isnan(out->value))
		rc = bad(&c, "value", "must be a number when 'ok' is true");
	else if (out->ok && out->output)
		rc = bad(&c, "output", "is sent for failed runs only");
	else if (out->ok && out->reason[0])
		rc = bad(&c, "reason", "must be empty when 'ok' is true");
	else if (!out->ok && !out->reason[0])
		rc = bad(&c, "reason", "must say why the run failed");
out:
	json_decref(o);
	if (rc == PB_ERROR && errlen)
		snprintf(err, errlen, "record: %s", pb_error_last());
	return rc;
}

/* The text of a nested object, loaded to embed it; NULL text: null. */
static int embed(json_t *o, const char *key, const char *text)
{
	json_error_t je;
	json_t *v;

	if (!text)
		return json_object_set_new(o, key, json_null()) ? PB_ERROR
								: PB_OK;
	v = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (!v)
		return pb_error_code(PB_EINVAL, "record: '%s' is not JSON: %s",
				     key, je.text);
	return json_object_set_new(o, key, v) ? PB_ERROR : PB_OK;
}

static json_t *int_null(int v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

static json_t *record_obj(const struct pb_run_row_wire *w)
{
	json_t *o = json_object(), *imgs = json_array();
	int rc = PB_OK;

	if (!o || !imgs)
		goto fail;
	json_object_set_new(o, "ok", json_boolean(w->ok));
	json_object_set_new(o, "reason", str(w->reason ? w->reason : ""));
	json_object_set_new(o, "exited", json_boolean(w->exited));
	json_object_set_new(o, "exit_code", json_integer(w->exit_code));
	json_object_set_new(o, "signal", json_integer(w->signal));
	json_object_set_new(o, "timed_out", json_boolean(w->timed_out));
	json_object_set_new(o, "wall_s", num_or_null(w->wall_s));
	json_object_set_new(o, "value", num_or_null(w->value));
	json_object_set_new(o, "notes", str(w->notes ? w->notes : ""));
	json_object_set_new(o, "output",
			    w->ok || !w->output ? json_null() : str(w->output));
	json_object_set_new(o, "started_at", num_or_null(w->started_at));
	json_object_set_new(o, "run_as", str(w->run_as ? w->run_as : ""));
	json_object_set_new(o, "start_cpu", int_null(w->start_cpu));
	json_object_set_new(o, "start_node", int_null(w->start_node));
	json_object_set_new(o, "ipc", num_or_null(w->ipc));
	json_object_set_new(o, "ipc_note", str(w->ipc_note ? w->ipc_note : ""));
	json_object_set_new(o, "remote_access", num_or_null(w->remote_access));
	json_object_set_new(o, "remote_note",
			    str(w->remote_note ? w->remote_note : ""));
	json_object_set_new(o, "cpu_s", num_or_null(w->cpu_s));
	json_object_set_new(o, "busy_share", num_or_null(w->busy_share));
	json_object_set_new(o, "disturbed", json_boolean(w->disturbed));
	if ((rc = embed(o, "metrics", w->metrics_json)) < 0 ||
	    (rc = embed(o, "counters", w->counters_json)) < 0 ||
	    (rc = embed(o, "numa", w->numa_json)) < 0 ||
	    (rc = embed(o, "settings", w->settings_json)) < 0 ||
	    (rc = embed(o, "machine", w->machine_json)) < 0 ||
	    (rc = embed(o, "interference", w->interference_json)) < 0)
		goto fail;
	for (size_t i = 0; i < w->nimages; i++) {
		const struct pb_wire_image *im = &w->images[i];
		json_t *e = json_object();

		if (!e || json_array_append_new(imgs, e))
			goto fail;
		json_object_set_new(e, "path", str(im->path));
		json_object_set_new(
			e, "kind",
			json_string(im->kind >= PB_WIRE_IMAGE_ELF &&
						    im->kind <= PB_WIRE_IMAGE_ERROR
					    ? image_kinds[im->kind]
					    : "error"));
		json_object_set_new(e, "digest", str(im->digest));
		json_object_set_new(e, "note", str(im->note));
	}
	json_object_set_new(o, "images", imgs);
	return o;
fail:
	if (rc == PB_OK)
		pb_error_set("out of memory");
	json_decref(imgs);
	json_decref(o);
	return NULL;
}

char *pb_proto_run_record_json(const struct pb_run_row_wire *w)
{
	json_t *o = record_obj(w);

	return o ? dump(o) : NULL;
}

char *pb_proto_run_post_json(const char *lease, unsigned index,
			     const char *commit,
			     const struct pb_run_row_wire *rec)
{
	json_t *r = record_obj(rec), *o;

	if (!r)
		return NULL;
	o = json_pack("{s:s, s:I, s:s, s:o}", "lease", lease, "index",
		      (json_int_t)index, "commit", commit, "record", r);
	if (!o)
		pb_error_set("out of memory");
	return dump(o);
}

static json_t *str_null(const char *s)
{
	return s && *s ? str(s) : json_null();
}

char *pb_proto_lease_request_json(const char *request_id, unsigned wait_s,
				  const struct pb_agent_facts *f)
{
	json_t *o = json_object(), *facts = json_object();

	if (!o || !facts) {
		json_decref(o);
		json_decref(facts);
		return NULL;
	}
	json_object_set_new(facts, "kernel", str_null(f->kernel));
	json_object_set_new(facts, "cpu_model", str_null(f->cpu_model));
	json_object_set_new(facts, "nodes", int_null(f->nodes));
	json_object_set_new(facts, "cpus", int_null(f->cpus));
	json_object_set_new(facts, "numa_online", str_null(f->numa_online));
	json_object_set_new(facts, "snoop", str_null(f->snoop));
	json_object_set_new(facts, "thp", str_null(f->thp));
	json_object_set_new(facts, "thp_defrag", str_null(f->thp_defrag));
	json_object_set_new(facts, "zone_reclaim_mode",
			    int_null(f->zone_reclaim_mode));
	json_object_set_new(facts, "nic", str_null(f->nic));
	json_object_set_new(o, "request_id", str(request_id));
	json_object_set_new(o, "wait_s", json_integer(wait_s));
	json_object_set_new(o, "facts", facts);
	return dump(o);
}

void pb_job_release(struct pb_job *j)
{
	if (!j)
		return;
	free(j->repo_name);
	free(j->repo_url);
	free(j->bench_name);
	free(j->build);
	free(j->run);
	free(j->config);
	free(j->runs);
	memset(j, 0, sizeof(*j));
}

/* A lease id travels in URL paths: letters, digits, '.', '_', '-'. */
static int lease_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		      *s == '-'))
			return 0;
	return 1;
}

/* An optional number: absent or null keep *out. */
static int opt_num(struct chk *c, json_t *o, const char *key, double min,
		   double max, double *out)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return PB_OK;
	return get_num(c, o, key, min, max, 0, out);
}

/* A key of a configuration: lowercase letters and '_'. */
static int config_word(const char *s, int value)
{
	if (!*s)
		return 0;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch <= ' ' || ch >= 0x7f || ch == ',' || ch == '=')
			return 0;
		if (!value && !((ch >= 'a' && ch <= 'z') || ch == '_'))
			return 0;
	}
	return 1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "config": {K: string|integer} as "K=V,..." with keys sorted. */
static int job_config(struct chk *c, json_t *job, char **out)
{
	json_t *v = json_object_get(job, "config"), *m;
	struct pb_buf b = PB_BUF_INIT(8192);
	const char *keys[64], *key;
	char field[96], num[32];
	size_t n = 0;
	int rc = PB_OK;

	*out = NULL;
	if (v && !json_is_null(v) && !json_is_object(v))
		return bad(c, "job.config", "must be an object");
	if (v && json_is_object(v)) {
		if (json_object_size(v) > PB_ARRAY_SIZE(keys))
			return bad(c, "job.config", "has too many keys");
		json_object_foreach(v, key, m)
			keys[n++] = key;
	}
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (size_t i = 0; i < n && rc == PB_OK; i++) {
		const char *val;

		m = json_object_get(v, keys[i]);
		snprintf(field, sizeof(field), "job.config.%.64s", keys[i]);
		if (!config_word(keys[i], 0) || strlen(keys[i]) > 32)
			return bad(c, field, "is not a configuration key");
		if (json_is_integer(m)) {
			snprintf(num, sizeof(num), "%lld",
				 (long long)json_integer_value(m));
			val = num;
		} else if (json_is_string(m)) {
			val = json_string_value(m);
		} else {
			return bad(c, field, "must be a string or an integer");
		}
		if (!config_word(val, 1) || strlen(val) > 256)
			return bad(c, field, "has a value with blanks, ',' or "
				   "'=' in it, or longer than 256 bytes");
		rc = pb_buf_printf(&b, "%s%s=%s", i ? "," : "", keys[i], val);
	}
	if (rc < 0) {
		pb_buf_release(&b);
		return pb_error_set("out of memory");
	}
	*out = pb_buf_detach(&b);
	return *out ? PB_OK : pb_error_set("out of memory");
}

static int job_runs(struct chk *c, json_t *job, struct pb_job *out)
{
	json_t *v = json_object_get(job, "runs"), *m;
	char field[64];
	size_t i;
	int idx, rc;

	if (!v)
		return bad(c, "job.runs", "is missing");
	if (!json_is_array(v) || !json_array_size(v))
		return bad(c, "job.runs", "must be a non-empty array");
	if (json_array_size(v) > 100000)
		return bad(c, "job.runs", "has more than 100000 runs");
	out->runs = calloc(json_array_size(v), sizeof(*out->runs));
	if (!out->runs)
		return pb_error_set("out of memory");
	json_array_foreach(v, i, m) {
		struct chk sub = *c;
		char what[64];

		snprintf(what, sizeof(what), "job: 'runs[%zu]'", i);
		sub.what = what;
		if (!json_is_object(m))
			return bad(c, "job.runs", "must hold objects");
		if ((rc = get_int(&sub, m, "index", 0, INT32_MAX, 0, 0, &idx)) <
			    0 ||
		    (rc = get_fixed(&sub, m, "commit", out->runs[i].commit,
				    sizeof(out->runs[i].commit), 0)) < 0)
			return rc;
		if (!pb_is_sha(out->runs[i].commit)) {
			snprintf(field, sizeof(field), "runs[%zu].commit", i);
			return bad(c, field, "is not a 40-hex sha");
		}
		out->runs[i].index = (unsigned)idx;
		out->nruns = i + 1;
	}
	return PB_OK;
}

int pb_proto_lease_parse(const char *json, size_t len, struct pb_job *out,
			 char *err, size_t errlen)
{
	struct chk c = { err, errlen, "job" };
	json_t *o, *job, *repo, *bench, *v;
	double id = 0, bis = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->expires_in_s = 120;
	out->heartbeat_s = 30;
	out->build_timeout_s = 3600;
	out->ccache = 1;
	if (errlen)
		err[0] = '\0';
	if (!(o = load(&c, json, len)))
		return PB_EINVAL;
	job = json_object_get(o, "job");
	repo = json_object_get(job, "repo");
	bench = json_object_get(job, "benchmark");
	if ((rc = get_fixed(&c, o, "lease", out->lease, sizeof(out->lease),
			    0)) < 0)
		goto out;
	if (!lease_ok(out->lease)) {
		rc = bad(&c, "lease", "must be letters, digits, '.', '_' or "
			 "'-'");
		goto out;
	}
	if ((rc = opt_num(&c, o, "expires_in_s", 1, 1e7,
			  &out->expires_in_s)) < 0 ||
	    (rc = opt_num(&c, o, "heartbeat_s", 0.1, 1e6,
			  &out->heartbeat_s)) < 0)
		goto out;
	if (!json_is_object(job)) {
		rc = bad(&c, "job", "is missing or not an object");
		goto out;
	}
	if (!json_is_object(repo) || !json_is_object(bench)) {
		rc = bad(&c, json_is_object(repo) ? "job.benchmark" : "job.repo",
			 "is missing or not an object");
		goto out;
	}
	c.what = "job";
	if ((rc = get_num(&c, job, "id", 0, 9e15, 0, &id)) < 0 ||
	    (rc = opt_num(&c, job, "bisection", 0, 9e15, &bis)) < 0 ||
	    (rc = get_fixed(&c, job, "kind", out->kind, sizeof(out->kind),
			    0)) < 0)
		goto out;
	out->id = (int64_t)id;
	out->bisection = (int64_t)bis;
	if (strcmp(out->kind, "runs") && strcmp(out->kind, "pair") &&
	    strcmp(out->kind, "merge")) {
		rc = bad(&c, "job.kind", "must be \"runs\", \"pair\" or "
			 "\"merge\"");
		goto out;
	}
	c.what = "job: 'repo'";
	if ((rc = get_str(&c, repo, "name", 256, 1, &out->repo_name)) < 0 ||
	    (rc = get_str(&c, repo, "url", 4096, 0, &out->repo_url)) < 0)
		goto out;
	if (!out->repo_url[0]) {
		rc = bad(&c, "url", "is empty");
		goto out;
	}
	c.what = "job: 'benchmark'";
	if ((rc = get_str(&c, bench, "name", 256, 1, &out->bench_name)) < 0 ||
	    (rc = get_str(&c, bench, "build", 65536, 0, &out->build)) < 0 ||
	    (rc = get_str(&c, bench, "run", 65536, 0, &out->run)) < 0 ||
	    (rc = get_fixed(&c, bench, "metric", out->metric,
			    sizeof(out->metric), 0)) < 0 ||
	    (rc = get_num(&c, bench, "timeout_s", 0.001, 1e7, 0,
			  &out->timeout_s)) < 0 ||
	    (rc = opt_num(&c, bench, "build_timeout_s", 0.001, 1e7,
			  &out->build_timeout_s)) < 0)
		goto out;
	if (!out->build[0] || !out->run[0] || !out->metric[0]) {
		rc = bad(&c, !out->build[0] ? "build" : !out->run[0] ? "run"
								     : "metric",
			 "is empty");
		goto out;
	}
	v = json_object_get(bench, "lower_is_better");
	if (v && !json_is_null(v) &&
	    (rc = get_bool(&c, bench, "lower_is_better",
			   &out->lower_is_better)) < 0)
		goto out;
	v = json_object_get(bench, "ccache");
	if (v && !json_is_null(v) &&
	    (rc = get_bool(&c, bench, "ccache", &out->ccache)) < 0)
		goto out;
	c.what = "job";
	if ((rc = job_config(&c, job, &out->config)) < 0 ||
	    (rc = job_runs(&c, job, out)) < 0)
		goto out;
	if (!out->repo_name)
		out->repo_name = pb_strdup("");
	if (!out->bench_name)
		out->bench_name = pb_strdup("");
	if (!out->repo_name || !out->bench_name)
		rc = pb_error_set("out of memory");
out:
	json_decref(o);
	if (rc == PB_ERROR && errlen)
		snprintf(err, errlen, "job: %s", pb_error_last());
	return rc;
}

char *pb_proto_heartbeat_json(double run_s)
{
	json_t *o = json_object();

	if (o && run_s > 0)
		json_object_set_new(o, "run_s", json_real(ceil(run_s)));
	return dump(o);
}

char *pb_proto_build_failed_json(const char *commit, const char *reason,
				 const char *log_tail)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "commit", str(commit));
	json_object_set_new(o, "reason", str(reason ? reason : ""));
	json_object_set_new(o, "log_tail", str(log_tail ? log_tail : ""));
	return dump(o);
}

char *pb_proto_done_json(void)
{
	return dump(json_object());
}

int pb_proto_reply_parse(const char *json, size_t len,
			 struct pb_proto_reply *out)
{
	json_t *o, *v;

	memset(out, 0, sizeof(*out));
	out->cont = 1;
	out->accepted = out->repeat = -1;
	out->expires_in_s = NAN;
	if (!json || !len || len > PB_WIRE_BODY_MAX)
		return PB_EINVAL;
	o = json_loadb(json, len, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return PB_EINVAL;
	}
	if (json_is_boolean(v = json_object_get(o, "continue")))
		out->cont = json_is_true(v);
	if (json_is_boolean(v = json_object_get(o, "accepted")))
		out->accepted = json_is_true(v);
	if (json_is_boolean(v = json_object_get(o, "repeat")))
		out->repeat = json_is_true(v);
	if (json_is_boolean(v = json_object_get(o, "job_done")))
		out->job_done = json_is_true(v);
	if (json_is_number(v = json_object_get(o, "expires_in_s")))
		out->expires_in_s = json_number_value(v);
	if (json_is_string(v = json_object_get(o, "error")))
		pb_strlcpy(out->error, json_string_value(v),
			   sizeof(out->error));
	if (json_is_string(v = json_object_get(o, "lease_state")))
		pb_strlcpy(out->lease_state, json_string_value(v),
			   sizeof(out->lease_state));
	json_decref(o);
	return PB_OK;
}

int pb_proto_parse_state(struct pb_remote_state *out, const char *body,
			 size_t len)
{
	json_error_t e;
	json_t *o, *v;

	memset(out, 0, sizeof(*out));
	out->confidence = NAN;
	o = json_loadb(body, len, 0, &e);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return pb_error_code(PB_EINVAL, "the server's answer is not a "
				     "JSON object");
	}
#define COPY(key, dst)                                                        \
	if ((v = json_object_get(o, key)) && json_is_string(v))                \
		pb_strlcpy(dst, json_string_value(v), sizeof(dst));
	COPY("state", out->state);
	COPY("verdict", out->verdict);
	COPY("culprit", out->culprit);
	COPY("mode", out->mode);
	COPY("outcome", out->outcome);
	COPY("error", out->error);
	COPY("good", out->good);
	COPY("bad", out->bad);
	COPY("kind", out->kind);
	COPY("result", out->result);
	COPY("base", out->base);
	COPY("head", out->head);
	COPY("machine", out->machine);
#undef COPY
	out->effect = out->lo = out->hi = NAN;
	if ((v = json_object_get(o, "effect")) && json_is_number(v))
		out->effect = json_number_value(v);
	if ((v = json_object_get(o, "interval")) && json_is_array(v) &&
	    json_array_size(v) == 2 &&
	    json_is_number(json_array_get(v, 0)) &&
	    json_is_number(json_array_get(v, 1))) {
		out->lo = json_number_value(json_array_get(v, 0));
		out->hi = json_number_value(json_array_get(v, 1));
	}
	if ((v = json_object_get(o, "pairs")) && json_is_integer(v))
		out->pairs = (long long)json_integer_value(v);
	if ((v = json_object_get(o, "id")) && json_is_integer(v))
		out->id = json_integer_value(v);
	if ((v = json_object_get(o, "runs")) && json_is_integer(v))
		out->runs = (long long)json_integer_value(v);
	if ((v = json_object_get(o, "confidence")) && json_is_number(v))
		out->confidence = json_number_value(v);
	json_decref(o);
	return PB_OK;
}

char *pb_proto_bisect_req_json(const char *repo, const char *benchmark,
			       const char *good, const char *bad,
			       const char *config, double confidence,
			       unsigned max_runs, unsigned long long seed,
			       double min_effect)
{
	json_t *o = json_pack("{s:o, s:o, s:o, s:o}", "repo", str(repo),
			      "benchmark", str(benchmark), "good", str(good),
			      "bad", str(bad));

	if (!o)
		return NULL;
	if (config)
		json_object_set_new(o, "config", str(config));
	if (confidence > 0)
		json_object_set_new(o, "confidence", json_real(confidence));
	if (max_runs)
		json_object_set_new(o, "max_runs", json_integer(max_runs));
	if (seed)
		json_object_set_new(o, "seed", json_integer((json_int_t)seed));
	if (min_effect > 0)
		json_object_set_new(o, "min_effect", json_real(min_effect));
	return dump_api(o);
}

/* ---- merges, webhooks and alerts (docs/merges.md) ---- */

int pb_proto_parse_merge_req(struct pb_merge_req *out, const char *body,
			     size_t len)
{
	static const char *const keys[] = { "repo", "commit", NULL };
	json_t *o;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = parse_object(&o, body, len, keys)) < 0)
		return rc;
	if ((rc = field_string(o, "repo", 1, 128, &out->repo)) < 0 ||
	    (rc = field_string(o, "commit", 1, 256, &out->commit)) < 0)
		goto out;
	if (out->commit[0] == '-')
		rc = pb_error_code(PB_EINVAL, "field 'commit': a revision does "
				   "not start with '-'");
out:
	json_decref(o);
	if (rc < 0)
		pb_merge_req_release(out);
	return rc;
}

void pb_merge_req_release(struct pb_merge_req *r)
{
	free(r->repo);
	free(r->commit);
	memset(r, 0, sizeof(*r));
}

char *pb_proto_merge_answer_json(const struct pb_merge_answer *a)
{
	json_t *o;

	if (!a->hook)
		o = json_pack("{s:I, s:I, s:I}", "jobs", (json_int_t)a->jobs,
			      "benchmarks", (json_int_t)a->benchmarks,
			      "skipped", (json_int_t)a->skipped);
	else
		o = json_pack("{s:b, s:b}", "queued", a->push > 0,
			      "duplicate", a->duplicate);
	if (o && a->hook && a->push > 0)
		json_object_set_new(o, "push", json_integer(a->push));
	if (o && a->hook && !a->push)
		json_object_set_new(o, "jobs", json_integer(0));
	if (o && a->commit)
		json_object_set_new(o, "commit", json_string(a->commit));
	if (o && a->ignored)
		json_object_set_new(o, "ignored", json_string(a->ignored));
	return dump_api(o);
}

char *pb_proto_push_json(const struct pb_push_wire *p)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:b, s:s, s:I, s:o, s:o}",
			      "id", (json_int_t)p->id, "repo", p->repo,
			      "source", p->source, "commit", p->commit,
			      "forced", p->forced, "state", p->state,
			      "attempts", (json_int_t)p->attempts,
			      "created_at", num_or_null(p->created_at),
			      "done_at", num_or_null(p->done_at));

	if (o && p->jobs >= 0)
		json_object_set_new(o, "jobs", json_integer(p->jobs));
	if (o && p->note && p->note[0])
		json_object_set_new(o, "note", json_string(p->note));
	return dump_api(o);
}

/* A 40-hex sha, all zeros counted as "none" (a deletion). */
static int is_sha(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!isxdigit((unsigned char)s[n]))
			return 0;
	return n == 40;
}

int pb_proto_parse_push(struct pb_push *out, const char *body, size_t len,
			int gitlab)
{
	json_error_t e;
	json_t *o, *v;
	const char *ref, *after;

	memset(out, 0, sizeof(*out));
	o = json_loadb(body, len, 0, &e);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return pb_error_code(PB_EINVAL, "the body is not a JSON object%s%s",
				     o ? "" : ": ", o ? "" : e.text);
	}
	v = json_object_get(o, "ref");
	ref = json_is_string(v) ? json_string_value(v) : NULL;
	v = json_object_get(o, gitlab && json_is_string(json_object_get(
						  o, "checkout_sha"))
				       ? "checkout_sha"
				       : "after");
	after = json_is_string(v) ? json_string_value(v) : NULL;
	if (!ref || strlen(ref) >= sizeof(out->ref)) {
		json_decref(o);
		return pb_error_code(PB_EINVAL, "field 'ref': missing or not "
				     "a ref");
	}
	pb_strlcpy(out->ref, ref, sizeof(out->ref));
	v = json_object_get(o, "deleted");
	out->deleted = json_is_true(v) ||
		       (after && strspn(after, "0") == 40 &&
			strlen(after) == 40);
	v = json_object_get(o, "forced");
	out->forced = json_is_true(v);
	if (!out->deleted) {
		if (!after || !is_sha(after)) {
			json_decref(o);
			return pb_error_code(PB_EINVAL, "field 'after': missing "
					     "or not a 40-hex sha");
		}
		pb_strlcpy(out->after, after, sizeof(out->after));
	}
	json_decref(o);
	return PB_OK;
}

int pb_proto_parse_alert_state(char out[16], const char *body, size_t len)
{
	static const char *const keys[] = { "state", NULL };
	json_t *o;
	char *s = NULL;
	int rc;

	if ((rc = parse_object(&o, body, len, keys)) < 0)
		return rc;
	rc = field_string(o, "state", 1, 15, &s);
	json_decref(o);
	if (rc < 0)
		return rc;
	if (strcmp(s, "open") && strcmp(s, "acknowledged") &&
	    strcmp(s, "fixed"))
		rc = pb_error_code(PB_EINVAL, "field 'state': must be \"open\", "
				   "\"acknowledged\" or \"fixed\"");
	else
		pb_strlcpy(out, s, 16);
	free(s);
	return rc;
}

static json_t *alert_obj(const struct pb_alert_wire *a)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s, "
			 "s:o, s:s, s:o, s:o, s:o, s:s*, s:o, s:o}",
			 "id", (json_int_t)a->id, "repo", a->repo, "benchmark",
			 a->benchmark, "config", "default", "good", a->good,
			 "bad", a->bad, "change", num_or_null(a->change),
			 "p_value", num_or_null(a->p_value), "mode", a->mode,
			 "state", a->state, "bisection",
			 a->bisection > 0 ? json_integer((json_int_t)a->bisection)
					  : json_null(),
			 "machine", a->machine, "before",
			 num_or_null(a->before), "after", num_or_null(a->after),
			 "created_at", num_or_null(a->created_at), "note",
			 a->note && a->note[0] ? a->note : NULL, "culprit",
			 a->culprit && a->culprit[0] ? json_string(a->culprit)
						     : json_null(),
			 "verdict",
			 a->verdict && a->verdict[0] ? json_string(a->verdict)
						     : json_null());
}

char *pb_proto_alerts_json(const struct pb_alert_wire *v, size_t n)
{
	json_t *a = json_array();

	if (!a)
		return NULL;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, alert_obj(&v[i]));
	return dump_api(json_pack("{s:o}", "alerts", a));
}

char *pb_proto_alert_json(const struct pb_alert_wire *a)
{
	return dump_api(alert_obj(a));
}

char *pb_proto_status_summary(const char *bisections, size_t blen,
			      const char *alerts, size_t alen, int json)
{
	json_t *b = json_loadb(bisections, blen, 0, NULL);
	json_t *a = json_loadb(alerts, alen, 0, NULL);
	json_t *bl = json_object_get(b, "bisections");
	json_t *al = json_object_get(a, "alerts"), *open = json_array(), *v;
	struct pb_buf out = PB_BUF_INIT(1 << 24);
	char *res = NULL;
	size_t i;

	if (!json_is_array(bl) || !json_is_array(al) || !open)
		goto out;
	json_array_foreach(al, i, v) {
		json_t *st = json_object_get(v, "state");

		if (json_is_string(st) &&
		    strcmp(json_string_value(st), "fixed"))
			json_array_append(open, v);
	}
	if (json) {
		res = dump_api(json_pack("{s:O, s:O}", "alerts", open,
					 "bisections", bl));
		goto out;
	}
	pb_buf_printf(&out, "%zu open alert%s\n", json_array_size(open),
		      json_array_size(open) == 1 ? "" : "s");
	json_array_foreach(open, i, v) {
		json_t *bis = json_object_get(v, "bisection");
		char bs[96] = "no bisection";

		json_t *vd = json_object_get(v, "verdict");
		json_t *cu = json_object_get(v, "culprit");

		if (json_is_integer(bis) && json_is_string(cu))
			snprintf(bs, sizeof(bs), "bisection %lld: culprit %.12s",
				 (long long)json_integer_value(bis),
				 json_string_value(cu));
		else if (json_is_integer(bis) && json_is_string(vd))
			/* the alert's change was not found again where the
			 * bisection measured: say so, it may be a false
			 * alarm */
			snprintf(bs, sizeof(bs), "bisection %lld: %s%s",
				 (long long)json_integer_value(bis),
				 json_string_value(vd),
				 !strcmp(json_string_value(vd), "no_regression")
					 ? " (not reproduced)"
					 : "");
		else if (json_is_integer(bis))
			snprintf(bs, sizeof(bs), "bisection %lld",
				 (long long)json_integer_value(bis));
		pb_buf_printf(&out,
			      "  alert %lld  %s  %s  %+.1f%%  %.12s..%.12s  "
			      "%s  %s\n",
			      (long long)json_integer_value(
				      json_object_get(v, "id")),
			      json_string_value(json_object_get(v, "repo")),
			      json_string_value(
				      json_object_get(v, "benchmark")),
			      100 * json_number_value(
					    json_object_get(v, "change")),
			      json_string_value(json_object_get(v, "good")),
			      json_string_value(json_object_get(v, "bad")),
			      json_string_value(json_object_get(v, "state")),
			      bs);
	}
	pb_buf_printf(&out, "%zu bisection%s\n", json_array_size(bl),
		      json_array_size(bl) == 1 ? "" : "s");
	json_array_foreach(bl, i, v) {
		json_t *c = json_object_get(v, "culprit");
		json_t *vd = json_object_get(v, "verdict");

		pb_buf_printf(&out, "  bisection %lld  %s  %s  %s%s%s\n",
			      (long long)json_integer_value(
				      json_object_get(v, "id")),
			      json_string_value(json_object_get(v, "repo")),
			      json_string_value(json_object_get(v, "state")),
			      json_is_string(vd) ? json_string_value(vd) : "-",
			      json_is_string(c) ? "  " : "",
			      json_is_string(c) ? json_string_value(c) : "");
	}
	res = pb_buf_detach(&out);
out:
	pb_buf_release(&out);
	json_decref(open);
	json_decref(a);
	json_decref(b);
	return res;
}

char *pb_proto_merge_req_json(const char *repo, const char *commit)
{
	return dump_api(json_pack("{s:s, s:s}", "repo", repo, "commit",
				  commit));
}

/* ---- notifications (docs/notifications.md) ---- */

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
		      str(repo_name), "data", data);
	return dump_api(o);
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
	if (json_object_set_new(o, "benchmark", str(benchmark)) < 0 ||
	    json_object_set_new(o, "repo", str(v->repo)) < 0 ||
	    json_object_set_new(o, "api", json_string(api)) < 0 ||
	    json_object_set_new(o, "alert",
				alert > 0 ? json_integer((json_int_t)alert)
					  : json_null()) < 0) {
		json_decref(o);
		return NULL;
	}
	return dump_api(o);
}

/* ---- flattening stored JSON for the report ---- */

static int flat_add(struct pb_flat **v, size_t *n, size_t *alloc,
		    const char *path, json_t *val)
{
	struct pb_flat *f;

	if (*n == *alloc) {
		size_t na = *alloc ? 2 * *alloc : 16;
		struct pb_flat *nv = realloc(*v, na * sizeof(*nv));

		if (!nv)
			return pb_error_code(PB_EINFRA, "out of memory");
		*v = nv;
		*alloc = na;
	}
	f = &(*v)[*n];
	memset(f, 0, sizeof(*f));
	f->value = json_is_number(val) ? json_number_value(val) : NAN;
	if (json_is_string(val))
		f->text = pb_strdup(json_string_value(val));
	else if (json_is_boolean(val))
		f->text = pb_strdup(json_is_true(val) ? "true" : "false");
	else if (json_is_null(val))
		f->text = pb_strdup("null");
	if (!(f->path = pb_strdup(path)) ||
	    (!json_is_number(val) && !f->text)) {
		free(f->path);
		free(f->text);
		return pb_error_code(PB_EINFRA, "out of memory");
	}
	(*n)++;
	return PB_OK;
}

static int flatten(json_t *j, char *path, size_t len, size_t cap,
		   struct pb_flat **v, size_t *n, size_t *alloc, int depth);

/* One member or element: its name appended to the path, then flattened. */
static int flatten_child(json_t *val, const char *name, char *path,
			 size_t len, size_t cap, struct pb_flat **v, size_t *n,
			 size_t *alloc, int depth)
{
	int w = snprintf(path + len, cap - len, "%s%s", len ? "/" : "", name);
	int rc;

	if (w < 0 || (size_t)w >= cap - len) {
		path[len] = 0;
		return PB_OK; /* too deep a path: left out */
	}
	rc = flatten(val, path, len + (size_t)w, cap, v, n, alloc, depth + 1);
	path[len] = 0;
	return rc;
}

static int flatten(json_t *j, char *path, size_t len, size_t cap,
		   struct pb_flat **v, size_t *n, size_t *alloc, int depth)
{
	const char *key;
	json_t *val;
	size_t i;
	int rc = PB_OK;

	if (depth > 8)
		return PB_OK;
	if (json_is_object(j)) {
		json_object_foreach(j, key, val)
			if ((rc = flatten_child(val, key, path, len, cap, v, n,
						alloc, depth)) < 0)
				break;
		return rc;
	}
	if (json_is_array(j)) {
		json_array_foreach(j, i, val) {
			char idx[24];

			snprintf(idx, sizeof(idx), "%zu", i);
			if ((rc = flatten_child(val, idx, path, len, cap, v, n,
						alloc, depth)) < 0)
				break;
		}
		return rc;
	}
	return flat_add(v, n, alloc, path, j);
}

int pb_proto_flatten(const char *text, struct pb_flat **out, size_t *n)
{
	json_error_t e;
	json_t *j;
	char path[1024] = "";
	size_t alloc = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!text || !text[0])
		return PB_OK;
	if (!(j = json_loads(text, JSON_DECODE_ANY, &e)))
		return pb_error_code(PB_EINVAL, "not JSON: %s", e.text);
	rc = flatten(j, path, 0, sizeof(path), out, n, &alloc, 0);
	json_decref(j);
	if (rc < 0) {
		pb_flat_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

void pb_flat_free(struct pb_flat *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].path);
		free(v[i].text);
	}
	free(v);
}
