#!/bin/sh
# Histories without a change raise no alert.  A repository of 32 commits
# that change nothing measured, two benchmarks, one real agent:
#   noise  a seeded synthetic benchmark: 1000 * (1 + 3 % gaussian noise),
#          the noise a hash of the commit and the run's number;
#   wall   hashing timed by the wall clock, so other work on the machine
#          slows it.
# 31 merges posted in shuffled order: no alert.  Then, while ten CPU hogs
# hold this two-CPU machine, the head is merged: its wall runs are slow,
# and disturbed (other work held the machine: at least 4 of 5 are seen so),
# so they are stored and not counted, and owed again: the merge waits,
# still no alert.  The hogs leave: the head is measured again, no alert.
. "$PB_FIXTURES/lib.sh"
. "$PB_FIXTURES/daemon.sh"

mkdir -p "$T/runs" && chmod 777 "$T/runs"
r=$T/repo
mkdir -p "$r"
git -C "$r" init -q -b main
cat > "$r/noise.sh" <<'EOF'
#!/bin/sh
# seeded noise: the commit and the run's number pick the value
f=$PB_RUNS_DIR/$PERFBISECT_COMMIT.noise
n=$(cat "$f" 2>/dev/null || echo 0)
echo $((n + 1)) > "$f"
awk -v c="$PERFBISECT_COMMIT" -v r="$n" 'BEGIN {
	s = 7; for (i = 1; i <= length(c); i++)
		s = (s * 31 + index("0123456789abcdef", substr(c, i, 1))) % 2147483647
	srand(s + r * 7919); u = rand(); v = rand()
	z = sqrt(-2 * log(u + 1e-12)) * cos(6.283185307 * v)
	printf "score: %.3f\n", 1000 * (1 + 0.03 * z) }'
EOF
CLOCK=CLOCK_MONOTONIC OPS=20 sh "$PB_FIXTURES/mkrepo.sh" "$T/gen" 1 99 > /dev/null
cp "$T/gen/bench.c" "$r/bench.c"
export GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@example.org
export GIT_COMMITTER_NAME=T GIT_COMMITTER_EMAIL=t@example.org
i=0
while [ $i -lt 32 ]; do
	echo "change $i" > "$r/NOTES"
	git -C "$r" add -A
	GIT_COMMITTER_DATE="@$((1700000000 + i * 60))" git -C "$r" commit -q \
		-m "change $i" --date "@$((1700000000 + i * 60))"
	git -C "$r" rev-parse HEAD >> "$T/shas"
	i=$((i + 1))
done
head=$(tail -n 1 "$T/shas")

service_start "lease_s = 30" "heartbeat_s = 5" "merge_backlog = 100" \
	"merge_repeats = 5"
expect 201 --token "$admin" "$PORT" POST /api/v1/repos --data \
	"{\"name\": \"app\", \"url\": \"$r\", \"branch\": \"main\"}"
expect 201 --token "$admin" "$PORT" POST /api/v1/benchmarks --data \
	'{"name": "noise", "repo": "app", "build": "true", "run": "sh noise.sh",
	  "metric": "score", "timeout_s": 10, "repeats": 5}'
expect 201 --token "$admin" "$PORT" POST /api/v1/benchmarks --data \
	"{\"name\": \"wall\", \"repo\": \"app\", \"build\": \"$BUILD\",
	  \"run\": \"$RUN\", \"metric\": \"score\", \"timeout_s\": 10}"
# one agent: two on this one machine would slow each other's wall-clock
# runs by about one CPU of other work, under their --busy-threshold (a
# real change of the machine, which t0050 and t0052 keep out with CPU-time
# scores)
agent_start m1 PB_RUNS_DIR="$T/runs"

measured() { sqlite3 "$DB" "SELECT count(*) FROM merges WHERE state = 'measured'"; }
wait_measured() {
	n=0
	while [ "$(measured)" != "$1" ]; do
		n=$((n + 1))
		[ $n -lt 300 ] || fail "$(measured) merges measured, want $1"
		sleep 1
	done
	# and judged
	n=0
	while [ "$(sqlite3 "$DB" "SELECT count(*) FROM merges WHERE judged = 0")" != 0 ]; do
		n=$((n + 1))
		[ $n -lt 60 ] || fail "merges not judged"
		sleep 1
	done
}
for sha in $(head -n 31 "$T/shas" | shuf); do
	expect 202 --token "$admin" "$PORT" POST /api/v1/merges --data \
		"{\"repo\": \"app\", \"commit\": \"$sha\"}"
	[ "$(json "$T/body" "j['jobs']")" = 2 ] || fail "merge $sha: $(cat "$T/body")"
done
wait_measured 62
alerts() { req --token "$admin" "$PORT" GET /api/v1/alerts > /dev/null;
	json "$T/body" "len(j['alerts'])"; }
[ "$(alerts)" = 0 ] || { cat "$T/body"; fail "alert on a history without a change"; }
# the noise benchmark was noisy: runs of one commit differ
[ "$(sqlite3 "$DB" "SELECT max(value) / min(value) > 1.03 FROM runs r JOIN benchmarks b ON b.id = r.benchmark_id WHERE b.name = 'noise' AND r.bisection_id IS NULL")" = 1 ] ||
	fail "the synthetic benchmark has no noise"

# the head merged while ten hogs hold both CPUs (with the benchmark, 11
# runnable processes on 2 CPUs: the hogs take 1.8 CPUs, past the agents'
# --busy-threshold 1.5)
hogs=
for k in 1 2 3 4 5 6 7 8 9 10; do
	sh -c 'while :; do :; done' &
	hogs="$hogs $!"
done
PB_KILL_PIDS="$PB_KILL_PIDS $hogs"
sleep 0.5
expect 202 --token "$admin" "$PORT" POST /api/v1/merges --data \
	"{\"repo\": \"app\", \"commit\": \"$head\"}"
q="SELECT coalesce(sum(r.disturbed), 0), count(*) FROM runs r JOIN benchmarks b ON b.id = r.benchmark_id JOIN commits c ON c.id = r.commit_id WHERE b.name = 'wall' AND c.sha = '$head'"
n=0
until got=$(sqlite3 "$DB" "$q") && [ "${got#*|}" -ge 5 ]; do
	n=$((n + 1))
	[ $n -lt 300 ] || fail "the head's wall runs under load: $got"
	sleep 0.5
done
# most of its first five seen disturbed (a run may start in a lull of the
# hogs' scheduling): not counted, and owed again - the merge waits
[ "${got%|*}" -ge 4 ] ||
	fail "the head's wall runs under load: disturbed|runs = $got, want at least 4|5"
wall_head="SELECT m.state FROM merges m JOIN benchmarks b ON b.id = m.benchmark_id JOIN commits c ON c.id = m.commit_id WHERE b.name = 'wall' AND c.sha = '$head'"
[ "$(sqlite3 "$DB" "$wall_head")" = queued ] ||
	fail "the head's wall merge is '$(sqlite3 "$DB" "$wall_head")' with its runs disturbed"
[ "$(alerts)" = 0 ] || { cat "$T/body"; fail "alert from disturbed runs"; }
# the hogs leave: the disturbed runs are run again, the merge is measured
# on five undisturbed runs, and there is still no alert
kill $hogs
wait_measured 64
[ "$(sqlite3 "$DB" "SELECT count(*) FROM runs r JOIN benchmarks b ON b.id = r.benchmark_id JOIN commits c ON c.id = r.commit_id WHERE b.name = 'wall' AND c.sha = '$head' AND r.disturbed = 0")" -ge 5 ] ||
	fail "the head's wall merge measured without five undisturbed runs: $(sqlite3 "$DB" "$q")"
grep -q "merge [0-9]*: [0-9] of its runs were disturbed by other work; they run again in" "$T/daemon.log" ||
	fail "perfbisectd did not say it measures the merge again"
[ "$(alerts)" = 0 ] || { cat "$T/body"; fail "alert after the load"; }
daemon_stop
[ "$PBD_EXIT" = 0 ] || fail "perfbisectd exit $PBD_EXIT"
echo "quiet history ok"
