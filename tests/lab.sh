#!/usr/bin/env bash
# make lab-test: prove each step's lab handout (scripts/lab.sh), as TAP in
# build/tap/lab-stepNN.tap.  For every step N given:
#
#   - the handout is written, and builds as generated (make all: -Werror);
#   - it holds no later step, no later chapter of WORKSHOP.md nor chapter
#     N's walk through the code, of docs/ only stuck.md and the pictures,
#     no lab tooling or texts (scripts/lab.sh, scripts/lab/), and its
#     container.c has TODOs where the lesson was, and no lesson marker;
#   - its binary fails every row "(from step N)" of the check matrix, and
#     every row of the steps before is as on the real step N (the binary
#     works: it fails for the lesson it lacks, and for nothing else).  The
#     rows of later steps are left out: they fail on step N itself, and
#     the matrix has just shown that;
#   - putting the lesson back (scripts/lab.sh restore) gives step N's
#     container.c byte for byte, which builds, and whose rows pass;
#   - on step 01, `make grade` in the handout writes TAP, JUnit and a
#     Gradescope results.json, all well-formed.
#
#   tests/lab.sh step01-chroot step02-pid-ns ...      (as root)
#
# The handouts are built under build/lab and removed at the end.  Their
# checks run in a copy of build/test-rootfs; a copy, not a link, because
# the checks compare the host's mounts with the rootfs's path as text.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
top=$(pwd)
me=tests/lab.sh
# shellcheck source=scripts/lesson-markers.sh
. scripts/lesson-markers.sh
[ $# -gt 0 ] || { echo "usage: $me step01-chroot [step02-pid-ns ...]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "$me: the checks run containers as root: sudo make lab-test" >&2; exit 2; }
for need in rootfs/etc/boxlab-rootfs build/probe build/test-rootfs/usr/bin/probe; do
	[ -e "$need" ] || { echo "$me: no $need: run 'make lab-test', which builds it first" >&2; exit 2; }
done

work=$top/build/lab
rm -rf "$work"
mkdir -p "$work" build/tap
trap 'rm -rf "$work"' EXIT
# The checks keep a failing test's temporary dir as evidence: ours stay
# in $work, and go with it.
mkdir -m 0755 "$work/tmp"
export TMPDIR=$work/tmp
cc -std=gnu11 -Wall -Wextra -Werror -O2 -o "$work/jsoncheck" tests/lab/jsoncheck.c ||
	{ echo "$me: cannot build tests/lab/jsoncheck.c" >&2; exit 1; }

status=0

# --- TAP, one file a step ----------------------------------------------------

tap_begin() {
	tap=$1
	count=0
	: >"$tap.body"
}
# result OK|FAIL|SKIP DESCRIPTION [DETAILS]: one TAP line, details as "# " lines.
result() {
	count=$((count + 1))
	case $1 in
	OK) echo "ok $count $2" ;;
	SKIP) echo "ok $count $2 # skip ${3:-}" ;;
	*)
		echo "not ok $count $2"
		status=1
		;;
	esac >>"$tap.body"
	if [ "$1" = FAIL ] && [ -n "${3:-}" ]; then
		sed 's/^/# /' <<<"$3" >>"$tap.body"
	fi
}
tap_end() {
	{
		echo "1..$count"
		cat "$tap.body"
	} >"$tap"
	rm -f "$tap.body"
	cat "$tap"
}

# rows TAPFILE: "FIRST STATE NAME" for each row of the matrix's TAP, where
# FIRST is the row's step and STATE ok, fail or skip.
rows() {
	sed -n 's/^\(not ok\|ok\) [0-9]* \(.*(from step \([0-9]*\)).*\)$/\3 \1 \2/p' "$1" |
		sed 's/^\([0-9]*\) not ok /\1 fail /; s/^\([0-9]*\) ok \(.*# skip.*\)$/\1 skip \2/'
}

# test_rootfs DIR: the handout's build/test-rootfs, a copy of the kit's,
# which the Makefile made (cp -a keeps euid's setuid bit).
test_rootfs() {
	mkdir -p "$1/build"
	cp -ax build/test-rootfs "$1/build/test-rootfs" &&
		cp build/probe "$1/build/probe"
}

# check_grade DIR: the files `make grade STEP=1` wrote in DIR are well-formed,
# and give points to the lesson's rows only, none of them earned yet.
check_grade() {
	local g=$1/build/grade problems="" f n xml_cases tap_cases
	for f in step01.matrix.tap step01.cli.tap step01.matrix.junit.xml step01.cli.junit.xml results.json; do
		[ -s "$g/$f" ] || problems+="no $g/$f"$'\n'
	done
	[ -z "$problems" ] || { echo "$problems"; return 1; }
	for f in "$g"/*.tap; do
		# A plan, then as many results as it promises, numbered in order.
		awk 'NR == 1 && /^1\.\.[0-9]+$/ { plan = substr($0, 4) + 0; next }
			/^(not )?ok / { n++; num = ($1 == "ok") ? $2 : $3; if (num != n) bad = 1 }
			END { exit !(plan > 0 && n == plan && !bad) }' "$f" ||
			problems+="$f: not TAP (a plan 1..N, then N numbered results)"$'\n'
	done
	for f in "$g"/*.junit.xml; do
		# An XML declaration, tags that nest and close, and one testcase per TAP result.
		awk 'NR == 1 && !/^<\?xml / { bad = "no XML declaration" }
			{
				s = $0
				while (match(s, /<[^>]*>/)) {
					tag = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
					if (tag ~ /^<[?!]/ || tag ~ /\/>$/) continue
					name = tag; sub(/^<\/?/, "", name); sub(/[ >].*/, "", name)
					if (tag ~ /^<\//) { if (depth == 0 || stack[depth] != name) bad = "</" name "> closes <" stack[depth] ">"; depth-- }
					else stack[++depth] = name
				}
			}
			END { if (!bad && depth != 0) bad = "<" stack[depth] "> never closes"; if (bad) print bad; exit bad != "" }' "$f" >"$work/xml.err" ||
			problems+="$f: not well-formed: $(cat "$work/xml.err")"$'\n'
		xml_cases=$(grep -o '<testcase ' "$f" | wc -l)
		tap_cases=$(grep -cE '^(not )?ok ' "${f%.junit.xml}.tap")
		[ "$xml_cases" -eq "$tap_cases" ] ||
			problems+="$f: $xml_cases testcases, but its TAP has $tap_cases results"$'\n'
	done
	"$work/jsoncheck" "$g/results.json" 2>"$work/json.err" ||
		problems+="results.json is not JSON: $(cat "$work/json.err")"$'\n'
	# Gradescope's fields: a score, and tests with name, score, max_score, output.
	n=$(grep -c '^    {"name": ".*", "score": [0-9]*, "max_score": [01], "status": "\(passed\|failed\)", "visibility": "visible", "output": ".*"},\{0,1\}$' "$g/results.json")
	tap_cases=$(cat "$g"/*.tap | grep -cE '^(not )?ok ')
	[ "$n" -eq "$tap_cases" ] || problems+="results.json has $n tests, the TAP files $tap_cases results"$'\n'
	grep -q '^  "score": [0-9]*,$' "$g/results.json" || problems+="results.json has no total score"$'\n'
	# Points for the lesson's rows only; the handout as given earns none.
	n=$(grep -c '"max_score": 1,' "$g/results.json")
	tap_cases=$(grep -cE '^(not )?ok .*\(from step 01\)' "$g/step01.matrix.tap")
	[ "$n" -eq "$tap_cases" ] || problems+="results.json gives points to $n tests, not to the lesson's $tap_cases rows"$'\n'
	grep -q '^  "score": 0,$' "$g/results.json" || problems+="the handout as given scored points"$'\n'
	[ -z "$problems" ] || { echo "$problems"; return 1; }
}

# --- every step --------------------------------------------------------------

for dir in "$@"; do
	nn=${dir#step}
	nn=${nn%%-*}
	n=$((10#$nn))
	h=$work/$dir
	started=$SECONDS
	tap_begin "build/tap/lab-step$nn.tap"
	echo "$me: $dir"

	if out=$(scripts/lab.sh "$n" "$h" 2>&1); then
		result OK "$dir handout: written by scripts/lab.sh $n"
	else
		result FAIL "$dir handout: written by scripts/lab.sh $n" "$out"
		tap_end
		continue
	fi

	# (a) it builds as the student gets it, every step of it.
	if out=$(make -C "$h" -j2 --no-print-directory all 2>&1); then
		result OK "$dir handout: builds as generated (make all, warnings are errors)"
	else
		result FAIL "$dir handout: builds as generated (make all, warnings are errors)" "$out"
	fi
	test_rootfs "$h" || result FAIL "$dir handout: a test rootfs for it" "cp -ax build/test-rootfs failed"

	# Nothing that holds the answer: later steps, the walk through this
	# step's code, the instructors' files, the lesson itself.
	leaks=""
	for d in "$h"/step[0-9][0-9]-*; do
		k=${d##*/step}
		((10#${k%%-*} <= n)) || leaks+="a later step: ${d##*/}"$'\n'
	done
	for d in "$h"/docs/*; do
		case ${d##*/} in
		stuck.md | pictures) ;;
		*) leaks+="docs/ holds ${d##*/}, more than stuck.md and the pictures"$'\n' ;;
		esac
	done
	[ -e "$h/docs/stuck.md" ] || leaks+="docs/stuck.md is missing"$'\n'
	[ ! -e "$h/scripts/lab.sh" ] && [ ! -e "$h/tests/lab.sh" ] || leaks+="the lab tooling is in it"$'\n'
	# The texts of every step, stand-ins and all: later ones give answers away.
	[ ! -e "$h/scripts/lab" ] || leaks+="the lab's texts (scripts/lab/) are in it"$'\n'
	grep -q "^## Chapter $n " "$h/WORKSHOP.md" || leaks+="WORKSHOP.md lacks chapter $n's idea and checks"$'\n'
	! grep -q "^## Chapter $((n + 1)) " "$h/WORKSHOP.md" || leaks+="WORKSHOP.md has chapter $((n + 1))"$'\n'
	# A line found only in chapter N's walk through the code, in the kit's
	# WORKSHOP.md, must not be in the handout's.
	walk=$(awk -v n="$n" '
		FNR == NR {
			if (/^## Chapter [0-9]+ /) chapter = $3 + 0
			if (/^## Appendix /) chapter = -1
			if (/^<!-- walkthrough -->$/) inside = chapter == n
			else if (/^<!-- \/walkthrough -->$/) inside = 0
			else if (length($0) > 20) { seen[$0]++; if (inside) walk[$0] = 1 }
			next
		}
		($0 in walk) && seen[$0] == 1 { found++ }
		END { print found + 0 }' "$top/WORKSHOP.md" "$h/WORKSHOP.md")
	[ "$walk" -eq 0 ] || leaks+="WORKSHOP.md has $walk lines of chapter $n's walk through the code"$'\n'
	! grep -qE "$(lesson_marker like "$nn")" "$h/$dir/container.c" || leaks+="a lesson marker is left in $dir/container.c"$'\n'
	grep -q "TODO lesson $nn, part 1 of " "$h/$dir/container.c" || leaks+="no TODO in $dir/container.c"$'\n'
	if [ -z "$leaks" ]; then
		result OK "$dir handout: no later step, no walk through step $n's code, no instructors' files, the lesson cut"
	else
		result FAIL "$dir handout: no later step, no walk through step $n's code, no instructors' files, the lesson cut" "$leaks"
	fi

	# (b) the handout's column of the matrix.  On step 01 `make grade`
	# runs it, and its files are checked too.
	if [ "$n" = 1 ]; then
		# The matrix's rows of step 01 (the other rows prove nothing
		# there), and command-line tests that pass, fail and skip.
		(cd "$h" && GRADE_FILTER='from step 01|--help|unknown|missing|exit status|whole runtime' \
			scripts/grade.sh 1) >"$work/grade.out" 2>&1
		if out=$(check_grade "$h"); then
			result OK "$dir handout: make grade writes TAP, JUnit and results.json, well-formed; no points as given"
		else
			result FAIL "$dir handout: make grade writes TAP, JUnit and results.json, well-formed; no points as given" "$out$(cat "$work/grade.out")"
		fi
		cp "$h/build/grade/step01.matrix.tap" "$work/handout.tap" 2>/dev/null || : >"$work/handout.tap"
	else
		# The rows of steps 01 to NN: "01|02|...|NN".
		upto=$(seq -f %02g -s '|' 1 "$n")
		(cd "$h" && STEP=$n bats --tap --filter "\(from step ($upto)\)" tests/isolation/checks.bats) \
			>"$work/handout.tap" 2>&1
	fi
	rows "$work/handout.tap" >"$work/rows"
	new=$(awk -v n="$n" '$1 == n' "$work/rows")
	other=$(awk -v n="$n" '$1 != n' "$work/rows")
	wrong=$(awk -v n="$n" '$1 == n && $2 != "fail"' "$work/rows")
	if [ -n "$new" ] && [ -z "$wrong" ]; then
		result OK "$dir handout: each of its $(grep -c . <<<"$new") rows (from step $nn) fails"
	else
		result FAIL "$dir handout: each of its rows (from step $nn) fails" "${wrong:-no such rows in the TAP}"$'\n'"$(cat "$work/handout.tap")"
	fi
	wrong=$(awk -v n="$n" '$1 != n && $2 == "fail"' "$work/rows")
	if [ "$n" = 1 ]; then
		# Step 01's lesson is the container itself: without chroot no
		# check can run the probe inside, so a later row cannot tell.
		result SKIP "$dir handout: every row of the steps before as on $dir" \
			"without chroot no program of the rootfs runs, so later rows prove nothing on step 01"
	elif [ -n "$other" ] && [ -z "$wrong" ]; then
		result OK "$dir handout: every row of the steps before ($(grep -c . <<<"$other")) as on $dir"
	else
		result FAIL "$dir handout: every row of the steps before as on $dir" "rows that should not have failed:"$'\n'"$wrong"$'\n'"$(cat "$work/handout.tap")"
	fi

	# (c) the lesson put back from the kit's own file.
	file=$h/$dir/container.c
	if scripts/lab.sh restore "$n" "$file" "$dir/container.c" >"$work/restored.c" 2>"$work/restore.err" &&
		cmp -s "$work/restored.c" "$dir/container.c"; then
		result OK "$dir restored: container.c is the kit's, byte for byte"
	else
		result FAIL "$dir restored: container.c is the kit's, byte for byte" \
			"$(cat "$work/restore.err"; diff "$dir/container.c" "$work/restored.c" | head -n 40)"
	fi
	cp "$work/restored.c" "$file"
	if out=$(make -C "$h" --no-print-directory "$dir/container" 2>&1); then
		result OK "$dir restored: builds"
	else
		result FAIL "$dir restored: builds" "$out"
	fi
	(cd "$h" && STEP=$n bats --tap --filter "from step $nn" tests/isolation/checks.bats) >"$work/restored.tap" 2>&1
	rows "$work/restored.tap" >"$work/rows"
	wrong=$(awk -v n="$n" '$1 != n || $2 == "fail"' "$work/rows")
	if [ -s "$work/rows" ] && [ -z "$wrong" ]; then
		result OK "$dir restored: each of its $(grep -c . "$work/rows") rows (from step $nn) passes"
	else
		result FAIL "$dir restored: each of its rows (from step $nn) passes" "$(cat "$work/restored.tap")"
	fi

	rm -rf "$h"
	echo "# $dir: $((SECONDS - started)) s" >>"$tap.body"
	tap_end
done
exit $status
