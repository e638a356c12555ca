	if (c.net_veth)
		die("--net veth is not written yet: see the TODO \"--net veth: a /30 of its own\"");
