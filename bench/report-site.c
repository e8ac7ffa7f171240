/*
 * report-site - what drawing the static report costs on a large database,
 * and what redrawing it after one new run touches.
 *
 * It fills a fresh database through the orchestrator's own storage calls
 * (db.h: the real schema, nothing written by hand): B bisections of R runs
 * each over ranges of C commits (bimodal values, a few runs disturbed or
 * failed, the last 2 x P runs a verification's pairs) and a merge history
 * of M merges of K runs, so --runs in all.  Then, side by side in one run
 * (this machine is shared and noisy):
 *   full      the whole site drawn into an empty directory: load, draw,
 *             write;
 *   again     drawn again, nothing changed: every page compared, none
 *             written;
 *   one run   one more run stored in one bisection, then drawn again: the
 *             pages written, and which.
 *
 *   report-site [--runs N] [--bisections B] [--merges M] [--dir DIR]
 *               [--keep]
 */
#include <dirent.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/git.h"
#include "common/util.h"
#include "orchestrator/db.h"
#include "orchestrator/local.h"
#include "orchestrator/site.h"
#include "web/site.h"

#define RANGE 100      /* commits per bisection */
#define TESTED 10      /* commits tested per bisection */
#define PAIRS 16       /* verification pairs per bisection */
#define MERGE_RUNS 5

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ull;

static double unit(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

static void die(const char *what)
{
	fprintf(stderr, "report-site: %s: %s\n", what, pb_error_last());
	exit(1);
}

static int64_t commit(struct pb_db *db, int64_t repo, unsigned long k)
{
	struct pb_commit_info ci;
	char subject[64];
	int64_t id;

	snprintf(ci.sha, sizeof(ci.sha), "%040lx", k + 1);
	snprintf(subject, sizeof(subject), "change %lu", k);
	ci.subject = subject;
	ci.author = "Bench <bench@example.org>";
	ci.time = 1700000000 + (int64_t)k * 60;
	if (pb_db_commit_ensure(db, repo, &ci, &id) < 0)
		die("store a commit");
	return id;
}

static void run(struct pb_db *db, const char *run_id, int64_t bis,
		int64_t seq, int64_t commit_id, int64_t bench, int slow,
		const char *lease, int index)
{
	struct pb_run_row r;
	double u = unit();
	int failed = u < 0.01, disturbed = !failed && u < 0.04;
	double v = (slow ? 6.0e7 : 1.0e8) * (1 + 0.03 * (unit() - 0.5));
	char metrics[128];

	memset(&r, 0, sizeof(r));
	snprintf(metrics, sizeof(metrics), "{\"score\": %.1f, \"bss_pages\": "
		 "%d}", v, 64 + (int)(unit() * 4));
	r.run_id = run_id;
	r.bisection_id = bis;
	r.seq = seq;
	r.commit_id = commit_id;
	r.bench_id = bench;
	r.machine = seq % 2 ? "bench-a" : "bench-b";
	r.ok = !failed;
	r.failure_reason = failed ? "exit status 1" : NULL;
	r.exited = 1;
	r.exit_code = failed;
	r.wall_s = 0.2 + 0.1 * unit();
	r.value = failed ? NAN : v;
	r.metrics_json = failed ? "{}" : metrics;
	r.numa_json = "{\"placement\": {\"first\": {\"/bench\": {\"bss\": "
		      "{\"0\": 64}}}}}";
	r.start_cpu = 0;
	r.start_node = 0;
	r.ipc = NAN;
	r.remote_access = NAN;
	r.ipc_note = "no hardware PMU";
	r.remote_note = "no hardware PMU";
	r.run_as = "nobody";
	r.output = failed ? "Segmentation fault\n" : NULL;
	r.started_at = 1.8e9 + (double)seq;
	r.finished_at = r.started_at + r.wall_s;
	r.cpu_s = r.wall_s;
	r.busy_share = disturbed ? 0.6 : 0.01;
	r.disturbed = disturbed;
	r.lease_id = lease;
	r.run_index = index;
	if (pb_db_run_insert(db, &r) < 0)
		die("store a run");
}

/* One bisection of `runs` runs over a fresh range. */
static void bisection(struct pb_db *db, int64_t repo, int64_t bench,
		      unsigned long *next_commit, unsigned b, unsigned runs)
{
	int64_t ids[RANGE], bis, seqs[2 * PAIRS];
	struct pb_bisection_def d;
	struct pb_step_row steps[TESTED];
	struct pb_bisection_end end;
	struct pb_verification_view ver;
	struct pb_stats_view stats;
	unsigned culprit = RANGE / 2 + b % 20, tested[TESTED];
	char good[41], bad[41], csha[41], run_id[64];

	for (unsigned i = 0; i < RANGE; i++)
		ids[i] = commit(db, repo, (*next_commit)++);
	snprintf(good, sizeof(good), "%040lx", *next_commit - RANGE + 1);
	snprintf(bad, sizeof(bad), "%040lx", *next_commit);
	snprintf(csha, sizeof(csha), "%040lx",
		 *next_commit - RANGE + 1 + culprit);
	d = (struct pb_bisection_def){ repo, bench, 0, good, bad, 0.99, b,
				       500, 0.03 };
	if (pb_db_begin(db) < 0 || pb_db_bisection_create(db, &d, &bis) < 0 ||
	    pb_db_bisection_commits_put(db, bis, ids, RANGE) < 0)
		die("store a bisection");
	/* the ends, a binary search's worth around the culprit, and it */
	tested[0] = 0;
	tested[1] = RANGE - 1;
	for (unsigned k = 2; k < TESTED - 2; k++)
		tested[k] = culprit + (k % 2 ? 1u : -1u) * (RANGE >> k);
	tested[TESTED - 2] = culprit - 1;
	tested[TESTED - 1] = culprit;
	for (unsigned i = 0; i < runs; i++) {
		int verify = i >= runs - 2 * PAIRS;
		unsigned c = verify ? ((i - (runs - 2 * PAIRS)) % 2 ? culprit
								     : culprit - 1)
				    : tested[i % TESTED];

		snprintf(run_id, sizeof(run_id), "b%u-%u", b, i);
		run(db, run_id, bis, i + 1, ids[c], bench,
		    c >= culprit && unit() < 0.5, NULL, 0);
		if (verify)
			seqs[i - (runs - 2 * PAIRS)] = i + 1;
	}
	if (pb_db_verify_pairs_set(db, bis, seqs, PAIRS) < 0)
		die("mark a verification");
	for (unsigned k = 0; k < TESTED; k++) {
		memset(&steps[k], 0, sizeof(steps[k]));
		steps[k].commit_id = ids[tested[k]];
		steps[k].verdict = tested[k] >= culprit ? "bad" : "good";
		steps[k].runs = runs / TESTED;
		steps[k].median = 1e8;
		steps[k].slow_fraction = tested[k] >= culprit ? 0.5 : 0;
		steps[k].slow = tested[k] >= culprit ? (int)runs / 20 : 0;
		steps[k].fast = (int)runs / TESTED - steps[k].slow;
		steps[k].p_bad = tested[k] >= culprit ? 1 : 0;
	}
	pb_stats_view_init(&stats);
	stats.fast_mode = 1e8;
	stats.slow_mode = 6e7;
	memset(&ver, 0, sizeof(ver));
	memcpy(ver.commit, csha, sizeof(ver.commit));
	ver.attempts = 1;
	ver.pairs = PAIRS;
	ver.effect = 0.2;
	ver.lo = 0.1;
	ver.hi = 0.3;
	ver.p = 0.001;
	ver.confirmed = 1;
	ver.ipc.change = ver.ipc.lo = ver.ipc.hi = NAN;
	ver.remote.change = ver.remote.lo = ver.remote.hi = NAN;
	end = (struct pb_bisection_end){ "done", "bimodal", csha, NULL, NULL,
					 0.995, runs, TESTED,
					 "found it", "culprit", 0, 1, &stats,
					 &ver };
	if (pb_db_bisection_save(db, bis, &end, steps, TESTED) < 0 ||
	    pb_db_commit(db) < 0)
		die("store a bisection's steps");
}

/* A merge history of m merges of MERGE_RUNS runs each, on the line. */
static void merges(struct pb_db *db, int64_t repo, int64_t bench,
		   unsigned long *next_commit, unsigned m)
{
	struct pb_series_key key = { repo, bench, 0 };
	char (*shas)[41] = calloc(m, sizeof(*shas));
	size_t *pos = calloc(m, sizeof(*pos));
	char lease[64], run_id[80];

	if (!shas || !pos || pb_db_begin(db) < 0)
		die("merges");
	for (unsigned i = 0; i < m; i++) {
		int64_t c = commit(db, repo, (*next_commit)++), mid, job;

		snprintf(shas[i], 41, "%040lx", *next_commit);
		pos[i] = i;
		if (pb_db_merge_add(db, repo, c, bench, "api", MERGE_RUNS, &mid,
				    &job) < 0)
			die("store a merge");
		snprintf(lease, sizeof(lease), "pbl_bench_%u", i);
		if (pb_db_lease_create(db, lease, job, "bench-a", lease,
				       2e9) < 0)
			die("store a lease");
		for (unsigned k = 0; k < MERGE_RUNS; k++) {
			snprintf(run_id, sizeof(run_id), "%s:%u", lease, k);
			run(db, run_id, 0, 0, c, bench, i >= m / 2, lease,
			    (int)k);
		}
	}
	if (pb_db_series_positions(db, &key, (const char (*)[41])shas, pos,
				   m) < 0 ||
	    pb_db_commit(db) < 0)
		die("store the line");
	free(shas);
	free(pos);
}

static void draw(struct pb_db *db, const char *dir, const char *what,
		 struct pb_site_stats *st)
{
	struct pb_site site;
	double t0 = now_s(), t1, t2;

	if (pb_site_load(db, 1.8e9, &site) < 0)
		die("load the site");
	t1 = now_s();
	if (pb_site_write(dir, &site, st) < 0)
		die("draw the site");
	t2 = now_s();
	printf("%-9s %7.3f s  (load %.3f s, draw and write %.3f s)  %zu pages: "
	       "%zu written, %zu unchanged; %zu runs\n",
	       what, t2 - t0, t1 - t0, t2 - t1, st->pages, st->written,
	       st->unchanged, site.nruns);
	pb_site_free(&site);
}

/* The names of the pages newer than `since` (written by the last draw). */
static void newer(const char *dir, const struct timespec *since)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	printf("          rewritten:");
	while ((e = readdir(d))) {
		char path[8192];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_name[0] != '.' && stat(path, &st) == 0 &&
		    (st.st_mtim.tv_sec > since->tv_sec ||
		     (st.st_mtim.tv_sec == since->tv_sec &&
		      st.st_mtim.tv_nsec > since->tv_nsec)))
			printf(" %s", e->d_name);
	}
	printf("\n");
	closedir(d);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "runs", required_argument, NULL, 'r' },
		{ "bisections", required_argument, NULL, 'b' },
		{ "merges", required_argument, NULL, 'm' },
		{ "dir", required_argument, NULL, 'd' },
		{ "keep", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long total = 100000, nb = 190, nm = 1000, next = 0;
	char tmpl[] = "/tmp/report-site.XXXXXX", *dir = NULL, path[4200],
	     site_dir[4200];
	int keep = 0, c;
	struct pb_db *db;
	struct pb_benchmark_def def;
	struct pb_site_stats st;
	int64_t repo, bench;
	double t0;
	struct timespec mark;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		switch (c) {
		case 'r': total = strtoul(optarg, NULL, 10); break;
		case 'b': nb = strtoul(optarg, NULL, 10); break;
		case 'm': nm = strtoul(optarg, NULL, 10); break;
		case 'd': dir = optarg; break;
		case 'k': keep = 1; break;
		case 'h':
			printf("usage: report-site [--runs N] [--bisections B] "
			       "[--merges M] [--dir DIR] [--keep]\n");
			return 0;
		default: return 2;
		}
	if (!nb || total < nm * MERGE_RUNS + nb * (2 * PAIRS + TESTED)) {
		fprintf(stderr, "report-site: --runs too small for the "
				"bisections and merges asked\n");
		return 2;
	}
	if (!dir && !(dir = mkdtemp(tmpl))) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/bench.db", dir);
	snprintf(site_dir, sizeof(site_dir), "%s/site", dir);
	unlink(path);
	if (pb_db_open(&db, path) < 0)
		die("open the database");
	if (pb_db_repo_ensure(db, "bench-repo", "/nonexistent/bench-repo",
			      &repo) < 0)
		die("store the repository");
	memset(&def, 0, sizeof(def));
	def.name = "score";
	def.build_cmd = "make";
	def.run_cmd = "./bench";
	def.metric = "score";
	def.timeout_s = 60;
	def.build_timeout_s = 600;
	if (pb_db_benchmark_ensure(db, repo, &def, &bench) < 0)
		die("store the benchmark");
	t0 = now_s();
	for (unsigned long b = 0; b < nb; b++)
		bisection(db, repo, bench, &next, (unsigned)b,
			  (unsigned)((total - nm * MERGE_RUNS) / nb));
	merges(db, repo, bench, &next, (unsigned)nm);
	printf("filled    %7.3f s  %lu bisections, %lu merges, %lu commits, "
	       "in %s\n",
	       now_s() - t0, nb, nm, next, path);
	/* drawn as `perfbisect report` draws it: the database at rest on
	 * disk, not still being written back from filling it */
	pb_db_close(db);
	sync();
	if (pb_db_open(&db, path) < 0)
		die("open the database again");
	draw(db, site_dir, "full", &st);
	draw(db, site_dir, "again", &st);
	/* one more run in the last bisection */
	{
		int64_t seq;
		int64_t ids[1];
		char run_id[64];

		if (pb_db_bisection_next_seq(db, (int64_t)nb, &seq) < 0)
			die("next seq");
		ids[0] = 0;
		(void)ids;
		snprintf(run_id, sizeof(run_id), "extra-%lld", (long long)seq);
		clock_gettime(CLOCK_REALTIME, &mark);
		/* a commit of that bisection's range: its first */
		{
			char sha[41];
			int64_t cid;

			snprintf(sha, sizeof(sha), "%040lx",
				 (nb - 1) * RANGE + 1);
			if (pb_db_commit_id(db, repo, sha, &cid) < 0)
				die("find a commit");
			run(db, run_id, (int64_t)nb, seq, cid, bench, 0, NULL,
			    0);
		}
	}
	usleep(20000);
	draw(db, site_dir, "one run", &st);
	newer(site_dir, &mark);
	pb_db_close(db);
	if (!keep) {
		char cmd[4400];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "report-site: could not remove %s\n",
				dir);
	}
	return 0;
}
