/*
 * numa.c - NUMA topology, start placement, memory placement from
 * numa_maps, and NUMA counters (see numa.h).
 *
 * Memory placement.  /proc/PID/numa_maps prints one line per mapping with
 * its pages per node, but no permissions, and names files with the octal
 * escapes of seq_path ("\040" for a space, "\075" for '=').  /proc/PID/maps
 * prints the same mappings in the same order with permissions and the path
 * (only a newline escaped).  The two are joined by start address and each
 * mapping gets one kind, from maps alone:
 *
 *   - a file mapping of the executable (/proc/PID/exe) that is writable is
 *     DATA: .data, .got.plt, and the start of .bss that shares the last page
 *     of the file (the page of the first field note);
 *   - any other file mapping of the executable is TEXT (code, read-only
 *     data, and RELRO, which is read-only once relocated);
 *   - a writable anonymous mapping whose start is the end of the previous
 *     mapping, when that one is the executable's image (or already BSS), is
 *     BSS: the ELF loader maps the rest of the last PT_LOAD's p_memsz as
 *     anonymous memory right behind the file.  Chaining lets a .bss that the
 *     program split with mprotect/madvise stay BSS;
 *   - "[heap]" is HEAP (the brk area only; malloc's mmap'd arenas are
 *     OTHER), "[stack]" is STACK (the main thread's; thread stacks are
 *     anonymous mappings and OTHER);
 *   - everything else - shared libraries and their own .data/.bss, mmap'd
 *     memory, sanitizer shadow - is OTHER.
 * Where maps has no line for a numa_maps address (the process mapped or
 * unmapped between the two reads), numa_maps's own heap/stack label decides
 * and the line is counted as unmatched.  The rule needs no ELF parsing and
 * no symbol tables, survives PIE and non-PIE, ASLR and ASan (whose huge
 * shadow mappings are anonymous but never adjacent to the image), and
 * attributes by the executable's path, as the run record wants.
 *
 * Processes of a run are found in one of two ways (enum pb_numa_scope):
 *   - TREE follows /proc/PID/task/TID/children down from the run command
 *     (CONFIG_PROC_CHILDREN, Linux 3.5+): it reads only the run's own
 *     processes, a few microseconds each;
 *   - GROUP reads /proc/PID/stat of every process of the machine and keeps
 *     descendants by parent pid plus whatever is still in the process group
 *     the run command leads - which also finds a process whose parent
 *     exited (reparented out of the tree), at about 10 us per process of
 *     the machine.
 * TREE falls back to GROUP on a kernel without the children files.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <numa.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/facts.h"
#include "agent/interfere.h"
#include "agent/numa.h"
#include "common/err.h"
#include "common/sysroot.h"
#include "common/util.h"

#define NODE_ROOT "/sys/devices/system/node"
#define LINUX_MAX_NODES 1024     /* MAX_NUMNODES with NODES_SHIFT=10 */
#define BIG_READ (64 * 1024)     /* cpulists, online lists, vmstat */
#define MAX_PROCS (1u << 20)     /* processes listed per sample */

/* ---- small helpers ---------------------------------------------------- */

/* Parses exactly len decimal digits into *v; 0 when they are not all
 * digits, or overflow. */
static int digits_u64(const char *s, size_t len, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return 0;
		d = (unsigned)(s[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return 0;
		x = x * 10 + d;
	}
	*v = x;
	return 1;
}

static int hexdigits_u64(const char *s, size_t len, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (len == 0 || len > 16)
		return 0;
	for (i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (!isxdigit(c))
			return 0;
		x = (x << 4) | (uint64_t)(isdigit(c) ? c - '0'
					     : tolower(c) - 'a' + 10);
	}
	*v = x;
	return 1;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The next blank-separated token at or after *p: its start, length in
 * *len; NULL at the end.  Advances *p past it. */
static const char *next_token(const char **p, size_t *len)
{
	const char *s = *p, *e;

	while (*s && is_blank(*s))
		s++;
	if (!*s)
		return NULL;
	e = s;
	while (*e && !is_blank(*e))
		e++;
	*len = (size_t)(e - s);
	*p = e;
	return s;
}

static int tok_is(const char *t, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(t, word, len) == 0;
}

/* Appends len bytes of s (and a separator first, when sep and dst is not
 * empty) to dst of size; returns 1 when something did not fit. */
static int append(char *dst, size_t size, const char *sep, const char *s,
		  size_t len)
{
	size_t have = strlen(dst);
	int cut = 0;

	if (sep && have) {
		size_t sl = strlen(sep);

		if (have + sl >= size)
			return 1;
		memcpy(dst + have, sep, sl);
		have += sl;
	}
	if (have + len >= size) {
		len = size - 1 - have;
		cut = 1;
	}
	memcpy(dst + have, s, len);
	dst[have + len] = '\0';
	return cut;
}

/* ---- lists ------------------------------------------------------------ */

int pb_numa_list_parse(uint64_t *mask, unsigned nbits, const char *list,
		       unsigned *count, unsigned *dropped)
{
	const char *p = list;
	unsigned n = 0, drop = 0;

	memset(mask, 0, ((nbits + 63) / 64) * sizeof(uint64_t));
	while (*p && is_blank(*p))
		p++;
	while (*p) {
		unsigned long a, b;
		char *end;

		if (!isdigit((unsigned char)*p))
			goto bad;
		errno = 0;
		a = strtoul(p, &end, 10);
		if (errno || a > INT_MAX)
			goto bad;
		b = a;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				goto bad;
			b = strtoul(p, &end, 10);
			if (errno || b > INT_MAX || b < a)
				goto bad;
			p = end;
		}
		for (unsigned long v = a; v <= b; v++) {
			if (v >= nbits) {
				drop += (unsigned)(b - v + 1);
				break;
			}
			if (!(mask[v / 64] & (1ull << (v % 64)))) {
				mask[v / 64] |= 1ull << (v % 64);
				n++;
			}
		}
		if (*p == ',') {
			p++;
			if (!isdigit((unsigned char)*p))
				goto bad; /* "0-3," */
			continue;
		}
		while (*p && is_blank(*p))
			p++;
		if (*p)
			goto bad;
	}
	if (count)
		*count = n;
	if (dropped)
		*dropped = drop;
	return PB_OK;
bad:
	return pb_error_code(PB_EINVAL, "not a list of numbers: '%s'", list);
}

static int bit_is_set(const uint64_t *mask, unsigned bit)
{
	return (mask[bit / 64] >> (bit % 64)) & 1;
}

/* ---- topology --------------------------------------------------------- */

int pb_numa_topology_read(struct pb_numa_topology *out, const char *root)
{
	uint64_t online[LINUX_MAX_NODES / 64], memory[LINUX_MAX_NODES / 64];
	uint64_t *cpus = NULL;
	int all_ids[LINUX_MAX_NODES];
	unsigned n_all = 0, count, dropped;
	char *buf = NULL, path[128];
	int rc, have_memory_file = 1;

	memset(out, 0, sizeof(*out));
	for (unsigned c = 0; c < PB_NUMA_MAX_CPUS; c++)
		out->cpu_node[c] = -1;
	buf = malloc(BIG_READ);
	cpus = calloc(PB_NUMA_MAX_CPUS / 64, sizeof(uint64_t));
	if (!buf || !cpus) {
		rc = pb_error_set("out of memory");
		goto out;
	}

	rc = pb_sys_read(root, NODE_ROOT "/online", buf, BIG_READ);
	if (rc)
		goto out;
	rc = pb_numa_list_parse(online, LINUX_MAX_NODES, buf, &count, &dropped);
	if (rc || dropped) {
		rc = pb_error_code(PB_EINVAL, "%s/online: bad node list '%s'",
				   NODE_ROOT, buf);
		goto out;
	}
	rc = pb_sys_read(root, NODE_ROOT "/has_memory", buf, BIG_READ);
	if (rc == PB_ENOTFOUND) {
		have_memory_file = 0;
	} else if (rc) {
		goto out;
	} else {
		rc = pb_numa_list_parse(memory, LINUX_MAX_NODES, buf, NULL,
					NULL);
		if (rc)
			goto out;
	}
	for (unsigned id = 0; id < LINUX_MAX_NODES; id++)
		if (bit_is_set(online, id))
			all_ids[n_all++] = (int)id;

	for (unsigned i = 0; i < n_all; i++) {
		int id = all_ids[i];
		struct pb_numa_node *nd;
		const char *p;
		unsigned j = 0;

		if (id >= PB_NUMA_MAX_NODES) {
			out->truncated = 1;
			continue;
		}
		nd = &out->node[id];
		nd->online = 1;
		nd->has_memory = have_memory_file ? bit_is_set(memory, (unsigned)id)
						  : 1;
		out->node_ids[out->nnodes++] = id;

		snprintf(path, sizeof(path), NODE_ROOT "/node%d/cpulist", id);
		rc = pb_sys_read(root, path, buf, BIG_READ);
		if (rc)
			goto out;
		rc = pb_numa_list_parse(cpus, PB_NUMA_MAX_CPUS, buf,
					&nd->ncpus, &dropped);
		if (rc) {
			rc = pb_error_code(PB_EINVAL, "%s: %s", path,
					   pb_error_last());
			goto out;
		}
		if (dropped)
			out->truncated = 1;
		if (append(nd->cpulist, sizeof(nd->cpulist), NULL, buf,
			   strlen(buf)))
			memcpy(nd->cpulist + sizeof(nd->cpulist) - 4, "...", 4);
		for (unsigned c = 0; c < PB_NUMA_MAX_CPUS; c++) {
			if (!bit_is_set(cpus, c))
				continue;
			if (out->cpu_node[c] >= 0) {
				rc = pb_error_code(PB_EINVAL,
						   "CPU %u is in node %d and node %d",
						   c, out->cpu_node[c], id);
				goto out;
			}
			out->cpu_node[c] = (int16_t)id;
			out->ncpus++;
		}

		snprintf(path, sizeof(path), NODE_ROOT "/node%d/distance", id);
		rc = pb_sys_read(root, path, buf, BIG_READ);
		if (rc)
			goto out;
		p = buf;
		for (;;) {
			size_t len;
			const char *t = next_token(&p, &len);
			uint64_t d;

			if (!t)
				break;
			if (!digits_u64(t, len, &d) || d > UINT16_MAX) {
				rc = pb_error_code(PB_EINVAL,
						   "%s: '%.*s' is not a distance",
						   path, (int)len, t);
				goto out;
			}
			if (j < n_all && all_ids[j] < PB_NUMA_MAX_NODES)
				nd->distance[all_ids[j]] = (uint16_t)d;
			j++;
		}
		if (j != n_all) {
			rc = pb_error_code(PB_EINVAL,
					   "%s lists %u distances for %u online nodes",
					   path, j, n_all);
			goto out;
		}
	}
	rc = PB_OK;
out:
	free(cpus);
	free(buf);
	return rc;
}

int pb_numa_node_of_cpu(const struct pb_numa_topology *t, int cpu)
{
	if (!t || cpu < 0 || cpu >= PB_NUMA_MAX_CPUS)
		return -1;
	return t->cpu_node[cpu];
}

/* ---- start placement -------------------------------------------------- */

/* The CPUs of `node` in `allowed`, as a set; how many. */
static unsigned node_cpus(struct pb_idset *out, const struct pb_numa_topology *t,
			  int node, const struct pb_idset *allowed)
{
	memset(out, 0, sizeof(*out));
	for (int c = 0; c < PB_NUMA_MAX_CPUS; c++)
		if (pb_idset_has(allowed, (unsigned)c) &&
		    pb_numa_node_of_cpu(t, c) == node)
			pb_idset_add(out, (unsigned)c);
	return pb_idset_count(out);
}

int pb_numa_pick_start_node(struct pb_numa_start *out,
			    const struct pb_numa_topology *t,
			    const struct pb_idset *allowed, unsigned run_index)
{
	const unsigned bits = 8 * sizeof(unsigned long);
	struct pb_idset *mine = NULL, *held = NULL;
	int usable[PB_NUMA_MAX_NODES];
	unsigned nusable = 0;
	int id, rc = PB_OK;
	char msg[192];

	memset(out, 0, sizeof(*out));
	out->node = -1;
	mine = malloc(sizeof(*mine));
	held = malloc(sizeof(*held));
	if (!mine || !held) {
		rc = pb_error_set("out of memory");
		goto out;
	}
	if (!allowed) {
		cpu_set_t set;

		if (sched_getaffinity(0, sizeof(set), &set) < 0) {
			rc = pb_error_set("cannot read the CPU affinity: %s",
					  strerror(errno));
			goto out;
		}
		memset(mine, 0, sizeof(*mine));
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				pb_idset_add(mine, (unsigned)c);
		allowed = mine;
	}
	for (unsigned i = 0; t && i < t->nnodes; i++) {
		id = t->node_ids[i];
		if (node_cpus(held, t, id, allowed) > 0) {
			usable[nusable++] = id;
			continue;
		}
		if (t->node[id].ncpus == 0)
			continue; /* memory only: nothing to start on */
		snprintf(msg, sizeof(msg),
			 "node %d (CPUs %s) has no CPU this machine allows",
			 id, t->node[id].cpulist);
		append(out->note, sizeof(out->note), "; ", msg, strlen(msg));
	}
	if (nusable < 2) {
		const char *why =
			!t ? "no NUMA topology: not held, the scheduler places "
			     "the run"
			: nusable ? "one NUMA node: not held, the scheduler "
				    "places the run"
				  : "no node has a CPU this process may use: not "
				    "held, the scheduler places the run";
		append(out->note, sizeof(out->note), "; ", why, strlen(why));
		goto out;
	}
	id = usable[run_index % nusable];
	if (node_cpus(held, t, id, allowed) < 2) {
		snprintf(msg, sizeof(msg),
			 "node %d has one CPU this process may use: not held "
			 "(one CPU would serialise the benchmark's threads)",
			 id);
		append(out->note, sizeof(out->note), "; ", msg, strlen(msg));
		goto out;
	}
	for (unsigned c = 0; c < PB_NUMA_MAX_CPUS; c++)
		if (pb_idset_has(held, c))
			out->mask[c / bits] |= 1ul << (c % bits);
	if (pb_idset_format(out->cpus, sizeof(out->cpus), held) < 0)
		pb_strlcpy(out->cpus, "(too long to list)", sizeof(out->cpus));
	out->ncpus = pb_idset_count(held);
	out->node = id;
out:
	free(mine);
	free(held);
	return rc;
}

int pb_numa_hold(pid_t pid, const unsigned long *mask)
{
	/* The raw system call: no allocation, nothing but the kernel. */
	if (syscall(SYS_sched_setaffinity, pid,
		    PB_NUMA_MASK_LONGS * sizeof(unsigned long), mask) < 0)
		return PB_ERROR;
	return PB_OK;
}

int pb_numa_is_held(pid_t tid, const unsigned long *mask)
{
	unsigned long cur[PB_NUMA_MASK_LONGS];
	long got;

	memset(cur, 0, sizeof(cur));
	got = syscall(SYS_sched_getaffinity, tid, sizeof(cur), cur);
	if (got < 0)
		return PB_ERROR;
	return memcmp(cur, mask, sizeof(cur)) == 0;
}

int pb_numa_pin(pid_t pid, int cpu)
{
	unsigned long mask[PB_NUMA_MAX_CPUS / (8 * sizeof(unsigned long))];
	const unsigned bits = 8 * sizeof(unsigned long);

	if (cpu < 0 || cpu >= PB_NUMA_MAX_CPUS) {
		errno = EINVAL;
		return PB_ERROR;
	}
	memset(mask, 0, sizeof(mask));
	mask[(unsigned)cpu / bits] |= 1ul << ((unsigned)cpu % bits);
	/* The raw system call: no allocation, nothing but the kernel. */
	if (syscall(SYS_sched_setaffinity, pid, sizeof(mask), mask) < 0)
		return PB_ERROR;
	return PB_OK;
}

/* PF_EXITING (include/linux/sched.h): the task is in do_exit() and its
 * memory may be half unmapped. */
#define TASK_PF_EXITING 0x4UL

int pb_numa_pid_cpu(int *out, pid_t pid)
{
	struct pb_pidstat sf;
	int rc = pb_pidstat_read(&sf, pid);

	if (rc == PB_ENOTFOUND)
		return pb_error_code(PB_ENOTFOUND, "process %d is gone",
				     (int)pid);
	if (rc)
		return rc;
	*out = sf.cpu;
	return PB_OK;
}

/* ---- numa_maps lines -------------------------------------------------- */

static const struct {
	const char *name;
	enum pb_mpol mode;
} mpol_names[] = {
	/* longest first: "prefer (many)" before "prefer" */
	{ "weighted interleave", PB_MPOL_WEIGHTED_INTERLEAVE },
	{ "prefer (many)", PB_MPOL_PREFERRED_MANY },
	{ "interleave", PB_MPOL_INTERLEAVE },
	{ "default", PB_MPOL_DEFAULT },
	{ "prefer", PB_MPOL_PREFERRED },
	{ "local", PB_MPOL_LOCAL },
	{ "bind", PB_MPOL_BIND },
};

/* numa_maps fields with a number. */
enum nm_field {
	F_ANON, F_DIRTY, F_MAPPED, F_MAPMAX, F_SWAPCACHE, F_ACTIVE,
	F_WRITEBACK, F_PAGESIZE, F_NONE
};

static const char *const field_names[] = {
	"anon", "dirty", "mapped", "mapmax", "swapcache", "active",
	"writeback", "kernelpagesize_kB",
};

static enum nm_field known_field(const char *key, size_t len)
{
	for (unsigned i = 0; i < PB_ARRAY_SIZE(field_names); i++)
		if (tok_is(key, len, field_names[i]))
			return (enum nm_field)i;
	return F_NONE;
}

/* "N<digits>" */
static int is_node_key(const char *key, size_t len)
{
	uint64_t v;

	return len >= 2 && key[0] == 'N' && digits_u64(key + 1, len - 1, &v);
}

/* Whether a token is a field (so it ends the policy, or a file name that an
 * old kernel printed with raw spaces). */
static int is_field(const char *t, size_t len)
{
	const char *eq = memchr(t, '=', len);
	uint64_t v;

	if (tok_is(t, len, "heap") || tok_is(t, len, "stack") ||
	    tok_is(t, len, "huge"))
		return 1;
	if (len > 6 && memcmp(t, "stack:", 6) == 0 &&
	    digits_u64(t + 6, len - 6, &v))
		return 1;
	if (!eq)
		return 0;
	if (tok_is(t, (size_t)(eq - t), "file"))
		return 1;
	if (known_field(t, (size_t)(eq - t)) != F_NONE ||
	    is_node_key(t, (size_t)(eq - t)))
		return 1;
	/* an unknown counter: name=digits, the name a C identifier */
	if (eq == t || !(isalpha((unsigned char)t[0]) || t[0] == '_'))
		return 0;
	for (const char *c = t; c < eq; c++)
		if (!isalnum((unsigned char)*c) && *c != '_')
			return 0;
	return digits_u64(eq + 1, len - (size_t)(eq - t) - 1, &v);
}

/* Decodes the \ooo escapes of seq_path into the entry's file name. */
static void set_file(struct pb_nm_entry *e, const char *s, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' &&
		    s[i + 3] <= '7') {
			c = (char)(((s[i + 1] - '0') << 6) |
				   ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
			i += 3;
		}
		if (o + 1 >= sizeof(e->file)) {
			e->file_truncated = 1;
			break;
		}
		e->file[o++] = c;
	}
	e->file[o] = '\0';
}

static void set_mode(struct pb_nm_entry *e)
{
	const char *colon;

	e->mode = PB_MPOL_OTHER;
	for (unsigned i = 0; i < PB_ARRAY_SIZE(mpol_names); i++) {
		size_t n = strlen(mpol_names[i].name);

		if (strncmp(e->policy, mpol_names[i].name, n) == 0 &&
		    (e->policy[n] == '\0' || e->policy[n] == ':' ||
		     e->policy[n] == '=')) {
			e->mode = mpol_names[i].mode;
			break;
		}
	}
	colon = strchr(e->policy, ':');
	if (colon)
		pb_strlcpy(e->policy_nodes, colon + 1, sizeof(e->policy_nodes));
}

int pb_numa_maps_parse_line(struct pb_nm_entry *out, const char *line)
{
	const char *p = line, *t, *file = NULL;
	size_t len, file_len = 0;

	memset(out, 0, sizeof(*out));
	out->max_node = -1;
	t = next_token(&p, &len);
	if (!t || !hexdigits_u64(t, len, &out->addr))
		return pb_error_code(PB_EINVAL,
				     "numa_maps: line without an address: '%.80s'",
				     line);
	t = next_token(&p, &len);
	if (!t)
		return pb_error_code(PB_EINVAL,
				     "numa_maps: line without a policy: '%.80s'",
				     line);
	/* The policy: the first token and every one before the first field
	 * ("prefer (many):0-1", "weighted interleave=static:0"). */
	append(out->policy, sizeof(out->policy), NULL, t, len);
	while ((t = next_token(&p, &len)) && !is_field(t, len))
		append(out->policy, sizeof(out->policy), " ", t, len);
	set_mode(out);

	for (; t; t = next_token(&p, &len)) {
		const char *eq = memchr(t, '=', len);
		size_t klen = eq ? (size_t)(eq - t) : len;
		const char *val = eq ? eq + 1 : NULL;
		size_t vlen = eq ? len - klen - 1 : 0;
		uint64_t v;
		enum nm_field f;

		if (tok_is(t, len, "heap")) {
			out->heap = 1;
		} else if (tok_is(t, len, "stack")) {
			out->stack = 1;
		} else if (len > 6 && memcmp(t, "stack:", 6) == 0 &&
			   digits_u64(t + 6, len - 6, &v) && v <= INT_MAX) {
			out->stack = 1;
			out->stack_tid = (int)v;
		} else if (tok_is(t, len, "huge")) {
			out->huge = 1;
		} else if (eq && tok_is(t, klen, "file")) {
			/* Kernels before the '\040' escaping printed spaces
			 * raw: take words up to the next field. */
			file = val;
			file_len = vlen;
			while (*p) {
				const char *q = p;
				size_t l2;
				const char *t2 = next_token(&q, &l2);

				if (!t2 || is_field(t2, l2))
					break;
				file_len = (size_t)(t2 + l2 - file);
				p = q;
			}
		} else if (eq && is_node_key(t, klen)) {
			uint64_t node;

			if (!digits_u64(t + 1, klen - 1, &node) ||
			    node > INT_MAX || !digits_u64(val, vlen, &v))
				goto bad_number;
			if (node < PB_NUMA_MAX_NODES)
				out->node[node] += v;
			else
				out->far_pages += v;
			out->pages += v;
			if ((int)node > out->max_node)
				out->max_node = (int)node;
		} else if (eq && (f = known_field(t, klen)) != F_NONE) {
			if (!digits_u64(val, vlen, &v))
				goto bad_number;
			switch (f) {
			case F_ANON: out->anon = v; break;
			case F_DIRTY: out->dirty = v; break;
			case F_MAPPED: out->mapped = v; break;
			case F_MAPMAX: out->mapmax = v; break;
			case F_SWAPCACHE: out->swapcache = v; break;
			case F_ACTIVE: out->active = v; break;
			case F_WRITEBACK: out->writeback = v; break;
			case F_PAGESIZE: out->kernelpagesize_kb = v; break;
			case F_NONE: break;
			}
		} else {
			out->unknown++;
		}
	}
	if (file)
		set_file(out, file, file_len);
	return PB_OK;
bad_number:
	return pb_error_code(PB_EINVAL, "numa_maps: bad field '%.*s' in '%.80s'",
			     (int)len, t, line);
}

int pb_numa_vma_parse_line(struct pb_nm_vma *out, const char *line)
{
	const char *p = line, *t;
	size_t len, plen;
	const char *dash;
	uint64_t inode;

	memset(out, 0, sizeof(*out));
	t = next_token(&p, &len);
	dash = t ? memchr(t, '-', len) : NULL;
	if (!dash || !hexdigits_u64(t, (size_t)(dash - t), &out->start) ||
	    !hexdigits_u64(dash + 1, len - (size_t)(dash - t) - 1, &out->end))
		goto bad;
	t = next_token(&p, &len);
	if (!t || len != 4)
		goto bad;
	memcpy(out->perms, t, 4);
	t = next_token(&p, &len);
	if (!t || !hexdigits_u64(t, len, &out->offset))
		goto bad;
	t = next_token(&p, &len);                  /* dev, "fe:00" */
	if (!t || !memchr(t, ':', len))
		goto bad;
	t = next_token(&p, &len);                  /* inode */
	if (!t || !digits_u64(t, len, &inode))
		goto bad;
	/* The path is the rest: it may contain blanks (only '\n' is escaped). */
	while (*p == ' ')
		p++;
	plen = strlen(p);
	while (plen > 0 && (p[plen - 1] == '\n' || p[plen - 1] == '\r'))
		plen--;
	if (plen >= sizeof(out->path)) {
		plen = sizeof(out->path) - 1;
		out->path_truncated = 1;
	}
	memcpy(out->path, p, plen);
	out->path[plen] = '\0';
	return PB_OK;
bad:
	return pb_error_code(PB_EINVAL, "maps: cannot parse '%.80s'", line);
}

/* ---- attribution ------------------------------------------------------ */

const char *pb_nm_kind_name(enum pb_nm_kind k)
{
	static const char *const names[PB_NM_KINDS] = {
		"data", "bss", "text", "heap", "stack", "other",
	};

	return (unsigned)k < PB_NM_KINDS ? names[k] : "?";
}

uint64_t pb_nm_usage_total(const struct pb_nm_usage *u, enum pb_nm_kind k)
{
	uint64_t sum = u->far_pages[k];

	for (unsigned n = 0; n < PB_NUMA_MAX_NODES; n++)
		sum += u->pages[k][n];
	return sum;
}

uint64_t pb_nm_usage_data_bss(const struct pb_nm_usage *u, int node)
{
	if (node < 0)
		return pb_nm_usage_total(u, PB_NM_DATA) +
		       pb_nm_usage_total(u, PB_NM_BSS);
	if (node >= PB_NUMA_MAX_NODES)
		return 0;
	return u->pages[PB_NM_DATA][node] + u->pages[PB_NM_BSS][node];
}

struct vma_kind {
	uint64_t start;
	enum pb_nm_kind kind;
};

static int cmp_vma(const void *a, const void *b)
{
	uint64_t x = ((const struct vma_kind *)a)->start;
	uint64_t y = ((const struct vma_kind *)b)->start;

	return x < y ? -1 : x > y;
}

/* The executable's name as maps prints it: a newline becomes "\012". */
static void maps_escape(char *dst, size_t size, const char *src)
{
	size_t o = 0;

	for (; *src && o + 1 < size; src++) {
		if (*src == '\n') {
			if (o + 5 >= size)
				break;
			memcpy(dst + o, "\\012", 4);
			o += 4;
		} else {
			dst[o++] = *src;
		}
	}
	dst[o] = '\0';
}

static unsigned base_page_kb(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps >= 1024 ? (unsigned)(ps / 1024) : 4;
}

int pb_numa_usage_add(struct pb_nm_usage *out, const char *exe, FILE *maps,
		      FILE *numa_maps)
{
	struct vma_kind *v = NULL;
	size_t n = 0, cap = 0, linecap = 0;
	struct pb_nm_vma *vma = NULL;
	struct pb_nm_entry *e = NULL;
	char *line = NULL, *exe_maps = NULL;
	enum pb_nm_kind prev = PB_NM_OTHER;
	uint64_t prev_end = 0;
	unsigned page_kb = base_page_kb();
	int rc = PB_OK, sorted = 1;

	vma = malloc(sizeof(*vma));
	e = malloc(sizeof(*e));
	exe_maps = malloc(PB_NM_PATH_MAX);
	if (!vma || !e || !exe_maps) {
		rc = pb_error_set("out of memory");
		goto out;
	}
	maps_escape(exe_maps, PB_NM_PATH_MAX, exe);

	while (getline(&line, &linecap, maps) >= 0) {
		enum pb_nm_kind kind;
		int writable;

		if (pb_numa_vma_parse_line(vma, line)) {
			out->bad_lines++;
			continue;
		}
		writable = vma->perms[1] == 'w';
		if (vma->path[0] == '/' && strcmp(vma->path, exe_maps) == 0)
			kind = writable ? PB_NM_DATA : PB_NM_TEXT;
		else if (strcmp(vma->path, "[heap]") == 0)
			kind = PB_NM_HEAP;
		else if (strcmp(vma->path, "[stack]") == 0)
			kind = PB_NM_STACK;
		else if (!vma->path[0] && writable && n > 0 &&
			 prev_end == vma->start &&
			 (prev == PB_NM_DATA || prev == PB_NM_TEXT ||
			  prev == PB_NM_BSS))
			kind = PB_NM_BSS;
		else
			kind = PB_NM_OTHER;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct vma_kind *nv = realloc(v, ncap * sizeof(*v));

			if (!nv) {
				rc = pb_error_set("out of memory");
				goto out;
			}
			v = nv;
			cap = ncap;
		}
		if (n > 0 && v[n - 1].start >= vma->start)
			sorted = 0;
		v[n].start = vma->start;
		v[n].kind = kind;
		n++;
		prev = kind;
		prev_end = vma->end;
	}
	if (ferror(maps)) {
		rc = pb_error_set("cannot read maps: %s", strerror(errno));
		goto out;
	}
	if (!sorted)
		qsort(v, n, sizeof(*v), cmp_vma);

	while (getline(&line, &linecap, numa_maps) >= 0) {
		struct vma_kind key, *hit;
		enum pb_nm_kind kind;
		uint64_t scale = 1;

		if (pb_numa_maps_parse_line(e, line)) {
			out->bad_lines++;
			continue;
		}
		key.start = e->addr;
		hit = n ? bsearch(&key, v, n, sizeof(*v), cmp_vma) : NULL;
		if (hit) {
			kind = hit->kind;
		} else {
			out->unmatched++;
			kind = e->heap ? PB_NM_HEAP
			       : e->stack && !e->stack_tid ? PB_NM_STACK
							   : PB_NM_OTHER;
		}
		/* hugetlb counts are in huge pages; everything else (THP
		 * too) is already in base pages */
		if (e->kernelpagesize_kb > page_kb)
			scale = e->kernelpagesize_kb / page_kb;
		for (unsigned nd = 0; nd < PB_NUMA_MAX_NODES; nd++)
			out->pages[kind][nd] += e->node[nd] * scale;
		out->far_pages[kind] += e->far_pages * scale;
	}
	if (ferror(numa_maps))
		rc = pb_error_set("cannot read numa_maps: %s", strerror(errno));
out:
	free(line);
	free(exe_maps);
	free(e);
	free(vma);
	free(v);
	return rc;
}

/* ---- sampling --------------------------------------------------------- */

struct proc_rec {
	pid_t pid, ppid, pgrp;
	int cpu;
	int in;
};

static int cmp_proc(const void *a, const void *b)
{
	pid_t x = ((const struct proc_rec *)a)->pid;
	pid_t y = ((const struct proc_rec *)b)->pid;

	return x < y ? -1 : x > y;
}

static struct proc_rec *find_proc(struct proc_rec *p, size_t n, pid_t pid)
{
	struct proc_rec key;

	key.pid = pid;
	return bsearch(&key, p, n, sizeof(*p), cmp_proc);
}

/* Every process of the machine with its parent and group, sorted by pid. */
static int list_procs(struct proc_rec **out, size_t *nout)
{
	struct proc_rec *p = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int rc = PB_OK;

	*out = NULL;
	*nout = 0;
	d = opendir("/proc");
	if (!d)
		return pb_error_code(PB_EINFRA, "cannot list /proc: %s",
				     strerror(errno));
	while ((de = readdir(d)) && n < MAX_PROCS) {
		struct pb_pidstat sf;
		uint64_t pid;

		if (!digits_u64(de->d_name, strlen(de->d_name), &pid) ||
		    pid > INT_MAX)
			continue;
		if (pb_pidstat_read(&sf, (pid_t)pid))
			continue; /* gone meanwhile */
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 512;
			struct proc_rec *np = realloc(p, ncap * sizeof(*p));

			if (!np) {
				rc = pb_error_set("out of memory");
				goto out;
			}
			p = np;
			cap = ncap;
		}
		p[n].pid = (pid_t)pid;
		p[n].ppid = sf.ppid;
		p[n].pgrp = sf.pgrp;
		p[n].cpu = sf.cpu;
		p[n].in = 0;
		n++;
	}
	qsort(p, n, sizeof(*p), cmp_proc);
	*out = p;
	*nout = n;
	p = NULL;
out:
	closedir(d);
	free(p);
	return rc;
}

/* Marks root_pid and every process below it, or in its group. */
static void mark_tree(struct proc_rec *p, size_t n, pid_t root_pid)
{
	struct proc_rec *root = find_proc(p, n, root_pid);
	int changed = 1;

	if (!root)
		return;
	root->in = 1;
	while (changed) {
		changed = 0;
		for (size_t i = 0; i < n; i++) {
			struct proc_rec *parent;

			if (p[i].in)
				continue;
			parent = find_proc(p, n, p[i].ppid);
			if (p[i].pgrp == root_pid || (parent && parent->in)) {
				p[i].in = 1;
				changed = 1;
			}
		}
	}
}

/* Appends pid to p (growing it) unless it is there already: a process
 * reparented during the walk may be listed by two parents. */
static void add_proc(struct proc_rec **p, size_t *n, size_t *cap, pid_t pid,
		     int *err)
{
	for (size_t i = 0; i < *n; i++)
		if ((*p)[i].pid == pid)
			return;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct proc_rec *np = realloc(*p, ncap * sizeof(**p));

		if (!np) {
			*err = pb_error_set("out of memory");
			return;
		}
		*p = np;
		*cap = ncap;
	}
	memset(&(*p)[*n], 0, sizeof(**p));
	(*p)[*n].pid = pid;
	(*n)++;
}

int pb_numa_children_supported(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%ld/children",
		 (long)syscall(SYS_gettid));
	return access(path, R_OK) == 0;
}

/* Queues the children of every thread of pid (a child may have been forked
 * by any of them).  PB_ENOTFOUND when pid is gone. */
static int queue_children(struct proc_rec **p, size_t *n, size_t *cap,
			  pid_t pid)
{
	char path[96];
	struct dirent *de;
	DIR *d;
	int rc = PB_OK;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return PB_ENOTFOUND;
	while (rc == PB_OK && (de = readdir(d))) {
		uint64_t tid;
		FILE *f;
		int child;

		if (!digits_u64(de->d_name, strlen(de->d_name), &tid) ||
		    tid > INT_MAX)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/children",
			 (int)pid, (int)tid);
		f = fopen(path, "re");
		if (!f)
			continue; /* the thread exited meanwhile */
		while (rc == PB_OK && fscanf(f, "%d", &child) == 1) {
			if (child <= 0)
				continue;
			if (*n >= MAX_PROCS)
				break;
			add_proc(p, n, cap, (pid_t)child, &rc);
		}
		fclose(f);
	}
	closedir(d);
	return rc;
}

#define NO_CHILDREN_FILES 1

/* root_pid and its descendants through the children files, breadth first.
 * Each gets its stat fields; one that exited meanwhile is dropped.
 * NO_CHILDREN_FILES when the kernel has none. */
static int tree_procs(struct proc_rec **out, size_t *nout, pid_t root_pid)
{
	struct proc_rec *p = NULL;
	size_t n = 0, cap = 0, keep = 0;
	int rc = PB_OK;

	*out = NULL;
	*nout = 0;
	if (!pb_numa_children_supported())
		return NO_CHILDREN_FILES;
	add_proc(&p, &n, &cap, root_pid, &rc);
	for (size_t i = 0; rc == PB_OK && i < n; i++) {
		int qrc = queue_children(&p, &n, &cap, p[i].pid);

		if (qrc && qrc != PB_ENOTFOUND)
			rc = qrc;
	}
	for (size_t i = 0; rc == PB_OK && i < n; i++) {
		struct pb_pidstat sf;

		if (pb_pidstat_read(&sf, p[i].pid))
			continue; /* gone meanwhile */
		p[keep] = p[i];
		p[keep].ppid = sf.ppid;
		p[keep].pgrp = sf.pgrp;
		p[keep].cpu = sf.cpu;
		p[keep].in = 1;
		keep++;
	}
	if (rc) {
		free(p);
		return rc;
	}
	*out = p;
	*nout = keep;
	return PB_OK;
}

/* The processes of the run led by root_pid, as `scope` finds them; every
 * returned entry has .in set only where it belongs to the run. */
static int run_procs(struct proc_rec **p, size_t *n, pid_t root_pid,
		     enum pb_numa_scope scope)
{
	int rc = NO_CHILDREN_FILES;

	if (scope == PB_NUMA_TREE)
		rc = tree_procs(p, n, root_pid);
	if (rc != NO_CHILDREN_FILES)
		return rc;
	rc = list_procs(p, n);
	if (rc == PB_OK)
		mark_tree(*p, *n, root_pid);
	return rc;
}

int pb_numa_run_pids(pid_t **out, size_t *nout, pid_t root_pid,
		     enum pb_numa_scope scope)
{
	struct proc_rec *p = NULL;
	size_t n = 0, k = 0;
	pid_t *pids;
	int rc;

	*out = NULL;
	*nout = 0;
	rc = run_procs(&p, &n, root_pid, scope);
	if (rc)
		return rc;
	pids = malloc((n ? n : 1) * sizeof(*pids));
	if (!pids) {
		free(p);
		return pb_error_set("out of memory");
	}
	for (size_t i = 0; i < n; i++)
		if (p[i].in)
			pids[k++] = p[i].pid;
	free(p);
	*out = pids;
	*nout = k;
	return PB_OK;
}

/* Adds one process to the snapshot; PB_ENOTFOUND when it could not be
 * read (gone, or not ours to read). */
static int snapshot_add(struct pb_nm_snapshot *s,
			const struct pb_numa_topology *t,
			const struct proc_rec *pr, char *exe,
			struct pb_nm_usage *use)
{
	char path[64];
	FILE *maps = NULL, *nm = NULL;
	struct pb_nm_exe *slot = NULL;
	ssize_t len;
	int rc = PB_ENOTFOUND;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pr->pid);
	len = readlink(path, exe, PB_NM_PATH_MAX - 1);
	if (len <= 0)
		goto out;
	exe[len] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pr->pid);
	maps = fopen(path, "re");
	snprintf(path, sizeof(path), "/proc/%d/numa_maps", (int)pr->pid);
	nm = fopen(path, "re");
	if (!maps || !nm)
		goto out;
	memset(use, 0, sizeof(*use));
	if (pb_numa_usage_add(use, exe, maps, nm))
		goto out;
	/* A process caught exiting is having its pages unmapped while its
	 * numa_maps is read: the counts are partial, and the last sample of
	 * a run would understate where its memory was.  Checked after the
	 * read, so an exit that began during it is seen. */
	{
		struct pb_pidstat sf;

		if (pb_pidstat_read(&sf, pr->pid) || (sf.flags & TASK_PF_EXITING))
			goto out;
	}

	for (unsigned i = 0; i < s->nexes; i++)
		if (strncmp(s->exe[i].path, exe, PB_NUMA_EXE_MAX - 1) == 0)
			slot = &s->exe[i];
	if (!slot) {
		if (s->nexes == PB_NUMA_MAX_EXES) {
			s->dropped++;
			rc = PB_OK;
			goto out;
		}
		slot = &s->exe[s->nexes++];
		pb_strlcpy(slot->path, exe, sizeof(slot->path));
		slot->cpu = pr->cpu;
		slot->node = pb_numa_node_of_cpu(t, pr->cpu);
	}
	slot->procs++;
	for (unsigned k = 0; k < PB_NM_KINDS; k++) {
		for (unsigned nd = 0; nd < PB_NUMA_MAX_NODES; nd++)
			slot->use.pages[k][nd] += use->pages[k][nd];
		slot->use.far_pages[k] += use->far_pages[k];
	}
	slot->use.unmatched += use->unmatched;
	slot->use.bad_lines += use->bad_lines;
	s->procs++;
	rc = PB_OK;
out:
	if (maps)
		fclose(maps);
	if (nm)
		fclose(nm);
	return rc;
}

int pb_numa_snapshot_take(struct pb_nm_snapshot *out,
			  const struct pb_numa_topology *t, pid_t root_pid,
			  enum pb_numa_scope scope)
{
	struct proc_rec *p = NULL;
	struct pb_nm_usage *use = NULL;
	char *exe = NULL;
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->t = pb_now_mono();
	out->page_kb = base_page_kb();
	use = malloc(sizeof(*use));
	exe = malloc(PB_NM_PATH_MAX);
	if (!use || !exe) {
		rc = pb_error_set("out of memory");
		goto out;
	}
	rc = run_procs(&p, &n, root_pid, scope);
	if (rc)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (!p[i].in)
			continue;
		if (snapshot_add(out, t, &p[i], exe, use))
			out->skipped++;
	}
	rc = PB_OK;
out:
	free(exe);
	free(use);
	free(p);
	return rc;
}

const struct pb_nm_exe *pb_nm_snapshot_find(const struct pb_nm_snapshot *s,
					    const char *path)
{
	for (unsigned i = 0; i < s->nexes; i++)
		if (strncmp(s->exe[i].path, path, PB_NUMA_EXE_MAX - 1) == 0)
			return &s->exe[i];
	return NULL;
}

void pb_numa_placement_init(struct pb_numa_placement *p)
{
	memset(p, 0, sizeof(*p));
}

int pb_numa_sample(struct pb_numa_placement *acc,
		   const struct pb_numa_topology *t, pid_t root_pid,
		   enum pb_numa_scope scope)
{
	struct pb_nm_snapshot *s = malloc(sizeof(*s));
	int rc;

	if (!s)
		return pb_error_set("out of memory");
	rc = pb_numa_snapshot_take(s, t, root_pid, scope);
	if (rc == PB_OK && s->procs > 0) {
		if (acc->samples == 0)
			acc->first = *s;
		acc->last = *s;
		acc->samples++;
	}
	free(s);
	return rc;
}

/* ---- counters --------------------------------------------------------- */

static const char *const vmstat_prefixes[] = {
	"numa_", "pgscan_", "pgsteal_", "pgmigrate_", "thp_", "compact_",
	"pgpromote_", "pgdemote_", "zone_reclaim_",
};

static int wanted_vmstat(const char *name, size_t len)
{
	for (unsigned i = 0; i < PB_ARRAY_SIZE(vmstat_prefixes); i++) {
		size_t pl = strlen(vmstat_prefixes[i]);

		if (len > pl && memcmp(name, vmstat_prefixes[i], pl) == 0)
			return 1;
	}
	return 0;
}

/* Adds the "name value" lines of a file's text; only wanted names when
 * filter is set. */
static int add_counters(struct pb_numa_counters *out, const char *file,
			char *text, int node, int filter)
{
	char *save = NULL, *line;
	unsigned lineno = 0;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *p = line, *name, *val;
		size_t nlen, vlen;
		uint64_t v;
		struct pb_numa_stat *st;

		lineno++;
		name = next_token(&p, &nlen);
		if (!name)
			continue;
		val = next_token(&p, &vlen);
		if (!val || !digits_u64(val, vlen, &v) ||
		    next_token(&p, &vlen))
			return pb_error_code(PB_EINVAL,
					     "%s:%u: not 'name value': '%.80s'",
					     file, lineno, line);
		if (filter && !wanted_vmstat(name, nlen))
			continue;
		if (nlen >= sizeof(out->stat[0].name) ||
		    out->n == PB_NUMA_MAX_STATS) {
			out->truncated = 1;
			continue;
		}
		st = &out->stat[out->n++];
		memcpy(st->name, name, nlen);
		st->name[nlen] = '\0';
		st->node = node;
		st->value = v;
		st->state = PB_NUMA_STAT_OK;
	}
	return PB_OK;
}

int pb_numa_counters_read(struct pb_numa_counters *out, const char *root)
{
	uint64_t online[LINUX_MAX_NODES / 64];
	char *buf = NULL, path[128], scratch[64];
	int rc;

	memset(out, 0, sizeof(*out));
	buf = malloc(BIG_READ);
	if (!buf)
		return pb_error_set("out of memory");
	/* Fold the per-CPU counter deltas first (sysctl/vm.rst: any read by
	 * root does it).  Not root, or no such file: the counters are at
	 * most vm.stat_interval late, which is what every tool lives with. */
	(void)pb_sys_read(root, "/proc/sys/vm/stat_refresh", scratch,
			  sizeof(scratch));

	rc = pb_sys_read(root, NODE_ROOT "/online", buf, BIG_READ);
	if (rc == PB_OK) {
		rc = pb_numa_list_parse(online, LINUX_MAX_NODES, buf, NULL, NULL);
		if (rc)
			goto out;
		for (unsigned id = 0; id < LINUX_MAX_NODES; id++) {
			if (!bit_is_set(online, id))
				continue;
			snprintf(path, sizeof(path), NODE_ROOT "/node%u/numastat",
				 id);
			rc = pb_sys_read(root, path, buf, BIG_READ);
			if (rc == PB_ENOTFOUND)
				continue;
			if (rc)
				goto out;
			rc = add_counters(out, path, buf, (int)id, 0);
			if (rc)
				goto out;
		}
	} else if (rc != PB_ENOTFOUND) {
		goto out;
	}

	rc = pb_sys_read(root, "/proc/vmstat", buf, BIG_READ);
	if (rc == PB_ENOTFOUND) {
		rc = PB_OK;
		goto out;
	}
	if (rc)
		goto out;
	rc = add_counters(out, "/proc/vmstat", buf, -1, 1);
out:
	free(buf);
	return rc;
}

const struct pb_numa_stat *pb_numa_counters_find(
	const struct pb_numa_counters *c, int node, const char *name)
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->stat[i].node == node && strcmp(c->stat[i].name, name) == 0)
			return &c->stat[i];
	return NULL;
}

/* The same counter in c, trying index hint first (readings of one machine
 * list their counters in the same order). */
static const struct pb_numa_stat *find_hint(const struct pb_numa_counters *c,
					    const struct pb_numa_stat *s,
					    unsigned hint)
{
	if (hint < c->n && c->stat[hint].node == s->node &&
	    strcmp(c->stat[hint].name, s->name) == 0)
		return &c->stat[hint];
	return pb_numa_counters_find(c, s->node, s->name);
}

static int push_delta(struct pb_numa_counters *out,
		      const struct pb_numa_stat *s, uint64_t value, int state)
{
	struct pb_numa_stat *d;

	if (out->n == PB_NUMA_MAX_STATS) {
		out->truncated = 1;
		return 0;
	}
	d = &out->stat[out->n++];
	*d = *s;
	d->value = value;
	d->state = state;
	return 1;
}

int pb_numa_counters_delta(struct pb_numa_counters *out,
			   const struct pb_numa_counters *before,
			   const struct pb_numa_counters *after)
{
	memset(out, 0, sizeof(*out));
	out->truncated = before->truncated || after->truncated;
	for (unsigned i = 0; i < before->n; i++) {
		const struct pb_numa_stat *b = &before->stat[i];
		const struct pb_numa_stat *a = find_hint(after, b, i);

		if (!a)
			push_delta(out, b, 0, PB_NUMA_STAT_VANISHED);
		else if (a->value < b->value)
			push_delta(out, b, 0, PB_NUMA_STAT_BACKWARDS);
		else
			push_delta(out, b, a->value - b->value, PB_NUMA_STAT_OK);
	}
	for (unsigned i = 0; i < after->n; i++) {
		const struct pb_numa_stat *a = &after->stat[i];

		if (!find_hint(before, a, i))
			push_delta(out, a, 0, PB_NUMA_STAT_APPEARED);
	}
	return PB_OK;
}
