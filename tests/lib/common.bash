# Shared by every bats file: which step is under test, how to run its
# container, and the check that a run left nothing behind on the host.
#
# STEP      the step number under test (1-11), set by tests/run-step.sh
# BUILD     "asan" to test the sanitizer build instead of the plain one
# ROOTLESS  "1" to run every container as an unprivileged user (step 05 on)

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The tests' rootfs, as a path from TOP, where every test runs (load_libs
# goes there).  From step 05 on, container root walks it: a path from /
# would have to pass through every directory above the kit, and a home
# of mode 0700 (Debian 12's) is closed to it.
ROOTFS=build/test-rootfs
# Rootless, an image the unprivileged user owns (root's could not be
# written through step 08's overlay: root is unmapped inside).
[ "${ROOTLESS:-}" != 1 ] || ROOTFS=build/test-rootfs-rootless

# Every step's name, as the runtime's messages give them.
# shellcheck disable=SC2034 # for the test files
STEP_NAMES=(- step01-chroot step02-pid-ns step03-uts-ipc step04-mount-ns
	step05-user-ns step06-net-ns step07-cgroups step08-overlay step09-image
	step10-harden step11-exec)

# Written for bats 1.2 and newer (Ubuntu 22.04 has 1.2): no bats_load_library,
# no `run` flags, no BATS_TEST_TMPDIR.
#
# bats-support, then bats-assert: their files sourced here one by one,
# which is what their load.bash files do, less a dirname program for
# each file, every test.
load_libs() {
	local lib=${BATS_LIB_PATH:-/usr/lib/bats} file
	# shellcheck disable=SC1090 # where BATS_LIB_PATH says
	for file in "${lib%%:*}"/bats-support/src/*.bash "${lib%%:*}"/bats-assert/src/*.bash; do
		source "$file"
	done
	cd "$TOP" || return 1
	TEST_TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/boxlab-test.XXXXXX")
}

# capture CMD...: like bats' run (sets $status and $output), for commands
# whose status bats' run would warn about (127).
# shellcheck disable=SC2034 # bats' names, read by the tests
capture() {
	status=0
	output=$("$@" 2>&1) || status=$?
}

# step03-uts-ipc for 3
step_dir() {
	local d
	for d in "$TOP"/step"$(printf %02d "$1")"-*/; do
		basename "$d"
	done
}

# The step's binary (for the sanitizer build, a script in front of it).
container_bin() {
	if [ "${BUILD:-}" = asan ]; then
		echo "$TOP/build/asan/$(step_dir "$STEP")/container"
	else
		echo "$TOP/$(step_dir "$STEP")/container"
	fi
}

# A container's id: eight hex digits.
ID_GLOB='[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'

# The unprivileged user of rootless runs: nobody, with no groups.
ROOTLESS_UID=65534

# as_nobody CMD...: run CMD as the unprivileged user, with no groups.
# setpriv execs, so CMD keeps setpriv's pid.
AS_NOBODY=(setpriv --reuid="$ROOTLESS_UID" --regid="$ROOTLESS_UID" --clear-groups)
as_nobody() {
	"${AS_NOBODY[@]}" "$@"
}

# The command that runs the step's binary, as root or (ROOTLESS=1) as
# nobody, in RUNTIME_CMD.
set_runtime_cmd() {
	RUNTIME_CMD=("$(container_bin)")
	if [ "${ROOTLESS:-}" = 1 ]; then
		# AS_NOBODY's words: an array is not exported to the shells
		# that checks start, where this runs too.
		RUNTIME_CMD=(setpriv --reuid="$ROOTLESS_UID" --regid="$ROOTLESS_UID" --clear-groups
			"${RUNTIME_CMD[@]}")
	fi
}

# runtime ARGS...: run the step's binary with ARGS.
runtime() {
	set_runtime_cmd
	"${RUNTIME_CMD[@]}" "$@"
}

# container OPTIONS... -- run the step's container in the test rootfs.
#   container --hostname x -- probe hostname
container() {
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	runtime run "${opts[@]}" "$ROOTFS" "$@"
}

# Checks that run the runtime in a shell of their own need these.
export -f set_runtime_cmd runtime container container_bin step_dir
export ROOTLESS_UID TOP ROOTFS

# wait_for_line REGEX FILE [PID]: until a line of FILE matches REGEX, for
# at most 10 s, or until process PID (the writer) is gone.
wait_for_line() {
	local _
	for _ in $(seq 100); do
		grep -qE "^($1)\$" "$2" 2>/dev/null && return 0
		if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then
			grep -qE "^($1)\$" "$2" 2>/dev/null && return 0
			echo "the process writing $2 ended without \"$1\": $(cat "$2")" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "no \"$1\" in $2 after 10 s" >&2
	return 1
}

# wait_status PID: wait for a background job and keep its exit status in
# $status (bats' `run wait` would wait in a subshell that has no such job).
# shellcheck disable=SC2034 # bats' name, read by the tests
wait_status() {
	status=0
	wait "$1" || status=$?
}

# start_container OPTIONS... -- COMMAND...: run a container in the
# background until it prints "ready"; sets RUNTIME_PID (the runtime) and
# CHILD_PID (the container's first process, as the host numbers it).
start_container() {
	local out=$TEST_TMP/background.out opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	set_runtime_cmd
	"${RUNTIME_CMD[@]}" run "${opts[@]}" "$ROOTFS" "$@" >"$out" 2>&1 &
	RUNTIME_PID=$!
	wait_for_line "ready.*" "$out" "$RUNTIME_PID" || return 1
	CHILD_PID=$(pgrep -P "$RUNTIME_PID" -x sleep || true)
}

# kill_container: end the sleeping container start_container began, and
# its runtime.  SIGKILL, because sleep as PID 1 ignores the SIGTERM the
# runtime would pass on.
kill_container() {
	kill -KILL "$CHILD_PID" 2>/dev/null || true
	wait "$RUNTIME_PID" || true
}

# --- step 11: containers that run in the background ---

# record_dir: where the runtime keeps its containers' records and logs
# (RUN), as root or, rootless, as nobody (common/state.c).
record_dir() {
	if [ "${ROOTLESS:-}" != 1 ]; then
		echo /run/boxlab/containers
	elif [ -n "${XDG_RUNTIME_DIR:-}" ]; then
		echo "$XDG_RUNTIME_DIR/boxlab/containers"
	else
		echo "/tmp/boxlab-$ROOTLESS_UID/containers"
	fi
}

# run_detached OPTIONS... -- COMMAND...: `run -d` in the tests' rootfs;
# CID is the id it printed.  Before step 11 it fails, with the runtime's
# words.  Each id is noted in $TEST_TMP/detached, for the teardown's
# remove_left_containers.  Not given bats' fd 3: bats waits until every
# process has closed it, and a monitor outlives the test's commands.
run_detached() {
	local opts=() out
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	# The id is the last line: a sweep may have warned before it.
	if ! out=$(runtime run -d "${opts[@]}" "$ROOTFS" "$@" 2>&1 3>&-) ||
		[[ ! ${out##*$'\n'} =~ ^$ID_GLOB$ ]]; then
		echo "run -d said: $out"
		return 1
	fi
	CID=${out##*$'\n'}
	echo "$CID" >>"$TEST_TMP/detached"
}

# record_field ID FIELD [N]: the Nth word (1 unless said) after FIELD in
# container ID's record: "pid HOSTPID STARTTIME", "runtime PID"...
record_field() {
	awk -v f="$2" -v n="${3:-1}" '$1 == f { print $(n + 1); exit }' "$(record_dir)/$1"
}

# record_pid ID: the host's pid of the container's first process.
record_pid() {
	record_field "$1" pid
}

# exec_background COMMAND [ARG...]: `exec CID COMMAND...` in the
# background, its output in $TEST_TMP/exec.out; EXEC_PID is the runtime,
# EXEC_CHILD the process it started, once that has become COMMAND.
# shellcheck disable=SC2034 # EXEC_CHILD, for the tests
exec_background() {
	local _
	EXEC_CHILD=
	# not through the function runtime: in the background, that would be
	# a subshell, the runtime its child
	set_runtime_cmd
	"${RUNTIME_CMD[@]}" exec "$CID" "$@" >"$TEST_TMP/exec.out" 2>&1 3>&- &
	EXEC_PID=$!
	for _ in $(seq 100); do
		EXEC_CHILD=$(pgrep -P "$EXEC_PID" -x "$(basename "$1")") && return 0
		kill -0 "$EXEC_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "exec $*: no process $1 under the runtime (pid $EXEC_PID); it said: $(cat "$TEST_TMP/exec.out")"
	return 1
}

# wait_exited ID: until `ps -a` says container ID exited (10 s at most);
# prints its STATUS column.
wait_exited() {
	local _ line
	for _ in $(seq 100); do
		line=$(runtime ps -a 2>&1 | grep "^$1 ")
		[[ $line == *" exited ("* ]] && { echo "exited (${line##* exited (}"; return 0; }
		sleep 0.1
	done
	echo "${line:-not listed by ps -a}"
	return 1
}

# container_logs [-f] ID: `logs`, less the sanitizer build's one known
# false alarm, which tests/lib/asan-run drops from what a run prints but
# a detached container's monitor writes to the log itself.
container_logs() {
	runtime logs "$@" 2>&1 3>&- | sed -e '/ASan is ignoring requested __asan_handle_no_return/d' \
		-e '/^False positive error reports may follow$/d' \
		-e '/^For details see https:\/\/github.com\/google\/sanitizers\/issues\/189$/d'
}

# remove_left_containers: rm -f what a test started with run -d and did
# not remove itself; says which, and fails, if there was any.
remove_left_containers() {
	local id left=()
	[ -f "$TEST_TMP/detached" ] || return 0
	while read -r id; do
		[ -e "$(record_dir)/$id" ] && left+=("$id")
	done <"$TEST_TMP/detached"
	[ ${#left[@]} -gt 0 ] || return 0
	runtime rm -f "${left[@]}" >/dev/null 2>&1 3>&-
	echo "the test did not remove the container(s) it started: ${left[*]} (removed now with rm -f)"
	return 1
}

# The sanitizers report on stderr and exit non-zero; nothing must hide that.
export ASAN_OPTIONS=abort_on_error=0:exitcode=99:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99

# What a run could leave behind: mounts in the rootfs, and processes still
# living in it (their root directory is the rootfs) or still running the
# runtime.  Only what concerns the test rootfs, so that a container a
# learner runs by hand meanwhile is not taken for a leftover.
#
# Bash builtins only, no other program: this runs twice a test, over
# every process and mount, and starting a program costs more than the
# whole walk.
host_state() {
	local pid args root=$ROOTFS point _
	# mountinfo names mount points from /.
	[[ $root == /* ]] || root=$TOP/$root
	while read -r _ _ _ _ point _; do
		[[ $point == "$root"* ]] && echo "mount: $point"
	done </proc/self/mountinfo
	for pid in /proc/[0-9]*; do
		args=()
		# A process may end between the glob and the read: skip it.
		{ mapfile -d '' args <"$pid/cmdline"; } 2>/dev/null || continue
		[ "$pid/root" -ef "$root" ] && echo "process in the rootfs: ${pid#/proc/} ${args[*]}"
		case "${args[*]} " in
		*/container*" run "*"$ROOTFS "*) echo "runtime still running: ${pid#/proc/}" ;;
		esac
	done
	# Host ends of veths, and the runtime's notes of which /30 is whose
	# (containers run by hand with --net veth during the tests show here too).
	existing "link: " /sys/class/net/bx*
	existing "subnet claim: " /run/boxlab/subnets/*
	# Containers' cgroups, the runtimes' state files and the overlays'
	# state dirs, as root and as the rootless user.
	container_cgroups "cgroup: "
	existing "state file: " /run/boxlab/containers/* "/tmp/boxlab-$ROOTLESS_UID"/containers/*
	state_dirs "state dir: "
	# An image store's work in progress (step 09): what a failed or
	# killed import or pull left.
	existing "store work: " "${BOXLAB_STORE_DIR:-/var/lib/boxlab/store}"/tmp/*
	return 0
}

# existing LABEL PATH...: "LABEL PATH" for each PATH that is there (a
# glob that matched nothing stays as it is, and is not).
existing() {
	local label=$1 path
	shift
	for path; do
		[ -e "$path" ] && echo "$label$path"
	done
	return 0
}

# state_dirs [LABEL]: the containers' state dirs (step 08), as root and
# rootless.
state_dirs() {
	existing "${1:-}" /var/lib/boxlab/$ID_GLOB "/tmp/boxlab-$ROOTLESS_UID"/$ID_GLOB
}

# container_cgroups [LABEL]: every container's cgroup directory, on
# cgroup v2 (boxlab/ID) and v1 (CONTROLLER/boxlab/ID).
container_cgroups() {
	local dir
	for dir in /sys/fs/cgroup/boxlab/*/ /sys/fs/cgroup/*/boxlab/*/; do
		[ -d "$dir" ] && echo "${1:-}${dir%/}"
	done
	return 0
}

# The id of the cgroup that holds a process: the running container's.
running_cgroup_id() {
	local dir
	for dir in $(container_cgroups); do
		# (cgroup files have no size: read it)
		grep -q . "$dir/cgroup.procs" && { basename "$dir"; return 0; }
	done
	return 1
}

# cgroup_cpu_usec ID: the CPU time the group has used, in microseconds,
# from its own counters (v2 cpu.stat; v1 cpuacct.usage, in nanoseconds).
cgroup_cpu_usec() {
	if [ -f "/sys/fs/cgroup/boxlab/$1/cpu.stat" ]; then
		awk '$1 == "usage_usec" { print $2 }' "/sys/fs/cgroup/boxlab/$1/cpu.stat"
	else
		echo $(($(cat "/sys/fs/cgroup/cpuacct/boxlab/$1/cpuacct.usage") / 1000))
	fi
}

# True when the host differs from before only by host ends of veths.
only_dying_links() {
	local extra
	extra=$(diff "$TEST_TMP/host-state.before" "$TEST_TMP/host-state.after" | grep '^[<>]') || return 1
	! grep -qv '^> link: /sys/class/net/bx' <<<"$extra"
}

# The host's state, to compare with after the test.  In a subshell
# without bats' DEBUG trap, which would run before every command of the
# walk and make it several times slower.
remember_host_state() {
	(trap - DEBUG; host_state) >"$TEST_TMP/host-state.before"
}

# Fails, showing the difference, when the host is not as it was.
assert_nothing_left() {
	local deadline=$((SECONDS + 60))
	# A setup that failed before load_libs has nothing to compare, nor
	# one that skipped before remember_host_state (a step too early).
	[ -n "${TEST_TMP:-}" ] || return 0
	[ -f "$TEST_TMP/host-state.before" ] || { rm -rf "$TEST_TMP"; return 0; }
	(trap - DEBUG; host_state) >"$TEST_TMP/host-state.after"
	if [ "$(<"$TEST_TMP/host-state.before")" = "$(<"$TEST_TMP/host-state.after")" ]; then
		rm -rf "$TEST_TMP"
		return 0
	fi
	# The kernel deletes a veth with the container's network namespace,
	# in the background, and the runtime does not wait for it: give host
	# ends that are the only difference time to go.  On hardware that is
	# tens of milliseconds; a machine emulated in software (make test-vm)
	# is slower.
	while [ $SECONDS -lt $deadline ] && only_dying_links; do
		sleep 0.1
		(trap - DEBUG; host_state) >"$TEST_TMP/host-state.after"
	done
	if ! diff -u "$TEST_TMP/host-state.before" "$TEST_TMP/host-state.after"; then
		echo "the run left something behind on the host (see the diff above)"
		return 1
	fi
	rm -rf "$TEST_TMP"
}

# skip_cannot_run REASON: this host cannot run the test (no such kernel
# feature, no delegation...).  A learner's machine skips with the reason;
# CI (CI=true) and BOXLAB_MUST_WORK=1 turn it into a failure, so a CI
# machine that lost a feature cannot pass by skipping.
skip_cannot_run() {
	if [ -n "${CI:-}" ] || [ -n "${BOXLAB_MUST_WORK:-}" ]; then
		fail "cannot run here: $1 (CI must run every test)"
	fi
	skip "cannot run here: $1"
}
