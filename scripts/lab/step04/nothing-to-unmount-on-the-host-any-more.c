	return wait_and_clean_up(&c, pid);
