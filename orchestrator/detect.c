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
 * the statistics live in orchestrator/core/.
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
#include "orchestrator/core/dip.h"
#include "orchestrator/core/edivisive.h"
#include "orchestrator/core/mixture.h"
#include "orchestrator/core/stats.h"
#include "orchestrator/detect.h"
#include "common/util.h"

#define LINE_MAX_LEN 4096
#define COMMIT_MAX_LEN 255
#define BIMODAL_MIN_RUNS 10      /* statistics.md section 3 */
#define BIMODAL_MIN_ASHMAN 2.0
#define BIMODAL_DIP_ALPHA 0.05
#define MIX_FLOOR_REL 0.005

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
	out->npositions = c;
	rc = PB_OK;
out:
	free(k);
	return rc;
}

/* ---- the series ------------------------------------------------------- */

static int series_rank(const char *s)
{
	return !strcmp(s, "fast_median");
}

static int cmp_point(const void *a, const void *b)
{
	const struct pb_detect_point *x = a, *y = b;

	if (x->index != y->index)
		return (x->index > y->index) - (x->index < y->index);
	return series_rank(x->series) - series_rank(y->series);
}

/*
 * E-divisive on y[0..n); pos[i] (NULL: i) is the position of y[i] among
 * the values or commits.  Appends the change points to out->points.
 */
static int run_series(struct pb_detect_result *out, const char *name,
		      const double *y, const size_t *pos, size_t n,
		      const struct pb_detect_opts *o)
{
	struct pb_ediv_opts eo = PB_EDIV_OPTS_INIT;
	struct pb_change_point *cps = NULL;
	struct pb_detect_point *g;
	size_t ncp = 0;
	int rc;

	eo.window = o->window;
	eo.max_pvalue = o->max_pvalue;
	eo.min_magnitude = o->min_magnitude;
	rc = pb_edivisive(&cps, &ncp, y, n, &eo);
	if (rc < 0) {
		rc = pb_error_code(rc, "change point detection failed on the "
				   "%s series", name);
		goto out;
	}
	if (ncp == 0)
		goto out;
	g = realloc(out->points, (out->npoints + ncp) * sizeof(*g));
	if (!g) {
		rc = pb_error_set("out of memory");
		goto out;
	}
	out->points = g;
	for (size_t i = 0; i < ncp; i++) {
		struct pb_detect_point *p = &out->points[out->npoints++];

		p->index = pos ? pos[cps[i].index] : cps[i].index;
		p->commit = out->commits ? out->commits[p->index] : NULL;
		p->series = name;
		p->before = cps[i].mean_before;
		p->after = cps[i].mean_after;
		p->p_value = cps[i].p_value;
	}
	rc = PB_OK;
out:
	free(cps);
	return rc;
}

/*
 * Classifies the pooled runs; decides bimodality (detect.h) and records
 * the evidence in out.  Returns 1 bimodal, 0 not, or a negative error.
 */
static int check_bimodal(struct pb_detect_result *out, const struct runs *r,
			 size_t nvalues, int lower_is_better)
{
	struct pb_mix mix;
	double tau;
	int rc;

	if (nvalues < BIMODAL_MIN_RUNS)
		return 0;
	rc = pb_mix_fit(&mix, r->values, nvalues, MIX_FLOOR_REL);
	if (rc < 0)
		return pb_error_code(rc, "cannot fit the mixture of %zu runs",
				     nvalues);
	rc = pb_dip_test(&out->dip, &out->dip_p, r->values, nvalues);
	if (rc < 0)
		return pb_error_code(rc, "cannot compute the dip of %zu runs",
				     nvalues);
	out->ashman_d = mix.ashman_d;
	tau = pb_mix_threshold(&mix);
	for (size_t c = 0; c < r->ncommits; c++) {
		size_t slow = 0, nr = r->off[c + 1] - r->off[c];

		for (size_t i = r->off[c]; i < r->off[c + 1]; i++)
			slow += lower_is_better ? r->values[i] > tau
						: r->values[i] < tau;
		if (slow > 0 && slow < nr)
			out->mixed_commits++;
		out->slow_runs += slow;
	}
	out->two_modes = mix.ashman_d >= BIMODAL_MIN_ASHMAN &&
			 out->dip_p < BIMODAL_DIP_ALPHA;
	if (!out->two_modes || out->mixed_commits == 0) {
		out->slow_runs = 0;
		return 0;
	}
	out->threshold = tau;
	return 1;
}

static int run_bimodal(struct pb_detect_result *out, const struct runs *r,
		       const struct pb_detect_opts *o)
{
	size_t nc = r->ncommits, nfast = 0, *pos = NULL;
	double *frac = NULL, *fast_med = NULL, *buf = NULL;
	int rc = PB_ERROR;

	frac = malloc(nc * sizeof(*frac));
	fast_med = malloc(nc * sizeof(*fast_med));
	pos = malloc(nc * sizeof(*pos));
	buf = malloc(out->max_runs * sizeof(*buf));
	if (!frac || !fast_med || !pos || !buf) {
		pb_error_set("out of memory");
		goto out;
	}
	for (size_t c = 0; c < nc; c++) {
		size_t nr = r->off[c + 1] - r->off[c], nb = 0;

		for (size_t i = r->off[c]; i < r->off[c + 1]; i++) {
			double v = r->values[i];

			if (o->lower_is_better ? v > out->threshold
					       : v < out->threshold)
				continue;
			buf[nb++] = v;
		}
		frac[c] = (double)(nr - nb) / (double)nr;
		if (nb == 0) {
			out->no_fast_commits++;
			continue;
		}
		pos[nfast] = c;
		fast_med[nfast++] = pb_median(buf, nb);
	}
	rc = run_series(out, "slow_fraction", frac, NULL, nc, o);
	if (rc < 0)
		goto out;
	rc = run_series(out, "fast_median", fast_med, pos, nfast, o);
out:
	free(frac);
	free(fast_med);
	free(pos);
	free(buf);
	return rc;
}

static int run_medians(struct pb_detect_result *out, const struct runs *r,
		       const struct pb_detect_opts *o)
{
	double *med = malloc(r->ncommits * sizeof(*med));
	int rc;

	if (!med)
		return pb_error_set("out of memory");
	for (size_t c = 0; c < r->ncommits; c++)
		med[c] = pb_median(r->values + r->off[c],
				   r->off[c + 1] - r->off[c]);
	rc = run_series(out, "median", med, NULL, r->ncommits, o);
	free(med);
	return rc;
}

static int check_opts(const struct pb_detect_opts *o)
{
	if (o->window < 2 || o->window > PB_DETECT_MAX_WINDOW)
		return pb_error_code(PB_EINVAL, "window %zu is out of range "
				     "[2, %d]", o->window,
				     PB_DETECT_MAX_WINDOW);
	if (!(o->max_pvalue > 0 && o->max_pvalue <= 1))
		return pb_error_code(PB_EINVAL, "max p-value %g is not in "
				     "(0, 1]", o->max_pvalue);
	if (!(o->min_magnitude >= 0) || isinf(o->min_magnitude))
		return pb_error_code(PB_EINVAL, "min magnitude %g is not a "
				     "finite number >= 0", o->min_magnitude);
	return PB_OK;
}

int pb_detect_file(struct pb_detect_result *out, const char *path,
		   const struct pb_detect_opts *opts)
{
	struct input in = { 0 };
	struct runs r = { 0, NULL, NULL };
	double *vals = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->ashman_d = out->dip = out->dip_p = out->threshold = NAN;
	rc = check_opts(opts);
	if (rc < 0)
		goto out;
	rc = read_input(&in, path);
	if (rc < 0)
		goto out;
	out->nvalues = in.nrows;
	if (!in.has_commits) {
		vals = malloc(in.nrows * sizeof(*vals));
		if (!vals) {
			rc = pb_error_set("out of memory");
			goto out;
		}
		for (size_t i = 0; i < in.nrows; i++)
			vals[i] = in.rows[i].value;
		out->kind = PB_DETECT_VALUES;
		out->npositions = in.nrows;
		out->max_runs = 1;
		rc = run_series(out, "value", vals, NULL, in.nrows, opts);
		goto out;
	}
	rc = group_runs(&r, out, &in);
	if (rc < 0)
		goto out;
	for (size_t c = 0; c < r.ncommits; c++)
		if (r.off[c + 1] - r.off[c] > out->max_runs)
			out->max_runs = r.off[c + 1] - r.off[c];
	if (out->max_runs == 1) {
		out->kind = PB_DETECT_VALUES;
		rc = run_series(out, "value", r.values, NULL, r.ncommits, opts);
		goto out;
	}
	rc = check_bimodal(out, &r, in.nrows, opts->lower_is_better);
	if (rc < 0)
		goto out;
	out->kind = rc ? PB_DETECT_BIMODAL : PB_DETECT_MEDIANS;
	rc = rc ? run_bimodal(out, &r, opts) : run_medians(out, &r, opts);
out:
	if (rc >= 0 && out->npoints > 1)
		qsort(out->points, out->npoints, sizeof(*out->points),
		      cmp_point);
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
		for (size_t i = 0; i < r->npositions; i++)
			free(r->commits[i]);
	free(r->commits);
	free(r->points);
	r->commits = NULL;
	r->points = NULL;
	r->npoints = r->npositions = 0;
}

const char *pb_detect_kind_name(enum pb_detect_kind k)
{
	switch (k) {
	case PB_DETECT_VALUES: return "value";
	case PB_DETECT_MEDIANS: return "median";
	case PB_DETECT_BIMODAL: return "bimodal";
	}
	return "?";
}
