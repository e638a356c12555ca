	(void)c;	/* delete this line once you use c */
