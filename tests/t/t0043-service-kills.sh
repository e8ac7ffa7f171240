#!/bin/sh
# Agents and the orchestrator killed in the middle of a bisection: an agent
# SIGKILLed during a run loses its lease, the job goes back to the queue
# and to another agent, never to the one that lost it; perfbisectd
# SIGKILLed and started again on its database resumes the bisection, and
# the record an agent took while it was down arrives from the agent's
# spool once it is back; the planted culprit is named, no run is counted
# twice.
. "$PB_FIXTURES/lib.sh"
. "$PB_FIXTURES/daemon.sh"
: "${PERFBISECT_AGENT:?run through tests/run.sh}"

mkdir -p "$T/runs" && chmod 777 "$T/runs"
# a clean 30 % shift; runs of a few tenths of a second, so a kill lands
# in one
FAST_PASSES=20 SLOW_PASSES=26 OPS=120 PB_RUNS_DIR="$T/runs" \
	sh "$PB_FIXTURES/mkrepo.sh" "$T/repo" 12 7 > "$T/shas"
planted=$(sed -n 8p "$T/shas")

DB=$T/pb.db
admin=$("$PERFBISECTD" --add-client admin --admin --db "$DB" 2>/dev/null)
for a in k1 k2; do
	"$PERFBISECTD" --add-agent "$a" --db "$DB" 2>/dev/null > "$T/$a.token"
	chmod 600 "$T/$a.token"
done
printf '%s\n' "$admin" > "$T/client.token" && chmod 600 "$T/client.token"
cat > "$T/pbd.conf" <<EOF
allow_local_repos = yes
long_poll_s = 2
lease_s = 4
heartbeat_s = 1
restart_grace_s = 4
EOF
daemon_start --config "$T/pbd.conf" --db "$DB" --work-dir "$T/work" \
	--report-dir "$T/report"
URL=http://127.0.0.1:$PORT
req --token "$admin" "$PORT" POST /api/v1/repos --data \
	"{\"name\": \"app\", \"url\": \"$T/repo\", \"branch\": \"main\"}" >/dev/null
req --token "$admin" "$PORT" POST /api/v1/benchmarks --data \
	"{\"name\": \"score\", \"repo\": \"app\", \"build\": \"$BUILD\",
	  \"run\": \"$RUN\", \"metric\": \"score\", \"timeout_s\": 5}" >/dev/null

agent() { # NAME: starts it in the background, pid in $apid; a machine of
	  # its own (a --sysroot, its own host lock), as in t0042
	[ -d "$T/root-$1" ] || sh "$PB_FIXTURES/mksysroot.sh" "$T/root-$1"
	PB_RUNS_DIR="$T/runs" "$PERFBISECT_AGENT" --server "$URL" \
		--token-file "$T/$1.token" --name "$1" --work-dir "$T/w-$1" \
		--sysroot "$T/root-$1" --busy-threshold 1.5 \
		--poll 2 --backoff-max 1 --no-ccache 2>> "$T/$1.log" &
	apid=$!
	PB_KILL_PIDS="${PB_KILL_PIDS:-} $apid"
}
q() { sqlite3 "$DB" "$1"; }
# until SQL prints 1, 120 s at most
until_db() {
	i=0
	while [ "$(q "$1")" != 1 ]; do
		i=$((i + 1))
		[ "$i" -lt 1200 ] || fail "waited 120 s for: $1"
		sleep 0.1
	done
}

id=$("$PERFBISECT" bisect --server "$URL" --token-file "$T/client.token" \
	--repo app --benchmark score --good main~11 --bad main --seed 2 -q)

# k1 works until it has posted two runs and holds a lease again: killed
agent k1
pid_k1=$apid
until_db "SELECT count(*) >= 2 FROM runs WHERE machine = 'k1'"
until_db "SELECT count(*) >= 1 FROM leases WHERE agent = 'k1' AND state = 'active' AND NOT EXISTS (SELECT 1 FROM runs WHERE lease_id = leases.id)"
lost=$(q "SELECT job_id FROM leases WHERE agent = 'k1' AND state = 'active'")

kill -KILL "$pid_k1"
wait "$pid_k1" 2>/dev/null || true

# its lease expires; the job goes to k2, never back to k1
agent k2
pid_k2=$apid
until_db "SELECT count(*) = 1 FROM leases WHERE agent = 'k1' AND job_id = $lost AND state = 'expired'"
until_db "SELECT count(*) >= 1 FROM leases WHERE agent = 'k2' AND job_id = $lost"

# perfbisectd killed while k2 runs: the record it takes meanwhile waits in
# its spool; started again on the same port and database, it resumes
until_db "SELECT count(*) >= 2 FROM runs WHERE machine = 'k2'"
kill -KILL "$PBD_PID"
wait "$PBD_PID" 2>/dev/null || true
PBD_PID=
before=$(q "SELECT count(*) FROM runs")
sleep 3
spooled=$(ls "$T/w-k2/spool" 2>/dev/null | grep -vc rejected || true)
"$PERFBISECTD" --listen "127.0.0.1:$PORT" --config "$T/pbd.conf" --db "$DB" \
	--work-dir "$T/work" --report-dir "$T/report" 2>> "$T/daemon.log" &
PBD_PID=$!

set +e
PERFBISECT_TOKEN=$admin timeout 300 sh -c '
	while :; do
		# (the server may still be starting: ask again)
		if "$1" status --server "$2" "$3" --json > "$4" 2>/dev/null &&
		   ! grep -q "\"state\": *\"running\"" "$4"; then
			exit 0
		fi
		sleep 0.5
	done' sh "$PERFBISECT" "$URL" "$id" "$T/state.json"
set -e
kill -TERM "$pid_k2" 2>/dev/null || true
wait "$pid_k2" 2>/dev/null || true
o=$T/state.json
[ "$(json "$o" "j['state']")" = done ] ||
	{ cat "$o"; tail -n 20 "$T/daemon.log" "$T/k2.log"; fail "not done"; }
[ "$(json "$o" "j['culprit']")" = "$planted" ] ||
	{ cat "$o"; fail "culprit $(json "$o" "j['culprit']"), planted $planted"; }
[ "$(json "$o" "j['verification']['confirmed']")" = True ] || fail "not verified"
[ "$(q "SELECT count(*) = count(DISTINCT run_id) FROM runs")" = 1 ] ||
	fail "a run stored twice"
[ "$(q "SELECT runs = (SELECT count(*) FROM runs WHERE bisection_id = $id AND orphan = 0) FROM bisections WHERE id = $id")" = 1 ] ||
	fail "the bisection's runs are not its stored runs"
[ "$(q "SELECT count(*) FROM leases WHERE agent = 'k1' AND job_id = $lost")" = 1 ] ||
	fail "the lost job went back to k1"
# what k2 took while the server was down came from its spool, once
[ "$(q "SELECT count(*) > $before FROM runs")" = 1 ] || fail "no run after the restart"
echo "spooled while down: $spooled" >&2
[ "$spooled" -ge 1 ] || fail "no record waited in k2's spool while the server was down"
[ -z "$(ls "$T/w-k2/spool" 2>/dev/null | grep -v rejected)" ] ||
	fail "records left in k2's spool: $(ls "$T/w-k2/spool")"
daemon_stop
[ "$PBD_EXIT" = 0 ] || fail "perfbisectd exit $PBD_EXIT (a leak under the sanitizers?)"
