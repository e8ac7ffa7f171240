/*
 * test_http.c - orchestrator/server/http.h on a real libmicrohttpd daemon
 * on a loopback port, driven by raw HTTP over sockets: routing (404, 405
 * with Allow, parameters and query decoded), tokens (401 with
 * WWW-Authenticate, 403), body caps (Content-Length, chunked, Expect:
 * 100-continue, a peer cut off far past the cap), handler failures (500),
 * and long polls: the hold answered 204, woken early, a newer poll
 * replacing an older one, the waiter cap, the first deadline kept on a
 * second hold, no wake lost between a handler's look and its hold, and a
 * stop with held requests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/proto.h"
#include "orchestrator/server/http.h"
#include "common/util.h"

/* ---- the routes under test ---- */

static atomic_int race_ready;

static int h_open(struct pb_http_req *req, struct pb_http_resp *resp)
{
	(void)req;
	return pb_http_resp_json(resp, 200, pb_proto_health_json());
}

static int h_echo(struct pb_http_req *req, struct pb_http_resp *resp)
{
	return pb_http_resp_json(resp, 200,
				 pb_proto_number_json("len",
						      (int64_t)req->body_len));
}

/* Answers "id|name|q|who" as an error-shaped body with status 200. */
static int h_items(struct pb_http_req *req, struct pb_http_resp *resp)
{
	const char *q = pb_http_query(req, "q");
	int64_t id;

	if (pb_http_param_id(req, "id", &id) < 0)
		return pb_http_resp_error(resp, 400, "%s", pb_error_last());
	return pb_http_resp_error(resp, 200, "%lld|%s|%s|%s", (long long)id,
				  pb_http_param(req, "name"), q ? q : "(none)",
				  req->who->name);
}

static int h_rest(struct pb_http_req *req, struct pb_http_resp *resp)
{
	return pb_http_resp_error(resp, 200, "[%s]", pb_http_param(req, "*"));
}

static int h_who(struct pb_http_req *req, struct pb_http_resp *resp)
{
	return pb_http_resp_error(resp, 200, "%s", req->who->name);
}

static int h_fail(struct pb_http_req *req, struct pb_http_resp *resp)
{
	(void)req;
	(void)resp;
	return pb_error_set("boom");
}

static int h_silent(struct pb_http_req *req, struct pb_http_resp *resp)
{
	(void)req;
	(void)resp;
	return PB_HTTP_DONE;
}

/* POST /hold?key=K&hold=S[&replace][&rehold]: held until woken (200
 * {"woken": 1}), or 204; with rehold, a woken request holds again. */
static int h_hold(struct pb_http_req *req, struct pb_http_resp *resp)
{
	const char *key = pb_http_query(req, "key");
	const char *hold = pb_http_query(req, "hold");
	double s = 10;

	if (req->woken && !pb_http_query(req, "rehold"))
		return pb_http_resp_json(resp, 200,
					 pb_proto_number_json("woken", 1));
	if (hold && pb_parse_double(&s, hold, 0, 100, "hold") < 0)
		return pb_http_resp_error(resp, 400, "%s", pb_error_last());
	return pb_http_suspend(req, resp, key ? key : "k", s,
			       pb_http_query(req, "replace")
				       ? PB_HTTP_HOLD_REPLACE
				       : 0);
}

/* Answers once race_ready is set, else holds. */
static int h_race(struct pb_http_req *req, struct pb_http_resp *resp)
{
	if (atomic_load(&race_ready))
		return pb_http_resp_json(resp, 200,
					 pb_proto_number_json("ready", 1));
	return pb_http_suspend(req, resp, "race", 5, 0);
}

static const struct pb_http_route routes[] = {
	{ "GET", "/open", h_open, PB_HTTP_OPEN, 0, NULL },
	{ "POST", "/echo", h_echo, PB_HTTP_CLIENT, 16, NULL },
	{ "GET", "/items/{id}/x/{name}", h_items, PB_HTTP_OPEN, 0, NULL },
	{ "GET", "/files/*", h_rest, PB_HTTP_OPEN, 0, NULL },
	{ "POST", "/agent", h_who, PB_HTTP_AGENT, 0, NULL },
	{ "POST", "/admin", h_who, PB_HTTP_ADMIN, 0, NULL },
	{ "GET", "/fail", h_fail, PB_HTTP_OPEN, 0, NULL },
	{ "GET", "/silent", h_silent, PB_HTTP_OPEN, 0, NULL },
	{ "POST", "/hold", h_hold, PB_HTTP_OPEN, 0, NULL },
	{ "POST", "/race", h_race, PB_HTTP_OPEN, 0, NULL },
};

/* Tokens: "agent-tok", "client-tok", "admin-tok"; "infra" fails. */
static int fake_auth(void *app, const char *token, struct pb_principal *out)
{
	(void)app;
	memset(out, 0, sizeof(*out));
	if (!strcmp(token, "infra"))
		return pb_error_code(PB_EINFRA, "database: disk I/O error");
	if (!strcmp(token, "agent-tok")) {
		out->kind = PB_PRINCIPAL_AGENT;
		pb_strlcpy(out->name, "m1", sizeof(out->name));
	} else if (!strcmp(token, "client-tok") ||
		   !strcmp(token, "admin-tok")) {
		out->kind = PB_PRINCIPAL_CLIENT;
		out->admin = token[1] == 'd';
		pb_strlcpy(out->name, out->admin ? "root" : "ci",
			   sizeof(out->name));
	} else {
		return pb_error_code(PB_ENOTFOUND, "unknown token");
	}
	return PB_OK;
}

struct fx {
	struct pb_http_server *s;
	unsigned port;
};

static struct sockaddr_in loopback;

static int start(void **state, unsigned max_waiters)
{
	struct pb_http_opts o = PB_HTTP_OPTS_INIT;
	struct fx *f = calloc(1, sizeof(*f));

	loopback.sin_family = AF_INET;
	loopback.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	loopback.sin_port = 0;
	o.addr = (struct sockaddr *)&loopback;
	o.addrlen = sizeof(loopback);
	o.threads = 2;
	o.connection_timeout_s = 10;
	o.max_body = 64;
	o.max_waiters = max_waiters;
	o.log_requests = 0;
	o.auth = fake_auth;
	assert_int_equal(pb_http_server_new(&f->s, &o), 0);
	assert_int_equal(pb_http_route_add(f->s, routes, PB_ARRAY_SIZE(routes)),
			 0);
	assert_int_equal(pb_http_server_start(f->s), 0);
	f->port = pb_http_server_port(f->s);
	assert_true(f->port > 0);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return start(state, 8);
}

static int setup_two_waiters(void **state)
{
	return start(state, 2);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	pb_http_server_free(f->s);
	free(f);
	return 0;
}

/* ---- a raw client ---- */

struct reply {
	int status;          /* 0: no answer */
	char head[4096];
	char body[8192];
	double secs;
};

/* Sends the request bytes (maybe only part of them when `send_n` is
 * smaller), reads the answer to EOF. */
static void exchange(unsigned port, const char *req, size_t n, size_t send_n,
		     struct reply *r)
{
	struct sockaddr_in a = loopback;
	struct timeval tv = { 20, 0 };
	char buf[16384], *sep;
	size_t got = 0;
	double t0 = pb_now_mono();
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(r, 0, sizeof(*r));
	a.sin_port = htons((uint16_t)port);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	for (size_t off = 0; off < send_n && off < n;) {
		ssize_t w = send(fd, req + off, (send_n < n ? send_n : n) - off,
				 MSG_NOSIGNAL);

		if (w <= 0)
			break; /* the server stopped reading */
		off += (size_t)w;
	}
	for (;;) {
		ssize_t k = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);

		if (k <= 0)
			break;
		got += (size_t)k;
		if (got == sizeof(buf) - 1)
			break;
	}
	close(fd);
	buf[got] = '\0';
	r->secs = pb_now_mono() - t0;
	if (sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1)
		r->status = 0;
	sep = strstr(buf, "\r\n\r\n");
	if (sep) {
		*sep = '\0';
		pb_strlcpy(r->head, buf, sizeof(r->head));
		pb_strlcpy(r->body, sep + 4, sizeof(r->body));
	}
}

/* METHOD PATH with optional extra header lines and body. */
static void call(unsigned port, const char *method, const char *path,
		 const char *headers, const char *body, struct reply *r)
{
	char req[8192];
	int n;

	n = snprintf(req, sizeof(req),
		     "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s"
		     "Content-Length: %zu\r\n\r\n%s",
		     method, path, headers ? headers : "",
		     body ? strlen(body) : 0, body ? body : "");
	assert_true(n > 0 && (size_t)n < sizeof(req));
	exchange(port, req, (size_t)n, (size_t)n, r);
}

static void has_error(const struct reply *r, int status, const char *text)
{
	if (r->status != status)
		fail_msg("status %d, want %d: %s", r->status, status, r->body);
	assert_non_null(strstr(r->body, "{\"error\":"));
	if (text && !strstr(r->body, text))
		fail_msg("no '%s' in %s", text, r->body);
	assert_non_null(strstr(r->head, "Content-Type: application/json"));
}

/* ---- routing ---- */

static void test_http__routes(void **state)
{
	struct fx *f = *state;
	struct reply r;

	call(f->port, "GET", "/open", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"ok\":true}");
	/* HEAD is GET without the body */
	call(f->port, "HEAD", "/open", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "");
	call(f->port, "GET", "/nope", NULL, NULL, &r);
	has_error(&r, 404, "no such path: /nope");
	call(f->port, "GET", "/open/", NULL, NULL, &r);
	has_error(&r, 404, NULL);
	call(f->port, "GET", "//open", NULL, NULL, &r);
	has_error(&r, 404, NULL);
	call(f->port, "DELETE", "/open", NULL, NULL, &r);
	has_error(&r, 405, "DELETE is not allowed on /open");
	assert_non_null(strstr(r.head, "Allow: GET, HEAD"));
	/* parameters and the query, percent-decoded; no principal */
	call(f->port, "GET", "/items/42/x/a%20b%2Fc?q=1%2B1&z", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"error\":\"42|a b/c|1+1|\"}");
	call(f->port, "GET", "/items/7/x/n", NULL, NULL, &r);
	assert_string_equal(r.body, "{\"error\":\"7|n|(none)|\"}");
	call(f->port, "GET", "/items/x7/x/n", NULL, NULL, &r);
	has_error(&r, 400, "id 'x7' is not a positive whole number");
	call(f->port, "GET", "/items/1/x/%zz", NULL, NULL, &r);
	has_error(&r, 400, "bad percent-escape");
	call(f->port, "GET", "/items/1/x/a%00b", NULL, NULL, &r);
	has_error(&r, 400, "bad percent-escape");
	/* a rest parameter is the raw remainder */
	call(f->port, "GET", "/files/a/b%2e/c", NULL, NULL, &r);
	assert_string_equal(r.body, "{\"error\":\"[a/b%2e/c]\"}");
	call(f->port, "GET", "/files/", NULL, NULL, &r);
	assert_string_equal(r.body, "{\"error\":\"[]\"}");
	call(f->port, "GET", "/files", NULL, NULL, &r);
	has_error(&r, 404, NULL);
}

static void test_http__route_table(void **state)
{
	struct fx *f = *state;

	/* routes come before the start */
	assert_int_equal(pb_http_route_add(f->s, routes, 1), PB_EINVAL);
	assert_non_null(strstr(pb_error_last(), "before the server starts"));
}

static void test_http__route_table_before_start(void **state)
{
	struct pb_http_opts o = PB_HTTP_OPTS_INIT;
	struct pb_http_server *s;
	const struct pb_http_route bad[] = {
		{ "GET", "no-slash", h_open, PB_HTTP_OPEN, 0, NULL },
		{ "GET", "/a//b", h_open, PB_HTTP_OPEN, 0, NULL },
		{ "GET", "/a/*/b", h_open, PB_HTTP_OPEN, 0, NULL },
		{ "GET", "/ok", NULL, PB_HTTP_OPEN, 0, NULL },
	};

	(void)state;
	assert_int_equal(pb_http_server_new(&s, &o), 0);
	for (size_t i = 0; i < PB_ARRAY_SIZE(bad); i++)
		assert_int_equal(pb_http_route_add(s, &bad[i], 1), PB_EINVAL);
	assert_int_equal(pb_http_route_add(s, routes, 2), 0);
	assert_int_equal(pb_http_route_add(s, routes, 1), PB_EINVAL);
	assert_non_null(strstr(pb_error_last(), "there already"));
	pb_http_server_free(s);
}

/* ---- tokens ---- */

static void test_http__tokens(void **state)
{
	struct fx *f = *state;
	struct reply r;

	call(f->port, "POST", "/agent", NULL, NULL, &r);
	has_error(&r, 401, "missing token");
	assert_non_null(strstr(r.head, "WWW-Authenticate: Bearer"));
	call(f->port, "POST", "/agent", "Authorization: Basic eDp5\r\n", NULL,
	     &r);
	has_error(&r, 401, "malformed Authorization header");
	call(f->port, "POST", "/agent", "Authorization: Bearer nope\r\n", NULL,
	     &r);
	has_error(&r, 401, "unknown token");
	call(f->port, "POST", "/agent", "Authorization: bearer agent-tok\r\n",
	     NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"error\":\"m1\"}");
	call(f->port, "POST", "/agent", "Authorization: Bearer client-tok\r\n",
	     NULL, &r);
	has_error(&r, 401, "needs an agent token");
	call(f->port, "POST", "/echo", "Authorization: Bearer agent-tok\r\n",
	     "x", &r);
	has_error(&r, 401, "needs a client token");
	call(f->port, "POST", "/admin", "Authorization: Bearer client-tok\r\n",
	     NULL, &r);
	has_error(&r, 403, "admin scope; 'ci' has none");
	assert_null(strstr(r.head, "WWW-Authenticate"));
	call(f->port, "POST", "/admin", "Authorization: Bearer admin-tok\r\n",
	     NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"error\":\"root\"}");
	/* the check itself failing is the server's fault */
	call(f->port, "POST", "/agent", "Authorization: Bearer infra\r\n", NULL,
	     &r);
	has_error(&r, 500, "internal error");
	/* a route's own rules come first: a wrong method is 405 unasked */
	call(f->port, "GET", "/agent", NULL, NULL, &r);
	has_error(&r, 405, NULL);
}

/* ---- bodies ---- */

static void test_http__body_caps(void **state)
{
	struct fx *f = *state;
	const char *tok = "Authorization: Bearer client-tok\r\n";
	char req[1024], big[101];
	struct reply r;
	int n;

	call(f->port, "POST", "/echo", tok, "0123456789", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"len\":10}");
	call(f->port, "POST", "/echo", tok, "0123456789abcdef", &r);
	assert_string_equal(r.body, "{\"len\":16}");
	/* declared over the cap: read, dropped, 413 at the end */
	memset(big, 'x', 100);
	big[100] = '\0';
	call(f->port, "POST", "/echo", tok, big, &r);
	has_error(&r, 413, "the body is 100 bytes, over the limit of 16");
	call(f->port, "POST", "/echo", tok, "0123456789abcdefg", &r);
	has_error(&r, 413, NULL);
	/* chunked: counted as it comes */
	n = snprintf(req, sizeof(req),
		     "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s"
		     "Transfer-Encoding: chunked\r\n\r\n"
		     "a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n",
		     tok);
	exchange(f->port, req, (size_t)n, (size_t)n, &r);
	has_error(&r, 413, "over the limit of 16 bytes");
	n = snprintf(req, sizeof(req),
		     "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s"
		     "Transfer-Encoding: chunked\r\n\r\n"
		     "5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n",
		     tok);
	exchange(f->port, req, (size_t)n, (size_t)n, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"len\":10}");
	/* Expect: 100-continue: answered before the body is sent */
	n = snprintf(req, sizeof(req),
		     "POST /echo HTTP/1.1\r\nHost: t\r\n%s"
		     "Content-Length: 1000000\r\nExpect: 100-continue\r\n\r\n",
		     tok);
	exchange(f->port, req, (size_t)n, (size_t)n, &r);
	has_error(&r, 413, "1000000 bytes");
	/* and so is a request refused for its token */
	n = snprintf(req, sizeof(req),
		     "POST /echo HTTP/1.1\r\nHost: t\r\n"
		     "Content-Length: 10\r\nExpect: 100-continue\r\n\r\n");
	exchange(f->port, req, (size_t)n, (size_t)n, &r);
	has_error(&r, 401, "missing token");
	/* a refused request's body is dropped, not kept: no token, 100
	 * bytes, and the server reads and answers 401 */
	call(f->port, "POST", "/echo", NULL, big, &r);
	has_error(&r, 401, NULL);
}

/* A peer that keeps sending far past the cap is cut off; the server
 * goes on. */
static void test_http__flood_cut_off(void **state)
{
	struct fx *f = *state;
	size_t n = 20u << 20, head;
	char *req = malloc(n + 256);
	struct reply r;

	head = (size_t)snprintf(req, 256,
				"POST /echo HTTP/1.1\r\nHost: t\r\n"
				"Authorization: Bearer client-tok\r\n"
				"Content-Length: %zu\r\n\r\n",
				n);
	memset(req + head, 'x', n);
	exchange(f->port, req, head + n, head + n, &r);
	assert_true(r.status == 0 || r.status == 413);
	free(req);
	call(f->port, "GET", "/open", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
}

static void test_http__handler_failures(void **state)
{
	struct fx *f = *state;
	struct reply r;

	call(f->port, "GET", "/fail", NULL, NULL, &r);
	has_error(&r, 500, "internal error");
	assert_null(strstr(r.body, "boom"));
	call(f->port, "GET", "/silent", NULL, NULL, &r);
	has_error(&r, 500, "internal error");
}

/* ---- long polls ---- */

struct poll_arg {
	unsigned port;
	char path[128];
	struct reply r;
	pthread_t t;
};

static void *poll_main(void *p)
{
	struct poll_arg *a = p;

	call(a->port, "POST", a->path, NULL, NULL, &a->r);
	return NULL;
}

static void poll_start(struct poll_arg *a, unsigned port, const char *path)
{
	a->port = port;
	pb_strlcpy(a->path, path, sizeof(a->path));
	assert_int_equal(pthread_create(&a->t, NULL, poll_main, a), 0);
}

static void wait_held(struct pb_http_server *s, size_t n)
{
	for (int i = 0; i < 500 && pb_http_held(s) != n; i++)
		pb_sleep(0.01);
	assert_int_equal(pb_http_held(s), n);
}

static void test_http__hold_times_out_204(void **state)
{
	struct fx *f = *state;
	struct reply r;

	call(f->port, "POST", "/hold?key=t&hold=0.3", NULL, NULL, &r);
	assert_int_equal(r.status, 204);
	assert_string_equal(r.body, "");
	assert_true(r.secs >= 0.25);
	assert_true(r.secs < 3);
	assert_int_equal(pb_http_held(f->s), 0);
}

static void test_http__wake_answers_early(void **state)
{
	struct fx *f = *state;
	struct poll_arg a;

	poll_start(&a, f->port, "/hold?key=a&hold=10");
	wait_held(f->s, 1);
	assert_int_equal(pb_http_wake(f->s, "b"), 0);
	assert_int_equal(pb_http_held(f->s), 1);
	assert_int_equal(pb_http_wake(f->s, "a"), 1);
	pthread_join(a.t, NULL);
	assert_int_equal(a.r.status, 200);
	assert_string_equal(a.r.body, "{\"woken\":1}");
	assert_true(a.r.secs < 5);
	assert_int_equal(pb_http_held(f->s), 0);
	/* NULL wakes every key */
	poll_start(&a, f->port, "/hold?key=z&hold=10");
	wait_held(f->s, 1);
	assert_int_equal(pb_http_wake(f->s, NULL), 1);
	pthread_join(a.t, NULL);
	assert_int_equal(a.r.status, 200);
}

static void test_http__newer_poll_replaces(void **state)
{
	struct fx *f = *state;
	struct poll_arg a, b;

	poll_start(&a, f->port, "/hold?key=r&hold=10&replace=1");
	wait_held(f->s, 1);
	poll_start(&b, f->port, "/hold?key=r&hold=10&replace=1");
	pthread_join(a.t, NULL);
	assert_int_equal(a.r.status, 204);
	assert_true(a.r.secs < 5);
	wait_held(f->s, 1);
	assert_int_equal(pb_http_wake(f->s, "r"), 1);
	pthread_join(b.t, NULL);
	assert_int_equal(b.r.status, 200);
}

/* A woken request that holds again keeps its first deadline. */
static void test_http__second_hold_keeps_deadline(void **state)
{
	struct fx *f = *state;
	struct poll_arg a;

	poll_start(&a, f->port, "/hold?key=d&hold=0.8&rehold=1");
	wait_held(f->s, 1);
	assert_int_equal(pb_http_wake(f->s, "d"), 1);
	pthread_join(a.t, NULL);
	assert_int_equal(a.r.status, 204);
	assert_true(a.r.secs >= 0.7);
	assert_true(a.r.secs < 1.7);
}

static void test_http__waiter_cap(void **state)
{
	struct fx *f = *state;
	struct poll_arg a, b;
	struct reply r;

	poll_start(&a, f->port, "/hold?key=c1&hold=10");
	poll_start(&b, f->port, "/hold?key=c2&hold=10");
	wait_held(f->s, 2);
	call(f->port, "POST", "/hold?key=c3&hold=10", NULL, NULL, &r);
	assert_int_equal(r.status, 204);
	assert_true(r.secs < 2);
	assert_int_equal(pb_http_wake(f->s, NULL), 2);
	pthread_join(a.t, NULL);
	pthread_join(b.t, NULL);
	assert_int_equal(a.r.status, 200);
	assert_int_equal(b.r.status, 200);
}

/* The waker sets the state and wakes at any moment of the handler's
 * run: it never waits out its 5 s hold. */
static void test_http__no_lost_wake(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < 60; i++) {
		struct poll_arg a;

		atomic_store(&race_ready, 0);
		poll_start(&a, f->port, "/race");
		pb_sleep((i % 6) * 0.0007);
		atomic_store(&race_ready, 1);
		pb_http_wake(f->s, "race");
		pthread_join(a.t, NULL);
		if (a.r.status != 200 || a.r.secs > 2.5)
			fail_msg("round %d: status %d after %.2f s", i,
				 a.r.status, a.r.secs);
	}
	assert_int_equal(pb_http_held(f->s), 0);
}

static void test_http__stop_answers_held(void **state)
{
	struct fx *f = *state;
	struct poll_arg a, b;
	double t0;

	poll_start(&a, f->port, "/hold?key=s&hold=30");
	poll_start(&b, f->port, "/hold?key=s2&hold=30");
	wait_held(f->s, 2);
	t0 = pb_now_mono();
	pb_http_server_stop(f->s);
	assert_true(pb_now_mono() - t0 < 3);
	pthread_join(a.t, NULL);
	pthread_join(b.t, NULL);
	assert_int_equal(a.r.status, 204);
	assert_int_equal(b.r.status, 204);
	assert_int_equal(pb_http_held(f->s), 0);
	pb_http_server_stop(f->s); /* again: nothing */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_http__routes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_http__route_table, setup,
						teardown),
		cmocka_unit_test(test_http__route_table_before_start),
		cmocka_unit_test_setup_teardown(test_http__tokens, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_http__body_caps, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_http__flood_cut_off, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_http__handler_failures,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_http__hold_times_out_204,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_http__wake_answers_early,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_http__newer_poll_replaces,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_http__second_hold_keeps_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http__waiter_cap,
						setup_two_waiters, teardown),
		cmocka_unit_test_setup_teardown(test_http__no_lost_wake, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_http__stop_answers_held,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
