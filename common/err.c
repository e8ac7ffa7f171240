/*
 * err.c - per-thread storage of the last error message (see err.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "err.h"

static _Thread_local char last_error[1024];

static void set_message(const char *fmt, va_list ap)
{
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
}

int pb_error_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_message(fmt, ap);
	va_end(ap);
	return PB_ERROR;
}

int pb_error_code(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_message(fmt, ap);
	va_end(ap);
	return code;
}

const char *pb_error_last(void)
{
	return last_error[0] ? last_error : "unknown error";
}
