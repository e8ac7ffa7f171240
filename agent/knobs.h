/*
 * knobs.h - the machine settings a configuration asks for (DESIGN.md
 * section 5), applied by the agent around one run and always put back,
 * also after a crash.
 *
 * Life of a run's settings:
 *
 *   at every start       pb_journal_restore(root, &report)   before anything
 *   once per config      pb_knobs_parse(&k, "thp=never,...")  syntax only
 *                        pb_knobs_check(&k, &machine)        kernel, snoop, NIC
 *   per run, parent      pb_knobs_apply(&st, &k, &machine)   journal, write
 *   per run, child       pb_knobs_child(&st)                 NUMA policy
 *   per run, parent      pb_knobs_restore(&st)               old values back
 *                        ... read st.changes for the run record ...
 *                        pb_knobs_release(&st)
 *
 * Files (zone_reclaim_mode, THP enabled/defrag, /proc/irq/N/smp_affinity_list)
 * go through sysroot.h: under --sysroot DIR they are DIR's files.  The NUMA
 * policy acts on the real machine through libnuma, whatever the sysroot.
 *
 * The journal.  ROOT/var/lib/perfbisect/settings.journal holds, for every
 * file the agent is about to change, a line "PATH<TAB>OLD-VALUE" (escaped,
 * see knobs.c), appended and fsync'd before the file is written.  The
 * journal and every change happen under an exclusive flock(2) on
 * ROOT/var/lib/perfbisect/settings.lock, which holds the owner's pid; a
 * second perfbisect gets PB_EINFRA naming that pid.  A process killed at
 * any point leaves either no journal line for a change it never made, or a
 * line whose old value the next start writes back; writing an old value
 * twice is harmless, so a restore interrupted before it removes the journal
 * is simply done again.
 */
#ifndef PB_KNOBS_H
#define PB_KNOBS_H

#include <stddef.h>
#include <sys/types.h>

#include "agent/facts.h"
#include "common/buf.h"

struct bitmask; /* libnuma's */

enum pb_irq_policy {
	PB_IRQ_UNSET = 0,
	PB_IRQ_LOCAL,   /* every IRQ of the NIC on the CPUs of the NIC's node */
	PB_IRQ_SPREAD,  /* IRQ i (ascending) on the i-th online CPU, round-robin */
	PB_IRQ_NONE,    /* leave the affinities as they are */
};

enum pb_numa_policy {
	PB_NUMA_UNSET = 0,
	PB_NUMA_DEFAULT,        /* MPOL_DEFAULT for the benchmark */
	PB_NUMA_BIND,           /* memory from node numa_node only (MPOL_BIND) */
	PB_NUMA_INTERLEAVE_ALL, /* memory interleaved over all allowed nodes */
	PB_NUMA_CPUNODEBIND,    /* run only on the CPUs of node numa_node */
};

/* One configuration: the keys of DESIGN.md section 5, plus thp_defrag.
 * Unset keys are "", PB_*_UNSET, -1 or 0 as noted. */
struct pb_knobs {
	char kernel[128];           /* release the machine must run, "" unset */
	char snoop[16];             /* early | home | cod, "" unset */
	enum pb_irq_policy irq_affinity;
	enum pb_numa_policy numa_policy;
	int numa_node;              /* N of bind:N and cpunodebind:N */
	int zone_reclaim_mode;      /* 0 or 1, -1 unset */
	char thp[16];               /* always | madvise | never, "" unset */
	char thp_defrag[16];        /* always | defer | defer+madvise |
	                               madvise | never, "" unset */
	unsigned threads;           /* 1..4096, 0 unset; the caller exports it
	                               (PERFBISECT_THREADS), nothing is applied */
};

/* Parses "K=V[,K=V...]" ("" or NULL: nothing set) into out.  Strict: an
 * unknown key, a value outside the key's allowed values, a key given twice,
 * an empty item or one without '=' give PB_EINVAL with a message naming
 * the key and what it takes.  Checks syntax only: see pb_knobs_check(). */
int pb_knobs_parse(struct pb_knobs *out, const char *spec);

/* Writes k as a canonical "K=V,..." (keys in the order of struct pb_knobs,
 * "" when nothing is set), which pb_knobs_parse() reads back to the same
 * struct.  PB_ETOOBIG when it does not fit. */
int pb_knobs_format(char *out, size_t size, const struct pb_knobs *k);

/* 0 when mode is a snoop mode a configuration can name (early, home, cod);
 * PB_EINVAL otherwise.  For validating --snoop. */
int pb_snoop_check(const char *mode);

/* Whether machine m can take k at all - the input errors of DESIGN.md
 * section 3 (exit 2): kernel=X not the release m runs ("this machine runs
 * kernel A, the configuration asks for B"), snoop=X not m->snoop (or no
 * --snoop given), irq_affinity=local|spread without a NIC, or naming an
 * interface m lacks or one without MSI IRQs.  PB_OK or PB_EINVAL.
 * Settings that the machine lacks in a smaller way (a NUMA node, a THP
 * file) are not errors: the run records them as not applied. */
int pb_knobs_check(const struct pb_knobs *k, const struct pb_machine *m);

/* --- the journal ---------------------------------------------------------- */

/* What pb_journal_restore() did.  Initialise with pb_journal_report_init(),
 * free with pb_journal_report_release(). */
struct pb_journal_report {
	int found;        /* a journal was there */
	int busy;         /* another live perfbisect holds the lock */
	size_t restored;  /* old values written back */
	size_t failed;    /* old values that could not be written back */
	size_t corrupt;   /* journal lines that could not be read */
	struct pb_buf log; /* one line per value and per problem (capped) */
};

void pb_journal_report_init(struct pb_journal_report *r);
void pb_journal_report_release(struct pb_journal_report *r);

/* Writes ROOT/var/lib/perfbisect/settings.journal into out (root NULL: the
 * real /var/lib/perfbisect/...). */
int pb_journal_path(char *out, size_t size, const char *root);

/* Puts back every value the journal under root holds, newest first, syncs,
 * and removes the journal.  Call it first at every start of perfbisect and
 * of the agent.  `rep` may be NULL.
 *   PB_OK       no journal, or every value restored;
 *   PB_ERROR    restored what could be, but some lines were corrupt or some
 *               values could not be written (a target file missing, a write
 *               refused): the message sums it up, rep->log has each one;
 *               the journal is removed all the same (retrying cannot help);
 *   PB_EINFRA   the journal could not be read or locked, it is kept; with
 *               rep->busy set when a live perfbisect holds the lock (its
 *               journal is not stale: it is left alone). */
int pb_journal_restore(const char *root, struct pb_journal_report *rep);

/* --- one run's settings ------------------------------------------------- */

enum pb_knob_status {
	PB_KNOB_APPLIED = 0,  /* in effect for the run (reason may hold a note) */
	PB_KNOB_NOT_APPLIED,  /* this machine cannot take it; reason says why */
	PB_KNOB_REFUSED,      /* the kernel refused the write; reason has errno */
};

/* "applied", "not applied", "refused". */
const char *pb_knob_status_name(enum pb_knob_status s);

/* What happened to one setting in one run.  An IRQ policy gives one entry
 * per IRQ of the NIC. */
struct pb_knob_change {
	char setting[24];     /* the key: zone_reclaim_mode, thp, thp_defrag,
	                         irq_affinity, numa_policy */
	char target[64];      /* what it acted on: "vm.zone_reclaim_mode",
	                         "transparent_hugepage/enabled", "irq 40",
	                         "benchmark process", "eth0" */
	char path[96];        /* the machine path written, "" when none */
	char old_value[256];  /* before the run ("" when unknown) */
	char new_value[256];  /* what the configuration asked for */
	enum pb_knob_status status;
	char reason[256];     /* why not applied / refused; for applied a
	                         note ("already set", "NIC node unknown...") */
	int written;          /* 1: the file was changed and is restored */
	char restore_error[256]; /* "" unless writing old_value back failed */
};

/* The settings of one run.  Fields below `n` are private. */
struct pb_knobs_state {
	struct pb_knob_change *changes; /* in the order applied */
	size_t n;
	struct pb_journal_report leftover; /* a stale journal found at apply */

	size_t alloc;
	char *root;
	pid_t owner;
	int lock_fd, journal_fd, restored;
	int numa_action;
	struct bitmask *numa_nodes, *numa_cpus;
};

/* Called after each journal line is on disk and before its file is
 * written: a seam for tests, which kill the process there.  NULL: none. */
typedef void (*pb_knobs_seam_fn)(void *ctx, const char *path);

/* Applies k to machine m for one run: takes the lock (PB_EINFRA when
 * another perfbisect holds it), restores a stale journal first (reported in
 * out->leftover), then for each file setting reads the old value, journals
 * it, writes the new one; prepares the NUMA policy for pb_knobs_child()
 * and decides against the real machine whether it applies.  Per-setting
 * outcomes are in out->changes, never an error.  PB_EINFRA when the
 * journal cannot be written: everything already changed is put back first,
 * and the benchmark must not run.  `out` is initialised here whatever the
 * return; release it with pb_knobs_release(). */
int pb_knobs_apply(struct pb_knobs_state *out, const struct pb_knobs *k,
		   const struct pb_machine *m);
int pb_knobs_apply_seam(struct pb_knobs_state *out, const struct pb_knobs *k,
			const struct pb_machine *m, pb_knobs_seam_fn seam,
			void *ctx);

/* In the forked child, before exec: sets the NUMA memory policy or CPU
 * affinity prepared by pb_knobs_apply() (nothing when none applies).
 * Allocates nothing and reads no files: only set_mempolicy(2) or
 * sched_setaffinity(2).  0, or -errno of the failed call.  Policy and
 * affinity survive dropping privileges and execve(2). */
int pb_knobs_child(const struct pb_knobs_state *st);

/* Writes the old values back (newest first), syncs, removes the journal
 * and drops the lock; st->changes stays readable.  PB_OK, or PB_ERROR
 * when some value could not be put back (each change's restore_error says
 * which; the journal is removed all the same).  Restoring twice is a no-op;
 * in a process other than the one that applied (a forked child), it does
 * nothing. */
int pb_knobs_restore(struct pb_knobs_state *st);

/* Restores if that was not done, then frees; accepts NULL. */
void pb_knobs_release(struct pb_knobs_state *st);

#endif
