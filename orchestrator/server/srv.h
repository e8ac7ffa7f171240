/*
 * srv.h - what every handler of perfbisectd shares: the settings, the
 * database and the HTTP server.  req->app of every request is the one
 * struct pb_srv of the process (pb_srv_of(req)).
 *
 * The database is one connection (sqlite's "one writer": see
 * service-practice.md section 2) used by every worker thread in turn:
 * take it with pb_srv_db_lock(), keep it for milliseconds, never across
 * network I/O or a wait, and give it back with pb_srv_db_unlock(), or
 * pb_srv_db_unlock_synced() after writing.
 */
#ifndef PB_SRV_H
#define PB_SRV_H

#include <pthread.h>

#include "orchestrator/db.h"
#include "orchestrator/server/config.h"
#include "orchestrator/server/http.h"

struct pb_sched;

#define PB_SRV_MAX_AT_STOP 8

struct pb_srv {
	const struct pb_config *cfg;
	struct pb_http_server *http;
	struct pb_db *db;           /* only between lock and unlock */
	pthread_mutex_t db_mu;
	/* A read-only connection of its own for the token check of every
	 * request, so that it never waits for the scheduler's work on db
	 * (WAL: readers do not block the writer); NULL: db is used. */
	struct pb_db *auth_db;
	pthread_mutex_t auth_mu;
	struct pb_sched *sched;     /* the scheduler (api_service.c makes
				     * it; NULL before) */
	/* private: pb_srv_at_stop()'s functions */
	void (*at_stop[PB_SRV_MAX_AT_STOP])(void *arg);
	void *at_stop_arg[PB_SRV_MAX_AT_STOP];
	size_t nat_stop;
};

static inline struct pb_srv *pb_srv_of(const struct pb_http_req *req)
{
	return (struct pb_srv *)req->app;
}

/* Takes the database for this thread. */
struct pb_db *pb_srv_db_lock(struct pb_srv *s);
void pb_srv_db_unlock(struct pb_srv *s);
/* Gives it back after a write, then waits until the write is on disk
 * (the database's group sync, db.h): call it before answering 2xx.
 * PB_EINFRA when the sync failed. */
int pb_srv_db_unlock_synced(struct pb_srv *s);

/* The pb_http_auth_fn of the server: looks the token up in the database
 * (token.h), on auth_db when there is one. */
int pb_srv_auth(void *app, const char *token, struct pb_principal *out);

/* Has fn(arg) called when the server stops: after the HTTP server has
 * stopped (no handler runs any more) and before the database is closed,
 * in the reverse order of registration.  For a route set that starts a
 * thread of its own (a lease reaper): start it in its register function,
 * stop and join it here.  PB_ETOOBIG past PB_SRV_MAX_AT_STOP. */
int pb_srv_at_stop(struct pb_srv *s, void (*fn)(void *arg), void *arg);

/* Runs the at_stop functions (main.c, once). */
void pb_srv_run_at_stop(struct pb_srv *s);

/* An error of the scheduler or the database (err.h code rc, message in
 * pb_error_last()) as an answer: 404 PB_ENOTFOUND, 400 PB_EINVAL, else
 * 500 (logged). */
int pb_srv_answer_error(struct pb_http_resp *resp, int rc);

/* Every set of routes is registered by one function of this shape, called
 * from main.c in turn (api.h), after the database is open and before the
 * server listens. */
typedef int (*pb_srv_register_fn)(struct pb_http_server *http,
				  struct pb_srv *srv);

#endif
