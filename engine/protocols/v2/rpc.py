"""V2 over gRPC: the unit client (`inference.GRPCInferenceService`) and the engine's external gRPC service.

ModelInfer requests and replies stay serialized: the engine renames fields between nodes (proto_fields), so
`raw_input_contents` / `raw_output_contents` and typed contents pass through as bytes.
"""

from __future__ import annotations

import grpc

from seldon_graph.engine.graph import Graph
from seldon_graph.engine.protocols import engine_version, proto_fields
from seldon_graph.engine.protocols.grpc_glue import PredictMethod, PredictOnlyUnit, ProtocolService, passed_through
from seldon_graph.engine.protocols.v2.bodies import MODEL_NAME, InferProto
from seldon_graph.proto import inference_pb2 as pb

SERVICE = "inference.GRPCInferenceService"
INFER = f"/{SERVICE}/ModelInfer"
MODEL_INFER = PredictMethod("ModelInfer", InferProto, lambda raw: proto_fields.string_field(raw, MODEL_NAME))


class V2GrpcUnit(PredictOnlyUnit):
    """A V2 server reached over gRPC. The protocol has no route or aggregate call over gRPC."""

    api = "V2"
    methods = {
        "predict": INFER,
        "transform-input": INFER,
        "transform-output": INFER,
        "metadata": f"/{SERVICE}/ModelMetadata",
        "ready": f"/{SERVICE}/ModelReady",
    }

    def __init__(self, node, channel: grpc.aio.Channel, timeout: float | None):  # noqa: ANN001 - a Node
        super().__init__(node, channel, timeout)
        self._by_name = pb.ModelMetadataRequest(name=node.name).SerializeToString()

    async def metadata(self) -> bytes:
        """The serialized ModelMetadataResponse of this node's model."""
        return await self._invoke("metadata", self._by_name, ())

    async def status(self) -> bytes:
        """The serialized ModelReadyResponse of this node's model."""
        return await self._invoke("ready", self._by_name, ())


class InferenceService(ProtocolService):
    """`inference.GRPCInferenceService` handlers bound to a graph walked over gRPC units."""

    def __init__(self, graph: Graph):
        super().__init__(graph, SERVICE)

    def handler(self) -> grpc.GenericRpcHandler:
        def typed(name, method, request_type):  # noqa: ANN001, ANN202
            return grpc.unary_unary_rpc_method_handler(
                self.served(name, method), request_type.FromString, passed_through
            )

        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "ModelInfer": grpc.unary_unary_rpc_method_handler(self.predict_handler(MODEL_INFER)),
                "ModelMetadata": typed("ModelMetadata", self.model_metadata, pb.ModelMetadataRequest),
                "ModelReady": typed("ModelReady", self.model_ready, pb.ModelReadyRequest),
                "ServerLive": typed("ServerLive", self.server_live, pb.ServerLiveRequest),
                "ServerReady": typed("ServerReady", self.server_ready, pb.ServerReadyRequest),
                "ServerMetadata": typed("ServerMetadata", self.server_metadata, pb.ServerMetadataRequest),
            },
        )

    async def model_metadata(self, request: pb.ModelMetadataRequest, context: grpc.aio.ServicerContext) -> bytes:
        return await self._node_call(request.name, metadata=True)

    async def model_ready(self, request: pb.ModelReadyRequest, context: grpc.aio.ServicerContext) -> bytes:
        return await self._node_call(request.name, metadata=False)

    async def _node_call(self, name: str, metadata: bool) -> bytes:
        node = self.graph.node(name or self.graph.root.name)
        if node.builtin:
            if metadata:
                return pb.ModelMetadataResponse(name=node.name, platform="seldon-graph").SerializeToString()
            return pb.ModelReadyResponse(ready=True).SerializeToString()
        unit = self.graph.units[node]
        return await (unit.metadata() if metadata else unit.status())

    async def server_live(self, request: pb.ServerLiveRequest, context: grpc.aio.ServicerContext) -> bytes:
        return pb.ServerLiveResponse(live=True).SerializeToString()

    async def server_ready(self, request: pb.ServerReadyRequest, context: grpc.aio.ServicerContext) -> bytes:
        return pb.ServerReadyResponse(ready=await self.graph.units.ready()).SerializeToString()

    async def server_metadata(self, request: pb.ServerMetadataRequest, context: grpc.aio.ServicerContext) -> bytes:
        reply = pb.ServerMetadataResponse(name="seldon-graph", version=engine_version())
        return reply.SerializeToString()
