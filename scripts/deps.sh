#!/usr/bin/env bash
# deps.sh - make sure the Debian packages boxlab needs are installed.
#
# Usage: scripts/deps.sh GROUP...      GROUP is "build", "test", "vm", "bench",
#                                      "cross", "vm-arm64", "fresh", "lint" or
#                                      "pictures"
#
# Every make target runs it first for the groups it needs, so that no
# target relies on another having run before it.  It prints nothing when
# everything is already installed.  Otherwise:
#   - as root on Debian or Ubuntu, installs what is missing with apt-get,
#     without prompts (it also runs in CI, with no terminal and no stdin);
#   - as another user, prints one line naming the missing packages and
#     the command that installs them, and fails;
#   - on other distributions, where it cannot tell what is installed,
#     names the Debian packages once, so you can find their equivalents,
#     and lets the target go on.
set -euo pipefail

readonly me="boxlab deps"

# build: the rootfs is made from Debian's busybox-static. It must be the
# static one: the rootfs has no libc, so a dynamically linked busybox could
# not even start in it. busybox-static conflicts with the "busybox" package;
# apt replaces that one, which is fine: busybox-static also "Provides:
# busybox", so whatever depended on it stays satisfied.
build_packages=(
	busybox-static       # the rootfs's every command
	libc6-dev            # libc.a: steps 01-08, the probe and the bench's timer are static
	# Steps 09 on read images: they link libarchive, jansson and nettle
	# statically (libarchive's own static dependencies come in packages
	# of their own), and load libcurl only to pull.
	libarchive-dev       # tar, gzip and zstd: unpacking layers
	libjansson-dev       # JSON: an image's index, manifest and config
	libcurl4-openssl-dev # <curl/curl.h>: pull loads libcurl when it runs
	nettle-dev           # SHA-256: every blob's digest (libarchive.a needs it too)
	libacl1-dev          # libarchive.a's dependencies, for the static link:
	liblzma-dev          #   ACLs, xz, zstd, lz4, bzip2, zlib
	libzstd-dev
	liblz4-dev
	libbz2-dev
	zlib1g-dev
	# Step 10 on builds its seccomp filter with libseccomp, linked statically.
	libseccomp-dev
)
readonly build_why="to build the steps and the busybox rootfs"

# test: one package per line, with what the tests use it for.
test_packages=(
	bats            # runs the isolation checks in tests/isolation
	bats-support    # helper library the checks load (output, failure messages)
	bats-assert     # assert_success, assert_output, ... in the checks
	bats-file       # assert_file_exists, ... in the checks
	libcmocka-dev   # cmocka headers and library for tests/unit
	pkg-config      # gives the compiler and linker flags for cmocka
	libc6-dev       # libc.a: the probes in tests/probes are linked statically
	iproute2        # `ip link`: leftover veths, what a net namespace holds
	util-linux      # unshare, nsenter, setpriv, findmnt: how the tests look
	procps          # ps and pgrep: the tests look for host processes
	iputils-ping    # ping: the workshop's veth session, re-run by its test
	strace          # the workshop's session that finds a refused system call
	libcap2-bin     # capsh: the workshop's sessions decode capability sets
	umoci           # the test image: an OCI layout made from busybox (step 09)
	skopeo          # the test image as a docker-archive, zstd; pushed to the registry
	docker-registry # a real registry on 127.0.0.1 to pull from
	openssl         # the registry's TLS certificates and its token's signature
	debootstrap     # a minimal Debian, the image tests' real distribution
)
readonly test_why="to run the tests"

# vm: tests/vm/run.sh boots a Debian kernel under qemu (software emulation,
# no KVM needed) to run the checks on a pure cgroup v2 machine.
vm_packages=(
	qemu-system-x86 # qemu-system-x86_64, the emulated machine
	e2fsprogs       # mkfs.ext4 -d: the test rootfs as the guest's disk
	busybox-static  # the guest's initramfs: insmod, mount, switch_root
)
readonly vm_why="to run the checks in a virtual machine"

# bench: the tools `make bench` times beside the steps. chroot and unshare
# come with every Debian; a tool that cannot be installed is skipped.
bench_packages=(
	bubblewrap # bwrap, the sandbox of Flatpak
	crun       # the OCI runtime in C of Podman
	runc       # the OCI runtime in Go of Docker and containerd
)
readonly bench_why="to time other runtimes beside the steps"

# cross: the steps, the probe and the bench's timer built for 64-bit ARM
# (make arm64), static as on the host.
cross_packages=(
	gcc-aarch64-linux-gnu # aarch64-linux-gnu-gcc, Debian's cross compiler
	libc6-dev-arm64-cross # the arm64 libc.a the static binaries link
)
readonly cross_why="to build the steps for arm64"

# vm-arm64: tests/vm/run.sh with VM_ARCH=arm64 boots Debian's arm64 kernel
# on an emulated ARM machine, its programs unpacked from Debian's archive.
vm_arm64_packages=(
	qemu-system-arm # qemu-system-aarch64, the emulated machine
	debootstrap     # unpacks Debian's arm64 packages for the guest's root
	e2fsprogs       # mkfs.ext4 -d: the test rootfs as the guest's disk
	busybox-static  # cpio for the initramfs; lists the arm64 busybox's applets
)
readonly vm_arm64_why="to run the checks in an arm64 virtual machine"

# fresh: tests/fresh/run.sh boots a learner's fresh Debian 12 under qemu
# and runs the kit there the first time.
fresh_packages=(
	debootstrap     # makes the learner's Debian from Debian's archive
	qemu-system-x86 # qemu-system-x86_64, the emulated machine
	e2fsprogs       # mkfs.ext4 -d and resize2fs: the Debian tree as its disk
	busybox-static  # the guest's initramfs: insmod, mount, ip, switch_root
)
readonly fresh_why="to try the kit on a fresh machine"

# lint: make lint checks the C's layout and the shell scripts.
lint_packages=(
	clang-format # the C as .clang-format lays it out
	shellcheck   # the scripts and the tests, warnings and errors
)
readonly lint_why="to check the code's layout and the scripts"

# pictures: make pictures draws the workshop's pictures, docs/pictures.
pictures_packages=(
	graphviz      # dot: docs/pictures/*.dot to SVG
	libxml2-utils # xmllint: every picture is well-formed XML
)
readonly pictures_why="to draw the workshop's pictures"

usage() {
	echo "usage: $0 GROUP...   (GROUP is build, test, vm, bench, cross, vm-arm64, fresh, lint or pictures)" >&2
	exit 2
}

die() {
	echo "$me: $*" >&2
	exit 1
}

# Debian-like means we can both ask dpkg and install with apt-get.
is_debian_like() {
	command -v dpkg-query >/dev/null && command -v apt-get >/dev/null
}

is_installed() {
	local status
	status=$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) || true
	[[ $status == installed ]]
}

# apt-get's words for "I do not know this package (yet)" or "this file is
# gone from the mirror": both mean the package lists are empty or stale.
lists_look_stale() {
	grep -qE 'Unable to locate package|has no installation candidate|Failed to fetch|run apt-get update' "$1"
}

# One apt-get install. Its output goes to the terminal and to a log that
# lists_look_stale reads. Lock::Timeout waits for another apt (for example
# unattended-upgrades on a fresh CI machine) instead of failing at once.
apt_install() {
	local log=$1
	shift
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends -o DPkg::Lock::Timeout=120 "$@" \
		</dev/null 2>&1 | tee "$log"
}

apt_log=""
remove_apt_log() {
	if [[ -n $apt_log ]]; then rm -f "$apt_log"; fi
}

# A new machine or image may have no package lists at all (debootstrap
# and Docker's images leave them empty): apt-get would only say it knows
# none of the packages.
lists_are_empty() {
	! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null
}

install_packages() {
	apt_log=$(mktemp)
	trap remove_apt_log EXIT
	if lists_are_empty; then
		echo "$me: apt has no package lists yet; running apt-get update first"
		apt-get update -q </dev/null || die "apt-get update failed (see above)"
	fi
	apt_install "$apt_log" "$@" && return
	lists_look_stale "$apt_log" || die "apt-get install failed (see above)"
	echo "$me: the package lists look empty or stale; running apt-get update once"
	apt-get update -q </dev/null || die "apt-get update failed (see above)"
	apt_install "$apt_log" "$@" || die "apt-get install failed (see above)"
}

main() {
	local group pkg before because
	local seen=" " packages=() all=() missing=() reasons=()

	(($# > 0)) || usage
	for group in "$@"; do
		[[ $seen == *" $group "* ]] && continue
		seen+="$group "
		case $group in
		build) packages=("${build_packages[@]}") because=$build_why ;;
		test) packages=("${test_packages[@]}") because=$test_why ;;
		vm) packages=("${vm_packages[@]}") because=$vm_why ;;
		bench) packages=("${bench_packages[@]}") because=$bench_why ;;
		cross) packages=("${cross_packages[@]}") because=$cross_why ;;
		vm-arm64) packages=("${vm_arm64_packages[@]}") because=$vm_arm64_why ;;
		fresh) packages=("${fresh_packages[@]}") because=$fresh_why ;;
		lint) packages=("${lint_packages[@]}") because=$lint_why ;;
		pictures) packages=("${pictures_packages[@]}") because=$pictures_why ;;
		*) usage ;;
		esac
		all+=("${packages[@]}")
		is_debian_like || continue
		before=${#missing[@]}
		for pkg in "${packages[@]}"; do
			is_installed "$pkg" || missing+=("$pkg")
		done
		((${#missing[@]} == before)) || reasons+=("$because")
	done

	if ! is_debian_like; then
		echo "$me: cannot check packages here (no dpkg-query or apt-get); the kit needs the equivalents of Debian's ${all[*]}" >&2
		exit 0
	fi

	((${#missing[@]} > 0)) || exit 0

	if ((EUID != 0)); then
		because=$(printf '%s and ' "${reasons[@]}")
		echo "$me: missing ${missing[*]} (${because% and }): install them with \`sudo apt-get install ${missing[*]}\`" >&2
		exit 1
	fi

	because=$(printf '%s and ' "${reasons[@]}")
	echo "$me: installing ${missing[*]} (${because% and })"
	install_packages "${missing[@]}"
}

main "$@"
