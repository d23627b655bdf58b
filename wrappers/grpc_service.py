"""The gRPC side of a unit: Seldon v1's services (Generic, Model, Router, Transformer, OutputTransformer,
Combiner, Seldon) with the same semantics as REST; failures are gRPC statuses carrying the Seldon message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, NoReturn

import grpc
from google.protobuf import json_format

from seldon_graph import status_codes
from seldon_graph.errors import SeldonError
from seldon_graph.proto import prediction_pb2 as pb
from seldon_graph.proto import prediction_pb2_grpc as pbg
from seldon_graph.wrappers.encoding import to_seldon_message
from seldon_graph.wrappers.methods import UnitService, call_failure
from seldon_graph.wrappers.traces import UnitTracer

if TYPE_CHECKING:  # importing metrics imports prometheus_client, which must wait for the multiprocess directory
    from seldon_graph.wrappers.metrics import PrometheusSink

log = logging.getLogger(__name__)

GRPC_CODES = {status: grpc.StatusCode[name] for status, name in status_codes.HTTP_TO_GRPC.items()}
SERVICES = (
    pbg.add_GenericServicer_to_server,
    pbg.add_ModelServicer_to_server,
    pbg.add_RouterServicer_to_server,
    pbg.add_TransformerServicer_to_server,
    pbg.add_OutputTransformerServicer_to_server,
    pbg.add_CombinerServicer_to_server,
    pbg.add_SeldonServicer_to_server,
)


def grpc_code(error: SeldonError) -> grpc.StatusCode:
    """4xx → INVALID_ARGUMENT (or the closer code), anything else → UNKNOWN as the original's exceptions."""
    if error.status_code in GRPC_CODES:
        return GRPC_CODES[error.status_code]
    return grpc.StatusCode.INVALID_ARGUMENT if 400 <= error.status_code < 500 else grpc.StatusCode.UNKNOWN


class UnitServicer:
    """Every method of every Seldon service, over one UnitService."""

    def __init__(
        self,
        service: UnitService,
        metadata: dict | None,
        sink: PrometheusSink | None = None,
        tracer: UnitTracer | None = None,
    ):
        self.service = service
        self.tracer = tracer
        self.metadata = metadata
        self.sink = sink

    async def _call(self, name: str, request: Any, context: grpc.aio.ServicerContext) -> pb.SeldonMessage:
        started = time.perf_counter()
        tracer = self.tracer
        span = None if tracer is None else tracer.begin(name, "GRPC", context.invocation_metadata() or ())
        try:
            response = to_seldon_message(getattr(self.service, name)(request))
        except Exception as exc:
            error = call_failure(exc, name)
            status = grpc_code(error)
            self._observe(name, status.name, started)
            if tracer is not None:
                tracer.end(span, status.name, True)
            await context.abort(status, error.info)
        self._observe(name, "OK", started)
        if tracer is not None:
            tracer.end(span, "OK", False)
        return response

    def _observe(self, name: str, code: str, started: float) -> None:
        if self.sink is not None:
            self.sink.observe_request(name, "grpc", code, time.perf_counter() - started)

    async def Predict(self, request: pb.SeldonMessage, context: grpc.aio.ServicerContext) -> pb.SeldonMessage:
        return await self._call("predict", request, context)

    async def TransformInput(self, request: pb.SeldonMessage, context: grpc.aio.ServicerContext) -> pb.SeldonMessage:
        return await self._call("transform_input", request, context)

    async def TransformOutput(self, request: pb.SeldonMessage, context: grpc.aio.ServicerContext) -> pb.SeldonMessage:
        return await self._call("transform_output", request, context)

    async def Route(self, request: pb.SeldonMessage, context: grpc.aio.ServicerContext) -> pb.SeldonMessage:
        return await self._call("route", request, context)

    async def Aggregate(self, request: pb.SeldonMessageList, context: grpc.aio.ServicerContext) -> pb.SeldonMessage:
        return await self._call("aggregate", request, context)

    async def SendFeedback(self, request: pb.Feedback, context: grpc.aio.ServicerContext) -> pb.SeldonMessage:
        return await self._call("send_feedback", request, context)

    async def Metadata(self, request: Any, context: grpc.aio.ServicerContext) -> pb.SeldonModelMetadata:
        if self.metadata is None:
            await context.abort(grpc.StatusCode.INTERNAL, "Model metadata unavailable")
        return json_format.ParseDict(self.metadata, pb.SeldonModelMetadata(), ignore_unknown_fields=True)

    async def ModelMetadata(self, request: Any, context: grpc.aio.ServicerContext) -> pb.SeldonModelMetadata:
        return await self.Metadata(request, context)

    async def GraphMetadata(self, request: Any, context: grpc.aio.ServicerContext) -> NoReturn:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "GraphMetadata not available on the Model level.")


async def serve_grpc(
    service: UnitService,
    metadata: dict | None,
    sink: PrometheusSink | None,
    load: Callable[[], object],
    port: int,
    drain_timeout: float,
    stop_signal: Callable[[], Awaitable[asyncio.Event]],
    tracer: UnitTracer | None = None,
) -> int:
    """Load the model, serve gRPC on `port` until SIGTERM, drain, return the exit code."""
    stop = await stop_signal()
    try:
        await asyncio.get_running_loop().run_in_executor(None, load)
    except Exception:
        log.exception("load() failed, the gRPC server cannot serve")
        return 3
    server = grpc.aio.server(
        options=[
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", -1),
            ("grpc.max_send_message_length", -1),
        ]
    )
    servicer = UnitServicer(service, metadata, sink, tracer)
    for add in SERVICES:
        add(servicer, server)
    server.add_insecure_port(f"0.0.0.0:{port}")
    await server.start()
    log.info("gRPC server ready on port %d", port)
    await stop.wait()
    await server.stop(drain_timeout)
    return 0
