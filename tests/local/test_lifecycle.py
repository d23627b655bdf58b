"""The lifecycle of local deployments: failures with their logs, bad input, updates that restart only what
changed, foreground Ctrl-C, SIGTERM of the supervisor, `down` leaving no process behind, the Istio ingress."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.local.conftest import EXAMPLES, REPO, Local, alive, grpc_predict, ndarray, variant
from tests.support.procs import VENV_BIN, free_port

pytestmark = pytest.mark.e2e

DOUBLER = "[seldon-core-microservice, examples.models.Doubler, --service-type, MODEL]"
SLOW = (
    "[seldon-core-microservice, examples.models.Slow, --service-type, MODEL, --workers, '2']\n"
    "          env: [{name: PREDICTIVE_UNIT_PARAMETERS,"
    ' value: \'[{"name": "delay", "type": "FLOAT", "value": "1.0"}]\'}]'
)


@pytest.fixture
def fresh(tmp_path):
    stack = Local(tmp_path / "home", free_port())
    try:
        yield stack
    finally:
        stack.run("down", timeout=120)


def wait_until(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


class Interactive:
    """A `seldon-graph` command left running (`up` in the foreground, `logs -f`); `interrupt()` is Ctrl-C and
    returns (exit code, everything printed)."""

    def __init__(self, stack: Local, *args: str):
        self.stack = stack
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "seldon-graph"), *args],
            cwd=REPO,
            env=stack.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def interrupt(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)
        output, _ = self.proc.communicate(timeout=60)
        return self.proc.returncode, output

    def __enter__(self) -> Interactive:
        return self

    def __exit__(self, *_: object) -> None:
        """After a failure: stop it as a user would, and clean up whatever a killed supervisor left."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.stack.run("down")


def available(stack: Local, key: str) -> bool:
    return stack.status()["deployments"].get(key, {}).get("state") == "Available"


def test_a_crashing_unit_shows_as_failed_with_its_log(fresh):
    """`up --detach` reports the failure with the unit's log, then stops what it started (issue 11, item 14)."""
    result = fresh.up(EXAMPLES / "failing.yaml", check=False)
    assert result.returncode == 1
    assert "SeldonDeployment seldon/failing is Failed" in result.stdout
    assert "failing-default-0-classifier/classifier failed: process exited with code" in result.stdout
    assert "Crasher refuses to start" in result.stdout
    assert "stopped seldon/failing: it did not become Available" in result.stdout
    assert fresh.status() == {"supervisor": None, "deployments": {}}
    log = next(line for line in result.stdout.splitlines() if "last lines of" in line)
    kept = log.split("last lines of ", 1)[1].rstrip(":")
    assert "Crasher refuses to start" in Path(kept.strip()).read_text()  # the unit's log file stays for reading


def test_logs_follow_prints_new_lines_until_ctrl_c(fresh):
    fresh.up(EXAMPLES / "single-model.yaml")
    with Interactive(fresh, "logs", "-f", "-n", "1", "single-model") as follow:
        time.sleep(1.0)
        log = next(
            u["log"]
            for u in fresh.status()["deployments"]["seldon.single-model"]["units"]
            if u["name"].endswith("/classifier")
        )
        with open(log, "a") as out:
            out.write("a line written while following\n")
        time.sleep(1.0)
        code, output = follow.interrupt()
    assert "==> single-model-default-0-classifier/seldon-container-engine" in output
    assert "single-model-default-0-classifier/classifier: a line written while following" in output
    assert code == 0


def test_a_unit_that_never_gets_ready_turns_the_deployment_failed(tmp_path):
    stack = Local(tmp_path / "home", free_port())
    manifest = variant(tmp_path, "single-model.yaml", DOUBLER, "[sleep, '60']")
    try:
        result = subprocess.run(
            [str(VENV_BIN / "seldon-graph"), "up", "-f", str(manifest), "--detach", "--port", str(stack.port)],
            cwd=REPO,
            env={**stack.env(), "SELDON_GRAPH_READY_TIMEOUT": "2"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1
        assert "single-model-default-0-classifier/classifier failed: not ready after 2s (tcp probe)" in result.stdout
        assert stack.status() == {"supervisor": None, "deployments": {}}  # what it started is stopped
    finally:
        stack.run("down")


def test_bad_files_are_refused_with_a_clear_message(fresh, tmp_path):
    missing = fresh.run("up", "-f", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: [unclosed")
    result = fresh.run("up", "-f", str(broken))
    assert result.returncode == 2 and "is not valid YAML" in result.stderr
    invalid = variant(tmp_path, "canary.yaml", "traffic: 25", "traffic: 20")
    result = fresh.run("up", "-f", str(invalid))
    assert result.returncode == 2
    assert "SeldonDeployment 'canary' is invalid" in result.stderr and "Traffic must sum to 100" in result.stderr
    assert "Traceback" not in result.stderr


def test_image_only_containers_are_reported(fresh, tmp_path):
    manifest = variant(tmp_path, "single-model.yaml", f"          command: {DOUBLER}\n", "")
    result = fresh.up(manifest, check=False)
    assert result.returncode == 1
    assert "has only an image (seldonio/doubler:0.1)" in result.stdout
    assert "--source seldonio/doubler=DIR" in result.stdout


def test_a_command_that_is_not_installed_is_reported(fresh, tmp_path):
    manifest = variant(tmp_path, "single-model.yaml", DOUBLER, "[no-such-server, --serve]")
    result = fresh.up(manifest, check=False)
    assert result.returncode == 1
    assert "cannot run 'no-such-server': No such file or directory" in result.stdout
    assert fresh.status()["deployments"] == {}


def test_up_of_a_changed_file_restarts_only_what_changed(fresh, tmp_path):
    fresh.up(EXAMPLES / "canary.yaml")
    before = {u["name"]: u["pid"] for u in fresh.status()["deployments"]["seldon.canary"]["units"]}
    fresh.up(EXAMPLES / "canary.yaml")
    assert {u["name"]: u["pid"] for u in fresh.status()["deployments"]["seldon.canary"]["units"]} == before
    reweighted = variant(tmp_path, "canary.yaml", "traffic: 75", "traffic: 0")
    reweighted.write_text(reweighted.read_text().replace("traffic: 25", "traffic: 100"))
    fresh.up(reweighted)  # routing only: no process restarts, all traffic to the canary
    assert {u["name"]: u["pid"] for u in fresh.status()["deployments"]["seldon.canary"]["units"]} == before
    answers = {
        requests.post(fresh.rest("canary"), json={"data": {"ndarray": [[1.0]]}}).json()["data"]["ndarray"][0][0]
        for _ in range(40)
    }
    assert answers == {3.0}
    changed = variant(tmp_path, "canary.yaml", "examples.models.Tripler", "examples.models.Doubler")
    fresh.up(changed)
    after = {u["name"]: u["pid"] for u in fresh.status()["deployments"]["seldon.canary"]["units"]}
    main = [n for n in before if n.startswith("canary-main-")]
    canary_model = "canary-canary-0-classifier/classifier"
    assert all(after[n] == before[n] for n in main)
    assert after[canary_model] != before[canary_model] and not alive(before[canary_model])
    answers = {
        requests.post(fresh.rest("canary"), json={"data": {"ndarray": [[1.0]]}}).json()["data"]["ndarray"][0][0]
        for _ in range(40)
    }
    assert answers == {2.0}


def test_a_changed_model_rolls_out_without_failing_a_request(fresh, tmp_path):
    fresh.up(EXAMPLES / "single-model.yaml")
    old = {u["name"]: u["pid"] for u in fresh.status()["deployments"]["seldon.single-model"]["units"]}
    answers, failures, stop = [], [], threading.Event()

    def client():
        with requests.Session() as session:
            while not stop.is_set():
                response = session.post(fresh.rest("single-model"), json={"data": {"ndarray": [[1.0]]}}, timeout=10)
                if response.status_code == 200:
                    answers.append(response.json()["data"]["ndarray"][0][0])
                else:
                    failures.append((response.status_code, response.text))

    thread = threading.Thread(target=client)
    thread.start()
    try:
        time.sleep(0.5)
        fresh.up(variant(tmp_path, "single-model.yaml", "examples.models.Doubler", "examples.models.Tripler"))
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join()
    assert failures == []
    assert answers[0] == 2.0 and answers[-1] == 3.0
    assert sorted(set(answers)) == [2.0, 3.0]
    new = {u["name"]: u["pid"] for u in fresh.status()["deployments"]["seldon.single-model"]["units"]}
    assert set(new) == set(old) and not set(new.values()) & set(old.values())
    assert [p for p in old.values() if alive(p)] == []


def test_a_failed_rollout_leaves_the_old_pod_serving(fresh, tmp_path):
    fresh.up(EXAMPLES / "single-model.yaml")
    old = [u["pid"] for u in fresh.status()["deployments"]["seldon.single-model"]["units"]]
    result = fresh.up(
        variant(tmp_path, "single-model.yaml", "examples.models.Doubler", "examples.models.Crasher"), check=False
    )
    assert result.returncode == 1 and "Crasher refuses to start" in result.stdout
    status = fresh.status()["deployments"]["seldon.single-model"]
    assert status["state"] == "Failed"
    assert sorted(u["pid"] for u in status["units"] if u["retiring"]) == sorted(old)
    response = requests.post(fresh.rest("single-model"), json={"data": {"ndarray": [[1.0]]}})
    assert response.json()["data"]["ndarray"] == [[2.0]]
    fresh.up(EXAMPLES / "single-model.yaml")  # back to the original: the pod still serving is kept as it is
    units = fresh.status()["deployments"]["seldon.single-model"]["units"]
    assert sorted(u["pid"] for u in units) == sorted(old) and not any(u["retiring"] for u in units)
    assert requests.post(fresh.rest("single-model"), json={"data": {"ndarray": [[1.0]]}}).status_code == 200
    pids = fresh.pids()
    fresh.run("down", check=True)
    assert [p for p in pids + old if alive(p)] == []


def test_down_leaves_no_process_behind(fresh):
    fresh.up(EXAMPLES / "graph.yaml")
    fresh.up(EXAMPLES / "oauth.yaml")
    pids = fresh.pids()
    assert len(pids) == 5 + 2 + 3  # units, then supervisor, envoy, token service
    assert all(alive(p) for p in pids)
    result = fresh.run("down", check=True)
    assert "stopped seldon/graph" in result.stdout and "stopped seldon/oauth" in result.stdout
    assert [p for p in pids if alive(p)] == []
    assert fresh.run("status", check=True).stdout.startswith("No SeldonDeployments are running")


def test_sigterm_to_the_supervisor_stops_everything(fresh):
    fresh.up(EXAMPLES / "single-model.yaml")
    pids = fresh.pids()
    os.kill(fresh.status()["supervisor"]["pid"], signal.SIGTERM)
    wait_until(lambda: not any(alive(p) for p in pids))


def test_requests_in_flight_finish_when_the_supervisor_stops(fresh, tmp_path):
    manifest = variant(tmp_path, "single-model.yaml", DOUBLER, SLOW)
    fresh.up(manifest)
    pids = fresh.pids()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futures = [
            pool.submit(requests.post, fresh.rest("single-model"), json={"data": {"ndarray": [[float(i)]]}}, timeout=30)
            for i in range(2)
        ]
        time.sleep(0.5)
        os.kill(fresh.status()["supervisor"]["pid"], signal.SIGTERM)
        answers = [f.result() for f in futures]
    assert [a.status_code for a in answers] == [200, 200]
    assert [a.json()["data"]["ndarray"] for a in answers] == [[[0.0]], [[2.0]]]
    wait_until(lambda: not any(alive(p) for p in pids))


def test_the_engine_applies_the_rest_timeout_annotation(fresh, tmp_path):
    manifest = variant(
        tmp_path,
        "single-model.yaml",
        "spec:\n  predictors:",
        "spec:\n  annotations:\n    seldon.io/rest-timeout: '400'\n  predictors:",
    )
    manifest.write_text(manifest.read_text().replace(DOUBLER, SLOW))
    fresh.up(manifest)
    engine = next(
        u
        for u in fresh.status()["deployments"]["seldon.single-model"]["units"]
        if u["name"].endswith("/seldon-container-engine")
    )
    started = time.monotonic()
    response = requests.post(
        f"http://127.0.0.1:{engine['ports']['http']}/api/v1.0/predictions",
        json={"data": {"ndarray": [[1.0]]}},
        timeout=30,
    )
    assert time.monotonic() - started < 1.0
    assert response.status_code == 504, response.text
    assert "classifier" in response.json()["status"]["info"]


def test_foreground_up_serves_until_ctrl_c_with_istio(tmp_path):
    stack = Local(tmp_path / "home", free_port())
    with Interactive(
        stack, "up", "-f", str(EXAMPLES / "canary.yaml"), "--ingress", "istio", "--port", str(stack.port)
    ) as up:
        wait_until(lambda: available(stack, "seldon.canary"))
        counts = {2.0: 0, 3.0: 0}
        for _ in range(200):
            response = requests.post(stack.rest("canary"), json={"data": {"ndarray": [[1.0]]}})
            counts[response.json()["data"]["ndarray"][0][0]] += 1
        assert 120 <= counts[2.0] <= 180, counts  # 75/25 through the Istio VirtualService weights
        assert {ndarray(grpc_predict(stack.port, "canary", [[1.0]]))[0][0] for _ in range(40)} == {2.0, 3.0}
        pids = stack.pids()
        code, output = up.interrupt()
    assert code == 0, output
    assert "SeldonDeployment seldon/canary is Available" in output
    assert f"REST  http://127.0.0.1:{stack.port}/seldon/seldon/canary/api/v1.0/predictions" in output
    assert "seldon-graph: stopped" in output
    assert [p for p in pids if alive(p)] == []
    assert stack.status()["deployments"] == {}


def test_down_cleans_up_after_a_killed_supervisor(fresh):
    fresh.up(EXAMPLES / "oauth.yaml")
    pids = fresh.pids()
    supervisor = fresh.status()["supervisor"]["pid"]
    os.kill(supervisor, signal.SIGKILL)
    wait_until(lambda: not alive(supervisor))
    stale = fresh.run("status", check=True).stdout
    assert "The supervisor is not running" in stale and "seldon/oauth" in stale
    assert all(alive(p) for p in pids if p != supervisor)
    fresh.run("down", check=True)
    assert [p for p in pids if alive(p)] == []
    assert fresh.status() == {"supervisor": None, "deployments": {}}


def test_foreground_up_joins_a_running_supervisor_and_withdraws_on_ctrl_c(fresh):
    fresh.up(EXAMPLES / "single-model.yaml")
    with Interactive(fresh, "up", "-f", str(EXAMPLES / "combiner.yaml")) as up:
        wait_until(lambda: available(fresh, "seldon.combiner"))
        combiner = [u["pid"] for u in fresh.status()["deployments"]["seldon.combiner"]["units"]]
        code, output = up.interrupt()
    assert code == 0, output
    assert "SeldonDeployment seldon/combiner is Available" in output
    assert set(fresh.status()["deployments"]) == {"seldon.single-model"}
    assert [p for p in combiner if alive(p)] == []
    assert requests.post(fresh.rest("single-model"), json={"data": {"ndarray": [[1.0]]}}).status_code == 200


def test_up_reads_the_manifest_from_stdin(fresh):
    result = subprocess.run(
        [str(VENV_BIN / "seldon-graph"), "up", "-f", "-", "--detach", "--port", str(fresh.port)],
        cwd=REPO,
        env=fresh.env(),
        input=(EXAMPLES / "single-model.yaml").read_text(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert requests.post(fresh.rest("single-model"), json={"data": {"ndarray": [[1.0]]}}).status_code == 200


def test_a_second_up_joins_the_running_supervisor(fresh):
    fresh.up(EXAMPLES / "single-model.yaml")
    supervisor = fresh.status()["supervisor"]["pid"]
    fresh.up(EXAMPLES / "combiner.yaml")
    assert fresh.status()["supervisor"]["pid"] == supervisor
    other_port = fresh.run("up", "-f", str(EXAMPLES / "graph.yaml"), "--detach", "--port", str(free_port()))
    assert other_port.returncode == 2 and f"already serves port {fresh.port}" in other_port.stderr
