"""Starting (ENGINE_PREDICTOR, SeldonDeployment files, invalid predictors), readiness, and draining on SIGTERM."""

import base64
import json
import signal
import subprocess
import threading
import time

import grpc
import pytest
import requests
from google.protobuf import json_format

from seldon_graph.proto import prediction_pb2 as pb
from seldon_graph.proto import prediction_pb2_grpc as pb_grpc
from tests.engine.conftest import echo_unit, engine_running, node, predictor
from tests.support.procs import VENV_BIN, free_port, start, stop, wait_http

pytestmark = pytest.mark.e2e

X = {"data": {"ndarray": [[1, 2]]}}


def test_ready_only_when_every_unit_answers(units, tmp_path):
    port = free_port()
    spec = predictor(
        node(
            "doubler",
            units["doubler"],
            children=[node("echo", None, endpoint={"service_host": "127.0.0.1", "httpPort": port})],
        )
    )
    with engine_running(spec, tmp_path, wait_ready=False) as engine:
        assert requests.get(f"{engine.url}/ready", timeout=5).status_code == 503
        assert requests.get(f"{engine.url}/live", timeout=5).status_code == 200
        with echo_unit(tmp_path, port):
            wait_http(f"{engine.url}/ready", timeout=10)
            assert requests.get(f"{engine.url}/api/v1.0/health/status", timeout=5).status_code == 200


def sigterm_during(engine, sleeper, call) -> object:
    """Start `call` (a 1 s prediction), SIGTERM the engine once the sleeper unit has it; the call's result."""
    result = {}
    calls_before = len(sleeper.feedback())
    caller = threading.Thread(target=lambda: result.setdefault("reply", call()))
    caller.start()
    deadline = time.monotonic() + 30
    while len(sleeper.feedback()) == calls_before and time.monotonic() < deadline:
        time.sleep(0.02)
    engine.proc.send_signal(signal.SIGTERM)
    caller.join(30)
    assert engine.proc.wait(30) == 0
    return result["reply"]


def test_sigterm_drains_in_flight_requests(units, tmp_path):
    spec = predictor(node("slowpoke", units["sleeper"]))
    with engine_running(spec, tmp_path) as engine:
        response = sigterm_during(
            engine,
            units["sleeper"],
            lambda: requests.post(
                f"{engine.url}/api/v1.0/predictions", json={"data": {"ndarray": [[1.0]]}}, timeout=30
            ),
        )
    assert response.status_code == 200
    assert response.json()["data"]["ndarray"] == [[2.0]]


def test_sigterm_drains_in_flight_grpc_requests(units, tmp_path):
    spec = predictor(node("slowpoke", units["sleeper"], transport="GRPC"))
    message = json_format.ParseDict({"data": {"ndarray": [[1.0]]}}, pb.SeldonMessage())

    def call():
        with grpc.insecure_channel(engine.grpc_target) as channel:
            return pb_grpc.SeldonStub(channel).Predict(message, timeout=30)

    with engine_running(spec, tmp_path) as engine:
        reply = sigterm_during(engine, units["sleeper"], call)
    assert json_format.MessageToDict(reply)["data"]["ndarray"] == [[2.0]]


def test_predictor_from_env(units, tmp_path):
    spec = predictor(node("doubler", units["doubler"]))
    http_port, grpc_port = free_port(), free_port()
    env = {"ENGINE_PREDICTOR": base64.b64encode(json.dumps(spec).encode()).decode()}
    proc = start(
        [
            str(VENV_BIN / "seldon-engine"),
            "--http_port",
            str(http_port),
            "--grpc_port",
            str(grpc_port),
            "--host",
            "127.0.0.1",
            "--sdep",
            "d",
            "--namespace",
            "ns",
            "--predictor",
            "p",
        ],
        tmp_path / "env.log",
        env=env,
    )
    try:
        wait_http(f"http://127.0.0.1:{http_port}/ready", proc=proc)
        reply = requests.post(f"http://127.0.0.1:{http_port}/api/v1.0/predictions", json=X, timeout=30).json()
        assert reply["data"]["ndarray"] == [[2, 4]]
        assert requests.get(f"http://127.0.0.1:{http_port}/ping", timeout=5).text == "pong"
    finally:
        stop(proc)


def test_seldon_deployment_file_with_predictor_and_timeout_annotation(units, tmp_path):
    sdep = {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "metadata": {"name": "dep", "namespace": "ns"},
        "spec": {
            "annotations": {"seldon.io/rest-timeout": "250"},
            "predictors": [
                predictor(node("doubler", units["doubler"]), name="a"),
                predictor(node("slowpoke", units["sleeper"]), name="b"),
            ],
        },
    }
    with engine_running(sdep, tmp_path, "--predictor", "b") as engine:
        response = requests.post(f"{engine.url}/api/v1.0/predictions", json={"data": {"ndarray": [[1.0]]}}, timeout=30)
    assert response.status_code == 504 and "250 ms" in response.json()["status"]["info"]


@pytest.mark.parametrize("flags", [["--rest_timeout", "200"], ["--annotation", "seldon.io/rest-timeout=200"]])
def test_timeout_from_flags(units, tmp_path, flags):
    with engine_running(predictor(node("slowpoke", units["sleeper"])), tmp_path, *flags) as engine:
        response = requests.post(f"{engine.url}/api/v1.0/predictions", json={"data": {"ndarray": [[1.0]]}}, timeout=30)
    assert response.status_code == 504 and "200 ms" in response.json()["status"]["info"]


def test_invalid_predictor_is_a_startup_error_naming_node_and_field(tmp_path):
    spec = predictor(
        node(
            "root",
            None,
            "ROUTER",
            implementation="SIMPLE_ROUTER",
            children=[node("broken", None, endpoint={"service_host": "h", "type": "REST"})],
        )
    )
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(spec))
    done = subprocess.run(
        [str(VENV_BIN / "seldon-engine"), "--file", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "'broken'" in done.stderr and "graph.children[0]" in done.stderr and "httpPort" in done.stderr
    assert "Traceback" not in done.stderr


def test_no_predictor_at_all_is_a_startup_error(tmp_path):
    done = subprocess.run(
        [str(VENV_BIN / "seldon-engine")], capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"}
    )
    assert done.returncode == 2 and "ENGINE_PREDICTOR" in done.stderr
