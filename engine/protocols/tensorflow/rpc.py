"""TensorFlow Serving over gRPC: the unit client and the engine's `tensorflow.serving.PredictionService`.

Predict requests and replies stay serialized: only `model_spec` is replaced per node and the response's `outputs`
map is renumbered into the next request's `inputs` map.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import grpc

from seldon_graph.engine.graph import Graph
from seldon_graph.engine.grpc_unit import GrpcUnit
from seldon_graph.engine.metrics import grpc_code_label
from seldon_graph.engine.protocols.tensorflow.bodies import PredictProto, model_name
from seldon_graph.engine.request_state import PUID_KEY, RequestState
from seldon_graph.engine.unit_errors import UnitError, grpc_code_of
from seldon_graph.errors import ENGINE_BAD_REQUEST, SeldonError
from seldon_graph.proto import tensorflow_serving_pb2 as pb

if TYPE_CHECKING:
    from seldon_graph.engine.unit_pool import CallContext

SERVICE = "tensorflow.serving.PredictionService"
PREDICT = f"/{SERVICE}/Predict"
log = logging.getLogger(__name__)


class TensorflowGrpcUnit(GrpcUnit):
    """A TensorFlow-Serving-compatible server reached over gRPC (Predict and GetModelMetadata only)."""

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

    async def call(self, step: str, body: bytes, context: CallContext) -> bytes:
        if step not in self.methods:
            raise UnitError(f"Unit '{self.node}': the TensorFlow gRPC API has no {step} call", 501, ENGINE_BAD_REQUEST)
        return await self._invoke(step, body, context.grpc_metadata())

    async def metadata(self) -> bytes:
        """The serialized GetModelMetadataResponse of this node's model."""
        return await self._invoke("metadata", self._metadata_request, ())

    async def status(self) -> bytes:
        return await self.metadata()


class PredictionService:
    """`tensorflow.serving.PredictionService` (Predict, GetModelMetadata) bound to a graph over gRPC units."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.metrics = graph.metrics

    def handler(self) -> grpc.GenericRpcHandler:
        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "Predict": grpc.unary_unary_rpc_method_handler(self.predict),
                "GetModelMetadata": grpc.unary_unary_rpc_method_handler(self.get_model_metadata),
            },
        )

    async def predict(self, raw: bytes, context: grpc.aio.ServicerContext) -> bytes:
        started, code = time.perf_counter(), grpc.StatusCode.OK
        metadata = tuple(context.invocation_metadata() or ())
        span = None
        try:
            request = RequestState(next((v for k, v in metadata if k == PUID_KEY), None), metadata)
            model = model_name(raw)
            if model:
                self.graph.node(model)
            if self.graph.tracer is not None:
                span = self.graph.tracer.begin_request(request, "Predict", "GRPC")
            result, _ = await self.graph.predict(PredictProto(raw), {}, request)
            return result.response()
        except SeldonError as exc:
            code = grpc_code_of(exc)
            await context.abort(code, exc.info)
        except Exception as exc:  # a bug must still answer with a status that says what happened
            log.exception("unexpected failure in Predict")
            code = grpc.StatusCode.INTERNAL
            await context.abort(code, f"Engine failure: {exc!r}")
        finally:
            if span is not None:
                self.graph.tracer.end(span, code.name, code != grpc.StatusCode.OK)
            if self.metrics is not None:
                self.metrics.server(PREDICT, "unary", grpc_code_label(code), time.perf_counter() - started)

    async def get_model_metadata(self, raw: bytes, context: grpc.aio.ServicerContext) -> bytes:
        try:
            node = self.graph.node(model_name(raw) or self.graph.root.name)
            if node.builtin:
                return pb.GetModelMetadataResponse(model_spec=pb.ModelSpec(name=node.name)).SerializeToString()
            return await self.graph.units[node].metadata()
        except SeldonError as exc:
            await context.abort(grpc_code_of(exc), exc.info)
