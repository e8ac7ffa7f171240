#!/bin/sh
# Commits that cannot matter (issue 20, item 7).  A repository of six
# commits: 1, 3 and 4 change the benchmark's code (a version it prints),
# 4 also doubles its work (the planted slowdown), 2 and 5 change only a
# README.  The bisection names 4; the bad end 5 carries "identical_to": 4
# (and 2, if it was tested beside 1, carries 1); no commit that changed
# code carries it; the digests are stored once per build.  With
# --no-identical no step carries it.  A benchmark that is a shell script
# maps nothing from its work tree and makes no claim; nor does a Python
# script that loads a C extension built in its tree (the extension is the
# same in every commit, the slowdown is in the script).
. "$PB_FIXTURES/lib.sh"

mkrepo() { sh "$PB_FIXTURES/mkrepo-identical.sh" "$@"; }

mkrepo c "$T/repo" > "$T/shas"
sha() { sed -n "$(($1 + 1))p" "$T/shas"; }
set -- bisect --local --repo "$T/repo" --good main~5 --bad main \
	--build "$BUILD" --run "$RUN" --metric score --seed 1

expect_exit 0 "$PERFBISECT" "$@" --state-dir "$T/state" --json \
	> "$T/out.json" 2> "$T/err"
cat "$T/err"
[ "$(json "$T/out.json" 'j["culprit"]')" = "$(sha 4)" ] || fail "wrong culprit"
# the bad end (README only) is identical to the culprit, its parent
[ "$(json "$T/out.json" '[s.get("identical_to") for s in j["steps"] if s["commit"] == "'"$(sha 5)"'"][0]')" = "$(sha 4)" ] \
	|| fail "the README commit is not identical_to its parent"
# no commit that changed code is claimed identical
for i in 0 1 3 4; do
	[ "$(json "$T/out.json" 'any("identical_to" in s for s in j["steps"] if s["commit"] == "'"$(sha $i)"'")')" = False ] \
		|| fail "commit $i changed code but carries identical_to"
done
# commit 2 (README only), when it and its parent were run, carries 1
[ "$(json "$T/out.json" '[s.get("identical_to") for s in j["steps"] if s["commit"] == "'"$(sha 2)"'" and s["runs"] > 0 and any(p["commit"] == "'"$(sha 1)"'" and p["runs"] > 0 for p in j["steps"])] in ([], ["'"$(sha 1)"'"])')" = True ] \
	|| fail "commit 2 and its parent were run, but it is not identical_to 1"
grep -q "$(sha 5 | cut -c1-12) maps the same code as its parent $(sha 4 | cut -c1-12)" "$T/err" \
	|| fail "no progress line about the identical commit"
# one digest per build and file, equal where the code is
db="$T/state/perfbisect.db"
q() { sqlite3 "$db" "$1"; }
[ "$(q "SELECT count(*) FROM build_images WHERE kind != 'elf' OR path != 'b'")" = 0 ] \
	|| fail "unexpected build_images rows: $(q 'SELECT * FROM build_images')"
digest() { q "SELECT i.digest FROM build_images i JOIN commits c ON c.id = i.commit_id WHERE c.sha = '$1'"; }
[ -n "$(digest "$(sha 5)")" ] && [ "$(digest "$(sha 5)")" = "$(digest "$(sha 4)")" ] \
	|| fail "commits 4 and 5 have different digests"
[ "$(digest "$(sha 3)")" != "$(digest "$(sha 4)")" ] || fail "commits 3 and 4 have one digest"
[ "$(q "SELECT count(*) = count(DISTINCT commit_id) FROM build_images")" = 1 ] \
	|| fail "a build's file digested twice"
# the step rows keep it
[ "$(q "SELECT count(*) FROM bisection_steps s JOIN commits c ON c.id = s.identical_to WHERE c.sha = '$(sha 4)'")" = 1 ] \
	|| fail "identical_to not stored"
grep -q '(= parent)' "$(json "$T/out.json" 'j["report"]')" || fail "the report does not say it"

# --no-identical: no claim, the same culprit
expect_exit 0 "$PERFBISECT" "$@" --no-identical --state-dir "$T/state2" \
	--json > "$T/out2.json" 2> "$T/err2"
[ "$(json "$T/out2.json" 'j["culprit"]')" = "$(sha 4)" ] || fail "wrong culprit with --no-identical"
[ "$(json "$T/out2.json" 'any("identical_to" in s for s in j["steps"])')" = False ] \
	|| fail "--no-identical still claims"
[ "$(sqlite3 "$T/state2/perfbisect.db" "SELECT count(*) FROM build_images")" = 0 ] \
	|| fail "--no-identical still digests"
grep -q "maps the same code" "$T/err2" && fail "--no-identical still says so"

# A shell script maps nothing from its work tree: no claim, not even for
# the README-only bad end.
mkrepo sh "$T/shrepo" > "$T/shas"
expect_exit 0 "$PERFBISECT" bisect --local --repo "$T/shrepo" --good main~5 \
	--bad main --build true --run 'sh bench.sh' --metric score --seed 1 \
	--state-dir "$T/state3" --json > "$T/out3.json" 2> "$T/err3"
[ "$(json "$T/out3.json" 'j["culprit"]')" = "$(sha 4)" ] || { cat "$T/err3"; fail "wrong culprit of the shell benchmark"; }
[ "$(json "$T/out3.json" 'any("identical_to" in s for s in j["steps"])')" = False ] \
	|| fail "a shell script benchmark claims identical code"
[ "$(json "$T/out3.json" '[s["runs"] for s in j["steps"] if s["commit"] == "'"$(sha 5)"'"][0] > 0')" = True ] || fail "bad end not run"
[ "$(sqlite3 "$T/state3/perfbisect.db" "SELECT count(*) FROM build_images")" = 0 ] \
	|| fail "a shell script benchmark mapped files from its tree"

# Python loading an extension from the tree: python3 is from elsewhere, so
# the extension is not the whole program: no claim, though it never
# changes.
mkrepo py "$T/pyrepo" > "$T/shas"
expect_exit 0 "$PERFBISECT" bisect --local --repo "$T/pyrepo" \
	--good main~5 --bad main \
	--build 'cc -O2 -shared -fPIC -o libwork.so work.c' \
	--run 'python3 bench.py' --metric score --seed 1 \
	--state-dir "$T/state4" --json > "$T/out4.json" 2> "$T/err4"
[ "$(json "$T/out4.json" 'j["culprit"]')" = "$(sha 4)" ] || { cat "$T/err4"; fail "wrong culprit of the Python benchmark"; }
[ "$(json "$T/out4.json" 'any("identical_to" in s for s in j["steps"])')" = False ] \
	|| fail "a Python benchmark claims identical code"
db4="$T/state4/perfbisect.db"
[ "$(sqlite3 "$db4" "SELECT count(*) FROM build_images WHERE path = 'libwork.so' AND kind = 'elf'")" -ge 2 ] \
	|| fail "the extension was not seen: $(sqlite3 "$db4" 'SELECT * FROM build_images')"
[ "$(sqlite3 "$db4" "SELECT count(DISTINCT digest) FROM build_images WHERE path = 'libwork.so'")" = 1 ] \
	|| fail "the extension differs between commits"
sqlite3 "$db4" "SELECT note FROM build_images WHERE path = '/'" | grep -q python \
	|| fail "no note that an interpreter mapped the extension"
