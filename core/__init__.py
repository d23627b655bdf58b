"""seldon-graph: a drop-in, Apache-2.0 re-implementation of the Seldon Core v1 inference-graph system.

This package is the shared language of the components: SeldonMessage codecs, protos, status errors,
PREDICTIVE_UNIT_PARAMETERS parsing and the SeldonDeployment types.
"""

__version__ = "0.1.0"
