"""The prediction protocols the engine speaks, each behind the one interface the graph walk uses.

A protocol decides what a message in flight is, how a unit is called with it (REST path or gRPC method, body
framing), how a unit's reply becomes the next node's input, and what its external REST and gRPC APIs look like.
The graph walk (graph.py) knows none of that. Adding a protocol is a new module here plus one line in PROTOCOLS.

  seldon.py       SeldonMessage (the default; meta merged, data passed through)
  v2/             the Open Inference Protocol (`v2`, alias `kfserving`): MLServer, Triton
  tensorflow/     TensorFlow Serving's REST and gRPC predict APIs
"""

from __future__ import annotations

from importlib import metadata
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    import grpc

    from seldon_graph.engine.graph import Graph
    from seldon_graph.engine.http_client import HttpPool
    from seldon_graph.engine.payload import FeedbackBody
    from seldon_graph.engine.predictor import Node
    from seldon_graph.engine.request_state import RequestState
    from seldon_graph.engine.rest_server import RestServer
    from seldon_graph.engine.unit_pool import UnitClient, UnitPool


class Message(Protocol):
    """A message in flight between nodes. Only the seldon protocol has tags; the others keep an empty dict."""

    tags: dict


class RpcMessage(Message, Protocol):
    """A request of a protocol's own gRPC API (V2, TensorFlow): the walk's result renders the call's response."""

    def response(self) -> bytes:
        """The serialized response message of the gRPC call."""


M = TypeVar("M", bound=Message)


class WireProtocol(Protocol[M]):
    """What the graph walk, the unit pool and the engine's servers need from a protocol whose messages are `M`.

    A unit's reply (`reply`) is whatever that protocol's own unit clients return (UnitClient.call)."""

    name: str
    builtins: frozenset[str]  # the built-in implementations whose in-process steps understand its messages
    sends_feedback: bool  # whether feedback reaches units (Seldon's executor drops it for the other protocols)
    # True: a request that came over REST is walked over the units' REST ports and one over gRPC over their gRPC
    # ports (the executor's rule for V2/TensorFlow); False: each node's endpoint.type decides (seldon).
    follows_client_transport: bool

    def rest_unit(self, node: Node, pool: HttpPool, timeout: float | None) -> UnitClient: ...

    def grpc_unit(self, node: Node, channel: grpc.aio.Channel, timeout: float | None) -> UnitClient: ...

    def unit_request(self, unit: UnitClient, message: M, request: RequestState) -> object:
        """The body of a transform/predict/route call of `unit` with `message`."""

    def unit_reply(self, node: Node, unit: UnitClient, reply: Any) -> tuple[M, dict]:
        """The node's output and the meta to collect (custom metrics) from a unit's reply; a UnitError naming the
        node when the reply cannot be used as the next node's input."""

    def aggregate_request(self, unit: UnitClient, messages: list[M], request: RequestState) -> object:
        """The body of an aggregate call with the children's outputs, in child order."""

    def route_reply(self, node: Node, unit: UnitClient, reply: Any) -> tuple[int, dict]:
        """The child index a router's reply chose, and the meta to collect."""

    def feedback_request(self, unit: UnitClient, feedback: FeedbackBody) -> object: ...

    def log_body(self, message: M, request: RequestState) -> tuple[bytes, str]:
        """The bytes and content type of a request-log CloudEvent for `message`."""

    def rest_server(self, graph: Graph, units: UnitPool, **options: str) -> RestServer:
        """The external REST API of a graph walked over REST units."""

    def grpc_handlers(self, graph: Graph | None) -> list[grpc.GenericRpcHandler]:
        """The external gRPC services of a graph walked over gRPC units (None: the graph has no gRPC units)."""


def protocol_named(name: str) -> WireProtocol[Any]:
    """The protocol of `--protocol` / `spec.protocol` (`kfserving` is V2's old name); ValueError when unknown."""
    from seldon_graph.engine.protocols import seldon, tensorflow, v2

    protocols: dict[str, WireProtocol[Any]] = {
        "seldon": seldon.SELDON,
        "v2": v2.V2,
        "kfserving": v2.V2,
        "tensorflow": tensorflow.TENSORFLOW,
    }
    try:
        return protocols[(name or "seldon").lower()]
    except KeyError:
        raise ValueError(f"unknown protocol {name!r}; valid are {', '.join(protocols)}") from None


def engine_version() -> str:
    """The installed seldon-graph version (server metadata of the V2 API)."""
    try:
        return metadata.version("seldon-graph")
    except metadata.PackageNotFoundError:
        return ""
