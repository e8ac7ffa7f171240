/*
 * srv.c - the shared state of perfbisectd's handlers (see srv.h).
 */
#include "common/err.h"
#include "common/log.h"
#include "orchestrator/server/srv.h"
#include "orchestrator/server/token.h"
#include "common/util.h"

struct pb_db *pb_srv_db_lock(struct pb_srv *s)
{
	pthread_mutex_lock(&s->db_mu);
	return s->db;
}

void pb_srv_db_unlock(struct pb_srv *s)
{
	pthread_mutex_unlock(&s->db_mu);
}

int pb_srv_db_unlock_synced(struct pb_srv *s)
{
	uint64_t mark = pb_db_sync_mark(s->db);

	pthread_mutex_unlock(&s->db_mu);
	return pb_db_sync(s->db, mark);
}

int pb_srv_auth(void *app, const char *token, struct pb_principal *out)
{
	struct pb_srv *s = app;
	int rc;

	if (s->auth_db) {
		pthread_mutex_lock(&s->auth_mu);
		rc = pb_token_check(s->auth_db, token, out);
		pthread_mutex_unlock(&s->auth_mu);
		return rc;
	}
	rc = pb_token_check(pb_srv_db_lock(s), token, out);
	pb_srv_db_unlock(s);
	return rc;
}

int pb_srv_at_stop(struct pb_srv *s, void (*fn)(void *arg), void *arg)
{
	if (s->nat_stop == PB_SRV_MAX_AT_STOP)
		return pb_error_code(PB_ETOOBIG, "too many at_stop functions");
	s->at_stop[s->nat_stop] = fn;
	s->at_stop_arg[s->nat_stop++] = arg;
	return PB_OK;
}

void pb_srv_run_at_stop(struct pb_srv *s)
{
	while (s->nat_stop > 0) {
		s->nat_stop--;
		s->at_stop[s->nat_stop](s->at_stop_arg[s->nat_stop]);
	}
}

int pb_srv_answer_error(struct pb_http_resp *resp, int rc)
{
	unsigned status = rc == PB_ENOTFOUND ? 404
			  : rc == PB_EINVAL  ? 400
					     : 500;

	if (status == 500)
		pb_log_warnx("%s", pb_error_last());
	return pb_http_resp_error(resp, status, "%s", pb_error_last());
}
