/*
 * cli.c - `perfbisect`, the command line (DESIGN.md section 3).
 *
 * Parses arguments into option structs and hands them to the drivers
 * (local.c, demo.c, detect.c); it prints errors once, here, and maps them
 * to the contract's exit codes: 0 culprit found, 1 no culprit at the asked
 * confidence, 2 usage or input error, 3 infrastructure error.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/knobs.h"
#include "common/err.h"
#include "common/git.h"
#include "common/log.h"
#include "common/proto.h"
#include "common/util.h"
#include "orchestrator/demo.h"
#include "orchestrator/detect.h"
#include "orchestrator/local.h"
#include "web/site.h"
#include "orchestrator/remote.h"

#define PB_VERSION "0.1.0"

static const char usage_main[] =
"usage: perfbisect COMMAND [OPTIONS]\n"
"\n"
"Find the commit that made a program slower, even when the slowdown shows\n"
"up in only some runs.\n"
"\n"
"Commands:\n"
"  bisect --local ...   bisect a regression on this machine\n"
"  bisect --server URL --repo NAME --benchmark NAME --good REV --bad REV\n"
"                       bisect it on perfbisectd's agents\n"
"  compare --server URL --repo NAME --benchmark NAME --base REV --head REV\n"
"                       is head slower than base? (a pull-request check)\n"
"  status --server URL [ID]\n"
"                       a bisection's state, or the open alerts and the\n"
"                       bisections\n"
"  merge --server URL --repo NAME --commit REV\n"
"                       measure a merged commit (what CI calls)\n"
"  cancel --server URL ID\n"
"                       stop a bisection (its runs are kept)\n"
"  demo [--out DIR]     make a sample repository with a planted slowdown\n"
"                       and bisect it\n"
"  report --db FILE --out DIR\n"
"                       regenerate the static HTML report from a database\n"
"  detect [OPTIONS] FILE\n"
"                       find the change points of a performance history\n"
"  help [COMMAND]       show help\n"
"\n"
"The command of a later stage (configs) is not in this build.\n"
"\n"
"Run 'perfbisect help bisect' for the bisect options, 'perfbisect help\n"
"compare' for the compare options and exit status.\n";

static const char usage_bisect[] =
"usage: perfbisect bisect --local --repo PATH --good REV --bad REV\n"
"                  --build CMD --run CMD --metric NAME [OPTIONS]\n"
"\n"
"Bisects bad's first-parent commits that good cannot reach (as 'git\n"
"bisect --first-parent' takes them), from REV good (fast) to REV bad\n"
"(slow), on this machine.  Each tested commit is checked out into a work\n"
"tree of its own under the state directory (your work tree is never\n"
"touched), built once with CMD, and run several times; runs are compared\n"
"with the two ends.  All state is kept in sqlite.  Started again with\n"
"the same command (the same ends, build, run, metric, configuration,\n"
"confidence and seed), a bisection that was interrupted resumes, and one\n"
"that finished prints its stored verdict again - the same JSON, the same\n"
"exit status - unless --again is given, or its run budget was spent and\n"
"a larger --max-runs goes on from its stored runs.  A finished bisection\n"
"removes its work trees; the database and the report stay.  A culprit\n"
"that is a merge commit comes with the command that bisects inside the\n"
"branch it merged.\n"
"\n"
"Required:\n"
"  --local              run everything here, without a service\n"
"  --repo PATH          the git repository (work tree or bare)\n"
"  --good REV           a revision without the slowdown\n"
"  --bad REV            a later revision with it; good must be an\n"
"                       ancestor of bad, on bad's first-parent line or off\n"
"                       it (a release tag on a merged branch)\n"
"  --build CMD          shell command that builds the checkout\n"
"                       (/bin/sh -c, in the work tree, PERFBISECT_COMMIT set)\n"
"  --run CMD            shell command that runs the benchmark once and\n"
"                       prints 'NAME: VALUE' or 'NAME=VALUE' lines\n"
"  --metric NAME        the line whose value is measured (the last wins)\n"
"\n"
"Options:\n"
"  --lower-is-better    smaller values are better (default: higher)\n"
"  --confidence P       asked confidence, 0 < P < 1 (default 0.99)\n"
"  --seed N             seed of every random choice (default 0)\n"
"  --max-runs N         budget of benchmark runs, ends included (500);\n"
"                       after a bisection that spent its budget, a larger\n"
"                       one goes on with the runs it made\n"
"  --timeout S          limit of one run in seconds (600)\n"
"  --build-timeout S    limit of one build in seconds (3600)\n"
"  --run-as USER        who builds and runs when perfbisect is root\n"
"                       (default nobody; never root); without root, the\n"
"                       invoking user\n"
"  --events LIST        counters to record, libpfm4 names separated by\n"
"                       commas (default: cycles, instructions,\n"
"                       cache-misses, a back-end stall event and a NUMA\n"
"                       remote-access event chosen for this CPU, then\n"
"                       task-clock, page-faults, context-switches)\n"
"  --config K=V[,K=V]   the configuration to run under (each run; every\n"
"                       setting is journalled and put back afterwards):\n"
"                         zone_reclaim_mode=0|1\n"
"                         thp=always|madvise|never (transparent huge\n"
"                         pages), thp_defrag=always|defer|defer+madvise|\n"
"                         madvise|never\n"
"                         numa_policy=default|bind:N|interleave:all|\n"
"                         cpunodebind:N (the benchmark's, via libnuma)\n"
"                         irq_affinity=local|spread|none (the IRQs of\n"
"                         --nic: on its node's CPUs, round-robin, or as\n"
"                         they are)\n"
"                         threads=N (exported as PERFBISECT_THREADS)\n"
"                         kernel=RELEASE, snoop=MODE (must be this\n"
"                         machine's, else exit 2)\n"
"  --sysroot DIR        read and write the machine-wide files (/proc/sys,\n"
"                       /sys, /proc/irq, /proc/vmstat ...) under DIR: a\n"
"                       fake machine for tests; per-process files and NUMA\n"
"                       policies stay the real machine's\n"
"  --nic IFACE          network interface for irq_affinity\n"
"  --snoop MODE         this machine's BIOS snoop mode, early, home or cod\n"
"                       (a recorded fact: Linux cannot read it)\n"
"  --no-rotate-start    let the scheduler choose where runs start (default:\n"
"                       successive runs of a commit start on different\n"
"                       NUMA nodes, held to all of that node's CPUs for\n"
"                       their first 0.1 s, never to one CPU; on a machine\n"
"                       with one node nothing is held, and runs say so)\n"
"  --no-identical       make no claims from the build: by default a commit\n"
"                       whose runs map from its work tree only program\n"
"                       files (ELF) with the same loadable contents as its\n"
"                       parent's is hardly the culprit (JSON step key\n"
"                       \"identical_to\")\n"
"  --min-effect F       the smallest slowdown worth finding, as a fraction\n"
"                       (default 0.03): \"no regression\" is said only when\n"
"                       the upper confidence bound of the slowdown of the\n"
"                       ends' mean metric is below it; ends too noisy to\n"
"                       show that within a quarter of the budget make the\n"
"                       verdict \"inconclusive\", with the noise in numbers\n"
"  --busy-threshold CPUS\n"
"                       a run during which other user-space work (and\n"
"                       steal time) held this many CPUs on average is\n"
"                       disturbed: stored and shown, never counted; its\n"
"                       commit runs again (default 0.25; 0: measure the\n"
"                       interference but count every run)\n"
"  --busy-backoff S     while most recent runs are disturbed, wait S seconds\n"
"                       before the next, doubling up to 32 S; after 10 such\n"
"                       waits in a row the bisection ends \"machine too busy\n"
"                       to measure\" (exit 3) (default 1)\n"
"  --state-dir DIR      where the database (perfbisect.db), the work\n"
"                       trees and ccache's files live (default\n"
"                       $XDG_STATE_HOME/perfbisect, i.e.\n"
"                       ~/.local/state/perfbisect, or /var/lib/perfbisect\n"
"                       as root); never inside the\n"
"                       repository's work tree, and as root every\n"
"                       directory on the way must let the run user in\n"
"  --report-dir DIR     where the HTML report goes\n"
"                       (default: report/ in the state directory)\n"
"  --again              start a new bisection even where the same command\n"
"                       finished one (or left one unfinished)\n"
"  --keep-worktrees     keep the work trees of the tested commits, built,\n"
"                       when the bisection finishes (they are removed by\n"
"                       default: each is a whole checkout and its build)\n"
"  --no-ccache          build without a compiler cache.  By default, when\n"
"                       ccache is installed, builds (never runs) find cc,\n"
"                       gcc, c++, g++, clang and clang++ first on PATH as\n"
"                       links to it, in ccache-bin/ of the state\n"
"                       directory, with CCACHE_DIR the state directory's\n"
"                       ccache/ (the run user's, at most 5G: past it the\n"
"                       oldest entries go), CCACHE_BASEDIR its worktrees/\n"
"                       and CCACHE_NOHASHDIR=1, so commits that share\n"
"                       sources share compiled objects; with this option,\n"
"                       or without ccache, builds get CCACHE_DISABLE=1\n"
"  --json               print the result as one JSON object on stdout\n"
"  -q, --quiet          no progress on stderr\n"
"\n"
"Every run records its counters (hardware ones 'unsupported', with the\n"
"reason, where the machine cannot count them), the CPU and NUMA node it\n"
"started on (successive runs of a commit start on different nodes), where\n"
"its memory landed (numa_maps of the benchmark and its children: .data,\n"
".bss, heap, stack per node), the kernel's NUMA and reclaim counters\n"
"around it, the settings it ran under and the machine's facts.  A\n"
"settings journal (/var/lib/perfbisect/settings.journal, or under\n"
"--sysroot) lets any later start put back what a killed run changed.\n"
"\n"
"Progress, on stderr, gives each run with the runs so far against the\n"
"budget and the time so far, its value (three digits and an SI prefix),\n"
"and the most probable culprit with its posterior; a failed build or run\n"
"with its last line.\n"
"\n"
"Exit status: 0 culprit found; 1 no culprit (no regression, only skipped\n"
"commits left, or budget spent); 2 usage or input error (also an end\n"
"that cannot be built or never prints the metric: the message gives the\n"
"last lines of its output, and the names it printed); 3 infrastructure\n"
"error (the state database cannot be opened or written).\n"
"\n"
"Example:\n"
"  perfbisect bisect --local --repo . --good v1.0 --bad main \\\n"
"      --build 'make -j2' --run './bench --quick' --metric ops_per_sec\n";

static const char usage_server[] =
"usage: perfbisect bisect --server URL --repo NAME --benchmark NAME\n"
"                         --good REV --bad REV [--wait] [--json]\n"
"                         [--confidence C] [--max-runs N] [--seed S]\n"
"                         [--min-effect F] [--token-file FILE] [-q]\n"
"       perfbisect status --server URL [ID] [--json] [--token-file FILE]\n"
"       perfbisect cancel --server URL ID [--token-file FILE]\n"
"       perfbisect merge --server URL --repo NAME --commit REV [--json]\n"
"                        [--token-file FILE] [-q]\n"
"\n"
"Talks to perfbisectd at URL (http://HOST:PORT) with a client token\n"
"(`perfbisectd --add-client NAME`) read from --token-file FILE (not\n"
"readable by group or others) or the environment variable\n"
"PERFBISECT_TOKEN.\n"
"\n"
"bisect starts a bisection of the registered repository NAME and its\n"
"registered benchmark (its build, run and metric); REVs are anything the\n"
"repository resolves.  It prints the bisection's id, or with --wait\n"
"follows it to its verdict, printing progress on stderr and, with\n"
"--json, the same object `bisect --local --json` prints.\n"
"status prints one bisection's state, or with no ID the alerts not yet\n"
"fixed and the bisections (--json: {\"alerts\": [...], \"bisections\":\n"
"[...]}).\n"
"merge is what CI calls after a merge: it schedules every benchmark of\n"
"the repository on the merged commit (which must be on the repository's\n"
"tracked branch); posting the same merge again schedules nothing.  The\n"
"series of each benchmark is judged as its merges' runs arrive, and a\n"
"slowdown past the benchmark's alert_threshold raises an alert that\n"
"starts a bisection by itself (docs/merges.md).\n"
"cancel stops one: its jobs end at their agents' next call.\n"
"\n"
"Exit status (bisect --wait): as --local - 0 a verified culprit, 1 any\n"
"other verdict or cancelled, 2 bad input (the server's 4xx), 3 the\n"
"server unreachable or the bisection failed for its machines.  Without\n"
"--wait, status, cancel and merge: 0 done, 2 bad input, 3\n"
"infrastructure.\n";

static const char usage_compare[] =
"usage: perfbisect compare --server URL --repo NAME --benchmark NAME\n"
"                          --base REV --head REV [--min-effect F] [--wait]\n"
"                          [--json] [--token-file FILE] [-q]\n"
"\n"
"A pull-request check: is head slower than base?  perfbisectd runs the\n"
"registered benchmark of repository NAME on base and head interleaved on\n"
"one agent (base, head, head, base, ...: each base run paired with the\n"
"head run beside it) and judges the pairs with the sequential test that\n"
"verifies a bisection's culprit, in both directions at once, until it\n"
"can say one of:\n"
"  slower          head is slower than base\n"
"  faster          head is faster than base\n"
"  no_difference   they differ by less than --min-effect\n"
"  inconclusive    the run budget (40 pairs) ended undecided\n"
"REVs are anything the repository resolves.  Without --wait it prints the\n"
"compare's id (with --json the server's answer) and exits 0; `perfbisect\n"
"status --server URL ID` reads it and `perfbisect cancel` stops it.\n"
"\n"
"Options:\n"
"  --min-effect F       the smallest change worth telling, a fraction\n"
"                       (default 0.03, as bisect's)\n"
"  --wait               follow it to its answer: one sentence and the\n"
"                       numbers on stdout (progress on stderr)\n"
"  --json               print one JSON object instead: {\"id\", \"kind\":\n"
"                       \"compare\", \"state\", \"result\", \"effect\",\n"
"                       \"interval\": [lo, hi], \"pairs\", \"runs_per_side\",\n"
"                       \"runs\", \"base\", \"head\", \"machine\", ...}; on\n"
"                       exits 2 and 3 {\"error\": \"...\", \"verdict\": null}\n"
"  --token-file FILE    the client token (else $PERFBISECT_TOKEN)\n"
"  -q, --quiet          no progress on stderr\n"
"\n"
"The effect is head against base in the benchmark's better-is direction,\n"
"like an alert's change: -0.3 is 30 % worse (0.7 times base's throughput,\n"
"or 1.3 times its time), with its 95 % interval.\n"
"\n"
"Exit status (with --wait): 0 no_difference or faster; 1 slower,\n"
"inconclusive or cancelled; 2 usage or input error (unknown repository or\n"
"benchmark, a revision the repository does not have, an end that cannot\n"
"be built or never prints the metric); 3 infrastructure (the server\n"
"unreachable, its agent lost too often, the machine too busy to measure).\n"
"\n"
"Example (in CI, before merging):\n"
"  perfbisect compare --server http://perf:8630 --repo app \\\n"
"      --benchmark score --base origin/main --head \"$PR_SHA\" --wait\n";

static const char usage_demo[] =
"usage: perfbisect demo [--out DIR] [--json] [--quiet]\n"
"\n"
"Creates a sample git repository of 60 commits under DIR (default\n"
"./perfbisect-demo) from sources built into perfbisect, one of which adds\n"
"real work to the benchmark's hot path, then bisects it exactly as\n"
"'perfbisect bisect --local' does and says whether the planted commit was\n"
"found.  Needs a C compiler ('cc').  Exit status 0 when it was found.\n";

static const char usage_report[] =
"usage: perfbisect report --db FILE --out DIR [--time EPOCH]\n"
"\n"
"Writes the static HTML report of the database FILE (a perfbisect state\n"
"database or perfbisectd's, opened read-only) into DIR: index.html (open\n"
"alerts, bisections, series, machines), a page per bisection, per series,\n"
"per machine, and per failed, disturbed or verification run.  Each page is\n"
"one self-contained file that works from disk.  A page whose file already\n"
"holds the same bytes is left alone, so running it again after new runs\n"
"rewrites only the pages they changed.\n"
"\n"
"  --time EPOCH    the generation time the index states, in Unix seconds\n"
"                  (default: $SOURCE_DATE_EPOCH, else now): the same\n"
"                  database and time give the same bytes\n"
"\n"
"Prints how many pages it drew and wrote.  Exit status 0; 2 for a usage\n"
"error or a FILE that is not a database; 3 when it cannot read or write.\n";

static const char usage_detect[] =
"usage: perfbisect detect [--json] [--window N] [--pvalue P]\n"
"                  [--min-magnitude M] [--lower-is-better] FILE\n"
"\n"
"Finds the change points of a performance history: the results after\n"
"which the level of a benchmark moved for good.\n"
"\n"
"FILE holds the history, oldest first, in one of two forms:\n"
"  VALUE                one value per line;\n"
"  COMMIT,VALUE         one run per row; the rows of one commit are its\n"
"                       runs, and commits count in the order they first\n"
"                       appear.  A first row 'commit,value' is a header.\n"
"Blank lines and lines starting with '#' are skipped.  A line that is not\n"
"a number or a COMMIT,VALUE pair, or a value that is not finite, is an\n"
"error naming FILE:LINE.\n"
"\n"
"The series searched, as the 'series' of each change point:\n"
"  value                the values, when there is one value per line or\n"
"                       one run per commit\n"
"  median               each commit's median, when commits have several\n"
"                       runs and the runs are not bimodal\n"
"  slow_fraction        when they are bimodal: the fraction of each\n"
"  fast_median          commit's runs that are slow, the median of its\n"
"  slow_median          fast runs and the median of its slow runs (a\n"
"                       commit without a fast run is left out of\n"
"                       fast_median, one without a slow run out of\n"
"                       slow_median: the slow mode moving as a whole is a\n"
"                       change too)\n"
"The runs are bimodal when the pooled runs (at least 10) fit two normal\n"
"modes set apart by Ashman's D >= 2, Hartigan's dip test rejects a single\n"
"mode at the 0.05 level, and some commit has runs in both modes; a plain\n"
"shift, where every commit is all fast or all slow, is searched in the\n"
"medians.  A run beyond the boundary of the two modes on the worse side\n"
"(below it, or above it with --lower-is-better) is slow.\n"
"\n"
"The search is E-divisive means as Apache Otava does it: windows of N\n"
"points slide over the series; each is cut where its two sides differ\n"
"most, and cut again while a Student t-test finds the sides different at\n"
"a looser bound (10 x P, for P < 0.05); then every cut is tested against\n"
"its neighbouring cuts, and the weakest is dropped while its p-value is P\n"
"or more, or its relative change of the mean is M or less.\n"
"\n"
"Options:\n"
"  --window N           points per sliding window, 2 to 10000 (default 30)\n"
"  --pvalue P           largest p-value kept, 0 < P <= 1 (default 0.001)\n"
"  --min-magnitude M    smallest relative change of the mean kept, for\n"
"                       example 0.05 for 5 % (default 0: any)\n"
"  --lower-is-better    smaller values are better: the upper mode is slow\n"
"  --json               print one JSON object on stdout:\n"
"                       {\"change_points\": [{\"index\": I, \"commit\": C,\n"
"                       \"series\": S, \"before\": X, \"after\": X,\n"
"                       \"p_value\": X}, ...]}\n"
"\n"
"Each change point gives the index (0-based) of the first value or commit\n"
"after the change, that commit (null for plain values), the series, the\n"
"means of that series from the previous change point and up to the next\n"
"one, and the p-value of the t-test between them.  The index is the\n"
"position among all the commits, also in fast_median.  Like Otava, the\n"
"search refreshes only the cuts to the right of a dropped one, so a cut\n"
"may be kept on a test against a segment merged later: its p-value, shown\n"
"for the final segments, can then be above P.\n"
"\n"
"Exit status: 0 whether or not change points were found; 2 for a usage\n"
"error or bad input (a file that cannot be read, a malformed line, a value\n"
"that is not finite, a file without values); 3 when memory runs out.\n"
"\n"
"Example:\n"
"  perfbisect detect --window 30 --pvalue 0.01 --min-magnitude 0.05 \\\n"
"      history.csv\n";

/* A usage error: one line that says what is wrong, and where the help is
 * (the whole help text would bury the one line that matters). */
static int usage_error(const char *topic, const char *fmt, const char *arg)
{
	fprintf(stderr, "perfbisect%s%s: ", *topic ? " " : "", topic);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nsee `perfbisect help%s%s`\n", *topic ? " " : "",
		topic);
	return 2;
}

enum {
	O_LOCAL = 256, O_TOKEN, O_SERVER, O_REPO, O_GOOD, O_BAD, O_BUILD, O_RUN,
	O_METRIC, O_LOWER, O_CONF, O_SEED, O_MAXRUNS, O_TIMEOUT, O_BTIMEOUT,
	O_RUNAS, O_EVENTS, O_CONFIG, O_SYSROOT, O_NIC, O_SNOOP, O_NOROTATE,
	O_NOIDENTICAL, O_STATE,
	O_REPORT, O_JSON, O_BENCH, O_WAIT, O_HELP, O_BUSY, O_BACKOFF, O_AGAIN,
	O_KEEP, O_MINEFFECT, O_NOCCACHE,
};

static const struct option bisect_opts[] = {
	{ "local", no_argument, NULL, O_LOCAL },
	{ "server", required_argument, NULL, O_SERVER },
	{ "repo", required_argument, NULL, O_REPO },
	{ "good", required_argument, NULL, O_GOOD },
	{ "bad", required_argument, NULL, O_BAD },
	{ "build", required_argument, NULL, O_BUILD },
	{ "run", required_argument, NULL, O_RUN },
	{ "metric", required_argument, NULL, O_METRIC },
	{ "lower-is-better", no_argument, NULL, O_LOWER },
	{ "confidence", required_argument, NULL, O_CONF },
	{ "seed", required_argument, NULL, O_SEED },
	{ "max-runs", required_argument, NULL, O_MAXRUNS },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "build-timeout", required_argument, NULL, O_BTIMEOUT },
	{ "run-as", required_argument, NULL, O_RUNAS },
	{ "events", required_argument, NULL, O_EVENTS },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "sysroot", required_argument, NULL, O_SYSROOT },
	{ "nic", required_argument, NULL, O_NIC },
	{ "snoop", required_argument, NULL, O_SNOOP },
	{ "no-rotate-start", no_argument, NULL, O_NOROTATE },
	{ "busy-threshold", required_argument, NULL, O_BUSY },
	{ "min-effect", required_argument, NULL, O_MINEFFECT },
	{ "busy-backoff", required_argument, NULL, O_BACKOFF },
	{ "no-identical", no_argument, NULL, O_NOIDENTICAL },
	{ "state-dir", required_argument, NULL, O_STATE },
	{ "report-dir", required_argument, NULL, O_REPORT },
	{ "json", no_argument, NULL, O_JSON },
	{ "again", no_argument, NULL, O_AGAIN },
	{ "keep-worktrees", no_argument, NULL, O_KEEP },
	{ "no-ccache", no_argument, NULL, O_NOCCACHE },
	{ "benchmark", required_argument, NULL, O_BENCH },
	{ "wait", no_argument, NULL, O_WAIT },
	{ "token-file", required_argument, NULL, O_TOKEN },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

static int parse_num(double *out, const char *s, double lo, double hi,
		     const char *what)
{
	return pb_parse_double(out, s, lo, hi, what) < 0 ? -1 : 0;
}

/* A --server command's error: the message, and {"error": ..., "verdict":
 * null} with --json (as --local's exits 2 and 3). */
static void server_error(int json)
{
	fprintf(stderr, "perfbisect: error: %s\n", pb_error_last());
	if (json) {
		char *j = pb_proto_error_json(pb_error_last());

		if (j)
			printf("%s\n", j);
		free(j);
	}
}

static int cmd_bisect(int argc, char **argv)
{
	struct pb_local_opts o = PB_LOCAL_OPTS_INIT;
	struct pb_local_result res;
	int local = 0, wait = 0, c;
	const char *server = NULL, *benchmark = NULL, *token_file = NULL;
	uint64_t u;
	double d;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+q", bisect_opts, NULL)) != -1) {
		switch (c) {
		case O_LOCAL: local = 1; break;
		case O_SERVER: server = optarg; break;
		case O_REPO: o.repo = optarg; break;
		case O_GOOD: o.good = optarg; break;
		case O_BAD: o.bad = optarg; break;
		case O_BUILD: o.build = optarg; break;
		case O_RUN: o.run = optarg; break;
		case O_METRIC: o.metric = optarg; break;
		case O_LOWER: o.lower_is_better = 1; break;
		case O_CONF:
			if (parse_num(&d, optarg, 0, 1, "--confidence") < 0 ||
			    d <= 0 || d >= 1)
				return usage_error("bisect",
						   "--confidence: '%s' is not "
						   "between 0 and 1 (exclusive)",
						   optarg);
			o.confidence = d;
			break;
		case O_SEED:
			if (pb_parse_u64(&u, optarg, 0, INT64_MAX, "--seed") < 0)
				return usage_error("bisect", "%s",
						   pb_error_last());
			o.seed = u;
			break;
		case O_MAXRUNS:
			if (pb_parse_u64(&u, optarg, 1, 1000000, "--max-runs") < 0)
				return usage_error("bisect", "%s",
						   pb_error_last());
			o.max_runs = (unsigned)u;
			break;
		case O_TIMEOUT:
		case O_BTIMEOUT:
			if (parse_num(&d, optarg, 0.001, 7 * 86400.0,
				      c == O_TIMEOUT ? "--timeout"
						     : "--build-timeout") < 0)
				return usage_error("bisect", "%s",
						   pb_error_last());
			if (c == O_TIMEOUT)
				o.timeout_s = d;
			else
				o.build_timeout_s = d;
			break;
		case O_RUNAS: o.run_as = optarg; break;
		case O_EVENTS: o.events = optarg; break;
		case O_CONFIG: o.config = optarg; break;
		case O_SYSROOT: o.sysroot = optarg; break;
		case O_NIC: o.nic = optarg; break;
		case O_SNOOP: o.snoop = optarg; break;
		case O_NOROTATE: o.no_rotate = 1; break;
		case O_MINEFFECT:
			if (parse_num(&d, optarg, 0, 1, "--min-effect") < 0 ||
			    d <= 0 || d >= 1)
				return usage_error("bisect",
						   "--min-effect: '%s' is not "
						   "between 0 and 1 (exclusive)",
						   optarg);
			o.min_effect = d;
			break;
		case O_BUSY:
			if (parse_num(&o.busy_threshold, optarg, 0, 4096,
				      "--busy-threshold") < 0)
				return usage_error(usage_bisect, "%s",
						   pb_error_last());
			break;
		case O_BACKOFF:
			if (parse_num(&o.busy_backoff_s, optarg, 0, 3600,
				      "--busy-backoff") < 0)
				return usage_error(usage_bisect, "%s",
						   pb_error_last());
			break;
		case O_NOIDENTICAL: o.no_identical = 1; break;
		case O_STATE: o.state_dir = optarg; break;
		case O_REPORT: o.report_dir = optarg; break;
		case O_AGAIN: o.again = 1; break;
		case O_KEEP: o.keep_worktrees = 1; break;
		case O_NOCCACHE: o.no_ccache = 1; break;
		case O_JSON: o.json = 1; break;
		case 'q': o.quiet = 1; break;
		case O_BENCH: benchmark = optarg; break;
		case O_WAIT: wait = 1; break;
		case O_TOKEN: token_file = optarg; break;
		case O_HELP: fputs(usage_bisect, stdout); return 0;
		default:
			return usage_error("bisect", "unknown or incomplete "
					   "option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("bisect", "unexpected argument '%s'",
				   argv[optind]);
	if (server && local)
		return usage_error("bisect", "%s",
				   "--local and --server exclude each other");
	if (server) {
		struct pb_remote_opts ro = { server, token_file, o.json,
					     o.quiet, 2 };
		struct pb_remote_bisect rb = { o.repo, benchmark, o.good,
					       o.bad, o.config, o.confidence,
					       o.max_runs, o.seed,
					       o.min_effect, wait };
		int code;

		if (!o.repo || !benchmark || !o.good || !o.bad)
			return usage_error("bisect", "%s",
					   "--server needs --repo NAME, "
					   "--benchmark NAME, --good REV and "
					   "--bad REV");
		if (o.build || o.run || o.metric)
			return usage_error("bisect", "%s",
					   "--build, --run and --metric are the "
					   "registered benchmark's with "
					   "--server: give --benchmark NAME");
		code = pb_remote_bisect(&ro, &rb);
		if (code >= 2)
			server_error(o.json);
		return code;
	}
	if (wait || benchmark || token_file)
		return usage_error("bisect", "%s",
				   "--wait, --benchmark and --token-file go "
				   "with --server");
	if (!local)
		return usage_error("bisect", "%s", "missing --local");
#define REQUIRE(field, flag)                                                  \
	if (!o.field || !*o.field)                                            \
		return usage_error("bisect", "missing %s", flag);
	REQUIRE(repo, "--repo");
	REQUIRE(good, "--good");
	REQUIRE(bad, "--bad");
	REQUIRE(build, "--build");
	REQUIRE(run, "--run");
	REQUIRE(metric, "--metric");
#undef REQUIRE
	pb_local_bisect(&o, &res);
	if (res.exit_code >= 2) {
		fprintf(stderr, "perfbisect: error: %s\n", pb_error_last());
		if (o.json) {
			char *j = pb_proto_error_json(pb_error_last());

			if (j)
				printf("%s\n", j);
			free(j);
		}
	}
	return res.exit_code;
}

/* perfbisect compare --server URL --repo NAME --benchmark NAME --base REV
 * --head REV [--min-effect F] [--wait] [--json] */
static int cmd_compare(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, O_SERVER },
		{ "repo", required_argument, NULL, O_REPO },
		{ "benchmark", required_argument, NULL, O_BENCH },
		{ "base", required_argument, NULL, O_GOOD },
		{ "head", required_argument, NULL, O_BAD },
		{ "min-effect", required_argument, NULL, O_MINEFFECT },
		{ "wait", no_argument, NULL, O_WAIT },
		{ "json", no_argument, NULL, O_JSON },
		{ "token-file", required_argument, NULL, O_TOKEN },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct pb_remote_opts ro = { NULL, NULL, 0, 0, 1 };
	struct pb_remote_compare rc = { NULL, NULL, NULL, NULL, 0, 0 };
	double d;
	int c, code;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+q", opts, NULL)) != -1) {
		switch (c) {
		case O_SERVER: ro.server = optarg; break;
		case O_REPO: rc.repo = optarg; break;
		case O_BENCH: rc.benchmark = optarg; break;
		case O_GOOD: rc.base = optarg; break;
		case O_BAD: rc.head = optarg; break;
		case O_MINEFFECT:
			if (parse_num(&d, optarg, 0, 1, "--min-effect") < 0 ||
			    d <= 0 || d >= 1)
				return usage_error("compare",
						   "--min-effect: '%s' is not "
						   "between 0 and 1 (exclusive)",
						   optarg);
			rc.min_effect = d;
			break;
		case O_WAIT: rc.wait = 1; break;
		case O_JSON: ro.json = 1; break;
		case O_TOKEN: ro.token_file = optarg; break;
		case 'q': ro.quiet = 1; break;
		case O_HELP: fputs(usage_compare, stdout); return 0;
		default:
			return usage_error("compare", "unknown or incomplete "
					   "option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("compare", "unexpected argument '%s'",
				   argv[optind]);
	if (!ro.server || !rc.repo || !rc.benchmark || !rc.base || !rc.head)
		return usage_error("compare", "%s",
				   "needs --server URL, --repo NAME, "
				   "--benchmark NAME, --base REV and --head REV");
	code = pb_remote_compare(&ro, &rc);
	if (code >= 2)
		server_error(ro.json);
	return code;
}

/* perfbisect merge --server URL --repo NAME --commit SHA */
static int cmd_merge(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "token-file", required_argument, NULL, 't' },
		{ "repo", required_argument, NULL, 'r' },
		{ "commit", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pb_remote_opts o = { NULL, NULL, 0, 0, 2 };
	const char *repo = NULL, *commit = NULL;
	int c, code;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
		switch (c) {
		case 's': o.server = optarg; break;
		case 't': o.token_file = optarg; break;
		case 'r': repo = optarg; break;
		case 'c': commit = optarg; break;
		case 'j': o.json = 1; break;
		case 'q': o.quiet = 1; break;
		case 'h': fputs(usage_server, stdout); return 0;
		default:
			return usage_error("merge", "unknown or incomplete "
					   "option '%s'", argv[optind - 1]);
		}
	}
	if (!o.server || !repo || !commit)
		return usage_error("merge", "missing %s",
				   !o.server ? "--server URL"
				   : !repo   ? "--repo NAME"
					     : "--commit SHA");
	if (optind < argc)
		return usage_error("merge", "unexpected argument '%s'",
				   argv[optind]);
	code = pb_remote_merge(&o, repo, commit);
	if (code >= 2)
		server_error(o.json);
	return code;
}

/* perfbisect status|cancel --server URL [ID] */
static int cmd_remote(const char *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "token-file", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pb_remote_opts o = { NULL, NULL, 0, 0, 2 };
	uint64_t id = 0;
	int c, code;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
		switch (c) {
		case 's': o.server = optarg; break;
		case 't': o.token_file = optarg; break;
		case 'j': o.json = 1; break;
		case 'q': o.quiet = 1; break;
		case 'h': fputs(usage_server, stdout); return 0;
		default:
			return usage_error(cmd, "unknown or incomplete option "
					   "'%s'", argv[optind - 1]);
		}
	}
	if (!o.server)
		return usage_error(cmd, "%s", "missing --server URL");
	if (optind < argc &&
	    pb_parse_u64(&id, argv[optind++], 1, INT64_MAX, "ID") < 0)
		return usage_error(cmd, "%s", pb_error_last());
	if (optind < argc)
		return usage_error(cmd, "unexpected argument '%s'",
				   argv[optind]);
	if (!strcmp(cmd, "cancel") && !id)
		return usage_error(cmd, "%s", "missing the bisection's ID");
	code = !strcmp(cmd, "cancel") ? pb_remote_cancel(&o, (long long)id)
				       : pb_remote_status(&o, (long long)id);
	if (code >= 2)
		server_error(o.json);
	return code;
}

static int cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pb_demo_opts o = { "perfbisect-demo", 0, 0 };
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+q", opts, NULL)) != -1) {
		switch (c) {
		case 'o': o.out = optarg; break;
		case 'j': o.json = 1; break;
		case 'q': o.quiet = 1; break;
		case 'h': fputs(usage_demo, stdout); return 0;
		default:
			return usage_error("demo", "unknown or incomplete "
					   "option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("demo", "unexpected argument '%s'",
				   argv[optind]);
	return pb_demo_run(&o);
}

/* --db names the database file.  A directory (the state directory, most
 * likely) or a missing file is the user's mistake, said plainly with exit
 * 2, not sqlite's "unable to open database file" with exit 3. */
static int check_db_file(const char *db)
{
	struct stat st;
	char *inside;
	int has_db;

	if (stat(db, &st) < 0) {
		fprintf(stderr, "perfbisect report: error: --db '%s': %s\n", db,
			strerror(errno));
		return 2;
	}
	if (!S_ISDIR(st.st_mode))
		return 0;
	inside = pb_path_join(db, "perfbisect.db");
	has_db = inside && stat(inside, &st) == 0 && S_ISREG(st.st_mode);
	if (has_db)
		fprintf(stderr, "perfbisect report: error: --db '%s' is a "
			"directory; it holds the database '%s': give that\n",
			db, inside);
	else
		fprintf(stderr, "perfbisect report: error: --db '%s' is a "
			"directory, not a database file (a state directory "
			"holds one named perfbisect.db)\n", db);
	free(inside);
	return 2;
}

static int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "time", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *out = NULL;
	struct pb_site_stats st;
	int c, rc;
	char *end;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'o': out = optarg; break;
		case 't':
			if (!isdigit((unsigned char)optarg[0]) ||
			    !(strtod(optarg, &end) < 1e11) || *end)
				return usage_error("report", "--time '%s': want "
						   "Unix seconds", optarg);
			setenv("SOURCE_DATE_EPOCH", optarg, 1);
			break;
		case 'h': fputs(usage_report, stdout); return 0;
		default:
			return usage_error("report", "unknown or incomplete "
					   "option '%s'", argv[optind - 1]);
		}
	}
	if (!db || !out)
		return usage_error("report", "missing %s",
				   !db ? "--db" : "--out");
	if ((rc = check_db_file(db)) != 0)
		return rc;
	rc = pb_local_report(db, out, &st);
	if (rc < 0) {
		fprintf(stderr, "perfbisect: error: %s\n", pb_error_last());
		return 3;
	}
	fprintf(stderr, "report: %zu pages in %s: %zu written, %zu "
		"unchanged\n", st.pages, out, st.written, st.unchanged);
	return 0;
}

static void print_detect(const char *path, const struct pb_changes_opts *o,
			 const struct pb_detect_result *d)
{
	const struct pb_changes *r = &d->ch;
	int cw = 6;

	if (d->commits)
		printf("%s: %zu runs of %zu commit%s (up to %zu per commit)\n",
		       path, r->nvalues, r->npositions,
		       r->npositions == 1 ? "" : "s", r->max_runs);
	else
		printf("%s: %zu values\n", path, r->nvalues);
	if (r->kind == PB_CHANGES_BIMODAL)
		printf("runs are bimodal (Ashman's D %.3g, dip %.3g, dip "
		       "p-value %.2g): %zu of %zu slow, %s %.6g\n",
		       r->ashman_d, r->dip, r->dip_p, r->slow_runs, r->nvalues,
		       o->lower_is_better ? "above" : "below", r->threshold);
	else if (r->kind == PB_CHANGES_MEDIANS && isnan(r->ashman_d))
		printf("too few runs to tell whether they are bimodal (fewer "
		       "than 10)\n");
	else if (r->kind == PB_CHANGES_MEDIANS && r->two_modes)
		printf("runs form two modes (Ashman's D %.3g, dip p-value "
		       "%.2g), but no commit has runs in both: a shift\n",
		       r->ashman_d, r->dip_p);
	else if (r->kind == PB_CHANGES_MEDIANS)
		printf("runs are not bimodal (Ashman's D %.3g, dip p-value "
		       "%.2g)\n", r->ashman_d, r->dip_p);
	if (r->no_fast)
		printf("%zu commits without a fast run are left out of "
		       "fast_median\n", r->no_fast);
	printf("series %s; window %zu, max p-value %g, min magnitude %g\n\n",
	       r->kind == PB_CHANGES_BIMODAL
		       ? "slow_fraction, fast_median and slow_median"
	       : r->kind == PB_CHANGES_MEDIANS ? "median" : "value",
	       o->window, o->max_pvalue, o->min_magnitude);
	if (r->npoints == 0) {
		printf("no change points\n");
		return;
	}
	for (size_t i = 0; i < r->npoints; i++)
		if (d->commits &&
		    (int)strlen(d->commits[r->points[i].index]) > cw)
			cw = (int)strlen(d->commits[r->points[i].index]);
	printf("%zu change point%s:\n", r->npoints, r->npoints == 1 ? "" : "s");
	printf("%7s  %-*s  %-13s  %12s  %12s  %8s  %8s\n", "index", cw,
	       "commit", "series", "before", "after", "change", "p-value");
	for (size_t i = 0; i < r->npoints; i++) {
		const struct pb_change_at *p = &r->points[i];
		char change[32] = "-";

		if (p->before != 0 && strcmp(p->series, "slow_fraction"))
			snprintf(change, sizeof(change), "%+.1f%%",
				 (p->after / p->before - 1) * 100);
		printf("%7zu  %-*s  %-13s  %12.6g  %12.6g  %8s  %8.2g\n",
		       p->index, cw, d->commits ? d->commits[p->index] : "-",
		       p->series, p->before, p->after, change, p->p_value);
	}
}

/* The change points as `detect --json` prints them. */
static char *detect_json(const struct pb_detect_result *d)
{
	struct pb_detect_point *v;
	char *text;

	v = calloc(d->ch.npoints ? d->ch.npoints : 1, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < d->ch.npoints; i++) {
		const struct pb_change_at *p = &d->ch.points[i];

		v[i] = (struct pb_detect_point){
			p->index, d->commits ? d->commits[p->index] : NULL,
			p->series, p->before, p->after, p->p_value
		};
	}
	text = pb_proto_detect_json(v, d->ch.npoints);
	free(v);
	return text;
}

static int cmd_detect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "window", required_argument, NULL, 'w' },
		{ "pvalue", required_argument, NULL, 'p' },
		{ "min-magnitude", required_argument, NULL, 'm' },
		{ "lower-is-better", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pb_changes_opts o = PB_CHANGES_OPTS_INIT;
	struct pb_detect_result res;
	int c, json = 0, rc;
	char *text;
	uint64_t u;
	double d;

	opterr = 0;
	optind = 1;
	/* options may follow FILE (getopt permutes); "--" ends them */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'w':
			if (pb_parse_u64(&u, optarg, 2, PB_CHANGES_MAX_WINDOW,
					 "--window") < 0)
				return usage_error("detect", "%s",
						   pb_error_last());
			o.window = (size_t)u;
			break;
		case 'p':
			if (parse_num(&d, optarg, 0, 1, "--pvalue") < 0 ||
			    d <= 0)
				return usage_error("detect",
						   "--pvalue: '%s' is not in "
						   "(0, 1]", optarg);
			o.max_pvalue = d;
			break;
		case 'm':
			if (parse_num(&d, optarg, 0, 1e300,
				      "--min-magnitude") < 0)
				return usage_error("detect", "%s",
						   pb_error_last());
			o.min_magnitude = d;
			break;
		case 'l': o.lower_is_better = 1; break;
		case 'h': fputs(usage_detect, stdout); return 0;
		default:
			return usage_error("detect", "unknown or "
					   "incomplete option '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("detect", "%s", "missing FILE");
	if (optind + 1 < argc)
		return usage_error("detect", "unexpected argument '%s'",
				   argv[optind + 1]);
	rc = pb_detect_file(&res, argv[optind], &o);
	if (rc < 0) {
		fprintf(stderr, "perfbisect: error: %s\n", pb_error_last());
		pb_detect_result_release(&res);
		return rc == PB_ERROR ? 3 : 2;
	}
	if (json) {
		text = detect_json(&res);
		if (!text) {
			fprintf(stderr, "perfbisect: error: out of memory\n");
			pb_detect_result_release(&res);
			return 3;
		}
		printf("%s\n", text);
		free(text);
	} else {
		print_detect(argv[optind], &o, &res);
	}
	pb_detect_result_release(&res);
	return 0;
}

/* The --sysroot of the command line, found before the options are parsed
 * (a bad option must not stop the journal from being restored). */
static const char *prescan_sysroot(int argc, char **argv)
{
	const char *root = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--sysroot") && i + 1 < argc)
			root = argv[++i];
		else if (!strncmp(argv[i], "--sysroot=", 10))
			root = argv[i] + 10;
	}
	return root;
}

/* Every start puts back the machine settings an interrupted run left
 * changed (DESIGN.md section 5), before anything else. */
static void restore_settings(int argc, char **argv)
{
	struct pb_journal_report rep;
	const char *root = prescan_sysroot(argc, argv);
	int rc;

	pb_journal_report_init(&rep);
	rc = pb_journal_restore(root, &rep);
	if (rep.busy)
		pb_log_warnx("%s", pb_error_last());
	else if (rc < 0 && rep.found)
		pb_log_warnx("settings left by an interrupted run: %s",
			    pb_error_last());
	else if (rep.found)
		pb_log_info("put back %zu setting%s left changed by an "
			    "interrupted run", rep.restored,
			    rep.restored == 1 ? "" : "s");
	pb_journal_report_release(&rep);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	int rc;

	pb_log_init("perfbisect", 0);
	restore_settings(argc, argv);
	if (!cmd) {
		fputs(usage_main, stderr);
		return 2;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		const char *topic = argc > 2 ? argv[2] : "";
		fputs(!strcmp(topic, "bisect")   ? usage_bisect
		      : !strcmp(topic, "status") || !strcmp(topic, "cancel") ||
				!strcmp(topic, "merge") ||
				!strcmp(topic, "server") ? usage_server
		      : !strcmp(topic, "compare") ? usage_compare
		      : !strcmp(topic, "demo")   ? usage_demo
		      : !strcmp(topic, "report") ? usage_report
		      : !strcmp(topic, "detect") ? usage_detect
						 : usage_main,
		      stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		printf("perfbisect %s\n", PB_VERSION);
		return 0;
	}
	if (pb_git_global_init() < 0) {
		fprintf(stderr, "perfbisect: error: %s\n", pb_error_last());
		return 3;
	}
	if (!strcmp(cmd, "bisect"))
		rc = cmd_bisect(argc - 1, argv + 1);
	else if (!strcmp(cmd, "compare"))
		rc = cmd_compare(argc - 1, argv + 1);
	else if (!strcmp(cmd, "status") || !strcmp(cmd, "cancel"))
		rc = cmd_remote(cmd, argc - 1, argv + 1);
	else if (!strcmp(cmd, "demo"))
		rc = cmd_demo(argc - 1, argv + 1);
	else if (!strcmp(cmd, "report"))
		rc = cmd_report(argc - 1, argv + 1);
	else if (!strcmp(cmd, "detect"))
		rc = cmd_detect(argc - 1, argv + 1);
	else if (!strcmp(cmd, "merge"))
		rc = cmd_merge(argc - 1, argv + 1);
	else if (!strcmp(cmd, "configs"))
		rc = usage_error("", "'%s' is not in this build yet", cmd);
	else
		rc = usage_error("", "unknown command '%s'", cmd);
	pb_git_global_shutdown();
	return rc;
}
