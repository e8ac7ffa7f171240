/*
 * net.h - the agent's HTTP client (libcurl): JSON POSTs to perfbisectd
 * with the agent token, answers read into capped buffers.
 *
 * Every call is a POST of a JSON body to BASE/api/v1/...; the answer's
 * status, body (at most PB_WIRE_BODY_MAX bytes: a longer one is a failed
 * transfer) and Retry-After are handed back.  Redirects are not followed
 * (the token must not go to another host), only http and https are
 * spoken, and nothing is ever logged here: the token stays in this file's
 * memory, wiped when released.  A client keeps its curl handle, and so
 * its connection, from call to call: it is used by one thread at a time
 * (a job's heartbeat thread has its own).
 */
#ifndef PB_NET_H
#define PB_NET_H

#include <signal.h>

#include "common/buf.h"

struct pb_net;

/* Options of a client: what it talks to and how long it waits. */
struct pb_net_opts {
	const char *url;           /* http(s)://host[:port][/prefix] */
	const char *token;         /* the agent token (copied) */
	const char *name;          /* --name, sent in the User-Agent */
	double connect_timeout_s;  /* 10 */
	/* set (by a signal handler) to stop an abortable transfer; may be
	 * NULL */
	volatile sig_atomic_t *stop;
};

/* Must be called once before any thread starts (curl_global_init). */
int pb_net_global_init(void);
void pb_net_global_cleanup(void);

/* PB_EINVAL for a URL that is not http(s)://... */
int pb_net_new(struct pb_net **out, const struct pb_net_opts *o);
void pb_net_free(struct pb_net *n);

struct pb_http_reply {
	long status;          /* HTTP status; 0 when there was no answer */
	struct pb_buf body;   /* the answer's body, capped */
	double retry_after;   /* seconds the server asked to wait, -1: none */
	char error[256];      /* why there was no answer (status 0) */
	int aborted;          /* 1: stopped through opts.stop */
};

void pb_http_reply_init(struct pb_http_reply *r);
void pb_http_reply_release(struct pb_http_reply *r);

/* POSTs body (len bytes of JSON) to BASE + path ("/api/v1/runs") and waits
 * at most timeout_s for the whole exchange.  With abortable set, a set
 * *opts.stop ends the transfer early (status 0, aborted).  *out is
 * initialised here; release it whatever the return.  Returns PB_OK when
 * an answer came (whatever its status), PB_ETIMEOUT or PB_EINFRA (out->error
 * says why) when none did. */
int pb_net_post(struct pb_net *n, const char *path, const char *body,
		size_t len, double timeout_s, int abortable,
		struct pb_http_reply *out);

/* GETs BASE + path, as pb_net_post() (not abortable). */
int pb_net_get(struct pb_net *n, const char *path, double timeout_s,
	       struct pb_http_reply *out);

#endif
