"""Custom metric helpers with seldon-core's names: create_counter, create_gauge, create_timer."""

from __future__ import annotations

from seldon_graph.wrappers.methods import valid_metrics

COUNTER = "COUNTER"
GAUGE = "GAUGE"
TIMER = "TIMER"


def _metric(kind: str, key: str, value: float) -> dict:
    float(value)  # fail early on a non-numeric value, as seldon-core does
    return {"key": key, "type": kind, "value": value}


def create_counter(key: str, value: float) -> dict:
    return _metric(COUNTER, key, value)


def create_gauge(key: str, value: float) -> dict:
    return _metric(GAUGE, key, value)


def create_timer(key: str, value: float) -> dict:
    return _metric(TIMER, key, value)


def validate_metrics(metrics: list) -> bool:
    return valid_metrics(metrics)
