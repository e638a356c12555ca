	if (c.net_veth)
		die("--net veth is not written yet: see lesson 06, part 6");
