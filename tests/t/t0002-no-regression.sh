#!/bin/sh
# Nothing regressed between good and bad: exit 1, "culprit": null, mode none.
. "$PB_FIXTURES/lib.sh"
sh "$PB_FIXTURES/mkrepo.sh" "$T/repo" 12 99 > "$T/shas"
expect_exit 1 "$PERFBISECT" bisect --local --repo "$T/repo" --good main~11 \
	--bad main --build "$BUILD" --run "$RUN" --metric score --seed 1 \
	--confidence 0.999 --state-dir "$T/state" --json > "$T/out.json" \
	2> "$T/err"
cat "$T/err"
[ "$(json "$T/out.json" 'j["culprit"]')" = None ] || fail "culprit must be null"
[ "$(json "$T/out.json" 'j["mode"]')" = none ] || fail "mode must be none"
grep -q "no regression" "$T/err" || fail "no plain verdict"
