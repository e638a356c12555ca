#!/usr/bin/env bats
# The command line of one step (STEP=N): help, bad input with its exact
# message and status 125, and the exit statuses of DESIGN.md.  Every run
# must leave the host as it found it.

load ../lib/common

setup() {
	load_libs
	remember_host_state
	BIN=$(container_bin)
	PROG=$(step_dir "$STEP")
}

teardown() {
	assert_nothing_left
}

@test "--help names the step and its options" {
	run "$BIN" --help
	assert_success
	assert_line "usage: container run [OPTIONS] ROOTFS COMMAND [ARG...]"
	assert_line "boxlab's $PROG: runs COMMAND in a container whose root is ROOTFS."
	assert_line --regexp '^  -v, --verbose +narrate every kernel call'
}

@test "no command: says what to type" {
	run "$BIN"
	assert_failure 125
	assert_output "$PROG: missing the command \"run\" (try --help)"
}

@test "an unknown command is named" {
	run "$BIN" start "$ROOTFS" true
	assert_failure 125
	assert_output "$PROG: unknown command \"start\": the only command is \"run\" (try --help)"
}

@test "missing ROOTFS and COMMAND" {
	run "$BIN" run
	assert_failure 125
	assert_output "$PROG: missing ROOTFS and COMMAND: container run [OPTIONS] ROOTFS COMMAND [ARG...]"
}

@test "missing COMMAND" {
	run "$BIN" run "$ROOTFS"
	assert_failure 125
	assert_output "$PROG: missing COMMAND to run in \"$ROOTFS\""
}

@test "ROOTFS that does not exist" {
	run "$BIN" run /nonexistent/rootfs /bin/sh
	assert_failure 125
	assert_output "$PROG: ROOTFS \"/nonexistent/rootfs\" does not exist (build one with 'make rootfs')"
}

@test "ROOTFS that is not a directory" {
	run "$BIN" run /etc/hostname /bin/sh
	assert_failure 125
	assert_output "$PROG: ROOTFS \"/etc/hostname\" is not a directory"
}

@test "an unknown option is named" {
	run "$BIN" run --frobnicate "$ROOTFS" true
	assert_failure 125
	assert_output "$PROG: unknown option \"--frobnicate\" (try --help)"
}

@test "an option of a later step says which step brings it" {
	if [ "$STEP" -ge 8 ]; then
		skip "step $STEP has every option"
	fi
	local opt=--layer arrives=8
	[ "$STEP" -lt 3 ] && { opt=--hostname arrives=3; }
	[ "$STEP" -ge 3 ] && [ "$STEP" -lt 6 ] && { opt=--net arrives=6; }
	[ "$STEP" -ge 6 ] && [ "$STEP" -lt 7 ] && { opt=--memory arrives=7; }
	run "$BIN" run "$opt" x "$ROOTFS" true
	assert_failure 125
	assert_output "$PROG: $opt arrives in step 0$arrives (${STEP_NAMES[$arrives]}); this is step 0$STEP"
}

# Before step 03 every use of --hostname gets the same answer.
refuse_hostname_before_step3() {
	assert_failure 125
	assert_output "$PROG: --hostname arrives in step 03 (step03-uts-ipc); this is step 0$STEP"
}

@test "a malformed --hostname is refused" {
	run "$BIN" run --hostname "bad name" "$ROOTFS" true
	[ "$STEP" -ge 3 ] || { refuse_hostname_before_step3; return; }
	assert_failure 125
	assert_output "$PROG: --hostname \"bad name\": use 1 to 64 letters, digits, dots and dashes"
}

@test "--hostname names the container" {
	run "$BIN" run --hostname=box.example "$ROOTFS" probe hostname
	[ "$STEP" -ge 3 ] || { refuse_hostname_before_step3; return; }
	assert_success
	assert_output box.example
}

@test "an option value that is missing" {
	run "$BIN" run --hostname
	[ "$STEP" -ge 3 ] || { refuse_hostname_before_step3; return; }
	assert_failure 125
	assert_output "$PROG: --hostname needs a value: --hostname NAME"
}

@test "without root: one line saying which step lifts the need" {
	run as_nobody "$BIN" run "$ROOTFS" probe pid
	if [ "$STEP" -ge 5 ]; then
		# The user namespace lifted it: rootless, the container just runs.
		assert_success
		assert_output 1
		return
	fi
	assert_failure 125
	assert_output --regexp "^$PROG: must run as root: .* needs? CAP_SYS_[A-Z]+; try sudo \(step 05, the user namespace, lifts this need\)$"
}

@test "--userns-base: a range that cannot be mapped" {
	run "$BIN" run --userns-base 4294967000 "$ROOTFS" true
	if [ "$STEP" -lt 5 ]; then
		assert_failure 125
		assert_output "$PROG: --userns-base arrives in step 05 (step05-user-ns); this is step 0$STEP"
		return
	fi
	assert_failure 125
	assert_output "$PROG: --userns-base \"4294967000\": cannot be mapped: use a host id from 1 to 4294901759, so that all 65536 container ids fit below 4294967295"
}

@test "--userns-base: rootless, only your own uid can be mapped" {
	run as_nobody "$BIN" run --userns-base 200000 "$ROOTFS" true
	[ "$STEP" -ge 5 ] || { assert_failure 125; return; }
	assert_failure 125
	assert_output "$PROG: --userns-base \"200000\": cannot be mapped without root: a rootless container can map only your own uid (65534)"
}

@test "--userns-base moves container root on the host" {
	[ "$STEP" -ge 5 ] || { run "$BIN" run --userns-base 200000 "$ROOTFS" true; assert_failure 125; return; }
	run "$BIN" run --userns-base 200000 "$ROOTFS" /bin/cat /proc/self/uid_map
	assert_success
	assert_line --regexp '^ +0 +200000 +65536$'
}

@test "exit status: the command's own" {
	run "$BIN" run "$ROOTFS" /bin/sh -c 'exit 3'
	assert_failure 3
}

@test "exit status 127: a command not in the rootfs, named" {
	capture "$BIN" run "$ROOTFS" /bin/no-such-command
	assert_failure 127
	assert_output "$PROG: cannot run \"/bin/no-such-command\": execvp failed: ENOENT (No such file or directory); hint: there is no \"/bin/no-such-command\" inside ROOTFS \"$ROOTFS\" (paths are looked up in the container, not on the host)"
}

@test "exit status 127: a bare name not in the container's PATH" {
	capture "$BIN" run "$ROOTFS" no-such-command
	assert_failure 127
	assert_output --partial "$PROG: cannot run \"no-such-command\": execvp failed: ENOENT (No such file or directory); hint: no \"no-such-command\" in the container's PATH"
}

@test "exit status 126: a file that cannot be executed" {
	run "$BIN" run "$ROOTFS" /etc/passwd
	assert_failure 126
	assert_output "$PROG: cannot run \"/etc/passwd\": execvp failed: EACCES (Permission denied); hint: it is not an executable file (check its mode, and that it is not a directory)"
}

@test "exit status 128+9 when the container is killed" {
	start_container -- /bin/sh -c 'echo ready; exec sleep 30'
	kill -KILL "$CHILD_PID"
	wait_status "$RUNTIME_PID"
	assert_equal "$status" 137
}

@test "SIGTERM to the runtime reaches the container" {
	start_container -- /bin/sh -c 'trap "exit 7" TERM; echo ready; while :; do sleep 0.1; done'
	kill -TERM "$RUNTIME_PID"
	wait_status "$RUNTIME_PID"
	assert_equal "$status" 7
}

@test "-v narrates the kernel calls" {
	run "$BIN" run -v "$ROOTFS" /bin/true
	assert_success
	assert_line --regexp "^$PROG: start the container's first process: clone\(container_main, child_stack_top\(\), flags, c\) = [0-9]+$"
	assert_line "$PROG: the container exited with status 0"
}

@test "--net: an unknown mode is named" {
	run "$BIN" run --net bridge "$ROOTFS" true
	assert_failure 125
	if [ "$STEP" -lt 6 ]; then
		assert_output "$PROG: --net arrives in step 06 (step06-net-ns); this is step 0$STEP"
		return
	fi
	assert_output "$PROG: --net \"bridge\": unknown mode: use none (loopback only) or veth"
}

@test "--net veth without root says why and what works" {
	run as_nobody "$BIN" run --net veth "$ROOTFS" true
	assert_failure 125
	[ "$STEP" -ge 6 ] || return 0
	assert_output "$PROG: --net veth needs root: the host end of a veth is a host interface (CAP_NET_ADMIN on the host); rootless, use --net none, loopback only"
}

@test "--net veth: a killed container leaves no link behind" {
	if [ "$STEP" -lt 6 ]; then
		run "$BIN" run --net veth "$ROOTFS" true
		assert_failure 125
		return
	fi
	start_container --net veth -- /bin/sh -c 'echo ready; exec sleep 30'
	kill -KILL "$CHILD_PID"
	wait_status "$RUNTIME_PID"
	assert_equal "$status" 137
	# teardown checks that no bx link and no subnet claim is left
}

@test "--net veth: 20 containers at once get distinct addresses and links" {
	local i pids=() failed=0
	if [ "$STEP" -lt 6 ]; then
		run "$BIN" run --net veth "$ROOTFS" true
		assert_failure 125
		return
	fi
	# Each one says its address, then waits at a gate (a file the test
	# makes in the rootfs) so that all 20 hold their links at once.
	for i in $(seq 20); do
		"$BIN" run -v --net veth "$ROOTFS" /bin/sh -c \
			'ip -o -4 addr show eth0 | awk "{ print \$4 }"; echo ready
			 while [ ! -e /gate ]; do sleep 0.1; done
			 ping -c 1 -W 5 "$(ip route | awk "/default/ { print \$3 }")" >/dev/null && echo reached-host-end' \
			>"$TEST_TMP/c$i" 2>&1 &
		pids+=($!)
	done
	for i in $(seq 20); do
		wait_for_line ready "$TEST_TMP/c$i" "${pids[$((i - 1))]}" || failed=1
	done
	touch "$ROOTFS/gate"
	for i in "${pids[@]}"; do
		wait "$i" || failed=1
	done
	rm -f "$ROOTFS/gate"
	assert_equal "$failed" 0
	assert_equal "$(cat "$TEST_TMP"/c* | grep -E '^10\.200\.' | sort -u | wc -l)" 20
	assert_equal "$(cat "$TEST_TMP"/c* | grep -o 'make a veth pair: bx[0-9a-f]*' | sort -u | wc -l)" 20
	assert_equal "$(cat "$TEST_TMP"/c* | grep -c '^reached-host-end$')" 20
}

@test "the container's root can write its rootfs and its /tmp" {
	# From step 05 on, container root is not host root: the rootfs, owned
	# by host root, is writable only through the id-mapped mount.
	run "$BIN" run "$ROOTFS" /bin/sh -c \
		'echo x >/written-inside && rm /written-inside && echo y >/tmp/t && cat /tmp/t && rm /tmp/t'
	assert_success
	assert_output y
}
