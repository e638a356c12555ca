#!/usr/bin/env bats
# scripts/reset-host.sh (sudo make reset-host): leftovers of killed runs,
# made by hand, are removed and reported; what a running runtime holds,
# and what is not the kit's, is left.  No container runs.
#
# Every leftover made here is named after "resettest" (a container id is
# eight hex digits: no run can have that name) or is one of the claims
# 16380-16383 (a run takes the lowest free one of 16384), and reset-host
# is told to look at those only (--only), so that another suite running
# meanwhile keeps its own.  The fakes live for as short a time as the
# test allows: another suite's before-and-after check of the host
# (host_state) sees them while they do.  A fake state file of a dead
# runtime only says "runtime PID": a real runtime's sweep that found it
# would remove it silently.

load ../lib/common

ONLY=(--only '*resettest*' --only '1638[0-3]')
RESET=scripts/reset-host.sh
SUBNETS=/run/boxlab/subnets
NOTES=/run/boxlab/containers
STATES=/var/lib/boxlab
NOBODY_BASE=/tmp/boxlab-$ROOTLESS_UID

setup() {
	load_libs
	[ "$(id -u)" -eq 0 ] || skip_cannot_run "reset-host needs root"
	# A pid no process can have: above the largest the kernel gives.
	DEAD_PID=$(($(cat /proc/sys/kernel/pid_max) + 1))
	BUILD_DIR=$(mktemp -d "$TOP/build/resettest.XXXXXX")
	# The cgroup layout as common/cgroup.c tells it: cgroup2 at the root
	# is v2; else v1, whose pids hierarchy the tests use.
	if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
		CG=/sys/fs/cgroup
	elif [ "$(stat -f -c %T /sys/fs/cgroup/pids 2>/dev/null)" = cgroupfs ]; then
		CG=/sys/fs/cgroup/pids
	else
		skip_cannot_run "no cgroup v2 and no v1 pids hierarchy"
	fi
	HOLDER_PID=""
	BUSY_PID=""
}

teardown() {
	local point dir
	[ -n "${BUILD_DIR:-}" ] || return 0
	# A live runtime's state file goes before its lock: a real runtime's
	# sweep must never find it unlocked.
	rm -f "$NOTES"/resettest* "$NOTES"/.resettest* "$SUBNETS"/1638[0-3] "$NOBODY_BASE"/containers/resettest*
	if [ -n "$HOLDER_PID" ]; then kill -KILL "$HOLDER_PID" 2>/dev/null || true; wait "$HOLDER_PID" 2>/dev/null || true; fi
	if [ -n "$BUSY_PID" ]; then kill -KILL "$BUSY_PID" 2>/dev/null || true; wait "$BUSY_PID" 2>/dev/null || true; fi
	ip link delete bxresettest0 2>/dev/null || true
	ip link delete resettest0 2>/dev/null || true
	# Everything mounted under the test's dirs, deepest first.
	for point in $(awk '{ print $5 }' /proc/self/mountinfo | grep -E "^($BUILD_DIR|$TEST_TMP|$STATES/resettest)" | sort -r); do
		umount -l "$point" 2>/dev/null || true
	done
	rm -rf --one-file-system "$BUILD_DIR" "$STATES"/resettest* "$NOBODY_BASE"/resettest*
	for dir in "$CG"/boxlab/resettest* "$CG"/resettest*; do
		[ ! -d "$dir" ] || rmdir "$dir" || true
	done
	rm -rf "$TEST_TMP"
	# And the proof: nothing named after the tests is left.
	run my_leftovers
	[ -z "$output" ] || { echo "the test left: $output"; return 1; }
	[ ! -e "$BUILD_DIR" ] || { echo "the test left $BUILD_DIR"; return 1; }
}

# Whatever of the tests' names is on the host.
my_leftovers() {
	grep -E "resettest" /proc/self/mountinfo | awk '{ print "mount:", $5 }'
	find /sys/fs/cgroup -maxdepth 3 -name 'resettest*' 2>/dev/null | sed 's/^/cgroup: /'
	ip -o link show | awk -F': ' '$2 ~ /resettest/ { print "link:", $2 }'
	ls -d "$NOTES"/resettest* "$SUBNETS"/1638[0-3] "$STATES"/resettest* \
		"$NOBODY_BASE"/resettest* "$NOBODY_BASE"/containers/resettest* 2>/dev/null
	return 0
}

# ---- the fakes ------------------------------------------------------------

# The directories the runtimes keep their notes and state dirs in, made
# as a runtime makes them (its modes), if no run has made them yet.  They
# stay, as a runtime leaves them: removing one could pull it from under a
# runtime of another suite that has just found it there.
runtime_dirs() {
	[ -d /run/boxlab ] || mkdir -m 0700 /run/boxlab
	[ -d "$NOTES" ] || mkdir -m 0700 "$NOTES"
	[ -d "$SUBNETS" ] || mkdir -m 0700 "$SUBNETS"
	[ -d "$STATES" ] || mkdir -m 0711 "$STATES"
	[ -d "$CG/boxlab" ] || mkdir -m 0755 "$CG/boxlab"
}

# A step 02 /proc left in a rootfs: DIR/proc, with proc mounted on it.
fake_proc() {
	mkdir -p "$1/proc"
	mount -t proc proc "$1/proc"
}

# A container's cgroup, boxlab/NAME.
fake_cgroup() {
	runtime_dirs
	mkdir "$CG/boxlab/$1"
}

# The host end of a veth pair, with its other end on the host too.
fake_link() {
	ip link add bxresettest0 type veth peer name bxresettest1
}

# A step 08 state dir, with an upper dir, a work dir of mode 0 and, as
# an overlay would be, something mounted in it.
fake_state_dir() {
	runtime_dirs
	mkdir -p "$STATES/$1/upper/etc" "$STATES/$1/work/work" "$STATES/$1/root"
	echo x >"$STATES/$1/upper/etc/x"
	chmod 0 "$STATES/$1/work/work"
	mount -t tmpfs resettest "$STATES/$1/root"
}

# A claim on subnet K held by PID.
fake_claim() {
	runtime_dirs
	echo "$2" >"$SUBNETS/$1"
}

# The state file of a runtime: "runtime PID", then the lines given.
fake_note() {
	local id=$1 pid=$2
	shift 2
	runtime_dirs
	printf '%s\n' "runtime $pid" "$@" >"$NOTES/$id"
}

# A running runtime: a process of ours that holds the lock on state file
# ID (as flock(2) does: the lock belongs to the open file, which sleep
# keeps), with its pid in the file and then the lines given.  Made as
# common/state.c makes one: locked under a dot name, which sweeps skip,
# then renamed.  Sets HOLDER_PID.
fake_live_runtime() {
	local id=$1 _
	shift
	runtime_dirs
	(exec 9<>"$NOTES/.$id" && flock 9 && printf '%s\n' "runtime $BASHPID" "$@" >&9 &&
		mv "$NOTES/.$id" "$NOTES/$id" && exec sleep 60) &
	HOLDER_PID=$!
	for _ in $(seq 50); do
		[ ! -e "$NOTES/$id" ] || return 0
		sleep 0.1
	done
	fail "the holder of $NOTES/$id did not lock it"
}

# ---- the tests -----------------------------------------------------------

@test "--help, and without root one line and exit 125" {
	run "$RESET" --help
	assert_success
	assert_line --index 0 --partial "usage: scripts/reset-host.sh [--dry-run]"
	run as_nobody "$RESET"
	assert_failure 125
	assert_output "boxlab reset-host: needs root (cgroups, mounts and links are the host's): run 'sudo make reset-host'"
	run "$RESET" --no-such-option
	assert_failure 2
	assert_line --index 0 'boxlab reset-host: "--no-such-option" is not an option'
}

@test "nothing there: says so, exit 0" {
	run "$RESET" "${ONLY[@]}"
	assert_success
	assert_output "nothing to remove"
}

@test "a /proc left in a rootfs of the kit is unmounted and reported" {
	fake_proc "$BUILD_DIR/rootfs"
	# Two killed runs stack two.
	mount -t proc proc "$BUILD_DIR/rootfs/proc"
	run "$RESET" "${ONLY[@]}"
	assert_success
	assert_output "removed the /proc mount on $BUILD_DIR/rootfs/proc"
	run findmnt -n "$BUILD_DIR/rootfs/proc"
	assert_output ""
}

@test "a container's cgroup is removed and reported" {
	fake_cgroup resettest
	run "$RESET" "${ONLY[@]}"
	assert_success
	assert_output "removed the cgroup $CG/boxlab/resettest"
	[ ! -d "$CG/boxlab/resettest" ]
}

@test "a bx veth pair is removed and reported" {
	fake_link
	run "$RESET" "${ONLY[@]}"
	assert_success
	assert_output "removed the link bxresettest0 (and bxresettest1, the other end of its veth pair)"
	run ip link show dev bxresettest0
	assert_failure
	run ip link show dev bxresettest1
	assert_failure
}

@test "a dead runtime's state file, claim and state dir (mounted in) are removed and reported" {
	fake_state_dir resettest
	fake_claim 16380 "$DEAD_PID"
	fake_note resettest "$DEAD_PID"
	run "$RESET" "${ONLY[@]}"
	assert_success
	assert_line "removed the state dir $STATES/resettest"
	assert_line "removed the claim on 10.200.255.240/30 ($SUBNETS/16380; its runtime, pid $DEAD_PID, is gone)"
	assert_line "removed the state file $NOTES/resettest"
	[ "${#lines[@]}" -eq 3 ]
	[ ! -e "$STATES/resettest" ]
	[ ! -e "$SUBNETS/16380" ]
	[ ! -e "$NOTES/resettest" ]
	run findmnt -n "$STATES/resettest/root"
	assert_output ""
}

@test "--dry-run lists every leftover and removes none; then a run removes them all" {
	fake_proc "$BUILD_DIR/rootfs"
	fake_cgroup resettest
	fake_link
	fake_state_dir resettest
	fake_claim 16380 "$DEAD_PID"
	fake_note resettest "$DEAD_PID"
	local dry
	run "$RESET" --dry-run "${ONLY[@]}"
	assert_success
	dry=$output
	assert_output - <<-EOF
	would remove the /proc mount on $BUILD_DIR/rootfs/proc
	would remove the state dir $STATES/resettest
	would remove the cgroup $CG/boxlab/resettest
	would remove the link bxresettest0 (and bxresettest1, the other end of its veth pair)
	would remove the claim on 10.200.255.240/30 ($SUBNETS/16380; its runtime, pid $DEAD_PID, is gone)
	would remove the state file $NOTES/resettest
	(--dry-run: nothing was removed)
	EOF
	findmnt -n "$BUILD_DIR/rootfs/proc" >/dev/null
	[ -d "$CG/boxlab/resettest" ]
	ip link show dev bxresettest0 >/dev/null
	[ -f "$STATES/resettest/upper/etc/x" ]
	findmnt -n "$STATES/resettest/root" >/dev/null
	[ -f "$SUBNETS/16380" ]
	[ -f "$NOTES/resettest" ]
	run "$RESET" "${ONLY[@]}"
	assert_success
	assert_output "$(sed -e '$d' -e 's/^would remove/removed/' <<<"$dry")"
	run my_leftovers
	assert_output ""
}

@test "a running runtime's state file, claim, cgroup and state dir are left" {
	fake_live_runtime resettest-live "subnet $SUBNETS 16382"
	fake_claim 16382 "$HOLDER_PID"
	fake_cgroup resettest-live
	fake_state_dir resettest-live
	run "$RESET" "${ONLY[@]}"
	assert_success
	assert_line "left the state dir $STATES/resettest-live: its container is running (runtime pid $HOLDER_PID)"
	assert_line "left the cgroup $CG/boxlab/resettest-live: its container is running (runtime pid $HOLDER_PID)"
	assert_line "left the claim on 10.200.255.248/30 ($SUBNETS/16382): its container is running (runtime pid $HOLDER_PID)"
	assert_line "left the state file $NOTES/resettest-live: its runtime is running (pid $HOLDER_PID)"
	assert_line "nothing to remove"
	[ -f "$NOTES/resettest-live" ] && [ -f "$SUBNETS/16382" ]
	[ -d "$CG/boxlab/resettest-live" ] && [ -f "$STATES/resettest-live/upper/etc/x" ]
}

@test "an exited container's record and log are removed; a running one's log is left (step 11)" {
	fake_note resettest "$DEAD_PID" "name resettest-web" "exited 0 1700000000"
	echo "what it wrote" >"$NOTES/resettest.log"
	fake_live_runtime resettest-live "name resettest-live"
	echo "what it writes" >"$NOTES/resettest-live.log"
	run "$RESET" "${ONLY[@]}"
	assert_success
	assert_line "removed the log $NOTES/resettest.log"
	assert_line "removed the state file $NOTES/resettest"
	assert_line "left the state file $NOTES/resettest-live: its runtime is running (pid $HOLDER_PID)"
	[ "${#lines[@]}" -eq 3 ]
	[ ! -e "$NOTES/resettest" ] && [ ! -e "$NOTES/resettest.log" ]
	[ -f "$NOTES/resettest-live" ] && [ -f "$NOTES/resettest-live.log" ]
}

@test "a claim is left while the runtime that noted it holds its lock, whatever pid the claim names" {
	fake_live_runtime resettest-live "subnet $SUBNETS 16381"
	# Its own pid is gone; the locked state file still names the claim.
	fake_claim 16381 "$DEAD_PID"
	run "$RESET" "${ONLY[@]}"
	assert_success
	assert_line --partial "left the claim on 10.200.255.244/30 ($SUBNETS/16381): its container is running"
	[ -f "$SUBNETS/16381" ]
}

@test "a link named after a running runtime's container is left" {
	ip link add bxresettest0 type veth peer name resettest1
	fake_live_runtime resettest0
	run "$RESET" "${ONLY[@]}"
	assert_success
	assert_line "left the link bxresettest0: its container is running (runtime pid $HOLDER_PID)"
	ip link show dev bxresettest0 >/dev/null
}

@test "what is not the kit's is untouched: a mount, a cgroup, a link, a /proc outside the kit" {
	# Not proc on /proc, or not in the kit's checkout.
	mkdir -p "$BUILD_DIR/rootfs/proc" "$BUILD_DIR/rootfs/notproc" "$TEST_TMP/resettest-rootfs/proc"
	mount -t tmpfs resettest "$BUILD_DIR/rootfs/proc"
	mount -t proc proc "$BUILD_DIR/rootfs/notproc"
	mount -t proc proc "$TEST_TMP/resettest-rootfs/proc"
	# Not under boxlab/; not named bx.
	mkdir "$CG/resettest"
	ip link add resettest0 type veth peer name resettest1
	run "$RESET" "${ONLY[@]}"
	assert_success
	assert_output "nothing to remove"
	[ "$(findmnt -n -o FSTYPE "$BUILD_DIR/rootfs/proc")" = tmpfs ]
	[ "$(findmnt -n -o FSTYPE "$BUILD_DIR/rootfs/notproc")" = proc ]
	[ "$(findmnt -n -o FSTYPE "$TEST_TMP/resettest-rootfs/proc")" = proc ]
	[ -d "$CG/resettest" ]
	ip link show dev resettest0 >/dev/null
	# Given as ROOTFS, the one outside the kit is taken too.
	run "$RESET" "${ONLY[@]}" "$TEST_TMP/resettest-rootfs"
	assert_success
	assert_output "removed the /proc mount on $TEST_TMP/resettest-rootfs/proc"
	[ "$(findmnt -n -o FSTYPE "$BUILD_DIR/rootfs/notproc")" = proc ]
}

@test "a cgroup with processes and no runtime is reported, left, exit 1" {
	fake_cgroup resettest
	sleep 60 &
	BUSY_PID=$!
	echo "$BUSY_PID" >"$CG/boxlab/resettest/cgroup.procs"
	run "$RESET" "${ONLY[@]}"
	assert_failure 1
	assert_line "boxlab reset-host: cannot remove the cgroup $CG/boxlab/resettest: processes $BUSY_PID still run in it, with no runtime; end them (sudo kill $BUSY_PID) and run this again"
	assert_line "boxlab reset-host: 1 thing(s) could not be removed (see above)"
	kill -0 "$BUSY_PID"
	[ -d "$CG/boxlab/resettest" ]
	# Back out of the group before it goes.
	echo "$BUSY_PID" >"$CG/cgroup.procs"
}

@test "a /proc still in use by processes with no runtime is reported and left, exit 1" {
	local _
	fake_proc "$BUILD_DIR/rootfs"
	# An orphan of a killed run: a process whose root is the rootfs (a
	# static busybox's sleep, chrooted by unshare), no runtime above it.
	[ -x /bin/busybox ] || skip_cannot_run "no /bin/busybox (Debian's busybox-static)"
	cp /bin/busybox "$BUILD_DIR/rootfs/busybox"
	unshare --root="$BUILD_DIR/rootfs" /busybox sleep 60 &
	BUSY_PID=$!
	for _ in $(seq 50); do
		[ "/proc/$BUSY_PID/root" -ef "$BUILD_DIR/rootfs" ] && break
		sleep 0.1
	done
	[ "/proc/$BUSY_PID/root" -ef "$BUILD_DIR/rootfs" ] || fail "sleep did not start in the rootfs"
	run "$RESET" "${ONLY[@]}"
	assert_failure 1
	assert_line --partial "boxlab reset-host: cannot remove the /proc mount on $BUILD_DIR/rootfs/proc: processes $BUSY_PID still run in $BUILD_DIR/rootfs, with no runtime above them"
	findmnt -n "$BUILD_DIR/rootfs/proc" >/dev/null
	kill -KILL "$BUSY_PID"
	wait "$BUSY_PID" || true
	BUSY_PID=""
	# Once it has ended, the mount goes.
	run "$RESET" "${ONLY[@]}"
	assert_success
	assert_output "removed the /proc mount on $BUILD_DIR/rootfs/proc"
}

@test "rootless: a dead runtime's state file and state dir in /tmp/boxlab-UID are removed, as that user" {
	as_nobody sh -c "umask 077 && mkdir -p '$NOBODY_BASE/containers'"
	as_nobody mkdir -p "$NOBODY_BASE/resettest/upper" "$NOBODY_BASE/resettest/work/work"
	as_nobody chmod 0 "$NOBODY_BASE/resettest/work/work"
	as_nobody sh -c "echo 'runtime $DEAD_PID' >'$NOBODY_BASE/containers/resettest'"
	run "$RESET" "${ONLY[@]}"
	assert_success
	assert_output - <<-EOF
	removed the state dir $NOBODY_BASE/resettest
	removed the state file $NOBODY_BASE/containers/resettest
	EOF
	[ ! -e "$NOBODY_BASE/resettest" ] && [ ! -e "$NOBODY_BASE/containers/resettest" ]
}
