"""The one interface the graph walk uses to reach a unit, whatever its transport, and the pool that makes them.

A unit client sends the body of one step (`predict`, `route`, …) and returns the reply: for the seldon protocol
JSON documents for REST units (`wire == "json"`), serialized protos for gRPC units (`wire == "proto"`); other
protocols make their own unit clients (protocols/). Connections are pooled per endpoint, so nodes served by the
same process share one keep-alive pool or channel.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any, Protocol

import grpc

from seldon_graph.engine.grpc_unit import open_channel
from seldon_graph.engine.http_client import HttpPool
from seldon_graph.engine.predictor import GRPC, Node, Predictor
from seldon_graph.engine.source import message_size, timeout_ms
from seldon_graph.labels import GRPC_MAX_MESSAGE_ANNOTATION, GRPC_TIMEOUT_ANNOTATION, REST_TIMEOUT_ANNOTATION

if TYPE_CHECKING:
    from seldon_graph.engine.protocols import WireProtocol

READY_TIMEOUT = 0.5


class CallContext(Protocol):
    """What a unit call needs from the request: headers to forward (REST) or metadata (gRPC)."""

    def rest_headers(self) -> bytes: ...

    def grpc_metadata(self) -> tuple[tuple[str, str], ...]: ...


class UnitClient(Protocol):
    node: str
    url: str
    wire: str

    async def call(self, step: str, body: Any, context: CallContext) -> Any:
        """The reply of `step`; a UnitError naming the node when the unit fails or cannot be reached."""

    def labels(self, step: str) -> tuple[str, str]:
        """The `service` and `method` metric labels of a call of `step` (as the Seldon executor names them)."""

    async def metadata(self) -> bytes:
        """The unit's model metadata as JSON bytes."""

    async def status(self) -> bytes:
        """The unit's health status as JSON bytes."""


class UnitLookup(Protocol):
    """What the graph walk and the gRPC services need of a pool: the client of a node, and whether every unit
    endpoint is up (a fake pool in the in-process walk tests)."""

    def __getitem__(self, node: Node) -> UnitClient: ...

    async def ready(self) -> bool: ...


class UnitPool:
    """Unit clients for every non-built-in node of a predictor, sharing connections per endpoint."""

    def __init__(self, predictor: Predictor, protocol: WireProtocol[Any] | None = None):
        if protocol is None:
            from seldon_graph.engine.protocols.seldon import SELDON

            protocol = SELDON
        annotations = predictor.annotations
        rest_timeout = timeout_ms(annotations, REST_TIMEOUT_ANNOTATION)
        grpc_timeout = timeout_ms(annotations, GRPC_TIMEOUT_ANNOTATION)
        max_message = message_size(annotations, GRPC_MAX_MESSAGE_ANNOTATION)
        self._pools: dict[tuple, HttpPool] = {}
        self._channels: dict[tuple, grpc.aio.Channel] = {}
        self.units: dict[str, UnitClient] = {}
        for node in predictor.nodes():
            if node.endpoint is None:
                continue
            key = (node.endpoint.host, node.endpoint.port)
            if node.endpoint.transport == GRPC:
                if key not in self._channels:
                    self._channels[key] = open_channel(node.endpoint, max_message)
                self.units[node.name] = protocol.grpc_unit(node, self._channels[key], grpc_timeout)
            else:
                if key not in self._pools:
                    self._pools[key] = HttpPool(*key)
                self.units[node.name] = protocol.rest_unit(node, self._pools[key], rest_timeout)
        self._endpoints = sorted({*self._pools, *self._channels})

    def __getitem__(self, node: Node) -> UnitClient:
        return self.units[node.name]

    async def ready(self) -> bool:
        """True when every unit endpoint accepts a TCP connection."""
        results = await asyncio.gather(*(_accepts(host, port) for host, port in self._endpoints))
        return all(results)

    async def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        for channel in self._channels.values():
            await channel.close()


async def _accepts(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), READY_TIMEOUT)
    except (TimeoutError, OSError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True
