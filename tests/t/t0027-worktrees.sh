#!/bin/sh
# A finished bisection removes its work trees (one per tested commit, each
# a whole checkout with its build); the database and the report stay, and
# the report can be made again from the database.  --keep-worktrees keeps
# them, built.
. "$PB_FIXTURES/lib.sh"
sh "$PB_FIXTURES/mkscores.sh" "$T/repo" 100 100 100 50 50 > /dev/null
set -- bisect --local --repo "$T/repo" --good main~4 --bad main \
	--build "sh build.sh" --run "sh bench.sh" --metric score \
	--state-dir "$T/state" --json
expect_exit 0 "$PERFBISECT" "$@" --seed 1 > "$T/o1.json" 2> "$T/e1"
cat "$T/e1"
[ -d "$T/state/worktrees" ] || fail "no work tree directory"
[ -z "$(ls -A "$T/state/worktrees")" ] || fail "work trees left: $(ls -R "$T/state/worktrees")"
[ -s "$T/state/perfbisect.db" ] || fail "database gone"
test -s "$(json "$T/o1.json" 'j["report"]')" || fail "report gone"
"$PERFBISECT" report --db "$T/state/perfbisect.db" --out "$T/again" || fail "report from the database"
test -s "$T/again/bisection-1.html" || fail "no page from the database"

expect_exit 0 "$PERFBISECT" "$@" --seed 2 --keep-worktrees > "$T/o2.json" 2> "$T/e2"
cat "$T/e2"
id=$(json "$T/o2.json" 'j["id"]')
grep -q "work trees kept in $T/state/worktrees/$id" "$T/e2" || fail "where they are is not said"
n=0
for sha in $(json "$T/o2.json" '" ".join(s["commit"] for s in j["steps"])'); do
	[ -s "$T/state/worktrees/$id/$sha/built.txt" ] || fail "no built tree for $sha"
	n=$((n + 1))
done
[ "$n" -eq "$(json "$T/o2.json" 'j["builds"]')" ] || fail "$n trees for $(json "$T/o2.json" 'j["builds"]') builds"
