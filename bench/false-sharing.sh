#!/bin/sh
# bench/false-sharing.sh [PERFBISECT] - a real false-sharing regression,
# bisected on this machine: the kind of bug of the first field note.
#
# A repository of 24 commits whose benchmark runs two threads, each adding
# to its own atomic counter for a fixed number of operations, and prints
# their throughput (wall clock).  The two counters live in a frame on the
# main thread's stack at an offset that varies from run to run in 8-byte
# steps (the layout effect of the environment's size, made explicit).  Until
# commit 15 they are 128 bytes apart and never share a cache line; commit
# 15 ("pack the counters") puts them 40 bytes apart, so they share a line
# whenever the first lands in the first 24 bytes of one - 3 runs in 8 -
# and the line bounces between the two CPUs: a bimodal slowdown.
#
# It bisects the range with the default options (runs held to their start
# node, never to one CPU: on this one-node machine, not held at all), and
# for comparison prints what the same benchmark measures pinned to one CPU
# (`taskset -c 0`, what the start pin of old did to every thread the run
# created): there the threads take turns and the counters never bounce,
# so the regression cannot be seen.  Figures go in bench/README.md.
set -eu
PB=${1:-$(cd "$(dirname "$0")/.." && pwd)/bin/perfbisect}
T=$(mktemp -d /tmp/pb-fs.XXXXXX)
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
mkdir "$T/repo"
cd "$T/repo"
git init -q -b main .
export GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@example.org
export GIT_COMMITTER_NAME=T GIT_COMMITTER_EMAIL=t@example.org
i=0
while [ "$i" -lt 24 ]; do
	gap=128
	[ "$i" -ge 15 ] && gap=40
	cat > bench.c <<EOC
/* two threads, two counters $gap bytes apart on the main stack */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#define OPS 20000000L
static void *work(void *p)
{
	atomic_long *c = p;
	for (long k = 0; k < OPS; k++)
		atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
	return NULL;
}
static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}
int main(void)
{
	struct timespec seed;
	clock_gettime(CLOCK_REALTIME, &seed);
	/* where the counters land moves by 8-byte steps from run to run */
	_Alignas(64) unsigned char frame[256];
	atomic_long *a = (atomic_long *)(frame + 8 * ((seed.tv_nsec / 7) % 8));
	atomic_long *b = (atomic_long *)((unsigned char *)a + $gap);
	pthread_t t[2];
	double t0;
	memset(frame, 0, sizeof(frame));
	t0 = now();
	pthread_create(&t[0], NULL, work, a);
	pthread_create(&t[1], NULL, work, b);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	printf("shared_line: %d\n", (int)(((unsigned long)a / 64) == ((unsigned long)b / 64)));
	printf("throughput: %.0f ops/s\n", 2.0 * OPS / (now() - t0));
	return 0;
}
EOC
	echo "$i" > NOTES
	msg="change $i"
	[ "$i" -eq 15 ] && msg="pack the counters"
	git add bench.c NOTES
	GIT_COMMITTER_DATE="@$((1700000000 + i * 60))" \
		git commit -q -m "$msg" --date "@$((1700000000 + i * 60))"
	i=$((i + 1))
done
culprit=$(git rev-parse main~8)
cd - > /dev/null
echo "false-sharing: culprit planted at $culprit (pack the counters)"
cc -O2 -pthread -o "$T/b" "$T/repo/bench.c"
for how in plain pinned; do
	vals=""
	for r in 1 2 3 4 5 6 7 8; do
		if [ $how = plain ]; then v=$("$T/b"); else v=$(taskset -c 0 "$T/b"); fi
		vals="$vals $(printf '%s\n' "$v" | sed -n 's/^throughput: \([0-9]*\).*/\1/p')"
	done
	echo "false-sharing: the bad end run by hand, $how:$vals"
done
"$PB" bisect --local --repo "$T/repo" --good main~23 --bad main \
	--build 'cc -O2 -pthread -o b bench.c' --run ./b --metric throughput \
	--seed 1 --state-dir "$T/state" --json > "$T/out.json" 2> "$T/err" || true
tail -n 12 "$T/err"
python3 - "$T/out.json" "$culprit" <<'EOP'
import json, sys
j = json.load(open(sys.argv[1]))
v = j.get("verification") or {}
print("false-sharing: verdict %s, culprit %s (%s), mode %s, %s runs, verification %s pairs, effect %s, p %s"
      % (j.get("verdict"), (j.get("culprit") or "none")[:12],
         "right" if j.get("culprit") == sys.argv[2] else "not the planted one",
         j.get("mode"), j.get("runs"), v.get("pairs"), v.get("effect"), v.get("p")))
EOP
