"""Real `seldon-core-microservice` processes (ours) on free ports, one per test model, shared per module."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.procs import VENV_BIN, free_port, start, stop, wait_http, wait_port

MODELS = Path(__file__).resolve().parent / "models"


@dataclass
class Unit:
    """A running unit: its ports and process."""

    http_port: int
    grpc_port: int
    metrics_port: int
    proc: subprocess.Popen

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http_port}{path}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"


def distinct_ports(count: int) -> list[int]:
    """`count` free ports, all different (free_port alone may hand out the same port twice in a row)."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def launch(log_dir: Path, interface: str, *args: str, env: dict | None = None) -> Unit:
    """Start our wrapper on `interface` from the models folder (not waiting for readiness)."""
    ports = distinct_ports(3)
    cmd = [
        str(VENV_BIN / "seldon-core-microservice"),
        interface,
        "--http-port",
        str(ports[0]),
        "--grpc-port",
        str(ports[1]),
        "--metrics-port",
        str(ports[2]),
        *args,
    ]
    log = log_dir / f"{interface}-{ports[0]}.log"
    return Unit(*ports, start(cmd, log, env=env, cwd=MODELS))


@contextlib.contextmanager
def running_unit(
    log_dir: Path, interface: str, *args: str, env: dict | None = None, grpc: bool = True
) -> Iterator[Unit]:
    """A unit that is ready on REST (and listening on gRPC) for the duration of the block."""
    unit = launch(log_dir, interface, *args, env=env)
    try:
        wait_http(unit.url("/ready"), proc=unit.proc)
        if grpc:
            wait_port(unit.grpc_port, proc=unit.proc)
        yield unit
    finally:
        stop(unit.proc)


def _unit_fixture(interface: str, *args: str, env: dict | None = None):
    @pytest.fixture(scope="module")
    def fixture(tmp_path_factory) -> Iterator[Unit]:
        with running_unit(tmp_path_factory.mktemp("logs"), interface, *args, env=env) as unit:
            yield unit

    return fixture


model = _unit_fixture("Model")
router = _unit_fixture("MyRouter", "--service-type", "ROUTER")
transformer = _unit_fixture("MyTransformer", "--service-type", "TRANSFORMER")
combiner = _unit_fixture("MyCombiner", "--service-type", "COMBINER")
bad_model = _unit_fixture("BadModel")
exc_model = _unit_fixture("ExcModel")
meta_model = _unit_fixture("MetaModel")
