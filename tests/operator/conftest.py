"""Fixtures for the controller tests: the Kubernetes API double, a client for it, and cluster-side helpers.

No Kubernetes API server can run on these machines; `ApiDouble` (tests/operator/apidouble.py) is a real HTTP
server on 127.0.0.1 that the REAL kubernetes client and the REAL kopf talk to through a kubeconfig.
"""

from __future__ import annotations

import copy
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import kubernetes
import pytest

from seldon_graph.operator.kube.api import KubeApi
from tests.operator.apidouble import ApiDouble

SIMPLE_MODEL_IMAGE = "seldonio/mock_classifier:1.18.2"


@pytest.fixture
def api():
    with ApiDouble() as double:
        yield double


def client_for(double: ApiDouble, directory: Path) -> KubeApi:
    """A KubeApi on the real kubernetes client, with an admin kubeconfig (in `directory`) for the double."""
    configuration = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(
        config_file=str(double.kubeconfig(directory / "admin-kubeconfig")), client_configuration=configuration
    )
    return KubeApi(kubernetes.client.ApiClient(configuration))


@pytest.fixture
def kube(api, tmp_path) -> KubeApi:
    return client_for(api, tmp_path)


def predictor(
    name: str, image: str = SIMPLE_MODEL_IMAGE, replicas: int | None = None, traffic: int | None = None
) -> dict:
    """A one-model predictor named `name` (container `classifier`)."""
    spec: dict = {
        "name": name,
        "graph": {"name": "classifier", "type": "MODEL"},
        "componentSpecs": [{"spec": {"containers": [{"name": "classifier", "image": image}]}}],
    }
    if replicas is not None:
        spec["replicas"] = replicas
    if traffic is not None:
        spec["traffic"] = traffic
    return spec


def seldon_deployment(name: str, namespace: str, predictors: list[dict], labels: dict | None = None) -> dict:
    meta: dict = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    return {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "metadata": meta,
        "spec": {"predictors": copy.deepcopy(predictors)},
    }


def roll_out(double: ApiDouble, namespace: str) -> list[str]:
    """Play the Deployment controller: every Deployment in `namespace` reports its wanted replicas available."""
    names = []
    for dep in double.objects("deployments", namespace):
        replicas = dep["spec"].get("replicas", 1)
        status = {
            "observedGeneration": dep["metadata"]["generation"],
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "conditions": [
                {
                    "type": "Available",
                    "status": "True",
                    "reason": "MinimumReplicasAvailable",
                    "message": "Deployment has minimum availability.",
                    "lastTransitionTime": "2026-01-01T00:00:05Z",
                },
                {
                    "type": "Progressing",
                    "status": "True",
                    "reason": "NewReplicaSetAvailable",
                    "message": "ReplicaSet has successfully progressed.",
                    "lastTransitionTime": "2026-01-01T00:00:05Z",
                },
            ],
        }
        if dep.get("status") != status:
            double.set_status("deployments", namespace, dep["metadata"]["name"], status)
        names.append(dep["metadata"]["name"])
    return names


def wait_for(check: Callable[[], object], timeout: float = 20.0, what: str = "condition"):
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def make_certificate(cert: Path, key: Path) -> None:
    """A throw-away self-signed certificate for 127.0.0.1 (openssl command line; `cryptography` is not installed)."""
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
