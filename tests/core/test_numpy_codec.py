"""SeldonMessage payloads ⇄ numpy, from JSON and from protos, and Seldon v1's response-type rules."""

import base64

import numpy as np
import pytest
from google.protobuf import json_format

from seldon_graph.errors import SeldonError
from seldon_graph.numpy_codec import (
    array_to_tftensor,
    as_array,
    default_data_json,
    default_data_proto,
    features_from_json,
    features_from_proto,
    payload_json,
    response_kind,
    tensor_proto,
    tensor_to_array,
    tftensor_to_array,
)
from seldon_graph.proto import prediction_pb2 as pb


def proto(body):
    return json_format.ParseDict(body, pb.SeldonMessage())


@pytest.mark.parametrize(
    "body, expected, kind",
    [
        ({"data": {"names": ["a"], "tensor": {"shape": [2, 1], "values": [1, 2]}}}, np.array([[1], [2]]), "tensor"),
        ({"data": {"ndarray": [[1.5, 2]]}}, np.array([[1.5, 2.0]]), "ndarray"),
        (
            {"data": {"tftensor": {"dtype": "DT_INT32", "tensorShape": {"dim": [{"size": "3"}]}, "intVal": [1, 2, 3]}}},
            np.array([1, 2, 3], dtype=np.int32),
            "tftensor",
        ),
        ({"data": {}}, np.array([]), None),
    ],
)
def test_default_data_from_json_and_proto(body, expected, kind):
    features, names, payload, data_kind = features_from_json(body)
    np.testing.assert_array_equal(features, expected)
    assert (payload, data_kind) == ("data", kind)
    assert names == body["data"].get("names", [])
    from_proto, proto_names, proto_payload, proto_kind = features_from_proto(proto(body))
    np.testing.assert_array_equal(from_proto, expected)
    assert (proto_names, proto_payload, proto_kind) == (names, "data", kind)


def test_other_payloads():
    assert features_from_json({"strData": "s"})[0] == "s"
    assert features_from_json({"binData": base64.b64encode(b"\x00b").decode()})[0] == b"\x00b"
    assert features_from_json({"jsonData": {"k": [1]}})[0] == {"k": [1]}
    assert features_from_proto(pb.SeldonMessage(binData=b"\x00b"))[:3] == (b"\x00b", [], "binData")
    assert features_from_proto(proto({"jsonData": {"k": "v"}}))[0] == {"k": "v"}


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({}, "Invalid request data type: {}"),
        ({"meta": {}}, "Invalid request data type"),
        ({"data": {"tensor": {"shape": [3], "values": [1, 2]}}}, "Invalid tensor"),
        ({"data": {"tensor": {"shape": [2]}}}, "Invalid tensor"),
        ({"data": {"ndarray": [[1], [1, 2]]}}, "Invalid ndarray"),
        ({"data": {"tftensor": {"dtype": "NOPE"}}}, "Invalid tftensor"),
        ({"binData": "!!"}, "Invalid binData"),
        ({"data": "x"}, "Invalid data"),
    ],
)
def test_bad_payloads_are_400(body, fragment):
    with pytest.raises(SeldonError) as err:
        features_from_json(body)
    assert err.value.status_code == 400 and fragment in err.value.info


@pytest.mark.parametrize(
    "array",
    [
        np.array([[1.5, 2.0]], dtype=np.float32),
        np.arange(6, dtype=np.int64).reshape(2, 3),
        np.array([True, False]),
        np.array([["a", "b"]]),
        np.array([1.0, 2.0]),
    ],
)
def test_tftensor_round_trip(array):
    back = tftensor_to_array(array_to_tftensor(array))
    if array.dtype.kind == "U":
        back = back.astype(str)
    np.testing.assert_array_equal(back, array)
    assert back.shape == array.shape


def test_tftensor_scalar_broadcast_value():
    tensor = json_format.ParseDict(
        {"dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "3"}]}, "floatVal": [7]}, pb.DefaultData().tftensor
    )
    np.testing.assert_array_equal(tftensor_to_array(tensor), np.array([7, 7, 7], dtype=np.float32))


@pytest.mark.parametrize(
    "array, payload, data_kind, expected",
    [
        (np.array([[1]]), "data", "tensor", "tensor"),
        (np.array([[1]]), "data", "tftensor", "tftensor"),
        (np.array([[1]]), "data", "ndarray", "ndarray"),
        (np.array([[1]]), "data", None, "ndarray"),
        (np.array([[1]]), "strData", None, "tensor"),
        (np.array([["a"]]), "data", "tensor", "ndarray"),
        (np.array([["a"]]), "strData", None, "ndarray"),
    ],
)
def test_response_kind_rules(array, payload, data_kind, expected):
    assert response_kind(array, payload, data_kind) == expected


def test_default_data_json_shapes():
    array = np.array([[1.0, 2.0]])
    tensor = default_data_json(array, array, "tensor", ["t:0", "t:1"])
    assert tensor["tensor"]["shape"] == [1, 2] and list(tensor["tensor"]["values"]) == [1.0, 2.0]
    user_list = [[1, "x"]]
    assert default_data_json(user_list, as_array(user_list), "ndarray", [])["ndarray"] is user_list
    transposed = np.arange(4.0).reshape(2, 2).T
    assert default_data_json(transposed, transposed, "ndarray", [])["ndarray"] == [[0.0, 2.0], [1.0, 3.0]]


def test_payload_json_kinds():
    assert payload_json({"a": 1}) == {"jsonData": {"a": 1}}
    assert payload_json(b"hi") == {"binData": "aGk="}
    assert payload_json("s") == {"strData": "s"}
    with pytest.raises(SeldonError) as err:
        payload_json(3.5)
    assert err.value.status_code == 500 and "Unknown data type returned" in err.value.info
    assert as_array(3.5) is None and as_array([[1, 2], [3]]).dtype == object


@pytest.mark.parametrize("shape", [[1000, 100], [3], [], [0]])
def test_tensor_bytes_round_trip(shape):
    values = np.arange(int(np.prod(shape)) if shape else 0, dtype=np.float64) / 3
    message = tensor_proto(values, shape)
    assert list(message.shape) == shape and list(message.values) == values.tolist()
    back = tensor_to_array(message)
    if shape:
        np.testing.assert_array_equal(back, values.reshape(shape))
        back[...] = 1  # the model may write into its input


def test_tensor_proto_negative_dimension_is_encoded_as_protobuf_does():
    message = tensor_proto(np.array([1.0, 2.0]), [-1, 2])
    assert message == pb.Tensor(shape=[-1, 2], values=[1.0, 2.0])


def test_default_data_proto_kinds():
    tensor = default_data_proto({"names": ["a"], "tensor": {"shape": [1, 2], "values": np.array([1.5, 2])}})
    assert json_format.MessageToDict(tensor) == {"names": ["a"], "tensor": {"shape": [1, 2], "values": [1.5, 2.0]}}
    empty = default_data_proto({"names": [], "ndarray": np.array([])})
    assert empty.WhichOneof("data_oneof") == "ndarray" and len(empty.ndarray) == 0
    numpy_ints = default_data_proto({"ndarray": [[np.int64(3), "x"]]})
    assert json_format.MessageToDict(numpy_ints) == {"ndarray": [[3.0, "x"]]}
    assert default_data_proto({"tensor": {"shape": [0], "values": []}}).WhichOneof("data_oneof") == "tensor"
