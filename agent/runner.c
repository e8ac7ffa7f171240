/*
 * runner.c - build once, run many times (see runner.h).
 *
 * The child environment is ours plus PERFBISECT_COMMIT (and, when the
 * identity changes, HOME/USER/LOGNAME of the new user), built as an explicit
 * envp array, never by setenv() in our own process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/proc.h"
#include "agent/measure.h"
#include "agent/runner.h"
#include "common/util.h"

extern char **environ;

int pb_identity_resolve(struct pb_identity *out, const char *run_as)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	uid_t self = geteuid();

	memset(out, 0, sizeof(*out));
	if (self != 0) {
		if (getpwuid_r(self, &pw, buf, sizeof(buf), &res) != 0 || !res)
			return pb_error_code(PB_EINVAL,
					     "cannot look up the invoking user");
		if (run_as && strcmp(run_as, res->pw_name) != 0)
			return pb_error_code(PB_EINVAL,
					     "--run-as '%s' needs root: perfbisect "
					     "runs as '%s' and benchmarks run as "
					     "that user",
					     run_as, res->pw_name);
		out->drop = 0;
		out->uid = self;
		out->gid = getegid();
		pb_strlcpy(out->user, res->pw_name, sizeof(out->user));
		pb_strlcpy(out->home, res->pw_dir, sizeof(out->home));
		return PB_OK;
	}
	if (!run_as)
		run_as = "nobody";
	if (getpwnam_r(run_as, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return pb_error_code(PB_EINVAL, "--run-as: no such user '%s'",
				     run_as);
	if (res->pw_uid == 0)
		return pb_error_code(PB_EINVAL,
				     "--run-as '%s': benchmarks never run as root",
				     run_as);
	out->drop = 1;
	out->uid = res->pw_uid;
	out->gid = res->pw_gid;
	pb_strlcpy(out->user, res->pw_name, sizeof(out->user));
	pb_strlcpy(out->home, res->pw_dir, sizeof(out->home));
	return PB_OK;
}

static uid_t chown_uid;
static gid_t chown_gid;

static int chown_one(const char *path, const struct stat *st, int flag,
		     struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return lchown(path, chown_uid, chown_gid) < 0 ? -1 : 0;
}

int pb_identity_own_tree(const struct pb_identity *id, const char *dir)
{
	if (!id->drop)
		return PB_OK;
	/* nftw has no context argument; this runs on the main thread only. */
	chown_uid = id->uid;
	chown_gid = id->gid;
	if (nftw(dir, chown_one, 32, FTW_PHYS) < 0)
		return pb_error_code(PB_EINFRA, "cannot give '%s' to user '%s': %s",
				     dir, id->user, strerror(errno));
	return PB_OK;
}

/* Whether extra holds a NAME=... for the NAME of var (NAME=VALUE). */
static int overridden(const char *var, char *const *extra)
{
	size_t len = strcspn(var, "=");

	for (size_t i = 0; extra && extra[i]; i++)
		if (!strncmp(extra[i], var, len) && extra[i][len] == '=')
			return 1;
	return 0;
}

/* Builds the child's environment: ours, minus what we set (the names
 * below and those of r->extra_env, which replace ours: PATH, TMPDIR),
 * plus ours. */
static char **make_env(const struct pb_runner *r)
{
	static const char *const replaced[] = { "PERFBISECT_COMMIT=", "HOME=",
						"USER=", "LOGNAME=" };
	size_t n = 0, extra = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	while (r->extra_env && r->extra_env[extra])
		extra++;
	env = calloc(n + extra + 5, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int skip = 0;
		for (size_t j = 0; j < PB_ARRAY_SIZE(replaced); j++)
			if (!strncmp(environ[i], replaced[j], strlen(replaced[j])) &&
			    (j == 0 || r->id->drop))
				skip = 1;
		if (!skip && !overridden(environ[i], r->extra_env))
			env[k++] = environ[i];
	}
	for (size_t i = 0; i < extra; i++)
		env[k++] = r->extra_env[i];
	return env;
}

struct env_strings {
	char commit[64], home[300], user[80], logname[80];
};

static char **full_env(const struct pb_runner *r, struct env_strings *s)
{
	char **env = make_env(r);
	size_t k = 0;

	if (!env) {
		pb_error_set("out of memory");
		return NULL;
	}
	while (env[k])
		k++;
	snprintf(s->commit, sizeof(s->commit), "PERFBISECT_COMMIT=%s",
		 r->commit_sha);
	env[k++] = s->commit;
	if (r->id->drop) {
		snprintf(s->home, sizeof(s->home), "HOME=%s", r->id->home);
		snprintf(s->user, sizeof(s->user), "USER=%s", r->id->user);
		snprintf(s->logname, sizeof(s->logname), "LOGNAME=%s", r->id->user);
		env[k++] = s->home;
		env[k++] = s->user;
		env[k++] = s->logname;
	}
	env[k] = NULL;
	return env;
}

static char *join_output(const struct pb_proc_result *pr)
{
	struct pb_buf b = PB_BUF_INIT(PB_RUN_OUTPUT_MAX * 2 + 128);

	(void)pb_buf_put(&b, pr->out.ptr, pr->out.len);
	if (pr->out.truncated)
		(void)pb_buf_puts(&b, "\n[stdout truncated]\n");
	if (pr->err.len) {
		(void)pb_buf_puts(&b, "\n--- stderr ---\n");
		(void)pb_buf_put(&b, pr->err.ptr, pr->err.len);
		if (pr->err.truncated)
			(void)pb_buf_puts(&b, "\n[stderr truncated]\n");
	}
	return pb_buf_detach(&b);
}

static void setup_proc(struct pb_proc_opts *po, const struct pb_runner *r,
		       const char *const *argv, char **env, double timeout_s)
{
	po->argv = argv;
	po->envp = env;
	po->cwd = r->workdir;
	po->drop_privs = r->id->drop;
	po->uid = r->id->uid;
	po->gid = r->id->gid;
	po->timeout_s = timeout_s;
	po->out_max = PB_RUN_OUTPUT_MAX;
	po->err_max = PB_RUN_OUTPUT_MAX;
}

int pb_runner_build(struct pb_build_result *out, const struct pb_runner *r,
		    const char *cmd, double timeout_s)
{
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	struct pb_proc_opts po = PB_PROC_OPTS_INIT;
	struct pb_proc_result pr;
	struct env_strings es;
	char **env;
	int rc;

	memset(out, 0, sizeof(*out));
	env = full_env(r, &es);
	if (!env)
		return PB_ERROR;
	setup_proc(&po, r, argv, env, timeout_s);
	rc = pb_proc_run(&pr, &po);
	free(env);
	if (rc == PB_EINFRA) {
		pb_proc_result_release(&pr);
		return rc;
	}
	if (rc < 0) {
		snprintf(out->reason, sizeof(out->reason), "%s", pb_error_last());
	} else if (pr.exited && pr.exit_code == 0) {
		out->ok = 1;
	} else {
		char how[128];
		pb_proc_describe(&pr, timeout_s, how, sizeof(how));
		snprintf(out->reason, sizeof(out->reason), "build %s", how);
	}
	out->wall_s = pr.wall_s;
	out->log = join_output(&pr);
	pb_proc_result_release(&pr);
	return PB_OK;
}

void pb_build_result_release(struct pb_build_result *b)
{
	free(b->log);
	b->log = NULL;
}

static void feed_metrics(void *ctx, const char *data, size_t len)
{
	pb_metrics_feed(ctx, data, len);
}

int pb_runner_run(struct pb_run_result *out, const struct pb_runner *r,
		  const char *cmd, const char *metric, double timeout_s)
{
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	struct pb_measure_run *mr = NULL;
	struct pb_proc_hooks hooks;
	struct pb_proc_opts po = PB_PROC_OPTS_INIT;
	struct pb_proc_result pr;
	struct env_strings es;
	char **env;
	int rc;

	memset(out, 0, sizeof(*out));
	pb_metrics_init(&out->metrics);
	pb_run_measurements_init(&out->measured);
	if (r->measure &&
	    (rc = pb_measure_run_begin(&mr, r->measure, r->run_index,
				       &hooks)) < 0)
		return rc == PB_ERROR ? PB_EINFRA : rc;
	if (mr)
		pb_measure_run_watch(mr, r->workdir);
	env = full_env(r, &es);
	if (!env) {
		pb_measure_run_free(mr);
		return PB_ERROR;
	}
	setup_proc(&po, r, argv, env, timeout_s);
	po.on_stdout = feed_metrics;
	po.ctx = &out->metrics;
	po.hooks = mr ? &hooks : NULL;
	out->started_at = pb_now_real();
	rc = pb_proc_run(&pr, &po);
	free(env);
	pb_metrics_finish(&out->metrics);
	if (mr) {
		/* Settings that cannot be put back stop everything: the
		 * machine is no longer what the next run expects. */
		char why[256];
		int mrc;

		pb_strlcpy(why, rc < 0 ? pb_error_last() : "", sizeof(why));
		mrc = pb_measure_run_end(mr, &out->measured);
		pb_measure_run_files(mr, &out->tree_files);
		pb_measure_run_free(mr);
		if (mrc < 0 && rc != PB_EINFRA)
			rc = pb_error_code(PB_EINFRA, "a setting could not be put "
					   "back after the run: %s",
					   pb_error_last());
		else if (rc < 0)
			pb_error_set("%s", why);
	}
	if (rc == PB_EINFRA) {
		pb_proc_result_release(&pr);
		return rc;
	}
	out->exited = pr.exited;
	out->exit_code = pr.exit_code;
	out->signal = pr.signal;
	out->timed_out = pr.timed_out;
	out->wall_s = pr.wall_s;
	out->measured.cpu_s = pr.cpu_s;
	if (rc < 0) {
		snprintf(out->reason, sizeof(out->reason), "%s", pb_error_last());
	} else if (!pr.exited || pr.exit_code != 0) {
		char how[128];
		pb_proc_describe(&pr, timeout_s, how, sizeof(how));
		snprintf(out->reason, sizeof(out->reason), "benchmark %s", how);
	} else if (pb_metrics_get(&out->metrics, metric, &out->value) < 0) {
		snprintf(out->reason, sizeof(out->reason),
			 "no '%s: VALUE' line in the output%s", metric,
			 out->metrics.ignored ? " (some lines were ignored: "
						"see notes)" : "");
	} else {
		out->ok = 1;
	}
	out->output = join_output(&pr);
	pb_proc_result_release(&pr);
	return PB_OK;
}

void pb_run_result_release(struct pb_run_result *res)
{
	pb_metrics_release(&res->metrics);
	pb_run_measurements_release(&res->measured);
	pb_image_files_release(&res->tree_files);
	free(res->output);
	res->output = NULL;
}
