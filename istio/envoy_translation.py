"""Istio VirtualServices + DestinationRules → Envoy routes and clusters, for the local runtime's Envoy ingress.

Each `http` route of each VirtualService (in order; one Envoy route per `match` entry) keeps Istio's meaning:
URI prefix/exact/regex and header matches, `rewrite.uri`, weighted destinations, `mirror` with
`mirrorPercentage`, `timeout` (none by default) and `retries` (Istio's default of 2 attempts when unset).
A cluster speaks the protocol Istio would pick from the Service port (`appProtocol`, else the port name
prefix: grpc/http2 → HTTP/2, http → HTTP/1.1) when the Services are given; otherwise it follows the downstream
protocol, which is right for routed requests but sends mirrored gRPC copies as HTTP/1.1. Clusters take the HTTP
idle timeout of the DestinationRule for their host. Subsets need no local meaning: `resolve` maps a
host and port to the one local process serving it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from seldon_graph import envoy

DEFAULT_PORT = 80
DEFAULT_RETRIES: dict[str, Any] = {
    "attempts": 2,
    "retryOn": "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes",
}
SUPPORTED_MATCH_KEYS = {"uri", "headers", "method", "name"}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def seconds(value: str) -> float:
    """An Istio duration ("10s", "500ms", "1.5m", "1h") in seconds."""
    found = _DURATION.match(str(value).strip())
    if not found:
        raise ValueError(f"not an Istio duration (like 10s or 500ms): {value!r}")
    return float(found.group(1)) * _UNIT_SECONDS[found.group(2)]


def qualify(host: str, namespace: str) -> str:
    """A short Service name is relative to the VirtualService's namespace, as Istio resolves it."""
    return host if "." in host else f"{host}.{namespace}.svc.cluster.local"


def _string_match(match: dict, what: str) -> dict:
    for key in ("exact", "prefix", "regex"):
        if key in match:
            return {key: match[key]}
    raise ValueError(f"{what}: a StringMatch needs exact, prefix or regex, got {match!r}")


def _match(match: dict, where: str) -> dict:
    unsupported = set(match) - SUPPORTED_MATCH_KEYS
    if unsupported:
        raise ValueError(f"{where}: match fields {sorted(unsupported)} are not supported by the local ingress")
    uri = _string_match(match["uri"], f"{where} uri") if "uri" in match else {"prefix": "/"}
    result = envoy.path_match(**uri)
    headers = [
        envoy.header_match(name, **_string_match(value, f"{where} header {name}"))
        for name, value in sorted((match.get("headers") or {}).items())
    ]
    if "method" in match:
        headers.append(envoy.header_match(":method", **_string_match(match["method"], f"{where} method")))
    if headers:
        result["headers"] = headers
    return result


def port_protocol(port: dict) -> envoy.Protocol:
    """Istio's protocol selection for a Service port: `appProtocol`, else the name's prefix."""
    selector = (port.get("appProtocol") or str(port.get("name") or "").split("-", 1)[0]).lower()
    if selector in ("grpc", "grpc-web", "http2", "h2c"):
        return "http2"
    if selector == "http":
        return "http1"
    return "auto"


def _protocols(services: Iterable[dict]) -> dict[tuple[str, int], envoy.Protocol]:
    result = {}
    for service in services:
        metadata = service.get("metadata") or {}
        host = qualify(metadata["name"], metadata.get("namespace") or "default")
        for port in (service.get("spec") or {}).get("ports") or []:
            result[(host, int(port["port"]))] = port_protocol(port)
    return result


class _Clusters:
    """Istio destinations → clusters: the Service port's protocol and the DestinationRule's idle timeout."""

    def __init__(
        self, resolve: envoy.Resolve, idle_timeouts: dict[str, str], protocols: dict[tuple[str, int], envoy.Protocol]
    ):
        self.idle_timeouts = idle_timeouts
        self.protocols = protocols
        self.clusters = envoy.ClusterSet(resolve)

    def name_for(self, destination: dict, namespace: str) -> str:
        host = qualify(destination["host"], namespace)
        port = int((destination.get("port") or {}).get("number") or DEFAULT_PORT)
        idle = self.idle_timeouts.get(host)
        return self.clusters.name_for(
            host,
            port,
            self.protocols.get((host, port), "auto"),
            idle_timeout=envoy.duration(seconds(idle)) if idle else None,
        )


def _idle_timeouts(destination_rules: Iterable[dict]) -> dict[str, str]:
    result = {}
    for rule in destination_rules:
        namespace = (rule.get("metadata") or {}).get("namespace") or "default"
        spec = rule.get("spec") or {}
        idle = (((spec.get("trafficPolicy") or {}).get("connectionPool") or {}).get("http") or {}).get("idleTimeout")
        if idle:
            result[qualify(spec["host"], namespace)] = idle
    return result


def _action(http: dict, namespace: str, clusters: _Clusters, prefix_match: bool) -> dict:
    weights = [
        (
            clusters.name_for(dest["destination"], namespace),
            int(dest.get("weight") or (100 if len(http.get("route") or []) == 1 else 0)),
        )
        for dest in http.get("route") or []
    ]
    if not weights:
        raise ValueError("an http route without `route` destinations is not supported by the local ingress")
    action = envoy.weighted_destination(weights)
    rewrite = http.get("rewrite") or {}
    if "uri" in rewrite:
        if prefix_match:
            action["prefix_rewrite"] = rewrite["uri"]
        else:
            action["regex_rewrite"] = {"pattern": {"regex": "^.*$"}, "substitution": rewrite["uri"]}
    if rewrite.get("authority"):
        action["host_rewrite_literal"] = rewrite["authority"]
    action["timeout"] = envoy.duration(seconds(http["timeout"])) if http.get("timeout") else "0s"
    retries = http.get("retries") or DEFAULT_RETRIES
    if int(retries.get("attempts") or 0) > 0:
        per_try = retries.get("perTryTimeout")
        action["retry_policy"] = envoy.retry_policy(
            retries.get("retryOn") or DEFAULT_RETRIES["retryOn"],
            int(retries["attempts"]),
            envoy.duration(seconds(per_try)) if per_try else None,
        )
    if http.get("mirror"):
        percent = float((http.get("mirrorPercentage") or {}).get("value", 100))
        action["request_mirror_policies"] = [envoy.mirror_policy(clusters.name_for(http["mirror"], namespace), percent)]
    return action


def envoy_routes(
    virtual_services: Iterable[dict],
    destination_rules: Iterable[dict],
    resolve: envoy.Resolve,
    services: Iterable[dict] = (),
) -> envoy.RouteTable:
    """Envoy routes + clusters serving the VirtualServices' http routes as Istio's gateway would.

    `resolve` maps a Service host (`iris-main.seldon.svc.cluster.local`) and port to the local (ip, port).
    `services` (the rendered Services, optional) tell each destination port's protocol.
    Raises ValueError naming the VirtualService for a route feature the local ingress does not implement.
    """
    clusters = _Clusters(resolve, _idle_timeouts(destination_rules), _protocols(services))
    routes = []
    for vs in virtual_services:
        metadata = vs.get("metadata") or {}
        namespace = metadata.get("namespace") or "default"
        for index, http in enumerate((vs.get("spec") or {}).get("http") or []):
            where = f"VirtualService {namespace}/{metadata.get('name')} http[{index}]"
            for match in http.get("match") or [{}]:
                envoy_match = _match(match, where)
                try:
                    action = _action(http, namespace, clusters, "prefix" in envoy_match)
                except ValueError as exc:
                    raise ValueError(f"{where}: {exc}") from None
                routes.append(
                    {"name": f"{namespace}/{metadata.get('name')}/{index}", "match": envoy_match, "route": action}
                )
    return clusters.clusters.table(routes)
