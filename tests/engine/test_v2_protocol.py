"""The engine speaking the Open Inference Protocol (V2) with the real MLServer as its nodes, over REST.

One MLServer serves a scikit-learn `classifier` and a custom-runtime `scale` transformer; engines serve a
single-model graph and the chain scale → classifier. Results must equal what the models themselves answer.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import requests

from tests.engine.conftest import engine_running, predictor
from tests.support.mlserver import mlserver_running
from tests.support.procs import free_port, start, stop, wait_port
from tests.support.venvs import mlserver_bin

# the first run on a machine builds side virtualenvs (MLServer, the prepackaged servers) inside fixtures
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

ROWS = [[0.1, 0.2, 0.0, 0.1], [1.4, 1.6, 0.1, 0.0], [0.0, 1.5, 1.4, 1.6]]
REQUEST = {"id": "req-1", "inputs": [{"name": "input-0", "shape": [3, 4], "datatype": "FP64", "data": ROWS}]}
V2_UNIT = __file__.replace("test_v2_protocol.py", "v2_unit.py")


@pytest.fixture(scope="module")
def mlserver(tmp_path_factory):
    with mlserver_running(tmp_path_factory.mktemp("mlserver")) as server:
        yield server


@pytest.fixture(scope="module")
def v2_unit(tmp_path_factory):
    port = free_port()
    proc = start([sys.executable, V2_UNIT, str(port)], tmp_path_factory.mktemp("v2unit") / "unit.log")
    try:
        wait_port(port, proc=proc)
        yield {"service_host": "127.0.0.1", "type": "REST", "httpPort": port, "grpcPort": free_port()}
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def single(mlserver, tmp_path_factory):
    spec = predictor({"name": "classifier", "type": "MODEL", "endpoint": mlserver.endpoint()})
    with engine_running(spec, tmp_path_factory.mktemp("single"), "--protocol", "v2") as engine:
        yield engine


@pytest.fixture(scope="module")
def chain(mlserver, tmp_path_factory):
    classifier = {"name": "classifier", "type": "MODEL", "endpoint": mlserver.endpoint()}
    spec = predictor(
        {"name": "scale", "type": "TRANSFORMER", "endpoint": mlserver.endpoint(), "children": [classifier]}
    )
    with engine_running(spec, tmp_path_factory.mktemp("chain"), "--protocol", "kfserving") as engine:
        yield engine


def infer(url: str, model: str | None, body: dict, **kwargs) -> requests.Response:
    path = f"/v2/models/{model}/infer" if model else "/v2/models/infer"
    return requests.post(url + path, json=body, timeout=30, **kwargs)


def outputs(response: requests.Response) -> list[dict]:
    assert response.status_code == 200, response.text
    return [
        {key: tensor[key] for key in ("name", "datatype", "shape", "data")} for tensor in response.json()["outputs"]
    ]


def test_single_model_equals_mlserver(mlserver, single):
    direct = infer(mlserver.url, "classifier", REQUEST)
    through = infer(single.url, "classifier", REQUEST, headers={"Seldon-Puid": "puid-1"})
    assert outputs(through) == outputs(direct)
    assert through.json()["id"] == "req-1"
    assert through.headers["Seldon-Puid"] == "puid-1"
    assert outputs(infer(single.url, None, REQUEST)) == outputs(direct)


def test_chain_equals_client_chaining(mlserver, chain):
    scaled = infer(mlserver.url, "scale", REQUEST).json()
    expected = infer(mlserver.url, "classifier", {"id": "req-1", "inputs": scaled["outputs"]})
    through = infer(chain.url, "scale", REQUEST)
    assert outputs(through) == outputs(expected)
    assert through.json()["model_name"] == "classifier"
    assert through.json()["id"] == "req-1"


def test_chain_with_curl(mlserver, chain):
    scaled = infer(mlserver.url, "scale", REQUEST).json()
    expected = outputs(infer(mlserver.url, "classifier", {"inputs": scaled["outputs"]}))
    command = ["curl", "-s", "-H", "Content-Type: application/json", "-d", json.dumps(REQUEST)]
    reply = subprocess.run([*command, f"{chain.url}/v2/models/infer"], capture_output=True, check=True, timeout=60)
    got = json.loads(reply.stdout)["outputs"]
    assert [{key: tensor[key] for key in ("name", "datatype", "shape", "data")} for tensor in got] == expected


def test_chain_with_tritonclient_http(mlserver, chain):
    expected = outputs(
        infer(mlserver.url, "classifier", {"inputs": infer(mlserver.url, "scale", REQUEST).json()["outputs"]})
    )
    command = [str(mlserver_bin() / "python"), str(_triton_call()), "http", f"127.0.0.1:{chain.http_port}", "scale"]
    reply = subprocess.run([*command, json.dumps(ROWS)], capture_output=True, text=True, timeout=120)
    assert reply.returncode == 0, reply.stderr
    assert json.loads(reply.stdout)["outputs"] == {tensor["name"]: tensor["data"] for tensor in expected}


def test_metadata_readiness_and_probes(mlserver, single):
    assert (
        requests.get(f"{single.url}/v2/models/classifier", timeout=10).json()
        == requests.get(f"{mlserver.url}/v2/models/classifier", timeout=10).json()
    )
    assert requests.get(f"{single.url}/v2/models/classifier/ready", timeout=10).status_code == 200
    assert requests.get(f"{single.url}/v2/health/ready", timeout=10).status_code == 200
    assert requests.get(f"{single.url}/v2/health/live", timeout=10).status_code == 200
    assert requests.get(f"{single.url}/v2", timeout=10).json()["name"] == "seldon-graph"


def test_missing_inputs_is_a_400_v2_error(single):
    response = infer(single.url, "classifier", {"id": "x"})
    assert response.status_code == 400
    assert "inputs" in response.json()["error"]


def test_an_invalid_puid_is_a_400_v2_error(single):
    response = infer(single.url, "classifier", REQUEST, headers={"Seldon-Puid": "p" * 300})
    assert response.status_code == 400
    assert "puid" in response.json()["error"]
    assert "Seldon-Puid" not in response.headers or len(response.headers["Seldon-Puid"]) < 300


def test_unknown_model_is_a_404_naming_it(single):
    response = infer(single.url, "nosuchmodel", REQUEST)
    assert response.status_code == 404
    assert "nosuchmodel" in response.json()["error"]


def test_wrong_datatype_is_the_units_error_naming_the_node(single):
    bad = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64", "data": ["a", "b", "c", "d"]}]}
    response = infer(single.url, "classifier", bad)
    assert 400 <= response.status_code < 600
    assert "classifier" in response.json()["error"]


def test_wrong_shape_names_the_node(single):
    """The unit's status and the protocol's `{"error": ...}` body naming the node; the failing node is also in
    the Seldon-Failed-Node header, as the seldon protocol names it."""
    bad = {"inputs": [{"name": "input-0", "shape": [1, 3], "datatype": "FP64", "data": [1.0, 2.0, 3.0]}]}
    response = infer(single.url, "classifier", bad)
    assert 400 <= response.status_code < 600
    assert "classifier" in response.json()["error"]
    assert response.headers["Seldon-Failed-Node"] == "classifier"
    assert "Seldon-Failed-Node" not in infer(single.url, "classifier", {"id": "x"}).headers  # the client's fault


def test_a_unit_answering_a_non_v2_body_is_an_error_naming_it(v2_unit, tmp_path):
    spec = predictor({"name": "notv2", "type": "MODEL", "endpoint": v2_unit})
    with engine_running(spec, tmp_path, "--protocol", "v2") as engine:
        response = infer(engine.url, "notv2", REQUEST)
    assert response.status_code == 500
    assert "notv2" in response.json()["error"]
    assert response.headers["Seldon-Failed-Node"] == "notv2"
    assert "outputs" in response.json()["error"]


def test_binary_tensors_pass_through_two_nodes(v2_unit, tmp_path):
    second = {"name": "doubler", "type": "MODEL", "endpoint": v2_unit}
    first = {"name": "doubler-first", "type": "TRANSFORMER", "endpoint": v2_unit, "children": [second]}
    values = [[1.5, -2.0], [3.25, 4.0]]
    raw = bytes(__import__("array").array("f", [v for row in values for v in row]))
    header = {
        "inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP32", "parameters": {"binary_data_size": len(raw)}}],
        "parameters": {"binary_data_output": True},
    }
    document = json.dumps(header).encode()
    headers = {"Inference-Header-Content-Length": str(len(document)), "Content-Type": "application/octet-stream"}
    with engine_running(predictor(first), tmp_path, "--protocol", "v2") as engine:
        response = requests.post(f"{engine.url}/v2/models/infer", data=document + raw, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    length = int(response.headers["Inference-Header-Content-Length"])
    reply = json.loads(response.content[:length])
    assert reply["outputs"][0]["name"] == "x_doubled_doubled"
    quadrupled = __import__("array").array("f", response.content[length:]).tolist()
    assert quadrupled == [4 * v for row in values for v in row]


def test_a_large_binary_tensor_passes_through_two_nodes_on_one_keep_alive_connection(v2_unit, tmp_path):
    """400 KB of tensor bytes: the engine forwards them as buffers (never joined to their JSON header), over and
    over on the same client and unit connections."""
    second = {"name": "doubler", "type": "MODEL", "endpoint": v2_unit}
    first = {"name": "doubler-first", "type": "TRANSFORMER", "endpoint": v2_unit, "children": [second]}
    tensor = np.arange(100_000, dtype=np.float32).reshape(1000, 100)
    header = {
        "inputs": [
            {"name": "x", "shape": [1000, 100], "datatype": "FP32", "parameters": {"binary_data_size": 400_000}}
        ],
        "parameters": {"binary_data_output": True},
    }
    document = json.dumps(header).encode()
    headers = {"Inference-Header-Content-Length": str(len(document)), "Content-Type": "application/octet-stream"}
    with engine_running(predictor(first), tmp_path, "--protocol", "v2") as engine, requests.Session() as session:
        for scale in (1, 3):
            body = document + (tensor * scale).tobytes()
            response = session.post(f"{engine.url}/v2/models/infer", data=body, headers=headers, timeout=10)
            assert response.status_code == 200, response.text
            length = int(response.headers["Inference-Header-Content-Length"])
            assert len(response.content) == int(response.headers["Content-Length"]) == length + 400_000
            assert json.loads(response.content[:length])["outputs"][0]["parameters"] == {"binary_data_size": 400_000}
            received = np.frombuffer(response.content[length:], dtype=np.float32).reshape(1000, 100)
            assert np.array_equal(received, tensor * scale * 4)


def _triton_call():
    from tests.support import triton_call

    return triton_call.__file__


# ---- over gRPC ---------------------------------------------------------------------------------------------


def grpc_call(engine, method: str, request, response_type):
    import grpc

    with grpc.insecure_channel(engine.grpc_target) as channel:
        call = channel.unary_unary(
            f"/inference.GRPCInferenceService/{method}",
            request_serializer=type(request).SerializeToString,
            response_deserializer=response_type.FromString,
        )
        return call.with_call(request, timeout=30)


def test_chain_over_grpc_with_tritonclient(mlserver, chain):
    scaled = infer(mlserver.url, "scale", REQUEST).json()
    expected = outputs(infer(mlserver.url, "classifier", {"inputs": scaled["outputs"]}))
    command = [str(mlserver_bin() / "python"), str(_triton_call()), "grpc", chain.grpc_target, "scale"]
    reply = subprocess.run([*command, json.dumps(ROWS)], capture_output=True, text=True, timeout=120)
    assert reply.returncode == 0, reply.stderr
    assert json.loads(reply.stdout)["outputs"] == {tensor["name"]: tensor["data"] for tensor in expected}


def test_grpc_single_model_carries_id_and_parameters_and_puid(mlserver, single):
    from seldon_graph.proto import inference_pb2 as pb

    request = pb.ModelInferRequest(model_name="classifier", id="grpc-1")
    request.parameters["note"].string_param = "kept"
    tensor = request.inputs.add(name="input-0", datatype="FP64", shape=[3, 4])
    tensor.contents.fp64_contents.extend(value for row in ROWS for value in row)
    reply, call = grpc_call(single, "ModelInfer", request, pb.ModelInferResponse)
    expected = outputs(infer(mlserver.url, "classifier", REQUEST))[0]
    assert reply.id == "grpc-1"
    assert list(reply.outputs[0].contents.int64_contents) == [value for value in expected["data"]]
    assert dict(call.initial_metadata())["seldon-puid"]


def test_grpc_unknown_model_is_not_found(single):
    import grpc

    from seldon_graph.proto import inference_pb2 as pb

    with pytest.raises(grpc.RpcError) as failure:
        grpc_call(single, "ModelInfer", pb.ModelInferRequest(model_name="nosuchmodel"), pb.ModelInferResponse)
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND
    assert "nosuchmodel" in failure.value.details()


def test_grpc_metadata_readiness_and_server_calls(single):
    from seldon_graph.proto import inference_pb2 as pb

    metadata, _ = grpc_call(
        single, "ModelMetadata", pb.ModelMetadataRequest(name="classifier"), pb.ModelMetadataResponse
    )
    assert metadata.name == "classifier"
    ready, _ = grpc_call(single, "ModelReady", pb.ModelReadyRequest(name="classifier"), pb.ModelReadyResponse)
    assert ready.ready
    assert grpc_call(single, "ServerLive", pb.ServerLiveRequest(), pb.ServerLiveResponse)[0].live
    assert grpc_call(single, "ServerReady", pb.ServerReadyRequest(), pb.ServerReadyResponse)[0].ready
    assert grpc_call(single, "ServerMetadata", pb.ServerMetadataRequest(), pb.ServerMetadataResponse)[0].name


def test_grpc_unit_error_names_the_node_in_the_trailer(single):
    import grpc

    from seldon_graph.proto import inference_pb2 as pb

    request = pb.ModelInferRequest(model_name="classifier")
    request.inputs.add(name="input-0", datatype="FP64", shape=[1, 3]).contents.fp64_contents.extend([1.0, 2.0, 3.0])
    with pytest.raises(grpc.RpcError) as failure:
        grpc_call(single, "ModelInfer", request, pb.ModelInferResponse)
    assert failure.value.code() != grpc.StatusCode.OK
    assert "classifier" in failure.value.details()
    assert ("seldon-failed-node", "classifier") in tuple(failure.value.trailing_metadata())


@pytest.mark.parametrize("kind", ["ROUTER", "COMBINER"])
def test_grpc_router_and_combiner_are_unimplemented_naming_the_node(mlserver, tmp_path, kind):
    """The V2 gRPC API has no route or aggregate call. Seldon's executor panicked there (`panic("implement me")`
    in KFServingGrpcClient.Route/Combine, executor/api/grpc/kfserving/client.go, with no recovery: the executor
    process died); the engine answers UNIMPLEMENTED naming the node and goes on serving."""
    import grpc

    from seldon_graph.proto import inference_pb2 as pb

    children = [{"name": name, "type": "MODEL", "endpoint": mlserver.endpoint()} for name in ("scale", "classifier")]
    spec = predictor({"name": "picker", "type": kind, "endpoint": mlserver.endpoint(), "children": children})
    request = pb.ModelInferRequest()
    request.inputs.add(name="input-0", datatype="FP64", shape=[1, 4]).contents.fp64_contents.extend(ROWS[0])
    step = "route" if kind == "ROUTER" else "aggregate"
    with engine_running(spec, tmp_path, "--protocol", "v2") as engine:
        for _ in range(2):  # the engine still serves after the refusal
            with pytest.raises(grpc.RpcError) as failure:
                grpc_call(engine, "ModelInfer", request, pb.ModelInferResponse)
            assert failure.value.code() == grpc.StatusCode.UNIMPLEMENTED
            assert failure.value.details() == f"Unit 'picker': the V2 gRPC API has no {step} call"
        assert grpc_call(engine, "ServerLive", pb.ServerLiveRequest(), pb.ServerLiveResponse)[0].live


def test_grpc_metadata_and_server_calls_are_counted(single):
    """Every gRPC call is in the server histogram under its full method, as the executor's interceptor counts
    them (executor/api/metric/server.go: `info.FullMethod`); REST `/v2/health/ready` is `service="status"`
    (executor/api/rest/server.go)."""
    from seldon_graph.proto import inference_pb2 as pb
    from tests.engine.metric_samples import counted

    calls = {
        "ModelMetadata": (pb.ModelMetadataRequest(name="classifier"), pb.ModelMetadataResponse),
        "ModelReady": (pb.ModelReadyRequest(name="classifier"), pb.ModelReadyResponse),
        "ServerLive": (pb.ServerLiveRequest(), pb.ServerLiveResponse),
        "ServerReady": (pb.ServerReadyRequest(), pb.ServerReadyResponse),
        "ServerMetadata": (pb.ServerMetadataRequest(), pb.ServerMetadataResponse),
    }
    services = {name: f"/inference.GRPCInferenceService/{name}" for name in calls}
    before = {name: counted(single, 0, service=service, code="OK") for name, service in services.items()}
    status_before = counted(single, 0, service="status", method="get", code="200")
    for name, (request, reply_type) in calls.items():
        grpc_call(single, name, request, reply_type)
    assert requests.get(f"{single.url}/v2/health/ready", timeout=10).status_code == 200
    for name, service in services.items():
        assert counted(single, before[name] + 1, service=service, method="unary", code="OK") == before[name] + 1
    assert counted(single, status_before + 1, service="status", method="get", code="200") == status_before + 1


# ---- metrics, puid and request logging ---------------------------------------------------------------------


def test_metrics_and_request_logging_speak_v2(v2_unit, tmp_path):
    from tests.engine.metric_samples import samples, value
    from tests.engine.test_observability import Sink

    sink = Sink()
    logged = {"name": "doubler", "type": "MODEL", "endpoint": v2_unit, "logger": {"url": sink.url, "mode": "all"}}
    body = {"id": "log-1", "inputs": [{"name": "x", "shape": [2], "datatype": "FP32", "data": [1.0, 2.0]}]}
    try:
        with engine_running(predictor(logged), tmp_path, "--protocol", "v2") as engine:
            response = infer(engine.url, "doubler", body, headers={"Seldon-Puid": "puid-v2"})
            assert response.status_code == 200, response.text
            events = sink.wait_for(2)
            found = samples(engine)
    finally:
        sink.close()
    kinds = {headers["ce-type"]: (headers, json.loads(payload)) for headers, payload in events}
    request_headers, request_body = kinds["io.seldon.serving.inference.request"]
    response_headers, response_body = kinds["io.seldon.serving.inference.response"]
    assert request_body["inputs"] == body["inputs"]
    assert response_body["outputs"][0]["data"] == [2.0, 4.0]
    for headers in (request_headers, response_headers):
        assert headers["ce-protocol"] == "v2"
        assert headers["ce-requestid"] == "puid-v2"
        assert headers["ce-modelid"] == "doubler"
        assert headers["content-type"] == "application/json"
    server = "seldon_api_executor_server_requests_seconds_count"
    assert value(found, server, service="predictions", code="200") == 1
    client = "seldon_api_executor_client_requests_seconds_count"
    assert value(found, client, service="/v2/models/doubler/infer", model_name="doubler", code="200") == 1


def test_v2_requests_are_traced_through_their_unit_calls(v2_unit, tmp_path):
    from tests.support.otlp import collector_running

    second = {"name": "doubler", "type": "MODEL", "endpoint": v2_unit}
    first = {"name": "doubler-first", "type": "TRANSFORMER", "endpoint": v2_unit, "children": [second]}
    client_trace, client_span = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    with collector_running() as collector:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.port}", "OTEL_BSP_SCHEDULE_DELAY": "50"}
        with engine_running(predictor(first), tmp_path, "--protocol", "v2", env=env) as engine:
            response = infer(
                engine.url,
                None,
                REQUEST,
                headers={"Seldon-Puid": "traced-v2", "traceparent": f"00-{client_trace}-{client_span}-01"},
            )
            assert response.status_code == 200, response.text
            request_span = collector.wait_for(1, seldon_puid="traced-v2")[0]
            calls = {
                s.attributes["seldon.node"]: s.attributes["seldon.method"]
                for s in collector.wait_for(3, seldon_transport="REST")
                if s.parent_id == request_span.span_id
            }
    assert request_span.trace_id == client_trace
    assert request_span.parent_id == client_span
    assert request_span.attributes["seldon.method"] == "infer"
    assert calls == {"doubler-first": "transform-input", "doubler": "predict"}
