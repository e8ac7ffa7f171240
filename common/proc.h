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
 *   - dies with its parent (PR_SET_PDEATHSIG), and so does its whole
 *     process group (a guard process kills it when perfbisect dies, however
 *     it died), so a killed perfbisect leaves no benchmark running;
 *   - enters its directory first and then, when asked, drops to an
 *     unprivileged uid/gid with no supplementary groups, empties its
 *     capability bounding, ambient, permitted and effective sets and sets
 *     PR_SET_NO_NEW_PRIVS, so it can never regain root, not even through a
 *     set-user-ID or file-capability program;
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
	const struct pb_proc_hooks *hooks; /* NULL: none */
};

#define PB_PROC_OPTS_INIT                                                   \
	{ NULL, NULL, NULL, 0, 0, 0, 0.0, 1024 * 1024, 256 * 1024, NULL, NULL, \
	  NULL }

/*
 * What a measuring caller (the agent's runner) hooks into a child's life.
 * Every member may be NULL.
 */
struct pb_proc_hooks {
	/* In the child, after privileges are dropped and before exec: pin the
	 * start CPU, set the NUMA policy.  Runs between fork and exec of a
	 * single-threaded parent, so it must not allocate or take locks;
	 * returns 0 or an errno value, and then `setup_what` names what
	 * failed ("cannot pin the start CPU"). */
	int (*child_setup)(void *ctx, const char **setup_what);
	/* In the parent, while the child is set up and waits to exec: `cpu`
	 * is the CPU it is on (sched_getcpu in the child).  Counters opened on
	 * `pid` here with enable_on_exec count the benchmark from its first
	 * instruction.  The child execs once this returns. */
	void (*on_ready)(void *ctx, pid_t pid, int cpu);
	/* In the parent while the child runs: first `first_tick_s` after
	 * exec, then after the number of seconds each call returns (<= 0:
	 * no more ticks). */
	double (*on_tick)(void *ctx, pid_t pid, double elapsed_s);
	double first_tick_s;
	void *ctx;
};

struct pb_proc_result {
	int exited;        /* 1 when the child exited (exit_code is valid) */
	int exit_code;
	int signal;        /* the signal that ended it, or 0 */
	int timed_out;     /* 1 when the timeout killed it */
	double wall_s;     /* from fork to reaping */
	double cpu_s;      /* user + system CPU time of the child and the
			      descendants it waited for (wait4's rusage);
			      NAN when it was not reaped here */
	struct pb_buf out; /* captured stdout, capped at out_max */
	struct pb_buf err; /* captured stderr, capped at err_max */
};

/* Runs the child to completion.  Returns PB_OK once the child was started
 * and reaped, whatever its exit status; PB_ERROR (message set, e.g. "cannot
 * switch to user 65534: ...") when the child could not be set up or
 * exec'd; PB_EINFRA when pipes or fork fail.  `out` is initialised here and
 * must be released with pb_proc_result_release() whatever the return. */
int pb_proc_run(struct pb_proc_result *out, const struct pb_proc_opts *opts);

/* The pid of this process's guard (started on first use), -1 when it
 * could not be started.  For tests and diagnostics. */
pid_t pb_proc_guard_pid(void);

void pb_proc_result_release(struct pb_proc_result *r);

/* Describes how the child ended, e.g. "exit status 3", "killed by signal 9
 * (Killed)", "timed out after 600 s"; writes into buf. */
void pb_proc_describe(const struct pb_proc_result *r, double timeout_s,
		      char *buf, size_t size);

#endif
