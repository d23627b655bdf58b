"""The real SeldonClient (seldon-core 1.18.2, run in its own venv) against the engine, REST and gRPC, unchanged."""

import json
import subprocess

import pytest

from tests.engine.conftest import engine_running, node, predictor

pytestmark = pytest.mark.e2e

CLIENT_SCRIPT = """
import json, sys
import numpy as np
from seldon_core.seldon_client import SeldonClient

from google.protobuf import json_format
from seldon_core.proto import prediction_pb2


def as_proto(message):
    if isinstance(message, dict):
        return json_format.ParseDict(message, prediction_pb2.SeldonMessage())
    return message


transport, endpoint = sys.argv[1], sys.argv[2]
client = SeldonClient(gateway="seldon", transport=transport, gateway_endpoint=endpoint)
X = np.array([[1.0, 5.0]])
prediction = client.predict(data=X, payload_type="ndarray")
response = prediction.response
if not isinstance(response, dict):
    response = json_format.MessageToDict(response)
feedback = client.feedback(prediction_request=as_proto(prediction.request),
                           prediction_response=as_proto(prediction.response), reward=1.0)
print(json.dumps({"success": prediction.success, "msg": prediction.msg, "response": response,
                  "feedback_success": feedback.success, "feedback_msg": feedback.msg}))
"""


@pytest.fixture(scope="module")
def engine(units, tmp_path_factory):
    spec = predictor(
        node(
            "router",
            units["router"],
            "ROUTER",
            children=[node("doubler", units["doubler"]), node("tagger", units["tagger"], transport="GRPC")],
        )
    )
    with engine_running(spec, tmp_path_factory.mktemp("client")) as running:
        yield running


@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_seldon_client_predict_and_feedback(seldon_core, engine, units, transport, tmp_path):
    script = tmp_path / "client.py"
    script.write_text(CLIENT_SCRIPT)
    endpoint = f"127.0.0.1:{engine.http_port if transport == 'rest' else engine.grpc_port}"
    before = len(units["tagger"].feedback())
    done = subprocess.run(
        [str(seldon_core / "python"), str(script), transport, endpoint], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["success"], result["msg"]
    assert result["response"]["data"]["ndarray"] == [[101.0, 105.0]]
    assert result["response"]["meta"]["routing"] == {"router": 1}
    assert result["feedback_success"], result["feedback_msg"]
    assert len(units["tagger"].feedback()) == before + 1
