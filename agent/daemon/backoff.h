/*
 * backoff.h - how long the agent waits before it asks again after a
 * network error or a 5xx (docs/agent-protocol.md): exponential from
 * `min_s` doubling to `max_s` (1 s to 60 s by default), each wait drawn
 * from [d/2, d] so that agents restarted together do not ask together,
 * and a server's Retry-After taken as said.  Pure: the clock and the
 * random seed come from the caller.
 */
#ifndef PB_BACKOFF_H
#define PB_BACKOFF_H

#include <stdint.h>

/* The longest Retry-After honoured; a longer one is cut to this. */
#define PB_RETRY_AFTER_MAX 3600.0

struct pb_backoff {
	double min_s, max_s;
	double cur_s;      /* the next wait's upper end; 0: not backing off */
	uint64_t rng;      /* xorshift64 state, never 0 */
};

/* Waits from min_s up to max_s; a max_s below min_s lowers min_s to it
 * (a test that wants short waits gives only the maximum). */
void pb_backoff_init(struct pb_backoff *b, double min_s, double max_s,
		     uint64_t seed);

/* The seconds to wait before the next attempt.  retry_after_s >= 0 (the
 * server said when) is taken as it is, capped at PB_RETRY_AFTER_MAX; else
 * a jittered wait in [d/2, d], d = min_s * 2^(failures so far), capped at
 * max_s.  Either way the next failure waits longer. */
double pb_backoff_next(struct pb_backoff *b, double retry_after_s);

/* A success: the next failure starts again from min_s. */
void pb_backoff_reset(struct pb_backoff *b);

/* Parses an HTTP Retry-After value: delta-seconds ("120") or an
 * HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT", taken against `now`, epoch
 * seconds; a date in the past is 0).  Blanks around it are allowed.
 * PB_EINVAL for anything else. */
int pb_retry_after_parse(const char *value, double now, double *out);

#endif
