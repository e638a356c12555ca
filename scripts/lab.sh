#!/usr/bin/env bash
# make lab STEP=N DEST=DIR: a student's handout of step N, written to DIR.
#
#   scripts/lab.sh N DIR                  write the handout
#   scripts/lab.sh restore N FILE ORIG    print FILE (a handout's step N
#                                         container.c) with the lesson put
#                                         back from ORIG, the kit's own
#
# The handout is the kit (its tracked files, as they are in the working
# tree) without the steps after N, which hold the answer.  In step N's
# container.c every lesson region -- the lines between "/* lesson NN: ... */"
# and "/* end of lesson NN */" -- becomes a TODO comment that says what to
# write, why, and which man page to read.  Where taking the lines out would
# not build, or would leave the runtime broken in a way the checks cannot
# tell apart, a stand-in follows the TODO: the behaviour of the step before,
# kept until the student replaces it, up to "/* end of TODO part K */".
# WORKSHOP.md keeps its chapters before N; the instructors' files (docs/,
# this script, tests/lab*) stay out; README.md is the student's own.
#
# The TODO texts are below, one per region, in the order of the file.  If
# a step's regions change, its texts must change with them: the handout
# refuses to build from a file whose regions do not match.
set -euo pipefail

me=lab.sh
top=$(cd "$(dirname "$0")/.." && pwd)

usage() {
	cat >&2 <<EOF
usage: make lab STEP=N DEST=DIR    (scripts/lab.sh N DIR)
  writes a student's handout of step N (1-8) to DIR, a new or empty directory.
  scripts/lab.sh restore N FILE ORIGINAL  prints FILE with step N's lesson put back.
EOF
	exit 2
}

fail() {
	echo "$me: $*" >&2
	exit 2
}

# --- the TODO of each region: part K of step N ------------------------------

# todo N K: set TEXT (a paragraph or more, wrapped here) and STANDIN (code,
# as it goes in the file; empty when the TODO stands alone).
todo() {
	TEXT="" STANDIN=""
	case "$1.$2" in
	1.1)
		TEXT="Make ROOTFS (c->rootfs) this process's root directory, then move into it.  Why: from then on every path the command opens starts at ROOTFS, so it finds the rootfs's programs and files, not the host's.  Changing the root does not move the working directory: without the second call the process still stands in a directory of the host.  Make each kernel call through KCALL() (common/kcall.h): it narrates under -v and explains a failure.
Read: chroot(2), chdir(2)."
		STANDIN=$'\t(void)c;\t/* delete this line once you use c */'
		;;
	2.1)
		TEXT="Write mount_proc(c): mount a proc filesystem on ROOTFS/proc (in_rootfs() builds the path), with the flags that keep set-user-id programs, device files and executables on it from doing harm.  Why: ps and friends read /proc, and a proc mounted from inside a PID namespace lists that namespace's processes only.
Read: mount(2), proc(5), pid_namespaces(7) (the part on /proc)."
		;;
	2.2)
		TEXT="Call mount_proc() here, in the child: it must run inside the new PID namespace, and before the root changes, while the path is still the host's.
Read: pid_namespaces(7)."
		;;
	2.3)
		TEXT="Add the clone flag that gives the child a new PID namespace: it becomes PID 1 of a tree of its own, and the host's processes have no number it could name, so it cannot signal them.
Read: clone(2), pid_namespaces(7)."
		;;
	2.4)
		TEXT="Write clean_up(void *arg), an undo for on_die() (common/kcall.h): unmount the container's /proc from the host, and do not fail when it was never mounted.  Why: there is no mount namespace yet, so the child's /proc is mounted on the host, in ROOTFS/proc, and outlives the container.  KCALL_TOLERATED() reports a failure and goes on.
Read: umount2(2) (MNT_DETACH)."
		;;
	2.5)
		TEXT="Unmount /proc on every path out: once the child exists, register clean_up() with on_die(), so that a failure cleans up too; after wait_for_container(), call it yourself, then return the container's status.  The code below is step 01's, which cleans nothing.
Read: common/kcall.h (on_die)."
		STANDIN=$'\tparse_command_line(&c, STEP, STEP_NAME, argc, argv);\n\trequire_root(&c, "new namespaces need CAP_SYS_ADMIN");\n\tpid = start_container(&c);\n\treturn wait_for_container(&c, pid);'
		;;
	3.1)
		TEXT="Write set_hostname(c): give the container its host name, the one --hostname asked for (c->hostname) or else its id (c->id).  Why: in a UTS namespace of its own the name is the container's alone, and renaming it no longer renames the host.
Read: sethostname(2), uts_namespaces(7)."
		;;
	3.2)
		TEXT="Write enter_new_time_namespace(): make a time namespace whose CLOCK_MONOTONIC and CLOCK_BOOTTIME start near zero, and step into it.  Why: the container's uptime becomes its own.  clone() cannot make this one: unshare() makes it for our future children only, its clock offsets can be written only while no process is inside, and setns() on /proc/self/ns/time_for_children then moves us in.
Read: time_namespaces(7) (and its example), unshare(2), setns(2), clock_gettime(2)."
		;;
	3.3)
		TEXT="Call them here, in the child, before anything else is set up inside: name the container, then enter its time namespace.
Read: uts_namespaces(7), time_namespaces(7)."
		;;
	3.4)
		TEXT="Add the clone flags for a new UTS namespace (a host name of its own) and a new IPC namespace (System V IPC objects and POSIX message queues of its own: the host's become invisible).
Read: clone(2), uts_namespaces(7), ipc_namespaces(7)."
		;;
	4.1)
		TEXT="Write make_mounts_private() and bind_rootfs(c).  The first stops mounts propagating between the container and the host: systemd makes / shared, and a copy of a shared mount table still sends every mount back to the host (and pivot_root() refuses a shared root).  The second bind-mounts ROOTFS on itself: pivot_root() needs the new root to be a mount point.
Read: mount_namespaces(7) (shared subtrees), mount(2) (MS_PRIVATE, MS_REC, MS_BIND)."
		;;
	4.2)
		TEXT="Write mount_sys(c), mount_dev(c) and mount_tmp(c): a read-only sysfs on ROOTFS/sys; a fresh /dev on a small tmpfs that holds only harmless character devices (null, zero, full, random, urandom, tty), the usual links (ptmx, fd, stdin, stdout, stderr), a devpts of its own (newinstance) and a /dev/shm; and a tmpfs on /tmp.  Why: the container must not reach the host's hardware, and its temporary files must vanish with it.  A table of devices and a loop keep mount_dev() short.
Read: mount(2), sysfs(5), tmpfs(5), mknod(2), makedev(3), pts(4)."
		;;
	4.3)
		TEXT="Write protect_proc(c): make /proc/sys, /proc/sysrq-trigger, /proc/irq, /proc/bus and /proc/fs read-only, and hide /proc/kcore, /proc/keys, /proc/timer_list and /proc/sched_debug behind /dev/null.  Why: they are doors into the running kernel and its secrets, and root inside must not write them.  A bind mount ignores MS_RDONLY: it takes a second call, a remount of the bind.  Skip an entry this kernel does not have.
Read: mount(2) (MS_REMOUNT, MS_BIND), proc(5)."
		;;
	4.4)
		TEXT="Write pivot_to_rootfs(c): make ROOTFS the root mount with pivot_root(2) instead of chroot, then detach the old root, so that no path leads back to the host.  The NOTES of pivot_root(2) show how to do it without a directory to put the old root in.  The syscall has no libc wrapper: common/syscalls.h has one.  Until then, the code below does as step 03 did (chroot, and unmount /proc on the host after the run): delete it when yours works.
Read: pivot_root(2), umount2(2)."
		STANDIN='/* Step 03'"'"'s way, until pivot_to_rootfs() and the mount namespace work. */
static void enter_rootfs(const struct config *c)
{
	KCALL(chroot(c->rootfs), "make \"%s\" the root directory", c->rootfs);
	KCALL(chdir("/"), "stand at the new root");
}

static void clean_up(void *arg)
{
	const struct config *c = arg;

	KCALL_TOLERATED(umount2(in_rootfs(c, "/proc"), MNT_DETACH),
			"unmount the container'"'"'s /proc from the host");
}

static int wait_and_clean_up(struct config *c, pid_t pid)
{
	int status;

	on_die(clean_up, c);
	status = wait_for_container(c, pid);
	clean_up(c);
	return status;
}'
		;;
	4.5)
		TEXT="Build the container's world here, in this order: make the mounts private, make ROOTFS a mount point, mount /proc, /sys, /dev and /tmp, protect /proc, and pivot into ROOTFS last.  The two calls below are step 03's.
Read: mount_namespaces(7)."
		STANDIN=$'\tmount_proc(c);\n\tenter_rootfs(c);'
		;;
	4.6)
		TEXT="Add the clone flag for a new mount namespace: the child gets a copy of the host's mount table, and once that copy is private its mounts and unmounts stay its own.
Read: clone(2), mount_namespaces(7)."
		;;
	4.7)
		TEXT="With a mount namespace, whatever the container mounted goes away with it: nothing is left to unmount on the host.  Return the status of wait_for_container() as it is, and delete the stand-in code of part 4.
Read: mount_namespaces(7)."
		STANDIN=$'\treturn wait_and_clean_up(&c, pid);'
		;;
	5.1)
		TEXT="When the parent sent an id-mapped copy of ROOTFS (idmapped >= 0: a file descriptor for a detached mount), attach it on ROOTFS with move_mount(); otherwise (rootless) bind ROOTFS on itself as before.  Why: the id-mapped mount shows host root's files as the container root's.  The wrapper is in common/syscalls.h.
Read: move_mount(2), mount_setattr(2) (ID-mapped mounts)."
		STANDIN=$'\t(void)idmapped;\t/* no id-mapped rootfs yet */\n\tKCALL(mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL),\n\t      "make \\"%s\\" a mount point of its own", c->rootfs);'
		;;
	5.2)
		TEXT="Now that the parent has written our id maps, take the container's root ids (the group first, then the user), drop the host's supplementary groups (not when rootless: setgroups() is denied there), and make the process dumpable again.  Why: writing a map does not change our ids; and changing ids makes a process not dumpable, which hands its /proc/self files to host root, while enter_new_time_namespace() still needs them.
Read: user_namespaces(7), setresuid(2), setgroups(2), prctl(2) (PR_SET_DUMPABLE)."
		;;
	5.3)
		TEXT="Add the clone flag for a new user namespace: root inside, an unprivileged id outside.
Read: clone(2), user_namespaces(7)."
		;;
	5.4)
		TEXT="Write write_id_maps(c, pid): from the parent, write the child's uid_map and gid_map (in_proc() builds their paths).  As root, map container ids 0 to USERNS_SIZE - 1 onto the host ids that start at c->userns_base; rootless, map 0 to your own uid and gid, and deny setgroups first.  Why: a map is written once, from outside, by a process that holds the ids it maps.
Read: user_namespaces(7), the sections on uid_map and on setgroups."
		;;
	5.5)
		TEXT="Write idmap_rootfs(c, pid): as root, return a detached copy of ROOTFS's mount (recursive), made private and id-mapped through the child's user namespace; return -1 when rootless, and when the filesystem cannot be id-mapped (tolerate that failure).  Why: ROOTFS belongs to host root, who is nobody inside; an id-mapped mount shows it as the container root's, with no copy of a file.
Read: open_tree(2), mount_setattr(2) (MOUNT_ATTR_IDMAP), user_namespaces(7)."
		;;
	5.6)
		TEXT="Here, after the child exists and before sync 1 lets it go on: write its id maps, then make the id-mapped rootfs to send it.  The stand-in sends none.
Read: user_namespaces(7)."
		STANDIN=$'\tidmapped = -1;'
		;;
	6.1)
		TEXT="Mount a sysfs of the container's own, read-only, instead of binding the host's /sys as the code below does.  Why: only the owner of a network namespace may mount sysfs, and now the container owns one; its /sys/class/net then lists its own interfaces.
Read: sysfs(5), mount(2), network_namespaces(7)."
		STANDIN=$'\tKCALL(mount("/sys", in_rootfs(c, "/sys"), NULL, MS_BIND | MS_REC, NULL), "bind the host\'s /sys");\n\tKCALL(mount(NULL, in_rootfs(c, "/sys"), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),\n\t      "make /sys read-only");'
		;;
	6.2)
		TEXT="Ask the kernel to kill the child when the runtime dies, then make sure the runtime is still there (sync_check_peer()): it may have died before we asked.  Why: the runtime holds the container's /30 and veth; a container that outlived it would hold addresses nobody remembers.  Changing ids clears this request, so ask after setresuid().
Read: prctl(2) (PR_SET_PDEATHSIG)."
		;;
	6.3)
		TEXT="Write set_up_network(c): in the new network namespace, bring lo up; with --net veth, also give eth0 its address (c->subnet.container, c->subnet.prefixlen), bring it up, and route everything else through the host's end (c->subnet.host), in that order.  Why: a new network namespace has only lo, and lo starts down.  The rtnetlink helpers are in common/netlink.h.
Read: network_namespaces(7), rtnetlink(7)."
		;;
	6.4)
		TEXT="Set up the network here, in the child.
Read: network_namespaces(7)."
		;;
	6.5)
		TEXT="Add the clone flag for a new network namespace: interfaces, addresses, routes and ports of its own.
Read: clone(2), network_namespaces(7)."
		;;
	6.6)
		TEXT="Write the parent's part of --net veth: SUBNET_DIR, where the runtime notes which /30 each container holds (/run/boxlab/subnets); claim_subnet(c), which claims a /30 with subnet_claim() (common/subnet.h) and narrates the two addresses; and connect_veth(c, pid), which makes a veth pair with one end, c->host_link, on the host and the other born in the child's namespace as eth0, then gives the host's end its address and brings it up.  Both do nothing without --net veth.
Read: veth(4), rtnetlink(7), common/netlink.h."
		;;
	6.7)
		TEXT="In clean_up(): with --net veth, once a /30 was claimed (c->subnet.owner), give the /30 back with subnet_release(), and leave the veth alone.  Why: the pair dies with the container's namespace, which the kernel takes down in the background once nothing holds it; a connection the container has just closed may still wait there for the host's ACK, which needs the host end's address and route.  (subnet_claim() skips a /30 whose address is still on a link.)
Read: veth(4), common/subnet.h."
		;;
	6.8)
		TEXT="Claim the container's /30 here, before clone: the child needs its address.  Until you do, the stand-in refuses --net veth.
Read: common/subnet.h."
		STANDIN=$'\tif (c.net_veth)\n\t\tdie("--net veth is not written yet: see lesson 06, part 6");'
		;;
	6.9)
		TEXT="Connect the cable here: after the child exists (its network namespace is where eth0 is born) and before sync 1 lets it go on.
Read: veth(4)."
		;;
	7.1)
		TEXT="Write mount_cgroup(c): when the container has a cgroup, mount a cgroup filesystem read-only at ROOTFS/sys/fs/cgroup (CGROUP_ROOT; in_rootfs() builds the path): on cgroup v2 a cgroup2, on v1 each hierarchy, which cgroup_mount_v1() mounts for you.  Why: programs read their limits there (the JVM, Go's runtime, nproc), and mounted from inside the new cgroup namespace, the filesystem's root is the container's own group: it reads its --memory in memory.max and sees none of the host's groups.  Read-only, because the limits are the runtime's to set.
Read: cgroup_namespaces(7), mount(2), the kernel's cgroup-v2.rst, common/cgroup.h."
		;;
	7.2)
		TEXT="Write enter_new_cgroup_namespace(): unshare a new cgroup namespace, so that the cgroup the parent put us in becomes our root, and /proc/self/cgroup reads \"/\" instead of the host's path.
Read: cgroup_namespaces(7), unshare(2)."
		;;
	7.3)
		TEXT="On cgroup v1, when the parent made a cgroup, move into it yourself, first thing in the child (cgroup_enter()).  Why: a process that moves itself takes no global lock, while moving another process takes one whose first writer waits out an RCU grace period.  (On v2 the child is born in its cgroup: see part 7.)
Read: cgroups(7) (the tasks file of v1), common/cgroup.h."
		;;
	7.4)
		TEXT="Enter the new cgroup namespace here, first thing in the child: by now the parent has put us in our cgroup.
Read: cgroup_namespaces(7)."
		;;
	7.5)
		TEXT="Mount the container's own /sys/fs/cgroup here: after /sys, which it sits in, and inside the new cgroup namespace, so that the cgroup filesystem's root is our group.
Read: cgroup_namespaces(7)."
		;;
	7.6)
		TEXT="Write make_cgroup(c): make the container's cgroup, CGROUP_PARENT/ID under CGROUP_ROOT, in the layout cgroup_layout() detects (v1 or v2), noting it in the runtime's state file first (state_note()); then write the limits asked for: memory.max (and no swap), cpu.max (c->cpu_quota of every CPU_PERIOD) and pids.max.  Rootless, only a subtree delegated to you (cgroup_delegated()) is yours to write: without one, warn that there are no limits, and go on.
Read: cgroups(7), the kernel's Documentation/admin-guide/cgroup-v2.rst, common/cgroup.h."
		;;
	7.7)
		TEXT="Start the child inside its cgroup: on cgroup v2, clone it straight into the group (clone_into_cgroup(), tolerating a failure); when that failed, clone as before and move the child in with cgroup_add() (on v1 the child moves itself in: part 3).  Why: every process the command forks is then born in the group.  The stand-in clones as step 06 did.
Read: clone(2) (CLONE_INTO_CGROUP), cgroups(7)."
		STANDIN=$'\tpid = KCALL(clone(container_main, child_stack_top(), flags, c), "start the container\'s first process");\n\treturn pid;'
		;;
	7.8)
		TEXT="Note the claimed /30 in the runtime's state file, so that the next run can give it back if this runtime is killed.
Read: common/state.h."
		;;
	7.9)
		TEXT="Write report_end(c, status): when the container had a cgroup, say how it ended.  A status of 128 + SIGKILL with an oom_kill count in memory.events means the OOM killer: warn \"the container was killed by the OOM killer (memory limit LIMIT)\"; another signal, say which.  Under -v, narrate the memory peak and the CPU time the group used.  Why: the exit status cannot tell an OOM kill from any other SIGKILL; the cgroup can.
Read: cgroups(7), the kernel's cgroup-v2.rst (memory.events, memory.peak, cpu.stat), common/cgroup.h."
		;;
	7.10)
		TEXT="Remove the container's cgroup (a failure is tolerated: the next run will try again), and narrate it.
Read: cgroups(7), rmdir(2)."
		;;
	7.11)
		TEXT="Last, when nothing is left behind (no cgroup), release the runtime's state file with state_unlock(); when something is, keep it for the next run to clean up.
Read: common/state.h."
		;;
	7.12)
		TEXT="Before anything else: remove what killed runtimes left behind (sweep_leftovers(), tolerated), then take this container's state file (state_lock()), where the runtime notes what it makes.  Why: a runtime killed with SIGKILL cannot clean up after itself; its state file tells the next run what to remove.
Read: common/state.h, flock(2)."
		;;
	7.13)
		TEXT="Make the container's cgroup here, before clone: the child must start in it.
Read: cgroups(7)."
		;;
	7.14)
		TEXT="Say how the container ended, from its cgroup, before clean_up() removes the group.
Read: cgroups(7)."
		;;
	8.1)
		TEXT="Write mount_overlay(c): in the state dir make an upper dir, a work dir and the dir to mount on (c->merged), and mount there an overlay whose lower layers are the --layer dirs (c->layers; the last one given on top) over ROOTFS at the bottom, with the userxattr option, and volatile unless --keep (the upper dir is thrown away, so the unmount need not sync the host's disk); then the overlay is the root: point c->rootfs at it.  Why: the container's writes go to upper, and the image stays as it was.
Read: the kernel's Documentation/filesystems/overlayfs.rst (lowerdir order, userxattr), mount(2)."
		;;
	8.2)
		TEXT="Mount the overlay here: after ROOTFS is a mount point, before /proc and the rest are mounted on the new root.
Read: mount_namespaces(7)."
		;;
	8.3)
		TEXT="Write make_state_dir(c) and remove_state_dir(c).  The first makes STATE/ID (state_root() names STATE; set c->state, and c->merged to STATE/ID/root), refuses with a clear message when STATE is on overlayfs (an upper dir cannot live on another overlay), notes the dir in the runtime's state file unless --keep, and gives it to container root (host uid c->userns_base) unless rootless.  The second removes it after the run, or with --keep says where it was kept, in a message that starts \"kept the state dir DIR:\".
Read: statfs(2), chown(2), common/state.h."
		;;
	8.4)
		TEXT="In clean_up(): remove the state dir, and keep the runtime's state file while the state dir is not gone either.  The stand-in keeps it only for the cgroup.
Read: common/state.h."
		STANDIN=$'\tif (c->cg.made)'
		;;
	8.5)
		TEXT="Make the container's state dir here, before clone: the child mounts its overlay in it.
Read: common/state.h."
		;;
	*)
		return 1
		;;
	esac
}

# --- the regions -------------------------------------------------------------

# regions FILE NN: the lesson regions of FILE, one line each: "START END INDENT-WIDTH TITLE".
regions() {
	awk -v nn="$2" '
	function width(s,   i, w) { w = 0; for (i = 1; i <= length(s); i++) w += substr(s, i, 1) == "\t" ? 8 - w % 8 : 1; return w }
	$0 ~ "^[ \t]*/\\* lesson " nn ": .* \\*/$" {
		if (start) { print FILENAME ":" NR ": a lesson marker inside another region" > "/dev/stderr"; bad = 1 }
		start = NR; match($0, /^[ \t]*/); ind = substr($0, 1, RLENGTH)
		title = $0; sub(/^[ \t]*\/\* lesson [0-9][0-9]: /, "", title); sub(/ \*\/$/, "", title)
		next
	}
	$0 ~ "^[ \t]*/\\* end of lesson " nn " \\*/$" {
		if (!start) { print FILENAME ":" NR ": an end marker with no lesson marker before it" > "/dev/stderr"; bad = 1 }
		print start, NR, width(ind), title
		start = 0
	}
	END { if (start) { print FILENAME ":" start ": a lesson marker that never ends" > "/dev/stderr"; bad = 1 } exit bad }' "$1"
}

# todo_block N K COUNT INDENT INDENT-WIDTH TITLE: the TODO comment of part
# K, and its stand-in.
todo_block() {
	local n=$1 k=$2 count=$3 ind=$4 title=$6 width
	todo "$n" "$k" || fail "step $n has no TODO text for lesson part $k: add one to scripts/lab.sh"
	width=$((72 - $5))
	[ "$width" -ge 40 ] || width=40
	printf '%s/* TODO lesson %02d, part %d of %d: %s.\n' "$ind" "$n" "$k" "$count" "$title"
	printf '%s\n' "$TEXT" | while IFS= read -r para; do
		printf '%s *\n' "$ind"
		printf '%s\n' "$para" | fmt -w "$width" | sed "s|^|$ind * |"
	done
	printf '%s */\n' "$ind"
	if [ -n "$STANDIN" ]; then
		printf '%s\n' "$STANDIN"
		printf '%s/* end of TODO part %d */\n' "$ind" "$k"
	fi
}

# handout_source N ORIGINAL: step N's container.c with its lesson cut out.
handout_source() {
	local n=$1 file=$2 nn k=0 count list parts
	nn=$(printf '%02d' "$n")
	list=$(regions "$file" "$nn") || fail "$file: the lesson markers are not in pairs (see above)"
	count=$(grep -c . <<<"$list" || true)
	[ "$count" -gt 0 ] || fail "$file has no lesson markers (/* lesson $nn: ... */ ... /* end of lesson $nn */): nothing to hand out"
	todo "$n" $((count + 1)) && fail "$file has $count lesson regions but scripts/lab.sh has TODO texts for more: bring them in line"
	parts=$(mktemp -d)
	while read -r start end indw title; do
		k=$((k + 1))
		local ind
		ind=$(awk -v l="$start" 'NR == l { match($0, /^[ \t]*/); print substr($0, 1, RLENGTH); exit }' "$file")
		todo_block "$n" "$k" "$count" "$ind" "$indw" "$title" >"$parts/$k"
		echo "$start $end" >>"$parts/spans"
	done <<<"$list"
	awk -v dir="$parts" '
	BEGIN { while ((getline line < (dir "/spans")) > 0) { split(line, f, " "); s[++n] = f[1]; e[n] = f[2] } k = 1 }
	k <= n && FNR == s[k] { while ((getline line < (dir "/" k)) > 0) print line; skip = 1; next }
	skip && FNR == e[k] { skip = 0; k++; next }
	!skip' "$file"
	rm -rf "$parts"
}

# restore N FILE ORIGINAL: FILE with each TODO of step N replaced by the
# region of ORIGINAL it came from, markers and all.
restore() {
	local n=$1 file=$2 orig=$3 nn k count list parts
	nn=$(printf '%02d' "$n")
	[ -f "$file" ] || fail "restore: no file $file"
	[ -f "$orig" ] || fail "restore: no original $orig"
	list=$(regions "$orig" "$nn") || fail "$orig: the lesson markers are not in pairs"
	count=$(grep -c . <<<"$list" || true)
	parts=$(mktemp -d)
	k=0
	while read -r start end _; do
		k=$((k + 1))
		sed -n "${start},${end}p" "$orig" >"$parts/$k"
		todo "$n" "$k" || true
		[ -z "$STANDIN" ] || echo "$k" >>"$parts/standins"
	done <<<"$list"
	touch "$parts/standins"
	awk -v dir="$parts" -v count="$count" -v nn="$nn" '
	BEGIN { while ((getline line < (dir "/standins")) > 0) standin[line] = 1 }
	match($0, "^[ \t]*/\\* TODO lesson " nn ", part [0-9]+ of ") {
		k = $0; sub(/.*, part /, "", k); sub(/ of .*/, "", k); k += 0
		while ((getline line < (dir "/" k)) > 0) print line
		done[k] = 1; state = "comment"; next
	}
	state == "comment" { if ($0 ~ /^[ \t]*\*\/$/) state = standin[k] ? "standin" : ""; next }
	state == "standin" { if ($0 ~ "^[ \t]*/\\* end of TODO part " k " \\*/$") state = ""; next }
	{ print }
	END {
		for (k = 1; k <= count; k++) if (!done[k]) { print "restore: no TODO for part " k " in the handout" > "/dev/stderr"; bad = 1 }
		exit bad
	}' "$file"
	rm -rf "$parts"
}

# --- the handout -------------------------------------------------------------

earlier_steps() {
	if [ "$1" -eq 1 ]; then
		echo "This is the first step: the program around it and common/ are given."
	else
		printf 'Steps 01 to %02d are done: read them (each is the one before plus\n' $(($1 - 1))
		echo "one feature; \`make diff STEP=K\` shows what step K adds)."
	fi
}

student_readme() {
	local n=$1 dir=$2
	cat <<EOF
# boxlab lab: step $(printf '%02d' "$n"), \`$dir\`

You are building a Linux container runtime in C, one kernel feature a step.
$(earlier_steps "$n")
Your step, \`$dir/container.c\`, is complete except for its lesson: every
\`TODO lesson $(printf '%02d' "$n")\` comment says what to write there, why, and
which man page to read.  Some are followed by stand-in code, up to
\`/* end of TODO part K */\`, that keeps the program working the old way
until you replace it: delete the stand-in and that line when you do.
The top of the file says what this step adds; WORKSHOP.md has the
chapters of the steps before it.

## Build and try

You need Linux 5.11 or newer, root (sudo), make and a C compiler; the kit
installs the rest (Debian or Ubuntu: busybox-static, bats, cmocka).

    make                  # build every step; warnings are errors
    make rootfs           # the tiny root filesystem the containers run in
    sudo ./$dir/container run -v rootfs /bin/sh    # -v narrates each kernel call

## Check your work

    sudo make check STEP=$n     # this step's checks, as bats prints them
    sudo make grade STEP=$n     # the same, scored: build/grade/results.json

The checks are the kit's isolation matrix, one row per property, run
against your step's binary, followed by the command-line tests.  Each row
names the step its property arrives in, "(from step NN)":

- rows from earlier steps must keep holding: if one fails, your change
  broke something that worked;
- rows "(from step $(printf '%02d' "$n"))" are your lesson, and \`make grade\` gives a
  point for each: they fail until your code gives the container that
  property, and each failure prints what the check saw (its evidence),
  which says what is still missing;
- rows from later steps pass when the property does NOT hold yet: that
  is expected of step $(printf '%02d' "$n").

A check also fails when a run leaves something behind on the host (a
mount, a process, a cgroup, a veth): the diff it prints shows what.
\`make grade\` prints your points and writes bats' TAP and JUnit reports
and a results.json (Gradescope's format) to build/grade.
EOF
}

write_handout() {
	local n=$1 dest=$2 step file rel
	step=$(cd "$top" && ls -d "step0$n"-* 2>/dev/null) ||
		fail "there is no step $n in $top (steps: $(cd "$top" && echo step0*-*))"
	if [ -e "$dest" ] && [ -n "$(ls -A "$dest" 2>/dev/null)" ]; then
		fail "$dest is not empty: a handout goes into a new or empty directory (remove it, or pick another DEST)"
	fi
	[ ! -e "$dest" ] || [ -d "$dest" ] || fail "$dest exists and is not a directory"
	git -C "$top" rev-parse --git-dir >/dev/null 2>&1 ||
		fail "$top is not a git checkout: the handout takes the kit's tracked files (git ls-files); make it from a clone of the kit"
	# Cut first, so that a mismatch leaves nothing half-written behind.
	local source
	source=$(handout_source "$n" "$top/$step/container.c") || exit 2
	mkdir -p "$dest"
	(cd "$top" && git ls-files -z) | while IFS= read -r -d '' rel; do
		case "$rel" in
		step0[1-8]-*/*)
			local k=${rel#step0}
			[ "${k%%-*}" -le "$n" ] || continue ;;
		docs/* | scripts/lab.sh | tests/lab.sh | tests/lab/* | README.md | WORKSHOP.md) continue ;;
		esac
		# A tracked file deleted in the working tree is not part of it.
		[ -e "$top/$rel" ] || continue
		mkdir -p "$dest/$(dirname "$rel")"
		cp -p "$top/$rel" "$dest/$rel"
	done
	printf '%s\n' "$source" >"$dest/$step/container.c"
	# WORKSHOP.md up to this step's chapter: the walk through its code is the answer.
	awk -v n="$n" '$0 ~ "^## Chapter " n " " { exit } { print }' "$top/WORKSHOP.md" >"$dest/WORKSHOP.md"
	student_readme "$n" "$step" >"$dest/README.md"
	echo "$me: wrote the handout of $step to $dest: $(grep -c "TODO lesson" "$dest/$step/container.c") TODOs in $step/container.c"
}

case "${1:-}" in
restore)
	[ $# -eq 4 ] || usage
	n=${2#0}
	[[ $n =~ ^[1-8]$ ]] || fail "restore: no step \"$2\": a step is a number from 1 to 8"
	restore "$n" "$3" "$4"
	;;
"" | -h | --help)
	[ -n "${1:-}" ] || echo "$me: which step? STEP is missing." >&2
	usage
	;;
*)
	[ $# -eq 2 ] && [ -n "$2" ] || { echo "$me: where to? DEST is missing: make lab STEP=N DEST=DIR" >&2; usage; }
	n=${1#0}
	[[ $n =~ ^[0-9]+$ ]] || fail "STEP=\"$1\" is not a step: a step is a number, 1 to 8"
	write_handout "$n" "$2"
	;;
esac
