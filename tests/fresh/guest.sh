#!/bin/bash
# The guest's side of tests/fresh/run.sh: a newcomer on a fresh Debian 12
# with make, gcc and git, as root (the learner's sudo), does what the
# README and WORKSHOP say, in this order:
#
#   clone    git clone the kit (the host repository's committed HEAD)
#   shell    make shell, then types `hostname; echo $$; exit` at the prompt
#   doctor   make doctor
#   check    make check STEP=1
#   demo     make demo (DEMO_MATRIX_STEPS: the columns of its matrix)
#   lab      make lab STEP=2 DEST=~/lab-step02, then make check STEP=2 there
#
# Each stage's outcome is checked, not only its exit status.  The shell
# and the checks run on a terminal (util-linux script), as a learner's do.
# tests/fresh/init.sh starts this as PID 1, so it never exits: it powers
# the machine off.  What it leaves for the host in /mnt/results:
# transcript.log (every command and what it printed, with times),
# fresh.tap (a result per stage), summary.txt (the times) and status.
#
#   guest.sh REPO       FRESH_STAGES=shell,doctor,...  FRESH_DEMO_STEPS=step08-overlay,...
set -uo pipefail

readonly repo=$1 results=/mnt/results
readonly kit=/root/boxlab lab=/root/lab-step02 work=/root/fresh-logs
readonly transcript=$results/transcript.log tap=$results/fresh.tap.body
# A stage that takes longer has hung.
readonly stage_limit=2400
stages=${FRESH_STAGES:-shell,doctor,check,demo,lab}
demo_steps=${FRESH_DEMO_STEPS:-}
results_count=0 failures=0

power_off() {
	sync
	echo o >/proc/sysrq-trigger
	# PID 1 must outlive the power-off, or the kernel panics first.
	sleep 60
}
trap power_off EXIT

# Seconds since the machine started.
now() {
	cut -d. -f1 /proc/uptime
}

# A line of the transcript, on the console too, with the time.
say() {
	printf '[%5s s] %s\n' "$(now)" "$*" | tee -a "$transcript"
}

# result ok|fail NAME [DETAILS]: a TAP line; details (why it failed) as
# "# " lines under it.
result() {
	results_count=$((results_count + 1))
	if [[ $1 == ok ]]; then
		echo "ok $results_count $2" >>"$tap"
		say "PASS: $2"
	else
		echo "not ok $results_count $2" >>"$tap"
		failures=$((failures + 1))
		say "FAIL: $2"
	fi
	if [[ -n ${3:-} ]]; then
		sed 's/^/# /' <<<"$3" >>"$tap"
		sed 's/^/    /' <<<"$3" | tee -a "$transcript"
	fi
}

# A terminal's output as plain lines: no colours, no cursor moves, no
# carriage returns (a line redrawn in place, as bats redraws a test's
# line when it ends, keeps its last state).
plain() {
	sed -e 's/\x1b\[[0-9]*G/\r/g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b[()][A-Z0-9]//g' \
		-e 's/.*\r\(.\)/\1/' -e 's/\r$//' "$1"
}

# phases RAW LABEL=REGEX...: when each REGEX (extended) first showed in
# the output of a terminal run, from RAW (script's log) and RAW.timing
# (its timing: the delay before each chunk, and the chunk's size).
phases() {
	local raw=$1 spec at line="" header=0
	shift
	# The log's first line, script's own, has no timing.
	if head -n 1 "$raw" | grep -q '^Script started'; then header=$(head -n 1 "$raw" | wc -c); fi
	for spec in "$@"; do
		at=$(grep -a -b -m 1 -E -- "${spec#*=}" "$raw" | cut -d: -f1)
		[[ -n $at ]] || continue
		line+="${spec%%=*} +$(awk -v at=$((at - header)) '{ t += $1; n += $2 } n > at { printf "%d", t; exit }' "$raw.timing") s; "
	done
	[[ -z $line ]] || say "(when: ${line%; })"
}

# run LOG COMMAND: COMMAND (a shell line) as the learner types it, its
# output to LOG, the console and the transcript; sets rc and took (s).
run() {
	local log=$1 start
	shift
	say "# $1"
	start=$(now)
	rc=0
	timeout -k 10 "$stage_limit" bash -c "$1" </dev/null >"$log" 2>&1 || rc=$?
	took=$(($(now) - start))
	tee -a "$transcript" <"$log"
	say "(exit status $rc after $took s)"
}

# on_terminal LOG COMMAND: as run, on a terminal (a pty of script's).
on_terminal() {
	local log=$1 start
	shift
	say "# $1      (on a terminal)"
	start=$(now)
	rc=0
	timeout -k 10 "$stage_limit" script -qfec "$1" -T "$log.raw.timing" "$log.raw" </dev/null >/dev/null 2>&1 || rc=$?
	took=$(($(now) - start))
	plain "$log.raw" >"$log"
	tee -a "$transcript" <"$log"
	say "(exit status $rc after $took s)"
}

wants() {
	[[ ,$stages, == *",$1,"* ]]
}

# --- the stages ---

stage_clone() {
	local want got
	cd /root || return
	run "$work/clone.log" "git clone $repo boxlab"
	want=$(git -C "$repo" rev-parse HEAD 2>/dev/null)
	got=$(git -C "$kit" rev-parse HEAD 2>/dev/null)
	if ((rc == 0)) && [[ -n $got && $got == "$want" ]]; then
		result ok "git clone: the kit's HEAD, $got ($took s)"
	else
		result fail "git clone: the kit's HEAD" "exit status $rc; HEAD $got, the host's $want"
	fi
	cd "$kit" || return
}

# wait_for REGEX FILE PID SECONDS: until FILE has a line matching REGEX
# (extended, after plain), while PID lives, at most SECONDS.
wait_for() {
	local re=$1 file=$2 pid=$3 deadline=$(($(now) + $4))
	while (($(now) < deadline)); do
		plain "$file" 2>/dev/null | grep -qE -- "$re" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 1
	done
	return 1
}

# make shell, then a line typed at its prompt, through a pty: script's
# input is a FIFO this stage writes to once the prompt shows.
stage_shell() {
	local raw=$work/shell.raw fifo=$work/shell.in pid start typed='hostname; echo $$; exit' out name pid1
	say "# make shell      (on a terminal; types: $typed)"
	start=$(now)
	rm -f "$fifo" "$raw"
	mkfifo "$fifo"
	script -qfec "make shell" -T "$raw.timing" "$raw" <"$fifo" >/dev/null 2>&1 &
	pid=$!
	exec 3>"$fifo"
	# busybox sh's prompt for root: the working directory, then "# ".
	if ! wait_for '^/ # ' "$raw" "$pid" "$stage_limit"; then
		exec 3>&-
		kill "$pid" 2>/dev/null
		plain "$raw" | tee -a "$transcript"
		result fail "make shell: a prompt in the container" "no prompt after $(($(now) - start)) s"
		return
	fi
	prompt_at=$(now)
	say "(the container's prompt, $((prompt_at - start)) s after make shell, $prompt_at s after the machine started)"
	echo "$typed" >&3
	exec 3>&-
	rc=0
	wait_pid "$pid" 60 || rc=$?
	plain "$raw" >"$work/shell.log"
	tee -a "$transcript" <"$work/shell.log"
	say "(exit status $rc)"
	phases "$raw" "apt-get update=running apt-get update" "busybox-static installed=^Setting up busybox-static" \
		"building=^cc " "rootfs built=^boxlab rootfs: built" "prompt=^/ # "
	# What the shell printed after the line typed: the host name, then $$.
	out=$(awk -v typed="$typed" 'seen; index($0, typed) { seen = 1 }' "$work/shell.log")
	name=$(grep -xE '[0-9a-f]{8}' <<<"$out" | head -n 1)
	# $$ is the line after the name (an id may be all digits: never take it for $$)
	pid1=$(awk -v name="$name" 'found { print; exit } $0 == name { found = 1 }' <<<"$out")
	if ((rc == 0)) && [[ -n $name && $name != "$(hostname)" && $pid1 == 1 ]]; then
		result ok "make shell: a prompt after $((prompt_at - start)) s; the container is $name, the shell is PID 1"
	else
		result fail "make shell: the container's host name and PID 1" \
			"exit status $rc; host name \"$name\" (the machine's: $(hostname)); \$\$ \"$pid1\"; after the typed line:"$'\n'"$out"
	fi
}

# wait_pid PID SECONDS: PID's exit status; it is killed after SECONDS.
wait_pid() {
	local pid=$1 deadline=$(($(now) + $2))
	while kill -0 "$pid" 2>/dev/null && (($(now) < deadline)); do sleep 1; done
	kill -0 "$pid" 2>/dev/null && kill "$pid"
	wait "$pid"
}

stage_doctor() {
	local verdict
	run "$work/doctor.log" "make doctor"
	verdict=$(tail -n 1 "$work/doctor.log")
	if ((rc == 0)) && [[ $verdict =~ ^"boxlab doctor: "[0-9]+" ok, 0 warnings, 0 failures"$ ]] &&
		! grep -qE '^  (WARN|FAIL) ' "$work/doctor.log"; then
		result ok "make doctor: the machine is fit ($verdict)"
	else
		result fail "make doctor: the machine is fit" "exit status $rc; $(grep -E '^  (WARN|FAIL) |fix:' "$work/doctor.log")"$'\n'"$verdict"
	fi
}

stage_check() {
	local summary
	on_terminal "$work/check1.log" "make check STEP=1"
	check_done_at=$(now)
	phases "$work/check1.log.raw" "packages=^boxlab deps: installing" "sanitizer build=fsanitize" \
		"probe=probe\.c" "first test=✓|✗"
	# bats' closing line: "N tests, F failures" (", S skipped" may follow).
	summary=$(grep -E '^[0-9]+ tests?, [0-9]+ failures?' "$work/check1.log" | tail -n 1)
	if ((rc == 0)) && [[ $summary =~ ^([0-9]+)" test"s?", 0 failures" ]] && ((BASH_REMATCH[1] > 0)); then
		result ok "make check STEP=1: $summary ($took s)"
	else
		result fail "make check STEP=1: every test passes" \
			"exit status $rc; bats said: ${summary:-nothing}"$'\n'"$(grep -A 6 -E '^ *(✗|not ok)|command not found|No such file|Error' "$work/check1.log" | head -n 40)"
	fi
}

stage_demo() {
	local closing env=""
	[[ -z $demo_steps ]] || env="DEMO_MATRIX_STEPS=\"${demo_steps//,/ }\" "
	on_terminal "$work/demo.log" "${env}DEMO_PAUSE=0 make demo"
	phases "$work/demo.log.raw" "scene 1=== step 01" "scene 8=== step 08" "matrix=== the isolation matrix" "end=== the end"
	closing=$(grep -E '^boxlab demo: ' "$work/demo.log" | tail -n 1)
	if ((rc == 0)) && [[ $closing =~ ^"boxlab demo: "[0-9]+" scenes in "[0-9]+" s, each showed what it should; nothing left on the host"$ ]]; then
		result ok "make demo: $closing"
	else
		result fail "make demo: every scene shows what it should" \
			"exit status $rc; closing line: ${closing:-none}"$'\n'"$(grep -E 'NOT SHOWN|(NO|YES|LEFT)!$|Error' "$work/demo.log" | head -n 40)"$'\n'"$(grep -m 1 ' but: ' "$work/demo.log")"
	fi
}

# rows TAPFILE: "FIRST STATE NAME" for each row of the matrix's TAP, FIRST
# the row's step and STATE ok, fail or skip (as tests/lab.sh reads them).
rows() {
	sed -n 's/^\(not ok\|ok\) [0-9]* \(.*(from step \([0-9]*\)).*\)$/\3 \1 \2/p' "$1" |
		sed 's/^\([0-9]*\) not ok /\1 fail /; s/^\([0-9]*\) ok \(.*# skip.*\)$/\1 skip \2/'
}

# A student's untouched handout: it builds, and its checks fail where the
# lesson is missing and nowhere else, as tests/lab.sh expects of one.
stage_lab() {
	local new wrong others other_fails
	run "$work/lab.log" "make lab STEP=2 DEST=$lab"
	if ((rc != 0)) || [[ ! -f $lab/step02-pid-ns/container.c ]]; then
		result fail "make lab STEP=2: the handout is written" "exit status $rc"
		return
	fi
	result ok "make lab STEP=2 DEST=$lab: the handout is written ($took s)"
	cd "$lab" || return
	run "$work/check2.log" "cd $lab && make check STEP=2"
	cd "$kit" || return
	if [[ ! -x $lab/step02-pid-ns/container ]]; then
		result fail "the handout's make check STEP=2: it builds" "no $lab/step02-pid-ns/container; exit status $rc"
		return
	fi
	rows "$work/check2.log" >"$work/rows"
	new=$(awk '$1 == 2' "$work/rows")
	wrong=$(awk '$1 == 2 && $2 != "fail"' "$work/rows")
	if [[ -n $new && -z $wrong ]]; then
		result ok "the handout builds; each of its $(grep -c . <<<"$new") rows (from step 02) fails"
	else
		result fail "the handout's rows (from step 02) each fail" "${wrong:-no such rows in the TAP}"
	fi
	# Every other test, the matrix's other rows and the command-line tests.
	others=$(grep -E '^(not )?ok ' "$work/check2.log" | grep -v '(from step 02)')
	other_fails=$(grep '^not ok ' <<<"$others")
	if ((rc != 0)) && [[ -n $others && -z $other_fails ]]; then
		result ok "the handout: every other test ($(grep -c . <<<"$others")) passes; make check says it failed (exit status $rc)"
	else
		result fail "the handout: every other test passes, and make check fails" "exit status $rc; failed:"$'\n'"${other_fails:-none}"
	fi
}

main() {
	local start status=0 stage
	mkdir -p "$work"
	: >"$transcript"
	: >"$tap"
	: >"$results/summary.txt"
	# As systemd makes it: a mount that leaks shows up everywhere.
	mount --make-rshared /
	say "the learner's machine: Debian $(cat /etc/debian_version), Linux $(uname -r), $(nproc) CPU, cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
	say "installed: $(dpkg-query -W -f='${Package} ' make gcc libc6-dev git 2>/dev/null); not installed: $(for p in bats busybox busybox-static libcmocka-dev; do dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || printf '%s ' "$p"; done)"
	start=$(now)
	stage_clone
	clone_at=$start
	for stage in shell doctor check demo lab; do
		wants "$stage" || continue
		stage_start=$(now)
		say "=== $stage"
		"stage_$stage"
		echo "$stage: $(($(now) - stage_start)) s" >>"$results/summary.txt"
	done
	{
		echo "machine start to git clone: $clone_at s"
		[[ -z ${prompt_at:-} ]] || echo "machine start to the shell's prompt: $prompt_at s (from git clone: $((prompt_at - clone_at)) s)"
		[[ -z ${check_done_at:-} ]] || echo "machine start to make check STEP=1 done: $check_done_at s (from git clone: $((check_done_at - clone_at)) s)"
		echo "machine start to the end: $(now) s"
	} >>"$results/summary.txt"
	say "--- times"
	tee -a "$transcript" <"$results/summary.txt"
	{
		echo "1..$results_count"
		cat "$tap"
	} >"$results/fresh.tap"
	rm -f "$tap"
	((failures == 0)) || status=1
	say "$((results_count - failures)) passed, $failures failed"
	echo "$status" >"$results/status"
}

main "$@"
