"""The unit's master process: forks the REST workers and the gRPC server, serves metrics, handles shutdown.

Children are forked after the user's object was built (so a bad class or parameter fails before anything
listens) and before any gRPC machinery exists in the master. SIGTERM is passed on to every child, each
drains its in-flight requests, and the master exits 0 once they all have. If a child dies on its own
(port taken, load() failed), the others are stopped and the master exits non-zero.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import threading
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class Plan:
    """What to run: ports, how many REST workers, whether gRPC runs, how long to drain."""

    http_port: int
    grpc_port: int
    metrics_port: int
    workers: int = 1
    grpc: bool = True
    drain_timeout: float = 30.0


class LoadedCounter:
    """How many REST workers have loaded the model, in memory shared by the forked workers."""

    def __init__(self, workers: int):
        self.workers = workers
        self.count = multiprocessing.get_context("fork").Value("i", 0)

    def add(self) -> None:
        with self.count.get_lock():
            self.count.value += 1

    def all_loaded(self) -> bool:
        return self.count.value >= self.workers


def _children(plan: Plan, targets) -> list[multiprocessing.Process]:
    ctx = multiprocessing.get_context("fork")
    rest_target, grpc_target = targets
    procs = [ctx.Process(target=rest_target, name=f"rest-{i}") for i in range(max(1, plan.workers))]
    if plan.grpc:
        procs.append(ctx.Process(target=grpc_target, name="grpc"))
    return procs


def _stop_all(procs: list[multiprocessing.Process], timeout: float) -> None:
    for proc in procs:
        if proc.is_alive():
            os.kill(proc.pid, signal.SIGTERM)
    for proc in procs:
        proc.join(timeout)
        if proc.is_alive():
            log.warning("%s did not stop within %.0fs, killing it", proc.name, timeout)
            proc.kill()
            proc.join()


def supervise(plan: Plan, rest_target, grpc_target, start_metrics) -> int:
    """Run the children until SIGTERM/SIGINT (exit 0) or until one of them fails (exit 1)."""
    procs = _children(plan, (rest_target, grpc_target))
    gc.freeze()  # what exists now (modules, the user's object) stays out of GC scans and copy-on-write faults
    for proc in procs:
        proc.start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        start_metrics(plan.metrics_port)
    except OSError as exc:
        log.error("cannot serve metrics on port %d: %s", plan.metrics_port, exc)
        _stop_all(procs, plan.drain_timeout + 5)
        return 1
    failed = None
    while not stop.is_set() and failed is None:
        failed = next((p for p in procs if p.exitcode is not None), None)
        stop.wait(0.2)
    if failed is not None and not stop.is_set():
        log.error("%s exited with code %s; stopping the unit", failed.name, failed.exitcode)
    _stop_all(procs, plan.drain_timeout + 5)
    if stop.is_set() and failed is None:
        return 0
    return 1 if failed is None or failed.exitcode == 0 else abs(failed.exitcode)
