/*
 * main.c - the perfbisect-agent command (DESIGN.md section 3): options,
 * the token, signals; the work is loop.c's.
 *
 * Before anything else - a bad option included - the settings journal is
 * restored (knobs.h), as every start of perfbisect does: a crash during a
 * run must not leave the machine's settings changed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/daemon/loop.h"
#include "agent/daemon/net.h"
#include "agent/interfere.h"
#include "agent/knobs.h"
#include "common/err.h"
#include "common/git.h"
#include "common/log.h"
#include "common/util.h"

#define PROG "perfbisect-agent"
#define TOKEN_MAX 1024

static const char usage[] =
"usage: perfbisect-agent --server URL --token-file FILE --name NAME\n"
"                        --work-dir DIR [--sysroot DIR] [--once]\n"
"                        [--hooks-dir DIR] [OPTIONS]\n"
"\n"
"Takes benchmark jobs from perfbisectd and does them on this machine: asks\n"
"the server for work (a held request: the server answers when a job is\n"
"ready), fetches the job's repository, builds each commit it names once\n"
"(builds are cached by commit and build command), runs the benchmark as\n"
"`perfbisect bisect --local` runs it - same runner, counters, NUMA facts,\n"
"settings and interference - and posts one record per run.  Records are\n"
"written to the spool before they are posted and stay there until the\n"
"server has them, so nothing measured is lost when the server is away.\n"
"On a network error or a server error the agent waits 1 s, doubling to\n"
"60 s, with jitter, or as long as the server's Retry-After says.\n"
"\n"
"Builds and benchmarks never run as root: as root the agent runs them as\n"
"--run-as (default nobody); a finished build is made read-only to that\n"
"user, and each build and run gets a fresh TMPDIR of its own, removed\n"
"afterwards.  An agent and `perfbisect bisect --local` never build or\n"
"measure on one machine at the same time: both hold a lock beside the\n"
"settings journal (/var/lib/perfbisect/host.lock, under --sysroot DIR\n"
"when given); while a bisection holds it the agent asks for no work.\n"
"\n"
"SIGTERM or SIGINT: the build or run under way finishes (a run is\n"
"posted), the job is handed back, and the agent exits 0; a second signal\n"
"ends it at once.\n"
"\n"
"Required:\n"
"  --server URL         perfbisectd's address, http://HOST:PORT or https://\n"
"  --token-file FILE    the agent token (`perfbisectd --add-agent NAME`);\n"
"                       the file must not be readable by group or others\n"
"  --name NAME          this agent's name in logs and its User-Agent\n"
"                       (letters, digits, '.', '_', '-')\n"
"  --work-dir DIR       repositories, builds, the spool and scratch\n"
"                       directories (created; one agent per directory);\n"
"                       as root every directory on the way must let the\n"
"                       run user in\n"
"\n"
"Options:\n"
"  --sysroot DIR        read and write the machine-wide files (/proc/sys,\n"
"                       /sys, /proc/irq, /proc/vmstat ...) under DIR: a\n"
"                       fake machine for tests; per-process files and NUMA\n"
"                       policies stay the real machine's\n"
"  --once               take one job, then exit\n"
"  --give-up S          with --once: exit when no job came within S\n"
"                       seconds (exit 1), or the server could not be\n"
"                       reached within S seconds (exit 3); default: wait\n"
"  --hooks-dir DIR      provisioning hooks (kernel and snoop switching);\n"
"                       checked to be a directory, not used yet: this\n"
"                       agent only takes jobs its machine matches as it is\n"
"  --run-as USER        who builds and runs when the agent is root\n"
"                       (default nobody; never root)\n"
"  --events LIST        counters to record, libpfm4 names (as bisect's)\n"
"  --nic IFACE          network interface for irq_affinity\n"
"  --snoop MODE         this machine's BIOS snoop mode, early, home or\n"
"                       cod (a fact sent with every request for work)\n"
"  --no-rotate-start    let the scheduler choose where runs start (default:\n"
"                       successive runs of a commit start on different\n"
"                       NUMA nodes, as bisect --local does)\n"
"  --busy-threshold CPUS\n"
"                       a run during which other work held this many CPUs\n"
"                       on average is reported disturbed (default 0.25)\n"
"  --cache-size SIZE    bytes the finished builds may take, with a K, M, G\n"
"                       or T suffix (default 20G); past it the least\n"
"                       recently used builds are removed\n"
"  --no-ccache          do not put ccache in front of the compilers (by\n"
"                       default it is, when installed, unless the\n"
"                       benchmark says \"ccache\": false)\n"
"  --backoff-max S      longest wait between tries (default 60)\n"
"  --poll S             how long the server may hold a request for work\n"
"                       (default 30)\n"
"  -v, --verbose        say more (failed heartbeats)\n"
"  -h, --help           this text\n"
"\n"
"Files under --work-dir: repos/ (bare copies of the repositories), builds/\n"
"(SHA-HASH/tree, read-only once built), spool/ (records not yet posted;\n"
"rejected/ those the server refused as malformed), scratch/ (TMPDIRs),\n"
"ccache/ and ccache-bin/ (CCACHE_DIR, at most 5G, and cc, gcc, c++, g++,\n"
"clang, clang++ linked to ccache, first in a build's PATH, never a run's).\n"
"\n"
"Exit status: 0 stopped by a signal, or --once did its job; 1 --once and\n"
"no job came within --give-up; 2 usage error or unusable token file;\n"
"3 the server unreachable within --give-up, the token refused, or the\n"
"work directory unusable.\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	if (stop) {
		/* a second signal: go now (the guard kills the children) */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	stop = 1;
}

static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, PROG ": %s (see " PROG " --help)\n", msg);
	return 2;
}

/* The --sysroot given, found before the options are parsed. */
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

static void restore_settings(const char *root)
{
	struct pb_journal_report rep;
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

/* Reads the token: a regular file, not a link, readable by its owner
 * only, one line of printable ASCII.  Its value is never printed. */
static int read_token(const char *path, char *out, size_t size)
{
	struct stat st;
	ssize_t n;
	size_t len;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return pb_error_code(PB_EINVAL, "cannot read the token file "
				     "'%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return pb_error_code(PB_EINVAL, "the token file '%s' is not a "
				     "regular file", path);
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		return pb_error_code(PB_EINVAL, "the token file '%s' is open "
				     "to group or others (mode %04o): make it "
				     "the owner's only (chmod 600)", path,
				     (unsigned)(st.st_mode & 07777));
	}
	n = read(fd, out, size - 1);
	close(fd);
	if (n < 0)
		return pb_error_code(PB_EINVAL, "cannot read the token file "
				     "'%s': %s", path, strerror(errno));
	if ((size_t)n >= size - 1)
		return pb_error_code(PB_EINVAL, "the token file '%s' is over "
				     "%zu bytes: not a token", path, size - 2);
	len = (size_t)n;
	while (len && (out[len - 1] == '\n' || out[len - 1] == '\r' ||
		       out[len - 1] == ' ' || out[len - 1] == '\t'))
		len--;
	out[len] = '\0';
	if (!len)
		return pb_error_code(PB_EINVAL, "the token file '%s' is empty",
				     path);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)out[i] <= ' ' || (unsigned char)out[i] >= 0x7f) {
			explicit_bzero(out, size);
			return pb_error_code(PB_EINVAL, "the token file '%s' "
					     "holds more than one token-like "
					     "line (blanks or control "
					     "characters)", path);
		}
	return PB_OK;
}

/* SIZE with an optional K, M, G or T (powers of 1024). */
static int parse_size(uint64_t *out, const char *s)
{
	char num[32];
	size_t len = strlen(s);
	unsigned shift = 0;
	uint64_t v;

	if (!len || len >= sizeof(num))
		return PB_EINVAL;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 'K': case 'k': shift = 10; break;
	case 'M': case 'm': shift = 20; break;
	case 'G': case 'g': shift = 30; break;
	case 'T': case 't': shift = 40; break;
	default: break;
	}
	if (shift)
		num[len - 1] = '\0';
	if (pb_parse_u64(&v, num, 1, UINT64_MAX >> 40, "--cache-size") < 0)
		return PB_EINVAL;
	*out = v << shift;
	return PB_OK;
}

static int name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		      *s == '-'))
			return 0;
	return 1;
}

enum {
	O_SERVER = 256, O_TOKEN, O_NAME, O_WORK, O_SYSROOT, O_ONCE, O_HOOKS,
	O_RUNAS, O_EVENTS, O_NIC, O_SNOOP, O_NOROTATE, O_BUSY, O_CACHE,
	O_NOCCACHE, O_GIVEUP, O_BACKOFF, O_POLL,
};

static const struct option opts[] = {
	{ "server", required_argument, NULL, O_SERVER },
	{ "token-file", required_argument, NULL, O_TOKEN },
	{ "name", required_argument, NULL, O_NAME },
	{ "work-dir", required_argument, NULL, O_WORK },
	{ "sysroot", required_argument, NULL, O_SYSROOT },
	{ "once", no_argument, NULL, O_ONCE },
	{ "hooks-dir", required_argument, NULL, O_HOOKS },
	{ "run-as", required_argument, NULL, O_RUNAS },
	{ "events", required_argument, NULL, O_EVENTS },
	{ "nic", required_argument, NULL, O_NIC },
	{ "snoop", required_argument, NULL, O_SNOOP },
	{ "no-rotate-start", no_argument, NULL, O_NOROTATE },
	{ "busy-threshold", required_argument, NULL, O_BUSY },
	{ "cache-size", required_argument, NULL, O_CACHE },
	{ "no-ccache", no_argument, NULL, O_NOCCACHE },
	{ "give-up", required_argument, NULL, O_GIVEUP },
	{ "backoff-max", required_argument, NULL, O_BACKOFF },
	{ "poll", required_argument, NULL, O_POLL },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	struct pb_agent_opts o;
	const char *token_file = NULL, *bad;
	char token[TOKEN_MAX + 2];
	struct sigaction sa;
	struct stat st;
	int c, verbose = 0, code;

	pb_log_init(PROG, 0);
	restore_settings(prescan_sysroot(argc, argv));
	memset(&o, 0, sizeof(o));
	o.busy_threshold = PB_BUSY_THRESHOLD_CPUS;
	o.cache_size = (uint64_t)20 << 30;
	o.backoff_min_s = 1;
	o.backoff_max_s = 60;
	o.give_up_s = -1;
	o.poll_s = 30;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case O_SERVER: o.server = optarg; break;
		case O_TOKEN: token_file = optarg; break;
		case O_NAME: o.name = optarg; break;
		case O_WORK: o.work_dir = optarg; break;
		case O_SYSROOT: o.sysroot = optarg; break;
		case O_ONCE: o.once = 1; break;
		case O_HOOKS: o.hooks_dir = optarg; break;
		case O_RUNAS: o.run_as = optarg; break;
		case O_EVENTS: o.events = optarg; break;
		case O_NIC: o.nic = optarg; break;
		case O_SNOOP: o.snoop = optarg; break;
		case O_NOROTATE: o.no_rotate = 1; break;
		case O_NOCCACHE: o.no_ccache = 1; break;
		case O_BUSY:
			if (pb_parse_double(&o.busy_threshold, optarg, 0, 4096,
					    "--busy-threshold") < 0)
				return usage_error("%s", pb_error_last());
			break;
		case O_CACHE:
			if (parse_size(&o.cache_size, optarg) < 0)
				return usage_error("--cache-size '%s' is not a "
						   "size (bytes, or N with K, M, "
						   "G or T)", optarg);
			break;
		case O_GIVEUP:
			if (pb_parse_double(&o.give_up_s, optarg, 0, 1e7,
					    "--give-up") < 0)
				return usage_error("%s", pb_error_last());
			break;
		case O_BACKOFF:
			if (pb_parse_double(&o.backoff_max_s, optarg, 0.001,
					    86400, "--backoff-max") < 0)
				return usage_error("%s", pb_error_last());
			break;
		case O_POLL:
			if (pb_parse_double(&o.poll_s, optarg, 1, 3600,
					    "--poll") < 0)
				return usage_error("%s", pb_error_last());
			break;
		case 'v': verbose++; break;
		case 'h': fputs(usage, stdout); return 0;
		default:
			return usage_error("unknown or incomplete option '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	bad = !o.server ? "--server" : !token_file ? "--token-file"
		: !o.name ? "--name" : !o.work_dir ? "--work-dir" : NULL;
	if (bad)
		return usage_error("missing %s", bad);
	if (!name_ok(o.name))
		return usage_error("--name '%s': letters, digits, '.', '_' and "
				   "'-' only, at most 64", o.name);
	if (strncmp(o.server, "http://", 7) && strncmp(o.server, "https://", 8))
		return usage_error("--server '%s' is not an http:// or https:// "
				   "URL", o.server);
	if (o.give_up_s >= 0 && !o.once)
		return usage_error("--give-up is for --once");
	if (o.hooks_dir && (stat(o.hooks_dir, &st) < 0 || !S_ISDIR(st.st_mode)))
		return usage_error("--hooks-dir '%s' is not a directory",
				   o.hooks_dir);
	if (o.sysroot && (stat(o.sysroot, &st) < 0 || !S_ISDIR(st.st_mode)))
		return usage_error("--sysroot '%s' is not a directory",
				   o.sysroot);
	if (read_token(token_file, token, sizeof(token)) < 0) {
		fprintf(stderr, PROG ": %s\n", pb_error_last());
		return 2;
	}
	o.token = token;
	pb_log_init(PROG, verbose);
	if (pb_git_global_init() < 0 || pb_net_global_init() < 0) {
		pb_log_warnx("%s", pb_error_last());
		explicit_bzero(token, sizeof(token));
		return 3;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a wait ends at once */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	code = pb_agent_run(&o, &stop);
	explicit_bzero(token, sizeof(token));
	pb_net_global_cleanup();
	pb_git_global_shutdown();
	return code;
}
