#!/bin/sh
# Every merge, end to end: the real perfbisectd and two real agents; a
# repository whose history has two planted slowdowns far apart (commit 12:
# 2 -> 3 hashing passes, 33 % slower; commit 29: 3 -> 4, 25 % slower); its
# 40 merges posted in shuffled order, half through `perfbisect merge`,
# half through POST /api/v1/merges, all measured on one agent (the
# series' home).  Exactly two alerts, each with the
# planted commit inside its good..bad range; each starts a bisection by
# itself that names its planted commit, verified.  A merge posted again
# schedules nothing; bad input is refused and schedules nothing; status
# lists the open alerts; an alert is acknowledged.  The repository names a
# notify_url where nothing listens until the bisections have ended: then a
# receiver comes up and gets, once each, every message with a valid
# signature - two alert.raised and the two alerts' bisection.ended.
. "$PB_FIXTURES/lib.sh"
. "$PB_FIXTURES/daemon.sh"

mkdir -p "$T/runs" && chmod 777 "$T/runs"
FAST_STEPS="12:3 29:4" OPS=20 sh "$PB_FIXTURES/mkrepo.sh" "$T/repo" 40 99 \
	> "$T/shas"
first=$(sed -n 13p "$T/shas")
second=$(sed -n 30p "$T/shas")
# a commit off the tracked branch
git -C "$T/repo" checkout -q -b side
echo side > "$T/repo/SIDE" && git -C "$T/repo" add SIDE &&
	git -C "$T/repo" commit -q -m side
side=$(git -C "$T/repo" rev-parse HEAD)
git -C "$T/repo" checkout -q main

hook_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
secret=merge-hook-secret
service_start "lease_s = 30" "heartbeat_s = 5" "merge_backlog = 100" \
	"merge_repeats = 3" "allow_private_notify = yes" "notify_retry_s = 1" \
	"notify_retry_max_s = 2"
expect 201 --token "$admin" "$PORT" POST /api/v1/repos --data \
	"{\"name\": \"app\", \"url\": \"$T/repo\", \"branch\": \"main\",
	  \"webhook_secret\": \"$secret\",
	  \"notify_url\": \"http://127.0.0.1:$hook_port/hook\"}"
expect 201 --token "$admin" "$PORT" POST /api/v1/benchmarks --data \
	"{\"name\": \"score\", \"repo\": \"app\", \"build\": \"$BUILD\",
	  \"run\": \"$RUN\", \"metric\": \"score\", \"timeout_s\": 10}"
agent_start m1 PB_RUNS_DIR="$T/runs"
agent_start m2 PB_RUNS_DIR="$T/runs"

# bad input first: nothing is scheduled by it
expect 404 --token "$admin" "$PORT" POST /api/v1/merges --data \
	'{"repo": "nope", "commit": "main"}'
expect 400 --token "$admin" "$PORT" POST /api/v1/merges --data \
	'{"repo": "app", "commit": "no-such-revision"}'
expect 400 --token "$admin" "$PORT" POST /api/v1/merges --data \
	"{\"repo\": \"app\", \"commit\": \"$side\"}"
error_has "not on the first-parent line"
expect 400 --token "$admin" "$PORT" POST /api/v1/merges --data \
	'{"repo": "app", "commit": "--upload-pack=touch x"}'
expect 400 --token "$admin" "$PORT" POST /api/v1/merges --data '{"repo": '
expect 400 --token "$admin" "$PORT" POST /api/v1/merges --data \
	'{"repo": "app", "commit": "main", "extra": 1}'
expect 401 "$PORT" POST /api/v1/merges --data '{"repo": "app", "commit": "main"}'
expect_exit 2 "$PERFBISECT" merge --server "$URL" --token-file \
	"$T/client.token" --repo app --commit "$side"
[ "$(sqlite3 "$DB" "SELECT count(*) FROM merges")" = 0 ] ||
	fail "bad input scheduled merges"

# the merges, shuffled
i=0
for sha in $(shuf "$T/shas"); do
	if [ $((i % 2)) = 0 ]; then
		"$PERFBISECT" merge --server "$URL" --token-file "$T/client.token" \
			--repo app --commit "$sha" --json > "$T/m.json" ||
			fail "merge $sha exit $?"
		[ "$(json "$T/m.json" "j['jobs']")" = 1 ] || fail "merge $sha: $(cat "$T/m.json")"
	else
		expect 202 --token "$admin" "$PORT" POST /api/v1/merges --data \
			"{\"repo\": \"app\", \"commit\": \"$sha\"}"
		[ "$(json "$T/body" "j['jobs']")" = 1 ] || fail "merge $sha: $(cat "$T/body")"
	fi
	i=$((i + 1))
done
# again: idempotent
expect 202 --token "$admin" "$PORT" POST /api/v1/merges --data \
	"{\"repo\": \"app\", \"commit\": \"$first\"}"
[ "$(json "$T/body" "j['jobs'] == 0 and j['commit'] == '$first'")" = True ] ||
	fail "a merge posted again scheduled work: $(cat "$T/body")"

# until both alerts' bisections have ended (bounded)
alerts_settled 2
cat "$T/alerts.json"
# every merge measured too (the bisections' work goes first: merges may
# still wait when they end)
n=0
while [ "$(sqlite3 "$DB" "SELECT count(*) FROM merges WHERE state = 'measured'")" != 40 ]; do
	n=$((n + 1))
	[ "$n" -lt 120 ] ||
		fail "not every merge measured: $(sqlite3 "$DB" "SELECT state, count(*) FROM merges GROUP BY state")"
	sleep 0.5
done
# the series' merges were measured on one machine, its home (whichever
# agent took the first): the bisections ran wherever
homes=$(sqlite3 "$DB" "SELECT group_concat(DISTINCT r.machine) FROM runs r JOIN leases l ON l.id = r.lease_id JOIN jobs j ON j.id = l.job_id WHERE j.merge_id IS NOT NULL")
[ "$homes" = "$(sqlite3 "$DB" "SELECT machine FROM series_homes")" ] ||
	fail "merge runs on '$homes', the series' home is '$(sqlite3 "$DB" "SELECT machine FROM series_homes")'"
[ "$(json "$T/alerts.json" "len(j['alerts'])")" = 2 ] ||
	fail "not exactly two alerts"
pos() { grep -n "^$1\$" "$T/shas" | cut -d: -f1; }
for want in "$first" "$second"; do
	w=$(pos "$want")
	hit=
	for id in $(json "$T/alerts.json" "' '.join(str(a['id']) for a in j['alerts'])"); do
		g=$(json "$T/alerts.json" "[a['good'] for a in j['alerts'] if a['id'] == $id][0]")
		b=$(json "$T/alerts.json" "[a['bad'] for a in j['alerts'] if a['id'] == $id][0]")
		c=$(json "$T/alerts.json" "[a['culprit'] for a in j['alerts'] if a['id'] == $id][0]")
		# (an alert raised before later merges narrowed it may span
		# both planted commits: the one whose bisection named it)
		if [ "$(pos "$g")" -lt "$w" ] && [ "$w" -le "$(pos "$b")" ] &&
			{ [ -z "$hit" ] || [ "$c" = "$want" ]; }; then
			hit=$id
		fi
	done
	[ -n "$hit" ] || fail "no alert around planted commit $want"
	[ "$(json "$T/alerts.json" "[a for a in j['alerts'] if a['id'] == $hit][0]['change'] < -0.05")" = True ] ||
		fail "alert $hit: change not a slowdown"
	[ "$(json "$T/alerts.json" "[a['culprit'] for a in j['alerts'] if a['id'] == $hit][0]")" = "$want" ] ||
		fail "alert $hit does not name its bisection's culprit"
	bis=$(json "$T/alerts.json" "[a['bisection'] for a in j['alerts'] if a['id'] == $hit][0]")
	req --token "$admin" "$PORT" GET "/api/v1/bisections/$bis" > /dev/null
	[ "$(json "$T/body" "j['verdict'] == 'culprit' and j['culprit'] == '$want' and j['verification']['confirmed']")" = True ] ||
		{ cat "$T/body"; fail "alert $hit's bisection $bis did not name $want, verified"; }
done

# the receiver was down: the alerts' messages failed at least once
[ "$(sqlite3 "$DB" "SELECT count(*) FROM outbox WHERE event = 'alert.raised' AND attempts >= 1 AND state = 'pending'")" = 2 ] ||
	fail "alert messages: $(sqlite3 "$DB" "SELECT event, state, attempts, last_error FROM outbox")"
mkdir -p "$T/got"
python3 "$PB_FIXTURES/notify_receiver.py" --port "$hook_port" --dir "$T/got" &
PB_KILL_PIDS="$PB_KILL_PIDS $!"
n=0
while [ "$(sqlite3 "$DB" "SELECT count(*) FROM outbox WHERE state <> 'delivered'")" != 0 ]; do
	n=$((n + 1))
	[ $n -lt 100 ] || fail "not delivered: $(sqlite3 "$DB" "SELECT event, state, attempts, last_error FROM outbox")"
	sleep 0.2
done
sleep 2.5 # past notify_retry_max_s: a second copy would have come
python3 - "$T/got" "$secret" "$T/alerts.json" <<'PY' || fail "the messages"
import glob, hashlib, hmac, json, os, sys
d, secret, alerts = sys.argv[1:]
alerts = json.load(open(alerts))["alerts"]
got = {}
for f in sorted(glob.glob(os.path.join(d, "*.status"))):
    k = f[:-len(".status")]
    body = open(k + ".body", "rb").read()
    h = json.load(open(k + ".headers"))
    want = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(h["x-perfbisect-signature-256"], want):
        sys.exit("bad signature on " + k)
    m = json.loads(body)
    if m["event"] != h["x-perfbisect-event"]:
        sys.exit("event header")
    if m["delivery"] in got:
        sys.exit("delivered twice: " + m["delivery"])
    got[m["delivery"]] = m
raised = sorted(m["data"]["id"] for m in got.values() if m["event"] == "alert.raised")
ended = sorted(m["data"]["alert"] for m in got.values() if m["event"] == "bisection.ended")
ids = sorted(a["id"] for a in alerts)
if raised != ids or ended != ids:
    sys.exit("raised %r, ended %r, alerts %r" % (raised, ended, ids))
for m in got.values():
    if m["event"] == "bisection.ended":
        a = [a for a in alerts if a["id"] == m["data"]["alert"]][0]
        if m["data"]["id"] != a["bisection"] or m["data"]["verdict"] != "culprit":
            sys.exit("bisection.ended of alert %d: %r" % (a["id"], m["data"]))
PY

# status lists the open alerts
PERFBISECT_TOKEN=$admin "$PERFBISECT" status --server "$URL" > "$T/status" ||
	fail "status exit $?"
grep -q "^2 open alerts" "$T/status" || { cat "$T/status"; fail "status"; }
# each with its bisection's verdict, and status names the culprit
[ "$(json "$T/alerts.json" "all(a['verdict'] == 'culprit' for a in j['alerts'])")" = True ] ||
	fail "an alert lacks its bisection's verdict"
for want in "$first" "$second"; do
	grep -q "  bisection [0-9]*: culprit $(echo "$want" | cut -c1-12)\$" "$T/status" ||
		{ cat "$T/status"; fail "status does not name culprit $want"; }
done
id=$(json "$T/alerts.json" "j['alerts'][0]['id']")
expect 200 --token "$admin" "$PORT" POST "/api/v1/alerts/$id" --data \
	'{"state": "acknowledged"}'
[ "$(json "$T/body" "j['state']")" = acknowledged ] || fail "acknowledge"
expect 400 --token "$admin" "$PORT" POST "/api/v1/alerts/$id" --data \
	'{"state": "gone"}'
expect 404 --token "$admin" "$PORT" POST /api/v1/alerts/9999 --data \
	'{"state": "fixed"}'
PERFBISECT_TOKEN=$admin "$PERFBISECT" status --server "$URL" --json > "$T/status.json"
[ "$(json "$T/status.json" "len(j['alerts']) == 2 and len(j['bisections']) == 2")" = True ] ||
	{ cat "$T/status.json"; fail "status --json"; }
daemon_stop
[ "$PBD_EXIT" = 0 ] || fail "perfbisectd exit $PBD_EXIT"
echo "merges ok"
