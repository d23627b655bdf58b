"""The unit's master process: forks the REST workers and the gRPC server, serves metrics, handles shutdown.

Children are forked after the user's object was built (so a bad class or parameter fails before anything
listens) and before any gRPC machinery exists in the master. SIGTERM is passed on to every child, each
drains its in-flight requests, and the master exits 0 once they all have. A child that dies on its own (killed,
out of memory, a crash in native code) is replaced, as gunicorn replaces a dead worker, after a pause that
doubles while it keeps dying young; a child whose load() failed (exit code 3, gunicorn's boot error) stops the
unit: the others are stopped and the master exits non-zero.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess

log = logging.getLogger(__name__)

BOOT_FAILED = 3  # a worker's exit code when load() failed (serving.LOAD_FAILED): replacing it cannot help
RESPAWN_PAUSE = 0.5
RESPAWN_PAUSE_MAX = 10.0
YOUNG = 10.0  # a child that dies sooner than this after its start doubles the pause before the next one


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


Target = Callable[[], object]  # what a child process runs: the REST worker or the gRPC server


def _children(plan: Plan, rest_target: Target, grpc_target: Target) -> list[BaseProcess]:
    ctx = multiprocessing.get_context("fork")
    procs: list[BaseProcess] = [ctx.Process(target=rest_target, name=f"rest-{i}") for i in range(max(1, plan.workers))]
    if plan.grpc:
        procs.append(ctx.Process(target=grpc_target, name="grpc"))
    return procs


class Respawner:
    """Replaces dead children in place; the pause before a replacement doubles while they die young."""

    def __init__(self, procs: list[BaseProcess], targets: dict[str, Target]):
        self.procs = procs
        self.targets = targets
        self.started = {proc.name: time.monotonic() for proc in procs}
        self.pause = {proc.name: RESPAWN_PAUSE for proc in procs}
        self.due: dict[str, float] = {}

    def check(self) -> BaseProcess | None:
        """Replace what died and is due; the child that makes the unit fail (load() failed), if any."""
        now = time.monotonic()
        for index, proc in enumerate(self.procs):
            if proc.exitcode is None:
                continue
            if proc.exitcode == BOOT_FAILED:
                return proc
            name = proc.name
            if name not in self.due:
                young = now - self.started[name] < YOUNG
                self.pause[name] = min(self.pause[name] * 2, RESPAWN_PAUSE_MAX) if young else RESPAWN_PAUSE
                self.due[name] = now + self.pause[name]
                log.error(
                    "%s (pid %s) exited with code %s; starting a new one in %.1fs",
                    name,
                    proc.pid,
                    proc.exitcode,
                    self.pause[name],
                )
            if now >= self.due[name]:
                del self.due[name]
                replacement = multiprocessing.get_context("fork").Process(target=self.targets[name], name=name)
                replacement.start()
                self.procs[index] = replacement
                self.started[name] = now
                log.warning("%s restarted as pid %s", name, replacement.pid)
        return None


def _stop_all(procs: list[BaseProcess], timeout: float) -> None:
    for proc in procs:
        if proc.pid is not None and proc.is_alive():
            os.kill(proc.pid, signal.SIGTERM)
    for proc in procs:
        proc.join(timeout)
        if proc.is_alive():
            log.warning("%s did not stop within %.0fs, killing it", proc.name, timeout)
            proc.kill()
            proc.join()


def supervise(plan: Plan, rest_target: Target, grpc_target: Target, start_metrics: Callable[[int], object]) -> int:
    """Run the children until SIGTERM/SIGINT (exit 0) or until one of them fails (exit 1)."""
    procs = _children(plan, rest_target, grpc_target)
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
    respawner = Respawner(procs, {proc.name: grpc_target if proc.name == "grpc" else rest_target for proc in procs})
    failed = None
    while not stop.is_set() and failed is None:
        failed = respawner.check()
        stop.wait(0.2)
    if failed is not None and not stop.is_set():
        log.error("%s exited with code %s; stopping the unit", failed.name, failed.exitcode)
    _stop_all(procs, plan.drain_timeout + 5)
    if stop.is_set() and failed is None:
        return 0
    if failed is None or not failed.exitcode:
        return 1
    return abs(failed.exitcode)
