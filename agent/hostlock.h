/*
 * hostlock.h - one benchmark machine, one measurer at a time.
 *
 * perfbisect-agent and `perfbisect bisect --local` on one host never build
 * or measure at the same time (docs/agent-protocol.md): each holds an
 * exclusive flock(2) on ROOT/var/lib/perfbisect/host.lock - beside the
 * settings journal (knobs.h), under --sysroot DIR when one is given - while
 * it builds or measures.  The kernel drops the lock when its holder dies,
 * so a crash never leaves it stale.  The file holds the holder's pid and
 * what it is ("perfbisect-agent", "perfbisect bisect --local") for the
 * message a waiting program prints.
 *
 * This lock is not the settings lock of knobs.h: that one guards the
 * journal for the length of one run's settings; this one keeps a second
 * program's builds and runs off the machine for as long as a bisection or
 * a job measures.
 *
 * A program that may not create the directory (not root, no --sysroot, no
 * /var/lib/perfbisect) cannot meet another holder there either, unless that
 * holder made the file: the file is then opened read-only, which flock(2)
 * allows, and the lock still works.  When neither is possible the lock is
 * not taken (`held` stays 0, `note` says why) and the caller carries on:
 * nothing on this machine can be holding it.
 */
#ifndef PB_HOSTLOCK_H
#define PB_HOSTLOCK_H

#include <signal.h>
#include <stddef.h>

/* A zeroed struct is "not held": it may live in a memset() struct. */
struct pb_hostlock {
	int held;          /* 1: locked by this process */
	int fd;            /* valid while held (fd 0 is never used) */
	char path[4096];
	char note[256];    /* why it was not taken, "" otherwise */
};

/* Writes ROOT/var/lib/perfbisect/host.lock into out (root NULL or "/": the
 * real /var/lib/perfbisect). */
int pb_hostlock_path(char *out, size_t size, const char *root);

enum {
	PB_HOSTLOCK_TRY = 0,  /* busy: PB_EINFRA at once, naming the holder */
	PB_HOSTLOCK_WAIT = 1, /* busy: says once who holds it, then waits */
};

/* Takes the host lock for `who` (a short name written into the file).  A
 * no-op returning PB_OK when l already holds it.  With PB_HOSTLOCK_WAIT a
 * busy lock makes it log (log.h) one line naming the holder and wait until
 * it is free.  PB_EINFRA when busy (TRY) or the file cannot be opened or
 * locked; *l is left not held then. */
int pb_hostlock_take(struct pb_hostlock *l, const char *root, const char *who,
		     int how);

/* Waits for the lock, as PB_HOSTLOCK_WAIT but saying nothing, until it is
 * free or *stop is set (by a signal handler installed without SA_RESTART,
 * so that the signal interrupts the wait): PB_ETIMEOUT then, not held.
 * Whoever waited is woken as soon as the holder lets go, before the holder
 * can take it again - so two programs that want the machine take turns. */
int pb_hostlock_wait(struct pb_hostlock *l, const char *root, const char *who,
		     volatile sig_atomic_t *stop);

/* Whether another process holds the lock now: 1 (holder, when it can be
 * read, in `holder`), 0 when it is free or cannot exist.  Takes nothing. */
int pb_hostlock_busy(const char *root, char *holder, size_t size);

/* Drops the lock (closing its descriptor); a no-op when not held. */
void pb_hostlock_release(struct pb_hostlock *l);

#endif
