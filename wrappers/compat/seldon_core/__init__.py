"""seldon-graph's stand-in for the seldon_core package (see seldon_graph.wrappers.compat)."""
