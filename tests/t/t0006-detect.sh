#!/bin/sh
# perfbisect detect: change points of a history file, plain values or
# commit,value runs (bimodal or not), and bad input (exit 2, a message).
. "$PB_FIXTURES/lib.sh"

# detect ARGS... - runs detect --json into $T/out, must exit 0
detect() {
	set +e
	"$PERFBISECT" detect --json "$@" > "$T/out" 2> "$T/err"
	got=$?
	set -e
	[ "$got" -eq 0 ] || { cat "$T/err"; fail "detect $*: exit $got"; }
}
# points - "index:series:commit" of every change point, one per line
points() {
	json "$T/out" '"\n".join("%d:%s:%s" % (c["index"], c["series"], c["commit"]) for c in j["change_points"])'
}
sha() { printf 'commit %s' "$1" | sha1sum | cut -c1-40; }

# 1. Otava's Tigerbeetle history: window 30, p 0.01, magnitude 0.05
tb="$PB_FIXTURES/tigerbeetle-otava.txt"
detect --window 30 --pvalue 0.01 --min-magnitude 0.05 "$tb"
[ "$(points)" = "$(printf '15:value:None\n71:value:None')" ] ||
	fail "tigerbeetle: $(points)"
json "$T/out" 'sorted(j["change_points"][0])' |
	grep -q "'after', 'before', 'commit', 'index', 'p_value', 'series'" ||
	fail "keys: $(cat "$T/out")"
[ "$(json "$T/out" 'j["change_points"][0]["before"] > j["change_points"][0]["after"] and j["change_points"][0]["p_value"] < 0.01')" = True ] ||
	fail "before/after/p_value: $(cat "$T/out")"
# options after FILE, and the table for a person
"$PERFBISECT" detect "$tb" --window 30 --pvalue 0.05 --min-magnitude 0.05 \
	> "$T/table" || fail "table: exit $?"
grep -q "365 values" "$T/table" || fail "table header: $(cat "$T/table")"
grep -Eq '^ +15 +- +value ' "$T/table" || fail "table row 15: $(cat "$T/table")"
grep -Eq '^ +71 +- +value ' "$T/table" || fail "table row 71: $(cat "$T/table")"

# 2. bimodal runs: 30 commits of 10 runs; from commit 15 on, half the runs
# fall into a slow mode (16k against 45k)
: > "$T/bimodal.csv"
i=0
while [ $i -lt 30 ]; do
	s=$(sha $i)
	[ $i -eq 15 ] && culprit=$s
	r=0
	while [ $r -lt 10 ]; do
		j=$(( (i * 7 + r * 13) % 11 - 5 ))
		if [ $i -ge 15 ] && [ $((r % 2)) -eq 1 ]; then
			v=$((16000 + j * 20))
		else
			v=$((45000 + j * 40))
		fi
		echo "$s,$v" >> "$T/bimodal.csv"
		r=$((r + 1))
	done
	i=$((i + 1))
done
detect "$T/bimodal.csv"
points | grep -qx "15:slow_fraction:$culprit" || fail "bimodal: $(points)"
[ "$(points | grep -c slow_fraction)" -eq 1 ] || fail "bimodal: $(points)"
[ "$(json "$T/out" '[(c["before"], c["after"]) for c in j["change_points"] if c["series"] == "slow_fraction"]')" = "[(0.0, 0.5)]" ] ||
	fail "slow fraction 0 -> 0.5: $(cat "$T/out")"
"$PERFBISECT" detect "$T/bimodal.csv" > "$T/table" || fail "table: exit $?"
grep -q "runs are bimodal" "$T/table" || fail "bimodal table: $(cat "$T/table")"
grep -q "75 of 300 slow" "$T/table" || fail "slow count: $(cat "$T/table")"

# the same as latencies (lower is better): the slow mode is the upper one
sed 's/,\([0-9]*\)$/,-\1/' "$T/bimodal.csv" > "$T/neg.csv"
detect --lower-is-better "$T/neg.csv"
points | grep -qx "15:slow_fraction:$culprit" || fail "lower is better: $(points)"
detect "$T/neg.csv"    # wrong direction: the fast runs are called slow
[ "$(json "$T/out" '[(c["before"], c["after"]) for c in j["change_points"] if c["series"] == "slow_fraction"]')" = "[(1.0, 0.5)]" ] ||
	fail "higher is better on latencies: $(cat "$T/out")"

# 3. a plain shift: 30 commits of 5 runs, 1000 -> 900 at commit 20; each
# commit is all fast or all slow, so the medians are searched
echo "commit,value" > "$T/shift.csv"
i=0
while [ $i -lt 30 ]; do
	s=$(sha "shift $i")
	[ $i -eq 20 ] && culprit=$s
	r=0
	while [ $r -lt 5 ]; do
		j=$(( (i * 5 + r * 3) % 7 - 3 ))
		if [ $i -ge 20 ]; then v=$((900 + j)); else v=$((1000 + j)); fi
		echo "$s,$v" >> "$T/shift.csv"
		r=$((r + 1))
	done
	i=$((i + 1))
done
detect "$T/shift.csv"
[ "$(points)" = "20:median:$culprit" ] || fail "shift: $(points)"

# one run per commit: the values themselves, with their commits
awk -F, 'NR > 1 && (NR - 2) % 5 == 0' "$T/shift.csv" > "$T/single.csv"
detect --pvalue 0.01 "$T/single.csv"
[ "$(points)" = "20:value:$culprit" ] || fail "one run per commit: $(points)"

# nothing to find is not an error
printf '5\n5\n5\n5\n5\n5\n' > "$T/flat.txt"
detect "$T/flat.txt"
[ "$(cat "$T/out")" = '{"change_points":[]}' ] || fail "flat: $(cat "$T/out")"
"$PERFBISECT" detect "$T/flat.txt" | grep -q "no change points" ||
	fail "flat table"

# 4. bad input: exit 2, a clear message, nothing on stdout
bad() { # WANT_MESSAGE ARGS...
	msg=$1; shift
	set +e
	"$PERFBISECT" detect "$@" > "$T/out" 2> "$T/err"
	got=$?
	set -e
	[ "$got" -eq 2 ] || { cat "$T/err"; fail "exit $got, want 2: $*"; }
	grep -qF -- "$msg" "$T/err" || { cat "$T/err"; fail "no '$msg' in the error"; }
	[ ! -s "$T/out" ] || fail "stdout must stay empty: $*"
}
printf '1\n2\nabc\n4\n' > "$T/garbage.txt"
bad "$T/garbage.txt:3: 'abc' is not a number" "$T/garbage.txt"
printf '1\n2\n3\ninf\n' > "$T/inf.txt"
bad "$T/inf.txt:4: value 'inf' is not finite" "$T/inf.txt"
printf '1\nnan\n' > "$T/nan.txt"
bad "$T/nan.txt:2: value 'nan' is not finite" "$T/nan.txt"
printf '1\n1e999\n' > "$T/huge.txt"
bad "$T/huge.txt:2: value '1e999' is out of range" "$T/huge.txt"
: > "$T/empty.txt"
bad "$T/empty.txt: no values" "$T/empty.txt"
printf '# only a comment\n\n' > "$T/comment.txt"
bad "$T/comment.txt: no values" "$T/comment.txt"
printf 'a,1\nb,2\n3\n' > "$T/mixed.txt"
bad "$T/mixed.txt:3: expected 'commit,value', as on line 1" "$T/mixed.txt"
printf '1\n2\na,3\n' > "$T/mixed2.txt"
bad "$T/mixed2.txt:3: expected a single value, as on line 1" "$T/mixed2.txt"
printf 'a,1\nb,2,3\n' > "$T/fields.txt"
bad "$T/fields.txt:2: expected 'commit,value', found more than two fields" \
	"$T/fields.txt"
printf 'a,1\n,2\n' > "$T/nocommit.txt"
bad "$T/nocommit.txt:2: empty commit name" "$T/nocommit.txt"
printf 'a,1\nb,\n' > "$T/novalue.txt"
bad "$T/novalue.txt:2: missing value" "$T/novalue.txt"
printf '1\n2\0\n' > "$T/nul.txt"
bad "$T/nul.txt:2: NUL byte" "$T/nul.txt"
awk 'BEGIN { s = ""; for (i = 0; i < 5000; i++) s = s "1"; print 1; print s }' \
	> "$T/long.txt"
bad "$T/long.txt:2: line longer than 4096 bytes" "$T/long.txt"
bad "cannot open '$T/nope.txt'" "$T/nope.txt"
bad "cannot read '$T'" "$T"
bad "missing FILE"
bad "unexpected argument" "$tb" "$tb"
bad "unknown or incomplete option '--frobnicate'" --frobnicate "$tb"
bad "--window: 1 is out of range" --window 1 "$tb"
bad "--window: 'x' is not a number" --window x "$tb"
bad "--pvalue: '0' is not in (0, 1]" --pvalue 0 "$tb"
bad "--pvalue: '1.5' is not in (0, 1]" --pvalue 1.5 "$tb"
bad "--min-magnitude: -1 is out of range" --min-magnitude -1 "$tb"
bad "--min-magnitude: value 'nan' is not finite" --min-magnitude nan "$tb"

# 5. help
"$PERFBISECT" detect --help | grep -q "usage: perfbisect detect" || fail "--help"
"$PERFBISECT" help detect | grep -q "slow_fraction" || fail "help detect"
"$PERFBISECT" help | grep -q "detect" || fail "help lists detect"
