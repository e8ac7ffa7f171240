/*
 * srv.h - what every handler of perfbisectd shares: the settings, the
 * database and the HTTP server.  req->app of every request is the one
 * struct pb_srv of the process (pb_srv_of(req)).
 *
 * The database is one connection (sqlite's "one writer": see
 * service-practice.md section 2) used by every worker thread in turn:
 * take it with pb_srv_db_lock(), keep it for milliseconds, never across
 * network I/O or a wait, and give it back with pb_srv_db_unlock().
 */
#ifndef PB_SRV_H
#define PB_SRV_H

#include <pthread.h>

#include "orchestrator/db.h"
#include "orchestrator/server/config.h"
#include "orchestrator/server/http.h"

struct pb_srv {
	const struct pb_config *cfg;
	struct pb_http_server *http;
	struct pb_db *db;           /* only between lock and unlock */
	pthread_mutex_t db_mu;
};

static inline struct pb_srv *pb_srv_of(const struct pb_http_req *req)
{
	return (struct pb_srv *)req->app;
}

/* Takes the database for this thread. */
struct pb_db *pb_srv_db_lock(struct pb_srv *s);
void pb_srv_db_unlock(struct pb_srv *s);

/* The pb_http_auth_fn of the server: looks the token up in the database
 * (token.h). */
int pb_srv_auth(void *app, const char *token, struct pb_principal *out);

/* Every set of routes is registered by one function of this shape, called
 * from main.c in turn (api.h). */
typedef int (*pb_srv_register_fn)(struct pb_http_server *http,
				  struct pb_srv *srv);

#endif
