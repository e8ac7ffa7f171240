-- 0003-measurements: what the agent measured beside the metric.
--
-- Per run: the IPC and NUMA remote-access count when both were counted,
-- else NULL with the machine's reason in *_note ("unsupported: ...",
-- "not counted: ..."); the settings the run was made under (JSON: key ->
-- old, new, status).  The full counter list, placement and kernel counter
-- deltas stay in the JSON columns of 0001 (counters, numa, machine_facts).
-- Per tested commit: the medians of those over its successful runs, or the
-- reason none could be computed.

ALTER TABLE runs ADD COLUMN ipc REAL;
ALTER TABLE runs ADD COLUMN ipc_note TEXT;
ALTER TABLE runs ADD COLUMN remote_access REAL;
ALTER TABLE runs ADD COLUMN remote_note TEXT;
ALTER TABLE runs ADD COLUMN settings TEXT;

ALTER TABLE bisection_steps ADD COLUMN ipc_note TEXT;
ALTER TABLE bisection_steps ADD COLUMN remote_note TEXT;
