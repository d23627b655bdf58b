"""Static Envoy (v3 API) configuration pieces shared by the Ambassador and Istio translations.

The local runtime runs a real `envoy` as its ingress. `seldon_graph.ambassador.envoy_routes` and
`seldon_graph.istio.envoy_routes` turn the routing objects the operator renders for a cluster into a
`RouteTable` (routes + clusters) built from the helpers here; `bootstrap` wraps one or more tables into a
complete static bootstrap: one listener serving REST (HTTP/1.1) and gRPC (h2c) on the same port, an admin
endpoint, and Seldon status bodies for every reply Envoy makes itself (no route, upstream timeout, …).
All functions are pure: same input, same dict.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

Protocol = Literal["http1", "http2", "auto"]
# Maps a Kubernetes service address (host, port) to the local (ip, port) serving it.
Resolve = Callable[[str, int], tuple[str, int]]

HCM_TYPE = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
ROUTER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
HTTP_OPTIONS_TYPE = "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
HTTP_OPTIONS_KEY = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"

NO_ROUTE_INFO = "No SeldonDeployment route matches this request path and headers"
# Envoy's own replies (reason per status code); everything else falls back to INGRESS_ERROR.
LOCAL_REPLY_REASONS = {404: "NOT_FOUND", 503: "INGRESS_UPSTREAM_UNAVAILABLE", 504: "INGRESS_UPSTREAM_TIMEOUT"}


@dataclass(frozen=True)
class RouteTable:
    """Envoy routes (first match wins, in order) and the clusters they send to."""

    routes: tuple[dict, ...] = ()
    clusters: tuple[dict, ...] = ()


def merge(tables: Iterable[RouteTable]) -> RouteTable:
    """One table from several: routes concatenated in order, clusters de-duplicated by name."""
    routes: list[dict] = []
    clusters: dict[str, dict] = {}
    for table in tables:
        routes.extend(table.routes)
        for cluster_ in table.clusters:
            clusters.setdefault(cluster_["name"], cluster_)
    return RouteTable(tuple(routes), tuple(clusters[name] for name in sorted(clusters)))


def duration(seconds: float) -> str:
    """Envoy's JSON duration form: 3 → "3s", 0.25 → "0.250s"."""
    if float(seconds).is_integer():
        return f"{int(seconds)}s"
    return f"{seconds:.3f}s"


def cluster_name(host: str, port: int, protocol: Protocol, extra: dict | None = None) -> str:
    """A stable, readable cluster name for a Kubernetes service address (not the local address it maps to)."""
    name = f"{re.sub(r'[^A-Za-z0-9.-]', '_', host)}_{port}_{protocol}"
    if extra:
        digest = hashlib.md5(json.dumps(extra, sort_keys=True).encode()).hexdigest()[:8]
        name = f"{name}_{digest}"
    return name


def cluster(
    name: str,
    address: tuple[str, int],
    protocol: Protocol = "http1",
    connect_timeout: float = 2.0,
    circuit_breakers: dict | None = None,
    idle_timeout: str | None = None,
) -> dict:
    """A STATIC cluster with one endpoint; `protocol` http2 for gRPC, auto to follow the downstream protocol."""
    ip, port = address
    options: dict = {"@type": HTTP_OPTIONS_TYPE}
    if protocol == "http2":
        options["explicit_http_config"] = {"http2_protocol_options": {}}
    elif protocol == "auto":
        options["use_downstream_protocol_config"] = {"http_protocol_options": {}, "http2_protocol_options": {}}
    else:
        options["explicit_http_config"] = {"http_protocol_options": {}}
    if idle_timeout:
        options["common_http_protocol_options"] = {"idle_timeout": idle_timeout}
    result: dict = {
        "name": name,
        "type": "STATIC",
        "connect_timeout": duration(connect_timeout),
        "lb_policy": "ROUND_ROBIN",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": socket_address(ip, port)}}]}],
        },
        "typed_extension_protocol_options": {HTTP_OPTIONS_KEY: options},
    }
    if circuit_breakers:
        result["circuit_breakers"] = {"thresholds": [dict(circuit_breakers)]}
    return result


class ClusterSet:
    """The clusters a translation's routes name: each built once, at the local address `resolve` gives."""

    def __init__(self, resolve: Resolve):
        self.resolve = resolve
        self.by_name: dict[str, dict] = {}

    def name_for(
        self,
        host: str,
        port: int,
        protocol: Protocol,
        circuit_breakers: dict | None = None,
        idle_timeout: str | None = None,
    ) -> str:
        """The cluster for a service address (built on first use); circuit breakers are part of its name."""
        name = cluster_name(host, port, protocol, circuit_breakers)
        if name not in self.by_name:
            self.by_name[name] = cluster(
                name, self.resolve(host, port), protocol, circuit_breakers=circuit_breakers, idle_timeout=idle_timeout
            )
        return name

    def table(self, routes: Iterable[dict]) -> RouteTable:
        """`routes` with the clusters they name, sorted by name."""
        return RouteTable(tuple(routes), tuple(self.by_name[name] for name in sorted(self.by_name)))


def socket_address(ip: str, port: int) -> dict:
    return {"socket_address": {"address": ip, "port_value": int(port)}}


def header_match(
    name: str, exact: str | None = None, regex: str | None = None, prefix: str | None = None, present: bool = False
) -> dict:
    """A HeaderMatcher: exact value, RE2 full match, prefix, or mere presence."""
    if exact is not None:
        return {"name": name, "string_match": {"exact": exact}}
    if regex is not None:
        return {"name": name, "string_match": {"safe_regex": {"regex": regex}}}
    if prefix is not None:
        return {"name": name, "string_match": {"prefix": prefix}}
    if present:
        return {"name": name, "present_match": True}
    raise ValueError(f"header match on {name!r} needs a value, a regex, a prefix or presence")


def path_match(prefix: str | None = None, regex: str | None = None, exact: str | None = None) -> dict:
    """A RouteMatch on the path (prefix, RE2 full match or exact path)."""
    if prefix is not None:
        return {"prefix": prefix}
    if regex is not None:
        return {"safe_regex": {"regex": regex}}
    if exact is not None:
        return {"path": exact}
    raise ValueError("a path match needs a prefix, a regex or an exact path")


def weighted_destination(weights: list[tuple[str, int]]) -> dict:
    """The route-action part that picks the cluster: one cluster, or a weighted split (zero weights dropped)."""
    live = [(name, weight) for name, weight in weights if weight > 0]
    if not live:
        live = weights[:1]
    if len(live) == 1:
        return {"cluster": live[0][0]}
    return {"weighted_clusters": {"clusters": [{"name": name, "weight": weight} for name, weight in live]}}


def mirror_policy(cluster_name_: str, percent: float = 100.0) -> dict:
    """Copy a share of requests to `cluster_name_`; Envoy discards the mirror's responses."""
    policy: dict = {"cluster": cluster_name_}
    if percent < 100:
        policy["runtime_fraction"] = {
            "default_value": {"numerator": int(round(percent * 10000)), "denominator": "MILLION"}
        }
    return policy


def retry_policy(retry_on: str, num_retries: int, per_try_timeout: str | None = None) -> dict:
    policy: dict = {"retry_on": retry_on, "num_retries": int(num_retries)}
    if per_try_timeout:
        policy["per_try_timeout"] = per_try_timeout
    return policy


def _status_body(reason: str) -> dict:
    """A local reply body format: a Seldon status body whose info is Envoy's reply text."""
    return {
        "json_format": {"status": {"code": -1, "info": "%LOCAL_REPLY_BODY%", "reason": reason, "status": 1}},
        "content_type": "application/json",
    }


def local_reply_mapper(code: int, reason: str) -> dict:
    """Envoy's own `code` replies as Seldon status bodies with `reason`."""
    return {
        "filter": {
            "status_code_filter": {
                "comparison": {
                    "op": "EQ",
                    "value": {"default_value": code, "runtime_key": f"seldon_graph.local_reply.{code}"},
                }
            }
        },
        "body_format_override": _status_body(reason),
    }


def _local_reply_config() -> dict:
    """Envoy's own error replies as Seldon status bodies, so clients see why (not an empty 404/503/504)."""
    mappers = []
    for code, reason in LOCAL_REPLY_REASONS.items():
        mapper = local_reply_mapper(code, reason)
        if code == 404:
            mapper["body"] = {"inline_string": NO_ROUTE_INFO}
        mappers.append(mapper)
    return {"mappers": mappers, "body_format": _status_body("INGRESS_ERROR")}


def http_connection_manager(routes: Iterable[dict], extra_http_filters: Iterable[dict] = ()) -> dict:
    """HTTP/1.1 and h2c on one port (codec AUTO); `extra_http_filters` run before the router."""
    return {
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": {
            "@type": HCM_TYPE,
            "stat_prefix": "seldon_ingress",
            "codec_type": "AUTO",
            "route_config": {
                "name": "seldon",
                "virtual_hosts": [{"name": "seldon", "domains": ["*"], "routes": list(routes)}],
            },
            "http_filters": [
                *extra_http_filters,
                {"name": "envoy.filters.http.router", "typed_config": {"@type": ROUTER_TYPE}},
            ],
            "local_reply_config": _local_reply_config(),
        },
    }


def listener(
    listen_port: int, routes: Iterable[dict], extra_http_filters: Iterable[dict] = (), listen_address: str = "127.0.0.1"
) -> dict:
    return {
        "name": "seldon_ingress",
        "address": socket_address(listen_address, listen_port),
        # exclusive: with SO_REUSEPORT a second Envoy on the same port would silently take half the connections
        "enable_reuse_port": False,
        "filter_chains": [{"filters": [http_connection_manager(routes, extra_http_filters)]}],
    }


def admin(admin_port: int, address: str = "127.0.0.1") -> dict:
    return {"address": socket_address(address, admin_port)}


def bootstrap(
    routes_and_clusters: RouteTable | Iterable[RouteTable],
    listen_port: int,
    admin_port: int,
    extra_http_filters: Iterable[dict] = (),
    listen_address: str = "127.0.0.1",
) -> dict:
    """A complete static Envoy bootstrap (JSON/YAML-able) for `envoy -c`.

    `routes_and_clusters` is one RouteTable or several (merged in order). `extra_http_filters` are full
    HttpFilter dicts (name + typed_config), inserted before the router, e.g. an OAuth check.
    """
    table = routes_and_clusters if isinstance(routes_and_clusters, RouteTable) else merge(routes_and_clusters)
    return {
        "node": {"id": "seldon-graph-ingress", "cluster": "seldon-graph"},
        "admin": admin(admin_port, listen_address),
        "static_resources": {
            "listeners": [listener(listen_port, table.routes, extra_http_filters, listen_address)],
            "clusters": list(table.clusters),
        },
    }
