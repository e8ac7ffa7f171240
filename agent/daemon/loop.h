/*
 * loop.h - perfbisect-agent's work: ask for a job, build, run, post,
 * repeat (docs/agent-protocol.md, "The agent's side").
 *
 *   start   the settings journal is restored (knobs.h) - by main, before
 *           anything else - then the work directory is locked, unfinished
 *           builds are removed and the spool is posted
 *   idle    while `perfbisect bisect --local` holds the host lock
 *           (hostlock.h), no work is asked for; otherwise a held lease
 *           request (wait_s, request_id kept while it is retried)
 *   job     host lock taken (busy: the job is handed back with done);
 *           the repository cloned or fetched into WORK_DIR/repos; each
 *           commit built once (cache.h), heartbeats from a thread every
 *           heartbeat_s meanwhile; a build that fails is posted as
 *           build-failed; then each run, after a heartbeat that extends
 *           the lease to its timeout (nothing is sent while it runs),
 *           measured as `bisect --local` measures, spooled, posted; a 409
 *           or "continue": false stops the job; done
 *   errors  a network error or a 5xx waits (backoff.h) and asks again;
 *           401/403 end the agent (the token is wrong); a stop request
 *           (SIGTERM, SIGINT) lets the current run finish and be posted,
 *           then done is called and the loop returns
 */
#ifndef PB_LOOP_H
#define PB_LOOP_H

#include <signal.h>
#include <stdint.h>

struct pb_agent_opts {
	const char *server;       /* --server URL */
	const char *token;        /* read from --token-file; never logged */
	const char *name;         /* --name */
	const char *work_dir;     /* --work-dir */
	const char *sysroot;      /* --sysroot, NULL: the real machine */
	const char *hooks_dir;    /* --hooks-dir (not used yet) */
	const char *run_as;       /* --run-as, NULL: nobody as root */
	const char *events, *nic, *snoop; /* as `bisect --local` takes them */
	int once;                 /* --once */
	int no_rotate;            /* --no-rotate-start */
	double busy_threshold;    /* --busy-threshold */
	uint64_t cache_size;      /* --cache-size, bytes */
	double backoff_min_s, backoff_max_s; /* 1, 60 */
	double give_up_s;         /* --give-up: with --once, give up after
				     this long without a job; < 0: never */
	double poll_s;            /* wait_s of a lease request (30) */
	int no_ccache;            /* --no-ccache */
};

/* Runs until stopped (*stop set by a signal handler), or after one job
 * with --once.  Returns the exit status: 0 (stopped, or --once did its
 * job), 1 (--once: no job came within --give-up), 3 (infrastructure: the
 * server could not be reached within --give-up, it refused the token, the
 * work directory cannot be used); the reason is logged. */
int pb_agent_run(const struct pb_agent_opts *o, volatile sig_atomic_t *stop);

#endif
