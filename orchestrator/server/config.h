/*
 * config.h - perfbisectd's settings: one table, one struct.
 *
 * Every setting is one row of a table (name, type, bounds, default, a
 * line of documentation) and one field of struct pb_config; the parser,
 * the checks, `perfbisectd --help`, the example file (`perfbisectd
 * --example-config`, kept as deploy/perfbisectd.conf) and
 * docs/perfbisectd.md come from that table, so they cannot disagree.
 *
 * The file holds one `name = value` per line.  Blank lines and lines whose
 * first non-blank character is '#' are skipped; a '#' after a blank ends
 * the value (a comment); a value may be put in double quotes to keep a
 * '#' or outer blanks.  Types:
 *   bool      yes/no, true/false, on/off, 1/0
 *   int       a whole number within the bounds
 *   seconds   a whole number of seconds, or with a unit: 90s, 5m, 2h, 1d
 *   size      bytes, or with a unit: 64k, 1M, 1MiB, 1G (powers of 1024)
 *   string    any text without control characters
 *   address   HOST:PORT, HOST an IPv4 address or [IPv6], PORT 0-65535
 *             (0: any free port)
 * Errors are collected, one line each, as `FILE:LINE: message`: a line
 * that is not `name = value`, an unknown setting (with the nearest known
 * name when one is close), a value of the wrong type or out of bounds, a
 * setting given twice.  Command-line flags are applied after the file and
 * override it.
 *
 * Fields are read directly (cfg->lease_s); a setting whose row says
 * "=other" takes other's value when it is not given.
 */
#ifndef PB_CONFIG_H
#define PB_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/buf.h"

enum pb_cfg_type {
	PB_CFG_BOOL,
	PB_CFG_INT,
	PB_CFG_SECONDS,
	PB_CFG_SIZE,
	PB_CFG_STRING,
	PB_CFG_ADDRESS,
};

struct pb_config {
	/* where */
	char *listen;                 /* address, as written */
	char *db;
	char *report_dir;
	char *work_dir;
	/* what the API accepts */
	int allow_local_repos;
	int allow_private_notify;
	int report_requires_token;
	int64_t report_interval_s;
	int debug_routes;
	/* HTTP */
	int64_t max_body;             /* bytes */
	int64_t connection_timeout_s;
	int64_t connection_limit;
	int64_t per_ip_connection_limit;   /* 0: none */
	int64_t threads;
	int64_t max_waiters;
	int log_requests;
	/* agents and leases (read by the scheduler) */
	int64_t lease_s;
	int64_t long_poll_s;
	int64_t heartbeat_s;
	int64_t restart_grace_s;
	int64_t busy_backoff_s;
	int64_t max_lease_expiries;
	/* merges and history */
	int64_t merge_repeats;
	int64_t merge_backlog;
	int64_t merge_home_wait_s;
	int64_t auto_bisections;
	int64_t history_commits;
	/* notifications (notify_send.c; docs/notifications.md) */
	int64_t notify_retry_s;
	int64_t notify_retry_max_s;
	int64_t notify_max_attempts;
	int64_t notify_give_up_s;
	int64_t notify_timeout_s;

	uint64_t given;               /* private: bit i set when row i of the
					 table was set by a file or flag */
};

struct pb_config_setting {
	const char *name;
	enum pb_cfg_type type;
	size_t offset;                /* of its field in struct pb_config */
	int64_t min, max;             /* int, seconds, size */
	const char *def;              /* the default as a file would write
					 it, or "=NAME": NAME's value */
	const char *doc;              /* one line */
};

/* The table, in the order of --help and the example file. */
const struct pb_config_setting *pb_config_table(size_t *n);

/* The row of that name, or NULL. */
const struct pb_config_setting *pb_config_lookup(const char *name);

/* Sets every field to its default.  PB_ERROR when memory runs out. */
int pb_config_init(struct pb_config *c);
/* Frees the strings. */
void pb_config_release(struct pb_config *c);

/* Reads settings from `path`.  Errors are appended to errs, one line
 * each ("FILE:LINE: message\n"); returns PB_EINVAL when there was any,
 * PB_OK otherwise (the good lines are applied either way). */
int pb_config_load(struct pb_config *c, const char *path,
		   struct pb_buf *errs);

/* Sets one setting from text, as a file line would; `where` starts the
 * error line ("FILE:LINE", "--listen").  PB_EINVAL (error appended) for
 * an unknown name or a bad value. */
int pb_config_set(struct pb_config *c, const char *name, const char *value,
		  const char *where, struct pb_buf *errs);

/* After every file and flag: fills the "=NAME" defaults of settings not
 * given and checks what no single line can (heartbeat_s under lease_s).
 * Errors start with `where`.  PB_EINVAL when there was any. */
int pb_config_finish(struct pb_config *c, const char *where,
		     struct pb_buf *errs);

/* Parses HOST:PORT (numeric IPv4, or [IPv6]) into out; PB_EINVAL with a
 * message otherwise. */
int pb_config_parse_address(const char *s, struct sockaddr_storage *out,
			    socklen_t *len);

/* The settings for --help: one paragraph each with type, bounds and
 * default. */
int pb_config_help(struct pb_buf *out);

/* The commented example configuration (deploy/perfbisectd.conf): every
 * setting at its default, commented out. */
int pb_config_example(struct pb_buf *out);

/* The setting's current value as a file would write it, into out. */
int pb_config_format(const struct pb_config *c,
		     const struct pb_config_setting *s, struct pb_buf *out);

#endif
