/*
 * human.c - numbers and text for a person (see human.h).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "human.h"
#include "util.h"

void pb_human_si(char *out, size_t size, double v)
{
	/* index 4 is no prefix: 10^(3 * (i - 4)) */
	static const char *const prefix[] = { "p", "n", "u", "m", "",
					      "k", "M", "G", "T", "P", "E" };
	double a = fabs(v), scaled;
	int i = 4;

	if (!isfinite(v)) {
		snprintf(out, size, "n/a");
		return;
	}
	if (a == 0) {
		snprintf(out, size, "0");
		return;
	}
	if (a < 0.9995e-12 || a >= 999.5e18) {
		snprintf(out, size, "%.3g", v);
		return;
	}
	scaled = a;
	while (scaled >= 999.5 && i < 10) {
		scaled /= 1000;
		i++;
	}
	while (scaled < 0.9995 && i > 0) {
		scaled *= 1000;
		i--;
	}
	/* three significant digits, as they round */
	snprintf(out, size, scaled >= 99.95 ? "%s%.0f%s%s"
			    : scaled >= 9.995 ? "%s%.1f%s%s"
					      : "%s%.2f%s%s",
		 v < 0 ? "-" : "", scaled, *prefix[i] ? " " : "", prefix[i]);
}

void pb_human_prob(char *out, size_t size, double p)
{
	double pct = 100 * p;

	if (isnan(p)) {
		snprintf(out, size, "n/a");
	} else if (p >= 1) {
		snprintf(out, size, "100 %%");
	} else if (p <= 0) {
		snprintf(out, size, "0 %%");
	} else if (p < 0.001) {
		snprintf(out, size, "< 0.1 %%");
	} else if (p <= 0.999) {
		snprintf(out, size, "%.1f %%", pct);
	} else {
		/* enough digits to tell it from 100 and from the asked
		 * confidence: 99.95, 99.995 ... */
		for (int d = 2; d <= 4; d++) {
			snprintf(out, size, "%.*f %%", d, pct);
			if (strncmp(out, "100", 3))
				return;
		}
		snprintf(out, size, "> 99.9999 %%");
	}
}

void pb_human_elapsed(char *out, size_t size, double seconds)
{
	long long s = isfinite(seconds) && seconds > 0 ? llround(seconds) : 0;

	if (s >= 3600)
		snprintf(out, size, "%lld:%02lld:%02lld", s / 3600,
			 s / 60 % 60, s % 60);
	else
		snprintf(out, size, "%lld:%02lld", s / 60, s % 60);
}

int pb_human_tail(struct pb_buf *out, const char *text, unsigned lines,
		  size_t width, const char *indent)
{
	const char *start[32];
	size_t len[32], k = 0, seen = 0;
	const char *p = text;
	int rc;

	if (!text || lines == 0)
		return 0;
	if (lines > 32)
		lines = 32;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		int blank = 1;

		for (size_t j = 0; j < n; j++)
			if (!isspace((unsigned char)p[j]))
				blank = 0;
		if (!blank) {
			start[k] = p;
			len[k] = n;
			k = (k + 1) % lines;
			seen++;
		}
		p += n;
		if (*p)
			p++;
	}
	if (seen > lines)
		seen = lines;
	k = (k + lines - seen) % lines; /* the oldest kept */
	for (size_t i = 0; i < seen; i++, k = (k + 1) % lines) {
		const char *s = start[k];
		size_t n = len[k], cut = n;
		int cutoff = 0;

		while (cut && (s[cut - 1] == '\r' || s[cut - 1] == ' '))
			cut--;
		if (cut > width) {
			cut = width;
			cutoff = 1;
			/* not in the middle of a UTF-8 sequence */
			while (cut && ((unsigned char)s[cut] & 0xc0) == 0x80)
				cut--;
		}
		if ((rc = pb_buf_puts(out, indent)) < 0)
			return rc;
		for (size_t j = 0; j < cut; j++) {
			char c = (unsigned char)s[j] < 0x20 && s[j] != '\t'
					 ? '?'
					 : s[j] == 0x7f ? '?' : s[j];
			if ((rc = pb_buf_put(out, &c, 1)) < 0)
				return rc;
		}
		if ((rc = pb_buf_puts(out, cutoff ? "...\n" : "\n")) < 0)
			return rc;
	}
	return (int)seen;
}

/* Levenshtein distance of a and b ignoring case, each cut to 63 bytes. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la > 63)
		la = 63;
	if (lb > 63)
		lb = 63;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t sub = diag + (tolower((unsigned char)a[i - 1]) !=
					     tolower((unsigned char)b[j - 1]));
			size_t best = up + 1 < row[j - 1] + 1 ? up + 1
							      : row[j - 1] + 1;

			row[j] = sub < best ? sub : best;
			diag = up;
		}
	}
	return row[lb];
}

static int prefix_of(const char *a, const char *b)
{
	size_t la = strlen(a);

	return la >= 3 && la < strlen(b) && !strncasecmp(a, b, la);
}

int pb_human_closest(const char *want, const char *const *names, size_t n)
{
	size_t limit = strlen(want) / 2, best_d = (size_t)-1;
	int best = -1;

	if (n == 1)
		return 0;
	if (limit < 2)
		limit = 2;
	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(want, names[i]);

		if (!strcasecmp(want, names[i]))
			return (int)i;
		if (prefix_of(want, names[i]) || prefix_of(names[i], want))
			d = d < limit ? d : limit;
		if (d <= limit && d < best_d) {
			best_d = d;
			best = (int)i;
		}
	}
	return best;
}
