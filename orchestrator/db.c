/*
 * db.c - every SQL statement of perfbisect (see db.h).
 *
 * Statements are prepared with sqlite3_prepare_v2 and bound parameters;
 * nothing is ever pasted into SQL text.  A connection keeps the statements
 * it prepared (by their SQL text) and reuses them, reset and unbound,
 * instead of parsing the same SQL again on every call: prep() hands one
 * out, unprep() gives it back (a statement asked for while its cached
 * copy is in use is prepared afresh and finalized).  Migrations run in a
 * transaction each and bump user_version inside it, so a crash in the
 * middle leaves the database at the last whole version.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/proto.h"
#include "common/util.h"
#include "orchestrator/db.h"
#include "web/site.h"

/* Enough for every statement of this file (about 70). */
#define STMT_CACHE 128

struct cached_stmt {
	sqlite3_stmt *st;
	uint32_t hash;    /* of its SQL text */
	int busy;         /* handed out by prep(), not given back yet */
};

struct pb_db {
	sqlite3 *h;
	unsigned depth;   /* pb_db_begin() calls not yet committed */
	struct cached_stmt cache[STMT_CACHE];
	size_t ncache;
	uint64_t work;    /* VM steps of the statements given back */
	/* group sync (pb_db_opts.group_sync): the WAL is synced by
	 * pb_db_sync(), once for every commit marked before it began */
	int group;
	char *wal_path;
	int wal_fd;                 /* -1; used by the syncing thread only */
	pthread_mutex_t sync_mu;    /* the fields below */
	pthread_cond_t sync_cv;
	atomic_uint_least64_t marked; /* the latest pb_db_sync_mark() */
	uint64_t synced;            /* marks up to this one are on disk */
	int syncing;                /* a thread is in fdatasync() */
	int sync_failed;            /* an fdatasync() failed: nothing
				     * written since is known to be on disk */
};

static int db_fail(struct pb_db *db, const char *what)
{
	int code = sqlite3_errcode(db->h);
	int infra = code == SQLITE_IOERR || code == SQLITE_FULL ||
		    code == SQLITE_CANTOPEN || code == SQLITE_READONLY ||
		    code == SQLITE_BUSY || code == SQLITE_LOCKED ||
		    code == SQLITE_CORRUPT || code == SQLITE_NOTADB ||
		    code == SQLITE_PERM;

	return pb_error_code(infra ? PB_EINFRA : PB_ERROR, "database: %s: %s",
			     what, sqlite3_errmsg(db->h));
}

static uint32_t sql_hash(const char *sql)
{
	uint32_t h = 2166136261u;

	for (; *sql; sql++)
		h = (h ^ (unsigned char)*sql) * 16777619u;
	return h;
}

/* The statement of sql, ready to bind: the connection's cached one, or
 * one prepared now (and cached when there is room).  Give it back with
 * unprep(). */
static int prep(struct pb_db *db, const char *sql, sqlite3_stmt **st)
{
	uint32_t h = sql_hash(sql);
	struct cached_stmt *free_slot = NULL;

	for (size_t i = 0; i < db->ncache; i++) {
		struct cached_stmt *c = &db->cache[i];

		if (c->hash != h || strcmp(sqlite3_sql(c->st), sql))
			continue;
		if (c->busy)
			break; /* in use (a nested call): a fresh one */
		c->busy = 1;
		*st = c->st;
		return PB_OK;
	}
	if (sqlite3_prepare_v2(db->h, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return db_fail(db, "prepare");
	}
	for (size_t i = 0; i < db->ncache; i++)
		if (db->cache[i].hash == h &&
		    !strcmp(sqlite3_sql(db->cache[i].st), sql))
			return PB_OK; /* cached already, and busy */
	if (db->ncache < STMT_CACHE)
		free_slot = &db->cache[db->ncache++];
	if (free_slot)
		*free_slot = (struct cached_stmt){ *st, h, 1 };
	return PB_OK;
}

/* Gives back a statement of prep(): a cached one is reset and unbound
 * for its next use, any other finalized. */
static void unprep(struct pb_db *db, sqlite3_stmt *st)
{
	if (!st)
		return;
	db->work += (uint64_t)sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP,
						  1);
	for (size_t i = 0; i < db->ncache; i++)
		if (db->cache[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			db->cache[i].busy = 0;
			return;
		}
	sqlite3_finalize(st);
}

uint64_t pb_db_work(const struct pb_db *db)
{
	return db->work;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void bind_real(sqlite3_stmt *st, int i, double v)
{
	if (isfinite(v))
		sqlite3_bind_double(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

/* A count or index; negative binds NULL. */
static void bind_count(sqlite3_stmt *st, int i, int v)
{
	if (v >= 0)
		sqlite3_bind_int(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

static void bind_id(sqlite3_stmt *st, int i, int64_t id)
{
	if (id > 0)
		sqlite3_bind_int64(st, i, id);
	else
		sqlite3_bind_null(st, i);
}

/* Steps a statement that returns no rows, then finalizes it. */
static int run_done(struct pb_db *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? PB_OK : db_fail(db, what);

	unprep(db, st);
	return rc;
}

static int exec(struct pb_db *db, const char *sql, const char *what)
{
	if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, what);
	return PB_OK;
}

int pb_db_begin(struct pb_db *db)
{
	int rc;

	if (db->depth) { /* inside a caller's transaction: part of it */
		db->depth++;
		return PB_OK;
	}
	if ((rc = exec(db, "BEGIN IMMEDIATE", "begin")) == PB_OK)
		db->depth = 1;
	return rc;
}

int pb_db_commit(struct pb_db *db)
{
	int rc;

	if (db->depth > 1) {
		db->depth--;
		return PB_OK;
	}
	rc = exec(db, "COMMIT", "commit");
	db->depth = 0;
	return rc;
}

void pb_db_rollback(struct pb_db *db)
{
	/* the whole transaction, however deep: the outer caller, seeing
	 * the error, rolls back again (a no-op) */
	db->depth = 0;
	if (!sqlite3_get_autocommit(db->h))
		(void)sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

int pb_db_user_version(struct pb_db *db, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = prep(db, "PRAGMA user_version", &st)) < 0)
		return rc;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = db_fail(db, "read user_version");
	} else {
		*out = sqlite3_column_int(st, 0);
		rc = PB_OK;
	}
	unprep(db, st);
	return rc;
}

static int migration_version(const char *name)
{
	uint64_t v;
	char num[5];

	if (strlen(name) < 6 || name[4] != '-')
		return -1;
	memcpy(num, name, 4);
	num[4] = '\0';
	if (pb_parse_u64(&v, num, 1, 9999, "migration") < 0)
		return -1;
	return (int)v;
}

/* The version of the last of n migrations, or -1 when their numbers do
 * not increase.  Numbers may skip: work on parallel branches takes the
 * numbers it will have once merged (0006 before 0004 and 0005 are in). */
static int last_version(const struct pb_embedded *m, size_t n)
{
	int prev = 0;

	for (size_t i = 0; i < n; i++) {
		int v = migration_version(m[i].name);

		if (v <= prev) {
			pb_error_set("migration '%s' is out of order",
				     m[i].name);
			return -1;
		}
		prev = v;
	}
	return prev;
}

int pb_db_schema_version(void)
{
	return last_version(pb_schema, pb_schema_count);
}

/* PB_EINFRA naming the migration when a row references one that is not
 * there (PRAGMA foreign_key_check). */
static int fk_check(struct pb_db *db, const char *what)
{
	sqlite3_stmt *st;
	int s;

	if (sqlite3_prepare_v2(db->h, "PRAGMA foreign_key_check", -1, &st,
			       NULL) != SQLITE_OK)
		return db_fail(db, "check foreign keys");
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		int rc = pb_error_code(PB_EINFRA, "database: %s leaves a row "
				       "of '%s' whose reference to '%s' is "
				       "gone", what,
				       (const char *)sqlite3_column_text(st, 0),
				       (const char *)sqlite3_column_text(st, 2));

		sqlite3_finalize(st);
		return rc;
	}
	sqlite3_finalize(st);
	return s == SQLITE_DONE ? PB_OK : db_fail(db, "check foreign keys");
}

/* Applies, in order, every migration numbered above the database's
 * user_version, each in its own transaction that also sets user_version
 * to its number. */
static int migrate(struct pb_db *db, const struct pb_embedded *m, size_t n)
{
	int have, rc, last = last_version(m, n);

	if (last < 0)
		return PB_ERROR;
	if ((rc = pb_db_user_version(db, &have)) < 0)
		return rc;
	if (have > last)
		return pb_error_code(PB_EINFRA,
				     "database schema version %d is newer than "
				     "this program's (%d): upgrade perfbisect",
				     have, last);
	for (size_t i = 0; i < n; i++) {
		int v = migration_version(m[i].name);
		char pragma[64];

		if (v <= have)
			continue;
		/* SQLite's table rebuild (ALTER TABLE's "12 steps"): foreign
		 * keys off outside the transaction (the pragma is a no-op
		 * inside one), checked before it commits, then on again;
		 * else dropping a rebuilt table deletes its rows and fails
		 * on the rows that reference them */
		if ((rc = exec(db, "PRAGMA foreign_keys = OFF",
			       "disable foreign keys")) < 0 ||
		    (rc = pb_db_begin(db)) < 0)
			return rc;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v);
		if ((rc = exec(db, m[i].content, m[i].name)) < 0 ||
		    (rc = fk_check(db, m[i].name)) < 0 ||
		    (rc = exec(db, pragma, "set user_version")) < 0 ||
		    (rc = pb_db_commit(db)) < 0) {
			pb_db_rollback(db);
			(void)exec(db, "PRAGMA foreign_keys = ON",
				   "enable foreign keys");
			return rc;
		}
		if ((rc = exec(db, "PRAGMA foreign_keys = ON",
			       "enable foreign keys")) < 0)
			return rc;
	}
	return PB_OK;
}

static int open_db(struct pb_db **out, const char *path, int flags,
		   int busy_timeout_ms)
{
	struct pb_db *db = calloc(1, sizeof(*db));

	*out = NULL;
	if (!db)
		return pb_error_set("out of memory");
	if (sqlite3_open_v2(path, &db->h, flags, NULL) != SQLITE_OK) {
		int rc = pb_error_code(PB_EINFRA, "cannot open database '%s': %s",
				       path,
				       db->h ? sqlite3_errmsg(db->h) : "no memory");
		sqlite3_close(db->h);
		free(db);
		return rc;
	}
	sqlite3_busy_timeout(db->h, busy_timeout_ms);
	sqlite3_extended_result_codes(db->h, 0);
	db->wal_fd = -1;
	*out = db;
	return PB_OK;
}

/* fsync() of the directory that holds path: a WAL file sqlite has just
 * made is not on disk until its directory entry is.  -1 when it cannot be
 * opened, -2 when the fsync fails (errno says why). */
static int dir_sync(const char *path)
{
	char *dir = pb_strdup(path), *sl;
	int fd, rc = 0, e;

	if (!dir)
		return -1;
	if ((sl = strrchr(dir, '/')))
		sl[sl == dir] = '\0';
	fd = open(sl ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	e = errno;
	free(dir);
	if (fd < 0) {
		errno = e;
		return -1;
	}
	if (fsync(fd) < 0)
		rc = -2;
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* fdatasync() of the WAL file, (re)opened (and its directory synced) when
 * it is not the file sqlite writes.  No WAL file: nothing to sync (sqlite
 * removes it only after a whole checkpoint, synced).  *fatal: an fsync
 * failed, after which the kernel may have dropped what it could not
 * write. */
static int wal_sync(struct pb_db *db, int *fatal)
{
	struct stat a, b;
	int d;

	*fatal = 0;
	if (db->wal_fd >= 0 &&
	    (fstat(db->wal_fd, &a) < 0 || stat(db->wal_path, &b) < 0 ||
	     a.st_ino != b.st_ino || a.st_dev != b.st_dev)) {
		close(db->wal_fd);
		db->wal_fd = -1;
	}
	if (db->wal_fd < 0) {
		if ((db->wal_fd = open(db->wal_path, O_RDONLY | O_CLOEXEC)) < 0)
			return errno == ENOENT
				       ? PB_OK
				       : pb_error_code(PB_EINFRA,
						       "database: cannot open "
						       "'%s' to sync it: %s",
						       db->wal_path,
						       strerror(errno));
		if ((d = dir_sync(db->wal_path)) < 0) {
			int rc = pb_error_code(PB_EINFRA, "database: fsync of "
					       "the directory of '%s': %s",
					       db->wal_path, strerror(errno));

			*fatal = d == -2;
			close(db->wal_fd);
			db->wal_fd = -1;
			return rc;
		}
	}
	if (fdatasync(db->wal_fd) < 0) {
		*fatal = 1;
		return pb_error_code(PB_EINFRA, "database: fsync of '%s': %s",
				     db->wal_path, strerror(errno));
	}
	return PB_OK;
}

/* Group sync on a connection whose file has a name (not in memory). */
static int group_init(struct pb_db *db)
{
	const char *f = sqlite3_db_filename(db->h, "main");
	size_t n;

	if (!f || !f[0])
		return PB_OK;
	n = strlen(f) + sizeof("-wal");
	if (!(db->wal_path = malloc(n)))
		return pb_error_set("out of memory");
	snprintf(db->wal_path, n, "%s-wal", f);
	pthread_mutex_init(&db->sync_mu, NULL);
	pthread_cond_init(&db->sync_cv, NULL);
	db->group = 1;
	return PB_OK;
}

uint64_t pb_db_sync_mark(struct pb_db *db)
{
	uint64_t m;

	if (!db->group)
		return 0;
	/* every row written on this connection so far, in a commit or not
	 * (rolled back ones only cost a sync more) */
	m = (uint64_t)sqlite3_total_changes64(db->h);
	atomic_store(&db->marked, m);
	return m;
}

int pb_db_sync(struct pb_db *db, uint64_t mark)
{
	int rc = PB_OK, fatal = 0;

	if (!db->group)
		return PB_OK;
	pthread_mutex_lock(&db->sync_mu);
	while (db->synced < mark && !db->sync_failed) {
		uint64_t target;

		if (db->syncing) {
			pthread_cond_wait(&db->sync_cv, &db->sync_mu);
			continue;
		}
		/* this thread syncs for everyone marked so far */
		db->syncing = 1;
		target = atomic_load(&db->marked);
		pthread_mutex_unlock(&db->sync_mu);
		rc = wal_sync(db, &fatal);
		pthread_mutex_lock(&db->sync_mu);
		db->syncing = 0;
		if (rc == PB_OK && target > db->synced)
			db->synced = target;
		db->sync_failed |= fatal;
		pthread_cond_broadcast(&db->sync_cv);
		if (rc < 0)
			break; /* this caller's answer is the error */
	}
	if (db->synced < mark && rc == PB_OK)
		rc = pb_error_code(PB_EINFRA,
				   "database: an fsync of the write-ahead log "
				   "failed: nothing written since is known to "
				   "be on disk (restart perfbisectd)");
	pthread_mutex_unlock(&db->sync_mu);
	return rc;
}

/* The connection's pragmas, then the migrations.  Pragmas take no bound
 * parameters: the only number pasted is journal_size_limit, an integer
 * of the caller's options, never input. */
static int open_migrate(struct pb_db **out, const char *path,
			const struct pb_embedded *migrations, size_t n,
			const struct pb_db_opts *o)
{
	struct pb_db *db;
	char limit[64];
	int rc, fatal;

	*out = NULL;
	if ((rc = open_db(&db, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			  o->busy_timeout_ms)) < 0)
		return rc;
	snprintf(limit, sizeof(limit), "PRAGMA journal_size_limit = %lld",
		 (long long)(o->journal_size_limit < 0 ? -1
						       : o->journal_size_limit));
	if ((rc = exec(db, "PRAGMA journal_mode = WAL", "set WAL mode")) < 0 ||
	    (rc = exec(db, "PRAGMA foreign_keys = ON", "enable foreign keys")) <
		    0 ||
	    (rc = exec(db,
		       o->synchronous_full && !o->group_sync
			       ? "PRAGMA synchronous = FULL"
			       : "PRAGMA synchronous = NORMAL",
		       "set synchronous")) < 0 ||
	    (rc = exec(db, limit, "set journal_size_limit")) < 0 ||
	    (o->group_sync && (rc = group_init(db)) < 0) ||
	    (rc = migrate(db, migrations, n)) < 0 ||
	    (db->group && (rc = wal_sync(db, &fatal)) < 0)) {
		pb_db_close(db);
		return rc;
	}
	*out = db;
	return PB_OK;
}

int pb_db_open_with(struct pb_db **out, const char *path,
		    const struct pb_embedded *migrations, size_t n)
{
	static const struct pb_db_opts cli = PB_DB_OPTS_CLI;

	return open_migrate(out, path, migrations, n, &cli);
}

int pb_db_open(struct pb_db **out, const char *path)
{
	return pb_db_open_with(out, path, pb_schema, pb_schema_count);
}

int pb_db_open_opts(struct pb_db **out, const char *path,
		    const struct pb_db_opts *o)
{
	return open_migrate(out, path, pb_schema, pb_schema_count, o);
}

static void col_copy(sqlite3_stmt *st, int i, char *dst, size_t size);

static int pragma_text(struct pb_db *db, const char *sql, char *dst,
		       size_t size)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db, sql, &st)) < 0)
		return rc;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = db_fail(db, sql);
	} else {
		col_copy(st, 0, dst, size);
		rc = PB_OK;
	}
	unprep(db, st);
	return rc;
}

int pb_db_settings(struct pb_db *db, struct pb_db_settings *out)
{
	char v[32];
	uint64_t u;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = pragma_text(db, "PRAGMA journal_mode", out->journal_mode,
			      sizeof(out->journal_mode))) < 0)
		return rc;
	if ((rc = pragma_text(db, "PRAGMA synchronous", v, sizeof(v))) < 0)
		return rc;
	out->synchronous = v[0] - '0';
	if ((rc = pragma_text(db, "PRAGMA foreign_keys", v, sizeof(v))) < 0)
		return rc;
	out->foreign_keys = v[0] == '1';
	if ((rc = pragma_text(db, "PRAGMA busy_timeout", v, sizeof(v))) < 0)
		return rc;
	out->busy_timeout_ms = pb_parse_u64(&u, v, 0, INT32_MAX, "busy") < 0
				       ? -1 : (int)u;
	if ((rc = pragma_text(db, "PRAGMA journal_size_limit", v, sizeof(v))) <
	    0)
		return rc;
	out->journal_size_limit = v[0] == '-' ? -1
				  : pb_parse_u64(&u, v, 0, INT64_MAX, "limit") <
					    0
					  ? -1
					  : (int64_t)u;
	out->group_sync = db->group;
	return PB_OK;
}

int pb_db_open_readonly(struct pb_db **out, const char *path)
{
	struct pb_db *db;
	int rc, v;

	if ((rc = open_db(&db, path, SQLITE_OPEN_READONLY, 10000)) < 0)
		return rc;
	if ((rc = pb_db_user_version(db, &v)) < 0) {
		pb_db_close(db);
		return rc;
	}
	if (v != pb_db_schema_version()) {
		pb_db_close(db);
		return pb_error_code(PB_EINFRA,
				     "database '%s' has schema version %d, this "
				     "program reads version %d",
				     path, v, pb_db_schema_version());
	}
	*out = db;
	return PB_OK;
}

void pb_db_close(struct pb_db *db)
{
	if (!db)
		return;
	/* what this connection wrote is on disk before it goes (a token
	 * printed by perfbisectd --add-agent, say) */
	if (db->group)
		(void)pb_db_sync(db, pb_db_sync_mark(db));
	for (size_t i = 0; i < db->ncache; i++)
		sqlite3_finalize(db->cache[i].st);
	sqlite3_close(db->h);
	if (db->wal_fd >= 0)
		close(db->wal_fd);
	if (db->group) {
		pthread_cond_destroy(&db->sync_cv);
		pthread_mutex_destroy(&db->sync_mu);
	}
	free(db->wal_path);
	free(db);
}

static void col_copy(sqlite3_stmt *st, int i, char *dst, size_t size);
static double col_real(sqlite3_stmt *st, int i);

/* Runs a one-row SELECT of an id; PB_ENOTFOUND without a row. */
static int select_id(struct pb_db *db, sqlite3_stmt *st, int64_t *out,
		     const char *what)
{
	int s = sqlite3_step(st), rc;

	if (s == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = PB_OK;
	} else if (s == SQLITE_DONE) {
		rc = PB_ENOTFOUND;
	} else {
		rc = db_fail(db, what);
	}
	unprep(db, st);
	return rc;
}

int pb_db_repo_ensure(struct pb_db *db, const char *name, const char *url,
		      int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "INSERT INTO repositories (name, url, created_at) "
		       "VALUES (?1, ?2, ?3) ON CONFLICT (name) DO UPDATE SET "
		       "url = excluded.url RETURNING id",
		       &st)) < 0)
		return rc;
	bind_text(st, 1, name);
	bind_text(st, 2, url);
	sqlite3_bind_double(st, 3, pb_now_real());
	rc = select_id(db, st, out, "store repository");
	return rc == PB_ENOTFOUND ? db_fail(db, "store repository") : rc;
}

int pb_db_commit_ensure(struct pb_db *db, int64_t repo_id,
			const struct pb_commit_info *ci, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "INSERT INTO commits (repo_id, sha, subject, author, time) "
		       "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (repo_id, sha) "
		       "DO UPDATE SET subject = excluded.subject RETURNING id",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, repo_id);
	bind_text(st, 2, ci->sha);
	bind_text(st, 3, ci->subject ? ci->subject : "");
	bind_text(st, 4, ci->author ? ci->author : "");
	sqlite3_bind_int64(st, 5, ci->time);
	rc = select_id(db, st, out, "store commit");
	return rc == PB_ENOTFOUND ? db_fail(db, "store commit") : rc;
}

int pb_db_benchmark_ensure(struct pb_db *db, int64_t repo_id,
			   const struct pb_benchmark_def *d, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "INSERT INTO benchmarks (repo_id, name, build_cmd, run_cmd, "
		       "metric, lower_is_better, timeout_s, build_timeout_s) "
		       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
		       "ON CONFLICT (repo_id, name) DO UPDATE SET "
		       "build_cmd = excluded.build_cmd, run_cmd = excluded.run_cmd, "
		       "metric = excluded.metric, "
		       "lower_is_better = excluded.lower_is_better, "
		       "timeout_s = excluded.timeout_s, "
		       "build_timeout_s = excluded.build_timeout_s RETURNING id",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, repo_id);
	bind_text(st, 2, d->name);
	bind_text(st, 3, d->build_cmd);
	bind_text(st, 4, d->run_cmd);
	bind_text(st, 5, d->metric);
	sqlite3_bind_int(st, 6, d->lower_is_better ? 1 : 0);
	sqlite3_bind_double(st, 7, d->timeout_s);
	sqlite3_bind_double(st, 8, d->build_timeout_s);
	rc = select_id(db, st, out, "store benchmark");
	return rc == PB_ENOTFOUND ? db_fail(db, "store benchmark") : rc;
}

int pb_db_config_ensure(struct pb_db *db, const char *name,
			const char *settings_json, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "INSERT INTO configurations (name, settings) VALUES (?1, ?2) "
		       "ON CONFLICT (name) DO UPDATE SET settings = "
		       "excluded.settings RETURNING id",
		       &st)) < 0)
		return rc;
	bind_text(st, 1, name);
	bind_text(st, 2, settings_json);
	rc = select_id(db, st, out, "store configuration");
	return rc == PB_ENOTFOUND ? db_fail(db, "store configuration") : rc;
}

int pb_db_build_get(struct pb_db *db, int64_t commit_id, int64_t bench_id,
		    const char *machine, struct pb_build_row *out)
{
	sqlite3_stmt *st;
	int rc, s;

	if ((rc = prep(db,
		       "SELECT status, coalesce(reason, ''), created_at FROM "
		       "builds WHERE commit_id = ?1 AND benchmark_id = ?2 AND "
		       "machine = ?3",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, commit_id);
	sqlite3_bind_int64(st, 2, bench_id);
	bind_text(st, 3, machine);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		out->ok = !strcmp((const char *)sqlite3_column_text(st, 0), "ok");
		pb_strlcpy(out->reason, (const char *)sqlite3_column_text(st, 1),
			   sizeof(out->reason));
		out->created_at = sqlite3_column_double(st, 2);
		rc = PB_OK;
	} else {
		rc = s == SQLITE_DONE ? PB_ENOTFOUND : db_fail(db, "read build");
	}
	unprep(db, st);
	return rc;
}

int pb_db_build_put(struct pb_db *db, int64_t commit_id, int64_t bench_id,
		    const char *machine, int ok, const char *reason,
		    const char *log, double wall_s)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "INSERT INTO builds (commit_id, benchmark_id, machine, "
		       "status, reason, log, wall_s, created_at) VALUES "
		       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (commit_id, "
		       "benchmark_id, machine) DO UPDATE SET status = "
		       "excluded.status, reason = excluded.reason, log = "
		       "excluded.log, wall_s = excluded.wall_s, created_at = "
		       "excluded.created_at",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, commit_id);
	sqlite3_bind_int64(st, 2, bench_id);
	bind_text(st, 3, machine);
	bind_text(st, 4, ok ? "ok" : "failed");
	bind_text(st, 5, ok ? NULL : reason);
	bind_text(st, 6, log);
	bind_real(st, 7, wall_s);
	sqlite3_bind_double(st, 8, pb_now_real());
	return run_done(db, st, "store build");
}

int pb_db_bisection_find(struct pb_db *db, const struct pb_bisection_def *d,
			 struct pb_bisection_found *out)
{
	sqlite3_stmt *st;
	int rc, s;

	memset(out, 0, sizeof(*out));
	if ((rc = prep(db,
		       "SELECT id, state, coalesce(exit_code, -1), max_runs, "
		       "runs, culprit_sha IS NOT NULL, "
		       "range_first_sha IS NOT NULL, coalesce(mode, ''), "
		       "created_at, coalesce(verdict, '') FROM bisections "
		       "WHERE repo_id = ?1 AND "
		       "benchmark_id = ?2 AND config_id IS ?3 AND "
		       "good_sha = ?4 AND bad_sha = ?5 AND "
		       "confidence_asked = ?6 AND seed = ?7 AND "
		       "coalesce(min_effect, 0.03) = ?8 "
		       "ORDER BY id DESC LIMIT 1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, d->repo_id);
	sqlite3_bind_int64(st, 2, d->bench_id);
	bind_id(st, 3, d->config_id);
	bind_text(st, 4, d->good_sha);
	bind_text(st, 5, d->bad_sha);
	sqlite3_bind_double(st, 6, d->confidence);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)d->seed);
	sqlite3_bind_double(st, 8, d->min_effect > 0 ? d->min_effect : 0.03);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		col_copy(st, 1, out->state, sizeof(out->state));
		out->exit_code = sqlite3_column_int(st, 2);
		out->max_runs = (unsigned)sqlite3_column_int64(st, 3);
		out->runs = (unsigned)sqlite3_column_int64(st, 4);
		out->has_culprit = sqlite3_column_int(st, 5);
		out->has_range = sqlite3_column_int(st, 6);
		col_copy(st, 7, out->mode, sizeof(out->mode));
		out->created_at = sqlite3_column_double(st, 8);
		col_copy(st, 9, out->verdict, sizeof(out->verdict));
		rc = PB_OK;
	} else {
		rc = s == SQLITE_DONE ? PB_ENOTFOUND
				      : db_fail(db, "find bisection");
	}
	unprep(db, st);
	return rc;
}

int pb_db_bisection_reopen(struct pb_db *db, int64_t id, unsigned max_runs)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "UPDATE bisections SET state = 'running', max_runs = ?2, "
		       "exit_code = NULL, finished_at = NULL WHERE id = ?1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, max_runs);
	return run_done(db, st, "reopen bisection");
}

int pb_db_bisection_create(struct pb_db *db, const struct pb_bisection_def *d,
			   int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "INSERT INTO bisections (repo_id, benchmark_id, config_id, "
		       "good_sha, bad_sha, state, confidence_asked, seed, "
		       "max_runs, created_at, min_effect) VALUES (?1, ?2, ?3, "
		       "?4, ?5, 'running', ?6, ?7, ?8, ?9, ?10) RETURNING id",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, d->repo_id);
	sqlite3_bind_int64(st, 2, d->bench_id);
	bind_id(st, 3, d->config_id);
	bind_text(st, 4, d->good_sha);
	bind_text(st, 5, d->bad_sha);
	sqlite3_bind_double(st, 6, d->confidence);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)d->seed);
	sqlite3_bind_int64(st, 8, d->max_runs);
	sqlite3_bind_double(st, 9, pb_now_real());
	bind_real(st, 10, d->min_effect);
	rc = select_id(db, st, out, "create bisection");
	return rc == PB_ENOTFOUND ? db_fail(db, "create bisection") : rc;
}

int pb_db_run_insert(struct pb_db *db, const struct pb_run_row *r)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "INSERT INTO runs (run_id, bisection_id, seq, commit_id, "
		       "benchmark_id, config_id, machine, status, failure_reason, "
		       "exit_code, signal, timed_out, wall_s, value, metrics, "
		       "notes, counters, numa, machine_facts, run_as, output, "
		       "started_at, finished_at, settings, start_cpu, "
		       "start_node, ipc, ipc_note, remote_access, remote_note, "
		       "cpu_s, busy_share, disturbed, interference, lease_id, "
		       "run_index, orphan, body_hash) "
		       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
		       "?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, "
		       "?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, "
		       "?34, ?35, ?36, ?37, ?38) "
		       "ON CONFLICT (run_id) DO NOTHING",
		       &st)) < 0)
		return rc;
	bind_text(st, 1, r->run_id);
	bind_id(st, 2, r->bisection_id);
	sqlite3_bind_int64(st, 3, r->seq);
	sqlite3_bind_int64(st, 4, r->commit_id);
	sqlite3_bind_int64(st, 5, r->bench_id);
	bind_id(st, 6, r->config_id);
	bind_text(st, 7, r->machine);
	bind_text(st, 8, r->ok ? "ok" : "failed");
	bind_text(st, 9, r->ok ? NULL : r->failure_reason);
	if (r->exited)
		sqlite3_bind_int(st, 10, r->exit_code);
	else
		sqlite3_bind_null(st, 10);
	if (r->signal)
		sqlite3_bind_int(st, 11, r->signal);
	else
		sqlite3_bind_null(st, 11);
	sqlite3_bind_int(st, 12, r->timed_out ? 1 : 0);
	bind_real(st, 13, r->wall_s);
	bind_real(st, 14, r->ok ? r->value : NAN);
	bind_text(st, 15, r->metrics_json ? r->metrics_json : "{}");
	bind_text(st, 16, r->notes && *r->notes ? r->notes : NULL);
	bind_text(st, 17, r->counters_json);
	bind_text(st, 18, r->numa_json);
	bind_text(st, 19, r->machine_json);
	bind_text(st, 20, r->run_as);
	bind_text(st, 21, r->output);
	sqlite3_bind_double(st, 22, r->started_at);
	sqlite3_bind_double(st, 23, r->finished_at);
	bind_text(st, 24, r->settings_json);
	bind_count(st, 25, r->start_cpu);
	bind_count(st, 26, r->start_node);
	bind_real(st, 27, r->ipc);
	bind_text(st, 28, isnan(r->ipc) ? r->ipc_note : NULL);
	bind_real(st, 29, r->remote_access);
	bind_text(st, 30, isnan(r->remote_access) ? r->remote_note : NULL);
	bind_real(st, 31, r->cpu_s);
	bind_real(st, 32, r->busy_share);
	sqlite3_bind_int(st, 33, r->disturbed ? 1 : 0);
	bind_text(st, 34, r->interference_json);
	bind_text(st, 35, r->lease_id);
	if (r->lease_id)
		sqlite3_bind_int(st, 36, r->run_index);
	sqlite3_bind_int(st, 37, r->orphan ? 1 : 0);
	bind_text(st, 38, r->body_hash);
	if ((rc = run_done(db, st, "store run")) < 0)
		return rc;
	return sqlite3_changes(db->h) > 0 ? PB_OK : PB_DB_REPEAT;
}

int pb_db_bisection_replay(struct pb_db *db, int64_t id, pb_db_run_cb cb,
			   void *ctx)
{
	sqlite3_stmt *st;
	int rc, s;

	if ((rc = prep(db,
		       "SELECT seq, commit_id, machine, status = 'ok', "
		       "disturbed, value FROM runs WHERE bisection_id = ?1 "
		       "AND orphan = 0 ORDER BY seq",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = PB_OK;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		rc = cb(ctx, sqlite3_column_int64(st, 0),
			sqlite3_column_int64(st, 1),
			(const char *)sqlite3_column_text(st, 2),
			sqlite3_column_int(st, 3), sqlite3_column_int(st, 4),
			sqlite3_column_double(st, 5));
		if (rc)
			break;
	}
	if (!rc && s != SQLITE_DONE)
		rc = db_fail(db, "read runs");
	unprep(db, st);
	return rc;
}

int pb_db_run_counts(struct pb_db *db, int64_t id, int64_t seq,
		     struct pb_run_counts *out)
{
	sqlite3_stmt *st;
	int rc, s;

	memset(out, 0, sizeof(*out));
	out->ipc = out->remote_access = NAN;
	if ((rc = prep(db,
		       "SELECT ipc, ipc_note, remote_access, remote_note FROM "
		       "runs WHERE bisection_id = ?1 AND seq = ?2",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, seq);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		out->ipc = col_real(st, 0);
		col_copy(st, 1, out->ipc_note, sizeof(out->ipc_note));
		out->remote_access = col_real(st, 2);
		col_copy(st, 3, out->remote_note, sizeof(out->remote_note));
		rc = PB_OK;
	} else if (s == SQLITE_DONE) {
		rc = PB_ENOTFOUND;
	} else {
		rc = db_fail(db, "read run counters");
	}
	unprep(db, st);
	return rc;
}

int pb_db_bisection_next_seq(struct pb_db *db, int64_t id, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "SELECT coalesce(max(seq), 0) + 1 FROM runs WHERE "
		       "bisection_id = ?1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	return select_id(db, st, out, "read run sequence");
}

int pb_db_run_count(struct pb_db *db, int64_t id, unsigned *ok,
		    unsigned *failed)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "SELECT count(*) FILTER (WHERE status = 'ok'), "
		       "count(*) FILTER (WHERE status = 'failed') FROM runs "
		       "WHERE bisection_id = ?1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*ok = (unsigned)sqlite3_column_int(st, 0);
		*failed = (unsigned)sqlite3_column_int(st, 1);
		rc = PB_OK;
	} else {
		rc = db_fail(db, "count runs");
	}
	unprep(db, st);
	return rc;
}

/* A count, or NULL when negative. */
/* Binds the 16 statistics columns from parameter `first` on. */
static void bind_stats(sqlite3_stmt *st, int first,
		       const struct pb_stats_view *sv)
{
	struct pb_stats_view none;

	if (!sv) {
		pb_stats_view_init(&none);
		sv = &none;
	}
	bind_text(st, first, sv->ci_first[0] ? sv->ci_first : NULL);
	bind_text(st, first + 1, sv->ci_last[0] ? sv->ci_last : NULL);
	bind_count(st, first + 2, sv->culprit_slow);
	bind_count(st, first + 3, sv->culprit_fast);
	bind_count(st, first + 4, sv->parent_slow);
	bind_count(st, first + 5, sv->parent_fast);
	bind_real(st, first + 6, sv->fast_mode);
	bind_real(st, first + 7, sv->slow_mode);
	bind_real(st, first + 8, sv->ashman_d);
	bind_real(st, first + 9, sv->q0);
	bind_real(st, first + 10, sv->q1);
	bind_real(st, first + 11, sv->dip_p);
	bind_count(st, first + 12, sv->good_bimodal);
	bind_real(st, first + 13, sv->good_dip_p);
	bind_real(st, first + 14, sv->mwu_p);
	bind_real(st, first + 15, sv->ks_p);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_of(double *v, size_t n)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* What the agent measured at one tested commit, over its successful runs:
 * median IPC and remote accesses where counted, else the first run's
 * reason; and how many runs started on each NUMA node. */
struct step_measures {
	double ipc, remote;
	double busy;              /* median busy share over all its runs */
	char ipc_note[256], remote_note[256];
	int nodes[PB_MAX_START_NODES];
	unsigned counts[PB_MAX_START_NODES];
	size_t nnodes;
};

static int step_measures_load(struct pb_db *db, int64_t bis, int64_t commit,
			      struct step_measures *m)
{
	double *ipc = NULL, *rem = NULL, *busy = NULL;
	size_t n = 0, ni = 0, nr = 0, nb = 0, alloc = 0;
	sqlite3_stmt *st;
	int rc, s;

	memset(m, 0, sizeof(*m));
	if ((rc = prep(db,
		       "SELECT ipc, ipc_note, remote_access, remote_note, "
		       "start_node, busy_share, status = 'ok' AND disturbed = 0 "
		       "FROM runs WHERE bisection_id = ?1 AND commit_id = ?2 "
		       "ORDER BY seq",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, bis);
	sqlite3_bind_int64(st, 2, commit);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == alloc) {
			size_t na = alloc ? 2 * alloc : 16;
			double *a = realloc(ipc, na * sizeof(*a));
			double *b = a ? realloc(rem, na * sizeof(*b)) : NULL;
			double *c = b ? realloc(busy, na * sizeof(*c)) : NULL;

			if (a)
				ipc = a;
			if (b)
				rem = b;
			if (c)
				busy = c;
			if (!a || !b || !c) {
				rc = pb_error_set("out of memory");
				goto out;
			}
			alloc = na;
		}
		n++;
		if (sqlite3_column_type(st, 5) != SQLITE_NULL)
			busy[nb++] = sqlite3_column_double(st, 5);
		if (!sqlite3_column_int(st, 6))
			continue; /* failed or disturbed: no measurement */
		if (sqlite3_column_type(st, 0) != SQLITE_NULL)
			ipc[ni++] = sqlite3_column_double(st, 0);
		else if (!m->ipc_note[0] && sqlite3_column_text(st, 1))
			pb_strlcpy(m->ipc_note,
				   (const char *)sqlite3_column_text(st, 1),
				   sizeof(m->ipc_note));
		if (sqlite3_column_type(st, 2) != SQLITE_NULL)
			rem[nr++] = sqlite3_column_double(st, 2);
		else if (!m->remote_note[0] && sqlite3_column_text(st, 3))
			pb_strlcpy(m->remote_note,
				   (const char *)sqlite3_column_text(st, 3),
				   sizeof(m->remote_note));
		if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
			int node = sqlite3_column_int(st, 4);
			size_t k;

			for (k = 0; k < m->nnodes && m->nodes[k] != node; k++)
				;
			if (k == m->nnodes && k < PB_MAX_START_NODES) {
				m->nodes[k] = node;
				m->nnodes++;
			}
			if (k < m->nnodes)
				m->counts[k]++;
		}
	}
	if (s != SQLITE_DONE) {
		rc = db_fail(db, "read the runs of a step");
		goto out;
	}
	m->ipc = median_of(ipc, ni);
	m->remote = median_of(rem, nr);
	m->busy = median_of(busy, nb);
	if (ni)
		m->ipc_note[0] = '\0';
	if (nr)
		m->remote_note[0] = '\0';
	rc = PB_OK;
out:
	unprep(db, st);
	free(ipc);
	free(rem);
	free(busy);
	return rc;
}

/* Step `seq` of bisection `id`: the medians of what its commit's runs
 * measured (IPC, remote accesses, start nodes, interference). */
static int step_measures_store(struct pb_db *db, int64_t id, int64_t seq,
			       int64_t commit_id)
{
	struct step_measures m;
	sqlite3_stmt *st;
	char *nodes;
	int rc;

	if ((rc = step_measures_load(db, id, commit_id, &m)) < 0)
		return rc;
	nodes = m.nnodes ? pb_proto_node_counts_json(m.nodes, m.counts, m.nnodes)
			 : NULL;
	if (m.nnodes && !nodes)
		return pb_error_set("out of memory");
	if ((rc = prep(db,
		       "UPDATE bisection_steps SET ipc = ?3, ipc_note = ?4, "
		       "remote_access = ?5, remote_note = ?6, start_nodes = ?7, "
		       "interference = ?8 WHERE bisection_id = ?1 AND seq = ?2",
		       &st)) < 0) {
		free(nodes);
		return rc;
	}
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, seq);
	bind_real(st, 3, m.ipc);
	bind_text(st, 4, m.ipc_note[0] ? m.ipc_note : NULL);
	bind_real(st, 5, m.remote);
	bind_text(st, 6, m.remote_note[0] ? m.remote_note : NULL);
	sqlite3_bind_text(st, 7, nodes, -1, free);
	bind_real(st, 8, m.busy);
	return run_done(db, st, "store step measures");
}

/* A counter's move in a verification: change, lo, hi, pairs, note at
 * columns at .. at + 4 (all NULL when not described). */
static void bind_move(sqlite3_stmt *st, int at,
		      const struct pb_counter_move *m)
{
	if (m->state == PB_VAL_NULL)
		return;
	bind_real(st, at, m->state == PB_VAL_NUMBER ? m->change : NAN);
	bind_real(st, at + 1, m->lo);
	bind_real(st, at + 2, m->hi);
	sqlite3_bind_int(st, at + 3, (int)m->pairs);
	bind_text(st, at + 4, m->state == PB_VAL_UNSUPPORTED ? m->note : NULL);
}

/* The reverse of bind_move(). */
static void col_move(sqlite3_stmt *st, int at, struct pb_counter_move *m)
{
	memset(m, 0, sizeof(*m));
	m->change = m->lo = m->hi = NAN;
	if (sqlite3_column_type(st, at + 3) == SQLITE_NULL)
		return;
	m->pairs = (unsigned)sqlite3_column_int(st, at + 3);
	if (sqlite3_column_type(st, at + 4) != SQLITE_NULL) {
		m->state = PB_VAL_UNSUPPORTED;
		col_copy(st, at + 4, m->note, sizeof(m->note));
		return;
	}
	m->state = PB_VAL_NUMBER;
	m->change = col_real(st, at);
	m->lo = col_real(st, at + 1);
	m->hi = col_real(st, at + 2);
}

int pb_db_bisection_save(struct pb_db *db, int64_t id,
			 const struct pb_bisection_end *e,
			 const struct pb_step_row *steps, size_t nsteps)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = pb_db_begin(db)) < 0)
		return rc;
	if ((rc = prep(db,
		       "UPDATE bisections SET state = ?2, mode = ?3, "
		       "culprit_sha = ?4, range_first_sha = ?5, "
		       "range_last_sha = ?6, confidence = ?7, runs = ?8, "
		       "builds = ?9, outcome = ?10, exit_code = ?11, "
		       "finished_at = ?12, ci_first_sha = ?13, "
		       "ci_last_sha = ?14, culprit_slow = ?15, "
		       "culprit_fast = ?16, parent_slow = ?17, "
		       "parent_fast = ?18, fast_mode = ?19, slow_mode = ?20, "
		       "ashman_d = ?21, q0 = ?22, q1 = ?23, dip_p = ?24, "
		       "good_bimodal = ?25, good_dip_p = ?26, mwu_p = ?27, "
		       "ks_p = ?28, verdict = ?29, verify_sha = ?30, "
		       "verify_attempts = ?31, verify_pairs = ?32, "
		       "verify_effect = ?33, verify_lo = ?34, verify_hi = ?35, "
		       "verify_p = ?36, verify_confirmed = ?37, "
		       "verify_ipc_change = ?38, verify_ipc_lo = ?39, "
		       "verify_ipc_hi = ?40, verify_ipc_pairs = ?41, "
		       "verify_ipc_note = ?42, verify_remote_change = ?43, "
		       "verify_remote_lo = ?44, verify_remote_hi = ?45, "
		       "verify_remote_pairs = ?46, verify_remote_note = ?47 "
		       "WHERE id = ?1",
		       &st)) < 0)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, e->state);
	bind_text(st, 3, e->mode);
	bind_text(st, 4, e->culprit_sha);
	bind_text(st, 5, e->range_first_sha);
	bind_text(st, 6, e->range_last_sha);
	bind_real(st, 7, e->confidence);
	sqlite3_bind_int(st, 8, (int)e->runs);
	sqlite3_bind_int(st, 9, (int)e->builds);
	bind_text(st, 10, e->outcome);
	if (e->exit_code >= 0)
		sqlite3_bind_int(st, 11, e->exit_code);
	else
		sqlite3_bind_null(st, 11);
	bind_real(st, 12, e->finished ? pb_now_real() : NAN);
	bind_stats(st, 13, e->stats);
	bind_text(st, 29, e->verdict);
	if (e->verification && e->verification->commit[0]) {
		const struct pb_verification_view *w = e->verification;

		bind_text(st, 30, w->commit);
		sqlite3_bind_int(st, 31, (int)w->attempts);
		sqlite3_bind_int(st, 32, (int)w->pairs);
		bind_real(st, 33, w->effect);
		bind_real(st, 34, w->lo);
		bind_real(st, 35, w->hi);
		bind_real(st, 36, w->p);
		sqlite3_bind_int(st, 37, w->confirmed ? 1 : 0);
		bind_move(st, 38, &w->ipc);
		bind_move(st, 43, &w->remote);
	}
	if ((rc = run_done(db, st, "update bisection")) < 0)
		goto fail;
	for (size_t i = 0; i < nsteps; i++) {
		const struct pb_step_row *r = &steps[i];

		if (r->unchanged)
			continue;
		/* what the engine says of it */
		if ((rc = prep(db,
			       "INSERT INTO bisection_steps (bisection_id, seq, "
			       "commit_id, verdict, runs, failed_runs, median, "
			       "slow_fraction, slow, fast, p_bad, disturbed, "
			       "identical_to) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
			       "?8, ?9, ?10, ?11, ?12, ?13) ON CONFLICT "
			       "(bisection_id, seq) DO UPDATE SET "
			       "commit_id = excluded.commit_id, "
			       "verdict = excluded.verdict, runs = excluded.runs, "
			       "failed_runs = excluded.failed_runs, "
			       "median = excluded.median, "
			       "slow_fraction = excluded.slow_fraction, "
			       "slow = excluded.slow, fast = excluded.fast, "
			       "p_bad = excluded.p_bad, "
			       "disturbed = excluded.disturbed, "
			       "identical_to = excluded.identical_to",
			       &st)) < 0)
			goto fail;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i + 1);
		sqlite3_bind_int64(st, 3, r->commit_id);
		bind_text(st, 4, r->verdict);
		sqlite3_bind_int(st, 5, (int)r->runs);
		sqlite3_bind_int(st, 6, (int)r->failed_runs);
		bind_real(st, 7, r->median);
		bind_real(st, 8, r->slow_fraction);
		bind_count(st, 9, r->slow);
		bind_count(st, 10, r->fast);
		bind_real(st, 11, r->p_bad);
		sqlite3_bind_int(st, 12, (int)r->disturbed);
		bind_id(st, 13, r->identical_to);
		if ((rc = run_done(db, st, "store step")) < 0)
			goto fail;
		if (r->same_runs)
			continue;
		/* what its runs measured */
		if ((rc = step_measures_store(db, id, (int64_t)i + 1,
					      r->commit_id)) < 0)
			goto fail;
	}
	if ((rc = pb_db_commit(db)) < 0)
		goto fail;
	return PB_OK;
fail:
	pb_db_rollback(db);
	return rc;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? pb_strdup((const char *)t) : NULL;
}

static void col_copy(sqlite3_stmt *st, int i, char *dst, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	pb_strlcpy(dst, t ? (const char *)t : "", size);
}

static double col_real(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL
		       ? NAN
		       : sqlite3_column_double(st, i);
}

/* The end of a build log or run output kept for a person: enough for the
 * last lines, not the whole log. */
#define FAILURE_LOG_TAIL 4000

/* Why a step failed: its build, for a skipped commit, else its last failed
 * run in this bisection; nothing when neither is stored. */
static int step_failure_load(struct pb_db *db, int64_t bis, int64_t bench,
			     int64_t commit, struct pb_step_view *p)
{
	sqlite3_stmt *st;
	int rc, s, skip = !strcmp(p->verdict, "skip");

	if ((rc = prep(db,
		       skip ? "SELECT reason, substr(log, -?4) FROM builds "
			      "WHERE commit_id = ?1 AND benchmark_id = ?2 AND "
			      "status = 'failed' ORDER BY created_at DESC "
			      "LIMIT 1"
			    : "SELECT failure_reason, substr(output, -?4) "
			      "FROM runs WHERE commit_id = ?1 AND "
			      "benchmark_id = ?2 AND bisection_id = ?3 AND "
			      "status = 'failed' ORDER BY seq DESC LIMIT 1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, commit);
	sqlite3_bind_int64(st, 2, bench);
	sqlite3_bind_int64(st, 3, bis); /* (builds belong to no bisection) */
	sqlite3_bind_int(st, 4, FAILURE_LOG_TAIL);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		p->failure_reason = col_dup(st, 0);
		p->failure_log = col_dup(st, 1);
		rc = PB_OK;
	} else {
		rc = s == SQLITE_DONE ? PB_OK : db_fail(db, "read a failure");
	}
	unprep(db, st);
	return rc;
}

int pb_db_bisection_load(struct pb_db *db, int64_t id,
			 struct pb_bisection_view **out)
{
	struct pb_bisection_view *v = calloc(1, sizeof(*v));
	sqlite3_stmt *st = NULL;
	int64_t bench = 0, *commit_ids = NULL; /* of steps that failed */
	size_t alloc = 0;
	int rc, s;

	*out = NULL;
	if (!v)
		return pb_error_set("out of memory");
	if ((rc = prep(db,
		       "SELECT b.id, r.name, m.metric, m.build_cmd, m.run_cmd, "
		       "m.lower_is_better, b.good_sha, b.bad_sha, b.state, "
		       "b.mode, b.culprit_sha, b.range_first_sha, "
		       "b.range_last_sha, b.confidence, b.confidence_asked, "
		       "b.runs, b.builds, b.outcome, coalesce(b.exit_code, -1), "
		       "b.created_at, b.finished_at, b.ci_first_sha, "
		       "b.ci_last_sha, coalesce(b.culprit_slow, -1), "
		       "coalesce(b.culprit_fast, -1), "
		       "coalesce(b.parent_slow, -1), "
		       "coalesce(b.parent_fast, -1), b.fast_mode, b.slow_mode, "
		       "b.ashman_d, b.q0, b.q1, b.dip_p, "
		       "coalesce(b.good_bimodal, -1), b.good_dip_p, b.mwu_p, "
		       "b.ks_p, b.verdict, b.benchmark_id, b.verify_sha, "
		       "coalesce(b.verify_attempts, 0), "
		       "coalesce(b.verify_pairs, 0), b.verify_effect, "
		       "b.verify_lo, b.verify_hi, b.verify_p, "
		       "coalesce(b.verify_confirmed, 0), b.verify_ipc_change, "
		       "b.verify_ipc_lo, b.verify_ipc_hi, b.verify_ipc_pairs, "
		       "b.verify_ipc_note, b.verify_remote_change, "
		       "b.verify_remote_lo, b.verify_remote_hi, "
		       "b.verify_remote_pairs, b.verify_remote_note, "
		       "b.cancelled_at IS NOT NULL "
		       "FROM bisections b "
		       "JOIN repositories r ON r.id = b.repo_id "
		       "JOIN benchmarks m ON m.id = b.benchmark_id WHERE b.id = ?1",
		       &st)) < 0)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	s = sqlite3_step(st);
	if (s != SQLITE_ROW) {
		rc = s == SQLITE_DONE ? pb_error_code(PB_ENOTFOUND,
						      "no bisection %lld",
						      (long long)id)
				      : db_fail(db, "read bisection");
		goto fail;
	}
	v->id = sqlite3_column_int64(st, 0);
	v->repo = col_dup(st, 1);
	v->metric = col_dup(st, 2);
	v->build_cmd = col_dup(st, 3);
	v->run_cmd = col_dup(st, 4);
	v->lower_is_better = sqlite3_column_int(st, 5);
	col_copy(st, 6, v->good, sizeof(v->good));
	col_copy(st, 7, v->bad, sizeof(v->bad));
	col_copy(st, 8, v->state, sizeof(v->state));
	col_copy(st, 9, v->mode, sizeof(v->mode));
	col_copy(st, 10, v->culprit, sizeof(v->culprit));
	col_copy(st, 11, v->range_first, sizeof(v->range_first));
	col_copy(st, 12, v->range_last, sizeof(v->range_last));
	v->confidence = col_real(st, 13);
	v->confidence_asked = col_real(st, 14);
	v->runs = (unsigned)sqlite3_column_int(st, 15);
	v->builds = (unsigned)sqlite3_column_int(st, 16);
	v->outcome = col_dup(st, 17);
	v->exit_code = sqlite3_column_int(st, 18);
	v->created_at = col_real(st, 19);
	v->finished_at = col_real(st, 20);
	col_copy(st, 21, v->stats.ci_first, sizeof(v->stats.ci_first));
	col_copy(st, 22, v->stats.ci_last, sizeof(v->stats.ci_last));
	v->stats.culprit_slow = sqlite3_column_int(st, 23);
	v->stats.culprit_fast = sqlite3_column_int(st, 24);
	v->stats.parent_slow = sqlite3_column_int(st, 25);
	v->stats.parent_fast = sqlite3_column_int(st, 26);
	v->stats.fast_mode = col_real(st, 27);
	v->stats.slow_mode = col_real(st, 28);
	v->stats.ashman_d = col_real(st, 29);
	v->stats.q0 = col_real(st, 30);
	v->stats.q1 = col_real(st, 31);
	v->stats.dip_p = col_real(st, 32);
	v->stats.good_bimodal = sqlite3_column_int(st, 33);
	v->stats.good_dip_p = col_real(st, 34);
	v->stats.mwu_p = col_real(st, 35);
	v->stats.ks_p = col_real(st, 36);
	col_copy(st, 37, v->verdict, sizeof(v->verdict));
	bench = sqlite3_column_int64(st, 38);
	col_copy(st, 39, v->verification.commit,
		 sizeof(v->verification.commit));
	v->verification.attempts = (unsigned)sqlite3_column_int(st, 40);
	v->verification.pairs = (unsigned)sqlite3_column_int(st, 41);
	v->verification.effect = col_real(st, 42);
	v->verification.lo = col_real(st, 43);
	v->verification.hi = col_real(st, 44);
	v->verification.p = col_real(st, 45);
	v->verification.confirmed = sqlite3_column_int(st, 46);
	col_move(st, 47, &v->verification.ipc);
	col_move(st, 52, &v->verification.remote);
	v->cancelled = sqlite3_column_int(st, 57);
	unprep(db, st);
	st = NULL;

	if ((rc = prep(db,
		       "SELECT c.sha, c.subject, c.author, c.time, s.verdict, "
		       "s.runs, s.failed_runs, s.median, s.slow_fraction, s.ipc, "
		       "s.remote_access, s.start_nodes, coalesce(s.slow, -1), "
		       "coalesce(s.fast, -1), s.p_bad, s.ipc_note, "
		       "s.remote_note, s.disturbed, s.interference, p.sha, "
		       "s.commit_id FROM bisection_steps s "
		       "JOIN commits c ON c.id = s.commit_id "
		       "LEFT JOIN commits p ON p.id = s.identical_to "
		       "WHERE s.bisection_id = ?1 ORDER BY s.seq",
		       &st)) < 0)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct pb_step_view *p;

		if (v->nsteps == alloc) {
			size_t na = alloc ? alloc * 2 : 16;
			int64_t *ids = realloc(commit_ids, na * sizeof(*ids));

			if (ids)
				commit_ids = ids;
			p = ids ? realloc(v->steps, na * sizeof(*p)) : NULL;
			if (!p) {
				rc = pb_error_set("out of memory");
				goto fail;
			}
			v->steps = p;
			alloc = na;
		}
		commit_ids[v->nsteps] = 0;
		p = &v->steps[v->nsteps++];
		memset(p, 0, sizeof(*p));
		col_copy(st, 0, p->sha, sizeof(p->sha));
		p->subject = col_dup(st, 1);
		p->author = col_dup(st, 2);
		p->time = sqlite3_column_int64(st, 3);
		col_copy(st, 4, p->verdict, sizeof(p->verdict));
		p->runs = (unsigned)sqlite3_column_int(st, 5);
		p->failed_runs = (unsigned)sqlite3_column_int(st, 6);
		p->median = col_real(st, 7);
		p->slow_fraction = col_real(st, 8);
		p->ipc = col_real(st, 9);
		p->ipc_note = col_dup(st, 15);
		p->ipc_state = !isnan(p->ipc) ? PB_VAL_NUMBER
			       : p->ipc_note  ? PB_VAL_UNSUPPORTED
					      : PB_VAL_NULL;
		p->remote_access = col_real(st, 10);
		p->remote_note = col_dup(st, 16);
		p->remote_state = !isnan(p->remote_access) ? PB_VAL_NUMBER
				  : p->remote_note	  ? PB_VAL_UNSUPPORTED
							  : PB_VAL_NULL;
		p->start_nodes_json = col_dup(st, 11);
		p->slow = sqlite3_column_int(st, 12);
		p->fast = sqlite3_column_int(st, 13);
		p->p_bad = col_real(st, 14);
		p->disturbed = (unsigned)sqlite3_column_int(st, 17);
		p->interference = col_real(st, 18);
		col_copy(st, 19, p->identical_to, sizeof(p->identical_to));
		if (!strcmp(p->verdict, "skip") || p->failed_runs)
			commit_ids[v->nsteps - 1] = sqlite3_column_int64(st, 20);
	}
	if (s != SQLITE_DONE) {
		rc = db_fail(db, "read steps");
		goto fail;
	}
	unprep(db, st);
	st = NULL;
	for (size_t i = 0; i < v->nsteps; i++)
		if (commit_ids[i] &&
		    (rc = step_failure_load(db, id, bench, commit_ids[i],
					    &v->steps[i])) < 0)
			goto fail;
	free(commit_ids);
	*out = v;
	return PB_OK;
fail:
	unprep(db, st);
	free(commit_ids);
	pb_bisection_view_free(v);
	return rc < 0 ? rc : PB_ERROR;
}

static const char *const image_kinds[] = { "elf", "other", "error" };

void pb_image_rows_free(struct pb_image_row *rows, size_t n)
{
	if (!rows)
		return;
	for (size_t i = 0; i < n; i++) {
		free(rows[i].path);
		free(rows[i].digest);
		free(rows[i].note);
	}
	free(rows);
}

int pb_db_images_machines(struct pb_db *db, int64_t bench_id,
			  int (*fn)(void *ctx, const char *machine),
			  void *ctx)
{
	sqlite3_stmt *st;
	int rc, s = SQLITE_DONE;

	if ((rc = prep(db,
		       "SELECT DISTINCT machine FROM build_images WHERE "
		       "benchmark_id = ?1 ORDER BY machine",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, bench_id);
	rc = PB_OK;
	while (rc == PB_OK && (s = sqlite3_step(st)) == SQLITE_ROW)
		rc = fn(ctx, (const char *)sqlite3_column_text(st, 0));
	if (rc == PB_OK && s != SQLITE_DONE)
		rc = db_fail(db, "list image machines");
	unprep(db, st);
	return rc;
}

int pb_db_images_load(struct pb_db *db, int64_t commit_id, int64_t bench_id,
		      const char *machine, struct pb_image_row **out,
		      size_t *n)
{
	struct pb_image_row *rows = NULL, *r;
	sqlite3_stmt *st;
	size_t k = 0, alloc = 0;
	int rc, s;

	*out = NULL;
	*n = 0;
	if ((rc = prep(db,
		       "SELECT path, kind, digest, note FROM build_images "
		       "WHERE commit_id = ?1 AND benchmark_id = ?2 AND "
		       "machine = ?3 ORDER BY path",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, commit_id);
	sqlite3_bind_int64(st, 2, bench_id);
	bind_text(st, 3, machine);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 1);

		if (k == alloc) {
			size_t na = alloc ? 2 * alloc : 8;

			r = realloc(rows, na * sizeof(*r));
			if (!r) {
				rc = pb_error_set("out of memory");
				goto fail;
			}
			rows = r;
			alloc = na;
		}
		r = &rows[k++];
		memset(r, 0, sizeof(*r));
		r->kind = PB_IMAGE_ERROR;
		for (int i = 0; i < 3; i++)
			if (kind && !strcmp(kind, image_kinds[i]))
				r->kind = (enum pb_image_kind)i;
		r->path = col_dup(st, 0);
		r->digest = col_dup(st, 2);
		r->note = col_dup(st, 3);
		if (!r->path || (sqlite3_column_type(st, 2) != SQLITE_NULL &&
				 !r->digest)) {
			rc = pb_error_set("out of memory");
			goto fail;
		}
		if (r->kind == PB_IMAGE_ELF && !r->digest)
			r->kind = PB_IMAGE_ERROR;
	}
	if (s != SQLITE_DONE) {
		rc = db_fail(db, "read build images");
		goto fail;
	}
	unprep(db, st);
	*out = rows;
	*n = k;
	return PB_OK;
fail:
	unprep(db, st);
	pb_image_rows_free(rows, k);
	return rc;
}

int pb_db_image_put(struct pb_db *db, int64_t commit_id, int64_t bench_id,
		    const char *machine, const struct pb_image_row *row)
{
	sqlite3_stmt *st;
	int rc, elf = row->kind == PB_IMAGE_ELF;

	if ((unsigned)row->kind > PB_IMAGE_ERROR || (elf && !row->digest))
		return pb_error_set("a malformed build image row");
	if ((rc = prep(db,
		       "INSERT INTO build_images (commit_id, benchmark_id, "
		       "machine, path, kind, digest, note, created_at) VALUES "
		       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT "
		       "(commit_id, benchmark_id, machine, path) DO UPDATE SET "
		       "kind = excluded.kind, digest = excluded.digest, "
		       "note = excluded.note, created_at = excluded.created_at",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, commit_id);
	sqlite3_bind_int64(st, 2, bench_id);
	bind_text(st, 3, machine);
	bind_text(st, 4, row->path);
	bind_text(st, 5, image_kinds[row->kind]);
	bind_text(st, 6, elf ? row->digest : NULL);
	bind_text(st, 7, row->note);
	sqlite3_bind_double(st, 8, pb_now_real());
	return run_done(db, st, "store build image");
}

int pb_db_images_forget(struct pb_db *db, int64_t commit_id,
			int64_t bench_id, const char *machine)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "DELETE FROM build_images WHERE commit_id = ?1 AND "
		       "benchmark_id = ?2 AND machine = ?3",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, commit_id);
	sqlite3_bind_int64(st, 2, bench_id);
	bind_text(st, 3, machine);
	return run_done(db, st, "forget build images");
}

int pb_db_bisection_ids(struct pb_db *db, int64_t **out, size_t *n)
{
	sqlite3_stmt *st;
	int64_t *ids = NULL, *p;
	size_t k = 0, alloc = 0;
	int rc, s;

	*out = NULL;
	*n = 0;
	if ((rc = prep(db,
		       "SELECT id FROM bisections WHERE kind = 'bisect' ORDER "
		       "BY id DESC",
		       &st)) < 0)
		return rc;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == alloc) {
			alloc = alloc ? alloc * 2 : 16;
			p = realloc(ids, alloc * sizeof(*p));
			if (!p) {
				free(ids);
				unprep(db, st);
				return pb_error_set("out of memory");
			}
			ids = p;
		}
		ids[k++] = sqlite3_column_int64(st, 0);
	}
	if (s != SQLITE_DONE) {
		rc = db_fail(db, "list bisections");
		free(ids);
		unprep(db, st);
		return rc;
	}
	unprep(db, st);
	*out = ids;
	*n = k;
	return PB_OK;
}

/* ---- the service: by name, jobs and leases (schema 0010) ---- */

static int repo_ref(struct pb_db *db, sqlite3_stmt *st,
		    struct pb_repo_ref *out)
{
	int rc, s = sqlite3_step(st);

	if (s == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		col_copy(st, 1, out->name, sizeof(out->name));
		col_copy(st, 2, out->url, sizeof(out->url));
		col_copy(st, 3, out->branch, sizeof(out->branch));
		rc = PB_OK;
	} else {
		rc = s == SQLITE_DONE ? PB_ENOTFOUND : db_fail(db, "read repo");
	}
	unprep(db, st);
	return rc;
}

int pb_db_repo_by_name(struct pb_db *db, const char *name,
		       struct pb_repo_ref *out)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = prep(db,
		       "SELECT id, name, url, branch FROM repositories WHERE "
		       "name = ?1",
		       &st)) < 0)
		return rc;
	bind_text(st, 1, name);
	return repo_ref(db, st, out);
}

int pb_db_repo_by_id(struct pb_db *db, int64_t id, struct pb_repo_ref *out)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = prep(db,
		       "SELECT id, name, url, branch FROM repositories WHERE "
		       "id = ?1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	return repo_ref(db, st, out);
}

static int bench_row(struct pb_db *db, sqlite3_stmt *st,
		     struct pb_bench_row *out)
{
	int s = sqlite3_step(st), rc;

	memset(out, 0, sizeof(*out));
	if (s == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->repo_id = sqlite3_column_int64(st, 1);
		col_copy(st, 2, out->name, sizeof(out->name));
		out->build_cmd = col_dup(st, 3);
		out->run_cmd = col_dup(st, 4);
		out->metric = col_dup(st, 5);
		out->lower_is_better = sqlite3_column_int(st, 6);
		out->timeout_s = sqlite3_column_double(st, 7);
		out->build_timeout_s = sqlite3_column_double(st, 8);
		rc = out->build_cmd && out->run_cmd && out->metric
			     ? PB_OK
			     : pb_error_code(PB_EINFRA, "out of memory");
		if (rc < 0)
			pb_bench_row_release(out);
	} else {
		rc = s == SQLITE_DONE ? PB_ENOTFOUND
				      : db_fail(db, "read benchmark");
	}
	unprep(db, st);
	return rc;
}

#define BENCH_COLS                                                          \
	"SELECT id, repo_id, name, build_cmd, run_cmd, metric, "           \
	"lower_is_better, timeout_s, build_timeout_s FROM benchmarks "

int pb_db_bench_by_name(struct pb_db *db, int64_t repo_id, const char *name,
			struct pb_bench_row *out)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db, BENCH_COLS "WHERE repo_id = ?1 AND name = ?2",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, repo_id);
	bind_text(st, 2, name);
	return bench_row(db, st, out);
}

int pb_db_bench_by_id(struct pb_db *db, int64_t id, struct pb_bench_row *out)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db, BENCH_COLS "WHERE id = ?1", &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	return bench_row(db, st, out);
}

void pb_bench_row_release(struct pb_bench_row *b)
{
	free(b->build_cmd);
	free(b->run_cmd);
	free(b->metric);
	b->build_cmd = b->run_cmd = b->metric = NULL;
}

int pb_db_bisection_commits_put(struct pb_db *db, int64_t id,
				const int64_t *ids, size_t n)
{
	int rc;

	if ((rc = pb_db_begin(db)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st;

		if ((rc = prep(db,
			       "INSERT INTO bisection_commits (bisection_id, idx, "
			       "commit_id) VALUES (?1, ?2, ?3)",
			       &st)) < 0)
			goto fail;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		sqlite3_bind_int64(st, 3, ids[i]);
		if ((rc = run_done(db, st, "store bisection commit")) < 0)
			goto fail;
	}
	return pb_db_commit(db);
fail:
	pb_db_rollback(db);
	return rc;
}

/* Reads int64 column 0 of every row into a malloc'd array. */
static int ids_of(struct pb_db *db, sqlite3_stmt *st, int64_t **out,
		  size_t *n, const char *what)
{
	int64_t *v = NULL;
	size_t k = 0, a = 0;
	int s;

	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == a) {
			size_t na = a ? 2 * a : 16;
			int64_t *nv = realloc(v, na * sizeof(*nv));

			if (!nv) {
				free(v);
				unprep(db, st);
				return pb_error_code(PB_EINFRA, "out of memory");
			}
			v = nv;
			a = na;
		}
		v[k++] = sqlite3_column_int64(st, 0);
	}
	unprep(db, st);
	if (s != SQLITE_DONE) {
		free(v);
		return db_fail(db, what);
	}
	*out = v;
	*n = k;
	return PB_OK;
}

int pb_db_bisection_commits_get(struct pb_db *db, int64_t id, int64_t **ids,
				size_t *n)
{
	sqlite3_stmt *st;
	int rc;

	*ids = NULL;
	*n = 0;
	if ((rc = prep(db,
		       "SELECT commit_id FROM bisection_commits WHERE "
		       "bisection_id = ?1 ORDER BY idx",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = ids_of(db, st, ids, n, "read bisection commits")) < 0)
		return rc;
	return *n ? PB_OK : PB_ENOTFOUND;
}

int pb_db_commit_infos(struct pb_db *db, const int64_t *ids, size_t n,
		       struct pb_commit_info **out)
{
	struct pb_commit_info *list = calloc(n ? n : 1, sizeof(*list));
	int rc = PB_OK;

	*out = NULL;
	if (!list)
		return pb_error_code(PB_EINFRA, "out of memory");
	for (size_t i = 0; i < n && rc == PB_OK; i++) {
		sqlite3_stmt *st;
		int s;

		if ((rc = prep(db,
			       "SELECT sha, subject, author, time FROM commits "
			       "WHERE id = ?1",
			       &st)) < 0)
			break;
		sqlite3_bind_int64(st, 1, ids[i]);
		s = sqlite3_step(st);
		if (s == SQLITE_ROW) {
			col_copy(st, 0, list[i].sha, sizeof(list[i].sha));
			list[i].subject = col_dup(st, 1);
			list[i].author = col_dup(st, 2);
			list[i].time = sqlite3_column_int64(st, 3);
			if (!list[i].subject || !list[i].author)
				rc = pb_error_code(PB_EINFRA, "out of memory");
		} else {
			rc = s == SQLITE_DONE ? PB_ENOTFOUND
					      : db_fail(db, "read commit");
		}
		unprep(db, st);
	}
	if (rc < 0) {
		pb_commit_list_free(list, n);
		return rc;
	}
	*out = list;
	return PB_OK;
}

int pb_db_bisection_row(struct pb_db *db, int64_t id,
			struct pb_bisection_row *out)
{
	sqlite3_stmt *st;
	int rc, s;

	memset(out, 0, sizeof(*out));
	if ((rc = prep(db,
		       "SELECT id, repo_id, benchmark_id, state, "
		       "confidence_asked, seed, max_runs, "
		       "coalesce(min_effect, 0.03), cancelled_at IS NOT NULL, "
		       "kind, machine, machine_from, takeovers "
		       "FROM bisections WHERE id = ?1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->repo_id = sqlite3_column_int64(st, 1);
		out->bench_id = sqlite3_column_int64(st, 2);
		col_copy(st, 3, out->state, sizeof(out->state));
		out->confidence = sqlite3_column_double(st, 4);
		out->seed = (uint64_t)sqlite3_column_int64(st, 5);
		out->max_runs = (unsigned)sqlite3_column_int(st, 6);
		out->min_effect = sqlite3_column_double(st, 7);
		out->cancelled = sqlite3_column_int(st, 8);
		col_copy(st, 9, out->kind, sizeof(out->kind));
		col_copy(st, 10, out->machine, sizeof(out->machine));
		out->machine_from = sqlite3_column_int64(st, 11);
		out->takeovers = (unsigned)sqlite3_column_int(st, 12);
		rc = PB_OK;
	} else {
		rc = s == SQLITE_DONE ? PB_ENOTFOUND
				      : db_fail(db, "read bisection");
	}
	unprep(db, st);
	return rc;
}

int pb_db_bisections_running(struct pb_db *db, int64_t **out, size_t *n)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "SELECT id FROM bisections WHERE state = 'running' AND "
		       "id IN (SELECT bisection_id FROM bisection_commits) "
		       "ORDER BY id",
		       &st)) < 0)
		return rc;
	return ids_of(db, st, out, n, "read running bisections");
}

/* One statement with ?1 bound to an id. */
static int exec_id(struct pb_db *db, const char *sql, int64_t id,
		   const char *what)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db, sql, &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	return run_done(db, st, what);
}

int pb_db_bisection_started_by(struct pb_db *db, int64_t id, const char *who)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db, "UPDATE bisections SET started_by = ?2 WHERE id = ?1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, who);
	return run_done(db, st, "store who started a bisection");
}

int pb_db_bisection_jobs_end(struct pb_db *db, int64_t id)
{
	int rc;

	if ((rc = pb_db_begin(db)) < 0)
		return rc;
	if ((rc = exec_id(db,
			  "UPDATE leases SET state = 'cancelled' WHERE state = "
			  "'active' AND job_id IN (SELECT id FROM jobs WHERE "
			  "bisection_id = ?1)",
			  id, "cancel leases")) < 0 ||
	    (rc = exec_id(db,
			  "UPDATE jobs SET state = 'cancelled', ended_at = "
			  "(julianday('now') - 2440587.5) * 86400.0 WHERE bisection_id = ?1 AND "
			  "state IN ('queued', 'leased')",
			  id, "cancel jobs")) < 0)
		goto fail;
	return pb_db_commit(db);
fail:
	pb_db_rollback(db);
	return rc;
}

int pb_db_bisection_cancel(struct pb_db *db, int64_t id)
{
	struct pb_bisection_row b;
	int rc;

	if ((rc = pb_db_begin(db)) < 0)
		return rc;
	if ((rc = pb_db_bisection_row(db, id, &b)) < 0)
		goto fail;
	if ((rc = exec_id(db,
			  "UPDATE bisections SET cancelled_at = "
			  "coalesce(cancelled_at, (julianday('now') - 2440587.5) * 86400.0) WHERE "
			  "id = ?1",
			  id, "cancel bisection")) < 0 ||
	    (rc = pb_db_bisection_jobs_end(db, id)) < 0)
		goto fail;
	return pb_db_commit(db);
fail:
	pb_db_rollback(db);
	return rc;
}

int pb_db_bisection_infra_fail(struct pb_db *db, int64_t id, const char *why)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = pb_db_begin(db)) < 0)
		return rc;
	if ((rc = prep(db,
		       "UPDATE bisections SET state = 'failed', exit_code = 3, "
		       "infra_error = ?2, outcome = ?2, finished_at = "
		       "(julianday('now') - 2440587.5) * 86400.0 WHERE id = ?1",
		       &st)) < 0)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, why);
	if ((rc = run_done(db, st, "fail bisection")) < 0 ||
	    (rc = pb_db_bisection_jobs_end(db, id)) < 0)
		goto fail;
	return pb_db_commit(db);
fail:
	pb_db_rollback(db);
	return rc;
}

int pb_db_job_create(struct pb_db *db, int64_t bisection_id, const char *kind,
		     const int64_t *ids, size_t n, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = pb_db_begin(db)) < 0)
		return rc;
	if ((rc = prep(db,
		       "INSERT INTO jobs (bisection_id, kind, created_at) VALUES "
		       "(?1, ?2, (julianday('now') - 2440587.5) * 86400.0) RETURNING id",
		       &st)) < 0)
		goto fail;
	sqlite3_bind_int64(st, 1, bisection_id);
	bind_text(st, 2, kind);
	if ((rc = select_id(db, st, out, "create job")) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if ((rc = prep(db,
			       "INSERT INTO job_runs (job_id, idx, commit_id) "
			       "VALUES (?1, ?2, ?3)",
			       &st)) < 0)
			goto fail;
		sqlite3_bind_int64(st, 1, *out);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		sqlite3_bind_int64(st, 3, ids[i]);
		if ((rc = run_done(db, st, "store job run")) < 0)
			goto fail;
	}
	return pb_db_commit(db);
fail:
	pb_db_rollback(db);
	return rc < 0 ? rc : db_fail(db, "create job");
}

int pb_db_job_get(struct pb_db *db, int64_t id, struct pb_job_row *out)
{
	sqlite3_stmt *st;
	int rc, s;
	size_t a = 0;

	memset(out, 0, sizeof(*out));
	if ((rc = prep(db,
		       "SELECT id, coalesce(bisection_id, 0), kind, state, "
		       "expiries, coalesce(merge_id, 0) FROM jobs WHERE id = ?1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	s = sqlite3_step(st);
	if (s != SQLITE_ROW) {
		unprep(db, st);
		return s == SQLITE_DONE ? PB_ENOTFOUND : db_fail(db, "read job");
	}
	out->id = sqlite3_column_int64(st, 0);
	out->bisection_id = sqlite3_column_int64(st, 1);
	col_copy(st, 2, out->kind, sizeof(out->kind));
	col_copy(st, 3, out->state, sizeof(out->state));
	out->expiries = (unsigned)sqlite3_column_int(st, 4);
	out->merge_id = sqlite3_column_int64(st, 5);
	unprep(db, st);
	/* its runs, and whether a counted record of each is stored under
	 * any of the job's leases */
	if ((rc = prep(db,
		       "SELECT jr.commit_id, EXISTS (SELECT 1 FROM runs r JOIN "
		       "leases l ON l.id = r.lease_id WHERE l.job_id = "
		       "jr.job_id AND r.run_index = jr.idx AND r.orphan = 0) "
		       "FROM job_runs jr WHERE jr.job_id = ?1 ORDER BY jr.idx",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (out->nruns == a) {
			size_t na = a ? 2 * a : 8;
			int64_t *ni = realloc(out->commit_ids,
					      na * sizeof(*ni));
			unsigned char *np;

			if (ni)
				out->commit_ids = ni;
			np = ni ? realloc(out->posted, na) : NULL;
			if (!np) {
				unprep(db, st);
				pb_job_row_release(out);
				return pb_error_code(PB_EINFRA, "out of memory");
			}
			out->posted = np;
			a = na;
		}
		out->commit_ids[out->nruns] = sqlite3_column_int64(st, 0);
		out->posted[out->nruns++] = (unsigned char)sqlite3_column_int(st, 1);
	}
	unprep(db, st);
	if (s != SQLITE_DONE) {
		pb_job_row_release(out);
		return db_fail(db, "read job runs");
	}
	return PB_OK;
}

void pb_job_row_release(struct pb_job_row *j)
{
	free(j->commit_ids);
	free(j->posted);
	j->commit_ids = NULL;
	j->posted = NULL;
	j->nruns = 0;
}

int pb_db_job_claim(struct pb_db *db, const char *agent, int64_t *job_id)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "UPDATE jobs SET state = 'leased' WHERE id = "
		       "(SELECT j.id FROM jobs j WHERE j.state = 'queued' AND "
		       "+j.merge_id IS NULL AND NOT EXISTS (SELECT 1 FROM "
		       "job_losers x WHERE x.job_id = j.id AND x.agent = ?1) "
		       "ORDER BY j.created_at, j.id LIMIT 1) RETURNING id",
		       &st)) < 0)
		return rc;
	bind_text(st, 1, agent);
	return select_id(db, st, job_id, "claim job");
}

/* A series' home lives: seen asking for work since ?3, or holding a lease
 * that has not run out at ?4.  HOME names the home's machine column. */
#define HOME_LIVES(HOME)                                                      \
	"(EXISTS (SELECT 1 FROM agents a WHERE a.name = " HOME " AND "       \
	"a.last_seen >= ?3) OR EXISTS (SELECT 1 FROM leases l WHERE "        \
	"l.state = 'active' AND l.expires_at > ?4 AND l.agent = " HOME "))"

int pb_db_merge_job_claim(struct pb_db *db, const char *agent,
			  const struct pb_home_rule *r, int64_t *job_id)
{
	sqlite3_stmt *st;
	int rc;

	/* the newest queued merge job the agent never lost whose series has
	 * no other living home, or whose home lost it, or that waited past
	 * r->waited_before (counted from when it could first be taken: a
	 * job of runs owed again waits its back-off first) */
	if ((rc = prep(db,
		       "UPDATE jobs SET state = 'leased' WHERE id = "
		       "(SELECT j.id FROM jobs j JOIN merges m ON m.id = "
		       "j.merge_id WHERE j.state = 'queued' AND +j.merge_id IS "
		       "NOT NULL AND coalesce(j.not_before, 0) <= ?4 AND NOT "
		       "EXISTS (SELECT 1 FROM job_losers x WHERE x.job_id = "
		       "j.id AND x.agent = ?1) AND (coalesce(j.not_before, "
		       "j.created_at) <= ?2 OR NOT EXISTS (SELECT 1 FROM "
		       "series_homes h WHERE h.repo_id = m.repo_id AND "
		       "h.benchmark_id = m.benchmark_id AND h.config_id = "
		       "m.config_id AND h.machine <> ?1 AND NOT EXISTS (SELECT "
		       "1 FROM job_losers y WHERE y.job_id = j.id AND y.agent = "
		       "h.machine) AND " HOME_LIVES("h.machine") ")) "
		       "ORDER BY j.created_at DESC, j.id DESC LIMIT 1) "
		       "RETURNING id",
		       &st)) < 0)
		return rc;
	bind_text(st, 1, agent);
	sqlite3_bind_double(st, 2, r->waited_before);
	sqlite3_bind_double(st, 3, r->seen_since);
	sqlite3_bind_double(st, 4, r->now);
	if ((rc = select_id(db, st, job_id, "claim merge job")) < 0)
		return rc;
	/* the agent is the series' home from now on when it had none, or
	 * its home is gone */
	if ((rc = prep(db,
		       "INSERT INTO series_homes (repo_id, benchmark_id, "
		       "config_id, machine, since) SELECT m.repo_id, "
		       "m.benchmark_id, m.config_id, ?1, ?4 FROM jobs j JOIN "
		       "merges m ON m.id = j.merge_id WHERE j.id = ?2 ON "
		       "CONFLICT (repo_id, benchmark_id, config_id) DO UPDATE "
		       "SET machine = excluded.machine, since = excluded.since "
		       "WHERE series_homes.machine <> excluded.machine AND NOT "
		       HOME_LIVES("series_homes.machine"),
		       &st)) < 0)
		return rc;
	bind_text(st, 1, agent);
	sqlite3_bind_int64(st, 2, *job_id);
	sqlite3_bind_double(st, 3, r->seen_since);
	sqlite3_bind_double(st, 4, r->now);
	return run_done(db, st, "store series home");
}

int pb_db_job_set_state(struct pb_db *db, int64_t id, const char *state)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "UPDATE jobs SET state = ?2, ended_at = CASE WHEN ?2 IN "
		       "('queued', 'leased') THEN NULL ELSE "
		       "(julianday('now') - 2440587.5) * 86400.0 END WHERE id = ?1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, state);
	return run_done(db, st, "update job");
}

int pb_db_pending_runs(struct pb_db *db, int64_t bisection_id,
		       void (*cb)(void *ctx, int64_t commit_id,
				  const char *agent),
		       void *ctx)
{
	sqlite3_stmt *st;
	int rc, s;

	if ((rc = prep(db,
		       "SELECT jr.commit_id, l.agent FROM jobs j JOIN job_runs "
		       "jr ON jr.job_id = j.id LEFT JOIN leases l ON l.job_id = "
		       "j.id AND l.state = 'active' WHERE j.bisection_id = ?1 "
		       "AND j.state IN ('queued', 'leased') AND NOT EXISTS "
		       "(SELECT 1 FROM runs r JOIN leases m ON m.id = r.lease_id "
		       "WHERE m.job_id = j.id AND r.run_index = jr.idx AND "
		       "r.orphan = 0) ORDER BY j.id, jr.idx",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, bisection_id);
	while ((s = sqlite3_step(st)) == SQLITE_ROW)
		cb(ctx, sqlite3_column_int64(st, 0),
		   (const char *)sqlite3_column_text(st, 1));
	unprep(db, st);
	return s == SQLITE_DONE ? PB_OK : db_fail(db, "read pending runs");
}

static int lease_row(struct pb_db *db, sqlite3_stmt *st,
		     struct pb_lease_row *out)
{
	int s = sqlite3_step(st), rc;

	memset(out, 0, sizeof(*out));
	if (s == SQLITE_ROW) {
		col_copy(st, 0, out->id, sizeof(out->id));
		out->job_id = sqlite3_column_int64(st, 1);
		col_copy(st, 2, out->agent, sizeof(out->agent));
		col_copy(st, 3, out->state, sizeof(out->state));
		out->expires_at = sqlite3_column_double(st, 4);
		rc = PB_OK;
	} else {
		rc = s == SQLITE_DONE ? PB_ENOTFOUND : db_fail(db, "read lease");
	}
	unprep(db, st);
	return rc;
}

#define LEASE_COLS "SELECT id, job_id, agent, state, expires_at FROM leases "

int pb_db_lease_create(struct pb_db *db, const char *id, int64_t job_id,
		       const char *agent, const char *request_id,
		       double expires_at)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "INSERT INTO leases (id, job_id, agent, request_id, "
		       "created_at, expires_at) VALUES (?1, ?2, ?3, ?4, "
		       "(julianday('now') - 2440587.5) * 86400.0, ?5)",
		       &st)) < 0)
		return rc;
	bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, job_id);
	bind_text(st, 3, agent);
	bind_text(st, 4, request_id);
	sqlite3_bind_double(st, 5, expires_at);
	return run_done(db, st, "create lease");
}

int pb_db_lease_get(struct pb_db *db, const char *id, struct pb_lease_row *out)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db, LEASE_COLS "WHERE id = ?1", &st)) < 0)
		return rc;
	bind_text(st, 1, id);
	return lease_row(db, st, out);
}

int pb_db_lease_by_request(struct pb_db *db, const char *agent,
			   const char *request_id, struct pb_lease_row *out)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db, LEASE_COLS "WHERE agent = ?1 AND request_id = ?2",
		       &st)) < 0)
		return rc;
	bind_text(st, 1, agent);
	bind_text(st, 2, request_id);
	return lease_row(db, st, out);
}

int pb_db_lease_extend(struct pb_db *db, const char *id, double expires_at)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "UPDATE leases SET expires_at = max(expires_at, ?2) "
		       "WHERE id = ?1 AND state = 'active'",
		       &st)) < 0)
		return rc;
	bind_text(st, 1, id);
	sqlite3_bind_double(st, 2, expires_at);
	return run_done(db, st, "extend lease");
}

int pb_db_lease_set_state(struct pb_db *db, const char *id, const char *state)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db, "UPDATE leases SET state = ?2 WHERE id = ?1",
		       &st)) < 0)
		return rc;
	bind_text(st, 1, id);
	bind_text(st, 2, state);
	return run_done(db, st, "update lease");
}

int pb_db_leases_expired(struct pb_db *db, double now,
			 struct pb_lease_row **out, size_t *n)
{
	struct pb_lease_row *v = NULL;
	size_t k = 0, a = 0;
	sqlite3_stmt *st;
	int rc, s;

	*out = NULL;
	*n = 0;
	if ((rc = prep(db,
		       LEASE_COLS "WHERE state = 'active' AND expires_at < ?1 "
				  "ORDER BY expires_at",
		       &st)) < 0)
		return rc;
	sqlite3_bind_double(st, 1, now);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == a) {
			size_t na = a ? 2 * a : 8;
			struct pb_lease_row *nv = realloc(v, na * sizeof(*nv));

			if (!nv) {
				free(v);
				unprep(db, st);
				return pb_error_code(PB_EINFRA, "out of memory");
			}
			v = nv;
			a = na;
		}
		memset(&v[k], 0, sizeof(v[k]));
		col_copy(st, 0, v[k].id, sizeof(v[k].id));
		v[k].job_id = sqlite3_column_int64(st, 1);
		col_copy(st, 2, v[k].agent, sizeof(v[k].agent));
		col_copy(st, 3, v[k].state, sizeof(v[k].state));
		v[k].expires_at = sqlite3_column_double(st, 4);
		k++;
	}
	unprep(db, st);
	if (s != SQLITE_DONE) {
		free(v);
		return db_fail(db, "read expired leases");
	}
	*out = v;
	*n = k;
	return PB_OK;
}

int pb_db_job_lost(struct pb_db *db, int64_t job_id, const char *agent,
		   unsigned max_expiries, int *failed)
{
	sqlite3_stmt *st;
	int64_t expiries = 0;
	int rc;

	*failed = 0;
	if ((rc = pb_db_begin(db)) < 0)
		return rc;
	if ((rc = prep(db,
		       "INSERT OR IGNORE INTO job_losers (job_id, agent) VALUES "
		       "(?1, ?2)",
		       &st)) < 0)
		goto fail;
	sqlite3_bind_int64(st, 1, job_id);
	bind_text(st, 2, agent);
	if ((rc = run_done(db, st, "note job loser")) < 0)
		goto fail;
	if ((rc = prep(db,
		       "UPDATE jobs SET expiries = expiries + 1 WHERE id = ?1 "
		       "RETURNING expiries",
		       &st)) < 0)
		goto fail;
	sqlite3_bind_int64(st, 1, job_id);
	if ((rc = select_id(db, st, &expiries, "count expiry")) < 0)
		goto fail;
	*failed = expiries >= (int64_t)max_expiries;
	if ((rc = pb_db_job_set_state(db, job_id,
				      *failed ? "infra_failed" : "queued")) < 0)
		goto fail;
	return pb_db_commit(db);
fail:
	pb_db_rollback(db);
	return rc;
}

int pb_db_run_body_hash(struct pb_db *db, const char *run_id, char out[72])
{
	sqlite3_stmt *st;
	int rc, s;

	out[0] = '\0';
	if ((rc = prep(db, "SELECT body_hash FROM runs WHERE run_id = ?1",
		       &st)) < 0)
		return rc;
	bind_text(st, 1, run_id);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		col_copy(st, 0, out, 72);
		rc = PB_OK;
	} else {
		rc = s == SQLITE_DONE ? PB_ENOTFOUND : db_fail(db, "read run");
	}
	unprep(db, st);
	return rc;
}

int pb_db_run_conflict(struct pb_db *db, const char *run_id, const char *agent,
		       const char *body)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "INSERT INTO run_conflicts (run_id, agent, body, "
		       "received_at) VALUES (?1, ?2, ?3, (julianday('now') - 2440587.5) * 86400.0)",
		       &st)) < 0)
		return rc;
	bind_text(st, 1, run_id);
	bind_text(st, 2, agent);
	bind_text(st, 3, body);
	return run_done(db, st, "store conflicting run");
}

int pb_db_agent_seen(struct pb_db *db, const char *name, const char *facts,
		     double now)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "INSERT INTO agents (name, facts, last_seen) VALUES (?1, "
		       "?2, ?3) ON CONFLICT (name) DO UPDATE SET facts = "
		       "coalesce(excluded.facts, facts), last_seen = "
		       "excluded.last_seen",
		       &st)) < 0)
		return rc;
	bind_text(st, 1, name);
	bind_text(st, 2, facts);
	sqlite3_bind_double(st, 3, now);
	return run_done(db, st, "note agent");
}

/*
 * The service: principals, registered repositories and benchmarks
 * (schema 0009).
 */

static const char *kind_word(enum pb_principal_kind kind)
{
	return kind == PB_PRINCIPAL_AGENT ? "agent" : "client";
}

static const char *a_kind(enum pb_principal_kind kind)
{
	return kind == PB_PRINCIPAL_AGENT ? "an agent" : "a client";
}

/* Runs body in a BEGIN IMMEDIATE transaction: committed when it returns
 * PB_OK, rolled back otherwise. */
#define IN_TRANSACTION(db, rc, body)                                          \
	do {                                                                  \
		if (((rc) = pb_db_begin(db)) < 0)                             \
			break;                                                \
		body;                                                         \
		if ((rc) == PB_OK)                                            \
			(rc) = pb_db_commit(db);                              \
		if ((rc) != PB_OK)                                            \
			pb_db_rollback(db);                                   \
	} while (0)

/* The kind and state of a principal by name: PB_ENOTFOUND when none. */
static int principal_state(struct pb_db *db, const char *name,
			   enum pb_principal_kind *kind, int *revoked)
{
	sqlite3_stmt *st;
	int rc, s;

	if ((rc = prep(db,
		       "SELECT kind, revoked_at IS NOT NULL FROM principals "
		       "WHERE name = ?1",
		       &st)) < 0)
		return rc;
	bind_text(st, 1, name);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);

		*kind = k && !strcmp(k, "agent") ? PB_PRINCIPAL_AGENT
						 : PB_PRINCIPAL_CLIENT;
		*revoked = sqlite3_column_int(st, 1);
		rc = PB_OK;
	} else if (s == SQLITE_DONE) {
		rc = PB_ENOTFOUND;
	} else {
		rc = db_fail(db, "read principal");
	}
	unprep(db, st);
	return rc;
}

static int principal_store(struct pb_db *db, const char *name,
			   enum pb_principal_kind kind, int admin,
			   const unsigned char *hash, int64_t *out)
{
	enum pb_principal_kind have;
	sqlite3_stmt *st;
	int rc, revoked;

	rc = principal_state(db, name, &have, &revoked);
	if (rc == PB_OK && !revoked)
		return pb_error_code(PB_EEXIST,
				     "'%s' exists already (%s with a live "
				     "token): revoke it first, or choose "
				     "another name",
				     name, a_kind(have));
	if (rc == PB_OK && have != kind)
		return pb_error_code(PB_EEXIST,
				     "'%s' was %s (revoked): %s needs "
				     "another name",
				     name, a_kind(have), a_kind(kind));
	if (rc == PB_OK)
		rc = prep(db,
			  "UPDATE principals SET token_hash = ?3, admin = ?4, "
			  "created_at = ?5, revoked_at = NULL WHERE name = ?1 "
			  "AND kind = ?2 RETURNING id",
			  &st);
	else if (rc == PB_ENOTFOUND)
		rc = prep(db,
			  "INSERT INTO principals (name, kind, token_hash, "
			  "admin, created_at) VALUES (?1, ?2, ?3, ?4, ?5) "
			  "RETURNING id",
			  &st);
	if (rc < 0)
		return rc;
	bind_text(st, 1, name);
	bind_text(st, 2, kind_word(kind));
	sqlite3_bind_blob(st, 3, hash, PB_TOKEN_HASH_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 4, admin && kind == PB_PRINCIPAL_CLIENT);
	sqlite3_bind_double(st, 5, pb_now_real());
	rc = select_id(db, st, out, "store principal");
	return rc == PB_ENOTFOUND ? db_fail(db, "store principal") : rc;
}

int pb_db_principal_add(struct pb_db *db, const char *name,
			enum pb_principal_kind kind, int admin,
			const unsigned char hash[PB_TOKEN_HASH_LEN],
			int64_t *out)
{
	int rc;

	if (kind != PB_PRINCIPAL_AGENT && kind != PB_PRINCIPAL_CLIENT)
		return pb_error_code(PB_EINVAL, "a principal is an agent or a "
				     "client");
	IN_TRANSACTION(db, rc,
		       rc = principal_store(db, name, kind, admin, hash, out));
	return rc;
}

static void principal_row(sqlite3_stmt *st, struct pb_principal_row *out)
{
	const void *h;
	const char *k;

	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	col_copy(st, 1, out->name, sizeof(out->name));
	k = (const char *)sqlite3_column_text(st, 2);
	out->kind = k && !strcmp(k, "agent") ? PB_PRINCIPAL_AGENT
					     : PB_PRINCIPAL_CLIENT;
	out->admin = sqlite3_column_int(st, 3);
	h = sqlite3_column_blob(st, 4);
	if (h && sqlite3_column_bytes(st, 4) == PB_TOKEN_HASH_LEN)
		memcpy(out->token_hash, h, PB_TOKEN_HASH_LEN);
	out->created_at = sqlite3_column_double(st, 5);
	out->revoked = sqlite3_column_type(st, 6) != SQLITE_NULL;
	out->revoked_at = col_real(st, 6);
}

#define PRINCIPAL_COLUMNS                                                     \
	"id, name, kind, admin, token_hash, created_at, revoked_at"

int pb_db_principal_by_hash(struct pb_db *db,
			    const unsigned char hash[PB_TOKEN_HASH_LEN],
			    struct pb_principal_row *out)
{
	sqlite3_stmt *st;
	int rc, s;

	if ((rc = prep(db,
		       "SELECT " PRINCIPAL_COLUMNS " FROM principals WHERE "
		       "token_hash = ?1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_blob(st, 1, hash, PB_TOKEN_HASH_LEN, SQLITE_TRANSIENT);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		principal_row(st, out);
		rc = PB_OK;
	} else if (s == SQLITE_DONE) {
		rc = PB_ENOTFOUND;
	} else {
		rc = db_fail(db, "look up token");
	}
	unprep(db, st);
	return rc;
}

static int principal_revoke(struct pb_db *db, const char *name,
			    int *was_revoked)
{
	enum pb_principal_kind kind;
	sqlite3_stmt *st;
	int rc, revoked;

	if ((rc = principal_state(db, name, &kind, &revoked)) < 0) {
		if (rc == PB_ENOTFOUND)
			pb_error_code(rc, "no agent or client is named '%s'",
				      name);
		return rc;
	}
	if (was_revoked)
		*was_revoked = revoked;
	if (revoked)
		return PB_OK;
	if ((rc = prep(db,
		       "UPDATE principals SET revoked_at = ?2 WHERE name = ?1",
		       &st)) < 0)
		return rc;
	bind_text(st, 1, name);
	sqlite3_bind_double(st, 2, pb_now_real());
	return run_done(db, st, "revoke token");
}

int pb_db_principal_revoke(struct pb_db *db, const char *name,
			   int *was_revoked)
{
	int rc;

	IN_TRANSACTION(db, rc, rc = principal_revoke(db, name, was_revoked));
	return rc;
}

int pb_db_principals_each(struct pb_db *db, pb_db_principal_cb cb, void *ctx)
{
	struct pb_principal_row row;
	sqlite3_stmt *st;
	int rc, s;

	if ((rc = prep(db,
		       "SELECT " PRINCIPAL_COLUMNS " FROM principals ORDER BY "
		       "name",
		       &st)) < 0)
		return rc;
	rc = PB_OK;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		principal_row(st, &row);
		if ((rc = cb(ctx, &row)) != 0)
			break;
	}
	if (rc == PB_OK && s != SQLITE_DONE)
		rc = db_fail(db, "list principals");
	unprep(db, st);
	return rc;
}

static int repo_store(struct pb_db *db, const struct pb_repo_def *d,
		      int64_t *out, int *created)
{
	sqlite3_stmt *st;
	int64_t id;
	int rc;

	if ((rc = prep(db, "SELECT id FROM repositories WHERE name = ?1",
		       &st)) < 0)
		return rc;
	bind_text(st, 1, d->name);
	rc = select_id(db, st, &id, "find repository");
	if (rc < 0 && rc != PB_ENOTFOUND)
		return rc;
	if (created)
		*created = rc == PB_ENOTFOUND;
	if ((rc = prep(db,
		       rc == PB_ENOTFOUND
			       ? "INSERT INTO repositories (name, url, branch, "
				 "webhook_secret, notify_url, created_at) "
				 "VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id"
			       : "UPDATE repositories SET url = ?2, branch = "
				 "?3, webhook_secret = ?4, notify_url = ?5 "
				 "WHERE name = ?1 RETURNING id",
		       &st)) < 0)
		return rc;
	bind_text(st, 1, d->name);
	bind_text(st, 2, d->url);
	bind_text(st, 3, d->branch);
	bind_text(st, 4, d->webhook_secret);
	bind_text(st, 5, d->notify_url);
	sqlite3_bind_double(st, 6, pb_now_real());
	rc = select_id(db, st, out, "store repository");
	return rc == PB_ENOTFOUND ? db_fail(db, "store repository") : rc;
}

int pb_db_repo_register(struct pb_db *db, const struct pb_repo_def *def,
			int64_t *out, int *created)
{
	int rc;

	IN_TRANSACTION(db, rc, rc = repo_store(db, def, out, created));
	return rc;
}

/* A malloc'd copy of a text column, NULL for NULL; *fail set when memory
 * runs out. */
static char *col_dup_oom(sqlite3_stmt *st, int i, int *fail)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	char *c;

	if (!t)
		return NULL;
	c = pb_strdup((const char *)t);
	if (!c)
		*fail = 1;
	return c;
}

/* The repository row of a prepared SELECT of REPO_COLS (bound): PB_OK,
 * PB_ENOTFOUND, or an error. */
#define REPO_COLS "SELECT id, name, url, branch, webhook_secret, " \
		  "notify_url, created_at FROM repositories "
static int repo_row(struct pb_db *db, sqlite3_stmt *st, struct pb_repo_row *out)
{
	int rc, s = sqlite3_step(st), oom = 0;

	if (s == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->name = col_dup_oom(st, 1, &oom);
		out->url = col_dup_oom(st, 2, &oom);
		out->branch = col_dup_oom(st, 3, &oom);
		out->webhook_secret = col_dup_oom(st, 4, &oom);
		out->notify_url = col_dup_oom(st, 5, &oom);
		out->created_at = sqlite3_column_double(st, 6);
		rc = PB_OK;
		if (oom) {
			pb_repo_row_release(out);
			rc = pb_error_code(PB_EINFRA, "out of memory");
		}
	} else if (s == SQLITE_DONE) {
		rc = PB_ENOTFOUND;
	} else {
		rc = db_fail(db, "read repository");
	}
	unprep(db, st);
	return rc;
}

int pb_db_repo_get(struct pb_db *db, const char *name,
		   struct pb_repo_row *out)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = prep(db, REPO_COLS "WHERE name = ?1", &st)) < 0)
		return rc;
	bind_text(st, 1, name);
	return repo_row(db, st, out);
}

void pb_repo_row_release(struct pb_repo_row *row)
{
	if (!row)
		return;
	free(row->name);
	free(row->url);
	free(row->branch);
	free(row->webhook_secret);
	free(row->notify_url);
	memset(row, 0, sizeof(*row));
}

int pb_db_benchmark_find(struct pb_db *db, int64_t repo_id, const char *name,
			 int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "SELECT id FROM benchmarks WHERE repo_id = ?1 AND "
		       "name = ?2",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, repo_id);
	bind_text(st, 2, name);
	return select_id(db, st, out, "find benchmark");
}

static int benchmark_store(struct pb_db *db, int64_t repo_id,
			   const struct pb_benchmark_reg *r, int64_t *out,
			   int *created)
{
	const struct pb_benchmark_def *d = &r->def;
	sqlite3_stmt *st;
	int64_t id;
	int rc;

	rc = pb_db_benchmark_find(db, repo_id, d->name, &id);
	if (rc < 0 && rc != PB_ENOTFOUND)
		return rc;
	if (created)
		*created = rc == PB_ENOTFOUND;
	if ((rc = prep(db,
		       "INSERT INTO benchmarks (repo_id, name, build_cmd, "
		       "run_cmd, metric, lower_is_better, timeout_s, "
		       "build_timeout_s, repeats, alert_threshold) VALUES "
		       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
		       "ON CONFLICT (repo_id, name) DO UPDATE SET "
		       "build_cmd = excluded.build_cmd, run_cmd = "
		       "excluded.run_cmd, metric = excluded.metric, "
		       "lower_is_better = excluded.lower_is_better, "
		       "timeout_s = excluded.timeout_s, build_timeout_s = "
		       "excluded.build_timeout_s, repeats = excluded.repeats, "
		       "alert_threshold = excluded.alert_threshold RETURNING id",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, repo_id);
	bind_text(st, 2, d->name);
	bind_text(st, 3, d->build_cmd);
	bind_text(st, 4, d->run_cmd);
	bind_text(st, 5, d->metric);
	sqlite3_bind_int(st, 6, d->lower_is_better ? 1 : 0);
	sqlite3_bind_double(st, 7, d->timeout_s);
	sqlite3_bind_double(st, 8, d->build_timeout_s);
	sqlite3_bind_int64(st, 9, r->repeats);
	bind_real(st, 10, r->alert_threshold);
	rc = select_id(db, st, out, "store benchmark");
	return rc == PB_ENOTFOUND ? db_fail(db, "store benchmark") : rc;
}

int pb_db_benchmark_register(struct pb_db *db, int64_t repo_id,
			     const struct pb_benchmark_reg *reg, int64_t *out,
			     int *created)
{
	int rc;

	IN_TRANSACTION(db, rc,
		       rc = benchmark_store(db, repo_id, reg, out, created));
	return rc;
}

/* ---- notifications: the outbox (schema 0014) ---- */

int pb_db_repo_get_by_id(struct pb_db *db, int64_t id,
			 struct pb_repo_row *out)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = prep(db, REPO_COLS "WHERE id = ?1", &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	return repo_row(db, st, out);
}

int pb_db_outbox_add(struct pb_db *db, const struct pb_outbox_new *m,
		     int64_t *out)
{
	sqlite3_stmt *st;
	int64_t id;
	int rc;

	if ((rc = prep(db,
		       "INSERT INTO outbox (delivery, repo_id, url, event, "
		       "body, next_attempt_at, created_at) VALUES (?1, ?2, "
		       "?3, ?4, ?5, ?6, ?7) RETURNING id",
		       &st)) < 0)
		return rc;
	bind_text(st, 1, m->delivery);
	sqlite3_bind_int64(st, 2, m->repo_id);
	bind_text(st, 3, m->url);
	bind_text(st, 4, m->event);
	sqlite3_bind_blob64(st, 5, m->body, m->body_len, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 6, m->next_attempt_at);
	sqlite3_bind_double(st, 7, m->created_at);
	rc = select_id(db, st, &id, "add a notification");
	if (rc == PB_ENOTFOUND)
		return db_fail(db, "add a notification");
	if (rc == PB_OK && out)
		*out = id;
	return rc;
}

void pb_outbox_row_release(struct pb_outbox_row *m)
{
	if (!m)
		return;
	free(m->delivery);
	free(m->url);
	free(m->event);
	free(m->state);
	free(m->last_error);
	free(m->body);
	memset(m, 0, sizeof(*m));
}

#define OUTBOX_COLUMNS                                                        \
	"id, repo_id, delivery, url, event, state, last_error, body, "        \
	"attempts, last_status, next_attempt_at, created_at"

/* Steps a SELECT of OUTBOX_COLUMNS into out; PB_ENOTFOUND without a row. */
static int outbox_row(struct pb_db *db, sqlite3_stmt *st,
		      struct pb_outbox_row *out)
{
	int s = sqlite3_step(st), rc = PB_OK, oom = 0;

	memset(out, 0, sizeof(*out));
	if (s == SQLITE_ROW) {
		const void *b = sqlite3_column_blob(st, 7);
		int n = sqlite3_column_bytes(st, 7);

		out->id = sqlite3_column_int64(st, 0);
		out->repo_id = sqlite3_column_int64(st, 1);
		out->delivery = col_dup_oom(st, 2, &oom);
		out->url = col_dup_oom(st, 3, &oom);
		out->event = col_dup_oom(st, 4, &oom);
		out->state = col_dup_oom(st, 5, &oom);
		out->last_error = col_dup_oom(st, 6, &oom);
		out->body = malloc((size_t)n + 1);
		if (out->body) {
			if (n > 0)
				memcpy(out->body, b, (size_t)n);
			out->body[n] = '\0';
			out->body_len = (size_t)n;
		}
		out->attempts = (unsigned)sqlite3_column_int(st, 8);
		out->last_status = sqlite3_column_type(st, 9) == SQLITE_NULL
					   ? -1
					   : sqlite3_column_int(st, 9);
		out->next_attempt_at = col_real(st, 10);
		out->created_at = sqlite3_column_double(st, 11);
		if (oom || !out->body || !out->delivery || !out->url ||
		    !out->event || !out->state) {
			pb_outbox_row_release(out);
			rc = pb_error_code(PB_EINFRA, "out of memory");
		}
	} else if (s == SQLITE_DONE) {
		rc = PB_ENOTFOUND;
	} else {
		rc = db_fail(db, "read a notification");
	}
	unprep(db, st);
	return rc;
}

int pb_db_outbox_due(struct pb_db *db, double now, struct pb_outbox_row *out)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = prep(db,
		       "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE state = "
		       "'pending' AND next_attempt_at <= ?1 ORDER BY "
		       "next_attempt_at, id LIMIT 1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_double(st, 1, now);
	return outbox_row(db, st, out);
}

int pb_db_outbox_get(struct pb_db *db, int64_t id, struct pb_outbox_row *out)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = prep(db, "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE id = ?1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	return outbox_row(db, st, out);
}

int pb_db_outbox_attempted(struct pb_db *db, int64_t id,
			   enum pb_outbox_outcome outcome, int status,
			   const char *error, double now,
			   double next_attempt_at)
{
	static const char *const state[] = { "delivered", "pending",
					      "failed" };
	sqlite3_stmt *st;
	int rc;

	if ((unsigned)outcome >= PB_ARRAY_SIZE(state))
		return pb_error_set("bad outbox outcome %d", (int)outcome);
	if ((rc = prep(db,
		       "UPDATE outbox SET attempts = attempts + 1, state = ?2, "
		       "last_attempt_at = ?3, last_status = ?4, last_error = "
		       "?5, next_attempt_at = ?6, delivered_at = CASE WHEN ?2 "
		       "= 'delivered' THEN ?3 END, gave_up_at = CASE WHEN ?2 = "
		       "'failed' THEN ?3 END WHERE id = ?1 AND state = "
		       "'pending'",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, state[outcome]);
	sqlite3_bind_double(st, 3, now);
	bind_count(st, 4, status);
	bind_text(st, 5, error);
	if (outcome == PB_OUTBOX_RETRY)
		sqlite3_bind_double(st, 6, next_attempt_at);
	else
		sqlite3_bind_null(st, 6);
	if ((rc = run_done(db, st, "store a delivery attempt")) < 0)
		return rc;
	return sqlite3_changes(db->h) == 1
		       ? PB_OK
		       : pb_error_code(PB_ENOTFOUND,
				       "no pending notification %lld",
				       (long long)id);
}

int pb_db_bisection_list(struct pb_db *db, size_t max,
			 struct pb_bisection_item **out, size_t *n)
{
	struct pb_bisection_item *v;
	sqlite3_stmt *st;
	size_t k = 0;
	int rc, s;

	*out = NULL;
	*n = 0;
	v = calloc(max ? max : 1, sizeof(*v));
	if (!v)
		return pb_error_code(PB_EINFRA, "out of memory");
	if ((rc = prep(db,
		       "SELECT b.id, CASE WHEN b.cancelled_at IS NOT NULL THEN "
		       "'cancelled' ELSE b.state END, r.name, m.name, "
		       "b.verdict, b.culprit_sha, b.created_at, b.kind FROM "
		       "bisections "
		       "b JOIN repositories r ON r.id = b.repo_id JOIN "
		       "benchmarks m ON m.id = b.benchmark_id ORDER BY b.id "
		       "DESC LIMIT ?1",
		       &st)) < 0) {
		free(v);
		return rc;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
	while (k < max && (s = sqlite3_step(st)) == SQLITE_ROW) {
		v[k].id = sqlite3_column_int64(st, 0);
		col_copy(st, 1, v[k].state, sizeof(v[k].state));
		col_copy(st, 2, v[k].repo, sizeof(v[k].repo));
		col_copy(st, 3, v[k].benchmark, sizeof(v[k].benchmark));
		col_copy(st, 4, v[k].verdict, sizeof(v[k].verdict));
		col_copy(st, 5, v[k].culprit, sizeof(v[k].culprit));
		v[k].started = sqlite3_column_double(st, 6);
		col_copy(st, 7, v[k].kind, sizeof(v[k].kind));
		k++;
	}
	unprep(db, st);
	if (k < max && s != SQLITE_DONE) {
		free(v);
		return db_fail(db, "list bisections");
	}
	*out = v;
	*n = k;
	return PB_OK;
}

/* ---- merges, history and alerts (schema 0012) ---- */

#define NOW_SQL "(julianday('now') - 2440587.5) * 86400.0"

int pb_db_merge_benches(struct pb_db *db, int64_t repo_id,
			struct pb_merge_bench **out, size_t *n)
{
	sqlite3_stmt *st;
	size_t a = 0;
	int rc, s;

	*out = NULL;
	*n = 0;
	if ((rc = prep(db,
		       "SELECT id, coalesce(repeats, 0) FROM benchmarks WHERE "
		       "repo_id = ?1 ORDER BY id",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, repo_id);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == a) {
			size_t na = a ? 2 * a : 8;
			struct pb_merge_bench *nv = realloc(*out, na * sizeof(*nv));

			if (!nv) {
				unprep(db, st);
				free(*out);
				*out = NULL;
				*n = 0;
				return pb_error_code(PB_EINFRA, "out of memory");
			}
			*out = nv;
			a = na;
		}
		(*out)[*n].id = sqlite3_column_int64(st, 0);
		(*out)[(*n)++].repeats = (unsigned)sqlite3_column_int(st, 1);
	}
	unprep(db, st);
	if (s != SQLITE_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return db_fail(db, "list benchmarks");
	}
	return PB_OK;
}

/* A job of merge merge_id: nruns runs of commit_id, claimable from
 * not_before (0: at once), in the caller's transaction. */
static int merge_job_create(struct pb_db *db, int64_t merge_id,
			    int64_t commit_id, unsigned nruns,
			    double not_before, int64_t *job_id)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "INSERT INTO jobs (merge_id, kind, created_at, "
		       "not_before) VALUES (?1, 'merge', " NOW_SQL ", ?2) "
		       "RETURNING id",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, merge_id);
	if (not_before > 0)
		sqlite3_bind_double(st, 2, not_before);
	if ((rc = select_id(db, st, job_id, "create merge job")) < 0)
		return rc;
	for (unsigned i = 0; i < nruns; i++) {
		if ((rc = prep(db,
			       "INSERT INTO job_runs (job_id, idx, commit_id) "
			       "VALUES (?1, ?2, ?3)",
			       &st)) < 0)
			return rc;
		sqlite3_bind_int64(st, 1, *job_id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		sqlite3_bind_int64(st, 3, commit_id);
		if ((rc = run_done(db, st, "store job run")) < 0)
			return rc;
	}
	return PB_OK;
}

int pb_db_merge_add(struct pb_db *db, int64_t repo_id, int64_t commit_id,
		    int64_t bench_id, const char *source, unsigned nruns,
		    int64_t *merge_id, int64_t *job_id)
{
	sqlite3_stmt *st;
	int rc;

	*merge_id = *job_id = 0;
	if ((rc = pb_db_begin(db)) < 0)
		return rc;
	if ((rc = prep(db,
		       "INSERT INTO merges (repo_id, commit_id, benchmark_id, "
		       "source, created_at) VALUES (?1, ?2, ?3, ?4, " NOW_SQL
		       ") ON CONFLICT DO NOTHING RETURNING id",
		       &st)) < 0)
		goto fail;
	sqlite3_bind_int64(st, 1, repo_id);
	sqlite3_bind_int64(st, 2, commit_id);
	sqlite3_bind_int64(st, 3, bench_id);
	bind_text(st, 4, source);
	rc = select_id(db, st, merge_id, "store merge");
	if (rc == PB_ENOTFOUND) { /* measured or queued already */
		*merge_id = 0;
		return pb_db_commit(db);
	}
	if (rc < 0)
		goto fail;
	if ((rc = merge_job_create(db, *merge_id, commit_id, nruns, 0,
				   job_id)) < 0)
		goto fail;
	return pb_db_commit(db);
fail:
	pb_db_rollback(db);
	*merge_id = *job_id = 0;
	return rc < 0 ? rc : db_fail(db, "store merge");
}

int pb_db_merges_supersede(struct pb_db *db, int64_t repo_id,
			   int64_t bench_id, unsigned keep, unsigned *n)
{
	sqlite3_stmt *st;
	int rc;

	*n = 0;
	if ((rc = pb_db_begin(db)) < 0)
		return rc;
	/* the merges of the series whose jobs wait, but the newest `keep` */
	if ((rc = prep(db,
		       "UPDATE merges SET state = 'skipped' WHERE id IN (SELECT "
		       "m.id FROM merges m JOIN jobs j ON j.merge_id = m.id "
		       "WHERE m.repo_id = ?1 AND m.benchmark_id = ?2 AND "
		       "m.state = 'queued' AND j.state = 'queued' ORDER BY "
		       "m.created_at DESC, m.id DESC LIMIT -1 OFFSET ?3)",
		       &st)) < 0)
		goto fail;
	sqlite3_bind_int64(st, 1, repo_id);
	sqlite3_bind_int64(st, 2, bench_id);
	sqlite3_bind_int(st, 3, (int)keep);
	if ((rc = run_done(db, st, "skip merges")) < 0)
		goto fail;
	*n = (unsigned)sqlite3_changes(db->h);
	if ((rc = prep(db,
		       "UPDATE jobs SET state = 'cancelled', ended_at = " NOW_SQL
		       " WHERE state = 'queued' AND merge_id IN (SELECT id FROM "
		       "merges WHERE repo_id = ?1 AND benchmark_id = ?2 AND "
		       "state = 'skipped')",
		       &st)) < 0)
		goto fail;
	sqlite3_bind_int64(st, 1, repo_id);
	sqlite3_bind_int64(st, 2, bench_id);
	if ((rc = run_done(db, st, "cancel skipped merge jobs")) < 0)
		goto fail;
	return pb_db_commit(db);
fail:
	pb_db_rollback(db);
	return rc;
}

int pb_db_merge_get(struct pb_db *db, int64_t id, struct pb_merge_row *out)
{
	sqlite3_stmt *st;
	int rc, s;

	memset(out, 0, sizeof(*out));
	if ((rc = prep(db,
		       "SELECT m.id, m.repo_id, m.commit_id, m.benchmark_id, "
		       "m.config_id, m.state, c.sha FROM merges m JOIN commits c "
		       "ON c.id = m.commit_id WHERE m.id = ?1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->repo_id = sqlite3_column_int64(st, 1);
		out->commit_id = sqlite3_column_int64(st, 2);
		out->bench_id = sqlite3_column_int64(st, 3);
		out->config_id = sqlite3_column_int64(st, 4);
		col_copy(st, 5, out->state, sizeof(out->state));
		col_copy(st, 6, out->sha, sizeof(out->sha));
	}
	unprep(db, st);
	return s == SQLITE_ROW ? PB_OK
	       : s == SQLITE_DONE ? PB_ENOTFOUND : db_fail(db, "read merge");
}

int pb_db_merge_set_state(struct pb_db *db, int64_t id, const char *state)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "UPDATE merges SET state = ?2, measured_at = CASE WHEN "
		       "?2 = 'measured' THEN " NOW_SQL " ELSE measured_at END "
		       "WHERE id = ?1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, state);
	return run_done(db, st, "update merge");
}

int pb_db_merge_tally(struct pb_db *db, int64_t id, unsigned *want,
		       unsigned *clean, unsigned *rounds)
{
	sqlite3_stmt *st;
	int rc, s;

	*want = *clean = *rounds = 0;
	if ((rc = prep(db,
		       "SELECT (SELECT count(*) FROM job_runs WHERE job_id = "
		       "(SELECT min(id) FROM jobs WHERE merge_id = ?1)), "
		       "(SELECT count(*) FROM jobs j JOIN leases l ON l.job_id "
		       "= j.id JOIN runs r ON r.lease_id = l.id WHERE "
		       "j.merge_id = ?1 AND r.orphan = 0 AND r.disturbed = 0), "
		       "busy_rounds FROM merges WHERE id = ?1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		*want = (unsigned)sqlite3_column_int(st, 0);
		*clean = (unsigned)sqlite3_column_int(st, 1);
		*rounds = (unsigned)sqlite3_column_int(st, 2);
	}
	unprep(db, st);
	return s == SQLITE_ROW ? PB_OK
	       : s == SQLITE_DONE ? PB_ENOTFOUND : db_fail(db, "tally merge");
}

int pb_db_merge_again(struct pb_db *db, int64_t id, unsigned nruns,
		      double not_before, int64_t *job_id)
{
	struct pb_merge_row m;
	sqlite3_stmt *st;
	int rc;

	if ((rc = pb_db_merge_get(db, id, &m)) < 0)
		return rc;
	if ((rc = prep(db,
		       "UPDATE merges SET busy_rounds = busy_rounds + 1 WHERE "
		       "id = ?1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = run_done(db, st, "count a busy round")) < 0)
		return rc;
	return merge_job_create(db, id, m.commit_id, nruns, not_before,
				job_id);
}

int pb_db_merge_fail(struct pb_db *db, int64_t id, const char *note)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "UPDATE merges SET state = 'failed', note = ?2 WHERE id "
		       "= ?1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, note);
	return run_done(db, st, "fail merge");
}

static int same_series(const struct pb_series_key *a,
		       const struct pb_series_key *b)
{
	return a->repo_id == b->repo_id && a->bench_id == b->bench_id &&
	       a->config_id == b->config_id;
}

int pb_db_series_unjudged(struct pb_db *db, const struct pb_series_key *skip,
			  size_t nskip, struct pb_series_key *out)
{
	sqlite3_stmt *st;
	int rc, s, found = 0;

	memset(out, 0, sizeof(*out));
	if ((rc = prep(db,
		       "SELECT repo_id, benchmark_id, config_id FROM "
		       "merges WHERE judged = 0 AND state IN ('measured', "
		       "'failed') GROUP BY repo_id, benchmark_id, config_id "
		       "ORDER BY min(id)",
		       &st)) < 0)
		return rc;
	while (!found && (s = sqlite3_step(st)) == SQLITE_ROW) {
		size_t i;

		out->repo_id = sqlite3_column_int64(st, 0);
		out->bench_id = sqlite3_column_int64(st, 1);
		out->config_id = sqlite3_column_int64(st, 2);
		for (i = 0; i < nskip && !same_series(out, &skip[i]); i++)
			;
		found = i == nskip;
	}
	unprep(db, st);
	if (found)
		return PB_OK;
	memset(out, 0, sizeof(*out));
	return s == SQLITE_DONE ? PB_ENOTFOUND
				: db_fail(db, "find merges to judge");
}

int pb_db_series_judged(struct pb_db *db, const struct pb_series_key *k)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "UPDATE merges SET judged = 1 WHERE repo_id = ?1 AND "
		       "benchmark_id = ?2 AND config_id = ?3 AND judged = 0 "
		       "AND state IN ('measured', 'failed')",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, k->repo_id);
	sqlite3_bind_int64(st, 2, k->bench_id);
	sqlite3_bind_int64(st, 3, k->config_id);
	return run_done(db, st, "mark merges judged");
}

int pb_db_series_rejudge_key(struct pb_db *db, const struct pb_series_key *k)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "UPDATE merges SET judged = 0 WHERE id = (SELECT max(id) "
		       "FROM merges WHERE repo_id = ?1 AND benchmark_id = ?2 AND "
		       "config_id = ?3 AND state IN ('measured', 'failed'))",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, k->repo_id);
	sqlite3_bind_int64(st, 2, k->bench_id);
	sqlite3_bind_int64(st, 3, k->config_id);
	return run_done(db, st, "judge the series again");
}

int pb_db_series_runs(struct pb_db *db, const struct pb_series_key *k,
		      int (*cb)(void *ctx, const char *sha,
				const char *machine, double value),
		      void *ctx)
{
	sqlite3_stmt *st;
	int rc, s;

	/* the counted, undisturbed runs of the series' measured merges
	 * (one measured again, or still running, is no point yet) */
	if ((rc = prep(db,
		       "SELECT c.sha, r.machine, r.value FROM merges m JOIN "
		       "jobs j ON j.merge_id = m.id JOIN leases l ON l.job_id = "
		       "j.id JOIN runs r ON r.lease_id = l.id JOIN commits c ON "
		       "c.id = m.commit_id WHERE m.repo_id = ?1 AND "
		       "m.benchmark_id = ?2 AND m.config_id = ?3 AND m.state = "
		       "'measured' AND r.orphan = 0 AND r.status = 'ok' AND "
		       "r.disturbed = 0 AND r.value IS NOT NULL ORDER BY m.id, "
		       "r.started_at, r.id",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, k->repo_id);
	sqlite3_bind_int64(st, 2, k->bench_id);
	sqlite3_bind_int64(st, 3, k->config_id);
	rc = PB_OK;
	while (rc == PB_OK && (s = sqlite3_step(st)) == SQLITE_ROW)
		rc = cb(ctx, (const char *)sqlite3_column_text(st, 0),
			(const char *)sqlite3_column_text(st, 1),
			sqlite3_column_double(st, 2));
	if (rc == PB_OK && s != SQLITE_DONE)
		rc = db_fail(db, "read the series");
	unprep(db, st);
	return rc;
}

static const char alert_cols[] =
	"SELECT a.id, a.repo_id, a.benchmark_id, a.config_id, "
	"coalesce(a.bisection_id, 0), a.good_id, a.bad_id, p.name, b.name, "
	"a.machine, g.sha, x.sha, a.mode, a.state, a.change, a.p_value, "
	"a.before, a.after, a.created_at, coalesce(a.note, ''), "
	"coalesce(s.culprit_sha, ''), coalesce(s.verdict, '') FROM alerts a "
	"JOIN repositories p ON "
	"p.id = a.repo_id JOIN benchmarks b ON b.id = a.benchmark_id JOIN "
	"commits g ON g.id = a.good_id JOIN commits x ON x.id = a.bad_id LEFT "
	"JOIN bisections s ON s.id = a.bisection_id AND s.state = 'done' ";

static int alerts_read(struct pb_db *db, sqlite3_stmt *st,
		       struct pb_alert_row **out, size_t *n)
{
	size_t a = 0;
	int s;

	*out = NULL;
	*n = 0;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct pb_alert_row *r;

		if (*n == a) {
			size_t na = a ? 2 * a : 8;
			struct pb_alert_row *nv = realloc(*out, na * sizeof(*nv));

			if (!nv) {
				unprep(db, st);
				free(*out);
				*out = NULL;
				*n = 0;
				return pb_error_code(PB_EINFRA, "out of memory");
			}
			*out = nv;
			a = na;
		}
		r = &(*out)[(*n)++];
		memset(r, 0, sizeof(*r));
		r->id = sqlite3_column_int64(st, 0);
		r->repo_id = sqlite3_column_int64(st, 1);
		r->bench_id = sqlite3_column_int64(st, 2);
		r->config_id = sqlite3_column_int64(st, 3);
		r->bisection_id = sqlite3_column_int64(st, 4);
		r->good_id = sqlite3_column_int64(st, 5);
		r->bad_id = sqlite3_column_int64(st, 6);
		col_copy(st, 7, r->repo, sizeof(r->repo));
		col_copy(st, 8, r->bench, sizeof(r->bench));
		col_copy(st, 9, r->machine, sizeof(r->machine));
		col_copy(st, 10, r->good, sizeof(r->good));
		col_copy(st, 11, r->bad, sizeof(r->bad));
		col_copy(st, 12, r->mode, sizeof(r->mode));
		col_copy(st, 13, r->state, sizeof(r->state));
		r->change = col_real(st, 14);
		r->p_value = col_real(st, 15);
		r->before = col_real(st, 16);
		r->after = col_real(st, 17);
		r->created_at = col_real(st, 18);
		col_copy(st, 19, r->note, sizeof(r->note));
		col_copy(st, 20, r->culprit, sizeof(r->culprit));
		col_copy(st, 21, r->verdict, sizeof(r->verdict));
	}
	unprep(db, st);
	if (s != SQLITE_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return db_fail(db, "read alerts");
	}
	return PB_OK;
}

int pb_db_alerts(struct pb_db *db, const struct pb_series_key *k,
		 struct pb_alert_row **out, size_t *n)
{
	char sql[sizeof(alert_cols) + 160];
	sqlite3_stmt *st;
	int rc;

	snprintf(sql, sizeof(sql), "%s%s", alert_cols,
		 k ? "WHERE a.repo_id = ?1 AND a.benchmark_id = ?2 AND "
		     "a.config_id = ?3 ORDER BY a.id"
		   : "ORDER BY a.id DESC LIMIT 1000");
	if ((rc = prep(db, sql, &st)) < 0)
		return rc;
	if (k) {
		sqlite3_bind_int64(st, 1, k->repo_id);
		sqlite3_bind_int64(st, 2, k->bench_id);
		sqlite3_bind_int64(st, 3, k->config_id);
	}
	return alerts_read(db, st, out, n);
}

int pb_db_alert_get(struct pb_db *db, int64_t id, struct pb_alert_row *out)
{
	char sql[sizeof(alert_cols) + 32];
	struct pb_alert_row *v = NULL;
	sqlite3_stmt *st;
	size_t n = 0;
	int rc;

	snprintf(sql, sizeof(sql), "%sWHERE a.id = ?1", alert_cols);
	if ((rc = prep(db, sql, &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = alerts_read(db, st, &v, &n)) < 0)
		return rc;
	if (n == 0)
		rc = PB_ENOTFOUND;
	else
		*out = v[0];
	free(v);
	return rc;
}

int pb_db_alert_add(struct pb_db *db, const struct pb_alert_row *a,
		    int64_t *id)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "INSERT INTO alerts (repo_id, benchmark_id, config_id, "
		       "machine, good_id, bad_id, change, p_value, mode, before, "
		       "after, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, "
		       "?5, ?6, ?7, ?8, ?9, ?10, ?11, " NOW_SQL ", " NOW_SQL
		       ") RETURNING id",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, a->repo_id);
	sqlite3_bind_int64(st, 2, a->bench_id);
	sqlite3_bind_int64(st, 3, a->config_id);
	bind_text(st, 4, a->machine);
	sqlite3_bind_int64(st, 5, a->good_id);
	sqlite3_bind_int64(st, 6, a->bad_id);
	bind_real(st, 7, a->change);
	bind_real(st, 8, a->p_value);
	bind_text(st, 9, a->mode);
	bind_real(st, 10, a->before);
	bind_real(st, 11, a->after);
	return select_id(db, st, id, "store alert");
}

int pb_db_alert_set_state(struct pb_db *db, int64_t id, const char *state)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "UPDATE alerts SET state = ?2, updated_at = " NOW_SQL
		       " WHERE id = ?1 RETURNING id",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, state);
	{
		int64_t got;

		return select_id(db, st, &got, "update alert");
	}
}

int pb_db_alert_set_bisection(struct pb_db *db, int64_t id,
			      int64_t bisection_id, const char *note)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = pb_db_begin(db)) < 0)
		return rc;
	/* one bisection per alert: never a second over the first */
	if ((rc = prep(db,
		       "UPDATE alerts SET bisection_id = ?2, note = ?3, "
		       "updated_at = " NOW_SQL " WHERE id = ?1 AND bisection_id "
		       "IS NULL",
		       &st)) < 0)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	bind_id(st, 2, bisection_id);
	bind_text(st, 3, note);
	if ((rc = run_done(db, st, "update alert")) < 0)
		goto fail;
	if (sqlite3_changes(db->h) != 1) {
		rc = pb_error_code(PB_EEXIST, "alert %lld has a bisection "
				   "already", (long long)id);
		goto fail;
	}
	if (bisection_id > 0) {
		if ((rc = prep(db,
			       "UPDATE bisections SET alert_id = ?2 WHERE id = "
			       "?1",
			       &st)) < 0)
			goto fail;
		sqlite3_bind_int64(st, 1, bisection_id);
		sqlite3_bind_int64(st, 2, id);
		if ((rc = run_done(db, st, "mark bisection")) < 0)
			goto fail;
	}
	return pb_db_commit(db);
fail:
	pb_db_rollback(db);
	return rc;
}

int pb_db_auto_bisections_running(struct pb_db *db, int64_t repo_id,
				  unsigned *n)
{
	sqlite3_stmt *st;
	int64_t v = 0;
	int rc;

	*n = 0;
	if ((rc = prep(db,
		       "SELECT count(*) FROM bisections WHERE repo_id = ?1 AND "
		       "alert_id IS NOT NULL AND state IN ('queued', 'running') "
		       "AND cancelled_at IS NULL",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, repo_id);
	rc = select_id(db, st, &v, "count automatic bisections");
	*n = (unsigned)v;
	return rc;
}

int pb_db_delivery_add(struct pb_db *db, const char *source,
		       const char *delivery, int64_t repo_id, int *created)
{
	sqlite3_stmt *st;
	int rc;

	*created = 0;
	if ((rc = prep(db,
		       "INSERT INTO deliveries (source, delivery, repo_id, "
		       "received_at) VALUES (?1, ?2, ?3, " NOW_SQL ") ON "
		       "CONFLICT DO NOTHING",
		       &st)) < 0)
		return rc;
	bind_text(st, 1, source);
	bind_text(st, 2, delivery);
	sqlite3_bind_int64(st, 3, repo_id);
	if ((rc = run_done(db, st, "store delivery")) < 0)
		return rc;
	*created = sqlite3_changes(db->h) > 0;
	return PB_OK;
}

int pb_db_commit_id(struct pb_db *db, int64_t repo_id, const char *sha,
		    int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "SELECT id FROM commits WHERE repo_id = ?1 AND sha = ?2",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, repo_id);
	bind_text(st, 2, sha);
	return select_id(db, st, out, "find commit");
}

int pb_db_bench_alert_threshold(struct pb_db *db, int64_t id, double *out)
{
	sqlite3_stmt *st;
	int rc, s;

	*out = 0.05;
	if ((rc = prep(db,
		       "SELECT alert_threshold FROM benchmarks WHERE id = ?1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*out = sqlite3_column_double(st, 0);
	unprep(db, st);
	return s == SQLITE_ROW ? PB_OK
	       : s == SQLITE_DONE ? PB_ENOTFOUND
				  : db_fail(db, "read benchmark");
}

int pb_db_alert_narrow(struct pb_db *db, const struct pb_alert_row *a)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "UPDATE alerts SET good_id = ?2, bad_id = ?3, change = "
		       "?4, p_value = ?5, before = ?6, after = ?7, machine = ?8, "
		       "updated_at = " NOW_SQL " WHERE id = ?1 AND bisection_id "
		       "IS NULL AND note IS NULL",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, a->id);
	sqlite3_bind_int64(st, 2, a->good_id);
	sqlite3_bind_int64(st, 3, a->bad_id);
	bind_real(st, 4, a->change);
	bind_real(st, 5, a->p_value);
	bind_real(st, 6, a->before);
	bind_real(st, 7, a->after);
	bind_text(st, 8, a->machine);
	return run_done(db, st, "narrow alert");
}

int pb_db_alert_waiting(struct pb_db *db, int64_t alert_id,
			char (**shas)[41], size_t *n)
{
	sqlite3_stmt *st;
	size_t a = 0;
	int rc, s;

	*shas = NULL;
	*n = 0;
	/* merges of its series still to be measured, or measured and not
	 * judged yet */
	if ((rc = prep(db,
		       "SELECT c.sha FROM alerts a JOIN merges m ON m.repo_id = "
		       "a.repo_id AND m.benchmark_id = a.benchmark_id AND "
		       "m.config_id = a.config_id JOIN commits c ON c.id = "
		       "m.commit_id WHERE a.id = ?1 AND (m.state = 'queued' OR "
		       "(m.state = 'measured' AND m.judged = 0))",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, alert_id);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == a) {
			size_t na = a ? 2 * a : 16;
			char (*nv)[41] = realloc(*shas, na * sizeof(*nv));

			if (!nv) {
				unprep(db, st);
				free(*shas);
				*shas = NULL;
				*n = 0;
				return pb_error_code(PB_EINFRA, "out of memory");
			}
			*shas = nv;
			a = na;
		}
		col_copy(st, 0, (*shas)[(*n)++], 41);
	}
	unprep(db, st);
	if (s != SQLITE_DONE) {
		free(*shas);
		*shas = NULL;
		*n = 0;
		return db_fail(db, "read waiting merges");
	}
	return PB_OK;
}

int pb_db_bisection_alert(struct pb_db *db, int64_t id, int64_t *alert)
{
	sqlite3_stmt *st;
	int rc;

	*alert = 0;
	if ((rc = prep(db,
		       "SELECT coalesce(alert_id, 0) FROM bisections WHERE id = "
		       "?1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	return select_id(db, st, alert, "read bisection");
}

int pb_db_series_rejudge(struct pb_db *db, int64_t bisection_id)
{
	sqlite3_stmt *st;
	int rc;

	/* the newest judged merge of the series of the alert that started
	 * the bisection: judged again */
	if ((rc = prep(db,
		       "UPDATE merges SET judged = 0 WHERE id = (SELECT max(m.id) "
		       "FROM bisections b JOIN alerts a ON a.id = b.alert_id JOIN "
		       "merges m ON m.repo_id = a.repo_id AND m.benchmark_id = "
		       "a.benchmark_id AND m.config_id = a.config_id AND m.state "
		       "IN ('measured', 'failed') WHERE b.id = ?1)",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, bisection_id);
	return run_done(db, st, "judge the series again");
}

/* ---- compares (schema 0013) ---- */

int pb_db_bisection_kind(struct pb_db *db, int64_t id, char out[8])
{
	sqlite3_stmt *st;
	int rc, s;

	out[0] = '\0';
	if ((rc = prep(db, "SELECT kind FROM bisections WHERE id = ?1", &st)) <
	    0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		col_copy(st, 0, out, 8);
		rc = PB_OK;
	} else {
		rc = s == SQLITE_DONE ? PB_ENOTFOUND
				      : db_fail(db, "read bisection kind");
	}
	unprep(db, st);
	return rc;
}

int pb_db_compare_mark(struct pb_db *db, int64_t id)
{
	return exec_id(db, "UPDATE bisections SET kind = 'compare' WHERE id = ?1",
		       id, "mark compare");
}

int pb_db_compare_bind(struct pb_db *db, int64_t id, const char *machine)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "UPDATE bisections SET machine = ?2 WHERE id = ?1 AND "
		       "kind = 'compare' AND machine IS NULL",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, machine);
	return run_done(db, st, "bind compare");
}

int pb_db_compare_unbind(struct pb_db *db, int64_t id, unsigned *takeovers)
{
	sqlite3_stmt *st;
	int64_t n = 0;
	int rc;

	if ((rc = prep(db,
		       "UPDATE bisections SET machine = NULL, takeovers = "
		       "takeovers + 1, machine_from = (SELECT coalesce(max(seq), "
		       "0) FROM runs WHERE bisection_id = ?1) WHERE id = ?1 AND "
		       "kind = 'compare' RETURNING takeovers",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = select_id(db, st, &n, "unbind compare");
	if (takeovers)
		*takeovers = (unsigned)n;
	return rc;
}

int pb_db_compare_runs(struct pb_db *db, int64_t id, int64_t from_seq,
		       pb_db_compare_run_cb cb, void *ctx)
{
	sqlite3_stmt *st;
	int rc, s;

	if ((rc = prep(db,
		       "SELECT r.seq, r.commit_id, coalesce(l.job_id, 0), "
		       "coalesce(r.run_index, 0), r.status = 'ok', "
		       "r.disturbed, r.value FROM runs r LEFT JOIN leases l ON "
		       "l.id = r.lease_id WHERE r.bisection_id = ?1 AND "
		       "r.orphan = 0 AND r.seq > ?2 ORDER BY r.seq",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, from_seq);
	rc = PB_OK;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		rc = cb(ctx, sqlite3_column_int64(st, 0),
			sqlite3_column_int64(st, 1),
			sqlite3_column_int64(st, 2), sqlite3_column_int(st, 3),
			sqlite3_column_int(st, 4), sqlite3_column_int(st, 5),
			col_real(st, 6));
		if (rc)
			break;
	}
	if (!rc && s != SQLITE_DONE)
		rc = db_fail(db, "read compare runs");
	unprep(db, st);
	return rc;
}

int pb_db_compare_save(struct pb_db *db, int64_t id,
		       const struct pb_compare_end *e)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "UPDATE bisections SET state = ?2, verdict = ?3, "
		       "outcome = ?4, effect = ?5, effect_lo = ?6, effect_hi = "
		       "?7, p_value = ?8, pairs = ?9, runs = ?10, exit_code = "
		       "?11, finished_at = CASE WHEN ?11 IS NULL THEN NULL ELSE "
		       "coalesce(finished_at, (julianday('now') - 2440587.5) * "
		       "86400.0) END WHERE id = ?1 AND kind = 'compare'",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, e->state);
	bind_text(st, 3, e->verdict);
	bind_text(st, 4, e->outcome);
	bind_real(st, 5, e->effect);
	bind_real(st, 6, e->lo);
	bind_real(st, 7, e->hi);
	bind_real(st, 8, e->p);
	sqlite3_bind_int64(st, 9, e->pairs);
	sqlite3_bind_int64(st, 10, e->runs);
	if (e->exit_code >= 0)
		sqlite3_bind_int(st, 11, e->exit_code);
	else
		sqlite3_bind_null(st, 11);
	return run_done(db, st, "store compare");
}

int pb_db_compare_load(struct pb_db *db, int64_t id,
		       struct pb_compare_view **out)
{
	struct pb_compare_view *v = calloc(1, sizeof(*v));
	sqlite3_stmt *st;
	int rc, s;

	*out = NULL;
	if (!v)
		return pb_error_code(PB_EINFRA, "out of memory");
	if ((rc = prep(db,
		       "SELECT b.id, r.name, m.name, m.metric, "
		       "m.lower_is_better, b.good_sha, b.bad_sha, CASE WHEN "
		       "b.cancelled_at IS NOT NULL THEN 'cancelled' ELSE "
		       "b.state END, b.verdict, b.effect, b.effect_lo, "
		       "b.effect_hi, b.p_value, coalesce(b.min_effect, 0.03), "
		       "coalesce(b.pairs, 0), b.runs, b.machine, b.takeovers, "
		       "b.outcome, coalesce(b.exit_code, -1), b.created_at, "
		       "b.finished_at FROM bisections b JOIN repositories r ON "
		       "r.id = b.repo_id JOIN benchmarks m ON m.id = "
		       "b.benchmark_id WHERE b.id = ?1 AND b.kind = 'compare'",
		       &st)) < 0) {
		free(v);
		return rc;
	}
	sqlite3_bind_int64(st, 1, id);
	s = sqlite3_step(st);
	if (s != SQLITE_ROW) {
		rc = s == SQLITE_DONE ? pb_error_code(PB_ENOTFOUND,
						      "no compare %lld",
						      (long long)id)
				      : db_fail(db, "read compare");
		unprep(db, st);
		free(v);
		return rc;
	}
	v->id = sqlite3_column_int64(st, 0);
	v->repo = col_dup(st, 1);
	v->benchmark = col_dup(st, 2);
	v->metric = col_dup(st, 3);
	v->lower_is_better = sqlite3_column_int(st, 4);
	col_copy(st, 5, v->base, sizeof(v->base));
	col_copy(st, 6, v->head, sizeof(v->head));
	col_copy(st, 7, v->state, sizeof(v->state));
	col_copy(st, 8, v->result, sizeof(v->result));
	v->effect = col_real(st, 9);
	v->lo = col_real(st, 10);
	v->hi = col_real(st, 11);
	v->p = col_real(st, 12);
	v->min_effect = sqlite3_column_double(st, 13);
	v->pairs = (unsigned)sqlite3_column_int(st, 14);
	v->runs = (unsigned)sqlite3_column_int(st, 15);
	col_copy(st, 16, v->machine, sizeof(v->machine));
	v->takeovers = (unsigned)sqlite3_column_int(st, 17);
	v->outcome = col_dup(st, 18);
	v->exit_code = sqlite3_column_int(st, 19);
	v->created_at = col_real(st, 20);
	v->finished_at = col_real(st, 21);
	unprep(db, st);
	if (!v->repo || !v->benchmark || !v->metric) {
		pb_compare_view_free(v);
		return pb_error_code(PB_EINFRA, "out of memory");
	}
	*out = v;
	return PB_OK;
}

/* ---- webhook pushes (schema 0015) ---- */

int pb_db_push_add(struct pb_db *db, int64_t repo_id, const char *source,
		   const char *delivery, const char *head, int forced,
		   double now, int64_t *id)
{
	sqlite3_stmt *st;
	int rc, created = 1;

	*id = 0;
	if ((rc = pb_db_begin(db)) < 0)
		return rc;
	if (delivery)
		rc = pb_db_delivery_add(db, source, delivery, repo_id,
					&created);
	if (rc == PB_OK && created &&
	    (rc = prep(db,
		       "INSERT INTO pushes (repo_id, source, delivery, head, "
		       "forced, next_at, created_at) VALUES (?1, ?2, ?3, ?4, "
		       "?5, ?6, " NOW_SQL ") RETURNING id",
		       &st)) == PB_OK) {
		sqlite3_bind_int64(st, 1, repo_id);
		bind_text(st, 2, source);
		bind_text(st, 3, delivery);
		bind_text(st, 4, head);
		sqlite3_bind_int(st, 5, forced != 0);
		sqlite3_bind_double(st, 6, now);
		rc = select_id(db, st, id, "store push");
		if (rc == PB_ENOTFOUND)
			rc = db_fail(db, "store push");
	}
	if (rc == PB_OK)
		return pb_db_commit(db);
	pb_db_rollback(db);
	return rc;
}

#define PUSH_COLUMNS                                                         \
	"p.id, p.repo_id, r.name, p.source, p.head, p.forced, p.state, "     \
	"p.attempts, p.jobs, p.note, p.created_at, p.done_at"

static int push_row(struct pb_db *db, sqlite3_stmt *st,
		    struct pb_push_row *out)
{
	int s = sqlite3_step(st), rc = PB_OK;

	memset(out, 0, sizeof(*out));
	if (s == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->repo_id = sqlite3_column_int64(st, 1);
		col_copy(st, 2, out->repo, sizeof(out->repo));
		col_copy(st, 3, out->source, sizeof(out->source));
		col_copy(st, 4, out->head, sizeof(out->head));
		out->forced = sqlite3_column_int(st, 5);
		col_copy(st, 6, out->state, sizeof(out->state));
		out->attempts = (unsigned)sqlite3_column_int(st, 7);
		out->jobs = sqlite3_column_type(st, 8) == SQLITE_NULL
				    ? -1
				    : sqlite3_column_int(st, 8);
		col_copy(st, 9, out->note, sizeof(out->note));
		out->created_at = col_real(st, 10);
		out->done_at = col_real(st, 11);
	} else if (s == SQLITE_DONE) {
		rc = PB_ENOTFOUND;
	} else {
		rc = db_fail(db, "read a push");
	}
	unprep(db, st);
	return rc;
}

int pb_db_push_due(struct pb_db *db, double now, struct pb_push_row *out)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "SELECT " PUSH_COLUMNS " FROM pushes p JOIN repositories "
		       "r ON r.id = p.repo_id WHERE p.state = 'queued' AND "
		       "p.next_at <= ?1 ORDER BY p.next_at, p.id LIMIT 1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_double(st, 1, now);
	return push_row(db, st, out);
}

int pb_db_push_get(struct pb_db *db, int64_t id, struct pb_push_row *out)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "SELECT " PUSH_COLUMNS " FROM pushes p JOIN repositories "
		       "r ON r.id = p.repo_id WHERE p.id = ?1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	return push_row(db, st, out);
}

int pb_db_push_set(struct pb_db *db, int64_t id, const char *state,
		   int jobs, const char *note, double next_at)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "UPDATE pushes SET state = ?2, jobs = ?3, note = ?4, "
		       "attempts = attempts + (?2 <> 'scheduled' AND ?2 <> "
		       "'ignored'), next_at = ?5, done_at = CASE WHEN ?2 = "
		       "'queued' THEN NULL ELSE " NOW_SQL " END WHERE id = ?1",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, state);
	bind_count(st, 3, jobs);
	bind_text(st, 4, note);
	sqlite3_bind_double(st, 5, next_at);
	return run_done(db, st, "update push");
}

/* ---- what the report draws (schema 0016) ---- */

int pb_db_verify_pairs_set(struct pb_db *db, int64_t bisection_id,
			   const int64_t *seqs, size_t npairs)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = pb_db_begin(db)) < 0)
		return rc;
	if ((rc = prep(db,
		       "UPDATE runs SET verify_pair = NULL WHERE bisection_id "
		       "= ?1 AND verify_pair IS NOT NULL",
		       &st)) == PB_OK) {
		sqlite3_bind_int64(st, 1, bisection_id);
		rc = run_done(db, st, "clear verification pairs");
	}
	for (size_t j = 0; rc == PB_OK && j < 2 * npairs; j++) {
		if ((rc = prep(db,
			       "UPDATE runs SET verify_pair = ?3 WHERE "
			       "bisection_id = ?1 AND seq = ?2",
			       &st)) < 0)
			break;
		sqlite3_bind_int64(st, 1, bisection_id);
		sqlite3_bind_int64(st, 2, seqs[j]);
		sqlite3_bind_int64(st, 3, (int64_t)(j / 2));
		rc = run_done(db, st, "mark verification pairs");
	}
	if (rc == PB_OK)
		return pb_db_commit(db);
	pb_db_rollback(db);
	return rc;
}

int pb_db_series_positions(struct pb_db *db, const struct pb_series_key *k,
			   const char (*shas)[41], const size_t *pos,
			   size_t n)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = pb_db_begin(db)) < 0)
		return rc;
	if ((rc = prep(db,
		       "UPDATE merges SET line_pos = NULL WHERE repo_id = ?1 "
		       "AND benchmark_id = ?2 AND config_id = ?3 AND line_pos "
		       "IS NOT NULL",
		       &st)) == PB_OK) {
		sqlite3_bind_int64(st, 1, k->repo_id);
		sqlite3_bind_int64(st, 2, k->bench_id);
		sqlite3_bind_int64(st, 3, k->config_id);
		rc = run_done(db, st, "clear line positions");
	}
	for (size_t i = 0; rc == PB_OK && i < n; i++) {
		if ((rc = prep(db,
			       "UPDATE merges SET line_pos = ?5 WHERE repo_id "
			       "= ?1 AND benchmark_id = ?2 AND config_id = ?3 "
			       "AND commit_id = (SELECT id FROM commits WHERE "
			       "repo_id = ?1 AND sha = ?4)",
			       &st)) < 0)
			break;
		sqlite3_bind_int64(st, 1, k->repo_id);
		sqlite3_bind_int64(st, 2, k->bench_id);
		sqlite3_bind_int64(st, 3, k->config_id);
		bind_text(st, 4, shas[i]);
		sqlite3_bind_int64(st, 5, (int64_t)pos[i]);
		rc = run_done(db, st, "store line positions");
	}
	if (rc == PB_OK)
		return pb_db_commit(db);
	pb_db_rollback(db);
	return rc;
}

/* ---- the report's site (web/site.h) ---- */

/* Grows *v (of elements of size sz) to hold one more. */
static void *grow(void *pv, size_t *alloc, size_t n, size_t sz)
{
	void **v = pv;
	size_t na;
	void *nv;

	if (n < *alloc)
		return *v;
	na = *alloc ? 2 * *alloc : 64;
	if (!(nv = realloc(*v, na * sz)))
		return NULL;
	memset((char *)nv + *alloc * sz, 0, (na - *alloc) * sz);
	*v = nv;
	*alloc = na;
	return nv;
}

/* The index of the element with `id` in v (n elements of size sz, each
 * starting with its int64_t id, ascending): PB_SITE_NONE when absent. */
static size_t index_of(const void *v, size_t n, size_t sz, int64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int64_t at = *(const int64_t *)((const char *)v + mid * sz);

		if (at == id)
			return mid;
		if (at < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return PB_SITE_NONE;
}

#define INDEX_OF(arr, n, id) index_of((arr), (n), sizeof(*(arr)), (id))

static size_t machine_of(const struct pb_site *s, const char *name)
{
	size_t lo = 0, hi = s->nmachines;

	while (name && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->machines[mid].name, name);

		if (!c)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return PB_SITE_NONE;
}

#define SITE_OOM() pb_error_code(PB_EINFRA, "out of memory")

static int site_repos(struct pb_db *db, struct pb_site *s)
{
	sqlite3_stmt *st;
	size_t alloc = 0;
	int rc, r;

	if ((rc = prep(db,
		       "SELECT id, name, url, branch FROM repositories ORDER BY "
		       "id",
		       &st)) < 0)
		return rc;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct pb_site_repo *p;

		if (!grow(&s->repos, &alloc, s->nrepos, sizeof(*p))) {
			unprep(db, st);
			return SITE_OOM();
		}
		p = &s->repos[s->nrepos++];
		p->id = sqlite3_column_int64(st, 0);
		p->name = col_dup(st, 1);
		p->url = col_dup(st, 2);
		p->branch = col_dup(st, 3);
	}
	rc = r == SQLITE_DONE ? PB_OK : db_fail(db, "read repositories");
	unprep(db, st);
	return rc;
}

static int site_benches(struct pb_db *db, struct pb_site *s)
{
	sqlite3_stmt *st;
	size_t alloc = 0;
	int rc, r;

	if ((rc = prep(db,
		       "SELECT id, repo_id, name, metric, build_cmd, run_cmd, "
		       "lower_is_better, coalesce(alert_threshold, 0.05) FROM "
		       "benchmarks ORDER BY id",
		       &st)) < 0)
		return rc;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct pb_site_bench *p;

		if (!grow(&s->benches, &alloc, s->nbenches, sizeof(*p))) {
			unprep(db, st);
			return SITE_OOM();
		}
		p = &s->benches[s->nbenches++];
		p->id = sqlite3_column_int64(st, 0);
		p->repo = INDEX_OF(s->repos, s->nrepos,
				   sqlite3_column_int64(st, 1));
		p->name = col_dup(st, 2);
		p->metric = col_dup(st, 3);
		p->build_cmd = col_dup(st, 4);
		p->run_cmd = col_dup(st, 5);
		p->lower_is_better = sqlite3_column_int(st, 6);
		p->alert_threshold = sqlite3_column_double(st, 7);
	}
	rc = r == SQLITE_DONE ? PB_OK : db_fail(db, "read benchmarks");
	unprep(db, st);
	return rc;
}

static int site_commits(struct pb_db *db, struct pb_site *s)
{
	sqlite3_stmt *st;
	size_t alloc = 0;
	int rc, r;

	if ((rc = prep(db,
		       "SELECT id, repo_id, sha, subject, author, time, files "
		       "FROM commits ORDER BY id",
		       &st)) < 0)
		return rc;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct pb_site_commit *p;

		if (!grow(&s->commits, &alloc, s->ncommits, sizeof(*p))) {
			unprep(db, st);
			return SITE_OOM();
		}
		p = &s->commits[s->ncommits++];
		p->id = sqlite3_column_int64(st, 0);
		p->repo = INDEX_OF(s->repos, s->nrepos,
				   sqlite3_column_int64(st, 1));
		col_copy(st, 2, p->sha, sizeof(p->sha));
		p->subject = col_dup(st, 3);
		p->author = col_dup(st, 4);
		p->time = sqlite3_column_int64(st, 5);
		p->files = col_dup(st, 6);
	}
	rc = r == SQLITE_DONE ? PB_OK : db_fail(db, "read commits");
	unprep(db, st);
	return rc;
}

/* Agents, and every machine a run names (--local's own machine), with
 * the facts they last gave. */
static int site_machines(struct pb_db *db, struct pb_site *s)
{
	sqlite3_stmt *st;
	size_t alloc = 0;
	int rc, r;

	if ((rc = prep(db,
		       "SELECT m.name, coalesce(a.facts, (SELECT machine_facts "
		       "FROM runs WHERE machine = m.name AND machine_facts IS "
		       "NOT NULL ORDER BY id DESC LIMIT 1)), a.last_seen, "
		       "(SELECT settings FROM runs WHERE machine = m.name AND "
		       "settings IS NOT NULL ORDER BY id DESC LIMIT 1), (SELECT "
		       "group_concat(x, char(10)) FROM (SELECT p.name || ' / ' "
		       "|| b.name AS x FROM series_homes h JOIN benchmarks b ON "
		       "b.id = h.benchmark_id JOIN repositories p ON p.id = "
		       "h.repo_id WHERE h.machine = m.name ORDER BY p.name, "
		       "b.name, h.config_id)) FROM (SELECT name FROM agents "
		       "UNION SELECT DISTINCT machine FROM runs) m LEFT JOIN "
		       "agents a ON a.name = m.name ORDER BY m.name",
		       &st)) < 0)
		return rc;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct pb_site_machine *p;

		if (!grow(&s->machines, &alloc, s->nmachines, sizeof(*p))) {
			unprep(db, st);
			return SITE_OOM();
		}
		p = &s->machines[s->nmachines++];
		p->name = col_dup(st, 0);
		p->facts = col_dup(st, 1);
		p->last_seen = col_real(st, 2);
		p->settings = col_dup(st, 3);
		p->homes = col_dup(st, 4);
		p->spread = NAN;
	}
	rc = r == SQLITE_DONE ? PB_OK : db_fail(db, "read machines");
	unprep(db, st);
	return rc;
}

#define RUN_PAGE                                                             \
	"(r.status <> 'ok' OR r.disturbed <> 0 OR r.verify_pair IS NOT NULL)"
#define PAGE_COL(c) "CASE WHEN " RUN_PAGE " THEN " c " END"

/* Every run of a bisection or a merge (compares' runs and orphans are not
 * drawn); the whole record only of the runs that get a page of their
 * own: failed, disturbed and verification runs. */
static int site_runs(struct pb_db *db, struct pb_site *s)
{
	sqlite3_stmt *st;
	size_t alloc = 0;
	int rc, r;

	if ((rc = prep(db,
		       "SELECT r.id, coalesce(r.bisection_id, 0), "
		       "r.benchmark_id, r.commit_id, r.machine, "
		       "coalesce(r.seq, -1), coalesce(r.verify_pair, -1), "
		       "r.status = 'ok', r.disturbed, r.timed_out, "
		       "coalesce(r.exit_code, -1), coalesce(r.signal, 0), "
		       "r.value, r.wall_s, r.cpu_s, r.busy_share, r.started_at, "
		       "r.ipc, r.remote_access, coalesce(r.start_node, -1), "
		       "coalesce(r.start_cpu, -1), coalesce(j.merge_id, 0), "
		       RUN_PAGE ", " PAGE_COL("r.failure_reason") ", "
		       PAGE_COL("r.output") ", " PAGE_COL("r.numa") ", "
		       PAGE_COL("r.interference") ", " PAGE_COL("r.counters")
		       ", r.metrics, " PAGE_COL("r.settings")
		       ", " PAGE_COL("r.notes") ", " PAGE_COL("r.run_as")
		       ", r.ipc_note, r.remote_note, coalesce(r.config_id, 0) "
		       "FROM runs r LEFT JOIN "
		       "leases l ON l.id = r.lease_id LEFT JOIN jobs j ON j.id "
		       "= l.job_id LEFT JOIN bisections b ON b.id = "
		       "r.bisection_id WHERE r.orphan = 0 AND (b.kind = "
		       "'bisect' OR j.merge_id IS NOT NULL) "
		       "ORDER BY r.id",
		       &st)) < 0)
		return rc;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct pb_site_run *p;
		int64_t bis = sqlite3_column_int64(st, 1);

		if (!grow(&s->runs, &alloc, s->nruns, sizeof(*p))) {
			unprep(db, st);
			return SITE_OOM();
		}
		p = &s->runs[s->nruns++];
		p->id = sqlite3_column_int64(st, 0);
		/* the bisection's index is set when bisections are loaded:
		 * its id for now */
		p->bisection = bis ? (size_t)bis : PB_SITE_NONE;
		p->bench = INDEX_OF(s->benches, s->nbenches,
				    sqlite3_column_int64(st, 2));
		p->commit = INDEX_OF(s->commits, s->ncommits,
				     sqlite3_column_int64(st, 3));
		p->machine = machine_of(s, (const char *)
					sqlite3_column_text(st, 4));
		p->seq = sqlite3_column_int(st, 5);
		p->pair = sqlite3_column_int(st, 6);
		p->ok = sqlite3_column_int(st, 7);
		p->disturbed = sqlite3_column_int(st, 8);
		p->timed_out = sqlite3_column_int(st, 9);
		p->exit_code = sqlite3_column_int(st, 10);
		p->signal = sqlite3_column_int(st, 11);
		p->value = p->ok ? col_real(st, 12) : NAN;
		p->wall_s = col_real(st, 13);
		p->cpu_s = col_real(st, 14);
		p->busy_share = col_real(st, 15);
		p->started_at = col_real(st, 16);
		p->ipc = col_real(st, 17);
		p->remote_access = col_real(st, 18);
		p->start_node = sqlite3_column_int(st, 19);
		p->start_cpu = sqlite3_column_int(st, 20);
		p->merge = sqlite3_column_int64(st, 21);
		p->role = p->merge ? PB_ROLE_MERGE : PB_ROLE_RUN;
		if (sqlite3_column_int(st, 22)) {
			p->failure_reason = col_dup(st, 23);
			p->output = col_dup(st, 24);
			p->numa = col_dup(st, 25);
			p->interference = col_dup(st, 26);
			p->counters = col_dup(st, 27);
			p->settings = col_dup(st, 29);
			p->notes = col_dup(st, 30);
			p->run_as = col_dup(st, 31);
		}
		p->metrics = col_dup(st, 28);
		p->ipc_note = col_dup(st, 32);
		p->remote_note = col_dup(st, 33);
		p->config_id = sqlite3_column_int64(st, 34);
	}
	rc = r == SQLITE_DONE ? PB_OK : db_fail(db, "read runs");
	unprep(db, st);
	return rc;
}

static int site_bisections(struct pb_db *db, struct pb_site *s)
{
	int64_t *ids = NULL;
	size_t n = 0;
	sqlite3_stmt *st = NULL;
	int rc, r;

	if ((rc = pb_db_bisection_ids(db, &ids, &n)) < 0)
		return rc;
	if (!(s->bisections = calloc(n ? n : 1, sizeof(*s->bisections)))) {
		free(ids);
		return SITE_OOM();
	}
	for (size_t i = 0; i < n; i++) {
		struct pb_site_bisection *b = &s->bisections[i];
		size_t alloc = 0;

		int64_t id = ids[n - 1 - i]; /* ascending */

		b->bench = b->alert = PB_SITE_NONE;
		if ((rc = pb_db_bisection_load(db, id, &b->v)) < 0)
			goto out;
		s->nbisections++;
		if ((rc = prep(db,
			       "SELECT benchmark_id, (SELECT id FROM alerts "
			       "WHERE bisection_id = ?1) FROM bisections WHERE "
			       "id = ?1",
			       &st)) < 0)
			goto out;
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) != SQLITE_ROW) {
			rc = db_fail(db, "read a bisection's benchmark");
			goto out;
		}
		{
			b->bench = INDEX_OF(s->benches, s->nbenches,
					    sqlite3_column_int64(st, 0));
			/* its id until the alerts are loaded */
			if (sqlite3_column_type(st, 1) != SQLITE_NULL)
				b->alert = (size_t)sqlite3_column_int64(st,
									1);
		}
		unprep(db, st);
		if ((rc = prep(db,
			       "SELECT commit_id FROM bisection_commits WHERE "
			       "bisection_id = ?1 ORDER BY idx",
			       &st)) < 0)
			goto out;
		sqlite3_bind_int64(st, 1, id);
		while ((r = sqlite3_step(st)) == SQLITE_ROW) {
			if (!grow(&b->range, &alloc, b->nrange,
				  sizeof(*b->range))) {
				rc = SITE_OOM();
				goto out;
			}
			b->range[b->nrange++] =
				INDEX_OF(s->commits, s->ncommits,
					 sqlite3_column_int64(st, 0));
		}
		if (r != SQLITE_DONE) {
			rc = db_fail(db, "read a bisection's range");
			goto out;
		}
		unprep(db, st);
		st = NULL;
	}
out:
	unprep(db, st);
	free(ids);
	return rc;
}

static int site_alerts(struct pb_db *db, struct pb_site *s)
{
	struct pb_alert_row *v = NULL;
	size_t n = 0;
	int rc;

	{
		char sql[sizeof(alert_cols) + 32];
		sqlite3_stmt *st;

		snprintf(sql, sizeof(sql), "%sORDER BY a.id", alert_cols);
		if ((rc = prep(db, sql, &st)) < 0 ||
		    (rc = alerts_read(db, st, &v, &n)) < 0)
			return rc;
	}
	if (!(s->alerts = calloc(n ? n : 1, sizeof(*s->alerts)))) {
		free(v);
		return SITE_OOM();
	}
	for (size_t i = 0; i < n; i++) {
		struct pb_site_alert *a = &s->alerts[s->nalerts++];

		a->id = v[i].id;
		a->bench = INDEX_OF(s->benches, s->nbenches, v[i].bench_id);
		a->config_id = v[i].config_id;
		a->good = INDEX_OF(s->commits, s->ncommits, v[i].good_id);
		a->bad = INDEX_OF(s->commits, s->ncommits, v[i].bad_id);
		a->bisection = v[i].bisection_id ? (size_t)v[i].bisection_id
						 : PB_SITE_NONE;
		a->machine = machine_of(s, v[i].machine);
		a->change = v[i].change;
		a->p_value = v[i].p_value;
		a->before = v[i].before;
		a->after = v[i].after;
		pb_strlcpy(a->mode, v[i].mode, sizeof(a->mode));
		pb_strlcpy(a->state, v[i].state, sizeof(a->state));
		a->note = v[i].note[0] ? pb_strdup(v[i].note) : NULL;
		a->created_at = v[i].created_at;
	}
	free(v);
	return PB_OK;
}

/* The series: merges on the line, grouped by (benchmark, configuration),
 * in line order. */
static int site_series(struct pb_db *db, struct pb_site *s)
{
	sqlite3_stmt *st;
	size_t alloc = 0, palloc = 0, malloc_ = 0;
	struct pb_site_series *cur = NULL;
	int64_t bench = -1, config = -1;
	int rc, r;

	if ((rc = prep(db,
		       "SELECT benchmark_id, config_id, commit_id, id FROM "
		       "merges WHERE line_pos IS NOT NULL ORDER BY "
		       "benchmark_id, config_id, line_pos",
		       &st)) < 0)
		return rc;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t b = sqlite3_column_int64(st, 0);
		int64_t c = sqlite3_column_int64(st, 1);

		if (!cur || b != bench || c != config) {
			if (!grow(&s->series, &alloc, s->nseries,
				  sizeof(*cur))) {
				unprep(db, st);
				return SITE_OOM();
			}
			cur = &s->series[s->nseries++];
			cur->bench = INDEX_OF(s->benches, s->nbenches, b);
			cur->config_id = c;
			bench = b;
			config = c;
			palloc = malloc_ = 0;
		}
		if (!grow(&cur->points, &palloc, cur->npoints,
			  sizeof(*cur->points)) ||
		    !grow(&cur->merges, &malloc_, cur->npoints,
			  sizeof(*cur->merges))) {
			unprep(db, st);
			return SITE_OOM();
		}
		cur->points[cur->npoints] = INDEX_OF(s->commits, s->ncommits,
						     sqlite3_column_int64(st,
									  2));
		cur->merges[cur->npoints++] = sqlite3_column_int64(st, 3);
	}
	rc = r == SQLITE_DONE ? PB_OK : db_fail(db, "read the series");
	unprep(db, st);
	return rc;
}

/* The merges of each series that have no point in it (site.h's gaps):
 * failed, skipped, or measured again after disturbed runs.  A series
 * with no point at all has no page, and its gaps are left out. */
static int site_gaps(struct pb_db *db, struct pb_site *s)
{
	struct pb_site_series *S = NULL;
	sqlite3_stmt *st;
	size_t alloc = 0;
	int rc, r;

	if ((rc = prep(db,
		       "SELECT benchmark_id, config_id, commit_id, state, "
		       "busy_rounds, note FROM merges WHERE state IN "
		       "('failed', 'skipped') OR (state = 'queued' AND "
		       "busy_rounds > 0) ORDER BY benchmark_id, config_id, id",
		       &st)) < 0)
		return rc;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		size_t b = INDEX_OF(s->benches, s->nbenches,
				    sqlite3_column_int64(st, 0));
		int64_t config = sqlite3_column_int64(st, 1);
		size_t c = INDEX_OF(s->commits, s->ncommits,
				    sqlite3_column_int64(st, 2));
		struct pb_site_gap *g;

		if (!S || S->bench != b || S->config_id != config) {
			S = NULL;
			alloc = 0;
			for (size_t k = 0; k < s->nseries && !S; k++)
				if (s->series[k].bench == b &&
				    s->series[k].config_id == config)
					S = &s->series[k];
		}
		if (!S || c == PB_SITE_NONE)
			continue;
		if (!grow(&S->gaps, &alloc, S->ngaps, sizeof(*g))) {
			unprep(db, st);
			return SITE_OOM();
		}
		g = &S->gaps[S->ngaps++]; /* grow() zeroed it */
		g->commit = c;
		col_copy(st, 3, g->state, sizeof(g->state));
		g->busy_rounds = (unsigned)sqlite3_column_int(st, 4);
		g->note = col_dup(st, 5);
	}
	rc = r == SQLITE_DONE ? PB_OK : db_fail(db, "read the series' gaps");
	unprep(db, st);
	return rc;
}

static size_t bisection_of(const struct pb_site *s, size_t id)
{
	size_t lo = 0, hi = s->nbisections;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		long long at = s->bisections[mid].v->id;

		if (at == (long long)id)
			return mid;
		if (at < (long long)id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return PB_SITE_NONE;
}

/* The ids the loaders kept in index fields (runs' and alerts'
 * bisections, bisections' alerts) become indices; runs are listed with
 * their bisections (by seq) and their series (by point). */
static void site_link(struct pb_site *s)
{
	for (size_t i = 0; i < s->nruns; i++)
		if (s->runs[i].bisection != PB_SITE_NONE)
			s->runs[i].bisection =
				bisection_of(s, s->runs[i].bisection);
	for (size_t i = 0; i < s->nalerts; i++)
		if (s->alerts[i].bisection != PB_SITE_NONE)
			s->alerts[i].bisection =
				bisection_of(s, s->alerts[i].bisection);
	for (size_t i = 0; i < s->nbisections; i++) {
		struct pb_site_bisection *b = &s->bisections[i];

		if (b->alert != PB_SITE_NONE)
			b->alert = INDEX_OF(s->alerts, s->nalerts,
					    (int64_t)b->alert);
	}
}

int pb_db_site_load(struct pb_db *db, struct pb_site *s)
{
	int rc;

	/* one snapshot of the database: a run stored meanwhile is in the
	 * next site, never half in this one */
	if (!db->depth && (rc = exec(db, "BEGIN DEFERRED", "begin")) < 0)
		return rc;
	if ((rc = site_repos(db, s)) == PB_OK &&
	    (rc = site_benches(db, s)) == PB_OK &&
	    (rc = site_commits(db, s)) == PB_OK &&
	    (rc = site_machines(db, s)) == PB_OK &&
	    (rc = site_runs(db, s)) == PB_OK &&
	    (rc = site_bisections(db, s)) == PB_OK &&
	    (rc = site_alerts(db, s)) == PB_OK &&
	    (rc = site_series(db, s)) == PB_OK)
		rc = site_gaps(db, s);
	if (rc == PB_OK)
		site_link(s);
	if (!db->depth)
		(void)exec(db, "COMMIT", "end the read");
	return rc;
}

int pb_db_data_version(struct pb_db *db, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db, "PRAGMA data_version", &st)) < 0)
		return rc;
	rc = select_id(db, st, out, "read data_version");
	return rc == PB_ENOTFOUND ? db_fail(db, "read data_version") : rc;
}

int pb_db_commit_files_set(struct pb_db *db, int64_t repo_id, const char *sha,
			   const char *files)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "UPDATE commits SET files = ?3 WHERE repo_id = ?1 AND "
		       "sha = ?2",
		       &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, repo_id);
	bind_text(st, 2, sha);
	bind_text(st, 3, files ? files : "");
	return run_done(db, st, "store a commit's files");
}

int pb_db_culprit_unlisted(struct pb_db *db, int64_t *repo_id, char sha[41])
{
	sqlite3_stmt *st;
	int rc, s;

	if ((rc = prep(db,
		       "SELECT b.repo_id, b.culprit_sha FROM bisections b JOIN "
		       "commits c ON c.repo_id = b.repo_id AND c.sha = "
		       "b.culprit_sha WHERE b.culprit_sha IS NOT NULL AND "
		       "c.files IS NULL LIMIT 1",
		       &st)) < 0)
		return rc;
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		*repo_id = sqlite3_column_int64(st, 0);
		col_copy(st, 1, sha, 41);
		rc = PB_OK;
	} else {
		rc = s == SQLITE_DONE ? PB_ENOTFOUND
				      : db_fail(db, "find a culprit's files");
	}
	unprep(db, st);
	return rc;
}

int pb_db_site_fingerprint(struct pb_db *db, char *out, size_t size)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prep(db,
		       "SELECT (SELECT coalesce(max(id), 0) || '/' || count(*) "
		       "FROM runs) || '|' || (SELECT coalesce(max(id), 0) || "
		       "'/' || count(*) FROM builds) || '|' || (SELECT count(*) "
		       "|| '/' || coalesce(sum(runs), 0) || '/' || "
		       "coalesce(sum(builds), 0) || '/' || "
		       "coalesce(max(finished_at), 0) || '/' || "
		       "count(finished_at) || '/' || count(culprit_sha) FROM "
		       "bisections) || '|' || (SELECT count(*) || '/' || "
		       "coalesce(max(updated_at), 0) FROM alerts) || '|' || "
		       "(SELECT count(line_pos) || '/' || coalesce(sum(line_pos), "
		       "0) || '/' || coalesce(sum(state = 'failed'), 0) || '/' "
		       "|| coalesce(sum(state = 'skipped'), 0) || '/' || "
		       "coalesce(sum(busy_rounds), 0) FROM merges) || '|' || "
		       "(SELECT count(files) FROM "
		       "commits) || '|' || (SELECT count(*) || '/' || "
		       "coalesce(sum(length(facts)), 0) FROM agents) || '|' || "
		       "(SELECT count(*) || '/' || coalesce(max(since), 0) FROM "
		       "series_homes)",
		       &st)) < 0)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW) {
		col_copy(st, 0, out, size);
		rc = PB_OK;
	} else {
		rc = db_fail(db, "fingerprint the report's data");
	}
	unprep(db, st);
	return rc;
}
