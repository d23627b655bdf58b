"""The engine's external gRPC API: `seldon.protos.Seldon` (Predict, SendFeedback, ModelMetadata, GraphMetadata).

Predict and SendFeedback take and return serialized bytes (no proto objects on the hot path); the puid comes
from the message's meta or the `seldon-puid` metadata and goes back in the `seldon-puid` response header. A gRPC
unit's own status reaches the client as the unit sent it, with the failing node in the `seldon-failed-node`
trailing metadata (decision 6).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import NoReturn

import grpc
import orjson
from google.protobuf import empty_pb2, json_format

from seldon_graph.engine import timing
from seldon_graph.engine.graph import Graph
from seldon_graph.engine.metrics import grpc_code_label
from seldon_graph.engine.payload import FeedbackBody, Payload
from seldon_graph.engine.request_state import PUID_KEY, RequestState
from seldon_graph.engine.unit_errors import FAILED_NODE_KEY, failed_node, grpc_code_of, grpc_details
from seldon_graph.errors import SeldonError
from seldon_graph.proto import prediction_pb2 as pb

SERVICE = "seldon.protos.Seldon"
log = logging.getLogger(__name__)


class SeldonService:
    """gRPC handlers bound to one graph."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.metrics = graph.metrics
        self.timing_by_default = timing.wanted({}, graph.predictor.annotations)

    def handler(self) -> grpc.GenericRpcHandler:
        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "Predict": grpc.unary_unary_rpc_method_handler(self.predict),
                "SendFeedback": grpc.unary_unary_rpc_method_handler(self.send_feedback),
                "ModelMetadata": grpc.unary_unary_rpc_method_handler(
                    self.model_metadata,
                    pb.SeldonModelMetadataRequest.FromString,
                    pb.SeldonModelMetadata.SerializeToString,
                ),
                "GraphMetadata": grpc.unary_unary_rpc_method_handler(
                    self.graph_metadata, empty_pb2.Empty.FromString, pb.SeldonGraphMetadata.SerializeToString
                ),
            },
        )

    async def predict(self, raw: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return await self._serve("Predict", self._predict, raw, context)

    async def send_feedback(self, raw: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return await self._serve("SendFeedback", self._send_feedback, raw, context)

    async def _predict(self, raw: bytes, metadata: tuple, context: grpc.aio.ServicerContext) -> bytes:
        started = time.perf_counter()
        message, meta = Payload.from_proto(raw)
        request = RequestState(meta.get("puid") or _puid(metadata), metadata)
        asked = dict(metadata) if any(key == timing.TIMING_HEADER for key, _ in metadata) else {}
        if asked or self.timing_by_default:
            request.timings = {} if timing.wanted(asked, self.graph.predictor.annotations) else None
        await context.send_initial_metadata(((PUID_KEY, request.puid),))
        span = None if self.graph.tracer is None else self.graph.tracer.begin_request(request, "Predict", "GRPC")
        status = "OK"
        try:
            result, response_meta = await self.graph.predict(message, meta, request)
        except SeldonError as exc:
            status = grpc_code_of(exc).name
            raise
        finally:
            if span is not None:
                assert self.graph.tracer is not None, "the span is the tracer's"
                self.graph.tracer.end(span, status, status != "OK")
        if request.timings is not None:
            if timing.in_meta(asked):
                response_meta.setdefault("metrics", []).extend(timing.timer_metrics(request.timings))
            elapsed = time.perf_counter() - started
            context.set_trailing_metadata(
                ((timing.SERVER_TIMING.lower(), timing.server_timing(request.timings, elapsed)),)
            )
        return result.proto_body(response_meta)

    async def _send_feedback(self, raw: bytes, metadata: tuple, context: grpc.aio.ServicerContext) -> bytes:
        feedback = FeedbackBody.from_proto(raw)
        request = RequestState(_puid(metadata) or feedback.puid, metadata)
        await context.send_initial_metadata(((PUID_KEY, request.puid),))
        span = None if self.graph.tracer is None else self.graph.tracer.begin_request(request, "SendFeedback", "GRPC")
        status = "OK"
        try:
            reply = await self.graph.feedback(feedback, request)
        except SeldonError as exc:
            status = grpc_code_of(exc).name
            raise
        finally:
            if span is not None:
                assert self.graph.tracer is not None, "the span is the tracer's"
                self.graph.tracer.end(span, status, status != "OK")
        return reply.proto_body({"puid": request.puid})

    async def _serve(
        self,
        method: str,
        handle: Callable[[bytes, tuple, grpc.aio.ServicerContext], Awaitable[bytes]],
        raw: bytes,
        context: grpc.aio.ServicerContext,
    ) -> bytes:
        """Run one Predict/SendFeedback call: failures become gRPC statuses, every call is observed."""
        started, code = time.perf_counter(), grpc.StatusCode.OK
        try:
            return await handle(raw, tuple(context.invocation_metadata() or ()), context)
        except SeldonError as exc:
            code = grpc_code_of(exc)
            await abort_with(context, exc)
        except Exception as exc:  # a bug must still answer with a status that says what happened
            log.exception("unexpected failure in %s", method)
            code = grpc.StatusCode.INTERNAL
            await context.abort(code, f"Engine failure: {exc!r}")
        finally:
            self._observe(method, code, started)

    async def model_metadata(
        self, request: pb.SeldonModelMetadataRequest, context: grpc.aio.ServicerContext
    ) -> pb.SeldonModelMetadata:
        started, code = time.perf_counter(), grpc.StatusCode.OK
        name = request.name or self.graph.root.name
        try:
            raw = await self.graph.node_metadata(name)
            return json_format.ParseDict(orjson.loads(raw), pb.SeldonModelMetadata(), ignore_unknown_fields=True)
        except SeldonError as exc:
            code = grpc_code_of(exc)
            await abort_with(context, exc)
        except (json_format.ParseError, orjson.JSONDecodeError) as exc:
            code = grpc.StatusCode.INTERNAL
            await context.abort(code, f"Node '{name}' metadata is not valid: {exc}")
        finally:
            self._observe("ModelMetadata", code, started)

    async def graph_metadata(
        self, request: empty_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> pb.SeldonGraphMetadata:
        started, code = time.perf_counter(), grpc.StatusCode.OK
        try:
            described = await self.graph.graph_metadata()
        except SeldonError as exc:
            code = grpc_code_of(exc)
            await abort_with(context, exc)
        finally:
            self._observe("GraphMetadata", code, started)
        reply = pb.SeldonGraphMetadata(name=described["name"])
        for name, model in described["models"].items():
            json_format.ParseDict(model, reply.models[name], ignore_unknown_fields=True)
        for field, key in (("inputs", "graphinputs"), ("outputs", "graphoutputs")):
            edges = described.get(key)
            if isinstance(edges, list):
                json_format.ParseDict({field: edges}, reply, ignore_unknown_fields=True)
        return reply

    def _observe(self, method: str, code: grpc.StatusCode, started: float) -> None:
        if self.metrics is not None:
            self.metrics.server(f"/{SERVICE}/{method}", "unary", grpc_code_label(code), time.perf_counter() - started)


async def abort_with(context: grpc.aio.ServicerContext, error: SeldonError, verbatim: bool = True) -> NoReturn:
    """End the call with `error`'s status; a unit's failure names its node in the trailing metadata and the log.
    The details are a gRPC unit's own (`verbatim`) or the engine's text naming the node (the V2 and TensorFlow
    APIs)."""
    node = failed_node(error)
    trailers: tuple = ()
    if node:
        log.warning("node %s failed with %s: %s", node, grpc_code_of(error).name, error.info)
        trailers = ((FAILED_NODE_KEY, node),)
    await context.abort(grpc_code_of(error), grpc_details(error) if verbatim else error.info, trailers)


def _puid(metadata: tuple) -> str | None:
    return next((value for key, value in metadata if key == PUID_KEY), None)
