#!/bin/sh
# What a run records beside its metric, on this machine: a benchmark that
# touches a 64 MiB .bss array has at least 16,384 .bss pages on node 0 in
# its own numa_maps, sampled while it ran; every run says on which CPU and
# node it started, and successive runs of a commit start on different CPUs
# when the machine has several; software counters are counted; hardware
# counters this machine lacks are "unsupported" with the reason - in the
# run records, in --json and in the report - never 0.
. "$PB_FIXTURES/lib.sh"
BSS_MIB=64 OPS=120 sh "$PB_FIXTURES/mkrepo.sh" "$T/repo" 4 2 > "$T/shas"
expect_exit 0 "$PERFBISECT" bisect --local --repo "$T/repo" --good main~3 \
	--bad main --build "$BUILD" --run "$RUN" --metric score --seed 1 \
	--state-dir "$T/state" --json > "$T/out.json" 2> "$T/err"
cat "$T/err"
db="$T/state/perfbisect.db"
q() { sqlite3 "$db" "$1"; }
n=$(q "SELECT count(*) FROM runs WHERE status = 'ok'")
[ "$n" -ge 6 ] || fail "only $n runs"

# .bss pages of the benchmark's own executable, node 0, last sample
exe_ok=$(q "SELECT count(*) FROM runs, json_each(json_extract(numa, '\$.placement.last')) e
	    WHERE status = 'ok' AND e.key LIKE '%/b'
	    AND CAST(json_extract(e.value, '\$.bss.0') AS INTEGER) >= 16384")
[ "$exe_ok" -eq "$n" ] || fail "$exe_ok of $n runs show >= 16384 .bss pages on node 0"
[ "$(q "SELECT min(json_extract(numa, '\$.samples')) FROM runs WHERE status = 'ok'")" -ge 2 ] ||
	fail "fewer than two placement samples in a run"

# where each run started: a CPU and its node, for every run
[ "$(q "SELECT count(*) FROM runs WHERE status = 'ok' AND start_cpu >= 0 AND start_node = 0")" -eq "$n" ] ||
	fail "start CPU/node missing"
nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)
if [ "$nodes" -ge 2 ]; then
	# rotation: the runs of the bad end were held to different nodes
	[ "$(q "SELECT count(DISTINCT json_extract(numa, '\$.start_node_held')) FROM runs r JOIN commits c ON c.id = r.commit_id WHERE c.sha = '$(sed -n 4p "$T/shas")'")" -ge 2 ] ||
		fail "start node not rotated"
else
	# one node: nothing held, and every run says so
	[ "$(q "SELECT count(*) FROM runs WHERE json_extract(numa, '\$.start_node_held') IS NULL AND json_extract(numa, '\$.start_note') LIKE 'one NUMA node: not held%'")" -eq "$(q "SELECT count(*) FROM runs")" ] ||
		fail "a one-node machine must not hold runs, and say so"
fi
[ "$(json "$T/out.json" 'all(s["start_nodes"] and sum(s["start_nodes"].values()) == s["runs"] for s in j["steps"] if s["runs"])')" = True ] ||
	fail "--json start_nodes"

# counters: software ones counted through the real path ...
[ "$(q "SELECT count(*) FROM runs WHERE status = 'ok' AND json_extract(counters, '\$.events.\"task-clock\"') > 0 AND json_extract(counters, '\$.events.\"page-faults\"') >= 16384")" -eq "$n" ] ||
	fail "software counters not counted"
# ... and hardware ones: counted, or "unsupported" with a reason, never 0
cyc=$(q "SELECT DISTINCT json_extract(counters, '\$.events.cycles') FROM runs WHERE status = 'ok'")
if [ "$cyc" = unsupported ]; then
	[ -n "$(q "SELECT json_extract(counters, '\$.reasons.cycles') FROM runs LIMIT 1")" ] ||
		fail "unsupported without a reason"
	[ "$(json "$T/out.json" 'all(s["ipc"] == "unsupported" and s["ipc_note"] for s in j["steps"] if s["runs"])')" = True ] ||
		fail "--json must say ipc unsupported, with the reason"
	report=$(json "$T/out.json" 'j["report"]')
	grep -q 'id="counters-note"' "$report" || fail "report does not say why"
	grep -q '>unsupported<' "$report" || fail "report hides unsupported"
	grep -qi "hardware counters" "$T/err" || fail "stderr does not say counters are unsupported"
else
	[ "$(q "SELECT count(*) FROM runs WHERE status = 'ok' AND ipc > 0")" -eq "$n" ] || fail "ipc"
fi
# the machine's facts travel with each run
[ "$(q "SELECT count(*) FROM runs WHERE json_extract(machine_facts, '\$.kernel') = '$(uname -r)' AND json_extract(machine_facts, '\$.numa_nodes') >= 1")" -eq "$(q "SELECT count(*) FROM runs")" ] ||
	fail "machine facts"
# --no-rotate-start leaves the start to the scheduler, and says so
expect_exit 0 "$PERFBISECT" bisect --local --repo "$T/repo" --good main~3 \
	--bad main --build "$BUILD" --run "$RUN" --metric score --seed 1 \
	--no-rotate-start --state-dir "$T/state2" --json > "$T/out2.json" 2> "$T/err2"
[ "$(sqlite3 "$T/state2/perfbisect.db" "SELECT count(*) FROM runs WHERE json_extract(numa, '\$.start_node_held') IS NULL AND json_extract(numa, '\$.start_note') LIKE 'not held: the start left to the scheduler%' AND start_cpu >= 0")" -eq \
  "$(sqlite3 "$T/state2/perfbisect.db" "SELECT count(*) FROM runs")" ] || fail "--no-rotate-start"
