/*
 * cgroup.c - one small interface over cgroup v1 and v2.
 *
 * A cgroup is a directory in a cgroup filesystem: mkdir makes a group,
 * writing a pid to its cgroup.procs moves a process in, writing its
 * control files sets limits, rmdir removes it once it is empty.  The two
 * layouts differ in where those directories are and what the files are
 * called; this file knows both so that the steps need not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "kcall.h"
#include "process.h"

/* The controllers a container's limits and accounting need. */
static const char *const v2_controllers[] = { "memory", "cpu", "pids" };
static const char *const v1_controllers[] = { "memory", "cpu", "cpuacct", "pids" };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* v2 names the steps use, and where v1 keeps the same thing. */
static const struct v1_file {
	const char *v2;
	const char *controller;
	const char *v1;
} v1_files[] = {
	{ "memory.max", "memory", "memory.limit_in_bytes" },
	/* v1 limits memory + swap together: "no swap" is memsw = memory */
	{ "memory.swap.max", "memory", "memory.memsw.limit_in_bytes" },
	{ "memory.peak", "memory", "memory.max_usage_in_bytes" },
	{ "memory.events", "memory", "memory.oom_control" },
	/* "QUOTA PERIOD" on v2 is two files on v1 */
	{ "cpu.max", "cpu", "cpu.cfs_quota_us" },
	{ "cpu.stat", "cpuacct", "cpuacct.usage" },
	{ "pids.max", "pids", "pids.max" },
	{ "cgroup.procs", NULL, "cgroup.procs" },
};

enum cgroup_layout cgroup_layout(const char *root)
{
	char path[256];
	struct statfs fs;

	/* The filesystem says: cgroup2 at the root itself, or v1's memory tree. */
	snprintf(path, sizeof(path), "%s/memory", root);
	if (statfs(root, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
		return CGROUP_V2;
	if (statfs(path, &fs) == 0 && fs.f_type == CGROUP_SUPER_MAGIC)
		return CGROUP_V1;
	/* Not a cgroup filesystem: a tree laid out like one (the unit tests'). */
	snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	if (access(path, F_OK) == 0)
		return CGROUP_V2;
	snprintf(path, sizeof(path), "%s/memory/cgroup.procs", root);
	if (access(path, F_OK) == 0)
		return CGROUP_V1;
	return CGROUP_NONE;
}

const char *cgroup_layout_name(enum cgroup_layout layout)
{
	switch (layout) {
	case CGROUP_V2:
		return "cgroup v2";
	case CGROUP_V1:
		return "cgroup v1";
	case CGROUP_NONE:
		break;
	}
	return "no cgroup";
}

int cgroup_delegated(const char *root, const char *proc_cgroup, char *rel, size_t size)
{
	char line[512], path[512], *own = NULL, *slash;
	struct stat st;
	FILE *f = fopen(proc_cgroup, "re");
	int found = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "0::/", 4) == 0) {
			line[strcspn(line, "\n")] = '\0';
			own = line + 4;
			break;
		}
	fclose(f);
	/* Climb from our own group while we own the directory. */
	while (own && *own) {
		snprintf(path, sizeof(path), "%s/%s", root, own);
		if (stat(path, &st) < 0 || st.st_uid != geteuid())
			break;
		snprintf(rel, size, "%s", own);
		found = 1;
		slash = strrchr(own, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	if (!found) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

/* printf into a path buffer; -1 with ENAMETOOLONG if it does not fit. */
static int join(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int join(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int make_dir(const char *path)
{
	return mkdir(path, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* v2: let the children of root/group use our controllers. */
static void enable_controllers(const char *root, const char *group)
{
	char path[512];
	size_t i;

	if (join(path, sizeof(path), "%s/%s/cgroup.subtree_control", root, group) < 0)
		return;
	for (i = 0; i < COUNT(v2_controllers); i++)
		/* One at a time: a controller this kernel lacks stops no other. */
		if (write_file(path, "+%s", v2_controllers[i]) == 0)
			kcall_detail("enabled %s for the groups under /%s", v2_controllers[i],
				     group);
}

static int create_v2(struct cgroup *cg, const char *parent)
{
	char path[512], above[256];
	const char *slash = strrchr(parent, '/');

	/* The group above PARENT hands the controllers down to PARENT... */
	snprintf(above, sizeof(above), "%.*s", slash ? (int)(slash - parent) : 0, parent);
	enable_controllers(cg->root, above);
	if (join(path, sizeof(path), "%s/%s", cg->root, parent) < 0 || make_dir(path) < 0)
		return -1;
	/* ...and PARENT, which holds no process, hands them to each container. */
	enable_controllers(cg->root, parent);
	if (join(path, sizeof(path), "%s/%s", cg->root, cg->rel) < 0 || mkdir(path, 0755) < 0)
		return -1;
	cg->made = 1;
	cg->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return cg->fd < 0 ? -1 : 0;
}

static int create_v1(struct cgroup *cg, const char *parent)
{
	char path[512];
	size_t i;

	for (i = 0; i < COUNT(v1_controllers); i++) {
		if (join(path, sizeof(path), "%s/%s", cg->root, v1_controllers[i]) < 0)
			return -1;
		if (access(path, F_OK) < 0)
			continue; /* not mounted: its files will be missing */
		if (join(path, sizeof(path), "%s/%s/%s", cg->root, v1_controllers[i], parent) < 0 ||
		    make_dir(path) < 0)
			return -1;
		/* cpu and cpuacct may be one hierarchy, seen twice. */
		if (join(path, sizeof(path), "%s/%s/%s", cg->root, v1_controllers[i], cg->rel) <
			    0 ||
		    make_dir(path) < 0)
			return -1;
		cg->made = 1;
	}
	return 0;
}

int cgroup_create(struct cgroup *cg, enum cgroup_layout layout, const char *root,
		  const char *parent, const char *id)
{
	memset(cg, 0, sizeof(*cg));
	cg->fd = -1;
	cg->layout = layout;
	if (join(cg->root, sizeof(cg->root), "%s", root) < 0 ||
	    join(cg->rel, sizeof(cg->rel), "%s/%s", parent, id) < 0)
		return -1;
	switch (layout) {
	case CGROUP_V2:
		return create_v2(cg, parent);
	case CGROUP_V1:
		return create_v1(cg, parent);
	case CGROUP_NONE:
		break;
	}
	errno = ENOENT;
	return -1;
}

/* Does LIST, a hierarchy's controllers ("cpu,cpuacct"), hold one we use? */
static int uses_controller(const char *list)
{
	char copy[128], *name, *save;
	size_t i;

	snprintf(copy, sizeof(copy), "%s", list);
	for (name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save))
		for (i = 0; i < COUNT(v1_controllers); i++)
			if (strcmp(name, v1_controllers[i]) == 0)
				return 1;
	return 0;
}

#define READ_ONLY_MOUNT (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)

/* One hierarchy at target/LIST, and a link for each of its controllers. */
static int mount_hierarchy(const char *target, const char *list)
{
	char path[512], link[512], copy[128], *name, *save;

	if (join(path, sizeof(path), "%s/%s", target, list) < 0 || mkdir(path, 0755) < 0 ||
	    mount("cgroup", path, "cgroup", READ_ONLY_MOUNT, list) < 0)
		return -1;
	if (!strchr(list, ','))
		return 0;
	snprintf(copy, sizeof(copy), "%s", list);
	for (name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save))
		if (join(link, sizeof(link), "%s/%s", target, name) < 0 || symlink(list, link) < 0)
			return -1;
	return 0;
}

int cgroup_mount_v1(const char *target, const char *proc_cgroup)
{
	char line[512], *list, *end;
	int status = 0;
	FILE *f;

	if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0755,size=64k") < 0)
		return -1;
	f = fopen(proc_cgroup, "re");
	if (!f)
		return -1;
	/* "ID:CONTROLLERS:PATH"; cgroup2's line has no controllers. */
	while (status == 0 && fgets(line, sizeof(line), f)) {
		list = strchr(line, ':');
		end = list ? strchr(list + 1, ':') : NULL;
		if (!end)
			continue;
		*end = '\0';
		if (uses_controller(list + 1))
			status = mount_hierarchy(target, list + 1);
	}
	fclose(f);
	if (status == 0)
		status = mount(NULL, target, NULL, MS_REMOUNT | READ_ONLY_MOUNT,
			       "mode=0755,size=64k");
	return status;
}

static const struct v1_file *v1_file(const char *v2)
{
	size_t i;

	for (i = 0; i < COUNT(v1_files); i++)
		if (strcmp(v1_files[i].v2, v2) == 0)
			return &v1_files[i];
	return NULL;
}

/* The real path of a file: root/rel/file, or root/CONTROLLER/rel/v1-file. */
static const char *path_of(const struct cgroup *cg, const char *controller, const char *file)
{
	static char path[512];

	if (controller)
		snprintf(path, sizeof(path), "%s/%s/%s/%s", cg->root, controller, cg->rel, file);
	else
		snprintf(path, sizeof(path), "%s/%s/%s", cg->root, cg->rel, file);
	return path;
}

/* v1: write what v2 says in one file, in the file(s) v1 has for it. */
static int set_v1(const struct cgroup *cg, const char *file, const char *value)
{
	const struct v1_file *f = v1_file(file);
	char quota[32];
	long long limit;
	long period;

	if (!f || !f->controller) {
		errno = ENOENT;
		return -1;
	}
	if (strcmp(file, "cpu.max") == 0) {
		/* "50000 100000": the period goes to its own file, first. */
		if (sscanf(value, "%31s %ld", quota, &period) != 2) {
			errno = EINVAL;
			return -1;
		}
		kcall_detail("v1: cpu.max is cpu.cfs_period_us %ld and cpu.cfs_quota_us %s", period,
			     quota);
		if (write_file(path_of(cg, "cpu", "cpu.cfs_period_us"), "%ld", period) < 0)
			return -1;
		return write_file(path_of(cg, "cpu", "cpu.cfs_quota_us"), "%s",
				  strcmp(quota, "max") == 0 ? "-1" : quota);
	}
	if (strcmp(file, "memory.swap.max") == 0) {
		/* v1 counts memory and swap together: no swap is memsw = memory. */
		limit = cgroup_read(cg, "memory.max", NULL);
		if (limit < 0)
			return -1;
		kcall_detail(
			"v1: memory.swap.max %s is memory.memsw.limit_in_bytes = memory.limit_in_bytes",
			value);
		return write_file(path_of(cg, "memory", f->v1), "%lld", limit);
	}
	kcall_detail("v1: %s is %s/%s", file, f->controller, f->v1);
	return write_file(path_of(cg, f->controller, f->v1), "%s",
			  strcmp(value, "max") == 0 ? "-1" : value);
}

int cgroup_set(const struct cgroup *cg, const char *file, const char *fmt, ...)
{
	char value[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	if (cg->layout == CGROUP_V1)
		return set_v1(cg, file, value);
	return write_file(path_of(cg, NULL, file), "%s", value);
}

/* Write PID to the group's FILE: on v1, in every hierarchy that has it. */
static int write_pid(const struct cgroup *cg, const char *file, pid_t pid)
{
	char path[512];
	size_t i;

	if (cg->layout == CGROUP_V2)
		return write_file(path_of(cg, NULL, file), "%d", pid);
	for (i = 0; i < COUNT(v1_controllers); i++) {
		if (join(path, sizeof(path), "%s/%s/%s", cg->root, v1_controllers[i], cg->rel) < 0)
			return -1;
		if (access(path, F_OK) < 0)
			continue;
		if (write_file(path_of(cg, v1_controllers[i], file), "%d", pid) < 0)
			return -1;
	}
	return 0;
}

int cgroup_add(const struct cgroup *cg, pid_t pid)
{
	return write_pid(cg, "cgroup.procs", pid);
}

int cgroup_enter(const struct cgroup *cg)
{
	/* 0 is the caller; v1's tasks file moves one thread, which is all we are */
	return write_pid(cg, cg->layout == CGROUP_V2 ? "cgroup.procs" : "tasks", 0);
}

/* The number after "KEY " in a file of "key value" lines, or its first number. */
static long long read_number(const char *path, const char *key)
{
	char line[256];
	size_t n = key ? strlen(key) : 0;
	long long value = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!key) {
			value = strcmp(line, "max\n") == 0 ? -1 : atoll(line);
			break;
		}
		if (strncmp(line, key, n) == 0 && line[n] == ' ') {
			value = atoll(line + n + 1);
			break;
		}
	}
	fclose(f);
	if (value < 0)
		errno = ENOENT;
	return value;
}

long long cgroup_read(const struct cgroup *cg, const char *file, const char *key)
{
	const struct v1_file *f = v1_file(file);
	long long ns;

	if (cg->layout != CGROUP_V1)
		return read_number(path_of(cg, NULL, file), key);
	if (!f || !f->controller) {
		errno = ENOENT;
		return -1;
	}
	if (strcmp(file, "cpu.stat") == 0) {
		/* cpuacct.usage is one number, in nanoseconds */
		ns = read_number(path_of(cg, f->controller, f->v1), NULL);
		return ns < 0 ? -1 : ns / 1000;
	}
	return read_number(path_of(cg, f->controller, f->v1), key);
}

/*
 * rmdir fails with EBUSY while the group has a process, and the last ones
 * may still be exiting: give them a moment (no longer than a second).
 */
static int remove_dir(const char *path)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < 100; i++) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -1;
		nanosleep(&pause, NULL);
	}
	return -1;
}

int cgroup_remove(struct cgroup *cg)
{
	char path[512];
	size_t i;
	int status = 0;

	if (!cg->made)
		return 0;
	if (cg->fd >= 0)
		close(cg->fd);
	cg->fd = -1;
	if (cg->layout == CGROUP_V2) {
		/* Linux 5.14: one write kills every process in the group. */
		if (access(path_of(cg, NULL, "cgroup.kill"), F_OK) == 0)
			write_file(path_of(cg, NULL, "cgroup.kill"), "1");
		status = remove_dir(path_of(cg, NULL, ""));
	} else {
		for (i = 0; i < COUNT(v1_controllers); i++) {
			if (join(path, sizeof(path), "%s/%s/%s", cg->root, v1_controllers[i],
				 cg->rel) < 0 ||
			    remove_dir(path) < 0)
				status = -1;
		}
	}
	if (status == 0)
		cg->made = 0;
	return status;
}
