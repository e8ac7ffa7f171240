/*
 * err.h - the one error convention of perfbisect.
 *
 * Functions that can fail return int: 0 (PB_OK) on success, one of the named
 * negatives below for failures a caller may want to tell apart, or PB_ERROR
 * for anything else.  The human-readable reason is kept aside, per thread, by
 * pb_error_set() and read back with pb_error_last(); the outermost caller
 * (a main) prints it once.  Library code never calls exit() and never logs
 * its own failures.
 */
#ifndef PB_ERR_H
#define PB_ERR_H

enum {
	PB_OK = 0,
	PB_ERROR = -1,     /* anything not listed below */
	PB_ENOTFOUND = -2, /* a named thing (revision, row, file) does not exist */
	PB_EINVAL = -3,    /* the caller's input is malformed or out of range */
	PB_ETOOBIG = -4,   /* a capped buffer or body would exceed its cap */
	PB_ETIMEOUT = -5,  /* a child or peer did not finish in time */
	PB_ERANGE = -6,    /* good is not on bad's first-parent line */
	PB_EINFRA = -7,    /* storage or system failure (db, disk, fork) */
	PB_EEXIST = -8,    /* a named thing exists already (a token's name) */
};

/* Sets the current thread's message (printf-style); returns PB_ERROR so
 * callers may write `return pb_error_set(...)`. */
int pb_error_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Like pb_error_set() but returns `code` instead of PB_ERROR. */
int pb_error_code(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The last message set on this thread, or "unknown error".  Never NULL;
 * valid until the next pb_error_set() on this thread. */
const char *pb_error_last(void);

#endif
