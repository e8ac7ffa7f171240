/*
 * util.c - checked parsing, bounded copies and filesystem helpers.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "util.h"

int pb_parse_u64(uint64_t *out, const char *s, uint64_t min, uint64_t max,
		 const char *what)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return pb_error_code(PB_EINVAL, "%s: '%s' is not a number", what,
				     s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return pb_error_code(PB_EINVAL, "%s: '%s' is not a number", what, s);
	if (v < min || v > max)
		return pb_error_code(PB_EINVAL,
				     "%s: %llu is out of range [%llu, %llu]", what,
				     v, (unsigned long long)min,
				     (unsigned long long)max);
	*out = v;
	return PB_OK;
}

int pb_parse_double(double *out, const char *s, double min, double max,
		    const char *what)
{
	char *end;
	double v;

	if (!s || !*s || isspace((unsigned char)s[0]))
		return pb_error_code(PB_EINVAL, "%s: '%s' is not a number", what,
				     s ? s : "");
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end)
		return pb_error_code(PB_EINVAL, "%s: '%s' is not a number", what, s);
	if (!isfinite(v))
		return pb_error_code(PB_EINVAL, "%s: value '%s' is %s", what, s,
				     errno == ERANGE ? "out of range"
						     : "not finite");
	if (v < min || v > max)
		return pb_error_code(PB_EINVAL, "%s: %g is out of range [%g, %g]",
				     what, v, min, max);
	*out = v;
	return PB_OK;
}

size_t pb_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t k = n < size - 1 ? n : size - 1;
		memcpy(dst, src, k);
		dst[k] = '\0';
	}
	return n;
}

int pb_mkdir_p(const char *path, mode_t mode)
{
	char *p = pb_strdup(path), *s;
	int rc = PB_OK;

	if (!p)
		return PB_ERROR;
	for (s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			rc = pb_error_code(PB_EINFRA, "cannot create directory '%s': %s",
					   p, strerror(errno));
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return rc;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP ? rmdir(path) : unlink(path))
		return errno == ENOENT ? 0 : -1;
	return 0;
}

int pb_rm_rf(const char *path)
{
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return PB_OK;
	if (nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS) < 0)
		return pb_error_code(PB_EINFRA, "cannot remove '%s': %s", path,
				     strerror(errno));
	return PB_OK;
}

double pb_now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double pb_now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *pb_strdup(const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		pb_error_set("out of memory");
	return d;
}

char *pb_path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int slash = la && a[la - 1] != '/';
	char *p = malloc(la + slash + lb + 1);

	if (!p) {
		pb_error_set("out of memory");
		return NULL;
	}
	memcpy(p, a, la);
	if (slash)
		p[la] = '/';
	memcpy(p + la + slash, b, lb + 1);
	return p;
}

/* `path` made absolute with its existing part resolved: realpath() of the
 * longest prefix that exists, then the rest as written.  NULL when memory
 * runs out or the working directory is unknown. */
static char *resolve_partial(const char *path)
{
	char cwd[PATH_MAX], real[PATH_MAX], *abs, *out, *rest;
	size_t keep, n;

	if (path[0] == '/') {
		abs = pb_strdup(path);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return NULL;
		abs = pb_path_join(cwd, path);
	}
	if (!abs)
		return NULL;
	/* shorten abs[0..keep) a component at a time until it exists ("/"
	 * always does) */
	for (keep = strlen(abs);;) {
		char c = abs[keep];
		int ok, e;

		abs[keep] = '\0';
		ok = realpath(abs, real) != NULL;
		e = errno;
		abs[keep] = c;
		if (ok)
			break;
		if (e != ENOENT && e != ENOTDIR) {
			free(abs);
			return NULL;
		}
		while (keep > 1 && abs[keep - 1] != '/')
			keep--;
		while (keep > 1 && abs[keep - 1] == '/')
			keep--;
	}
	rest = abs + keep;
	if (real[strlen(real) - 1] == '/' && *rest == '/')
		rest++;
	n = strlen(real) + strlen(rest) + 1;
	out = malloc(n);
	if (out)
		snprintf(out, n, "%s%s", real, rest);
	else
		pb_error_set("out of memory");
	free(abs);
	return out;
}

int pb_path_within(const char *path, const char *dir)
{
	char *p = resolve_partial(path), *d = resolve_partial(dir);
	size_t ld = d ? strlen(d) : 0;
	int in = 0;

	while (ld > 1 && d[ld - 1] == '/')
		d[--ld] = '\0';
	if (p && d)
		in = !strncmp(p, d, ld) &&
		     (p[ld] == '\0' || p[ld] == '/' || !strcmp(d, "/"));
	free(p);
	free(d);
	return in;
}

int pb_is_sha(const char *s)
{
	size_t i;

	for (i = 0; i < 40; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return s[40] == '\0';
}

void pb_sleep(double s)
{
	struct timespec ts;

	if (!(s > 0))
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

double pb_metric_change(double slowdown, int lower_is_better)
{
	return lower_is_better ? slowdown : -slowdown / (1 + slowdown);
}
