#!/usr/bin/env bash
# make check STEP=N: every test of one step -- its column of the matrix
# and its command-line tests (from step 09, its image tests too; from
# step 11, its lifecycle tests) -- with bats' own report.
set -euo pipefail
cd "$(dirname "$0")/.."
step=${1:?usage: tests/run-step.sh N}
step=${step#0}
if ! ls -d step"$(printf %02d "$step")"-* >/dev/null 2>&1; then
	echo "boxlab: there is no step $step (steps: $(ls -d step[0-9][0-9]-* | tr '\n' ' '))" >&2
	exit 2
fi
# bats' pretty output needs a terminal; TAP otherwise (CI, graders).
format=()
[ -t 1 ] || format=(--tap)
files=(tests/isolation/checks.bats tests/cli/cli.bats)
# step 09 on: images, end to end
[ "$step" -lt 9 ] || files+=(tests/image/image.bats)
# step 11 on: containers in the background by the dozen
[ "$step" -lt 11 ] || files+=(tests/lifecycle/lifecycle.bats)
STEP=$step exec bats "${format[@]}" "${files[@]}"
