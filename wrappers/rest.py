"""The REST side of a unit: Seldon v1's microservice paths on aiohttp's low-level server, uvloop and orjson.

One handler function and a path table instead of a router: the hot path is a dict lookup, one orjson parse,
the user's method called inline (or on a thread pool when --threads > 1), one orjson dump.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from aiohttp import web
from aiohttp.web_request import BaseRequest

from seldon_graph import messages
from seldon_graph.errors import NOT_FOUND, SeldonError, from_user_exception
from seldon_graph.wrappers.encoding import encode

log = logging.getLogger(__name__)

GET, POST = frozenset({"GET"}), frozenset({"POST"})
BOTH = GET | POST
JSON_HEADERS = {"Content-Type": "application/json", "Access-Control-Allow-Origin": "*"}
NOT_READY = "MICROSERVICE_NOT_READY"
FIRST_CHAR = re.compile(rb"\s*(\S)")
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

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
}
BODY_METHODS = {"predict", "send_feedback", "transform_input", "transform_output", "route", "aggregate"}


def json_response(body: bytes, status: int = 200) -> web.Response:
    return web.Response(body=body, status=status, headers=JSON_HEADERS)


def error_response(error: SeldonError) -> web.Response:
    return json_response(error.to_json(), error.status_code)


def parse_request(raw: bytes, content_type: str, query_json: str | None, allow_list: bool) -> Any:
    """The request object. A JSON body counts whatever the Content-Type says (curl -d sends form-encoded);
    a combiner also accepts a bare JSON array of messages."""
    match = FIRST_CHAR.match(raw)
    first = match[1] if match else b""
    if allow_list and first == b"[":
        return messages.loads(raw)
    if first == b"{":
        content_type = "application/json"
    return messages.parse_body(raw, content_type, query_json)


def preflight(request: BaseRequest, allowed: frozenset) -> web.Response:
    """A CORS preflight answer: any origin, the path's methods, the headers the browser asked for."""
    methods = ", ".join(sorted(allowed | {"OPTIONS"}))
    headers = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": methods, "Allow": methods}
    asked = request.headers.get("Access-Control-Request-Headers")
    if asked:
        headers["Access-Control-Allow-Headers"] = asked
    return web.Response(headers=headers)


class RestHandler:
    """Answers every REST request of one worker."""

    def __init__(self, service, metadata: dict | None, sink=None, threads: int = 1):
        self.service = service
        self.metadata_body = encode(metadata) if metadata is not None else None
        self.sink = sink
        self.ready = False
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="model") if threads > 1 else None

    async def _call(self, fn: Callable, arg: Any) -> Any:
        if self.pool is None:
            return fn(arg)
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, arg)

    async def __call__(self, request: BaseRequest) -> web.StreamResponse:
        route = ROUTES.get(request.path)
        if route is None:
            return error_response(SeldonError(f"Not found: {request.method} {request.path} is not a Seldon "
                                              f"microservice path", 404, NOT_FOUND))
        allowed, name = route
        if request.method == "OPTIONS":
            return preflight(request, allowed)
        if request.method not in allowed and not (request.method == "HEAD" and "GET" in allowed):
            return error_response(SeldonError(
                f"Method {request.method} not allowed on {request.path}; use {' or '.join(sorted(allowed))}",
                405, NOT_FOUND))
        if name in BODY_METHODS:
            return await self._unit_call(request, name)
        if name == "live":
            return web.Response(text="ok")
        if name == "ready":
            return web.Response(text="ready") if self.ready else web.Response(text="not ready", status=503)
        if name == "ping":
            return web.Response(text="pong", content_type="text/html")
        if name == "metadata":
            if self.metadata_body is None:
                return error_response(SeldonError("Model metadata unavailable", 500, "MICROSERVICE_BAD_METADATA"))
            return json_response(self.metadata_body)
        return await self._health(request)

    async def _health(self, request: BaseRequest) -> web.Response:
        try:
            return json_response(encode(await self._call(lambda _: self.service.health_status(), None)))
        except Exception as exc:
            return self._failure(exc, "health_status")

    def _failure(self, exc: BaseException, name: str) -> web.Response:
        error = from_user_exception(exc)
        if error.status_code >= 500:
            log.error("%s failed: %s", name, error.info, exc_info=not isinstance(exc, SeldonError))
        return error_response(error)

    async def _unit_call(self, request: BaseRequest, name: str) -> web.Response:
        started = time.perf_counter()
        status = 200
        try:
            if not self.ready:
                raise SeldonError("Model not ready: load() has not finished", 503, NOT_READY)
            if request.headers.get("Expect", "").lower() == "100-continue":
                await request.writer.write(CONTINUE)
            raw = await request.read()
            query_json = request.query.get("json") if request.query_string else None
            body = parse_request(raw, request.headers.get("Content-Type", ""), query_json, name == "aggregate")
            result = await self._call(getattr(self.service, name), body)
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
        return response
