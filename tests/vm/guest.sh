#!/bin/bash
# The guest's side of tests/vm/run.sh: the isolation matrix on the
# machine's pure cgroup v2 kernel.  tests/vm/init.sh starts it as PID 1,
# so it never exits: it powers the machine off instead.
#
#   guest.sh STEP...       VM_ROOTLESS_STEPS="STEP ..." to run rootless too
#
# The tables go to the console, which the host shows; the TAP files (under
# tap/) and the exit status (in status) to /results, a share the host
# reads after the run.
set -uo pipefail

readonly results=/results

power_off() {
	sync
	echo o >/proc/sysrq-trigger
	# PID 1 must outlive the power-off, or the kernel panics first.
	sleep 60
}
trap power_off EXIT
cd "$(dirname "$0")/../.." || exit 1

# A line per step: how long its checks took, from when its TAP file was
# last written (matrix.sh runs the steps one after the other).
report_times() {
	local tag=$1 file prev=$2 step t
	for file in build/tap/matrix-"$tag"-step*.tap; do
		[ -e "$file" ] || continue
		step=${file##*-}
		t=$(stat -c %Y "$file")
		echo "$tag ${step%.tap}: $((t - prev)) s"
		prev=$t
	done
}

# matrix TAG STEP...: one run of tests/matrix.sh (TAG names its TAP
# files), timed.
matrix() {
	local tag=$1 status start
	shift
	start=$(date +%s)
	tests/matrix.sh "$@" </dev/null
	status=$?
	report_times "$tag" "$start"
	return $status
}

main() {
	local status=0

	# As systemd makes them: a mount that leaks shows up on the host side.
	mount --make-rshared /
	# The boot time check wants the host up for 5 s at least.
	while [ "$(cut -d. -f1 /proc/uptime)" -lt 5 ]; do sleep 1; done
	echo "pure cgroup v2: Linux $(uname -r) under qemu (controllers: $(cat /sys/fs/cgroup/cgroup.controllers))"

	rm -rf build/tap
	matrix plain "$@" || status=1
	if [ -n "${VM_ROOTLESS_STEPS:-}" ]; then
		# (unquoted: a word per step)
		ROOTLESS=1 matrix plain-rootless $VM_ROOTLESS_STEPS || status=1
	fi

	mkdir -p "$results/tap"
	cp build/tap/matrix-*.tap "$results/tap/"
	echo "$status" >"$results/status"
}

main "$@"
