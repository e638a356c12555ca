# shellcheck shell=dash disable=SC2154 # init_name: set by the init that sources this
# What every /init of the kit's initramfs files needs (tests/vm/init.sh,
# tests/fresh/init.sh): make_initramfs puts this file at /lib.sh, and an
# init sources it after setting init_name, the name its messages start
# with.  busybox sh.

say() {
	echo "$init_name: $*"
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

# The modules in the order the host listed them: each after its
# dependencies (there is no modprobe here to work that out).
load_modules() {
	local name
	while read -r name; do
		insmod "/modules/$name.ko" || die "insmod $name.ko failed"
	done </modules/order
}

# mount_system DIR DEVPTS_OPTIONS: in DIR, the mounts a booted machine
# has: /proc and /dev moved from the initramfs, sysfs, cgroup2 alone at
# /sys/fs/cgroup (a pure cgroup v2 machine, with the options systemd
# uses), /dev/pts with DEVPTS_OPTIONS, and /dev/shm.
mount_system() {
	local r=$1
	mount --move /proc "$r/proc"
	mount --move /dev "$r/dev"
	mount -t sysfs sysfs "$r/sys"
	mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 "$r/sys/fs/cgroup"
	mkdir -p "$r/dev/pts" "$r/dev/shm"
	mount -t devpts -o "$2" devpts "$r/dev/pts"
	mount -t tmpfs -o mode=1777 shm "$r/dev/shm"
	ln -sf /proc/self/fd "$r/dev/fd"
}

# The first thing an /init does: busybox's applets as commands, /proc and
# /dev, and the console as its terminal.
start_initramfs() {
	/bin/busybox mkdir -p /proc /sys /dev /usr/bin /usr/sbin /sbin
	/bin/busybox --install -s
	mount -t proc proc /proc
	mount -t devtmpfs devtmpfs /dev
	exec </dev/console >/dev/console 2>&1
}
