	unmount_proc(c);
