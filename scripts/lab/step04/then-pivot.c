	enter_rootfs(c);
