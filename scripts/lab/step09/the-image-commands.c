	if (c.command != CMD_RUN)
		die("the image commands are not written yet: see the TODO \"pull, import, list and remove images\"");
