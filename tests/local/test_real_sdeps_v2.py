"""`protocol: v2` / `kfserving` prepackaged servers run unchanged in the real MLServer: iris models trained here
are fetched by rclone from a gs:// store (an rclone alias over a folder), MLServer starts from the side env of
its runtime (mlserver-sklearn, mlserver-xgboost), and answers through the Envoy ingress and the engine to the
real tritonclient (HTTP and gRPC) and to plain HTTP, as the model's own predict/predict_proba say. Besides the
documents written here, Seldon's own published V2 documents (tests/fixtures/seldon_examples, vendored byte for
byte) run as they are, with the models at the paths their modelUris name, and the `mlserver build` image of its V2
graph mapped with `--source` to an MLServer folder written here (tests/fixtures/seldon_sources).

Side environments are built once under .cache/local-envs (the same cache the local runtime uses here)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy
import pytest
import requests

from tests.local.real_models import IRIS, Stack, close, serving_stack, side_python, train, write
from tests.support.venvs import mlserver_bin

PUBLISHED = Path(__file__).resolve().parents[1] / "fixtures" / "seldon_examples"
SCALING_PREPROCESSOR = Path(__file__).resolve().parents[1] / "fixtures" / "seldon_sources" / "scaling_preprocessor"

# the first run on a machine builds the MLServer side virtualenvs inside fixtures
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

SKLEARN_V2 = """
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: sklearn
  namespace: seldon
spec:
  name: iris
  protocol: {protocol}
  predictors:
  - graph:
      children: []
      implementation: SKLEARN_SERVER
      modelUri: gs://models/sklearn/iris
      name: classifier
    name: default
    replicas: 1
"""

XGBOOST_V2 = """
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: xgboost
  namespace: seldon
spec:
  protocol: v2
  predictors:
  - graph:
      implementation: XGBOOST_SERVER
      modelUri: gs://models/xgboost/iris
      name: iris
    name: default
"""

UNKNOWN_RUNTIME = """
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: custom-runtime
  namespace: seldon
spec:
  protocol: v2
  predictors:
  - name: default
    componentSpecs:
    - spec:
        containers:
        - name: model
          image: seldonio/mlserver:1.3.5-slim
          env:
          - {name: MLSERVER_MODEL_IMPLEMENTATION, value: my_runtimes.Custom}
    graph:
      name: model
      type: MODEL
"""

TRITON = """
import json, sys
import numpy as np
transport, url, model, rows = sys.argv[1], sys.argv[2], sys.argv[3], np.asarray(json.loads(sys.argv[4]))
if transport == "http":
    import tritonclient.http as client
    triton, headers = client.InferenceServerClient(url=url), None
else:
    import tritonclient.grpc as client
    triton, headers = client.InferenceServerClient(url=url), {"seldon": "sklearn", "namespace": "seldon"}
tensor = client.InferInput("input-0", list(rows.shape), "FP64")
tensor.set_data_from_numpy(rows) if transport == "grpc" else tensor.set_data_from_numpy(rows, binary_data=False)
wanted = [client.InferRequestedOutput(name) for name in ("predict", "predict_proba")]
result = triton.infer(model, [tensor], outputs=wanted, headers=headers)
print(json.dumps({"predict": result.as_numpy("predict").ravel().tolist(), "predict_proba": result.as_numpy("predict_proba").tolist()}))
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("store")
    expected = {
        "sklearn": train("sklearn", "mlserver-sklearn", root / "models" / "sklearn" / "iris", isolated=True),
        "xgboost": train("xgboost", "mlserver-xgboost", root / "models" / "xgboost" / "iris", isolated=True),
    }
    published = root / "seldon-models"  # the bucket Seldon's published documents name
    shutil.copytree(root / "models" / "sklearn" / "iris", published / "sklearn" / "iris-0.23.2" / "lr_model")
    shutil.copytree(root / "models" / "xgboost" / "iris", published / "xgboost" / "iris")
    return root, expected


@pytest.fixture(scope="module")
def stack(store, tmp_path_factory):
    with serving_stack(store[0], tmp_path_factory.mktemp("home")) as local:
        yield local


PREDICT_SAVED = """
import json, sys
import joblib
print(json.dumps(joblib.load(sys.argv[1]).predict(json.loads(sys.argv[2])).tolist()))
"""


def infer(stack: Stack, name: str, model: str, body: dict, namespace: str = "seldon") -> dict:
    url = f"{stack.base}/seldon/{namespace}/{name}/v2/models/{model}/infer"
    response = requests.post(url, json=body, timeout=30)
    assert response.status_code == 200, response.text
    return {output["name"]: output for output in response.json()["outputs"]}


def v2_request(rows: list, outputs: tuple[str, ...] = ()) -> dict:
    tensor = {"name": "input-0", "shape": list(numpy.shape(rows)), "datatype": "FP64", "data": rows}
    return {"inputs": [tensor], **({"outputs": [{"name": o} for o in outputs]} if outputs else {})}


def triton(transport: str, url: str, model: str) -> dict:
    command = [str(mlserver_bin() / "python"), "-c", TRITON, transport, url, model, json.dumps(IRIS)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_iris_sklearn_server_in_protocol_v2_answers_like_the_model(stack, store, tmp_path):
    stack.up(write(tmp_path, "iris-v2.yaml", SKLEARN_V2.format(protocol="v2")))
    expected = store[1]["sklearn"]
    outputs = infer(stack, "sklearn", "classifier", v2_request(IRIS))
    assert list(outputs) == ["predict"] and outputs["predict"]["data"] == expected["predict"]
    both = infer(stack, "sklearn", "classifier", v2_request(IRIS, ("predict", "predict_proba")))
    assert close(numpy.reshape(both["predict_proba"]["data"], (2, 3)), expected["predict_proba"])
    for transport, url in (
        ("http", f"127.0.0.1:{stack.port}/seldon/seldon/sklearn"),
        ("grpc", f"127.0.0.1:{stack.port}"),
    ):
        answer = triton(transport, url, "classifier")
        assert answer["predict"] == expected["predict"], transport
        assert close(answer["predict_proba"], expected["predict_proba"]), transport
    metadata = requests.get(f"{stack.base}/seldon/seldon/sklearn/v2/models/classifier", timeout=10)
    assert metadata.status_code == 200 and metadata.json()["name"] == "classifier"
    [log] = (stack.home / "logs" / "seldon").glob("sklearn-*.classifier.log")
    assert "Uvicorn running on http://127.0.0.1:" in log.read_text()  # MLSERVER_HOST, as the local runtime sets it


def test_the_kfserving_protocol_alias_runs_the_same_server(stack, store, tmp_path):
    stack.up(write(tmp_path, "iris-kfserving.yaml", SKLEARN_V2.format(protocol="kfserving")))
    outputs = infer(stack, "sklearn", "classifier", v2_request(IRIS))
    assert outputs["predict"]["data"] == store[1]["sklearn"]["predict"]


def test_the_xgboost_server_in_protocol_v2_answers_like_the_booster(stack, store, tmp_path):
    stack.up(write(tmp_path, "xgboost-v2.yaml", XGBOOST_V2))
    outputs = infer(stack, "xgboost", "iris", v2_request(IRIS))
    assert close(numpy.reshape(outputs["predict"]["data"], (2, 3)), store[1]["xgboost"]["predict"])


def test_an_mlserver_runtime_without_a_local_extra_is_failed_naming_its_module(stack, tmp_path):
    result = stack.up(write(tmp_path, "unknown.yaml", UNKNOWN_RUNTIME), check=False)
    assert result.returncode == 1
    [line] = [line for line in result.stdout.splitlines() if "is Failed: " in line]
    assert "MLSERVER_MODEL_IMPLEMENTATION=my_runtimes.Custom" in line and "'my_runtimes'" in line, result.stdout


def test_a_model_mlserver_cannot_load_is_failed_not_available(stack, store, tmp_path):
    """MLServer drops a model that fails to load and then calls itself ready: the unit waits for the model's own
    readiness, so the deployment is Failed (MLServer exits) and `up` names the error from its log."""
    (store[0] / "models" / "empty").mkdir(exist_ok=True)
    text = SKLEARN_V2.format(protocol="v2").replace("sklearn/iris", "empty").replace("name: sklearn", "name: nomodel")
    result = stack.up(write(tmp_path, "empty.yaml", text), check=False)
    assert result.returncode == 1, result.stdout
    assert "SeldonDeployment seldon/nomodel is Failed: unit nomodel-default-0-classifier/classifier" in result.stdout, (
        result.stdout
    )
    [line] = [line for line in result.stdout.splitlines() if "is Failed: " in line]
    assert "IsADirectoryError" in line, result.stdout  # the error MLServer logged, not its shutdown lines after it


def test_seldons_published_iris_sklearn_v2_document_runs_unchanged(stack, store):
    """notebooks/resources/iris-sklearn-v2.yaml: no namespace (so `default`), model `classifier`."""
    stack.up(PUBLISHED / "iris-sklearn-v2.yaml")
    expected = store[1]["sklearn"]
    outputs = infer(stack, "sklearn", "classifier", v2_request(IRIS, ("predict", "predict_proba")), "default")
    assert outputs["predict"]["data"] == expected["predict"]
    assert close(numpy.reshape(outputs["predict_proba"]["data"], (2, 3)), expected["predict_proba"])
    stack.run("down", "default/sklearn", check=True)


def test_seldons_published_iris_xgboost_v2_document_runs_unchanged(stack, store):
    """The iris-xgboost-v2.yaml that notebooks/server_examples.ipynb writes: model `iris` in namespace default."""
    stack.up(PUBLISHED / "iris-xgboost-v2.yaml")
    outputs = infer(stack, "xgboost", "iris", v2_request(IRIS), "default")
    assert close(numpy.reshape(outputs["predict"]["data"], (2, 3)), store[1]["xgboost"]["predict"])
    stack.run("down", "default/xgboost", check=True)


def test_seldons_published_v2_graph_runs_its_mlserver_build_image_from_an_mlserver_source_folder(stack, store):
    """testing/resources/graph-v2.yaml: seldonio/mock-preprocessor (an `mlserver build` image) before a
    SKLEARN_SERVER. Mapped to a folder with a model-settings.json and a custom runtime that scales its inputs by 0.75,
    MLServer serves it as `mock-preprocessor` (the rendered MLSERVER_MODEL_NAME), and the graph answers what the
    stored iris model predicts for the scaled rows."""
    stack.up(PUBLISHED / "graph-v2.yaml", "--source", f"seldonio/mock-preprocessor:0.2.0={SCALING_PREPROCESSOR}")
    scaled = (numpy.asarray(IRIS) * 0.75).tolist()  # the factor in its model-settings.json
    model = store[0] / "seldon-models" / "sklearn" / "iris-0.23.2" / "lr_model" / "model.joblib"
    python = str(side_python("mlserver-sklearn", isolated=True))
    saved = subprocess.run(
        [python, "-c", PREDICT_SAVED, str(model), json.dumps(scaled)], capture_output=True, text=True
    )
    assert saved.returncode == 0, saved.stderr
    expected = json.loads(saved.stdout)
    assert expected != store[1]["sklearn"]["predict"]  # the preprocessor's scaling changes the model's answer
    outputs = infer(stack, "graph-test", "mock-preprocessor", v2_request(IRIS), "default")
    assert list(outputs) == ["predict"] and outputs["predict"]["data"] == expected
    [log] = (stack.home / "logs" / "default").glob("graph-test-*.mock-preprocessor.log")
    assert "Uvicorn running on http://127.0.0.1:" in log.read_text()
    stack.run("down", "default/graph-test", check=True)
