/*
 * cgroup.h - a container's control group, on either cgroup layout.
 *
 * cgroup v2, the unified hierarchy (most distributions since 2021): one
 * tree at /sys/fs/cgroup, and a container's group is one directory,
 * boxlab/ID, whose files are its limits and its accounting.
 *
 * cgroup v1 (older distributions, WSL, and "hybrid" machines that mount
 * an empty cgroup2 beside the v1 trees): one tree per controller, so the
 * group is a directory in each: memory/boxlab/ID, cpu/boxlab/ID, ...
 *
 * The steps speak v2's file names ("memory.max", "cpu.max"); on v1 they
 * are translated here, and -v says into what.  Every function returns -1
 * with errno set on failure and never prints, except narration.
 */
#ifndef BOXLAB_CGROUP_H
#define BOXLAB_CGROUP_H

#include <sys/types.h>

#define CGROUP_ROOT   "/sys/fs/cgroup"
#define CGROUP_PARENT "boxlab" /* every container's group is boxlab/ID */

enum cgroup_layout {
	CGROUP_NONE, /* no group we may make (rootless without delegation) */
	CGROUP_V1, /* a hierarchy per controller, with or without cgroup2 */
	CGROUP_V2, /* one unified hierarchy */
};

struct cgroup {
	enum cgroup_layout layout;
	char root[64]; /* where the hierarchies are mounted */
	char rel[192]; /* the group inside each: "boxlab/ID" */
	int fd; /* v2: the group's directory (CLONE_INTO_CGROUP), or -1 */
	int made; /* its directories exist */
};

/* Which layout is mounted at root ("/sys/fs/cgroup", or a test's copy). */
enum cgroup_layout cgroup_layout(const char *root);

/* "cgroup v2", "cgroup v1" or "no cgroup", for messages. */
const char *cgroup_layout_name(enum cgroup_layout layout);

/*
 * Rootless on v2: the subtree delegated to us (the highest group above
 * ours that we own, like systemd's user@UID.service), as a path from the
 * root, in rel.  -1 with ENOENT when nothing is delegated.  proc_cgroup
 * is "/proc/self/cgroup" (or a test's file).
 */
int cgroup_delegated(const char *root, const char *proc_cgroup, char *rel, size_t size);

/*
 * Make the group PARENT/ID under root: PARENT first if need be, with the
 * memory, cpu and pids controllers enabled for its children on v2 (a
 * group with processes cannot hand controllers down: the no-internal-
 * processes rule, so PARENT itself never holds one).
 */
int cgroup_create(struct cgroup *cg, enum cgroup_layout layout, const char *root,
		  const char *parent, const char *id);

/* Write a v2 control file ("pids.max", "64"); translated on v1. */
int cgroup_set(const struct cgroup *cg, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Move a process into the group (every hierarchy, on v1). */
int cgroup_add(const struct cgroup *cg, pid_t pid);

/*
 * v1: move the calling process, single-threaded, into the group, by
 * writing "0" to each hierarchy's tasks file.  Moving oneself takes no
 * global lock; moving another process takes one whose first writer waits
 * for an RCU grace period, milliseconds.  (v2 has CLONE_INTO_CGROUP.)
 */
int cgroup_enter(const struct cgroup *cg);

/*
 * A number from the group's accounting, by v2 name: the value of line
 * KEY in FILE ("memory.events", "oom_kill"), or FILE's only value when
 * key is NULL ("memory.peak").  cpu.stat's usage_usec comes from
 * cpuacct.usage on v1.  -1 with errno when the kernel does not keep it.
 */
long long cgroup_read(const struct cgroup *cg, const char *file, const char *key);

/*
 * v1, from inside the container's cgroup namespace: a read-only tmpfs at
 * target with each hierarchy that holds a controller we use mounted in
 * it, read-only, as a host has them (memory/, cpu,cpuacct/ with a link
 * cpu -> cpu,cpuacct, ...).  The hierarchies are the ones proc_cgroup
 * ("/proc/self/cgroup") lists: a user namespace may mount an existing
 * hierarchy, with exactly its controllers, but never make a new one.
 */
int cgroup_mount_v1(const char *target, const char *proc_cgroup);

/*
 * Empty the group (cgroup.kill where the kernel has it, Linux 5.14) and
 * remove its directories.  Does nothing if it was never made.
 */
int cgroup_remove(struct cgroup *cg);

#endif
