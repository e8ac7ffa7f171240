/*
 * util.h - small checked helpers every part uses: number parsing that
 * rejects trailing garbage and overflow, bounded string copies, directory
 * creation, monotonic time.  Include it last: it pulls in banned.h.
 */
#ifndef PB_UTIL_H
#define PB_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Parses all of `s` as a base-10 unsigned integer in [min, max].  PB_EINVAL
 * (with a message naming `what`) for empty input, signs, garbage or range. */
int pb_parse_u64(uint64_t *out, const char *s, uint64_t min, uint64_t max,
		 const char *what);

/* Parses all of `s` as a finite double in [min, max]; PB_EINVAL otherwise. */
int pb_parse_double(double *out, const char *s, double min, double max,
		    const char *what);

/* Copies at most size-1 bytes and always terminates; returns strlen(src). */
size_t pb_strlcpy(char *dst, const char *src, size_t size);

/* Creates `path` and its missing parents with `mode`; existing directories
 * are fine. */
int pb_mkdir_p(const char *path, mode_t mode);

/* Removes a directory tree (no symlinks followed); a missing path is fine. */
int pb_rm_rf(const char *path);

/* Seconds on CLOCK_MONOTONIC. */
/* Sleeps s seconds (<= 0: not at all), resuming after signals. */
void pb_sleep(double s);
double pb_now_mono(void);

/* Seconds since the epoch, CLOCK_REALTIME. */
double pb_now_real(void);

/* A malloc'd copy of s (NULL if s is NULL); NULL with an error set when
 * memory runs out. */
char *pb_strdup(const char *s);

/* A malloc'd path "a/b". */
char *pb_path_join(const char *a, const char *b);

/* 1 when `path` is `dir` or inside it, after both are made absolute and
 * their symbolic links resolved (as far as `path` exists: the rest of it
 * is taken as written), else 0. */
int pb_path_within(const char *path, const char *dir);

/* A slowdown in the better-is direction (a verification's effect: +0.908
 * is 1.908 times the time) as the relative change of the metric itself,
 * the way a person compares two medians: +0.908 for a time (lower is
 * better), -0.476 for a throughput (1 / 1.908 - 1).  NAN stays NAN. */
double pb_metric_change(double slowdown, int lower_is_better);

/* Returns 1 when `s` is exactly 40 lowercase hex digits. */
int pb_is_sha(const char *s);

#include "banned.h"

#endif
