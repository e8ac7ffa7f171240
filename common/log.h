/*
 * log.h - messages to a person, on stderr, in one shape (after OpenBSD's
 * log.c and git's message style: lowercase, no trailing period, names in
 * quotes).  Only the outermost layer (a main, the local driver) logs;
 * library code returns errors instead.
 */
#ifndef PB_LOG_H
#define PB_LOG_H

/* Program name printed before every line; set once from main. */
void pb_log_init(const char *progname, int verbose);

void pb_log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pb_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pb_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
