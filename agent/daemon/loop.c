/*
 * loop.c - perfbisect-agent's loop (see loop.h).
 *
 * One thread does the work; a second one exists only while a job fetches
 * and builds, to send the heartbeats that keep its lease (a build can take
 * longer than a lease).  Nothing is sent while a benchmark runs: the
 * heartbeat before each run extends the lease to cover it.
 *
 * The work directory (WORK_DIR):
 *   agent.lock    flock(2) of the agent using it, holding its pid
 *   repos/        bare copies of the jobs' repositories, NAME-HASH.git
 *   builds/       the build cache (cache.h)
 *   spool/        run records not yet posted (spool.h)
 *   scratch/      one directory per build or run, its TMPDIR, removed after
 *   ccache/       the gate (open during builds only) of files/, CCACHE_DIR,
 *                 when ccache is installed (agent/ccache.h)
 *   ccache-bin/   cc, gcc, c++, g++, clang, clang++ -> ccache, put first in
 *                 a build's PATH ("masquerade"), so every compiler a build
 *                 system finds on PATH goes through ccache
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/daemon/backoff.h"
#include "agent/daemon/cache.h"
#include "agent/daemon/loop.h"
#include "agent/daemon/net.h"
#include "agent/daemon/record.h"
#include "agent/daemon/spool.h"
#include "agent/ccache.h"
#include "agent/facts.h"
#include "agent/hostlock.h"
#include "agent/interfere.h"
#include "agent/measure.h"
#include "agent/runner.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/git.h"
#include "common/human.h"
#include "common/log.h"
#include "common/proc.h"
#include "common/proto.h"
#include "common/util.h"

/* Seconds a single call may take; a lease request waits wait_s longer. */
#define CALL_TIMEOUT_S 30.0
#define LEASE_GRACE_S 15.0
/* Lines and width of a failed build's log sent as log_tail. */
#define TAIL_LINES 40
#define TAIL_WIDTH 240
#define TAIL_MAX (16 * 1024)

struct agent {
	const struct pb_agent_opts *o;
	volatile sig_atomic_t *stop;
	struct pb_net *net;       /* the main thread's; a job's heartbeats
				   * have their own (a curl handle is one
				   * thread's) */
	struct pb_net_opts net_opts;
	struct pb_backoff bo;
	struct pb_identity id;
	char *work, *repos, *builds, *spool, *scratch;
	struct pb_ccache ccache;  /* .prog NULL: none, or --no-ccache */
	int work_fd;              /* agent.lock, flocked */
	struct pb_facts raw;      /* what pb_agent_facts points into */
	struct pb_agent_facts facts;
	int fatal;                /* the server refused the token */
	char last_error[320];     /* the last network failure, for a person */
	struct run_count {        /* runs taken per commit: the start node */
		char sha[41];
		unsigned n;
	} *counts;
	size_t ncounts;
	int described;            /* what the machine measures was said */
	size_t spooled;           /* records the spool held at the last try */
	double next_wait;         /* the back-off after the last failed call */
	char request_id[33];      /* of the lease request being retried, */
	int retrying;             /* ... when retrying is set */
};

/* --- small things --------------------------------------------------------- */

/* Sleeps s seconds unless a stop is requested meanwhile; 0 when stopped. */
static int nap(struct agent *A, double s)
{
	double end = pb_now_mono() + s;

	while (!*A->stop) {
		double left = end - pb_now_mono();

		if (left <= 0)
			return 1;
		pb_sleep(left < 0.25 ? left : 0.25);
	}
	return 0;
}

static char *join(const char *a, const char *b)
{
	char *p = pb_path_join(a, b);

	if (!p)
		pb_error_set("out of memory");
	return p;
}

/* 32 hex digits from the kernel's random source: a request id. */
static int random_id(char out[33])
{
	unsigned char r[16];
	size_t got = 0;

	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return pb_error_code(PB_EINFRA, "getrandom: %s",
					     strerror(errno));
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	return PB_OK;
}

/* The how-many-th run of commit sha this agent takes (0, 1, ...). */
static unsigned next_run_index(struct agent *A, const char *sha)
{
	struct run_count *nv;

	for (size_t i = 0; i < A->ncounts; i++)
		if (!strcmp(A->counts[i].sha, sha))
			return A->counts[i].n++;
	nv = realloc(A->counts, (A->ncounts + 1) * sizeof(*nv));
	if (!nv)
		return 0; /* rotation restarts: harmless */
	A->counts = nv;
	pb_strlcpy(nv[A->ncounts].sha, sha, sizeof(nv->sha));
	nv[A->ncounts++].n = 1;
	return 0;
}

/* --- talking to the server ------------------------------------------------ */

enum { STOPPABLE = 1, ABORTABLE = 2 };

/* 401 and 403 end the agent: no retry can fix a token. */
static int refused(struct agent *A, const struct pb_http_reply *r)
{
	struct pb_proto_reply rep;

	if (r->status != 401 && r->status != 403)
		return 0;
	(void)pb_proto_reply_parse(r->body.ptr, r->body.len, &rep);
	pb_log_warnx("the server at %s refused this agent's token (HTTP "
		     "%ld%s%s): check --token-file and `perfbisectd "
		     "--add-agent`", A->o->server, r->status,
		     rep.error[0] ? ": " : "", rep.error);
	A->fatal = 1;
	return 1;
}

/*
 * POSTs body to path until an answer that is not a 5xx comes (PB_OK,
 * *out holds it), backing off between tries.  Gives up with PB_EINFRA
 * (A->last_error says why) after max_tries tries (0: no limit), once
 * `deadline` (pb_now_mono(); < 0: none) passes, or - with STOPPABLE - when
 * a stop is requested.  ABORTABLE cuts a transfer short on a stop.  401 and
 * 403 set A->fatal and give PB_EINFRA.
 */
static int call(struct agent *A, const char *path, const char *body,
		double timeout_s, int flags, double deadline, unsigned max_tries,
		struct pb_http_reply *out)
{
	unsigned tries = 0;

	for (;;) {
		double wait;

		pb_net_post(A->net, path, body, strlen(body), timeout_s,
			    flags & ABORTABLE, out);
		tries++;
		if (out->status && out->status < 500) {
			pb_backoff_reset(&A->bo);
			return refused(A, out) ? PB_EINFRA : PB_OK;
		}
		if (out->status) {
			struct pb_proto_reply rep;

			(void)pb_proto_reply_parse(out->body.ptr, out->body.len,
						   &rep);
			snprintf(A->last_error, sizeof(A->last_error),
				 "%s: HTTP %ld%s%.200s", path, out->status,
				 rep.error[0] ? ": " : "", rep.error);
		} else {
			snprintf(A->last_error, sizeof(A->last_error),
				 "%s: %s", path, out->error);
		}
		if (out->aborted || ((flags & STOPPABLE) && *A->stop))
			return pb_error_code(PB_EINFRA, "stopped");
		wait = pb_backoff_next(&A->bo, out->retry_after);
		A->next_wait = wait;
		if ((max_tries && tries >= max_tries) ||
		    (deadline >= 0 && pb_now_mono() + wait > deadline))
			return pb_error_code(PB_EINFRA, "%s", A->last_error);
		pb_log_info("%s; trying again in %.1f s", A->last_error, wait);
		pb_http_reply_release(out);
		if (!nap(A, wait) && (flags & STOPPABLE)) {
			pb_http_reply_init(out);
			return pb_error_code(PB_EINFRA, "stopped");
		}
	}
}

/* --- the spool ------------------------------------------------------------ */

enum post_result { POSTED, LOST, REJECTED, KEPT };

/* Posts one spooled record; removes it after a 2xx or a 409, moves it to
 * rejected/ after a 400 or 413.  rep (may be NULL) gets the answer. */
static enum post_result post_spooled(struct agent *A, const char *name,
				     const char *body, size_t len,
				     unsigned max_tries,
				     struct pb_proto_reply *rep)
{
	struct pb_http_reply r;
	struct pb_proto_reply dummy;
	enum post_result res = KEPT;
	int rc;

	(void)len;
	if (!rep)
		rep = &dummy;
	memset(rep, 0, sizeof(*rep));
	rep->cont = 1;
	rc = call(A, "/api/v1/runs", body, CALL_TIMEOUT_S, STOPPABLE, -1,
		  max_tries, &r);
	if (rc < 0)
		goto out;
	(void)pb_proto_reply_parse(r.body.ptr, r.body.len, rep);
	if (r.status >= 200 && r.status < 300) {
		res = POSTED;
	} else if (r.status == 409) {
		res = LOST;
		pb_log_info("record %s: the server keeps it but does not count "
			    "it: %s (lease %s)", name,
			    rep->error[0] ? rep->error : "conflict",
			    rep->lease_state[0] ? rep->lease_state : "unknown");
	} else if (r.status == 400 || r.status == 413) {
		res = REJECTED;
		pb_log_warnx("record %s refused by the server (HTTP %ld: %s); "
			     "moved to %s/rejected", name, r.status,
			     rep->error[0] ? rep->error : "no reason given",
			     A->spool);
	} else {
		snprintf(A->last_error, sizeof(A->last_error),
			 "/api/v1/runs: HTTP %ld%s%.200s", r.status,
			 rep->error[0] ? ": " : "", rep->error);
		pb_log_warnx("record %s: %s; kept in the spool", name,
			     A->last_error);
	}
	if (res == POSTED || res == LOST)
		rc = pb_spool_remove(A->spool, name);
	else if (res == REJECTED)
		rc = pb_spool_reject(A->spool, name);
	if (rc < 0)
		pb_log_warnx("%s", pb_error_last());
out:
	pb_http_reply_release(&r);
	return res;
}

/* Posts what the spool holds, one try each: PB_OK when it is empty
 * afterwards, PB_EINFRA when the server could not take it now. */
static int replay_spool(struct agent *A)
{
	char **names;
	size_t n;
	int rc, down = 0;

	if ((rc = pb_spool_list(A->spool, &names, &n)) < 0) {
		pb_log_warnx("%s", pb_error_last());
		return rc;
	}
	if (n && n != A->spooled)
		pb_log_info("posting %zu record%s left in the spool", n,
			    n == 1 ? "" : "s");
	A->spooled = n;
	for (size_t i = 0; i < n && !down && !A->fatal; i++) {
		char *body;
		size_t len;

		rc = pb_spool_read(A->spool, names[i], &body, &len);
		if (rc == PB_ENOTFOUND)
			continue;
		if (rc < 0) {
			pb_log_warnx("%s", pb_error_last());
			if (rc == PB_ETOOBIG)
				(void)pb_spool_reject(A->spool, names[i]);
			continue;
		}
		down = post_spooled(A, names[i], body, len, 1, NULL) == KEPT;
		free(body);
	}
	pb_spool_list_free(names, n);
	if (!down)
		A->spooled = 0;
	return down || A->fatal ? PB_EINFRA : PB_OK;
}

/* --- heartbeats ----------------------------------------------------------- */

struct beat {
	struct agent *A;
	struct pb_net *net;       /* its own: the thread and the main thread
				   * call at once during builds */
	char path[256];
	double every_s;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int running, quit;
	int lost, stop;           /* 409; "continue": false */
	char why[160];
};

/* Reads a heartbeat's answer into b (b->mu held or single-threaded). */
static void beat_answer(struct beat *b, const struct pb_http_reply *r)
{
	struct pb_proto_reply rep;

	(void)pb_proto_reply_parse(r->body.ptr, r->body.len, &rep);
	if (r->status == 409) {
		b->lost = 1;
		snprintf(b->why, sizeof(b->why), "the lease is no longer ours "
			 "(%s)", rep.lease_state[0] ? rep.lease_state
						     : "no state given");
	} else if (r->status >= 200 && r->status < 300 && !rep.cont) {
		b->stop = 1;
		snprintf(b->why, sizeof(b->why), "the bisection needs no more "
			 "runs of this job");
	}
}

/* One heartbeat, no retry: a lost one is made up by the next. */
static void beat_once(struct beat *b, double run_s, int locked)
{
	struct pb_http_reply r;
	char *body = pb_proto_heartbeat_json(run_s);

	if (!body)
		return;
	pb_net_post(b->net ? b->net : b->A->net, b->path, body, strlen(body),
		    CALL_TIMEOUT_S, 0, &r);
	if (r.status && !refused(b->A, &r)) {
		if (locked)
			pthread_mutex_lock(&b->mu);
		beat_answer(b, &r);
		if (locked)
			pthread_mutex_unlock(&b->mu);
	} else if (!r.status) {
		pb_log_debug("heartbeat: %s", r.error);
	}
	pb_http_reply_release(&r);
	free(body);
}

static void *beat_main(void *arg)
{
	struct beat *b = arg;
	struct timespec until;

	pthread_mutex_lock(&b->mu);
	while (!b->quit) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)b->every_s;
		until.tv_nsec += (long)((b->every_s - floor(b->every_s)) * 1e9);
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!b->quit &&
		       pthread_cond_timedwait(&b->cv, &b->mu, &until) != ETIMEDOUT)
			;
		if (b->quit)
			break;
		pthread_mutex_unlock(&b->mu);
		beat_once(b, 0, 1);
		pthread_mutex_lock(&b->mu);
		if (b->lost || b->stop)
			break; /* the job stops: nothing more to keep */
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

static void beat_init(struct beat *b, struct agent *A, const char *lease,
		      double every_s)
{
	pthread_condattr_t ca;

	memset(b, 0, sizeof(*b));
	b->A = A;
	b->every_s = every_s > 0.1 ? every_s : 0.1;
	snprintf(b->path, sizeof(b->path), "/api/v1/leases/%s/heartbeat",
		 lease);
	pthread_mutex_init(&b->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pb_net_new(&b->net, &A->net_opts) < 0)
		b->net = NULL; /* then no thread: beat_start() */
}

/* Heartbeats every b->every_s from a thread, until beat_stop(). */
static void beat_start(struct beat *b)
{
	b->quit = 0;
	if (b->net && pthread_create(&b->thread, NULL, beat_main, b) == 0)
		b->running = 1;
	else
		pb_log_warnx("cannot start the heartbeat thread: the lease "
			     "may expire during a long build");
}

static void beat_stop(struct beat *b)
{
	if (!b->running)
		return;
	pthread_mutex_lock(&b->mu);
	b->quit = 1;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
	pthread_join(b->thread, NULL);
	b->running = 0;
}

static void beat_release(struct beat *b)
{
	beat_stop(b);
	pb_net_free(b->net);
	b->net = NULL;
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->mu);
}

/* Whether the job must stop: the lease lost, no runs wanted, a stop asked
 * for or the token refused.  Safe while the thread runs. */
static int beat_over(struct beat *b)
{
	int over;

	pthread_mutex_lock(&b->mu);
	over = b->lost || b->stop;
	pthread_mutex_unlock(&b->mu);
	return over || *b->A->stop || b->A->fatal;
}

/* --- a job ---------------------------------------------------------------- */

enum build_state { B_UNKNOWN = 0, B_BUILT, B_FAILED };

struct build {
	char sha[41];
	char key[PB_CACHE_KEY_MAX];
	char *tree;
	enum build_state state;
	struct pb_digest_memo memo;
};

struct job {
	struct agent *A;
	struct pb_job *j;
	struct beat beat;
	struct pb_git *git;
	struct pb_measure *measure;
	struct build *b;
	size_t nb;
	char threads_env[64];
	int ran;                  /* runs taken */
	int over;                 /* its last record ended it: no `done` */
};

static struct build *build_of(struct job *J, const char *sha)
{
	for (size_t i = 0; i < J->nb; i++)
		if (!strcmp(J->b[i].sha, sha))
			return &J->b[i];
	return NULL;
}

/* The distinct commits of the job, in the order of their first run. */
static int plan_builds(struct job *J)
{
	J->b = calloc(J->j->nruns, sizeof(*J->b));
	if (!J->b)
		return pb_error_set("out of memory");
	for (size_t i = 0; i < J->j->nruns; i++) {
		struct build *b;

		if (build_of(J, J->j->runs[i].commit))
			continue;
		b = &J->b[J->nb++];
		pb_strlcpy(b->sha, J->j->runs[i].commit, sizeof(b->sha));
		pb_digest_memo_init(&b->memo);
		if (pb_cache_key(b->key, b->sha, J->j->build) < 0 ||
		    !(b->tree = pb_cache_tree(J->A->builds, b->key)))
			return PB_ERROR;
	}
	return PB_OK;
}

/* WORK_DIR/repos/NAME-HASH.git: NAME from the job (letters, digits, '.',
 * '_', '-'), HASH of the URL, so two URLs never share a copy. */
static char *repo_dir(struct agent *A, const struct pb_job *j)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char name[96], leaf[160];
	size_t k = 0;

	for (const char *p = j->repo_name; *p && k < 64; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
		    (*p == '.' && k))
			name[k++] = *p;
	name[k] = '\0';
	if (!EVP_Digest(j->repo_url, strlen(j->repo_url), md, &len,
			EVP_sha256(), NULL) ||
	    len < 6) {
		pb_error_set("cannot hash the repository URL");
		return NULL;
	}
	snprintf(leaf, sizeof(leaf), "%s%s%02x%02x%02x%02x%02x%02x.git",
		 name, k ? "-" : "", md[0], md[1], md[2], md[3], md[4], md[5]);
	return join(A->repos, leaf);
}

/* Clones the job's repository, or fetches when a commit it names is
 * missing from the copy. */
static int open_repo(struct job *J)
{
	struct agent *A = J->A;
	char *dir = repo_dir(A, J->j);
	struct stat st;
	int rc, missing = 0;

	if (!dir)
		return PB_ERROR;
	if (stat(dir, &st) == 0 && pb_git_open(&J->git, dir) < 0) {
		pb_log_warnx("'%s' is not a repository any more: cloning "
			     "again", dir);
		(void)pb_rm_rf(dir);
	}
	if (!J->git) {
		pb_log_info("cloning %s", J->j->repo_url);
		if ((rc = pb_git_clone_bare(&J->git, J->j->repo_url, dir)) < 0)
			goto out;
	}
	for (size_t i = 0; i < J->nb; i++)
		missing += !pb_git_has_commit(J->git, J->b[i].sha);
	if (missing) {
		pb_log_info("fetching %s", J->j->repo_url);
		if ((rc = pb_git_fetch(J->git, J->j->repo_url)) < 0)
			goto out;
	}
	rc = PB_OK;
out:
	free(dir);
	return rc;
}

/* A scratch directory for one build or run, given to the run user: its
 * TMPDIR, removed afterwards.  *env_out is "TMPDIR=DIR" (malloc'd). */
static int make_scratch(struct agent *A, char **dir_out, char **env_out)
{
	struct pb_buf b = PB_BUF_INIT(PATH_MAX + 16);
	char *dir;

	*dir_out = *env_out = NULL;
	if (pb_buf_printf(&b, "%s/run-XXXXXX", A->scratch) < 0)
		return pb_error_set("scratch path too long");
	dir = pb_buf_detach(&b);
	if (!dir)
		return pb_error_set("out of memory");
	if (!mkdtemp(dir)) {
		int e = errno;

		free(dir);
		return pb_error_code(PB_EINFRA, "cannot make a scratch "
				     "directory in '%s': %s", A->scratch,
				     strerror(e));
	}
	if (A->id.drop && chown(dir, A->id.uid, A->id.gid) < 0) {
		int rc = pb_error_code(PB_EINFRA, "cannot give '%s' to user "
				       "'%s': %s", dir, A->id.user,
				       strerror(errno));

		(void)rmdir(dir);
		free(dir);
		return rc;
	}
	if (pb_buf_printf(&b, "TMPDIR=%s", dir) < 0 ||
	    !(*env_out = pb_buf_detach(&b))) {
		(void)rmdir(dir);
		free(dir);
		return pb_error_set("out of memory");
	}
	*dir_out = dir;
	return PB_OK;
}

static void drop_scratch(char *dir, char *env)
{
	if (dir && pb_rm_rf(dir) < 0)
		pb_log_warnx("%s", pb_error_last());
	free(dir);
	free(env);
}

/* The environment a build gets besides ours: its TMPDIR, the threads of
 * the configuration, and ccache in front of the compilers unless the
 * benchmark says "ccache": false (agent/ccache.h). */
struct build_env {
	char *v[3 + PB_CCACHE_ENV_MAX];
};

static void build_env_init(struct build_env *e, struct job *J,
			   char *tmpdir_env, int use_ccache)
{
	size_t k = 0;

	memset(e, 0, sizeof(*e));
	e->v[k++] = tmpdir_env;
	if (J->threads_env[0])
		e->v[k++] = J->threads_env;
	k = pb_ccache_env(&J->A->ccache, J->j->ccache && use_ccache, e->v, k);
	e->v[k] = NULL;
}

/* Tells the server commit sha does not build.  PB_OK, or PB_EINFRA when
 * the job must stop (the lease lost, no runs wanted, a stop). */
static int post_build_failed(struct job *J, const char *sha,
			     const char *reason, const char *log)
{
	struct agent *A = J->A;
	struct pb_buf tail = PB_BUF_INIT(TAIL_MAX);
	struct pb_http_reply r;
	char path[256], *body;
	int rc;

	pb_human_tail(&tail, log ? log : "", TAIL_LINES, TAIL_WIDTH, "");
	body = pb_proto_build_failed_json(sha, reason, tail.ptr);
	pb_buf_release(&tail);
	if (!body)
		return pb_error_set("out of memory");
	snprintf(path, sizeof(path), "/api/v1/leases/%s/build-failed",
		 J->j->lease);
	rc = call(A, path, body, CALL_TIMEOUT_S, STOPPABLE, -1, 0, &r);
	free(body);
	if (rc == PB_OK) {
		pthread_mutex_lock(&J->beat.mu);
		beat_answer(&J->beat, &r); /* same answers as a heartbeat */
		pthread_mutex_unlock(&J->beat.mu);
		if (r.status >= 300 && r.status != 409)
			pb_log_warnx("build-failed of %.12s: HTTP %ld", sha,
				     r.status);
	}
	pb_http_reply_release(&r);
	return rc;
}

/* Keeps the build cache within --cache-size, sparing this job's builds
 * (its runs still need them, even past the size). */
static void evict(struct job *J)
{
	const char **keep = calloc(J->nb, sizeof(*keep));
	unsigned n = 0;

	if (!keep)
		return; /* next time */
	for (size_t i = 0; i < J->nb; i++)
		keep[i] = J->b[i].key;
	if (pb_cache_evict(J->A->builds, J->A->o->cache_size, keep, J->nb,
			   &n) < 0)
		pb_log_warnx("%s", pb_error_last());
	else if (n)
		pb_log_info("removed %u least recently used build%s (over "
			    "--cache-size)", n, n == 1 ? "" : "s");
	free(keep);
}

/* Builds commit b once per agent (a cached build is taken as it is). */
static int ensure_built(struct job *J, struct build *b)
{
	struct agent *A = J->A;
	struct pb_build_result br;
	struct build_env env;
	struct pb_runner r;
	char *scratch = NULL, *tmpenv = NULL;
	uint64_t size = 0;
	int rc;

	if ((rc = pb_cache_lookup(A->builds, b->key)) < 0)
		return rc;
	if (rc == 1) {
		b->state = B_BUILT;
		pb_log_info("%.12s: built before", b->sha);
		return PB_OK;
	}
	if (!pb_git_has_commit(J->git, b->sha)) {
		b->state = B_FAILED;
		pb_log_warnx("%.12s is not in %s", b->sha, J->j->repo_url);
		return post_build_failed(J, b->sha, "commit not found in the "
					 "repository", "");
	}
	pb_log_info("building %.12s", b->sha);
	if ((rc = pb_cache_begin(A->builds, b->key)) < 0 ||
	    (rc = pb_git_checkout(J->git, b->sha, b->tree)) < 0 ||
	    (rc = pb_identity_own_tree(&A->id, b->tree)) < 0 ||
	    (rc = make_scratch(A, &scratch, &tmpenv)) < 0)
		goto fail;
	/* the compiler cache is open to the run user while it builds only:
	 * no run can plant an entry a later build takes */
	if ((rc = pb_ccache_open(&A->ccache)) >= 0) {
		int crc;

		if (rc == 0 && A->ccache.prog && J->j->ccache)
			pb_log_warnx("%s", pb_error_last());
		build_env_init(&env, J, tmpenv, rc == 1);
		r = (struct pb_runner){ b->tree, b->sha, &A->id, env.v, NULL,
					0 };
		rc = pb_runner_build(&br, &r, J->j->build,
				     J->j->build_timeout_s);
		if ((crc = pb_ccache_close(&A->ccache)) < 0 && rc >= 0) {
			pb_build_result_release(&br);
			rc = crc;
		}
	}
	drop_scratch(scratch, tmpenv);
	scratch = tmpenv = NULL;
	if (rc < 0)
		goto fail;
	if (br.ok) {
		rc = pb_cache_finish(A->builds, b->key, A->id.drop, &size);
		if (rc == PB_OK) {
			b->state = B_BUILT;
			pb_log_info("built %.12s in %.1f s (%.1f MiB)", b->sha,
				    br.wall_s, (double)size / 1048576.0);
		}
		pb_build_result_release(&br);
		if (rc < 0)
			goto fail;
		evict(J);
		return PB_OK;
	}
	b->state = B_FAILED;
	pb_log_info("build of %.12s failed (%s)", b->sha, br.reason);
	(void)pb_cache_discard(A->builds, b->key);
	rc = post_build_failed(J, b->sha, br.reason, br.log);
	pb_build_result_release(&br);
	return rc;
fail:
	drop_scratch(scratch, tmpenv);
	(void)pb_cache_discard(A->builds, b->key);
	return rc;
}

/* The heartbeat before a run: the lease then covers run_s seconds. */
static void heartbeat_before_run(struct job *J)
{
	beat_once(&J->beat, J->j->timeout_s, 0);
}

/* One line about a run for the person watching. */
static void say_run(struct job *J, const struct pb_job_run *jr,
		    const struct pb_run_result *res)
{
	char val[32];

	pb_human_si(val, sizeof(val), res->value);
	if (!res->ok)
		pb_log_info("run %u, %.12s: failed: %s", jr->index, jr->commit,
			    res->reason);
	else if (res->measured.disturbed)
		pb_log_info("run %u, %.12s: %s = %s, disturbed: %s", jr->index,
			    jr->commit, J->j->metric, val,
			    res->measured.disturbed_why);
	else
		pb_log_info("run %u, %.12s: %s = %s", jr->index, jr->commit,
			    J->j->metric, val);
	if (!J->A->described) {
		char what[1024];

		pb_measure_describe(J->measure, what, sizeof(what));
		pb_log_info("measuring: %s", what);
		J->A->described = 1;
	}
}

/* Takes run jr and posts its record.  PB_EINFRA when the job must stop. */
static int take_run(struct job *J, const struct pb_job_run *jr)
{
	struct agent *A = J->A;
	struct build *b = build_of(J, jr->commit);
	struct pb_run_result res;
	struct pb_run_row_wire w;
	struct pb_proto_reply rep;
	struct pb_runner r;
	char *scratch = NULL, *tmpenv = NULL, *body = NULL, name[256];
	char *env[3] = { NULL, NULL, NULL };
	enum post_result pr;
	int rc;

	if (!b || b->state != B_BUILT)
		return PB_OK; /* its build failed: the server drops the run */
	heartbeat_before_run(J);
	if (beat_over(&J->beat))
		return PB_EINFRA;
	/* a gate left open (a build cut short) is shut before anything
	 * runs */
	if ((rc = pb_ccache_close(&A->ccache)) < 0 ||
	    (rc = make_scratch(A, &scratch, &tmpenv)) < 0)
		return rc;
	env[0] = tmpenv;
	if (J->threads_env[0])
		env[1] = J->threads_env;
	r = (struct pb_runner){ b->tree, b->sha, &A->id, env, J->measure,
				next_run_index(A, b->sha) };
	rc = pb_runner_run(&res, &r, J->j->run, J->j->metric, J->j->timeout_s);
	drop_scratch(scratch, tmpenv);
	if (rc < 0) {
		pb_run_result_release(&res);
		return rc;
	}
	J->ran++;
	say_run(J, jr, &res);
	rc = pb_agent_record_fill(&w, &res, A->id.user, b->tree, b->sha,
				  &b->memo);
	if (rc == PB_OK &&
	    !(body = pb_proto_run_post_json(J->j->lease, jr->index, b->sha,
					    &w)))
		rc = PB_ERROR;
	pb_run_row_wire_release(&w);
	pb_run_result_release(&res);
	if (rc < 0)
		goto out;
	if ((rc = pb_spool_name(name, sizeof(name), J->j->lease, jr->index)) <
		    0 ||
	    (rc = pb_spool_put(A->spool, name, body, strlen(body))) < 0)
		goto out;
	pr = post_spooled(A, name, body, strlen(body), 0, &rep);
	if (pr == LOST) {
		J->beat.lost = 1;
		rc = PB_EINFRA;
	} else if (pr == KEPT) {
		rc = PB_EINFRA; /* stopped, or the server cannot take it */
	} else if (pr == POSTED && rep.job_done) {
		J->over = 1; /* the server ended the job with this record */
	} else if (pr == POSTED && !rep.cont) {
		J->beat.stop = 1;
		snprintf(J->beat.why, sizeof(J->beat.why), "the bisection "
			 "needs no more runs of this job");
	}
out:
	free(body);
	return rc;
}

static void call_done(struct job *J)
{
	struct pb_http_reply r;
	char path[256], *body = pb_proto_done_json();

	if (!body)
		return;
	snprintf(path, sizeof(path), "/api/v1/leases/%s/done", J->j->lease);
	/* a few tries, stopping or not: the job goes back sooner than its
	 * lease would expire */
	if (call(J->A, path, body, CALL_TIMEOUT_S, 0, pb_now_mono() + 30, 4,
		 &r) < 0)
		pb_log_warnx("done: %s (the lease will expire instead)",
			     J->A->last_error);
	pb_http_reply_release(&r);
	free(body);
}

static int setup_measure(struct job *J)
{
	const struct pb_agent_opts *o = J->A->o;
	struct pb_measure_opts mo = { o->sysroot, o->events, J->j->config,
				      o->nic, o->snoop, !o->no_rotate,
				      o->busy_threshold, 1 };
	int rc = pb_measure_new(&J->measure, &mo);

	if (rc < 0)
		return rc;
	if (pb_measure_threads(J->measure))
		snprintf(J->threads_env, sizeof(J->threads_env),
			 "PERFBISECT_THREADS=%u", pb_measure_threads(J->measure));
	return PB_OK;
}

static void do_job(struct agent *A, struct pb_job *j)
{
	struct job J;
	int rc;

	memset(&J, 0, sizeof(J));
	J.A = A;
	J.j = j;
	beat_init(&J.beat, A, j->lease, j->heartbeat_s);
	pb_log_info("job %lld (bisection %lld, %s): %zu run%s of %s",
		    (long long)j->id, (long long)j->bisection, j->kind,
		    j->nruns, j->nruns == 1 ? "" : "s",
		    j->bench_name[0] ? j->bench_name : j->metric);
	if ((rc = plan_builds(&J)) < 0 || (rc = setup_measure(&J)) < 0) {
		pb_log_warnx("cannot take job %lld: %s", (long long)j->id,
			     pb_error_last());
		goto done;
	}
	beat_start(&J.beat);
	if ((rc = open_repo(&J)) < 0) {
		pb_log_warnx("job %lld: %s", (long long)j->id, pb_error_last());
		goto done;
	}
	for (size_t i = 0; i < J.nb && !beat_over(&J.beat); i++)
		if ((rc = ensure_built(&J, &J.b[i])) < 0) {
			if (!beat_over(&J.beat))
				pb_log_warnx("job %lld: %s", (long long)j->id,
					     pb_error_last());
			goto done;
		}
	beat_stop(&J.beat);
	for (size_t i = 0; i < j->nruns && !beat_over(&J.beat); i++)
		if ((rc = take_run(&J, &j->runs[i])) < 0) {
			if (!beat_over(&J.beat) && !*A->stop)
				pb_log_warnx("job %lld: %s", (long long)j->id,
					     pb_error_last());
			break;
		}
done:
	beat_stop(&J.beat);
	if (J.beat.lost || J.beat.stop)
		pb_log_info("job %lld stops: %s", (long long)j->id,
			    J.beat.why[0] ? J.beat.why
					  : "the lease is no longer ours");
	if (!J.beat.lost && !A->fatal && !J.over)
		call_done(&J);
	pb_log_info("job %lld: %d run%s taken", (long long)j->id, J.ran,
		    J.ran == 1 ? "" : "s");
	beat_release(&J.beat);
	for (size_t i = 0; i < J.nb; i++) {
		free(J.b[i].tree);
		pb_digest_memo_release(&J.b[i].memo);
	}
	free(J.b);
	pb_measure_free(J.measure);
	pb_git_free(J.git);
}

/* --- asking for work ------------------------------------------------------ */

enum lease_result { L_JOB, L_NONE, L_RETRY, L_STOPPED, L_FATAL };

/* One try of a lease request.  A request that got no answer (L_RETRY,
 * A->next_wait says how long to wait) is tried again with the same
 * request_id, so a lease granted in an answer that was lost comes back;
 * an answered one makes the next request a new one.  On L_JOB *job is
 * filled. */
static enum lease_result ask(struct agent *A, double deadline,
			     struct pb_job *job)
{
	struct pb_http_reply r;
	char err[512], *body;
	unsigned wait_s = (unsigned)A->o->poll_s;
	enum lease_result res = L_NONE;
	int rc;

	memset(job, 0, sizeof(*job));
	if (deadline >= 0) {
		double left = deadline - pb_now_mono();

		if (left < wait_s)
			wait_s = left > 1 ? (unsigned)left : 1;
	}
	if (!A->retrying && random_id(A->request_id) < 0) {
		pb_log_warnx("%s", pb_error_last());
		return L_FATAL;
	}
	if (!(body = pb_proto_lease_request_json(A->request_id, wait_s,
						 &A->facts)))
		return L_FATAL;
	rc = call(A, "/api/v1/agents/lease", body, wait_s + LEASE_GRACE_S,
		  STOPPABLE | ABORTABLE, -1, 1, &r);
	free(body);
	if (rc < 0) {
		A->retrying = 1;
		res = A->fatal ? L_FATAL : *A->stop ? L_STOPPED : L_RETRY;
		goto out;
	}
	A->retrying = 0;
	if (r.status == 204) {
		res = L_NONE;
	} else if (r.status == 200) {
		rc = pb_proto_lease_parse(r.body.ptr, r.body.len, job, err,
					  sizeof(err));
		if (rc == PB_OK) {
			res = L_JOB;
		} else {
			pb_log_warnx("cannot read the job the server sent: %s",
				     err);
			if (job->lease[0]) {
				struct job J = { .A = A, .j = job };

				call_done(&J); /* hand it back */
			}
			pb_job_release(job);
		}
	} else {
		struct pb_proto_reply rep;

		(void)pb_proto_reply_parse(r.body.ptr, r.body.len, &rep);
		snprintf(A->last_error, sizeof(A->last_error),
			 "/api/v1/agents/lease: HTTP %ld%s%.200s", r.status,
			 rep.error[0] ? ": " : "", rep.error);
		pb_log_warnx("%s", A->last_error);
		if (!nap(A, pb_backoff_next(&A->bo, r.retry_after)))
			res = L_STOPPED;
	}
out:
	pb_http_reply_release(&r);
	return res;
}

/* --- setting up ----------------------------------------------------------- */

/* WORK_DIR/ccache-bin with the compilers' names linked to ccache, and
 * WORK_DIR/ccache/files for its files, given to the run user (behind a
 * gate: agent/ccache.h). */
static int setup_ccache(struct agent *A)
{
	struct pb_ccache_opts co = { NULL, NULL, A->builds, NULL, &A->id,
				     A->o->no_ccache };
	char *dir = join(A->work, "ccache"), *bin = join(A->work, "ccache-bin");
	int rc = PB_ERROR;

	if (dir && bin) {
		co.dir = dir;
		co.bin_dir = bin;
		rc = pb_ccache_setup(&A->ccache, &co);
	}
	free(dir);
	free(bin);
	return rc;
}

/* Locks WORK_DIR/agent.lock: one agent per work directory. */
static int lock_work(struct agent *A)
{
	char *path = join(A->work, "agent.lock"), pid[32];
	int fd, rc = PB_OK, n;

	if (!path)
		return PB_ERROR;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = pb_error_code(PB_EINFRA, "cannot open '%s': %s", path,
				   strerror(errno));
	} else if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		n = (int)pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		rc = pb_error_code(PB_EINFRA, "another perfbisect-agent (pid %s) "
				   "uses the work directory '%s'",
				   pid[0] ? pid : "unknown", A->work);
		close(fd);
	} else {
		n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
			pb_log_warnx("cannot write '%s'", path);
		A->work_fd = fd;
	}
	free(path);
	return rc;
}

/* Whether the run user can enter dir: checked by that user, in a child. */
static int check_enterable(struct agent *A, const char *dir)
{
	const char *argv[] = { "/bin/sh", "-c", "cd -- \"$1\"", "sh", dir,
			       NULL };
	char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct pb_proc_opts po = PB_PROC_OPTS_INIT;
	struct pb_proc_result pr;
	int rc;

	if (!A->id.drop)
		return PB_OK;
	po.argv = argv;
	po.envp = envp;
	po.cwd = "/";
	po.drop_privs = 1;
	po.uid = A->id.uid;
	po.gid = A->id.gid;
	po.timeout_s = 10;
	rc = pb_proc_run(&pr, &po);
	if (rc == PB_OK && !(pr.exited && pr.exit_code == 0))
		rc = pb_error_code(PB_EINFRA, "user '%s', who builds and runs "
				   "the benchmarks, cannot enter '%s': every "
				   "directory on the way must let it in "
				   "(chmod o+x)", A->id.user, dir);
	pb_proc_result_release(&pr);
	return rc;
}

static void collect_facts(struct agent *A)
{
	struct pb_machine m = { A->o->sysroot, A->o->nic, A->o->snoop };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (pb_facts_collect(&A->raw, &m) < 0)
		pb_log_warnx("%s", pb_error_last());
	A->facts = (struct pb_agent_facts){
		A->raw.kernel,      A->raw.cpu_model,  A->raw.numa_nodes
						? A->raw.numa_nodes
						: -1,
		cpus > 0 ? (int)cpus : -1, A->raw.numa_online, A->raw.snoop,
		A->raw.thp_enabled, A->raw.thp_defrag, A->raw.zone_reclaim_mode,
		A->raw.nic
	};
}

static int setup(struct agent *A)
{
	const struct pb_agent_opts *o = A->o;
	struct pb_net_opts no = { o->server, o->token, o->name, 10, A->stop };
	struct pb_measure *probe = NULL;
	struct pb_measure_opts mo = { o->sysroot, o->events, NULL, o->nic,
				      o->snoop, 0, 0, 0 };
	char real[PATH_MAX];
	int rc;

	A->net_opts = no; /* its strings are the options': they outlive it */
	if ((rc = pb_net_new(&A->net, &no)) < 0)
		return rc;
	/* --events, --nic and --snoop are checked now, not at the first job */
	if ((rc = pb_measure_new(&probe, &mo)) < 0)
		return rc;
	pb_measure_free(probe);
	if ((rc = pb_identity_resolve(&A->id, o->run_as)) < 0)
		return rc;
	if ((rc = pb_mkdir_p(o->work_dir, 0755)) < 0)
		return rc;
	if (!realpath(o->work_dir, real))
		return pb_error_code(PB_EINFRA, "cannot resolve '%s': %s",
				     o->work_dir, strerror(errno));
	if (!(A->work = pb_strdup(real)) ||
	    !(A->repos = join(A->work, "repos")) ||
	    !(A->builds = join(A->work, "builds")) ||
	    !(A->spool = join(A->work, "spool")) ||
	    !(A->scratch = join(A->work, "scratch")))
		return PB_ERROR;
	if ((rc = lock_work(A)) < 0 ||
	    (rc = pb_mkdir_p(A->repos, 0700)) < 0 ||
	    (rc = pb_cache_clean(A->builds)) < 0 ||
	    (rc = pb_spool_init(A->spool)) < 0 ||
	    (rc = pb_rm_rf(A->scratch)) < 0 ||
	    (rc = pb_mkdir_p(A->scratch, 0755)) < 0 ||
	    (rc = check_enterable(A, A->builds)) < 0 ||
	    (rc = setup_ccache(A)) < 0)
		return rc;
	collect_facts(A);
	pb_log_info("agent '%s' for %s: work directory %s; builds and runs "
		    "as user '%s'; %s", o->name, o->server, A->work, A->id.user,
		    A->ccache.prog ? "ccache in front of the compilers"
				   : o->no_ccache ? "no ccache (--no-ccache)"
						  : "no ccache (not installed)");
	return PB_OK;
}

static void teardown(struct agent *A)
{
	pb_net_free(A->net);
	if (A->work_fd > 0)
		close(A->work_fd);
	free(A->work);
	free(A->repos);
	free(A->builds);
	free(A->spool);
	free(A->scratch);
	pb_ccache_release(&A->ccache);
	free(A->counts);
	pb_facts_release(&A->raw);
}

int pb_agent_run(const struct pb_agent_opts *o, volatile sig_atomic_t *stop)
{
	struct agent A;
	struct pb_hostlock host;
	struct pb_job job;
	double deadline = -1;
	int code = 0;

	memset(&A, 0, sizeof(A));
	memset(&host, 0, sizeof(host));
	A.o = o;
	A.stop = stop;
	pb_backoff_init(&A.bo, o->backoff_min_s, o->backoff_max_s,
			(uint64_t)getpid() * 2654435761u ^
				(uint64_t)(pb_now_real() * 1e6));
	if (setup(&A) < 0) {
		pb_log_warnx("%s", pb_error_last());
		code = 3;
		goto out;
	}
	if (o->once && o->give_up_s >= 0)
		deadline = pb_now_mono() + o->give_up_s;
	while (!*stop && !A.fatal) {
		char holder[128];

		/* what the spool holds goes first; a server that cannot take
		 * it now is tried again before the next request for work,
		 * whose own tries back off (a record the server chokes on
		 * must not keep the agent from working) */
		if (replay_spool(&A) < 0 && A.fatal)
			break;
		/* While another program (`bisect --local`, another agent)
		 * builds or measures here, no work is asked for: the agent
		 * waits for the host lock, is woken when it is let go, and
		 * asks for work holding it, so the two take turns. */
		if (!host.held &&
		    pb_hostlock_busy(o->sysroot, holder, sizeof(holder))) {
			pb_log_info("%s builds or measures on this machine: "
				    "asking for work when it is done", holder);
			if (pb_hostlock_wait(&host, o->sysroot,
					     "perfbisect-agent", stop) < 0) {
				if (!*stop) {
					pb_log_warnx("%s", pb_error_last());
					nap(&A, 1);
				}
				continue;
			}
		}
		switch (ask(&A, deadline, &job)) {
		case L_JOB:
			break;
		case L_NONE:
			pb_hostlock_release(&host); /* idle: not ours to keep */
			if (deadline >= 0 && pb_now_mono() >= deadline)
				goto no_job;
			continue;
		case L_RETRY:
			pb_hostlock_release(&host);
			if (deadline >= 0 &&
			    pb_now_mono() + A.next_wait > deadline)
				goto gave_up;
			pb_log_info("%s; trying again in %.1f s", A.last_error,
				    A.next_wait);
			nap(&A, A.next_wait);
			continue;
		case L_STOPPED:
			continue;
		case L_FATAL:
			code = 3;
			goto out;
		}
		if (pb_hostlock_take(&host, o->sysroot, "perfbisect-agent",
				     PB_HOSTLOCK_TRY) < 0) {
			struct job J = { .A = &A, .j = &job };

			pb_log_info("%s: handing job %lld back",
				    pb_error_last(), (long long)job.id);
			call_done(&J);
			pb_job_release(&job);
			continue;
		}
		do_job(&A, &job);
		pb_hostlock_release(&host);
		pb_job_release(&job);
		if (o->once)
			break;
	}
	if (A.fatal)
		code = 3;
	else if (*stop)
		pb_log_info("stopped");
	goto out;
gave_up:
	pb_log_warnx("cannot reach the server at %s: %s (gave up after %g s)",
		     o->server, A.last_error, o->give_up_s);
	code = 3;
	goto out;
no_job:
	pb_log_warnx("no job came within %g s", o->give_up_s);
	code = 1;
out:
	pb_hostlock_release(&host);
	teardown(&A);
	return code;
}
