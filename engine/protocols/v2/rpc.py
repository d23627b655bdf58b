"""V2 over gRPC: the unit client (`inference.GRPCInferenceService`) and the engine's external gRPC service.

ModelInfer requests and replies stay serialized: the engine renames fields between nodes (proto_fields), so
`raw_input_contents` / `raw_output_contents` and typed contents pass through as bytes.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import grpc

from seldon_graph.engine.graph import Graph
from seldon_graph.engine.grpc_unit import GrpcUnit
from seldon_graph.engine.metrics import grpc_code_label
from seldon_graph.engine.protocols import engine_version, proto_fields
from seldon_graph.engine.protocols.v2.bodies import MODEL_NAME, InferProto
from seldon_graph.engine.request_state import PUID_KEY, RequestState
from seldon_graph.engine.unit_errors import UnitError, grpc_code_of
from seldon_graph.errors import ENGINE_BAD_REQUEST, SeldonError
from seldon_graph.proto import inference_pb2 as pb

if TYPE_CHECKING:
    from seldon_graph.engine.unit_pool import CallContext

SERVICE = "inference.GRPCInferenceService"
INFER = f"/{SERVICE}/ModelInfer"
log = logging.getLogger(__name__)


class V2GrpcUnit(GrpcUnit):
    """A V2 server reached over gRPC. The protocol has no route or aggregate call over gRPC."""

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

    async def call(self, step: str, body: bytes, context: CallContext) -> bytes:
        if step not in self.methods:
            raise UnitError(f"Unit '{self.node}': the V2 gRPC API has no {step} call", 501, ENGINE_BAD_REQUEST)
        return await self._invoke(step, body, context.grpc_metadata())

    async def metadata(self) -> bytes:
        """The serialized ModelMetadataResponse of this node's model."""
        return await self._invoke("metadata", self._by_name, ())

    async def status(self) -> bytes:
        """The serialized ModelReadyResponse of this node's model."""
        return await self._invoke("ready", self._by_name, ())


class InferenceService:
    """`inference.GRPCInferenceService` handlers bound to a graph walked over gRPC units."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.metrics = graph.metrics

    def handler(self) -> grpc.GenericRpcHandler:
        def typed(method, request_type):  # noqa: ANN001, ANN202
            return grpc.unary_unary_rpc_method_handler(method, request_type.FromString, _serialize)

        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "ModelInfer": grpc.unary_unary_rpc_method_handler(self.model_infer),
                "ModelMetadata": typed(self.model_metadata, pb.ModelMetadataRequest),
                "ModelReady": typed(self.model_ready, pb.ModelReadyRequest),
                "ServerLive": typed(self.server_live, pb.ServerLiveRequest),
                "ServerReady": typed(self.server_ready, pb.ServerReadyRequest),
                "ServerMetadata": typed(self.server_metadata, pb.ServerMetadataRequest),
            },
        )

    async def model_infer(self, raw: bytes, context: grpc.aio.ServicerContext) -> bytes:
        started, code = time.perf_counter(), grpc.StatusCode.OK
        metadata = tuple(context.invocation_metadata() or ())
        span = None
        try:
            request = RequestState(_puid(metadata), metadata)
            await context.send_initial_metadata(((PUID_KEY, request.puid),))
            model = proto_fields.string_field(raw, MODEL_NAME)
            if model:
                self.graph.node(model)
            if self.graph.tracer is not None:
                span = self.graph.tracer.begin_request(request, "ModelInfer", "GRPC")
            result, _ = await self.graph.predict(InferProto(raw), {}, request)
            return result.response()
        except SeldonError as exc:
            code = grpc_code_of(exc)
            await context.abort(code, exc.info)
        except Exception as exc:  # a bug must still answer with a status that says what happened
            log.exception("unexpected failure in ModelInfer")
            code = grpc.StatusCode.INTERNAL
            await context.abort(code, f"Engine failure: {exc!r}")
        finally:
            if span is not None:
                self.graph.tracer.end(span, code.name, code != grpc.StatusCode.OK)
            self._observe("ModelInfer", code, started)

    async def model_metadata(self, request: pb.ModelMetadataRequest, context: grpc.aio.ServicerContext) -> bytes:
        return await self._node_call(request.name, context, metadata=True)

    async def model_ready(self, request: pb.ModelReadyRequest, context: grpc.aio.ServicerContext) -> bytes:
        return await self._node_call(request.name, context, metadata=False)

    async def _node_call(self, name: str, context: grpc.aio.ServicerContext, metadata: bool) -> bytes:
        try:
            node = self.graph.node(name or self.graph.root.name)
            if node.builtin:
                if metadata:
                    return pb.ModelMetadataResponse(name=node.name, platform="seldon-graph").SerializeToString()
                return pb.ModelReadyResponse(ready=True).SerializeToString()
            unit = self.graph.units[node]
            return await (unit.metadata() if metadata else unit.status())
        except SeldonError as exc:
            await context.abort(grpc_code_of(exc), exc.info)

    async def server_live(self, request: pb.ServerLiveRequest, context: grpc.aio.ServicerContext) -> bytes:
        return pb.ServerLiveResponse(live=True).SerializeToString()

    async def server_ready(self, request: pb.ServerReadyRequest, context: grpc.aio.ServicerContext) -> bytes:
        return pb.ServerReadyResponse(ready=await self.graph.units.ready()).SerializeToString()

    async def server_metadata(self, request: pb.ServerMetadataRequest, context: grpc.aio.ServicerContext) -> bytes:
        reply = pb.ServerMetadataResponse(name="seldon-graph", version=engine_version())
        return reply.SerializeToString()

    def _observe(self, method: str, code: grpc.StatusCode, started: float) -> None:
        if self.metrics is not None:
            self.metrics.server(f"/{SERVICE}/{method}", "unary", grpc_code_label(code), time.perf_counter() - started)


def _serialize(reply: bytes) -> bytes:
    return reply


def _puid(metadata: tuple) -> str | None:
    return next((value for key, value in metadata if key == PUID_KEY), None)
