#!/usr/bin/env bash
# make grade [STEP=N]: grade step N (without N: every step there is) and
# write the results where graders read them, in build/grade:
#
#   stepNN.matrix.tap, stepNN.cli.tap        bats' TAP, one file per suite
#   stepNN.matrix.junit.xml, stepNN.cli...   bats' JUnit report, likewise
#   results.json                             Gradescope's autograder format
#
# The suites are the step's column of the check matrix
# (tests/isolation/checks.bats with STEP=N) and its command-line tests
# (tests/cli/cli.bats).  The points are the lesson's: one for each row of
# the matrix that the step brings on, "(from step NN)", which fails until
# the step's code is written.  Every other test passes on a handout as
# given (earlier rows hold, later ones do not hold yet, most command-line
# tests pass): it is listed, passed or failed, and worth no points, and
# the summary says how many of them fail.  A skipped test (not for this
# step, or this machine cannot run it: CI=true makes the latter a failure)
# is listed with its reason.  A failing test is a grade, not an error: the
# exit status is 0 whenever grading ran.
# Runs as root, in the kit or in a handout of it (scripts/lab.sh): the
# tree it runs in is the one graded.
#
#   scripts/grade.sh 3        scripts/grade.sh
#   GRADE_FILTER=REGEX scripts/grade.sh 3    only the tests whose names match
#                                            (bats --filter), for a quick try
set -euo pipefail
cd "$(dirname "$0")/.."
me=grade.sh
out=build/grade

fail() {
	echo "$me: $*" >&2
	exit 2
}

mapfile -t all < <(ls -d step[0-9][0-9]-* 2>/dev/null)
[ ${#all[@]} -gt 0 ] || fail "no stepNN-* directories in $(pwd): run me from the kit, or from a handout of it"
# Every step here, by number: 1 2 3 ...
numbers=()
for dir in "${all[@]}"; do
	k=${dir#step}
	numbers+=("$((10#${k%%-*}))")
done
last=${numbers[-1]}
if [ $# -gt 0 ] && [ -n "$1" ]; then
	n=${1#0}
	[[ $n =~ ^[1-9][0-9]?$ ]] && ((n <= last)) || fail "STEP=\"$1\" is not a step: a step is a number, 1 to $last"
	printf -v nn %02d "$n"
	ls -d "step$nn"-* >/dev/null 2>&1 || fail "there is no step $n here (steps: ${all[*]})"
	steps=("$n")
else
	steps=("${numbers[@]}")
fi

command -v bats >/dev/null || fail "bats is not installed: make deps installs it (Debian: apt-get install bats bats-assert bats-support)"
# bats 1.5 and newer write JUnit beside TAP in one run; older ones (1.2,
# Ubuntu 22.04's) need a second run with the JUnit formatter.
one_run=no
bats --help 2>&1 | grep -q -- --report-formatter && one_run=yes

rm -rf "$out"
mkdir -p "$out"

# suite NN NAME FILE: run one suite of step NN; TAP and JUnit into $out.
suite() {
	local nn=$1 name=$2 file=$3 tmp
	local filter=()
	[ -z "${GRADE_FILTER:-}" ] || filter=(--filter "$GRADE_FILTER")
	tmp=$(mktemp -d)
	if [ $one_run = yes ]; then
		# bats writes the report from a process of its own that may still be
		# writing when bats exits; that process shares bats' stderr, so a pipe
		# there ends only when the report is complete.
		STEP=$((10#$nn)) bats --formatter tap --report-formatter junit --output "$tmp" "${filter[@]}" "$file" \
			2>&1 | cat >"$out/step$nn.$name.tap" || true
		mv "$tmp/report.xml" "$out/step$nn.$name.junit.xml" 2>/dev/null ||
			echo "$me: bats wrote no JUnit report for step $nn's $name tests" >&2
	else
		STEP=$((10#$nn)) bats --tap "${filter[@]}" "$file" >"$out/step$nn.$name.tap" 2>&1 || true
		STEP=$((10#$nn)) bats --formatter junit "${filter[@]}" "$file" >"$out/step$nn.$name.junit.xml" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}

for n in "${steps[@]}"; do
	nn=$(printf '%02d' "$n")
	echo "$me: step $nn: the check matrix's column, then the command-line tests"
	suite "$nn" matrix tests/isolation/checks.bats
	suite "$nn" cli tests/cli/cli.bats
done

# results.json: one test per TAP result line, its "# " lines as its output.
# JSON is written by hand: strings escaped as RFC 8259 asks.
files=()
for n in "${steps[@]}"; do
	nn=$(printf '%02d' "$n")
	files+=("$out/step$nn.matrix.tap" "$out/step$nn.cli.tap")
done
awk -v json="$out/results.json" '
BEGIN {
	for (i = 1; i < 32; i++) ctrl[sprintf("%c", i)] = sprintf("\\u%04x", i)
	ctrl["\t"] = "\\t"; ctrl["\n"] = "\\n"; ctrl["\r"] = "\\r"
}
function esc(s,   out, c, i) {
	out = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\\") out = out "\\\\"
		else if (c == "\"") out = out "\\\""
		else if (c in ctrl) out = out ctrl[c]
		else out = out c
	}
	return out
}
function flush() {
	if (name == "") return
	printf "%s\n    {\"name\": \"%s\", \"score\": %d, \"max_score\": %d, \"status\": \"%s\", \"visibility\": \"visible\", \"output\": \"%s\"}",
		ntests++ ? "," : "", esc(name), score, weight, passed ? "passed" : "failed", esc(output) >json
	total += score; max += weight
	name = ""
}
FNR == 1 {
	flush()
	f = FILENAME; sub(/.*\//, "", f)
	split(f, part, ".")
	suite = part[1] " " part[2]; sub(/^step/, "step ", suite)
	if (ntests == 0 && !started) { printf "{\n  \"tests\": [" >json; started = 1 }
}
/^(not )?ok [0-9]+/ {
	flush()
	passed = ($1 == "ok"); skipped = 0
	line = $0; sub(/^(not )?ok [0-9]+ /, "", line)
	output = ""
	if (match(line, / # [Ss][Kk][Ii][Pp]/)) {
		reason = substr(line, RSTART + RLENGTH); sub(/^[ :]*/, "", reason)
		output = "skipped, no points either way: " reason
		line = substr(line, 1, RSTART - 1)
		skipped = 1
	}
	sub(/ # in [0-9]+ ms$/, "", line)
	name = suite ": " line
	# The lesson: a row of the matrix that this very step brings on.
	lesson = part[2] == "matrix" && index(line, "(from step " substr(part[1], 5) ")")
	weight = lesson && !skipped ? 1 : 0
	score = passed && weight ? 1 : 0
	sum[suite, "points"] += score; sum[suite, "max"] += weight; sum[suite, "skipped"] += skipped
	if (!lesson && !skipped) { sum[suite, "others"]++; sum[suite, "others failed"] += !passed }
	if (!(suite in seen)) { seen[suite] = 1; order[++nsuites] = suite }
	next
}
/^#/ && name != "" { l = $0; sub(/^# ?/, "", l); output = output (output == "" ? "" : "\n") l; next }
END {
	flush()
	if (!started) printf "{\n  \"tests\": [" >json
	summary = ""
	for (i = 1; i <= nsuites; i++) {
		s = order[i]
		summary = summary sprintf("%s: %s%d of %d other tests pass%s\n", s,
			sum[s, "max"] ? sprintf("%d of %d points; ", sum[s, "points"], sum[s, "max"]) : "",
			sum[s, "others"] - sum[s, "others failed"], sum[s, "others"],
			sum[s, "skipped"] ? sprintf(" (%d skipped)", sum[s, "skipped"]) : "")
		broken += sum[s, "others failed"]
	}
	summary = summary sprintf("total: %d of %d points", total, max)
	if (broken)
		summary = summary sprintf("; %d other test%s fail%s: see %s output",
			broken, broken == 1 ? "" : "s", broken == 1 ? "s" : "", broken == 1 ? "its" : "their")
	printf "\n  ],\n  \"score\": %d,\n  \"visibility\": \"visible\",\n  \"stdout_visibility\": \"visible\",\n  \"output\": \"%s\"\n}\n",
		total, esc(summary) >json
	print summary
	if (ntests == 0) exit 1
}' "${files[@]}" || fail "the suites gave no results: see $out/*.tap"

echo "$me: wrote $out/results.json, and TAP and JUnit beside it"
