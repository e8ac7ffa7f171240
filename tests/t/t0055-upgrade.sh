#!/bin/sh
# An installation upgraded: a database at schema 0011 (the service as it
# was before merges) holding a bisection with its commits, a job that lost
# one agent and is leased to another, its runs and a posted run, opened by
# the new perfbisectd.  Every migration applies (0012 rebuilds the jobs
# table, which leases, job_runs and job_losers reference: with foreign
# keys on during the rebuild, dropping the old table failed), the rows
# and their references survive, and the foreign keys check clean.
. "$PB_FIXTURES/lib.sh"
: "${PERFBISECTD:?run through tests/run.sh}"
top=$(cd "$PB_FIXTURES/../.." && pwd)
db=$T/old.db
for f in "$top"/schema/00*.sql; do
	v=$(basename "$f" | cut -c1-4 | sed 's/^0*//')
	[ "$v" -le 11 ] || continue
	{ echo "BEGIN;"; cat "$f"; echo "PRAGMA user_version = $v; COMMIT;"; } |
		sqlite3 "$db" || fail "applying $f"
done
[ "$(sqlite3 "$db" "PRAGMA user_version")" = 11 ] || fail "not at 11"
sha_g=$(printf '%040d' 1) sha_b=$(printf '%040d' 2)
sqlite3 "$db" <<SQL || fail "filling the old database"
PRAGMA foreign_keys = ON;
INSERT INTO repositories (id, name, url, branch, created_at) VALUES (1, 'app', 'https://git.example.org/app.git', 'main', 1);
INSERT INTO commits (id, repo_id, sha, subject, author, time) VALUES (1, 1, '$sha_g', 'good', 'a', 1), (2, 1, '$sha_b', 'bad', 'a', 2);
INSERT INTO benchmarks (id, repo_id, name, build_cmd, run_cmd, metric, timeout_s, build_timeout_s) VALUES (1, 1, 'score', 'true', './b', 'score', 10, 60);
INSERT INTO bisections (id, repo_id, benchmark_id, good_sha, bad_sha, state, confidence_asked, seed, max_runs, created_at) VALUES (1, 1, 1, '$sha_g', '$sha_b', 'running', 0.99, 1, 500, 1);
INSERT INTO bisection_commits (bisection_id, idx, commit_id) VALUES (1, 0, 1), (1, 1, 2);
INSERT INTO jobs (id, bisection_id, kind, state, expiries, created_at) VALUES (7, 1, 'runs', 'leased', 1, 1);
INSERT INTO job_runs (job_id, idx, commit_id) VALUES (7, 0, 2), (7, 1, 2);
INSERT INTO job_losers (job_id, agent) VALUES (7, 'm1');
INSERT INTO leases (id, job_id, agent, request_id, state, created_at, expires_at) VALUES ('pbl_old', 7, 'm2', 'r1', 'active', 1, 9e9);
INSERT INTO runs (run_id, bisection_id, seq, commit_id, benchmark_id, machine, status, value, started_at, finished_at, lease_id, run_index) VALUES ('pbl_old:0', 1, 1, 2, 1, 'm2', 'ok', 5.0, 1, 2, 'pbl_old', 0);
SQL
"$PERFBISECTD" --list --db "$db" > "$T/out" 2> "$T/err" ||
	{ cat "$T/err"; fail "perfbisectd did not open the old database"; }
want=$(ls "$top"/schema/00*.sql | tail -n 1 | xargs basename | cut -c1-4 | sed 's/^0*//')
[ "$(sqlite3 "$db" "PRAGMA user_version")" = "$want" ] || fail "not migrated to $want"
[ "$(sqlite3 "$db" "SELECT bisection_id, kind, state, expiries, merge_id IS NULL FROM jobs WHERE id = 7")" = "1|runs|leased|1|1" ] ||
	fail "the job changed: $(sqlite3 "$db" "SELECT * FROM jobs")"
[ "$(sqlite3 "$db" "SELECT count(*) FROM leases l JOIN jobs j ON j.id = l.job_id JOIN job_runs r ON r.job_id = j.id JOIN job_losers x ON x.job_id = j.id")" = 2 ] ||
	fail "the job's lease, runs or losers lost their job"
[ -z "$(sqlite3 "$db" "PRAGMA foreign_key_check")" ] || fail "foreign keys"
[ "$(sqlite3 "$db" "PRAGMA foreign_keys")" = 0 ] # a new connection's default
echo "upgrade ok"
