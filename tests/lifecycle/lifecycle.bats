#!/usr/bin/env bats
# Step 11 on, as root: containers in the background by the dozen, with
# every feature at once -- limits, a veth, an image's layers under the
# overlay -- through their whole life: run -d, exec, stop, kill, rm; and
# a monitor killed with SIGKILL, whose container goes with it and whose
# leftovers the next command sweeps.  Each test leaves the host as it
# found it (the teardown's check), and says what it timed on TAP's fd 3.

load ../lib/common
load ../lib/image

PROG=${STEP_NAMES[$STEP]}
IMAGE=localhost/busybox-oci:latest
# The test image's own command says this (tests/lib/mkimage.sh).
HELLO="hello from app in /home/app"
# Every feature; --net veth is added where a test wants it.
FEATURES=(--memory 64M --cpus 0.5 --pids-limit 64)
COUNT=50

setup() {
	load_libs
	[ "$STEP" -ge 11 ] || skip "containers in the background arrive in step 11"
	remember_host_state
	export BOXLAB_STORE_DIR=$TEST_TMP/store
	runtime image import "$(test_image)" >"$TEST_TMP/import.out" 2>&1 ||
		fail "cannot import the test image: $(cat "$TEST_TMP/import.out")"
}

teardown() {
	local status=0
	[ -n "${TEST_TMP:-}" ] || return 0
	remove_left_containers || status=1
	assert_nothing_left
	return "$status"
}

# start_image OPTIONS...: run -d the test image with OPTIONS, its PID 1 a
# shell that ends at SIGTERM (sleep, as PID 1, would ignore it); prints
# the id, or what the runtime said, and notes the id for the teardown.
start_image() {
	local out
	out=$(runtime run -d "$@" "$IMAGE" -c 'trap "exit 0" TERM; echo started; sleep 600 & wait' 2>&1 3>&-) ||
		{ echo "run -d said: $out"; return 1; }
	echo "${out##*$'\n'}" | tee -a "$TEST_TMP/detached"
}

# now: the time, in microseconds.
now() {
	echo "${EPOCHREALTIME/./}"
}

# figure WHAT START N: on TAP's fd 3, how long WHAT took since START,
# in all and for each of N.
figure() {
	local us=$(($(now) - $2))
	printf '# %s: %d.%03d s, %d ms each\n' "$1" $((us / 1000000)) $((us / 1000 % 1000)) $((us / 1000 / $3)) >&3
}

# running_of ID...: how many of the ids `ps` lists as running.
running_of() {
	runtime ps | awk 'NR > 1 { print $1 }' | grep -cxF -f <(printf '%s\n' "$@")
}

# what_is_left ID...: any record, log, cgroup or host end of a veth of the
# ids, and any monitor still running from the test's store.
what_is_left() {
	local id
	for id; do
		existing "record: " "$(record_dir)/$id" "$(record_dir)/$id.log"
		container_cgroups "cgroup: " | grep "/$id\$"
	done
	existing "link: " /sys/class/net/bx*
	pgrep -af "container.* run -d .*$IMAGE" | sed 's/^/monitor: /'
	return 0
}

@test "50 containers with every feature: run -d, exec into each, stop, kill, rm" {
	local ids=() i id start seen bad=0 half listed
	start=$(now)
	for i in $(seq $COUNT); do
		id=$(start_image "${FEATURES[@]}" --net veth) || fail "container $i: $id"
		ids+=("$id")
	done
	figure "$COUNT run -d, one after another" "$start" $COUNT
	assert_equal "$(running_of "${ids[@]}")" $COUNT

	start=$(now)
	for id in "${ids[@]}"; do
		seen=$(runtime exec "$id" /bin/sh -c 'echo "$GREETING from $(id -un) in $PWD"' 2>&1 3>&-) ||
			{ echo "exec into $id failed: $seen"; bad=$((bad + 1)); continue; }
		[ "$seen" = "$HELLO" ] || { echo "exec into $id said: $seen"; bad=$((bad + 1)); }
	done
	figure "$COUNT exec, one after another" "$start" $COUNT
	assert_equal "$bad" 0

	# Half stop: their PID 1 ends at SIGTERM, well before the timeout.
	half=$((COUNT / 2))
	start=$(now)
	run runtime stop "${ids[@]:0:half}"
	figure "stop of $half, in one command" "$start" $half
	assert_success
	assert_output "$(printf '%s\n' "${ids[@]:0:half}")"
	run runtime ps -a
	for id in "${ids[@]:0:half}"; do
		assert_line --regexp "^$id .* exited \(0\)$"
	done

	# The other half are killed, and end with SIGKILL's status; kill does
	# not wait for their monitors, so the test waits before rm.
	start=$(now)
	run runtime kill "${ids[@]:half}"
	figure "kill of $((COUNT - half)), in one command" "$start" $((COUNT - half))
	assert_success
	for i in $(seq 100); do
		[ "$(running_of "${ids[@]:half}")" = 0 ] && break
		sleep 0.1
	done
	run runtime ps -a
	for id in "${ids[@]:half}"; do
		assert_line --regexp "^$id .* exited \(137\)$"
	done

	start=$(now)
	run runtime rm "${ids[@]}"
	figure "rm of $COUNT, in one command" "$start" $COUNT
	assert_success
	assert_output "$(printf '%s\n' "${ids[@]}")"
	listed=$(runtime ps -a | awk 'NR > 1 { print $1 }' | grep -xF -f <(printf '%s\n' "${ids[@]}") || true)
	assert_equal "$listed" ""
	assert_equal "$(what_is_left "${ids[@]}")" ""
	# and the teardown: mounts, state dirs, subnet claims, processes
}

# ended PID: true once process PID has ended (a zombie, or gone), within 10 s.
ended() {
	local state _
	for _ in $(seq 100); do
		state=$(ps -o stat= -p "$1") || return 0
		[[ $state == Z* ]] && return 0
		sleep 0.1
	done
	return 1
}

# kill_monitor OPTIONS...: run -d with OPTIONS, kill its monitor (the
# parent of its PID 1) with SIGKILL; sets CID, PID1, MONITOR, RUNTIME
# (the record's "runtime" line) and DIED (yes if PID 1 ended with it).
# A PID 1 that outlived its monitor is killed here, and so is the rest
# of its PID namespace, so that the sweep can remove its cgroup.
kill_monitor() {
	CID=$(start_image "$@") || fail "$CID"
	PID1=$(record_pid "$CID")
	RUNTIME=$(record_field "$CID" runtime)
	MONITOR=$(ps -o ppid= -p "$PID1" | tr -d ' ')
	[ -n "$MONITOR" ] || fail "no parent of PID 1 ($PID1) on the host"
	kill -KILL "$MONITOR"
	DIED=yes
	ended "$PID1" && return 0
	DIED="no: PID 1 ($PID1, $(ps -o user=,args= -p "$PID1")) still ran 10 s after; killed it now"
	kill -KILL "$PID1"
	ended "$PID1"
}

# swept WHAT...: the sweep's warning for each WHAT is a line of $output.
swept() {
	local what
	for what; do
		assert_line --regexp "^$PROG: warning: removed what container $CID left behind when its runtime was killed: $what$"
	done
}

# PID 1 runs as the image's user, app: the user it becomes last.
@test "a monitor killed with SIGKILL: its container dies too, and the next command sweeps what it left" {
	kill_monitor "${FEATURES[@]}"
	run runtime ps -a
	assert_success
	swept "its cgroup boxlab/$CID \(cgroup v[12]\)" "its state dir /var/lib/boxlab/$CID" "its log"
	refute_line --regexp "^$CID "
	# once only: the next command finds nothing to sweep
	run runtime ps -a
	refute_output --partial "warning"
	assert_equal "$(what_is_left "$CID")" ""
	assert_equal "PID 1 ended with its monitor: $DIED" "PID 1 ended with its monitor: yes"
}

# As root inside, and with a veth, whose /30 the monitor claimed.
@test "a monitor killed with SIGKILL, with --net veth, as root: the sweep releases its /30 too" {
	local claims claim
	kill_monitor "${FEATURES[@]}" --net veth -u 0
	run runtime ps -a
	assert_success
	swept "its claim on 10\.200\.[0-9.]+/30" "its cgroup boxlab/$CID \(cgroup v[12]\)" \
		"its state dir /var/lib/boxlab/$CID" "its log"
	# A claim file names its owner's pid: the monitor's must be gone.
	claims=$(grep -lx "$MONITOR" /run/boxlab/subnets/[0-9]* 2>/dev/null || true)
	# (removed here whatever the runtime did, so that no later test on
	# this host sees it go)
	for claim in $claims; do
		rm -f "$claim"
	done
	[ -z "$claims" ] || fail "the sweep said it released the claim, but $claims, whose owner is the killed monitor ($MONITOR), was still there; the record named the runtime $RUNTIME"
	assert_equal "PID 1 ended with its monitor: $DIED" "PID 1 ended with its monitor: yes"
}
