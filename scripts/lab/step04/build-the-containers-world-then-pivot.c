	mount_proc(c);
	enter_rootfs(c);
