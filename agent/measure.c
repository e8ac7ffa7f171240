/*
 * measure.c - see measure.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <numa.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/facts.h"
#include "agent/interfere.h"
#include "agent/knobs.h"
#include "agent/measure.h"
#include "agent/numa.h"
#include "agent/pmu.h"
#include "common/err.h"
#include "common/util.h"

/* Placement sampling: the first sample soon after exec (the run may be
 * short), then every SAMPLE_EARLY_S for the first second, then a tenth of
 * the time run so far, at most SAMPLE_MAX_S apart - so the last sample of
 * a long run is within about 10 % of its length of its end.  A sample
 * reads the numa_maps of the run's processes, which makes the kernel walk
 * their page tables, and finds those processes through the children files
 * (a quarter of a millisecond for a shell and its benchmark); from the
 * second second on, when samples are sparse, it lists all of /proc so as
 * to find orphans too (about 10 us more per process of the machine).
 * bench/measure-overhead says what this adds to a benchmark. */
#define SAMPLE_FIRST_S 0.02
#define SAMPLE_EARLY_S 0.05
#define SAMPLE_MAX_S 2.0

struct pb_measure {
	struct pb_measure_opts o;
	struct pb_machine machine;
	struct pb_knobs knobs;
	int have_settings;            /* the configuration changes something */
	struct pb_pmu_set plan;
	char pmu_name[64];
	char pmu_note[256];           /* why there is no PMU name */
	struct pb_numa_topology *real; /* this machine's, NULL when unknown */
	struct pb_numa_topology *sys;  /* the sysroot's (may be == real) */
	char topo_note[256];
	/* what the last run could count, for pb_measure_describe() */
	int described;
	char hw_note[320];
	unsigned hw_counted, hw_total, sw_counted, sw_total;
	char sw_names[160];
};

struct pb_measure_run {
	struct pb_measure *m;
	unsigned run_index;
	struct pb_pmu_set pmu;
	struct pb_numa_placement *place;
	/* Each executable as last seen: the run command's shell outlives the
	 * benchmark it started, so the run's last sample may no longer show
	 * the benchmark itself. */
	struct pb_nm_exe *seen;       /* PB_NUMA_MAX_EXES of them */
	unsigned nseen;
	struct pb_numa_counters *before;
	char before_note[256];
	struct pb_knobs_state knobs;
	int knobs_on;
	struct pb_facts facts;
	int facts_on;
	struct pb_numa_start start;
	int hold;                     /* hold the child to start.mask */
	int released;
	int child_cpu;                /* where the child was before exec */
	cpu_set_t allowed;            /* ours: what the benchmark gets back */
	double ready_at;              /* pb_now_mono() when released to exec */
	struct pb_busy_snap busy0;    /* the machine before the run */
	int have_busy0;
	char *tree;                   /* pb_measure_run_watch()'s, resolved */
	struct pb_image_files files;  /* mapped from under it so far */
};

int pb_measure_new(struct pb_measure **out, const struct pb_measure_opts *o)
{
	struct pb_measure *m;
	struct pb_pmu_opts po = PB_PMU_OPTS_INIT;
	int rc;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return pb_error_set("out of memory");
	m->o = *o;
	m->machine.root = o->sysroot;
	m->machine.nic = o->nic;
	m->machine.snoop = o->snoop;
	if (o->snoop && (rc = pb_snoop_check(o->snoop)) < 0)
		goto fail;
	if (o->nic && (rc = pb_nic_name_check(o->nic)) < 0)
		goto fail;
	if ((rc = pb_knobs_parse(&m->knobs, o->config)) < 0 ||
	    (rc = pb_knobs_check(&m->knobs, &m->machine)) < 0)
		goto fail;
	/* Only these change the machine; kernel, snoop and threads do not. */
	m->have_settings = m->knobs.irq_affinity != PB_IRQ_UNSET ||
			   m->knobs.numa_policy != PB_NUMA_UNSET ||
			   m->knobs.zone_reclaim_mode >= 0 || m->knobs.thp[0] ||
			   m->knobs.thp_defrag[0];

	if ((rc = pb_pmu_init()) < 0)
		goto fail;
	po.events = o->events;
	if ((rc = pb_pmu_plan(&m->plan, &po)) < 0)
		goto fail;
	if (pb_pmu_detect(m->pmu_name, sizeof(m->pmu_name)) < 0)
		pb_strlcpy(m->pmu_note, pb_error_last(), sizeof(m->pmu_note));

	m->real = malloc(sizeof(*m->real));
	if (!m->real) {
		rc = pb_error_set("out of memory");
		goto fail;
	}
	if (pb_numa_topology_read(m->real, NULL) < 0) {
		snprintf(m->topo_note, sizeof(m->topo_note),
			 "no NUMA topology: %s", pb_error_last());
		free(m->real);
		m->real = NULL;
	}
	m->sys = m->real;
	if (o->sysroot) {
		m->sys = malloc(sizeof(*m->sys));
		if (!m->sys) {
			rc = pb_error_set("out of memory");
			goto fail;
		}
		if (pb_numa_topology_read(m->sys, o->sysroot) < 0) {
			free(m->sys);
			m->sys = NULL;
		}
	}
	*out = m;
	return PB_OK;
fail:
	pb_measure_free(m);
	return rc;
}

void pb_measure_free(struct pb_measure *m)
{
	if (!m)
		return;
	pb_pmu_close(&m->plan);
	if (m->sys != m->real)
		free(m->sys);
	free(m->real);
	free(m);
}

unsigned pb_measure_threads(const struct pb_measure *m)
{
	return m->knobs.threads;
}

void pb_measure_describe(const struct pb_measure *m, char *buf, size_t size)
{
	int nodes = m->real ? (int)m->real->nnodes : 0;

	if (!m->described) {
		snprintf(buf, size, "nothing measured yet");
		return;
	}
	if (m->hw_total == 0)
		snprintf(buf, size, "no hardware counters asked for");
	else if (m->hw_counted == 0)
		snprintf(buf, size,
			 "hardware counters unsupported on this machine (%s)",
			 m->hw_note);
	else
		snprintf(buf, size, "hardware counters: %u of %u counted%s%s",
			 m->hw_counted, m->hw_total, m->hw_note[0] ? "; " : "",
			 m->hw_note);
	size_t len = strlen(buf);
	if (m->sw_total && len < size)
		snprintf(buf + len, size - len, "; software counters: %s",
			 m->sw_counted ? m->sw_names : "none counted");
	len = strlen(buf);
	if (len < size)
		snprintf(buf + len, size - len, "; %d NUMA node%s%s%s", nodes,
			 nodes == 1 ? "" : "s", m->topo_note[0] ? ": " : "",
			 m->topo_note);
}

int pb_measure_noise_warnings(struct pb_measure *m, char *buf, size_t size)
{
	struct pb_facts f;
	int rc = pb_facts_collect(&f, &m->machine);

	if (rc == PB_OK)
		pb_facts_noise_warnings(buf, size, &f);
	pb_facts_release(&f);
	return rc;
}

/* --- the hooks --------------------------------------------------------- */

static int hook_setup(void *ctx, const char **what)
{
	struct pb_measure_run *r = ctx;
	int e;

	if (r->knobs_on && (e = pb_knobs_child(&r->knobs)) < 0) {
		*what = "cannot set the benchmark's NUMA policy";
		return -e;
	}
	if (r->hold && pb_numa_hold(0, r->start.mask) < 0) {
		*what = "cannot hold the benchmark to its start node's CPUs";
		return errno;
	}
	return 0;
}

static void hook_ready(void *ctx, pid_t pid, int cpu)
{
	struct pb_measure_run *r = ctx;

	r->child_cpu = cpu;
	(void)pb_pmu_open(&r->pmu, pid); /* per-counter outcomes recorded */
	r->ready_at = pb_now_mono();
}

/* Gives every task of the run still held to the start node's CPUs our own
 * CPUs back; a task that set its affinity itself is left alone. */
static void release_run(struct pb_measure_run *r, pid_t root)
{
	pid_t *pids = NULL;
	size_t n = 0;

	if (pb_numa_run_pids(&pids, &n, root, PB_NUMA_TREE))
		return;
	for (size_t i = 0; i < n; i++) {
		char path[64];
		struct dirent *t;
		DIR *tasks;

		snprintf(path, sizeof(path), "/proc/%d/task", (int)pids[i]);
		tasks = opendir(path);
		while (tasks && (t = readdir(tasks))) {
			uint64_t id;
			pid_t tid;

			if (pb_parse_u64(&id, t->d_name, 1, INT32_MAX, "tid") < 0)
				continue;
			tid = (pid_t)id;
			if (pb_numa_is_held(tid, r->start.mask) == 1)
				(void)sched_setaffinity(tid, sizeof(r->allowed),
							&r->allowed);
		}
		if (tasks)
			closedir(tasks);
	}
	free(pids);
}

static void remember_exes(struct pb_measure_run *r,
			  const struct pb_nm_snapshot *s)
{
	for (unsigned e = 0; e < s->nexes; e++) {
		unsigned k;

		for (k = 0; k < r->nseen; k++)
			if (!strcmp(r->seen[k].path, s->exe[e].path))
				break;
		if (k == r->nseen) {
			if (r->nseen == PB_NUMA_MAX_EXES)
				continue;
			r->nseen++;
		}
		r->seen[k] = s->exe[e];
	}
}

/* The files the run's processes map from its work tree, at every sample:
 * reading maps costs a few microseconds a process, beside the page-table
 * walk of numa_maps.  A set that could not be read whole makes no claim. */
static void note_files(struct pb_measure_run *r, pid_t pid,
		       enum pb_numa_scope scope)
{
	if (r->tree &&
	    pb_image_files_scan(&r->files, r->tree, pid, (int)scope) < 0)
		r->files.truncated = 1;
}

static double hook_tick(void *ctx, pid_t pid, double elapsed)
{
	struct pb_measure_run *r = ctx;
	double next;

	if (r->hold && !r->released && elapsed >= PB_MEASURE_HOLD_S) {
		release_run(r, pid);
		r->released = 1;
	}
	/* Past the first second samples are 0.1 s or more apart: then also
	 * look for processes orphaned inside the run's process group. */
	if (pb_numa_sample(r->place, r->m->real, pid,
			   elapsed < 1.0 ? PB_NUMA_TREE : PB_NUMA_GROUP) == 0 &&
	    r->place->samples)
		remember_exes(r, &r->place->last);
	note_files(r, pid, elapsed < 1.0 ? PB_NUMA_TREE : PB_NUMA_GROUP);
	next = elapsed < 1.0 ? SAMPLE_EARLY_S : elapsed * 0.1;
	if (next > SAMPLE_MAX_S)
		next = SAMPLE_MAX_S;
	/* Do not sleep through the end of the hold. */
	if (r->hold && !r->released && elapsed + next > PB_MEASURE_HOLD_S)
		next = PB_MEASURE_HOLD_S - elapsed + 0.001;
	return next;
}

/* --- one run ----------------------------------------------------------- */

int pb_measure_run_begin(struct pb_measure_run **out, struct pb_measure *m,
			 unsigned run_index, struct pb_proc_hooks *hooks)
{
	struct pb_measure_run *r;
	int rc;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return pb_error_set("out of memory");
	r->m = m;
	r->run_index = run_index;
	r->child_cpu = -1;
	r->pmu = m->plan;
	r->place = malloc(sizeof(*r->place));
	r->seen = calloc(PB_NUMA_MAX_EXES, sizeof(*r->seen));
	r->before = malloc(sizeof(*r->before));
	if (!r->place || !r->seen || !r->before) {
		rc = pb_error_set("out of memory");
		goto fail;
	}
	pb_numa_placement_init(r->place);

	if (m->have_settings) {
		rc = pb_knobs_apply(&r->knobs, &m->knobs, &m->machine);
		r->knobs_on = 1;
		if (rc < 0)
			goto fail;
	}
	if (pb_facts_collect(&r->facts, &m->machine) < 0) {
		rc = PB_ERROR;
		goto fail;
	}
	r->facts_on = 1;
	if (pb_numa_counters_read(r->before, m->o.sysroot) < 0)
		snprintf(r->before_note, sizeof(r->before_note),
			 "kernel counters not read: %s", pb_error_last());

	/* Where the run starts.  cpunodebind:N fixes the CPUs itself. */
	r->start.node = -1;
	if (m->o.rotate_start && m->knobs.numa_policy != PB_NUMA_CPUNODEBIND) {
		if (sched_getaffinity(0, sizeof(r->allowed), &r->allowed) < 0)
			snprintf(r->start.note, sizeof(r->start.note),
				 "not held: cannot read our CPU affinity");
		else if (pb_numa_pick_start_node(&r->start, m->real, NULL,
						 run_index) < 0)
			snprintf(r->start.note, sizeof(r->start.note),
				 "not held: %s", pb_error_last());
		else if (r->start.node >= 0)
			r->hold = 1;
	}
	/* last, so the snapshot is as near the run as it can be */
	if (pb_busy_snap_take(&r->busy0, getpid()) == PB_OK)
		r->have_busy0 = 1;
	memset(hooks, 0, sizeof(*hooks));
	hooks->child_setup = hook_setup;
	hooks->on_ready = hook_ready;
	hooks->on_tick = hook_tick;
	hooks->first_tick_s = SAMPLE_FIRST_S;
	hooks->ctx = r;
	*out = r;
	return PB_OK;
fail:
	pb_measure_run_free(r);
	return rc;
}

static void fill_counters(struct pb_measure_run *r,
			  struct pb_run_measurements *rec)
{
	struct pb_measure *m = r->m;
	const struct pb_pmu_counter *rem;
	char sw[160] = "";
	double ipc;

	m->hw_counted = m->hw_total = m->sw_counted = m->sw_total = 0;
	m->hw_note[0] = '\0';
	for (int i = 0; i < r->pmu.n && rec->ncounters < PB_REC_MAX_COUNTERS;
	     i++) {
		const struct pb_pmu_counter *c = &r->pmu.c[i];
		struct pb_rec_counter *o = &rec->counters[rec->ncounters++];
		int counted = c->state == PB_PMU_COUNTED;

		pb_strlcpy(o->name, c->name, sizeof(o->name));
		pb_strlcpy(o->event, c->fstr[0] ? c->fstr : c->event,
			   sizeof(o->event));
		o->state = pb_pmu_state_name(c->state);
		o->value = counted ? c->scaled : NAN;
		o->running = counted && c->time_enabled
				     ? (double)c->time_running /
					       (double)c->time_enabled
				     : NAN;
		pb_strlcpy(o->reason, c->reason, sizeof(o->reason));
		if (c->role == PB_PMU_ROLE_SOFTWARE) {
			m->sw_total++;
			if (counted) {
				m->sw_counted++;
				if (sw[0])
					pb_strlcpy(sw + strlen(sw), ", ",
						   sizeof(sw) - strlen(sw));
				pb_strlcpy(sw + strlen(sw), c->name,
					   sizeof(sw) - strlen(sw));
			}
		} else {
			m->hw_total++;
			if (counted)
				m->hw_counted++;
			else if (!m->hw_note[0])
				snprintf(m->hw_note, sizeof(m->hw_note),
					 "%s: %s", c->name, c->reason);
		}
	}
	pb_strlcpy(m->sw_names, sw, sizeof(m->sw_names));
	m->described = 1;

	if (pb_pmu_ipc(&ipc, &r->pmu) == 0)
		rec->ipc = ipc;
	else
		pb_strlcpy(rec->ipc_note, pb_error_last(),
			   sizeof(rec->ipc_note));
	rem = pb_pmu_find_role(&r->pmu, PB_PMU_ROLE_REMOTE);
	if (rem && rem->state == PB_PMU_COUNTED)
		rec->remote_access = rem->scaled;
	else if (rem)
		snprintf(rec->remote_note, sizeof(rec->remote_note),
			 "%.60s %s: %.240s", rem->name, pb_pmu_state_name(rem->state),
			 rem->reason);
	else
		snprintf(rec->remote_note, sizeof(rec->remote_note),
			 "no remote-access event among the counters%s%s",
			 r->m->o.events ? " (--events replaced the default "
					  "list)"
					: "",
			 r->m->pmu_name[0] || r->m->o.events ? ""
			 : " (no hardware PMU visible to libpfm4)");
}

static int add_place(struct pb_run_measurements *rec, size_t *alloc,
		     const char *sample, const struct pb_nm_exe *exes,
		     unsigned nexes)
{
	for (unsigned e = 0; e < nexes; e++) {
		const struct pb_nm_exe *x = &exes[e];

		for (int k = 0; k < PB_NM_KINDS; k++) {
			for (int node = 0; node < PB_NUMA_MAX_NODES; node++) {
				struct pb_rec_place *p;

				if (!x->use.pages[k][node])
					continue;
				if (rec->nplace == *alloc) {
					size_t na = *alloc ? 2 * *alloc : 32;
					p = realloc(rec->place,
						    na * sizeof(*p));
					if (!p)
						return pb_error_set("out of "
								    "memory");
					rec->place = p;
					*alloc = na;
				}
				p = &rec->place[rec->nplace++];
				pb_strlcpy(p->sample, sample, sizeof(p->sample));
				pb_strlcpy(p->exe, x->path, sizeof(p->exe));
				p->kind = pb_nm_kind_name((enum pb_nm_kind)k);
				p->node = node;
				p->pages = x->use.pages[k][node];
			}
		}
	}
	return PB_OK;
}

static int fill_stats(struct pb_measure_run *r, struct pb_run_measurements *rec)
{
	struct pb_numa_counters *after = NULL, *delta = NULL;
	int rc = PB_OK;

	if (r->before_note[0]) {
		pb_strlcpy(rec->stats_note, r->before_note,
			   sizeof(rec->stats_note));
		return PB_OK;
	}
	after = malloc(sizeof(*after));
	delta = malloc(sizeof(*delta));
	if (!after || !delta) {
		rc = pb_error_set("out of memory");
		goto out;
	}
	if (pb_numa_counters_read(after, r->m->o.sysroot) < 0 ||
	    pb_numa_counters_delta(delta, r->before, after) < 0) {
		snprintf(rec->stats_note, sizeof(rec->stats_note),
			 "kernel counters not read: %s", pb_error_last());
		goto out;
	}
	rec->stats = calloc(delta->n ? delta->n : 1, sizeof(*rec->stats));
	if (!rec->stats) {
		rc = pb_error_set("out of memory");
		goto out;
	}
	for (unsigned i = 0; i < delta->n; i++) {
		const struct pb_numa_stat *s = &delta->stat[i];
		struct pb_rec_stat *o = &rec->stats[rec->nstats++];
		static const char *const states[] = { "ok", "backwards",
						      "vanished", "appeared" };

		pb_strlcpy(o->name, s->name, sizeof(o->name));
		o->node = s->node;
		o->delta = (int64_t)s->value;
		o->state = s->state >= 0 && s->state < 4 ? states[s->state]
							   : "ok";
	}
out:
	free(after);
	free(delta);
	return rc;
}

static void fill_settings(struct pb_measure_run *r,
			  struct pb_run_measurements *rec)
{
	for (size_t i = 0; r->knobs_on && i < r->knobs.n &&
			   rec->nsettings < PB_REC_MAX_SETTINGS;
	     i++) {
		const struct pb_knob_change *c = &r->knobs.changes[i];
		struct pb_rec_setting *o = &rec->settings[rec->nsettings++];

		pb_strlcpy(o->setting, c->setting, sizeof(o->setting));
		pb_strlcpy(o->target, c->target, sizeof(o->target));
		pb_strlcpy(o->old_value, c->old_value, sizeof(o->old_value));
		pb_strlcpy(o->new_value, c->new_value, sizeof(o->new_value));
		o->status = pb_knob_status_name(c->status);
		pb_strlcpy(o->reason, c->reason, sizeof(o->reason));
		pb_strlcpy(o->restore_error, c->restore_error,
			   sizeof(o->restore_error));
	}
}

static void fill_facts(struct pb_measure_run *r, struct pb_run_measurements *rec)
{
	const struct pb_measure *m = r->m;
	const struct pb_facts *f = &r->facts;
	const struct pb_numa_topology *t = m->sys;
	char buf[512], num[32];

	pb_rec_fact_add(rec, "kernel", f->kernel);
	pb_rec_fact_add(rec, "cpu_model", f->cpu_model);
	if (m->pmu_name[0])
		pb_rec_fact_add(rec, "pmu", m->pmu_name);
	else
		pb_rec_fact_add(rec, "pmu", m->pmu_note);
	snprintf(num, sizeof(num), "%d", f->numa_nodes);
	pb_rec_fact_add(rec, "numa_nodes", num);
	pb_rec_fact_add(rec, "numa_online", f->numa_online);
	/* "0:0-3 1:4-7" and "0:10,21 1:21,10" */
	buf[0] = '\0';
	for (unsigned i = 0; t && i < t->nnodes; i++) {
		int id = t->node_ids[i];
		size_t len = strlen(buf);

		snprintf(buf + len, sizeof(buf) - len, "%s%d:%s", i ? " " : "",
			 id, t->node[id].cpulist);
	}
	pb_rec_fact_add(rec, "numa_cpus", buf);
	buf[0] = '\0';
	for (unsigned i = 0; t && i < t->nnodes; i++) {
		int id = t->node_ids[i];
		size_t len = strlen(buf);

		snprintf(buf + len, sizeof(buf) - len, "%s%d:", i ? " " : "",
			 id);
		for (unsigned j = 0; j < t->nnodes; j++) {
			len = strlen(buf);
			snprintf(buf + len, sizeof(buf) - len, "%s%u", j ? "," : "",
				 (unsigned)t->node[id].distance[t->node_ids[j]]);
		}
	}
	pb_rec_fact_add(rec, "numa_distances", buf);
	pb_rec_fact_add(rec, "snoop", f->snoop[0] ? f->snoop
					: "unknown (not configured: Linux "
					  "cannot read it)");
	pb_rec_fact_add(rec, "thp_enabled", f->thp_enabled);
	pb_rec_fact_add(rec, "thp_defrag", f->thp_defrag);
	if (f->zone_reclaim_mode >= 0) {
		snprintf(num, sizeof(num), "%d", f->zone_reclaim_mode);
		pb_rec_fact_add(rec, "zone_reclaim_mode", num);
	}
	/* what makes runs drift */
	pb_rec_fact_add(rec, "cpufreq_governor",
			f->governor[0] ? f->governor
				       : "unknown (no cpufreq: the firmware or "
					 "hypervisor sets the clock)");
	pb_rec_fact_add(rec, "boost", f->boost[0] ? f->boost : "unknown");
	pb_rec_fact_add(rec, "smt", f->smt[0] ? f->smt : "unknown");
	pb_rec_fact_add(rec, "isolcpus", f->isolated[0] ? f->isolated : "none");
	pb_rec_fact_add(rec, "nohz_full",
			f->nohz_full[0] ? f->nohz_full : "none");
	if (f->nic[0]) {
		pb_rec_fact_add(rec, "nic", f->nic);
		snprintf(num, sizeof(num), "%d", f->nic_node);
		pb_rec_fact_add(rec, "nic_node", num);
		buf[0] = '\0';
		for (size_t i = 0; i < f->n_irqs; i++) {
			size_t len = strlen(buf);

			snprintf(buf + len, sizeof(buf) - len, "%s%u:%s",
				 i ? " " : "", f->irqs[i].irq,
				 f->irqs[i].cpus[0] ? f->irqs[i].cpus : "?");
		}
		pb_rec_fact_add(rec, "nic_irq_affinity",
				buf[0] ? buf : f->irq_note);
	}
}

/* What other work did while the run ran: first thing after it ended. */
static void fill_interference(struct pb_measure_run *r,
			      struct pb_run_measurements *rec)
{
	struct pb_busy_snap after;
	struct pb_interference in;
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (!r->have_busy0 || pb_busy_snap_take(&after, getpid()) < 0) {
		pb_strlcpy(rec->psi_note, "interference not measured: /proc "
			   "cannot be listed", sizeof(rec->psi_note));
		return;
	}
	pb_interference_of(&in, &r->busy0, &after,
			   ncpus > 0 ? (unsigned)ncpus : 1,
			   r->m->o.busy_threshold);
	rec->others_cpu_s = in.others_cpu_s;
	rec->others_cpus = in.others_cpus;
	rec->interference = in.share;
	rec->steal_s = in.steal_s;
	for (int i = 0; i < 3; i++)
		rec->psi_some[i] = in.psi_some[i];
	pb_strlcpy(rec->psi_note, in.psi_note, sizeof(rec->psi_note));
	rec->disturbed = in.disturbed;
	pb_strlcpy(rec->disturbed_why, in.why, sizeof(rec->disturbed_why));
}

int pb_measure_run_end(struct pb_measure_run *r, struct pb_run_measurements *rec)
{
	const struct pb_numa_placement *pl = r->place;
	size_t alloc = 0;
	int rc = PB_OK, rrc = PB_OK;

	pb_run_measurements_init(rec);
	fill_interference(r, rec);
	pb_pmu_read(&r->pmu);
	pb_pmu_close(&r->pmu);
	if (r->knobs_on)
		rrc = pb_knobs_restore(&r->knobs);

	rec->start_cpu = r->child_cpu;
	rec->start_node_asked = r->hold ? r->start.node : -1;
	if (r->hold)
		pb_strlcpy(rec->start_cpus, r->start.cpus,
			   sizeof(rec->start_cpus));
	if (r->child_cpu >= 0) {
		rec->start_node = r->m->real
					  ? pb_numa_node_of_cpu(r->m->real,
								r->child_cpu)
					  : -1;
		if (rec->start_node < 0 && numa_available() >= 0)
			rec->start_node = numa_node_of_cpu(r->child_cpu);
	}
	if (r->start.note[0])
		pb_strlcpy(rec->start_note, r->start.note,
			   sizeof(rec->start_note));
	else if (!r->m->o.rotate_start)
		pb_strlcpy(rec->start_note,
			   "not held: the start left to the scheduler "
			   "(--no-rotate-start)",
			   sizeof(rec->start_note));
	else if (r->m->knobs.numa_policy == PB_NUMA_CPUNODEBIND)
		pb_strlcpy(rec->start_note,
			   "not held: numa_policy=cpunodebind fixes the CPUs",
			   sizeof(rec->start_note));

	fill_counters(r, rec);
	rec->samples = pl->samples;
	if (pl->samples) {
		rec->first_s = pl->first.t - r->ready_at;
		rec->last_s = pl->last.t - r->ready_at;
		if ((rc = add_place(rec, &alloc, "first", pl->first.exe,
				    pl->first.nexes)) < 0 ||
		    (rc = add_place(rec, &alloc, "last", r->seen, r->nseen)) < 0)
			goto out;
	}
	if ((rc = fill_stats(r, rec)) < 0)
		goto out;
	fill_settings(r, rec);
	fill_facts(r, rec);
out:
	return rc < 0 ? rc : rrc;
}

void pb_measure_run_watch(struct pb_measure_run *r, const char *workdir)
{
	free(r->tree);
	r->tree = NULL;
	if (r->m->o.mapped_files)
		r->tree = realpath(workdir, NULL);
}

void pb_measure_run_files(struct pb_measure_run *r,
			  struct pb_image_files *out)
{
	pb_image_files_release(out);
	*out = r->files;
	pb_image_files_init(&r->files);
}

void pb_measure_run_free(struct pb_measure_run *r)
{
	if (!r)
		return;
	free(r->tree);
	pb_image_files_release(&r->files);
	pb_pmu_close(&r->pmu);
	if (r->knobs_on)
		pb_knobs_release(&r->knobs);
	if (r->facts_on)
		pb_facts_release(&r->facts);
	free(r->place);
	free(r->seen);
	free(r->before);
	free(r);
}
