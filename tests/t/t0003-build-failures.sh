#!/bin/sh
# Commits whose build fails are skipped, never blamed: with the slowdown at
# 15 and broken builds at 5..8 the culprit is still 15; with the slowdown at
# 7, inside the broken range, there is no single culprit: exit 1 and
# "culprit_range" names commits 5..9.
. "$PB_FIXTURES/lib.sh"
sh "$PB_FIXTURES/mkrepo.sh" "$T/r1" 20 15 5 8 > "$T/s1"
expect_exit 0 "$PERFBISECT" bisect --local --repo "$T/r1" --good main~19 \
	--bad main --build "$BUILD" --run "$RUN" --metric score --seed 1 \
	--state-dir "$T/state1" --json > "$T/o1.json" 2> "$T/e1"
[ "$(json "$T/o1.json" 'j["culprit"]')" = "$(sed -n 16p "$T/s1")" ] || fail "culprit"

sh "$PB_FIXTURES/mkrepo.sh" "$T/r2" 20 7 5 8 > "$T/s2"
expect_exit 1 "$PERFBISECT" bisect --local --repo "$T/r2" --good main~19 \
	--bad main --build "$BUILD" --run "$RUN" --metric score --seed 1 \
	--state-dir "$T/state2" --json > "$T/o2.json" 2> "$T/e2"
cat "$T/e2"
[ "$(json "$T/o2.json" 'j["culprit"]')" = None ] || fail "culprit must be null"
[ "$(json "$T/o2.json" 'j["culprit_range"][0]')" = "$(sed -n 6p "$T/s2")" ] || fail "range start"
[ "$(json "$T/o2.json" 'j["culprit_range"][1]')" = "$(sed -n 10p "$T/s2")" ] || fail "range end"
skipped=$(json "$T/o2.json" 'sorted(s["commit"] for s in j["steps"] if s["verdict"] == "skip")')
for k in 6 7 8 9; do
	sha=$(sed -n ${k}p "$T/s2")
	case "$skipped" in *"$sha"*) ;; *) fail "commit $((k - 1)) not skipped" ;; esac
done
