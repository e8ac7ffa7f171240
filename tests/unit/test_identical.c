/*
 * test_identical.c - orchestrator/identical.h on a real sqlite database and
 * real work trees: programs compiled with `cc` and copied into one tree
 * per commit, a data file beside them, a file that vanished; which commits
 * are identical to their parents, what is stored, and that a build's file
 * is digested once.  The sets of mapped files are made by hand here
 * (test_image.c reads real processes).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/image.h"
#include "common/err.h"
#include "orchestrator/db.h"
#include "orchestrator/identical.h"
#include "common/util.h"

extern char **environ;

#define N 4

struct fixture {
	char dir[64];
	struct pb_db *db;
	int64_t bench, ids[N];
	struct pb_commit_info ci[N];
	struct pb_identical_opts o;
};

static const char program[] =
	"#include <stdio.h>\n"
	"#ifndef K\n#define K 3\n#endif\n"
	"int main(void) { printf(\"%d\\n\", K); return 0; }\n";

static char *path_of(const struct fixture *f, const char *a, const char *b)
{
	char *d = pb_path_join(f->dir, a), *p = b ? pb_path_join(d, b) : NULL;

	assert_non_null(d);
	if (!b)
		return d;
	free(d);
	assert_non_null(p);
	return p;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void run(const char *const *argv)
{
	pid_t pid;
	int st;

	assert_int_equal(posix_spawnp(&pid, argv[0], NULL, NULL,
				      (char *const *)argv, environ), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Work trees wt0..wt3, each with the program "b" (wt3's prints another
 * constant); the builds "same" and "other" are kept aside to copy. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/pb-test-identical-XXXXXX";
	struct pb_benchmark_def bd = { "bench", "make", "./b", "ops", 0, 60,
				       600 };
	char *db, *src, *same, *other;
	int64_t repo;

	if (!f || !mkdtemp(tmpl))
		return -1;
	pb_strlcpy(f->dir, tmpl, sizeof(f->dir));
	db = path_of(f, "t.db", NULL);
	assert_int_equal(pb_db_open(&f->db, db), 0);
	free(db);
	assert_int_equal(pb_db_repo_ensure(f->db, "/r", "/r", &repo), 0);
	assert_int_equal(pb_db_benchmark_ensure(f->db, repo, &bd, &f->bench),
			 0);
	for (int i = 0; i < N; i++) {
		char name[8];
		char *wt;

		memset(f->ci[i].sha, '0' + i, 40);
		f->ci[i].sha[40] = '\0';
		f->ci[i].subject = (char *)"s";
		f->ci[i].author = (char *)"a";
		f->ci[i].time = i;
		assert_int_equal(pb_db_commit_ensure(f->db, repo, &f->ci[i],
						     &f->ids[i]), 0);
		snprintf(name, sizeof(name), "wt%d", i);
		wt = path_of(f, name, NULL);
		assert_int_equal(mkdir(wt, 0755), 0);
		free(wt);
	}
	src = path_of(f, "p.c", NULL);
	same = path_of(f, "same", NULL);
	other = path_of(f, "other", NULL);
	write_file(src, program, sizeof(program) - 1);
	{
		const char *a[] = { "cc", "-O1", "-o", same, src, NULL };
		const char *b[] = { "cc", "-O1", "-DK=4", "-o", other, src,
				    NULL };

		run(a);
		run(b);
	}
	for (int i = 0; i < N; i++) {
		char name[8];
		char *dst;

		snprintf(name, sizeof(name), "wt%d", i);
		dst = path_of(f, name, "b");
		{
			const char *cp[] = { "cp", i == 3 ? other : same, dst,
					     NULL };

			run(cp);
		}
		free(dst);
	}
	free(src);
	free(same);
	free(other);
	f->o = (struct pb_identical_opts){ f->db, f->bench, "local", N,
					   f->ids, f->ci };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pb_db_close(f->db);
	pb_rm_rf(f->dir);
	free(f);
	return 0;
}

/* A run of commit i that mapped the named files (NULL-terminated);
 * how: 0, TRUNCATED (more than could be kept) or FOREIGN (by a process
 * whose executable is elsewhere, an interpreter). */
enum { TRUNCATED = 1, FOREIGN = 2 };

static void add(struct fixture *f, struct pb_identical *x, size_t i,
		int how, ...)
{
	struct pb_image_files files;
	char name[8];
	char *wt;
	const char *p;
	va_list ap;

	pb_image_files_init(&files);
	va_start(ap, how);
	while ((p = va_arg(ap, const char *)))
		assert_int_equal(pb_image_files_add(&files, p), 0);
	va_end(ap);
	files.truncated = (how & TRUNCATED) != 0;
	if (how & FOREIGN)
		pb_strlcpy(files.foreign, "/usr/bin/python3",
			   sizeof(files.foreign));
	snprintf(name, sizeof(name), "wt%zu", i);
	wt = path_of(f, name, NULL);
	assert_int_equal(pb_identical_add(x, i, wt, &files), 0);
	free(wt);
	pb_image_files_release(&files);
}

static size_t stored(struct fixture *f, size_t i)
{
	struct pb_image_row *rows;
	size_t n;

	assert_int_equal(pb_db_images_load(f->db, f->ids[i], f->bench, "local",
					   &rows, &n), 0);
	pb_image_rows_free(rows, n);
	return n;
}

static void test_identical__same_program_same_paths(void **state)
{
	struct fixture *f = *state;
	struct pb_identical *x = NULL;
	char *data = path_of(f, "wt2", "data.bin");

	assert_int_equal(pb_identical_new(&x, &f->o), 0);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(pb_identical_is(x, i), 0);
	/* a claim needs runs of both */
	add(f, x, 1, 0, "b", NULL);
	assert_int_equal(pb_identical_is(x, 1), 0);
	add(f, x, 0, 0, "b", NULL);
	assert_int_equal(pb_identical_is(x, 0), 0); /* no parent */
	assert_int_equal(pb_identical_is(x, 1), 1);
	/* a data file beside the program is outside the claim */
	write_file(data, "not a program\n", 14);
	add(f, x, 2, 0, "b", "data.bin", NULL);
	assert_int_equal(pb_identical_is(x, 2), 1);
	assert_int_equal(stored(f, 2), 2);
	/* another constant: another program */
	add(f, x, 3, 0, "b", NULL);
	assert_int_equal(pb_identical_is(x, 3), 0);
	/* what is stored makes the same claims after a restart */
	pb_identical_free(x);
	assert_int_equal(pb_identical_new(&x, &f->o), 0);
	assert_int_equal(pb_identical_is(x, 1), 1);
	assert_int_equal(pb_identical_is(x, 2), 1);
	assert_int_equal(pb_identical_is(x, 3), 0);
	pb_identical_free(x);
	free(data);
}

/* A file one side mapped and the other did not, one that vanished, a run
 * that mapped too much: no claim. */
static void test_identical__no_claim(void **state)
{
	struct fixture *f = *state;
	struct pb_identical *x = NULL;
	char *lib = path_of(f, "wt1", "libx.so");
	char *copy = path_of(f, "wt1", "b");

	assert_int_equal(pb_identical_new(&x, &f->o), 0);
	add(f, x, 0, 0, "b", NULL);
	add(f, x, 1, 0, "b", NULL);
	assert_int_equal(pb_identical_is(x, 1), 1);
	/* a later run of 1 maps a library 0 never did (a copy of b) */
	{
		const char *cp[] = { "cp", copy, lib, NULL };

		run(cp);
	}
	add(f, x, 1, 0, "libx.so", NULL);
	assert_int_equal(pb_identical_is(x, 1), 0);
	/* 2 maps a file that is gone by the time it is digested */
	add(f, x, 2, 0, "b", "gone.so", NULL);
	add(f, x, 3, 0, "b", NULL);
	assert_int_equal(pb_identical_is(x, 2), 0);
	assert_int_equal(pb_identical_is(x, 3), 0);
	/* rebuilt: 1's rows go, and it is judged on its new runs */
	assert_int_equal(pb_identical_forget(x, 1), 0);
	assert_int_equal(stored(f, 1), 0);
	add(f, x, 1, 0, "b", NULL);
	assert_int_equal(pb_identical_is(x, 1), 1);
	/* a run that mapped more than could be kept */
	add(f, x, 0, TRUNCATED, "b", NULL);
	assert_int_equal(pb_identical_is(x, 1), 0);
	assert_int_equal(stored(f, 0), 2);
	/* an interpreter that loaded b from the tree: its scripts are the
	 * program too */
	assert_int_equal(pb_identical_forget(x, 0), 0);
	add(f, x, 0, 0, "b", NULL);
	assert_int_equal(pb_identical_is(x, 1), 1);
	add(f, x, 1, FOREIGN, "b", NULL);
	assert_int_equal(pb_identical_is(x, 1), 0);
	assert_int_equal(stored(f, 1), 2);
	pb_identical_free(x);
	free(lib);
	free(copy);
}

/* A build's file is digested once: replaced on disk afterwards (which a
 * build never does), the stored digest still stands. */
static void test_identical__digested_once(void **state)
{
	struct fixture *f = *state;
	struct pb_identical *x = NULL;
	char *b1 = path_of(f, "wt1", "b"), *other = path_of(f, "other", NULL);

	assert_int_equal(pb_identical_new(&x, &f->o), 0);
	add(f, x, 0, 0, "b", NULL);
	add(f, x, 1, 0, "b", NULL);
	assert_int_equal(pb_identical_is(x, 1), 1);
	{
		const char *cp[] = { "cp", other, b1, NULL };

		run(cp);
	}
	add(f, x, 1, 0, "b", NULL);
	assert_int_equal(pb_identical_is(x, 1), 1);
	assert_int_equal(stored(f, 1), 1);
	/* but once forgotten (rebuilt), the new file counts */
	assert_int_equal(pb_identical_forget(x, 1), 0);
	add(f, x, 1, 0, "b", NULL);
	assert_int_equal(pb_identical_is(x, 1), 0);
	assert_true(pb_identical_add(x, N, f->dir, NULL) < 0);
	assert_true(pb_identical_forget(x, N) < 0);
	pb_identical_free(x);
	pb_identical_free(NULL);
	free(b1);
	free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_identical__same_program_same_paths, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_identical__no_claim,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_identical__digested_once,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("identical", tests, NULL, NULL);
}
