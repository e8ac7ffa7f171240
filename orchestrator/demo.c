/*
 * demo.c - the sample repository and its bisection (see demo.h).
 *
 * The repository has 60 commits on main, where HEAD points, checked out.
 * Commit 0 adds kvbench (a hash table benchmark, demo/bench.c) and each
 * later commit bumps version.h and NEWS under an ordinary subject; commit
 * PLANTED inserts demo/verify.inc into the lookup loop: a checksum pass
 * over half of the table after every batch, about twice the work per
 * lookup.  That commit is the one the bisection must name.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/embed.h"
#include "common/err.h"
#include "common/git.h"
#include "common/util.h"
#include "orchestrator/demo.h"
#include "orchestrator/local.h"

extern const struct pb_embedded pb_demo_files[];
extern const size_t pb_demo_files_count;

#define NCOMMITS 60
#define PLANTED 41
#define MARKER "\t\t/* @VERIFY@ */\n"
#define STAMP ".perfbisect-demo"

static const char *const subjects[NCOMMITS] = {
	"kvbench: open-addressing hash table benchmark",
	"README: explain how to run the benchmark",
	"table: document the probing scheme",
	"build: add -O2 to the example command",
	"NEWS: start a changelog",
	"mix: name the finalizer constants",
	"lookup: return 0 for absent keys",
	"README: note that timings are CPU time",
	"insert: keep keys unique",
	"version: 0.2",
	"bench: print the number of lookups",
	"style: wrap long lines",
	"README: add a section on reproducibility",
	"bench: print a checksum so the loop is not optimised away",
	"table: explain the load factor of one half",
	"NEWS: mention the checksum",
	"build: warn about old compilers",
	"lookup: comment the wrap-around",
	"version: 0.3",
	"README: fix a typo",
	"bench: seed the key stream explicitly",
	"docs: describe the output format",
	"style: consistent naming of counters",
	"table: static storage, no malloc",
	"NEWS: note the static table",
	"README: link to the design notes",
	"bench: batch lookups by 4096",
	"version: 0.4",
	"docs: why batches",
	"style: const where it helps",
	"README: example output",
	"table: assert power-of-two size at compile time (docs)",
	"NEWS: batches",
	"bench: report version first",
	"docs: the meaning of throughput",
	"README: how to compare two builds",
	"version: 0.5",
	"style: remove trailing blanks",
	"docs: FAQ on noisy machines",
	"NEWS: FAQ",
	"README: thanks",
	"table: verify checksum after every batch to catch corruption early",
	"NEWS: mention the verification pass",
	"docs: describe the verification pass",
	"version: 0.6",
	"README: clarify build flags",
	"style: comment the mixing function",
	"docs: examples for large tables",
	"NEWS: docs",
	"README: reorder sections",
	"version: 0.7",
	"docs: describe the checksum output",
	"style: spell out abbreviations",
	"README: mention perfbisect",
	"NEWS: 0.7 notes",
	"docs: glossary",
	"version: 0.8",
	"README: minor wording",
	"NEWS: 0.8 notes",
	"version: 0.9",
};

static const char *embedded(const char *name)
{
	for (size_t i = 0; i < pb_demo_files_count; i++)
		if (!strcmp(pb_demo_files[i].name, name))
			return pb_demo_files[i].content;
	return NULL;
}

/* bench.c with or without the verification pass. */
static char *bench_source(int planted)
{
	const char *src = embedded("bench.c"), *ins = embedded("verify.inc");
	const char *m = src ? strstr(src, MARKER) : NULL;
	struct pb_buf b = PB_BUF_INIT(1 << 20);

	if (!m || !ins) {
		pb_error_set("demo sources are missing from this build");
		return NULL;
	}
	if (pb_buf_put(&b, src, (size_t)(m - src)) < 0 ||
	    (planted && pb_buf_puts(&b, ins) < 0) ||
	    pb_buf_puts(&b, m + strlen(MARKER)) < 0) {
		pb_buf_release(&b);
		return NULL;
	}
	return pb_buf_detach(&b);
}

static int make_repo(const char *path, char good[41], char bad[41],
		     char planted[41])
{
	struct pb_git *g = NULL;
	char *plain = bench_source(0), *slow = bench_source(1);
	struct pb_buf news = PB_BUF_INIT(1 << 20), ver = PB_BUF_INIT(256);
	char prev[41] = "", cur[41];
	int rc = PB_OK;

	if (!plain || !slow) {
		rc = PB_ERROR;
		goto out;
	}
	if ((rc = pb_git_init_repo(&g, path)) < 0)
		goto out;
	for (int i = 0; i < NCOMMITS; i++) {
		const char *parents[1] = { prev };
		struct pb_git_file files[4];

		pb_buf_reset(&ver);
		if (pb_buf_printf(&ver, "#define KVBENCH_VERSION \"0.%d.%d\"\n",
				  i / 10, i % 10) < 0 ||
		    pb_buf_printf(&news, "- %s\n", subjects[i]) < 0) {
			rc = PB_ERROR;
			goto out;
		}
		files[0] = (struct pb_git_file){ "bench.c",
						 i >= PLANTED ? slow : plain, 0 };
		files[1] = (struct pb_git_file){ "version.h", ver.ptr, 0 };
		files[2] = (struct pb_git_file){ "NEWS", news.ptr, 0 };
		files[3] = (struct pb_git_file){ "README", embedded("README"), 0 };
		if ((rc = pb_git_commit_tree(g, "refs/heads/main", files, 4,
					     parents, i ? 1 : 0, subjects[i],
					     "Demo Developer", "dev@example.org",
					     1700000000 + 3600 * i, cur)) < 0)
			goto out;
		if (i == 0)
			memcpy(good, cur, 41);
		if (i == PLANTED)
			memcpy(planted, cur, 41);
		memcpy(prev, cur, 41);
	}
	memcpy(bad, prev, 41);
	/* HEAD on main, its files in the work tree: a repository to look
	 * around in, and to bisect by hand */
	rc = pb_git_checkout_branch(g, "refs/heads/main");
out:
	pb_git_free(g);
	free(plain);
	free(slow);
	pb_buf_release(&news);
	pb_buf_release(&ver);
	return rc;
}

/* Makes DIR fresh: removes an earlier demo there, refuses anything else. */
static int prepare_dir(const char *dir)
{
	char *stamp = pb_path_join(dir, STAMP);
	struct stat st;
	int rc = PB_OK;
	FILE *f;

	if (!stamp)
		return PB_ERROR;
	if (stat(dir, &st) == 0) {
		if (access(stamp, F_OK) < 0) {
			rc = pb_error_code(PB_EINVAL,
					   "'%s' exists and was not made by "
					   "'perfbisect demo': choose another "
					   "--out",
					   dir);
			goto out;
		}
		if ((rc = pb_rm_rf(dir)) < 0)
			goto out;
	}
	if ((rc = pb_mkdir_p(dir, 0755)) < 0)
		goto out;
	f = fopen(stamp, "we");
	if (!f) {
		rc = pb_error_code(PB_EINFRA, "cannot write '%s': %s", stamp,
				   strerror(errno));
		goto out;
	}
	fputs("made by perfbisect demo; removed by the next one\n", f);
	fclose(f);
out:
	free(stamp);
	return rc;
}

int pb_demo_run(const struct pb_demo_opts *o)
{
	struct pb_local_opts lo = PB_LOCAL_OPTS_INIT;
	struct pb_local_result res;
	char good[41], bad[41], planted[41];
	char *repo = NULL, *state = NULL, *report = NULL;
	int rc, code = 3;

	if ((rc = prepare_dir(o->out)) < 0) {
		code = rc == PB_EINVAL ? 2 : 3;
		goto out;
	}
	repo = pb_path_join(o->out, "repo");
	state = pb_path_join(o->out, "state");
	report = pb_path_join(o->out, "report");
	if (!repo || !state || !report)
		goto out;
	if ((rc = make_repo(repo, good, bad, planted)) < 0)
		goto out;
	if (!o->quiet)
		fprintf(stderr,
			"perfbisect demo: made %s with %d commits; commit %d "
			"(%.12s) \"%s\" adds a checksum pass to the hot loop\n"
			"perfbisect demo: bisecting %.12s (good) .. %.12s (bad)\n",
			repo, NCOMMITS, PLANTED, planted, subjects[PLANTED], good,
			bad);
	lo.repo = repo;
	lo.good = good;
	lo.bad = bad;
	lo.build = "cc -O2 -o kvbench bench.c";
	lo.run = "./kvbench";
	lo.metric = "throughput";
	lo.timeout_s = 60;
	lo.build_timeout_s = 300;
	lo.state_dir = state;
	lo.report_dir = report;
	lo.json = o->json;
	lo.quiet = o->quiet;
	pb_local_bisect(&lo, &res);
	code = res.exit_code;
	if (code >= 2)
		goto out;
	if (!strcmp(res.culprit, planted)) {
		if (!o->quiet)
			fprintf(stderr,
				"perfbisect demo: found the planted commit %.12s\n"
				"perfbisect demo: report: %s\n",
				planted, res.report);
		code = 0;
	} else {
		pb_error_set("the bisection named %s, not the planted commit %.12s",
			     res.culprit[0] ? res.culprit : "no culprit", planted);
		code = 1;
	}
out:
	if (code != 0)
		fprintf(stderr, "perfbisect demo: error: %s\n", pb_error_last());
	free(repo);
	free(state);
	free(report);
	return code;
}
