"""StreamCluster: builders (pure), status (pure) and the kopf handlers that apply them."""
