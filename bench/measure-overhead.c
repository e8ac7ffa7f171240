/*
 * measure-overhead.c - what the agent's measurement costs a benchmark.
 *
 * Times a ~100 ms CPU-bound benchmark (this program itself, run with
 * --spin N: a fixed amount of work, so any slowdown shows as time) from
 * fork to reaping - exec to exit plus the set-up around it - bare and
 * under the agent's measurement (counters opened before exec, numa_maps
 * sampled while it runs, and with it the files it maps from its
 * directory, as from a work tree; kernel counters read around it), and
 * measured with the start node rotation of bisections on top (held to a
 * node's CPUs for its first PB_MEASURE_HOLD_S, never to one CPU; nothing is
 * held on a one-node machine), in sets of three whose order rotates,
 * so drift on this shared machine hits every side alike.  Prints the
 * median of the per-set ratios to bare with its 95 % distribution-free
 * interval (order statistics of the binomial), and what the machine could
 * count.
 *
 * With --threads N the benchmark runs N threads that each do the whole
 * work: a measurement that serialised them (a one-CPU start pin, whose mask
 * the threads inherit) shows as an N-fold slowdown.
 *
 *   make bench && build/release/bench/measure-overhead [--pairs 200]
 *        [--ms 100] [--threads N]
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/interfere.h"
#include "agent/measure.h"
#include "common/err.h"
#include "common/proc.h"
#include "common/record.h"
#include "common/util.h"

extern char **environ;

static volatile uint64_t sink;

static void spin(uint64_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (uint64_t i = 0; i < n; i++)
		h = (h ^ i) * 1099511628211ULL;
	sink = h;
}

static const char *self_path;
static unsigned nthreads = 1;

static void *spin_thread(void *arg)
{
	spin(*(const uint64_t *)arg);
	return NULL;
}

/* The child: n steps in each of k threads. */
static int spin_threads(uint64_t n, unsigned k)
{
	pthread_t t[64];

	for (unsigned i = 1; i < k; i++)
		if (pthread_create(&t[i], NULL, spin_thread, &n))
			return 1;
	spin(n);
	for (unsigned i = 1; i < k; i++)
		pthread_join(t[i], NULL);
	return 0;
}
static char self_dir[4096]; /* its directory: the "work tree" watched */

/* One run of `self --spin n`, measured or not; its fork-to-reap time. */
static int run_once(double *out, uint64_t n, struct pb_measure *m,
		    unsigned idx)
{
	char arg[32], targ[16];
	const char *argv[] = { self_path, "--spin", arg, "--threads", targ,
			       NULL };
	struct pb_proc_opts o = PB_PROC_OPTS_INIT;
	struct pb_proc_result r;
	struct pb_proc_hooks hooks;
	struct pb_measure_run *mr = NULL;
	struct pb_run_measurements rec;
	int rc;

	snprintf(arg, sizeof(arg), "%llu", (unsigned long long)n);
	snprintf(targ, sizeof(targ), "%u", nthreads);
	o.argv = argv;
	o.envp = environ;
	if (m) {
		if ((rc = pb_measure_run_begin(&mr, m, idx, &hooks)) < 0)
			return rc;
		pb_measure_run_watch(mr, self_dir); /* finds the harness */
		o.hooks = &hooks;
	}
	rc = pb_proc_run(&r, &o);
	if (mr) {
		(void)pb_measure_run_end(mr, &rec);
		pb_run_measurements_release(&rec);
		pb_measure_run_free(mr);
	}
	if (rc == 0 && (!r.exited || r.exit_code != 0))
		rc = pb_error_set("the benchmark failed");
	*out = r.wall_s;
	pb_proc_result_release(&r);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct pb_measure_opts mo = { NULL, NULL, NULL, NULL, NULL, 0,
				      PB_BUSY_THRESHOLD_CPUS, 1 };
	struct pb_measure *m = NULL, *mrot = NULL;
	unsigned pairs = 200, lo, hi;
	double ms = 100, t, *ratio = NULL, *bare = NULL, *meas = NULL;
	double *rrot = NULL, *rot = NULL;
	uint64_t n = 1000000, v;
	char what[1024];
	int rc = 3;

	self_path = argv[0];
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--spin") && i + 1 < argc) {
			uint64_t k = 1;

			if (pb_parse_u64(&v, argv[++i], 1, UINT64_MAX,
					 "--spin") < 0 ||
			    (i + 2 < argc && !strcmp(argv[i + 1], "--threads") &&
			     pb_parse_u64(&k, argv[i + 2], 1, 64,
					  "--threads") < 0))
				return 2;
			return spin_threads(v, (unsigned)k);
		} else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
			if (pb_parse_u64(&v, argv[++i], 1, 64, "--threads") < 0)
				return 2;
			nthreads = (unsigned)v;
		} else if (!strcmp(argv[i], "--pairs") && i + 1 < argc) {
			if (pb_parse_u64(&v, argv[++i], 10, 100000,
					 "--pairs") < 0)
				return 2;
			pairs = (unsigned)v;
		} else if (!strcmp(argv[i], "--ms") && i + 1 < argc) {
			if (pb_parse_double(&ms, argv[++i], 1, 10000, "--ms") < 0)
				return 2;
		} else {
			fprintf(stderr, "usage: measure-overhead [--pairs N] "
					"[--ms MS] [--threads N]\n");
			return 2;
		}
	}
	if (!strchr(self_path, '/') || !realpath(self_path, self_dir)) {
		fprintf(stderr, "measure-overhead: run it by its path\n");
		return 2;
	}
	*strrchr(self_dir, '/') = '\0';
	if (pb_measure_new(&m, &mo) < 0 ||
	    (mo.rotate_start = 1, pb_measure_new(&mrot, &mo)) < 0)
		goto out;
	/* Calibrate the work to ~ms milliseconds of a bare run. */
	for (int k = 0; k < 30; k++) {
		if (run_once(&t, n, NULL, 0) < 0)
			goto out;
		if (t > ms / 1000 * 0.95 && t < ms / 1000 * 1.05)
			break;
		n = (uint64_t)((double)n * (ms / 1000) / (t > 1e-4 ? t : 1e-4));
	}
	ratio = calloc(pairs, sizeof(*ratio));
	bare = calloc(pairs, sizeof(*bare));
	meas = calloc(pairs, sizeof(*meas));
	rot = calloc(pairs, sizeof(*rot));
	rrot = calloc(pairs, sizeof(*rrot));
	if (!ratio || !bare || !meas || !rot || !rrot) {
		pb_error_set("out of memory");
		goto out;
	}
	for (unsigned i = 0; i < pairs; i++) {
		/* The three runs of a set in one of three rotating orders. */
		for (unsigned k = 0; k < 3; k++) {
			switch ((i + k) % 3) {
			case 0:
				if (run_once(&bare[i], n, NULL, 0) < 0)
					goto out;
				break;
			case 1:
				if (run_once(&meas[i], n, m, i) < 0)
					goto out;
				break;
			default:
				if (run_once(&rot[i], n, mrot, i) < 0)
					goto out;
				break;
			}
		}
		ratio[i] = meas[i] / bare[i];
		rrot[i] = rot[i] / bare[i];
	}
	qsort(ratio, pairs, sizeof(*ratio), cmp_double);
	qsort(rrot, pairs, sizeof(*rrot), cmp_double);
	qsort(bare, pairs, sizeof(*bare), cmp_double);
	qsort(meas, pairs, sizeof(*meas), cmp_double);
	/* Ranks of the 95 % interval of the median: n/2 -+ 1.96 sqrt(n)/2. */
	lo = (unsigned)floor(pairs / 2.0 - 1.96 * sqrt(pairs) / 2);
	hi = (unsigned)ceil(pairs / 2.0 + 1.96 * sqrt(pairs) / 2);
	if (hi >= pairs)
		hi = pairs - 1;
	pb_measure_describe(m, what, sizeof(what));
	printf("benchmark: %llu hashing steps in each of %u thread%s, median "
	       "%.1f ms bare, %.1f ms measured (fork to reaping)\n",
	       (unsigned long long)n, nthreads, nthreads == 1 ? "" : "s",
	       bare[pairs / 2] * 1e3,
	       meas[pairs / 2] * 1e3);
	printf("sets: %u of (bare, measured, measured + start node rotation), "
	       "in rotating order\n", pairs);
	printf("measured / bare: median %.4f, 95%% interval [%.4f, %.4f] "
	       "(%+.2f %% added time; target under 2 %%)\n",
	       ratio[pairs / 2], ratio[lo], ratio[hi],
	       (ratio[pairs / 2] - 1) * 100);
	printf("measured + rotation / bare: median %.4f, 95%% interval "
	       "[%.4f, %.4f] (%+.2f %%: the run is held to its start node's "
	       "CPUs for its first %.0f ms; on a one-node machine nothing "
	       "is held)\n",
	       rrot[pairs / 2], rrot[lo], rrot[hi],
	       (rrot[pairs / 2] - 1) * 100, PB_MEASURE_HOLD_S * 1e3);
	printf("what was measured: %s\n", what);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "measure-overhead: %s\n", pb_error_last());
	free(ratio);
	free(bare);
	free(meas);
	free(rot);
	free(rrot);
	pb_measure_free(m);
	pb_measure_free(mrot);
	return rc;
}
