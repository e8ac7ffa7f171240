/*
 * http.c - the HTTP layer of perfbisectd on libmicrohttpd (see http.h).
 *
 * libmicrohttpd calls on_request() several times per request: once when
 * the headers are in (the "headers-only call", *con_cls still NULL), once
 * per piece of body (*upload_data_size > 0), and a final time with
 * *upload_data_size == 0, when a response may be queued.  0.9.75 refuses
 * a response queued while the body is being delivered, so every decision
 * that can be made early (route, token, declared size) is made on the
 * headers-only call and kept as a pending error; the body of a request
 * that will be refused is read and dropped, never stored; the answer goes
 * out on the final call.
 *
 * Held requests (long polls) sit in a doubly linked waiter list under the
 * server's mutex.  The lock order is ours, then libmicrohttpd's: a
 * connection is suspended and put in the list, or taken out and resumed,
 * with our mutex held, so a wake can never resume a connection that is
 * not suspended yet, nor two wakes resume one twice.  MHD never calls us
 * with its own locks held.  A timer thread answers held requests whose
 * hold has passed.  The path and query are passed through undecoded (our
 * unescape callback is the identity) and decoded here, one segment at a
 * time, so "%2F" never splits a segment and "%00" never cuts a string.
 */
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/proto.h"
#include "orchestrator/server/http.h"
#include "common/util.h"

#define MAX_SEGMENTS 32
#define MAX_HEADERS 8
#define MAX_ROUTES 128

struct route {
	struct pb_http_route r;
	char *segs[MAX_SEGMENTS];  /* the pattern split at '/' */
	size_t nsegs;
	int rest;                  /* last segment is "*" */
};

struct pb_http_resp {
	int set;
	unsigned status;
	char *body;                /* malloc'd, or NULL */
	size_t len;
	const char *content_type;
	int fd;                    /* >= 0: the body is this file */
	uint64_t fd_size;
	char *hname[MAX_HEADERS], *hvalue[MAX_HEADERS];
	size_t nheaders;
};

enum hold_state {
	ACTIVE = 0,   /* the handler runs, or will */
	HELD,         /* suspended, in the waiter list */
	WOKEN,        /* resumed: run the handler again */
	ENDED,        /* resumed: answer 204 */
};

struct pb_http_conn {
	struct pb_http_server *srv;
	struct MHD_Connection *mc;
	const struct route *route;
	char *method, *path;
	char *params[PB_HTTP_MAX_PARAMS + 1];
	const char *pnames[PB_HTTP_MAX_PARAMS + 1];
	size_t nparams;
	struct pb_principal who;
	struct pb_buf body;
	size_t max_body;
	uint64_t received;
	unsigned pending;          /* an error status decided early */
	char pending_msg[256];
	char allow[64];            /* the methods of a 405's path */
	int pending_auth;          /* add WWW-Authenticate */
	unsigned answered;         /* the status queued */
	double t0;
	struct pb_http_resp resp;
	struct pb_http_req req;
	/* holding */
	enum hold_state state;
	int hold_asked;            /* pb_http_suspend() in this run */
	char *hold_key;
	unsigned hold_flags;
	double deadline;           /* monotonic; 0: never held */
	int counted_end;           /* an ENDED answer the stop waits for */
	struct pb_http_conn *prev, *next;
	/* strings handed out by pb_http_query() */
	char **owned;
	size_t nowned;
};

struct pb_http_server {
	struct pb_http_opts o;
	struct MHD_Daemon *d;
	struct route routes[MAX_ROUTES];
	size_t nroutes;
	unsigned port;
	pthread_mutex_t mu;        /* waiter list, wake_gen, stopping */
	pthread_cond_t timer_cv;
	pthread_t timer;
	int timer_started, timer_quit;
	struct pb_http_conn *held; /* the waiter list */
	size_t nheld;
	uint64_t wake_gen;         /* bumped by every pb_http_wake() */
	int stopping, stopped;
	pthread_mutex_t drain_mu;  /* ENDED answers not yet sent */
	pthread_cond_t drain_cv;
	size_t draining;
};

/* ---- responses ---- */

static void resp_init(struct pb_http_resp *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

static void resp_release(struct pb_http_resp *r)
{
	free(r->body);
	if (r->fd >= 0)
		close(r->fd);
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->hname[i]);
		free(r->hvalue[i]);
	}
	resp_init(r);
}

int pb_http_resp_json(struct pb_http_resp *resp, unsigned status, char *json)
{
	resp_release(resp);
	resp->set = 1;
	if (!json) {
		resp->status = 500;
		resp->content_type = "application/json";
		resp->body = pb_strdup("{\"error\": \"out of memory\"}");
		resp->len = resp->body ? strlen(resp->body) : 0;
		return PB_HTTP_DONE;
	}
	resp->status = status;
	resp->body = json;
	resp->len = strlen(json);
	resp->content_type = "application/json";
	return PB_HTTP_DONE;
}

static int resp_verror(struct pb_http_resp *resp, unsigned status,
		       const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return pb_http_resp_json(resp, status, pb_proto_error_body(msg));
}

int pb_http_resp_error(struct pb_http_resp *resp, unsigned status,
		       const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = resp_verror(resp, status, fmt, ap);
	va_end(ap);
	return rc;
}

int pb_http_resp_empty(struct pb_http_resp *resp, unsigned status)
{
	resp_release(resp);
	resp->set = 1;
	resp->status = status;
	return PB_HTTP_DONE;
}

int pb_http_resp_fd(struct pb_http_resp *resp, unsigned status, int fd,
		    uint64_t size, const char *content_type)
{
	resp_release(resp);
	resp->set = 1;
	resp->status = status;
	resp->fd = fd;
	resp->fd_size = size;
	resp->content_type = content_type;
	return PB_HTTP_DONE;
}

int pb_http_resp_header(struct pb_http_resp *resp, const char *name,
			const char *value)
{
	char *n, *v;

	if (resp->nheaders == MAX_HEADERS)
		return pb_error_code(PB_ETOOBIG, "too many response headers");
	n = pb_strdup(name);
	v = pb_strdup(value);
	if (!n || !v) {
		free(n);
		free(v);
		return pb_error_set("out of memory");
	}
	resp->hname[resp->nheaders] = n;
	resp->hvalue[resp->nheaders++] = v;
	return PB_OK;
}

/* ---- decoding ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes n bytes of s into a malloc'd string; NULL (errno
 * EINVAL) for a malformed escape or an escaped NUL, (ENOMEM) when memory
 * runs out. */
static char *decode(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;

	if (!out) {
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] != '%') {
			*o++ = s[i];
			continue;
		}
		if (i + 2 >= n)
			goto bad;
		hi = hexval(s[i + 1]);
		lo = hexval(s[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			goto bad;
		*o++ = (char)(hi << 4 | lo);
		i += 2;
	}
	*o = '\0';
	return out;
bad:
	free(out);
	errno = EINVAL;
	return NULL;
}

/* libmicrohttpd's unescape callback: leave the text as it came. */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

/* ---- routes ---- */

static int split_pattern(struct route *rt)
{
	const char *p = rt->r.pattern;

	if (p[0] != '/')
		return pb_error_code(PB_EINVAL, "pattern '%s' must start "
				     "with '/'", rt->r.pattern);
	while (*p == '/') {
		const char *e = strchr(p + 1, '/');
		size_t n = e ? (size_t)(e - p - 1) : strlen(p + 1);

		if (rt->nsegs == MAX_SEGMENTS || rt->rest)
			return pb_error_code(PB_EINVAL, "pattern '%s': too "
					     "many segments, or one after *",
					     rt->r.pattern);
		if (n == 0 && e)
			return pb_error_code(PB_EINVAL, "pattern '%s' has an "
					     "empty segment", rt->r.pattern);
		rt->segs[rt->nsegs] = malloc(n + 1);
		if (!rt->segs[rt->nsegs])
			return pb_error_set("out of memory");
		memcpy(rt->segs[rt->nsegs], p + 1, n);
		rt->segs[rt->nsegs][n] = '\0';
		if (!strcmp(rt->segs[rt->nsegs], "*"))
			rt->rest = 1;
		rt->nsegs++;
		p = e ? e : p + 1 + n;
	}
	if (*p)
		return pb_error_code(PB_EINVAL, "bad pattern '%s'",
				     rt->r.pattern);
	return PB_OK;
}

static void route_release(struct route *rt)
{
	for (size_t i = 0; i < rt->nsegs; i++)
		free(rt->segs[i]);
	rt->nsegs = 0;
}

int pb_http_route_add(struct pb_http_server *s,
		      const struct pb_http_route *routes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct route *rt;
		int rc;

		if (s->d)
			return pb_error_code(PB_EINVAL, "routes are added "
					     "before the server starts");
		if (s->nroutes == MAX_ROUTES)
			return pb_error_code(PB_ETOOBIG, "too many routes");
		for (size_t j = 0; j < s->nroutes; j++)
			if (!strcmp(s->routes[j].r.pattern,
				    routes[i].pattern) &&
			    !strcmp(s->routes[j].r.method, routes[i].method))
				return pb_error_code(PB_EINVAL,
						     "route %s %s is there "
						     "already",
						     routes[i].method,
						     routes[i].pattern);
		rt = &s->routes[s->nroutes];
		memset(rt, 0, sizeof(*rt));
		rt->r = routes[i];
		if (!rt->r.handler || !rt->r.method) {
			route_release(rt);
			return pb_error_code(PB_EINVAL, "route %s without a "
					     "handler or method",
					     routes[i].pattern);
		}
		if ((rc = split_pattern(rt)) < 0) {
			route_release(rt);
			return rc;
		}
		s->nroutes++;
	}
	return PB_OK;
}

/* Matches the path against a route; fills the request's params.  1 on a
 * match, 0 none, PB_EINVAL for a bad escape in a parameter. */
static int match(struct pb_http_conn *c, const struct route *rt,
		 char **segs, size_t nsegs, const char *rest_raw[])
{
	size_t np = 0;

	if (rt->rest ? nsegs < rt->nsegs : nsegs != rt->nsegs)
		return 0;
	for (size_t i = 0; i < rt->nsegs; i++) {
		const char *pat = rt->segs[i];
		size_t pl = strlen(pat);

		if (rt->rest && i == rt->nsegs - 1)
			break;
		if (pl >= 2 && pat[0] == '{' && pat[pl - 1] == '}') {
			if (!segs[i][0])
				return 0;
			continue;
		}
		if (strcmp(pat, segs[i]))
			return 0;
	}
	/* a match: decode the parameters */
	for (size_t i = 0; i < c->nparams; i++)
		free(c->params[i]);
	c->nparams = 0;
	for (size_t i = 0; i < rt->nsegs; i++) {
		const char *pat = rt->segs[i];
		size_t pl = strlen(pat);

		if (rt->rest && i == rt->nsegs - 1) {
			c->pnames[np] = "*";
			c->params[np] =
				pb_strdup(rest_raw[i] ? rest_raw[i] : "");
			if (!c->params[np])
				return pb_error_set("out of memory");
			c->nparams = ++np;
			break;
		}
		if (!(pl >= 2 && pat[0] == '{' && pat[pl - 1] == '}'))
			continue;
		if (np == PB_HTTP_MAX_PARAMS)
			break;
		c->pnames[np] = pat;
		c->params[np] = decode(segs[i], strlen(segs[i]));
		if (!c->params[np])
			return errno == EINVAL
				       ? pb_error_code(PB_EINVAL,
						       "bad percent-escape in "
						       "the path")
				       : pb_error_set("out of memory");
		c->nparams = ++np;
	}
	return 1;
}

static void pend(struct pb_http_conn *c, unsigned status, const char *fmt,
		 ...) __attribute__((format(printf, 3, 4)));

static void pend(struct pb_http_conn *c, unsigned status, const char *fmt,
		 ...)
{
	va_list ap;

	if (c->pending)
		return;
	c->pending = status;
	va_start(ap, fmt);
	vsnprintf(c->pending_msg, sizeof(c->pending_msg), fmt, ap);
	va_end(ap);
}

/* Finds the route of the request; pends 404, 405 (with the methods the
 * path takes in `allow`) or 400. */
static void route_request(struct pb_http_conn *c, char *allow,
			  size_t allow_size)
{
	struct pb_http_server *s = c->srv;
	char *copy = pb_strdup(c->path), *segs[MAX_SEGMENTS];
	const char *rest[MAX_SEGMENTS] = { 0 };
	const char *method = !strcmp(c->method, "HEAD") ? "GET" : c->method;
	size_t nsegs = 0;
	int known_path = 0;

	allow[0] = '\0';
	if (!copy) {
		pend(c, 500, "out of memory");
		return;
	}
	/* split the copy at '/', remembering where each rest begins in the
	 * original */
	if (copy[0] == '/') {
		char *p = copy;

		while (p && nsegs < MAX_SEGMENTS) {
			char *e = strchr(p + 1, '/');

			rest[nsegs] = c->path + (p + 1 - copy);
			segs[nsegs++] = p + 1;
			if (e)
				*e = '\0';
			p = e;
		}
		if (p) {
			free(copy);
			pend(c, 404, "no such path");
			return;
		}
	}
	for (size_t i = 0; nsegs && i < s->nroutes; i++) {
		const struct route *rt = &s->routes[i];
		int m = match(c, rt, segs, nsegs, rest);

		if (m < 0) {
			pend(c, m == PB_EINVAL ? 400 : 500, "%s",
			     pb_error_last());
			break;
		}
		if (!m)
			continue;
		known_path = 1;
		if (!strstr(allow, rt->r.method)) {
			size_t used = strlen(allow);

			snprintf(allow + used, allow_size - used, "%s%s%s",
				 used ? ", " : "", rt->r.method,
				 strcmp(rt->r.method, "GET") ? "" : ", HEAD");
		}
		if (!strcmp(rt->r.method, method)) {
			c->route = rt;
			break;
		}
	}
	free(copy);
	if (c->route || c->pending)
		return;
	if (known_path)
		pend(c, 405, "%s is not allowed on %s (allowed: %s)",
		     c->method, c->path, allow);
	else
		pend(c, 404, "no such path: %s", c->path);
}

/* ---- authentication ---- */

static const char *auth_need(enum pb_http_auth a)
{
	switch (a) {
	case PB_HTTP_AGENT: return "an agent token";
	case PB_HTTP_CLIENT: return "a client token";
	case PB_HTTP_ADMIN: return "a client token with the admin scope";
	case PB_HTTP_OPEN: break;
	}
	return "no token";
}

static void authenticate(struct pb_http_conn *c)
{
	struct pb_http_server *s = c->srv;
	enum pb_http_auth need = c->route->r.auth;
	const char *h, *tok;
	int rc;

	if (need == PB_HTTP_OPEN)
		return;
	h = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND,
					MHD_HTTP_HEADER_AUTHORIZATION);
	c->pending_auth = 1;
	if (!h) {
		pend(c, 401, "missing token: this call needs %s, sent as "
		     "'Authorization: Bearer TOKEN'", auth_need(need));
		return;
	}
	if (strncasecmp(h, "Bearer ", 7)) {
		pend(c, 401, "malformed Authorization header: want 'Bearer "
		     "TOKEN'");
		return;
	}
	for (tok = h + 7; *tok == ' '; tok++)
		;
	if (!s->o.auth) {
		pend(c, 401, "unknown token");
		return;
	}
	rc = s->o.auth(s->o.app, tok, &c->who);
	if (rc == PB_ENOTFOUND) {
		pend(c, 401, "%s", pb_error_last());
		return;
	}
	if (rc < 0) {
		pb_log_warnx("checking a token: %s", pb_error_last());
		c->pending_auth = 0;
		pend(c, 500, "internal error");
		return;
	}
	if (need == PB_HTTP_AGENT && c->who.kind != PB_PRINCIPAL_AGENT) {
		pend(c, 401, "this call needs an agent token, not a client's");
		return;
	}
	if ((need == PB_HTTP_CLIENT || need == PB_HTTP_ADMIN) &&
	    c->who.kind != PB_PRINCIPAL_CLIENT) {
		pend(c, 401, "this call needs a client token, not an agent's");
		return;
	}
	c->pending_auth = 0;
	if (need == PB_HTTP_ADMIN && !c->who.admin)
		pend(c, 403, "this call needs a client token with the admin "
		     "scope; '%s' has none", c->who.name);
}

/* ---- queueing ---- */

static enum MHD_Result queue(struct pb_http_conn *c, struct pb_http_resp *r)
{
	struct MHD_Response *mr;
	enum MHD_Result ok;

	if (r->fd >= 0) {
		mr = MHD_create_response_from_fd64(r->fd_size, r->fd);
		if (mr)
			r->fd = -1; /* MHD closes it */
	} else if (r->body) {
		mr = MHD_create_response_from_buffer(r->len, r->body,
						     MHD_RESPMEM_MUST_FREE);
		if (mr)
			r->body = NULL; /* MHD frees it */
	} else {
		mr = MHD_create_response_from_buffer(0, NULL,
						     MHD_RESPMEM_PERSISTENT);
	}
	if (!mr) {
		resp_release(r);
		return MHD_NO;
	}
	if (r->content_type)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
					r->content_type);
	for (size_t i = 0; i < r->nheaders; i++)
		MHD_add_response_header(mr, r->hname[i], r->hvalue[i]);
	if (r->content_type && !strcmp(r->content_type, "application/json"))
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL,
					"no-store");
	ok = MHD_queue_response(c->mc, r->status, mr);
	c->answered = r->status;
	MHD_destroy_response(mr);
	resp_release(r);
	return ok;
}

static enum MHD_Result queue_pending(struct pb_http_conn *c)
{
	struct pb_http_resp r;

	resp_init(&r);
	pb_http_resp_error(&r, c->pending, "%s", c->pending_msg);
	if (c->pending == 401 && c->pending_auth)
		pb_http_resp_header(&r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
				    "Bearer");
	if (c->pending == 405 && c->allow[0])
		pb_http_resp_header(&r, MHD_HTTP_HEADER_ALLOW, c->allow);
	return queue(c, &r);
}

/* ---- holding ---- */

static double now(void)
{
	return pb_now_mono();
}

static void list_remove(struct pb_http_server *s, struct pb_http_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->held = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	s->nheld--;
}

/* Takes a held request out of the list and resumes it to `to` (WOKEN or
 * ENDED).  With s->mu held. */
static void release_held(struct pb_http_server *s, struct pb_http_conn *c,
			 enum hold_state to)
{
	list_remove(s, c);
	c->state = to;
	if (to == ENDED && s->stopping) {
		pthread_mutex_lock(&s->drain_mu);
		s->draining++;
		c->counted_end = 1;
		pthread_mutex_unlock(&s->drain_mu);
	}
	MHD_resume_connection(c->mc);
}

int pb_http_suspend(struct pb_http_req *req, struct pb_http_resp *resp,
		    const char *key, double hold_s, unsigned flags)
{
	struct pb_http_conn *c = req->conn_;
	struct pb_http_server *s = c->srv;
	int stopping, full;
	double t = now();
	char *k;

	if (c->hold_asked)
		return pb_http_resp_error(resp, 500, "internal error: a "
					  "request held twice");
	pthread_mutex_lock(&s->mu);
	stopping = s->stopping;
	full = s->nheld >= s->o.max_waiters;
	pthread_mutex_unlock(&s->mu);
	if (c->deadline == 0)
		c->deadline = t + (hold_s > 0 ? hold_s : 0);
	if (stopping || full || t >= c->deadline)
		return pb_http_resp_empty(resp, 204);
	k = pb_strdup(key ? key : "");
	if (!k)
		return pb_http_resp_error(resp, 500, "out of memory");
	free(c->hold_key);
	c->hold_key = k;
	c->hold_flags = flags;
	c->hold_asked = 1;
	return PB_HTTP_SUSPENDED;
}

size_t pb_http_wake(struct pb_http_server *s, const char *key)
{
	struct pb_http_conn *c, *next;
	size_t n = 0;

	pthread_mutex_lock(&s->mu);
	s->wake_gen++;
	for (c = s->held; c; c = next) {
		next = c->next;
		if (key && strcmp(c->hold_key, key))
			continue;
		release_held(s, c, WOKEN);
		n++;
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}

size_t pb_http_held(struct pb_http_server *s)
{
	size_t n;

	pthread_mutex_lock(&s->mu);
	n = s->nheld;
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* Parks the request (its handler asked to hold it), unless a wake came
 * since the handler began (gen) - then 1: run it again.  0 when parked,
 * -1 when it is answered 204 instead. */
static int park(struct pb_http_conn *c, uint64_t gen, int tries)
{
	struct pb_http_server *s = c->srv;
	struct pb_http_conn *o, *next;

	pthread_mutex_lock(&s->mu);
	if (s->stopping || now() >= c->deadline ||
	    s->nheld >= s->o.max_waiters) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	if (s->wake_gen != gen && tries < 4) {
		pthread_mutex_unlock(&s->mu);
		return 1;
	}
	if (c->hold_flags & PB_HTTP_HOLD_REPLACE)
		for (o = s->held; o; o = next) {
			next = o->next;
			if (!strcmp(o->hold_key, c->hold_key))
				release_held(s, o, ENDED);
		}
	MHD_suspend_connection(c->mc);
	c->state = HELD;
	c->next = s->held;
	c->prev = NULL;
	if (s->held)
		s->held->prev = c;
	s->held = c;
	s->nheld++;
	pthread_cond_signal(&s->timer_cv);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

static void *timer_main(void *arg)
{
	struct pb_http_server *s = arg;

	pthread_mutex_lock(&s->mu);
	while (!s->timer_quit) {
		double t = now(), first = 0;
		struct pb_http_conn *c, *next;

		for (c = s->held; c; c = next) {
			next = c->next;
			if (c->deadline <= t)
				release_held(s, c, ENDED);
			else if (first == 0 || c->deadline < first)
				first = c->deadline;
		}
		if (first == 0) {
			pthread_cond_wait(&s->timer_cv, &s->mu);
		} else {
			struct timespec ts;
			double w;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			w = first - t + 0.001;
			ts.tv_sec += (time_t)w;
			ts.tv_nsec += (long)((w - (double)(time_t)w) * 1e9);
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&s->timer_cv, &s->mu, &ts);
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* ---- the request ---- */

static int run_handler(struct pb_http_conn *c)
{
	struct pb_http_server *s = c->srv;

	for (int tries = 0;; tries++) {
		uint64_t gen;
		int rc, p;

		resp_release(&c->resp);
		c->hold_asked = 0;
		pthread_mutex_lock(&s->mu);
		gen = s->wake_gen;
		pthread_mutex_unlock(&s->mu);
		rc = c->route->r.handler(&c->req, &c->resp);
		if (rc == PB_HTTP_SUSPENDED && c->hold_asked) {
			p = park(c, gen, tries);
			if (p == 0)
				return 1;
			if (p > 0) {
				c->req.woken = 1;
				continue;
			}
			pb_http_resp_empty(&c->resp, 204);
			return 0;
		}
		if (rc < 0 || rc == PB_HTTP_SUSPENDED) {
			pb_log_warnx("%s %s: %s", c->method, c->path,
				     rc < 0 ? pb_error_last()
					    : "held without pb_http_suspend()");
			pb_http_resp_error(&c->resp, 500, "internal error");
		} else if (!c->resp.set) {
			pb_log_warnx("%s %s: the handler gave no answer",
				     c->method, c->path);
			pb_http_resp_error(&c->resp, 500, "internal error");
		}
		return 0;
	}
}

static struct pb_http_conn *conn_new(struct pb_http_server *s,
				     struct MHD_Connection *mc,
				     const char *url, const char *method)
{
	struct pb_http_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->srv = s;
	c->mc = mc;
	c->t0 = now();
	c->method = pb_strdup(method);
	c->path = pb_strdup(url);
	resp_init(&c->resp);
	pb_buf_init(&c->body, 0);
	if (!c->method || !c->path) {
		free(c->method);
		free(c->path);
		free(c);
		return NULL;
	}
	c->req.method = c->method;
	c->req.path = c->path;
	c->req.who = &c->who;
	c->req.app = s->o.app;
	c->req.body = "";
	c->req.conn_ = c;
	return c;
}

static void conn_free(struct pb_http_conn *c)
{
	for (size_t i = 0; i < c->nparams; i++)
		free(c->params[i]);
	for (size_t i = 0; i < c->nowned; i++)
		free(c->owned[i]);
	free(c->owned);
	free(c->hold_key);
	free(c->method);
	free(c->path);
	pb_buf_release(&c->body);
	resp_release(&c->resp);
	free(c);
}

/* The headers-only call: route, token, declared size. */
static enum MHD_Result begin(struct pb_http_conn *c)
{
	struct pb_http_server *s = c->srv;
	const char *cl, *te, *expect;
	uint64_t n;

	route_request(c, c->allow, sizeof(c->allow));
	if (c->route) {
		c->req.route_ctx = c->route->r.ctx;
		c->max_body = c->route->r.max_body ? c->route->r.max_body
						    : s->o.max_body;
		pb_buf_init(&c->body, c->max_body);
		authenticate(c);
	}
	cl = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND,
					 MHD_HTTP_HEADER_CONTENT_LENGTH);
	te = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND,
					 MHD_HTTP_HEADER_TRANSFER_ENCODING);
	if (c->route && !c->pending && cl && !te &&
	    pb_parse_u64(&n, cl, 0, UINT64_MAX, "Content-Length") == 0 &&
	    n > c->max_body)
		pend(c, 413, "the body is %llu bytes, over the limit of %zu",
		     (unsigned long long)n, c->max_body);
	/* a client that waits for "100 Continue" has sent no body yet: it
	 * can be answered now, and then sends none */
	expect = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND,
					     MHD_HTTP_HEADER_EXPECT);
	if (c->pending && expect && !strcasecmp(expect, "100-continue"))
		return queue_pending(c);
	return MHD_YES;
}

/* A piece of body: kept while it fits under the cap, else dropped. */
static enum MHD_Result take_body(struct pb_http_conn *c, const char *data,
				 size_t *size)
{
	size_t n = *size;

	*size = 0;
	c->received += n;
	if (!c->pending && c->route) {
		int rc = pb_buf_put(&c->body, data, n);

		if (rc == PB_ETOOBIG) {
			pend(c, 413, "the body is over the limit of %zu bytes",
			     c->max_body);
			pb_buf_release(&c->body);
		} else if (rc < 0) {
			pend(c, 500, "out of memory");
			pb_buf_release(&c->body);
		}
	}
	/* a peer that keeps sending long past the cap is cut off */
	if (c->pending && c->received > c->max_body + PB_HTTP_DRAIN_MAX)
		return MHD_NO;
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct pb_http_server *s = cls;
	struct pb_http_conn *c = *con_cls;

	(void)version;
	if (!c) {
		c = conn_new(s, mc, url, method);
		if (!c)
			return MHD_NO;
		*con_cls = c;
		return begin(c);
	}
	if (*upload_data_size)
		return take_body(c, upload_data, upload_data_size);
	/* the final call, or a held request resumed */
	if (c->state == ENDED) {
		struct pb_http_resp r;

		resp_init(&r);
		pb_http_resp_empty(&r, 204);
		return queue(c, &r);
	}
	if (c->state == WOKEN)
		c->req.woken = 1;
	c->state = ACTIVE;
	if (c->pending)
		return queue_pending(c);
	c->req.body = c->body.ptr;
	c->req.body_len = c->body.len;
	if (run_handler(c))
		return MHD_YES; /* held */
	return queue(c, &c->resp);
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct pb_http_server *s = cls;
	struct pb_http_conn *c = *con_cls;

	(void)mc;
	if (!c)
		return;
	*con_cls = NULL;
	if (c->state == HELD) {
		/* not expected: MHD ends no suspended request */
		pthread_mutex_lock(&s->mu);
		list_remove(s, c);
		pthread_mutex_unlock(&s->mu);
	}
	if (s->o.log_requests) {
		const char *who = c->who.kind == PB_PRINCIPAL_AGENT ? "agent"
				  : c->who.kind == PB_PRINCIPAL_CLIENT
					  ? "client"
					  : NULL;

		if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && who)
			pb_log_info("%s %s %u %.1f ms %s '%s'", c->method,
				    c->path, c->answered,
				    (now() - c->t0) * 1e3, who, c->who.name);
		else if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
			pb_log_info("%s %s %u %.1f ms", c->method, c->path,
				    c->answered, (now() - c->t0) * 1e3);
		else
			pb_log_info("%s %s: connection ended before the "
				    "answer (%d)", c->method, c->path,
				    (int)toe);
	}
	if (c->counted_end) {
		pthread_mutex_lock(&s->drain_mu);
		s->draining--;
		pthread_cond_broadcast(&s->drain_cv);
		pthread_mutex_unlock(&s->drain_mu);
	}
	conn_free(c);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	pb_log_warnx("http: %s", msg);
}

/* ---- requests' accessors ---- */

struct pb_http_server *pb_http_req_server(const struct pb_http_req *req)
{
	return req->conn_->srv;
}

const char *pb_http_param(const struct pb_http_req *req, const char *name)
{
	const struct pb_http_conn *c = req->conn_;
	char want[80];

	snprintf(want, sizeof(want), "{%s}", name);
	for (size_t i = 0; i < c->nparams; i++)
		if (!strcmp(c->pnames[i], want) ||
		    (!strcmp(name, "*") && !strcmp(c->pnames[i], "*")))
			return c->params[i];
	return NULL;
}

int pb_http_param_id(const struct pb_http_req *req, const char *name,
		     int64_t *out)
{
	const char *v = pb_http_param(req, name);
	uint64_t u;

	if (!v || pb_parse_u64(&u, v, 1, INT64_MAX, name) < 0)
		return pb_error_code(PB_EINVAL, "%s '%s' is not a positive "
				     "whole number", name, v ? v : "");
	*out = (int64_t)u;
	return PB_OK;
}

const char *pb_http_query(const struct pb_http_req *req, const char *name)
{
	struct pb_http_conn *c = req->conn_;
	const char *raw = MHD_lookup_connection_value(
		c->mc, MHD_GET_ARGUMENT_KIND, name);
	char **grown, *v;

	if (!raw) {
		/* "?flag" has a key and no value */
		if (MHD_lookup_connection_value_n(c->mc, MHD_GET_ARGUMENT_KIND,
						  name, strlen(name), NULL,
						  NULL) == MHD_YES)
			return "";
		return NULL;
	}
	v = decode(raw, strlen(raw));
	if (!v)
		return NULL;
	grown = realloc(c->owned, (c->nowned + 1) * sizeof(*grown));
	if (!grown) {
		free(v);
		return NULL;
	}
	c->owned = grown;
	c->owned[c->nowned++] = v;
	return v;
}

const char *pb_http_header(const struct pb_http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn_->mc, MHD_HEADER_KIND,
					   name);
}

/* ---- the server ---- */

int pb_http_server_new(struct pb_http_server **out,
		       const struct pb_http_opts *opts)
{
	struct pb_http_server *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;

	*out = NULL;
	if (!s)
		return pb_error_set("out of memory");
	s->o = *opts;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->drain_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->timer_cv, &ca);
	pthread_cond_init(&s->drain_cv, &ca);
	pthread_condattr_destroy(&ca);
	*out = s;
	return PB_OK;
}

int pb_http_server_start(struct pb_http_server *s)
{
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;

	if (!s->o.addr)
		return pb_error_code(PB_EINVAL, "no address to listen on");
	if (s->o.addr->sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (pthread_create(&s->timer, NULL, timer_main, s))
		return pb_error_code(PB_EINFRA, "cannot start a thread");
	s->timer_started = 1;
	s->d = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, s,
		/* first, so that every message of MHD goes through it */
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
		MHD_OPTION_SOCK_ADDR, s->o.addr,
		MHD_OPTION_THREAD_POOL_SIZE, s->o.threads,
		MHD_OPTION_CONNECTION_TIMEOUT, s->o.connection_timeout_s,
		MHD_OPTION_CONNECTION_LIMIT, s->o.connection_limit,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		s->o.per_ip_connection_limit,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, s,
		MHD_OPTION_END);
	if (!s->d)
		return pb_error_code(PB_EINFRA, "cannot listen on the address "
				     "(in use, or not this machine's?)");
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	return PB_OK;
}

unsigned pb_http_server_port(const struct pb_http_server *s)
{
	return s->port;
}

void pb_http_server_stop(struct pb_http_server *s)
{
	struct pb_http_conn *c, *next;
	MHD_socket lfd = MHD_INVALID_SOCKET;
	struct timespec ts;

	if (!s || s->stopped)
		return;
	s->stopped = 1;
	if (s->d)
		lfd = MHD_quiesce_daemon(s->d);
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	for (c = s->held; c; c = next) {
		next = c->next;
		release_held(s, c, ENDED);
	}
	s->timer_quit = 1;
	pthread_cond_signal(&s->timer_cv);
	pthread_mutex_unlock(&s->mu);
	/* let the held requests have their 204 before the daemon goes */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += 2;
	pthread_mutex_lock(&s->drain_mu);
	while (s->draining &&
	       pthread_cond_timedwait(&s->drain_cv, &s->drain_mu, &ts) == 0)
		;
	pthread_mutex_unlock(&s->drain_mu);
	if (s->d) {
		MHD_stop_daemon(s->d);
		s->d = NULL;
	}
	if (lfd != MHD_INVALID_SOCKET)
		close(lfd);
	if (s->timer_started) {
		pthread_join(s->timer, NULL);
		s->timer_started = 0;
	}
}

void pb_http_server_free(struct pb_http_server *s)
{
	if (!s)
		return;
	pb_http_server_stop(s);
	for (size_t i = 0; i < s->nroutes; i++)
		route_release(&s->routes[i]);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->drain_mu);
	pthread_cond_destroy(&s->timer_cv);
	pthread_cond_destroy(&s->drain_cv);
	free(s);
}
