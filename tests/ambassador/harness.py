"""Real processes for the Envoy translation tests: echo backends and an `envoy` built from our bootstrap.

Shared by tests/ambassador and tests/istio. Backends are named by the short Kubernetes Service name they stand
in for (`example-main`), so `resolve` maps a rendered service address to the backend playing that Service.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import requests

from seldon_graph import envoy
from seldon_graph.proto import prediction_pb2, prediction_pb2_grpc
from tests.support.procs import VENV_BIN, free_port, running, wait_http, wait_port

ROOT = Path(__file__).resolve().parents[2]
GRPC_SERVICE_PORTS = (5001, 9500)


@dataclass
class Backends:
    http: dict[str, int]
    grpc: dict[str, int]
    control_port: int

    def resolve(self, host: str, port: int) -> tuple[str, int]:
        """A rendered Service address → the local backend standing in for it (gRPC ports → gRPC backend)."""
        short = host.split(".", 1)[0]
        ports = self.grpc if port in GRPC_SERVICE_PORTS else self.http
        return "127.0.0.1", ports[short]

    def count(self, name: str) -> int:
        """Requests backend `name` has received so far (HTTP and gRPC)."""
        response = requests.get(f"http://127.0.0.1:{self.control_port}/__count/{name}", timeout=5)
        return response.json()["count"]


@contextlib.contextmanager
def echo_backends(tmp_path: Path, names: list[str], grpc: bool = True) -> Iterator[Backends]:
    """One process serving an HTTP (and a gRPC) echo backend per name, plus a control server."""
    http_ports = {name: free_port() for name in names}
    grpc_ports = {name: free_port() for name in names} if grpc else {}
    control = free_port()
    args = [sys.executable, "-m", "tests.ambassador.echo_backends", "--http", f"__control:{control}"]
    args += [arg for name, port in http_ports.items() for arg in ("--http", f"{name}:{port}")]
    args += [arg for name, port in grpc_ports.items() for arg in ("--grpc", f"{name}:{port}")]
    with running(args, tmp_path / "backends.log", cwd=ROOT) as proc:
        wait_http(f"http://127.0.0.1:{control}/__count/x", proc=proc)
        for port in grpc_ports.values():
            wait_port(port, proc=proc)
        yield Backends(http_ports, grpc_ports, control)


def assert_envoy_accepts(table: envoy.RouteTable, tmp_path: Path) -> None:
    """The real `envoy` accepts a bootstrap of `table` (validate mode: config checked, nothing served)."""
    path = tmp_path / "envoy-validate.json"
    path.write_text(json.dumps(envoy.bootstrap(table, 18003, 18004)))
    result = subprocess.run(
        [str(VENV_BIN / "envoy"), "--mode", "validate", "-c", str(path), "--disable-hot-restart"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


@contextlib.contextmanager
def envoy_ingress(tmp_path: Path, table: envoy.RouteTable, extra_http_filters=()) -> Iterator[int]:
    """A real `envoy` serving `table`; yields its listener port."""
    listen, admin = free_port(), free_port()
    config = tmp_path / f"envoy-{listen}.json"
    config.write_text(json.dumps(envoy.bootstrap(table, listen, admin, extra_http_filters)))
    args = [str(VENV_BIN / "envoy"), "-c", str(config), "--disable-hot-restart", "--concurrency", "1", "-l", "warning"]
    with running(args, tmp_path / f"envoy-{listen}.log") as proc:
        wait_http(f"http://127.0.0.1:{admin}/ready", proc=proc)
        wait_port(listen, proc=proc)
        yield listen


PREDICT = "api/v1.0/predictions"
PAYLOAD = {"data": {"ndarray": [[1.0, 2.0]]}}


def rest_split(port: int, prefix: str, count: int) -> Counter:
    """POST `count` predictions to `prefix` through the ingress; which backend answered how often.

    Also checks every request reached its backend with the prefix rewritten to `/`."""
    seen: Counter = Counter()
    with requests.Session() as session:
        for _ in range(count):
            response = session.post(f"http://127.0.0.1:{port}{prefix}{PREDICT}", json=PAYLOAD)
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["path"] == f"/{PREDICT}"
            seen[body["backend"]] += 1
    return seen


def grpc_predict(port: int, metadata: list[tuple[str, str]], timeout: float = 5.0) -> str:
    """seldon.protos.Seldon/Predict through the ingress; the name of the backend that answered."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        request = prediction_pb2.SeldonMessage()
        request.data.ndarray.values.add().number_value = 1.0
        reply = prediction_pb2_grpc.SeldonStub(channel).Predict(request, metadata=metadata, timeout=timeout)
        return reply.meta.tags["backend"].string_value


def wait_count(backends: Backends, name: str, expected: int, timeout: float = 10.0) -> int:
    """Backend `name`'s request count once it reaches `expected` (mirrors arrive asynchronously) or time is up."""
    deadline = time.monotonic() + timeout
    while backends.count(name) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return backends.count(name)
