"""The REST side of a unit: Seldon v1's microservice paths, answered from a path table.

The hot path is a dict lookup, one orjson parse, the user's method, one orjson dump. The handler is
synchronous: the HTTP server calls it inline, or on a thread pool for model calls when --threads > 1.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from seldon_graph import messages
from seldon_graph.errors import BAD_DATA, BAD_METADATA, INTERNAL_ERROR, NOT_FOUND, SeldonError, status_body
from seldon_graph.http11 import Request, Response
from seldon_graph.wrappers.encoding import encode
from seldon_graph.wrappers.error_handlers import UserErrorHandlers
from seldon_graph.wrappers.methods import UnitService, call_failure
from seldon_graph.wrappers.multipart import MULTIPART, request_from_parts
from seldon_graph.wrappers.openapi import openapi_document
from seldon_graph.wrappers.traces import UnitTracer

if TYPE_CHECKING:  # importing metrics imports prometheus_client, which must wait for the multiprocess directory
    from seldon_graph.wrappers.metrics import PrometheusSink

log = logging.getLogger(__name__)
GET, POST = frozenset({"GET"}), frozenset({"POST"})
BOTH = GET | POST
CORS = {"Access-Control-Allow-Origin": "*"}
NOT_READY = "MICROSERVICE_NOT_READY"
FIRST_CHAR = re.compile(rb"\s*(\S)")
FORM = "application/x-www-form-urlencoded"

# path → (allowed HTTP methods, what answers it: a UnitService method or a probe)
ROUTES: dict[str, tuple[frozenset, str]] = {
    "/predict": (BOTH, "predict"),
    "/api/v1.0/predictions": (POST, "predict"),
    "/api/v0.1/predictions": (POST, "predict"),
    "/send-feedback": (BOTH, "send_feedback"),
    "/api/v1.0/feedback": (POST, "send_feedback"),
    "/api/v0.1/feedback": (POST, "send_feedback"),
    "/transform-input": (BOTH, "transform_input"),
    "/transform-output": (BOTH, "transform_output"),
    "/route": (BOTH, "route"),
    "/aggregate": (BOTH, "aggregate"),
    "/health/ping": (GET, "ping"),
    "/health/status": (GET, "health_status"),
    "/api/v1.0/health/status": (GET, "health_status"),
    "/metadata": (GET, "metadata"),
    "/api/v1.0/metadata": (GET, "metadata"),
    "/live": (GET, "live"),
    "/ready": (GET, "ready"),
    "/seldon.json": (GET, "openapi"),
}
BODY_METHODS = {"predict", "send_feedback", "transform_input", "transform_output", "route", "aggregate"}


def json_response(body: bytes, status: int = 200) -> Response:
    return Response(status, body, "application/json", CORS)


def text_response(text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8") -> Response:
    return Response(status, text.encode(), content_type, CORS)


def error_response(error: SeldonError) -> Response:
    return json_response(error.to_json(), error.status_code)


def server_error(status: int, info: str) -> Response:
    """The HTTP server's own failures (malformed HTTP, a bug) as a Seldon status body."""
    reason = BAD_DATA if status < 500 else INTERNAL_ERROR
    return json_response(encode(status_body(info, reason)), status)


def parse_request(raw: bytes, content_type: str, query_json: str | None, allow_list: bool) -> Any:
    """The request object. A JSON body counts whatever the Content-Type says (curl -d sends form-encoded);
    multipart/form-data is read as seldon-core reads it; a combiner also accepts a bare JSON array of messages,
    in the body or in the `json=` form or query field."""
    match = FIRST_CHAR.match(raw)
    first = match[1] if match else b""
    if first == b"{":
        return messages.parse_body(raw, "application/json")
    if allow_list and first == b"[":
        return messages.loads(raw)
    if MULTIPART in content_type:
        return request_from_parts(raw, content_type)
    if allow_list:
        form_json = messages.json_from_form(raw) if FORM in content_type else None
        field = form_json if form_json is not None else query_json
        listed = messages.loads(field) if field is not None else None
        if isinstance(listed, list):
            return listed
    return messages.parse_body(raw, content_type, query_json)


def preflight(request: Request, allowed: frozenset) -> Response:
    """A CORS preflight answer: any origin, the path's methods, the headers the browser asked for."""
    methods = ", ".join(sorted(allowed | {"OPTIONS"}))
    headers = {**CORS, "Access-Control-Allow-Methods": methods, "Allow": methods}
    asked = request.headers.get("access-control-request-headers")
    if asked:
        headers["Access-Control-Allow-Headers"] = asked
    return Response(200, b"", "text/plain", headers)


class RestHandler:
    """Answers every REST request of one worker."""

    def __init__(
        self,
        service: UnitService,
        metadata: dict | None,
        sink: PrometheusSink | None = None,
        siblings_loaded: Callable[[], bool] = bool,
        error_handlers: UserErrorHandlers | None = None,
        tracer: UnitTracer | None = None,
    ):
        self.service = service
        self.error_handlers = error_handlers
        self.tracer = tracer
        self.metadata_body = encode(metadata) if metadata is not None else None
        self.openapi_body = encode(openapi_document(ROUTES))
        self.sink = sink
        self.loaded = False
        self.siblings_loaded = siblings_loaded

    @property
    def ready(self) -> bool:
        """Ready when this worker and every sibling worker have loaded the model, so no call can meet a 503."""
        return self.loaded and self.siblings_loaded()

    @staticmethod
    def calls_model(request: Request) -> bool:
        """Whether the request runs user code (and so goes to the thread pool when there is one)."""
        route = ROUTES.get(request.path)
        return route is not None and (route[1] in BODY_METHODS or route[1] == "health_status")

    def __call__(self, request: Request) -> Response:
        route = ROUTES.get(request.path)
        if route is None:
            return error_response(
                SeldonError(
                    f"Not found: {request.method} {request.path} is not a Seldon microservice path", 404, NOT_FOUND
                )
            )
        allowed, name = route
        if request.method == "OPTIONS":
            return preflight(request, allowed)
        if request.method not in allowed and not (request.method == "HEAD" and "GET" in allowed):
            return error_response(
                SeldonError(
                    f"Method {request.method} not allowed on {request.path}; use {' or '.join(sorted(allowed))}",
                    405,
                    NOT_FOUND,
                )
            )
        if name in BODY_METHODS:
            return self._unit_call(request, name)
        if name == "live":
            return text_response("ok")
        if name == "ready":
            return text_response("ready") if self.ready else text_response("not ready", 503)
        if name == "ping":
            return text_response("pong", content_type="text/html; charset=utf-8")
        if name == "openapi":
            return json_response(self.openapi_body)
        if name == "metadata":
            if self.metadata_body is None:
                return error_response(SeldonError("Model metadata unavailable", 500, BAD_METADATA))
            return json_response(self.metadata_body)
        try:
            return json_response(encode(self.service.health_status()))
        except Exception as exc:
            return self._failure(exc, "health_status")

    def _failure(self, exc: Exception, name: str) -> Response:
        """The answer to a failed call: the user's blueprint handler for it if there is one, else a Seldon status."""
        if self.error_handlers is not None:
            try:
                handled = self.error_handlers.respond(exc, CORS)
            except Exception:
                log.exception("the model_error_handler for %s failed; answering with the wrapper's status", name)
                handled = None
            if handled is not None:
                return handled
        return error_response(call_failure(exc, name))

    def _unit_call(self, request: Request, name: str) -> Response:
        started = time.perf_counter()
        status = 200
        tracer = self.tracer
        span = None if tracer is None else tracer.begin(name, "REST", request.headers.items())
        try:
            if not self.loaded:
                raise SeldonError("Model not ready: load() has not finished", 503, NOT_READY)
            query_json = parse_qs(request.query).get("json", [None])[0] if request.query else None
            body = parse_request(request.body, request.headers.get("content-type", ""), query_json, name == "aggregate")
            result = getattr(self.service, name)(body)
            if name == "predict" and isinstance(result, dict):
                code = result.get("status", {}).get("code") if isinstance(result.get("status"), dict) else None
                if isinstance(code, int) and 100 <= code <= 599:
                    status = code
            response = json_response(encode(result), status)
        except Exception as exc:
            response = self._failure(exc, name)
            status = response.status
        if self.sink is not None:
            self.sink.observe_request(name, "rest", str(status), time.perf_counter() - started)
        if tracer is not None:
            tracer.end(span, str(status), status >= 500)
        return response
