/*
 * record.c - a run result as the wire record (see record.h).  The mapping
 * is orchestrator/local.c's run_once() field for field, so a run taken by
 * an agent is stored as one taken by `bisect --local`; the image rows are
 * orchestrator/identical.c's digest_row(), so the same claim ("this commit
 * maps its parent's code") can be made from either.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/daemon/record.h"
#include "agent/image.h"
#include "common/err.h"
#include "common/util.h"

void pb_digest_memo_init(struct pb_digest_memo *m)
{
	memset(m, 0, sizeof(*m));
}

static void image_free(struct pb_wire_image *im)
{
	free(im->path);
	free(im->digest);
	free(im->note);
	memset(im, 0, sizeof(*im));
}

void pb_digest_memo_release(struct pb_digest_memo *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		image_free(&m->rows[i]);
	free(m->rows);
	pb_digest_memo_init(m);
}

static int image_copy(struct pb_wire_image *dst, const struct pb_wire_image *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->kind = src->kind;
	dst->path = pb_strdup(src->path);
	dst->digest = src->digest ? pb_strdup(src->digest) : NULL;
	dst->note = src->note ? pb_strdup(src->note) : NULL;
	if (!dst->path || (src->digest && !dst->digest) ||
	    (src->note && !dst->note)) {
		image_free(dst);
		return pb_error_set("out of memory");
	}
	return PB_OK;
}

/* The row of one mapped file, as identical.c's digest_row(). */
static int digest_row(struct pb_wire_image *row, const char *workdir,
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
		row->kind = PB_WIRE_IMAGE_ERROR;
		row->note = pb_strdup(pb_error_last());
	} else if (d.elf) {
		row->kind = PB_WIRE_IMAGE_ELF;
		row->digest = pb_strdup(d.hex);
	} else {
		row->kind = PB_WIRE_IMAGE_OTHER;
		row->note = pb_strdup("not an ELF file");
	}
	if (!row->path || (row->kind == PB_WIRE_IMAGE_ELF ? !row->digest
							  : !row->note)) {
		image_free(row);
		return pb_error_set("out of memory");
	}
	return PB_OK;
}

static const struct pb_wire_image *memo_find(const struct pb_digest_memo *m,
					     const char *rel)
{
	for (size_t i = 0; m && i < m->n; i++)
		if (!strcmp(m->rows[i].path, rel))
			return &m->rows[i];
	return NULL;
}

static int memo_add(struct pb_digest_memo *m, const struct pb_wire_image *row)
{
	if (m->n == m->alloc) {
		size_t na = m->alloc ? 2 * m->alloc : 16;
		struct pb_wire_image *nr = realloc(m->rows, na * sizeof(*nr));

		if (!nr)
			return pb_error_set("out of memory");
		m->rows = nr;
		m->alloc = na;
	}
	if (image_copy(&m->rows[m->n], row) < 0)
		return PB_ERROR;
	m->n++;
	return PB_OK;
}

static int fill_images(struct pb_run_row_wire *w,
		       const struct pb_image_files *files, const char *workdir,
		       const char *sha, struct pb_digest_memo *memo)
{
	size_t want = files->n + (files->truncated || files->foreign[0]);
	int rc;

	if (!want)
		return PB_OK;
	w->images = calloc(want, sizeof(*w->images));
	if (!w->images)
		return pb_error_set("out of memory");
	/* "/" sorts before every relative path, as identical.c keeps it */
	if (files->truncated || files->foreign[0]) {
		char note[400];
		struct pb_wire_image *im = &w->images[w->nimages++];

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
		im->kind = PB_WIRE_IMAGE_ERROR;
		im->path = pb_strdup("/");
		im->note = pb_strdup(note);
		if (!im->path || !im->note)
			return pb_error_set("out of memory");
	}
	for (size_t k = 0; k < files->n; k++) {
		const struct pb_wire_image *known = memo_find(memo, files->path[k]);
		struct pb_wire_image *im = &w->images[w->nimages];

		if (known)
			rc = image_copy(im, known);
		else if ((rc = digest_row(im, workdir, files->path[k], sha)) ==
				 PB_OK &&
			 memo)
			rc = memo_add(memo, im);
		if (rc < 0 && !im->path)
			return rc;
		w->nimages++;
		if (rc < 0)
			return rc;
	}
	return PB_OK;
}

static int dup_into(char **out, const char *s)
{
	*out = pb_strdup(s ? s : "");
	return *out ? PB_OK : pb_error_set("out of memory");
}

int pb_agent_record_fill(struct pb_run_row_wire *out,
			 const struct pb_run_result *res, const char *run_as,
			 const char *workdir, const char *sha,
			 struct pb_digest_memo *memo)
{
	const struct pb_run_measurements *m = &res->measured;
	int rc;

	pb_run_row_wire_init(out);
	out->ok = res->ok;
	out->exited = res->exited;
	out->exit_code = res->exit_code;
	out->signal = res->signal;
	out->timed_out = res->timed_out;
	out->wall_s = res->wall_s;
	out->value = res->ok && isfinite(res->value) ? res->value : NAN;
	out->started_at = res->started_at;
	out->start_cpu = m->start_cpu;
	out->start_node = m->start_node;
	out->ipc = m->ipc;
	out->remote_access = m->remote_access;
	out->cpu_s = m->cpu_s;
	out->busy_share = m->interference;
	out->disturbed = res->ok && m->disturbed;
	if ((rc = dup_into(&out->reason, res->ok ? "" : res->reason)) < 0 ||
	    (rc = dup_into(&out->notes, res->metrics.notes.ptr)) < 0 ||
	    (rc = dup_into(&out->run_as, run_as)) < 0 ||
	    (rc = dup_into(&out->ipc_note, m->ipc_note)) < 0 ||
	    (rc = dup_into(&out->remote_note, m->remote_note)) < 0)
		return rc;
	if (!res->ok && (rc = dup_into(&out->output, res->output)) < 0)
		return rc;
	out->metrics_json = pb_proto_metrics_json(&res->metrics);
	out->counters_json = pb_proto_counters_json(m);
	out->numa_json = pb_proto_numa_json(m);
	out->settings_json = pb_proto_settings_json(m);
	out->machine_json = pb_proto_facts_json(m);
	out->interference_json = pb_proto_interference_json(m, res->wall_s);
	if (!out->metrics_json || !out->counters_json || !out->numa_json ||
	    !out->settings_json || !out->machine_json ||
	    !out->interference_json)
		return pb_error_set("out of memory");
	return fill_images(out, &res->tree_files, workdir, sha, memo);
}
