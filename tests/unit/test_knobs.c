/*
 * test_knobs.c - a configuration's machine settings and the machine facts,
 * on a fake two-node machine made by tests/fixtures/mksysroot.sh in a fresh
 * temporary directory: real files, real processes, no mocks.
 *
 * Crashes are real: a forked child applies settings and _exit()s without
 * restoring, or is SIGKILLed between writing a journal line and changing
 * the file (the seam pb_knobs_apply_seam() offers), or holds the lock while
 * the parent tries.  A refusing kernel is real too: the fixture's "managed"
 * IRQ is a link to a read-only sysfs file the kernel will not let root
 * write.  NUMA policies act on the real machine (libnuma) and are checked in
 * forked children, one of them through an exec of cat /proc/self/numa_maps.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <numa.h>
#include <numaif.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"
#include "common/proc.h"
#include "common/sysroot.h"
#include "agent/facts.h"
#include "agent/knobs.h"
#include "common/util.h"

extern char **environ;

#define THP_ENABLED "/sys/kernel/mm/transparent_hugepage/enabled"
#define THP_DEFRAG "/sys/kernel/mm/transparent_hugepage/defrag"
#define ZONE "/proc/sys/vm/zone_reclaim_mode"

struct fixture {
	char tmp[64];     /* the mkdtemp directory */
	char root[128];   /* tmp/root: the fake machine */
};

/* Makes a fresh fake machine; `managed` makes IRQ 43 refuse writes. */
static struct fixture *make_machine(int managed)
{
	const char *dir = getenv("PB_FIXTURES");
	struct pb_proc_opts o = PB_PROC_OPTS_INIT;
	struct pb_proc_result r;
	struct fixture *f = calloc(1, sizeof(*f));
	char script[512];
	const char *argv[6];
	int i = 0;

	assert_non_null(f);
	snprintf(script, sizeof(script), "%s/mksysroot.sh",
		 dir ? dir : "tests/fixtures");
	pb_strlcpy(f->tmp, "/tmp/pb-knobs-XXXXXX", sizeof(f->tmp));
	assert_non_null(mkdtemp(f->tmp));
	snprintf(f->root, sizeof(f->root), "%s/root", f->tmp);
	argv[i++] = "/bin/sh";
	argv[i++] = script;
	if (managed) {
		argv[i++] = "--managed-irq";
		argv[i++] = "43";
	}
	argv[i++] = f->root;
	argv[i] = NULL;
	o.argv = argv;
	o.envp = environ;
	o.timeout_s = 30;
	assert_int_equal(pb_proc_run(&r, &o), PB_OK);
	if (!r.exited || r.exit_code != 0)
		fail_msg("mksysroot.sh failed: %s", r.err.ptr);
	pb_proc_result_release(&r);
	return f;
}

static int setup_plain(void **state)
{
	*state = make_machine(0);
	return 0;
}

static int setup_managed(void **state)
{
	*state = make_machine(1);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f) {
		pb_rm_rf(f->tmp);
		free(f);
	}
	return 0;
}

/* The content of a machine file under root (static buffer). */
static const char *rd(const char *root, const char *abs)
{
	static char buf[4][1024];
	static int next;
	char *b = buf[next++ % 4];

	if (pb_sys_read(root, abs, b, 1024) != PB_OK)
		return "(unreadable)";
	return b;
}

/* The active word of a THP file under root. */
static const char *thp_word(const char *root, const char *abs)
{
	static char w[64];

	if (pb_bracketed_word(w, sizeof(w), rd(root, abs)))
		return "(none)";
	return w;
}

static int journal_exists(const char *root)
{
	char p[4096];
	struct stat st;

	assert_int_equal(pb_journal_path(p, sizeof(p), root), PB_OK);
	return stat(p, &st) == 0;
}

/* The whole journal as a string (caller frees), or NULL. */
static char *journal_text(const char *root)
{
	char p[4096], *buf;
	FILE *f;
	size_t n;

	assert_int_equal(pb_journal_path(p, sizeof(p), root), PB_OK);
	if (!(f = fopen(p, "re")))
		return NULL;
	buf = calloc(1, 65536);
	assert_non_null(buf);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void write_journal(const char *root, const char *text, size_t len)
{
	char p[4096], dir[4096];
	FILE *f;

	assert_int_equal(pb_journal_path(p, sizeof(p), root), PB_OK);
	assert_int_equal(pb_sys_path(dir, sizeof(dir), root,
				     "/var/lib/perfbisect"), PB_OK);
	assert_int_equal(pb_mkdir_p(dir, 0755), PB_OK);
	f = fopen(p, "we");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void parse_ok(struct pb_knobs *k, const char *spec)
{
	if (pb_knobs_parse(k, spec) != PB_OK)
		fail_msg("'%s': %s", spec ? spec : "(null)", pb_error_last());
}

static const struct pb_knob_change *find(const struct pb_knobs_state *st,
					 const char *target)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		if (!strcmp(st->changes[i].target, target))
			return &st->changes[i];
	fail_msg("no change for '%s'", target);
	return NULL;
}

/* Waits for pid; returns its exit code, or 128+signal. */
static int wait_child(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/* --- parsing and checking ---------------------------------------------- */

static void test_knobs__parse_every_key(void **state)
{
	struct pb_knobs k, back;
	char s[512];

	(void)state;
	parse_ok(&k, "kernel=6.1.0-18-amd64,snoop=home,irq_affinity=local,"
		     "numa_policy=bind:1,zone_reclaim_mode=1,thp=never,"
		     "thp_defrag=defer+madvise,threads=8");
	assert_string_equal(k.kernel, "6.1.0-18-amd64");
	assert_string_equal(k.snoop, "home");
	assert_int_equal(k.irq_affinity, PB_IRQ_LOCAL);
	assert_int_equal(k.numa_policy, PB_NUMA_BIND);
	assert_int_equal(k.numa_node, 1);
	assert_int_equal(k.zone_reclaim_mode, 1);
	assert_string_equal(k.thp, "never");
	assert_string_equal(k.thp_defrag, "defer+madvise");
	assert_int_equal(k.threads, 8);
	assert_int_equal(pb_knobs_format(s, sizeof(s), &k), PB_OK);
	assert_string_equal(s, "kernel=6.1.0-18-amd64,snoop=home,"
			       "irq_affinity=local,numa_policy=bind:1,"
			       "zone_reclaim_mode=1,thp=never,"
			       "thp_defrag=defer+madvise,threads=8");
	parse_ok(&back, s);
	assert_memory_equal(&k, &back, sizeof(k));
	assert_int_equal(pb_knobs_format(s, 10, &k), PB_ETOOBIG);

	parse_ok(&k, "numa_policy=interleave:all,irq_affinity=spread,"
		     "zone_reclaim_mode=0");
	assert_int_equal(k.numa_policy, PB_NUMA_INTERLEAVE_ALL);
	assert_int_equal(k.irq_affinity, PB_IRQ_SPREAD);
	assert_int_equal(k.zone_reclaim_mode, 0);
	parse_ok(&k, "numa_policy=cpunodebind:3,irq_affinity=none");
	assert_int_equal(k.numa_policy, PB_NUMA_CPUNODEBIND);
	assert_int_equal(k.numa_node, 3);
	assert_int_equal(k.irq_affinity, PB_IRQ_NONE);
	parse_ok(&k, "numa_policy=default");
	assert_int_equal(k.numa_policy, PB_NUMA_DEFAULT);
}

static void test_knobs__parse_nothing(void **state)
{
	struct pb_knobs k;
	char s[16];

	(void)state;
	parse_ok(&k, "");
	assert_int_equal(k.zone_reclaim_mode, -1);
	assert_int_equal(k.irq_affinity, PB_IRQ_UNSET);
	assert_int_equal(k.numa_policy, PB_NUMA_UNSET);
	assert_int_equal(k.threads, 0);
	assert_string_equal(k.thp, "");
	parse_ok(&k, NULL);
	assert_int_equal(pb_knobs_format(s, sizeof(s), &k), PB_OK);
	assert_string_equal(s, "");
}

static void test_knobs__parse_rejects(void **state)
{
	static const struct {
		const char *spec, *says;
	} bad[] = {
		{ "colour=blue", "unknown setting 'colour'" },
		{ "thp=sometimes", "thp takes always, madvise or never" },
		{ "thp=Never", "thp takes always, madvise or never" },
		{ "thp_defrag=sometimes", "defer+madvise" },
		{ "zone_reclaim_mode=2", "zone_reclaim_mode takes 0 or 1" },
		{ "zone_reclaim_mode=01", "zone_reclaim_mode takes 0 or 1" },
		{ "numa_policy=bind:x", "numa_policy takes default, bind:N" },
		{ "numa_policy=bind:", "numa_policy takes" },
		{ "numa_policy=bind:-1", "numa_policy takes" },
		{ "numa_policy=bind:5000", "numa_policy takes" },
		{ "numa_policy=interleave:0", "numa_policy takes" },
		{ "numa_policy=preferred:0", "numa_policy takes" },
		{ "irq_affinity=", "irq_affinity takes local, spread or none" },
		{ "irq_affinity=all", "irq_affinity takes local, spread or none" },
		{ "snoop=late", "snoop takes early, home or cod" },
		{ "threads=0", "threads takes a thread count from 1 to 4096" },
		{ "threads=5000", "threads takes" },
		{ "threads=4x", "threads takes" },
		{ "kernel=", "kernel takes a kernel release" },
		{ "kernel=6.1 extra", "kernel takes a kernel release" },
		{ "thp=never,thp=always", "setting 'thp' is given twice" },
		{ "thp=never,zone_reclaim_mode=1,thp=never", "given twice" },
		{ "thp", "'thp' is not KEY=VALUE" },
		{ "=never", "is not KEY=VALUE" },
		{ "thp=never,", "an empty setting" },
		{ ",thp=never", "an empty setting" },
		{ "thp=never,,zone_reclaim_mode=1", "an empty setting" },
	};
	struct pb_knobs k;
	size_t i;

	(void)state;
	for (i = 0; i < PB_ARRAY_SIZE(bad); i++) {
		int rc = pb_knobs_parse(&k, bad[i].spec);

		if (rc != PB_EINVAL)
			fail_msg("'%s' gave %d, want PB_EINVAL", bad[i].spec, rc);
		if (!strstr(pb_error_last(), bad[i].says))
			fail_msg("'%s': message '%s' lacks '%s'", bad[i].spec,
				 pb_error_last(), bad[i].says);
		/* nothing half-parsed is left behind */
		assert_string_equal(k.thp, "");
		assert_int_equal(k.zone_reclaim_mode, -1);
	}
	assert_int_equal(pb_snoop_check("cod"), PB_OK);
	assert_int_equal(pb_snoop_check("early"), PB_OK);
	assert_int_equal(pb_snoop_check("Home"), PB_EINVAL);
	assert_int_equal(pb_snoop_check(NULL), PB_EINVAL);
}

static void test_knobs__check_against_the_machine(void **state)
{
	struct fixture *f = *state;
	struct pb_machine m = { f->root, NULL, NULL };
	struct utsname u;
	struct pb_knobs k;
	char spec[256], want[512];

	assert_int_equal(uname(&u), 0);
	snprintf(spec, sizeof(spec), "kernel=%s,thp=never", u.release);
	parse_ok(&k, spec);
	assert_int_equal(pb_knobs_check(&k, &m), PB_OK);

	parse_ok(&k, "kernel=0.0.1-other");
	assert_int_equal(pb_knobs_check(&k, &m), PB_EINVAL);
	snprintf(want, sizeof(want), "this machine runs kernel %s, the "
		 "configuration asks for 0.0.1-other", u.release);
	assert_non_null(strstr(pb_error_last(), want));

	/* the release comes from the sysroot, not from uname */
	assert_int_equal(pb_sys_write(f->root, "/proc/sys/kernel/osrelease",
				      "0.0.1-other"), PB_OK);
	assert_int_equal(pb_knobs_check(&k, &m), PB_OK);

	parse_ok(&k, "snoop=home");
	assert_int_equal(pb_knobs_check(&k, &m), PB_EINVAL);
	assert_non_null(strstr(pb_error_last(), "snoop mode is unknown"));
	assert_non_null(strstr(pb_error_last(), "--snoop"));
	m.snoop = "early";
	assert_int_equal(pb_knobs_check(&k, &m), PB_EINVAL);
	assert_non_null(strstr(pb_error_last(), "this machine's snoop mode is "
					     "early, the configuration asks "
					     "for home"));
	m.snoop = "home";
	assert_int_equal(pb_knobs_check(&k, &m), PB_OK);

	parse_ok(&k, "irq_affinity=local");
	assert_int_equal(pb_knobs_check(&k, &m), PB_EINVAL);
	assert_non_null(strstr(pb_error_last(), "--nic"));
	m.nic = "eth9";
	assert_int_equal(pb_knobs_check(&k, &m), PB_EINVAL);
	assert_non_null(strstr(pb_error_last(), "config irq_affinity=local: "
					     "this machine has no interface "
					     "'eth9' with MSI IRQs (cannot list "
					     "the IRQs of 'eth9'"));
	m.nic = "../../etc";
	assert_int_equal(pb_knobs_check(&k, &m), PB_EINVAL);
	m.nic = "eth0";
	assert_int_equal(pb_knobs_check(&k, &m), PB_OK);
	/* none needs no interface at all */
	parse_ok(&k, "irq_affinity=none");
	m.nic = NULL;
	assert_int_equal(pb_knobs_check(&k, &m), PB_OK);
}

/* --- formats ------------------------------------------------------------- */

static void test_knobs__lists_and_choices(void **state)
{
	struct pb_idset s;
	char out[64], w[32];

	(void)state;
	assert_int_equal(pb_idset_parse(&s, "0-3,8,10-11\n", "t"), PB_OK);
	assert_int_equal(pb_idset_count(&s), 7);
	assert_int_equal(pb_idset_nth(&s, 4), 8);
	assert_int_equal(pb_idset_nth(&s, 6), 11);
	assert_int_equal(pb_idset_nth(&s, 7), -1);
	assert_int_equal(pb_idset_format(out, sizeof(out), &s), PB_OK);
	assert_string_equal(out, "0-3,8,10-11");
	assert_int_equal(pb_idset_format(out, 5, &s), PB_ETOOBIG);
	assert_int_equal(pb_idset_parse(&s, "5,1,2,3", "t"), PB_OK);
	assert_int_equal(pb_idset_format(out, sizeof(out), &s), PB_OK);
	assert_string_equal(out, "1-3,5");
	assert_int_equal(pb_idset_parse(&s, "", "t"), PB_OK);
	assert_int_equal(pb_idset_count(&s), 0);
	assert_int_equal(pb_idset_parse(&s, "3-1", "t"), PB_EINVAL);
	assert_int_equal(pb_idset_parse(&s, "0-3,", "t"), PB_EINVAL);
	assert_int_equal(pb_idset_parse(&s, "8192", "t"), PB_EINVAL);
	assert_int_equal(pb_idset_parse(&s, "1 2", "t"), PB_EINVAL);
	assert_int_equal(pb_idset_parse(&s, "-1", "t"), PB_EINVAL);

	assert_int_equal(pb_bracketed_word(w, sizeof(w),
					   "always [madvise] never"), PB_OK);
	assert_string_equal(w, "madvise");
	assert_int_equal(pb_bracketed_word(w, sizeof(w), "always defer "
					   "[defer+madvise] madvise never"),
			 PB_OK);
	assert_string_equal(w, "defer+madvise");
	assert_int_equal(pb_bracketed_word(w, sizeof(w), "never\n"), PB_OK);
	assert_string_equal(w, "never");
	assert_int_equal(pb_bracketed_word(w, sizeof(w), "always madvise"),
			 PB_EINVAL);
	assert_int_equal(pb_bracketed_word(w, sizeof(w), "[a] [b]"), PB_EINVAL);
	assert_int_equal(pb_bracketed_word(w, sizeof(w), "a []"), PB_EINVAL);
	assert_int_equal(pb_bracketed_word(w, 3, "[madvise]"), PB_ETOOBIG);
}

static void test_knobs__cpu_model(void **state)
{
	char out[128];

	(void)state;
	pb_cpu_model_from_cpuinfo(out, sizeof(out),
				  "processor\t: 0\nvendor_id\t: GenuineIntel\n"
				  "model name\t: Intel(R) Xeon(R) CPU E5-2620 "
				  "v3 @ 2.40GHz\nstepping\t: 2\n");
	assert_string_equal(out, "Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz");
	pb_cpu_model_from_cpuinfo(out, sizeof(out),
				  "processor\t: 0\nBogoMIPS\t: 50.00\n"
				  "CPU implementer\t: 0x41\nCPU architecture: 8\n"
				  "CPU variant\t: 0x3\nCPU part\t: 0xd0c\n"
				  "CPU revision\t: 1\n");
	assert_string_equal(out, "CPU implementer 0x41, part 0xd0c");
	pb_cpu_model_from_cpuinfo(out, sizeof(out), "processor : 0\n");
	assert_string_equal(out, "unknown");
	pb_cpu_model_from_cpuinfo(out, sizeof(out), "");
	assert_string_equal(out, "unknown");
}

/* --- apply and restore ----------------------------------------------------- */

static void test_knobs__apply_then_restore(void **state)
{
	struct fixture *f = *state;
	struct pb_machine m = { f->root, "eth0", NULL };
	const struct pb_knob_change *c;
	struct pb_knobs_state st;
	struct pb_knobs k;
	char *j;
	int i;

	parse_ok(&k, "zone_reclaim_mode=1,thp=never,thp_defrag=defer,"
		     "irq_affinity=local");
	assert_int_equal(pb_knobs_apply(&st, &k, &m), PB_OK);
	assert_int_equal(st.n, 3 + 4);

	c = find(&st, "vm.zone_reclaim_mode");
	assert_int_equal(c->status, PB_KNOB_APPLIED);
	assert_string_equal(c->old_value, "0");
	assert_string_equal(c->new_value, "1");
	assert_string_equal(c->path, ZONE);
	c = find(&st, "transparent_hugepage/enabled");
	assert_int_equal(c->status, PB_KNOB_APPLIED);
	assert_string_equal(c->old_value, "madvise");
	assert_string_equal(c->new_value, "never");
	c = find(&st, "transparent_hugepage/defrag");
	assert_string_equal(c->old_value, "madvise");
	assert_string_equal(c->new_value, "defer");
	for (i = 40; i <= 42; i++) {
		char t[16];

		snprintf(t, sizeof(t), "irq %d", i);
		c = find(&st, t);
		assert_string_equal(c->setting, "irq_affinity");
		assert_int_equal(c->status, PB_KNOB_APPLIED);
		assert_string_equal(c->old_value, "0-7");
		assert_string_equal(c->new_value, "4-7"); /* eth0 is on node 1 */
		assert_true(c->written);
	}

	/* the files hold the new values; the journal holds the old ones */
	assert_string_equal(rd(f->root, ZONE), "1");
	assert_string_equal(thp_word(f->root, THP_ENABLED), "never");
	assert_string_equal(thp_word(f->root, THP_DEFRAG), "defer");
	assert_string_equal(rd(f->root, "/proc/irq/40/smp_affinity_list"), "4-7");
	assert_string_equal(rd(f->root, "/proc/irq/42/smp_affinity_list"), "4-7");
	j = journal_text(f->root);
	assert_non_null(j);
	assert_non_null(strstr(j, "# perfbisect settings journal v1\n"));
	assert_non_null(strstr(j, "\n/proc/sys/vm/zone_reclaim_mode\t0\n"));
	assert_non_null(strstr(j, "\n" THP_ENABLED "\tmadvise\n"));
	assert_non_null(strstr(j, "\n/proc/irq/41/smp_affinity_list\t0-7\n"));
	free(j);

	assert_int_equal(pb_knobs_restore(&st), PB_OK);
	assert_string_equal(rd(f->root, ZONE), "0");
	assert_string_equal(thp_word(f->root, THP_ENABLED), "madvise");
	assert_string_equal(thp_word(f->root, THP_DEFRAG), "madvise");
	for (i = 40; i <= 43; i++) {
		char p[64];

		snprintf(p, sizeof(p), "/proc/irq/%d/smp_affinity_list", i);
		assert_string_equal(rd(f->root, p), "0-7");
	}
	assert_false(journal_exists(f->root));
	/* the record survives the restore; a second restore does nothing */
	assert_string_equal(find(&st, "irq 40")->restore_error, "");
	assert_int_equal(pb_knobs_restore(&st), PB_OK);
	pb_knobs_release(&st);
	pb_knobs_release(NULL);
	/* nothing left to restore at the next start */
	assert_int_equal(pb_journal_restore(f->root, NULL), PB_OK);
}

static void test_knobs__refusing_irq_is_reported(void **state)
{
	struct fixture *f = *state;
	struct pb_machine m = { f->root, "eth0", NULL };
	const struct pb_knob_change *c;
	struct pb_knobs_state st;
	struct pb_knobs k;
	char before[256];

	pb_strlcpy(before, rd(f->root, "/proc/irq/43/smp_affinity_list"),
		   sizeof(before));
	parse_ok(&k, "irq_affinity=local");
	assert_int_equal(pb_knobs_apply(&st, &k, &m), PB_OK);
	assert_int_equal(st.n, 4);
	c = find(&st, "irq 43");
	assert_int_equal(c->status, PB_KNOB_REFUSED);
	assert_string_equal(pb_knob_status_name(c->status), "refused");
	assert_string_equal(c->old_value, before);
	assert_string_equal(c->new_value, "4-7");
	assert_non_null(strstr(c->reason, "/proc/irq/43/smp_affinity_list"));
	assert_true(strstr(c->reason, "Permission denied") ||
		    strstr(c->reason, "Read-only file system"));
	assert_false(c->written);
	/* the other IRQs of the NIC were still moved */
	assert_int_equal(find(&st, "irq 40")->status, PB_KNOB_APPLIED);
	assert_int_equal(find(&st, "irq 42")->status, PB_KNOB_APPLIED);
	assert_string_equal(rd(f->root, "/proc/irq/42/smp_affinity_list"), "4-7");
	assert_int_equal(pb_knobs_restore(&st), PB_OK);
	assert_string_equal(rd(f->root, "/proc/irq/42/smp_affinity_list"), "0-7");
	assert_string_equal(rd(f->root, "/proc/irq/43/smp_affinity_list"), before);
	pb_knobs_release(&st);
}

static void test_knobs__spread_and_unknown_nic_node(void **state)
{
	struct fixture *f = *state;
	struct pb_machine m = { f->root, "eth0", NULL };
	struct pb_knobs_state st;
	struct pb_knobs k;

	parse_ok(&k, "irq_affinity=spread");
	assert_int_equal(pb_knobs_apply(&st, &k, &m), PB_OK);
	assert_string_equal(find(&st, "irq 40")->new_value, "0");
	assert_string_equal(find(&st, "irq 43")->new_value, "3");
	assert_string_equal(rd(f->root, "/proc/irq/41/smp_affinity_list"), "1");
	assert_string_equal(rd(f->root, "/proc/irq/43/smp_affinity_list"), "3");
	pb_knobs_release(&st); /* restores */
	assert_string_equal(rd(f->root, "/proc/irq/41/smp_affinity_list"), "0-7");

	/* numa_node -1: node 0, and the record says so */
	assert_int_equal(pb_sys_write(f->root, "/sys/class/net/eth0/device/"
				      "numa_node", "-1"), PB_OK);
	parse_ok(&k, "irq_affinity=local");
	assert_int_equal(pb_knobs_apply(&st, &k, &m), PB_OK);
	assert_string_equal(find(&st, "irq 40")->new_value, "0-3");
	assert_int_equal(find(&st, "irq 40")->status, PB_KNOB_APPLIED);
	assert_non_null(strstr(find(&st, "irq 40")->reason, "unknown"));
	assert_non_null(strstr(find(&st, "irq 40")->reason, "node 0"));
	pb_knobs_release(&st);

	/* none changes nothing and needs no journal */
	parse_ok(&k, "irq_affinity=none");
	assert_int_equal(pb_knobs_apply(&st, &k, &m), PB_OK);
	assert_int_equal(st.n, 1);
	assert_int_equal(st.changes[0].status, PB_KNOB_APPLIED);
	assert_false(journal_exists(f->root));
	pb_knobs_release(&st);

	/* no NIC at apply time: recorded, not fatal */
	m.nic = NULL;
	parse_ok(&k, "irq_affinity=spread");
	assert_int_equal(pb_knobs_apply(&st, &k, &m), PB_OK);
	assert_int_equal(st.changes[0].status, PB_KNOB_NOT_APPLIED);
	assert_non_null(strstr(st.changes[0].reason, "--nic"));
	pb_knobs_release(&st);
}

static void test_knobs__already_set_and_missing_files(void **state)
{
	struct fixture *f = *state;
	struct pb_machine m = { f->root, NULL, NULL };
	const struct pb_knob_change *c;
	struct pb_knobs_state st;
	struct pb_knobs k;
	char p[4096];

	parse_ok(&k, "thp=madvise,zone_reclaim_mode=0");
	assert_int_equal(pb_knobs_apply(&st, &k, &m), PB_OK);
	c = find(&st, "transparent_hugepage/enabled");
	assert_int_equal(c->status, PB_KNOB_APPLIED);
	assert_string_equal(c->reason, "already set");
	assert_false(c->written);
	assert_false(journal_exists(f->root)); /* nothing changes, nothing kept */
	assert_string_equal(rd(f->root, THP_ENABLED), "always [madvise] never");
	pb_knobs_release(&st);

	/* a kernel without THP: not applied, with the reason */
	assert_int_equal(pb_sys_path(p, sizeof(p), f->root, THP_ENABLED), PB_OK);
	assert_int_equal(unlink(p), 0);
	parse_ok(&k, "thp=never,zone_reclaim_mode=1");
	assert_int_equal(pb_knobs_apply(&st, &k, &m), PB_OK);
	c = find(&st, "transparent_hugepage/enabled");
	assert_int_equal(c->status, PB_KNOB_NOT_APPLIED);
	assert_string_equal(pb_knob_status_name(c->status), "not applied");
	assert_non_null(strstr(c->reason, "this machine has no " THP_ENABLED));
	assert_int_equal(find(&st, "vm.zone_reclaim_mode")->status,
			 PB_KNOB_APPLIED);
	assert_string_equal(rd(f->root, ZONE), "1");
	pb_knobs_release(&st);
	assert_string_equal(rd(f->root, ZONE), "0");
}

static void test_knobs__restore_reports_a_vanished_file(void **state)
{
	struct fixture *f = *state;
	struct pb_machine m = { f->root, "eth0", NULL };
	struct pb_knobs_state st;
	struct pb_knobs k;
	char p[4096];

	parse_ok(&k, "irq_affinity=local,zone_reclaim_mode=1");
	assert_int_equal(pb_knobs_apply(&st, &k, &m), PB_OK);
	/* the IRQ goes away during the run (a driver reload) */
	assert_int_equal(pb_sys_path(p, sizeof(p), f->root, "/proc/irq/41"),
			 PB_OK);
	assert_int_equal(pb_rm_rf(p), PB_OK);
	assert_int_equal(pb_knobs_restore(&st), PB_ERROR);
	assert_non_null(strstr(pb_error_last(), "could not restore 1 setting"));
	assert_non_null(strstr(find(&st, "irq 41")->restore_error,
			       "/proc/irq/41/smp_affinity_list"));
	assert_string_equal(find(&st, "irq 40")->restore_error, "");
	assert_string_equal(rd(f->root, ZONE), "0");
	assert_string_equal(rd(f->root, "/proc/irq/42/smp_affinity_list"), "0-7");
	assert_false(journal_exists(f->root));
	pb_knobs_release(&st);
}

/* --- crashes ------------------------------------------------------------ */

static const char *const all_files[] = {
	"zone_reclaim_mode=1,thp=never,thp_defrag=defer,irq_affinity=local",
};

static void test_knobs__crash_after_apply_is_restored_at_start(void **state)
{
	struct fixture *f = *state;
	struct pb_journal_report rep;
	char *saved;
	pid_t pid;
	int i;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct pb_machine m = { f->root, "eth0", NULL };
		struct pb_knobs_state st;
		struct pb_knobs k;

		if (pb_knobs_parse(&k, all_files[0]) ||
		    pb_knobs_apply(&st, &k, &m))
			_exit(1);
		_exit(0); /* dies with the settings changed */
	}
	assert_int_equal(wait_child(pid), 0);
	assert_string_equal(rd(f->root, ZONE), "1");
	assert_string_equal(thp_word(f->root, THP_ENABLED), "never");
	assert_string_equal(rd(f->root, "/proc/irq/43/smp_affinity_list"), "4-7");
	assert_true(journal_exists(f->root));
	saved = journal_text(f->root);
	assert_non_null(saved);

	pb_journal_report_init(&rep);
	assert_int_equal(pb_journal_restore(f->root, &rep), PB_OK);
	assert_true(rep.found);
	assert_int_equal(rep.restored, 3 + 4);
	assert_int_equal(rep.failed, 0);
	assert_int_equal(rep.corrupt, 0);
	assert_non_null(strstr(rep.log.ptr, "restored /proc/sys/vm/"
					    "zone_reclaim_mode to '0'"));
	pb_journal_report_release(&rep);
	assert_string_equal(rd(f->root, ZONE), "0");
	assert_string_equal(thp_word(f->root, THP_ENABLED), "madvise");
	assert_string_equal(thp_word(f->root, THP_DEFRAG), "madvise");
	for (i = 40; i <= 43; i++) {
		char p[64];

		snprintf(p, sizeof(p), "/proc/irq/%d/smp_affinity_list", i);
		assert_string_equal(rd(f->root, p), "0-7");
	}
	assert_false(journal_exists(f->root));

	/* Killed after writing the old values back but before removing the
	 * journal: that state is the old values plus the same journal.  The
	 * next start restores again, to the same values. */
	write_journal(f->root, saved, strlen(saved));
	free(saved);
	pb_journal_report_init(&rep);
	assert_int_equal(pb_journal_restore(f->root, &rep), PB_OK);
	assert_int_equal(rep.restored, 3 + 4);
	pb_journal_report_release(&rep);
	assert_string_equal(rd(f->root, ZONE), "0");
	assert_string_equal(thp_word(f->root, THP_ENABLED), "madvise");
	assert_string_equal(rd(f->root, "/proc/irq/40/smp_affinity_list"), "0-7");
	assert_false(journal_exists(f->root));

	/* and a start with no journal has nothing to do */
	pb_journal_report_init(&rep);
	assert_int_equal(pb_journal_restore(f->root, &rep), PB_OK);
	assert_false(rep.found);
	pb_journal_report_release(&rep);
}

static void kill_before_thp(void *ctx, const char *path)
{
	(void)ctx;
	if (!strcmp(path, THP_ENABLED))
		raise(SIGKILL);
}

static void test_knobs__sigkill_between_journal_and_write(void **state)
{
	struct fixture *f = *state;
	struct pb_journal_report rep;
	char *j;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct pb_machine m = { f->root, NULL, NULL };
		struct pb_knobs_state st;
		struct pb_knobs k;

		if (pb_knobs_parse(&k, "zone_reclaim_mode=1,thp=never,"
					"thp_defrag=defer"))
			_exit(1);
		(void)pb_knobs_apply_seam(&st, &k, &m, kill_before_thp, NULL);
		_exit(2); /* not reached: the seam kills us */
	}
	assert_int_equal(wait_child(pid), 128 + SIGKILL);
	/* zone_reclaim_mode was changed; THP was journaled, never written;
	 * defrag was never reached */
	assert_string_equal(rd(f->root, ZONE), "1");
	assert_string_equal(rd(f->root, THP_ENABLED), "always [madvise] never");
	j = journal_text(f->root);
	assert_non_null(j);
	assert_non_null(strstr(j, THP_ENABLED "\tmadvise\n"));
	assert_null(strstr(j, THP_DEFRAG));
	free(j);

	pb_journal_report_init(&rep);
	assert_int_equal(pb_journal_restore(f->root, &rep), PB_OK);
	assert_int_equal(rep.restored, 2);
	pb_journal_report_release(&rep);
	assert_string_equal(rd(f->root, ZONE), "0");
	assert_string_equal(thp_word(f->root, THP_ENABLED), "madvise");
	assert_string_equal(rd(f->root, THP_DEFRAG),
			    "always defer defer+madvise [madvise] never");
	assert_false(journal_exists(f->root));
}

static void test_knobs__odd_old_values_round_trip(void **state)
{
	struct fixture *f = *state;
	const char *odd = "a\tb\\c\x01z";
	pid_t pid;

	/* an old value with a tab, a backslash and a control byte */
	assert_int_equal(pb_sys_write(f->root, ZONE, odd), PB_OK);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct pb_machine m = { f->root, NULL, NULL };
		struct pb_knobs_state st;
		struct pb_knobs k;

		if (pb_knobs_parse(&k, "zone_reclaim_mode=1") ||
		    pb_knobs_apply(&st, &k, &m) ||
		    strcmp(st.changes[0].old_value, odd))
			_exit(1);
		_exit(0);
	}
	assert_int_equal(wait_child(pid), 0);
	assert_string_equal(rd(f->root, ZONE), "1");
	assert_int_equal(pb_journal_restore(f->root, NULL), PB_OK);
	assert_string_equal(rd(f->root, ZONE), odd);
}

static void test_knobs__journal_failure_rolls_back(void **state)
{
	struct fixture *f = *state;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct pb_machine m = { f->root, NULL, NULL };
		struct rlimit lim = { 100, 100 };
		struct pb_knobs_state st;
		struct pb_knobs k;
		int rc;

		/* The header (33 bytes) and zone_reclaim_mode's line (33) fit
		 * in 100 bytes; THP's line (52) does not: the kernel cuts its
		 * write short, as a full disk would. */
		signal(SIGXFSZ, SIG_IGN);
		if (pb_knobs_parse(&k, "zone_reclaim_mode=1,thp=never") ||
		    setrlimit(RLIMIT_FSIZE, &lim))
			_exit(1);
		rc = pb_knobs_apply(&st, &k, &m);
		if (rc != PB_EINFRA ||
		    !strstr(pb_error_last(), "cannot write the settings journal"))
			_exit(2);
		pb_knobs_release(&st);
		_exit(0);
	}
	assert_int_equal(wait_child(pid), 0);
	/* what was changed before the failure was put back */
	assert_string_equal(rd(f->root, ZONE), "0");
	assert_string_equal(rd(f->root, THP_ENABLED), "always [madvise] never");
	assert_false(journal_exists(f->root));
}

static void test_knobs__one_writer_at_a_time(void **state)
{
	struct fixture *f = *state;
	struct pb_machine m = { f->root, NULL, NULL };
	struct pb_journal_report rep;
	struct pb_knobs_state st;
	struct pb_knobs k;
	int ready[2], hold[2];
	char c, want[64];
	pid_t pid;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(hold), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct pb_knobs_state cst;
		struct pb_knobs ck;

		close(ready[0]);
		close(hold[1]);
		if (pb_knobs_parse(&ck, "zone_reclaim_mode=1") ||
		    pb_knobs_apply(&cst, &ck, &m))
			_exit(1);
		(void)!write(ready[1], "x", 1);
		(void)!read(hold[0], &c, 1); /* until killed */
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);

	/* another perfbisect is mid-run: no second writer, and its journal is
	 * live, not stale, so a start must leave it alone */
	parse_ok(&k, "thp=never");
	assert_int_equal(pb_knobs_apply(&st, &k, &m), PB_EINFRA);
	snprintf(want, sizeof(want), "another perfbisect (pid %ld)", (long)pid);
	assert_non_null(strstr(pb_error_last(), want));
	assert_true(st.leftover.busy);
	pb_knobs_release(&st);
	assert_string_equal(rd(f->root, THP_ENABLED), "always [madvise] never");
	pb_journal_report_init(&rep);
	assert_int_equal(pb_journal_restore(f->root, &rep), PB_EINFRA);
	assert_true(rep.busy);
	pb_journal_report_release(&rep);
	assert_string_equal(rd(f->root, ZONE), "1");
	assert_true(journal_exists(f->root));

	/* it dies: the kernel drops its lock, and the next start restores */
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(wait_child(pid), 128 + SIGKILL);
	close(ready[0]);
	close(hold[1]);
	assert_int_equal(pb_journal_restore(f->root, NULL), PB_OK);
	assert_string_equal(rd(f->root, ZONE), "0");
	assert_false(journal_exists(f->root));
}

static void test_knobs__corrupt_journal(void **state)
{
	struct fixture *f = *state;
	struct pb_journal_report rep;
	static const char text[] =
		"# perfbisect settings journal v1\n"
		"/proc/sys/vm/zone_reclaim_mode\t0\n"              /* line 2 */
		"this line has no tab\n"                           /* line 3 */
		"/etc/passwd\troot\n"                              /* line 4 */
		THP_ENABLED "\tmad\\x76ise\n"                      /* line 5 */
		"/proc/irq/99/smp_affinity_list\t0-7\n"            /* line 6 */
		"/proc/sys/vm/zone_reclaim_mode\tbad\\q\n"         /* line 7 */
		"/proc/irq/40/../../../etc/x\t1\n"                 /* line 8 */
		"/proc/sys/vm/zone_reclaim_mode\t1\n"              /* line 9 */
		"/proc/irq/40/smp_affinity_list\t1-2";             /* torn */
	char p[4096];
	struct stat st;

	/* the settings as a crashed run left them */
	assert_int_equal(pb_sys_write(f->root, ZONE, "1"), PB_OK);
	assert_int_equal(pb_sys_write(f->root, THP_ENABLED, "never"), PB_OK);
	write_journal(f->root, text, sizeof(text) - 1);

	pb_journal_report_init(&rep);
	assert_int_equal(pb_journal_restore(f->root, &rep), PB_ERROR);
	assert_non_null(strstr(pb_error_last(), "restored 3 value(s); 1 could "
					     "not be restored, 5 line(s) "
					     "corrupt"));
	assert_int_equal(rep.restored, 3);
	assert_int_equal(rep.failed, 1);
	assert_int_equal(rep.corrupt, 5);
	assert_non_null(strstr(rep.log.ptr, "journal line 3: corrupt"));
	assert_non_null(strstr(rep.log.ptr, "journal line 4: '/etc/passwd?root' "
					    "is not a setting"));
	assert_non_null(strstr(rep.log.ptr, "journal line 6: could not restore "
					    "/proc/irq/99/smp_affinity_list"));
	assert_non_null(strstr(rep.log.ptr, "does not exist"));
	assert_non_null(strstr(rep.log.ptr, "journal line 7: corrupt"));
	assert_non_null(strstr(rep.log.ptr, "journal line 8: "));
	assert_non_null(strstr(rep.log.ptr, "journal line 10: incomplete"));
	pb_journal_report_release(&rep);

	/* the readable lines were restored, newest first, so a file named
	 * twice ends with its oldest value; the rest touched nothing */
	assert_string_equal(rd(f->root, ZONE), "0");
	assert_string_equal(rd(f->root, THP_ENABLED), "madvise");
	assert_string_equal(rd(f->root, "/proc/irq/40/smp_affinity_list"), "0-7");
	assert_int_equal(pb_sys_path(p, sizeof(p), f->root, "/etc"), PB_OK);
	assert_int_equal(stat(p, &st), -1);
	/* and the journal is gone: retrying could not do better */
	assert_false(journal_exists(f->root));

	/* a journal that is not a regular file is kept for a person */
	assert_int_equal(pb_journal_path(p, sizeof(p), f->root), PB_OK);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(pb_journal_restore(f->root, NULL), PB_EINFRA);
	assert_non_null(strstr(pb_error_last(), "not a regular file"));
	assert_int_equal(rmdir(p), 0);
}

/* --- NUMA policy on the real machine -------------------------------------- */

/* The first node this process may allocate on. */
static int some_node(void)
{
	int n;

	for (n = 0; n <= numa_max_node(); n++)
		if (numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned)n))
			return n;
	return -1;
}

static void numa_apply(struct pb_knobs_state *st, const char *spec)
{
	struct pb_machine m = PB_MACHINE_INIT;
	struct pb_knobs k;

	parse_ok(&k, spec);
	assert_int_equal(pb_knobs_apply(st, &k, &m), PB_OK);
	assert_int_equal(st->n, 1);
	assert_string_equal(st->changes[0].setting, "numa_policy");
	assert_string_equal(st->changes[0].new_value, spec + strlen("numa_policy="));
}

/* Runs pb_knobs_child() in a fork, then checks the child's memory policy:
 * mode `want` and, for bind, only node `node`. */
static int policy_in_child(const struct pb_knobs_state *st, int want, int node)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		unsigned long mask[64] = { 0 };
		int mode = -1;

		if (pb_knobs_child(st) != 0)
			_exit(1);
		if (get_mempolicy(&mode, mask, 64 * 64, NULL, 0) < 0)
			_exit(2);
		if (mode != want)
			_exit(3);
		if (node >= 0 && mask[0] != 1UL << node)
			_exit(4);
		_exit(0);
	}
	return wait_child(pid);
}

static void test_knobs__numa_policy(void **state)
{
	struct pb_knobs_state st;
	char spec[64], want[128];
	int node, missing;

	(void)state;
	if (numa_available() < 0)
		skip();
	node = some_node();
	missing = numa_max_node() + 1;
	assert_true(node >= 0);

	/* a node the real machine lacks: not applied, with the reason, and the
	 * child is left alone */
	snprintf(spec, sizeof(spec), "numa_policy=bind:%d", missing);
	numa_apply(&st, spec);
	assert_int_equal(st.changes[0].status, PB_KNOB_NOT_APPLIED);
	snprintf(want, sizeof(want), "node %d does not exist on this machine "
		 "(nodes: ", missing);
	assert_non_null(strstr(st.changes[0].reason, want));
	assert_int_equal(policy_in_child(&st, MPOL_DEFAULT, -1), 0);
	pb_knobs_release(&st);
	snprintf(spec, sizeof(spec), "numa_policy=cpunodebind:%d", missing);
	numa_apply(&st, spec);
	assert_int_equal(st.changes[0].status, PB_KNOB_NOT_APPLIED);
	pb_knobs_release(&st);

	snprintf(spec, sizeof(spec), "numa_policy=bind:%d", node);
	numa_apply(&st, spec);
	assert_int_equal(st.changes[0].status, PB_KNOB_APPLIED);
	assert_string_equal(st.changes[0].old_value, "default");
	assert_int_equal(policy_in_child(&st, MPOL_BIND, node), 0);
	pb_knobs_release(&st);

	numa_apply(&st, "numa_policy=interleave:all");
	assert_int_equal(st.changes[0].status, PB_KNOB_APPLIED);
	assert_int_equal(policy_in_child(&st, MPOL_INTERLEAVE, -1), 0);
	pb_knobs_release(&st);

	numa_apply(&st, "numa_policy=default");
	assert_int_equal(st.changes[0].status, PB_KNOB_APPLIED);
	assert_int_equal(policy_in_child(&st, MPOL_DEFAULT, -1), 0);
	pb_knobs_release(&st);
}

static void test_knobs__numa_policy_survives_exec(void **state)
{
	struct pb_knobs_state st;
	char spec[64], want[32], out[65536];
	size_t len = 0;
	int node, p[2];
	ssize_t n;
	pid_t pid;

	(void)state;
	if (numa_available() < 0)
		skip();
	node = some_node();
	snprintf(spec, sizeof(spec), "numa_policy=bind:%d", node);
	numa_apply(&st, spec);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *const argv[] = { "cat", "/proc/self/numa_maps", NULL };

		if (pb_knobs_child(&st) != 0 || dup2(p[1], 1) < 0)
			_exit(1);
		execv("/bin/cat", argv);
		_exit(2);
	}
	close(p[1]);
	while ((n = read(p[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	close(p[0]);
	out[len] = '\0';
	assert_int_equal(wait_child(pid), 0);
	/* the kernel shows the task policy on every mapping of the new image */
	snprintf(want, sizeof(want), " bind:%d ", node);
	if (!strstr(out, want))
		fail_msg("no '%s' in numa_maps:\n%.400s", want, out);
	pb_knobs_release(&st);
}

static void test_knobs__cpunodebind(void **state)
{
	struct pb_knobs_state st;
	struct bitmask *cpus;
	char spec[64];
	int node;
	pid_t pid;

	(void)state;
	if (numa_available() < 0)
		skip();
	node = some_node();
	snprintf(spec, sizeof(spec), "numa_policy=cpunodebind:%d", node);
	numa_apply(&st, spec);
	assert_int_equal(st.changes[0].status, PB_KNOB_APPLIED);
	cpus = numa_allocate_cpumask();
	assert_int_equal(numa_node_to_cpus(node, cpus), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		cpu_set_t set;
		unsigned i;

		if (pb_knobs_child(&st) != 0)
			_exit(1);
		if (sched_getaffinity(0, sizeof(set), &set) < 0)
			_exit(2);
		for (i = 0; i < CPU_SETSIZE && i < cpus->size; i++)
			if (CPU_ISSET(i, &set) &&
			    !numa_bitmask_isbitset(cpus, i))
				_exit(3); /* runs outside the node */
		_exit(CPU_COUNT(&set) > 0 ? 0 : 4);
	}
	assert_int_equal(wait_child(pid), 0);
	numa_bitmask_free(cpus);
	pb_knobs_release(&st);
}

/* --- facts ------------------------------------------------------------------ */

static void test_knobs__facts_of_the_fake_machine(void **state)
{
	struct fixture *f = *state;
	struct pb_machine m = { f->root, "eth0", "home" };
	struct pb_knobs_state st;
	struct pb_facts facts;
	struct pb_knobs k;
	struct utsname u;
	char online[256];

	assert_int_equal(uname(&u), 0);
	pb_strlcpy(online, rd(NULL, "/sys/devices/system/cpu/online"),
		   sizeof(online));
	assert_int_equal(pb_facts_collect(&facts, &m), PB_OK);
	assert_string_equal(facts.kernel, u.release);
	assert_true(facts.cpu_model[0] != '\0');
	assert_string_equal(facts.pmu_name, "");
	assert_int_equal(facts.numa_nodes, 2);
	assert_string_equal(facts.numa_online, "0-1");
	assert_string_equal(facts.snoop, "home");
	assert_string_equal(facts.thp_enabled, "madvise");
	assert_string_equal(facts.thp_defrag, "madvise");
	assert_int_equal(facts.zone_reclaim_mode, 0);
	assert_string_equal(facts.nic, "eth0");
	assert_int_equal(facts.nic_node, 1);
	assert_int_equal(facts.n_irqs, 4);
	assert_int_equal(facts.irqs[0].irq, 40);
	assert_string_equal(facts.irqs[0].cpus, "0-7");
	assert_int_equal(facts.irqs[3].irq, 43);
	assert_string_equal(facts.irqs[3].cpus, online); /* the managed one */
	assert_string_equal(facts.irq_note, "");
	pb_facts_release(&facts);

	/* during a run the facts show the run's settings */
	parse_ok(&k, "thp=never,zone_reclaim_mode=1,irq_affinity=local");
	assert_int_equal(pb_knobs_apply(&st, &k, &m), PB_OK);
	assert_int_equal(pb_facts_collect(&facts, &m), PB_OK);
	assert_string_equal(facts.thp_enabled, "never");
	assert_int_equal(facts.zone_reclaim_mode, 1);
	assert_string_equal(facts.irqs[1].cpus, "4-7");
	pb_facts_release(&facts);
	pb_knobs_release(&st);

	/* no NIC, an unknown NIC, no snoop */
	m.nic = NULL;
	m.snoop = NULL;
	assert_int_equal(pb_facts_collect(&facts, &m), PB_OK);
	assert_int_equal(facts.n_irqs, 0);
	assert_null(facts.irqs);
	assert_non_null(strstr(facts.irq_note, "--nic"));
	assert_string_equal(facts.snoop, "");
	pb_facts_release(&facts);
	m.nic = "eth9";
	assert_int_equal(pb_facts_collect(&facts, &m), PB_OK);
	assert_int_equal(facts.nic_node, -1);
	assert_non_null(strstr(facts.irq_note, "eth9"));
	pb_facts_release(&facts);
	pb_facts_release(NULL);
}

static void test_knobs__facts_of_an_empty_tree(void **state)
{
	struct fixture *f = *state;
	struct pb_machine m = { f->tmp, NULL, NULL }; /* tmp has only root/ */
	struct pb_facts facts;
	struct utsname u;

	assert_int_equal(uname(&u), 0);
	assert_int_equal(pb_facts_collect(&facts, &m), PB_OK);
	assert_string_equal(facts.kernel, u.release); /* uname's */
	assert_int_equal(facts.numa_nodes, 0);
	assert_string_equal(facts.thp_enabled, "");
	assert_int_equal(facts.zone_reclaim_mode, -1);
	pb_facts_release(&facts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_knobs__parse_every_key),
		cmocka_unit_test(test_knobs__parse_nothing),
		cmocka_unit_test(test_knobs__parse_rejects),
		cmocka_unit_test_setup_teardown(
			test_knobs__check_against_the_machine, setup_plain,
			teardown),
		cmocka_unit_test(test_knobs__lists_and_choices),
		cmocka_unit_test(test_knobs__cpu_model),
		cmocka_unit_test_setup_teardown(test_knobs__apply_then_restore,
						setup_plain, teardown),
		cmocka_unit_test_setup_teardown(
			test_knobs__refusing_irq_is_reported, setup_managed,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_knobs__spread_and_unknown_nic_node, setup_plain,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_knobs__already_set_and_missing_files, setup_plain,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_knobs__restore_reports_a_vanished_file,
			setup_plain, teardown),
		cmocka_unit_test_setup_teardown(
			test_knobs__crash_after_apply_is_restored_at_start,
			setup_plain, teardown),
		cmocka_unit_test_setup_teardown(
			test_knobs__sigkill_between_journal_and_write,
			setup_plain, teardown),
		cmocka_unit_test_setup_teardown(
			test_knobs__odd_old_values_round_trip, setup_plain,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_knobs__journal_failure_rolls_back, setup_plain,
			teardown),
		cmocka_unit_test_setup_teardown(test_knobs__one_writer_at_a_time,
						setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_knobs__corrupt_journal,
						setup_plain, teardown),
		cmocka_unit_test(test_knobs__numa_policy),
		cmocka_unit_test(test_knobs__numa_policy_survives_exec),
		cmocka_unit_test(test_knobs__cpunodebind),
		cmocka_unit_test_setup_teardown(
			test_knobs__facts_of_the_fake_machine, setup_managed,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_knobs__facts_of_an_empty_tree, setup_plain,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
