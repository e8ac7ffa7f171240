#!/bin/sh
# What failed is said where a person looks.  A --metric the runs never
# printed gets the names they did print and the one most likely meant.  An
# end whose build or run fails shows the last lines of its log or output in
# the error (exit 2).  Commits in the middle whose build fails are skipped
# with their last line in the progress, and the report shows each failed
# build and run with its last lines.
. "$PB_FIXTURES/lib.sh"
sh "$PB_FIXTURES/mkscores.sh" "$T/repo" 100 100 100 100 > /dev/null
set -- bisect --local --repo "$T/repo" --good main~3 --bad main \
	--state-dir "$T/state"

# a misspelt metric
expect_exit 2 "$PERFBISECT" "$@" --build "sh build.sh" --run "sh bench.sh" \
	--metric scor 2> "$T/err"
cat "$T/err"
grep -q "metric 'scor' never printed; the runs printed: score, latency; did you mean \`score\`?" \
	"$T/err" || fail "no did-you-mean"
# a name near none of them: the names, no guess
expect_exit 2 "$PERFBISECT" "$@" --build "sh build.sh" --run "sh bench.sh" \
	--metric throughput 2> "$T/err"
grep -q "metric 'throughput' never printed; the runs printed: score, latency (" "$T/err" ||
	fail "names: $(cat "$T/err")"
! grep -q "did you mean" "$T/err" || fail "a guess too far: $(cat "$T/err")"
# nothing of the kind printed at all
expect_exit 2 "$PERFBISECT" "$@" --build true --run "echo hello" \
	--metric score 2> "$T/err"
grep -q "printed no 'NAME: VALUE' line at all" "$T/err" || fail "no names: $(cat "$T/err")"

# a build that fails at an end: its last lines, not its first
expect_exit 2 "$PERFBISECT" "$@" --run "sh bench.sh" --metric score \
	--build 'for i in 1 2 3 4 5 6 7 8; do echo "cc -c part$i.c"; done; echo "part9.c:3:1: error: expected ; before }" >&2; exit 1' \
	2> "$T/err"
cat "$T/err"
grep -q "cannot be built" "$T/err" || fail "no reason"
grep -q "| part9.c:3:1: error: expected ; before }" "$T/err" || fail "no last line of the build"
grep -q "| cc -c part8.c" "$T/err" || fail "no lines before it"
! grep -q "part1.c" "$T/err" || fail "more than the last lines"
# a run that fails at an end: its output's last lines
expect_exit 2 "$PERFBISECT" "$@" --build true --metric score \
	--run 'echo "starting"; echo "Segmentation fault (core dumped)" >&2; exit 139' \
	2> "$T/err"
cat "$T/err"
grep -q "| Segmentation fault (core dumped)" "$T/err" || fail "no last line of the run"
grep -q "exit status 139" "$T/err" || fail "no exit status"
! grep -q "runs printed" "$T/err" || fail "metric names of a crashed run"
# ... and the report of that bisection shows the failed runs' output
report=$(sed -n 's/^  details: //p' "$T/err")
grep -q 'id="failures"' "$report" || fail "no failures in $report"
grep -q "last failed run: benchmark exit status 139" "$report" || fail "report: run reason"
grep -q "Segmentation fault (core dumped)" "$report" || fail "report: run output"

# in the middle: commits 2 and 3 do not build, commit 5 fails every run
sh "$PB_FIXTURES/mkscores.sh" "$T/r2" 100 100 broken broken 50 fails 50 > "$T/s2"
expect_exit 1 "$PERFBISECT" bisect --local --repo "$T/r2" --good main~6 \
	--bad main --build "sh build.sh" --run "sh bench.sh" --metric score \
	--seed 1 --state-dir "$T/st2" --json > "$T/o2.json" 2> "$T/e2"
cat "$T/e2"
grep -q "failed (build exit status 1): skipped; its last line: 'error: commit [23] does not build'" "$T/e2" ||
	fail "progress lacks the build's last line"
report=$(json "$T/o2.json" 'j["report"]')
grep -q 'id="failures"' "$report" || fail "report has no failures"
for k in 2 3; do
	grep -q "error: commit $k does not build" "$report" || fail "report lacks commit $k's build"
done
grep -q "compiling step 12" "$report" || fail "report lacks the lines before"
! grep -q "compiling step 1<" "$report" || fail "report has more than the last lines"
if [ "$(json "$T/o2.json" "[s['failed_runs'] for s in j['steps'] if s['commit'] == '$(sed -n 6p "$T/s2")']")" != "[]" ]; then
	grep -q "boom: commit 5" "$report" || fail "report lacks the failed run's output"
	grep -q "run failed: benchmark exit status 3 (last line: 'boom: commit 5')" "$T/e2" ||
		fail "progress lacks the run's last line"
fi
