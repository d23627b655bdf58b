"""Real models for real SeldonDeployments: trained here in the side envs the local runtime itself uses, kept in a
model store folder that `gs://` reaches through an rclone alias remote, and a state home whose `up` sees both.

Shared by the tests that run hand-written manifests (test_real_sdeps) and Seldon's published ones
(test_published_sdeps)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy
import requests

from seldon_graph.operator.local import side_envs
from tests.local.conftest import REPO, Local
from tests.support.procs import free_port

ENVS = REPO / ".cache" / "local-envs"
IRIS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
WINE = [
    [13.2, 1.78, 2.14, 11.2, 100.0, 2.65, 2.76, 0.26, 1.28, 4.38, 1.05, 3.4, 1050.0],
    [12.37, 0.94, 1.36, 10.6, 88.0, 1.98, 0.57, 0.28, 0.42, 1.95, 1.05, 1.82, 520.0],
]

IRIS_DATA = """
import json, sys
from sklearn.datasets import load_iris
X, y = load_iris(return_X_y=True)
print(json.dumps([X.tolist(), y.tolist()]))
"""

TRAIN = """
import json, sys
from collections.abc import Iterator
from pathlib import Path
out, rows, kind = Path(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
X, y = json.loads(Path(sys.argv[4]).read_text())
out.parent.mkdir(parents=True, exist_ok=True)
if kind == "sklearn":
    import joblib
    from sklearn.linear_model import LogisticRegression
    model = LogisticRegression(max_iter=1000).fit(X, y)
    out.mkdir()
    joblib.dump(model, out / "model.joblib")
    (out / "metadata.yaml").write_text("name: iris\\nversions: [iris/v1]\\n")
    print(json.dumps({"predict_proba": model.predict_proba(rows).tolist(), "predict": model.predict(rows).tolist()}))
elif kind == "xgboost":
    import numpy, xgboost
    X, y = numpy.array(X), numpy.array(y)
    booster = xgboost.train({"objective": "multi:softprob", "num_class": 3}, xgboost.DMatrix(X, label=y), 5)
    out.mkdir()
    booster.save_model(str(out / "model.bst"))
    print(json.dumps({"predict": booster.predict(xgboost.DMatrix(rows)).tolist()}))
elif kind.startswith("elasticnet:"):
    import mlflow.sklearn
    from sklearn.datasets import load_wine
    from sklearn.linear_model import ElasticNet
    X, y = load_wine(return_X_y=True)
    model = ElasticNet(alpha=float(kind.partition(":")[2]), l1_ratio=0.5, random_state=0).fit(X, y)
    mlflow.sklearn.save_model(model, str(out), serialization_format="cloudpickle")
    print(json.dumps({"predict": model.predict(rows).tolist()}))
else:
    import mlflow.sklearn
    from sklearn.tree import DecisionTreeClassifier
    model = DecisionTreeClassifier(random_state=0).fit(X, y)
    mlflow.sklearn.save_model(model, str(out), serialization_format="cloudpickle")
    print(json.dumps({"predict": model.predict(rows).tolist()}))
"""


def side_python(extra: str, isolated: bool = False) -> Path:
    """The python of the side env the local runtime itself uses for `extra` (same cache, same key; MLServer's are
    `isolated`)."""
    requirements = side_envs.extra_requirements(extra)
    return side_envs.ensure(ENVS, extra, requirements, say=lambda _: None, isolated=isolated) / "python"


def iris_data(folder: Path) -> Path:
    """scikit-learn's bundled iris as JSON `[X, y]`, for the envs that have no scikit-learn (xgboost's)."""
    path = folder / "iris.json"
    if not path.exists():
        data = subprocess.run([str(side_python("sklearn-server")), "-c", IRIS_DATA], capture_output=True, text=True)
        assert data.returncode == 0, data.stderr
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(data.stdout)
    return path


def train(kind: str, extra: str, folder: Path, rows: list = IRIS, isolated: bool = False) -> dict:
    """Train a `kind` model (sklearn, xgboost, mlflow, elasticnet:ALPHA) into `folder` with the env of the server
    that loads it (its library versions read what they saved); its answers for `rows`."""
    result = subprocess.run(
        [
            str(side_python(extra, isolated)),
            "-c",
            TRAIN,
            str(folder),
            json.dumps(rows),
            kind,
            str(iris_data(folder.parent)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


class Stack(Local):
    """A state home whose `up` sees the shared env cache and a `gs` rclone remote that is an alias of `store`."""

    def __init__(self, home: Path, port: int, store: Path):
        super().__init__(home, port)
        self.store = store

    def env(self) -> dict:
        return {
            **super().env(),
            "SELDON_GRAPH_ENVS": str(ENVS),
            "SELDON_GRAPH_READY_TIMEOUT": "90",
            "RCLONE_CONFIG_GS_TYPE": "alias",
            "RCLONE_CONFIG_GS_REMOTE": str(self.store),
        }


@contextlib.contextmanager
def serving_stack(store: Path, home: Path) -> Iterator[Stack]:
    """A Stack in `home` on a free port, reading models from `store`; everything it started is brought down after."""
    local = Stack(home, free_port(), store)
    try:
        yield local
    finally:
        local.run("down", timeout=120)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def close(got: list, expected: list) -> bool:
    return numpy.shape(got) == numpy.shape(expected) and numpy.allclose(got, expected)


def predict(stack: Stack, name: str, rows: list, namespace: str = "seldon") -> dict:
    response = requests.post(stack.rest(name, namespace), json={"data": {"ndarray": rows}}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def predict_once_loaded(stack: Stack, name: str, rows: list, namespace: str = "seldon", wait: float = 240) -> dict:
    """`predict`, after waiting out the 503s of a server whose port is open (ready, as its probe says) while its
    model still loads (MLflow's: two loading at once on a fresh 2-core machine took over a minute)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        response = requests.post(stack.rest(name, namespace), json={"data": {"ndarray": rows}}, timeout=30)
        if response.status_code != 503:
            break
        time.sleep(0.5)
    return predict(stack, name, rows, namespace)
