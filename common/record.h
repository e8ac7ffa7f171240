/*
 * record.h - what an agent measured in one run besides the metric, as plain
 * data (DESIGN.md section 4): counters, where the run started, where its
 * memory was, what the kernel's NUMA counters did, the settings it ran
 * under, and the machine's facts.  The agent (agent/measure.c) fills it;
 * proto.c turns it into the run record's JSON; the orchestrator stores it.
 * Nothing here points into agent/ structs, so every side can include it.
 *
 * A double that is NAN is "not counted": `*_note` then says why, in the
 * machine's words ("unsupported: ...", "not counted: ...").
 */
#ifndef PB_RECORD_H
#define PB_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define PB_REC_MAX_COUNTERS 16
#define PB_REC_MAX_SETTINGS 40
#define PB_REC_MAX_FACTS 24

struct pb_rec_counter {
	char name[128];        /* as requested: "cycles", "remote-access" */
	char event[160];       /* libpfm4's event, "" when none */
	const char *state;     /* "counted", "unsupported", "not counted" */
	double value;          /* scaled count; NAN unless counted */
	double running;        /* time running / time enabled (1: never
				  multiplexed); NAN unless counted */
	char reason[320];      /* why not counted, "" when counted */
};

/* Pages of one kind of mapping of one executable on one node. */
struct pb_rec_place {
	char sample[8];        /* "first" or "last" */
	char exe[512];         /* /proc/PID/exe */
	const char *kind;      /* "data", "bss", "text", "heap", "stack", "other" */
	int node;
	uint64_t pages;
};

/* One kernel counter's change over the run. */
struct pb_rec_stat {
	char name[40];         /* "numa_hit", "pgscan_direct" ... */
	int node;              /* -1: /proc/vmstat, else nodeN/numastat */
	int64_t delta;         /* valid when state is "ok" */
	const char *state;     /* "ok", "backwards", "vanished", "appeared" */
};

struct pb_rec_setting {
	char setting[24];      /* zone_reclaim_mode, thp, irq_affinity ... */
	char target[64];       /* "vm.zone_reclaim_mode", "irq 40" ... */
	char old_value[256];
	char new_value[256];
	const char *status;    /* "applied", "not applied", "refused" */
	char reason[256];
	char restore_error[256];
};

struct pb_rec_fact {
	char key[32];
	char value[512];
};

struct pb_run_measurements {
	/* where it started */
	int start_cpu, start_node;         /* -1: unknown */
	int start_node_asked;              /* the node the run was held to while
					      it started, -1: not held */
	char start_cpus[128];              /* that node's CPUs it was held to */
	char start_note[256];
	/* counters */
	double ipc, remote_access;         /* NAN: see the notes */
	char ipc_note[320], remote_note[320];
	size_t ncounters;
	struct pb_rec_counter counters[PB_REC_MAX_COUNTERS];
	/* memory placement: samples taken, and the rows of first and last */
	unsigned samples;
	double first_s, last_s;            /* seconds after start; NAN: none */
	size_t nplace;
	struct pb_rec_place *place;        /* malloc'd */
	/* kernel counter deltas */
	size_t nstats;
	struct pb_rec_stat *stats;         /* malloc'd */
	char stats_note[256];              /* "" or why there are none */
	/* interference (agent/interfere.h): the run's own CPU time against its
	 * wall time, what other user-space work and the hypervisor took
	 * meanwhile, PSI stalls for information; NAN: not measured */
	double cpu_s;
	double others_cpu_s, others_cpus;
	double interference;               /* share of the machine others used */
	double steal_s;
	double psi_some[3];                /* cpu, memory, io: share of the run */
	char psi_note[160];                /* why PSI is missing */
	int disturbed;                     /* not evidence */
	char disturbed_why[192];
	/* settings and facts */
	size_t nsettings;
	struct pb_rec_setting settings[PB_REC_MAX_SETTINGS];
	size_t nfacts;
	struct pb_rec_fact facts[PB_REC_MAX_FACTS];
};

/* Empties m: every value unknown, no rows. */
void pb_run_measurements_init(struct pb_run_measurements *m);

/* Frees the rows; m is empty afterwards.  Accepts NULL. */
void pb_run_measurements_release(struct pb_run_measurements *m);

/* Adds a fact (the key and value are copied, truncated if long). */
void pb_rec_fact_add(struct pb_run_measurements *m, const char *key,
		     const char *value);

#endif
