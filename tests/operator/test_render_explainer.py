"""Explainer Deployment and Service (v1 alibi-explain command line, v2 MLServer runtime)."""

import json

import pytest

from seldon_graph.operator.render.desired import RenderError, desired_state
from seldon_graph.operator.render.settings import OperatorSettings
from tests.support.schemas import validate_all

CLASSIFIER = [{"spec": {"containers": [{"name": "classifier", "image": "c:1"}]}}]


def sdep(explainer, spec_extra=None, **predictor_extra):
    predictor = {
        "name": "p1",
        "componentSpecs": CLASSIFIER,
        "graph": {"name": "classifier", "type": "MODEL"},
        "explainer": explainer,
        **predictor_extra,
    }
    return {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "metadata": {"name": "dep", "namespace": "ns"},
        "spec": {"predictors": [predictor], **(spec_extra or {})},
    }


def render(doc, environ=None):
    objects = desired_state(doc, OperatorSettings.from_env(environ or {}))
    validate_all(objects)
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def test_v1_explainer_deployment_and_service():
    objects = render(
        sdep(
            {"type": "AnchorTabular", "modelUri": "gs://e", "config": {"threshold": "0.9", "b": "1"}, "replicas": 2},
            spec_extra={"replicas": 3},
        )
    )
    deployment = objects[("Deployment", "dep-p1-explainer")]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["name"] == "dep-p1-explainer" and container["image"] == "seldonio/alibiexplainer:1.18.2"
    assert container["args"] == [
        "--model_name=classifier",
        "--predictor_host=dep-p1.ns:8000",
        "--protocol=seldon.http",
        "--http_port=9000",
        "--storage_uri=/mnt/models",
        "AnchorTabular",
        "--b=1",
        "--threshold=0.9",
    ]
    assert container["ports"] == [{"name": "http", "containerPort": 9000, "protocol": "TCP"}]
    assert container["readinessProbe"]["failureThreshold"] == 7 and container["livenessProbe"]["failureThreshold"] == 5
    assert deployment["spec"]["replicas"] == 2
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert labels["seldon.io/explainer"] == "true" and labels["seldon-app"] == "dep-p1-explainer"
    assert "prometheus.io/scrape" not in deployment["spec"]["template"]["metadata"].get("annotations", {})
    assert len(deployment["spec"]["template"]["spec"]["initContainers"]) == 1
    service = objects[("Service", "dep-p1-explainer")]
    assert service["spec"]["selector"] == {"seldon-app": "dep-p1-explainer"}
    assert service["metadata"]["labels"]["seldon-app"] == "dep-p1"
    assert service["spec"]["ports"] == [{"name": "http", "port": 9000, "targetPort": 9000, "protocol": "TCP"}]
    assert objects[("Deployment", "dep-p1-0-classifier")]["spec"]["replicas"] == 3


def test_v2_explainer_runs_the_mlserver_runtime():
    """`initParameters` (JSON text) is the object under `init_parameters` in MLSERVER_MODEL_EXTRA, spliced in as written.

    Expectation: getAlibiExplainExtraEnvVars in operator/controllers/mlserver.go (seldon-core v1.17.1).
    """
    objects = render(
        sdep({"type": "AnchorImages", "initParameters": '{"segmentation_fn": "slic"}'}, spec_extra={"protocol": "v2"}),
        {"RELATED_IMAGE_EXPLAINER_V2": "explainer:1234"},
    )
    (container,) = objects[("Deployment", "dep-p1-explainer")]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "explainer:1234" and "args" not in container
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["MLSERVER_MODEL_IMPLEMENTATION"] == "mlserver_alibi_explain.AlibiExplainRuntime"
    assert env["MLSERVER_MODEL_NAME"] == "dep-p1-explainer" and env["MLSERVER_HTTP_PORT"] == "9000"
    assert json.loads(env["MLSERVER_MODEL_EXTRA"]) == {
        "explainer_type": "anchor_image",
        "infer_uri": "http://dep-p1.ns:8000/v2/models/classifier/infer",
        "init_parameters": {"segmentation_fn": "slic"},
    }
    assert env["MLSERVER_MODEL_EXTRA"] == (
        '{"explainer_type":"anchor_image","infer_uri":"http://dep-p1.ns:8000/v2/models/classifier/infer",'
        '"init_parameters":{"segmentation_fn": "slic"}}'
    )


def test_v2_explainer_init_parameters_that_are_not_json_are_a_render_error():
    with pytest.raises(RenderError, match="predictor 'p1': explainer.initParameters is not JSON"):
        desired_state(
            sdep({"type": "AnchorTabular", "initParameters": "{threshold: 0.9"}, spec_extra={"protocol": "v2"})
        )


def test_zero_replicas_propagate_to_the_explainer():
    objects = render(sdep({"type": "AnchorTabular", "replicas": 3}, spec_extra={"replicas": 0}))
    assert objects[("Deployment", "dep-p1-explainer")]["spec"]["replicas"] == 0
    assert objects[("Deployment", "dep-p1-0-classifier")]["spec"]["replicas"] == 0


def test_no_explainer_without_a_type():
    objects = render(sdep({"modelUri": "gs://e"}))
    assert ("Deployment", "dep-p1-explainer") not in objects


@pytest.mark.parametrize(
    "kind, tag",
    [
        ("AnchorText", "anchor_text"),
        ("KernelShap", "kernel_shap"),
        ("ALE", "ALE"),
        ("IntegratedGradients", "integrated_gradients"),
        ("TreeShap", "tree_shap"),
    ],
)
def test_v2_explainer_type_tags(kind, tag):
    objects = render(sdep({"type": kind}, spec_extra={"protocol": "v2"}))
    (container,) = objects[("Deployment", "dep-p1-explainer")]["spec"]["template"]["spec"]["containers"]
    extra = json.loads({e["name"]: e["value"] for e in container["env"]}["MLSERVER_MODEL_EXTRA"])
    assert extra["explainer_type"] == tag


def test_unknown_v2_explainer_type_is_a_render_error():
    with pytest.raises(RenderError, match="explainer type 'Magic' is not supported"):
        desired_state(sdep({"type": "Magic"}, spec_extra={"protocol": "v2"}))


def test_explainer_service_carries_the_legacy_ambassador_annotation():
    objects = render(sdep({"type": "AnchorTabular"}), {"AMBASSADOR_ENABLED": "true", "AMBASSADOR_VERSION": "v1"})
    annotation = objects[("Service", "dep-p1-explainer")]["metadata"]["annotations"]["getambassador.io/config"]
    assert "prefix: /seldon/ns/dep-explainer/p1/" in annotation
