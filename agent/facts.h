/*
 * facts.h - what a run record says about the machine it ran on (DESIGN.md
 * section 4), and the small readers of kernel file formats the agent's
 * settings code shares with it: CPU and node lists ("0-3,8-11"), the
 * bracketed word of a THP file ("always [madvise] never"), a network
 * interface's IRQs.
 *
 * Every machine-wide file is read through sysroot.h, so under --sysroot DIR
 * the facts describe the fake machine in DIR.  The one exception is the CPU
 * model: /proc/cpuinfo is not among the files DESIGN.md puts under the
 * sysroot, so it always comes from the real machine.  A fact that cannot be
 * read is left empty ("" or -1), never guessed; collecting facts fails only
 * when memory runs out.
 */
#ifndef PB_FACTS_H
#define PB_FACTS_H

#include <stddef.h>
#include <stdint.h>

/* The machine the agent acts on: its files, its NIC, its snoop mode.  The
 * strings are borrowed; they must outlive every call that is handed them. */
struct pb_machine {
	const char *root;  /* --sysroot DIR; NULL (or "/") is the real machine */
	const char *nic;   /* --nic IFACE; NULL when none is configured */
	const char *snoop; /* --snoop MODE; NULL when not configured */
};

#define PB_MACHINE_INIT { NULL, NULL, NULL }

/* --- Kernel lists of CPUs or nodes ----------------------------------- */

#define PB_IDSET_MAX 8192 /* CPUs or nodes numbered 0 .. PB_IDSET_MAX-1 */

struct pb_idset {
	uint64_t bits[PB_IDSET_MAX / 64];
};

/* Parses a kernel list ("0-3,8,10-11"; "" or blanks = empty set) into out.
 * PB_EINVAL, with a message naming `what`, for anything else or an id at or
 * past PB_IDSET_MAX. */
int pb_idset_parse(struct pb_idset *out, const char *list, const char *what);

/* Writes the set as the kernel writes such lists ("0-3,8,10-11", "" when
 * empty).  PB_ETOOBIG when it does not fit in size bytes. */
int pb_idset_format(char *out, size_t size, const struct pb_idset *s);

int pb_idset_has(const struct pb_idset *s, unsigned id);
void pb_idset_add(struct pb_idset *s, unsigned id);
unsigned pb_idset_count(const struct pb_idset *s);

/* The id of the n-th member (0-based, ascending), or -1. */
int pb_idset_nth(const struct pb_idset *s, unsigned n);

/* --- Other formats ---------------------------------------------------- */

/* The active word of a sysfs choice file: "always [madvise] never" gives
 * "madvise".  A file holding one bare word (a plain file in a fake tree
 * after a write) gives that word.  PB_EINVAL for anything else, PB_ETOOBIG
 * when the word does not fit. */
int pb_bracketed_word(char *out, size_t size, const char *text);

/* 0 when `nic` can name an interface (1-15 characters, no '/', no blanks,
 * not "." or ".."); PB_EINVAL with a message otherwise. */
int pb_nic_name_check(const char *nic);

/* The IRQ numbers of interface `nic`, ascending, from
 * ROOT/sys/class/net/NIC/device/msi_irqs/.  *out is malloc'd (the caller
 * frees it; NULL when *n is 0).  PB_ENOTFOUND when the interface or its
 * msi_irqs directory does not exist, PB_EINVAL for a bad name. */
int pb_nic_irqs(unsigned **out, size_t *n, const char *root, const char *nic);

/* The NUMA node of interface `nic` (ROOT/sys/class/net/NIC/device/numa_node),
 * or -1 when the kernel does not know it or the file cannot be read. */
int pb_nic_node(const char *root, const char *nic);

/* The kernel release: ROOT/proc/sys/kernel/osrelease, or uname(2) when the
 * tree has no such file.  PB_ERROR only when neither works. */
int pb_machine_kernel(char *out, size_t size, const char *root);

/* The CPU model described by the text of a /proc/cpuinfo: its first
 * "model name" (x86), else "CPU implementer 0x41, part 0xd0c" (arm64, which
 * has no model name), else "unknown".  Pure: no files. */
void pb_cpu_model_from_cpuinfo(char *out, size_t size, const char *cpuinfo);

/* --- The facts of a run ----------------------------------------------- */

struct pb_irq_cpus {
	unsigned irq;
	char cpus[256];    /* smp_affinity_list as read, or "" when unreadable */
};

struct pb_facts {
	char kernel[128];          /* release, as pb_machine_kernel() */
	char cpu_model[128];       /* the real /proc/cpuinfo, see above */
	char pmu_name[64];         /* "" here: the caller fills it from libpfm4
	                              (agent/pmu.c) */
	int numa_nodes;            /* nodes in node/online; 0 when unknown */
	char numa_online[64];      /* that list, e.g. "0-1"; "" when unknown */
	char snoop[16];            /* as configured (--snoop); "" when not */
	char thp_enabled[32];      /* active word, "" when unknown */
	char thp_defrag[32];       /* active word, "" when unknown */
	int zone_reclaim_mode;     /* -1 when unknown */
	char nic[32];              /* --nic, "" when none is configured */
	int nic_node;              /* -1 when unknown */
	struct pb_irq_cpus *irqs;  /* the NIC's IRQs, ascending; malloc'd */
	size_t n_irqs;
	char irq_note[256];        /* why irqs is empty, "" otherwise */
	/* What makes runs drift (under /sys/devices/system/cpu; "" when the
	 * machine does not say, e.g. a VM without cpufreq): */
	char governor[64];         /* the CPUs' cpufreq governors, distinct,
				      "performance" or "powersave,schedutil" */
	char boost[8];             /* turbo/boost: "on", "off" */
	char smt[16];              /* "on", "off" (smt/active), or smt/control
				      when SMT is not active ("notsupported") */
	char isolated[64];         /* isolcpus= CPUs, "" when none */
	char nohz_full[64];        /* nohz_full= CPUs, "" when none */
};

/* Collects the facts of machine m into out (initialised here; release it
 * with pb_facts_release() whatever the return).  PB_OK; PB_ERROR only when
 * memory runs out. */
int pb_facts_collect(struct pb_facts *out, const struct pb_machine *m);

/* Sentences, one a line, about facts that invite noise into a measurement
 * (a cpufreq governor other than performance, turbo/boost on); "" when
 * there is nothing to say.  Pure: reads only f. */
void pb_facts_noise_warnings(char *out, size_t size, const struct pb_facts *f);

/* Frees what out owns; accepts NULL and a released struct. */
void pb_facts_release(struct pb_facts *f);

#endif
