-- 0004-interference: what other work did while a run ran, and the verdict.
--
-- Per run: its own CPU time (rusage), the share of the machine other
-- user-space work used meanwhile (busy_share), whether that made it
-- disturbed (stored and shown, never counted as evidence), and the whole
-- interference record as JSON (others' CPU time, steal, PSI or why not).
-- Per tested commit: how many of its runs were disturbed and their median
-- busy share.  Per bisection: the verdict word of DESIGN.md's outcome
-- table (culprit, range, no_regression, inconclusive, budget), NULL while
-- running or after an exit-2/3 failure.

ALTER TABLE runs ADD COLUMN cpu_s REAL;
ALTER TABLE runs ADD COLUMN busy_share REAL;
ALTER TABLE runs ADD COLUMN disturbed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN interference TEXT;

ALTER TABLE bisection_steps ADD COLUMN disturbed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bisection_steps ADD COLUMN interference REAL;

ALTER TABLE bisections ADD COLUMN verdict TEXT;
