/*
 * http.h - perfbisectd's HTTP layer on libmicrohttpd 0.9.75.
 *
 * A route table maps a method and a path pattern to a handler:
 *
 *     static int cancel(struct pb_http_req *req, struct pb_http_resp *resp);
 *     static const struct pb_http_route routes[] = {
 *         { "POST", "/api/v1/bisections/{id}/cancel", cancel,
 *           PB_HTTP_CLIENT, 0, NULL },
 *     };
 *     pb_http_route_add(server, routes, PB_ARRAY_SIZE(routes));
 *
 * Before a handler runs, the layer has matched the route (404 for no
 * route, 405 with Allow for a known path and another method), checked the
 * bearer token the route's `auth` asks for (401 for none, a bad, revoked
 * or wrong-kind token, 403 for a client without the admin scope on an
 * admin route) and read the whole body into memory, never more than the
 * route's cap (413).  Every error is JSON {"error": "..."}.  libmicrohttpd
 * 0.9.75 cannot queue a response while it delivers a body, so the cap is
 * checked from Content-Length on the headers-only call and counted for a
 * chunked body, the rest of the body is read and dropped, and the 413 (or
 * 401, 404 ...) is queued on the final call; a client that sent `Expect:
 * 100-continue` gets it at once, before it sends the body.  A peer that
 * keeps sending far beyond the cap (PB_HTTP_DRAIN_MAX) is disconnected.
 *
 * A handler runs on one of the daemon's worker threads, fills `resp` with
 * one of pb_http_resp_*() and returns PB_HTTP_DONE; a negative return (an
 * err.h code, message in pb_error_last()) is logged once and answered 500
 * {"error": "internal error"}.  Handlers must not block for long: the
 * pool has `threads` workers for every connection.
 *
 * Long polls.  A handler with nothing to answer yet returns
 * pb_http_suspend(req, resp, key, hold_s, flags): the connection is
 * suspended (MHD_suspend_connection) and parked in a waiter list under
 * `key`.  Any thread may later call pb_http_wake(server, key): every
 * request held under key is resumed and its handler runs AGAIN, with
 * req->woken = 1 and the same req (body, params, principal, state).  It
 * checks again and answers, or holds again by returning pb_http_suspend()
 * once more (the first hold's deadline stands).  When the hold passes, or
 * a newer request holds the same key with PB_HTTP_HOLD_REPLACE, or the
 * server stops, the request is answered 204 No Content without running
 * the handler.  No wake is lost: a wake that comes while a handler runs
 * (after it looked and before it is parked) runs it again at once.  A
 * spurious wake is harmless, since the handler looks again.  A request is
 * never suspended twice; held requests do not time out (MHD's rule), the
 * hold bounds them; pb_http_server_stop() resumes all of them before it
 * stops the daemon.
 *
 * Threads: pb_http_route_add() before pb_http_server_start() only;
 * pb_http_wake() and pb_http_held() from any thread (handlers included);
 * everything about a request from its handler only.
 */
#ifndef PB_HTTP_H
#define PB_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "orchestrator/principal.h"

struct pb_http_server;
struct pb_http_conn;

/* What a handler returns. */
enum {
	PB_HTTP_DONE = 0,        /* resp is filled */
	PB_HTTP_SUSPENDED = 1,   /* only as pb_http_suspend()'s value */
};

/* Which token a route needs. */
enum pb_http_auth {
	PB_HTTP_OPEN = 0,        /* none (healthz; the report by default) */
	PB_HTTP_AGENT,           /* an agent token */
	PB_HTTP_CLIENT,          /* a client token, admin or not */
	PB_HTTP_ADMIN,           /* a client token with the admin scope */
};

/* The most {name}s in one pattern. */
#define PB_HTTP_MAX_PARAMS 8
/* Bytes past a route's cap read and dropped before a peer is cut off. */
#define PB_HTTP_DRAIN_MAX ((uint64_t)16 << 20)

struct pb_http_req {
	const char *method;      /* as sent; HEAD is routed as GET */
	const char *path;        /* as sent: not decoded, no query */
	const struct pb_principal *who; /* kind PB_PRINCIPAL_NONE on open
					   routes */
	const char *body;        /* body_len bytes, then a NUL; "" if none */
	size_t body_len;
	void *app;               /* pb_http_opts.app */
	void *route_ctx;         /* pb_http_route.ctx */
	int woken;               /* 1 when this run follows pb_http_wake() */
	struct pb_http_conn *conn_;  /* private */
};

struct pb_http_resp;

typedef int (*pb_http_handler)(struct pb_http_req *req,
			       struct pb_http_resp *resp);

struct pb_http_route {
	const char *method;      /* "GET" (answers HEAD too), "POST", ... */
	const char *pattern;     /* segments after '/': literal, "{name}"
				    (one non-empty segment, percent-decoded,
				    by pb_http_param()), or a last "*": the
				    rest of the path after that '/', not
				    decoded, maybe "" */
	pb_http_handler handler;
	enum pb_http_auth auth;
	size_t max_body;         /* bytes; 0: pb_http_opts.max_body */
	void *ctx;               /* req->route_ctx */
};

/* Checks a bearer token for a route that needs one.  PB_OK with *out;
 * PB_ENOTFOUND with a message for the client ("unknown token") is 401;
 * any other negative is logged and answered 500.  Runs on worker threads,
 * concurrently: serialise what it shares. */
typedef int (*pb_http_auth_fn)(void *app, const char *token,
			       struct pb_principal *out);

struct pb_http_opts {
	const struct sockaddr *addr;   /* where to listen (port 0: any) */
	socklen_t addrlen;
	unsigned threads;              /* worker pool */
	unsigned connection_timeout_s; /* idle connections closed */
	unsigned connection_limit;
	unsigned per_ip_connection_limit; /* 0: none */
	size_t max_body;               /* default cap of a route */
	unsigned max_waiters;          /* held requests at once */
	int log_requests;              /* one line per request, stderr */
	pb_http_auth_fn auth;          /* NULL: every token is refused */
	void *app;                     /* req->app, auth's first argument */
};

#define PB_HTTP_OPTS_INIT                                                     \
	{ NULL, 0, 4, 60, 1024, 0, (size_t)1 << 20, 1024, 1, NULL, NULL }

/* Makes a server (not listening yet); free with pb_http_server_free(). */
int pb_http_server_new(struct pb_http_server **out,
		       const struct pb_http_opts *opts);

/* Adds routes (copied; the strings must outlive the server).  Before
 * pb_http_server_start() only.  PB_EINVAL for a malformed pattern or one
 * that is there already with that method. */
int pb_http_route_add(struct pb_http_server *s,
		      const struct pb_http_route *routes, size_t n);

/* Binds and starts the worker threads.  PB_EINFRA when the address
 * cannot be bound. */
int pb_http_server_start(struct pb_http_server *s);

/* The port it listens on (the one picked for port 0). */
unsigned pb_http_server_port(const struct pb_http_server *s);

/* Answers every held request 204, waits (up to 2 s) for those answers,
 * stops listening and stops the threads.  Idempotent. */
void pb_http_server_stop(struct pb_http_server *s);

/* Stops the server if needed and frees it; NULL is fine. */
void pb_http_server_free(struct pb_http_server *s);

/* The server a request came to (for pb_http_wake()). */
struct pb_http_server *pb_http_req_server(const struct pb_http_req *req);

/* The decoded value of the pattern's {name} (or "*" for the rest), or
 * NULL when the pattern has none. */
const char *pb_http_param(const struct pb_http_req *req, const char *name);

/* {name} as a positive decimal id; PB_EINVAL (message naming it) when it
 * is not one. */
int pb_http_param_id(const struct pb_http_req *req, const char *name,
		     int64_t *out);

/* The percent-decoded value of query argument `name` ("?repo=a"), "" for
 * "?flag", NULL when absent.  Valid until the request ends. */
const char *pb_http_query(const struct pb_http_req *req, const char *name);

/* A request header (case-insensitive name), or NULL. */
const char *pb_http_header(const struct pb_http_req *req, const char *name);

/* Answers with `json` (malloc'd text, from common/proto.c; the response
 * takes it and frees it).  A NULL json (memory ran out) answers 500. */
int pb_http_resp_json(struct pb_http_resp *resp, unsigned status,
		      char *json);

/* Answers {"error": message} (printf-style). */
int pb_http_resp_error(struct pb_http_resp *resp, unsigned status,
		       const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Answers with no body (204, or a redirect with a Location header). */
int pb_http_resp_empty(struct pb_http_resp *resp, unsigned status);

/* Answers with `size` bytes of the open file fd (the response takes it
 * and closes it) as content_type. */
int pb_http_resp_fd(struct pb_http_resp *resp, unsigned status, int fd,
		    uint64_t size, const char *content_type);

/* Adds a header to the answer (copied); up to 8. */
int pb_http_resp_header(struct pb_http_resp *resp, const char *name,
			const char *value);

/* pb_http_suspend() flags. */
#define PB_HTTP_HOLD_REPLACE 1u  /* a request held under the same key is
				    answered 204 (one poll per agent) */

/* Holds the request under `key` for at most hold_s seconds from its first
 * hold (see the top).  Returns PB_HTTP_SUSPENDED, for the handler to
 * return; or answers 204 itself and returns PB_HTTP_DONE when the hold
 * has passed, the server is stopping or max_waiters are held. */
int pb_http_suspend(struct pb_http_req *req, struct pb_http_resp *resp,
		    const char *key, double hold_s, unsigned flags);

/* Runs again the handler of every request held under key (NULL: every
 * held request).  Returns how many were woken. */
size_t pb_http_wake(struct pb_http_server *s, const char *key);

/* How many requests are held now. */
size_t pb_http_held(struct pb_http_server *s);

#endif
