/*
 * proc.c - child processes (see proc.h).
 *
 * Start-up errors in the child (chdir, setuid, exec) travel back to the
 * parent over a close-on-exec pipe: the parent reads it after fork; EOF with
 * no bytes means exec succeeded.  The child only calls async-signal-safe
 * functions between fork and exec.
 *
 * The wait loop polls the stdout and stderr pipes and a pidfd of the child.
 * When the child exits, the rest of its process group is killed and the
 * pipes are drained until EOF (bounded by a short grace period, in case a
 * grandchild escaped the group with setsid and kept the pipe).
 *
 * PR_SET_PDEATHSIG reaches the direct child only: when the shell forks the
 * benchmark instead of exec'ing it, a SIGKILLed perfbisect would leave the
 * benchmark running.  So every process that runs children also has a
 * guard: a small process forked once, holding one end of a socket pair.
 * Each child's process group is registered with it before the child may
 * exec and unregistered once the run is over; when the guard's socket
 * reports EOF (its parent is gone, however it died), it kills every group
 * still registered, then exits.  It ignores the terminal's signals so that
 * a ^C reaches it only as that EOF.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "proc.h"
#include "util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

enum child_stage {
	STAGE_PGRP = 1, STAGE_DEATHSIG, STAGE_STDIO, STAGE_CHDIR, STAGE_CAPBSET,
	STAGE_GROUPS, STAGE_SETGID, STAGE_SETUID, STAGE_REGAIN, STAGE_CAPS,
	STAGE_NNP, STAGE_SETUP, STAGE_EXEC,
	STAGE_READY = 100, /* not a failure: set up, waiting for the go */
};

/* What the child writes on the report pipe: a failure (stage, errno), or
 * STAGE_READY with the CPU it is on. */
struct child_report {
	int stage;
	int err;
	int cpu;
	char what[64]; /* the setup hook's own words for STAGE_SETUP */
};

static const char *stage_name(int stage)
{
	switch (stage) {
	case STAGE_PGRP: return "cannot start a process group";
	case STAGE_DEATHSIG: return "cannot set the parent-death signal";
	case STAGE_STDIO: return "cannot set up standard descriptors";
	case STAGE_CHDIR: return "cannot enter the working directory";
	case STAGE_CAPBSET: return "cannot empty the capability bounding set";
	case STAGE_GROUPS: return "cannot drop supplementary groups";
	case STAGE_SETGID: return "cannot switch group";
	case STAGE_SETUID: return "cannot switch user";
	case STAGE_REGAIN: return "refusing to run: the child could regain root";
	case STAGE_CAPS: return "cannot drop capabilities";
	case STAGE_NNP: return "cannot set no_new_privs";
	case STAGE_EXEC: return "cannot execute";
	}
	return "cannot start the child";
}

static void child_report_send(int fd, const struct child_report *rep)
{
	ssize_t rc;

	do
		rc = write(fd, rep, sizeof(*rep));
	while (rc < 0 && errno == EINTR);
}

static void __attribute__((noreturn))
child_fail_what(int fd, int stage, int err, const char *what)
{
	struct child_report rep;

	memset(&rep, 0, sizeof(rep));
	rep.stage = stage;
	rep.err = err;
	rep.cpu = -1;
	if (what) {
		size_t i;
		for (i = 0; what[i] && i < sizeof(rep.what) - 1; i++)
			rep.what[i] = what[i];
	}
	child_report_send(fd, &rep);
	_exit(127);
}

static void __attribute__((noreturn))
child_fail(int fd, int stage)
{
	child_fail_what(fd, stage, errno, NULL);
}

/* Empties the capability bounding set (needs CAP_SETPCAP, which root has):
 * afterwards no exec can grant a capability, set-user-ID root or not. */
static int drop_bounding_set(void)
{
	for (unsigned long cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0)
			break; /* past the kernel's last capability */
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -1;
	}
	return 0;
}

/* Clears the ambient, permitted, effective and inheritable sets.  Dropping
 * one's own capabilities is always allowed. */
static int drop_capabilities(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return -1;
	return (int)syscall(SYS_capset, &hdr, data);
}

static void __attribute__((noreturn))
child_main(const struct pb_proc_opts *o, pid_t parent, int out_fd, int err_fd,
	   int rep_fd, int go_fd)
{
	const struct pb_proc_hooks *h = o->hooks;
	sigset_t none;
	int devnull;

	if (setpgid(0, 0) < 0)
		child_fail(rep_fd, STAGE_PGRP);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail(rep_fd, STAGE_DEATHSIG);
	if (getppid() != parent)
		_exit(127); /* the parent died before the line above */

	devnull = open("/dev/null", O_RDONLY);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_fd, 1) < 0 ||
	    dup2(err_fd, 2) < 0)
		child_fail(rep_fd, STAGE_STDIO);
	/* Everything but 0, 1, 2 (and the report pipe, already CLOEXEC) goes
	 * away at exec; an old kernel without close_range leaves our own fds,
	 * which are all opened O_CLOEXEC anyway. */
	(void)syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);

	if (o->cwd && chdir(o->cwd) < 0)
		child_fail(rep_fd, STAGE_CHDIR);
	if (o->drop_privs) {
		if (drop_bounding_set() < 0)
			child_fail(rep_fd, STAGE_CAPBSET);
		if (setgroups(0, NULL) < 0)
			child_fail(rep_fd, STAGE_GROUPS);
		if (setresgid(o->gid, o->gid, o->gid) < 0)
			child_fail(rep_fd, STAGE_SETGID);
		if (setresuid(o->uid, o->uid, o->uid) < 0)
			child_fail(rep_fd, STAGE_SETUID);
		if (o->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
			errno = EPERM;
			child_fail(rep_fd, STAGE_REGAIN);
		}
	}
	if (drop_capabilities() < 0)
		child_fail(rep_fd, STAGE_CAPS);
	/* Changing credentials clears the parent-death signal: set it again,
	 * and check again that the parent has not died meanwhile. */
	if (o->drop_privs) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
			child_fail(rep_fd, STAGE_DEATHSIG);
		if (getppid() != parent)
			_exit(127);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(rep_fd, STAGE_NNP);
	if (h && h->child_setup) {
		const char *what = NULL;
		int e = h->child_setup(h->ctx, &what);

		if (e)
			child_fail_what(rep_fd, STAGE_SETUP, e, what);
	}
	if (h && h->on_ready) {
		struct child_report rep;
		char go;
		ssize_t n;

		memset(&rep, 0, sizeof(rep));
		rep.stage = STAGE_READY;
		rep.cpu = sched_getcpu();
		child_report_send(rep_fd, &rep);
		do
			n = read(go_fd, &go, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			_exit(127); /* the parent gave up on us */
	}
	if (go_fd >= 0)
		close(go_fd);

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	execve(o->argv[0], (char *const *)o->argv, o->envp);
	child_fail(rep_fd, STAGE_EXEC);
}

static int pidfd_open_compat(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/* Reads what is available on fd into buf; returns 0 on EOF, 1 otherwise. */
static int drain(int fd, struct pb_buf *buf, const struct pb_proc_opts *o,
		 int is_stdout)
{
	char chunk[16384];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (n == 0)
		return 0;
	if (is_stdout && o->on_stdout)
		o->on_stdout(o->ctx, chunk, (size_t)n);
	(void)pb_buf_put_capped(buf, chunk, (size_t)n);
	return 1;
}

static void record_status(struct pb_proc_result *r, int status)
{
	if (WIFEXITED(status)) {
		r->exited = 1;
		r->exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		r->signal = WTERMSIG(status);
	}
}

/* ---- the guard ----------------------------------------------------- */

#define GUARD_MAX 64 /* process groups registered at once */

static int guard_fd = -1;
static pid_t guard_owner;  /* the process guard_fd belongs to */
static pid_t guard_pid = -1;
static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;

/* The guard's life: only async-signal-safe calls (the parent may have had
 * threads).  Messages are one pid_t each: > 0 registers a group, < 0
 * unregisters it. */
static void __attribute__((noreturn)) guard_main(int fd)
{
	pid_t groups[GUARD_MAX];
	unsigned n = 0;

	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGTSTP, SIG_IGN);
	(void)prctl(PR_SET_NAME, "perfbisect-guard", 0, 0, 0);
	(void)setpgid(0, 0); /* out of the terminal's foreground group */
	for (;;) {
		pid_t m;
		ssize_t r = recv(fd, &m, sizeof(m), 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r != (ssize_t)sizeof(m))
			break; /* EOF: the parent is gone */
		if (m > 0 && n < GUARD_MAX) {
			groups[n++] = m;
		} else if (m < 0) {
			for (unsigned i = 0; i < n; i++)
				if (groups[i] == -m) {
					groups[i] = groups[--n];
					break;
				}
		}
	}
	for (unsigned i = 0; i < n; i++)
		kill(-groups[i], SIGKILL);
	_exit(0);
}

/* Starts the guard of this process unless it has one; a child forked by
 * fork() (not through pb_proc_run) inherits its parent's socket, and gets
 * its own guard here, since the parent's would not notice its death. */
static void guard_start(void)
{
	int sv[2];
	pid_t pid;

	if (guard_owner == getpid())
		return;
	if (guard_fd >= 0)
		close(guard_fd);
	guard_fd = -1;
	guard_pid = -1;
	guard_owner = getpid(); /* one attempt per process */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return; /* runs go unguarded; PDEATHSIG still covers the child */
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return;
	}
	if (pid == 0) {
		/* keep only the guard's end: a copy of any other descriptor
		 * (an output pipe, the other end) would outlive perfbisect */
		if (sv[1] != 3 && dup2(sv[1], 3) < 0)
			_exit(1);
		(void)syscall(SYS_close_range, 4U, ~0U, 0U);
		for (int fd = 0; fd < 3; fd++)
			close(fd);
		guard_main(3);
	}
	close(sv[1]);
	guard_fd = sv[0];
	guard_pid = pid;
}

/* Tells the guard to kill group pgid if we die (m > 0), or to forget it
 * (m < 0).  Best effort: a guard that is gone costs only the protection. */
static void guard_say(pid_t m)
{
	pthread_mutex_lock(&guard_lock);
	guard_start();
	if (guard_fd >= 0)
		(void)send(guard_fd, &m, sizeof(m), MSG_NOSIGNAL);
	pthread_mutex_unlock(&guard_lock);
}

pid_t pb_proc_guard_pid(void)
{
	pid_t pid;

	pthread_mutex_lock(&guard_lock);
	guard_start();
	pid = guard_pid;
	pthread_mutex_unlock(&guard_lock);
	return pid;
}

int pb_proc_run(struct pb_proc_result *r, const struct pb_proc_opts *o)
{
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, repp[2] = { -1, -1 };
	int gop[2] = { -1, -1 };
	int pidfd = -1, reaped = 0, status = 0, rc = PB_OK, out_open, err_open;
	const struct pb_proc_hooks *h = o->hooks;
	double start, deadline, grace_end = 0, exec_at, next_tick = 0;
	struct child_report rep;
	pid_t pid, self = getpid(), guarded = 0;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	r->cpu_s = NAN;
	pb_buf_init(&r->out, o->out_max);
	pb_buf_init(&r->err, o->err_max);

	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
	    pipe2(repp, O_CLOEXEC) < 0 ||
	    (h && h->on_ready && pipe2(gop, O_CLOEXEC) < 0)) {
		rc = pb_error_code(PB_EINFRA, "cannot create a pipe: %s",
				   strerror(errno));
		goto out;
	}
	start = pb_now_mono();
	pid = fork();
	if (pid < 0) {
		rc = pb_error_code(PB_EINFRA, "cannot fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child_main(o, self, outp[1], errp[1], repp[1], gop[0]);

	(void)setpgid(pid, pid); /* close the race with the child's own call */
	guard_say(pid);
	guarded = pid;
	close(outp[1]);
	close(errp[1]);
	close(repp[1]);
	outp[1] = errp[1] = repp[1] = -1;
	if (gop[0] >= 0) {
		close(gop[0]);
		gop[0] = -1;
	}

	for (;;) {
		do
			n = read(repp[0], &rep, sizeof(rep));
		while (n < 0 && errno == EINTR);
		if (n != (ssize_t)sizeof(rep) || rep.stage != STAGE_READY)
			break;
		/* Set up and waiting: let the caller attach, then go. */
		h->on_ready(h->ctx, pid, rep.cpu);
		do
			n = write(gop[1], "g", 1);
		while (n < 0 && errno == EINTR);
		close(gop[1]);
		gop[1] = -1;
	}
	if (n == (ssize_t)sizeof(rep)) {
		waitpid(pid, &status, 0);
		if (rep.stage == STAGE_SETUP && rep.what[0])
			rc = pb_error_set("%.*s: %s", (int)sizeof(rep.what),
					  rep.what, strerror(rep.err));
		else
			rc = pb_error_set("%s: %s", stage_name(rep.stage),
					  strerror(rep.err));
		goto out;
	}
	exec_at = pb_now_mono();
	if (h && h->on_tick && h->first_tick_s > 0)
		next_tick = exec_at + h->first_tick_s;

	pidfd = pidfd_open_compat(pid);
	deadline = o->timeout_s > 0 ? start + o->timeout_s : 0;
	out_open = err_open = 1;
	while (!reaped || out_open || err_open) {
		struct pollfd pfd[3];
		int nfd = 0, i_out = -1, i_err = -1, i_pid = -1, wait_ms = -1;
		double now = pb_now_mono();

		if (!reaped && deadline && now >= deadline) {
			kill(-pid, SIGKILL);
			r->timed_out = 1;
			deadline = 0;
		}
		if (reaped && now >= grace_end)
			break; /* something outside the group keeps a pipe */
		if (!reaped && next_tick && now >= next_tick) {
			double again = h->on_tick(h->ctx, pid, now - exec_at);

			now = pb_now_mono();
			next_tick = again > 0 ? now + again : 0;
		}
		if (out_open) {
			pfd[nfd] = (struct pollfd){ outp[0], POLLIN, 0 };
			i_out = nfd++;
		}
		if (err_open) {
			pfd[nfd] = (struct pollfd){ errp[0], POLLIN, 0 };
			i_err = nfd++;
		}
		if (!reaped && pidfd >= 0) {
			pfd[nfd] = (struct pollfd){ pidfd, POLLIN, 0 };
			i_pid = nfd++;
		}
		if (!reaped && deadline)
			wait_ms = (int)((deadline - now) * 1000) + 1;
		if (!reaped && next_tick) {
			int t = (int)((next_tick - now) * 1000) + 1;
			wait_ms = wait_ms < 0 || wait_ms > t ? t : wait_ms;
		}
		if (!reaped && pidfd < 0)
			wait_ms = wait_ms < 0 || wait_ms > 20 ? 20 : wait_ms;
		if (reaped)
			wait_ms = (int)((grace_end - now) * 1000) + 1;
		if (poll(pfd, (nfds_t)nfd, wait_ms) < 0 && errno != EINTR) {
			rc = pb_error_code(PB_EINFRA, "poll: %s", strerror(errno));
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			goto out;
		}
		if (i_out >= 0 && pfd[i_out].revents)
			out_open = drain(outp[0], &r->out, o, 1);
		if (i_err >= 0 && pfd[i_err].revents)
			err_open = drain(errp[0], &r->err, o, 0);
		if (!reaped && (i_pid < 0 || pfd[i_pid].revents)) {
			struct rusage ru;
			pid_t w = wait4(pid, &status, WNOHANG, &ru);
			if (w == pid) {
				reaped = 1;
				r->cpu_s = (double)ru.ru_utime.tv_sec +
					   (double)ru.ru_utime.tv_usec / 1e6 +
					   (double)ru.ru_stime.tv_sec +
					   (double)ru.ru_stime.tv_usec / 1e6;
				r->wall_s = pb_now_mono() - start;
				record_status(r, status);
				/* leftovers of the run die with it */
				kill(-pid, SIGKILL);
				grace_end = pb_now_mono() + 2.0;
			}
		}
	}
out:
	if (guarded)
		guard_say(-guarded);
	if (pidfd >= 0)
		close(pidfd);
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
		if (repp[i] >= 0)
			close(repp[i]);
		if (gop[i] >= 0)
			close(gop[i]);
	}
	return rc;
}

void pb_proc_result_release(struct pb_proc_result *r)
{
	pb_buf_release(&r->out);
	pb_buf_release(&r->err);
}

void pb_proc_describe(const struct pb_proc_result *r, double timeout_s,
		      char *buf, size_t size)
{
	if (r->timed_out)
		snprintf(buf, size, "timed out after %g s", timeout_s);
	else if (r->signal)
		snprintf(buf, size, "killed by signal %d (%s)", r->signal,
			 strsignal(r->signal));
	else if (r->exited)
		snprintf(buf, size, "exit status %d", r->exit_code);
	else
		snprintf(buf, size, "ended in an unknown way");
}
