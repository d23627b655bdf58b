"""The engine's Prometheus samples as the metrics tests read them."""

from __future__ import annotations

import time

import requests
from prometheus_client.parser import text_string_to_metric_families


def samples(engine, path="/metrics") -> list:
    text = requests.get(f"{engine.url}{path}", timeout=30).text
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def samples_once_counted(engine, name: str, count: int, timeout: float = 5.0) -> list:
    """The engine's samples once `name` has counted `count` requests: a gRPC server records a call just after
    its status has gone to the client."""
    deadline = time.monotonic() + timeout
    while True:
        found = samples(engine)
        if sum(s.value for s in found if s.name == name) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def value(found: list, name: str, **labels) -> float:
    matching = [s.value for s in found if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    assert matching, f"no sample {name} {labels}"
    return sum(matching)


def counted(engine, count: int, **labels) -> float:
    """The server histogram's count for `labels` once it reaches `count` (a gRPC server records a call just
    after its status has gone to the client); what it is after 5 s otherwise."""
    name = "seldon_api_executor_server_requests_seconds_count"
    deadline = time.monotonic() + 5
    while True:
        found = [
            s.value
            for s in samples(engine)
            if s.name == name and all(s.labels.get(key) == want for key, want in labels.items())
        ]
        if sum(found) >= count or time.monotonic() > deadline:
            return sum(found)
        time.sleep(0.05)
