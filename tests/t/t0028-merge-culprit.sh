#!/bin/sh
# A culprit that is a merge commit says so and prints the command that
# bisects inside the branch it merged: from where the branch forked (the
# merge base of the two parents) to the branch's tip, not from the first
# parent, whose later changes the branch never had.  Run as printed, that
# command finds the branch's commit that brought the slowdown.
. "$PB_FIXTURES/lib.sh"
r="$T/repo"
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.org \
	GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.org
git init -q -b main "$r"
# c SCORE FILE MESSAGE: a commit whose benchmark scores about SCORE
# thousand; FILE is the file it changes besides
c() {
	printf '#!/bin/sh\nn=$(od -An -N1 -tu1 /dev/urandom)\necho "score: $((%s * 1000 + n))"\n' \
		"$1" > "$r/bench.sh"
	echo "$3" >> "$r/$2"
	git -C "$r" add bench.sh "$2"
	git -C "$r" commit -q -m "$3"
	git -C "$r" rev-parse HEAD
}
for i in 0 1 2 3; do c 100 MAIN "main $i"; done > "$T/main"
fork=$(git -C "$r" rev-parse HEAD)
git -C "$r" checkout -q -b feature
c 100 FEATURE "feature 0" > /dev/null
slow=$(c 50 FEATURE "feature 1: slower")
c 50 FEATURE "feature 2" > /dev/null
tip=$(git -C "$r" rev-parse HEAD)
git -C "$r" checkout -q main
# main goes on with its own changes to another file, then merges
printf 'main 4\n' >> "$r/MAIN"
git -C "$r" commit -q -am "main 4"
printf 'main 5\n' >> "$r/MAIN"
git -C "$r" commit -q -am "main 5"
git -C "$r" merge -q --no-ff -m "merge feature" feature
merge=$(git -C "$r" rev-parse HEAD)
printf 'main 6\n' >> "$r/MAIN"
git -C "$r" commit -q -am "main 6"
[ "$(git -C "$r" show HEAD:bench.sh | grep -c '50 \* 1000')" = 1 ] || fail "fixture: the merge took the slow bench"

expect_exit 0 "$PERFBISECT" bisect --local --repo "$r" --good main~6 --bad main \
	--build true --run "sh bench.sh" --metric score --seed 1 \
	--state-dir "$T/state" --json > "$T/o1.json" 2> "$T/e1"
cat "$T/e1"
[ "$(json "$T/o1.json" 'j["culprit"]')" = "$merge" ] || fail "the merge is not the culprit"
grep -q "$(echo "$merge" | cut -c1-12) is a merge commit" "$T/e1" || fail "not said to be a merge"
cmd=$(sed -n 's/^    \(perfbisect bisect .*\)$/\1/p' "$T/e1")
[ -n "$cmd" ] || fail "no command printed"
case "$cmd" in
*"--good $fork --bad $tip "*) ;;
*) fail "not from the merge base to the branch's tip: $cmd" ;;
esac
case "$cmd" in *"--state-dir $T/state"*) ;; *) fail "the state directory given is not kept: $cmd" ;; esac
# the same command again (the stored verdict) says it too
expect_exit 0 "$PERFBISECT" bisect --local --repo "$r" --good main~6 --bad main \
	--build true --run "sh bench.sh" --metric score --seed 1 \
	--state-dir "$T/state" 2> "$T/e2"
grep -q "is a merge commit" "$T/e2" || fail "the stored verdict does not say it"

# run as printed: it finds the branch's commit
eval "\"\$PERFBISECT\"${cmd#perfbisect} --json" > "$T/o2.json" 2> "$T/e3" ||
	{ cat "$T/e3"; fail "the printed command failed"; }
cat "$T/e3"
[ "$(json "$T/o2.json" 'j["culprit"]')" = "$slow" ] || fail "inside the branch: not the slow commit"
