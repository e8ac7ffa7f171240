/*
 * pmu.h - the counters of one benchmark run: which events to count, how to
 * open them on a child process before it execs, how to read and scale them.
 *
 * Events are named as libpfm4 names them and encoded by libpfm4, one event
 * per call (pfm_get_os_event_encoding, PFM_OS_PERF_EVENT_EXT).  The default
 * list is cycles, instructions, cache-misses, a back-end stall event and a
 * NUMA remote-access event chosen for the CPU from a table keyed by
 * libpfm4's PMU name, then the software events task-clock, page-faults and
 * context-switches.  `--events LIST` replaces the whole list.
 *
 * Every counter gets its own perf_event_open() descriptor on the child
 * (pid = child, cpu = -1, no groups), with disabled + enable_on_exec, so
 * counting starts at the child's exec, and inherit, so the threads and
 * processes it starts afterwards are counted too.  Each is read on its own
 * with TOTAL_TIME_ENABLED/RUNNING and scaled for multiplexing.  A counter is
 * a number only when the kernel really counted it: one this machine cannot
 * count is PB_PMU_UNSUPPORTED, one that was opened but never ran is
 * PB_PMU_NOT_COUNTED, each with the reason - never a 0.  One counter that
 * fails never takes the others down.
 *
 * How a fork/exec runner uses it:
 *
 *	struct pb_pmu_set *set = malloc(sizeof(*set));  (~20 KB)
 *	pb_pmu_plan(set, &opts);           once; PB_EINVAL for a bad --events
 *	for each run:
 *		pipe2(p, O_CLOEXEC); pid = fork();
 *		child:  read(p[0]) until the parent closes p[1], then set up
 *		        (cwd, privileges) and execve()
 *		parent: pb_pmu_open(set, pid);  then close(p[1]) to release it
 *		        waitpid(pid); kill what is left of its process group
 *		pb_pmu_read(set);           totals of the child and its descendants
 *		copy the values into the run record; pb_pmu_close(set);
 *
 * Ownership: a set owns only its descriptors (close-on-exec).  Nothing is
 * allocated: pb_pmu_close() releases everything, is idempotent, and is safe
 * on a set that was planned but never opened or whose plan failed.  A set
 * can be opened again for the next run; pb_pmu_open() resets the results.
 */
#ifndef PB_PMU_H
#define PB_PMU_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/perf_event.h>

#define PB_PMU_MAX 16        /* counters in one set */
#define PB_PMU_NAME_MAX 128  /* an event name, with its terminating NUL */

enum pb_pmu_state {
	PB_PMU_PLANNED = 0,  /* encoded, not opened yet */
	PB_PMU_OPEN,         /* opened, not read yet */
	PB_PMU_COUNTED,      /* read: raw, times and scaled are valid */
	PB_PMU_UNSUPPORTED,  /* this machine cannot count it (reason says why) */
	PB_PMU_NOT_COUNTED,  /* it could have, but did not count in this run */
};

/* What a counter stands for, so the runner can find IPC and remote access
 * whatever the events are called.  User-listed events get CYCLES,
 * INSTRUCTIONS, CACHE_MISSES or SOFTWARE from their encoding. */
enum pb_pmu_role {
	PB_PMU_ROLE_OTHER = 0,
	PB_PMU_ROLE_CYCLES,
	PB_PMU_ROLE_INSTRUCTIONS,
	PB_PMU_ROLE_CACHE_MISSES,
	PB_PMU_ROLE_BACKEND_STALLS,
	PB_PMU_ROLE_REMOTE,      /* loads served by another NUMA node */
	PB_PMU_ROLE_REMOTE_SNC,  /* ... by the far cluster of this socket (SNC) */
	PB_PMU_ROLE_SOFTWARE,
};

struct pb_pmu_counter {
	char name[PB_PMU_NAME_MAX];   /* "cycles", "remote-access", or as listed */
	char event[PB_PMU_NAME_MAX];  /* what libpfm4 encoded; "" if none */
	char fstr[512];               /* libpfm4's fully qualified event */
	enum pb_pmu_role role;
	enum pb_pmu_state state;
	char reason[320];             /* why UNSUPPORTED / NOT_COUNTED, else "" */
	int encoded;                  /* attr is valid */
	struct perf_event_attr attr;
	int fd;                       /* -1 when closed */
	uint64_t raw;                 /* the count as read */
	uint64_t time_enabled;        /* ns the event was enabled */
	uint64_t time_running;        /* ns it was on the PMU */
	double scaled;                /* raw * enabled / running */
	int multiplexed;              /* running < enabled: scaled is an estimate */
};

struct pb_pmu_set {
	int n;
	struct pb_pmu_counter c[PB_PMU_MAX];
	char pmu[64];     /* the core PMU libpfm4 detected, "" when none */
	int kernel;       /* 1: kernel mode is counted too (see pb_pmu_plan) */
	int hw_probe;     /* cache: 0 unknown, 1 the kernel has a hardware PMU, -1 not */
};

struct pb_pmu_opts {
	const char *events;  /* comma-separated libpfm4 names; NULL: the default */
	int snc;             /* 1: sub-NUMA clustering is on: add the far-cluster
	                      * event where the PMU has one */
	int user_only;       /* 1: never count kernel mode */
};

#define PB_PMU_OPTS_INIT { NULL, 0, 0 }

/* Initializes libpfm4 once per process (later calls return the first
 * result).  libpfm4 reads LIBPFM_* variables here, so set them first. */
int pb_pmu_init(void);

/* Fills `out` (zeroed first) with the counters to open.  Kernel mode is
 * counted too when we may (root, or kernel.perf_event_paranoid <= 1) and
 * opts->user_only is 0: a benchmark's system calls and page faults are part
 * of its cost, and some software events (context-switches) only ever count
 * in kernel mode.  Otherwise user mode only, and such events are
 * UNSUPPORTED.  An event libpfm4 cannot encode is UNSUPPORTED with
 * libpfm4's reason; the plan still succeeds.  PB_EINVAL (message set, `out`
 * left empty) for a malformed list: an empty name, a name of
 * PB_PMU_NAME_MAX characters or more, a name with a blank, a name listed
 * twice, more than PB_PMU_MAX names.  opts may be NULL. */
int pb_pmu_plan(struct pb_pmu_set *out, const struct pb_pmu_opts *opts);

/* Opens every encoded counter on process `pid` (which must not have exec'd
 * yet, see above).  A counter the kernel refuses becomes UNSUPPORTED (ENOENT,
 * EOPNOTSUPP, ENODEV, EINVAL, EACCES/EPERM...) or NOT_COUNTED (out of
 * descriptors or memory), with a reason naming the errno; the others are
 * opened anyway.  PB_OK then.  PB_EINVAL for pid <= 0, PB_ERROR when `pid`
 * does not exist (ESRCH); nothing is left open in either case.  Closes
 * whatever a previous run left open first. */
int pb_pmu_open(struct pb_pmu_set *set, pid_t pid);

/* Reads every open counter (one read(2) each): COUNTED with raw, times and
 * scaled, or NOT_COUNTED when the event was never enabled (the child did not
 * exec) or never ran (time running 0).  May be called again while open, for
 * a fresher value.  Descriptors stay open.  Always PB_OK. */
int pb_pmu_read(struct pb_pmu_set *set);

/* Closes every descriptor; the results stay.  Idempotent. */
void pb_pmu_close(struct pb_pmu_set *set);

/* The counter called `name` (as in pb_pmu_counter.name), or NULL. */
const struct pb_pmu_counter *pb_pmu_find(const struct pb_pmu_set *set,
					 const char *name);

/* The first counter with `role`, or NULL. */
const struct pb_pmu_counter *pb_pmu_find_role(const struct pb_pmu_set *set,
					      enum pb_pmu_role role);

/* Instructions per cycle from the scaled counts.  PB_OK only when both a
 * cycles and an instructions counter are COUNTED and cycles > 0; otherwise
 * PB_ENOTFOUND with the reason as the message (e.g. "ipc unsupported:
 * cycles: perf_event_open: ..."). */
int pb_pmu_ipc(double *out, const struct pb_pmu_set *set);

/* "planned", "open", "counted", "unsupported", "not counted". */
const char *pb_pmu_state_name(enum pb_pmu_state s);

/* Encodes one libpfm4 event string (no commas) for perf_event_open, user
 * mode only or user and kernel mode, into `out` (zeroed first) and libpfm4's
 * fully qualified name into fstr (may be NULL).  Only libpfm4's fields are
 * set: no counting policy (disabled, inherit...) is applied here.
 * PB_ENOTFOUND or PB_EINVAL with libpfm4's reason, e.g. "libpfm4 cannot
 * encode 'x': event not found"; PB_EINVAL for a socket-wide (uncore) event,
 * which cannot be counted for one process. */
int pb_pmu_encode(struct perf_event_attr *out, char *fstr, size_t fstr_size,
		  const char *event, int with_kernel);

/* One row of the per-CPU table: libpfm4's PMU name and the events chosen
 * for it, fully qualified ("skx::MEM_LOAD_L3_MISS_RETIRED:REMOTE_DRAM").
 * remote_snc and backend may be NULL. */
struct pb_pmu_cpu {
	const char *pmu;
	const char *remote;      /* loads from another NUMA node / socket */
	const char *remote_snc;  /* from the far sub-NUMA cluster of this socket */
	const char *backend;     /* cycles or slots stalled in the back end */
};

/* The whole table, `*n` rows (for tests and for `--events` help). */
const struct pb_pmu_cpu *pb_pmu_cpu_table(size_t *n);

/* The row for a libpfm4 PMU name ("skx", "amd64_fam19h_zen3"), or NULL. */
const struct pb_pmu_cpu *pb_pmu_cpu_lookup(const char *pmu_name);

/* The remote-access event for a libpfm4 PMU name, or NULL if none known. */
const char *pb_pmu_remote_event(const char *pmu_name);

/* Writes the name of this machine's core PMU as libpfm4 detects it: a
 * present core PMU that has a table row, else the first present one that is
 * not the architectural fallback (ix86arch), else that.  libpfm4 detects
 * x86 PMUs from CPUID alone, so a virtual machine without a virtual PMU
 * still gets a name here: whether the kernel can count is only known at
 * open time.  PB_ENOTFOUND "no hardware PMU visible to libpfm4 ..." when
 * there is none; PB_ETOOBIG if it does not fit. */
int pb_pmu_detect(char *out, size_t size);

#endif
