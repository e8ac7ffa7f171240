#!/bin/sh
# A run cannot modify a build tree, its own or another commit's.  A real
# perfbisect-agent bisects a repository whose benchmark, before it
# measures, tries to write, delete, rename, chmod and plant files in every
# build tree of the agent's cache, and to write into its own TMPDIR.  Every
# attempt on a tree must fail, every TMPDIR write succeed, each run must
# have a TMPDIR of its own (gone afterwards), the trees must hold exactly
# what git and the build made, and the bisection still names the culprit.
# (Sealing is enforced by ownership: a finished tree is the agent's user's,
# read-only, and the run is the unprivileged --run-as user.  As a non-root
# user the agent runs benchmarks as itself and cannot keep them out of a
# tree it owns: the test needs root.)
. "$PB_FIXTURES/lib.sh"
. "$PB_FIXTURES/daemon.sh"
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (runs as nobody against trees owned by root)"
	exit 0
fi

mkdir -p "$T/runs" && chmod 777 "$T/runs"
PB_RUNS_DIR="$T/runs" sh "$PB_FIXTURES/mkrepo.sh" "$T/repo" 8 5 > "$T/shas"
planted=$(sed -n 6p "$T/shas")
W=$T/w-a1

# tamper.sh WORK_DIR LOG: every way a run might change a build, each logged
# "MODIFIED what" when it worked and "denied what" when it did not
cat > "$T/tamper.sh" <<'EOF'
w=$1 log=$2
try() { # WHAT CMD...
	what=$1; shift
	if "$@" 2>/dev/null; then echo "MODIFIED $what" >> "$log"
	else echo "denied $what" >> "$log"; fi
}
for t in "$w"/builds/*/tree; do
	[ -d "$t" ] || continue
	try "append $t/bench.c" sh -c 'echo "/* x */" >> "$1"' sh "$t/bench.c"
	try "truncate $t/b" sh -c ': > "$1"' sh "$t/b"
	try "create $t/planted" sh -c 'echo x > "$1"' sh "$t/planted"
	try "rm $t/bench.c" rm -f "$t/bench.c"
	try "mv $t/b" mv "$t/b" "$t/b.moved"
	try "chmod $t" chmod u+w "$t"
	try "chmod $t/b" chmod 777 "$t/b"
	try "touch $t/b" touch "$t/b"
done
# its own tree, by a relative path: the cwd of the run
try "create ./planted-cwd" sh -c 'echo x > planted-cwd'
# the cache directory itself: a new tree beside the others
try "mkdir builds/evil" mkdir "$w/builds/evil"
# its TMPDIR: must work, and be its own
if [ -n "${TMPDIR:-}" ] && mkdir "$TMPDIR/x" && echo ok > "$TMPDIR/x/f"; then
	echo "tmpdir $TMPDIR" >> "$log"
else
	echo "MODIFIED nothing: no writable TMPDIR (${TMPDIR:-unset})" >> "$log"
fi
EOF
chmod 644 "$T/tamper.sh"

service_start
register app "$T/repo" "sh $T/tamper.sh $W $T/runs/tamper.log; $RUN"
agent_start a1 PB_RUNS_DIR="$T/runs"

set +e
"$PERFBISECT" bisect --server "$URL" --token-file "$T/client.token" \
	--repo app --benchmark score --good main~7 --bad main --seed 3 \
	--wait --json > "$T/out.json" 2> "$T/err"
rc=$?
set -e
kill -TERM "$apid"
wait "$apid" 2>/dev/null || true
[ "$rc" = 0 ] || { cat "$T/err" "$T/a1.log"; fail "bisect exit $rc"; }
[ "$(json "$T/out.json" "j['culprit']")" = "$planted" ] ||
	{ cat "$T/out.json"; fail "the culprit"; }

log=$T/runs/tamper.log
[ -s "$log" ] || fail "the benchmark never ran its attempts"
if grep "^MODIFIED" "$log"; then
	fail "a run modified a build tree (above)"
fi
ntrees=$(ls -d "$W"/builds/*/tree | wc -l)
[ "$ntrees" -ge 3 ] || fail "only $ntrees build trees"
# the attempts reached other commits' trees, not only their own
grep -q "^denied append" "$log" || fail "no attempt on a tree"
[ "$(grep "^denied append" "$log" | sort -u | wc -l)" -ge 2 ] ||
	fail "the runs never saw another commit's tree"
# each run had its own TMPDIR, removed afterwards
nruns=$(grep -c "^tmpdir " "$log")
[ "$(grep "^tmpdir " "$log" | sort -u | wc -l)" = "$nruns" ] ||
	fail "two runs shared a TMPDIR"
for d in $(sed -n 's/^tmpdir //p' "$log"); do
	[ ! -e "$d" ] || fail "a run's TMPDIR was left: $d"
done
# the trees hold what git and the build put there, nothing else
for t in "$W"/builds/*/tree; do
	sha=$(basename "$(dirname "$t")" | cut -c1-40)
	git -C "$T/repo" show "$sha:bench.c" | cmp -s - "$t/bench.c" ||
		fail "$t/bench.c differs from the commit's"
	[ -x "$t/b" ] && [ -s "$t/b" ] || fail "$t/b is gone or empty"
	[ ! -e "$t/planted" ] && [ ! -e "$t/planted-cwd" ] &&
		[ ! -e "$t/b.moved" ] || fail "a file was planted in $t"
	[ -z "$(find "$t" -perm -o+w ! -type l)" ] ||
		fail "a world-writable file in $t"
done
[ ! -e "$W/builds/evil" ] || fail "a run made a directory in the cache"
daemon_stop
exit 0
