#!/bin/sh
# perfbisect killed with SIGKILL mid-bisection loses nothing: started again
# with the same arguments it resumes from the stored runs (none re-run,
# none counted twice) and names the same culprit.
. "$PB_FIXTURES/lib.sh"
sh "$PB_FIXTURES/mkrepo.sh" "$T/repo" 24 9 > "$T/shas"
culprit=$(sed -n 10p "$T/shas")
set -- bisect --local --repo "$T/repo" --good main~23 --bad main \
	--build "$BUILD" --run "$RUN" --metric score --seed 3 \
	--state-dir "$T/state" --json
"$PERFBISECT" "$@" > /dev/null 2> "$T/err1" &
pid=$!
db="$T/state/perfbisect.db"
n=0
i=0
while [ "$i" -lt 600 ]; do
	n=$(sqlite3 "$db" "SELECT count(*) FROM runs" 2>/dev/null || echo 0)
	[ "${n:-0}" -ge 12 ] && break
	sleep 0.05
	i=$((i + 1))
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
before=$(sqlite3 "$db" "SELECT count(*) FROM runs")
[ "$before" -ge 12 ] || fail "only $before runs before the kill"
state=$(sqlite3 "$db" "SELECT state FROM bisections")
[ "$state" = running ] || fail "state '$state' after the kill"

expect_exit 0 "$PERFBISECT" "$@" > "$T/out.json" 2> "$T/err2"
grep -q "resuming bisection 1 after $before stored runs" "$T/err2" || { cat "$T/err2"; fail "did not resume"; }
[ "$(json "$T/out.json" 'j["culprit"]')" = "$culprit" ] || fail "wrong culprit"
total=$(sqlite3 "$db" "SELECT count(*) FROM runs")
[ "$(json "$T/out.json" 'j["runs"]')" = "$total" ] || fail "runs counted twice or lost"
[ "$(sqlite3 "$db" "SELECT count(*) FROM bisections")" = 1 ] || fail "a second bisection was started"
[ "$(sqlite3 "$db" "SELECT count(DISTINCT seq) = count(*) FROM runs")" = 1 ] || fail "duplicate run sequence"
