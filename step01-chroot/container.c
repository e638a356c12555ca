/*
 * step01-chroot: a process with its own root directory.
 *
 * chroot(2) makes ROOTFS the child's "/": the command sees the rootfs's
 * files, not the host's, and the parent waits outside for its status.
 * Still open: all else is the host's, and root climbs out of a chroot.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include "boxlab.h"

/* lesson 01: the root directory */
/* Make ROOTFS this process's "/" (chroot(2)). */
static void enter_rootfs(const struct config *c)
{
	KCALL(chroot(c->rootfs), "make \"%s\" the root directory", c->rootfs);
	/* chroot() moves the root, not the working directory: move too. */
	KCALL(chdir("/"), "stand at the new root");
}
/* end of lesson 01 */

/* The child: set up the container from inside, then become COMMAND. */
static int container_main(void *arg)
{
	struct config *c = arg;

	/* lesson 01: enter the root directory */
	enter_rootfs(c);
	/* end of lesson 01 */
	exec_command(c);
}

/* The flags are the lesson: a namespace each. */
static pid_t start_container(struct config *c)
{
	int flags = SIGCHLD; /* tell the parent when the child ends */
	pid_t pid;

	pid = KCALL(clone(container_main, child_stack_top(), flags, c),
		    "start the container's first process");
	return pid;
}

int main(int argc, char **argv)
{
	struct config c;
	int status;

	parse_command_line(&c, STEP, STEP_NAME, argc, argv);
	require_root(&c, "chroot needs CAP_SYS_CHROOT");
	c.pid = start_container(&c);
	status = wait_for_container(&c);
	return status;
}
