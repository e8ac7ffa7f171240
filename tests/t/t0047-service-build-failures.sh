#!/bin/sh
# Builds that fail, through the service: the agent reports them
# (build-failed), the commits are skipped, never blamed, and the verdicts,
# exit statuses and JSON of `bisect --server --wait --json` are those of
# `bisect --local` on the same repositories (t0003): with the slowdown at
# 15 and broken builds at 5..8 the culprit is 15, exit 0; with the slowdown
# at 7, inside the broken range, no single culprit: exit 1 and
# "culprit_range" names commits 5..9.
. "$PB_FIXTURES/lib.sh"
. "$PB_FIXTURES/daemon.sh"

mkdir -p "$T/runs" && chmod 777 "$T/runs"
PB_RUNS_DIR="$T/runs" sh "$PB_FIXTURES/mkrepo.sh" "$T/r1" 20 15 5 8 > "$T/s1"
PB_RUNS_DIR="$T/runs" sh "$PB_FIXTURES/mkrepo.sh" "$T/r2" 20 7 5 8 > "$T/s2"

service_start
register r1 "$T/r1"
register r2 "$T/r2"
agent_start b1 PB_RUNS_DIR="$T/runs"

remote() { # REPO OUT: bisect --server --wait --json; prints the exit status
	set +e
	"$PERFBISECT" bisect --server "$URL" --token-file "$T/client.token" \
		--repo "$1" --benchmark score --good main~19 --bad main \
		--seed 1 --wait --json > "$2" 2> "$2.err"
	echo $?
	set -e
}
rc1=$(remote r1 "$T/o1.json")
[ "$rc1" = 0 ] || { cat "$T/o1.json.err" "$T/b1.log"; fail "r1: exit $rc1, want 0"; }
[ "$(json "$T/o1.json" 'j["culprit"]')" = "$(sed -n 16p "$T/s1")" ] ||
	{ cat "$T/o1.json"; fail "r1: the culprit"; }
[ "$(json "$T/o1.json" 'j["verification"]["confirmed"]')" = True ] ||
	fail "r1: the culprit is not verified"

rc2=$(remote r2 "$T/o2.json")
[ "$rc2" = 1 ] || { cat "$T/o2.json.err" "$T/o2.json"; fail "r2: exit $rc2, want 1"; }
[ "$(json "$T/o2.json" 'j["culprit"]')" = None ] || fail "r2: culprit must be null"
[ "$(json "$T/o2.json" 'j["culprit_range"][0]')" = "$(sed -n 6p "$T/s2")" ] ||
	{ cat "$T/o2.json"; fail "r2: range start"; }
[ "$(json "$T/o2.json" 'j["culprit_range"][1]')" = "$(sed -n 10p "$T/s2")" ] ||
	fail "r2: range end"
skipped=$(json "$T/o2.json" 'sorted(s["commit"] for s in j["steps"] if s["verdict"] == "skip")')
for k in 6 7 8 9; do
	sha=$(sed -n ${k}p "$T/s2")
	case "$skipped" in *"$sha"*) ;; *) fail "r2: commit $((k - 1)) not skipped" ;; esac
done
# the build failures are stored with the agent's log tail, not as runs
c5=$(sed -n 6p "$T/s2") c6=$(sed -n 7p "$T/s2")
[ "$(sqlite3 "$DB" "SELECT count(*) FROM runs r JOIN commits c ON c.id = r.commit_id WHERE c.sha IN ('$c5', '$c6') AND r.orphan = 0 AND r.status = 'ok'")" = 0 ] ||
	fail "a commit that does not build has runs"
sqlite3 "$DB" "SELECT b.log FROM builds b JOIN commits c ON c.id = b.commit_id WHERE c.sha IN ('$c5', '$c6') AND b.status = 'failed' AND b.machine = 'b1'" > "$T/buildlog"
grep -q "error" "$T/buildlog" || { cat "$T/buildlog"; fail "no compiler error in the stored build log"; }

kill -TERM "$apid"
wait "$apid" 2>/dev/null || true

# --local on the same repository: the same verdict, exit status and keys
expect_exit 1 "$PERFBISECT" bisect --local --repo "$T/r2" --good main~19 \
	--bad main --build "$BUILD" --run "$RUN" --metric score --seed 1 \
	--state-dir "$T/state2" --json > "$T/l2.json" 2> "$T/l2.err"
for e in 'j["verdict"]' 'j["culprit_range"]' 'sorted(j.keys())'; do
	[ "$(json "$T/l2.json" "$e")" = "$(json "$T/o2.json" "$e")" ] ||
		fail "--local and --server differ in $e: $(json "$T/l2.json" "$e") / $(json "$T/o2.json" "$e")"
done
daemon_stop
[ "$PBD_EXIT" = 0 ] || fail "perfbisectd exit $PBD_EXIT"
exit 0
