#!/bin/sh
# Bad input gets a clear message and exit 2.
. "$PB_FIXTURES/lib.sh"
sh "$PB_FIXTURES/mkrepo.sh" "$T/repo" 4 99 > "$T/shas"
# a side branch never merged into main: not an ancestor of it (a merged
# one is accepted, t0022)
(cd "$T/repo" && export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@x \
	GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@x &&
	git checkout -q -b side main~2 && echo s > S && git add S &&
	git commit -q -m side && git checkout -q main)
check() { # WANT_MESSAGE ARGS...
	msg=$1; shift
	set +e
	"$PERFBISECT" bisect "$@" > "$T/out" 2> "$T/err"
	got=$?
	set -e
	[ "$got" -eq 2 ] || { cat "$T/err"; fail "exit $got, want 2: $*"; }
	grep -q -- "$msg" "$T/err" || { cat "$T/err"; fail "no '$msg' in the error"; }
	[ ! -s "$T/out" ] || fail "stdout must stay empty"
}
check "unknown revision 'nope'" --local --repo "$T/repo" --good nope --bad main \
	--build "$BUILD" --run "$RUN" --metric score --state-dir "$T/st"
check "not an ancestor" --local --repo "$T/repo" --good side --bad main \
	--build "$BUILD" --run "$RUN" --metric score --state-dir "$T/st"
check "not an ancestor" --local --repo "$T/repo" --good main --bad main~2 \
	--build "$BUILD" --run "$RUN" --metric score --state-dir "$T/st"
check "missing --metric" --local --repo "$T/repo" --good main~2 --bad main \
	--build "$BUILD" --run "$RUN"
check "missing --local" --repo "$T/repo" --good main~2 --bad main \
	--build "$BUILD" --run "$RUN" --metric score
check "unknown or incomplete option '--frobnicate'" --local --frobnicate
check "not a git repository" --local --repo "$T" --good a --bad b \
	--build "$BUILD" --run "$RUN" --metric score --state-dir "$T/st"
check "confidence" --local --repo "$T/repo" --good main~2 --bad main \
	--build "$BUILD" --run "$RUN" --metric score --confidence 1.5
check "thp takes always, madvise or never" --local --repo "$T/repo" \
	--good main~2 --bad main --build "$BUILD" --run "$RUN" --metric score \
	--config thp=sometimes --state-dir "$T/st"
check "needs a network interface" --local --repo "$T/repo" --good main~2 \
	--bad main --build "$BUILD" --run "$RUN" --metric score \
	--config irq_affinity=local --state-dir "$T/st"
check "empty event name" --local --repo "$T/repo" --good main~2 \
	--bad main --build "$BUILD" --run "$RUN" --metric score \
	--events "cycles,,instructions" --state-dir "$T/st"
check "snoop mode 'fast'" --local --repo "$T/repo" --good main~2 \
	--bad main --build "$BUILD" --run "$RUN" --metric score \
	--snoop fast --state-dir "$T/st"
check "this machine runs kernel" --local --repo "$T/repo" --good main~2 \
	--bad main --build "$BUILD" --run "$RUN" --metric score \
	--config kernel=0.0.1-none --state-dir "$T/st"
# the benchmark never prints the metric at an end
check "never gave the metric" --local --repo "$T/repo" --good main~3 --bad main~1 \
	--build "$BUILD" --run "$RUN" --metric no_such_metric \
	--state-dir "$T/st"
grep -q "no 'no_such_metric: VALUE' line" "$T/err" || fail "reason of the failed runs"
# a value no measurement reaches: failed runs, and the reason says why
check "never gave the metric" --local --repo "$T/repo" --good main~3 --bad main~1 \
	--build "$BUILD" --run 'echo score: 1e300' --metric score \
	--state-dir "$T/st"
grep -q "is 1e+300, beyond" "$T/err" || fail "reason of a value beyond 1e100"
# a build that fails at an end
check "cannot be built" --local --repo "$T/repo" --good main~3 --bad main~1 \
	--build "false" --run "$RUN" --metric score --state-dir "$T/st"
# a state directory that cannot be created: infrastructure, exit 3
expect_exit 3 "$PERFBISECT" bisect --local --repo "$T/repo" --good main~3 \
	--bad main~1 --build "$BUILD" --run "$RUN" --metric score \
	--state-dir /proc/nope 2> "$T/err"
