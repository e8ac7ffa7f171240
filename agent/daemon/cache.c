/*
 * cache.c - the build cache (see cache.h).  nftw(3) walks the trees; its
 * callbacks take no context, so the walk's state is thread-local and
 * lives only for one call.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/daemon/cache.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/util.h"

#define META "meta"
#define META_HEADER "perfbisect build v1\n"

int pb_cache_key(char out[PB_CACHE_KEY_MAX], const char *sha,
		 const char *cmd)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	int ok;

	if (!pb_is_sha(sha))
		return pb_error_code(PB_EINVAL, "'%s' is not a 40-hex sha", sha);
	ok = EVP_Digest(cmd, strlen(cmd), md, &len, EVP_sha256(), NULL);
	if (!ok || len < 6)
		return pb_error_set("cannot hash the build command");
	snprintf(out, PB_CACHE_KEY_MAX, "%s-", sha);
	for (unsigned i = 0; i < 6; i++)
		snprintf(out + 41 + 2 * i, 3, "%02x", md[i]);
	return PB_OK;
}

/* A key as pb_cache_key() makes them: never "..", never a '/'. */
static int key_ok(const char *key)
{
	if (strlen(key) != 53 || key[40] != '-')
		return 0;
	for (int i = 0; i < 53; i++)
		if (i != 40 && !((key[i] >= '0' && key[i] <= '9') ||
				 (key[i] >= 'a' && key[i] <= 'f')))
			return 0;
	return 1;
}

static char *entry_path(const char *dir, const char *key, const char *leaf)
{
	struct pb_buf b = PB_BUF_INIT(8192);

	if (pb_buf_printf(&b, "%s/%s%s%s", dir, key, leaf ? "/" : "",
			  leaf ? leaf : "") < 0) {
		pb_buf_release(&b);
		pb_error_set("path too long or out of memory");
		return NULL;
	}
	return pb_buf_detach(&b);
}

char *pb_cache_tree(const char *dir, const char *key)
{
	return entry_path(dir, key, "tree");
}

int pb_cache_lookup(const char *dir, const char *key)
{
	char *meta;
	int rc = 0;

	if (!key_ok(key))
		return pb_error_code(PB_EINVAL, "bad cache key '%s'", key);
	if (!(meta = entry_path(dir, key, META)))
		return PB_ERROR;
	if (utimensat(AT_FDCWD, meta, NULL, AT_SYMLINK_NOFOLLOW) == 0)
		rc = 1;
	else if (errno != ENOENT && errno != ENOTDIR)
		rc = pb_error_code(PB_EINFRA, "cannot touch '%s': %s", meta,
				   strerror(errno));
	free(meta);
	return rc;
}

/* --- walks ---------------------------------------------------------------- */

static __thread uint64_t walk_bytes;

static int size_one(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	(void)path;
	(void)type;
	(void)ftw;
	walk_bytes += (uint64_t)st->st_blocks * 512;
	return 0;
}

int pb_tree_size(const char *path, uint64_t *out)
{
	walk_bytes = 0;
	if (nftw(path, size_one, 32, FTW_PHYS) < 0)
		return pb_error_code(PB_EINFRA, "cannot measure '%s': %s", path,
				     strerror(errno));
	*out = walk_bytes;
	return PB_OK;
}

/* Gives one open file to the agent's user and takes every write bit (and
 * any set-id bit) away. */
static int seal_fd(int fd, uid_t uid, gid_t gid)
{
	struct stat st;

	if (uid != (uid_t)-1 && fchown(fd, uid, gid) < 0)
		return errno;
	if (fstat(fd, &st) < 0 ||
	    fchmod(fd, st.st_mode & 01555) < 0)
		return errno;
	return 0;
}

/* Seals what directory fd `dir` holds, then the directory itself: each
 * entry is opened with O_NOFOLLOW relative to its directory and changed
 * through its descriptor, so a process of the build user that is still
 * alive cannot swap a file for a symbolic link and have us chown or chmod
 * what it points to.  Links get lchown-like fchownat() and no chmod (they
 * have no mode of their own).  Returns 0 or an errno value. */
static int seal_dir(int dir, uid_t uid, gid_t gid, int depth)
{
	DIR *d;
	struct dirent *e;
	struct stat st;
	int err = 0, fd;

	if (depth > 256)
		return ELOOP;
	if ((fd = dup(dir)) < 0)
		return errno;
	if (!(d = fdopendir(fd))) {
		err = errno;
		close(fd);
		return err;
	}
	while (!err && (errno = 0, e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			err = errno;
			break;
		}
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
			/* a link, fifo or socket: never opened (a fifo would
			 * block, a link lead elsewhere); its owner changes,
			 * its mode stays */
			if (uid != (uid_t)-1 &&
			    fchownat(dir, e->d_name, uid, gid,
				     AT_SYMLINK_NOFOLLOW) < 0)
				err = errno;
			continue;
		}
		fd = openat(dir, e->d_name,
			    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
				    (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
		if (fd < 0) {
			err = errno;
			break;
		}
		if (S_ISDIR(st.st_mode))
			err = seal_dir(fd, uid, gid, depth + 1);
		else
			err = seal_fd(fd, uid, gid);
		close(fd);
	}
	if (!err && errno)
		err = errno;
	closedir(d);
	return err ? err : seal_fd(dir, uid, gid);
}

/* Makes a directory writable again, so what is in it can be removed. */
static int unseal_one(const char *path, const struct stat *st, int type,
		      struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_D && !(st->st_mode & S_IWUSR))
		(void)chmod(path, (st->st_mode & 07777) | S_IWUSR);
	return 0;
}

static int remove_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? PB_OK
				       : pb_error_code(PB_EINFRA, "'%s': %s",
						       path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		(void)nftw(path, unseal_one, 32, FTW_PHYS);
	return pb_rm_rf(path);
}

/* --- entries -------------------------------------------------------------- */

int pb_cache_begin(const char *dir, const char *key)
{
	char *entry;
	int rc;

	if (!key_ok(key))
		return pb_error_code(PB_EINVAL, "bad cache key '%s'", key);
	if (!(entry = entry_path(dir, key, NULL)))
		return PB_ERROR;
	if ((rc = remove_tree(entry)) == PB_OK && mkdir(entry, 0755) < 0)
		rc = pb_error_code(PB_EINFRA, "cannot make '%s': %s", entry,
				   strerror(errno));
	free(entry);
	return rc;
}

static int write_meta(const char *dir, const char *key, uint64_t size)
{
	char *meta = entry_path(dir, key, META), *tmp = entry_path(dir, key,
								  ".meta.tmp");
	FILE *f = NULL;
	int rc = PB_OK;

	if (!meta || !tmp) {
		rc = PB_ERROR;
		goto out;
	}
	if (!(f = fopen(tmp, "we"))) {
		rc = pb_error_code(PB_EINFRA, "cannot write '%s': %s", tmp,
				   strerror(errno));
		goto out;
	}
	fprintf(f, META_HEADER "sha %.40s\nbuild-sha256 %s\nsize %llu\n", key,
		key + 41, (unsigned long long)size);
	if (fflush(f) != 0 || fsync(fileno(f)) < 0)
		rc = pb_error_code(PB_EINFRA, "cannot write '%s': %s", tmp,
				   strerror(errno));
	if (fclose(f) != 0 && rc == PB_OK)
		rc = pb_error_code(PB_EINFRA, "cannot write '%s'", tmp);
	if (rc == PB_OK && rename(tmp, meta) < 0)
		rc = pb_error_code(PB_EINFRA, "cannot rename '%s': %s", tmp,
				   strerror(errno));
out:
	if (rc < 0 && tmp)
		(void)unlink(tmp);
	free(meta);
	free(tmp);
	return rc;
}

int pb_cache_finish(const char *dir, const char *key, int chown_to_self,
		    uint64_t *size)
{
	char *tree;
	uint64_t bytes = 0;
	int rc, fd, err;

	if (!key_ok(key))
		return pb_error_code(PB_EINVAL, "bad cache key '%s'", key);
	if (!(tree = pb_cache_tree(dir, key)))
		return PB_ERROR;
	fd = open(tree, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	err = fd < 0 ? errno
		     : seal_dir(fd, chown_to_self ? geteuid() : (uid_t)-1,
				chown_to_self ? getegid() : (gid_t)-1, 0);
	if (fd >= 0)
		close(fd);
	if (err) {
		rc = pb_error_code(PB_EINFRA, "cannot seal the build '%s': %s",
				   tree, strerror(err));
		goto out;
	}
	if ((rc = pb_tree_size(tree, &bytes)) < 0 ||
	    (rc = write_meta(dir, key, bytes)) < 0)
		goto out;
	if (size)
		*size = bytes;
out:
	free(tree);
	return rc;
}

int pb_cache_discard(const char *dir, const char *key)
{
	char *entry;
	int rc;

	if (!key_ok(key))
		return pb_error_code(PB_EINVAL, "bad cache key '%s'", key);
	if (!(entry = entry_path(dir, key, NULL)))
		return PB_ERROR;
	rc = remove_tree(entry);
	free(entry);
	return rc;
}

/* Reads DIR/KEY/meta: PB_ENOTFOUND when the entry is unfinished. */
static int read_meta(const char *dir, const char *key,
		     struct pb_cache_entry *e)
{
	char *meta = entry_path(dir, key, META), line[128];
	unsigned long long size = 0;
	struct stat st;
	FILE *f;
	int rc = PB_ENOTFOUND;

	if (!meta)
		return PB_ERROR;
	f = fopen(meta, "re");
	if (f && fstat(fileno(f), &st) == 0) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "size %llu", &size) == 1)
				rc = PB_OK;
		pb_strlcpy(e->key, key, sizeof(e->key));
		e->size = size;
		e->used = (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
	}
	if (f)
		fclose(f);
	free(meta);
	return rc;
}

static int by_use(const void *a, const void *b)
{
	const struct pb_cache_entry *x = a, *y = b;

	if (x->used != y->used)
		return x->used < y->used ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* Calls fn for every entry name in DIR. */
static int each_key(const char *dir, int (*fn)(void *ctx, const char *key),
		    void *ctx)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = PB_OK;

	if (!d)
		return pb_error_code(PB_EINFRA, "cannot read '%s': %s", dir,
				     strerror(errno));
	while (rc == PB_OK && (e = readdir(d)))
		if (key_ok(e->d_name))
			rc = fn(ctx, e->d_name);
	closedir(d);
	return rc;
}

struct listing {
	const char *dir;
	struct pb_cache_entry *v;
	size_t n, alloc;
};

static int list_one(void *ctx, const char *key)
{
	struct listing *l = ctx;
	struct pb_cache_entry e;
	int rc;

	memset(&e, 0, sizeof(e));
	if ((rc = read_meta(l->dir, key, &e)) == PB_ENOTFOUND)
		return PB_OK;
	if (rc < 0)
		return rc;
	if (l->n == l->alloc) {
		size_t na = l->alloc ? 2 * l->alloc : 32;
		struct pb_cache_entry *nv = realloc(l->v, na * sizeof(*nv));

		if (!nv)
			return pb_error_set("out of memory");
		l->v = nv;
		l->alloc = na;
	}
	l->v[l->n++] = e;
	return PB_OK;
}

int pb_cache_list(const char *dir, struct pb_cache_entry **out, size_t *n)
{
	struct listing l = { dir, NULL, 0, 0 };
	int rc = each_key(dir, list_one, &l);

	*out = NULL;
	*n = 0;
	if (rc < 0) {
		free(l.v);
		return rc;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), by_use);
	*out = l.v;
	*n = l.n;
	return PB_OK;
}

static int clean_one(void *ctx, const char *key)
{
	struct pb_cache_entry e;
	int rc = read_meta(ctx, key, &e);

	if (rc == PB_ENOTFOUND)
		return pb_cache_discard(ctx, key);
	return rc;
}

int pb_cache_clean(const char *dir)
{
	int rc = pb_mkdir_p(dir, 0755);

	return rc < 0 ? rc : each_key(dir, clean_one, (void *)dir);
}

int pb_cache_evict(const char *dir, uint64_t limit, const char *const *keep,
		   size_t nkeep, unsigned *evicted)
{
	struct pb_cache_entry *v;
	uint64_t total = 0;
	size_t n;
	int rc;

	if (evicted)
		*evicted = 0;
	if ((rc = pb_cache_list(dir, &v, &n)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		total += v[i].size;
	for (size_t i = 0; i < n && total > limit && rc == PB_OK; i++) {
		int kept = 0;

		for (size_t k = 0; k < nkeep && !kept; k++)
			kept = keep[k] && !strcmp(keep[k], v[i].key);
		if (kept)
			continue;
		if ((rc = pb_cache_discard(dir, v[i].key)) == PB_OK) {
			total -= v[i].size;
			if (evicted)
				(*evicted)++;
		}
	}
	free(v);
	return rc;
}
