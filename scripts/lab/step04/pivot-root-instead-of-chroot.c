/* Step 03's way, until pivot_to_rootfs() and the mount namespace work. */
static void enter_rootfs(const struct config *c)
{
	KCALL(chroot(c->rootfs), "make \"%s\" the root directory", c->rootfs);
	KCALL(chdir("/"), "stand at the new root");
}

static void unmount_proc(const struct config *c)
{
	KCALL_TOLERATED(umount2(in_rootfs(c, "/proc"), MNT_DETACH),
			"unmount the container's /proc from the host");
}
