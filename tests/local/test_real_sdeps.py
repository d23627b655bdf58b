"""Real SeldonDeployments run unchanged: prepackaged servers whose models are trained here and fetched by rclone
(a gs:// store that is an rclone alias over a folder, an S3 store that is moto's server configured by a Secret in
the same file), an MLflow model folder used in place, a custom image mapped to its s2i source folder in a graph
with a prepackaged server, and every bad input as a Failed unit with one clear line.

Side environments (server packages, rclone, the source folder's requirements) are built once under .cache/."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests

from seldon_graph.operator.local import model_store
from tests.local.conftest import alive, grpc_predict, ndarray
from tests.local.real_models import IRIS, close, predict, predict_once_loaded, serving_stack, train, write
from tests.local.test_lifecycle import wait_until
from tests.support.procs import free_port, running
from tests.support.venvs import ensure_venv

# the first run on a machine builds side virtualenvs (MLServer, the prepackaged servers) inside fixtures
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

MOTO = ["moto[server]>=5,<6"]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tuple[Path, dict]:
    """A model store folder (`gs://models/...` through the alias) with real iris models, and their answers."""
    root = tmp_path_factory.mktemp("store")
    expected = {
        "sklearn": train("sklearn", "sklearn-server", root / "models" / "sklearn" / "iris"),
        "xgboost": train("xgboost", "xgboost-server", root / "models" / "xgboost" / "iris"),
    }
    (root / "models" / "empty").mkdir()
    return root, expected


@pytest.fixture(scope="module")
def stack(store, tmp_path_factory):
    with serving_stack(store[0], tmp_path_factory.mktemp("home")) as local:
        yield local


SKLEARN_IRIS = """
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: sklearn
  namespace: seldon
spec:
  predictors:
  - graph:
      name: classifier
      implementation: SKLEARN_SERVER
      modelUri: gs://models/sklearn/iris
    name: default
    replicas: 1
"""

SELDON_CLIENT = """
import json, sys
import numpy as np
from seldon_core.seldon_client import SeldonClient
sc = SeldonClient(gateway="ambassador", gateway_endpoint=sys.argv[1], namespace="seldon", deployment_name="sklearn")
rows = np.array(json.loads(sys.argv[2]))
rest = sc.predict(data=rows, payload_type="ndarray")
grpc_ = sc.predict(data=rows, payload_type="ndarray", transport="grpc")
print(json.dumps([rest.response["data"]["ndarray"], grpc_.response["data"]["ndarray"]]))
"""


def test_sklearn_server_answers_like_the_model_from_a_gs_store(stack, store, tmp_path, seldon_core):
    stack.up(write(tmp_path, "iris.yaml", SKLEARN_IRIS))
    expected = store[1]["sklearn"]["predict_proba"]
    body = predict(stack, "sklearn", IRIS)
    assert close(body["data"]["ndarray"], expected)
    assert body["data"]["names"] == ["t:0", "t:1", "t:2"]
    assert close(ndarray(grpc_predict(stack.port, "sklearn", IRIS)), expected)
    result = subprocess.run(
        [str(seldon_core / "python"), "-c", SELDON_CLIENT, f"127.0.0.1:{stack.port}", json.dumps(IRIS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    rest, grpc_ = json.loads(result.stdout)
    assert close(rest, expected) and close(grpc_, expected)
    metadata = requests.get(stack.rest("sklearn").replace("/predictions", "/metadata/classifier"), timeout=10)
    assert metadata.json()["name"] == "iris"
    wrong = requests.post(stack.rest("sklearn"), json={"data": {"ndarray": [[1.0, 2.0]]}}, timeout=30)
    assert wrong.status_code == 400 and "expecting 4 features" in wrong.json()["status"]["info"]


AB_TEST = """
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: abtest
  namespace: seldon
spec:
  predictors:
  - name: default
    graph:
      name: router
      type: ROUTER
      implementation: RANDOM_ABTEST
      parameters:
      - {name: ratioA, value: "0.5", type: FLOAT}
      children:
      - name: sklearn
        implementation: SKLEARN_SERVER
        modelUri: gs://models/sklearn/iris
        parameters:
        - {name: method, value: predict, type: STRING}
      - name: xgboost
        implementation: XGBOOST_SERVER
        modelUri: gs://models/xgboost/iris
"""


def test_an_ab_test_of_two_prepackaged_servers(stack, store, tmp_path):
    stack.up(write(tmp_path, "ab.yaml", AB_TEST))
    expected = {"sklearn": store[1]["sklearn"]["predict"], "xgboost": store[1]["xgboost"]["predict"]}
    seen = set()
    for _ in range(30):
        body = predict(stack, "abtest", IRIS)
        chosen = "sklearn" if "sklearn" in body["meta"]["requestPath"] else "xgboost"
        assert close(body["data"]["ndarray"], expected[chosen])
        seen.add(chosen)
        if seen == {"sklearn", "xgboost"}:
            break
    assert seen == {"sklearn", "xgboost"}


MLFLOW = """
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: mlflow
  namespace: seldon
spec:
  predictors:
  - name: default
    graph:
      name: classifier
      implementation: MLFLOW_SERVER
      modelUri: file://{folder}
"""


def test_an_mlflow_model_folder_is_served_in_place(stack, tmp_path):
    expected = train("mlflow", "mlflow-server", tmp_path / "mlflow-iris")
    stack.up(write(tmp_path, "mlflow.yaml", MLFLOW.format(folder=tmp_path / "mlflow-iris")))
    assert close(predict_once_loaded(stack, "mlflow", IRIS)["data"]["ndarray"], expected["predict"])
    uri = f"file://{tmp_path / 'mlflow-iris'}"
    assert not model_store.cache_dir(stack.home / "models", uri).exists()  # used in place, not copied


S3 = """
apiVersion: v1
kind: Secret
metadata:
  name: s3-store
type: Opaque
stringData:
  RCLONE_CONFIG_S3_TYPE: s3
  RCLONE_CONFIG_S3_PROVIDER: Other
  RCLONE_CONFIG_S3_ENV_AUTH: "false"
  RCLONE_CONFIG_S3_ACCESS_KEY_ID: testing
  RCLONE_CONFIG_S3_SECRET_ACCESS_KEY: testing
  RCLONE_CONFIG_S3_ENDPOINT: http://127.0.0.1:{port}
---
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: s3
  namespace: seldon
spec:
  predictors:
  - name: default
    graph:
      name: classifier
      implementation: SKLEARN_SERVER
      modelUri: s3://models/sklearn/iris
      envSecretRefName: s3-store
"""

UPLOAD = """
import sys
from pathlib import Path
import boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id="testing", aws_secret_access_key="testing",
                  region_name="us-east-1")
s3.create_bucket(Bucket="models")
for path in Path(sys.argv[2]).iterdir():
    s3.upload_file(str(path), "models", f"sklearn/iris/{path.name}")
"""


def test_an_s3_store_configured_by_a_secret_in_the_file(stack, store, tmp_path):
    moto = ensure_venv("moto-5", MOTO)
    port = free_port()
    with running([str(moto / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], tmp_path / "moto.log"):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.2)
        upload = [str(moto / "python"), "-c", UPLOAD, f"http://127.0.0.1:{port}", str(store[0] / "models/sklearn/iris")]
        subprocess.run(upload, check=True, timeout=60)
        stack.up(write(tmp_path, "s3.yaml", S3.replace("{port}", str(port))))
        assert close(predict(stack, "s3", IRIS)["data"]["ndarray"], store[1]["sklearn"]["predict_proba"])


TRANSFORMER = '''
import os
import six
from seldon_core.user_model import SeldonComponent


class Scale(SeldonComponent):
    """Features in centimetres from millimetres; six is its requirement, SCALE comes from the environment file."""

    def transform_input(self, X, names, meta=None):
        return [[float(v) / float(os.environ["SCALE"]) for v in row] for row in X]

    def tags(self):
        return {"six": six.__version__, "token": os.environ.get("TOKEN", "")}
'''

GRAPH = """
apiVersion: v1
kind: Secret
metadata:
  name: creds
data:
  token: c2VjcmV0LXRva2Vu
---
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: graph
  namespace: seldon
spec:
  predictors:
  - name: default
    componentSpecs:
    - spec:
        containers:
        - name: scale
          image: myorg/scale:0.3
          env:
          - name: TOKEN
            valueFrom:
              secretKeyRef: {name: creds, key: token}
    graph:
      name: scale
      type: TRANSFORMER
      children:
      - name: classifier
        implementation: SKLEARN_SERVER
        modelUri: gs://models/sklearn/iris
"""


def test_a_source_folder_in_a_graph_with_a_prepackaged_server_reuses_its_env(stack, store, tmp_path):
    source = tmp_path / "scale"
    (source / ".s2i").mkdir(parents=True)
    write(source, "Scale.py", TRANSFORMER)
    write(source / ".s2i", "environment", "MODEL_NAME=Scale\nSERVICE_TYPE=TRANSFORMER\nPERSISTENCE=0\nSCALE=10\n")
    write(source, "requirements.txt", "seldon-core==1.17.1\nsix>=1.16\n")
    manifest = write(tmp_path, "graph.yaml", GRAPH)
    millimetres = [[v * 10 for v in row] for row in IRIS]
    for attempt in range(2):
        started = time.monotonic()
        stack.up(manifest, "--source", f"myorg/scale={source}")
        body = predict(stack, "graph", millimetres)
        assert close(body["data"]["ndarray"], store[1]["sklearn"]["predict_proba"])
        assert body["meta"]["tags"]["token"] == "secret-token" and body["meta"]["tags"]["six"]
        [log] = (stack.home / "logs" / "seldon").glob("graph-*.scale.log")
        said = [line for line in log.read_text().splitlines() if line.startswith("seldon-graph: ")]
        if attempt == 1:
            assert said[-1].startswith("seldon-graph: reusing the source environment")
            assert time.monotonic() - started < 60
        stack.run("down", "seldon/graph", check=True)


BAD = """
apiVersion: v1
kind: Secret
metadata:
  name: partial
stringData:
  present: yes
---
apiVersion: v1
kind: Secret
metadata:
  name: unreachable
stringData:
  RCLONE_CONFIG_S3_TYPE: s3
  RCLONE_CONFIG_S3_PROVIDER: Other
  RCLONE_CONFIG_S3_ENV_AUTH: "false"
  RCLONE_CONFIG_S3_ENDPOINT: http://127.0.0.1:{closed}
  RCLONE_RETRIES: "1"
  RCLONE_LOW_LEVEL_RETRIES: "1"
---
{unmapped}
---
{missing_file}
---
{bad_requirements}
---
{missing_key}
---
{unreachable}
"""


def sdep(name: str, graph: str, containers: str = "") -> str:
    specs = f"\n    componentSpecs:\n    - spec:\n        containers:\n{containers}" if containers else ""
    return (
        "apiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\n"
        f"metadata: {{name: {name}, namespace: seldon}}\n"
        f"spec:\n  predictors:\n  - name: default{specs}\n    graph:\n{graph}"
    )


def test_bad_input_is_a_failed_unit_with_one_clear_line(stack, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    write(broken, "environment", "MODEL_NAME=Broken\nSERVICE_TYPE=MODEL\n")
    write(broken, "requirements.txt", "./no-such-package-folder\n")
    custom = "        - {name: model, image: myorg/%s:1.0%s}\n"
    secret_env = ", env: [{name: KEY, valueFrom: {secretKeyRef: {name: partial, key: absent}}}]"
    text = BAD.format(
        closed=free_port(),
        unmapped=sdep("unmapped", "      {name: model, type: MODEL}\n", custom % ("unmapped", "")),
        missing_file=sdep(
            "missing-file", "      {name: c, implementation: SKLEARN_SERVER, modelUri: gs://models/empty}\n"
        ),
        bad_requirements=sdep("bad-requirements", "      {name: model, type: MODEL}\n", custom % ("broken", "")),
        missing_key=sdep("missing-key", "      {name: model, type: MODEL}\n", custom % ("broken", secret_env)),
        unreachable=sdep(
            "unreachable",
            "      {name: c, implementation: SKLEARN_SERVER, modelUri: 's3://models/x', envSecretRefName: unreachable}\n",
        ),
    )
    result = stack.up(write(tmp_path, "bad.yaml", text), "--source", f"myorg/broken={broken}", check=False)
    assert result.returncode == 1
    expected = {
        "unmapped": "map it to its model folder with --source myorg/unmapped=DIR",
        "missing-file": "no model.joblib in the model folder",
        "bad-requirements": "ERROR:",
        "missing-key": "Secret 'partial' key 'absent' (env KEY)",
        "unreachable": "127.0.0.1",
    }
    lines = result.stdout.splitlines()
    for name, words in expected.items():
        failed = [line for line in lines if line.startswith(f"SeldonDeployment seldon/{name} is Failed: ")]
        assert len(failed) == 1 and words in failed[0], result.stdout
    pids = [int(m.group(1)) for line in lines if (m := re.search(r"^  seldon/.* pid (\d+)$", line))]
    # a failed `up --detach` stops what it started (issue 11): nothing of it is left running
    assert not set(expected) & {s["name"] for s in stack.status()["deployments"].values()}
    wait_until(lambda: not [pid for pid in pids if alive(pid)])
    unknown = stack.up(write(tmp_path, "nope.yaml", SKLEARN_IRIS.replace("SKLEARN_SERVER", "NOPE_SERVER")), check=False)
    assert unknown.returncode == 2 and "NOPE_SERVER" in unknown.stderr
