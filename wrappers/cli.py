"""`seldon-core-microservice`: serve a Seldon v1 model class, drop-in for seldon-core's command.

Same arguments and environment as seldon-core 1.18 (flags we do not need, such as --max-requests, are
accepted and ignored; --tracing / TRACING=1 switch OpenTelemetry tracing on, see seldon_graph.tracing).
The interface is `Module` (class `Module` in `Module.py`) or `module.Class`, imported from the working directory; PREDICTIVE_UNIT_PARAMETERS become constructor
keyword arguments. A bad interface or parameter list is reported on stderr and exits non-zero before
anything listens.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import shutil
import sys
import tempfile
from functools import partial
from typing import Any

from seldon_graph.errors import SeldonError
from seldon_graph.http11 import Limits
from seldon_graph.parameters import TRUE_VALUES, parse_parameters
from seldon_graph.tracing import Tracing, TracingError, tracing_settings

log = logging.getLogger("seldon_graph.wrappers")

SERVICE_TYPES = ["MODEL", "ROUTER", "TRANSFORMER", "OUTPUT_TRANSFORMER", "COMBINER", "OUTLIER_DETECTOR"]
LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"]


class StartupError(Exception):
    """The unit cannot start; the message says what to fix."""


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value.strip() else default
    except ValueError:
        raise StartupError(f"environment variable {name}={value!r} is not an integer") from None


def _flag(value: str) -> bool:
    return value.strip().lower() in TRUE_VALUES


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="seldon-core-microservice", description=__doc__.split("\n")[0])
    p.add_argument("interface_name", help="Module or module.Class of the user's model class")
    p.add_argument("--service-type", choices=SERVICE_TYPES, default="MODEL")
    p.add_argument("--persistence", nargs="?", default=0, const=1, type=int, help="ignored (deprecated)")
    p.add_argument("--parameters", default=os.environ.get("PREDICTIVE_UNIT_PARAMETERS", "[]"))
    p.add_argument("--log-level", choices=LOG_LEVELS, default="INFO")
    p.add_argument("--debug", nargs="?", type=_flag, const=True, default=_flag(os.environ.get("SELDON_DEBUG", "")))
    p.add_argument(
        "--tracing", nargs="?", default=0, const=1, type=int, help="1: OpenTelemetry spans per call (also TRACING=1)"
    )
    p.add_argument("--workers", type=int, default=_env_int("GUNICORN_WORKERS", 1))
    p.add_argument("--threads", type=int, default=_env_int("GUNICORN_THREADS", 1))
    p.add_argument("--max-requests", type=int, default=_env_int("GUNICORN_MAX_REQUESTS", 0), help="ignored")
    p.add_argument(
        "--max-requests-jitter", type=int, default=_env_int("GUNICORN_MAX_REQUESTS_JITTER", 0), help="ignored"
    )
    p.add_argument("--keepalive", type=int, default=_env_int("GUNICORN_KEEPALIVE", 2), help="ignored")
    p.add_argument("--single-threaded", type=int, default=_env_int("FLASK_SINGLE_THREADED", 0))
    p.add_argument("--http-port", type=int, default=_env_int("PREDICTIVE_UNIT_HTTP_SERVICE_PORT", 9000))
    p.add_argument("--grpc-port", type=int, default=_env_int("PREDICTIVE_UNIT_GRPC_SERVICE_PORT", 5000))
    p.add_argument("--metrics-port", type=int, default=_env_int("PREDICTIVE_UNIT_METRICS_SERVICE_PORT", 6000))
    p.add_argument("--pidfile", default=None)
    p.add_argument("--access-log", nargs="?", type=_flag, const=True, default=False, help="ignored")
    p.add_argument("--grpc-threads", type=int, default=_env_int("GRPC_THREADS", 1), help="ignored")
    p.add_argument("--grpc-workers", type=int, default=_env_int("GRPC_WORKERS", 1), help="0 disables the gRPC server")
    p.add_argument(
        "--drain-timeout", type=float, default=30.0, help="seconds in-flight requests get to finish after SIGTERM"
    )
    Limits.add_flags(p)
    return p


def load_class(interface_name: str) -> type:
    """The user's class: `Module` → Module.Module, `pkg.module.Class` → Class of pkg.module.

    When seldon-core is not installed, its commonly imported parts are provided (seldon_graph.wrappers.compat).
    """
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    if importlib.util.find_spec("seldon_core") is None:
        from seldon_graph.wrappers import compat

        sys.path.append(compat.PATH)
    module_name, _, class_name = interface_name.rpartition(".")
    if not module_name:
        module_name = class_name = interface_name
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise StartupError(f"cannot import module {module_name!r} from {cwd}: {exc}") from exc
    try:
        return getattr(module, class_name)
    except AttributeError:
        raise StartupError(f"module {module_name!r} has no class {class_name!r}") from None


def build_user_object(interface_name: str, parameters: str) -> Any:
    try:
        kwargs = parse_parameters(parameters)
    except SeldonError as exc:
        raise StartupError(exc.info) from exc
    user_class = load_class(interface_name)
    try:
        return user_class(**kwargs)
    except TypeError as exc:
        raise StartupError(f"{interface_name}({', '.join(kwargs)}) failed: {exc}") from exc


def _setup_logging(level: str) -> None:
    level = os.environ.get("SELDON_LOG_LEVEL", level).upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(process)d %(name)s %(levelname)s: %(message)s",
    )


def main(argv: list[str] | None = None) -> int:
    try:
        args, unknown = parser().parse_known_args(argv)
    except StartupError as exc:
        print(f"seldon-core-microservice: {exc}", file=sys.stderr)
        return 2
    if unknown:
        print(f"seldon-core-microservice: unknown arguments {unknown}", file=sys.stderr)
        return 2
    _setup_logging(args.log_level)
    metrics_dir = tempfile.mkdtemp(prefix="seldon-graph-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        return _run(args)
    except StartupError as exc:
        log.error("%s", exc)
        print(f"seldon-core-microservice: {exc}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _run(args: argparse.Namespace) -> int:
    user_object = build_user_object(args.interface_name, args.parameters)
    from prometheus_client import start_http_server

    from seldon_graph.wrappers import master_process, metrics, serving
    from seldon_graph.wrappers.error_handlers import UserErrorHandlers
    from seldon_graph.wrappers.metadata import model_metadata
    from seldon_graph.wrappers.methods import UnitService
    from seldon_graph.wrappers.rest import RestHandler
    from seldon_graph.wrappers.settings import UnitSettings
    from seldon_graph.wrappers.traces import UnitTracer
    from seldon_graph.wrappers.user_model import UserModel

    if args.pidfile:
        with open(args.pidfile, "w") as pidfile:
            pidfile.write(str(os.getpid()))
    plan = master_process.Plan(
        args.http_port,
        args.grpc_port,
        args.metrics_port,
        max(1, args.workers),
        args.grpc_workers > 0,
        args.drain_timeout,
    )
    for name, port in (
        ("HTTP", plan.http_port),
        ("gRPC", plan.grpc_port if plan.grpc else None),
        ("metrics", plan.metrics_port),
    ):
        if port is not None and not serving.port_is_free(port):
            raise StartupError(f"{name} port {port} is already in use")
    user = UserModel(user_object)
    settings = UnitSettings.from_env()
    metadata = model_metadata(user)
    threads = 1 if args.single_threaded else max(1, args.threads)
    error_handlers = UserErrorHandlers.of(user_object)

    loaded_workers = master_process.LoadedCounter(plan.workers)
    try:
        tracing = tracing_settings(os.environ, bool(args.tracing), settings.unit_id or args.interface_name)
    except TracingError as exc:
        raise StartupError(str(exc)) from exc

    def unit_tracer() -> UnitTracer | None:
        """Each worker process starts its own exporter (its thread would not survive the fork)."""
        return None if tracing is None else UnitTracer(Tracing(tracing), settings.metric_labels)

    def rest_worker() -> None:
        sink = metrics.PrometheusSink(settings.metric_labels)
        tracer = unit_tracer()
        handler = RestHandler(
            UnitService(user, settings, sink),
            metadata,
            sink=sink,
            siblings_loaded=loaded_workers.all_loaded,
            error_handlers=error_handlers,
            tracer=tracer,
        )
        try:
            serving.run_rest_worker(
                handler,
                user.load,
                loaded_workers.add,
                args.http_port,
                args.drain_timeout,
                plan.workers > 1,
                threads,
                limits=Limits.from_args(args),
            )
        finally:
            if tracer is not None:
                tracer.tracing.shutdown()

    def grpc_worker() -> None:
        sink = metrics.PrometheusSink(settings.metric_labels)
        tracer = unit_tracer()
        try:
            serving.run_grpc_server(
                UnitService(user, settings, sink), metadata, sink, user.load, args.grpc_port, args.drain_timeout, tracer
            )
        finally:
            if tracer is not None:
                tracer.tracing.shutdown()

    log.info(
        "serving %s (%s): REST %d x%d, gRPC %s, metrics %d",
        args.interface_name,
        args.service_type,
        args.http_port,
        plan.workers,
        args.grpc_port if plan.grpc else "off",
        args.metrics_port,
    )
    return master_process.supervise(
        plan, rest_worker, grpc_worker, partial(start_http_server, registry=metrics.registry())
    )


if __name__ == "__main__":
    sys.exit(main())
