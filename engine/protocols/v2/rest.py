"""V2 over REST: the unit client (`/v2/models/<node>/infer`, …) and the engine's external V2 REST API."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import orjson

from seldon_graph.engine.http_client import Reply
from seldon_graph.engine.predictor import Node
from seldon_graph.engine.protocols import engine_version
from seldon_graph.engine.protocols.v2.bodies import BINARY_TYPE, HEADER_LENGTH, InferBody, checked_request
from seldon_graph.engine.request_state import PUID_HEADER
from seldon_graph.engine.rest_server import TEXT_TYPE, RestServer
from seldon_graph.engine.rest_unit import RestEndpoint
from seldon_graph.engine.unit_errors import error_body, error_body_failure
from seldon_graph.errors import SeldonError
from seldon_graph.http11 import Request as HttpRequest
from seldon_graph.http11 import Response

if TYPE_CHECKING:
    from seldon_graph.engine.unit_pool import CallContext

MODELS = "/v2/models/"
INFER_STEPS = ("predict", "transform-input", "transform-output")
JSON_HEADER = b"Content-Type: application/json\r\n"


class V2RestUnit(RestEndpoint):
    """A V2 server (MLServer, Triton, …) reached over REST; every node is called by its own name."""

    def __init__(self, node: Node, pool, timeout: float | None):  # noqa: ANN001 - an HttpPool
        super().__init__(node, pool, timeout)
        base = MODELS + node.name
        self.paths = {step: f"{base}/infer" for step in INFER_STEPS}
        self.paths.update(route=f"{base}/route", aggregate=f"{base}/aggregate", **{"send-feedback": f"{base}/feedback"})
        self.metadata_path, self.ready_path = base, f"{base}/ready"

    async def call(self, step: str, body: InferBody, context: CallContext) -> InferBody:
        wire = body.wire()
        headers = context.rest_headers()
        if wire.header_length is not None:
            binary = f"Content-Type: {BINARY_TYPE}\r\nInference-Header-Content-Length: {wire.header_length}\r\n"
            headers = headers.replace(JSON_HEADER, binary.encode())
        path = self.paths[step]
        reply = await self._request("POST", path, wire.parts, headers)
        if 200 <= reply.status < 300:
            return InferBody.from_http(reply.body, reply.headers.get(HEADER_LENGTH.encode()), is_reply=True)
        raise error_body_failure(self.node, path, reply.status, reply.body)

    def labels(self, step: str) -> tuple[str, str]:
        return self.paths[step], "post"

    async def metadata(self) -> bytes:
        reply = await self.get(self.metadata_path)
        if reply.status != 200:
            raise error_body_failure(self.node, self.metadata_path, reply.status, reply.body)
        return reply.body

    async def status(self) -> bytes:
        reply = await self.get(self.ready_path)
        if reply.status != 200:
            raise error_body_failure(self.node, self.ready_path, reply.status, reply.body)
        return reply.body

    async def get(self, path: str) -> Reply:
        return await self._request("GET", path, None, b"")


class V2RestServer(RestServer):
    """The Open Inference Protocol REST API of a graph, plus the engine's probes and Prometheus endpoint."""

    def _routes(self) -> dict[str, tuple[str, Callable]]:
        return {
            "/ready": ("GET", self.ready),
            "/live": ("GET", self.live),
            "/v2/health/ready": ("GET", self._counted("status", self.ready)),
            "/v2/health/live": ("GET", self.live),
            "/v2": ("GET", self.server_metadata),
            "/v2/models/infer": ("POST", self.infer),
            self.prometheus_path: ("GET", self.prometheus),
        }

    def _resolve(self, path: str) -> tuple[str, Callable] | None:
        route = self._table.get(path)
        if route is not None or not path.startswith(MODELS):
            return route
        parts = path[len(MODELS) :].split("/")
        model, rest = parts[0], parts[1:]
        if len(rest) >= 2 and rest[0] == "versions":  # /versions/<v>/... addresses the same node
            rest = rest[2:]
        if not model:
            return None
        if rest == ["infer"]:
            return "POST", partial(self.infer, model=model)
        if rest == ["ready"]:
            return "GET", partial(self.model_probe, model=model, ready=True)
        if not rest:
            return "GET", partial(self.model_probe, model=model, ready=False)
        return None

    def _error_json(self, error: SeldonError) -> bytes:
        return error_body(error.info)

    async def infer(self, request: HttpRequest, model: str | None = None) -> Response:
        return await self._protocol_predict(request, model, step="infer", parse=_infer_request, respond=self._answer)

    def _answer(self, result: InferBody, puid: str) -> Response:
        """The walk's result: JSON, or its JSON header followed by the binary tensor data it carried through."""
        wire = result.wire()
        response = Response(200, result.document, wire.content_type, {**self.cors, PUID_HEADER: puid})
        if wire.header_length is not None:
            response.tail = result.binary
            response.headers["Inference-Header-Content-Length"] = str(wire.header_length)
        return response

    async def model_probe(self, request: HttpRequest, model: str, ready: bool) -> Response:
        """A node's `/ready` or metadata, as its unit answers it (status and body)."""
        started = time.perf_counter()
        node = self.graph.node(model)
        if node.builtin:
            body = b"" if ready else orjson.dumps({"name": model, "platform": "seldon-graph", "versions": []})
            response = Response(200, body, TEXT_TYPE if ready else "application/json", dict(self.cors))
        else:
            unit = self.units[node]
            assert isinstance(unit, V2RestUnit), "a V2 graph walked over REST has V2 REST units"
            reply = await unit.get(unit.ready_path if ready else unit.metadata_path)
            content_type = reply.headers.get(b"content-type", b"application/json").decode("latin-1")
            response = Response(reply.status, reply.body, content_type, dict(self.cors))
        self._observe("status" if ready else "metadata", response.status, started, "get")
        return response

    async def server_metadata(self, request: HttpRequest) -> Response:
        body = {"name": "seldon-graph", "version": engine_version(), "extensions": ["binary_tensor_data"]}
        return self._response(orjson.dumps(body), 200)


def _infer_request(request: HttpRequest) -> InferBody:
    return checked_request(InferBody.from_http(request.body, request.headers.get(HEADER_LENGTH), is_reply=False))
