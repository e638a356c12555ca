	KCALL(sync_send(c->sync[SYNC_PARENT], c->idmapped), "sync 1: let the child go on");
