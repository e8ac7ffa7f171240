/*
 * git.h - what perfbisect needs of git, through libgit2: resolve revisions,
 * list the first-parent line good..bad, read commit facts, check a commit
 * out into a directory of its own, and (for the demo and the tests) write
 * commits.  The user's repository is only read: checkouts go to separate
 * directories and never touch its index, HEAD or work tree.
 *
 * pb_git_global_init() / pb_git_global_shutdown() bracket all use (libgit2's
 * own init, reference counted).
 */
#ifndef PB_GIT_H
#define PB_GIT_H

#include <stddef.h>
#include <stdint.h>

struct pb_git;

struct pb_commit_info {
	char sha[41];
	char *subject;  /* first line of the message, malloc'd */
	char *author;   /* "Name <email>", malloc'd */
	int64_t time;   /* committer time, seconds since the epoch */
};

int pb_git_global_init(void);
void pb_git_global_shutdown(void);

/* Opens the repository at `path` (a work tree or a bare repository; no
 * search upwards).  PB_ENOTFOUND when it is not one. */
int pb_git_open(struct pb_git **out, const char *path);
void pb_git_free(struct pb_git *g);

/* A bare mirror of `url` in `dir`: pb_git_clone_bare() when dir does not
 * exist, else pb_git_fetch() into it; revisions then resolve as they do
 * in the remote.  Opened into *out. */
int pb_git_mirror(struct pb_git **out, const char *url, const char *dir);

/* Resolves any revision git understands (sha, prefix, branch, tag, HEAD~2)
 * to the sha of a commit.  PB_ENOTFOUND for an unknown revision or one that
 * is not a commit. */
int pb_git_resolve(struct pb_git *g, const char *rev, char out[41]);

/* Lists good, then bad's first-parent commits that good cannot reach (as
 * `git bisect --first-parent` takes them), oldest first: (*out)[0] is
 * good, (*out)[*n - 1] is bad.  Good may sit off that line, as a release
 * tag on a merged branch does: the range then starts after the commit its
 * branch forked from.  PB_ERANGE when good is not an ancestor of bad (or
 * good == bad).  Free the list with pb_commit_list_free(). */
int pb_git_first_parent_range(struct pb_git *g, const char *good_sha,
			      const char *bad_sha, struct pb_commit_info **out,
			      size_t *n);
void pb_commit_list_free(struct pb_commit_info *list, size_t n);
/* One commit's facts (sha a full sha); strings freed by
 * pb_commit_info_release().  PB_ENOTFOUND when it has no such commit. */
int pb_git_commit_info(struct pb_git *g, const char *sha,
		       struct pb_commit_info *out);
void pb_commit_info_release(struct pb_commit_info *ci);
/* The paths commit sha changed against its first parent (all of its tree
 * for a root commit), one a line, the first `max` of them in *out
 * (malloc'd); *total counts them all. */
int pb_git_changed_files(struct pb_git *g, const char *sha, size_t max,
			 char **out, size_t *total);

/* The first-parent line that ends at head_sha, oldest first, at most
 * `max` commits (the newest of it): *out is a malloc'd array of *nout
 * shas, head_sha last.  PB_ENOTFOUND for a commit g lacks. */
int pb_git_first_parent_line(struct pb_git *g, const char *head_sha,
			     size_t max, char (**out)[41], size_t *nout);

/* The repository's work tree (ends in '/'), or NULL for a bare one. */
const char *pb_git_workdir(struct pb_git *g);

/* One side a merge commit brought in: a parent after the first, and where
 * it forked from the first parent (their merge base, "" when the two
 * histories share none). */
struct pb_merge_side {
	char parent[41];
	char base[41];
};

/* The sides merge commit `sha` brought in, up to `max`: *n = 0 for a
 * commit with one parent or none. */
int pb_git_merge_sides(struct pb_git *g, const char *sha,
		       struct pb_merge_side *out, size_t max, size_t *n);

/* Writes the tree of commit `sha` into directory `dir`, which must not exist
 * yet (it is created).  Files get their modes from git. */
int pb_git_checkout(struct pb_git *g, const char *sha, const char *dir);

/* For the agent: a bare copy at `dir` of the branches and tags of the
 * repository at `url` (a path, a file:// URL or anything else libgit2 can
 * fetch without credentials: https://, git://), made in DIR.tmp-PID and
 * renamed to dir when whole, so a copy cut short is never taken for a
 * repository.  dir must not exist.  Opens it into *out. */
int pb_git_clone_bare(struct pb_git **out, const char *url, const char *dir);

/* Fetches the branches and tags of `url` into g (a bare copy made by
 * pb_git_clone_bare()), forced: a rewritten branch is taken as it is now.
 * Commits fetched before stay. */
int pb_git_fetch(struct pb_git *g, const char *url);

/* 1 when g holds commit sha (40 hex), 0 when not. */
int pb_git_has_commit(struct pb_git *g, const char *sha);

/* For the demo and tests: makes a new non-bare repository at `path`. */
int pb_git_init_repo(struct pb_git **out, const char *path);

/* For repositories perfbisect made (the demo): points HEAD at `branch`
 * ("refs/heads/main"), which must exist, and writes its tree to the work
 * tree and the index, so the repository looks as `git clone` leaves one.
 * Never used on a user's repository. */
int pb_git_checkout_branch(struct pb_git *g, const char *branch);

struct pb_git_file {
	const char *path;     /* in the tree, e.g. "src/bench.c" (one level of
			       * directories at most) */
	const char *content;  /* NUL-terminated */
	int executable;
};

/* Commits `files` (the whole tree: files not listed are absent) on top of
 * the `nparents` parents given by sha (0 for a root commit) and moves the
 * branch `branch` (e.g. "refs/heads/main") to it; out receives its sha. */
int pb_git_commit_tree(struct pb_git *g, const char *branch,
		       const struct pb_git_file *files, size_t nfiles,
		       const char *const *parents, size_t nparents,
		       const char *message, const char *author_name,
		       const char *author_email, int64_t when, char out[41]);

#endif
