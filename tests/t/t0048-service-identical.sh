#!/bin/sh
# Commits that cannot matter, through the service: the agents digest the
# ELF files each run mapped from its build tree and send them with the
# record; perfbisectd claims a commit identical to its parent from them, as
# --local does (t0030).  Two agents on the repository of t0030: commit 4
# is named, the README-only bad end 5 carries "identical_to": 4, no
# commit that changed code carries it, the digests are stored once per
# build and file.
. "$PB_FIXTURES/lib.sh"
. "$PB_FIXTURES/daemon.sh"

sh "$PB_FIXTURES/mkrepo-identical.sh" c "$T/repo" > "$T/shas"
sha() { sed -n "$(($1 + 1))p" "$T/shas"; }

service_start
register app "$T/repo"
agent_start i1
agent_start i2

set +e
"$PERFBISECT" bisect --server "$URL" --token-file "$T/client.token" \
	--repo app --benchmark score --good main~5 --bad main --seed 1 \
	--wait --json > "$T/out.json" 2> "$T/err"
rc=$?
set -e
[ "$rc" = 0 ] || { cat "$T/err" "$T/i1.log"; fail "bisect exit $rc"; }
[ "$(json "$T/out.json" 'j["culprit"]')" = "$(sha 4)" ] ||
	{ cat "$T/out.json"; fail "wrong culprit"; }
[ "$(json "$T/out.json" '[s.get("identical_to") for s in j["steps"] if s["commit"] == "'"$(sha 5)"'"][0]')" = "$(sha 4)" ] ||
	{ cat "$T/out.json"; fail "the README commit is not identical_to its parent"; }
for i in 0 1 3 4; do
	[ "$(json "$T/out.json" 'any("identical_to" in s for s in j["steps"] if s["commit"] == "'"$(sha $i)"'")')" = False ] ||
		fail "commit $i changed code but carries identical_to"
done
q() { sqlite3 "$DB" "$1"; }
# kept per agent: a build can differ by machine
[ "$(q "SELECT count(*) FROM build_images WHERE kind != 'elf' OR path != 'b' OR machine NOT IN ('i1', 'i2')")" = 0 ] ||
	fail "unexpected build_images rows: $(q 'SELECT * FROM build_images')"
[ "$(q "SELECT count(*) = count(DISTINCT commit_id || ' ' || machine) FROM build_images")" = 1 ] ||
	fail "a build's file stored twice"
# the claim was made by an agent that ran both commits
[ "$(q "SELECT count(*) FROM build_images i JOIN commits c ON c.id = i.commit_id WHERE c.sha IN ('$(sha 4)', '$(sha 5)') GROUP BY machine HAVING count(*) = 2" | head -n 1)" = 2 ] ||
	fail "no agent ran both the culprit and the README commit"
digest() { q "SELECT DISTINCT i.digest FROM build_images i JOIN commits c ON c.id = i.commit_id WHERE c.sha = '$1'"; }
[ -n "$(digest "$(sha 5)")" ] && [ "$(digest "$(sha 5)")" = "$(digest "$(sha 4)")" ] ||
	fail "commits 4 and 5 have different digests"
[ "$(digest "$(sha 3)")" != "$(digest "$(sha 4)")" ] || fail "commits 3 and 4 have one digest"
# runs of both agents
[ "$(q "SELECT count(DISTINCT machine) FROM runs WHERE orphan = 0")" = 2 ] ||
	fail "the runs are not of both agents"
daemon_stop
[ "$PBD_EXIT" = 0 ] || fail "perfbisectd exit $PBD_EXIT"
exit 0
