#!/bin/busybox sh
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
set -eu

newroot=/newroot

say() {
	echo "boxlab vm init: $*"
}

# The host shows the console when no status came back: say why, and power
# off (an init that exits would bury this under a kernel panic).
die() {
	say "$*"
	poweroff -f
}

# The value of NAME=VALUE on the kernel command line.
cmdline_value() {
	local word
	for word in $(cat /proc/cmdline); do
		case $word in
		"$1"=*) echo "${word#*=}" ;;
		esac
	done
}

# The modules in the order run.sh listed them: each after its dependencies
# (there is no modprobe here to work that out).
load_modules() {
	local name
	while read -r name; do
		insmod "/modules/$name.ko" || die "insmod $name.ko failed"
	done </modules/order
}

# The host's / read-only, a tmpfs on top for every write the tests make.
# cache=loose: the host's files do not change under a run, so the guest
# keeps what it has read instead of asking the host again for each exec.
mount_root() {
	mkdir -p /host /rw "$newroot"
	mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 host /host ||
		die "cannot mount the host's / (9p share \"host\")"
	mount -t tmpfs -o mode=755 rw /rw
	mkdir -p /rw/upper /rw/work
	mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work root "$newroot" ||
		die "cannot put an overlay on the host's /"
}

# The test rootfs on virtio disks: an id-mapped mount of it works on ext4
# (not on an overlay of 9p, where mount_setattr says EINVAL).
mount_test_rootfs() {
	local repo=$1
	mount -t ext4 /dev/vda "$newroot$repo/build/test-rootfs" ||
		die "cannot mount the test rootfs (ext4 on /dev/vda)"
	if [ -b /dev/vdb ]; then
		mount -t ext4 /dev/vdb "$newroot$repo/build/test-rootfs-rootless" ||
			die "cannot mount the rootless test rootfs (ext4 on /dev/vdb)"
	fi
}

# Where the guest leaves its results for the host.
mount_results() {
	mkdir -p "$newroot/results"
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results "$newroot/results" ||
		die "cannot mount the results share (9p share \"results\")"
}

# What a booted system has; cgroup2 alone at /sys/fs/cgroup makes this a
# pure cgroup v2 machine, mounted with the options systemd uses.
mount_system() {
	local r=$newroot
	mount --move /proc "$r/proc"
	mount --move /dev "$r/dev"
	mount -t sysfs sysfs "$r/sys"
	mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 "$r/sys/fs/cgroup"
	mkdir -p "$r/dev/pts" "$r/dev/shm"
	mount -t devpts -o newinstance,ptmxmode=0666 devpts "$r/dev/pts"
	mount -t tmpfs -o mode=1777 shm "$r/dev/shm"
	ln -sf /proc/self/fd "$r/dev/fd"
	# /tmp on a tmpfs, as on a host: the tests make --layer dirs there,
	# which step 08 refuses on an overlay.  A repository cloned under /tmp
	# is carried over onto it, with the test rootfs mounted in it.
	case $1 in
	/tmp/*)
		mkdir -p /repo
		mount -o rbind "$r$1" /repo
		mount -t tmpfs -o mode=1777 tmp "$r/tmp"
		mkdir -p "$r$1"
		mount --move /repo "$r$1"
		;;
	*) mount -t tmpfs -o mode=1777 tmp "$r/tmp" ;;
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
	local repo steps

	/bin/busybox mkdir -p /proc /sys /dev /usr/bin /usr/sbin /sbin
	/bin/busybox --install -s
	mount -t proc proc /proc
	mount -t devtmpfs devtmpfs /dev
	exec </dev/console >/dev/console 2>&1

	repo=$(cmdline_value boxlab.repo)
	steps=$(cmdline_value boxlab.steps)
	[ -n "$repo" ] || die "no boxlab.repo= on the kernel command line"
	VM_ROOTLESS_STEPS=$(cmdline_value boxlab.rootless | tr , ' ')
	export VM_ROOTLESS_STEPS

	load_modules
	mount_root
	mount_test_rootfs "$repo"
	mount_results
	mount_system "$repo"
	set_up_network
	# switch_root, not chroot: the kernel refuses a user namespace to a
	# chrooted process (clone says EPERM), and step 05 makes one.
	# (unquoted: a word per step)
	exec switch_root "$newroot" /bin/bash "$repo/tests/vm/guest.sh" $(echo "$steps" | tr , ' ')
}

main "$@"
