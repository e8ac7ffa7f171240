/*
 * test_ccache.c - agent/ccache.h with a stand-in `ccache` on PATH: the
 * masquerade's links and the build's variables when it is found, nothing
 * made and CCACHE_DISABLE=1 when it is not or is turned off, links
 * replaced in place on a second setup, and (as root) the cache directory
 * given to the run user, files and all when another user owned it; the
 * gate in front of it is open to that user while a build runs only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/ccache.h"
#include "agent/runner.h"
#include "common/err.h"
#include "common/util.h"

struct fixture {
	char root[64];
	char tools[128], dir[128], files[160], bin[128], base[128], prog[160];
	char *old_path;
};

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/pb-test-ccache-XXXXXX";
	const char *path = getenv("PATH");

	if (!f || !mkdtemp(tmpl))
		return -1;
	snprintf(f->root, sizeof(f->root), "%s", tmpl);
	snprintf(f->tools, sizeof(f->tools), "%s/tools", f->root);
	snprintf(f->dir, sizeof(f->dir), "%s/state/ccache", f->root);
	snprintf(f->files, sizeof(f->files), "%s/files", f->dir);
	snprintf(f->bin, sizeof(f->bin), "%s/state/ccache-bin", f->root);
	snprintf(f->base, sizeof(f->base), "%s/state/worktrees", f->root);
	snprintf(f->prog, sizeof(f->prog), "%s/ccache", f->tools);
	if (mkdir(f->tools, 0755) < 0)
		return -1;
	f->old_path = path ? strdup(path) : NULL;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->old_path)
		setenv("PATH", f->old_path, 1);
	free(f->old_path);
	pb_rm_rf(f->root);
	free(f);
	return 0;
}

/* PATH: an empty directory, then the tools directory (with or without a
 * ccache in it). */
static void use_path(struct fixture *f, int with_ccache)
{
	char path[400];

	if (with_ccache)
		write_file(f->prog, "#!/bin/sh\nexit 0\n", 0755);
	snprintf(path, sizeof(path), "%s/none:%s", f->root, f->tools);
	setenv("PATH", path, 1);
}

static struct pb_ccache_opts opts(struct fixture *f,
				  const struct pb_identity *id)
{
	struct pb_ccache_opts o = { f->dir, f->bin, f->base, NULL, id, 0 };

	return o;
}

static const char *env_get(char **v, size_t n, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (!strncmp(v[i], name, len) && v[i][len] == '=')
			return v[i] + len + 1;
	return NULL;
}

static void assert_linked(struct fixture *f, const char *name)
{
	char link[256], target[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "%s/%s", f->bin, name);
	n = readlink(link, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, f->prog);
}

static void test_ccache__found_links_and_env(void **state)
{
	struct fixture *f = *state;
	struct pb_identity id = { 0 };
	struct pb_ccache_opts o = opts(f, &id);
	struct pb_ccache c;
	char *v[2 + PB_CCACHE_ENV_MAX], want[400];
	struct stat st;
	size_t k;

	use_path(f, 1);
	assert_int_equal(pb_ccache_setup(&c, &o), PB_OK);
	assert_non_null(c.prog);
	assert_string_equal(c.prog, f->prog);
	assert_string_equal(c.dir, f->files);
	assert_int_equal(stat(f->files, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_linked(f, "cc");
	assert_linked(f, "gcc");
	assert_linked(f, "c++");
	assert_linked(f, "g++");
	assert_linked(f, "clang");
	assert_linked(f, "clang++");

	v[0] = "TMPDIR=/tmp";
	k = pb_ccache_env(&c, 1, v, 1);
	assert_int_equal(k, 1 + PB_CCACHE_ENV_MAX);
	assert_string_equal(v[0], "TMPDIR=/tmp");
	snprintf(want, sizeof(want), "%s:%s/none:%s", f->bin, f->root,
		 f->tools);
	assert_string_equal(env_get(v, k, "PATH"), want);
	assert_string_equal(env_get(v, k, "CCACHE_DIR"), f->files);
	assert_string_equal(env_get(v, k, "CCACHE_BASEDIR"), f->base);
	assert_string_equal(env_get(v, k, "CCACHE_NOHASHDIR"), "1");
	assert_string_equal(env_get(v, k, "CCACHE_MAXSIZE"),
			    PB_CCACHE_MAX_SIZE);
	assert_null(env_get(v, k, "CCACHE_DISABLE"));

	/* a benchmark that says "ccache": false */
	k = pb_ccache_env(&c, 0, v, 1);
	assert_int_equal(k, 2);
	assert_string_equal(v[1], "CCACHE_DISABLE=1");
	pb_ccache_release(&c);
	pb_ccache_release(&c); /* twice, and zeroed: harmless */
}

static void test_ccache__missing_or_off_makes_nothing(void **state)
{
	struct fixture *f = *state;
	struct pb_identity id = { 0 };
	struct pb_ccache_opts o = opts(f, &id);
	struct pb_ccache c;
	char *v[1 + PB_CCACHE_ENV_MAX];
	struct stat st;

	use_path(f, 0);
	assert_int_equal(pb_ccache_setup(&c, &o), PB_OK);
	assert_null(c.prog);
	assert_int_equal(pb_ccache_env(&c, 1, v, 0), 1);
	assert_string_equal(v[0], "CCACHE_DISABLE=1");
	assert_int_equal(pb_ccache_env(NULL, 1, v, 0), 1);
	pb_ccache_release(&c);

	use_path(f, 1);
	o.off = 1;
	assert_int_equal(pb_ccache_setup(&c, &o), PB_OK);
	assert_null(c.prog);
	assert_int_equal(pb_ccache_env(&c, 1, v, 0), 1);
	assert_string_equal(v[0], "CCACHE_DISABLE=1");
	pb_ccache_release(&c);
	assert_int_equal(stat(f->dir, &st), -1);
	assert_int_equal(stat(f->bin, &st), -1);
}

/* A second setup (a restart, another bisection of the state directory)
 * keeps the directory's files and puts right a link that points elsewhere,
 * leaving no temporary name behind; its own max size is used. */
static void test_ccache__setup_again_replaces_links(void **state)
{
	struct fixture *f = *state;
	struct pb_identity id = { 0 };
	struct pb_ccache_opts o = opts(f, &id);
	struct pb_ccache c;
	char path[256], *v[PB_CCACHE_ENV_MAX];
	struct stat st;
	size_t k, n = 0;

	use_path(f, 1);
	assert_int_equal(pb_ccache_setup(&c, &o), PB_OK);
	pb_ccache_release(&c);
	snprintf(path, sizeof(path), "%s/kept", f->files);
	write_file(path, "x", 0644);
	snprintf(path, sizeof(path), "%s/gcc", f->bin);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/bin/false", path), 0);
	o.max_size = "300M";
	assert_int_equal(pb_ccache_setup(&c, &o), PB_OK);
	assert_linked(f, "gcc");
	assert_linked(f, "cc");
	snprintf(path, sizeof(path), "%s/kept", f->files);
	assert_int_equal(stat(path, &st), 0);
	{
		DIR *d = opendir(f->bin);
		struct dirent *e;

		assert_non_null(d);
		while ((e = readdir(d)))
			n += e->d_name[0] != '.' ||
			     (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."));
		closedir(d);
	}
	assert_int_equal(n, 6); /* the six links, no temporary name */
	k = pb_ccache_env(&c, 1, v, 0);
	assert_string_equal(env_get(v, k, "CCACHE_MAXSIZE"), "300M");
	pb_ccache_release(&c);
}

/* 1 when id's user can open path for writing, from a child that became
 * that user; 0 when it cannot. */
static int as_user_can_write(const struct pb_identity *id, const char *path)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		int fd;

		if (setgroups(0, NULL) < 0 || setgid(id->gid) < 0 ||
		    setuid(id->uid) < 0)
			_exit(2);
		fd = open(path, O_WRONLY | O_APPEND);
		_exit(fd >= 0 ? 1 : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_true(WEXITSTATUS(status) <= 1);
	return WEXITSTATUS(status);
}

/* As root, dropping to nobody: the cache directory is nobody's, and what
 * another user left in it becomes nobody's too. */
static void test_ccache__given_to_run_user(void **state)
{
	struct fixture *f = *state;
	struct pb_identity id;
	struct pb_ccache_opts o;
	struct pb_ccache c;
	char path[256];
	struct stat st;

	if (geteuid() != 0) {
		skip();
		return;
	}
	assert_int_equal(pb_identity_resolve(&id, "nobody"), PB_OK);
	assert_int_equal(chmod(f->root, 0755), 0); /* mkdtemp's 0700 */
	o = opts(f, &id);
	use_path(f, 1);
	assert_int_equal(pb_mkdir_p(f->files, 0755), PB_OK);
	snprintf(path, sizeof(path), "%s/left", f->files);
	write_file(path, "x", 0644); /* root's */
	assert_int_equal(pb_ccache_setup(&c, &o), PB_OK);
	assert_int_equal(stat(f->files, &st), 0);
	assert_int_equal(st.st_uid, id.uid);
	assert_int_equal(st.st_gid, id.gid);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, id.uid);
	/* the masquerade stays root's: no build can plant a compiler there */
	assert_int_equal(lstat(f->bin, &st), 0);
	assert_int_equal(st.st_uid, 0);
	/* the gate: root's, closed to the run user before any run and
	 * but while a build runs (an existing one is left as it is at
	 * setup: another process may be building through it) */
	assert_int_equal(pb_ccache_close(&c), PB_OK);
	assert_int_equal(lstat(f->dir, &st), 0);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(as_user_can_write(&id, path), 0);
	/* not while a process of the run user lives (one that outlived
	 * its run could write through the open gate) */
	{
		pid_t pid = fork();
		int status;

		assert_true(pid >= 0);
		if (pid == 0) {
			if (setgroups(0, NULL) < 0 || setgid(id.gid) < 0 ||
			    setuid(id.uid) < 0)
				_exit(2);
			pause();
			_exit(0);
		}
		for (int tries = 0; tries < 200; tries++) { /* until it is */
			struct stat ps;
			char proc[64];

			snprintf(proc, sizeof(proc), "/proc/%ld", (long)pid);
			if (stat(proc, &ps) == 0 && ps.st_uid == id.uid)
				break;
			usleep(10000);
		}
		assert_int_equal(pb_ccache_open(&c), 0);
		assert_non_null(strstr(pb_error_last(), "is alive"));
		assert_int_equal(as_user_can_write(&id, path), 0);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
	}
	assert_int_equal(pb_ccache_open(&c), 1);
	assert_int_equal(as_user_can_write(&id, path), 1);
	assert_int_equal(pb_ccache_close(&c), PB_OK);
	assert_int_equal(as_user_can_write(&id, path), 0);
	/* a gate replaced by something else is refused, not opened */
	{
		char moved[200];

		snprintf(moved, sizeof(moved), "%s.moved", f->dir);
		assert_int_equal(rename(f->dir, moved), 0);
		assert_int_equal(symlink(moved, f->dir), 0);
		assert_int_equal(pb_ccache_open(&c), PB_EINFRA);
		assert_int_equal(unlink(f->dir), 0);
		assert_int_equal(rename(moved, f->dir), 0);
	}
	pb_ccache_release(&c);
	/* an earlier layout - the gate's path was the cache itself, the run
	 * user's - is replaced by a fresh gate, closed */
	assert_int_equal(chown(f->dir, id.uid, id.gid), 0);
	assert_int_equal(pb_ccache_setup(&c, &o), PB_OK);
	assert_int_equal(lstat(f->dir, &st), 0);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(f->files, &st), 0);
	assert_int_equal(st.st_uid, id.uid);
	pb_ccache_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ccache__found_links_and_env,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_ccache__missing_or_off_makes_nothing, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_ccache__setup_again_replaces_links, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_ccache__given_to_run_user,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
