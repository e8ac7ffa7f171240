/*
 * api_report.c - GET /report/... : the static files of report_dir.
 *
 * The path after /report/ is decoded one segment at a time; a segment
 * that is "." or "..", or that decodes to one holding '/' or NUL, is
 * refused (400) before the file system is asked anything, and a segment
 * starting with '.' (".git", a temporary file) is not served (404).  The
 * file's real path (every symbolic link resolved) must still lie inside
 * the real report_dir, so a link out of the directory is not followed
 * (404); the file is then opened with O_NOFOLLOW and must be a regular
 * file.  A directory serves its index.html (a path to one without the
 * trailing '/' is redirected, so relative links work).  Only the report
 * generator writes report_dir, which makes the gap between the check and
 * the open harmless.
 */
#define _GNU_SOURCE /* pipe2, environ */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <poll.h>
#include <sys/wait.h>
#include <stdatomic.h>
#include <time.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "orchestrator/db.h"
#include "web/site.h"
#include "orchestrator/server/api.h"
#include "common/util.h"

static const struct {
	const char *ext, *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".htm", "text/html; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".jpg", "image/jpeg" },
	{ ".jpeg", "image/jpeg" },
	{ ".gif", "image/gif" },
	{ ".ico", "image/x-icon" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".csv", "text/csv; charset=utf-8" },
	{ ".log", "text/plain; charset=utf-8" },
};

static const char *content_type(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < PB_ARRAY_SIZE(types); i++) {
		size_t e = strlen(types[i].ext);

		if (n > e && !strcasecmp(path + n - e, types[i].ext))
			return types[i].type;
	}
	return "application/octet-stream";
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes one segment [s, s+n) onto out; a message for the client when it
 * is not one a file name may be. */
static const char *append_segment(struct pb_buf *out, const char *s, size_t n)
{
	size_t start = out->len;

	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '%') {
			int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
			int lo = i + 2 < n ? hexval(s[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				return "bad percent-escape in the path";
			ch = (char)(hi << 4 | lo);
			i += 2;
		}
		if (ch == '\0')
			return "a NUL in the path";
		if (ch == '/')
			return "an escaped '/' in the path";
		if (pb_buf_put(out, &ch, 1) < 0)
			return "the path is too long";
	}
	if (!strcmp(out->ptr + start, "..") || !strcmp(out->ptr + start, "."))
		return "'.' and '..' are not allowed in the path";
	return NULL;
}

/* 1 when `path` is `dir` or below it; both are real paths. */
static int below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return 1;
	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

static int serve(struct pb_http_req *req, struct pb_http_resp *resp)
{
	const struct pb_config *cfg = pb_srv_of(req)->cfg;
	const char *rest = pb_http_param(req, "*"), *why, *p;
	struct pb_buf rel = PB_BUF_INIT(PATH_MAX);
	char base[PATH_MAX], real[PATH_MAX], *full = NULL, *index = NULL;
	const char *target;
	struct stat st;
	int fd = -1, rc, dir_wanted, hidden = 0;

	if (!cfg->report_dir || !realpath(cfg->report_dir, base))
		return pb_http_resp_error(resp, 404, "no report here");
	/* split at '/', decode, refuse what is not a plain name */
	for (p = rest ? rest : ""; *p;) {
		size_t n = strcspn(p, "/"), start;

		if (n == 0)
			why = "an empty segment in the path";
		else if (rel.len && pb_buf_put(&rel, "/", 1) < 0)
			why = "the path is too long";
		else
			why = NULL;
		start = rel.len;
		if (why || (why = append_segment(&rel, p, n))) {
			pb_buf_release(&rel);
			return pb_http_resp_error(resp, 400, "%s", why);
		}
		if (rel.ptr[start] == '.')
			hidden = 1;
		p += n;
		if (*p == '/')
			p++;
	}
	if (hidden)
		goto not_found;
	dir_wanted = !rest || !*rest || rest[strlen(rest) - 1] == '/';
	full = pb_path_join(base, rel.len ? rel.ptr : ".");
	if (!full) {
		rc = pb_error_set("out of memory");
		goto out;
	}
	if (!realpath(full, real) || !below(real, base))
		goto not_found;
	if (stat(real, &st) < 0)
		goto not_found;
	target = real;
	if (S_ISDIR(st.st_mode)) {
		if (!dir_wanted) {
			struct pb_buf loc = PB_BUF_INIT(PATH_MAX + 16);

			pb_buf_printf(&loc, "%s/", req->path);
			pb_http_resp_empty(resp, 308);
			pb_http_resp_header(resp, "Location", loc.ptr);
			pb_buf_release(&loc);
			rc = PB_HTTP_DONE;
			goto out;
		}
		index = pb_path_join(real, "index.html");
		if (!index) {
			rc = pb_error_set("out of memory");
			goto out;
		}
		if (!realpath(index, real) || !below(real, base))
			goto not_found;
		target = real;
	}
	fd = open(target, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		goto not_found;
	pb_http_resp_fd(resp, 200, fd, (uint64_t)st.st_size,
			content_type(target));
	pb_http_resp_header(resp, "X-Content-Type-Options", "nosniff");
	fd = -1;
	rc = PB_HTTP_DONE;
	goto out;
not_found:
	rc = pb_http_resp_error(resp, 404, "no such file in the report");
out:
	if (fd >= 0)
		close(fd);
	free(full);
	free(index);
	pb_buf_release(&rel);
	return rc;
}

static int report_root(struct pb_http_req *req, struct pb_http_resp *resp)
{
	(void)req;
	pb_http_resp_empty(resp, 308);
	return pb_http_resp_header(resp, "Location", "/report/") < 0
		       ? PB_ERROR
		       : PB_HTTP_DONE;
}

/* ---- redrawing the pages ----
 *
 * A thread with its own read-only connection (WAL: it never holds up the
 * scheduler's writes) looks every report_interval_s whether the database
 * changed (PRAGMA data_version, then a fingerprint of what the pages
 * draw: an agent's poll moves the one, not the other) and then redraws the
 * site: a page whose
 * bytes are the same is not written again (web/site.h), so only the pages
 * a change touched are.  Drawing reads the whole site: on a large database
 * under a steady stream of runs it would redraw without pause, so the next
 * look waits at least REDRAW_QUIET times as long as the last drawing took
 * (the pages take at most a tenth of the time of one CPU), however short
 * report_interval_s is.  The drawing itself runs in a process of its own,
 * `perfbisectd --write-report` (this binary, /proc/self/exe): a drawing
 * that fails, or crashes on data nobody foresaw, costs that drawing - the
 * pages stay as they were, and the next change tries again - never the
 * service, and the whole site it loads is not held in the service's
 * memory. */
#define REDRAW_QUIET 9.0
/* A drawing that fails is tried again after report_interval_s, doubled
 * at each failure in a row up to FAIL_WAIT_MAX_S; one that runs longer
 * than DRAW_TIMEOUT_S is killed. */
#define FAIL_WAIT_MAX_S 600.0
#define DRAW_TIMEOUT_S 900

struct regen {
	struct pb_srv *srv;
	pthread_t th;
	int started;
	atomic_int stopping;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pid_t child;           /* the drawing process until reaped, or 0;
				* under mu */
};

static struct regen the_regen;

/* Draws the site in a child, `perfbisectd --write-report`, and reads
 * what it says it did into *st.  A child that takes longer than
 * DRAW_TIMEOUT_S is killed. */
static int draw_apart(struct regen *g, struct pb_site_stats *st)
{
	const struct pb_config *cfg = g->srv->cfg;
	char *argv[] = { "perfbisectd", "--write-report", "--db",
			 (char *)cfg->db, "--report-dir",
			 (char *)cfg->report_dir, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dflt;
	siginfo_t info;
	char out[256];
	size_t n = 0;
	int p[2], status = 0, e, timed_out = 0;
	double deadline = pb_now_mono() + DRAW_TIMEOUT_S;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return pb_error_code(PB_EINFRA, "pipe: %s", strerror(errno));
	/* the child's stdout is the pipe, nothing else of this process is
	 * open in it; its signals as a new process's (this one blocks
	 * SIGTERM in every thread and ignores SIGPIPE) */
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGTERM);
	sigaddset(&dflt, SIGINT);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dflt);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
				      POSIX_SPAWN_SETSIGDEF);
	e = posix_spawn(&pid, "/proc/self/exe", &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (e) {
		close(p[0]);
		return pb_error_code(PB_EINFRA, "cannot start the drawing "
				     "process: %s", strerror(e));
	}
	/* regen_stop() signals it from here until it is reaped (not after:
	 * its pid could be another process's by then) */
	pthread_mutex_lock(&g->mu);
	g->child = pid;
	if (g->stopping)
		kill(pid, SIGTERM);
	pthread_mutex_unlock(&g->mu);
	for (;;) {
		struct pollfd pf = { p[0], POLLIN, 0 };
		double left = deadline - pb_now_mono();
		char sink[512];
		ssize_t r;
		int k;

		if (left <= 0 && !timed_out) {
			timed_out = 1;
			kill(pid, SIGKILL); /* not reaped yet: still ours */
		}
		k = poll(&pf, 1, timed_out ? -1 : (int)(left * 1000) + 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k == 0)
			continue;
		r = n + 1 < sizeof(out)
			    ? read(p[0], out + n, sizeof(out) - 1 - n)
			    : read(p[0], sink, sizeof(sink));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (n + 1 < sizeof(out))
			n += (size_t)r;
	}
	out[n] = '\0';
	close(p[0]);
	/* ended, not reaped: no signal may reach its pid once it is */
	while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) < 0 &&
	       errno == EINTR)
		;
	pthread_mutex_lock(&g->mu);
	g->child = 0;
	pthread_mutex_unlock(&g->mu);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out)
		return pb_error_code(PB_EINFRA, "the drawing process took "
				     "over %d s and was killed",
				     DRAW_TIMEOUT_S);
	if (WIFSIGNALED(status))
		return pb_error_code(PB_EINFRA, "the drawing process was killed "
				     "by signal %d (%s)", WTERMSIG(status),
				     strsignal(WTERMSIG(status)));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return pb_error_code(PB_EINFRA, "the drawing process exited "
				     "with status %d (its error is logged "
				     "above)", WEXITSTATUS(status));
	if (sscanf(out, "%zu pages: %zu written, %zu unchanged", &st->pages,
		   &st->written, &st->unchanged) != 3)
		return pb_error_code(PB_EINFRA, "the drawing process said "
				     "'%.80s', not 'N pages: ...'", out);
	return PB_OK;
}

/* Returns the seconds spent drawing, 0 when nothing was drawn; *failed
 * set when the drawing failed. */
static double regen_once(struct regen *g, struct pb_db **db, int64_t *last,
			 char *print, size_t size, int *failed)
{
	const struct pb_config *cfg = g->srv->cfg;
	struct pb_site_stats st;
	char now[256];
	int64_t v;
	double t0;

	if (!*db && pb_db_open_readonly(db, cfg->db) < 0) {
		pb_log_warnx("report: cannot open %s: %s", cfg->db,
			     pb_error_last());
		return 0;
	}
	if (pb_db_data_version(*db, &v) < 0) {
		pb_log_warnx("report: %s", pb_error_last());
		pb_db_close(*db);
		*db = NULL;
		return 0;
	}
	if (v == *last)
		return 0;
	/* something committed: the agents' polls alone (last_seen) do not
	 * call for the whole site to be drawn again */
	if (pb_db_site_fingerprint(*db, now, sizeof(now)) < 0) {
		pb_log_warnx("report: %s", pb_error_last());
		return 0;
	}
	if (!strcmp(now, print)) {
		*last = v;
		return 0;
	}
	t0 = pb_now_mono();
	if (draw_apart(g, &st) < 0) {
		*failed = 1;
		/* the pages that could be drawn were; the rest next time */
		pb_log_warnx("report: drawing %s: %s; the pages stay as they "
			     "were, and are drawn again at the next look",
			     cfg->report_dir, pb_error_last());
		return pb_now_mono() - t0;
	}
	*last = v;
	pb_strlcpy(print, now, size);
	t0 = pb_now_mono() - t0;
	if (st.written)
		pb_log_info("report: %zu of %zu pages redrawn in %.2f s",
			    st.written, st.pages, t0);
	return t0;
}

static void *regen_main(void *arg)
{
	struct regen *g = arg;
	struct pb_db *db = NULL;
	int64_t last = -1;
	char print[256] = "";
	unsigned fails = 0;

	pthread_mutex_lock(&g->mu);
	while (!g->stopping) {
		struct timespec ts;

		double spent, wait;
		int failed = 0;

		pthread_mutex_unlock(&g->mu);
		spent = regen_once(g, &db, &last, print, sizeof(print),
				   &failed);
		pthread_mutex_lock(&g->mu);
		if (g->stopping)
			break;
		wait = (double)g->srv->cfg->report_interval_s;
		if (REDRAW_QUIET * spent > wait)
			wait = REDRAW_QUIET * spent;
		/* a drawing that keeps failing (a crash on the same data)
		 * is not started again every few seconds */
		fails = failed ? fails + 1 : 0;
		for (unsigned k = 1; k < fails && wait < FAIL_WAIT_MAX_S; k++)
			wait *= 2;
		if (fails > 1 && wait > FAIL_WAIT_MAX_S)
			wait = FAIL_WAIT_MAX_S;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)wait;
		ts.tv_nsec += (long)((wait - (double)(time_t)wait) * 1e9);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g->cv, &g->mu, &ts);
	}
	pthread_mutex_unlock(&g->mu);
	pb_db_close(db);
	return NULL;
}

static void regen_stop(void *arg)
{
	struct regen *g = arg;

	if (g->started) {
		pthread_mutex_lock(&g->mu);
		g->stopping = 1;
		pthread_cond_signal(&g->cv);
		/* a drawing under way is not waited for (a large site takes
		 * seconds): its pages are written whole or not at all */
		if (g->child > 0)
			kill(g->child, SIGTERM);
		pthread_mutex_unlock(&g->mu);
		pthread_join(g->th, NULL);
		g->started = 0;
	}
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
}

int pb_api_report_register(struct pb_http_server *http, struct pb_srv *srv)
{
	enum pb_http_auth a = srv->cfg->report_requires_token ? PB_HTTP_CLIENT
							      : PB_HTTP_OPEN;
	const struct pb_http_route routes[] = {
		{ "GET", "/report", report_root, a, 0, NULL },
		{ "GET", "/report/*", serve, a, 0, NULL },
	};

	int rc;

	if ((rc = pb_http_route_add(http, routes, PB_ARRAY_SIZE(routes))) < 0)
		return rc;
	if (!srv->cfg->report_dir || !srv->cfg->db)
		return PB_OK;
	memset(&the_regen, 0, sizeof(the_regen));
	the_regen.srv = srv;
	pthread_mutex_init(&the_regen.mu, NULL);
	pthread_cond_init(&the_regen.cv, NULL);
	if ((rc = pb_srv_at_stop(srv, regen_stop, &the_regen)) < 0)
		return rc;
	if (pthread_create(&the_regen.th, NULL, regen_main, &the_regen) != 0)
		return pb_error_code(PB_EINFRA, "cannot start the report's "
				     "thread");
	the_regen.started = 1;
	return PB_OK;
}
