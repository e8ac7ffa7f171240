#!/bin/sh
# A compiler cache shared across commits (issue 21, item 5).  A C
# benchmark of seven source files (main.c, f1-f6.c), compiled one by one
# with -g and absolute paths, which defeat ccache across work trees unless
# CCACHE_BASEDIR and CCACHE_NOHASHDIR are right; each of commits 1-5
# changes f1-f5.c in turn (commit 4 also doubles the work in main.c: the
# planted slowdown).  `bisect --local` builds through ccache by default:
# after the bisection names commit 4, the state directory's cache counts
# exactly the hits it should (every build after the first reuses the
# objects of the files it did not change; a second bisection of the range
# hits for every file), its directory is the run user's, and every build
# had ccache's PATH and variables - while no run had any of them.
# --no-ccache leaves no cache and its builds get CCACHE_DISABLE=1; a PATH
# without ccache is said once and builds without it.
. "$PB_FIXTURES/lib.sh"
command -v ccache > /dev/null || { echo "skipped: ccache is not installed"; exit 0; }
export GIT_AUTHOR_NAME="Test Author" GIT_AUTHOR_EMAIL="author@example.org"
export GIT_COMMITTER_NAME="Test Author" GIT_COMMITTER_EMAIL="author@example.org"

# mkfile K VALUE - f$K.c: a function that returns VALUE.
mkfile() {
	cat > "$T/repo/f$1.c" <<EOC
unsigned f$1(unsigned x);
unsigned f$1(unsigned x)
{
	return x * 2654435761u + $2u;
}
EOC
}
mkdir -p "$T/repo" "$T/env"
chmod 1777 "$T/env" # the run user writes the environments it saw here
git init -q -b main "$T/repo"
for k in 1 2 3 4 5 6; do mkfile $k $k; done
cat > "$T/repo/main.c" <<'EOC'
#include <stdint.h>
#include <stdio.h>
#include <time.h>
unsigned f1(unsigned), f2(unsigned), f3(unsigned), f4(unsigned),
	f5(unsigned), f6(unsigned);
#ifndef PASSES
#define PASSES 2
#endif
int main(void)
{
	struct timespec a, b;
	volatile unsigned h = 0;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	for (unsigned i = 0; i < 2000000u * PASSES; i++)
		h = f1(f2(f3(f4(f5(f6(h + i))))));
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	printf("score: %.0f\n", 1.0 / ((b.tv_sec - a.tv_sec) +
				       (b.tv_nsec - a.tv_nsec) * 1e-9));
	return 0;
}
EOC
# the files are compiled one by one, as a build system does, with debug
# information and absolute paths, as CMake does: the work tree's path is
# on every command line (CCACHE_BASEDIR makes it relative) and ccache
# would hash the build's directory for -g (CCACHE_NOHASHDIR=1)
printf '%s\n' 'set -e' 'for f in *.c; do cc -O1 -g -I"$PWD" -c "$PWD/$f"; done' \
	'cc -o b *.o' > "$T/repo/build.sh"
git -C "$T/repo" add .
git -C "$T/repo" commit -q -m "commit 0"
for i in 1 2 3 4 5; do
	mkfile $i $((i * 100))
	[ "$i" -ne 4 ] || sed -i 's/^#define PASSES 2/#define PASSES 4/' "$T/repo/main.c"
	git -C "$T/repo" commit -q -am "commit $i: f$i.c"
done
culprit=$(git -C "$T/repo" rev-parse main~1)

# bisect STATE [OPTION...] - the bisection, its stdout in STATE.json
bisect() {
	state=$1; shift
	expect_exit 0 "$PERFBISECT" bisect --local --repo "$T/repo" \
		--good main~5 --bad main --build "sh build.sh && env > \"$T/env/build.\$PERFBISECT_COMMIT\"" \
		--run "./b && env > \"$T/env/run.\$\$\" && if echo x > \"$state/ccache/files/planted\"; then echo reached; else echo denied; fi > \"$T/env/tried.\$\$\" 2>/dev/null" --metric score --seed 1 \
		--state-dir "$state" --json "$@" > "$state.json" 2> "$state.err"
	cat "$state.err"
	[ "$(json "$state.json" 'j["culprit"]')" = "$culprit" ] ||
		fail "culprit $(json "$state.json" 'j["culprit"]'), want $culprit"
}

# --- by default: builds through ccache, runs without it -------------------
bisect "$T/state"
builds=$(json "$T/state.json" 'j["builds"]')
[ "$builds" -ge 3 ] || fail "only $builds builds: nothing to share"
grep -q "builds go through ccache, its files in $T/state/ccache/files" "$T/state.err" ||
	fail "ccache is not said"
[ "$(ls "$T"/env/build.* | wc -l)" -eq "$builds" ] || fail "not one environment per build"
for f in "$T"/env/build.*; do
	grep -qx "PATH=$T/state/ccache-bin:.*" "$f" || fail "$f: ccache-bin not first on PATH"
	grep -qx "CCACHE_DIR=$T/state/ccache/files" "$f" || fail "$f: no CCACHE_DIR"
	grep -qx "CCACHE_BASEDIR=$T/state/worktrees" "$f" || fail "$f: no CCACHE_BASEDIR"
	grep -qx "CCACHE_NOHASHDIR=1" "$f" || fail "$f: no CCACHE_NOHASHDIR"
	grep -qx "CCACHE_MAXSIZE=5G" "$f" || fail "$f: no CCACHE_MAXSIZE"
	! grep -q '^CCACHE_DISABLE' "$f" || fail "$f: ccache disabled"
done
[ "$(readlink "$T/state/ccache-bin/cc")" = "$(command -v ccache)" ] || fail "cc is not ccache"
runs=$(ls "$T"/env/run.* | wc -l)
[ "$runs" -eq "$(json "$T/state.json" 'j["runs"]')" ] || fail "$runs environments for $(json "$T/state.json" 'j["runs"]') runs"
! grep -l '^CCACHE_' "$T"/env/run.* || fail "a run got ccache's variables"
! grep -l '^PATH=.*ccache' "$T"/env/run.* || fail "a run got ccache on its PATH"
# the hits: every build after the first finds the objects of the files it
# shares with one built before
stats=$(CCACHE_DIR="$T/state/ccache/files" ccache --print-stats)
echo "$stats" | grep -E '^(direct_cache_hit|preprocessed_cache_hit|cache_miss)'
hits=$(echo "$stats" | awk '$1 == "direct_cache_hit" || $1 == "preprocessed_cache_hit" { n += $2 } END { print n + 0 }')
misses=$(echo "$stats" | awk '$1 == "cache_miss" { print $2 }')
[ "$hits" -gt 0 ] || fail "no cache hits"
# 7 files per build: the good end, built first, misses all of them; the
# bad end, built second, the 6 that differ (f1-f5.c, main.c); every file
# of a commit between them is the good end's or the bad end's: all hit
[ "$misses" -eq 13 ] || fail "$misses misses in $builds builds, want 7 + 6"
[ "$hits" -eq $((7 * builds - 13)) ] || fail "$hits hits in $builds builds, want $((7 * builds - 13))"
user=$(id -un)
[ "$(id -u)" -ne 0 ] || user=nobody
[ "$(stat -c %U "$T/state/ccache/files")" = "$user" ] || fail "the cache is $(stat -c %U "$T/state/ccache/files")'s, not $user's"
# no run could reach it (the benchmark tried to plant an entry): as root
# the gate in front of it is root's and closed but while a build runs
if [ "$(id -u)" -eq 0 ]; then
	[ "$(stat -c %U:%a "$T/state/ccache")" = root:700 ] ||
		fail "the cache's gate is $(stat -c %U:%a "$T/state/ccache")"
	[ "$(ls "$T"/env/tried.* | wc -l)" -eq "$runs" ] || fail "the runs did not try the cache"
	! grep -l reached "$T"/env/tried.* || fail "a run wrote into the compiler cache"
	[ ! -e "$T/state/ccache/files/planted" ] || fail "a run planted a cache entry"
fi
# a second bisection of the same range hits for every file
before=$hits
bisect "$T/state" --again
hits=$(CCACHE_DIR="$T/state/ccache/files" ccache --print-stats | awk '$1 == "direct_cache_hit" || $1 == "preprocessed_cache_hit" { n += $2 } END { print n + 0 }')
[ "$((hits - before))" -eq $((7 * $(json "$T/state.json" 'j["builds"]'))) ] ||
	fail "$((hits - before)) hits in a second bisection of $(json "$T/state.json" 'j["builds"]') builds"

# --- --no-ccache: no cache, CCACHE_DISABLE=1 ------------------------------
rm -f "$T"/env/*
bisect "$T/off" --no-ccache
[ ! -e "$T/off/ccache" ] && [ ! -e "$T/off/ccache-bin" ] || fail "--no-ccache left a cache: $(ls "$T/off")"
! grep -q ccache "$T/off.err" || fail "--no-ccache still talks of ccache"
for f in "$T"/env/build.*; do
	grep -qx "CCACHE_DISABLE=1" "$f" || fail "$f: ccache not disabled"
	! grep -Eq '^CCACHE_DIR=|^PATH=.*ccache' "$f" || fail "$f: ccache's variables with --no-ccache"
done

# --- without ccache on PATH: said once, builds without it -----------------
mkdir "$T/path"
for f in /usr/bin/* /bin/*; do
	n=${f##*/}
	[ "$n" = ccache ] || [ -e "$T/path/$n" ] || ln -s "$f" "$T/path/$n"
done
rm -f "$T"/env/*
PATH="$T/path" bisect "$T/none"
[ "$(grep -c 'ccache is not installed: builds go without a compiler cache' "$T/none.err")" -eq 1 ] ||
	fail "a missing ccache is not said once"
[ ! -e "$T/none/ccache" ] || fail "a cache without ccache"
for f in "$T"/env/build.*; do
	grep -qx "CCACHE_DISABLE=1" "$f" || fail "$f: ccache not disabled"
done
echo "ok: $builds builds, $before hits, runs without ccache"
