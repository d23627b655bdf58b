"""The engine speaking TensorFlow Serving's predict API over REST and gRPC, with a TF-Serving-compatible unit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
import requests

from seldon_graph.proto import tensorflow_serving_pb2 as pb
from tests.engine.conftest import engine_running, predictor
from tests.engine.metric_samples import counted
from tests.engine.tf_unit import REFUSAL
from tests.support.procs import free_port, start, stop, wait_port

pytestmark = pytest.mark.e2e

TF_UNIT = Path(__file__).parent / "tf_unit.py"
INSTANCES = {"instances": [[1.0, 2.0], [3.0, 4.5]]}
PREDICT = "/tensorflow.serving.PredictionService/Predict"


@pytest.fixture(scope="module")
def tf_unit(tmp_path_factory):
    http_port, grpc_port = free_port(), free_port()
    proc = start(
        [sys.executable, str(TF_UNIT), str(http_port), str(grpc_port)], tmp_path_factory.mktemp("tf") / "unit.log"
    )
    try:
        wait_port(http_port, proc=proc)
        wait_port(grpc_port, proc=proc)
        yield {"service_host": "127.0.0.1", "type": "REST", "httpPort": http_port, "grpcPort": grpc_port}
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def chain(tf_unit, tmp_path_factory):
    second = {"name": "second", "type": "MODEL", "endpoint": tf_unit}
    spec = predictor({"name": "first", "type": "TRANSFORMER", "endpoint": tf_unit, "children": [second]})
    with engine_running(spec, tmp_path_factory.mktemp("tfchain"), "--protocol", "tensorflow") as engine:
        yield engine


@pytest.mark.parametrize(
    "path", ["/v1/models/first:predict", "/v1/models/first/:predict", "/v1/models:predict", "/v1/models/:predict"]
)
def test_rest_chain_renames_predictions_to_instances(chain, path):
    response = requests.post(chain.url + path, json=INSTANCES, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": [[4.0, 8.0], [12.0, 18.0]]}
    assert response.headers["Seldon-Puid"]


def test_rest_single_node_equals_the_unit(tf_unit, tmp_path):
    spec = predictor({"name": "only", "type": "MODEL", "endpoint": tf_unit})
    direct = requests.post(f"http://127.0.0.1:{tf_unit['httpPort']}/v1/models/only:predict", json=INSTANCES, timeout=10)
    with engine_running(spec, tmp_path, "--protocol", "tensorflow") as engine:
        through = requests.post(f"{engine.url}/v1/models/only:predict", json=INSTANCES, timeout=10)
    assert through.json() == direct.json()


def test_rest_status_metadata_and_feedback(chain):
    assert (
        requests.get(f"{chain.url}/v1/models/second", timeout=10).json()["model_version_status"][0]["state"]
        == "AVAILABLE"
    )
    assert requests.get(f"{chain.url}/v1/models/first/metadata", timeout=10).json()["model_spec"]["name"] == "first"
    feedback = {"request": INSTANCES, "reward": 1.0}
    assert requests.post(f"{chain.url}/api/v1.0/feedback", json=feedback, timeout=10).json() == feedback


def test_rest_bad_input_and_unknown_model(chain):
    missing = requests.post(f"{chain.url}/v1/models/first:predict", json={"rows": []}, timeout=10)
    assert missing.status_code == 400
    assert "instances" in missing.json()["error"]
    unknown = requests.post(f"{chain.url}/v1/models/nosuch:predict", json=INSTANCES, timeout=10)
    assert unknown.status_code == 404
    assert "nosuch" in unknown.json()["error"]


def test_rest_unit_without_predictions_is_an_error_naming_it(tf_unit, tmp_path):
    spec = predictor({"name": "broken", "type": "MODEL", "endpoint": tf_unit})
    with engine_running(spec, tmp_path, "--protocol", "tensorflow") as engine:
        response = requests.post(f"{engine.url}/v1/models/broken:predict", json=INSTANCES, timeout=10)
    assert response.status_code == 500
    assert "broken" in response.json()["error"]


def predict_over_grpc(engine, request: pb.PredictRequest) -> pb.PredictResponse:
    with grpc.insecure_channel(engine.grpc_target) as channel:
        call = channel.unary_unary(
            "/tensorflow.serving.PredictionService/Predict",
            request_serializer=pb.PredictRequest.SerializeToString,
            response_deserializer=pb.PredictResponse.FromString,
        )
        return call(request, timeout=10)


def test_grpc_chain_renumbers_outputs_into_inputs(chain):
    request = pb.PredictRequest(model_spec=pb.ModelSpec(name="first"))
    tensor = request.inputs["x"]
    tensor.dtype = 1
    tensor.tensor_shape.dim.add(size=3)
    tensor.float_val.extend([1.0, 2.5, -3.0])
    reply = predict_over_grpc(chain, request)
    assert list(reply.outputs) == ["x_doubled_doubled"]
    assert list(reply.outputs["x_doubled_doubled"].float_val) == [4.0, 10.0, -12.0]
    assert reply.model_spec.name == "second"


def test_grpc_unknown_model_and_metadata(chain):
    with pytest.raises(grpc.RpcError) as failure:
        predict_over_grpc(chain, pb.PredictRequest(model_spec=pb.ModelSpec(name="nosuch")))
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND
    with grpc.insecure_channel(chain.grpc_target) as channel:
        call = channel.unary_unary(
            "/tensorflow.serving.PredictionService/GetModelMetadata",
            request_serializer=pb.GetModelMetadataRequest.SerializeToString,
            response_deserializer=pb.GetModelMetadataResponse.FromString,
        )
        reply = call(pb.GetModelMetadataRequest(model_spec=pb.ModelSpec(name="second")), timeout=10)
    assert reply.model_spec.name == "second"


# ---- errors naming the node, refused router/combiner calls, metrics of every gRPC call -------------------------


@pytest.fixture(scope="module")
def refusing(tf_unit, tmp_path_factory):
    spec = predictor({"name": "refusing", "type": "MODEL", "endpoint": tf_unit})
    with engine_running(spec, tmp_path_factory.mktemp("tfrefusing"), "--protocol", "tensorflow") as engine:
        yield engine


def test_rest_unit_error_names_the_node_in_the_header(refusing):
    """A unit's error keeps its status and the protocol's `{"error": ...}` body; the failing node is in the
    Seldon-Failed-Node header, as the seldon protocol names it."""
    response = requests.post(f"{refusing.url}/v1/models/refusing:predict", json=INSTANCES, timeout=10)
    assert response.status_code == 422
    assert REFUSAL in response.json()["error"] and "refusing" in response.json()["error"]
    assert response.headers["Seldon-Failed-Node"] == "refusing"
    assert response.headers["Seldon-Puid"]
    bad = requests.post(f"{refusing.url}/v1/models/:predict", json={"rows": []}, timeout=10)
    assert bad.status_code == 400 and "Seldon-Failed-Node" not in bad.headers  # the client's fault, not a node's


def test_grpc_unit_error_names_the_node_in_the_trailer(refusing):
    with pytest.raises(grpc.RpcError) as failure:
        predict_over_grpc(refusing, pb.PredictRequest(model_spec=pb.ModelSpec(name="refusing")))
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert REFUSAL in failure.value.details() and "refusing" in failure.value.details()
    assert ("seldon-failed-node", "refusing") in tuple(failure.value.trailing_metadata())


def test_grpc_predict_answers_the_puid(chain):
    with grpc.insecure_channel(chain.grpc_target) as channel:
        call = channel.unary_unary(
            "/tensorflow.serving.PredictionService/Predict",
            request_serializer=pb.PredictRequest.SerializeToString,
            response_deserializer=pb.PredictResponse.FromString,
        )
        request = pb.PredictRequest(model_spec=pb.ModelSpec(name="first"))
        request.inputs["x"].float_val.append(1.0)
        _, answered = call.with_call(request, metadata=(("seldon-puid", "tf-puid"),), timeout=10)
    assert dict(answered.initial_metadata())["seldon-puid"] == "tf-puid"


@pytest.mark.parametrize("kind", ["ROUTER", "COMBINER"])
def test_grpc_router_and_combiner_are_unimplemented_naming_the_node(tf_unit, tmp_path, kind):
    """TensorFlow Serving's gRPC API has no route or aggregate call. Seldon's executor panicked there
    (`panic("Not implemented")` in TensorflowGrpcClient.Route/Combine, executor/api/grpc/tensorflow/client.go,
    with no recovery: the executor process died); the engine answers UNIMPLEMENTED naming the node and goes on."""
    children = [{"name": name, "type": "MODEL", "endpoint": tf_unit} for name in ("left", "right")]
    spec = predictor({"name": "picker", "type": kind, "endpoint": tf_unit, "children": children})
    request = pb.PredictRequest(model_spec=pb.ModelSpec(name="picker"))
    request.inputs["x"].float_val.append(1.0)
    with engine_running(spec, tmp_path, "--protocol", "tensorflow") as engine:
        for _ in range(2):  # the engine still serves after the refusal
            with pytest.raises(grpc.RpcError) as failure:
                predict_over_grpc(engine, request)
            assert failure.value.code() == grpc.StatusCode.UNIMPLEMENTED
            step = "route" if kind == "ROUTER" else "aggregate"
            assert failure.value.details() == f"Unit 'picker': the TensorFlow gRPC API has no {step} call"
        assert counted(engine, 2, service=PREDICT, code="Unimplemented") == 2


def test_grpc_metadata_calls_are_counted(chain):
    """Every gRPC call is in the server histogram under its full method, as the executor's interceptor counts
    them (executor/api/metric/server.go: `info.FullMethod`)."""
    method = "/tensorflow.serving.PredictionService/GetModelMetadata"
    before = counted(chain, 0, service=method, code="OK")
    missing = counted(chain, 0, service=method, code="NotFound")
    with grpc.insecure_channel(chain.grpc_target) as channel:
        call = channel.unary_unary(
            method,
            request_serializer=pb.GetModelMetadataRequest.SerializeToString,
            response_deserializer=pb.GetModelMetadataResponse.FromString,
        )
        call(pb.GetModelMetadataRequest(model_spec=pb.ModelSpec(name="second")), timeout=10)
        with pytest.raises(grpc.RpcError) as failure:
            call(pb.GetModelMetadataRequest(model_spec=pb.ModelSpec(name="nosuch")), timeout=10)
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND
    assert counted(chain, before + 1, service=method, code="OK", method="unary") == before + 1
    assert counted(chain, missing + 1, service=method, code="NotFound") == missing + 1


# ---- the real SeldonClient (seldon-core 1.18.2) ------------------------------------------------------------------

SELDON_CLIENT = """
import json, sys
import numpy as np
from seldon_core.proto import prediction_pb2
from seldon_core.seldon_client import SeldonClient


def shown(response):
    return response if response is None or isinstance(response, dict) else type(response).__name__


gateway, endpoint, return_type = sys.argv[1:4]
client = SeldonClient(gateway=gateway, transport="rest", gateway_endpoint=endpoint, namespace="seldon",
                      deployment_name="tf-chain", payload_type="ndarray", client_return_type=return_type)
found = {}
X = np.array([[1.0, 2.0]])
predicted = client.predict(data=X)
found["predict"] = [predicted.success, predicted.msg]
if gateway != "seldon":
    by_path = client.predict(data=X, http_path="/v1/models/first:predict")
    found["http_path"] = [by_path.success, by_path.msg, shown(by_path.response)]
feedback = client.feedback(prediction_request=predicted.request, prediction_response=prediction_pb2.SeldonMessage(),
                           reward=1.0)
found["feedback"] = [feedback.success, feedback.msg, shown(feedback.response)]
try:
    client.predict(data=X, payload_type="tftensor")
    found["tftensor"] = "sent"
except NameError as exc:
    found["tftensor"] = str(exc)
print(json.dumps(found))
"""


def seldon_client_calls(seldon_core, workdir: Path, gateway: str, endpoint: str, return_type: str) -> dict:
    """What the real SeldonClient's REST calls (predict, predict with `http_path`, feedback, a `tftensor`
    predict) report against a TensorFlow-protocol graph, run in seldon-core 1.18.2's venv."""
    script = workdir / "seldon_client_tf.py"
    script.write_text(SELDON_CLIENT)
    command = [str(seldon_core / "python"), str(script), gateway, endpoint, return_type]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("return_type", ["dict", "proto"])
def test_seldon_client_against_a_tensorflow_graph(seldon_core, chain, tmp_path, return_type):
    """SeldonClient 1.18.2 has no TensorFlow-protocol predict: every predict sends a SeldonMessage to
    `/api/v1.0/predictions`, which a `tensorflow` graph does not serve (neither did the executor:
    executor/api/rest/server.go registers only `/v1/models/...` and `/api/v1.0/feedback` for it), so it reports
    404. Its feedback reaches `/api/v1.0/feedback`, which is served (echoed). `payload_type="tftensor"` needs
    TensorFlow in the client (`tf.make_tensor_proto`), which is not installed here."""
    found = seldon_client_calls(seldon_core, tmp_path, "seldon", f"127.0.0.1:{chain.http_port}", return_type)
    assert found["predict"] == [False, "404:Not Found"]
    success, msg, response = found["feedback"]
    assert success and msg == ""
    if return_type == "dict":
        assert response["reward"] == 1.0
    assert "tf" in found["tftensor"]
