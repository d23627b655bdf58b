"""Behaviours that Seldon's own wrapper test suite (SeldonIO/seldon-core python/tests, v1.17.1) expects, checked
over HTTP and gRPC against our running wrapper. Each test names the Seldon file that defines the behaviour."""

import base64
import contextlib
import importlib
import json
import sys

import grpc
import numpy as np
import pytest
import requests

from seldon_graph.proto import prediction_pb2 as pb
from seldon_graph.proto import prediction_pb2_grpc as pbg
from seldon_graph.wrappers import compat
from tests.wrappers.conftest import _unit_fixture, running_unit

pytestmark = pytest.mark.e2e

raw_file_model = _unit_fixture("RawFileModel")
legacy_model = _unit_fixture("LegacyModel")
error_handler_model = _unit_fixture("ErrorHandlerModel")
status_code_model = _unit_fixture("StatusCodeModel")

TEXT = "this is test file for testing multipart/form-data input\n"
PNG_LIKE = bytes(range(256))


def test_multipart_fields_reach_predict(model):
    """`-F data={...}` and `-F strData=...` are SeldonMessage keys (JSON, strData as text)
    (python/seldon_core/flask_utils.py get_multi_form_data_request; python/tests/test_model_microservice.py
    test_model_multi_form_data_ok)."""
    data = requests.post(model.url("/predict"), files={"data": (None, '{"names":["a","b"],"ndarray":[[1,2]]}')})
    assert (data.status_code, data.json()) == (
        200,
        {"data": {"names": ["t:0", "t:1"], "ndarray": [[2, 4]]}, "meta": {}},
    )
    text = requests.post(model.url("/predict"), files={"strData": (None, "hello"), "meta": (None, '{"puid":"p1"}')})
    assert (text.status_code, text.json()) == (200, {"meta": {"puid": "p1"}, "strData": "hellohello"})


def test_multipart_files_reach_predict(model):
    """A `binData` file part is the payload's bytes, any other file part (strData) its text
    (python/seldon_core/flask_utils.py get_multi_form_data_request)."""
    binary = requests.post(model.url("/predict"), files={"binData": ("img.png", PNG_LIKE)})
    assert binary.status_code == 200
    assert base64.b64decode(binary.json()["binData"]) == PNG_LIKE * 2
    text = requests.post(model.url("/predict"), files={"strData": ("test.txt", TEXT.encode())})
    assert (text.status_code, text.json()["strData"]) == (200, TEXT * 2)


@pytest.mark.parametrize(
    "files, expected",
    [
        ({"binData": ("test.txt", TEXT.encode())}, ["binData", TEXT, len(TEXT)]),
        ({"binData": ("test.png", PNG_LIKE)}, ["binData", PNG_LIKE.decode("utf-8", errors="replace"), 256]),
        ({"strData": ("test.txt", TEXT.encode())}, ["strData", TEXT, len(TEXT)]),
    ],
)
def test_multipart_files_reach_predict_raw(raw_file_model, files, expected):
    """predict_raw gets the form as a SeldonMessage dict that seldon_core.utils.json_to_seldon_message reads
    (python/tests/test_model_microservice.py test_model_lowlevel_multi_form_data_{text_file,img_file,strData}_ok)."""
    response = requests.post(raw_file_model.url("/predict"), files={"meta": (None, '{"puid":"1234"}'), **files})
    assert response.status_code == 200
    assert response.json() == {"meta": {"puid": "1234"}, "data": {"ndarray": expected}}


def test_multipart_mistakes_are_400(model):
    """A field that is not JSON is a client mistake: 400 with a Seldon status (seldon-core answers 500 here;
    docs/compatibility.md)."""
    response = requests.post(model.url("/predict"), files={"data": (None, "{not json")})
    assert response.status_code == 400
    assert "field 'data' is not JSON" in response.json()["status"]["info"]
    cut = requests.post(
        model.url("/predict"), data=b"no parts here", headers={"Content-Type": "multipart/form-data; boundary=xyz"}
    )
    assert cut.status_code == 400 and cut.json()["status"]["reason"] == "MICROSERVICE_BAD_DATA"


def test_combiner_takes_a_bare_array_in_the_json_field(combiner):
    """A combiner reads a bare JSON array of messages from the `json=` query or form field as from the body
    (python/seldon_core/seldon_methods.py aggregate accepts a list; python/tests/test_combiner_microservice.py
    sends `/aggregate?json=[...]`)."""
    messages = json.dumps([{"data": {"ndarray": [[1, 2]]}}, {"data": {"ndarray": [[3, 4]]}}])
    expected = {"data": {"names": ["t:0", "t:1"], "ndarray": [[2.0, 3.0]]}, "meta": {}}
    by_query = requests.get(combiner.url("/aggregate"), params={"json": messages})
    by_form = requests.post(combiner.url("/aggregate"), data={"json": messages})
    assert (by_query.status_code, by_query.json()) == (200, expected)
    assert (by_form.status_code, by_form.json()) == (200, expected)


def test_model_error_handler_decides_status_and_body(error_handler_model):
    """The class's `model_error_handler` blueprint answers the exceptions it registered
    (python/seldon_core/wrapper.py registers the blueprint; python/tests/test_application_exception_microservice.py
    test_raise_exception expects 402 and app_code 1402)."""
    response = requests.get(error_handler_model.url("/predict"), params={"json": '{"data":{"ndarray":[[1,2]]}}'})
    assert response.status_code == 402
    assert response.json() == {"status": {"status": 402, "message": "Test-Error-Msg", "app_code": 1402}}
    text = requests.post(error_handler_model.url("/transform-input"), json={"data": {"ndarray": [[1]]}})
    assert (text.status_code, text.text, text.headers["X-Handled"]) == (409, "plain: as text", "yes")
    unhandled = requests.post(error_handler_model.url("/route"), json={"data": {"ndarray": [[1]]}})
    assert unhandled.status_code == 500
    assert unhandled.json()["status"]["reason"] == "MICROSERVICE_INTERNAL_ERROR"


def test_other_exceptions_are_500_even_with_a_status_code(status_code_model):
    """Only SeldonMicroserviceException chooses its status; every other exception goes to the generic handler
    (python/seldon_core/wrapper.py handle_generic_exception)."""
    response = requests.post(status_code_model.url("/predict"), json={"data": {"ndarray": [[1]]}})
    assert response.status_code == 500
    assert response.json() == {
        "status": {"code": -1, "info": "pay first", "reason": "MICROSERVICE_INTERNAL_ERROR", "status": 1}
    }


@pytest.mark.parametrize(
    "body", [{"data": {"ndarray": 5}}, {"jsonData": 5}, {"data": {"tensor": {"shape": [], "values": [5]}}}]
)
def test_unknown_data_type_results_are_400(model, body):
    """A result that is not an array, list, dict, str or bytes is seldon-core's 400 "Unknown data type returned as
    payload" (python/seldon_core/utils.py construct_response_json)."""
    response = requests.post(model.url("/predict"), json=body)
    assert response.status_code == 400
    assert response.json()["status"] == {
        "code": -1,
        "info": "Unknown data type returned as payload (must be list or np array):10",
        "reason": "MICROSERVICE_BAD_DATA",
        "status": 1,
    }


def test_deprecated_rest_and_grpc_methods(tmp_path):
    """`predict_rest` answers REST and `predict_grpc` answers gRPC verbatim, feedback goes to
    `send_feedback_rest` as JSON text, and each is logged as deprecated (python/seldon_core/seldon_methods.py;
    python/tests/test_model_microservice.py test_model_lowlevel_ok)."""
    with running_unit(tmp_path, "LegacyModel") as unit:
        rest = requests.get(unit.url("/predict"), params={"json": '{"data":{"ndarray":[1,2]}}'})
        assert (rest.status_code, rest.json()) == (
            200,
            {"data": {"ndarray": [9, 9]}, "meta": {"tags": {"got": ["data"]}}},
        )
        with grpc.insecure_channel(unit.grpc_target) as channel:
            proto = pbg.ModelStub(channel).Predict(pb.SeldonMessage(strData="x"))
        assert (list(proto.data.tensor.shape), list(proto.data.tensor.values)) == ([2, 1], [9.0, 9.0])
        transformed = requests.post(unit.url("/transform-input"), json={"data": {"ndarray": [[1]]}})
        assert transformed.json() == {"strData": "legacy transform"}
        feedback = requests.post(unit.url("/send-feedback"), json={"request": {"strData": "a"}, "reward": 1.0})
        assert feedback.json() == {"jsonData": {"rewards": [1.0]}}
    log = next(tmp_path.glob("LegacyModel-*.log")).read_text()
    for name in ("predict_rest", "predict_grpc", "transform_input_rest", "send_feedback_rest"):
        assert f"{name} is deprecated. Please use {name.rsplit('_', 1)[0]}_raw" in log


def test_seldon_json_is_served(model):
    """GET /seldon.json answers an OpenAPI document (python/seldon_core/wrapper.py openAPI;
    python/tests/test_model_microservice.py test_model_seldon_json_ok)."""
    response = requests.get(model.url("/seldon.json"))
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert "post" in document["paths"]["/api/v1.0/predictions"]


@contextlib.contextmanager
def stand_in_seldon_core():
    """Import the stand-in seldon_core package as the CLI does for user classes, then forget it again."""
    sys.path.append(compat.PATH)
    try:
        yield importlib.import_module
    finally:
        sys.path.remove(compat.PATH)
        for name in [n for n in sys.modules if n == "seldon_core" or n.startswith("seldon_core.")]:
            del sys.modules[name]


@pytest.mark.parametrize("create", ["create_counter", "create_gauge", "create_timer"])
def test_stand_in_metric_helpers(create):
    """create_counter/gauge/timer build the metric dict and raise TypeError for a non-number
    (python/tests/test_metrics.py test_create_*_invalid_value)."""
    with stand_in_seldon_core() as import_module:
        helper = getattr(import_module("seldon_core.metrics"), create)
        assert helper("k", 1) == {"key": "k", "type": create.removeprefix("create_").upper(), "value": 1}
        with pytest.raises(TypeError):
            helper("k", "invalid")


def test_stand_in_utils_helpers():
    """The seldon_core.utils conversions models call (python/seldon_core/utils.py; python/tests/test_utils.py)."""
    with stand_in_seldon_core() as import_module:
        utils = import_module("seldon_core.utils")
        flask_utils = import_module("seldon_core.flask_utils")
        message = utils.json_to_seldon_message({"data": {"names": ["a"], "tensor": {"shape": [1, 1], "values": [3]}}})
        assert utils.seldon_message_to_json(message) == {
            "data": {"names": ["a"], "tensor": {"shape": [1, 1], "values": [3.0]}}
        }
        assert utils.get_data_from_proto(message).tolist() == [[3.0]]
        assert utils.json_to_seldon_message(None) == utils.json_to_seldon_message({})
        with pytest.raises(flask_utils.SeldonMicroserviceException, match="Invalid JSON"):
            utils.json_to_seldon_message({"data": {"tensor": {"values": "x"}}})
        feedback = utils.json_to_feedback({"request": {"strData": "a"}, "reward": 2})
        assert utils.feedback_to_json(feedback) == {"request": {"strData": "a"}, "reward": 2.0}
        array = np.array([[1.0, 2.0]])
        assert utils.array_to_rest_datadef("tensor", array, ["x", "y"]) == {
            "names": ["x", "y"],
            "tensor": {"shape": [1, 2], "values": [1.0, 2.0]},
        }
        assert utils.grpc_datadef_to_array(utils.array_to_grpc_datadef("ndarray", array)).tolist() == [[1.0, 2.0]]
        assert utils.getenv("SELDON_GRAPH_UNSET_A", "HOME") is not None
        assert utils.getenv_as_bool("SELDON_GRAPH_UNSET_A", default=True) is True
