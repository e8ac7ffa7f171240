/*
 * buf.c - capped growable buffer (see buf.h for the contract).
 *
 * Growth doubles the allocation but never allocates past max + 1, so the cap
 * also bounds memory, not only the visible length.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "util.h"

char pb_buf__empty[1];

void pb_buf_init(struct pb_buf *b, size_t max)
{
	b->ptr = pb_buf__empty;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
	b->truncated = 0;
}

/* Makes room for `extra` more bytes plus the terminator.  The caller has
 * already checked the cap. */
static int grow(struct pb_buf *b, size_t extra)
{
	size_t want = b->len + extra + 1, n;
	char *p;

	if (want <= b->alloc)
		return PB_OK;
	n = b->alloc ? b->alloc : 64;
	while (n < want)
		n = n > SIZE_MAX / 2 ? want : n * 2;
	if (n > b->max + 1)
		n = b->max + 1;
	p = realloc(b->alloc ? b->ptr : NULL, n);
	if (!p)
		return pb_error_set("out of memory growing a buffer to %zu bytes", n);
	if (!b->alloc)
		p[0] = '\0';
	b->ptr = p;
	b->alloc = n;
	return PB_OK;
}

int pb_buf_put(struct pb_buf *b, const void *data, size_t len)
{
	if (len > b->max - b->len)
		return pb_error_code(PB_ETOOBIG, "more than %zu bytes", b->max);
	if (len == 0)
		return PB_OK;
	if (grow(b, len) < 0)
		return PB_ERROR;
	memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return PB_OK;
}

int pb_buf_puts(struct pb_buf *b, const char *s)
{
	return pb_buf_put(b, s, strlen(s));
}

long pb_buf_put_capped(struct pb_buf *b, const void *data, size_t len)
{
	size_t room = b->max - b->len;

	if (len > room) {
		b->truncated = 1;
		len = room;
	}
	if (pb_buf_put(b, data, len) < 0)
		return PB_ERROR;
	return (long)len;
}

int pb_buf_vprintf(struct pb_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return pb_error_set("bad format string");
	if ((size_t)n > b->max - b->len)
		return pb_error_code(PB_ETOOBIG, "more than %zu bytes", b->max);
	if (grow(b, (size_t)n) < 0)
		return PB_ERROR;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return PB_OK;
}

int pb_buf_printf(struct pb_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = pb_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void pb_buf_reset(struct pb_buf *b)
{
	b->len = 0;
	b->truncated = 0;
	if (b->alloc)
		b->ptr[0] = '\0';
}

void pb_buf_release(struct pb_buf *b)
{
	if (b->alloc)
		free(b->ptr);
	pb_buf_init(b, b->max);
}

char *pb_buf_detach(struct pb_buf *b)
{
	char *s;

	if (!b->alloc) {
		s = strdup("");
	} else {
		s = b->ptr;
	}
	pb_buf_init(b, b->max);
	return s;
}
