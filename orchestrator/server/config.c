/*
 * config.c - the settings table of perfbisectd and its parser (see
 * config.h).  Adding a setting is one field in struct pb_config and one
 * row here; `make check` fails until deploy/perfbisectd.conf is
 * regenerated (`bin/perfbisectd --example-config`).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "orchestrator/server/config.h"
#include "common/util.h"

#define KiB ((int64_t)1024)
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)

#define ROW(name, type, min, max, def, doc)                                   \
	{ #name, type, offsetof(struct pb_config, name), min, max, def, doc }

static const struct pb_config_setting table[] = {
	ROW(listen, PB_CFG_ADDRESS, 0, 0, "127.0.0.1:8630",
	    "address and port to listen on; port 0 takes any free port (see "
	    "--port-file)"),
	ROW(db, PB_CFG_STRING, 0, 0, "/var/lib/perfbisect/perfbisectd.db",
	    "the sqlite database, created when missing"),
	ROW(report_dir, PB_CFG_STRING, 0, 0, "/var/lib/perfbisect/report",
	    "directory of the static report, served under /report/"),
	ROW(work_dir, PB_CFG_STRING, 0, 0, "/var/lib/perfbisect/work",
	    "where the orchestrator keeps its clones of registered "
	    "repositories"),
	ROW(allow_local_repos, PB_CFG_BOOL, 0, 1, "no",
	    "accept local paths and file:// repository URLs (tests; every "
	    "agent must see the same path)"),
	ROW(allow_private_notify, PB_CFG_BOOL, 0, 1, "no",
	    "accept a notify_url on a loopback, private or link-local "
	    "address"),
	ROW(report_requires_token, PB_CFG_BOOL, 0, 1, "no",
	    "serve /report/ only to requests with a client token"),
	ROW(report_interval_s, PB_CFG_SECONDS, 1, 3600, "5",
	    "look this often whether the database changed, and redraw the "
	    "report's pages that did (after a drawing, at least 9 times as "
	    "long as it took)"),
	ROW(max_body, PB_CFG_SIZE, KiB, GiB, "1MiB",
	    "largest request body a route takes, unless the route sets its "
	    "own (answered 413)"),
	ROW(connection_timeout_s, PB_CFG_SECONDS, 1, 3600, "60",
	    "close a connection idle this long (a held long poll is not "
	    "idle)"),
	ROW(connection_limit, PB_CFG_INT, 1, 65536, "1024",
	    "most connections at once, held long polls included"),
	ROW(per_ip_connection_limit, PB_CFG_INT, 0, 65536, "0",
	    "most connections from one address; 0: no limit (behind a "
	    "reverse proxy, every client has the proxy's address)"),
	ROW(threads, PB_CFG_INT, 1, 64, "4", "HTTP worker threads"),
	ROW(max_waiters, PB_CFG_INT, 1, 65536, "1024",
	    "most long polls held at once; one more is answered 204 at "
	    "once"),
	ROW(log_requests, PB_CFG_BOOL, 0, 1, "yes",
	    "log one line per request on stderr (never its token)"),
	ROW(lease_s, PB_CFG_SECONDS, 1, 86400, "120",
	    "a job goes back to the queue when its agent has not reported "
	    "for this long"),
	ROW(long_poll_s, PB_CFG_SECONDS, 1, 3600, "30",
	    "how long an agent's request for work is held before 204 No "
	    "Content"),
	ROW(heartbeat_s, PB_CFG_SECONDS, 1, 86400, "30",
	    "how often an agent reports while it runs a job; shorter than "
	    "lease_s"),
	ROW(restart_grace_s, PB_CFG_SECONDS, 0, 86400, "=lease_s",
	    "after a start, how long no lease is expired (agents reconnect "
	    "first)"),
	ROW(busy_backoff_s, PB_CFG_SECONDS, 1, 3600, "1",
	    "while most recent runs of a bisection are disturbed by other "
	    "work, no new runs for this long, doubling up to 32 times it; "
	    "after 10 such waits in a row the bisection ends \"machine too "
	    "busy to measure\" (bisect --local's --busy-backoff); a merge "
	    "with disturbed runs waits as long before they run again"),
	ROW(max_lease_expiries, PB_CFG_INT, 1, 100, "3",
	    "a job whose lease expired this many times fails instead of "
	    "going back to the queue"),
	ROW(merge_repeats, PB_CFG_INT, 1, 1000, "5",
	    "runs of a merged commit, for a benchmark registered without "
	    "repeats"),
	ROW(merge_backlog, PB_CFG_INT, 1, 100000, "20",
	    "merges of one series waiting to be measured: past this many "
	    "the oldest waiting are skipped (a bisection measures them "
	    "when it needs them); the newest is always measured"),
	ROW(merge_home_wait_s, PB_CFG_SECONDS, 1, 604800, "1800",
	    "a series' merges are measured on one machine, the first that "
	    "took one, while it lives; a merge job that waited this long "
	    "for it goes to any agent"),
	ROW(auto_bisections, PB_CFG_INT, 0, 100, "2",
	    "bisections that alerts start, running at once per repository; "
	    "an alert past the limit waits for one to end; 0: none"),
	ROW(history_commits, PB_CFG_INT, 10, 1000000, "5000",
	    "how far back along the tracked branch a series is judged"),
	ROW(notify_retry_s, PB_CFG_SECONDS, 1, 86400, "10",
	    "a notification that was not answered 2xx is sent again after "
	    "about this long, doubling with each failure (with jitter)"),
	ROW(notify_retry_max_s, PB_CFG_SECONDS, 1, 86400, "1h",
	    "the longest wait between two attempts to send a notification"),
	ROW(notify_max_attempts, PB_CFG_INT, 1, 10000, "100",
	    "a notification is given up (kept in the outbox as failed, and "
	    "logged) after this many attempts"),
	ROW(notify_give_up_s, PB_CFG_SECONDS, 1, 30 * 86400, "3d",
	    "... or once it is this old, whichever comes first"),
	ROW(notify_timeout_s, PB_CFG_SECONDS, 1, 300, "10",
	    "one attempt to send a notification may take this long, "
	    "connecting included (at most 5 s of it); no redirect is "
	    "followed"),
	ROW(debug_routes, PB_CFG_BOOL, 0, 1, "no",
	    "test-only routes POST /api/v1/debug/hold, POST "
	    "/api/v1/debug/wake and GET /api/v1/debug/held (admin client): "
	    "never in production"),
};

_Static_assert(PB_ARRAY_SIZE(table) <= 64, "pb_config.given has 64 bits");

const struct pb_config_setting *pb_config_table(size_t *n)
{
	*n = PB_ARRAY_SIZE(table);
	return table;
}

const struct pb_config_setting *pb_config_lookup(const char *name)
{
	for (size_t i = 0; i < PB_ARRAY_SIZE(table); i++)
		if (!strcmp(table[i].name, name))
			return &table[i];
	return NULL;
}

static void *field(struct pb_config *c, const struct pb_config_setting *s)
{
	return (char *)c + s->offset;
}

static const void *cfield(const struct pb_config *c,
			  const struct pb_config_setting *s)
{
	return (const char *)c + s->offset;
}

static int err_line(struct pb_buf *errs, const char *where, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));

static int err_line(struct pb_buf *errs, const char *where, const char *fmt,
		    ...)
{
	va_list ap;

	if (errs) {
		pb_buf_printf(errs, "%s: ", where);
		va_start(ap, fmt);
		pb_buf_vprintf(errs, fmt, ap);
		va_end(ap);
		pb_buf_puts(errs, "\n");
	}
	return PB_EINVAL;
}

/* Values are parsed into these before they are stored, so a bad value
 * leaves the field as it was. */
union value {
	int b;
	int64_t i;
	char *s;
};

static int parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < PB_ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(v, yes[i]))
			return *out = 1, 0;
		if (!strcasecmp(v, no[i]))
			return *out = 0, 0;
	}
	return -1;
}

/* A whole number, then a unit from units[] (its factor in factors[]);
 * -1 for anything else or overflow. */
static int parse_scaled(const char *v, const char *const *units,
			const int64_t *factors, size_t nunits, int64_t *out)
{
	const char *p = v;
	uint64_t n = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (uint64_t)INT64_MAX / 10)
			return -1;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (n > (uint64_t)INT64_MAX)
		return -1;
	for (size_t i = 0; i < nunits; i++) {
		if (strcmp(p, units[i]))
			continue;
		uint64_t f = (uint64_t)factors[i];

		if (f && n > (uint64_t)INT64_MAX / f)
			return -1;
		*out = (int64_t)n * factors[i];
		return 0;
	}
	return -1;
}

static int parse_seconds(const char *v, int64_t *out)
{
	static const char *const u[] = { "", "s", "m", "h", "d" };
	static const int64_t f[] = { 1, 1, 60, 3600, 86400 };

	return parse_scaled(v, u, f, PB_ARRAY_SIZE(u), out);
}

static int parse_size(const char *v, int64_t *out)
{
	static const char *const u[] = { "", "B", "k", "K", "KiB", "M", "MiB",
					 "G", "GiB" };
	static const int64_t f[] = { 1, 1, KiB, KiB, KiB, MiB, MiB, GiB, GiB };

	return parse_scaled(v, u, f, PB_ARRAY_SIZE(u), out);
}

static int parse_int(const char *v, int64_t *out)
{
	static const char *const u[] = { "" };
	static const int64_t f[] = { 1 };

	return parse_scaled(v, u, f, 1, out);
}

/* "1 MiB" for a size that is a whole number of KiB/MiB/GiB. */
static void format_size(char *out, size_t size, int64_t v)
{
	if (v >= GiB && v % GiB == 0)
		snprintf(out, size, "%lldGiB", (long long)(v / GiB));
	else if (v >= MiB && v % MiB == 0)
		snprintf(out, size, "%lldMiB", (long long)(v / MiB));
	else if (v >= KiB && v % KiB == 0)
		snprintf(out, size, "%lldKiB", (long long)(v / KiB));
	else
		snprintf(out, size, "%lld", (long long)v);
}

int pb_config_parse_address(const char *s, struct sockaddr_storage *out,
			    socklen_t *len)
{
	char host[64];
	const char *colon, *h = s;
	size_t hlen;
	int64_t port;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return pb_error_code(PB_EINVAL,
					     "'%s' is not [IPv6]:PORT", s);
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return pb_error_code(PB_EINVAL,
					     "'%s' is not HOST:PORT", s);
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return pb_error_code(PB_EINVAL, "'%s' has no host address", s);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (parse_int(colon + 1, &port) < 0 || port > 65535)
		return pb_error_code(PB_EINVAL,
				     "'%s': the port is not a number from 0 "
				     "to 65535", s);
	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return pb_error_code(PB_EINVAL,
					     "'%s' is not an IPv6 address",
					     host);
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)out;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return pb_error_code(PB_EINVAL,
					     "'%s' is not an IPv4 address (a "
					     "name is not resolved; IPv6 goes "
					     "in brackets)",
					     host);
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
	}
	return PB_OK;
}

static const char *type_word(enum pb_cfg_type t)
{
	switch (t) {
	case PB_CFG_BOOL: return "yes or no";
	case PB_CFG_INT: return "a whole number";
	case PB_CFG_SECONDS: return "seconds (30, 90s, 5m, 2h, 1d)";
	case PB_CFG_SIZE: return "a size (65536, 64k, 1M, 1MiB, 1G)";
	case PB_CFG_STRING: return "text";
	case PB_CFG_ADDRESS: return "HOST:PORT";
	}
	return "?";
}

static void format_bound(char *out, size_t size,
			 const struct pb_config_setting *s, int64_t v)
{
	if (s->type == PB_CFG_SIZE)
		format_size(out, size, v);
	else
		snprintf(out, size, "%lld", (long long)v);
}

/* Parses `value` for setting s into *v; error lines start with where. */
static int parse_value(const struct pb_config_setting *s, const char *value,
		       union value *v, const char *where, struct pb_buf *errs)
{
	char lo[32], hi[32], got[32];
	int rc = 0;

	if (!*value)
		return err_line(errs, where, "'%s' has no value (it takes %s)",
				s->name, type_word(s->type));
	for (const char *p = value; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_line(errs, where,
					"'%s': the value has a control "
					"character",
					s->name);
	switch (s->type) {
	case PB_CFG_BOOL:
		if (parse_bool(value, &v->b) < 0)
			return err_line(errs, where,
					"'%s' takes yes or no, not '%s'",
					s->name, value);
		return PB_OK;
	case PB_CFG_INT: rc = parse_int(value, &v->i); break;
	case PB_CFG_SECONDS: rc = parse_seconds(value, &v->i); break;
	case PB_CFG_SIZE: rc = parse_size(value, &v->i); break;
	case PB_CFG_ADDRESS: {
		struct sockaddr_storage ss;
		socklen_t len;

		if (pb_config_parse_address(value, &ss, &len) < 0)
			return err_line(errs, where, "'%s': %s", s->name,
					pb_error_last());
	}
		/* fall through */
	case PB_CFG_STRING:
		v->s = pb_strdup(value);
		if (!v->s)
			return err_line(errs, where, "out of memory");
		return PB_OK;
	}
	if (rc < 0)
		return err_line(errs, where, "'%s' takes %s, not '%s'", s->name,
				type_word(s->type), value);
	if (v->i < s->min || v->i > s->max) {
		format_bound(lo, sizeof(lo), s, s->min);
		format_bound(hi, sizeof(hi), s, s->max);
		format_bound(got, sizeof(got), s, v->i);
		return err_line(errs, where,
				"'%s' is %s, out of bounds (%s to %s)", s->name,
				got, lo, hi);
	}
	return PB_OK;
}

static void store(struct pb_config *c, const struct pb_config_setting *s,
		  union value v)
{
	void *f = field(c, s);

	switch (s->type) {
	case PB_CFG_BOOL: *(int *)f = v.b; break;
	case PB_CFG_INT:
	case PB_CFG_SECONDS:
	case PB_CFG_SIZE: *(int64_t *)f = v.i; break;
	case PB_CFG_STRING:
	case PB_CFG_ADDRESS:
		free(*(char **)f);
		*(char **)f = v.s;
		break;
	}
}

/* Optimal string alignment distance (transpositions count once), for
 * "did you mean". */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[64][64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1], best;

			best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < best)
				best = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

/* The known name nearest to `name`, when it is near enough to be what
 * was meant (a third of its letters, at least 2, may differ); or NULL. */
static const char *nearest(const char *name)
{
	size_t best = (size_t)-1, limit = strlen(name) / 3;
	const char *who = NULL;

	if (limit < 2)
		limit = 2;
	for (size_t i = 0; i < PB_ARRAY_SIZE(table); i++) {
		size_t d = edit_distance(name, table[i].name);

		if (d < best) {
			best = d;
			who = table[i].name;
		}
	}
	return best <= limit ? who : NULL;
}

static int unknown(const char *name, const char *where, struct pb_buf *errs)
{
	const char *near = nearest(name);

	if (near)
		return err_line(errs, where,
				"unknown setting '%s' (did you mean '%s'?)",
				name, near);
	return err_line(errs, where,
			"unknown setting '%s' (`perfbisectd --help` lists "
			"them)",
			name);
}

int pb_config_set(struct pb_config *c, const char *name, const char *value,
		  const char *where, struct pb_buf *errs)
{
	const struct pb_config_setting *s = pb_config_lookup(name);
	union value v;
	int rc;

	if (!s)
		return unknown(name, where, errs);
	if ((rc = parse_value(s, value, &v, where, errs)) < 0)
		return rc;
	store(c, s, v);
	c->given |= (uint64_t)1 << (s - table);
	return PB_OK;
}

int pb_config_init(struct pb_config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < PB_ARRAY_SIZE(table); i++) {
		const struct pb_config_setting *s = &table[i];
		union value v;

		if (s->def[0] == '=')
			continue;
		if (parse_value(s, s->def, &v, s->name, NULL) < 0) {
			pb_config_release(c);
			return pb_error_set("the default of '%s' is bad",
					    s->name);
		}
		store(c, s, v);
	}
	return PB_OK;
}

void pb_config_release(struct pb_config *c)
{
	for (size_t i = 0; i < PB_ARRAY_SIZE(table); i++) {
		if (table[i].type == PB_CFG_STRING ||
		    table[i].type == PB_CFG_ADDRESS) {
			char **f = field(c, &table[i]);

			free(*f);
			*f = NULL;
		}
	}
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
			 e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* Splits "name = value  # comment" in place; -1 when there is no '='. */
static int split_line(char *line, char **name, char **value)
{
	char *eq = strchr(line, '='), *v;

	if (!eq)
		return -1;
	*eq = '\0';
	*name = trim(line);
	v = trim(eq + 1);
	if (v[0] == '"') {
		char *close = strchr(v + 1, '"');

		if (!close)
			return -2;
		*close = '\0';
		if (*trim(close + 1) && *trim(close + 1) != '#')
			return -2;
		*value = v + 1;
		return 0;
	}
	for (char *p = v; *p; p++) {
		if (*p == '#' && (p == v || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
	}
	*value = trim(v);
	return 0;
}

static int name_ok(const char *name)
{
	if (!*name)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
		      *p == '.'))
			return 0;
	return 1;
}

int pb_config_load(struct pb_config *c, const char *path, struct pb_buf *errs)
{
	unsigned seen[PB_ARRAY_SIZE(table)] = { 0 };
	char *line = NULL, where[512];
	size_t cap = 0;
	unsigned lineno = 0;
	int bad = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return err_line(errs, path, "cannot read: %s", strerror(errno));
	while (getline(&line, &cap, f) != -1) {
		char *s = trim(line), *name, *value, *whole;
		const struct pb_config_setting *set;
		int split;

		lineno++;
		if (!*s || *s == '#')
			continue;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		/* the line as written, for the message: split cuts it up */
		whole = pb_strdup(s);
		if (!whole) {
			bad = err_line(errs, where, "out of memory");
			break;
		}
		split = split_line(s, &name, &value);
		if (split == -2) {
			bad = err_line(errs, where, "'%s': a quoted value must "
				       "end with '\"'", name);
			free(whole);
			continue;
		}
		if (split < 0 || !name_ok(name))
			bad = err_line(errs, where,
				       "expected 'name = value', not '%s'",
				       whole);
		free(whole);
		if (split < 0 || !name_ok(name))
			continue;
		set = pb_config_lookup(name);
		if (set && seen[set - table]) {
			bad = err_line(errs, where,
				       "'%s' is set twice (first on line %u)",
				       name, seen[set - table]);
			continue;
		}
		if (pb_config_set(c, name, value, where, errs) < 0) {
			bad = PB_EINVAL;
			continue;
		}
		seen[set - table] = lineno;
	}
	if (ferror(f))
		bad = err_line(errs, path, "cannot read: %s", strerror(errno));
	free(line);
	fclose(f);
	return bad ? PB_EINVAL : PB_OK;
}

int pb_config_finish(struct pb_config *c, const char *where,
		     struct pb_buf *errs)
{
	int bad = 0;

	for (size_t i = 0; i < PB_ARRAY_SIZE(table); i++) {
		const struct pb_config_setting *s = &table[i], *from;

		if (s->def[0] != '=' || (c->given >> i & 1))
			continue;
		from = pb_config_lookup(s->def + 1);
		/* only numbers of the same type are derived */
		if (!from || from->type != s->type)
			return pb_error_set("bad default of '%s'", s->name);
		*(int64_t *)field(c, s) = *(const int64_t *)cfield(c, from);
	}
	if (c->heartbeat_s >= c->lease_s)
		bad = err_line(errs, where,
			       "heartbeat_s (%lld) must be shorter than "
			       "lease_s (%lld): every lease would expire",
			       (long long)c->heartbeat_s,
			       (long long)c->lease_s);
	if (c->notify_retry_max_s < c->notify_retry_s)
		bad = err_line(errs, where,
			       "notify_retry_max_s (%lld) must not be shorter "
			       "than notify_retry_s (%lld)",
			       (long long)c->notify_retry_max_s,
			       (long long)c->notify_retry_s);
	return bad ? PB_EINVAL : PB_OK;
}

int pb_config_format(const struct pb_config *c,
		     const struct pb_config_setting *s, struct pb_buf *out)
{
	const void *f = cfield(c, s);
	char tmp[32];

	switch (s->type) {
	case PB_CFG_BOOL:
		return pb_buf_puts(out, *(const int *)f ? "yes" : "no");
	case PB_CFG_INT:
	case PB_CFG_SECONDS:
		return pb_buf_printf(out, "%lld",
				     (long long)*(const int64_t *)f);
	case PB_CFG_SIZE:
		format_size(tmp, sizeof(tmp), *(const int64_t *)f);
		return pb_buf_puts(out, tmp);
	case PB_CFG_STRING:
	case PB_CFG_ADDRESS: {
		const char *v = *(char *const *)f;

		return pb_buf_puts(out, v ? v : "");
	}
	}
	return PB_OK;
}

/* "(yes or no; default no)", "(seconds, 1 to 86400; default 120)". */
static int describe(const struct pb_config_setting *s, struct pb_buf *out)
{
	char lo[32], hi[32];
	const char *type = type_word(s->type);
	int rc;

	if (s->type == PB_CFG_INT || s->type == PB_CFG_SECONDS ||
	    s->type == PB_CFG_SIZE) {
		format_bound(lo, sizeof(lo), s, s->min);
		format_bound(hi, sizeof(hi), s, s->max);
		rc = pb_buf_printf(out, "%s, %s to %s",
				   s->type == PB_CFG_INT ? "a whole number"
				   : s->type == PB_CFG_SECONDS ? "seconds"
							       : "a size",
				   lo, hi);
	} else {
		rc = pb_buf_puts(out, type);
	}
	if (rc < 0)
		return rc;
	if (s->def[0] == '=')
		return pb_buf_printf(out, "; default: the value of %s",
				     s->def + 1);
	return pb_buf_printf(out, "; default %s", s->def);
}

/* Appends text wrapped at 78 columns, each line starting with `lead`. */
static int wrap(struct pb_buf *out, const char *lead, const char *text)
{
	const char *p = text;
	size_t width = 78 - strlen(lead);

	while (*p) {
		size_t n = strlen(p), cut = n;

		if (n > width) {
			for (cut = width; cut > 0 && p[cut] != ' '; cut--)
				;
			if (cut == 0)
				cut = strcspn(p, " ");
		}
		if (pb_buf_printf(out, "%s%.*s\n", lead, (int)cut, p) < 0)
			return PB_ETOOBIG;
		p += cut;
		while (*p == ' ')
			p++;
	}
	return PB_OK;
}

int pb_config_help(struct pb_buf *out)
{
	for (size_t i = 0; i < PB_ARRAY_SIZE(table); i++) {
		const struct pb_config_setting *s = &table[i];

		if (pb_buf_printf(out, "  %s (", s->name) < 0 ||
		    describe(s, out) < 0 || pb_buf_puts(out, ")\n") < 0 ||
		    wrap(out, "      ", s->doc) < 0)
			return PB_ETOOBIG;
	}
	return PB_OK;
}

int pb_config_example(struct pb_buf *out)
{
	static const char head[] =
		"# perfbisectd.conf - the settings of perfbisectd, the "
		"perfbisect orchestrator.\n"
		"#\n"
		"# Generated by `perfbisectd --example-config` from the one "
		"table of settings\n"
		"# (orchestrator/server/config.c); `make check` fails when "
		"they disagree.\n"
		"# One 'name = value' per line; '#' starts a comment. Every "
		"setting is shown\n"
		"# commented out at its default.  Command-line flags override "
		"this file.\n"
		"# Check a file with `perfbisectd -n --config FILE`.\n";

	if (pb_buf_puts(out, head) < 0)
		return PB_ETOOBIG;
	for (size_t i = 0; i < PB_ARRAY_SIZE(table); i++) {
		const struct pb_config_setting *s = &table[i];
		const char *def;

		if (pb_buf_puts(out, "\n") < 0 || wrap(out, "# ", s->doc) < 0 ||
		    pb_buf_puts(out, "# (") < 0 || describe(s, out) < 0 ||
		    pb_buf_puts(out, ")\n") < 0)
			return PB_ETOOBIG;
		/* a derived default is shown as its source's default */
		def = s->def;
		if (def[0] == '=' && pb_config_lookup(def + 1))
			def = pb_config_lookup(def + 1)->def;
		if (pb_buf_printf(out, "#%s = %s\n", s->name, def) < 0)
			return PB_ETOOBIG;
	}
	return PB_OK;
}
