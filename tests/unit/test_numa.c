/*
 * test_numa.c - NUMA facts: numa_maps lines saved from kernels 2.6.16 to
 * 6.18 (tests/fixtures/numa_maps), topology of a fake two-node sysroot and
 * of this machine (checked against libnuma), start-CPU rotation and
 * pinning, attribution of real processes' pages to .data/.bss/heap/stack,
 * and numastat/vmstat deltas over two versions of the files.
 *
 * The end-to-end case: a child of this test touches a 64 MiB array in this
 * binary's .bss (or the binary is run again through `/bin/sh -c`, which
 * forks it), and a sample of its own numa_maps must show at least 16,384
 * .data/.bss pages on node 0 under this binary's path (at least 16,383 of
 * them anonymous .bss: an array that is not page-aligned begins in the
 * file-backed last page of .data), with the CPU and node it was pinned to
 * at the start.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <numa.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/facts.h"
#include "agent/numa.h"
#include "common/err.h"
#include "common/util.h"

#define BIG_BSS (64u << 20)
#define BSS_PAGES_4K (BIG_BSS / 4096)   /* 16,384 */

/* Zero-initialised, so it lives in .bss: touched only by children. */
static volatile char big_bss[BIG_BSS];

static unsigned page_size(void)
{
	return (unsigned)sysconf(_SC_PAGESIZE);
}

static void touch_big_bss(void)
{
	for (size_t i = 0; i < BIG_BSS; i += page_size())
		big_bss[i] = 1;
}

/* ---- fixtures --------------------------------------------------------- */

static char *fixture_path(const char *name)
{
	const char *dir = getenv("PB_FIXTURES");
	char path[4096];

	snprintf(path, sizeof(path), "%s/numa_maps/%s",
		 dir ? dir : "tests/fixtures", name);
	return pb_strdup(path);
}

/* The fixture's text without its '#' lines; malloc'd. */
static char *fixture_text(const char *name)
{
	char *path = fixture_path(name), *line = NULL, *text = NULL;
	size_t cap = 0, len = 0;
	FILE *f = fopen(path, "r"), *out;

	if (!f)
		fail_msg("cannot open %s (run from the top directory or set "
			 "PB_FIXTURES)", path);
	out = open_memstream(&text, &len);
	assert_non_null(out);
	while (getline(&line, &cap, f) >= 0)
		if (line[0] != '#')
			fputs(line, out);
	fclose(out);
	fclose(f);
	free(line);
	free(path);
	return text;
}

static const char *const real_fixtures[] = {
	"linux-2.6.16-lameter.numa_maps",
	"linux-2.6-drepper.numa_maps",
	"linux-2.6.27-hwloc.numa_maps",
	"linux-3.1-hansen.numa_maps",
	"linux-3.2-debian.numa_maps",
	"linux-3.x-mongodb-8node.numa_maps",
	"linux-6.8-weighted-interleave.numa_maps",
	"linux-6.x-cubesandbox-2node.numa_maps",
	"linux-6.18-cat.numa_maps",
	"linux-6.18-policy-flags.numa_maps",
	"pair-linux-6.18.numa_maps",
	"synthetic-many-nodes.numa_maps",
};

/* Finds the fixture line starting with `prefix` and parses it. */
static void parse_fixture_line(struct pb_nm_entry *e, const char *name,
			       const char *prefix)
{
	char *text = fixture_text(name), *save = NULL, *line;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, prefix, strlen(prefix)) == 0) {
			if (pb_numa_maps_parse_line(e, line))
				fail_msg("%s: %s", name, pb_error_last());
			free(text);
			return;
		}
	}
	free(text);
	fail_msg("%s: no line starting '%s'", name, prefix);
}

/* ---- lists ------------------------------------------------------------ */

static void test_numa__list_parse(void **state)
{
	uint64_t m[2];
	unsigned n, dropped;

	(void)state;
	assert_int_equal(pb_numa_list_parse(m, 128, "0-3,8,10-11", &n,
					    &dropped), 0);
	assert_int_equal(n, 7);
	assert_int_equal(dropped, 0);
	assert_true(m[0] == 0xd0full);
	assert_int_equal(pb_numa_list_parse(m, 128, "", &n, NULL), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pb_numa_list_parse(m, 128, "5\n", &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pb_numa_list_parse(m, 128, "1,1,0-1", &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_int_equal(pb_numa_list_parse(m, 64, "60-70,100", &n, &dropped),
			 0);
	assert_int_equal(n, 4);
	assert_int_equal(dropped, 8);
	assert_int_equal(pb_numa_list_parse(m, 128, "3-1", &n, NULL), PB_EINVAL);
	assert_int_equal(pb_numa_list_parse(m, 128, "0-", &n, NULL), PB_EINVAL);
	assert_int_equal(pb_numa_list_parse(m, 128, "0,,1", &n, NULL),
			 PB_EINVAL);
	assert_int_equal(pb_numa_list_parse(m, 128, "x", &n, NULL), PB_EINVAL);
	assert_int_equal(pb_numa_list_parse(m, 128, "-1", &n, NULL), PB_EINVAL);
	assert_int_equal(pb_numa_list_parse(m, 128, "0-3,", &n, NULL), PB_EINVAL);
}

/* ---- numa_maps lines -------------------------------------------------- */

/* Every real line parses, knows all its fields, and its N<node>= add up to
 * the mapping's pages as show_numa_map() counts them. */
static void test_numa__fixtures_parse_and_add_up(void **state)
{
	struct pb_nm_entry *e = malloc(sizeof(*e));
	unsigned total = 0;

	(void)state;
	assert_non_null(e);
	for (unsigned i = 0; i < PB_ARRAY_SIZE(real_fixtures); i++) {
		char *text = fixture_text(real_fixtures[i]), *save = NULL;
		unsigned lines = 0;

		for (char *line = strtok_r(text, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			uint64_t want, sum;

			if (pb_numa_maps_parse_line(e, line))
				fail_msg("%s: %s", real_fixtures[i],
					 pb_error_last());
			sum = e->far_pages;
			for (unsigned n = 0; n < PB_NUMA_MAX_NODES; n++)
				sum += e->node[n];
			want = e->mapped ? e->mapped
			       : e->anon > e->dirty ? e->anon : e->dirty;
			if (sum != e->pages || sum != want || e->unknown)
				fail_msg("%s: '%s': N sum %llu, pages %llu, "
					 "expected %llu, %u unknown fields",
					 real_fixtures[i], line,
					 (unsigned long long)sum,
					 (unsigned long long)e->pages,
					 (unsigned long long)want, e->unknown);
			if (e->mode == PB_MPOL_OTHER)
				fail_msg("%s: '%s': policy '%s' not known",
					 real_fixtures[i], line, e->policy);
			lines++;
		}
		assert_true(lines > 0);
		total += lines;
		free(text);
	}
	assert_true(total > 150);
	free(e);
}

static void test_numa__policies_with_spaces_and_flags(void **state)
{
	static const struct {
		const char *file, *prefix, *policy, *nodes;
		enum pb_mpol mode;
	} cases[] = {
		{ "pair-linux-6.18.numa_maps", "7fe9a8058000",
		  "prefer (many)=static:0", "0", PB_MPOL_PREFERRED_MANY },
		{ "pair-linux-6.18.numa_maps", "7fe9a8061000", "weighted interleave:0",
		  "0", PB_MPOL_WEIGHTED_INTERLEAVE },
		{ "pair-linux-6.18.numa_maps", "7fe9a8064000", "prefer (many):0",
		  "0", PB_MPOL_PREFERRED_MANY },
		{ "pair-linux-6.18.numa_maps", "7fe9a8067000", "local", "",
		  PB_MPOL_LOCAL },
		{ "pair-linux-6.18.numa_maps", "7fe9a825e000", "prefer:0", "0",
		  PB_MPOL_PREFERRED },
		{ "pair-linux-6.18.numa_maps", "7fe9a8261000", "interleave:0", "0",
		  PB_MPOL_INTERLEAVE },
		{ "pair-linux-6.18.numa_maps", "7fe9a8055000", "bind=balancing:0",
		  "0", PB_MPOL_BIND },
		{ "linux-6.18-policy-flags.numa_maps", "7fd33c204000",
		  "weighted interleave=relative:0", "0",
		  PB_MPOL_WEIGHTED_INTERLEAVE },
		{ "linux-6.18-policy-flags.numa_maps", "7fd33c20a000",
		  "bind=static|balancing:0", "0", PB_MPOL_BIND },
		{ "linux-6.8-weighted-interleave.numa_maps", "0176a000",
		  "weighted interleave:0-1", "0-1", PB_MPOL_WEIGHTED_INTERLEAVE },
		{ "linux-2.6.27-hwloc.numa_maps", "7ffd861da000 bind:1",
		  "bind:1", "1", PB_MPOL_BIND },
		{ "linux-3.x-mongodb-8node.numa_maps", "00400000 interleave",
		  "interleave:0-7", "0-7", PB_MPOL_INTERLEAVE },
		{ "synthetic-many-nodes.numa_maps", "7f4000000000",
		  "prefer (many)=relative:0-3", "0-3", PB_MPOL_PREFERRED_MANY },
	};
	struct pb_nm_entry *e = malloc(sizeof(*e));

	(void)state;
	assert_non_null(e);
	for (unsigned i = 0; i < PB_ARRAY_SIZE(cases); i++) {
		parse_fixture_line(e, cases[i].file, cases[i].prefix);
		assert_string_equal(e->policy, cases[i].policy);
		assert_string_equal(e->policy_nodes, cases[i].nodes);
		assert_int_equal(e->mode, cases[i].mode);
	}

	/* the weighted-interleave heap line: policy, label and both nodes */
	parse_fixture_line(e, "linux-6.8-weighted-interleave.numa_maps",
			   "01b14000");
	assert_true(e->heap);
	assert_int_equal(e->anon, 65793);
	assert_int_equal(e->node[0], 54828);
	assert_int_equal(e->node[1], 10965);
	assert_int_equal(e->max_node, 1);
	assert_int_equal(e->kernelpagesize_kb, 4);
	assert_int_equal(e->addr, 0x01b14000);
	free(e);
}

static void test_numa__files_heap_stack_huge(void **state)
{
	struct pb_nm_entry *e = malloc(sizeof(*e));

	(void)state;
	assert_non_null(e);
	/* seq_path escapes blank, tab, newline and '=' as \ooo */
	parse_fixture_line(e, "pair-linux-6.18.numa_maps", "7fe9a825c000");
	assert_string_equal(e->file, "/tmp/pbnuma/a b=c\td");
	assert_int_equal(e->anon, 1);
	parse_fixture_line(e, "pair-linux-6.18.numa_maps", "7fe9a8054000");
	assert_string_equal(e->file, "/tmp/pbnuma/gone (deleted)");
	assert_int_equal(e->pages, 0);
	assert_int_equal(e->max_node, -1);
	parse_fixture_line(e, "linux-3.1-hansen.numa_maps", "7f7659600000");
	assert_string_equal(e->file, "/anon_hugepage (deleted)");
	assert_int_equal(e->kernelpagesize_kb, 0);
	/* an empty mapping: address and policy only */
	parse_fixture_line(e, "pair-linux-6.18.numa_maps", "7fe9a8000000");
	assert_string_equal(e->policy, "default");
	assert_int_equal(e->pages, 0);
	assert_string_equal(e->file, "");

	parse_fixture_line(e, "linux-2.6.16-lameter.numa_maps",
			   "8000000090000000");
	assert_true(e->huge);
	assert_string_equal(e->file, "/mnt/huge/test1");
	assert_int_equal(e->dirty, 3);
	assert_int_equal(e->node[0], 1);
	assert_int_equal(e->node[2], 2);
	assert_true(e->addr == 0x8000000090000000ull);
	parse_fixture_line(e, "linux-2.6.16-lameter.numa_maps",
			   "6000000000004000");
	assert_true(e->heap);
	assert_int_equal(e->pages, 0);
	parse_fixture_line(e, "linux-2.6.16-lameter.numa_maps", "00000000");
	assert_int_equal(e->addr, 0);
	parse_fixture_line(e, "linux-2.6.16-lameter.numa_maps",
			   "20000000002c8000");
	assert_int_equal(e->swapcache, 3);
	assert_int_equal(e->active, 2);
	assert_int_equal(e->node[1] + e->node[2], 3);

	parse_fixture_line(e, "linux-2.6-drepper.numa_maps", "7fffedcc7000");
	assert_true(e->stack);
	assert_int_equal(e->node[3], 2);
	parse_fixture_line(e, "linux-2.6-drepper.numa_maps", "38a943f000");
	assert_int_equal(e->mapped, 3);
	assert_int_equal(e->mapmax, 32);
	assert_int_equal(e->node[1], 2);
	assert_int_equal(e->node[3], 1);

	/* N0..N7 and beyond the 64-node cap */
	parse_fixture_line(e, "synthetic-many-nodes.numa_maps", "7f0000000000");
	for (unsigned n = 0; n < 8; n++)
		assert_int_equal(e->node[n], 512);
	assert_int_equal(e->max_node, 7);
	parse_fixture_line(e, "synthetic-many-nodes.numa_maps", "7f1000000000");
	assert_int_equal(e->node[63], 10);
	assert_int_equal(e->far_pages, 20);
	assert_int_equal(e->pages, 30);
	assert_int_equal(e->max_node, 1023);
	parse_fixture_line(e, "synthetic-many-nodes.numa_maps", "7f2000000000");
	assert_true(e->huge);
	assert_int_equal(e->kernelpagesize_kb, 1048576);
	parse_fixture_line(e, "synthetic-many-nodes.numa_maps", "7f3000000000");
	assert_int_equal(e->writeback, 2);
	assert_int_equal(e->swapcache, 1);
	assert_int_equal(e->mapmax, 2);
	assert_string_equal(e->file, "/var/tmp/log");
	free(e);
}

/* Forms no saved output shows, written out by hand: the thread stacks of
 * kernels 3.4-4.4, names printed with raw blanks before seq_path escaped
 * them, fields this parser does not know, and broken lines. */
static void test_numa__old_forms_and_errors(void **state)
{
	struct pb_nm_entry *e = malloc(sizeof(*e));

	(void)state;
	assert_non_null(e);
	assert_int_equal(pb_numa_maps_parse_line(
		e, "7f0a1c000000 default stack:4242 anon=3 dirty=3 N1=3\n"), 0);
	assert_true(e->stack);
	assert_int_equal(e->stack_tid, 4242);
	assert_int_equal(e->node[1], 3);
	assert_int_equal(pb_numa_maps_parse_line(
		e, "2000 default file=/tmp/a b c mapped=2 N0=2"), 0);
	assert_string_equal(e->file, "/tmp/a b c");
	assert_int_equal(e->mapped, 2);
	assert_int_equal(pb_numa_maps_parse_line(
		e, "1000 default locked=3 anon=1 N0=1 shiny"), 0);
	assert_int_equal(e->unknown, 2);
	assert_int_equal(e->anon, 1);
	/* a policy this parser has never seen stays whole */
	assert_int_equal(pb_numa_maps_parse_line(
		e, "1000 hedge (fair)=x:0-1 anon=1 N0=1"), 0);
	assert_string_equal(e->policy, "hedge (fair)=x:0-1");
	assert_int_equal(e->mode, PB_MPOL_OTHER);
	assert_string_equal(e->policy_nodes, "0-1");
	/* a policy alone on its line, with a space */
	assert_int_equal(pb_numa_maps_parse_line(e, "1000 prefer (many):0-1"), 0);
	assert_string_equal(e->policy, "prefer (many):0-1");
	/* "preferred" is not "prefer" */
	assert_int_equal(pb_numa_maps_parse_line(e, "1000 preferred"), 0);
	assert_int_equal(e->mode, PB_MPOL_OTHER);

	assert_int_equal(pb_numa_maps_parse_line(e, ""), PB_EINVAL);
	assert_int_equal(pb_numa_maps_parse_line(e, "\n"), PB_EINVAL);
	assert_int_equal(pb_numa_maps_parse_line(e, "xyz default"), PB_EINVAL);
	assert_int_equal(pb_numa_maps_parse_line(e, "1000"), PB_EINVAL);
	assert_int_equal(pb_numa_maps_parse_line(e, "1000 default anon=x"),
			 PB_EINVAL);
	assert_int_equal(pb_numa_maps_parse_line(e, "1000 default N0="),
			 PB_EINVAL);
	assert_int_equal(pb_numa_maps_parse_line(
		e, "1000 default N0=99999999999999999999"), PB_EINVAL);
	assert_int_equal(pb_numa_maps_parse_line(e, "12345678901234567 default"),
			 PB_EINVAL);
	free(e);
}

static void test_numa__maps_lines(void **state)
{
	struct pb_nm_vma *v = malloc(sizeof(*v));
	char *text = fixture_text("pair-linux-6.18.maps"), *save = NULL;
	unsigned n = 0;

	(void)state;
	assert_non_null(v);
	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (pb_numa_vma_parse_line(v, line))
			fail_msg("%s", pb_error_last());
		assert_true(v->end > v->start);
		n++;
	}
	assert_int_equal(n, 53);
	free(text);

	assert_int_equal(pb_numa_vma_parse_line(v,
		"7fe9a825c000-7fe9a825e000 rw-p 00000000 fe:00 10969510"
		"                   /tmp/pbnuma/a b=c\td\n"), 0);
	assert_string_equal(v->path, "/tmp/pbnuma/a b=c\td");
	assert_string_equal(v->perms, "rw-p");
	assert_int_equal(pb_numa_vma_parse_line(v,
		"5561a7d03000-5561a8003000 rw-p 00000000 00:00 0 \n"), 0);
	assert_string_equal(v->path, "");
	assert_true(v->end - v->start == 3u << 20);
	assert_int_equal(pb_numa_vma_parse_line(v,
		"00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/dbus-daemon"), 0);
	assert_int_equal(v->start, 0x400000);
	assert_string_equal(v->path, "/usr/bin/dbus-daemon");
	assert_int_equal(pb_numa_vma_parse_line(v, "garbage"), PB_EINVAL);
	assert_int_equal(pb_numa_vma_parse_line(v, "1000-2000 rw-p"), PB_EINVAL);
	free(v);
}

/* ---- attribution ------------------------------------------------------ */

static FILE *text_stream(char *text)
{
	FILE *f = fmemopen(text, strlen(text), "r");

	assert_non_null(f);
	return f;
}

static uint64_t all_pages(const char *numa_maps_text)
{
	char *copy = pb_strdup(numa_maps_text), *save = NULL;
	struct pb_nm_entry *e = malloc(sizeof(*e));
	uint64_t sum = 0;

	assert_non_null(e);
	for (char *line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		assert_int_equal(pb_numa_maps_parse_line(e, line), 0);
		sum += e->pages;
	}
	free(e);
	free(copy);
	return sum;
}

/* The saved pair: a 3 MiB .bss is the anonymous mapping right behind the
 * executable; libc's own .bss (anonymous, right behind libc) is not. */
static void test_numa__attribution_of_saved_pair(void **state)
{
	char *maps = fixture_text("pair-linux-6.18.maps");
	char *nm = fixture_text("pair-linux-6.18.numa_maps");
	struct pb_nm_usage *u = calloc(1, sizeof(*u));
	uint64_t total = all_pages(nm), mine;
	FILE *fm, *fn;

	(void)state;
	assert_non_null(u);
	fm = text_stream(maps);
	fn = text_stream(nm);
	assert_int_equal(pb_numa_usage_add(u, "/tmp/pbnuma/gen", fm, fn), 0);
	fclose(fm);
	fclose(fn);
	assert_int_equal(u->unmatched, 0);
	assert_int_equal(u->bad_lines, 0);
	assert_int_equal(u->pages[PB_NM_TEXT][0], 4);
	assert_int_equal(u->pages[PB_NM_DATA][0], 1);
	assert_int_equal(u->pages[PB_NM_BSS][0], 768);
	assert_int_equal(u->pages[PB_NM_HEAP][0], 4);
	assert_int_equal(u->pages[PB_NM_STACK][0], 4);
	mine = 4 + 1 + 768 + 4 + 4;
	assert_int_equal(pb_nm_usage_total(u, PB_NM_OTHER), total - mine);
	assert_int_equal(pb_nm_usage_total(u, PB_NM_BSS), 768);
	assert_int_equal(pb_nm_usage_data_bss(u, 0), 769);
	assert_int_equal(pb_nm_usage_data_bss(u, -1), 769);
	assert_int_equal(pb_nm_usage_data_bss(u, 1), 0);
	assert_int_equal(pb_nm_usage_data_bss(u, PB_NUMA_MAX_NODES), 0);

	/* Another executable's view of the same process: nothing is its
	 * image, so no data, text or bss; heap and stack stay. */
	memset(u, 0, sizeof(*u));
	fm = text_stream(maps);
	fn = text_stream(nm);
	assert_int_equal(pb_numa_usage_add(u, "/usr/bin/other", fm, fn), 0);
	fclose(fm);
	fclose(fn);
	assert_int_equal(pb_nm_usage_total(u, PB_NM_DATA), 0);
	assert_int_equal(pb_nm_usage_total(u, PB_NM_BSS), 0);
	assert_int_equal(pb_nm_usage_total(u, PB_NM_TEXT), 0);
	assert_int_equal(u->pages[PB_NM_HEAP][0], 4);
	assert_int_equal(pb_nm_usage_total(u, PB_NM_OTHER), total - 8);

	/* numa_maps lines maps does not know fall back on their own labels */
	memset(u, 0, sizeof(*u));
	{
		char none[] = "";
		char lines[] = "1000 default heap anon=2 N1=2\n"
			       "9000 default stack anon=3 N0=3\n"
			       "a000 default stack:77 anon=1 N0=1\n"
			       "not a line\n";

		fm = text_stream(none);
		fn = text_stream(lines);
		assert_int_equal(pb_numa_usage_add(u, "/x", fm, fn), 0);
		fclose(fm);
		fclose(fn);
	}
	assert_int_equal(u->unmatched, 3);
	assert_int_equal(u->bad_lines, 1);
	assert_int_equal(u->pages[PB_NM_HEAP][1], 2);
	assert_int_equal(u->pages[PB_NM_STACK][0], 3);
	assert_int_equal(u->pages[PB_NM_OTHER][0], 1);

	/* hugetlb counts are huge pages: 1 GiB pages become base pages */
	memset(u, 0, sizeof(*u));
	{
		char m[] = "7f2000000000-7f2080000000 rw-s 00000000 00:0f 1 /dev/hugepages/big\n";
		char l[] = "7f2000000000 default file=/dev/hugepages/big huge "
			   "dirty=2 N2=1 N5=1 kernelpagesize_kB=1048576\n";

		fm = text_stream(m);
		fn = text_stream(l);
		assert_int_equal(pb_numa_usage_add(u, "/x", fm, fn), 0);
		fclose(fm);
		fclose(fn);
	}
	assert_int_equal(u->pages[PB_NM_OTHER][2], (1u << 30) / page_size());
	assert_int_equal(u->pages[PB_NM_OTHER][5], (1u << 30) / page_size());

	free(u);
	free(maps);
	free(nm);
}

/* This very process: its image is text and data, and pb_numa_usage_add
 * reads the real files. */
static void test_numa__attribution_of_this_process(void **state)
{
	struct pb_nm_usage *u = calloc(1, sizeof(*u));
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *fm = fopen("/proc/self/maps", "re");
	FILE *fn = fopen("/proc/self/numa_maps", "re");

	(void)state;
	assert_true(len > 0);
	exe[len] = '\0';
	assert_non_null(u);
	assert_non_null(fm);
	assert_non_null(fn);
	assert_int_equal(pb_numa_usage_add(u, exe, fm, fn), 0);
	fclose(fm);
	fclose(fn);
	assert_int_equal(u->bad_lines, 0);
	assert_true(pb_nm_usage_total(u, PB_NM_TEXT) > 0);
	assert_true(pb_nm_usage_total(u, PB_NM_DATA) > 0);
	assert_true(pb_nm_usage_total(u, PB_NM_STACK) > 0);
	/* the parent never touches big_bss: at most the pages of the
	 * other .bss variables that share the mapping */
	assert_true(pb_nm_usage_total(u, PB_NM_BSS) < BSS_PAGES_4K / 2);
	free(u);
}

/* ---- topology --------------------------------------------------------- */

static void write_file(const char *root, const char *rel, const char *text)
{
	char path[4096], *dir;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	dir = pb_strdup(path);
	*strrchr(dir, '/') = '\0';
	assert_int_equal(pb_mkdir_p(dir, 0755), 0);
	free(dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *make_sysroot(void)
{
	char tmpl[] = "/tmp/pb-test-numa-XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	return pb_strdup(tmpl);
}

#define NODE "sys/devices/system/node/"

static void fake_two_nodes(const char *root, const char *cpus0,
			   const char *cpus1)
{
	write_file(root, NODE "online", "0-1\n");
	write_file(root, NODE "possible", "0-1\n");
	write_file(root, NODE "has_memory", "0-1\n");
	write_file(root, NODE "node0/cpulist", cpus0);
	write_file(root, NODE "node1/cpulist", cpus1);
	write_file(root, NODE "node0/distance", "10 21\n");
	write_file(root, NODE "node1/distance", "21 10\n");
}

static void test_numa__topology_of_a_fake_two_node_machine(void **state)
{
	struct pb_numa_topology *t = malloc(sizeof(*t));
	char *root = make_sysroot();

	(void)state;
	assert_non_null(t);
	fake_two_nodes(root, "0-3\n", "4-7\n");
	assert_int_equal(pb_numa_topology_read(t, root), 0);
	assert_int_equal(t->nnodes, 2);
	assert_int_equal(t->node_ids[0], 0);
	assert_int_equal(t->node_ids[1], 1);
	assert_string_equal(t->node[0].cpulist, "0-3");
	assert_string_equal(t->node[1].cpulist, "4-7");
	assert_int_equal(t->node[0].ncpus, 4);
	assert_int_equal(t->node[1].ncpus, 4);
	assert_int_equal(t->ncpus, 8);
	assert_int_equal(t->node[0].distance[0], 10);
	assert_int_equal(t->node[0].distance[1], 21);
	assert_int_equal(t->node[1].distance[0], 21);
	assert_int_equal(t->node[1].distance[1], 10);
	assert_true(t->node[1].has_memory);
	assert_int_equal(pb_numa_node_of_cpu(t, 0), 0);
	assert_int_equal(pb_numa_node_of_cpu(t, 3), 0);
	assert_int_equal(pb_numa_node_of_cpu(t, 5), 1);
	assert_int_equal(pb_numa_node_of_cpu(t, 8), -1);
	assert_int_equal(pb_numa_node_of_cpu(t, -1), -1);
	assert_int_equal(pb_numa_node_of_cpu(NULL, 0), -1);
	assert_false(t->truncated);

	/* a memory-only node (CXL): no CPUs, no memory file entry missing */
	write_file(root, NODE "online", "0-2\n");
	write_file(root, NODE "has_memory", "0-2\n");
	write_file(root, NODE "node0/distance", "10 21 30\n");
	write_file(root, NODE "node1/distance", "21 10 30\n");
	write_file(root, NODE "node2/distance", "30 30 10\n");
	write_file(root, NODE "node2/cpulist", "\n");
	assert_int_equal(pb_numa_topology_read(t, root), 0);
	assert_int_equal(t->nnodes, 3);
	assert_int_equal(t->node[2].ncpus, 0);
	assert_string_equal(t->node[2].cpulist, "");
	assert_int_equal(t->node[2].distance[0], 30);

	/* contradictions are input errors */
	write_file(root, NODE "node2/distance", "30 10\n");
	assert_int_equal(pb_numa_topology_read(t, root), PB_EINVAL);
	assert_non_null(strstr(pb_error_last(), "node2/distance"));
	write_file(root, NODE "node2/distance", "30 30 10\n");
	write_file(root, NODE "node2/cpulist", "3\n");
	assert_int_equal(pb_numa_topology_read(t, root), PB_EINVAL);
	write_file(root, NODE "node2/cpulist", "\n");

	/* a node id past the cap is left out, and said so */
	write_file(root, NODE "online", "0-1,70\n");
	write_file(root, NODE "node0/distance", "10 21 30\n");
	write_file(root, NODE "node1/distance", "21 10 30\n");
	write_file(root, NODE "node70/cpulist", "\n");
	write_file(root, NODE "node70/distance", "30 30 10\n");
	assert_int_equal(pb_numa_topology_read(t, root), 0);
	assert_int_equal(t->nnodes, 2);
	assert_true(t->truncated);
	assert_int_equal(t->node[1].distance[0], 21);

	/* no node directory at all: a kernel without NUMA */
	pb_rm_rf(root);
	assert_int_equal(mkdir(root, 0700), 0);
	assert_int_equal(pb_numa_topology_read(t, root), PB_ENOTFOUND);
	pb_rm_rf(root);
	free(root);
	free(t);
}

static void test_numa__topology_of_this_machine_matches_libnuma(void **state)
{
	struct pb_numa_topology *t = malloc(sizeof(*t));
	struct bitmask *cpus;
	unsigned with_memory = 0;

	(void)state;
	assert_non_null(t);
	assert_int_equal(pb_numa_topology_read(t, NULL), 0);
	assert_int_equal(pb_numa_topology_read(t, "/"), 0);
	if (numa_available() < 0) {
		free(t);
		skip();
	}
	assert_true(t->nnodes >= 1);
	assert_false(t->truncated);
	cpus = numa_allocate_cpumask();
	for (int id = 0; id <= numa_max_node(); id++) {
		int online = numa_bitmask_isbitset(numa_nodes_ptr, (unsigned)id);

		assert_int_equal(t->node[id].online, online);
		if (!online)
			continue;
		with_memory += (unsigned)t->node[id].has_memory;
		assert_int_equal(numa_node_to_cpus(id, cpus), 0);
		for (unsigned c = 0; c < PB_NUMA_MAX_CPUS && c < cpus->size; c++)
			assert_int_equal(numa_bitmask_isbitset(cpus, c),
					 t->cpu_node[c] == id);
		for (int other = 0; other <= numa_max_node(); other++)
			if (t->node[other].online)
				assert_int_equal(numa_distance(id, other),
						 t->node[id].distance[other]);
	}
	assert_int_equal(numa_num_configured_nodes(), (int)with_memory);
	for (int c = 0; c < numa_num_configured_cpus(); c++)
		assert_int_equal(numa_node_of_cpu(c), pb_numa_node_of_cpu(t, c));
	numa_free_cpumask(cpus);
	free(t);
}

/* ---- start placement -------------------------------------------------- */

/* The CPUs this process may run on, ascending. */
static unsigned allowed_cpus(int *out, unsigned max)
{
	cpu_set_t set;
	unsigned n = 0;

	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	for (int c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			out[n++] = c;
	return n;
}

/* A set of CPUs from a kernel list. */
static struct pb_idset *idset_of(const char *list)
{
	struct pb_idset *s = malloc(sizeof(*s));

	assert_non_null(s);
	assert_int_equal(pb_idset_parse(s, list, "test"), 0);
	return s;
}

static int mask_has(const struct pb_numa_start *s, unsigned cpu)
{
	const unsigned bits = 8 * sizeof(unsigned long);

	return s->mask[cpu / bits] >> (cpu % bits) & 1;
}

static void test_numa__start_node_rotates_over_nodes(void **state)
{
	struct pb_numa_topology *t = malloc(sizeof(*t));
	struct pb_idset *all = idset_of("0-7"), *some = idset_of("1-2,5,7");
	struct pb_idset *none = idset_of("0-3");
	struct pb_numa_start s;
	char *root = make_sysroot();

	(void)state;
	assert_non_null(t);
	fake_two_nodes(root, "0-3\n", "4-7\n");
	assert_int_equal(pb_numa_topology_read(t, root), 0);

	/* A machine that allows every CPU: run k on node k mod 2, held to
	 * all four of its CPUs - never to one. */
	for (unsigned run = 0; run < 6; run++) {
		unsigned node = run % 2;

		assert_int_equal(pb_numa_pick_start_node(&s, t, all, run), 0);
		assert_int_equal(s.node, (int)node);
		assert_int_equal(s.ncpus, 4);
		assert_string_equal(s.cpus, node ? "4-7" : "0-3");
		for (unsigned c = 0; c < 8; c++)
			assert_int_equal(mask_has(&s, c), c / 4 == node);
		assert_false(mask_has(&s, 8));
		assert_string_equal(s.note, "");
	}
	/* Only some CPUs allowed: the node's allowed ones; node 1 has one
	 * (5 and 7: two), so both nodes hold with what they have. */
	assert_int_equal(pb_numa_pick_start_node(&s, t, some, 0), 0);
	assert_string_equal(s.cpus, "1-2");
	assert_int_equal(pb_numa_pick_start_node(&s, t, some, 1), 0);
	assert_string_equal(s.cpus, "5,7");
	assert_int_equal(s.node, 1);
	/* A node with a single allowed CPU is not held: that would
	 * serialise a multithreaded benchmark. */
	free(some);
	some = idset_of("0-3,6");
	assert_int_equal(pb_numa_pick_start_node(&s, t, some, 1), 0);
	assert_int_equal(s.node, -1);
	assert_int_equal(s.ncpus, 0);
	assert_string_equal(s.cpus, "");
	assert_non_null(strstr(s.note, "node 1 has one CPU"));
	assert_non_null(strstr(s.note, "serialise"));
	assert_int_equal(pb_numa_pick_start_node(&s, t, some, 2), 0);
	assert_int_equal(s.node, 0);

	/* One usable node (the other's CPUs are not allowed): nothing is
	 * held, and the note names the node it skipped. */
	assert_int_equal(pb_numa_pick_start_node(&s, t, none, 1), 0);
	assert_int_equal(s.node, -1);
	assert_non_null(strstr(s.note, "node 1 (CPUs 4-7)"));
	assert_non_null(strstr(s.note, "one NUMA node: not held"));
	assert_int_equal(pb_numa_pick_start_node(&s, NULL, all, 0), 0);
	assert_int_equal(s.node, -1);
	assert_non_null(strstr(s.note, "no NUMA topology"));

	/* This machine, with our own affinity: held only when it has two
	 * nodes with two allowed CPUs each, and then to a whole node. */
	assert_int_equal(pb_numa_topology_read(t, NULL), 0);
	assert_int_equal(pb_numa_pick_start_node(&s, t, NULL, 0), 0);
	if (t->nnodes < 2)
		assert_int_equal(s.node, -1);
	if (s.node >= 0) {
		assert_true(s.ncpus >= 2);
		assert_int_equal(s.node, t->node_ids[0]);
	}

	pb_rm_rf(root);
	free(root);
	free(t);
	free(all);
	free(some);
	free(none);
}

/* The first CPU this process may use, and its node: where the sampling
 * tests pin their child. */
static int first_cpu(const struct pb_numa_topology *t, int *node)
{
	int cpus[CPU_SETSIZE];

	assert_true(allowed_cpus(cpus, CPU_SETSIZE) >= 1);
	*node = pb_numa_node_of_cpu(t, cpus[0]);
	return cpus[0];
}

static void test_numa__pin_and_read_the_cpu(void **state)
{
	int cpus[CPU_SETSIZE], p[2], cpu = -1;
	unsigned n = allowed_cpus(cpus, CPU_SETSIZE);
	int target = cpus[n - 1];
	pid_t pid;
	char c;

	(void)state;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		if (pb_numa_pin(0, target) == 0 && write(p[1], "r", 1) == 1)
			pause();
		_exit(1);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(pb_numa_pid_cpu(&cpu, pid), 0);
	assert_int_equal(cpu, target);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	close(p[0]);
	assert_int_equal(pb_numa_pid_cpu(&cpu, pid), PB_ENOTFOUND);

	errno = 0;
	assert_int_equal(pb_numa_pin(0, -1), PB_ERROR);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(pb_numa_pin(0, PB_NUMA_MAX_CPUS), PB_ERROR);
}

/* ---- sampling real processes ------------------------------------------ */

/* The 64 MiB array is on node 0: every one of its pages among .data/.bss,
 * all but the one it may share with .data in .bss proper. */
static void expect_big_bss_on_node0(const struct pb_nm_exe *x)
{
	uint64_t want = BIG_BSS / page_size();

	if (pb_nm_usage_data_bss(&x->use, 0) < want ||
	    x->use.pages[PB_NM_BSS][0] < want - 1)
		fail_msg("%s: %llu .data/.bss pages (%llu .bss) on node 0, "
			 "want %llu", x->path,
			 (unsigned long long)pb_nm_usage_data_bss(&x->use, 0),
			 (unsigned long long)x->use.pages[PB_NM_BSS][0],
			 (unsigned long long)want);
	assert_true(pb_nm_usage_data_bss(&x->use, -1) >=
		    pb_nm_usage_data_bss(&x->use, 0));
}

static void self_exe(char *buf, size_t size)
{
	ssize_t len = readlink("/proc/self/exe", buf, size - 1);

	assert_true(len > 0);
	buf[len] = '\0';
}

static void wait_byte(int fd)
{
	char c;

	assert_int_equal(read(fd, &c, 1), 1);
}

/* The acceptance case with a forked child: pinned to the start CPU of
 * run 0, sampled once before it touches its .bss and once after. */
static void test_numa__bss_of_a_forked_child(void **state)
{
	struct pb_numa_topology *t = malloc(sizeof(*t));
	struct pb_numa_placement *acc = malloc(sizeof(*acc));
	const struct pb_nm_exe *x;
	struct { int cpu, node; } start;
	char exe[PATH_MAX];
	int ready[2], go[2], cpu;
	pid_t pid;

	(void)state;
	assert_non_null(t);
	assert_non_null(acc);
	self_exe(exe, sizeof(exe));
	assert_int_equal(pb_numa_topology_read(t, NULL), 0);
	start.cpu = first_cpu(t, &start.node);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char c;

		close(ready[0]);
		close(go[1]);
		if (pb_numa_pin(0, start.cpu))
			_exit(1);
		if (write(ready[1], "p", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		touch_big_bss();
		if (write(ready[1], "t", 1) != 1)
			_exit(1);
		while (read(go[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	pb_numa_placement_init(acc);

	wait_byte(ready[0]);                      /* pinned, not touched */
	assert_int_equal(pb_numa_sample(acc, t, pid, PB_NUMA_TREE), 0);
	assert_int_equal(write(go[1], "g", 1), 1);
	wait_byte(ready[0]);                      /* touched */
	assert_int_equal(pb_numa_sample(acc, t, pid, PB_NUMA_TREE), 0);

	assert_int_equal(acc->samples, 2);
	assert_int_equal(acc->first.procs, 1);
	assert_int_equal(acc->first.nexes, 1);
	x = pb_nm_snapshot_find(&acc->first, exe);
	assert_non_null(x);
	assert_true(pb_nm_usage_total(&x->use, PB_NM_BSS) < BSS_PAGES_4K / 2);
	x = pb_nm_snapshot_find(&acc->last, exe);
	assert_non_null(x);
	assert_int_equal(x->procs, 1);
	expect_big_bss_on_node0(x);
	assert_true(acc->last.page_kb * 1024 == page_size());
	assert_int_equal(x->cpu, start.cpu);
	assert_int_equal(x->node, start.node);
	assert_int_equal(x->node, 0);
	assert_true(acc->last.t >= acc->first.t);
	assert_int_equal(pb_numa_pid_cpu(&cpu, pid), 0);
	assert_int_equal(cpu, start.cpu);

	close(go[1]);                             /* let it end */
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	close(ready[0]);
	/* gone: an empty sample keeps what was seen */
	assert_int_equal(pb_numa_sample(acc, t, pid, PB_NUMA_TREE), 0);
	assert_int_equal(acc->samples, 2);
	free(acc);
	free(t);
}

/* The benchmark as the runner starts it: `/bin/sh -c CMD`, pinned before
 * exec; the shell forks this very binary in child mode (see main). */
static void test_numa__bss_through_sh_c(void **state)
{
	struct pb_numa_topology *t = malloc(sizeof(*t));
	struct pb_nm_snapshot *s = malloc(sizeof(*s));
	const struct pb_nm_exe *x;
	struct { int cpu, node; } start;
	char exe[PATH_MAX], sh[PATH_MAX];
	int ready[2], go[2];
	pid_t pid;

	(void)state;
	assert_non_null(t);
	assert_non_null(s);
	self_exe(exe, sizeof(exe));
	assert_non_null(realpath("/bin/sh", sh));
	assert_int_equal(pb_numa_topology_read(t, NULL), 0);
	start.cpu = first_cpu(t, &start.node);
	/* close-on-exec, so only the copies on fds 3 and 4 reach the child:
	 * a child holding go's write end would never see it close */
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int r = fcntl(ready[1], F_DUPFD_CLOEXEC, 10);
		int g = fcntl(go[0], F_DUPFD_CLOEXEC, 10);

		/* what the runner does between fork and exec */
		if (r < 0 || g < 0 || setpgid(0, 0) ||
		    pb_numa_pin(0, start.cpu) || dup2(r, 3) < 0 ||
		    dup2(g, 4) < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", "\"$0\" --numa-child; :", exe,
		      (char *)NULL);
		_exit(127);
	}
	close(ready[1]);
	close(go[0]);
	wait_byte(ready[0]);

	assert_int_equal(pb_numa_snapshot_take(s, t, pid, PB_NUMA_GROUP), 0);
	assert_true(s->procs >= 2);
	{
		unsigned procs = s->procs;

		assert_int_equal(pb_numa_snapshot_take(s, t, pid,
						       PB_NUMA_TREE), 0);
		assert_int_equal(s->procs, procs);
	}
	assert_int_equal(s->dropped, 0);
	x = pb_nm_snapshot_find(s, sh);
	assert_non_null(x);
	assert_int_equal(x->cpu, start.cpu);
	x = pb_nm_snapshot_find(s, exe);
	assert_non_null(x);
	assert_int_equal(x->procs, 1);
	expect_big_bss_on_node0(x);
	assert_int_equal(x->cpu, start.cpu);
	assert_int_equal(x->node, 0);
	/* the shell's .bss holds none of it */
	assert_true(pb_nm_usage_total(&pb_nm_snapshot_find(s, sh)->use,
				      PB_NM_BSS) < 1024);

	close(go[1]);
	{
		int status;

		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	close(ready[0]);
	free(s);
	free(t);
}

/* A process that has exited but is not reaped yet has no exe and no
 * maps: it is skipped, and the sample is empty, not an error. */
static void test_numa__gone_processes_are_skipped(void **state)
{
	struct pb_numa_placement *acc = malloc(sizeof(*acc));
	siginfo_t info;
	pid_t pid;

	(void)state;
	assert_non_null(acc);
	pb_numa_placement_init(acc);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT), 0);
	assert_int_equal(pb_numa_sample(acc, NULL, pid, PB_NUMA_TREE), 0);
	assert_int_equal(acc->samples, 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	/* reaped: not even listed */
	assert_int_equal(pb_numa_sample(acc, NULL, pid, PB_NUMA_TREE), 0);
	assert_int_equal(acc->samples, 0);
	free(acc);
}

/* The two ways of finding a run's processes.  The run command leads its
 * process group and leaves behind a process whose parent exited: both
 * scopes find the shell and its child, only GROUP the orphan, which the
 * kernel reparented out of the tree. */
static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

static void test_numa__run_pids_tree_and_group(void **state)
{
	pid_t *tree = NULL, *group = NULL, pid;
	size_t ntree = 0, ngroup = 0;
	int ready[2];
	char c;

	(void)state;
	assert_true(pb_numa_children_supported()); /* Debian's kernels */
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setpgid(0, 0) || dup2(ready[1], 3) < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c",
		      "(sleep 60 &); sleep 60 & echo r >&3; wait", (char *)NULL);
		_exit(127);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);

	assert_int_equal(pb_numa_run_pids(&tree, &ntree, pid, PB_NUMA_TREE), 0);
	assert_int_equal(pb_numa_run_pids(&group, &ngroup, pid, PB_NUMA_GROUP),
			 0);
	assert_int_equal(ntree, 2);
	assert_int_equal(ngroup, 3);
	qsort(tree, ntree, sizeof(*tree), cmp_pid);
	assert_non_null(bsearch(&pid, tree, ntree, sizeof(*tree), cmp_pid));
	assert_non_null(bsearch(&pid, group, ngroup, sizeof(*group), cmp_pid));
	for (size_t i = 0; i < ntree; i++)
		assert_non_null(bsearch(&tree[i], group, ngroup,
					sizeof(*group), cmp_pid));
	free(tree);
	free(group);

	assert_int_equal(kill(-pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	close(ready[0]);
	/* reaped: neither scope finds anything, and that is no error */
	assert_int_equal(pb_numa_run_pids(&tree, &ntree, pid, PB_NUMA_TREE), 0);
	assert_int_equal(ntree, 0);
	free(tree);
}

/* ---- counters --------------------------------------------------------- */

static uint64_t delta_of(const struct pb_numa_counters *d, int node,
			 const char *name, int state)
{
	const struct pb_numa_stat *s = pb_numa_counters_find(d, node, name);

	if (!s)
		fail_msg("no delta for node %d %s", node, name);
	assert_int_equal(s->state, state);
	return s->value;
}

static void test_numa__counter_deltas(void **state)
{
	struct pb_numa_counters *b = malloc(sizeof(*b)), *a = malloc(sizeof(*a));
	struct pb_numa_counters *d = malloc(sizeof(*d));
	char *root = make_sysroot();

	(void)state;
	assert_non_null(b);
	assert_non_null(a);
	assert_non_null(d);
	write_file(root, NODE "online", "0-1\n");
	write_file(root, NODE "node0/numastat",
		   "numa_hit 1000\nnuma_miss 5\nnuma_foreign 7\n"
		   "interleave_hit 3\nlocal_node 990\nother_node 15\n");
	write_file(root, NODE "node1/numastat",
		   "numa_hit 2000\nnuma_miss 50\nnuma_foreign 0\n"
		   "interleave_hit 4\nlocal_node 1900\nother_node 150\n");
	write_file(root, "proc/vmstat",
		   "nr_free_pages 12345\nnuma_hit 3000\nnuma_miss 55\n"
		   "numa_foreign 7\nnuma_local 2890\nnuma_other 165\n"
		   "numa_pages_migrated 10\npgscan_direct 0\n"
		   "pgscan_kswapd 100\nthp_split_page 2\n"
		   "pgmigrate_success 10\nworkingset_refault_anon 9\n");
	assert_int_equal(pb_numa_counters_read(b, root), 0);
	assert_int_equal(b->n, 12 + 10);
	assert_null(pb_numa_counters_find(b, -1, "nr_free_pages"));
	assert_null(pb_numa_counters_find(b, -1, "workingset_refault_anon"));
	assert_int_equal(pb_numa_counters_find(b, 1, "numa_miss")->value, 50);
	assert_int_equal(pb_numa_counters_find(b, -1, "numa_hit")->value, 3000);

	/* the run: hits and reclaim, node 1's numa_miss reset (a wrap, a
	 * hot-plugged node), interleave_hit gone, thp_split_pmd new */
	write_file(root, NODE "node0/numastat",
		   "numa_hit 1600\nnuma_miss 5\nnuma_foreign 7\n"
		   "interleave_hit 3\nlocal_node 1500\nother_node 115\n");
	write_file(root, NODE "node1/numastat",
		   "numa_hit 2100\nnuma_miss 2\nnuma_foreign 0\n"
		   "local_node 2000\nother_node 150\n");
	write_file(root, "proc/vmstat",
		   "nr_free_pages 1\nnuma_hit 3700\nnuma_miss 57\n"
		   "numa_foreign 7\nnuma_local 3500\nnuma_other 265\n"
		   "numa_pages_migrated 42\npgscan_direct 7\n"
		   "pgscan_kswapd 100\nthp_split_page 3\nthp_split_pmd 1\n"
		   "pgmigrate_success 42\n");
	assert_int_equal(pb_numa_counters_read(a, root), 0);
	assert_int_equal(pb_numa_counters_delta(d, b, a), 0);
	assert_int_equal(d->n, 12 + 10 + 1);
	assert_false(d->truncated);
	assert_int_equal(delta_of(d, 0, "numa_hit", PB_NUMA_STAT_OK), 600);
	assert_int_equal(delta_of(d, 0, "numa_miss", PB_NUMA_STAT_OK), 0);
	assert_int_equal(delta_of(d, 0, "local_node", PB_NUMA_STAT_OK), 510);
	assert_int_equal(delta_of(d, 0, "other_node", PB_NUMA_STAT_OK), 100);
	assert_int_equal(delta_of(d, 1, "numa_hit", PB_NUMA_STAT_OK), 100);
	assert_int_equal(delta_of(d, 1, "numa_miss", PB_NUMA_STAT_BACKWARDS),
			 0);
	assert_int_equal(delta_of(d, 1, "interleave_hit",
				  PB_NUMA_STAT_VANISHED), 0);
	assert_int_equal(delta_of(d, -1, "numa_hit", PB_NUMA_STAT_OK), 700);
	assert_int_equal(delta_of(d, -1, "numa_pages_migrated",
				  PB_NUMA_STAT_OK), 32);
	assert_int_equal(delta_of(d, -1, "pgscan_direct", PB_NUMA_STAT_OK), 7);
	assert_int_equal(delta_of(d, -1, "pgscan_kswapd", PB_NUMA_STAT_OK), 0);
	assert_int_equal(delta_of(d, -1, "thp_split_page", PB_NUMA_STAT_OK), 1);
	assert_int_equal(delta_of(d, -1, "thp_split_pmd", PB_NUMA_STAT_APPEARED),
			 0);
	/* numastat's numa_hit and vmstat's are different counters */
	assert_int_equal(delta_of(d, 1, "local_node", PB_NUMA_STAT_OK), 100);

	/* the same reading twice: every delta is a true zero */
	assert_int_equal(pb_numa_counters_delta(d, a, a), 0);
	for (unsigned i = 0; i < d->n; i++) {
		assert_int_equal(d->stat[i].state, PB_NUMA_STAT_OK);
		assert_int_equal(d->stat[i].value, 0);
	}

	/* broken files are input errors; missing ones are no counters */
	write_file(root, "proc/vmstat", "numa_hit lots\n");
	assert_int_equal(pb_numa_counters_read(a, root), PB_EINVAL);
	assert_non_null(strstr(pb_error_last(), "/proc/vmstat:1"));
	write_file(root, "proc/vmstat", "numa_hit -3\n");
	assert_int_equal(pb_numa_counters_read(a, root), PB_EINVAL);
	pb_rm_rf(root);
	assert_int_equal(mkdir(root, 0700), 0);
	assert_int_equal(pb_numa_counters_read(a, root), 0);
	assert_int_equal(a->n, 0);

	pb_rm_rf(root);
	free(root);
	free(d);
	free(a);
	free(b);
}

/* The real machine: both files read, and touching fresh memory moves
 * numa_hit forward; nothing goes backwards. */
static void test_numa__counters_of_this_machine(void **state)
{
	struct pb_numa_counters *b = malloc(sizeof(*b)), *a = malloc(sizeof(*a));
	struct pb_numa_counters *d = malloc(sizeof(*d));
	const struct pb_numa_stat *hit;
	size_t len = 16u << 20;
	char *mem;

	(void)state;
	assert_non_null(b);
	assert_non_null(a);
	assert_non_null(d);
	assert_int_equal(pb_numa_counters_read(b, NULL), 0);
	assert_non_null(pb_numa_counters_find(b, -1, "numa_hit"));
	assert_non_null(pb_numa_counters_find(b, -1, "pgscan_direct"));
	assert_non_null(pb_numa_counters_find(b, 0, "numa_hit"));
	assert_non_null(pb_numa_counters_find(b, 0, "local_node"));
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(mem != MAP_FAILED);
	for (size_t i = 0; i < len; i += page_size())
		mem[i] = 1;
	assert_int_equal(pb_numa_counters_read(a, NULL), 0);
	munmap(mem, len);
	assert_int_equal(pb_numa_counters_delta(d, b, a), 0);
	for (unsigned i = 0; i < d->n; i++)
		if (d->stat[i].state == PB_NUMA_STAT_BACKWARDS)
			fail_msg("%s went backwards", d->stat[i].name);
	hit = pb_numa_counters_find(d, -1, "numa_hit");
	assert_non_null(hit);
	assert_int_equal(hit->state, PB_NUMA_STAT_OK);
	assert_true(hit->value > 0);
	free(d);
	free(a);
	free(b);
}

/* ---- child mode ------------------------------------------------------- */

/* Run as `test_numa --numa-child` by test_numa__bss_through_sh_c with a
 * ready pipe on fd 3 and a go pipe on fd 4: touches the 64 MiB .bss,
 * says so, and stays until the go pipe closes. */
static int child_main(void)
{
	char c;

	touch_big_bss();
	if (write(3, "t", 1) != 1)
		return 1;
	while (read(4, &c, 1) > 0)
		;
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numa__list_parse),
		cmocka_unit_test(test_numa__fixtures_parse_and_add_up),
		cmocka_unit_test(test_numa__policies_with_spaces_and_flags),
		cmocka_unit_test(test_numa__files_heap_stack_huge),
		cmocka_unit_test(test_numa__old_forms_and_errors),
		cmocka_unit_test(test_numa__maps_lines),
		cmocka_unit_test(test_numa__attribution_of_saved_pair),
		cmocka_unit_test(test_numa__attribution_of_this_process),
		cmocka_unit_test(test_numa__topology_of_a_fake_two_node_machine),
		cmocka_unit_test(test_numa__topology_of_this_machine_matches_libnuma),
		cmocka_unit_test(test_numa__start_node_rotates_over_nodes),
		cmocka_unit_test(test_numa__pin_and_read_the_cpu),
		cmocka_unit_test(test_numa__bss_of_a_forked_child),
		cmocka_unit_test(test_numa__bss_through_sh_c),
		cmocka_unit_test(test_numa__gone_processes_are_skipped),
		cmocka_unit_test(test_numa__run_pids_tree_and_group),
		cmocka_unit_test(test_numa__counter_deltas),
		cmocka_unit_test(test_numa__counters_of_this_machine),
	};

	if (argc == 2 && strcmp(argv[1], "--numa-child") == 0)
		return child_main();
	return cmocka_run_group_tests_name("numa", tests, NULL, NULL);
}
