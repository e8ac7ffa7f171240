-- 0017-series-homes: the machine that measures a series' merges, and
-- merges measured again when other work disturbed their runs
-- (docs/merges.md, "Where merges are measured", "Disturbed merges").
--
-- A series (repository, benchmark, configuration) is judged machine by
-- machine, so merges spread over several machines leave each with too few
-- commits on a side of a change to see it.  The first agent that takes a
-- merge job of a series becomes its home; other agents leave the series'
-- merge jobs to it while it lives (seen asking for work within a long
-- poll and 2 lease times, or holding an active lease), unless it lost that
-- job or the job waited longer than merge_home_wait_s.  A home that is gone
-- is replaced by the next agent that takes one of the series' merge jobs.
CREATE TABLE series_homes (
	repo_id       INTEGER NOT NULL REFERENCES repositories(id),
	benchmark_id  INTEGER NOT NULL REFERENCES benchmarks(id),
	config_id     INTEGER NOT NULL DEFAULT 0,
	machine       TEXT NOT NULL,
	since         REAL NOT NULL,
	PRIMARY KEY (repo_id, benchmark_id, config_id)
);

-- A merge's runs taken while other work held the machine (disturbed) are
-- owed again: once its job is over, a merge with fewer undisturbed runs
-- than its first job had gets a job of the missing runs, claimable from
-- jobs.not_before (a back-off that doubles each round: busy_rounds); past
-- the bound it fails, merges.note saying why.  Only measured merges are
-- points of a series.
ALTER TABLE jobs ADD COLUMN not_before REAL;
ALTER TABLE merges ADD COLUMN busy_rounds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE merges ADD COLUMN note TEXT;
