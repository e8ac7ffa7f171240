/*
 * net.c - JSON over HTTP with libcurl (see net.h).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/daemon/backoff.h"
#include "agent/daemon/net.h"
#include "common/err.h"
#include "common/proto.h"
#include "common/util.h"

struct pb_net {
	char *base;             /* without a trailing '/' */
	char *auth;             /* "Authorization: Bearer TOKEN" */
	char agent[192];        /* User-Agent */
	double connect_timeout_s;
	volatile sig_atomic_t *stop;
	/* kept from call to call, so that its connection is too: a TCP
	 * connect and teardown per call cost the server as much CPU as the
	 * call itself (bench/README.md, service load) */
	CURL *c;
	struct curl_slist *hdr; /* holds the token: wiped when freed */
};

int pb_net_global_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return pb_error_code(PB_EINFRA, "cannot initialise libcurl");
	return PB_OK;
}

void pb_net_global_cleanup(void)
{
	curl_global_cleanup();
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void pb_net_free(struct pb_net *n)
{
	if (!n)
		return;
	if (n->c) /* first: the handle may still point at the list */
		curl_easy_cleanup(n->c);
	for (struct curl_slist *h = n->hdr; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(n->hdr);
	free(n->base);
	wipe_free(n->auth);
	free(n);
}

/* The headers of every call; NULL when out of memory. */
static struct curl_slist *headers(const char *auth)
{
	static const char *const fixed[] = {
		"Content-Type: application/json", "Accept: application/json",
		/* no "Expect: 100-continue" round trip for large records */
		"Expect:"
	};
	struct curl_slist *hdr = NULL, *h;

	for (size_t i = 0; i < PB_ARRAY_SIZE(fixed); i++) {
		if (!(h = curl_slist_append(hdr, fixed[i]))) {
			curl_slist_free_all(hdr);
			return NULL;
		}
		hdr = h;
	}
	if (!(h = curl_slist_append(hdr, auth))) {
		curl_slist_free_all(hdr);
		return NULL;
	}
	return h;
}

int pb_net_new(struct pb_net **out, const struct pb_net_opts *o)
{
	struct pb_net *n;
	size_t len;

	*out = NULL;
	if (strncmp(o->url, "http://", 7) && strncmp(o->url, "https://", 8))
		return pb_error_code(PB_EINVAL, "--server '%s' is not an "
				     "http:// or https:// URL", o->url);
	if (!(n = calloc(1, sizeof(*n))))
		return pb_error_set("out of memory");
	n->base = pb_strdup(o->url);
	len = strlen("Authorization: Bearer ") + strlen(o->token) + 1;
	n->auth = malloc(len);
	if (!n->base || !n->auth) {
		pb_net_free(n);
		return pb_error_set("out of memory");
	}
	snprintf(n->auth, len, "Authorization: Bearer %s", o->token);
	if (!(n->c = curl_easy_init()) || !(n->hdr = headers(n->auth))) {
		pb_net_free(n);
		return pb_error_set("out of memory");
	}
	len = strlen(n->base);
	while (len && n->base[len - 1] == '/')
		n->base[--len] = '\0';
	snprintf(n->agent, sizeof(n->agent), "perfbisect-agent (%.128s)",
		 o->name ? o->name : "");
	n->connect_timeout_s = o->connect_timeout_s > 0 ? o->connect_timeout_s
							: 10;
	n->stop = o->stop;
	*out = n;
	return PB_OK;
}

void pb_http_reply_init(struct pb_http_reply *r)
{
	memset(r, 0, sizeof(*r));
	pb_buf_init(&r->body, PB_WIRE_BODY_MAX);
	r->retry_after = -1;
}

void pb_http_reply_release(struct pb_http_reply *r)
{
	if (r)
		pb_buf_release(&r->body);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct pb_http_reply *r = ctx;
	size_t len = size * nmemb;

	if (pb_buf_put(&r->body, data, len) < 0)
		return 0; /* over the cap (or no memory): fail the transfer */
	return len;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
	static const char name[] = "retry-after:";
	struct pb_http_reply *r = ctx;
	size_t len = size * nmemb;
	char value[96];
	double s;

	if (len > strlen(name) && !strncasecmp(data, name, strlen(name))) {
		size_t vlen = len - strlen(name);

		if (vlen >= sizeof(value))
			vlen = sizeof(value) - 1;
		memcpy(value, data + strlen(name), vlen);
		value[vlen] = '\0';
		value[strcspn(value, "\r\n")] = '\0';
		if (pb_retry_after_parse(value, pb_now_real(), &s) == PB_OK)
			r->retry_after = s;
	}
	return len;
}

struct progress {
	volatile sig_atomic_t *stop;
	struct pb_http_reply *r;
};

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		       curl_off_t un)
{
	struct progress *p = ctx;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	if (p->stop && *p->stop) {
		p->r->aborted = 1;
		return 1;
	}
	return 0;
}

/* A POST of body, or a GET when body is NULL. */
static int request(struct pb_net *n, const char *path, const char *body,
		   size_t len, double timeout_s, int abortable,
		   struct pb_http_reply *out)
{
	char errbuf[CURL_ERROR_SIZE] = "", *url = NULL;
	struct progress prog = { abortable ? n->stop : NULL, out };
	CURL *c = n->c;
	CURLcode cc;
	int rc = PB_OK;
	size_t ulen = strlen(n->base) + strlen(path) + 1;

	pb_http_reply_init(out);
	if (!(url = malloc(ulen))) {
		snprintf(out->error, sizeof(out->error), "out of memory");
		return pb_error_code(PB_EINFRA, "out of memory");
	}
	snprintf(url, ulen, "%s%s", n->base, path);
	/* options back to their defaults; the connection stays open */
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, n->hdr);
	curl_easy_setopt(c, CURLOPT_USERAGENT, n->agent);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)len);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(n->connect_timeout_s * 1000));
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (prog.stop) {
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, &prog);
	}
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
		goto out;
	}
	out->status = 0;
	if (cc == CURLE_WRITE_ERROR && out->body.len)
		snprintf(out->error, sizeof(out->error),
			 "the answer is over %d bytes", PB_WIRE_BODY_MAX);
	else
		snprintf(out->error, sizeof(out->error), "%s",
			 errbuf[0] ? errbuf : curl_easy_strerror(cc));
	rc = pb_error_code(cc == CURLE_OPERATION_TIMEDOUT ? PB_ETIMEOUT
							  : PB_EINFRA,
			   "%s", out->error);
out:
	free(url);
	return rc;
}

int pb_net_post(struct pb_net *n, const char *path, const char *body,
		size_t len, double timeout_s, int abortable,
		struct pb_http_reply *out)
{
	return request(n, path, body ? body : "", len, timeout_s, abortable,
		       out);
}

int pb_net_get(struct pb_net *n, const char *path, double timeout_s,
	       struct pb_http_reply *out)
{
	return request(n, path, NULL, 0, timeout_s, 0, out);
}
