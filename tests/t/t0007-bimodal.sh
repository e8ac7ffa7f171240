#!/bin/sh
# Bimodal regressions: from commit 23 of 40 on, a run takes a slow path
# (twice the hashing) with probability 0.5, and in a second repository
# with probability 0.25; before it, never.  bisect --local names the
# commit at confidence 0.999, calls the mode bimodal, and its --json steps
# carry the slow fractions: (almost) 0 at good commits, in (0, 1] at bad
# ones.
. "$PB_FIXTURES/lib.sh"
for q in 0.5 0.25; do
	d="$T/q$q"
	SLOW_FRACTION=$q OPS=30 sh "$PB_FIXTURES/mkrepo.sh" "$d/repo" 40 23 \
		> "$d.shas"
	culprit=$(sed -n 24p "$d.shas")
	expect_exit 0 "$PERFBISECT" bisect --local --repo "$d/repo" \
		--good main~39 --bad main --build "$BUILD" --run "$RUN" \
		--metric score --seed 7 --confidence 0.999 \
		--state-dir "$d/state" --json > "$d/out.json" 2> "$d/err"
	cat "$d/err"
	o="$d/out.json"
	[ "$(json "$o" 'j["culprit"]')" = "$culprit" ] || fail "q=$q: wrong culprit"
	[ "$(json "$o" 'j["mode"]')" = bimodal ] || fail "q=$q: mode"
	[ "$(json "$o" 'j["confidence"] >= 0.999')" = True ] || fail "q=$q: confidence"
	[ "$(json "$o" 'j["runs"] == sum(s["runs"] + s["failed_runs"] + s["disturbed"] for s in j["steps"])')" = True ] \
		|| fail "q=$q: runs do not add up"
	# every judged step has its slow fraction; good ones are never slow
	[ "$(json "$o" 'all(s["slow_fraction"] is not None and 0 <= s["slow_fraction"] <= 1 for s in j["steps"])')" = True ] \
		|| fail "q=$q: slow fractions"
	# (a fast run misread as slow is possible on a loaded machine: the
	# engine allows for it, and so does this check, up to 10 % of them)
	[ "$(json "$o" 'sum(s["slow"] for s in j["steps"] if s["verdict"] == "good") <= 0.1 * sum(s["runs"] for s in j["steps"] if s["verdict"] == "good")')" = True ] \
		|| fail "q=$q: good commits with slow runs"
	[ "$(json "$o" '[s["slow_fraction"] > 0 for s in j["steps"] if s["commit"] == j["culprit"]][0]')" = True ] \
		|| fail "q=$q: the culprit never ran slow"
	# the slow fraction measured on the bad side is near the planted one:
	# within 3.3 binomial standard errors of the bad side's runs (a
	# 0.1 % test; the engine may stop after a dozen of them)
	[ "$(json "$o" "(lambda n: n > 0 and abs(j['model']['slow_fraction_bad'] - $q) <= 3.3 * ($q * (1 - $q) / n) ** 0.5)(sum(s['slow'] + s['fast'] for s in j['steps'] if s['verdict'] == 'bad'))")" = True ] \
		|| fail "q=$q: slow fraction $(json "$o" "j['model']['slow_fraction_bad']")"
	[ "$(json "$o" 'j["model"]["dip_p"] < 0.05 and j["model"]["ashman_d"] > 2')" = True ] \
		|| fail "q=$q: bimodality diagnostics"
	# the parent is a good commit: the same allowance for misread runs
	[ "$(json "$o" 'j["evidence"]["parent"]["slow"] <= 0.1 * (j["evidence"]["parent"]["slow"] + j["evidence"]["parent"]["fast"]) and j["evidence"]["culprit"]["slow"] >= 1')" = True ] \
		|| fail "q=$q: evidence"
	# ground truth from the benchmark itself: the parent never took the
	# slow path, the culprit did
	parent=$(sed -n 23p "$d.shas")
	ps=$(sqlite3 "$d/state/perfbisect.db" "SELECT count(*) FROM runs r JOIN commits c ON c.id = r.commit_id WHERE c.sha = '$parent' AND json_extract(r.metrics, '\$.slow_path') = 1")
	cs=$(sqlite3 "$d/state/perfbisect.db" "SELECT count(*) FROM runs r JOIN commits c ON c.id = r.commit_id WHERE c.sha = '$culprit' AND json_extract(r.metrics, '\$.slow_path') = 1")
	[ "$ps" -eq 0 ] && [ "$cs" -ge 1 ] || fail "q=$q: slow paths: parent $ps, culprit $cs"
	# the runs really were bimodal: the benchmark says which path it took
	slow=$(sqlite3 "$d/state/perfbisect.db" \
		"SELECT count(*) FROM runs WHERE json_extract(metrics, '\$.slow_path') = 1")
	fast=$(sqlite3 "$d/state/perfbisect.db" \
		"SELECT count(*) FROM runs WHERE json_extract(metrics, '\$.slow_path') = 0")
	[ "$slow" -ge 2 ] && [ "$fast" -ge 2 ] || fail "q=$q: $slow slow, $fast fast runs"
	grep -q "bimodal" "$d/err" || fail "q=$q: no mode on stderr"
done
