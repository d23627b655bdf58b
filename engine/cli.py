"""`seldon-engine`: the per-predictor orchestrator process, a drop-in for the Seldon executor container.

Accepts the executor's flags (underscore or dash spelling), reads the predictor from ENGINE_PREDICTOR or --file,
serves REST and gRPC on one uvloop event loop, and on SIGTERM stops accepting, finishes what is in flight
(up to --graceful_timeout) and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import logging
import os
import signal
import sys
from typing import Any, NamedTuple

import grpc
import uvloop

from seldon_graph.allocator import keep_freed_memory
from seldon_graph.durations import duration_seconds
from seldon_graph.engine.graph import Graph
from seldon_graph.engine.metrics import EngineMetrics
from seldon_graph.engine.predictor import GRPC, REST, Predictor, PredictorError, build_predictor
from seldon_graph.engine.protocols import WireProtocol, protocol_named
from seldon_graph.engine.request_logger import RequestLogger
from seldon_graph.engine.source import (
    PREDICTOR_ENV,
    PredictorSource,
    from_env,
    from_file,
    message_size,
    read_annotations_file,
    timeout_ms,
)
from seldon_graph.engine.traces import EngineTracer
from seldon_graph.engine.unit_pool import UnitPool
from seldon_graph.http11 import Limits, listening_socket
from seldon_graph.labels import GRPC_MAX_MESSAGE_ANNOTATION, GRPC_TIMEOUT_ANNOTATION, REST_TIMEOUT_ANNOTATION
from seldon_graph.tracing import Tracing, TracingError, start_tracing

log = logging.getLogger("seldon_graph.engine")


def duration(text: str) -> float:
    """Seconds from a Go-style duration (`15s`, `500ms`, `1m`) or a plain number of seconds."""
    try:
        return duration_seconds(text, bare_unit="s")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_ms(text: str) -> int:
    """A whole, positive number of milliseconds."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of milliseconds: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seldon-engine", description="Serve one Seldon predictor graph.")

    def flag(name: str, **kwargs) -> None:
        parser.add_argument(f"--{name}", *([f"--{name.replace('_', '-')}"] if "_" in name else []), **kwargs)

    flag("sdep", default=os.environ.get("SELDON_DEPLOYMENT_ID", ""), help="SeldonDeployment name")
    flag("namespace", default=os.environ.get("POD_NAMESPACE", ""), help="namespace")
    flag("predictor", default="", help="predictor name (chooses it in a SeldonDeployment --file)")
    flag("file", default="", help="PredictorSpec or SeldonDeployment, YAML or JSON (else env ENGINE_PREDICTOR)")
    flag("http_port", type=int, default=8080)
    flag("grpc_port", type=int, default=5000)
    flag("host", default="0.0.0.0", help="address to listen on")
    flag("protocol", default="seldon", choices=["seldon", "v2", "kfserving", "tensorflow"])
    flag("transport", default="", help="default unit transport (rest|grpc) for endpoints without a type")
    flag("server_type", default="rpc", choices=["rpc"])
    flag("prometheus_path", default="/metrics")
    flag("full_health_checks", default="false", help="accepted for compatibility; readiness is a TCP check")
    flag("graceful_timeout", type=duration, default=duration("15s"))
    flag("shutdown_delay", type=duration, default=0.0)
    flag("hostname", default=os.environ.get("POD_NAME", "localhost"))
    flag("annotations_file", default="/etc/podinfo/annotations")
    flag(
        "annotation",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an annotation such as seldon.io/rest-timeout=2000 (wins over the file and the SeldonDeployment)",
    )
    flag("rest_timeout", type=float, default=None, help="ms; same as annotation seldon.io/rest-timeout")
    flag("grpc_timeout", type=float, default=None, help="ms; same as annotation seldon.io/grpc-timeout")
    flag("logger_workers", type=int, default=4)
    flag("log_work_buffer_size", type=int, default=10000)
    flag(
        "log_write_timeout_ms",
        type=positive_ms,
        default=2000,
        help="ms; bounds each request-log send to its sink (enqueueing never waits)",
    )
    flag("log_level", default=os.environ.get("SELDON_LOG_LEVEL", "INFO"))
    flag("debug", action="store_true")
    Limits.add_flags(parser)
    return parser


class Served(NamedTuple):
    """What one engine serves: the protocol, and the predictor as walked for REST and for gRPC clients (the same
    one unless the protocol follows the client's transport; `over_grpc` is None when its units have no gRPC port)."""

    protocol: WireProtocol[Any]
    over_rest: Predictor
    over_grpc: Predictor | None
    source: PredictorSource


def load(args: argparse.Namespace) -> Served:
    """The validated predictor from --file or ENGINE_PREDICTOR plus the annotations from every source."""
    if args.file:
        source = from_file(args.file, args.predictor)
    elif os.environ.get(PREDICTOR_ENV):
        source = from_env(os.environ[PREDICTOR_ENV])
    else:
        raise PredictorError(f"no predictor: set env {PREDICTOR_ENV} (base64 JSON PredictorSpec) or pass --file")
    annotations = {**read_annotations_file(args.annotations_file), **source.annotations}
    for item in args.annotation:
        key, sep, value = item.partition("=")
        if not sep:
            raise PredictorError(f"--annotation {item!r}: expected KEY=VALUE")
        annotations[key] = value
    for key, value in ((REST_TIMEOUT_ANNOTATION, args.rest_timeout), (GRPC_TIMEOUT_ANNOTATION, args.grpc_timeout)):
        if value is not None:
            annotations[key] = str(value)
    protocol = protocol_named(args.protocol)
    logger_url = os.environ.get("REQUEST_LOGGER_DEFAULT_ENDPOINT", "")
    if protocol.follows_client_transport:
        predictor = build_predictor(with_transport(source.predictor, REST), annotations, REST, logger_url)
        try:
            over_grpc = build_predictor(with_transport(source.predictor, GRPC), annotations, GRPC, logger_url)
        except PredictorError as exc:
            log.warning("no %s gRPC API: %s", protocol.name, exc)
            over_grpc = None
    else:
        transport = (args.transport or source.transport or "rest").upper()
        predictor = over_grpc = build_predictor(source.predictor, annotations, transport, logger_url)
    for node in predictor.nodes():
        if node.builtin and node.implementation not in protocol.builtins:
            raise PredictorError(
                f"graph node '{node.name}': implementation {node.implementation} works only with the seldon "
                f"protocol, not {protocol.name}"
            )
    for key in (REST_TIMEOUT_ANNOTATION, GRPC_TIMEOUT_ANNOTATION):
        timeout_ms(predictor.annotations, key)
    message_size(predictor.annotations, GRPC_MAX_MESSAGE_ANNOTATION)
    return Served(protocol, predictor, over_grpc, source)


def with_transport(predictor: dict, transport: str) -> dict:
    """A copy of a PredictorSpec whose every endpoint is called over `transport` (REST or GRPC)."""
    copied = copy.deepcopy(predictor)
    pending = [copied.get("graph")]
    while pending:
        unit = pending.pop()
        if not isinstance(unit, dict):
            continue
        if isinstance(unit.get("endpoint"), dict):
            unit["endpoint"]["type"] = transport
        pending.extend(unit.get("children") or [])
    return copied


async def serve(args: argparse.Namespace, served: Served, tracing: Tracing | None = None) -> int:
    protocol, predictor, source = served.protocol, served.over_rest, served.source
    deployment = args.sdep or source.deployment
    namespace = args.namespace or source.namespace
    units = UnitPool(predictor, protocol)
    metrics = EngineMetrics(deployment, predictor)
    logger = None
    if any(node.logger for node in predictor.nodes()):
        logger = RequestLogger(
            f"http://{args.hostname}:{args.http_port}/",
            deployment,
            namespace,
            predictor.name,
            args.logger_workers,
            args.log_work_buffer_size,
            args.log_write_timeout_ms / 1000,
            protocol.name,
        )
        logger.start()
    tracer = EngineTracer(tracing, deployment, predictor.name) if tracing is not None else None
    graph = Graph(predictor, units, metrics, logger, tracer=tracer, protocol=protocol)
    grpc_graph: Graph | None = graph
    grpc_units = units
    if served.over_grpc is not predictor:
        grpc_graph = None
        if served.over_grpc is not None:
            grpc_units = UnitPool(served.over_grpc, protocol)
            grpc_graph = Graph(served.over_grpc, grpc_units, metrics, logger, tracer=tracer, protocol=protocol)
    rest = protocol.rest_server(
        graph, units, prometheus_path=args.prometheus_path, deployment=deployment, namespace=namespace
    )
    http = rest.server(limits=Limits.from_args(args))
    await http.start(listening_socket(args.http_port, args.host))
    max_message = message_size(predictor.annotations, GRPC_MAX_MESSAGE_ANNOTATION)
    server = grpc.aio.server(
        options=[("grpc.max_send_message_length", max_message), ("grpc.max_receive_message_length", max_message)]
    )
    server.add_generic_rpc_handlers(tuple(protocol.grpc_handlers(grpc_graph)))
    server.add_insecure_port(f"{args.host}:{args.grpc_port}")
    await server.start()
    log.info(
        "serving predictor %s (protocol %s): REST on %s:%d, gRPC on %s:%d",
        predictor.name,
        protocol.name,
        args.host,
        args.http_port,
        args.host,
        args.grpc_port,
    )

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    log.info("stopping: draining in-flight requests (up to %gs)", args.graceful_timeout)
    if args.shutdown_delay:
        await asyncio.sleep(args.shutdown_delay)
    await asyncio.gather(http.shutdown(args.graceful_timeout), server.stop(args.graceful_timeout))
    if logger is not None:
        await logger.close()
    await units.close()
    if grpc_units is not units:
        await grpc_units.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        served = load(args)
    except PredictorError as exc:
        print(f"seldon-engine: invalid predictor: {exc}", file=sys.stderr)
        return 2
    try:
        tracing = start_tracing(os.environ, False, os.environ.get("JAEGER_SERVICE_NAME") or "executor")
    except TracingError as exc:
        print(f"seldon-engine: {exc}", file=sys.stderr)
        return 2
    keep_freed_memory()  # bodies are received, forwarded and freed on every request: reuse their memory
    try:
        return uvloop.run(serve(args, served, tracing))
    finally:
        if tracing is not None:
            tracing.shutdown()


if __name__ == "__main__":
    sys.exit(main())
