/*
 * verify.c - the sequential test behind verify.h: is the culprit slower
 * than its parent?  Run after the search, before a culprit is named.
 *
 * 1. Pairs.  The two commits run in ABBA order on one machine and every
 *    run is paired with its neighbour: (P C) (C P) (P C) ...  A pair's
 *    difference is d = y(culprit) - y(parent), y the log of the metric
 *    turned so that larger is slower (log time, -log throughput): d = 0.1
 *    is a culprit 10.5 % slower.  A drift of the machine adds +g to one
 *    pair and -g to the next, so it cancels every two pairs instead of
 *    piling up on one side.  The reported effect is exp(centre of d) - 1.
 *
 * 2. What is assumed.  When the culprit is no slower than its parent, the
 *    two runs of a pair are exchangeable, so d is symmetric about 0 (about
 *    a negative centre when the culprit is faster) whatever the noise is
 *    like: heavy tails, bursts of other work, two modes.  Given its size
 *    |d|, the sign of d is then a fair coin.  That is all the test assumes.
 *    A sequential t-test or a normal-mixture SPRT (mSPRT) assumes normal
 *    differences, which measurement-noise.md's bursts are not.  A sign
 *    test or Wilcoxon test with alpha spending needs a design fixed in
 *    advance (looks, spending function) and a joint null distribution
 *    across looks that only the sign test has in closed form.
 *
 * 3. The test: testing by betting (Ramdas, Grunwald, Vovk & Shafer,
 *    "Game-theoretic statistics and safe anytime-valid inference",
 *    Statist. Sci. 38, 2023).  Wealth E starts at 1.  Before a pair's sign
 *    is looked at, a fraction b of E is staked on "culprit slower", b
 *    chosen from the pair's size |d| and the earlier pairs only:
 *        E <- E (1 + b sign(d)).
 *    Under the null every factor has mean at most 1 (the sign is a fair
 *    coin given the size and the past, or leans the other way), so E is
 *    a nonnegative supermartingale and, by Ville's inequality,
 *    P(E ever reaches 1/alpha) <= alpha: after every pair, at any stopping
 *    time, with no spending table.  CONFIRMED when E >= 1/alpha.  The
 *    reported p = 1 / max E is a p-value that stays valid whenever the
 *    test stops (confirmed exactly when p <= alpha).  When b is the mean
 *    of the sign given the size under an alternative, 1 + b sign(d) is the
 *    likelihood ratio of the sign given the size, so this is Wald's SPRT
 *    on the signs given their sizes: the sequential sign-flip test.
 *    Any exact test that assumes only symmetry needs 7 pairs at
 *    alpha = 0.01 (2^-7 < 0.01); this one needs 8.
 *
 *    SHIFT stakes: the alternative is d ~ Student t with T_DF = 2 degrees
 *    of freedom, centre delta, scale sigma; b = (f(|d| - delta) -
 *    f(|d| + delta)) / (f(|d| - delta) + f(|d| + delta)), the t density f,
 *    at most BET_MAX.  delta = max(log(1 + min_effect), median of the
 *    earlier d); sigma^2 = the MAD variance of the earlier d shrunk to a
 *    prior (sqrt(2) times the search's noise figure, or log(1 + min_effect)
 *    when it has none) with the weight of SCALE_PRIOR_PAIRS pairs.  A pair
 *    of typical size gets nearly the cap.  A tiny pair says little and
 *    gets little.  So does a wild one (the t's tails: a burst), so a
 *    single run decides nothing.  With t of 1 / 2 / 3 / 6 degrees of
 *    freedom or a normal alternative, a 10 % shift among bursts (below)
 *    was confirmed in 0.89 / 0.86 / 0.84 / 0.82 / 0.81 of verifications,
 *    a clean one in 9.0 / 8.6 / 8.4 / 8.4 / 8.4 pairs; a shift of exactly
 *    min_effect in 0.76 / 0.77 / 0.78 / 0.78 / 0.76.  (A normal
 *    contaminated by 20 % of wide noise did no better than the t.)
 *
 *    BIMODAL stakes: the runs are classes; s = class(culprit) -
 *    class(parent) is -1, 0 or 1.  A concordant pair (s = 0) says nothing
 *    about direction; under the null a discordant one is a fair coin
 *    (McNemar's conditioning).  b = 2r - 1, the Kelly stake, r the chance
 *    that a discordant pair is "culprit slow": q1 (1 - q0) / (q1 (1 - q0)
 *    + q0 (1 - q1)) from the search's slow fractions (R_UNKNOWN without
 *    them), updated by the discordant pairs seen, with the weight of
 *    RATE_PRIOR_PAIRS pairs; at most BET_MAX.
 *
 *    BET_MAX = 0.85: a pair multiplies E by at most 1.85, so 8 pairs at
 *    least at alpha = 0.01 (1.85^8 = 137), and a pair against the culprit
 *    (a burst on the parent) costs at most a factor 0.15.  Caps 0.8 /
 *    0.85 / 0.9 / 0.95: a 10 % shift among bursts confirmed 0.87 / 0.86 /
 *    0.84 / 0.83, the clean one in 9.0 / 8.6 / 8.5 / 8.4 pairs, a slow
 *    fraction of 0.3 against 0.02 in 0.95 / 0.94 / 0.93 / 0.92.
 *
 * 4. Stopping without confirming (REFUTED).  Refuting cannot raise the
 *    chance of a false confirmation, so alpha holds whatever rule is
 *    used; these give up early only when confirming is unlikely:
 *    - futility: a second wealth F bets that the culprit is less than
 *      min_effect slower; F >= 1/beta stops.  SHIFT: the same stakes on the
 *      sign of log(1 + min_effect) - d (centre max(log(1 + min_effect),
 *      log(1 + min_effect) - median)).  If the culprit is min_effect
 *      slower or more, F is a supermartingale, so P(futility stop) <= beta.
 *      BIMODAL: for independent runs the mean of s is q_culprit -
 *      q_parent; F <- F (1 + lambda (m - s)) bets that it is below m
 *      (min_slow_effect), lambda = (m - mean) / (var + (m - mean)^2) from
 *      the earlier pairs (the aGRAPA stake of Waudby-Smith & Ramdas,
 *      "Estimating means of bounded random variables by betting", JRSS B
 *      2024), at most BET_MAX / (1 - m).  Concordant pairs count here: a
 *      culprit that is never slow refutes "slow more often by m";
 *    - hopeless: E (1 + BET_MAX)^(pairs left) < 1/alpha;
 *    - max_pairs: 40 for a shift (with 30 / 40 / 50, a 10 % shift among
 *      bursts was confirmed in 0.73 / 0.86 / 0.93 of verifications, a
 *      shift of exactly min_effect in 0.60 / 0.77 / 0.87, and a commit
 *      that is not slower cost 14 / 17 / 18 pairs on average); 60 for
 *      bimodal (a slow fraction of 0.3 against 0.02: 0.94 confirmed, 0.99
 *      with 80; two commits equally bimodal cost 38 pairs, 48 with 80).
 *
 * 5. Effect and interval.  SHIFT: the Hodges-Lehmann estimate (median of
 *    the Walsh averages (d_i + d_j) / 2) and the exact Wilcoxon
 *    signed-rank 95 % interval (normal approximation above EXACT_MAX
 *    pairs; none below 6 pairs).  BIMODAL: the mean of d, whose
 *    distribution has two or three lumps, no useful median, and Student's
 *    t interval.  Both are fixed-sample intervals computed at whatever
 *    point the sequential test stopped; stopping on strong evidence
 *    biases them a little.  bench/verify-sim measures their coverage:
 *    0.91 to 0.97.
 *
 * 6. Several attempts.  When a verification is not confirmed, its runs
 *    go back to the search as evidence.  A commit verified again is
 *    another chance for a false confirmation, so the attempts share the
 *    bisection's alpha (pb_verify_attempt_alpha()): ATTEMPT_FIRST = 0.9
 *    of it for the first, a tenth of the one before for each next.  Most
 *    bisections verify once; a clean 10 % shift took 8.6 / 8.8 / 9.2
 *    pairs at alpha 0.01 / 0.009 / 0.008 (the first pair stakes less, as
 *    its scale is unknown, so 0.008 just misses 8 pairs).
 *
 * Measured by bench/verify-sim (bench/README.md has the table and the
 * command), 20,000 verifications each at alpha = 0.01: a culprit that is
 * not slower (noise, drift, bursts, heavy tails, a machine step, two
 * commits equally bimodal) was confirmed in 0 to 0.60 % of them (95 %
 * Wilson upper bounds at most 0.71 %).  A 10 % shift in 3 % noise was
 * always confirmed, in 8.6 pairs; bimodal slow fractions 0.5 and 0.3
 * (parent 0) in 16 and 27 pairs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "stats.h"
#include "verify.h"
#include "common/banned.h"

#define DEF_MIN_EFFECT 0.03
#define DEF_ALPHA 0.01
#define DEF_BETA 0.05
#define DEF_PAIRS_SHIFT 40
#define DEF_PAIRS_BIMODAL 60
#define BET_MAX 0.85          /* largest stake: a pair multiplies the
			       * wealth by 1.85 at most, 0.15 at least */
#define T_DF 2.0              /* the shift's alternative: Student t */
#define SCALE_PRIOR_PAIRS 2.0 /* weight of the prior scale, in pairs */
#define RATE_PRIOR_PAIRS 2.0  /* weight of the prior P(up | discordant) */
#define R_UNKNOWN 0.9         /* P(up | discordant) when q0, q1 unknown */
#define MIN_SLOW_EFFECT 0.05  /* BIMODAL futility alternative, at least */
#define DEF_SLOW_EFFECT 0.1   /* ... and without q0, q1 */
#define VAR_PRIOR 0.25        /* BIMODAL futility: one pair's worth of
			       * prior variance of the class difference */
#define CI_LEVEL 0.95
#define EXACT_MAX 64          /* exact Wilcoxon distribution up to here */
#define ATTEMPT_FIRST 0.9     /* share of alpha_total of attempt 1 */

struct lane {
	unsigned pos;            /* runs completed on this lane */
	int holds;               /* holds one of max_pairs */
	int half;                /* the first run of a pair is in */
	double y;                /* its oriented log value */
	int slow;                /* and class */
};

struct pb_verify {
	struct pb_verify_opts o;
	double delta1;           /* log(1 + min_effect) */
	double sigma0;           /* prior sd of a pair's difference */
	double r0;               /* prior P(up | discordant) */
	double m;                /* BIMODAL: min_slow_effect */
	double log_a, log_b;     /* log(1 / alpha), log(1 / beta) */
	enum pb_verify_status status;
	enum pb_verify_stop stop;
	unsigned npairs, held, runs;
	double *d;               /* pairs: culprit - parent, oriented log */
	signed char *s;          /* pairs: culprit class - parent class */
	double *tmp;             /* scratch, max_pairs */
	unsigned slow[2], up, down;
	double sum_s;            /* BIMODAL: sum of s */
	double loge, logf, maxloge;
	struct lane *lane;
};

static const enum pb_verify_side abba[4] = {
	PB_VERIFY_PARENT, PB_VERIFY_CULPRIT, PB_VERIFY_CULPRIT, PB_VERIFY_PARENT
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of x[0..n) sorted into tmp (n > 0; tmp may be x). */
static double median_into(double *tmp, const double *x, size_t n)
{
	if (tmp != x)
		memcpy(tmp, x, n * sizeof(*x));
	qsort(tmp, n, sizeof(*tmp), cmp_double);
	return n % 2 ? tmp[n / 2] : 0.5 * (tmp[n / 2 - 1] + tmp[n / 2]);
}

int pb_verify_new(struct pb_verify **out, const struct pb_verify_opts *opts)
{
	struct pb_verify *v;
	struct pb_verify_opts o = *opts;
	int q0k, q1k;

	*out = NULL;
	if (o.kind != PB_VERIFY_SHIFT && o.kind != PB_VERIFY_BIMODAL)
		return pb_error_code(PB_EINVAL, "verify: unknown kind %d",
				     (int)o.kind);
	if (o.min_effect == 0)
		o.min_effect = DEF_MIN_EFFECT;
	if (o.alpha == 0)
		o.alpha = DEF_ALPHA;
	if (o.beta == 0)
		o.beta = DEF_BETA;
	if (o.max_pairs == 0)
		o.max_pairs = o.kind == PB_VERIFY_SHIFT ? DEF_PAIRS_SHIFT
							: DEF_PAIRS_BIMODAL;
	if (o.lanes == 0)
		o.lanes = 1;
	if (!(o.min_effect > 0 && o.min_effect <= 1))
		return pb_error_code(PB_EINVAL,
				     "verify: min_effect must be in (0, 1]");
	if (!(o.alpha > 0 && o.alpha <= 0.5) || !(o.beta > 0 && o.beta <= 0.5))
		return pb_error_code(PB_EINVAL,
				     "verify: alpha and beta must be in (0, 0.5]");
	if (o.max_pairs > PB_VERIFY_MAX_PAIRS || o.lanes > PB_VERIFY_MAX_LANES)
		return pb_error_code(PB_EINVAL,
				     "verify: max_pairs above %d or lanes above %d",
				     PB_VERIFY_MAX_PAIRS, PB_VERIFY_MAX_LANES);
	if (!(o.noise >= 0 && isfinite(o.noise)))
		return pb_error_code(PB_EINVAL,
				     "verify: noise must be finite and >= 0");
	if (isnan(o.q0) || isnan(o.q1) || o.q0 > 1 || o.q1 > 1)
		return pb_error_code(PB_EINVAL,
				     "verify: q0 and q1 must be <= 1");
	q0k = o.q0 >= 0;
	q1k = o.q1 >= 0;
	if (q0k && q1k && o.q1 <= o.q0)
		return pb_error_code(PB_EINVAL, "verify: q1 must exceed q0");
	if (!(o.min_slow_effect >= 0 && o.min_slow_effect < 1))
		return pb_error_code(PB_EINVAL,
				     "verify: min_slow_effect must be in [0, 1)");

	if (o.max_pairs * log1p(BET_MAX) < -log(o.alpha))
		return pb_error_code(PB_EINVAL,
				     "verify: %u pairs can never confirm at "
				     "alpha %g (%.0f needed)", o.max_pairs,
				     o.alpha, ceil(-log(o.alpha) /
						   log1p(BET_MAX)));

	v = calloc(1, sizeof(*v));
	if (!v)
		return pb_error_set("verify: out of memory");
	v->d = calloc(o.max_pairs, sizeof(*v->d));
	v->s = calloc(o.max_pairs, sizeof(*v->s));
	v->tmp = calloc(o.max_pairs, sizeof(*v->tmp));
	v->lane = calloc(o.lanes, sizeof(*v->lane));
	if (!v->d || !v->s || !v->tmp || !v->lane) {
		pb_verify_free(v);
		return pb_error_set("verify: out of memory");
	}
	v->delta1 = log1p(o.min_effect);
	v->sigma0 = o.noise > 0 ? M_SQRT2 * o.noise : v->delta1;
	/* P(up | discordant) = q1 (1 - q0) / (q1 (1 - q0) + q0 (1 - q1)) */
	v->r0 = R_UNKNOWN;
	if (q0k && q1k) {
		double up = o.q1 * (1 - o.q0), dn = o.q0 * (1 - o.q1);

		v->r0 = up / (up + dn);
	}
	v->m = o.min_slow_effect;
	if (v->m == 0)
		v->m = q0k && q1k ? fmax(MIN_SLOW_EFFECT, (o.q1 - o.q0) / 2)
				  : DEF_SLOW_EFFECT;
	v->log_a = -log(o.alpha);
	v->log_b = -log(o.beta);
	v->o = o;
	*out = v;
	return 0;
}

void pb_verify_free(struct pb_verify *v)
{
	if (!v)
		return;
	free(v->d);
	free(v->s);
	free(v->tmp);
	free(v->lane);
	free(v);
}

/*
 * The stake on the sign of a pair whose difference has size a, when the
 * differences follow a Student t with T_DF degrees of freedom, centre
 * delta and scale sigma: E[sign | size] = (f(a - delta) - f(a + delta)) /
 * (f(a - delta) + f(a + delta)), capped at BET_MAX.
 */
static double bet_t(double a, double delta, double sigma)
{
	double x1 = (a - delta) / sigma, x2 = (a + delta) / sigma;
	double l1 = -0.5 * (T_DF + 1) * log1p(x1 * x1 / T_DF);
	double l2 = -0.5 * (T_DF + 1) * log1p(x2 * x2 / T_DF);

	return fmin(BET_MAX, tanh(0.5 * (l1 - l2)));
}

static double sign_of(double x)
{
	return (x > 0) - (x < 0);
}

/* SHIFT: both e-processes take pair n = v->npairs with difference d. */
static void shift_pair(struct pb_verify *v, double d)
{
	unsigned n = v->npairs;
	double centre = 0, sigma2, delta, gap;

	sigma2 = v->sigma0 * v->sigma0;
	if (n >= 1)
		centre = median_into(v->tmp, v->d, n);
	if (n >= 2) {
		double mad;

		for (unsigned i = 0; i < n; i++)
			v->tmp[i] = fabs(v->d[i] - centre);
		mad = 1.4826 * median_into(v->tmp, v->tmp, n);
		sigma2 = (SCALE_PRIOR_PAIRS * sigma2 + n * mad * mad) /
			 (SCALE_PRIOR_PAIRS + n);
	}
	sigma2 = fmax(sigma2, 1e-24);
	delta = fmax(v->delta1, centre);
	v->loge += log1p(sign_of(d) * bet_t(fabs(d), delta, sqrt(sigma2)));
	gap = fmax(v->delta1, v->delta1 - centre);
	v->logf += log1p(sign_of(v->delta1 - d) *
			 bet_t(fabs(v->delta1 - d), gap, sqrt(sigma2)));
}

/* BIMODAL: pair n = v->npairs with class difference s. */
static void bimodal_pair(struct pb_verify *v, int s)
{
	unsigned n = v->npairs;
	double r, b, mu, var = VAR_PRIOR, lam, gap;

	if (s != 0) {
		r = (v->up + RATE_PRIOR_PAIRS * v->r0) /
		    (v->up + v->down + RATE_PRIOR_PAIRS);
		b = fmin(BET_MAX, fmax(0, 2 * r - 1));
		v->loge += log1p(s * b);
	}
	/* Futility: bet that the mean class difference is below m. */
	mu = v->sum_s / (n + 1);
	for (unsigned i = 0; i < n; i++)
		var += (v->s[i] - mu) * (v->s[i] - mu);
	var /= n + 1;
	gap = v->m - mu;
	lam = gap > 0 ? gap / (var + gap * gap) : 0;
	lam = fmin(lam, BET_MAX / (1 - v->m));
	v->logf += log1p(lam * (v->m - s));
}

static void decide(struct pb_verify *v)
{
	if (v->loge > v->maxloge)
		v->maxloge = v->loge;
	if (v->loge >= v->log_a) {
		v->status = PB_VERIFY_CONFIRMED;
		v->stop = PB_VERIFY_STOP_EVIDENCE;
		return;
	}
	v->status = PB_VERIFY_REFUTED;
	if (v->logf >= v->log_b)
		v->stop = PB_VERIFY_STOP_FUTILITY;
	else if (v->npairs >= v->o.max_pairs)
		v->stop = PB_VERIFY_STOP_MAX_PAIRS;
	else if (v->loge + (v->o.max_pairs - v->npairs) * log1p(BET_MAX) <
		 v->log_a)
		v->stop = PB_VERIFY_STOP_HOPELESS;
	else
		v->status = PB_VERIFY_RUNNING;
}

static void add_pair(struct pb_verify *v, double yp, double yc, int sp,
		     int sc)
{
	double d = yc - yp;

	if (v->o.kind == PB_VERIFY_SHIFT) {
		shift_pair(v, d);
	} else {
		int s = sc - sp;

		bimodal_pair(v, s);
		v->s[v->npairs] = (signed char)s;
		v->sum_s += s;
		v->slow[0] += sp;
		v->slow[1] += sc;
		v->up += s > 0;
		v->down += s < 0;
	}
	v->d[v->npairs++] = d;
	decide(v);
}

enum pb_verify_side pb_verify_next(struct pb_verify *v, unsigned lane)
{
	struct lane *l;

	if (v->status != PB_VERIFY_RUNNING || lane >= v->o.lanes)
		return PB_VERIFY_NONE;
	l = &v->lane[lane];
	if (!l->holds) {
		if (v->npairs + v->held >= v->o.max_pairs)
			return PB_VERIFY_NONE;
		l->holds = 1;
		v->held++;
	}
	return abba[l->pos % 4];
}

int pb_verify_add(struct pb_verify *v, unsigned lane,
		  enum pb_verify_side side, double value, int slow)
{
	struct lane *l;
	double y;

	if (lane >= v->o.lanes)
		return pb_error_code(PB_EINVAL, "verify: no lane %u", lane);
	if (!(isfinite(value) && value > 0))
		return pb_error_code(PB_EINVAL,
				     "verify: a value must be finite and > 0");
	if (v->o.kind == PB_VERIFY_BIMODAL && slow != 0 && slow != 1)
		return pb_error_code(PB_EINVAL,
				     "verify: a class is 0 (fast) or 1 (slow)");
	if (v->status != PB_VERIFY_RUNNING)
		return 0;
	l = &v->lane[lane];
	if (side != abba[l->pos % 4])
		return pb_error_code(PB_EINVAL,
				     "verify: lane %u runs the %s next", lane,
				     abba[l->pos % 4] == PB_VERIFY_PARENT ?
				     "parent" : "culprit");
	if (!l->holds) {
		if (v->npairs + v->held >= v->o.max_pairs)
			return pb_error_code(PB_EINVAL,
					     "verify: every pair is taken");
		l->holds = 1;
		v->held++;
	}
	if (v->o.kind == PB_VERIFY_SHIFT)
		slow = 0;
	y = v->o.lower_is_better ? log(value) : -log(value);
	v->runs++;
	l->pos++;
	if (!l->half) {
		l->half = 1;
		l->y = y;
		l->slow = slow;
		return 0;
	}
	l->half = 0;
	l->holds = 0;
	v->held--;
	if (side == PB_VERIFY_CULPRIT)
		add_pair(v, l->y, y, l->slow, slow);
	else
		add_pair(v, y, l->y, slow, l->slow);
	return 0;
}

void pb_verify_discard(struct pb_verify *v, unsigned lane)
{
	struct lane *l;

	if (lane >= v->o.lanes)
		return;
	l = &v->lane[lane];
	if (l->half) {
		l->half = 0;
		l->pos--;
		v->runs--;
	}
	if (l->holds) {
		l->holds = 0;
		v->held--;
	}
}

enum pb_verify_status pb_verify_status(const struct pb_verify *v)
{
	return v->status;
}

/*
 * Exact null distribution of the Wilcoxon signed-rank statistic T+ for n
 * pairs: the number k of Walsh averages to trim from each end so that
 * [W_(k), W_(M - k + 1)] (1-based, M = n (n + 1) / 2) covers CI_LEVEL;
 * 0 when no interval does (n < 6).
 */
static size_t wilcoxon_k(size_t n)
{
	size_t m = n * (n + 1) / 2, c;
	double tail = (1 - CI_LEVEL) / 2;

	if (n > EXACT_MAX) {
		double sd = sqrt(n * (n + 1.0) * (2 * n + 1) / 24);
		double z = 1.959963984540054;
		double x = floor(m / 2.0 - 0.5 - z * sd);

		return x < 0 ? 1 : (size_t)x + 1;
	}
	{
		double p[EXACT_MAX * (EXACT_MAX + 1) / 2 + 1];
		double cum = 0;

		memset(p, 0, (m + 1) * sizeof(*p));
		p[0] = 1;
		for (size_t k = 1; k <= n; k++) {
			size_t top = k * (k + 1) / 2;

			for (size_t w = top + 1; w-- > 0;)
				p[w] = 0.5 * (p[w] + (w >= k ? p[w - k] : 0));
		}
		for (c = 0; c <= m; c++) {
			cum += p[c];
			if (cum > tail * (1 + 1e-12))
				break;
		}
		return c;  /* P(T+ <= c - 1) <= tail < P(T+ <= c) */
	}
}

/* Hodges-Lehmann estimate and Wilcoxon interval of d[0..n) into out. */
static int hodges_lehmann(struct pb_verify_effect *out, const double *d,
			  size_t n)
{
	size_t m = n * (n + 1) / 2, w = 0, k;
	double *a = malloc(m * sizeof(*a));

	if (!a)
		return pb_error_set("verify: out of memory");
	for (size_t i = 0; i < n; i++)
		for (size_t j = i; j < n; j++)
			a[w++] = 0.5 * (d[i] + d[j]);
	qsort(a, m, sizeof(*a), cmp_double);
	out->n = n;
	out->effect = expm1(m % 2 ? a[m / 2] : 0.5 * (a[m / 2 - 1] + a[m / 2]));
	out->lo = out->hi = NAN;
	k = wilcoxon_k(n);
	if (k >= 1 && k <= m - k + 1) {
		out->lo = expm1(a[k - 1]);
		out->hi = expm1(a[m - k]);
	}
	free(a);
	return 0;
}

int pb_verify_describe(struct pb_verify_effect *out, const double *parent,
		       const double *culprit, size_t n, int lower_is_better)
{
	double *d;
	int rc;

	out->effect = out->lo = out->hi = NAN;
	out->n = 0;
	if (n == 0 || n > PB_VERIFY_MAX_PAIRS)
		return pb_error_code(PB_EINVAL, "verify: 1 to %d pairs",
				     PB_VERIFY_MAX_PAIRS);
	for (size_t i = 0; i < n; i++)
		if (!(isfinite(parent[i]) && parent[i] > 0 &&
		      isfinite(culprit[i]) && culprit[i] > 0))
			return pb_error_code(PB_EINVAL,
					     "verify: values must be finite and > 0");
	d = malloc(n * sizeof(*d));
	if (!d)
		return pb_error_set("verify: out of memory");
	for (size_t i = 0; i < n; i++) {
		d[i] = log(culprit[i]) - log(parent[i]);
		if (!lower_is_better)
			d[i] = -d[i];
	}
	rc = hodges_lehmann(out, d, n);
	free(d);
	return rc;
}

/* Two-sided Student t quantile: P(|T| > t) = p with df degrees. */
static double t_quantile(double p, double df)
{
	double lo = 0, hi = 1e6;

	for (int i = 0; i < 200; i++) {
		double mid = 0.5 * (lo + hi);

		if (pb_t_pvalue(mid, df) > p)
			lo = mid;
		else
			hi = mid;
	}
	return 0.5 * (lo + hi);
}

void pb_verify_state(const struct pb_verify *v, struct pb_verify_state *out)
{
	size_t n = v->npairs;

	memset(out, 0, sizeof(*out));
	out->status = v->status;
	out->stop = v->stop;
	out->pairs = v->npairs;
	out->runs = v->runs;
	out->p = fmin(1, exp(-v->maxloge));
	out->evidence = exp(v->loge);
	out->futility = exp(v->logf);
	out->slow[0] = v->slow[0];
	out->slow[1] = v->slow[1];
	out->up = v->up;
	out->down = v->down;
	out->effect = out->lo = out->hi = NAN;
	if (n == 0)
		return;
	if (v->o.kind == PB_VERIFY_SHIFT) {
		struct pb_verify_effect e;

		if (hodges_lehmann(&e, v->d, n) == 0) {
			out->effect = e.effect;
			out->lo = e.lo;
			out->hi = e.hi;
		}
	} else {
		double mean = 0, ss = 0;

		for (size_t i = 0; i < n; i++)
			mean += v->d[i];
		mean /= n;
		out->effect = expm1(mean);
		if (n >= 2) {
			double se, t;

			for (size_t i = 0; i < n; i++)
				ss += (v->d[i] - mean) * (v->d[i] - mean);
			se = sqrt(ss / (n - 1) / n);
			t = t_quantile(1 - CI_LEVEL, n - 1.0);
			out->lo = expm1(mean - t * se);
			out->hi = expm1(mean + t * se);
		}
	}
}

double pb_verify_attempt_alpha(double alpha_total, unsigned attempt)
{
	if (attempt == 0)
		return 0;
	return alpha_total * ATTEMPT_FIRST *
	       pow(1 - ATTEMPT_FIRST, attempt - 1.0);
}
