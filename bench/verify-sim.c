/*
 * verify-sim - how often the culprit verification (orchestrator/core/
 * verify.c) confirms a commit that is not slower than its parent, how
 * often it confirms one that is, and how many pairs it takes.
 *
 * One simulated verification runs the parent and the culprit in the order
 * pb_verify_next() asks (ABBA) on one simulated machine and hands every
 * run's metric to pb_verify_add(), until the test decides.  Metric values
 * are throughputs (higher is better): the fast mode at 1.0, the slow mode
 * at 0.6 (bimodal scenarios), the culprit's runs divided by 1 + shift
 * (shift scenarios), times exp(noise z), z standard normal (or Student t
 * with 2 degrees of freedom: heavy tails).  The machine may drift (the
 * metric times exp(-drift * run): 1 % per run is 45 % over the 80 runs of
 * a long verification), burst (a run slowed by
 * 10-50 %, in 20 % of runs: independently, or in episodes of 4 runs on
 * average), or slow by 30 % at a random run and stay so.  Bimodal runs are
 * classified at 0.8, midway between the modes, as the engine's threshold
 * would; a burst can thus make a fast run slow.
 *
 * Null scenarios (N*): the culprit is no slower than its parent; every
 * confirmation is a wrong culprit named, and "wilson95" is the 95 % Wilson
 * upper bound of their rate.  The others: a true culprit; "wilson95" is
 * the lower bound of the power.  The verifier is told what the search
 * would know: for bimodal scenarios the slow fractions at the good and the
 * bad side (q0, q1: for N-bimodal the search's belief, not this pair's
 * truth); for shift scenarios nothing, unless --told-noise (the true
 * noise).  --untold tells it nothing at all.  The machine's step comes at
 * a run uniform in 0..59.
 *
 * Usage: verify-sim [--trials T] [--seed S] [--alpha A] [--max-pairs P]
 *                   [--told-noise | --untold] [--only NAME]
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/core/rng.h"
#include "orchestrator/core/verify.h"
#include "common/err.h"
#include "common/util.h"

enum burst { B_NONE, B_IID, B_EPISODES };

struct scenario {
	const char *name, *what;
	enum pb_verify_kind kind;
	int null;
	double shift;            /* culprit's runs: throughput / (1 + shift) */
	double qp, qc;           /* true slow fractions, parent and culprit */
	double told_q0, told_q1; /* what the search tells the verifier */
	double noise;
	int heavy;               /* Student t, 2 df, instead of normal */
	double drift;            /* per run */
	enum burst burst;
	int step;                /* machine 30 % slower from a random run */
};

#define SLOW_MODE 0.6
#define THRESHOLD 0.8
#define BURST_P 0.2
#define EPISODE_RUNS 4.0

static const struct scenario scenarios[] = {
	{ "N1", "shift null, 3 % noise", PB_VERIFY_SHIFT, 1, 0, 0, 0, -1, -1,
	  0.03, 0, 0, B_NONE, 0 },
	{ "N2", "shift null, drift 1 %/run", PB_VERIFY_SHIFT, 1, 0, 0, 0,
	  -1, -1, 0.03, 0, 0.01, B_NONE, 0 },
	{ "N2b", "shift null, 0.5 % noise, drift 1 %", PB_VERIFY_SHIFT,
	  1, 0, 0, 0, -1, -1, 0.005, 0, 0.01, B_NONE, 0 },
	{ "N3", "shift null, bursts 20 % of runs", PB_VERIFY_SHIFT, 1, 0, 0,
	  0, -1, -1, 0.03, 0, 0, B_IID, 0 },
	{ "N4", "shift null, burst episodes", PB_VERIFY_SHIFT, 1, 0, 0, 0,
	  -1, -1, 0.03, 0, 0, B_EPISODES, 0 },
	{ "N5", "shift null, t2 heavy tails", PB_VERIFY_SHIFT, 1, 0, 0, 0,
	  -1, -1, 0.03, 1, 0, B_NONE, 0 },
	{ "N6", "shift null, machine step -30 %", PB_VERIFY_SHIFT, 1, 0, 0,
	  0, -1, -1, 0.03, 0, 0, B_NONE, 1 },
	{ "N7", "bimodal null, q 0 both", PB_VERIFY_BIMODAL, 1, 0, 0, 0, 0,
	  0.5, 0.03, 0, 0, B_NONE, 0 },
	{ "N8", "bimodal null, q 0.5 both", PB_VERIFY_BIMODAL, 1, 0, 0.5,
	  0.5, 0, 0.5, 0.03, 0, 0, B_NONE, 0 },
	{ "N9", "bimodal null, q 0.3 both, bursts", PB_VERIFY_BIMODAL, 1, 0,
	  0.3, 0.3, 0.02, 0.3, 0.03, 0, 0, B_IID, 0 },
	{ "N10", "bimodal null, q 0.3 both, drift", PB_VERIFY_BIMODAL, 1, 0,
	  0.3, 0.3, 0.02, 0.3, 0.03, 0, 0.01, B_NONE, 0 },
	{ "S1", "shift 10 %, 3 % noise", PB_VERIFY_SHIFT, 0, 0.10, 0, 0, -1,
	  -1, 0.03, 0, 0, B_NONE, 0 },
	{ "S2", "shift 10 %, bursts", PB_VERIFY_SHIFT, 0, 0.10, 0, 0, -1, -1,
	  0.03, 0, 0, B_IID, 0 },
	{ "S3", "shift 10 %, drift 1 %/run", PB_VERIFY_SHIFT, 0, 0.10, 0,
	  0, -1, -1, 0.03, 0, 0.01, B_NONE, 0 },
	{ "S4", "shift 5 %, 3 % noise", PB_VERIFY_SHIFT, 0, 0.05, 0, 0, -1,
	  -1, 0.03, 0, 0, B_NONE, 0 },
	{ "S5", "shift 3 % (min_effect)", PB_VERIFY_SHIFT, 0, 0.03, 0, 0, -1,
	  -1, 0.03, 0, 0, B_NONE, 0 },
	{ "B1", "bimodal q1 0.5, q0 0", PB_VERIFY_BIMODAL, 0, 0, 0, 0.5, 0,
	  0.5, 0.03, 0, 0, B_NONE, 0 },
	{ "B2", "bimodal q1 0.5, q0 0.02", PB_VERIFY_BIMODAL, 0, 0, 0.02,
	  0.5, 0.02, 0.5, 0.03, 0, 0, B_NONE, 0 },
	{ "B3", "bimodal q1 0.3, q0 0", PB_VERIFY_BIMODAL, 0, 0, 0, 0.3, 0,
	  0.3, 0.03, 0, 0, B_NONE, 0 },
	{ "B4", "bimodal q1 0.3, q0 0.02", PB_VERIFY_BIMODAL, 0, 0, 0.02,
	  0.3, 0.02, 0.3, 0.03, 0, 0, B_NONE, 0 },
	{ "B5", "bimodal q1 0.5, q0 0, bursts", PB_VERIFY_BIMODAL, 0, 0, 0,
	  0.5, 0, 0.5, 0.03, 0, 0, B_IID, 0 },
};

struct machine {
	uint64_t rng[4];
	unsigned run;            /* runs so far */
	int burst_on;
	double burst;            /* the episode's slowdown */
	unsigned step_at;
};

static double unif(struct machine *m)
{
	return pb_xoshiro_unif(m->rng);
}

static double normal(struct machine *m)
{
	double u1 = unif(m), u2 = unif(m);

	return sqrt(-2 * log(1 - u1)) * cos(2 * M_PI * u2);
}

/* Student t, 2 degrees of freedom. */
static double student2(struct machine *m)
{
	double z = normal(m), c = 0;

	for (int i = 0; i < 2; i++) {
		double g = normal(m);

		c += g * g;
	}
	return z / sqrt(c / 2);
}

/* One run of the parent (culprit == 0) or the culprit. */
static double run_once(const struct scenario *sc, struct machine *m,
		       int culprit, int *slow)
{
	double x = 1.0, q = culprit ? sc->qc : sc->qp;

	if (sc->kind == PB_VERIFY_BIMODAL && unif(m) < q)
		x = SLOW_MODE;
	if (culprit)
		x /= 1 + sc->shift;
	x *= exp(sc->noise * (sc->heavy ? student2(m) : normal(m)));
	x *= exp(-sc->drift * m->run);
	if (sc->burst == B_IID && unif(m) < BURST_P)
		x /= 1.1 + 0.4 * unif(m);
	if (sc->burst == B_EPISODES) {
		double off = 1 / EPISODE_RUNS;
		double on = off * BURST_P / (1 - BURST_P);

		if (m->burst_on ? unif(m) < off : unif(m) < on) {
			m->burst_on = !m->burst_on;
			m->burst = 1.1 + 0.4 * unif(m);
		}
		if (m->burst_on)
			x /= m->burst;
	}
	if (sc->step && m->run >= m->step_at)
		x *= 0.7;
	m->run++;
	*slow = x < THRESHOLD;
	return x;
}

struct tally {
	unsigned trials, confirmed, futility, hopeless, maxpairs;
	unsigned *pairs;
	double effect_sum;
	unsigned with_ci, covered;
};

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return (x > y) - (x < y);
}

static double wilson(unsigned k, unsigned n, int upper)
{
	double z = 1.959963984540054, p = (double)k / n;
	double d = 1 + z * z / n;
	double c = p + z * z / (2.0 * n);
	double r = z * sqrt(p * (1 - p) / n + z * z / (4.0 * n * n));

	return (upper ? c + r : c - r) / d;
}

static double true_effect(const struct scenario *sc)
{
	if (sc->kind == PB_VERIFY_SHIFT)
		return sc->shift;
	return expm1((sc->qc - sc->qp) * -log(SLOW_MODE));
}

static int simulate(const struct scenario *sc, const struct pb_verify_opts *o,
		    unsigned trials, uint64_t seed, struct tally *t)
{
	double truth = true_effect(sc);

	memset(t, 0, sizeof(*t));
	t->pairs = calloc(trials, sizeof(*t->pairs));
	if (!t->pairs)
		return pb_error_set("out of memory");
	t->trials = trials;
	for (unsigned i = 0; i < trials; i++) {
		struct pb_verify *v;
		struct pb_verify_state st;
		struct machine m = { { 0 }, 0, 0, 0, 0 };
		int rc = pb_verify_new(&v, o);

		if (rc)
			return rc;
		pb_xoshiro_seed(m.rng, seed * 1000003u + i);
		m.step_at = (unsigned)(unif(&m) * 60);
		while (pb_verify_status(v) == PB_VERIFY_RUNNING) {
			enum pb_verify_side side = pb_verify_next(v, 0);
			int slow;
			double x = run_once(sc, &m, side == PB_VERIFY_CULPRIT,
					    &slow);

			if (side == PB_VERIFY_NONE ||
			    pb_verify_add(v, 0, side, x, slow)) {
				pb_verify_free(v);
				return pb_error_set("verify refused a run");
			}
		}
		pb_verify_state(v, &st);
		pb_verify_free(v);
		t->pairs[i] = st.pairs;
		t->confirmed += st.status == PB_VERIFY_CONFIRMED;
		t->futility += st.stop == PB_VERIFY_STOP_FUTILITY;
		t->hopeless += st.stop == PB_VERIFY_STOP_HOPELESS;
		t->maxpairs += st.stop == PB_VERIFY_STOP_MAX_PAIRS;
		t->effect_sum += st.effect;
		if (!isnan(st.lo)) {
			t->with_ci++;
			t->covered += st.lo <= truth && truth <= st.hi;
		}
	}
	return 0;
}

static void print_row(const struct scenario *sc, const struct tally *t)
{
	unsigned n = t->trials;
	double mean = 0;

	for (unsigned i = 0; i < n; i++)
		mean += t->pairs[i];
	mean /= n;
	qsort(t->pairs, n, sizeof(*t->pairs), cmp_unsigned);
	printf("%-4s %-34s %6u %8.4f %8.4f %6.3f %6.3f %6.3f %6.1f %4u "
	       "%+7.3f %6.3f\n",
	       sc->name, sc->what, n, (double)t->confirmed / n,
	       wilson(t->confirmed, n, sc->null),
	       (double)t->futility / n, (double)t->hopeless / n,
	       (double)t->maxpairs / n, mean,
	       t->pairs[(size_t)ceil(0.95 * n) - 1], t->effect_sum / n,
	       t->with_ci ? (double)t->covered / t->with_ci : NAN);
}

static void usage(FILE *f)
{
	fputs("usage: verify-sim [--trials T] [--seed S] [--alpha A] "
	      "[--max-pairs P]\n"
	      "                  [--told-noise | --untold] [--only NAME]\n", f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "trials", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 'S' },
		{ "alpha", required_argument, NULL, 'a' },
		{ "max-pairs", required_argument, NULL, 'p' },
		{ "told-noise", no_argument, NULL, 'n' },
		{ "untold", no_argument, NULL, 'u' },
		{ "only", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t trials = 10000, seed = 1, u;
	double alpha = 0.01;
	unsigned max_pairs = 0;
	int told_noise = 0, untold = 0, ch, rc = 0;
	const char *only = NULL;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 't': rc = pb_parse_u64(&trials, optarg, 1, 10000000,
					    "--trials"); break;
		case 'S': rc = pb_parse_u64(&seed, optarg, 0, UINT32_MAX,
					    "--seed"); break;
		case 'a': rc = pb_parse_double(&alpha, optarg, 1e-6, 0.5,
					       "--alpha"); break;
		case 'p': rc = pb_parse_u64(&u, optarg, 1, PB_VERIFY_MAX_PAIRS,
					    "--max-pairs");
			  max_pairs = (unsigned)u; break;
		case 'n': told_noise = 1; break;
		case 'u': untold = 1; break;
		case 'o': only = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (rc) {
			fprintf(stderr, "verify-sim: %s\n", pb_error_last());
			return 2;
		}
	}
	if (optind != argc || (told_noise && untold)) {
		usage(stderr);
		return 2;
	}
	printf("verify-sim: trials=%" PRIu64 " seed=%" PRIu64 " alpha=%g",
	       trials, seed, alpha);
	if (max_pairs)
		printf(" max_pairs=%u", max_pairs);
	else
		printf(" max_pairs=default (40 shift, 60 bimodal)");
	printf(" told=%s\n", untold ? "nothing" : told_noise ?
	       "noise, q0, q1" : "q0, q1");
	printf("%-4s %-34s %6s %8s %8s %6s %6s %6s %6s %4s %7s %6s\n",
	       "", "scenario", "trials", "confirm", "wilson95", "futil",
	       "hopels", "maxp", "pairs", "p95", "effect", "cover");
	for (size_t i = 0; i < PB_ARRAY_SIZE(scenarios); i++) {
		const struct scenario *sc = &scenarios[i];
		struct pb_verify_opts o = PB_VERIFY_OPTS_INIT;
		struct tally t;

		if (only && strcmp(only, sc->name) != 0)
			continue;
		o.kind = sc->kind;
		o.alpha = alpha;
		o.max_pairs = max_pairs;
		o.q0 = untold ? -1 : sc->told_q0;
		o.q1 = untold ? -1 : sc->told_q1;
		if (told_noise && sc->kind == PB_VERIFY_SHIFT)
			o.noise = sc->noise;
		if (simulate(sc, &o, (unsigned)trials, seed + i, &t)) {
			fprintf(stderr, "verify-sim: %s\n", pb_error_last());
			free(t.pairs);
			return 1;
		}
		print_row(sc, &t);
		free(t.pairs);
		fflush(stdout);
	}
	return 0;
}
