#!/usr/bin/env bash
# The isolation matrix on a pure cgroup v2 machine: boots Debian's 6.1
# kernel under qemu (software emulation: no KVM needed), with the host's
# files shared read-only, and runs tests/matrix.sh there as root.
#
#   tests/vm/run.sh step01-chroot step02-pid-ns ...      (as root)
#   VM_ROOTLESS=1 tests/vm/run.sh ...   also the rootless matrix (05 on)
#   VM_JOBS=N tests/vm/run.sh ...       N machines at once (default: one
#                                       per CPU), each with some steps
#   VM_ARCH=arm64 tests/vm/run.sh ...   a 64-bit ARM machine, one at a time
#
# The steps' binaries, build/probe and build/test-rootfs (rootless, also
# build/test-rootfs-rootless) must be built.  Everything this script
# makes stays in build/vm: the kernel package (downloaded once), the
# initramfs, the test rootfs as ext4 images, and for each machine N,
# vmN/console.log and vmN/results, the share its guest writes to.  The
# guests' TAP files end up in build/vm/tap, not in make test's build/tap:
# the two may run side by side (as in CI).  Exits 0 when
# every machine ran every check as expected.
#
# VM_ARCH=arm64: the steps and the probe cross-built in build/arm64 (make
# arm64) run on Debian's arm64 kernel under qemu-system-aarch64.  The
# guest's programs (bash, bats, ip, ...) come from a tree of Debian's arm64
# packages; its test rootfs is made of arm64 busybox-static and the arm64
# probe.  All of it is kept in build/vm-arm64, the tree made again only
# when its package list changes; TAP files in build/vm-arm64/tap.
set -euo pipefail
cd "$(dirname "$0")/../.."

readonly me="boxlab vm"
readonly top=$PWD
readonly arch=${VM_ARCH:-amd64}
# shellcheck source=tests/vm/lib.sh
source tests/vm/lib.sh
set_arch "$arch"
if [[ $arch == amd64 ]]; then
	readonly vm=build/vm cross=""
	# A column of the matrix takes about 5 minutes under emulation: a
	# machine that takes half as long again, plus a minute to boot, hangs.
	readonly seconds_per_column=450 seconds_to_boot=60
	# The test rootfs, and the rootless user's copy of it.
	readonly rootfs=build/test-rootfs rootless_rootfs=build/test-rootfs-rootless
else
	# The binaries built for the guest, and its root tree.
	readonly vm=build/vm-$arch cross=build/$arch
	readonly guest_tree=build/vm-$arch/tree
	# Step 08's column took 4 minutes on an arm64 machine emulated on two
	# amd64 cores; a machine that takes four times as long hangs.
	readonly seconds_per_column=900 seconds_to_boot=120
	readonly rootfs=build/$arch/test-rootfs rootless_rootfs=build/$arch/test-rootfs-rootless
fi

# The guest's own programs, when they are not the host's: what the checks
# run (bats and its libraries, ip, ps, unshare, setpriv, findmnt), a static
# busybox for the initramfs and the test rootfs, and the kernel, whose
# /boot/vmlinuz and /lib/modules come with it.
readonly tree_packages=(bats bats-support bats-assert bats-file iproute2 procps util-linux
	busybox-static kmod "linux-image-$arch")

# The modules the guest loads; what they depend on comes along.  virtio_pci
# and virtio_blk: qemu's devices; 9pnet_virtio and 9p: the host's files;
# ext4 (whose checksums need crc32c_generic, which nothing loads on demand
# here): the test rootfs; overlay: a writable root; veth: --net veth;
# dummy: an interface besides lo, as a host has, for the checks to hide.
readonly modules=(virtio_pci virtio_blk 9pnet_virtio 9p crc32c_generic ext4 overlay veth dummy)

usage() {
	echo "usage: $0 STEP...   (step directories, e.g. step01-chroot step06-net-ns)" >&2
	exit 2
}

check_inputs() {
	local dir
	((EUID == 0)) || die "run me as root (the checks run as root in the guest, and qemu shares / with its owners)"
	for dir in "$@"; do
		[[ -d $dir ]] || die "there is no step \"$dir\" (steps: $(echo step[0-9][0-9]-*))"
		if [[ -n $cross ]]; then
			[[ -x $cross/$dir/container ]] || die "$cross/$dir/container is not built: run make $arch"
		else
			[[ -x $dir/container ]] || die "$dir/container is not built: run make all"
		fi
	done
	if [[ -n $cross ]]; then
		[[ -x $cross/probe ]] || die "$cross/probe is not built: run make $arch"
		[[ ${VM_ROOTLESS:-} != 1 ]] || die "VM_ROOTLESS=1 is for amd64 machines only"
		return
	fi
	[[ -x build/probe && -x $rootfs/usr/bin/probe ]] ||
		die "build/probe or $rootfs is missing: run make $rootfs/usr/bin/probe"
	if [[ ${VM_ROOTLESS:-} == 1 && ! -x $rootless_rootfs/usr/bin/probe ]]; then
		die "$rootless_rootfs is missing: run make $rootless_rootfs/usr/bin/probe"
	fi
}

# --- the kernel and the initramfs ---

# Sets version, kernel and initramfs: the kernel of kernel_deb, and an
# initramfs with the host's busybox and the modules, made again when
# older than the package or the guest's /init.
build_initramfs() {
	local unpacked
	version=$(basename "$kernel_deb" | sed 's/^linux-image-\([^_]*\)_.*/\1/')
	kernel=$vm/vmlinuz-$version
	initramfs=$vm/initramfs-$version.cpio.gz
	is_newer "$initramfs" "$kernel_deb" tests/vm/init.sh tests/vm/initlib.sh tests/vm/run.sh tests/vm/lib.sh && return
	echo "$me: making the initramfs for Linux $version"
	unpacked=$vm/kernel.tmp
	rm -rf "$unpacked"
	dpkg -x "$kernel_deb" "$unpacked"
	cp "$unpacked/boot/vmlinuz-$version" "$kernel"
	make_initramfs "$unpacked/lib/modules/$version" /bin/busybox tests/vm/init.sh "$initramfs" "${modules[@]}"
	rm -rf "$unpacked"
}

# The same from the guest's tree, which holds its kernel, its modules and
# its busybox.
build_tree_initramfs() {
	version=$(tree_kernel_version "$guest_tree")
	kernel=$guest_tree/boot/vmlinuz-$version
	initramfs=$vm/initramfs-$version.cpio.gz
	is_newer "$initramfs" "$guest_tree/.boxlab-tree" tests/vm/init.sh tests/vm/initlib.sh tests/vm/run.sh tests/vm/lib.sh && return
	echo "$me: making the initramfs for Linux $version ($arch)"
	make_initramfs "$guest_tree/lib/modules/$version" "$guest_tree/bin/busybox" tests/vm/init.sh "$initramfs" "${modules[@]}"
}

# --- the test rootfs as disks ---

# The guest's test rootfs, as make makes build/test-rootfs for the host:
# the guest's busybox-static (scripts/mkrootfs.sh), /scratch, and the
# probe built for the guest.
make_cross_test_rootfs() {
	local base=$cross/rootfs
	BUSYBOX=$guest_tree/bin/busybox scripts/mkrootfs.sh "$base"
	is_newer "$rootfs/usr/bin/probe" "$base" "$cross/probe" && return
	rm -rf "$rootfs"
	cp -a "$base" "$rootfs"
	mkdir -m 0777 "$rootfs/scratch"
	cp "$cross/probe" "$rootfs/usr/bin/probe"
}

# Sets disks: qemu's options for the test rootfs images (the guest sees
# them as vda and, rootless, vdb), and an empty ext4 disk of 2 GiB for the
# guest's /tmp, the last one: a host's /tmp is on its disk, and
# step 09's store needs what Debian 12's tmpfs lacks (user.* extended
# attributes, Linux 6.6; id-mapped mounts, 6.3).  They are snapshots:
# what a guest writes to them is dropped when qemu ends (its temporary
# file goes to TMPDIR, which boot sets to build/vm).
make_disks() {
	local tree image
	disks=()
	for tree in "$rootfs" "$rootless_rootfs"; do
		[[ $tree == "$rootless_rootfs" && ${VM_ROOTLESS:-} != 1 ]] && continue
		image=$vm/$(basename "$tree").ext4
		make_disk "$tree" "$image"
		disks+=(-drive "file=$image,if=virtio,format=raw,snapshot=on")
	done
	image=$vm/tmp.ext4
	if [[ ! -e $image ]]; then
		truncate -s 2G "$image.new"
		mkfs.ext4 -q -F "$image.new"
		mv "$image.new" "$image"
	fi
	disks+=(-drive "file=$image,if=virtio,format=raw,snapshot=on")
}

# --- the runs ---

# Steps 05 on run without root too.
runs_rootless() {
	[[ ${VM_ROOTLESS:-} == 1 && $1 != step0[1-4]-* ]]
}

# The work of a step: a column of the matrix, two when it runs rootless too.
work() {
	if runs_rootless "$1"; then echo 2; else echo 1; fi
}

# split_steps N STEP...: the steps as N groups of neighbours, one a line,
# each about as much work; neighbours, so that each machine's table reads
# left to right.  A group ends where the middle of the next step's work
# would pass its share of the total.
split_steps() {
	local n=$1 total=0 done=0 group=1 line="" i
	shift
	local steps=("$@")
	((n <= $#)) || n=$#
	for i in "${!steps[@]}"; do total=$((total + $(work "${steps[i]}"))); done
	for i in "${!steps[@]}"; do
		line+="${steps[i]} "
		done=$((done + $(work "${steps[i]}")))
		((i + 1 < $#)) || break
		# done + next/2 > total * group / n, in whole numbers
		if ((group < n && (2 * done + $(work "${steps[i + 1]}")) * n > 2 * total * group)); then
			echo "$line"
			line=""
			group=$((group + 1))
		fi
	done
	echo "$line"
}

# How many machines at once: one per CPU (each keeps one busy); one of
# another architecture, which needs the host's memory and time the most.
jobs_wanted() {
	if [[ -n $cross ]]; then
		echo 1
	else
		echo "${VM_JOBS:-$(nproc)}"
	fi
}

# The guest's root and binaries, when they are not the host's: its tree
# (under the shared /) as its root, the repository beside it, and the
# binaries of $cross over the ones the checks run (tests/vm/init.sh).
guest_root_options() {
	[[ -n $cross ]] || return 0
	echo " boxlab.root=$top/$guest_tree boxlab.cross=$cross"
}

# boot N STEP...: machine N runs the matrix of STEP...; its console goes to
# build/vm/vmN/console.log, the time it was given to vmN/time-limit.
# Returns qemu's status (124 when the time limit stopped it).
boot() {
	local n=$1 dir=$vm/vm$1 steps rootless="" columns=$(($# - 1)) step
	shift
	for step in "$@"; do
		if runs_rootless "$step"; then
			rootless+="$step,"
			columns=$((columns + 1))
		fi
	done
	steps=$(IFS=,; echo "$*")
	echo $((seconds_to_boot + columns * seconds_per_column)) >"$dir/time-limit"
	TMPDIR=$top/$vm timeout "$(cat "$dir/time-limit")" "$qemu" "${qemu_machine[@]}" \
		-pidfile "$dir/qemu.pid" -kernel "$kernel" -initrd "$initramfs" \
		-append "$kernel_options boxlab.repo=$top boxlab.steps=$steps boxlab.rootless=${rootless%,}$(guest_root_options)" \
		"${disks[@]}" \
		-virtfs local,path=/,mount_tag=host,security_model=passthrough,readonly=on,multidevs=remap \
		-virtfs "local,path=$top/$dir/results,mount_tag=results,security_model=passthrough" \
		</dev/null 2>&1 | sed -u 's/\r$//' >"$dir/console.log"
	return "${PIPESTATUS[0]}"
}

# The machines go when this script is stopped.
stop_machines() {
	local file
	echo "$me: stopped; powering the machines off" >&2
	for file in "$vm"/vm*/qemu.pid; do
		if [[ -s $file ]]; then kill "$(cat "$file")" 2>/dev/null || true; fi
	done
	exit 1
}

# report N QEMU_STATUS: what machine N printed, and its TAP files in
# $vm/tap.  Fails when its checks did, or
# when it never said how they went.
report() {
	local n=$1 qemu_status=$2 dir=$vm/vm$1 file
	echo
	echo "$me: machine $n ($dir/console.log):"
	cat "$dir/console.log"
	mkdir -p "$vm/tap"
	for file in "$dir"/results/tap/matrix-*.tap; do
		[[ -e $file ]] || continue
		cp "$file" "$vm/tap/"
	done
	if [[ ! -s $dir/results/status ]]; then
		if ((qemu_status == 124)); then
			echo "$me: machine $n did not finish within $(cat "$dir/time-limit") s; qemu was stopped" >&2
		else
			echo "$me: machine $n ended without writing its status (qemu's status: $qemu_status)" >&2
		fi
		return 1
	fi
	return "$(cat "$dir/results/status")"
}

main() {
	local groups=() statuses=() n pid status=0 start
	local -A machine_of=()
	(($# > 0)) || usage
	check_inputs "$@"
	mkdir -p "$vm"
	if [[ -n $cross ]]; then
		scripts/deps.sh "vm-$arch"
		make_tree "$guest_tree" "$arch" "${tree_packages[@]}"
		build_tree_initramfs
		make_cross_test_rootfs
	else
		scripts/deps.sh test vm
		fetch_kernel "$vm" "$arch"
		build_initramfs
	fi
	make_disks

	mapfile -t groups < <(split_steps "$(jobs_wanted)" "$@")
	rm -rf "$vm/tap"
	trap stop_machines INT TERM HUP
	start=$(date +%s)
	for n in "${!groups[@]}"; do
		rm -rf "$vm/vm$((n + 1))"
		mkdir -p "$vm/vm$((n + 1))/results"
		echo "$me: machine $((n + 1)): Linux $version under $qemu, for ${groups[n]% }"
		# (unquoted: a word per step)
		boot $((n + 1)) ${groups[n]} &
		machine_of[$!]=$((n + 1))
	done
	for _ in "${groups[@]}"; do
		status=0
		wait -n -p pid || status=$?
		n=${machine_of[$pid]}
		statuses[n]=$status
		echo "$me: machine $n is done after $(($(date +%s) - start)) s"
	done
	status=0
	for n in "${!statuses[@]}"; do
		report "$n" "${statuses[n]}" || status=1
	done
	echo
	echo "$me: $# steps on Linux $version in $(($(date +%s) - start)) s; TAP files: $vm/tap"
	exit "$status"
}

main "$@"
