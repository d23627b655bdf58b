"""Prometheus metrics of the engine: its own requests and every unit call (decision 10a).

Names and labels follow the Seldon executor (executor/api/metric: `seldon_api_executor_server_requests_seconds`,
`seldon_api_executor_client_requests_seconds`; gRPC `code` labels are grpc-go's status names), so existing
dashboards and alerts keep working. The units' own `meta.metrics` are not re-exported: the wrapper exports them
and Seldon's PodMonitor scrapes every `metrics` port, so a second copy would double every sum. Label children are
cached, because looking them up costs more than observing.
"""

from __future__ import annotations

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from seldon_graph.engine.predictor import Node, Predictor
from seldon_graph.engine.unit_errors import grpc_code_of
from seldon_graph.errors import SeldonError

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
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
NODE_LABELS = ("deployment_name", "predictor_name", "predictor_version", "model_name", "model_image", "model_version")
GRPC_GO_SPELLING = {"OK": "OK", "CANCELLED": "Canceled"}  # the names grpc-go does not spell in CamelCase of ours


def grpc_code_label(code: grpc.StatusCode) -> str:
    """grpc-go's name of a status (`InvalidArgument`), the executor's `code` label of gRPC calls."""
    return GRPC_GO_SPELLING.get(code.name) or code.name.title().replace("_", "")


def unit_call_code(wire: str, error: SeldonError | None) -> str:
    """The `code` label of a unit call: the HTTP status for REST units (as promhttp labels it), grpc-go's status
    name for gRPC units (as the executor's client interceptor labels it)."""
    if wire == "proto":
        return grpc_code_label(grpc.StatusCode.OK if error is None else grpc_code_of(error))
    return "200" if error is None else str(error.status_code)


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
            "seldon_api_engine_feedback", "Feedback delivered per node", NODE_LABELS, registry=self.registry
        )
        self._reward = Counter(
            "seldon_api_engine_feedback_reward", "Feedback reward per node", NODE_LABELS, registry=self.registry
        )
        self._node_labels = {
            node.name: (*self._base, node.name, *split_image(node.image)) for node in predictor.nodes()
        }
        self._children: dict[tuple, Histogram] = {}

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

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
