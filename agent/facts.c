/*
 * facts.c - the machine facts of a run, and readers of kernel list and
 * choice formats (see facts.h).
 *
 * Lists are bitmaps of PB_IDSET_MAX bits, enough for any CPU count Linux
 * ships with a default config; a longer list is an error, not a silent
 * truncation.  The NIC's IRQs come from its msi_irqs directory, never from
 * grepping /proc/interrupts for driver-specific names.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/err.h"
#include "common/sysroot.h"
#include "agent/facts.h"
#include "agent/numa.h"
#include "common/util.h"

#define CPUINFO_MAX (64 * 1024) /* the first CPU's block is all we need */
#define NIC_IRQS_MAX 4096

/* --- id sets ------------------------------------------------------------ */

int pb_idset_has(const struct pb_idset *s, unsigned id)
{
	return id < PB_IDSET_MAX && (s->bits[id / 64] >> (id % 64) & 1);
}

void pb_idset_add(struct pb_idset *s, unsigned id)
{
	if (id < PB_IDSET_MAX)
		s->bits[id / 64] |= (uint64_t)1 << (id % 64);
}

unsigned pb_idset_count(const struct pb_idset *s)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < PB_ARRAY_SIZE(s->bits); i++)
		n += (unsigned)__builtin_popcountll(s->bits[i]);
	return n;
}

int pb_idset_nth(const struct pb_idset *s, unsigned n)
{
	unsigned id;

	for (id = 0; id < PB_IDSET_MAX; id++)
		if (pb_idset_has(s, id) && n-- == 0)
			return (int)id;
	return -1;
}

int pb_idset_parse(struct pb_idset *out, const char *list, const char *what)
{
	unsigned dropped = 0;

	if (pb_numa_list_parse(out->bits, PB_IDSET_MAX, list, NULL,
			       &dropped) < 0 ||
	    dropped)
		return pb_error_code(PB_EINVAL,
				     "%s: '%s' is not a list like 0-3,8 (ids "
				     "below %d)",
				     what, list, PB_IDSET_MAX);
	return PB_OK;
}

int pb_idset_format(char *out, size_t size, const struct pb_idset *s)
{
	size_t len = 0;
	unsigned id = 0;

	if (size == 0)
		return pb_error_code(PB_ETOOBIG, "no room for a list");
	out[0] = '\0';
	while (id < PB_IDSET_MAX) {
		unsigned lo, hi;
		int n;

		if (!pb_idset_has(s, id)) {
			id++;
			continue;
		}
		lo = hi = id;
		while (hi + 1 < PB_IDSET_MAX && pb_idset_has(s, hi + 1))
			hi++;
		if (lo == hi)
			n = snprintf(out + len, size - len, "%s%u", len ? "," : "",
				     lo);
		else
			n = snprintf(out + len, size - len, "%s%u-%u",
				     len ? "," : "", lo, hi);
		if (n < 0 || (size_t)n >= size - len) {
			out[len] = '\0';
			return pb_error_code(PB_ETOOBIG,
					     "list longer than %zu bytes", size - 1);
		}
		len += (size_t)n;
		id = hi + 1;
	}
	return PB_OK;
}

/* --- choice files, names, the NIC ---------------------------------------- */

int pb_bracketed_word(char *out, size_t size, const char *text)
{
	const char *open = strchr(text, '['), *close, *word;
	size_t len;

	if (open) {
		close = strchr(open + 1, ']');
		if (!close || strchr(close + 1, '['))
			goto bad;
		word = open + 1;
		len = (size_t)(close - word);
	} else {
		word = text;
		while (isspace((unsigned char)*word))
			word++;
		len = strcspn(word, " \t\n");
		if (word[len + strspn(word + len, " \t\n")] != '\0')
			goto bad;
	}
	if (len == 0 || memchr(word, ' ', len))
		goto bad;
	if (len >= size)
		return pb_error_code(PB_ETOOBIG, "'%.*s' is too long", (int)len,
				     word);
	memcpy(out, word, len);
	out[len] = '\0';
	return PB_OK;
bad:
	return pb_error_code(PB_EINVAL,
			     "'%s' has no active choice (like 'a [b] c')", text);
}

int pb_nic_name_check(const char *nic)
{
	size_t i, len = nic ? strlen(nic) : 0;

	if (len == 0 || len > 15 || !strcmp(nic, ".") || !strcmp(nic, ".."))
		goto bad;
	for (i = 0; i < len; i++)
		if (nic[i] == '/' || isspace((unsigned char)nic[i]) ||
		    !isprint((unsigned char)nic[i]))
			goto bad;
	return PB_OK;
bad:
	return pb_error_code(PB_EINVAL, "'%s' is not a network interface name",
			     nic ? nic : "");
}

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

int pb_nic_irqs(unsigned **out, size_t *n, const char *root, const char *nic)
{
	char rel[128], path[4096];
	unsigned *irqs = NULL;
	size_t count = 0;
	struct dirent *de;
	DIR *d;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = pb_nic_name_check(nic)))
		return rc;
	snprintf(rel, sizeof(rel), "/sys/class/net/%s/device/msi_irqs", nic);
	if ((rc = pb_sys_path(path, sizeof(path), root, rel)))
		return rc;
	d = opendir(path);
	if (!d)
		return pb_error_code(errno == ENOENT ? PB_ENOTFOUND : PB_ERROR,
				     "cannot list the IRQs of '%s' (%s): %s", nic,
				     path, strerror(errno));
	irqs = malloc(NIC_IRQS_MAX * sizeof(*irqs));
	if (!irqs) {
		closedir(d);
		return pb_error_set("out of memory");
	}
	while ((de = readdir(d)) != NULL) {
		const char *p = de->d_name;
		long irq = 0;

		if (!isdigit((unsigned char)*p))
			continue; /* ".", "..", anything but an IRQ number */
		while (isdigit((unsigned char)*p) && irq < 1L << 24)
			irq = irq * 10 + (*p++ - '0');
		if (*p || irq >= 1L << 24)
			continue;
		if (count == NIC_IRQS_MAX) {
			closedir(d);
			free(irqs);
			return pb_error_set("'%s' has more than %d IRQs", nic,
					    NIC_IRQS_MAX);
		}
		irqs[count++] = (unsigned)irq;
	}
	closedir(d);
	if (count == 0) {
		free(irqs);
		return PB_OK;
	}
	qsort(irqs, count, sizeof(*irqs), cmp_unsigned);
	*out = irqs;
	*n = count;
	return PB_OK;
}

int pb_nic_node(const char *root, const char *nic)
{
	char rel[128], buf[32];
	uint64_t v;

	if (pb_nic_name_check(nic))
		return -1;
	snprintf(rel, sizeof(rel), "/sys/class/net/%s/device/numa_node", nic);
	if (pb_sys_read(root, rel, buf, sizeof(buf)) ||
	    pb_parse_u64(&v, buf, 0, PB_IDSET_MAX - 1, "numa_node"))
		return -1; /* "-1" itself, a missing file, garbage: unknown */
	return (int)v;
}

int pb_machine_kernel(char *out, size_t size, const char *root)
{
	struct utsname u;

	if (pb_sys_read(root, "/proc/sys/kernel/osrelease", out, size) == PB_OK &&
	    out[0])
		return PB_OK;
	if (uname(&u) < 0)
		return pb_error_set("cannot read the kernel release: %s",
				    strerror(errno));
	pb_strlcpy(out, u.release, size);
	return PB_OK;
}

/* The value of the first "KEY<blanks>: value" line of cpuinfo text, copied
 * into out; 0 when there is none. */
static int cpuinfo_value(char *out, size_t size, const char *text,
			 const char *key)
{
	size_t klen = strlen(key);
	const char *line = text;

	while (line && *line) {
		const char *nl = strchr(line, '\n'), *p = line + klen;
		size_t len;

		if (!strncmp(line, key, klen) && (*p == ' ' || *p == '\t' ||
						  *p == ':')) {
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p++ == ':') {
				while (*p == ' ' || *p == '\t')
					p++;
				len = nl ? (size_t)(nl - p) : strlen(p);
				while (len && isspace((unsigned char)p[len - 1]))
					len--;
				if (len) {
					if (len >= size)
						len = size - 1;
					memcpy(out, p, len);
					out[len] = '\0';
					return 1;
				}
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

void pb_cpu_model_from_cpuinfo(char *out, size_t size, const char *cpuinfo)
{
	char impl[32], part[32];

	if (size == 0)
		return;
	if (cpuinfo_value(out, size, cpuinfo, "model name"))
		return;
	if (cpuinfo_value(impl, sizeof(impl), cpuinfo, "CPU implementer") &&
	    cpuinfo_value(part, sizeof(part), cpuinfo, "CPU part")) {
		snprintf(out, size, "CPU implementer %s, part %s", impl, part);
		return;
	}
	pb_strlcpy(out, "unknown", size);
}

/* --- collecting ---------------------------------------------------------- */

static void read_cpu_model(char *out, size_t size)
{
	char *text = malloc(CPUINFO_MAX);
	size_t len = 0;
	FILE *f;

	pb_strlcpy(out, "unknown", size);
	if (!text)
		return;
	f = fopen("/proc/cpuinfo", "re");
	if (f) {
		len = fread(text, 1, CPUINFO_MAX - 1, f);
		fclose(f);
		text[len] = '\0';
		pb_cpu_model_from_cpuinfo(out, size, text);
	}
	free(text);
}

static void read_choice(char *out, size_t size, const char *root,
			const char *abs)
{
	char buf[256];

	out[0] = '\0';
	if (pb_sys_read(root, abs, buf, sizeof(buf)) ||
	    pb_bracketed_word(out, size, buf))
		out[0] = '\0';
}

static int collect_irqs(struct pb_facts *f, const struct pb_machine *m)
{
	unsigned *irqs = NULL;
	size_t n = 0, i;

	if (pb_nic_irqs(&irqs, &n, m->root, m->nic)) {
		snprintf(f->irq_note, sizeof(f->irq_note), "%s", pb_error_last());
		return PB_OK;
	}
	if (n == 0) {
		snprintf(f->irq_note, sizeof(f->irq_note),
			 "interface '%s' has no MSI IRQs", m->nic);
		return PB_OK;
	}
	f->irqs = calloc(n, sizeof(*f->irqs));
	if (!f->irqs) {
		free(irqs);
		return pb_error_set("out of memory");
	}
	for (i = 0; i < n; i++) {
		char rel[64];

		f->irqs[i].irq = irqs[i];
		snprintf(rel, sizeof(rel), "/proc/irq/%u/smp_affinity_list",
			 irqs[i]);
		if (pb_sys_read(m->root, rel, f->irqs[i].cpus,
				sizeof(f->irqs[i].cpus)))
			f->irqs[i].cpus[0] = '\0';
	}
	f->n_irqs = n;
	free(irqs);
	return PB_OK;
}

/* The distinct cpufreq governors of the machine's CPUs, comma-separated. */
static void read_governors(char *out, size_t size, const char *root)
{
	char path[96], buf[64];
	int misses = 0;

	out[0] = '\0';
	for (int cpu = 0; cpu < PB_IDSET_MAX && misses < 64; cpu++) {
		snprintf(path, sizeof(path),
			 "/sys/devices/system/cpu/cpu%d/cpufreq/scaling_governor",
			 cpu);
		if (pb_sys_read(root, path, buf, sizeof(buf)) != PB_OK) {
			misses++; /* offline CPUs leave gaps */
			continue;
		}
		misses = 0;
		if (!buf[0] || strchr(buf, ','))
			continue;
		/* distinct names only: look for ",name," in ",out," */
		{
			char have[80], want[80];

			snprintf(have, sizeof(have), ",%s,", out);
			snprintf(want, sizeof(want), ",%s,", buf);
			if (strstr(have, want))
				continue;
		}
		if (strlen(out) + strlen(buf) + 2 > size)
			break;
		if (out[0])
			pb_strlcpy(out + strlen(out), ",", size - strlen(out));
		pb_strlcpy(out + strlen(out), buf, size - strlen(out));
	}
}

static void read_drift_facts(struct pb_facts *f, const char *root)
{
	char buf[256];

	read_governors(f->governor, sizeof(f->governor), root);
	if (pb_sys_read(root, "/sys/devices/system/cpu/cpufreq/boost", buf,
			sizeof(buf)) == PB_OK && (!strcmp(buf, "0") ||
						  !strcmp(buf, "1")))
		pb_strlcpy(f->boost, buf[0] == '1' ? "on" : "off",
			   sizeof(f->boost));
	else if (pb_sys_read(root,
			     "/sys/devices/system/cpu/intel_pstate/no_turbo",
			     buf, sizeof(buf)) == PB_OK &&
		 (!strcmp(buf, "0") || !strcmp(buf, "1")))
		pb_strlcpy(f->boost, buf[0] == '0' ? "on" : "off",
			   sizeof(f->boost));
	if (pb_sys_read(root, "/sys/devices/system/cpu/smt/active", buf,
			sizeof(buf)) == PB_OK && !strcmp(buf, "1"))
		pb_strlcpy(f->smt, "on", sizeof(f->smt));
	else if (pb_sys_read(root, "/sys/devices/system/cpu/smt/control", buf,
			     sizeof(buf)) == PB_OK && buf[0] &&
		 strlen(buf) < sizeof(f->smt))
		pb_strlcpy(f->smt, !strcmp(buf, "on") ? "off" : buf,
			   sizeof(f->smt));
	if (pb_sys_read(root, "/sys/devices/system/cpu/isolated", buf,
			sizeof(buf)) == PB_OK && strlen(buf) < sizeof(f->isolated))
		pb_strlcpy(f->isolated, buf, sizeof(f->isolated));
	if (pb_sys_read(root, "/sys/devices/system/cpu/nohz_full", buf,
			sizeof(buf)) == PB_OK && strlen(buf) < sizeof(f->nohz_full) &&
	    strcmp(buf, "(null)"))
		pb_strlcpy(f->nohz_full, buf, sizeof(f->nohz_full));
}

void pb_facts_noise_warnings(char *out, size_t size, const struct pb_facts *f)
{
	size_t len;

	if (size == 0)
		return;
	out[0] = '\0';
	if (f->governor[0] && strcmp(f->governor, "performance"))
		snprintf(out, size,
			 "the CPU frequency governor is '%s', not "
			 "'performance': the clock, and so run times, move "
			 "with the load (cpupower frequency-set -g "
			 "performance)\n",
			 f->governor);
	len = strlen(out);
	if (!strcmp(f->boost, "on") && len < size)
		snprintf(out + len, size - len,
			 "turbo/boost is on: the clock depends on temperature "
			 "and on what the other cores do (echo 0 > "
			 "/sys/devices/system/cpu/cpufreq/boost, or echo 1 > "
			 "/sys/devices/system/cpu/intel_pstate/no_turbo)\n");
}

int pb_facts_collect(struct pb_facts *out, const struct pb_machine *m)
{
	struct pb_idset nodes;
	char buf[256];
	uint64_t v;

	memset(out, 0, sizeof(*out));
	out->zone_reclaim_mode = -1;
	out->nic_node = -1;
	if (pb_machine_kernel(out->kernel, sizeof(out->kernel), m->root))
		out->kernel[0] = '\0';
	read_cpu_model(out->cpu_model, sizeof(out->cpu_model));
	if (pb_sys_read(m->root, "/sys/devices/system/node/online", buf,
			sizeof(buf)) == PB_OK &&
	    pb_idset_parse(&nodes, buf, "node/online") == PB_OK &&
	    strlen(buf) < sizeof(out->numa_online)) {
		pb_strlcpy(out->numa_online, buf, sizeof(out->numa_online));
		out->numa_nodes = (int)pb_idset_count(&nodes);
	}
	if (m->snoop)
		pb_strlcpy(out->snoop, m->snoop, sizeof(out->snoop));
	read_drift_facts(out, m->root);
	read_choice(out->thp_enabled, sizeof(out->thp_enabled), m->root,
		    "/sys/kernel/mm/transparent_hugepage/enabled");
	read_choice(out->thp_defrag, sizeof(out->thp_defrag), m->root,
		    "/sys/kernel/mm/transparent_hugepage/defrag");
	if (pb_sys_read(m->root, "/proc/sys/vm/zone_reclaim_mode", buf,
			sizeof(buf)) == PB_OK &&
	    pb_parse_u64(&v, buf, 0, 255, "zone_reclaim_mode") == PB_OK)
		out->zone_reclaim_mode = (int)v;
	if (!m->nic) {
		pb_strlcpy(out->irq_note, "no network interface configured (--nic)",
			   sizeof(out->irq_note));
		return PB_OK;
	}
	pb_strlcpy(out->nic, m->nic, sizeof(out->nic));
	out->nic_node = pb_nic_node(m->root, m->nic);
	return collect_irqs(out, m);
}

void pb_facts_release(struct pb_facts *f)
{
	if (!f)
		return;
	free(f->irqs);
	f->irqs = NULL;
	f->n_irqs = 0;
}
