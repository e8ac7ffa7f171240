#!/bin/sh
# Pull-request checks end to end (issue 22 item 5): the real perfbisectd on
# a loopback port, two real perfbisect-agent processes, a repository made
# here: commit 0, commit 1 that changes only a comment of the benchmark
# and its notes (an unchanged pair), commit 2 that does 7 hashing passes
# per operation instead of 5 (40 % more work: about 29 % less throughput).
#   - `compare --wait --json` of 1 -> 2 says slower, effect < 0 and an
#     interval below 0, exit 1; every counted run on the one agent it names;
#   - 0 -> 1 says no_difference, exit 0;
#   - status shows a compare, the list gives its kind;
#   - a compare survives a restart of perfbisectd, and cancel stops one;
#   - bad input: an unknown benchmark 404, a bad revision 400, no token
#     401, with {"error": ...}; the command line exits 2 with
#     {"error": ..., "verdict": null}; nothing is started.
. "$PB_FIXTURES/lib.sh"
. "$PB_FIXTURES/daemon.sh"

mkdir -p "$T/runs" && chmod 777 "$T/runs"
FAST_PASSES=5 SLOW_PASSES=7 OPS=6 PB_RUNS_DIR="$T/runs" \
	sh "$PB_FIXTURES/mkrepo.sh" "$T/repo" 3 2 > "$T/shas"
c0=$(sed -n 1p "$T/shas") c1=$(sed -n 2p "$T/shas") c2=$(sed -n 3p "$T/shas")

service_start "lease_s = 30" "heartbeat_s = 5" "restart_grace_s = 2"
register app "$T/repo"
agent_start m1 PB_RUNS_DIR="$T/runs"
pid_m1=$apid
agent_start m2 PB_RUNS_DIR="$T/runs"
pid_m2=$apid
q() { sqlite3 "$DB" "$1"; }

compare() { # OUT ARGS...: compare --wait --json; prints the exit status
	_o=$1; shift
	set +e
	timeout 300 "$PERFBISECT" compare --server "$URL" \
		--token-file "$T/client.token" --repo app --benchmark score \
		--wait --json "$@" > "$_o" 2> "$_o.err"
	echo $?
	set -e
}
one_machine() { # ID JSON: every counted run of the compare on its machine
	m=$(json "$2" "j['machine']")
	[ "$m" = m1 ] || [ "$m" = m2 ] || fail "compare $1: machine '$m'"
	[ "$(q "SELECT count(DISTINCT machine) FROM runs WHERE bisection_id = $1 AND orphan = 0")" = 1 ] ||
		fail "compare $1: runs on two agents"
	[ "$(q "SELECT DISTINCT machine FROM runs WHERE bisection_id = $1 AND orphan = 0")" = "$m" ] ||
		fail "compare $1: its runs are not on '$m'"
	[ "$(q "SELECT count(*) FROM jobs WHERE bisection_id = $1 AND kind <> 'pair'")" = 0 ] ||
		fail "compare $1: a job that is not a pair job"
}

# the planted slowdown: slower, exit 1
start=$(date +%s)
rc=$(compare "$T/slow.json" --base main~1 --head main)
o=$T/slow.json
[ "$rc" = 1 ] || { cat "$o" "$o.err"; tail -n 20 "$T/daemon.log"; fail "slower: exit $rc, want 1"; }
[ "$(json "$o" "j['kind']")" = compare ] || fail "kind $(json "$o" "j['kind']")"
[ "$(json "$o" "j['state']")" = done ] || fail "state $(json "$o" "j['state']")"
[ "$(json "$o" "j['result']")" = slower ] || { cat "$o"; fail "result $(json "$o" "j['result']"), want slower"; }
[ "$(json "$o" "j['base'] == '$c1' and j['head'] == '$c2'")" = True ] ||
	{ cat "$o"; fail "base and head are not the full shas"; }
[ "$(json "$o" "-0.40 < j['effect'] < -0.18")" = True ] ||
	{ cat "$o"; fail "effect $(json "$o" "j['effect']"), planted about -0.29"; }
[ "$(json "$o" "j['interval'][0] <= j['effect'] <= j['interval'][1] < 0")" = True ] ||
	{ cat "$o"; fail "interval $(json "$o" "j['interval']") does not exclude 0"; }
[ "$(json "$o" "j['pairs'] >= 9 and j['runs_per_side'] == j['pairs'] and j['runs'] >= 2 * j['pairs']")" = True ] ||
	{ cat "$o"; fail "pairs and runs"; }
id_slow=$(json "$o" "j['id']")
one_machine "$id_slow" "$o"
echo "slower: $(json "$o" "j['outcome']") in $(( $(date +%s) - start )) s" >&2

# the unchanged pair: no_difference, exit 0
start=$(date +%s)
rc=$(compare "$T/same.json" --base "$c0" --head main~1)
o=$T/same.json
[ "$rc" = 0 ] || { cat "$o" "$o.err"; fail "unchanged: exit $rc, want 0"; }
[ "$(json "$o" "j['result']")" = no_difference ] ||
	{ cat "$o"; fail "result $(json "$o" "j['result']"), want no_difference"; }
[ "$(json "$o" "abs(j['effect']) < 0.03")" = True ] || { cat "$o"; fail "effect"; }
id_same=$(json "$o" "j['id']")
one_machine "$id_same" "$o"
echo "unchanged: $(json "$o" "j['outcome']") in $(( $(date +%s) - start )) s" >&2

# the human answer: one sentence, then the numbers
PERFBISECT_TOKEN=$admin "$PERFBISECT" status --server "$URL" "$id_slow" > "$T/status" ||
	fail "status exit $?"
grep -q "^compare $id_slow: done, slower" "$T/status" || { cat "$T/status"; fail "status line"; }
grep -q "^slower: head ${c2%"${c2#????????????}"} is [0-9.]* % slower than base" "$T/status" ||
	{ cat "$T/status"; fail "status sentence"; }
grep -q "runs per side, interleaved on agent 'm[12]'" "$T/status" || { cat "$T/status"; fail "status numbers"; }
st=$(req --token "$admin" "$PORT" GET /api/v1/bisections)
[ "$(json "$T/body" "sorted((b['kind'], b['verdict']) for b in j['bisections'])")" = \
  "[('compare', 'no_difference'), ('compare', 'slower')]" ] || { cat "$T/body"; fail "the list"; }

# survives a restart: started without --wait (prints its id), perfbisectd
# stopped once some of its runs are in, started again on the same port
id_r=$(PERFBISECT_TOKEN=$admin "$PERFBISECT" compare --server "$URL" --repo app \
	--benchmark score --base main~1 --head main -q)
[ "$id_r" -gt "$id_same" ] || fail "compare without --wait printed '$id_r'"
i=0
until [ "$(q "SELECT count(*) >= 2 FROM runs WHERE bisection_id = $id_r")" = 1 ]; do
	i=$((i + 1)); [ "$i" -lt 600 ] || fail "no run of compare $id_r"; sleep 0.1
done
daemon_stop
[ "$PBD_EXIT" = 0 ] || { tail -n 30 "$T/daemon.log"; fail "perfbisectd exit $PBD_EXIT"; }
[ "$(q "SELECT state FROM bisections WHERE id = $id_r")" = running ] ||
	fail "compare $id_r ended before perfbisectd stopped"
"$PERFBISECTD" --listen "127.0.0.1:$PORT" --config "$T/pbd.conf" --db "$DB" \
	--work-dir "$T/work" --report-dir "$T/report" 2>> "$T/daemon.log" &
PBD_PID=$!
set +e
PERFBISECT_TOKEN=$admin timeout 300 sh -c '
	while :; do
		if "$1" status --server "$2" "$3" --json > "$4" 2>/dev/null &&
		   ! grep -q "\"state\": *\"running\"" "$4"; then
			exit 0
		fi
		sleep 0.3
	done' sh "$PERFBISECT" "$URL" "$id_r" "$T/restart.json"
set -e
[ "$(json "$T/restart.json" "(j['state'], j['result'])")" = "('done', 'slower')" ] ||
	{ cat "$T/restart.json"; fail "after a restart"; }
one_machine "$id_r" "$T/restart.json"

# cancel: a compare stops like a bisection
id_c=$(PERFBISECT_TOKEN=$admin "$PERFBISECT" compare --server "$URL" --repo app \
	--benchmark score --base "$c0" --head main -q)
PERFBISECT_TOKEN=$admin "$PERFBISECT" cancel --server "$URL" "$id_c" 2>/dev/null ||
	fail "cancel exit $?"
st=$(req --token "$admin" "$PORT" GET "/api/v1/bisections/$id_c")
[ "$(json "$T/body" "j['state']")" = cancelled ] || { cat "$T/body"; fail "not cancelled"; }
[ "$(q "SELECT count(*) FROM jobs WHERE bisection_id = $id_c AND state IN ('queued', 'leased')")" = 0 ] ||
	fail "jobs of a cancelled compare left open"

# bad input: the errors POST /api/v1/bisections gives, nothing started
n=$(q "SELECT count(*) FROM bisections")
client=$("$PERFBISECTD" --add-client ci --db "$DB" 2>/dev/null)
expect 404 --token "$client" "$PORT" POST /api/v1/compare --data \
	'{"repo": "app", "benchmark": "nope", "base": "main~1", "head": "main"}'
error_has "has no benchmark 'nope'"
expect 404 --token "$client" "$PORT" POST /api/v1/compare --data \
	'{"repo": "nope", "benchmark": "score", "base": "main~1", "head": "main"}'
error_has "unknown repository 'nope'"
expect 400 --token "$client" "$PORT" POST /api/v1/compare --data \
	'{"repo": "app", "benchmark": "score", "base": "no-such-rev", "head": "main"}'
error_has "no-such-rev"
expect 400 --token "$client" "$PORT" POST /api/v1/compare --data \
	'{"repo": "app", "benchmark": "score", "base": "main", "head": "main"}'
expect 400 --token "$client" "$PORT" POST /api/v1/compare --data \
	'{"repo": "app", "benchmark": "score", "base": "main~1"}'
error_has "head"
expect 400 --token "$client" "$PORT" POST /api/v1/compare --data \
	'{"repo": "app", "benchmark": "score", "base": "main~1", "head": "main", "min_effect": 2}'
expect 401 "$PORT" POST /api/v1/compare --data \
	'{"repo": "app", "benchmark": "score", "base": "main~1", "head": "main"}'
expect 401 --token "$(cat "$T/m1.token")" "$PORT" POST /api/v1/compare --data \
	'{"repo": "app", "benchmark": "score", "base": "main~1", "head": "main"}'
for args in "--benchmark nope --base main~1 --head main" \
	    "--benchmark score --base no-such-rev --head main"; do
	set +e
	# shellcheck disable=SC2086
	PERFBISECT_TOKEN=$client "$PERFBISECT" compare --server "$URL" --repo app \
		$args --wait --json > "$T/bad.json" 2> "$T/bad.err"
	code=$?
	set -e
	[ "$code" = 2 ] || { cat "$T/bad.err"; fail "exit $code, want 2: $args"; }
	[ "$(json "$T/bad.json" "set(j) == {'error', 'verdict'} and j['verdict'] is None and len(j['error']) > 0")" = True ] ||
		{ cat "$T/bad.json"; fail "no {\"error\", \"verdict\": null}: $args"; }
done
expect_exit 2 "$PERFBISECT" compare --server "$URL" --repo app --benchmark score --base main~1
[ "$(q "SELECT count(*) FROM bisections")" = "$n" ] || fail "bad input started something"
# a client token without admin may compare
st=$(req --token "$client" "$PORT" POST /api/v1/compare --data \
	'{"repo": "app", "benchmark": "score", "base": "main~1", "head": "main", "min_effect": 0.1}')
[ "$st" = 201 ] || { cat "$T/body"; fail "a client compare: $st"; }
[ "$(json "$T/body" "j['kind'] == 'compare' and j['head'] == '$c2' and j['id'] > $id_c")" = True ] ||
	{ cat "$T/body"; fail "the 201 body"; }
expect_exit 3 "$PERFBISECT" compare --server "http://127.0.0.1:1" --token-file "$T/client.token" \
	--repo app --benchmark score --base main~1 --head main --wait

kill -TERM "$pid_m1" "$pid_m2" 2>/dev/null || true
wait "$pid_m1" "$pid_m2" 2>/dev/null || true
daemon_stop
[ "$PBD_EXIT" = 0 ] || fail "perfbisectd exit $PBD_EXIT"
