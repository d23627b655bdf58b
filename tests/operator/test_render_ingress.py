"""The spec's ingress examples through desired_state: canary 75/25, shadow, header routing (Ambassador) and the
90/10 Istio canary — every object schema-validated, Istio weights summing to 100.
"""

import pytest
import yaml

from seldon_graph.operator.render.desired import RenderError, desired_state
from seldon_graph.operator.render.settings import OperatorSettings
from tests.support.schemas import validate_all

CLASSIFIER = [{"spec": {"containers": [{"name": "classifier", "image": "seldonio/mock_classifier:1.18.2"}]}}]


def sdep(name, predictors, annotations=None):
    spec = {"predictors": predictors}
    if annotations:
        spec["annotations"] = annotations
    return {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "metadata": {"name": name, "namespace": "seldon"},
        "spec": spec,
    }


def predictor(name, **extra):
    return {"name": name, "componentSpecs": CLASSIFIER, "graph": {"name": "classifier", "type": "MODEL"}, **extra}


def render(doc, environ):
    objects = desired_state(doc, OperatorSettings.from_env(environ))
    validate_all(objects)
    return objects


def kinds(objects):
    return [(o["kind"], o["metadata"]["name"]) for o in objects]


CANARY = sdep("example", [predictor("main", traffic=75), predictor("canary", traffic=25)])


def test_canary_75_25_ambassador_v2_mappings():
    objects = render(CANARY, {"AMBASSADOR_ENABLED": "true", "AMBASSADOR_VERSION": "v2"})
    mappings = {name: o for (kind, name), o in zip(kinds(objects), objects) if kind == "Mapping"}
    assert list(mappings) == [
        "seldon-seldon-example-main-rest",
        "seldon-seldon-example-main-grpc",
        "seldon-seldon-example-canary-rest",
        "seldon-seldon-example-canary-grpc",
    ]
    assert "weight" not in mappings["seldon-seldon-example-main-rest"]["spec"]
    assert mappings["seldon-seldon-example-canary-rest"]["spec"]["weight"] == 25
    assert mappings["seldon-seldon-example-canary-grpc"]["spec"]["service"] == "example-canary.seldon:5001"
    assert kinds(objects)[:2] == [
        ("Deployment", "example-main-0-classifier"),
        ("Deployment", "example-canary-0-classifier"),
    ]


def test_canary_75_25_ambassador_v1_annotation_on_the_predictor_services():
    objects = render(CANARY, {"AMBASSADOR_ENABLED": "true", "AMBASSADOR_VERSION": "v1"})
    assert not [o for o in objects if o["kind"] == "Mapping"]
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
    config = services["example-canary"]["metadata"]["annotations"]["getambassador.io/config"]
    docs = [d for d in yaml.safe_load_all(config) if d]
    assert [d["name"] for d in docs] == [
        "seldon_seldon_example_canary_rest_mapping",
        "seldon_seldon_example_canary_grpc_mapping",
    ]
    assert all(d["weight"] == 25 for d in docs)
    main = [
        d
        for d in yaml.safe_load_all(services["example-main"]["metadata"]["annotations"]["getambassador.io/config"])
        if d
    ]
    assert all("weight" not in d for d in main)
    assert "annotations" not in services["example-main-classifier"]["metadata"]


def test_shadow_ambassador():
    doc = sdep("example", [predictor("default"), predictor("shadow", shadow=True, traffic=100)])
    objects = render(doc, {"AMBASSADOR_ENABLED": "true"})
    shadow = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Mapping"}["seldon-seldon-example-shadow-rest"]
    assert shadow["spec"]["shadow"] is True and shadow["spec"]["weight"] == 100
    assert shadow["spec"]["prefix"] == "/seldon/seldon/example/"


def test_header_routing_ambassador():
    doc = sdep(
        "example-header",
        [predictor("single")],
        {"seldon.io/ambassador-header": "location:london", "seldon.io/ambassador-service-name": "example"},
    )
    objects = render(doc, {"AMBASSADOR_ENABLED": "true"})
    mappings = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "Mapping"}
    rest = mappings["seldon-seldon-example-header-single-rest"]
    assert rest["headers"] == {"location": "london"} and rest["prefix"] == "/seldon/seldon/example/"
    assert rest["service"] == "example-header-single.seldon:8000"


def test_istio_canary_90_10():
    doc = sdep("iris", [predictor("main", traffic=90), predictor("canary", traffic=10)])
    objects = render(doc, {"ISTIO_ENABLED": "true", "ISTIO_GATEWAY": "istio-system/seldon-gateway"})
    assert kinds(objects)[-3:] == [
        ("VirtualService", "iris"),
        ("DestinationRule", "iris-main"),
        ("DestinationRule", "iris-canary"),
    ]
    virtual_service = objects[-3]
    assert virtual_service["spec"]["gateways"] == ["istio-system/seldon-gateway"]
    for route in virtual_service["spec"]["http"]:
        assert sum(r["weight"] for r in route["route"]) == 100
        assert [r["destination"]["subset"] for r in route["route"]] == ["main", "canary"]
    deployments = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}
    for name, subset in (("iris-main-0-classifier", "main"), ("iris-canary-0-classifier", "canary")):
        assert deployments[name]["spec"]["template"]["metadata"]["labels"]["version"] == subset
    rules = {o["metadata"]["name"]: o for o in objects if o["kind"] == "DestinationRule"}
    assert rules["iris-canary"]["spec"]["subsets"] == [{"name": "canary", "labels": {"version": "canary"}}]


def test_ingress_objects_off_by_default_and_bad_annotations_are_render_errors():
    assert {o["kind"] for o in render(CANARY, {})} == {"Deployment", "Service"}
    bad = sdep("x", [predictor("p")], {"seldon.io/istio-retries": "many"})
    with pytest.raises(RenderError):
        desired_state(bad, OperatorSettings.from_env({"ISTIO_ENABLED": "true"}))
