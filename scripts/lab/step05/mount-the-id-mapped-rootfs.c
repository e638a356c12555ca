	(void)idmapped;	/* no id-mapped rootfs yet */
	KCALL(mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL),
	      "make \"%s\" a mount point of its own", c->rootfs);
