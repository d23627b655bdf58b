"""OpenTelemetry tracing for the engine and the wrapper, switched on the way Seldon v1 switches Jaeger on.

Off unless `--tracing` / `TRACING=1` is given or an OTLP endpoint is set (`OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`).
When off, `start_tracing` returns None and OpenTelemetry is never imported, so the hot paths pay one `is None`
test. The Seldon v1 `JAEGER_*` variables are mapped onto OTLP and sampler settings (docs/compatibility.md has the
table); the standard `OTEL_*` variables win over them. Incoming context is read from W3C `traceparent` and from
B3 headers; outgoing calls carry `traceparent` (and B3 too with `JAEGER_TRACE_PROPAGATION_TYPE=b3`).
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from seldon_graph.parameters import TRUE_VALUES

JAEGER_THRIFT_PORTS = frozenset({"5775", "6831", "6832"})  # UDP ports of the Jaeger agent: no OTLP there
OTLP_GRPC_PORT = 4317
GRPC, HTTP = "grpc", "http/protobuf"
ALWAYS_ON, ALWAYS_OFF, RATIO = "always_on", "always_off", "traceidratio"
# Headers a tracer reads and writes: with tracing on they are replaced per call, not forwarded as they came.
TRACE_HEADERS = frozenset(
    {
        "traceparent",
        "tracestate",
        "b3",
        "x-b3-traceid",
        "x-b3-spanid",
        "x-b3-parentspanid",
        "x-b3-sampled",
        "x-b3-flags",
    }
)
log = logging.getLogger(__name__)


class TracingError(RuntimeError):
    """Tracing was asked for but cannot run (a bad setting, or the `tracing` extra is not installed)."""


@dataclass(frozen=True)
class TracingSettings:
    """Where spans go, which are kept, and how this process is named in them."""

    service_name: str
    endpoint: str = ""  # empty: the exporter's own default (localhost:4317 for gRPC)
    protocol: str = GRPC
    sampler: str = ALWAYS_ON
    ratio: float = 1.0
    b3: bool = False


def tracing_settings(env: Mapping[str, str], switched_on: bool, service_name: str) -> TracingSettings | None:
    """The settings from a Seldon v1 switch plus `JAEGER_*` / `OTEL_*` variables; None when tracing is off."""
    otlp_endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or ""
    on = switched_on or _true(env.get("TRACING", "")) or bool(otlp_endpoint)
    if not on or _true(env.get("OTEL_SDK_DISABLED", "")) or env.get("OTEL_TRACES_EXPORTER", "").lower() == "none":
        return None
    protocol = (env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or GRPC).lower()
    if protocol not in (GRPC, HTTP):
        raise TracingError(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: use {GRPC} or {HTTP}")
    if not otlp_endpoint and env.get("JAEGER_AGENT_HOST"):
        port = env.get("JAEGER_AGENT_PORT", "")
        port = port if port and port not in JAEGER_THRIFT_PORTS else str(OTLP_GRPC_PORT)
        otlp_endpoint, protocol = f"http://{env['JAEGER_AGENT_HOST']}:{port}", GRPC
    if importlib.util.find_spec("opentelemetry.sdk") is None:
        raise TracingError("tracing needs the `tracing` extra: pip install 'seldon-graph[tracing]'")
    sampler, ratio = _sampler(env)
    return TracingSettings(
        service_name=env.get("OTEL_SERVICE_NAME") or env.get("JAEGER_SERVICE_NAME") or service_name,
        endpoint=otlp_endpoint,
        protocol=protocol,
        sampler=sampler,
        ratio=ratio,
        b3=env.get("JAEGER_TRACE_PROPAGATION_TYPE", "").lower() == "b3",
    )


def _true(value: str) -> bool:
    return value.strip().lower() in TRUE_VALUES


def _ratio(name: str, value: str) -> float:
    try:
        ratio = float(value)
    except ValueError:
        raise TracingError(f"{name}={value!r}: expected a number between 0 and 1") from None
    if not 0.0 <= ratio <= 1.0:
        raise TracingError(f"{name}={value!r}: expected a number between 0 and 1")
    return ratio


def _sampler(env: Mapping[str, str]) -> tuple[str, float]:
    """(sampler, ratio) from OTEL_TRACES_SAMPLER[_ARG], else JAEGER_SAMPLER_TYPE/PARAM; every sampler follows a
    sampled parent, so a unit keeps what the engine keeps."""
    otel = env.get("OTEL_TRACES_SAMPLER", "").lower().removeprefix("parentbased_")
    if otel:
        if otel not in (ALWAYS_ON, ALWAYS_OFF, RATIO):
            raise TracingError(f"OTEL_TRACES_SAMPLER={otel!r}: use always_on, always_off or traceidratio")
        arg = env.get("OTEL_TRACES_SAMPLER_ARG", "1.0")
        return otel, _ratio("OTEL_TRACES_SAMPLER_ARG", arg) if otel == RATIO else 1.0
    jaeger, param = env.get("JAEGER_SAMPLER_TYPE", "").lower(), env.get("JAEGER_SAMPLER_PARAM", "")
    if jaeger == "const":
        return (ALWAYS_OFF, 0.0) if param.strip() in ("0", "false") else (ALWAYS_ON, 1.0)
    if jaeger == "probabilistic":
        return RATIO, _ratio("JAEGER_SAMPLER_PARAM", param or "0.001")
    if jaeger:  # ratelimiting / remote have no OpenTelemetry counterpart
        log.warning("JAEGER_SAMPLER_TYPE=%s is not supported; every trace is sampled", jaeger)
    return ALWAYS_ON, 1.0


class Tracing:
    """A tracer provider exporting over OTLP, and the propagators that read and write trace headers."""

    def __init__(self, settings: TracingSettings):
        try:
            from opentelemetry.propagators.b3 import B3MultiFormat, B3SingleFormat
            from opentelemetry.propagators.composite import CompositePropagator
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
            from opentelemetry.sdk.trace.sampling import ALWAYS_OFF as OFF
            from opentelemetry.sdk.trace.sampling import ALWAYS_ON as ON
            from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
            from opentelemetry.trace import SpanKind, Status, StatusCode, set_span_in_context
            from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
        except ImportError as exc:
            raise TracingError(
                f"tracing needs the `tracing` extra (pip install 'seldon-graph[tracing]'): {exc}"
            ) from exc
        root = {ALWAYS_ON: ON, ALWAYS_OFF: OFF}.get(settings.sampler) or TraceIdRatioBased(settings.ratio)
        self.provider = TracerProvider(
            sampler=ParentBased(root), resource=Resource.create({"service.name": settings.service_name})
        )
        self.provider.add_span_processor(BatchSpanProcessor(_exporter(settings)))
        self.tracer = self.provider.get_tracer("seldon_graph")
        w3c = TraceContextTextMapPropagator()
        self._reader = CompositePropagator([B3SingleFormat(), B3MultiFormat(), w3c])
        self._writer = CompositePropagator([w3c, B3MultiFormat()] if settings.b3 else [w3c])
        self.SERVER, self.CLIENT = SpanKind.SERVER, SpanKind.CLIENT
        self._error, self._status = StatusCode.ERROR, Status
        self.context_of = set_span_in_context  # the context whose current span is the given one
        self.settings = settings

    def extract(self, headers: Iterable[tuple[str, str | bytes]]) -> Any:
        """The trace context that request headers (or gRPC metadata, whose `-bin` values are bytes) carry; an empty
        one when they carry none."""
        return self._reader.extract({key.lower(): value for key, value in headers})

    def start(self, name: str, parent: Any, kind: Any, attributes: dict[str, str]) -> Any:
        """A started span, child of the context `parent` (end it with `finish`)."""
        return self.tracer.start_span(name, context=parent, kind=kind, attributes=attributes)

    def headers(self, span: Any) -> list[tuple[str, str]]:
        """The headers that make the callee's spans children of `span`."""
        carrier: dict[str, str] = {}
        self._writer.inject(carrier, context=self.context_of(span))
        return list(carrier.items())

    def finish(self, span: Any, status: str, failed: bool) -> None:
        span.set_attribute("seldon.status", status)
        if failed:
            span.set_status(self._status(self._error, status))
        span.end()

    def shutdown(self) -> None:
        """Export what is buffered and stop (before the process exits)."""
        self.provider.shutdown()


def _exporter(settings: TracingSettings) -> Any:
    if settings.protocol == HTTP:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

        endpoint = settings.endpoint
        if endpoint and not endpoint.rstrip("/").endswith("/v1/traces"):
            endpoint = endpoint.rstrip("/") + "/v1/traces"
        return HttpExporter(endpoint=endpoint) if endpoint else HttpExporter()
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

    endpoint = settings.endpoint
    return GrpcExporter(endpoint=endpoint, insecure=not endpoint.startswith("https")) if endpoint else GrpcExporter()


def start_tracing(env: Mapping[str, str], switched_on: bool, service_name: str) -> Tracing | None:
    """Tracing for this process, or None when it is off (then nothing of OpenTelemetry is loaded)."""
    settings = tracing_settings(env, switched_on, service_name)
    if settings is None:
        return None
    tracing = Tracing(settings)
    log.info(
        "tracing on: OTLP %s to %s, sampler %s %g",
        settings.protocol,
        settings.endpoint or "the default endpoint",
        settings.sampler,
        settings.ratio,
    )
    return tracing
