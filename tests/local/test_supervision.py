"""Supervision of local units with real processes: units that exit come back like Kubernetes restarts them
(CrashLoopBackOff), `status` shows the restarts, and `up` after a killed supervisor waits for real readiness."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.local.conftest import EXAMPLES, REPO, Local, alive
from tests.local.test_lifecycle import wait_until
from tests.support.procs import VENV_BIN, free_port

pytestmark = pytest.mark.e2e

BACKOFF = 0.5  # the base restart delay in these tests (the kubelet's 10 s otherwise)


class Supervised(Local):
    def env(self) -> dict:
        return {**super().env(), "SELDON_GRAPH_RESTART_BACKOFF": str(BACKOFF)}


@pytest.fixture
def stack(tmp_path):
    result = Supervised(tmp_path / "home", free_port())
    try:
        yield result
    finally:
        result.run("down", timeout=120)


def units(stack: Local, key: str) -> dict[str, dict]:
    return {u["name"]: u for u in stack.status()["deployments"][key]["units"]}


def restart_count(stack: Local, key: str, unit: str) -> int:
    """The unit's restarts, 0 while the deployment or the unit is not (yet) in the status."""
    deployment = stack.status()["deployments"].get(key) or {}
    return next((u["restarts"] for u in deployment.get("units", []) if u["name"] == unit), 0)


def predict(stack: Local, name: str) -> requests.Response:
    return requests.post(stack.rest(name), json={"data": {"ndarray": [[1.0]]}}, timeout=10)


def test_a_killed_unit_is_restarted_on_its_ports_and_serves_again(stack):
    stack.up(EXAMPLES / "single-model.yaml")
    name = "single-model-default-0-classifier/classifier"
    before = units(stack, "seldon.single-model")[name]
    os.killpg(before["pid"], signal.SIGKILL)
    wait_until(lambda: units(stack, "seldon.single-model")[name]["pid"] != before["pid"])
    wait_until(lambda: stack.status()["deployments"]["seldon.single-model"]["state"] == "Available")
    after = units(stack, "seldon.single-model")[name]
    assert alive(after["pid"]) and after["ports"] == before["ports"]
    assert after["restarts"] == 1 and after["last_exit"] == "process killed by signal 9 (SIGKILL)"
    assert predict(stack, "single-model").json()["data"]["ndarray"] == [[2.0]]
    printed = stack.run("status", check=True).stdout
    assert "restarts 1 (last: process killed by signal 9 (SIGKILL))" in printed
    assert (
        "restarting seldon/single-model-default-0-classifier/classifier (restart 1)"
        in (stack.home / "supervisor.log").read_text()
    )


def test_a_crashing_unit_is_failed_at_once_and_restarted_with_a_growing_back_off(stack):
    """`up --detach` reports the crash at once (and then stops what it started, issue 11); a supervisor that keeps
    the deployment (foreground `up`) restarts the crashing unit with a growing back-off."""
    started = time.monotonic()
    result = stack.up(EXAMPLES / "failing.yaml", check=False)
    assert result.returncode == 1 and time.monotonic() - started < 60
    assert "failing-default-0-classifier/classifier failed: process exited with code" in result.stdout
    assert "Crasher refuses to start" in result.stdout
    name = "failing-default-0-classifier/classifier"
    output = stack.home.parent / "foreground-up.log"
    foreground = subprocess.Popen(
        [str(VENV_BIN / "seldon-graph"), "up", "-f", str(EXAMPLES / "failing.yaml"), "--port", str(stack.port)],
        cwd=REPO,
        env=stack.env(),
        stdout=output.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: restart_count(stack, "seldon.failing", name) >= 3, timeout=90)
        unit = units(stack, "seldon.failing")[name]
        assert unit["last_exit"].startswith("process exited with code")
        assert stack.status()["deployments"]["seldon.failing"]["state"] == "Failed"
        log = (stack.home / "supervisor.log").read_text() + output.read_text()  # the foreground supervisor logs here
        restarts = [line for line in log.splitlines() if f"restarting seldon/{name}" in line]
        assert len(restarts) >= 3
        crashes = Path(unit["log"]).read_text().count("Crasher refuses to start")
        assert crashes >= 3  # each restart ran the container again
    finally:
        foreground.terminate()
        foreground.wait(60)


def test_up_after_a_killed_supervisor_waits_for_real_readiness(stack):
    """The supervisor and everything it ran are SIGKILLed (as by the OOM killer or a lost session): the status
    files still say Available, but nothing serves until a new supervisor has started it all again."""
    stack.up(EXAMPLES / "single-model.yaml")
    pids = stack.pids()
    supervisor = stack.status()["supervisor"]["pid"]
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not any(alive(p) for p in pids))
    result = stack.up(EXAMPLES / "single-model.yaml")
    assert f"the supervisor of {stack.home} (pid {supervisor}) was killed" in result.stdout
    assert predict(stack, "single-model").json()["data"]["ndarray"] == [[2.0]]  # serving the moment up returns
    written = json.loads((stack.home / "status" / "seldon.single-model.json").read_text())
    assert written["supervisor_pid"] != supervisor and alive(written["supervisor_pid"])
    assert written["state"] == "Available" and all(alive(u["pid"]) for u in written["units"])


def test_up_after_a_killed_supervisor_replaces_the_units_it_left_running(stack):
    stack.up(EXAMPLES / "single-model.yaml")
    old_units = [u["pid"] for u in stack.status()["deployments"]["seldon.single-model"]["units"]]
    supervisor = stack.status()["supervisor"]["pid"]
    os.kill(supervisor, signal.SIGKILL)
    wait_until(lambda: not alive(supervisor))
    stack.up(EXAMPLES / "single-model.yaml")  # the old Envoy still holds the port: it is this home's own
    written = json.loads((stack.home / "status" / "seldon.single-model.json").read_text())
    assert written["supervisor_pid"] != supervisor and written["state"] == "Available"
    assert all(alive(u["pid"]) for u in written["units"]) and not any(alive(p) for p in old_units)
    assert predict(stack, "single-model").json()["data"]["ndarray"] == [[2.0]]
