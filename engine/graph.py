"""The graph walk: how one prediction, feedback or metadata request travels through the PredictiveUnit tree.

For every node, in this order (predictor.TYPE_STEPS says which steps a node type performs):
  1. TRANSFORM_INPUT  – `/predict` for a MODEL, `/transform-input` otherwise; its output feeds the children;
  2. ROUTE            – pick the children: N = child N, -1 = all (concurrently), -2 = none; recorded in routing;
  3. children         – each walked with the same input; a node with no children skips 2–4;
  4. AGGREGATE        – combine the children's outputs, in child order; without it child 0's output is kept;
  5. TRANSFORM_OUTPUT – post-process the result (also after a -2 route, and for a leaf).
Built-in implementations (builtins.py) perform their step in-process; every other step is a unit call.

What a message is and how a unit is called with it belongs to the graph's protocol (protocols/): the walk hands
a node's input to `protocol.unit_request` and the unit's reply to `protocol.unit_reply`. For the seldon protocol
`meta` is merged here (puid, tags, routing, requestPath, metrics) and everything else passes between units as
undecoded bytes; V2 and TensorFlow bodies pass through whole, chained from one node's outputs to the next's inputs.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, SupportsInt

import orjson

from seldon_graph.engine import builtins
from seldon_graph.engine.metrics import EngineMetrics, unit_call_code
from seldon_graph.engine.payload import FeedbackBody, Payload
from seldon_graph.engine.predictor import (
    AGGREGATE,
    ROUTE,
    SEND_FEEDBACK,
    TRANSFORM_INPUT,
    TRANSFORM_OUTPUT,
    Node,
    Predictor,
)
from seldon_graph.engine.protocols import M, Message, WireProtocol
from seldon_graph.engine.protocols.seldon import SELDON
from seldon_graph.engine.request_logger import (
    FEEDBACK_TYPE,
    REQUEST_TYPE,
    RESPONSE_TYPE,
    Event,
    RequestLogger,
)
from seldon_graph.engine.request_state import RequestState
from seldon_graph.engine.router_reply import ALL_CHILDREN, NO_CHILDREN
from seldon_graph.engine.traces import EngineTracer
from seldon_graph.engine.unit_errors import UnitError
from seldon_graph.engine.unit_pool import UnitClient, UnitLookup
from seldon_graph.errors import ENGINE_INVALID_ROUTING, INTERNAL_ERROR, NOT_FOUND, SeldonError


class Graph:
    """A predictor's tree bound to its unit clients, protocol, metrics and request logger."""

    def __init__(
        self,
        predictor: Predictor,
        units: UnitLookup,
        metrics: EngineMetrics | None = None,
        logger: RequestLogger | None = None,
        tracer: EngineTracer | None = None,
        protocol: WireProtocol[Any] = SELDON,
    ):
        self.predictor = predictor
        self.protocol = protocol
        self.tracer = tracer
        self.root = predictor.root
        self.units = units
        self.metrics = metrics
        self.logger = logger
        self._order = [node.name for node in predictor.nodes()]

    # ---- prediction ---------------------------------------------------------------------------------------

    async def predict(self, message: M, meta: dict, request: RequestState) -> tuple[M, dict]:
        """The result of the whole graph for a client's message and meta, and the response meta."""
        client_metrics = meta.get("metrics")
        if isinstance(client_metrics, list) and client_metrics:
            request.metrics[self.root.name] = list(client_metrics)
        result = await self._walk(self.root, message, request)
        return result, self.response_meta(result, request)

    def response_meta(self, result: Message, request: RequestState) -> dict:
        """The meta of the client's response: puid, merged tags, routing, requestPath, collected metrics."""
        meta: dict = {"puid": request.puid}
        if result.tags:
            meta["tags"] = result.tags
        if request.routing:
            meta["routing"] = request.routing
        meta["requestPath"] = request.request_path
        metrics = [m for name in self._order for m in request.metrics.get(name, ())]
        if metrics:
            meta["metrics"] = metrics
        return meta

    async def _walk(self, node: Node, message: M, request: RequestState) -> M:
        request.request_path[node.name] = node.image
        if request.timings is not None:
            request.timings.setdefault(node.name, 0.0)
        self._log(node, REQUEST_TYPE, message, request)
        if node.does(TRANSFORM_INPUT):
            message = await self._transform(node, node.predict_step, message, request)
        if node.children:
            message = await self._children(node, message, request)
        if node.does(TRANSFORM_OUTPUT):
            message = await self._transform(node, "transform-output", message, request)
        self._log(node, RESPONSE_TYPE, message, request)
        return message

    async def _children(self, node: Node, message: M, request: RequestState) -> M:
        route = await self._route(node, message, request) if node.does(ROUTE) else ALL_CHILDREN
        request.routing[node.name] = route
        if route == NO_CHILDREN:
            return message
        if route == ALL_CHILDREN:
            outputs = await _all([self._walk(child, message, request) for child in node.children])
        elif 0 <= route < len(node.children):
            outputs = [await self._walk(node.children[route], message, request)]
        else:
            raise UnitError(
                f"Router '{node.name}' returned route {route}; valid are -2, -1 and 0..{len(node.children) - 1}",
                500,
                ENGINE_INVALID_ROUTING,
                node=node.name,
            )
        if node.does(AGGREGATE):
            return await self._aggregate(node, outputs, request)
        return outputs[0]

    async def _transform(self, node: Node, step: str, message: M, request: RequestState) -> M:
        if node.builtin:
            transform = builtins.TRANSFORMS.get(node.implementation)
            if transform is None or step == "transform-output":
                return message
            started = time.perf_counter()
            output, meta = transform(node, message)
            _spent(node, request, started)
            self._collect(node, meta, request)
            return output
        unit = self.units[node]
        raw = await self._call(node, unit, step, self.protocol.unit_request(unit, message, request), request)
        output = self._split(node, unit, raw, request)
        if message.tags:
            output.tags = {**message.tags, **output.tags}
        return output

    async def _route(self, node: Node, message: Message, request: RequestState) -> int:
        if node.builtin:
            started = time.perf_counter()
            route = builtins.ROUTERS[node.implementation](node, message)
            _spent(node, request, started)
            return route
        unit = self.units[node]
        raw = await self._call(node, unit, "route", self.protocol.unit_request(unit, message, request), request)
        route, meta = self.protocol.route_reply(node, unit, raw)
        self._collect(node, meta, request)
        return route

    async def _aggregate(self, node: Node, outputs: list[M], request: RequestState) -> M:
        tags: dict = {}
        for output in outputs:
            tags.update(output.tags)
        if node.builtin:
            started = time.perf_counter()
            result, meta = builtins.AGGREGATORS[node.implementation](node, outputs)
            _spent(node, request, started)
            self._collect(node, meta, request)
        else:
            unit = self.units[node]
            body = self.protocol.aggregate_request(unit, outputs, request)
            raw = await self._call(node, unit, "aggregate", body, request)
            result = self._split(node, unit, raw, request)
        if tags:
            result.tags = {**tags, **result.tags}
        return result

    async def _call(self, node: Node, unit: UnitClient, step: str, body: object, request: RequestState) -> object:
        if request.trace is not None:
            return await self._traced_call(node, unit, step, body, request)
        started = time.perf_counter()
        failure = None
        try:
            return await unit.call(step, body, request)
        except SeldonError as exc:
            failure = exc
            raise
        finally:
            if self.metrics is not None:
                code = unit_call_code(unit.wire, failure)
                self.metrics.unit_call(node, *unit.labels(step), code, time.perf_counter() - started)
            if request.timings is not None:
                _spent(node, request, started)

    async def _traced_call(
        self, node: Node, unit: UnitClient, step: str, body: object, request: RequestState
    ) -> object:
        """`_call` inside a span whose context the unit receives."""
        tracer = self.tracer
        assert tracer is not None, "requests are traced only when the graph has a tracer"
        span, context = tracer.begin_call(node, step, request)
        started = time.perf_counter()
        failure = None
        try:
            return await unit.call(step, body, context)
        except SeldonError as exc:
            failure = exc
            raise
        finally:
            if self.metrics is not None:
                code = unit_call_code(unit.wire, failure)
                self.metrics.unit_call(node, *unit.labels(step), code, time.perf_counter() - started)
            if request.timings is not None:
                _spent(node, request, started)
            tracer.end(span, "200" if failure is None else str(failure.status_code), failure is not None)

    def _split(self, node: Node, unit: UnitClient, raw: object, request: RequestState) -> Any:
        """The node's output from a unit's reply: a message of the graph's protocol."""
        output, meta = self.protocol.unit_reply(node, unit, raw)
        self._collect(node, meta, request)
        return output

    def _collect(self, node: Node, meta: dict, request: RequestState) -> None:
        metrics = meta.get("metrics")
        if metrics:
            request.metrics.setdefault(node.name, []).extend(metrics)

    def _log(self, node: Node, event_type: str, message: Message, request: RequestState) -> None:
        if self._logs(node, event_type, request):
            logger, spec = self.logger, node.logger
            assert logger is not None and spec is not None, "_logs checked both"
            body, content_type = self.protocol.log_body(message, request)
            logger.emit(Event(spec.url, event_type, node.name, request.puid, body, content_type))

    def _logs(self, node: Node, event_type: str, request: RequestState) -> bool:
        """Whether this event of this request goes to the node's request logger (feedback counts as a response)."""
        spec = node.logger
        if spec is None or request.skip_logging or self.logger is None:
            return False
        return spec.requests if event_type == REQUEST_TYPE else spec.responses

    # ---- feedback -----------------------------------------------------------------------------------------

    async def feedback(self, feedback: FeedbackBody, request: RequestState) -> Payload:
        """Deliver feedback along the recorded routing; the root unit's reply, or an empty message."""
        reply = await self._feedback(self.root, feedback, request)
        return reply if reply is not None else Payload(json_members=b"")

    async def _feedback(self, node: Node, feedback: FeedbackBody, request: RequestState) -> Payload | None:
        if node.children:
            route = _as_route(feedback.routing.get(node.name, ALL_CHILDREN))
            if route == ALL_CHILDREN:
                await _all([self._feedback(child, feedback, request) for child in node.children])
            elif 0 <= route < len(node.children):
                await self._feedback(node.children[route], feedback, request)
        if self._logs(node, FEEDBACK_TYPE, request):
            logger, spec = self.logger, node.logger
            assert logger is not None and spec is not None, "_logs checked both"
            logger.emit(Event(spec.url, FEEDBACK_TYPE, node.name, request.puid, feedback.json(), "application/json"))
        if not node.does(SEND_FEEDBACK) or node.builtin or not self.protocol.sends_feedback:
            return None
        if self.metrics is not None:
            self.metrics.feedback(node, feedback.reward)
        unit = self.units[node]
        raw = await self._call(node, unit, "send-feedback", self.protocol.feedback_request(unit, feedback), request)
        return self._split(node, unit, raw, request)

    # ---- metadata -----------------------------------------------------------------------------------------

    def node(self, name: str) -> Node:
        """The node called `name`; a 404 naming the predictor when there is none."""
        node = self.predictor.find(name)
        if node is None:
            raise SeldonError(f"No node named '{name}' in predictor '{self.predictor.name}'", 404, NOT_FOUND)
        return node

    async def node_metadata(self, name: str) -> bytes:
        """A node's metadata, as its unit answers it."""
        node = self.node(name)
        if node.builtin:
            return orjson.dumps(_builtin_metadata(node))
        return await self.units[node].metadata()

    async def graph_metadata(self) -> dict:
        """Every node's metadata plus the graph's inputs and outputs (the first child's edges)."""
        nodes = self.predictor.nodes()
        replies = await _all([self.node_metadata(node.name) for node in nodes])
        models = {}
        for node, raw in zip(nodes, replies):
            try:
                models[node.name] = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise UnitError(f"Unit '{node.name}' sent unreadable metadata", 500, INTERNAL_ERROR) from exc
        inputs, outputs = _edges(self.root, models)
        return {
            "name": self.predictor.name,
            "models": dict(sorted(models.items())),
            "graphinputs": inputs,
            "graphoutputs": outputs,
        }


def _spent(node: Node, request: RequestState, started: float) -> None:
    """Add the time since `started` to the node's Server-Timing entry, when the request wants one."""
    if request.timings is not None:
        request.timings[node.name] = request.timings.get(node.name, 0.0) + time.perf_counter() - started


async def _all(calls: list) -> list:
    """Run calls concurrently and keep child order; after all finish, raise the lowest-index failure."""
    if len(calls) == 1:
        return [await calls[0]]
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def _as_route(value: str | SupportsInt) -> int:
    """A recorded route as an int; anything unreadable counts as "all children"."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return ALL_CHILDREN


def _builtin_metadata(node: Node) -> dict:
    return {
        "name": node.name,
        "platform": "seldon-graph",
        "versions": [node.implementation],
        "inputs": [],
        "outputs": [],
    }


def _edges(node: Node, models: dict) -> tuple[object, object]:
    own = models.get(node.name) or {}
    if not node.children:
        return own.get("inputs"), own.get("outputs")
    child_inputs, child_outputs = _edges(node.children[0], models)
    inputs = own.get("inputs") if node.does(TRANSFORM_INPUT) else child_inputs
    outputs = own.get("outputs") if node.does(AGGREGATE) or node.does(TRANSFORM_OUTPUT) else child_outputs
    return inputs, outputs
