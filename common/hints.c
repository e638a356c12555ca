/*
 * hints.c - the hint table: the usual cause of a failed kernel call.
 *
 * A row matches a call by name ("*" matches any call), optionally by a
 * word in the failure line (which file write_file() wrote, whether the
 * command exec_command() ran is in ROOTFS), and by errno.  The first
 * matching row wins, so the narrowest rows come first.  errno 0 rows are
 * settings of the machine that forbid something, named by their sysctl.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hints.h"
#include "process.h"

struct hint {
	const char *call;
	const char *word; /* NULL, or a word the failure line must contain */
	int err;
	const char *text;
};

static const struct hint hints[] = {
	{ "chroot", NULL, EPERM, "chroot needs CAP_SYS_CHROOT: run as root (sudo)" },
	{ "clone", NULL, EPERM,
	  "new namespaces need CAP_SYS_ADMIN (run as root); a user namespace also needs a process that is not in a chroot, and, without root, a machine that allows it ('make doctor' checks both)" },
	{ "clone", NULL, EINVAL,
	  "this kernel lacks one of the namespaces asked for; 'make doctor' checks the kernel" },
	{ "clone", NULL, ENOSPC,
	  "too many namespaces of one kind: see /proc/sys/user/max_*_namespaces" },
	{ "unshare", NULL, EINVAL,
	  "this kernel lacks the namespace asked for; the time namespace needs Linux 5.6" },
	{ "unshare", NULL, EPERM, "new namespaces need CAP_SYS_ADMIN: run as root (sudo)" },
	{ "write_file", "timens_offsets", EACCES,
	  "timens_offsets can only be written before any process enters the time namespace, and by the owner of /proc/self (after changing ids, PR_SET_DUMPABLE)" },
	{ "write_file", "timens_offsets", EPERM,
	  "setting a time namespace's clocks needs CAP_SYS_TIME" },
	{ "write_file", "uid_map", EPERM,
	  "only root may map a range of ids; anybody else just their own uid, in one line" },
	{ "write_file", "gid_map", EPERM,
	  "without root, gid_map takes one line, your own gid, and only after setgroups is denied" },
	{ "sethostname", NULL, EPERM,
	  "without a UTS namespace this would rename the host; root only" },
	{ "pivot_root", NULL, EINVAL,
	  "the new root must be a mount point (bind it on itself first) and no mount on the way may be shared (make / private first)" },
	{ "pivot_root", NULL, EBUSY, "the new root or the old one is already mounted there" },
	{ "pivot_root", NULL, EPERM, "pivot_root needs CAP_SYS_ADMIN in the mount namespace" },
	{ "mount", "overlay", EACCES,
	  "container root (the host uid --userns-base names) must reach and read every layer: check the modes of the layers and of the dirs above them (mktemp -d makes 0700 dirs)" },
	{ "mount", "overlay", EINVAL,
	  "overlayfs refused its options: the upper and work dirs must be on one filesystem with d_type and user xattrs, and no layer may be an overlay itself" },
	{ "mount", NULL, ENOSPC, "too many mounts, not a full disk: see /proc/sys/fs/mount-max" },
	{ "mount", NULL, ENODEV,
	  "this kernel does not know that filesystem type (see /proc/filesystems)" },
	{ "mount", NULL, EINVAL,
	  "a bind mount needs an existing source; a remount needs a mount point there" },
	{ "mount", NULL, EPERM,
	  "mounting needs CAP_SYS_ADMIN (run as root); in a user namespace, a remount must also keep the flags inherited from the host (nosuid, nodev, noexec, ro), and sysfs needs the network namespace" },
	{ "mount", NULL, EBUSY, "something is already mounted there" },
	{ "umount2", NULL, EINVAL, "the path is not a mount point (already unmounted?)" },
	{ "mknod", NULL, EPERM,
	  "creating device nodes needs CAP_MKNOD in the initial user namespace" },
	{ "mount_setattr", NULL, EINVAL,
	  "this filesystem cannot be id-mapped: Linux 5.12+ on ext4, xfs or btrfs (tmpfs 6.3+, overlayfs 5.19+); put ROOTFS on one, or run rootless" },
	{ "open_tree", NULL, ENOSYS, "the new mount API needs Linux 5.2, id-mapped mounts 5.12" },
	{ "cgroup_create", NULL, EACCES,
	  "only root, or the owner of a delegated subtree, may make cgroups" },
	{ "cgroup_create", NULL, EROFS,
	  "/sys/fs/cgroup is mounted read-only here (inside a container?); a container runtime needs it writable" },
	{ "cgroup_create", NULL, EBUSY,
	  "the no-internal-processes rule of cgroup v2: a group that holds processes cannot hand controllers to its children" },
	{ "cgroup_add", NULL, EBUSY,
	  "the no-internal-processes rule of cgroup v2: a process may only join a group whose controllers are not handed down to children" },
	{ "clone_into_cgroup", NULL, EBUSY,
	  "the no-internal-processes rule of cgroup v2: a process may only join a group whose controllers are not handed down to children" },
	{ "cgroup_set", NULL, ENOENT,
	  "the group has no such file: its controller is not enabled here (v2: see cgroup.controllers and the parent's cgroup.subtree_control; v1: is it mounted under /sys/fs/cgroup?)" },
	{ "cgroup_set", NULL, EINVAL,
	  "the kernel refused the value: on v1, memory.memsw.limit_in_bytes must stay at or above memory.limit_in_bytes" },
	{ "subnet_claim", NULL, ENOSPC,
	  "all 16384 /30s of 10.200.0.0/16 are held by running containers (claims of dead runtimes are taken back by themselves)" },
	{ "nl_veth_create", NULL, EEXIST,
	  "a link of that name exists already: a leftover of a killed run? 'ip link del' it" },
	{ "nl_route_add_default", NULL, ENETUNREACH,
	  "the gateway is not on any up link: give the link its address and bring it up first" },
	{ "nl_open", NULL, EPROTONOSUPPORT, "this kernel has no rtnetlink (CONFIG_NET)" },
	{ "setresgid", "become group", EINVAL,
	  "the id is not mapped in the container's user namespace: rootless, only root is (use -u 0, or run as root)" },
	{ "setresuid", "become user", EINVAL,
	  "the id is not mapped in the container's user namespace: rootless, only root is (use -u 0, or run as root)" },
	{ "prlimit", NULL, EPERM,
	  "raising a hard limit takes CAP_SYS_RESOURCE on the host: run as root, or stay under your own hard limit ('ulimit -H -a' lists them)" },
	{ "caps_limit_bounding", NULL, EPERM,
	  "dropping from the bounding set takes CAP_SETPCAP, which container root has until it drops it" },
	{ "sys_seccomp", NULL, EACCES,
	  "loading a seccomp filter takes no_new_privs or CAP_SYS_ADMIN: it must come before the capabilities go" },
	{ "sys_seccomp", NULL, EINVAL,
	  "this kernel has no seccomp filters (CONFIG_SECCOMP_FILTER), or refused the filter's program" },
	{ "execvp", "which is in ", ENOENT,
	  "the file is there but its interpreter is not: a dynamically linked program needs its loader and libraries in the container, a script its #! program" },
	{ "execvp", "which is not in ", ENOENT,
	  "paths are looked up inside the container, not on the host" },
	{ "execvp", NULL, ENOENT, "no such program in the container's PATH (" CONTAINER_PATH ")" },
	{ "execvp", NULL, EACCES,
	  "it is not an executable file (check its mode, and that it is not a directory)" },
	{ "execvp", NULL, ENOEXEC,
	  "not a program this kernel can run (another architecture, or a script without #!)" },
	{ "kernel", "unprivileged_userns_clone", 0,
	  "unprivileged user namespaces are off (Debian, older Ubuntu): run as root, or turn them on with 'sudo sysctl -w kernel.unprivileged_userns_clone=1'" },
	{ "user", "max_user_namespaces", 0,
	  "user namespaces are off: run as root, or allow some with 'sudo sysctl -w user.max_user_namespaces=15000'" },
	{ "kernel", "apparmor_restrict_unprivileged_userns", 0,
	  "AppArmor (Ubuntu 23.10+) leaves unprivileged user namespaces without any power: run as root, or 'sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0' ('make doctor' checks this too)" },
	{ "*", NULL, EPERM, "this needs privilege the runtime does not have: run as root (sudo)" },
	{ "*", NULL, EACCES, "permission denied on a path: check its owner and mode" },
	{ "*", NULL, ENOENT,
	  "a path does not exist: check the rootfs is complete ('make rootfs')" },
	{ "*", NULL, EOVERFLOW,
	  "an id is not mapped in the user namespace: write uid_map and gid_map first, then take the mapped ids (setresuid)" },
	{ "*", NULL, ENOSYS, "this kernel does not have that system call" },
};

void call_name(const char *call, char *name, unsigned long size)
{
	unsigned long n = 0;

	if (strncmp(call, "sys_", 4) == 0)
		call += 4;
	while (call[n] && (isalnum((unsigned char)call[n]) || call[n] == '_'))
		n++;
	if (n >= size)
		n = size - 1;
	memcpy(name, call, n);
	name[n] = '\0';
}

const char *hint_for(const char *call, const char *doing, int err)
{
	char name[64];
	unsigned long i;

	call_name(call, name, sizeof(name));
	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
		const struct hint *h = &hints[i];

		if (h->err != err ||
		    (h->word && !strstr(call, h->word) && !(doing && strstr(doing, h->word))))
			continue;
		if (strcmp(h->call, "*") == 0 || strcmp(h->call, name) == 0)
			return h->text;
	}
	return NULL;
}

const char *errno_name(int err)
{
	static char unknown[16];
	/* glibc >= 2.32; NULL for a value it cannot name. */
	const char *name = strerrorname_np(err);

	if (name)
		return name;
	snprintf(unknown, sizeof(unknown), "E%d", err);
	return unknown;
}
