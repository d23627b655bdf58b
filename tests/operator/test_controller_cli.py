"""`seldon-operator` as a command: start-up mistakes end with a one-line message and exit code 2, no traceback.

The running operator (kopf against the Kubernetes API double) is covered in test_controller_kopf.py.
"""

from __future__ import annotations

import socket
import subprocess

import pytest

from tests.support.procs import VENV_BIN

pytestmark = pytest.mark.e2e

OPERATOR = str(VENV_BIN / "seldon-operator")


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([OPERATOR, *args], capture_output=True, text=True, timeout=60, env=env)


def test_missing_kubeconfig_is_reported(tmp_path):
    result = run("--kubeconfig", str(tmp_path / "absent"))
    assert result.returncode == 2
    assert "cannot configure the Kubernetes client" in result.stderr
    assert "Traceback" not in result.stderr


def test_half_a_tls_configuration_is_reported(tmp_path, api):
    kubeconfig = api.kubeconfig(tmp_path / "kubeconfig")
    result = run("--kubeconfig", str(kubeconfig), "--tls-cert-file", str(tmp_path / "tls.crt"))
    assert result.returncode == 2
    assert "both --tls-cert-file and --tls-key-file" in result.stderr
    assert "Traceback" not in result.stderr


def test_namespace_and_all_namespaces_exclude_each_other():
    result = run("--namespace", "a", "--all-namespaces")
    assert result.returncode == 2 and "not allowed with argument" in result.stderr


def test_a_taken_webhook_port_stops_the_operator(tmp_path, api):
    kubeconfig = api.kubeconfig(tmp_path / "kubeconfig")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("--kubeconfig", str(kubeconfig), "--webhook-host", "127.0.0.1", "--webhook-port", str(port))
    assert result.returncode == 1
    assert f"cannot serve the admission webhook on port {port}" in result.stderr
