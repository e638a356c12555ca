#!/usr/bin/env bash
# make test-fresh: the kit on a learner's fresh machine, the first time.
# Boots a minimal Debian 12 (debootstrap: make, gcc, git, apt; no bats,
# busybox or cmocka) with Debian's 6.1 kernel under qemu (software
# emulation), pure cgroup v2, on qemu's user network so that its apt
# reaches Debian's archive.  There, as root, tests/fresh/guest.sh clones
# this repository and runs what a newcomer runs: make shell (a line typed
# at the container's prompt), make doctor, make check STEP=1, make demo,
# make lab STEP=2 and the handout's make check STEP=2, checking what each
# shows and timing it.
#
#   tests/fresh/run.sh        (as root)
#
# The guest clones the committed HEAD: changes not committed are not in
# it (tests/fresh/guest.sh itself runs from the working tree).
#
#   FRESH_STAGES="shell doctor"   the stages to run (default: shell doctor
#                                 check demo lab; the clone always runs)
#   FRESH_DEMO_STEPS="step08-overlay"
#                                 the columns of the demo's matrix (default:
#                                 step08-overlay; "all" for every step, a
#                                 column takes minutes under emulation)
#   FRESH_TIMEOUT=SECONDS         qemu is stopped after that (default 3600)
#
# Everything stays in build/fresh: the Debian tree (made again when
# tests/fresh/mkroot.sh or the kernel changes) and its ext4 image, which
# the guest uses as a snapshot (its writes are dropped, so every run
# starts fresh); the initramfs; console.log; results/, the share the
# guest writes its transcript, times and TAP to.  Exits 0 when every
# stage showed what it should.
set -euo pipefail
cd "$(dirname "$0")/../.."

readonly me="boxlab fresh"
readonly top=$PWD
readonly fresh=build/fresh
readonly root_tree=build/fresh/root root_image=build/fresh/root.ext4 results=build/fresh/results
# shellcheck source=tests/vm/lib.sh
source tests/vm/lib.sh
set_arch amd64

# The initramfs only finds the disk, the network and the shares; the
# kernel loads the rest (overlay, veth, ...) from the disk, as a booted
# machine does.  ext4's checksums need crc32c_generic, which nothing
# loads on demand here.
readonly modules=(virtio_pci virtio_blk virtio_net crc32c_generic ext4 9pnet_virtio 9p)
# Room on the learner's disk for packages, builds and a handout.
readonly free_mb=3072
readonly stages=${FRESH_STAGES:-shell doctor check demo lab}
readonly demo_steps=${FRESH_DEMO_STEPS:-step08-overlay}
readonly time_limit=${FRESH_TIMEOUT:-3600}

check_host() {
	local stage
	((EUID == 0)) || die "run me as root (debootstrap, and qemu sharing the repository with its owners)"
	git rev-parse -q --verify HEAD >/dev/null || die "no commit to clone in $top"
	for stage in $stages; do
		[[ $stage =~ ^(shell|doctor|check|demo|lab)$ ]] ||
			die "FRESH_STAGES: \"$stage\" is not a stage (shell doctor check demo lab)"
	done
	[[ $time_limit =~ ^[0-9]+$ ]] || die "FRESH_TIMEOUT=\"$time_limit\" is not a number of seconds"
	if [[ -n $(git status --porcelain --untracked-files=no) ]]; then
		echo "$me: the working tree has changes not committed: the guest clones HEAD, without them"
	fi
}

# The learner's machine as a tree, made again when the script that makes
# it or the kernel changed.
make_root() {
	local want
	want="$(sha256sum tests/fresh/mkroot.sh | cut -d' ' -f1) $(basename "$kernel_deb")"
	[[ -f $root_tree/.boxlab-fresh && $(cat "$root_tree/.boxlab-fresh") == "$want" ]] && return
	tests/fresh/mkroot.sh "$root_tree" "$kernel_deb"
	echo "$want" >"$root_tree/.boxlab-fresh"
}

# Sets kernel and initramfs: the tree's kernel, and an initramfs with the
# host's busybox and the modules, made again when older than the tree or
# than the scripts that make it.
build_initramfs() {
	local version
	version=$(tree_kernel_version "$root_tree")
	kernel=$root_tree/boot/vmlinuz-$version
	initramfs=$fresh/initramfs-$version.cpio.gz
	is_newer "$initramfs" "$root_tree/.boxlab-fresh" tests/fresh/init.sh tests/fresh/run.sh \
		tests/vm/lib.sh tests/vm/initlib.sh && return
	echo "$me: making the initramfs for Linux $version"
	make_initramfs "$root_tree/lib/modules/$version" /bin/busybox tests/fresh/init.sh "$initramfs" "${modules[@]}"
}

# The tree as an ext4 image, with free_mb to spare: make_disk leaves a
# little room only.
make_root_disk() {
	local want_mb
	make_disk "$root_tree" "$root_image"
	want_mb=$(($(du -sm "$root_tree" | cut -f1) + free_mb))
	(($(stat -c %s "$root_image") / 1048576 >= want_mb)) && return
	truncate -s "${want_mb}M" "$root_image"
	if ! e2fsck -fp "$root_image" >/dev/null || ! resize2fs -f "$root_image" >/dev/null 2>&1; then
		die "cannot grow $root_image to $want_mb MB"
	fi
}

stop_machine() {
	echo "$me: stopped; powering the machine off" >&2
	if [[ -s $fresh/qemu.pid ]]; then kill "$(cat "$fresh/qemu.pid")" 2>/dev/null || true; fi
	exit 1
}

# The machine, its console shown as it goes and kept in console.log.
# Returns qemu's status (124 when the time limit stopped it).  The user
# network without IPv6: Debian's archive is reached as the host reaches
# it.
boot() {
	local steps=$demo_steps
	[[ $steps != all ]] || steps=$(echo step[0-9][0-9]-*)
	rm -rf "$results" "$fresh/qemu.pid"
	mkdir -p "$results"
	TMPDIR=$top/$fresh timeout "$time_limit" "$qemu" "${qemu_machine[@]}" \
		-nic user,model=virtio-net-pci,ipv6=off \
		-pidfile "$fresh/qemu.pid" -kernel "$kernel" -initrd "$initramfs" \
		-append "$kernel_options boxlab.repo=$top boxlab.stages=${stages// /,} boxlab.demo_steps=${steps// /,}" \
		-drive "file=$root_image,if=virtio,format=raw,snapshot=on" \
		-virtfs "local,path=$top,mount_tag=kit,security_model=passthrough,readonly=on,multidevs=remap" \
		-virtfs "local,path=$top/$results,mount_tag=results,security_model=passthrough" \
		</dev/null 2>&1 | sed -u 's/\r$//' | tee "$fresh/console.log"
	return "${PIPESTATUS[0]}"
}

# What the guest left: its times and results, and its TAP file.  Fails when a stage did, or when the guest never
# said how they went.
report() {
	local qemu_status=$1
	echo
	if [[ -s $results/summary.txt ]]; then
		echo "$me: times ($results/summary.txt):"
		sed 's/^/  /' "$results/summary.txt"
	fi
	if [[ -s $results/fresh.tap ]]; then
		echo "$me: results ($results/fresh.tap; the transcript: $results/transcript.log):"
		cat "$results/fresh.tap"
		echo "test-fresh: $(grep -c '^ok ' "$results/fresh.tap") passed, $(grep -c '^not ok ' "$results/fresh.tap") failed"
	fi
	if [[ ! -s $results/status ]]; then
		if ((qemu_status == 124)); then
			echo "$me: the machine did not finish within $time_limit s; qemu was stopped" >&2
		else
			echo "$me: the machine ended without writing its status (qemu's status: $qemu_status)" >&2
		fi
		return 1
	fi
	return "$(cat "$results/status")"
}

main() {
	local start status=0
	check_host
	scripts/deps.sh fresh
	mkdir -p build/vm "$fresh"
	fetch_kernel build/vm amd64
	make_root
	build_initramfs
	make_root_disk
	trap stop_machine INT TERM HUP
	start=$(date +%s)
	echo "$me: a fresh Debian 12 under qemu: $(git rev-parse --short HEAD) cloned, then: $stages"
	boot || status=$?
	report "$status" && status=0 || status=1
	echo "$me: $(($(date +%s) - start)) s in the machine"
	exit "$status"
}

main "$@"
