/*
 * spool.c - run records kept on disk until posted (see spool.h).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/daemon/spool.h"
#include "common/err.h"
#include "common/proto.h"
#include "common/util.h"

#define TMP_PREFIX ".tmp-"
#define REJECTED "rejected"

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = PB_OK;

	if (fd < 0)
		return pb_error_code(PB_EINFRA, "cannot open '%s': %s", dir,
				     strerror(errno));
	if (fsync(fd) < 0)
		rc = pb_error_code(PB_EINFRA, "cannot sync '%s': %s", dir,
				   strerror(errno));
	close(fd);
	return rc;
}

static int is_record(const char *name)
{
	size_t n = strlen(name);

	return !strncmp(name, "run-", 4) && n > 9 &&
	       !strcmp(name + n - 5, ".json");
}

/* A name made here, never a path: no '/', no leading '.'. */
static int name_ok(const char *name)
{
	return is_record(name) && !strchr(name, '/');
}

int pb_spool_init(const char *dir)
{
	DIR *d;
	struct dirent *e;
	int rc, fd, removed = 0;

	if ((rc = pb_mkdir_p(dir, 0700)) < 0)
		return rc;
	/* records hold benchmark output: for the agent's user only */
	if (chmod(dir, 0700) < 0)
		return pb_error_code(PB_EINFRA, "cannot chmod the spool '%s': "
				     "%s", dir, strerror(errno));
	if (!(d = opendir(dir)))
		return pb_error_code(PB_EINFRA, "cannot read the spool '%s': %s",
				     dir, strerror(errno));
	fd = dirfd(d);
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) &&
		    unlinkat(fd, e->d_name, 0) == 0)
			removed = 1;
	closedir(d);
	return removed ? fsync_dir(dir) : PB_OK;
}

int pb_spool_name(char *out, size_t size, const char *lease, unsigned index)
{
	const char *p;
	int n;

	if (!*lease || strlen(lease) > PB_WIRE_LEASE_MAX)
		return pb_error_code(PB_EINVAL, "bad lease id");
	for (p = lease; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		      *p == '-'))
			return pb_error_code(PB_EINVAL, "bad lease id");
	n = snprintf(out, size, "run-%s-%010u.json", lease, index);
	if (n < 0 || (size_t)n >= size)
		return pb_error_code(PB_ETOOBIG, "spool name too long");
	return PB_OK;
}

int pb_spool_put(const char *dir, const char *name, const char *body,
		 size_t len)
{
	char tmp[4096], dst[4096];
	size_t off = 0;
	int fd, rc = PB_OK;

	if (!name_ok(name))
		return pb_error_code(PB_EINVAL, "bad spool name '%s'", name);
	snprintf(dst, sizeof(dst), "%s/%s", dir, name);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/%s%s-%ld", dir, TMP_PREFIX,
			     name, (long)getpid()) >= sizeof(tmp))
		return pb_error_code(PB_ETOOBIG, "spool path too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return pb_error_code(PB_EINFRA, "cannot write '%s': %s", tmp,
				     strerror(errno));
	while (off < len) {
		ssize_t w = write(fd, body + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = pb_error_code(PB_EINFRA, "cannot write '%s': %s",
					   tmp, strerror(errno));
			break;
		}
		off += (size_t)w;
	}
	if (rc == PB_OK && fsync(fd) < 0)
		rc = pb_error_code(PB_EINFRA, "cannot sync '%s': %s", tmp,
				   strerror(errno));
	if (close(fd) < 0 && rc == PB_OK)
		rc = pb_error_code(PB_EINFRA, "cannot write '%s': %s", tmp,
				   strerror(errno));
	if (rc == PB_OK && rename(tmp, dst) < 0)
		rc = pb_error_code(PB_EINFRA, "cannot rename '%s': %s", tmp,
				   strerror(errno));
	if (rc < 0) {
		(void)unlink(tmp);
		return rc;
	}
	return fsync_dir(dir);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void pb_spool_list_free(char **names, size_t n)
{
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

int pb_spool_list(const char *dir, char ***names, size_t *n)
{
	DIR *d;
	struct dirent *e;
	char **v = NULL;
	size_t alloc = 0;

	*names = NULL;
	*n = 0;
	if (!(d = opendir(dir)))
		return pb_error_code(PB_EINFRA, "cannot read the spool '%s': %s",
				     dir, strerror(errno));
	while ((e = readdir(d))) {
		if (!name_ok(e->d_name))
			continue;
		if (*n == alloc) {
			size_t na = alloc ? 2 * alloc : 16;
			char **nv = realloc(v, na * sizeof(*nv));

			if (!nv)
				goto oom;
			v = nv;
			alloc = na;
		}
		if (!(v[*n] = pb_strdup(e->d_name)))
			goto oom;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_name);
	*names = v;
	return PB_OK;
oom:
	closedir(d);
	pb_spool_list_free(v, *n);
	*n = 0;
	return pb_error_set("out of memory");
}

int pb_spool_read(const char *dir, const char *name, char **body,
		  size_t *len)
{
	char path[4096];
	struct stat st;
	char *b;
	size_t off = 0;
	int fd;

	*body = NULL;
	*len = 0;
	if (!name_ok(name))
		return pb_error_code(PB_EINVAL, "bad spool name '%s'", name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT
			       ? PB_ENOTFOUND
			       : pb_error_code(PB_EINFRA, "cannot read '%s': %s",
					       path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return pb_error_code(PB_EINFRA, "'%s' is not a file", path);
	}
	if (st.st_size > PB_WIRE_BODY_MAX) {
		close(fd);
		return pb_error_code(PB_ETOOBIG, "'%s' is over %d bytes", path,
				     PB_WIRE_BODY_MAX);
	}
	if (!(b = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return pb_error_set("out of memory");
	}
	while (off < (size_t)st.st_size) {
		ssize_t r = read(fd, b + off, (size_t)st.st_size - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	close(fd);
	if (off != (size_t)st.st_size) {
		free(b);
		return pb_error_code(PB_EINFRA, "cannot read '%s'", path);
	}
	b[off] = '\0';
	*body = b;
	*len = off;
	return PB_OK;
}

int pb_spool_remove(const char *dir, const char *name)
{
	char path[4096];

	if (!name_ok(name))
		return pb_error_code(PB_EINVAL, "bad spool name '%s'", name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (unlink(path) < 0 && errno != ENOENT)
		return pb_error_code(PB_EINFRA, "cannot remove '%s': %s", path,
				     strerror(errno));
	return fsync_dir(dir);
}

int pb_spool_reject(const char *dir, const char *name)
{
	char from[4096], rdir[4096], to[4096];
	int rc;

	if (!name_ok(name))
		return pb_error_code(PB_EINVAL, "bad spool name '%s'", name);
	if ((size_t)snprintf(from, sizeof(from), "%s/%s", dir, name) >=
		    sizeof(from) ||
	    (size_t)snprintf(rdir, sizeof(rdir), "%s/%s", dir, REJECTED) >=
		    sizeof(rdir) ||
	    (size_t)snprintf(to, sizeof(to), "%s/%s", rdir, name) >= sizeof(to))
		return pb_error_code(PB_ETOOBIG, "spool path too long");
	if ((rc = pb_mkdir_p(rdir, 0700)) < 0)
		return rc;
	if (rename(from, to) < 0)
		return pb_error_code(PB_EINFRA, "cannot move '%s' to '%s': %s",
				     from, rdir, strerror(errno));
	if ((rc = fsync_dir(rdir)) < 0)
		return rc;
	return fsync_dir(dir);
}
