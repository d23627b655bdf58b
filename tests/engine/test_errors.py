"""Failures reach the client as Seldon status bodies whose code says whose fault it was and which node said it."""

import json
import socket

import grpc
import pytest
import requests

from seldon_graph.proto import prediction_pb2 as pb
from seldon_graph.proto import prediction_pb2_grpc as pb_grpc
from tests.engine.conftest import engines_running, node, predictor
from tests.support.procs import free_port

pytestmark = pytest.mark.e2e

X = {"data": {"ndarray": [[1, 2]]}}


@pytest.fixture(scope="module")
def engines(units, tmp_path_factory):
    u = units
    nowhere = {"service_host": "127.0.0.1", "type": "REST", "httpPort": free_port()}
    specs = {
        "failing": predictor(node("transformer", u["addone"], "TRANSFORMER", children=[node("bad", u["failing"])])),
        "failing_grpc": predictor(node("bad", u["failing"], transport="GRPC")),
        "unreachable": predictor(node("ghost", None, endpoint=nowhere)),
        "slow": predictor(node("slowpoke", u["sleeper"]), annotations={"seldon.io/rest-timeout": "300"}),
        "slow_grpc": predictor(
            node("slowpoke", u["sleeper"], transport="GRPC"), annotations={"seldon.io/grpc-timeout": "300"}
        ),
        "model": predictor(node("doubler", u["doubler"])),
    }
    with engines_running(specs, tmp_path_factory.mktemp("errors"), never_ready=("unreachable",)) as started:
        yield started


def post(engine, body=None, **kwargs):
    return requests.post(f"{engine.url}/api/v1.0/predictions", json=body, timeout=30, **kwargs)


def status_of(response) -> dict:
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()["status"]


def test_unit_error_reaches_the_client_verbatim_and_the_node_is_named_beside_it(engines, units):
    """A unit's non-2xx reply is the client's answer, status and body byte for byte, as the Seldon executor's
    respondWithError writes the unit's payload (executor/api/rest/server.go); Seldon's own e2e tests read
    `status.info` as the model raised it. The failing node is in the Seldon-Failed-Node header and the log."""
    direct = requests.post(f"http://127.0.0.1:{units['failing'].http_port}/predict", json=X, timeout=30)
    response = post(engines["failing"], X)
    assert response.status_code == direct.status_code == 418
    assert response.content == direct.content
    status = status_of(response)
    assert status["reason"] == "MY_REASON" and status["info"] == "custom failure" and status["status"] == 1
    assert response.headers["Seldon-Failed-Node"] == "bad" and response.headers["Seldon-Puid"]
    assert "node bad failed with 418" in engines["failing"].log()


def test_unreachable_unit_is_503_naming_the_node(engines):
    response = post(engines["unreachable"], X)
    assert response.status_code == 503
    assert "'ghost'" in status_of(response)["info"] and response.headers["Seldon-Failed-Node"] == "ghost"


def test_unit_timeout_is_504_naming_the_node(engines):
    response = post(engines["slow"], {"data": {"ndarray": [[1.5]]}})
    assert response.status_code == 504
    status = status_of(response)
    assert "'slowpoke'" in status["info"] and "300 ms" in status["info"]


@pytest.mark.parametrize(
    "body, content_type, expected",
    [
        (b'{"data": {"ndarray": [[1, 2]]', "application/json", "Invalid JSON"),
        (b"not json at all", "application/json", "Invalid JSON"),
        (b"[1, 2]", "application/json", "JSON object"),
        (b'{"meta": "x", "data": {}}', "application/json", "meta must be an object"),
        (b"", "application/json", "Empty request"),
    ],
)
def test_malformed_request_is_400_saying_what_is_wrong(engines, body, content_type, expected):
    response = requests.post(
        f"{engines['model'].url}/api/v1.0/predictions", data=body, headers={"Content-Type": content_type}, timeout=30
    )
    assert response.status_code == 400
    assert expected in status_of(response)["info"]


def test_unknown_path_and_node_are_404(engines):
    assert requests.get(f"{engines['model'].url}/nowhere", timeout=30).status_code == 404
    response = requests.get(f"{engines['model'].url}/api/v1.0/metadata/nobody", timeout=30)
    assert response.status_code == 404 and "nobody" in status_of(response)["info"]


def test_wrong_method_is_405_with_a_status_body(engines):
    response = requests.get(f"{engines['model'].url}/api/v1.0/predictions", timeout=30)
    assert response.status_code == 405 and status_of(response)["status"] == 1


def grpc_predict(engine, message):
    with grpc.insecure_channel(engine.grpc_target) as channel:
        return pb_grpc.SeldonStub(channel).Predict(message, timeout=30)


def test_grpc_unit_error_passes_through_with_the_node_in_trailing_metadata(engines, units):
    """A gRPC unit's status (code and details) reaches a gRPC client as the unit sent it, as the executor returns
    the unit's error from its gRPC server (executor/api/grpc/seldon/server.go); the node is in the trailing
    metadata `seldon-failed-node`."""
    message = pb.SeldonMessage(data=pb.DefaultData(ndarray=None))
    channel = grpc.insecure_channel(f"127.0.0.1:{units['failing'].grpc_port}")
    with channel, pytest.raises(grpc.RpcError) as direct:
        pb_grpc.ModelStub(channel).Predict(message, timeout=30)
    with pytest.raises(grpc.RpcError) as caught:
        grpc_predict(engines["failing_grpc"], message)
    assert caught.value.code() == direct.value.code()
    assert caught.value.details() == direct.value.details()
    assert ("seldon-failed-node", "bad") in tuple(caught.value.trailing_metadata())


def test_rest_client_of_a_grpc_unit_gets_a_status_body_naming_the_node(engines):
    response = post(engines["failing_grpc"], X)
    assert response.status_code >= 400 and response.headers["Seldon-Failed-Node"] == "bad"
    assert "'bad'" in status_of(response)["info"]


def test_grpc_custom_data_of_an_unknown_type_into_a_rest_graph_is_invalid_argument(engines):
    """A REST unit takes the message as proto JSON, which the executor writes with jsonpb
    (executor/api/rest/client.go); an Any whose type is not known has no JSON form, so the client is told so
    instead of an INTERNAL "Engine failure: TypeError"."""
    message = pb.SeldonMessage()
    message.customData.type_url = "type.googleapis.com/acme.Unknown"
    message.customData.value = b"\x08\x01"
    with pytest.raises(grpc.RpcError) as caught:
        grpc_predict(engines["model"], message)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "acme.Unknown" in caught.value.details() and "customData" in caught.value.details()
    known = pb.SeldonMessage()
    known.customData.Pack(pb.DefaultData(names=["a"]))
    with pytest.raises(grpc.RpcError) as refused:  # a known type reaches the unit, which has nothing to double
        grpc_predict(engines["model"], known)
    assert ("seldon-failed-node", "doubler") in tuple(refused.value.trailing_metadata())


def test_grpc_timeout_is_deadline_exceeded_naming_the_node(engines):
    message = pb.SeldonMessage()
    message.data.tensor.shape.extend([1, 1])
    message.data.tensor.values.append(1.5)
    with pytest.raises(grpc.RpcError) as caught:
        grpc_predict(engines["slow_grpc"], message)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "'slowpoke'" in caught.value.details()


def test_grpc_unreachable_is_unavailable(engines):
    with pytest.raises(grpc.RpcError) as caught:
        grpc_predict(engines["unreachable"], pb.SeldonMessage(strData="x"))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE and "'ghost'" in caught.value.details()


def test_malformed_large_request_is_refused_by_the_first_unit_named_in_the_header(engines):
    body = b'{"data":{"tensor":{"shape":[300000],"values":[' + b"1," * 300000 + b"]}}}"
    response = requests.post(
        f"{engines['model'].url}/api/v1.0/predictions",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400 and response.headers["Seldon-Failed-Node"] == "doubler"
    assert status_of(response)["info"] == "Can't find JSON in data"


def test_malformed_http_is_400_with_an_engine_status_body(engines):
    port = int(engines["model"].url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST /api/v1.0/predictions HTTP/1.1\r\nContent-Length: twelve\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400") and b"\r\nConnection: close\r\n" in answer
    status = json.loads(answer.split(b"\r\n\r\n", 1)[1])["status"]
    assert status["reason"] == "ENGINE_BAD_REQUEST" and "invalid character in Content-Length" in status["info"]


def test_cors_preflight_and_headers_on_every_answer(engines):
    url = f"{engines['model'].url}/api/v1.0/predictions"
    preflight = requests.options(
        url, headers={"Origin": "http://ui", "Access-Control-Request-Method": "POST"}, timeout=30
    )
    assert preflight.status_code == 200 and preflight.headers["Access-Control-Allow-Origin"] == "*"
    for response in (post(engines["model"], X), post(engines["model"], [1]), requests.get(url, timeout=30)):
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]
