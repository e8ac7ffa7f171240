/*
 * git.c - libgit2 walks, checkouts and commits (see git.h).
 *
 * Checkouts use git_checkout_tree() with a target directory, so the
 * repository's own work tree, index and HEAD are never written.  Commits are
 * built in an in-memory index, which handles nested paths for us.
 */
#include <errno.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "git.h"
#include "util.h"

struct pb_git {
	git_repository *repo;
};

static int git_fail(int code, const char *what)
{
	const git_error *e = git_error_last();

	return pb_error_code(code, "%s: %s", what,
			     e && e->message ? e->message : "libgit2 error");
}

int pb_git_global_init(void)
{
	if (git_libgit2_init() < 0)
		return git_fail(PB_ERROR, "cannot initialise libgit2");
	return PB_OK;
}

void pb_git_global_shutdown(void)
{
	git_libgit2_shutdown();
}

int pb_git_open(struct pb_git **out, const char *path)
{
	struct pb_git *g = calloc(1, sizeof(*g));

	*out = NULL;
	if (!g)
		return pb_error_set("out of memory");
	if (git_repository_open_ext(&g->repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH,
				    NULL) < 0) {
		free(g);
		return pb_error_code(PB_ENOTFOUND, "'%s' is not a git repository",
				     path);
	}
	*out = g;
	return PB_OK;
}

void pb_git_free(struct pb_git *g)
{
	if (!g)
		return;
	git_repository_free(g->repo);
	free(g);
}

int pb_git_mirror(struct pb_git **out, const char *url, const char *dir)
{
	struct stat st;
	int rc;

	*out = NULL;
	if (stat(dir, &st) != 0)
		return pb_git_clone_bare(out, url, dir);
	if ((rc = pb_git_open(out, dir)) < 0)
		return rc;
	if ((rc = pb_git_fetch(*out, url)) < 0) {
		pb_git_free(*out);
		*out = NULL;
	}
	return rc;
}

int pb_git_resolve(struct pb_git *g, const char *rev, char out[41])
{
	git_object *obj = NULL, *peeled = NULL;
	int rc = PB_OK;

	if (!rev || !*rev || rev[0] == '-')
		return pb_error_code(PB_ENOTFOUND, "unknown revision '%s'",
				     rev ? rev : "");
	if (git_revparse_single(&obj, g->repo, rev) < 0) {
		rc = pb_error_code(PB_ENOTFOUND, "unknown revision '%s'", rev);
		goto done;
	}
	if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
		rc = pb_error_code(PB_ENOTFOUND, "revision '%s' is not a commit",
				   rev);
		goto done;
	}
	git_oid_tostr(out, 41, git_object_id(peeled));
done:
	git_object_free(peeled);
	git_object_free(obj);
	return rc;
}

static int fill_info(struct pb_commit_info *ci, const git_commit *c)
{
	const git_signature *a = git_commit_author(c);
	const char *summary = git_commit_summary((git_commit *)c);
	size_t len;

	git_oid_tostr(ci->sha, sizeof(ci->sha), git_commit_id(c));
	ci->time = (int64_t)git_commit_time(c);
	ci->subject = pb_strdup(summary ? summary : "");
	len = strlen(a->name) + strlen(a->email) + 4;
	ci->author = malloc(len);
	if (!ci->subject || !ci->author)
		return pb_error_set("out of memory");
	snprintf(ci->author, len, "%s <%s>", a->name, a->email);
	return PB_OK;
}

int pb_git_commit_info(struct pb_git *g, const char *sha,
		       struct pb_commit_info *out)
{
	git_commit *c = NULL;
	git_oid id;
	int rc;

	memset(out, 0, sizeof(*out));
	if (git_oid_fromstr(&id, sha) < 0 ||
	    git_commit_lookup(&c, g->repo, &id) < 0)
		return pb_error_code(PB_ENOTFOUND, "no commit %.40s", sha);
	rc = fill_info(out, c);
	git_commit_free(c);
	if (rc < 0)
		pb_commit_info_release(out);
	return rc;
}

void pb_commit_info_release(struct pb_commit_info *ci)
{
	free(ci->subject);
	free(ci->author);
	ci->subject = ci->author = NULL;
}

void pb_commit_list_free(struct pb_commit_info *list, size_t n)
{
	if (!list)
		return;
	for (size_t i = 0; i < n; i++) {
		free(list[i].subject);
		free(list[i].author);
	}
	free(list);
}

static int oid_cmp(const void *a, const void *b)
{
	return git_oid_cmp(a, b);
}

/* Every commit bad reaches and good does not (git rev-list bad ^good), in
 * a sorted array for bsearch. */
static int unreachable_from_good(struct pb_git *g, const git_oid *good,
				 const git_oid *bad, git_oid **out, size_t *n)
{
	git_revwalk *w = NULL;
	git_oid id, *set = NULL;
	size_t k = 0, alloc = 0;
	int rc = PB_OK, s;

	*out = NULL;
	*n = 0;
	if (git_revwalk_new(&w, g->repo) < 0 || git_revwalk_push(w, bad) < 0 ||
	    git_revwalk_hide(w, good) < 0) {
		rc = git_fail(PB_ERROR, "cannot walk the history");
		goto done;
	}
	while ((s = git_revwalk_next(&id, w)) == 0) {
		if (k == alloc) {
			size_t na = alloc ? alloc * 2 : 256;
			git_oid *ns = realloc(set, na * sizeof(*ns));

			if (!ns) {
				rc = pb_error_set("out of memory");
				goto done;
			}
			set = ns;
			alloc = na;
		}
		set[k++] = id;
	}
	if (s != GIT_ITEROVER) {
		rc = git_fail(PB_ERROR, "cannot walk the history");
		goto done;
	}
	qsort(set, k, sizeof(*set), oid_cmp);
	*out = set;
	*n = k;
	set = NULL;
done:
	free(set);
	git_revwalk_free(w);
	return rc;
}

/* Appends the facts of commit `id` to the list. */
static int list_add(struct pb_git *g, const git_oid *id,
		    struct pb_commit_info **list, size_t *n, size_t *alloc)
{
	git_commit *c = NULL;
	int rc;

	if (*n == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 64;
		struct pb_commit_info *nl = realloc(*list, na * sizeof(*nl));

		if (!nl)
			return pb_error_set("out of memory");
		memset(nl + *alloc, 0, (na - *alloc) * sizeof(*nl));
		*list = nl;
		*alloc = na;
	}
	if (git_commit_lookup(&c, g->repo, id) < 0)
		return git_fail(PB_ERROR, "cannot read commit");
	rc = fill_info(&(*list)[(*n)++], c) < 0 ? PB_ERROR : PB_OK;
	git_commit_free(c);
	return rc;
}

int pb_git_first_parent_range(struct pb_git *g, const char *good_sha,
			      const char *bad_sha, struct pb_commit_info **out,
			      size_t *nout)
{
	git_oid good, bad, cur, *set = NULL;
	git_commit *c = NULL;
	struct pb_commit_info *list = NULL;
	size_t n = 0, alloc = 0, nset = 0;
	int rc = PB_OK, desc;

	*out = NULL;
	*nout = 0;
	if (git_oid_fromstr(&good, good_sha) < 0 ||
	    git_oid_fromstr(&bad, bad_sha) < 0)
		return pb_error_code(PB_EINVAL, "not a sha");
	if (git_oid_equal(&good, &bad))
		return pb_error_code(PB_ERANGE,
				     "good and bad are the same commit %.12s",
				     good_sha);
	desc = git_graph_descendant_of(g->repo, &bad, &good);
	if (desc < 0)
		return git_fail(PB_ERROR, "cannot read the history");
	if (!desc)
		return pb_error_code(PB_ERANGE,
				     "good %.12s is not an ancestor of bad %.12s",
				     good_sha, bad_sha);
	/* The range is bad's first-parent line back to the first commit good
	 * reaches (as `git bisect --first-parent` takes it): good itself when
	 * it is on that line, else where its branch forked (a release tag on
	 * a merged branch).  Collect newest first. */
	if ((rc = unreachable_from_good(g, &good, &bad, &set, &nset)) < 0)
		goto done;
	cur = bad;
	while (bsearch(&cur, set, nset, sizeof(*set), oid_cmp)) {
		if ((rc = list_add(g, &cur, &list, &n, &alloc)) < 0)
			goto done;
		if (git_commit_lookup(&c, g->repo, &cur) < 0) {
			rc = git_fail(PB_ERROR, "cannot read commit");
			goto done;
		}
		if (git_commit_parentcount(c) == 0)
			break;
		cur = *git_commit_parent_id(c, 0);
		git_commit_free(c);
		c = NULL;
	}
	if ((rc = list_add(g, &good, &list, &n, &alloc)) < 0)
		goto done;
	for (size_t i = 0; i < n / 2; i++) {
		struct pb_commit_info t = list[i];
		list[i] = list[n - 1 - i];
		list[n - 1 - i] = t;
	}
	*out = list;
	*nout = n;
	list = NULL;
done:
	git_commit_free(c);
	free(set);
	if (list)
		pb_commit_list_free(list, n);
	return rc;
}

int pb_git_first_parent_line(struct pb_git *g, const char *head_sha,
			     size_t max, char (**out)[41], size_t *nout)
{
	git_oid cur;
	git_commit *c = NULL;
	char (*list)[41] = NULL;
	size_t n = 0;
	int rc = PB_OK;

	*out = NULL;
	*nout = 0;
	if (max == 0 || git_oid_fromstr(&cur, head_sha) < 0)
		return pb_error_code(PB_EINVAL, "not a sha");
	if (!(list = malloc(max * sizeof(*list))))
		return pb_error_code(PB_ERROR, "out of memory");
	while (n < max) {
		git_oid_tostr(list[n++], sizeof(list[0]), &cur);
		if (git_commit_lookup(&c, g->repo, &cur) < 0) {
			rc = git_fail(PB_ENOTFOUND, "cannot read commit");
			goto done;
		}
		if (git_commit_parentcount(c) == 0)
			break;
		cur = *git_commit_parent_id(c, 0);
		git_commit_free(c);
		c = NULL;
	}
	for (size_t i = 0; i < n / 2; i++) {
		char t[41];

		memcpy(t, list[i], sizeof(t));
		memcpy(list[i], list[n - 1 - i], sizeof(t));
		memcpy(list[n - 1 - i], t, sizeof(t));
	}
	*out = list;
	*nout = n;
	list = NULL;
done:
	git_commit_free(c);
	free(list);
	return rc;
}

const char *pb_git_workdir(struct pb_git *g)
{
	return git_repository_workdir(g->repo);
}

int pb_git_merge_sides(struct pb_git *g, const char *sha,
		       struct pb_merge_side *out, size_t max, size_t *n)
{
	git_commit *c = NULL;
	git_oid id, base;
	int rc = PB_OK;

	*n = 0;
	if (git_oid_fromstr(&id, sha) < 0)
		return pb_error_code(PB_EINVAL, "'%s' is not a sha", sha);
	if (git_commit_lookup(&c, g->repo, &id) < 0)
		return git_fail(PB_ENOTFOUND, "cannot read commit");
	for (unsigned k = 1; k < git_commit_parentcount(c) && *n < max; k++) {
		const git_oid *first = git_commit_parent_id(c, 0);
		const git_oid *side = git_commit_parent_id(c, k);
		struct pb_merge_side *m = &out[(*n)++];
		int b = git_merge_base(&base, g->repo, first, side);

		git_oid_tostr(m->parent, sizeof(m->parent), side);
		if (b == 0) {
			git_oid_tostr(m->base, sizeof(m->base), &base);
		} else if (b == GIT_ENOTFOUND) {
			m->base[0] = '\0';
		} else {
			rc = git_fail(PB_ERROR, "cannot find a merge base");
			break;
		}
	}
	git_commit_free(c);
	return rc;
}

int pb_git_clone_bare(struct pb_git **out, const char *url, const char *dir)
{
	struct pb_git *g;
	char *tmp;
	size_t len = strlen(dir) + 32;
	int rc;

	*out = NULL;
	if (!(g = calloc(1, sizeof(*g))) || !(tmp = malloc(len))) {
		free(g);
		return pb_error_set("out of memory");
	}
	snprintf(tmp, len, "%s.tmp-%ld", dir, (long)getpid());
	if ((rc = pb_rm_rf(tmp)) < 0)
		goto fail;
	/* an empty bare repository and a fetch (pb_git_fetch()), not
	 * git_clone(), whose remote leaks under libgit2 1.5 (see there) */
	if (git_repository_init(&g->repo, tmp, 1) < 0) {
		rc = git_fail(PB_EINFRA, "cannot make a repository");
		goto fail;
	}
	if ((rc = pb_git_fetch(g, url)) < 0)
		goto fail;
	git_repository_free(g->repo);
	g->repo = NULL;
	if (rename(tmp, dir) < 0) {
		rc = pb_error_code(PB_EINFRA, "cannot rename '%s': %s", tmp,
				   strerror(errno));
		goto fail;
	}
	free(tmp);
	free(g);
	return pb_git_open(out, dir);
fail:
	git_repository_free(g->repo);
	(void)pb_rm_rf(tmp);
	free(tmp);
	free(g);
	return rc;
}

int pb_git_fetch(struct pb_git *g, const char *url)
{
	static char *specs[] = { "+refs/heads/*:refs/heads/*",
				 "+refs/tags/*:refs/tags/*" };
	git_strarray refspecs = { specs, 2 };
	git_fetch_options opts;
	git_remote *remote = NULL;
	int rc = PB_OK;

	git_remote_create_options ro;

	git_fetch_options_init(&opts, GIT_FETCH_OPTIONS_VERSION);
	opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE; /* by refspec */
	git_remote_create_options_init(&ro, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	ro.repository = g->repo;
	/* anonymous, no url.*.insteadOf: libgit2 1.5 matches every config
	 * key against a pcre2 pattern for it and leaks the match data of
	 * each miss (libgit2 PR 6382), which `make check`'s sanitizers
	 * report; the URL is the server's, taken as given */
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF |
		   GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(&remote, url, &ro) < 0)
		return git_fail(PB_EINFRA, "cannot fetch the repository");
	if (git_remote_fetch(remote, &refspecs, &opts, NULL) < 0)
		rc = git_fail(PB_EINFRA, "cannot fetch the repository");
	git_remote_free(remote);
	return rc;
}

int pb_git_has_commit(struct pb_git *g, const char *sha)
{
	git_commit *c = NULL;
	git_oid oid;

	if (!pb_is_sha(sha) || git_oid_fromstr(&oid, sha) < 0)
		return 0;
	if (git_commit_lookup(&c, g->repo, &oid) < 0)
		return 0;
	git_commit_free(c);
	return 1;
}

int pb_git_checkout(struct pb_git *g, const char *sha, const char *dir)
{
	git_checkout_options opts;
	git_object *obj = NULL;
	git_oid oid;
	int rc = PB_OK;

	if (git_oid_fromstr(&oid, sha) < 0)
		return pb_error_code(PB_EINVAL, "'%s' is not a sha", sha);
	if (mkdir(dir, 0755) < 0)
		return pb_error_code(PB_EINFRA, "cannot create '%s': %s", dir,
				     strerror(errno));
	if (git_object_lookup(&obj, g->repo, &oid, GIT_OBJECT_COMMIT) < 0) {
		rc = git_fail(PB_ENOTFOUND, "cannot read commit");
		goto done;
	}
	git_checkout_options_init(&opts, GIT_CHECKOUT_OPTIONS_VERSION);
	opts.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_RECREATE_MISSING |
				 GIT_CHECKOUT_DONT_UPDATE_INDEX |
				 GIT_CHECKOUT_DONT_WRITE_INDEX;
	opts.target_directory = dir;
	if (git_checkout_tree(g->repo, obj, &opts) < 0)
		rc = git_fail(PB_EINFRA, "cannot check out");
done:
	git_object_free(obj);
	return rc;
}

int pb_git_init_repo(struct pb_git **out, const char *path)
{
	struct pb_git *g = calloc(1, sizeof(*g));

	*out = NULL;
	if (!g)
		return pb_error_set("out of memory");
	if (git_repository_init(&g->repo, path, 0) < 0) {
		free(g);
		return git_fail(PB_EINFRA, "cannot create repository");
	}
	*out = g;
	return PB_OK;
}

int pb_git_checkout_branch(struct pb_git *g, const char *branch)
{
	git_checkout_options opts;

	if (git_repository_set_head(g->repo, branch) < 0)
		return git_fail(PB_ERROR, "cannot point HEAD at the branch");
	git_checkout_options_init(&opts, GIT_CHECKOUT_OPTIONS_VERSION);
	opts.checkout_strategy = GIT_CHECKOUT_FORCE;
	if (git_checkout_head(g->repo, &opts) < 0)
		return git_fail(PB_EINFRA, "cannot check out the branch");
	return PB_OK;
}

int pb_git_commit_tree(struct pb_git *g, const char *branch,
		       const struct pb_git_file *files, size_t nfiles,
		       const char *const *parents, size_t nparents,
		       const char *message, const char *author_name,
		       const char *author_email, int64_t when, char out[41])
{
	git_index *idx = NULL;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	const git_commit *pc[8] = { 0 };
	git_oid tree_id, commit_id;
	int rc = PB_OK;

	if (nparents > PB_ARRAY_SIZE(pc))
		return pb_error_code(PB_EINVAL, "too many parents");
	if (git_index_new(&idx) < 0) {
		rc = git_fail(PB_ERROR, "cannot create an index");
		goto done;
	}
	for (size_t i = 0; i < nfiles; i++) {
		git_index_entry e;

		memset(&e, 0, sizeof(e));
		e.path = files[i].path;
		e.mode = files[i].executable ? GIT_FILEMODE_BLOB_EXECUTABLE
					     : GIT_FILEMODE_BLOB;
		if (git_blob_create_from_buffer(&e.id, g->repo, files[i].content,
						strlen(files[i].content)) < 0 ||
		    git_index_add(idx, &e) < 0) {
			rc = git_fail(PB_ERROR, "cannot add a file");
			goto done;
		}
	}
	if (git_index_write_tree_to(&tree_id, idx, g->repo) < 0 ||
	    git_tree_lookup(&tree, g->repo, &tree_id) < 0) {
		rc = git_fail(PB_ERROR, "cannot write a tree");
		goto done;
	}
	for (size_t i = 0; i < nparents; i++) {
		git_oid p;
		if (git_oid_fromstr(&p, parents[i]) < 0 ||
		    git_commit_lookup((git_commit **)&pc[i], g->repo, &p) < 0) {
			rc = git_fail(PB_ENOTFOUND, "cannot read a parent");
			goto done;
		}
	}
	if (git_signature_new(&sig, author_name, author_email, (git_time_t)when,
			      0) < 0) {
		rc = git_fail(PB_EINVAL, "bad signature");
		goto done;
	}
	if (git_commit_create(&commit_id, g->repo, NULL, sig, sig, NULL, message,
			      tree, nparents, pc) < 0) {
		rc = git_fail(PB_ERROR, "cannot create a commit");
		goto done;
	}
	{
		git_reference *ref = NULL;
		if (git_reference_create(&ref, g->repo, branch, &commit_id, 1,
					 "perfbisect") < 0) {
			rc = git_fail(PB_ERROR, "cannot move the branch");
			goto done;
		}
		git_reference_free(ref);
	}
	git_oid_tostr(out, 41, &commit_id);
done:
	for (size_t i = 0; i < nparents; i++)
		git_commit_free((git_commit *)pc[i]);
	git_signature_free(sig);
	git_tree_free(tree);
	git_index_free(idx);
	return rc;
}

/* Collects the paths of a diff's deltas into a buffer, one a line. */
struct files_ctx {
	struct pb_buf *b;
	size_t n, max;
};

static int file_cb(const git_diff_delta *d, float progress, void *payload)
{
	struct files_ctx *f = payload;
	const char *path = d->new_file.path ? d->new_file.path
					    : d->old_file.path;

	(void)progress;
	if (f->n++ >= f->max)
		return 0;
	if (pb_buf_puts(f->b, path ? path : "?") < 0 ||
	    pb_buf_puts(f->b, "\n") < 0)
		return -1;
	return 0;
}

int pb_git_changed_files(struct pb_git *g, const char *sha, size_t max,
			 char **out, size_t *total)
{
	git_commit *c = NULL, *parent = NULL;
	git_tree *t = NULL, *pt = NULL;
	git_diff *diff = NULL;
	git_oid id;
	struct pb_buf b = PB_BUF_INIT(1024 * 1024);
	struct files_ctx f = { &b, 0, max };
	int rc = PB_OK;

	*out = NULL;
	*total = 0;
	if (git_oid_fromstr(&id, sha) < 0 ||
	    git_commit_lookup(&c, g->repo, &id) < 0)
		return pb_error_code(PB_ENOTFOUND, "no commit %.40s", sha);
	if (git_commit_tree(&t, c) < 0 ||
	    (git_commit_parentcount(c) > 0 &&
	     (git_commit_parent(&parent, c, 0) < 0 ||
	      git_commit_tree(&pt, parent) < 0)) ||
	    git_diff_tree_to_tree(&diff, g->repo, pt, t, NULL) < 0 ||
	    git_diff_foreach(diff, file_cb, NULL, NULL, NULL, &f) < 0) {
		rc = git_fail(PB_EINFRA, "cannot list the files a commit "
			      "changed");
		goto out;
	}
	*total = f.n;
	if (!(*out = pb_strdup(b.len ? b.ptr : ""))) {
		rc = pb_error_code(PB_EINFRA, "out of memory");
		goto out;
	}
out:
	pb_buf_release(&b);
	git_diff_free(diff);
	git_tree_free(t);
	git_tree_free(pt);
	git_commit_free(parent);
	git_commit_free(c);
	return rc;
}
