#!/usr/bin/env bash
# make diff STEP=N: the lesson of step N, as a diff of its container.c
# against the step before.  Coloured on a terminal.
#
#   scripts/stepdiff.sh N           the diff (BOXLAB_COLOUR=always|never
#                                   overrides the terminal test)
#   scripts/stepdiff.sh --code DIR  DIR/container.c as the diffs show it
#
# Each step marks its own lesson with comment pairs, "/* lesson NN: ... */"
# and "/* end of lesson NN */" (scripts/lesson-markers.sh; scripts/lab.sh
# cuts handouts along them); they are left out here, on both sides, so the
# diff shows code only.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lesson-markers.sh
. scripts/lesson-markers.sh

code_of() {
	grep -vE "$(lesson_marker start)|$(lesson_marker end)" "$1/container.c"
}

if [ "${1:-}" = --code ]; then
	code_of "${2:?usage: scripts/stepdiff.sh --code STEPDIR}"
	exit 0
fi
n=${1:?usage: scripts/stepdiff.sh N}
n=$((10#$n))
if [ "$n" -lt 2 ]; then
	echo "boxlab: step 01 is the first step: read step01-chroot/container.c whole"
	exit 0
fi
new=$(ls -d "step$(printf %02d "$n")"-* 2>/dev/null) || { echo "boxlab: there is no step $n" >&2; exit 2; }
old=$(ls -d "step$(printf %02d $((n - 1)))"-*)
colour=${BOXLAB_COLOUR:-never}
[ -n "${BOXLAB_COLOUR:-}" ] || [ ! -t 1 ] || colour=always
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for step in "$old" "$new"; do
	mkdir "$tmp/$step"
	code_of "$step" >"$tmp/$step/container.c"
done
# git diff reads best (function names in hunk headers); it needs no repository.
cd "$tmp"
git diff --no-index --color="$colour" --stat "$old/container.c" "$new/container.c" || true
git diff --no-index --color="$colour" "$old/container.c" "$new/container.c" || true
