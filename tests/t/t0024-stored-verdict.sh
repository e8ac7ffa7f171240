#!/bin/sh
# The same command after a finished bisection prints its stored verdict -
# the same JSON, the same exit code - instead of running again; --again
# starts a new one; a larger --max-runs after a spent budget goes on with
# the stored runs; a bisection that failed (exit 2) has no verdict to
# print and runs anew, building again what failed to build before.
. "$PB_FIXTURES/lib.sh"
sh "$PB_FIXTURES/mkscores.sh" "$T/repo" 100 100 100 100 50 50 > "$T/shas"
culprit=$(sed -n 5p "$T/shas")
db="$T/state/perfbisect.db"
q() { sqlite3 "$db" "$1"; }
set -- bisect --local --repo "$T/repo" --good main~5 --bad main \
	--build "sh build.sh" --run "sh bench.sh" --metric score \
	--state-dir "$T/state" --json
expect_exit 0 "$PERFBISECT" "$@" --seed 1 > "$T/a1.json" 2> "$T/a1.err"
[ "$(json "$T/a1.json" 'j["culprit"]')" = "$culprit" ] || fail "culprit"
runs=$(q "SELECT count(*) FROM runs")
expect_exit 0 "$PERFBISECT" "$@" --seed 1 > "$T/a2.json" 2> "$T/a2.err"
cat "$T/a2.err"
cmp "$T/a1.json" "$T/a2.json" || fail "the stored verdict's JSON differs"
grep -q "bisection 1 of this same command finished" "$T/a2.err" || fail "not said"
grep -q "culprit: $culprit" "$T/a2.err" || fail "stored culprit not printed"
[ "$(q "SELECT count(*) FROM runs")" = "$runs" ] || fail "it ran again"
[ "$(q "SELECT count(*) FROM bisections")" = 1 ] || fail "a second bisection"
# quiet and without --json: the same exit code, nothing printed
expect_exit 0 "$PERFBISECT" "$@" --seed 1 -q > "$T/a3.out" 2> "$T/a3.err"
# --again: a new bisection, run anew
expect_exit 0 "$PERFBISECT" "$@" --seed 1 --again > "$T/a4.json" 2> "$T/a4.err"
[ "$(json "$T/a4.json" 'j["id"]')" = 2 ] || fail "--again did not start anew"
[ "$(q "SELECT count(*) FROM runs")" -gt "$runs" ] || fail "--again did not run"
# the next same command prints the newest
expect_exit 0 "$PERFBISECT" "$@" --seed 1 > "$T/a5.json" 2> /dev/null
cmp "$T/a4.json" "$T/a5.json" || fail "not the newest verdict"

# a spent budget: stored like any verdict (exit 1) ...
expect_exit 1 "$PERFBISECT" "$@" --seed 2 --max-runs 6 > "$T/b1.json" 2> "$T/b1.err"
cat "$T/b1.err"
id=$(json "$T/b1.json" 'j["id"]')
# (runs disturbed by other work on a loaded machine are taken, stored and
# shown, never counted against the budget)
counted="SELECT count(*) FROM runs WHERE bisection_id = $id AND disturbed = 0"
[ "$(q "$counted")" = 6 ] || fail "budget of 6"
[ "$(json "$T/b1.json" 'j["runs"]')" = "$(q "SELECT count(*) FROM runs WHERE bisection_id = $id")" ] ||
	fail "runs taken"
grep -q "larger --max-runs goes on" "$T/b1.err" || fail "no word on a larger budget"
expect_exit 1 "$PERFBISECT" "$@" --seed 2 --max-runs 6 > "$T/b2.json" 2> "$T/b2.err"
cmp "$T/b1.json" "$T/b2.json" || fail "stored budget verdict differs"
[ "$(q "$counted")" = 6 ] || fail "ran past its budget"
# ... and a larger budget goes on with the same bisection and its runs
expect_exit 0 "$PERFBISECT" "$@" --seed 2 --max-runs 200 > "$T/b3.json" 2> "$T/b3.err"
cat "$T/b3.err"
grep -q "resuming bisection $id after $(json "$T/b1.json" 'j["runs"]') stored runs" "$T/b3.err" ||
	fail "did not resume"
[ "$(json "$T/b3.json" 'j["id"]')" = "$id" ] || fail "not the same bisection"
[ "$(json "$T/b3.json" 'j["culprit"]')" = "$culprit" ] || fail "resumed culprit"
[ "$(json "$T/b3.json" 'j["runs"]')" = "$(q "SELECT count(*) FROM runs WHERE bisection_id = $id")" ] ||
	fail "runs counted twice or lost"
[ "$(q "SELECT max_runs || state FROM bisections WHERE id = $id")" = 200done ] || fail "budget not stored"

# a failed bisection has no verdict: the same command runs anew, and a
# build that failed then is built again
set -- bisect --local --repo "$T/repo" --good main~5 --bad main \
	--build "test -e $T/ready" --run "sh bench.sh" --metric score \
	--state-dir "$T/state" --seed 3
expect_exit 2 "$PERFBISECT" "$@" 2> "$T/c1.err"
grep -q "cannot be built" "$T/c1.err" || fail "first: $(cat "$T/c1.err")"
touch "$T/ready"
expect_exit 0 "$PERFBISECT" "$@" 2> "$T/c2.err" || { cat "$T/c2.err"; exit 1; }
grep -q "culprit: $culprit" "$T/c2.err" || fail "the retried build"
