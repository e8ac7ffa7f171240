#!/bin/sh
# A 12 % shift (28 hashing passes instead of 25 from commit 17 of 30 on)
# is found at confidence 0.999 and called a shift.  (A benchmark bimodal at
# the same rate at both ends is not yet reliably called "no regression":
# see test_engine__no_regression_bimodal.)
. "$PB_FIXTURES/lib.sh"
FAST_PASSES=25 SLOW_PASSES=28 OPS=6 sh "$PB_FIXTURES/mkrepo.sh" "$T/shift" \
	30 17 > "$T/shift.shas"
culprit=$(sed -n 18p "$T/shift.shas")
expect_exit 0 "$PERFBISECT" bisect --local --repo "$T/shift" --good main~29 \
	--bad main --build "$BUILD" --run "$RUN" --metric score --seed 3 \
	--confidence 0.999 --state-dir "$T/s1" --json > "$T/shift.json" \
	2> "$T/shift.err"
cat "$T/shift.err"
o="$T/shift.json"
[ "$(json "$o" 'j["culprit"]')" = "$culprit" ] || fail "shift: wrong culprit"
[ "$(json "$o" 'j["mode"]')" = shift ] || fail "shift: mode"
[ "$(json "$o" 'j["confidence"] >= 0.999')" = True ] || fail "shift: confidence"
# the two modes are 12 % apart, and the rank tests see the difference
[ "$(json "$o" '0.06 < 1 - j["model"]["slow_mode"] / j["model"]["fast_mode"] < 0.2')" = True ] \
	|| fail "shift: modes $(json "$o" 'j["model"]')"
[ "$(json "$o" 'j["model"]["mwu_p"] < 0.01')" = True ] || fail "shift: MWU"

