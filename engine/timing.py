"""Per-node timing on the answer: a standard `Server-Timing` header saying where a request's time went.

On when the request carries `Seldon-Timing: 1` (or `meta`) or the predictor has the annotation
`seldon.io/server-timing: "true"`. Each node on the request's path gets one entry, the time its own steps took
(unit calls, or the in-process work of a built-in); `engine` is what is left of the whole request. With
`Seldon-Timing: meta` the same breakdown is also returned in `meta.metrics` as TIMER entries (milliseconds).
"""

from __future__ import annotations

from collections.abc import Mapping

from seldon_graph.parameters import TRUE_VALUES

TIMING_HEADER = "seldon-timing"
TIMING_ANNOTATION = "seldon.io/server-timing"
SERVER_TIMING = "Server-Timing"
ENGINE_ENTRY = "engine"
META_METRIC = "seldon_graph_node_time"
IN_META = "meta"


def wanted(headers: Mapping[str, str], annotations: Mapping[str, str]) -> bool:
    """Whether this request's answer carries the breakdown."""
    asked = headers.get(TIMING_HEADER)
    if asked is not None:
        return asked.strip().lower() in TRUE_VALUES or asked.strip().lower() == IN_META
    return str(annotations.get(TIMING_ANNOTATION, "")).strip().lower() in TRUE_VALUES


def in_meta(headers: Mapping[str, str]) -> bool:
    return headers.get(TIMING_HEADER, "").strip().lower() == IN_META


def server_timing(timings: Mapping[str, float], total: float) -> str:
    """`node;dur=ms, …, engine;dur=ms` from seconds per node (in path order) and the whole request."""
    entries = [f"{node};dur={seconds * 1000:.2f}" for node, seconds in timings.items()]
    rest = max(0.0, total - sum(timings.values()))
    entries.append(f"{ENGINE_ENTRY};dur={rest * 1000:.2f}")
    return ", ".join(entries)


def timer_metrics(timings: Mapping[str, float]) -> list[dict]:
    """The breakdown as Seldon TIMER metrics (ms), one per node, tagged with the node's name."""
    return [
        {"key": META_METRIC, "type": "TIMER", "value": round(seconds * 1000, 3), "tags": {"node": node}}
        for node, seconds in timings.items()
    ]
