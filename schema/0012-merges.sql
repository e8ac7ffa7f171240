-- 0012-merges: merges measured for history, webhook deliveries seen, and
-- the alerts the change detector raises (docs/merges.md).
--
-- A merge is one benchmark of a repository to measure on one merged
-- commit, in one configuration (config_id 0: the default, the machine as
-- it is).  (repo, commit, benchmark, configuration) is unique: a merge
-- posted again, or a webhook delivered twice, schedules nothing new.  Its
-- state: queued (its job waits or runs), measured (its runs are in),
-- skipped (newer merges of its series were queued past merge_backlog
-- before it was measured; a bisection measures it when it needs it),
-- failed (its build failed, or its job failed as infrastructure).  judged
-- is set once the change detector has seen its series with it.
CREATE TABLE merges (
	id            INTEGER PRIMARY KEY,
	repo_id       INTEGER NOT NULL REFERENCES repositories(id),
	commit_id     INTEGER NOT NULL REFERENCES commits(id),
	benchmark_id  INTEGER NOT NULL REFERENCES benchmarks(id),
	config_id     INTEGER NOT NULL DEFAULT 0,
	source        TEXT NOT NULL CHECK (source IN ('api', 'github',
	                                              'gitlab')),
	state         TEXT NOT NULL DEFAULT 'queued'
	              CHECK (state IN ('queued', 'measured', 'skipped',
	                               'failed')),
	judged        INTEGER NOT NULL DEFAULT 0,
	created_at    REAL NOT NULL,
	measured_at   REAL,
	UNIQUE (repo_id, commit_id, benchmark_id, config_id)
);
CREATE INDEX merges_unjudged ON merges (id) WHERE judged = 0
	AND state IN ('measured', 'failed');

-- Webhook deliveries already taken (X-GitHub-Delivery; GitLab has no
-- delivery id, its pushes are idempotent through merges alone).
CREATE TABLE deliveries (
	source       TEXT NOT NULL,
	delivery     TEXT NOT NULL,
	repo_id      INTEGER NOT NULL REFERENCES repositories(id),
	received_at  REAL NOT NULL,
	PRIMARY KEY (source, delivery)
);

-- A change the detector found in a series (repository, benchmark,
-- configuration) as measured on one machine: good and bad are the two
-- measured commits around it on the branch's first-parent line.  change
-- is the relative change of the mean metric in the benchmark's better-is
-- direction (-0.3: 30 % worse); mode 'shift' or 'bimodal' (the series on
-- which the change was found was the slow share of the runs).  One alert
-- per change: a later judgement that finds a change between the same
-- measured neighbours, or inside an alert's good..bad, raises nothing.
CREATE TABLE alerts (
	id            INTEGER PRIMARY KEY,
	repo_id       INTEGER NOT NULL REFERENCES repositories(id),
	benchmark_id  INTEGER NOT NULL REFERENCES benchmarks(id),
	config_id     INTEGER NOT NULL DEFAULT 0,
	machine       TEXT NOT NULL,
	good_id       INTEGER NOT NULL REFERENCES commits(id),
	bad_id        INTEGER NOT NULL REFERENCES commits(id),
	change        REAL NOT NULL,
	p_value       REAL,
	mode          TEXT NOT NULL CHECK (mode IN ('shift', 'bimodal')),
	before        REAL,
	after         REAL,
	state         TEXT NOT NULL DEFAULT 'open'
	              CHECK (state IN ('open', 'acknowledged', 'fixed')),
	bisection_id  INTEGER REFERENCES bisections(id),
	note          TEXT,     -- why no bisection started, when none did
	created_at    REAL NOT NULL,
	updated_at    REAL NOT NULL
);
CREATE INDEX alerts_by_series ON alerts (repo_id, benchmark_id, config_id);

-- Jobs now measure merges too: a job belongs to a bisection or to a merge.
-- SQLite cannot relax a NOT NULL column in place: the table is rebuilt,
-- ids kept (db.c runs every migration with foreign keys off and checks
-- them before it commits).
CREATE TABLE jobs_new (
	id            INTEGER PRIMARY KEY,
	bisection_id  INTEGER REFERENCES bisections(id),
	merge_id      INTEGER REFERENCES merges(id),
	kind          TEXT NOT NULL CHECK (kind IN ('runs', 'pair', 'merge')),
	state         TEXT NOT NULL DEFAULT 'queued'
	              CHECK (state IN ('queued', 'leased', 'done', 'cancelled',
	                               'infra_failed')),
	expiries      INTEGER NOT NULL DEFAULT 0,
	created_at    REAL NOT NULL,
	ended_at      REAL,
	CHECK ((bisection_id IS NULL) <> (merge_id IS NULL))
);
INSERT INTO jobs_new (id, bisection_id, kind, state, expiries, created_at,
                      ended_at)
	SELECT id, bisection_id, kind, state, expiries, created_at, ended_at
	FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_queued ON jobs (created_at) WHERE state = 'queued';
CREATE INDEX jobs_by_bisection ON jobs (bisection_id, state);
CREATE INDEX jobs_by_merge ON jobs (merge_id);

-- Bisections an alert started.
ALTER TABLE bisections ADD COLUMN alert_id INTEGER REFERENCES alerts(id);
