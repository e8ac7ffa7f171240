#!/bin/sh
# Settings on a fake two-node machine (--sysroot): zone_reclaim_mode, THP
# and the IRQ affinity of a NIC are applied for every run, read back by the
# benchmark while it runs, and put back after each; a kernel-managed IRQ
# that refuses the write is reported.  Killed with SIGKILL mid-run, the
# benchmark dies with perfbisect and the settings stay journalled; the next
# start - even one with a bad flag, which still exits 2 - puts them back.
. "$PB_FIXTURES/lib.sh"
S="$T/sys"
sh "$PB_FIXTURES/mksysroot.sh" --managed-irq 43 "$S"
chmod -R a+rX "$S"
sh "$PB_FIXTURES/mkrepo.sh" "$T/repo" 4 2 > "$T/shas"
# THP's file lists the choices and brackets the active one; the kernel
# takes the bare word, which a fake tree then holds as is.
thp_word() { sed 's/.*\[\(.*\)\].*/\1/' "$S/sys/kernel/mm/transparent_hugepage/enabled"; }
old_thp=$(thp_word)
[ "$old_thp" = madvise ] || fail "fixture THP: '$old_thp'"
# What the benchmark sees of the machine while it runs, as metrics.
cat > "$T/probe.sh" <<EOS
echo "zone_reclaim: \$(cat $S/proc/sys/vm/zone_reclaim_mode)"
case "\$(cat $S/sys/kernel/mm/transparent_hugepage/enabled)" in
never|*"[never]"*) echo "thp_never: 1" ;; *) echo "thp_never: 0" ;;
esac
[ "\$(cat $S/proc/irq/40/smp_affinity_list)" = 4-7 ] && echo "irq40_local: 1" || echo "irq40_local: 0"
EOS
journal="$S/var/lib/perfbisect/settings.journal"
settings="zone_reclaim_mode=1,thp=never,irq_affinity=local"
check_old() {
	[ "$(cat "$S/proc/sys/vm/zone_reclaim_mode")" = 0 ] || fail "$1: zone_reclaim_mode not restored"
	[ "$(thp_word)" = "$old_thp" ] || fail "$1: THP not restored"
	for irq in 40 41 42; do
		[ "$(cat "$S/proc/irq/$irq/smp_affinity_list")" = 0-7 ] || fail "$1: irq $irq not restored"
	done
	[ ! -e "$journal" ] || fail "$1: journal left behind"
}

expect_exit 0 "$PERFBISECT" bisect --local --repo "$T/repo" --good main~3 \
	--bad main --build "$BUILD" --run "sh $T/probe.sh && ./b" --metric score \
	--seed 1 --sysroot "$S" --nic eth0 --config "$settings" \
	--state-dir "$T/state" --json > "$T/out.json" 2> "$T/err"
cat "$T/err"
db="$T/state/perfbisect.db"
n=$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE status = 'ok'")
during=$(sqlite3 "$db" "SELECT DISTINCT CAST(json_extract(metrics, '\$.zone_reclaim') AS INTEGER) || CAST(json_extract(metrics, '\$.thp_never') AS INTEGER) || CAST(json_extract(metrics, '\$.irq40_local') AS INTEGER) FROM runs WHERE status = 'ok'")
[ "$n" -ge 6 ] && [ "$during" = 111 ] || fail "settings during the runs: '$during' over $n runs"
check_old "after the bisection"
# each run's record says what was applied, and that IRQ 43 refused
[ "$(sqlite3 "$db" "SELECT count(*) FROM runs, json_each(runs.settings) s WHERE json_extract(s.value, '\$.target') = 'irq 43' AND json_extract(s.value, '\$.status') = 'refused'")" -eq "$n" ] ||
	fail "the refusing IRQ is not reported"
[ "$(sqlite3 "$db" "SELECT count(*) FROM runs, json_each(runs.settings) s WHERE json_extract(s.value, '\$.setting') = 'zone_reclaim_mode' AND json_extract(s.value, '\$.status') = 'applied' AND json_extract(s.value, '\$.old') = '0' AND json_extract(s.value, '\$.new') = '1'")" -eq "$n" ] ||
	fail "zone_reclaim_mode not recorded"
[ "$(sqlite3 "$db" "SELECT DISTINCT json_extract(machine_facts, '\$.numa_nodes') || ':' || json_extract(machine_facts, '\$.numa_cpus') || ':' || json_extract(machine_facts, '\$.nic_node') FROM runs")" = "2:0:0-3 1:4-7:1" ] ||
	fail "facts of the fake machine"
# what makes runs drift: recorded with every run, and warned about once
[ "$(sqlite3 "$db" "SELECT DISTINCT json_extract(machine_facts, '\$.cpufreq_governor') || ':' || json_extract(machine_facts, '\$.boost') || ':' || json_extract(machine_facts, '\$.smt') || ':' || json_extract(machine_facts, '\$.isolcpus') || ':' || json_extract(machine_facts, '\$.nohz_full') FROM runs")" = "powersave:on:on:none:none" ] ||
	fail "drift facts of the fake machine"
[ "$(grep -c "warning: the CPU frequency governor is 'powersave'" "$T/err")" -eq 1 ] ||
	fail "no single warning about the governor"
grep -q "warning: turbo/boost is on" "$T/err" || fail "no warning about boost"

# Killed mid-run: the benchmark dies with perfbisect, the settings stay
# changed with their journal, and the next start puts them back.  The
# benchmark (user nobody) notes its pid in a directory it may write.
mkdir "$T/pub"
chmod 1777 "$T/pub"
"$PERFBISECT" bisect --local --repo "$T/repo" --good main~3 --bad main \
	--build "$BUILD" --run "sh $T/probe.sh; echo \$\$ > $T/pub/sh.pid; sleep 60 & echo \$! > $T/pub/bench.pid; wait" \
	--metric score --sysroot "$S" --nic eth0 --config "$settings" \
	--state-dir "$T/state2" > "$T/err2" 2>&1 &
pb=$!
i=0
while [ ! -s "$T/pub/bench.pid" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$T/pub/bench.pid" ] || { kill -9 $pb; cat "$T/err2"; fail "the benchmark never started"; }
bench=$(cat "$T/pub/bench.pid")
shell=$(cat "$T/pub/sh.pid")
[ "$(cat "$S/proc/sys/vm/zone_reclaim_mode")" = 1 ] || fail "settings not applied mid-run"
[ -s "$journal" ] || fail "no journal mid-run"
kill -9 $pb
wait $pb 2>/dev/null || true
i=0
# the shell dies of its parent-death signal, the benchmark it forked (not
# exec'd) by perfbisect's guard
alive() { [ -e "/proc/$1" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }
while { alive "$bench" || alive "$shell"; } && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
! alive "$shell" || fail "the run command's shell outlived perfbisect"
! alive "$bench" || fail "the benchmark outlived perfbisect"
[ "$(cat "$S/proc/sys/vm/zone_reclaim_mode")" = 1 ] || fail "nothing left to restore: the test proves nothing"
expect_exit 2 "$PERFBISECT" bisect --local --sysroot "$S" --no-such-flag 2> "$T/err3"
cat "$T/err3"
# (said as "put back N settings", or as a warning that counts what was
# restored when a value - the managed IRQ's - could not be written back)
grep -Eq "put back|restored [0-9]+ value" "$T/err3" || fail "the restore is not said"
check_old "after the restart"
