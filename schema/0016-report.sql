-- 0016-report: what the report draws that was not stored (docs/report.md).
--
-- runs.verify_pair: the pair of the bisection's last verification the run
-- belongs to (0, 1, ... in the order the pairs ran; its commit says which
-- side); NULL for every other run.
-- merges.line_pos: the merged commit's position on the tracked branch's
-- first-parent line when its series was last judged (larger is newer);
-- NULL when it is not on the line (a forced push dropped it) or not
-- judged yet.  The report orders a series by it.
ALTER TABLE runs ADD COLUMN verify_pair INTEGER;
ALTER TABLE merges ADD COLUMN line_pos INTEGER;

-- commits.files: the paths a culprit changed against its first parent, one
-- a line (the first 200; a last line "... and N more" when there were
-- more), stored when a bisection names it; NULL: not looked at.
ALTER TABLE commits ADD COLUMN files TEXT;
