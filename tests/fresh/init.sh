#!/bin/busybox sh
# shellcheck shell=dash
# The /init of the initramfs tests/fresh/run.sh boots: it starts the
# learner's machine, a Debian 12 on the virtio disk vda, and hands over
# to tests/fresh/guest.sh, as the login shell of a learner would be.
#
# What it sets up, as a booted Debian has it:
#   - / the disk's ext4, writable (qemu throws the writes away);
#   - /proc, /sys, /dev, /dev/pts, /dev/shm, /run, /tmp, and cgroup2
#     alone at /sys/fs/cgroup (a pure cgroup v2 machine); / shared, as
#     systemd makes it;
#   - eth0 on qemu's user network (10.0.2.15/24, gateway 10.0.2.2, DNS
#     10.0.2.3), through which apt reaches Debian's archive;
#   - the host's repository, read-only, at the same path (9p share "kit"),
#     for the learner to clone; /mnt/results, where the guest writes its
#     transcript and status for the host (9p share "results").
#
# Its settings come from the kernel command line (run.sh writes them):
#   boxlab.repo=DIR          the repository's path on the host
#   boxlab.stages=A,B,...    what guest.sh runs (shell,doctor,check,demo,lab)
#   boxlab.demo_steps=S,...  the columns of the demo's matrix ("none": no matrix)
set -eu

newroot=/newroot

# shellcheck disable=SC2034 # read by /lib.sh (tests/vm/initlib.sh)
init_name="boxlab fresh init"
# start_initramfs, say, die, cmdline_value, load_modules, mount_system
. /lib.sh

mount_disk() {
	mkdir -p "$newroot"
	mount -t ext4 /dev/vda "$newroot" || die "cannot mount the learner's disk (ext4 on /dev/vda)"
}

# The 9p shares: the repository at its host path, and the results.
mount_shares() {
	local repo=$1
	mkdir -p "$newroot$repo" "$newroot/mnt/results"
	mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000 kit "$newroot$repo" ||
		die "cannot mount the repository (9p share \"kit\")"
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results "$newroot/mnt/results" ||
		die "cannot mount the results share (9p share \"results\")"
}

# What systemd mounts on a Debian 12.
mount_learners_system() {
	local r=$newroot
	mount_system "$r" gid=5,mode=620,ptmxmode=000
	ln -sf pts/ptmx "$r/dev/ptmx"
	mount -t tmpfs -o mode=755 run "$r/run"
	mount -t tmpfs -o mode=1777 tmp "$r/tmp"
}

# qemu's user network, set statically: the addresses its DHCP would give.
set_up_network() {
	hostname learner-vm
	ip link set lo up
	ip link set eth0 up || die "no eth0 (virtio_net)"
	ip addr add 10.0.2.15/24 dev eth0
	ip route add default via 10.0.2.2
	echo "nameserver 10.0.2.3" >"$newroot/etc/resolv.conf"
}

main() {
	local repo stages demo_steps

	start_initramfs

	repo=$(cmdline_value boxlab.repo)
	stages=$(cmdline_value boxlab.stages)
	demo_steps=$(cmdline_value boxlab.demo_steps)
	[ -n "$repo" ] || die "no boxlab.repo= on the kernel command line"

	load_modules
	mount_disk
	# The shares after the system's mounts: a repository under /tmp (as a
	# clean clone may be) goes on top of the guest's /tmp, not under it.
	mount_learners_system
	mount_shares "$repo"
	set_up_network
	# switch_root, not chroot: the kernel refuses a user namespace to a
	# chrooted process, and step 05 makes one.
	exec switch_root "$newroot" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root TERM=xterm LANG=C.UTF-8 FRESH_STAGES="$stages" FRESH_DEMO_STEPS="$demo_steps" \
		/bin/bash "$repo/tests/fresh/guest.sh" "$repo"
}

main "$@"
