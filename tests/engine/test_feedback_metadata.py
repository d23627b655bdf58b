"""Feedback follows the recorded routing to routers and models; graph and node metadata; gRPC in front of both."""

import grpc
import pytest
import requests
from google.protobuf import empty_pb2, json_format

from seldon_graph.proto import prediction_pb2 as pb
from seldon_graph.proto import prediction_pb2_grpc as pb_grpc
from tests.engine.conftest import engines_running, node, predictor, values

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def engines(units, tmp_path_factory):
    u = units
    specs = {
        "router": predictor(
            node("router", u["router"], "ROUTER", children=[node("doubler", u["doubler"]), node("tagger", u["tagger"])])
        ),
        "transformer": predictor(
            node("addone", u["addone"], "TRANSFORMER", children=[node("doubler", u["doubler"], transport="GRPC")]),
            name="tp",
        ),
        "output": predictor(
            node("addone", u["addone"], "OUTPUT_TRANSFORMER", children=[node("doubler", u["doubler"])]), name="op"
        ),
    }
    with engines_running(specs, tmp_path_factory.mktemp("feedback")) as started:
        yield started


def test_feedback_walks_the_recorded_route_with_reward_and_truth(engines, units):
    engine = engines["router"]
    request = {"data": {"ndarray": [[1, 5]]}}
    response = requests.post(f"{engine.url}/api/v1.0/predictions", json=request, timeout=30).json()
    assert response["meta"]["routing"] == {"router": 1}
    before = {name: len(units[name].feedback()) for name in ("router", "doubler", "tagger")}
    feedback = {"request": request, "response": response, "reward": 2.5, "truth": {"data": {"ndarray": [[9]]}}}
    reply = requests.post(f"{engine.url}/api/v1.0/feedback", json=feedback, timeout=30)
    assert reply.status_code == 200, reply.text
    router_entry = units["router"].feedback()[before["router"]]
    assert router_entry["routing"] == 1 and router_entry["reward"] == 2.5 and router_entry["truth"] == [[9.0]]
    tagger_entry = units["tagger"].feedback()[before["tagger"]]
    assert tagger_entry["reward"] == 2.5 and tagger_entry["features"] == [[1.0, 5.0]]
    assert len(units["doubler"].feedback()) == before["doubler"]


def test_feedback_without_routing_reaches_every_child(engines, units):
    before = {name: len(units[name].feedback()) for name in ("router", "doubler", "tagger")}
    feedback = {"request": {"data": {"ndarray": [[0, 1]]}}, "reward": 1.0}
    assert requests.post(f"{engines['router'].url}/api/v0.1/feedback", json=feedback, timeout=30).ok
    assert {name: len(units[name].feedback()) - before[name] for name in before} == {
        "router": 1,
        "doubler": 1,
        "tagger": 1,
    }


def test_grpc_send_feedback(engines, units):
    before = len(units["doubler"].feedback())
    feedback = json_format.ParseDict(
        {
            "request": {"data": {"ndarray": [[0, 3]]}},
            "response": {"meta": {"routing": {"router": 0}}},
            "reward": 0.5,
        },
        pb.Feedback(),
    )
    with grpc.insecure_channel(engines["router"].grpc_target) as channel:
        pb_grpc.SeldonStub(channel).SendFeedback(feedback, timeout=30)
    entries = units["doubler"].feedback()[before:]
    assert len(entries) == 1 and entries[0]["reward"] == 0.5


def test_graph_metadata_edges(engines):
    described = requests.get(f"{engines['transformer'].url}/api/v1.0/metadata", timeout=30).json()
    assert described["name"] == "tp"
    assert set(described["models"]) == {"addone", "doubler"}
    assert described["graphinputs"][0]["schema"]["shape"] == [1]
    assert described["graphoutputs"][0]["schema"]["shape"] == [22]
    described = requests.get(f"{engines['output'].url}/api/v1.0/metadata", timeout=30).json()
    assert described["graphinputs"][0]["schema"]["shape"] == [2]
    assert described["graphoutputs"][0]["schema"]["shape"] == [11]


def test_node_metadata_is_the_units_own(engines):
    reply = requests.get(f"{engines['transformer'].url}/api/v1.0/metadata/addone", timeout=30)
    assert reply.status_code == 200 and reply.json()["name"] == "add-one"


def test_grpc_predict_through_rest_and_grpc_units(engines):
    message = json_format.ParseDict({"data": {"tensor": {"shape": [1, 2], "values": [1, 2]}}}, pb.SeldonMessage())
    with grpc.insecure_channel(engines["transformer"].grpc_target) as channel:
        reply, call = pb_grpc.SeldonStub(channel).Predict.with_call(
            message, metadata=(("seldon-puid", "grpc-puid"),), timeout=30
        )
    as_dict = json_format.MessageToDict(reply)
    assert values(as_dict) == [[4, 6]]
    assert as_dict["meta"]["puid"] == "grpc-puid"
    assert as_dict["meta"]["requestPath"] == {"addone": "", "doubler": ""}
    assert ("seldon-puid", "grpc-puid") in tuple(call.initial_metadata())


def test_grpc_predict_with_binary_metadata_reaches_rest_and_grpc_units(engines):
    """gRPC clients may send `-bin` metadata (bytes values); it is not forwarded, and it must not fail the walk."""
    message = json_format.ParseDict({"data": {"tensor": {"shape": [1, 2], "values": [1, 2]}}}, pb.SeldonMessage())
    with grpc.insecure_channel(engines["transformer"].grpc_target) as channel:
        reply = pb_grpc.SeldonStub(channel).Predict(
            message, metadata=(("x-context-bin", b"ascii"), ("x-raw-bin", b"\xff\x00")), timeout=30
        )
    assert values(json_format.MessageToDict(reply)) == [[4, 6]]


def test_grpc_graph_and_model_metadata(engines):
    with grpc.insecure_channel(engines["transformer"].grpc_target) as channel:
        stub = pb_grpc.SeldonStub(channel)
        graph = stub.GraphMetadata(empty_pb2.Empty(), timeout=30)
        model = stub.ModelMetadata(pb.SeldonModelMetadataRequest(name="doubler"), timeout=30)
    assert graph.name == "tp" and set(graph.models) == {"addone", "doubler"}
    assert model.name == "doubler" and list(model.versions) == ["v1"]


def test_node_status_is_proxied_from_the_unit(engines):
    reply = requests.get(f"{engines['transformer'].url}/api/v1.0/status/addone", timeout=30)
    assert reply.status_code == 200 and reply.json()["strData"]
    assert requests.get(f"{engines['transformer'].url}/api/v0.1/status/nobody", timeout=30).status_code == 404
