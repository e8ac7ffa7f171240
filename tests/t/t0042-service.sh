#!/bin/sh
# The service end to end: the real perfbisectd on a loopback port, two real
# perfbisect-agent processes with their own work directories and tokens,
# a repository with a planted bimodal slowdown registered over HTTP, a
# bisection started over HTTP: it names the planted commit, verified,
# with runs taken by both agents, none counted twice.  Then the agent
# protocol's refusals: a run record for a lease the agent does not hold,
# and calls on a finished job's lease.  Agent m1 builds through ccache
# (its default, when installed), m2 with --no-ccache: m1's compilers are
# ccache's, its cache the run user's, and its builds went through it.
. "$PB_FIXTURES/lib.sh"
. "$PB_FIXTURES/daemon.sh"
: "${PERFBISECT_AGENT:?run through tests/run.sh}"

mkdir -p "$T/runs" "$T/runs-m1" "$T/runs-m2" &&
	chmod 777 "$T/runs" "$T/runs-m1" "$T/runs-m2"
SLOW_FRACTION=0.5 OPS=30 PB_RUNS_DIR="$T/runs" \
	sh "$PB_FIXTURES/mkrepo.sh" "$T/repo" 24 13 > "$T/shas"
planted=$(sed -n 14p "$T/shas")

DB=$T/pb.db
admin=$("$PERFBISECTD" --add-client admin --admin --db "$DB" 2>/dev/null)
for a in m1 m2; do
	"$PERFBISECTD" --add-agent "$a" --db "$DB" 2>/dev/null > "$T/$a.token"
	chmod 600 "$T/$a.token"
done
cat > "$T/pbd.conf" <<EOF
allow_local_repos = yes
long_poll_s = 2
lease_s = 30
heartbeat_s = 5
threads = 4
EOF
daemon_start --config "$T/pbd.conf" --db "$DB" --report-dir "$T/report" \
	--work-dir "$T/work"

st=$(req --token "$admin" "$PORT" POST /api/v1/repos --data \
	"{\"name\": \"app\", \"url\": \"$T/repo\", \"branch\": \"main\"}")
[ "$st" = 201 ] || { cat "$T/body"; fail "register repository: $st"; }
st=$(req --token "$admin" "$PORT" POST /api/v1/benchmarks --data \
	"{\"name\": \"score\", \"repo\": \"app\", \"build\": \"$BUILD\",
	  \"run\": \"$RUN\", \"metric\": \"score\", \"timeout_s\": 60}")
[ "$st" = 201 ] || { cat "$T/body"; fail "register benchmark: $st"; }

# the agents, each a machine of its own: its work directory, its token
# and a --sysroot (a fake two-node machine, whose host lock is its own).
# Both share this test machine's CPUs, so each sees the other's benchmark
# as about one CPU of other work: the threshold is raised above it.
for a in m1 m2; do
	sh "$PB_FIXTURES/mksysroot.sh" "$T/root-$a"
	nocc=
	# m2 runs as another user (as root): m1 opens its compiler cache to
	# its build user only while no process of that user lives, and m2's
	# benchmarks would otherwise be such processes
	[ "$a" = m1 ] || nocc=--no-ccache
	[ "$a" = m1 ] || [ "$(id -u)" -ne 0 ] || nocc="$nocc --run-as daemon"
	# each agent counts its runs of a commit in its own directory (its
	# run user's files): each replays the commit's sequence of coins
	PB_RUNS_DIR="$T/runs-$a" "$PERFBISECT_AGENT" --server "http://127.0.0.1:$PORT" \
		--token-file "$T/$a.token" --name "$a" --work-dir "$T/w-$a" \
		--sysroot "$T/root-$a" --busy-threshold 1.5 \
		--poll 2 --backoff-max 1 $nocc 2> "$T/$a.log" &
	eval "pid_$a=\$!"
	PB_KILL_PIDS="${PB_KILL_PIDS:-} $!"
done
stop_agents() {
	kill -TERM "$pid_m1" "$pid_m2" 2>/dev/null || true
	wait "$pid_m1" "$pid_m2" 2>/dev/null || true
}

# started and followed with the command line, as a person or CI does
printf '%s\n' "$admin" > "$T/client.token"
chmod 600 "$T/client.token"
set +e
timeout 600 "$PERFBISECT" bisect --server "http://127.0.0.1:$PORT" \
	--token-file "$T/client.token" --repo app --benchmark score \
	--good main~23 --bad main --seed 4 --wait --json \
	> "$T/result.json" 2> "$T/cli.err"
code=$?
set -e
stop_agents
o=$T/result.json
[ "$code" = 0 ] || { cat "$T/cli.err" "$o"; tail -n 20 "$T/daemon.log";
	fail "perfbisect bisect --server --wait exit $code"; }
id=$(json "$o" "j['id']")
[ "$(json "$o" "j['state']")" = done ] || fail "state $(json "$o" "j['state']")"
grep -q "bisection $id started" "$T/cli.err" || fail "no start line"
grep -q "^culprit: $planted" "$T/cli.err" || { cat "$T/cli.err"; fail "no culprit line"; }
[ "$(json "$o" "j['verdict']")" = culprit ] ||
	{ cat "$o"; fail "verdict $(json "$o" "j['verdict']")"; }
[ "$(json "$o" "j['culprit']")" = "$planted" ] ||
	fail "culprit $(json "$o" "j['culprit']"), planted $planted"
[ "$(json "$o" "j['mode']")" = bimodal ] ||
	fail "mode $(json "$o" "j['mode']"): $(json "$o" "j['outcome']"); runs by machine: $(sqlite3 "$DB" "SELECT machine || ' ' || count(*) FROM runs GROUP BY machine" | tr '\n' ' ')"
[ "$(json "$o" "j['verification']['confirmed'] and \
j['verification']['commit'] == j['culprit']")" = True ] ||
	fail "not verified: $(json "$o" "j['verification']")"
# runs by both agents; none counted twice; the steps' runs are the runs
[ "$(sqlite3 "$DB" "SELECT count(DISTINCT machine) FROM runs WHERE \
bisection_id = $id AND orphan = 0")" = 2 ] || fail "runs of one agent only"
[ "$(sqlite3 "$DB" "SELECT count(*) = count(DISTINCT run_id) FROM runs")" = 1 ] ||
	fail "a run stored twice"
[ "$(sqlite3 "$DB" "SELECT runs FROM bisections WHERE id = $id")" = \
  "$(sqlite3 "$DB" "SELECT count(*) FROM runs WHERE bisection_id = $id AND \
orphan = 0")" ] || fail "the bisection's run count is not its stored runs"
[ "$(sqlite3 "$DB" "SELECT count(*) FROM jobs WHERE bisection_id = $id AND \
state IN ('queued', 'leased')")" = 0 ] || fail "jobs left open"
# the benchmark ran as an unprivileged user
[ "$(sqlite3 "$DB" "SELECT count(*) FROM runs WHERE run_as = 'root'")" = 0 ] ||
	fail "a run as root"

# the list names it; status reads it
st=$(req --token "$admin" "$PORT" GET /api/v1/bisections)
[ "$(json "$T/body" "[b['verdict'] for b in j['bisections'] if b['id'] == $id] == ['culprit']")" = True ] ||
	{ cat "$T/body"; fail "the list"; }
PERFBISECT_TOKEN=$admin "$PERFBISECT" status --server "http://127.0.0.1:$PORT" \
	"$id" > "$T/status" || fail "status exit $?"
grep -q "^culprit: $planted" "$T/status" || { cat "$T/status"; fail "status"; }
expect_exit 2 "$PERFBISECT" status --server "http://127.0.0.1:$PORT" \
	--token-file "$T/client.token" 9999
expect_exit 2 "$PERFBISECT" cancel --server "http://127.0.0.1:$PORT" \
	--token-file "$T/m1.token" "$id"

# its report page, served by perfbisectd, names the culprit
# (drawn within report_interval_s of the bisection's end)
n=0
until [ "$(req "$PORT" GET "/report/bisection-$id.html")" = 200 ] &&
	grep -q "data-culprit=\"$planted\"" "$T/body"; do
	n=$((n + 1))
	[ $n -lt 100 ] || fail "the report page does not name the culprit"
	sleep 0.1
done

# refusals: a record for a lease the agent does not hold (409, nothing
# counted); an agent token on a client call (401)
lease=$(sqlite3 "$DB" "SELECT id FROM leases WHERE agent = 'm1' LIMIT 1")
runs_before=$(sqlite3 "$DB" "SELECT count(*) FROM runs")
st=$(req --token "$(cat "$T/m2.token")" "$PORT" POST /api/v1/runs --data \
	"{\"lease\": \"$lease\", \"index\": 0, \"commit\": \"$planted\",
	  \"record\": {\"ok\": false}}")
[ "$st" = 400 ] || [ "$st" = 409 ] || { cat "$T/body"; fail "foreign lease: $st"; }
st=$(req --token "$(cat "$T/m2.token")" "$PORT" POST "/api/v1/leases/$lease/heartbeat" --data '{}')
[ "$st" = 409 ] || { cat "$T/body"; fail "heartbeat on another's lease: $st"; }
[ "$(json "$T/body" "j['lease_state']")" = unknown ] || fail "lease_state"
[ "$(sqlite3 "$DB" "SELECT count(*) FROM runs")" = "$runs_before" ] ||
	fail "a refused record was stored"
st=$(req --token "$(cat "$T/m1.token")" "$PORT" GET "/api/v1/bisections/$id")
[ "$st" = 401 ] || fail "an agent token read a bisection: $st"
daemon_stop
[ "$PBD_EXIT" = 0 ] || fail "perfbisectd exit $PBD_EXIT"

# ccache: m1's builds went through it (the one-step compile and link of
# $BUILD is one ccache does not cache: it counts it), m2 had none
if command -v ccache > /dev/null; then
	grep -q "ccache in front of the compilers" "$T/m1.log" || fail "m1 does not say ccache"
	! grep -q "this build goes without ccache" "$T/m1.log" ||
		fail "m1 built without ccache: $(grep 'goes without ccache' "$T/m1.log" | head -n 1)"
	grep -q "no ccache (--no-ccache)" "$T/m2.log" || fail "m2 does not say --no-ccache"
	[ "$(readlink "$T/w-m1/ccache-bin/cc")" = "$(command -v ccache)" ] || fail "m1's cc is not ccache"
	user=$(id -un)
	[ "$(id -u)" -ne 0 ] || user=nobody
	[ "$(stat -c %U "$T/w-m1/ccache/files")" = "$user" ] || fail "m1's cache is not $user's"
	calls=$(CCACHE_DIR="$T/w-m1/ccache/files" ccache --print-stats |
		awk '$1 == "called_for_link" || $1 ~ /_cache_hit$/ || $1 == "cache_miss" { n += $2 } END { print n + 0 }')
	[ "$calls" -gt 0 ] || fail "no build of m1 went through ccache"
	[ ! -e "$T/w-m2/ccache" ] || fail "m2 made a cache with --no-ccache"
fi
