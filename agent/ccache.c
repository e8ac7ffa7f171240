/*
 * ccache.c - the compiler cache builds share (see ccache.h).
 *
 * Setting up is idempotent and safe beside another process that builds
 * with the same directories (two `bisect --local` of one state directory,
 * an agent restarted): the links of the masquerade are replaced by
 * rename(2), never removed first, so a build never finds a compiler's
 * name missing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/ccache.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/util.h"

static const char *const compilers[] = { "cc",	  "gcc",   "c++",
					 "g++",	  "clang", "clang++" };

/* Finds `prog` on PATH: a malloc'd path, or NULL. */
static char *which(const char *prog)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL, *found = NULL;

	if (!path || !(copy = pb_strdup(path)))
		return NULL;
	for (dir = strtok_r(copy, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		char *p = pb_path_join(*dir ? dir : ".", prog);
		struct stat st;

		if (p && stat(p, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(p, X_OK) == 0)
			found = p;
		else
			free(p);
	}
	free(copy);
	return found;
}

/* dir/name -> target, replacing what was there in one rename. */
static int link_as(const char *dir, const char *name, const char *target)
{
	char link[PATH_MAX], tmp[PATH_MAX], now[PATH_MAX];
	ssize_t n;

	if ((size_t)snprintf(link, sizeof(link), "%s/%s", dir, name) >=
		    sizeof(link) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.%ld", dir, name,
			     (long)getpid()) >= sizeof(tmp))
		return pb_error_code(PB_EINFRA, "path too long: '%s'", dir);
	n = readlink(link, now, sizeof(now) - 1);
	if (n >= 0) {
		now[n] = '\0';
		if (!strcmp(now, target))
			return PB_OK;
	}
	(void)unlink(tmp);
	if (symlink(target, tmp) < 0)
		return pb_error_code(PB_EINFRA, "cannot link '%s': %s", tmp,
				     strerror(errno));
	if (rename(tmp, link) < 0) {
		int e = errno;

		(void)unlink(tmp);
		return pb_error_code(PB_EINFRA, "cannot link '%s': %s", link,
				     strerror(e));
	}
	return PB_OK;
}

/* The builds write dir: it goes to their user.  A directory another user
 * owns (an earlier --run-as) is given over whole, files and all, or that
 * user's entries could never be replaced; one already theirs costs a
 * stat. */
static int give_dir(const char *dir, const struct pb_identity *id)
{
	struct stat st;

	if (!id || !id->drop)
		return PB_OK;
	if (lstat(dir, &st) < 0)
		return pb_error_code(PB_EINFRA, "cannot stat '%s': %s", dir,
				     strerror(errno));
	if (st.st_uid == id->uid && st.st_gid == id->gid)
		return PB_OK;
	return pb_identity_own_tree(id, dir);
}

static char *env_str(const char *name, const char *a, const char *b,
		     const char *c)
{
	struct pb_buf buf = PB_BUF_INIT(64 * 1024);
	char *s;

	if (pb_buf_printf(&buf, "%s=%s%s%s", name, a, b ? b : "", c ? c : "") <
		    0 ||
	    !(s = pb_buf_detach(&buf))) {
		pb_buf_release(&buf);
		pb_error_set("out of memory");
		return NULL;
	}
	return s;
}

int pb_ccache_setup(struct pb_ccache *out, const struct pb_ccache_opts *o)
{
	const char *path = getenv("PATH");
	int rc;

	memset(out, 0, sizeof(*out));
	if (o->off || !(out->prog = which("ccache")))
		return PB_OK;
	if (!(out->gate = pb_strdup(o->dir)) ||
	    !(out->dir = pb_path_join(o->dir, "files")))
		return pb_error_set("out of memory");
	out->gated = o->id && o->id->drop;
	out->uid = o->id ? o->id->uid : geteuid();
	/* the gate: ours, closed but while a build runs.  One that is not
	 * a directory of ours is an earlier layout (the cache itself, the
	 * run user's) or not ours at all: it goes.  An existing gate is
	 * left as it is - another process may be building through it;
	 * every run closes it first (pb_ccache_close()) */
	{
		struct stat st;
		int fresh = lstat(o->dir, &st) < 0;

		if (!fresh && (!S_ISDIR(st.st_mode) ||
			       st.st_uid != geteuid())) {
			if ((rc = pb_rm_rf(o->dir)) < 0)
				return rc;
			fresh = 1;
		}
		if ((rc = pb_mkdir_p(o->bin_dir, 0755)) < 0 ||
		    (rc = pb_mkdir_p(o->dir, 0755)) < 0 ||
		    (rc = pb_mkdir_p(out->dir, 0755)) < 0)
			return rc;
		if (fresh && (rc = pb_ccache_close(out)) < 0)
			return rc;
	}
	for (size_t i = 0; i < PB_ARRAY_SIZE(compilers); i++)
		if ((rc = link_as(o->bin_dir, compilers[i], out->prog)) < 0)
			return rc;
	if ((rc = give_dir(out->dir, o->id)) < 0)
		return rc;
	if (!(out->env[0] = env_str("PATH", o->bin_dir, path ? ":" : NULL,
				    path)) ||
	    !(out->env[1] = env_str("CCACHE_DIR", out->dir, NULL, NULL)) ||
	    !(out->env[2] = env_str("CCACHE_BASEDIR", o->base_dir, NULL,
				    NULL)) ||
	    !(out->env[3] = env_str("CCACHE_MAXSIZE",
				    o->max_size ? o->max_size
						: PB_CCACHE_MAX_SIZE,
				    NULL, NULL)) ||
	    !(out->env[4] = pb_strdup("CCACHE_NOHASHDIR=1")))
		return pb_error_set("out of memory");
	return PB_OK;
}

/* The gate's mode: 0711 lets the build user through to its files, 0700
 * keeps every other user out.  A gate that is not a directory of ours
 * (replaced under us) is refused; it is opened without following a link
 * and changed through that descriptor, so a swap between the check and
 * the change cannot aim the change elsewhere. */
static int gate_mode(const struct pb_ccache *c, mode_t mode)
{
	struct stat st;
	int fd, rc = PB_OK;

	if (!c || !c->prog || !c->gated)
		return PB_OK;
	fd = open(c->gate, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_uid != geteuid())
		rc = pb_error_code(PB_EINFRA, "the compiler cache's gate "
				   "'%s' is not a directory of ours", c->gate);
	else if (fchmod(fd, mode) < 0)
		rc = pb_error_code(PB_EINFRA, "cannot chmod '%s': %s",
				   c->gate, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

/* A process of uid alive now: its pid, or 0. */
static long uid_alive(uid_t uid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	long found = 0;

	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		char path[64], line[256];
		unsigned long r, ef, sv, fs;
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/status", e->d_name);
		if (!(f = fopen(path, "re")))
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "Uid: %lu %lu %lu %lu", &r, &ef, &sv,
				   &fs) == 4) {
				if (r == uid || ef == uid || sv == uid ||
				    fs == uid)
					found = strtol(e->d_name, NULL, 10);
				break;
			}
		fclose(f);
	}
	closedir(d);
	return found;
}

int pb_ccache_open(const struct pb_ccache *c)
{
	long pid;

	if (!c || !c->prog || !c->gated)
		return c && c->prog ? 1 : 0;
	/* a process of the run user that outlived its run (setsid, a
	 * daemon) could write entries while the gate is open */
	if ((pid = uid_alive(c->uid))) {
		pb_error_set("process %ld of the build and run user is alive "
			     "(one that outlived its run could plant cache "
			     "entries): this build goes without ccache", pid);
		return 0;
	}
	return gate_mode(c, 0711) < 0 ? PB_EINFRA : 1;
}

int pb_ccache_close(const struct pb_ccache *c)
{
	return gate_mode(c, 0700);
}

size_t pb_ccache_env(const struct pb_ccache *c, int use, char **v, size_t k)
{
	static char disable[] = "CCACHE_DISABLE=1";

	if (!c || !c->prog || !use) {
		v[k++] = disable;
		return k;
	}
	for (size_t i = 0; c->env[i]; i++)
		v[k++] = c->env[i];
	return k;
}

void pb_ccache_release(struct pb_ccache *c)
{
	if (!c)
		return;
	free(c->prog);
	free(c->dir);
	free(c->gate);
	for (size_t i = 0; i < PB_ARRAY_SIZE(c->env); i++)
		free(c->env[i]);
	memset(c, 0, sizeof(*c));
}
