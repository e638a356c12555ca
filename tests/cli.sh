#!/usr/bin/env bash
# make cli: the command-line tests of every step, TAP kept in build/tap.
#   tests/cli.sh step01-chroot step02-pid-ns ...
set -uo pipefail
cd "$(dirname "$0")/.." || exit
# SHARED=1: run in a mount namespace whose mounts are all shared, as
# systemd makes them, where a propagation mistake shows as a leaked mount.
if [ "${SHARED:-}" = 1 ] && [ -z "${BOXLAB_SHARED_NS:-}" ]; then
	exec env BOXLAB_SHARED_NS=1 unshare -m --propagation shared "$0" "$@"
fi
mkdir -p build/tap
build=${BUILD:-plain}
status=0
for dir in "$@"; do
	n=${dir#step}
	n=${n%%-*}
	tap=build/tap/cli-$build-step$n.tap
	STEP=${n#0} bats --tap tests/cli/cli.bats >"$tap" 2>&1 || status=1
	printf 'command line, step %s (%s build%s): %s passed, %s failed\n' "$n" "$build" "${SHARED:+, / shared}" \
		"$(grep -c '^ok' "$tap")" "$(grep -c '^not ok' "$tap")"
	grep -A30 '^not ok' "$tap" | grep -v '^ok' || true
done
exit $status
