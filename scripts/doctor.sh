#!/usr/bin/env bash
# doctor.sh - check this machine before the boxlab steps do.
#
# Usage: scripts/doctor.sh
#
# Prints one line per check:
#   ok    all good
#   WARN  some steps or modes will not work here; a "fix:" line says what to do
#   FAIL  boxlab cannot work here until fixed; a "fix:" line says how
# then a summary. Exit status 0 when nothing failed, 1 otherwise.
#
# Fast, offline and read-only: the only thing it does is a throwaway
# unshare(1) that creates a user namespace and exits.
set -euo pipefail

readonly me="boxlab doctor"
oks=0
warnings=0
failures=0

ok() {
	printf '  ok    %s\n' "$1"
	oks=$((oks + 1))
}

warn() {
	printf '  WARN  %s\n' "$1"
	printf '        fix: %s\n' "$2"
	warnings=$((warnings + 1))
}

fail() {
	printf '  FAIL  %s\n' "$1"
	printf '        fix: %s\n' "$2"
	failures=$((failures + 1))
}

# An extra line of explanation under the last check.
note() {
	printf '        %s\n' "$1"
}

# "1 warning", "2 warnings"
count() {
	if (($1 == 1)); then echo "1 $2"; else echo "$1 $2s"; fi
}

has() {
	command -v "$1" >/dev/null
}

# Overlay mounts in a user namespace came with Linux 5.11 (step 08, rootless);
# the time namespace with 5.6.
check_kernel() {
	local release major minor
	release=$(uname -r)
	IFS=. read -r major minor _ <<<"$release"
	minor=${minor%%[!0-9]*}
	if ((major > 5 || (major == 5 && minor >= 11))); then
		ok "kernel $release (5.11 or newer)"
	else
		fail "kernel $release is older than 5.11" \
			"use Linux 5.11 or newer (overlay in a user namespace needs 5.11, the time namespace 5.6)"
	fi
}

check_root() {
	local name
	if ((EUID == 0)); then
		ok "running as root"
		return
	fi
	name=$(id -un 2>/dev/null) || name="uid $EUID"
	warn "running as $name, not root (steps 01-04 need root)" "run them with \`sudo make shell\`"
}

# The controller directories of a v1 hierarchy, such as "cpu,cpuacct".
# Symlinks (cpu -> cpu,cpuacct) and named hierarchies without a controller
# (systemd, and unified, the cgroup2 of a hybrid layout) are left out.
v1_controllers() {
	local dir name
	for dir in /sys/fs/cgroup/*; do
		name=${dir##*/}
		[[ -d $dir && ! -L $dir && $name != systemd && $name != unified ]] || continue
		if [[ $(stat -f -c %T "$dir") == cgroupfs ]]; then printf '%s ' "$name"; fi
	done
}

# What the cgroup steps need, among the controllers listed in $1.
missing_controllers() {
	local wanted words=" ${1//,/ } "
	for wanted in memory cpu pids; do
		if [[ $words != *" $wanted "* ]]; then printf '%s ' "$wanted"; fi
	done
}

# The layout is told by the filesystem type of /sys/fs/cgroup (statfs):
# cgroup2 is v2; a tmpfs holds v1 hierarchies, plus an empty cgroup2 at
# unified/ in the hybrid layout.
check_cgroups() {
	local type layout controllers missing
	type=$(stat -f -c %T /sys/fs/cgroup 2>/dev/null) || type="nothing"
	case $type in
	cgroup2fs)
		layout="v2 (unified)"
		controllers=$(</sys/fs/cgroup/cgroup.controllers)
		;;
	tmpfs)
		layout="v1"
		if [[ $(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null) == cgroup2fs ]]; then
			layout="hybrid (v1 controllers + empty cgroup2)"
		fi
		controllers=$(v1_controllers)
		;;
	*)
		fail "no cgroup filesystem at /sys/fs/cgroup (found $type)" \
			"mount one: \`sudo mount -t cgroup2 none /sys/fs/cgroup\`"
		return
		;;
	esac
	controllers=${controllers% }
	missing=$(missing_controllers "$controllers")
	if [[ -z $missing ]]; then
		ok "cgroups: $layout"
		note "controllers: $controllers"
	else
		warn "cgroups: $layout, controllers: ${controllers:-none}; missing: ${missing% } (the limit steps need them)" \
			"see /proc/cgroups and /proc/cmdline: a cgroup_disable= or a v1 mount may hold them"
	fi
}

# The knobs that can forbid unprivileged user namespaces. Debian's kernels
# have had unprivileged_userns_clone; Ubuntu 23.10 added the AppArmor one.
check_userns_settings() {
	local f bad=0
	f=/proc/sys/kernel/unprivileged_userns_clone
	if [[ -r $f && $(<"$f") == 0 ]]; then
		fail "kernel.unprivileged_userns_clone = 0: only root may create user namespaces" \
			"sudo sysctl -w kernel.unprivileged_userns_clone=1"
		bad=1
	fi
	f=/proc/sys/user/max_user_namespaces
	if [[ -r $f && $(<"$f") == 0 ]]; then
		fail "user.max_user_namespaces = 0: user namespaces are turned off" \
			"sudo sysctl -w user.max_user_namespaces=15000"
		bad=1
	fi
	f=/proc/sys/kernel/apparmor_restrict_unprivileged_userns
	if [[ -r $f && $(<"$f") == 1 ]]; then
		warn "kernel.apparmor_restrict_unprivileged_userns = 1: AppArmor (Ubuntu 23.10+) denies user namespaces to unprivileged programs" \
			"sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
		bad=1
	fi
	((bad)) || ok "user namespace settings allow unprivileged users"
}

# The real test: can an ordinary user create a user namespace and map
# itself to root in it? As root, drop to nobody (uid 65534) to ask.
check_userns_probe() {
	local who err
	local probe=(unshare --user --map-root-user true)
	has unshare || {
		warn "cannot probe user namespaces: no unshare" "sudo apt-get install util-linux"
		return
	}
	if ((EUID == 0)); then
		who="uid 65534"
		probe=(setpriv --reuid=65534 --regid=65534 --clear-groups "${probe[@]}")
	else
		who=$(id -un 2>/dev/null) || who="uid $EUID"
	fi
	if err=$(cd / && timeout 5 "${probe[@]}" 2>&1); then
		ok "unprivileged user namespaces work (unshare --user as $who)"
	else
		err=${err%%$'\n'*}
		warn "unprivileged user namespaces fail (unshare --user as $who): ${err:-no message}" \
			"rootless runs will fail here (runs as root still work); the settings above may say why"
	fi
}

# Built in, it is listed in /proc/filesystems; as a module, the first
# overlay mount loads it.
check_overlay() {
	if grep -qw overlay /proc/filesystems; then
		ok "overlay filesystem available (step 08)"
	elif has modprobe && modprobe -n overlay >/dev/null 2>&1; then
		ok "overlay filesystem available as a module, loaded on first use (step 08)"
	else
		fail "no overlay filesystem in this kernel (step 08 needs it)" \
			"use a kernel built with CONFIG_OVERLAY_FS, or \`sudo modprobe overlay\`"
	fi
}

# When we run in a container, prints its kind and the hint that told us;
# prints nothing otherwise. The hints, from the surest: files that docker
# and podman create, systemd's detector, PID 1's environment, its cgroup.
container_kind() {
	local kind env1
	if [[ -e /.dockerenv ]]; then
		echo "docker: /.dockerenv exists"
	elif [[ -e /run/.containerenv ]]; then
		echo "podman: /run/.containerenv exists"
	elif has systemd-detect-virt && kind=$(systemd-detect-virt --container 2>/dev/null); then
		echo "$kind, says systemd-detect-virt"
	elif env1=$(tr '\0' '\n' 2>/dev/null </proc/1/environ) &&
		[[ $env1 =~ (^|$'\n')container=([^$'\n']+) ]]; then
		echo "${BASH_REMATCH[2]}: container= in the environment of PID 1"
	elif grep -qE 'docker|kubepods|libpod|lxc' /proc/1/cgroup 2>/dev/null; then
		echo "/proc/1/cgroup names a container manager"
	fi
}

check_container() {
	local kind
	kind=$(container_kind)
	if [[ -z $kind ]]; then
		ok "not inside a container"
		return
	fi
	warn "running inside a container ($kind): cgroup writes, mounts and overlay may be refused" \
		"prefer a VM or a real machine; or start the container with --privileged --cgroupns=host"
	if [[ $(stat -f -c %T /) == overlayfs ]]; then
		note "/ is itself an overlay: step 08's overlay on top of it may be refused"
	fi
}

# Propagation of the / mount: findmnt, or the optional fields of
# /proc/self/mountinfo (field 7 up to "-": "shared:N" means shared).
# The kernel refuses a user namespace to a process whose root is not its
# mount namespace's root: a chroot (user_namespaces(7), EPERM).
check_chroot() {
	local init_root
	# Only root may look at init's root; without it, say nothing.
	init_root=$(stat -L -c %d:%i /proc/1/root 2>/dev/null) || return 0
	if [[ $(stat -c %d:%i /) == "$init_root" ]]; then
		ok "not inside a chroot"
		return
	fi
	warn "running inside a chroot: from step 05 on, clone() of a user namespace fails with EPERM" \
		"run the kit from a real root: a VM, a machine, or a container started with its own root"
}

root_propagation() {
	if has findmnt; then
		findmnt -no PROPAGATION / | tail -n 1
		return
	fi
	awk '$5 == "/" {
		p = "private"
		for (i = 7; $i != "-"; i++) if ($i ~ /^shared:/) p = "shared"
	} END { print p }' /proc/self/mountinfo
}

check_propagation() {
	local propagation
	propagation=$(root_propagation) || true
	ok "/ has ${propagation:-unknown} mount propagation"
	if [[ $propagation == *shared* ]]; then
		note "that is expected: the runtime makes its mount tree private before it mounts anything"
	fi
}

# cc and make build the steps; libc.a lets the test probes link statically.
check_toolchain() {
	local missing=() version
	has cc || missing+=(cc)
	has make || missing+=(make)
	if ((${#missing[@]})); then
		fail "no ${missing[*]}: the steps cannot be built" "sudo apt-get install build-essential"
		return
	fi
	version=$(cc --version 2>/dev/null) || true
	ok "toolchain: ${version%%$'\n'*}, make"
	if [[ $(cc -print-file-name=libc.a) != /* ]]; then
		warn "cc cannot link static programs (no libc.a); the test probes are static" \
			"sudo apt-get install libc6-dev"
	fi
}

main() {
	echo "$me: checking this machine"
	check_kernel
	check_root
	check_cgroups
	check_userns_settings
	check_userns_probe
	check_overlay
	check_container
	check_chroot
	check_propagation
	check_toolchain
	echo "$me: $oks ok, $(count "$warnings" warning), $(count "$failures" failure)"
	((failures == 0)) || exit 1
}

main "$@"
