"""SeldonMessage payloads ⇄ numpy: what a user's model receives and how its result is sent back.

A request's payload becomes exactly one Python value for the model (an ndarray for `data`, `str` for
`strData`, `bytes` for `binData`, a JSON value for `jsonData`, the Any proto for `customData`), and the
model's result is encoded with Seldon v1's response-type rules: a numeric array answers in the request's
DefaultData kind (tensor → tensor, tftensor → tftensor, otherwise ndarray), a numeric array answering a
request without `data` is a tensor, a non-numeric array is an ndarray; dict → jsonData, str → strData,
bytes → binData. Each direction works from JSON dicts (REST) and from protos (gRPC).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import numpy as np
import orjson
from google.protobuf import any_pb2, json_format

from seldon_graph.errors import BAD_DATA, INTERNAL_ERROR, SeldonError
from seldon_graph.proto import prediction_pb2 as pb
from seldon_graph.proto import tensor_pb2
from seldon_graph.protowire import encode_varint

# TensorFlow dtype enum ⇄ numpy dtype, and which repeated field carries the values when there is no tensor_content.
_TF_DTYPES: dict[tensor_pb2.DataType, tuple[np.dtype, str]] = {
    tensor_pb2.DT_FLOAT: (np.dtype(np.float32), "float_val"),
    tensor_pb2.DT_DOUBLE: (np.dtype(np.float64), "double_val"),
    tensor_pb2.DT_INT32: (np.dtype(np.int32), "int_val"),
    tensor_pb2.DT_UINT8: (np.dtype(np.uint8), "int_val"),
    tensor_pb2.DT_INT16: (np.dtype(np.int16), "int_val"),
    tensor_pb2.DT_INT8: (np.dtype(np.int8), "int_val"),
    tensor_pb2.DT_UINT16: (np.dtype(np.uint16), "int_val"),
    tensor_pb2.DT_INT64: (np.dtype(np.int64), "int64_val"),
    tensor_pb2.DT_UINT32: (np.dtype(np.uint32), "uint32_val"),
    tensor_pb2.DT_UINT64: (np.dtype(np.uint64), "uint64_val"),
    tensor_pb2.DT_BOOL: (np.dtype(np.bool_), "bool_val"),
    tensor_pb2.DT_HALF: (np.dtype(np.float16), "half_val"),
    tensor_pb2.DT_STRING: (np.dtype(object), "string_val"),
}
_NP_TO_TF = {dtype: tf for tf, (dtype, _) in _TF_DTYPES.items() if dtype != np.dtype(object)}


def bad_data(info: str) -> SeldonError:
    return SeldonError(info, 400, BAD_DATA)


# ---- request → model input -------------------------------------------------------------------------------


def _reshape(values: Any, shape: Any) -> np.ndarray:
    try:
        return np.asarray(values).reshape(shape)
    except (TypeError, ValueError) as exc:
        raise bad_data(
            f"Invalid tensor: {len(values) if isinstance(values, list) else '?'} values do not fit "
            f"shape {shape} ({exc})"
        ) from exc


def _ndarray(values: Any) -> np.ndarray:
    try:
        return np.array(values)
    except (TypeError, ValueError) as exc:
        raise bad_data(f"Invalid ndarray: {exc}") from exc


def tftensor_to_array(proto: tensor_pb2.TensorProto) -> np.ndarray:
    """A TensorFlow TensorProto as a numpy array (tensor_content or the typed value field), without TensorFlow."""
    if proto.dtype not in _TF_DTYPES:
        raise bad_data(f"Unsupported tftensor dtype {tensor_pb2.DataType.Name(proto.dtype)}")
    dtype, field = _TF_DTYPES[proto.dtype]
    shape = [int(dim.size) for dim in proto.tensor_shape.dim]
    count = int(np.prod(shape)) if shape else 1
    if proto.tensor_content and dtype != np.dtype(object):
        flat = np.frombuffer(proto.tensor_content, dtype=dtype)
    else:
        values = list(getattr(proto, field))
        if dtype == np.dtype(np.float16):
            flat = np.array(values, dtype=np.uint16).view(np.float16)
        elif dtype == np.dtype(object):
            flat = np.array(values, dtype=object)
        else:
            flat = np.array(values, dtype=dtype)
        if flat.size == 1 and count > 1:
            flat = np.repeat(flat, count)
    if flat.size != count:
        raise bad_data(f"Invalid tftensor: {flat.size} values do not fit shape {shape}")
    return flat.reshape(shape)


def array_to_tftensor(array: np.ndarray) -> tensor_pb2.TensorProto:
    """A numpy array as a TensorProto, with tensor_content for numeric types as TensorFlow's make_tensor_proto."""
    proto = tensor_pb2.TensorProto()
    for size in array.shape:
        proto.tensor_shape.dim.add(size=size)
    if array.dtype.kind in "USO":
        proto.dtype = tensor_pb2.DT_STRING
        proto.string_val.extend(v if isinstance(v, bytes) else str(v).encode() for v in array.ravel().tolist())
        return proto
    dtype = array.dtype.newbyteorder("=") if array.dtype.byteorder not in "=|" else array.dtype
    tf_type = _NP_TO_TF.get(np.dtype(dtype))
    if tf_type is None:
        raise SeldonError(f"Cannot encode a {array.dtype} array as tftensor", 500, INTERNAL_ERROR)
    proto.dtype = tf_type
    if array.dtype == np.bool_:
        proto.bool_val.extend(array.ravel().tolist())
    else:
        proto.tensor_content = np.ascontiguousarray(array, dtype=dtype).tobytes()
    return proto


def features_from_json(message: dict) -> tuple[Any, list, str, str | None]:
    """(model input, feature names, payload kind, DefaultData kind) of a JSON SeldonMessage.

    Raises the original's 400 "Invalid request data type: …" when the message has no payload.
    """
    if not isinstance(message, dict):
        raise bad_data(f"Invalid request data type: {message}")
    data = message.get("data")
    if data is not None:
        if not isinstance(data, dict):
            raise bad_data(f"Invalid data: expected an object with tensor, ndarray or tftensor, got {data!r}")
        names = data.get("names") or []
        if "tensor" in data:
            tensor = data["tensor"]
            if not isinstance(tensor, dict) or "values" not in tensor:
                raise bad_data(f"Invalid tensor: expected {{shape, values}}, got {tensor!r}")
            return _reshape(tensor["values"], tensor.get("shape", [-1])), names, "data", "tensor"
        if "ndarray" in data:
            return _ndarray(data["ndarray"]), names, "data", "ndarray"
        if "tftensor" in data:
            proto = tensor_pb2.TensorProto()
            try:
                json_format.ParseDict(data["tftensor"], proto)
            except (json_format.ParseError, TypeError, ValueError) as exc:
                raise bad_data(f"Invalid tftensor: {exc}") from exc
            return tftensor_to_array(proto), names, "data", "tftensor"
        return np.array([]), names, "data", None
    if "jsonData" in message:
        return message["jsonData"], [], "jsonData", None
    if "strData" in message:
        return message["strData"], [], "strData", None
    if "binData" in message:
        try:
            return base64.b64decode(message["binData"], validate=True), [], "binData", None
        except (binascii.Error, TypeError, ValueError) as exc:
            raise bad_data(f"Invalid binData: not standard base64 ({exc})") from exc
    raise bad_data(f"Invalid request data type: {message}")


def tensor_to_array(tensor: pb.Tensor) -> np.ndarray:
    """A Tensor proto as a float64 array, without a Python float per value: packed `values` (field 2) are the
    tail of the message's serialisation, so they are read straight from its bytes."""
    count = len(tensor.values)
    shape = list(tensor.shape) or [-1]
    if count:
        raw = tensor.SerializeToString()
        values = np.frombuffer(raw, dtype="<f8", count=count, offset=len(raw) - 8 * count).astype(np.float64)
    else:
        values = np.array([], dtype=np.float64)
    try:
        return values.reshape(shape)
    except ValueError as exc:
        raise bad_data(f"Invalid tensor: {count} values do not fit shape {list(tensor.shape)}") from exc


def tensor_proto(values: np.ndarray, shape: list) -> pb.Tensor:
    """A Tensor proto from flat values, built from packed bytes rather than one Python float per value."""
    encoded = bytearray()
    if shape:
        dims = b"".join(encode_varint(int(d)) for d in shape)
        encoded += b"\x0a" + encode_varint(len(dims)) + dims
    flat = np.ascontiguousarray(values, dtype="<f8").ravel()
    if flat.size:
        encoded += b"\x12" + encode_varint(flat.nbytes) + flat.tobytes()
    return pb.Tensor.FromString(bytes(encoded))


def default_data_proto(data: dict) -> pb.DefaultData:
    """A JSON DefaultData (numpy arrays allowed inside) as a proto, tensors without per-value conversion."""
    out = pb.DefaultData(names=[str(name) for name in data.get("names") or []])
    if "tensor" in data:
        tensor = data["tensor"]
        out.tensor.SetInParent()
        out.tensor.CopyFrom(tensor_proto(np.asarray(tensor.get("values", [])), list(tensor.get("shape", []))))
    elif "ndarray" in data:
        items = data["ndarray"]
        items = items.tolist() if isinstance(items, np.ndarray) else items
        out.ndarray.SetInParent()
        try:
            out.ndarray.extend(items)
        except (TypeError, ValueError):
            out.ndarray.Clear()
            out.ndarray.extend(orjson.loads(orjson.dumps(items, option=orjson.OPT_SERIALIZE_NUMPY)))
    elif "tftensor" in data:
        json_format.ParseDict(data["tftensor"], out.tftensor)
    return out


def default_data_to_array(data: pb.DefaultData) -> np.ndarray:
    """A DefaultData proto as a numpy array (an empty array when it holds nothing)."""
    kind = data.WhichOneof("data_oneof")
    if kind == "tensor":
        return tensor_to_array(data.tensor)
    if kind == "ndarray":
        return _ndarray(json_format.MessageToDict(data.ndarray))
    if kind == "tftensor":
        return tftensor_to_array(data.tftensor)
    return np.array([])


def features_from_proto(message: pb.SeldonMessage) -> tuple[Any, list, str, str | None]:
    """(model input, feature names, payload kind, DefaultData kind) of a SeldonMessage proto."""
    kind = message.WhichOneof("data_oneof")
    if kind == "data":
        return (
            default_data_to_array(message.data),
            list(message.data.names),
            "data",
            message.data.WhichOneof("data_oneof"),
        )
    if kind == "binData":
        return message.binData, [], kind, None
    if kind == "strData":
        return message.strData, [], kind, None
    if kind == "jsonData":
        return json_format.MessageToDict(message.jsonData), [], kind, None
    if kind == "customData":
        return message.customData, [], kind, None
    raise bad_data("Invalid request data type: the message has no data, binData, strData, jsonData or customData")


# ---- model output → response ---------------------------------------------------------------------------------


def as_array(result: Any) -> np.ndarray | None:
    """The model's array-like result as an ndarray, or None when the result is not array-like."""
    if isinstance(result, np.ndarray):
        return result
    if isinstance(result, list):
        try:
            return np.array(result)
        except ValueError:
            return np.array(result, dtype=object)
    return None


def response_kind(array: np.ndarray, request_payload: str | None, request_data_kind: str | None) -> str:
    """The DefaultData kind of a response holding `array`, by Seldon v1's rules."""
    if not np.issubdtype(array.dtype, np.number):
        return "ndarray"
    if request_payload != "data":
        return "tensor"
    return request_data_kind if request_data_kind in ("tensor", "tftensor") else "ndarray"


def _encodable(array: np.ndarray) -> Any:
    """What orjson can serialise fast: the array itself when it is plain and contiguous, else nested lists."""
    if array.dtype.kind in "iufb" and array.dtype.isnative and array.flags.c_contiguous and array.ndim > 0:
        return array
    return array.tolist()


def default_data_json(result: Any, array: np.ndarray, kind: str, names: list) -> dict:
    """The JSON DefaultData of a numeric or list result (keys in the order Seldon v1 prints them)."""
    if kind == "tensor":
        return {"names": names, "tensor": {"shape": list(array.shape), "values": _encodable(array.ravel())}}
    if kind == "tftensor":
        return {"names": names, "tftensor": json_format.MessageToDict(array_to_tftensor(array))}
    return {"names": names, "ndarray": result if isinstance(result, list) else _encodable(array)}


def payload_json(result: Any) -> dict:
    """The JSON payload field of a non-array result: jsonData, binData or strData."""
    if isinstance(result, dict):
        return {"jsonData": result}
    if isinstance(result, (bytes, bytearray)):
        return {"binData": base64.b64encode(result).decode("ascii")}
    if isinstance(result, str):
        return {"strData": result}
    if isinstance(result, any_pb2.Any):
        try:
            return {"customData": json_format.MessageToDict(result)}
        except (TypeError, KeyError) as exc:
            raise SeldonError(f"Cannot print customData of type {result.type_url}: {exc}", 500, INTERNAL_ERROR) from exc
    raise SeldonError(
        f"Unknown data type returned as payload (must be list or np array): {result!r}", 500, INTERNAL_ERROR
    )
