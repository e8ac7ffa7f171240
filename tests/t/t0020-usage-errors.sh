#!/bin/sh
# A usage error says what is wrong in one line and where the help is (per
# command: bisect, demo, report, detect), never the whole help text; the
# help itself is still there.  `report --db` given a directory (the state
# directory, say) or a missing file says so, with exit 2.
. "$PB_FIXTURES/lib.sh"
# usage TOPIC WANT_MESSAGE ARGS...: exit 2, two lines on stderr, nothing on
# stdout
usage() {
	topic=$1 msg=$2
	shift 2
	set +e
	"$PERFBISECT" "$@" > "$T/out" 2> "$T/err"
	got=$?
	set -e
	cat "$T/err"
	[ "$got" -eq 2 ] || fail "exit $got, want 2: $*"
	[ ! -s "$T/out" ] || fail "stdout must stay empty: $*"
	[ "$(wc -l < "$T/err")" -eq 2 ] || fail "not two lines: $*"
	grep -q -- "$msg" "$T/err" || fail "no '$msg': $*"
	[ "$(sed -n 2p "$T/err")" = "see \`perfbisect help${topic:+ $topic}\`" ] ||
		fail "no pointer to the help: $*"
}
usage bisect "unknown or incomplete option '--frobnicate'" bisect --local --frobnicate
usage bisect "missing --metric" bisect --local --repo . --good a --bad b \
	--build true --run true
usage bisect "missing --local" bisect --repo . --good a --bad b
usage bisect "--max-runs: 0 is out of range" bisect --max-runs 0
usage bisect "confidence" bisect --confidence 2
usage demo "unexpected argument 'x'" demo x
usage demo "unknown or incomplete option '--bogus'" demo --bogus
usage report "missing --out" report --db x
usage detect "missing FILE" detect --json
usage detect "--window" detect --window 1 f
usage "" "unknown command 'frobnicate'" frobnicate
# the help is where the pointer says
"$PERFBISECT" help bisect > "$T/help"
grep -q -- "--max-runs N" "$T/help" || fail "help bisect lacks the options"
"$PERFBISECT" bisect --help > "$T/help2"
cmp -s "$T/help" "$T/help2" || fail "bisect --help differs from help bisect"

# report --db DIR: a directory is not a database
mkdir -p "$T/state"
expect_exit 2 "$PERFBISECT" report --db "$T/state" --out "$T/r" 2> "$T/err"
cat "$T/err"
grep -q "'$T/state' is a directory" "$T/err" || fail "report --db DIR"
# a state directory with its database: the message names the file
: > "$T/state/perfbisect.db"
expect_exit 2 "$PERFBISECT" report --db "$T/state" --out "$T/r" 2> "$T/err"
grep -q "'$T/state/perfbisect.db': give that" "$T/err" || fail "the file in DIR"
expect_exit 2 "$PERFBISECT" report --db "$T/missing.db" --out "$T/r" 2> "$T/err"
grep -q "missing.db': No such file" "$T/err" || fail "a missing --db"
[ ! -e "$T/r" ] || fail "a report was written"
