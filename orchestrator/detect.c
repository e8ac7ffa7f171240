/*
 * detect.c - `perfbisect detect`: reads a history, builds the series
 * detect.h describes and runs E-divisive on each.
 *
 * Reading is one pass of bounded lines into rows (commit name or none,
 * value, line number); the first data line fixes the format and every
 * other line must follow it.  Grouping the rows into commits sorts
 * (name, row) pairs, so equal names meet whatever order the rows come in;
 * the groups are then put back in order of their first row and the runs
 * of each commit laid out contiguously (offsets into one value array), in
 * file order.  Everything after reading is numbers in, change points out:
 * orchestrator/core/changes.c.
 */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "orchestrator/detect.h"
#include "common/util.h"

#define LINE_MAX_LEN 4096
#define COMMIT_MAX_LEN 255

struct row {
	char *commit;     /* NULL in a file of plain values */
	double value;
	size_t line;
};

struct input {
	const char *path;
	struct row *rows;
	size_t nrows, cap;
	int has_commits;  /* -1 until the first data line */
	size_t first_line;/* that line */
};

/* The rows grouped by commit: commit c's runs are
 * values[off[c] .. off[c + 1]). */
struct runs {
	size_t ncommits;
	size_t *off;
	double *values;
};

/* ---- reading ---------------------------------------------------------- */

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
			 e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static int parse_value(double *out, const char *s, const char *path,
		       size_t line)
{
	char where[PATH_MAX + 32];

	if (!*s)
		return pb_error_code(PB_EINVAL, "%s:%zu: missing value", path,
				     line);
	snprintf(where, sizeof(where), "%s:%zu", path, line);
	return pb_parse_double(out, s, -DBL_MAX, DBL_MAX, where);
}

static int check_commit(const char *c, const char *path, size_t line)
{
	size_t n = strlen(c);

	if (n == 0)
		return pb_error_code(PB_EINVAL, "%s:%zu: empty commit name",
				     path, line);
	if (n > COMMIT_MAX_LEN)
		return pb_error_code(PB_EINVAL, "%s:%zu: commit name longer "
				     "than %d bytes", path, line,
				     COMMIT_MAX_LEN);
	for (const char *p = c; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return pb_error_code(PB_EINVAL, "%s:%zu: control "
					     "character in the commit name",
					     path, line);
	return PB_OK;
}

static int add_row(struct input *in, const char *commit, double value,
		   size_t line)
{
	struct row *r;

	if (in->nrows == in->cap) {
		size_t ncap = in->cap ? 2 * in->cap : 256;
		struct row *g = realloc(in->rows, ncap * sizeof(*g));

		if (!g)
			return pb_error_set("out of memory reading '%s'",
					    in->path);
		in->rows = g;
		in->cap = ncap;
	}
	r = &in->rows[in->nrows];
	r->commit = NULL;
	if (commit) {
		r->commit = pb_strdup(commit);
		if (!r->commit)
			return PB_ERROR;
	}
	r->value = value;
	r->line = line;
	in->nrows++;
	return PB_OK;
}

/* One line, already trimmed and not blank nor a comment. */
static int parse_line(struct input *in, char *s, size_t line)
{
	char *comma = strchr(s, ','), *commit = NULL, *value = s;
	int is_csv = comma != NULL;
	double v = 0;
	int rc;

	if (in->has_commits < 0) {
		in->has_commits = is_csv;
		in->first_line = line;
		if (is_csv) {
			/* a header "commit,value" is skipped */
			*comma = '\0';
			if (!strcasecmp(trim(s), "commit") &&
			    !strcasecmp(trim(comma + 1), "value"))
				return PB_OK;
			*comma = ',';
		}
	}
	if (is_csv != in->has_commits)
		return pb_error_code(PB_EINVAL, "%s:%zu: expected %s, as on "
				     "line %zu", in->path, line,
				     in->has_commits ? "'commit,value'"
						     : "a single value",
				     in->first_line);
	if (is_csv) {
		if (strchr(comma + 1, ','))
			return pb_error_code(PB_EINVAL, "%s:%zu: expected "
					     "'commit,value', found more than "
					     "two fields", in->path, line);
		*comma = '\0';
		commit = trim(s);
		value = trim(comma + 1);
		rc = check_commit(commit, in->path, line);
		if (rc < 0)
			return rc;
	}
	rc = parse_value(&v, value, in->path, line);
	if (rc < 0)
		return rc;
	return add_row(in, commit, v, line);
}

/*
 * Reads one line of at most LINE_MAX_LEN bytes into buf (terminated, the
 * newline dropped).  Returns 1 for a line, 0 at the end of the file,
 * PB_EINVAL for a line too long or holding a NUL byte.
 */
static int read_line(char *buf, FILE *f, const char *path, size_t line)
{
	size_t len = 0;
	int ch;

	while ((ch = getc(f)) != EOF && ch != '\n') {
		if (ch == '\0')
			return pb_error_code(PB_EINVAL, "%s:%zu: NUL byte "
					     "(not a text file?)", path, line);
		if (len == LINE_MAX_LEN)
			return pb_error_code(PB_EINVAL, "%s:%zu: line longer "
					     "than %d bytes", path, line,
					     LINE_MAX_LEN);
		buf[len++] = (char)ch;
	}
	buf[len] = '\0';
	return ch == EOF && len == 0 ? 0 : 1;
}

static int read_input(struct input *in, const char *path)
{
	char buf[LINE_MAX_LEN + 1];
	size_t line = 0;
	FILE *f = NULL;
	int rc;

	in->path = path;
	in->has_commits = -1;
	f = fopen(path, "r");
	if (!f) {
		rc = pb_error_code(PB_ENOTFOUND, "cannot open '%s': %s", path,
				   strerror(errno));
		goto out;
	}
	while ((rc = read_line(buf, f, path, ++line)) > 0) {
		char *s = trim(buf);

		if (!*s || *s == '#')
			continue;
		rc = parse_line(in, s, line);
		if (rc < 0)
			goto out;
	}
	if (rc < 0)
		goto out;
	if (ferror(f)) {
		rc = pb_error_code(PB_ENOTFOUND, "cannot read '%s': %s", path,
				   strerror(errno));
		goto out;
	}
	if (in->nrows == 0) {
		rc = pb_error_code(PB_EINVAL, "%s: no values (one value per "
				   "line, or 'commit,value' rows)", path);
		goto out;
	}
	rc = PB_OK;
out:
	if (f)
		fclose(f);
	return rc;
}

static void input_release(struct input *in)
{
	for (size_t i = 0; i < in->nrows; i++)
		free(in->rows[i].commit);
	free(in->rows);
	in->rows = NULL;
	in->nrows = in->cap = 0;
}

/* ---- grouping runs by commit ----------------------------------------- */

struct keyed {
	const char *name;
	size_t row;
	size_t first;     /* first row of the name's group */
};

static int cmp_name_row(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->row > y->row) - (x->row < y->row);
}

static int cmp_first_row(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->first != y->first)
		return (x->first > y->first) - (x->first < y->first);
	return (x->row > y->row) - (x->row < y->row);
}

/* Groups in->rows by commit into *r and out->commits (names moved). */
static int group_runs(struct runs *r, struct pb_detect_result *out,
		      struct input *in)
{
	struct keyed *k = NULL;
	size_t n = in->nrows, c = 0, i;
	int rc = PB_ERROR;

	k = malloc(n * sizeof(*k));
	r->off = calloc(n + 1, sizeof(*r->off));
	r->values = malloc(n * sizeof(*r->values));
	out->commits = calloc(n, sizeof(*out->commits));
	if (!k || !r->off || !r->values || !out->commits) {
		pb_error_set("out of memory grouping %zu rows", n);
		goto out;
	}
	for (i = 0; i < n; i++)
		k[i] = (struct keyed){ in->rows[i].commit, i, 0 };
	qsort(k, n, sizeof(*k), cmp_name_row);
	for (i = 0; i < n; i++)
		k[i].first = i && !strcmp(k[i].name, k[i - 1].name)
				     ? k[i - 1].first : k[i].row;
	/* commits in order of their first row, each commit's runs in row
	 * order: exactly sorting by (first row, row) */
	qsort(k, n, sizeof(*k), cmp_first_row);
	for (i = 0; i < n; i++) {
		if (i == 0 || k[i].first != k[i - 1].first) {
			r->off[c] = i;
			out->commits[c++] = in->rows[k[i].row].commit;
			in->rows[k[i].row].commit = NULL; /* moved */
		}
		r->values[i] = in->rows[k[i].row].value;
	}
	r->ncommits = c;
	r->off[c] = n;
	out->ncommits = c;
	rc = PB_OK;
out:
	free(k);
	return rc;
}

int pb_detect_file(struct pb_detect_result *out, const char *path,
		   const struct pb_changes_opts *opts)
{
	struct input in = { 0 };
	struct runs r = { 0, NULL, NULL };
	double *vals = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->ch.ashman_d = out->ch.dip = out->ch.dip_p = NAN;
	out->ch.threshold = NAN;
	if ((rc = pb_changes_check_opts(opts)) < 0 ||
	    (rc = read_input(&in, path)) < 0)
		goto out;
	if (!in.has_commits) {
		vals = malloc(in.nrows * sizeof(*vals));
		if (!vals) {
			rc = pb_error_set("out of memory");
			goto out;
		}
		for (size_t i = 0; i < in.nrows; i++)
			vals[i] = in.rows[i].value;
		rc = pb_changes_find(&out->ch, vals, NULL, in.nrows, opts);
		goto out;
	}
	if ((rc = group_runs(&r, out, &in)) < 0)
		goto out;
	rc = pb_changes_find(&out->ch, r.values, r.off, r.ncommits, opts);
out:
	free(vals);
	free(r.off);
	free(r.values);
	input_release(&in);
	return rc < 0 ? rc : PB_OK;
}

void pb_detect_result_release(struct pb_detect_result *r)
{
	if (!r)
		return;
	if (r->commits)
		for (size_t i = 0; i < r->ncommits; i++)
			free(r->commits[i]);
	free(r->commits);
	r->commits = NULL;
	r->ncommits = 0;
	pb_changes_release(&r->ch);
}
