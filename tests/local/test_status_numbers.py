"""`seldon-graph status` draws each running deployment's graph with the numbers its engine measured, and the
engine's Server-Timing header reaches the client through the Envoy ingress unchanged."""

from __future__ import annotations

import re

import pytest
import requests

from tests.local.conftest import variant

pytestmark = pytest.mark.e2e

TO_MODEL_A, TO_MODEL_B = 4, 3  # [[1, 2]] goes to model-a, [[20, 1]] to model-b (examples/graph.yaml)


def _node_numbers(status_text: str, node: str) -> tuple[int, int]:
    match = re.search(rf"─ {node}  .*\[requests (\d+)  errors (\d+)  p50 [\d.]+ms  p99 [\d.]+ms\]", status_text)
    assert match, f"no numbers for {node} in:\n{status_text}"
    return int(match[1]), int(match[2])


def test_status_numbers_equal_the_requests_sent(local, tmp_path):
    local.up(variant(tmp_path, "graph.yaml", "name: graph", "name: counted"))
    url = local.rest("counted")
    for values, times in (([[1.0, 2.0]], TO_MODEL_A), ([[20.0, 1.0]], TO_MODEL_B)):
        for _ in range(times):
            assert requests.post(url, json={"data": {"ndarray": values}}, timeout=10).status_code == 200

    text = local.run("status", check=True).stdout
    assert "predictor default (traffic 100%)" in text
    assert _node_numbers(text, "transformer") == (TO_MODEL_A + TO_MODEL_B, 0)
    assert _node_numbers(text, "router") == (TO_MODEL_A + TO_MODEL_B, 0)
    assert _node_numbers(text, "model-a") == (TO_MODEL_A, 0)
    assert _node_numbers(text, "model-b") == (TO_MODEL_B, 0)


def test_server_timing_passes_through_the_ingress(local, tmp_path):
    local.up(variant(tmp_path, "graph.yaml", "name: graph", "name: timed"))
    response = requests.post(
        local.rest("timed"), json={"data": {"ndarray": [[1.0, 2.0]]}}, headers={"Seldon-Timing": "1"}, timeout=10
    )
    assert response.status_code == 200
    names = [entry.split(";")[0].strip() for entry in response.headers["Server-Timing"].split(",")]
    assert names == ["transformer", "router", "model-a", "engine"]
