/*
 * bisect-sim - how many runs a bisection costs, and how often it is right.
 *
 * Synthetic histories: commits 0..N, 0 the good end and N the bad end, the
 * culprit uniform in 1..N.  A run of a commit gives a metric value only:
 *   bimodal: slow with probability q1 at bad commits and q0 at good ones,
 *            the fast mode at 1.0 and the slow mode at 0.6, each with
 *            run-to-run noise (3 % by default);
 *   shift:   1.0 at good commits and 1 - shift at bad ones, plus noise.
 * The engine (orchestrator/core, the same code the CLI and the service
 * use) sees these values through its public API and nothing else: it
 * learns the modes and the rates from the runs.  Every figure counts every
 * run, the ends included.
 *
 * Side by side, in one run, on the same histories and seeds:
 *   engine     the engine, learning everything
 *   oracle     the engine told the true q0, q1 (test-only switch)
 *   told-q0    told only q0, learning q1 (--decompose, bimodal)
 *   told-q1    told only q1, learning q0 (--decompose, bimodal)
 *   q0=X       told q0 = X whatever the truth, learning q1 (--told-q0 X):
 *              what one fixed belief about q0 costs
 *   bisect-1   git bisect with one run per commit
 *   bisect-R   bisect with R fixed repeats, "any slow run means bad"
 *   bound      the information bound log2(N) / C(q1) (q0 = 0; probes)
 *   pooled     with --machines: the engine with its per-machine rule
 *              off (every run judged as one machine's)
 *   untold     with --machines and --untold-busy: the engine not told
 *              which runs are out when a machine asks
 * With q0 == q1 nothing changed: "right" is then "said no regression".
 * The baselines are handed the true slow/fast threshold and spend their
 * R runs on each end too (1 for bisect-1): a generous comparison.
 *
 * --machines M: M agents whose machines differ in speed (1.0, 0.9, 0.85,
 * 0.8, ...: every run's value times its machine's speed), each asking for
 * work as it becomes idle (pb_engine_next_for(), with the runs out on the
 * others); a run takes 1 / speed units of time, +-10 %, so results come
 * back in any order.  "time" is when the engine decided, in units of one
 * run on the fastest machine; runs still out then are counted too.
 *
 * Usage: bisect-sim [--n N] [--q1 Q] [--q0 Q] [--shift S] [--noise S]
 *                   [--k AGENTS] [--trials T] [--seed S] [--confidence C]
 *                   [--max-runs R] [--no-baselines] [--decompose]
 *                   [--told-q0 X] [--acceptance] [--jobs 1..8] [--trace]
 *                   [--machines M]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "orchestrator/core/engine.h"
#include "orchestrator/core/engine_oracle.h"
#include "orchestrator/core/rng.h"
#include "common/err.h"
#include "common/util.h"

/* How the simulated machine changes while it runs (D1..D4 of issue 20):
 * every run's value is multiplied by the machine's speed at that run. */
enum drift {
	DR_NONE = 0,
	DR_STEP,        /* 30 % slower from a run uniform in 1..150 on */
	DR_RAMP,        /* slower by 20 % * run / 500, up to 20 % */
	DR_BURSTS,      /* 20 % of runs 10-50 % slower; the interference
			 * signal flags 80 % of those and 2 % of the others
			 * (pb_engine_disturbed()) */
	DR_BURSTS_BLIND, /* the same bursts, no signal */
};

static const char *const drift_names[] = { "none", "step", "ramp", "bursts",
					   "bursts-unflagged" };

struct scenario {
	const char *name;
	size_t n;               /* candidate commits (N) */
	double q0, q1;          /* bimodal rates (shift == 0) */
	double shift;           /* relative shift, or 0 for bimodal */
	double noise;           /* relative run-to-run noise */
	size_t k;               /* agents */
	unsigned trials;
	uint64_t seed;
	double confidence;
	unsigned max_runs;
	int baselines;
	int trace;              /* print every wrong engine verdict */
	int decompose;          /* the told-q0 and told-q1 lines too */
	int fixed_q0_set;       /* a line told q0 = fixed_q0 */
	double fixed_q0;
	enum drift drift;       /* the machine changing under the runs */
	unsigned machines;      /* > 0: that many machines of different
				 * speeds, asking as they become idle */
	int untold;             /* the "untold" line too (--machines) */
};

/* The machines' speeds (--machines): 10-20 % apart, the first fastest. */
static const double machine_speed[] = { 1.0, 0.9, 0.85, 0.8, 0.95, 0.875,
					0.825, 0.925 };
#define MAX_MACHINES (sizeof(machine_speed) / sizeof(machine_speed[0]))

/* What a job simulates: the engine, told all, one or none of the rates,
 * or classic bisection with fixed repeats. */
enum strategy { S_ENGINE, S_ORACLE, S_TOLD_Q0, S_TOLD_Q1, S_FIXED_Q0,
		S_POOLED, S_UNTOLD, S_FIXED };

struct tally {
	unsigned trials, right;
	unsigned wrong;          /* a culprit named, and not the one */
	unsigned *runs;          /* per trial */
	unsigned *rounds;
};

/* ---- randomness: xoshiro256** seeded by splitmix64 ---- */

struct rng {
	uint64_t s[4];
	int have_spare;
	double spare;
};

static void rng_seed(struct rng *r, uint64_t seed)
{
	pb_xoshiro_seed(r->s, seed);
	r->have_spare = 0;
}

static double rng_unif(struct rng *r)
{
	return pb_xoshiro_unif(r->s);
}

static double rng_normal(struct rng *r)
{
	double u, v, s;

	if (r->have_spare) {
		r->have_spare = 0;
		return r->spare;
	}
	do {
		u = 2 * rng_unif(r) - 1;
		v = 2 * rng_unif(r) - 1;
		s = u * u + v * v;
	} while (s >= 1 || s == 0);
	s = sqrt(-2 * log(s) / s);
	r->spare = v * s;
	r->have_spare = 1;
	return u * s;
}

/* ---- the synthetic history ---- */

struct history {
	const struct scenario *sc;
	size_t culprit;
	struct rng rng;
	unsigned t;             /* runs so far: the machine's clock */
	unsigned step_at;       /* DR_STEP: the run it slows down at */
	unsigned index;         /* which of the scenario's histories */
};

static int is_bad(const struct history *h, size_t i)
{
	return i >= h->culprit;
}

/* One run of commit i: its value, and in *flagged whether the machine's
 * interference signal marked it disturbed (DR_BURSTS). */
static double run_value_flag(struct history *h, size_t i, int *flagged)
{
	const struct scenario *sc = h->sc;
	double centre, speed = 1;
	unsigned t = h->t++;

	*flagged = 0;
	switch (sc->drift) {
	case DR_STEP:
		speed = t >= h->step_at ? 0.7 : 1;
		break;
	case DR_RAMP:
		speed = 1 - 0.2 * (t < 500 ? t / 500.0 : 1);
		break;
	case DR_BURSTS:
	case DR_BURSTS_BLIND: {
		int burst = rng_unif(&h->rng) < 0.2;
		double u = rng_unif(&h->rng), f = rng_unif(&h->rng);

		if (burst)
			speed = 1 - (0.1 + 0.4 * u);
		if (sc->drift == DR_BURSTS)
			*flagged = f < (burst ? 0.8 : 0.02);
		break;
	}
	default:
		break;
	}

	if (sc->shift > 0) {
		centre = is_bad(h, i) ? 1 - sc->shift : 1.0;
	} else {
		double q = is_bad(h, i) ? sc->q1 : sc->q0;

		centre = rng_unif(&h->rng) < q ? 0.6 : 1.0;
	}
	return speed * centre * (1 + sc->noise * rng_normal(&h->rng));
}

static double run_value(struct history *h, size_t i)
{
	int flagged;

	return run_value_flag(h, i, &flagged);
}

static double true_threshold(const struct scenario *sc)
{
	return sc->shift > 0 ? 1 - sc->shift / 2 : 0.8;
}

/* ---- strategies ---- */

/*
 * The service's way (--machines): every idle machine asks for work with
 * the runs out on the others; a run of machine m takes 1 / speed(m) units
 * of time, +-10 %, and its value is the history's times the machine's
 * speed; results are fed as they complete, with their machine.  Returns
 * the runs handed out (those still out when the engine decided too);
 * *time gets when it decided, rounded up.
 */
static unsigned drive_machines(const struct scenario *sc, struct history *h,
			       struct pb_engine *e, int untold,
			       unsigned *time)
{
	struct pb_engine_lease lease[MAX_MACHINES];
	struct pb_engine_result res;
	unsigned idle[MAX_MACHINES], started = 0, nm = sc->machines;
	size_t out[MAX_MACHINES], commit[MAX_MACHINES];
	double t_end[MAX_MACHINES], now = 0;
	int busy[MAX_MACHINES] = { 0 };

	for (;;) {
		size_t ni = 0, nb = 0;
		unsigned next = nm;

		for (unsigned m = 0; m < nm; m++) {
			if (busy[m]) {
				lease[nb].commit = commit[m];
				lease[nb++].machine = m;
			} else {
				idle[ni++] = m;
			}
		}
		if (ni > 0 && pb_engine_next_for(e, idle, ni, lease,
						 untold ? 0 : nb, out) < 0) {
			fprintf(stderr, "bisect-sim: pb_engine_next_for "
				"refused its arguments\n");
			exit(2);
		}
		pb_engine_result(e, &res);
		if (res.outcome != PB_OUT_RUNNING)
			break;
		for (size_t t = 0; t < ni; t++) {
			unsigned m = idle[t];

			if (out[t] == PB_ENGINE_NO_RUN)
				continue;
			busy[m] = 1;
			commit[m] = out[t];
			t_end[m] = now + (1 + 0.2 * (rng_unif(&h->rng) - 0.5)) /
					 machine_speed[m];
			started++;
		}
		for (unsigned m = 0; m < nm; m++)
			if (busy[m] && (next == nm || t_end[m] < t_end[next]))
				next = m;
		if (next == nm)
			break; /* nothing out, nothing to run: stuck */
		{
			struct pb_engine_run r;
			int flagged;
			double v = run_value_flag(h, commit[next], &flagged);

			now = t_end[next];
			busy[next] = 0;
			r.commit = commit[next];
			r.machine = next;
			r.status = flagged ? PB_RUN_DISTURBED : PB_RUN_OK;
			r.value = v * machine_speed[next];
			pb_engine_feed(e, &r);
		}
	}
	*time = (unsigned)ceil(now);
	return started;
}

static int run_engine(const struct scenario *sc, struct history *h,
		      enum strategy st, unsigned *runs, unsigned *rounds,
		      unsigned *wrong)
{
	struct pb_engine_opts o = PB_ENGINE_OPTS_INIT;
	struct pb_engine_result res;
	struct pb_engine *e;
	size_t batch[64], k = sc->k < 64 ? sc->k : 64, got;
	int right;

	o.n = sc->n + 1;
	o.confidence = sc->confidence;
	o.seed = sc->seed;
	o.max_runs = sc->max_runs;
	if (pb_engine_new(&e, &o) < 0) {
		fprintf(stderr, "bisect-sim: pb_engine_new failed\n");
		exit(2);
	}
	if (st == S_ORACLE)
		pb_engine_oracle_rates(e, sc->shift > 0 ? 0 : sc->q0,
				       sc->shift > 0 ? 1 : sc->q1);
	else if (st == S_TOLD_Q0)
		pb_engine_oracle_rates(e, sc->q0, NAN);
	else if (st == S_TOLD_Q1)
		pb_engine_oracle_rates(e, NAN, sc->q1);
	else if (st == S_FIXED_Q0)
		pb_engine_oracle_rates(e, sc->fixed_q0, NAN);
	else if (st == S_POOLED)
		pb_engine_pool_machines(e);
	*rounds = 0;
	if (sc->machines) {
		*runs = drive_machines(sc, h, e, st == S_UNTOLD, rounds);
	} else {
		while ((got = pb_engine_next_batch(e, k, batch)) > 0) {
			(*rounds)++;
			for (size_t t = 0; t < got; t++) {
				int flagged;
				double v = run_value_flag(h, batch[t],
							  &flagged);

				if (flagged)
					pb_engine_disturbed(e, batch[t]);
				else
					pb_engine_observe(e, batch[t], v);
			}
		}
	}
	pb_engine_result(e, &res);
	if (!sc->machines)
		*runs = res.runs + res.disturbed;
	/* a history where nothing changed (q0 == q1): right is "no
	 * regression", and any culprit is wrong */
	if (sc->shift == 0 && sc->q0 == sc->q1) {
		right = res.outcome == PB_OUT_NO_REGRESSION;
		*wrong += res.outcome == PB_OUT_CULPRIT;
	} else {
		right = res.outcome == PB_OUT_CULPRIT &&
			res.culprit == h->culprit;
		*wrong += res.outcome == PB_OUT_CULPRIT && !right;
	}
	if (!right && sc->trace)
		fprintf(stderr, "%s: history %u: culprit %zu, said %zu (outcome %d, mode %s, "
			"confidence %.4f, %u runs): %s\n",
			st == S_ORACLE	  ? "oracle"
			: st == S_POOLED  ? "pooled"
			: st == S_UNTOLD  ? "untold"
			: st == S_TOLD_Q0 ? "told-q0"
			: st == S_FIXED_Q0 ? "told-fixed-q0"
			: st == S_TOLD_Q1 ? "told-q1"
					  : "engine",
			h->index, h->culprit, res.culprit,
			(int)res.outcome,
			pb_mode_name(res.mode) ? pb_mode_name(res.mode) : "?",
			res.confidence, res.runs, res.why);
	pb_engine_free(e);
	return right;
}

/* Classic bisection with `reps` runs per commit; a commit is bad as soon
 * as one run is slow.  The ends get `reps` runs each. */
static int run_fixed(const struct scenario *sc, struct history *h,
		     unsigned reps, unsigned *runs)
{
	size_t lo = 0, hi = sc->n;
	double thr = true_threshold(sc);

	*runs = 0;
	for (unsigned r = 0; r < reps; r++) {
		run_value(h, 0);
		run_value(h, sc->n);
		*runs += 2;
	}
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		int bad = 0;

		for (unsigned r = 0; r < reps && !bad; r++) {
			(*runs)++;
			bad = run_value(h, mid) < thr;
		}
		if (bad)
			hi = mid;
		else
			lo = mid;
	}
	return hi == h->culprit;
}

/* ---- tallies ---- */

static int cmp_uint(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return (x > y) - (x < y);
}

static double quantile(unsigned *v, unsigned n, double p)
{
	size_t k;

	qsort(v, n, sizeof(*v), cmp_uint);
	k = (size_t)ceil(p * n);
	if (k > 0)
		k--;
	return v[k < n ? k : n - 1];
}

static double mean_of(const unsigned *v, unsigned n)
{
	double s = 0;

	for (unsigned i = 0; i < n; i++)
		s += v[i];
	return s / n;
}

/* 95 % Wilson score interval, upper bound. */
static double wilson_upper(unsigned k, unsigned n)
{
	double z = 1.959963984540054, p = (double)k / n;
	double d = 1 + z * z / n;
	double c = p + z * z / (2.0 * n);
	double r = z * sqrt(p * (1 - p) / n + z * z / (4.0 * n * n));

	return (c + r) / d;
}

/* 95 % Wilson score interval, lower bound. */
static double wilson_lower(unsigned k, unsigned n)
{
	double z = 1.959963984540054, p = (double)k / n;
	double d = 1 + z * z / n;
	double c = p + z * z / (2.0 * n);
	double r = z * sqrt(p * (1 - p) / n + z * z / (4.0 * n * n));

	return (c - r) / d;
}

static void print_row(const char *name, const struct tally *t, int rounds,
		      int wrong)
{
	unsigned n = t->trials;
	double acc = (double)t->right / n;
	double mean = mean_of(t->runs, n);
	double p95 = quantile(t->runs, n, 0.95);
	double p99 = quantile(t->runs, n, 0.99);

	printf("  %-12s %8.4f %8.4f %9.1f %6.0f %6.0f", name, acc,
	       wilson_lower(t->right, n), mean, p95, p99);
	if (rounds)
		printf(" %8.1f %6.0f", mean_of(t->rounds, n),
		       quantile(t->rounds, n, 0.95));
	if (wrong)
		printf(" %8.4f %8.4f", (double)t->wrong / n,
		       wilson_upper(t->wrong, n));
	printf("\n");
}

static double capacity(double q)
{
	if (q >= 1)
		return 1;
	return log1p(q * pow(1 - q, (1 - q) / q)) / M_LN2;
}

/* Runs `trials` histories of a scenario for one strategy (S_FIXED: with
 * `reps` repeats). */
static void simulate(const struct scenario *sc, enum strategy strategy,
		     unsigned reps, struct tally *t, unsigned *done)
{
	t->trials = sc->trials;
	t->right = t->wrong = 0;
	for (unsigned i = 0; i < sc->trials; i++) {
		struct history h;
		uint64_t s = sc->seed * 1000003ULL + i;

		h.sc = sc;
		h.t = 0;
		h.index = i;
		rng_seed(&h.rng, s);
		h.culprit = 1 + (size_t)(rng_unif(&h.rng) * sc->n);
		if (h.culprit > sc->n)
			h.culprit = sc->n;
		h.step_at = 1 + (unsigned)(rng_unif(&h.rng) * 150);
		t->rounds[i] = 0;
		if (strategy != S_FIXED)
			t->right += run_engine(sc, &h, strategy, &t->runs[i],
					       &t->rounds[i], &t->wrong);
		else
			t->right += run_fixed(sc, &h, reps, &t->runs[i]);
		__atomic_store_n(done, i + 1, __ATOMIC_RELAXED);
	}
}

/* The tallies are computed in a child per strategy, two at a time, and sent
 * back through a pipe: the machine has two cores. */
struct job {
	enum strategy strategy;
	unsigned reps;
	char name[24];
	pid_t pid;
	int fd;
	unsigned *done;         /* trials simulated, shared with the child */
	struct tally t;
};

static void start_job(const struct scenario *sc, struct job *j)
{
	int p[2];

	if (pipe(p) < 0) {
		perror("bisect-sim: pipe");
		exit(2);
	}
	fflush(stdout);
	j->pid = fork();
	if (j->pid < 0) {
		perror("bisect-sim: fork");
		exit(2);
	}
	if (j->pid == 0) {
		size_t sz = sc->trials * sizeof(unsigned);

		close(p[0]);
		simulate(sc, j->strategy, j->reps, &j->t, j->done);
		if (write(p[1], &j->t.right, sizeof(j->t.right)) < 0 ||
		    write(p[1], &j->t.wrong, sizeof(j->t.wrong)) < 0 ||
		    write(p[1], j->t.runs, sz) < 0 ||
		    write(p[1], j->t.rounds, sz) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	j->fd = p[0];
}

static void read_all(int fd, void *buf, size_t n)
{
	char *b = buf;

	while (n > 0) {
		ssize_t r = read(fd, b, n);

		if (r <= 0) {
			fprintf(stderr, "bisect-sim: a worker died\n");
			exit(2);
		}
		b += r;
		n -= (size_t)r;
	}
}

static void finish_job(const struct scenario *sc, struct job *j)
{
	int st;

	j->t.trials = sc->trials;
	read_all(j->fd, &j->t.right, sizeof(j->t.right));
	read_all(j->fd, &j->t.wrong, sizeof(j->t.wrong));
	read_all(j->fd, j->t.runs, sc->trials * sizeof(unsigned));
	read_all(j->fd, j->t.rounds, sc->trials * sizeof(unsigned));
	close(j->fd);
	waitpid(j->pid, &st, 0);
}

/* How many of the engine's histories spent the whole run budget: such a
 * history names no culprit with confidence, and costs the most. */
static void print_budget(const struct scenario *sc, const struct job *jobs,
			 size_t nj)
{
	int any = 0;

	for (size_t i = 0; i < nj; i++) {
		unsigned at = 0;

		if (jobs[i].strategy == S_FIXED)
			continue;
		for (unsigned k = 0; k < sc->trials; k++)
			at += jobs[i].t.runs[k] >= sc->max_runs;
		if (!at)
			continue;
		printf("%s %s %u", any ? "," : "  at the run budget:",
		       jobs[i].name, at);
		any = 1;
	}
	if (any)
		printf(" of %u histories\n", sc->trials);
}

/* Progress on stderr, when it is a terminal: the trials each running
 * method has simulated (an --acceptance run takes some twenty minutes). */
static void show_progress(const struct scenario *sc, const struct job *jobs,
			  size_t from, size_t to)
{
	fprintf(stderr, "\r\033[K%s:", sc->name);
	for (size_t i = from; i < to; i++)
		fprintf(stderr, " %s %u/%u", jobs[i].name,
			__atomic_load_n(jobs[i].done, __ATOMIC_RELAXED),
			sc->trials);
	fflush(stderr);
}

static void run_scenario(const struct scenario *sc, int jobs_at_once)
{
	static const unsigned reps[] = { 1, 5, 7, 10, 14 };
	struct job jobs[10];
	size_t nj = 0, next = 0, done = 0;
	int tty = isatty(STDERR_FILENO);
	unsigned *counts;

	jobs[nj].strategy = S_ENGINE;
	snprintf(jobs[nj++].name, sizeof(jobs[0].name), "engine");
	jobs[nj].strategy = S_ORACLE;
	snprintf(jobs[nj++].name, sizeof(jobs[0].name), "oracle");
	if (sc->decompose && sc->shift == 0 && sc->q0 != sc->q1) {
		jobs[nj].strategy = S_TOLD_Q0;
		snprintf(jobs[nj++].name, sizeof(jobs[0].name), "told-q0");
		jobs[nj].strategy = S_TOLD_Q1;
		snprintf(jobs[nj++].name, sizeof(jobs[0].name), "told-q1");
	}
	if (sc->machines > 1) {
		jobs[nj].strategy = S_POOLED;
		snprintf(jobs[nj++].name, sizeof(jobs[0].name), "pooled");
	}
	if (sc->machines > 1 && sc->untold) {
		jobs[nj].strategy = S_UNTOLD;
		snprintf(jobs[nj++].name, sizeof(jobs[0].name), "untold");
	}
	if (sc->fixed_q0_set && sc->shift == 0) {
		jobs[nj].strategy = S_FIXED_Q0;
		snprintf(jobs[nj++].name, sizeof(jobs[0].name), "q0=%g",
			 sc->fixed_q0);
	}
	if (sc->baselines && sc->k == 1 && !sc->machines &&
	    !(sc->shift == 0 && sc->q0 == sc->q1))
		for (size_t r = 0; r < sizeof(reps) / sizeof(reps[0]); r++) {
			jobs[nj].strategy = S_FIXED;
			jobs[nj].reps = reps[r];
			snprintf(jobs[nj++].name, sizeof(jobs[0].name),
				 "bisect-%u", reps[r]);
		}
	counts = mmap(NULL, sizeof(unsigned) * nj, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counts == MAP_FAILED) {
		perror("bisect-sim: mmap");
		exit(2);
	}
	for (size_t i = 0; i < nj; i++) {
		jobs[i].done = &counts[i];
		jobs[i].t.runs = calloc(sc->trials, sizeof(unsigned));
		jobs[i].t.rounds = calloc(sc->trials, sizeof(unsigned));
		if (!jobs[i].t.runs || !jobs[i].t.rounds) {
			fprintf(stderr, "bisect-sim: out of memory\n");
			exit(2);
		}
	}
	while (done < nj) {
		struct pollfd pfd;
		int ready;

		while (next < nj && next - done < (size_t)jobs_at_once)
			start_job(sc, &jobs[next++]);
		pfd.fd = jobs[done].fd;
		pfd.events = POLLIN;
		if (tty) {
			show_progress(sc, jobs, done, next);
			ready = poll(&pfd, 1, 1000);
			/* a resized terminal interrupts poll() too */
			if (ready == 0 || (ready < 0 && errno == EINTR))
				continue;
		}
		finish_job(sc, &jobs[done++]);
	}
	if (tty)
		fprintf(stderr, "\r\033[K");
	munmap(counts, sizeof(unsigned) * nj);

	printf("\n%s: N=%zu", sc->name, sc->n);
	if (sc->shift > 0)
		printf(" shift=%.0f%%", 100 * sc->shift);
	else
		printf(" q1=%.2f q0=%.2f", sc->q1, sc->q0);
	printf(" noise=%.0f%% K=%zu confidence=%.3f trials=%u seed=%" PRIu64,
	       100 * sc->noise, sc->machines ? (size_t)sc->machines : sc->k,
	       sc->confidence, sc->trials, sc->seed);
	if (sc->drift)
		printf(" drift=%s", drift_names[sc->drift]);
	if (sc->machines) {
		printf(" machines=");
		for (unsigned m = 0; m < sc->machines; m++)
			printf("%s%g", m ? "," : "", machine_speed[m]);
	}
	printf("\n");
	printf("  %-12s %8s %8s %9s %6s %6s", "method", "accuracy", "wilson95",
	       "mean-runs", "p95", "p99");
	if (sc->k > 1 || sc->machines)
		printf(" %8s %6s", sc->machines ? "time" : "rounds", "p95");
	printf(" %8s %8s", "wrong", "wilson95");
	printf("\n");
	for (size_t i = 0; i < nj; i++)
		print_row(jobs[i].name, &jobs[i].t, sc->k > 1 || sc->machines,
			  jobs[i].strategy != S_FIXED);
	print_budget(sc, jobs, nj);
	for (size_t i = 0; i < nj; i++) {
		free(jobs[i].t.runs);
		free(jobs[i].t.rounds);
	}
	if (sc->shift == 0 && sc->q0 == 0 && sc->q1 > 0)
		printf("  %-12s %35.1f   (log2 N / C(q1), probes)\n", "bound",
		       log2((double)sc->n) / capacity(sc->q1));
	if (sc->shift == 0 && sc->q0 == sc->q1)
		printf("  (nothing changed: \"accuracy\" is the share that "
		       "said no regression)\n");
	fflush(stdout);
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: bisect-sim [--n N] [--q1 Q] [--q0 Q] [--shift S] [--noise S]\n"
"                  [--k AGENTS] [--trials T] [--seed S] [--confidence C]\n"
"                  [--max-runs R] [--no-baselines] [--decompose]\n"
"                  [--told-q0 X] [--acceptance] [--jobs 1..8] [--trace]\n"
"                  [--drift step|ramp|bursts|bursts-unflagged]\n"
"                  [--machines M] [--untold-busy]\n"
"\n"
"Simulates bisections of synthetic histories and prints accuracy and runs\n"
"of the engine, the engine told the true rates (oracle), and classic\n"
"bisect with fixed repeats, side by side, on the same histories.\n"
"\n"
"  --n N            commits after the good end (default 1000)\n"
"  --q1 Q           slow fraction at bad commits (default 0.5)\n"
"  --q0 Q           slow fraction at good commits, at most q1 (default 0;\n"
"                   q0 = q1: nothing changed, and \"accuracy\" is the share\n"
"                   that said no regression)\n"
"  --shift S        a shift of S (0.10 = 10 %%) instead of two modes\n"
"  --noise S        run-to-run noise, relative (default 0.03)\n"
"  --k AGENTS       runs chosen at once, one round (default 1)\n"
"  --trials T       histories (default 2000)\n"
"  --seed S         the histories' seed (default 1)\n"
"  --confidence C   the engine's --confidence (default 0.99)\n"
"  --max-runs R     the run budget of one bisection (default 500)\n"
"  --no-baselines   leave out bisect with fixed repeats\n"
"  --decompose      add the engine told only q0 (told-q0) and only q1\n"
"                   (told-q1): what learning each rate costs\n"
"  --told-q0 X      add, for bimodal histories (not --shift), the engine\n"
"                   told q0 = X whatever the truth, learning q1 (the line\n"
"                   q0=X): what one fixed belief about q0 costs\n"
"  --acceptance     the issue's acceptance scenarios (2,000 trials each,\n"
"                   fixed seeds), three kinds of history where nothing\n"
"                   changed (N1: both ends bimodal alike; N2: noise only;\n"
"                   N3: slow in 5 %% of the runs everywhere), the machine\n"
"                   changing under the runs (D1-D4) and four machines\n"
"                   10-20 %% apart asking as they become idle (M1); more\n"
"                   than an hour with --jobs 2\n"
"  --jobs J         methods simulated at once, one process each (default 2)\n"
"  --trace          print each history the engine got wrong, on stderr\n"
"  --drift KIND     the machine changes under the runs: step (30 %% slower\n"
"                   from a run uniform in 1..150 on), ramp (20 %% slower\n"
"                   over 500 runs), bursts (20 %% of runs 10-50 %% slower,\n"
"                   80 %% of those and 2 %% of the others flagged disturbed\n"
"                   as the agent's interference signal would), or\n"
"                   bursts-unflagged (no signal); \"wrong\" is the share\n"
"                   that named a wrong culprit, with its 95 %% Wilson upper\n"
"                   bound\n"
"  --machines M     M agents (1..%zu) on machines of speeds 1.0, 0.9, 0.85,\n"
"                   0.8, ... (each run's value times its machine's), each\n"
"                   asking for work as it becomes idle, with the runs out\n"
"                   on the others, a run taking 1 / speed (+-10 %%) units\n"
"                   of time (--k is then M); \"time\" is when the engine\n"
"                   decided; the \"pooled\" line judges every run as one\n"
"                   machine's (the per-machine rule off)\n"
"  --untold-busy    with --machines, add the line \"untold\": the engine\n"
"                   not told which runs are out when a machine asks\n"
"\n"
"Tables go to stdout; progress goes to stderr when it is a terminal.\n"
"Exit status: 0 done, 2 bad arguments.\n", MAX_MACHINES);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "n", required_argument, NULL, 'n' },
		{ "q1", required_argument, NULL, '1' },
		{ "q0", required_argument, NULL, '0' },
		{ "shift", required_argument, NULL, 's' },
		{ "noise", required_argument, NULL, 'z' },
		{ "k", required_argument, NULL, 'k' },
		{ "trials", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 'S' },
		{ "confidence", required_argument, NULL, 'c' },
		{ "max-runs", required_argument, NULL, 'm' },
		{ "no-baselines", no_argument, NULL, 'B' },
		{ "decompose", no_argument, NULL, 'D' },
		{ "told-q0", required_argument, NULL, 'Q' },
		{ "acceptance", no_argument, NULL, 'A' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "trace", no_argument, NULL, 'T' },
		{ "drift", required_argument, NULL, 'd' },
		{ "machines", required_argument, NULL, 'M' },
		{ "untold-busy", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct scenario sc = { "custom", 1000, 0, 0.5, 0, 0.03, 1, 2000, 1,
			       0.99, 500, 1, 0, 0, 0, 0, DR_NONE, 0, 0 };
	int acceptance = 0, jobs = 2, ch, rc = 0;
	uint64_t u;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': rc = pb_parse_u64(&u, optarg, 2, 1000000, "--n");
			  sc.n = (size_t)u; break;
		case '1': rc = pb_parse_double(&sc.q1, optarg, 0, 1, "--q1");
			  break;
		case '0': rc = pb_parse_double(&sc.q0, optarg, 0, 1, "--q0");
			  break;
		case 's': rc = pb_parse_double(&sc.shift, optarg, 0, 1,
					       "--shift");
			  break;
		case 'z': rc = pb_parse_double(&sc.noise, optarg, 0, 1,
					       "--noise");
			  break;
		case 'k': rc = pb_parse_u64(&u, optarg, 1, 64, "--k");
			  sc.k = (size_t)u; break;
		case 't': rc = pb_parse_u64(&u, optarg, 1, 1000000,
					    "--trials");
			  sc.trials = (unsigned)u; break;
		case 'S': rc = pb_parse_u64(&sc.seed, optarg, 0, UINT64_MAX,
					    "--seed");
			  break;
		case 'c': rc = pb_parse_double(&sc.confidence, optarg, 0, 1,
					       "--confidence");
			  break;
		case 'm': rc = pb_parse_u64(&u, optarg, 1, 1000000,
					    "--max-runs");
			  sc.max_runs = (unsigned)u; break;
		case 'B': sc.baselines = 0; break;
		case 'D': sc.decompose = 1; break;
		case 'Q': rc = pb_parse_double(&sc.fixed_q0, optarg, 0, 0.5,
					       "--told-q0");
			  sc.fixed_q0_set = 1;
			  break;
		case 'A': acceptance = 1; break;
		case 'j': rc = pb_parse_u64(&u, optarg, 1, 8, "--jobs");
			  jobs = (int)u; break;
		case 'T': sc.trace = 1; break;
		case 'd': {
			size_t k;

			for (k = 0; k < sizeof(drift_names) / sizeof(drift_names[0]);
			     k++)
				if (!strcmp(optarg, drift_names[k]))
					break;
			if (k == sizeof(drift_names) / sizeof(drift_names[0])) {
				fprintf(stderr, "bisect-sim: --drift: '%s' is "
					"not none, step, ramp, bursts or "
					"bursts-unflagged\n", optarg);
				return 2;
			}
			sc.drift = (enum drift)k;
			break;
		}
		case 'M': rc = pb_parse_u64(&u, optarg, 1, MAX_MACHINES,
					    "--machines");
			  sc.machines = (unsigned)u; break;
		case 'U': sc.untold = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (rc < 0) {
			fprintf(stderr, "bisect-sim: %s\n", pb_error_last());
			return 2;
		}
	}
	if (sc.n < 2 || sc.k < 1 || sc.trials < 1 || !(sc.q1 >= 0) ||
	    sc.q1 > 1 || sc.q0 < 0 || sc.q0 > sc.q1 || sc.shift < 0 ||
	    sc.shift >= 1 || !(sc.confidence > 0 && sc.confidence < 1)) {
		fprintf(stderr, "bisect-sim: bad parameters\n");
		usage(stderr);
		return 2;
	}
	if (sc.machines)
		sc.k = sc.machines;
	if (!acceptance) {
		run_scenario(&sc, jobs);
		return 0;
	}
	{
		struct scenario a[] = {
			{ "A1 bimodal", 1000, 0, 0.5, 0, 0.03, 1, 2000, 1,
			  0.99, 500, 1, 0, 0, 0, 0, DR_NONE, 0, 0 },
			{ "A2 bimodal, misread fast runs", 1000, 0.02, 0.5, 0,
			  0.03, 1, 2000, 2, 0.99, 500, 1, 0, 0, 0, 0, DR_NONE, 0, 0 },
			{ "A3 bimodal, rare slow mode", 1000, 0, 0.3, 0, 0.03,
			  1, 2000, 3, 0.99, 500, 1, 0, 0, 0, 0, DR_NONE, 0, 0 },
			{ "A4 shift", 1000, 0, 1, 0.10, 0.03, 1, 2000, 4, 0.99,
			  500, 1, 0, 0, 0, 0, DR_NONE, 0, 0 },
			{ "A5 four agents", 1000, 0, 0.5, 0, 0.03, 4, 2000, 5,
			  0.99, 500, 0, 0, 0, 0, 0, DR_NONE, 0, 0 },
			{ "N1 no change, both ends bimodal", 1000, 0.3, 0.3,
			  0, 0.03, 1, 2000, 6, 0.99, 500, 0, 0, 0, 0, 0, DR_NONE, 0, 0 },
			{ "N2 no change, noise only", 1000, 0, 0, 0, 0.03, 1,
			  4000, 8, 0.99, 500, 0, 0, 0, 0, 0, DR_NONE, 0, 0 },
			{ "N3 no change, rare slow runs", 1000, 0.05, 0.05, 0,
			  0.03, 1, 2000, 9, 0.99, 500, 0, 0, 0, 0, 0, DR_NONE, 0, 0 },
			{ "D1 machine 30 % slower from a run on (A1)", 1000, 0,
			  0.5, 0, 0.03, 1, 2000, 11, 0.99, 500, 0, 0, 0, 0, 0,
			  DR_STEP, 0, 0 },
			{ "D1 machine 30 % slower from a run on (A4)", 1000, 0,
			  1, 0.10, 0.03, 1, 2000, 12, 0.99, 500, 0, 0, 0, 0, 0,
			  DR_STEP, 0, 0 },
			{ "D2 20 % ramp over 500 runs (A1)", 1000, 0, 0.5, 0,
			  0.03, 1, 2000, 13, 0.99, 500, 0, 0, 0, 0, 0, DR_RAMP, 0, 0 },
			{ "D2 20 % ramp over 500 runs (A4)", 1000, 0, 1, 0.10,
			  0.03, 1, 2000, 14, 0.99, 500, 0, 0, 0, 0, 0, DR_RAMP, 0, 0 },
			{ "D3 bursts, flagged (A1)", 1000, 0, 0.5, 0, 0.03, 1,
			  2000, 15, 0.99, 500, 0, 0, 0, 0, 0, DR_BURSTS, 0, 0 },
			{ "D3 bursts, flagged (A4)", 1000, 0, 1, 0.10, 0.03, 1,
			  2000, 16, 0.99, 500, 0, 0, 0, 0, 0, DR_BURSTS, 0, 0 },
			{ "D4 bursts, no signal (A1)", 1000, 0, 0.5, 0, 0.03, 1,
			  2000, 17, 0.99, 500, 0, 0, 0, 0, 0, DR_BURSTS_BLIND, 0, 0 },
			{ "D4 bursts, no signal (A4)", 1000, 0, 1, 0.10, 0.03, 1,
			  2000, 18, 0.99, 500, 0, 0, 0, 0, 0, DR_BURSTS_BLIND, 0, 0 },
			{ "M1 four machines 10-20 % apart (A1)", 1000, 0, 0.5,
			  0, 0.03, 4, 2000, 19, 0.99, 500, 0, 0, 0, 0, 0,
			  DR_NONE, 4, 0 },
			{ "M1 four machines 10-20 % apart (A4)", 1000, 0, 1,
			  0.10, 0.03, 4, 2000, 20, 0.99, 500, 0, 0, 0, 0, 0,
			  DR_NONE, 4, 0 },
		};
		for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++) {
			a[i].trace = sc.trace;
			a[i].decompose = sc.decompose;
			a[i].untold = sc.untold;
			a[i].fixed_q0_set = sc.fixed_q0_set;
			a[i].fixed_q0 = sc.fixed_q0;
			run_scenario(&a[i], jobs);
		}
	}
	return 0;
}
