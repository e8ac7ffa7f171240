/*
 * numa.h - the NUMA facts of a run: where the machine's nodes, CPUs and
 * distances are, where the benchmark started, where its memory landed, and
 * what the kernel's NUMA counters did around it.
 *
 * Four parts, each usable alone:
 *
 *   Topology.  Read from /sys/devices/system/node (online, nodeN/cpulist,
 *   nodeN/distance, has_memory) through sysroot.h, so `--sysroot DIR` can
 *   hand us a fake two-node machine.  On the real machine the parser agrees
 *   with libnuma (the unit test checks it).
 *
 *   Start placement.  pb_numa_pick_start_node() rotates runs over the
 *   nodes (run 0 on node 0, run 1 on node 1, ...) and gives the CPUs of that
 *   node this process may use; pb_numa_hold() restricts a process (or a
 *   child between fork and exec: it is async-signal-safe) to them while it
 *   starts.  A run is held to a node, never to one CPU: the threads it
 *   creates inherit the mask, and one CPU would serialise them.  On a
 *   machine with one usable node nothing is held.  pb_numa_pin() pins to one
 *   CPU (tests use it); pb_numa_pid_cpu() reads where a process last ran
 *   (/proc/PID/stat field 39).
 *
 *   Memory placement.  /proc/PID/numa_maps tells, per mapping, how many pages
 *   sit on each node but not what the mapping is; /proc/PID/maps tells the
 *   permissions and the path.  Joined by start address, each mapping gets a
 *   kind (enum pb_nm_kind; the rule is in numa.c) and its pages are summed
 *   per executable (/proc/PID/exe) and per node.  pb_numa_sample() does that
 *   for every process descending from the run command (`/bin/sh -c` forks)
 *   and keeps the first and the latest non-empty sample of a run.
 *   Per-process files always come from the real kernel, never the sysroot.
 *
 *   Counters.  nodeN/numastat and the NUMA, reclaim, migration, compaction
 *   and THP lines of /proc/vmstat, read before and after a run; the delta
 *   says which counters went backwards, vanished or appeared instead of
 *   inventing numbers for them.
 *
 * All structs here are plain values (no pointers inside): copy them, embed
 * them, free them with free() if you malloc'd them.  Some are large
 * (pb_numa_placement is ~120 KiB): allocate those rather than putting them
 * on a thread's stack.  Functions return 0 or a negative PB_E* (err.h) with
 * the message set; none keeps global state, so threads may call them freely.
 */
#ifndef PB_NUMA_H
#define PB_NUMA_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define PB_NUMA_MAX_NODES 64     /* node ids 0..63; see `truncated` */
#define PB_NUMA_MAX_CPUS 4096    /* CPU ids 0..4095 */
#define PB_NUMA_MAX_EXES 16      /* executables summarised per sample */
#define PB_NUMA_EXE_MAX 512      /* stored length of an executable's path */
#define PB_NUMA_MAX_STATS 512    /* counters kept per reading */

/* ---- lists ------------------------------------------------------------ */

/* Parses a kernel list such as "0-3,8,10-11" (cpulist, node online list;
 * "" is the empty list) into a bitmask of nbits bits (zeroed first) and
 * stores the number of members in *count (may be NULL).  Members >= nbits
 * are counted in *dropped (may be NULL) and left out.  PB_EINVAL for
 * anything else (reversed ranges, garbage). */
int pb_numa_list_parse(uint64_t *mask, unsigned nbits, const char *list,
		       unsigned *count, unsigned *dropped);

/* ---- topology --------------------------------------------------------- */

struct pb_numa_node {
	int online;               /* listed in /sys/devices/system/node/online */
	int has_memory;           /* in has_memory (1 when that file is absent) */
	unsigned ncpus;
	char cpulist[256];        /* as the kernel prints it, e.g. "0-3";
				     "..." appended when it did not fit */
	uint16_t distance[PB_NUMA_MAX_NODES]; /* by node id; 0 = unknown */
};

struct pb_numa_topology {
	unsigned nnodes;                      /* online nodes kept */
	int node_ids[PB_NUMA_MAX_NODES];      /* their ids, ascending */
	struct pb_numa_node node[PB_NUMA_MAX_NODES]; /* indexed by node id */
	int16_t cpu_node[PB_NUMA_MAX_CPUS];   /* node id of each CPU, -1 none */
	unsigned ncpus;                       /* CPUs that belong to a node */
	int truncated;   /* a node id >= PB_NUMA_MAX_NODES or a CPU id >=
			    PB_NUMA_MAX_CPUS existed and was left out */
};

/* Reads the topology under root (NULL = the real machine).  PB_ENOTFOUND
 * when there is no /sys/devices/system/node/online (a kernel without NUMA);
 * PB_EINVAL when the files contradict each other (a distance row whose
 * length is not the number of online nodes). */
int pb_numa_topology_read(struct pb_numa_topology *out, const char *root);

/* The node id of a CPU by the topology, or -1 when unknown. */
int pb_numa_node_of_cpu(const struct pb_numa_topology *t, int cpu);

/* ---- start placement -------------------------------------------------- */

#define PB_NUMA_MASK_LONGS (PB_NUMA_MAX_CPUS / (8 * sizeof(unsigned long)))

struct pb_numa_start {
	int node;         /* the node the run is held to while it starts;
			     -1: not held (the note says why) */
	unsigned ncpus;   /* that node's CPUs this process may use */
	unsigned long mask[PB_NUMA_MASK_LONGS]; /* those CPUs, a kernel mask */
	char cpus[128];   /* the same as a list ("0-3"), "" when not held */
	char note[256];   /* why not held, or which nodes were skipped */
};

/* Picks where run number run_index starts: node k = run_index mod N of the
 * N nodes that have a CPU in `allowed` (NULL: the CPUs this process may
 * use, by sched_getaffinity), so a
 * node of a fake sysroot topology that the real machine lacks is never
 * chosen (such nodes are named in `note`).  The run is not held (node -1,
 * the note says why) when fewer than two nodes are usable - the scheduler
 * then places it as it would without perfbisect - or when the chosen node
 * has a single usable CPU, where holding would serialise the benchmark's
 * threads.  t may be NULL (nothing held). */
struct pb_idset;
int pb_numa_pick_start_node(struct pb_numa_start *out,
			    const struct pb_numa_topology *t,
			    const struct pb_idset *allowed, unsigned run_index);

/* Restricts process pid (0 = the calling thread) to the CPUs of `mask`
 * (PB_NUMA_MASK_LONGS words) with the sched_setaffinity system call.
 * Async-signal-safe and allocation-free, for a child between fork and
 * exec: it sets no message; PB_ERROR with errno set. */
int pb_numa_hold(pid_t pid, const unsigned long *mask);

/* 1 when task tid's affinity is exactly `mask` (still held), 0 when it is
 * not (released, or the program set its own), PB_ERROR when it is gone. */
int pb_numa_is_held(pid_t tid, const unsigned long *mask);

/* Pins process pid (0 = the calling thread) to one CPU with the
 * sched_setaffinity system call.  Async-signal-safe and allocation-free, so
 * a child may call it between fork and exec: for that reason it sets no
 * message, and returns PB_ERROR with errno set (EINVAL for a CPU outside
 * 0..PB_NUMA_MAX_CPUS-1 or one the kernel refuses). */
int pb_numa_pin(pid_t pid, int cpu);

/* The CPU process pid last ran on: field 39 of /proc/PID/stat.
 * PB_ENOTFOUND when the process is gone. */
int pb_numa_pid_cpu(int *out, pid_t pid);

/* ---- numa_maps -------------------------------------------------------- */

enum pb_mpol {
	PB_MPOL_OTHER = 0,        /* a name this parser does not know */
	PB_MPOL_DEFAULT,          /* "default" */
	PB_MPOL_PREFERRED,        /* "prefer" */
	PB_MPOL_BIND,             /* "bind" */
	PB_MPOL_INTERLEAVE,       /* "interleave" */
	PB_MPOL_LOCAL,            /* "local" */
	PB_MPOL_PREFERRED_MANY,   /* "prefer (many)", Linux 5.15 */
	PB_MPOL_WEIGHTED_INTERLEAVE, /* "weighted interleave", Linux 6.9 */
};

#define PB_NM_POLICY_MAX 96
#define PB_NM_PATH_MAX 4096

/* One line of /proc/PID/numa_maps:
 *   ADDR POLICY [file=PATH|heap|stack] [huge] [anon=N] [dirty=N] [mapped=N]
 *   [mapmax=N] [swapcache=N] [active=N] [writeback=N] [N<node>=pages]...
 *   [kernelpagesize_kB=N]
 * Absent counters are 0. */
struct pb_nm_entry {
	uint64_t addr;
	char policy[PB_NM_POLICY_MAX]; /* whole, e.g. "prefer (many)=static:0-1" */
	enum pb_mpol mode;
	char policy_nodes[PB_NM_POLICY_MAX]; /* after ':', "" when none */
	char file[PB_NM_PATH_MAX];     /* file=, octal escapes (\040) decoded */
	int file_truncated;
	int heap, stack, huge;
	int stack_tid;                 /* "stack:TID" of kernels before 4.5 */
	uint64_t anon, dirty, mapped, mapmax, swapcache, active, writeback;
	uint64_t kernelpagesize_kb;    /* 0 when not printed (older kernels,
					  before commit 198d1597cc5a) */
	uint64_t node[PB_NUMA_MAX_NODES]; /* N<node>= by node id */
	uint64_t far_pages;            /* N<node>= with node >= the cap */
	uint64_t pages;                /* sum of every N<node>= */
	int max_node;                  /* highest node listed, -1 none */
	unsigned unknown;              /* fields this parser skipped */
};

/* Parses one line (a trailing newline is fine).  The policy is everything
 * between the address and the first field, so "prefer (many):0-1" and
 * "weighted interleave:0-1" stay whole; fields this parser does not know
 * (name=number or bare words) are counted in `unknown` and skipped.
 * PB_EINVAL for a line without address or policy, or a known field whose
 * value is not a number. */
int pb_numa_maps_parse_line(struct pb_nm_entry *out, const char *line);

/* One line of /proc/PID/maps. */
struct pb_nm_vma {
	uint64_t start, end, offset;
	char perms[5];                 /* "rw-p" */
	char path[PB_NM_PATH_MAX];     /* "" for anonymous, "[heap]", ... */
	int path_truncated;
};

int pb_numa_vma_parse_line(struct pb_nm_vma *out, const char *line);

/* What a mapping is, for the executable whose process it belongs to. */
enum pb_nm_kind {
	PB_NM_DATA = 0,  /* the executable's writable file mapping: .data, and
			    the start of .bss that shares its last page */
	PB_NM_BSS,       /* anonymous writable mapping right after the image */
	PB_NM_TEXT,      /* the executable's other file mappings: code,
			    read-only data, RELRO */
	PB_NM_HEAP,      /* [heap] (brk) */
	PB_NM_STACK,     /* [stack] */
	PB_NM_OTHER,     /* libraries, mmap'd memory, thread stacks, ... */
	PB_NM_KINDS
};

/* "data", "bss", "text", "heap", "stack", "other". */
const char *pb_nm_kind_name(enum pb_nm_kind k);

/* Pages by kind and node, in units of the base page (sysconf(_SC_PAGESIZE);
 * hugetlb pages are converted using kernelpagesize_kB). */
struct pb_nm_usage {
	uint64_t pages[PB_NM_KINDS][PB_NUMA_MAX_NODES];
	uint64_t far_pages[PB_NM_KINDS]; /* on node ids >= PB_NUMA_MAX_NODES */
	unsigned unmatched;  /* numa_maps lines maps did not have (the
				process changed between the two reads):
				counted by numa_maps's own heap/stack label,
				else as other */
	unsigned bad_lines;  /* lines that did not parse, skipped */
};

/* Sum of one kind over every node (far pages included). */
uint64_t pb_nm_usage_total(const struct pb_nm_usage *u, enum pb_nm_kind k);

/* The executable's writable data, .data and .bss together (DATA + BSS), on
 * node `node`, or on every node (far pages included) when node < 0: the
 * figure a run record reports.  Not BSS alone: a .bss variable that is not
 * page-aligned can begin in the last page of .data, which is file-backed
 * and counted as DATA (a 64 MiB array then shows 16,383 BSS pages and one
 * DATA page) - and that shared page is the one the first field note was
 * about. */
uint64_t pb_nm_usage_data_bss(const struct pb_nm_usage *u, int node);

/* Adds to `out` (not cleared) the pages of one process: `maps` and
 * `numa_maps` are its two files (or saved copies), `exe` its executable as
 * /proc/PID/exe reads.  Fails only on a read error of the streams. */
int pb_numa_usage_add(struct pb_nm_usage *out, const char *exe, FILE *maps,
		      FILE *numa_maps);

/* ---- sampling a run --------------------------------------------------- */

struct pb_nm_exe {
	char path[PB_NUMA_EXE_MAX];    /* /proc/PID/exe, truncated if longer */
	unsigned procs;                /* its processes in this sample */
	int cpu, node;                 /* where its lowest pid last ran, -1 */
	struct pb_nm_usage use;
};

struct pb_nm_snapshot {
	double t;                      /* pb_now_mono() when it was taken */
	unsigned page_kb;              /* the base page, in KiB */
	unsigned procs;                /* processes summarised */
	unsigned skipped;              /* gone or unreadable while sampling */
	unsigned dropped;              /* processes whose executable found no
					  free slot (PB_NUMA_MAX_EXES) */
	unsigned nexes;
	struct pb_nm_exe exe[PB_NUMA_MAX_EXES]; /* in order of lowest pid */
};

/* Where a run's memory was, as seen by its first and its latest sample. */
struct pb_numa_placement {
	unsigned samples;              /* non-empty samples taken */
	struct pb_nm_snapshot first;   /* valid when samples >= 1 */
	struct pb_nm_snapshot last;    /* valid when samples >= 1 */
};

/* How a sample finds the processes of a run (see numa.c). */
enum pb_numa_scope {
	PB_NUMA_TREE = 0,  /* root_pid and its descendants; cheap */
	PB_NUMA_GROUP,     /* also orphans left in root_pid's process group;
	                    * reads every process of the machine */
};

/* 1 when this kernel has /proc/PID/task/TID/children. */
int pb_numa_children_supported(void);

/* The pids of the run led by root_pid (itself included while it lives),
 * found as `scope` says; *out is malloc'd. */
int pb_numa_run_pids(pid_t **out, size_t *nout, pid_t root_pid,
		     enum pb_numa_scope scope);

/* Takes one sample of root_pid and every process of its run (see
 * enum pb_numa_scope): summarises their
 * numa_maps per executable into *out.  Processes that exit meanwhile are
 * counted in `skipped`, never an error.  t (may be NULL) maps CPUs to
 * nodes.  Cost: the kernel walks every page table of every such process
 * (mmap lock held for reading), so sample sparsely. */
int pb_numa_snapshot_take(struct pb_nm_snapshot *out,
			  const struct pb_numa_topology *t, pid_t root_pid,
			  enum pb_numa_scope scope);

/* The entry for executable `path` in a snapshot, or NULL. */
const struct pb_nm_exe *pb_nm_snapshot_find(const struct pb_nm_snapshot *s,
					    const char *path);

void pb_numa_placement_init(struct pb_numa_placement *p);

/* Takes a snapshot and keeps it as `last` (and as `first` when it is the
 * first) if it saw any process; an empty one (the run already ended) is
 * dropped.  Call it shortly after the start and then now and then until
 * the run ends. */
int pb_numa_sample(struct pb_numa_placement *acc,
		   const struct pb_numa_topology *t, pid_t root_pid,
		   enum pb_numa_scope scope);

/* ---- counters --------------------------------------------------------- */

enum pb_numa_stat_state {
	PB_NUMA_STAT_OK = 0,       /* value is a reading, or a true delta */
	PB_NUMA_STAT_BACKWARDS,    /* delta: after < before (reset, wrap) */
	PB_NUMA_STAT_VANISHED,     /* delta: in before only */
	PB_NUMA_STAT_APPEARED,     /* delta: in after only */
};

struct pb_numa_stat {
	char name[40];             /* the kernel's name, e.g. "numa_hit" */
	int node;                  /* node id (numastat), -1 for /proc/vmstat */
	uint64_t value;            /* reading, or delta; 0 unless state OK */
	int state;                 /* enum pb_numa_stat_state */
};

struct pb_numa_counters {
	unsigned n;
	int truncated;             /* more than PB_NUMA_MAX_STATS, or names
				      longer than 39 bytes, were left out */
	struct pb_numa_stat stat[PB_NUMA_MAX_STATS];
};

/* Reads every line of nodeN/numastat of each online node and the lines of
 * /proc/vmstat named numa_*, pgscan_*, pgsteal_*, pgmigrate_*, thp_*,
 * compact_*, pgpromote_*, pgdemote_* and zone_reclaim_*, under root.  Files
 * that do not exist are skipped.  Before reading, it asks the kernel to
 * fold per-CPU counters (reads /proc/sys/vm/stat_refresh; root only,
 * failure ignored). */
int pb_numa_counters_read(struct pb_numa_counters *out, const char *root);

/* after - before, per (node, name).  A counter that went backwards, vanished
 * or appeared gets that state and value 0, never a made-up number. */
int pb_numa_counters_delta(struct pb_numa_counters *out,
			   const struct pb_numa_counters *before,
			   const struct pb_numa_counters *after);

/* The entry for (node, name), or NULL. */
const struct pb_numa_stat *pb_numa_counters_find(
	const struct pb_numa_counters *c, int node, const char *name);

#endif
