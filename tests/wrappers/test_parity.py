"""Parity with the real seldon-core 1.18.2 wrapper: the same requests to both, the same status and body,
for every case where we promise identical behaviour."""

import contextlib
import json

import pytest
import requests

from tests.support.procs import start, stop, wait_http
from tests.wrappers.conftest import MODELS, distinct_ports, running_unit


@contextlib.contextmanager
def real_wrapper(bin_dir, log_dir, interface):
    http, grpc_port, metrics = distinct_ports(3)
    cmd = [
        str(bin_dir / "seldon-core-microservice"),
        interface,
        "--http-port",
        str(http),
        "--grpc-port",
        str(grpc_port),
        "--metrics-port",
        str(metrics),
    ]
    proc = start(cmd, log_dir / f"real-{interface}.log", cwd=MODELS)
    try:
        wait_http(f"http://127.0.0.1:{http}/health/ping", timeout=60, proc=proc)
        yield f"http://127.0.0.1:{http}"
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def pairs(seldon_core, tmp_path_factory):
    logs = tmp_path_factory.mktemp("parity")
    with contextlib.ExitStack() as stack:
        out = {}
        for interface in (
            "Model",
            "ExcModel",
            "MyRouter",
            "StatusCodeModel",
            "MyCombiner",
            "ErrorHandlerModel",
            "RawFileModel",
        ):
            ours = stack.enter_context(running_unit(logs, interface, grpc=False))
            out[interface] = (
                stack.enter_context(real_wrapper(seldon_core, logs, interface)),
                f"http://127.0.0.1:{ours.http_port}",
            )
        yield out


JSON = {"Content-Type": "application/json"}
MULTIPART = {"Content-Type": "multipart/form-data; boundary=PARITY"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
MESSAGES = json.dumps([{"data": {"ndarray": [[1, 2]]}}, {"data": {"ndarray": [[3, 4]]}}])


def multipart(*parts: tuple[str, str | None, bytes]) -> bytes:
    """A multipart/form-data body with boundary PARITY from (name, filename or None, content) parts."""
    body = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--PARITY\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n"
    return body + b"--PARITY--\r\n"


CASES = [
    ("Model", "POST", "/api/v1.0/predictions", {"data": {"ndarray": [[1, 2]]}}, JSON),
    ("Model", "POST", "/predict", {"data": {"names": ["a", "b"], "tensor": {"shape": [1, 2], "values": [1, 2]}}}, JSON),
    (
        "Model",
        "POST",
        "/api/v0.1/predictions",
        {"meta": {"puid": "abc123", "tags": {"t": 1}}, "data": {"ndarray": [[1, 2]]}},
        JSON,
    ),
    ("Model", "POST", "/predict", {"strData": "hello"}, JSON),
    ("Model", "POST", "/predict", {"binData": "aGVsbG8="}, JSON),
    ("Model", "POST", "/predict", {"data": {}}, JSON),
    ("Model", "POST", "/predict", {"jsonData": {"x": 1}}, JSON),
    ("Model", "POST", "/predict", {}, JSON),
    ("Model", "POST", "/predict", '{"data":{"ndarray":[[1,2]]}', JSON),
    ("Model", "POST", "/predict", "not json at all", JSON),
    (
        "Model",
        "POST",
        "/predict",
        {
            "meta": {"requestPath": {"up": "i:1"}, "metrics": [{"key": "k", "type": "GAUGE", "value": 1}]},
            "data": {"ndarray": [[1.5, 2]]},
        },
        JSON,
    ),
    (
        "Model",
        "POST",
        "/predict",
        "json=" + json.dumps({"data": {"ndarray": [[1, 2]]}}),
        {"Content-Type": "application/x-www-form-urlencoded"},
    ),
    ("Model", "GET", "/predict?json=" + requests.utils.quote(json.dumps({"data": {"ndarray": [[1, 2]]}})), None, {}),
    ("Model", "POST", "/route", {"data": {"ndarray": [[1, 2]]}}, JSON),
    ("Model", "POST", "/aggregate", {"seldonMessages": [{"data": {"ndarray": [[1, 2]]}}]}, JSON),
    ("Model", "POST", "/transform-input", {"data": {"ndarray": [[1, 2]]}}, JSON),
    (
        "Model",
        "POST",
        "/transform-output",
        {"meta": {"puid": "x"}, "data": {"tensor": {"shape": [2], "values": [1, 2]}}},
        JSON,
    ),
    (
        "Model",
        "POST",
        "/send-feedback",
        {"request": {"data": {"ndarray": [[1, 2]]}}, "response": {"data": {"ndarray": [[2, 4]]}}, "reward": 1.0},
        JSON,
    ),
    (
        "Model",
        "POST",
        "/api/v1.0/feedback",
        {"request": {"data": {"tensor": {"shape": [1, 2], "values": [1, 2]}}}, "reward": 0.5},
        JSON,
    ),
    ("Model", "GET", "/health/status", None, {}),
    ("Model", "GET", "/api/v1.0/health/status", None, {}),
    ("Model", "GET", "/health/ping", None, {}),
    ("Model", "GET", "/metadata", None, {}),
    ("ExcModel", "POST", "/predict", {"data": {"ndarray": [[1, 2]]}}, JSON),
    ("StatusCodeModel", "POST", "/predict", {"data": {"ndarray": [[1, 2]]}}, JSON),
    ("Model", "POST", "/predict", {"data": {"ndarray": 5}}, JSON),
    ("Model", "POST", "/predict", {"jsonData": 5}, JSON),
    ("MyRouter", "POST", "/route", {"data": {"ndarray": [[50, 2]]}}, JSON),
    ("Model", "POST", "/predict", multipart(("data", None, b'{"names":["a","b"],"ndarray":[[1,2]]}')), MULTIPART),
    ("Model", "POST", "/predict", multipart(("strData", None, b"hi"), ("meta", None, b'{"puid":"p"}')), MULTIPART),
    ("Model", "POST", "/predict", multipart(("binData", "f.bin", bytes(range(256)))), MULTIPART),
    ("Model", "POST", "/predict", multipart(("strData", "f.txt", b"text\n")), MULTIPART),
    (
        "RawFileModel",
        "POST",
        "/predict",
        multipart(("meta", None, b'{"puid":"1"}'), ("binData", "t", b"x\n")),
        MULTIPART,
    ),
    ("RawFileModel", "POST", "/predict", multipart(("strData", "test.txt", b"text\n")), MULTIPART),
    ("MyCombiner", "GET", "/aggregate?json=" + requests.utils.quote(MESSAGES), None, {}),
    ("MyCombiner", "POST", "/aggregate", "json=" + requests.utils.quote(MESSAGES), FORM),
    ("MyCombiner", "POST", "/aggregate", MESSAGES, JSON),
    ("ErrorHandlerModel", "GET", "/predict?json=" + requests.utils.quote('{"data":{"ndarray":[[1,2]]}}'), None, {}),
    ("ErrorHandlerModel", "POST", "/transform-input", {"data": {"ndarray": [[1]]}}, JSON),
    ("ErrorHandlerModel", "POST", "/route", {"data": {"ndarray": [[1]]}}, JSON),
    ("MyRouter", "POST", "/route", {"data": {"tensor": {"shape": [1, 2], "values": [1, 2]}}}, JSON),
    ("MyRouter", "POST", "/api/v1.0/predictions", {"data": {"ndarray": [[1, 2]]}}, JSON),
    (
        "MyRouter",
        "POST",
        "/send-feedback",
        {"request": {"data": {"ndarray": [[1, 2]]}}, "response": {"meta": {"routing": {"router": 1}}}, "reward": 1.0},
        JSON,
    ),
]


def answer(base, method, path, body, headers):
    data = body if body is None or isinstance(body, (str, bytes)) else json.dumps(body)
    response = requests.request(method, base + path, data=data, headers=headers, timeout=10)
    try:
        parsed = response.json()
    except ValueError:
        parsed = response.text
    return response.status_code, parsed


@pytest.mark.parametrize(
    "interface, method, path, body, headers", CASES, ids=[f"{c[0]}-{c[1]}-{c[2][:30]}-{i}" for i, c in enumerate(CASES)]
)
def test_same_status_and_body_as_seldon_core(pairs, interface, method, path, body, headers):
    real, ours = pairs[interface]
    assert answer(ours, method, path, body, headers) == answer(real, method, path, body, headers)
