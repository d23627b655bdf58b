"""The Envoy routes of every applied deployment at once, resolved to local addresses."""

from __future__ import annotations

from typing import NamedTuple

from seldon_graph.envoy import Resolve
from seldon_graph.operator.local.topology import Topology, UnresolvableAddress


class IngressObjects(NamedTuple):
    """One deployment's rendered ingress objects and which ingress (ambassador or istio) they are for."""

    ingress: str
    objects: list[dict]


def route_tables(entries: list[IngressObjects], resolve: Resolve) -> list:
    """Route tables for every deployment's ingress objects at once, so Envoy orders their routes together (a
    header route of one SeldonDeployment must precede the plain prefix route of another)."""
    from seldon_graph import ambassador, istio

    def objects(ingress: str, *kinds: str) -> list[dict]:
        return [o for entry in entries if entry.ingress == ingress for o in entry.objects if o.get("kind") in kinds]

    tables = []
    if any(entry.ingress == "ambassador" for entry in entries):
        tables.append(ambassador.envoy_routes(objects("ambassador", "Mapping", "Service"), resolve))
    if any(entry.ingress == "istio" for entry in entries):
        tables.append(
            istio.envoy_routes(
                objects("istio", "VirtualService"),
                objects("istio", "DestinationRule"),
                resolve,
                services=objects("istio", "Service"),
            )
        )
    return tables


def resolve_any(topologies: list[Topology]) -> Resolve:
    """Resolve a Service address in whichever deployment rendered that Service."""

    def resolve(host: str, port: int) -> tuple[str, int]:
        for topology in topologies:
            try:
                return topology.resolve(host, port)
            except UnresolvableAddress:
                continue
        raise UnresolvableAddress(f"no rendered Service serves {host}:{port}")

    return resolve
