/*
 * remote.c - the command line against perfbisectd (see remote.h).
 *
 * HTTP through the agent's libcurl client (agent/daemon/net.h): JSON
 * posts and gets with a bearer token, redirects never followed, capped
 * answers.  `bisect --server --wait` reads the bisection's state every
 * poll_s seconds until it ends, says what changed on stderr, prints the
 * same --json object the API answers, and exits as --local does: 0
 * culprit, 1 any other verdict or cancelled, 2 input error (the server
 * refused the request, or the bisection failed on its input), 3
 * infrastructure (the server unreachable, the bisection failed for the
 * machines).  `compare` starts a pull-request check the same way and
 * follows it the same way (a compare is read at GET /api/v1/bisections/ID
 * too); its exit status: 0 no_difference or faster, 1 slower,
 * inconclusive or cancelled, 2 and 3 as above.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/daemon/net.h"
#include "common/err.h"
#include "common/proto.h"
#include "common/util.h"
#include "orchestrator/remote.h"

#define TIMEOUT_S 60.0

/* The client token: --token-file (not readable by others), else
 * $PERFBISECT_TOKEN.  *out malloc'd. */
static int read_token(const struct pb_remote_opts *o, char **out)
{
	char buf[512];
	struct stat st;
	ssize_t n;
	int fd;

	*out = NULL;
	if (!o->token_file) {
		const char *t = getenv("PERFBISECT_TOKEN");

		if (!t || !*t)
			return pb_error_code(PB_EINVAL,
					     "no client token: give "
					     "--token-file FILE or set "
					     "PERFBISECT_TOKEN");
		*out = pb_strdup(t);
		return *out ? PB_OK : pb_error_code(PB_EINFRA, "out of memory");
	}
	fd = open(o->token_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pb_error_code(PB_EINVAL, "--token-file %s: %s",
				     o->token_file, strerror(errno));
	if (fstat(fd, &st) == 0 && (st.st_mode & 077)) {
		close(fd);
		return pb_error_code(PB_EINVAL,
				     "--token-file %s: readable by group or "
				     "others (chmod 600 it)", o->token_file);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return pb_error_code(PB_EINVAL, "--token-file %s: empty",
				     o->token_file);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	*out = pb_strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return *out ? PB_OK : pb_error_code(PB_EINFRA, "out of memory");
}

static int connect_to(const struct pb_remote_opts *o, struct pb_net **out)
{
	struct pb_net_opts no = { o->server, NULL, "perfbisect", 10, NULL };
	char *token;
	int rc;

	*out = NULL;
	if ((rc = read_token(o, &token)) < 0)
		return rc;
	no.token = token;
	if ((rc = pb_net_global_init()) == PB_OK &&
	    (rc = pb_net_new(out, &no)) < 0)
		pb_net_global_cleanup();
	explicit_bzero(token, strlen(token));
	free(token);
	return rc;
}

static void disconnect(struct pb_net *n)
{
	pb_net_free(n);
	pb_net_global_cleanup();
}

/* An answer that is an error: its message (or the status), exit 2 for
 * what the server refused as input (4xx), 3 otherwise. */
static int answer_error(const struct pb_remote_opts *o,
			const struct pb_http_reply *r, const char *what)
{
	struct pb_remote_state st;
	char msg[768];
	int code;

	if (r->status == 0) {
		snprintf(msg, sizeof(msg), "%s: server %s unreachable: %s", what,
			 o->server, r->error);
		code = 3;
	} else {
		if (pb_proto_parse_state(&st, r->body.ptr ? r->body.ptr : "",
					 r->body.len) < 0 ||
		    !st.error[0])
			snprintf(st.error, sizeof(st.error), "HTTP %ld",
				 r->status);
		snprintf(msg, sizeof(msg), "%s: %s (HTTP %ld)", what, st.error,
			 r->status);
		code = r->status >= 400 && r->status < 500 ? 2 : 3;
	}
	pb_error_code(code == 2 ? PB_EINVAL : PB_EINFRA, "%s", msg);
	return code;
}

static int is_compare(const struct pb_remote_state *st)
{
	return !strcmp(st->kind, "compare");
}

/* The exit status of a finished bisection's state (DESIGN.md's table),
 * or a compare's: 0 no_difference or faster, 1 slower or inconclusive. */
static int exit_of(const struct pb_remote_state *st)
{
	if (!strcmp(st->state, "failed"))
		return strstr(st->outcome, "infrastructure") ||
				       strstr(st->outcome, "busy")
			       ? 3
			       : 2;
	if (!strcmp(st->state, "cancelled"))
		return 1;
	if (is_compare(st))
		return !strcmp(st->result, "no_difference") ||
				       !strcmp(st->result, "faster")
			       ? 0
			       : 1;
	return !strcmp(st->verdict, "culprit") ? 0 : 1;
}

/* A compare's answer for a person: one sentence, then the numbers. */
static void say_compare(FILE *f, const struct pb_remote_state *st)
{
	char iv[96] = "";

	if (!strcmp(st->result, "slower") || !strcmp(st->result, "faster"))
		fprintf(f, "%s: head %.12s is %.1f %% %s than base %.12s\n",
			st->result, st->head, 100 * fabs(st->effect),
			st->result[0] == 's' ? "slower" : "faster", st->base);
	else if (!strcmp(st->result, "no_difference"))
		fprintf(f, "no difference: head %.12s and base %.12s perform "
			"the same within the smallest effect asked\n", st->head,
			st->base);
	else if (!strcmp(st->result, "inconclusive"))
		fprintf(f, "inconclusive: the runs could not tell head %.12s "
			"from base %.12s\n", st->head, st->base);
	else
		fprintf(f, "compare %lld %s%s%s\n", (long long)st->id,
			st->state, st->outcome[0] ? ": " : "", st->outcome);
	if (!isnan(st->lo))
		snprintf(iv, sizeof(iv), " (95 %% interval %+.1f %% to %+.1f %%)",
			 100 * st->lo, 100 * st->hi);
	if (!isnan(st->effect))
		fprintf(f, "  effect %+.1f %%%s, better-is direction\n",
			100 * st->effect, iv);
	fprintf(f, "  %lld runs per side, interleaved on agent '%s'\n",
		st->pairs, st->machine[0] ? st->machine : "(none yet)");
	if (st->outcome[0] && st->result[0])
		fprintf(f, "  %s\n", st->outcome);
}

static void say_end(const struct pb_remote_opts *o,
		    const struct pb_remote_state *st, long long id)
{
	size_t len = strlen(o->server);

	if (!strcmp(st->verdict, "culprit"))
		fprintf(stderr, "\nculprit: %s\n  %s\n", st->culprit,
			st->outcome);
	else if (!strcmp(st->state, "cancelled"))
		fprintf(stderr, "\ncancelled after %lld runs\n", st->runs);
	else
		fprintf(stderr, "\nno culprit (%s): %s\n",
			st->verdict[0] ? st->verdict : st->state, st->outcome);
	fprintf(stderr, "  %lld runs\n", st->runs);
	/* the page perfbisectd wrote when it ended */
	while (len && o->server[len - 1] == '/')
		len--;
	fprintf(stderr, "  report: %.*s/report/bisection-%lld.html\n",
		(int)len, o->server, id);
}

/* GET the bisection until it ends; prints it; the exit status. */
static int wait_for(const struct pb_remote_opts *o, struct pb_net *n,
		    long long id)
{
	char path[64];
	long long last_runs = -1;

	snprintf(path, sizeof(path), "/api/v1/bisections/%lld", id);
	for (;;) {
		struct pb_http_reply r;
		struct pb_remote_state st;
		int code;

		if (pb_net_get(n, path, TIMEOUT_S, &r) < 0 || r.status != 200) {
			code = answer_error(o, &r, "reading the bisection");
			pb_http_reply_release(&r);
			return code;
		}
		if (pb_proto_parse_state(&st, r.body.ptr, r.body.len) < 0) {
			pb_http_reply_release(&r);
			return 3;
		}
		if (strcmp(st.state, "running") && strcmp(st.state, "queued")) {
			code = exit_of(&st);
			if (o->json)
				printf("%.*s\n", (int)r.body.len, r.body.ptr);
			if (is_compare(&st) && !o->json)
				say_compare(stdout, &st);
			else if (is_compare(&st) && !o->quiet)
				say_compare(stderr, &st);
			else if (!o->quiet)
				say_end(o, &st, id);
			if (code >= 2)
				pb_error_code(code == 2 ? PB_EINVAL : PB_EINFRA,
					      "%s", st.outcome[0] ? st.outcome
								  : st.state);
			pb_http_reply_release(&r);
			return code;
		}
		if (!o->quiet && st.runs != last_runs) {
			fprintf(stderr, "  [%lld runs] %s %lld %s\n",
				st.runs,
				is_compare(&st) ? "compare" : "bisection", id,
				st.state);
			last_runs = st.runs;
		}
		pb_http_reply_release(&r);
		usleep((useconds_t)(o->poll_s * 1e6));
	}
}

int pb_remote_bisect(const struct pb_remote_opts *o,
		     const struct pb_remote_bisect *b)
{
	struct pb_net *n;
	struct pb_http_reply r;
	struct pb_remote_state st;
	char *body;
	int code;

	if ((code = connect_to(o, &n)) < 0)
		return code == PB_EINVAL ? 2 : 3;
	body = pb_proto_bisect_req_json(b->repo, b->benchmark, b->good, b->bad,
					b->config, b->confidence, b->max_runs,
					b->seed, b->min_effect);
	if (!body) {
		disconnect(n);
		return 3;
	}
	if (pb_net_post(n, "/api/v1/bisections", body, strlen(body),
			TIMEOUT_S, 0, &r) < 0 || r.status != 201) {
		code = answer_error(o, &r, "starting the bisection");
		goto out;
	}
	if (pb_proto_parse_state(&st, r.body.ptr, r.body.len) < 0) {
		code = 3;
		goto out;
	}
	if (!o->quiet)
		fprintf(stderr, "perfbisect: bisection %lld started on %s: "
			"%.12s..%.12s\n", (long long)st.id, o->server, st.good,
			st.bad);
	if (!b->wait) {
		if (o->json)
			printf("%.*s\n", (int)r.body.len, r.body.ptr);
		else
			printf("%lld\n", (long long)st.id);
		code = 0;
		goto out;
	}
	code = wait_for(o, n, (long long)st.id);
out:
	pb_http_reply_release(&r);
	free(body);
	disconnect(n);
	return code;
}

int pb_remote_compare(const struct pb_remote_opts *o,
		      const struct pb_remote_compare *c)
{
	struct pb_net *n;
	struct pb_http_reply r;
	struct pb_remote_state st;
	char *body;
	int code;

	if ((code = connect_to(o, &n)) < 0)
		return code == PB_EINVAL ? 2 : 3;
	body = pb_proto_compare_req_json(c->repo, c->benchmark, c->base,
					 c->head, c->min_effect);
	if (!body) {
		disconnect(n);
		return 3;
	}
	if (pb_net_post(n, "/api/v1/compare", body, strlen(body), TIMEOUT_S, 0,
			&r) < 0 || r.status != 201) {
		code = answer_error(o, &r, "starting the compare");
		goto out;
	}
	if (pb_proto_parse_state(&st, r.body.ptr, r.body.len) < 0) {
		code = 3;
		goto out;
	}
	if (!o->quiet)
		fprintf(stderr, "perfbisect: compare %lld started on %s: base "
			"%.12s, head %.12s\n", (long long)st.id, o->server,
			st.base, st.head);
	if (!c->wait) {
		if (o->json)
			printf("%.*s\n", (int)r.body.len, r.body.ptr);
		else
			printf("%lld\n", (long long)st.id);
		code = 0;
		goto out;
	}
	code = wait_for(o, n, (long long)st.id);
out:
	pb_http_reply_release(&r);
	free(body);
	disconnect(n);
	return code;
}

int pb_remote_status(const struct pb_remote_opts *o, long long id)
{
	struct pb_net *n;
	struct pb_http_reply r;
	char path[64];
	int code = 0;

	if ((code = connect_to(o, &n)) < 0)
		return code == PB_EINVAL ? 2 : 3;
	if (id > 0)
		snprintf(path, sizeof(path), "/api/v1/bisections/%lld", id);
	else
		snprintf(path, sizeof(path), "/api/v1/bisections");
	if (pb_net_get(n, path, TIMEOUT_S, &r) < 0 || r.status != 200) {
		code = answer_error(o, &r, "reading the state");
	} else if (id <= 0) {
		/* the list, and the alerts not fixed */
		struct pb_http_reply ra;
		char *text = NULL;

		if (pb_net_get(n, "/api/v1/alerts", TIMEOUT_S, &ra) < 0 ||
		    ra.status != 200)
			code = answer_error(o, &ra, "reading the alerts");
		else if (!(text = pb_proto_status_summary(
				   r.body.ptr, r.body.len, ra.body.ptr,
				   ra.body.len, o->json)))
			code = 3;
		else
			fputs(text, stdout), o->json ? putchar('\n') : 0;
		free(text);
		pb_http_reply_release(&ra);
	} else if (o->json) {
		printf("%.*s\n", (int)r.body.len, r.body.ptr);
	} else {
		struct pb_remote_state st;

		if (pb_proto_parse_state(&st, r.body.ptr, r.body.len) < 0) {
			code = 3;
		} else if (is_compare(&st)) {
			printf("compare %lld: %s%s%s, %lld runs\n", id, st.state,
			       st.result[0] ? ", " : "", st.result, st.runs);
			say_compare(stdout, &st);
		} else {
			printf("bisection %lld: %s%s%s, %lld runs\n", id,
			       st.state, st.verdict[0] ? ", " : "", st.verdict,
			       st.runs);
			if (st.culprit[0])
				printf("culprit: %s\n", st.culprit);
			if (st.outcome[0])
				printf("%s\n", st.outcome);
		}
	}
	pb_http_reply_release(&r);
	disconnect(n);
	return code;
}

int pb_remote_cancel(const struct pb_remote_opts *o, long long id)
{
	struct pb_net *n;
	struct pb_http_reply r;
	char path[80];
	int code = 0;

	if ((code = connect_to(o, &n)) < 0)
		return code == PB_EINVAL ? 2 : 3;
	snprintf(path, sizeof(path), "/api/v1/bisections/%lld/cancel", id);
	if (pb_net_post(n, path, "{}", 2, TIMEOUT_S, 0, &r) < 0 ||
	    r.status != 200)
		code = answer_error(o, &r, "cancelling");
	else if (!o->quiet)
		fprintf(stderr, "perfbisect: bisection %lld cancelled: its "
			"runs are kept\n", id);
	pb_http_reply_release(&r);
	disconnect(n);
	return code;
}

int pb_remote_merge(const struct pb_remote_opts *o, const char *repo,
		    const char *commit)
{
	struct pb_net *n;
	struct pb_http_reply r;
	char *body;
	int code = 0;

	if ((code = connect_to(o, &n)) < 0)
		return code == PB_EINVAL ? 2 : 3;
	body = pb_proto_merge_req_json(repo, commit);
	if (!body) {
		disconnect(n);
		return 3;
	}
	if (pb_net_post(n, "/api/v1/merges", body, strlen(body), TIMEOUT_S, 0,
			&r) < 0 ||
	    r.status != 202) {
		code = answer_error(o, &r, "posting the merge");
	} else if (o->json) {
		printf("%.*s\n", (int)r.body.len, r.body.ptr);
	} else if (!o->quiet) {
		fprintf(stderr, "perfbisect: %.*s\n", (int)r.body.len,
			r.body.ptr);
	}
	pb_http_reply_release(&r);
	free(body);
	disconnect(n);
	return code;
}
