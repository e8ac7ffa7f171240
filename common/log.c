/*
 * log.c - stderr logging (see log.h).  The only state is the program name and
 * the verbosity, both set once at start.
 */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"
#include "util.h"

static const char *prog = "perfbisect";
static int verbosity;

void pb_log_init(const char *progname, int verbose)
{
	prog = progname;
	verbosity = verbose;
}

/* One line, whole: perfbisectd logs from several threads. */
static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	flockfile(stderr);
	fprintf(stderr, "%s: %s", prog, prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void pb_log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void pb_log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void pb_log_debug(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 1)
		return;
	va_start(ap, fmt);
	vlog("debug: ", fmt, ap);
	va_end(ap);
}
