-- 0002-statistics: what the statistical engine says about a bisection.
--
-- Per tested commit: its runs classified fast or slow, and the posterior
-- probability that it is bad.  Per bisection: the culprit's 95 % credible
-- interval, the raw evidence at the culprit and its parent, and the model
-- the runs were judged with (mode centres, separation, slow fractions,
-- Hartigan's dip and the rank tests between the good and the bad side).
-- NULL means "not computed" (for example before the search started).

ALTER TABLE bisection_steps ADD COLUMN slow INTEGER;
ALTER TABLE bisection_steps ADD COLUMN fast INTEGER;
ALTER TABLE bisection_steps ADD COLUMN p_bad REAL;

ALTER TABLE bisections ADD COLUMN ci_first_sha TEXT;
ALTER TABLE bisections ADD COLUMN ci_last_sha TEXT;
ALTER TABLE bisections ADD COLUMN culprit_slow INTEGER;
ALTER TABLE bisections ADD COLUMN culprit_fast INTEGER;
ALTER TABLE bisections ADD COLUMN parent_slow INTEGER;
ALTER TABLE bisections ADD COLUMN parent_fast INTEGER;
ALTER TABLE bisections ADD COLUMN fast_mode REAL;
ALTER TABLE bisections ADD COLUMN slow_mode REAL;
ALTER TABLE bisections ADD COLUMN ashman_d REAL;
ALTER TABLE bisections ADD COLUMN q0 REAL;
ALTER TABLE bisections ADD COLUMN q1 REAL;
ALTER TABLE bisections ADD COLUMN dip_p REAL;
ALTER TABLE bisections ADD COLUMN good_bimodal INTEGER;
ALTER TABLE bisections ADD COLUMN good_dip_p REAL;
ALTER TABLE bisections ADD COLUMN mwu_p REAL;
ALTER TABLE bisections ADD COLUMN ks_p REAL;
