/*
 * identical.h - commits that cannot matter: which commits of a range map,
 * from their work trees, the same code as their parents.
 *
 * The driver hands in, after each run, the files the run mapped from its
 * commit's work tree (agent/runner.h, tree_files).  Each file new to the
 * commit's build is digested once (agent/image.h) and stored with the
 * build (db.h, build_images), so a digest is computed once per build and
 * file however many runs map it, and later bisections of the same
 * benchmark, and a resumed one, find it stored.
 *
 * Commit i is identical to commit i - 1 (the previous commit of the
 * first-parent range, the engine's commit i - 1) when:
 *   - both builds' runs mapped at least one ELF file from their trees,
 *   - neither has a file that could not be read or parsed, nor a run that
 *     mapped more files than were kept, nor one whose process from an
 *     executable outside the tree mapped files from it (an interpreter
 *     loading extensions built there: its scripts are the program too),
 *   - and their ELF files have the same relative paths and the same
 *     digests.
 * Files that are not ELF (data the benchmark mapped) stay out of the
 * claim, as the interpreter of a script run from the tree is not in it: a
 * benchmark that maps no ELF file from its tree (a shell script) makes no
 * claim at all.  Both sides grow with every run, so a claim may be made
 * after a later run, or withdrawn when a later run maps a file the other
 * side never did; the answer is always a function of what is stored.
 */
#ifndef PB_IDENTICAL_H
#define PB_IDENTICAL_H

#include <stddef.h>
#include <stdint.h>

#include "agent/image.h"
#include "common/git.h"
#include "orchestrator/db.h"

struct pb_identical_opts {
	struct pb_db *db;
	int64_t bench_id;
	const char *machine;
	size_t n;                              /* commits, oldest first */
	const int64_t *commit_ids;             /* their rows */
	const struct pb_commit_info *commits;  /* their shas (the mask) */
};

struct pb_identical;

/* Loads what is stored for every commit.  The options' arrays and db are
 * borrowed and must outlive the result. */
int pb_identical_new(struct pb_identical **out,
		     const struct pb_identical_opts *o);
void pb_identical_free(struct pb_identical *x);

/* A run of commit i in work tree `workdir` mapped `files`: digests and
 * stores those commit i's build has no row for.  A file that cannot be
 * digested is stored as such (no claim), not returned as an error; errors
 * are the database's. */
int pb_identical_add(struct pb_identical *x, size_t i, const char *workdir,
		     const struct pb_image_files *files);

/* The same for rows digested elsewhere (an agent digested the files of
 * its build: the run record's "images", "/" standing for an incomplete
 * set): rows of paths commit i's build has none for are copied and
 * stored; the first digest of a path stays. */
int pb_identical_add_rows(struct pb_identical *x, size_t i,
			  const struct pb_image_row *rows, size_t n);

/* Commit i is being built again: its rows go. */
int pb_identical_forget(struct pb_identical *x, size_t i);

/* 1 when commit i (1 .. n-1) is identical to commit i - 1, else 0. */
int pb_identical_is(const struct pb_identical *x, size_t i);
/* Whether this machine has rows for commit i, for commit i - 1: bit 0
 * and bit 1. */
unsigned pb_identical_seen(const struct pb_identical *x, size_t i);

#endif
