/*
 * dip.h - Hartigan's dip test of unimodality (pure: no I/O, no clock).
 *
 * The dip of a sample is the largest distance between its empirical
 * distribution function F_n and the closest unimodal distribution function
 * G: D = inf_G sup_x |F_n(x) - G(x)| (Hartigan & Hartigan, Ann. Statist.
 * 13:70-84, 1985; computed as in Hartigan, Appl. Statist. 34:320-325, AS 217).
 * A unimodal sample has a dip near its floor 1/(2n); a sample split into two
 * separated groups has a dip near half the smaller group's fraction.
 *
 * The p-value is P(D_n >= d) when the sample is drawn from the uniform
 * distribution, the least favourable unimodal null.  It is read from a
 * table of null quantiles that the project simulates itself with
 * tools/gen-dip-table.c (`make dip-table`) and commits as dip_table.c.
 */
#ifndef PB_DIP_H
#define PB_DIP_H

#include <stddef.h>

/*
 * The dip of x[0..n-1]; x is not modified.  The convention is R diptest's
 * (and AS 217's): the result is never below 1/(2n), the half step that a
 * continuous fit must leave at a jump of F_n, and never above 1/4 (n >= 2);
 * dip(1,1,2,2) = 1/4.  So a sample of n equal values (a point mass, which
 * is unimodal) gets 1/(2n), not 0, and so does every sample of n <= 3
 * values (1/2 for n = 1).  Ties are allowed and handled exactly.
 * NAN when n == 0, when some x[i] is not finite, or when memory runs out.
 * Cost: a sort, then hull passes that are linear in practice (see dip.c).
 */
double pb_dip(const double *x, size_t n);

/*
 * The p-value of dip `d` at sample size n under the uniform null, from the
 * committed table pb_dip_table, interpolated linearly in probability between
 * the tabled quantiles.  Between two tabled sizes the quantiles are
 * interpolated linearly in n after scaling by sqrt(n) (sqrt(n) D_n is nearly
 * free of n); above the largest tabled size the largest row is used, scaled
 * by sqrt(n) (the asymptotic law).
 *
 * The result is clamped to the table's range: a dip at or above the
 * quantile of the largest probability below 1 (0.9999) gives that tail,
 * 1e-4, meaning "p <= 1e-4"; it is never 0.  A dip at or below the smallest
 * tabled value gives 1.  For n <= 3 the dip carries no information (it is
 * always 1/(2n) for distinct values) and the result is 1.  For small n the
 * null distribution has an atom at 1/(2n) (about 60 % of the mass at
 * n = 4), so P(D >= 1/(2n)) = 1 exactly and just above it the p-value is
 * the interpolation of a step.  NAN when d is NAN or n == 0.
 */
double pb_dip_pvalue(double d, size_t n);

/*
 * Both at once: *dip_out = pb_dip(x, n), *p_out = pb_dip_pvalue(*dip_out,
 * n).  Returns 0; PB_EINVAL (common/err.h) when n == 0 or a value is not
 * finite, -1 when memory runs out; the outputs are NAN on failure.
 */
int pb_dip_test(double *dip_out, double *p_out, const double *x, size_t n);

/*
 * The null table, generated into dip_table.c by tools/gen-dip-table.c.
 * Row i holds, for samples of n[i] uniform values, the quantiles of the dip
 * at the probabilities p[0..np-1]: q[i * np + j].  p[] ascends from 0 (the
 * smallest dip seen) to 1 (the largest), n[] ascends from 4; every row is
 * non-decreasing.  m dips were simulated per size, from a generator seeded
 * with `seed`.
 */
struct pb_dip_table {
	size_t nn;                  /* rows (sample sizes) */
	size_t np;                  /* columns (probabilities) */
	const unsigned *n;          /* [nn] sample sizes */
	const double *p;            /* [np] probabilities */
	const double *q;            /* [nn * np] quantiles */
	unsigned long m;            /* simulated dips per sample size */
	unsigned long long seed;    /* the generator's seed */
};

extern const struct pb_dip_table pb_dip_table;

#endif
