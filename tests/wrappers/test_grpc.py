"""gRPC services of the wrapper (Generic, Model, Router, Transformer, OutputTransformer, Combiner, Seldon)."""

import grpc
import pytest
from google.protobuf import any_pb2, empty_pb2, json_format

from seldon_graph.proto import prediction_pb2 as pb
from seldon_graph.proto import prediction_pb2_grpc as pbg
from tests.wrappers.conftest import running_unit


def message(body: dict) -> pb.SeldonMessage:
    return json_format.ParseDict(body, pb.SeldonMessage())


def as_dict(msg) -> dict:
    return json_format.MessageToDict(msg)


@pytest.fixture
def channel_to():
    channels = []

    def open_channel(unit):
        channel = grpc.insecure_channel(unit.grpc_target)
        channels.append(channel)
        return channel

    yield open_channel
    for channel in channels:
        channel.close()


TENSOR = {"data": {"tensor": {"shape": [1, 2], "values": [1, 2]}}}


def test_model_predict_tensor_and_ndarray(model, channel_to):
    channel = channel_to(model)
    out = pbg.ModelStub(channel).Predict(message(TENSOR))
    assert as_dict(out) == {
        "meta": {},
        "data": {"names": ["t:0", "t:1"], "tensor": {"shape": [1, 2], "values": [2.0, 4.0]}},
    }
    out = pbg.ModelStub(channel).Predict(message({"data": {"ndarray": [[1, 2]]}}))
    assert as_dict(out) == {"meta": {}, "data": {"names": ["t:0", "t:1"], "ndarray": [[2.0, 4.0]]}}
    assert as_dict(pbg.SeldonStub(channel).Predict(message(TENSOR))) == as_dict(
        pbg.ModelStub(channel).Predict(message(TENSOR))
    )


def test_model_other_payloads(model, channel_to):
    stub = pbg.ModelStub(channel_to(model))
    assert as_dict(stub.Predict(message({"strData": "ab", "meta": {"puid": "p"}}))) == {
        "meta": {"puid": "p"},
        "strData": "abab",
    }
    assert stub.Predict(pb.SeldonMessage(binData=b"\x01")).binData == b"\x01\x01"


def test_generic_transform_input_echo_and_metadata(model, channel_to):
    channel = channel_to(model)
    out = pbg.GenericStub(channel).TransformInput(message(TENSOR))
    assert as_dict(out) == {
        "meta": {},
        "data": {"names": ["t:0", "t:1"], "tensor": {"shape": [1, 2], "values": [1.0, 2.0]}},
    }
    assert as_dict(pbg.ModelStub(channel).Metadata(empty_pb2.Empty())) == {"versions": [""]}
    request = pb.SeldonModelMetadataRequest(name="x")
    assert as_dict(pbg.SeldonStub(channel).ModelMetadata(request)) == {"versions": [""]}
    with pytest.raises(grpc.RpcError) as err:
        pbg.SeldonStub(channel).GraphMetadata(empty_pb2.Empty())
    assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "not available on the Model level" in err.value.details()


def test_model_feedback(model, channel_to):
    feedback = json_format.ParseDict({"request": TENSOR, "reward": 1.0}, pb.Feedback())
    out = pbg.ModelStub(channel_to(model)).SendFeedback(feedback)
    assert as_dict(out) == {"meta": {}, "data": {"tensor": {"shape": [0]}}}


def test_errors_are_grpc_statuses_with_the_message(model, bad_model, exc_model, channel_to):
    with pytest.raises(grpc.RpcError) as err:
        pbg.RouterStub(channel_to(model)).Route(message(TENSOR))
    assert (err.value.code(), err.value.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "Route not defined")
    with pytest.raises(grpc.RpcError) as err:
        pbg.ModelStub(channel_to(bad_model)).Predict(message(TENSOR))
    assert (err.value.code(), err.value.details()) == (grpc.StatusCode.UNKNOWN, "boom from model")
    with pytest.raises(grpc.RpcError) as err:
        pbg.ModelStub(channel_to(exc_model)).Predict(message(TENSOR))
    assert (err.value.code(), err.value.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "custom failure")
    with pytest.raises(grpc.RpcError) as err:
        pbg.ModelStub(channel_to(model)).Predict(pb.SeldonMessage())
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Invalid request data type" in err.value.details()


def test_router(router, channel_to):
    stub = pbg.RouterStub(channel_to(router))
    low = stub.Route(message(TENSOR))
    assert as_dict(low) == {"meta": {}, "data": {"names": ["t:0"], "tensor": {"shape": [1, 1], "values": [0.0]}}}
    high = stub.Route(message({"data": {"tensor": {"shape": [1, 2], "values": [50, 2]}}}))
    assert as_dict(high)["data"]["tensor"]["values"] == [1.0]
    assert as_dict(pbg.GenericStub(channel_to(router)).Route(message(TENSOR))) == as_dict(low)
    feedback = json_format.ParseDict({"request": TENSOR, "reward": 1.0}, pb.Feedback())
    assert as_dict(stub.SendFeedback(feedback))["data"] == {"tensor": {"shape": [0]}}


def test_transformers(transformer, channel_to):
    channel = channel_to(transformer)
    assert as_dict(pbg.TransformerStub(channel).TransformInput(message(TENSOR)))["data"]["tensor"]["values"] == [
        2.0,
        3.0,
    ]
    assert as_dict(pbg.OutputTransformerStub(channel).TransformOutput(message(TENSOR)))["data"]["tensor"]["values"] == [
        10.0,
        20.0,
    ]
    assert as_dict(pbg.GenericStub(channel).TransformOutput(message(TENSOR)))["data"]["tensor"]["values"] == [
        10.0,
        20.0,
    ]


def test_combiner(combiner, channel_to):
    msgs = json_format.ParseDict(
        {"seldonMessages": [{"data": {"ndarray": [[1, 2]]}}, {"data": {"ndarray": [[3, 4]]}}]}, pb.SeldonMessageList()
    )
    for stub in (pbg.CombinerStub(channel_to(combiner)), pbg.GenericStub(channel_to(combiner))):
        out = stub.Aggregate(msgs)
        assert as_dict(out) == {"meta": {}, "data": {"names": ["t:0", "t:1"], "ndarray": [[2.0, 3.0]]}}


def test_meta_model_metadata_and_tags(meta_model, channel_to):
    channel = channel_to(meta_model)
    metadata = as_dict(pbg.ModelStub(channel).Metadata(empty_pb2.Empty()))
    assert metadata["name"] == "meta-model" and metadata["platform"] == "custom"
    assert metadata["inputs"] == [{"messagetype": "tensor", "schema": {"names": ["a", "b"], "shape": [2.0]}}]
    out = as_dict(pbg.ModelStub(channel).Predict(message({**TENSOR, "meta": {"puid": "x"}})))
    assert out["data"]["names"] == ["a", "b"]
    assert out["meta"] == {"puid": "x", "tags": {"mytag": "v1"}, "metrics": [{"key": "mycounter", "value": 1.0}]}


def test_large_tensor(model, channel_to):
    values = [float(i % 101) for i in range(1000 * 100)]
    request = pb.SeldonMessage(data=pb.DefaultData(tensor=pb.Tensor(shape=[1000, 100], values=values)))
    out = pbg.ModelStub(channel_to(model)).Predict(request)
    assert list(out.data.tensor.shape) == [1000, 100]
    assert list(out.data.tensor.values) == [v * 2 for v in values]


def test_custom_data_of_an_unknown_type_passes_through(tmp_path):
    """A customData Any reaches the model as the Any and goes back as it is, without the model (or the wrapper)
    knowing its message type (SeldonIO/seldon-core python/seldon_core/utils.py: get_data_from_proto returns
    request.customData, construct_response puts an any_pb2.Any into customData; no JSON in between)."""
    custom = any_pb2.Any(type_url="type.googleapis.com/acme.private.Thing", value=b"\x08\x2a\x12\x03abc")
    request = pb.SeldonMessage(customData=custom, meta=pb.Meta(puid="p1"))
    with running_unit(tmp_path, "IdentityModel") as unit, grpc.insecure_channel(unit.grpc_target) as channel:
        response = pbg.ModelStub(channel).Predict(request)
    assert response.WhichOneof("data_oneof") == "customData"
    assert response.customData == custom
    assert response.meta.puid == "p1"
