#!/bin/sh
# As root, perfbisect runs the benchmark as the unprivileged user with no
# capability at all, and the benchmark cannot get root back: a set-user-ID
# root program it runs stays unprivileged.
. "$PB_FIXTURES/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "skipped: needs root"; exit 0; }
mkdir -p "$T/repo"
cp /usr/bin/id "$T/suid-id"
chmod 4755 "$T/suid-id"
# sanity: without perfbisect's protections the copy does give root back
[ "$(setpriv --reuid=65534 --regid=65534 --clear-groups "$T/suid-id" -u)" = 0 ] ||
	{ echo "skipped: this file system ignores set-user-ID"; exit 0; }
cd "$T/repo"
git init -q -b main .
cat > run.sh <<EOS
#!/bin/sh
echo "uid: \$(id -u)"
echo "gid: \$(id -g)"
echo "groups: \$(id -G | wc -w)"
echo "euid_via_suid: \$($T/suid-id -u)"
echo "nnp: \$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' /proc/self/status)"
for c in CapPrm CapEff CapBnd CapAmb; do
	echo "\$c: \$((0x\$(sed -n "s/^\$c:[[:space:]]*//p" /proc/self/status)))"
done
echo "score: \${SCORE:-100}"
EOS
chmod 755 run.sh
git add run.sh
git -c user.name=t -c user.email=t@e commit -q -m one
git -c user.name=t -c user.email=t@e commit -q --allow-empty -m two
cd "$T"
expect_exit 1 "$PERFBISECT" bisect --local --repo "$T/repo" --good main~1 \
	--bad main --build true --run ./run.sh --metric score --max-runs 8 \
	--state-dir "$T/state" --json > "$T/out.json" 2> "$T/err"
db="$T/state/perfbisect.db"
m() { echo "CAST(json_extract(metrics, '\$.$1') AS INTEGER)"; }
rows=$(sqlite3 "$db" "SELECT DISTINCT $(m uid) || ' ' || $(m euid_via_suid) || ' ' || $(m nnp) || ' ' || $(m CapPrm) || $(m CapEff) || $(m CapBnd) || $(m CapAmb) || ' ' || $(m groups) || ' ' || run_as FROM runs")
cat "$T/err"
[ "$rows" = "65534 65534 1 0000 1 nobody" ] || fail "benchmark privileges: '$rows'"
