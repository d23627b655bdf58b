"""SeldonMessage, Feedback and SeldonMessageList as JSON dicts and as protos, and the REST body forms.

JSON is the engine's and the wrapper's working form (orjson, fast); protos are what gRPC carries. The
conversions here are exact: field names are the proto JSON names that Seldon v1 clients send
(`binData` is standard base64, `tftensor` uses `tensorShape`/`floatVal`, …).
"""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import parse_qs

from google.protobuf import json_format
from google.protobuf.message import Message

from seldon_graph import jsontext
from seldon_graph.errors import BAD_DATA, SeldonError
from seldon_graph.proto import prediction_pb2 as pb

M = TypeVar("M", bound=Message)

SeldonMessage = pb.SeldonMessage
Feedback = pb.Feedback
SeldonMessageList = pb.SeldonMessageList


def to_proto(body: dict, message_type: type[M]) -> M:
    """A JSON dict as a proto of `message_type`; a 400 SeldonError naming the bad field otherwise."""
    try:
        return json_format.ParseDict(body, message_type())
    except (json_format.ParseError, TypeError, ValueError) as exc:
        raise SeldonError(f"Invalid {message_type.DESCRIPTOR.name}: {exc}", 400, BAD_DATA) from exc


def to_dict(message: Message) -> dict:
    """A proto as the JSON dict Seldon v1 prints (default values omitted, proto JSON names)."""
    return json_format.MessageToDict(message)


def loads(raw: bytes | str) -> object:
    """Parse JSON bytes (NaN and infinities allowed); a 400 "Can't find JSON in data" SeldonError when they are
    not JSON."""
    try:
        return jsontext.loads(raw)
    except jsontext.JSONDecodeError as exc:
        raise SeldonError("Can't find JSON in data", 400, BAD_DATA) from exc


def dumps(value: object) -> bytes:
    """JSON bytes, numpy arrays and scalars included; non-finite floats as NaN, Infinity, -Infinity."""
    return jsontext.dumps(value)


def json_from_form(raw: bytes) -> bytes | None:
    """The `json=` field of an application/x-www-form-urlencoded body, if there is one."""
    values = parse_qs(raw.decode("utf-8", errors="replace")).get("json")
    return values[0].encode("utf-8") if values else None


def parse_body(raw: bytes, content_type: str = "", query_json: str | None = None) -> dict:
    """The request object of a Seldon REST call, from any of the forms the v1 wrapper accepts.

    A JSON body (whatever the Content-Type says, as long as it parses), a form body with `json=`, or a
    `json=` query argument. Anything else is the original's 400 "Can't find JSON in data".
    """
    text: bytes | str | None = None
    if "application/x-www-form-urlencoded" in content_type:
        text = json_from_form(raw)
    elif raw:
        text = raw
    if text is None and query_json is not None:
        text = query_json
    if text is None:
        raise SeldonError("Can't find JSON in data", 400, BAD_DATA)
    value = loads(text)
    if not isinstance(value, dict):
        raise SeldonError(f"Invalid request data type: {value!r}", 400, BAD_DATA)
    return value
