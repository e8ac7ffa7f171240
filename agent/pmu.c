/*
 * pmu.c - counters for one benchmark process (see pmu.h).
 *
 * Three steps.  pb_pmu_plan() turns the event list into encoded
 * perf_event_attr structures, one libpfm4 call per event, and applies the
 * counting policy (disabled + enable_on_exec, inherit, total times, never
 * the hypervisor).  pb_pmu_open() opens each on the child with its own
 * descriptor, so the kernel refusing one (this machine has no such
 * counter) only marks that one.  pb_pmu_read() reads each descriptor once
 * and scales: value * time_enabled / time_running.
 *
 * The per-CPU table below names, for each libpfm4 core PMU we know, the
 * event counting loads served from another NUMA node, the one for the far
 * cluster of the same socket under sub-NUMA clustering, and a back-end
 * stall event.  Every row is encoded, down to perf_event_attr fields, by
 * tests/unit/test_pmu.c with LIBPFM_ENCODE_INACTIVE=1; the numbers and their
 * sources are written there.
 *
 * Reasons are written for the run record, where a person reads them:
 * "perf_event_open: No such file or directory (ENOENT): no hardware PMU
 * visible to the kernel (...)".  When the kernel says ENOENT for a hardware
 * event we ask once, with generic cycles on ourselves, whether it has a
 * hardware PMU at all, so a virtual machine without one is named as such.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/perf_event.h>
#include <perfmon/pfmlib_perf_event.h>

#include "common/err.h"
#include "agent/pmu.h"
#include "common/util.h"

/*
 * The per-CPU table.  Names are libpfm4 4.13 PMU names.  Choices:
 * - Intel Haswell-EP/Broadwell-EP: offcore response, demand data reads that
 *   missed L3 and were served by another socket (any hop count, any snoop).
 *   These parts also have a retired-load event (MEM_LOAD_UOPS_L3_MISS_-
 *   RETIRED:REMOTE_DRAM, 0x4d3), usable through --events.
 * - Skylake-SP and later: retired loads served by remote DRAM.  Under SNC
 *   "local" is the near cluster only; Ice Lake-SP and Sapphire Rapids have
 *   an offcore umask for the far cluster (libpfm4 has none for SKX/CLX).
 *   It counts demand data reads, not retired loads: report it beside, never
 *   add it to, the remote count.
 * - AMD: data cache fills from DRAM or IO of another node (Zen 2: refills
 *   from system, remote DRAM; Zen 3: MemIoRemote; Zen 4: DramIoFar).  Zen 1
 *   has only prefetch fills, which say nothing about demand loads: no row.
 * - Arm Neoverse: REMOTE_ACCESS (0x31), "access to another socket".  The
 *   Arm tables are compiled only into Arm builds of libpfm4.
 * - Back-end stalls: Intel, cycles with no uop executed (CYCLE_ACTIVITY,
 *   cmask 4); Zen 4, dispatch slots lost to back-end stalls; Arm,
 *   STALL_BACKEND.  Zen 2/3 have no single such event, and the generic
 *   stalled-cycles-backend counts the wrong event there (Linux 6.9 unmapped
 *   it), so none.
 */
static const struct pb_pmu_cpu cpu_table[] = {
	{ "hsw_ep", "hsw_ep::OFFCORE_RESPONSE_0:DMND_DATA_RD:L3_MISS_REMOTE_DRAM",
	  NULL, "hsw_ep::CYCLE_ACTIVITY:CYCLES_NO_EXECUTE" },
	{ "bdw_ep", "bdw_ep::OFFCORE_RESPONSE_0:DMND_DATA_RD:L3_MISS_REMOTE_DRAM",
	  NULL, "bdw_ep::CYCLE_ACTIVITY:STALLS_TOTAL" },
	{ "skx", "skx::MEM_LOAD_L3_MISS_RETIRED:REMOTE_DRAM",
	  NULL, "skx::CYCLE_ACTIVITY:STALLS_TOTAL" },
	{ "clx", "clx::MEM_LOAD_L3_MISS_RETIRED:REMOTE_DRAM",
	  NULL, "clx::CYCLE_ACTIVITY:STALLS_TOTAL" },
	{ "icx", "icx::MEM_LOAD_L3_MISS_RETIRED:REMOTE_DRAM",
	  "icx::OCR:DEMAND_DATA_RD_SNC_DRAM", "icx::CYCLE_ACTIVITY:STALLS_TOTAL" },
	{ "spr", "spr::MEM_LOAD_L3_MISS_RETIRED:REMOTE_DRAM",
	  "spr::OCR:DEMAND_DATA_RD_SNC_DRAM", "spr::CYCLE_ACTIVITY:STALLS_TOTAL" },
	{ "amd64_fam17h_zen2",
	  "amd64_fam17h_zen2::DATA_CACHE_REFILLS_FROM_SYSTEM:LS_MABRESP_RMT_DRAM",
	  NULL, NULL },
	{ "amd64_fam19h_zen3",
	  "amd64_fam19h_zen3::ANY_DATA_CACHE_FILLS_FROM_SYSTEM:MEM_IO_RMT",
	  NULL, NULL },
	{ "amd64_fam19h_zen4",
	  "amd64_fam19h_zen4::ANY_DATA_CACHE_FILLS_FROM_SYSTEM:DRAM_IO_FAR",
	  NULL, "amd64_fam19h_zen4::DISPATCH_STALLS_1:BE_STALLS" },
	{ "arm_n1", "arm_n1::REMOTE_ACCESS", NULL, "arm_n1::STALL_BACKEND" },
	{ "arm_n2", "arm_n2::REMOTE_ACCESS", NULL, "arm_n2::STALL_BACKEND" },
	{ "arm_v1", "arm_v1::REMOTE_ACCESS", NULL, "arm_v1::STALL_BACKEND" },
	{ "arm_v2", "arm_v2::REMOTE_ACCESS", NULL, "arm_v2::STALL_BACKEND" },
};

const struct pb_pmu_cpu *pb_pmu_cpu_table(size_t *n)
{
	*n = PB_ARRAY_SIZE(cpu_table);
	return cpu_table;
}

const struct pb_pmu_cpu *pb_pmu_cpu_lookup(const char *pmu_name)
{
	size_t i;

	if (!pmu_name)
		return NULL;
	for (i = 0; i < PB_ARRAY_SIZE(cpu_table); i++)
		if (strcmp(cpu_table[i].pmu, pmu_name) == 0)
			return &cpu_table[i];
	return NULL;
}

const char *pb_pmu_remote_event(const char *pmu_name)
{
	const struct pb_pmu_cpu *row = pb_pmu_cpu_lookup(pmu_name);

	return row ? row->remote : NULL;
}

/* libpfm4 keeps global tables; pfm_initialize() is not thread-safe, so it
 * runs once, here. */
static pthread_once_t pfm_once = PTHREAD_ONCE_INIT;
static int pfm_init_ret;

static void pfm_init_once(void)
{
	pfm_init_ret = pfm_initialize();
}

int pb_pmu_init(void)
{
	pthread_once(&pfm_once, pfm_init_once);
	if (pfm_init_ret != PFM_SUCCESS)
		return pb_error_set("libpfm4 cannot initialize: %s",
				    pfm_strerror(pfm_init_ret));
	return PB_OK;
}

int pb_pmu_detect(char *out, size_t size)
{
	const char *first = NULL;
	pfm_pmu_t p;
	int rc;

	if (size > 0)
		out[0] = '\0';
	rc = pb_pmu_init();
	if (rc)
		return rc;
	pfm_for_all_pmus(p) {
		pfm_pmu_info_t info;

		memset(&info, 0, sizeof(info));
		info.size = sizeof(info);
		if (pfm_get_pmu_info(p, &info) != PFM_SUCCESS)
			continue;
		if (!info.is_present || info.type != PFM_PMU_TYPE_CORE)
			continue;
		if (pb_pmu_cpu_lookup(info.name)) {
			first = info.name;
			break;
		}
		if (!first || strcmp(first, "ix86arch") == 0)
			first = info.name;
	}
	if (!first)
		return pb_error_code(PB_ENOTFOUND,
				     "no hardware PMU visible to libpfm4 (no "
				     "core PMU table matches this CPU)");
	if (pb_strlcpy(out, first, size) >= size)
		return pb_error_code(PB_ETOOBIG, "PMU name '%s' too long", first);
	return PB_OK;
}

int pb_pmu_encode(struct perf_event_attr *out, char *fstr, size_t fstr_size,
		  const char *event, int with_kernel)
{
	pfm_perf_encode_arg_t arg;
	pfm_event_info_t einfo;
	pfm_pmu_info_t pinfo;
	char *f = NULL;
	int ret, rc;

	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	if (fstr && fstr_size)
		fstr[0] = '\0';
	rc = pb_pmu_init();
	if (rc)
		return rc;
	memset(&arg, 0, sizeof(arg));
	arg.attr = out;
	arg.fstr = &f;
	arg.size = sizeof(arg);
	ret = pfm_get_os_event_encoding(event,
					PFM_PLM3 | (with_kernel ? PFM_PLM0 : 0),
					PFM_OS_PERF_EVENT_EXT, &arg);
	if (ret != PFM_SUCCESS) {
		rc = pb_error_code(ret == PFM_ERR_NOTFOUND ? PB_ENOTFOUND
							  : PB_EINVAL,
				   "libpfm4 cannot encode '%s': %s", event,
				   pfm_strerror(ret));
		goto out;
	}
	/* A socket-wide event would need cpu >= 0 and pid -1: not ours. */
	memset(&einfo, 0, sizeof(einfo));
	einfo.size = sizeof(einfo);
	memset(&pinfo, 0, sizeof(pinfo));
	pinfo.size = sizeof(pinfo);
	if (pfm_get_event_info(arg.idx, PFM_OS_NONE, &einfo) == PFM_SUCCESS &&
	    pfm_get_pmu_info(einfo.pmu, &pinfo) == PFM_SUCCESS &&
	    pinfo.type == PFM_PMU_TYPE_UNCORE) {
		rc = pb_error_code(PB_EINVAL,
				   "'%s' is a socket-wide (uncore) event of %s: "
				   "it cannot be counted for one process",
				   event, pinfo.name);
		goto out;
	}
	if (fstr && fstr_size)
		pb_strlcpy(fstr, f ? f : "", fstr_size);
	rc = PB_OK;
out:
	free(f);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* May we count kernel mode?  Root may; others when the paranoid level
 * allows it (<= 1).  Debian's level 3 refuses unprivileged callers
 * altogether; they will see EACCES at open, with a hint. */
static int read_paranoid(int *out)
{
	char buf[32], *end;
	long v;
	int fd;
	ssize_t n;

	fd = open("/proc/sys/kernel/perf_event_paranoid", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf || v < -100 || v > 100)
		return -1;
	*out = (int)v;
	return 0;
}

static int kernel_counting_allowed(void)
{
	int paranoid;

	if (geteuid() == 0)
		return 1;
	return read_paranoid(&paranoid) == 0 && paranoid <= 1;
}

static void counter_init(struct pb_pmu_counter *c, const char *name,
			 enum pb_pmu_role role)
{
	memset(c, 0, sizeof(*c));
	pb_strlcpy(c->name, name, sizeof(c->name));
	c->role = role;
	c->fd = -1;
	c->state = PB_PMU_PLANNED;
}

static void counter_unsupported(struct pb_pmu_counter *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void counter_unsupported(struct pb_pmu_counter *c, const char *fmt, ...)
{
	va_list ap;

	c->state = PB_PMU_UNSUPPORTED;
	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
}

/* The role an event plays, from its encoding, for user-listed events. */
static enum pb_pmu_role role_of(const struct perf_event_attr *a)
{
	if (a->type == PERF_TYPE_SOFTWARE)
		return PB_PMU_ROLE_SOFTWARE;
	if (a->type != PERF_TYPE_HARDWARE)
		return PB_PMU_ROLE_OTHER;
	switch (a->config) {
	case PERF_COUNT_HW_CPU_CYCLES:
		return PB_PMU_ROLE_CYCLES;
	case PERF_COUNT_HW_INSTRUCTIONS:
		return PB_PMU_ROLE_INSTRUCTIONS;
	case PERF_COUNT_HW_CACHE_MISSES:
		return PB_PMU_ROLE_CACHE_MISSES;
	default:
		return PB_PMU_ROLE_OTHER;
	}
}

/* Adds one counter for libpfm4 event `event` and encodes it. */
static void add_event(struct pb_pmu_set *set, const char *name,
		      const char *event, enum pb_pmu_role role)
{
	struct pb_pmu_counter *c = &set->c[set->n++];
	struct perf_event_attr *a = &c->attr;

	counter_init(c, name, role);
	pb_strlcpy(c->event, event, sizeof(c->event));
	if (pb_pmu_encode(a, c->fstr, sizeof(c->fstr), event, set->kernel)) {
		counter_unsupported(c, "%s", pb_error_last());
		return;
	}
	if (role == PB_PMU_ROLE_OTHER)
		c->role = role_of(a);
	/* Software events the scheduler raises from kernel context count
	 * nothing with exclude_kernel: a 0 that would look like a fact. */
	if (a->type == PERF_TYPE_SOFTWARE && a->exclude_kernel &&
	    (a->config == PERF_COUNT_SW_CONTEXT_SWITCHES ||
	     a->config == PERF_COUNT_SW_CPU_MIGRATIONS)) {
		counter_unsupported(c, "counted only in kernel mode, and this "
				    "set counts user mode only (not root and "
				    "kernel.perf_event_paranoid > 1, or "
				    "user mode asked for)");
		return;
	}
	/* The counting policy: start at exec, follow the children, report
	 * how long it ran, no sampling, never the hypervisor. */
	a->disabled = 1;
	a->enable_on_exec = 1;
	a->inherit = 1;
	a->read_format = PERF_FORMAT_TOTAL_TIME_ENABLED |
			 PERF_FORMAT_TOTAL_TIME_RUNNING;
	a->sample_period = 0;
	a->freq = 0;
	a->exclude_hv = 1;
	c->encoded = 1;
}

/* Adds a counter that has no event on this machine. */
static void add_missing(struct pb_pmu_set *set, const char *name,
			enum pb_pmu_role role, const char *what)
{
	struct pb_pmu_counter *c = &set->c[set->n++];

	counter_init(c, name, role);
	if (!set->pmu[0])
		counter_unsupported(c, "no hardware PMU visible to libpfm4 (no "
				    "core PMU table matches this CPU)");
	else
		counter_unsupported(c, "no %s event known for PMU %s", what,
				    set->pmu);
}

static void plan_default(struct pb_pmu_set *set, const struct pb_pmu_opts *o)
{
	const struct pb_pmu_cpu *row = pb_pmu_cpu_lookup(set->pmu);

	add_event(set, "cycles", "cycles", PB_PMU_ROLE_CYCLES);
	add_event(set, "instructions", "instructions",
		  PB_PMU_ROLE_INSTRUCTIONS);
	add_event(set, "cache-misses", "cache-misses",
		  PB_PMU_ROLE_CACHE_MISSES);
	if (row && row->backend)
		add_event(set, "backend-stalls", row->backend,
			  PB_PMU_ROLE_BACKEND_STALLS);
	else
		add_missing(set, "backend-stalls", PB_PMU_ROLE_BACKEND_STALLS,
			    "back-end stall");
	if (row && row->remote)
		add_event(set, "remote-access", row->remote,
			  PB_PMU_ROLE_REMOTE);
	else
		add_missing(set, "remote-access", PB_PMU_ROLE_REMOTE,
			    "remote-access");
	if (o->snc) {
		if (row && row->remote_snc)
			add_event(set, "remote-access-snc", row->remote_snc,
				  PB_PMU_ROLE_REMOTE_SNC);
		else
			add_missing(set, "remote-access-snc",
				    PB_PMU_ROLE_REMOTE_SNC,
				    "sub-NUMA-cluster remote-access");
	}
	add_event(set, "task-clock", "task-clock", PB_PMU_ROLE_SOFTWARE);
	add_event(set, "page-faults", "page-faults", PB_PMU_ROLE_SOFTWARE);
	add_event(set, "context-switches", "context-switches",
		  PB_PMU_ROLE_SOFTWARE);
}

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Parses "a,b,c" into counters named as listed. */
static int plan_list(struct pb_pmu_set *set, const char *list)
{
	const char *p = list;
	int pos, i;

	for (pos = 1;; pos++) {
		const char *comma = strchr(p, ',');
		const char *s = p, *e = comma ? comma : p + strlen(p);
		char name[PB_PMU_NAME_MAX];
		size_t len, k;

		while (s < e && is_blank(*s))
			s++;
		while (e > s && is_blank(e[-1]))
			e--;
		len = (size_t)(e - s);
		if (len == 0)
			return pb_error_code(PB_EINVAL,
					     "--events: empty event name at "
					     "position %d in '%s'", pos, list);
		if (len >= PB_PMU_NAME_MAX)
			return pb_error_code(PB_EINVAL,
					     "--events: event name at position "
					     "%d is longer than %d characters",
					     pos, PB_PMU_NAME_MAX - 1);
		for (k = 0; k < len; k++)
			if (is_blank(s[k]))
				return pb_error_code(PB_EINVAL,
						     "--events: event name "
						     "'%.*s' contains a blank",
						     (int)len, s);
		if (set->n == PB_PMU_MAX)
			return pb_error_code(PB_EINVAL,
					     "--events: more than %d events",
					     PB_PMU_MAX);
		memcpy(name, s, len);
		name[len] = '\0';
		for (i = 0; i < set->n; i++)
			if (strcasecmp(set->c[i].name, name) == 0)
				return pb_error_code(PB_EINVAL,
						     "--events: '%s' is listed "
						     "twice", name);
		add_event(set, name, name, PB_PMU_ROLE_OTHER);
		if (!comma)
			return PB_OK;
		p = comma + 1;
	}
}

int pb_pmu_plan(struct pb_pmu_set *out, const struct pb_pmu_opts *opts)
{
	static const struct pb_pmu_opts dflt = PB_PMU_OPTS_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &dflt;
	rc = pb_pmu_init();
	if (rc)
		return rc;
	out->kernel = !opts->user_only && kernel_counting_allowed();
	if (pb_pmu_detect(out->pmu, sizeof(out->pmu)) != PB_OK)
		out->pmu[0] = '\0';
	if (!opts->events) {
		plan_default(out, opts);
		return PB_OK;
	}
	rc = plan_list(out, opts->events);
	if (rc) {
		out->n = 0;  /* nothing was opened: just forget them */
		return rc;
	}
	return PB_OK;
}

static int sys_perf_event_open(struct perf_event_attr *attr, pid_t pid,
			       int cpu, int group_fd, unsigned long flags)
{
	return (int)syscall(SYS_perf_event_open, attr, pid, cpu, group_fd,
			    flags);
}

static const char *errno_name(int e)
{
	switch (e) {
	case ENOENT: return "ENOENT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENODEV: return "ENODEV";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	case E2BIG: return "E2BIG";
	case EBUSY: return "EBUSY";
	case EMFILE: return "EMFILE";
	case ENFILE: return "ENFILE";
	case ENOMEM: return "ENOMEM";
	case ENOSPC: return "ENOSPC";
	case EOVERFLOW: return "EOVERFLOW";
	default: return "errno";
	}
}

/* Does the kernel have a hardware PMU at all?  Asked once per set, with
 * generic cycles on ourselves (opened disabled, closed at once). */
static int kernel_has_hw_pmu(struct pb_pmu_set *set)
{
	struct perf_event_attr a;
	int fd, e;

	if (set->hw_probe)
		return set->hw_probe > 0;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_HARDWARE;
	a.config = PERF_COUNT_HW_CPU_CYCLES;
	a.disabled = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	fd = sys_perf_event_open(&a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	e = errno;
	if (fd >= 0)
		close(fd);
	set->hw_probe = (fd < 0 && (e == ENOENT || e == EOPNOTSUPP ||
				    e == ENODEV)) ? -1 : 1;
	return set->hw_probe > 0;
}

static int is_hw_type(uint32_t type)
{
	return type == PERF_TYPE_HARDWARE || type == PERF_TYPE_HW_CACHE ||
	       type == PERF_TYPE_RAW || type >= PERF_TYPE_MAX;
}

/* Records why the kernel refused counter c (errno e). */
static void open_failed(struct pb_pmu_set *set, struct pb_pmu_counter *c,
			int e)
{
	char head[96];
	int paranoid;

	if (strcmp(errno_name(e), "errno") == 0)
		snprintf(head, sizeof(head), "perf_event_open: %s (errno %d)",
			 strerror(e), e);
	else
		snprintf(head, sizeof(head), "perf_event_open: %s (%s)",
			 strerror(e), errno_name(e));
	switch (e) {
	case ENOENT:
	case EOPNOTSUPP:
	case ENODEV:
		if (is_hw_type(c->attr.type) && !kernel_has_hw_pmu(set)) {
			if (set->pmu[0])
				counter_unsupported(c, "%s: no hardware PMU "
						    "visible to the kernel "
						    "(libpfm4 names %s from "
						    "the CPU model alone)",
						    head, set->pmu);
			else
				counter_unsupported(c, "%s: no hardware PMU "
						    "visible to the kernel or "
						    "to libpfm4", head);
		} else if (e == ENOENT) {
			counter_unsupported(c, "%s: this machine exposes no "
					    "such counter", head);
		} else if (e == EOPNOTSUPP) {
			counter_unsupported(c, "%s: the PMU lacks a feature "
					    "this event needs", head);
		} else {
			counter_unsupported(c, "%s: this CPU does not support "
					    "the event", head);
		}
		break;
	case EACCES:
	case EPERM:
		if (read_paranoid(&paranoid) == 0)
			counter_unsupported(c, "%s: not permitted "
					    "(kernel.perf_event_paranoid=%d; "
					    "run as root or lower it)",
					    head, paranoid);
		else
			counter_unsupported(c, "%s: not permitted", head);
		break;
	case EINVAL:
		counter_unsupported(c, "%s: the kernel rejects this encoding "
				    "(config out of range for this PMU?)",
				    head);
		break;
	case EMFILE:
	case ENFILE:
	case ENOMEM:
	case EBUSY:
	case ENOSPC:
		/* this machine could count it, this run could not */
		c->state = PB_PMU_NOT_COUNTED;
		snprintf(c->reason, sizeof(c->reason), "%s", head);
		break;
	default:
		counter_unsupported(c, "%s", head);
		break;
	}
}

int pb_pmu_open(struct pb_pmu_set *set, pid_t pid)
{
	int i;

	if (pid <= 0)
		return pb_error_code(PB_EINVAL, "cannot count process %d",
				     (int)pid);
	pb_pmu_close(set);
	for (i = 0; i < set->n; i++) {
		struct pb_pmu_counter *c = &set->c[i];
		int fd;

		c->raw = c->time_enabled = c->time_running = 0;
		c->scaled = 0;
		c->multiplexed = 0;
		if (!c->encoded)
			continue;  /* UNSUPPORTED since the plan */
		c->state = PB_PMU_PLANNED;
		c->reason[0] = '\0';
		fd = sys_perf_event_open(&c->attr, pid, -1, -1,
					 PERF_FLAG_FD_CLOEXEC);
		if (fd >= 0) {
			c->fd = fd;
			c->state = PB_PMU_OPEN;
			continue;
		}
		if (errno == ESRCH) {
			pb_pmu_close(set);
			return pb_error_set("cannot count process %d: no such "
					    "process", (int)pid);
		}
		open_failed(set, c, errno);
	}
	return PB_OK;
}

static void read_one(struct pb_pmu_counter *c)
{
	uint64_t v[3];
	ssize_t n;

	do
		n = read(c->fd, v, sizeof(v));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(v)) {
		c->state = PB_PMU_NOT_COUNTED;
		if (n < 0)
			snprintf(c->reason, sizeof(c->reason), "read: %s",
				 strerror(errno));
		else
			snprintf(c->reason, sizeof(c->reason),
				 "read: %zd bytes instead of %zu", n,
				 sizeof(v));
		return;
	}
	c->raw = v[0];
	c->time_enabled = v[1];
	c->time_running = v[2];
	c->multiplexed = 0;
	c->scaled = 0;
	if (c->time_enabled == 0) {
		c->state = PB_PMU_NOT_COUNTED;
		snprintf(c->reason, sizeof(c->reason),
			 "never enabled (the process did not exec)");
		return;
	}
	if (c->time_running == 0) {
		c->state = PB_PMU_NOT_COUNTED;
		snprintf(c->reason, sizeof(c->reason),
			 "never scheduled (time running 0)");
		return;
	}
	c->state = PB_PMU_COUNTED;
	c->reason[0] = '\0';
	c->scaled = (double)c->raw;
	if (c->time_running < c->time_enabled) {
		c->multiplexed = 1;
		c->scaled *= (double)c->time_enabled / (double)c->time_running;
	}
}

int pb_pmu_read(struct pb_pmu_set *set)
{
	int i;

	for (i = 0; i < set->n; i++) {
		struct pb_pmu_counter *c = &set->c[i];

		if (c->fd >= 0) {
			read_one(c);
		} else if (c->state == PB_PMU_PLANNED) {
			c->state = PB_PMU_NOT_COUNTED;
			snprintf(c->reason, sizeof(c->reason), "never opened");
		}
	}
	return PB_OK;
}

void pb_pmu_close(struct pb_pmu_set *set)
{
	int i;

	for (i = 0; i < set->n; i++) {
		if (set->c[i].fd >= 0)
			close(set->c[i].fd);
		set->c[i].fd = -1;
	}
}

const struct pb_pmu_counter *pb_pmu_find(const struct pb_pmu_set *set,
					 const char *name)
{
	int i;

	for (i = 0; i < set->n; i++)
		if (strcmp(set->c[i].name, name) == 0)
			return &set->c[i];
	return NULL;
}

const struct pb_pmu_counter *pb_pmu_find_role(const struct pb_pmu_set *set,
					      enum pb_pmu_role role)
{
	int i;

	for (i = 0; i < set->n; i++)
		if (set->c[i].role == role)
			return &set->c[i];
	return NULL;
}

static int ipc_missing(const struct pb_pmu_counter *c, const char *what)
{
	if (!c)
		return pb_error_code(PB_ENOTFOUND, "ipc unsupported: no %s "
				     "counter in the set", what);
	return pb_error_code(PB_ENOTFOUND, "ipc %s: %s: %s",
			     c->state == PB_PMU_UNSUPPORTED ? "unsupported"
							    : "not counted",
			     c->name, c->reason[0] ? c->reason
						   : pb_pmu_state_name(c->state));
}

int pb_pmu_ipc(double *out, const struct pb_pmu_set *set)
{
	const struct pb_pmu_counter *cyc, *ins;

	*out = 0;
	cyc = pb_pmu_find_role(set, PB_PMU_ROLE_CYCLES);
	ins = pb_pmu_find_role(set, PB_PMU_ROLE_INSTRUCTIONS);
	if (!cyc || cyc->state != PB_PMU_COUNTED)
		return ipc_missing(cyc, "cycles");
	if (!ins || ins->state != PB_PMU_COUNTED)
		return ipc_missing(ins, "instructions");
	if (!(cyc->scaled > 0))
		return pb_error_code(PB_ENOTFOUND, "ipc not counted: %s "
				     "counted 0", cyc->name);
	*out = ins->scaled / cyc->scaled;
	return PB_OK;
}

const char *pb_pmu_state_name(enum pb_pmu_state s)
{
	switch (s) {
	case PB_PMU_PLANNED: return "planned";
	case PB_PMU_OPEN: return "open";
	case PB_PMU_COUNTED: return "counted";
	case PB_PMU_UNSUPPORTED: return "unsupported";
	case PB_PMU_NOT_COUNTED: return "not counted";
	}
	return "unknown";
}
