#!/bin/sh
# Interference: a bounded competing CPU load (one busy process per CPU,
# 0.8 s on, 1.2 s off, its switches logged) runs while perfbisect bisects a
# planted 30 % shift and a planted bimodal slowdown (half the runs 1.6x
# slower) of a benchmark timed by the wall clock, which the load slows.
# The right culprit is named both times; the runs marked disturbed are the
# runs that overlapped the load (precision and recall >= 0.8, from the
# stored run records and the load's log); every run records its CPU time,
# others' CPU time and PSI or why not; --json steps carry "disturbed" and
# "interference".  Under a continuous load the bisection waits, says so,
# and ends with exit 3 and "machine too busy to measure", never a culprit.
. "$PB_FIXTURES/lib.sh"
ncpu=$(nproc)
load() { # load ON OFF NAME: starts load.py in the background
	python3 "$PB_FIXTURES/load.py" "$ncpu" "$1" "$2" "$T/$3.log" "$T/$3.stop" &
}
stop() { touch "$T/$1.stop"; wait; }
check_overlap() { # check_overlap DB NAME
	r=$(python3 "$PB_FIXTURES/overlap.py" "$1" "$T/$2.log")
	echo "$2: $r"
	set -- $r
	python3 -c "import sys; p, r, o = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]); sys.exit(0 if o >= 3 and p >= 0.8 and r >= 0.8 else 1)" "$2" "$4" "$6" ||
		fail "disturbed runs do not match the load: $r"
}

CLOCK=CLOCK_MONOTONIC OPS=20 FAST_PASSES=10 SLOW_PASSES=13 \
	sh "$PB_FIXTURES/mkrepo.sh" "$T/shift" 12 7 > "$T/shift.shas"
load 0.8 1.2 shift
expect_exit 0 "$PERFBISECT" bisect --local --repo "$T/shift" --good main~11 \
	--bad main --build "$BUILD" --run "$RUN" --metric score --seed 1 \
	--busy-backoff 0.2 --state-dir "$T/s1" --json > "$T/shift.json" 2> "$T/shift.err"
stop shift
cat "$T/shift.err"
[ "$(json "$T/shift.json" 'j["culprit"]')" = "$(sed -n 8p "$T/shift.shas")" ] ||
	fail "shift: wrong culprit"
check_overlap "$T/s1/perfbisect.db" shift
db="$T/s1/perfbisect.db"
[ "$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE cpu_s > 0 AND busy_share >= 0 AND json_extract(interference, '\$.others_cpu_s') >= 0 AND (json_type(interference, '\$.psi') = 'object' OR json_extract(interference, '\$.psi_note') LIKE 'unsupported:%')")" -eq \
  "$(sqlite3 "$db" "SELECT count(*) FROM runs")" ] || fail "runs without their interference"
[ "$(json "$T/shift.json" 'sum(s["disturbed"] for s in j["steps"])')" -eq \
  "$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE disturbed = 1")" ] || fail "--json disturbed counts"
[ "$(json "$T/shift.json" 'all(s["interference"] is None or 0 <= s["interference"] <= 1 for s in j["steps"])')" = True ] ||
	fail "--json interference"
grep -q "disturbed, not counted: other work held" "$T/shift.err" || fail "progress does not show disturbed runs"

CLOCK=CLOCK_MONOTONIC OPS=20 FAST_PASSES=10 SLOW_PASSES=16 SLOW_FRACTION=0.5 \
	sh "$PB_FIXTURES/mkrepo.sh" "$T/bimodal" 12 5 > "$T/bimodal.shas"
load 0.8 1.2 bimodal
expect_exit 0 "$PERFBISECT" bisect --local --repo "$T/bimodal" --good main~11 \
	--bad main --build "$BUILD" --run "$RUN" --metric score --seed 1 \
	--busy-backoff 0.2 --state-dir "$T/s2" --json > "$T/bimodal.json" 2> "$T/bimodal.err"
stop bimodal
tail -n 8 "$T/bimodal.err"
[ "$(json "$T/bimodal.json" 'j["culprit"]')" = "$(sed -n 6p "$T/bimodal.shas")" ] ||
	fail "bimodal: wrong culprit"
check_overlap "$T/s2/perfbisect.db" bimodal

# continuous load: too busy, exit 3, never a culprit
load 0 0 busy
expect_exit 3 "$PERFBISECT" bisect --local --repo "$T/shift" --good main~11 \
	--bad main --build "$BUILD" --run "$RUN" --metric score --seed 1 \
	--busy-backoff 0.02 --state-dir "$T/s3" --json > "$T/busy.json" 2> "$T/busy.err"
stop busy
tail -n 4 "$T/busy.err"
grep -q "machine too busy to measure" "$T/busy.err" || fail "no 'too busy'"
grep -q "the machine is busy: most of the latest runs were disturbed" "$T/busy.err" ||
	fail "the waits are not said"
[ "$(json "$T/busy.json" 'j["verdict"]')" = None ] || fail "too busy: verdict must be null"
json "$T/busy.json" 'j["error"]' | grep -q "too busy" || fail "too busy: --json error"
[ "$(sqlite3 "$T/s3/perfbisect.db" "SELECT state || ':' || coalesce(culprit_sha, 'none') FROM bisections")" = "failed:none" ] ||
	fail "too busy: stored state"
