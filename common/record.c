/*
 * record.c - see record.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/record.h"
#include "common/util.h"

void pb_run_measurements_init(struct pb_run_measurements *m)
{
	memset(m, 0, sizeof(*m));
	m->start_cpu = m->start_node = m->start_node_asked = -1;
	m->cpu_s = m->others_cpu_s = m->others_cpus = m->interference = NAN;
	m->steal_s = m->psi_some[0] = m->psi_some[1] = m->psi_some[2] = NAN;
	m->ipc = m->remote_access = NAN;
	m->first_s = m->last_s = NAN;
}

void pb_run_measurements_release(struct pb_run_measurements *m)
{
	if (!m)
		return;
	free(m->place);
	free(m->stats);
	pb_run_measurements_init(m);
}

void pb_rec_fact_add(struct pb_run_measurements *m, const char *key,
		     const char *value)
{
	struct pb_rec_fact *f;

	if (m->nfacts >= PB_REC_MAX_FACTS)
		return;
	f = &m->facts[m->nfacts++];
	pb_strlcpy(f->key, key, sizeof(f->key));
	pb_strlcpy(f->value, value ? value : "", sizeof(f->value));
}
