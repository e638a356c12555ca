	idmap_rootfs(&c);
