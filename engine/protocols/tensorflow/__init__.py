"""TensorFlow Serving's predict API (`tensorflow`): TF Serving and compatible servers as graph nodes.

Every node is called by its own name (`/v1/models/<node>:predict`, Predict with `model_spec.name=<node>`); a
node's `predictions` (gRPC: `outputs`) become the next node's `instances` (`inputs`); the client gets the last
node's reply. Feedback is not sent to units, as in Seldon's executor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
import orjson

from seldon_graph.engine.protocols.tensorflow.bodies import (
    PredictBody,
    PredictProto,
    checked_proto_reply,
    checked_reply,
)
from seldon_graph.engine.router_reply import route_from_reply

if TYPE_CHECKING:
    from seldon_graph.engine.graph import Graph
    from seldon_graph.engine.http_client import HttpPool
    from seldon_graph.engine.payload import FeedbackBody
    from seldon_graph.engine.predictor import Node
    from seldon_graph.engine.protocols import WireProtocol
    from seldon_graph.engine.request_state import RequestState
    from seldon_graph.engine.rest_server import RestServer
    from seldon_graph.engine.unit_pool import UnitClient, UnitPool

JSON_TYPE = "application/json"
PROTOBUF_TYPE = "application/protobuf"


class TensorflowProtocol:
    name = "tensorflow"
    builtins = frozenset({"RANDOM_ABTEST"})
    sends_feedback = False
    follows_client_transport = True

    def rest_unit(self, node: Node, pool: HttpPool, timeout: float | None) -> UnitClient:
        from seldon_graph.engine.protocols.tensorflow.rest import TensorflowRestUnit

        return TensorflowRestUnit(node, pool, timeout)

    def grpc_unit(self, node: Node, channel: grpc.aio.Channel, timeout: float | None) -> UnitClient:
        from seldon_graph.engine.protocols.tensorflow.rpc import TensorflowGrpcUnit

        return TensorflowGrpcUnit(node, channel, timeout)

    def unit_request(self, unit: UnitClient, message: PredictBody | PredictProto, request: RequestState) -> object:
        if isinstance(message, PredictProto):
            return message.request_for(unit.node)
        return message.as_request()

    def unit_reply(self, node: Node, unit: UnitClient, reply: bytes) -> tuple[PredictBody | PredictProto, dict]:
        if unit.wire == "json":
            return checked_reply(node.name, reply), {}
        return checked_proto_reply(node.name, reply), {}

    def aggregate_request(self, unit: UnitClient, messages: list, request: RequestState) -> PredictBody:
        """A JSON array of the children's outputs as predict requests (as the Seldon executor combines)."""
        if unit.wire != "json":
            from seldon_graph.engine.protocols.grpc_glue import no_grpc_call

            raise no_grpc_call("TensorFlow", unit.node, "aggregate")
        return PredictBody(b"[" + b",".join(message.as_request().document for message in messages) + b"]")

    def route_reply(self, node: Node, unit: UnitClient, reply: bytes) -> tuple[int, dict]:
        """The route is the first value of the router's `predictions`."""
        body = checked_reply(node.name, reply)
        try:
            predictions = orjson.loads(body.document).get(body.reply_key or "instances")
        except (orjson.JSONDecodeError, AttributeError):
            predictions = None
        return route_from_reply(node.name, predictions if isinstance(predictions, list) else []), {}

    def feedback_request(self, unit: UnitClient, feedback: FeedbackBody) -> bytes:
        return feedback.json()

    def log_body(self, message: PredictBody | PredictProto, request: RequestState) -> tuple[bytes, str]:
        if isinstance(message, PredictProto):
            return message.raw, PROTOBUF_TYPE
        return message.document, JSON_TYPE

    def rest_server(self, graph: Graph, units: UnitPool, **options: str) -> RestServer:
        from seldon_graph.engine.protocols.tensorflow.rest import TensorflowRestServer

        return TensorflowRestServer(graph, units, **options)

    def grpc_handlers(self, graph: Graph | None) -> list[grpc.GenericRpcHandler]:
        from seldon_graph.engine.protocols.tensorflow.rpc import PredictionService

        return [] if graph is None else [PredictionService(graph).handler()]


TENSORFLOW: WireProtocol[PredictBody | PredictProto] = TensorflowProtocol()
