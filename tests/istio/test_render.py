"""Istio VirtualService + DestinationRules, field by field against operator-semantics §6 and the 90/10 canary of
§6.5, every object validated strictly against the published CRDs."""

import json

import pytest
import yaml

from seldon_graph import istio
from tests.ambassador import examples
from tests.support.schemas import validate

SETTINGS = istio.IstioSettings(gateway="istio-system/seldon-gateway")
OWNER = [
    {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "name": "iris",
        "uid": "0b1e7c36-1111-2222-3333-444455556666",
        "controller": True,
        "blockOwnerDeletion": True,
    }
]

EXAMPLE_90_10 = list(
    yaml.safe_load_all("""
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: iris, namespace: seldon, ownerReferences: [{kind: SeldonDeployment, name: iris, controller: true, blockOwnerDeletion: true}]}
spec:
  hosts: ["*"]
  gateways: [istio-system/seldon-gateway]
  http:
  - match: [{uri: {prefix: /seldon/seldon/iris/}}]
    rewrite: {uri: /}
    route:
    - destination: {host: iris-main.seldon.svc.cluster.local, subset: main, port: {number: 8000}}
      weight: 90
    - destination: {host: iris-canary.seldon.svc.cluster.local, subset: canary, port: {number: 8000}}
      weight: 10
  - match:
    - uri: {regex: ".*tensorflow.*|.*seldon.protos.*|.*inference.*"}
      headers: {seldon: {exact: iris}, namespace: {exact: seldon}}
    route:
    - destination: {host: iris-main.seldon.svc.cluster.local, subset: main, port: {number: 5001}}
      weight: 90
    - destination: {host: iris-canary.seldon.svc.cluster.local, subset: canary, port: {number: 5001}}
      weight: 10
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: iris-main, namespace: seldon}
spec:
  host: iris-main.seldon.svc.cluster.local
  subsets: [{name: main, labels: {version: main}}]
  trafficPolicy: {connectionPool: {http: {idleTimeout: 60s}}}
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: {name: iris-canary, namespace: seldon}
spec:
  host: iris-canary.seldon.svc.cluster.local
  subsets: [{name: canary, labels: {version: canary}}]
  trafficPolicy: {connectionPool: {http: {idleTimeout: 60s}}}
""")
)


def render(sdep, settings=SETTINGS):
    objects = istio.render(sdep, settings)
    for obj in objects:
        validate(obj)
    return objects


def iris(**kwargs):
    return examples.canary("iris", main=90, canary_traffic=10, **kwargs)


def test_90_10_canary_field_by_field():
    objects = render(iris(uid=OWNER[0]["uid"]))
    assert len(objects) == len(EXAMPLE_90_10)
    for got, want in zip(objects, EXAMPLE_90_10):
        assert (got["apiVersion"], got["kind"]) == (want["apiVersion"], want["kind"])
        assert got["metadata"] == {"name": want["metadata"]["name"], "namespace": "seldon", "ownerReferences": OWNER}
        assert got["spec"] == want["spec"]


def test_no_owner_reference_without_the_seldon_deployments_uid():
    """Rendered from a file (no uid), the VirtualService and DestinationRules carry no ownerReferences, which
    Kubernetes would refuse without a uid; from the cluster (test above) they do.

    Expectation: the Go operator owns them through controllerutil.SetControllerReference on the SeldonDeployment
    it read from the API server (operator/controllers/seldondeployment_controller.go, seldon-core v1.17.1).
    """
    for obj in render(iris()):
        assert obj["metadata"] == {"name": obj["metadata"]["name"], "namespace": "seldon"}


def test_weights_sum_to_100():
    for sdep in (
        iris(),
        examples.canary(),
        examples.shadow(),
        examples.seldon_deployment(
            "three", [{"name": "a", "traffic": 50}, {"name": "b", "traffic": 30}, {"name": "c", "traffic": 20}]
        ),
    ):
        for http in render(sdep)[0]["spec"]["http"]:
            weights = [route.get("weight", 0) for route in http["route"]]
            assert sum(weights) == 100 or weights == [0]


def test_shadow_becomes_a_mirror():
    vs, default_rule, shadow_rule = render(examples.shadow())
    rest, grpc = vs["spec"]["http"]
    assert rest["route"] == [
        {
            "destination": {
                "host": "example-default.seldon.svc.cluster.local",
                "subset": "default",
                "port": {"number": 8000},
            }
        }
    ]
    assert rest["mirror"] == {
        "host": "example-shadow.seldon.svc.cluster.local",
        "subset": "shadow",
        "port": {"number": 8000},
    }
    assert rest["mirrorPercentage"] == {"value": 100}
    assert grpc["mirror"]["port"] == {"number": 5001}
    assert shadow_rule["metadata"]["name"] == "example-shadow"
    rest = render(examples.shadow(shadow_traffic=0))[0]["spec"]["http"][0]
    assert "mirror" in rest and "mirrorPercentage" not in rest


def test_gateway_hosts_and_retries_from_annotations():
    sdep = iris(
        spec_annotations={
            "seldon.io/istio-gateway": "my-ns/my-gateway",
            "seldon.io/istio-host": " a.example.com, b.example.com ",
            "seldon.io/istio-retries": "3",
        },
        annotations={"seldon.io/istio-retries-timeout": "2"},
    )
    spec = render(sdep)[0]["spec"]
    assert spec["gateways"] == ["my-ns/my-gateway"]
    assert spec["hosts"] == ["a.example.com", "b.example.com"]
    for http in spec["http"]:
        assert http["retries"] == {
            "attempts": 3,
            "perTryTimeout": "2s",
            "retryOn": "gateway-error,connect-failure,refused-stream",
        }
    assert "retries" not in render(iris())[0]["spec"]["http"][0]
    spec = render(iris(spec_annotations={"seldon.io/istio-retries": "1"}))[0]["spec"]
    assert spec["http"][0]["retries"]["perTryTimeout"] == "1s"


def test_default_gateway_and_tls_mode():
    assert render(iris(), istio.IstioSettings())[0]["spec"]["gateways"] == ["seldon-gateway"]
    rule = render(iris(), istio.IstioSettings(tls_mode="ISTIO_MUTUAL"))[1]
    assert rule["spec"]["trafficPolicy"] == {"tls": {"mode": "ISTIO_MUTUAL"}}
    rule = render(iris(), istio.IstioSettings(tls_mode="bogus"))[1]
    assert rule["spec"]["trafficPolicy"] == {"tls": {"mode": "DISABLE"}}


def test_no_engine_ports_svc_name_and_explainer():
    sdep = examples.seldon_deployment(
        "iris",
        [
            {
                "name": "p1",
                "traffic": 100,
                "annotations": {"seldon.io/no-engine": "true", "seldon.io/svc-name": "custom"},
                "explainer": {"type": "AnchorTabular"},
            }
        ],
    )
    vs, rule, explainer_vs, explainer_rule = render(sdep)
    rest, grpc = vs["spec"]["http"]
    assert rest["route"][0]["destination"] == {
        "host": "custom.seldon.svc.cluster.local",
        "subset": "p1",
        "port": {"number": 9000},
    }
    assert grpc["route"][0]["destination"]["port"] == {"number": 9500}
    assert rule["metadata"]["name"] == "custom"
    assert explainer_vs["metadata"]["name"] == "iris-p1-explainer-http"
    assert explainer_vs["spec"]["http"][0]["match"] == [{"uri": {"prefix": "/seldon/seldon/iris-explainer/p1/"}}]
    assert explainer_rule["spec"]["host"] == "iris-p1-explainer"


def test_long_name_uses_the_md5_seldon_id():
    name = "a" * 64
    vs = render(examples.single(name))[0]
    assert vs["metadata"]["name"].startswith("seldon-") and len(vs["metadata"]["name"]) == 39


def test_rendering_is_deterministic():
    assert json.dumps(istio.render(iris(), SETTINGS)) == json.dumps(istio.render(iris(), SETTINGS))


@pytest.mark.parametrize(
    "annotations,message",
    [
        ({"seldon.io/istio-retries": "lots"}, "seldon.io/istio-retries"),
        ({"seldon.io/istio-retries": "2", "seldon.io/istio-retries-timeout": "soon"}, "istio-retries-timeout"),
    ],
)
def test_bad_annotations_are_clear_errors(annotations, message):
    with pytest.raises(istio.IstioConfigError, match=message):
        istio.render(iris(spec_annotations=annotations), SETTINGS)


def test_settings_from_env():
    settings = istio.IstioSettings.from_env(
        {
            "ISTIO_ENABLED": "true",
            "ISTIO_GATEWAY": "istio-system/seldon-gateway",
            "ISTIO_TLS_MODE": "SIMPLE",
            "ENGINE_SERVER_PORT": "8080",
        }
    )
    assert settings == istio.IstioSettings(True, "istio-system/seldon-gateway", "SIMPLE", 8080, 5001)
    assert istio.IstioSettings.from_env({}).gateway == "seldon-gateway"
