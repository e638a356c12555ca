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
#
# Where it runs matters too: inside a Docker (or podman) container, a
# GitHub Codespace (a Docker container) or WSL2, some steps cannot work or
# work differently; the doctor says which, and what to do.
#
# For its tests, BOXLAB_DOCTOR_ROOT=DIR reads the files that tell where we
# run (/.dockerenv, /run/.containerenv, /proc/version, /proc/1/environ,
# /proc/1/cgroup, /proc/1/comm, /proc/self/status, /proc/self/mountinfo,
# the user namespace knobs in /proc/sys) from DIR instead of /, and skips
# systemd-detect-virt.
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

# The machine's file PATH, or its stand-in under BOXLAB_DOCTOR_ROOT.
readonly fake_root=${BOXLAB_DOCTOR_ROOT:-}
sys() {
	echo "$fake_root$1"
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
# unified/ in the hybrid layout.  Kept in cgroup_layout for check_wsl
# (empty when there is no cgroup filesystem).
cgroup_layout=""
check_cgroups() {
	local type controllers missing
	type=$(stat -f -c %T /sys/fs/cgroup 2>/dev/null) || type="nothing"
	case $type in
	cgroup2fs)
		cgroup_layout="v2 (unified)"
		controllers=$(</sys/fs/cgroup/cgroup.controllers)
		;;
	tmpfs)
		cgroup_layout="v1"
		if [[ $(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null) == cgroup2fs ]]; then
			cgroup_layout="hybrid (v1 controllers + empty cgroup2)"
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
		ok "cgroups: $cgroup_layout"
		note "controllers: $controllers"
	else
		warn "cgroups: $cgroup_layout, controllers: ${controllers:-none}; missing: ${missing% } (the limit steps need them)" \
			"see /proc/cgroups and /proc/cmdline: a cgroup_disable= or a v1 mount may hold them"
	fi
}

# The knobs that can forbid unprivileged user namespaces. Debian's kernels
# have had unprivileged_userns_clone; Ubuntu 23.10 added the AppArmor one.
check_userns_settings() {
	local f bad=0
	f=$(sys /proc/sys/kernel/unprivileged_userns_clone)
	if [[ -r $f && $(<"$f") == 0 ]]; then
		fail "kernel.unprivileged_userns_clone = 0: only root may create user namespaces" \
			"sudo sysctl -w kernel.unprivileged_userns_clone=1"
		bad=1
	fi
	f=$(sys /proc/sys/user/max_user_namespaces)
	if [[ -r $f && $(<"$f") == 0 ]]; then
		fail "user.max_user_namespaces = 0: user namespaces are turned off" \
			"sudo sysctl -w user.max_user_namespaces=15000"
		bad=1
	fi
	f=$(sys /proc/sys/kernel/apparmor_restrict_unprivileged_userns)
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
# and podman create, systemd's detector, PID 1's environment, its cgroup,
# an overlay as the root filesystem.
# WSL2 is not one of them: systemd-detect-virt calls it "wsl", but it is a
# light VM with a real kernel, and check_wsl speaks of it.
container_kind() {
	local kind env1
	if [[ -e $(sys /.dockerenv) ]]; then
		echo "docker: /.dockerenv exists"
	elif [[ -e $(sys /run/.containerenv) ]]; then
		echo "podman: /run/.containerenv exists"
	elif [[ -z $fake_root ]] && has systemd-detect-virt &&
		kind=$(systemd-detect-virt --container 2>/dev/null) && [[ $kind != wsl ]]; then
		echo "$kind, says systemd-detect-virt"
	elif env1=$(tr '\0' '\n' 2>/dev/null <"$(sys /proc/1/environ)") &&
		[[ $env1 =~ (^|$'\n')container=([^$'\n']+) ]]; then
		echo "${BASH_REMATCH[2]}: container= in the environment of PID 1"
	elif grep -qE 'docker|kubepods|libpod|lxc' "$(sys /proc/1/cgroup)" 2>/dev/null; then
		echo "/proc/1/cgroup names a container manager"
	elif [[ $(mount_of /) == "overlay "* ]]; then
		echo "/ is an overlay, as in a Docker container"
	fi
}

# The mount of MOUNTPOINT in /proc/self/mountinfo (the last one, the one
# on top): "FSTYPE OPTIONS", such as "overlay rw,relatime".
mount_of() {
	awk -v m="$1" '$5 == m {
		for (i = 7; $i != "-"; i++) ;
		found = $(i + 1) " " $6
	} END { if (found != "") print found }' "$(sys /proc/self/mountinfo)" 2>/dev/null
}

# Can root here hold capability number BIT?  The bounding set says, for
# root and for a user alike (CapBnd of /proc/self/status): `docker run`
# takes capabilities out of it, and no process in the container gets back
# what it lacks.
can_have_capability() {
	local bounding
	bounding=$(awk '$1 == "CapBnd:" { print $2 }' "$(sys /proc/self/status)" 2>/dev/null)
	[[ -n $bounding ]] && (((16#$bounding >> $1) & 1))
}

# What a container lets the steps do, as notes under its WARN line: the
# three things `docker run` takes away unless given --privileged.
container_limits() {
	local missing=0 seccomp cgroup root
	# CAP_SYS_ADMIN is capability 21 (capability.h).
	if ! can_have_capability 21; then
		note "no CAP_SYS_ADMIN (not --privileged): steps 02-08 fail at their first clone() or mount with EPERM"
		missing=1
	fi
	seccomp=$(awk '$1 == "Seccomp:" { print $2 }' "$(sys /proc/self/status)" 2>/dev/null) || true
	if [[ $seccomp == 2 ]]; then
		note "a seccomp filter (Docker's default profile) refuses namespaces, mount and pivot_root: EPERM from step 02 on"
		missing=1
	fi
	cgroup=$(mount_of /sys/fs/cgroup/memory)
	[[ -n $cgroup ]] || cgroup=$(mount_of /sys/fs/cgroup)
	if [[ ${cgroup#* } =~ (^|,)ro(,|$) ]]; then
		note "/sys/fs/cgroup is read-only: steps 07 and 08 make a cgroup for every run and fail with EROFS"
		missing=1
	fi
	root=$(mount_of /)
	if [[ ${root%% *} == overlay ]]; then
		note "/ is itself an overlay: step 08's overlay on top of it may be refused"
	fi
	if ((!missing)); then
		note "it has CAP_SYS_ADMIN, no seccomp filter and a writable /sys/fs/cgroup, as with --privileged"
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
	container_limits
}

# WSL2 runs a real Linux kernel in a light VM: the namespaces work, but
# its cgroups may be v1 or hybrid (check_cgroups measured which), and
# systemd runs only when asked.  WSL 1 has no Linux kernel at all.
check_wsl() {
	local version release init
	version=$(cat "$(sys /proc/version)" 2>/dev/null) || return 0
	release=$(awk '{ print $3 }' <<<"$version")
	if [[ $version == *WSL2* || $version == *microsoft-standard* ]]; then
		warn "running in WSL2 (kernel $release): namespaces and overlay work, but cgroups and systemd differ from a VM" \
			"a Debian 12 or Ubuntu 24.04 VM is the tested path; to stay in WSL2, see the notes below"
		if [[ $cgroup_layout == v1 || $cgroup_layout == hybrid* ]]; then
			note "its cgroups are $cgroup_layout, which the kit handles; for the pure v2 of current distributions, put"
			note "kernelCommandLine = cgroup_no_v1=all under [wsl2] in %UserProfile%\\.wslconfig, then \`wsl --shutdown\`"
		fi
		init=$(cat "$(sys /proc/1/comm)" 2>/dev/null) || init=""
		if [[ $init != systemd ]]; then
			note "systemd is not PID 1 (${init:-unknown} is): the kit does not need it; to have it as on a VM,"
			note "set systemd=true under [boot] in /etc/wsl.conf"
		fi
	elif [[ $version == *Microsoft* ]]; then
		fail "running in WSL 1 ($release): it translates Linux calls, with no Linux kernel: no namespaces, no cgroups" \
			"convert the distribution with \`wsl --set-version DISTRO 2\` in Windows, or use a VM"
	fi
}

# GitHub Codespaces runs a dev container, a Docker container on a cloud
# VM: the container line above says what it takes away.
check_codespaces() {
	[[ ${CODESPACES:-} == true ]] || return 0
	warn "running in GitHub Codespaces (CODESPACES=true): a Docker container, with a container's limits (see its line)" \
		"use a VM; or give the dev container \"privileged\": true in .devcontainer/devcontainer.json and rebuild it"
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
	check_codespaces
	check_wsl
	check_chroot
	check_propagation
	check_toolchain
	echo "$me: $oks ok, $(count "$warnings" warning), $(count "$failures" failure)"
	((failures == 0)) || exit 1
}

main "$@"
