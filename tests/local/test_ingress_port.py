"""The ingress port: validated before anything starts, exclusive, and a taken one refused at once naming who holds
it — through the real `seldon-graph` CLI, a real Envoy and real sockets."""

from __future__ import annotations

import os
import socket
import time

import pytest
import requests

from tests.local.conftest import EXAMPLES, Local
from tests.support.procs import free_port

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("port", ["70000", "0", "-1", "http"])
def test_an_invalid_port_is_refused_before_anything_starts(tmp_path, port):
    stack = Local(tmp_path / "home", 0)
    started = time.monotonic()
    result = stack.run("up", "-f", str(EXAMPLES / "single-model.yaml"), "--detach", "--port", port)
    assert result.returncode == 2
    assert "--port" in result.stderr and ("1-65535" in result.stderr or "not a port number" in result.stderr)
    assert time.monotonic() - started < 10
    assert not (tmp_path / "home" / "desired").exists() and not (tmp_path / "home" / "supervisor.json").exists()


def test_a_port_in_use_fails_at_once_naming_its_holder(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        stack = Local(tmp_path / "home", taken.getsockname()[1])
        started = time.monotonic()
        result = stack.up(EXAMPLES / "single-model.yaml", check=False)
        elapsed = time.monotonic() - started
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"port {stack.port} on 127.0.0.1 is already in use by pid {os.getpid()} (" in result.stderr
    assert "pytest" in result.stderr  # the holder's command line
    assert elapsed < 10
    assert not (tmp_path / "home" / "desired").exists()


def test_a_second_state_home_cannot_share_the_ingress_port(tmp_path):
    first = Local(tmp_path / "first", free_port())
    second = Local(tmp_path / "second", first.port)
    try:
        first.up(EXAMPLES / "single-model.yaml")
        envoy = first.status()["supervisor"]["envoy_pid"]
        result = second.up(EXAMPLES / "combiner.yaml", check=False)
        assert result.returncode == 2
        assert f"already in use by pid {envoy} (" in result.stderr and str(tmp_path / "first") in result.stderr
        assert second.status()["deployments"] == {}
        # the first home keeps every connection: nothing was split off to a second listener
        for _ in range(20):
            response = requests.post(first.rest("single-model"), json={"data": {"ndarray": [[1.0]]}}, timeout=10)
            assert response.status_code == 200
    finally:
        second.run("down")
        first.run("down")


def test_envoy_listens_without_reuse_port(tmp_path):
    stack = Local(tmp_path / "home", free_port())
    try:
        stack.up(EXAMPLES / "single-model.yaml")
        with socket.socket() as intruder:
            intruder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            with pytest.raises(OSError):
                intruder.bind(("127.0.0.1", stack.port))
    finally:
        stack.run("down")
