"""The user-class contract beyond the basic methods: *_raw methods, signatures without names or meta,
SeldonResponse runtime tags and metrics, feedback routing by PREDICTIVE_UNIT_ID."""

import grpc
import pytest
import requests
from google.protobuf import json_format

from seldon_graph.proto import prediction_pb2 as pb
from seldon_graph.proto import prediction_pb2_grpc as pbg
from tests.wrappers.conftest import _unit_fixture

pytestmark = pytest.mark.e2e

raw_model = _unit_fixture("RawModel")
feature_model = _unit_fixture("FeatureModel", env={"PREDICTIVE_UNIT_ID": "feat"})


def test_predict_raw_gets_the_request_as_sent(raw_model):
    body = {"data": {"ndarray": [[1, 2]]}, "meta": {"puid": "p"}}
    response = requests.post(raw_model.url("/predict"), json=body)
    assert response.status_code == 200
    assert response.json() == {
        "jsonData": {"got": body, "transport": "rest"},
        "meta": {"metrics": [{"key": "raw_calls", "type": "COUNTER", "value": 1}]},
    }
    with grpc.insecure_channel(raw_model.grpc_target) as channel:
        out = pbg.ModelStub(channel).Predict(json_format.ParseDict(body, pb.SeldonMessage()))
    assert json_format.MessageToDict(out.jsonData) == {
        "got": {"data": {"ndarray": [[1.0, 2.0]]}, "meta": {"puid": "p"}},
        "transport": "grpc",
    }


def test_raw_health_and_raw_status_code(raw_model):
    assert requests.get(raw_model.url("/health/status")).json() == {"strData": "raw-healthy"}
    route = requests.post(raw_model.url("/route"), json={"data": {"ndarray": [[1]]}})
    assert route.status_code == 200 and route.json()["data"] == {"ndarray": [[-1]]}


def test_signatures_runtime_tags_and_metrics(feature_model):
    body = {"meta": {"tags": {"a": 1}}, "data": {"names": ["x", "y"], "ndarray": [[5, 6]]}}
    predicted = requests.post(feature_model.url("/predict"), json=body).json()
    assert predicted["data"]["ndarray"] == [[2, 1]]  # two names, meta with one key
    assert predicted["meta"]["tags"] == {"a": 1, "runtime": "yes"}
    assert predicted["meta"]["requestPath"] == {"feat": "NOT_IMPLEMENTED:NOT_IMPLEMENTED"}
    assert [m["key"] for m in predicted["meta"]["metrics"]] == ["rt_gauge", "rt_timer"]
    transformed = requests.post(feature_model.url("/transform-input"), json={"data": {"ndarray": [[5]]}}).json()
    assert transformed["data"]["ndarray"] == [[4]]
    kwargs = requests.post(feature_model.url("/transform-output"), json={"data": {"ndarray": [[5]]}}).json()
    assert kwargs["data"]["ndarray"] == [[["meta"]]]
    routed = requests.post(feature_model.url("/route"), json={"data": {"ndarray": [[5]]}}).json()
    assert routed["data"]["ndarray"] == [[2]]


@pytest.mark.parametrize("routing, expected", [({"feat": 1}, 1), ({"other": 1}, -9)])
def test_feedback_routing_is_looked_up_by_unit_id(feature_model, routing, expected):
    body = {
        "request": {"data": {"ndarray": [[1]]}},
        "response": {"meta": {"routing": routing}},
        "reward": 1,
        "truth": {"data": {"ndarray": [[9]]}},
    }
    response = requests.post(feature_model.url("/send-feedback"), json=body)
    assert response.status_code == 200
    assert response.json()["data"]["ndarray"] == [[expected]]
    assert response.json()["meta"]["requestPath"] == {"feat": "NOT_IMPLEMENTED:NOT_IMPLEMENTED"}


def test_model_metadata_env_overrides_and_invalid_metadata_is_500(tmp_path):
    from tests.wrappers.conftest import running_unit

    env = {"MODEL_METADATA": "name: from-env\nplatform: yaml\ncustom:\n  team: a\n", "PREDICTIVE_UNIT_IMAGE": "img:2.0"}
    with running_unit(tmp_path, "MetaModel", env=env, grpc=False) as unit:
        metadata = requests.get(unit.url("/metadata")).json()
    assert (metadata["name"], metadata["platform"], metadata["versions"], metadata["custom"]) == (
        "from-env",
        "yaml",
        ["v1"],
        {"team": "a"},
    )
    with running_unit(
        tmp_path,
        "Model",
        env={"MODEL_METADATA": '{"inputs": [{"messagetype": "tensor", "bad": 1}]}', "PREDICTIVE_UNIT_IMAGE": "img:2.0"},
        grpc=False,
    ) as unit:
        response = requests.get(unit.url("/metadata"))
        assert (response.status_code, response.json()["status"]["info"]) == (500, "Model metadata unavailable")
    with running_unit(tmp_path, "Model", env={"PREDICTIVE_UNIT_IMAGE": "reg:5000/img:2.0"}, grpc=False) as unit:
        metadata = requests.get(unit.url("/metadata")).json()
    assert (metadata["name"], metadata["versions"]) == ("reg:5000/img", ["2.0"])


def test_metrics_can_be_left_out_of_responses(tmp_path):
    from tests.wrappers.conftest import running_unit

    with running_unit(tmp_path, "MetaModel", env={"INCLUDE_METRICS_IN_CLIENT_RESPONSE": "false"}, grpc=False) as unit:
        body = requests.post(unit.url("/predict"), json={"data": {"ndarray": [[1, 2]]}}).json()
        assert body["meta"] == {"tags": {"mytag": "v1"}}
        assert "mycounter_total{" in requests.get(unit.metrics_url).text


def test_seldon_component_style_base_class(tmp_path):
    from tests.wrappers.conftest import running_unit

    with running_unit(tmp_path, "ComponentModel", grpc=False) as unit:
        predicted = requests.post(unit.url("/predict"), json={"data": {"ndarray": [[1, 2]]}}).json()
        assert predicted == {"data": {"names": ["t:0", "t:1"], "ndarray": [[3, 6]]}, "meta": {}}
        echoed = requests.post(unit.url("/transform-input"), json={"data": {"ndarray": [[1]]}}).json()
        assert echoed["data"]["ndarray"] == [[1]]
        health = requests.get(unit.url("/health/status")).json()
        assert health == {"meta": {}, "strData": "not implemented - assuming healthy"}
        assert requests.get(unit.url("/metadata")).json()["name"] == ""


def test_seldon_core_imports_work_without_seldon_core_installed(tmp_path):
    from tests.wrappers.conftest import running_unit

    with running_unit(tmp_path, "CoreStyleModel", grpc=False) as unit:
        ok = requests.post(unit.url("/predict"), json={"data": {"ndarray": [[1, 2]]}}).json()
        assert ok["data"]["ndarray"] == [[2, 3]] and ok["meta"]["tags"] == {"style": "core"}
        assert [m["key"] for m in ok["meta"]["metrics"]] == ["calls", "t"]
        failed = requests.post(unit.url("/predict"), json={"data": {"ndarray": [[-1]]}})
        assert failed.status_code == 422 and failed.json()["status"]["reason"] == "NEGATIVE"
        assert requests.post(unit.url("/route"), json={"data": {"ndarray": [[1]]}}).json() == {"strData": "raw-route"}
        health = requests.get(unit.url("/health/status")).json()
        assert health["strData"] == "not implemented - assuming healthy"
