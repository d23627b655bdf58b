"""Seldon Core's own published example SeldonDeployments (tests/fixtures/seldon_examples, vendored byte for byte)
run with `up -f FILE` unchanged, protocol seldon: the server samples (SKLEARN_SERVER, XGBOOST_SERVER, MLFLOW_SERVER),
two A/B tests of prepackaged servers, and graphs of custom images mapped with `--source` to s2i folders written
for these tests. The only other input is the model store: `gs://` is an rclone alias over a folder holding models
trained here at the paths the documents name. All deployments share one state home (their names differ, except
the two graph examples both called `test`, which run one after the other)."""

from __future__ import annotations

import runpy
import shutil
from pathlib import Path

import pytest

from tests.local.conftest import grpc_predict, ndarray
from tests.local.real_models import IRIS, WINE, close, predict, predict_once_loaded, serving_stack, train

# the first run on a machine builds side virtualenvs (the prepackaged servers, the source folders' requirements)
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PUBLISHED = FIXTURES / "seldon_examples"
SOURCES = FIXTURES / "seldon_sources"
MOCK_CLASSIFIER = f"seldonio/mock_classifier={SOURCES / 'mean_classifier'}"
GENERIC_NODE = f"seldonio/metadata-generic-node={SOURCES / 'generic_node'}"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tuple[Path, dict]:
    """The store behind `gs://` with a model at every modelUri the documents name, and each model's answers."""
    root = tmp_path_factory.mktemp("store")
    models = root / "seldon-models"
    expected = {
        "sklearn": train("sklearn", "sklearn-server", models / "v1.17.1" / "sklearn" / "iris"),
        "xgboost": train("xgboost", "xgboost-server", models / "xgboost" / "iris"),
        "model-a": train("elasticnet:0.5", "mlflow-server", models / "mlflow" / "model-a", WINE),
        "model-b": train("elasticnet:0.1", "mlflow-server", models / "mlflow" / "model-b", WINE),
    }
    (models / "v1.16.0-dev" / "sklearn").mkdir(parents=True)
    shutil.copytree(models / "v1.17.1" / "sklearn" / "iris", models / "v1.16.0-dev" / "sklearn" / "iris")
    shutil.copytree(models / "mlflow" / "model-a", models / "mlflow" / "elasticnet_wine_1.8.0")
    return root, expected


@pytest.fixture(scope="module")
def stack(store, tmp_path_factory):
    with serving_stack(store[0], tmp_path_factory.mktemp("home")) as local:
        yield local


def test_the_server_samples_answer_like_their_models(stack, store):
    for name in ("sklearnserver-iris.yaml", "xgboostserver-iris.yaml", "mlflowserver-elasticnet_wine.yaml"):
        stack.up(PUBLISHED / name)
    answers = store[1]
    sklearn = predict(stack, "sklearn", IRIS, "default")
    assert close(sklearn["data"]["ndarray"], answers["sklearn"]["predict_proba"])
    assert sklearn["data"]["names"] == ["t:0", "t:1", "t:2"]
    grpc_answer = grpc_predict(stack.port, "sklearn", IRIS, namespace="default")
    assert close(ndarray(grpc_answer), answers["sklearn"]["predict_proba"])
    assert close(predict(stack, "xgboost", IRIS, "default")["data"]["ndarray"], answers["xgboost"]["predict"])
    wine = predict_once_loaded(stack, "mlflow", WINE, "default")
    assert close(wine["data"]["ndarray"], answers["model-a"]["predict"])


def test_an_ab_test_of_two_mlflow_servers_splits_traffic_between_them(stack, store):
    stack.up(PUBLISHED / "mlflow-ab-test.yaml")
    answers = {side: store[1][f"model-{side}"]["predict"] for side in ("a", "b")}
    seen = []
    for _ in range(80):  # traffic 80/20: b is missed 80 times in a row with probability 2e-8
        got = predict_once_loaded(stack, "mlflow-deployment", WINE, "default")["data"]["ndarray"]
        [side] = [side for side, expected in answers.items() if close(got, expected)]
        seen.append(side)
        if "b" in seen and seen.count("a") >= 2:
            break
    assert {"a", "b"} <= set(seen), seen


def test_the_iter8_ab_test_with_its_namespace_document_sends_all_traffic_to_the_baseline(stack, store):
    stack.up(PUBLISHED / "iter8-abtest.yaml")
    units = {
        u["instance"] + "/" + u["name"]: u["state"]
        for u in stack.status()["deployments"]["ns-production.iris"]["units"]
    }
    assert len(units) == 4 and set(units.values()) == {"Ready"}, units  # the candidate (traffic 0) runs too
    for _ in range(10):
        body = predict(stack, "iris", IRIS, "ns-production")
        assert close(body["data"]["ndarray"], store[1]["sklearn"]["predict_proba"])


def mean_classifier(rows: list, monkeypatch) -> list:
    """What the mapped source folder's own class answers for `rows` (run in its folder, as the unit is)."""
    monkeypatch.chdir(SOURCES / "mean_classifier")
    return runpy.run_path("MeanClassifier.py")["MeanClassifier"]().predict(rows, [])


def test_a_random_ab_test_of_two_mock_classifier_images(stack, monkeypatch):
    stack.up(PUBLISHED / "random_ab_test.json", "--source", MOCK_CLASSIFIER)
    expected = mean_classifier(IRIS, monkeypatch)
    routes = set()
    for _ in range(30):
        body = predict(stack, "seldon-deployment", IRIS, "default")
        assert close(body["data"]["ndarray"], expected) and body["data"]["names"] == ["proba"]
        routes.add(body["meta"]["routing"]["random-ab-test"])
        if routes == {0, 1}:
            break
    assert routes == {0, 1}


def test_graphs_of_generic_node_images_around_prepackaged_servers(stack, store):
    stack.up(PUBLISHED / "combiner-prepack.yaml", "--source", GENERIC_NODE)
    probabilities = store[1]["sklearn"]["predict_proba"]
    combined = predict(stack, "test", IRIS, "default")
    assert close(combined["data"]["ndarray"], [probabilities, probabilities])
    assert set(combined["meta"]["requestPath"]) == {"combiner", "model-1", "model-2"}
    stack.run("down", "default/test", check=True)
    stack.up(PUBLISHED / "tin-model-tout-sep-pods.yaml", "--source", GENERIC_NODE)
    chain = predict(stack, "test", IRIS, "default")
    assert close(chain["data"]["ndarray"], IRIS)
    assert set(chain["meta"]["requestPath"]) == {"input-transformer", "model", "output-transformer"}
    assert close(ndarray(grpc_predict(stack.port, "test", IRIS, namespace="default")), IRIS)


def test_every_deployment_left_is_available(stack):
    states = {key: status["state"] for key, status in stack.status()["deployments"].items()}
    assert states and set(states.values()) == {"Available"}, states
