#!/usr/bin/env bats
# The check matrix: one test per isolation property, run against one step
# (STEP=N).  Each property holds from the step that brings its feature on
# and must NOT hold before it: `holds_from N check_x` asserts both ways.
# A check prints what it saw, so a failure shows the evidence.

load ../lib/common
load ../lib/image

setup() {
	load_libs
	remember_host_state
	# From step 10 container root keeps only docker's capabilities.  A
	# check of what a namespace isolates gives it CAP_SYS_ADMIN back
	# ("${ADMIN[@]}"), so that it tests the namespace, not the capability.
	ADMIN=()
	[ "$STEP" -lt 10 ] || ADMIN=(--cap-add SYS_ADMIN)
}

teardown() {
	local status=0
	# Step 11: a check removes what it started with run -d, even when it
	# fails; whatever one did not is removed here, and fails the test.
	remove_left_containers || status=1
	assert_nothing_left
	return "$status"
}

# holds_from FIRST CHECK: CHECK must succeed from step FIRST on and fail
# before it.
holds_from() {
	local first=$1
	shift
	run "$@"
	if [ "$STEP" -ge "$first" ]; then
		[ "$status" -eq 0 ] || fail "step $STEP should have this property (from step $first on), but: $output"
	else
		[ "$status" -ne 0 ] || fail "step $STEP should not have this property yet (it arrives in step $first), but: $output"
	fi
}

# --- the checks: each returns 0 when the property holds ---

# probe_answers WHAT EXPECTED ARGS...: ask the probe inside a container,
# say what it answered, and hold if that is EXPECTED.
probe_answers() {
	local what=$1 expected=$2 seen
	shift 2
	seen=$(container -- probe "$@")
	echo "$what: $seen"
	[ "$seen" = "$expected" ]
}

check_own_root() {
	local seen
	seen=$(container -- probe stat /etc/boxlab-rootfs)
	echo "inside, /etc/boxlab-rootfs: $seen; on the host: $([ -e /etc/boxlab-rootfs ] && echo file || echo none)"
	[ "$seen" = file ] && [ ! -e /etc/boxlab-rootfs ]
}

check_no_escape() {
	local marker=$TEST_TMP/escape-marker seen
	echo "host secret $RANDOM" >"$marker"
	seen=$(container -- probe escape "$marker")
	echo "a chroot escape read: $seen"
	[ "$seen" != "$(cat "$marker")" ]
}

check_pid1() {
	probe_answers "the command's pid inside" 1 pid
}

check_nothing_outlives() {
	local left pid
	container -- probe orphan >/dev/null
	# Anything still running with the rootfs as its root outlived it.
	left=$(host_state | sed -n 's/^process in the rootfs: \([0-9]*\).*/\1/p')
	for pid in $left; do kill -KILL "$pid"; done
	echo "processes left running after the container ended: ${left:-none}"
	[ -z "$left" ]
}

check_host_pids_unreachable() {
	probe_answers "kill(host pid $$, 0) from inside" ESRCH kill0 $$
}

check_proc_shows_container() {
	probe_answers "/proc inside lists" 1 pids
}

check_hostname_change_stays_inside() {
	local host_before host_after
	# Run in a throwaway UTS namespace of the test's own, so that a step
	# without one renames only that, never the real host.
	host_before=$(hostname)
	host_after=$(unshare --uts bash -c 'container "$@" -- probe sethostname boxlab-probe >/dev/null; hostname' \
		bash "${ADMIN[@]}")
	echo "the host's name before: $host_before, after the container renamed itself: $host_after"
	[ "$host_after" = "$host_before" ]
}

check_own_hostname() {
	local inside
	inside=$(container -- probe hostname)
	echo "host name inside: $inside; on the host: $(hostname)"
	[ "$inside" != "$(hostname)" ]
}

check_host_ipc_invisible() {
	local key seen
	key=$(printf '0x%08x' $(( (RANDOM << 15 | RANDOM) + 0x10000000 )))
	"$TOP/build/probe" msgq make "$key" >/dev/null
	seen=$(container -- probe msgq get "$key")
	"$TOP/build/probe" msgq rm "$key" >/dev/null
	echo "the host's message queue $key, looked up inside: $seen (ok: it was found; ENOENT: it was not)"
	[ "$seen" = ENOENT ]
}

check_boot_time_reset() {
	local inside host
	inside=$(container -- probe boottime)
	host=$("$TOP/build/probe" boottime)
	echo "seconds since boot inside: $inside; on the host: $host"
	[ "$inside" -lt 5 ] && [ "$host" -ge 5 ]
}

check_mounts_stay_inside() {
	local name=boxlab-probe-$RANDOM seen leaked
	seen=$(container "${ADMIN[@]}" -- probe mount-tmpfs /mnt "$name")
	leaked=$(awk -v n="$name" '$0 ~ n { print $5 }' /proc/self/mountinfo)
	# A step without a mount namespace leaves it on the host: take it away.
	[ -z "$leaked" ] || umount "$leaked"
	echo "mount inside: $seen; seen on the host at: ${leaked:-nowhere}"
	[ "$seen" = ok ] && [ -z "$leaked" ]
}

check_dev_null() {
	probe_answers "/dev/null inside" "char 1:3" stat /dev/null
}

check_proc_sys_read_only() {
	local seen
	seen=$(container -- probe open-write /proc/sys/kernel/hostname)
	echo "opening /proc/sys/kernel/hostname for writing: $seen"
	[ "$seen" = EROFS ] || [ "$seen" = EACCES ]
}

check_root_is_nobody_outside() {
	local inside outside
	start_container -- /bin/sh -c 'id -u; echo ready; exec sleep 30'
	# Its first number: the runtime may have said something before it.
	inside=$(grep -m 1 -xE '[0-9]+' "$TEST_TMP/background.out")
	outside=$(awk '/^Uid:/ { print $3 }' "/proc/$CHILD_PID/status")
	kill_container
	echo "the container's uid inside: $inside; the same process's uid on the host: $outside"
	[ "$inside" = 0 ] && [ "$outside" != 0 ]
}

check_files_belong_to_mapped_id() {
	local owner
	start_container -- /bin/sh -c 'echo made inside >/tmp/made-inside; echo ready; exec sleep 30'
	owner=$(stat -c %u "/proc/$CHILD_PID/root/tmp/made-inside")
	kill_container
	# Before step 04 the container's /tmp is the rootfs's own.
	rm -f "$ROOTFS/tmp/made-inside"
	echo "a file the container's root made in /tmp belongs on the host to uid $owner"
	[ "$owner" != 0 ]
}

check_mknod_refused() {
	probe_answers "mknod of /dev/null's device (1:3) in /tmp" EPERM mknod /tmp/probe-null
}

check_loopback_works() {
	probe_answers "a connection to 127.0.0.1 inside" ok loopback
}

check_host_interfaces_invisible() {
	echo "interfaces on the host: $("$TOP/build/probe" ifaces)"
	probe_answers "interfaces inside" lo ifaces
}

check_host_loopback_unreachable() {
	local port=$((20000 + RANDOM % 20000)) listener seen
	"$TOP/build/probe" listen 127.0.0.1 "$port" >"$TEST_TMP/listener" &
	listener=$!
	wait_for_line ready "$TEST_TMP/listener" "$listener"
	seen=$(container -- probe connect 127.0.0.1 "$port")
	kill "$listener" 2>/dev/null || true
	wait "$listener" || true
	echo "connecting from inside to a server on the host's 127.0.0.1:$port: $seen"
	[ "$seen" = ECONNREFUSED ]
}

check_host_reaches_container() {
	local port=$((20000 + RANDOM % 20000)) addr seen
	start_container --net veth -- probe serve "$port" || return 1
	addr=$(sed -n 's/^ready //p' "$TEST_TMP/background.out")
	seen=$("$TOP/build/probe" connect "$addr" "$port")
	wait "$RUNTIME_PID" || true
	echo "from the host to the container's $addr:$port: $seen"
	[ "$seen" = ok ]
}

# connect_to_host_end PORT: a container that connects to its host end's
# PORT (probe connect-gateway, which tries for 5 s) and writes how it went
# to $TEST_TMP/container.out, among the runtime's narration.  Sets
# RUNTIME_PID, LINK (the host end) and ADDR (the host end's address).
connect_to_host_end() {
	local out=$TEST_TMP/container.out
	runtime run -v --net veth "$ROOTFS" probe connect-gateway "$1" >"$out" 2>&1 &
	RUNTIME_PID=$!
	wait_for_line ".*make a veth pair: bx[0-9a-f]+ on the host.*" "$out" "$RUNTIME_PID" || { wait "$RUNTIME_PID"; return 1; }
	LINK=$(sed -n 's/.*make a veth pair: \(bx[0-9a-f]*\) on the host.*/\1/p' "$out")
	for _ in $(seq 50); do
		ADDR=$(ip -o -4 addr show dev "$LINK" 2>/dev/null | awk '{ sub("/.*", "", $4); print $4 }')
		[ -n "$ADDR" ] && break
		sleep 0.1
	done
}

check_container_reaches_host_end() {
	local port=$((20000 + RANDOM % 20000)) seen said
	connect_to_host_end "$port" || return 1
	seen=$("$TOP/build/probe" listen "$ADDR" "$port")
	wait "$RUNTIME_PID" || true
	said=$(grep -xE 'ok|E[A-Z0-9]+' "$TEST_TMP/container.out" | tail -n 1)
	echo "a listener on the host end $LINK ($ADDR:$port) heard: $(echo $seen); the container said: ${said:-nothing}"
	[ "$said" = ok ]
}

# The container closes its connection and ends at once; the host keeps
# its side open until the runtime has gone.  Expecting an answer, the
# host's kernel waits a little before it acknowledges the container's FIN,
# and until that ACK arrives the container's socket holds its network
# namespace, and so the veth.  The ACK must still find its way in after
# the runtime's tear-down, and the veth go as soon as it has.
check_closing_connection_leaves_no_veth() {
	local port=$((20000 + RANDOM % 20000)) held waited=0
	connect_to_host_end "$port" || return 1
	held=$("$TOP/build/probe" hold "$ADDR" "$port" "$RUNTIME_PID")
	wait "$RUNTIME_PID" || true
	while ip link show dev "$LINK" >/dev/null 2>&1 && [ $waited -lt 300 ]; do
		sleep 0.1
		waited=$((waited + 1))
	done
	if ip link show dev "$LINK" >/dev/null 2>&1; then
		echo "the host end $LINK is still there 30 s after the runtime ended (the host's side: $held)"
		return 1
	fi
	echo "the host kept its side open until the runtime had ended ($held); then $LINK was gone within $((waited / 10 + 1)) s"
}

check_dies_with_runtime() {
	local left
	start_container -- /bin/sh -c 'echo ready; exec sleep 30' || return 1
	kill -KILL "$RUNTIME_PID"
	wait "$RUNTIME_PID" 2>/dev/null || true
	sleep 0.2
	left=$(host_state | sed -n 's/^process in the rootfs: \([0-9]*\).*/\1/p')
	# Before step 06 the orphan lives on, and before step 04 so does the
	# /proc its dead runtime mounted: take both away.
	for pid in $left; do kill -KILL "$pid"; done
	umount "$ROOTFS/proc" 2>/dev/null || true
	# From step 07 on the next run removes its cgroup and state file.
	container -- /bin/true >/dev/null 2>&1 || true
	echo "after the runtime was killed, still running in the container: ${left:-nothing}"
	[ -z "$left" ]
}

check_next_run_cleans_up() {
	local id
	start_container -- /bin/sh -c 'echo ready; exec sleep 30' || return 1
	id=$(running_cgroup_id)
	kill -KILL "$RUNTIME_PID"
	wait "$RUNTIME_PID" 2>/dev/null || true
	[ -z "$CHILD_PID" ] || kill -KILL "$CHILD_PID" 2>/dev/null || true
	umount "$ROOTFS/proc" 2>/dev/null || true
	capture container -- /bin/true
	echo "killed the runtime of the container ${id:-(no cgroup)}; the next run said: ${output:-nothing}"
	[ -n "$id" ] && [[ $output == *"removed what container $id left behind"*"cgroup"* ]]
}

# --- the matrix rows, in the order the steps bring them ---

@test "own root filesystem (from step 01)" {
	holds_from 1 check_own_root
}

@test "loopback works inside (from step 01)" {
	holds_from 1 check_loopback_works
}

@test "the command is PID 1 (from step 02)" {
	holds_from 2 check_pid1
}

@test "no process outlives the container (from step 02)" {
	holds_from 2 check_nothing_outlives
}

@test "host processes cannot be signalled (from step 02)" {
	holds_from 2 check_host_pids_unreachable
}

@test "/proc shows only the container (from step 02)" {
	holds_from 2 check_proc_shows_container
}

@test "a host name of its own (from step 03)" {
	holds_from 3 check_own_hostname
}

@test "renaming the container leaves the host's name (from step 03)" {
	holds_from 3 check_hostname_change_stays_inside
}

@test "host SysV IPC objects invisible (from step 03)" {
	holds_from 3 check_host_ipc_invisible
}

@test "boot time starts near zero (from step 03)" {
	holds_from 3 check_boot_time_reset
}

@test "mounts made inside stay inside (from step 04)" {
	holds_from 4 check_mounts_stay_inside
}

@test "chroot escape finds no host (from step 04)" {
	holds_from 4 check_no_escape
}

@test "/dev/null is a character device (from step 04)" {
	holds_from 4 check_dev_null
}

@test "/proc/sys is read-only (from step 04)" {
	holds_from 4 check_proc_sys_read_only
}

@test "root inside is an unprivileged uid outside (from step 05)" {
	holds_from 5 check_root_is_nobody_outside
}

@test "files made inside belong to the mapped uid (from step 05)" {
	holds_from 5 check_files_belong_to_mapped_id
}

@test "mknod of a device is refused (from step 05)" {
	holds_from 5 check_mknod_refused
}

@test "a killed runtime takes its container along (from step 06)" {
	holds_from 6 check_dies_with_runtime
}

@test "host interfaces invisible (from step 06)" {
	holds_from 6 check_host_interfaces_invisible
}

@test "the host's 127.0.0.1 is out of reach (from step 06)" {
	holds_from 6 check_host_loopback_unreachable
}

check_oom_kill_reported() {
	local under
	under=$(container --memory 32M -- probe alloc 16 2>&1)
	capture container --memory 32M -- probe alloc 64
	echo "16 MiB under --memory 32M: $under; 64 MiB: exit status $status, and the runtime said: $output"
	[ "$under" = "allocated 16 MiB" ] && [ "$status" -eq 137 ] &&
		[[ $output == *"killed by the OOM killer (memory limit 32M)"* ]]
}

# end_background: stop the container start_container began, and wait.
end_background() {
	kill -TERM "$RUNTIME_PID" 2>/dev/null || true
	wait "$RUNTIME_PID" || true
}

check_cpu_share() {
	local id before after share
	start_container --cpus 0.5 -- probe burn 2 || return 1
	id=$(running_cgroup_id) || { end_background; echo "the container has no cgroup on the host"; return 1; }
	before=$(cgroup_cpu_usec "$id")
	wait_for_line "done" "$TEST_TMP/background.out" "$RUNTIME_PID" || { end_background; return 1; }
	after=$(cgroup_cpu_usec "$id")
	end_background
	# usec over 2 s, as a percentage of one CPU
	share=$(((after - before) / 20000))
	echo "spinning for 2 s under --cpus 0.5, the cgroup boxlab/$id used ${share}% of one CPU"
	[ "$share" -ge 35 ] && [ "$share" -le 65 ]
}

check_pids_limit() {
	local seen host
	start_container --pids-limit 32 -- probe forks 64 || return 1
	seen=$(grep -m 1 -E '^[0-9]+ ' "$TEST_TMP/background.out")
	# With the container at its limit, the host still forks.
	host=$(bash -c 'true & wait $! && echo ok')
	end_background
	echo "forking 64 under --pids-limit 32: \"$seen\" (processes, then what fork() said); the host forks meanwhile: $host"
	[ "$seen" = "32 EAGAIN" ] && [ "$host" = ok ]
}

check_cgroup_namespace() {
	local inside id
	start_container -- probe cgroup || return 1
	inside=$(grep -m 1 ':' "$TEST_TMP/background.out")
	id=$(running_cgroup_id)
	end_background
	echo "inside, /proc/self/cgroup: $inside; on the host the container is in: ${id:+boxlab/$id}${id:-no cgroup of its own}"
	# Every hierarchy's line ends at the root: "N:CONTROLLERS:/".
	[ -n "$id" ] && [ -n "$inside" ] && ! tr ' ' '\n' <<<"$inside" | grep -v '^$' | grep -qv ':/$'
}

# The limit is 48M, in bytes; any refusal of the write will do (the files
# are host root's, and the mount is read-only); "groups 0": the tree's
# root is the container's own group, with none of the host's below it.
check_own_cgroup_fs() {
	local seen
	seen=$(container --memory 48M -- probe cgroup-limit)
	echo "inside, /sys/fs/cgroup under --memory 48M: ${seen:-nothing}"
	[[ $seen =~ ^limit\ 50331648\ write\ E[A-Z]+\ groups\ 0$ ]]
}

check_cgroup_removed() {
	local id left
	start_container -- probe cgroup || return 1
	id=$(running_cgroup_id)
	end_background
	left=$(container_cgroups | grep "/$id\$")
	echo "the container's cgroup while it ran: ${id:+boxlab/$id}${id:-none}; after it ended: ${left:-gone}"
	[ -n "$id" ] && [ -z "$left" ]
}

# A checksum of the image: every path, its type, mode, owner and size,
# and every file's contents.
image_sum() {
	(cd "$ROOTFS" && find . -xdev -printf '%p %y %m %U %G %s\n' | sort &&
		find . -xdev -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c 1-16
}

# A file of the image that a container's root may delete at every step.
make_victim() {
	echo "part of the image" >"$ROOTFS/scratch/victim"
	chown --reference="$ROOTFS" "$ROOTFS/scratch/victim"
}

check_image_untouched() {
	local before after
	make_victim
	before=$(image_sum)
	container -- /bin/sh -c 'echo new >/scratch/new; echo more >>/etc/passwd; rm /scratch/victim' >/dev/null 2>&1
	after=$(image_sum)
	# Before step 08 the container wrote into the image itself: undo that.
	rm -f "$ROOTFS/scratch/new" "$ROOTFS/scratch/victim"
	sed -i '/^more$/d' "$ROOTFS/etc/passwd"
	echo "the image's checksum before a container wrote, appended and deleted: $before; after: $after"
	[ "$before" = "$after" ]
}

check_writes_stay_private() {
	local mark=mark-$RANDOM seen
	start_container -- /bin/sh -c "echo A >/scratch/$mark && echo ready; exec sleep 30" || return 1
	seen=$(container -- probe stat "/scratch/$mark")
	kill_container
	rm -f "$ROOTFS/scratch/$mark"
	echo "one container wrote /scratch/$mark; another, running meanwhile, sees: $seen"
	grep -qx ready "$TEST_TMP/background.out" && [ "$seen" = ENOENT ]
}

check_whiteout_kept() {
	local state kind
	make_victim
	capture container --keep -- rm /scratch/victim
	rm -f "$ROOTFS/scratch/victim"
	state=$(sed -n 's/.*kept the state dir \([^:]*\):.*/\1/p' <<<"$output")
	kind=$(stat -c '%F %t,%T' "$state/upper/scratch/victim" 2>&1)
	[ -z "$state" ] || rm -rf "$state"
	echo "the container deleted /scratch/victim; the runtime said: $output; in the kept upper dir it is: $kind"
	[ -n "$state" ] && [ "$kind" = "character special file 0,0" ]
}

check_layers_stack() {
	local seen
	chmod 0755 "$TEST_TMP"	# container root must reach the layers
	mkdir -p "$TEST_TMP/one" "$TEST_TMP/two"
	echo "from one" >"$TEST_TMP/one/layered"
	echo "only in one" >"$TEST_TMP/one/lower"
	echo "from two" >"$TEST_TMP/two/layered"
	seen=$(container --layer "$TEST_TMP/one" --layer "$TEST_TMP/two" -- /bin/cat /layered /lower 2>&1 | tr '\n' ' ')
	echo "with --layer one --layer two, /layered and /lower read: $seen"
	[ "$seen" = "from two only in one " ]
}

check_state_dir_removed() {
	local during after
	start_container -- probe cgroup || return 1
	during=$(state_dirs)
	end_background
	after=$(state_dirs)
	echo "the container's state dir while it ran: ${during:-none}; after: ${after:-gone}"
	[ -n "$during" ] && [ -z "$after" ]
}

# The test image (tests/lib/mkimage.sh): three layers, the second a
# whiteout of /etc/gone, the third an opaque /opt/dir holding only c; its
# config runs `echo $GREETING from $(id -un) in $PWD` as user app in
# /home/app.  Before step 09 a step cannot import it: the checks fail
# there with the step's own words.
IMAGE=localhost/busybox-oci:latest

# image_store: a store of the test's own, holding the test image.
image_store() {
	export BOXLAB_STORE_DIR=$TEST_TMP/store
	mkdir -p "$BOXLAB_STORE_DIR"
	if [ "${ROOTLESS:-}" = 1 ]; then
		chmod 0755 "$TEST_TMP"
		chown "$ROOTLESS_UID:$ROOTLESS_UID" "$BOXLAB_STORE_DIR"
	fi
	runtime image import "$(test_image)" >"$TEST_TMP/import.out" 2>&1 ||
		{ echo "cannot import the test image: $(cat "$TEST_TMP/import.out")"; return 1; }
}

# in_image COMMAND: run COMMAND (a shell line) in the test image as root.
in_image() {
	runtime run -u 0 "$IMAGE" -c "$1" 2>&1
}

check_image_config() {
	local seen expected="hello from app in /home/app" opts=()
	image_store || return 1
	# Rootless, only root is mapped: the image's user cannot be taken.
	if [ "${ROOTLESS:-}" = 1 ]; then
		opts=(-u 0)
		expected="hello from root in /home/app"
	fi
	seen=$(runtime run "${opts[@]}" "$IMAGE" 2>&1)
	echo "the image's own command printed: $seen"
	[ "$seen" = "$expected" ]
}

check_image_whiteout() {
	local seen
	image_store || return 1
	seen=$(in_image 'ls -a /etc | tr "\n" " "')
	echo "/etc of the image, whose layer 2 whites out gone: $seen"
	[[ " $seen " == *" passwd "* ]] && [[ " $seen " != *" gone "* ]] && [[ " $seen " != *".wh."* ]]
}

check_image_opaque() {
	local seen
	image_store || return 1
	seen=$(in_image 'ls -a /opt/dir | tr "\n" " "')
	echo "/opt/dir, a b in layer 1, opaque with c in layer 3: $seen"
	[ "$seen" = ". .. c " ]
}

check_image_layers_shared() {
	local names layers
	image_store || return 1
	oci_archive "$TEST_TMP/busybox.tar"
	runtime image import "$TEST_TMP/busybox.tar" >/dev/null 2>&1 || return 1
	names=$(runtime images | tail -n +2 | wc -l)
	layers=$(find "$BOXLAB_STORE_DIR/layers/sha256" -mindepth 1 -maxdepth 1 | wc -l)
	echo "images imported: $names, layers in the store: $layers (the image has 3)"
	[ "$names" = 2 ] && [ "$layers" = 3 ]
}

check_image_store_untouched() {
	local before after
	image_store || return 1
	before=$(store_listing "$BOXLAB_STORE_DIR")
	in_image 'echo new >/etc/new; echo more >>/etc/passwd; rm /bin/busybox.* /etc/hardlink-to-a 2>/dev/null; rm -r /opt/dir; chmod 700 /home/app' >/dev/null
	after=$(store_listing "$BOXLAB_STORE_DIR")
	echo "the store after a container wrote, appended, deleted and chmodded: $([ "$before" = "$after" ] && echo unchanged || diff <(echo "$before") <(echo "$after"))"
	[ -n "$before" ] && [ "$before" = "$after" ]
}

check_image_owners() {
	local seen expected="0:0 /bin/busybox 1000:1000 /home/app "
	image_store || return 1
	# Rootless, every file of the store is the user's, who is root inside.
	[ "${ROOTLESS:-}" = 1 ] && expected="0:0 /bin/busybox 0:0 /home/app "
	seen=$(in_image 'stat -c "%u:%g %n" /bin/busybox /home/app | tr "\n" " "')
	echo "owners inside: $seen"
	[ "$seen" = "$expected" ]
}

# Rootless runs skip these: the host end of a veth needs root, by design.
skip_veth_if_rootless() {
	[ "${ROOTLESS:-}" != 1 ] || skip "rootless: --net veth needs root on the host (a host interface)"
}

@test "--net veth: the host reaches the container (from step 06)" {
	skip_veth_if_rootless
	holds_from 6 check_host_reaches_container
}

@test "--net veth: the container reaches the host end (from step 06)" {
	skip_veth_if_rootless
	holds_from 6 check_container_reaches_host_end
}

@test "--net veth: a closing connection leaves no veth (from step 06)" {
	skip_veth_if_rootless
	holds_from 6 check_closing_connection_leaves_no_veth
}

# Rootless runs skip these: a cgroup of its own needs root or a delegated
# subtree, and the test machines have none for nobody.
skip_cgroup_if_rootless() {
	[ "${ROOTLESS:-}" != 1 ] || skip "rootless: no cgroup is delegated to nobody here"
}

@test "the next run cleans up after a killed runtime (from step 07)" {
	skip_cgroup_if_rootless
	holds_from 7 check_next_run_cleans_up
}

@test "a memory hog is OOM-killed, and reported (from step 07)" {
	skip_cgroup_if_rootless
	holds_from 7 check_oom_kill_reported
}

@test "--cpus 0.5 gets 35-65% of a CPU (from step 07)" {
	skip_cgroup_if_rootless
	holds_from 7 check_cpu_share
}

@test "--pids-limit 32 stops fork at 32 (from step 07)" {
	skip_cgroup_if_rootless
	holds_from 7 check_pids_limit
}

@test "/proc/self/cgroup shows its cgroup as / (from step 07)" {
	skip_cgroup_if_rootless
	holds_from 7 check_cgroup_namespace
}

@test "/sys/fs/cgroup shows its limit, read-only (from step 07)" {
	skip_cgroup_if_rootless
	holds_from 7 check_own_cgroup_fs
}

@test "its cgroup is gone when it ends (from step 07)" {
	skip_cgroup_if_rootless
	holds_from 7 check_cgroup_removed
}

@test "writes and deletes leave the image as it was (from step 08)" {
	holds_from 8 check_image_untouched
}

@test "two containers' writes stay apart (from step 08)" {
	holds_from 8 check_writes_stay_private
}

@test "--keep: a deleted file is a whiteout in upper (from step 08)" {
	holds_from 8 check_whiteout_kept
}

@test "--layer dirs stack in the order given (from step 08)" {
	holds_from 8 check_layers_stack
}

@test "its state dir is gone when it ends (from step 08)" {
	holds_from 8 check_state_dir_removed
}

@test "an image runs its Cmd, Env, WorkingDir, User (from step 09)" {
	holds_from 9 check_image_config
}

@test "an image's whiteout hides a lower layer's file (from step 09)" {
	holds_from 9 check_image_whiteout
}

@test "an opaque directory hides the lower entries (from step 09)" {
	holds_from 9 check_image_opaque
}

@test "two images that share layers store them once (from step 09)" {
	holds_from 9 check_image_layers_shared
}

@test "the store stays as it was after a run writes (from step 09)" {
	holds_from 9 check_image_store_untouched
}

@test "an image's files keep their owners inside (from step 09)" {
	holds_from 9 check_image_owners
}

# --- step 10: root inside keeps only what it needs ---

# docker's 14 capabilities, as /proc/PID/status prints a set
DEFAULT_CAPS=00000000a80425fb

# caps_of STATUS-FILE: its CapEff and CapBnd, "EFF BND".
caps_of() {
	awk '/^CapEff:/ { e = $2 } /^CapBnd:/ { b = $2 } END { print e, b }' "$1"
}

check_default_capabilities() {
	local inside outside
	start_container -- /bin/sh -c 'grep -E "^Cap(Eff|Bnd):" /proc/self/status; echo ready; exec sleep 30' ||
		return 1
	inside=$(caps_of "$TEST_TMP/background.out")
	outside=$(caps_of "/proc/$CHILD_PID/status")
	kill_container
	echo "CapEff and CapBnd inside: $inside; of the container's PID 1, read on the host: $outside"
	[ "$inside" = "$DEFAULT_CAPS $DEFAULT_CAPS" ] && [ "$outside" = "$DEFAULT_CAPS $DEFAULT_CAPS" ]
}

# /proc/sys was bound read-only, and /proc/keys masked, by container root
# itself (step 04): with CAP_SYS_ADMIN it can undo both.  Root tries,
# then says what its mount table holds: /proc/sys's options, and whether
# anything is mounted on /proc/keys.
check_proc_stays_protected() {
	local seen
	seen=$(container -- /bin/sh -c 'mount -o remount,bind,rw /proc/sys 2>/dev/null; umount /proc/keys 2>/dev/null
		awk '\''$5 == "/proc/sys" { split($6, o, ","); sys = o[1] } $5 == "/proc/keys" { keys = "masked" }
			END { print "/proc/sys " (sys ? sys : "not a mount") ", /proc/keys " (keys ? keys : "shown") }'\'' /proc/self/mountinfo')
	echo "after container root tried to undo them: $seen"
	[ "$seen" = "/proc/sys ro, /proc/keys masked" ]
}

# euid is setuid-root in the tests' rootfs; user 1000 runs it.
check_setuid_gains_nothing() {
	local seen
	seen=$(container -- probe as 1000 /usr/bin/euid)
	echo "user 1000 ran a setuid-root program, whose effective uid was: $seen"
	[ "$seen" = 1000 ]
}

check_no_new_privs_and_seccomp() {
	local seen
	seen=$(container -- /bin/sh -c 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status' | tr -s '\t\n' '  ')
	echo "in /proc/self/status: $seen"
	[ "$seen" = "NoNewPrivs: 1 Seccomp: 2 " ]
}

check_kernel_keyrings_and_io_uring_refused() {
	local seen
	seen=$(container -- /bin/sh -c 'probe call keyctl; probe call io_uring_setup' | tr '\n' ' ')
	echo "keyctl, io_uring_setup: $seen"
	[ "$seen" = "EPERM EPERM " ]
}

# Refused by the filter: before step 04 the kernel refuses it too, to
# a process in a chroot, but with no filter in sight.
check_nested_user_namespace_refused() {
	local seen
	seen=$(container -- /bin/sh -c 'probe call userns; grep "^Seccomp:" /proc/self/status || echo "no /proc"' | tr -s '\t\n' '  ')
	echo "a new user namespace inside, and the filter: $seen"
	[ "$seen" = "EPERM Seccomp: 2 " ]
}

# An obsolete call the filter does not name: the kernel has it (EINVAL
# for device 0), the filter answers as a kernel without it would.
check_unknown_call_enosys() {
	probe_answers "ustat(0) inside" ENOSYS call ustat
}

@test "CapEff and CapBnd are docker's 14 (from step 10)" {
	holds_from 10 check_default_capabilities
}

@test "root cannot undo the /proc protections (from step 10)" {
	holds_from 10 check_proc_stays_protected
}

@test "a setuid-root program gains nothing (from step 10)" {
	[ "${ROOTLESS:-}" != 1 ] || skip "rootless: only root is mapped inside, there is no other user to start from"
	holds_from 10 check_setuid_gains_nothing
}

@test "NoNewPrivs is 1 and Seccomp 2 (from step 10)" {
	holds_from 10 check_no_new_privs_and_seccomp
}

@test "keyctl and io_uring_setup get EPERM (from step 10)" {
	holds_from 10 check_kernel_keyrings_and_io_uring_refused
}

@test "a nested user namespace: the filter says EPERM (from step 10)" {
	holds_from 10 check_nested_user_namespace_refused
}

@test "an obsolete call (ustat) gets ENOSYS (from step 10)" {
	[ "$(uname -m)" = x86_64 ] || skip "ustat(2), the call this check makes, is x86_64's"
	holds_from 10 check_unknown_call_enosys
}


# --- step 11: containers in the background, and exec ---
#
# Every check starts its container with run -d (before step 11 the
# runtime refuses that, and the check fails with its words), reads what
# it needs from the host's /proc, and removes the container with rm -f
# before it judges, so that nothing is left whatever it saw.

# remove_detached: rm -f the check's container, and wait for the exec
# runtime started in the background, if any.
remove_detached() {
	runtime rm -f "$CID" >/dev/null 2>&1 3>&-
	[ -z "${EXEC_PID:-}" ] || wait "$EXEC_PID" 2>/dev/null || true
}

NAMESPACES=(user mnt pid uts ipc net cgroup time)

# An exec'd process, found on the host as the exec runtime's child,
# against the container's PID 1, whose host pid is in its record.
check_exec_joins_namespaces() {
	local pid1 ns a b host seen="" differ="" same_root=no
	run_detached -- sleep 60 || return 1
	pid1=$(record_pid "$CID")
	if exec_background sleep 60; then
		for ns in "${NAMESPACES[@]}"; do
			a=$(readlink "/proc/$pid1/ns/$ns")
			b=$(readlink "/proc/$EXEC_CHILD/ns/$ns")
			host=$(readlink "/proc/self/ns/$ns")
			seen+="$ns ${a//[^0-9]/}/${b//[^0-9]/}, "
			[ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" != "$host" ] || differ+=" $ns"
		done
		[ "/proc/$EXEC_CHILD/root" -ef "/proc/$pid1/root" ] && same_root=yes
	fi
	remove_detached
	echo "namespaces of PID 1 (host pid ${pid1:-?}) / of the exec'd sleep (host pid ${EXEC_CHILD:-none}): ${seen%, }"
	echo "not shared, or the host's: ${differ:-none}; the same root directory: $same_root"
	[ -n "$EXEC_CHILD" ] && [ -z "$differ" ] && [ $same_root = yes ]
}

# cgroup_of ID FILE CONTROLLER: FILE of container ID's cgroup, on v2 or
# in CONTROLLER's hierarchy on v1.
cgroup_of() {
	if [ -d "/sys/fs/cgroup/boxlab/$1" ]; then
		echo "/sys/fs/cgroup/boxlab/$1/$2"
	else
		echo "/sys/fs/cgroup/$3/boxlab/$1/$2"
	fi
}

# The exec'd process is in every hierarchy's boxlab/ID, as PID 1 is
# (/proc/PID/cgroup, read from the host, gives the whole path); it counts
# in pids.current while it lives; and a process it starts forks only up
# to the limit that PID 1 shares with it.
check_exec_in_cgroup() {
	local pid1 current before during="" after="" groups1 groups2="" forks=""
	run_detached --pids-limit 4 -- sleep 60 || return 1
	pid1=$(record_pid "$CID")
	current=$(cgroup_of "$CID" pids.current pids)
	before=$(cat "$current")
	groups1=$(sort "/proc/$pid1/cgroup")
	if exec_background sleep 60; then
		during=$(cat "$current")
		groups2=$(sort "/proc/$EXEC_CHILD/cgroup")
		kill -KILL "$EXEC_CHILD"
		wait "$EXEC_PID" 2>/dev/null
		after=$(cat "$current")
		EXEC_PID=
		# the limit is 4, PID 1 holds one: the probe and 2 children
		runtime exec "$CID" probe forks 8 >"$TEST_TMP/forks.out" 2>&1 3>&- &
		EXEC_PID=$!
		wait_for_line ready "$TEST_TMP/forks.out" "$EXEC_PID" &&
			forks=$(grep -m 1 -E '^[0-9]+ ' "$TEST_TMP/forks.out")
	fi
	remove_detached
	echo "pids.current of boxlab/$CID (--pids-limit 4): $before, with an exec'd sleep $during, after it ended $after"
	echo "probe forks 8, exec'd: \"$forks\" (processes, then what fork() said)"
	echo "cgroups of PID 1: $(echo $groups1); of the exec'd sleep: $(echo $groups2)"
	[[ $groups1 == *"/boxlab/$CID"* ]] && [ "$groups1" = "$groups2" ] &&
		[ "$before" = 1 ] && [ "$during" = 2 ] && [ "$after" = 1 ] && [ "$forks" = "3 EAGAIN" ]
}

# restrictions PID: its capability sets, NoNewPrivs and Seccomp, from /proc.
restrictions() {
	awk '/^(Cap(Eff|Prm|Bnd)|NoNewPrivs|Seccomp):/ { printf "%s %s ", $1, $2 }' "/proc/$1/status"
}

# CHOWN and KILL are bits 0 and 5: a set that is no default.
check_exec_restrictions() {
	local pid1 first="" exec_d=""
	run_detached --cap-drop ALL --cap-add CHOWN,KILL -- sleep 60 || return 1
	pid1=$(record_pid "$CID")
	first=$(restrictions "$pid1")
	exec_background sleep 60 && exec_d=$(restrictions "$EXEC_CHILD")
	remove_detached
	echo "PID 1 (--cap-drop ALL --cap-add CHOWN,KILL): $first"
	echo "the exec'd sleep: $exec_d"
	[ "$first" = "$exec_d" ] &&
		[ "$first" = "CapPrm: 0000000000000021 CapEff: 0000000000000021 CapBnd: 0000000000000021 NoNewPrivs: 1 Seccomp: 2 " ]
}

# PID 1 makes a file in its /tmp (a tmpfs of the container's own), in
# the working directory run -w gave it.
check_exec_root_and_workdir() {
	local seen="" in_dir=""
	run_detached -w /tmp -- /bin/sh -c 'echo made by PID 1 >/tmp/from-pid1; echo ready; exec sleep 60' ||
		return 1
	if wait_for_line ready "$(record_dir)/$CID.log"; then
		seen=$(runtime exec "$CID" /bin/sh -c 'pwd; cat from-pid1; probe stat /etc/boxlab-rootfs' 2>&1 3>&- | tr '\n' ' ')
		in_dir=$(runtime exec -w /etc "$CID" /bin/sh -c 'pwd' 2>&1 3>&-)
	fi
	remove_detached
	echo "exec'd without -w (run -w /tmp): $seen; with exec -w /etc: $in_dir; /etc/boxlab-rootfs on the host: $([ -e /etc/boxlab-rootfs ] && echo file || echo none)"
	[ "$seen" = "/tmp made by PID 1 file " ] && [ "$in_dir" = /etc ] && [ ! -e /etc/boxlab-rootfs ]
}

# kill sends SIGKILL to PID 1: the kernel kills the rest of its PID
# namespace, the exec'd sleep included, and its runtime says 128+9.
check_exec_ends_with_pid1() {
	local pid1 killed="" status=none gone=no
	run_detached -- sleep 60 || return 1
	pid1=$(record_pid "$CID")
	if exec_background sleep 600; then
		killed=$(runtime kill "$CID" 2>&1 3>&-)
		status=0
		wait "$EXEC_PID" || status=$?
		EXEC_PID=
		kill -0 "$EXEC_CHILD" 2>/dev/null || gone=yes
	fi
	remove_detached
	echo "kill $CID said: ${killed:-nothing}; then the exec of sleep 600 returned $status; its process (host pid ${EXEC_CHILD:-none}) is gone: $gone"
	[ "$status" = 137 ] && [ $gone = yes ] && ! kill -0 "$pid1" 2>/dev/null
}

# The session is a terminal's (script gives it one), ended when the
# script does: a process left in it would get SIGHUP.
check_detached_outlives_session() {
	local cid pid1 monitor session sid="" left _ listed="" logged=""
	# The runtime's command written out: script runs its command with
	# $SHELL, which may be a dash, and a dash drops exported functions.
	set_runtime_cmd
	printf '%s\n' "$(printf '%q ' "${RUNTIME_CMD[@]}" run -d "$ROOTFS")"'/bin/sh -c "echo hello from the background; exec sleep 60" >"$1" 2>&1 3>&-' \
		'echo "session $(ps -o sid= -p $$ | tr -d " ")" >"$1.session"' >"$TEST_TMP/start.sh"
	setsid -w script -qec "bash $TEST_TMP/start.sh $TEST_TMP/cid" /dev/null </dev/null >"$TEST_TMP/script.out" 2>&1
	cid=$(cat "$TEST_TMP/cid" 2>/dev/null)
	[[ $cid =~ ^$ID_GLOB$ ]] ||
		{ echo "run -d, in a session of its own, said: ${cid:-nothing} ($(cat "$TEST_TMP/script.out"))"; return 1; }
	CID=$cid
	echo "$CID" >>"$TEST_TMP/detached"
	session=$(sed -n 's/^session //p' "$TEST_TMP/cid.session")
	# (what the session ran may take a moment to go: the sanitizer
	# build's filter of stderr, for one)
	for _ in $(seq 20); do
		left=$(pgrep -s "$session" | tr '\n' ' ') || break
		sleep 0.1
	done
	pid1=$(record_pid "$CID")
	monitor=$(ps -o ppid= -p "$pid1" | tr -d ' ')
	[ -n "$monitor" ] && sid=$(ps -o sid= -p "$monitor" | tr -d ' ')
	listed=$(runtime ps | grep "^$CID ")
	wait_for_line "hello from the background" "$(record_dir)/$CID.log" && logged=$(container_logs "$CID")
	remove_detached
	echo "run -d in session $session, on a terminal; processes left in it when it had ended: ${left:-none}"
	echo "after it: PID 1 ${pid1:-?}, its monitor ${monitor:-gone} in session ${sid:-none}; ps: ${listed:-not listed}; logs: ${logged:-nothing}"
	[ -n "$session" ] && [ -z "$left" ] && [ -n "$sid" ] && [ "$sid" != "$session" ] &&
		[[ $listed == *" running" ]] && [ "$logged" = "hello from the background" ]
}

# sleep as PID 1 has no handler for SIGTERM: the kernel drops it.
check_stop_kills_after_timeout() {
	local pid1 stop_pid early="" early_ps="" said status=0 ended=""
	run_detached -- sleep 60 || return 1
	pid1=$(record_pid "$CID")
	runtime stop -t 1 "$CID" >"$TEST_TMP/stop.out" 2>&1 3>&- &
	stop_pid=$!
	sleep 0.5
	kill -0 "$pid1" 2>/dev/null && kill -0 "$stop_pid" 2>/dev/null && early=running
	early_ps=$(runtime ps | grep "^$CID ")
	wait "$stop_pid" || status=$?
	said=$(cat "$TEST_TMP/stop.out")
	ended=$(runtime ps -a | grep "^$CID ")
	kill -0 "$pid1" 2>/dev/null && ended+=" (its PID 1 is still there)"
	remove_detached
	echo "0.5 s into stop -t 1, PID 1 and stop: ${early:-not both running}; ps: ${early_ps:-not listed}"
	echo "stop returned $status, saying: $said; then ps -a: $ended"
	[ "$early" = running ] && [[ $early_ps == *" running" ]] && [ "$status" = 0 ] && [ "$said" = "$CID" ] &&
		[[ $ended == *" exited (137)" ]]
}

# Every feature the user has: limits (in a cgroup, as root), the overlay,
# and as root a veth.
check_rm_leaves_nothing() {
	local opts=(--memory 64M --pids-limit 64) stopped running listed before after
	[ "${ROOTLESS:-}" = 1 ] || opts+=(--net veth)
	run_detached "${opts[@]}" -- sleep 60 || return 1
	stopped=$CID
	run_detached "${opts[@]}" -- sleep 60 || { CID=$stopped remove_detached; return 1; }
	running=$CID
	runtime stop -t 0 "$stopped" >/dev/null 2>&1 3>&-
	before=$(runtime ps -a | grep -cE "^($stopped|$running) ")
	runtime rm "$stopped" >"$TEST_TMP/rm.out" 2>&1 3>&-
	runtime rm -f "$running" >>"$TEST_TMP/rm.out" 2>&1 3>&-
	CID=$stopped remove_detached
	remove_detached
	listed=$(runtime ps -a | grep -E "^($stopped|$running) ")
	after=$(existing "" "$(record_dir)/$stopped"* "$(record_dir)/$running"*)
	echo "ps -a listed $before of the two (one stopped, one running); rm and rm -f said: $(cat "$TEST_TMP/rm.out" | tr '\n' ' ')"
	echo "then ps -a lists: ${listed:-neither}; their records and logs: ${after:-gone} (the teardown checks the rest)"
	[ "$before" = 2 ] && [ "$(cat "$TEST_TMP/rm.out")" = "$stopped"$'\n'"$running" ] && [ -z "$listed" ] && [ -z "$after" ]
}

@test "exec joins PID 1's 8 namespaces and root (from step 11)" {
	holds_from 11 check_exec_joins_namespaces
}

@test "exec is in its cgroup, under its pids limit (from step 11)" {
	skip_cgroup_if_rootless
	holds_from 11 check_exec_in_cgroup
}

@test "exec has PID 1's capabilities and filter (from step 11)" {
	holds_from 11 check_exec_restrictions
}

@test "exec sees its root, /tmp, run -w; exec -w (from step 11)" {
	holds_from 11 check_exec_root_and_workdir
}

@test "exec'd processes end with PID 1 (from step 11)" {
	holds_from 11 check_exec_ends_with_pid1
}

@test "run -d outlives the session that ran it (from step 11)" {
	holds_from 11 check_detached_outlives_session
}

@test "stop -t 1 kills what ignores SIGTERM (from step 11)" {
	holds_from 11 check_stop_kills_after_timeout
}

@test "rm leaves nothing, ps -a no longer lists it (from step 11)" {
	holds_from 11 check_rm_leaves_nothing
}
