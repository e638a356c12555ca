#!/usr/bin/env bash
# tests/stage/outputs.sh [--list] [DOC [LINE...]]: do the commands the
# document shows still print what it says?  DOC defaults to WORKSHOP.md;
# LINEs pick blocks by the line of their opening fence.  As root.
#
# A shown session is a ``` block whose first line is a command, "$ " or
# "# " and the command, and which shows some output: the lines after a
# command, up to the next, are what it printed.  (A block of commands
# alone is something to type, not something to compare.)  Each
# block runs in one bash in the kit's top directory, its commands in
# order, so "&" and "$!" work as in a terminal; background jobs left are
# ended when the block ends, and anything a block leaves on the host
# fails it (and is removed, by scripts/reset-host.sh).  Before comparing, both sides are masked:
# the kit's own directory (shown as /home/you/boxlab), the host's name
# (shown as vm), container ids, pids (also the short ones of a machine
# whose pid numbers wrapped around: ps's first columns, "pid: N",
# "process N", a state file's runtime line, a subnet claim's line of
# three digits), numbers of four digits or more (inodes, uids), times in ms,
# dates, how long ago ps says a container was made ("3 s ago"), MAC
# addresses, mktemp names, and runs of blanks.
#
# A block that goes on with the jobs and variables of the one before has
# "<!-- continued -->" on the line before its fence.
#
# A block whose output is cgroup v1's has "<!-- on cgroup v1 -->" there,
# and is re-run only where cgroups are v1.
#
# A block the test cannot re-run says so to the reader, on the line just
# before its fence, with the reason:
#
#	*(Illustrative: the host's own processes.)*
#
# --list prints each block's line and verdict (checked or illustrative)
# without running anything.  Prints a line per block that differs, with
# its first differing line; a count at the end; exits 1 if any differs.
set -euo pipefail

list=0
if [ "${1:-}" = --list ]; then
	list=1
	shift
fi
doc=${1:-WORKSHOP.md}
case $doc in
/*) ;;
*) doc=$PWD/$doc ;;
esac
shift || true
only=" $* "
cd "$(dirname "$0")/../.."

tmp=$(mktemp -d)
# Images go to a store of this run's own, empty at its start as on a
# learner's first day, and gone at its end.
export BOXLAB_STORE_DIR=$tmp/store
trap 'rm -rf "$tmp"' EXIT

# Each block as a file: its first line "LINE checked|illustrative REASON",
# then the block's lines.
awk -v dir="$tmp" '
BEGIN { mark = cont = v1 = -1 }
/^ *\*\(Illustrative: .*\.\)\*$/ { why = $0; sub(/^ *\*\(Illustrative: /, "", why); sub(/\.\)\*$/, "", why); mark = NR; next }
/^<!-- continued -->$/ { cont = NR; next }
/^<!-- on cgroup v1 -->$/ { v1 = NR; next }
/^ *```/ && !inb { inb = 1; start = NR; n = 0; plain = $0 ~ /^ *```$/; indent = index($0, "`") - 1; next }
/^ *```$/ && inb {
	inb = 0
	shown = 0
	for (i = 1; i <= n; i++)
		if (body[i] !~ /^[$#] /)
			shown = 1
	if (plain && shown && body[1] ~ /^[$#] /) {
		if (cont == start - 1 && file) {
			for (i = 1; i <= n; i++)
				print body[i] >>file
		} else {
			file = dir "/block." sprintf("%05d", start)
			if (mark == start - 1)
				print start, "illustrative", why >file
			else if (v1 == start - 1)
				print start, "v1" >file
			else
				print start, "checked" >file
			for (i = 1; i <= n; i++)
				print body[i] >file
		}
		close(file)
	}
	next
}
inb { body[++n] = substr($0, indent + 1) }
' "$doc"

mask() {
	sed -E -e '/^\[[0-9]+\]([+-]? )/d' \
		-e "s#$PWD/#/home/you/boxlab/#g; s/^$(hostname)\$/vm/" \
		-e '/run\.sh: line [0-9]+: +[0-9]+ (Killed|Terminated|Done)/d' \
		-e 's/^.*run\.sh: line [0-9]+: /bash: /' \
		-e 's/\bbx[0-9a-f]{8}\b/bxID/g; s/@if[0-9]+/@ifN/g' \
		-e 's/\b([0-9a-f]{2}:){5}[0-9a-f]{2}\b/MAC/g; s/fe80::[0-9a-f:]+/fe80::MAC/g' \
		-e 's:(rtt min/avg/max/mdev|round-trip min/avg/max) = .*:\1 = T ms:' \
		-e 's/\b[0-9a-f]{8}\b/ID/g' \
		-e 's/^([0-9]+ ){2}[0-9]+:[0-9]+ /N N N:N /' \
		-e 's/\b(pid|clone\(.*\) =) [0-9]+/\1 N/g; s/^\[pid +[0-9]+\] /[pid N] /' \
		-e 's/^runtime [0-9]+$/runtime N/; s/^[0-9]{3}$/N/; s/^ *[0-9]+ ([DRSTZ][a-zA-Z+<]*) /N \1 /' \
		-e 's/\b(pid:|process) [0-9]+/\1 N/g; s/^ *[0-9]+ +[0-9]+ ([^0-9 ])/N N \1/' \
		-e 's/[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}/DATE/g' \
		-e 's/\b[0-9]+ (s|min|h) ago\b/N ago/g' \
		-e 's/[0-9]+\.[0-9]+ ms/T ms/g' \
		-e 's/[0-9]+\.[0-9]+ s of CPU/T s of CPU/g; s/[0-9]+ KiB/N KiB/g' \
		-e 's/\btmp\.[A-Za-z0-9]{10}\b/tmp.X/g' \
		-e 's/[0-9]{4,}/N/g' \
		-e 's/[ \t]+/ /g; s/^ //'
}

# 1 if a command line leaves a single quote open (it goes on, on the
# next line of the block), given whether it began inside one.
quotes_open() {
	local quotes=${1//[^\']/}
	echo $(((${#quotes} + $2) % 2))
}

# The script that replays a block, its commands in one shell.  The test
# runs as root, so sudo is just the command.
replay_script() {
	local block=$1 line open=0
	echo 'exec 2>&1 </dev/null'
	echo 'sudo() { "$@"; }'
	while IFS= read -r line; do
		case $open$line in
		0'$ '* | 0'# '*) line=${line#??} ;;
		1*) ;;
		*) continue ;;
		esac
		printf '%s\n' "$line"
		open=$(quotes_open "$line" "$open")
	done < <(tail -n +2 "$block")
	# What the block left running ends with it: asked first, as Ctrl-C
	# would, so that a runtime cleans up after itself.
	cat <<-'EOF'
		jobs -p >"$0.jobs"
		mapfile -t left <"$0.jobs"
		[ ${#left[@]} -eq 0 ] || kill -TERM "${left[@]}" 2>/dev/null
		alive() { local p; for p in "${left[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
		for _ in $(seq 30); do alive || break; sleep 0.1; done
		# A PID 1 without a handler ignores SIGTERM: end it from the host,
		# and its runtime cleans up as after any end.
		for p in "${left[@]}"; do pkill -KILL -P "$p" 2>/dev/null; done
		for _ in $(seq 30); do alive || break; sleep 0.1; done
		[ ${#left[@]} -eq 0 ] || kill -KILL "${left[@]}" 2>/dev/null
		wait
		true
	EOF
}

# What a run can leave on the host, as reset-host.sh knows it.
leftovers() {
	awk -v top="$PWD/" '{ split($0, half, " - "); split(half[2], fs, " ") }
		index($5, top) == 1 && (fs[1] == "proc" || fs[1] == "overlay") { print "mount:", $5 }' /proc/self/mountinfo
	ip -o link show 2>/dev/null | awk -F': ' '$2 ~ /^bx/ { sub(/@.*/, "", $2); print "link:", $2 }'
	{ find /sys/fs/cgroup/boxlab /sys/fs/cgroup/*/boxlab -mindepth 1 -maxdepth 1 -type d 2>/dev/null || true; } | sed 's/^/cgroup: /'
	{ ls -d /run/boxlab/subnets/* /run/boxlab/containers/* /var/lib/boxlab/* 2>/dev/null || true; } | sed 's/^/state: /'
	{ pgrep -af '/container run' || true; } | sed 's/^/runtime: /'
}

# What the document says the commands printed, all of it in order: the
# output of a job in the background may come while the next command runs.
expected() {
	local line open=0
	while IFS= read -r line; do
		case $open$line in
		0'$ '* | 0'# '*) open=$(quotes_open "$line" 0) ;;
		1*) open=$(quotes_open "$line" 1) ;;
		*) printf '%s\n' "$line" ;;
		esac
	done < <(tail -n +2 "$1")
}

# Does GOT show what WANT does?  A WANT line "..." stands for any lines.
# Prints the first line that differs, at the furthest point matched.
same() {
	awk '
	FNR == NR { want[++nw] = $0; next }
	{ got[++ng] = $0 }
	function fits(i, j,   k) {
		if (i > nw)
			return j > ng
		if (want[i] == "...") {
			for (k = j; k <= ng + 1; k++)
				if (fits(i + 1, k))
					return 1
			return 0
		}
		if (j > ng || want[i] != got[j]) {
			if (i > far) { far = i; at = j }
			return 0
		}
		return fits(i + 1, j + 1)
	}
	END {
		if (fits(1, 1))
			exit 0
		w = far <= nw ? want[far] : "(nothing more)"; g = at <= ng ? got[at] : "(nothing more)"
		printf "shown \"%s\", printed \"%s\"\n", w, g
		exit 1
	}' "$1" "$2"
}

checked=0 illustrative=0 v1=0 differ=0
for block in "$tmp"/block.*; do
	[ -e "$block" ] || continue
	read -r start verdict why <"$block"
	if [ "$only" != "  " ] && [[ $only != *" $start "* ]]; then
		continue
	fi
	if [ "$verdict" = v1 ]; then
		v1=$((v1 + 1))
		if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
			[ $list = 0 ] || echo "${doc##*/}:$start: for cgroup v1, not run here"
			continue
		fi
	fi
	if [ "$verdict" = illustrative ]; then
		illustrative=$((illustrative + 1))
		[ $list = 0 ] || echo "${doc##*/}:$start: illustrative: $why"
		continue
	fi
	checked=$((checked + 1))
	if [ $list = 1 ]; then
		echo "${doc##*/}:$start: checked"
		continue
	fi
	replay_script "$block" >"$tmp/run.sh"
	expected "$block" | mask >"$tmp/want"
	SECONDS=0
	leftovers | sort >"$tmp/before"
	timeout -k 5 120 bash "$tmp/run.sh" 2>&1 | mask >"$tmp/got" || true
	[ -z "${OUTPUTS_TIMES:-}" ] || echo "${doc##*/}:$start: $SECONDS s"
	if ! same "$tmp/want" "$tmp/got" >"$tmp/why"; then
		differ=$((differ + 1))
		echo "${doc##*/}:$start: the shown output differs: $(cat "$tmp/why")"
	fi
	leftovers | sort >"$tmp/after"
	if ! cmp -s "$tmp/before" "$tmp/after"; then
		differ=$((differ + 1))
		echo "${doc##*/}:$start: the block left behind: $(comm -13 "$tmp/before" "$tmp/after" | paste -sd ',')"
		scripts/reset-host.sh >/dev/null || true
	fi
done
if [ $list = 1 ]; then
	echo "outputs.sh: ${doc##*/}: $checked blocks checked on this machine, $v1 of them only where cgroups are v1; $illustrative illustrative"
	exit 0
fi
echo "outputs.sh: ${doc##*/}: $checked blocks re-run, $differ differ; $illustrative illustrative"
[ "$differ" -eq 0 ]
