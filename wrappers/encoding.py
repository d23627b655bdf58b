"""Responses as bytes and as protos: orjson with numpy support, and a proto from a dict holding numpy arrays."""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
from google.protobuf.message import Message

from seldon_graph import jsontext, messages
from seldon_graph.errors import BAD_DATA, SeldonError
from seldon_graph.numpy_codec import default_data_proto
from seldon_graph.proto import prediction_pb2 as pb

M = TypeVar("M", bound=Message)


def _fallback(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Message):
        return messages.to_dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode(value: Any) -> bytes:
    """JSON bytes of a response: dicts with numpy arrays inside, or a proto; NaN and infinities as seldon-core
    writes them."""
    if isinstance(value, Message):
        value = messages.to_dict(value)
    return jsontext.dumps(value, default=_fallback)


def to_message(value: Any, message_type: type[M]) -> M:
    """`value` as a proto of `message_type`: protos pass through, dicts (numpy inside or not) are parsed."""
    if isinstance(value, message_type):
        return value
    return messages.to_proto(jsontext.loads(encode(value)), message_type)


def to_seldon_message(value: Any) -> pb.SeldonMessage:
    """A SeldonMessage from a response dict; its DefaultData is built directly (fast for big tensors)."""
    if isinstance(value, dict) and isinstance(value.get("data"), dict):
        message = to_message({k: v for k, v in value.items() if k != "data"}, pb.SeldonMessage)
        try:
            message.data.CopyFrom(default_data_proto(value["data"]))
        except (TypeError, ValueError) as exc:
            raise SeldonError(f"Invalid SeldonMessage data: {exc}", 400, BAD_DATA) from exc
        return message
    return to_message(value, pb.SeldonMessage)
