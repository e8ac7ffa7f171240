-- 0001-foundation: repositories, commits, benchmarks, configurations,
-- builds, runs, bisections and their steps.
--
-- Times are seconds since the epoch (REAL).  Measurements that the agent's
-- measurement code fills (hardware counters, NUMA facts, machine facts) are
-- JSON objects in TEXT columns until a later migration gives them tables.

CREATE TABLE repositories (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,  -- --local: the absolute path
	url         TEXT NOT NULL,         -- where agents fetch it from
	branch      TEXT,
	created_at  REAL NOT NULL
);

CREATE TABLE commits (
	id          INTEGER PRIMARY KEY,
	repo_id     INTEGER NOT NULL REFERENCES repositories(id),
	sha         TEXT NOT NULL CHECK (length(sha) = 40),
	subject     TEXT NOT NULL,
	author      TEXT NOT NULL,
	time        INTEGER NOT NULL,
	UNIQUE (repo_id, sha)
);

CREATE TABLE benchmarks (
	id               INTEGER PRIMARY KEY,
	repo_id          INTEGER NOT NULL REFERENCES repositories(id),
	name             TEXT NOT NULL,
	build_cmd        TEXT NOT NULL,
	run_cmd          TEXT NOT NULL,
	metric           TEXT NOT NULL,
	lower_is_better  INTEGER NOT NULL DEFAULT 0 CHECK (lower_is_better IN (0, 1)),
	timeout_s        REAL NOT NULL,
	build_timeout_s  REAL NOT NULL,
	repeats          INTEGER,
	UNIQUE (repo_id, name)
);

CREATE TABLE configurations (
	id        INTEGER PRIMARY KEY,
	name      TEXT NOT NULL UNIQUE,
	settings  TEXT NOT NULL DEFAULT '{}'   -- JSON object: axis -> value
);

-- One build per commit, benchmark and machine: a commit is built once.
CREATE TABLE builds (
	id            INTEGER PRIMARY KEY,
	commit_id     INTEGER NOT NULL REFERENCES commits(id),
	benchmark_id  INTEGER NOT NULL REFERENCES benchmarks(id),
	machine       TEXT NOT NULL,
	status        TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
	reason        TEXT,
	log           TEXT,
	wall_s        REAL,
	created_at    REAL NOT NULL,
	UNIQUE (commit_id, benchmark_id, machine)
);

CREATE TABLE bisections (
	id                INTEGER PRIMARY KEY,
	repo_id           INTEGER NOT NULL REFERENCES repositories(id),
	benchmark_id      INTEGER NOT NULL REFERENCES benchmarks(id),
	config_id         INTEGER REFERENCES configurations(id),
	good_sha          TEXT NOT NULL CHECK (length(good_sha) = 40),
	bad_sha           TEXT NOT NULL CHECK (length(bad_sha) = 40),
	state             TEXT NOT NULL
	                  CHECK (state IN ('queued', 'running', 'done', 'failed')),
	confidence_asked  REAL NOT NULL,
	seed              INTEGER NOT NULL,
	max_runs          INTEGER NOT NULL,
	mode              TEXT CHECK (mode IN ('bimodal', 'shift', 'none')),
	culprit_sha       TEXT,
	range_first_sha   TEXT,
	range_last_sha    TEXT,
	confidence        REAL,
	runs              INTEGER NOT NULL DEFAULT 0,
	builds            INTEGER NOT NULL DEFAULT 0,
	outcome           TEXT,    -- one sentence for a person
	exit_code         INTEGER,
	created_at        REAL NOT NULL,
	finished_at       REAL
);

CREATE TABLE bisection_steps (
	bisection_id   INTEGER NOT NULL REFERENCES bisections(id),
	seq            INTEGER NOT NULL,
	commit_id      INTEGER NOT NULL REFERENCES commits(id),
	verdict        TEXT NOT NULL
	               CHECK (verdict IN ('good', 'bad', 'skip', 'undecided')),
	runs           INTEGER NOT NULL,
	failed_runs    INTEGER NOT NULL,
	median         REAL,
	slow_fraction  REAL,
	ipc            REAL,
	remote_access  REAL,
	start_nodes    TEXT,       -- JSON object: node -> runs started there
	PRIMARY KEY (bisection_id, seq)
);

-- A run record (DESIGN.md section 4).  run_id is chosen by whoever ran it
-- and makes posting a record idempotent.
CREATE TABLE runs (
	id              INTEGER PRIMARY KEY,
	run_id          TEXT NOT NULL UNIQUE,
	bisection_id    INTEGER REFERENCES bisections(id),
	seq             INTEGER,
	commit_id       INTEGER NOT NULL REFERENCES commits(id),
	benchmark_id    INTEGER NOT NULL REFERENCES benchmarks(id),
	config_id       INTEGER REFERENCES configurations(id),
	machine         TEXT NOT NULL,
	status          TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
	failure_reason  TEXT,
	exit_code       INTEGER,
	signal          INTEGER,
	timed_out       INTEGER NOT NULL DEFAULT 0,
	wall_s          REAL,
	value           REAL,
	metrics         TEXT NOT NULL DEFAULT '{}',  -- JSON: every NAME: VALUE
	notes           TEXT,                        -- lines ignored, and why
	counters        TEXT,                        -- JSON: event -> value|state
	numa            TEXT,                        -- JSON: placement, deltas
	machine_facts   TEXT,                        -- JSON
	start_cpu       INTEGER,
	start_node      INTEGER,
	run_as          TEXT,
	output          TEXT,                        -- capped, failed runs only
	started_at      REAL NOT NULL,
	finished_at     REAL NOT NULL
);

CREATE INDEX runs_by_bisection ON runs (bisection_id, seq);
CREATE INDEX runs_by_commit ON runs (commit_id, benchmark_id);
