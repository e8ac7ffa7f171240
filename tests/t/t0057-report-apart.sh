#!/bin/sh
# The report is drawn apart from the service.  perfbisectd draws its pages
# in a child process (`perfbisectd --write-report`); the test kills every
# such child with SIGSEGV, as a crash in the drawing code would, while it
# starts bisections, which change what is drawn: perfbisectd says the
# drawing died, keeps answering, and once the drawing is left alone the
# pages are drawn again, every bisection started meanwhile with its page.
# A temporary page file left by a dead drawing is hidden, never served,
# and swept once stale; a fresh one (another drawing under way) is left
# alone.  `perfbisectd --write-report` alone draws the site and says so.
. "$PB_FIXTURES/lib.sh"
. "$PB_FIXTURES/daemon.sh"

ulimit -c 0 # the drawings this test kills leave no core files
sh "$PB_FIXTURES/mkrepo.sh" "$T/repo" 12 99 > "$T/shas"
service_start
register app "$T/repo"
n=0
until [ -s "$T/report/index.html" ]; do
	n=$((n + 1))
	[ $n -lt 150 ] || fail "the report was never drawn"
	sleep 0.1
done

# every drawing process dies as it starts, while bisections are started
( while :; do
	pkill -SEGV -f -- "--write-report --db $DB" 2>/dev/null || :
	sleep 0.005
  done ) > /dev/null 2>&1 &
killer=$!
PB_KILL_PIDS="${PB_KILL_PIDS:-} $killer"
first=$(head -n 1 "$T/shas")
for sha in $(tail -n +3 "$T/shas"); do
	grep -q "the drawing process was killed by signal" "$T/daemon.log" &&
		break
	# a new bisection (no agent runs it) is a change the index draws
	expect 201 --token "$admin" "$PORT" POST /api/v1/bisections --data \
		"{\"repo\": \"app\", \"benchmark\": \"score\",
		  \"good\": \"$first\", \"bad\": \"$sha\"}"
	sleep 1.2
done
kill "$killer"
wait "$killer" 2>/dev/null || : # no pkill of it still under way
grep -q "the drawing process was killed by signal 11" "$T/daemon.log" ||
	{ cat "$T/daemon.log"; fail "no drawing was seen killed"; }
grep -q "the pages stay as they were" "$T/daemon.log" ||
	fail "the log does not say what a dead drawing costs"
expect 200 "$PORT" GET /healthz
kill -0 "$PBD_PID" || fail "perfbisectd died with its drawing"

# left alone, a later look draws what the dead drawings missed: the last
# bisection's page, and the index's link to it (after a failure the next
# look waits report_interval_s, then twice that at the second failure in
# a row...)
last_bis=$(sqlite3 "$DB" "SELECT max(id) FROM bisections")
n=0
until [ -s "$T/report/bisection-$last_bis.html" ] &&
	grep -q "bisection-$last_bis.html" "$T/report/index.html"; do
	n=$((n + 1))
	[ $n -lt 300 ] || { tail -20 "$T/daemon.log"
		fail "bisection $last_bis, started while the drawings died, was never drawn"; }
	sleep 0.1
done
expect 200 "$PORT" GET /report/
grep -q "bisection-$last_bis.html" "$T/body" || fail "the index served"

# a dead drawing's temporary file: hidden, not served; swept once stale
: > "$T/report/.index.html.tmp-AbC123"
: > "$T/report/.index.html.tmp-XyZ789"
# and a file of somebody else's that only looks alike
: > "$T/report/.notes.tmp-AbC123"
touch -d '1 hour ago' "$T/report/.index.html.tmp-AbC123" \
	"$T/report/.notes.tmp-AbC123"
expect 404 "$PORT" GET /report/.index.html.tmp-XyZ789
daemon_stop
[ "$PBD_EXIT" = 0 ] || fail "perfbisectd exit $PBD_EXIT"

# the command itself (the service is stopped: nothing else draws)
"$PERFBISECTD" --write-report --db "$DB" --report-dir "$T/report" \
	> "$T/wr.out" 2> "$T/wr.err" || fail "--write-report exit $?"
grep -Eq '^[0-9]+ pages: [0-9]+ written, [0-9]+ unchanged$' "$T/wr.out" ||
	fail "--write-report said: $(cat "$T/wr.out")"
[ ! -e "$T/report/.index.html.tmp-AbC123" ] ||
	fail "a stale temporary page was not swept"
[ -e "$T/report/.notes.tmp-AbC123" ] ||
	fail "a file that is not a page's temporary file was removed"
[ -e "$T/report/.index.html.tmp-XyZ789" ] ||
	fail "a fresh temporary page (a drawing under way) was removed"
ls -a "$T/report" | grep -v '^\.' | grep -q 'tmp-' &&
	fail "a visible temporary file in the report: $(ls -a "$T/report")"
expect_exit 3 "$PERFBISECTD" --write-report --db "$T/nope.db" \
	--report-dir "$T/r2"
echo "report apart ok"
