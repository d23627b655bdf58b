"""Startup (parameters, import errors, load() before ready), several workers, and draining on SIGTERM."""

import json
import os
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.support.procs import VENV_BIN, stop, wait_http
from tests.wrappers.conftest import MODELS, launch, running_unit

ALL_TYPES = [
    {"name": "i", "value": "3", "type": "INT"},
    {"name": "f", "value": "1.5", "type": "FLOAT"},
    {"name": "d", "value": "2.5", "type": "DOUBLE"},
    {"name": "s", "value": "x", "type": "STRING"},
    {"name": "b", "value": "yes", "type": "BOOL"},
    {"name": "n", "value": "off", "type": "BOOL"},
    {"name": "j", "value": '{"a": [1]}', "type": "JSON"},
]
EXPECTED = {
    "i": [3, "int"],
    "f": [1.5, "float"],
    "d": [2.5, "float"],
    "s": ["x", "str"],
    "b": [True, "bool"],
    "n": [False, "bool"],
    "j": [{"a": [1]}, "dict"],
}


def predict(unit, body=None, timeout=10):
    return requests.post(unit.url("/predict"), json=body or {"data": {"ndarray": [[1]]}}, timeout=timeout)


def test_parameters_of_every_type_from_flag_and_env(tmp_path):
    with running_unit(tmp_path, "ParamModel", "--parameters", json.dumps(ALL_TYPES), grpc=False) as unit:
        assert predict(unit).json()["jsonData"] == EXPECTED
    env = {"PREDICTIVE_UNIT_PARAMETERS": json.dumps(ALL_TYPES[:2])}
    with running_unit(tmp_path, "ParamModel", env=env, grpc=False) as unit:
        assert predict(unit).json()["jsonData"] == {"i": [3, "int"], "f": [1.5, "float"]}


def run_to_exit(*args, env=None):
    cmd = [str(VENV_BIN / "seldon-core-microservice"), *args, "--http-port", "0", "--metrics-port", "0"]
    return subprocess.run(
        cmd, cwd=MODELS, capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})}
    )


@pytest.mark.parametrize(
    "parameters, message",
    [
        (
            [{"name": "i", "value": "1.0", "type": "INT"}],
            "Bad model parameter: i with value 1.0 can't be parsed as a INT",
        ),
        ([{"name": "b", "value": "maybe", "type": "BOOL"}], "Bad model parameter: b with value maybe"),
        ([{"name": "x", "value": "1", "type": "COMPLEX"}], "Bad model parameter type: COMPLEX for parameter x"),
        ("not json", "Bad model parameters: not a JSON list"),
        ([{"value": "1"}], "Bad model parameter at index 0"),
    ],
)
def test_bad_parameters_exit_non_zero_with_a_clear_message(parameters, message):
    text = parameters if isinstance(parameters, str) else json.dumps(parameters)
    result = run_to_exit("ParamModel", "--parameters", text)
    assert result.returncode != 0
    assert message in result.stderr


def test_bad_interface_exits_non_zero():
    missing = run_to_exit("NoSuchModule")
    assert missing.returncode != 0 and "cannot import module 'NoSuchModule'" in missing.stderr
    no_class = run_to_exit("Model.Nope")
    assert no_class.returncode != 0 and "module 'Model' has no class 'Nope'" in no_class.stderr
    unknown_flag = run_to_exit("Model", "--no-such-flag")
    assert unknown_flag.returncode != 0 and "--no-such-flag" in unknown_flag.stderr


def test_ready_only_after_load(tmp_path):
    unit = launch(tmp_path, "SlowLoad", "--parameters", json.dumps([{"name": "delay", "value": "2", "type": "STRING"}]))
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(unit.url("/live"), timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.05)
        ready = requests.get(unit.url("/ready"))
        early = predict(unit)
        assert ready.status_code == 503
        assert early.status_code == 503 and "load() has not finished" in early.json()["status"]["info"]
        while requests.get(unit.url("/ready")).status_code != 200:
            assert time.monotonic() < deadline and unit.proc.poll() is None
            time.sleep(0.05)
        assert predict(unit).json()["data"]["ndarray"] == [[101]]
    finally:
        stop(unit.proc)


def test_failing_load_exits_non_zero(tmp_path):
    unit = launch(tmp_path, "FailingLoad")
    try:
        assert unit.proc.wait(30) != 0
        assert "weights not found" in Path(unit.proc.log_path).read_text()
    finally:
        stop(unit.proc)


def test_several_workers_share_the_port(tmp_path):
    with running_unit(tmp_path, "SlowModel", "--workers", "2", grpc=False) as unit:
        started = time.monotonic()
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda _: predict(unit, {"data": {"ndarray": [[0.3]]}}), range(16)))
        elapsed = time.monotonic() - started
        assert all(a.status_code == 200 for a in answers)
        assert len({a.json()["jsonData"]["pid"] for a in answers}) == 2
        assert elapsed < 16 * 0.3


@pytest.mark.parametrize("args", [(), ("--threads", "2")], ids=["inline", "thread-pool"])
def test_sigterm_drains_in_flight_requests_then_exits_0(tmp_path, args):
    started = tmp_path / "started"
    unit = launch(tmp_path, "SlowModel", *args, env={"STARTED_FILE": str(started)})
    try:
        wait_http(unit.url("/ready"), proc=unit.proc)
        result = {}
        thread = threading.Thread(target=lambda: result.setdefault("r", predict(unit, {"data": {"ndarray": [[1.5]]}})))
        thread.start()
        deadline = time.monotonic() + 10
        while not started.exists():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(unit.proc.pid, signal.SIGTERM)
        thread.join(10)
        assert result["r"].status_code == 200
        assert unit.proc.wait(15) == 0
    finally:
        stop(unit.proc)


def test_threads_run_slow_predictions_concurrently(tmp_path):
    with running_unit(tmp_path, "SlowModel", "--threads", "4", grpc=False) as unit:
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: predict(unit, {"data": {"ndarray": [[0.5]]}}), range(4)))
        assert all(a.status_code == 200 for a in answers)
        assert time.monotonic() - started < 1.5
        assert requests.get(unit.url("/live"), timeout=2).status_code == 200


def test_port_in_use_exits_non_zero(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cmd = [
            str(VENV_BIN / "seldon-core-microservice"),
            "Model",
            "--http-port",
            str(port),
            "--grpc-port",
            "0",
            "--metrics-port",
            "0",
        ]
        result = subprocess.run(cmd, cwd=MODELS, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"HTTP port {port} is already in use" in result.stderr


def test_workers_do_not_outlive_a_killed_master_process(tmp_path):
    with running_unit(tmp_path, "Model", "--workers", "2") as unit:
        children = subprocess.run(["pgrep", "-P", str(unit.proc.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) == 3  # two REST workers and the gRPC server
        os.kill(unit.proc.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        alive = children
        while alive and time.monotonic() < deadline:
            alive = [
                pid
                for pid in children
                if os.path.exists(f"/proc/{pid}") and "zombie" not in Path(f"/proc/{pid}/status").read_text()
            ]
            time.sleep(0.05)
        assert alive == []


def test_ready_means_every_worker_has_loaded(tmp_path):
    slow = json.dumps([{"name": "delay", "value": "1", "type": "STRING"}])
    with running_unit(tmp_path, "SlowLoad", "--workers", "2", "--parameters", slow, grpc=False) as unit:
        for _ in range(12):
            with requests.Session() as session:  # fresh connections reach both workers
                assert session.post(unit.url("/predict"), json={"data": {"ndarray": [[1]]}}).status_code == 200


def test_output_transformer_service_type(tmp_path):
    with running_unit(tmp_path, "MyTransformer", "--service-type", "OUTPUT_TRANSFORMER", grpc=False) as unit:
        response = requests.post(unit.url("/transform-output"), json={"data": {"ndarray": [[1, 2]]}})
        assert response.json()["data"]["ndarray"] == [[10, 20]]
