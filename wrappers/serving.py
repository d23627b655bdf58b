"""The entry points of a unit's worker processes: a REST worker and the gRPC server.

Each process calls the user's `load()` itself (as gunicorn's post_worker_init does in Seldon v1) and only
then serves model calls; REST answers `/live` at once and `/ready` once `load()` has succeeded. SIGTERM
stops accepting, lets in-flight requests finish (up to the drain timeout) and exits 0.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from seldon_graph.http11 import HttpServer, Limits, listening_socket
from seldon_graph.wrappers.methods import UnitService
from seldon_graph.wrappers.rest import RestHandler, server_error
from seldon_graph.wrappers.traces import UnitTracer

if TYPE_CHECKING:  # importing metrics imports prometheus_client, which must wait for the multiprocess directory
    from seldon_graph.wrappers.metrics import PrometheusSink

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
LOAD_FAILED = 3


def port_is_free(port: int, host: str = "0.0.0.0") -> bool:
    """True when nothing listens on `port` (checked without SO_REUSEPORT, so another unit's workers count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


async def _stop_signal() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def serve_rest(
    handler: RestHandler,
    load: Callable[[], object],
    loaded: Callable[[], object],
    port: int,
    drain_timeout: float,
    shared: bool,
    threads: int,
    limits: Limits | None = None,
) -> int:
    """Serve REST on `port` (shared with sibling workers when `shared`) until SIGTERM; the worker's exit code.

    `load` is the user's load(), `loaded` tells the siblings it succeeded. With `threads` > 1, model calls run
    on a pool of that many threads; otherwise they run inline.
    """
    stop = await _stop_signal()
    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(threads, thread_name_prefix="model") if threads > 1 else None
    server = HttpServer(handler, server_error, handler.calls_model, pool, limits=limits)
    await server.start(listening_socket(port, reuse_port=shared))
    loading = loop.run_in_executor(None, load)
    stopping: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
    await asyncio.wait([loading, stopping], return_when=asyncio.FIRST_COMPLETED)
    if loading.done():
        if loading.exception() is not None:
            log.error("load() failed, the unit cannot serve", exc_info=loading.exception())
            await server.shutdown(0)
            return LOAD_FAILED
        handler.loaded = True
        loaded()
        log.info("REST worker ready on port %d", port)
        await stopping
    log.info("REST worker draining")
    handler.loaded = False
    await server.shutdown(drain_timeout)
    log.info("REST worker stopped")
    return 0


def die_with_parent() -> None:
    """Ask Linux to SIGTERM this child when the master process dies, even by SIGKILL, so no orphan keeps the port."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        log.debug("prctl is not available; workers will not follow the master process's death")
    if os.getppid() == 1:
        os.kill(os.getpid(), signal.SIGTERM)


def run_rest_worker(
    handler: RestHandler,
    load: Callable[[], object],
    loaded: Callable[[], object],
    port: int,
    drain_timeout: float,
    shared: bool,
    threads: int,
    limits: Limits | None = None,
) -> None:
    """Process target: a uvloop event loop running one REST worker."""
    import uvloop

    die_with_parent()
    sys.exit(uvloop.run(serve_rest(handler, load, loaded, port, drain_timeout, shared, threads, limits)))


def run_grpc_server(
    service: UnitService,
    metadata: dict | None,
    sink: PrometheusSink | None,
    load: Callable[[], object],
    port: int,
    drain_timeout: float,
    tracer: UnitTracer | None = None,
) -> None:
    """Process target: the gRPC server (grpc.aio on the default asyncio loop)."""
    from seldon_graph.wrappers.grpc_service import serve_grpc

    die_with_parent()
    sys.exit(asyncio.run(serve_grpc(service, metadata, sink, load, port, drain_timeout, _stop_signal, tracer)))
