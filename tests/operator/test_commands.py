"""`seldon-graph validate` and `seldon-graph render` run as real subprocesses of the installed console script."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.schemas import validate_all

pytestmark = pytest.mark.e2e

SELDON_GRAPH = str(Path(sys.executable).parent / "seldon-graph")
CLASSIFIER = [{"spec": {"containers": [{"name": "classifier", "image": "seldonio/mock_classifier:1.18.2"}]}}]


def sdep(name="iris", namespace=None, **predictor_extra):
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "metadata": metadata,
        "spec": {
            "predictors": [
                {
                    "name": "main",
                    "componentSpecs": CLASSIFIER,
                    "graph": {"name": "classifier", "type": "MODEL"},
                    **predictor_extra,
                }
            ]
        },
    }


def run(tmp_path, docs, *args, env=None):
    path = tmp_path / "sdep.yaml"
    path.write_text(yaml.safe_dump_all(docs) if isinstance(docs, list) else docs)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AMBASSADOR_", "ISTIO_"))}
    environ.update(env or {})
    return subprocess.run(
        [SELDON_GRAPH, *args, "-f", str(path)], capture_output=True, text=True, timeout=60, env=environ
    )


def test_validate_valid(tmp_path):
    result = run(tmp_path, [sdep()], "validate")
    assert (result.returncode, result.stdout, result.stderr) == (0, "valid\n", "")


def test_validate_prints_every_error_with_its_path(tmp_path):
    bad = sdep(traffic=50)
    bad["spec"]["predictors"][0]["graph"]["children"] = [{"name": "missing", "typo": 1}]
    other = sdep("second")
    other["spec"]["protocol"] = "soap"
    result = run(tmp_path, [bad, other], "validate")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "iris: spec.predictors[0].graph.children[0].typo: unknown field",
        'second: spec.protocol: Invalid value: "soap": Invalid protocol (use one of seldon, tensorflow, kfserving, v2)',
    ]
    bad["spec"]["predictors"][0]["graph"]["children"] = [{"name": "missing"}]
    result = run(tmp_path, [bad], "validate")
    assert result.stderr.splitlines() == [
        'iris: spec.predictors[0].graph.children[0]: Invalid value: "missing": Can\'t find container for Predictive Unit',
        "iris: spec.predictors: Invalid value: 50: Traffic must be 100 for a single predictor when set",
    ]


def test_validate_warns_about_what_the_engine_refuses(tmp_path):
    """Unknown node types and duplicate node names pass Seldon's webhook (exit 0, "valid") but the engine refuses
    them at start, so they are warnings.

    Expectation: checkPredictiveUnits in operator/apis/machinelearning.seldon.io/v1/seldondeployment_webhook.go
    (seldon-core v1.17.1) checks neither; PredictiveUnitType in seldondeployment_types.go lists the known types.
    """
    doc = sdep()
    doc["spec"]["predictors"][0]["componentSpecs"] = [
        {"spec": {"containers": [{"name": n, "image": "seldonio/mock_classifier:1.18.2"} for n in ("a", "b")]}}
    ]
    doc["spec"]["predictors"][0]["graph"] = {
        "name": "a",
        "type": "ROUTERX",
        "children": [{"name": "b", "type": "MODEL"}, {"name": "b", "type": "MODEL"}],
    }
    result = run(tmp_path, [doc], "validate")
    assert (result.returncode, result.stdout) == (0, "valid\n")
    assert result.stderr.splitlines() == [
        "warning: iris: spec.predictors[0].graph.type: unknown type 'ROUTERX' (known: UNKNOWN_TYPE, ROUTER, "
        "COMBINER, MODEL, TRANSFORMER, OUTPUT_TRANSFORMER); the engine will refuse this predictor",
        "warning: iris: spec.predictors[0].graph.children[1].name: duplicate node name 'b'; "
        "the engine will refuse this predictor",
    ]


@pytest.mark.parametrize(
    "content, message",
    [
        ("a: [\n", "not valid YAML or JSON"),
        ("", "no SeldonDeployment found"),
        ("- 1\n", "document 1: a SeldonDeployment must be a mapping, got list"),
    ],
)
def test_validate_bad_files(tmp_path, content, message):
    result = run(tmp_path, content, "validate")
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr


def test_validate_missing_file():
    result = subprocess.run(
        [SELDON_GRAPH, "validate", "-f", "/nonexistent/sdep.yaml"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1 and "No such file or directory" in result.stderr


def test_render_multi_document_yaml_valid_against_schemas(tmp_path):
    result = run(tmp_path, [sdep(), sdep("other", traffic=100)], "render", "--ingress", "istio", "--namespace", "prod")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("---\n")
    objects = list(yaml.safe_load_all(result.stdout))
    validate_all(objects)
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("Deployment", "iris-main-0-classifier"),
        ("Service", "iris-main-classifier"),
        ("Service", "iris-main"),
        ("VirtualService", "iris"),
        ("DestinationRule", "iris-main"),
        ("Deployment", "other-main-0-classifier"),
        ("Service", "other-main-classifier"),
        ("Service", "other-main"),
        ("VirtualService", "other"),
        ("DestinationRule", "other-main"),
    ]
    assert {o["metadata"]["namespace"] for o in objects} == {"prod"}


def test_render_ingress_choice_and_environment(tmp_path):
    ambassador = run(tmp_path, [sdep()], "render", "--ingress", "ambassador")
    kinds = [o["kind"] for o in yaml.safe_load_all(ambassador.stdout)]
    assert kinds == ["Deployment", "Service", "Service", "Mapping", "Mapping"]
    none = run(tmp_path, [sdep()], "render", "--ingress", "none", env={"ISTIO_ENABLED": "true"})
    assert [o["kind"] for o in yaml.safe_load_all(none.stdout)] == ["Deployment", "Service", "Service"]
    from_env = run(tmp_path, [sdep()], "render", env={"ISTIO_ENABLED": "true"})
    assert "VirtualService" in [o["kind"] for o in yaml.safe_load_all(from_env.stdout)]
    default_namespace = {o["metadata"]["namespace"] for o in yaml.safe_load_all(none.stdout)}
    assert default_namespace == {"default"}


@pytest.mark.parametrize("ingress", ["ambassador", "istio"])
def test_render_from_a_file_has_no_owner_references(tmp_path, ingress):
    """`render -f … | kubectl apply -f -` must be accepted: with no SeldonDeployment uid to point at, no object
    (ingress ones included) carries an ownerReference, which Kubernetes refuses without `uid`.

    Expectation: the Go operator only owns objects through controllerutil.SetControllerReference on the
    SeldonDeployment read from the API server (operator/controllers/seldondeployment_controller.go, v1.17.1).
    """
    result = run(tmp_path, [sdep()], "render", "--ingress", ingress)
    assert result.returncode == 0, result.stderr
    objects = list(yaml.safe_load_all(result.stdout))
    validate_all(objects)
    assert {o["kind"] for o in objects} > {"Deployment", "Service"}
    assert [o["metadata"]["name"] for o in objects if "ownerReferences" in o["metadata"]] == []


def test_render_is_byte_identical_across_runs(tmp_path):
    first = run(tmp_path, [sdep()], "render", "--ingress", "ambassador")
    second = run(tmp_path, [sdep()], "render", "--ingress", "ambassador")
    assert first.returncode == 0 and first.stdout == second.stdout


def test_render_refuses_invalid_input(tmp_path):
    result = run(tmp_path, [sdep(shadow=True)], "render")
    assert result.returncode == 1 and result.stdout == ""
    assert "Shadow can not exist as only predictor" in result.stderr


def test_render_error_is_reported_without_traceback(tmp_path):
    doc = sdep()
    doc["spec"]["annotations"] = {"seldon.io/executor-logger-queue-size": "big"}
    result = run(tmp_path, [doc], "render")
    assert result.returncode == 1 and "is not an integer" in result.stderr and "Traceback" not in result.stderr
