/* Step 03's way, until pivot_to_rootfs() and the mount namespace work. */
static void enter_rootfs(const struct config *c)
{
	KCALL(chroot(c->rootfs), "make \"%s\" the root directory", c->rootfs);
	KCALL(chdir("/"), "stand at the new root");
}

static void clean_up(void *arg)
{
	const struct config *c = arg;

	KCALL_TOLERATED(umount2(in_rootfs(c, "/proc"), MNT_DETACH),
			"unmount the container's /proc from the host");
}

static int wait_and_clean_up(struct config *c, pid_t pid)
{
	int status;

	on_die(clean_up, c);
	status = wait_for_container(c, pid);
	clean_up(c);
	return status;
}
