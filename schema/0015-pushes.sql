-- 0015-pushes: webhook pushes taken and not yet scheduled (docs/merges.md).
--
-- A verified push to the tracked branch is stored here and answered 202 at
-- once; fetching the repository and queueing the merge's jobs happen in
-- perfbisectd's judging thread, so a hook never waits on a remote fetch.
-- Its delivery id (deliveries, 0012) is recorded in the same transaction:
-- a replayed delivery finds it and stores nothing.  state: queued (not yet
-- scheduled; attempts counts fetches that failed, next_at is when it is
-- tried again), scheduled (jobs: the merge jobs it queued, 0 when every
-- benchmark was measured there already), ignored (the head is not on the
-- branch's first-parent line, e.g. a late delivery after a forced push;
-- note says why), failed (the fetch failed past its attempts; note).
CREATE TABLE pushes (
	id          INTEGER PRIMARY KEY,
	repo_id     INTEGER NOT NULL REFERENCES repositories(id),
	source      TEXT NOT NULL CHECK (source IN ('github', 'gitlab')),
	delivery    TEXT,
	head        TEXT NOT NULL,
	forced      INTEGER NOT NULL DEFAULT 0,
	state       TEXT NOT NULL DEFAULT 'queued'
	            CHECK (state IN ('queued', 'scheduled', 'ignored',
	                             'failed')),
	attempts    INTEGER NOT NULL DEFAULT 0,
	next_at     REAL NOT NULL,
	jobs        INTEGER,
	note        TEXT,
	created_at  REAL NOT NULL,
	done_at     REAL
);
CREATE INDEX pushes_queued ON pushes (next_at) WHERE state = 'queued';
