#!/usr/bin/env bash
# make lab STEP=N DEST=DIR: a student's handout of step N, written to DIR.
#
#   scripts/lab.sh N DIR                  write the handout
#   scripts/lab.sh restore N FILE ORIG    print FILE (a handout's step N
#                                         container.c) with the lesson put
#                                         back from ORIG, the kit's own
#   scripts/lab.sh check [N...]           do the texts of the steps (all of
#                                         them by default) match their
#                                         regions, title for title?
#
# The handout is the kit (its tracked files, as they are in the working
# tree) without the steps after N, which hold the answer.  In step N's
# container.c every lesson region -- the lines between "/* lesson NN: TITLE */"
# and "/* end of lesson NN */" (scripts/lesson-markers.sh) -- becomes a TODO
# comment that says what to write, why, and which man page to read.  Where
# taking the lines out would not build, or would leave the runtime broken
# in a way the checks cannot tell apart, a stand-in follows the TODO: the
# behaviour of the step before, kept until the student replaces it, up to
# "/* end of TODO part K */".  WORKSHOP.md keeps its chapters before N; the
# instructors' files (docs/, this script, its texts in scripts/lab/,
# tests/lab*) stay out; README.md is the student's own.
#
# The texts are data, one file a step, found by the region's TITLE:
#
#   scripts/lab/stepNN.md       a section "## TITLE" for each region of
#                               step NN: the TODO's paragraphs, the last
#                               one "Read: ...", and, when the region has
#                               a stand-in, a line "Stand-in: stepNN/NAME.c"
#   scripts/lab/stepNN/NAME.c   a stand-in, C as it goes into container.c
#
# The head of each .md file says the same at more length.  A region with
# no text, a text with no region, or a title that two regions or two texts
# share stops the script, with a line that names the step, the title and
# the file, before it writes anything.
set -euo pipefail

me=lab.sh
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lesson-markers.sh
. "$top/scripts/lesson-markers.sh"

# The steps of the kit, stepNN-NAME; the number of the last one.
mapfile -t STEP_DIRS < <(cd "$top" && ls -d step[0-9][0-9]-* 2>/dev/null)
LAST=0
if [ ${#STEP_DIRS[@]} -gt 0 ]; then
	LAST=${STEP_DIRS[-1]#step}
	LAST=$((10#${LAST%%-*}))
fi

usage() {
	cat >&2 <<EOF
usage: make lab STEP=N DEST=DIR    (scripts/lab.sh N DIR)
  writes a student's handout of step N (1-$LAST) to DIR, a new or empty directory.
  scripts/lab.sh restore N FILE ORIGINAL  prints FILE with step N's lesson put back.
  scripts/lab.sh check [N...]             checks that the texts in scripts/lab/
                                          match the steps' regions, by title.
EOF
	exit 2
}

fail() {
	echo "$me: $*" >&2
	exit 2
}

# a_step ARG: is ARG the number of a step, 1 to LAST ("3" or "03")?
a_step() {
	[[ $1 =~ ^[0-9]{1,2}$ ]] && ((10#$1 >= 1 && 10#$1 <= LAST))
}

# --- the regions -------------------------------------------------------------

# regions FILE NN: the lesson regions of FILE, one line each: "START END INDENT-WIDTH TITLE".
regions() {
	awk -v start="$(lesson_marker start "$2")" -v end="$(lesson_marker end "$2")" \
		-v head="$(lesson_marker head "$2")" -v tail="$(lesson_marker tail)" \
		-v like="$(lesson_marker like "$2")" '
	function width(s,   i, w) { w = 0; for (i = 1; i <= length(s); i++) w += substr(s, i, 1) == "\t" ? 8 - w % 8 : 1; return w }
	$0 ~ start {
		if (from) { print FILENAME ":" NR ": a lesson marker inside another region" > "/dev/stderr"; bad = 1 }
		from = NR; match($0, /^[ \t]*/); ind = substr($0, 1, RLENGTH)
		title = $0; sub(head, "", title); sub(tail, "", title)
		next
	}
	$0 ~ end {
		if (!from) { print FILENAME ":" NR ": an end marker with no lesson marker before it" > "/dev/stderr"; bad = 1 }
		print from, NR, width(ind), title
		from = 0
		next
	}
	$0 ~ like { print FILENAME ":" NR ": looks like a lesson marker, but is not one (scripts/lesson-markers.sh)" > "/dev/stderr"; bad = 1 }
	END { if (from) { print FILENAME ":" from ": a lesson marker that never ends" > "/dev/stderr"; bad = 1 } exit bad }' "$1"
}

# --- the texts: scripts/lab/stepNN.md, by title -------------------------------

# The text of each title (paragraphs, one a line) and its stand-in (a
# file under scripts/lab/, or nothing), as read_texts() reads them; and
# the titles in the order of the file.
declare -A TEXT_OF=() STANDIN_OF=()
TITLES=()

# A paragraph that ends in this ends a sentence: fmt(1) wants two spaces
# after it when it joins the next line on.
SENTENCE_END="[.?!][)\"']*\$"

# problem N WHAT: one line that says what is wrong with step N's texts.
problem() {
	echo "$me: step $(printf '%02d' "$1"): $2" >&2
	problems=$((problems + 1))
}

# read_texts N MD: TEXT_OF and STANDIN_OF from MD, step N's file of texts.
# A section is a "## TITLE" line and what follows it up to the next; the
# lines before the first are the file's own comment.  A paragraph's lines
# are joined with one space, or two after the end of a sentence, as fmt(1)
# would have them; a paragraph "Stand-in: PATH" names the stand-in.
read_texts() {
	local n=$1 md=$2 rel=${2#"$top/"} line title="" para="" in_section=0
	local -A seen=()
	TEXT_OF=() STANDIN_OF=() TITLES=()
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%$'\r'}
		if [[ $line == "## "* ]]; then
			((!in_section)) || end_paragraph
			title=${line#"## "}
			title=${title%"${title##*[![:blank:]]}"}
			in_section=1
			if [ -z "$title" ]; then
				problem "$n" "$rel has a heading with no title: a section is \"## TITLE\", TITLE as in the region's marker"
				in_section=0
				continue
			fi
			if [ -n "${seen[$title]:-}" ]; then
				problem "$n" "$rel has two texts titled \"$title\": keep one"
			else
				seen[$title]=1
				TITLES+=("$title")
				TEXT_OF[$title]=""
			fi
			continue
		fi
		((in_section)) || continue
		line=${line#"${line%%[![:blank:]]*}"}
		line=${line%"${line##*[![:blank:]]}"}
		if [ -z "$line" ]; then
			end_paragraph
		elif [ -z "$para" ]; then
			para=$line
		elif [[ $para =~ $SENTENCE_END ]]; then
			para+="  $line"
		else
			para+=" $line"
		fi
	done <"$md"
	((!in_section)) || end_paragraph
}

# end_paragraph: the paragraph read so far (para) goes to title's text, or is its stand-in.
end_paragraph() {
	local path
	[ -n "$para" ] || return 0
	if [[ $para == "Stand-in:"* ]]; then
		path=${para#Stand-in:}
		path=${path#"${path%%[![:blank:]]*}"}
		if [ -n "${STANDIN_OF[$title]:-}" ]; then
			problem "$n" "\"$title\" in $rel names two stand-ins: a region has one at most"
		elif [ ! -f "$top/scripts/lab/$path" ]; then
			problem "$n" "\"$title\" in $rel names the stand-in scripts/lab/$path, which is not there"
		elif [ ! -s "$top/scripts/lab/$path" ]; then
			problem "$n" "\"$title\" in $rel names the stand-in scripts/lab/$path, which is empty"
		else
			STANDIN_OF[$title]=$path
		fi
	else
		TEXT_OF[$title]+="${TEXT_OF[$title]:+$'\n'}$para"
	fi
	para=""
}

# texts N FILE LIST: read step N's texts, and say what does not match the
# regions in LIST (of FILE, as regions() gives them), one line a problem.
# Fails when something does not.
texts() {
	local n=$1 file=$2 list=$3 nn md rel c title _ problems=0
	local -A region=() named=()
	nn=$(printf '%02d' "$n")
	md=$top/scripts/lab/step$nn.md
	rel=${md#"$top/"}
	file=${file#"$top/"}
	if [ ! -f "$md" ]; then
		problem "$n" "no $rel: the TODO texts of $file's lesson regions go there, one \"## TITLE\" section a region"
		return 1
	fi
	read_texts "$n" "$md"
	while read -r _ _ _ title; do
		if [ -z "$title" ]; then
			problem "$n" "a region of $file has no title: its marker is \"/* lesson $nn: */\", and its text in $rel is found by title"
			continue
		elif [ -n "${region[$title]:-}" ]; then
			problem "$n" "two regions of $file are titled \"$title\": its texts in $rel are found by title, so titles must differ"
		elif [ -z "${TEXT_OF[$title]+set}" ]; then
			problem "$n" "\"$title\", a region of $file, has no text in $rel: add a section \"## $title\""
		elif [ -z "${TEXT_OF[$title]}" ]; then
			problem "$n" "\"$title\", a region of $file, has an empty text in $rel"
		fi
		region[$title]=1
	done <<<"$list"
	for title in "${TITLES[@]}"; do
		[ -n "${region[$title]:-}" ] ||
			problem "$n" "\"$title\" in $rel is the title of no region of $file: rename the section, or delete it"
		[ -z "${STANDIN_OF[$title]:-}" ] || named[${STANDIN_OF[$title]}]=1
	done
	for c in "$top/scripts/lab/step$nn"/*; do
		[ -e "$c" ] || continue
		[ -n "${named[${c#"$top/scripts/lab/"}]:-}" ] ||
			problem "$n" "${c#"$top/"} is the stand-in of no text in $rel: name it in a section (\"Stand-in: ${c#"$top/scripts/lab/"}\"), or delete it"
	done
	[ "$problems" -eq 0 ]
}

# step_regions N FILE: FILE's lesson regions (step N's), as regions()
# gives them, in REGIONS; step N's texts, checked against them, in TEXT_OF
# and STANDIN_OF.  Exits (2) on markers that are not in pairs, and on
# texts that do not match.
REGIONS=""
step_regions() {
	local n=$1 file=$2 nn
	nn=$(printf '%02d' "$n")
	REGIONS=$(regions "$file" "$nn") || fail "${file#"$top/"}: its lesson markers are not in pairs, or not well-formed (see above)"
	[ -n "$REGIONS" ] || fail "${file#"$top/"} has no lesson markers (/* lesson $nn: TITLE */ ... /* end of lesson $nn */): nothing to hand out"
	texts "$n" "$file" "$REGIONS" || exit 2
}

# todo_block N K COUNT INDENT INDENT-WIDTH TITLE: the TODO comment of part
# K, and its stand-in.
todo_block() {
	local n=$1 k=$2 count=$3 ind=$4 title=$6 width
	width=$((72 - $5))
	[ "$width" -ge 40 ] || width=40
	printf '%s/* TODO lesson %02d, part %d of %d: %s.\n' "$ind" "$n" "$k" "$count" "$title"
	printf '%s\n' "${TEXT_OF[$title]}" | while IFS= read -r para; do
		printf '%s *\n' "$ind"
		printf '%s\n' "$para" | fmt -w "$width" | sed "s|^|$ind * |"
	done
	printf '%s */\n' "$ind"
	if [ -n "${STANDIN_OF[$title]:-}" ]; then
		awk '{ print }' "$top/scripts/lab/${STANDIN_OF[$title]}"
		printf '%s/* end of TODO part %d */\n' "$ind" "$k"
	fi
}

# handout_source N ORIGINAL: step N's container.c with its lesson cut out.
handout_source() {
	local n=$1 file=$2 k=0 count list parts
	step_regions "$n" "$file"
	list=$REGIONS
	count=$(grep -c . <<<"$list")
	parts=$(mktemp -d)
	while read -r start end indw title; do
		k=$((k + 1))
		local ind
		ind=$(awk -v l="$start" 'NR == l { match($0, /^[ \t]*/); print substr($0, 1, RLENGTH); exit }' "$file")
		todo_block "$n" "$k" "$count" "$ind" "$indw" "$title" >"$parts/$k"
		echo "$start $end" >>"$parts/spans"
	done <<<"$list"
	awk -v dir="$parts" '
	BEGIN { while ((getline line < (dir "/spans")) > 0) { split(line, f, " "); s[++n] = f[1]; e[n] = f[2] } k = 1 }
	k <= n && FNR == s[k] { while ((getline line < (dir "/" k)) > 0) print line; skip = 1; next }
	skip && FNR == e[k] { skip = 0; k++; next }
	!skip' "$file"
	rm -rf "$parts"
}

# restore N FILE ORIGINAL: FILE with each TODO of step N replaced by the
# region of ORIGINAL it came from, markers and all.
restore() {
	local n=$1 file=$2 orig=$3 nn k count list parts
	nn=$(printf '%02d' "$n")
	[ -f "$file" ] || fail "restore: no file $file"
	[ -f "$orig" ] || fail "restore: no original $orig"
	step_regions "$n" "$orig"
	list=$REGIONS
	count=$(grep -c . <<<"$list")
	parts=$(mktemp -d)
	k=0
	while read -r start end _ title; do
		k=$((k + 1))
		sed -n "${start},${end}p" "$orig" >"$parts/$k"
		[ -z "${STANDIN_OF[$title]:-}" ] || echo "$k" >>"$parts/standins"
	done <<<"$list"
	touch "$parts/standins"
	awk -v dir="$parts" -v count="$count" -v nn="$nn" '
	BEGIN { while ((getline line < (dir "/standins")) > 0) standin[line] = 1 }
	match($0, "^[ \t]*/\\* TODO lesson " nn ", part [0-9]+ of ") {
		k = $0; sub(/.*, part /, "", k); sub(/ of .*/, "", k); k += 0
		while ((getline line < (dir "/" k)) > 0) print line
		done[k] = 1; state = "comment"; next
	}
	state == "comment" { if ($0 ~ /^[ \t]*\*\/$/) state = standin[k] ? "standin" : ""; next }
	state == "standin" { if ($0 ~ "^[ \t]*/\\* end of TODO part " k " \\*/$") state = ""; next }
	{ print }
	END {
		for (k = 1; k <= count; k++) if (!done[k]) { print "restore: no TODO for part " k " in the handout" > "/dev/stderr"; bad = 1 }
		exit bad
	}' "$file"
	rm -rf "$parts"
}

# check [N...]: every region of each step N (every step without N) has
# one text, and every text its region; and no texts for a step the kit
# does not have.
check() {
	local n nn step md problems=0 bad=0 steps=() checked=() counts regions_seen=0 standins=0
	if [ $# -eq 0 ]; then
		for step in "${STEP_DIRS[@]}"; do
			n=${step#step}
			steps+=("${n%%-*}")
		done
		for md in "$top"/scripts/lab/step*.md; do
			[ -e "$md" ] || continue
			n=${md##*/step}
			n=${n%.md}
			ls -d "$top/step$n"-* >/dev/null 2>&1 ||
				problem "${n#0}" "${md#"$top/"} holds texts for a step the kit does not have: delete it"
		done
	else
		steps=("$@")
	fi
	[ "$problems" -eq 0 ] || bad=1
	for n in "${steps[@]}"; do
		a_step "$n" || fail "check: no step \"$n\": a step is a number from 1 to $LAST"
		n=$((10#$n))
		printf -v nn %02d "$n"
		step=$(cd "$top" && ls -d "step$nn"-* 2>/dev/null) || fail "check: there is no step $n in $top"
		checked+=("$n")
		# A subshell a step: step_regions exits when the step's texts do
		# not match, and the next step is checked all the same.
		if counts=$(
			step_regions "$n" "$top/$step/container.c"
			echo "$(grep -c . <<<"$REGIONS") ${#STANDIN_OF[@]}"
		); then
			regions_seen=$((regions_seen + ${counts% *}))
			standins=$((standins + ${counts#* }))
		else
			bad=1
		fi
	done
	[ "$bad" -eq 0 ] || exit 2
	if [ ${#checked[@]} -eq 1 ]; then
		step="step ${checked[0]}"
	else
		step="steps ${checked[*]}"
	fi
	echo "$me: the texts of $step match their regions, title for title: $regions_seen regions, $standins stand-ins"
}

# --- the handout -------------------------------------------------------------

earlier_steps() {
	if [ "$1" -eq 1 ]; then
		echo "This is the first step: the program around it and common/ are given."
	else
		printf 'Steps 01 to %02d are done: read them (each is the one before plus\n' $(($1 - 1))
		echo "one feature; \`make diff STEP=K\` shows what step K adds)."
	fi
}

student_readme() {
	local n=$1 dir=$2
	cat <<EOF
# boxlab lab: step $(printf '%02d' "$n"), \`$dir\`

You are building a Linux container runtime in C, one kernel feature a step.
$(earlier_steps "$n")
Your step, \`$dir/container.c\`, is complete except for its lesson: every
\`TODO lesson $(printf '%02d' "$n")\` comment says what to write there, why, and
which man page to read.  Some are followed by stand-in code, up to
\`/* end of TODO part K */\`, that keeps the program working the old way
until you replace it: delete the stand-in and that line when you do.
The top of the file says what this step adds; WORKSHOP.md has the
chapters of the steps before it.

## Build and try

You need Linux 5.11 or newer, root (sudo), make and a C compiler; the kit
installs the rest (Debian or Ubuntu: busybox-static, bats, cmocka).

    make                  # build every step; warnings are errors
    make rootfs           # the tiny root filesystem the containers run in
    sudo ./$dir/container run -v rootfs /bin/sh    # -v narrates each kernel call

## Check your work

    sudo make check STEP=$n     # this step's checks, as bats prints them
    sudo make grade STEP=$n     # the same, scored: build/grade/results.json

The checks are the kit's isolation matrix, one row per property, run
against your step's binary, followed by the command-line tests.  Each row
names the step its property arrives in, "(from step NN)":

- rows from earlier steps must keep holding: if one fails, your change
  broke something that worked;
- rows "(from step $(printf '%02d' "$n"))" are your lesson, and \`make grade\` gives a
  point for each: they fail until your code gives the container that
  property, and each failure prints what the check saw (its evidence),
  which says what is still missing;
- rows from later steps pass when the property does NOT hold yet: that
  is expected of step $(printf '%02d' "$n").

A check also fails when a run leaves something behind on the host (a
mount, a process, a cgroup, a veth): the diff it prints shows what.
\`make grade\` prints your points and writes bats' TAP and JUnit reports
and a results.json (Gradescope's format) to build/grade.
EOF
}

write_handout() {
	local n=$1 dest=$2 nn step file rel
	printf -v nn %02d "$n"
	step=$(cd "$top" && ls -d "step$nn"-* 2>/dev/null) ||
		fail "there is no step $n in $top (steps: ${STEP_DIRS[*]})"
	if [ -e "$dest" ] && [ -n "$(ls -A "$dest" 2>/dev/null)" ]; then
		fail "$dest is not empty: a handout goes into a new or empty directory (remove it, or pick another DEST)"
	fi
	[ ! -e "$dest" ] || [ -d "$dest" ] || fail "$dest exists and is not a directory"
	# Cut first, so that a mismatch leaves nothing half-written behind.
	local source
	source=$(handout_source "$n" "$top/$step/container.c") || exit 2
	git -C "$top" rev-parse --git-dir >/dev/null 2>&1 ||
		fail "$top is not a git checkout: the handout takes the kit's tracked files (git ls-files); make it from a clone of the kit"
	mkdir -p "$dest"
	(cd "$top" && git ls-files -z) | while IFS= read -r -d '' rel; do
		case "$rel" in
		step[0-9][0-9]-*/*)
			local k=${rel#step}
			((10#${k%%-*} <= n)) || continue ;;
		docs/stuck.md | docs/pictures/*) ;;
		docs/* | scripts/lab.sh | scripts/lab/* | tests/lab.sh | tests/lab/* | README.md | WORKSHOP.md) continue ;;
		esac
		# A tracked file deleted in the working tree is not part of it.
		[ -e "$top/$rel" ] || continue
		mkdir -p "$dest/$(dirname "$rel")"
		cp -p "$top/$rel" "$dest/$rel"
	done
	printf '%s\n' "$source" >"$dest/$step/container.c"
	# WORKSHOP.md up to this step's chapter, and the appendices; of this
	# chapter, all but the walk through its code, which is the answer.
	awk -v n="$n" '
	/^## Chapter [0-9]+ / { chapter = $3 + 0 }
	/^## Appendix / { chapter = -1 }
	chapter == n && /^<!-- walkthrough -->$/ {
		cut = 1
		print "*The walk through this step'"'"'s code is not in the handout: writing that code is the lab. Its TODOs say what each part does.*"
		next
	}
	/^<!-- \/?walkthrough -->$/ { cut = 0; next }
	!cut && chapter <= n { print }
	' "$top/WORKSHOP.md" >"$dest/WORKSHOP.md"
	student_readme "$n" "$step" >"$dest/README.md"
	echo "$me: wrote the handout of $step to $dest: $(grep -c "TODO lesson" "$dest/$step/container.c") TODOs in $step/container.c"
}

case "${1:-}" in
check)
	shift
	check "$@"
	;;
restore)
	[ $# -eq 4 ] || usage
	a_step "$2" || fail "restore: no step \"$2\": a step is a number from 1 to $LAST"
	restore "$((10#$2))" "$3" "$4"
	;;
"" | -h | --help)
	[ -n "${1:-}" ] || echo "$me: which step? STEP is missing." >&2
	usage
	;;
*)
	[ $# -eq 2 ] && [ -n "$2" ] || { echo "$me: where to? DEST is missing: make lab STEP=N DEST=DIR" >&2; usage; }
	n=${1#0}
	[[ $n =~ ^[0-9]+$ ]] || fail "STEP=\"$1\" is not a step: a step is a number, 1 to $LAST"
	write_handout "$((10#$n))" "$2"
	;;
esac
