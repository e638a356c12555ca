#!/usr/bin/env bash
# reset-host.sh - make reset-host: put the host back after a run that
# crashed or was killed.
#
# Usage: scripts/reset-host.sh [--dry-run] [--only PATTERN]... [ROOTFS...]
#        scripts/reset-host.sh --help
#
# A runtime killed with kill -9 cannot undo what it made.  From step 07
# on, the next run sweeps most of it (common/state.c); before that, and
# when no next run comes, this script does.  It removes, saying so in one
# line each, only what the kit's runs make:
#   - a /proc that step 02 or 03 mounted in a rootfs: a mount of type proc
#     on DIR/proc, with DIR in the kit's checkout or under a ROOTFS given;
#   - containers' cgroups: boxlab/ID on cgroup v2, CONTROLLER/boxlab/ID on
#     v1, and the boxlab/ID of a subtree delegated to a user (rootless);
#   - host ends of veth pairs, the links named bx...;
#   - /run/boxlab: the runtimes' state files (containers/ID) and their
#     claims on a /30 (subnets/N); from step 11 also the records of
#     containers that have exited, kept until rm (containers/ID), and the
#     logs of detached ones (containers/ID.log);
#   - step 08's state dirs, /var/lib/boxlab/ID (or where BOXLAB_STATE_DIR
#     put them), after unmounting whatever is mounted in them;
#   - the same of rootless runs, every user's: $XDG_RUNTIME_DIR/boxlab
#     (/run/user/UID/boxlab) and /tmp/boxlab-UID, handled as that user.
#
# What a running runtime holds is left alone, and said so.  Liveness is
# decided as the runtimes decide it: a state file is a running runtime's
# while it is locked (flock; seen in /proc/locks, never taken, so that a
# runtime's own sweep never finds it taken); a claim while the pid it
# names lives, or a locked state file names it; a cgroup, a state dir or
# a bx link while the state file of its id is locked (a link also while
# the claim on its address lives).  A cgroup with processes in it, or a
# /proc that processes still use, is reported and left, never killed.
#
# --only PATTERN limits it to what is named so: a container id, a link,
# a claim's number, a rootfs's path (the tests use it to touch only
# their own fakes).
#
# Exit status: 0 when nothing the kit left is on the host any more (it
# says "nothing to remove" when nothing was); 1 when something could not
# be removed, with a line saying what and why; 2 when called wrongly;
# 125 without root.
set -euo pipefail
umask 077

readonly me="boxlab reset-host"
top=$(cd "$(dirname "$0")/.." && pwd -P)
readonly top

usage() {
	cat <<-EOF
	usage: scripts/reset-host.sh [--dry-run] [--only PATTERN]... [ROOTFS...]
	       (as root; sudo make reset-host runs it)

	Removes what the kit's runs left on the host after a crash or a kill -9,
	one line each, and nothing else:
	  - a /proc mounted by step 02 or 03 in a rootfs of the kit's checkout,
	    or under a ROOTFS given
	  - containers' cgroups (boxlab/ID), host ends of veths (bx...)
	  - /run/boxlab: state files and /30 claims of runtimes that are gone
	  - step 08's state dirs, /var/lib/boxlab/ID (--keep's too)
	  - the same of rootless runs: /tmp/boxlab-UID, /run/user/UID/boxlab
	What a running container holds is left alone.

	  --dry-run         list what would be removed; remove nothing
	  --only PATTERN    only what is named so (a shell pattern): a container
	                    id, a link, a claim's number, a rootfs's path
	  -h, --help        this text
	EOF
}

dry_run=0
only=()
roots=()
while (($# > 0)); do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--dry-run) dry_run=1 ;;
	--only)
		(($# > 1)) || { echo "$me: --only needs a PATTERN (--only 1a2b3c4d)" >&2; exit 2; }
		only+=("$2")
		shift
		;;
	--only=*) only+=("${1#--only=}") ;;
	--) shift; break ;;
	-*)
		echo "$me: \"$1\" is not an option" >&2
		usage >&2
		exit 2
		;;
	*) roots+=("$1") ;;
	esac
	shift
done
roots+=("$@")

if ((EUID != 0)); then
	echo "$me: needs root (cgroups, mounts and links are the host's): run 'sudo make reset-host'" >&2
	exit 125
fi

# Every ROOTFS given, as mountinfo names it: from /, without symlinks.
scopes=("$top")
for root in ${roots[@]+"${roots[@]}"}; do
	if [[ ! -d $root ]]; then
		echo "$me: ROOTFS \"$root\" is not a directory" >&2
		exit 2
	fi
	scopes+=("$(cd "$root" && pwd -P)")
done

removed=0
failed=0
failed_ids=" "

# ---- what it says ---------------------------------------------------------

# act WHAT ID CMD...: remove WHAT with CMD and say so (with --dry-run,
# only say so); ID is the container it belongs to, if known.
act() {
	local what=$1 id=$2
	shift 2
	removed=$((removed + 1))
	fail_why=""
	if ((dry_run)); then
		echo "would remove $what"
	elif "$@"; then
		echo "removed $what"
	else
		removed=$((removed - 1))
		stuck "$what" "${fail_why:-it failed}" "$id"
	fi
}
fail_why=""

# left WHAT WHY: a running container's, left alone.
left() {
	echo "left $1: $2"
}

# stuck WHAT WHY [ID]: could not be removed; ID's state file stays too, so
# that the runtime's own sweep can try again.
stuck() {
	echo "$me: cannot remove $1: $2" >&2
	failed=$((failed + 1))
	if [[ -n ${3:-} ]]; then failed_ids+="$3 "; fi
}

# wanted NAME...: is any of the names one --only asks for (all are, without it)?
wanted() {
	local name pattern
	((${#only[@]} > 0)) || return 0
	for name in "$@"; do
		for pattern in "${only[@]}"; do
			# shellcheck disable=SC2053 # a pattern, on purpose
			[[ $name == $pattern ]] && return 0
		done
	done
	return 1
}

# ---- whose files: root's, or a rootless user's ------------------------------

# The places rootless runtimes keep their state files and state dirs
# (common/state.c: $XDG_RUNTIME_DIR/boxlab or /tmp/boxlab-UID), each with
# its owner.  Only a real directory (no symlink) owned by the uid its
# name gives counts.
rootless_bases=()
rootless_uids=()
add_base() {
	local base=$1 uid=$2 b
	[[ -d $base && ! -L $base && $uid =~ ^[0-9]+$ && $uid != 0 ]] || return 0
	[[ $(stat -c %u "$base") == "$uid" ]] || return 0
	for b in ${rootless_bases[@]+"${rootless_bases[@]}"}; do
		[[ $b != "$base" ]] || return 0
	done
	rootless_bases+=("$base")
	rootless_uids+=("$uid")
}
for base in /tmp/boxlab-[0-9]*; do
	add_base "$base" "${base#/tmp/boxlab-}"
done
for base in /run/user/[0-9]*/boxlab; do
	uid=${base#/run/user/}
	add_base "$base" "${uid%/boxlab}"
done
if [[ -n ${XDG_RUNTIME_DIR:-} && -d ${XDG_RUNTIME_DIR:-}/boxlab ]]; then
	add_base "$XDG_RUNTIME_DIR/boxlab" "$(stat -c %u "$XDG_RUNTIME_DIR/boxlab")"
fi

# as UID CMD...: run CMD as UID (0: as ourselves).  A user's files are
# removed as that user: root following a path the user can change
# (a symlink put in place meanwhile) could remove anything.
as() {
	local uid=$1 gid
	shift
	if [[ $uid == 0 ]]; then
		"$@"
		return
	fi
	gid=$(id -g "$uid" 2>/dev/null) || gid=$uid
	setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"
}

# The runtimes' state files, as "UID DIR" (DIR holds ID files).
note_dirs=("0 /run/boxlab/containers")
for i in "${!rootless_bases[@]}"; do
	note_dirs+=("${rootless_uids[$i]} ${rootless_bases[$i]}/containers")
done

# lock_state FILE: 0 when the state file is locked (its runtime
# runs; lock_pid is the locker's pid as /proc/locks gives it), 1 when it
# is not (its runtime is gone), 2 when there is no such file.  Read from
# /proc/locks, without taking the lock: a runtime sweeping that file at
# the same moment must not find it taken.
lock_pid=""
lock_state() {
	local dev ino major minor
	[[ -f $1 && ! -L $1 ]] || return 2
	read -r dev ino < <(stat -c '%d %i' -- "$1" 2>/dev/null) || return 2
	# The kernel's device number, as /proc/locks writes it: MAJOR:MINOR in hex.
	major=$(((dev >> 8) & 0xfff | ((dev >> 32) & ~0xfff)))
	minor=$(((dev & 0xff) | ((dev >> 12) & ~0xff)))
	lock_pid=$(awk -v id="$(printf '%02x:%02x:%s' "$major" "$minor" "$ino")" \
		'$2 == "FLOCK" && $6 == id { print $5; found = 1; exit } END { exit !found }' /proc/locks) &&
		return 0
	return 1
}

# The pid a state file names ("runtime PID"), for messages.
note_runtime() {
	as "$1" cat -- "$2" 2>/dev/null | awk '$1 == "runtime" && !n++ { print $2 }'
}

# is_live ID: a running runtime holds the state file of container ID (in
# any place); sets live_pid to its pid.
live_pid=""
is_live() {
	local entry uid dir
	for entry in "${note_dirs[@]}"; do
		uid=${entry%% *}
		dir=${entry#* }
		if lock_state "$dir/$1"; then
			live_pid=$(note_runtime "$uid" "$dir/$1")
			live_pid=${live_pid:-${lock_pid:-unknown}}
			return 0
		fi
	done
	return 1
}

# ---- mounts -----------------------------------------------------------------

# The mount points of this mount namespace, one a line, with the file
# system type before each: "proc /work/main/rootfs/proc".  mountinfo
# writes a space, tab, newline and backslash in a path as \040, \011,
# \012 and \134.
mounts() {
	local type point
	while read -r type point; do
		point=${point//\\040/ }
		point=${point//\\011/$'\t'}
		point=${point//\\012/$'\n'}
		point=${point//\\134/\\}
		printf '%s %s\n' "$type" "$point"
	done < <(awk '{ for (i = 7; i < NF && $i != "-"; i++) ; print $(i + 1), $5 }' /proc/self/mountinfo)
}

# in_scope PATH: under the kit's checkout or a ROOTFS given?
in_scope() {
	local scope
	for scope in "${scopes[@]}"; do
		[[ $1 == "$scope"/* ]] && return 0
	done
	return 1
}

# The processes whose root directory is DIR: the ones in that container.
processes_in() {
	local pid
	for pid in /proc/[0-9]*; do
		[[ $pid/root -ef $1 ]] 2>/dev/null && echo "${pid#/proc/}"
	done
	return 0
}

# runtime_above PID: the runtime (a step's container binary) PID was
# started by, if it still runs; its pid on stdout.
runtime_above() {
	local pid=$1 comm ppid
	while [[ $pid =~ ^[0-9]+$ ]] && ((pid > 1)); do
		read -r comm 2>/dev/null <"/proc/$pid/comm" || return 1
		if [[ $comm == container || $comm == container.bin ]]; then
			echo "$pid"
			return 0
		fi
		ppid=$(awk '$1 == "PPid:" { print $2 }' "/proc/$pid/status" 2>/dev/null) || return 1
		pid=$ppid
	done
	return 1
}

# Step 02 and 03 have no mount namespace: their /proc is mounted in the
# rootfs on the host, and stays there if the runtime dies.
reset_proc_mounts() {
	local type point rootfs pids pid runtime seen=" "
	while read -r type point; do
		[[ $type == proc && $point == */proc && $point != /proc ]] || continue
		rootfs=${point%/proc}
		in_scope "$point" && wanted "$rootfs" || continue
		# Mounted twice (two runs killed) shows twice: once is enough.
		[[ $seen != *" $point "* ]] || continue
		seen+="$point "
		pids=$(processes_in "$rootfs" | paste -sd' ')
		if [[ -n $pids ]]; then
			for pid in $pids; do
				if runtime=$(runtime_above "$pid"); then
					left "the /proc mount on $point" "its container is running (runtime pid $runtime)"
					continue 2
				fi
			done
			stuck "the /proc mount on $point" "processes $pids still run in $rootfs, with no runtime above them; end them (sudo kill $pids) and run this again"
			continue
		fi
		act "the /proc mount on $point" "" unmount_proc "$point"
	done < <(mounts)
}

# Every proc stacked on POINT, as the runtime unmounts it (MNT_DETACH).
unmount_proc() {
	# (grep -q would stop reading early: pipefail would see SIGPIPE.)
	while mounts | grep -xF "proc $1" >/dev/null; do
		fail_why=$(umount -l -- "$1" 2>&1) || return 1
	done
}

# unmount_under DIR: unmount everything mounted in DIR, deepest first.
unmount_under() {
	local point
	while read -r point; do
		fail_why=$(umount -l -- "$point" 2>&1) || return 1
	done < <(mounts | cut -d' ' -f2- |
		awk -v d="$1" 'index($0, d "/") == 1 || $0 == d { print length($0), $0 }' |
		sort -rn | cut -d' ' -f2-)
}

# ---- step 08's state dirs ------------------------------------------------

# remove_dir UID DIR ID: a state dir, as its owner.
remove_dir() {
	local uid=$1 dir=$2 id=$3
	if is_live "$id"; then
		left "the state dir $dir" "its container is running (runtime pid $live_pid)"
		return
	fi
	act "the state dir $dir" "$id" remove_state_dir "$uid" "$dir"
}

# remove_state_dir UID DIR: unmount what is in it (an overlay), then rm -rf.
remove_state_dir() {
	unmount_under "$2" || return 1
	# The overlay's work/work is mode 0000: open the way first.
	as "$1" chmod -R u+rwx -- "$2" 2>/dev/null || true
	fail_why=$(as "$1" rm -rf --one-file-system -- "$2" 2>&1) || return 1
}

# The dirs a dead runtime noted elsewhere (BOXLAB_STATE_DIR), from root's
# own state files, which only root can write.
noted_dirs() {
	local note id what path
	for note in /run/boxlab/containers/*; do
		id=${note##*/}
		[[ $id != .* ]] && wanted "$id" || continue
		lock_state "$note" && continue
		[[ -f $note ]] || continue
		while read -r what path; do
			[[ $what == dir && $path == /* && ${path##*/} == "$id" &&
				${path%/*} != /var/lib/boxlab ]] || continue
			[[ -d $path && ! -L $path ]] && echo "$path"
		done <"$note"
	done
	return 0
}

reset_state_dirs() {
	local dir id i base
	for dir in /var/lib/boxlab/*; do
		id=${dir##*/}
		[[ -d $dir && ! -L $dir ]] && wanted "$id" || continue
		remove_dir 0 "$dir" "$id"
	done
	while read -r dir; do
		[[ -n $dir ]] && wanted "${dir##*/}" || continue
		remove_dir 0 "$dir" "${dir##*/}"
	done < <(noted_dirs)
	# Rootless, the state dirs sit beside containers/.
	for i in "${!rootless_bases[@]}"; do
		base=${rootless_bases[$i]}
		for dir in "$base"/*; do
			id=${dir##*/}
			[[ $id != containers && -d $dir && ! -L $dir ]] && wanted "$id" || continue
			remove_dir "${rootless_uids[$i]}" "$dir" "$id"
		done
	done
}

# ---- cgroups -------------------------------------------------------------

# Every container's cgroup directory: boxlab/ID on v2, at the root or in a
# subtree delegated to a user; CONTROLLER/boxlab/ID on v1 (a hierarchy
# once: cpu may be a link to cpu,cpuacct).  The layout as common/cgroup.c
# tells it: by the file system type.
container_cgroups() {
	local dir
	if [[ $(stat -f -c %T /sys/fs/cgroup 2>/dev/null) == cgroup2fs ]]; then
		find /sys/fs/cgroup -type d -name boxlab -prune 2>/dev/null |
			while read -r dir; do
				find "$dir" -mindepth 1 -maxdepth 1 -type d
			done
	else
		for dir in /sys/fs/cgroup/*/boxlab; do
			[[ ! -L ${dir%/boxlab} && -d $dir ]] || continue
			[[ $(stat -f -c %T "$dir") == cgroupfs ]] || continue
			find "$dir" -mindepth 1 -maxdepth 1 -type d
		done
	fi | sort
}

reset_cgroups() {
	local dir id pids
	while read -r dir; do
		id=${dir##*/}
		wanted "$id" || continue
		if is_live "$id"; then
			left "the cgroup $dir" "its container is running (runtime pid $live_pid)"
			continue
		fi
		pids=$(paste -sd' ' "$dir/cgroup.procs" 2>/dev/null) || true
		if [[ -n $pids ]]; then
			stuck "the cgroup $dir" "processes $pids still run in it, with no runtime; end them (sudo kill $pids) and run this again" "$id"
			continue
		fi
		act "the cgroup $dir" "$id" remove_cgroup "$dir"
	done < <(container_cgroups)
}

remove_cgroup() {
	fail_why=$(rmdir -- "$1" 2>&1) || [[ ! -d $1 ]]
}

# ---- links and claims ----------------------------------------------------

readonly subnet_dir=/run/boxlab/subnets

# subnet_of INDEX: the /30 of claim k (common/subnet.c: 10.200.0.0 + 4k).
subnet_of() {
	local net=$((4 * $1))
	echo "10.200.$((net / 256)).$((net % 256))/30"
}

# claim_owner INDEX: the pid in claim file k (empty if none).
claim_owner() {
	local pid=""
	read -r pid 2>/dev/null <"$subnet_dir/$1" || true
	[[ $pid =~ ^[0-9]+$ ]] && echo "$pid"
	return 0
}

# The claims the state files of running runtimes name ("subnet DIR K").
claims_of_live_runtimes() {
	local note
	for note in /run/boxlab/containers/*; do
		lock_state "$note" || continue
		awk -v d="$subnet_dir" '$1 == "subnet" && $2 == d { print $3 }' "$note" 2>/dev/null
	done
	return 0
}

# The container ids whose dead state files name claim K.
claim_ids() {
	grep -lsxF "subnet $subnet_dir $1" /run/boxlab/containers/* 2>/dev/null | sed 's|.*/||'
	return 0
}

# claim_is_live K: its owner lives, or a running runtime noted it.
claim_is_live() {
	local pid
	pid=$(claim_owner "$1")
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		live_pid=$pid
		return 0
	fi
	if grep -qxF "$1" <<<"$(claims_of_live_runtimes)"; then
		live_pid=${pid:-unknown}
		return 0
	fi
	return 1
}

# A bx link lives while its runtime does: the one whose state file is
# named after it (bxID), or the one that claimed the /30 of its address.
# A runtime gives its link the address right after making it, so a link
# without one is looked at again a moment later.
link_is_live() {
	local link=$1 addr try a k
	for try in 1 2; do
		is_live "${link#bx}" && return 0
		addr=$(ip -o -4 addr show dev "$link" 2>/dev/null | awk '!n++ { print $4 }')
		if [[ $addr =~ ^10\.200\.([0-9]+)\.([0-9]+)/ ]]; then
			a=$((BASH_REMATCH[1] * 256 + BASH_REMATCH[2]))
			k=$((a / 4))
			claim_is_live "$k" && return 0
			return 1
		fi
		((try == 2)) || sleep 0.5
	done
	return 1
}

# The host ends of veths: bx..., as "NAME PEER" (PEER empty when the other
# end is in another network namespace; ip names it ifN then).
bx_links() {
	ip -o link show type veth 2>/dev/null |
		awk -F': ' '$2 ~ /^bx/ { n = $2; p = ""; if (split(n, a, "@") == 2) { n = a[1]; p = a[2] }
			if (p ~ /^if[0-9]+$/) p = ""; print n, p }' | sort
	return 0
}

reset_links() {
	local link peer done_links=" "
	while read -r link peer; do
		[[ -n $link ]] && wanted "$link" || continue
		[[ $done_links != *" $link "* ]] || continue
		if link_is_live "$link"; then
			left "the link $link" "its container is running (runtime pid $live_pid)"
			continue
		fi
		if [[ -n $peer ]]; then
			act "the link $link (and $peer, the other end of its veth pair)" "" delete_link "$link"
			done_links+="$peer "
		else
			act "the link $link" "" delete_link "$link"
		fi
	done < <(bx_links)
}

# A link gone meanwhile (with its container's namespace) is gone all the same.
delete_link() {
	fail_why=$(ip link delete dev "$1" 2>&1) || ! ip link show dev "$1" >/dev/null 2>&1
}

# The claims on a /30, under the lock every claimer takes (subnet.c), so
# that none is made or taken back while we look.
reset_claims() {
	local claim k pid ids lock
	[[ -d $subnet_dir ]] || return 0
	exec {lock}>>"$subnet_dir/.lock"
	if ((!dry_run)) && ! flock -w 10 "$lock"; then
		exec {lock}>&-
		stuck "the claims in $subnet_dir" "its lock ($subnet_dir/.lock) is still held after 10 s"
		return
	fi
	for claim in "$subnet_dir"/*; do
		k=${claim##*/}
		[[ $k =~ ^[0-9]+$ && -f $claim ]] || continue
		ids=$(claim_ids "$k")
		# shellcheck disable=SC2086 # one id a word
		wanted "$k" $ids || continue
		if claim_is_live "$k"; then
			left "the claim on $(subnet_of "$k") ($claim)" "its container is running (runtime pid $live_pid)"
			continue
		fi
		pid=$(claim_owner "$k")
		act "the claim on $(subnet_of "$k") ($claim; its runtime, pid ${pid:-none}, is gone)" \
			"" remove_file 0 "$claim"
	done
	exec {lock}>&-
}

# ---- the runtimes' state files -------------------------------------------

remove_file() {
	fail_why=$(as "$1" rm -f -- "$2" 2>&1)
}

# remove_note UID FILE: under its lock, as a runtime's sweep does.
remove_note() {
	# shellcheck disable=SC2016 # for the inner shell
	fail_why=$(as "$1" bash -c 'exec 9<"$1" || exit
		flock -n 9 || { echo "its runtime has locked it again"; exit 1; }
		rm -f -- "$1"' _ "$2" 2>&1)
}

# Last: a state file whose things could not all be removed stays, so that
# a runtime's own sweep, or this script run again, finds them.
reset_notes() {
	local entry uid dir note id status
	for entry in "${note_dirs[@]}"; do
		uid=${entry%% *}
		dir=${entry#* }
		as "$uid" test -d "$dir" -a ! -L "$dir" || continue
		while read -r id; do
			# Dot names are state files still being made (state.c).
			[[ -n $id && $id != .* ]] && wanted "${id%.log}" || continue
			note=$dir/$id
			# A log goes unless its container's runtime still runs.
			if [[ $id == *.log ]]; then
				lock_state "$dir/${id%.log}" ||
					act "the log $note" "" remove_file "$uid" "$note"
				continue
			fi
			status=0
			lock_state "$note" || status=$?
			case $status in
			0)
				left "the state file $note" "its runtime is running (pid $(note_runtime "$uid" "$note"))"
				continue
				;;
			2) continue ;;
			esac
			if [[ $failed_ids == *" $id "* ]]; then
				echo "$me: kept the state file $note: what it lists could not all be removed" >&2
				continue
			fi
			act "the state file $note" "" remove_note "$uid" "$note"
		done < <(as "$uid" ls -A -- "$dir" 2>/dev/null)
	done
}

reset_proc_mounts
reset_state_dirs
reset_cgroups
reset_links
reset_claims
reset_notes

if ((failed > 0)); then
	echo "$me: $failed thing(s) could not be removed (see above)" >&2
	exit 1
fi
if ((removed == 0)); then
	echo "nothing to remove"
elif ((dry_run)); then
	echo "(--dry-run: nothing was removed)"
fi
