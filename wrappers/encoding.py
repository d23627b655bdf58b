"""Responses as bytes and as protos: orjson with numpy support, and a proto from a dict holding numpy arrays."""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import orjson
from google.protobuf import any_pb2
from google.protobuf.message import Message

from seldon_graph import messages
from seldon_graph.errors import BAD_DATA, SeldonError
from seldon_graph.numpy_codec import default_data_proto, payload_json
from seldon_graph.proto import prediction_pb2 as pb

M = TypeVar("M", bound=Message)


def _fallback(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, any_pb2.Any):
        return payload_json(value)["customData"]
    if isinstance(value, Message):
        return messages.to_dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode(value: Any) -> bytes:
    """JSON bytes of a response: dicts with numpy arrays (or a customData Any) inside, or a proto."""
    if isinstance(value, Message):
        value = messages.to_dict(value)
    try:
        return orjson.dumps(value, default=_fallback, option=orjson.OPT_SERIALIZE_NUMPY)
    except orjson.JSONEncodeError as exc:
        if isinstance(exc.__cause__, SeldonError):
            raise exc.__cause__ from None
        raise


def to_message(value: Any, message_type: type[M]) -> M:
    """`value` as a proto of `message_type`: protos pass through (the same message from another generated module,
    such as seldon-core's, by its bytes), dicts (numpy inside or not) are parsed."""
    if isinstance(value, message_type):
        return value
    if isinstance(value, Message) and value.DESCRIPTOR.full_name == message_type.DESCRIPTOR.full_name:
        return message_type.FromString(value.SerializeToString())
    return messages.to_proto(orjson.loads(encode(value)), message_type)


def to_seldon_message(value: Any) -> pb.SeldonMessage:
    """A SeldonMessage from a response dict; its DefaultData is built directly (fast for big tensors) and a
    customData Any is copied as it is, so a message type the model does not know passes through untouched."""
    if isinstance(value, dict) and isinstance(value.get("customData"), any_pb2.Any):
        message = to_message({k: v for k, v in value.items() if k != "customData"}, pb.SeldonMessage)
        message.customData.CopyFrom(value["customData"])
        return message
    if isinstance(value, dict) and isinstance(value.get("data"), dict):
        message = to_message({k: v for k, v in value.items() if k != "data"}, pb.SeldonMessage)
        try:
            message.data.CopyFrom(default_data_proto(value["data"]))
        except (TypeError, ValueError) as exc:
            raise SeldonError(f"Invalid SeldonMessage data: {exc}", 400, BAD_DATA) from exc
        return message
    return to_message(value, pb.SeldonMessage)
