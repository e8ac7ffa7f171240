/*
 * html.c - escaping for HTML text and quoted attributes (see html.h).
 */
#include <string.h>

#include "common/util.h"
#include "web/html.h"

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2)
		n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong forms, UTF-16 surrogates, past U+10FFFF, C1 controls */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90) ||
	    (s[0] == 0xc2 && s[1] < 0xa0))
		return 0;
	return n;
}

int pb_html_put(struct pb_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	int rc = 0;

	while (*p && rc == 0) {
		size_t n;

		switch (*p) {
		case '&': rc = pb_buf_puts(b, "&amp;"); p++; continue;
		case '<': rc = pb_buf_puts(b, "&lt;"); p++; continue;
		case '>': rc = pb_buf_puts(b, "&gt;"); p++; continue;
		case '"': rc = pb_buf_puts(b, "&quot;"); p++; continue;
		case '\'': rc = pb_buf_puts(b, "&#39;"); p++; continue;
		case '\n': case '\t': rc = pb_buf_put(b, p, 1); p++; continue;
		default: break;
		}
		if (*p < 0x20 || *p == 0x7f) {
			rc = pb_buf_puts(b, "\xef\xbf\xbd"); /* U+FFFD */
			p++;
			continue;
		}
		n = utf8_len(p);
		if (n == 0) {
			rc = pb_buf_puts(b, "\xef\xbf\xbd");
			p++;
			continue;
		}
		rc = pb_buf_put(b, p, n);
		p += n;
	}
	return rc;
}
