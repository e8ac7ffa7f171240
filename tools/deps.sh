#!/bin/sh
# deps.sh - makes sure the Debian packages perfbisect builds and tests with
# are installed.  As root it installs what is missing with apt-get; as
# anyone else it prints the exact apt-get line and fails.  Silent, and
# touching nothing, when everything is there.  mandoc and systemd (for
# systemd-analyze) are for t0049, which checks the man pages and the units
# that `make install` places; chromium is for the report test, which opens
# the static HTML report's pages in it headless (tests/fixtures/cdp.py).
set -eu
pkgs="gcc make git pkg-config sqlite3 python3 libgit2-dev libsqlite3-dev
libcurl4-openssl-dev libnuma-dev libpfm4-dev libcmocka-dev libmicrohttpd-dev
libjansson-dev libssl-dev mandoc systemd chromium"
missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
	echo "deps: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
	exit 0
fi
echo "deps: missing Debian packages:$missing" >&2
echo "deps: install them with:  sudo apt-get install -y$missing" >&2
exit 1
