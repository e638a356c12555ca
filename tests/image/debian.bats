#!/usr/bin/env bats
# Step 09 on a real distribution, as root: a minimal Debian
# (debootstrapped once, tests/lib/image.bash) in three layers, the last
# two a whiteout for each package's changelog and an opaque
# /etc/apt/apt.conf.d.  Imported, and pulled from a registry on
# 127.0.0.1, it runs Debian's own programs, and the container's root is
# umoci's unpacking of the same image, path by path.

load ../lib/common
load ../lib/image

DEBIAN=localhost/debian-oci:latest

setup() {
	load_libs
	[ "$STEP" -ge 9 ] || skip "images arrive in step 09"
	remember_host_state
	export BOXLAB_STORE_DIR=$TEST_TMP/store
	LAYOUT=$(debian_image)
}

teardown() {
	stop_registry
	assert_nothing_left
}

# What is compared, from / in the container and from the top of umoci's
# unpacking: each path's type, mode and owner, the size of files and
# links, a link's target, a file's content.  /proc, /sys, /dev and /tmp
# are the container's own mounts, and left out.  GNU find and sha256sum:
# Debian's, inside; the host's, outside.
# shellcheck disable=SC2016 # for the shell that runs it
LISTING='cd "${1:-/}" || exit
	own="( -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp ) -prune -o"
	find . -xdev $own -type d -printf "%p %y %m %U:%G\n" -o -printf "%p %y %m %U:%G %s %l\n" | sort
	find . -xdev $own -type f -exec sha256sum {} + | sort -k 2'

@test "Debian: imported, it runs apt, dpkg and bash; its whiteouts and opaque directory hold" {
	local start=$EPOCHREALTIME
	runtime image import "$LAYOUT" >/dev/null
	echo "# import of $(du -sh --apparent-size "$LAYOUT" | cut -f1) in $(bc <<<"$EPOCHREALTIME - $start") s" >&3
	run runtime run "$DEBIAN" cat /etc/debian_version
	assert_success
	assert_output --regexp '^12\.[0-9]+$'
	# shellcheck disable=SC2016 # for the container's shell
	run runtime run "$DEBIAN" bash -c 'apt-get --version | head -n 1; dpkg-query -W -f "\${Status}\n" coreutils'
	assert_success
	assert_line --index 0 --regexp '^apt 2\.6\.[0-9]+ \((amd64|arm64)\)$'
	assert_line --index 1 "install ok installed"
	# layer 2: no changelog left, the rest of the docs kept
	run runtime run "$DEBIAN" bash -c 'ls -d /usr/share/doc/*/changelog*.gz; echo "ls: $?"; ls /usr/share/doc/apt'
	assert_success
	assert_line "ls: 2"
	assert_line "copyright"
	refute_line --partial changelog.Debian.gz
	# layer 3: /etc/apt/apt.conf.d holds its one file, none of layer 1's
	run runtime run "$DEBIAN" ls /etc/apt/apt.conf.d
	assert_success
	assert_output 90boxlab
	# Debian's users and groups, from its own /etc/passwd and /etc/group
	run runtime run -u nobody "$DEBIAN" id
	assert_output "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)"
	run runtime run -u 0:shadow "$DEBIAN" stat -c '%U:%G %a' /etc/shadow /usr/bin/chage
	assert_output $'root:shadow 640\nroot:shadow 2755'
}

@test "Debian: the container's root equals umoci's unpacking of the image, path by path" {
	local inside outside start
	runtime image import "$LAYOUT" >/dev/null
	start=$EPOCHREALTIME
	umoci unpack --image "$LAYOUT:latest" "$TEST_TMP/bundle" >/dev/null 2>&1
	echo "# umoci unpack: $(bc <<<"$EPOCHREALTIME - $start") s" >&3
	inside=$(runtime run -u 0 "$DEBIAN" bash -c "$LISTING")
	outside=$(bash -c "$LISTING" listing "$TEST_TMP/bundle/rootfs")
	[ "$inside" = "$outside" ] || fail "$(diff <(echo "$outside") <(echo "$inside"))"
	echo "# $(grep -c ' [dfl] [0-7]* ' <<<"$inside") paths equal: $(grep -c ' f [0-7]* ' <<<"$inside") files (and their contents), $(grep -c ' d [0-7]* ' <<<"$inside") directories, $(grep -c ' l [0-7]* ' <<<"$inside") links" >&3
}

@test "Debian: pushed to a registry on 127.0.0.1 and pulled, it runs" {
	start_registry plain
	push_image "$LAYOUT" test/debian:bookworm
	run runtime pull "$REGISTRY/test/debian:bookworm"
	assert_success
	assert_line "pulled $REGISTRY/test/debian:bookworm: 3 layers, 3 new"
	run runtime run "$REGISTRY/test/debian:bookworm" bash -c 'echo "$0 $BASH_VERSION"'
	assert_success
	assert_output --regexp '^bash 5\.2\.'
}

@test "Debian: a pipeline, perl, and a TCP listener and client on its loopback work" {
	runtime image import "$LAYOUT" >/dev/null
	# shellcheck disable=SC2016 # for the container's shell
	run runtime run "$DEBIAN" bash -c 'seq 1 100 | sort -rn | head -n 1; ls /usr/bin | wc -l | tr -d " " | grep -qx "[0-9]*" && echo counted
		perl -MIO::Socket::INET -e '\''
			my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1:7777", Listen => 1, ReuseAddr => 1) or die "listen: $!";
			if (fork() == 0) { my $c = IO::Socket::INET->new("127.0.0.1:7777") or die "connect: $!"; print $c "hello over loopback\n"; exit 0 }
			my $s = $l->accept; print scalar <$s>; wait'\'
	assert_success
	assert_output $'100\ncounted\nhello over loopback'
}
