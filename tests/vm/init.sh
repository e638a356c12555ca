#!/bin/busybox sh
# shellcheck shell=dash
# The /init of the initramfs tests/vm/run.sh boots: it turns the host's
# files into the guest's root and hands over to tests/vm/guest.sh.
#
# What it builds, from what qemu gives the guest:
#   - the host's / (9p share "host", read-only) under a tmpfs overlay, so
#     the guest runs the host's programs and may write anywhere;
#   - the test rootfs (virtio disk vda, ext4) over REPO/build/test-rootfs,
#     and the rootless one (vdb), if given, over build/test-rootfs-rootless;
#   - /results, the host's build/vm/vmN/results (9p share "results");
#   - /proc, /sys, /dev, /tmp, /run, and cgroup2 alone at /sys/fs/cgroup;
#   - an interface eth0 besides lo, as a host has.
#
# Its settings come from the kernel command line (run.sh writes them):
#   boxlab.repo=DIR              the repository, same path as on the host
#   boxlab.steps=STEP,STEP...    the steps to check as root
#   boxlab.rootless=STEP,...     the steps to check rootless too (or none)
#   boxlab.root=DIR              the guest's root: DIR of the host's files
#                                (a tree of another architecture's
#                                packages), with the repository overlaid
#                                at its own path; the host's / by default
#   boxlab.cross=DIR             binaries built for the guest, in DIR of the
#                                repository (DIR/STEP/container, DIR/probe),
#                                over the ones the checks run
set -eu

newroot=/newroot

# shellcheck disable=SC2034 # read by /lib.sh (tests/vm/initlib.sh)
init_name="boxlab vm init"
# start_initramfs, say, die, cmdline_value, load_modules, mount_system
. /lib.sh

# overlay_on LOWER DIR NAME: LOWER at DIR, writable: a tmpfs upper dir
# takes what the tests write.
overlay_on() {
	mkdir -p "/rw/$3/upper" "/rw/$3/work"
	mount -t overlay -o "lowerdir=$1,upperdir=/rw/$3/upper,workdir=/rw/$3/work" "$3" "$2"
}

# The host's / read-only (or the tree in it that boxlab.root names, with
# the repository at its path), a tmpfs on top for every write the tests
# make.  cache=loose: the host's files do not change under a run, so the
# guest keeps what it has read instead of asking the host again for each
# exec.
mount_root() {
	local root=$1 repo=$2
	mkdir -p /host /rw "$newroot"
	mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 host /host ||
		die "cannot mount the host's / (9p share \"host\")"
	mount -t tmpfs -o mode=755 rw /rw
	overlay_on "/host${root%/}" "$newroot" root || die "cannot put an overlay on the host's ${root:-/}"
	[ "${root:-/}" = / ] && return
	mkdir -p "$newroot$repo"
	overlay_on "/host$repo" "$newroot$repo" repo || die "cannot put an overlay on the host's $repo"
}

# The test rootfs on virtio disks: an id-mapped mount of it works on ext4
# (not on an overlay of 9p, where mount_setattr says EINVAL).
mount_test_rootfs() {
	local repo=$1
	mkdir -p "$newroot$repo/build/test-rootfs"
	mount -t ext4 /dev/vda "$newroot$repo/build/test-rootfs" ||
		die "cannot mount the test rootfs (ext4 on /dev/vda)"
	if [ -b /dev/vdb ]; then
		mount -t ext4 /dev/vdb "$newroot$repo/build/test-rootfs-rootless" ||
			die "cannot mount the rootless test rootfs (ext4 on /dev/vdb)"
	fi
}

# bind_cross REPO DIR: the binaries built for the guest in DIR over the
# host's, where the checks run them (an empty file stands in for one the
# host has not built).
bind_cross() {
	local r=$newroot$1 dir=$1/$2 bin target
	for bin in "$newroot$dir"/step*/container "$newroot$dir/probe"; do
		[ -f "$bin" ] || continue
		case $bin in
		*/probe) target=$r/build/probe ;;
		*) target=$r/${bin#"$newroot$dir"/} ;;
		esac
		[ -e "$target" ] || touch "$target"
		mount --bind "$bin" "$target" || die "cannot put $bin over $target"
	done
}

# Where the guest leaves its results for the host.
mount_results() {
	mkdir -p "$newroot/results"
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results "$newroot/results" ||
		die "cannot mount the results share (9p share \"results\")"
}

# mount_tmp DIR: the empty ext4 disk of 2 GiB (4194304 sectors), the
# last disk, on DIR.
mount_tmp() {
	local disk
	for disk in "$newroot"/sys/block/vd*; do
		[ "$(cat "$disk/size")" = 4194304 ] || continue
		mount -t ext4 "$newroot/dev/${disk##*/}" "$1" || die "cannot mount the /tmp disk (ext4 on /dev/${disk##*/})"
		chmod 1777 "$1"
		return 0
	done
	die "no disk of 2 GiB for /tmp"
}

# What a booted system has (mount_system), and the rest the checks need.
mount_test_system() {
	local r=$newroot
	mount_system "$r" newinstance,ptmxmode=0666
	# /tmp on a disk of its own, as on a host: the tests make --layer
	# dirs there, which step 08 refuses on an overlay, and step 09's
	# stores, which need ext4's extended attributes.  A repository cloned
	# under /tmp is carried over onto it, with the test rootfs mounted in it.
	case $1 in
	/tmp/*)
		mkdir -p /repo
		mount -o rbind "$r$1" /repo
		mount_tmp "$r/tmp"
		mkdir -p "$r$1"
		mount --move /repo "$r$1"
		;;
	*) mount_tmp "$r/tmp" ;;
	esac
	mount -t tmpfs -o mode=755 run "$r/run"
	# Step 08's overlays keep their upper dirs here, and an overlay's
	# upper dir cannot be on overlayfs: a host has it on its disk.
	mkdir -p "$r/var/lib/boxlab"
	mount -t tmpfs -o mode=755 boxlab "$r/var/lib/boxlab"
}

# The guest's own network: lo, and a dummy eth0 for the host's side.
set_up_network() {
	hostname boxlab-vm
	ip link set lo up
	ip link add eth0 type dummy
	ip link set eth0 up
}

main() {
	local repo steps cross

	start_initramfs

	repo=$(cmdline_value boxlab.repo)
	steps=$(cmdline_value boxlab.steps)
	[ -n "$repo" ] || die "no boxlab.repo= on the kernel command line"
	VM_ROOTLESS_STEPS=$(cmdline_value boxlab.rootless | tr , ' ')
	export VM_ROOTLESS_STEPS

	load_modules
	mount_root "$(cmdline_value boxlab.root)" "$repo"
	mount_test_rootfs "$repo"
	cross=$(cmdline_value boxlab.cross)
	[ -z "$cross" ] || bind_cross "$repo" "$cross"
	mount_results
	mount_test_system "$repo"
	set_up_network
	# switch_root, not chroot: the kernel refuses a user namespace to a
	# chrooted process (clone says EPERM), and step 05 makes one.
	# shellcheck disable=SC2046 # unquoted: a word per step
	exec switch_root "$newroot" /bin/bash "$repo/tests/vm/guest.sh" $(echo "$steps" | tr , ' ')
}

main "$@"
