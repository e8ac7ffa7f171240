/*
 * test_git.c - revision resolution, first-parent range listing and
 * checkouts, on repositories the tests make with libgit2.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/git.h"
#include "common/util.h"

struct fixture {
	char dir[64];
	char *repo_path;
	struct pb_git *g;
	char line[6][41]; /* main's commits, oldest first */
	char side[41];    /* a commit on a side branch, merged into line[4] */
};

static int commit(struct fixture *f, const char *branch, const char *content,
		  const char *const *parents, size_t np, const char *msg,
		  char out[41])
{
	struct pb_git_file files[2] = {
		{ "file.txt", content, 0 },
		{ "bin/run.sh", "#!/bin/sh\necho ok\n", 1 },
	};

	return pb_git_commit_tree(f->g, branch, files, 2, parents, np, msg,
				  "Tester", "t@example.org", 1700000000, out);
}

/* main: 0 - 1 - 2 - 3 - 4(merge of side) - 5
 * side:         \- s -/        (branched at 2) */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/pb-test-git-XXXXXX";

	if (!f || !mkdtemp(tmpl))
		return -1;
	pb_strlcpy(f->dir, tmpl, sizeof(f->dir));
	f->repo_path = pb_path_join(f->dir, "repo");
	if (pb_git_init_repo(&f->g, f->repo_path) < 0)
		return -1;
	for (int i = 0; i < 6; i++) {
		char content[32], msg[32];
		const char *p[2] = { i ? f->line[i - 1] : NULL, f->side };
		snprintf(content, sizeof(content), "version %d\n", i);
		snprintf(msg, sizeof(msg), "commit %d\n\nbody", i);
		if (i == 3) {
			const char *sp[1] = { f->line[2] };
			if (commit(f, "refs/heads/side", "side\n", sp, 1, "side work",
				   f->side) < 0)
				return -1;
		}
		if (commit(f, "refs/heads/main", content, p,
			   i == 0 ? 0 : i == 4 ? 2 : 1, msg, f->line[i]) < 0)
			return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pb_git_free(f->g);
	pb_rm_rf(f->dir);
	free(f->repo_path);
	free(f);
	return 0;
}

static void test_git__resolve_revisions(void **state)
{
	struct fixture *f = *state;
	struct pb_git *g;
	char sha[41], prefix[9];

	assert_int_equal(pb_git_open(&g, f->repo_path), 0);
	assert_int_equal(pb_git_resolve(g, "main", sha), 0);
	assert_string_equal(sha, f->line[5]);
	assert_int_equal(pb_git_resolve(g, "main~2", sha), 0);
	assert_string_equal(sha, f->line[3]);
	assert_int_equal(pb_git_resolve(g, "main~1^2", sha), 0);
	assert_string_equal(sha, f->side);
	memcpy(prefix, f->line[1], 8);
	prefix[8] = '\0';
	assert_int_equal(pb_git_resolve(g, prefix, sha), 0);
	assert_string_equal(sha, f->line[1]);
	assert_int_equal(pb_git_resolve(g, f->line[0], sha), 0);
	assert_true(pb_is_sha(sha));
	assert_int_equal(pb_git_resolve(g, "no-such-branch", sha), PB_ENOTFOUND);
	assert_int_equal(pb_git_resolve(g, "--upload-pack=x", sha),
			 PB_ENOTFOUND);
	assert_int_equal(pb_git_resolve(g, "", sha), PB_ENOTFOUND);
	assert_int_equal(pb_git_resolve(g, "main:file.txt", sha), PB_ENOTFOUND);
	pb_git_free(g);
}

static void test_git__open_not_a_repo(void **state)
{
	struct fixture *f = *state;
	struct pb_git *g = NULL;

	assert_int_equal(pb_git_open(&g, f->dir), PB_ENOTFOUND);
	assert_null(g);
	assert_int_equal(pb_git_open(&g, "/nonexistent/x"), PB_ENOTFOUND);
}

static void test_git__first_parent_range(void **state)
{
	struct fixture *f = *state;
	struct pb_commit_info *list;
	size_t n;

	assert_int_equal(pb_git_first_parent_range(f->g, f->line[1], f->line[5],
						   &list, &n),
			 0);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(list[i].sha, f->line[i + 1]);
	assert_string_equal(list[0].subject, "commit 1");
	assert_string_equal(list[0].author, "Tester <t@example.org>");
	assert_int_equal(list[0].time, 1700000000);
	pb_commit_list_free(list, n);
}

/* good on a merged side branch (a release tag, say) is an ancestor of bad
 * off its first-parent line: the range is the first-parent commits side
 * cannot reach, as `git bisect --first-parent` takes it - 3, the merge 4
 * and 5, after side's fork point 2. */
static void test_git__range_from_a_merged_side_branch(void **state)
{
	struct fixture *f = *state;
	struct pb_commit_info *list;
	size_t n;

	assert_int_equal(pb_git_first_parent_range(f->g, f->side, f->line[5],
						   &list, &n),
			 0);
	assert_int_equal(n, 4);
	assert_string_equal(list[0].sha, f->side);
	assert_string_equal(list[0].subject, "side work");
	for (size_t i = 1; i < n; i++)
		assert_string_equal(list[i].sha, f->line[i + 2]);
	pb_commit_list_free(list, n);
	/* up to the merge itself */
	assert_int_equal(pb_git_first_parent_range(f->g, f->side, f->line[4],
						   &list, &n),
			 0);
	assert_int_equal(n, 3);
	assert_string_equal(list[2].sha, f->line[4]);
	pb_commit_list_free(list, n);
}

static void test_git__range_rejects_non_ancestor_and_reverse(void **state)
{
	struct fixture *f = *state;
	struct pb_commit_info *list = NULL;
	size_t n = 0;
	char other[41];
	const char *p[1] = { f->line[1] };

	/* a branch never merged into main is not an ancestor of it */
	assert_int_equal(commit(f, "refs/heads/other", "other\n", p, 1,
				"unmerged", other),
			 0);
	assert_int_equal(pb_git_first_parent_range(f->g, other, f->line[5],
						   &list, &n),
			 PB_ERANGE);
	assert_null(list);
	assert_non_null(strstr(pb_error_last(), "not an ancestor"));
	assert_int_equal(pb_git_first_parent_range(f->g, f->line[4], f->line[2],
						   &list, &n),
			 PB_ERANGE);
	assert_int_equal(pb_git_first_parent_range(f->g, f->side, f->line[3],
						   &list, &n),
			 PB_ERANGE);
	assert_int_equal(pb_git_first_parent_range(f->g, f->line[2], f->line[2],
						   &list, &n),
			 PB_ERANGE);
	assert_non_null(strstr(pb_error_last(), "same commit"));
}

static void test_git__checkout_into_own_dir(void **state)
{
	struct fixture *f = *state;
	char *dir = pb_path_join(f->dir, "wt"), *file, buf[64] = "";
	struct stat st;
	FILE *fp;

	assert_int_equal(pb_git_checkout(f->g, f->line[2], dir), 0);
	file = pb_path_join(dir, "file.txt");
	fp = fopen(file, "r");
	assert_non_null(fp);
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, "version 2\n");
	free(file);
	file = pb_path_join(dir, "bin/run.sh");
	assert_int_equal(stat(file, &st), 0);
	assert_true(st.st_mode & S_IXUSR);
	free(file);
	/* the repository's own work tree was not written */
	file = pb_path_join(f->repo_path, "file.txt");
	assert_int_equal(access(file, F_OK), -1);
	free(file);
	/* an existing directory is refused, not overwritten */
	assert_int_not_equal(pb_git_checkout(f->g, f->line[3], dir), 0);
	free(dir);
}

/* A merge commit's sides: each parent after the first, with where it
 * forked from the first (line[4] merged side, forked at line[2]). */
static void test_git__merge_sides(void **state)
{
	struct fixture *f = *state;
	struct pb_merge_side m[4];
	size_t n = 9;

	assert_int_equal(pb_git_merge_sides(f->g, f->line[4], m, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].parent, f->side);
	assert_string_equal(m[0].base, f->line[2]);
	/* not a merge */
	assert_int_equal(pb_git_merge_sides(f->g, f->line[3], m, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pb_git_merge_sides(f->g, f->line[0], m, 4, &n), 0);
	assert_int_equal(n, 0);
	/* a non-bare repository has a work tree */
	assert_non_null(pb_git_workdir(f->g));
	assert_non_null(strstr(pb_git_workdir(f->g), "/repo/"));
}

/* The demo's repository: HEAD names the branch that holds the commits,
 * and its files are in the work tree, as after `git clone`. */
static void test_git__checkout_branch_points_head_at_it(void **state)
{
	struct fixture *f = *state;
	char *head = pb_path_join(f->repo_path, ".git/HEAD");
	char *file = pb_path_join(f->repo_path, "file.txt");
	char buf[64] = "";
	FILE *fp;

	assert_int_equal(pb_git_checkout_branch(f->g, "refs/heads/main"), 0);
	fp = fopen(head, "r");
	assert_non_null(fp);
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, "ref: refs/heads/main\n");
	fp = fopen(file, "r");
	assert_non_null(fp);
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, "version 5\n");
	/* a branch that does not exist is refused */
	assert_int_not_equal(pb_git_checkout_branch(f->g, "refs/heads/nope"),
			     0);
	free(head);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_git__resolve_revisions),
		cmocka_unit_test(test_git__open_not_a_repo),
		cmocka_unit_test(test_git__first_parent_range),
		cmocka_unit_test(test_git__range_from_a_merged_side_branch),
		cmocka_unit_test(test_git__range_rejects_non_ancestor_and_reverse),
		cmocka_unit_test(test_git__checkout_into_own_dir),
		cmocka_unit_test(test_git__merge_sides),
		cmocka_unit_test(test_git__checkout_branch_points_head_at_it),
	};
	int rc;

	pb_git_global_init();
	rc = cmocka_run_group_tests_name("git", tests, setup, teardown);
	pb_git_global_shutdown();
	return rc;
}
