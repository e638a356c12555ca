#!/usr/bin/env bash
# mkrootfs.sh - build the minimal root filesystem the boxlab steps run in.
#
# Usage: scripts/mkrootfs.sh DEST
#        BUSYBOX=FILE scripts/mkrootfs.sh DEST    (another static busybox,
#                                                 e.g. another architecture's)
#
# DEST gets the host's /bin/busybox (from Debian's busybox-static: nothing
# is downloaded), one symlink per busybox applet, the usual top-level
# directories, and a few files in etc/.
#
# The rootfs is built in DEST.tmp.PID and renamed to DEST at the end, so
# DEST is always either the previous rootfs or the complete new one. When
# DEST is already newer than busybox and than this script, nothing is done.
set -euo pipefail

readonly me="boxlab rootfs"
readonly busybox=${BUSYBOX:-/bin/busybox}
# Tests look for this file to prove they run inside the rootfs; we look for
# it before replacing a directory, to never delete something else.
readonly marker=etc/boxlab-rootfs

self=$(readlink -f "${BASH_SOURCE[0]}")
dest=""     # the rootfs to build
tmp=""      # where it is built
old=""      # the previous rootfs, moved aside while the new one goes in
version=""  # busybox's version, for the last message
applets=0   # how many applet symlinks link_applets made

die() {
	echo "$me: $*" >&2
	exit 1
}

# What is left when the script stops early: the half-built tree, or the
# previous rootfs we had moved aside.
cleanup() {
	local dir
	for dir in "$tmp" "$old"; do
		if [[ -n $dir && -d $dir ]]; then rm -rf --one-file-system -- "$dir"; fi
	done
}

# The package that installed /bin/busybox, if dpkg knows it. On merged-/usr
# systems the package may list the file as /usr/bin/busybox: ask for both.
busybox_package() {
	command -v dpkg-query >/dev/null || return 0
	dpkg-query -S "$busybox" "$(readlink -f "$busybox")" 2>/dev/null |
		sed -n '1s/:.*//p' || true
}

# A dynamically linked program names its loader (ld-linux) in an INTERP
# program header; a static one has none.
is_static() {
	local headers
	command -v readelf >/dev/null || return 1
	headers=$(readelf -lW "$1" 2>/dev/null) || return 1
	[[ $headers != *INTERP* ]]
}

# The rootfs has no libc and no loader: a dynamic busybox would fail there
# with a puzzling "No such file or directory" on exec. Refuse it here.
check_busybox() {
	local package
	[[ -x $busybox ]] ||
		die "no $busybox: run \`sudo make deps\` (it installs Debian's busybox-static)"
	package=$(busybox_package)
	[[ $package == busybox-static ]] && return
	is_static "$busybox" && return
	die "$busybox (package: ${package:-unknown}) is not statically linked, so it" \
		"cannot run in a rootfs without libc; run \`sudo make deps\` to install" \
		"busybox-static (it replaces the busybox package)"
}

# Replacing DEST deletes it: only ever delete an empty directory or a
# rootfs this script built, and never one with something mounted in it.
check_dest() {
	[[ -n $dest && $dest != / ]] || die "refusing to build the rootfs at '/'"
	[[ -e $dest || -L $dest ]] || return 0
	[[ -d $dest && ! -L $dest ]] || die "'$dest' exists and is not a directory; refusing to replace it"
	[[ -f $dest/$marker || -z $(ls -A -- "$dest") ]] ||
		die "'$dest' exists but is not a boxlab rootfs (no $marker); refusing to replace it"
	! has_mounts_under "$dest" ||
		die "something is mounted under '$dest' (see \`findmnt -R $dest\`); unmount it first"
}

# Mount points are field 5 of /proc/self/mountinfo.
has_mounts_under() {
	local dir
	dir=$(readlink -f -- "$1")
	awk -v dir="$dir" 'index($5, dir "/") == 1 || $5 == dir { found = 1 }
		END { exit !found }' /proc/self/mountinfo
}

is_up_to_date() {
	[[ -f $dest/$marker && $dest -nt $busybox && $dest -nt $self ]]
}

make_dirs() {
	local root=$1
	mkdir -p -- "$root"/{bin,dev,etc,home,mnt,proc,root,run,sys,tmp,var/tmp}
	chmod 1777 "$root/tmp" "$root/var/tmp" # anyone may write, only owners delete
	chmod 0700 "$root/root"
}

# "BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1)", read from the binary:
# it says which build it is without running it.
banner_of() {
	grep -ao -m 1 'BusyBox v[^)]*)' "$1" | head -n 1
}

# The applets, each with its usual path.  A busybox of another
# architecture cannot run here; the host's lists the same applets when it
# is the same Debian build (its banner names the version and the Debian
# revision): one source package has one configuration on every
# architecture.
applet_list() {
	"$busybox" --list-full 2>/dev/null && return
	[[ -n $(banner_of "$busybox") && $(banner_of "$busybox") == "$(banner_of /bin/busybox)" ]] ||
		die "$busybox cannot run on this machine (another architecture?), and /bin/busybox" \
			"($(banner_of /bin/busybox)) is not the same build ($(banner_of "$busybox")) to list" \
			"its applets: install the busybox-static of the same Debian release"
	/bin/busybox --list-full
}

# `busybox --list-full` prints each applet's usual path (bin/sh,
# usr/bin/awk, sbin/ip). Each becomes a symlink to /bin/busybox: an absolute
# target, resolved inside the container once it is the root. busybox picks
# the applet from the name it was run as. linuxrc, the one entry without a
# directory, is an initrd's entry point, not a command: it is left out.
link_applets() {
	local root=$1 list applet
	list=$(applet_list)
	while read -r applet; do
		[[ $applet == */* && $applet != bin/busybox ]] || continue
		[[ -d $root/${applet%/*} ]] || mkdir -p -- "$root/${applet%/*}"
		ln -s /bin/busybox "$root/$applet"
		applets=$((applets + 1))
	done <<<"$list"
}

write_etc() {
	local etc=$1/etc
	printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
		'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$etc/passwd"
	printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$etc/group"
	echo boxlab >"$etc/hostname"
	cat >"$etc/os-release" <<-END
		NAME="boxlab busybox rootfs"
		ID=boxlab
		PRETTY_NAME="boxlab busybox rootfs (busybox $version)"
	END
	echo 'boxlab rootfs' >"$1/$marker"
}

# "BusyBox v1.35.0 (Debian 1:1.35.0-4) multi-call binary." -> 1.35.0
busybox_version() {
	local banner
	banner=$("$busybox" 2>&1) || banner=$(banner_of "$busybox")
	if [[ $banner =~ BusyBox\ v([^ ]+) ]]; then
		echo "${BASH_REMATCH[1]}"
	else
		echo unknown
	fi
}

build() {
	local root=$1
	make_dirs "$root"
	install -m 0755 "$busybox" "$root/bin/busybox"
	link_applets "$root"
	write_etc "$root"
	# As root, everything is already root's; this also undoes a group
	# inherited from a setgid parent directory. Not root: it stays ours.
	if ((EUID == 0)); then chown -hR 0:0 -- "$root"; fi
	touch -- "$root" # DEST's mtime is the build time is_up_to_date compares
}

# Two renames, each atomic: DEST is missing only between them.
put_in_place() {
	if [[ -d $dest ]]; then
		old=$dest.old.$$
		mv -T -- "$dest" "$old"
	fi
	mv -T -- "$tmp" "$dest"
	tmp=""
	cleanup
}

main() {
	(($# == 1)) || { echo "usage: $0 DEST" >&2; exit 2; }
	dest=${1%/}
	check_dest
	is_up_to_date && exit 0
	check_busybox
	umask 022
	mkdir -p -- "$(dirname -- "$dest")"
	trap cleanup EXIT
	tmp=$dest.tmp.$$
	mkdir -- "$tmp"
	version=$(busybox_version)
	build "$tmp"
	put_in_place
	echo "$me: built $dest (busybox $version, $applets applets)"
}

main "$@"
