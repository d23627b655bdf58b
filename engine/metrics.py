"""Prometheus metrics of the engine: its own requests, every unit call, and the units' `meta.metrics` re-exported.

Names and labels follow the Seldon executor (`seldon_api_executor_server_requests_seconds`,
`seldon_api_executor_client_requests_seconds`), so existing dashboards keep working. Label children are cached,
because looking them up costs more than observing.
"""

from __future__ import annotations

import logging
import re

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from seldon_graph.engine.predictor import Node, Predictor

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
TIMER_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
SERVER_LABELS = ("deployment_name", "predictor_name", "predictor_version", "service", "method", "code")
CLIENT_LABELS = (
    "deployment_name",
    "predictor_name",
    "predictor_version",
    "service",
    "model_name",
    "model_image",
    "model_version",
    "method",
    "code",
)
CUSTOM_LABELS = ("deployment_name", "predictor_name", "predictor_version", "model_name", "model_image", "model_version")
_INVALID_NAME = re.compile(r"[^a-zA-Z0-9_:]")
log = logging.getLogger(__name__)


def split_image(image: str) -> tuple[str, str]:
    """(name, version) of an image, split at the last ':' unless that ':' belongs to a registry port."""
    name, sep, tag = image.rpartition(":")
    if not sep or "/" in tag:
        return image, ""
    return name, tag


class EngineMetrics:
    """All metrics of one engine, in their own registry (exposed at the prometheus path)."""

    def __init__(self, deployment: str, predictor: Predictor):
        self.registry = CollectorRegistry()
        self._base = (deployment, predictor.name, predictor.version)
        self._server = Histogram(
            "seldon_api_executor_server_requests_seconds",
            "Engine request latency",
            SERVER_LABELS,
            registry=self.registry,
            buckets=BUCKETS,
        )
        self._client = Histogram(
            "seldon_api_executor_client_requests_seconds",
            "Unit call latency",
            CLIENT_LABELS,
            registry=self.registry,
            buckets=BUCKETS,
        )
        self._feedback = Counter(
            "seldon_api_engine_feedback", "Feedback delivered per node", CUSTOM_LABELS, registry=self.registry
        )
        self._reward = Counter(
            "seldon_api_engine_feedback_reward", "Feedback reward per node", CUSTOM_LABELS, registry=self.registry
        )
        self._node_labels = {
            node.name: (*self._base, node.name, *split_image(node.image)) for node in predictor.nodes()
        }
        self._children: dict[tuple, object] = {}
        self._custom: dict[str, tuple[object, tuple[str, ...]]] = {}

    def server(self, service: str, method: str, code: str, seconds: float) -> None:
        key = ("s", service, method, code)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self._server.labels(*self._base, service, method, code)
        child.observe(seconds)

    def unit_call(self, node: Node, service: str, method: str, code: str, seconds: float) -> None:
        key = ("c", node.name, service, method, code)
        child = self._children.get(key)
        if child is None:
            model_name, image, version = self._node_labels[node.name][3:]
            child = self._children[key] = self._client.labels(
                *self._base, service, model_name, image, version, method, code
            )
        child.observe(seconds)

    def feedback(self, node: Node, reward: float) -> None:
        labels = self._node_labels[node.name]
        self._feedback.labels(*labels).inc()
        if reward:
            self._reward.labels(*labels).inc(reward)

    def custom(self, node: Node, metrics: list) -> None:
        """Re-export a unit's `meta.metrics` (COUNTER, GAUGE, TIMER in ms) labelled with the node."""
        for metric in metrics:
            try:
                self._record(node, metric)
            except (AttributeError, KeyError, TypeError, ValueError) as exc:
                log.warning("ignoring metric %r from node %s: %s", metric, node.name, exc)

    def _record(self, node: Node, metric: dict) -> None:
        kind = metric.get("type", "COUNTER")
        key = _INVALID_NAME.sub("_", str(metric["key"]))
        value = float(metric.get("value", 0))
        tags = {_INVALID_NAME.sub("_", str(k)): str(v) for k, v in (metric.get("tags") or {}).items()}
        tag_names = tuple(sorted(tags))
        registered = self._custom.get(key)
        if registered is None:
            labels = (*CUSTOM_LABELS, *tag_names)
            if kind == "GAUGE":
                collector = Gauge(key, f"Unit metric {key}", labels, registry=self.registry)
            elif kind == "TIMER":
                collector = Histogram(
                    f"{key}_seconds", f"Unit timer {key}", labels, registry=self.registry, buckets=TIMER_BUCKETS
                )
            elif kind == "COUNTER":
                collector = Counter(key, f"Unit counter {key}", labels, registry=self.registry)
            else:
                raise ValueError(f"unknown metric type {kind}")
            registered = self._custom[key] = (collector, tag_names)
        collector, known_tags = registered
        if known_tags != tag_names:
            raise ValueError(f"tags {tag_names} differ from the first use {known_tags}")
        child = collector.labels(*self._node_labels[node.name], *(tags[name] for name in tag_names))
        if kind == "GAUGE":
            child.set(value)
        elif kind == "TIMER":
            child.observe(value / 1000.0)
        else:
            child.inc(value)

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
