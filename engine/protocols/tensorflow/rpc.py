"""TensorFlow Serving over gRPC: the unit client and the engine's `tensorflow.serving.PredictionService`.

Predict requests and replies stay serialized: only `model_spec` is replaced per node and the response's `outputs`
map is renumbered into the next request's `inputs` map.
"""

from __future__ import annotations

import grpc

from seldon_graph.engine.graph import Graph
from seldon_graph.engine.protocols.grpc_glue import PredictMethod, PredictOnlyUnit, ProtocolService
from seldon_graph.engine.protocols.tensorflow.bodies import PredictProto, model_name
from seldon_graph.proto import tensorflow_serving_pb2 as pb

SERVICE = "tensorflow.serving.PredictionService"
PREDICT = f"/{SERVICE}/Predict"
PREDICT_METHOD = PredictMethod("Predict", PredictProto, model_name)


class TensorflowGrpcUnit(PredictOnlyUnit):
    """A TensorFlow-Serving-compatible server reached over gRPC (Predict and GetModelMetadata only)."""

    api = "TensorFlow"
    methods = {
        "predict": PREDICT,
        "transform-input": PREDICT,
        "transform-output": PREDICT,
        "metadata": f"/{SERVICE}/GetModelMetadata",
    }

    def __init__(self, node, channel: grpc.aio.Channel, timeout: float | None):  # noqa: ANN001 - a Node
        super().__init__(node, channel, timeout)
        spec = pb.ModelSpec(name=node.name)
        self._metadata_request = pb.GetModelMetadataRequest(
            model_spec=spec, metadata_field=["signature_def"]
        ).SerializeToString()

    async def metadata(self) -> bytes:
        """The serialized GetModelMetadataResponse of this node's model."""
        return await self._invoke("metadata", self._metadata_request, ())

    async def status(self) -> bytes:
        return await self.metadata()


class PredictionService(ProtocolService):
    """`tensorflow.serving.PredictionService` (Predict, GetModelMetadata) bound to a graph over gRPC units."""

    def __init__(self, graph: Graph):
        super().__init__(graph, SERVICE)

    def handler(self) -> grpc.GenericRpcHandler:
        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "Predict": grpc.unary_unary_rpc_method_handler(self.predict_handler(PREDICT_METHOD)),
                "GetModelMetadata": grpc.unary_unary_rpc_method_handler(
                    self.served("GetModelMetadata", self.get_model_metadata)
                ),
            },
        )

    async def get_model_metadata(self, raw: bytes, context: grpc.aio.ServicerContext) -> bytes:
        node = self.graph.node(model_name(raw) or self.graph.root.name)
        if node.builtin:
            return pb.GetModelMetadataResponse(model_spec=pb.ModelSpec(name=node.name)).SerializeToString()
        return await self.graph.units[node].metadata()
