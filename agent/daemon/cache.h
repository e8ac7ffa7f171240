/*
 * cache.h - the agent's build cache: each commit built once per build
 * command, kept read-only, the least recently used evicted past a size.
 *
 * Layout under DIR (WORK_DIR/builds):
 *
 *   DIR/KEY/tree   the commit's checkout, built in place (its path is
 *                  where it was built: nothing is moved after a build, so
 *                  an rpath or a recorded source path stays true)
 *   DIR/KEY/meta   written last, atomically: "perfbisect build v1", the
 *                  sha, the build command's SHA-256 and the tree's size in
 *                  bytes; its mtime is the entry's last use
 *
 * KEY is "SHA-HHHHHHHHHHHH": the commit and the first 12 hex digits of the
 * SHA-256 of the build command, so a changed command is another build, and
 * the sha in the path lets image.h mask it out of digests.  An entry
 * without meta is a build that never finished (the agent died, or the
 * build is under way): pb_cache_clean() removes such leftovers at start,
 * eviction never touches them.
 *
 * A finished tree is sealed: given to the agent's own user (when builds
 * run as another) and made read-only to everyone (chmod -R a-w), so a run
 * - which runs as the unprivileged user - cannot change a build another
 * run will use.
 *
 * One agent owns DIR (the agent locks its work directory): nothing here
 * guards against a second process.
 */
#ifndef PB_CACHE_H
#define PB_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PB_CACHE_KEY_MAX 64

struct pb_cache_entry {
	char key[PB_CACHE_KEY_MAX];
	uint64_t size;      /* bytes, as measured when the build finished */
	double used;        /* last use, epoch seconds */
};

/* "SHA-HHHHHHHHHHHH" for commit sha (40 hex) and build command cmd. */
int pb_cache_key(char out[PB_CACHE_KEY_MAX], const char *sha,
		 const char *cmd);

/* DIR/KEY/tree, malloc'd. */
char *pb_cache_tree(const char *dir, const char *key);

/* 1 when KEY is a finished build (its last use is set to now), 0 when it
 * is not there; PB_EINFRA when DIR cannot be read. */
int pb_cache_lookup(const char *dir, const char *key);

/* Makes room for building KEY: removes what a crashed build of it left
 * and creates DIR/KEY (mode 0755).  The tree itself is not created (git.h's
 * checkout makes it). */
int pb_cache_begin(const char *dir, const char *key);

/* Seals a successful build of KEY and records it: with chown_to_self the
 * tree is given to the caller's uid and gid first; then every write bit is
 * removed, its size measured and meta written.  *size (may be NULL) gets
 * the size. */
int pb_cache_finish(const char *dir, const char *key, int chown_to_self,
		    uint64_t *size);

/* Removes DIR/KEY whatever its state (a failed build), making read-only
 * directories writable first. */
int pb_cache_discard(const char *dir, const char *key);

/* Creates DIR and removes every entry without meta: builds a dead agent
 * never finished. */
int pb_cache_clean(const char *dir);

/* The finished entries, oldest use first.  *out is malloc'd (NULL when
 * none). */
int pb_cache_list(const char *dir, struct pb_cache_entry **out, size_t *n);

/* Removes finished entries, least recently used first, until their sizes
 * sum to at most limit bytes; entries named in keep[0..nkeep) stay (the
 * current job's).  *evicted (may be NULL) counts the removed. */
int pb_cache_evict(const char *dir, uint64_t limit, const char *const *keep,
		   size_t nkeep, unsigned *evicted);

/* Bytes a directory tree takes on disk (st_blocks), symlinks not
 * followed. */
int pb_tree_size(const char *path, uint64_t *out);

#endif
