/*
 * ccache.h - one compiler cache shared by the builds of every commit, for
 * perfbisect-agent and `perfbisect bisect --local` alike.
 *
 * Builds are most of a bisection's wall time on real projects, and two
 * commits of a range share most of their sources.  When `ccache` is on
 * PATH and not turned off, pb_ccache_setup() makes a directory (bin_dir)
 * with cc, gcc, c++, g++, clang and clang++ linked to it (ccache's
 * "masquerade"), and pb_ccache_env() gives the variables a build gets:
 *
 *   PATH=BIN_DIR:$PATH     every compiler a build system finds on PATH goes
 *                          through ccache, whatever its makefiles set CC to
 *   CCACHE_DIR=DIR         its files, owned by the user who builds
 *   CCACHE_BASEDIR=BASE    the directory that holds the work trees: paths
 *                          inside them are rewritten relative to the
 *                          build's directory, so the per-commit trees
 *                          (.../SHA/...) share entries
 *   CCACHE_NOHASHDIR=1     with -g ccache would otherwise hash the
 *                          build's directory, which differs for every
 *                          commit (the debug info of a cached object may
 *                          then name another commit's tree: no loadable
 *                          byte changes)
 *   CCACHE_MAXSIZE=SIZE    its bound; ccache removes the oldest entries
 *                          past it
 *
 * Only builds get them: a benchmark's runs never do (measuring must not
 * change what is measured).  Without ccache, or turned off, a build gets
 * CCACHE_DISABLE=1 instead, so a ccache the user put on PATH stays out of
 * it too.
 *
 * Runs cannot reach the cache.  Builds and runs are the same unprivileged
 * user, and an entry a benchmark planted would go into a later build of
 * another commit; so CCACHE_DIR is DIR/files, DIR (the gate) stays the
 * caller's, mode 0700, and pb_ccache_open() opens it (0711) for a build
 * only - and not while any process of the run user is alive, so none
 * that outlived its run can write through it - and pb_ccache_close()
 * shuts it again before anything runs.  A build
 * can still write entries (ccache must), so a commit's build is trusted
 * as far as the cache goes: "ccache": false for benchmarks whose builds
 * are not.  Without dropping privileges (perfbisect run by its own user)
 * the runs are that user and no gate can stop them: the gate is not
 * used.  The masquerade itself stays the caller's (root's when dropping),
 * so no run can put another compiler on a build's PATH.
 */
#ifndef PB_CCACHE_H
#define PB_CCACHE_H

#include <stddef.h>
#include <sys/types.h>

#include "agent/runner.h"

/* The bound of CCACHE_DIR unless the caller says otherwise. */
#define PB_CCACHE_MAX_SIZE "5G"

struct pb_ccache_opts {
	const char *dir;        /* the gate, made when missing; CCACHE_DIR
				 * is its "files" */
	const char *bin_dir;    /* the masquerade, made when missing; its
				 * links are (re)made in place, atomically */
	const char *base_dir;   /* CCACHE_BASEDIR: holds the work trees */
	const char *max_size;   /* CCACHE_MAXSIZE ("5G"); NULL: the
				 * default above */
	const struct pb_identity *id; /* who builds: given dir when dropping */
	int off;                /* --no-ccache: no ccache whatever PATH has */
};

/* What pb_ccache_setup() found and made.  Owns its strings. */
struct pb_ccache {
	char *prog;             /* ccache's path; NULL: builds go without */
	char *dir;              /* CCACHE_DIR, NULL when prog is */
	char *gate;             /* its parent, closed but during builds */
	int gated;              /* the gate is used: builds and runs are
				 * another user */
	uid_t uid;              /* that user */
	char *env[6];           /* the on-build variables, NULL-terminated */
};

/* Number of variables pb_ccache_env() may add. */
#define PB_CCACHE_ENV_MAX 5

/* Finds ccache on PATH (unless o->off) and, when found, makes o->bin_dir
 * and o->dir as above, o->dir (and what it holds, when another user owns
 * it) given to o->id's user.  Not finding ccache is no error: out->prog
 * stays NULL.  PB_EINFRA when a directory or link cannot be made;
 * pb_ccache_release() is safe after any return. */
int pb_ccache_setup(struct pb_ccache *out, const struct pb_ccache_opts *o);

/* Appends a build's variables to v[k..] (room for PB_CCACHE_ENV_MAX more):
 * ccache's when c has it and `use` (the benchmark's own "ccache": false
 * turns it off for its builds), else CCACHE_DISABLE=1.  Returns the new
 * count; v[returned] is not set.  The strings belong to c (or are
 * static). */
size_t pb_ccache_env(const struct pb_ccache *c, int use, char **v, size_t k);

/* Before a build: opens the gate to the build user and returns 1 - the
 * build may use ccache - or returns 0, gate closed, when a process of
 * that user is alive (a run's process that outlived it, by setsid or as
 * a daemon, could write entries while the gate is open; pb_error_last()
 * says which): that build goes without ccache (pb_ccache_env() with use
 * 0).  1 without a gate, 0 without ccache.  After the build, and before
 * any run: pb_ccache_close().  PB_EINFRA when the gate cannot be set
 * (then nothing may run). */
int pb_ccache_open(const struct pb_ccache *c);
int pb_ccache_close(const struct pb_ccache *c);

/* Frees what c holds; c may be zeroed or NULL. */
void pb_ccache_release(struct pb_ccache *c);

#endif
