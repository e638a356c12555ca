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
	local status=0
	remove_left_containers || status=1
	assert_nothing_left
	return "$status"
}

@test "--help names the step and its options" {
	run "$BIN" --help
	assert_success
	if [ "$STEP" -ge 9 ]; then
		assert_line "usage: container run [OPTIONS] IMAGE|ROOTFS [COMMAND [ARG...]]"
		assert_line "       container pull [OPTIONS] NAME[:TAG|@DIGEST]"
		assert_line "boxlab's $PROG: runs COMMAND in a container whose root is ROOTFS, or an image's layers."
	else
		assert_line "usage: container run [OPTIONS] ROOTFS COMMAND [ARG...]"
		assert_line "boxlab's $PROG: runs COMMAND in a container whose root is ROOTFS."
	fi
	assert_line --regexp '^  -v, --verbose +narrate every kernel call'
	if [ "$STEP" -ge 10 ]; then
		assert_line "Container root keeps docker's 14 capabilities (CHOWN, DAC_OVERRIDE,"
		assert_line --regexp '^      --cap-add CAPS +give container root more capabilities'
	else
		assert_line --regexp '^      --cap-add CAPS +\(step 10\) give container root more capabilities'
	fi
}

@test "no command: says what to type" {
	run "$BIN"
	assert_failure 125
	assert_output "$PROG: missing the command \"run\" (try --help)"
}

@test "an unknown command is named" {
	run "$BIN" start "$ROOTFS" true
	assert_failure 125
	if [ "$STEP" -ge 11 ]; then
		assert_output "$PROG: unknown command \"start\": use run, ps, exec, logs, stop, kill, rm, pull, images, image import or image rm (try --help)"
	elif [ "$STEP" -ge 9 ]; then
		assert_output "$PROG: unknown command \"start\": use run, pull, images, image import or image rm (try --help)"
	else
		assert_output "$PROG: unknown command \"start\": the only command is \"run\" (try --help)"
	fi
}

@test "missing ROOTFS and COMMAND" {
	run "$BIN" run
	assert_failure 125
	if [ "$STEP" -ge 9 ]; then
		assert_output "$PROG: missing IMAGE or ROOTFS: container run [OPTIONS] IMAGE|ROOTFS [COMMAND [ARG...]]"
	else
		assert_output "$PROG: missing ROOTFS and COMMAND: container run [OPTIONS] ROOTFS COMMAND [ARG...]"
	fi
}

@test "missing COMMAND" {
	run "$BIN" run "$ROOTFS"
	assert_failure 125
	assert_output "$PROG: missing COMMAND to run in \"$ROOTFS\""
}

@test "ROOTFS that does not exist" {
	run "$BIN" run /nonexistent/rootfs /bin/sh
	assert_failure 125
	if [ "$STEP" -ge 9 ]; then
		assert_output "$PROG: ROOTFS \"/nonexistent/rootfs\" does not exist (build one with 'make rootfs'), and it is no image name either: the image name starts with \"/\""
	else
		assert_output "$PROG: ROOTFS \"/nonexistent/rootfs\" does not exist (build one with 'make rootfs')"
	fi
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
	if [ "$STEP" -ge 10 ]; then
		skip "step $STEP has every option"
	fi
	local opt=--layer arrives=8
	[ "$STEP" -lt 3 ] && { opt=--hostname arrives=3; }
	[ "$STEP" -ge 3 ] && [ "$STEP" -lt 6 ] && { opt=--net arrives=6; }
	[ "$STEP" -ge 6 ] && [ "$STEP" -lt 7 ] && { opt=--memory arrives=7; }
	[ "$STEP" -ge 8 ] && { opt=--cap-add arrives=10; }
	run "$BIN" run "$opt" x "$ROOTFS" true
	assert_failure 125
	assert_output "$PROG: $opt arrives in step $(printf %02d "$arrives") (${STEP_NAMES[$arrives]}); this is step $(printf %02d "$STEP")"
}

# Before step 03 every use of --hostname gets the same answer.
refuse_hostname_before_step3() {
	assert_failure 125
	assert_output "$PROG: --hostname arrives in step 03 (step03-uts-ipc); this is step $(printf %02d "$STEP")"
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
	assert_output "$PROG: cannot run \"/bin/no-such-command\", which is not in ROOTFS \"$ROOTFS\": execvp(c->argv[0], c->argv) failed: ENOENT (No such file or directory); hint: paths are looked up inside the container, not on the host"
}

@test "exit status 127: a program that is there, but not its interpreter" {
	capture "$BIN" run "$ROOTFS" /usr/bin/no-interpreter
	assert_failure 127
	assert_output "$PROG: cannot run \"/usr/bin/no-interpreter\", which is in ROOTFS \"$ROOTFS\": execvp(c->argv[0], c->argv) failed: ENOENT (No such file or directory); hint: the file is there but its interpreter is not: a dynamically linked program needs its loader and libraries in the container, a script its #! program"
}

@test "exit status 127: a bare name not in the container's PATH" {
	capture "$BIN" run "$ROOTFS" no-such-command
	assert_failure 127
	assert_output "$PROG: cannot run \"no-such-command\" from ROOTFS \"$ROOTFS\": execvp(c->argv[0], c->argv) failed: ENOENT (No such file or directory); hint: no such program in the container's PATH (/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)"
}

@test "exit status 126: a file that cannot be executed" {
	run "$BIN" run "$ROOTFS" /etc/passwd
	assert_failure 126
	assert_output "$PROG: cannot run \"/etc/passwd\" from ROOTFS \"$ROOTFS\": execvp(c->argv[0], c->argv) failed: EACCES (Permission denied); hint: it is not an executable file (check its mode, and that it is not a directory)"
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
	# From step 07 on cgroup v2, clone3() starts it in its cgroup.
	assert_line --regexp "^$PROG: start the container's first process( in its cgroup)?: clone(_into_cgroup)?\(container_main, .*\) = [0-9]+$"
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
	# Each one says its address, then waits for a SIGHUP (the runtime
	# passes it on) so that all 20 hold their links at once.
	for i in $(seq 20); do
		"$BIN" run -v --net veth "$ROOTFS" /bin/sh -c \
			'trap "go=1" HUP
			 ip -o -4 addr show eth0 | awk "{ print \$4 }"; echo ready
			 while [ -z "$go" ]; do sleep 0.1; done
			 ping -c 1 -W 5 "$(ip route | awk "/default/ { print \$3 }")" >/dev/null && echo reached-host-end' \
			>"$TEST_TMP/c$i" 2>&1 &
		pids+=($!)
	done
	for i in $(seq 20); do
		wait_for_line ready "$TEST_TMP/c$i" "${pids[$((i - 1))]}" || failed=1
	done
	kill -HUP "${pids[@]}"
	for i in "${pids[@]}"; do
		wait "$i" || failed=1
	done
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

# refused_before N OPTION: steps before N do not have OPTION yet.
refused_before() {
	assert_failure 125
	assert_output "$PROG: $2 arrives in step 0$1 (${STEP_NAMES[$1]}); this is step 0$STEP"
}

@test "--memory: malformed, zero and too small sizes are refused" {
	run "$BIN" run --memory 12Q "$ROOTFS" true
	[ "$STEP" -ge 7 ] || { refused_before 7 --memory; return; }
	assert_failure 125
	assert_output "$PROG: --memory \"12Q\": not a size: use a number with K, M or G, like 64M"
	run "$BIN" run --memory 0 "$ROOTFS" true
	assert_failure 125
	assert_output "$PROG: --memory \"0\": not a size: use a number with K, M or G, like 64M"
	run "$BIN" run --memory 1M "$ROOTFS" true
	assert_failure 125
	assert_output "$PROG: --memory \"1M\": too small: use at least 4M (less cannot start a shell)"
}

@test "--cpus: out of range is refused" {
	local most
	most=$(nproc)
	run "$BIN" run --cpus 0 "$ROOTFS" true
	[ "$STEP" -ge 7 ] || { refused_before 7 --cpus; return; }
	assert_failure 125
	assert_output "$PROG: --cpus \"0\": use a number of CPUs from 0.01 to $most (this machine's), like 0.5"
	run "$BIN" run --cpus "$((most + 1))" "$ROOTFS" true
	assert_failure 125
	run "$BIN" run --cpus 0.001 "$ROOTFS" true
	assert_failure 125
	run "$BIN" run --cpus half "$ROOTFS" true
	assert_failure 125
}

@test "--pids-limit 0 is refused" {
	run "$BIN" run --pids-limit 0 "$ROOTFS" true
	[ "$STEP" -ge 7 ] || { refused_before 7 --pids-limit; return; }
	assert_failure 125
	assert_output "$PROG: --pids-limit \"0\": use a whole number from 1 to 4194304"
}

@test "-v says what the container used" {
	run "$BIN" run -v --memory 64M "$ROOTFS" /bin/true
	[ "$STEP" -ge 7 ] || { refused_before 7 --memory; return; }
	assert_success
	assert_line --regexp "^$PROG: it used at most [0-9]+ KiB of memory$"
	assert_line --regexp "^$PROG: it used [0-9]+\.[0-9]{3} s of CPU time$"
}

@test "rootless without a delegated cgroup: limits skipped, in one line" {
	run as_nobody "$BIN" run --memory 64M "$ROOTFS" probe pid
	[ "$STEP" -ge 5 ] || { assert_failure 125; return; }
	[ "$STEP" -ge 7 ] || { refused_before 7 --memory; return; }
	[ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ] ||
		skip "cgroup v2 here: whether nobody has a delegated subtree depends on the machine"
	assert_success
	assert_line 1
	assert_line "$PROG: warning: rootless: no cgroup delegated to you (cgroup v1), so no limits: on cgroup v2 with systemd, run under 'systemd-run --user --scope -p Delegate=yes', or run as root"
}

@test "--layer that is not a directory" {
	run "$BIN" run --layer /etc/hostname "$ROOTFS" true
	[ "$STEP" -ge 8 ] || { refused_before 8 --layer; return; }
	assert_failure 125
	assert_output "$PROG: --layer \"/etc/hostname\" is not a directory"
}

@test "a --layer container root cannot read is refused, with the fix" {
	mkdir -m 0700 "$TEST_TMP/private"
	run "$BIN" run --layer "$TEST_TMP/private" "$ROOTFS" true
	[ "$STEP" -ge 8 ] || { refused_before 8 --layer; return; }
	assert_failure 125
	assert_output "$PROG: --layer \"$TEST_TMP/private\": container root (host uid 100000) cannot read $TEST_TMP/private (mode 0700): chmod o+rx it, or use another dir"
}

# A kit cloned into a home of mode 0700: container root (from step 05 on)
# cannot walk to ROOTFS from /, but from a directory inside, it can.
@test "a ROOTFS container root cannot walk to is refused, with the fix" {
	local home=$TEST_TMP/home seen status_inside
	mkdir -m 0700 "$home"
	mkdir -m 0755 "$home/kit" "$home/kit/rootfs"
	mount --bind "$ROOTFS" "$home/kit/rootfs"
	run "$BIN" run "$home/kit/rootfs" probe pid
	seen=$(cd "$home/kit" && "$BIN" run rootfs probe pid 2>&1) && status_inside=0 || status_inside=$?
	umount "$home/kit/rootfs"
	echo "from inside $home/kit, ROOTFS \"rootfs\": exit status $status_inside, $seen"
	[ "$status_inside" -eq 0 ]
	if [ "$STEP" -lt 5 ]; then
		# Container root is host root: every directory lets it through.
		assert_success
		return
	fi
	assert_failure 125
	assert_output "$PROG: ROOTFS \"$home/kit/rootfs\": container root (host uid 100000) cannot pass through $home (mode 0700): chmod o+x it, or use another dir"
}

@test "an image on overlayfs is refused (no overlay on an overlay)" {
	local image=$TEST_TMP/image
	[ "$STEP" -ge 8 ] || skip "an overlay root arrives in step 08"
	mkdir "$image" "$TEST_TMP/empty"
	mount -t overlay overlay -o "lowerdir=$ROOTFS:$TEST_TMP/empty" "$image"
	run "$BIN" run "$image" true
	umount "$image"
	assert_failure 125
	assert_output "$PROG: ROOTFS \"$image\" is on an overlay filesystem (inside a container already?): boxlab does not stack an overlay on an overlay; copy it to a disk filesystem (ext4, xfs, btrfs)"
}

@test "a state dir on overlayfs is refused" {
	local ovl=$TEST_TMP/ovl
	[ "$STEP" -ge 8 ] || skip "the state dir arrives in step 08"
	mkdir -p "$ovl" "$TEST_TMP/upper" "$TEST_TMP/work" "$TEST_TMP/lower"
	mount -t overlay overlay -o "lowerdir=$TEST_TMP/lower,upperdir=$TEST_TMP/upper,workdir=$TEST_TMP/work" "$ovl"
	BOXLAB_STATE_DIR=$ovl/state run "$BIN" run "$ROOTFS" true
	ls -A "$ovl/state" >"$TEST_TMP/left" 2>/dev/null || true
	umount "$ovl"
	assert_failure 125
	assert_output "$PROG: the state dir $ovl/state is on overlayfs, which cannot hold an overlay's upper dir: set BOXLAB_STATE_DIR to a directory on ext4, xfs, btrfs or tmpfs"
	assert_equal "$(cat "$TEST_TMP/left")" ""
}

@test "a state dir that cannot be a directory is refused before anything is made" {
	[ "$STEP" -ge 8 ] || skip "the state dir arrives in step 08"
	touch "$TEST_TMP/file"
	BOXLAB_STATE_DIR=$TEST_TMP/file run "$BIN" run "$ROOTFS" true
	assert_failure 125
	assert_output "$PROG: BOXLAB_STATE_DIR \"$TEST_TMP/file\" cannot hold state dirs: $TEST_TMP/file is not a directory; point it at a directory, or unset it"
	BOXLAB_STATE_DIR=$TEST_TMP/file/state/x run "$BIN" run "$ROOTFS" true
	assert_failure 125
	assert_output "$PROG: BOXLAB_STATE_DIR \"$TEST_TMP/file/state/x\" cannot hold state dirs: $TEST_TMP/file is not a directory; point it at a directory, or unset it"
	# teardown: no state file, cgroup or dir is left, so the next run sweeps nothing
	run "$BIN" run "$ROOTFS" true
	assert_success
	assert_output ""
}

# Every feature at once: limits, a veth, the overlay.
ALL_FEATURES=(--memory 64M --cpus 1 --pids-limit 64 --net veth)

@test "the whole runtime: 200 runs one after another leave nothing behind" {
	local i failed=0
	[ "$STEP" -ge 8 ] || skip "the whole runtime is step 08"
	for i in $(seq 200); do
		"$BIN" run "${ALL_FEATURES[@]}" "$ROOTFS" /bin/sh -c 'echo x >/scratch/x' || failed=$((failed + 1))
	done
	assert_equal "$failed" 0
	# teardown compares mounts, cgroups, links, state files and dirs, processes
	assert_equal "$(ps -eo stat=,comm= | awk '$1 ~ /^Z/ && $2 ~ /^(container|sh|probe)/' | wc -l)" 0
}

@test "the whole runtime: 20 at once leave nothing behind" {
	local i pids=() failed=0
	[ "$STEP" -ge 8 ] || skip "the whole runtime is step 08"
	for i in $(seq 20); do
		"$BIN" run "${ALL_FEATURES[@]}" "$ROOTFS" /bin/sh -c 'echo x >/scratch/x; sleep 1' &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || failed=$((failed + 1))
	done
	assert_equal "$failed" 0
	assert_equal "$(ps -eo stat=,comm= | awk '$1 ~ /^Z/ && $2 ~ /^(container|sh|probe)/' | wc -l)" 0
}

# Step 10: what root keeps, and the options that change it.
@test "--cap-add, --cap-drop, --security-opt, --ulimit: bad input is one line, status 125" {
	[ "$STEP" -ge 10 ] || skip "hardening arrives in step 10"
	run "$BIN" run --cap-add NET_ADMINN "$ROOTFS" true
	assert_failure 125
	assert_output "$PROG: --cap-add \"NET_ADMINN\": no capability \"NET_ADMINN\": use a name of capabilities(7), like NET_ADMIN or CAP_NET_ADMIN, or ALL"
	run "$BIN" run --cap-drop CHOWN,,KILL "$ROOTFS" true
	assert_failure 125
	assert_output "$PROG: --cap-drop \"CHOWN,,KILL\": an empty name: use names separated by commas, like CHOWN,KILL"
	run "$BIN" run --security-opt apparmor=unconfined "$ROOTFS" true
	assert_failure 125
	assert_output "$PROG: --security-opt \"apparmor=unconfined\": use no-new-privileges=false or seccomp=unconfined (AppArmor and SELinux options are the host's business, not boxlab's)"
	run "$BIN" run --security-opt seccomp=/etc/profile.json "$ROOTFS" true
	assert_failure 125
	assert_output "$PROG: --security-opt \"seccomp=/etc/profile.json\": boxlab has one seccomp filter, built in: seccomp=unconfined turns it off; it reads no profile files"
	run "$BIN" run --ulimit nofile=4096:1024 "$ROOTFS" true
	assert_failure 125
	assert_output "$PROG: --ulimit \"nofile=4096:1024\": the soft limit is above the hard one: a process may raise its soft limit up to the hard one, never past it"
	run "$BIN" run --ulimit nofile=many "$ROOTFS" true
	assert_failure 125
	assert_output "$PROG: --ulimit \"nofile=many\": SOFT and HARD are whole numbers, or -1 for unlimited, like nofile=1024:4096"
	run "$BIN" run --ulimit files=10 "$ROOTFS" true
	assert_failure 125
	assert_output "$PROG: --ulimit \"files=10\": use NAME=SOFT[:HARD], NAME one of core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack"
}

# caps_in OPTIONS...: the command's CapEff, CapPrm and CapBnd, with OPTIONS.
caps_in() {
	"$BIN" run "$@" "$ROOTFS" /bin/sh -c 'grep -E "^Cap(Eff|Prm|Bnd):" /proc/self/status' | awk '{ printf "%s ", $2 }'
}

@test "--cap-drop ALL empties the sets, --cap-add adds to them, and an add wins over a drop" {
	[ "$STEP" -ge 10 ] || skip "hardening arrives in step 10"
	assert_equal "$(caps_in)" "00000000a80425fb 00000000a80425fb 00000000a80425fb "
	assert_equal "$(caps_in --cap-drop ALL)" "0000000000000000 0000000000000000 0000000000000000 "
	# SYS_ADMIN is bit 21
	assert_equal "$(caps_in --cap-add SYS_ADMIN)" "00000000a82425fb 00000000a82425fb 00000000a82425fb "
	assert_equal "$(caps_in --cap-drop ALL --cap-add cap_kill,NET_RAW)" "0000000000002020 0000000000002020 0000000000002020 "
	# a user other than root starts with none, whatever the bounding set
	run "$BIN" run "$ROOTFS" probe as 1000 /bin/sh -c 'grep -E "^Cap(Eff|Bnd):" /proc/self/status'
	assert_output $'CapEff:\t0000000000000000\nCapBnd:\t00000000a80425fb'
}

@test "--security-opt turns no_new_privs and the filter off; -v counts the filter's rules" {
	[ "$STEP" -ge 10 ] || skip "hardening arrives in step 10"
	run "$BIN" run --security-opt no-new-privileges=false --security-opt seccomp=unconfined "$ROOTFS" /bin/sh -c 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status'
	assert_success
	assert_output $'NoNewPrivs:\t0\nSeccomp:\t0'
	# without no_new_privs the filter still loads: before the capabilities go
	run "$BIN" run --security-opt no-new-privileges=false "$ROOTFS" /bin/sh -c 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status'
	assert_output $'NoNewPrivs:\t0\nSeccomp:\t2'
	run "$BIN" run -v "$ROOTFS" true
	assert_success
	assert_line --regexp "^$PROG: the filter: [0-9]+ calls allowed, [0-9]+ refused with EPERM, [0-9]+ answered ENOSYS$"
}

@test "the filter: bpf gets EPERM, clone3 ENOSYS, and with --cap-add SYS_ADMIN mount works again" {
	[ "$STEP" -ge 10 ] || skip "hardening arrives in step 10"
	run "$BIN" run "$ROOTFS" /bin/sh -c 'probe call bpf; probe mount-tmpfs /mnt x'
	assert_output $'EPERM\nEPERM'
	run "$BIN" run --cap-add SYS_ADMIN "$ROOTFS" /bin/sh -c 'probe call bpf; probe mount-tmpfs /mnt x'
	assert_output $'EINVAL\nok'
}

@test "--ulimit sets a limit; open files default to 1024:524288, or less" {
	local hard
	[ "$STEP" -ge 10 ] || skip "hardening arrives in step 10"
	# never above the runtime's own hard limit
	hard=$(ulimit -Hn)
	[ "$hard" = unlimited ] || [ "$hard" -gt 524288 ] && hard=524288
	run "$BIN" run "$ROOTFS" /bin/sh -c 'ulimit -Sn; ulimit -Hn'
	assert_success
	assert_output "$(printf '1024\n%s' "$hard")"
	run "$BIN" run --ulimit nofile=100:200 --ulimit nproc=50 "$ROOTFS" /bin/sh -c 'ulimit -Sn; ulimit -Hn; ulimit -u'
	assert_output $'100\n200\n50'
}


# --- step 11: containers in the background, exec, ps, logs, stop, kill, rm ---

@test "--help: step 11's commands and their options" {
	run "$BIN" --help
	assert_success
	if [ "$STEP" -lt 11 ]; then
		assert_line --regexp '^  -d, --detach +\(step 11\) run in the background: print the container.s id and return$'
		assert_line --regexp '^      --name NAME +\(step 11\) name the container, for exec, logs, stop, kill and rm$'
		assert_line "  and step 11 the commands ps, exec, logs, stop, kill and rm"
		refute_line --partial "container exec"
		return
	fi
	assert_line "       container ps [-a]"
	assert_line "       container exec [OPTIONS] CONTAINER COMMAND [ARG...]"
	assert_line "       container logs [-f] CONTAINER"
	assert_line "       container stop [-t SECONDS] CONTAINER..."
	assert_line "       container kill [-s SIGNAL] CONTAINER..."
	assert_line "       container rm [-f] CONTAINER..."
	assert_line --regexp '^  -d, --detach +run in the background: print the container.s id and return$'
	assert_line --regexp '^      --name NAME +name the container, for exec, logs, stop, kill and rm$'
	assert_line "Options of exec: -e, -w and -u, as run's.  Of the others:"
	assert_line --regexp '^  ps +-a, --all +list every container, not only the running ones$'
	assert_line --regexp '^  logs +-f, --follow +go on printing what the container writes, until it ends$'
	assert_line --regexp '^  stop +-t, --time SECONDS +how long SIGTERM has before SIGKILL \(default 10\)$'
	assert_line --regexp '^  kill +-s, --signal SIGNAL +the signal to send, a name or a number \(default KILL\)$'
	assert_line --regexp '^  rm +-f, --force +kill a running container first$'
	refute_line --partial "Later steps add:"
}

@test "before step 11, its commands and options say which step brings them" {
	local cmd n
	[ "$STEP" -lt 11 ] || skip "step $STEP has them"
	n=$(printf %02d "$STEP")
	for cmd in ps exec logs stop kill rm; do
		run "$BIN" "$cmd" x true
		assert_failure 125
		assert_output "$PROG: \"$cmd\" arrives in step 11 (step11-exec); this is step $n"
	done
	for opt in -d --detach; do
		run "$BIN" run "$opt" "$ROOTFS" true
		assert_failure 125
		assert_output "$PROG: --detach arrives in step 11 (step11-exec); this is step $n"
	done
	run "$BIN" run --name web "$ROOTFS" true
	assert_failure 125
	assert_output "$PROG: --name arrives in step 11 (step11-exec); this is step $n"
}

# need_step11: the tests below are of step 11's commands.
need_step11() {
	[ "$STEP" -ge 11 ] || skip "containers in the background arrive in step 11"
}

# The runtime's own words for a container that is not there.
no_container() {
	assert_failure 125
	assert_output "$PROG: no container \"$1\": 'container ps -a' lists them"
}

@test "exec, logs, stop, kill, rm: an unknown id or name is one line, status 125" {
	need_step11
	run "$BIN" exec deadbeef true
	no_container deadbeef
	run "$BIN" exec no-such-name /bin/sh
	no_container no-such-name
	run "$BIN" logs deadbeef
	no_container deadbeef
	run "$BIN" logs -f no-such-name
	no_container no-such-name
	run "$BIN" stop deadbeef
	no_container deadbeef
	run "$BIN" kill no-such-name
	no_container no-such-name
	run "$BIN" rm -f deadbeef
	no_container deadbeef
}

@test "exec and kill into a container that has exited are refused; rm removes it" {
	need_step11
	run_detached -- /bin/sh -c 'exit 3'
	run wait_exited "$CID"
	assert_output "exited (3)"
	run "$BIN" exec "$CID" true
	assert_failure 125
	assert_output "$PROG: container $CID is not running: it exited with status 3 ('container logs $CID' shows what it wrote)"
	run "$BIN" kill "$CID"
	assert_failure 125
	assert_output "$PROG: container $CID is not running: it exited with status 3 ('container logs $CID' shows what it wrote)"
	run "$BIN" rm "$CID"
	assert_success
	assert_output "$CID"
}

@test "--name: malformed or taken is refused, and the refused run leaves nothing" {
	local name=web-$$ records
	need_step11
	records=$(find "$(record_dir)" -mindepth 1 2>/dev/null | wc -l)
	run "$BIN" run -d --name "bad name" "$ROOTFS" true
	assert_failure 125
	assert_output "$PROG: --name \"bad name\": use 1 to 63 letters, digits, '_', '.' and '-', a letter or digit first"
	run "$BIN" run -d --name -web "$ROOTFS" true
	assert_failure 125
	assert_output "$PROG: --name \"-web\": use 1 to 63 letters, digits, '_', '.' and '-', a letter or digit first"
	run_detached --name "$name" -- sleep 60
	run "$BIN" run -d --name "$name" "$ROOTFS" sleep 60
	assert_failure 125
	assert_output "$PROG: the name \"$name\" is taken by another container: remove it (container rm $name) or choose another --name"
	# a run in the foreground has a record too, and takes no taken name
	run "$BIN" run --name "$name" "$ROOTFS" true
	assert_failure 125
	assert_output "$PROG: the name \"$name\" is taken by another container: remove it (container rm $name) or choose another --name"
	run "$BIN" ps -a
	assert_equal "$(grep -c " $name " <<<"$output")" 1
	# one more record and its log, the first run's
	assert_equal "$(find "$(record_dir)" -mindepth 1 | wc -l)" "$((records + 2))"
	run "$BIN" rm -f "$name"
	assert_success
	assert_output "$name"
}

@test "rm of a running container needs -f; ps -a then no longer lists it" {
	need_step11
	run_detached -- sleep 60
	run "$BIN" rm "$CID"
	assert_failure 125
	assert_output "$PROG: container $CID is running: stop it first (container stop $CID), or use rm -f"
	run "$BIN" ps
	assert_line --regexp "^$CID +- +$ROOTFS +sleep 60 +[0-9]+ s ago +running$"
	run "$BIN" rm -f "$CID"
	assert_success
	assert_output "$CID"
	run "$BIN" ps -a
	assert_output --regexp '^CONTAINER ID +NAME +IMAGE +COMMAND +CREATED +STATUS$'
}

@test "kill -s and stop -t: a bad signal or time is one line, status 125" {
	need_step11
	run "$BIN" kill -s NOPE deadbeef
	assert_failure 125
	assert_output --regexp "^$PROG: --signal \"NOPE\": not a signal: use a name like TERM, HUP or SIGUSR1, or a number from 1 to [0-9]+$"
	run "$BIN" kill -s 0 deadbeef
	assert_failure 125
	run "$BIN" stop -t soon deadbeef
	assert_failure 125
	assert_output "$PROG: --time \"soon\": use a whole number of seconds from 0 to 86400"
	run "$BIN" rm --name x deadbeef
	assert_failure 125
	assert_output "$PROG: --name is an option of \"run\", not of \"rm\""
}

@test "stop of a container that has ended is no error: its name, status 0" {
	local name=ended-$$
	need_step11
	run_detached --name "$name" -- true
	run wait_exited "$CID"
	assert_output "exited (0)"
	run "$BIN" stop "$name"
	assert_success
	assert_output "$name"
	run "$BIN" stop -t 0 "$CID" "$name"
	assert_success
	assert_output "$CID"$'\n'"$name"
	run "$BIN" rm "$name"
	assert_success
}

@test "run -d of a COMMAND that is not there: the id, then exited (127), and logs says why" {
	need_step11
	run_detached -- /bin/no-such-command
	run wait_exited "$CID"
	assert_output "exited (127)"
	run container_logs "$CID"
	assert_success
	assert_output "$PROG: cannot run \"/bin/no-such-command\", which is not in ROOTFS \"$ROOTFS\": execvp(c->argv[0], c->argv) failed: ENOENT (No such file or directory); hint: paths are looked up inside the container, not on the host"
	run "$BIN" rm "$CID"
	assert_success
}

@test "run -d whose monitor fails before the start: its error, status 125, nothing left" {
	need_step11
	BOXLAB_STATE_DIR=/proc/nope run "$BIN" run -d "$ROOTFS" true
	assert_failure 125
	# one line, the monitor's own
	assert_equal "${#lines[@]}" 1
	assert_output --regexp "^$PROG: cannot make the home of the state dirs, /proc/nope: make_dirs\(root, 0711\) failed: ENOENT \(No such file or directory\)"
	run "$BIN" ps -a
	assert_output --regexp '^CONTAINER ID +NAME +IMAGE +COMMAND +CREATED +STATUS$'
	# teardown: no record, no log, no cgroup, no state dir
}

@test "exec: the command's status, -e, -u, -w, and PID 1's environment" {
	need_step11
	run_detached -e FROM_RUN=yes -w /tmp -- sleep 60
	run "$BIN" exec "$CID" /bin/sh -c 'exit 7'
	assert_failure 7
	run "$BIN" exec "$CID" /bin/sh -c 'kill -TERM $$'
	assert_failure 143
	run "$BIN" exec -e K=V "$CID" /bin/sh -c 'echo "$K $FROM_RUN $PWD"'
	assert_success
	assert_output "V yes /tmp"
	run "$BIN" exec -u nobody -w / "$CID" /bin/sh -c 'echo "$(id -u) $(id -un) $PWD"'
	assert_output "65534 nobody /"
	run "$BIN" exec -u 1000 "$CID" id -u
	assert_output 1000
	capture "$BIN" exec "$CID" /bin/no-such-command
	assert_failure 127
	run "$BIN" exec -u nosuch "$CID" true
	assert_failure 125
	assert_output "$PROG: cannot run as user \"nosuch\" of $ROOTFS: unable to find user nosuch: no matching entries in passwd file"
	run "$BIN" rm -f "$CID"
	assert_success
}

@test "exec through a terminal is interactive" {
	need_step11
	run_detached -- sleep 60
	run bash -c 'printf "%s\n" "echo \$((6 * 7))" "test -t 0 && test -t 1 && echo on a terminal" "exit 3" |
		script -qec "$0 exec $1 /bin/sh" /dev/null' "$BIN" "$CID"
	# the terminal ends its lines with \r\n
	output=${output//$'\r'/}
	mapfile -t lines <<<"$output"
	assert_failure 3
	assert_line 42
	assert_line "on a terminal"
	run "$BIN" rm -f "$CID"
	assert_success
}

@test "kill -s TERM reaches a PID 1 that traps it" {
	need_step11
	run_detached -- /bin/sh -c 'trap "echo got TERM; exit 3" TERM; echo ready; while :; do sleep 0.1; done'
	wait_for_line ready "$(record_dir)/$CID.log"
	run "$BIN" kill -s TERM "$CID"
	assert_success
	assert_output "$CID"
	run wait_exited "$CID"
	assert_output "exited (3)"
	run container_logs "$CID"
	assert_output $'ready\ngot TERM'
	run "$BIN" rm "$CID"
	assert_success
}

@test "logs -f follows the container until it ends" {
	need_step11
	run_detached -- /bin/sh -c 'echo one; sleep 1; echo two; exit 4'
	run container_logs -f "$CID"
	assert_success
	assert_output $'one\ntwo'
	run "$BIN" ps -a
	assert_line --regexp "^$CID .* exited \(4\)$"
	run "$BIN" rm "$CID"
	assert_success
}
