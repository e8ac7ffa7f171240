/*
 * image.h - what a run loaded from its commit's work tree, and a digest of
 * it that two builds of the same program share: the evidence behind a
 * step's "identical_to" (a commit whose code cannot matter).
 *
 * Two parts, each usable alone:
 *
 *   Mapped files.  While a run goes on, pb_image_files_scan() reads
 *   /proc/PID/maps of every process of the run (the same processes the
 *   NUMA sampling reads, numa.h) and keeps each file-backed mapping whose
 *   path lies under a root directory - the commit's work tree - as a path
 *   relative to it: the benchmark's executable and the shared objects built
 *   there, and any other file it mapped from there.  Reading maps does not
 *   walk page tables (numa_maps does): it costs a few microseconds per
 *   process.
 *
 *   Loadable digest.  pb_image_digest() hashes (SHA-256, libcrypto) what
 *   the loader maps of an ELF file, and nothing that differs between two
 *   builds of the same sources at two places: see image.c for exactly what
 *   is and is not hashed.  32- and 64-bit files of either byte order are
 *   read with glibc's <elf.h> types.  A file that is not ELF gets no digest
 *   (out->elf = 0); one that cannot be read, or claims more than it holds
 *   (truncated, offsets past its end), is an error with a message, never a
 *   crash.
 *
 * Nothing here keeps global state.
 */
#ifndef PB_IMAGE_H
#define PB_IMAGE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Distinct files kept per set; a run that maps more from its work tree
 * leaves the set `truncated` (and its commit without a claim). */
#define PB_IMAGE_MAX_FILES 256

/* "elf1:" and 64 hex digits; the prefix names the rule of image.c, so a
 * digest stored by a build with another rule never equals a new one. */
#define PB_IMAGE_DIGEST_PREFIX "elf1:"
#define PB_IMAGE_DIGEST_SIZE 72

/* A set of paths relative to a root, sorted (strcmp), without repeats. */
struct pb_image_files {
	char **path;          /* malloc'd, as is each path */
	size_t n, alloc;
	int truncated;        /* files were left out: more than
				 PB_IMAGE_MAX_FILES, or a path too long */
	char foreign[256];    /* the first executable from outside the root
				 whose process mapped files from under it
				 (an interpreter loading extensions built
				 there: the program is more than those
				 files); "" none */
};

void pb_image_files_init(struct pb_image_files *f);
/* Frees every path; f is empty (and usable) afterwards.  Accepts NULL. */
void pb_image_files_release(struct pb_image_files *f);

/* Adds a copy of rel (a no-op when it is there already); past
 * PB_IMAGE_MAX_FILES it sets `truncated` instead.  PB_ERROR on no memory. */
int pb_image_files_add(struct pb_image_files *f, const char *rel);

/* Adds every file-backed mapping of one process's maps stream (a
 * /proc/PID/maps, or a saved copy) whose path lies under root: an absolute
 * path without a trailing '/', as the kernel prints paths (realpath() of
 * the directory).  exe is the process's executable (/proc/PID/exe), NULL
 * when unknown: one outside root that maps files from under it is noted in
 * `foreign`.  Lines that do not parse are skipped.  Fails on a read error
 * or no memory. */
int pb_image_files_add_maps(struct pb_image_files *f, const char *root,
			    const char *exe, FILE *maps);

/* Adds the mappings under root of root_pid and every process of its run,
 * found as numa.h's pb_numa_run_pids() finds them (scope is an
 * enum pb_numa_scope).  A process that exits meanwhile is no error. */
int pb_image_files_scan(struct pb_image_files *f, const char *root,
			pid_t root_pid, int scope);

struct pb_image_digest {
	int elf;                            /* 0: not an ELF file */
	char hex[PB_IMAGE_DIGEST_SIZE];     /* when elf: prefix + 64 hex */
};

/*
 * The digest of the loadable contents of the file at path.  `mask` (may be
 * NULL) is the commit's 40-hex sha: every run of 7 to 40 leading characters
 * of it in the hashed bytes is hashed as zeros (and where it was), because
 * the work tree's path contains it (see orchestrator/local.c) and a build
 * that records its own path or commit (assert()'s __FILE__, an rpath, a
 * version string) would otherwise differ from its parent's everywhere.
 * PB_OK (check out->elf); PB_ENOTFOUND when the file cannot be opened,
 * PB_EINVAL when it starts like ELF but is truncated or malformed, PB_ERROR
 * on a read error or no memory; each with a message.
 */
int pb_image_digest(struct pb_image_digest *out, const char *path,
		    const char *mask);

#endif
