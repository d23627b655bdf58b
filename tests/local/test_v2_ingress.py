"""`protocol: v2` and `protocol: tensorflow` through `seldon-graph up`: the real MLServer as two units (a
custom-runtime transformer, then a scikit-learn model) and a chain of two TF-Serving-compatible units, the engine
speaking their protocol, and the local Envoy ingress routing `/seldon/<ns>/<name>/v2/...` and `.../v1/models/...`
over REST and `inference.GRPCInferenceService` over gRPC."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from tests.engine.test_tensorflow_protocol import seldon_client_calls
from tests.support.mlserver import model_repository
from tests.support.venvs import mlserver_bin

# the first run on a machine builds side virtualenvs (MLServer, the prepackaged servers) inside fixtures
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

ROWS = [[0.1, 0.2, 0.0, 0.1], [1.4, 1.6, 0.1, 0.0], [0.0, 1.5, 1.4, 1.6]]
REQUEST = {"inputs": [{"name": "input-0", "shape": [3, 4], "datatype": "FP64", "data": ROWS}]}


def mlserver_container(name: str, repository: str) -> dict:
    """A unit container running MLServer on the ports the operator gives the unit (ready once its HTTP port is
    open: MLServer loads its models before it listens)."""
    command = [
        "env",
        "MLSERVER_HTTP_PORT=$(PREDICTIVE_UNIT_HTTP_SERVICE_PORT)",
        "MLSERVER_GRPC_PORT=$(PREDICTIVE_UNIT_GRPC_SERVICE_PORT)",
        "MLSERVER_METRICS_PORT=$(PREDICTIVE_UNIT_METRICS_SERVICE_PORT)",
        "MLSERVER_HOST=127.0.0.1",
        "MLSERVER_PARALLEL_WORKERS=0",
        str(mlserver_bin() / "mlserver"),
        "start",
        repository,
    ]
    return {"name": name, "image": "seldonio/mlserver:1.7.1", "command": command}


@pytest.fixture(scope="module")
def v2_deployment(local, tmp_path_factory):
    folder = tmp_path_factory.mktemp("v2-models")
    repository = model_repository(folder / "models", mlserver_bin() / "python")
    manifest = {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "metadata": {"name": "iris-v2", "namespace": "seldon"},
        "spec": {
            "protocol": "v2",
            "predictors": [
                {
                    "name": "default",
                    "graph": {
                        "name": "scale",
                        "type": "TRANSFORMER",
                        "children": [{"name": "classifier", "type": "MODEL"}],
                    },
                    "componentSpecs": [
                        {
                            "spec": {
                                "containers": [
                                    mlserver_container("scale", str(repository / "scale")),
                                    mlserver_container("classifier", str(repository / "classifier")),
                                ]
                            }
                        }
                    ],
                }
            ],
        },
    }
    path = folder / "iris-v2.yaml"
    path.write_text(yaml.safe_dump(manifest))
    local.up(path)
    return local


def through_ingress(local, path: str) -> requests.Response:
    deadline = time.monotonic() + 60
    while True:
        response = requests.post(f"{local.base}/seldon/seldon/iris-v2{path}", json=REQUEST, timeout=30)
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        time.sleep(0.5)


def test_v2_rest_through_the_ingress(v2_deployment):
    response = through_ingress(v2_deployment, "/v2/models/scale/infer")
    assert response.status_code == 200, response.text
    assert response.json()["model_name"] == "classifier"
    assert [output["data"] for output in response.json()["outputs"]] == [[0, 1, 2]]
    assert response.headers["Seldon-Puid"]


def test_v2_extension_path_and_metadata_through_the_ingress(v2_deployment):
    assert through_ingress(v2_deployment, "/v2/models/infer").json()["outputs"][0]["data"] == [0, 1, 2]
    metadata = requests.get(f"{v2_deployment.base}/seldon/seldon/iris-v2/v2/models/classifier", timeout=10)
    assert metadata.json()["name"] == "classifier"


def test_v2_grpc_through_the_ingress_with_tritonclient(v2_deployment):
    script = (
        "import sys, json, numpy as np, tritonclient.grpc as g\n"
        "c = g.InferenceServerClient(url=sys.argv[1])\n"
        "x = g.InferInput('input-0', [3, 4], 'FP64'); x.set_data_from_numpy(np.asarray(json.loads(sys.argv[2])))\n"
        "headers = {'seldon': 'iris-v2', 'namespace': 'seldon'}\n"
        "r = c.infer('scale', [x], headers=headers)\n"
        "print(json.dumps(r.as_numpy('predict').ravel().tolist()))\n"
    )
    command = [str(mlserver_bin() / "python"), "-c", script, f"127.0.0.1:{v2_deployment.port}", json.dumps(ROWS)]
    reply = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert reply.returncode == 0, reply.stderr
    assert json.loads(reply.stdout) == [0, 1, 2]


def test_tensorflow_protocol_through_the_ingress(local, seldon_core, tmp_path):
    unit = Path(__file__).resolve().parents[1] / "engine" / "tf_unit.py"
    command = [
        sys.executable,
        str(unit),
        "$(PREDICTIVE_UNIT_HTTP_SERVICE_PORT)",
        "$(PREDICTIVE_UNIT_GRPC_SERVICE_PORT)",
    ]
    manifest = {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "metadata": {"name": "tf-chain", "namespace": "seldon"},
        "spec": {
            "protocol": "tensorflow",
            "predictors": [
                {
                    "name": "default",
                    "graph": {
                        "name": "first",
                        "type": "TRANSFORMER",
                        "children": [{"name": "second", "type": "MODEL"}],
                    },
                    "componentSpecs": [
                        {
                            "spec": {
                                "containers": [
                                    {"name": "first", "image": "local/tf-doubler:1", "command": command},
                                    {"name": "second", "image": "local/tf-doubler:1", "command": command},
                                ]
                            }
                        }
                    ],
                }
            ],
        },
    }
    path = tmp_path / "tf-chain.yaml"
    path.write_text(yaml.safe_dump(manifest))
    local.up(path)
    url = f"{local.base}/seldon/seldon/tf-chain/v1/models/first:predict"
    response = requests.post(url, json={"instances": [[1.0, 2.0]]}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": [[4.0, 8.0]]}
    # the real SeldonClient's gateway form (/seldon/<ns>/<name>/...): its predict sends a SeldonMessage, to
    # /api/v1.0/predictions (not served for this protocol) or to `http_path` (refused: no `instances`); its
    # feedback is served
    found = seldon_client_calls(seldon_core, tmp_path, "ambassador", local.base.removeprefix("http://"), "dict")
    assert found["predict"] == [False, "404:Not Found"]
    success, msg, body = found["http_path"]
    assert (success, msg) == (False, "400:Bad Request") and "instances" in body["error"]
    assert found["feedback"][:2] == [True, ""] and found["feedback"][2]["reward"] == 1.0
