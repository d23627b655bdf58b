"""A SeldonMessage in flight: its `meta` decoded, everything else (`data`, `strData`, …) kept as undecoded bytes.

The engine only needs `meta` to merge tags, collect metrics and carry the puid. So a unit's reply is split
into its `meta` object and the raw bytes of its other members (JSON) or fields (proto), and the next request is
re-assembled from those bytes and a fresh meta. A 1 MB tensor crosses the engine as a few memory copies, never
as parsed numbers. Conversion between JSON and proto happens only where a graph mixes REST and gRPC units.
"""

from __future__ import annotations

import re

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from google.protobuf.message import Message as ProtoMessage

from seldon_graph import jsontext
from seldon_graph.errors import BAD_DATA, INTERNAL_ERROR, SeldonError
from seldon_graph.proto import prediction_pb2 as pb
from seldon_graph.protowire import decode_varint, encode_varint

_SPACE = re.compile(rb"[ \t\r\n]*")
_META = b'"meta"'
_WHITESPACE = b" \t\r\n"


class Payload:
    """The non-meta part of a message, in JSON (members text without braces) and/or proto (fields) form."""

    __slots__ = ("_json", "_proto", "tags")

    def __init__(self, json_members: bytes | None = None, proto_fields: bytes | None = None, tags: dict | None = None):
        self._json = json_members
        self._proto = proto_fields
        self.tags = tags or {}

    @classmethod
    def from_json(cls, document: bytes) -> tuple[Payload, dict]:
        """(payload, meta) of a JSON SeldonMessage document."""
        meta, members = split_json(document)
        return cls(json_members=members, tags=dict(meta.get("tags") or {})), meta

    @classmethod
    def from_proto(cls, raw: bytes) -> tuple[Payload, dict]:
        """(payload, meta) of a serialized SeldonMessage."""
        meta, fields = split_proto(raw)
        return cls(proto_fields=fields, tags=dict(meta.get("tags") or {})), meta

    def json_members(self) -> bytes:
        if self._json is None:
            self._json = jsontext.dumps(_proto_as_dict(pb.SeldonMessage, self._proto or b""))[1:-1]
        return self._json

    def proto_fields(self) -> bytes:
        if self._proto is None:
            document = b"{" + self.json_members() + b"}"
            try:
                message = json_format.ParseDict(jsontext.loads(document), pb.SeldonMessage())
            except (json_format.ParseError, TypeError, ValueError) as exc:
                raise SeldonError(f"Message cannot be sent over gRPC: {exc}", 400, BAD_DATA) from exc
            message.ClearField("meta")
            self._proto = message.SerializeToString()
        return self._proto

    def json_body(self, meta: dict) -> bytes:
        """The whole JSON document with `meta`."""
        return join_json(self.json_members(), meta)

    def proto_body(self, meta: dict) -> bytes:
        """The whole serialized SeldonMessage with `meta`."""
        return join_proto(self.proto_fields(), meta)

    def decoded(self) -> dict:
        """The message without meta as a dict (for built-ins that compute on data)."""
        return jsontext.loads(b"{" + self.json_members() + b"}")


def split_json(document: bytes) -> tuple[dict, bytes]:
    """(meta, other members' text) of a JSON object's bytes, without parsing the other members.

    `meta` is found as the first or the last member of the top-level object (every Seldon implementation
    writes it there); anywhere else the document is parsed in full, which is correct, only slower.
    """
    space = _SPACE.match(document)
    assert space is not None  # the pattern matches the empty string anywhere
    start = space.end()
    end = len(document) - 1
    while end > start and document[end] in _WHITESPACE:
        end -= 1
    if start >= end or document[start] != 0x7B or document[end] != 0x7D:
        raise SeldonError("Expected a JSON object", 400, BAD_DATA)
    space = _SPACE.match(document, start + 1)
    assert space is not None
    first = space.end()
    if document.startswith(_META, first):
        found = _meta_first(document, first, end)
        if found is not None:
            return found
    position = document.rfind(_META, start + 1, end)
    if position < 0:
        return {}, document[start + 1 : end].strip()
    found = _meta_last(document, start, position, end)
    return found if found is not None else _split_parsed(document)


def _meta_first(document: bytes, key: int, end: int) -> tuple[dict, bytes] | None:
    space = _SPACE.match(document, key + len(_META))
    assert space is not None
    colon = space.end()
    if document[colon : colon + 1] != b":":
        return None
    space = _SPACE.match(document, colon + 1)
    assert space is not None
    value = space.end()
    value_end = _object_end(document, value, end)
    if value_end is None:
        return None
    meta = _loads_object(document[value:value_end])
    space = _SPACE.match(document, value_end)
    assert space is not None
    after = space.end()
    if meta is None or (after != end and document[after : after + 1] != b","):
        return None
    return meta, (document[after + 1 : end].strip() if after != end else b"")


def _meta_last(document: bytes, start: int, key: int, end: int) -> tuple[dict, bytes] | None:
    comma = key - 1
    while comma > start and document[comma] in _WHITESPACE:
        comma -= 1
    if document[comma] != 0x2C:
        return None
    space = _SPACE.match(document, key + len(_META))
    assert space is not None
    colon = space.end()
    if document[colon : colon + 1] != b":":
        return None
    meta = _loads_object(document[colon + 1 : end])
    if meta is None:
        return None
    return meta, document[start + 1 : comma].strip()


def _object_end(document: bytes, start: int, limit: int) -> int | None:
    """Index just past the JSON object starting at `start` (meta is small, so a byte scan is cheap)."""
    if document[start : start + 1] != b"{":
        return None
    depth, in_string, escaped = 0, False, False
    for index in range(start, limit):
        byte = document[index]
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte == 0x7B:
            depth += 1
        elif byte == 0x7D:
            depth -= 1
            if depth == 0:
                return index + 1
    return None


def _loads_object(text: bytes) -> dict | None:
    try:
        value = jsontext.loads(text)
    except jsontext.JSONDecodeError:
        return None
    if value is None:
        return {}
    return value if isinstance(value, dict) else None


def _split_parsed(document: bytes) -> tuple[dict, bytes]:
    try:
        value = jsontext.loads(document)
    except jsontext.JSONDecodeError as exc:
        raise SeldonError(f"Invalid JSON: {exc}", 400, BAD_DATA) from exc
    meta = value.pop("meta", None) or {}
    if not isinstance(meta, dict):
        raise SeldonError(f"meta must be an object, got {meta!r}", 400, BAD_DATA)
    return meta, jsontext.dumps(value)[1:-1]


def join_json(members: bytes, meta: dict) -> bytes:
    """A JSON document from other members' text and a meta dict."""
    if members:
        return b"".join((b"{", members, b',"meta":', jsontext.dumps(meta), b"}"))
    return b"".join((b'{"meta":', jsontext.dumps(meta), b"}"))


_META_FIELD = 2
_META_TAG = bytes([(_META_FIELD << 3) | 2])


def split_proto(raw: bytes) -> tuple[dict, bytes]:
    """(meta, other fields' bytes) of a serialized SeldonMessage, scanning only its top-level fields."""
    meta_parts, kept = [], []
    index, size = 0, len(raw)
    try:
        while index < size:
            begin = index
            key, index = decode_varint(raw, index)
            wire = key & 7
            if wire == 2:
                length, index = decode_varint(raw, index)
                value_start, index = index, index + length
            elif wire == 0:
                _, index = decode_varint(raw, index)
                value_start = index
            elif wire in (1, 5):
                value_start, index = index, index + (8 if wire == 1 else 4)
            else:
                raise ValueError(f"wire type {wire}")
            if index > size:
                raise ValueError("truncated field")
            if key >> 3 == _META_FIELD and wire == 2:
                meta_parts.append(raw[value_start:index])
            else:
                kept.append((begin, index))
    except (IndexError, ValueError) as exc:
        raise SeldonError(f"Invalid SeldonMessage: {exc}", 400, BAD_DATA) from exc
    if not meta_parts:
        return {}, raw
    meta = json_format.MessageToDict(pb.Meta.FromString(b"".join(meta_parts)))
    return meta, b"".join(raw[a:b] for a, b in kept)


def join_proto(fields: bytes, meta: dict) -> bytes:
    """A serialized SeldonMessage from other fields' bytes and a meta dict (proto fields concatenate)."""
    try:
        meta_bytes = json_format.ParseDict(meta, pb.Meta(), ignore_unknown_fields=True).SerializeToString()
    except (json_format.ParseError, TypeError, ValueError) as exc:
        raise SeldonError(f"meta cannot be sent over gRPC: {exc}", 500, INTERNAL_ERROR) from exc
    return b"".join((fields, _META_TAG, encode_varint(len(meta_bytes)), meta_bytes))


def message_list_json(documents: list[bytes]) -> bytes:
    """`{"seldonMessages":[…]}` from whole JSON documents (the combiner request the real wrapper accepts)."""
    return b"".join((b'{"seldonMessages":[', b",".join(documents), b"]}"))


def message_list_proto(messages: list[bytes]) -> bytes:
    """A serialized SeldonMessageList from serialized SeldonMessages."""
    return b"".join(b"\x0a" + encode_varint(len(m)) + m for m in messages)


class FeedbackBody:
    """A Feedback message, kept in the form it arrived in and converted only for units on the other transport."""

    __slots__ = ("_json", "_proto", "decoded")

    def __init__(self, decoded: dict, json_body: bytes | None = None, proto_body: bytes | None = None):
        self.decoded = decoded
        self._json = json_body
        self._proto = proto_body

    @classmethod
    def from_json(cls, document: bytes) -> FeedbackBody:
        try:
            decoded = jsontext.loads(document)
        except jsontext.JSONDecodeError as exc:
            raise SeldonError(f"Invalid JSON: {exc}", 400, BAD_DATA) from exc
        if not isinstance(decoded, dict):
            raise SeldonError(f"Feedback must be a JSON object, got {decoded!r}", 400, BAD_DATA)
        return cls(decoded, json_body=document)

    @classmethod
    def from_proto(cls, raw: bytes) -> FeedbackBody:
        return cls(_proto_as_dict(pb.Feedback, raw), proto_body=raw)

    @property
    def routing(self) -> dict:
        routing = self._response_meta().get("routing")
        return routing if isinstance(routing, dict) else {}

    @property
    def puid(self) -> str | None:
        """The puid of the prediction this feedback is about, when the client sent its response back."""
        puid = self._response_meta().get("puid")
        return puid if isinstance(puid, str) and puid else None

    def _response_meta(self) -> dict:
        """The meta of the response the client sent back ({} when there is none)."""
        response = self.decoded.get("response")
        meta = response.get("meta") if isinstance(response, dict) else None
        return meta if isinstance(meta, dict) else {}

    @property
    def reward(self) -> float:
        reward = self.decoded.get("reward", 0.0)
        return float(reward) if isinstance(reward, (int, float)) else 0.0

    def json(self) -> bytes:
        if self._json is None:
            self._json = jsontext.dumps(self.decoded)
        return self._json

    def proto(self) -> bytes:
        if self._proto is None:
            try:
                self._proto = json_format.ParseDict(self.decoded, pb.Feedback()).SerializeToString()
            except (json_format.ParseError, TypeError, ValueError) as exc:
                raise SeldonError(f"Invalid Feedback: {exc}", 400, BAD_DATA) from exc
        return self._proto


def _proto_as_dict(message_type: type[ProtoMessage], raw: bytes) -> dict:
    """A serialized message as its JSON dict; a 400 naming the problem when it is not one or has no JSON form (a
    NaN or an infinity in a Value: proto JSON would turn it into a string; a customData Any of a type unknown
    here)."""
    try:
        return json_format.MessageToDict(message_type.FromString(raw))
    except DecodeError as exc:
        raise SeldonError(f"Invalid {message_type.DESCRIPTOR.name}: {exc}", 400, BAD_DATA) from exc
    except json_format.SerializeToJsonError as exc:
        raise SeldonError(f"{message_type.DESCRIPTOR.name} cannot be sent as JSON: {exc}", 400, BAD_DATA) from exc
    except TypeError as exc:  # an Any (customData) whose message type is not known here has no JSON form
        raise SeldonError(
            f"{message_type.DESCRIPTOR.name} cannot be sent as JSON to a REST unit: {exc}. A customData Any "
            "passes only between gRPC units unless its type is a well-known one; send jsonData to REST units",
            400,
            BAD_DATA,
        ) from exc
