/*
 * hostlock.c - the host-wide build-and-measure lock (see hostlock.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "agent/hostlock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/sysroot.h"
#include "common/util.h"

#define LOCK_DIR "/var/lib/perfbisect"
#define LOCK_FILE LOCK_DIR "/host.lock"

int pb_hostlock_path(char *out, size_t size, const char *root)
{
	return pb_sys_path(out, size, root, LOCK_FILE);
}

/* "pid 123 (perfbisect-agent)" from the file's text, or "an unknown
 * process". */
static void holder_of(int fd, char *out, size_t size)
{
	char text[128];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	long pid = 0;
	char who[64] = "";

	text[n > 0 ? n : 0] = '\0';
	if (sscanf(text, "%ld %63[^\n]", &pid, who) >= 1 && pid > 0)
		snprintf(out, size, "pid %ld%s%s%s", pid, who[0] ? " (" : "",
			 who, who[0] ? ")" : "");
	else
		snprintf(out, size, "an unknown process");
}

/* Opens the lock file, creating it (and its directory) when allowed; a
 * file we may not write is opened read-only.  -1 with errno otherwise. */
static int open_lock(const char *path, const char *dir)
{
	int fd;

	(void)pb_mkdir_p(dir, 0755);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 && (errno == EACCES || errno == EROFS || errno == EPERM))
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	return fd;
}

/* Takes the lock; with `how` WAIT a busy lock is said once (when `say`)
 * and waited for - until *stop is set, when stop is given (a signal
 * interrupts the wait: the caller's handlers must not use SA_RESTART). */
static int take(struct pb_hostlock *l, const char *root, const char *who,
		int how, volatile sig_atomic_t *stop, int say)
{
	char dir[4096], holder[128], text[96];
	int fd, rc, n;

	if (l->held)
		return PB_OK;
	memset(l, 0, sizeof(*l));
	if ((rc = pb_sys_path(dir, sizeof(dir), root, LOCK_DIR)) < 0 ||
	    (rc = pb_hostlock_path(l->path, sizeof(l->path), root)) < 0)
		return rc;
	fd = open_lock(l->path, dir);
	if (fd < 0) {
		if (errno == ENOENT || errno == EACCES || errno == EROFS) {
			/* nobody could have made it where we cannot */
			snprintf(l->note, sizeof(l->note),
				 "no host lock: cannot create '%.200s': %s",
				 l->path, strerror(errno));
			return PB_OK;
		}
		return pb_error_code(PB_EINFRA, "cannot open the host lock "
				     "'%s': %s", l->path, strerror(errno));
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			rc = pb_error_code(PB_EINFRA, "cannot lock '%s': %s",
					   l->path, strerror(errno));
			close(fd);
			return rc;
		}
		holder_of(fd, holder, sizeof(holder));
		if (how != PB_HOSTLOCK_WAIT) {
			close(fd);
			return pb_error_code(PB_EINFRA, "this machine is busy: "
					     "%s builds or measures here (it "
					     "holds '%s')", holder, l->path);
		}
		if (say)
			pb_log_info("waiting for %s to finish: it builds or "
				    "measures on this machine (it holds '%s')",
				    holder, l->path);
		while ((rc = flock(fd, LOCK_EX)) < 0 && errno == EINTR &&
		       !(stop && *stop))
			;
		if (rc < 0 && errno == EINTR) {
			close(fd);
			return pb_error_code(PB_ETIMEOUT, "stopped while "
					     "waiting for the host lock");
		}
		if (rc < 0) {
			rc = pb_error_code(PB_EINFRA, "cannot lock '%s': %s",
					   l->path, strerror(errno));
			close(fd);
			return rc;
		}
	}
	n = snprintf(text, sizeof(text), "%ld %s\n", (long)getpid(),
		     who ? who : "");
	/* best effort: a read-only descriptor locks all the same */
	if (ftruncate(fd, 0) == 0 && pwrite(fd, text, (size_t)n, 0) != n)
		(void)ftruncate(fd, 0);
	l->fd = fd;
	l->held = 1;
	return PB_OK;
}

int pb_hostlock_take(struct pb_hostlock *l, const char *root, const char *who,
		     int how)
{
	return take(l, root, who, how, NULL, 1);
}

int pb_hostlock_wait(struct pb_hostlock *l, const char *root, const char *who,
		     volatile sig_atomic_t *stop)
{
	return take(l, root, who, PB_HOSTLOCK_WAIT, stop, 0);
}

int pb_hostlock_busy(const char *root, char *holder, size_t size)
{
	char path[4096];
	int fd, busy = 0;

	if (size)
		holder[0] = '\0';
	if (pb_hostlock_path(path, sizeof(path), root) < 0)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK) {
			busy = 1;
			if (size)
				holder_of(fd, holder, size);
		}
	} else {
		(void)flock(fd, LOCK_UN);
	}
	close(fd);
	return busy;
}

void pb_hostlock_release(struct pb_hostlock *l)
{
	if (!l || !l->held)
		return;
	/* the text names the last holder only while it holds the lock */
	(void)ftruncate(l->fd, 0);
	close(l->fd);
	l->held = 0;
	l->fd = -1;
}
