/*
 * urlrule.c - the URL rules of perfbisectd (see urlrule.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "orchestrator/server/urlrule.h"
#include "common/util.h"

static int v4_private(uint32_t a)
{
	static const struct {
		uint32_t net, mask;
	} r[] = {
		{ 0x00000000, 0xff000000 }, /* 0/8: this network */
		{ 0x0a000000, 0xff000000 }, /* 10/8 */
		{ 0x64400000, 0xffc00000 }, /* 100.64/10: shared */
		{ 0x7f000000, 0xff000000 }, /* 127/8: loopback */
		{ 0xa9fe0000, 0xffff0000 }, /* 169.254/16: link-local */
		{ 0xac100000, 0xfff00000 }, /* 172.16/12 */
		{ 0xc0000000, 0xffffff00 }, /* 192.0.0/24: protocol */
		{ 0xc0a80000, 0xffff0000 }, /* 192.168/16 */
		{ 0xc6120000, 0xfffe0000 }, /* 198.18/15: benchmarking */
		{ 0xe0000000, 0xe0000000 }, /* 224/3: multicast, reserved */
	};

	for (size_t i = 0; i < PB_ARRAY_SIZE(r); i++)
		if ((a & r[i].mask) == r[i].net)
			return 1;
	return 0;
}

static int v6_private(const struct in6_addr *a)
{
	const uint8_t *b = a->s6_addr;
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0xff, 0xff };
	static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b };
	uint8_t zero[16] = { 0 };

	if (!memcmp(b, mapped, 12) || !memcmp(b, nat64, 12))
		return v4_private((uint32_t)b[12] << 24 |
				  (uint32_t)b[13] << 16 |
				  (uint32_t)b[14] << 8 | b[15]);
	if (!memcmp(b, zero, 15) && (b[15] == 0 || b[15] == 1))
		return 1; /* :: and ::1 */
	if ((b[0] & 0xfe) == 0xfc)
		return 1; /* fc00::/7: unique local */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return 1; /* fe80::/10: link-local */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return 1; /* fec0::/10: site-local, deprecated */
	if (b[0] == 0xff)
		return 1; /* multicast */
	return 0;
}

int pb_addr_is_private(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return v4_private(ntohl(
			((const struct sockaddr_in *)sa)->sin_addr.s_addr));
	if (sa->sa_family == AF_INET6)
		return v6_private(
			&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return 1;
}

/* The parts of "scheme://[user@]host[:port][/...]" after the scheme. */
struct authority {
	char host[256];
	int bracketed;     /* [IPv6] */
};

static int parse_authority(const char *url, const char *p,
			   struct authority *a, const char *field)
{
	size_t n = strcspn(p, "/?#"), hn;
	const char *at, *h, *end = p + n, *colon;

	memset(a, 0, sizeof(*a));
	/* user info: up to the last '@' of the authority */
	at = NULL;
	for (const char *q = p; q < end; q++)
		if (*q == '@')
			at = q;
	h = at ? at + 1 : p;
	if (*h == '[') {
		const char *close = memchr(h, ']', (size_t)(end - h));

		if (!close)
			return pb_error_code(PB_EINVAL, "%s '%s': unclosed '['",
					     field, url);
		a->bracketed = 1;
		hn = (size_t)(close - h - 1);
		colon = close + 1 < end ? close + 1 : NULL;
		h++;
		if (colon && *colon != ':')
			return pb_error_code(PB_EINVAL,
					     "%s '%s': bad host", field, url);
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		hn = colon ? (size_t)(colon - h) : (size_t)(end - h);
	}
	if (hn == 0 || hn >= sizeof(a->host))
		return pb_error_code(PB_EINVAL, "%s '%s' has no host", field,
				     url);
	memcpy(a->host, h, hn);
	a->host[hn] = '\0';
	if (colon) {
		const char *q = colon + 1;
		unsigned long port = 0;

		if (q == end)
			return pb_error_code(PB_EINVAL, "%s '%s': empty port",
					     field, url);
		for (; q < end; q++) {
			if (!isdigit((unsigned char)*q) || port > 65535)
				return pb_error_code(PB_EINVAL,
						     "%s '%s': bad port", field,
						     url);
			port = port * 10 + (unsigned long)(*q - '0');
		}
		if (port == 0 || port > 65535)
			return pb_error_code(PB_EINVAL, "%s '%s': bad port",
					     field, url);
	}
	for (const char *q = a->host; *q; q++) {
		if (a->bracketed ? !(isxdigit((unsigned char)*q) || *q == ':' ||
				     *q == '.')
				 : !(isalnum((unsigned char)*q) || *q == '-' ||
				     *q == '.' || *q == '_'))
			return pb_error_code(PB_EINVAL,
					     "%s '%s': '%s' is not a host name",
					     field, url, a->host);
	}
	return PB_OK;
}

static int has_space_or_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* The part after "scheme://" when url starts with it (any case). */
static const char *after_scheme(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);

	if (strncasecmp(url, scheme, n) || strncmp(url + n, "://", 3))
		return NULL;
	return url + n + 3;
}

int pb_url_check_repo(const char *url, int allow_local)
{
	static const char *const remote[] = { "https", "ssh", "git" };
	struct authority a;
	const char *rest;

	if (has_space_or_control(url))
		return pb_error_code(PB_EINVAL, "url '%s': has a blank or a "
				     "control character", url);
	for (size_t i = 0; i < PB_ARRAY_SIZE(remote); i++)
		if ((rest = after_scheme(url, remote[i])))
			return parse_authority(url, rest, &a, "url");
	if (url[0] == '/' || after_scheme(url, "file")) {
		if (!allow_local)
			return pb_error_code(PB_EINVAL,
					     "url '%s': local repositories "
					     "are not allowed here (the "
					     "server's allow_local_repos is "
					     "off); use https://, ssh:// or "
					     "git://",
					     url);
		rest = url[0] == '/' ? url : after_scheme(url, "file");
		if (rest[0] != '/' && strncmp(rest, "localhost/", 10))
			return pb_error_code(PB_EINVAL, "url '%s': a file:// "
					     "URL names an absolute path "
					     "(file:///path)", url);
		return PB_OK;
	}
	if (after_scheme(url, "http"))
		return pb_error_code(PB_EINVAL, "url '%s': plain http is not "
				     "accepted; use https://", url);
	if (strstr(url, "://"))
		return pb_error_code(PB_EINVAL, "url '%s': only https://, "
				     "ssh:// and git:// are accepted", url);
	if (strchr(url, ':') && !strstr(url, "::"))
		return pb_error_code(PB_EINVAL, "url '%s': write it as "
				     "ssh://[user@]host/path", url);
	if (strstr(url, "::"))
		return pb_error_code(PB_EINVAL, "url '%s': git's transport "
				     "helpers are not accepted; use "
				     "https://, ssh:// or git://", url);
	return pb_error_code(PB_EINVAL, "url '%s': %s", url,
			     allow_local ? "a local path must be absolute"
					 : "not a URL: use https://, ssh:// "
					   "or git://");
}

int pb_url_check_notify(const char *url, int allow_private)
{
	struct authority a;
	const char *rest;
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	size_t n;
	int rc;

	if (has_space_or_control(url))
		return pb_error_code(PB_EINVAL, "notify_url '%s': has a blank "
				     "or a control character", url);
	rest = after_scheme(url, "https");
	if (!rest)
		rest = after_scheme(url, "http");
	if (!rest)
		return pb_error_code(PB_EINVAL, "notify_url '%s': must be "
				     "http:// or https://", url);
	if ((rc = parse_authority(url, rest, &a, "notify_url")) < 0)
		return rc;
	if (allow_private)
		return PB_OK;
	/* a trailing dot names the same host */
	n = strlen(a.host);
	if (n > 1 && a.host[n - 1] == '.')
		a.host[n - 1] = '\0';
	memset(&s4, 0, sizeof(s4));
	memset(&s6, 0, sizeof(s6));
	s4.sin_family = AF_INET;
	s6.sin6_family = AF_INET6;
	if (a.bracketed) {
		if (inet_pton(AF_INET6, a.host, &s6.sin6_addr) != 1)
			return pb_error_code(PB_EINVAL, "notify_url '%s': "
					     "'%s' is not an IPv6 address", url,
					     a.host);
		rc = pb_addr_is_private((struct sockaddr *)&s6);
	} else if (inet_aton(a.host, &s4.sin_addr)) {
		rc = pb_addr_is_private((struct sockaddr *)&s4);
	} else {
		n = strlen(a.host);
		rc = !strcasecmp(a.host, "localhost") ||
		     (n > 10 && !strcasecmp(a.host + n - 10, ".localhost"));
	}
	if (rc)
		return pb_error_code(PB_EINVAL,
				     "notify_url '%s': '%s' is a loopback or "
				     "private address (the server's "
				     "allow_private_notify is off)",
				     url, a.host);
	return PB_OK;
}
