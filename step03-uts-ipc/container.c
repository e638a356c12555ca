/*
 * step03-uts-ipc: a name, IPC objects and clocks of its own.
 *
 * UTS (Linux 2.6.19): a host name of its own, its id or --hostname.  IPC
 * (2.6.19): System V queues, semaphores, shared memory and POSIX queues
 * of its own.  Time (5.6): CLOCK_MONOTONIC and CLOCK_BOOTTIME start near
 * zero, so its uptime is its own.  Still open: the mount table, and a
 * root that climbs out of the chroot.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#include "boxlab.h"

/* lesson 03: a host name of its own */
static void set_hostname(const struct config *c)
{
	const char *name = c->hostname ? c->hostname : c->id;

	KCALL(sethostname(name, strlen(name)), "name the container \"%s\"", name);
}
/* end of lesson 03 */

/* lesson 03: clocks of its own */
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
/* end of lesson 03 */

/* A /proc that shows the new PID namespace: the mounter's one. */
static void mount_proc(const struct config *c)
{
	KCALL(mount("proc", in_rootfs(c, "/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
	      "mount a /proc for the new PID namespace on \"%s\"", in_rootfs(c, "/proc"));
}

/* Make ROOTFS this process's "/" (chroot(2)). */
static void enter_rootfs(const struct config *c)
{
	KCALL(chroot(c->rootfs), "make \"%s\" the root directory", c->rootfs);
	/* chroot() moves the root, not the working directory: move too. */
	KCALL(chdir("/"), "stand at the new root");
}

/* The child: set up the container from inside, then become COMMAND. */
static int container_main(void *arg)
{
	struct config *c = arg;

	/* lesson 03: name the container, reset its clocks */
	set_hostname(c);
	enter_new_time_namespace();
	/* end of lesson 03 */
	mount_proc(c);
	enter_rootfs(c);
	exec_command(c);
}

/* The flags are the lesson: a namespace each. */
static pid_t start_container(struct config *c)
{
	int flags = SIGCHLD; /* tell the parent when the child ends */
	pid_t pid;

	flags |= CLONE_NEWPID; /* the command becomes PID 1 of a new tree */
	/* lesson 03: new UTS and IPC namespaces */
	flags |= CLONE_NEWUTS; /* its own host name */
	flags |= CLONE_NEWIPC; /* its own System V IPC and POSIX queues */
	/* end of lesson 03 */
	pid = KCALL(clone(container_main, child_stack_top(), flags, c),
		    "start the container's first process");
	return pid;
}

/* Without a mount namespace, the container's /proc is the host's mount. */
static void unmount_proc(const struct config *c)
{
	KCALL_TOLERATED(umount2(in_rootfs(c, "/proc"), MNT_DETACH),
			"unmount the container's /proc from the host");
}

/* Undo, after the container or on a failure; each part may never have been made. */
static void clean_up(void *arg)
{
	struct config *c = arg;

	stop_container(&c->pid);
	unmount_proc(c);
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
