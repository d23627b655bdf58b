"""Ambassador Mappings → Envoy routes and clusters, for the local runtime's Envoy ingress.

Follows Ambassador's semantics: Mappings with the same match (prefix, regex flag, headers, regex headers,
host) form one group served by one Envoy route; within a group the non-shadow Mappings split traffic by
`weight` (those without a weight share what the weighted ones leave of 100) and shadow Mappings become request
mirrors (`weight` = percentage mirrored, all when unset; the mirror's responses are discarded). Groups are
ordered like Ambassador orders them: precedence, then longer prefix, then more header constraints.
Per-route settings (rewrite, timeout, idle timeout, retries) come from the group's main Mapping.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from seldon_graph import envoy

from .legacy import ANNOTATION, parse_annotation
from .predictor_routes import AmbassadorConfigError

DEFAULT_TIMEOUT_MS = 3000
DEFAULT_SERVICE_PORT = 80
PRESENT = "\0present"  # group-key stand-in for a `header: true` (presence) match


@dataclass(frozen=True)
class Mapping:
    """One Mapping's name and spec, whichever form it came in."""

    name: str
    spec: dict

    def __post_init__(self) -> None:
        missing = [key for key in ("prefix", "service") if not self.spec.get(key)]
        if missing:
            raise AmbassadorConfigError(f"Mapping {self.name!r} has no {' or '.join(missing)}")

    @property
    def shadow(self) -> bool:
        return bool(self.spec.get("shadow"))

    def group_key(self) -> tuple:
        spec = self.spec
        headers = tuple(
            sorted((str(k), PRESENT if v is True else str(v)) for k, v in (spec.get("headers") or {}).items())
        )
        regex = tuple(sorted((str(k), str(v)) for k, v in (spec.get("regex_headers") or {}).items()))
        return (
            spec.get("hostname") or spec.get("host") or "*",
            spec["prefix"],
            bool(spec.get("prefix_regex")),
            headers,
            regex,
            spec.get("method") or "",
        )


def expand(objects: Iterable[dict]) -> list[Mapping]:
    """Mapping specs from Mapping CRs, legacy flat Mapping documents, and Services carrying the v1 annotation."""
    result: list[Mapping] = []
    for obj in objects:
        kind = obj.get("kind")
        if kind == "Service":
            text = ((obj.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION)
            if text:
                result.extend(expand(parse_annotation(text)))
        elif kind == "Mapping" and "spec" in obj:
            result.append(Mapping(obj["metadata"]["name"], obj["spec"]))
        elif kind == "Mapping":
            result.append(
                Mapping(obj.get("name", ""), {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "name")})
            )
    return result


def _serves(mapping: Mapping, ambassador_id: str | None) -> bool:
    """Whether an Ambassador with `ambassador_id` takes this Mapping (None: take every Mapping)."""
    if ambassador_id is None:
        return True
    ids = mapping.spec.get("ambassador_id") or ["default"]
    return ambassador_id in ([ids] if isinstance(ids, str) else ids)


def split_service(service: str) -> tuple[str, int]:
    """`host[:port]` (optionally with a scheme) → (host, port); Ambassador's default port is 80."""
    address = service.split("://", 1)[-1].rstrip("/")
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        return address, DEFAULT_SERVICE_PORT
    return host, int(port)


def canary_weights(primaries: list[Mapping]) -> list[int]:
    """Ambassador canary weights: explicit weights as given, the rest of 100 shared by the unweighted."""
    explicit = [m.spec.get("weight") for m in primaries]
    unweighted = [i for i, w in enumerate(explicit) if w is None]
    remaining = max(0, 100 - sum(int(w) for w in explicit if w is not None))
    weights = [int(w) if w is not None else 0 for w in explicit]
    for position, index in enumerate(unweighted):
        weights[index] = remaining // len(unweighted) + (1 if position < remaining % len(unweighted) else 0)
    return weights


def _cluster_for(clusters: envoy.ClusterSet, mapping: Mapping) -> str:
    """The cluster of a Mapping's service, protocol and circuit breakers (priority has no local meaning)."""
    host, port = split_service(mapping.spec["service"])
    protocol: envoy.Protocol = "http2" if mapping.spec.get("grpc") else "http1"
    breakers = (mapping.spec.get("circuit_breakers") or [None])[0]
    thresholds = {k: v for k, v in (breakers or {}).items() if k != "priority"} or None
    return clusters.name_for(host, port, protocol, thresholds)


def _match(spec: dict) -> dict:
    match = (
        envoy.path_match(regex=spec["prefix"]) if spec.get("prefix_regex") else envoy.path_match(prefix=spec["prefix"])
    )
    headers = []
    for name, value in sorted((spec.get("headers") or {}).items()):
        headers.append(
            envoy.header_match(name, present=True) if value is True else envoy.header_match(name, exact=str(value))
        )
    for name, regex in sorted((spec.get("regex_headers") or {}).items()):
        headers.append(envoy.header_match(name, regex=str(regex)))
    if spec.get("method"):
        headers.append(envoy.header_match(":method", exact=spec["method"]))
    if headers:
        match["headers"] = headers
    return match


def _action(main: dict, destination: dict, mirrors: list[dict]) -> dict:
    action = dict(destination)
    rewrite = main.get("rewrite", "/")
    if rewrite:
        if main.get("prefix_regex"):
            action["regex_rewrite"] = {"pattern": {"regex": main["prefix"]}, "substitution": rewrite}
        else:
            action["prefix_rewrite"] = rewrite
    timeout_ms = main.get("timeout_ms")
    action["timeout"] = envoy.duration((DEFAULT_TIMEOUT_MS if timeout_ms is None else int(timeout_ms)) / 1000)
    if main.get("idle_timeout_ms"):
        action["idle_timeout"] = envoy.duration(int(main["idle_timeout_ms"]) / 1000)
    retry = main.get("retry_policy")
    if retry:
        action["retry_policy"] = envoy.retry_policy(
            retry.get("retry_on") or "5xx", int(retry.get("num_retries") or 1), retry.get("per_try_timeout")
        )
    if mirrors:
        action["request_mirror_policies"] = mirrors
    return action


def _order(key: tuple, group: list[Mapping]) -> tuple:
    _, prefix, _, headers, regex, method = key
    precedence = max(int(m.spec.get("precedence") or 0) for m in group)
    return (-precedence, -len(prefix), -(len(headers) + len(regex) + bool(method)), prefix, headers, regex)


def envoy_routes(
    mappings: Iterable[dict], resolve: envoy.Resolve, ambassador_id: str | None = None
) -> envoy.RouteTable:
    """Envoy routes + clusters serving `mappings` as Ambassador would.

    `mappings` may hold Mapping CRs (getambassador.io v1/v2/v3alpha1), legacy `ambassador/v1` Mapping documents
    and Services carrying the `getambassador.io/config` annotation; other kinds are ignored. `resolve` maps a
    Kubernetes service address (`example-main.seldon`, 8000) to the local (ip, port) serving it.
    """
    groups: dict[tuple, list[Mapping]] = {}
    for mapping in expand(mappings):
        if _serves(mapping, ambassador_id):
            groups.setdefault(mapping.group_key(), []).append(mapping)
    clusters = envoy.ClusterSet(resolve)
    routes = []
    for key in sorted(groups, key=lambda k: _order(k, groups[k])):
        group = groups[key]
        primaries = [m for m in group if not m.shadow]
        if not primaries:
            continue
        split: dict[str, int] = {}
        for mapping, weight in zip(primaries, canary_weights(primaries)):
            name = _cluster_for(clusters, mapping)
            split[name] = split.get(name, 0) + weight
        mirrors = [
            envoy.mirror_policy(_cluster_for(clusters, m), float(m.spec.get("weight") or 100))
            for m in group
            if m.shadow
        ]
        main = next((m for m in primaries if m.spec.get("weight") is None), primaries[0]).spec
        routes.append(
            {
                "name": primaries[0].name,
                "match": _match(main),
                "route": _action(main, envoy.weighted_destination(list(split.items())), mirrors),
            }
        )
    return clusters.table(routes)
