/*
 * engine_oracle.h - a test-only switch: tell the engine the true rates.
 *
 * The real engine learns everything from the metric values it is handed.
 * The simulator in bench/ uses this switch to draw an "oracle" line (the
 * same engine, told the true slow fractions q0 at good and q1 at bad
 * commits), which shows what learning the rates costs, and lines told
 * only one of them.  Nothing in the product calls it.
 */
#ifndef PB_ENGINE_ORACLE_H
#define PB_ENGINE_ORACLE_H

#include "engine.h"

/* From now on, classified runs are scored with these fixed rates instead
 * of the Beta marginals.  A rate given as NAN is learned as usual, so
 * that the cost of learning each rate can be told apart ("no change" is
 * weighed unless both are given).  Call before the first observation. */
void pb_engine_oracle_rates(struct pb_engine *e, double q0, double q1);

/* The per-machine rule switched off: every machine's runs are judged as
 * if machine 0 had made them, each against the same references (the
 * verification still pairs runs per machine).  What the rule is worth
 * (bisect-sim's "pooled" line).  Call before the first run is fed. */
void pb_engine_pool_machines(struct pb_engine *e);

#endif
