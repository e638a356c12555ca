#!/usr/bin/env bats
# The speaker's tools: scripts/present.sh (make present STEP=N) and
# scripts/demo.sh (make demo); and scripts/doctor.sh (make doctor) in the
# places it warns about, faked.  Fast: present runs no container; demo's
# scenes of the steps take a few seconds (the matrix scene, minutes, is
# left to `make demo`); the doctor's tests fake the machine.  And the
# texts of the lab handouts (scripts/lab/) against the steps' lessons.

load ../lib/common

setup() {
	load_libs
	cd "$TOP" || return
}

teardown() {
	rm -rf "$TEST_TMP"
}

# The hunks of step N's diff, as `make diff STEP=N` shows them.
diff_hunks() {
	scripts/stepdiff.sh "$1" | grep -c '^@@ '
}

# The numbers of the kit's steps (its directories stepNN-NAME), one a line.
step_numbers() {
	local dir
	for dir in step[0-9][0-9]-*/; do
		dir=${dir#step}
		echo $((10#${dir%%-*}))
	done
}

# The scenes `demo --help` lists, by their step's number, one a line.
demo_scenes() {
	scripts/demo.sh --help | awk '$1 ~ /^[0-9]+$/ { print $1 }'
}

@test "present, no terminal: every hunk of every step after the first, in order, exit 0" {
	local n k hunks
	for n in $(step_numbers); do
		((n > 1)) || continue
		run scripts/present.sh "$n" </dev/null
		assert_success
		hunks=$(diff_hunks "$n")
		[ "$hunks" -gt 0 ]
		# Every hunk's own @@ line, and one header per hunk, numbered.
		[ "$(grep -c '^@@ ' <<<"$output")" -eq "$hunks" ] ||
			fail "step $n: $(grep -c '^@@ ' <<<"$output") @@ lines shown, the diff has $hunks"
		for ((k = 1; k <= hunks; k++)); do
			assert_line --regexp "^== step $n, hunk $k of $hunks, "
		done
		refute_line --partial "hunk $((hunks + 1)) of"
	done
}

@test "present, no terminal: the hunks are the diff's, line for line" {
	run scripts/present.sh 5 </dev/null
	assert_success
	diff <(scripts/stepdiff.sh 5 | sed -n '/^@@ /,$p' | grep -v '^$') \
		<(grep -v '^== step 5, hunk ' <<<"$output" | sed -n '/^@@ /,$p' | grep -v '^$') ||
		fail "present 5 does not show the diff of make diff STEP=5"
}

@test "present, no terminal: no colour codes" {
	run scripts/present.sh 4 </dev/null
	assert_success
	refute_output --partial $'\e['
}

@test "present 1: no diff; the whole file, a function at a time" {
	run scripts/present.sh 1 </dev/null
	assert_success
	assert_line --partial "step01-chroot is the first step, so there is no diff"
	assert_line "== step 1, piece 1 of 5: the file's comment and #includes =="
	assert_line --regexp '^== step 1, piece [0-9] of 5: main\(\) ==$'
	# Every line of the file, in order, nothing else but headers (and not
	# the comments that mark the lesson for lab handouts, as make diff).
	diff <(scripts/stepdiff.sh --code step01-chroot | grep -v '^$') \
		<(sed -n '/^== step 1, piece 1 /,$p' <<<"$output" | grep -v '^== step 1, piece \|^$') ||
		fail "present 1 does not show step01-chroot/container.c whole"
}

@test "present takes 03 for 3" {
	run scripts/present.sh 03 </dev/null
	assert_success
	assert_line --regexp '^== step 3, hunk 1 of '
}

@test "present with a bad step explains" {
	local last
	last=$(step_numbers | tail -n 1)
	run scripts/present.sh 42
	assert_failure 2
	assert_output "boxlab present: \"42\" is not a step: give a number from 1 to $last (make present STEP=3)"
	run scripts/present.sh x
	assert_failure 2
	assert_output "boxlab present: \"x\" is not a step: give a number from 1 to $last (make present STEP=3)"
	run scripts/present.sh 0
	assert_failure 2
	assert_output --partial '"0" is not a step'
}

@test "present with no step prints its usage" {
	run scripts/present.sh
	assert_failure 2
	assert_output "usage: scripts/present.sh N   (or: make present STEP=N), N from 1 to $(step_numbers | tail -n 1)"
}

@test "present on a terminal: a key for the next hunk, b for back, q quits" {
	command -v script >/dev/null || skip_cannot_run "no script(1) to give present a terminal"
	run bash -c '(sleep 1; printf " "; sleep 0.5; printf b; sleep 0.5; printf q) |
		timeout 20 script -qec "scripts/present.sh 2" /dev/null'
	assert_success
	output=$(sed 's/\x1b\[[0-9;]*[A-Za-z]//g; s/\r//g' <<<"$output")
	# hunk 1, then 2, then back to 1; q quits before hunk 3.
	[ "$(grep -c '^== step 2, hunk 1 of 3' <<<"$output")" -eq 2 ]
	[ "$(grep -c '^== step 2, hunk 2 of 3' <<<"$output")" -eq 1 ]
	refute_line --partial 'hunk 3 of 3'
	assert_output --partial '[any key: next   b: back   q: quit]'
}

# Every ```c and ```diff block of WORKSHOP.md (and of README.md and
# docs/, if they have any) against the code and make diff, and the sizes
# the chapters give of make diff: tests/stage/quotes.sh says what it allows.
@test "WORKSHOP's code and diffs quote the source as it is" {
	run tests/stage/quotes.sh
	assert_success
	assert_output --regexp '^quotes\.sh: [1-9][0-9]* C blocks and [1-9][0-9]* diffs, [0-9]+ pieces: each is the source as it is$'
	# It sees a change: one character of a quoted call, in a copy.
	local line
	line=$(grep -nF -m1 $'\tKCALL(chroot(c->rootfs), ' WORKSHOP.md | cut -d: -f1)
	sed "${line}s/c->rootfs)/c->root)/" WORKSHOP.md >"$TEST_TMP/WORKSHOP.md"
	run tests/stage/quotes.sh "$TEST_TMP/WORKSHOP.md"
	assert_failure 1
	assert_line --partial "$TEST_TMP/WORKSHOP.md:$line: the c block of line "
	assert_line --regexp '^quotes\.sh: .*: 1 mismatch$'
}

# Every session WORKSHOP.md shows, re-run, its output compared with what
# the text says (tests/stage/outputs.sh says how), unless the text marks it
# illustrative, and nothing left behind.  Takes a few minutes.
@test "WORKSHOP's shown outputs are what its commands print" {
	run tests/stage/outputs.sh
	echo "$output"
	assert_success
	assert_output --regexp '^outputs\.sh: WORKSHOP\.md: [1-9][0-9]* blocks re-run, 0 differ; [0-9]+ illustrative$'
}

@test "outputs.sh sees a changed output, a leftover, and skips what is marked illustrative" {
	printf '%s\n' 'A session:' '```' '$ echo hello; echo world' 'hello' 'world' '```' \
		'and one cut short:' '```' '$ seq 5' '1' '...' '5' '```' >"$TEST_TMP/good.md"
	run tests/stage/outputs.sh "$TEST_TMP/good.md"
	assert_success
	assert_output 'outputs.sh: good.md: 2 blocks re-run, 0 differ; 0 illustrative'
	sed 's/^world$/word/' "$TEST_TMP/good.md" >"$TEST_TMP/bad.md"
	run tests/stage/outputs.sh "$TEST_TMP/bad.md"
	assert_failure 1
	assert_line 'bad.md:2: the shown output differs: shown "word", printed "world"'
	printf '%s\n' '*(Illustrative: a word the command never prints.)*' '```' '$ echo world' 'word' '```' >"$TEST_TMP/marked.md"
	run tests/stage/outputs.sh "$TEST_TMP/marked.md"
	assert_success
	assert_output 'outputs.sh: marked.md: 0 blocks re-run, 0 differ; 1 illustrative'
	printf '%s\n' '```' '# ip link add bxoutputs0 type veth peer name bxoutputs1; echo made' 'made' '```' >"$TEST_TMP/leaves.md"
	run tests/stage/outputs.sh "$TEST_TMP/leaves.md"
	ip link del bxoutputs0 2>/dev/null || true
	assert_failure 1
	assert_line --partial 'leaves.md:1: the block left behind: link: bxoutputs0'
}

@test "demo --help lists the scenes" {
	run scripts/demo.sh --help
	assert_success
	assert_line --index 0 "usage: scripts/demo.sh [SCENE...]    (make demo runs them all)"
	assert_line --regexp '^  7  step07-cgroups +the OOM killer under --memory 32M$'
	assert_line --regexp '^  matrix +the isolation matrix of every step'
	assert_line --partial "DEMO_PAUSE=SECONDS"
}

@test "demo with a bad scene explains and prints its usage" {
	local scenes first
	mapfile -t scenes < <(demo_scenes)
	# The first scene, as two digits ("01"), is one; 42 is none.
	printf -v first %02d "${scenes[0]}"
	run scripts/demo.sh "$first" 42
	assert_failure 2
	assert_line --index 0 "boxlab demo: \"42\" is not a scene: give step numbers ${scenes[0]}-${scenes[-1]} or \"matrix\""
	assert_line "usage: scripts/demo.sh [SCENE...]    (make demo runs them all)"
}

@test "demo without root says how to run it" {
	[ "$(id -u)" -eq 0 ] || skip "already not root"
	run "${AS_NOBODY[@]}" scripts/demo.sh 1
	assert_failure 2
	assert_output "boxlab demo: needs root (steps 01-04 do): run 'sudo make demo'"
}

@test "demo with a bad DEMO_PAUSE explains" {
	DEMO_PAUSE=soon run scripts/demo.sh 1
	assert_failure 2
	assert_output 'boxlab demo: DEMO_PAUSE="soon" is not a number of seconds (DEMO_PAUSE=2)'
}

@test "demo, no terminal: every scene shows its lesson, no colour, no pause" {
	[ "$(id -u)" -eq 0 ] || skip_cannot_run "demo needs root"
	[ -x build/test-rootfs/usr/bin/probe ] || skip_cannot_run "no build/test-rootfs: make demo builds it"
	local scenes
	mapfile -t scenes < <(demo_scenes)
	SECONDS=0
	run scripts/demo.sh "${scenes[@]}" </dev/null
	assert_success
	[ "$SECONDS" -lt 30 ] || fail "the ${#scenes[@]} scenes took $SECONDS s: a pause without a terminal?"
	refute_output --partial $'\e['
	refute_output --partial 'NOT SHOWN'
	assert_line 'I am PID 1'
	assert_line '  ok: the command is PID 1'
	assert_line --partial 'warning: the container was killed by the OOM killer (memory limit 32M)'
	assert_line '  ok: the runtime reports the OOM kill'
	assert_line '  ok: the upper dir has it'
	assert_line "  ok: the image's own command ran, as its user, in its directory"
	assert_line --regexp "^boxlab demo: ${#scenes[@]} scenes in [0-9]+ s, each showed what it should; nothing left on the host\$"
	# One "== step NN" title per scene, and each command after a prompt.
	[ "$(grep -c '^== step [0-9][0-9]: ' <<<"$output")" -eq "${#scenes[@]}" ]
	assert_line "# ./step02-pid-ns/container run -v rootfs /bin/sh -c 'echo \"I am PID \$\$\"; ps; true'"
}

# ---- make doctor in places the kit does not suit: faked with
# BOXLAB_DOCTOR_ROOT, a directory laid out like / with the files that
# tell where we run.

# fake_root NAME [VERSION]: a stand-in / of an ordinary machine, in
# $TEST_TMP/NAME: every capability in the bounding set (a user's effective
# set is empty: root's is what counts), no seccomp filter, ext4 root, systemd
# as PID 1, and VERSION as its /proc/version (a Debian kernel's if not given).
fake_root() {
	local d=$TEST_TMP/$1
	mkdir -p "$d/proc/self" "$d/proc/1" "$d/run"
	printf 'CapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\nSeccomp:\t0\n' >"$d/proc/self/status"
	echo "${2:-Linux version 6.1.0-13-amd64 (debian-kernel@lists.debian.org)}" >"$d/proc/version"
	: >"$d/proc/1/environ"
	echo '0::/init.scope' >"$d/proc/1/cgroup"
	echo systemd >"$d/proc/1/comm"
	echo '22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw' >"$d/proc/self/mountinfo"
	echo "$d"
}

# doctor_in ROOT [VAR=VALUE...]: bats' run of scripts/doctor.sh on the
# stand-in / ROOT, with the VARs given.  The doctor reads CODESPACES from
# the environment: the one of the machine running the tests is left out.
doctor_in() {
	local root=$1
	shift
	run env -u CODESPACES BOXLAB_DOCTOR_ROOT="$root" "$@" scripts/doctor.sh
}

@test "doctor on an ordinary machine: no container, no WSL" {
	local root
	root=$(fake_root plain)
	doctor_in "$root"
	assert_line "  ok    not inside a container"
	refute_output --partial "WSL"
	refute_output --partial "Codespaces"
}

@test "doctor in a default Docker container: what fails, and why" {
	local root
	root=$(fake_root docker)
	touch "$root/.dockerenv"
	# Docker's default capabilities (no CAP_SYS_ADMIN), its seccomp
	# profile, an overlay root and a read-only cgroup2.
	printf 'CapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nSeccomp:\t2\n' >"$root/proc/self/status"
	printf '%s\n' '500 400 0:50 / / rw,relatime - overlay overlay rw,lowerdir=/x' \
		'510 500 0:60 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw' \
		>"$root/proc/self/mountinfo"
	doctor_in "$root"
	assert_line "  WARN  running inside a container (docker: /.dockerenv exists): cgroup writes, mounts and overlay may be refused"
	assert_line "        fix: prefer a VM or a real machine; or start the container with --privileged --cgroupns=host"
	assert_line "        no CAP_SYS_ADMIN (not --privileged): steps 02-08 fail at their first clone() or mount with EPERM"
	assert_line --partial "a seccomp filter (Docker's default profile)"
	assert_line "        /sys/fs/cgroup is read-only: steps 07 and 08 make a cgroup for every run and fail with EROFS"
	assert_line "        / is itself an overlay: step 08's overlay on top of it may be refused"
}

@test "doctor in a privileged container says it has what the steps need" {
	local root
	root=$(fake_root podman)
	touch "$root/run/.containerenv"
	doctor_in "$root"
	assert_line --partial "WARN  running inside a container (podman: /run/.containerenv exists)"
	assert_line "        it has CAP_SYS_ADMIN, no seccomp filter and a writable /sys/fs/cgroup, as with --privileged"
}

@test "doctor finds a container by PID 1's container= and by an overlay root" {
	local root
	root=$(fake_root lxc)
	printf 'PATH=/bin\0container=lxc\0' >"$root/proc/1/environ"
	doctor_in "$root"
	assert_line --partial "WARN  running inside a container (lxc: container= in the environment of PID 1)"
	root=$(fake_root overlay)
	echo '500 400 0:50 / / rw,relatime - overlay overlay rw' >"$root/proc/self/mountinfo"
	doctor_in "$root"
	assert_line --partial "WARN  running inside a container (/ is an overlay, as in a Docker container)"
}

@test "doctor in WSL2: what differs, and the fix" {
	local root
	root=$(fake_root wsl2 'Linux version 5.15.153.1-microsoft-standard-WSL2 (root@941d701f84f1) (gcc (GCC) 12.2.0) #1 SMP')
	echo init >"$root/proc/1/comm"
	doctor_in "$root"
	assert_line "  ok    not inside a container"
	assert_line "  WARN  running in WSL2 (kernel 5.15.153.1-microsoft-standard-WSL2): namespaces and overlay work, but cgroups and systemd differ from a VM"
	# The note on v1 cgroups follows this machine's real layout, which the
	# doctor measures at /sys/fs/cgroup (BOXLAB_DOCTOR_ROOT does not fake
	# it): v1 or hybrid below a tmpfs, pure v2 otherwise.
	if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = tmpfs ]; then
		assert_line --partial "kernelCommandLine = cgroup_no_v1=all under [wsl2]"
	else
		refute_output --partial "cgroup_no_v1"
	fi
	assert_line --partial "systemd is not PID 1 (init is)"
	# With systemd, nothing about it.
	echo systemd >"$root/proc/1/comm"
	doctor_in "$root"
	refute_output --partial "systemd is not PID 1"
}

@test "doctor in WSL 1: a failure, and how to convert" {
	local root
	root=$(fake_root wsl1 'Linux version 4.4.0-19041-Microsoft (Microsoft@Microsoft.com) (gcc version 5.4.0 (GCC) ) #3996-Microsoft')
	doctor_in "$root"
	assert_failure 1
	assert_line --partial "FAIL  running in WSL 1 (4.4.0-19041-Microsoft)"
	assert_line --partial "wsl --set-version DISTRO 2"
}

@test "doctor in GitHub Codespaces says it is a Docker container" {
	local root
	root=$(fake_root codespace)
	touch "$root/.dockerenv"
	doctor_in "$root" CODESPACES=true
	assert_line --partial "WARN  running inside a container (docker: /.dockerenv exists)"
	assert_line "  WARN  running in GitHub Codespaces (CODESPACES=true): a Docker container, with a container's limits (see its line)"
	assert_line --partial 'fix: use a VM; or give the dev container "privileged": true'
}

@test "doctor on Ubuntu 23.10+: AppArmor's user namespace restriction" {
	local root
	root=$(fake_root ubuntu)
	mkdir -p "$root/proc/sys/kernel"
	echo 1 >"$root/proc/sys/kernel/apparmor_restrict_unprivileged_userns"
	doctor_in "$root"
	assert_line "  WARN  kernel.apparmor_restrict_unprivileged_userns = 1: AppArmor (Ubuntu 23.10+) denies user namespaces to unprivileged programs"
	assert_line "        fix: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
	refute_output --partial "No such file"
}

# --- scripts/deps.sh ---------------------------------------------------------

# fake_dpkg DIR MISSING...: in DIR, a dpkg-query that says every package
# is installed but the MISSING ones, and an apt-get that must not run.
fake_dpkg() {
	local dir=$1
	shift
	mkdir -p "$dir"
	# dpkg-query -W -f=FORMAT PACKAGE: the package comes last.
	printf '#!/bin/sh\nfor p; do :; done\ncase " %s " in *" $p "*) echo not-installed ;; *) echo installed ;; esac\n' \
		"$*" >"$dir/dpkg-query"
	printf '#!/bin/sh\necho "apt-get ran: $*" >&2\nexit 1\n' >"$dir/apt-get"
	chmod 755 "$TEST_TMP" "$dir" "$dir/dpkg-query" "$dir/apt-get"
}

@test "deps as a user: one line names what is missing and how to install it" {
	[ "$(id -u)" -eq 0 ] || skip "already not root"
	fake_dpkg "$TEST_TMP/bin" bats-support bats-file
	PATH=$TEST_TMP/bin:$PATH run "${AS_NOBODY[@]}" scripts/deps.sh build test
	assert_failure 1
	assert_output 'boxlab deps: missing bats-support bats-file (to run the tests): install them with `sudo apt-get install bats-support bats-file`'
}

@test "deps with everything installed says nothing" {
	fake_dpkg "$TEST_TMP/bin"
	PATH=$TEST_TMP/bin:$PATH run scripts/deps.sh build test vm bench
	assert_success
	assert_output ""
}

@test "deps where there is no dpkg: names the packages once, and lets the target go on" {
	mkdir -p "$TEST_TMP/empty"
	PATH=$TEST_TMP/empty run /bin/bash scripts/deps.sh build
	assert_success
	assert_output "boxlab deps: cannot check packages here (no dpkg-query or apt-get); the kit needs the equivalents of Debian's busybox-static libc6-dev libarchive-dev libjansson-dev libcurl4-openssl-dev nettle-dev libacl1-dev liblzma-dev libzstd-dev liblz4-dev libbz2-dev zlib1g-dev libseccomp-dev"
}

@test "make check as a user, a test package missing: that line first, nothing built" {
	[ "$(id -u)" -eq 0 ] || skip "already not root"
	fake_dpkg "$TEST_TMP/bin" bats-assert
	cp -a "$TOP/Makefile" "$TOP/scripts" "$TEST_TMP/"
	# As a learner types it: not a sub-make of make test's (make[1]).
	PATH=$TEST_TMP/bin:$PATH run env -u MAKELEVEL -u MAKEFLAGS -u MFLAGS \
		"${AS_NOBODY[@]}" make --no-print-directory -C "$TEST_TMP" check STEP=1
	assert_failure 2
	assert_line --index 0 'boxlab deps: missing bats-assert (to run the tests): install them with `sudo apt-get install bats-assert`'
	assert_line --index 1 --regexp '^make: \*\*\* \[Makefile:[0-9]+: deps-test\] Error 1$'
	[ "${#lines[@]}" -eq 2 ]
	[ ! -e "$TEST_TMP/build" ]
}

# The lab's texts, one file a step (scripts/lab/stepNN.md), are found by
# the titles of the lesson's regions.  A handout has none: it skips.
@test "lab: every region of every step has one text, and every text its region, by title" {
	[ -d scripts/lab ] || skip "no scripts/lab/: a handout carries no lab texts"
	local steps
	steps=$(step_numbers | paste -sd ' ')
	run scripts/lab.sh check
	assert_success
	assert_output --regexp "^lab\\.sh: the texts of steps $steps match their regions, title for title: [1-9][0-9]* regions, [0-9]+ stand-ins\$"
}

# lab_copy: the lab's scripts, texts and steps in $TEST_TMP/kit, to break.
lab_copy() {
	local step
	mkdir -p "$TEST_TMP/kit/scripts"
	cp -a scripts/lab.sh scripts/lesson-markers.sh scripts/lab "$TEST_TMP/kit/scripts/"
	for step in step[0-9][0-9]-*/; do
		mkdir "$TEST_TMP/kit/$step"
		cp -a "$step/container.c" "$TEST_TMP/kit/$step"
	done
}

@test "lab: a region renamed or a title used twice stops the handout, before it writes anything" {
	[ -d scripts/lab ] || skip "no scripts/lab/: a handout carries no lab texts"
	lab_copy
	local file=$TEST_TMP/kit/step04-mount-ns/container.c
	grep -qxF $'\t/* lesson 04: a new mount namespace */' "$file"
	sed -i 's|^\t/\* lesson 04: a new mount namespace \*/$|\t/* lesson 04: a mount namespace of its own */|' "$file"
	run "$TEST_TMP/kit/scripts/lab.sh" check
	assert_failure 2
	assert_output 'lab.sh: step 04: "a mount namespace of its own", a region of step04-mount-ns/container.c, has no text in scripts/lab/step04.md: add a section "## a mount namespace of its own"
lab.sh: step 04: "a new mount namespace" in scripts/lab/step04.md is the title of no region of step04-mount-ns/container.c: rename the section, or delete it'
	run "$TEST_TMP/kit/scripts/lab.sh" 4 "$TEST_TMP/handout"
	assert_failure 2
	assert_line --index 0 'lab.sh: step 04: "a mount namespace of its own", a region of step04-mount-ns/container.c, has no text in scripts/lab/step04.md: add a section "## a mount namespace of its own"'
	[ ! -e "$TEST_TMP/handout" ]
	# Two regions of one title: neither can have its own text.
	sed -i 's|^\t/\* lesson 04: a mount namespace of its own \*/$|\t/* lesson 04: pivot_root instead of chroot */|' "$file"
	run "$TEST_TMP/kit/scripts/lab.sh" check 4
	assert_failure 2
	assert_line --index 0 'lab.sh: step 04: two regions of step04-mount-ns/container.c are titled "pivot_root instead of chroot": its texts in scripts/lab/step04.md are found by title, so titles must differ'
	# Two texts of one title, in the file of texts.
	run "$TEST_TMP/kit/scripts/lab.sh" check 3
	assert_success
	printf '\n## clocks of its own\n\nAgain.\n' >>"$TEST_TMP/kit/scripts/lab/step03.md"
	run "$TEST_TMP/kit/scripts/lab.sh" check 3
	assert_failure 2
	assert_output 'lab.sh: step 03: scripts/lab/step03.md has two texts titled "clocks of its own": keep one'
}
