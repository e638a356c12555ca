/*
 * step04-mount-ns: a mount table and a root of its own.
 *
 * This step adds the mount namespace (CLONE_NEWNS, Linux 2.4.19, the first
 * namespace of all).  The container gets a copy of the host's mount table;
 * once the copy is made private, mounts and unmounts no longer travel
 * between the two.  Then the runtime builds the container's world in it:
 *  - ROOTFS bound on itself, so that it is a mount point;
 *  - /proc, with /proc/sys and the other doors into the kernel read-only
 *    and a few entries that leak host secrets masked;
 *  - /sys read-only, a fresh /dev with only harmless devices, a /tmp;
 *  - pivot_root(2) instead of chroot: ROOTFS becomes the root mount, and
 *    the host's root is detached, so there is no "outside" left to climb to.
 * When the container ends its mount namespace goes with it: nothing
 * needs unmounting on the host any more.
 *
 * Still open: root inside is root outside.  The container's processes run
 * as the host's uid 0, with all its capabilities: a mknod() or a write to
 * a device node still reaches the real hardware.  Step 05 maps root inside
 * to nobody outside with a user namespace.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "boxlab.h"

static void set_hostname(const struct config *c)
{
	const char *name = c->hostname ? c->hostname : c->id;

	KCALL(sethostname(name, strlen(name)), "name the container \"%s\"", name);
}

/*
 * A time namespace's clock offsets can be written only while no process
 * is inside it, so clone() cannot make one (its flag's bit is the exit
 * signal's in clone's flags anyway): unshare() makes it for our future
 * children, we set its clocks back to zero, then setns() steps us in.
 */
static void enter_new_time_namespace(void)
{
	struct timespec mono, boot;
	int fd;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	KCALL(unshare(CLONE_NEWTIME), "create a time namespace");
	KCALL(write_file("/proc/self/timens_offsets", "monotonic %ld 0\nboottime %ld 0\n",
			 -(long)mono.tv_sec, -(long)boot.tv_sec),
	      "start its clocks near zero (minus %lds)", (long)boot.tv_sec);
	fd = (int)KCALL(open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC),
			"open the new time namespace");
	KCALL(setns(fd, CLONE_NEWTIME), "enter the new time namespace");
	close(fd);
}

/* lesson 04: private mounts, and a root that is a mount point */
/*
 * Since Linux 2.6.15 mounts propagate between mount namespaces, and
 * systemd makes "/" shared: without this, every mount below would show
 * up on the host too, and pivot_root() would fail with EINVAL.
 */
static void make_mounts_private(void)
{
	KCALL(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL),
	      "stop mounts propagating between the container and the host");
}

/* pivot_root() needs the new root to be a mount point: bind it on itself. */
static void bind_rootfs(const struct config *c)
{
	KCALL(mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL),
	      "make \"%s\" a mount point of its own", c->rootfs);
}
/* end of lesson 04 */

/* A /proc that shows the new PID namespace: the mounter's one. */
static void mount_proc(const struct config *c)
{
	KCALL(mount("proc", in_rootfs(c, "/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
	      "mount a /proc for the new PID namespace on \"%s\"", in_rootfs(c, "/proc"));
}

/* lesson 04: /sys, /dev and /tmp of its own */
/* /sys shows the host's devices: the container may look, not touch. */
static void mount_sys(const struct config *c)
{
	KCALL(mount("sysfs", in_rootfs(c, "/sys"), "sysfs",
		    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
	      "mount /sys read-only");
}

/* Device nodes the container may have: none of them reaches hardware. */
/* clang-format off */
static const struct device {
	const char *path;
	unsigned int major, minor;
} devices[] = {
	{ "/dev/null", 1, 3 },
	{ "/dev/zero", 1, 5 },
	{ "/dev/full", 1, 7 },
	{ "/dev/random", 1, 8 },
	{ "/dev/urandom", 1, 9 },
	{ "/dev/tty", 5, 0 },
};
/* clang-format on */

/* clang-format off */
static const struct dev_link {
	const char *path, *target;
} dev_links[] = {
	{ "/dev/ptmx", "pts/ptmx" },
	{ "/dev/fd", "/proc/self/fd" },
	{ "/dev/stdin", "/proc/self/fd/0" },
	{ "/dev/stdout", "/proc/self/fd/1" },
	{ "/dev/stderr", "/proc/self/fd/2" },
};
/* clang-format on */

/* A fresh /dev: a tmpfs with the tables above, its own ptys and shm. */
static void mount_dev(const struct config *c)
{
	size_t i;

	KCALL(mount("tmpfs", in_rootfs(c, "/dev"), "tmpfs", MS_NOSUID | MS_NOEXEC,
		    "mode=0755,size=64k"),
	      "mount an empty /dev");
	umask(0); /* the modes below are meant as written */
	for (i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
		const struct device *d = &devices[i];

		KCALL(mknod(in_rootfs(c, d->path), S_IFCHR | 0666, makedev(d->major, d->minor)),
		      "create %s (character device %u:%u)", d->path, d->major, d->minor);
	}
	for (i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]); i++)
		KCALL(symlink(dev_links[i].target, in_rootfs(c, dev_links[i].path)),
		      "link %s to %s", dev_links[i].path, dev_links[i].target);
	KCALL(mkdir(in_rootfs(c, "/dev/pts"), 0755), "create /dev/pts");
	/* newinstance: ptys of its own, not the host's (Linux 2.6.29). */
	KCALL(mount("devpts", in_rootfs(c, "/dev/pts"), "devpts", MS_NOSUID | MS_NOEXEC,
		    "newinstance,ptmxmode=0666,mode=0620"),
	      "mount a private devpts for the container's terminals");
	KCALL(mkdir(in_rootfs(c, "/dev/shm"), 01777), "create /dev/shm");
	KCALL(mount("shm", in_rootfs(c, "/dev/shm"), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		    "mode=1777"),
	      "mount /dev/shm for POSIX shared memory");
	umask(022);
}

static void mount_tmp(const struct config *c)
{
	KCALL(mount("tmpfs", in_rootfs(c, "/tmp"), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"),
	      "mount an empty /tmp");
}
/* end of lesson 04 */

/* lesson 04: a /proc that cannot change the kernel */
/* Doors into the running kernel: readable, not writable. */
static const char *const proc_read_only[] = {
	"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs",
};

/* Entries that show host secrets or kernel memory: hidden behind /dev/null. */
static const char *const proc_masked[] = {
	"/proc/kcore",
	"/proc/keys",
	"/proc/timer_list",
	"/proc/sched_debug",
};

/*
 * A bind mount ignores MS_RDONLY: it takes a remount of the bind, which
 * sets every flag anew, so it repeats the ones /proc was mounted with.
 * Not every kernel has every entry; a missing one needs no protection.
 */
static void protect_proc(const struct config *c)
{
	size_t i;

	for (i = 0; i < sizeof(proc_read_only) / sizeof(proc_read_only[0]); i++) {
		const char *path = in_rootfs(c, proc_read_only[i]);

		if (access(path, F_OK) != 0)
			continue;
		KCALL(mount(path, path, NULL, MS_BIND | MS_REC, NULL), "bind %s on itself",
		      proc_read_only[i]);
		KCALL(mount(NULL, path, NULL,
			    MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			    NULL),
		      "make %s read-only", proc_read_only[i]);
	}
	for (i = 0; i < sizeof(proc_masked) / sizeof(proc_masked[0]); i++) {
		const char *path = in_rootfs(c, proc_masked[i]);

		if (access(path, F_OK) != 0)
			continue;
		KCALL(mount(in_rootfs(c, "/dev/null"), path, NULL, MS_BIND, NULL), "hide %s",
		      proc_masked[i]);
	}
}
/* end of lesson 04 */

/* lesson 04: pivot_root instead of chroot */
/*
 * pivot_root(".", ".") puts the old root on top of the new one, at the
 * same place (pivot_root(2), NOTES): unmounting "." then takes the old
 * root away, and with it every path to the host.
 */
static void pivot_to_rootfs(const struct config *c)
{
	KCALL(chdir(c->rootfs), "stand in \"%s\"", c->rootfs);
	KCALL(sys_pivot_root(".", "."), "make \"%s\" the root mount", c->rootfs);
	KCALL(umount2(".", MNT_DETACH), "detach the host's root from the container");
	KCALL(chdir("/"), "stand at the new root");
}
/* end of lesson 04 */

/* The child: set up the container from inside, then become COMMAND. */
static int container_main(void *arg)
{
	struct config *c = arg;

	set_hostname(c);
	enter_new_time_namespace();
	/* lesson 04: make the mounts private, the root a mount point */
	make_mounts_private();
	bind_rootfs(c);
	/* end of lesson 04 */
	mount_proc(c);
	/* lesson 04: build the container's world */
	mount_sys(c);
	mount_dev(c);
	mount_tmp(c);
	protect_proc(c);
	/* end of lesson 04 */
	/* lesson 04: then pivot */
	pivot_to_rootfs(c);
	/* end of lesson 04 */
	exec_command(c);
}

/* The flags are the lesson: a namespace each. */
static pid_t start_container(struct config *c)
{
	int flags = SIGCHLD; /* tell the parent when the child ends */
	pid_t pid;

	flags |= CLONE_NEWPID; /* the command becomes PID 1 of a new tree */
	flags |= CLONE_NEWUTS; /* its own host name */
	flags |= CLONE_NEWIPC; /* its own System V IPC and POSIX queues */
	/* lesson 04: a new mount namespace */
	flags |= CLONE_NEWNS; /* its own mount table */
	/* end of lesson 04 */
	pid = KCALL(clone(container_main, child_stack_top(), flags, c),
		    "start the container's first process");
	return pid;
}

/* Undo, after the container or on a failure; each part may never have been made. */
static void clean_up(void *arg)
{
	struct config *c = arg;

	stop_container(&c->pid);
	/* lesson 04: nothing to unmount on the host any more */
	/* end of lesson 04 */
}

int main(int argc, char **argv)
{
	struct config c;
	int status;

	parse_command_line(&c, STEP, STEP_NAME, argc, argv);
	require_root(&c, "new namespaces need CAP_SYS_ADMIN");
	on_die(clean_up, &c);
	c.pid = start_container(&c);
	status = wait_for_container(&c);
	clean_up(&c);
	return status;
}
