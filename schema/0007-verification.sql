-- 0007-verification: the culprit's verification (DESIGN.md section 6).
--
-- Before a culprit is named, it and its parent run alternately (ABBA) under
-- a sequential test (orchestrator/core/verify.c).  Per bisection, the last
-- verification: the commit it verified, how many it began in all, its
-- complete pairs, the culprit's slowdown against its parent (+0.3: 30 %
-- slower) with its 95 % interval, the test's p-value and whether it
-- confirmed.  All NULL when none ran.  And the --min-effect it was asked
-- (a bisection asked another is another; NULL: from before, 0.03).

ALTER TABLE bisections ADD COLUMN verify_sha TEXT;
ALTER TABLE bisections ADD COLUMN verify_attempts INTEGER;
ALTER TABLE bisections ADD COLUMN verify_pairs INTEGER;
ALTER TABLE bisections ADD COLUMN verify_effect REAL;
ALTER TABLE bisections ADD COLUMN verify_lo REAL;
ALTER TABLE bisections ADD COLUMN verify_hi REAL;
ALTER TABLE bisections ADD COLUMN verify_p REAL;
ALTER TABLE bisections ADD COLUMN verify_confirmed INTEGER;
ALTER TABLE bisections ADD COLUMN min_effect REAL;
