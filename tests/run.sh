#!/bin/sh
# run.sh BUILD_DIR - runs every cmocka unit test binary in BUILD_DIR/tests
# and every end-to-end script in tests/t/, then prints one closing line
# "N passed, N failed".  Unit tests count per test case (from cmocka's own
# summary), end-to-end scripts count one each.  Logs of failed scripts are
# printed in full where they fail, and again (their last lines) just before
# the closing line, so that a log read from its tail still says what failed.
set -u
B=${1:-build/check}
top=$(cd "$(dirname "$0")/.." && pwd)
export PERFBISECT="$top/$B/bin/perfbisect"
export PERFBISECTD="$top/$B/bin/perfbisectd"
export PERFBISECT_AGENT="$top/$B/bin/perfbisect-agent"
export PB_BISECT_SIM="$top/$B/bench/bisect-sim"
export PB_FIXTURES="$top/tests/fixtures"
# what tests keep for a person to look at (the report's screenshots)
export PB_TEST_OUT="$top/$B/test-output"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
pass=0
fail=0
log=$(mktemp)
recap=$(mktemp)
for t in "$top/$B"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	if "$t" >"$log" 2>&1; then status=ok; else status=FAIL; fi
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	if [ "$status" = FAIL ] && [ "$f" -eq 0 ]; then
		f=1 # crashed, or a sanitizer report after the tests
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	echo "unit  $name: $p passed, $f failed"
	if [ "$status" = FAIL ]; then
		cat "$log"
		{ echo "unit  $name FAILED; its last lines:"
		  tail -n 40 "$log" | sed 's/^/    | /'; } >>"$recap"
	fi
done
for t in "$top"/tests/t/t[0-9]*.sh; do
	name=$(basename "$t" .sh)
	start=$(date +%s)
	if sh "$t" >"$log" 2>&1; then
		pass=$((pass + 1))
		echo "e2e   $name: ok ($(( $(date +%s) - start )) s)"
	else
		fail=$((fail + 1))
		echo "e2e   $name: FAILED"
		sed 's/^/    | /' "$log"
		{ echo "e2e   $name FAILED; its last lines:"
		  tail -n 40 "$log" | sed 's/^/    | /'; } >>"$recap"
	fi
done
if [ -s "$recap" ]; then
	echo "--- what failed (in full above) ---"
	cat "$recap"
fi
rm -f "$log" "$recap"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
