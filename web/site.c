/*
 * site.c - writing the report's pages (site.h) into a directory: each page
 * drawn into memory, compared with the file already there, and written
 * (atomically: a temporary file, then rename) only when its bytes changed,
 * so regenerating after one new run touches only the pages it changed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/util.h"
#include "web/page.h"
#include "web/pages.h"
#include "web/site.h"

#define PAGE_MAX (64u * 1024 * 1024)

void pb_site_free(struct pb_site *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nrepos; i++) {
		free(s->repos[i].name);
		free(s->repos[i].url);
		free(s->repos[i].branch);
	}
	free(s->repos);
	for (size_t i = 0; i < s->nbenches; i++) {
		free(s->benches[i].name);
		free(s->benches[i].metric);
		free(s->benches[i].build_cmd);
		free(s->benches[i].run_cmd);
	}
	free(s->benches);
	for (size_t i = 0; i < s->ncommits; i++) {
		free(s->commits[i].subject);
		free(s->commits[i].author);
		free(s->commits[i].files);
	}
	free(s->commits);
	for (size_t i = 0; i < s->nmachines; i++) {
		free(s->machines[i].name);
		free(s->machines[i].facts);
		free(s->machines[i].settings);
		free(s->machines[i].homes);
	}
	free(s->machines);
	for (size_t i = 0; i < s->nruns; i++) {
		struct pb_site_run *r = &s->runs[i];

		free(r->failure_reason);
		free(r->output);
		free(r->numa);
		free(r->interference);
		free(r->counters);
		free(r->metrics);
		free(r->settings);
		free(r->notes);
		free(r->run_as);
		free(r->ipc_note);
		free(r->remote_note);
	}
	free(s->runs);
	for (size_t i = 0; i < s->nbisections; i++) {
		pb_bisection_view_free(s->bisections[i].v);
		free(s->bisections[i].range);
		free(s->bisections[i].runs);
	}
	free(s->bisections);
	for (size_t i = 0; i < s->nalerts; i++)
		free(s->alerts[i].note);
	free(s->alerts);
	for (size_t i = 0; i < s->nseries; i++) {
		struct pb_site_series *S = &s->series[i];

		free(S->points);
		free(S->merges);
		free(S->runs);
		free(S->run_point);
		for (size_t t = 0; t < S->nstrands; t++) {
			free(S->strands[t].changes);
			free(S->strands[t].medians);
		}
		free(S->strands);
		free(S->medians);
		for (size_t g = 0; g < S->ngaps; g++)
			free(S->gaps[g].note);
		free(S->gaps);
	}
	free(s->series);
	memset(s, 0, sizeof(*s));
}

/* 1 when the file holds exactly b's bytes. */
static int same_bytes(const char *path, const struct pb_buf *b)
{
	struct stat st;
	char chunk[65536];
	size_t off = 0;
	int fd, same = 1;

	if (stat(path, &st) < 0 || (size_t)st.st_size != b->len)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	while (same && off < b->len) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n <= 0)
			same = 0;
		else if (memcmp(chunk, b->ptr + off, (size_t)n))
			same = 0;
		else
			off += (size_t)n;
	}
	close(fd);
	return same && off == b->len;
}

/* A drawing killed between a temporary file and its rename leaves the
 * file: hidden (".NAME.html.tmp-XXXXXX", never served: perfbisectd serves
 * no name starting with '.'), and removed by a later drawing once it is
 * this old (another process may be drawing into the directory now). */
#define TMP_MARK ".html.tmp-"
#define STALE_TMP_S 600

/* Writes b to path through a temporary file of a unique name beside it
 * (perfbisectd and `perfbisect report` may draw into one directory at
 * once), then renamed: a reader sees the old page or the new, whole. */
static int write_atomic(const char *path, const struct pb_buf *b)
{
	char tmp[4200];
	const char *base = strrchr(path, '/');
	size_t off = 0, bl;
	int fd, rc = PB_OK;

	base = base ? base + 1 : path;
	/* every page is NAME.html: the mark takes the place of ".html" */
	bl = strlen(base);
	if (bl > 5 && !strcmp(base + bl - 5, ".html"))
		bl -= 5;
	snprintf(tmp, sizeof(tmp), "%.*s.%.*s" TMP_MARK "XXXXXX",
		 (int)(base - path), path, (int)bl, base);
	if ((fd = mkstemp(tmp)) < 0)
		return pb_error_code(PB_EINFRA, "cannot write '%s': %s", tmp,
				     strerror(errno));
	if (fchmod(fd, 0644) < 0) {
		rc = pb_error_code(PB_EINFRA, "cannot write '%s': %s", tmp,
				   strerror(errno));
		close(fd);
		unlink(tmp);
		return rc;
	}
	while (off < b->len) {
		ssize_t w = write(fd, b->ptr + off, b->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = pb_error_code(PB_EINFRA, "cannot write '%s': %s",
					   tmp, strerror(errno));
			break;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0 && rc == PB_OK)
		rc = pb_error_code(PB_EINFRA, "cannot write '%s': %s", tmp,
				   strerror(errno));
	if (rc == PB_OK && rename(tmp, path) < 0)
		rc = pb_error_code(PB_EINFRA, "cannot rename '%s': %s", tmp,
				   strerror(errno));
	if (rc < 0)
		unlink(tmp);
	return rc;
}

struct writer {
	const char *dir;
	const struct pb_site *site;
	struct pb_buf b;
	struct pb_site_stats st;
	int first;            /* its first error, PB_OK for none */
	char msg[512];
};

enum kind { K_INDEX, K_BISECTION, K_SERIES, K_MACHINE, K_RUN };

static int one(struct writer *w, enum kind k, size_t i)
{
	struct pb_page p = { &w->b, 0, w->site };
	char name[128], path[4096];

	pb_buf_reset(&w->b);
	switch (k) {
	case K_INDEX:
		snprintf(name, sizeof(name), "index.html");
		pb_page_index(&p);
		break;
	case K_BISECTION:
		pg_bisection_page(name, sizeof(name),
				  w->site->bisections[i].v->id);
		pb_page_bisection(&p, i);
		break;
	case K_SERIES:
		pg_series_page(name, sizeof(name),
			       (long long)w->site->benches[w->site->series[i]
								   .bench]
				       .id,
			       (long long)w->site->series[i].config_id);
		pb_page_series(&p, i);
		break;
	case K_MACHINE:
		pg_machine_page(name, sizeof(name),
				w->site->machines[i].name);
		pb_page_machine(&p, i);
		break;
	case K_RUN:
		pg_run_page(name, sizeof(name),
			    (long long)w->site->runs[i].id);
		pb_page_run(&p, i);
		break;
	}
	if (p.rc)
		return pb_error_code(PB_EINFRA, "drawing %s: out of memory or "
				     "past %u MiB", name, PAGE_MAX >> 20);
	snprintf(path, sizeof(path), "%s/%s", w->dir, name);
	w->st.pages++;
	if (same_bytes(path, &w->b)) {
		w->st.unchanged++;
		return PB_OK;
	}
	w->st.written++;
	return write_atomic(path, &w->b);
}

/* Keeps the first error (its message too) and goes on: one page that
 * cannot be drawn or written costs that page, not the others. */
static void keep(struct writer *w, int rc)
{
	if (rc < 0 && w->first == PB_OK) {
		w->first = rc;
		pb_strlcpy(w->msg, pb_error_last(), sizeof(w->msg));
	}
}

/* The pages but the index, as (kind, index) pairs, shared by the
 * workers: each takes the next one. */
struct jobs {
	unsigned char *kind;
	size_t *index, n;
	atomic_size_t next;
};

struct worker {
	struct writer w;
	struct jobs *jobs;
	pthread_t th;
};

static void *work(void *arg)
{
	struct worker *k = arg;
	size_t i;

	while ((i = atomic_fetch_add(&k->jobs->next, 1)) < k->jobs->n)
		keep(&k->w, one(&k->w, (enum kind)k->jobs->kind[i],
				k->jobs->index[i]));
	return NULL;
}

static int jobs_fill(struct jobs *j, const struct pb_site *s)
{
	size_t cap = s->nbisections + s->nseries + s->nmachines + s->nruns;

	j->n = 0;
	atomic_init(&j->next, 0);
	j->kind = malloc(cap + 1);
	j->index = malloc((cap + 1) * sizeof(*j->index));
	if (!j->kind || !j->index)
		return pb_error_code(PB_EINFRA, "out of memory");
#define ADD(k, i)                                                            \
	do {                                                                 \
		j->kind[j->n] = (k);                                         \
		j->index[j->n++] = (i);                                      \
	} while (0)
	for (size_t i = 0; i < s->nbisections; i++)
		if (s->bisections[i].bench < s->nbenches)
			ADD(K_BISECTION, i);
	for (size_t i = 0; i < s->nseries; i++)
		if (s->series[i].bench < s->nbenches)
			ADD(K_SERIES, i);
	for (size_t i = 0; i < s->nmachines; i++)
		ADD(K_MACHINE, i);
	for (size_t i = 0; i < s->nruns; i++)
		if (pb_run_has_page(&s->runs[i]) &&
		    s->runs[i].bench < s->nbenches &&
		    s->runs[i].commit < s->ncommits)
			ADD(K_RUN, i);
#undef ADD
	return PB_OK;
}

/* Workers drawing and writing pages at once (a page is independent of
 * the others; writing ten thousand files is most of a full draw). */
#define MAX_WORKERS 4

/* Removes the temporary files of drawings that died (write_atomic()). */
static void sweep_stale(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	time_t now = time(NULL);

	if (!d)
		return;
	while ((e = readdir(d))) {
		const char *m = strstr(e->d_name, TMP_MARK);
		struct stat sb;

		if (e->d_name[0] != '.' || !m ||
		    strlen(m) != strlen(TMP_MARK) + 6 ||
		    fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(sb.st_mode) || now - sb.st_mtime < STALE_TMP_S)
			continue;
		(void)unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

int pb_site_write(const char *dir, const struct pb_site *s,
		  struct pb_site_stats *st)
{
	struct worker k[MAX_WORKERS];
	struct jobs jobs = { 0 };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nk = cpus < 1 ? 1 : cpus > MAX_WORKERS ? MAX_WORKERS
						      : (size_t)cpus;
	size_t started = 0;
	int rc, first = PB_OK;
	char msg[512] = "";

	memset(st, 0, sizeof(*st));
	if ((rc = pb_mkdir_p(dir, 0755)) < 0)
		return rc;
	sweep_stale(dir);
	if ((rc = jobs_fill(&jobs, s)) < 0)
		goto out;
	for (size_t t = 0; t < nk; t++) {
		k[t] = (struct worker){ { dir, s, PB_BUF_INIT(PAGE_MAX),
					  { 0, 0, 0 }, PB_OK, "" },
					&jobs, 0 };
		/* the first in this thread; more when they can start */
		if (t && pthread_create(&k[t].th, NULL, work, &k[t]) != 0)
			break;
		started++;
	}
	work(&k[0]);
	for (size_t t = 0; t < started; t++) {
		if (t)
			pthread_join(k[t].th, NULL);
		st->pages += k[t].w.st.pages;
		st->written += k[t].w.st.written;
		st->unchanged += k[t].w.st.unchanged;
		if (first == PB_OK && k[t].w.first != PB_OK) {
			first = k[t].w.first;
			pb_strlcpy(msg, k[t].w.msg, sizeof(msg));
		}
	}
	/* the index last, from the one thread: it names what was drawn */
	k[0].w.st = (struct pb_site_stats){ 0, 0, 0 };
	k[0].w.first = PB_OK;
	keep(&k[0].w, one(&k[0].w, K_INDEX, 0));
	st->pages += k[0].w.st.pages;
	st->written += k[0].w.st.written;
	st->unchanged += k[0].w.st.unchanged;
	if (first == PB_OK && k[0].w.first != PB_OK) {
		first = k[0].w.first;
		pb_strlcpy(msg, k[0].w.msg, sizeof(msg));
	}
	for (size_t t = 0; t < started; t++)
		pb_buf_release(&k[t].w.b);
	rc = first == PB_OK ? PB_OK : pb_error_code(first, "%s", msg);
out:
	free(jobs.kind);
	free(jobs.index);
	return rc;
}
