"""The legacy `getambassador.io/config` Service annotation (AMBASSADOR_VERSION=v1), text for text against
operator-semantics §5.2 and examples A, B and C."""

import pytest

from seldon_graph import ambassador
from seldon_graph.ambassador import legacy
from tests.ambassador import examples

V1 = ambassador.AmbassadorSettings(version="v1")
ANNOTATION = "getambassador.io/config"

GRPC_PREFIX = "/(seldon.protos.*|tensorflow.serving.*|inference.*)/.*"

CANARY_MAIN = f"""---
apiVersion: ambassador/v1
kind: Mapping
name: seldon_seldon_example_main_rest_mapping
prefix: /seldon/seldon/example/
rewrite: /
service: example-main.seldon:8000
timeout_ms: 3000
---
apiVersion: ambassador/v1
kind: Mapping
name: seldon_seldon_example_main_grpc_mapping
grpc: true
prefix: {GRPC_PREFIX}
prefix_regex: true
rewrite: ""
service: example-main.seldon:5001
timeout_ms: 3000
headers:
  namespace: seldon
  seldon: example
---
"""

CANARY_CANARY = f"""---
apiVersion: ambassador/v1
kind: Mapping
name: seldon_seldon_example_canary_rest_mapping
prefix: /seldon/seldon/example/
rewrite: /
service: example-canary.seldon:8000
timeout_ms: 3000
weight: 25
---
apiVersion: ambassador/v1
kind: Mapping
name: seldon_seldon_example_canary_grpc_mapping
grpc: true
prefix: {GRPC_PREFIX}
prefix_regex: true
rewrite: ""
service: example-canary.seldon:5001
timeout_ms: 3000
headers:
  namespace: seldon
  seldon: example
weight: 25
---
"""

SHADOW = f"""---
apiVersion: ambassador/v1
kind: Mapping
name: seldon_seldon_example_shadow_rest_mapping
prefix: /seldon/seldon/example/
rewrite: /
service: example-shadow.seldon:8000
timeout_ms: 3000
weight: 100
shadow: true
---
apiVersion: ambassador/v1
kind: Mapping
name: seldon_seldon_example_shadow_grpc_mapping
grpc: true
prefix: {GRPC_PREFIX}
prefix_regex: true
rewrite: ""
service: example-shadow.seldon:5001
timeout_ms: 3000
headers:
  namespace: seldon
  seldon: example
weight: 100
shadow: true
---
"""

HEADER = f"""---
apiVersion: ambassador/v1
kind: Mapping
name: seldon_seldon_example-header_single_rest_mapping
prefix: /seldon/seldon/example/
rewrite: /
service: example-header-single.seldon:8000
timeout_ms: 3000
headers:
  location: london
---
apiVersion: ambassador/v1
kind: Mapping
name: seldon_seldon_example-header_single_grpc_mapping
grpc: true
prefix: {GRPC_PREFIX}
prefix_regex: true
rewrite: ""
service: example-header-single.seldon:5001
timeout_ms: 3000
headers:
  location: london
  namespace: seldon
  seldon: example
---
"""


def annotations(sdep, settings=V1):
    return {svc: values[ANNOTATION] for svc, values in ambassador.service_annotations(sdep, settings).items()}


def test_example_a_canary_text():
    assert annotations(examples.canary()) == {"example-main": CANARY_MAIN, "example-canary": CANARY_CANARY}
    assert ambassador.render(examples.canary(), V1) == []


def test_example_b_shadow_text():
    result = annotations(examples.shadow())
    assert result["example-shadow"] == SHADOW
    assert result["example-default"] == CANARY_MAIN.replace("main", "default")


def test_example_c_header_text():
    assert annotations(examples.header_routed()) == {"example-header-single": HEADER}


def test_single_namespace_adds_the_plain_prefix_pair():
    settings = ambassador.AmbassadorSettings(version="v1", single_namespace=True)
    text = annotations(examples.canary(), settings)["example-main"]
    docs = legacy.parse_annotation(text)
    assert [d["name"] for d in docs] == [
        "seldon_seldon_example_main_rest_mapping",
        "seldon_seldon_example_main_grpc_mapping",
        "seldon_example_main_rest_mapping",
        "seldon_example_main_grpc_mapping",
    ]
    assert docs[2]["prefix"] == "/seldon/example/"
    assert docs[3]["headers"] == {"seldon": "example"}
    assert text.startswith(CANARY_MAIN) and text.endswith("---\n")


def test_every_annotation_in_v1_form():
    sdep = examples.canary(
        spec_annotations={
            "seldon.io/rest-timeout": "400000",
            "seldon.io/grpc-timeout": "5000",
            "seldon.io/ambassador-header": "a:1:b:2",
            "seldon.io/ambassador-regex-header": "loc:lond.*",
            "seldon.io/ambassador-id": "myinstance_id",
            "seldon.io/ambassador-retries": "2",
            "seldon.io/ambassador-circuit-breakers-max-connections": "10",
            "seldon.io/ambassador-circuit-breakers-max-pending-requests": "15",
            "seldon.io/ambassador-circuit-breakers-max-requests": "20",
            "seldon.io/ambassador-circuit-breakers-max-retries": "5",
        }
    )
    rest, grpc = legacy.parse_annotation(annotations(sdep)["example-canary"])
    assert rest["timeout_ms"] == 400000 and rest["idle_timeout_ms"] == 400000
    assert grpc["timeout_ms"] == 5000 and "idle_timeout_ms" not in grpc
    assert rest["headers"] == {"a": "1", "b": "2"}
    assert grpc["headers"] == {"a": "1", "b": "2", "namespace": "seldon", "seldon": "example"}
    assert rest["regex_headers"] == {"loc": "lond.*"}
    assert rest["ambassador_id"] == "myinstance_id"
    assert rest["retry_policy"] == {"retry_on": "gateway-error", "num_retries": 2}
    assert rest["circuit_breakers"] == [
        {"max_connections": 10, "max_pending_requests": 15, "max_requests": 20, "max_retries": 5}
    ]
    assert list(rest) == [
        "apiVersion",
        "kind",
        "name",
        "prefix",
        "rewrite",
        "service",
        "timeout_ms",
        "idle_timeout_ms",
        "headers",
        "regex_headers",
        "weight",
        "retry_policy",
        "ambassador_id",
        "circuit_breakers",
    ]


def test_custom_config_is_used_verbatim():
    custom = "---\napiVersion: ambassador/v1\nkind: Mapping\nname: mine\nprefix: /x/\nservice: y:1\n"
    sdep = examples.canary(annotations={"seldon.io/ambassador-config": custom})
    assert annotations(sdep) == {"example-main": custom, "example-canary": custom}


def test_tls_context_named_as_referenced():
    sdep = examples.seldon_deployment("example", [{"name": "p1", "ssl": {"certSecretName": "my-secret"}}])
    docs = legacy.parse_annotation(annotations(sdep)["example-p1"])
    rest, grpc, tls = docs
    assert rest["tls"] == grpc["tls"] == tls["name"] == "seldon_seldon_example_p1_tls_config"
    assert tls == {
        "apiVersion": "ambassador/v1",
        "kind": "TLSContext",
        "name": tls["name"],
        "hosts": [],
        "secret": "my-secret",
    }


@pytest.mark.parametrize(
    "traffic,expected",
    [((20, 80), [None, 80]), ((50, 50), [None, 50]), ((60, 20, 20), [None, 20, 20]), ((33, 33, 33), [None, 33, 33])],
)
def test_v1_weights_skip_the_first_predictor(traffic, expected):
    sdep = examples.seldon_deployment("mymodel", [{"name": f"p{i}", "traffic": t} for i, t in enumerate(traffic)])
    result = annotations(sdep)
    assert [legacy.parse_annotation(result[f"mymodel-p{i}"])[0].get("weight") for i in range(len(traffic))] == expected


def test_odd_header_pairs_are_a_clear_error():
    sdep = examples.single(spec_annotations={"seldon.io/ambassador-header": "a:1:b"})
    with pytest.raises(ambassador.AmbassadorConfigError, match="seldon.io/ambassador-header"):
        ambassador.service_annotations(sdep, V1)
