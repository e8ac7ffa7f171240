#!/bin/sh
# Bad input to the service's bisection and agent calls: each gets its
# status code and {"error": "..."}, nothing is counted or started, and the
# server stays up.  The agent here is this script speaking the protocol
# (docs/agent-protocol.md) with pbhttp.py, so that it can do what a real
# agent never does: post a record for a job it does not hold, post late on
# a lease that expired (409, stored as an orphan, never counted), repeat a
# record with other contents (409, kept, never counted).
. "$PB_FIXTURES/lib.sh"
. "$PB_FIXTURES/daemon.sh"

sh "$PB_FIXTURES/mkrepo.sh" "$T/repo" 6 3 > "$T/shas"
good=$(sed -n 1p "$T/shas")
bad=$(sed -n 6p "$T/shas")

DB=$T/pb.db
admin=$("$PERFBISECTD" --add-client admin --admin --db "$DB" 2>/dev/null)
ci=$("$PERFBISECTD" --add-client ci --db "$DB" 2>/dev/null)
a1=$("$PERFBISECTD" --add-agent a1 --db "$DB" 2>/dev/null)
a2=$("$PERFBISECTD" --add-agent a2 --db "$DB" 2>/dev/null)
cat > "$T/pbd.conf" <<EOF
allow_local_repos = yes
long_poll_s = 1
lease_s = 4
heartbeat_s = 1
restart_grace_s = 0
EOF
daemon_start --config "$T/pbd.conf" --db "$DB" --work-dir "$T/work" \
	--report-dir "$T/report"
expect 201 --token "$admin" "$PORT" POST /api/v1/repos --data \
	"{\"name\": \"app\", \"url\": \"$T/repo\", \"branch\": \"main\"}"
expect 201 --token "$admin" "$PORT" POST /api/v1/benchmarks --data \
	"{\"name\": \"score\", \"repo\": \"app\", \"build\": \"$BUILD\",
	  \"run\": \"$RUN\", \"metric\": \"score\", \"timeout_s\": 5}"

q() { sqlite3 "$DB" "$1"; }
# nothing_new: no bisection, no run stored by the refusals so far
nothing_new() {
	[ "$(q "SELECT count(*) FROM bisections")" = "$1" ] ||
		fail "a refused call started a bisection ($*)"
	[ "$(q "SELECT count(*) FROM runs")" = "$2" ] ||
		fail "a refused call stored a run ($*)"
}
start() { # BODY: POST /api/v1/bisections as the CI client
	req --token "$ci" "$PORT" POST /api/v1/bisections --data "$1"
}

# --- starting a bisection
expect 404 --token "$ci" "$PORT" POST /api/v1/bisections --data \
	"{\"repo\": \"nope\", \"benchmark\": \"score\", \"good\": \"$good\", \"bad\": \"$bad\"}"
error_has "nope"
expect 404 --token "$ci" "$PORT" POST /api/v1/bisections --data \
	"{\"repo\": \"app\", \"benchmark\": \"nope\", \"good\": \"$good\", \"bad\": \"$bad\"}"
error_has "nope"
# a revision the repository does not have: a full sha, a short one, a name
for rev in 0123456789abcdef0123456789abcdef01234567 deadbeef no-such-branch; do
	expect 400 --token "$ci" "$PORT" POST /api/v1/bisections --data \
		"{\"repo\": \"app\", \"benchmark\": \"score\", \"good\": \"$rev\", \"bad\": \"$bad\"}"
	error_has "$rev"
done
# not a revision at all: options and shell in disguise
expect 400 --token "$ci" "$PORT" POST /api/v1/bisections --data \
	"{\"repo\": \"app\", \"benchmark\": \"score\", \"good\": \"--upload-pack=touch $T/pwned\", \"bad\": \"$bad\"}"
[ ! -e "$T/pwned" ] || fail "a revision ran a command"
expect 400 --token "$ci" "$PORT" POST /api/v1/bisections --data \
	"{\"repo\": \"app\", \"benchmark\": \"score\", \"good\": \"$good\"}"
error_has "bad"
expect 400 --token "$ci" "$PORT" POST /api/v1/bisections --data \
	"{\"repo\": \"app\", \"benchmark\": \"score\", \"good\": \"$good\", \"bad\": \"$bad\", \"extra\": 1}"
error_has "extra"
expect 400 --token "$ci" "$PORT" POST /api/v1/bisections --data '{"repo": '
expect 413 --token "$ci" "$PORT" POST /api/v1/bisections --data-size 1000000
expect 401 "$PORT" POST /api/v1/bisections --data \
	"{\"repo\": \"app\", \"benchmark\": \"score\", \"good\": \"$good\", \"bad\": \"$bad\"}"
expect 401 --token "pbc_$(printf '%043d' 7)" "$PORT" POST /api/v1/bisections --data \
	"{\"repo\": \"app\", \"benchmark\": \"score\", \"good\": \"$good\", \"bad\": \"$bad\"}"
expect 401 --token "$a1" "$PORT" POST /api/v1/bisections --data \
	"{\"repo\": \"app\", \"benchmark\": \"score\", \"good\": \"$good\", \"bad\": \"$bad\"}"
nothing_new 0 0 "starting"
expect 200 "$PORT" GET /healthz

# --- a bisection, and an agent (this script) that takes a job
expect 201 --token "$ci" "$PORT" POST /api/v1/bisections --data \
	"{\"repo\": \"app\", \"benchmark\": \"score\", \"good\": \"$good\", \"bad\": \"$bad\"}"
id=$(json "$T/body" "j['id']")
expect 200 --token "$a1" "$PORT" POST /api/v1/agents/lease --data \
	'{"request_id": "r-1", "wait_s": 5, "facts": {}}'
lease=$(json "$T/body" "j['lease']")
commit=$(json "$T/body" "j['job']['runs'][0]['commit']")
# a retried request gets the same lease
expect 200 --token "$a1" "$PORT" POST /api/v1/agents/lease --data \
	'{"request_id": "r-1", "wait_s": 5, "facts": {}}'
[ "$(json "$T/body" "j['lease']")" = "$lease" ] || fail "a retried lease request got another lease"

record() { # VALUE: a valid run record of the job's first run
	printf '{"lease": "%s", "index": 0, "commit": "%s", "record": {"ok": true, "reason": "", "exited": true, "exit_code": 0, "signal": 0, "timed_out": false, "wall_s": 0.2, "value": %s, "metrics": {"score": %s}, "notes": "", "started_at": %s, "run_as": "nobody", "counters": {}, "numa": {}, "settings": [], "machine": {}, "start_cpu": 0, "start_node": 0, "ipc": null, "ipc_note": "no counters here", "remote_access": null, "remote_note": "one node", "cpu_s": 0.2, "busy_share": 0, "disturbed": false, "interference": {}, "images": []}}' \
		"$lease" "$commit" "$1" "$1" "$(date +%s)"
}

# records that are not records
expect 400 --token "$a1" "$PORT" POST /api/v1/runs --data "{\"lease\": \"$lease\", \"index\": 0,"
expect 400 --token "$a1" "$PORT" POST /api/v1/runs --data "$(record '"fast"')"
error_has "value"
expect 400 --token "$a1" "$PORT" POST /api/v1/runs --data "$(record 100 | sed 's/"index": 0/"index": -1/')"
error_has "index"
expect 413 --token "$a1" "$PORT" POST /api/v1/runs --data-size 10000000
# a commit the job does not hold, a run it does not have
other=$(grep -v "$commit" "$T/shas" | head -n 1)
expect 400 --token "$a1" "$PORT" POST /api/v1/runs --data "$(record 100 | sed "s/$commit/$other/")"
error_has "$commit"
expect 400 --token "$a1" "$PORT" POST /api/v1/runs --data "$(record 100 | sed 's/"index": 0/"index": 5/')"
error_has "no run 5"
# a job the agent does not hold: a2 posts on a1's lease
expect 409 --token "$a2" "$PORT" POST /api/v1/runs --data "$(record 100)"
expect 409 --token "$a2" "$PORT" POST "/api/v1/leases/$lease/heartbeat" --data '{}'
expect 409 --token "$a2" "$PORT" POST "/api/v1/leases/$lease/done" --data '{}'
# a lease that does not exist
expect 409 --token "$a1" "$PORT" POST /api/v1/runs --data "$(record 100 | sed "s/$lease/pbl_nosuchlease/")"
nothing_new 1 0 "records"
[ "$(q "SELECT count(*) FROM run_conflicts")" = 0 ] || fail "a refused record kept as a conflict"
expect 200 "$PORT" GET /healthz

# the record, its identical repeat, and a repeat that differs (a
# heartbeat first: the refusals above may have taken the lease's time)
expect 200 --token "$a1" "$PORT" POST "/api/v1/leases/$lease/heartbeat" --data '{}'
rec=$(record 100)
expect 200 --token "$a1" "$PORT" POST /api/v1/runs --data "$rec"
[ "$(json "$T/body" "j['accepted'] and not j['repeat']")" = True ] || fail "first post"
expect 200 --token "$a1" "$PORT" POST /api/v1/runs --data "$rec"
[ "$(json "$T/body" "j['accepted'] and j['repeat']")" = True ] || fail "identical repeat"
expect 409 --token "$a1" "$PORT" POST /api/v1/runs --data "$(record 70)"
[ "$(q "SELECT count(*) FROM runs WHERE orphan = 0")" = 1 ] || fail "a repeat was counted"
[ "$(q "SELECT count(*) FROM run_conflicts")" = 1 ] || fail "the conflicting repeat was not kept"
[ "$(q "SELECT runs FROM bisections WHERE id = $id")" = 1 ] || fail "the bisection's run count"

# --- late: the agent goes quiet, its lease expires, then it posts
first=$(q "SELECT job_id FROM leases WHERE id = '$lease'")
expect 200 --token "$a1" "$PORT" POST /api/v1/agents/lease --data \
	'{"request_id": "r-2", "wait_s": 5, "facts": {}}'
lease=$(json "$T/body" "j['lease']")
commit=$(json "$T/body" "j['job']['runs'][0]['commit']")
i=0
until [ "$(q "SELECT state FROM leases WHERE id = '$lease'")" = expired ]; do
	i=$((i + 1))
	[ "$i" -lt 300 ] || fail "the lease did not expire in 30 s"
	sleep 0.1
done
# the first job, its one run posted but never called done, is over when
# its lease expires: not queued again for a run nobody owes
[ "$(q "SELECT state FROM jobs WHERE id = $first")" = done ] ||
	fail "a job that owes nothing was queued again"
expect 409 --token "$a1" "$PORT" POST /api/v1/runs --data "$(record 100)"
[ "$(json "$T/body" "j['lease_state']")" = expired ] || fail "lease_state of a late record"
[ "$(q "SELECT count(*) FROM runs WHERE lease_id = '$lease' AND orphan = 1")" = 1 ] ||
	fail "the late record was not kept as an orphan"
[ "$(q "SELECT count(*) FROM runs WHERE orphan = 0")" = 1 ] || fail "the late record was counted"
[ "$(q "SELECT runs FROM bisections WHERE id = $id")" = 1 ] || fail "the bisection counted an orphan"
expect 409 --token "$a1" "$PORT" POST "/api/v1/leases/$lease/heartbeat" --data '{}'
[ "$(json "$T/body" "j['lease_state']")" = expired ] || fail "lease_state of a late heartbeat"

# the job went back to the queue, for a2, never for a1
expect 200 --token "$a2" "$PORT" POST /api/v1/agents/lease --data \
	'{"request_id": "r-3", "wait_s": 5, "facts": {}}'
job=$(json "$T/body" "j['job']['id']")
[ "$(q "SELECT job_id FROM leases WHERE id = '$lease'")" = "$job" ] ||
	{ sqlite3 -header "$DB" "SELECT * FROM jobs; SELECT id, job_id, agent, state FROM leases; SELECT * FROM job_losers"; fail "a2 did not get the job a1 lost"; }

# --- cancelled: the next call on its lease says so
expect 200 --token "$ci" "$PORT" POST "/api/v1/bisections/$id/cancel" --data '{}'
lease=$(q "SELECT id FROM leases WHERE agent = 'a2' ORDER BY rowid DESC LIMIT 1")
expect 409 --token "$a2" "$PORT" POST "/api/v1/leases/$lease/heartbeat" --data '{}'
[ "$(json "$T/body" "j['lease_state']")" = cancelled ] || fail "lease_state after cancel"
expect 200 --token "$ci" "$PORT" GET "/api/v1/bisections/$id"
[ "$(json "$T/body" "j['state']")" = cancelled ] || fail "state after cancel"
[ "$(q "SELECT count(*) FROM runs WHERE orphan = 0")" = 1 ] || fail "runs after cancel"

# cancelling what does not exist is 404, and leaves the scheduler free: a
# call that needs it is still answered
expect 404 --token "$ci" "$PORT" POST /api/v1/bisections/9999/cancel --data '{}'
expect 200 --token "$ci" "$PORT" GET "/api/v1/bisections/$id"
expect 200 "$PORT" GET /healthz
daemon_stop
[ "$PBD_EXIT" = 0 ] || fail "perfbisectd exit $PBD_EXIT"
grep -q "AddressSanitizer\|LeakSanitizer\|runtime error" "$T/daemon.log" &&
	{ cat "$T/daemon.log"; fail "the daemon logged an error"; }
exit 0
