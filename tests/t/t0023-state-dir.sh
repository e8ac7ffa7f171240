#!/bin/sh
# Where the state lives (DESIGN.md section 3).  Without --state-dir: under
# $XDG_STATE_HOME/perfbisect, else ~/.local/state/perfbisect (as root it is
# /var/lib/perfbisect: test_local covers that choice, this test does not
# write there).  Never inside the bisected work tree: a --state-dir there,
# existing or not, is refused with exit 2 and nothing is written.  As root,
# a state directory the run user cannot enter is refused with exit 2.
. "$PB_FIXTURES/lib.sh"
r="$T/repo"
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.org \
	GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.org
git init -q -b main "$r"
for s in 100 101 50; do
	printf 'echo "score: %s"\n' "$s" > "$r/bench.sh"
	git -C "$r" add bench.sh
	git -C "$r" commit -q -m "score $s"
done
set -- bisect --local --repo "$r" --good main~2 --bad main --build true \
	--run "sh bench.sh" --metric score --max-runs 8

# inside the work tree: refused, and nothing written there
for d in "$r/.perfbisect" "$r/sub/state" "$r"; do
	expect_exit 2 "$PERFBISECT" "$@" --state-dir "$d" 2> "$T/err"
	cat "$T/err"
	grep -q "inside the work tree of the repository" "$T/err" || fail "$d: no reason"
	[ -z "$(git -C "$r" status --porcelain --ignored)" ] || fail "$d: wrote into the work tree"
done
# ... also when reached through a symbolic link
ln -s "$r" "$T/link"
expect_exit 2 "$PERFBISECT" "$@" --state-dir "$T/link/st" 2> "$T/err"
grep -q "inside the work tree" "$T/err" || fail "through a link"

# the defaults, as an ordinary user (as root: run as nobody)
as_user() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
	chown -R 65534:65534 "$r"
	as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
fi
mkdir "$T/home" "$T/xdg"
if [ "$(id -u)" -eq 0 ]; then chown 65534:65534 "$T/home" "$T/xdg"; fi
as_user env -u XDG_STATE_HOME HOME="$T/home" "$PERFBISECT" "$@" --json \
	> "$T/out.json" 2> "$T/err" || true
cat "$T/err"
[ -s "$T/home/.local/state/perfbisect/perfbisect.db" ] || fail "no database in ~/.local/state/perfbisect"
grep -q "state in $T/home/.local/state/perfbisect" "$T/err" || fail "the state directory is not said"
case "$(json "$T/out.json" 'j["report"]')" in
"$T/home/.local/state/perfbisect/report/"*) ;;
*) fail "report not in the state directory: $(json "$T/out.json" 'j["report"]')" ;;
esac
as_user env XDG_STATE_HOME="$T/xdg" HOME="$T/home" "$PERFBISECT" "$@" -q \
	2> "$T/err" || true
[ -s "$T/xdg/perfbisect/perfbisect.db" ] || { cat "$T/err"; fail "XDG_STATE_HOME not followed"; }
[ ! -e "$r/.perfbisect" ] || fail "state in the work tree"

# as root, the run user must be able to enter the work trees
if [ "$(id -u)" -eq 0 ]; then
	chown -R 0:0 "$r"
	mkdir -m 700 "$T/private"
	expect_exit 2 "$PERFBISECT" "$@" --state-dir "$T/private/state" 2> "$T/err"
	cat "$T/err"
	grep -q "the run user 'nobody' cannot enter '$T/private'" "$T/err" || fail "no reason for the closed directory"
fi
