"""Custom metric helpers with seldon-core's names: create_counter, create_gauge, create_timer, validate_metrics."""

from __future__ import annotations

import numbers

from seldon_graph.wrappers.methods import valid_metrics

COUNTER = "COUNTER"
GAUGE = "GAUGE"
TIMER = "TIMER"


def _metric(kind: str, key: str, value: float) -> dict:
    """The metric dict; a TypeError for a value that is not a number, as seldon-core raises when it builds one."""
    if not isinstance(value, numbers.Number):
        raise TypeError(f"{kind} {key!r} needs a number as its value, got {value!r}")
    return {"key": key, "type": kind, "value": value}


def create_counter(key: str, value: float) -> dict:
    return _metric(COUNTER, key, value)


def create_gauge(key: str, value: float) -> dict:
    return _metric(GAUGE, key, value)


def create_timer(key: str, value: float) -> dict:
    return _metric(TIMER, key, value)


def validate_metrics(metrics: list) -> bool:
    return valid_metrics(metrics)
