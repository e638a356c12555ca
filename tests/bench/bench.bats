#!/usr/bin/env bats
# make bench, run small: that it runs every command, prints its table and
# writes its picture, and leaves nothing behind.  Whether the figures are
# good is for `make bench` to show, never for a test to assert.

load ../lib/common

setup() {
	load_libs
	# The bench runs in a rootfs of its own: a leftover would be there.
	# shellcheck disable=SC2034 # read by host_state
	ROOTFS=$TOP/build/bench/rootfs
	remember_host_state
	cd "$TOP" || return
}

teardown() {
	assert_nothing_left
}

@test "bench, 3 runs each: a row for every step and tool, the costs, the picture" {
	local step out=$TEST_TMP/bench devnull
	devnull=$(stat -c '%u:%g %a' /dev/null)
	# Its figures go to a directory of its own: a learner's make bench
	# keeps its results.txt and bench.svg.
	BENCH_OUT=$out RUNS=3 WARMUP=1 CONCURRENT=5 IMPORTS=1 run scripts/bench.sh
	assert_success
	# Nothing it runs may change the host's devices (crun chowns its
	# standard streams: they must not be /dev/null).
	[ "$(stat -c '%u:%g %a' /dev/null)" = "$devnull" ]
	for step in $(ls -d step[0-9][0-9]-* | cut -c5-6); do
		assert_line --regexp "^step$step +[0-9]+\.[0-9]{2} "
	done
	assert_line --regexp '^step08 veth +[0-9]+\.[0-9]{2} '
	assert_line --regexp '^step09 layers +[0-9]+\.[0-9]{2} '
	assert_line --regexp '^step09 image +[0-9]+\.[0-9]{2} '
	# The other tools are installed by the script (scripts/deps.sh bench).
	for tool in chroot unshare bwrap crun "crun harden" runc; do
		assert_line --regexp "^$tool +[0-9]+\.[0-9]{2} "
	done
	assert_line --regexp '^the network namespace and its loopback adds +[-+][0-9.]+ ms$'
	assert_line --regexp '^step08 +5 at once: .* containers/s, 0 failed$'
	assert_line --regexp '^crun +5 at once: .* containers/s, 0 failed$'
	assert_line --regexp '^step08, every feature but veth, / crun: +[0-9.]+ '
	assert_line --regexp "^the runtime's peak RSS, largest step: +[0-9.]+ MiB"
	assert_line --regexp '^step09 image / the same layers as dirs: +[0-9.]+ '
	assert_line --regexp '^step10 / crun with the same hardening: +[0-9.]+ '
	assert_line --regexp '^step09 image import of the test image: [0-9.]+ ms; umoci unpack of it: [0-9.]+ ms; import / umoci: [0-9.]+ '
	assert_line --regexp '^step09 image import of the Debian image: [0-9.]+ ms; umoci unpack of it: [0-9.]+ ms; import / umoci: [0-9.]+ '
	assert_line --regexp '^step11 exec of /bin/true: [0-9.]+ ms; crun exec of it: [0-9.]+ ms; step11 / crun: [0-9.]+$'
	# The picture: one bar per row of the table.
	[ "$(head -c 4 "$out/bench.svg")" = "<svg" ]
	[ "$(tail -n 1 "$out/bench.svg")" = "</svg>" ]
	[ "$(grep -c '<rect x=' "$out/bench.svg")" -eq "$(wc -l <"$out/times.tsv")" ]
	# chroot, unshare, bwrap, every step, step08 veth, step09 layers and
	# image, crun, crun harden, runc
	[ "$(wc -l <"$out/times.tsv")" -eq "$((3 + $(ls -d step[0-9][0-9]-* | wc -l) + 3 + 3))" ]
	cmp -s <(sed -n '/median ms/,/^$/p' "$out/results.txt") <(sed -n '/median ms/,/^$/p' <<<"$output")
}
