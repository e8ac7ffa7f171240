/*
 * identical.c - see identical.h.  Per commit, the build's rows as stored,
 * sorted by path; the comparison walks two such lists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/image.h"
#include "common/err.h"
#include "orchestrator/identical.h"
#include "common/util.h"

/* The path that stands for a run's whole set when it was incomplete. */
#define SET_PATH "/"

struct rows {
	struct pb_image_row *r;
	size_t n, alloc;
};

struct pb_identical {
	struct pb_identical_opts o;
	struct rows *c;  /* per commit */
};

void pb_identical_free(struct pb_identical *x)
{
	if (!x)
		return;
	for (size_t i = 0; x->c && i < x->o.n; i++)
		pb_image_rows_free(x->c[i].r, x->c[i].n);
	free(x->c);
	free(x);
}

int pb_identical_new(struct pb_identical **out,
		     const struct pb_identical_opts *o)
{
	struct pb_identical *x = calloc(1, sizeof(*x));
	int rc;

	*out = NULL;
	if (!x)
		return pb_error_set("out of memory");
	x->o = *o;
	x->c = calloc(o->n ? o->n : 1, sizeof(*x->c));
	if (!x->c) {
		free(x);
		return pb_error_set("out of memory");
	}
	for (size_t i = 0; i < o->n; i++) {
		rc = pb_db_images_load(o->db, o->commit_ids[i], o->bench_id,
				       o->machine, &x->c[i].r, &x->c[i].n);
		if (rc < 0) {
			pb_identical_free(x);
			return rc;
		}
		x->c[i].alloc = x->c[i].n;
	}
	*out = x;
	return PB_OK;
}

/* Where path is in c's rows, or goes: 1 when it is there. */
static int rows_find(const struct rows *c, const char *path, size_t *at)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(c->r[mid].path, path);

		if (cmp == 0) {
			*at = mid;
			return 1;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return 0;
}

/* Stores the row and takes it into c (its strings become c's). */
static int rows_put(struct pb_identical *x, size_t i, struct pb_image_row *row)
{
	struct rows *c = &x->c[i];
	size_t at;
	int rc;

	rc = pb_db_image_put(x->o.db, x->o.commit_ids[i], x->o.bench_id,
			     x->o.machine, row);
	if (rc < 0)
		return rc;
	if (rows_find(c, row->path, &at)) {
		free(c->r[at].path);
		free(c->r[at].digest);
		free(c->r[at].note);
		c->r[at] = *row;
		return PB_OK;
	}
	if (c->n == c->alloc) {
		size_t na = c->alloc ? 2 * c->alloc : 8;
		struct pb_image_row *nr = realloc(c->r, na * sizeof(*nr));

		if (!nr)
			return pb_error_set("out of memory");
		c->r = nr;
		c->alloc = na;
	}
	memmove(c->r + at + 1, c->r + at, (c->n - at) * sizeof(*c->r));
	c->r[at] = *row;
	c->n++;
	return PB_OK;
}

/* The row of one mapped file of commit i's work tree. */
static int digest_row(struct pb_image_row *row, const char *workdir,
		      const char *rel, const char *sha)
{
	struct pb_image_digest d;
	char *path = pb_path_join(workdir, rel);
	int rc;

	memset(row, 0, sizeof(*row));
	if (!path)
		return PB_ERROR;
	rc = pb_image_digest(&d, path, sha);
	free(path);
	row->path = pb_strdup(rel);
	if (rc < 0) {
		row->kind = PB_IMAGE_ERROR;
		row->note = pb_strdup(pb_error_last());
	} else if (d.elf) {
		row->kind = PB_IMAGE_ELF;
		row->digest = pb_strdup(d.hex);
	} else {
		row->kind = PB_IMAGE_OTHER;
		row->note = pb_strdup("not an ELF file");
	}
	if (!row->path || (rc >= 0 && d.elf && !row->digest)) {
		free(row->path);
		free(row->digest);
		free(row->note);
		return pb_error_set("out of memory");
	}
	return PB_OK;
}

int pb_identical_add(struct pb_identical *x, size_t i, const char *workdir,
		     const struct pb_image_files *files)
{
	struct pb_image_row row;
	size_t at;
	int rc;

	if (i >= x->o.n)
		return pb_error_set("no commit %zu", i);
	for (size_t k = 0; k < files->n; k++) {
		if (rows_find(&x->c[i], files->path[k], &at))
			continue; /* digested once per build */
		if ((rc = digest_row(&row, workdir, files->path[k],
				     x->o.commits[i].sha)) < 0)
			return rc;
		if ((rc = rows_put(x, i, &row)) < 0) {
			free(row.path);
			free(row.digest);
			free(row.note);
			return rc;
		}
	}
	if ((files->truncated || files->foreign[0]) &&
	    !rows_find(&x->c[i], SET_PATH, &at)) {
		char note[400];

		if (files->foreign[0])
			snprintf(note, sizeof(note),
				 "'%.256s', from outside the work tree, mapped "
				 "files from it: the program is more than its "
				 "ELF files there", files->foreign);
		else
			snprintf(note, sizeof(note),
				 "a run mapped more than %d files from its "
				 "work tree, or a path too long to keep",
				 PB_IMAGE_MAX_FILES);
		memset(&row, 0, sizeof(row));
		row.kind = PB_IMAGE_ERROR;
		row.path = pb_strdup(SET_PATH);
		row.note = pb_strdup(note);
		if (!row.path || !row.note) {
			free(row.path);
			free(row.note);
			return pb_error_set("out of memory");
		}
		if ((rc = rows_put(x, i, &row)) < 0) {
			free(row.path);
			free(row.note);
			return rc;
		}
	}
	return PB_OK;
}

int pb_identical_add_rows(struct pb_identical *x, size_t i,
			  const struct pb_image_row *rows, size_t n)
{
	struct pb_image_row row;
	size_t at;
	int rc;

	if (i >= x->o.n)
		return pb_error_set("no commit %zu", i);
	for (size_t k = 0; k < n; k++) {
		if (!rows[k].path || rows_find(&x->c[i], rows[k].path, &at))
			continue;
		row = (struct pb_image_row){
			pb_strdup(rows[k].path), rows[k].kind,
			rows[k].digest ? pb_strdup(rows[k].digest) : NULL,
			rows[k].note ? pb_strdup(rows[k].note) : NULL
		};
		if (!row.path || (rows[k].digest && !row.digest) ||
		    (rows[k].note && !row.note))
			rc = pb_error_set("out of memory");
		else
			rc = rows_put(x, i, &row);
		if (rc < 0) {
			free(row.path);
			free(row.digest);
			free(row.note);
			return rc;
		}
	}
	return PB_OK;
}

int pb_identical_forget(struct pb_identical *x, size_t i)
{
	int rc;

	if (i >= x->o.n)
		return pb_error_set("no commit %zu", i);
	rc = pb_db_images_forget(x->o.db, x->o.commit_ids[i], x->o.bench_id,
				 x->o.machine);
	if (rc < 0)
		return rc;
	pb_image_rows_free(x->c[i].r, x->c[i].n);
	memset(&x->c[i], 0, sizeof(x->c[i]));
	return PB_OK;
}

/* The number of ELF rows, or -1 when a row makes the build unusable. */
static long elf_rows(const struct rows *c)
{
	long n = 0;

	for (size_t k = 0; k < c->n; k++) {
		if (c->r[k].kind == PB_IMAGE_ERROR)
			return -1;
		if (c->r[k].kind == PB_IMAGE_ELF)
			n++;
	}
	return n;
}

/* The next ELF row at or after *k, or NULL. */
static const struct pb_image_row *next_elf(const struct rows *c, size_t *k)
{
	while (*k < c->n && c->r[*k].kind != PB_IMAGE_ELF)
		(*k)++;
	return *k < c->n ? &c->r[(*k)++] : NULL;
}

int pb_identical_is(const struct pb_identical *x, size_t i)
{
	const struct rows *a, *b;
	size_t ka = 0, kb = 0;
	long na, nb;

	if (i == 0 || i >= x->o.n)
		return 0;
	a = &x->c[i - 1];
	b = &x->c[i];
	na = elf_rows(a);
	nb = elf_rows(b);
	if (na <= 0 || na != nb)
		return 0;
	for (long k = 0; k < na; k++) {
		const struct pb_image_row *ra = next_elf(a, &ka);
		const struct pb_image_row *rb = next_elf(b, &kb);

		if (!ra || !rb || strcmp(ra->path, rb->path) != 0 ||
		    strcmp(ra->digest, rb->digest) != 0)
			return 0;
	}
	return 1;
}

unsigned pb_identical_seen(const struct pb_identical *x, size_t i)
{
	if (i == 0 || i >= x->o.n)
		return 0;
	return (x->c[i].n > 0 ? 1u : 0u) | (x->c[i - 1].n > 0 ? 2u : 0u);
}
