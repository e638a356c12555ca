	state_unlock(c, c->state_lock);
