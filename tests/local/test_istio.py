"""The shadow example behind the Istio ingress (`up --ingress istio`): real processes, real Envoy configured from the
rendered VirtualService/DestinationRules, REST and gRPC. gRPC copies must reach the shadow too, which needs the
mirrored cluster to speak HTTP/2 (its protocol comes from the rendered Service ports)."""

from __future__ import annotations

import time

import pytest
import requests

from tests.local.conftest import grpc_predict, ndarray, shadow_manifest

pytestmark = pytest.mark.e2e


def test_istio_shadow_gets_rest_and_grpc_copies(local, tmp_path):
    local.up(shadow_manifest(tmp_path), "--ingress", "istio")
    record = tmp_path / "shadow-requests.log"
    for i in range(5):
        response = requests.post(local.rest("shadow"), json={"data": {"ndarray": [[float(i), 1.0]]}}, timeout=10)
        assert response.json()["data"]["ndarray"] == [[2.0 * i, 2.0]]
    for i in range(5, 10):
        assert ndarray(grpc_predict(local.port, "shadow", [[float(i), 1.0]])) == [[2.0 * i, 2.0]]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (not record.exists() or len(record.read_text().splitlines()) < 10):
        time.sleep(0.05)
    assert sorted(record.read_text().splitlines()) == sorted(f"{float(i)} 1.0" for i in range(10))
