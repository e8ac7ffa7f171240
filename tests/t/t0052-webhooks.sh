#!/bin/sh
# Every merge through push webhooks: the real perfbisectd and two real
# agents; a repository with two planted slowdowns (commit 8: 33 % slower,
# commit 21: 25 % slower) and a webhook_secret; every commit pushed in
# shuffled order, half as signed GitHub pushes, half as GitLab pushes.
# Two alerts, each around its planted commit, whose bisections name it,
# verified.  Refused before anything is parsed and scheduling nothing: a
# wrong or missing GitHub signature, a wrong GitLab token (401).  Acknowledged
# and ignored: a tag push, a push to another branch, a deletion, a ping.  A
# replayed GitHub delivery stores nothing, a resent GitLab push schedules
# nothing new.  Every push is answered at once (stored, "queued") and
# scheduled by perfbisectd's judging thread: GET /api/v1/pushes/ID.
# Then a forced push rewrites the branch from commit 25 on, with a third
# slowdown: the points that left the branch drop out of the series, and
# the new change is placed between commit 25 and the first new commit.
. "$PB_FIXTURES/lib.sh"
. "$PB_FIXTURES/daemon.sh"

mkdir -p "$T/runs" && chmod 777 "$T/runs"
FAST_STEPS="8:3 21:4" OPS=20 sh "$PB_FIXTURES/mkrepo.sh" "$T/repo" 30 99 \
	> "$T/shas"
first=$(sed -n 9p "$T/shas")
second=$(sed -n 22p "$T/shas")
head=$(tail -n 1 "$T/shas")
secret='s3cret-hook'

service_start "lease_s = 30" "heartbeat_s = 5" "merge_backlog = 100" \
	"merge_repeats = 3"
expect 201 --token "$admin" "$PORT" POST /api/v1/repos --data \
	"{\"name\": \"app\", \"url\": \"$T/repo\", \"branch\": \"main\",
	  \"webhook_secret\": \"$secret\"}"
expect 201 --token "$admin" "$PORT" POST /api/v1/benchmarks --data \
	"{\"name\": \"score\", \"repo\": \"app\", \"build\": \"$BUILD\",
	  \"run\": \"$RUN\", \"metric\": \"score\", \"timeout_s\": 10}"

sign() { printf '%s' "$1" | python3 -c 'import hmac, hashlib, sys
print(hmac.new(sys.argv[1].encode(), sys.stdin.buffer.read(),
               hashlib.sha256).hexdigest())' "$2"; }
gh_body() { printf '{"ref": "%s", "before": "%s", "after": "%s", "deleted": %s, "forced": false, "repository": {"full_name": "acme/app"}}' \
	"$1" "0000000000000000000000000000000000000000" "$2" "${3:-false}"; }
gl_body() { printf '{"object_kind": "push", "ref": "%s", "before": "%s", "after": "%s", "checkout_sha": "%s"}' \
	"$1" "0000000000000000000000000000000000000000" "$2" "$2"; }
# github BODY DELIVERY [EVENT] [SECRET]: prints the status
github() {
	req "$PORT" POST /hooks/github?repo=app --data "$1" \
		--header "X-GitHub-Event: ${3:-push}" \
		--header "X-GitHub-Delivery: $2" \
		--header "X-Hub-Signature-256: sha256=$(sign "$1" "${4:-$secret}")"
}
gitlab() {
	req "$PORT" POST /hooks/gitlab?repo=app --data "$1" \
		--header "X-Gitlab-Event: ${3:-Push Hook}" \
		--header "X-Gitlab-Token: ${2-$secret}"
}
merges() { sqlite3 "$DB" "SELECT count(*) FROM merges"; }
# push_done ID: waits until the stored push is scheduled, ignored or
# failed; its JSON in $T/push.json
push_done() {
	_n=0
	while :; do
		[ "$(req --token "$admin" "$PORT" GET "/api/v1/pushes/$1")" = 200 ] ||
			fail "GET push $1: $(cat "$T/body")"
		[ "$(json "$T/body" "j['state']")" = queued ] || break
		_n=$((_n + 1))
		[ $_n -lt 100 ] || fail "push $1 still queued: $(cat "$T/body")"
		sleep 0.2
	done
	cp "$T/body" "$T/push.json"
}
# queued SHA: the hook's answer stored the push of SHA; its id printed
queued() {
	[ "$(json "$T/body" "j['queued'] and not j['duplicate'] and j['commit'] == '$1' and 'jobs' not in j")" = True ] ||
		fail "push $1 not queued: $(cat "$T/body")"
	json "$T/body" "j['push']"
}

# refused before the body is parsed: nothing scheduled, no agent yet
b=$(gh_body refs/heads/main "$head")
[ "$(github "$b" d-bad push wrong-secret)" = 401 ] || fail "wrong signature"
error_has "X-Hub-Signature-256"
[ "$(req "$PORT" POST /hooks/github?repo=app --data "$b" \
	--header "X-GitHub-Event: push")" = 401 ] || fail "no signature"
[ "$(req "$PORT" POST /hooks/github?repo=app --data "$b" \
	--header "X-Hub-Signature-256: sha256=zz")" = 401 ] || fail "bad hex"
[ "$(github "not json at all" d-x)" = 400 ] || fail "signed garbage"
[ "$(gitlab "$(gl_body refs/heads/main "$head")" wrong-token)" = 401 ] ||
	fail "wrong GitLab token"
[ "$(gitlab "$(gl_body refs/heads/main "$head")" "")" = 401 ] ||
	fail "empty GitLab token"
[ "$(req "$PORT" POST /hooks/github?repo=nope --data "$b")" = 404 ] ||
	fail "unknown repository"
[ "$(req "$PORT" POST /hooks/github --data "$b")" = 400 ] ||
	fail "no repository named"
[ "$(merges)" = 0 ] || fail "a refused hook scheduled merges"
# acknowledged and ignored
[ "$(github "$(gh_body refs/tags/v1 "$head")" d-tag)" = 202 ] || fail "tag"
[ "$(json "$T/body" "j['jobs'] == 0 and 'tag' in j['ignored']")" = True ] ||
	fail "tag push: $(cat "$T/body")"
[ "$(github "$(gh_body refs/heads/dev "$head")" d-dev)" = 202 ] || fail "dev"
[ "$(json "$T/body" "j['jobs'] == 0 and 'refs/heads/dev' in j['ignored']")" = True ] ||
	fail "other branch: $(cat "$T/body")"
[ "$(github "$(gh_body refs/heads/main 0000000000000000000000000000000000000000 true)" d-del)" = 202 ] ||
	fail "deletion"
[ "$(json "$T/body" "j['jobs'] == 0 and 'deleted' in j['ignored']")" = True ] ||
	fail "deletion: $(cat "$T/body")"
[ "$(github '{"zen": "hi", "hook_id": 1}' d-ping ping)" = 202 ] || fail "ping"
[ "$(gitlab "$(gl_body refs/tags/v1 "$head")" "$secret" "Tag Push Hook")" = 202 ] ||
	fail "GitLab tag push"
[ "$(merges)" = 0 ] || fail "an ignored push scheduled merges"

# a push whose fetch fails (the remote moved away after registration):
# answered at once all the same, stored, tried again later, said why
cp -r "$T/repo" "$T/gone"
expect 201 --token "$admin" "$PORT" POST /api/v1/repos --data \
	"{\"name\": \"gone\", \"url\": \"$T/gone\", \"branch\": \"main\",
	  \"webhook_secret\": \"$secret\"}"
mv "$T/gone" "$T/gone.moved"
b=$(gh_body refs/heads/main "$head")
[ "$(req "$PORT" POST /hooks/github?repo=gone --data "$b" \
	--header "X-GitHub-Event: push" --header "X-GitHub-Delivery: d-gone" \
	--header "X-Hub-Signature-256: sha256=$(sign "$b" "$secret")")" = 202 ] ||
	fail "a push to a repository that cannot be fetched: $(cat "$T/body")"
gone=$(queued "$head")
n=0
until [ "$(req --token "$admin" "$PORT" GET "/api/v1/pushes/$gone")" = 200 ] &&
	[ "$(json "$T/body" "j['state'] == 'queued' and j['attempts'] >= 1 and 'note' in j")" = True ]; do
	n=$((n + 1))
	[ $n -lt 100 ] || fail "the failed fetch is not said: $(cat "$T/body")"
	sleep 0.2
done
[ "$(merges)" = 0 ] || fail "a push that was not fetched scheduled merges"

agent_start m1 PB_RUNS_DIR="$T/runs"
agent_start m2 PB_RUNS_DIR="$T/runs"
i=0
for sha in $(shuf "$T/shas"); do
	if [ $((i % 2)) = 0 ]; then
		st=$(github "$(gh_body refs/heads/main "$sha")" "d-$i")
	else
		st=$(gitlab "$(gl_body refs/heads/main "$sha")")
	fi
	[ "$st" = 202 ] || { cat "$T/body"; fail "push $sha: $st"; }
	echo "$(queued "$sha") $sha" >> "$T/pushes"
	[ $i = 0 ] && { replay_body=$(gh_body refs/heads/main "$sha"); }
	i=$((i + 1))
done
# a replayed delivery: nothing stored
[ "$(github "$replay_body" d-0)" = 202 ] || fail "replay"
[ "$(json "$T/body" "j['jobs'] == 0 and j['duplicate'] and not j['queued']")" = True ] ||
	fail "replayed delivery: $(cat "$T/body")"
# every push scheduled its merge's one job
while read -r id sha; do
	push_done "$id"
	[ "$(json "$T/push.json" "j['state'] == 'scheduled' and j['jobs'] == 1 and j['commit'] == '$sha'")" = True ] ||
		fail "push $id: $(cat "$T/push.json")"
done < "$T/pushes"
# a resent push (GitLab's carries no delivery id here): stored, and
# scheduled nothing new
[ "$(gitlab "$(gl_body refs/heads/main "$head")")" = 202 ] || fail "resend"
push_done "$(queued "$head")"
[ "$(json "$T/push.json" "j['state'] == 'scheduled' and j['jobs'] == 0")" = True ] ||
	fail "resent GitLab push: $(cat "$T/push.json")"
[ "$(merges)" = 30 ] || fail "$(merges) merges, want 30"
[ "$(req --token "$admin" "$PORT" GET /api/v1/pushes/999)" = 404 ] ||
	fail "an unknown push"
[ "$(req "$PORT" GET /api/v1/pushes/1)" = 401 ] || fail "pushes need a token"

alerts_settled 2
[ "$(json "$T/alerts.json" "len(j['alerts'])")" = 2 ] || fail "not two alerts"
for want in "$first" "$second"; do
	[ "$(json "$T/alerts.json" "sum(1 for a in j['alerts'] if a['bisection'])")" = 2 ] ||
		fail "an alert without its bisection"
	found=0
	for b in $(json "$T/alerts.json" "' '.join(str(a['bisection']) for a in j['alerts'])"); do
		req --token "$admin" "$PORT" GET "/api/v1/bisections/$b" > /dev/null
		[ "$(json "$T/body" "j['culprit'] == '$want' and j['verification']['confirmed']")" = True ] &&
			found=1
	done
	[ "$found" = 1 ] || { cat "$T/alerts.json"; fail "no alert bisection named $want"; }
done
# a forced push: main rewritten from commit 25 on, its 8 new commits 20 %
# slower (4 -> 5 passes).  Commits 26..29 left the branch: their points
# drop out of the series, so the new change sits between commit 25 and
# the first new commit, and the alert it raises says so.
c25=$(sed -n 26p "$T/shas")
git -C "$T/repo" reset -q --hard "$c25"
for k in 1 2 3 4 5 6 7 8; do
	sed -i 's/^#define FAST_PASSES 4$/#define FAST_PASSES 5/' "$T/repo/bench.c"
	echo "rewritten $k" > "$T/repo/NOTES"
	git -C "$T/repo" add -A
	GIT_COMMITTER_DATE="@$((1800000000 + k * 60))" git -C "$T/repo" \
		commit -q -m "rewritten $k" --date "@$((1800000000 + k * 60))"
	git -C "$T/repo" rev-parse HEAD >> "$T/new"
done
grep -q "FAST_PASSES 5" "$T/repo/bench.c" || fail "the rewrite did not slow it"
new1=$(sed -n 1p "$T/new")
k=0
for sha in $(cat "$T/new"); do
	b=$(printf '{"ref": "refs/heads/main", "before": "%s", "after": "%s", "deleted": false, "forced": true}' "$head" "$sha")
	[ "$(github "$b" "d-forced-$k")" = 202 ] || { cat "$T/body"; fail "forced push $sha"; }
	push_done "$(queued "$sha")"
	[ "$(json "$T/push.json" "j['state'] == 'scheduled' and j['jobs'] == 1 and j['forced']")" = True ] ||
		fail "forced push $sha: $(cat "$T/push.json")"
	k=$((k + 1))
done
# a late delivery of the old head, which left the branch: stored, then
# ignored, the push saying why
[ "$(github "$(gh_body refs/heads/main "$head")" d-old)" = 202 ] || fail "old head"
push_done "$(queued "$head")"
[ "$(json "$T/push.json" "j['state'] == 'ignored' and 'jobs' not in j and 'first-parent' in j['note']")" = True ] ||
	fail "old head: $(cat "$T/push.json")"
n=0
while :; do
	req --token "$admin" "$PORT" GET /api/v1/alerts > /dev/null
	cp "$T/body" "$T/alerts.json"
	# the alert whose bisection names the first new commit, done
	found=0
	for b in $(json "$T/alerts.json" "' '.join(str(a['bisection']) for a in j['alerts'] if a['bisection'])"); do
		req --token "$admin" "$PORT" GET "/api/v1/bisections/$b" > /dev/null
		[ "$(json "$T/body" "j['state'] == 'done' and j['culprit'] == '$new1' and j['verification']['confirmed']")" = True ] &&
			found=1
	done
	[ "$found" = 1 ] && break
	n=$((n + 1))
	[ "$n" -lt 300 ] || { cat "$T/alerts.json"; grep -v "GET /api/v1\|/api/v1/agents/lease\|/heartbeat\|POST /api/v1/runs" "$T/daemon.log" | tail -60;
		fail "no alert bisection named the rewritten commit"; }
	sleep 1
done
[ "$(json "$T/alerts.json" "len(j['alerts'])")" = 3 ] || fail "want 3 alerts"
# the new alert: its bad end a new commit, its good end an old commit
# still on the branch (0..25), none of those that left it (26..29)
kept=$(head -n 26 "$T/shas" | tr '\n' ' ')
news=$(tr '\n' ' ' < "$T/new")
[ "$(json "$T/alerts.json" "[a['good'] in '$kept'.split() for a in j['alerts'] if a['bad'] in '$news'.split()] == [True]")" = True ] ||
	{ cat "$T/alerts.json"; fail "the rewritten change is not between the kept line and the new commits"; }
daemon_stop
[ "$PBD_EXIT" = 0 ] || fail "perfbisectd exit $PBD_EXIT"
echo "webhooks ok"
