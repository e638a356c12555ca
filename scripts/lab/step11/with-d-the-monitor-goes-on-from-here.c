	if (c.detach)
		die("run -d is not written yet: see the TODO of lesson 11 above");
