/*
 * proc.h - the one place that runs child processes.
 *
 * After git's run-command: a child is described as data (an argv vector, a
 * complete environment, a directory, an identity), never a shell string
 * pasted together; callers that want a shell pass {"/bin/sh", "-c", CMD}.
 * Every child:
 *   - leads its own process group, so a timeout kills it and everything it
 *     forked (kill(-pgid, SIGKILL)); whatever is left in the group when the
 *     leader exits is killed too, so a stray background job cannot hold the
 *     output pipes open;
 *   - dies with its parent (PR_SET_PDEATHSIG), so a killed perfbisect leaves
 *     no benchmark running;
 *   - enters its directory first and then, when asked, drops to an
 *     unprivileged uid/gid with no supplementary groups and sets
 *     PR_SET_NO_NEW_PRIVS, so it can never regain root;
 *   - gets /dev/null as stdin and inherits no descriptor but its pipes.
 * Output is read with poll() into capped buffers (buf.h); an optional
 * callback sees every stdout byte, also past the cap, so a streaming parser
 * is not fooled by a chatty child.  The parent waits on a pidfd, never sleeps.
 */
#ifndef PB_PROC_H
#define PB_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

struct pb_proc_opts {
	const char *const *argv; /* argv[0] is executed as is (no PATH search) */
	char *const *envp;       /* the child's whole environment */
	const char *cwd;         /* entered before privileges are dropped; NULL = ours */
	int drop_privs;          /* become uid:gid, no supplementary groups */
	uid_t uid;
	gid_t gid;
	double timeout_s;        /* <= 0: no limit */
	size_t out_max;          /* cap of the captured stdout */
	size_t err_max;          /* cap of the captured stderr */
	/* Called with every chunk of stdout, in order, before capping. */
	void (*on_stdout)(void *ctx, const char *data, size_t len);
	void *ctx;
};

#define PB_PROC_OPTS_INIT                                                   \
	{ NULL, NULL, NULL, 0, 0, 0, 0.0, 1024 * 1024, 256 * 1024, NULL, NULL }

struct pb_proc_result {
	int exited;        /* 1 when the child exited (exit_code is valid) */
	int exit_code;
	int signal;        /* the signal that ended it, or 0 */
	int timed_out;     /* 1 when the timeout killed it */
	double wall_s;     /* from fork to reaping */
	struct pb_buf out; /* captured stdout, capped at out_max */
	struct pb_buf err; /* captured stderr, capped at err_max */
};

/* Runs the child to completion.  Returns PB_OK once the child was started
 * and reaped, whatever its exit status; PB_ERROR (message set, e.g. "cannot
 * switch to user 65534: ...") when the child could not be set up or
 * exec'd; PB_EINFRA when pipes or fork fail.  `out` is initialised here and
 * must be released with pb_proc_result_release() whatever the return. */
int pb_proc_run(struct pb_proc_result *out, const struct pb_proc_opts *opts);

void pb_proc_result_release(struct pb_proc_result *r);

/* Describes how the child ended, e.g. "exit status 3", "killed by signal 9
 * (Killed)", "timed out after 600 s"; writes into buf. */
void pb_proc_describe(const struct pb_proc_result *r, double timeout_s,
		      char *buf, size_t size);

#endif
