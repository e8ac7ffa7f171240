-- 0008-verification-counters: whether IPC and remote accesses moved with
-- the metric in the culprit's verification (DESIGN.md section 6).
--
-- Measured in the verification's own pairs (culprit run and the parent run
-- beside it): the change of the culprit against its parent as a fraction
-- (+0.1: 10 % more; the Hodges-Lehmann estimate of the pairs' log ratios,
-- remote accesses counted + 1 so that a count of 0 compares), its exact
-- Wilcoxon 95 % interval (NULL below 6 pairs) and the pairs it used.  A
-- counter the machine could not count has no change and the machine's
-- reason in *_note.  All NULL when no verification ran, or it ran before
-- this version.

ALTER TABLE bisections ADD COLUMN verify_ipc_change REAL;
ALTER TABLE bisections ADD COLUMN verify_ipc_lo REAL;
ALTER TABLE bisections ADD COLUMN verify_ipc_hi REAL;
ALTER TABLE bisections ADD COLUMN verify_ipc_pairs INTEGER;
ALTER TABLE bisections ADD COLUMN verify_ipc_note TEXT;
ALTER TABLE bisections ADD COLUMN verify_remote_change REAL;
ALTER TABLE bisections ADD COLUMN verify_remote_lo REAL;
ALTER TABLE bisections ADD COLUMN verify_remote_hi REAL;
ALTER TABLE bisections ADD COLUMN verify_remote_pairs INTEGER;
ALTER TABLE bisections ADD COLUMN verify_remote_note TEXT;
