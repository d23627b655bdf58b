"""core/envoy.py: the bootstrap pieces, checked by the real `envoy` (validate mode and a live listener)."""

import json
import subprocess

import pytest
import requests

from seldon_graph import envoy
from tests.support.procs import VENV_BIN, free_port, running, wait_http, wait_port

pytestmark = pytest.mark.e2e

ENVOY = str(VENV_BIN / "envoy")
# Stands in for the local runtime's OAuth check: a filter that refuses requests without a token.
TOKEN_FILTER = {
    "name": "envoy.filters.http.lua",
    "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
        "default_source_code": {
            "inline_string": (
                "function envoy_on_request(h) if h:headers():get('authorization') == nil then "
                "h:respond({[':status'] = '401'}, 'no token') end end"
            )
        },
    },
}


def envoy_accepts(config: dict, tmp_path) -> None:
    path = tmp_path / "envoy.json"
    path.write_text(json.dumps(config))
    result = subprocess.run(
        [ENVOY, "--mode", "validate", "-c", str(path), "--disable-hot-restart"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def sample_table(upstream_port: int) -> envoy.RouteTable:
    http = envoy.cluster("svc_8000_http1", ("127.0.0.1", upstream_port))
    grpc = envoy.cluster(
        "svc_5001_http2",
        ("127.0.0.1", upstream_port),
        "http2",
        circuit_breakers={"max_connections": 5},
        idle_timeout="60s",
    )
    routes = (
        {
            "match": {
                **envoy.path_match(regex="/seldon.protos.Seldon/.*"),
                "headers": [envoy.header_match("seldon", exact="x"), envoy.header_match("ns", regex="s.*")],
            },
            "route": {"cluster": "svc_5001_http2", "timeout": "3s"},
        },
        {
            "match": {**envoy.path_match(prefix="/seldon/ns/x/"), "headers": [envoy.header_match("k", present=True)]},
            "route": {
                **envoy.weighted_destination([("svc_8000_http1", 75), ("svc_5001_http2", 25)]),
                "prefix_rewrite": "/",
                "timeout": envoy.duration(0.5),
                "retry_policy": envoy.retry_policy("gateway-error", 2, "1s"),
                "request_mirror_policies": [envoy.mirror_policy("svc_8000_http1", 12.5)],
            },
        },
        {"match": envoy.path_match(prefix="/seldon/ns/x/"), "route": {"cluster": "svc_8000_http1"}},
    )
    return envoy.RouteTable(routes, (http, grpc))


def test_helpers():
    assert envoy.duration(3) == "3s" and envoy.duration(0.25) == "0.250s"
    assert envoy.weighted_destination([("a", 100), ("b", 0)]) == {"cluster": "a"}
    assert envoy.weighted_destination([("a", 0)]) == {"cluster": "a"}
    assert envoy.weighted_destination([("a", 75), ("b", 25)]) == {
        "weighted_clusters": {"clusters": [{"name": "a", "weight": 75}, {"name": "b", "weight": 25}]}
    }
    assert envoy.mirror_policy("m") == {"cluster": "m"}
    assert envoy.mirror_policy("m", 12.5)["runtime_fraction"] == {
        "default_value": {"numerator": 125000, "denominator": "MILLION"}
    }
    assert envoy.cluster_name("iris-main.seldon", 8000, "http1") == "iris-main.seldon_8000_http1"
    assert envoy.cluster_name("a", 1, "http2", {"max_connections": 1}) != envoy.cluster_name("a", 1, "http2")


def test_merge_keeps_route_order_and_dedupes_clusters():
    first, second = sample_table(1), sample_table(2)
    merged = envoy.merge([first, second])
    assert merged.routes == first.routes + second.routes
    assert [c["name"] for c in merged.clusters] == ["svc_5001_http2", "svc_8000_http1"]
    assert (
        merged.clusters[0]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"][
            "socket_address"
        ]["port_value"]
        == 1
    )


def test_bootstrap_is_deterministic_and_accepted_by_envoy(tmp_path):
    config = envoy.bootstrap(sample_table(9), 18003, 18004, [TOKEN_FILTER])
    assert json.dumps(config) == json.dumps(envoy.bootstrap(sample_table(9), 18003, 18004, [TOKEN_FILTER]))
    manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    assert manager["codec_type"] == "AUTO"
    assert [f["name"] for f in manager["http_filters"]] == ["envoy.filters.http.lua", "envoy.filters.http.router"]
    envoy_accepts(config, tmp_path)
    envoy_accepts(envoy.bootstrap([sample_table(1), sample_table(2)], 18003, 18004), tmp_path)


def test_live_listener_replies_with_seldon_status_bodies(tmp_path):
    listen, admin, dead = free_port(), free_port(), free_port()
    config = tmp_path / "envoy.json"
    config.write_text(json.dumps(envoy.bootstrap(sample_table(dead), listen, admin, [TOKEN_FILTER])))
    args = [ENVOY, "-c", str(config), "--disable-hot-restart", "--concurrency", "1", "-l", "warning"]
    with running(args, tmp_path / "envoy.log") as proc:
        wait_http(f"http://127.0.0.1:{admin}/ready", proc=proc)
        wait_port(listen, proc=proc)
        auth = {"Authorization": "Bearer t"}
        response = requests.get(f"http://127.0.0.1:{listen}/nowhere", headers=auth)
        assert response.status_code == 404
        assert response.json() == {
            "status": {"code": -1, "info": envoy.NO_ROUTE_INFO, "reason": "NOT_FOUND", "status": 1}
        }
        response = requests.post(f"http://127.0.0.1:{listen}/seldon/ns/x/api", headers=auth, json={})
        assert response.status_code == 503
        assert response.json()["status"]["reason"] == "INGRESS_UPSTREAM_UNAVAILABLE"
        assert response.json()["status"]["info"]  # Envoy's reason text, e.g. "upstream connect error …"
        response = requests.get(f"http://127.0.0.1:{listen}/seldon/ns/x/api")
        assert response.status_code == 401  # the extra filter runs before the router
        assert response.json()["status"] == {"code": -1, "info": "no token", "reason": "INGRESS_ERROR", "status": 1}
