#!/bin/sh
# The static HTML report, end to end: the real perfbisectd and two real
# agents fill one database with a merge history whose planted slowdown
# raises an alert (its bisection starts by itself: a shift, verified), a
# bimodal bisection, one whose range has commits that do not build (the
# culprit found around them) and one where they hide it (inconclusive: a
# range).  A commit subject holds markup, quotes and '&'.  Then:
#   - `perfbisect report --time` builds the site twice: the same bytes, and
#     the second time nothing is written;
#   - every page is opened in headless Chromium (cdp.py): no console
#     error, no request off the machine, every link resolves, every SVG has
#     a title and a description; the bisection pages' data-* values are
#     the database's (check_report.py), the hostile subject is text;
#   - screenshots of the index, a series and a bisection page are kept in
#     $PB_TEST_OUT/t0056-report/;
#   - perfbisectd itself draws the pages and serves them under /report/,
#     and lists the files each culprit changed for its page.
. "$PB_FIXTURES/lib.sh"
. "$PB_FIXTURES/daemon.sh"

command -v chromium > /dev/null || fail "chromium is missing: make deps"
mkdir -p "$T/runs" && chmod 777 "$T/runs"
FAST_STEPS="8:3" OPS=20 HOSTILE_AT=9 PB_RUNS_DIR="$T/runs" \
	sh "$PB_FIXTURES/mkrepo.sh" "$T/app" 16 99 > "$T/s-app"
# bi's slow path does 4 times the work (8 passes, not 4): the two agents
# here are two "machines" on one host, each with its own host lock and a
# --busy-threshold of 1.5 CPUs, so a run that shares the host with the
# other agent's benchmark is counted, and with four bisections and the
# merges running that is now and then: those fast runs measured ~25 %
# slower (CPU time too, on this VM), which blurred a 2x slow mode into
# the fast one (Ashman's D 1.4: "inconclusive", once in three runs)
SLOW_FRACTION=0.5 SLOW_PASSES=8 OPS=30 PB_RUNS_DIR="$T/runs" \
	sh "$PB_FIXTURES/mkrepo.sh" "$T/bi" 24 12 > "$T/s-bi"
PB_RUNS_DIR="$T/runs" sh "$PB_FIXTURES/mkrepo.sh" "$T/sk" 20 15 6 10 > "$T/s-sk"
PB_RUNS_DIR="$T/runs" sh "$PB_FIXTURES/mkrepo.sh" "$T/inc" 20 7 5 8 > "$T/s-inc"

service_start "lease_s = 30" "heartbeat_s = 5" "merge_backlog = 100" \
	"merge_repeats = 3"
for r in app bi sk inc; do register "$r" "$T/$r"; done
agent_start m1 PB_RUNS_DIR="$T/runs"
agent_start m2 PB_RUNS_DIR="$T/runs"

# the merges of app, shuffled: one alert, whose bisection starts itself
for sha in $(shuf "$T/s-app"); do
	expect 202 --token "$admin" "$PORT" POST /api/v1/merges --data \
		"{\"repo\": \"app\", \"commit\": \"$sha\"}"
done
# three merges of sk: two that build, one that does not (a gap in its
# series, which its page explains)
for k in 2 3 7; do
	expect 202 --token "$admin" "$PORT" POST /api/v1/merges --data \
		"{\"repo\": \"sk\", \"commit\": \"$(sed -n "${k}p" "$T/s-sk")\"}"
done
# three bisections by hand, at once
for r in bi sk inc; do
	n=$(wc -l < "$T/s-$r")
	"$PERFBISECT" bisect --server "$URL" --token-file "$T/client.token" \
		--repo "$r" --benchmark score --good "main~$((n - 1))" \
		--bad main --seed 3 --wait --json > "$T/o-$r.json" \
		2> "$T/o-$r.err" &
	eval "pid_$r=$!"
done
for r in bi sk inc; do
	eval "wait \$pid_$r" || :
	[ -s "$T/o-$r.json" ] || { cat "$T/o-$r.err"; fail "$r: no result"; }
done
[ "$(json "$T/o-bi.json" "j['culprit'] == '$(sed -n 13p "$T/s-bi")' and j['mode'] == 'bimodal'")" = True ] ||
	{ cat "$T/o-bi.json"; fail "bi: not the bimodal culprit"; }
[ "$(json "$T/o-sk.json" "j['culprit'] == '$(sed -n 16p "$T/s-sk")'")" = True ] ||
	{ cat "$T/o-sk.json"; fail "sk: not the culprit around the skipped commits"; }
[ "$(json "$T/o-inc.json" "j['verdict']")" = range ] ||
	{ cat "$T/o-inc.json"; fail "inc: not inconclusive"; }
alerts_settled 1
b=$(json "$T/alerts.json" "j['alerts'][0]['bisection']")
n=0
until [ "$(req --token "$admin" "$PORT" GET "/api/v1/bisections/$b")" = 200 ] &&
	[ "$(json "$T/body" "j['state']")" = done ]; do
	n=$((n + 1))
	[ $n -lt 300 ] || fail "the alert's bisection did not end"
	sleep 1
done
[ "$(json "$T/body" "j['culprit'] == '$(sed -n 9p "$T/s-app")'")" = True ] ||
	{ cat "$T/body"; fail "app: the alert's bisection missed commit 8"; }
# app's merges were measured on one agent, the series' home, while the
# other ran the bisections too: each machine's series would otherwise be
# a few commits, too few on a side of the change
homes=$(sqlite3 "$DB" "SELECT group_concat(DISTINCT r.machine) FROM runs r JOIN leases l ON l.id = r.lease_id JOIN jobs j ON j.id = l.job_id JOIN merges m ON m.id = j.merge_id JOIN repositories p ON p.id = m.repo_id WHERE p.name = 'app'")
[ "$homes" = m1 ] || [ "$homes" = m2 ] || fail "app's merges measured on '$homes'"

# perfbisectd draws the pages itself and serves them
n=0
until [ "$(req "$PORT" GET "/report/bisection-$b.html")" = 200 ] &&
	grep -q 'data-status="CONFIRMED"' "$T/body"; do
	n=$((n + 1))
	[ $n -lt 100 ] || fail "perfbisectd did not draw bisection $b"
	sleep 0.2
done
# and lists the files each culprit changed
c8=$(sed -n 9p "$T/s-app")
n=0
until [ -n "$(sqlite3 "$DB" "SELECT files FROM commits WHERE sha = '$c8' AND files IS NOT NULL")" ]; do
	n=$((n + 1))
	[ $n -lt 100 ] || fail "the culprit's files were not listed"
	sleep 0.2
done
# sk's merges: two measured and judged (points of its series), the broken
# one failed
n=0
until [ "$(sqlite3 "$DB" "SELECT group_concat(m.state || (m.line_pos IS NOT NULL), ',') FROM (SELECT m.state, m.line_pos FROM merges m JOIN repositories r ON r.id = m.repo_id WHERE r.name = 'sk' ORDER BY m.state) m")" = "failed0,measured1,measured1" ]; do
	n=$((n + 1))
	[ $n -lt 200 ] || fail "sk's merges: $(sqlite3 "$DB" "SELECT m.state FROM merges m JOIN repositories r ON r.id = m.repo_id WHERE r.name = 'sk'")"
	sleep 0.5
done
daemon_stop
[ "$PBD_EXIT" = 0 ] || fail "perfbisectd exit $PBD_EXIT"

# the site, twice: the same bytes; the second time nothing is written
"$PERFBISECT" report --db "$DB" --out "$T/site" --time 1800000000 \
	2> "$T/rep1.err" || { cat "$T/rep1.err"; fail "report"; }
"$PERFBISECT" report --db "$DB" --out "$T/site2" --time 1800000000 \
	2> /dev/null || fail "report again"
diff -r "$T/site" "$T/site2" > /dev/null || fail "the same database gave other bytes"
"$PERFBISECT" report --db "$DB" --out "$T/site" --time 1800000000 \
	2> "$T/rep3.err" || fail "report a third time"
grep -q ": 0 written" "$T/rep3.err" || { cat "$T/rep3.err"; fail "an unchanged page was written again"; }
grep -q "Generated 2027-01-15 08:00 UTC" "$T/site/index.html" ||
	fail "the index does not say the generation time given"
python3 -c 'import sys; t = open(sys.argv[1]).read(); sys.exit(0 if "<summary>The files it changed</summary><ul>\n<li><code>NOTES</code></li>\n<li><code>bench.c</code></li>\n</ul>" in t else 1)' \
	"$T/site/bisection-$b.html" ||
	fail "the culprit's changed files are not on its page"
# sk's series page says what became of the merge that did not build
skb=$(sqlite3 "$DB" "SELECT b.id FROM benchmarks b JOIN repositories r ON r.id = b.repo_id WHERE r.name = 'sk'")
grep -q "<tr data-sha=\"$(sed -n 7p "$T/s-sk")\" data-state=\"failed\"><td>" "$T/site/series-$skb-0.html" ||
	fail "sk's series page does not list the merge that failed"
grep -q "Merges without a point (1)" "$T/site/series-$skb-0.html" ||
	fail "sk's series page: not one merge without a point"
grep -q "<td>its build failed on &#39;m[12]&#39;: " "$T/site/series-$skb-0.html" ||
	fail "sk's series page does not say the merge's build failed"
# the home of app's merges says so on its machine page, and only it
hits=$(grep -l '<li data-series="app / score">app / score</li>' "$T/site"/machine-*.html | tr '\n' ' ')
[ "$hits" = "$(ls "$T/site/machine-$homes-"*.html) " ] ||
	fail "the machine pages naming app's series: '$hits', want $homes's alone"
# the LKP table has a row for every metric the runs printed, beside score
for m in score wall_s cpu_s checksum uid slow_path; do
	grep -q "<tr data-metric=\"$m\" data-good=\"[0-9]" "$T/site/bisection-$b.html" ||
		fail "no good-side figure for $m on the bisection's page"
done

# every page in headless Chromium
out="${PB_TEST_OUT:-$T/out}/t0056-report"
rm -rf "$out" && mkdir -p "$out"
set +e
python3 "$PB_FIXTURES/cdp.py" --screenshot-dir "$out" "$T/site"/*.html \
	> "$T/cdp.json" 2> "$T/cdp.err"
cdp_rc=$?
set -e
[ "$cdp_rc" -le 1 ] || { cat "$T/cdp.err"; fail "cdp.py exit $cdp_rc"; }
python3 "$PB_FIXTURES/check_report.py" "$DB" "$T/site" "$T/cdp.json" \
	> "$T/check.json" || fail "the report does not hold (above)"
cat "$T/check.json"
[ "$cdp_rc" = 0 ] || fail "cdp.py found problems the checker did not name"
[ "$(json "$T/check.json" "'CONFIRMED' in j['statuses'] and 'INCONCLUSIVE' in j['statuses'] and 'bimodal' in j['modes'] and 'shift' in j['modes'] and j['with_skips'] >= 2")" = True ] ||
	fail "the database lacks a kind of bisection the report must show"
# keep only the three screenshots asked for (and the alert's bisection)
for f in "$out"/*.png; do
	case "$(basename "$f")" in
	index.png | "bisection-$b.png" | series-*.png) ;;
	*) rm -f "$f" ;;
	esac
done
ls "$out"/index.png "$out/bisection-$b.png" "$out"/series-*.png > /dev/null ||
	fail "screenshots missing in $out"
echo "report ok"
