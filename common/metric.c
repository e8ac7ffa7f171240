/*
 * metric.c - parses benchmark output (see metric.h for the contract).
 *
 * The number grammar is checked by hand first and only the checked span is
 * handed to strtod(), so strtod's extras (hex floats, "inf", "nan",
 * locale-dependent forms) never get in.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "metric.h"
#include "util.h"

#define PB_STR_(x) #x
#define PB_STR(x) PB_STR_(x)
#define PB_METRIC_LINE_MAX_STR PB_STR(PB_METRIC_LINE_MAX)

static int is_name_char(int c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '-';
}

static int is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* Length of the decimal number at s[0..len), 0 if there is none. */
static size_t number_span(const char *s, size_t len)
{
	size_t i = 0, digits = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	while (i < len && isdigit((unsigned char)s[i]))
		i++, digits++;
	if (i < len && s[i] == '.') {
		size_t j = i + 1, frac = 0;
		while (j < len && isdigit((unsigned char)s[j]))
			j++, frac++;
		if (digits || frac) {
			i = j;
			digits += frac;
		}
	}
	if (!digits)
		return 0;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1, exp = 0;
		if (j < len && (s[j] == '+' || s[j] == '-'))
			j++;
		while (j < len && isdigit((unsigned char)s[j]))
			j++, exp++;
		if (exp)
			i = j;
	}
	return i;
}

/* Does s start with a signed nan or inf(inity)? */
static int non_finite_word(const char *s, size_t len)
{
	size_t i = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	return (len - i >= 3 && (!strncasecmp(s + i, "nan", 3) ||
				 !strncasecmp(s + i, "inf", 3)));
}

enum pb_line_kind pb_metric_parse_line(const char *line, size_t len,
				       char name[PB_METRIC_NAME_MAX],
				       double *value)
{
	size_t i = 0, n0, nlen, span;
	char num[512];
	double v;

	if (len && line[len - 1] == '\r')
		len--;
	while (i < len && is_blank((unsigned char)line[i]))
		i++;
	n0 = i;
	while (i < len && is_name_char((unsigned char)line[i]))
		i++;
	nlen = i - n0;
	if (nlen == 0 || nlen >= PB_METRIC_NAME_MAX)
		return PB_LINE_NONE;
	while (i < len && is_blank((unsigned char)line[i]))
		i++;
	if (i >= len || (line[i] != ':' && line[i] != '='))
		return PB_LINE_NONE;
	i++;
	while (i < len && is_blank((unsigned char)line[i]))
		i++;
	memcpy(name, line + n0, nlen);
	name[nlen] = '\0';

	span = number_span(line + i, len - i);
	if (span == 0)
		return non_finite_word(line + i, len - i) ? PB_LINE_IGNORED
							  : PB_LINE_NONE;
	if (span >= sizeof(num))
		return PB_LINE_IGNORED; /* 500 digits: not a measurement */
	memcpy(num, line + i, span);
	num[span] = '\0';
	errno = 0;
	v = strtod(num, NULL);
	if (!isfinite(v) || (errno == ERANGE && fabs(v) > 1.0))
		return PB_LINE_IGNORED; /* overflow; underflow to ~0 is kept */
	*value = v;
	return PB_LINE_METRIC;
}

void pb_metrics_init(struct pb_metrics *m)
{
	memset(m, 0, sizeof(*m));
	pb_buf_init(&m->line, PB_METRIC_LINE_MAX);
	pb_buf_init(&m->notes, 4096);
}

static void note(struct pb_metrics *m, const char *what, const char *name)
{
	if (m->notes.len)
		(void)pb_buf_put_capped(&m->notes, "; ", 2);
	if (pb_buf_printf(&m->notes, "line %u: %s '%s'", m->lineno, what, name) <
	    0)
		m->notes.truncated = 1;
}

static void set_metric(struct pb_metrics *m, const char *name, double v)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (!strcmp(m->kv[i].name, name)) {
			m->kv[i].value = v;
			return;
		}
	if (m->n == PB_METRIC_MAX_NAMES) {
		note(m, "too many metric names, dropped", name);
		return;
	}
	if (m->n == m->alloc) {
		size_t na = m->alloc ? m->alloc * 2 : 8;
		struct pb_metric_kv *nk = realloc(m->kv, na * sizeof(*nk));
		if (!nk) {
			note(m, "out of memory, dropped", name);
			return;
		}
		m->kv = nk;
		m->alloc = na;
	}
	pb_strlcpy(m->kv[m->n].name, name, sizeof(m->kv[m->n].name));
	m->kv[m->n].value = v;
	m->n++;
}

static void end_line(struct pb_metrics *m)
{
	char name[PB_METRIC_NAME_MAX];
	double v;

	m->lineno++;
	if (m->line_overflow) {
		m->line_overflow = 0;
		m->ignored++;
		note(m, "longer than " PB_METRIC_LINE_MAX_STR " bytes, ignored",
		     "...");
	} else {
		switch (pb_metric_parse_line(m->line.ptr, m->line.len, name, &v)) {
		case PB_LINE_METRIC:
			set_metric(m, name, v);
			break;
		case PB_LINE_IGNORED:
			m->ignored++;
			note(m, "value is not a finite double, ignored", name);
			break;
		case PB_LINE_NONE:
			break;
		}
	}
	pb_buf_reset(&m->line);
}

void pb_metrics_feed(struct pb_metrics *m, const char *data, size_t len)
{
	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t k = nl ? (size_t)(nl - data) : len;

		if (!m->line_overflow && pb_buf_put(&m->line, data, k) < 0) {
			m->line_overflow = 1;
			pb_buf_reset(&m->line);
		}
		if (!nl)
			return;
		end_line(m);
		data += k + 1;
		len -= k + 1;
	}
}

void pb_metrics_finish(struct pb_metrics *m)
{
	if (m->line.len || m->line_overflow)
		end_line(m);
}

int pb_metrics_get(const struct pb_metrics *m, const char *name, double *out)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->kv[i].name, name)) {
			*out = m->kv[i].value;
			return PB_OK;
		}
	return PB_ENOTFOUND;
}

void pb_metrics_release(struct pb_metrics *m)
{
	free(m->kv);
	pb_buf_release(&m->line);
	pb_buf_release(&m->notes);
	m->kv = NULL;
	m->n = m->alloc = 0;
}
