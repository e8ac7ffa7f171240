/*
 * test_cache.c - agent/daemon/cache.h on real directories: keys, a
 * finished build sealed (no write bit, no set-id bit, given back to us
 * when another user built it, links left alone), unfinished builds never
 * taken and cleaned at start, and eviction by last use down to a size,
 * sparing the current job's builds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/daemon/cache.h"
#include "common/err.h"
#include "common/util.h"

#define SHA1 "1111111111111111111111111111111111111111"
#define SHA2 "2222222222222222222222222222222222222222"
#define SHA3 "3333333333333333333333333333333333333333"
#define SHA4 "4444444444444444444444444444444444444444"

struct fixture {
	char dir[64];
	char builds[96];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/pb-test-cache-XXXXXX";

	if (!f || !mkdtemp(tmpl))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s", tmpl);
	snprintf(f->builds, sizeof(f->builds), "%s/builds", tmpl);
	*state = f;
	return pb_cache_clean(f->builds) == PB_OK ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];

	/* sealed trees: make them writable for the removal */
	snprintf(cmd, sizeof(cmd), "chmod -R u+w %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	pb_rm_rf(f->dir);
	free(f);
	return 0;
}

/* Writes `bytes` bytes to TREE/NAME. */
static void put_file(const char *tree, const char *name, size_t bytes,
		     mode_t mode)
{
	char path[512], *buf = calloc(1, bytes + 1);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tree, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	memset(buf, 'x', bytes);
	assert_int_equal(write(fd, buf, bytes), (ssize_t)bytes);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	free(buf);
}

/* A finished build of sha with one file of `bytes` bytes; its key. */
static void make_build(struct fixture *f, const char *sha, size_t bytes,
		       char key[PB_CACHE_KEY_MAX])
{
	char *tree;

	assert_int_equal(pb_cache_key(key, sha, "make"), PB_OK);
	assert_int_equal(pb_cache_begin(f->builds, key), PB_OK);
	tree = pb_cache_tree(f->builds, key);
	assert_int_equal(mkdir(tree, 0755), 0);
	put_file(tree, "prog", bytes, 0755);
	assert_int_equal(pb_cache_finish(f->builds, key, 0, NULL), PB_OK);
	free(tree);
}

/* Sets the last use of key to t (epoch seconds). */
static void used_at(struct fixture *f, const char *key, time_t t)
{
	char path[512];
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };

	snprintf(path, sizeof(path), "%s/%s/meta", f->builds, key);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void test_cache__keys(void **state)
{
	char a[PB_CACHE_KEY_MAX], b[PB_CACHE_KEY_MAX], c[PB_CACHE_KEY_MAX];

	(void)state;
	assert_int_equal(pb_cache_key(a, SHA1, "make -j2"), PB_OK);
	assert_int_equal(pb_cache_key(b, SHA1, "make -j4"), PB_OK);
	assert_int_equal(pb_cache_key(c, SHA2, "make -j2"), PB_OK);
	assert_int_equal(strlen(a), 53);
	assert_true(!strncmp(a, SHA1 "-", 41));
	assert_string_not_equal(a, b); /* another command, another build */
	assert_string_equal(a + 41, c + 41);
	assert_int_equal(pb_cache_key(a, "HEAD", "make"), PB_EINVAL);
}

static void test_cache__sealed(void **state)
{
	struct fixture *f = *state;
	char key[PB_CACHE_KEY_MAX], *tree, path[512];
	struct stat st;
	uint64_t size = 0;

	assert_int_equal(pb_cache_key(key, SHA1, "make"), PB_OK);
	assert_int_equal(pb_cache_lookup(f->builds, key), 0);
	assert_int_equal(pb_cache_begin(f->builds, key), PB_OK);
	tree = pb_cache_tree(f->builds, key);
	assert_int_equal(mkdir(tree, 0777), 0);
	snprintf(path, sizeof(path), "%s/sub", tree);
	assert_int_equal(mkdir(path, 0777), 0);
	put_file(tree, "prog", 10000, 04777);
	put_file(tree, "sub/data", 100, 0666);
	snprintf(path, sizeof(path), "%s/link", tree);
	assert_int_equal(symlink("/etc/hostname", path), 0);
	if (geteuid() == 0) {
		/* built by another user: given back to us */
		snprintf(path, sizeof(path), "chown -R -h 65534:65534 %s", tree);
		assert_int_equal(system(path), 0);
	}
	/* unfinished: not a build yet */
	assert_int_equal(pb_cache_lookup(f->builds, key), 0);
	assert_int_equal(pb_cache_finish(f->builds, key, geteuid() == 0, &size),
			 PB_OK);
	assert_true(size >= 10000);
	assert_int_equal(pb_cache_lookup(f->builds, key), 1);
	assert_int_equal(stat(tree, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0555);
	assert_int_equal(st.st_uid, geteuid());
	snprintf(path, sizeof(path), "%s/prog", tree);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0555); /* no set-uid, no write */
	assert_int_equal(st.st_uid, geteuid());
	snprintf(path, sizeof(path), "%s/sub/data", tree);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0444);
	snprintf(path, sizeof(path), "%s/sub", tree);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0555);
	/* the link's target is untouched */
	assert_int_equal(stat("/etc/hostname", &st), 0);
	assert_true(st.st_mode & S_IWUSR);
	snprintf(path, sizeof(path), "%s/link", tree);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_uid, geteuid());
	/* a build is discarded whole, read-only or not */
	assert_int_equal(pb_cache_discard(f->builds, key), PB_OK);
	assert_int_equal(pb_cache_lookup(f->builds, key), 0);
	assert_int_equal(access(tree, F_OK), -1);
	free(tree);
}

static void test_cache__unfinished_cleaned(void **state)
{
	struct fixture *f = *state;
	char done[PB_CACHE_KEY_MAX], half[PB_CACHE_KEY_MAX], *tree;
	struct pb_cache_entry *v;
	size_t n;

	make_build(f, SHA1, 1000, done);
	assert_int_equal(pb_cache_key(half, SHA2, "make"), PB_OK);
	assert_int_equal(pb_cache_begin(f->builds, half), PB_OK);
	tree = pb_cache_tree(f->builds, half);
	assert_int_equal(mkdir(tree, 0755), 0);
	put_file(tree, "prog", 50000, 0755);
	/* listed and evicted: finished builds only */
	assert_int_equal(pb_cache_list(f->builds, &v, &n), PB_OK);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].key, done);
	free(v);
	assert_int_equal(pb_cache_evict(f->builds, 0, NULL, 0, NULL), PB_OK);
	assert_int_equal(access(tree, F_OK), 0);
	assert_int_equal(pb_cache_lookup(f->builds, done), 0);
	/* the next start removes what a dead agent left half built */
	assert_int_equal(pb_cache_clean(f->builds), PB_OK);
	assert_int_equal(access(tree, F_OK), -1);
	free(tree);
}

static void test_cache__evict_least_recently_used(void **state)
{
	struct fixture *f = *state;
	char k1[PB_CACHE_KEY_MAX], k2[PB_CACHE_KEY_MAX], k3[PB_CACHE_KEY_MAX],
		k4[PB_CACHE_KEY_MAX];
	const char *keep[1] = { k1 };
	struct pb_cache_entry *v;
	uint64_t sz[4] = { 0 }, total = 0;
	unsigned evicted = 0;
	size_t n;

	make_build(f, SHA1, 100000, k1);
	make_build(f, SHA2, 100000, k2);
	make_build(f, SHA3, 100000, k3);
	make_build(f, SHA4, 100000, k4);
	used_at(f, k1, 1000); /* oldest, but the current job's */
	used_at(f, k2, 2000);
	used_at(f, k3, 3000);
	used_at(f, k4, 4000);
	assert_int_equal(pb_cache_list(f->builds, &v, &n), PB_OK);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		sz[i] = v[i].size;
		total += v[i].size;
		assert_true(v[i].size >= 100000);
	}
	assert_string_equal(v[0].key, k1);
	assert_string_equal(v[3].key, k4);
	free(v);
	/* under the limit: nothing goes */
	assert_int_equal(pb_cache_evict(f->builds, total, keep, 1, &evicted),
			 PB_OK);
	assert_int_equal(evicted, 0);
	/* room for three: the oldest not kept (k2) goes */
	assert_int_equal(pb_cache_evict(f->builds, total - 1, keep, 1,
					&evicted),
			 PB_OK);
	assert_int_equal(evicted, 1);
	assert_int_equal(pb_cache_lookup(f->builds, k2), 0);
	/* a use makes k3 the newest; room for two: k4 goes, k1 is kept */
	assert_int_equal(pb_cache_lookup(f->builds, k3), 1);
	assert_int_equal(pb_cache_evict(f->builds, sz[0] + sz[2], keep, 1,
					&evicted),
			 PB_OK);
	assert_int_equal(evicted, 1);
	assert_int_equal(pb_cache_lookup(f->builds, k4), 0);
	assert_int_equal(pb_cache_lookup(f->builds, k3), 1);
	assert_int_equal(pb_cache_lookup(f->builds, k1), 1);
	/* nothing to spare: what is kept stays even past the limit */
	assert_int_equal(pb_cache_evict(f->builds, 0, keep, 1, &evicted),
			 PB_OK);
	assert_int_equal(evicted, 1);
	assert_int_equal(pb_cache_lookup(f->builds, k1), 1);
	assert_int_equal(pb_cache_lookup(f->builds, k3), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache__keys),
		cmocka_unit_test_setup_teardown(test_cache__sealed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cache__unfinished_cleaned,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_cache__evict_least_recently_used, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
