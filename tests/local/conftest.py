"""Fixtures for the local runtime: the real `seldon-graph` CLI against a temporary state directory."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import grpc
import pytest
from google.protobuf import json_format

from seldon_graph.proto import prediction_pb2, prediction_pb2_grpc
from tests.support.procs import VENV_BIN, free_port

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


class Local:
    """One state directory and ingress port, driven through the `seldon-graph` command line."""

    def __init__(self, home: Path, port: int):
        self.home = home
        self.port = port
        self.base = f"http://127.0.0.1:{port}"

    def env(self) -> dict:
        """The state directory, this venv first on PATH, and units that never get ready reported as Failed (with
        their logs) well before a command here times out."""
        return {
            **os.environ,
            "SELDON_GRAPH_HOME": str(self.home),
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
            "SELDON_GRAPH_READY_TIMEOUT": "60",
        }

    def run(self, *args: str, timeout: float = 120, check: bool = False) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(VENV_BIN / "seldon-graph"), *args],
            cwd=REPO,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"seldon-graph {' '.join(args)} → {result.returncode}\n{result.stdout}\n{result.stderr}"
            )
        return result

    def up(self, path: Path | str, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("up", "-f", str(path), "--detach", "--port", str(self.port), *extra, check=check)

    def status(self) -> dict:
        return json.loads(self.run("status", "--json", check=True).stdout)

    def pids(self) -> list[int]:
        found = []
        for status in self.status()["deployments"].values():
            found += [u["pid"] for u in status["units"]]
        supervisor = self.status()["supervisor"] or {}
        found += [p for p in (supervisor.get("pid"), supervisor.get("envoy_pid"), supervisor.get("oauth_pid")) if p]
        return found

    def rest(self, name: str, namespace: str = "seldon") -> str:
        return f"{self.base}/seldon/{namespace}/{name}/api/v1.0/predictions"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def grpc_predict(
    port: int, name: str, values: list, extra: tuple = (), namespace: str = "seldon"
) -> prediction_pb2.SeldonMessage:
    """Seldon.Predict through the ingress, addressed by `seldon`/`namespace` metadata as SeldonClient does."""
    request = json_format.ParseDict({"data": {"ndarray": values}}, prediction_pb2.SeldonMessage())
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = prediction_pb2_grpc.SeldonStub(channel)
        return stub.Predict(request, metadata=(("seldon", name), ("namespace", namespace), *extra), timeout=10)


def ndarray(message: prediction_pb2.SeldonMessage) -> list:
    return json_format.MessageToDict(message)["data"]["ndarray"]


def variant(folder: Path, example: str, old: str, new: str) -> Path:
    """A copy of examples/`example` in `folder` with `old` replaced by `new` (which must occur)."""
    text = (EXAMPLES / example).read_text()
    assert old in text, f"{old!r} not in {example}"
    path = folder / example
    path.write_text(text.replace(old, new))
    return path


def shadow_manifest(folder: Path) -> Path:
    """examples/shadow.yaml with the shadow's RECORD_FILE in `folder` (not the working directory)."""
    return variant(folder, "shadow.yaml", "value: shadow-requests.log", f"value: {folder / 'shadow-requests.log'}")


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """A fresh state directory; everything still running in it is brought down afterwards."""
    stack = Local(tmp_path_factory.mktemp("seldon-graph-home"), free_port())
    try:
        yield stack
    finally:
        stack.run("down", timeout=120)
