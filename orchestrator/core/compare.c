/*
 * compare.c - the judge of a pull-request check (see compare.h).
 *
 * Pairs.  Runs 2k and 2k+1 of one job are pair k when both were measured
 * (ok, not disturbed) and are of different sides; the agent takes a job's
 * runs in order on one machine, so a pair is two neighbouring runs, as
 * the verification pairs them.  A pair with a failed or disturbed half is
 * dropped whole (a half pair is never matched with a run of another job:
 * the machine may have changed in between).
 *
 * The tests.  verify.h's sequential sign-flip test, SHIFT kind, twice on
 * the same pairs: "head slower" (parent base, culprit head) and "head
 * faster" (parent head, culprit base), each at alpha / 2, each with the
 * futility stop at min_effect.  The SHIFT test assumes only that a pair's
 * difference is symmetric about 0 when the two sides are alike, which
 * bimodal noise does not break, so it serves a bimodal benchmark too (it
 * is slower to decide there).  The pairs are fed in the order they
 * completed; once one test has stopped, the other goes on alone.
 *
 * Budget.  Each test stops by itself after max_pairs; failed and
 * disturbed runs make no pairs, so the runs taken are capped too
 * (max_runs).  A side that has failed FAIL_MIN times without one value is
 * an input error (its build or run command does not work); most runs
 * disturbed after BUSY_MIN of them is a machine too busy to measure.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "compare.h"
#include "verify.h"
#include "common/banned.h"

#define FAIL_MIN 3     /* failed runs of a side without a value: bad end */
#define BUSY_MIN 12    /* disturbed runs before "too busy" may be said */
#define BUSY_SHARE 0.75

const char *pb_compare_result_name(enum pb_compare_result r)
{
	switch (r) {
	case PB_COMPARE_SLOWER: return "slower";
	case PB_COMPARE_FASTER: return "faster";
	case PB_COMPARE_NO_DIFFERENCE: return "no_difference";
	case PB_COMPARE_INCONCLUSIVE: return "inconclusive";
	default: return NULL;
	}
}

int pb_compare_exit_code(enum pb_compare_result r)
{
	switch (r) {
	case PB_COMPARE_FASTER:
	case PB_COMPARE_NO_DIFFERENCE: return 0;
	case PB_COMPARE_SLOWER:
	case PB_COMPARE_INCONCLUSIVE: return 1;
	case PB_COMPARE_BAD_END: return 2;
	case PB_COMPARE_TOO_BUSY: return 3;
	default: return -1;
	}
}

/* Feeds one pair to a test whose parent value is p and culprit value c,
 * in the ABBA order it asks for. */
static int feed(struct pb_verify *v, double p, double c)
{
	for (int k = 0; k < 2; k++) {
		enum pb_verify_side side = pb_verify_next(v, 0);

		if (side == PB_VERIFY_NONE)
			return 0;
		if (pb_verify_add(v, 0, side,
				  side == PB_VERIFY_PARENT ? p : c, 0) < 0)
			return -1;
	}
	return 0;
}

/* The effect and interval of the first n pairs, in the better-is
 * direction (compare.h). */
static void describe(struct pb_compare_state *out, const double *base,
		     const double *head, size_t n, int lower_is_better)
{
	struct pb_verify_effect e;
	double s = lower_is_better ? -1 : 1, a, b;

	out->effect = out->lo = out->hi = NAN;
	/* head / base - 1 (verify.c gives the Hodges-Lehmann log ratio
	 * and its interval as relative changes), unflipped: lower_is_better
	 * 1; then turned to the better-is direction */
	if (!n || pb_verify_describe(&e, base, head, n, 1) < 0)
		return;
	out->effect = s * e.effect;
	a = s * e.lo;
	b = s * e.hi;
	out->lo = isnan(a) || isnan(b) ? NAN : fmin(a, b);
	out->hi = isnan(a) || isnan(b) ? NAN : fmax(a, b);
}

/* A change in the better-is direction in words: "30.0 % worse", "4.2 %
 * better", "no change" - a signed "-30.0 %" next to "slower" reads as
 * faster. */
static void in_words(char *out, size_t size, double x)
{
	if (isnan(x))
		snprintf(out, size, "not measured");
	else if (x < 0)
		snprintf(out, size, "%.1f %% worse", -100 * x);
	else if (x > 0)
		snprintf(out, size, "%.1f %% better", 100 * x);
	else
		snprintf(out, size, "no change");
}

static void say(struct pb_compare_state *st, double min_effect,
		unsigned max_pairs)
{
	char iv[112] = "", e[32], lo[32], hi[32];

	in_words(e, sizeof(e), st->effect);
	if (isnan(st->lo) || isnan(st->hi))
		;
	else if (st->hi < 0) /* both worse: the nearer bound first */
		snprintf(iv, sizeof(iv), "; 95 %% interval %.1f to %.1f %% "
			 "worse", -100 * st->hi, -100 * st->lo);
	else if (st->lo > 0)
		snprintf(iv, sizeof(iv), "; 95 %% interval %.1f to %.1f %% "
			 "better", 100 * st->lo, 100 * st->hi);
	else {
		in_words(lo, sizeof(lo), st->lo);
		in_words(hi, sizeof(hi), st->hi);
		snprintf(iv, sizeof(iv), "; 95 %% interval %s to %s", lo, hi);
	}
	switch (st->result) {
	case PB_COMPARE_SLOWER:
	case PB_COMPARE_FASTER:
		snprintf(st->why, sizeof(st->why),
			 "head is %s than base: %s%s, %u pairs",
			 st->result == PB_COMPARE_SLOWER ? "slower" : "faster",
			 e, iv, st->pairs);
		break;
	case PB_COMPARE_NO_DIFFERENCE:
		snprintf(st->why, sizeof(st->why),
			 "no difference: head and base differ by less than "
			 "%g %% (head %s%s, %u pairs)", 100 * min_effect, e, iv,
			 st->pairs);
		break;
	case PB_COMPARE_INCONCLUSIVE:
		snprintf(st->why, sizeof(st->why),
			 "inconclusive: %u pairs (of at most %u) neither show "
			 "a change nor rule out one of %g %% (head %s%s)",
			 st->pairs, max_pairs, 100 * min_effect, e, iv);
		break;
	case PB_COMPARE_BAD_END:
		snprintf(st->why, sizeof(st->why),
			 "the %s never printed the metric (%u failed runs)",
			 st->failed[0] >= FAIL_MIN ? "base" : "head",
			 st->failed[0] >= FAIL_MIN ? st->failed[0]
						   : st->failed[1]);
		break;
	case PB_COMPARE_TOO_BUSY:
		snprintf(st->why, sizeof(st->why),
			 "the machine is too busy to measure: %u of %u runs "
			 "were disturbed by other work", st->disturbed,
			 st->runs);
		break;
	default:
		snprintf(st->why, sizeof(st->why), "running: %u pairs",
			 st->pairs);
	}
}

int pb_compare_judge(struct pb_compare_state *out,
		     const struct pb_compare_opts *o,
		     const struct pb_compare_run *runs, size_t n)
{
	struct pb_verify_opts vo = PB_VERIFY_OPTS_INIT;
	struct pb_verify *slower = NULL, *faster = NULL;
	struct pb_verify_state ss, fs;
	double *base = NULL, *head = NULL;
	unsigned ok[2] = { 0, 0 }, max_runs;
	size_t np = 0, used = 0;
	const struct pb_compare_run *half = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->effect = out->lo = out->hi = out->p = NAN;
	vo.kind = PB_VERIFY_SHIFT;
	vo.lower_is_better = o->lower_is_better;
	vo.min_effect = o->min_effect;
	vo.alpha = o->alpha / 2;
	vo.max_pairs = o->max_pairs;
	if ((rc = pb_verify_new(&slower, &vo)) < 0 ||
	    (rc = pb_verify_new(&faster, &vo)) < 0)
		goto out;
	base = calloc(n / 2 + 1, sizeof(*base));
	head = calloc(n / 2 + 1, sizeof(*head));
	if (!base || !head) {
		rc = pb_error_set("compare: out of memory");
		goto out;
	}
	/* the pairs, in the order they completed */
	for (size_t k = 0; k < n; k++) {
		const struct pb_compare_run *r = &runs[k];
		int good = r->status == PB_COMPARE_RUN_OK;

		if (r->side != 0 && r->side != 1) {
			rc = pb_error_code(PB_EINVAL, "compare: run %zu has "
					   "side %d", k, r->side);
			goto out;
		}
		if (good && !(isfinite(r->value) && r->value > 0))
			good = 0; /* no value the test can take */
		out->runs++;
		out->disturbed += r->status == PB_COMPARE_RUN_DISTURBED;
		out->failed[r->side] += !good &&
					r->status != PB_COMPARE_RUN_DISTURBED;
		ok[r->side] += good;
		if (r->index % 2 == 0) {
			half = good ? r : NULL;
			continue;
		}
		if (good && half && half->job == r->job &&
		    half->index + 1 == r->index && half->side != r->side) {
			base[np] = r->side ? half->value : r->value;
			head[np] = r->side ? r->value : half->value;
			np++;
		}
		half = NULL;
	}
	/* the tests, pair by pair, until they decide */
	for (size_t k = 0; k < np && !out->result; k++) {
		enum pb_verify_status a, b;

		if (feed(slower, base[k], head[k]) < 0 ||
		    feed(faster, head[k], base[k]) < 0) {
			rc = PB_ERROR;
			goto out;
		}
		used = k + 1;
		a = pb_verify_status(slower);
		b = pb_verify_status(faster);
		if (a == PB_VERIFY_CONFIRMED) {
			out->result = PB_COMPARE_SLOWER;
		} else if (b == PB_VERIFY_CONFIRMED) {
			out->result = PB_COMPARE_FASTER;
		} else if (a != PB_VERIFY_RUNNING && b != PB_VERIFY_RUNNING) {
			pb_verify_state(slower, &ss);
			pb_verify_state(faster, &fs);
			out->result = ss.stop == PB_VERIFY_STOP_FUTILITY &&
					      fs.stop == PB_VERIFY_STOP_FUTILITY
					      ? PB_COMPARE_NO_DIFFERENCE
					      : PB_COMPARE_INCONCLUSIVE;
		}
	}
	out->pairs = (unsigned)used;
	max_runs = o->max_runs ? o->max_runs
			       : 4 * (o->max_pairs ? o->max_pairs : 40) + 16;
	if (!out->result) {
		if ((ok[0] == 0 && out->failed[0] >= FAIL_MIN) ||
		    (ok[1] == 0 && out->failed[1] >= FAIL_MIN))
			out->result = PB_COMPARE_BAD_END;
		else if (out->disturbed >= BUSY_MIN &&
			 out->disturbed >= BUSY_SHARE * out->runs)
			out->result = PB_COMPARE_TOO_BUSY;
		else if (out->runs >= max_runs)
			out->result = PB_COMPARE_INCONCLUSIVE;
	}
	describe(out, base, head, used, o->lower_is_better);
	if (used) {
		pb_verify_state(slower, &ss);
		pb_verify_state(faster, &fs);
		out->p = fmin(1, 2 * fmin(ss.p, fs.p));
	}
	say(out, o->min_effect, o->max_pairs ? o->max_pairs : 40);
	rc = PB_OK;
out:
	pb_verify_free(slower);
	pb_verify_free(faster);
	free(base);
	free(head);
	return rc;
}
