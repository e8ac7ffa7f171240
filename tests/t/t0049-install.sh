#!/bin/sh
# A real deployment: `make install DESTDIR=... PREFIX=/usr` places exactly
# the listed files (programs, man pages, systemd units, the config and
# the examples) and `make uninstall` takes them back but the config; the
# man pages pass `mandoc -Tlint` and name every flag the programs' usage
# texts name; copies of the installed units, their ExecStart pointing at
# the installed programs, pass `systemd-analyze verify` without a word
# (and the same check catches a broken unit), keep their hardening, and
# use only flags the programs have; the installed example config passes
# `perfbisectd -n`; the reverse-proxy examples cap bodies like max_body
# and wait past long_poll_s; the Slurm script runs the agent --once.
. "$PB_FIXTURES/lib.sh"
: "${PERFBISECTD:?run through tests/run.sh}"
top=$(cd "$PB_FIXTURES/../.." && pwd)

# mandoc and systemd-analyze come with `make deps`; as root the test
# installs them itself, else it can only skip.
if ! command -v mandoc >/dev/null || ! command -v systemd-analyze >/dev/null
then
	[ "$(id -u)" -ne 0 ] || sh "$top/tools/deps.sh" >/dev/null 2>&1 || :
	for tool in mandoc systemd-analyze; do
		command -v "$tool" >/dev/null || {
			echo "skipped: $tool is not installed and cannot be" \
				"(make deps as root installs it)"
			exit 0
		}
	done
fi

# --- make install, with the programs this test run was given, from the
# objects they were linked from (make check: build/check/bin and
# build/check; a release build: bin and build/release), so the build is up
# to date and nothing is compiled
bindir=$(dirname "$PERFBISECT")
case $bindir in
"$top/bin") bdir=build/release ;;
*/bin) bdir=$(dirname "$bindir") ;;
*) fail "cannot tell the build directory of $PERFBISECT" ;;
esac
R=$T/root
make -s -C "$top" --no-print-directory B="$bdir" BIN="$bindir" \
	DESTDIR="$R" PREFIX=/usr install > "$T/make.out" 2>&1 ||
	{ cat "$T/make.out"; fail "make install failed"; }
(cd "$R" && find . ! -type d -printf '%m %p\n' | sort -k 2) > "$T/files"
cat > "$T/want" <<'LIST'
644 ./etc/perfbisect/perfbisectd.conf
755 ./usr/bin/perfbisect
755 ./usr/bin/perfbisect-agent
755 ./usr/bin/perfbisectd
644 ./usr/lib/systemd/system/perfbisect-agent.service
644 ./usr/lib/systemd/system/perfbisectd.service
644 ./usr/share/doc/perfbisect/README.deploy.md
644 ./usr/share/doc/perfbisect/examples/Caddyfile
644 ./usr/share/doc/perfbisect/examples/nginx.conf
644 ./usr/share/doc/perfbisect/examples/perfbisect-agent.env
755 ./usr/share/doc/perfbisect/examples/perfbisect-agent.sbatch
644 ./usr/share/doc/perfbisect/examples/perfbisectd.conf
644 ./usr/share/man/man1/perfbisect.1
644 ./usr/share/man/man8/perfbisect-agent.8
644 ./usr/share/man/man8/perfbisectd.8
LIST
diff "$T/want" "$T/files" || fail "make install placed other files (diff above)"
cmp -s "$R/usr/bin/perfbisectd" "$PERFBISECTD" || fail "perfbisectd not the built one"
for f in perfbisect-agent.env nginx.conf Caddyfile perfbisectd.conf; do
	[ "$f" = nginx.conf ] || [ "$f" = Caddyfile ] && src=proxy/$f || src=$f
	cmp -s "$R/usr/share/doc/perfbisect/examples/$f" "$top/deploy/$src" ||
		fail "examples/$f differs from deploy/$src"
done

# --- man pages: mandoc -Tlint at -W style.  Two kinds of message are
# accepted, neither about the page: "referenced manual not found" (the
# sibling pages are not in this system's mandoc.db while testing) and
# "outdated mandoc.db lacks" (a note about the system's database).
for page in man1/perfbisect.1 man8/perfbisectd.8 man8/perfbisect-agent.8; do
	mandoc -Tlint -W style "$R/usr/share/man/$page" > "$T/lint" 2>&1 || :
	grep -v -e 'STYLE: referenced manual not found' \
		-e 'outdated mandoc.db lacks' "$T/lint" > "$T/lint.bad" || :
	[ ! -s "$T/lint.bad" ] || { cat "$T/lint.bad"; fail "mandoc -Tlint: $page"; }
	mandoc -Tutf8 "$R/usr/share/man/$page" > "$T/page" ||
		fail "mandoc cannot render $page"
	for sec in NAME SYNOPSIS DESCRIPTION "EXIT STATUS" EXAMPLES FILES; do
		[ "$page" = man1/perfbisect.1 ] && [ "$sec" = FILES ] && continue
		col -b < "$T/page" | grep -q "^$sec\$" || fail "$page has no $sec"
	done
done

# every flag a usage text names is in the man page: as .Fl \-flag or
# \-\-flag (prose that quotes other programs' flags is left out)
flags_in() { grep -o -- '--[a-z][a-z-]*' | sort -u; }
man_has() { # PAGE FLAG
	esc=$(printf '%s' "$2" | sed 's/^--//; s/-/\\\\-/g')
	grep -q -e "Fl \\\\-$esc\\b" -e "\\\\-\\\\-$esc\\b" "$1"
}
{
	"$PERFBISECT" --help
	for c in "help bisect" "status --help" "demo --help" "report --help" \
		"detect --help"; do
		# shellcheck disable=SC2086
		"$PERFBISECT" $c
	done
} | flags_in | grep -v -x -e --first-parent -e --quick > "$T/f1"
"$PERFBISECTD" --help | flags_in > "$T/f8d"
"$PERFBISECT_AGENT" --help | flags_in | grep -v -x -e --local > "$T/f8a"
[ "$(wc -l < "$T/f1")" -ge 30 ] || fail "too few perfbisect flags found"
for pair in f1:man1/perfbisect.1 f8d:man8/perfbisectd.8 \
	f8a:man8/perfbisect-agent.8; do
	list=${pair%%:*}
	page=$R/usr/share/man/${pair#*:}
	while read -r flag; do
		man_has "$page" "$flag" || fail "${pair#*:} lacks $flag"
	done < "$T/$list"
done

# every setting of the table (--example-config) is in perfbisectd.8
"$PERFBISECTD" --example-config | sed -n 's/^#\([a-z_]*\) = .*/\1/p' > "$T/settings"
[ "$(wc -l < "$T/settings")" -ge 15 ] || fail "too few settings found"
while read -r name; do
	grep -q "^\.It Cm $name " "$R/usr/share/man/man8/perfbisectd.8" ||
		fail "perfbisectd.8 lacks the setting $name"
done < "$T/settings"

# --- units: the installed ones name the installed paths; copies whose
# ExecStart points at the programs under DESTDIR pass systemd-analyze
# verify (it runs without a systemd PID 1) with nothing to say
U=$R/usr/lib/systemd/system
grep -q '^ExecStart=/usr/bin/perfbisectd --config /etc/perfbisect/perfbisectd.conf' \
	"$U/perfbisectd.service" || fail "perfbisectd.service ExecStart"
grep -q '^ExecStart=/usr/bin/perfbisect-agent ' "$U/perfbisect-agent.service" ||
	fail "perfbisect-agent.service ExecStart"
mkdir "$T/units"
for u in perfbisectd perfbisect-agent; do
	sed "s|/usr/bin/|$R/usr/bin/|g" "$U/$u.service" > "$T/units/$u.service"
done
verify() { # UNIT...: 0 when systemd-analyze verify passes silently
	set +e
	(cd "$T/units" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify \
		--man=no "$@") > "$T/verify" 2>&1
	vrc=$?
	set -e
	[ "$vrc" -eq 0 ] && [ ! -s "$T/verify" ]
}
verify perfbisectd.service perfbisect-agent.service ||
	{ cat "$T/verify"; fail "systemd-analyze verify"; }
# the check sees a misspelt directive, a bad value and a missing program
sed 's/^ProtectSystem=/ProtectSytem=/' "$T/units/perfbisectd.service" \
	> "$T/units/bad1.service"
sed 's/^KillMode=mixed/KillMode=mixd/' "$T/units/perfbisect-agent.service" \
	> "$T/units/bad2.service"
sed "s|$R/usr/bin/perfbisectd|$R/usr/bin/nope|" \
	"$T/units/perfbisectd.service" > "$T/units/bad3.service"
for b in bad1 bad2 bad3; do
	! verify "$b.service" || fail "systemd-analyze verify passed $b.service"
done

# hardening the units must keep (deploy/systemd/*.service say why)
for d in User=perfbisect ProtectSystem=strict StateDirectory=perfbisectd \
	NoNewPrivileges=yes PrivateTmp=yes ProtectHome=yes \
	CapabilityBoundingSet= 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6'
do
	grep -q -x "$d" "$U/perfbisectd.service" || fail "perfbisectd.service lacks $d"
done
for d in ProtectSystem=strict 'StateDirectory=perfbisect perfbisect-agent' \
	NoNewPrivileges=yes PrivateTmp=yes ProtectHome=yes KillMode=mixed \
	ProtectKernelTunables=yes \
	'ReadWritePaths=/proc/sys/vm -/sys/kernel/mm/transparent_hugepage -/proc/irq'
do
	grep -q -x "$d" "$U/perfbisect-agent.service" ||
		fail "perfbisect-agent.service lacks $d"
done
grep -q 'CAP_SYS_ADMIN \\$\|CAP_SYS_ADMIN$' "$U/perfbisect-agent.service" &&
	fail "the agent's bounding set keeps CAP_SYS_ADMIN"
# every flag of an ExecStart is one the program takes
execflags() { # UNIT: the flags of its ExecStart (continued lines joined)
	sed -n '/^ExecStart=/,/[^\\]$/p' "$1" | flags_in
}
execflags "$U/perfbisectd.service" | while read -r flag; do
	grep -q -- "$flag" "$T/f8d" || fail "perfbisectd has no $flag"
done
execflags "$U/perfbisect-agent.service" | while read -r flag; do
	grep -q -- "$flag" "$T/f8a" || fail "perfbisect-agent has no $flag"
done
# the agent's environment example gives what ExecStart expands
for v in PERFBISECT_SERVER PERFBISECT_AGENT_NAME PERFBISECT_AGENT_OPTIONS; do
	grep -q "$v" "$U/perfbisect-agent.service" || fail "unit lacks \$$v"
	grep -q "^$v=" "$R/usr/share/doc/perfbisect/examples/perfbisect-agent.env" ||
		fail "perfbisect-agent.env lacks $v"
done

# --- the example config and the installed one check
for c in etc/perfbisect/perfbisectd.conf \
	usr/share/doc/perfbisect/examples/perfbisectd.conf; do
	"$R/usr/bin/perfbisectd" -n --config "$R/$c" > "$T/out" 2>&1 ||
		{ cat "$T/out"; fail "perfbisectd -n rejects $c"; }
	[ ! -s "$T/out" ] || { cat "$T/out"; fail "perfbisectd -n said something on $c"; }
done

# --- the proxies: body cap = max_body (1MiB), timeouts past long_poll_s
EX=$R/usr/share/doc/perfbisect/examples
grep -q '^#max_body = 1MiB$' "$EX/perfbisectd.conf" || fail "max_body default moved"
lp=$(sed -n 's/^#long_poll_s = \([0-9]*\)$/\1/p' "$EX/perfbisectd.conf")
[ -n "$lp" ] || fail "no long_poll_s in the example"
grep -q 'client_max_body_size 1m;' "$EX/nginx.conf" || fail "nginx body cap"
grep -q 'max_size 1MiB' "$EX/Caddyfile" || fail "Caddy body cap"
grep -q '127.0.0.1:8630' "$EX/nginx.conf" || fail "nginx upstream"
grep -q 'reverse_proxy 127.0.0.1:8630' "$EX/Caddyfile" || fail "Caddy upstream"
for t in $(sed -n 's/^[[:space:]]*proxy_read_timeout \([0-9]*\)s;/\1/p' "$EX/nginx.conf") \
	$(sed -n 's/^[[:space:]]*read_timeout \([0-9]*\)s$/\1/p' "$EX/Caddyfile"); do
	[ "$t" -gt "$lp" ] || fail "a proxy read timeout ${t}s is not above long_poll_s ${lp}s"
done
[ "$(grep -c 'read_timeout' "$EX/nginx.conf" "$EX/Caddyfile" |
	awk -F: '{ s += $2 } END { print s }')" -ge 2 ] || fail "proxy timeouts missing"

# --- the Slurm script: shell syntax, an exclusive node and a time limit,
# the agent --once with flags it has
S=$EX/perfbisect-agent.sbatch
sh -n "$S" || fail "the sbatch script does not parse"
for d in '#SBATCH --exclusive' '#SBATCH --time=' '#SBATCH --signal=B:TERM@'; do
	grep -q -- "^$d" "$S" || fail "sbatch lacks $d"
done
sed -n '/^exec perfbisect-agent/,/[^\\]$/p' "$S" | flags_in > "$T/sflags"
grep -q -x -- --once "$T/sflags" || fail "the sbatch script does not use --once"
while read -r flag; do
	grep -q -x -- "$flag" "$T/f8a" || fail "perfbisect-agent has no $flag (sbatch)"
done < "$T/sflags"

# --- uninstall takes back all but the config
make -s -C "$top" --no-print-directory B="$bdir" BIN="$bindir" \
	DESTDIR="$R" PREFIX=/usr uninstall > "$T/make.out" 2>&1 ||
	{ cat "$T/make.out"; fail "make uninstall failed"; }
left=$(cd "$R" && find . ! -type d)
[ "$left" = ./etc/perfbisect/perfbisectd.conf ] ||
	fail "make uninstall left: $left"
echo "install ok"
