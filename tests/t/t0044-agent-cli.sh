#!/bin/sh
# perfbisect-agent without a server: a usage error is one line naming the
# problem and the help; the help is there; a token file that cannot be
# read, is open to others or is empty is refused before anything else,
# and the token never shows; a server that is down makes the agent back
# off and keep its spool, and with --once --give-up it exits 3 saying it
# could not reach the server; two agents never share a work directory.
. "$PB_FIXTURES/lib.sh"
AGENT=${PERFBISECT_AGENT:-$(dirname "$PERFBISECT")/perfbisect-agent}
[ -x "$AGENT" ] || fail "no perfbisect-agent beside $PERFBISECT"
SECRET=s3cr3t-agent-token-0123
printf '%s\n' "$SECRET" > "$T/token"
chmod 600 "$T/token"
mkdir "$T/sys"

# usage MESSAGE ARGS...: exit 2, one line on stderr, nothing on stdout
usage() {
	msg=$1
	shift
	set +e
	"$AGENT" "$@" > "$T/out" 2> "$T/err"
	got=$?
	set -e
	cat "$T/err"
	[ "$got" -eq 2 ] || fail "exit $got, want 2: $*"
	[ ! -s "$T/out" ] || fail "stdout must stay empty: $*"
	[ "$(wc -l < "$T/err")" -eq 1 ] || fail "not one line: $*"
	grep -q -- "$msg" "$T/err" || fail "no '$msg': $*"
	grep -q -- "(see perfbisect-agent --help)" "$T/err" ||
		fail "no pointer to the help: $*"
	! grep -q "$SECRET" "$T/err" || fail "the token was shown: $*"
}
set -- --server http://127.0.0.1:9 --token-file "$T/token" --name a1 \
	--work-dir "$T/work" --sysroot "$T/sys"
usage "missing --server"
usage "missing --token-file" --server http://127.0.0.1:9
usage "missing --name" --server http://127.0.0.1:9 --token-file "$T/token"
usage "missing --work-dir" --server http://x --token-file "$T/token" --name a
usage "unknown or incomplete option '--frobnicate'" "$@" --frobnicate
usage "unexpected argument 'extra'" "$@" extra
usage "is not an http:// or https:// URL" --server ftp://x \
	--token-file "$T/token" --name a1 --work-dir "$T/work"
usage "--name 'a b'" --server http://x --token-file "$T/token" \
	--name "a b" --work-dir "$T/work"
usage "--give-up is for --once" "$@" --give-up 3
usage "--cache-size '12Q' is not a size" "$@" --cache-size 12Q
usage "--backoff-max" "$@" --backoff-max 0
usage "--hooks-dir '$T/nope' is not a directory" "$@" --hooks-dir "$T/nope"
[ ! -e "$T/work" ] || fail "a usage error made the work directory"

# the help: every option, on stdout, exit 0
"$AGENT" --help > "$T/help"
for opt in "--server URL" "--token-file FILE" "--name NAME" "--work-dir DIR" \
	"--sysroot DIR" "--once" "--hooks-dir DIR" "--give-up S" \
	"--cache-size SIZE" "--no-ccache" "--backoff-max S" "--run-as USER" \
	"Exit status"; do
	grep -q -- "$opt" "$T/help" || fail "help lacks '$opt'"
done

# token files: missing, open to group or others, empty, two words
tokfail() {
	msg=$1
	shift
	set +e
	"$AGENT" --server http://127.0.0.1:9 --token-file "$1" --name a1 \
		--work-dir "$T/work" --sysroot "$T/sys" > "$T/out" 2> "$T/err"
	got=$?
	set -e
	cat "$T/err"
	[ "$got" -eq 2 ] || fail "exit $got, want 2 for token file $1"
	[ "$(wc -l < "$T/err")" -eq 1 ] || fail "not one line: token file $1"
	grep -q -- "$msg" "$T/err" || fail "no '$msg' for token file $1"
	! grep -q "$SECRET" "$T/err" || fail "the token was shown"
}
tokfail "cannot read the token file '$T/none'" "$T/none"
cp "$T/token" "$T/loose"
chmod 644 "$T/loose"
tokfail "is open to group or others (mode 0644)" "$T/loose"
chmod 640 "$T/loose"
tokfail "(mode 0640)" "$T/loose"
: > "$T/empty"
chmod 600 "$T/empty"
tokfail "is empty" "$T/empty"
printf '%s other\n' "$SECRET" > "$T/two"
chmod 600 "$T/two"
tokfail "blanks or control characters" "$T/two"
tokfail "is not a regular file" "$T/sys"
[ ! -e "$T/work" ] || fail "a bad token file made the work directory"

# A port nothing listens on.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# A record left in the spool by an earlier run stays there while the
# server is away.
mkdir -p "$T/work/spool"
rec="$T/work/spool/run-pbl_left-0000000000.json"
echo '{"lease":"pbl_left","index":0,"commit":"x","record":{}}' > "$rec"
start=$(date +%s)
expect_exit 3 "$AGENT" --server "http://127.0.0.1:$port" --token-file \
	"$T/token" --name a1 --work-dir "$T/work" --sysroot "$T/sys" --once \
	--give-up 2 --backoff-max 0.3 > "$T/out" 2> "$T/err"
took=$(( $(date +%s) - start ))
cat "$T/err"
[ "$took" -le 15 ] || fail "gave up after $took s, not about 2"
grep -q "posting 1 record left in the spool" "$T/err" ||
	fail "the spool was not replayed first"
grep -q "trying again in 0\.[0-9] s" "$T/err" || fail "no back-off said"
[ "$(grep -c "trying again" "$T/err")" -ge 2 ] || fail "tried only once"
tail -n 1 "$T/err" | grep -q "cannot reach the server at http://127.0.0.1:$port: .*(gave up after 2 s)" ||
	fail "the last line does not say the server could not be reached"
! grep -q "$SECRET" "$T/err" || fail "the token was logged"
[ -s "$rec" ] || fail "the spooled record was lost"
[ "$(ls "$T/work/spool" | wc -l)" -eq 1 ] || fail "the spool changed"
for d in builds repos scratch spool; do
	[ -d "$T/work/$d" ] || fail "no $d/ in the work directory"
done
[ "$(stat -c %a "$T/work/spool")" = 700 ] || fail "the spool is not private"

# One agent per work directory.
flock "$T/work/agent.lock" sleep 3 &
holder=$!
sleep 0.5
expect_exit 3 "$AGENT" --server "http://127.0.0.1:$port" --token-file \
	"$T/token" --name a2 --work-dir "$T/work" --sysroot "$T/sys" --once \
	--give-up 1 2> "$T/err"
cat "$T/err"
grep -q "another perfbisect-agent (pid .*) uses the work directory '$T/work'" "$T/err" ||
	fail "a second agent on the same work directory"
wait "$holder"
