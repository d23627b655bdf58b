"""seldon_core.proto.prediction_pb2 is seldon_graph.proto.prediction_pb2 (the same wire-compatible messages)."""

import sys

from seldon_graph.proto import prediction_pb2

sys.modules[__name__] = prediction_pb2
