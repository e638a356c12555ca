#!/usr/bin/env bash
# make matrix: run every isolation check against every step and print the
# table -- rows are properties, columns are steps.  A property must hold
# from the step that brings it on and not before; a cell that breaks that
# rule is marked and the script exits 1.
#
#   tests/matrix.sh step01-chroot step02-pid-ns ...
#   BUILD=asan tests/matrix.sh ...      (the sanitizer build)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
# SHARED=1: run in a mount namespace whose mounts are all shared, as
# systemd makes them, where a propagation mistake shows as a leaked mount.
if [ "${SHARED:-}" = 1 ] && [ -z "${BOXLAB_SHARED_NS:-}" ]; then
	exec env BOXLAB_SHARED_NS=1 unshare -m --propagation shared "$0" "$@"
fi
out=build/tap
mkdir -p "$out"
build=${BUILD:-plain}
label="$build build"
tag=$build
[ "${SHARED:-}" = 1 ] && label="$label, / shared"
if [ "${ROOTLESS:-}" = 1 ]; then
	label="$label, rootless: as uid 65534"
	tag=$build-rootless
fi

steps=()
for dir in "$@"; do
	n=${dir#step}
	steps+=("${n%%-*}")
done

# One bats run per column; its TAP says, row by row, whether the step
# behaved as expected.
for n in "${steps[@]}"; do
	STEP=${n#0} bats --tap tests/isolation/checks.bats >"$out/matrix-$tag-step$n.tap" 2>&1
done

# Row names, in order, from the first column's TAP.
mapfile -t rows < <(sed -n 's/^\(not \)\{0,1\}ok [0-9]* \(.*\) (from step \([0-9]*\)).*/\3 \2/p' \
	"$out/matrix-$tag-step${steps[0]}.tap")

# failed FILE [LINE]: the failed tests of the TAP file FILE, each with the
# comments after it (what it printed); only LINE's, when given.
failed() {
	awk -v want="${2:-}" '/^(ok|not ok)/ { show = /^not ok/ && (want == "" || $0 == want) } show' "$1"
}

width=48
printf '\nisolation matrix (%s)\n' "$label"
printf "%-${width}s" ""
for n in "${steps[@]}"; do printf '%6s' "$n"; done
printf '\n'

bad=0 left=0
for row in "${rows[@]}"; do
	first=${row%% *}
	name=${row#* }
	printf "%-${width}s" "$name"
	for n in "${steps[@]}"; do
		line=$(grep -F " $name (from step $first)" "$out/matrix-$tag-step$n.tap" | head -n 1)
		expected=no
		[ "$((10#$n))" -ge "$((10#$first))" ] && expected=yes
		case "$line" in
		*"# skip"*) mark=skip ;;
		ok*) [ $expected = yes ] && mark=yes || mark=- ;;
		"not ok"*)
			# A run that left something behind fails in teardown,
			# whatever the check itself said (tests/lib/common.bash).
			if failed "$out/matrix-$tag-step$n.tap" "$line" | grep -q 'the run left something behind on the host'; then
				mark=LEFT!
				left=1
			else
				[ $expected = yes ] && mark=NO! || mark=YES!
			fi
			bad=1 ;;
		*) mark='??'; bad=1 ;;
		esac
		printf '%6s' "$mark"
	done
	printf '\n'
done
printf '\nyes: holds   -: does not hold yet, as it should not   NO!/YES!: unexpected\n'
[ $left = 0 ] || printf 'LEFT!: the run left something on the host (whatever the check saw)\n'
grep -h '# skip' "$out"/matrix-"$tag"-step*.tap 2>/dev/null | sed 's/.*# skip/skip:/' | sort -u

if [ $bad -ne 0 ]; then
	printf '\nWhat the unexpected cells saw:\n'
	for n in "${steps[@]}"; do
		failed "$out/matrix-$tag-step$n.tap" | sed "s/^not ok/step $n: &/"
	done
	exit 1
fi
