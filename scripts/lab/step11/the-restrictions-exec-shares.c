	limit_bounding_set(c);
	if (!c->no_new_privs)
		load_seccomp_filter(c);
	become_image_user(c);
	set_capabilities(c);
	if (c->no_new_privs) {
		KCALL(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
		      "let no program we run gain privileges: setuid bits and file capabilities do nothing");
		load_seccomp_filter(c);
	}
