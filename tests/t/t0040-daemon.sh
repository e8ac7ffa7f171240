#!/bin/sh
# perfbisectd on a loopback port (port 0 and --port-file): tokens made by
# --add-agent/--add-client, the health check, registering repositories
# and benchmarks, every kind of bad request answered with its status and
# {"error": ...} and the server still up after them, the report served
# without leaving its directory (and only with a client token when
# report_requires_token), a long poll answered 204 after its hold or
# woken early, and SIGTERM with a held long poll: exit 0, the poll
# answered.  Tokens never reach the log.
. "$PB_FIXTURES/lib.sh"
. "$PB_FIXTURES/daemon.sh"

DB=$T/pb.db
admin=$("$PERFBISECTD" --add-client admin --admin --db "$DB" 2>/dev/null)
ci=$("$PERFBISECTD" --add-client ci --db "$DB" 2>/dev/null)
agent=$("$PERFBISECTD" --add-agent m1 --db "$DB" 2>/dev/null)
gone=$("$PERFBISECTD" --add-client gone --db "$DB" 2>/dev/null)
"$PERFBISECTD" --revoke gone --db "$DB" 2>/dev/null

# a report directory, a file beside it and links out of it and inside it
mkdir -p "$T/report/sub" "$T/report/.git"
echo '<html>top</html>' > "$T/report/index.html"
echo 'body {}' > "$T/report/style.css"
echo '{"a": 1}' > "$T/report/data.json"
echo '<html>sub</html>' > "$T/report/sub/index.html"
echo 'hidden' > "$T/report/.git/config"
echo 'SECRET' > "$T/secret.txt"
ln -s ../secret.txt "$T/report/leak.txt"
ln -s "$T" "$T/report/up"
ln -s index.html "$T/report/same.html"

cat > "$T/pbd.conf" <<EOF
# the test's settings
max_body = 4k
long_poll_s = 1
connection_timeout_s = 10
debug_routes = yes
threads = 2
EOF
# the file checks clean: nothing printed, exit 0
"$PERFBISECTD" -n --config "$T/pbd.conf" --db "$DB" > "$T/out" 2>&1 ||
	{ cat "$T/out"; fail "-n on a good file"; }
[ ! -s "$T/out" ] || fail "-n printed something on a good file"

daemon_start --config "$T/pbd.conf" --db "$DB" --report-dir "$T/report"

# --- health
expect 200 "$PORT" GET /healthz
[ "$(json "$T/body" "j == {'ok': True}")" = True ] || fail "healthz body"

# --- registration, the happy path
expect 201 --token "$admin" "$PORT" POST /api/v1/repos --data \
	'{"name": "app", "url": "https://example.com/app.git", "branch": "main",
	  "webhook_secret": "s3cret", "notify_url": "https://hooks.example.com/p"}'
repo_id=$(json "$T/body" "j['id']")
[ "$(json "$T/body" "j['name'] == 'app' and j['branch'] == 'main' and \
j['webhook_secret'] is True and 's3cret' not in str(j)")" = True ] ||
	fail "repository answer: $(cat "$T/body")"
# the same name again replaces its definition: 200, the same id
expect 200 --token "$admin" "$PORT" POST /api/v1/repos --data \
	'{"name": "app", "url": "ssh://git@example.com/app.git", "branch": "main"}'
[ "$(json "$T/body" "j['id']")" = "$repo_id" ] || fail "a second id"
expect 201 --token "$admin" "$PORT" POST /api/v1/benchmarks --data \
	'{"name": "bench", "repo": "app", "build": "make", "run": "./b",
	  "metric": "score", "lower_is_better": false, "timeout_s": 60,
	  "repeats": 5, "alert_threshold": 0.1}'
[ "$(json "$T/body" "j['repo'] == 'app' and j['alert_threshold'] == 0.1 \
and j['repeats'] == 5")" = True ] || fail "benchmark answer: $(cat "$T/body")"
# alert_threshold defaults to 0.05
expect 201 --token "$admin" "$PORT" POST /api/v1/benchmarks --data \
	'{"name": "b2", "repo": "app", "build": "make", "run": "./b",
	  "metric": "ops", "lower_is_better": true, "timeout_s": 60,
	  "repeats": 3}'
[ "$(json "$T/body" "j['alert_threshold']")" = 0.05 ] || fail "default alert"

# --- bad input
expect 400 --token "$admin" "$PORT" POST /api/v1/repos --data '{"name": "x",'
error_has "not JSON"
expect 400 --token "$admin" "$PORT" POST /api/v1/repos --data '[1, 2]'
error_has "JSON object"
expect 400 --token "$admin" "$PORT" POST /api/v1/repos --data \
	'{"name": "x", "branch": "main"}'
error_has "missing field 'url'"
expect 400 --token "$admin" "$PORT" POST /api/v1/repos --data \
	'{"name": "x", "url": "https://h/x", "branch": "main", "brnach": "b"}'
error_has "unknown field 'brnach'"
expect 400 --token "$admin" "$PORT" POST /api/v1/benchmarks --data \
	'{"name": "b", "repo": "app", "build": "make", "run": "./b",
	  "metric": "score", "repeats": "five"}'
error_has "field 'repeats'"
expect 400 --token "$admin" "$PORT" POST /api/v1/repos --data \
	'{"name": "local", "url": "file:///srv/git/app", "branch": "main"}'
error_has "allow_local_repos"
expect 400 --token "$admin" "$PORT" POST /api/v1/repos --data \
	'{"name": "local", "url": "/srv/git/app", "branch": "main"}'
expect 400 --token "$admin" "$PORT" POST /api/v1/repos --data \
	'{"name": "n", "url": "https://h/n", "branch": "main",
	  "notify_url": "http://127.0.0.1:9/x"}'
error_has "allow_private_notify"
expect 404 --token "$admin" "$PORT" POST /api/v1/benchmarks --data \
	'{"name": "b", "repo": "nope", "build": "make", "run": "./b",
	  "metric": "score"}'
error_has "no repository named 'nope'"

# --- bodies over the cap (4 KiB here), declared and chunked
expect 413 --token "$admin" "$PORT" POST /api/v1/repos --data-size 8192
expect 413 --token "$admin" "$PORT" POST /api/v1/repos --data-size 8192 --chunked
# just under it is parsed (and refused as JSON)
expect 400 --token "$admin" "$PORT" POST /api/v1/repos --data-size 4096 --chunked
error_has "not JSON"

# --- tokens
body='{"name": "t", "url": "https://h/t", "branch": "main"}'
expect 401 "$PORT" POST /api/v1/repos --data "$body"
error_has "missing token"
grep -qi '^WWW-Authenticate: Bearer' "$T/headers" || fail "no WWW-Authenticate"
expect 401 --token "pbc_$(printf '%043d' 0)" "$PORT" POST /api/v1/repos --data "$body"
error_has "unknown token"
expect 401 --token "not-a-token" "$PORT" POST /api/v1/repos --data "$body"
expect 401 --token "$agent" "$PORT" POST /api/v1/repos --data "$body"
error_has "client token"
expect 401 --token "$gone" "$PORT" POST /api/v1/repos --data "$body"
error_has "revoked"
expect 403 --token "$ci" "$PORT" POST /api/v1/benchmarks --data \
	'{"name": "b", "repo": "app", "build": "make", "run": "./b",
	  "metric": "score"}'
error_has "admin scope"
# revoked while the server runs: refused from the next request on
expect 201 --token "$admin" "$PORT" POST /api/v1/repos --data "$body"
"$PERFBISECTD" --revoke admin --db "$DB" 2>/dev/null
expect 401 --token "$admin" "$PORT" POST /api/v1/repos --data "$body"
admin=$("$PERFBISECTD" --add-client admin --admin --db "$DB" 2>/dev/null)
expect 200 --token "$admin" "$PORT" POST /api/v1/repos --data "$body"

# --- routes
expect 404 "$PORT" GET /api/v1/nothing
expect 404 --token "$admin" "$PORT" POST /api/v1/repos/
expect 405 "$PORT" GET /api/v1/repos
grep -qi '^Allow: POST' "$T/headers" || fail "no Allow header"
expect 405 "$PORT" DELETE /healthz

# --- the report
# the report's own index.html, drawn by perfbisectd from the database
# (report_interval_s) in place of the file the test put there
n=0
until [ "$(req "$PORT" GET /report/)" = 200 ] &&
	grep -q 'data-page="index"' "$T/body"; do
	n=$((n + 1))
	[ $n -lt 100 ] || fail "the report's index was not drawn: $(cat "$T/body")"
	sleep 0.1
done
grep -qi '^Content-Type: text/html' "$T/headers" || fail "html type"
expect 200 "$PORT" GET /report/style.css
grep -qi '^Content-Type: text/css' "$T/headers" || fail "css type"
expect 200 "$PORT" GET /report/data.json
grep -qi '^Content-Type: application/json' "$T/headers" || fail "json type"
expect 200 "$PORT" GET /report/same.html
expect 200 "$PORT" GET /report/sub/
grep -q sub "$T/body" || fail "sub/index.html"
expect 308 "$PORT" GET /report/sub
grep -qi '^Location: /report/sub/' "$T/headers" || fail "redirect to sub/"
expect 308 "$PORT" GET /report
expect 404 "$PORT" GET /report/missing.html
for p in /report/../secret.txt /report/%2e%2e/secret.txt \
	/report/%2E%2E/secret.txt /report/..%2fsecret.txt \
	/report/sub/../../secret.txt /report/./index.html /report/a%00b \
	/report/sub//index.html /report/%zz; do
	expect 400 "$PORT" GET "$p"
done
for p in /report/leak.txt /report/up/secret.txt /report/.git/config \
	/report/%2egit/config; do
	expect 404 "$PORT" GET "$p"
done
! grep -q SECRET "$T/body" || fail "a file outside the report was served"

# --- long polls (the test-only hold of debug_routes)
t0=$(date +%s.%N)
expect 204 --token "$admin" "$PORT" POST "/api/v1/debug/hold?key=k&hold=0.5"
python3 -c "import sys; d = float(sys.argv[2]) - float(sys.argv[1]); \
sys.exit(0 if 0.4 <= d < 5 else 1)" "$t0" "$(date +%s.%N)" ||
	fail "the hold was not about 0.5 s"
# wait_held N: until N requests are held (5 s at most)
wait_held() {
	i=0
	until [ "$(req --token "$admin" "$PORT" GET /api/v1/debug/held)" = 200 ] &&
		[ "$(json "$T/body" "j['held']")" = "$1" ]; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || fail "not $1 held"
		sleep 0.05
	done
}
python3 "$PB_FIXTURES/pbhttp.py" --token "$admin" --out "$T/poll.body" \
	"$PORT" POST "/api/v1/debug/hold?key=k&hold=20" > "$T/poll" &
poll=$!
wait_held 1
expect 200 --token "$admin" "$PORT" POST "/api/v1/debug/wake?key=other"
[ "$(json "$T/body" "j['woken']")" = 0 ] || fail "another key woke it"
expect 200 --token "$admin" "$PORT" POST "/api/v1/debug/wake?key=k"
[ "$(json "$T/body" "j['woken']")" = 1 ] || fail "wake"
wait "$poll"
[ "$(cat "$T/poll")" = 200 ] || fail "woken poll: $(cat "$T/poll")"
[ "$(json "$T/poll.body" "j['woken']")" = 1 ] || fail "woken body"
# a long poll needs its token like any call
expect 401 "$PORT" POST "/api/v1/debug/hold?key=k&hold=20"

# --- still up after all that
expect 200 "$PORT" GET /healthz

# --- SIGTERM with a held long poll: answered 204, exit 0
python3 "$PB_FIXTURES/pbhttp.py" --token "$admin" "$PORT" POST \
	"/api/v1/debug/hold?key=k&hold=60" > "$T/poll" &
poll=$!
wait_held 1
daemon_stop
[ "$PBD_EXIT" -eq 0 ] || { cat "$T/daemon.log"; fail "exit $PBD_EXIT on SIGTERM"; }
wait "$poll"
[ "$(cat "$T/poll")" = 204 ] || fail "held poll at SIGTERM: $(cat "$T/poll")"
grep -q "stopped" "$T/daemon.log" || fail "no 'stopped' in the log"

# --- report_requires_token: a client token, not an agent's
daemon_start --config "$T/pbd.conf" --db "$DB" --report-dir "$T/report" \
	--set report_requires_token=yes
expect 401 "$PORT" GET /report/
expect 401 --token "$agent" "$PORT" GET /report/
expect 200 --token "$ci" "$PORT" GET /report/
expect 200 "$PORT" GET /healthz
daemon_stop
[ "$PBD_EXIT" -eq 0 ] || fail "second exit $PBD_EXIT"

# no token in the log
for tok in "$admin" "$ci" "$agent" "$gone"; do
	! grep -qF "$tok" "$T/daemon.log" || fail "a token in the log"
done
grep -q "POST /api/v1/repos 201" "$T/daemon.log" || fail "no request log"
