"""Istio VirtualService + DestinationRules → Envoy routes and clusters (the translation alone), and the result
accepted by the real `envoy` in validate mode."""

import pytest

from seldon_graph import envoy, istio
from seldon_graph.istio.envoy_translation import port_protocol, qualify, seconds
from tests.ambassador import examples
from tests.ambassador.harness import assert_envoy_accepts

SETTINGS = istio.IstioSettings()


def local(host, port):
    return "127.0.0.1", port + 10000


def translate(objects, services=()):
    return istio.envoy_routes(
        [o for o in objects if o["kind"] == "VirtualService"],
        [o for o in objects if o["kind"] == "DestinationRule"],
        local,
        services,
    )


def vs(http, name="hand", namespace="ns"):
    return {
        "apiVersion": "networking.istio.io/v1beta1",
        "kind": "VirtualService",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"hosts": ["*"], "http": http},
    }


def test_canary_routes():
    rest, grpc = translate(istio.render(examples.canary("iris", main=90, canary_traffic=10), SETTINGS)).routes
    assert rest["match"] == {"prefix": "/seldon/seldon/iris/"}
    assert rest["route"]["prefix_rewrite"] == "/"
    assert rest["route"]["weighted_clusters"]["clusters"] == [
        {"name": "iris-main.seldon.svc.cluster.local_8000_auto", "weight": 90},
        {"name": "iris-canary.seldon.svc.cluster.local_8000_auto", "weight": 10},
    ]
    assert rest["route"]["timeout"] == "0s"  # Istio: no route timeout unless set
    assert rest["route"]["retry_policy"]["num_retries"] == 2  # Istio's default retry policy
    assert grpc["match"]["safe_regex"] == {"regex": ".*tensorflow.*|.*seldon.protos.*|.*inference.*"}
    assert grpc["match"]["headers"] == [
        {"name": "namespace", "string_match": {"exact": "seldon"}},
        {"name": "seldon", "string_match": {"exact": "iris"}},
    ]
    assert "prefix_rewrite" not in grpc["route"]


def test_destination_rule_idle_timeout_and_service_protocols():
    objects = istio.render(examples.canary("iris", main=90, canary_traffic=10), SETTINGS)
    services = [
        {
            "metadata": {"name": "iris-main", "namespace": "seldon"},
            "spec": {"ports": [{"name": "http", "port": 8000}, {"name": "grpc", "port": 5001}]},
        }
    ]
    clusters = {c["name"]: c for c in translate(objects, services).clusters}
    main_grpc = clusters["iris-main.seldon.svc.cluster.local_5001_http2"]
    options = main_grpc["typed_extension_protocol_options"][envoy.HTTP_OPTIONS_KEY]
    assert options["common_http_protocol_options"] == {"idle_timeout": "60s"}
    assert "iris-main.seldon.svc.cluster.local_8000_http1" in clusters
    assert "iris-canary.seldon.svc.cluster.local_8000_auto" in clusters
    assert port_protocol({"name": "grpc-web"}) == "http2"
    assert port_protocol({"name": "tcp", "appProtocol": "http2"}) == "http2"
    assert port_protocol({"name": "metrics"}) == "auto"


def test_mirror_retries_and_timeout():
    objects = istio.render(
        examples.shadow(
            shadow_traffic=25,
            spec_annotations={"seldon.io/istio-retries": "4", "seldon.io/istio-retries-timeout": "500ms"},
        ),
        SETTINGS,
    )
    objects[0]["spec"]["http"][0]["timeout"] = "1.5m"
    rest, grpc = translate(objects).routes
    assert rest["route"]["cluster"] == "example-default.seldon.svc.cluster.local_8000_auto"
    assert rest["route"]["request_mirror_policies"] == [
        {
            "cluster": "example-shadow.seldon.svc.cluster.local_8000_auto",
            "runtime_fraction": {"default_value": {"numerator": 250000, "denominator": "MILLION"}},
        }
    ]
    assert rest["route"]["retry_policy"] == {
        "retry_on": "gateway-error,connect-failure,refused-stream",
        "num_retries": 4,
        "per_try_timeout": "0.500s",
    }
    assert rest["route"]["timeout"] == "90s"
    assert grpc["route"]["request_mirror_policies"][0]["cluster"].endswith("_5001_auto")


def test_hand_written_routes():
    http = [
        {
            "match": [
                {"uri": {"exact": "/a"}},
                {"uri": {"prefix": "/b/"}, "method": {"exact": "POST"}, "headers": {"x-v": {"prefix": "2"}}},
            ],
            "rewrite": {"uri": "/c", "authority": "svc.example"},
            "route": [{"destination": {"host": "short", "port": {"number": 80}}}],
            "retries": {"attempts": 0},
        }
    ]
    exact, prefix = translate([vs(http)]).routes
    assert exact["match"] == {"path": "/a"}
    assert exact["route"]["regex_rewrite"] == {"pattern": {"regex": "^.*$"}, "substitution": "/c"}
    assert exact["route"]["cluster"] == "short.ns.svc.cluster.local_80_auto"
    assert exact["route"]["host_rewrite_literal"] == "svc.example" and "retry_policy" not in exact["route"]
    assert prefix["match"]["headers"] == [
        {"name": "x-v", "string_match": {"prefix": "2"}},
        {"name": ":method", "string_match": {"exact": "POST"}},
    ]
    assert prefix["route"]["prefix_rewrite"] == "/c"


@pytest.mark.parametrize(
    "http,message",
    [
        (
            [{"match": [{"queryParams": {"a": {"exact": "b"}}}], "route": [{"destination": {"host": "h"}}]}],
            "queryParams",
        ),
        ([{"match": [{"uri": {"prefix": "/"}}]}], "without `route`"),
        ([{"route": [{"destination": {"host": "h"}}], "timeout": "soon"}], "not an Istio duration"),
    ],
)
def test_unsupported_or_bad_routes_name_the_virtual_service(http, message):
    with pytest.raises(ValueError, match=message) as failure:
        translate([vs(http)])
    assert "VirtualService ns/hand http[0]" in str(failure.value)


def test_durations_and_hosts():
    assert seconds("10s") == 10 and seconds("500ms") == 0.5 and seconds("1m") == 60 and seconds("1h") == 3600
    assert qualify("iris-main", "seldon") == "iris-main.seldon.svc.cluster.local"
    assert qualify("iris-main.seldon.svc.cluster.local", "x") == "iris-main.seldon.svc.cluster.local"


def test_envoy_accepts_the_translation(tmp_path):
    objects = []
    for sdep in (
        examples.canary("iris", main=90, canary_traffic=10),
        examples.shadow(shadow_traffic=30),
        examples.seldon_deployment("expl", [{"name": "p", "explainer": {"type": "AnchorTabular"}}]),
    ):
        objects += istio.render(sdep, istio.IstioSettings(tls_mode="SIMPLE"))
    table = translate(objects)
    assert_envoy_accepts(table, tmp_path)
