	parse_command_line(&c, STEP, STEP_NAME, argc, argv);
	require_root(&c, "new namespaces need CAP_SYS_ADMIN");
	pid = start_container(&c);
	return wait_for_container(&c, pid);
