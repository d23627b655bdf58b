"""What the local CLI says and leaves behind when there is nothing to act on or `up --detach` fails (issue 11,
item 14): a failed `up` stops only what it started; `down` and `logs` with nothing running say so."""

from __future__ import annotations

import pytest
import requests

from tests.local.conftest import EXAMPLES, Local, alive
from tests.support.procs import free_port

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(tmp_path):
    local = Local(tmp_path / "home", free_port())
    try:
        yield local
    finally:
        local.run("down", timeout=120)


def test_down_with_nothing_running_says_so(stack):
    result = stack.run("down")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"No SeldonDeployments are running (state directory {stack.home}): nothing to stop.\n"


def test_logs_with_nothing_running_says_so(stack):
    for args in (("logs",), ("logs", "classifier")):
        result = stack.run(*args)
        assert result.returncode == 1
        assert "No SeldonDeployments are running" in result.stdout and "no logs to show" in result.stdout
        assert "Traceback" not in result.stderr


def test_a_failed_up_stops_only_what_it_started(stack):
    stack.up(EXAMPLES / "single-model.yaml")
    serving = stack.pids()
    result = stack.up(EXAMPLES / "failing.yaml", check=False)
    assert result.returncode == 1 and "stopped seldon/failing: it did not become Available" in result.stdout
    status = stack.status()
    assert list(status["deployments"]) == ["seldon.single-model"]
    assert status["supervisor"]["pid"] in serving and all(alive(p) for p in serving)
    response = requests.post(stack.rest("single-model"), json={"data": {"ndarray": [[1.0]]}}, timeout=30)
    assert response.json()["data"]["ndarray"] == [[2.0]]
