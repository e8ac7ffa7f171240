/*
 * interfere.h - how much of the machine other work held while a run ran
 * (DESIGN.md section 4, "interference"), so that a run taken on a busy
 * machine is marked disturbed instead of being counted as evidence.
 *
 * Around every run the agent takes two snapshots of the machine:
 *
 *   - every process's CPU time from /proc/PID/stat (utime + stime + cutime
 *     + cstime, in clock ticks), summed over the user-space processes that
 *     are not perfbisect or its descendants.  Kernel threads (PF_KTHREAD)
 *     are left out: reclaim, compaction or THP work the benchmark causes is
 *     part of what is measured, and a zone_reclaim_mode regression must not
 *     be thrown away as "interference".  The difference of the two sums is
 *     what others used in between: a process alive at both contributes its
 *     growth, one that started in between all of its time, and one that
 *     ended in between minus its time at the start - which its parent's
 *     cutime, grown by its whole life when the parent reaped it, gives
 *     back;
 *   - the `cpu` line of /proc/stat for steal time (a hypervisor running
 *     something else while this VM wanted the CPU);
 *   - /proc/pressure/{cpu,memory,io} "some" totals (PSI, microseconds),
 *     recorded for information only: system-wide they include the
 *     benchmark's own threads waiting for each other.
 *
 * Per-process times are counted in clock ticks (USER_HZ, usually 100 per
 * second), so a run of 50 ms sees others' time in steps of a fifth of a
 * CPU: the disturbed rule asks for at least two ticks as well as its share.
 * Per-process files always come from the real kernel, never a sysroot.
 */
#ifndef PB_INTERFERE_H
#define PB_INTERFERE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The fields of one /proc/PID/stat line that perfbisect uses. */
struct pb_pidstat {
	pid_t ppid, pgrp;
	int cpu;                 /* processor it last ran on (field 39) */
	unsigned long flags;     /* the kernel's PF_* task flags (field 9) */
	uint64_t ticks;          /* utime + stime + cutime + cstime */
};

/* PF_KTHREAD (include/linux/sched.h). */
#define PB_PF_KTHREAD 0x00200000UL

/* Parses the text of a /proc/PID/stat file (the command name may hold
 * spaces and parentheses: fields are counted from the last ')').  Pure.
 * PB_EINVAL, message naming `what`, for anything malformed. */
int pb_pidstat_parse(struct pb_pidstat *out, const char *text,
		     const char *what);

/* Reads /proc/PID/stat.  PB_ENOTFOUND when the process is gone. */
int pb_pidstat_read(struct pb_pidstat *out, pid_t pid);

/* A snapshot of the machine around a run. */
struct pb_busy_snap {
	double t;                /* pb_now_mono() when taken */
	uint64_t others_ticks;   /* see above */
	unsigned procs;          /* user-space processes counted */
	int have_stat;           /* /proc/stat was read */
	uint64_t steal_ticks;
	int have_psi[3];         /* cpu, memory, io */
	uint64_t psi_some_us[3];
	char psi_note[160];      /* why PSI is missing, "" when read */
};

/* Takes a snapshot; `self` (normally getpid()) and its descendants are
 * left out.  PB_ERROR only when /proc cannot be listed. */
int pb_busy_snap_take(struct pb_busy_snap *out, pid_t self);

/* What the machine did between two snapshots, for the run record. */
struct pb_interference {
	double interval_s;       /* between the snapshots */
	double others_cpu_s;     /* user-space CPU time of other processes */
	double others_cpus;      /* others_cpu_s / interval_s: CPUs held */
	double share;            /* others_cpus / online CPUs: the share of
				    the machine others used */
	double steal_s;          /* NAN when /proc/stat was not read */
	double psi_some[3];      /* share of the interval some task stalled
				    on cpu, memory, io; NAN when unsupported */
	char psi_note[160];
	int disturbed;           /* others held the machine beyond the
				    threshold: not evidence */
	char why[192];           /* for a person, when disturbed */
};

/* Compares two snapshots of a machine with `ncpus` online CPUs: disturbed
 * when others (user-space time plus steal) held at least `threshold_cpus`
 * CPUs on average over the interval, and at least two clock ticks of it.
 * threshold_cpus <= 0 never calls a run disturbed.  Pure. */
void pb_interference_of(struct pb_interference *out,
			const struct pb_busy_snap *before,
			const struct pb_busy_snap *after, unsigned ncpus,
			double threshold_cpus);

/* Default threshold: a quarter of a CPU of other work, on average over
 * the run. */
#define PB_BUSY_THRESHOLD_CPUS 0.25

#endif
