-- 0013-compare: pull-request checks (`perfbisect compare`, POST
-- /api/v1/compare) as rows of bisections of another kind.
--
-- A compare's base and head are good_sha and bad_sha, its two commits
-- bisection_commits 0 and 1, its runs rows of runs like a bisection's, so
-- the scheduler, leases, cancel and the restart replay serve both.  It
-- runs on one agent only (machine): the first that asks for its work.
-- When that agent's lease expires (or it asks for none of the compare's
-- work for a lease's time while others ask) the compare is free again and starts
-- from scratch on whichever agent asks next: only its runs with seq above
-- machine_from count (the earlier ones are kept, never counted);
-- takeovers counts how often that happened (after max_lease_expiries it
-- fails as an infrastructure failure).  The answer: verdict holds the
-- result word (slower, faster, no_difference, inconclusive), effect and
-- its 95 % interval head against base in the better-is direction (-0.3:
-- 30 % worse), pairs the complete pairs judged, p_value the two-sided
-- p-value of the sequential test.

ALTER TABLE bisections ADD COLUMN kind TEXT NOT NULL DEFAULT 'bisect'
	CHECK (kind IN ('bisect', 'compare'));
ALTER TABLE bisections ADD COLUMN machine TEXT;
ALTER TABLE bisections ADD COLUMN machine_from INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bisections ADD COLUMN takeovers INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bisections ADD COLUMN effect REAL;
ALTER TABLE bisections ADD COLUMN effect_lo REAL;
ALTER TABLE bisections ADD COLUMN effect_hi REAL;
ALTER TABLE bisections ADD COLUMN pairs INTEGER;
ALTER TABLE bisections ADD COLUMN p_value REAL;
