#!/bin/sh
# A good end off bad's first-parent line is accepted, as DESIGN.md and
# `git bisect --first-parent` take it: a release tag on a branch that
# forked from main at commit 2 and was merged back later.  The range is
# main's first-parent commits the tag cannot reach (3 .. the merge .. 10);
# the slowdown planted at main's commit 8 is found, and nothing the tag
# reaches, nor the release branch, is ever tested.
. "$PB_FIXTURES/lib.sh"
r="$T/repo"
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.org \
	GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.org
git init -q -b main "$r"
# c SCORE MESSAGE: a commit whose benchmark scores about SCORE thousand
c() {
	printf '#!/bin/sh\nn=$(od -An -N1 -tu1 /dev/urandom)\necho "score: $((%s * 1000 + n))"\n' \
		"$1" > "$r/bench.sh"
	echo "$2" > "$r/NOTES"
	git -C "$r" add bench.sh NOTES
	git -C "$r" commit -q -m "$2"
	git -C "$r" rev-parse HEAD
}
for i in 0 1 2 3 4; do c 100 "main $i"; done > "$T/main"
git -C "$r" checkout -q -b release main~2
echo "1.0" > "$r/VERSION"
git -C "$r" add VERSION
git -C "$r" commit -q -m "release 1.0"
git -C "$r" tag v1.0
git -C "$r" checkout -q main
for i in 5 6 7; do c 100 "main $i"; done >> "$T/main"
for i in 8 9; do c 50 "main $i"; done >> "$T/main"
git -C "$r" merge -q --no-ff -m "merge release 1.0" release
c 50 "main 10" >> "$T/main"
culprit=$(sed -n 9p "$T/main")
expect_exit 0 "$PERFBISECT" bisect --local --repo "$r" --good v1.0 --bad main \
	--build true --run "sh bench.sh" --metric score --seed 1 \
	--state-dir "$T/state" --json > "$T/out.json" 2> "$T/err"
cat "$T/err"
[ "$(json "$T/out.json" 'j["culprit"]')" = "$culprit" ] || fail "wrong culprit"
[ "$(json "$T/out.json" 'j["good"]')" = "$(git -C "$r" rev-parse v1.0)" ] || fail "good end"
# main 3 .. 10 and the merge: 9 commits after good
grep -q "9 commits after good" "$T/err" || fail "range size"
# never a commit the tag reaches, nor the release branch's own
for sha in $(sed -n 1,3p "$T/main"); do
	[ "$(json "$T/out.json" "any(s['commit'] == '$sha' for s in j['steps'])")" = False ] ||
		fail "tested $sha, which good reaches"
done
