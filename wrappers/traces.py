"""The unit's spans: one per model call, a child of the engine's unit-call span whose context arrives in
`traceparent` (or B3) headers over REST and in the same keys of the gRPC metadata."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from seldon_graph.tracing import Tracing


class UnitTracer:
    """Spans labelled with the deployment, predictor and node this unit serves (as the operator's env says)."""

    def __init__(self, tracing: Tracing, labels: dict):
        self.tracing = tracing
        self.node = labels.get("model_name", "")
        self.base = {
            "seldon.deployment": labels.get("deployment_name", ""),
            "seldon.predictor": labels.get("predictor_name", ""),
            "seldon.node": self.node,
        }

    def begin(self, method: str, transport: str, headers: Iterable[tuple[str, str | bytes]]) -> Any:
        attributes = {**self.base, "seldon.method": method, "seldon.transport": transport}
        return self.tracing.start(
            f"{self.node} {method}", self.tracing.extract(headers), self.tracing.SERVER, attributes
        )

    def end(self, span: Any, status: str, failed: bool) -> None:
        self.tracing.finish(span, status, failed)
