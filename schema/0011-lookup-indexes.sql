-- 0011-lookup-indexes: the scheduler's lookups by lease and by job.
--
-- Whether a job's run was posted (pb_db_job_get, pb_db_pending_runs) joins
-- runs to leases by lease_id and leases to jobs by job_id: without these
-- indexes each lookup scanned every stored run (and built an automatic
-- index over every lease), so each record cost time in proportion to the
-- records stored before it (bench/README.md, "service load").

CREATE INDEX runs_by_lease ON runs (lease_id, run_index) WHERE lease_id IS NOT NULL;
CREATE INDEX leases_by_job ON leases (job_id, state);
