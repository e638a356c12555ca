# shellcheck shell=bash disable=SC2034,SC2154 # sets what its callers read; they set me
# What the scripts that boot Debian under qemu share: the machine qemu
# emulates for each architecture, Debian's kernel package, a root tree
# unpacked from Debian's archive, an initramfs that loads modules in
# order, and ext4 disks made from directories.
#
#   readonly me="boxlab vm"          (messages start with it)
#   source tests/vm/lib.sh
#
# Functions take what they work on as arguments and name what they set.
# Sourced by bash scripts that run with set -euo pipefail.

vm_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly vm_lib_dir
readonly vm_mirror=http://deb.debian.org/debian vm_suite=bookworm
# The links update-alternatives makes when minbase's packages are
# configured, LINK:TARGET, for the commands scripts run: awk is mawk's,
# which is debianutils'.
readonly vm_alternatives=(usr/bin/awk:/usr/bin/mawk usr/bin/which:/usr/bin/which.debianutils)

die() {
	echo "$me: $*" >&2
	exit 1
}

# set_arch ARCH: the machine for Debian's architecture ARCH (amd64 or
# arm64).  Sets qemu (the emulator), qemu_machine (its options) and
# kernel_options (the command line every guest starts with).
#
# One CPU: under emulation a second one makes every exec slower (the CPUs
# flush their TLBs together).  norandmaps: with programs and libraries at
# the same addresses in every process, qemu reuses the code it translated
# for the previous one (an exec takes a third of the time).
# mitigations=off: no defences against speculation, which only cost time
# here; audit=0: no kauditd, one process less to look at.
set_arch() {
	local console
	case $1 in
	amd64)
		qemu="qemu-system-x86_64"
		qemu_machine=(-accel tcg -m 4096 -smp 1 -bios qboot.rom -nographic -no-reboot -nic none)
		console=ttyS0
		;;
	arm64)
		# virt: the board made for guests, virtio on PCI; with -kernel it
		# needs no firmware (qemu starts the kernel and answers PSCI, which
		# powers off).  cortex-a72 rather than max: no pointer
		# authentication to emulate on every call and return.
		qemu="qemu-system-aarch64"
		qemu_machine=(-machine virt -cpu cortex-a72 -accel tcg -m 4096 -smp 1 -nographic -no-reboot -nic none)
		console=ttyAMA0
		;;
	*) die "no machine for the architecture \"$1\" (amd64 or arm64)" ;;
	esac
	kernel_options="console=$console panic=-1 quiet norandmaps mitigations=off audit=0"
}

# is_newer FILE THAN...: FILE exists and is newer than each THAN, so
# what was made from them need not be made again.
is_newer() {
	local file=$1 than
	shift
	[[ -e $file ]] || return 1
	for than in "$@"; do
		[[ $file -nt $than ]] || return 1
	done
}

# --- the kernel ---

# newest_kernel_package ARCH: the newest linux-image-6.1.0-N-ARCH apt
# knows of (not -cloud-: it has no 9p), or nothing.  apt lists the host's
# architecture only.
newest_kernel_package() {
	apt-cache search --names-only "^linux-image-6\\.1\\.0-[0-9]+-$1\$" |
		cut -d' ' -f1 | sort -V | tail -n 1
}

# fetch_kernel DIR ARCH: sets kernel_deb, the newest kernel package of the
# host's architecture ARCH, downloaded into DIR unless it is there
# already.  Without network, an older one there will do.
fetch_kernel() {
	local dir=$1 deb_arch=$2 package
	package=$(newest_kernel_package "$deb_arch")
	if [[ -z $package ]]; then
		echo "$me: apt knows no linux-image-6.1.0-N-$deb_arch; running apt-get update once"
		apt-get update -q </dev/null >/dev/null || echo "$me: apt-get update failed"
		package=$(newest_kernel_package "$deb_arch")
	fi
	if [[ -n $package ]]; then
		kernel_deb=$(find "$dir" -maxdepth 1 -name "${package}_*.deb" | tail -n 1)
		[[ -n $kernel_deb ]] && return
		echo "$me: downloading $package"
		(cd "$dir" && apt-get download -q -o APT::Sandbox::User=root "$package" </dev/null) ||
			die "apt-get download $package failed (see above)"
		# The previous kernel, if any, is not needed any more.
		find "$dir" -maxdepth 1 -name 'linux-image-*.deb' ! -name "${package}_*" -delete
	fi
	kernel_deb=$(find "$dir" -maxdepth 1 -name "linux-image-6.1.0-*-${deb_arch}_*.deb" | sort -V | tail -n 1)
	[[ -n $kernel_deb ]] || die "found no linux-image-6.1.0-N-$deb_arch to download: is Debian's archive in apt's sources?"
}

# --- a root tree of another architecture ---

# make_tree DIR ARCH PACKAGE...: DIR holds Debian (minbase) for ARCH with
# the PACKAGEs, unpacked on this machine without running any of it:
# debootstrap --foreign unpacks the essential packages and downloads the
# rest, which dpkg-deb -x unpacks.  Nothing is configured (no maintainer
# script ran), but the programs run on a machine of that architecture.
# What the maintainer scripts would have done that commands need is done
# here.  Made again only when the suite, ARCH, the PACKAGEs or that
# change.
make_tree() {
	local dir=$1 deb_arch=$2 stamp want tmp deb link
	shift 2
	stamp=$dir/.boxlab-tree
	want="$vm_suite $deb_arch $* ${vm_alternatives[*]}"
	[[ -f $stamp && $(cat "$stamp") == "$want" ]] && return
	command -v debootstrap >/dev/null || die "no debootstrap: install it with apt-get install debootstrap"
	tmp=$dir.tmp
	rm -rf "$tmp" "$dir"
	echo "$me: unpacking Debian $vm_suite ($deb_arch) with $* into $dir (a minute or two)"
	debootstrap --foreign --arch="$deb_arch" --variant=minbase --include="$(IFS=,; echo "$*")" \
		"$vm_suite" "$tmp" "$vm_mirror" >"$tmp.log" 2>&1 ||
		die "debootstrap --foreign --arch=$deb_arch failed (is $vm_mirror reachable?): $(tail -n 20 "$tmp.log")"
	# --keep-directory-symlink: /bin is a link to usr/bin (merged /usr),
	# which a package's ./bin/ must go through, not replace.
	while read -r _ deb; do
		dpkg-deb --fsys-tarfile "$tmp$deb" | tar -x --keep-directory-symlink -C "$tmp" ||
			die "cannot unpack $deb into $tmp"
	done <"$tmp/debootstrap/debpaths"
	# Run inside a container, debootstrap makes /proc a link to its own
	# (for the chroot it does not enter here): a booted machine mounts
	# its own there.
	if [[ -L $tmp/proc ]]; then
		rm "$tmp/proc"
		mkdir -m 555 "$tmp/proc"
	fi
	for link in "${vm_alternatives[@]}"; do
		ln -sf "${link#*:}" "$tmp/${link%%:*}"
	done
	# What base-passwd's maintainer script would have written.
	cp "$tmp/usr/share/base-passwd/passwd.master" "$tmp/etc/passwd"
	cp "$tmp/usr/share/base-passwd/group.master" "$tmp/etc/group"
	rm -rf "$tmp/var/cache/apt/archives/"*.deb "$tmp.log"
	echo "$want" >"$tmp/.boxlab-tree"
	mv "$tmp" "$dir"
}

# tree_kernel_version TREE: the version of the kernel unpacked in TREE
# (its /boot/vmlinuz-VERSION), the newest if there are several.
tree_kernel_version() {
	local file
	file=$(find "$1/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n 1)
	[[ -n $file ]] || die "$1 holds no kernel (no /boot/vmlinuz-*): unpack a linux-image package into it"
	basename "$file" | sed 's/^vmlinuz-//'
}

# --- the initramfs ---

# depends_of KO: the modules KO needs loaded first (its modinfo "depends=").
depends_of() {
	busybox strings "$1" | sed -n 's/^depends=//p' | tr , '\n'
}

# load_order DIR NAME...: the NAMEs and what they depend on, each module
# after the ones it needs, as paths of .ko files under DIR (a kernel's
# /lib/modules/VERSION).  A NAME built into the kernel (modules.builtin)
# has nothing to load: a kernel of another architecture builds in some
# that amd64's has as modules.
load_order() {
	local dir=$1 ko
	shift
	declare -A path=() placed=()
	while read -r ko; do
		path[$(basename "$ko" .ko)]=$ko
	done < <(find "$dir" -name '*.ko')
	if [[ -f $dir/modules.builtin ]]; then
		while read -r ko; do
			ko=$(basename "$ko" .ko)
			placed[${ko//-/_}]=1
		done <"$dir/modules.builtin"
	fi
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

# make_initramfs MODULES_DIR BUSYBOX INIT OUT NAME...: OUT, a gzipped
# cpio with BUSYBOX (a static one, of the guest's architecture) as
# /bin/busybox, INIT as /init with initlib.sh beside it as /lib.sh, and
# the modules NAME... (with what they
# depend on) from MODULES_DIR in /modules, in load order in
# /modules/order.
make_initramfs() {
	local modules_dir=$1 busybox=$2 init=$3 out=$4 stage order ko
	shift 4
	stage=$out.stage
	rm -rf "$stage"
	order=$(load_order "$modules_dir" "$@")
	mkdir -p "$stage/bin" "$stage/modules"
	cp "$busybox" "$stage/bin/busybox"
	cp "$init" "$stage/init"
	cp "$vm_lib_dir/initlib.sh" "$stage/lib.sh"
	: >"$stage/modules/order"
	for ko in $order; do
		cp "$ko" "$stage/modules/"
		basename "$ko" .ko >>"$stage/modules/order"
	done
	(cd "$stage" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$out.tmp"
	mv "$out.tmp" "$out"
	rm -rf "$stage"
}

# --- disks ---

# make_disk TREE IMAGE: TREE as an ext4 image, made again when a file in
# TREE changed since.  mkfs.ext4 -d fills it without mounting it, owners
# included.  No journal, and no inode tables left to fill after mounting:
# the guest throws its writes away, and a kernel thread less is a process
# less for every check to look at.
make_disk() {
	local tree=$1 image=$2 size log=$2.log
	if [[ -e $image && -z $(find "$tree" -cnewer "$image" -print -quit) ]]; then
		return
	fi
	echo "$me: making $image from $tree"
	size=$(($(du -sm "$tree" | cut -f1) + 256))
	rm -f "$image.tmp"
	mkfs.ext4 -q -F -O ^has_journal -E lazy_itable_init=0 -d "$tree" "$image.tmp" "${size}M" \
		>"$log" 2>&1 || die "mkfs.ext4 -d $tree failed: $(cat "$log")"
	rm -f "$log"
	mv "$image.tmp" "$image"
}
