/*
 * human.h - numbers and text for a person to read: the progress and the
 * messages of the command line, and the report.
 *
 * A machine reads the JSON, with every digit; a person reads "86.4 M",
 * "47.1 %", "< 0.1 %" and "1:02", never "nan" or "7.3e-22".  These
 * functions only format: they never fail, always terminate `out` and cut
 * what does not fit.
 */
#ifndef PB_HUMAN_H
#define PB_HUMAN_H

#include <stddef.h>

#include "buf.h"

/* v with three significant digits (more when the integer part has more)
 * and an SI prefix from p to E: "86.4 M", "1.23 k", "512", "12.3 m",
 * "-4.00 G".  Beyond the prefixes, "%.3g"; "n/a" for NAN or infinity. */
void pb_human_si(char *out, size_t size, double v);

/* A probability as a percentage: "47.1 %", "< 0.1 %" below 0.001, as many
 * digits as it takes above 0.999 ("99.95 %", "> 99.9999 %"), "100 %"
 * for 1, "n/a" for NAN. */
void pb_human_prob(char *out, size_t size, double p);

/* Elapsed seconds as minutes and seconds, "0:42", "12:05", or with hours,
 * "1:02:03". */
void pb_human_elapsed(char *out, size_t size, double seconds);

/* Appends the last `lines` (at most 32) non-blank lines of `text` to out,
 * each cut to `width` bytes (then "..."), with control characters shown as
 * '?', each preceded by `indent` and ended by a newline.  Appends nothing
 * for NULL or blank text.  Returns the number of lines appended, or a
 * negative error of the buffer (its cap, memory). */
int pb_human_tail(struct pb_buf *out, const char *text, unsigned lines,
		  size_t width, const char *indent);

/* The name among names[0..n) a person most likely meant by `want`: one
 * that differs only in case, or is a prefix of it or it of the name, or is
 * within a few edits (Levenshtein, ignoring case: at most half of `want`'s
 * length, and at least 2); the only name when n is 1.  -1 for none. */
int pb_human_closest(const char *want, const char *const *names, size_t n);

#endif
