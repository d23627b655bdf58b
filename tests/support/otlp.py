"""A trace collector for tests: an OTLP/gRPC TraceService on 127.0.0.1 that keeps every span it is sent."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as service_pb

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict


class Collector:
    """Spans received so far, by the service.name of the process that sent them."""

    def __init__(self):
        self.spans: list[ReceivedSpan] = []
        self._lock = threading.Lock()
        self.port = 0

    def export(self, request: service_pb.ExportTraceServiceRequest, context) -> service_pb.ExportTraceServiceResponse:
        received = []
        for resource_spans in request.resource_spans:
            resource = {kv.key: kv.value.string_value for kv in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    received.append(
                        ReceivedSpan(
                            service=resource.get("service.name", ""),
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_id=span.parent_span_id.hex(),
                            attributes={kv.key: kv.value.string_value for kv in span.attributes},
                        )
                    )
        with self._lock:
            self.spans.extend(received)
        return service_pb.ExportTraceServiceResponse()

    def wait_for(self, count: int, timeout: float = 30.0, **attributes: str) -> list[ReceivedSpan]:
        """At least `count` spans whose attributes include `attributes` (seldon.node=… as seldon_node=…)."""
        wanted = {key.replace("_", "."): value for key, value in attributes.items()}
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = [s for s in self.spans if all(s.attributes.get(k) == v for k, v in wanted.items())]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


@contextlib.contextmanager
def collector_running() -> Iterator[Collector]:
    collector = Collector()
    server = grpc.server(futures.ThreadPoolExecutor(2))
    handler = grpc.unary_unary_rpc_method_handler(
        collector.export,
        service_pb.ExportTraceServiceRequest.FromString,
        service_pb.ExportTraceServiceResponse.SerializeToString,
    )
    service, method = EXPORT.rsplit("/", 1)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service.strip("/"), {method: handler}),))
    collector.port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield collector
    finally:
        server.stop(0)
