/*
 * model.c - initialisers and destructors for the plain views of model.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

void pb_stats_view_init(struct pb_stats_view *s)
{
	memset(s, 0, sizeof(*s));
	s->culprit_slow = s->culprit_fast = -1;
	s->parent_slow = s->parent_fast = -1;
	s->fast_mode = s->slow_mode = s->ashman_d = NAN;
	s->q0 = s->q1 = s->dip_p = s->good_dip_p = NAN;
	s->mwu_p = s->ks_p = NAN;
	s->good_bimodal = -1;
}

void pb_bisection_view_free(struct pb_bisection_view *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->nsteps; i++) {
		free(v->steps[i].subject);
		free(v->steps[i].author);
		free(v->steps[i].start_nodes_json);
		free(v->steps[i].ipc_note);
		free(v->steps[i].remote_note);
		free(v->steps[i].failure_reason);
		free(v->steps[i].failure_log);
	}
	free(v->steps);
	free(v->repo);
	free(v->metric);
	free(v->build_cmd);
	free(v->run_cmd);
	free(v->outcome);
	free(v);
}

void pb_compare_view_free(struct pb_compare_view *v)
{
	if (!v)
		return;
	free(v->repo);
	free(v->benchmark);
	free(v->metric);
	free(v->outcome);
	free(v);
}

int pb_counter_moved(const struct pb_counter_move *m)
{
	if (m->state != PB_VAL_NUMBER || isnan(m->lo) || isnan(m->hi))
		return -1;
	return m->lo > 0 || m->hi < 0;
}

void pb_counter_move_say(const struct pb_counter_move *m, const char *name,
			 char *buf, size_t size)
{
	int moved = pb_counter_moved(m);

	if (!size)
		return;
	buf[0] = '\0';
	if (m->state == PB_VAL_UNSUPPORTED)
		snprintf(buf, size, "%s not counted (%s)", name, m->note);
	else if (m->state == PB_VAL_NUMBER && moved < 0)
		snprintf(buf, size,
			 "%s %+.1f %% over %u pairs: too few pairs to say "
			 "whether it moved", name, 100 * m->change, m->pairs);
	else if (m->state == PB_VAL_NUMBER)
		snprintf(buf, size,
			 "%s %s: %+.1f %% (95 %% interval %+.1f %% to "
			 "%+.1f %%, %u pairs)", name,
			 moved ? "moved with it" : "did not move",
			 100 * m->change, 100 * m->lo, 100 * m->hi, m->pairs);
}
