/*
 * buf.h - the one growable byte buffer, with a hard cap.
 *
 * After git's strbuf and curl's dynbuf: `ptr` is never NULL and is always
 * NUL-terminated (an empty buffer points at a shared static ""), so a
 * pb_buf can be handed to any string function at any time.  Every buffer has
 * a maximum length fixed at init; a write that would pass it either fails
 * whole (pb_buf_put, pb_buf_printf: PB_ETOOBIG, buffer unchanged) or keeps
 * what fits and sets `truncated` (pb_buf_put_capped, for child output).  So
 * no peer and no child process can make perfbisect allocate without bound.
 *
 * Ownership: the buffer owns `ptr`; pb_buf_release() frees it and leaves an
 * empty buffer with the same cap; pb_buf_detach() hands the string to the
 * caller, who frees it with free().
 */
#ifndef PB_BUF_H
#define PB_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct pb_buf {
	char *ptr;      /* never NULL, always ptr[len] == '\0' */
	size_t len;     /* bytes held, not counting the terminator */
	size_t alloc;   /* bytes allocated at ptr, 0 while ptr is the static "" */
	size_t max;     /* len never exceeds this */
	int truncated;  /* set when pb_buf_put_capped() dropped bytes */
};

extern char pb_buf__empty[];

#define PB_BUF_INIT(cap) { pb_buf__empty, 0, 0, (cap), 0 }

/* Initialises `b` as an empty buffer that will never hold more than `max`
 * bytes. */
void pb_buf_init(struct pb_buf *b, size_t max);

/* Appends len bytes; PB_ETOOBIG (buffer unchanged) if the cap would be passed,
 * PB_ERROR if memory runs out. */
int pb_buf_put(struct pb_buf *b, const void *data, size_t len);

/* Appends a NUL-terminated string, as pb_buf_put(). */
int pb_buf_puts(struct pb_buf *b, const char *s);

/* Appends as much of data as fits under the cap; sets b->truncated when
 * something was dropped.  Returns the number of bytes kept, or PB_ERROR when
 * memory runs out. */
long pb_buf_put_capped(struct pb_buf *b, const void *data, size_t len);

/* Appends formatted text, as pb_buf_put(). */
int pb_buf_printf(struct pb_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int pb_buf_vprintf(struct pb_buf *b, const char *fmt, va_list ap);

/* Empties the buffer, keeping its memory and cap. */
void pb_buf_reset(struct pb_buf *b);

/* Frees the memory; `b` is an empty buffer with the same cap afterwards. */
void pb_buf_release(struct pb_buf *b);

/* Returns the contents as a malloc'd string the caller frees, leaving `b`
 * empty; NULL only when memory runs out. */
char *pb_buf_detach(struct pb_buf *b);

#endif
