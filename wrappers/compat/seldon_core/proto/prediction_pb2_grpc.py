"""seldon_core.proto.prediction_pb2_grpc is seldon_graph.proto.prediction_pb2_grpc."""

import sys

from seldon_graph.proto import prediction_pb2_grpc

sys.modules[__name__] = prediction_pb2_grpc
