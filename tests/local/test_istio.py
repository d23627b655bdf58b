"""The shadow example behind the Istio ingress (`up --ingress istio`): real processes, real Envoy configured from the
rendered VirtualService/DestinationRules, REST and gRPC. gRPC copies must reach the shadow too, which needs the
mirrored cluster to speak HTTP/2 (its protocol comes from the rendered Service ports).

A mirrored copy is fire-and-forget (Envoy and Istio send it once, without retries), so the test first waits for one
copy to arrive and then requires every later copy; a failure shows Envoy's counters for the shadow's clusters and
the shadow units' last log lines."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest
import requests

from tests.local.conftest import Local, grpc_predict, ndarray, shadow_manifest

pytestmark = pytest.mark.e2e


def lines_within(record: Path, count: int, seconds: float) -> list[str]:
    """The record's lines once it has `count` of them, or whatever it has after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (not record.exists() or len(record.read_text().splitlines()) < count):
        time.sleep(0.05)
    return record.read_text().splitlines() if record.exists() else []


def shadow_diagnostics(local: Local) -> str:
    """Envoy's non-zero counters for the shadow predictor's clusters and the tail of each shadow unit's log."""
    supervisor = json.loads((local.home / "supervisor.json").read_text())
    url = f"http://127.0.0.1:{supervisor['admin_port']}/stats?filter=shadow-shadow"
    with urllib.request.urlopen(url, timeout=5) as response:
        counters = [line for line in response.read().decode().splitlines() if not line.endswith(": 0")]
    logs = [
        f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-15:])
        for path in sorted((local.home / "logs").rglob("*shadow-shadow*.log"))
    ]
    return "\n".join(["envoy:", *counters, *logs])


def test_istio_shadow_gets_rest_and_grpc_copies(local, tmp_path):
    local.up(shadow_manifest(tmp_path), "--ingress", "istio")
    record = tmp_path / "shadow-requests.log"
    response = requests.post(local.rest("shadow"), json={"data": {"ndarray": [[-1.0, 1.0]]}}, timeout=10)
    assert response.json()["data"]["ndarray"] == [[-2.0, 2.0]]
    assert lines_within(record, 1, 30) == ["-1.0 1.0"], shadow_diagnostics(local)
    for i in range(5):
        response = requests.post(local.rest("shadow"), json={"data": {"ndarray": [[float(i), 1.0]]}}, timeout=10)
        assert response.json()["data"]["ndarray"] == [[2.0 * i, 2.0]]
    for i in range(5, 10):
        assert ndarray(grpc_predict(local.port, "shadow", [[float(i), 1.0]])) == [[2.0 * i, 2.0]]
    copies = lines_within(record, 11, 10)[1:]
    assert sorted(copies) == sorted(f"{float(i)} 1.0" for i in range(10)), shadow_diagnostics(local)
