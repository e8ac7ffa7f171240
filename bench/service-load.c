/*
 * service-load.c - perfbisectd under many agents: run records per second
 * and the latency of the agent calls, beside the disk's fsync latency.
 *
 * N simulated agents (threads, each with its own agent token and its own
 * libcurl client, agent/daemon/net.c - the agent's own) loop as
 * perfbisect-agent does, without building or running anything: lease
 * (a fresh request_id each time), for each run of the job post a
 * synthetic but valid run record (pb_proto_run_record_json(): value 100
 * before commit --slow-from and 70 from it, 0.5 % noise, never
 * disturbed), then `done` unless the job's last record ended it (the
 * answer's "job_done", as perfbisect-agent does).  A keeper thread holds --bisections bisections
 * live through the client API (POST /api/v1/bisections, polled with GET
 * /api/v1/bisections/ID): when one ends it starts another and checks the
 * culprit it named.  The load stops after --seconds or --max-records
 * accepted records, whichever comes first.
 *
 * fsync latency of a small write (4 KiB, pwrite + fsync, 300 times) in
 * the database's directory is measured before and after the load, and
 * sampled during it (every 50 ms), so the figures stand side by side.
 *
 * This is a client: it links common/ and the agent's HTTP client only,
 * never sqlite or orchestrator code.  bench/service-load.sh sets up a
 * server, tokens, a repository and a benchmark and runs it.
 *
 *   service-load --url http://127.0.0.1:PORT --agent-tokens FILE
 *       --client-token FILE --repo NAME --benchmark NAME --shas FILE
 *       --slow-from K [--db FILE] [--agents 32] [--bisections 8]
 *       [--seconds 20] [--max-records N] [--wait 2] [--max-runs N]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include "agent/daemon/net.h"
#include "common/err.h"
#include "common/proto.h"
#include "common/util.h"

#define MAX_AGENTS 63   /* machines per bisection: PB_ENGINE_MACHINES - 1 */
#define MAX_LIVE 64
#define FSYNC_ITERS 300

struct opts {
	const char *url, *agent_tokens, *client_token, *repo, *bench, *shas;
	const char *db;
	unsigned agents, bisections, seconds, wait_s, max_runs;
	unsigned long long max_records;
	unsigned slow_from;
	double noise;
};

/* A growing array of latencies (seconds). */
struct lat {
	double *v;
	size_t n, a;
};

static void lat_add(struct lat *l, double x)
{
	if (l->n == l->a) {
		size_t na = l->a ? 2 * l->a : 1024;
		double *nv = realloc(l->v, na * sizeof(*nv));

		if (!nv)
			return; /* a lost sample, not a crash */
		l->v = nv;
		l->a = na;
	}
	l->v[l->n++] = x;
}

static void lat_merge(struct lat *into, const struct lat *from)
{
	for (size_t i = 0; i < from->n; i++)
		lat_add(into, from->v[i]);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank quantile of a sorted array; NAN when empty. */
static double quant(const struct lat *l, double q)
{
	size_t k;

	if (!l->n)
		return NAN;
	k = (size_t)ceil(q * (double)l->n);
	return l->v[k ? k - 1 : 0];
}

static void lat_sort(struct lat *l)
{
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_double);
}

/* ---- shared state ---- */

static struct opts O;
static char **shas;          /* the repository's commits, oldest first */
static size_t nshas;
static atomic_int stopping;
static atomic_ullong accepted;   /* records stored and counted */
static atomic_ullong per_sec[4096];
static double t_start, t_stop;
static pthread_mutex_t report_mu = PTHREAD_MUTEX_INITIALIZER;

struct agent {
	unsigned no;
	char *token;
	pthread_t th;
	struct lat lease, run, done;
	unsigned long long leases, waits, runs_ok, repeats, refused, errors,
		jobs_ended_early;
	unsigned long long rng;
	char last_error[256];
};

/* The 1-minute load average: others' work on this shared machine. */
static double loadavg(void)
{
	double l = NAN;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = NAN;
		fclose(f);
	}
	return l;
}

static double elapsed(void)
{
	return pb_now_mono() - t_start;
}

static int64_t sha_index(const char *sha)
{
	for (size_t i = 0; i < nshas; i++)
		if (!strcmp(shas[i], sha))
			return (int64_t)i;
	return -1;
}

/* xorshift64*, uniform in [0, 1) */
static double urand(unsigned long long *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (double)((*s * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static double gauss(unsigned long long *s)
{
	double u = urand(s), v = urand(s);

	return sqrt(-2 * log(u > 0 ? u : 1e-300)) * cos(2 * M_PI * v);
}

static int random_hex(char *out, size_t bytes)
{
	unsigned char r[32];

	if (bytes > sizeof(r) || getrandom(r, bytes, 0) != (ssize_t)bytes)
		return -1;
	for (size_t i = 0; i < bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	return 0;
}

/* ---- fsync in the database's directory ---- */

static int fsync_probe(const char *dir, unsigned iters, struct lat *out)
{
	char path[4096], block[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/.service-load-fsync.%ld", dir,
		 (long)getpid());
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0) {
		fprintf(stderr, "service-load: %s: %s\n", path, strerror(errno));
		return -1;
	}
	memset(block, 'x', sizeof(block));
	for (unsigned i = 0; i < iters; i++) {
		double t;

		if (pwrite(fd, block, sizeof(block),
			   (off_t)(i % 16) * (off_t)sizeof(block)) !=
		    (ssize_t)sizeof(block))
			break;
		t = pb_now_mono();
		if (fsync(fd) < 0)
			break;
		lat_add(out, pb_now_mono() - t);
	}
	close(fd);
	unlink(path);
	lat_sort(out);
	return 0;
}

static char *db_dir;
static struct lat fsync_during;

static void *fsync_sampler(void *arg)
{
	(void)arg;
	while (!atomic_load(&stopping)) {
		struct lat one = { NULL, 0, 0 };

		if (fsync_probe(db_dir, 1, &one) == 0 && one.n)
			lat_add(&fsync_during, one.v[0]);
		free(one.v);
		pb_sleep(0.05);
	}
	return NULL;
}

/* ---- an agent ---- */

static void fill_record(struct pb_run_row_wire *w, double value)
{
	char metrics[96];

	pb_run_row_wire_init(w);
	snprintf(metrics, sizeof(metrics), "{\"score\": %.6f}", value);
	w->ok = 1;
	w->reason = pb_strdup("");
	w->exited = 1;
	w->exit_code = 0;
	w->signal = 0;
	w->timed_out = 0;
	w->wall_s = 0.25;
	w->value = value;
	w->metrics_json = pb_strdup(metrics);
	w->notes = pb_strdup("");
	w->output = NULL;
	w->started_at = pb_now_real();
	w->run_as = pb_strdup("pbrun");
	w->counters_json = pb_strdup(
		"{\"cycles\": {\"state\": \"counted\", \"value\": 1000000000, "
		"\"running\": 1.0}, \"instructions\": {\"state\": \"counted\", "
		"\"value\": 1500000000, \"running\": 1.0}}");
	w->numa_json = pb_strdup("{\"nodes\": 1, \"start_node\": 0}");
	w->settings_json = pb_strdup(
		"[{\"setting\": \"governor\", \"target\": \"cpufreq\", "
		"\"old\": \"schedutil\", \"new\": \"performance\", "
		"\"status\": \"applied\"}]");
	w->machine_json = pb_strdup(
		"{\"kernel\": \"6.1.0-load\", \"cpu_model\": \"simulated\", "
		"\"cpus\": \"2\"}");
	w->interference_json =
		pb_strdup("{\"others_cpus\": 0.01, \"interference\": 0.0}");
	w->start_cpu = 0;
	w->start_node = 0;
	w->ipc = 1.5;
	w->remote_access = NAN;
	w->ipc_note = pb_strdup("");
	w->remote_note = pb_strdup("remote-access unsupported: simulated");
	w->cpu_s = 0.25;
	w->busy_share = 0.01;
	w->disturbed = 0;
}

static void note_error(struct agent *a, const char *what,
		       const struct pb_http_reply *r)
{
	a->errors++;
	snprintf(a->last_error, sizeof(a->last_error), "%s: %ld %.200s", what,
		 r->status, r->status ? r->body.ptr : r->error);
}

/* One job: its runs posted, then done.  Returns 0, or -1 on no answer. */
static int work_job(struct agent *a, struct pb_net *net, const struct pb_job *j)
{
	struct pb_http_reply r;
	char path[256];
	int rc = 0;

	for (size_t k = 0; k < j->nruns && !atomic_load(&stopping); k++) {
		struct pb_run_row_wire w;
		struct pb_proto_reply pr;
		int64_t at = sha_index(j->runs[k].commit);
		double base = at >= (int64_t)O.slow_from ? 70.0 : 100.0, t;
		char *body;

		fill_record(&w, base * (1 + O.noise * gauss(&a->rng)));
		body = pb_proto_run_post_json(j->lease, j->runs[k].index,
					      j->runs[k].commit, &w);
		pb_run_row_wire_release(&w);
		if (!body) {
			fprintf(stderr, "service-load: record: %s\n",
				pb_error_last());
			return -1;
		}
		t = pb_now_mono();
		rc = pb_net_post(net, "/api/v1/runs", body, strlen(body), 30, 0,
				 &r);
		free(body);
		if (rc < 0) {
			note_error(a, "POST /api/v1/runs", &r);
			pb_http_reply_release(&r);
			return -1;
		}
		lat_add(&a->run, pb_now_mono() - t);
		pb_proto_reply_parse(r.body.ptr, r.body.len, &pr);
		if (r.status == 200 && pr.accepted == 1 && pr.repeat != 1) {
			double e = elapsed();

			a->runs_ok++;
			if (!atomic_load(&stopping))
				atomic_fetch_add(&accepted, 1);
			if (e >= 0 && e < 4096)
				atomic_fetch_add(&per_sec[(size_t)e], 1);
			if (O.max_records &&
			    atomic_load(&accepted) >= O.max_records &&
			    !atomic_exchange(&stopping, 1))
				t_stop = pb_now_mono();
		} else if (r.status == 200) {
			a->repeats++;
		} else if (r.status == 409) {
			a->refused++;
			pb_http_reply_release(&r);
			return 0; /* the lease is gone: no done */
		} else {
			note_error(a, "POST /api/v1/runs", &r);
		}
		pb_http_reply_release(&r);
		if (pr.job_done)
			return 0; /* the record ended the job: no done */
		if (!pr.cont) {
			a->jobs_ended_early += k + 1 < j->nruns;
			break;
		}
	}
	{
		char *body = pb_proto_done_json();
		double t;

		snprintf(path, sizeof(path), "/api/v1/leases/%s/done", j->lease);
		t = pb_now_mono();
		rc = body ? pb_net_post(net, path, body, strlen(body), 30, 0, &r)
			  : -1;
		free(body);
		if (rc < 0) {
			note_error(a, "done", &r);
			pb_http_reply_release(&r);
			return -1;
		}
		lat_add(&a->done, pb_now_mono() - t);
		if (r.status != 200 && r.status != 409)
			note_error(a, "done", &r);
		pb_http_reply_release(&r);
	}
	return 0;
}

static void *agent_main(void *arg)
{
	struct agent *a = arg;
	struct pb_net *net = NULL;
	struct pb_net_opts no;
	struct pb_agent_facts f = { "6.1.0-load", "simulated", 1, 2, "0",
				    "off", "madvise", "madvise", 0, NULL };
	char name[32];

	snprintf(name, sizeof(name), "load-%u", a->no);
	memset(&no, 0, sizeof(no));
	no.url = O.url;
	no.token = a->token;
	no.name = name;
	no.connect_timeout_s = 10;
	if (pb_net_new(&net, &no) < 0) {
		snprintf(a->last_error, sizeof(a->last_error), "%s",
			 pb_error_last());
		a->errors++;
		return NULL;
	}
	while (!atomic_load(&stopping)) {
		struct pb_http_reply r;
		struct pb_job j;
		char rid[33], err[256], *body;
		double t, dt;
		int rc;

		if (random_hex(rid, 16) < 0 ||
		    !(body = pb_proto_lease_request_json(rid, O.wait_s, &f)))
			break;
		t = pb_now_mono();
		rc = pb_net_post(net, "/api/v1/agents/lease", body, strlen(body),
				 O.wait_s + 30.0, 0, &r);
		dt = pb_now_mono() - t;
		free(body);
		if (rc < 0) {
			note_error(a, "lease", &r);
			pb_http_reply_release(&r);
			pb_sleep(0.1);
			continue;
		}
		if (r.status == 204) {
			a->waits++;
			pb_http_reply_release(&r);
			continue;
		}
		if (r.status != 200) {
			note_error(a, "lease", &r);
			pb_http_reply_release(&r);
			pb_sleep(0.1);
			continue;
		}
		lat_add(&a->lease, dt);
		a->leases++;
		rc = pb_proto_lease_parse(r.body.ptr, r.body.len, &j, err,
					  sizeof(err));
		pb_http_reply_release(&r);
		if (rc < 0) {
			a->errors++;
			snprintf(a->last_error, sizeof(a->last_error),
				 "lease answer: %.200s", err);
			pb_job_release(&j);
			continue;
		}
		rc = work_job(a, net, &j);
		pb_job_release(&j);
		if (rc < 0)
			pb_sleep(0.1);
	}
	pb_net_free(net);
	return NULL;
}

/* ---- the bisections kept live ---- */

struct keeper {
	struct pb_net *net;
	int64_t live[MAX_LIVE];
	unsigned nlive;
	unsigned long long seed;
	unsigned started, finished, right, wrong, other, start_errors;
	unsigned long long runs_of_finished;
	char last_error[512];
};

static int start_one(struct keeper *k)
{
	struct pb_http_reply r;
	struct pb_remote_state st;
	char *body = pb_proto_bisect_req_json(O.repo, O.bench, shas[0],
					      shas[nshas - 1], NULL, 0,
					      O.max_runs, ++k->seed, 0);
	int rc;

	if (!body)
		return -1;
	rc = pb_net_post(k->net, "/api/v1/bisections", body, strlen(body), 60,
			 0, &r);
	free(body);
	if (rc < 0 || r.status != 201 ||
	    pb_proto_parse_state(&st, r.body.ptr, r.body.len) < 0 || !st.id) {
		k->start_errors++;
		snprintf(k->last_error, sizeof(k->last_error),
			 "start: %ld %.400s", r.status,
			 r.status ? r.body.ptr : r.error);
		pb_http_reply_release(&r);
		return -1;
	}
	pb_http_reply_release(&r);
	k->live[k->nlive++] = st.id;
	k->started++;
	return 0;
}

/* Polls the live bisections; the ended ones are counted and replaced. */
static void keep(struct keeper *k, int replace)
{
	for (unsigned i = 0; i < k->nlive;) {
		struct pb_http_reply r;
		struct pb_remote_state st;
		char path[64];

		snprintf(path, sizeof(path), "/api/v1/bisections/%lld",
			 (long long)k->live[i]);
		if (pb_net_get(k->net, path, 30, &r) < 0 || r.status != 200 ||
		    pb_proto_parse_state(&st, r.body.ptr, r.body.len) < 0) {
			snprintf(k->last_error, sizeof(k->last_error),
				 "GET %s: %ld", path, r.status);
			pb_http_reply_release(&r);
			i++;
			continue;
		}
		pb_http_reply_release(&r);
		if (!strcmp(st.state, "running")) {
			i++;
			continue;
		}
		k->finished++;
		k->runs_of_finished += (unsigned long long)st.runs;
		if (!strcmp(st.verdict, "culprit") &&
		    !strcmp(st.culprit, shas[O.slow_from]))
			k->right++;
		else if (!strcmp(st.verdict, "culprit"))
			k->wrong++;
		else
			k->other++;
		k->live[i] = k->live[--k->nlive];
	}
	while (replace && k->nlive < O.bisections && k->nlive < MAX_LIVE &&
	       !atomic_load(&stopping))
		if (start_one(k) < 0)
			break;
}

static void *keeper_main(void *arg)
{
	struct keeper *k = arg;

	while (!atomic_load(&stopping)) {
		keep(k, 1);
		pb_sleep(0.25);
	}
	return NULL;
}

/* ---- arguments ---- */

static void usage(FILE *f)
{
	fputs("usage: service-load --url URL --agent-tokens FILE "
	      "--client-token FILE\n"
	      "         --repo NAME --benchmark NAME --shas FILE "
	      "--slow-from K\n"
	      "         [--db FILE] [--agents N (32)] [--bisections N (8)]\n"
	      "         [--seconds S (20)] [--max-records N] [--wait S (2)]\n"
	      "         [--max-runs N] [--noise F (0.005)]\n"
	      "A load of simulated agents on perfbisectd: run records "
	      "accepted per second,\nlatency of lease, POST /api/v1/runs and "
	      "done, beside fsync latency in the\ndatabase's directory "
	      "(bench/README.md, \"service load\").\n",
	      f);
}

static char **read_lines(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	char **v = NULL, *line = NULL;
	size_t a = 0, cap = 0;
	ssize_t len;

	*n = 0;
	if (!f) {
		fprintf(stderr, "service-load: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (!len)
			continue;
		if (*n == a) {
			size_t na = a ? 2 * a : 64;
			char **nv = realloc(v, na * sizeof(*nv));

			if (!nv)
				break;
			v = nv;
			a = na;
		}
		v[(*n)++] = pb_strdup(line);
	}
	free(line);
	fclose(f);
	return v;
}

static void free_lines(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i])
			explicit_bzero(v[i], strlen(v[i]));
		free(v[i]);
	}
	free(v);
}

static int num(const char *flag, const char *s, uint64_t min, uint64_t max,
	       uint64_t *out)
{
	if (pb_parse_u64(out, s, min, max, flag) < 0) {
		fprintf(stderr, "service-load: %s\n", pb_error_last());
		return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv)
{
	O.agents = 32;
	O.bisections = 8;
	O.seconds = 20;
	O.wait_s = 2;
	O.noise = 0.005;
	O.slow_from = (unsigned)-1;
	for (int i = 1; i < argc; i++) {
		const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t u;

		if (!strcmp(f, "--help") || !strcmp(f, "-h")) {
			usage(stdout);
			exit(0);
		}
		if (!v) {
			fprintf(stderr, "service-load: %s needs a value\n", f);
			return -1;
		}
		i++;
		if (!strcmp(f, "--url"))
			O.url = v;
		else if (!strcmp(f, "--agent-tokens"))
			O.agent_tokens = v;
		else if (!strcmp(f, "--client-token"))
			O.client_token = v;
		else if (!strcmp(f, "--repo"))
			O.repo = v;
		else if (!strcmp(f, "--benchmark"))
			O.bench = v;
		else if (!strcmp(f, "--shas"))
			O.shas = v;
		else if (!strcmp(f, "--db"))
			O.db = v;
		else if (!strcmp(f, "--noise")) {
			if (pb_parse_double(&O.noise, v, 0, 0.2, f) < 0) {
				fprintf(stderr, "service-load: %s\n",
					pb_error_last());
				return -1;
			}
		} else {
			uint64_t max = !strcmp(f, "--agents")       ? MAX_AGENTS
				       : !strcmp(f, "--bisections") ? MAX_LIVE
				       : !strcmp(f, "--seconds")    ? 4000
				       : !strcmp(f, "--wait")       ? 60
				       : !strcmp(f, "--max-runs")   ? 100000
				       : !strcmp(f, "--slow-from")  ? 1000000
				       : !strcmp(f, "--max-records")
					       ? UINT64_MAX
					       : 0;

			if (!max) {
				fprintf(stderr, "service-load: unknown "
						"option %s\n", f);
				return -1;
			}
			if (num(f, v, !strcmp(f, "--wait") ||
					       !strcmp(f, "--max-records")
					       ? 0
					       : 1,
				max, &u) < 0)
				return -1;
			if (!strcmp(f, "--agents"))
				O.agents = (unsigned)u;
			else if (!strcmp(f, "--bisections"))
				O.bisections = (unsigned)u;
			else if (!strcmp(f, "--seconds"))
				O.seconds = (unsigned)u;
			else if (!strcmp(f, "--wait"))
				O.wait_s = (unsigned)u;
			else if (!strcmp(f, "--max-runs"))
				O.max_runs = (unsigned)u;
			else if (!strcmp(f, "--slow-from"))
				O.slow_from = (unsigned)u;
			else
				O.max_records = u;
		}
	}
	if (!O.url || !O.agent_tokens || !O.client_token || !O.repo ||
	    !O.bench || !O.shas || O.slow_from == (unsigned)-1) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* ---- the report ---- */

static void row(const char *what, struct lat *l, double fsync_p50)
{
	lat_sort(l);
	printf("  %-26s %8zu %8.2f %8.2f %8.2f   %6.2f x\n", what, l->n,
	       quant(l, 0.5) * 1e3, quant(l, 0.99) * 1e3,
	       l->n ? l->v[l->n - 1] * 1e3 : NAN,
	       quant(l, 0.5) / fsync_p50);
}

int main(int argc, char **argv)
{
	struct agent *ag = NULL;
	char **tokens = NULL, *client = NULL;
	size_t ntokens = 0;
	struct keeper k;
	struct lat fs_before = { NULL, 0, 0 }, fs_after = { NULL, 0, 0 };
	struct lat lease = { NULL, 0, 0 }, run = { NULL, 0, 0 },
		   done = { NULL, 0, 0 };
	pthread_t keeper_th, sampler_th;
	int code = 1, sampler = 0, keeper = 0;
	unsigned long long waits = 0, leases = 0, repeats = 0, refused = 0,
			   errors = 0, early = 0, got;
	double secs, fs50, load0 = NAN, load1 = NAN;

	memset(&k, 0, sizeof(k));
	if (parse_args(argc, argv) < 0)
		return 2;
	if (!(shas = read_lines(O.shas, &nshas)) || nshas < 2 ||
	    O.slow_from >= nshas) {
		fprintf(stderr, "service-load: --shas needs two commits or "
				"more, --slow-from one of them\n");
		goto out;
	}
	if (!(tokens = read_lines(O.agent_tokens, &ntokens)) ||
	    ntokens < O.agents) {
		fprintf(stderr, "service-load: %s holds %zu tokens, --agents "
				"is %u\n", O.agent_tokens, ntokens, O.agents);
		goto out;
	}
	{
		size_t n;
		char **c = read_lines(O.client_token, &n);

		if (!c || !n) {
			free_lines(c, n);
			fprintf(stderr, "service-load: no token in %s\n",
				O.client_token);
			goto out;
		}
		client = c[0];
		c[0] = NULL;
		free_lines(c, n);
	}
	{
		const char *d = O.db ? O.db : ".";
		const char *sl = strrchr(d, '/');

		db_dir = O.db ? (sl ? strndup(d, (size_t)(sl - d + (sl == d)))
				    : pb_strdup("."))
			      : pb_strdup(".");
	}
	if (pb_net_global_init() < 0)
		goto out;
	{
		struct pb_net_opts no = { O.url, client, "service-load", 10,
					  NULL };

		if (pb_net_new(&k.net, &no) < 0) {
			fprintf(stderr, "service-load: %s\n", pb_error_last());
			goto out;
		}
	}
	if (fsync_probe(db_dir, FSYNC_ITERS, &fs_before) < 0)
		goto out;
	/* the bisections first, then the clock */
	keep(&k, 1);
	if (k.nlive < O.bisections) {
		fprintf(stderr, "service-load: cannot start bisections: %s\n",
			k.last_error);
		goto out;
	}
	if (!(ag = calloc(O.agents, sizeof(*ag))))
		goto out;
	load0 = loadavg();
	t_start = pb_now_mono();
	for (unsigned i = 0; i < O.agents; i++) {
		ag[i].no = i;
		ag[i].token = tokens[i];
		ag[i].rng = 0x9e3779b97f4a7c15ULL * (i + 1);
		if (pthread_create(&ag[i].th, NULL, agent_main, &ag[i]) != 0) {
			fprintf(stderr, "service-load: cannot start agent %u\n",
				i);
			atomic_store(&stopping, 1);
			O.agents = i;
			break;
		}
	}
	keeper = pthread_create(&keeper_th, NULL, keeper_main, &k) == 0;
	sampler = pthread_create(&sampler_th, NULL, fsync_sampler, NULL) == 0;
	while (!atomic_load(&stopping) && elapsed() < O.seconds)
		pb_sleep(0.05);
	if (!atomic_exchange(&stopping, 1))
		t_stop = pb_now_mono();
	got = atomic_load(&accepted);
	for (unsigned i = 0; i < O.agents; i++)
		pthread_join(ag[i].th, NULL);
	if (keeper)
		pthread_join(keeper_th, NULL);
	if (sampler)
		pthread_join(sampler_th, NULL);
	load1 = loadavg();
	keep(&k, 0); /* the bisections that ended last */
	fsync_probe(db_dir, FSYNC_ITERS, &fs_after);

	pthread_mutex_lock(&report_mu);
	for (unsigned i = 0; i < O.agents; i++) {
		lat_merge(&lease, &ag[i].lease);
		lat_merge(&run, &ag[i].run);
		lat_merge(&done, &ag[i].done);
		waits += ag[i].waits;
		leases += ag[i].leases;
		repeats += ag[i].repeats;
		refused += ag[i].refused;
		errors += ag[i].errors;
		early += ag[i].jobs_ended_early;
	}
	secs = t_stop - t_start;
	lat_sort(&fsync_during);
	fs50 = quant(&fs_before, 0.5);
	printf("service-load: %u agents, %u live bisections, %zu commits "
	       "(culprit at %u), %.1f s; load average %.2f before, %.2f "
	       "after (%ld CPUs)\n",
	       O.agents, O.bisections, nshas, O.slow_from, secs, load0, load1,
	       sysconf(_SC_NPROCESSORS_ONLN));
	printf("  run records accepted: %llu, %.0f/s sustained "
	       "(target >= 2000/s)\n",
	       got, secs > 0 ? (double)got / secs : 0.0);
	{
		/* whole seconds only, the first and the last left out */
		struct lat ps = { NULL, 0, 0 };

		for (size_t s = 1; s + 1 < (size_t)secs && s < 4096; s++)
			lat_add(&ps, (double)atomic_load(&per_sec[s]));
		lat_sort(&ps);
		if (ps.n)
			printf("  per second (whole seconds 1..%zu): min %.0f, "
			       "median %.0f, max %.0f\n",
			       ps.n, ps.v[0], quant(&ps, 0.5), ps.v[ps.n - 1]);
		free(ps.v);
	}
	{
		struct rusage ru;

		if (getrusage(RUSAGE_SELF, &ru) == 0 && got)
			printf("  this harness's CPU: %.3f ms per record "
			       "(user %.1f s, system %.1f s)\n",
			       1e3 * ((double)ru.ru_utime.tv_sec +
				      ru.ru_utime.tv_usec * 1e-6 +
				      (double)ru.ru_stime.tv_sec +
				      ru.ru_stime.tv_usec * 1e-6) /
				       (double)got,
			       (double)ru.ru_utime.tv_sec +
				       ru.ru_utime.tv_usec * 1e-6,
			       (double)ru.ru_stime.tv_sec +
				       ru.ru_stime.tv_usec * 1e-6);
	}
	printf("  leases %llu (held polls answered 204: %llu), repeats %llu, "
	       "409 %llu, jobs cut short %llu, errors %llu\n",
	       leases, waits, repeats, refused, early, errors);
	printf("  latency (ms)                   n      p50      p99      max"
	       "   p50/fsync p50\n");
	row("POST /api/v1/runs", &run, fs50);
	row("lease (200, held incl.)", &lease, fs50);
	row("done", &done, fs50);
	printf("  fsync, 4 KiB in %s:\n", db_dir);
	row("fsync before", &fs_before, fs50);
	row("fsync during (20/s)", &fsync_during, fs50);
	row("fsync after", &fs_after, fs50);
	printf("  p99 target < 50 ms: runs %s, lease %s\n",
	       quant(&run, 0.99) < 0.05 ? "met" : "MISSED",
	       quant(&lease, 0.99) < 0.05 ? "met" : "MISSED");
	printf("  bisections: %u started, %u ended (%u named the planted "
	       "culprit, %u another, %u no culprit; %.0f runs each), %u "
	       "start errors\n",
	       k.started, k.finished, k.right, k.wrong, k.other,
	       k.finished ? (double)k.runs_of_finished / k.finished : 0.0,
	       k.start_errors);
	for (unsigned i = 0; i < O.agents; i++)
		if (ag[i].last_error[0]) {
			printf("  last error of agent %u: %s\n", i,
			       ag[i].last_error);
			break;
		}
	if (k.last_error[0])
		printf("  last error of the keeper: %s\n", k.last_error);
	pthread_mutex_unlock(&report_mu);
	code = 0;
out:
	if (ag)
		for (unsigned i = 0; i < O.agents; i++) {
			free(ag[i].lease.v);
			free(ag[i].run.v);
			free(ag[i].done.v);
		}
	free(ag);
	free(lease.v);
	free(run.v);
	free(done.v);
	free(fs_before.v);
	free(fs_after.v);
	free(fsync_during.v);
	pb_net_free(k.net);
	if (client) {
		explicit_bzero(client, strlen(client));
		free(client);
	}
	free_lines(tokens, ntokens);
	free_lines(shas, nshas);
	free(db_dir);
	pb_net_global_cleanup();
	return code;
}
