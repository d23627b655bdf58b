"""The engine's spans: one per request (a child of the caller's trace) and one per unit call, whose context goes
to the unit in `traceparent` (REST headers or gRPC metadata) so the wrapper's span is a child of it."""

from __future__ import annotations

from typing import Any

from seldon_graph.engine.predictor import Node
from seldon_graph.engine.request_state import RequestState
from seldon_graph.tracing import TRACE_HEADERS, Tracing


class TracedCall:
    """The CallContext of one traced unit call: the request's headers plus this call's trace headers."""

    __slots__ = ("request", "trace_headers")

    def __init__(self, request: RequestState, trace_headers: list[tuple[str, str]]):
        self.request = request
        self.trace_headers = trace_headers

    def rest_headers(self) -> bytes:
        own = "".join(f"{key}: {value}\r\n" for key, value in self.trace_headers)
        return self.request.rest_headers() + own.encode("latin-1")

    def grpc_metadata(self) -> tuple[tuple[str, str], ...]:
        return self.request.grpc_metadata() + tuple(self.trace_headers)


class EngineTracer:
    """Spans labelled with the deployment and predictor this engine serves."""

    def __init__(self, tracing: Tracing, deployment: str, predictor: str):
        self.tracing = tracing
        self.base = {"seldon.deployment": deployment, "seldon.predictor": predictor}

    def begin_request(self, request: RequestState, service: str, transport: str) -> Any:
        """Start the request's span from the trace headers the client sent; the units get fresh ones instead."""
        parent = self.tracing.extract((k, v) for k, v in request.forwarded if k.lower() in TRACE_HEADERS)
        request.forwarded = [(k, v) for k, v in request.forwarded if k.lower() not in TRACE_HEADERS]
        attributes = {**self.base, "seldon.method": service, "seldon.transport": transport, "seldon.puid": request.puid}
        span = self.tracing.start(f"{self.base['seldon.predictor']} {service}", parent, self.tracing.SERVER, attributes)
        if span.is_recording():
            request.trace = span
        else:  # not sampled: no call spans; the units learn the decision from the request span's own headers
            request.forwarded.extend(self.tracing.headers(span))
        return span

    def begin_call(self, node: Node, step: str, request: RequestState) -> tuple[Any, TracedCall]:
        """A span for one unit call, child of the request's span, and the context that carries it to the unit."""
        attributes = {
            **self.base,
            "seldon.node": node.name,
            "seldon.method": step,
            "seldon.transport": node.endpoint.transport if node.endpoint else "",
        }
        parent = request.trace
        assert parent is not None, "unit calls get spans only within a sampled request's span"
        span = self.tracing.start(
            f"{node.name} {step}", self.tracing.context_of(parent), self.tracing.CLIENT, attributes
        )
        return span, TracedCall(request, self.tracing.headers(span))

    def end(self, span: Any, status: str, failed: bool) -> None:
        self.tracing.finish(span, status, failed)
