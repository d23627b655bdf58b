"""The seldon_core.utils helpers that model classes use: SeldonMessage/Feedback ⇄ JSON, payload ⇄ numpy, env flags.

Same names, arguments and failures as seldon-core's (a parse error is a SeldonMicroserviceException "Invalid
JSON: …", which the wrapper answers with 400), built on seldon-graph's codecs.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
from google.protobuf import json_format
from seldon_core.flask_utils import SeldonMicroserviceException

from seldon_graph.numpy_codec import array_to_tftensor, default_data_to_array, features_from_proto, tensor_proto
from seldon_graph.proto import prediction_pb2

__all__ = [
    "array_to_grpc_datadef",
    "array_to_rest_datadef",
    "feedback_to_json",
    "get_data_from_proto",
    "get_meta_from_proto",
    "getenv",
    "getenv_as_bool",
    "grpc_datadef_to_array",
    "json_to_feedback",
    "json_to_seldon_message",
    "json_to_seldon_messages",
    "json_to_seldon_model_metadata",
    "seldon_message_to_json",
    "seldon_messages_to_json",
]
TRUE_VALUES = ("1", "true", "t")  # seldon-core's getenv_as_bool, narrower than seldon-graph's flags


def _parse(message_json: Any, message: Any, what: str = "Invalid JSON") -> Any:
    try:
        return json_format.ParseDict({} if message_json is None else message_json, message)
    except (json_format.ParseError, TypeError, ValueError) as exc:
        raise SeldonMicroserviceException(f"{what}: {exc}") from exc


def _to_json(message: Any) -> dict:
    return json.loads(json_format.MessageToJson(message))


def json_to_seldon_message(message_json: dict | None) -> prediction_pb2.SeldonMessage:
    return _parse(message_json, prediction_pb2.SeldonMessage())


def json_to_feedback(message_json: dict) -> prediction_pb2.Feedback:
    return _parse(message_json, prediction_pb2.Feedback())


def json_to_seldon_messages(message_json: dict) -> prediction_pb2.SeldonMessageList:
    return _parse(message_json, prediction_pb2.SeldonMessageList())


def json_to_seldon_model_metadata(metadata_json: dict) -> prediction_pb2.SeldonModelMetadata:
    return _parse(metadata_json, prediction_pb2.SeldonModelMetadata(), "Invalid metadata")


def seldon_message_to_json(message_proto: Any) -> dict:
    return _to_json(message_proto)


def seldon_messages_to_json(message_protos: prediction_pb2.SeldonMessageList) -> dict:
    return _to_json(message_protos)


def feedback_to_json(message_proto: prediction_pb2.Feedback) -> dict:
    return _to_json(message_proto)


def get_data_from_proto(request: prediction_pb2.SeldonMessage) -> Any:
    """The payload for the model: an array for `data`, else the bytes, str, dict or Any as sent."""
    if request.WhichOneof("data_oneof") is None:
        raise SeldonMicroserviceException("Unknown data in SeldonMessage")
    return features_from_proto(request)[0]


def get_meta_from_proto(request: prediction_pb2.SeldonMessage) -> dict:
    return json_format.MessageToDict(request.meta)


def grpc_datadef_to_array(datadef: prediction_pb2.DefaultData) -> np.ndarray:
    return default_data_to_array(datadef)


def array_to_rest_datadef(data_type: str, array: np.ndarray, names: list | None = None) -> dict:
    """A JSON DefaultData of `array` in the kind `data_type` (ndarray for anything but tensor/tftensor)."""
    datadef: dict = {"names": list(names or [])}
    if data_type == "tensor":
        datadef["tensor"] = {"shape": list(array.shape), "values": array.ravel().tolist()}
    elif data_type == "tftensor":
        datadef["tftensor"] = json_format.MessageToDict(array_to_tftensor(array))
    else:
        datadef["ndarray"] = array.tolist()
    return datadef


def array_to_grpc_datadef(data_type: str, array: np.ndarray, names: list | None = None) -> prediction_pb2.DefaultData:
    """A DefaultData proto of `array` in the kind `data_type` (ndarray for anything but tensor/tftensor)."""
    datadef = prediction_pb2.DefaultData(names=list(names or []))
    if data_type == "tensor":
        datadef.tensor.CopyFrom(tensor_proto(array, list(array.shape)))
    elif data_type == "tftensor":
        datadef.tftensor.CopyFrom(array_to_tftensor(array))
    else:
        datadef.ndarray.extend(array.tolist())
    return datadef


def getenv(*env_vars: str, default: str | None = None) -> str | None:
    """The value of the first of `env_vars` that is set, else `default`."""
    return next((os.environ[name] for name in env_vars if name in os.environ), default)


def getenv_as_bool(*env_vars: str, default: bool = False) -> bool:
    value = getenv(*env_vars)
    return default if value is None else value.lower() in TRUE_VALUES
