"""Envoy pieces that put the local OAuth token service in front of the ingress (pure: same input, same dict).

The ext_authz filter asks the token service (`/check<path>`) about every request; `/oauth/token` is routed to the
same service. Only deployments with oauth_key/oauth_secret are protected; the service lets everything else pass.
"""

from __future__ import annotations

import copy

from seldon_graph import envoy
from seldon_graph.operator.local.oauth import CHECK_PREFIX, UNAUTHORIZED

CLUSTER = "seldon_graph_oauth"
HCM = "envoy.filters.network.http_connection_manager"
TOKEN_PATH = "/oauth/token"
FORWARDED_HEADERS = ("authorization", "x-auth-token", "seldon", "namespace", "content-type")


def oauth_cluster(port: int) -> dict:
    return {
        "name": CLUSTER,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": CLUSTER,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": envoy.socket_address("127.0.0.1", port)}}]}],
        },
    }


def ext_authz_filter() -> dict:
    return {
        "name": "envoy.filters.http.ext_authz",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
            "transport_api_version": "V3",
            "failure_mode_allow": False,
            "http_service": {
                "server_uri": {"uri": "http://127.0.0.1", "cluster": CLUSTER, "timeout": "2s"},
                "path_prefix": CHECK_PREFIX,
                "authorization_request": {
                    "allowed_headers": {"patterns": [{"exact": h} for h in FORWARDED_HEADERS]},
                },
                "authorization_response": {
                    "allowed_client_headers": {"patterns": [{"exact": "content-type"}, {"exact": "www-authenticate"}]},
                },
            },
        },
    }


def unauthorized_reply_mapper() -> dict:
    """Envoy's 401 local reply (a refused check) as a Seldon status body carrying the token service's reason."""
    return envoy.local_reply_mapper(401, UNAUTHORIZED)


def token_route() -> dict:
    return {"match": {"path": TOKEN_PATH}, "route": {"cluster": CLUSTER}}


def with_oauth(bootstrap: dict, port: int) -> dict:
    """`bootstrap` with the token route first in every virtual host, ext_authz before the router, 401 replies as
    Seldon status bodies, and the token service's cluster."""
    result = copy.deepcopy(bootstrap)
    static = result.setdefault("static_resources", {})
    static.setdefault("clusters", []).append(oauth_cluster(port))
    for listener in static.get("listeners") or []:
        for chain in listener.get("filter_chains") or []:
            for network_filter in chain.get("filters") or []:
                if network_filter.get("name") != HCM:
                    continue
                config = network_filter["typed_config"]
                filters = config.setdefault("http_filters", [])
                filters.insert(max(len(filters) - 1, 0), ext_authz_filter())
                replies = config.setdefault("local_reply_config", {})
                replies["mappers"] = [unauthorized_reply_mapper(), *replies.get("mappers", [])]
                for host in (config.get("route_config") or {}).get("virtual_hosts") or []:
                    host.setdefault("routes", []).insert(0, token_route())
    return result
