"""Ambassador Mapping CRs (getambassador.io/v2 by default, v3alpha1), field by field against
operator-semantics §5.3 and examples A, B and C, every object validated strictly against the published CRD."""

import json

import pytest
import yaml

from seldon_graph import ambassador
from seldon_graph.ambassador.envoy_translation import canary_weights, expand
from tests.ambassador import examples
from tests.support.schemas import validate

V2 = ambassador.AmbassadorSettings()
V3 = ambassador.AmbassadorSettings(version="v3alpha1")
GRPC_PREFIX = "/(seldon.protos.*|tensorflow.serving.*|inference.*)/.*"

EXAMPLE_A_V2 = yaml.safe_load_all("""
apiVersion: getambassador.io/v2
kind: Mapping
metadata: {name: seldon-seldon-example-main-rest, namespace: seldon}
spec: {cluster_tag: seldon_http, prefix: /seldon/seldon/example/, rewrite: /, service: example-main.seldon:8000, timeout_ms: 3000}
---
apiVersion: getambassador.io/v2
kind: Mapping
metadata: {name: seldon-seldon-example-main-grpc, namespace: seldon}
spec: {cluster_tag: seldon_grpc, grpc: true, prefix: "/(seldon.protos.*|tensorflow.serving.*|inference.*)/.*", prefix_regex: true,
       rewrite: "", headers: {seldon: example}, service: example-main.seldon:5001, timeout_ms: 3000}
---
apiVersion: getambassador.io/v2
kind: Mapping
metadata: {name: seldon-seldon-example-canary-rest, namespace: seldon}
spec: {cluster_tag: seldon_http, prefix: /seldon/seldon/example/, rewrite: /, service: example-canary.seldon:8000, timeout_ms: 3000, weight: 25}
---
apiVersion: getambassador.io/v2
kind: Mapping
metadata: {name: seldon-seldon-example-canary-grpc, namespace: seldon}
spec: {cluster_tag: seldon_grpc, grpc: true, prefix: "/(seldon.protos.*|tensorflow.serving.*|inference.*)/.*", prefix_regex: true,
       rewrite: "", headers: {seldon: example}, service: example-canary.seldon:5001, timeout_ms: 3000, weight: 25}
""")


def render(sdep, settings=V2):
    objects = ambassador.render(sdep, settings)
    for obj in objects:
        if obj["kind"] == "Mapping":
            validate(obj)
    return objects


def effective_weights(objects):
    """Per mapping group (prefix + headers), the share of traffic each non-shadow service gets."""
    groups = {}
    for mapping in expand(objects):
        if not mapping.shadow:
            groups.setdefault(mapping.group_key(), []).append(mapping)
    return {key: dict(zip([m.spec["service"] for m in group], canary_weights(group))) for key, group in groups.items()}


def test_example_a_canary_field_by_field():
    objects = render(examples.canary())
    expected = list(EXAMPLE_A_V2)
    assert len(objects) == len(expected)
    for got, want in zip(objects, expected):
        assert got["apiVersion"] == want["apiVersion"] and got["kind"] == want["kind"]
        assert got["metadata"]["name"] == want["metadata"]["name"]
        assert got["metadata"]["namespace"] == want["metadata"]["namespace"]
        assert got["metadata"]["labels"] == {"seldon-deployment-id": "example"}
        assert got["metadata"]["ownerReferences"] == [
            {
                "apiVersion": "machinelearning.seldon.io/v1",
                "kind": "SeldonDeployment",
                "name": "example",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
        assert got["spec"] == want["spec"]


def test_weights_sum_to_100():
    for sdep in (
        examples.canary(),
        examples.canary(main=60, canary_traffic=40),
        examples.seldon_deployment(
            "three", [{"name": "a", "traffic": 60}, {"name": "b", "traffic": 20}, {"name": "c", "traffic": 20}]
        ),
    ):
        for shares in effective_weights(render(sdep)).values():
            assert sum(shares.values()) == 100
    shares = effective_weights(render(examples.canary()))
    rest = next(v for k, v in shares.items() if k[1] == "/seldon/seldon/example/")
    assert rest == {"example-main.seldon:8000": 75, "example-canary.seldon:8000": 25}


def test_example_b_shadow():
    objects = render(examples.shadow())
    shadow_rest, shadow_grpc = objects[2], objects[3]
    assert shadow_rest["metadata"]["name"] == "seldon-seldon-example-shadow-rest"
    assert shadow_rest["spec"]["shadow"] is True and shadow_rest["spec"]["weight"] == 100
    assert shadow_grpc["metadata"]["name"] == "seldon-seldon-example-shadow-grpc"
    assert shadow_grpc["spec"]["shadow"] is True and shadow_grpc["spec"]["weight"] == 100
    assert "shadow" not in objects[0]["spec"] and "weight" not in objects[0]["spec"]
    # the shadow takes no share of the traffic: the default predictor keeps all of it
    for shares in effective_weights(objects).values():
        assert list(shares.values()) == [100]


def test_shadow_without_traffic_mirrors_everything():
    objects = render(examples.shadow(shadow_traffic=0))
    assert objects[2]["spec"]["shadow"] is True and "weight" not in objects[2]["spec"]


def test_legacy_shadow_annotation_on_a_second_deployment():
    sdep = examples.single(
        "example-shadow",
        spec_annotations={"seldon.io/ambassador-shadow": "true", "seldon.io/ambassador-service-name": "example"},
    )
    rest, grpc = render(sdep)
    assert rest["spec"]["prefix"] == "/seldon/seldon/example/"
    assert rest["spec"]["service"] == "example-shadow-single.seldon:8000"
    assert rest["spec"]["shadow"] is True and grpc["spec"]["shadow"] is True
    assert grpc["spec"]["headers"] == {"seldon": "example"}


def test_example_c_header_routing():
    rest, grpc = render(examples.header_routed())
    assert rest["metadata"]["name"] == "seldon-seldon-example-header-single-rest"
    assert rest["spec"]["prefix"] == "/seldon/seldon/example/"
    assert rest["spec"]["headers"] == {"location": "london"}
    assert rest["spec"]["service"] == "example-header-single.seldon:8000"
    assert grpc["metadata"]["name"] == "seldon-seldon-example-header-single-grpc"
    assert grpc["spec"]["headers"] == {"seldon": "example", "location": "london"}


def test_regex_header_uses_its_own_value():
    rest, grpc = render(examples.header_routed(header="", regex="location:lond.*"))
    assert rest["spec"]["regex_headers"] == {"location": "lond.*"} and "headers" not in rest["spec"]
    assert grpc["spec"]["regex_headers"] == {"location": "lond.*"}
    rest, _ = render(examples.header_routed(regex="x-version:v[0-9]+:beta"))
    assert rest["spec"]["headers"] == {"location": "london"}
    assert rest["spec"]["regex_headers"] == {"x-version": "v[0-9]+:beta"}


def test_header_without_value_matches_presence():
    rest, _ = render(examples.header_routed(header="x-canary"))
    assert rest["spec"]["headers"] == {"x-canary": True}
    rest, _ = render(examples.header_routed(header="x-canary"), V3)
    assert "headers" not in rest["spec"] and rest["spec"]["regex_headers"] == {"x-canary": ".*"}


def test_timeouts():
    sdep = examples.single(annotations={"seldon.io/rest-timeout": "10000", "seldon.io/grpc-timeout": "20000"})
    rest, grpc = render(sdep)
    assert rest["spec"]["timeout_ms"] == 10000 and grpc["spec"]["timeout_ms"] == 20000
    rest, grpc = render(examples.single(spec_annotations={"seldon.io/rest-timeout": "400000"}))
    assert rest["spec"]["timeout_ms"] == grpc["spec"]["timeout_ms"] == 400000
    assert rest["spec"]["idle_timeout_ms"] == 400000


def test_spec_annotations_win_over_metadata():
    sdep = examples.single(
        spec_annotations={"seldon.io/rest-timeout": "111"}, annotations={"seldon.io/rest-timeout": "222"}
    )
    assert render(sdep)[0]["spec"]["timeout_ms"] == 111


def test_id_retries_circuit_breakers():
    sdep = examples.single(
        spec_annotations={
            "seldon.io/ambassador-id": "myinstance_id",
            "seldon.io/ambassador-retries": "2",
            "seldon.io/ambassador-circuit-breakers-max-connections": "10",
            "seldon.io/ambassador-circuit-breakers-max-requests": "20",
        }
    )
    for mapping in render(sdep):
        assert mapping["spec"]["ambassador_id"] == ["myinstance_id"]
        assert mapping["spec"]["retry_policy"] == {"retry_on": "gateway-error", "num_retries": 2}
        assert mapping["spec"]["circuit_breakers"] == [{"max_connections": 10, "max_requests": 20}]
    plain = render(examples.single())[0]["spec"]
    assert not {"ambassador_id", "retry_policy", "circuit_breakers"} & plain.keys()


def test_single_namespace_variant_has_valid_names():
    settings = ambassador.AmbassadorSettings(single_namespace=True)
    objects = render(examples.canary(), settings)
    assert [o["metadata"]["name"] for o in objects[:4]] == [
        "seldon-seldon-example-main-rest",
        "seldon-seldon-example-main-grpc",
        "seldon-example-main-rest",
        "seldon-example-main-grpc",
    ]
    assert objects[2]["spec"]["prefix"] == "/seldon/example/"
    assert objects[3]["spec"]["headers"] == {"seldon": "example"}


def test_v3alpha1():
    objects = render(examples.canary(spec_annotations={"seldon.io/ambassador-id": "x"}), V3)
    for obj in objects:
        assert obj["apiVersion"] == "getambassador.io/v3alpha1"
        assert obj["spec"]["hostname"] == "*"
        assert obj["spec"]["ambassador_id"] == ["x"]
    assert objects[3]["spec"]["weight"] == 25


def test_custom_config_objects():
    custom = (
        "apiVersion: ambassador/v1\nkind: Mapping\nname: my_mapping\nprefix: /mine/\nservice: svc:80\n"
        "---\napiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: full}\n"
        "spec: {prefix: /full/, service: full:80}\n"
    )
    sdep = examples.canary(spec_annotations={"seldon.io/ambassador-config": custom})
    first, second = render(sdep)
    assert first["metadata"]["name"] == "my-mapping" and first["spec"] == {"prefix": "/mine/", "service": "svc:80"}
    assert second["metadata"]["namespace"] == "seldon" and second["spec"] == {"prefix": "/full/", "service": "full:80"}
    assert second["metadata"]["labels"] == {"seldon-deployment-id": "example"}
    first, _ = render(sdep, V3)
    assert first["spec"]["hostname"] == "*"


def test_tls_context_is_created_for_the_reference():
    sdep = examples.seldon_deployment("example", [{"name": "p1", "ssl": {"certSecretName": "my-secret"}}])
    rest, grpc, tls = render(sdep)
    assert rest["spec"]["tls"] == grpc["spec"]["tls"] == tls["metadata"]["name"] == "seldon-seldon-example-p1-tls"
    assert tls["kind"] == "TLSContext" and tls["spec"] == {"hosts": [], "secret": "my-secret"}


def test_no_engine_and_svc_name_and_explainer():
    sdep = examples.seldon_deployment(
        "example",
        [
            {
                "name": "p1",
                "annotations": {"seldon.io/no-engine": "true", "seldon.io/svc-name": "custom"},
                "explainer": {"type": "AnchorTabular"},
            }
        ],
    )
    rest, grpc, explainer = render(sdep)
    assert rest["spec"]["service"] == "custom.seldon:9000" and grpc["spec"]["service"] == "custom.seldon:9500"
    assert explainer["metadata"]["name"] == "seldon-seldon-example-p1-explainer-rest"
    assert explainer["spec"]["prefix"] == "/seldon/seldon/example-explainer/p1/"
    assert explainer["spec"]["service"] == "example-p1-explainer.seldon:9000"


def test_long_names_use_the_md5_service_name():
    name = "a" * 60
    rest = render(examples.single(name))[0]
    assert rest["spec"]["service"].startswith("seldon-") and rest["spec"]["service"].endswith(".seldon:8000")
    assert len(rest["metadata"]["name"]) <= 253


def test_rendering_is_deterministic():
    sdep = examples.canary(spec_annotations={"seldon.io/ambassador-header": "a:b"})
    assert json.dumps(ambassador.render(sdep, V2)) == json.dumps(
        ambassador.render(examples.canary(spec_annotations={"seldon.io/ambassador-header": "a:b"}), V2)
    )


@pytest.mark.parametrize(
    "annotations,message",
    [
        ({"seldon.io/rest-timeout": "soon"}, "seldon.io/rest-timeout"),
        ({"seldon.io/grpc-timeout": "1.5"}, "seldon.io/grpc-timeout"),
        ({"seldon.io/ambassador-header": "a:1:b:2"}, "Only a single custom header match"),
        ({"seldon.io/ambassador-regex-header": "nocolon"}, "seldon.io/ambassador-regex-header"),
        ({"seldon.io/ambassador-retries": "many"}, "seldon.io/ambassador-retries"),
        ({"seldon.io/ambassador-circuit-breakers-max-connections": "x"}, "max-connections"),
        ({"seldon.io/ambassador-config": "a: [unclosed"}, "not valid YAML"),
        ({"seldon.io/ambassador-config": "just a string"}, "with a `kind`"),
    ],
)
def test_bad_annotations_are_clear_errors(annotations, message):
    with pytest.raises(ambassador.AmbassadorConfigError, match=message):
        ambassador.render(examples.single(spec_annotations=annotations), V2)


def test_settings_from_env():
    settings = ambassador.AmbassadorSettings.from_env(
        {
            "AMBASSADOR_ENABLED": "true",
            "AMBASSADOR_SINGLE_NAMESPACE": "true",
            "ENGINE_SERVER_PORT": "8080",
            "ENGINE_SERVER_GRPC_PORT": "5005",
        }
    )
    assert settings == ambassador.AmbassadorSettings(True, "v2", True, 8080, 5005)
    assert ambassador.AmbassadorSettings.from_env({}).version == "v2"
    assert ambassador.AmbassadorSettings.from_env({"AMBASSADOR_VERSION": "v1"}).version == "v1"
    with pytest.raises(ValueError, match="AMBASSADOR_VERSION"):
        ambassador.AmbassadorSettings.from_env({"AMBASSADOR_VERSION": "v9"})
