#!/bin/sh
# bench/bisect-sim, small: the tables it prints, that a seed fixes them
# whatever the number of worker processes, progress only on a terminal,
# and bad arguments (exit 2, a message).  Under the sanitizers of the
# check build, so its forks, pipes and shared counters are checked too.
. "$PB_FIXTURES/lib.sh"
SIM=${PB_BISECT_SIM:?run through tests/run.sh}

# 1. one agent, q1 0.5: every method's row, the bound, the engine right
"$SIM" --n 200 --q1 0.5 --trials 30 --seed 3 --jobs 2 > "$T/a" 2> "$T/a.err" ||
	fail "exit $?: $(cat "$T/a.err")"
[ ! -s "$T/a.err" ] || fail "stderr not a terminal, yet: $(cat "$T/a.err")"
grep -q '^custom: N=200 q1=0.50 q0=0.00 noise=3% K=1 confidence=0.990 trials=30 seed=3$' "$T/a" ||
	fail "header: $(cat "$T/a")"
# the engine's rows also say how often it named a wrong culprit, with the
# Wilson upper bound; the baselines' do not
for m in engine oracle; do
	grep -Eq "^  $m +[01]\.[0-9]{4} +[01]\.[0-9]{4} +[0-9]+\.[0-9] +[0-9]+ +[0-9]+ +[01]\.[0-9]{4} +[01]\.[0-9]{4}$" "$T/a" ||
		fail "row $m: $(cat "$T/a")"
done
for m in bisect-1 bisect-5 bisect-7 bisect-10 bisect-14; do
	grep -Eq "^  $m +[01]\.[0-9]{4} +[01]\.[0-9]{4} +[0-9]+\.[0-9] +[0-9]+ +[0-9]+$" "$T/a" ||
		fail "row $m: $(cat "$T/a")"
done
# log2(200) / C(0.5) = 7.64 / 0.3219
grep -Eq '^  bound +23\.7 ' "$T/a" || fail "bound: $(cat "$T/a")"
acc() { awk -v m="$1" '$1 == m { print $2 }' "$2"; }
runs() { awk -v m="$1" '$1 == m { print $4 }' "$2"; }
awk -v e="$(acc engine "$T/a")" -v b="$(acc bisect-1 "$T/a")" \
	'BEGIN { exit !(e >= 0.9 && b < e) }' ||
	fail "engine $(acc engine "$T/a"), bisect-1 $(acc bisect-1 "$T/a")"
# bisect-R spends R runs at each of its probes: more repeats, more runs
awk -v a="$(runs bisect-5 "$T/a")" -v b="$(runs bisect-14 "$T/a")" \
	'BEGIN { exit !(a < b) }' || fail "bisect-5 vs bisect-14: $(cat "$T/a")"

# 2. the same seed, one worker at a time: the same table
"$SIM" --n 200 --q1 0.5 --trials 30 --seed 3 --jobs 1 > "$T/b" 2>&1 ||
	fail "jobs 1: exit $?"
cmp -s "$T/a" "$T/b" || fail "jobs 1 differs: $(diff "$T/a" "$T/b")"
# another seed, other histories
"$SIM" --n 200 --q1 0.5 --trials 30 --seed 4 --no-baselines > "$T/c" 2>&1 ||
	fail "seed 4: exit $?"
grep -q 'seed=4$' "$T/c" || fail "seed 4 header: $(cat "$T/c")"
# told a fixed q0 (a belief, not the truth): its own line
"$SIM" --n 200 --q1 0.5 --trials 10 --seed 4 --no-baselines --told-q0 0.01 \
	> "$T/q" 2>&1 || fail "told-q0: exit $?"
grep -Eq '^  q0=0\.01 +[01]\.[0-9]{4} ' "$T/q" || fail "told-q0: $(cat "$T/q")"
! grep -q bisect- "$T/c" || fail "--no-baselines: $(cat "$T/c")"

# 3. four agents: rounds (printed to 0.1, so 4 x rounds may fall 0.2 short
# of the runs it rounds); and a history where nothing changed
"$SIM" --n 200 --k 4 --trials 20 --seed 5 > "$T/k" 2>&1 || fail "k 4: exit $?"
grep -Eq '^  method +accuracy +wilson95 +mean-runs +p95 +p99 +rounds +p95 +wrong +wilson95$' "$T/k" ||
	fail "rounds header: $(cat "$T/k")"
awk '$1 == "engine" { r = $7; n = $4 } END { exit !(r > 0 && (r + 0.05) * 4 >= n) }' "$T/k" ||
	fail "rounds: $(cat "$T/k")"
"$SIM" --n 200 --q0 0.3 --q1 0.3 --trials 20 --seed 6 > "$T/n" 2>&1 ||
	fail "no change: exit $?"
grep -q 'nothing changed: "accuracy" is the share that said no regression' "$T/n" ||
	fail "no change: $(cat "$T/n")"
# 3b. the machine changing under the runs: the drift is said in the header
"$SIM" --n 200 --q1 0.5 --trials 10 --seed 7 --no-baselines --drift step > "$T/d" 2>&1 ||
	fail "drift: exit $?"
grep -q 'drift=step$' "$T/d" || fail "drift header: $(cat "$T/d")"
"$SIM" --drift sideways > "$T/d2" 2>&1 && fail "a bad --drift was taken"
grep -q "not none, step, ramp, bursts or bursts-unflagged" "$T/d2" || fail "bad --drift: $(cat "$T/d2")"

# 4. progress, on a terminal only (script(1) gives the run one)
if command -v script > /dev/null; then
	script -qc "'$SIM' --n 200 --q1 0.5 --trials 20 --no-baselines > '$T/tty.out'" \
		"$T/tty" > /dev/null 2>&1 < /dev/null || fail "under script: exit $?"
	grep -Eq 'custom: engine [0-9]+/20' "$T/tty" ||
		fail "no progress on a terminal: $(cat -v "$T/tty")"
	grep -q '^  engine ' "$T/tty.out" || fail "table under script: $(cat "$T/tty.out")"
fi

# 5. bad arguments: exit 2 and why; --help exits 0
for args in "--q0 0.6 --q1 0.5" "--jobs 9" "--trials 0" "--confidence 1" \
	    "--q1 x" "--told-q0 0.6" "--bogus"; do
	set +e
	# shellcheck disable=SC2086
	"$SIM" $args > "$T/o" 2> "$T/e"
	got=$?
	set -e
	[ "$got" -eq 2 ] || fail "$args: exit $got"
	[ -s "$T/e" ] || fail "$args: no message"
	[ ! -s "$T/o" ] || fail "$args: stdout $(cat "$T/o")"
done
"$SIM" --help > "$T/h" || fail "--help: exit $?"
grep -q -- '--acceptance' "$T/h" || fail "--help: $(cat "$T/h")"
echo ok
