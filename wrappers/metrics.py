"""Prometheus metrics of a unit, correct across worker processes.

Every worker writes to prometheus-client's multiprocess files in one directory chosen by the master process
(PROMETHEUS_MULTIPROC_DIR, set before prometheus_client is imported); the master process serves their sum. There is
no per-worker label, so restarts and worker counts do not create new series. Exported:
- `seldon_api_model_requests_seconds` histogram (count = requests) per method, transport and status code;
- `seldon_api_model_feedback_total` and `seldon_api_model_feedback_reward_total` (Seldon's feedback counters);
- the user's custom metrics: COUNTER → `<key>_total`, GAUGE → last value, TIMER → histogram of ms/1000.
"""

from __future__ import annotations

import logging
import os

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.multiprocess import MultiProcessCollector

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
FEEDBACK_KEY = "seldon_api_model_feedback"
FEEDBACK_REWARD_KEY = "seldon_api_model_feedback_reward"
REQUESTS_KEY = "seldon_api_model_requests_seconds"
# seldon-core's TIMER bins: 50 log-spaced bounds from 1 ms to 30 s, then +Inf (its lowest edge, 0, is no bucket)
TIMER_BUCKETS = [*np.logspace(-3, np.log10(30), 50).tolist(), float("inf")]
REQUEST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)


def registry() -> CollectorRegistry:
    """A registry that reads every worker's multiprocess files (for the metrics endpoint)."""
    reg = CollectorRegistry()
    MultiProcessCollector(reg, path=os.environ[MULTIPROC_ENV])
    return reg


class PrometheusSink:
    """Records custom metrics, feedback and request timings of this worker."""

    def __init__(self, default_labels: dict):
        self.default_labels = dict(default_labels)
        self._families: dict[tuple, object] = {}
        self._request_children: dict[tuple[str, str, str], Histogram] = {}
        self._requests = Histogram(
            REQUESTS_KEY,
            "Requests served by the wrapper, by method, transport and status code",
            ["method", "transport", "code", *self.default_labels],
            buckets=REQUEST_BUCKETS,
            registry=None,
        )

    def _family(self, kind: str, key: str, label_names: tuple):
        family = self._families.get((kind, key, label_names))
        if family is None:
            if kind == "COUNTER":
                family = Counter(key, key, label_names, registry=None)
            elif kind == "GAUGE":
                family = Gauge(key, key, label_names, registry=None, multiprocess_mode="mostrecent")
            else:
                family = Histogram(key, key, label_names, buckets=TIMER_BUCKETS, registry=None)
            self._families[(kind, key, label_names)] = family
        return family

    def record(self, metrics: list, method: str) -> None:
        for metric in metrics:
            kind = metric.get("type", "COUNTER")
            labels = {str(k): str(v) for k, v in (metric.get("tags") or {}).items()}
            labels.update(method=method, **self.default_labels)
            try:
                child = self._family(kind, str(metric["key"]), tuple(labels)).labels(**labels)
                value = float(metric["value"])
                if kind == "COUNTER":
                    child.inc(value)
                elif kind == "GAUGE":
                    child.set(value)
                else:
                    child.observe(value / 1000)
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("custom metric %r not exported: %s", metric, exc)

    def record_feedback(self, reward: float) -> None:
        self.record(
            [
                {"type": "COUNTER", "key": FEEDBACK_KEY, "value": 1},
                {"type": "COUNTER", "key": FEEDBACK_REWARD_KEY, "value": reward},
            ],
            "feedback",
        )

    def observe_request(self, method: str, transport: str, code: str, seconds: float) -> None:
        key = (method, transport, code)
        child = self._request_children.get(key)
        if child is None:
            child = self._requests.labels(method, transport, code, *self.default_labels.values())
            self._request_children[key] = child
        child.observe(seconds)
