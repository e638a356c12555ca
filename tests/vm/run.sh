#!/usr/bin/env bash
# The isolation matrix on a pure cgroup v2 machine: boots Debian's 6.1
# kernel under qemu (software emulation: no KVM needed), with the host's
# files shared read-only, and runs tests/matrix.sh there as root.
#
#   tests/vm/run.sh step01-chroot step02-pid-ns ...      (as root)
#   VM_ROOTLESS=1 tests/vm/run.sh ...   also the rootless matrix (05 on)
#   VM_JOBS=N tests/vm/run.sh ...       N machines at once (default: one
#                                       per CPU), each with some steps
#
# The steps' binaries, build/probe and build/test-rootfs (rootless, also
# build/test-rootfs-rootless) must be built.  Everything this script
# makes stays in build/vm: the kernel package (downloaded once), the
# initramfs, the test rootfs as ext4 images, and for each machine N,
# vmN/console.log and vmN/results, the share its guest writes to.  The
# guests' TAP files end up as build/tap/matrix-vm-*.tap.  Exits 0 when
# every machine ran every check as expected.
set -euo pipefail
cd "$(dirname "$0")/../.."

readonly me="boxlab vm"
readonly top=$PWD
readonly vm=build/vm
# A column of the matrix takes about 5 minutes under emulation: a machine
# that takes half as long again, plus a minute to boot, hangs.
readonly seconds_per_column=450 seconds_to_boot=60
# The test rootfs, and the rootless user's copy of it.
readonly rootfs=build/test-rootfs rootless_rootfs=build/test-rootfs-rootless

# The modules the guest loads; what they depend on comes along.  virtio_pci
# and virtio_blk: qemu's devices; 9pnet_virtio and 9p: the host's files;
# ext4 (whose checksums need crc32c_generic, which nothing loads on demand
# here): the test rootfs; overlay: a writable root; veth: --net veth;
# dummy: an interface besides lo, as a host has, for the checks to hide.
readonly modules=(virtio_pci virtio_blk 9pnet_virtio 9p crc32c_generic ext4 overlay veth dummy)

# How a guest boots.  One CPU: under emulation a second one makes every
# exec slower (the CPUs flush their TLBs together), and the checks run
# one after the other anyway.  norandmaps: with programs and libraries at
# the same addresses in every process, qemu reuses the code it translated
# for the previous one (an exec takes a third of the time).
# mitigations=off: no defences against speculation, which only cost time
# here; audit=0: no kauditd, one process less for every check to look at.
readonly qemu_machine=(-accel tcg -m 4096 -smp 1 -bios qboot.rom -nographic -no-reboot -nic none)
readonly kernel_options="console=ttyS0 panic=-1 quiet norandmaps mitigations=off audit=0"

die() {
	echo "$me: $*" >&2
	exit 1
}

usage() {
	echo "usage: $0 STEP...   (step directories, e.g. step01-chroot step06-net-ns)" >&2
	exit 2
}

check_inputs() {
	local dir
	((EUID == 0)) || die "run me as root (the checks run as root in the guest, and qemu shares / with its owners)"
	for dir in "$@"; do
		[[ -d $dir ]] || die "there is no step \"$dir\" (steps: $(echo step0*-*))"
		[[ -x $dir/container ]] || die "$dir/container is not built: run make all"
	done
	[[ -x build/probe && -x $rootfs/usr/bin/probe ]] ||
		die "build/probe or $rootfs is missing: run make $rootfs/usr/bin/probe"
	if [[ ${VM_ROOTLESS:-} == 1 && ! -x $rootless_rootfs/usr/bin/probe ]]; then
		die "$rootless_rootfs is missing: run make $rootless_rootfs/usr/bin/probe"
	fi
}

# --- the kernel ---

# The newest linux-image-6.1.0-N-amd64 apt knows of (not -cloud-: it has
# no 9p), or nothing.
newest_kernel_package() {
	apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' |
		cut -d' ' -f1 | sort -V | tail -n 1
}

# Sets kernel_deb: the newest kernel package, downloaded into build/vm
# unless it is there already.  Without network, an older one there will do.
fetch_kernel() {
	local package
	package=$(newest_kernel_package)
	if [[ -z $package ]]; then
		echo "$me: apt knows no linux-image-6.1.0-N-amd64; running apt-get update once"
		apt-get update -q </dev/null >/dev/null || echo "$me: apt-get update failed"
		package=$(newest_kernel_package)
	fi
	if [[ -n $package ]]; then
		kernel_deb=$(find "$vm" -maxdepth 1 -name "${package}_*.deb" | tail -n 1)
		[[ -n $kernel_deb ]] && return
		echo "$me: downloading $package"
		(cd "$vm" && apt-get download -q -o APT::Sandbox::User=root "$package" </dev/null) ||
			die "apt-get download $package failed (see above)"
		# The previous kernel, if any, is not needed any more.
		find "$vm" -maxdepth 1 -name 'linux-image-*.deb' ! -name "${package}_*" -delete
	fi
	kernel_deb=$(find "$vm" -maxdepth 1 -name 'linux-image-6.1.0-*-amd64_*.deb' | sort -V | tail -n 1)
	[[ -n $kernel_deb ]] || die "found no linux-image-6.1.0-N-amd64 to download: is Debian's archive in apt's sources?"
}

# --- the initramfs ---

# depends_of KO: the modules KO needs loaded first (its modinfo "depends=").
depends_of() {
	busybox strings "$1" | sed -n 's/^depends=//p' | tr , '\n'
}

# load_order DIR NAME...: the NAMEs and what they depend on, each module
# after the ones it needs, as paths of .ko files under DIR.
load_order() {
	local dir=$1 ko
	shift
	declare -A path=() placed=()
	while read -r ko; do
		path[$(basename "$ko" .ko)]=$ko
	done < <(find "$dir" -name '*.ko')
	place() {
		local name=${1//-/_} dep
		[[ -n ${placed[$name]:-} ]] && return
		[[ -n ${path[$name]:-} ]] || die "the kernel package has no module $name"
		placed[$name]=1
		for dep in $(depends_of "${path[$name]}"); do place "$dep"; done
		echo "${path[$name]}"
	}
	for ko in "$@"; do place "$ko"; done
}

# Sets version, kernel and initramfs: built from kernel_deb, unless
# already newer than it and than the guest's /init.
build_initramfs() {
	local tree stage order ko
	version=$(basename "$kernel_deb" | sed 's/^linux-image-\([^_]*\)_.*/\1/')
	kernel=$vm/vmlinuz-$version
	initramfs=$vm/initramfs-$version.cpio.gz
	if [[ -e $initramfs && $initramfs -nt $kernel_deb && $initramfs -nt tests/vm/init.sh &&
		$initramfs -nt tests/vm/run.sh ]]; then
		return
	fi
	echo "$me: making the initramfs for Linux $version"
	tree=$vm/kernel.tmp
	stage=$vm/initramfs.tmp
	rm -rf "$tree" "$stage"
	dpkg -x "$kernel_deb" "$tree"
	cp "$tree/boot/vmlinuz-$version" "$kernel"

	order=$(load_order "$tree/lib/modules/$version" "${modules[@]}")
	mkdir -p "$stage/bin" "$stage/modules"
	cp /bin/busybox "$stage/bin/busybox"
	cp tests/vm/init.sh "$stage/init"
	for ko in $order; do
		cp "$ko" "$stage/modules/"
		basename "$ko" .ko >>"$stage/modules/order"
	done
	(cd "$stage" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$initramfs.tmp"
	mv "$initramfs.tmp" "$initramfs"
	rm -rf "$tree" "$stage"
}

# --- the test rootfs as disks ---

# make_disk TREE IMAGE: TREE as an ext4 image, made again when a file in
# TREE changed since.  mkfs.ext4 -d fills it without mounting it, owners
# included.  No journal, and no inode tables left to fill after mounting:
# the guest throws its writes away, and a kernel thread less is a process
# less for every check to look at.
make_disk() {
	local tree=$1 image=$2 size
	if [[ -e $image && -z $(find "$tree" -cnewer "$image" -print -quit) ]]; then
		return
	fi
	echo "$me: making $image from $tree"
	size=$(($(du -sm "$tree" | cut -f1) + 256))
	rm -f "$image.tmp"
	mkfs.ext4 -q -F -O ^has_journal -E lazy_itable_init=0 -d "$tree" "$image.tmp" "${size}M" \
		>"$vm/mkfs.log" 2>&1 || die "mkfs.ext4 -d $tree failed: $(cat "$vm/mkfs.log")"
	mv "$image.tmp" "$image"
}

# Sets disks: qemu's options for the test rootfs images (the guest sees
# them as vda and, rootless, vdb).  They are snapshots: what a guest
# writes to them is dropped when qemu ends (its temporary file goes to
# TMPDIR, which boot sets to build/vm).
make_disks() {
	local tree image
	disks=()
	for tree in "$rootfs" "$rootless_rootfs"; do
		[[ $tree == "$rootless_rootfs" && ${VM_ROOTLESS:-} != 1 ]] && continue
		image=$vm/$(basename "$tree").ext4
		make_disk "$tree" "$image"
		disks+=(-drive "file=$image,if=virtio,format=raw,snapshot=on")
	done
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

# How many machines at once: one per CPU (each keeps one busy).
jobs_wanted() {
	echo "${VM_JOBS:-$(nproc)}"
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
	TMPDIR=$top/$vm timeout "$(cat "$dir/time-limit")" qemu-system-x86_64 "${qemu_machine[@]}" \
		-pidfile "$dir/qemu.pid" -kernel "$kernel" -initrd "$initramfs" \
		-append "$kernel_options boxlab.repo=$top boxlab.steps=$steps boxlab.rootless=${rootless%,}" \
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

# report N QEMU_STATUS: what machine N printed, and its TAP files next to
# the host's as build/tap/matrix-vm-*.tap.  Fails when its checks did, or
# when it never said how they went.
report() {
	local n=$1 qemu_status=$2 dir=$vm/vm$1 file
	echo
	echo "$me: machine $n ($dir/console.log):"
	cat "$dir/console.log"
	mkdir -p build/tap
	for file in "$dir"/results/tap/matrix-*.tap; do
		[[ -e $file ]] || continue
		cp "$file" "build/tap/matrix-vm-$(basename "$file" | sed 's/^matrix-//')"
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
	scripts/deps.sh test vm
	mkdir -p "$vm"
	fetch_kernel
	build_initramfs
	make_disks

	mapfile -t groups < <(split_steps "$(jobs_wanted)" "$@")
	rm -f build/tap/matrix-vm-*.tap
	trap stop_machines INT TERM HUP
	start=$(date +%s)
	for n in "${!groups[@]}"; do
		rm -rf "$vm/vm$((n + 1))"
		mkdir -p "$vm/vm$((n + 1))/results"
		echo "$me: machine $((n + 1)): Linux $version under qemu, for ${groups[n]% }"
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
	echo "$me: $# steps on Linux $version in $(($(date +%s) - start)) s; TAP files: build/tap/matrix-vm-*.tap"
	exit "$status"
}

main "$@"
