#!/bin/sh
# Progress a person reads: each run's line shows the runs against the
# budget and the time so far ("[ 12/500 runs  0:42]"), values with three
# digits and an SI prefix ("86.4 M"), posteriors as percentages - never
# "nan", never "7.3e-22" - and its count of runs is the final summary's
# and the JSON's.
. "$PB_FIXTURES/lib.sh"
sh "$PB_FIXTURES/mkscores.sh" "$T/repo" 86437 86437 86437 86437 86437 43000 43000 43000 > /dev/null
expect_exit 0 "$PERFBISECT" bisect --local --repo "$T/repo" --good main~7 \
	--bad main --build "sh build.sh" --run "sh bench.sh" --metric score \
	--seed 1 --max-runs 300 --state-dir "$T/state" --json > "$T/out.json" 2> "$T/err"
cat "$T/err"
grep '^  \[' "$T/err" > "$T/progress"
[ -s "$T/progress" ] || fail "no progress"
bad=$(grep -Ev '^  \[ *[0-9]+/300 runs +[0-9]+:[0-9][0-9]\] [0-9a-f]{12}  ' "$T/progress" || true)
[ -z "$bad" ] || fail "progress lines without runs/budget and time: $bad"
! grep -qi 'nan' "$T/progress" || fail "nan in the progress"
! grep -Eq '[0-9]e[-+][0-9]' "$T/progress" || fail "e-notation in the progress"
grep -q 'score = 86\.[0-9] M ' "$T/progress" || fail "good values not as 86.x M"
grep -q 'score = 43\.[0-9] M ' "$T/progress" || fail "bad values not as 43.x M"
grep -Eq 'most probable culprit [0-9a-f]{12} at (< 0\.1|[0-9]+\.[0-9]+) %, 95 % within' "$T/progress" ||
	fail "posterior not as a percentage"
# the counts agree: the last progress line, the summary, the JSON
last=$(tail -n 1 "$T/progress" | sed 's/^  \[ *\([0-9]*\)\/.*/\1/')
runs=$(json "$T/out.json" 'j["runs"]')
[ "$last" = "$runs" ] || fail "progress ends at $last runs, the JSON says $runs"
# (a run disturbed by other work on this machine counts in all three, and
# the summary says it was not counted against the budget)
grep -Eq "^  $runs runs \(budget 300\), [0-9]* builds in [0-9]*:[0-9][0-9](; [0-9]+ of them disturbed by other work, not counted against the budget)?$" "$T/err" ||
	fail "summary count"
grep -Eq '^  score median 86\.[0-9] M at the good end, 4[23]\.[0-9] M at the bad end \(-[0-9]+\.[0-9] %\)$' "$T/err" ||
	fail "summary medians"
# the run counts of the progress are counted as the steps count them
[ "$(json "$T/out.json" 'sum(s["runs"] + s["failed_runs"] + s["disturbed"] for s in j["steps"])')" = "$runs" ] ||
	fail "steps do not add up to the runs"

# no regression: the search never has a posterior to show, and says no nan
sh "$PB_FIXTURES/mkscores.sh" "$T/flat" 100 100 100 100 > /dev/null
expect_exit 1 "$PERFBISECT" bisect --local --repo "$T/flat" --good main~3 \
	--bad main --build "sh build.sh" --run "sh bench.sh" --metric score \
	--seed 1 --state-dir "$T/state" 2> "$T/err2"
cat "$T/err2"
! grep '^  \[' "$T/err2" | grep -qi nan || fail "nan in the progress of no regression"
