/*
 * test_proto_record.c - the run record on the wire (common/proto.h) and
 * the agent's side of the protocol: a filled run result, turned into the
 * record by the agent (agent/daemon/record.h, with real files digested
 * from a temporary work tree), parses back to the same values and to the
 * same JSON columns `bisect --local` stores; malformed records are refused
 * with the field named; jobs and answers of the server are read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/daemon/record.h"
#include "agent/image.h"
#include "agent/runner.h"
#include "common/err.h"
#include "common/proto.h"
#include "common/record.h"
#include "common/util.h"

#define SHA "0123456789abcdef0123456789abcdef01234567"

struct fixture {
	char dir[64];
	struct pb_run_result res;
};

/* A work tree with an ELF file (a copy of /bin/true), a text file, and a
 * name that is not there. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/pb-test-record-XXXXXX", cmd[256];
	struct pb_run_result *r;
	struct pb_run_measurements *m;
	FILE *fp;

	if (!f || !mkdtemp(tmpl))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s", tmpl);
	snprintf(cmd, sizeof(cmd), "cp /bin/true %s/b", f->dir);
	if (system(cmd) != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/data.txt", f->dir);
	if (!(fp = fopen(cmd, "w")))
		return -1;
	fputs("not a program\n", fp);
	fclose(fp);

	r = &f->res;
	memset(r, 0, sizeof(*r));
	r->ok = 1;
	r->exited = 1;
	r->wall_s = 1.25;
	r->value = 123.5;
	r->started_at = 1700000000.125;
	pb_metrics_init(&r->metrics);
	pb_metrics_feed(&r->metrics, "score: 123.5 ops/s\nother=7\nbad: inf\n",
			36);
	pb_metrics_finish(&r->metrics);
	r->output = pb_strdup("score: 123.5 ops/s\n");
	m = &r->measured;
	pb_run_measurements_init(m);
	m->start_cpu = 3;
	m->start_node = 1;
	m->ipc = 1.5;
	m->remote_access = NAN;
	snprintf(m->remote_note, sizeof(m->remote_note),
		 "remote-access unsupported: no PMU");
	m->ncounters = 1;
	snprintf(m->counters[0].name, sizeof(m->counters[0].name), "cycles");
	m->counters[0].state = "counted";
	m->counters[0].value = 1e9;
	m->counters[0].running = 1;
	m->nsettings = 1;
	snprintf(m->settings[0].setting, sizeof(m->settings[0].setting), "thp");
	snprintf(m->settings[0].target, sizeof(m->settings[0].target),
		 "transparent_hugepage/enabled");
	snprintf(m->settings[0].old_value, sizeof(m->settings[0].old_value),
		 "madvise");
	snprintf(m->settings[0].new_value, sizeof(m->settings[0].new_value),
		 "never");
	m->settings[0].status = "applied";
	pb_rec_fact_add(m, "kernel", "6.1.0-test");
	pb_rec_fact_add(m, "cpu_model", "Test CPU \xc3\xa9"); /* UTF-8 */
	m->cpu_s = 1.0;
	m->interference = 0.125;
	m->others_cpus = 0.25;
	m->disturbed = 1;
	snprintf(m->disturbed_why, sizeof(m->disturbed_why), "busy");
	pb_image_files_init(&r->tree_files);
	pb_image_files_add(&r->tree_files, "b");
	pb_image_files_add(&r->tree_files, "data.txt");
	pb_image_files_add(&r->tree_files, "gone.so");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pb_run_result_release(&f->res);
	pb_rm_rf(f->dir);
	free(f);
	return 0;
}

static const struct pb_wire_image *image(const struct pb_run_row_wire *w,
					 const char *path)
{
	for (size_t i = 0; i < w->nimages; i++)
		if (!strcmp(w->images[i].path, path))
			return &w->images[i];
	return NULL;
}

/* JSON text of the record, filled from the fixture's result. */
static char *record_text(struct fixture *f, struct pb_digest_memo *memo)
{
	struct pb_run_row_wire w;
	char *json;

	assert_int_equal(pb_agent_record_fill(&w, &f->res, "nobody", f->dir,
					      SHA, memo),
			 PB_OK);
	json = pb_proto_run_record_json(&w);
	assert_non_null(json);
	pb_run_row_wire_release(&w);
	return json;
}

static void test_proto_record__round_trip(void **state)
{
	struct fixture *f = *state;
	const struct pb_run_measurements *m = &f->res.measured;
	struct pb_run_row_wire w;
	const struct pb_wire_image *im;
	struct pb_digest_memo memo;
	char err[256], *json, *col;

	assert_string_equal(PB_IMAGE_DIGEST_PREFIX_WIRE, PB_IMAGE_DIGEST_PREFIX);
	pb_digest_memo_init(&memo);
	json = record_text(f, &memo);
	assert_int_equal(pb_proto_run_record_parse(json, strlen(json), &w, err,
						   sizeof(err)),
			 PB_OK);
	assert_int_equal(w.ok, 1);
	assert_string_equal(w.reason, "");
	assert_int_equal(w.exited, 1);
	assert_int_equal(w.exit_code, 0);
	assert_int_equal(w.signal, 0);
	assert_int_equal(w.timed_out, 0);
	assert_true(w.wall_s == 1.25);
	assert_true(w.value == 123.5);
	assert_true(w.started_at == 1700000000.125);
	assert_string_equal(w.run_as, "nobody");
	assert_null(w.output); /* ok: never sent */
	assert_string_equal(w.notes, f->res.metrics.notes.ptr);
	assert_true(strstr(w.notes, "bad") != NULL);
	assert_int_equal(w.start_cpu, 3);
	assert_int_equal(w.start_node, 1);
	assert_true(w.ipc == 1.5);
	assert_string_equal(w.ipc_note, "");
	assert_true(isnan(w.remote_access));
	assert_string_equal(w.remote_note, "remote-access unsupported: no PMU");
	assert_true(w.cpu_s == 1.0);
	assert_true(w.busy_share == 0.125);
	assert_int_equal(w.disturbed, 1);
	/* the JSON columns are what local.c stores, byte for byte */
	col = pb_proto_metrics_json(&f->res.metrics);
	assert_string_equal(w.metrics_json, col);
	free(col);
	col = pb_proto_counters_json(m);
	assert_string_equal(w.counters_json, col);
	free(col);
	col = pb_proto_numa_json(m);
	assert_string_equal(w.numa_json, col);
	free(col);
	col = pb_proto_settings_json(m);
	assert_string_equal(w.settings_json, col);
	free(col);
	col = pb_proto_facts_json(m);
	assert_string_equal(w.machine_json, col);
	free(col);
	col = pb_proto_interference_json(m, f->res.wall_s);
	assert_string_equal(w.interference_json, col);
	free(col);
	/* images: the ELF digested, the text file not, the missing one an
	 * error with its reason */
	assert_int_equal(w.nimages, 3);
	im = image(&w, "b");
	assert_non_null(im);
	assert_int_equal(im->kind, PB_WIRE_IMAGE_ELF);
	assert_true(!strncmp(im->digest, "elf1:", 5) &&
		    strlen(im->digest) == 69);
	im = image(&w, "data.txt");
	assert_int_equal(im->kind, PB_WIRE_IMAGE_OTHER);
	assert_null(im->digest);
	assert_string_equal(im->note, "not an ELF file");
	im = image(&w, "gone.so");
	assert_int_equal(im->kind, PB_WIRE_IMAGE_ERROR);
	assert_non_null(im->note);
	/* written again from the parsed struct: the same text */
	col = pb_proto_run_record_json(&w);
	assert_string_equal(col, json);
	free(col);
	pb_run_row_wire_release(&w);
	free(json);
	/* each file was digested once: the memo holds it for the next run */
	assert_int_equal(memo.n, 3);
	json = record_text(f, &memo);
	assert_int_equal(memo.n, 3);
	free(json);
	pb_digest_memo_release(&memo);
}

/* A failed run carries its output and reason, no value, and is never
 * disturbed; a truncated set of files gets its "/" row. */
static void test_proto_record__failed_run(void **state)
{
	struct fixture *f = *state;
	struct pb_run_row_wire w;
	char err[256], *json;

	f->res.ok = 0;
	f->res.exit_code = 3;
	snprintf(f->res.reason, sizeof(f->res.reason), "exit status 3");
	f->res.tree_files.truncated = 1;
	json = record_text(f, NULL);
	assert_int_equal(pb_proto_run_record_parse(json, strlen(json), &w, err,
						   sizeof(err)),
			 PB_OK);
	assert_int_equal(w.ok, 0);
	assert_string_equal(w.reason, "exit status 3");
	assert_int_equal(w.exit_code, 3);
	assert_true(isnan(w.value));
	assert_string_equal(w.output, "score: 123.5 ops/s\n");
	assert_int_equal(w.disturbed, 0);
	assert_int_equal(w.nimages, 4);
	assert_string_equal(w.images[0].path, "/");
	assert_int_equal(w.images[0].kind, PB_WIRE_IMAGE_ERROR);
	assert_true(strstr(w.images[0].note, "more than") != NULL);
	pb_run_row_wire_release(&w);
	free(json);
}

/* Parses text, expecting PB_EINVAL with `want` in the message. */
static void refused(const char *text, const char *want)
{
	struct pb_run_row_wire w;
	char err[512];
	int rc = pb_proto_run_record_parse(text, strlen(text), &w, err,
					   sizeof(err));

	if (rc != PB_EINVAL || !strstr(err, want))
		fail_msg("want '%s', got %d '%s'", want, rc, err);
	pb_run_row_wire_release(&w);
}

/* The fixture's record with key (a dotted path) set to v (NULL: removed). */
static void mutated(struct fixture *f, const char *key, json_t *v,
		    const char *want)
{
	char *json = record_text(f, NULL), path[128], *dot, *text;
	json_t *o = json_loads(json, 0, NULL), *at = o;

	assert_non_null(o);
	snprintf(path, sizeof(path), "%s", key);
	while ((dot = strchr(path, '.'))) {
		*dot = '\0';
		at = json_object_get(at, path);
		if (json_is_array(at))
			at = json_array_get(at, 0);
		memmove(path, dot + 1, strlen(dot + 1) + 1);
	}
	if (v)
		json_object_set_new(at, path, v);
	else
		json_object_del(at, path);
	text = json_dumps(o, JSON_COMPACT);
	refused(text, want);
	free(text);
	json_decref(o);
	free(json);
}

static void test_proto_record__malformed(void **state)
{
	struct fixture *f = *state;
	char *long_reason = malloc(400), *big, *deep;
	json_t *nest = json_object(), *img;

	refused("{", "record: not JSON");
	refused("[]", "record: not a JSON object");
	refused("{\"ok\": true, \"ok\": false}", "duplicate");
	refused("{\"wall_s\": 1e400}", "not JSON");
	mutated(f, "ok", NULL, "record: 'ok' is missing");
	mutated(f, "ok", json_string("yes"), "'ok' must be true or false");
	mutated(f, "wall_s", json_real(-1), "'wall_s' must be a finite number");
	mutated(f, "wall_s", json_string("1"), "'wall_s' must be a number");
	mutated(f, "exit_code", json_integer(300), "'exit_code' must lie in");
	mutated(f, "exit_code", json_real(1.5), "'exit_code' must be an integer");
	mutated(f, "start_cpu", json_integer(-5), "'start_cpu' must lie in");
	mutated(f, "value", json_null(),
		"'value' must be a number when 'ok' is true");
	mutated(f, "output", json_string("x"), "'output' is sent for failed");
	memset(long_reason, 'x', 399);
	long_reason[399] = '\0';
	mutated(f, "run_as", json_string(long_reason),
		"'run_as' is longer than 63 bytes");
	mutated(f, "metrics.score", json_string("fast"),
		"'metrics.score' must be a number or null");
	mutated(f, "counters", json_array(), "'counters' must be an object");
	mutated(f, "settings.status", NULL,
		"'settings[0].status' must be a string");
	mutated(f, "machine.kernel", json_integer(6),
		"'machine.kernel' must be a string");
	big = malloc(PB_WIRE_STR_MAX + 2);
	memset(big, 'y', PB_WIRE_STR_MAX + 1);
	big[PB_WIRE_STR_MAX + 1] = '\0';
	mutated(f, "numa.start_note", json_string(big),
		"'numa.start_note' is longer than 4096 bytes");
	free(big);
	for (int i = 0; i < 10; i++) {
		json_t *outer = json_object();

		json_object_set_new(outer, "x", nest);
		nest = outer;
	}
	mutated(f, "interference", nest, "is nested deeper than");
	mutated(f, "images", json_object(), "'images' must be an array");
	img = json_pack("[{s:s, s:s, s:n, s:n}]", "path", "b", "kind", "elf",
			"digest", "note");
	mutated(f, "images", img, "'digest' must be \"elf1:\"");
	img = json_pack("[{s:s, s:s, s:n, s:n}]", "path", "b", "kind", "exe",
			"digest", "note");
	mutated(f, "images", img, "'images[0]': 'kind' must be");
	img = json_pack("[{s:s, s:s, s:n, s:n}]", "path", "/etc/passwd",
			"kind", "other", "digest", "note");
	mutated(f, "images", img, "'path' must be relative");
	deep = malloc(PB_WIRE_BODY_MAX + 2);
	memset(deep, ' ', PB_WIRE_BODY_MAX + 1);
	deep[0] = '{';
	deep[PB_WIRE_BODY_MAX + 1] = '\0';
	refused(deep, "over");
	free(deep);
	/* a failed run must say why */
	f->res.ok = 0;
	f->res.reason[0] = '\0';
	{
		char *json = record_text(f, NULL);

		refused(json, "'reason' must say why the run failed");
		free(json);
	}
	free(long_reason);
}

static void test_proto_record__post_body(void **state)
{
	struct fixture *f = *state;
	struct pb_run_row_wire w, back;
	json_t *o, *rec;
	char err[256], *body, *text;

	assert_int_equal(pb_agent_record_fill(&w, &f->res, "nobody", f->dir,
					      SHA, NULL),
			 PB_OK);
	body = pb_proto_run_post_json("pbl_x", 7, SHA, &w);
	assert_non_null(body);
	o = json_loads(body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "lease")),
			    "pbl_x");
	assert_int_equal(json_integer_value(json_object_get(o, "index")), 7);
	assert_string_equal(json_string_value(json_object_get(o, "commit")),
			    SHA);
	rec = json_object_get(o, "record");
	text = json_dumps(rec, JSON_COMPACT);
	assert_int_equal(pb_proto_run_record_parse(text, strlen(text), &back,
						   err, sizeof(err)),
			 PB_OK);
	assert_true(back.value == w.value);
	pb_run_row_wire_release(&back);
	free(text);
	json_decref(o);
	free(body);
	pb_run_row_wire_release(&w);
}

#define JOB(config, runs)                                                     \
	"{\"lease\": \"pbl_5c1d\", \"expires_in_s\": 120, \"heartbeat_s\": "  \
	"30, \"job\": {\"id\": 17, \"bisection\": 3, \"kind\": \"pair\", "    \
	"\"repo\": {\"name\": \"zlib-ng\", \"url\": \"https://x/y.git\"}, "   \
	"\"benchmark\": {\"name\": \"minigzip\", \"build\": \"make -j2\", "   \
	"\"run\": \"./minigzip -3 < big\", \"metric\": \"MB/s\", "            \
	"\"lower_is_better\": false, \"timeout_s\": 60, "                     \
	"\"build_timeout_s\": 1800, \"ccache\": false}, \"config\": " config  \
	", \"runs\": " runs "}}"

static void test_proto_record__lease(void **state)
{
	struct pb_job j;
	char err[256];
	const char *ok = JOB("{\"threads\": 4, \"thp\": \"never\"}",
			     "[{\"index\": 0, \"commit\": \"" SHA "\"}, "
			     "{\"index\": 1, \"commit\": \"" SHA "\"}]");

	(void)state;
	assert_int_equal(pb_proto_lease_parse(ok, strlen(ok), &j, err,
					      sizeof(err)),
			 PB_OK);
	assert_string_equal(j.lease, "pbl_5c1d");
	assert_true(j.heartbeat_s == 30 && j.expires_in_s == 120);
	assert_int_equal(j.id, 17);
	assert_int_equal(j.bisection, 3);
	assert_string_equal(j.kind, "pair");
	assert_string_equal(j.repo_name, "zlib-ng");
	assert_string_equal(j.repo_url, "https://x/y.git");
	assert_string_equal(j.build, "make -j2");
	assert_string_equal(j.run, "./minigzip -3 < big");
	assert_string_equal(j.metric, "MB/s");
	assert_true(j.timeout_s == 60 && j.build_timeout_s == 1800);
	assert_int_equal(j.ccache, 0);
	assert_string_equal(j.config, "thp=never,threads=4"); /* sorted */
	assert_int_equal(j.nruns, 2);
	assert_int_equal(j.runs[1].index, 1);
	assert_string_equal(j.runs[1].commit, SHA);
	pb_job_release(&j);

#define BAD_JOB(text, want)                                                   \
	do {                                                                  \
		const char *t_ = (text);                                      \
		assert_int_equal(pb_proto_lease_parse(t_, strlen(t_), &j, err,\
						      sizeof(err)),           \
				 PB_EINVAL);                                  \
		if (!strstr(err, want))                                       \
			fail_msg("want '%s', got '%s'", want, err);           \
		pb_job_release(&j);                                           \
	} while (0)
	BAD_JOB(JOB("{}", "[]"), "'job.runs' must be a non-empty array");
	BAD_JOB(JOB("{}", "[{\"index\": 0, \"commit\": \"abc\"}]"),
		"'runs[0].commit' is not a 40-hex sha");
	BAD_JOB(JOB("{\"thp\": \"a,b\"}", "[]"), "'job.config.thp'");
	BAD_JOB(JOB("[]", "[]"), "'job.config' must be an object");
	BAD_JOB("{\"lease\": \"../x\", \"job\": {}}", "'lease' must be");
	BAD_JOB("{\"lease\": \"a\"}", "'job' is missing");
}

static void test_proto_record__requests_and_answers(void **state)
{
	struct pb_agent_facts facts = { "6.1.0", "CPU", 2, 8, "0-1", NULL,
					"madvise", "", -1, NULL };
	struct pb_proto_reply rep;
	const char *t;
	char *s;
	json_t *root, *o;

	(void)state;
	s = pb_proto_lease_request_json("00ff", 30, &facts);
	root = json_loads(s, 0, NULL);
	assert_string_equal(
		json_string_value(json_object_get(root, "request_id")), "00ff");
	assert_int_equal(json_integer_value(json_object_get(root, "wait_s")),
			 30);
	o = json_object_get(root, "facts");
	assert_int_equal(json_integer_value(json_object_get(o, "nodes")), 2);
	assert_true(json_is_null(json_object_get(o, "snoop")));
	assert_true(json_is_null(json_object_get(o, "thp_defrag")));
	assert_true(json_is_null(json_object_get(o, "zone_reclaim_mode")));
	json_decref(root);
	free(s);
	s = pb_proto_heartbeat_json(75);
	assert_string_equal(s, "{\"run_s\":75.0}");
	free(s);
	s = pb_proto_heartbeat_json(0);
	assert_string_equal(s, "{}");
	free(s);
	s = pb_proto_build_failed_json(SHA, "build exit status 2", "x\n");
	assert_string_equal(s, "{\"commit\":\"" SHA "\",\"reason\":\"build exit "
			       "status 2\",\"log_tail\":\"x\\n\"}");
	free(s);
	t = "{\"accepted\": true, \"repeat\": false, \"continue\": false}";
	assert_int_equal(pb_proto_reply_parse(t, strlen(t), &rep), PB_OK);
	assert_int_equal(rep.accepted, 1);
	assert_int_equal(rep.repeat, 0);
	assert_int_equal(rep.cont, 0);
	t = "{\"error\": \"gone\", \"lease_state\": \"expired\"}";
	assert_int_equal(pb_proto_reply_parse(t, strlen(t), &rep), PB_OK);
	assert_string_equal(rep.lease_state, "expired");
	assert_string_equal(rep.error, "gone");
	assert_int_equal(rep.cont, 1);
	assert_int_equal(pb_proto_reply_parse("", 0, &rep), PB_EINVAL);
	assert_int_equal(rep.cont, 1);
}

/* An alert on the wire carries its bisection's verdict; `perfbisect
 * status` names the culprit, or says "not reproduced" when the bisection
 * found no regression, and leaves out fixed alerts. */
static void test_proto_record__alerts_and_status(void **state)
{
	struct pb_alert_wire w[3] = {
		{ .id = 1, .bisection = 7, .repo = "app", .benchmark = "score",
		  .good = "1111111111111111111111111111111111111111",
		  .bad = "2222222222222222222222222222222222222222",
		  .mode = "shift", .state = "open", .machine = "m1",
		  .culprit = "3333333333333333333333333333333333333333",
		  .verdict = "culprit", .change = -0.25, .p_value = 0.001,
		  .before = 100, .after = 75, .created_at = 1700000000 },
		{ .id = 2, .bisection = 8, .repo = "app", .benchmark = "score",
		  .good = "4444444444444444444444444444444444444444",
		  .bad = "5555555555555555555555555555555555555555",
		  .mode = "shift", .state = "acknowledged", .machine = "m1",
		  .verdict = "no_regression", .change = -0.06, .p_value = 0.001,
		  .before = 100, .after = 94, .created_at = 1700000001 },
		{ .id = 3, .repo = "app", .benchmark = "score",
		  .good = "6666666666666666666666666666666666666666",
		  .bad = "7777777777777777777777777777777777777777",
		  .mode = "bimodal", .state = "fixed", .machine = "m2",
		  .note = "auto_bisections is 0", .change = -0.4,
		  .p_value = 0.0001, .before = 100, .after = 60,
		  .created_at = 1700000002 },
	};
	char *alerts = pb_proto_alerts_json(w, 3), *text;
	const char *bis = "{\"bisections\": []}";
	json_t *j;

	(void)state;
	assert_non_null(alerts);
	j = json_loads(alerts, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(j, "alerts"), 0),
				    "verdict")),
			    "culprit");
	assert_true(json_is_null(json_object_get(
		json_array_get(json_object_get(j, "alerts"), 2), "verdict")));
	json_decref(j);
	text = pb_proto_status_summary(bis, strlen(bis), alerts,
				       strlen(alerts), 0);
	assert_non_null(text);
	assert_non_null(strstr(text, "2 open alerts\n"));
	assert_non_null(strstr(text, "  alert 1  app  score  -25.0%  "
				     "111111111111..222222222222  open  "
				     "bisection 7: culprit 333333333333\n"));
	assert_non_null(strstr(text, "  alert 2  app  score  -6.0%  "
				     "444444444444..555555555555  acknowledged  "
				     "bisection 8: no_regression (not "
				     "reproduced)\n"));
	assert_null(strstr(text, "alert 3"));
	free(text);
	free(alerts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_proto_record__round_trip,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_proto_record__failed_run,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_proto_record__malformed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_proto_record__post_body,
						setup, teardown),
		cmocka_unit_test(test_proto_record__lease),
		cmocka_unit_test(test_proto_record__requests_and_answers),
		cmocka_unit_test(test_proto_record__alerts_and_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
