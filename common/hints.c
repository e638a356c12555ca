/*
 * hints.c - the hint table: the usual cause of a failed kernel call.
 *
 * A row matches a call by name ("*" matches any call) and an errno.  The
 * first matching row wins, so rows for one call come before the "*" rows.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hints.h"

struct hint {
	const char *call;
	int err;
	const char *text;
};

static const struct hint hints[] = {
	{ "chroot", EPERM,
	  "chroot needs CAP_SYS_CHROOT: run as root (sudo)" },
	{ "clone", EPERM,
	  "new namespaces need CAP_SYS_ADMIN: run as root (sudo)" },
	{ "clone", EINVAL,
	  "this kernel lacks one of the namespaces asked for; 'make doctor' checks the kernel" },
	{ "clone", ENOSPC,
	  "too many namespaces of one kind: see /proc/sys/user/max_*_namespaces" },
	{ "unshare", EINVAL,
	  "this kernel lacks the namespace asked for; the time namespace needs Linux 5.6" },
	{ "unshare", EPERM,
	  "new namespaces need CAP_SYS_ADMIN: run as root (sudo)" },
	{ "write_file", EACCES,
	  "timens_offsets can only be written before any process enters the time namespace" },
	{ "sethostname", EPERM,
	  "without a UTS namespace this would rename the host; root only" },
	{ "pivot_root", EINVAL,
	  "the new root must be a mount point (bind it on itself first) and no mount on the way may be shared (make / private first)" },
	{ "pivot_root", EBUSY,
	  "the new root or the old one is already mounted there" },
	{ "pivot_root", EPERM,
	  "pivot_root needs CAP_SYS_ADMIN in the mount namespace" },
	{ "mount", ENOSPC,
	  "too many mounts, not a full disk: see /proc/sys/fs/mount-max" },
	{ "mount", ENODEV,
	  "this kernel does not know that filesystem type (see /proc/filesystems)" },
	{ "mount", EINVAL,
	  "a bind mount needs an existing source; a remount needs a mount point there" },
	{ "mount", EPERM,
	  "mounting needs CAP_SYS_ADMIN: run as root (sudo)" },
	{ "mount", EBUSY,
	  "something is already mounted there" },
	{ "umount2", EINVAL,
	  "the path is not a mount point (already unmounted?)" },
	{ "mknod", EPERM,
	  "creating device nodes needs CAP_MKNOD in the initial user namespace" },
	{ "execvp", ENOENT,
	  "no such file inside the rootfs: paths are looked up in the container, not on the host" },
	{ "execvp", EACCES,
	  "the file is not executable, or its filesystem is mounted noexec" },
	{ "execvp", ENOEXEC,
	  "not a binary this kernel can run (another architecture, or a script without #!)" },
	{ "*", EPERM,
	  "this needs privilege the runtime does not have: run as root (sudo)" },
	{ "*", EACCES,
	  "permission denied on a path: check its owner and mode" },
	{ "*", ENOENT,
	  "a path does not exist: check the rootfs is complete ('make rootfs')" },
	{ "*", ENOSYS,
	  "this kernel does not have that system call" },
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

const char *hint_for(const char *call, int err)
{
	char name[64];
	unsigned long i;

	call_name(call, name, sizeof(name));
	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
		const struct hint *h = &hints[i];

		if (h->err != err)
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
