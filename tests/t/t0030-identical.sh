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
export GIT_AUTHOR_NAME="Test Author" GIT_AUTHOR_EMAIL="author@example.org"
export GIT_COMMITTER_NAME="Test Author" GIT_COMMITTER_EMAIL="author@example.org"

# mkrepo KIND DIR: KIND c (a C benchmark), sh (a shell script) or py (a
# Python script and a C extension); prints the six shas, oldest first.
mkrepo() {
	kind=$1 dir=$2
	mkdir -p "$dir"
	(
	cd "$dir"
	git init -q -b main .
	version=0 passes=2
	for i in 0 1 2 3 4 5; do
		case $i in
		1|3) version=$i ;;
		4) version=4 passes=4 ;;
		esac
		if [ "$kind" = c ]; then
			cat > bench.c <<EOC
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#define VERSION $version
#define PASSES $passes
#define OPS 150
static unsigned char buf[1 << 18];
int main(void)
{
	struct timespec a, b;
	uint64_t h = 1469598103934665603ULL;
	size_t k;
	int op, p;

	for (k = 0; k < sizeof(buf); k++)
		buf[k] = (unsigned char)(k * 7);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	for (op = 0; op < OPS; op++)
		for (p = 0; p < PASSES; p++)
			for (k = 0; k < sizeof(buf); k++)
				h = (h ^ buf[k]) * 1099511628211ULL;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	printf("version: %d\nchecksum: %llu\n", VERSION,
	       (unsigned long long)(h & 0xffff));
	printf("score: %.1f\n", OPS / ((b.tv_sec - a.tv_sec) +
				      (b.tv_nsec - a.tv_nsec) / 1e9));
	return 0;
}
EOC
			git add bench.c
		elif [ "$kind" = py ]; then
			# the same C extension in every commit; the work
			# around it, in Python, doubles at commit 4
			cat > work.c <<EOC
int work(int n)
{
	volatile int s = 0;
	for (int i = 0; i < n; i++)
		s += i;
	return s;
}
EOC
			cat > bench.py <<EOP
# version $version
import ctypes, time
lib = ctypes.CDLL("./libwork.so")
t0 = time.process_time()
for op in range(100):
    for p in range($passes):
        lib.work(100000)
print("score: %f" % (100 / (time.process_time() - t0)))
EOP
			git add work.c bench.py
		else
			# work per operation: PASSES loops of 40 steps; the
			# score from the shell's own CPU time (times), which
			# load on the machine does not stretch
			cat > bench.sh <<EOS
# version $version
ops=1200 passes=$passes
op=0
while [ \$op -lt \$ops ]; do
	p=0
	while [ \$p -lt \$passes ]; do
		k=0
		while [ \$k -lt 40 ]; do k=\$((k + 1)); done
		p=\$((p + 1))
	done
	op=\$((op + 1))
done
times > .times
awk -v ops=\$ops 'NR == 1 { split(\$1, u, "m"); split(\$2, s, "m");
	printf "score: %f\\n", ops / (u[1] * 60 + u[2] + s[1] * 60 + s[2] + 1e-6) }' .times
EOS
			git add bench.sh
		fi
		echo "readme $i" > README
		git add README
		GIT_COMMITTER_DATE="@$((1700000000 + i * 60))" \
			git commit -q -m "change $i" --date "@$((1700000000 + i * 60))"
		git rev-parse HEAD
	done
	)
}

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
