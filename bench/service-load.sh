#!/bin/sh
# service-load.sh [--commits N] [--culprit K] [--threads T] [--keep]
#                 [--log-requests yes|no]
#                 [-- SERVICE-LOAD OPTIONS...]
#
# Sets up a perfbisectd on a loopback port with a fresh database in a
# temporary directory (under $TMPDIR, or /tmp), an admin client token and
# one agent token per simulated agent, a repository of N commits
# (tests/fixtures/mkrepo.sh; default 300, the planted slowdown at K,
# default N*2/3) with a benchmark, then runs bench/service-load against it
# and tears everything down.  The options after -- go to service-load
# (--agents, --bisections, --seconds, --max-records, ...).
#
# PBD_ATTACH="strace -c -f -p" (or "perf record -e cpu-clock -g -o F -p")
# attaches a tool to the server for the load only: it gets the server's
# pid as its last argument and SIGINT after the load; its output is shown.
#
# With log_requests (the default, as deployed) the server's request log
# is summarised after the run: the time the server itself spent on each
# route, p50/p99, beside what the agents saw.
#
#   make bench && sh bench/service-load.sh -- --seconds 10
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build/release}
BIN=${BIN:-bin}
PERFBISECTD=${PERFBISECTD:-$here/$BIN/perfbisectd}
LOAD=${SERVICE_LOAD:-$here/$B/bench/service-load}
commits=300 culprit= threads=4 keep=0 log=yes
agents=32
while [ $# -gt 0 ]; do
	case $1 in
	--commits) commits=$2; shift 2 ;;
	--culprit) culprit=$2; shift 2 ;;
	--threads) threads=$2; shift 2 ;;
	--log-requests) log=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--) shift; break ;;
	-h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "service-load.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
# the agents' count, to make their tokens
prev=
for a in "$@"; do
	[ "$prev" = --agents ] && agents=$a
	prev=$a
done
[ -n "$culprit" ] || culprit=$((commits * 2 / 3))
for f in "$PERFBISECTD" "$LOAD"; do
	[ -x "$f" ] || { echo "service-load.sh: $f: run make && make bench" >&2; exit 2; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/service-load.XXXXXX")
pid=
cleanup() {
	if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	if [ "$keep" = 1 ]; then echo "service-load.sh: kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT INT TERM

echo "service-load.sh: a repository of $commits commits in $T" >&2
sh "$here/tests/fixtures/mkrepo.sh" "$T/repo" "$commits" "$culprit" > "$T/shas"

DB=$T/pb.db
"$PERFBISECTD" --add-client admin --admin --db "$DB" 2>/dev/null > "$T/client.token"
i=0
: > "$T/agents.tokens"
while [ "$i" -lt "$agents" ]; do
	"$PERFBISECTD" --add-agent "load-$i" --db "$DB" 2>/dev/null >> "$T/agents.tokens"
	i=$((i + 1))
done
chmod 600 "$T/client.token" "$T/agents.tokens"
cat > "$T/pbd.conf" <<EOF
allow_local_repos = yes
long_poll_s = 5
lease_s = 60
threads = $threads
log_requests = $log
EOF
"$PERFBISECTD" --config "$T/pbd.conf" --db "$DB" --report-dir "$T/report" \
	--work-dir "$T/work" --listen 127.0.0.1:0 --port-file "$T/port" \
	2> "$T/daemon.log" &
pid=$!
n=0
while [ ! -s "$T/port" ]; do
	kill -0 "$pid" 2>/dev/null || { cat "$T/daemon.log" >&2; exit 3; }
	n=$((n + 1)); [ "$n" -lt 200 ] || { echo "not listening" >&2; exit 3; }
	sleep 0.05
done
url=http://127.0.0.1:$(cat "$T/port")
admin=$(cat "$T/client.token")
post() {
	curl -sS -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $admin" \
		-H 'Content-Type: application/json' -X POST --data "$2" "$url$1"
}
st=$(post /api/v1/repos "{\"name\": \"app\", \"url\": \"$T/repo\", \"branch\": \"main\"}")
[ "$st" = 201 ] || { cat "$T/body" >&2; exit 3; }
st=$(post /api/v1/benchmarks "{\"name\": \"score\", \"repo\": \"app\",
	\"build\": \"cc -O2 -o b bench.c\", \"run\": \"./b\", \"metric\": \"score\",
	\"timeout_s\": 60}")
[ "$st" = 201 ] || { cat "$T/body" >&2; exit 3; }

# the server's CPU time (utime + stime, clock ticks) around the load
cpu_of() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
cpu0=$(cpu_of "$pid")
apid=
if [ -n "${PBD_ATTACH:-}" ]; then
	# shellcheck disable=SC2086
	$PBD_ATTACH "$pid" > "$T/attach.out" 2>&1 &
	apid=$!
	sleep 1
fi
set +e
"$LOAD" --url "$url" --agent-tokens "$T/agents.tokens" \
	--client-token "$T/client.token" --repo app --benchmark score \
	--shas "$T/shas" --slow-from "$culprit" --db "$DB" "$@"
code=$?
set -e
cpu1=$(cpu_of "$pid")
if [ -n "$apid" ]; then
	kill -INT "$apid"; wait "$apid" || true
	cat "$T/attach.out" >&2
fi
kill -TERM "$pid"
wait "$pid" || true
pid=
echo "  perfbisectd's CPU during the load (setup included): $(awk "BEGIN { printf \"%.1f\", ($cpu1 - $cpu0) / $(getconf CLK_TCK) }") s"
if [ "$log" = yes ]; then
	tab=$(printf '\t')
	# "perfbisectd: POST /api/v1/runs 200 2.3 ms agent 'load-3'"
	echo "  server's own time per request (request log, ms):"
	awk '$4 ~ /^[0-9][0-9][0-9]$/ && $6 == "ms" && $3 ~ /^\/api\/v1\// {
		p = $3; sub(/\/leases\/[^\/]*\//, "/leases/L/", p)
		sub(/\/bisections\/[0-9]+/, "/bisections/ID", p)
		print $2 " " p " " $4 "\t" $5 }' "$T/daemon.log" |
	sort -t "$tab" -k1,1 -k2,2n |
	awk -F '\t' '{ v[$1, ++n[$1]] = $2 }
	END { for (k in n) { c = n[k]
		p50 = v[k, int(c * 0.5 + 0.999)]; p99 = v[k, int(c * 0.99 + 0.999)]
		printf "    %-42s %7d  p50 %7.1f  p99 %7.1f  max %7.1f\n", k, c, p50, p99, v[k, c] } }' |
	sort
fi
grep -E 'warn|error' "$T/daemon.log" | grep -v ' 20[0-9] \| 409 ' | head -5 >&2 || true
exit "$code"
