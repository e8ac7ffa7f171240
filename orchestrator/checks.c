/*
 * checks.c - one pull-request check between the judge and the database
 * (see checks.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/util.h"
#include "orchestrator/checks.h"

struct collect {
	const struct pb_check *c;
	struct pb_compare_run *v;
	size_t n, a;
};

static int collect_run(void *ctx, int64_t seq, int64_t commit_id,
		       int64_t job, int index, int ok, int disturbed,
		       double value)
{
	struct collect *k = ctx;
	int side;

	(void)seq;
	if (pb_check_side(k->c, commit_id, &side) < 0)
		return 0; /* not of this compare: ignored */
	if (k->n == k->a) {
		size_t na = k->a ? 2 * k->a : 64;
		struct pb_compare_run *nv = realloc(k->v, na * sizeof(*nv));

		if (!nv)
			return pb_error_code(PB_EINFRA, "out of memory");
		k->v = nv;
		k->a = na;
	}
	k->v[k->n++] = (struct pb_compare_run){
		side, (unsigned long long)job, index < 0 ? 0 : (unsigned)index,
		!ok ? PB_COMPARE_RUN_FAILED
		: disturbed ? PB_COMPARE_RUN_DISTURBED
			    : PB_COMPARE_RUN_OK,
		value
	};
	return 0;
}

int pb_check_side(const struct pb_check *c, int64_t commit_id, int *side)
{
	for (int s = 0; s < 2; s++)
		if (c->ids[s] == commit_id) {
			*side = s;
			return PB_OK;
		}
	return PB_ENOTFOUND;
}

int pb_check_judge(struct pb_check *c, struct pb_db *db)
{
	struct collect k = { c, NULL, 0, 0 };
	int rc;

	if ((rc = pb_db_compare_runs(db, c->id, c->from_seq, collect_run,
				     &k)) == PB_OK)
		rc = pb_compare_judge(&c->st, &c->o, k.v, k.n);
	free(k.v);
	return rc;
}

int pb_check_load(struct pb_check *c, struct pb_db *db, int64_t id)
{
	struct pb_bisection_row r;
	struct pb_bench_row bench;
	struct pb_commit_info *ci = NULL;
	int64_t *ids = NULL;
	size_t n = 0;
	int rc;

	memset(c, 0, sizeof(*c));
	memset(&bench, 0, sizeof(bench));
	if ((rc = pb_db_bisection_row(db, id, &r)) < 0)
		return rc;
	if (strcmp(r.kind, "compare"))
		return pb_error_code(PB_ENOTFOUND, "no compare %lld",
				     (long long)id);
	if ((rc = pb_db_bisection_commits_get(db, id, &ids, &n)) < 0)
		return rc;
	if (n != 2) {
		rc = pb_error_set("compare %lld has %zu commits, not 2",
				  (long long)id, n);
		goto out;
	}
	if ((rc = pb_db_commit_infos(db, ids, n, &ci)) < 0 ||
	    (rc = pb_db_bench_by_id(db, r.bench_id, &bench)) < 0)
		goto out;
	c->id = id;
	c->bench_id = r.bench_id;
	for (int s = 0; s < 2; s++) {
		c->ids[s] = ids[s];
		pb_strlcpy(c->sha[s], ci[s].sha, sizeof(c->sha[s]));
	}
	pb_strlcpy(c->machine, r.machine, sizeof(c->machine));
	c->from_seq = r.machine_from;
	c->takeovers = r.takeovers;
	c->o = (struct pb_compare_opts)PB_COMPARE_OPTS_INIT;
	c->o.lower_is_better = bench.lower_is_better;
	c->o.min_effect = r.min_effect;
	c->o.alpha = 1 - r.confidence;
	rc = pb_check_judge(c, db);
out:
	pb_bench_row_release(&bench);
	if (ci)
		pb_commit_list_free(ci, n);
	free(ids);
	return rc;
}

static int store(struct pb_check *c, struct pb_db *db, const char *state,
		 int code, const char *why)
{
	const struct pb_compare_state *st = &c->st;
	struct pb_compare_end e = {
		state, code >= 0 && code < 2 ? pb_compare_result_name(st->result)
					     : NULL,
		why, st->effect, st->lo, st->hi, st->p, st->pairs, st->runs,
		code
	};

	return pb_db_compare_save(db, c->id, &e);
}

int pb_check_save(struct pb_check *c, struct pb_db *db)
{
	int code = pb_compare_exit_code(c->st.result);

	return store(c, db, code < 0 ? "running" : code >= 2 ? "failed" : "done",
		     code, c->st.why);
}

int pb_check_fail(struct pb_check *c, struct pb_db *db, int code,
		  const char *why)
{
	return store(c, db, "failed", code, why);
}

int pb_check_add_run(struct pb_check *c, struct pb_db *db, int side,
		     struct pb_run_row *row)
{
	int64_t seq;
	int rc;

	if (side != 0 && side != 1)
		return pb_error_code(PB_EINVAL, "a compare has no side %d",
				     side);
	if ((rc = pb_db_begin(db)) < 0)
		return rc;
	if ((rc = pb_db_bisection_next_seq(db, c->id, &seq)) < 0)
		goto fail;
	row->bisection_id = c->id;
	row->commit_id = c->ids[side];
	row->bench_id = c->bench_id;
	row->seq = seq;
	if ((rc = pb_db_run_insert(db, row)) < 0)
		goto fail;
	if (rc == PB_DB_REPEAT) {
		pb_db_rollback(db);
		return PB_DB_REPEAT;
	}
	if ((rc = pb_check_judge(c, db)) < 0 ||
	    (rc = pb_check_save(c, db)) < 0 || (rc = pb_db_commit(db)) < 0)
		goto fail;
	return PB_OK;
fail:
	pb_db_rollback(db);
	return rc;
}
