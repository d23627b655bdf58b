"""Fixtures for the engine tests: real unit processes and engine processes.

Units are our wrapper (`units`) or the real seldon-core 1.18.2 wrapper (`seldon_core_units`), serving the same
classes from tests/engine/units/. They are started once per session, all at once, and shared by every test;
each test module starts the few engines (one per graph) it needs.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.procs import VENV_BIN, free_port, start, stop, wait_http, wait_port

UNITS_DIR = Path(__file__).parent / "units"
ECHO_UNIT = Path(__file__).parent / "echo_unit.py"
# unit id (also the graph node name that unit is used under, for feedback routing) → (class, service type)
UNIT_CLASSES = {
    "doubler": ("Doubler", "MODEL"),
    "addone": ("AddOne", "TRANSFORMER"),
    "router": ("RouteByFirst", "ROUTER"),
    "difference": ("Difference", "COMBINER"),
    "tagger": ("Tagger", "MODEL"),
    "failing": ("Failing", "MODEL"),
    "sleeper": ("Sleeper", "MODEL"),
}
_counter = itertools.count()
STARTUP_TIMEOUT = 120.0  # many processes start at once on a 2-core machine that other test suites share


@dataclass
class Unit:
    name: str
    http_port: int
    grpc_port: int
    feedback_log: Path

    def endpoint(self, transport: str = "REST") -> dict:
        return {"service_host": "127.0.0.1", "type": transport, "httpPort": self.http_port, "grpcPort": self.grpc_port}

    def feedback(self) -> list[dict]:
        if not self.feedback_log.exists():
            return []
        return [json.loads(line) for line in self.feedback_log.read_text().splitlines()]


@dataclass
class Engine:
    proc: object
    http_port: int
    grpc_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def log(self) -> str:
        return Path(self.proc.log_path).read_text(errors="replace")


@contextlib.contextmanager
def units_running(
    microservice: Path, workdir: Path, names: tuple[str, ...] = tuple(UNIT_CLASSES), env: dict | None = None
):
    """The test unit classes `names`, each served by `microservice` (a seldon-core-microservice), REST and gRPC,
    with `env` added to their environment."""
    started, procs = {}, []
    try:
        for name in names:
            cls, service_type = UNIT_CLASSES[name]
            unit = Unit(name, free_port(), free_port(), workdir / f"{name}-feedback.jsonl")
            unit_env = {**(env or {}), "PREDICTIVE_UNIT_ID": name, "FEEDBACK_LOG": str(unit.feedback_log)}
            args = [
                str(microservice),
                cls,
                "--service-type",
                service_type,
                "--http-port",
                str(unit.http_port),
                "--grpc-port",
                str(unit.grpc_port),
                "--metrics-port",
                str(free_port()),
            ]
            procs.append(start(args, workdir / f"{name}.log", env=unit_env, cwd=UNITS_DIR))
            started[name] = unit
        for proc, unit in zip(procs, started.values()):
            wait_http(f"http://127.0.0.1:{unit.http_port}/health/ping", timeout=STARTUP_TIMEOUT, proc=proc)
            wait_port(unit.grpc_port, timeout=STARTUP_TIMEOUT, proc=proc)
        yield started
    finally:
        for proc in procs:
            stop(proc)


@pytest.fixture(scope="session")
def units(tmp_path_factory) -> dict[str, Unit]:
    """Every test unit class served by our wrapper (seldon_graph.wrappers), REST and gRPC."""
    with units_running(VENV_BIN / "seldon-core-microservice", tmp_path_factory.mktemp("units")) as started:
        yield started


@pytest.fixture(scope="session")
def seldon_core_units(seldon_core, tmp_path_factory) -> dict[str, Unit]:
    """The same unit classes served by the real seldon-core 1.18.2 wrapper."""
    with units_running(seldon_core / "seldon-core-microservice", tmp_path_factory.mktemp("sc-units")) as started:
        yield started


@contextlib.contextmanager
def echo_unit(workdir: Path, port: int | None = None):
    """The echo unit on `port` (a free one by default)."""
    port = port or free_port()
    proc = start([sys.executable, str(ECHO_UNIT), str(port)], workdir / f"echo-{port}.log")
    try:
        wait_port(port, proc=proc)
        yield port
    finally:
        stop(proc)


def node(
    name: str,
    unit: Unit | None = None,
    node_type: str | None = "MODEL",
    children: list | None = None,
    transport: str = "REST",
    **extra,
) -> dict:
    """A PredictiveUnit dict for a test graph."""
    spec = {"name": name, "children": children or [], **extra}
    if node_type:
        spec["type"] = node_type
    if unit is not None:
        spec["endpoint"] = unit.endpoint(transport)
    return spec


def predictor(graph: dict, name: str = "p", **extra) -> dict:
    return {"name": name, "graph": graph, **extra}


def start_engine(spec: dict, workdir: Path, *args: str, env: dict | None = None) -> Engine:
    """Start an engine process serving `spec` (a PredictorSpec or SeldonDeployment dict); does not wait."""
    number = next(_counter)
    path = workdir / f"predictor-{number}.json"
    path.write_text(json.dumps(spec))
    engine = Engine(None, free_port(), free_port())
    command = [
        str(VENV_BIN / "seldon-engine"),
        "--file",
        str(path),
        "--http_port",
        str(engine.http_port),
        "--grpc_port",
        str(engine.grpc_port),
        "--host",
        "127.0.0.1",
        *args,
    ]
    engine.proc = start(command, workdir / f"engine-{number}.log", env=env)
    return engine


def wait_engine(engine: Engine, ready: bool = True) -> None:
    wait_http(f"{engine.url}/{'ready' if ready else 'live'}", timeout=STARTUP_TIMEOUT, proc=engine.proc)
    wait_port(engine.grpc_port, timeout=STARTUP_TIMEOUT, proc=engine.proc)


@contextlib.contextmanager
def engine_running(spec: dict, workdir: Path, *args: str, env: dict | None = None, wait_ready: bool = True):
    """An engine serving `spec` until the block ends."""
    engine = start_engine(spec, workdir, *args, env=env)
    try:
        wait_engine(engine, wait_ready)
        yield engine
    finally:
        stop(engine.proc)


@contextlib.contextmanager
def engines_running(specs: dict[str, dict], workdir: Path, never_ready: tuple[str, ...] = ()):
    """Several engines, started together (faster than one after the other), by name; all but `never_ready`
    are awaited until /ready."""
    engines = {}
    try:
        for name, spec in specs.items():
            engines[name] = start_engine(spec, workdir)
        for name, engine in engines.items():
            wait_engine(engine, ready=name not in never_ready)
        yield engines
    finally:
        for engine in engines.values():
            stop(engine.proc)


def values(message: dict) -> list:
    """The numbers of a SeldonMessage's data (ndarray, or tensor reshaped to 2-D), for comparisons."""
    data = message["data"]
    if "ndarray" in data:
        return data["ndarray"]
    tensor = data["tensor"]
    rows, cols = tensor["shape"]
    return [tensor["values"][r * cols : (r + 1) * cols] for r in range(rows)]
