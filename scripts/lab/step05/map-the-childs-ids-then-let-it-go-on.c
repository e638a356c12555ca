	idmapped = -1;
