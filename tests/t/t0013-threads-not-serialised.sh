#!/bin/sh
# Measuring does not serialise threads: a benchmark that starts two threads
# at once, and has each report, while it runs, how many CPUs it may use -
# first as soon as it starts (inside the start hold) and again 0.3 s later -
# sees more than one CPU from its first instant (the run is held to a whole
# NUMA node, never to one CPU; on a one-node machine it is not held at all)
# and the machine's full count once it runs, under the default options.
# Under `taskset -c 0`, what the start pin of old did, both counts are 1.
. "$PB_FIXTURES/lib.sh"
mkdir "$T/repo"
cd "$T/repo"
git init -q -b main .
cat > bench.c <<'EOC'
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>
static int early[2], late[2];
static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}
static int cpus(void)
{
	cpu_set_t s;
	return sched_getaffinity(0, sizeof(s), &s) ? -1 : CPU_COUNT(&s);
}
static void *work(void *arg)
{
	int i = *(int *)arg;
	double t0 = now();
	volatile unsigned long x = 0;
	early[i] = cpus();
	while (now() - t0 < 0.3)
		x++;
	late[i] = cpus();
	return NULL;
}
int main(void)
{
	pthread_t t[2];
	int id[2] = { 0, 1 };
	for (int i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, work, &id[i]))
			return 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("early_cpus: %d\n", early[0] < early[1] ? early[0] : early[1]);
	printf("late_cpus: %d\n", late[0] < late[1] ? late[0] : late[1]);
	printf("score: %d\n", 100);
	return 0;
}
EOC
export GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@example.org
export GIT_COMMITTER_NAME=T GIT_COMMITTER_EMAIL=t@example.org
for i in 0 1 2; do
	echo "$i" > NOTES
	git add bench.c NOTES
	git commit -q -m "change $i"
done
cd - > /dev/null
full=$(nproc)
expect_exit 1 "$PERFBISECT" bisect --local --repo "$T/repo" --good main~2 \
	--bad main --build 'cc -O1 -pthread -o b bench.c' --run ./b \
	--metric score --seed 1 --max-runs 8 --state-dir "$T/state" \
	--json > "$T/out.json" 2> "$T/err"
cat "$T/err"
db="$T/state/perfbisect.db"
n=$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE status = 'ok'")
[ "$n" -ge 4 ] || fail "only $n runs"
want_early=2
[ "$full" -lt 2 ] && want_early=1
[ "$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE status = 'ok' AND json_extract(metrics, '\$.early_cpus') >= $want_early")" -eq "$n" ] ||
	fail "a thread started with fewer than $want_early CPUs: $(sqlite3 "$db" "SELECT group_concat(json_extract(metrics, '\$.early_cpus')) FROM runs")"
[ "$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE status = 'ok' AND json_extract(metrics, '\$.late_cpus') = $full")" -eq "$n" ] ||
	fail "a thread ran with fewer than all $full CPUs: $(sqlite3 "$db" "SELECT group_concat(json_extract(metrics, '\$.late_cpus')) FROM runs")"
# every run says where it was held, or why it was not
[ "$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE json_extract(numa, '\$.start_node_held') IS NOT NULL OR json_extract(numa, '\$.start_note') LIKE '%not held%'")" -eq \
  "$(sqlite3 "$db" "SELECT count(*) FROM runs")" ] || fail "runs that do not say where they started"
if [ "$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)" -le 1 ]; then
	[ "$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE json_extract(numa, '\$.start_note') LIKE '%one NUMA node: not held%'")" -eq \
	  "$(sqlite3 "$db" "SELECT count(*) FROM runs")" ] || fail "a one-node machine must say it holds nothing"
fi
# the check can fail: a one-CPU start pin shows as 1 CPU
if [ "$full" -ge 2 ]; then
	( cd "$T/repo" && cc -O1 -pthread -o "$T/b" bench.c )
	[ "$(taskset -c 0 "$T/b" | sed -n 's/^early_cpus: //p')" -eq 1 ] ||
		fail "the probe cannot see a one-CPU pin"
fi
