/*
 * session.c - one bisection between the engine and the database (see
 * session.h).
 *
 * The engine numbers the runs it is fed from 0; the database numbers a
 * bisection's runs by seq.  fed_seq maps the one to the other, so that the
 * runs the verification paired (pb_engine_verification_pairs()) are found
 * again to say whether IPC and remote accesses moved with the metric.
 *
 * Steps are updated, not rewritten: the session keeps the rows it last
 * stored and writes only those that changed, and recomputes the run
 * measurements (IPC, start nodes, interference) only of the commit whose
 * run came in.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/util.h"
#include "orchestrator/core/verify.h"
#include "orchestrator/identical.h"
#include "orchestrator/session.h"

struct by_id {
	int64_t id;
	size_t i;
};

struct pb_session {
	struct pb_session_opts o;
	struct pb_engine *engine;
	/* the digests of each machine's builds (identical.h): one, the
	 * driver's, or one per agent; a claim needs a machine with both
	 * sides' rows, all equal, and none whose sides differ */
	struct ident_m {
		char *name;
		struct pb_identical *x;
	} *ident;                     /* NULL: no claims */
	size_t nident;
	int claims;                   /* o.identical */
	unsigned char *told;          /* per commit: told identical */
	struct by_id *ids;            /* commit rows sorted, for replays */
	int64_t seq;                  /* the last stored run's */
	int64_t *fed_seq;             /* seq of each run fed, in order */
	size_t nfed, afed;
	struct pb_counter_move moved[2];
	unsigned moved_ended;         /* verifications ended when computed */
	char (*machines)[PB_SESSION_MACHINE_NAME]; /* engine machine id ->
						     name, in order of their
						     first run */
	unsigned nmachines;
	struct pb_step_row *last;     /* the steps as last stored */
	size_t nlast;
	unsigned char *ran;           /* per commit: a run since last save */
};

static int cmp_id(const void *a, const void *b)
{
	const struct by_id *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int pb_session_index(const struct pb_session *s, int64_t commit_id,
		     size_t *out)
{
	struct by_id key = { commit_id, 0 }, *hit;

	hit = bsearch(&key, s->ids, s->o.n, sizeof(*s->ids), cmp_id);
	if (!hit)
		return PB_ENOTFOUND;
	*out = hit->i;
	return PB_OK;
}

int64_t pb_session_seq(const struct pb_session *s)
{
	return s->seq;
}

struct pb_engine *pb_session_engine(struct pb_session *s)
{
	return s->engine;
}

int pb_session_identical(const struct pb_session *s, size_t i)
{
	return i < s->o.n && s->told[i];
}

const struct pb_counter_move *pb_session_moved(const struct pb_session *s)
{
	return s->moved;
}

static int note_fed(struct pb_session *s, int64_t seq)
{
	if (s->nfed == s->afed) {
		size_t na = s->afed ? 2 * s->afed : 64;
		int64_t *nv = realloc(s->fed_seq, na * sizeof(*nv));

		if (!nv)
			return pb_error_code(PB_EINFRA, "out of memory");
		s->fed_seq = nv;
		s->afed = na;
	}
	s->fed_seq[s->nfed++] = seq;
	return PB_OK;
}

/* The digests of machine `name`'s builds: found, or loaded from what is
 * stored. */
static int ident_for(struct pb_session *s, const char *name,
		     struct pb_identical **out)
{
	struct pb_identical_opts io = { s->o.db, s->o.bench_id, name, s->o.n,
					s->o.commit_ids, s->o.commits };
	struct ident_m *nv;
	int rc;

	for (size_t k = 0; k < s->nident; k++)
		if (!strcmp(s->ident[k].name, name)) {
			*out = s->ident[k].x;
			return PB_OK;
		}
	if (!(nv = realloc(s->ident, (s->nident + 1) * sizeof(*nv))))
		return pb_error_set("out of memory");
	s->ident = nv;
	nv[s->nident].x = NULL;
	if (!(nv[s->nident].name = pb_strdup(name)))
		return pb_error_set("out of memory");
	io.machine = nv[s->nident].name; /* borrowed by x: ours outlives it */
	if ((rc = pb_identical_new(&nv[s->nident].x, &io)) < 0) {
		free(nv[s->nident].name);
		return rc;
	}
	*out = nv[s->nident++].x;
	return PB_OK;
}

static int ident_load(void *ctx, const char *name)
{
	struct pb_identical *x;

	return ident_for(ctx, name, &x);
}

/* Whether commit i maps its parent's code: on some machine both builds'
 * rows are equal, and on none that has rows of both do they differ (a
 * build can differ by machine: -march=native, what configure finds). */
static int claim(const struct pb_session *s, size_t i)
{
	int any = 0;

	for (size_t k = 0; k < s->nident; k++) {
		if (pb_identical_seen(s->ident[k].x, i) != 3)
			continue;
		if (!pb_identical_is(s->ident[k].x, i))
			return 0;
		any = 1;
	}
	return any;
}

/* Tells the engine every change of which commits from..to-1 map their
 * parent's code; `live`: and the driver. */
static void tell_identical_in(struct pb_session *s, size_t from, size_t to,
			      int live)
{
	if (from < 1)
		from = 1;
	if (to > s->o.n)
		to = s->o.n;
	for (size_t i = from; s->claims && i < to; i++) {
		int is = claim(s, i);

		if (is == s->told[i])
			continue;
		pb_engine_identical(s->engine, i, is);
		s->told[i] = (unsigned char)is;
		if (live && s->o.on_claim)
			s->o.on_claim(s->o.ctx, i, is);
	}
}

/* The same for every commit. */
static void tell_identical(struct pb_session *s, int live)
{
	tell_identical_in(s, 1, s->o.n, live);
}

int pb_session_machine(struct pb_session *s, const char *name,
		       unsigned *id)
{
	unsigned k;

	if (!name)
		name = "";
	for (k = 0; k < s->nmachines; k++)
		if (!strcmp(s->machines[k], name)) {
			*id = k;
			return PB_OK;
		}
	if (k >= PB_ENGINE_MACHINES)
		return pb_error_code(PB_ERANGE, "more than %d machines in one "
				     "bisection", PB_ENGINE_MACHINES);
	pb_strlcpy(s->machines[k], name, sizeof(s->machines[k]));
	s->nmachines++;
	*id = k;
	return PB_OK;
}

/* Feeds one stored run to the engine (ok, disturbed, value as stored),
 * with the machine it ran on: each machine is its own stratum. */
static int feed(struct pb_session *s, size_t i, int64_t seq,
		const char *machine, int ok, int disturbed, double value)
{
	struct pb_engine_run r = { i, 0, PB_RUN_OK, value };
	int rc = note_fed(s, seq);

	if (rc < 0 || (rc = pb_session_machine(s, machine, &r.machine)) < 0)
		return rc;
	s->ran[i] = 1;
	r.status = !ok ? PB_RUN_FAILED
		   : disturbed ? PB_RUN_DISTURBED
			       : PB_RUN_OK;
	if (pb_engine_feed(s->engine, &r) == 0)
		return PB_OK;
	/* a value the engine refuses (stored by an older version) counts
	 * as the failed run it is */
	r.status = PB_RUN_FAILED;
	if (pb_engine_feed(s->engine, &r) < 0)
		return pb_error_code(PB_EINFRA, "out of memory");
	return PB_OK;
}

static int replay_one(void *ctx, int64_t seq, int64_t commit_id,
		      const char *machine, int ok, int disturbed, double value)
{
	struct pb_session *s = ctx;
	size_t i;

	if (seq > s->seq)
		s->seq = seq;
	if (pb_session_index(s, commit_id, &i) < 0)
		return 0; /* not on this range: ignore */
	return feed(s, i, seq, machine, ok, disturbed, value) < 0 ? PB_EINFRA
								  : 0;
}

int pb_session_open(struct pb_session **out, const struct pb_session_opts *o)
{
	struct pb_session *s;
	struct pb_engine_opts eo = o->engine;
	int rc;

	*out = NULL;
	if (o->n < 2)
		return pb_error_code(PB_EINVAL, "a bisection needs two commits");
	s = calloc(1, sizeof(*s));
	if (!s)
		return pb_error_code(PB_EINFRA, "out of memory");
	s->o = *o;
	s->told = calloc(o->n, 1);
	s->ran = calloc(o->n, 1);
	s->ids = calloc(o->n, sizeof(*s->ids));
	s->machines = calloc(PB_ENGINE_MACHINES, sizeof(*s->machines));
	if (!s->told || !s->ran || !s->ids || !s->machines) {
		rc = pb_error_code(PB_EINFRA, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < o->n; i++)
		s->ids[i] = (struct by_id){ o->commit_ids[i], i };
	qsort(s->ids, o->n, sizeof(*s->ids), cmp_id);
	for (int k = 0; k < 2; k++)
		s->moved[k].change = s->moved[k].lo = s->moved[k].hi = NAN;
	eo.n = o->n;
	if (pb_engine_new(&s->engine, &eo) < 0) {
		rc = pb_error_code(PB_EINVAL, "the engine refuses its options");
		goto fail;
	}
	/* the claims the stored digests make, before any run is replayed:
	 * the engine's state is a function of the claims and the runs */
	if (o->identical) {
		struct pb_identical *x;

		s->claims = 1;
		rc = o->machine ? ident_for(s, o->machine, &x)
				: pb_db_images_machines(o->db, o->bench_id,
							ident_load, s);
		if (rc < 0)
			goto fail;
		tell_identical(s, 0);
	}
	if ((rc = pb_db_bisection_replay(o->db, o->bisection_id, replay_one,
					 s)) < 0)
		goto fail;
	*out = s;
	return PB_OK;
fail:
	pb_session_free(s);
	return rc;
}

void pb_session_free(struct pb_session *s)
{
	if (!s)
		return;
	pb_engine_free(s->engine);
	for (size_t k = 0; k < s->nident; k++) {
		pb_identical_free(s->ident[k].x);
		free(s->ident[k].name);
	}
	free(s->ident);
	free(s->told);
	free(s->ran);
	free(s->ids);
	free(s->fed_seq);
	free(s->machines);
	free(s->last);
	free(s);
}

int pb_session_exit_code(enum pb_outcome o)
{
	switch (o) {
	case PB_OUT_CULPRIT: return 0;
	case PB_OUT_BAD_END: return 2;
	case PB_OUT_TOO_BUSY: return 3;
	default: return 1;
	}
}

const char *pb_session_verdict(enum pb_outcome o)
{
	switch (o) {
	case PB_OUT_CULPRIT: return "culprit";
	case PB_OUT_RANGE: return "range";
	case PB_OUT_NO_REGRESSION: return "no_regression";
	case PB_OUT_BUDGET: return "budget";
	case PB_OUT_STUCK: return "inconclusive";
	default: return NULL;
	}
}

/*
 * Whether IPC (k 0) and remote accesses (k 1) moved with the metric in the
 * verification's pairs: the culprit's runs against the parent's runs
 * beside them (verify.h's pb_verify_describe; remote accesses + 1, so
 * that a count of 0 compares).  A counter that any run of the pairs could
 * not count is unsupported, with the machine's reason.
 */
static int describe_moves(struct pb_session *s, struct pb_counter_move out[2])
{
	unsigned (*pairs)[2];
	size_t np = pb_engine_verification_pairs(s->engine, NULL, 0);
	double *v;
	int rc = PB_OK;

	memset(out, 0, 2 * sizeof(*out));
	for (int k = 0; k < 2; k++)
		out[k].change = out[k].lo = out[k].hi = NAN;
	if (!np)
		return PB_OK;
	pairs = calloc(np, sizeof(*pairs));
	v = calloc(4 * np, sizeof(*v)); /* ipc p, c; remote p, c */
	if (!pairs || !v) {
		rc = pb_error_code(PB_EINFRA, "out of memory");
		goto out;
	}
	np = pb_engine_verification_pairs(s->engine, pairs, np);
	/* the pairs' runs, marked for the report (its verification panel
	 * and their pages) */
	{
		int64_t *seqs = calloc(2 * np, sizeof(*seqs));

		if (!seqs) {
			rc = pb_error_code(PB_EINFRA, "out of memory");
			goto out;
		}
		for (size_t j = 0; j < 2 * np; j++)
			seqs[j] = pairs[j / 2][j % 2] < s->nfed
					  ? s->fed_seq[pairs[j / 2][j % 2]]
					  : -1;
		rc = pb_db_verify_pairs_set(s->o.db, s->o.bisection_id, seqs,
					    np);
		free(seqs);
		if (rc < 0)
			goto out;
	}
	for (size_t j = 0; j < np; j++)
		for (int side = 0; side < 2; side++) {
			struct pb_run_counts c;
			unsigned at = pairs[j][side];

			if (at >= s->nfed) {
				rc = pb_error_set("verification run %u was "
						  "never fed", at);
				goto out;
			}
			rc = pb_db_run_counts(s->o.db, s->o.bisection_id,
					      s->fed_seq[at], &c);
			if (rc < 0)
				goto out;
			v[side * np + j] = c.ipc;
			v[(2 + side) * np + j] = isnan(c.remote_access)
							 ? NAN
							 : c.remote_access + 1;
			if (isnan(c.ipc) && !out[0].note[0])
				pb_strlcpy(out[0].note,
					   c.ipc_note[0] ? c.ipc_note
							 : "not counted",
					   sizeof(out[0].note));
			if (isnan(c.remote_access) && !out[1].note[0])
				pb_strlcpy(out[1].note,
					   c.remote_note[0] ? c.remote_note
							    : "not counted",
					   sizeof(out[1].note));
		}
	for (int k = 0; k < 2; k++) {
		struct pb_verify_effect eff;

		out[k].pairs = (unsigned)np;
		if (out[k].note[0]) {
			out[k].state = PB_VAL_UNSUPPORTED;
			continue;
		}
		/* a log ratio of culprit to parent, unflipped */
		if (pb_verify_describe(&eff, v + 2 * k * np,
				       v + (2 * k + 1) * np, np, 1) < 0) {
			out[k].state = PB_VAL_UNSUPPORTED;
			pb_strlcpy(out[k].note, "a count was not positive",
				   sizeof(out[k].note));
			continue;
		}
		out[k].state = PB_VAL_NUMBER;
		out[k].change = expm1(eff.effect);
		out[k].lo = expm1(eff.lo);
		out[k].hi = expm1(eff.hi);
	}
out:
	free(pairs);
	free(v);
	return rc;
}

static void stats_of(const struct pb_session *s,
		     const struct pb_engine_result *r, struct pb_stats_view *sv)
{
	int searched = r->mode == PB_MODE_BIMODAL || r->mode == PB_MODE_SHIFT;
	int ended = r->outcome == PB_OUT_CULPRIT || r->outcome == PB_OUT_RANGE ||
		    r->outcome == PB_OUT_BUDGET || r->outcome == PB_OUT_STUCK;

	pb_stats_view_init(sv);
	if (!searched && !ended)
		return;
	pb_strlcpy(sv->ci_first, s->o.commits[r->ci_first].sha,
		   sizeof(sv->ci_first));
	pb_strlcpy(sv->ci_last, s->o.commits[r->ci_last].sha,
		   sizeof(sv->ci_last));
	if (!ended)
		return;
	sv->culprit_slow = (int)r->culprit_slow;
	sv->culprit_fast = (int)r->culprit_fast;
	sv->parent_slow = (int)r->parent_slow;
	sv->parent_fast = (int)r->parent_fast;
	sv->fast_mode = r->fast_mode;
	sv->slow_mode = r->slow_mode;
	sv->ashman_d = r->ashman_d;
	sv->q0 = r->q0;
	sv->q1 = r->q1;
	sv->dip_p = r->dip_p;
	sv->good_bimodal = r->good_bimodal;
	sv->good_dip_p = r->good_dip_p;
	sv->mwu_p = r->mwu_p;
	sv->ks_p = r->ks_p;
}

/* Two doubles the same, NAN equal to NAN. */
static int same(double a, double b)
{
	return a == b || (isnan(a) && isnan(b));
}

static int same_row(const struct pb_step_row *a, const struct pb_step_row *b)
{
	return a->commit_id == b->commit_id && a->verdict == b->verdict &&
	       a->runs == b->runs && a->failed_runs == b->failed_runs &&
	       same(a->median, b->median) &&
	       same(a->slow_fraction, b->slow_fraction) && a->slow == b->slow &&
	       a->fast == b->fast && same(a->p_bad, b->p_bad) &&
	       a->disturbed == b->disturbed &&
	       a->identical_to == b->identical_to;
}

int pb_session_save(struct pb_session *s, const char *state, int exit_code)
{
	size_t ns = pb_engine_nsteps(s->engine);
	struct pb_step_row *rows = calloc(ns ? ns : 1, sizeof(*rows));
	struct pb_engine_result res;
	struct pb_bisection_end end;
	struct pb_stats_view stats;
	struct pb_verification_view ver;
	int rc;

	if (!rows)
		return pb_error_code(PB_EINFRA, "out of memory");
	/* the posterior first, as pb_engine_step() would bring it */
	for (size_t k = 0; k < ns; k++) {
		struct pb_engine_step st;
		struct pb_step_row *r = &rows[k];

		pb_engine_step(s->engine, k, &st);
		r->commit_id = s->o.commit_ids[st.commit];
		r->verdict = pb_verdict_name(st.verdict);
		r->runs = st.runs;
		r->failed_runs = st.failed_runs;
		r->median = st.median;
		r->slow_fraction = st.slow_fraction;
		r->slow = isnan(st.slow_fraction) ? -1 : (int)st.slow;
		r->fast = isnan(st.slow_fraction) ? -1 : (int)st.fast;
		r->p_bad = st.p_bad;
		r->disturbed = st.disturbed;
		r->identical_to = st.commit > 0 && s->told[st.commit]
					  ? s->o.commit_ids[st.commit - 1]
					  : 0;
		r->same_runs = !s->ran[st.commit] && k < s->nlast;
		r->unchanged = r->same_runs && same_row(r, &s->last[k]);
	}
	pb_engine_result(s->engine, &res);
	stats_of(s, &res, &stats);
	memset(&end, 0, sizeof(end));
	end.stats = &stats;
	if (res.verification.done) {
		memset(&ver, 0, sizeof(ver));
		pb_strlcpy(ver.commit, s->o.commits[res.verification.commit].sha,
			   sizeof(ver.commit));
		ver.attempts = res.verification.attempts;
		ver.pairs = res.verification.pairs;
		ver.effect = res.verification.effect;
		ver.lo = res.verification.lo;
		ver.hi = res.verification.hi;
		ver.p = res.verification.p;
		ver.confirmed = res.verification.confirmed;
		if (s->moved_ended != res.verification.ended) {
			if ((rc = describe_moves(s, s->moved)) < 0) {
				free(rows);
				return rc;
			}
			s->moved_ended = res.verification.ended;
		}
		ver.ipc = s->moved[0];
		ver.remote = s->moved[1];
		end.verification = &ver;
	}
	end.state = state;
	end.mode = pb_mode_name(res.mode);
	end.culprit_sha = res.outcome == PB_OUT_CULPRIT
				  ? s->o.commits[res.culprit].sha
				  : NULL;
	end.range_first_sha = res.outcome == PB_OUT_RANGE
				      ? s->o.commits[res.range_first].sha
				      : NULL;
	end.range_last_sha = res.outcome == PB_OUT_RANGE
				     ? s->o.commits[res.range_last].sha
				     : NULL;
	end.confidence = res.confidence;
	end.runs = res.runs + res.disturbed; /* every run taken */
	end.builds = (unsigned)ns;
	end.outcome = res.outcome == PB_OUT_RUNNING ? NULL : res.why;
	end.verdict = pb_session_verdict(res.outcome);
	end.exit_code = exit_code;
	end.finished = exit_code >= 0;
	rc = pb_db_bisection_save(s->o.db, s->o.bisection_id, &end, rows, ns);
	if (rc == PB_OK) {
		free(s->last);
		s->last = rows;
		s->nlast = ns;
		memset(s->ran, 0, s->o.n);
	} else {
		free(rows);
	}
	return rc;
}

/* What a run mapped from its work tree: files to digest here, or rows
 * digested where it ran. */
struct mapped {
	const char *workdir;
	const struct pb_image_files *files;
	const struct pb_image_row *rows;
	size_t nrows;
};

static int add_run(struct pb_session *s, size_t i, struct pb_run_row *row,
		   const struct mapped *m)
{
	int rc;

	if (i >= s->o.n)
		return pb_error_code(PB_EINVAL, "commit %zu is not in the range",
				     i);
	row->bisection_id = s->o.bisection_id;
	row->commit_id = s->o.commit_ids[i];
	row->bench_id = s->o.bench_id;
	if (!row->seq)
		row->seq = s->seq + 1;
	if (row->ok && !(fabs(row->value) <= PB_ENGINE_VALUE_MAX))
		/* printed, but no measurement: the caller says why */
		row->ok = 0;
	if ((rc = pb_db_begin(s->o.db)) < 0)
		return rc;
	if ((rc = pb_db_run_insert(s->o.db, row)) < 0)
		goto fail;
	if (rc == PB_DB_REPEAT) {
		pb_db_rollback(s->o.db);
		return PB_DB_REPEAT;
	}
	if (row->seq > s->seq)
		s->seq = row->seq;
	if ((rc = feed(s, i, row->seq, row->machine, row->ok, row->disturbed,
		       row->value)) < 0)
		goto fail;
	if (s->claims && ((m->files && m->workdir) || m->rows)) {
		struct pb_identical *x;

		/* the driver's one machine, or the agent the run came from */
		rc = ident_for(s, s->o.machine  ? s->o.machine
				  : row->machine ? row->machine
						 : "",
			       &x);
		if (rc == PB_OK)
			rc = m->rows ? pb_identical_add_rows(x, i, m->rows,
							     m->nrows)
				     : pb_identical_add(x, i, m->workdir,
							m->files);
		if (rc < 0)
			goto fail;
		/* commit i's rows changed: only its claim and its child's
		 * can (not a pass over the whole range at every run) */
		tell_identical_in(s, i, i + 2, 1);
	}
	if ((rc = pb_session_save(s, "running", -1)) < 0 ||
	    (rc = pb_db_commit(s->o.db)) < 0)
		goto fail;
	return PB_OK;
fail:
	pb_db_rollback(s->o.db);
	return rc;
}

int pb_session_add_run(struct pb_session *s, size_t i, struct pb_run_row *row,
		       const char *workdir, const struct pb_image_files *files)
{
	struct mapped m = { workdir, files, NULL, 0 };

	return add_run(s, i, row, &m);
}

int pb_session_add_run_rows(struct pb_session *s, size_t i,
			    struct pb_run_row *row,
			    const struct pb_image_row *rows, size_t nrows)
{
	struct mapped m = { NULL, NULL, rows, nrows };

	return add_run(s, i, row, &m);
}

int pb_session_rebuilt(struct pb_session *s, size_t i)
{
	int rc;

	/* a rebuild is the driver's own machine's (--local) */
	for (size_t k = 0; k < s->nident; k++)
		if (!s->o.machine || !strcmp(s->ident[k].name, s->o.machine))
			if ((rc = pb_identical_forget(s->ident[k].x, i)) < 0)
				return rc;
	tell_identical(s, 0);
	return PB_OK;
}

int pb_session_skip(struct pb_session *s, size_t i)
{
	if (i >= s->o.n)
		return pb_error_code(PB_EINVAL, "commit %zu is not in the range",
				     i);
	pb_engine_skip(s->engine, i);
	s->ran[i] = 1;
	return pb_session_save(s, "running", -1);
}
