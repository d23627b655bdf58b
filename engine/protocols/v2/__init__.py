"""The Open Inference Protocol (V2, `kfserving`): MLServer, Triton and KServe model servers as graph nodes.

Every node is called by its own name (`/v2/models/<node>/infer`, ModelInfer with `model_name=<node>`); a node's
reply is chained to the next node by turning its `outputs` into `inputs`; the client gets the last node's reply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
import orjson

from seldon_graph.engine.protocols.v2.bodies import (
    InferBody,
    InferProto,
    checked_proto_reply,
    checked_reply,
)
from seldon_graph.engine.router_reply import route_from_reply
from seldon_graph.errors import BAD_DATA, SeldonError

if TYPE_CHECKING:
    from seldon_graph.engine.graph import Graph
    from seldon_graph.engine.http_client import HttpPool
    from seldon_graph.engine.payload import FeedbackBody
    from seldon_graph.engine.predictor import Node
    from seldon_graph.engine.protocols import WireProtocol
    from seldon_graph.engine.request_state import RequestState
    from seldon_graph.engine.rest_server import RestServer
    from seldon_graph.engine.unit_pool import UnitClient, UnitPool

PROTOBUF_TYPE = "application/protobuf"


class V2Protocol:
    name = "v2"
    builtins = frozenset({"RANDOM_ABTEST"})
    sends_feedback = False
    follows_client_transport = True

    def rest_unit(self, node: Node, pool: HttpPool, timeout: float | None) -> UnitClient:
        from seldon_graph.engine.protocols.v2.rest import V2RestUnit

        return V2RestUnit(node, pool, timeout)

    def grpc_unit(self, node: Node, channel: grpc.aio.Channel, timeout: float | None) -> UnitClient:
        from seldon_graph.engine.protocols.v2.rpc import V2GrpcUnit

        return V2GrpcUnit(node, channel, timeout)

    def unit_request(self, unit: UnitClient, message: InferBody | InferProto, request: RequestState) -> object:
        if isinstance(message, InferProto):
            return message.request_for(unit.node)
        return message.as_request()

    def unit_reply(self, node: Node, unit: UnitClient, reply: InferBody | bytes) -> tuple[InferBody | InferProto, dict]:
        if isinstance(reply, InferBody):
            return checked_reply(node.name, reply), {}
        return checked_proto_reply(node.name, reply), {}

    def aggregate_request(self, unit: UnitClient, messages: list, request: RequestState) -> InferBody:
        """A JSON array of the children's outputs as inference requests (as the Seldon executor combines)."""
        if unit.wire != "json":
            from seldon_graph.engine.protocols.grpc_glue import no_grpc_call

            raise no_grpc_call("V2", unit.node, "aggregate")
        bodies = [message.as_request() for message in messages]
        if any(body.binary for body in bodies):
            raise SeldonError(f"Combiner '{unit.node}' cannot aggregate binary tensor data", 400, BAD_DATA)
        return InferBody(b"[" + b",".join(body.document for body in bodies) + b"]")

    def route_reply(self, node: Node, unit: UnitClient, reply: InferBody) -> tuple[int, dict]:
        """The route is the first value of the router's first output tensor."""
        checked_reply(node.name, reply)
        try:
            outputs = orjson.loads(reply.document).get("outputs") or [{}]
        except (orjson.JSONDecodeError, AttributeError):
            outputs = [{}]
        data = outputs[0].get("data") if isinstance(outputs[0], dict) else None
        return route_from_reply(node.name, data if isinstance(data, list) else []), {}

    def feedback_request(self, unit: UnitClient, feedback: FeedbackBody) -> bytes:
        return feedback.json()

    def log_body(self, message: InferBody | InferProto, request: RequestState) -> tuple[bytes, str]:
        if isinstance(message, InferProto):
            return message.raw, PROTOBUF_TYPE
        wire = message.wire()
        return wire.joined(), wire.content_type

    def rest_server(self, graph: Graph, units: UnitPool, **options: str) -> RestServer:
        from seldon_graph.engine.protocols.v2.rest import V2RestServer

        return V2RestServer(graph, units, **options)

    def grpc_handlers(self, graph: Graph | None) -> list[grpc.GenericRpcHandler]:
        from seldon_graph.engine.protocols.v2.rpc import InferenceService

        return [] if graph is None else [InferenceService(graph).handler()]


V2: WireProtocol[InferBody | InferProto] = V2Protocol()
