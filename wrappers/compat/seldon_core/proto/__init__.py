"""seldon.protos modules under seldon-core's import path (they are seldon-graph's generated modules)."""
