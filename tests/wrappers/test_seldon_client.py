"""The real SeldonClient (seldon-core 1.18.2, in its own venv) talking to our wrapper, REST and gRPC, unchanged."""

import json
import subprocess

import pytest

from tests.wrappers.conftest import running_unit

pytestmark = pytest.mark.e2e

CLIENT_SCRIPT = r"""
import json, sys
import numpy as np
from google.protobuf import json_format
from seldon_core.proto.prediction_pb2 import SeldonMessage
from seldon_core.seldon_client import SeldonClient

rest, grpc = sys.argv[1], sys.argv[2]
X = np.array([[1.0, 2.0]])
out = {}
for transport, endpoint in (("rest", rest), ("grpc", grpc)):
    sc = SeldonClient(microservice_endpoint=endpoint, transport=transport)
    for method in ("predict", "transform-input", "transform-output"):
        r = sc.microservice(method=method, data=X, payload_type="ndarray")
        out[f"{transport} {method}"] = [r.success, json_format.MessageToDict(r.response) if r.success else r.msg]
    r = sc.microservice(method="aggregate", datas=[X, X * 2], payload_type="ndarray")
    out[f"{transport} aggregate"] = [r.success, r.msg]
    r = sc.microservice_feedback(prediction_request=SeldonMessage(strData="a"),
                                 prediction_response=SeldonMessage(strData="b"), reward=1.0)
    out[f"{transport} feedback"] = [r.success, json_format.MessageToDict(r.response) if r.success else r.msg]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def client_answers(seldon_core, tmp_path_factory):
    with running_unit(tmp_path_factory.mktemp("client"), "Model") as unit:
        result = subprocess.run(
            [str(seldon_core / "python"), "-c", CLIENT_SCRIPT, f"127.0.0.1:{unit.http_port}", unit.grpc_target],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_seldon_client_microservice_calls(client_answers, transport):
    expected_predict = {"meta": {}, "data": {"names": ["t:0", "t:1"], "ndarray": [[2.0, 4.0]]}}
    assert client_answers[f"{transport} predict"] == [True, expected_predict]
    echoed = {"meta": {}, "data": {"names": ["t:0", "t:1"], "ndarray": [[1.0, 2.0]]}}
    assert client_answers[f"{transport} transform-input"] == [True, echoed]
    assert client_answers[f"{transport} transform-output"] == [True, echoed]
    assert client_answers[f"{transport} feedback"][0] is True
    success, message = client_answers[f"{transport} aggregate"]
    assert success is False  # the model has no aggregate(); REST clients see the reason phrase only
    assert message == "Bad Request" if transport == "rest" else "Aggregate not defined" in message
