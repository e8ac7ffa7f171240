#!/bin/sh
# bench/ccache-saving.sh SRC [PAIRS] - what the compiler cache saves
# `perfbisect bisect --local` on a real code base.
#
# SRC is an unpacked C source tree with a Makefile that `make -j2 -C
# programs zstd` builds (zstd's: `apt-get source zstd`, Debian bookworm's
# libzstd 1.5.4+dfsg2-5, its patches applied).  The script makes a
# repository of it (bench/README.md, "ccache across commits", says how):
# commit 0 the tree as it is, then 15 small commits, each touching 1-3 .c
# files with a harmless change (the files zstd's own history changes most
# are touched most here too), and in commit 10 a planted slowdown of
# level-1 compression.  It then bisects good = commit 0, bad = commit 15
# PAIRS times (default 3) with ccache and PAIRS times with --no-ccache,
# alternately (on, off, off, on, ...: the machine is shared and its load
# drifts), each from a new state directory - so each bisection with
# ccache starts from an empty cache - and prints per bisection its wall
# time, its builds' wall times as perfbisect stored them (first build,
# later ones), its runs, its culprit, ccache's hits and misses, and the
# load average before and after; then the medians and their ratio.
#
# Environment: PERFBISECT (default bin/perfbisect, the release build),
# KEEP=1 keeps the scratch directory.  Run as root, builds and runs are
# the user nobody's (perfbisect's default), so the scratch directory is
# made under /tmp, reachable by it.
set -eu
src=${1:?usage: bench/ccache-saving.sh SRC [PAIRS]}
pairs=${2:-3}
src=$(cd "$src" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
PERFBISECT=${PERFBISECT:-$top/bin/perfbisect}
W=$(mktemp -d /tmp/pb-ccache-bench.XXXXXX)
chmod 755 "$W"
[ "${KEEP:-}" = 1 ] || trap 'rm -rf "$W"' EXIT
export GIT_AUTHOR_NAME="Bench Author" GIT_AUTHOR_EMAIL="bench@example.org"
export GIT_COMMITTER_NAME="Bench Author" GIT_COMMITTER_EMAIL="bench@example.org"

# --- the range --------------------------------------------------------------
R=$W/repo
cp -a "$src" "$R"
rm -rf "$R/.pc" "$R/.git"
cat > "$R/pb-bench.sh" <<'EOF'
#!/bin/sh
# one pass of zstd's own benchmark: level 1 on its synthetic sample
line=$(./programs/zstd -b1 -i0 -q 2>&1 | tr '\r' '\n' | grep 'MB/s' | tail -n 1)
set -- $line
echo "cspeed: $4"
echo "dspeed: $6"
EOF
git init -q -b main "$R"
git -C "$R" add -A
git -C "$R" commit -q -m "import zstd 1.5.4+dfsg2-5 (Debian bookworm source)"

n=0
# touch FILE: a harmless change - a small function nobody calls, appended
touch_c() {
	id=$(echo "$1" | tr -c 'a-zA-Z0-9\n' '_')
	printf '\n/* bench commit %s */\nint pb_commit_%s_%s(void);\nint pb_commit_%s_%s(void) { return %s; }\n' \
		"$n" "$n" "$id" "$n" "$id" "$n" >> "$R/$1"
}
commit() {
	n=$((n + 1))
	msg=$1; shift
	for f in "$@"; do touch_c "$f"; done
	git -C "$R" commit -q -am "$msg"
}
# zstd's own history touches lib/compress/zstd_compress.c (its largest
# file) and programs/fileio.c most often: so does this range
C=lib/compress/zstd_compress.c F=programs/fileio.c
D=lib/decompress/zstd_decompress.c DB=lib/decompress/zstd_decompress_block.c
commit "compress: parameter helper" $C
commit "programs: file helpers" $F programs/util.c
commit "lazy: match finder helper" lib/compress/zstd_lazy.c $C
commit "decompress: block helpers" $D $DB
n=$((n + 1))
sed -i 's/Compress or decompress the INPUT file(s)/Compress or decompress the INPUT file(s) (bench)/' "$R/programs/zstdcli.c"
touch_c $F
git -C "$R" commit -q -am "cli: usage wording"
commit "opt: price helper" lib/compress/zstd_opt.c $C
commit "huffman: table helpers" lib/compress/huf_compress.c lib/common/entropy_common.c
commit "decompress: frame helper" $D
commit "bench: report helper" programs/benchzstd.c $F
# commit 10: the planted slowdown - a spin at every block of the fast
# strategy (level 1)
n=$((n + 1))
sed -i '/^size_t ZSTD_compressBlock_fast(/,/^{/{/^{/a\
    {   volatile U32 pb_spin; for (pb_spin = 0; pb_spin < 250000; pb_spin++) {} }
}' "$R/lib/compress/zstd_fast.c"
touch_c $C
git -C "$R" commit -q -am "fast: block entry bookkeeping"
commit "double fast, decompress: helpers" lib/compress/zstd_double_fast.c $DB
n=$((n + 1))
sed -i 's/(bench)/(bench, again)/' "$R/programs/zstdcli.c"
touch_c $C
git -C "$R" commit -q -am "cli: usage wording again"
commit "programs: dictionary helpers" programs/dibio.c $F
commit "mt, decompress: job helpers" lib/compress/zstdmt_compress.c $D
commit "ldm, compress, pool: helpers" lib/compress/zstd_ldm.c $C lib/common/pool.c
culprit=$(git -C "$R" rev-parse main~5)
echo "range: $(git -C "$R" rev-list --count main) commits, $(find "$R" -name '*.c' | wc -l) .c files; planted slowdown in ${culprit%"${culprit#????????????}"}"
git -C "$R" log --oneline --stat --format='  %h %s' main~15..main | grep -v '^$' | sed 's/^/  /'

# --- the bisections -----------------------------------------------------------
nproc=$(nproc)
# bisect MODE K - one bisection; prints its line and keeps its numbers
bisect() {
	mode=$1 k=$2 state=$W/state-$1-$2
	set -- bisect --local --repo "$R" --good main~15 --bad main \
		--build 'make -j2 -C programs zstd' --run 'sh pb-bench.sh' \
		--metric cspeed --seed 1 --max-runs 300 --busy-threshold 0 \
		--state-dir "$state" --json
	[ "$mode" = on ] || set -- "$@" --no-ccache
	load0=$(cut -d' ' -f1 /proc/loadavg)
	t0=$(date +%s.%N)
	"$PERFBISECT" "$@" > "$state.json" 2> "$state.err" || true
	t1=$(date +%s.%N)
	load1=$(cut -d' ' -f1 /proc/loadavg)
	hits=- misses=- size=-
	if [ "$mode" = on ]; then
		st=$(CCACHE_DIR="$state/ccache" ccache --print-stats)
		hits=$(echo "$st" | awk '$1 ~ /^(direct|preprocessed)_cache_hit$/ { n += $2 } END { print n + 0 }')
		misses=$(echo "$st" | awk '$1 == "cache_miss" { print $2 + 0 }')
		size=$(du -sh "$state/ccache" | cut -f1)
	fi
	sqlite3 -separator ' ' "$state/perfbisect.db" \
		'SELECT b.wall_s FROM builds b ORDER BY b.created_at' > "$state.builds"
	python3 - "$mode" "$k" "$t0" "$t1" "$state.json" "$state.builds" \
		"$hits" "$misses" "$load0" "$load1" "$culprit" "$nproc" "$size" <<'EOF' | tee -a "$W/results"
import json, sys
mode, k, t0, t1, js, bf, hits, misses, l0, l1, culprit, nproc, size = sys.argv[1:]
j = json.load(open(js))
b = [float(x) for x in open(bf).read().split()]
later = b[1:]
c = j.get("culprit") or "none"
print("%-3s %s  total %6.1f s  builds %d: first %5.1f s, later %5.1f s mean (%.1f-%.1f), all %6.1f s  runs %3d  culprit %s%s  hits %s misses %s  load %s -> %s (%s CPUs)" % (
    mode, k, float(t1) - float(t0), len(b), b[0], sum(later) / len(later),
    min(later), max(later), sum(b), j["runs"], c[:12],
    " (right)" if c == culprit else " (WRONG)", hits, misses, l0, l1, nproc))
print("      each build, s: %s%s" % (" ".join("%.1f" % x for x in b),
      "; cache %s on disk" % size if size != "-" else ""))
EOF
}

k=1
while [ "$k" -le "$pairs" ]; do
	if [ $((k % 2)) -eq 1 ]; then bisect on $k; bisect off $k
	else bisect off $k; bisect on $k; fi
	k=$((k + 1))
done

# --- the summary ----------------------------------------------------------------
python3 - "$W/results" <<'EOF'
import re, statistics as st, sys
rows = {"on": [], "off": []}
for line in open(sys.argv[1]):
    m = re.match(r"(on|off)\s+\d+\s+total\s+([\d.]+) s\s+builds (\d+): first\s+([\d.]+) s, later\s+([\d.]+) s mean .*all\s+([\d.]+) s\s+runs\s+(\d+).*hits (\S+) misses (\S+)", line)
    if m:
        rows[m.group(1)].append(m.groups()[1:])
med = lambda mode, i: st.median(float(r[i]) for r in rows[mode])
print()
print("medians over %d bisections each:" % len(rows["on"]))
for mode in ("off", "on"):
    print("  %-8s total %6.1f s, builds: first %5.1f s, later %5.1f s, all %6.1f s" % (
        "ccache" if mode == "on" else "no cache", med(mode, 0), med(mode, 2),
        med(mode, 3), med(mode, 4)))
print("  ccache/no cache: total %.2f, later builds %.2f, all builds %.2f" % (
    med("on", 0) / med("off", 0), med("on", 3) / med("off", 3), med("on", 4) / med("off", 4)))
h = sum(int(r[6]) for r in rows["on"]); m = sum(int(r[7]) for r in rows["on"])
print("  ccache hit rate: %d hits, %d misses (%.0f %% of the compilations ccache saw)" % (h, m, 100.0 * h / (h + m)))
EOF
