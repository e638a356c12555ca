	if (c->cg.made)
