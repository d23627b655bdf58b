"""Per-node numbers for `seldon-graph status`, read from each running engine's Prometheus metrics.

The engine observes every unit call in `seldon_api_executor_client_requests_seconds` (labels predictor_name,
model_name = node, code); counts and errors are summed over a node's calls, p50/p99 estimated from the histogram
buckets the way Prometheus' histogram_quantile does (linear within a bucket).
"""

from __future__ import annotations

import math
from collections import defaultdict

import requests
from prometheus_client.parser import text_string_to_metric_families

from seldon_graph.graph_drawing import NodeStats

CLIENT_HISTOGRAM = "seldon_api_executor_client_requests_seconds"
SUCCESS_CODES = frozenset({"200", "OK"})
SCRAPE_TIMEOUT = 2.0


def metrics_url(command: list[str]) -> str | None:
    """Where an engine process (by its command line) serves its metrics; None when it is not an engine."""
    if not command or not command[0].endswith("seldon-engine"):
        return None
    options = {}
    for flag, value in zip(command, command[1:]):
        if flag.startswith("--"):
            options[flag[2:].replace("-", "_")] = value
    port = options.get("http_port", "8080")
    return f"http://127.0.0.1:{port}{options.get('prometheus_path', '/metrics')}"


def scrape(url: str) -> str:
    """The exposition text, or "" when the engine does not answer (it may be starting or gone)."""
    try:
        response = requests.get(url, timeout=SCRAPE_TIMEOUT)
    except requests.RequestException:
        return ""
    return response.text if response.status_code == 200 else ""


def node_stats(exposition: str) -> dict[str, dict[str, NodeStats]]:
    """predictor → node → its unit calls' numbers."""
    counts: dict[tuple[str, str], float] = defaultdict(float)
    errors: dict[tuple[str, str], float] = defaultdict(float)
    buckets: dict[tuple[str, str], dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for family in text_string_to_metric_families(exposition):
        if family.name != CLIENT_HISTOGRAM:
            continue
        for sample in family.samples:
            key = (sample.labels.get("predictor_name", ""), sample.labels.get("model_name", ""))
            if sample.name.endswith("_count"):
                counts[key] += sample.value
                if sample.labels.get("code") not in SUCCESS_CODES:
                    errors[key] += sample.value
            elif sample.name.endswith("_bucket"):
                buckets[key][float(sample.labels["le"])] += sample.value
    stats: dict[str, dict[str, NodeStats]] = defaultdict(dict)
    for key, count in counts.items():
        cumulative = sorted(buckets[key].items())
        stats[key[0]][key[1]] = NodeStats(
            requests=int(count),
            errors=int(errors[key]),
            p50_ms=_quantile(0.5, cumulative),
            p99_ms=_quantile(0.99, cumulative),
        )
    return dict(stats)


def _quantile(q: float, cumulative: list[tuple[float, float]]) -> float | None:
    """The q-quantile in ms from cumulative (upper bound in s, count) buckets; None without observations."""
    if not cumulative or cumulative[-1][1] == 0:
        return None
    rank = q * cumulative[-1][1]
    lower, below = 0.0, 0.0
    for upper, count in cumulative:
        if count >= rank:
            if math.isinf(upper):
                return lower * 1000
            share = (rank - below) / (count - below) if count > below else 1.0
            return (lower + (upper - lower) * share) * 1000
        lower, below = upper, count
    return lower * 1000
