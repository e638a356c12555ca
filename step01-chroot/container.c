/*
 * step01-chroot: a process with its own root directory.
 *
 * This step adds chroot(2).  The runtime starts COMMAND in a child process
 * whose root directory is ROOTFS: inside, "/" means ROOTFS, so the command
 * sees the rootfs's programs and files instead of the host's.  The parent
 * stays outside, waits, and exits with the command's status.
 *
 * Still open: everything else is the host's.  The command sees and can
 * kill every host process, shares the host's name, mounts and clocks, and
 * chroot is not even a jail: a root process walks back out with a second
 * chroot() and a few chdir("..").  Step 02 gives the container its own
 * process tree.
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
