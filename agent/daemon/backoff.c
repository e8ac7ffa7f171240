/*
 * backoff.c - jittered exponential back-off and Retry-After (backoff.h).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <string.h>
#include <time.h>

#include "agent/daemon/backoff.h"
#include "common/err.h"
#include "common/util.h"

void pb_backoff_init(struct pb_backoff *b, double min_s, double max_s,
		     uint64_t seed)
{
	b->max_s = max_s > 0 ? max_s : 60.0;
	b->min_s = min_s > 0 && min_s <= b->max_s ? min_s : b->max_s;
	b->cur_s = 0;
	b->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
}

void pb_backoff_reset(struct pb_backoff *b)
{
	b->cur_s = 0;
}

/* A uniform double in [0, 1). */
static double uniform(struct pb_backoff *b)
{
	uint64_t x = b->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	b->rng = x;
	return (double)(x >> 11) / 9007199254740992.0;
}

double pb_backoff_next(struct pb_backoff *b, double retry_after_s)
{
	double d;

	b->cur_s = b->cur_s <= 0 ? b->min_s : b->cur_s * 2;
	if (b->cur_s > b->max_s)
		b->cur_s = b->max_s;
	if (retry_after_s >= 0)
		return retry_after_s < PB_RETRY_AFTER_MAX ? retry_after_s
							  : PB_RETRY_AFTER_MAX;
	d = b->cur_s;
	return d / 2 + uniform(b) * d / 2;
}

int pb_retry_after_parse(const char *value, double now, double *out)
{
	char buf[64], *end;
	size_t len;
	struct tm tm;
	uint64_t secs;
	time_t t;

	while (*value == ' ' || *value == '\t')
		value++;
	len = strlen(value);
	while (len && isspace((unsigned char)value[len - 1]))
		len--;
	if (!len || len >= sizeof(buf))
		return pb_error_code(PB_EINVAL, "empty or overlong Retry-After");
	memcpy(buf, value, len);
	buf[len] = '\0';
	if (isdigit((unsigned char)buf[0])) {
		if (pb_parse_u64(&secs, buf, 0, UINT32_MAX, "Retry-After") < 0)
			return PB_EINVAL;
		*out = (double)secs;
		return PB_OK;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end || *end)
		return pb_error_code(PB_EINVAL, "Retry-After '%s' is neither "
				     "seconds nor an HTTP date", buf);
	t = timegm(&tm);
	if (t == (time_t)-1)
		return pb_error_code(PB_EINVAL, "Retry-After '%s': no such "
				     "date", buf);
	*out = (double)t > now ? (double)t - now : 0;
	return PB_OK;
}
