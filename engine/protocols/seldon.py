"""The `seldon` protocol: SeldonMessages whose `meta` the engine merges and whose `data` passes through undecoded.

Units are called at `/<step>` (REST, JSON documents) or on the `seldon.protos` services (gRPC, serialized
protos); the walk's output is the last node's message with the merged meta (graph.Graph.response_meta).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc

from seldon_graph.engine.grpc_unit import GrpcUnit
from seldon_graph.engine.payload import FeedbackBody, Payload, message_list_json, message_list_proto
from seldon_graph.engine.predictor import BUILTIN_STEPS, Node
from seldon_graph.engine.rest_unit import RestUnit
from seldon_graph.engine.router_reply import decode_reply, route_from_reply
from seldon_graph.engine.unit_errors import UnitError
from seldon_graph.errors import INTERNAL_ERROR, SeldonError

if TYPE_CHECKING:
    from seldon_graph.engine.graph import Graph
    from seldon_graph.engine.http_client import HttpPool
    from seldon_graph.engine.protocols import WireProtocol
    from seldon_graph.engine.request_state import RequestState
    from seldon_graph.engine.rest_server import RestServer
    from seldon_graph.engine.unit_pool import UnitClient, UnitPool

JSON = "json"
JSON_TYPE = "application/json"


class SeldonProtocol:
    name = "seldon"
    builtins = frozenset(BUILTIN_STEPS)
    sends_feedback = True
    follows_client_transport = False

    def rest_unit(self, node: Node, pool: HttpPool, timeout: float | None) -> UnitClient:
        return RestUnit(node, pool, timeout)

    def grpc_unit(self, node: Node, channel: grpc.aio.Channel, timeout: float | None) -> UnitClient:
        return GrpcUnit(node, channel, timeout)

    def unit_request(self, unit: UnitClient, message: Payload, request: RequestState) -> bytes:
        meta = {"puid": request.puid, "tags": message.tags} if message.tags else {"puid": request.puid}
        return message.json_body(meta) if unit.wire == JSON else message.proto_body(meta)

    def unit_reply(self, node: Node, unit: UnitClient, reply: bytes) -> tuple[Payload, dict]:
        try:
            return Payload.from_json(reply) if unit.wire == JSON else Payload.from_proto(reply)
        except SeldonError as exc:
            raise UnitError(f"Unit '{node.name}' sent an unreadable reply: {exc.info}", 500, INTERNAL_ERROR) from exc

    def aggregate_request(self, unit: UnitClient, messages: list[Payload], request: RequestState) -> bytes:
        bodies = [self.unit_request(unit, message, request) for message in messages]
        return message_list_json(bodies) if unit.wire == JSON else message_list_proto(bodies)

    def route_reply(self, node: Node, unit: UnitClient, reply: bytes) -> tuple[int, dict]:
        decoded = decode_reply(node.name, unit.wire, reply)
        meta = decoded.get("meta") if isinstance(decoded, dict) else None
        return route_from_reply(node.name, decoded), meta if isinstance(meta, dict) else {}

    def feedback_request(self, unit: UnitClient, feedback: FeedbackBody) -> bytes:
        return feedback.json() if unit.wire == JSON else feedback.proto()

    def log_body(self, message: Payload, request: RequestState) -> tuple[bytes, str]:
        return message.json_body({"puid": request.puid, "tags": message.tags}), JSON_TYPE

    def rest_server(self, graph: Graph, units: UnitPool, **options: str) -> RestServer:
        from seldon_graph.engine.rest_server import RestServer  # the server module imports the graph

        return RestServer(graph, units, **options)

    def grpc_handlers(self, graph: Graph | None) -> list[grpc.GenericRpcHandler]:
        from seldon_graph.engine.grpc_server import SeldonService  # the server module imports the graph

        return [] if graph is None else [SeldonService(graph).handler()]


SELDON: WireProtocol[Payload] = SeldonProtocol()
