#!/bin/sh
# The demo's repository is one a person can look around in: HEAD is on the
# branch that holds its 60 commits (not an unborn "master"), that branch's
# tip is the bad end it bisected, and its files are checked out, clean.
. "$PB_FIXTURES/lib.sh"
expect_exit 0 "$PERFBISECT" demo --out "$T/demo" --json > "$T/out.json" 2> "$T/err"
r="$T/demo/repo"
head=$(git -C "$r" symbolic-ref HEAD) || fail "HEAD is detached"
[ "$head" = refs/heads/main ] || fail "HEAD is '$head'"
git -C "$r" rev-parse --verify -q HEAD > /dev/null || fail "HEAD names no commit"
[ "$(git -C "$r" rev-parse HEAD)" = "$(json "$T/out.json" 'j["bad"]')" ] ||
	fail "HEAD is not the bad end"
[ "$(git -C "$r" rev-list --count HEAD)" -eq 60 ] || fail "not 60 commits"
[ -z "$(git -C "$r" status --porcelain)" ] || fail "work tree not clean: $(git -C "$r" status --short)"
[ -s "$r/bench.c" ] || fail "files not checked out"
