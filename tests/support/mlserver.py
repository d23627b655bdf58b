"""The real MLServer (1.7.1, sklearn runtime) serving the tests' models, in its own virtualenv.

Models: `classifier` (a scikit-learn LogisticRegression over 4 features, 3 classes) and `scale` (a custom V2
runtime that doubles its input), both in one MLServer process with REST and gRPC ports.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.procs import free_port, start, stop, wait_http, wait_port
from tests.support.venvs import mlserver_bin

MODELS = Path(__file__).parent / "mlserver_models"
STARTUP_TIMEOUT = 180.0


@dataclass
class MLServer:
    http_port: int
    grpc_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def endpoint(self, transport: str = "REST") -> dict:
        return {"service_host": "127.0.0.1", "type": transport, "httpPort": self.http_port, "grpcPort": self.grpc_port}


def model_repository(folder: Path, python: Path) -> Path:
    """A folder with the two models' settings, the trained classifier and the custom runtime."""
    classifier, scale = folder / "classifier", folder / "scale"
    classifier.mkdir(parents=True)
    scale.mkdir()
    subprocess.run([str(python), str(MODELS / "train.py"), str(classifier / "model.joblib")], check=True)
    settings = {"name": "classifier", "implementation": "mlserver_sklearn.SKLearnModel"}
    settings["parameters"] = {"uri": "./model.joblib", "version": "v1"}
    (classifier / "model-settings.json").write_text(json.dumps(settings))
    shutil.copy(MODELS / "scale_runtime.py", scale / "scale_runtime.py")
    (scale / "model-settings.json").write_text(json.dumps({"name": "scale", "implementation": "scale_runtime.Scale"}))
    return folder


@contextlib.contextmanager
def mlserver_running(workdir: Path):
    """One MLServer process serving `classifier` and `scale` until the block ends."""
    bin_dir = mlserver_bin()
    repository = model_repository(workdir / "models", bin_dir / "python")
    server = MLServer(free_port(), free_port())
    settings = {
        "http_port": server.http_port,
        "grpc_port": server.grpc_port,
        "metrics_port": free_port(),
        "parallel_workers": 0,
        "host": "127.0.0.1",
    }
    (repository / "settings.json").write_text(json.dumps(settings))
    proc = start([str(bin_dir / "mlserver"), "start", str(repository)], workdir / "mlserver.log")
    try:
        for model in ("classifier", "scale"):
            wait_http(f"{server.url}/v2/models/{model}/ready", timeout=STARTUP_TIMEOUT, proc=proc)
        wait_port(server.grpc_port, timeout=STARTUP_TIMEOUT, proc=proc)
        yield server
    finally:
        stop(proc)
