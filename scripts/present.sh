#!/usr/bin/env bash
# present.sh N - make present STEP=N: the lesson of step N on a projector,
# one piece at a time.
#
# Usage: scripts/present.sh N        (N is a step's number; "03" works too)
#
# Every step after the first: the diff of step N's container.c against
# step N-1's (the diff `make diff STEP=N` prints: code only, without the
# comments that mark each lesson for lab handouts), one hunk at a time.
# Each hunk comes under a header: the step, "hunk k of n", the function it
# is under, and the functions it adds.
# Step 1 has no step before it: its container.c is shown whole, one
# top-level block (the file's comment, then a function) at a time.
#
# On a terminal the screen is cleared for each piece, the diff is coloured,
# and a key moves on: any key for the next, b for the one before, q to quit.
# Keys are read from /dev/tty, so stdin may be redirected.  Without a
# terminal on stdout, every piece is printed one after another, and the
# exit status is 0.
set -euo pipefail
cd "$(dirname "$0")/.."

me="boxlab present"

# The number of the last step here, of the directories stepNN-NAME.
last=0
for dir in step[0-9][0-9]-*/; do
	[ -d "$dir" ] || continue
	last=${dir#step}
	last=$((10#${last%%-*}))
done

usage() {
	echo "usage: scripts/present.sh N   (or: make present STEP=N), N from 1 to $last" >&2
	exit 2
}

[ $# -eq 1 ] || usage
case $1 in -h | --help) usage ;; esac
if ! [[ $1 =~ ^[0-9]+$ ]] || (( 10#$1 < 1 || 10#$1 > last )); then
	echo "$me: \"$1\" is not a step: give a number from 1 to $last (make present STEP=3)" >&2
	exit 2
fi
n=$((10#$1))
printf -v nn %02d "$n"
new=$(ls -d "step$nn"-* 2>/dev/null | head -n 1) || true
if [ -z "$new" ] || [ ! -f "$new/container.c" ]; then
	echo "$me: there is no step$nn-*/container.c in $(pwd)" >&2
	exit 2
fi

# Interactive only when a person is watching: stdout is a terminal and we
# can read keys from one.
interactive=0
if [ -t 1 ] && { : </dev/tty; } 2>/dev/null; then
	interactive=1
fi
bold="" dim="" reset=""
if ((interactive)); then
	bold=$'\e[1m' dim=$'\e[2m' reset=$'\e[0m'
fi

# The pieces to show: for each, a header line and its text (coloured on a
# terminal).  Filled by diff_pieces or file_pieces.
headers=()
bodies=()

# Where the hunk is, from git's hunk header "@@ -a,b +c,d @@ static int f(...)".
hunk_function() {
	local context=${1#@@ *@@}
	context=${context# }
	if [ -z "$context" ]; then
		echo "at the top of the file"
	elif [[ $context =~ ([A-Za-z_][A-Za-z0-9_]*)\( ]]; then
		echo "under ${BASH_REMATCH[1]}()"
	else
		echo "under $context"
	fi
}

# The functions that the hunk lines given as arguments define: "a(), b()".
new_functions() {
	local line names=""
	for line in "$@"; do
		if [[ $line =~ ^\+[a-z][^\;]*[[:space:]\*]([A-Za-z_][A-Za-z0-9_]*)\([^\;]*$ ]]; then
			names+="${names:+, }${BASH_REMATCH[1]}()"
		fi
	done
	echo "$names"
}

# The code of a step's container.c, as make diff shows it: without the
# comment pairs that mark its lesson for lab handouts.
code_of() {
	scripts/stepdiff.sh --code "$1"
}

# Step N: one piece per hunk of the diff against step N-1.
diff_pieces() {
	local old before i start count=0 stat="" colour=never
	local -a plain_lines coloured_lines starts=()
	printf -v before %02d $((n - 1))
	old=$(ls -d "step$before"-* | head -n 1)
	((interactive)) && colour=always
	# make diff's own output, twice: plain to find the hunks, coloured to
	# show them.  Its --stat comes first, the summary line last.
	mapfile -t plain_lines < <(BOXLAB_COLOUR=never scripts/stepdiff.sh "$n")
	mapfile -t coloured_lines < <(BOXLAB_COLOUR=$colour scripts/stepdiff.sh "$n")
	for ((i = 0; i < ${#plain_lines[@]}; i++)); do
		[[ ${plain_lines[$i]} == "diff --git "* ]] && break
	done
	((i > 0)) && stat=${plain_lines[$((i - 1))]}
	plain_lines=("${plain_lines[@]:$i}")
	coloured_lines=("${coloured_lines[@]:$i}")
	for i in "${!plain_lines[@]}"; do
		[[ ${plain_lines[$i]} == "@@ "* ]] && starts+=("$i")
	done
	count=${#starts[@]}
	if ((count == 0)); then
		echo "$me: $old/container.c and $new/container.c do not differ" >&2
		exit 1
	fi
	intro="${bold}step $n: $new against $old:${stat:+ }${stat# }${reset}"
	intro+=$'\n'"$count hunks; the lines that start with + are the lesson."
	starts+=("${#plain_lines[@]}")
	for ((i = 0; i < count; i++)); do
		start=${starts[$i]}
		local at=${plain_lines[$start]}
		local header added
		header="step $n, hunk $((i + 1)) of $count, $(hunk_function "$at")"
		added=$(new_functions "${plain_lines[@]:$start:$((starts[i + 1] - start))}")
		[ -n "$added" ] && header+="; new: $added"
		headers+=("$header")
		bodies+=("$(printf '%s\n' "${coloured_lines[@]:$start:$((starts[i + 1] - start))}")")
	done
}

# Step 1: one piece per top-level block of container.c.  A block ends at a
# line that is only "}" or "};" (the end of a function or a struct); the
# first block is the file's comment and includes, up to the first function.
file_pieces() {
	local file=$new/container.c line piece="" name="" count i
	local -a pieces=() names=()
	while IFS= read -r line || [ -n "$line" ]; do
		# A blank line between blocks starts nothing.
		[ -z "$piece" ] && [ -z "$line" ] && continue
		# The file's comment and #includes end before the first line
		# after them that is neither blank nor a # line.
		if [ -z "$name" ] && [[ $piece == *"#include"* ]] && [[ $line =~ ^[^#[:space:]] ]]; then
			pieces+=("${piece%$'\n'}")
			names+=("the file's comment and #includes")
			piece=""
		fi
		# A function (or struct) starts at column 0 with a name and "(" or "{".
		if [ -z "$name" ] && [[ $line =~ ^[a-z].*[[:space:]\*]([A-Za-z_][A-Za-z0-9_]*)\( ]]; then
			name="${BASH_REMATCH[1]}()"
		elif [ -n "$piece" ] && [ -z "$name" ] && [[ $line =~ ^[a-z] ]]; then
			# Code at column 0 that is not a function (struct, static table).
			name=${line%% =*}
			name=${name% \{}
		fi
		piece+="$line"$'\n'
		if [[ $line == "}" || $line == "};" ]]; then
			pieces+=("$piece")
			names+=("${name:-the top of the file}")
			piece="" name=""
		fi
	done < <(code_of "$new")
	# Whatever follows the last block.
	if [ -n "${piece//[$'\n']/}" ]; then
		pieces+=("$piece")
		names+=("${name:-the end of the file}")
	fi
	count=${#pieces[@]}
	intro="${bold}step 1: $new is the first step, so there is no diff: here is $file whole.${reset}"
	intro+=$'\n'"$count pieces: the file's comment, then one function each."
	for ((i = 0; i < count; i++)); do
		headers+=("step 1, piece $((i + 1)) of $count: ${names[$i]}")
		bodies+=("${pieces[$i]%$'\n'}")
	done
}

show() {
	printf '\n%s== %s ==%s\n' "$bold" "${headers[$1]}" "$reset"
	printf '%s\n' "${bodies[$1]}"
}

# Wait for a key on the terminal: prints "next", "back" or "quit".
ask() {
	local key=""
	printf '\n%s[any key: next   b: back   q: quit]%s' "$dim" "$reset" >/dev/tty
	IFS= read -rsn1 key </dev/tty || key=q
	printf '\r\e[K' >/dev/tty
	case $key in
	q | Q) echo quit ;;
	b | B) echo back ;;
	*) echo next ;;
	esac
}

intro=""
if ((n == 1)); then
	file_pieces
else
	diff_pieces
fi
total=${#headers[@]}

if ((!interactive)); then
	echo "$intro"
	for ((k = 0; k < total; k++)); do
		show "$k"
	done
	exit 0
fi

k=0
while ((k < total)); do
	printf '\e[H\e[2J'
	echo "$intro"
	show "$k"
	((k == total - 1)) && printf '\n%s(the end of step %d)%s' "$dim" "$n" "$reset"
	case $(ask) in
	quit) break ;;
	back) ((k > 0)) && k=$((k - 1)) ;;
	*) k=$((k + 1)) ;;
	esac
done
