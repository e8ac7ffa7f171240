/*
 * spool.h - run records on disk until the orchestrator has them
 * (docs/agent-protocol.md, "Spool").
 *
 * Each record is the whole body of its POST /api/v1/runs, in
 * DIR/run-LEASE-INDEX.json: written to DIR/.tmp-NAME-PID, fsync'd, renamed,
 * and the directory fsync'd, before it is posted; removed (and the
 * directory fsync'd) only after a 2xx or a 409.  A crash at any point
 * leaves either no file, a .tmp- file (removed at the next start: its
 * record was never posted, and its run is lost as a run in flight is), or
 * the whole record, which the next start posts again - the server counts a
 * record once by (lease, index).  A record the server refuses as malformed
 * (400, 413) is moved to DIR/rejected/ for a person, never posted again.
 */
#ifndef PB_SPOOL_H
#define PB_SPOOL_H

#include <stddef.h>

/* Creates DIR if needed, makes it mode 0700 (records hold benchmark
 * output) and removes the .tmp- leftovers of a crash. */
int pb_spool_init(const char *dir);

/* The file name of the record (lease, index): "run-LEASE-%010u.json".
 * PB_EINVAL for a lease that is not [A-Za-z0-9._-] (proto.h checks it). */
int pb_spool_name(char *out, size_t size, const char *lease, unsigned index);

/* Writes body durably under name (replacing a file of that name). */
int pb_spool_put(const char *dir, const char *name, const char *body,
		 size_t len);

/* The names of the records in DIR, sorted; *names is NULL when there are
 * none.  Free with pb_spool_list_free(). */
int pb_spool_list(const char *dir, char ***names, size_t *n);
void pb_spool_list_free(char **names, size_t n);

/* Reads a record (at most PB_WIRE_BODY_MAX bytes, else PB_ETOOBIG);
 * *body is malloc'd and NUL-terminated.  PB_ENOTFOUND when it is gone. */
int pb_spool_read(const char *dir, const char *name, char **body,
		  size_t *len);

/* Removes a record durably; a missing one is fine. */
int pb_spool_remove(const char *dir, const char *name);

/* Moves a record to DIR/rejected/ (created 0700). */
int pb_spool_reject(const char *dir, const char *name);

#endif
