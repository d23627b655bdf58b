"""TensorFlow Serving over REST: the unit client (`/v1/models/<node>:predict`, …) and the engine's external API."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import orjson

from seldon_graph.engine.http_client import Reply
from seldon_graph.engine.predictor import Node
from seldon_graph.engine.protocols.tensorflow.bodies import PredictBody, checked_request
from seldon_graph.engine.request_state import PUID_HEADER, PUID_KEY, checked_puid
from seldon_graph.engine.rest_server import JSON_TYPE, RestServer
from seldon_graph.engine.rest_unit import RestEndpoint
from seldon_graph.engine.unit_errors import error_body, error_body_failure
from seldon_graph.errors import SeldonError
from seldon_graph.http11 import Request as HttpRequest
from seldon_graph.http11 import Response

if TYPE_CHECKING:
    from seldon_graph.engine.http_client import HttpPool
    from seldon_graph.engine.unit_pool import CallContext

MODELS = "/v1/models"
PREDICT_STEPS = ("predict", "transform-input", "transform-output")


class TensorflowRestUnit(RestEndpoint):
    """A TensorFlow-Serving-compatible server reached over REST; every node is called by its own name."""

    def __init__(self, node: Node, pool: HttpPool, timeout: float | None):
        super().__init__(node, pool, timeout)
        base = f"{MODELS}/{node.name}"
        self.paths = {step: f"{base}:predict" for step in PREDICT_STEPS}
        self.paths.update(route=f"{base}:route", aggregate=f"{base}:aggregate", **{"send-feedback": f"{base}:feedback"})
        self.metadata_path, self.status_path = f"{base}/metadata", base

    async def call(self, step: str, body: PredictBody, context: CallContext) -> bytes:
        path = self.paths[step]
        reply = await self._request("POST", path, body.document, context.rest_headers())
        if 200 <= reply.status < 300:
            return reply.body
        raise error_body_failure(self.node, path, reply.status, reply.body)

    def labels(self, step: str) -> tuple[str, str]:
        return self.paths[step], "post"

    async def metadata(self) -> bytes:
        return (await self._checked_get(self.metadata_path)).body

    async def status(self) -> bytes:
        return (await self._checked_get(self.status_path)).body

    async def get(self, path: str) -> Reply:
        return await self._request("GET", path, None, b"")

    async def _checked_get(self, path: str) -> Reply:
        reply = await self.get(path)
        if reply.status != 200:
            raise error_body_failure(self.node, path, reply.status, reply.body)
        return reply


class TensorflowRestServer(RestServer):
    """TensorFlow Serving's REST predict API over a graph, the feedback path, probes and Prometheus."""

    def _routes(self) -> dict[str, tuple[str, Callable]]:
        return {
            "/ready": ("GET", self.ready),
            "/live": ("GET", self.live),
            f"{MODELS}:predict": ("POST", self.predict),
            f"{MODELS}/:predict": ("POST", self.predict),
            "/api/v1.0/feedback": ("POST", self.feedback_echo),
            self.prometheus_path: ("GET", self.prometheus),
        }

    def _resolve(self, path: str) -> tuple[str, Callable] | None:
        route = self._table.get(path)
        if route is not None or not path.startswith(MODELS + "/"):
            return route
        rest = path[len(MODELS) + 1 :]
        for suffix in ("/:predict", ":predict"):
            if rest.endswith(suffix) and rest[: -len(suffix)] and "/" not in rest[: -len(suffix)]:
                return "POST", partial(self.predict, model=rest[: -len(suffix)])
        model, _, tail = rest.partition("/")
        if model and tail in ("", "metadata"):
            return "GET", partial(self.model_probe, model=model, metadata=tail == "metadata")
        return None

    def _error_json(self, error: SeldonError) -> bytes:
        return error_body(error.info)

    async def predict(self, request: HttpRequest, model: str | None = None) -> Response:
        return await self._protocol_predict(
            request,
            model,
            step="predict",
            parse=lambda http: checked_request(http.body),
            respond=lambda result, puid: Response(200, result.document, JSON_TYPE, {**self.cors, PUID_HEADER: puid}),
        )

    async def feedback_echo(self, request: HttpRequest) -> Response:
        """Feedback is not delivered to TensorFlow units (as in Seldon's executor): the request is echoed."""
        try:
            puid = checked_puid(request.headers.get(PUID_KEY))
        except SeldonError as exc:
            return self._response(*self._failed(exc))
        return self._response(request.body or b"{}", 200, puid)

    async def model_probe(self, request: HttpRequest, model: str, metadata: bool) -> Response:
        """A node's status or metadata, as its unit answers it (status and body)."""
        started = time.perf_counter()
        node = self.graph.node(model)
        if node.builtin:
            response = self._response(orjson.dumps({"model_spec": {"name": model}}), 200)
        else:
            unit = self.units[node]
            assert isinstance(unit, TensorflowRestUnit), "a TensorFlow graph walked over REST has TensorFlow REST units"
            reply = await unit.get(unit.metadata_path if metadata else unit.status_path)
            response = Response(reply.status, reply.body, JSON_TYPE, dict(self.cors))
        self._observe("metadata" if metadata else "status", response.status, started, "get")
        return response
