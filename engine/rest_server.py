"""The engine's external REST API on the shared HTTP/1.1 server: predictions, feedback, metadata, probes and
Prometheus.

Bodies are JSON, or form-encoded with a `json=` field (as SeldonClient's microservice calls send), or a `json=`
query argument. A unit's own error reaches the client as the unit sent it (decision 6); every other failure is
a Seldon status body with a status code that says whose fault it was.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any
from urllib.parse import parse_qs

import orjson

from seldon_graph import jsontext
from seldon_graph.engine import timing
from seldon_graph.engine.graph import Graph
from seldon_graph.engine.payload import FeedbackBody, Payload
from seldon_graph.engine.request_state import PUID_HEADER, PUID_KEY, RequestState, checked_puid, new_puid
from seldon_graph.engine.unit_errors import FAILED_NODE_HEADER, UnitError, failed_node
from seldon_graph.engine.unit_pool import UnitPool
from seldon_graph.errors import BAD_DATA, ENGINE_BAD_REQUEST, INTERNAL_ERROR, NOT_FOUND, SeldonError
from seldon_graph.http11 import HttpServer, Limits, Response
from seldon_graph.http11 import Request as HttpRequest
from seldon_graph.messages import json_from_form

JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"
CE_SPECVERSION = "ce-specversion"
FULL_CHECK_LIMIT = 256 * 1024
NODE_PREFIXES = frozenset(f"/api/{version}/{kind}" for version in ("v0.1", "v1.0") for kind in ("metadata", "status"))
log = logging.getLogger(__name__)


def request_document(raw: bytes, content_type: str, query_json: str | None) -> bytes:
    """The JSON bytes of a client request in any accepted form; a 400 saying what is wrong otherwise."""
    document: bytes | None = raw
    if content_type == "application/x-www-form-urlencoded":
        document = json_from_form(raw) or raw
    if not document and query_json is not None:
        document = query_json.encode("utf-8")
    if not document:
        raise SeldonError(
            "Empty request: send a SeldonMessage as a JSON body or a json= form field", 400, ENGINE_BAD_REQUEST
        )
    return document


def parse_message(document: bytes) -> tuple[Payload, dict]:
    """Check a client's SeldonMessage JSON and split off its meta.

    Bodies up to FULL_CHECK_LIMIT are parsed in full, so a malformed one gets a precise 400 here. Larger ones are
    only split (their `data` is not decoded in the engine): the first unit parses them anyway and answers a
    malformed one with its own 400, which reaches the client with the node's name.
    """
    if len(document) <= FULL_CHECK_LIMIT:
        try:
            value = jsontext.loads(document)
        except jsontext.JSONDecodeError as exc:
            raise SeldonError(f"Invalid JSON in request: {exc}", 400, BAD_DATA) from exc
        if not isinstance(value, dict):
            raise SeldonError(
                f"Request must be a JSON object (a SeldonMessage), got {type(value).__name__}", 400, BAD_DATA
            )
        if value.get("meta") is not None and not isinstance(value["meta"], dict):
            raise SeldonError(f"Request meta must be an object, got {value['meta']!r}", 400, BAD_DATA)
    payload, meta = Payload.from_json(document)
    if meta.get("tags") is not None and not isinstance(meta["tags"], dict):
        raise SeldonError(f"Request meta.tags must be an object, got {meta['tags']!r}", 400, BAD_DATA)
    return payload, meta


class RestServer:
    """Handlers bound to one graph; `server()` builds the HTTP/1.1 server that calls them. Cheap answers (probes,
    404, 405, OPTIONS) are returned at once; the rest are coroutines the server awaits."""

    def __init__(
        self,
        graph: Graph,
        units: UnitPool,
        prometheus_path: str = "/metrics",
        deployment: str = "",
        namespace: str = "",
    ):
        self.graph = graph
        self.deployment, self.namespace = deployment, namespace
        self.units = units
        self.metrics = graph.metrics
        self.prometheus_path = prometheus_path
        self.cors = {
            "Access-Control-Allow-Origin": os.environ.get("CORS_ALLOWED_ORIGINS", "*"),
            "Access-Control-Allow-Headers": os.environ.get(
                "CORS_ALLOWED_HEADERS",
                "Accept, Accept-Encoding, Authorization, Content-Length, Content-Type, X-CSRF-Token",
            ),
            "X-Content-Type-Options": "nosniff",
        }
        self._table = self._routes()
        self.timing_by_default = timing.wanted({}, graph.predictor.annotations)

    def server(self, keepalive_timeout: float = 75.0, limits: Limits | None = None) -> HttpServer:
        return HttpServer(self, self._server_error, keepalive_timeout=keepalive_timeout, limits=limits)

    def _routes(self) -> dict[str, tuple[str, Callable]]:
        routes: dict[str, tuple[str, Callable]] = {}
        for version in ("v0.1", "v1.0"):
            routes[f"/api/{version}/predictions"] = ("POST", self.predictions)
            routes[f"/api/{version}/feedback"] = ("POST", self.feedback)
        routes["/api/v1.0/metadata"] = ("GET", self._counted("metadata", self.graph_metadata))
        routes["/ready"] = ("GET", self.ready)
        for path in ("/api/v1.0/status", "/api/v1.0/health/status"):
            routes[path] = ("GET", self._counted("status", self.ready))
        routes["/live"] = ("GET", self.live)
        routes["/ping"] = ("GET", self.ping)
        routes[self.prometheus_path] = ("GET", self.prometheus)
        return routes

    def _resolve(self, path: str) -> tuple[str, Callable] | None:
        route = self._table.get(path)
        if route is not None:
            return route
        prefix, _, node = path.rpartition("/")
        if node and prefix in NODE_PREFIXES:
            if prefix.endswith("metadata"):
                return "GET", self._counted("metadata", partial(self.node_metadata, node=node))
            return "GET", self._counted("status", partial(self.node_status, node=node))
        return None

    def _counted(self, service: str, handler: Callable) -> Callable:
        """`handler` observed in the server histogram under `service`, as the executor counts its status and
        metadata endpoints (wrapMetrics in executor/api/rest/server.go); failures are counted with their code."""

        async def counted(request: HttpRequest) -> Response:
            started = time.perf_counter()
            try:
                response = await handler(request)
            except SeldonError as exc:
                response = self._error_response(exc)
            self._observe(service, response.status, started, request.method.lower())
            return response

        return counted

    def __call__(self, request: HttpRequest) -> Response | Awaitable[Response]:
        if request.method == "OPTIONS":
            return Response(200, b"", TEXT_TYPE, self.cors)
        route = self._resolve(request.path)
        if route is None:
            error = SeldonError(f"Not found: {request.method} {request.path}", 404, NOT_FOUND)
            return self._response(self._error_json(error), 404)
        method, handler = route
        if request.method != method:
            error = SeldonError(
                f"Method not allowed: {request.method} {request.path}; use {method}", 405, ENGINE_BAD_REQUEST
            )
            return self._response(self._error_json(error), 405)
        return self._guarded(handler, request)

    async def _guarded(self, handler: Callable, request: HttpRequest) -> Response:
        try:
            return await handler(request)
        except SeldonError as exc:
            return self._error_response(exc)
        except Exception as exc:  # a bug must still answer with a Seldon status body
            log.exception("unexpected failure on %s", request.path)
            return self._response(self._error_json(SeldonError(f"Engine failure: {exc!r}", 500, INTERNAL_ERROR)), 500)

    async def predictions(self, request: HttpRequest) -> Response:
        started = time.perf_counter()
        headers = request.headers
        puid = None
        walk = span = None
        try:
            puid = checked_puid(headers.get(PUID_KEY))
            message, meta = parse_message(request_document(request.body, _content_type(headers), _query_json(request)))
            walk = RequestState(meta.get("puid") or puid, headers.items())
            puid = walk.puid
            if self.timing_by_default or timing.TIMING_HEADER in headers:
                walk.timings = {} if timing.wanted(headers, self.graph.predictor.annotations) else None
            if self.graph.tracer is not None:
                span = self.graph.tracer.begin_request(walk, "predictions", "REST")
            result, response_meta = await self.graph.predict(message, meta, walk)
            if walk.timings is not None and timing.in_meta(headers):
                response_meta.setdefault("metrics", []).extend(timing.timer_metrics(walk.timings))
            response = self._response(result.json_body(response_meta), 200, walk.puid)
        except SeldonError as exc:
            response = self._error_response(exc, puid or new_puid())
        status = response.status
        self._observe("predictions", status, started)
        puid = response.headers[PUID_HEADER]
        if walk is not None and walk.timings is not None:
            response.headers[timing.SERVER_TIMING] = timing.server_timing(walk.timings, time.perf_counter() - started)
        if span is not None:
            assert self.graph.tracer is not None, "the span is the tracer's"
            self.graph.tracer.end(span, str(status), status >= 500)
        if CE_SPECVERSION in headers:
            response.headers.update(self._cloudevent_echo(request.path, puid))
        return response

    async def feedback(self, request: HttpRequest) -> Response:
        started = time.perf_counter()
        headers = request.headers
        puid = None
        span = None
        try:
            puid = checked_puid(headers.get(PUID_KEY))
            feedback = FeedbackBody.from_json(
                request_document(request.body, _content_type(headers), _query_json(request))
            )
            walk = RequestState(puid or feedback.puid, headers.items())
            puid = walk.puid
            if self.graph.tracer is not None:
                span = self.graph.tracer.begin_request(walk, "feedback", "REST")
            reply = await self.graph.feedback(feedback, walk)
            response = self._response(reply.json_body({"puid": walk.puid}), 200, walk.puid)
        except SeldonError as exc:
            response = self._error_response(exc, puid)
        self._observe("feedback", response.status, started)
        if span is not None:
            assert self.graph.tracer is not None, "the span is the tracer's"
            self.graph.tracer.end(span, str(response.status), response.status >= 500)
        return response

    async def graph_metadata(self, request: HttpRequest) -> Response:
        return self._response(orjson.dumps(await self.graph.graph_metadata()), 200)

    async def node_metadata(self, request: HttpRequest, node: str) -> Response:
        return self._response(await self.graph.node_metadata(node), 200)

    async def node_status(self, request: HttpRequest, node: str) -> Response:
        found = self.graph.node(node)
        if found.builtin:
            return self._response(b'{"strData":"healthy"}', 200)
        return self._response(await self.units[found].status(), 200)

    async def ready(self, request: HttpRequest) -> Response:
        return Response(200 if await self.units.ready() else 503, b"", TEXT_TYPE, self.cors)

    async def live(self, request: HttpRequest) -> Response:
        return Response(200, b"", TEXT_TYPE, self.cors)

    async def ping(self, request: HttpRequest) -> Response:
        return Response(200, b"pong", TEXT_TYPE, self.cors)

    async def prometheus(self, request: HttpRequest) -> Response:
        assert self.metrics is not None, "the engine serves its metrics only when it collects them"
        body, content_type = self.metrics.exposition()
        return Response(200, body, content_type, self.cors)

    def _cloudevent_echo(self, path: str, puid: str) -> dict[str, str]:
        """The CloudEvents headers the Seldon executor answers a CloudEvents request with."""
        deployment, namespace = self.deployment, self.namespace
        return {
            "Ce-Id": puid,
            "Ce-Specversion": "0.3",
            "Ce-Path": path,
            "Ce-Type": f"seldon.{deployment}.{namespace}.response",
            "Ce-Source": f"seldon.{deployment}",
        }

    def _response(self, body: bytes, status: int, puid: str | None = None) -> Response:
        headers = dict(self.cors)
        if puid:
            headers[PUID_HEADER] = puid
        return Response(status, body, JSON_TYPE, headers)

    @staticmethod
    def _server_error(status: int, info: str) -> Response:
        """The HTTP server's own failures (malformed HTTP) as a Seldon status body."""
        reason = ENGINE_BAD_REQUEST if status < 500 else INTERNAL_ERROR
        return Response(status, SeldonError(info, status, reason).to_json(), JSON_TYPE)

    async def _protocol_predict(
        self,
        request: HttpRequest,
        model: str | None,
        *,
        step: str,
        parse: Callable[[HttpRequest], Any],
        respond: Callable[[Any, str], Response],
    ) -> Response:
        """A prediction in a protocol other than seldon's (V2 infer, TensorFlow predict): the puid, the model the
        path names (a graph node), the walk with its span, the error answer and the metrics, around the protocol's
        own `parse` of the request and `respond` with the walk's result and the puid."""
        started = time.perf_counter()
        headers = request.headers
        puid = span = None
        try:
            puid = checked_puid(headers.get(PUID_KEY)) or new_puid()
            if model is not None:
                self.graph.node(model)
            body = parse(request)
            walk = RequestState(puid, headers.items())
            if self.graph.tracer is not None:
                span = self.graph.tracer.begin_request(walk, step, "REST")
            result, _ = await self.graph.predict(body, {}, walk)
            response = respond(result, puid)
        except SeldonError as exc:
            response = self._error_response(exc, puid or new_puid())
        self._observe("predictions", response.status, started)
        if span is not None:
            assert self.graph.tracer is not None, "the span is the tracer's"
            self.graph.tracer.end(span, str(response.status), response.status >= 500)
        return response

    def _error_response(self, error: SeldonError, puid: str | None = None) -> Response:
        """The client's answer to a failure. A unit's own reply goes back verbatim (status and body, as the Seldon
        executor's respondWithError passes it on, executor/api/rest/server.go) with the failing node in the
        Seldon-Failed-Node header and the log; anything else is this API's error body."""
        node = failed_node(error)
        if node:
            log.warning("node %s failed with %d: %s", node, error.status_code, error.info)
        if isinstance(error, UnitError) and error.reply is not None:
            headers = dict(self.cors)
            if puid:
                headers[PUID_HEADER] = puid
            response = Response(error.status_code, error.reply, error.reply_type, headers)
        else:
            response = self._response(*self._failed(error), puid)
        if node:
            response.headers[FAILED_NODE_HEADER] = node
        return response

    def _failed(self, error: SeldonError) -> tuple[bytes, int]:
        """The client's answer to a failure; server-side failures are also logged for the operator."""
        if error.status_code >= 500 and not failed_node(error):
            log.warning("request failed with %d: %s", error.status_code, error.info)
        return self._error_json(error), error.status_code

    def _error_json(self, error: SeldonError) -> bytes:
        """The body of an error answer in this API's protocol (a Seldon status body here)."""
        return error.to_json()

    def _observe(self, service: str, status: int, started: float, method: str = "post") -> None:
        if self.metrics is not None:
            self.metrics.server(service, method, str(status), time.perf_counter() - started)


def _content_type(headers: dict) -> str:
    """The media type of the request body, without parameters, lower case."""
    value = headers.get("content-type")
    return value.partition(";")[0].strip().lower() if value else ""


def _query_json(request: HttpRequest) -> str | None:
    """The `json=` query argument (parsing the query only when there is one: it is not free)."""
    if not request.query:
        return None
    values = parse_qs(request.query, keep_blank_values=True).get("json")
    return values[0] if values else None
