#!/usr/bin/env bash
# demo.sh - make demo: a narrated tour of the steps, for a projector.
#
# Usage: scripts/demo.sh [SCENE...]      (as root, from anywhere)
#        scripts/demo.sh --help
#
# A scene for each step of scene_steps (below), then "matrix", the
# isolation matrix of every step (tests/matrix.sh, a few minutes).  Name
# scenes to run only those: `scripts/demo.sh 2 7` shows steps 02 and 07.
# Each scene says what to look at, shows each command the way a shell
# prompt would, runs it with -v so the runtime narrates its kernel calls,
# and then checks that the output shows the lesson (PID 1 is 1, the OOM
# report is there, ...).
#
# On a terminal: colour, and a pause of DEMO_PAUSE seconds (default 4)
# between scenes.  Without one (CI): no colour, no pause.
#
# Exit status: 0 when every scene showed what it should and left nothing
# on the host (what the tests check, tests/lib/common.bash: mounts and
# processes in the rootfs, state files, state dirs, cgroups, bx* links,
# subnet claims); 1 otherwise; 2 when called wrongly or the kit is not built.
#
# Inputs, as `make demo` builds them: every step's container, rootfs/
# (the learner's) and build/test-rootfs (rootfs/ plus /usr/bin/probe).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
me="boxlab demo"

usage() {
	cat <<-EOF
	usage: scripts/demo.sh [SCENE...]    (make demo runs them all)

	A narrated tour of the steps, one scene each, checked as it goes:
	  1  step01-chroot    / inside and on the host
	  2  step02-pid-ns    the command is PID 1
	  3  step03-uts-ipc   a host name and an uptime of its own
	  4  step04-mount-ns  the mount table inside; none of it on the host
	  5  step05-user-ns   root inside, uid 100000 outside
	  6  step06-net-ns    loopback only; then --net veth
	  7  step07-cgroups   the OOM killer under --memory 32M
	  8  step08-overlay   a write lands in the upper dir (--keep)
	  9  step09-image     an image pulled from a registry on 127.0.0.1, run
	 10  step10-harden    docker's 14 capabilities; a nested user namespace refused
	 11  step11-exec      run -d, ps, exec into it as PID 2, logs, stop, rm
	  matrix              the isolation matrix of every step (minutes)

	DEMO_PAUSE=SECONDS   the pause between scenes on a terminal (default 4)
	DEMO_MATRIX_STEPS="step07-cgroups step08-overlay"
	                     the matrix's columns (default: every step)
	EOF
}

# ---- the scenes to run ----------------------------------------------------

# The steps that have a scene, a function scene_N below, in the order of
# the tour; of them, those here (a handout has the steps up to its own).
scene_steps=(1 2 3 4 5 6 7 8 9 10 11)
here=()
for n in "${scene_steps[@]}"; do
	printf -v nn %02d "$n"
	ls -d "step$nn"-* >/dev/null 2>&1 && here+=("$n")
done

scenes=()
for arg in "$@"; do
	case $arg in
	-h | --help) usage; exit 0 ;;
	matrix) scenes+=(matrix) ;;
	*)
		# A step's number, "7" or "07", if that step has a scene here.
		if ! [[ $arg =~ ^[0-9]{1,2}$ && " ${here[*]} " == *" $((10#$arg)) "* ]]; then
			echo "$me: \"$arg\" is not a scene: give step numbers ${here[0]}-${here[-1]} or \"matrix\"" >&2
			usage >&2
			exit 2
		fi
		scenes+=("$((10#$arg))")
		;;
	esac
done
[ ${#scenes[@]} -gt 0 ] || scenes=("${here[@]}" matrix)
pause=${DEMO_PAUSE:-4}
if ! [[ $pause =~ ^[0-9]+([.][0-9]+)?$ ]]; then
	echo "$me: DEMO_PAUSE=\"$pause\" is not a number of seconds (DEMO_PAUSE=2)" >&2
	exit 2
fi

# ---- what it needs --------------------------------------------------------

if [ "$(id -u)" -ne 0 ]; then
	echo "$me: needs root (steps 01-04 do): run 'sudo make demo'" >&2
	exit 2
fi
for step in step[0-9][0-9]-*; do
	if [ ! -x "$step/container" ]; then
		echo "$me: $step/container is not built: run 'make demo', which builds it" >&2
		exit 2
	fi
done
for file in rootfs/etc/boxlab-rootfs build/test-rootfs/usr/bin/probe; do
	if [ ! -e "$file" ]; then
		echo "$me: there is no $file: run 'make demo', which builds rootfs/ and build/test-rootfs" >&2
		exit 2
	fi
done

# The tests' check that a run left nothing on the host (host_state,
# remember_host_state, assert_nothing_left) and wait_for_line.  Its top
# level only sets variables (TOP, ROOTFS, ...) and defines functions.
# shellcheck source-path=SCRIPTDIR/.. source=tests/lib/common.bash
source "$top/tests/lib/common.bash"
# Step 09's scene: the test image and a registry (test_image,
# start_registry, push_image, stop_registry).
# shellcheck source-path=SCRIPTDIR/.. source=tests/lib/image.bash
source "$top/tests/lib/image.bash"

# ---- the look: colour and pauses only for a person watching ----------------

bold="" dim="" green="" red="" cyan="" yellow="" reset=""
if [ -t 1 ]; then
	bold=$'\e[1m' dim=$'\e[2m' green=$'\e[32m' red=$'\e[31m' cyan=$'\e[36m' yellow=$'\e[33m'
	reset=$'\e[0m'
else
	pause=0
fi

tmp=$(mktemp -d /tmp/boxlab-demo.XXXXXX)
kept=""	# step 08's --keep dir, while it exists
detached=""	# step 11's container, while it exists
cleanup() {
	[ -z "$kept" ] || rm -rf "$kept"
	[ -z "$detached" ] || ./step11-exec/container rm -f "$detached" >/dev/null 2>&1 || true
	stop_registry
	rm -rf "$tmp" "$top/build/demo-store"
}
trap cleanup EXIT

failures=()
scene_name=""

# scene N TITLE FOCUS CAPTION...: a title, then a line or two of what to
# look at; FOCUS picks the narration lines to highlight.
scene() {
	printf -v scene_name 'step%02d' "$1"
	focus=$3
	printf '\n%s== step %02d: %s ==%s\n' "$bold$cyan" "$1" "$2" "$reset"
	shift 3
	local line
	for line in "$@"; do
		printf '%s%s%s\n' "$bold" "$line" "$reset"
	done
}

# On a terminal, the runtime's narration (lines that start "stepNN-name:")
# is dimmed so the command's own output stands out, except the lines of
# the scene's lesson (those matching $focus, an extended regex): bold.
focus=""
paint() {
	if [ -n "$dim" ]; then
		awk -v focus="$focus" -v dim="$dim" -v hi="$bold$yellow" -v reset="$reset" '
			!/^step[0-9][0-9]-[a-z-]+: / { print; fflush(); next }
			{ text = $0; sub(/^[^:]*: /, "", text) }
			focus != "" && text ~ focus { print hi $0 reset; fflush(); next }
			{ print dim $0 reset; fflush() }'
	else
		cat
	fi
}

# shown COMMAND: print it after a prompt, run it (stdin from /dev/null),
# show its output; the output goes to $out and the status to $rc.
out=$tmp/out
rc=0
shown() {
	printf '%s# %s%s\n' "$bold" "$1" "$reset"
	rc=0
	eval "$1" </dev/null >"$out" 2>&1 || rc=$?
	paint <"$out"
}

# expect WHAT TEST...: the scene showed WHAT if TEST succeeds.
expect() {
	local what=$1
	shift
	if "$@"; then
		printf '%s  ok: %s%s\n' "$green" "$what" "$reset"
	else
		printf '%s  NOT SHOWN: %s%s\n' "$red$bold" "$what" "$reset"
		failures+=("$scene_name: $what")
	fi
}

# has REGEX...: for each REGEX, a line of the last command's output
# matches it (extended regex).
has() {
	local re
	for re in "$@"; do
		grep -qE -- "$re" "$out" || return 1
	done
}

# The host before a scene, and after it: the same as the tests compare
# (tests/lib/common.bash), for the scene's rootfs ($ROOTFS), in $TEST_TMP.
# Those functions are written for bats, without pipefail: there, an empty
# `ls ... | sed` is no failure, and only_dying_links reads diff's output.
remember_host() {
	(
		set +o pipefail
		remember_host_state
	)
}

# Nothing left on the host, once the veths the kernel deletes in the
# background are gone; otherwise the difference, indented under the scene.
host_as_before() {
	(
		set +o pipefail
		assert_nothing_left
	) 2>&1 | sed 's/^/  /'
}

# "1 scene", "2 scenes"
count() {
	if [ "$1" = 1 ]; then echo "1 $2"; else echo "$1 $2s"; fi
}

between_scenes() {
	[ "$pause" = 0 ] || sleep "$pause"
}

# ---- the scenes -----------------------------------------------------------

scene_1() {
	scene 1 "chroot: a root directory of its own" 'chroot|chdir' \
		"Look at: / inside is the rootfs, not the host's /." \
		"Still the host's processes, name and mounts: the next steps."
	shown './step01-chroot/container run -v rootfs /bin/sh -c "echo /*"'
	expect "/ inside lists rootfs/, and the command exited 0" \
		test "$rc" = 0 -a "$(grep -v '^step01' "$out")" = "$(cd rootfs && printf '/%s ' * | sed 's/ $//')"
	shown 'echo /*'
	expect "the host's / is another directory" test "$(cat "$out")" != "$(cd rootfs && printf '/%s ' * | sed 's/ $//')"
}

scene_2() {
	scene 2 "PID namespace: a process tree of its own" '/proc' \
		"Look at: the shell is PID 1, and ps sees two processes, not the host's."
	shown "./step02-pid-ns/container run -v rootfs /bin/sh -c 'echo \"I am PID \$\$\"; ps; true'"
	expect "the command is PID 1" has '^I am PID 1$'
	expect "ps lists only the container's two processes" \
		test "$(grep -cE '^ +[0-9]+ ' "$out")" = 2
}

scene_3() {
	local host
	host=$(hostname)
	scene 3 "UTS, IPC and time namespaces" 'sethostname|time namespace|clocks' \
		"Look at: the container renames itself; the host keeps its name." \
		"Its uptime (time namespace) starts near zero."
	shown "./step03-uts-ipc/container run -v rootfs /bin/sh -c 'hostname on-stage; hostname; cat /proc/uptime'"
	expect "the container is named on-stage" has '^on-stage$'
	expect "its uptime is under 10 seconds" has '^[0-9]\.[0-9]+ '
	shown 'hostname'
	expect "the host is still \"$host\"" test "$(cat "$out")" = "$host"
}

scene_4() {
	scene 4 "mount namespace and pivot_root" 'propagat|mount point|pivot_root|detach' \
		"Look at: pivot_root, then a mount table of its own: / is the rootfs," \
		"with a fresh /proc, /sys, /dev and /tmp. None of it shows on the host."
	shown './step04-mount-ns/container run -v rootfs mount'
	expect "/ is one mount of the container's own table" test "$(grep -c ' on / type ' "$out")" = 1
	expect "/proc, /sys, /dev and /tmp are mounted inside" \
		has ' on /proc type proc' ' on /sys type sysfs' ' on /dev type tmpfs' ' on /tmp type tmpfs'
	expect "pivot_root ran" has 'pivot_root'
	# The kit's rootfs/ only: not build/test-rootfs, nor an initramfs's rootfs.
	shown "grep -c ' $top/rootfs[/ ]' /proc/self/mountinfo"
	expect "no mount of the container on the host" test "$(cat "$out")" = 0
}

scene_5() {
	local runtime child=""
	scene 5 "user namespace: root inside, nobody outside" 'map container|id map|id-mapped|become (root|group)' \
		"Look at: id says root inside; ps on the host says uid 100000." \
		"Container root has no power over the host."
	printf '%s# %s%s\n' "$bold" "./step05-user-ns/container run -v rootfs /bin/sh -c 'id; sleep 2' &" "$reset"
	./step05-user-ns/container run -v rootfs /bin/sh -c 'id; sleep 2' </dev/null >"$tmp/bg" 2>&1 &
	runtime=$!
	wait_for_line 'uid=.*' "$tmp/bg" "$runtime" || true
	child=$(pgrep -P "$runtime" | head -n 1) || true
	paint <"$tmp/bg"
	cp "$tmp/bg" "$tmp/bg.shown"
	expect "id inside says uid=0(root)" grep -q '^uid=0(root) gid=0(root)' "$tmp/bg"
	shown 'ps -o user,pid,args --ppid $!'
	expect "the same process is uid 100000 on the host" \
		test -n "$child" -a "$(stat -c %u "/proc/$child" 2>/dev/null)" = 100000
	printf '%s# wait%s\n' "$bold" "$reset"
	rc=0
	wait "$runtime" || rc=$?
	# The rest of the runtime's output, from where it was shown.
	tail -n +$(($(wc -l <"$tmp/bg.shown") + 1)) "$tmp/bg" | paint
	expect "the container exited 0" test "$rc" = 0
}

scene_6() {
	scene 6 "network namespace: a network of its own" 'veth|/30|eth0|bring up|rtnetlink' \
		"Look at: without --net, only lo. With --net veth, an eth0 and a /30;" \
		"the narration shows the veth pair made, and the /30 given back."
	shown './step06-net-ns/container run rootfs ip addr'
	expect "only the loopback interface" test "$(grep -cE '^[0-9]+: ' "$out")" = 1 -a -n "$(grep -E '^1: lo:' "$out")"
	shown './step06-net-ns/container run -v --net veth rootfs ip -4 addr'
	expect "eth0 has an address of a /30" has 'inet [0-9.]+/30 .*eth0'
	expect "its /30 given back" has "released the container's /30"
}

scene_7() {
	scene 7 "cgroups: a share of the machine" 'cgroup|memory|OOM|CPU' \
		"Look at: the probe asks for 64 MiB under a 32M limit; the OOM killer" \
		"ends it, and the runtime reports why, then removes the cgroup."
	shown './step07-cgroups/container run -v --memory 32M build/test-rootfs probe alloc 64'
	expect "killed by SIGKILL: exit status 137" test "$rc" = 137
	expect "the runtime reports the OOM kill" has 'killed by the OOM killer \(memory limit 32M\)'
	expect "its cgroup removed" has 'removed the cgroup boxlab/'
}

scene_8() {
	scene 8 "overlayfs: a root of its own to write" 'overlay|upper|work dir|state dir' \
		"Look at: the write lands in the upper dir (kept here with --keep)," \
		"not in rootfs/: the image stays as it was."
	shown "./step08-overlay/container run -v --keep rootfs /bin/sh -c 'echo written inside > /etc/greeting; cat /etc/greeting'"
	expect "the container could write /etc/greeting" has '^written inside$'
	kept=$(grep -oE 'kept the state dir /var/lib/boxlab/[0-9a-f]{8}' "$out" | grep -oE '/var/lib/boxlab/[0-9a-f]{8}$') || true
	if [ -z "$kept" ]; then
		expect "the runtime said where it kept the state dir" false
		return
	fi
	shown "ls rootfs/etc/greeting"
	expect "rootfs/ has no greeting" test "$rc" != 0
	shown "cat $kept/upper/etc/greeting"
	expect "the upper dir has it" has '^written inside$'
	shown "rm -rf $kept"
	kept=""
}

scene_9() {
	scene 9 "images: content-addressed layers plus a config" 'layer|image|store|id map' \
		"Look at: the image goes to a registry on this machine and comes back by digest;" \
		"its three layers become the overlay's lower layers, each through the id map."
	start_registry plain
	push_image "$(test_image)" demo/busybox:latest
	shown "./step09-image/container pull $REGISTRY/demo/busybox"
	expect "three layers pulled, each checked against its digest" has 'pulled .*: 3 layers, 3 new'
	shown "./step09-image/container run -v $REGISTRY/demo/busybox"
	expect "the image's own command ran, as its user, in its directory" has '^hello from app in /home/app$'
	expect "each layer shown through the container's id map" has "show layer 2 through the container's id map"
	shown "./step09-image/container images"
	expect "the store lists it" has "^$REGISTRY/demo/busybox +latest "
	stop_registry
}

scene_10() {
	scene 10 "hardening: root keeps only what it needs" 'bounding set|capabilit|no_new_privs|seccomp|filter' \
		"Look at: root inside keeps docker's 14 capabilities, no setuid program can raise it," \
		"and the filter answers EPERM to a new user namespace, as to every call it refuses."
	shown "./step10-harden/container run -v rootfs /bin/sh -c 'grep -E \"^(CapEff|NoNewPrivs|Seccomp):\" /proc/self/status; unshare -U true'"
	expect "CapEff is docker's 14, not all 41" has '^CapEff:[[:space:]]+00000000a80425fb$'
	expect "no_new_privs is on, and a seccomp filter" has '^Seccomp:[[:space:]]+2$'
	expect "the filter's counts narrated" has 'the filter: [0-9]+ calls allowed'
	expect "a nested user namespace is refused" has 'unshare.*Operation not permitted'
}

scene_11() {
	scene 11 "exec: a life of its own, and a way in" 'monitor|session|log|setns|pidfd|join|SIGTERM|SIGKILL' \
		"Look at: run -d returns at once; exec joins the container's namespaces and is PID 2 there;" \
		"stop sends SIGTERM, which sleep as PID 1 does not handle, then SIGKILL a second later."
	detached=on-stage
	shown './step11-exec/container run -d --name on-stage rootfs sleep 1000'
	expect "run -d printed the container's id and returned" has '^[0-9a-f]{8}$'
	# run -d returns once the container's first process has become sleep.
	shown './step11-exec/container ps'
	expect "ps lists it, running" has '^[0-9a-f]{8} +on-stage +rootfs +sleep 1000 .* running$'
	shown "./step11-exec/container exec -v on-stage /bin/sh -c 'echo \"I am PID \$\$\"; for ns in mnt pid net user; do echo \"\$ns: \$(readlink /proc/1/ns/\$ns) \$(readlink /proc/self/ns/\$ns)\"; done; ps'"
	expect "exec's shell is PID 2" has '^I am PID 2$'
	expect "its namespaces are PID 1's" \
		test "$(grep -cE '^(mnt|pid|net|user): ([a-z]+:\[[0-9]+\]) \2$' "$out")" = 4
	expect "it joined them with setns and a pidfd" has "join the container's other namespaces at once: setns\\(c->pidfd"
	shown './step11-exec/container stop -t 1 on-stage'
	expect "stop returned its name" test "$rc" = 0 -a "$(cat "$out")" = on-stage
	shown './step11-exec/container ps -a'
	expect "it exited with 137: SIGKILL, after SIGTERM did nothing" has ' on-stage .* exited \(137\)$'
	shown './step11-exec/container logs on-stage'
	expect "its log has the monitor's report" has 'killed by signal 9 \(SIGKILL\)'
	shown './step11-exec/container rm on-stage'
	expect "rm removed it" test "$rc" = 0
	detached=""
}

scene_matrix() {
	printf '\n%s== the isolation matrix ==%s\n' "$bold$cyan" "$reset"
	printf '%s%s%s\n' "$bold" "Every check against every step: yes from the step that brings it on." "$reset"
	printf '%s%s%s\n' "$bold" "(Each check runs a container or two: this takes a few minutes.)" "$reset"
	scene_name=matrix
	local cmd step nn runner said=" "
	cmd="tests/matrix.sh ${DEMO_MATRIX_STEPS:-$(echo step[0-9][0-9]-*)}"
	printf '%s# %s%s\n' "$bold" "$cmd" "$reset"
	# The table comes at the end: meanwhile, say which column is being
	# checked, from the TAP file each column writes (tests/matrix.sh).
	touch "$tmp/matrix-start"
	rc=0
	$cmd </dev/null >"$out" 2>&1 &
	runner=$!
	while kill -0 "$runner" 2>/dev/null; do
		for step in step[0-9][0-9]-*; do
			nn=${step#step}
			nn=${nn%%-*}
			[[ $said == *" $nn "* ]] && continue
			if [ "build/tap/matrix-${BUILD:-plain}-step$nn.tap" -nt "$tmp/matrix-start" ]; then
				printf '%s  checking step %s ...%s\n' "$dim" "$nn" "$reset"
				said+="$nn "
			fi
		done
		sleep 1
	done
	wait "$runner" || rc=$?
	paint <"$out"
	expect "every cell as expected" test "$rc" = 0
	if [ "$rc" != 0 ] && has 'the run left something behind'; then
		printf '%s\n' "  Each check compares the host before and after its run: containers that" \
			"  someone else starts or stops on this machine meanwhile show as leftovers." \
			"  If the ids above are not the matrix's, run it again on a quiet machine."
	fi
}

# ---- the tour ---------------------------------------------------------------

start=$SECONDS
printf '%sboxlab: a container runtime, one kernel feature per step%s\n' "$bold" "$reset"
printf 'Each scene runs one step with -v: the runtime narrates every kernel call.\n'
first=1
for s in "${scenes[@]}"; do
	((first)) || between_scenes
	first=0
	if [ "$s" = matrix ]; then
		# Each of its checks compares the host before and after itself.
		scene_matrix
		continue
	fi
	ROOTFS=$top/rootfs
	[ "$s" != 7 ] || ROOTFS=$top/build/test-rootfs
	TEST_TMP=$(mktemp -d "$tmp/scene.XXXXXX")
	# images go to a store of the demo's own, gone at its end, on the
	# kit's disk: a store needs what a tmpfs /tmp may lack (Linux 6.6)
	export BOXLAB_STORE_DIR=$top/build/demo-store
	remember_host
	"scene_$s"
	expect "nothing left on the host" host_as_before
done

printf '\n%s== the end ==%s\n' "$bold$cyan" "$reset"
if [ ${#failures[@]} -eq 0 ]; then
	printf '%s%s: %s in %d s, each showed what it should; nothing left on the host%s\n' \
		"$green$bold" "$me" "$(count ${#scenes[@]} scene)" "$((SECONDS - start))" "$reset"
	exit 0
fi
bad=$(printf '%s\n' "${failures[@]}" | cut -d: -f1 | sort -u | wc -l)
what="did not show what they should"
[ "$bad" != 1 ] || what="did not show what it should"
printf '%s%s: of %s, %d %s:%s\n' "$red$bold" "$me" "$(count ${#scenes[@]} scene)" "$bad" "$what" "$reset"
printf '  %s\n' "${failures[@]}"
exit 1
