-- 0010-scheduling: jobs handed to agents, their leases, and run records
-- that did not count (docs/agent-protocol.md).
--
-- A job is what one agent does without asking again: runs of one commit,
-- or a verification pair sequence (parent and culprit interleaved on one
-- machine).  Its runs are rows of job_runs, in order.  A job is queued,
-- leased (one active lease), done, cancelled, or infra_failed after
-- max_lease_expiries expiries.  A job never goes back to an agent that
-- lost it (job_losers).
--
-- A lease is a job held by one agent until expires_at; its id is the
-- fencing token every call about the job carries.  request_id makes a
-- retried lease request get the same lease back.
--
-- A run record's run_id is LEASE:INDEX.  Records posted on a lease that
-- expired are kept with orphan = 1 and never counted (never replayed);
-- a repeat whose contents differ from the stored record is kept in
-- run_conflicts for audit.
--
-- Bisections started over HTTP: who started them, when a cancel was
-- asked (state 'cancelled' in the API), and the infrastructure failure
-- that ended one.  Agents: the facts they last sent, and when.

CREATE TABLE jobs (
	id            INTEGER PRIMARY KEY,
	bisection_id  INTEGER NOT NULL REFERENCES bisections(id),
	kind          TEXT NOT NULL CHECK (kind IN ('runs', 'pair')),
	state         TEXT NOT NULL DEFAULT 'queued'
	              CHECK (state IN ('queued', 'leased', 'done', 'cancelled',
	                               'infra_failed')),
	expiries      INTEGER NOT NULL DEFAULT 0,
	created_at    REAL NOT NULL,
	ended_at      REAL
);
CREATE INDEX jobs_queued ON jobs (created_at) WHERE state = 'queued';
CREATE INDEX jobs_by_bisection ON jobs (bisection_id, state);

CREATE TABLE job_runs (
	job_id     INTEGER NOT NULL REFERENCES jobs(id),
	idx        INTEGER NOT NULL,
	commit_id  INTEGER NOT NULL REFERENCES commits(id),
	PRIMARY KEY (job_id, idx)
);

CREATE TABLE job_losers (
	job_id  INTEGER NOT NULL REFERENCES jobs(id),
	agent   TEXT NOT NULL,
	PRIMARY KEY (job_id, agent)
);

CREATE TABLE leases (
	id          TEXT PRIMARY KEY,
	job_id      INTEGER NOT NULL REFERENCES jobs(id),
	agent       TEXT NOT NULL,
	request_id  TEXT NOT NULL,
	state       TEXT NOT NULL DEFAULT 'active'
	            CHECK (state IN ('active', 'expired', 'done', 'cancelled')),
	created_at  REAL NOT NULL,
	expires_at  REAL NOT NULL,
	UNIQUE (agent, request_id)
);
CREATE INDEX leases_active ON leases (expires_at) WHERE state = 'active';

ALTER TABLE runs ADD COLUMN lease_id TEXT REFERENCES leases(id);
ALTER TABLE runs ADD COLUMN run_index INTEGER;
ALTER TABLE runs ADD COLUMN orphan INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN body_hash TEXT;  -- SHA-256 of the posted body

-- The commits of a bisection started over HTTP, oldest first: its range
-- as resolved when it started, whatever the branch does later.
CREATE TABLE bisection_commits (
	bisection_id  INTEGER NOT NULL REFERENCES bisections(id),
	idx           INTEGER NOT NULL,
	commit_id     INTEGER NOT NULL REFERENCES commits(id),
	PRIMARY KEY (bisection_id, idx)
);

CREATE TABLE run_conflicts (
	id           INTEGER PRIMARY KEY,
	run_id       TEXT NOT NULL,
	agent        TEXT NOT NULL,
	body         TEXT NOT NULL,
	received_at  REAL NOT NULL
);

ALTER TABLE bisections ADD COLUMN started_by TEXT;
ALTER TABLE bisections ADD COLUMN cancelled_at REAL;
ALTER TABLE bisections ADD COLUMN infra_error TEXT;

CREATE TABLE agents (
	name        TEXT PRIMARY KEY,
	facts       TEXT,
	last_seen   REAL NOT NULL
);
