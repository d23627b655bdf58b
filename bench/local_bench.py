"""Time from `seldon-graph up` to Available for real SeldonDeployments, first run (installs) and second (cached),
against installing the same packages with pip and starting the server by hand, in the same invocation.

    .venv/bin/python bench/local_bench.py            # needs PyPI; takes minutes (it installs scikit-learn twice)

Cases: an SKLEARN_SERVER iris model fetched from a gs:// store (an rclone alias over a temporary folder), in
protocol seldon (this project's server) and protocol v2 (the real MLServer, first and cached run only), and a
custom model image mapped with --source to a folder whose requirements.txt names one small package. Every run
uses a fresh state home; the first run of each case a fresh env cache, so it pays for the installs. pip's own
download cache is warm for every timed run (the model is trained first, in an env of its own), for both sides alike.
"""

from __future__ import annotations

import argparse
import json
import os
import site
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from seldon_graph.operator.local import side_envs

BIN = Path(sys.executable).parent
SKLEARN = """
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: iris, namespace: bench}
spec:
  predictors:
  - name: default
    graph: {name: classifier, implementation: SKLEARN_SERVER, modelUri: gs://models/iris}
"""
SKLEARN_V2 = """
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: iris-v2, namespace: bench}
spec:
  protocol: v2
  predictors:
  - name: default
    graph: {name: classifier, implementation: SKLEARN_SERVER, modelUri: gs://models/iris}
"""
SOURCE = """
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: custom, namespace: bench}
spec:
  predictors:
  - name: default
    componentSpecs:
    - spec:
        containers: [{name: model, image: bench/custom:1.0}]
    graph: {name: model, type: MODEL}
"""
MODEL = "class Echo:\n    def predict(self, X, names, meta=None):\n        import six\n        return X\n"
TRAIN = (
    "import joblib, sys\nfrom sklearn.datasets import load_iris\nfrom sklearn.linear_model import LogisticRegression\n"
    "X, y = load_iris(return_X_y=True)\njoblib.dump(LogisticRegression(max_iter=500).fit(X, y), sys.argv[1])\n"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed_up(home: Path, envs: Path, store: Path, manifest: Path, *extra: str) -> float:
    env = {
        **os.environ,
        "SELDON_GRAPH_HOME": str(home),
        "SELDON_GRAPH_ENVS": str(envs),
        "SELDON_GRAPH_READY_TIMEOUT": "600",
        "RCLONE_CONFIG_GS_TYPE": "alias",
        "RCLONE_CONFIG_GS_REMOTE": str(store),
    }
    port = str(free_port())
    started = time.monotonic()
    result = subprocess.run(
        [str(BIN / "seldon-graph"), "up", "-f", str(manifest), "--detach", "--port", port, "--timeout", "1200", *extra],
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.monotonic() - started
    subprocess.run([str(BIN / "seldon-graph"), "down"], env=env, capture_output=True)
    if result.returncode != 0:
        raise SystemExit(f"up failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


def by_hand(work: Path, requirements: list[str], interface: str, parameters: list, cwd: Path) -> float:
    """python -m venv + pip install, then the wrapper started from that venv until /health/ping answers."""
    started = time.monotonic()
    venv = work / f"by-hand-{time.monotonic_ns()}"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *requirements], check=True)
    purelib = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "project.pth").write_text(
        "".join(f"import site; site.addsitedir({p!r})\n" for p in site.getsitepackages())
    )
    port = free_port()
    env = {**os.environ, "PREDICTIVE_UNIT_PARAMETERS": json.dumps(parameters)}
    argv = [str(venv / "bin" / "python"), "-m", "seldon_graph.wrappers.cli", interface, "--http-port", str(port)]
    argv += ["--grpc-port", str(free_port()), "--metrics-port", str(free_port())]
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/health/ping", timeout=1).status_code == 200:
                    return time.monotonic() - started
            except requests.RequestException:
                time.sleep(0.05)
            if proc.poll() is not None:
                raise SystemExit(f"the hand-started server exited with {proc.returncode}")
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n")[0]).parse_args()
    with tempfile.TemporaryDirectory(prefix="seldon-graph-local-bench-") as tmp:
        work = Path(tmp)
        store, source = work / "store", work / "custom"
        (store / "models" / "iris").mkdir(parents=True)
        source.mkdir()
        (source / "Echo.py").write_text(MODEL)
        (source / "environment").write_text("MODEL_NAME=Echo\nSERVICE_TYPE=MODEL\n")
        (source / "requirements.txt").write_text("six>=1.16\n")
        (work / "sklearn.yaml").write_text(SKLEARN)
        (work / "custom.yaml").write_text(SOURCE)
        (work / "sklearn-v2.yaml").write_text(SKLEARN_V2)
        requirements = side_envs.extra_requirements("sklearn-server")
        trainer = side_envs.ensure(work / "train-env", "train", requirements, say=lambda _: None) / "python"
        subprocess.run([str(trainer), "-c", TRAIN, str(store / "models" / "iris" / "model.joblib")], check=True)
        envs = work / "envs"
        rows = []
        first = timed_up(work / "home-1", envs, store, work / "sklearn.yaml")
        rows.append(("SKLEARN_SERVER, first up (installs)", first))
        rows.append(
            (
                "SKLEARN_SERVER, second up (cached)",
                timed_up(work / "home-2", envs, store, work / "sklearn.yaml"),
            )
        )
        server = "seldon_graph.wrappers.servers.sklearn_server.SKLearnServer"
        parameters = [{"name": "model_uri", "value": str(store / "models" / "iris"), "type": "STRING"}]
        rows.append(
            ("SKLEARN_SERVER, pip install + start by hand", by_hand(work, requirements, server, parameters, work))
        )
        rows.append(
            (
                "SKLEARN_SERVER v2 (MLServer), first up (installs)",
                timed_up(work / "home-v2-1", envs, store, work / "sklearn-v2.yaml"),
            )
        )
        rows.append(
            (
                "SKLEARN_SERVER v2 (MLServer), second up (cached)",
                timed_up(work / "home-v2-2", envs, store, work / "sklearn-v2.yaml"),
            )
        )
        mapping = ("--source", f"bench/custom={source}")
        rows.append(
            (
                "--source folder, first up (installs)",
                timed_up(work / "home-3", envs, store, work / "custom.yaml", *mapping),
            )
        )
        rows.append(
            (
                "--source folder, second up (cached)",
                timed_up(work / "home-4", envs, store, work / "custom.yaml", *mapping),
            )
        )
        rows.append(("--source folder, pip install + start by hand", by_hand(work, ["six>=1.16"], "Echo", [], source)))
    print(f"{'case':<52} seconds")
    for name, seconds in rows:
        print(f"{name:<52} {seconds:7.1f}")


if __name__ == "__main__":
    main()
