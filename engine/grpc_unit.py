"""Calling a unit over gRPC (`seldon.protos` services) with serialized messages passed through as bytes.

The engine never builds proto objects for the hot path: requests and replies stay serialized, so the unit's
`data` is not decoded here either.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import grpc
import orjson
from google.protobuf import json_format

from seldon_graph.engine.predictor import Node, UnitAddress
from seldon_graph.engine.unit_errors import from_grpc_error
from seldon_graph.proto import prediction_pb2 as pb

if TYPE_CHECKING:
    from seldon_graph.engine.unit_pool import CallContext

STEP_METHODS = {
    "predict": "/seldon.protos.Model/Predict",
    "transform-input": "/seldon.protos.Transformer/TransformInput",
    "transform-output": "/seldon.protos.OutputTransformer/TransformOutput",
    "route": "/seldon.protos.Router/Route",
    "aggregate": "/seldon.protos.Combiner/Aggregate",
    "send-feedback": "/seldon.protos.Model/SendFeedback",
    "metadata": "/seldon.protos.Model/Metadata",
}
UNAVAILABLE_BACKOFF = (0.02, 0.1, 0.3)


def open_channel(address: UnitAddress, max_message: int = -1) -> grpc.aio.Channel:
    """One channel (HTTP/2 connection) for one unit endpoint."""
    options = [("grpc.max_send_message_length", max_message), ("grpc.max_receive_message_length", max_message)]
    return grpc.aio.insecure_channel(address.url, options=options)


class GrpcUnit:
    wire = "proto"
    methods = STEP_METHODS  # step → full gRPC method; other protocols' units replace the table

    def __init__(self, node: Node, channel: grpc.aio.Channel, timeout: float | None):
        assert node.endpoint is not None, "unit clients are made for nodes with an endpoint"
        self.node = node.name
        self.url = f"grpc://{node.endpoint.url}"
        self.timeout = timeout
        self._methods: dict[str, grpc.aio.UnaryUnaryMultiCallable[bytes, bytes]] = {
            step: channel.unary_unary(path) for step, path in self.methods.items()
        }

    async def call(self, step: str, body: bytes, context: CallContext) -> bytes:
        return await self._invoke(step, body, context.grpc_metadata())

    def labels(self, step: str) -> tuple[str, str]:
        return self.methods[step], "unary"

    async def metadata(self) -> bytes:
        raw = await self._invoke("metadata", b"", ())
        return orjson.dumps(json_format.MessageToDict(pb.SeldonModelMetadata.FromString(raw)))

    async def status(self) -> bytes:
        """gRPC units have no status call; a unit that answers Metadata is healthy."""
        await self._invoke("metadata", b"", ())
        return b'{"strData":"healthy"}'

    async def _invoke(self, step: str, body: bytes, metadata: tuple) -> bytes:
        attempt = 0
        while True:
            try:
                return await self._methods[step](body, timeout=self.timeout, metadata=metadata)
            except grpc.aio.AioRpcError as exc:
                if exc.code() != grpc.StatusCode.UNAVAILABLE or attempt == len(UNAVAILABLE_BACKOFF):
                    raise from_grpc_error(self.node, self.url, step, exc, self.timeout) from exc
                await asyncio.sleep(UNAVAILABLE_BACKOFF[attempt])
                attempt += 1
