/*
 * knobs.c - a configuration's machine settings: parsing, checking against
 * the machine, applying around a run, the journal that puts them back
 * (see knobs.h).
 *
 * Journal format (ROOT/var/lib/perfbisect/settings.journal):
 *
 *   # perfbisect settings journal v1
 *   /proc/sys/vm/zone_reclaim_mode<TAB>0
 *   /sys/kernel/mm/transparent_hugepage/enabled<TAB>madvise
 *   /proc/irq/40/smp_affinity_list<TAB>0-7
 *
 * One line per file about to change, appended with a single write(2) and
 * fsync'd before the file is touched; '#' lines are comments.  Path and
 * value are escaped: backslash, tab and newline as \\ \t \n, any other byte
 * outside printable ASCII as \xHH.  The value is what to write back, not
 * the file's text: for THP the active word ("madvise"), not
 * "always [madvise] never".  Paths are machine paths without the sysroot,
 * and only the files this module changes are accepted back, so a damaged
 * or planted journal cannot make perfbisect write anywhere else.
 *
 * Why a crash cannot lose a setting: a file is written only after its line
 * is on disk (and, for a new journal, the directory entry too).  Killed
 * before the line is complete: the file was not touched, and a torn last
 * line is reported and skipped.  Killed after the line, before or after the
 * write: the next start writes the old value, which is right either way.
 * Killed during a restore, before the journal is removed: the next start
 * writes the same old values again.  Old values are read only under the
 * lock and after any stale journal is restored, so a value perfbisect set
 * is never journaled as "old".  The lock is a flock(2), which the kernel
 * drops when its holder dies, so a crash never leaves a stale lock.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <numa.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/sysroot.h"
#include "agent/knobs.h"
#include "common/util.h"

#define JOURNAL_DIR "/var/lib/perfbisect"
#define JOURNAL_FILE JOURNAL_DIR "/settings.journal"
#define LOCK_FILE JOURNAL_DIR "/settings.lock"
#define JOURNAL_HEADER "# perfbisect settings journal v1\n"
#define JOURNAL_MAX (1024 * 1024)
#define REPORT_MAX (64 * 1024)

#define ZONE_RECLAIM "/proc/sys/vm/zone_reclaim_mode"
#define THP_ENABLED "/sys/kernel/mm/transparent_hugepage/enabled"
#define THP_DEFRAG "/sys/kernel/mm/transparent_hugepage/defrag"

#define NUMA_NODE_MAX 1023

enum numa_action {
	NUMA_NOTHING = 0, NUMA_DEFAULT, NUMA_BIND, NUMA_INTERLEAVE, NUMA_CPUBIND,
};

/* --- parsing ---------------------------------------------------------- */

static const char *const snoop_modes[] = { "early", "home", "cod", NULL };
static const char *const thp_modes[] = { "always", "madvise", "never", NULL };
static const char *const defrag_modes[] = { "always", "defer",
					    "defer+madvise", "madvise",
					    "never", NULL };
static const char *const irq_modes[] = { "", "local", "spread", "none", NULL };

enum key {
	K_KERNEL, K_SNOOP, K_IRQ, K_NUMA, K_ZONE, K_THP, K_DEFRAG, K_THREADS,
	K_COUNT
};

static const struct {
	const char *name;
	const char *takes;
} keys[K_COUNT] = {
	[K_KERNEL] = { "kernel", "a kernel release (uname -r)" },
	[K_SNOOP] = { "snoop", "early, home or cod" },
	[K_IRQ] = { "irq_affinity", "local, spread or none" },
	[K_NUMA] = { "numa_policy",
		     "default, bind:N, interleave:all or cpunodebind:N" },
	[K_ZONE] = { "zone_reclaim_mode", "0 or 1" },
	[K_THP] = { "thp", "always, madvise or never" },
	[K_DEFRAG] = { "thp_defrag",
		       "always, defer, defer+madvise, madvise or never" },
	[K_THREADS] = { "threads", "a thread count from 1 to 4096" },
};

static int word_index(const char *const *words, const char *w)
{
	int i;

	for (i = 0; words[i]; i++)
		if (words[i][0] && !strcmp(words[i], w))
			return i;
	return -1;
}

static int parse_node(int *out, const char *s)
{
	uint64_t v;

	if (pb_parse_u64(&v, s, 0, NUMA_NODE_MAX, "node"))
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_numa(struct pb_knobs *k, const char *v)
{
	if (!strcmp(v, "default"))
		k->numa_policy = PB_NUMA_DEFAULT;
	else if (!strcmp(v, "interleave:all"))
		k->numa_policy = PB_NUMA_INTERLEAVE_ALL;
	else if (!strncmp(v, "bind:", 5) && !parse_node(&k->numa_node, v + 5))
		k->numa_policy = PB_NUMA_BIND;
	else if (!strncmp(v, "cpunodebind:", 12) &&
		 !parse_node(&k->numa_node, v + 12))
		k->numa_policy = PB_NUMA_CPUNODEBIND;
	else
		return -1;
	return 0;
}

static int release_ok(const char *v)
{
	size_t i, len = strlen(v);

	if (len == 0 || len >= sizeof(((struct pb_knobs *)0)->kernel))
		return 0;
	for (i = 0; i < len; i++)
		if (!isgraph((unsigned char)v[i]))
			return 0;
	return 1;
}

/* Sets key `key` of k from v; -1 when v is not a value the key takes. */
static int set_key(struct pb_knobs *k, enum key key, const char *v)
{
	uint64_t t;
	int i;

	switch (key) {
	case K_KERNEL:
		if (!release_ok(v))
			return -1;
		pb_strlcpy(k->kernel, v, sizeof(k->kernel));
		return 0;
	case K_SNOOP:
		if (word_index(snoop_modes, v) < 0)
			return -1;
		pb_strlcpy(k->snoop, v, sizeof(k->snoop));
		return 0;
	case K_IRQ:
		if ((i = word_index(irq_modes, v)) < 0)
			return -1;
		k->irq_affinity = (enum pb_irq_policy)i;
		return 0;
	case K_NUMA:
		return parse_numa(k, v);
	case K_ZONE:
		if (strcmp(v, "0") && strcmp(v, "1"))
			return -1;
		k->zone_reclaim_mode = v[0] - '0';
		return 0;
	case K_THP:
		if (word_index(thp_modes, v) < 0)
			return -1;
		pb_strlcpy(k->thp, v, sizeof(k->thp));
		return 0;
	case K_DEFRAG:
		if (word_index(defrag_modes, v) < 0)
			return -1;
		pb_strlcpy(k->thp_defrag, v, sizeof(k->thp_defrag));
		return 0;
	case K_THREADS:
		if (pb_parse_u64(&t, v, 1, 4096, "threads"))
			return -1;
		k->threads = (unsigned)t;
		return 0;
	case K_COUNT:
		break;
	}
	return -1;
}

static void knobs_init(struct pb_knobs *k)
{
	memset(k, 0, sizeof(*k));
	k->zone_reclaim_mode = -1;
}

int pb_knobs_parse(struct pb_knobs *out, const char *spec)
{
	int seen[K_COUNT] = { 0 };
	char *copy = NULL, *item, *next;
	int rc = PB_OK;

	knobs_init(out);
	if (!spec || !*spec)
		return PB_OK;
	if (!(copy = pb_strdup(spec)))
		return PB_ERROR;
	for (item = copy; item; item = next) {
		char *eq, *v;
		int key;

		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		eq = strchr(item, '=');
		if (!*item) {
			rc = pb_error_code(PB_EINVAL,
					   "config '%s': an empty setting (two "
					   "commas, or one at an end)", spec);
			goto out;
		}
		if (!eq || eq == item) {
			rc = pb_error_code(PB_EINVAL,
					   "config: '%s' is not KEY=VALUE", item);
			goto out;
		}
		*eq = '\0';
		v = eq + 1;
		for (key = 0; key < K_COUNT; key++)
			if (!strcmp(item, keys[key].name))
				break;
		if (key == K_COUNT) {
			rc = pb_error_code(PB_EINVAL,
					   "config: unknown setting '%s' (known: "
					   "kernel, snoop, irq_affinity, "
					   "numa_policy, zone_reclaim_mode, thp, "
					   "thp_defrag, threads)", item);
			goto out;
		}
		if (seen[key]++) {
			rc = pb_error_code(PB_EINVAL,
					   "config: setting '%s' is given twice",
					   item);
			goto out;
		}
		if (set_key(out, (enum key)key, v)) {
			rc = pb_error_code(PB_EINVAL,
					   "config %s=%s: %s takes %s", item, v,
					   item, keys[key].takes);
			goto out;
		}
	}
out:
	free(copy);
	if (rc)
		knobs_init(out);
	return rc;
}

int pb_knobs_format(char *out, size_t size, const struct pb_knobs *k)
{
	struct pb_buf b = PB_BUF_INIT(size ? size - 1 : 0);
	const char *sep = "";
	int rc = PB_OK;

#define ADD(...)                                                             \
	do {                                                                 \
		if (rc == PB_OK)                                             \
			rc = pb_buf_printf(&b, __VA_ARGS__);                 \
		sep = ",";                                                   \
	} while (0)
	if (k->kernel[0])
		ADD("%skernel=%s", sep, k->kernel);
	if (k->snoop[0])
		ADD("%ssnoop=%s", sep, k->snoop);
	if (k->irq_affinity != PB_IRQ_UNSET)
		ADD("%sirq_affinity=%s", sep, irq_modes[k->irq_affinity]);
	switch (k->numa_policy) {
	case PB_NUMA_UNSET: break;
	case PB_NUMA_DEFAULT: ADD("%snuma_policy=default", sep); break;
	case PB_NUMA_BIND: ADD("%snuma_policy=bind:%d", sep, k->numa_node); break;
	case PB_NUMA_INTERLEAVE_ALL:
		ADD("%snuma_policy=interleave:all", sep);
		break;
	case PB_NUMA_CPUNODEBIND:
		ADD("%snuma_policy=cpunodebind:%d", sep, k->numa_node);
		break;
	}
	if (k->zone_reclaim_mode >= 0)
		ADD("%szone_reclaim_mode=%d", sep, k->zone_reclaim_mode);
	if (k->thp[0])
		ADD("%sthp=%s", sep, k->thp);
	if (k->thp_defrag[0])
		ADD("%sthp_defrag=%s", sep, k->thp_defrag);
	if (k->threads)
		ADD("%sthreads=%u", sep, k->threads);
#undef ADD
	if (rc == PB_OK && size > 0)
		pb_strlcpy(out, b.ptr, size);
	else if (rc != PB_ERROR)
		rc = pb_error_code(PB_ETOOBIG, "configuration longer than %zu "
				   "bytes", size ? size - 1 : 0);
	pb_buf_release(&b);
	return rc;
}

int pb_snoop_check(const char *mode)
{
	if (mode && word_index(snoop_modes, mode) >= 0)
		return PB_OK;
	return pb_error_code(PB_EINVAL, "snoop mode '%s': it is early, home "
			     "or cod", mode ? mode : "");
}

int pb_knobs_check(const struct pb_knobs *k, const struct pb_machine *m)
{
	unsigned *irqs = NULL;
	char why[512];
	size_t n = 0;
	int rc;

	if (k->kernel[0]) {
		char rel[128];

		if ((rc = pb_machine_kernel(rel, sizeof(rel), m->root)))
			return rc;
		if (strcmp(rel, k->kernel))
			return pb_error_code(PB_EINVAL,
					     "config kernel=%s: this machine runs "
					     "kernel %s, the configuration asks "
					     "for %s", k->kernel, rel, k->kernel);
	}
	if (k->snoop[0]) {
		if (!m->snoop)
			return pb_error_code(PB_EINVAL,
					     "config snoop=%s: this machine's "
					     "snoop mode is unknown (Linux cannot "
					     "read it): give it with --snoop MODE",
					     k->snoop);
		if (strcmp(m->snoop, k->snoop))
			return pb_error_code(PB_EINVAL,
					     "config snoop=%s: this machine's "
					     "snoop mode is %s, the configuration "
					     "asks for %s", k->snoop, m->snoop,
					     k->snoop);
	}
	if (k->irq_affinity == PB_IRQ_LOCAL || k->irq_affinity == PB_IRQ_SPREAD) {
		const char *v = irq_modes[k->irq_affinity];

		if (!m->nic)
			return pb_error_code(PB_EINVAL,
					     "config irq_affinity=%s needs a network "
					     "interface: give it with --nic IFACE", v);
		rc = pb_nic_irqs(&irqs, &n, m->root, m->nic);
		free(irqs);
		/* the message is formatted from a copy: pb_error_code() writes
		 * the buffer pb_error_last() points into */
		pb_strlcpy(why, pb_error_last(), sizeof(why));
		if (rc == PB_ENOTFOUND)
			return pb_error_code(PB_EINVAL,
					     "config irq_affinity=%s: this machine "
					     "has no interface '%s' with MSI IRQs "
					     "(%s)", v, m->nic, why);
		if (rc)
			return pb_error_code(PB_EINVAL, "config irq_affinity=%s: "
					     "%s", v, why);
		if (n == 0)
			return pb_error_code(PB_EINVAL,
					     "config irq_affinity=%s: interface "
					     "'%s' has no MSI IRQs", v, m->nic);
	}
	return PB_OK;
}

/* --- journal lines ---------------------------------------------------- */

static int escape(struct pb_buf *b, const char *s)
{
	int rc = PB_OK;

	for (; *s && rc == PB_OK; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\')
			rc = pb_buf_puts(b, "\\\\");
		else if (c == '\t')
			rc = pb_buf_puts(b, "\\t");
		else if (c == '\n')
			rc = pb_buf_puts(b, "\\n");
		else if (c < 0x20 || c >= 0x7f)
			rc = pb_buf_printf(b, "\\x%02x", c);
		else
			rc = pb_buf_put(b, s, 1);
	}
	return rc;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Undoes escape() over s[0..len) into out; -1 for a bad escape, a raw
 * control byte, a NUL or no room. */
static int unescape(char *out, size_t size, const char *s, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return -1;
		if (c == '\\') {
			if (++i >= len)
				return -1;
			switch (s[i]) {
			case '\\': c = '\\'; break;
			case 't': c = '\t'; break;
			case 'n': c = '\n'; break;
			case 'x':
				if (i + 2 >= len || hexval(s[i + 1]) < 0 ||
				    hexval(s[i + 2]) < 0)
					return -1;
				c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
				i += 2;
				if (c == 0)
					return -1;
				break;
			default:
				return -1;
			}
		}
		if (o + 1 >= size)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* The files this module changes, and so the only ones a journal may name. */
static int journal_path_allowed(const char *p)
{
	const char *q;

	if (!strcmp(p, ZONE_RECLAIM) || !strcmp(p, THP_ENABLED) ||
	    !strcmp(p, THP_DEFRAG))
		return 1;
	if (strncmp(p, "/proc/irq/", 10))
		return 0;
	for (q = p + 10; isdigit((unsigned char)*q); q++)
		;
	return q > p + 10 && !strcmp(q, "/smp_affinity_list");
}

/* A printable excerpt of a raw journal line, for reports. */
static void excerpt(char *out, size_t size, const char *s, size_t len)
{
	size_t i, n = len < size - 1 ? len : size - 1;

	for (i = 0; i < n; i++)
		out[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	out[n] = '\0';
}

/* --- files, locks ------------------------------------------------------ */

static int is_real_root(const char *root)
{
	return !root || !root[0] || (root[0] == '/' && !root[1]);
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -1;
	if (fsync(fd) < 0)
		rc = -1;
	close(fd);
	return rc;
}

/* Flushes the files of a sysroot tree to disk before the journal that
 * guards them goes.  On the real machine the targets are procfs and sysfs,
 * where a write takes effect at once and there is nothing to flush. */
static void sync_tree(const char *root)
{
	int fd;

	if (is_real_root(root))
		return;
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)syncfs(fd);
		close(fd);
	}
}

int pb_journal_path(char *out, size_t size, const char *root)
{
	return pb_sys_path(out, size, root, JOURNAL_FILE);
}

/* Takes the settings lock under root: *fd_out is the locked descriptor.
 * With create, the journal directory is made first; without, a missing
 * directory gives PB_ENOTFOUND (nothing was ever journaled there).  A lock
 * held by someone else gives PB_EINFRA naming the holder's pid, and *busy. */
static int lock_take(const char *root, int create, int *fd_out, int *busy)
{
	char dir[4096], path[4096], pid[32];
	ssize_t n;
	int fd, rc;

	*fd_out = -1;
	if ((rc = pb_sys_path(dir, sizeof(dir), root, JOURNAL_DIR)) ||
	    (rc = pb_sys_path(path, sizeof(path), root, LOCK_FILE)))
		return rc;
	if (create && (rc = pb_mkdir_p(dir, 0755)))
		return rc;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		if (errno == ENOENT && !create)
			return PB_ENOTFOUND;
		return pb_error_code(PB_EINFRA, "cannot open the settings lock "
				     "%s: %s", path, strerror(errno));
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		n = pread(fd, pid, sizeof(pid) - 1, 0);
		close(fd);
		if (e != EWOULDBLOCK)
			return pb_error_code(PB_EINFRA, "cannot lock %s: %s",
					     path, strerror(e));
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (busy)
			*busy = 1;
		return pb_error_code(PB_EINFRA,
				     "another perfbisect (pid %s) is changing "
				     "this machine's settings: %s is locked",
				     pid[0] ? pid : "unknown", path);
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		rc = pb_error_code(PB_EINFRA, "cannot write %s: %s", path,
				   strerror(errno));
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return PB_OK;
}

/* --- restoring a journal ------------------------------------------------ */

void pb_journal_report_init(struct pb_journal_report *r)
{
	memset(r, 0, sizeof(*r));
	pb_buf_init(&r->log, REPORT_MAX);
}

void pb_journal_report_release(struct pb_journal_report *r)
{
	if (r)
		pb_buf_release(&r->log);
}

static void report(struct pb_journal_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void report(struct pb_journal_report *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (pb_buf_vprintf(&r->log, fmt, ap) == PB_OK)
		(void)pb_buf_puts(&r->log, "\n");
	va_end(ap);
}

struct entry {
	char path[128];
	char value[512];
	unsigned line;
};

/* Reads the whole journal at path into *text; PB_ENOTFOUND when there is
 * none. */
static int journal_read(const char *path, char **text, size_t *len)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	char *buf;
	int fd;

	*text = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return pb_error_code(errno == ENOENT ? PB_ENOTFOUND : PB_EINFRA,
				     "cannot read the settings journal %s: %s",
				     path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > JOURNAL_MAX) {
		close(fd);
		return pb_error_code(PB_EINFRA, "the settings journal %s is not "
				     "a regular file under %d bytes: left for a "
				     "person to inspect", path, JOURNAL_MAX);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return pb_error_set("out of memory");
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			free(buf);
			return pb_error_code(PB_EINFRA, "cannot read the settings "
					     "journal %s: %s", path, strerror(e));
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*text = buf;
	*len = got;
	return PB_OK;
}

/* Splits journal text into entries; every line that is not one is counted
 * and reported as corrupt. */
static int journal_parse(struct entry **out, size_t *count, const char *text,
			 size_t len, struct pb_journal_report *r)
{
	struct entry *e = NULL;
	size_t n = 0, alloc = 0, pos = 0;
	unsigned lineno = 0;

	while (pos < len) {
		const char *line = text + pos, *nl, *tab;
		size_t ll;
		char ex[81];

		nl = memchr(line, '\n', len - pos);
		ll = nl ? (size_t)(nl - line) : len - pos;
		pos += ll + (nl ? 1 : 0);
		lineno++;
		excerpt(ex, sizeof(ex), line, ll);
		if (!nl) {
			r->corrupt++;
			report(r, "journal line %u: incomplete ('%s'): it was cut "
			       "short, so the change it announces never happened",
			       lineno, ex);
			break;
		}
		if (ll > 0 && line[0] == '#')
			continue;
		tab = memchr(line, '\t', ll);
		if (n == alloc) {
			size_t na = alloc ? alloc * 2 : 16;
			struct entry *ne = realloc(e, na * sizeof(*e));

			if (!ne) {
				free(e);
				return pb_error_set("out of memory");
			}
			e = ne;
			alloc = na;
		}
		if (!tab || memchr(tab + 1, '\t', ll - (size_t)(tab + 1 - line)) ||
		    unescape(e[n].path, sizeof(e[n].path), line,
			     (size_t)(tab - line)) ||
		    unescape(e[n].value, sizeof(e[n].value), tab + 1,
			     ll - (size_t)(tab + 1 - line)) ||
		    !e[n].value[0]) {
			r->corrupt++;
			report(r, "journal line %u: corrupt, not PATH<TAB>VALUE: "
			       "'%s'", lineno, ex);
			continue;
		}
		if (!journal_path_allowed(e[n].path)) {
			r->corrupt++;
			report(r, "journal line %u: '%s' is not a setting "
			       "perfbisect changes: ignored", lineno, ex);
			continue;
		}
		e[n].line = lineno;
		n++;
	}
	*out = e;
	*count = n;
	return PB_OK;
}

/* Restores the journal under root; the caller holds the lock. */
static int restore_locked(const char *root, struct pb_journal_report *r)
{
	char path[4096], dir[4096];
	struct entry *e = NULL;
	size_t len = 0, n = 0, i;
	char *text = NULL;
	int rc;

	if ((rc = pb_journal_path(path, sizeof(path), root)) ||
	    (rc = pb_sys_path(dir, sizeof(dir), root, JOURNAL_DIR)))
		return rc;
	rc = journal_read(path, &text, &len);
	if (rc == PB_ENOTFOUND)
		return PB_OK;
	if (rc)
		return rc;
	r->found = 1;
	rc = journal_parse(&e, &n, text, len, r);
	free(text);
	if (rc)
		return rc;
	for (i = n; i-- > 0;) {
		rc = pb_sys_write(root, e[i].path, e[i].value);
		if (rc == PB_OK) {
			r->restored++;
			report(r, "restored %s to '%s'", e[i].path, e[i].value);
		} else {
			r->failed++;
			report(r, "journal line %u: could not restore %s to '%s': "
			       "%s", e[i].line, e[i].path, e[i].value,
			       rc == PB_ENOTFOUND ? "the file does not exist"
						  : pb_error_last());
		}
	}
	free(e);
	sync_tree(root);
	if (unlink(path) < 0 && errno != ENOENT)
		return pb_error_code(PB_EINFRA, "cannot remove the settings "
				     "journal %s: %s", path, strerror(errno));
	(void)fsync_dir(dir);
	if (r->failed || r->corrupt)
		return pb_error_set("settings journal %s: restored %zu value(s); "
				    "%zu could not be restored, %zu line(s) "
				    "corrupt", path, r->restored, r->failed,
				    r->corrupt);
	return PB_OK;
}

static int journal_exists(const char *root)
{
	char path[4096];
	struct stat st;

	return pb_journal_path(path, sizeof(path), root) != PB_OK ||
	       lstat(path, &st) == 0 || errno != ENOENT;
}

int pb_journal_restore(const char *root, struct pb_journal_report *rep)
{
	struct pb_journal_report local;
	int fd = -1, busy = 0, rc;

	if (!rep) {
		pb_journal_report_init(&local);
		rep = &local;
	}
	rc = lock_take(root, 0, &fd, &busy);
	if (rc && !busy && !journal_exists(root))
		rc = PB_OK; /* e.g. no directory, or not root: nothing to do */
	if (rc == PB_OK && fd >= 0) {
		rc = restore_locked(root, rep);
		close(fd);
	} else {
		rep->busy = busy;
	}
	if (rep == &local)
		pb_journal_report_release(&local);
	return rc;
}

/* --- applying ------------------------------------------------------------ */

const char *pb_knob_status_name(enum pb_knob_status s)
{
	switch (s) {
	case PB_KNOB_APPLIED: return "applied";
	case PB_KNOB_NOT_APPLIED: return "not applied";
	case PB_KNOB_REFUSED: return "refused";
	}
	return "unknown";
}

struct apply {
	struct pb_knobs_state *st;
	pb_knobs_seam_fn seam;
	void *ctx;
};

static struct pb_knob_change *change_add(struct pb_knobs_state *st,
					 const char *setting,
					 const char *target)
{
	struct pb_knob_change *c;

	if (st->n == st->alloc) {
		size_t na = st->alloc ? st->alloc * 2 : 8;

		c = realloc(st->changes, na * sizeof(*c));
		if (!c) {
			pb_error_set("out of memory");
			return NULL;
		}
		st->changes = c;
		st->alloc = na;
	}
	c = &st->changes[st->n++];
	memset(c, 0, sizeof(*c));
	pb_strlcpy(c->setting, setting, sizeof(c->setting));
	pb_strlcpy(c->target, target, sizeof(c->target));
	return c;
}

static void set_status(struct pb_knob_change *c, enum pb_knob_status s,
		       const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_status(struct pb_knob_change *c, enum pb_knob_status s,
		       const char *fmt, ...)
{
	va_list ap;

	c->status = s;
	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
}

/* Appends "path<TAB>old" to the journal, creating it (and syncing its
 * directory) on first use.  PB_EINFRA when it is not safely on disk. */
static int journal_append(struct pb_knobs_state *st, const char *path,
			  const char *old)
{
	char jpath[4096], dir[4096];
	struct pb_buf line = PB_BUF_INIT(4096);
	int rc;
	ssize_t n;

	if ((rc = pb_journal_path(jpath, sizeof(jpath), st->root)) ||
	    (rc = pb_sys_path(dir, sizeof(dir), st->root, JOURNAL_DIR)))
		return rc;
	if ((rc = escape(&line, path)) || (rc = pb_buf_puts(&line, "\t")) ||
	    (rc = escape(&line, old)) || (rc = pb_buf_puts(&line, "\n"))) {
		pb_buf_release(&line);
		return pb_error_code(PB_EINFRA, "cannot journal %s", path);
	}
	if (st->journal_fd < 0) {
		int fd = open(jpath, O_WRONLY | O_CREAT | O_EXCL | O_APPEND |
				     O_CLOEXEC | O_NOFOLLOW, 0600);
		size_t hl = strlen(JOURNAL_HEADER);

		if (fd < 0) {
			rc = pb_error_code(PB_EINFRA, "cannot create the settings "
					   "journal %s: %s", jpath,
					   strerror(errno));
			goto out;
		}
		st->journal_fd = fd;
		/* the file, its entry, and the entry of a directory just made */
		if (write(fd, JOURNAL_HEADER, hl) != (ssize_t)hl ||
		    fsync(fd) < 0 || fsync_dir(dir) < 0 ||
		    pb_sys_path(dir, sizeof(dir), st->root, "/var/lib") ||
		    fsync_dir(dir) < 0) {
			rc = pb_error_code(PB_EINFRA, "cannot create the settings "
					   "journal %s: %s", jpath,
					   strerror(errno));
			goto out;
		}
	}
	/* One write(2) per line: a kill leaves a whole line or none. */
	do
		n = write(st->journal_fd, line.ptr, line.len);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)line.len || fsync(st->journal_fd) < 0)
		rc = pb_error_code(PB_EINFRA, "cannot write the settings journal "
				   "%s: %s", jpath,
				   n < 0 ? strerror(errno) : "short write");
out:
	pb_buf_release(&line);
	return rc;
}

/* Journals c->old_value for c->path, then writes c->new_value, recording
 * the outcome in c.  `same`: the file already holds the new value.
 * Returns PB_EINFRA only when the journal fails (nothing written then). */
static int change_file(struct apply *a, struct pb_knob_change *c, int same,
		       const char *note)
{
	int rc;

	if (same) {
		set_status(c, PB_KNOB_APPLIED, "already set%s%s",
			   note[0] ? "; " : "", note);
		return PB_OK;
	}
	if ((rc = journal_append(a->st, c->path, c->old_value)))
		return rc;
	if (a->seam)
		a->seam(a->ctx, c->path);
	rc = pb_sys_write(a->st->root, c->path, c->new_value);
	if (rc == PB_OK) {
		c->written = 1;
		set_status(c, PB_KNOB_APPLIED, "%s", note);
	} else if (rc == PB_ENOTFOUND) {
		set_status(c, PB_KNOB_NOT_APPLIED, "%s", pb_error_last());
	} else {
		set_status(c, PB_KNOB_REFUSED, "%s", pb_error_last());
	}
	return PB_OK;
}

/* zone_reclaim_mode, THP enabled, THP defrag.  `choice`: the file shows
 * its choices with the active one bracketed. */
static int apply_file(struct apply *a, const char *setting, const char *target,
		      const char *path, const char *want, int choice)
{
	struct pb_knob_change *c = change_add(a->st, setting, target);
	char buf[512];
	int rc;

	if (!c)
		return PB_ERROR;
	pb_strlcpy(c->path, path, sizeof(c->path));
	pb_strlcpy(c->new_value, want, sizeof(c->new_value));
	rc = pb_sys_read(a->st->root, path, buf, sizeof(buf));
	if (rc == PB_ENOTFOUND) {
		set_status(c, PB_KNOB_NOT_APPLIED, "this machine has no %s",
			   path);
		return PB_OK;
	}
	if (rc == PB_OK) {
		if (choice)
			rc = pb_bracketed_word(c->old_value,
					       sizeof(c->old_value), buf);
		else if (pb_strlcpy(c->old_value, buf, sizeof(c->old_value)) >=
			 sizeof(c->old_value))
			rc = pb_error_code(PB_ETOOBIG, "%s is too long", path);
	}
	if (rc) {
		c->old_value[0] = '\0';
		set_status(c, PB_KNOB_NOT_APPLIED, "cannot tell the current "
			   "value: %s", pb_error_last());
		return PB_OK;
	}
	return change_file(a, c, !strcmp(c->old_value, want), "");
}

/* The CPUs of node `node` under root, into set. */
static int node_cpus(struct pb_idset *set, const char *root, int node)
{
	char rel[96], buf[4096];
	int rc;

	snprintf(rel, sizeof(rel), "/sys/devices/system/node/node%d/cpulist",
		 node);
	if ((rc = pb_sys_read(root, rel, buf, sizeof(buf))))
		return rc;
	return pb_idset_parse(set, buf, rel);
}

/* The online CPUs under root: the union of the online nodes' CPU lists
 * (files under the sysroot), or cpu/online on a kernel without NUMA. */
static int online_cpus(struct pb_idset *set, const char *root)
{
	struct pb_idset nodes, one;
	char buf[4096];
	unsigned i, n;
	int rc;

	memset(set, 0, sizeof(*set));
	if (pb_sys_read(root, "/sys/devices/system/node/online", buf,
			sizeof(buf)) == PB_ENOTFOUND) {
		if ((rc = pb_sys_read(root, "/sys/devices/system/cpu/online",
				      buf, sizeof(buf))))
			return rc;
		return pb_idset_parse(set, buf, "cpu/online");
	}
	if ((rc = pb_idset_parse(&nodes, buf, "node/online")))
		return rc;
	n = pb_idset_count(&nodes);
	for (i = 0; i < n; i++) {
		size_t w;

		if ((rc = node_cpus(&one, root, pb_idset_nth(&nodes, i))))
			return rc;
		for (w = 0; w < PB_ARRAY_SIZE(set->bits); w++)
			set->bits[w] |= one.bits[w];
	}
	return PB_OK;
}

static int apply_irqs(struct apply *a, enum pb_irq_policy pol,
		      const struct pb_machine *m)
{
	const char *mode = irq_modes[pol];
	struct pb_knob_change *c;
	struct pb_idset cpus;
	char local[256], note[128] = "";
	unsigned *irqs = NULL;
	size_t n = 0, i;
	int rc = PB_OK;

	if (pol == PB_IRQ_NONE || !m->nic) {
		c = change_add(a->st, "irq_affinity", m->nic ? m->nic : "");
		if (!c)
			return PB_ERROR;
		pb_strlcpy(c->new_value, mode, sizeof(c->new_value));
		if (pol == PB_IRQ_NONE)
			set_status(c, PB_KNOB_APPLIED, "left as they are");
		else
			set_status(c, PB_KNOB_NOT_APPLIED, "no network interface "
				   "configured (--nic)");
		return PB_OK;
	}
	rc = pb_nic_irqs(&irqs, &n, m->root, m->nic);
	if (rc == PB_OK && n == 0)
		rc = pb_error_code(PB_ENOTFOUND, "interface '%s' has no MSI "
				   "IRQs", m->nic);
	if (rc == PB_OK && pol == PB_IRQ_LOCAL) {
		int node = pb_nic_node(m->root, m->nic);

		if (node < 0) {
			node = 0;
			snprintf(note, sizeof(note), "the NIC's node is unknown "
				 "(numa_node -1): used node 0");
		}
		rc = node_cpus(&cpus, m->root, node);
		if (rc == PB_OK && pb_idset_count(&cpus) == 0)
			rc = pb_error_code(PB_EINVAL, "node %d has no CPUs",
					   node);
		if (rc == PB_OK)
			rc = pb_idset_format(local, sizeof(local), &cpus);
	} else if (rc == PB_OK) {
		rc = online_cpus(&cpus, m->root);
		if (rc == PB_OK && pb_idset_count(&cpus) == 0)
			rc = pb_error_code(PB_EINVAL, "no online CPUs found");
	}
	if (rc) {
		c = change_add(a->st, "irq_affinity", m->nic);
		if (c) {
			pb_strlcpy(c->new_value, mode, sizeof(c->new_value));
			set_status(c, PB_KNOB_NOT_APPLIED, "%s", pb_error_last());
		}
		free(irqs);
		return c ? PB_OK : PB_ERROR;
	}
	for (i = 0; i < n && rc == PB_OK; i++) {
		struct pb_idset old, want;
		char target[64], buf[512];
		int rrc;

		snprintf(target, sizeof(target), "irq %u", irqs[i]);
		if (!(c = change_add(a->st, "irq_affinity", target))) {
			rc = PB_ERROR;
			break;
		}
		snprintf(c->path, sizeof(c->path),
			 "/proc/irq/%u/smp_affinity_list", irqs[i]);
		if (pol == PB_IRQ_LOCAL)
			pb_strlcpy(c->new_value, local, sizeof(c->new_value));
		else
			snprintf(c->new_value, sizeof(c->new_value), "%d",
				 pb_idset_nth(&cpus, (unsigned)(i %
						 pb_idset_count(&cpus))));
		rrc = pb_sys_read(a->st->root, c->path, buf, sizeof(buf));
		if (rrc == PB_OK &&
		    pb_strlcpy(c->old_value, buf, sizeof(c->old_value)) >=
			    sizeof(c->old_value))
			rrc = pb_error_code(PB_ETOOBIG, "%s is too long", c->path);
		if (rrc == PB_OK)
			rrc = pb_idset_parse(&old, buf, c->path);
		if (rrc) {
			c->old_value[0] = '\0';
			set_status(c, PB_KNOB_NOT_APPLIED, "cannot tell the "
				   "current affinity: %s", pb_error_last());
			continue;
		}
		pb_idset_parse(&want, c->new_value, "new affinity");
		rc = change_file(a, c, !memcmp(&old, &want, sizeof(old)), note);
	}
	free(irqs);
	return rc;
}

/* "default", "bind", ...: the calling process's memory policy mode. */
static const char *own_policy(void)
{
	int mode = -1;

	if (get_mempolicy(&mode, NULL, 0, NULL, 0) < 0)
		return "";
	switch (mode) {
	case MPOL_DEFAULT: return "default";
	case MPOL_PREFERRED: return "preferred";
	case MPOL_BIND: return "bind";
	case MPOL_INTERLEAVE: return "interleave";
	case MPOL_LOCAL: return "local";
	}
	return "other";
}

/* The nodes of a libnuma mask as a list, for messages. */
static void mask_list(char *out, size_t size, struct bitmask *mask)
{
	struct pb_idset set;
	unsigned i;

	memset(&set, 0, sizeof(set));
	for (i = 0; i < mask->size && i < PB_IDSET_MAX; i++)
		if (numa_bitmask_isbitset(mask, i))
			pb_idset_add(&set, i);
	if (pb_idset_format(out, size, &set))
		pb_strlcpy(out, "many", size);
}

/* Decides, against the real machine, whether the policy applies, and
 * prepares the masks pb_knobs_child() hands to the kernel. */
static int prepare_numa(struct pb_knobs_state *st, const struct pb_knobs *k)
{
	struct pb_knob_change *c = change_add(st, "numa_policy",
					      "benchmark process");
	int node = k->numa_node;
	char nodes[128];

	if (!c)
		return PB_ERROR;
	pb_strlcpy(c->old_value, own_policy(), sizeof(c->old_value));
	switch (k->numa_policy) {
	case PB_NUMA_UNSET:
		break;
	case PB_NUMA_DEFAULT:
		pb_strlcpy(c->new_value, "default", sizeof(c->new_value));
		break;
	case PB_NUMA_BIND:
		snprintf(c->new_value, sizeof(c->new_value), "bind:%d", node);
		break;
	case PB_NUMA_INTERLEAVE_ALL:
		pb_strlcpy(c->new_value, "interleave:all", sizeof(c->new_value));
		break;
	case PB_NUMA_CPUNODEBIND:
		snprintf(c->new_value, sizeof(c->new_value), "cpunodebind:%d",
			 node);
		break;
	}
	if (numa_available() < 0) {
		set_status(c, PB_KNOB_NOT_APPLIED, "this machine has no NUMA "
			   "support (numa_available() failed)");
		return PB_OK;
	}
	if ((k->numa_policy == PB_NUMA_BIND ||
	     k->numa_policy == PB_NUMA_CPUNODEBIND) &&
	    (node > numa_max_node() ||
	     !numa_bitmask_isbitset(numa_nodes_ptr, (unsigned)node))) {
		mask_list(nodes, sizeof(nodes), numa_nodes_ptr);
		set_status(c, PB_KNOB_NOT_APPLIED, "node %d does not exist on "
			   "this machine (nodes: %s)", node, nodes);
		return PB_OK;
	}
	switch (k->numa_policy) {
	case PB_NUMA_UNSET:
		break;
	case PB_NUMA_DEFAULT:
		st->numa_action = NUMA_DEFAULT;
		break;
	case PB_NUMA_BIND:
		if (!numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned)node)) {
			mask_list(nodes, sizeof(nodes), numa_all_nodes_ptr);
			set_status(c, PB_KNOB_NOT_APPLIED, "node %d has no memory "
				   "this process may use (cpuset or memoryless "
				   "node; allowed: %s)", node, nodes);
			return PB_OK;
		}
		if (!(st->numa_nodes = numa_allocate_nodemask()))
			return pb_error_set("out of memory");
		numa_bitmask_setbit(st->numa_nodes, (unsigned)node);
		st->numa_action = NUMA_BIND;
		break;
	case PB_NUMA_INTERLEAVE_ALL:
		if (!(st->numa_nodes = numa_allocate_nodemask()))
			return pb_error_set("out of memory");
		copy_bitmask_to_bitmask(numa_all_nodes_ptr, st->numa_nodes);
		st->numa_action = NUMA_INTERLEAVE;
		break;
	case PB_NUMA_CPUNODEBIND:
		if (!(st->numa_cpus = numa_allocate_cpumask()))
			return pb_error_set("out of memory");
		if (numa_node_to_cpus(node, st->numa_cpus) < 0) {
			set_status(c, PB_KNOB_NOT_APPLIED, "cannot read the CPUs "
				   "of node %d: %s", node, strerror(errno));
			return PB_OK;
		}
		for (unsigned i = 0; i < st->numa_cpus->size; i++)
			if (!numa_bitmask_isbitset(numa_all_cpus_ptr, i))
				numa_bitmask_clearbit(st->numa_cpus, i);
		if (numa_bitmask_weight(st->numa_cpus) == 0) {
			set_status(c, PB_KNOB_NOT_APPLIED, "node %d has no CPUs "
				   "this process may run on", node);
			return PB_OK;
		}
		st->numa_action = NUMA_CPUBIND;
		break;
	}
	set_status(c, PB_KNOB_APPLIED, "%s", "");
	return PB_OK;
}

static int needs_files(const struct pb_knobs *k)
{
	return k->zone_reclaim_mode >= 0 || k->thp[0] || k->thp_defrag[0] ||
	       k->irq_affinity == PB_IRQ_LOCAL ||
	       k->irq_affinity == PB_IRQ_SPREAD;
}

int pb_knobs_apply_seam(struct pb_knobs_state *out, const struct pb_knobs *k,
			const struct pb_machine *m, pb_knobs_seam_fn seam,
			void *ctx)
{
	struct apply a = { out, seam, ctx };
	char msg[1024];
	int rc = PB_OK;

	memset(out, 0, sizeof(*out));
	pb_journal_report_init(&out->leftover);
	out->lock_fd = out->journal_fd = -1;
	out->owner = getpid();
	if (!is_real_root(m->root) && !(out->root = pb_strdup(m->root)))
		return PB_ERROR;
	if (needs_files(k)) {
		rc = lock_take(out->root, 1, &out->lock_fd, &out->leftover.busy);
		if (rc == PB_OK) {
			rc = restore_locked(out->root, &out->leftover);
			if (rc == PB_ERROR)
				rc = PB_OK; /* reported in leftover; carry on */
		}
		if (rc)
			goto fail;
	}
	if (k->zone_reclaim_mode >= 0)
		rc = apply_file(&a, "zone_reclaim_mode", "vm.zone_reclaim_mode",
				ZONE_RECLAIM, k->zone_reclaim_mode ? "1" : "0", 0);
	if (rc == PB_OK && k->thp[0])
		rc = apply_file(&a, "thp", "transparent_hugepage/enabled",
				THP_ENABLED, k->thp, 1);
	if (rc == PB_OK && k->thp_defrag[0])
		rc = apply_file(&a, "thp_defrag", "transparent_hugepage/defrag",
				THP_DEFRAG, k->thp_defrag, 1);
	if (rc == PB_OK && k->irq_affinity != PB_IRQ_UNSET)
		rc = apply_irqs(&a, k->irq_affinity, m);
	if (rc == PB_OK && k->numa_policy != PB_NUMA_UNSET)
		rc = prepare_numa(out, k);
	if (rc == PB_OK)
		return PB_OK;
fail:
	/* Put back what was changed before saying why we stopped. */
	pb_strlcpy(msg, pb_error_last(), sizeof(msg));
	(void)pb_knobs_restore(out);
	return pb_error_code(rc, "%s", msg);
}

int pb_knobs_apply(struct pb_knobs_state *out, const struct pb_knobs *k,
		   const struct pb_machine *m)
{
	return pb_knobs_apply_seam(out, k, m, NULL, NULL);
}

int pb_knobs_child(const struct pb_knobs_state *st)
{
	long rc = 0;

	switch (st->numa_action) {
	case NUMA_NOTHING:
		return 0;
	case NUMA_DEFAULT:
		rc = set_mempolicy(MPOL_DEFAULT, NULL, 0);
		break;
	case NUMA_BIND:
		rc = set_mempolicy(MPOL_BIND, st->numa_nodes->maskp,
				   st->numa_nodes->size + 1);
		break;
	case NUMA_INTERLEAVE:
		rc = set_mempolicy(MPOL_INTERLEAVE, st->numa_nodes->maskp,
				   st->numa_nodes->size + 1);
		break;
	case NUMA_CPUBIND:
		rc = numa_sched_setaffinity(0, st->numa_cpus);
		break;
	}
	return rc < 0 ? -errno : 0;
}

int pb_knobs_restore(struct pb_knobs_state *st)
{
	char jpath[4096], dir[4096], first[512] = "";
	size_t i, failed = 0;

	if (!st || st->restored || st->owner != getpid())
		return PB_OK;
	st->restored = 1;
	for (i = st->n; i-- > 0;) {
		struct pb_knob_change *c = &st->changes[i];
		int rc;

		if (!c->written)
			continue;
		rc = pb_sys_write(st->root, c->path, c->old_value);
		if (rc) {
			pb_strlcpy(c->restore_error, pb_error_last(),
				   sizeof(c->restore_error));
			if (!failed++)
				pb_strlcpy(first, c->restore_error, sizeof(first));
		}
	}
	if (st->journal_fd >= 0) {
		sync_tree(st->root);
		if (pb_journal_path(jpath, sizeof(jpath), st->root) == PB_OK &&
		    pb_sys_path(dir, sizeof(dir), st->root, JOURNAL_DIR) == PB_OK) {
			(void)unlink(jpath);
			(void)fsync_dir(dir);
		}
		close(st->journal_fd);
		st->journal_fd = -1;
	}
	if (st->lock_fd >= 0) {
		close(st->lock_fd); /* drops the flock */
		st->lock_fd = -1;
	}
	if (failed)
		return pb_error_set("could not restore %zu setting(s): %s", failed,
				    first);
	return PB_OK;
}

void pb_knobs_release(struct pb_knobs_state *st)
{
	if (!st)
		return;
	(void)pb_knobs_restore(st);
	if (st->owner != getpid()) {
		/* a forked child: its copies of the descriptors are its own */
		if (st->journal_fd >= 0)
			close(st->journal_fd);
		if (st->lock_fd >= 0)
			close(st->lock_fd);
		st->journal_fd = st->lock_fd = -1;
	}
	free(st->changes);
	st->changes = NULL;
	st->n = st->alloc = 0;
	free(st->root);
	st->root = NULL;
	if (st->numa_nodes)
		numa_bitmask_free(st->numa_nodes);
	if (st->numa_cpus)
		numa_bitmask_free(st->numa_cpus);
	st->numa_nodes = st->numa_cpus = NULL;
	st->numa_action = NUMA_NOTHING;
	pb_journal_report_release(&st->leftover);
}
