/*
 * interfere.c - see interfere.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/interfere.h"
#include "common/err.h"
#include "common/sysroot.h"
#include "common/util.h"

#define ANCESTRY_MAX 256 /* deeper chains are not ours */

int pb_pidstat_parse(struct pb_pidstat *out, const char *text,
		     const char *what)
{
	const char *p = strrchr(text, ')');
	int field = 3;

	memset(out, 0, sizeof(*out));
	out->cpu = -1;
	if (!p)
		return pb_error_code(PB_EINVAL, "%s: no command name", what);
	p++;
	while (*p) {
		char tok[32];
		size_t len;
		uint64_t v;

		while (*p == ' ')
			p++;
		len = strcspn(p, " \n");
		if (!len)
			break;
		if (field == 4 || field == 5 || field == 9 ||
		    (field >= 14 && field <= 17) || field == 39) {
			if (len >= sizeof(tok))
				return pb_error_code(PB_EINVAL,
						     "%s: field %d is too long",
						     what, field);
			memcpy(tok, p, len);
			tok[len] = '\0';
			if (pb_parse_u64(&v, tok, 0,
					 field == 9 ? UINT32_MAX
					 : field >= 14 && field <= 17
						 ? UINT64_MAX / 8
						 : INT_MAX,
					 "field") < 0)
				return pb_error_code(PB_EINVAL,
						     "%s: field %d is '%s'", what,
						     field, tok);
			if (field == 4)
				out->ppid = (pid_t)v;
			else if (field == 5)
				out->pgrp = (pid_t)v;
			else if (field == 9)
				out->flags = (unsigned long)v;
			else if (field == 39)
				out->cpu = (int)v;
			else
				out->ticks += v;
		}
		p += len;
		field++;
	}
	if (field <= 39)
		return pb_error_code(PB_EINVAL, "%s: only %d fields", what,
				     field - 1);
	return PB_OK;
}

int pb_pidstat_read(struct pb_pidstat *out, pid_t pid)
{
	/* 52 fields of up to 20 digits and a 64-byte name fit in 2 KiB */
	char path[64], buf[2048];
	int rc;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	/* A per-process file: always the real kernel (NULL root). */
	rc = pb_sys_read(NULL, path, buf, sizeof(buf));
	if (rc)
		return rc == PB_ETOOBIG ? PB_ERROR : PB_ENOTFOUND;
	return pb_pidstat_parse(out, buf, path);
}

struct proc_row {
	pid_t pid, ppid;
	int kthread;
	uint64_t ticks;
	signed char ours;       /* -1 unknown, 0 no, 1 yes */
};

static int cmp_pid(const void *a, const void *b)
{
	const struct proc_row *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static struct proc_row *find(struct proc_row *rows, size_t n, pid_t pid)
{
	struct proc_row key = { .pid = pid };

	return bsearch(&key, rows, n, sizeof(*rows), cmp_pid);
}

/* Whether row r descends from self (or is self); memoised along the way. */
static int is_ours(struct proc_row *rows, size_t n, struct proc_row *r,
		   pid_t self)
{
	struct proc_row *path[ANCESTRY_MAX];
	size_t depth = 0;
	int verdict = 0;

	while (r && r->ours < 0 && depth < ANCESTRY_MAX) {
		if (r->pid == self) {
			verdict = 1;
			break;
		}
		path[depth++] = r;
		if (r->ppid <= 1)
			break;
		r = find(rows, n, r->ppid);
	}
	if (r && r->ours >= 0)
		verdict = r->ours;
	else if (r && r->pid == self)
		r->ours = 1;
	while (depth)
		path[--depth]->ours = (signed char)verdict;
	return verdict;
}

static void read_psi(struct pb_busy_snap *s)
{
	static const char *const files[3] = { "/proc/pressure/cpu",
					      "/proc/pressure/memory",
					      "/proc/pressure/io" };

	for (int i = 0; i < 3; i++) {
		char buf[512], *p;
		uint64_t v;
		int rc = pb_sys_read(NULL, files[i], buf, sizeof(buf));

		if (rc == PB_ENOTFOUND) {
			snprintf(s->psi_note, sizeof(s->psi_note),
				 "unsupported: no %s (a kernel before 4.20, "
				 "without CONFIG_PSI, or booted with psi=0)",
				 files[i]);
			continue;
		}
		if (rc != PB_OK) {
			snprintf(s->psi_note, sizeof(s->psi_note),
				 "unsupported: %s cannot be read (%.80s)",
				 files[i], pb_error_last());
			continue;
		}
		/* "some avg10=0.00 avg60=0.00 avg300=0.00 total=N" */
		p = strstr(buf, "some ");
		p = p ? strstr(p, "total=") : NULL;
		if (!p)
			continue;
		p += 6;
		p[strcspn(p, " \n")] = '\0';
		if (pb_parse_u64(&v, p, 0, UINT64_MAX, "total") == 0) {
			s->have_psi[i] = 1;
			s->psi_some_us[i] = v;
		}
	}
}

static void read_steal(struct pb_busy_snap *s)
{
	char line[512];
	unsigned long long f[8];
	FILE *fp = fopen("/proc/stat", "re");

	/* the first line: "cpu  user nice system idle iowait irq softirq
	 * steal ..." (the file itself grows with the CPUs) */
	if (!fp)
		return;
	if (fgets(line, sizeof(line), fp) && !strncmp(line, "cpu ", 4) &&
	    sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &f[0],
		   &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7]) == 8) {
		s->have_stat = 1;
		s->steal_ticks = f[7];
	}
	fclose(fp);
}

int pb_busy_snap_take(struct pb_busy_snap *out, pid_t self)
{
	struct proc_row *rows = NULL;
	size_t n = 0, alloc = 0;
	struct dirent *d;
	DIR *dir;

	memset(out, 0, sizeof(*out));
	dir = opendir("/proc");
	if (!dir)
		return pb_error_set("cannot list /proc: %s", strerror(errno));
	while ((d = readdir(dir))) {
		struct pb_pidstat st;
		uint64_t pid;

		if (d->d_name[0] < '1' || d->d_name[0] > '9' ||
		    pb_parse_u64(&pid, d->d_name, 1, INT_MAX, "pid") < 0 ||
		    pb_pidstat_read(&st, (pid_t)pid) < 0)
			continue; /* not a process, or gone meanwhile */
		if (n == alloc) {
			size_t na = alloc ? 2 * alloc : 256;
			struct proc_row *nr = realloc(rows, na * sizeof(*nr));

			if (!nr) {
				closedir(dir);
				free(rows);
				return pb_error_set("out of memory");
			}
			rows = nr;
			alloc = na;
		}
		rows[n++] = (struct proc_row){ (pid_t)pid, st.ppid,
					       !!(st.flags & PB_PF_KTHREAD),
					       st.ticks, -1 };
	}
	closedir(dir);
	if (n)
		qsort(rows, n, sizeof(*rows), cmp_pid);
	for (size_t i = 0; i < n; i++) {
		if (rows[i].kthread || is_ours(rows, n, &rows[i], self))
			continue;
		out->others_ticks += rows[i].ticks;
		out->procs++;
	}
	free(rows);
	read_steal(out);
	read_psi(out);
	out->t = pb_now_mono();
	return PB_OK;
}

void pb_interference_of(struct pb_interference *out,
			const struct pb_busy_snap *before,
			const struct pb_busy_snap *after, unsigned ncpus,
			double threshold_cpus)
{
	long hz = sysconf(_SC_CLK_TCK);
	double tick = hz > 0 ? 1.0 / (double)hz : 0.01;
	double others_ticks, steal_ticks = 0;

	memset(out, 0, sizeof(*out));
	out->interval_s = after->t - before->t;
	if (out->interval_s <= 0)
		out->interval_s = tick;
	/* The sum may shrink: a process that ended was not reaped by one we
	 * count (its time is gone with it). */
	others_ticks = after->others_ticks >= before->others_ticks
			       ? (double)(after->others_ticks -
					  before->others_ticks)
			       : 0.0;
	out->others_cpu_s = others_ticks * tick;
	out->steal_s = NAN;
	if (before->have_stat && after->have_stat &&
	    after->steal_ticks >= before->steal_ticks) {
		steal_ticks = (double)(after->steal_ticks - before->steal_ticks);
		out->steal_s = steal_ticks * tick;
	}
	out->others_cpus = out->others_cpu_s / out->interval_s;
	out->share = out->others_cpus / (ncpus ? ncpus : 1);
	for (int i = 0; i < 3; i++)
		out->psi_some[i] =
			before->have_psi[i] && after->have_psi[i] &&
					after->psi_some_us[i] >=
						before->psi_some_us[i]
				? (double)(after->psi_some_us[i] -
					   before->psi_some_us[i]) /
					  1e6 / out->interval_s
				: NAN;
	pb_strlcpy(out->psi_note, after->psi_note[0] ? after->psi_note
						     : before->psi_note,
		   sizeof(out->psi_note));
	if (threshold_cpus > 0 && others_ticks + steal_ticks >= 2 &&
	    (others_ticks + steal_ticks) * tick / out->interval_s >=
		    threshold_cpus) {
		out->disturbed = 1;
		snprintf(out->why, sizeof(out->why),
			 "other work held %.2f CPUs on average during the "
			 "run (%.0f ms of CPU in %.0f ms%s; threshold %.2f)",
			 (others_ticks + steal_ticks) * tick / out->interval_s,
			 (others_ticks + steal_ticks) * tick * 1e3,
			 out->interval_s * 1e3,
			 steal_ticks > 0 ? ", steal included" : "",
			 threshold_cpus);
	}
}
