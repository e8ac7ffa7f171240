/*
 * api.h - the route sets of perfbisectd.  Each registers its routes on the
 * server; main.c calls every one of them in turn (its `registrars`
 * table), so a new set is a new file with one such function and one line
 * there.
 */
#ifndef PB_API_H
#define PB_API_H

#include "orchestrator/server/srv.h"

/* GET /healthz; POST /api/v1/repos and /api/v1/benchmarks (admin). */
int pb_api_core_register(struct pb_http_server *http, struct pb_srv *srv);

/* GET /report and /report/... from report_dir (a client token when
 * report_requires_token). */
int pb_api_report_register(struct pb_http_server *http, struct pb_srv *srv);

/* Bisections over agents: POST/GET /api/v1/bisections, GET
 * /api/v1/bisections/ID, POST .../cancel (clients); the agent protocol
 * (docs/agent-protocol.md).  Starts the lease reaper. */
int pb_api_service_register(struct pb_http_server *http, struct pb_srv *srv);

/* Merges and history (docs/merges.md): POST /api/v1/merges, GET
 * /api/v1/alerts, POST /api/v1/alerts/ID (clients); POST /hooks/github and
 * /hooks/gitlab (verified by the repository's webhook_secret).  Starts
 * the thread that judges series and starts alerts' bisections.  After
 * pb_api_service_register() (it uses srv->sched). */
int pb_api_merge_register(struct pb_http_server *http, struct pb_srv *srv);

/* With debug_routes only (tests): POST /api/v1/debug/hold?key=K&hold=S
 * [&replace=1] holds until woken (200 {"woken": 1}) or for S seconds
 * (204); POST /api/v1/debug/wake[?key=K] wakes them, all without a key
 * (200 {"woken": N}); GET /api/v1/debug/held counts the held requests
 * (200 {"held": N}).  All need an admin client token. */
int pb_api_debug_register(struct pb_http_server *http, struct pb_srv *srv);

#endif
