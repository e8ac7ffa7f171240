/*
 * main.c - `perfbisectd`, the orchestrator (DESIGN.md section 3).
 *
 * Reads the settings (defaults, then --config FILE, then the flags), and
 * then either checks them (-n), manages tokens (--add-agent,
 * --add-client, --revoke, --list), prints the example configuration, or
 * serves: opens the database with the service's pragmas, registers every
 * route set of `registrars`, listens, and waits for SIGTERM or SIGINT,
 * which stop it cleanly (held long polls answered, the daemon stopped,
 * the database closed) with exit 0.  Errors are printed once, here.
 * Exit status: 0 done, 2 usage, configuration or input error, 3
 * infrastructure (the database cannot be opened, the address cannot be
 * bound).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "orchestrator/db.h"
#include "orchestrator/local.h"
#include "orchestrator/server/api.h"
#include "orchestrator/server/config.h"
#include "orchestrator/server/http.h"
#include "orchestrator/server/notify_send.h"
#include "common/git.h"
#include "orchestrator/server/srv.h"
#include "orchestrator/server/token.h"
#include "web/site.h"
#include "common/util.h"

#define PB_VERSION "0.1.0"

/* Every set of routes, registered in this order.  The scheduling,
 * bisection and agent calls add their register functions here. */
static const pb_srv_register_fn registrars[] = {
	pb_api_core_register,
	pb_api_report_register,
	pb_api_service_register,
	pb_api_merge_register,
	pb_api_debug_register,
	pb_notify_register,
};

static const char usage_head[] =
"usage: perfbisectd [--config FILE] [--listen ADDR:PORT] [--db FILE]\n"
"                   [--report-dir DIR] [--work-dir DIR] [--port-file FILE]\n"
"                   [--set NAME=VALUE]... [-v]\n"
"       perfbisectd -n [--config FILE] [OPTIONS]\n"
"       perfbisectd --add-agent NAME [--db FILE]\n"
"       perfbisectd --add-client NAME [--admin] [--db FILE]\n"
"       perfbisectd --revoke NAME [--db FILE]\n"
"       perfbisectd --list [--db FILE]\n"
"       perfbisectd --example-config\n"
"       perfbisectd --write-report [--config FILE] [--db FILE]\n"
"                   [--report-dir DIR]\n"
"\n"
"The perfbisect orchestrator: an HTTP service that keeps repositories,\n"
"benchmarks and their history in one sqlite database, hands work to the\n"
"agents on the benchmark machines and serves the static report.  It logs\n"
"to stderr and stops cleanly on SIGTERM or SIGINT: requests held in a\n"
"long poll are answered 204, the others finish, the database is closed,\n"
"and it exits 0.\n"
"\n"
"Serving:\n"
"  --config FILE        read settings from FILE (one 'name = value' per\n"
"                       line, '#' comments; see SETTINGS); the flags\n"
"                       below override it\n"
"  --listen ADDR:PORT   same as the setting listen: an IPv4 address or\n"
"                       [IPv6] and a port; port 0 takes a free one\n"
"  --db FILE            same as the setting db\n"
"  --report-dir DIR     same as the setting report_dir\n"
"  --work-dir DIR       same as the setting work_dir\n"
"  --set NAME=VALUE     any setting, as a line of the file would set it\n"
"                       (repeatable)\n"
"  --port-file FILE     once listening, write the port to FILE (for\n"
"                       scripts that start it on port 0)\n"
"  -n, --check          check the settings and exit: nothing printed and\n"
"                       exit 0 when they are good, else every error as\n"
"                       FILE:LINE: message and exit 2\n"
"  -v, --verbose        log more\n"
"\n"
"Tokens (every API call but GET /healthz and the report needs\n"
"'Authorization: Bearer TOKEN'):\n"
"  --add-agent NAME     add an agent (a benchmark machine) and print its\n"
"                       new token on stdout, once; only its SHA-256 is\n"
"                       kept\n"
"  --add-client NAME    add a client (CI, a person) and print its token;\n"
"                       clients post merges, start, compare, cancel and\n"
"                       read\n"
"  --admin              with --add-client: the admin scope, which may also\n"
"                       register repositories and benchmarks (whose\n"
"                       commands run on agents)\n"
"  --revoke NAME        the agent's or client's token stops working at\n"
"                       once (a running server sees it on the next\n"
"                       request); adding NAME again gives it a new token\n"
"  --list               list agents and clients: name, kind, scope,\n"
"                       created, revoked\n"
"  NAME is 1 to 64 letters, digits, '.', '_' or '-'.  Agent tokens start\n"
"  with pba_, client tokens with pbc_.  These commands take the database\n"
"  from --db, or from the settings (--config).\n"
"\n"
"Other:\n"
"  --example-config     print the commented example configuration (every\n"
"                       setting at its default; deploy/perfbisectd.conf)\n"
"  --write-report       draw the report from the database into\n"
"                       report_dir once, print 'N pages: W written, U\n"
"                       unchanged' and exit; the running service draws\n"
"                       its pages this way, in a process of their own, so\n"
"                       a drawing that fails or crashes costs the pages,\n"
"                       never the service\n"
"  --help, --version\n"
"\n"
"SETTINGS (the config file, or --set NAME=VALUE):\n";

static const char usage_tail[] =
"\n"
"Values: yes/no (also true/false, on/off, 1/0); seconds as 30, 90s, 5m,\n"
"2h, 1d; sizes as 65536, 64k, 1M, 1MiB, 1G (powers of 1024).\n"
"\n"
"HTTP API: docs/perfbisectd.md.  Every error answer is JSON\n"
"{\"error\": \"...\"} with 400 (bad input), 401 (no, bad, revoked or\n"
"wrong-kind token), 403 (a client without the admin scope on an admin\n"
"call), 404, 405, 409, 413 (body over the limit) or 500.\n"
"\n"
"Exit status: 0 stopped by a signal, or a command done; 2 usage,\n"
"configuration or input error (a name that exists, an unknown name); 3\n"
"the database cannot be opened or written, or the address cannot be\n"
"bound.\n"
"\n"
"Example:\n"
"  perfbisectd --add-client ci --admin --db /var/lib/perfbisect/pb.db\n"
"  perfbisectd --config /etc/perfbisectd.conf\n";

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "perfbisectd: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nsee `perfbisectd --help`\n");
	return 2;
}

static int print_help(void)
{
	struct pb_buf b = PB_BUF_INIT(1 << 20);
	int rc = pb_config_help(&b);

	if (rc == PB_OK) {
		fputs(usage_head, stdout);
		fputs(b.ptr, stdout);
		fputs(usage_tail, stdout);
	}
	pb_buf_release(&b);
	return rc == PB_OK ? 0 : 3;
}

static int print_example(void)
{
	struct pb_buf b = PB_BUF_INIT(1 << 20);
	int rc = pb_config_example(&b);

	if (rc == PB_OK)
		fputs(b.ptr, stdout);
	pb_buf_release(&b);
	return rc == PB_OK ? 0 : 3;
}

enum mode {
	M_SERVE, M_CHECK, M_ADD_AGENT, M_ADD_CLIENT, M_REVOKE, M_LIST,
	M_EXAMPLE, M_WRITE_REPORT,
};

/* A setting given on the command line: applied after the file. */
struct override {
	const char *name, *value, *flag;
};

#define MAX_OVERRIDES 64

struct args {
	enum mode mode;
	const char *config, *port_file, *name;
	int admin, verbose;
	struct override ov[MAX_OVERRIDES];
	size_t nov;
	char *owned[MAX_OVERRIDES];   /* NAME of --set NAME=VALUE */
	size_t nowned;
};

enum {
	O_CONFIG = 256, O_LISTEN, O_DB, O_REPORT, O_WORK, O_SET, O_PORTFILE,
	O_ADD_AGENT, O_ADD_CLIENT, O_ADMIN, O_REVOKE, O_LIST, O_EXAMPLE,
	O_WRITE_REPORT,
	O_HELP, O_VERSION,
};

static int set_mode(struct args *a, enum mode m, const char *flag)
{
	if (a->mode != M_SERVE && a->mode != m)
		return usage_error("%s cannot go with another command", flag);
	a->mode = m;
	return 0;
}

static int add_override(struct args *a, const char *name, const char *value,
			const char *flag)
{
	if (a->nov == MAX_OVERRIDES)
		return usage_error("%s", "too many settings on the command "
				   "line");
	a->ov[a->nov++] = (struct override){ name, value, flag };
	return 0;
}

static int parse_args(struct args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, O_CONFIG },
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "db", required_argument, NULL, O_DB },
		{ "report-dir", required_argument, NULL, O_REPORT },
		{ "work-dir", required_argument, NULL, O_WORK },
		{ "set", required_argument, NULL, O_SET },
		{ "port-file", required_argument, NULL, O_PORTFILE },
		{ "check", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "add-agent", required_argument, NULL, O_ADD_AGENT },
		{ "add-client", required_argument, NULL, O_ADD_CLIENT },
		{ "admin", no_argument, NULL, O_ADMIN },
		{ "revoke", required_argument, NULL, O_REVOKE },
		{ "list", no_argument, NULL, O_LIST },
		{ "example-config", no_argument, NULL, O_EXAMPLE },
		{ "write-report", no_argument, NULL, O_WRITE_REPORT },
		{ "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc = 0;

	opterr = 0;
	optind = 1;
	while (rc == 0 &&
	       (c = getopt_long(argc, argv, "nvh", opts, NULL)) != -1) {
		switch (c) {
		case O_CONFIG: a->config = optarg; break;
		case O_LISTEN:
			rc = add_override(a, "listen", optarg, "--listen");
			break;
		case O_DB: rc = add_override(a, "db", optarg, "--db"); break;
		case O_REPORT:
			rc = add_override(a, "report_dir", optarg,
					  "--report-dir");
			break;
		case O_WORK:
			rc = add_override(a, "work_dir", optarg,
					  "--work-dir");
			break;
		case O_SET: {
			const char *eq = strchr(optarg, '=');
			char *name;

			if (!eq || eq == optarg)
				return usage_error("--set '%s': want "
						   "NAME=VALUE", optarg);
			name = strndup(optarg, (size_t)(eq - optarg));
			if (!name || a->nowned == MAX_OVERRIDES) {
				free(name);
				return usage_error("%s", "too many --set");
			}
			a->owned[a->nowned++] = name;
			rc = add_override(a, name, eq + 1, "--set");
			break;
		}
		case O_PORTFILE: a->port_file = optarg; break;
		case 'n': rc = set_mode(a, M_CHECK, "-n"); break;
		case 'v': a->verbose++; break;
		case O_ADD_AGENT:
			rc = set_mode(a, M_ADD_AGENT, "--add-agent");
			a->name = optarg;
			break;
		case O_ADD_CLIENT:
			rc = set_mode(a, M_ADD_CLIENT, "--add-client");
			a->name = optarg;
			break;
		case O_ADMIN: a->admin = 1; break;
		case O_REVOKE:
			rc = set_mode(a, M_REVOKE, "--revoke");
			a->name = optarg;
			break;
		case O_LIST: rc = set_mode(a, M_LIST, "--list"); break;
		case O_EXAMPLE:
			rc = set_mode(a, M_EXAMPLE, "--example-config");
			break;
		case O_WRITE_REPORT:
			rc = set_mode(a, M_WRITE_REPORT, "--write-report");
			break;
		case 'h':
		case O_HELP: return -1;
		case O_VERSION: return -2;
		default:
			return usage_error("unknown or incomplete option '%s'",
					   argv[optind - 1]);
		}
	}
	if (rc)
		return rc;
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (a->admin && a->mode != M_ADD_CLIENT)
		return usage_error("%s", "--admin goes with --add-client");
	if ((a->mode == M_ADD_AGENT || a->mode == M_ADD_CLIENT ||
	     a->mode == M_REVOKE) &&
	    !pb_principal_name_ok(a->name))
		return usage_error("'%s' is not a name: 1 to 64 letters, "
				   "digits, '.', '_' or '-', not starting with "
				   "'-' or '.'",
				   a->name);
	return 0;
}

/* Defaults, the file, the flags; errors printed, exit status returned. */
static int load_config(struct pb_config *cfg, const struct args *a)
{
	struct pb_buf errs = PB_BUF_INIT(1 << 20);
	int bad = 0;

	if (pb_config_init(cfg) < 0) {
		fprintf(stderr, "perfbisectd: %s\n", pb_error_last());
		return 3;
	}
	if (a->config && pb_config_load(cfg, a->config, &errs) < 0)
		bad = 1;
	for (size_t i = 0; i < a->nov; i++)
		if (pb_config_set(cfg, a->ov[i].name, a->ov[i].value,
				  a->ov[i].flag, &errs) < 0)
			bad = 1;
	if (pb_config_finish(cfg, a->config ? a->config : "settings", &errs) <
	    0)
		bad = 1;
	if (bad)
		fputs(errs.ptr, stderr);
	pb_buf_release(&errs);
	return bad ? 2 : 0;
}

static int open_db(struct pb_db **out, const struct pb_config *cfg)
{
	static const struct pb_db_opts service = PB_DB_OPTS_SERVICE;

	if (pb_db_open_opts(out, cfg->db, &service) < 0) {
		fprintf(stderr, "perfbisectd: error: %s\n", pb_error_last());
		return 3;
	}
	return 0;
}

static int exit_of(int rc)
{
	return rc == PB_EINFRA || rc == PB_ERROR ? 3 : 2;
}

static int cmd_add(const struct pb_config *cfg, const struct args *a)
{
	enum pb_principal_kind kind = a->mode == M_ADD_AGENT
					      ? PB_PRINCIPAL_AGENT
					      : PB_PRINCIPAL_CLIENT;
	unsigned char hash[PB_TOKEN_HASH_LEN];
	char token[PB_TOKEN_LEN + 1];
	struct pb_db *db;
	int64_t id;
	int rc;

	if ((rc = open_db(&db, cfg)))
		return rc;
	if ((rc = pb_token_new(token, kind)) < 0 ||
	    (rc = pb_token_hash(hash, token)) < 0 ||
	    (rc = pb_db_principal_add(db, a->name, kind, a->admin, hash,
				      &id)) < 0) {
		fprintf(stderr, "perfbisectd: error: %s\n", pb_error_last());
		pb_db_close(db);
		return exit_of(rc);
	}
	pb_db_close(db);
	printf("%s\n", token);
	fflush(stdout);
	fprintf(stderr,
		"perfbisectd: added %s '%s'%s; its token is printed above, "
		"once: keep it (only its SHA-256 is stored)\n",
		kind == PB_PRINCIPAL_AGENT ? "agent" : "client", a->name,
		a->admin ? " with the admin scope" : "");
	return 0;
}

static int cmd_revoke(const struct pb_config *cfg, const struct args *a)
{
	struct pb_db *db;
	int rc, was = 0;

	if ((rc = open_db(&db, cfg)))
		return rc;
	rc = pb_db_principal_revoke(db, a->name, &was);
	pb_db_close(db);
	if (rc < 0) {
		fprintf(stderr, "perfbisectd: error: %s\n", pb_error_last());
		return exit_of(rc);
	}
	fprintf(stderr, was ? "perfbisectd: '%s' was revoked already\n"
			    : "perfbisectd: revoked '%s'\n",
		a->name);
	return 0;
}

static void format_time(char *out, size_t size, double t)
{
	time_t s = (time_t)t;
	struct tm tm;

	if (isnan(t) || !gmtime_r(&s, &tm))
		pb_strlcpy(out, "-", size);
	else
		strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int list_one(void *ctx, const struct pb_principal_row *r)
{
	char created[32], revoked[32];

	(void)ctx;
	format_time(created, sizeof(created), r->created_at);
	format_time(revoked, sizeof(revoked), r->revoked_at);
	printf("%-24s %-6s %-5s %-20s %s\n", r->name,
	       r->kind == PB_PRINCIPAL_AGENT ? "agent" : "client",
	       r->admin ? "admin" : "-", created, revoked);
	return 0;
}

static int cmd_write_report(const struct pb_config *cfg)
{
	struct pb_site_stats st;
	int rc = pb_local_report(cfg->db, cfg->report_dir, &st);

	if (rc < 0) {
		fprintf(stderr, "perfbisectd: error: report: %s\n",
			pb_error_last());
		return exit_of(rc);
	}
	printf("%zu pages: %zu written, %zu unchanged\n", st.pages, st.written,
	       st.unchanged);
	return 0;
}

static int cmd_list(const struct pb_config *cfg)
{
	struct pb_db *db;
	int rc;

	if ((rc = open_db(&db, cfg)))
		return rc;
	printf("%-24s %-6s %-5s %-20s %s\n", "NAME", "KIND", "SCOPE",
	       "CREATED", "REVOKED");
	rc = pb_db_principals_each(db, list_one, NULL);
	pb_db_close(db);
	if (rc < 0) {
		fprintf(stderr, "perfbisectd: error: %s\n", pb_error_last());
		return exit_of(rc);
	}
	return 0;
}

/* Writes the port to path by a rename, so a reader never sees half. */
static int write_port_file(const char *path, unsigned port)
{
	struct pb_buf tmp = PB_BUF_INIT(4096);
	FILE *f;
	int rc = PB_OK;

	if (pb_buf_printf(&tmp, "%s.tmp", path) < 0)
		return pb_error_set("--port-file: path too long");
	f = fopen(tmp.ptr, "w");
	if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 ||
	    rename(tmp.ptr, path) < 0)
		rc = pb_error_code(PB_EINFRA, "--port-file '%s': %s", path,
				   strerror(errno));
	pb_buf_release(&tmp);
	return rc;
}

static int serve(const struct pb_config *cfg, const struct args *a)
{
	struct pb_http_opts ho = PB_HTTP_OPTS_INIT;
	struct pb_db_settings dbs;
	struct sockaddr_storage addr;
	struct pb_srv srv = { 0 };
	socklen_t addrlen;
	sigset_t sigs;
	int rc, sig = 0, status = 0;

	/* the signals go to sigwait() here, not to any thread */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (pb_config_parse_address(cfg->listen, &addr, &addrlen) < 0) {
		fprintf(stderr, "perfbisectd: listen: %s\n", pb_error_last());
		return 2;
	}
	if ((rc = open_db(&srv.db, cfg)))
		return rc;
	if (pb_db_settings(srv.db, &dbs) == PB_OK)
		pb_log_info("database '%s': journal %s, synchronous %s%s, "
			    "busy timeout %d ms", cfg->db, dbs.journal_mode,
			    dbs.synchronous == 2 ? "FULL" : "NORMAL",
			    dbs.group_sync ? " with a group fsync before each "
					     "answer"
					   : "",
			    dbs.busy_timeout_ms);
	pthread_mutex_init(&srv.db_mu, NULL);
	pthread_mutex_init(&srv.auth_mu, NULL);
	/* tokens are checked on a connection of their own (a file
	 * database; ":memory:" and the like are one connection's) */
	if (pb_db_open_readonly(&srv.auth_db, cfg->db) < 0) {
		pb_log_info("token checks share the scheduler's connection: "
			    "%s", pb_error_last());
		srv.auth_db = NULL;
	}
	srv.cfg = cfg;
	ho.addr = (struct sockaddr *)&addr;
	ho.addrlen = addrlen;
	ho.threads = (unsigned)cfg->threads;
	ho.connection_timeout_s = (unsigned)cfg->connection_timeout_s;
	ho.connection_limit = (unsigned)cfg->connection_limit;
	ho.per_ip_connection_limit = (unsigned)cfg->per_ip_connection_limit;
	ho.max_body = (size_t)cfg->max_body;
	ho.max_waiters = (unsigned)cfg->max_waiters;
	ho.log_requests = cfg->log_requests;
	ho.auth = pb_srv_auth;
	ho.app = &srv;
	if ((rc = pb_http_server_new(&srv.http, &ho)) < 0)
		goto fail;
	for (size_t i = 0; i < PB_ARRAY_SIZE(registrars); i++)
		if ((rc = registrars[i](srv.http, &srv)) < 0)
			goto fail;
	if ((rc = pb_http_server_start(srv.http)) < 0)
		goto fail;
	if (a->port_file &&
	    (rc = write_port_file(a->port_file,
				  pb_http_server_port(srv.http))) < 0)
		goto fail;
	pb_log_info("listening on %s, port %u, with %lld threads",
		    cfg->listen, pb_http_server_port(srv.http),
		    (long long)cfg->threads);
	while (sigwait(&sigs, &sig) != 0 || (sig != SIGTERM && sig != SIGINT))
		;
	pb_log_info("stopping (%s): %zu held request%s answered",
		    sig == SIGTERM ? "SIGTERM" : "SIGINT",
		    pb_http_held(srv.http),
		    pb_http_held(srv.http) == 1 ? "" : "s");
	goto out;
fail:
	fprintf(stderr, "perfbisectd: error: %s\n", pb_error_last());
	status = exit_of(rc);
out:
	pb_http_server_free(srv.http);
	pb_srv_run_at_stop(&srv);
	pb_db_close(srv.auth_db);
	pb_db_close(srv.db);
	pthread_mutex_destroy(&srv.auth_mu);
	pthread_mutex_destroy(&srv.db_mu);
	if (status == 0)
		pb_log_info("stopped");
	return status;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	struct pb_config cfg;
	int rc;

	pb_log_init("perfbisectd", 0);
	rc = parse_args(&a, argc, argv);
	if (rc == -1) {
		rc = print_help();
		goto out;
	}
	if (rc == -2) {
		printf("perfbisectd %s\n", PB_VERSION);
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;
	pb_log_init("perfbisectd", a.verbose);
	if (a.mode == M_EXAMPLE) {
		rc = print_example();
		goto out;
	}
	if ((rc = load_config(&cfg, &a)) != 0)
		goto release;
	switch (a.mode) {
	case M_CHECK: rc = 0; break;
	case M_ADD_AGENT:
	case M_ADD_CLIENT: rc = cmd_add(&cfg, &a); break;
	case M_REVOKE: rc = cmd_revoke(&cfg, &a); break;
	case M_LIST: rc = cmd_list(&cfg); break;
	case M_WRITE_REPORT: rc = cmd_write_report(&cfg); break;
	case M_SERVE:
		/* the scheduler fetches repositories (libgit2) */
		if (pb_git_global_init() < 0) {
			pb_log_warnx("%s", pb_error_last());
			rc = 3;
			break;
		}
		rc = serve(&cfg, &a);
		pb_git_global_shutdown();
		break;
	case M_EXAMPLE: break;
	}
release:
	pb_config_release(&cfg);
out:
	for (size_t i = 0; i < a.nowned; i++)
		free(a.owned[i]);
	return rc;
}
