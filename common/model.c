/*
 * model.c - destructors for the plain views of model.h.
 */
#include <stdlib.h>

#include "model.h"

void pb_bisection_view_free(struct pb_bisection_view *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->nsteps; i++) {
		free(v->steps[i].subject);
		free(v->steps[i].author);
		free(v->steps[i].start_nodes_json);
	}
	free(v->steps);
	free(v->repo);
	free(v->metric);
	free(v->build_cmd);
	free(v->run_cmd);
	free(v->outcome);
	free(v);
}
