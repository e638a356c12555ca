	pid = KCALL(clone(container_main, child_stack_top(), flags, c), "start the container's first process");
	return pid;
