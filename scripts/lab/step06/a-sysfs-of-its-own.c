/* Step 05's /sys, until the container owns its network namespace. */
static void mount_sys(const struct config *c)
{
	KCALL(mount("/sys", in_rootfs(c, "/sys"), NULL, MS_BIND | MS_REC, NULL),
	      "bind the host's /sys");
	KCALL(mount(NULL, in_rootfs(c, "/sys"), NULL,
		    MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
	      "make /sys read-only");
}
