#!/bin/sh
# perfbisectd's settings and commands without a server: -n checks a
# config file (silent and 0 when good, every error as FILE:LINE and exit 2
# when not), --help and docs/perfbisectd.md list every setting, the
# example file deploy/perfbisectd.conf is what
# --example-config makes from the table, the token commands (a token
# printed once, only its digest stored; a taken name, an unknown name,
# a bad name) and usage errors in one line with the pointer to --help.
. "$PB_FIXTURES/lib.sh"
: "${PERFBISECTD:?run through tests/run.sh}"
top=$(cd "$PB_FIXTURES/../.." && pwd)

# --- the example file is the table's, and a valid file
"$PERFBISECTD" --example-config > "$T/example.conf"
cmp -s "$T/example.conf" "$top/deploy/perfbisectd.conf" || {
	diff "$top/deploy/perfbisectd.conf" "$T/example.conf" || :
	fail "deploy/perfbisectd.conf is not what --example-config makes: \
run bin/perfbisectd --example-config > deploy/perfbisectd.conf"
}
"$PERFBISECTD" -n --config "$top/deploy/perfbisectd.conf" > "$T/out" 2>&1 ||
	{ cat "$T/out"; fail "the example does not check"; }
[ ! -s "$T/out" ] || fail "-n printed something"
# uncommented, it still checks
sed 's/^#\([a-z_]* = \)/\1/' "$T/example.conf" > "$T/on.conf"
grep -q '^listen = ' "$T/on.conf" || fail "nothing uncommented"
"$PERFBISECTD" -n --config "$T/on.conf" || fail "the uncommented example"
# --help names every setting with its default
"$PERFBISECTD" --help > "$T/help"
names=$(sed -n 's/^#\([a-z_]*\) = .*/\1/p' "$T/example.conf")
[ "$(echo "$names" | wc -l)" -ge 15 ] || fail "too few settings"
for n in $names; do
	grep -q "^  $n (.*default" "$T/help" || fail "--help lacks $n"
	grep -q "^| \`$n\` |" "$top/docs/perfbisectd.md" ||
		fail "docs/perfbisectd.md lacks the setting $n"
done
for n in listen db report_dir work_dir allow_local_repos allow_private_notify \
	report_requires_token max_body connection_timeout_s threads lease_s \
	long_poll_s heartbeat_s restart_grace_s max_lease_expiries; do
	echo "$names" | grep -qx "$n" || fail "no setting $n"
done

# --- -n on a bad file: every error, FILE:LINE, exit 2, nothing on stdout
cat > "$T/bad.conf" <<'CONF'
# comment
lisen = 127.0.0.1:1
threads = 0
allow_local_repos = perhaps
lease_s = 100
lease_s = 200
long_poll_s 5
CONF
set +e
"$PERFBISECTD" -n --config "$T/bad.conf" > "$T/out" 2> "$T/err"
rc=$?
set -e
cat "$T/err"
[ "$rc" -eq 2 ] || fail "-n on a bad file: exit $rc"
[ ! -s "$T/out" ] || fail "stdout must stay empty"
grep -qx "$T/bad.conf:2: unknown setting 'lisen' (did you mean 'listen'?)" \
	"$T/err" || fail "unknown setting"
grep -qx "$T/bad.conf:3: 'threads' is 0, out of bounds (1 to 64)" "$T/err" ||
	fail "bounds"
grep -qx "$T/bad.conf:4: 'allow_local_repos' takes yes or no, not 'perhaps'" \
	"$T/err" || fail "bool"
grep -qx "$T/bad.conf:6: 'lease_s' is set twice (first on line 5)" "$T/err" ||
	fail "duplicate"
grep -qx "$T/bad.conf:7: expected 'name = value', not 'long_poll_s 5'" \
	"$T/err" || fail "no ="
[ "$(wc -l < "$T/err")" -eq 5 ] || fail "not one line per error"
# a flag overrides the file; a bad flag value is named by its flag
printf 'threads = 2\n' > "$T/ok.conf"
"$PERFBISECTD" -n --config "$T/ok.conf" --set threads=8 || fail "--set"
expect_exit 2 "$PERFBISECTD" -n --config "$T/ok.conf" --set threads=99 \
	2> "$T/err"
grep -q "^--set: 'threads' is 99" "$T/err" || fail "--set error"
expect_exit 2 "$PERFBISECTD" -n --listen localhost:80 2> "$T/err"
grep -q "^--listen: 'listen': 'localhost' is not an IPv4 address" "$T/err" ||
	fail "--listen error"
expect_exit 2 "$PERFBISECTD" -n --config "$T/nope.conf" 2> "$T/err"
grep -q "nope.conf: cannot read" "$T/err" || fail "missing file"
# lease and heartbeat together
expect_exit 2 "$PERFBISECTD" -n --set lease_s=5 --set heartbeat_s=5 2> "$T/err"
grep -q "heartbeat_s (5) must be shorter than lease_s (5)" "$T/err" ||
	fail "heartbeat check"

# --- tokens
DB=$T/t.db
"$PERFBISECTD" --add-agent m1 --db "$DB" > "$T/tok" 2> "$T/err"
tok=$(cat "$T/tok")
[ "$(wc -l < "$T/tok")" -eq 1 ] || fail "the token is not one line"
case $tok in pba_???????????????????????????????????????????) ;;
	*) fail "agent token form: $tok" ;; esac
grep -q "added agent 'm1'" "$T/err" || fail "no note on stderr"
ctok=$("$PERFBISECTD" --add-client ci --admin --db "$DB" 2>/dev/null)
case $ctok in pbc_*) ;; *) fail "client token form" ;; esac
# only the digest is stored: the token's text is nowhere in the files
for f in "$DB" "$DB-wal"; do
	[ -e "$f" ] || continue
	! grep -qF "$tok" "$f" || fail "the token is stored in $f"
done
python3 - "$DB" "$tok" <<'PY' || fail "the stored digest"
import hashlib, sqlite3, sys
db, tok = sys.argv[1], sys.argv[2]
h = sqlite3.connect(db).execute(
    "SELECT token_hash FROM principals WHERE name = 'm1'").fetchone()[0]
sys.exit(0 if h == hashlib.sha256(tok.encode()).digest() else 1)
PY
# a taken name, of either kind
expect_exit 2 "$PERFBISECTD" --add-agent m1 --db "$DB" 2> "$T/err"
grep -q "'m1' exists already" "$T/err" || fail "taken name"
expect_exit 2 "$PERFBISECTD" --add-client m1 --db "$DB" 2> "$T/err"
# revoke: once, twice (said, exit 0), unknown (exit 2)
"$PERFBISECTD" --revoke m1 --db "$DB" 2> "$T/err"
grep -q "revoked 'm1'" "$T/err" || fail "revoke"
"$PERFBISECTD" --revoke m1 --db "$DB" 2> "$T/err"
grep -q "revoked already" "$T/err" || fail "revoke twice"
expect_exit 2 "$PERFBISECTD" --revoke nobody --db "$DB" 2> "$T/err"
grep -q "no agent or client is named 'nobody'" "$T/err" || fail "unknown name"
# a revoked agent added again gets a new token
tok2=$("$PERFBISECTD" --add-agent m1 --db "$DB" 2>/dev/null)
[ "$tok2" != "$tok" ] || fail "the same token again"
"$PERFBISECTD" --list --db "$DB" > "$T/list"
grep -q "^ci  *client admin" "$T/list" || fail "--list"
grep -q "^m1  *agent " "$T/list" || fail "--list agent"
# a database that cannot be opened: exit 3
expect_exit 3 "$PERFBISECTD" --add-agent x --db /proc/nope/t.db 2> "$T/err"

# --- usage errors: one line and where the help is
usage() {
	msg=$1; shift
	set +e
	"$PERFBISECTD" "$@" > "$T/out" 2> "$T/err"
	got=$?
	set -e
	cat "$T/err"
	[ "$got" -eq 2 ] || fail "exit $got, want 2: $*"
	[ ! -s "$T/out" ] || fail "stdout must stay empty: $*"
	[ "$(wc -l < "$T/err")" -eq 2 ] || fail "not two lines: $*"
	grep -q -- "$msg" "$T/err" || fail "no '$msg': $*"
	[ "$(sed -n 2p "$T/err")" = "see \`perfbisectd --help\`" ] ||
		fail "no pointer to the help: $*"
}
usage "unknown or incomplete option '--frobnicate'" --frobnicate
usage "unexpected argument 'x'" x
usage "'bad name' is not a name" --add-agent "bad name" --db "$DB"
usage "--admin goes with --add-client" --add-agent a2 --admin --db "$DB"
usage "cannot go with another command" --add-agent a --revoke b --db "$DB"
usage "--set 'threads': want NAME=VALUE" --set threads
"$PERFBISECTD" --version | grep -q '^perfbisectd ' || fail "--version"
