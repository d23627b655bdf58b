"""The engine's REST and gRPC front against hostile input: a puid that could split a response, NaN and infinities
in bodies, and a gRPC message with no JSON form going into a REST graph."""

import json
import math
import socket
import time

import grpc
import pytest
import requests

from seldon_graph.proto import prediction_pb2 as pb
from seldon_graph.proto import prediction_pb2_grpc as pb_grpc
from tests.engine.conftest import engines_running, node, predictor
from tests.support.http_servers import answers

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def engine(units, tmp_path_factory):
    specs = {"model": predictor(node("doubler", units["doubler"]))}
    with engines_running(specs, tmp_path_factory.mktemp("hardening")) as started:
        yield started["model"]


def raw_exchange(engine, raw: bytes) -> bytes:
    port = int(engine.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


BAD_PUIDS = ["a\r\nX-Injected: 1", "a\nb", "a\x00b", "caf\u00e9", "\u20ac", "x" * 257, 42]


@pytest.mark.parametrize("puid", BAD_PUIDS, ids=range(len(BAD_PUIDS)))
def test_a_meta_puid_that_is_not_printable_ascii_is_400(engine, puid):
    started = time.monotonic()
    body = {"meta": {"puid": puid}, "data": {"ndarray": [[1, 2]]}}
    response = requests.post(f"{engine.url}/api/v1.0/predictions", json=body, timeout=10)
    assert time.monotonic() - started < 5
    assert response.status_code == 400
    status = response.json()["status"]
    assert status["reason"] == "ENGINE_BAD_REQUEST" and "Invalid puid" in status["info"]
    assert "X-Injected" not in response.headers
    assert response.headers["Seldon-Puid"].isascii() and len(response.headers["Seldon-Puid"]) == 36


def test_a_seldon_puid_header_that_is_not_printable_ascii_is_400(engine):
    body = b'{"data":{"ndarray":[[1]]}}'
    for method in (b"predictions", b"feedback"):
        raw = (
            b"POST /api/v1.0/%s HTTP/1.1\r\nHost: x\r\nSeldon-Puid: caf\xe9\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (method, len(body), body)
        )
        found = answers(raw_exchange(engine, raw))
        assert found.codes == [400]
        assert "Invalid puid" in json.loads(found.bodies[0])["status"]["info"]


def test_a_good_puid_is_echoed(engine):
    response = requests.post(
        f"{engine.url}/api/v1.0/predictions",
        json={"meta": {"puid": "my-id_1.2~"}, "data": {"ndarray": [[1]]}},
        timeout=10,
    )
    assert response.status_code == 200 and response.headers["Seldon-Puid"] == "my-id_1.2~"
    assert response.json()["meta"]["puid"] == "my-id_1.2~"


def test_nan_and_infinities_go_through_the_graph_and_come_back_as_literals(engine):
    body = '{"meta":{"tags":{"t":NaN}},"data":{"ndarray":[[NaN,1.5,Infinity,-Infinity]]}}'
    response = requests.post(
        f"{engine.url}/api/v1.0/predictions", data=body, headers={"Content-Type": "application/json"}, timeout=10
    )
    assert response.status_code == 200, response.text
    assert "NaN" in response.text and "-Infinity" in response.text and "null" not in response.text
    row = json.loads(response.text)["data"]["ndarray"][0]
    assert math.isnan(row[0]) and row[1:] == [3.0, math.inf, -math.inf]


def test_grpc_into_a_rest_graph_with_a_message_that_has_no_json_form_is_invalid_argument(engine):
    message = pb.SeldonMessage()
    message.data.ndarray.values.add().number_value = math.nan
    with grpc.insecure_channel(engine.grpc_target) as channel, pytest.raises(grpc.RpcError) as failure:
        pb_grpc.SeldonStub(channel).Predict(message, timeout=20)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "NaN" in failure.value.details() and "Engine failure" not in failure.value.details()


def test_grpc_meta_puid_with_a_line_break_is_invalid_argument(engine):
    message = pb.SeldonMessage(strData="x")
    message.meta.puid = "a\r\nb"
    with grpc.insecure_channel(engine.grpc_target) as channel, pytest.raises(grpc.RpcError) as failure:
        pb_grpc.SeldonStub(channel).Predict(message, timeout=20)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "Invalid puid" in failure.value.details()
