-- 0009-tokens: who may call perfbisectd, and what a service registers.
--
-- A principal is an agent (a benchmark machine) or a client (CI, a
-- person); a client with admin = 1 may register repositories and
-- benchmarks, whose commands run on agents.  The token itself is shown
-- once, when it is made, and never stored: only its SHA-256 digest (32
-- bytes), under a unique index for the lookup.  A revoked principal keeps
-- its row (the name stays taken by that kind, so its runs and history keep
-- their meaning); adding the same name again gives it a new token.
--
-- Repositories registered through the API carry their webhook secret and
-- where to announce alerts; benchmarks their runs per commit (repeats,
-- already in 0001) and the smallest slowdown that raises an alert.

CREATE TABLE principals (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,
	kind        TEXT NOT NULL CHECK (kind IN ('agent', 'client')),
	admin       INTEGER NOT NULL DEFAULT 0
	            CHECK (admin IN (0, 1) AND (admin = 0 OR kind = 'client')),
	token_hash  BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
	created_at  REAL NOT NULL,
	revoked_at  REAL
);

ALTER TABLE repositories ADD COLUMN webhook_secret TEXT;
ALTER TABLE repositories ADD COLUMN notify_url TEXT;

ALTER TABLE benchmarks ADD COLUMN alert_threshold REAL
	CHECK (alert_threshold IS NULL OR
	       (alert_threshold > 0 AND alert_threshold < 1));
