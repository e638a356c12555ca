#!/usr/bin/env bash
# mkimage.sh busybox OUT: make the tests' image, an OCI image layout at OUT
# (which must not exist yet) with the tag "latest", from the host's
# static busybox.
# mkimage.sh debootstrap TAR: a minimal Debian (debootstrap's minbase of
# bookworm, from Debian's archive: about two minutes), as a tar at TAR.
# mkimage.sh debian OUT TAR: a real distribution's image from that tar,
# an OCI layout at OUT with the tag "latest".
#
# The busybox image has three layers, each a case an image runtime must
# get right:
#   1. busybox and a link per applet in /bin, /etc/passwd and /etc/group
#      (users root and app), a file a later layer deletes (/etc/gone), a
#      directory a later layer hides (/opt/dir with a and b), a hard link
#      (/etc/hardlink-to-a, the same file as /opt/dir/a), /home/app owned
#      by app (1000:1000), /tmp with the sticky bit, /root closed (0700);
#   2. a whiteout: etc/.wh.gone deletes /etc/gone;
#   3. an opaque directory: opt/dir/.wh..wh..opq hides a and b, and the
#      same layer adds opt/dir/c.
# Its config runs /bin/sh -c 'echo $GREETING from $(id -un) in $PWD' as
# app in /home/app, with PATH=/bin and GREETING=hello.
#
# The Debian image has three layers too, as an image built on Debian's
# has them: the base system; a layer that deletes the packages'
# changelogs (a whiteout each, dozens of them); a layer that replaces
# /etc/apt/apt.conf.d with a directory of one file (opaque).  Its config
# runs bash, as root.
#
# The same input gives the same bytes on every run: names sorted, times
# zero, owners as numbers, no access or change times in the tar headers,
# and a fixed date in the config and its history.  The layers are written
# by GNU tar and added with "umoci raw add-layer": umoci 0.4.7's own
# "insert" writes tars without their end blocks.
#
# Prints nothing on success; on failure one line on stderr, exit 1, and
# neither OUT (or TAR) nor a temporary directory is left behind.  Needs
# root (or CAP_CHOWN) to give files their owners.
set -euo pipefail
umask 022
export LC_ALL=C

me=${0##*/}
# The date every "created" field gets: the epoch, as the layers' mtimes.
EPOCH=1970-01-01T00:00:00Z

fail() {
	echo "$me: $*" >&2
	exit 1
}

usage="usage: $me busybox OUT | debootstrap TAR | debian OUT TAR"
[ $# -ge 2 ] || fail "$usage"
kind=$1 out=$2 tar=
case $kind in
busybox) [ $# -eq 2 ] || fail "$usage" ;;
debootstrap) [ $# -eq 2 ] || fail "$usage" ;;
debian)
	[ $# -eq 3 ] || fail "$usage"
	tar=$3
	[ -f "$tar" ] || fail "cannot make an image from $tar: there is no such file"
	;;
*) fail "$usage" ;;
esac
if [ -e "$out" ] || [ -L "$out" ]; then
	fail "cannot make $out: it exists"
fi

case $(uname -m) in
x86_64) arch=amd64 ;;
aarch64 | arm64) arch=arm64 ;;
*) fail "cannot make an image for $(uname -m): only x86_64 and aarch64 are known" ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/mkimage.XXXXXX" 2>/dev/null) || fail "cannot make a temporary directory"
made_out=
# On any failure OUT goes too: a half layout must not pass for an image.
cleanup() {
	local status=$?
	rm -rf "$work"
	if [ "$status" -ne 0 ] && [ -n "$made_out" ]; then
		rm -rf "$out"
	fi
}
trap cleanup EXIT
# A signal ends the script through the trap above.
trap 'exit 1' HUP INT TERM

# step WHAT CMD...: run CMD quietly; if it fails, say "cannot WHAT" with
# the last line CMD wrote, and stop.
step() {
	local what=$1 err status=0
	shift
	"$@" >"$work/out" 2>&1 || status=$?
	if [ "$status" -ne 0 ]; then
		err=$(grep . "$work/out" | tail -n 1) || true
		fail "cannot $what: ${err:-exit status $status}"
	fi
}

# tarit ARGS...: GNU tar in a form that gives the same bytes every time.
tarit() {
	tar --numeric-owner --sort=name --mtime=@0 --format=posix \
		--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime "$@"
}

# busybox_layer1 DIR: the base system's files.
busybox_layer1() {
	local r=$1 a applets
	mkdir -p "$r"/bin "$r"/etc "$r"/opt/dir "$r"/home/app "$r"/tmp "$r"/root &&
		cp /bin/busybox "$r"/bin/busybox &&
		chmod 0755 "$r"/bin/busybox &&
		applets=$(/bin/busybox --list) || return 1
	for a in $applets; do
		[ "$a" = busybox ] || ln -s busybox "$r/bin/$a" || return 1
	done
	printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' >"$r"/etc/passwd &&
		printf 'root:x:0:\napp:x:1000:\nstaff:x:50:app\n' >"$r"/etc/group &&
		echo old >"$r"/etc/gone &&
		echo a >"$r"/opt/dir/a &&
		echo b >"$r"/opt/dir/b &&
		ln "$r"/opt/dir/a "$r"/etc/hardlink-to-a &&
		chown -hR 0:0 "$r" &&
		chown 1000:1000 "$r"/home/app &&
		chmod 1777 "$r"/tmp &&
		chmod 0700 "$r"/root
}

# busybox_layer2 DIR: a whiteout, deleting /etc/gone.
busybox_layer2() {
	mkdir -p "$1"/etc && : >"$1"/etc/.wh.gone
}

# busybox_layer3 DIR: an opaque directory, and a file of its own in it.
busybox_layer3() {
	mkdir -p "$1"/opt/dir && : >"$1"/opt/dir/.wh..wh..opq && echo c >"$1"/opt/dir/c
}

# debian_layer2 DIR: a whiteout for each package's changelog in layer 1.
debian_layer2() {
	local name
	mkdir -p "$1" || return 1
	while read -r name; do
		name=${name#./}
		mkdir -p "$1/${name%/*}" && : >"$1/${name%/*}/.wh.${name##*/}" || return 1
	done < <(tar -tf "$tar" | grep -E '^(\./)?usr/share/doc/[^/]+/changelog[^/]*\.gz$')
	[ -d "$1"/usr/share/doc ] || { echo "no changelog in $tar"; return 1; }
}

# debian_layer3 DIR: /etc/apt/apt.conf.d made opaque, with one file.
debian_layer3() {
	mkdir -p "$1"/etc/apt/apt.conf.d &&
		: >"$1"/etc/apt/apt.conf.d/.wh..wh..opq &&
		echo 'APT::Install-Recommends "false";' >"$1"/etc/apt/apt.conf.d/90boxlab
}

# layout CONFIG...: the three layers in $work/1.tar ... 3.tar as an OCI
# layout at OUT, with "umoci config" given CONFIG.
layout() {
	made_out=1
	step "make the layout $out" umoci init --layout "$out"
	step "make the image" umoci new --image "$out":latest
	for n in 1 2 3; do
		step "add layer $n" umoci raw add-layer --image "$out":latest \
			--history.created "$EPOCH" --history.created_by "layer $n" "$work/$n.tar"
	done
	step "write the config" umoci config --image "$out":latest --no-history \
		--created "$EPOCH" --os linux --architecture "$arch" "$@"
	step "remove unused blobs" umoci gc --layout "$out"
	# umoci writes blobs 0600: let the unprivileged user of rootless tests
	# read the image too.
	step "open the layout to every user" chmod -R a+rX "$out"
}

case $kind in
busybox)
	step "make layer 1's files" busybox_layer1 "$work"/l1
	step "make layer 2's files" busybox_layer2 "$work"/l2
	step "make layer 3's files" busybox_layer3 "$work"/l3
	# Real layers spell names both ways, so the fixture does too: layer 1
	# with a root entry "./" and names like "./bin/busybox", the others
	# without the "./".
	step "write layer 1" tarit -C "$work"/l1 -cf "$work"/1.tar .
	step "write layer 2" tarit --owner=0 --group=0 -C "$work"/l2 -cf "$work"/2.tar etc
	step "write layer 3" tarit --owner=0 --group=0 -C "$work"/l3 -cf "$work"/3.tar opt
	# The literal $GREETING and $(id -un) are for the container's shell.
	# shellcheck disable=SC2016
	layout --config.env PATH=/bin --config.env GREETING=hello \
		--config.entrypoint /bin/sh \
		--config.cmd -c --config.cmd 'echo $GREETING from $(id -un) in $PWD' \
		--config.workingdir /home/app --config.user app
	;;
debootstrap)
	# debootstrap mounts /proc and /sys in the tree it makes: in a mount
	# namespace of its own, so that the host never sees them.
	step "debootstrap a minimal Debian" unshare -m --propagation private \
		debootstrap --variant=minbase --arch="$arch" bookworm "$work"/root \
		"${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
	made_out=1
	step "write $out" tarit -C "$work"/root -cf "$out" .
	;;
debian)
	step "make layer 2's files" debian_layer2 "$work"/l2
	step "make layer 3's files" debian_layer3 "$work"/l3
	step "take layer 1" ln -s "$(realpath "$tar")" "$work"/1.tar
	step "write layer 2" tarit --owner=0 --group=0 -C "$work"/l2 -cf "$work"/2.tar usr
	step "write layer 3" tarit --owner=0 --group=0 -C "$work"/l3 -cf "$work"/3.tar etc
	layout --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--config.cmd bash
	;;
esac
