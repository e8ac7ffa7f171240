#!/bin/sh
# A planted 2x slowdown (twice the hashing per operation) at commit 15 of
# 24: bisect --local --json names it and exits 0; as root, every run
# provably ran as the unprivileged user.
. "$PB_FIXTURES/lib.sh"
sh "$PB_FIXTURES/mkrepo.sh" "$T/repo" 24 15 > "$T/shas"
culprit=$(sed -n 16p "$T/shas")
expect_exit 0 "$PERFBISECT" bisect --local --repo "$T/repo" --good main~23 \
	--bad main --build "$BUILD" --run "$RUN" --metric score --seed 1 \
	--confidence 0.999 --state-dir "$T/state" --json > "$T/out.json" \
	2> "$T/err"
cat "$T/err"
[ "$(json "$T/out.json" 'j["culprit"]')" = "$culprit" ] || fail "wrong culprit"
[ "$(json "$T/out.json" 'j["mode"]')" = shift ] || fail "mode"
[ "$(json "$T/out.json" '0.999 <= j["confidence"] <= 1')" = True ] || fail "confidence"
[ "$(json "$T/out.json" 'j["runs"] > 0 and j["builds"] > 2')" = True ] || fail "counts"
# a shift: the runs of bad commits are slow, those of good ones fast (a run
# misread by a load spike on a busy machine is allowed, up to two)
[ "$(json "$T/out.json" 'sum(s["fast"] if s["verdict"] == "bad" else s["slow"] for s in j["steps"] if s["verdict"] in ("good", "bad")) <= 2')" = True ] || fail "slow_fraction"
[ "$(json "$T/out.json" 'all(s["slow_fraction"] is not None for s in j["steps"] if s["verdict"] in ("good", "bad"))')" = True ] || fail "slow_fraction missing"
[ "$(json "$T/out.json" 'j["credible_interval"] == [j["culprit"], j["culprit"]]')" = True ] || fail "credible interval"
# the contrast: the culprit's runs slow, its parent's fast (one slow run
# in ten at the parent is allowed: on a shared machine a run can be slowed
# by what the interference check cannot see, such as steal or caches)
[ "$(json "$T/out.json" 'j["evidence"]["culprit"]["slow"] >= 1 and j["evidence"]["culprit"]["fast"] == 0 and j["evidence"]["parent"]["slow"] * 10 <= j["evidence"]["parent"]["fast"]')" = True ] ||
	fail "evidence: $(json "$T/out.json" 'j["evidence"]')"
[ "$(json "$T/out.json" '[s["verdict"] for s in j["steps"] if s["commit"] == j["culprit"]][0]')" = bad ] || fail "culprit step"
grep -q "culprit: $culprit" "$T/err" || fail "no verdict on stderr"
test -s "$(json "$T/out.json" 'j["report"]')" || fail "no report page"
grep -q "$culprit" "$(json "$T/out.json" 'j["report"]')" || fail "report lacks the culprit"
if [ "$(id -u)" -eq 0 ]; then
	uids=$(sqlite3 "$T/state/perfbisect.db" \
		"SELECT DISTINCT CAST(json_extract(metrics, '\$.uid') AS INTEGER) || ':' || run_as FROM runs")
	[ "$uids" = "65534:nobody" ] || fail "benchmarks ran as '$uids'"
fi
