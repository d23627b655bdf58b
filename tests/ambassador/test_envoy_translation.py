"""Ambassador Mappings → Envoy routes and clusters (the translation alone), and every rendered form accepted by
the real `envoy` in validate mode."""

import json

import pytest

from seldon_graph import ambassador, envoy
from tests.ambassador import examples
from tests.ambassador.harness import assert_envoy_accepts


def local(host, port):
    return "127.0.0.1", {8000: 18000, 5001: 15001}.get(port, port)


def routes_of(sdeps, settings=None, **kwargs):
    settings = settings or ambassador.AmbassadorSettings()
    objects = [obj for sdep in sdeps for obj in ambassador.render(sdep, settings)]
    return ambassador.envoy_routes(objects, local, **kwargs)


def by_prefix(table):
    return {
        (
            r["match"].get("prefix") or r["match"]["safe_regex"]["regex"],
            tuple(h["name"] for h in r["match"].get("headers", [])),
        ): r
        for r in table.routes
    }


def test_canary_becomes_one_weighted_route_per_protocol():
    table = routes_of([examples.canary()])
    assert len(table.routes) == 2
    grpc, rest = table.routes
    assert rest["match"] == {"prefix": "/seldon/seldon/example/"}
    assert rest["route"]["weighted_clusters"]["clusters"] == [
        {"name": "example-main.seldon_8000_http1", "weight": 75},
        {"name": "example-canary.seldon_8000_http1", "weight": 25},
    ]
    assert rest["route"]["prefix_rewrite"] == "/" and rest["route"]["timeout"] == "3s"
    assert grpc["match"]["safe_regex"]["regex"] == "/(seldon.protos.*|tensorflow.serving.*|inference.*)/.*"
    assert grpc["match"]["headers"] == [{"name": "seldon", "string_match": {"exact": "example"}}]
    assert "prefix_rewrite" not in grpc["route"] and "regex_rewrite" not in grpc["route"]
    clusters = {c["name"]: c for c in table.clusters}
    options = clusters["example-main.seldon_5001_http2"]["typed_extension_protocol_options"]
    assert "http2_protocol_options" in options[envoy.HTTP_OPTIONS_KEY]["explicit_http_config"]
    assert clusters["example-main.seldon_5001_http2"]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"][
        "address"
    ]["socket_address"] == {"address": "127.0.0.1", "port_value": 15001}


def test_unweighted_mappings_share_the_rest():
    sdep = examples.seldon_deployment(
        "three", [{"name": "a", "traffic": 60}, {"name": "b", "traffic": 20}, {"name": "c", "traffic": 20}]
    )
    rest = routes_of([sdep]).routes[1]
    assert [c["weight"] for c in rest["route"]["weighted_clusters"]["clusters"]] == [60, 20, 20]
    two_unweighted = [
        {"kind": "Mapping", "metadata": {"name": n}, "spec": {"prefix": "/p/", "service": f"{n}:80"}}
        for n in ("x", "y", "z")
    ]
    two_unweighted[2]["spec"]["weight"] = 31
    route = ambassador.envoy_routes(two_unweighted, local).routes[0]
    assert [c["weight"] for c in route["route"]["weighted_clusters"]["clusters"]] == [35, 34, 31]


def test_shadow_becomes_a_mirror_with_its_weight():
    table = routes_of([examples.shadow(shadow_traffic=40)])
    for route in table.routes:
        assert "cluster" in route["route"]  # only the default predictor serves
        (mirror,) = route["route"]["request_mirror_policies"]
        assert mirror["cluster"].startswith("example-shadow.seldon_")
        assert mirror["runtime_fraction"]["default_value"] == {"numerator": 400000, "denominator": "MILLION"}
    full = routes_of([examples.shadow(shadow_traffic=0)]).routes[0]["route"]["request_mirror_policies"][0]
    assert "runtime_fraction" not in full


def test_a_group_of_only_shadows_serves_nothing():
    sdep = examples.single("lonely", spec_annotations={"seldon.io/ambassador-shadow": "true"})
    assert routes_of([sdep]).routes == ()


def test_header_routes_come_before_the_plain_route():
    table = routes_of(
        [examples.single(), examples.header_routed(), examples.header_routed(header="", regex="location:par.*")]
    )
    rest = [r for r in table.routes if r["match"].get("prefix") == "/seldon/seldon/example/"]
    assert sorted(map(str, [r["match"].get("headers") for r in rest[:2]])) == sorted(
        map(
            str,
            [
                [{"name": "location", "string_match": {"exact": "london"}}],
                [{"name": "location", "string_match": {"safe_regex": {"regex": "par.*"}}}],
            ],
        )
    )
    assert "headers" not in rest[2]["match"]
    presence = routes_of([examples.header_routed(header="x-canary")]).routes[1]
    assert presence["match"]["headers"] == [{"name": "x-canary", "present_match": True}]


def test_timeouts_retries_and_circuit_breakers():
    sdep = examples.single(
        spec_annotations={
            "seldon.io/rest-timeout": "400000",
            "seldon.io/ambassador-retries": "3",
            "seldon.io/ambassador-circuit-breakers-max-connections": "7",
        }
    )
    table = routes_of([sdep])
    rest = table.routes[1]["route"]
    assert rest["timeout"] == "400s" and rest["idle_timeout"] == "400s"
    assert rest["retry_policy"] == {"retry_on": "gateway-error", "num_retries": 3}
    for cluster in table.clusters:
        assert cluster["circuit_breakers"] == {"thresholds": [{"max_connections": 7}]}


def test_ambassador_id_selects_mappings():
    tagged = examples.single("tagged", spec_annotations={"seldon.io/ambassador-id": "blue"})
    plain = examples.single("plain")
    assert len(routes_of([tagged, plain]).routes) == 4
    assert len(routes_of([tagged, plain], ambassador_id="blue").routes) == 2
    assert len(routes_of([tagged, plain], ambassador_id="default").routes) == 2


def test_legacy_documents_and_services():
    settings = ambassador.AmbassadorSettings(version="v1")
    annotated = ambassador.service_annotations(examples.canary(), settings)
    services = [{"kind": "Service", "metadata": {"name": n, "annotations": a}} for n, a in annotated.items()]
    table = ambassador.envoy_routes(services, local)
    grpc, rest = table.routes
    assert [h["name"] for h in grpc["match"]["headers"]] == ["namespace", "seldon"]
    assert len(rest["route"]["weighted_clusters"]["clusters"]) == 2
    old_style = [
        {
            "apiVersion": "ambassador/v1",
            "kind": "Mapping",
            "name": "m",
            "prefix": "/seldon.protos.Seldon/",
            "rewrite": "/seldon.protos.Seldon/",
            "grpc": True,
            "service": "x.ns:5001",
        }
    ]
    (route,) = ambassador.envoy_routes(old_style, local).routes
    assert route["route"]["prefix_rewrite"] == "/seldon.protos.Seldon/"
    no_rewrite_key = [
        {"apiVersion": "ambassador/v1", "kind": "Mapping", "name": "m", "prefix": "/a/", "service": "http://x.ns"}
    ]
    (route,) = ambassador.envoy_routes(no_rewrite_key, local).routes
    assert route["route"]["prefix_rewrite"] == "/"  # Ambassador's default rewrite
    assert table.clusters and ambassador.envoy_translation.split_service("http://x.ns") == ("x.ns", 80)


def test_invalid_custom_annotation_is_a_clear_error():
    service = {"kind": "Service", "metadata": {"name": "s", "annotations": {"getambassador.io/config": "a: [x"}}}
    with pytest.raises(ambassador.AmbassadorConfigError, match="getambassador.io/config is not valid YAML"):
        ambassador.envoy_routes([service], local)
    with pytest.raises(ambassador.AmbassadorConfigError, match="'m' has no service"):
        ambassador.envoy_routes([{"kind": "Mapping", "metadata": {"name": "m"}, "spec": {"prefix": "/"}}], local)


def test_translation_is_deterministic():
    sdeps = [examples.canary(), examples.header_routed()]
    assert json.dumps(envoy.bootstrap(routes_of(sdeps), 1, 2)) == json.dumps(envoy.bootstrap(routes_of(sdeps), 1, 2))


@pytest.mark.parametrize("version", ["v1", "v2", "v3alpha1"])
def test_envoy_accepts_every_form(tmp_path, version):
    settings = ambassador.AmbassadorSettings(version=version, single_namespace=True)
    sdeps = [
        examples.canary(
            spec_annotations={
                "seldon.io/ambassador-retries": "1",
                "seldon.io/ambassador-circuit-breakers-max-requests": "9",
            }
        ),
        examples.shadow("other", shadow_traffic=30),
        examples.header_routed(regex="x:y.*"),
    ]
    objects = [o for s in sdeps for o in ambassador.render(s, settings)]
    objects += [
        {"kind": "Service", "metadata": {"name": n, "annotations": a}}
        for s in sdeps
        for n, a in ambassador.service_annotations(s, settings).items()
    ]
    table = ambassador.envoy_routes(objects, local)
    assert len(table.routes) >= 6
    assert_envoy_accepts(table, tmp_path)
