/*
 * caps.c - capabilities by name, and the sets a container keeps (step 10).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "caps.h"

/* clang-format off */
static const char *const names[] = {
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
	"SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE",
	"NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
	"SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
	"SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL",
	"SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
	"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
};
/* clang-format on */

#define NNAMES ((int)(sizeof(names) / sizeof(names[0])))

const uint64_t caps_default =
	CAP_BIT(CAP_CHOWN) | CAP_BIT(CAP_DAC_OVERRIDE) | CAP_BIT(CAP_FOWNER) | CAP_BIT(CAP_FSETID) |
	CAP_BIT(CAP_KILL) | CAP_BIT(CAP_SETGID) | CAP_BIT(CAP_SETUID) | CAP_BIT(CAP_SETPCAP) |
	CAP_BIT(CAP_NET_BIND_SERVICE) | CAP_BIT(CAP_NET_RAW) | CAP_BIT(CAP_SYS_CHROOT) |
	CAP_BIT(CAP_MKNOD) | CAP_BIT(CAP_AUDIT_WRITE) | CAP_BIT(CAP_SETFCAP);

int caps_last(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = -1;

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = -1;
		fclose(f);
	}
	/* A kernel newer than these names has capabilities we cannot name:
	 * they are never kept, and the bounding set loses them too. */
	return last < 0 || last > 63 ? NNAMES - 1 : last;
}

int cap_from_name(const char *name)
{
	int i;

	if (strncasecmp(name, "CAP_", 4) == 0)
		name += 4;
	for (i = 0; i < NNAMES; i++)
		if (strcasecmp(name, names[i]) == 0)
			return i;
	return -1;
}

const char *cap_name(int cap)
{
	static char buf[32];

	if (cap >= 0 && cap < NNAMES)
		snprintf(buf, sizeof(buf), "CAP_%s", names[cap]);
	else
		snprintf(buf, sizeof(buf), "capability %d", cap);
	return buf;
}

/*
 * The names of a list given to --cap-add or --cap-drop, into *named; an
 * "ALL" among them sets *all.
 */
static int parse_list(const char *list, int add, uint64_t *named, int *all, char *err,
		      size_t errsize)
{
	char copy[512], *name, *save = NULL;
	int cap;

	if (!*list || *list == ',' || list[strlen(list) - 1] == ',' || strstr(list, ",,")) {
		snprintf(
			err, errsize,
			"--cap-%s \"%s\": an empty name: use names separated by commas, like CHOWN,KILL",
			add ? "add" : "drop", list);
		return -1;
	}
	snprintf(copy, sizeof(copy), "%s", list);
	for (name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		if (strcasecmp(name, "ALL") == 0) {
			*all = 1;
			continue;
		}
		cap = cap_from_name(name);
		if (cap < 0) {
			snprintf(
				err, errsize,
				"--cap-%s \"%s\": no capability \"%s\": use a name of capabilities(7), like NET_ADMIN or CAP_NET_ADMIN, or ALL",
				add ? "add" : "drop", list, name);
			return -1;
		}
		*named |= CAP_BIT(cap);
	}
	return 0;
}

int caps_resolve(uint64_t *set, const char *const *add, int nadd, const char *const *drop,
		 int ndrop, char *err, size_t errsize)
{
	uint64_t added = 0, dropped = 0, every = CAP_BIT(NNAMES) - 1;
	int i, add_all = 0, drop_all = 0;

	for (i = 0; i < ndrop; i++)
		if (parse_list(drop[i], 0, &dropped, &drop_all, err, errsize) < 0)
			return -1;
	for (i = 0; i < nadd; i++)
		if (parse_list(add[i], 1, &added, &add_all, err, errsize) < 0)
			return -1;
	if (add_all)
		*set = every & ~dropped; /* all but the ones named */
	else if (drop_all)
		*set = added; /* none but the ones named */
	else
		*set = (caps_default & ~dropped) | added;
	return 0;
}

const char *caps_text(uint64_t set, char *buf, size_t size)
{
	size_t n = 0;
	int cap;

	snprintf(buf, size, "none");
	for (cap = 0; cap < NNAMES; cap++) {
		if (!(set & CAP_BIT(cap)))
			continue;
		n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? "," : "",
				      names[cap]);
		if (n >= size)
			break;
	}
	return buf;
}

int caps_limit_bounding(uint64_t keep)
{
	int cap, last = caps_last();

	for (cap = 0; cap <= last; cap++)
		if (!(keep & CAP_BIT(cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -1;
	return 0;
}

int caps_set(uint64_t keep)
{
	struct __user_cap_header_struct head = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &head, data) < 0)
		return -1;
	data[0].permitted &= (uint32_t)keep;
	data[1].permitted &= (uint32_t)(keep >> 32);
	data[0].effective = data[0].permitted;
	data[1].effective = data[1].permitted;
	data[0].inheritable = data[1].inheritable = 0;
	if (syscall(SYS_capset, &head, data) < 0)
		return -1;
	return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}
