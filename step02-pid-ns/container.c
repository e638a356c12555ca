/*
 * step02-pid-ns: a process tree of its own (CLONE_NEWPID, Linux 2.6.24).
 *
 * The command is PID 1 of a new tree: it cannot name, so cannot signal, a
 * host process, and a /proc mounted inside lists its tree alone.  PID 1
 * reaps orphans and gets only the signals it handles (the parent passes
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT on).  Still open: the mount table
 * (its /proc is mounted on the host), the host name, IPC and clocks.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include "boxlab.h"

/* lesson 02: a /proc for the new tree */
/* A /proc that shows the new PID namespace: the mounter's one. */
static void mount_proc(const struct config *c)
{
	KCALL(mount("proc", in_rootfs(c, "/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
	      "mount a /proc for the new PID namespace on \"%s\"", in_rootfs(c, "/proc"));
}
/* end of lesson 02 */

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

	/* lesson 02: mount it from inside */
	mount_proc(c);
	/* end of lesson 02 */
	enter_rootfs(c);
	exec_command(c);
}

/* The flags are the lesson: a namespace each. */
static pid_t start_container(struct config *c)
{
	int flags = SIGCHLD; /* tell the parent when the child ends */
	pid_t pid;

	/* lesson 02: a new PID namespace */
	flags |= CLONE_NEWPID; /* the command becomes PID 1 of a new tree */
	/* end of lesson 02 */
	pid = KCALL(clone(container_main, child_stack_top(), flags, c),
		    "start the container's first process");
	return pid;
}

/* lesson 02: unmount the container's /proc */
/* Without a mount namespace, the container's /proc is the host's mount. */
static void unmount_proc(const struct config *c)
{
	KCALL_TOLERATED(umount2(in_rootfs(c, "/proc"), MNT_DETACH),
			"unmount the container's /proc from the host");
}
/* end of lesson 02 */

/* lesson 02: undo what the container left on the host */
/* Undo, after the container or on a failure; each part may never have been made. */
static void clean_up(void *arg)
{
	struct config *c = arg;

	stop_container(&c->pid);
	unmount_proc(c);
}
/* end of lesson 02 */

int main(int argc, char **argv)
{
	struct config c;
	int status;

	parse_command_line(&c, STEP, STEP_NAME, argc, argv);
	require_root(&c, "new namespaces need CAP_SYS_ADMIN");
	/* lesson 02: undo on a failure too */
	on_die(clean_up, &c);
	/* end of lesson 02 */
	c.pid = start_container(&c);
	status = wait_for_container(&c);
	/* lesson 02: clean up after the run */
	clean_up(&c);
	/* end of lesson 02 */
	return status;
}
