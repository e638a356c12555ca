#!/usr/bin/env bash
# The learner's machine before they touch it: a minimal Debian 12 made by
# debootstrap from Debian's archive, with what the README asks for (make,
# a C compiler, git, apt) and nothing the kit installs itself (bats,
# busybox, cmocka).  tests/fresh/run.sh makes it once and makes it again
# when this file changes.
#
#   tests/fresh/mkroot.sh DIR KERNEL_DEB      (as root)
#
# KERNEL_DEB is the kernel the machine boots: its /boot and /lib/modules
# go into the tree, as an installed kernel's do, so that the kernel loads
# overlay, veth and the rest on demand (kmod's modprobe).
set -euo pipefail
cd "$(dirname "$0")/../.."

readonly me="boxlab fresh"
# shellcheck source=tests/vm/lib.sh
source tests/vm/lib.sh
# minbase: the packages Debian cannot work without.  kmod comes with any
# kernel a learner boots; the rest is what the README says to have.
readonly include=make,gcc,libc6-dev,git,kmod

# debootstrap mounts /proc and /sys in the tree while it configures the
# packages; a run that stops half-way leaves them there.
unmount_under() {
	local dir=$1 mnt
	while read -r mnt; do
		umount -l "$mnt" || true
	done < <(awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
}

# The kernel and its modules, as installing its package puts them, with
# the index modprobe reads.
add_kernel() {
	local tree=$1 deb=$2 unpacked version
	unpacked=$(mktemp -d "$tree.kernel.XXXXXX")
	dpkg -x "$deb" "$unpacked"
	version=$(basename "$unpacked"/lib/modules/*)
	mkdir -p "$tree/lib/modules" "$tree/boot"
	cp -a "$unpacked/lib/modules/$version" "$tree/lib/modules/"
	cp "$unpacked/boot/vmlinuz-$version" "$tree/boot/"
	rm -rf "$unpacked"
	chroot "$tree" depmod "$version"
}

# What a machine set up by hand has: a name, a root with no password
# (the console logs in by itself), and sources.list as debootstrap wrote
# it, Debian's archive alone.  The package lists stay empty, as
# debootstrap leaves them: the kit's first apt-get must cope.
configure() {
	local tree=$1
	echo learner-vm >"$tree/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\tlearner-vm\n' >"$tree/etc/hosts"
	chroot "$tree" passwd -d root >/dev/null
	rm -rf "$tree"/var/lib/apt/lists/* "$tree"/var/cache/apt/archives/*.deb
}

tmp=""
main() {
	local dir=${1:-} deb=${2:-}
	[[ -n $dir && -f $deb ]] || die "usage: $0 DIR KERNEL_DEB"
	((EUID == 0)) || die "run me as root (debootstrap chroots and makes device files)"
	command -v debootstrap >/dev/null || die "no debootstrap: scripts/deps.sh fresh installs it"
	tmp=$dir.tmp
	unmount_under "$tmp"
	rm -rf "$tmp"
	trap '[[ -z $tmp ]] || unmount_under "$tmp"' EXIT
	echo "$me: debootstrap $vm_suite from $vm_mirror into $tmp (a few minutes)"
	debootstrap --variant=minbase --include="$include" "$vm_suite" "$tmp" "$vm_mirror" >"$tmp.log" 2>&1 ||
		die "debootstrap failed: $(tail -n 20 "$tmp.log")"
	unmount_under "$tmp"
	add_kernel "$tmp" "$deb"
	configure "$tmp"
	rm -rf "$dir"
	mv "$tmp" "$dir"
	echo "$me: $dir is ready ($(du -sm "$dir" | cut -f1) MB)"
}

main "$@"
