#!/bin/sh
# Notifications (docs/notifications.md) end to end: the real perfbisectd
# and a real agent bisect a repository whose notify_url points at a
# loopback port where nothing listens yet.  The bisection.ended message
# waits in the outbox through failed attempts and a restart of
# perfbisectd; then a receiver (tests/fixtures/notify_receiver.py) starts
# on that port, answers 500 twice - retried, same bytes - and then 2xx:
# the message arrives once more and never again, its signature
# HMAC-SHA256(secret, raw body), its headers and JSON naming the
# bisection, its verdict and the planted culprit.  Also: notify_url
# without webhook_secret is refused (400), and a message to a receiver
# that never answers is given up after notify_max_attempts, kept as
# failed with its error.
. "$PB_FIXTURES/lib.sh"
. "$PB_FIXTURES/daemon.sh"

secret='s3cr3t "notify" key'
secret_json='s3cr3t \"notify\" key'
# a loopback port where nothing listens (taken, then let go)
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
hook_port=$(free_port)
dead_port=$(free_port)
[ "$hook_port" != "$dead_port" ] || dead_port=$(free_port)

mkdir -p "$T/runs" && chmod 777 "$T/runs"
PB_RUNS_DIR="$T/runs" sh "$PB_FIXTURES/mkrepo.sh" "$T/repo" 8 5 > "$T/shas"
planted=$(sed -n 6p "$T/shas")

service_start "allow_private_notify = yes" "notify_retry_s = 1" \
	"notify_retry_max_s = 2" "notify_timeout_s = 5"

# --- a notify_url needs a secret (messages are signed)
expect 400 --token "$admin" "$PORT" POST /api/v1/repos --data \
	"{\"name\": \"app\", \"url\": \"$T/repo\", \"branch\": \"main\",
	  \"notify_url\": \"http://127.0.0.1:$hook_port/hook\"}"
error_has "webhook_secret"
[ "$(sqlite3 "$DB" "SELECT count(*) FROM repositories")" = 0 ] ||
	fail "a refused repository was stored"

expect 201 --token "$admin" "$PORT" POST /api/v1/repos --data \
	"{\"name\": \"app\", \"url\": \"$T/repo\", \"branch\": \"main\",
	  \"webhook_secret\": \"$secret_json\",
	  \"notify_url\": \"http://127.0.0.1:$hook_port/hook?x=1\"}"
expect 201 --token "$admin" "$PORT" POST /api/v1/benchmarks --data \
	"{\"name\": \"score\", \"repo\": \"app\", \"build\": \"$BUILD\",
	  \"run\": \"$RUN\", \"metric\": \"score\", \"timeout_s\": 10}"
agent_start n1 PB_RUNS_DIR="$T/runs"

start=$(date +%s)
set +e
timeout 300 "$PERFBISECT" bisect --server "$URL" --token-file "$T/client.token" \
	--repo app --benchmark score --good main~7 --bad main --seed 1 \
	--wait --json > "$T/result.json" 2> "$T/cli.err"
code=$?
set -e
kill -TERM "$apid" 2>/dev/null || :
wait "$apid" 2>/dev/null || :
[ "$code" = 0 ] || { cat "$T/cli.err" "$T/result.json"; tail -n 20 "$T/daemon.log";
	fail "bisect --server --wait: exit $code"; }
id=$(json "$T/result.json" "j['id']")
[ "$(json "$T/result.json" "j['culprit']")" = "$planted" ] ||
	fail "culprit $(json "$T/result.json" "j['culprit']"), planted $planted"
echo "bisection $id done in $(( $(date +%s) - start )) s"

# --- nothing listens: the message is in the outbox, pending, its
# attempts failing (bounded wait for the second)
row() { sqlite3 "$DB" "SELECT $1 FROM outbox WHERE event = 'bisection.ended'"; }
[ "$(sqlite3 "$DB" "SELECT count(*) FROM outbox")" = 1 ] ||
	fail "want one message, have $(sqlite3 "$DB" "SELECT count(*) FROM outbox")"
i=0
while [ "$(row attempts)" -lt 2 ]; do
	i=$((i + 1)); [ "$i" -lt 100 ] || fail "no second attempt in 10 s: $(row 'attempts, last_error')"
	sleep 0.1
done
[ "$(row state)" = pending ] || fail "state $(row state) with nothing listening"
[ -n "$(row last_error)" ] || fail "no last_error after failed attempts"
grep -q "notification .*(bisection.ended) to http://127.0.0.1:$hook_port: attempt 1 failed" \
	"$T/daemon.log" || { tail "$T/daemon.log"; fail "no failed attempt logged"; }
! grep -q "hook?x=1" "$T/daemon.log" || fail "the log shows the hook URL's path"
delivery=$(row delivery)
stored_body=$(row "hex(body)")

# --- a restart keeps it: stop (clean, under the sanitizers), start again
daemon_stop
[ "$PBD_EXIT" = 0 ] || { tail "$T/daemon.log"; fail "perfbisectd exit $PBD_EXIT"; }
[ "$(row state)" = pending ] || fail "state $(row state) after the stop"
daemon_start --config "$T/pbd.conf" --db "$DB" --work-dir "$T/work" \
	--report-dir "$T/report"

# --- the receiver comes up: 500, 500 (retried), then 204
python3 "$PB_FIXTURES/notify_receiver.py" --port "$hook_port" --dir "$T/got" \
	--fail-first 2 &
rpid=$!
PB_KILL_PIDS="${PB_KILL_PIDS:-} $rpid"
i=0
while [ "$(row state)" != delivered ]; do
	i=$((i + 1)); [ "$i" -lt 300 ] || { tail "$T/daemon.log";
		fail "not delivered in 30 s: $(row 'state, attempts, last_error')"; }
	sleep 0.1
done
attempts=$(row attempts)
sleep 3 # longer than notify_retry_max_s: a copy would have come by now
n=$(ls "$T/got"/*.status | wc -l)
[ "$n" = 3 ] || fail "the receiver got $n requests, want 3 (500, 500, 204)"
[ "$(cat "$T/got/3.status")" = 204 ] || fail "the last answer was not 204"
[ "$(row attempts)" = "$attempts" ] || fail "attempts after delivery"
[ "$(row last_status)" = 204 ] || fail "last_status $(row last_status)"
[ "$(row "delivered_at IS NOT NULL AND next_attempt_at IS NULL")" = 1 ] ||
	fail "delivered_at / next_attempt_at"
grep -q "notification .*delivered to http://127.0.0.1:$hook_port" "$T/daemon.log" ||
	fail "no delivery logged"
[ "$(json "$T/got/1.headers" "j['x-perfbisect-delivery']")" = "$delivery" ] ||
	fail "delivery header"

# every copy: the stored bytes, the same delivery id, a valid signature
for k in 1 2 3; do
	python3 - "$T/got/$k.body" "$T/got/$k.headers" "$secret" \
		"$delivery" "$stored_body" "$id" "$planted" <<'PY' ||
import hashlib, hmac, json, sys
body_file, hdr_file, secret, delivery, stored, bid, culprit = sys.argv[1:]
body = open(body_file, "rb").read()
h = json.load(open(hdr_file))
def need(ok, what):
    if not ok:
        sys.exit("copy %s: %s" % (body_file, what))
need(body.hex().upper() == stored, "body differs from the stored bytes")
want = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
need(hmac.compare_digest(h.get("x-perfbisect-signature-256", ""), want),
     "bad signature %r, want %r" % (h.get("x-perfbisect-signature-256"), want))
bad = "sha256=" + hmac.new(b"wrong", body, hashlib.sha256).hexdigest()
need(h["x-perfbisect-signature-256"] != bad, "signature ignores the secret")
need(h.get("x-perfbisect-event") == "bisection.ended", "event header")
need(h.get("x-perfbisect-delivery") == delivery, "delivery header")
need(h.get("content-type") == "application/json", "content type")
j = json.loads(body)
need(j["delivery"] == delivery and j["event"] == "bisection.ended", "envelope")
need(j["repository"]["name"] == "app", "repository")
d = j["data"]
need(d["id"] == int(bid), "bisection id %r" % d["id"])
need(d["state"] == "done" and d["verdict"] == "culprit", "state/verdict")
need(d["culprit"] == culprit, "culprit %r" % d["culprit"])
need(d["benchmark"] == "score" and len(d["good"]) == 40 and len(d["bad"]) == 40,
     "benchmark, good, bad")
need(isinstance(d["confidence"], float) and d["confidence"] > 0.9, "confidence")
need(d["report"] == "/report/bisection-%s.html" % bid, "report path")
need("steps" not in d, "steps in the message")
PY
	fail "copy $k of the message"
done
kill "$rpid" 2>/dev/null || :

# --- a receiver that never answers: given up after notify_max_attempts,
# kept as failed with its last error (a cancelled bisection's message)
daemon_stop
[ "$PBD_EXIT" = 0 ] || fail "perfbisectd exit $PBD_EXIT"
daemon_start --config "$T/pbd.conf" --db "$DB" --work-dir "$T/work" \
	--report-dir "$T/report" --set notify_max_attempts=2
expect 201 --token "$admin" "$PORT" POST /api/v1/repos --data \
	"{\"name\": \"gone\", \"url\": \"$T/repo\", \"branch\": \"main\",
	  \"webhook_secret\": \"k\",
	  \"notify_url\": \"http://127.0.0.1:$dead_port/\"}"
expect 201 --token "$admin" "$PORT" POST /api/v1/benchmarks --data \
	"{\"name\": \"score\", \"repo\": \"gone\", \"build\": \"$BUILD\",
	  \"run\": \"$RUN\", \"metric\": \"score\", \"timeout_s\": 10}"
expect 201 --token "$admin" "$PORT" POST /api/v1/bisections --data \
	'{"repo": "gone", "benchmark": "score", "good": "main~7", "bad": "main"}'
gid=$(json "$T/body" "j['id']")
expect 200 --token "$admin" "$PORT" POST "/api/v1/bisections/$gid/cancel"
# cancelling again ends nothing: no second message
expect 200 --token "$admin" "$PORT" POST "/api/v1/bisections/$gid/cancel"
grow() { sqlite3 "$DB" "SELECT $1 FROM outbox WHERE url LIKE '%:$dead_port/'"; }
[ "$(grow "count(*)")" = 1 ] || fail "want one message for the cancelled bisection"
i=0
while [ "$(grow state)" != failed ]; do
	i=$((i + 1)); [ "$i" -lt 150 ] || fail "not given up in 15 s: $(grow 'state, attempts')"
	sleep 0.1
done
[ "$(grow attempts)" = 2 ] || fail "given up after $(grow attempts) attempts"
[ "$(grow "gave_up_at IS NOT NULL AND length(last_error) > 0")" = 1 ] ||
	fail "no last error kept"
[ "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["data"]["state"])' \
	"$(grow body)")" = cancelled ] || fail "the cancelled bisection's state"
grep -q "notification .* given up after 2 attempts" "$T/daemon.log" ||
	fail "giving up not logged"
# the delivered message was not sent again by the restarted server
[ "$(ls "$T/got"/*.status | wc -l)" = 3 ] || fail "a copy after the restart"
daemon_stop
[ "$PBD_EXIT" = 0 ] || fail "perfbisectd exit $PBD_EXIT"
! grep -q "ERROR: AddressSanitizer\|LeakSanitizer\|runtime error" "$T/daemon.log" ||
	{ cat "$T/daemon.log"; fail "a sanitizer report"; }
