	KCALL(sync_recv(c->sync[SYNC_CHILD], &c->idmapped),
	      "sync 1: wait until the parent lets us go on");
