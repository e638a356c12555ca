/*
 * caps.h - capabilities by name, and the sets a container keeps (step 10).
 *
 * A set is a 64-bit mask, bit N for capability N (CAP_CHOWN is 0), as
 * /proc/PID/status prints it in CapEff and CapBnd.
 */
#ifndef BOXLAB_CAPS_H
#define BOXLAB_CAPS_H

#include <stddef.h>
#include <stdint.h>

#define CAP_BIT(cap) (UINT64_C(1) << (cap))

/*
 * What container root keeps by default: docker's 14.  CHOWN, DAC_OVERRIDE,
 * FOWNER, FSETID: work on any file of the container; SETUID, SETGID,
 * SETFCAP, SETPCAP: become its users, set file capabilities; KILL: signal
 * its processes; MKNOD, NET_RAW (ping), NET_BIND_SERVICE (ports below
 * 1024), SYS_CHROOT, AUDIT_WRITE.  0x00000000a80425fb.
 */
extern const uint64_t caps_default;

/* The highest capability this kernel knows (/proc/sys/kernel/cap_last_cap). */
int caps_last(void);

/* "CAP_SYS_ADMIN", "SYS_ADMIN" or "sys_admin": its number; -1 if none. */
int cap_from_name(const char *name);

/* "CAP_SYS_ADMIN" for 21. */
const char *cap_name(int cap);

/*
 * The set a container gets, as docker makes it from --cap-add and
 * --cap-drop (each a comma-separated list): the default set, less the
 * ones dropped, plus the ones added, so an add wins over a drop.  With
 * "ALL" added: every one but those dropped; with "ALL" dropped: only
 * those added.  Returns 0, or -1 with one line in err naming the bad name.
 */
int caps_resolve(uint64_t *set, const char *const *add, int nadd, const char *const *drop,
		 int ndrop, char *err, size_t errsize);

/* The set as names, "CHOWN,DAC_OVERRIDE,...", or "none", into buf. */
const char *caps_text(uint64_t set, char *buf, size_t size);

/* Remove from the bounding set every capability not in keep (needs CAP_SETPCAP). */
int caps_limit_bounding(uint64_t keep);

/*
 * Make the permitted and effective sets keep & what the process has now,
 * the inheritable set empty, and clear the ambient set.  0, or -1 with errno.
 */
int caps_set(uint64_t keep);

#endif
